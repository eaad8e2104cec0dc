//! The summary as text (stderr of `diff` and `check`), Markdown (a PR
//! comment) and JSON (scripts). Every value that came from disk (the recorded
//! plan, the old files) is escaped and cut like any value in a message; the
//! lists are capped, so a hostile record prints a bounded summary.

use serde_json::Value;

use super::{Class, Impact, Summary, When};
use crate::diag::{MAX_VALUE_CHARS, escape, escape_json};

/// Domain changes shown in text and Markdown; past it, counted.
const SHOWN_CHANGES: usize = 40;
/// Impacts shown (in-place ones are counted, not listed).
const SHOWN_IMPACTS: usize = 40;
/// Arguments named per impact.
const SHOWN_ARGS: usize = 6;
/// When no file that reaches the cluster changes.
const NOTHING_TO_APPLY: &str = "nothing in the cluster changes (only comments and documentation differ)";

/// A value for a line: escaped, cut to [`MAX_VALUE_CHARS`].
fn cut(s: &str) -> String {
    let n = s.chars().count();
    if n <= MAX_VALUE_CHARS {
        return escape(s);
    }
    let head: String = s.chars().take(MAX_VALUE_CHARS).collect();
    format!("{}… ({n} characters)", escape(&head))
}

fn value(v: &Value) -> String {
    match v {
        Value::Null => "(none)".into(),
        Value::String(s) => cut(s),
        other => cut(&other.to_string()),
    }
}

/// The changes text and Markdown show (domain values, then values of plan
/// sections no rule knows, at most [`SHOWN_CHANGES`]) and how many others.
fn shown_changes(s: &Summary) -> (Vec<&super::Change>, usize) {
    let shown: Vec<&super::Change> = s.changes.iter().filter(|c| c.kind != "detail").take(SHOWN_CHANGES).collect();
    (shown.clone(), s.changes.len() - shown.len() + s.changes_not_shown)
}

fn when(w: When) -> &'static str {
    match w {
        When::Apply => "",
        When::MaintenanceWindow => ", at the next maintenance window",
        When::NextReboot => ", at the next reboot",
    }
}

fn args(i: &Impact) -> String {
    let mut names: Vec<String> = i.arguments.iter().take(SHOWN_ARGS).map(|a| cut(&a.name)).collect();
    if i.arguments.len() > SHOWN_ARGS {
        names.push(format!("and {} more", i.arguments.len() - SHOWN_ARGS));
    }
    names.join(", ")
}

fn from_line(s: &Summary) -> String {
    match (&s.from.tier, &s.from.chart_version) {
        (Some(t), Some(v)) => format!("from the plan the tree recorded (tier {}, Coder chart {})", cut(t), cut(v)),
        _ => "from the plan the tree recorded".into(),
    }
}

/// Lines for stderr, after the diff. Empty when nothing changes.
pub fn to_text(s: &Summary) -> String {
    let mut out = String::new();
    let total = s.files.added + s.files.changed + s.files.deleted;
    if total == 0 && s.changes.is_empty() && s.refusals.is_empty() {
        return out;
    }
    if s.changes.is_empty() && s.from.reason.is_none() && s.impacts.is_empty() && s.refusals.is_empty() {
        out.push_str(&format!("review: no planned value changes; {NOTHING_TO_APPLY}\n"));
        return out;
    }
    out.push_str("review:\n");
    match &s.from.reason {
        Some(r) => out.push_str(&format!("  what changes: not available: {}\n", cut_long(r))),
        None if s.changes.is_empty() => out.push_str(&format!("  what changes ({}): no planned value changes\n", from_line(s))),
        None => {
            out.push_str(&format!("  what changes ({}):\n", from_line(s)));
            let (shown, more) = shown_changes(s);
            for c in shown {
                let classes: Vec<&str> = c.classes.iter().map(|c| c.as_str()).collect();
                let tail = if classes.is_empty() { String::new() } else { format!("  [{}]", classes.join(", ")) };
                out.push_str(&format!("    {}: {} -> {}{tail}\n", cut(&c.label), value(&c.from), value(&c.to)));
            }
            if more > 0 {
                out.push_str(&format!("    and {more} derived values (--format json lists them)\n"));
            }
        }
    }
    let shown: Vec<&Impact> = s.impacts.iter().filter(|i| i.class != Class::InPlace).collect();
    let in_place = s.impacts.len() - shown.len();
    if s.impacts.is_empty() {
        out.push_str(&format!("  applying it: {NOTHING_TO_APPLY}\n"));
    } else {
        out.push_str("  applying it (most severe first):\n");
    }
    for i in shown.iter().take(SHOWN_IMPACTS) {
        out.push_str(&format!("    {}{}: {} ({}): {}\n", i.class.as_str(), when(i.when), cut(&i.target), cut(&i.file), cut_long(&i.what)));
        if let Some(r) = &i.refused {
            out.push_str(&format!("      refused: {}\n", cut_long(r)));
        }
        if let Some(a) = &i.action {
            out.push_str(&format!("      to do: {}\n", cut_long(a)));
        }
    }
    if shown.len() > SHOWN_IMPACTS {
        out.push_str(&format!("    … and {} more (--format json lists them)\n", shown.len() - SHOWN_IMPACTS));
    }
    if in_place > 0 {
        out.push_str(&format!(
            "    in place: {in_place} more resources, releases and file groups (terraform apply, helm upgrade, kubectl apply)\n"
        ));
    }
    for r in &s.refusals {
        if r.code == "chart-downgrade" {
            out.push_str(&format!("  refused by {}: {}\n", r.by, cut_long(&r.message)));
            out.push_str(&format!("    = help: {}\n", cut_long(&r.help)));
        }
    }
    if let Some(c) = s.most_severe {
        out.push_str(&format!("  most severe: {} ({})\n", c.as_str(), c.meaning()));
    }
    out
}

/// A long line of our own words around values from disk: escaped and cut
/// like a message line.
fn cut_long(s: &str) -> String {
    const MAX: usize = 600;
    let n = s.chars().count();
    if n <= MAX {
        return escape(s);
    }
    format!("{}…", escape(&s.chars().take(MAX).collect::<String>()))
}

/// Markdown text: everything that could format (or break a table) escaped.
fn md(s: &str) -> String {
    let mut out = String::new();
    for c in cut_long(s).chars() {
        if matches!(c, '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '!') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// A value in a code span: backticks cannot end it, pipes cannot end the cell.
fn md_code(s: &str) -> String {
    format!("`{}`", s.replace('`', "'").replace('|', "\\|"))
}

/// A PR comment.
pub fn to_markdown(s: &Summary, title: &str) -> String {
    let mut out = format!("### coder-gen review: {}\n\n", md(title).replace("-\\>", "→"));
    let total = s.files.added + s.files.changed + s.files.deleted;
    if total == 0 && s.changes.is_empty() && s.refusals.is_empty() {
        out.push_str("No changes: the tree is up to date.\n");
        return out;
    }
    if let Some(c) = s.most_severe {
        out.push_str(&format!("**Most severe: {}**: {}.\n\n", c.as_str(), md(c.meaning())));
    }
    let downgrades: Vec<_> = s.refusals.iter().filter(|r| r.code == "chart-downgrade").collect();
    for r in &downgrades {
        out.push_str(&format!("> **Refused by {}**: {}\n>\n> {}\n\n", md(&r.by), md(&r.message), md(&r.help)));
    }
    match &s.from.reason {
        Some(r) => out.push_str(&format!("What changes: not available: {}.\n\n", md(r))),
        None if s.changes.is_empty() => out.push_str("No planned value changes.\n\n"),
        None => {
            out.push_str("| What changes | From | To | Applying it |\n| --- | --- | --- | --- |\n");
            let (shown, more) = shown_changes(s);
            for c in shown {
                let classes: Vec<&str> = c.classes.iter().map(|c| c.as_str()).collect();
                out.push_str(&format!(
                    "| {} | {} | {} | {} |\n",
                    md(&c.label),
                    md_code(&value(&c.from)),
                    md_code(&value(&c.to)),
                    classes.join(", ")
                ));
            }
            if more > 0 {
                out.push_str(&format!("\nAnd {more} derived values (`coder-gen diff --format json` lists them).\n"));
            }
            out.push('\n');
        }
    }
    let shown: Vec<&Impact> = s.impacts.iter().filter(|i| i.class != Class::InPlace).collect();
    let in_place = s.impacts.len() - shown.len();
    if s.impacts.is_empty() {
        out.push_str(&format!("Applying it: {NOTHING_TO_APPLY}.\n"));
    } else {
        out.push_str("**What applying it does**\n\n");
    }
    for i in shown.iter().take(SHOWN_IMPACTS) {
        out.push_str(&format!(
            "- **{}**{}: {} in {}: {}",
            i.class.as_str(),
            when(i.when),
            md_code(&cut(&i.target)),
            md_code(&cut(&i.file)),
            md(&i.what)
        ));
        if !i.arguments.is_empty() {
            out.push_str(&format!(" ({})", md(&args(i))));
        }
        out.push('\n');
        if let Some(r) = &i.refused {
            out.push_str(&format!("  - refused: {}\n", md(r)));
        }
        if let Some(a) = &i.action {
            out.push_str(&format!("  - to do: {}\n", md(a)));
        }
    }
    if shown.len() > SHOWN_IMPACTS {
        out.push_str(&format!("- … and {} more\n", shown.len() - SHOWN_IMPACTS));
    }
    if in_place > 0 {
        out.push_str(&format!("- **in place**: {in_place} more resources, releases and file groups\n"));
    }
    out.push_str(&format!(
        "\n<sub>{} {} files added, {} changed, {} deleted. Impact classes come from the old and new Terraform and Helm files, classified with coder-gen's catalog/impact.yaml.</sub>\n",
        if s.from.reason.is_none() { format!("{}.", md(&upper_first(&from_line(s)))) } else { String::new() },
        s.files.added,
        s.files.changed,
        s.files.deleted
    ));
    out
}

fn upper_first(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

/// The stable JSON document (README, "Review summary").
pub fn to_json(s: &Summary) -> String {
    // A struct of strings, numbers and JSON values always serializes.
    let mut text = serde_json::to_string_pretty(s).unwrap_or_default();
    text.push('\n');
    escape_json(&text)
}
