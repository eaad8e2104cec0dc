//! Warnings (stable codes) and notes (the tier's footnotes, licence hints),
//! and the cross-cutting warning about burstable machine types.

use serde::Serialize;

use super::{Ctx, Findings, Role, coderd::Coderd};

/// A seed footnote or source note carried into the plan and the tree README.
#[derive(Debug, Clone, Serialize)]
pub struct Note {
    pub topic: String,
    pub text: String,
    pub source: String,
}

/// Stable warning codes: scripts may match on them (README, "Warnings").
/// Serialized as kebab-case strings (`seed-capacity-mismatch`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum WarningCode {
    SeedCapacityMismatch,
    CoderdBelowScalingFormula,
    MaxPodsClamped,
    WorkspaceMemoryHeadroom,
    HaDisabled,
    AzureStorageRounded,
    ObservabilityDisabled,
    BurstableMachineType,
    CommunityLicence,
    NoUntaggedProvisioners,
    ProvisionerMemoryBelowSizing,
    ReadReplicasUnused,
    DatabaseBuildsAboveThreshold,
    PathAppsEnabled,
    HstsDisabled,
    LogRetentionBelowGuidance,
    LogRetentionUnbounded,
    TrustedProxiesUnset,
    AlertsUnrouted,
    ChartOutOfSupport,
    ProxyBelowSizing,
}

impl WarningCode {
    pub fn as_str(self) -> &'static str {
        match self {
            WarningCode::SeedCapacityMismatch => "seed-capacity-mismatch",
            WarningCode::CoderdBelowScalingFormula => "coderd-below-scaling-formula",
            WarningCode::MaxPodsClamped => "max-pods-clamped",
            WarningCode::WorkspaceMemoryHeadroom => "workspace-memory-headroom",
            WarningCode::HaDisabled => "ha-disabled",
            WarningCode::AzureStorageRounded => "azure-storage-rounded",
            WarningCode::ObservabilityDisabled => "observability-disabled",
            WarningCode::BurstableMachineType => "burstable-machine-type",
            WarningCode::CommunityLicence => "community-licence",
            WarningCode::NoUntaggedProvisioners => "no-untagged-provisioners",
            WarningCode::ProvisionerMemoryBelowSizing => "provisioner-memory-below-sizing",
            WarningCode::ReadReplicasUnused => "read-replicas-unused",
            WarningCode::DatabaseBuildsAboveThreshold => "database-builds-above-threshold",
            WarningCode::PathAppsEnabled => "path-apps-enabled",
            WarningCode::HstsDisabled => "hsts-disabled",
            WarningCode::LogRetentionBelowGuidance => "log-retention-below-guidance",
            WarningCode::LogRetentionUnbounded => "log-retention-unbounded",
            WarningCode::TrustedProxiesUnset => "trusted-proxies-unset",
            WarningCode::AlertsUnrouted => "alerts-unrouted",
            WarningCode::ChartOutOfSupport => "chart-out-of-support",
            WarningCode::ProxyBelowSizing => "proxy-below-sizing",
        }
    }
}

impl std::fmt::Display for WarningCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Warning {
    pub code: WarningCode,
    pub message: String,
}

/// Coder's later docs advise against burstable types the seeds name.
pub(crate) fn burstable(ctx: &Ctx, found: &mut Findings) {
    let m = &ctx.machines;
    let burstable: Vec<String> = [
        (Role::Coderd.as_str(), m.coderd),
        (Role::Provisioner.as_str(), m.provisioner),
        (Role::Workspace.as_str(), m.workspace),
        ("database", m.database),
    ]
    .iter()
    .filter(|(_, m)| m.burstable)
    .map(|(r, m)| format!("{r}: {}", m.name))
    .collect();
    if !burstable.is_empty() {
        found.warn(
            super::WarningCode::BurstableMachineType,
            format!(
                "burstable types ({}) follow the reference architecture, but Coder's later docs advise non-burstable types (m5/c5/db.m5) because performance drops once CPU credits run out; override them with machine_types (e.g. coderd: m5.xlarge, provisioner: c5.2xlarge, workspace: m5.2xlarge, database: db.m5.xlarge)",
                burstable.join(", ")
            ),
        );
    }
}

/// Every footnote of the tier, then the licence note, then the components'
/// own notes (`earlier`).
pub(crate) fn tier_notes(ctx: &Ctx, coderd: &Coderd, mut earlier: Vec<Note>) -> Vec<Note> {
    let tier = ctx.tier;
    let mut notes = vec![Note { topic: "high availability".into(), text: tier.high_availability.clone(), source: tier.source.clone() }];
    if !tier.observability_note.is_empty() {
        notes.push(Note { topic: "observability".into(), text: tier.observability_note.clone(), source: tier.source.clone() });
    }
    for (topic, list) in [
        ("coderd", &tier.coderd.footnotes),
        ("provisioners", &tier.provisioners.footnotes),
        ("workspaces", &tier.workspaces.footnotes),
        ("database", &tier.database.footnotes),
    ] {
        notes.extend(list.iter().map(|t| Note { topic: topic.into(), text: t.clone(), source: tier.source.clone() }));
    }
    if coderd.high_availability {
        notes.push(Note {
            topic: "coderd".into(),
            text: "More than one coderd replica (high availability) needs a Coder Premium license.".into(),
            source: "coder chart values.yaml, coder.replicaCount".into(),
        });
    }
    notes.append(&mut earlier);
    notes
}
