//! The user's files end to end: written beside a spec in a temporary
//! folder, then planned and rendered.

use crate::diag::SpecError;
use crate::plan::to_text;
use crate::test_support::spec_text;
use crate::tree::Tree;
use crate::yaml::object_id;
use crate::{plan_from_str, render_str};

fn base_spec() -> String {
    spec_text(1200, "aws")
}

mod helm {
    use super::*;

    /// Writes `files` beside a spec with `overrides` and renders it.
    fn render(overrides: &str, files: &[(&str, &str)]) -> Result<Tree, SpecError> {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            let p = dir.path().join(name);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        let spec = dir.path().join("spec.yaml");
        render_str(&spec.display().to_string(), &format!("{}{overrides}", base_spec()))
    }

    fn messages(r: Result<Tree, SpecError>) -> Vec<String> {
        match r {
            Err(e) => e.errors().iter().map(|l| format!("{}:{} {} / {}", l.line, l.column, l.message, l.help)).collect(),
            Ok(_) => panic!("expected an error"),
        }
    }

    const CODER: &str = "overrides:\n  helm:\n    coder:\n      values: o/coder.yaml\n";

    #[test]
    fn merged_values_reach_the_tree_and_follow_the_file() {
        let file = "coder:\n  image:\n    pullSecrets:\n      - name: regcred\n";
        let tree = render(CODER, &[("o/coder.yaml", file)]).unwrap();
        let values = tree.get_str("helm/coder/values.yaml").unwrap();
        assert!(values.contains("pullSecrets:\n      - name: regcred"), "{values}");
        assert!(values.contains("replicaCount: 2"), "generated values stay: {values}");
        assert!(values.contains("Merged with your o/coder.yaml"), "{values}");
        // Editing the override file changes the tree: render, diff and check see it.
        let edited = render(CODER, &[("o/coder.yaml", &file.replace("regcred", "other"))]).unwrap();
        assert_ne!(edited.get_str("helm/coder/values.yaml"), Some(values));
    }

    #[test]
    fn a_sized_number_is_refused_unless_intended() {
        let file = "coder:\n  replicaCount: 5\n";
        let m = messages(render(CODER, &[("o/coder.yaml", file)]));
        assert_eq!(m.len(), 1, "{m:?}");
        assert!(m[0].starts_with("9:15 o/coder.yaml: changes `coder.replicaCount`, which the plan sized"), "{m:?}");
        assert!(m[0].contains("intended"), "{m:?}");

        let intended = format!("{CODER}      intended: [coder.replicaCount]\n");
        let plan = {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("o")).unwrap();
            std::fs::write(dir.path().join("o/coder.yaml"), file).unwrap();
            plan_from_str(&dir.path().join("spec.yaml").display().to_string(), &format!("{}{intended}", base_spec())).unwrap()
        };
        assert!(plan.overrides.reasons["helm"].contains("from the user, not the plan: coder.replicaCount"), "{:?}", plan.overrides.reasons);
        let tree = render(&intended, &[("o/coder.yaml", file)]).unwrap();
        assert!(tree.get_str("helm/coder/values.yaml").unwrap().contains("replicaCount: 5"));
        assert!(tree.get_str("README.md").unwrap().contains("`coder.replicaCount` comes from your file, not from the sizing above"));
        assert!(to_text(&plan).contains("from you, not the plan: coder.replicaCount"));
    }

    #[test]
    fn unknown_chart_keys_and_env_replacement_are_refused() {
        let m = messages(render(CODER, &[("o/coder.yaml", "coder:\n  imag:\n    repo: x\n")]));
        assert!(m[0].contains("`coder.imag` is not a value of the coder chart") && m[0].contains("image"), "{m:?}");
        let m = messages(render(CODER, &[("o/coder.yaml", "coder:\n  image:\n    repoo: x\n")]));
        assert!(m[0].contains("`coder.image.repoo`") && m[0].contains("pullSecrets"), "{m:?}");
        let m = messages(render(CODER, &[("o/coder.yaml", "coder:\n  env:\n    - name: X\n      value: y\n")]));
        assert!(m[0].contains("coder.env") && m[0].contains("spec's coder.env"), "{m:?}");
        // A provisioner release: its env comes from the spec's provisioner keys.
        let prov = "overrides:\n  helm:\n    coder-provisioner/coder-provisioners:\n      values: o/p.yaml\n";
        let m = messages(render(prov, &[("o/p.yaml", "coder:\n  env:\n    - name: X\n      value: y\n")]));
        assert!(m[0].contains("provisioners[].env") && m[0].contains("coder.provisioner_env"), "{m:?}");
    }

    #[test]
    fn missing_unreadable_outside_and_unknown_targets_are_located() {
        let m = messages(render(CODER, &[]));
        assert!(m[0].starts_with("9:15 overrides.helm.coder: cannot read o/coder.yaml"), "{m:?}");
        let m = messages(render(CODER, &[("o/coder.yaml", "- a\n")]));
        assert!(m[0].contains("not a YAML map"), "{m:?}");
        let m = messages(render(CODER, &[("o/coder.yaml", "coder: [\n")]));
        assert!(m[0].contains("o/coder.yaml:"), "{m:?}");
        let m = messages(render(&CODER.replace("o/coder.yaml", "../coder.yaml"), &[]));
        assert!(m[0].contains("not a file inside the spec's folder"), "{m:?}");
        let m = messages(render(&CODER.replace("    coder:", "    coderd:"), &[]));
        assert!(m[0].contains("no release `coderd`") && m[0].contains("coder-provisioner/coder-provisioners"), "{m:?}");
        let m = messages(render(&format!("{CODER}      intended: [coder.image]\n"), &[]));
        assert!(m[0].contains("not a value the plan sizes"), "{m:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_link_out_of_the_folder_is_refused() {
        let outside = tempfile::NamedTempFile::new().unwrap();
        std::fs::write(outside.path(), "coder: {}\n").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(outside.path(), dir.path().join("coder.yaml")).unwrap();
        let spec = dir.path().join("spec.yaml");
        let r = render_str(&spec.display().to_string(), &format!("{}{}", base_spec(), CODER.replace("o/coder.yaml", "coder.yaml")));
        assert!(messages(r)[0].contains("leads outside the spec's folder"));
    }

    /// A FIFO would block a plain read; a huge file is read no further than the limit.
    #[cfg(unix)]
    #[test]
    fn a_fifo_a_folder_and_a_huge_file_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let spec = dir.path().join("spec.yaml").display().to_string();
        let run = |file: &str| messages(render_str(&spec, &format!("{}{}", base_spec(), CODER.replace("o/coder.yaml", file))));
        assert!(std::process::Command::new("mkfifo").arg(dir.path().join("fifo.yaml")).status().unwrap().success(), "mkfifo");
        let m = run("fifo.yaml");
        assert!(m[0].contains("cannot read fifo.yaml: it is a named pipe (FIFO), not a regular file"), "{m:?}");
        std::fs::create_dir(dir.path().join("d.yaml")).unwrap();
        let m = run("d.yaml");
        assert!(m[0].contains("cannot read d.yaml: it is a directory, not a regular file"), "{m:?}");
        let huge = std::fs::File::create(dir.path().join("huge.yaml")).unwrap();
        huge.set_len(2 << 30).unwrap();
        let m = run("huge.yaml");
        assert!(m[0].contains("huge.yaml is larger than 262144 bytes"), "{m:?}");
    }
}

mod terraform {
    use super::*;

    fn render(files: &[(&str, &str)]) -> Result<Tree, SpecError> {
        let dir = tempfile::tempdir().unwrap();
        let mut list = String::from("overrides:\n  terraform:\n");
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
            list.push_str(&format!("    - {name}\n"));
        }
        render_str(&dir.path().join("spec.yaml").display().to_string(), &format!("{}{list}", base_spec()))
    }

    fn first(r: Result<Tree, SpecError>) -> String {
        let e = r.expect_err("expected an error");
        let l = &e.errors()[0];
        format!("{}:{} {} / {}", l.line, l.column, l.message, l.help)
    }

    #[test]
    fn files_are_copied_and_checked() {
        let backend = "terraform {\n  backend \"s3\" {\n    bucket = \"state\"\n  }\n}\n";
        let tree = render(&[("backend.tf", backend)]).unwrap();
        let copied = tree.get_str("terraform/aws/backend.tf").unwrap();
        assert!(copied.starts_with("# DO NOT EDIT: copied by coder-gen from your backend.tf") && copied.ends_with(backend), "{copied}");

        let m = first(render(&[("node_pools.tf", backend)]));
        assert!(m.starts_with("8:7 overrides.terraform: node_pools.tf would replace coder-gen's node_pools.tf"), "{m}");
        let m = first(render(&[("broken.tf", "resource \"x\" {\n")]));
        assert!(m.contains("broken.tf is not Terraform (HCL)"), "{m}");
        let sized =
            "resource \"aws_eks_node_group\" \"coderd\" {\n  tags = { team = \"x\" }\n  scaling_config {\n    max_size = 9\n  }\n}\n";
        let m = first(render(&[("pools_override.tf", sized)]));
        assert!(m.contains("sets `scaling_config` in resource aws_eks_node_group.coderd"), "{m}");
        let fine = "resource \"aws_eks_node_group\" \"coderd\" {\n  tags = { team = \"x\" }\n}\n";
        assert!(render(&[("pools_override.tf", fine)]).is_ok());
    }
}

mod kustomize {
    use super::*;

    fn render(overlay: &str, key: &str, name: &str, text: &str) -> Result<Tree, SpecError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(name), text).unwrap();
        let o = format!("overrides:\n  kustomize:\n    {overlay}:\n      {key}:\n        - {name}\n");
        render_str(&dir.path().join("spec.yaml").display().to_string(), &format!("{}{o}", base_spec()))
    }

    fn first(r: Result<Tree, SpecError>) -> String {
        let e = r.expect_err("expected an error");
        let l = &e.errors()[0];
        format!("{}:{} {} / {}", l.line, l.column, l.message, l.help)
    }

    const NS_PATCH: &str = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: coder\n  labels:\n    team: platform\n";

    #[test]
    fn patches_and_extra_objects_are_wired_into_the_overlay() {
        let tree = render("coder", "patches", "ns.yaml", NS_PATCH).unwrap();
        let k = tree.get_str("kustomize/overlays/coder/kustomization.yaml").unwrap();
        assert!(k.contains("patches:\n  - path: patch-ns.yaml"), "{k}");
        assert!(tree.get_str("kustomize/overlays/coder/patch-ns.yaml").unwrap().ends_with(NS_PATCH));
        let sa = "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: extra\n";
        let tree = render("workspaces-coder-workspaces", "resources", "sa.yaml", sa).unwrap();
        let k = tree.get_str("kustomize/overlays/workspaces-coder-workspaces/kustomization.yaml").unwrap();
        assert!(k.contains("  - extra-sa.yaml\n"), "{k}");
    }

    #[test]
    fn a_patch_that_matches_nothing_is_refused() {
        let m = first(render("coder", "patches", "ns.yaml", &NS_PATCH.replace("name: coder", "name: coderr")));
        assert!(
            m.starts_with("10:11 overrides.kustomize.coder: patch ns.yaml matches nothing (Namespace/coderr is not in the overlay)"),
            "{m}"
        );
        assert!(m.contains("Namespace/coder"), "valid targets are named: {m}");
    }

    #[test]
    fn sized_objects_duplicates_and_bad_targets_are_refused() {
        let quota = "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: coder-workspaces\nspec:\n  hard:\n    pods: \"999\"\n";
        let quota_name = render_str("s.yaml", &base_spec()).unwrap();
        let name = quota_name
            .paths()
            .find(|p| p.starts_with("kustomize/overlays/workspaces-") && p.ends_with("resourcequota.yaml"))
            .unwrap()
            .to_string();
        let real = object_id(quota_name.get_str(&name).unwrap()).unwrap().1;
        let m = first(render("workspaces-coder-workspaces", "patches", "q.yaml", &quota.replace("coder-workspaces", &real)));
        assert!(m.contains("which the plan sized"), "{m}");
        let m = first(render("coder", "resources", "ns.yaml", NS_PATCH));
        assert!(m.contains("which coder-gen already writes"), "{m}");
        let m = first(render("coderd", "patches", "ns.yaml", NS_PATCH));
        assert!(m.contains("no overlay `coderd`") && m.contains("workspaces-coder-workspaces"), "{m}");
        let m = first(render("coder", "patches", "ns.yaml", "kind: Namespace\n"));
        assert!(m.contains("not a Kubernetes object"), "{m}");
    }
}

mod json_patch {
    use super::*;

    fn render(ops: &str, kind: &str, name: &str) -> Result<Tree, SpecError> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("j.yaml"), ops).unwrap();
        let o = format!(
            "overrides:\n  kustomize:\n    coder:\n      json_patches:\n        - file: j.yaml\n          kind: {kind}\n          name: {name}\n"
        );
        render_str(&dir.path().join("spec.yaml").display().to_string(), &format!("{}{o}", base_spec()))
    }

    #[test]
    fn json_patches_name_their_target_and_must_apply() {
        let add = "- op: add\n  path: /metadata/annotations\n  value:\n    team: platform\n";
        let tree = render(add, "Namespace", "coder").unwrap();
        let k = tree.get_str("kustomize/overlays/coder/kustomization.yaml").unwrap();
        assert!(k.contains("  - path: json-patch-j.yaml\n    target:\n      kind: Namespace\n      name: coder\n"), "{k}");
        let msg = |r: Result<Tree, SpecError>| r.expect_err("expected an error").errors()[0].message.clone();
        assert!(msg(render(add, "Namespace", "other")).contains("matches nothing (Namespace/other"));
        let replace = "- op: replace\n  path: /spec/nothing\n  value: 1\n";
        let m = msg(render(replace, "NetworkPolicy", "allow-users"));
        assert!(m.contains("`replace /spec/nothing` matches nothing in NetworkPolicy/allow-users"), "{m}");
        assert!(msg(render("op: add\n", "Namespace", "coder")).contains("not a list of JSON 6902 operations"));
    }
}
