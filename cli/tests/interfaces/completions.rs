//! `modelseal completions SHELL` and `modelseal man`: generated from the
//! same clap definitions as the parser. The bash script is loaded into a
//! real bash and asked to complete; the manual page is rendered by groff
//! (`.ci/deps/groff.sh`) with warnings as errors.
#![allow(missing_docs, clippy::unwrap_used, clippy::panic)]

use crate::common::Sandbox;
use std::process::Command;

#[test]
fn completion_scripts_for_every_shell() {
    let sb = Sandbox::new();
    for (shell, marker) in [
        ("bash", "complete -F _modelseal"),
        ("zsh", "#compdef modelseal"),
        ("fish", "complete -c modelseal"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let run = sb.run(["completions", shell]);
        run.code(0).stdout_has(marker).stdout_has("trust-root");
        // Hidden aliases are not offered.
        assert!(!run.stdout.contains("rsa-hash"), "{shell}");
    }
    sb.run(["completions", "tcsh"]).code(2).stderr_has("tcsh");

    // bash really completes with it: subcommands, then verify's flags.
    let script = sb.run(["completions", "bash"]).stdout.clone();
    std::fs::write(sb.path("modelseal.bash"), script).unwrap();
    let complete = |words: &str| {
        let out = Command::new("bash")
            .current_dir(sb.dir.path())
            .arg("-c")
            .arg(format!(
                "source modelseal.bash; COMP_WORDS=({words}); COMP_CWORD=$((${{#COMP_WORDS[@]}} - 1)); \
                 _modelseal modelseal \"${{COMP_WORDS[COMP_CWORD]}}\" \"${{COMP_WORDS[COMP_CWORD-1]}}\"; printf '%s\\n' \"${{COMPREPLY[@]}}\""
            ))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let subcommands = complete("modelseal ver");
    assert_eq!(subcommands.trim(), "verify");
    let flags = complete("modelseal verify --trust");
    assert_eq!(flags.trim(), "--trust-root\n--trusted-root");
}

#[test]
fn man_pages_render_with_groff() {
    let sb = Sandbox::new();
    let page = sb.run(["man"]);
    page.code(0)
        .stdout_has(".TH modelseal 1")
        .stdout_has("verify");
    sb.run(["man", "--out", "man"]).code(0);
    let mut pages: Vec<String> = std::fs::read_dir(sb.path("man"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    pages.sort();
    for want in [
        "modelseal.1",
        "modelseal-verify.1",
        "modelseal-audit-append.1",
        "modelseal-policy-explain.1",
    ] {
        assert!(pages.iter().any(|p| p == want), "{want} in {pages:?}");
    }
    let groff = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww", "-z"])
        .arg(sb.path("man/modelseal-verify.1"))
        .output()
        .unwrap_or_else(|e| {
            panic!("groff not found ({e}): run ./test.sh, or `bash .ci/deps/groff.sh` (groff-base)")
        });
    assert!(groff.status.success());
    assert_eq!(String::from_utf8_lossy(&groff.stderr), "", "groff warnings");
    let text = Command::new("groff")
        .args(["-man", "-Tutf8"])
        .arg(sb.path("man/modelseal-verify.1"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("--trust-root"), "{text}");
}
