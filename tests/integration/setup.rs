//! Meeting users where they work: the JSON Schema and the examples' modeline,
//! `init`, completions, the man page, `--quiet`, `--color`, and messages
//! that list every problem at once.

use crate::util::{Deployment, MINIMAL, Run, SpecBuilder, examples, repo_root, spec_in};

const MODELINE: &str = "# yaml-language-server: $schema=../schema/coder-gen.schema.json";

fn stdout_of(args: &[&str]) -> String {
    Run::new(args).assert().success().stdout()
}

#[test]
fn the_committed_schema_is_what_coder_gen_schema_prints() {
    let printed = stdout_of(&["schema"]);
    let path = repo_root().join("schema/coder-gen.schema.json");
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &printed).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(committed, printed, "{} is stale: rerun with UPDATE_GOLDEN=1", path.display());
    let schema: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    // Unknown keys are refused at every depth, as the parser does.
    assert_eq!(schema["additionalProperties"], false);
    for (name, def) in schema["definitions"].as_object().unwrap() {
        if def["type"] == "object" && def.get("properties").is_some() {
            assert_eq!(def["additionalProperties"], false, "definitions.{name}");
        }
    }
}

#[test]
fn every_example_points_editors_at_the_schema() {
    let all = examples();
    assert!(all.len() >= 10);
    for spec in all {
        let text = std::fs::read_to_string(&spec).unwrap();
        assert_eq!(text.lines().next(), Some(MODELINE), "{}: first line", spec.display());
        // The modeline's path resolves from the example's directory.
        assert!(spec.parent().unwrap().join("../schema/coder-gen.schema.json").is_file());
    }
}

#[test]
fn init_writes_a_spec_that_renders_without_edits() {
    for (cloud, region, users) in [("gcp", "us-central1", "500"), ("aws", "eu-west-1", "1800"), ("azure", "westeurope", "3000")] {
        let tmp = crate::util::tempdir();
        let spec = tmp.path().join("spec.yaml");
        Run::new(["init", "--users", users, "--cloud", cloud, "--region", region, "--access-url", "https://coder.example.com"])
            .in_dir(tmp.path())
            .assert()
            .stderr_is("wrote spec.yaml; next: coder-gen render spec.yaml -o out/\n")
            .success();
        let text = std::fs::read_to_string(&spec).unwrap();
        assert!(text.contains(&format!("\ncloud: {cloud}\nregion: {region}\n")), "{text}");
        let d = Deployment::of(&spec);
        d.render();
        assert!(d.out.join(".coder-gen/manifest.json").is_file());
    }
}

#[test]
fn init_never_overwrites_and_refuses_flags_that_do_not_plan() {
    let tmp = crate::util::tempdir();
    let spec = spec_in(tmp.path(), "spec.yaml", "mine\n");
    let args = ["--users", "80", "--cloud", "aws", "--region", "us-east-1", "--access-url", "https://coder.example.com"];
    Run::new(["init"]).arg(&spec).args(args).assert().code(2).stderr_is(&format!(
        "error: {} already exists; init never overwrites a file\n  = help: choose another path, e.g. `coder-gen init new-spec.yaml …`\n",
        spec.display()
    ));
    assert_eq!(std::fs::read_to_string(&spec).unwrap(), "mine\n");

    // A region of another cloud: located in the spec it would have written, nothing written.
    let other = tmp.path().join("other.yaml");
    let args = ["--users", "80", "--cloud", "aws", "--region", "us-central1", "--access-url", "https://coder.example.com"];
    let stderr = Run::new(["init"]).arg(&other).args(args).assert().code(2).stderr();
    assert!(stderr.starts_with("error: the flags do not make a valid spec; nothing was written\n"), "{stderr}");
    assert!(stderr.contains("region `us-central1` is not an aws region"), "{stderr}");
    assert!(!other.exists());
    // clap refuses what it can check itself.
    Run::new(["init"])
        .arg(&other)
        .args(["--users", "0", "--cloud", "aws", "--region", "x", "--access-url", "y"])
        .assert()
        .code(2)
        .stderr_has("--users");
    assert!(!other.exists());
}

#[test]
fn completions_for_every_shell_and_a_man_page() {
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = stdout_of(&["completions", shell]);
        assert!(script.contains("coder-gen"), "{shell}");
        // Subcommands and global flags are completed.
        assert!(script.contains("render") && script.contains("init") && script.contains("quiet"), "{shell}");
    }
    Run::new(["completions", "tcsh"]).assert().code(2).stderr_has("tcsh");
    let man = stdout_of(&["man"]);
    assert!(man.starts_with(".ie"), "{}", &man[..40.min(man.len())]);
    assert!(man.contains(".TH coder-gen 1"));
    assert!(man.contains("completions") && man.contains("\\-\\-quiet"));
}

#[test]
fn quiet_keeps_only_errors_and_results() {
    // A 3k spec: its plan carries warnings (the seeds contradict themselves).
    let d = Deployment::new(&SpecBuilder::new().users(2500).cloud("gcp").build());
    let loud = d.render().stderr();
    for code in ["seed-capacity-mismatch", "provisioner-memory-below-sizing"] {
        assert!(loud.contains(&format!("warning: {code}: ")), "{loud}");
    }
    std::fs::remove_dir_all(&d.out).unwrap();
    // Empty stderr: `success()` requires it.
    for args in [vec!["render", "-q"], vec!["--quiet", "render"]] {
        Run::new(&args).arg(&d.spec).arg("-o").arg(&d.out).assert().success();
    }
    assert!(d.out.join(".coder-gen/manifest.json").is_file());
    for cmd in ["diff", "check"] {
        Run::new([cmd, "--quiet"]).arg(&d.spec).arg("-o").arg(&d.out).assert().success();
    }
    // Errors are never quiet.
    let bad = spec_in(d.dir(), "bad.yaml", &SpecBuilder::new().users(9000).cloud("gcp").build());
    Run::new(["render", "-q"]).arg(&bad).arg("-o").arg(&d.out).assert().code(2).stderr_has("users is 9000");
}

#[test]
fn color_always_and_never_override_the_environment() {
    let tmp = crate::util::tempdir();
    let spec = spec_in(tmp.path(), "spec.yaml", MINIMAL);
    let out = tmp.path().join("out");
    let diff = |color: &str, force: bool| {
        let mut run = Run::new(["diff", "--color", color]).arg(&spec).arg("-o").arg(&out);
        if force {
            run = run.color_forced();
        }
        run.assert().diff_shown().stdout()
    };
    // NO_COLOR is set by `Run`; --color always wins over it.
    assert!(diff("always", false).contains("\x1b["));
    assert!(!diff("never", true).contains("\x1b["));
    assert!(!diff("auto", false).contains("\x1b["));
    assert!(diff("auto", true).contains("\x1b["));
}

#[test]
fn two_typos_are_both_reported_by_the_cli() {
    let tmp = crate::util::tempdir();
    let spec = spec_in(tmp.path(), "spec.yaml", &format!("{MINIMAL}userz: 3\nregoin: x\n"));
    let stderr = Run::new(["plan"]).arg(&spec).assert().code(2).stderr();
    let file = spec.display().to_string();
    assert!(stderr.contains(&format!("error: {file}:6:1: unknown key `userz` at the top level\n")), "{stderr}");
    assert!(stderr.contains(&format!("error: {file}:7:1: unknown key `regoin` at the top level\n")), "{stderr}");
    assert!(stderr.contains("did you mean `users`?") && stderr.contains("did you mean `region`?"), "{stderr}");
}

/// The specs `.ci/check-schema.sh` shows the JSON Schema refusing are
/// refused by coder-gen too, every problem at once.
#[test]
fn the_schemas_bad_specs_fail_the_parser_with_every_problem() {
    let dir = repo_root().join("tests/data/schema");
    let typos = std::fs::read_to_string(dir.join("bad-typos-and-types.yaml")).unwrap();
    let err = coder_gen::plan_from_str("bad.yaml", &typos).unwrap_err();
    let found: Vec<(u64, u64, &str)> = err.errors().iter().map(|e| (e.line, e.column, e.message.as_str())).collect();
    assert_eq!(
        found,
        [
            (4, 8, "`users` is `1,800`; expected a whole number from 1 to 3000"),
            (5, 1, "unknown key `userz` at the top level"),
            (7, 1, "unknown key `regoin` at the top level"),
            (10, 16, "`observability` is `yes`; expected `auto`, `true`, `false` or a mapping of keys"),
        ]
    );
    let region = std::fs::read_to_string(dir.join("bad-region.yaml")).unwrap();
    let err = coder_gen::plan_from_str("bad.yaml", &region).unwrap_err();
    assert_eq!(err.errors()[0].message, "region `us-central1` is not an aws region");
    let security = std::fs::read_to_string(dir.join("bad-security.yaml")).unwrap();
    let err = coder_gen::plan_from_str("bad.yaml", &security).unwrap_err();
    let found: Vec<(u64, u64, &str)> = err.errors().iter().map(|e| (e.line, e.column, e.message.as_str())).collect();
    assert_eq!(
        found,
        [
            (10, 17, "`security.hsts_max_age` is 99999999; expected a whole number from 0 to 63072000"),
            (11, 30, "`security.audit_logs_retention_days` is 36500; expected a whole number from 0 to 3650"),
            (14, 15, "`observability.alerts.receiver` is `email`; expected one of `slack`, `pagerduty`, `webhook`"),
        ]
    );
}

/// `.ci/lib.sh`, which every CI script uses for what it needs from outside
/// the repository: under CI=true a missing prerequisite fails, naming it;
/// elsewhere it is a loud SKIP.
#[test]
fn ci_fails_on_a_missing_prerequisite_and_skips_loudly_elsewhere() {
    let run = |ci: &str| {
        std::process::Command::new("bash")
            .arg("-c")
            .arg(". .ci/lib.sh; need_cmd coder-gen-no-such-tool 'install it' || echo skipped; echo after")
            .current_dir(repo_root())
            .env("CI", ci)
            .output()
            .unwrap()
    };
    let ci = run("true");
    assert_eq!(ci.status.code(), Some(1));
    assert_eq!(
        String::from_utf8_lossy(&ci.stderr),
        "FAIL: `coder-gen-no-such-tool` on PATH is missing (install it); under CI=true every check must run\n"
    );
    assert_eq!(String::from_utf8_lossy(&ci.stdout), "");
    let local = run("");
    assert!(local.status.success());
    assert_eq!(String::from_utf8_lossy(&local.stdout), "skipped\nafter\n");
    assert!(String::from_utf8_lossy(&local.stderr).starts_with("SKIP (CI is not true): `coder-gen-no-such-tool` on PATH is missing"));
    // The Terraform stage reuses the binary `cargo test` built, and needs terraform.
    let tf = std::fs::read_to_string(repo_root().join(".ci/check-terraform.sh")).unwrap();
    assert!(!tf.lines().any(|l| l.trim_start().starts_with("cargo ")), "check-terraform.sh runs cargo");
    assert!(tf.contains("need_cmd terraform") && tf.contains("bin=${CODER_GEN_BIN:-${CARGO_TARGET_DIR:-target}/debug/coder-gen}"));
}
