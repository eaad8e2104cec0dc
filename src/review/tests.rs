//! Unit tests of the summary on in-process renders; the CLI and the
//! rendered-Terraform cross-checks are in tests/integration/review.rs.

use super::*;
use crate::test_support::spec_text;
use crate::{plan_from_str, render::render};

fn plan(users: u32, cloud: &str) -> Plan {
    plan_from_str("spec.yaml", &spec_text(users, cloud)).unwrap()
}

fn record(p: &Plan) -> Recorded {
    Recorded::parse(&serde_json::to_vec(p).unwrap())
}

#[test]
fn a_recorded_plan_parses_and_hostile_ones_are_unreadable() {
    let p = plan(1000, "aws");
    assert!(matches!(record(&p), Recorded::Plan(_)));
    assert_eq!(record(&p).chart_version(), Some(p.chart.version.as_str()));
    for bad in [&b""[..], b"{", b"[]", b"{\"format_version\": 2}", b"{\"format_version\": \"1\"}", b"null", &[b'['; 10_000]] {
        assert!(matches!(Recorded::parse(bad), Recorded::Unreadable(_)), "{:?}", String::from_utf8_lossy(&bad[..bad.len().min(20)]));
    }
}

#[test]
fn a_lower_chart_version_is_a_downgrade() {
    let p = plan(1000, "gcp");
    let mut v = serde_json::to_value(&p).unwrap();
    v["chart"]["version"] = "2.99.0".into();
    let d = chart_downgrade(&Recorded::Plan(v.clone()), &p).unwrap();
    assert_eq!((d.recorded.as_str(), d.wanted.as_str()), ("2.99.0", p.chart.version.as_str()));
    v["chart"]["version"] = "2.9.0".into();
    assert!(chart_downgrade(&Recorded::Plan(v.clone()), &p).is_none(), "2.9.0 < 2.33.6 numerically");
    v["chart"]["version"] = "not-a-version".into();
    assert!(chart_downgrade(&Recorded::Plan(v.clone()), &p).is_none());
    assert!(downgrade_unknown(&Recorded::Plan(v)).unwrap().contains("not a version"));
    assert!(downgrade_unknown(&Recorded::Absent).is_none());
}

/// A changed path, its old and its new bytes.
type Changed = (String, Option<Vec<u8>>, Option<Vec<u8>>);

/// The files that differ between two renders, as output would compare them.
fn diff(old: &crate::tree::Tree, new: &crate::tree::Tree) -> Vec<Changed> {
    let paths: std::collections::BTreeSet<&str> = old.paths().chain(new.paths()).collect();
    paths
        .into_iter()
        .filter_map(|p| {
            let (a, b) = (old.get(p).map(<[u8]>::to_vec), new.get(p).map(<[u8]>::to_vec));
            (a != b).then(|| (p.to_string(), a, b))
        })
        .collect()
}

fn summary(old: &Plan, new: &Plan) -> Summary {
    let (a, b) = (render(old), render(new));
    let d = diff(&a, &b);
    let files: Vec<FileDiff<'_>> =
        d.iter().map(|(p, o, n)| FileDiff { path: p, old: o.as_deref(), new: n.as_deref(), old_unread: false }).collect();
    summarize(&record(old), new, &files)
}

#[test]
fn a_tier_change_on_aws_replaces_node_groups_and_restarts_the_database_at_the_window() {
    let s = summary(&plan(1000, "aws"), &plan(2000, "aws"));
    let change = |path: &str| s.changes.iter().find(|c| c.path == path).unwrap_or_else(|| panic!("{path}: {:#?}", s.changes));
    assert_eq!((change("tier").from.as_str(), change("tier").to.as_str()), (Some("1k"), Some("2k")));
    assert!(change("pools[coderd].machine_type").classes.contains(&Class::NodePoolReplacement));
    assert!(change("database.instance_class").classes.contains(&Class::DatabaseRestart));
    assert!(change("database.storage_gb").classes.contains(&Class::Irreversible));
    let restart = s.impacts.iter().find(|i| i.class == Class::DatabaseRestart && i.target == "aws_db_instance.primary").unwrap();
    assert_eq!(restart.when, When::MaintenanceWindow, "{restart:#?}");
    assert!(s.refusals.is_empty(), "{:#?}", s.refusals);
    assert_eq!(s.most_severe, Some(Class::Irreversible));
    let text = to_text(&s);
    assert!(text.contains("at the next maintenance window") && text.contains("most severe: irreversible"), "{text}");
    let md = to_markdown(&s, "spec.yaml");
    assert!(md.contains("| tier | `1k` | `2k` |") && md.contains("**node-pool replacement**"), "{md}");
    let json: Value = serde_json::from_str(&to_json(&s)).unwrap();
    assert_eq!(json["format_version"], 1);
    assert_eq!(json["most_severe"], "irreversible");
}

#[test]
fn nothing_changes_nothing_is_said() {
    let p = plan(1000, "azure");
    let s = summary(&p, &p);
    assert!(s.changes.is_empty() && s.impacts.is_empty() && s.most_severe.is_none());
    assert_eq!(to_text(&s), "");
    assert!(to_markdown(&s, "x").contains("No changes"));
}

#[test]
fn without_a_record_the_changes_are_unavailable_but_the_impacts_are_not() {
    let (a, b) = (plan(1000, "gcp"), plan(2000, "gcp"));
    let (ta, tb) = (render(&a), render(&b));
    let d = diff(&ta, &tb);
    let files: Vec<FileDiff<'_>> =
        d.iter().map(|(p, o, n)| FileDiff { path: p, old: o.as_deref(), new: n.as_deref(), old_unread: false }).collect();
    let s = summarize(&Recorded::Absent, &b, &files);
    assert!(s.changes.is_empty() && s.from.reason.as_deref().unwrap().contains("older coder-gen"));
    assert!(!s.impacts.is_empty());
    let s = summarize(&Recorded::Unreadable("it is not JSON".into()), &b, &files);
    assert!(to_text(&s).contains("not available: the tree's .coder-gen/plan.json cannot be read: it is not JSON"));
}
