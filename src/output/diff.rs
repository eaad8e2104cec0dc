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
        // Paths can come from a hand-edited manifest: escaped like content.
        let path = crate::error::escape(&c.path);
        let a = if c.old.is_some() { format!("a/{path}") } else { "/dev/null".into() };
        let b = if c.new.is_some() { format!("b/{path}") } else { "/dev/null".into() };
        if let Some(size) = c.old_not_shown {
            let _ = writeln!(out, "{bold}--- {a}{bold:#}");
            let _ = writeln!(out, "{bold}+++ {b}{bold:#}");
            let why = if size > super::MAX_COMPARE_BYTES {
                format!("it is {size} bytes, above the {}-byte compare limit", super::MAX_COMPARE_BYTES)
            } else {
                format!("this diff already holds {} bytes of old text", super::MAX_KEPT_BYTES)
            };
            let _ = writeln!(out, "{cyan}@@ old text not shown: {why} @@{cyan:#}");
            continue;
        }
        let (old, new) = (c.old.as_deref().unwrap_or_default(), c.new.as_deref().unwrap_or_default());
        let (Ok(old), Ok(new)) = (std::str::from_utf8(old), std::str::from_utf8(new)) else {
            let _ = writeln!(out, "{bold}Binary files {a} and {b} differ{bold:#}");
            continue;
        };
        let _ = writeln!(out, "{bold}--- {a}{bold:#}");
        let _ = writeln!(out, "{bold}+++ {b}{bold:#}");
        // A deadline bounds the time on large, very different files (the
        // diff is then coarser, never wrong).
        let diff = TextDiff::configure().timeout(std::time::Duration::from_secs(2)).diff_lines(old, new);
        for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
            let _ = writeln!(out, "{cyan}{}{cyan:#}", hunk.header());
            for change in hunk.iter_changes() {
                let (sign, style) = match change.tag() {
                    ChangeTag::Delete => ('-', red),
                    ChangeTag::Insert => ('+', green),
                    ChangeTag::Equal => (' ', Style::new()),
                };
                let line = change.value().strip_suffix('\n').unwrap_or(change.value());
                // The disk's text may hold escape sequences: only ours style the terminal.
                let line = crate::error::escape_text(line);
                let _ = writeln!(out, "{style}{sign}{line}{style:#}");
                if change.missing_newline() {
                    out.push_str("\\ No newline at end of file\n");
                }
            }
        }
    }
    out
}
