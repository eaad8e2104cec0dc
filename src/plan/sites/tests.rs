use crate::plan::{Plan, Role, WarningCode};
use crate::plan_from_str;
use crate::test_support::spec_text;

fn plan(users: u32, sites: &str) -> Plan {
    plan_from_str("s.yaml", &format!("{}sites:\n{sites}", spec_text(users, "gcp"))).unwrap()
}

const EU: &str = "  - name: eu\n    cloud: aws\n    region: eu-west-1\n    users: 800\n";
const LAB: &str = "  - name: lab\n    cloud: onprem\n    users: 200\n";
const EAST: &str = "  - name: east\n    cloud: gcp\n    region: us-east1\n    users: 500\n";

#[test]
fn the_tier_is_split_by_users_and_nothing_is_lost() {
    let p = plan(3000, &format!("{EU}{LAB}"));
    assert_eq!(p.tier, "3k", "the tier comes from every user");
    let ws_users: u32 =
        p.workspaces.iter().map(|w| w.users).sum::<u32>() + p.sites.iter().flat_map(|s| &s.workspaces).map(|w| w.users).sum::<u32>();
    assert_eq!(ws_users, 3000);
    assert_eq!(p.sites.iter().map(|s| s.users).collect::<Vec<_>>(), [800, 200]);
    let provisioners = p.total_provisioners() + p.sites.iter().flat_map(|s| &s.provisioners).map(|g| g.replicas).sum::<u32>();
    assert_eq!(provisioners, 240, "3k: 8 nodes x 30, split, none lost");
    assert_eq!(p.total_provisioners(), 160, "2000 of 3000 users");
    // The primary's pools shrink to its share: 160 / 30 -> 6 nodes, 2000 / 12 -> 167.
    assert_eq!((p.pool(Role::Provisioner).max_nodes, p.pool(Role::Workspace).max_nodes), (6, 167));
    assert!(p.provisioners[0].reasons["replicas"].contains("split by users"));
    // Coder's scaletest: the primary creates the primary's workspaces only.
    assert_eq!(p.verify.workspaces, 2000);
    assert_eq!(p.sites[0].verify.workspaces, 800);
    assert_eq!(p.coderd.replicas, 4, "coderd stays sized for every user");
}

#[test]
fn site_pools_use_the_primarys_machinery_and_contract() {
    let p = plan(3000, EU);
    let eu = &p.sites[0];
    let names: Vec<&str> = eu.pools.iter().map(|x| x.name.as_str()).collect();
    assert_eq!(names, ["acme-eu-proxy", "acme-eu-provisioner", "acme-eu-workspace"]);
    for pool in &eu.pools {
        assert!(pool.fits, "{}", pool.name);
        assert_eq!(pool.labels["coder-gen/pool"], pool.role.as_str());
        // The site's cloud: EKS ENI defaults and EKS daemonsets.
        assert!(pool.default_max_pods.is_some(), "{}", pool.name);
        assert!(pool.daemonset_list.iter().any(|d| d.name.contains("aws-node")), "{}", pool.name);
    }
    assert!(eu.pool(Role::Workspace).taints.is_empty());
    assert_eq!(eu.pool(Role::Proxy).taints[0].value, "proxy");
    // 800 users at 12 per node.
    assert_eq!(eu.pool(Role::Workspace).max_nodes, 67);
    assert_eq!(eu.provisioners[0].tags["site"], "eu");
    assert!(eu.terraform);
    // EKS: the site's own autoscaler on the proxy pool, subtracted first.
    let ca = eu.cluster_autoscaler.as_ref().unwrap();
    assert_eq!((ca.pool, ca.iam_role_name.as_str()), (Role::Proxy, "acme-eu-cluster-autoscaler"));
    assert!(eu.pool(Role::Proxy).reasons["requested_per_node"].contains("cluster-autoscaler"));
}

#[test]
fn proxy_by_default_only_away_from_the_primary() {
    let p = plan(3000, &format!("{EU}{LAB}{EAST}"));
    let proxy = |n: &str| p.sites.iter().find(|s| s.name == n).unwrap().proxy.is_some();
    assert!(proxy("eu") && proxy("lab"));
    assert!(!proxy("east"), "same cloud and region: no proxy");
    let east = p.sites.iter().find(|s| s.name == "east").unwrap();
    assert!(east.pools.iter().all(|x| x.role != Role::Proxy));
    assert!(east.reasons["proxy_enabled"].contains("primary's cloud and region"));
    // A proxy can be asked for, or refused.
    let p = plan(3000, &format!("{}    proxy: true\n{}    proxy: false\n", EAST, EU));
    assert!(p.sites[0].proxy.is_some() && p.sites[1].proxy.is_none());
    // AWS without a proxy: the autoscaler moves to the provisioner pool.
    assert_eq!(p.sites[1].cluster_autoscaler.as_ref().unwrap().pool, Role::Provisioner);
    assert!(p.sites[1].provisioners[0].reasons["resources"].contains("cluster-autoscaler"));
}

#[test]
fn proxy_size_follows_the_tiers_row_or_the_1k_formula() {
    let p = plan(3000, EU);
    let x = p.sites[0].proxy.as_ref().unwrap();
    assert_eq!(x.replicas, 4, "3k: 4 x 4 vCPU / 12 GB");
    assert_eq!(x.resources.requests.memory_mib, 12 * 1024);
    assert_eq!(x.resources.requests, x.resources.limits);
    // t3.xlarge cannot schedule a whole 4 vCPU next to its daemonsets: warned.
    assert!(x.resources.requests.cpu_millis < 4000);
    assert!(p.warnings.iter().any(|w| w.code == WarningCode::ProxyBelowSizing && w.message.contains("site eu")));
    // 1k: no G3 row; 1 vCPU x 2 GB per 250 of the site's users, 2 replicas.
    let p = plan(1000, "  - name: eu\n    cloud: aws\n    region: eu-west-1\n    users: 600\n");
    let x = p.sites[0].proxy.as_ref().unwrap();
    assert_eq!((x.replicas, x.resources.requests.cpu_millis, x.resources.requests.memory_mib), (2, 1500, 3 * 1024));
    assert!(x.reasons["resources"].contains("per 250"));
    assert_eq!((x.access_url.as_str(), x.wildcard_access_url.as_str()), ("https://eu.coder.acme.com", "https://*.eu.coder.acme.com"));
    assert_eq!(x.certificates[0].dns_names, ["eu.coder.acme.com", "*.eu.coder.acme.com"]);
    assert_eq!(x.service_annotations["service.beta.kubernetes.io/aws-load-balancer-type"], "nlb");
}

#[test]
fn onprem_sites_size_for_the_tiers_nodes_and_have_no_terraform() {
    let p = plan(3000, LAB);
    let lab = &p.sites[0];
    assert!(!lab.terraform && lab.cluster_autoscaler.is_none());
    assert_eq!(lab.pool(Role::Workspace).machine_type, "8 vCPU / 32 GiB");
    assert!(lab.pools.iter().all(|x| x.fits && x.default_max_pods.is_none() && x.rotation_name.is_none()));
    assert!(lab.pools.iter().all(|x| x.max_pods <= 110), "the kubelet's default max pods");
    assert!(lab.reasons["terraform"].contains("on-prem"));
}

#[test]
fn every_site_number_has_a_reason() {
    let p = plan(3000, &format!("{EU}{LAB}"));
    let v = serde_json::to_value(&p).unwrap();
    for s in v["sites"].as_array().unwrap() {
        for key in ["proxy_enabled", "users", "terraform", "tags"] {
            assert!(s["reasons"].get(key).is_some(), "{key}");
        }
        let x = &s["proxy"];
        for key in [
            "resources",
            "replicas",
            "high_availability",
            "access_url",
            "wildcard_access_url",
            "certificates",
            "user_port",
            "mesh_port",
            "token_secret",
        ] {
            assert!(x["reasons"].get(key).is_some(), "proxy {key}");
        }
        for pool in s["pools"].as_array().unwrap() {
            for key in ["min_nodes", "max_nodes", "max_pods", "fits", "allocatable"] {
                assert!(pool["reasons"].get(key).is_some(), "{} {key}", pool["name"]);
            }
        }
    }
}

#[test]
fn a_site_machine_type_is_checked_against_its_cloud() {
    let text = format!("{}sites:\n{EU}    machine_types:\n      workspace: t2d-standard-8\n", spec_text(3000, "gcp"));
    let e = plan_from_str("s.yaml", &text).unwrap_err().to_string();
    assert!(e.contains("sites[].machine_types.workspace `t2d-standard-8` is not a known aws node type"), "{e}");
    assert!(e.contains("s.yaml:12:18:"), "located: {e}");
    let text = format!("{}sites:\n{EU}    machine_types:\n      proxy: m5.2xlarge\n", spec_text(3000, "gcp"));
    let p = plan_from_str("s.yaml", &text).unwrap();
    assert_eq!(p.sites[0].proxy.as_ref().unwrap().resources.requests.cpu_millis, 4000, "a larger type gets the full row");
}

const NETWORK: &str = "network:\n  registry:\n    mirror: reg.corp.example/m\n    pull_secret: pull\n  charts:\n    url: oci://reg.corp.example/charts\n    private_ca: true\n  proxy:\n    url: http://proxy.corp.example:3128\n    cluster_cidrs: [10.0.0.0/8]\n    no_proxy: [.corp.example]\n  terraform_providers:\n    mirror_url: https://tf.corp.example/p/\n  ca:\n    secret: corp-ca\n    issuer_secret: corp-ca-pair\ngitops:\n  controller: flux\n  repo_url: https://git.corp.example/r.git\n";

#[test]
fn a_site_shares_the_network_with_its_own_namespaces_and_no_proxy() {
    let lab = "  - name: lab\n    cloud: onprem\n    users: 200\n    cluster_cidrs: [172.20.0.0/16]\n";
    let p = plan_from_str("s.yaml", &format!("{}sites:\n{EU}{lab}{NETWORK}", spec_text(3000, "gcp"))).unwrap();
    let (eu, lab) = (&p.sites[0], &p.sites[1]);
    // Coder's image is the primary's; an EKS site's autoscaler is at its own version.
    assert_eq!(eu.network.images["coder"].reference, p.network.images["coder"].reference);
    let ca = &eu.network.images["cluster-autoscaler"];
    assert!(ca.reference.starts_with("reg.corp.example/m/autoscaling/cluster-autoscaler:"), "{}", ca.reference);
    assert_eq!(eu.network.cluster_autoscaler_chart.as_ref().unwrap().reference, "oci://reg.corp.example/charts/cluster-autoscaler");
    assert!(!lab.network.images.contains_key("cluster-autoscaler"));
    // Its own namespaces pull and trust; Flux's too with a CA-signed chart mirror.
    assert_eq!(lab.network.pull_secret_namespaces, ["coder-proxy", "coder-provisioners-lab", "coder-verify"]);
    assert!(eu.network.pull_secret_namespaces.contains(&"kube-system".to_string()), "the EKS autoscaler pulls too");
    assert!(lab.network.ca_namespaces.contains(&"flux-system".to_string()));
    // NO_PROXY: the site cluster's ranges (its own, or the primary's by
    // default) and no_proxy; never the primary's access URL nor its database.
    let np = |s: &crate::plan::Site| s.network.proxy.as_ref().unwrap().no_proxy.clone();
    assert!(np(lab).contains(&"172.20.0.0/16".to_string()) && !np(lab).contains(&"10.0.0.0/8".to_string()));
    assert!(np(eu).contains(&"10.0.0.0/8".to_string()) && np(eu).contains(&".corp.example".to_string()));
    assert!(!np(eu).contains(&"coder.acme.com".to_string()));
    assert!(p.network.proxy.as_ref().unwrap().no_proxy.contains(&"coder.acme.com".to_string()), "the primary keeps its own host");
    // The proxy gets the proxy's variables only; provisioners also the Terraform config.
    let names = |v: &[crate::plan::NetworkEnv]| v.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
    assert!(names(&lab.network.proxy_env).contains(&"NO_PROXY".to_string()));
    assert!(!names(&lab.network.proxy_env).contains(&"TF_CLI_CONFIG_FILE".to_string()));
    assert!(names(&lab.network.provisioner_env).contains(&"TF_CLI_CONFIG_FILE".to_string()));
    // The default proxy certificate comes from the tree's CA ClusterIssuer,
    // which the site's cluster gets too.
    let cert = &lab.proxy.as_ref().unwrap().certificates[0];
    assert_eq!((cert.issuer.as_str(), cert.challenge), ("acme-ca", crate::plan::Challenge::None));
    assert_eq!(lab.network.ca_issuer.as_ref().unwrap().name, "acme-ca");
}

#[test]
fn proxies_take_the_secure_defaults_and_follow_coderd_in_the_upgrade() {
    let p = plan(3000, &format!("{EU}{LAB}"));
    let x = p.sites[0].proxy.as_ref().unwrap();
    assert!(x.disable_path_apps, "a proxy always has a wildcard");
    assert_eq!(x.hsts.as_ref().map(|h| h.max_age_seconds), p.security.hsts.as_ref().map(|h| h.max_age_seconds));
    // coderd, then the primary's groups, then each site's groups and its proxy.
    let order: Vec<(Option<&str>, &str)> = p.upgrade.after_coderd.iter().map(|r| (r.site.as_deref(), r.kind)).collect();
    assert_eq!(
        order,
        [(None, "provisioner"), (Some("eu"), "provisioner"), (Some("eu"), "proxy"), (Some("lab"), "provisioner"), (Some("lab"), "proxy")]
    );
    let kept = plan_from_str("s.yaml", &format!("{}security:\n  path_apps: true\nsites:\n{EU}", spec_text(3000, "gcp"))).unwrap();
    assert!(!kept.sites[0].proxy.as_ref().unwrap().disable_path_apps);
}
