//! Bootstrap: what the README's first-run steps need from the plan: the
//! organization keys belong to, how a provisioner key is cut out of the CLI's
//! output, and which provisioner group takes templates pushed without tags.

use serde::Serialize;

use super::{Ctx, Findings, Licence, Provisioners, Reasons, WarningCode};

#[derive(Debug, Clone, Serialize)]
pub struct Bootstrap {
    /// The organization keys and templates belong to; `None`: Coder's
    /// default organization.
    pub organization: Option<String>,
    /// What the README appends to `coder provisioner keys create`, `coder
    /// templates push` and `coder provisioner list`: ` --org NAME`, or
    /// nothing for the default organization (the CLI's own choice then).
    pub org_flag: String,
    /// Shell filter that keeps exactly the key from `coder provisioner keys
    /// create`'s output (line 3), without a trailing newline.
    pub key_filter: String,
    /// The provisioner namespace that takes untagged template builds; `None`
    /// with external provisioners: every group is tagged (see warnings).
    pub untagged_namespace: Option<String>,
    pub reasons: Reasons,
}

pub(crate) fn plan(ctx: &Ctx, licence: &Licence, provisioners: &[Provisioners], found: &mut Findings) -> Bootstrap {
    let mut r = Reasons::new();
    let organization = ctx.spec.coder.organization.clone();
    let org_flag = organization.as_ref().map(|o| format!(" --org {o}")).unwrap_or_default();
    r.insert(
        "organization",
        match &organization {
            Some(o) => format!("provisioner keys and templates belong to organization `{o}` (coder.organization): every command names it with --org"),
            None => "provisioner keys and templates belong to Coder's default organization (the one created on first start), which the CLI selects when no --org is given".into(),
        },
    );
    let key_filter = "sed -n 3p | tr -d '\\n'".to_string();
    r.insert(
        "key_filter",
        "`coder provisioner keys create` prints a success line, a blank line, then the key: keep line 3 only, without its newline (a newline in the secret breaks the key header), and pipe it straight into the secret so it never lands in a file".into(),
    );
    let untagged_namespace = if licence.external_provisioners {
        let untagged = provisioners.iter().find(|g| g.tags.is_empty()).map(|g| g.namespace.clone());
        match &untagged {
            Some(ns) => {
                r.insert(
                    "untagged_namespace",
                    format!("`{ns}` has no tags: its provisioners take templates pushed without --provisioner-tag"),
                );
            }
            None => {
                r.insert("untagged_namespace", "every provisioner group is tagged: none takes untagged jobs".into());
                found.warn(
                    WarningCode::NoUntaggedProvisioners,
                    "every provisioner group has tags, and a tagged provisioner never takes an untagged job: templates pushed without --provisioner-tag (and their workspace builds) stay pending forever. Push every template with --provisioner-tag matching a group (README, \"Templates\"), or add a provisioner group without tags".into(),
                );
            }
        }
        untagged
    } else {
        r.insert("untagged_namespace", "community: coderd's built-in provisioners take every (untagged) job".into());
        None
    };
    Bootstrap { organization, org_flag, key_filter, untagged_namespace, reasons: r }
}

#[cfg(test)]
mod tests {
    use crate::plan::{Plan, WarningCode};
    use crate::plan_from_str;
    use crate::test_support::spec_text;

    fn spec() -> String {
        spec_text(800, "aws")
    }

    fn plan(extra: &str) -> Plan {
        plan_from_str("spec.yaml", &format!("{}{extra}", spec())).unwrap()
    }

    fn warned(p: &Plan, code: WarningCode) -> bool {
        p.warnings.iter().any(|w| w.code == code)
    }

    #[test]
    fn an_untagged_group_takes_untagged_jobs_and_all_tagged_warns() {
        let p = plan("");
        assert_eq!(p.bootstrap.untagged_namespace.as_deref(), Some("coder-provisioners"));
        assert!(!warned(&p, WarningCode::NoUntaggedProvisioners));
        let p = plan("provisioners:\n  - namespace: a\n    tags: { x: y }\n  - namespace: b\n");
        assert_eq!(p.bootstrap.untagged_namespace.as_deref(), Some("b"));
        let p = plan("provisioners:\n  - namespace: a\n    tags: { x: y }\n");
        assert_eq!(p.bootstrap.untagged_namespace, None);
        assert!(warned(&p, WarningCode::NoUntaggedProvisioners));
    }

    #[test]
    fn organization_flag_only_when_the_spec_names_one() {
        let p = plan("");
        assert_eq!((p.bootstrap.organization.as_deref(), p.bootstrap.org_flag.as_str()), (None, ""));
        let p = plan("coder:\n  organization: data\n");
        assert_eq!(p.bootstrap.org_flag, " --org data");
        // The key filter keeps line 3 (the key) without its newline.
        assert!(p.bootstrap.key_filter.starts_with("sed -n 3p"));
    }
}
