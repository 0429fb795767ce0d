#!/usr/bin/env python3
"""Run the shell steps of modelseal's CI templates here, as the CI would.

Used by .ci/suites/ci-templates.sh. It does not re-implement GitHub or GitLab:
it evaluates the small subset of expressions our templates use (and refuses
any other), gives each `run:`/`script:` block exactly the environment the
template sets, and runs it with bash as the CI does. Steps that call other
actions are emulated only where our templates need them (checkout: the
working directory is the checkout; upload/download-artifact: a local folder).

  run_ci_steps.py action   ACTION_YML   --input K=V ...
  run_ci_steps.py workflow WORKFLOW_YML --job NAME --action ACTION_YML
                           [--input K=V] [--secret K=V] [--need JOB=RESULT]
                           [--artifacts DIR]
  run_ci_steps.py gitlab   CI_YML       --job NAME [--var K=V] ...

Prints `outputs: {json}` at the end and exits with the failing step's code.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|&&|\|\||!|\(|\))|"
    r"(?P<call>[A-Za-z_]+\(\))|(?P<bool>true|false)\b|(?P<ident>[A-Za-z_][A-Za-z0-9_.-]*))"
)


class Unsupported(Exception):
    pass


def lookup(ctx, name):
    parts = name.split(".")
    if parts[0] == "steps" and len(parts) == 4 and parts[1] not in ctx.get("steps", {}):
        return ""  # a step that did not run has no outputs (GitHub: empty string)
    value = ctx
    for p in parts:
        if not isinstance(value, dict) or p not in value:
            raise Unsupported(f"unknown expression context: {name}")
        value = value[p]
    return value


def evaluate(expr, ctx):
    """Evaluate a GitHub expression of the subset: contexts, '...', ==, !=, &&, ||, !, (), always()."""
    py = []
    pos = 0
    while pos < len(expr):
        m = TOKEN.match(expr, pos)
        if not m or m.end() == pos:
            raise Unsupported(f"expression not supported: {expr!r}")
        pos = m.end()
        if m.group("str") is not None:
            py.append(repr(m.group("str")[1:-1].replace("''", "'")))
        elif m.group("op") is not None:
            py.append({"&&": " and ", "||": " or ", "!": " not "}.get(m.group("op"), m.group("op")))
        elif m.group("call") is not None:
            if m.group("call") != "always()":
                raise Unsupported(f"function not supported: {m.group('call')}")
            py.append("True")
        elif m.group("bool") is not None:
            py.append("True" if m.group("bool") == "true" else "False")
        else:
            py.append(repr(lookup(ctx, m.group("ident"))))
    return eval("".join(py), {"__builtins__": {}})  # noqa: S307 - built from our own tokens only


def render(value, ctx):
    """Substitute ${{ }} in a template string (the whole string may be one expression)."""
    if not isinstance(value, str):
        return value
    whole = EXPR.fullmatch(value.strip())
    if whole:
        result = evaluate(whole.group(1), ctx)
        return result if isinstance(result, bool) else ("" if result is None else str(result))
    return EXPR.sub(lambda m: str(evaluate(m.group(1), ctx)), value)


def to_text(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def condition(cond, ctx):
    if cond is None:
        return True
    if isinstance(cond, bool):
        return cond
    cond = cond.strip()
    m = EXPR.fullmatch(cond)
    return bool(evaluate(m.group(1) if m else cond, ctx))


def run_script(script, env, label):
    if "${{" in script:
        raise Unsupported(f"{label}: ${{{{ }}}} inside a script (inputs must go through env:)")
    with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
        f.write(script)
        path = f.name
    try:
        print(f"--- step: {label}", flush=True)
        return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", path], env=env).returncode
    finally:
        os.unlink(path)


def read_kv_file(path):
    out = {}
    if os.path.exists(path):
        for line in open(path):
            if "=" in line:
                k, v = line.rstrip("\n").split("=", 1)
                out[k] = v
    return out


class GitHub:
    def __init__(self, temp, workspace, artifacts):
        self.temp = temp
        self.workspace = workspace
        self.path_prefix = []
        self.artifacts = artifacts or os.path.join(temp, "artifacts")

    def base_env(self):
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join(self.path_prefix + [env.get("PATH", "")])
        env["RUNNER_TEMP"] = self.temp
        env["GITHUB_WORKSPACE"] = self.workspace
        return env

    def run_steps(self, steps, ctx, label, action_file=None):
        """Run steps in order; returns (code, step outputs by id)."""
        ctx.setdefault("steps", {})
        for i, step in enumerate(steps):
            name = step.get("name", step.get("uses", f"step {i}"))
            if not condition(step.get("if"), ctx):
                print(f"--- skipped: {label}: {name}")
                continue
            if "run" in step:
                out_file = os.path.join(self.temp, f"output-{label}-{i}")
                path_file = os.path.join(self.temp, f"path-{label}-{i}")
                open(out_file, "w").close()
                open(path_file, "w").close()
                env = self.base_env()
                env["GITHUB_OUTPUT"] = out_file
                env["GITHUB_PATH"] = path_file
                for k, v in (step.get("env") or {}).items():
                    env[k] = to_text(render(v, ctx))
                code = run_script(step["run"], env, f"{label}: {name}")
                if "id" in step:
                    ctx["steps"][step["id"]] = {"outputs": read_kv_file(out_file)}
                for line in open(path_file):
                    if line.strip():
                        self.path_prefix.insert(0, line.strip())
                if code != 0:
                    return code
            elif "uses" in step:
                code = self.uses(step, ctx, label, action_file)
                if code != 0:
                    return code
        return 0

    def uses(self, step, ctx, label, action_file):
        uses = step["uses"]
        with_ = {k: render(v, ctx) for k, v in (step.get("with") or {}).items()}
        if uses.startswith("actions/checkout@"):
            print(f"--- {label}: checkout: the working directory is the checkout")
            return 0
        if uses.startswith("actions/upload-artifact@"):
            src = os.path.join(self.workspace, with_["path"])
            if not os.path.exists(src):
                print(f"--- {label}: upload-artifact: no file {src}")
                return 1
            dest = os.path.join(self.artifacts, with_["name"])
            os.makedirs(dest, exist_ok=True)
            shutil.copy(src, dest)
            return 0
        if uses.startswith("actions/download-artifact@"):
            src = os.path.join(self.artifacts, with_["name"])
            shutil.copytree(src, with_["path"], dirs_exist_ok=True)
            return 0
        if re.fullmatch(r"[^/]+/modelseal@\S+", uses) and action_file:
            code, outputs = run_action(self, action_file, with_)
            if "id" in step:
                ctx["steps"][step["id"]] = {"outputs": outputs}
            return code
        raise Unsupported(f"{label}: action not emulated: {uses}")


def run_action(gh, action_file, given):
    action = yaml.safe_load(open(action_file))
    inputs = {}
    for name, spec in action.get("inputs", {}).items():
        if name in given:
            inputs[name] = to_text(given[name])
        elif spec.get("required"):
            raise Unsupported(f"required input missing: {name}")
        else:
            inputs[name] = to_text(spec.get("default", ""))
    unknown = set(given) - set(inputs)
    if unknown:
        raise Unsupported(f"inputs the action does not declare: {sorted(unknown)}")
    ctx = {
        "inputs": inputs,
        "runner": {"temp": gh.temp},
        "github": {"workspace": gh.workspace, "action_path": os.path.dirname(os.path.abspath(action_file))},
        "steps": {},
    }
    code = gh.run_steps(action["runs"]["steps"], ctx, "action")
    outputs = {k: to_text(render(v["value"], ctx)) for k, v in action.get("outputs", {}).items()}
    return code, outputs


def kv(items):
    out = {}
    for item in items or []:
        k, _, v = item.partition("=")
        out[k] = v
    return out


def main_github(args, workflow):
    gh = GitHub(tempfile.mkdtemp(prefix="gh-runner-"), os.getcwd(), args.artifacts)
    try:
        if workflow is None:
            code, outputs = run_action(gh, args.file, kv(args.input))
            print("outputs: " + json.dumps(outputs))
            return code
        wf = yaml.safe_load(open(args.file))
        call = wf[True]["workflow_call"] if True in wf else wf["on"]["workflow_call"]
        inputs = {}
        for name, spec in call.get("inputs", {}).items():
            given = kv(args.input)
            if name in given:
                value = given[name]
                inputs[name] = (value == "true") if spec.get("type") == "boolean" else value
            elif spec.get("required"):
                raise Unsupported(f"required workflow input missing: {name}")
            else:
                inputs[name] = spec.get("default", False if spec.get("type") == "boolean" else "")
        secrets = {k: "" for k in call.get("secrets", {})}
        secrets.update(kv(args.secret))
        job = wf["jobs"][args.job]
        needs = {k: {"result": v} for k, v in kv(args.need).items()}
        ctx = {"inputs": inputs, "secrets": secrets, "needs": needs,
               "runner": {"temp": gh.temp}, "github": {"workspace": gh.workspace}}
        if not condition(job.get("if"), ctx):
            print(f"--- job {args.job} skipped")
            print("outputs: {}")
            return 0
        code = gh.run_steps(job["steps"], ctx, args.job, args.action)
        outputs = {k: to_text(render(v, ctx)) for k, v in (job.get("outputs") or {}).items()}
        print("outputs: " + json.dumps(outputs))
        return code
    finally:
        left = sorted(
            os.path.relpath(os.path.join(d, f), gh.temp)
            for d, _, files in os.walk(gh.temp)
            for f in files
            if not f.startswith(("output-", "path-"))
        )
        print("runner temp left: " + json.dumps(left))
        shutil.rmtree(gh.temp, ignore_errors=True)


def merge(base, over):
    out = dict(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def expand(value, env):
    return re.sub(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)\}?", lambda m: env.get(m.group(1), ""), str(value))


def main_gitlab(args):
    root = os.getcwd()
    doc = yaml.safe_load(open(args.file))
    jobs = dict(doc)
    for inc in doc.get("include", []) or []:
        if "local" not in inc:
            raise Unsupported(f"include not emulated: {inc}")
        jobs = merge(yaml.safe_load(open(os.path.join(root, inc["local"]))), jobs)

    def resolve(name, seen=()):
        job = jobs[name]
        if name in seen:
            raise Unsupported(f"extends cycle at {name}")
        parents = job.get("extends", [])
        parents = [parents] if isinstance(parents, str) else parents
        result = {}
        for p in parents:
            result = merge(result, resolve(p, seen + (name,)))
        return merge(result, {k: v for k, v in job.items() if k != "extends"})

    job = resolve(args.job)
    project = kv(args.var)
    env = dict(os.environ)
    env.update({"CI": "true", "CI_PROJECT_DIR": root})
    env.update(project)
    for source in (doc.get("variables") or {}, job.get("variables") or {}):
        for k, v in source.items():
            if k not in project:
                env[k] = expand(v, env)
    for rule in job.get("rules", []) or []:
        m = re.fullmatch(r"\$([A-Za-z_][A-Za-z0-9_]*)", str(rule.get("if", "")).strip())
        if not m or set(rule) != {"if"}:
            raise Unsupported(f"rule not emulated: {rule}")
        if not env.get(m.group(1)):
            print(f"--- job {args.job} not run: {rule['if']} is empty")
            print("outputs: {}")
            return 0
    lines = list(job.get("before_script", [])) + list(job.get("script", []))
    code = run_script("\n".join(lines) + "\n", env, f"gitlab {args.job}")
    artifacts = [expand(p, env) for p in (job.get("artifacts") or {}).get("paths", [])]
    print("outputs: " + json.dumps({"artifacts": artifacts}))
    return code


def main():
    p = argparse.ArgumentParser()
    p.add_argument("kind", choices=["action", "workflow", "gitlab"])
    p.add_argument("file")
    p.add_argument("--job")
    p.add_argument("--action")
    p.add_argument("--input", action="append")
    p.add_argument("--secret", action="append")
    p.add_argument("--need", action="append")
    p.add_argument("--var", action="append")
    p.add_argument("--artifacts", help="artifact store shared by the jobs of one workflow run")
    args = p.parse_args()
    try:
        if args.kind == "gitlab":
            return main_gitlab(args)
        return main_github(args, None if args.kind == "action" else args.file)
    except Unsupported as e:
        print(f"run_ci_steps: {e}", file=sys.stderr)
        return 99


if __name__ == "__main__":
    sys.exit(main())
