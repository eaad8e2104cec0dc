//! Unified diffs of what `render` would change, for `diff` and `check`.
//! Styled with ANSI escapes; the CLI prints through anstream, which strips
//! them when stdout is not a terminal or `NO_COLOR` is set.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};
use similar::algorithms::{Capture, Compact, Replace, myers};
use similar::udiff::UnifiedHunkHeader;
use similar::{ChangeTag, DiffOp, group_diff_ops};

use super::FileChange;
use crate::diag::{escape, escape_text};

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
        let path = escape(&c.path);
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
        let (old, new): (Vec<&str>, Vec<&str>) = (old.split_inclusive('\n').collect(), new.split_inclusive('\n').collect());
        for hunk in group_diff_ops(line_ops(&old, &new), 3) {
            let _ = writeln!(out, "{cyan}{}{cyan:#}", UnifiedHunkHeader::new(&hunk));
            for change in hunk.iter().flat_map(|op| op.iter_changes(&old[..], &new[..])) {
                let (sign, style) = match change.tag() {
                    ChangeTag::Delete => ('-', red),
                    ChangeTag::Insert => ('+', green),
                    ChangeTag::Equal => (' ', Style::new()),
                };
                let line = change.value().strip_suffix('\n').unwrap_or(change.value());
                // The disk's text may hold escape sequences: only ours style the terminal.
                let line = escape_text(line);
                let _ = writeln!(out, "{style}{sign}{line}{style:#}");
                if change.missing_newline() {
                    out.push_str("\\ No newline at end of file\n");
                }
            }
        }
    }
    out
}

/// The edit script from `old` to `new` (lines, each with its newline): what
/// similar's `TextDiff::diff_lines` computes (Myers, then `Replace` and
/// `Compact` to group and slide changes), called directly so that only this
/// one instantiation of the algorithm is compiled (TextDiff compiles every
/// algorithm for every hook: an eighth of the crate's build). A deadline
/// bounds the time on large, very different files (the diff is then
/// coarser, never wrong).
fn line_ops(old: &[&str], new: &[&str]) -> Vec<DiffOp> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    let mut hook = Compact::new(Replace::new(Capture::new()), old, new);
    let Ok(()) = myers::diff_deadline(&mut hook, old, 0..old.len(), new, 0..new.len(), Some(deadline));
    hook.into_inner().into_inner().into_ops()
}

#[cfg(test)]
mod tests {
    use similar::TextDiff;

    /// `line_ops` grouped and printed is exactly similar's own unified diff
    /// (TextDiff, radius 3), on small, large, shifted, repetitive and
    /// unterminated texts.
    #[test]
    fn hunks_are_what_textdiff_prints() {
        fn ours(old: &str, new: &str) -> String {
            let (o, n): (Vec<&str>, Vec<&str>) = (old.split_inclusive('\n').collect(), new.split_inclusive('\n').collect());
            let mut out = String::new();
            for hunk in similar::group_diff_ops(super::line_ops(&o, &n), 3) {
                out.push_str(&format!("{}\n", similar::udiff::UnifiedHunkHeader::new(&hunk)));
                for c in hunk.iter().flat_map(|op| op.iter_changes(&o[..], &n[..])) {
                    out.push_str(&format!("{}{}{}", c.tag(), c.value(), if c.missing_newline() { "\n\\ No newline\n" } else { "" }));
                }
            }
            out
        }
        fn theirs(old: &str, new: &str) -> String {
            let diff = TextDiff::from_lines(old, new);
            let mut out = String::new();
            for hunk in diff.unified_diff().context_radius(3).iter_hunks() {
                out.push_str(&format!("{}\n", hunk.header()));
                for c in hunk.iter_changes() {
                    out.push_str(&format!("{}{}{}", c.tag(), c.value(), if c.missing_newline() { "\n\\ No newline\n" } else { "" }));
                }
            }
            out
        }
        // Pseudo-random texts over a small alphabet of lines, so that many
        // lines repeat (the hard case for matching), of 0 to 400 lines.
        let mut seed = 0x2545_f491_4f6c_dd1d_u64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        let mut cases = vec![
            (String::new(), "a\n".to_string()),
            ("a\n".to_string(), String::new()),
            ("a\nb".to_string(), "a\nb\n".to_string()),
            ("x\n".repeat(50), format!("{}y\n{}", "x\n".repeat(25), "x\n".repeat(25))),
        ];
        for _ in 0..200 {
            let len = next(400);
            let old: String = (0..len).map(|_| format!("line {}\n", next(12))).collect();
            // Edit it: drop, insert and change lines here and there.
            let mut new = String::new();
            for l in old.lines() {
                match next(10) {
                    0 => {}
                    1 => new.push_str(&format!("{l}\nnew {}\n", next(5))),
                    2 => new.push_str(&format!("changed {}\n", next(5))),
                    _ => new.push_str(&format!("{l}\n")),
                }
            }
            if next(4) == 0 {
                new.pop();
            }
            cases.push((old, new));
        }
        for (old, new) in &cases {
            assert_eq!(ours(old, new), theirs(old, new), "old:\n{old}\nnew:\n{new}");
        }
    }
}
