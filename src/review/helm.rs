//! What applying a Helm values change does: the chart version from the
//! file's own `helm upgrade … --version X` line, and every changed value,
//! classified with the release's rules in `catalog/impact.yaml` (values that
//! change no pod template, values that size a StatefulSet's volume, a chart
//! whose new version migrates the database).

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::terraform::{Growth, growth};
use super::{Argument, Class, FileDiff, Impact, When, semver};
use crate::catalog::impact::{HelmRules, ImpactRules, covers, listed};
use crate::yaml;

/// The `--version X` of the file's leading comment (its helm command).
pub fn chart_version(text: &str) -> Option<String> {
    text.lines().take_while(|l| l.starts_with('#')).find_map(|l| {
        let mut words = l.split_whitespace();
        words.find(|w| *w == "--version")?;
        words.next().map(str::to_string)
    })
}

/// Scalars and lists are one value each; maps are walked.
fn flatten(v: &Value, path: &str, out: &mut BTreeMap<String, String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                flatten(v, &p, out);
            }
        }
        other => {
            out.insert(path.to_string(), other.to_string());
        }
    }
}

fn values(text: &str) -> Result<BTreeMap<String, String>, String> {
    let v = yaml::parse(text).map_err(|e| e.to_string().lines().next().unwrap_or("").to_string())?;
    let mut out = BTreeMap::new();
    flatten(&v, "", &mut out);
    Ok(out)
}

/// The release a values file installs: the rule's release name or its
/// folder under `helm/`, and the site whose cluster runs it.
fn release(path: &str, r: &HelmRules) -> String {
    let dir = path.rsplit_once('/').map_or(path, |(d, _)| d);
    let name = r.release.clone().unwrap_or_else(|| dir.split_once("helm/").map_or(dir, |(_, r)| r).to_string());
    match path.strip_prefix("sites/").and_then(|rest| rest.split_once('/')) {
        Some((site, _)) => format!("{name} in site {site}"),
        None => name,
    }
}

fn base(class: Class, file: &str, r: &HelmRules, args: Vec<Argument>, what: String) -> Impact {
    Impact {
        class,
        kind: "helm",
        file: file.to_string(),
        target: format!("release {}", release(file, r)),
        arguments: args,
        what,
        when: When::Apply,
        refused: None,
        action: None,
        source: Some(r.source.clone()),
        resource_type: None,
        resource_name: None,
        chart: Some(r.chart.clone()),
    }
}

pub fn impacts(rules: &ImpactRules, files: &[FileDiff<'_>]) -> Vec<Impact> {
    let mut out = Vec::new();
    for f in files {
        let Some(r) = rules.helm_for(f.path) else { continue };
        let text = |b: Option<&[u8]>| b.map(|b| String::from_utf8_lossy(b).into_owned());
        let (old, new) = (text(f.old), text(f.new));
        match (old, new) {
            _ if f.old_unread => {
                out.push(base(Class::Unknown, f.path, r, Vec::new(), "the old values file is too large to compare: read the diff".into()));
            }
            (None, Some(_)) => {
                out.push(base(Class::InPlace, f.path, r, Vec::new(), "a new release: helm upgrade --install creates it".into()))
            }
            (Some(_), None) => out.push(base(
                Class::InPlace,
                f.path,
                r,
                Vec::new(),
                "no longer in the tree: Helm keeps the release until you run helm uninstall (its volumes stay too)".into(),
            )),
            (Some(old), Some(new)) => out.extend(changed(f.path, r, &old, &new)),
            (None, None) => {}
        }
    }
    out
}

fn changed(file: &str, r: &HelmRules, old: &str, new: &str) -> Vec<Impact> {
    let mut out = Vec::new();
    let (a, b) = match (values(old), values(new)) {
        (Ok(a), Ok(b)) => (a, b),
        (Err(e), _) | (_, Err(e)) => {
            return vec![base(Class::Unknown, file, r, Vec::new(), format!("a values file does not parse as YAML ({e}): read the diff"))];
        }
    };
    let (va, vb) = (chart_version(old), chart_version(new));
    if va != vb {
        let arg = Argument { name: "version".into(), from: va.clone(), to: vb.clone() };
        let order = match (va.as_deref().and_then(semver::parse), vb.as_deref().and_then(semver::parse)) {
            (Some(x), Some(y)) => Some(y.cmp(&x)),
            _ => None,
        };
        match order {
            Some(std::cmp::Ordering::Greater) if r.migrates_database => {
                let mut i = base(
                    Class::Irreversible,
                    file,
                    r,
                    vec![arg.clone()],
                    "a Coder upgrade: the new coderd migrates the database one way when it starts; there is no rollback without restoring a backup".into(),
                );
                i.action = Some(
                    "follow the tree's README, \"Upgrade Coder\": read the release notes, take a database backup, scale coderd down, upgrade coderd, then provisioners"
                        .into(),
                );
                out.push(i);
            }
            Some(std::cmp::Ordering::Less) if r.migrates_database => {
                let mut i = base(
                    Class::Irreversible,
                    file,
                    r,
                    vec![arg.clone()],
                    "a Coder downgrade: the older coderd cannot read the migrated database".into(),
                );
                i.refused = Some("coder-gen render refuses a lower chart version without --restored-database".into());
                i.action = Some("restore the database from a backup taken before the upgrade, then render with --restored-database".into());
                out.push(i);
            }
            _ => {}
        }
        out.push(base(Class::Rolling, file, r, vec![arg], "a new chart version: helm upgrade replaces the release's pods".into()));
    }
    let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
    let changed: Vec<&String> = keys.into_iter().filter(|k| a.get(*k) != b.get(*k)).collect();
    let arg = |k: &String| Argument { name: k.clone(), from: a.get(k).cloned(), to: b.get(k).cloned() };
    let (mut in_place, mut rolling) = (Vec::new(), Vec::new());
    for k in changed {
        if listed(&r.grows_only, k) {
            let note = r.notes.iter().find(|(n, _)| covers(n, k)).map(|(_, v)| v.clone());
            let (what, refused) = match growth(a.get(k).map(String::as_str), b.get(k).map(String::as_str)) {
                Growth::Shrinks => (format!("{k} shrinks: a volume never shrinks"), Some(format!("{k} cannot change: helm upgrade fails"))),
                _ => (
                    format!("{k} changes: the volume can grow but never shrink"),
                    Some(format!("{k} cannot change in place: helm upgrade fails")),
                ),
            };
            let mut i = base(Class::Irreversible, file, r, vec![arg(k)], what);
            i.refused = refused;
            i.action = note;
            out.push(i);
        } else if listed(&r.in_place, k) {
            in_place.push(arg(k));
        } else {
            rolling.push(arg(k));
        }
    }
    if !rolling.is_empty() {
        out.push(base(
            Class::Rolling,
            file,
            r,
            rolling,
            "helm upgrade changes the pod template: the release's pods restart one at a time".into(),
        ));
    }
    if !in_place.is_empty() {
        out.push(base(Class::InPlace, file, r, in_place, "helm upgrade changes replicas or the Service in place: no pod restarts".into()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_version_from_the_helm_command() {
        let t = "# DO NOT EDIT\n#   helm upgrade --install coder coder-v2/coder \\\n#     --namespace coder --version 2.33.6 -f x\ncoder: {}\n# --version 9.9.9\n";
        assert_eq!(chart_version(t).as_deref(), Some("2.33.6"));
        assert_eq!(chart_version("coder: {}\n"), None);
    }

    #[test]
    fn a_release_is_its_folder_or_the_rules_name_with_its_site() {
        let rules = ImpactRules::embedded();
        let name = |p: &str| release(p, rules.helm_for(p).unwrap());
        assert_eq!(name("helm/coder/values.yaml"), "coder");
        assert_eq!(name("helm/coder-provisioner/prov-a/values.yaml"), "coder-provisioner/prov-a");
        // A site's proxy: the coder chart under its own rule (no database
        // migration), its real release name, and where it runs.
        let proxy = rules.helm_for("sites/eu/helm/coder/values.yaml").unwrap();
        assert!(!proxy.migrates_database && proxy.release.as_deref() == Some("coder-proxy"));
        assert_eq!(name("sites/eu/helm/coder/values.yaml"), "coder-proxy in site eu");
        assert_eq!(name("sites/eu/helm/coder-provisioner/prov-eu/values.yaml"), "coder-provisioner/prov-eu in site eu");
        assert!(rules.helm_for("helm/coder/values.yaml").unwrap().migrates_database);
    }
}
