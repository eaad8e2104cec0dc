//! The restricted-network trees (`examples/airgap-*.yaml`, `network:`):
//! nothing in them names the public internet, and every tree's images.txt
//! lists every image its own manifests and README commands pull. (That the
//! charts' images match too needs the real charts: `.ci/check-images.sh`.)

use std::collections::BTreeSet;

use crate::util::{read_tree, repo_root};

/// Public registries, chart repositories, ACME servers and Grafana's sites:
/// a restricted tree may name none of them anywhere but in its mirror lists.
const PUBLIC_HOSTS: &[&str] = &[
    "docker.io",
    "ghcr.io",
    "quay.io",
    "registry.k8s.io",
    "k8s.gcr.io",
    "gcr.io/",
    "mcr.microsoft.com",
    "public.ecr.aws",
    "helm.coder.com",
    "github.io",
    "github.com",
    "registry.terraform.io",
    "releases.hashicorp.com",
    "letsencrypt",
    "acme-v02",
    "acme-staging",
    "grafana.com",
    "grafana.net",
    "raintank",
];

/// The lists whose job is to name each public source next to its mirror.
const MIRROR_LISTS: &[&str] = &["images.txt", "charts.txt"];

/// The tree's record of its own plan (`.coder-gen/`) names every image's
/// public source on purpose; nothing pulls or installs from it.
const RECORDS: &str = ".coder-gen/";

/// Documentation an operator reads on a workstation (the release notes the
/// "Upgrade Coder" runbook links): a link to read, not a source the cluster
/// or a README command fetches from.
const DOCUMENTATION: &[&str] = &["https://github.com/coder/coder/releases/"];

const RESTRICTED: &[&str] = &["airgap-gcp", "airgap-aws", "airgap-azure"];

/// `(file, line number, host)` of every public host in the tree's files,
/// the mirror lists left out.
fn public_hosts_in(tree: &str) -> Vec<(String, usize, &'static str)> {
    let files = read_tree(&repo_root().join("golden").join(tree));
    assert!(!files.is_empty(), "golden/{tree} is empty");
    let mut found = Vec::new();
    for (path, bytes) in &files {
        if MIRROR_LISTS.contains(&path.as_str()) || path.starts_with(RECORDS) {
            continue;
        }
        let text = String::from_utf8_lossy(bytes).to_ascii_lowercase();
        for (i, line) in text.lines().enumerate() {
            let mut line = line.to_string();
            for doc in DOCUMENTATION {
                line = line.replace(doc, "");
            }
            for host in PUBLIC_HOSTS {
                if line.contains(host) {
                    found.push((path.clone(), i + 1, *host));
                }
            }
        }
    }
    found
}

#[test]
fn restricted_trees_name_no_public_registry_chart_repository_acme_server_or_grafana_site() {
    for tree in RESTRICTED {
        let found = public_hosts_in(tree);
        assert!(found.is_empty(), "golden/{tree} names the public internet: {found:?}");
    }
}

#[test]
fn the_public_host_scan_finds_them_in_an_open_tree() {
    // The same scan on a tree without `network:` finds the public chart
    // repository in its README and the ACME issuer: the scan can fail.
    let hosts: BTreeSet<&str> = public_hosts_in("1k-aws-observability").into_iter().map(|(_, _, h)| h).collect();
    for h in ["helm.coder.com", "github.io", "letsencrypt", "ghcr.io"] {
        assert!(hosts.contains(h), "the scan missed {h} in golden/1k-aws-observability: {hosts:?}");
    }
}

/// Docker's reading of an image name: registry host written out, docker.io's
/// `library/` explicit.
fn normalize(image: &str) -> String {
    let (name, tag) = match image.rsplit_once(':').filter(|(_, t)| !t.contains('/')) {
        Some((n, t)) => (n, Some(t)),
        None => (image, None),
    };
    let first = name.split('/').next().unwrap_or("");
    let mut full = if name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost") {
        name.to_string()
    } else {
        format!("docker.io/{name}")
    };
    if full.starts_with("docker.io/") && full.matches('/').count() == 1 {
        full = full.replacen("docker.io/", "docker.io/library/", 1);
    }
    match tag {
        Some(t) => format!("{full}:{t}"),
        None => full,
    }
}

#[test]
fn images_txt_lists_every_image_the_trees_own_manifests_and_commands_pull() {
    let golden = repo_root().join("golden");
    let mut trees = 0;
    for entry in std::fs::read_dir(&golden).unwrap() {
        let dir = entry.unwrap().path();
        let files = read_tree(&dir);
        let list = std::str::from_utf8(&files["images.txt"]).unwrap();
        let rows: Vec<Vec<&str>> = list.lines().filter(|l| !l.starts_with('#')).map(|l| l.split(' ').collect()).collect();
        let mirrored = rows.iter().all(|r| r.len() == 2);
        assert!(mirrored || rows.iter().all(|r| r.len() == 1), "{}: mixed images.txt", dir.display());
        let listed: BTreeSet<String> = rows.iter().map(|r| normalize(r[r.len() - 1])).collect();
        // Images written by coder-gen itself: `image:` in its manifests and
        // `--image=` in the README.
        let mut own = BTreeSet::new();
        for (path, bytes) in &files {
            let text = std::str::from_utf8(bytes).unwrap();
            if path.ends_with(".yaml") && !path.starts_with("helm/") {
                own.extend(text.lines().filter_map(|l| l.trim().strip_prefix("image: ")).map(normalize));
            }
            if path == "README.md" {
                own.extend(text.split("--image=").skip(1).filter_map(|s| s.split_whitespace().next()).map(normalize));
            }
        }
        assert!(!own.is_empty(), "{}: no image found in its own files", dir.display());
        let missing: Vec<_> = own.difference(&listed).collect();
        assert!(missing.is_empty(), "{}: images.txt misses {missing:?}", dir.display());
        if mirrored {
            let prefix = rows[0][1].split('/').next().unwrap();
            for r in &rows {
                assert!(r[1].starts_with(prefix), "{}: {} is not in the mirror", dir.display(), r[1]);
                let tag = r[1].rsplit_once(':').map(|(_, t)| t).filter(|t| !t.contains('/'));
                assert!(tag.is_some_and(|t| t != "latest"), "{}: {} has no explicit tag", dir.display(), r[1]);
            }
        }
        trees += 1;
    }
    assert!(trees >= 27, "only {trees} golden trees");
}

#[test]
fn an_air_gapped_tree_turns_off_what_calls_home() {
    let files = read_tree(&repo_root().join("golden/airgap-aws"));
    let text = |p: &str| std::str::from_utf8(&files[p]).unwrap().to_string();
    let coder = text("helm/coder/values.yaml");
    for (name, value) in
        [("CODER_TELEMETRY_ENABLE", "\"false\""), ("CODER_UPDATE_CHECK", "\"false\""), ("CODER_DERP_SERVER_STUN_ADDRESSES", "disable")]
    {
        assert!(coder.contains(&format!("- name: {name}\n      value: {value}\n")), "coderd lacks {name}={value}");
    }
    let obs = text("helm/coder-observability/values.yaml");
    for want in ["dashboards: null", "check_for_updates: false", "reporting_enabled: false", "test: null"] {
        assert!(obs.contains(want), "observability values lack {want}");
    }
    let provisioner = text("helm/coder-provisioner/coder-provisioners/values.yaml");
    assert!(provisioner.contains("disable_checkpoint = true") && provisioner.contains("network_mirror {"));
    assert!(!provisioner.contains("direct {"), "Terraform must not fall back to the public registry");
    assert!(provisioner.contains("- name: TF_CLI_CONFIG_FILE\n      value: /etc/coder-terraform/cli.tfrc"));
    assert!(provisioner.contains("- name: NO_PROXY"));
}
