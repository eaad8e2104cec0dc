//! Diagnostics: where a problem is in the spec ([`Located`], [`SpecError`]),
//! how it is printed (a snippet of the spec line with a caret under the
//! column), and the escaping every value from the input goes through on its
//! way into a message. The ground floor: it imports nothing of the crate, so
//! every stage may report located problems without depending on the top
//! level's [`crate::error::Error`].
//!
//! Input is hostile: every value from the user or the disk that reaches a
//! message goes through [`quote`] or [`escape`] (control characters escaped,
//! length cut), and the printer bounds the whole output (long messages cut,
//! repeated errors summarised, at most [`MAX_ERRORS_SHOWN`] shown).

use std::fmt;
use std::path::Path;

/// A value is shown in a message with at most this many characters.
pub const MAX_VALUE_CHARS: usize = 64;
/// Each line of a message is cut after this many characters.
pub const MAX_MESSAGE_CHARS: usize = 600;
/// A message (a list of files, say) shows at most this many lines.
pub const MAX_MESSAGE_LINES: usize = 200;
/// At most this many errors are printed in full; the rest are counted.
pub const MAX_ERRORS_SHOWN: usize = 20;
/// At most this many errors with the same message are printed in full.
const MAX_SAME_MESSAGE: usize = 3;
/// A snippet shows at most this many characters of the spec's line.
const SNIPPET_CHARS: usize = 100;

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
        // The parser's advice is for programmers calling it, not for users.
        if message.contains("from_str_multiple") || message.contains("multiple documents") {
            message = "the file holds more than one YAML document (`---`)".into();
        } else if let Some(key) = message.strip_prefix("duplicate mapping key: ") {
            let key = key.split(", set DuplicateKeyPolicy").next().unwrap_or(key);
            message = format!("the key {} is written twice in the same mapping", quote(key));
        } else if message.starts_with("duplicate mapping key") {
            message = "a key is written twice in the same mapping".into();
        } else if message.starts_with("cannot deserialize null") || message.starts_with("invalid char: cannot deserialize null") {
            message = "this key has no value (empty or `~`)".into();
        } else if message.starts_with("budget breached") {
            message = "the YAML expands too much (too many aliases, nodes or nesting levels)".into();
        }
        let help = if message.contains("more than one YAML document") {
            "a spec is one YAML document: remove the `---` separator and everything after it, or split it into files"
        } else if message.contains("is written twice") {
            "write each key once; remove or merge the other one"
        } else if message.contains("has no value") {
            "give the key a value, or remove it to take the default (see README, 'The spec')"
        } else if message.contains("expands too much") {
            "a spec is a few lines of YAML: write the values out instead of nesting aliases"
        } else if message.starts_with("users is") {
            "set users to a whole number from 1 to 3000, in decimal digits (e.g. users: 1800)"
        } else if message.contains("expected string scalar") {
            "give this key a single value, not a list or a map (see README, 'The spec')"
        } else if message.contains("unknown field") {
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

    /// Render with a snippet of `source` under each error, rustc-style
    /// (what `crate::error::render` prints for `Error::Spec`).
    pub fn render(&self, source: &str) -> String {
        render_spec(self, Some(source))
    }
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
/// A spec error as text: each problem with a snippet of `source` (when
/// given) and a caret, bounded (see the module header).
pub(crate) fn render_spec(s: &SpecError, source: Option<&str>) -> String {
    let lines: Vec<&str> = source.map(split_lines).unwrap_or_default();
    let file = escape(s.file());
    let mut out = String::new();
    let mut shown = 0usize;
    let mut hidden = 0usize;
    let mut same: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let mut hidden_same = 0usize;
    for e in s.errors() {
        let n = same.entry(e.message.as_str()).or_insert(0);
        *n += 1;
        if *n > MAX_SAME_MESSAGE {
            hidden_same += 1;
            continue;
        }
        if shown == MAX_ERRORS_SHOWN {
            hidden += 1;
            continue;
        }
        shown += 1;
        let message = bound_message(&e.message);
        if e.line == 0 {
            out.push_str(&format!("error: {file}: {message}\n"));
        } else {
            out.push_str(&format!("error: {file}:{}:{}: {message}\n", e.line, e.column));
            let idx = usize::try_from(e.line - 1).unwrap_or(usize::MAX);
            if let Some(text) = lines.get(idx) {
                let (shown_line, caret) = snippet(text, e.column);
                let num = e.line.to_string();
                let pad = " ".repeat(num.len());
                out.push_str(&format!("{pad} |\n{num} | {shown_line}\n{pad} | {}^\n", " ".repeat(caret)));
            }
        }
        out.push_str(&format!("  = help: {}\n", bound_message(&e.help)));
    }
    if hidden_same > 0 {
        out.push_str(&format!(
            "note: {hidden_same} more error(s) repeat a message shown above (each message is shown at most {MAX_SAME_MESSAGE} times)\n"
        ));
    }
    if hidden > 0 {
        out.push_str(&format!("note: {hidden} more error(s) not shown; fix the ones above and run again\n"));
    }
    out
}

/// Lines as a YAML parser counts them: LF, CRLF and a lone CR each end one.
fn split_lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                out.push(&text[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// The part of `line` around 1-based `column`, escaped and at most
/// [`SNIPPET_CHARS`] characters, and where the caret goes under it.
fn snippet(line: &str, column: u64) -> (String, usize) {
    let chars: Vec<char> = line.chars().collect();
    let col = usize::try_from(column.saturating_sub(1)).unwrap_or(usize::MAX).min(chars.len());
    let start = if chars.len() <= SNIPPET_CHARS { 0 } else { col.saturating_sub(SNIPPET_CHARS / 2) };
    let end = (start + SNIPPET_CHARS).min(chars.len());
    let mut shown = String::new();
    if start > 0 {
        shown.push('…');
    }
    let mut caret = shown.chars().count();
    for (i, c) in chars[start..end].iter().enumerate() {
        let piece = escape_char(*c);
        if start + i < col {
            caret += piece.chars().count();
        }
        shown.push_str(&piece);
    }
    if end < chars.len() {
        shown.push('…');
    }
    (shown, caret)
}

/// Escape, and cut a message (ours, with values in it already quoted) that is
/// still too long, e.g. one from the YAML parser quoting a huge value.
pub(crate) fn bound_message(m: &str) -> String {
    // Our own multi-line messages (lists of files) keep their newlines.
    let lines: Vec<&str> = m.split('\n').collect();
    let mut out: Vec<String> = lines.iter().take(MAX_MESSAGE_LINES).map(|l| cut(&escape(l), MAX_MESSAGE_CHARS)).collect();
    if lines.len() > MAX_MESSAGE_LINES {
        out.push(format!("    … and {} more lines not shown", lines.len() - MAX_MESSAGE_LINES));
    }
    out.join("\n")
}

fn cut(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max).collect();
    format!("{head}… ({} more characters not shown)", n - max)
}

/// Characters that can drive or disguise a terminal: C0 and C1 controls,
/// DEL, and Unicode's bidirectional and line-separator format characters.
fn is_dangerous(c: char) -> bool {
    c.is_control() || matches!(c, '\u{061c}' | '\u{200b}'..='\u{200f}' | '\u{2028}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

fn escape_char(c: char) -> String {
    match c {
        '\n' => "\\n".into(),
        '\r' => "\\r".into(),
        '\t' => "\\t".into(),
        c if is_dangerous(c) => format!("\\u{{{:x}}}", u32::from(c)),
        c => c.to_string(),
    }
}

/// `s` with every control character escaped (`\n`, `\t`, `\u{1b}`), so that
/// no input can move the cursor, recolour or retitle the user's terminal.
pub fn escape(s: &str) -> String {
    if !s.chars().any(is_dangerous) {
        return s.to_string();
    }
    s.chars().map(escape_char).collect()
}

/// A value from the input for a message: escaped, cut to
/// [`MAX_VALUE_CHARS`], between backticks.
pub fn quote(s: &str) -> String {
    let n = s.chars().count();
    if n <= MAX_VALUE_CHARS {
        return format!("`{}`", escape(s));
    }
    let head: String = s.chars().take(MAX_VALUE_CHARS).collect();
    format!("`{}…` ({n} characters)", escape(&head))
}

/// A path for a message: lossy UTF-8, escaped.
pub fn show_path(p: &Path) -> String {
    escape(&p.to_string_lossy())
}

/// Text for a terminal: every control character except newline and tab
/// escaped. For stdout text that carries values (the plan).
pub fn escape_text(s: &str) -> String {
    if !s.chars().any(|c| c != '\n' && c != '\t' && is_dangerous(c)) {
        return s.to_string();
    }
    s.chars().map(|c| if c == '\n' || c == '\t' { c.to_string() } else { escape_char(c) }).collect()
}

/// JSON for a terminal: serde_json escapes C0 controls but writes DEL, C1
/// and bidi controls raw; those only occur inside strings, where `\uXXXX`
/// means the same character.
pub fn escape_json(s: &str) -> String {
    // Pretty JSON's own newlines stay (a raw newline is never inside a string).
    let bad = |c: char| c != '\n' && is_dangerous(c);
    if !s.chars().any(bad) {
        return s.to_string();
    }
    s.chars().map(|c| if bad(c) { format!("\\u{:04x}", u32::from(c)) } else { c.to_string() }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_and_quote() {
        assert_eq!(escape("a\u{1b}]0;x\u{7}b\n"), "a\\u{1b}]0;x\\u{7}b\\n");
        assert_eq!(escape("\u{9b}31m\u{202e}"), "\\u{9b}31m\\u{202e}");
        assert_eq!(escape("plain é"), "plain é");
        let long = "x".repeat(1000);
        let q = quote(&long);
        assert!(q.len() < 100 && q.contains("1000 characters"), "{q}");
        assert_eq!(escape_text("a\tb\n\u{1b}[31m"), "a\tb\n\\u{1b}[31m");
        let json = escape_json(&serde_json::to_string("a\u{9b}\u{7f}\u{1b}").unwrap());
        assert_eq!(json, "\"a\\u009b\\u007f\\u001b\"");
        assert_eq!(serde_json::from_str::<String>(&json).unwrap(), "a\u{9b}\u{7f}\u{1b}");
    }

    #[test]
    fn snippet_is_bounded_and_the_caret_points_at_the_column() {
        let line = format!("{}X{}", "a".repeat(5000), "b".repeat(5000));
        let (s, caret) = snippet(&line, 5001);
        assert!(s.chars().count() <= SNIPPET_CHARS + 2, "{s}");
        assert_eq!(s.chars().nth(caret), Some('X'));
        let (s, caret) = snippet("a\u{1b}b: c", 4);
        assert_eq!(s, "a\\u{1b}b: c");
        assert_eq!(s.chars().nth(caret), Some(':'));
    }

    #[test]
    fn cr_only_line_endings_split() {
        assert_eq!(split_lines("a\rb\r\nc\nd"), vec!["a", "b", "c", "d"]);
    }

    #[test]
    fn repeated_and_many_errors_are_summarised() {
        let errors: Vec<Located> = (0..500)
            .map(|i| Located { line: 1, column: 1, message: format!("m{}", i % 50), help: "h".into() })
            .chain((0..100).map(|_| Located { line: 1, column: 1, message: "x".repeat(100_000), help: "h".into() }))
            .collect();
        let out = render_spec(&SpecError::Invalid { file: "f".into(), errors }, Some("a: b\n"));
        assert!(out.len() < 20_000, "{}", out.len());
        assert!(out.contains("more error(s) not shown") && out.contains("repeat a message"), "{out}");
    }
}
