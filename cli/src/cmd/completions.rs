//! `modelseal completions SHELL` and `modelseal man`: shell completion
//! scripts and roff manual pages, both generated from the same clap
//! definitions as the parser, so they never drift from the flags.

use std::io::Write as _;
use std::path::PathBuf;

use clap::Args;
use clap_complete::Shell;

use crate::files::write_atomic;
use crate::output::{CliError, Exit};

/// Arguments of `modelseal completions`.
#[derive(Debug, Args)]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for: bash, zsh, fish, powershell (or elvish).
    #[arg(value_enum, value_name = "SHELL")]
    pub(crate) shell: Shell,
}

/// Arguments of `modelseal man`.
#[derive(Debug, Args)]
pub(crate) struct ManArgs {
    /// Write one page per command (modelseal.1, modelseal-verify.1, ...)
    /// into this directory instead of printing modelseal.1 on stdout.
    #[arg(long, value_name = "DIR")]
    pub(crate) out: Option<PathBuf>,
}

fn write_failed(e: &std::io::Error) -> CliError {
    CliError::error("write_failed", format!("cannot write the output: {e}"))
}

/// Print the completion script for `args.shell` on stdout.
pub(crate) fn completions(
    args: &CompletionsArgs,
    mut cli: clap::Command,
) -> Result<Exit, CliError> {
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut cli, "modelseal", &mut script);
    std::io::stdout()
        .lock()
        .write_all(&script)
        .map_err(|e| write_failed(&e))?;
    Ok(Exit::Success)
}

/// Print modelseal.1, or write every page into `--out`.
pub(crate) fn man(args: &ManArgs, cli: clap::Command) -> Result<Exit, CliError> {
    let Some(dir) = &args.out else {
        let mut page = Vec::new();
        clap_mangen::Man::new(cli)
            .render(&mut page)
            .map_err(|e| write_failed(&e))?;
        std::io::stdout()
            .lock()
            .write_all(&page)
            .map_err(|e| write_failed(&e))?;
        return Ok(Exit::Success);
    };
    std::fs::create_dir_all(dir).map_err(|e| write_failed(&e))?;
    let mut cli = cli;
    cli.build();
    write_pages(&cli, "modelseal", dir)?;
    Ok(Exit::Success)
}

/// Write the page of `cmd` (named `name`) and of each of its subcommands.
fn write_pages(cmd: &clap::Command, name: &str, dir: &std::path::Path) -> Result<(), CliError> {
    let mut page = Vec::new();
    clap_mangen::Man::new(cmd.clone())
        .title(name.to_owned())
        .render(&mut page)
        .map_err(|e| write_failed(&e))?;
    write_atomic(&dir.join(format!("{name}.1")), &page)?;
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        write_pages(sub, &format!("{name}-{}", sub.get_name()), dir)?;
    }
    Ok(())
}
