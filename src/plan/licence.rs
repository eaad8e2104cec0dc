//! Licence: what the deployment's Coder licence allows, and what the tier
//! gives up without Premium.

use serde::Serialize;

use super::{Ctx, Findings, Reasons, WarningCode};
use crate::spec::License;

#[derive(Debug, Clone, Serialize)]
pub struct Licence {
    pub license: License,
    /// External provisioner daemons (their own namespaces, releases, pool):
    /// a Premium feature.
    pub external_provisioners: bool,
    /// At most this many coderd replicas (`None`: as the tier sizes them).
    pub max_coderd_replicas: Option<u32>,
    /// The README adds the licence after the first login.
    pub needs_license_file: bool,
    pub reasons: Reasons,
}

pub(crate) fn plan(ctx: &Ctx, found: &mut Findings) -> Licence {
    let license = ctx.spec.coder.license;
    let mut r = Reasons::new();
    let premium = license == License::Premium;
    r.insert(
        "license",
        if premium {
            "premium (the default): the reference architectures run external provisioners and several coderd replicas, both Premium features; coderd answers 403 to external provisioners without it".into()
        } else {
            "community (the spec): no licence, so no external provisioners and a single coderd".into()
        },
    );
    r.insert(
        "external_provisioners",
        if premium {
            "Premium: provisioners run in their own namespaces, authenticated by scoped keys".into()
        } else {
            "community: coderd answers 403 to external provisioner daemons, so coderd's built-in provisioners build workspaces; no provisioner pool, releases or overlays".into()
        },
    );
    r.insert(
        "max_coderd_replicas",
        if premium {
            "Premium: as many coderd replicas as the tier sizes".into()
        } else {
            "community: more than one coderd replica needs Premium (the chart's coder.replicaCount), so 1".into()
        },
    );
    if !premium {
        let t = ctx.tier;
        found.warn(
            WarningCode::CommunityLicence,
            format!(
                "coder.license is community: tier {} plans {}-{} coderd replicas and {} external provisioners, which need Premium; this tree runs 1 coderd (no high availability: a node drain or crash is an outage) whose built-in provisioners build workspaces inside coderd's pod (fewer concurrent builds, sharing coderd's CPU), with no provisioner isolation or tags",
                t.id,
                t.coderd.replicas.min,
                t.coderd.replicas.max,
                t.provisioners.nodes * t.provisioners.per_node
            ),
        );
    }
    Licence {
        license,
        external_provisioners: premium,
        max_coderd_replicas: (!premium).then_some(1),
        needs_license_file: premium,
        reasons: r,
    }
}

#[cfg(test)]
mod tests {
    use crate::plan::{Role, WarningCode};
    use crate::test_support::spec_text;

    fn spec() -> String {
        spec_text(3000, "gcp")
    }

    #[test]
    fn premium_keeps_the_tier_and_community_gives_it_up_with_reasons() {
        let p = crate::plan_from_str("s.yaml", &spec()).unwrap();
        assert!(p.licence.external_provisioners && p.licence.needs_license_file);
        assert_eq!(p.coderd.replicas, 4);
        assert_eq!(p.coderd.provisioner_daemons, 0);
        let p = crate::plan_from_str("s.yaml", &format!("{}coder:\n  license: community\n", spec())).unwrap();
        assert!(!p.licence.external_provisioners && !p.licence.needs_license_file);
        assert_eq!(p.licence.max_coderd_replicas, Some(1));
        assert_eq!(p.coderd.replicas, 1);
        assert!(!p.coderd.high_availability);
        assert!(p.coderd.builtin_provisioners && p.coderd.provisioner_daemons >= 3);
        assert!(p.coderd.reasons["replicas"].contains("Premium"));
        assert!(p.provisioners.is_empty());
        assert!(p.pools.iter().all(|pool| pool.role != Role::Provisioner));
        assert!(p.warnings.iter().any(|w| w.code == WarningCode::CommunityLicence));
        for key in ["license", "external_provisioners", "max_coderd_replicas"] {
            assert!(p.licence.reasons.contains_key(key), "{key}");
        }
    }
}
