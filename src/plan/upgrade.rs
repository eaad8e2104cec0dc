//! Upgrading Coder (the README's "Upgrade Coder"): one version for every
//! Coder release of the tree (`coder.chart_version`: coderd, each
//! provisioner group, the GitOps pins), whether the pinned line is still
//! supported (`catalog/releases.yaml`), whether coderd is scaled down before
//! `helm upgrade`, and the order the releases move in. Coder migrates its
//! database one way and has no rollback, so the README's runbook takes a
//! backup first and says how to restore (multi-site-facts 0 and 3).

use serde::Serialize;

use super::{CODER_CHART, Ctx, Findings, Note, Reasons, WarningCode, coderd::Coderd, provisioners::Provisioners, sites::Site};
use crate::catalog::releases::{calendar, minor_of};

#[derive(Debug, Clone, Serialize)]
pub struct Upgrade {
    /// The one version of every Coder release in the tree.
    pub chart_version: String,
    /// This version's release notes; `release_notes_pattern` gives any
    /// other's (`{version}` replaced by e.g. `2.34.5`).
    pub release_notes: String,
    pub release_notes_pattern: String,
    /// The pinned line in the release calendar: `mainline`, `stable`,
    /// `security` (CVE fixes only), `out-of-support`, or `unknown` (newer
    /// than the calendar coder-gen carries).
    pub support: String,
    /// The latest patch of the pinned line, where the calendar names it.
    pub latest_patch: Option<String>,
    /// The month of the calendar snapshot, and where the live one is.
    pub calendar_as_of: String,
    pub calendar_url: String,
    /// Replicas coderd is scaled to before `helm upgrade` (`null`: a single
    /// coderd, replaced by the upgrade itself).
    pub scale_coderd_to: Option<u32>,
    /// Upgraded after coderd, in this order (a provisioner newer than coderd
    /// is refused): the primary's provisioner groups, then each site's
    /// provisioner groups and its workspace proxy (in the site's cluster).
    pub after_coderd: Vec<UpgradeRelease>,
    pub reasons: Reasons,
}

#[derive(Debug, Clone, Serialize)]
pub struct UpgradeRelease {
    /// `provisioner` (a provisioner group's release) or `proxy` (a site's
    /// workspace proxy: the coder chart in proxy mode).
    pub kind: &'static str,
    pub release: String,
    pub chart: String,
    pub namespace: String,
    /// The site whose cluster runs it (`null`: the primary's).
    pub site: Option<String>,
}

pub(crate) fn plan(
    ctx: &Ctx,
    coderd: &Coderd,
    provisioners: &[Provisioners],
    sites: &[Site],
    provisioner_chart: &str,
    found: &mut Findings,
) -> Upgrade {
    let version = ctx.spec.coder.chart_version.clone();
    let cal = calendar();
    let minor = minor_of(&version);
    let key = |m: &str| m.split('.').map(|p| p.parse::<u64>().unwrap_or(0)).collect::<Vec<_>>();
    let line = cal.lines.iter().find(|l| l.minor == minor);
    let newest = cal.lines.first().map(|l| key(&l.minor));
    let oldest = cal.lines.last().map(|l| l.minor.as_str()).unwrap_or_default();
    let support = match line {
        Some(l) => l.status.clone(),
        None if newest.is_some_and(|n| key(minor) > n) => "unknown".into(),
        None => "out-of-support".into(),
    };
    let latest_patch = line.and_then(|l| l.latest.clone());
    let lines = cal.lines.iter().map(|l| format!("{} {}", l.minor, l.status)).collect::<Vec<_>>().join(", ");
    let source = format!("{} ({})", cal.source, cal.calendar_url);
    match support.as_str() {
        "out-of-support" => found.warn(
            WarningCode::ChartOutOfSupport,
            format!(
                "coder.chart_version {version}: release line {minor} is out of support in Coder's release calendar as of {} ({lines}; {oldest} is the oldest still patched); upgrade to a supported release (README: Upgrade Coder), checking {} first",
                cal.as_of, cal.calendar_url
            ),
        ),
        "security" | "stable" | "mainline" => {
            let behind = latest_patch.as_ref().filter(|l| **l != version);
            if support == "security" || behind.is_some() {
                found.notes.push(Note {
                    topic: "upgrades".into(),
                    text: format!(
                        "coder.chart_version {version}: in Coder's release calendar as of {}, {minor} is {}{}. Coder ships a minor release monthly and supports the three newest; plan the upgrade with the README's \"Upgrade Coder\", and check {} for today's lines.",
                        cal.as_of,
                        match support.as_str() {
                            "security" => "in security support (CVE fixes only, the oldest line still patched)",
                            "stable" => "the stable line",
                            _ => "the mainline",
                        },
                        behind.map_or(String::new(), |l| format!(", and its latest patch is v{l}")),
                        cal.calendar_url
                    ),
                    source: source.clone(),
                });
            }
        }
        _ => {}
    }
    let mut r = Reasons::new();
    r.insert(
        "chart_version",
        "coder.chart_version in the spec: the one version of coderd, every provisioner group and the GitOps pins (`helm upgrade --version`, HelmRelease chart version, Application targetRevision); a provisioner newer than coderd is refused, and proxies must match its major.minor".into(),
    );
    r.insert("support", format!("{minor} in the release calendar as of {} ({lines})", cal.as_of));
    r.insert(
        "release_notes",
        "read them for every version between the running one and the target: breaking changes, required intermediate versions".into(),
    );
    let scale_coderd_to = (coderd.replicas > 1).then_some(0);
    r.insert(
        "scale_coderd_to",
        match scale_coderd_to {
            Some(n) => format!(
                "{} coderd replicas: Coder's upgrade guide scales them down before `helm upgrade` because a rolling update may fail while old replicas hold connections the migrations need locked; {n} (a planned outage) rather than 1, which Coder rules out for deployments that enforce quotas and cross v2.39.0",
                coderd.replicas
            ),
            None => "one coderd: the upgrade replaces it (no old replica stays connected)".into(),
        },
    );
    let group = |g: &Provisioners, site: Option<&str>| UpgradeRelease {
        kind: "provisioner",
        release: g.release.clone(),
        chart: provisioner_chart.into(),
        namespace: g.namespace.clone(),
        site: site.map(str::to_string),
    };
    let mut after_coderd: Vec<UpgradeRelease> = provisioners.iter().map(|g| group(g, None)).collect();
    for site in sites {
        after_coderd.extend(site.provisioners.iter().map(|g| group(g, Some(&site.name))));
        if let Some(x) = &site.proxy {
            after_coderd.push(UpgradeRelease {
                kind: "proxy",
                release: x.release.clone(),
                chart: CODER_CHART.into(),
                namespace: x.namespace.clone(),
                site: Some(site.name.clone()),
            });
        }
    }
    r.insert(
        "after_coderd",
        if sites.is_empty() {
            "coderd first (it runs the database migrations and refuses provisioners whose API is newer than its own), then each provisioner group".into()
        } else {
            "coderd first (it runs the database migrations and refuses provisioners whose API is newer than its own), then the primary's provisioner groups, then each site in its own cluster: its provisioner groups, then its workspace proxy (coderd flags a proxy whose major.minor differs from its own, so the proxies follow coderd in the same window)".into()
        },
    );
    Upgrade {
        release_notes: cal.release_notes.replace("{version}", &version),
        release_notes_pattern: cal.release_notes.clone(),
        chart_version: version,
        support,
        latest_patch,
        calendar_as_of: cal.as_of.clone(),
        calendar_url: cal.calendar_url.clone(),
        scale_coderd_to,
        after_coderd,
        reasons: r,
    }
}
