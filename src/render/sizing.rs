//! Plan -> `SIZING.md`: every number of the tree with its formula and
//! source, in reading order: inputs, tier, each pool (machine, allocatable,
//! daemonsets, headroom, pods, fit), workloads, database, warnings. The
//! numbers and reasons are the plan's own (`reasons` next to each field), so
//! this file can never disagree with `coder-gen plan`.

use std::fmt::Write;

use minijinja::context;
use minijinja::value::Serde;
use serde_json::Value;

use super::{paths, template};
use crate::plan::Plan;
use crate::tree::{Comment, Tree, header};

pub fn render(plan: &Plan, tree: &mut Tree) {
    let mut o = header(Comment::Html, &plan.spec_file);
    // Writing to a String cannot fail.
    let _ = write(plan, &mut o);
    tree.insert(paths::SIZING, o);
}

/// A JSON value as one table cell: scalars plain, objects compact.
pub fn cell(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => "none".into(),
        other => other.to_string(),
    }
    .replace('|', "\\|")
}

/// One section per site: its own reasons, proxy, pools (same table as the
/// primary's), groups, autoscaler and verification run.
fn sites(p: &Plan, json: &Value, o: &mut String) -> std::fmt::Result {
    for (site, v) in p.sites.iter().zip(json["sites"].as_array().into_iter().flatten()) {
        writeln!(
            o,
            "## Site `{}`: {}{}, cluster `{}`, {} users",
            site.name,
            site.cloud,
            site.region.as_ref().map_or(String::new(), |r| format!(" `{r}`")),
            site.kubernetes.cluster_name,
            site.users
        )?;
        writeln!(o)?;
        for (k, r) in &site.reasons {
            writeln!(o, "- {k}: {r}")?;
        }
        writeln!(o)?;
        if site.proxy.is_some() {
            writeln!(o, "### proxy")?;
            writeln!(o)?;
            table(o, &v["proxy"], &[])?;
        }
        for (pool, pv) in site.pools.iter().zip(v["pools"].as_array().into_iter().flatten()) {
            writeln!(o, "### {} pool: `{}`, {} to {} nodes", pool.role.as_str(), pool.machine_type, pool.min_nodes, pool.max_nodes)?;
            writeln!(o)?;
            table(o, pv, POOL_ORDER)?;
            writeln!(o, "| system daemonset | CPU | memory | source |")?;
            writeln!(o, "|---|---|---|---|")?;
            for d in &pool.daemonset_list {
                writeln!(o, "| {} | {}m | {} MiB | {} |", d.name, d.cpu_millis, d.memory_mib, d.source.replace('|', "\\|"))?;
            }
            writeln!(o)?;
        }
        for (g, gv) in site.provisioners.iter().zip(v["provisioners"].as_array().into_iter().flatten()) {
            writeln!(o, "### provisioners in `{}`", g.namespace)?;
            writeln!(o)?;
            table(o, gv, &[])?;
        }
        for (w, wv) in site.workspaces.iter().zip(v["workspaces"].as_array().into_iter().flatten()) {
            writeln!(o, "### workspaces in `{}`", w.namespace)?;
            writeln!(o)?;
            table(o, wv, &[])?;
        }
        if site.cluster_autoscaler.is_some() {
            writeln!(o, "### Cluster Autoscaler")?;
            writeln!(o)?;
            table(o, &v["cluster_autoscaler"], &[])?;
        }
        writeln!(o, "### verification run")?;
        writeln!(o)?;
        table(o, &v["verify"], &[])?;
    }
    Ok(())
}

/// A pool's fields in reading order: machine, allocatable, daemonsets,
/// headroom, pods, fit, then max pods and the rest.
const POOL_ORDER: &[&str] = &[
    "vcpu",
    "memory_mib",
    "allocatable",
    "daemonsets",
    "headroom",
    "schedulable",
    "pods_per_node",
    "requested_per_pod",
    "requested_per_node",
    "fits",
    "max_pods_need",
    "headroom_pods",
    "max_pods",
];

/// `| field | value | why |` for every field of `section` that has a
/// reason: the fields of `first` in that order, then the rest by name.
/// `daemonset_list` has its own table.
fn table(o: &mut String, section: &Value, first: &[&str]) -> std::fmt::Result {
    let Some(obj) = section.as_object() else { return Ok(()) };
    let Some(reasons) = obj.get("reasons").and_then(Value::as_object) else { return Ok(()) };
    writeln!(o, "| field | value | formula / source |")?;
    writeln!(o, "|---|---|---|")?;
    let rest = obj.keys().filter(|k| !first.contains(&k.as_str()) && k.as_str() != "daemonset_list").map(String::as_str);
    for k in first.iter().copied().chain(rest) {
        if let (Some(v), Some(r)) = (obj.get(k), reasons.get(k)) {
            writeln!(o, "| `{k}` | {} | {} |", cell(v), cell(r))?;
        }
    }
    writeln!(o)
}

fn write(p: &Plan, o: &mut String) -> std::fmt::Result {
    let json = serde_json::to_value(p).expect("the plan always serializes to JSON");
    writeln!(o, "# Sizing of `{}`", p.name)?;
    writeln!(o)?;
    writeln!(
        o,
        "Every number in this tree, with its formula and source, from the plan of `{}`. For one file or key: `coder-gen explain {} PATH[:KEY]`.",
        p.spec_file, p.spec_file
    )?;
    writeln!(o)?;
    writeln!(o, "## Inputs and tier")?;
    writeln!(o)?;
    writeln!(
        o,
        "- users: {} on {} `{}` (cluster `{}`, Kubernetes {})",
        p.users, p.cloud, p.region, p.kubernetes.cluster_name, p.kubernetes.version
    )?;
    for (k, r) in &p.reasons {
        writeln!(o, "- {k}: {r}")?;
    }
    writeln!(o, "- tier `{}`: up to {} users, target API load {} RPS ({})", p.tier, p.max_users, p.target_api_rps, p.tier_source)?;
    writeln!(o)?;
    writeln!(o, "## Node pools")?;
    writeln!(o)?;
    writeln!(
        o,
        "Per node: capacity − the managed service's reserve = allocatable; − the system daemonsets − headroom = schedulable; our pods × their requests must fit in it (`fits`), and pods + daemonsets must fit in max pods."
    )?;
    writeln!(o)?;
    for (pool, v) in p.pools.iter().zip(json["pools"].as_array().into_iter().flatten()) {
        writeln!(o, "### {} pool: `{}`, {} to {} nodes", pool.role.as_str(), pool.machine_type, pool.min_nodes, pool.max_nodes)?;
        writeln!(o)?;
        table(o, v, POOL_ORDER)?;
        writeln!(o, "| system daemonset | CPU | memory | source |")?;
        writeln!(o, "|---|---|---|---|")?;
        for d in &pool.daemonset_list {
            writeln!(o, "| {} | {}m | {} MiB | {} |", d.name, d.cpu_millis, d.memory_mib, d.source.replace('|', "\\|"))?;
        }
        writeln!(o)?;
    }
    writeln!(o, "## Workloads")?;
    writeln!(o)?;
    writeln!(o, "### coderd")?;
    writeln!(o)?;
    table(o, &json["coderd"], &[])?;
    for (g, v) in p.provisioners.iter().zip(json["provisioners"].as_array().into_iter().flatten()) {
        writeln!(o, "### provisioners in `{}`", g.namespace)?;
        writeln!(o)?;
        table(o, v, &[])?;
    }
    for (w, v) in p.workspaces.iter().zip(json["workspaces"].as_array().into_iter().flatten()) {
        writeln!(o, "### workspaces in `{}`", w.namespace)?;
        writeln!(o)?;
        table(o, v, &[])?;
    }
    if p.cluster_autoscaler.is_some() {
        writeln!(o, "### Cluster Autoscaler")?;
        writeln!(o)?;
        table(o, &json["cluster_autoscaler"], &[])?;
    }
    writeln!(o, "## Database")?;
    writeln!(o)?;
    table(o, &json["database"], &[])?;
    writeln!(o, "## Observability")?;
    writeln!(o)?;
    table(o, &json["observability"], &[])?;
    sites(p, &json, o)?;
    // Sized values a user's Helm values file takes over (`intended`): the
    // numbers above are the plan's; these are the user's.
    let taken: Vec<(&String, &String, &String)> =
        p.overrides.helm.iter().flat_map(|(target, h)| h.intended.iter().map(move |i| (target, i, &h.file))).collect();
    if !taken.is_empty() {
        writeln!(o, "## Values from your files")?;
        writeln!(o)?;
        writeln!(o, "These sized values come from your override files, not from the plan above (listed as `intended` in the spec):")?;
        writeln!(o)?;
        writeln!(o, "| release | value | from |")?;
        writeln!(o, "|---|---|---|")?;
        for (target, key, file) in taken {
            writeln!(o, "| `{target}` | `{key}` | `{file}` |")?;
        }
        writeln!(o)?;
    }
    // The same section as the README's.
    o.push_str(&template::render("readme/_warnings.md", &context! { plan => minijinja::Value::from(Serde(p)) }));
    Ok(())
}
