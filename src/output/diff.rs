//! Unified diffs of what `render` would change, for `diff` and `check`.
//! Styled with ANSI escapes; the CLI prints through anstream, which strips
//! them when stdout is not a terminal or `NO_COLOR` is set.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use similar::{ChangeTag, TextDiff};

use super::FileChange;

/// Git-style unified diff of every change: `a/<path>` is the disk, `b/<path>`
/// what render writes, `/dev/null` for an added or removed file.
pub fn unified_diff(changes: &[FileChange]) -> String {
    let bold = Style::new().bold();
    let cyan = Style::new().fg_color(Some(AnsiColor::Cyan.into()));
    let red = Style::new().fg_color(Some(AnsiColor::Red.into()));
    let green = Style::new().fg_color(Some(AnsiColor::Green.into()));
    let mut out = String::new();
    for c in changes {
        let a = if c.old.is_some() { format!("a/{}", c.path) } else { "/dev/null".into() };
        let b = if c.new.is_some() { format!("b/{}", c.path) } else { "/dev/null".into() };
        let (old, new) = (c.old.as_deref().unwrap_or_default(), c.new.as_deref().unwrap_or_default());
        let (Ok(old), Ok(new)) = (std::str::from_utf8(old), std::str::from_utf8(new)) else {
            let _ = writeln!(out, "{bold}Binary files {a} and {b} differ{bold:#}");
            continue;
        };
        let _ = writeln!(out, "{bold}--- {a}{bold:#}");
        let _ = writeln!(out, "{bold}+++ {b}{bold:#}");
        let diff = TextDiff::from_lines(old, new);
        for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
            let _ = writeln!(out, "{cyan}{}{cyan:#}", hunk.header());
            for change in hunk.iter_changes() {
                let (sign, style) = match change.tag() {
                    ChangeTag::Delete => ('-', red),
                    ChangeTag::Insert => ('+', green),
                    ChangeTag::Equal => (' ', Style::new()),
                };
                let line = change.value().strip_suffix('\n').unwrap_or(change.value());
                let _ = writeln!(out, "{style}{sign}{line}{style:#}");
                if change.missing_newline() {
                    out.push_str("\\ No newline at end of file\n");
                }
            }
        }
    }
    out
}
