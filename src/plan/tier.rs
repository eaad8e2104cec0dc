//! Which tier, and which machine type for each role: the seed's, or the
//! spec's override, checked against the catalog. Also the plan's top-level
//! reasons (users, tier) and the seed-capacity check every role runs.

use crate::catalog::{Capacity, Catalog, Machine, MachineKind, Tier};
use crate::diag::{SpecError, quote};
use crate::spec::{At, Spec};

use super::{Ctx, Findings, Reasons, WarningCode, gib, spec_error};

/// The machine type of each pool and of the database.
pub(crate) struct Machines<'a> {
    pub coderd: &'a Machine,
    pub provisioner: &'a Machine,
    pub workspace: &'a Machine,
    pub database: &'a Machine,
}

/// The spec's tier, or the smallest covering its users (`tier: auto`).
pub(crate) fn select<'a>(spec: &Spec, catalog: &'a Catalog) -> Result<&'a Tier, SpecError> {
    let users = spec.users.value;
    let needed = catalog.smallest_tier_for(users).ok_or_else(|| {
        spec_error(
            spec,
            &spec.users,
            format!("users is {users}; Coder's validated architectures stop at 3,000 users"),
            "size a larger deployment with Coder's guidance; this tool only renders the validated tiers",
        )
    })?;
    match spec.tier.value.id() {
        None => Ok(needed),
        Some(id) => {
            let chosen = catalog.tier(id).expect("spec tiers are catalog tiers");
            if chosen.max_users < users {
                Err(spec_error(
                    spec,
                    &spec.tier,
                    format!("tier {id} covers up to {} users, but users is {users}", chosen.max_users),
                    &format!("use tier: {} (or tier: auto), or lower users", needed.id),
                ))
            } else {
                Ok(chosen)
            }
        }
    }
}

pub(crate) fn machines<'a>(spec: &Spec, catalog: &'a Catalog, tier: &Tier) -> Result<Machines<'a>, SpecError> {
    let cloud = spec.cloud;
    let mt = &spec.machine_types;
    Ok(Machines {
        coderd: machine(spec, catalog, tier.coderd.machine_type.get(cloud), mt.coderd.as_ref(), MachineKind::Node, "coderd")?,
        provisioner: machine(
            spec,
            catalog,
            tier.provisioners.machine_type.get(cloud),
            mt.provisioner.as_ref(),
            MachineKind::Node,
            "provisioner",
        )?,
        workspace: machine(spec, catalog, tier.workspaces.machine_type.get(cloud), mt.workspace.as_ref(), MachineKind::Node, "workspace")?,
        database: machine(spec, catalog, tier.database.instance_class.get(cloud), mt.database.as_ref(), MachineKind::Database, "database")?,
    })
}

/// The seed's machine for a pool, or the spec's override, checked.
fn machine<'a>(
    spec: &Spec,
    catalog: &'a Catalog,
    seed: &str,
    over: Option<&At<String>>,
    kind: MachineKind,
    key: &str,
) -> Result<&'a Machine, SpecError> {
    let cloud = spec.cloud;
    match over {
        None => Ok(catalog.machine(cloud, seed).expect("seed machine types are in the catalog (tested)")),
        Some(at) => match catalog.machine(cloud, &at.value) {
            Some(m) if m.kind == kind || m.kind == MachineKind::Any => Ok(m),
            _ => Err(spec_error(
                spec,
                at,
                format!(
                    "machine_types.{key} {} is not a known {cloud} {} type",
                    quote(&at.value),
                    if kind == MachineKind::Database { "database" } else { "node" }
                ),
                &format!("use one of: {}", catalog.machine_names(cloud, kind).join(", ")),
            )),
        },
    }
}

/// Warn where the seed names a machine smaller than the capacity it lists.
pub(crate) fn capacity_check(found: &mut Findings, role: &str, m: &Machine, seed: Capacity, tier: &str) {
    // The seeds' "GB" are decimal: 8 GB is 7,629 MiB, which n1-standard-2
    // (7,680 MiB) meets. Only a real shortfall warns.
    let seed_mib = u64::from(seed.memory_gb) * 1_000_000_000 / (1024 * 1024);
    if m.vcpu < seed.vcpu || u64::from(m.memory_mib) < seed_mib {
        found.warn(
            WarningCode::SeedCapacityMismatch,
            format!(
                "{tier} {role}: the reference architecture lists {} vCPU / {} GB per node but names {} ({} vCPU / {} GiB); coder-gen creates {} and sizes pods to what it really has. Set machine_types.{role} to a larger type to get the listed capacity.",
                seed.vcpu,
                seed.memory_gb,
                m.name,
                m.vcpu,
                gib(m.memory_mib),
                m.name
            ),
        );
    }
}

/// Reasons for the plan's top-level fields.
pub(crate) fn reasons(ctx: &Ctx) -> Reasons {
    let (spec, tier, users) = (ctx.spec, ctx.tier, ctx.users());
    let mut reasons = Reasons::new();
    // The file's name only, no line: the tree must not change with the
    // directory it is rendered from or with comments added to the spec.
    let file = std::path::Path::new(&spec.file).file_name().map_or_else(|| spec.file.clone(), |f| f.to_string_lossy().into_owned());
    reasons.insert("users", format!("`users` in {file}"));
    reasons.insert("max_users", format!("tier {} covers up to {} users ({})", tier.id, tier.max_users, tier.source));
    reasons.insert("target_api_rps", format!("tier {} target API load ({})", tier.id, tier.source));
    reasons.insert(
        "tier",
        match spec.tier.value.id() {
            Some(id) => format!("tier: {id} in the spec"),
            None => format!("tier: auto picks the smallest tier covering {users} users"),
        },
    );
    reasons
}
