//! The sites' part of `coder-gen plan` (text): one block per site.

use std::fmt::Write;

use crate::plan::{Plan, Resources, mib};

fn res(r: Resources) -> String {
    format!("{}m / {}", r.cpu_millis, mib(r.memory_mib))
}

pub(crate) fn write_text(p: &Plan, o: &mut String) -> std::fmt::Result {
    for s in &p.sites {
        writeln!(o)?;
        writeln!(
            o,
            "Site {} ({}{}, cluster {}, Kubernetes {}): {} users{}",
            s.name,
            s.cloud,
            s.region.as_ref().map_or(String::new(), |r| format!(" {r}")),
            s.kubernetes.cluster_name,
            s.kubernetes.version,
            s.users,
            if s.terraform { "" } else { "; nodes are yours (no Terraform)" }
        )?;
        match &s.proxy {
            Some(x) => writeln!(
                o,
                "  proxy         ns {:<22} replicas {:>4}  requests {}  {} (wildcard {})",
                x.namespace,
                x.replicas,
                res(x.resources.requests),
                x.access_url,
                x.wildcard_access_url
            )?,
            None => writeln!(o, "  proxy         none: {}", s.reasons["proxy_enabled"])?,
        }
        for pool in &s.pools {
            let nodes = if pool.autoscaling { format!("{}-{}", pool.min_nodes, pool.max_nodes) } else { pool.max_nodes.to_string() };
            writeln!(
                o,
                "  pool {:<12} {:<22} nodes {:>7}  max pods {:>3}  {} x {}  fits {}",
                pool.role.as_str(),
                pool.machine_type,
                nodes,
                pool.max_pods,
                pool.pods_per_node,
                res(pool.requested_per_pod),
                if pool.fits { "yes" } else { "NO" }
            )?;
        }
        for g in &s.provisioners {
            let tags: Vec<String> = g.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
            writeln!(
                o,
                "  provisioners  ns {:<22} replicas {:>4}  requests {}  tags {}",
                g.namespace,
                g.replicas,
                res(g.resources.requests),
                tags.join(",")
            )?;
        }
        for w in &s.workspaces {
            writeln!(o, "  workspaces    ns {:<22} users {:>7}  default request {}", w.namespace, w.users, res(w.default_request))?;
        }
        if let Some(px) = &s.network.proxy {
            // The site's own NO_PROXY: its cluster's ranges, not the primary's.
            writeln!(o, "  HTTP proxy    {} (NO_PROXY {})", px.url, px.no_proxy.join(","))?;
        }
    }
    Ok(())
}
