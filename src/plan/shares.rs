//! Who gets what of the tier: with sites, the tier (chosen from every
//! user) is split by users between the primary and each site. Provisioners
//! are counted per tag set (Coder's "max simultaneous builds = provisioners
//! within a tagged deployment"), so the tier's provisioners are divided by
//! users; workspace nodes follow each location's users at the tier's
//! per-node density. Without sites the primary keeps the tier whole, exactly
//! as the reference architecture sizes it.

use super::Ctx;

/// One location's part of the tier: the primary's, or a site's.
#[derive(Debug, Clone)]
pub(crate) struct Share {
    /// Users whose workspaces run here.
    pub users: u32,
    pub provisioners: u32,
    pub provisioner_nodes: u32,
    pub workspace_nodes: u32,
    /// How this part was split off (for the reasons); `None`: the tier
    /// whole, no sites.
    pub split: Option<String>,
}

/// The primary's share and each site's, in the spec's order.
pub(crate) struct Shares {
    pub primary: Share,
    pub sites: Vec<Share>,
}

/// Split `total` by `weights` (largest remainder, ties to the earlier),
/// each part at least its `floor`, taking from the largest parts.
fn split(total: u32, weights: &[u32], floors: &[u32]) -> Vec<u32> {
    let sum: u64 = weights.iter().map(|w| u64::from(*w)).sum::<u64>().max(1);
    let exact: Vec<(u64, u64)> =
        weights.iter().map(|w| (u64::from(total) * u64::from(*w) / sum, u64::from(total) * u64::from(*w) % sum)).collect();
    let mut parts: Vec<u32> = exact.iter().map(|(q, _)| u32::try_from(*q).unwrap_or(u32::MAX)).collect();
    let mut left = total.saturating_sub(parts.iter().sum());
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by(|a, b| exact[*b].1.cmp(&exact[*a].1).then(a.cmp(b)));
    for i in order.iter().cycle().take(parts.len() * 2) {
        if left == 0 {
            break;
        }
        parts[*i] += 1;
        left -= 1;
    }
    // Every group runs at least one provisioner: raise small parts, lower the largest.
    for i in 0..parts.len() {
        while parts[i] < floors[i] {
            let Some(j) = (0..parts.len()).filter(|j| *j != i && parts[*j] > floors[*j]).max_by_key(|j| parts[*j]) else { break };
            parts[j] -= 1;
            parts[i] += 1;
        }
        parts[i] = parts[i].max(floors[i]);
    }
    parts
}

pub(crate) fn plan(ctx: &Ctx) -> Shares {
    let (spec, tier) = (ctx.spec, ctx.tier);
    let users = spec.users.value;
    let per_node = tier.provisioners.per_node.max(1);
    let total = tier.provisioners.nodes * tier.provisioners.per_node;
    if spec.sites.is_empty() {
        return Shares {
            primary: Share {
                users,
                provisioners: total,
                provisioner_nodes: tier.provisioners.nodes,
                workspace_nodes: tier.workspaces.nodes,
                split: None,
            },
            sites: Vec::new(),
        };
    }
    let site_users: u32 = spec.sites.iter().map(|s| s.users.value).sum();
    let primary_users = users.saturating_sub(site_users).max(1);
    let weights: Vec<u32> = std::iter::once(primary_users).chain(spec.sites.iter().map(|s| s.users.value)).collect();
    let floors: Vec<u32> = std::iter::once(spec.provisioners.len())
        .chain(spec.sites.iter().map(|s| s.provisioners.len()))
        .map(|n| u32::try_from(n).unwrap_or(1).max(1))
        .collect();
    let provisioners = split(total, &weights, &floors);
    let ws_per_node = tier.workspaces.per_node.max(1);
    let share = |i: usize, place: &str| {
        let (u, p) = (weights[i], provisioners[i]);
        Share {
            users: u,
            provisioners: p,
            provisioner_nodes: p.div_ceil(per_node).max(1),
            workspace_nodes: u.div_ceil(ws_per_node).max(1),
            split: Some(format!(
                "{place} has {u} of the {users} users: its share of tier {}'s {total} provisioners, split by users (Coder counts build capacity per tag set), is {p}",
                tier.id
            )),
        }
    };
    Shares {
        primary: share(0, "the primary"),
        sites: spec.sites.iter().enumerate().map(|(i, s)| share(i + 1, &format!("site {}", s.name.value))).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn split_is_exact_proportional_and_keeps_floors() {
        assert_eq!(split(240, &[2200, 800], &[1, 1]), [176, 64]);
        assert_eq!(split(60, &[995, 5], &[1, 1]), [59, 1]);
        assert_eq!(split(60, &[500, 250, 250], &[1, 2, 1]), [30, 15, 15]);
        // Every group gets a provisioner even when its users' share rounds to none.
        assert_eq!(split(10, &[998, 1, 1], &[1, 3, 1]), [6, 3, 1]);
        for (t, w) in [(240u32, vec![1u32, 2999]), (120, vec![7, 11, 13, 1969]), (60, vec![1; 8])] {
            let floors = vec![1; w.len()];
            assert_eq!(split(t, &w, &floors).iter().sum::<u32>(), t);
        }
    }
}
