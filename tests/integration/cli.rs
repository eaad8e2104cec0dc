//! The CLI contract: exit codes, located errors, nothing written on error,
//! the plan JSON document.

use predicates::prelude::*;

use crate::util::{MINIMAL, coder_gen, spec_in};

fn plan_json(users: u32, cloud: &str) -> serde_json::Value {
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec_in(tmp.path(), "spec.yaml", &MINIMAL.replace("1800", &users.to_string()).replace("aws", cloud));
    let out = coder_gen().arg("plan").arg(&spec).args(["--format", "json"]).assert().success();
    serde_json::from_slice(&out.get_output().stdout).unwrap()
}

#[test]
fn plan_json_tiers_at_the_boundaries() {
    for (users, tier) in [(1, "1k"), (1000, "1k"), (1001, "2k"), (2000, "2k"), (2001, "3k"), (3000, "3k")] {
        for cloud in ["gcp", "aws", "azure"] {
            let j = plan_json(users, cloud);
            assert_eq!(j["tier"], tier, "{users} {cloud}");
            assert_eq!(j["users"], users);
            assert_eq!(j["cloud"], cloud);
        }
    }
}

#[test]
fn plan_json_has_the_documented_fields() {
    let j = plan_json(3000, "aws");
    for key in
        ["format_version", "tier", "users", "cloud", "pools", "coderd", "provisioners", "workspaces", "database", "warnings", "notes"]
    {
        assert!(j.get(key).is_some(), "missing {key}");
    }
    let pool = &j["pools"][0];
    for key in ["role", "machine_type", "vcpu", "memory_gib", "min_nodes", "max_nodes"] {
        assert!(pool.get(key).is_some(), "pool missing {key}");
    }
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

#[test]
fn too_many_users_exits_2_with_location_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec_in(tmp.path(), "spec.yaml", &MINIMAL.replace("1800", "3001"));
    let out = tmp.path().join("out");
    coder_gen()
        .arg("render")
        .arg(&spec)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("spec.yaml:2:8").and(predicate::str::contains("3,000")));
    assert!(!out.exists(), "nothing may be written on error");
}

#[test]
fn malformed_specs_exit_2_with_a_located_message() {
    let cases = [
        ("unknown key", format!("{MINIMAL}databse: {{}}\n"), "spec.yaml:6:1"),
        ("nested unknown key", format!("{MINIMAL}kubernetes:\n  versoin: \"1.33\"\n"), "spec.yaml:7:3"),
        ("bad yaml", format!("{MINIMAL}users: [\n"), "spec.yaml:"),
        ("wrong type", MINIMAL.replace("1800", "many"), "spec.yaml:2:8"),
        ("bad cloud", MINIMAL.replace("aws", "oracle"), "spec.yaml:3:8"),
        ("missing key", MINIMAL.replace("region: us-east-1\n", ""), "spec.yaml:"),
        ("empty file", String::new(), "spec.yaml"),
    ];
    for (what, text, located) in cases {
        let tmp = tempfile::tempdir().unwrap();
        let spec = spec_in(tmp.path(), "spec.yaml", &text);
        let out = tmp.path().join("out");
        let assert = coder_gen().arg("render").arg(&spec).arg("-o").arg(&out).assert().code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).into_owned();
        assert!(stderr.contains(located), "{what}: expected {located} in\n{stderr}");
        assert!(stderr.contains("help:"), "{what}: no help in\n{stderr}");
        assert!(!out.exists(), "{what}: wrote output");
        coder_gen().arg("plan").arg(&spec).assert().code(2);
    }
}

#[test]
fn missing_spec_file_exits_2() {
    coder_gen().args(["plan", "/nonexistent/spec.yaml"]).assert().code(2).stderr(predicate::str::contains("cannot read"));
}

#[test]
fn usage_errors_exit_2_and_help_has_examples() {
    coder_gen().arg("frobnicate").assert().code(2);
    for sub in ["render", "plan", "diff", "check"] {
        coder_gen().args([sub, "--help"]).assert().success().stdout(predicate::str::contains("Example"));
    }
    coder_gen().arg("--version").assert().success().stdout(predicate::str::contains(env!("CARGO_PKG_VERSION")));
}

#[test]
fn plan_text_shows_tier_pools_and_warnings() {
    let tmp = tempfile::tempdir().unwrap();
    let spec = spec_in(tmp.path(), "spec.yaml", &MINIMAL.replace("1800", "3000"));
    coder_gen().arg("plan").arg(&spec).assert().success().stdout(
        predicate::str::contains("tier        3k")
            .and(predicate::str::contains("t3.2xlarge"))
            .and(predicate::str::contains("seed-capacity-mismatch")),
    );
}

/// Issue #14: an override file is part of what render, diff and check see.
/// Editing it is drift; a patch that matches nothing and an unintended sized
/// value are refused with exit 2 and nothing written.
#[test]
fn override_files_are_rendered_checked_and_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::write(tmp.path().join("coder.yaml"), "coder:\n  image:\n    pullSecrets:\n      - name: regcred\n").unwrap();
    let spec = spec_in(tmp.path(), "spec.yaml", &format!("{MINIMAL}overrides:\n  helm:\n    coder:\n      values: coder.yaml\n"));
    coder_gen().arg("render").arg(&spec).arg("-o").arg(&out).assert().success();
    coder_gen().arg("check").arg(&spec).arg("-o").arg(&out).assert().code(0);
    std::fs::write(tmp.path().join("coder.yaml"), "coder:\n  image:\n    pullSecrets:\n      - name: other\n").unwrap();
    coder_gen()
        .arg("check")
        .arg(&spec)
        .arg("-o")
        .arg(&out)
        .assert()
        .code(1)
        .stdout(predicate::str::contains("-      - name: regcred").and(predicate::str::contains("+      - name: other")));

    std::fs::write(tmp.path().join("coder.yaml"), "coder:\n  replicaCount: 9\n").unwrap();
    coder_gen()
        .arg("render")
        .arg(&spec)
        .arg("-o")
        .arg(tmp.path().join("new"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("changes `coder.replicaCount`, which the plan sized").and(predicate::str::contains("intended")));
    assert!(!tmp.path().join("new").exists());

    std::fs::write(tmp.path().join("p.yaml"), "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: nope\n").unwrap();
    let spec = spec_in(tmp.path(), "spec2.yaml", &format!("{MINIMAL}overrides:\n  kustomize:\n    coder:\n      patches: [p.yaml]\n"));
    coder_gen()
        .arg("render")
        .arg(&spec)
        .arg("-o")
        .arg(tmp.path().join("new"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("spec2.yaml:9:17: overrides.kustomize.coder: patch p.yaml matches nothing"));
    assert!(!tmp.path().join("new").exists());
}
