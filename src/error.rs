//! The crate's one error type, [`Error`], and the one function that prints
//! every error, [`render`]. The top of the house: `Error` only wraps each
//! domain's own error ([`SpecError`] from `diag`, [`OutputError`] from
//! `output`, a failed read, a bad command line) and owns what the CLI needs
//! of them: a stable [`Error::code`], a help line ([`Error::help`]) and
//! `exit_code`, the CLI's contract (see README, "Exit codes").
//!
//! No stage of the pipeline (spec, plan, render, overrides, output) imports
//! this module: each returns its own error, and `lib`/`cli` wrap it here.

use std::path::PathBuf;

use crate::diag::{SpecError, bound_message, render_spec, show_path};
use crate::output::OutputError;
use crate::review::{Downgrade, downgrade_help, downgrade_message};

/// Anything that stops a command: a bad spec, an unreadable file, a refused
/// write, a failed write to stdout, a bad command line. `exit_code` maps it to
/// the CLI contract, `code` names the kind, `help` says what to do.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Spec(#[from] SpecError),
    #[error("cannot read {}: {source}", show_path(path))]
    Read { path: PathBuf, source: std::io::Error },
    /// The spec path is a directory, a FIFO, a device or a socket.
    #[error("cannot read {}: it is {what}, not a regular file", show_path(path))]
    NotAFile { path: PathBuf, what: &'static str },
    #[error(transparent)]
    Output(#[from] OutputError),
    /// Writing the result to stdout failed (a full disk, a closed terminal);
    /// a closed pipe is not an error (see `cli`).
    #[error("cannot write to stdout: {0}")]
    Stdout(std::io::Error),
    /// A bad command line; the message is clap's, escaped.
    #[error("{0}")]
    Usage(String),
    /// `render` of a lower `coder.chart_version` than the tree records,
    /// without `--restored-database`.
    #[error("{}", downgrade_message(.0))]
    Downgrade(Downgrade),
}

impl Error {
    /// 2 for every error: a bad spec, an unreadable file, a refused write.
    /// (1 is reserved for `check` finding drift, which is not an error.)
    pub fn exit_code(&self) -> u8 {
        2
    }

    /// A stable name for the kind of error, for scripts and the error
    /// catalogue. Never reused for another kind.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Spec(SpecError::Yaml { .. }) => "spec-yaml",
            Error::Spec(SpecError::Invalid { .. }) => "spec-invalid",
            Error::Read { .. } => "io-read",
            Error::NotAFile { .. } => "io-not-a-file",
            Error::Output(o) => o.code(),
            Error::Stdout(_) => "io-stdout",
            Error::Usage(_) => "usage",
            Error::Downgrade(_) => "chart-downgrade",
        }
    }

    /// What to do about it. Spec errors carry their help per problem.
    pub fn help(&self) -> Option<String> {
        match self {
            Error::Spec(_) => None,
            Error::Read { source, .. } if source.kind() == std::io::ErrorKind::InvalidData => {
                Some("a spec is UTF-8 text (YAML); check that the right file was given".into())
            }
            Error::Read { .. } => Some("check the path and its permissions".into()),
            Error::NotAFile { .. } => Some(
                "give the path of a spec file; coder-gen reads only regular files (not stdin, pipes or devices), so that it can bound what it reads"
                    .into(),
            ),
            Error::Output(o) => o.help(),
            Error::Stdout(_) => Some("nothing was lost: run the command again with stdout going somewhere with room".into()),
            Error::Usage(_) => Some("run `coder-gen --help` (or `coder-gen <command> --help`) for the usage and examples".into()),
            Error::Downgrade(_) => Some(downgrade_help()),
        }
    }
}

/// Print any error: this is the only place errors are turned into text.
/// `source` is the spec's text, for snippets under spec errors. The output is
/// bounded whatever the input: control characters escaped, messages cut,
/// repeats summarised.
pub fn render(e: &Error, source: Option<&str>) -> String {
    match e {
        Error::Spec(s) => render_spec(s, source),
        other => {
            let mut out = format!("error: {}\n", bound_message(&other.to_string()));
            if let Some(help) = other.help() {
                out.push_str(&format!("  = help: {}\n", bound_message(&help)));
            }
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lists_keep_their_lines_and_are_capped() {
        let files: Vec<String> = (0..10_000).map(|i| format!("file-{i}.yaml")).collect();
        let e = Error::Output(OutputError::Conflicts { dir: "out".into(), collisions: files, edited: Vec::new() });
        let text = render(&e, None);
        assert!(text.contains("    file-0.yaml\n    file-1.yaml\n") && text.contains("more lines not shown"), "{text}");
        assert!(text.len() < 20_000, "{}", text.len());
    }
}
