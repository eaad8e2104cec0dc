//! `coder-gen plan` as a readable table (the default format).

use std::fmt::Write;

use super::security::write_text as write_security;
use super::{Plan, Resources, mib};

fn res(r: Resources) -> String {
    format!("{}m / {}", r.cpu_millis, mib(r.memory_mib))
}

/// The plan as text: a summary, one table per concern, notes and warnings.
pub fn to_text(plan: &Plan) -> String {
    let mut o = String::new();
    // Writing to a String cannot fail.
    let _ = write_text(plan, &mut o);
    o
}

fn write_text(p: &Plan, o: &mut String) -> std::fmt::Result {
    writeln!(o, "coder-gen plan for `{}` ({})", p.name, p.spec_file)?;
    writeln!(o, "  tier        {} (up to {} users; {})", p.tier, p.max_users, p.reasons["tier"])?;
    writeln!(o, "  users       {}", p.users)?;
    writeln!(o, "  target API  {} RPS", p.target_api_rps)?;
    writeln!(o, "  cloud       {} {} (cluster {}, Kubernetes {})", p.cloud, p.region, p.kubernetes.cluster_name, p.kubernetes.version)?;
    writeln!(o, "  access URL  {}", p.access_url)?;
    writeln!(o, "  licence     {}", p.licence.reasons["license"])?;
    writeln!(o, "  entry       {}", p.entry.reasons["mode"])?;
    writeln!(o, "              TLS: {}", p.entry.reasons["certificates"])?;
    writeln!(
        o,
        "  charts      {}/{} and {}/{} {}",
        p.chart.repository_name, p.chart.coder_chart, p.chart.repository_name, p.chart.provisioner_chart, p.chart.version
    )?;
    writeln!(o)?;
    writeln!(o, "Node pools")?;
    writeln!(
        o,
        "  {:<12} {:<18} {:>5} {:>8} {:>9} {:>8} {:>18} {:>15} {:>15} {:>26} {:>4}",
        "role", "machine", "vCPU", "memory", "nodes", "max pods", "allocatable/node", "daemonsets", "headroom", "pods x request", "fits"
    )?;
    for pool in &p.pools {
        let nodes = if pool.autoscaling { format!("{}-{}", pool.min_nodes, pool.max_nodes) } else { pool.max_nodes.to_string() };
        writeln!(
            o,
            "  {:<12} {:<18} {:>5} {:>7}G {:>9} {:>8} {:>18} {:>15} {:>15} {:>26} {:>4}",
            pool.role.as_str(),
            pool.machine_type,
            pool.vcpu,
            pool.memory_gib,
            nodes,
            pool.max_pods,
            res(pool.allocatable),
            res(pool.daemonsets),
            res(pool.headroom),
            format!("{} x {}", pool.pods_per_node, res(pool.requested_per_pod)),
            if pool.fits { "yes" } else { "NO" }
        )?;
    }
    writeln!(o)?;
    writeln!(o, "Workloads")?;
    let c = &p.coderd;
    writeln!(
        o,
        "  coderd        ns {:<22} replicas {:>4}  requests {}  limits {}",
        c.namespace,
        c.replicas,
        res(c.resources.requests),
        res(c.resources.limits)
    )?;
    writeln!(o, "                {}", c.reasons["replicas"])?;
    if c.provisioner_daemons > 0 {
        writeln!(o, "                built-in provisioners {}: {}", c.provisioner_daemons, c.reasons["provisioner_daemons"])?;
    }
    if let Some(r) = c.rollout {
        writeln!(o, "                rollout maxSurge {} / maxUnavailable {}: {}", r.max_surge, r.max_unavailable, c.reasons["rollout"])?;
    }
    for g in &p.provisioners {
        writeln!(
            o,
            "  provisioners  ns {:<22} replicas {:>4}  requests {}  limits {}",
            g.namespace,
            g.replicas,
            res(g.resources.requests),
            res(g.resources.limits)
        )?;
    }
    if let Some(g) = p.provisioners.first() {
        writeln!(o, "                {}", g.reasons["replicas"])?;
    }
    for w in &p.workspaces {
        writeln!(
            o,
            "  workspaces    ns {:<22} users {:>7}  default request {}  quota {} memory",
            w.namespace,
            w.users,
            res(w.default_request),
            mib(w.quota.requests_memory_mib)
        )?;
    }
    writeln!(o)?;
    let d = &p.database;
    writeln!(o, "Database (PostgreSQL {})", d.postgres_version)?;
    writeln!(o, "  instance        {} ({} vCPU, {} GiB)", d.instance_class, d.vcpu, d.memory_gib)?;
    writeln!(o, "  storage         {} GB ({})", d.storage_gb, d.reasons["storage_gb"])?;
    writeln!(o, "  HA              {} ({} node(s))", if d.ha { "yes" } else { "no" }, d.nodes)?;
    writeln!(o, "  read replicas   {} ({})", d.read_replicas, d.reasons["read_replicas"])?;
    writeln!(o, "  max_connections {}", d.max_connections)?;
    writeln!(
        o,
        "  backups         {} days, point-in-time recovery over the last {} days{}",
        d.backup_retention_days,
        d.point_in_time_recovery_days,
        if d.geo_redundant_backup == Some(true) { ", geo-redundant" } else { "" }
    )?;
    writeln!(o)?;
    writeln!(
        o,
        "Observability     {}",
        if p.observability.enabled { "on (Prometheus metrics, coder-observability chart)" } else { "off" }
    )?;
    if let Some(s) = &p.observability.stack {
        writeln!(o, "  metrics kept    {} days, up to {} GB ({} GiB volume)", s.retention_days, s.retention_size_gb, s.volume_gib)?;
    }
    let cr = &p.credentials;
    writeln!(
        o,
        "Database login    role `{}`{}; secrets by {}",
        cr.coder_role,
        cr.exporter.as_ref().map_or(String::new(), |e| format!(", exporter role `{}`", e.role)),
        cr.manager
    )?;
    let v = &p.verify;
    writeln!(
        o,
        "Prove the tier    {} workspaces, {} at a time; pass at >= {} API RPS with p95 <= {} ms",
        v.workspaces, v.concurrency, v.target_api_rps, v.max_api_p95_ms
    )?;
    if let Some(ca) = &p.cluster_autoscaler {
        writeln!(
            o,
            "Node autoscaler   Cluster Autoscaler {} (chart {} {}) on the {} pool, {}m / {}",
            ca.image_tag,
            ca.chart,
            ca.chart_version,
            ca.pool.as_str(),
            ca.resources.requests.cpu_millis,
            mib(ca.resources.requests.memory_mib)
        )?;
    }
    if let Some(g) = &p.gitops {
        writeln!(
            o,
            "GitOps            {} from {} (branch {}, folder {})",
            g.controller.as_str(),
            g.repo_url,
            g.branch,
            if g.path.is_empty() { "." } else { &g.path }
        )?;
    }
    super::sites::write_text(p, o)?;
    writeln!(o)?;
    write_security(&p.security, o)?;
    let ov = &p.overrides;
    if !ov.coderd_env.is_empty()
        || !ov.provisioner_env.is_empty()
        || !ov.helm.is_empty()
        || !ov.terraform.is_empty()
        || !ov.kustomize.is_empty()
    {
        writeln!(o)?;
        writeln!(o, "Your overrides")?;
        if !ov.coderd_env.is_empty() {
            writeln!(o, "  coder.env       {}", ov.coderd_env.keys().cloned().collect::<Vec<_>>().join(", "))?;
        }
        for (ns, env) in &ov.provisioner_env {
            writeln!(o, "  env of {ns}: {}", env.keys().cloned().collect::<Vec<_>>().join(", "))?;
        }
        for (target, h) in &ov.helm {
            let taken = if h.intended.is_empty() { String::new() } else { format!("; from you, not the plan: {}", h.intended.join(", ")) };
            writeln!(o, "  helm {target}: {}{taken}", h.file)?;
        }
        for (overlay, files) in &ov.kustomize {
            for f in files {
                writeln!(
                    o,
                    "  kustomize {overlay}: {} ({} {}/{})",
                    f.source.file,
                    if f.patch || f.json_patch { "patch of" } else { "adds" },
                    f.object_kind,
                    f.object_name
                )?;
            }
        }
        for t in &ov.terraform {
            writeln!(o, "  terraform: {} -> {}", t.source.file, t.name)?;
        }
    }
    if !p.notes.is_empty() {
        writeln!(o)?;
        writeln!(o, "Notes from the reference architecture")?;
        for n in &p.notes {
            writeln!(o, "  - [{}] {}", n.topic, n.text)?;
        }
    }
    if !p.warnings.is_empty() {
        writeln!(o)?;
        writeln!(o, "Warnings")?;
        for w in &p.warnings {
            writeln!(o, "  ! {}: {}", w.code, w.message)?;
        }
    }
    Ok(())
}
