//! Observability: metrics on or off, which coderd collectors run, how
//! Prometheus finds the pods (the coder-observability chart's annotation
//! discovery, plus ServiceMonitors only when the spec runs a Prometheus
//! Operator), and the coder-observability release: its chart, storage and
//! retention.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Ctx, Findings, Reasons, WarningCode};
use crate::spec::{AutoBool, SCRAPE_NAMESPACE};

#[derive(Debug, Clone, Serialize)]
pub struct Observability {
    pub enabled: bool,
    pub prometheus_port: u16,
    pub collect_db_metrics: bool,
    /// `CODER_PROMETHEUS_COLLECT_AGENT_STATS`: `coderd_agentstats_*` series.
    pub collect_agent_stats: bool,
    /// `CODER_PROMETHEUS_AGGREGATE_AGENT_STATS_BY`: the labels agent stats
    /// keep (fewer labels, fewer series).
    pub aggregate_agent_stats_by: String,
    /// Namespace whose Prometheus may scrape coderd and provisioners (the
    /// NetworkPolicies admit metrics traffic only from it).
    pub scrape_namespace: String,
    /// How the collector finds the pods: `annotations` (`prometheus.io/scrape`
    /// on the pods, what the coder-observability chart reads).
    pub discovery: &'static str,
    /// ServiceMonitors for the spec's own Prometheus Operator; `null`: none
    /// are written (no CRD needed).
    pub prometheus_operator: Option<PrometheusOperator>,
    /// Coder's coder-observability chart (`null` when observability is off).
    pub stack: Option<Stack>,
    pub reasons: Reasons,
}

#[derive(Debug, Clone, Serialize)]
pub struct PrometheusOperator {
    /// Where the operator's Prometheus runs; admitted to the metrics port.
    pub namespace: String,
    /// Labels on every ServiceMonitor (the operator's
    /// `serviceMonitorSelector`).
    pub selector_labels: BTreeMap<String, String>,
}

/// The coder-observability release: Prometheus, Grafana, Loki, the
/// grafana-agent collector and the Postgres exporters.
#[derive(Debug, Clone, Serialize)]
pub struct Stack {
    pub repository: String,
    pub repository_name: String,
    pub chart: String,
    pub release: String,
    pub namespace: String,
    pub version: String,
    /// Estimated active series (nodes x 1,000 for node, kubelet and
    /// kube-state metrics, plus users x 30 for coderd, provisioner and agent
    /// series).
    pub estimated_series: u32,
    pub retention_days: u32,
    /// Prometheus `retentionSize` (TSDB blocks are deleted above it).
    pub retention_size_gb: u32,
    /// Prometheus volume: retention size plus the chart's head room.
    pub volume_gib: u32,
    /// Where Grafana is reached (ClusterIP service, port-forward).
    pub grafana_service: String,
    /// The chart's "Coderd Replicas" alert fires when fewer coderd are up
    /// than each threshold (its defaults assume 3 replicas).
    pub coderd_replicas_alert: ReplicasAlert,
    /// What the README's observability step applies from
    /// `kustomize/observability/` before the chart (`external-secret`: the
    /// ExternalSecrets of the stack's secrets; `default-service-account`:
    /// the mirror's pull secret); empty: no such directory.
    pub prerequisites: Vec<Prerequisite>,
    pub reasons: Reasons,
}

/// An object of `kustomize/observability/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Prerequisite {
    ExternalSecret,
    DefaultServiceAccount,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub struct ReplicasAlert {
    pub notify: u32,
    pub warning: u32,
    pub critical: u32,
}

/// Bytes per sample Prometheus' TSDB needs after compression (its storage
/// docs: "approximately 1-2 bytes per sample"; the upper half, for head room).
const BYTES_PER_SAMPLE: f64 = 1.5;
const SCRAPE_INTERVAL_S: u32 = 15;
/// Coder's best practices: keep metrics at least six months.
const RETENTION_DAYS: u32 = 180;

pub(crate) fn plan(ctx: &Ctx, nodes: u32, coderd_replicas: u32, found: &mut Findings) -> Observability {
    let (spec, tier) = (ctx.spec, ctx.tier);
    let obs = &spec.observability;
    let obs_on = match obs.enabled {
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
        match obs.enabled {
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
    obr.insert(
        "collect_db_metrics",
        "Coder's best practices: CODER_PROMETHEUS_COLLECT_DB_METRICS=true for coderd_db_query_latencies_seconds".into(),
    );
    obr.insert(
        "collect_agent_stats",
        "\"all Coder observability features\" include agent stats (CODER_PROMETHEUS_COLLECT_AGENT_STATS, coder-facts section 9)".into(),
    );
    obr.insert(
        "aggregate_agent_stats_by",
        "Coder's best practices at high scale: aggregate agent stats by agent_name, so series do not grow with users and workspaces".into(),
    );
    obr.insert(
        "discovery",
        "the coder-observability chart's collector keeps pods annotated prometheus.io/scrape=true (it installs no Prometheus Operator CRDs)"
            .into(),
    );
    let prometheus_operator = obs
        .prometheus_operator
        .as_ref()
        .filter(|_| obs_on)
        .map(|p| PrometheusOperator { namespace: p.namespace.clone(), selector_labels: p.selector_labels.clone() });
    obr.insert(
        "prometheus_operator",
        match &prometheus_operator {
            Some(_) => "observability.prometheus_operator in the spec: ServiceMonitors for your operator, in addition to the annotations".into(),
            None => "no ServiceMonitors: the annotations are the scrape path, and a ServiceMonitor without the operator's CRD would fail `kubectl apply -k`".into(),
        },
    );
    let stack = obs_on.then(|| stack(ctx, nodes, coderd_replicas));
    obr.insert(
        "stack",
        if obs_on {
            "Coder's coder-observability chart: Prometheus, Grafana with Coder's dashboards, Loki, alerts and the Postgres exporters".into()
        } else {
            "observability is off".into()
        },
    );
    Observability {
        enabled: obs_on,
        prometheus_port: 2112,
        collect_db_metrics: obs_on,
        collect_agent_stats: obs_on,
        aggregate_agent_stats_by: "agent_name".into(),
        scrape_namespace: SCRAPE_NAMESPACE.into(),
        discovery: "annotations",
        prometheus_operator,
        stack,
        reasons: obr,
    }
}

fn stack(ctx: &Ctx, nodes: u32, coderd_replicas: u32) -> Stack {
    let users = ctx.users();
    let estimated_series = nodes * 1000 + users * 30;
    let samples_per_day = f64::from(86_400 / SCRAPE_INTERVAL_S);
    let gb = f64::from(estimated_series) * samples_per_day * BYTES_PER_SAMPLE * f64::from(RETENTION_DAYS) / 1e9;
    // Whole GB, at least the chart's default of 10.
    let retention_size_gb = (gb.ceil() as u32).max(10);
    // The chart keeps 2 GB above retentionSize for the WAL and compaction;
    // scale that to 10 % on large volumes.
    let volume_gib = retention_size_gb + (retention_size_gb / 10).max(2);
    let mut r = Reasons::new();
    r.insert("version", "observability.chart_version in the spec (default: coder/observability's latest release)".into());
    r.insert(
        "provisioner_groups",
        "the chart's provisioner panels select one namespace (global.coder.externalProvisionersNamespace, an exact match: the first group's) and its provisioner alert counts coderd's own daemons; so the tree adds a Grafana dashboard (folder Coder, `Provisioner groups`) and a Prometheus alert per group (ProvisionerGroupDaemons: fewer daemons than the group's replicas), which see every group".into(),
    );
    r.insert(
        "estimated_series",
        format!("{nodes} nodes x 1,000 (node exporter, kubelet, kube-state-metrics) + {users} users x 30 (coderd, provisioners, agents); an estimate"),
    );
    r.insert("retention_days", "Coder's best practices: keep metrics for at least six months".into());
    r.insert(
        "retention_size_gb",
        format!(
            "{estimated_series} series x one sample per {SCRAPE_INTERVAL_S}s x {BYTES_PER_SAMPLE} bytes (Prometheus storage docs: 1-2 bytes per sample) x {RETENTION_DAYS} days; at least the chart's 10 GB"
        ),
    );
    r.insert("volume_gib", "retention size plus the chart's head room for the WAL and compaction (2 GB, or 10 % when larger)".into());
    r.insert(
        "grafana_service",
        "the chart's Grafana is a ClusterIP service (fullnameOverride grafana, port 80); reach it with port-forward or your own ingress"
            .into(),
    );
    r.insert(
        "coderd_replicas_alert",
        format!("{coderd_replicas} coderd replicas: notify when one is down, warn when half are, critical when none is left"),
    );
    Stack {
        coderd_replicas_alert: ReplicasAlert { notify: coderd_replicas, warning: coderd_replicas.div_ceil(2).max(1), critical: 1 },
        repository: "https://helm.coder.com/observability".into(),
        repository_name: "coder-observability".into(),
        chart: "coder-observability".into(),
        release: "coder-observability".into(),
        namespace: SCRAPE_NAMESPACE.into(),
        version: ctx.spec.observability.chart_version.clone(),
        estimated_series,
        retention_days: RETENTION_DAYS,
        retention_size_gb,
        volume_gib,
        grafana_service: "grafana".into(),
        // Known once credentials and the network are planned (plan::plan).
        prerequisites: Vec::new(),
        reasons: r,
    }
}
