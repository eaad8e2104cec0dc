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
