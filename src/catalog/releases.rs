//! Coder's release calendar (`catalog/releases.yaml`): which release lines
//! are supported and their latest patch, as of the snapshot's date, so the
//! plan can say whether the pinned chart is still supported. Data only.

use std::sync::OnceLock;

use serde::Deserialize;

const RELEASES_YAML: &str = include_str!("../../catalog/releases.yaml");

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    pub source: String,
    /// The month the snapshot was taken (`YYYY-MM`).
    pub as_of: String,
    pub calendar_url: String,
    /// Release notes of a version: `{version}` is replaced by `2.33.6`.
    pub release_notes: String,
    /// Newest first.
    pub lines: Vec<Line>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Line {
    /// `major.minor`.
    pub minor: String,
    /// `mainline`, `stable` or `security`.
    pub status: String,
    /// An Extended Support Release line.
    #[serde(default)]
    pub esr: bool,
    /// The latest patch release of the line, where the snapshot names it.
    #[serde(default)]
    pub latest: Option<String>,
}

pub fn calendar() -> &'static Calendar {
    static CALENDAR: OnceLock<Calendar> = OnceLock::new();
    CALENDAR.get_or_init(|| super::from_yaml(RELEASES_YAML).expect("catalog/releases.yaml is valid (tested)"))
}

/// `major.minor` of a `major.minor.patch` version.
pub fn minor_of(version: &str) -> &str {
    version.rsplit_once('.').map_or(version, |(m, _)| m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_loads_newest_first_with_known_statuses() {
        let c = calendar();
        assert!(!c.source.is_empty() && c.release_notes.contains("{version}"));
        let key = |m: &str| m.split('.').map(|p| p.parse::<u32>().unwrap()).collect::<Vec<_>>();
        assert!(c.lines.windows(2).all(|w| key(&w[0].minor) > key(&w[1].minor)), "newest first");
        assert!(c.lines.iter().all(|l| ["mainline", "stable", "security"].contains(&l.status.as_str())));
        assert!(c.lines.iter().all(|l| l.latest.as_deref().is_none_or(|v| minor_of(v) == l.minor)));
        assert_eq!(minor_of("2.33.6"), "2.33");
    }
}
