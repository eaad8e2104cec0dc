//! The review summary of `diff` and `check`: what a change of the spec
//! changes in domain terms, and what applying it does.
//!
//! - *What changes* compares the plan the tree recorded about itself
//!   (`.coder-gen/plan.json`, read by `output`) with the new plan, as JSON:
//!   hand-written rules name the domain's values (tier, machine types, node
//!   counts, database class, storage, HA, versions), and every other changed
//!   value is listed by its JSON path, so a new plan section shows up without
//!   new code (`plan_diff.rs`).
//! - *What applying it does* comes from the old and new files themselves,
//!   never from our own words: every changed Terraform argument is classified
//!   with the provider data in `catalog/impact.yaml` (`terraform.rs`), every
//!   changed Helm values file by its release's rules (`helm.rs`), the rest by
//!   path.
//!
//! Pure: the CLI hands in the bytes `output` read; nothing here touches the
//! disk. Bounded: the recorded plan is at most [`MAX_RECORDED_PLAN_BYTES`]
//! (read so by the caller), lists are capped when printed, and no input
//! panics (a hostile or truncated plan.json is "unreadable").

mod format;
mod helm;
mod plan_diff;
mod semver;
mod terraform;

use serde::Serialize;
use serde_json::Value;

use crate::catalog::impact::ImpactRules;
use crate::diag::quote;
use crate::plan::{FORMAT_VERSION as PLAN_FORMAT_VERSION, Plan};

pub use format::{to_json, to_markdown, to_text};

/// Bumped only on a breaking change of the JSON summary (see CHANGELOG).
pub const FORMAT_VERSION: u32 = 1;
/// The recorded plan is read up to this size (a real one is about 50 KiB).
pub const MAX_RECORDED_PLAN_BYTES: u64 = 1024 * 1024;
/// Where the tree records its plan, relative to the output directory's
/// `.coder-gen/` (the manifest's folder).
pub const RECORDED_PLAN_NAME: &str = "plan.json";

/// What applying a change does, least to most severe. `unknown`: coder-gen
/// cannot tell (no data for a resource type, a file that does not parse):
/// read `terraform plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    InPlace,
    Rolling,
    NodePoolReplacement,
    DatabaseRestart,
    Irreversible,
    Unknown,
    DestroysData,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::InPlace => "in place",
            Class::Rolling => "rolling",
            Class::NodePoolReplacement => "node-pool replacement",
            Class::DatabaseRestart => "database restart",
            Class::Irreversible => "irreversible",
            Class::Unknown => "unknown",
            Class::DestroysData => "destroys data",
        }
    }

    /// One line on what the class means, for the summary's legend.
    pub fn meaning(self) -> &'static str {
        match self {
            Class::InPlace => "changed in place: nothing restarts",
            Class::Rolling => "pods (or nodes) are replaced one at a time: pods restart",
            Class::NodePoolReplacement => "a node pool is replaced: every pod on it moves",
            Class::DatabaseRestart => "the database restarts: Coder is down for minutes",
            Class::Irreversible => "cannot be undone (storage never shrinks; a Coder upgrade migrates the database one way)",
            Class::Unknown => "coder-gen cannot tell: read the diff and `terraform plan`",
            Class::DestroysData => "destroys Coder's data",
        }
    }
}

/// When the change takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum When {
    /// When the tree is applied (terraform apply, helm upgrade, kubectl apply).
    Apply,
    /// At the service's next maintenance window (RDS without apply_immediately).
    MaintenanceWindow,
    /// When the database next reboots (a pending-reboot parameter).
    NextReboot,
}

/// The plan the output directory recorded, as read from disk.
#[derive(Debug, Clone)]
pub enum Recorded {
    /// No `.coder-gen/plan.json`: a new directory, or one written by a
    /// coder-gen from before the record existed.
    Absent,
    /// Present but not a plan this coder-gen reads (the reason).
    Unreadable(String),
    /// The recorded plan's JSON.
    Plan(Value),
}

impl Recorded {
    /// The recorded plan from the file's bytes.
    pub fn parse(bytes: &[u8]) -> Recorded {
        let value: Value = match serde_json::from_slice(bytes) {
            Ok(v) => v,
            Err(e) => return Recorded::Unreadable(format!("it is not JSON ({e})")),
        };
        match value.get("format_version").and_then(Value::as_u64) {
            Some(v) if v == u64::from(PLAN_FORMAT_VERSION) => {}
            Some(v) => {
                return Recorded::Unreadable(format!(
                    "its format_version is {v}; this coder-gen reads {} (was it written by a newer coder-gen?)",
                    PLAN_FORMAT_VERSION
                ));
            }
            None => return Recorded::Unreadable("it has no format_version: it is not a coder-gen plan".into()),
        }
        if !value.is_object() {
            return Recorded::Unreadable("it is not a JSON object".into());
        }
        Recorded::Plan(value)
    }

    /// A file too large to be a plan.
    pub fn too_large(size: u64) -> Recorded {
        Recorded::Unreadable(format!("it is {size} bytes; a recorded plan is at most {MAX_RECORDED_PLAN_BYTES} bytes"))
    }

    /// The Coder chart version the tree was rendered for, if it says.
    pub fn chart_version(&self) -> Option<&str> {
        match self {
            Recorded::Plan(v) => v.pointer("/chart/version").and_then(Value::as_str),
            _ => None,
        }
    }
}

/// A lower `coder.chart_version` than the one the tree records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Downgrade {
    pub recorded: String,
    pub wanted: String,
}

/// `Some` when the plan's chart version is lower than the recorded one
/// (semver order). A recorded version that is not a version compares as
/// nothing: the caller says the check could not run ([`downgrade_unknown`]).
pub fn chart_downgrade(recorded: &Recorded, plan: &Plan) -> Option<Downgrade> {
    let old = recorded.chart_version()?;
    let (o, n) = (semver::parse(old)?, semver::parse(&plan.chart.version)?);
    (n < o).then(|| Downgrade { recorded: old.to_string(), wanted: plan.chart.version.clone() })
}

/// Why the downgrade check cannot run on this record, if it cannot.
pub fn downgrade_unknown(recorded: &Recorded) -> Option<String> {
    match recorded {
        Recorded::Absent => None,
        Recorded::Unreadable(why) => Some(why.clone()),
        Recorded::Plan(_) => match recorded.chart_version() {
            None => Some("it records no chart.version".into()),
            Some(v) if semver::parse(v).is_none() => Some(format!("its chart.version {} is not a version", quote(v))),
            Some(_) => None,
        },
    }
}

/// One file whose content changes, as `output` compared it: `old` on disk,
/// `new` what render writes (`None`: absent). `old_unread`: the old file
/// exists but its text was not kept (too large), so it cannot be compared.
#[derive(Debug, Clone, Copy)]
pub struct FileDiff<'a> {
    pub path: &'a str,
    pub old: Option<&'a [u8]>,
    pub new: Option<&'a [u8]>,
    pub old_unread: bool,
}

/// A changed value of the plan, in domain words.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// The JSON path in the plan (`pools[coderd].machine_type`).
    pub path: String,
    pub label: String,
    /// `domain` (a value the review names), `section` (a value of a plan
    /// section the review has no rule for, e.g. one added later) or
    /// `detail` (a derived value of a known section).
    pub kind: &'static str,
    /// `null` when the value is new or gone.
    pub from: Value,
    pub to: Value,
    /// What applying it does: the classes of the impacts that carry it.
    pub classes: Vec<Class>,
}

/// A changed argument or value and its old and new text.
#[derive(Debug, Clone, Serialize)]
pub struct Argument {
    pub name: String,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// What applying one part of the change does.
#[derive(Debug, Clone, Serialize)]
pub struct Impact {
    pub class: Class,
    /// `terraform`, `helm` or `file`.
    pub kind: &'static str,
    pub file: String,
    /// `TYPE.NAME` (Terraform), the release (Helm) or the files' folder.
    pub target: String,
    pub arguments: Vec<Argument>,
    /// What applying does, in words.
    pub what: String,
    pub when: When,
    /// Applying fails: why.
    pub refused: Option<String>,
    /// What to do: about a refusal, or before applying.
    pub action: Option<String>,
    /// Where the rule comes from (`catalog/impact.yaml`).
    pub source: Option<String>,
    // Matching impacts to plan changes: the Terraform type and name, the chart.
    #[serde(skip)]
    pub resource_type: Option<String>,
    #[serde(skip)]
    pub resource_name: Option<String>,
    #[serde(skip)]
    pub chart: Option<String>,
}

/// Something a later step refuses: `render` (a downgrade), `terraform
/// apply` (deletion protection, a shrink), `helm upgrade`.
#[derive(Debug, Clone, Serialize)]
pub struct Refusal {
    pub code: &'static str,
    pub by: String,
    pub message: String,
    pub help: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FileCounts {
    pub added: usize,
    pub changed: usize,
    pub deleted: usize,
}

/// The state the summary starts from.
#[derive(Debug, Clone, Serialize)]
pub struct From {
    /// `recorded`, `absent` (a new directory or an older tree) or `unreadable`.
    pub plan: &'static str,
    /// Why the domain changes are not shown (`absent`, `unreadable`).
    pub reason: Option<String>,
    pub chart_version: Option<String>,
    pub tier: Option<String>,
}

/// The whole summary; its JSON form is `diff --format json` (README).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub format_version: u32,
    pub from: From,
    /// Domain rules first, in their order, then every other changed value.
    pub changes: Vec<Change>,
    /// Changed values left out of `changes` (past [`MAX_CHANGES`]).
    pub changes_not_shown: usize,
    pub impacts: Vec<Impact>,
    pub refusals: Vec<Refusal>,
    /// The most severe class of all impacts; `null` without any.
    pub most_severe: Option<Class>,
    pub files: FileCounts,
}

/// At most this many changed values are kept (a hostile record may differ
/// everywhere).
pub const MAX_CHANGES: usize = 500;

/// The summary of going from `recorded` (and the old files) to `plan` (and
/// the new files).
pub fn summarize(recorded: &Recorded, plan: &Plan, files: &[FileDiff<'_>]) -> Summary {
    let rules = ImpactRules::embedded();
    let mut counts = FileCounts::default();
    for f in files.iter().filter(|f| !f.path.starts_with(".coder-gen/")) {
        match (f.old.is_some() || f.old_unread, f.new.is_some()) {
            (false, true) => counts.added += 1,
            (true, true) => counts.changed += 1,
            (true, false) => counts.deleted += 1,
            (false, false) => {}
        }
    }
    let mut impacts = terraform::impacts(rules, files);
    impacts.extend(helm::impacts(rules, files));
    impacts.extend(other_files(rules, files));
    impacts.sort_by(|a, b| b.class.cmp(&a.class).then_with(|| a.file.cmp(&b.file)).then_with(|| a.target.cmp(&b.target)));

    let new_plan = serde_json::to_value(plan).unwrap_or(Value::Null);
    let (from, mut changes, not_shown) = match recorded {
        Recorded::Plan(old) => {
            let (changes, not_shown) = plan_diff::changes(old, &new_plan);
            let s = |p: &str| old.pointer(p).and_then(Value::as_str).map(str::to_string);
            (From { plan: "recorded", reason: None, chart_version: s("/chart/version"), tier: s("/tier") }, changes, not_shown)
        }
        Recorded::Absent => {
            let new_tree = files.iter().all(|f| f.old.is_none() && !f.old_unread);
            let reason = if new_tree {
                "a new tree: everything is added".to_string()
            } else {
                "the tree records no plan (.coder-gen/plan.json): it was rendered by an older coder-gen; the next render records it"
                    .to_string()
            };
            (From { plan: "absent", reason: Some(reason), chart_version: None, tier: None }, Vec::new(), 0)
        }
        Recorded::Unreadable(why) => (
            From {
                plan: "unreadable",
                reason: Some(format!("the tree's .coder-gen/plan.json cannot be read: {why}; the next render rewrites it")),
                chart_version: None,
                tier: None,
            },
            Vec::new(),
            0,
        ),
    };
    plan_diff::link(&mut changes, &impacts);

    let mut refusals = Vec::new();
    if let Some(d) = chart_downgrade(recorded, plan) {
        refusals.push(downgrade_refusal(&d));
    }
    for i in &impacts {
        if let Some(why) = &i.refused {
            let by = match i.kind {
                "terraform" => "terraform apply",
                "helm" => "helm upgrade",
                _ => "apply",
            };
            let code = match i.class {
                Class::DestroysData => "destroys-data",
                Class::Irreversible => "cannot-shrink",
                _ => "refused",
            };
            let help = i.action.clone().unwrap_or_default();
            refusals.push(Refusal { code, by: by.into(), message: format!("{} ({}): {why}", i.target, i.file), help });
        }
    }
    let most_severe = impacts.iter().map(|i| i.class).max();
    Summary { format_version: FORMAT_VERSION, from, changes, changes_not_shown: not_shown, impacts, refusals, most_severe, files: counts }
}

/// The refusal `render` applies, as the summary shows it.
pub fn downgrade_refusal(d: &Downgrade) -> Refusal {
    Refusal { code: "chart-downgrade", by: "coder-gen render".into(), message: downgrade_message(d), help: downgrade_help() }
}

/// The words of the refusal, shared by `render`'s error and the summary.
pub fn downgrade_message(d: &Downgrade) -> String {
    format!(
        "coder.chart_version {} is lower than {}, the version the tree was rendered for: Coder cannot downgrade without restoring its database",
        quote(&d.wanted),
        quote(&d.recorded)
    )
}

pub fn downgrade_help() -> String {
    "Coder has no rollback: the newer coderd already migrated the database one way. Either keep coder.chart_version at the recorded version or newer, or restore the database from a backup taken before the upgrade (the tree's README, \"Upgrade Coder\"), then run `coder-gen render` with --restored-database".into()
}

/// Every other changed file: one impact per rule (kustomize, entry, gitops,
/// verify), listing the files; documentation is left out.
fn other_files(rules: &ImpactRules, files: &[FileDiff<'_>]) -> Vec<Impact> {
    let mut by_rule: std::collections::BTreeMap<&str, (&str, Vec<Argument>)> = std::collections::BTreeMap::new();
    let mut unmatched = Vec::new();
    for f in files {
        let p = f.path;
        if p.starts_with(".coder-gen/") || p.ends_with(".tf") || rules.helm_for(p).is_some() || is_documentation(p) {
            continue;
        }
        let how = match (f.old.is_some() || f.old_unread, f.new.is_some()) {
            (false, _) => "added",
            (true, true) => "changed",
            (true, false) => "removed",
        };
        let arg = Argument { name: p.to_string(), from: None, to: Some(how.to_string()) };
        match rules.file_for(p) {
            Some(r) => by_rule.entry(r.prefix.as_str()).or_insert((r.what.as_str(), Vec::new())).1.push(arg),
            None => unmatched.push(arg),
        }
    }
    let mut out: Vec<Impact> = by_rule
        .into_iter()
        .map(|(prefix, (what, arguments))| Impact {
            class: Class::InPlace,
            kind: "file",
            file: prefix.to_string(),
            target: prefix.to_string(),
            arguments,
            what: what.to_string(),
            when: When::Apply,
            refused: None,
            action: None,
            source: Some("catalog/impact.yaml".into()),
            resource_type: None,
            resource_name: None,
            chart: None,
        })
        .collect();
    if !unmatched.is_empty() {
        out.push(Impact {
            class: Class::Unknown,
            kind: "file",
            file: "(other files)".into(),
            target: "(other files)".into(),
            arguments: unmatched,
            what: "files coder-gen has no rule for in catalog/impact.yaml: read them in the diff".into(),
            when: When::Apply,
            refused: None,
            action: None,
            source: None,
            resource_type: None,
            resource_name: None,
            chart: None,
        });
    }
    out
}

fn is_documentation(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(name, "README.md" | "SIZING.md" | ".gitignore")
}

#[cfg(test)]
mod tests;
