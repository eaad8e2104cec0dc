//! The CLI contract: exit codes, located errors, nothing written on error,
//! the plan JSON document. (The whole message of every kind of bad spec is
//! snapshotted in `catalogue.rs`.)

use crate::util::{Deployment, MINIMAL, Run, SpecBuilder, examples};

fn plan_json(spec: &SpecBuilder) -> serde_json::Value {
    let d = Deployment::new(&spec.build());
    let out = d.plan().arg("--format").arg("json").assert().success();
    serde_json::from_slice(&out.output.stdout).unwrap()
}

#[test]
fn plan_json_tiers_at_the_boundaries() {
    for (users, tier) in [(1, "1k"), (1000, "1k"), (1001, "2k"), (2000, "2k"), (2001, "3k"), (3000, "3k")] {
        for cloud in ["gcp", "aws", "azure"] {
            let j = plan_json(&SpecBuilder::new().users(users).cloud(cloud));
            assert_eq!(j["tier"], tier, "{users} {cloud}");
            assert_eq!(j["users"], users);
            assert_eq!(j["cloud"], cloud);
        }
    }
}

#[test]
fn plan_json_has_the_documented_fields() {
    let j = plan_json(&SpecBuilder::new().users(3000));
    for key in
        ["format_version", "tier", "users", "cloud", "pools", "coderd", "provisioners", "workspaces", "database", "warnings", "notes"]
    {
        assert!(j.get(key).is_some(), "missing {key}");
    }
    let pool = &j["pools"][0];
    for key in ["role", "machine_type", "vcpu", "memory_gib", "min_nodes", "max_nodes"] {
        assert!(pool.get(key).is_some(), "pool missing {key}");
    }
    assert_eq!(j["format_version"], 1);
    assert_eq!(j["coderd"]["replicas"], 4);
    assert!(j["coderd"]["resources"]["requests"]["cpu_millis"].is_number());
    assert_eq!(j["provisioners"][0]["namespace"], "coder-provisioners");
    assert_eq!(j["provisioners"][0]["replicas"], 240);
    for key in ["instance_class", "vcpu", "memory_gib", "storage_gb", "ha", "read_replicas", "max_connections"] {
        assert!(j["database"].get(key).is_some(), "database missing {key}");
    }
    assert_eq!(j["database"]["instance_class"], "db.t3.2xlarge");
    assert_eq!(j["database"]["storage_gb"], 1536);
    assert_eq!(j["database"]["ha"], true);
    assert!(j["warnings"].as_array().unwrap().iter().any(|w| w["code"] == "burstable-machine-type"));
}

/// Replaces a test that planned twice in one process and compared the value
/// with itself: here each plan is a separate process (fresh hash seeds),
/// run from another directory under another locale and time zone, so an
/// iteration order or environment leak would show.
#[test]
fn plan_json_is_the_same_in_separate_processes_and_environments() {
    for spec in examples() {
        // The spec's whole folder: a spec with overrides reads files beside it.
        let tmp = crate::util::tempdir();
        let name = spec.file_name().unwrap();
        for f in std::fs::read_dir(spec.parent().unwrap()).unwrap() {
            let f = f.unwrap().path();
            if f.is_dir() {
                let sub = tmp.path().join(f.file_name().unwrap());
                std::fs::create_dir(&sub).unwrap();
                for g in std::fs::read_dir(&f).unwrap() {
                    let g = g.unwrap().path();
                    if g.is_file() {
                        std::fs::copy(&g, sub.join(g.file_name().unwrap())).unwrap();
                    }
                }
            } else {
                std::fs::copy(&f, tmp.path().join(f.file_name().unwrap())).unwrap();
            }
        }
        let plan = |dir: &std::path::Path, envs: &[(&str, &str)]| {
            let mut run = Run::new(["plan"]).arg(name).args_json().in_dir(dir);
            for (k, v) in envs {
                run = run.env(k, v);
            }
            run.assert().success().stdout()
        };
        let here = plan(spec.parent().unwrap(), &[]);
        let there = plan(tmp.path(), &[("LC_ALL", "tr_TR.UTF-8"), ("LANG", "tr_TR.UTF-8"), ("TZ", "Pacific/Chatham")]);
        assert!(here.contains("\"format_version\": 1"), "{here}");
        assert_eq!(here, there, "{}", spec.display());
    }
}

#[test]
fn too_many_users_exits_2_with_location_and_writes_nothing() {
    let d = Deployment::new(&SpecBuilder::new().users(3001).build());
    d.run("render").assert().code(2).stderr_has("spec.yaml:2:8").stderr_has("3,000");
    assert!(!d.out.exists(), "nothing may be written on error");
}

/// Every command that reads a spec refuses a bad one the same way: exit 2,
/// located, with help, nothing written.
#[test]
fn malformed_specs_exit_2_with_a_located_message_from_every_command() {
    let minimal = SpecBuilder::new();
    let cases = [
        ("unknown key", minimal.clone().extra("databse: {}\n").build(), "spec.yaml:6:1"),
        ("nested unknown key", minimal.clone().extra("kubernetes:\n  versoin: \"1.33\"\n").build(), "spec.yaml:7:3"),
        ("wrong type", minimal.clone().users_raw("many").build(), "spec.yaml:2:8"),
        ("bad cloud", minimal.clone().cloud("oracle").region("us-east-1").build(), "spec.yaml:3:8"),
        ("empty file", String::new(), "spec.yaml"),
    ];
    for (what, text, located) in cases {
        let d = Deployment::new(&text);
        for sub in ["render", "diff", "check"] {
            let a = d.run(sub).assert().code(2);
            assert!(a.stderr().contains(located) && a.stderr().contains("help:"), "{what} ({sub}): {}", a.stderr());
        }
        d.plan().assert().code(2).stderr_has(located);
        assert!(!d.out.exists(), "{what}: wrote output");
    }
}

#[test]
fn missing_spec_file_exits_2() {
    Run::new(["plan", "/nonexistent/spec.yaml"]).assert().code(2).stderr_has("cannot read");
}

#[test]
fn usage_errors_exit_2_and_help_has_examples() {
    Run::new(["frobnicate"]).assert().code(2);
    for sub in ["render", "plan", "diff", "check"] {
        Run::new([sub, "--help"]).assert().success().stdout_has("Example");
    }
    Run::new(["--version"]).assert().success().stdout_has(env!("CARGO_PKG_VERSION"));
}

#[test]
fn plan_text_shows_tier_pools_and_warnings() {
    let d = Deployment::new(&SpecBuilder::new().users(3000).build());
    d.plan().assert().success().stdout_has("tier        3k").stdout_has("t3.2xlarge").stdout_has("seed-capacity-mismatch");
}

#[test]
fn explain_answers_for_a_key_and_exits_2_for_an_unknown_path() {
    let d = Deployment::minimal();
    Run::new(["explain"])
        .arg(&d.spec)
        .arg("helm/coder/values.yaml:coder.replicaCount")
        .assert()
        .success()
        .stdout_has("plan.coderd.replicas = ")
        .stdout_has("why: ");
    Run::new(["explain"])
        .arg(&d.spec)
        .arg("terraform/aws/nope.tf")
        .assert()
        .code(2)
        .stdout_is("")
        .stderr_has("is not a file this spec generates")
        .stderr_has("terraform/aws/node_pools.tf");
}

#[test]
fn plan_json_pools_carry_the_capacity_model() {
    for cloud in ["gcp", "aws", "azure"] {
        let j = plan_json(&SpecBuilder::new().users(3000).cloud(cloud));
        for pool in j["pools"].as_array().unwrap() {
            for key in ["allocatable", "daemonsets", "headroom", "pods_per_node", "requested_per_node", "fits"] {
                assert!(pool.get(key).is_some(), "{cloud}: pool missing {key}");
            }
            assert_eq!(pool["fits"], true, "{cloud}");
            assert!(pool["allocatable"]["cpu_millis"].is_number() && pool["allocatable"]["memory_mib"].is_number());
        }
    }
}

/// Issue #14: an override file is part of what render, diff and check see.
/// Editing it is drift; a patch that matches nothing and an unintended sized
/// value are refused with exit 2 and nothing written.
#[test]
fn override_files_are_rendered_checked_and_refused() {
    let d = Deployment::new(&format!("{MINIMAL}overrides:\n  helm:\n    coder:\n      values: coder.yaml\n"));
    let values = d.dir().join("coder.yaml");
    std::fs::write(&values, "coder:\n  image:\n    pullSecrets:\n      - name: regcred\n").unwrap();
    d.render();
    d.check_ok();
    std::fs::write(&values, "coder:\n  image:\n    pullSecrets:\n      - name: other\n").unwrap();
    d.run("check").assert().code(1).stdout_has("-      - name: regcred").stdout_has("+      - name: other");

    let new = d.dir().join("new");
    std::fs::write(&values, "coder:\n  replicaCount: 9\n").unwrap();
    d.run_into("render", &new).assert().code(2).stderr_has("changes `coder.replicaCount`, which the plan sized").stderr_has("intended");
    assert!(!new.exists());

    std::fs::write(d.dir().join("p.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: nope\n").unwrap();
    let d2 = Deployment { tmp: crate::util::tempdir(), spec: d.dir().join("spec2.yaml"), out: new.clone() };
    std::fs::write(&d2.spec, format!("{MINIMAL}overrides:\n  kustomize:\n    coder:\n      patches: [p.yaml]\n")).unwrap();
    d2.run("render").assert().code(2).stderr_has("spec2.yaml:9:17: overrides.kustomize.coder: patch p.yaml matches nothing");
    assert!(!new.exists());
}

/// Issue #14: a sized value a user's file takes over (`intended`) is named as
/// theirs by SIZING.md and `explain`, not passed off as the plan's.
#[test]
fn intended_overrides_are_attributed_to_the_user() {
    let d = Deployment::new(&format!(
        "{MINIMAL}overrides:\n  helm:\n    coder:\n      values: coder.yaml\n      intended: [coder.replicaCount]\n"
    ));
    std::fs::write(d.dir().join("coder.yaml"), "coder:\n  replicaCount: 3\n").unwrap();
    d.render();
    let sizing = String::from_utf8(d.tree()["SIZING.md"].clone()).unwrap();
    assert!(
        sizing.contains("## Values from your files") && sizing.contains("| `coder` | `coder.replicaCount` | `coder.yaml` |"),
        "{sizing}"
    );
    Run::new(["explain"])
        .arg(&d.spec)
        .arg("helm/coder/values.yaml:coder.replicaCount")
        .assert()
        .success()
        .stdout_has("from your file: coder.yaml (overrides.helm.coder, listed as intended)");
}
