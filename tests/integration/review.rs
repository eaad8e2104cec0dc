//! The review summary of `diff` and `check` (#22), end to end: render a
//! spec, change it (a tier change, a Coder version bump, a storage change, a
//! machine-type change) on each cloud, and read `diff --format json`.
//!
//! The impact classes are checked against the rendered Terraform, not
//! against the summary's own words: this test parses the old tree (on disk)
//! and the new one (rendered in-process) with hcl-edit itself, finds which
//! top-level arguments of which resources changed, and demands both ways
//! that a claimed replacement, restart or one-way change touches an argument
//! the provider data (`catalog/impact.yaml`, the same lists as
//! tier_change.rs) says does that, and that every such changed argument is
//! claimed.

use std::collections::{BTreeMap, BTreeSet};

use coder_gen::catalog::impact::{ImpactRules, ResourceRole, listed};
use hcl_edit::structure::{Body, Structure};
use serde_json::Value;

use crate::util::{Deployment, Run, SpecBuilder, read_tree};

/// `(type, name)` -> argument path -> its text. Paths as
/// catalog/impact.yaml writes them: nested blocks joined with `.`, a repeated
/// block with a `name` argument keyed by it (`parameter[max_connections]`),
/// other repeats by position.
type Resources = BTreeMap<(String, String), BTreeMap<String, String>>;

fn flatten(body: &Body, prefix: &str, out: &mut BTreeMap<String, String>) {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for s in body.iter() {
        match s {
            Structure::Attribute(a) => {
                let text = a.value.to_string().split_whitespace().collect::<Vec<_>>().join(" ");
                out.insert(format!("{prefix}{}", a.key.as_str()), text);
            }
            Structure::Block(b) => {
                let ident = b.ident.as_str();
                let key = match b.body.get_attribute("name") {
                    Some(n) => format!("{ident}[{}]", n.value.to_string().trim().trim_matches('"')),
                    None => {
                        let n = seen.entry(ident.to_string()).or_default();
                        *n += 1;
                        if *n == 1 { ident.to_string() } else { format!("{ident}[{}]", *n - 1) }
                    }
                };
                flatten(&b.body, &format!("{prefix}{key}."), out);
            }
        }
    }
}

fn terraform(tree: &BTreeMap<String, Vec<u8>>) -> Resources {
    let mut out = Resources::new();
    for (path, bytes) in tree.iter().filter(|(p, _)| p.ends_with(".tf")) {
        let body = hcl_edit::parser::parse_body(std::str::from_utf8(bytes).unwrap()).unwrap_or_else(|e| panic!("{path}: {e}"));
        for b in body.get_blocks("resource") {
            let mut attrs = BTreeMap::new();
            flatten(&b.body, "", &mut attrs);
            out.insert((b.labels[0].as_str().to_string(), b.labels[1].as_str().to_string()), attrs);
        }
    }
    out
}

/// The arguments `lifecycle { ignore_changes = [...] }` names (`[0]` dropped).
fn ignored(tree: &BTreeMap<String, Vec<u8>>, kind: &str, name: &str) -> BTreeSet<String> {
    let bodies: Vec<_> = tree
        .iter()
        .filter(|(p, _)| p.ends_with(".tf"))
        .map(|(_, b)| hcl_edit::parser::parse_body(std::str::from_utf8(b).unwrap()).unwrap())
        .collect();
    let resource =
        bodies.iter().flat_map(|body| body.get_blocks("resource")).find(|b| b.labels[0].as_str() == kind && b.labels[1].as_str() == name);
    let list = resource
        .and_then(|b| b.body.get_blocks("lifecycle").next())
        .and_then(|l| l.body.get_attribute("ignore_changes"))
        .map(|a| a.value.to_string())
        .unwrap_or_default();
    list.trim_matches(|c: char| c == '[' || c == ']' || c.is_whitespace())
        .split(',')
        .map(|s| s.trim().replace("[0]", ""))
        .filter(|s| !s.is_empty())
        .collect()
}

fn top(arg: &str) -> &str {
    &arg[..arg.find(['.', '[']).unwrap_or(arg.len())]
}

/// Per resource present in both trees: the argument paths that changed
/// (lifecycle aside).
fn changed(old: &Resources, new: &Resources) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for (key, before) in old {
        let Some(after) = new.get(key) else { continue };
        let args: BTreeSet<String> = before
            .keys()
            .chain(after.keys())
            .filter(|k| !k.starts_with("lifecycle.") && before.get(*k) != after.get(*k))
            .cloned()
            .collect();
        if !args.is_empty() {
            out.insert(key.clone(), args);
        }
    }
    out
}

/// A claim of the summary: `(class, type, name, argument path)`.
fn claims(summary: &Value) -> BTreeSet<(String, String, String, String)> {
    let mut out = BTreeSet::new();
    for i in summary["impacts"].as_array().unwrap() {
        if i["kind"] != "terraform" {
            continue;
        }
        let Some((kind, name)) = i["target"].as_str().unwrap().split_once('.') else { continue };
        for a in i["arguments"].as_array().unwrap() {
            out.insert((i["class"].as_str().unwrap().into(), kind.into(), name.into(), a["name"].as_str().unwrap().into()));
        }
    }
    out
}

/// Claims and the rendered Terraform agree, both ways, for replacements,
/// node rolls, database restarts and one-way changes.
#[track_caller]
fn claims_match_the_terraform(what: &str, summary: &Value, old: &BTreeMap<String, Vec<u8>>, new: &BTreeMap<String, Vec<u8>>) {
    let rules = ImpactRules::embedded();
    let (a, b) = (terraform(old), terraform(new));
    let changes = changed(&a, &b);
    let claims = claims(summary);
    // Each claim touches an argument that changed and that the data lists for it.
    for (class, kind, name, arg) in &claims {
        let key = (kind.clone(), name.clone());
        let r = rules.resource(kind).unwrap_or_else(|| panic!("{what}: no data for {kind}"));
        assert!(
            changes.get(&key).is_some_and(|c| c.contains(arg)),
            "{what}: {class} claimed for {kind}.{name}.{arg}, which did not change"
        );
        let ok = match class.as_str() {
            "node-pool-replacement" => listed(&r.replaces, arg) || listed(&r.rotates, arg),
            "destroys-data" => r.role == ResourceRole::Database && listed(&r.replaces, arg),
            "database-restart" => {
                listed(&r.restarts, arg)
                    || listed(&r.pending_reboot, arg)
                    || r.pending_reboot_blocks.as_deref().is_some_and(|b| top(arg) == b)
                    || listed(&r.replaces, arg)
            }
            "irreversible" => listed(&r.grows_only, arg) || listed(&r.one_way, arg),
            "rolling" => listed(&r.rolls_nodes, arg) || (r.role == ResourceRole::NodeTemplate && listed(&r.replaces, arg)),
            "in-place" | "unknown" => true,
            other => panic!("{what}: unknown class {other}"),
        };
        assert!(ok, "{what}: {class} claimed for {kind}.{name}.{arg}, which catalog/impact.yaml does not list for it");
    }
    // Each changed argument the data lists is claimed with its class.
    for ((kind, name), args) in &changes {
        let Some(r) = rules.resource(kind) else { panic!("{what}: {kind}.{name} changed and has no data") };
        let skip = ignored(new, kind, name);
        for arg in args.iter().filter(|a| !skip.iter().any(|s| a == &s || a.starts_with(&format!("{s}.")))) {
            let has = |class: &str| claims.contains(&(class.to_string(), kind.clone(), name.clone(), arg.clone()));
            if listed(&r.replaces, arg) {
                let class = match r.role {
                    ResourceRole::NodePool => "node-pool-replacement",
                    ResourceRole::Database => "destroys-data",
                    ResourceRole::NodeTemplate => "rolling",
                    _ => continue,
                };
                assert!(has(class), "{what}: {kind}.{name}.{arg} forces a new resource, but the summary does not say {class}");
            }
            if listed(&r.rotates, arg) {
                assert!(has("node-pool-replacement"), "{what}: {kind}.{name}.{arg} rotates the pool, but the summary does not say so");
            }
            if listed(&r.restarts, arg) && r.restarts_only_names.is_empty() {
                assert!(has("database-restart"), "{what}: {kind}.{name}.{arg} restarts the database, but the summary does not say so");
            }
            if listed(&r.grows_only, arg) || listed(&r.one_way, arg) {
                assert!(has("irreversible"), "{what}: {kind}.{name}.{arg} cannot be undone, but the summary does not say so");
            }
            if listed(&r.rolls_nodes, arg) && r.role == ResourceRole::NodePool {
                assert!(has("rolling"), "{what}: {kind}.{name}.{arg} replaces the nodes, but the summary does not say so");
            }
        }
    }
}

/// `diff --format json` of the deployment, as JSON.
#[track_caller]
fn summary(d: &Deployment) -> Value {
    let a = d.run("diff").args(["--format", "json"]).assert().stderr_has("file(s) would change").success();
    serde_json::from_str(&a.stdout()).unwrap_or_else(|e| panic!("{e}: {}", a.stdout()))
}

/// A tree: path -> bytes.
type Files = BTreeMap<String, Vec<u8>>;

/// Render `from`, change the spec to `to`: the summary, the tree on disk and
/// the tree `to` renders.
fn change(from: &str, to: &str) -> (Deployment, Value, Files, Files) {
    let d = Deployment::new(from);
    d.render();
    let old = read_tree(&d.out);
    d.edit(to);
    let new = coder_gen::render_str("spec.yaml", to).unwrap().iter().map(|(p, b)| (p.to_string(), b.to_vec())).collect();
    let s = summary(&d);
    (d, s, old, new)
}

fn domain<'a>(s: &'a Value, path: &str) -> &'a Value {
    s["changes"].as_array().unwrap().iter().find(|c| c["path"] == path).unwrap_or_else(|| panic!("no change {path}: {s:#}"))
}

fn classes(change: &Value) -> Vec<&str> {
    change["classes"].as_array().unwrap().iter().map(|c| c.as_str().unwrap()).collect()
}

fn impact<'a>(s: &'a Value, class: &str, target: &str) -> &'a Value {
    s["impacts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["class"] == class && i["target"] == target)
        .unwrap_or_else(|| panic!("no {class} impact on {target}: {:#}", s["impacts"]))
}

/// The database resource and its storage argument per cloud.
fn database(cloud: &str) -> (&'static str, &'static str) {
    match cloud {
        "gcp" => ("google_sql_database_instance.primary", "settings.disk_size"),
        "aws" => ("aws_db_instance.primary", "allocated_storage"),
        _ => ("azurerm_postgresql_flexible_server.primary", "storage_mb"),
    }
}

/// How each cloud changes a pool's machine type: GKE in place (nodes
/// migrate one by one), EKS a new node group, AKS a rotation.
fn machine_change(cloud: &str) -> (&'static str, &'static str, &'static str) {
    match cloud {
        "gcp" => ("rolling", "google_container_node_pool.coderd", "node_config.machine_type"),
        "aws" => ("node-pool-replacement", "aws_eks_node_group.coderd", "instance_types"),
        _ => ("node-pool-replacement", "azurerm_kubernetes_cluster_node_pool.coderd", "vm_size"),
    }
}

#[test]
fn a_tier_change_says_what_applying_it_does_on_each_cloud() {
    for cloud in ["gcp", "aws", "azure"] {
        let spec = |users: u32| SpecBuilder::new().cloud(cloud).users(users).build();
        let (_d, s, old, new) = change(&spec(800), &spec(1900));
        claims_match_the_terraform(&format!("{cloud} 1k -> 2k"), &s, &old, &new);
        let tier = domain(&s, "tier");
        assert_eq!((tier["from"].as_str(), tier["to"].as_str()), (Some("1k"), Some("2k")), "{cloud}");
        // The machine type: each cloud's way, on the coderd pool.
        let (class, target, arg) = machine_change(cloud);
        let i = impact(&s, class, target);
        assert!(i["arguments"].as_array().unwrap().iter().any(|a| a["name"] == arg), "{cloud}: {i:#}");
        assert!(classes(domain(&s, "pools[coderd].machine_type")).contains(&class), "{cloud}");
        if cloud == "gcp" {
            assert!(
                !classes(domain(&s, "pools[coderd].machine_type")).contains(&"node-pool-replacement"),
                "GKE changes machine types in place"
            );
        }
        // The database: a new class restarts it (RDS at the maintenance
        // window: the tree does not set apply_immediately), storage grows
        // for good.
        let (db, storage) = database(cloud);
        let restart = impact(&s, "database-restart", db);
        let when = if cloud == "aws" { "maintenance-window" } else { "apply" };
        assert_eq!(restart["when"], when, "{cloud}: {restart:#}");
        assert!(classes(domain(&s, "database.instance_class")).contains(&"database-restart"), "{cloud}");
        let grows = impact(&s, "irreversible", db);
        assert!(
            grows["arguments"].as_array().unwrap().iter().any(|a| a["name"] == storage) && grows["refused"].is_null(),
            "{cloud}: {grows:#}"
        );
        assert!(classes(domain(&s, "database.storage_gb")).contains(&"irreversible"), "{cloud}");
        assert!(s["refusals"].as_array().unwrap().is_empty(), "{cloud}: {:#}", s["refusals"]);
        assert_eq!(s["most_severe"], "irreversible", "{cloud}");
        assert_eq!(s["from"]["plan"], "recorded");
    }
}

#[test]
fn a_machine_type_change_is_a_node_roll_or_replacement_and_a_database_class_a_restart() {
    let overrides = [
        ("gcp", "n2-standard-4", "db-custom-8-30720"),
        ("aws", "m5.xlarge", "db.m5.xlarge"),
        ("azure", "Standard_D4s_v5", "Standard_D8s_v3"),
    ];
    for (cloud, node, db_class) in overrides {
        let base = SpecBuilder::new().cloud(cloud).users(1900);
        let (_d, s, old, new) =
            change(&base.build(), &base.clone().extra(&format!("machine_types:\n  coderd: {node}\n  database: {db_class}\n")).build());
        claims_match_the_terraform(&format!("{cloud} machine types"), &s, &old, &new);
        let (class, target, _) = machine_change(cloud);
        impact(&s, class, target);
        let c = domain(&s, "pools[coderd].machine_type");
        assert_eq!(c["to"], node);
        assert!(classes(c).contains(&class), "{cloud}: {c:#}");
        let (db, _) = database(cloud);
        impact(&s, "database-restart", db);
        assert!(classes(domain(&s, "database.instance_class")).contains(&"database-restart"), "{cloud}");
        // Only the coderd pool and the database change: no other pool is touched.
        for i in s["impacts"].as_array().unwrap().iter().filter(|i| i["class"] == "node-pool-replacement" || i["class"] == "rolling") {
            let t = i["target"].as_str().unwrap();
            assert!(t.ends_with(".coderd") || t.starts_with("release "), "{cloud}: {t}");
        }
    }
}

/// A site's values are named (`users of site eu`, its pools) and carried by
/// the site's own files: its EKS node group, its proxy's release.
#[test]
fn a_site_change_is_named_and_classified_in_the_sites_files() {
    let site = |users: u32, machine: &str| {
        SpecBuilder::new()
            .cloud("gcp")
            .users(2000)
            .extra(&format!(
                "sites:\n  - name: eu\n    cloud: aws\n    region: eu-west-1\n    users: {users}\n    machine_types:\n      workspace: {machine}\n"
            ))
            .build()
    };
    let (_d, s, _, _) = change(&site(500, "m5.2xlarge"), &site(700, "m5.4xlarge"));
    let users = domain(&s, "sites[eu].users");
    assert_eq!((users["label"].as_str(), users["from"].as_u64(), users["to"].as_u64()), (Some("users of site eu"), Some(500), Some(700)));
    let machine = domain(&s, "sites[eu].pools[workspace].machine_type");
    assert_eq!(machine["label"], "site eu: workspace pool machine type");
    assert!(classes(machine).contains(&"node-pool-replacement"), "{machine:#}");
    let group = impact(&s, "node-pool-replacement", "aws_eks_node_group.workspace");
    assert!(group["file"].as_str().unwrap().starts_with("sites/eu/terraform/aws/"), "{group:#}");
    // The proxy's release is the coder chart in proxy mode, named so; a
    // change there migrates no database.
    for i in s["impacts"].as_array().unwrap().iter().filter(|i| i["file"] == "sites/eu/helm/coder/values.yaml") {
        assert_eq!(i["target"], "release coder-proxy in site eu", "{i:#}");
        assert_ne!(i["class"], "irreversible", "{i:#}");
    }
    // The primary's pools rule takes none of the site's pools.
    assert!(s["changes"].as_array().unwrap().iter().all(|c| c["label"] != "workspace pool machine type"), "{:#}", s["changes"]);
}

#[test]
fn a_storage_shrink_is_refused_and_said_so() {
    for cloud in ["gcp", "aws", "azure"] {
        let spec = |users: u32| SpecBuilder::new().cloud(cloud).users(users).build();
        let (_d, s, old, new) = change(&spec(1900), &spec(800));
        claims_match_the_terraform(&format!("{cloud} 2k -> 1k"), &s, &old, &new);
        let (db, storage) = database(cloud);
        // The rendered Terraform really shrinks it.
        let size = |t: &BTreeMap<String, Vec<u8>>| -> u64 {
            let key = db.split_once('.').map(|(k, n)| (k.to_string(), n.to_string())).unwrap();
            terraform(t)[&key][storage].parse::<u64>().unwrap()
        };
        assert!(size(&new) < size(&old), "{cloud}");
        let i = impact(&s, "irreversible", db);
        assert!(i["refused"].as_str().unwrap().contains("can never shrink"), "{cloud}: {i:#}");
        let r = s["refusals"].as_array().unwrap().iter().find(|r| r["code"] == "cannot-shrink").unwrap_or_else(|| panic!("{cloud}: {s:#}"));
        assert_eq!(r["by"], "terraform apply");
    }
}

#[test]
fn a_chart_version_bump_is_one_way_and_a_lower_one_is_refused() {
    for cloud in ["gcp", "aws", "azure"] {
        let spec = |v: &str| SpecBuilder::new().cloud(cloud).extra(&format!("coder:\n  chart_version: \"{v}\"\n")).build();
        let (d, s, old, new) = change(&spec("2.33.6"), &spec("2.34.0"));
        claims_match_the_terraform(&format!("{cloud} 2.33.6 -> 2.34.0"), &s, &old, &new);
        // Nothing in Terraform changes: the version is Helm's and GitOps'.
        assert!(old.iter().filter(|(p, _)| p.ends_with(".tf")).all(|(p, b)| new.get(p) == Some(b)), "{cloud}");
        assert!(s["impacts"].as_array().unwrap().iter().all(|i| i["kind"] != "terraform"), "{cloud}");
        let up = impact(&s, "irreversible", "release coder");
        assert_eq!(up["arguments"][0]["from"], "2.33.6");
        assert_eq!(up["arguments"][0]["to"], "2.34.0");
        assert!(up["action"].as_str().unwrap().contains("backup"));
        impact(&s, "rolling", "release coder");
        assert!(classes(domain(&s, "chart.version")).contains(&"irreversible"), "{cloud}");
        assert_eq!(s["most_severe"], "irreversible");

        // Render it, then go back: render refuses (exit 2) until the user
        // says the database was restored; diff and check show the refusal.
        d.render();
        d.edit(&spec("2.33.6"));
        let err = d.run("render").assert().code(2).stderr();
        assert!(
            err.starts_with("error: coder.chart_version `2.33.6` is lower than `2.34.0`, the version the tree was rendered for: Coder cannot downgrade without restoring its database\n  = help: Coder has no rollback"),
            "{err}"
        );
        assert!(err.contains("--restored-database"), "{err}");
        let s = summary(&d);
        let r = &s["refusals"][0];
        assert_eq!((r["code"].as_str(), r["by"].as_str()), (Some("chart-downgrade"), Some("coder-gen render")));
        let down = impact(&s, "irreversible", "release coder");
        assert!(down["refused"].as_str().unwrap().contains("--restored-database"));
        let check = d.run("check").assert().code(1);
        assert!(
            check.stderr().contains("  refused by coder-gen render: coder.chart_version `2.33.6` is lower than `2.34.0`"),
            "{}",
            check.stderr()
        );
        let a = d.run("render").arg("--restored-database").assert();
        assert!(
            a.stderr().starts_with("note: --restored-database: rendering coder.chart_version 2.33.6 below the recorded 2.34.0\n"),
            "{}",
            a.stderr()
        );
        a.rendered(
            &format!("note: --restored-database: rendering coder.chart_version 2.33.6 below the recorded 2.34.0\n{}", d.warnings()),
            &d.out,
        );
        // The tree now records 2.33.6: the next render is ordinary.
        d.check_ok();
        d.render();
    }
}

#[test]
fn the_summary_prints_as_text_markdown_and_json() {
    let spec = |users: u32| SpecBuilder::new().cloud("aws").users(users).build();
    let (d, _, _, _) = change(&spec(800), &spec(1900));
    let text = d.run("diff").assert().diff_shown();
    let review = text.review_of();
    for line in [
        "review:\n",
        "  what changes (from the plan the tree recorded (tier 1k, Coder chart 2.33.6)):\n",
        "    tier: 1k -> 2k\n",
        "    coderd pool machine type: t3.large -> t3.xlarge  [node-pool replacement]\n",
        "    database class: db.t3.large -> db.t3.xlarge  [database restart]\n",
        "    database storage (GB): 512 -> 1024  [irreversible]\n",
        "  applying it (most severe first):\n",
        "    database restart, at the next maintenance window: aws_db_instance.primary (terraform/aws/database.tf): instance_class: the database restarts (downtime) at its next maintenance window, not at apply (apply_immediately is not set)\n",
        "  most severe: irreversible",
    ] {
        assert!(review.contains(line), "{line:?} not in:\n{review}");
    }
    let check = d.run("check").args(["--format", "markdown"]).assert().code(1);
    let md = check.stdout();
    assert!(md.starts_with(&format!("### coder-gen review: {} → {}\n", d.spec.display(), d.out.display())), "{md}");
    assert!(md.contains("| tier | `1k` | `2k` |  |\n") && md.contains("**Most severe: irreversible**"), "{md}");
    assert!(md.contains("- **node-pool replacement**: `aws_eks_node_group.coderd` in `terraform/aws/node_pools.tf`"), "{md}");
    assert!(!md.contains("--- a/"), "markdown is the summary alone: {md}");
    // check on drift still names the drift on stderr and exits 1.
    assert!(check.stderr().starts_with("drift: "), "{}", check.stderr());
    // --quiet keeps the diff and drops the text summary.
    let q = Run::new(["--quiet", "diff"]).arg(&d.spec).arg("-o").arg(&d.out).assert().stderr_is("").success();
    assert!(q.stdout().contains("+++ b/terraform/aws/database.tf"));
    // Up to date: nothing to review.
    d.render();
    let md = d.run("check").args(["--format", "markdown"]).assert().stderr_has("ok: ").success().stdout();
    assert!(md.ends_with("No changes: the tree is up to date.\n"), "{md}");
    let json: Value =
        serde_json::from_str(&d.run("check").args(["--format", "json"]).assert().stderr_has("ok: ").success().stdout()).unwrap();
    assert_eq!((json["most_severe"].clone(), json["impacts"].as_array().unwrap().len()), (Value::Null, 0));
}

/// What the tree records about itself is read bounded and never trusted:
/// no record (an older tree), a truncated, hostile, huge or linked one.
#[test]
fn a_missing_or_hostile_recorded_plan_never_stops_the_diff() {
    let record_of = |d: &Deployment| d.out.join(".coder-gen/plan.json");
    let d = Deployment::minimal();
    d.render();
    d.edit(&SpecBuilder::new().users(2500).build());
    let record = record_of(&d);
    let good = std::fs::read(&record).unwrap();
    // An older tree: no record. The diff is shown, the summary says why it is short.
    std::fs::remove_file(&record).unwrap();
    let a = d.run("diff").assert().diff_shown();
    assert!(
        a.review_of().contains("  what changes: not available: the tree records no plan (.coder-gen/plan.json): it was rendered by an older coder-gen; the next render records it\n"),
        "{}",
        a.stderr()
    );
    let s = summary(&d);
    assert_eq!(s["from"]["plan"], "absent");
    assert!(!s["impacts"].as_array().unwrap().is_empty(), "the files still tell what applying does");
    // Truncated, not JSON, another format, a control character, deep nesting.
    let hostile: Vec<Vec<u8>> = vec![
        good[..good.len() / 2].to_vec(),
        b"\xff\xfe not json".to_vec(),
        b"{\"format_version\": 99}".to_vec(),
        "{\"format_version\": 1, \"tier\": \"\u{1b}[2J\", \"chart\": {\"version\": \"2.99.0\u{1b}]0;x\u{7}\"}}".as_bytes().to_vec(),
        [&b"{\"format_version\": 1, \"x\": "[..], &[b'['; 100_000]].concat(),
    ];
    for bytes in hostile {
        let d = Deployment::minimal();
        d.render();
        d.edit(&SpecBuilder::new().users(2500).build());
        std::fs::write(record_of(&d), &bytes).unwrap();
        // (A record that is not UTF-8 is a "Binary files differ" line, which
        // diff_shown does not count.)
        let a = d.run("diff").assert().stderr_has("file(s) would change").success();
        assert!(!a.stderr().contains('\u{1b}') && !a.stderr().contains('\u{7}'), "{}", a.stderr());
        let s = summary(&d);
        assert!(s["from"]["plan"] == "unreadable" || s["from"]["plan"] == "recorded", "{s:#}");
        // render warns that the downgrade check could not run, rewrites the
        // record, and never panics.
        let r = d.run("render").assert();
        assert!(r.stderr().contains("warning: the chart downgrade check did not run: "), "{}", r.stderr());
        assert!(!r.stderr().contains('\u{1b}'), "{}", r.stderr());
        r.allow_stderr().success();
        d.check_ok();
    }
    // Huge (sparse): refused unread, in bounded memory.
    let f = std::fs::OpenOptions::new().create(true).write(true).truncate(true).open(&record).unwrap();
    f.set_len(1 << 30).unwrap();
    let s = summary(&d);
    assert!(s["from"]["reason"].as_str().unwrap().contains("1073741824 bytes"), "{s:#}");
    // A link: never followed, like every path in the output directory.
    std::fs::remove_file(&record).unwrap();
    std::os::unix::fs::symlink("/etc/hostname", &record).unwrap();
    d.run("diff").assert().code(2).stderr_has("symbolic link");
    d.run("render").assert().code(2).stderr_has("symbolic link");
}

/// Every resource type a tree's Terraform declares has impact data, so the
/// summary never guesses (a new resource type needs its lists first).
#[test]
fn every_resource_type_of_the_golden_trees_has_impact_data() {
    let rules = ImpactRules::embedded();
    let mut seen = BTreeSet::new();
    let mut site_files = 0;
    for dir in std::fs::read_dir(crate::util::repo_root().join("golden")).unwrap() {
        let tree = read_tree(&dir.unwrap().path());
        // The sites' Terraform (`sites/<name>/terraform/<cloud>/`) is read too.
        site_files += tree.keys().filter(|p| p.starts_with("sites/") && p.ends_with(".tf")).count();
        for ((kind, _), _) in terraform(&tree) {
            seen.insert(kind);
        }
    }
    assert!(seen.len() >= 10, "{seen:?}");
    assert!(site_files > 0, "no golden tree has a site's Terraform: the sites' resource types were not checked");
    // Every Helm values file of the goldens, the sites' included, has a release rule.
    for dir in std::fs::read_dir(crate::util::repo_root().join("golden")).unwrap() {
        let dir = dir.unwrap().path();
        for p in read_tree(&dir).keys().filter(|p| p.contains("helm/") && p.ends_with("values.yaml")) {
            assert!(rules.helm_for(p).is_some(), "{}: no Helm rule in catalog/impact.yaml for {p}", dir.display());
        }
    }
    let missing: Vec<&String> = seen.iter().filter(|k| rules.resource(k).is_none()).collect();
    assert!(missing.is_empty(), "add these resource types to catalog/impact.yaml, with sources: {missing:?}");
}

/// The argument paths catalog/impact.yaml names for google and azurerm
/// resources exist in those providers' published schemas (the same extracted
/// schemas terraform.rs checks the trees against): a typo in the data would
/// otherwise classify nothing.
#[test]
fn impact_data_names_arguments_the_provider_schemas_have() {
    let mut errors = Vec::new();
    let mut checked = 0;
    for provider in ["google", "azurerm"] {
        let path = crate::util::repo_root().join(format!("tests/data/provider-schemas/{provider}.json"));
        let schema: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        let meta: Vec<&str> = schema["meta_arguments"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
        for (kind, r) in ImpactRules::embedded().terraform.iter().filter(|(k, _)| k.starts_with(&format!("{provider}_"))) {
            let Some(res) = schema["resources"].get(kind) else {
                errors.push(format!("{kind}: not in the {provider} schema"));
                continue;
            };
            let lists = [&r.replaces, &r.rotates, &r.rolls_nodes, &r.restarts, &r.pending_reboot, &r.grows_only, &r.one_way, &r.deferred];
            for arg in lists.into_iter().flatten().chain(r.notes.keys()) {
                checked += 1;
                // `settings.database_flags[max_connections]` -> settings, database_flags.
                let parts: Vec<&str> = arg.split('.').map(|p| &p[..p.find('[').unwrap_or(p.len())]).collect();
                let mut at = res;
                let mut ok = parts.len() == 1 && meta.contains(&parts[0]);
                for (i, p) in parts.iter().enumerate() {
                    let last = i + 1 == parts.len();
                    let is_arg = at["arguments"].as_array().is_some_and(|a| a.iter().any(|x| x == p));
                    match at["blocks"].get(*p) {
                        Some(b) if !last => at = b,
                        Some(_) => ok = true,
                        None if last && is_arg => ok = true,
                        None => break,
                    }
                }
                if !ok {
                    errors.push(format!("{kind}: {arg} is not an argument or block of the {provider} schema"));
                }
            }
        }
    }
    assert!(checked >= 20, "{checked}");
    assert!(errors.is_empty(), "{}", errors.join("\n"));
}
