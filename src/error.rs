//! Error types and their rendering. Every user-facing error says where and
//! what to do; `exit_code` is the CLI's contract (see README, "Exit codes").

use std::fmt;
use std::path::PathBuf;

/// One problem at a place in the spec. `line`/`column` are 1-based; 0 means
/// "the whole file".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub line: u64,
    pub column: u64,
    pub message: String,
    pub help: String,
}

/// A spec that cannot be used. Always exit code 2, and nothing is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SpecError {
    /// The YAML itself, or its shape (unknown key, wrong type).
    Yaml { file: String, error: Located },
    /// Well-formed YAML whose values are not acceptable (all of them listed).
    Invalid { file: String, errors: Vec<Located> },
}

impl SpecError {
    pub fn new(file: &str, at: Option<(u64, u64)>, message: String, help: &str) -> SpecError {
        let (line, column) = at.unwrap_or((0, 0));
        SpecError::Invalid { file: file.to_string(), errors: vec![Located { line, column, message, help: help.to_string() }] }
    }

    pub(crate) fn from_yaml(file: &str, e: &serde_saphyr::Error) -> SpecError {
        let (line, column) = e.location().map(|l| (l.line(), l.column())).unwrap_or((0, 0));
        let mut message = e.without_snippet().to_string();
        // saphyr prefixes "line L column C: "; we print the location ourselves.
        if let Some(rest) = message.strip_prefix("error: ") {
            message = rest.to_string();
        }
        for prefix in [format!("line {line} column {column}: "), format!("line {line}, column {column}: ")] {
            if let Some(rest) = message.strip_prefix(&prefix) {
                message = rest.to_string();
            }
        }
        for suffix in [format!(" at line {line}, column {column}"), format!(" at line {line} column {column}")] {
            if let Some(rest) = message.strip_suffix(&suffix) {
                message = rest.to_string();
            }
        }
        let help = if message.contains("unknown field") {
            "remove the key or fix its spelling; the valid keys are listed in the message (see README, 'The spec')"
        } else if message.contains("missing field") {
            "add the required key (see README, 'The spec')"
        } else if message.contains("invalid type") {
            "give this key a value of the type the message names (see README, 'The spec')"
        } else if message.contains("unknown variant") || message.contains("invalid value") {
            "use one of the values listed in the message"
        } else {
            "fix the YAML at this place (see README, 'The spec')"
        };
        SpecError::Yaml { file: file.to_string(), error: Located { line, column, message, help: help.into() } }
    }

    pub fn errors(&self) -> &[Located] {
        match self {
            SpecError::Yaml { error, .. } => std::slice::from_ref(error),
            SpecError::Invalid { errors, .. } => errors,
        }
    }

    pub fn file(&self) -> &str {
        match self {
            SpecError::Yaml { file, .. } | SpecError::Invalid { file, .. } => file,
        }
    }

    /// Render with a snippet of `source` under each error, rustc-style.
    pub fn render(&self, source: &str) -> String {
        let lines: Vec<&str> = source.lines().collect();
        let mut out = String::new();
        for e in self.errors() {
            if e.line == 0 {
                out.push_str(&format!("error: {}: {}\n", self.file(), e.message));
            } else {
                out.push_str(&format!("error: {}:{}:{}: {}\n", self.file(), e.line, e.column, e.message));
                let idx = usize::try_from(e.line - 1).unwrap_or(usize::MAX);
                if let Some(text) = lines.get(idx) {
                    let num = e.line.to_string();
                    let pad = " ".repeat(num.len());
                    let col = usize::try_from(e.column.saturating_sub(1)).unwrap_or(0).min(text.chars().count());
                    out.push_str(&format!("{pad} |\n{num} | {}\n{pad} | {}^\n", printable(text), " ".repeat(col)));
                }
            }
            out.push_str(&format!("  = help: {}\n", e.help));
        }
        out
    }
}

/// The spec line as written, with only control characters (a tab, a NUL)
/// made visible: quotes and non-ASCII text stay as the user typed them.
fn printable(line: &str) -> String {
    line.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.errors().iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{}:{}:{}: {} (help: {})", self.file(), e.line, e.column, e.message, e.help)?;
        }
        Ok(())
    }
}

impl std::error::Error for SpecError {}

/// Anything that stops a command. `exit_code` maps it to the CLI contract.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Spec(#[from] SpecError),
    #[error("cannot read {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Output(#[from] crate::output::OutputError),
    #[error("internal error while rendering {path}: {message} (please report this)")]
    Render { path: String, message: String },
}

impl Error {
    /// 2 for every error: a bad spec, an unreadable file, a refused write.
    /// (1 is reserved for `check` finding drift, which is not an error.)
    pub fn exit_code(&self) -> u8 {
        2
    }
}
