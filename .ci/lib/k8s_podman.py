#!/usr/bin/env python3
"""Turn one container of a Kubernetes Deployment into a `podman run` command line.

Used by .ci/suites/packaging.sh to run the example Deployments' containers
as written: their command/args, env, volume mounts (read-only where the
manifest says so), user and group, read-only root filesystem and dropped
capabilities. Volumes are given as host paths; emptyDir volumes without one
become a tmpfs. Prints the argv NUL-separated (for `mapfile -d ''`).

  k8s_podman.py DEPLOYMENT.yaml CONTAINER --image IMAGE --volume NAME=HOSTPATH...
                [--field PATH=VALUE...] [--server ARG...]

--server replaces what follows `--` in the container's command (the server
the gate starts), so a stand-in server can run in place of the real one.
"""

import argparse
import sys

import yaml


def main():
    p = argparse.ArgumentParser()
    p.add_argument("deployment")
    p.add_argument("container")
    p.add_argument("--image", required=True)
    p.add_argument("--volume", action="append", default=[])
    p.add_argument("--field", action="append", default=[])
    p.add_argument("--server", nargs=argparse.REMAINDER)
    a = p.parse_args()

    docs = [d for d in yaml.safe_load_all(open(a.deployment)) if d and d.get("kind") == "Deployment"]
    if len(docs) != 1:
        sys.exit("k8s_podman: expected one Deployment")
    pod = docs[0]["spec"]["template"]["spec"]
    containers = pod.get("initContainers", []) + pod["containers"]
    c = next((c for c in containers if c["name"] == a.container), None)
    if c is None:
        sys.exit(f"k8s_podman: no container {a.container}")
    hosts = dict(v.split("=", 1) for v in a.volume)
    fields = dict(f.split("=", 1) for f in a.field)
    volumes = {v["name"]: v for v in pod.get("volumes", [])}

    pod_sc = pod.get("securityContext", {})
    sc = {**pod_sc, **c.get("securityContext", {})}
    argv = ["run", "--rm", "--network=none"]
    if "runAsUser" in sc:
        argv.append(f"--user={sc['runAsUser']}:{sc.get('runAsGroup', sc['runAsUser'])}")
    if sc.get("readOnlyRootFilesystem"):
        argv += ["--read-only", "--read-only-tmpfs=false"]
    if sc.get("allowPrivilegeEscalation") is False:
        argv.append("--security-opt=no-new-privileges")
    for cap in sc.get("capabilities", {}).get("drop", []):
        argv.append(f"--cap-drop={cap.lower()}")
    for e in c.get("env", []):
        if "value" in e:
            value = e["value"]
        else:
            path = e["valueFrom"]["fieldRef"]["fieldPath"]
            if path not in fields:
                sys.exit(f"k8s_podman: give --field {path}=VALUE")
            value = fields[path]
        argv.append(f"--env={e['name']}={value}")
    for m in c.get("volumeMounts", []):
        name, target = m["name"], m["mountPath"]
        if name in hosts:
            argv.append(f"--volume={hosts[name]}:{target}" + (":ro" if m.get("readOnly") else ""))
        elif "emptyDir" in volumes.get(name, {}):
            argv.append(f"--tmpfs={target}:rw,mode=1777")
        else:
            sys.exit(f"k8s_podman: give --volume {name}=HOSTPATH")

    command = list(c.get("command", [])) + list(c.get("args", []))
    if a.server is not None:
        if "--" not in command:
            sys.exit("k8s_podman: --server needs a command with --")
        command = command[: command.index("--") + 1] + a.server
    if c.get("command"):
        argv += [f"--entrypoint={command[0]}", a.image] + command[1:]
    else:
        argv += [a.image] + command
    sys.stdout.write("\0".join(argv) + "\0")


if __name__ == "__main__":
    main()
