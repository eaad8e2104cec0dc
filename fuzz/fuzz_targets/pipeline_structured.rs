//! Structure-aware: `arbitrary` picks a spec field by field from valid-ish
//! values (users 0..=5000, every cloud, 0..40 namespaces with edge-case names,
//! machine types from the catalog plus junk, versions, every optional
//! section), so most inputs get past the parser and reach plan and render.
#![no_main]

use arbitrary::{Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

const CLOUDS: &[&str] = &["aws", "gcp", "azure", "oracle", "AWS", ""];
const REGIONS: &[&str] = &["us-east-1", "us-central1", "eastus", "eu-west-2", "", "us east", "x/y"];
const NAMES: &[&str] = &[
    "acme", "a", "a-b", "a1", "x0", "-a", "a-", "A", "Acme", "1abc", "a_b", "a.b", "a/b", "..", ".", "", " ", "é", "\u{0430}cme",
    "coder", "default", "kube-system", "kube-", "coder-observability", "coder-workspaces", "coder-provisioners",
    "aaaaaaaaaaaaaaaaaaaa", "aaaaaaaaaaaaaaaaaaaaa",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "a\nb", "a: b", "#x", "'q'", "\"q\"", "*a", "&a", "!!str",
];
const URLS: &[&str] = &[
    "https://coder.acme.com", "https://coder.acme.com/", "https://coder.acme.com:8443", "https://10.0.0.1", "http://coder.acme.com",
    "https://coder.acme.com/path", "https://", "https://*.coder.acme.com", "https://*.*.acme.com", "https://coder.*.com", "ftp://x",
    "https://user@x.com", "https://x.com?q", "https://ACME.com", "https://é.com", "",
];
const MACHINES: &[&str] = &[
    "t3.large", "t3.xlarge", "t3.2xlarge", "m5.large", "m5.xlarge", "m5.2xlarge", "m5.4xlarge", "c5.2xlarge", "db.t3.large",
    "db.t3.xlarge", "db.t3.2xlarge", "db.m5.large", "db.m5.xlarge", "db.m5.2xlarge", "db.m6i.large", "db.m6i.xlarge",
    "db.m6i.2xlarge", "n2-standard-4", "n2-standard-8", "c2d-standard-8", "db-custom-2-7680", "db-custom-4-15360",
    "db-custom-8-30720", "db-custom-16-61440", "Standard_D2s_v3", "Standard_D4s_v3", "Standard_D8s_v3", "Standard_D16s_v3",
    "Standard_D2s_v5", "Standard_D4s_v5", "Standard_D8s_v5", "GP_Standard_D4s_v3", "m5.banana", "", "t3",
];
const VERSIONS: &[&str] = &["1.30", "1.33", "1.37", "1.29", "1.38", "1.3", "1.033", "2.0", "1.33.1", "latest", ""];
const CHARTS: &[&str] = &["2.33.6", "2.0.0", "0.0.0", "2.33", "v2.33.6", "999999.0.0", "1234567.0.0", "latest"];
const TIERS: &[&str] = &["auto", "1k", "2k", "3k", "4k", "AUTO", ""];
const BOOLS: &[&str] = &["auto", "true", "false", "yes", "no", "on", "1", "~"];
const TAGS: &[&str] = &["cloud", "region", "a.b_c-d", "", "a b", "é", "x/y"];

fn pick<'a>(u: &mut Unstructured, list: &[&'a str]) -> arbitrary::Result<&'a str> {
    Ok(list[u.choose_index(list.len())?])
}

/// A YAML scalar: plain or double-quoted (JSON escaping is valid YAML).
fn scalar(u: &mut Unstructured, s: &str) -> arbitrary::Result<String> {
    Ok(if u.arbitrary::<bool>()? { s.to_string() } else { serde_json::to_string(s).unwrap() })
}

fn namespace(u: &mut Unstructured, i: usize) -> arbitrary::Result<String> {
    // Mostly distinct valid names, sometimes an edge case or a repeat.
    let s = match u.int_in_range(0..=3)? {
        0 => pick(u, NAMES)?.to_string(),
        1 => format!("ns-{}", u.int_in_range(0..=3)?),
        _ => format!("ns-{i}"),
    };
    scalar(u, &s)
}

struct Spec(String);

impl<'a> Arbitrary<'a> for Spec {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let mut lines: Vec<String> = Vec::new();
        // Required keys are each left out now and then.
        if u.ratio(15, 16)? {
            let name = pick(u, NAMES)?;
            lines.push(format!("name: {}", scalar(u, name)?));
        }
        if u.ratio(15, 16)? {
            let users = if u.ratio(1, 16)? { u.arbitrary::<i64>()?.to_string() } else { u.int_in_range(0..=5000u32)?.to_string() };
            lines.push(format!("users: {users}"));
        }
        if u.ratio(15, 16)? {
            lines.push(format!("cloud: {}", pick(u, CLOUDS)?));
        }
        if u.ratio(15, 16)? {
            let r = pick(u, REGIONS)?;
            lines.push(format!("region: {}", scalar(u, r)?));
        }
        if u.ratio(15, 16)? {
            let url = pick(u, URLS)?;
            lines.push(format!("access_url: {}", scalar(u, url)?));
        }
        if u.arbitrary()? {
            let url = pick(u, URLS)?;
            lines.push(format!("wildcard_access_url: {}", scalar(u, url)?));
        }
        if u.arbitrary()? {
            lines.push(format!("tier: {}", pick(u, TIERS)?));
        }
        if u.arbitrary()? {
            let start = lines.len();
            lines.push("kubernetes:".into());
            if u.arbitrary()? {
                let n = pick(u, NAMES)?;
                lines.push(format!("  cluster_name: {}", scalar(u, n)?));
            }
            if u.arbitrary()? {
                let v = pick(u, VERSIONS)?;
                lines.push(format!("  version: {}", scalar(u, v)?));
            }
            if lines.len() == start + 1 {
                lines[start] = "kubernetes: {}".into();
            }
        }
        if u.arbitrary()? {
            let c = pick(u, CHARTS)?;
            lines.push(format!("coder:\n  chart_version: {}", scalar(u, c)?));
        }
        if u.arbitrary()? {
            lines.push("database:".into());
            lines.push(format!("  postgres_version: {}", u.int_in_range(13..=18u32)?));
            lines.push(format!("  ha: {}", pick(u, BOOLS)?));
            let rr = if u.arbitrary()? { "auto".to_string() } else { u.int_in_range(0..=7u32)?.to_string() };
            lines.push(format!("  read_replicas: {rr}"));
            if u.arbitrary()? {
                lines.push(format!("  builds_per_day: {}", u.int_in_range(0..=5000u32)?));
            }
        }
        if u.arbitrary()? {
            let n = u.int_in_range(0..=40usize)?;
            lines.push(if n == 0 { "provisioners: []".into() } else { "provisioners:".into() });
            for i in 0..n {
                lines.push(format!("  - namespace: {}", namespace(u, i)?));
                if u.arbitrary()? {
                    let (k, v) = (pick(u, TAGS)?, pick(u, TAGS)?);
                    lines.push(format!("    tags: {{ {}: {} }}", scalar(u, k)?, scalar(u, v)?));
                }
            }
        }
        if u.arbitrary()? {
            let n = u.int_in_range(0..=40usize)?;
            lines.push(if n == 0 { "workspaces: []".into() } else { "workspaces:".into() });
            for i in 0..n {
                lines.push(format!("  - namespace: {}", namespace(u, i + 100)?));
            }
        }
        if u.arbitrary()? {
            lines.push(format!("observability: {}", pick(u, BOOLS)?));
        }
        if u.arbitrary()? {
            let start = lines.len();
            lines.push("machine_types:".into());
            for role in ["coderd", "provisioner", "workspace", "database"] {
                if u.arbitrary()? {
                    let m = pick(u, MACHINES)?;
                    lines.push(format!("  {role}: {}", scalar(u, m)?));
                }
            }
            if lines.len() == start + 1 {
                lines.pop();
            }
        }
        // Key order does not matter to a valid spec: shuffle top-level blocks now and then.
        if u.ratio(1, 8)? && lines.len() > 1 {
            let i = u.choose_index(lines.len())?;
            if !lines[i].starts_with(' ') && !lines[i].ends_with(':') {
                let l = lines.remove(i);
                lines.insert(0, l);
            }
        }
        Ok(Spec(lines.join("\n") + "\n"))
    }
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fuzz_target!(|spec: Spec| {
    coder_gen_fuzz::check_pipeline("spec.yaml", &spec.0);
});
