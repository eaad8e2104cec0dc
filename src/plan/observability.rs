//! Metrics: on or off, port, database metrics, and who may scrape.

use serde::Serialize;

use super::{Ctx, Findings, Reasons, WarningCode};
use crate::spec::AutoBool;

#[derive(Debug, Clone, Serialize)]
pub struct Observability {
    pub enabled: bool,
    pub prometheus_port: u16,
    pub collect_db_metrics: bool,
    /// Namespace whose Prometheus may scrape coderd and provisioners (the
    /// NetworkPolicies admit metrics traffic only from it).
    pub scrape_namespace: String,
    pub reasons: Reasons,
}

pub(crate) fn plan(ctx: &Ctx, found: &mut Findings) -> Observability {
    let (spec, tier) = (ctx.spec, ctx.tier);
    let obs_on = match spec.observability {
        AutoBool::Auto => tier.observability,
        AutoBool::Set(v) => v,
    };
    if tier.observability && !obs_on {
        found.warn(
            WarningCode::ObservabilityDisabled,
            format!(
                "tier {}: the reference architecture asks for Prometheus metrics and Grafana dashboards; observability: false turns them off",
                tier.id
            ),
        );
    }
    let mut obr = Reasons::new();
    obr.insert(
        "prometheus_port",
        "coderd and provisioners serve metrics on 2112 (the charts fix CODER_PROMETHEUS_ADDRESS=0.0.0.0:2112)".into(),
    );
    obr.insert(
        "enabled",
        match spec.observability {
            AutoBool::Auto => format!(
                "observability: auto is on for tiers whose reference architecture asks for it (tier {}: {})",
                tier.id,
                if tier.observability { "yes" } else { "no" }
            ),
            AutoBool::Set(_) => "observability in the spec".into(),
        },
    );
    obr.insert(
        "scrape_namespace",
        "the namespace Coder's observability chart (coder/observability) installs into; NetworkPolicies admit port 2112 only from it"
            .into(),
    );
    Observability {
        enabled: obs_on,
        prometheus_port: 2112,
        collect_db_metrics: obs_on,
        scrape_namespace: crate::spec::SCRAPE_NAMESPACE.into(),
        reasons: obr,
    }
}
