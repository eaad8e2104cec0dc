use serde_json::Value;

use crate::plan_from_str;
use crate::test_support::spec_text;
use crate::tree::Tree;

const SITES: &str = "sites:\n  - name: eu\n    cloud: aws\n    region: eu-west-1\n    users: 800\n  - name: lab\n    cloud: onprem\n    users: 200\nprovisioners:\n  - namespace: prov-lab\n    site: lab\n    tags: { gpu: a100 }\n";

fn render(extra: &str) -> Tree {
    let plan = plan_from_str("spec.yaml", &format!("{}{SITES}{extra}", spec_text(3000, "gcp"))).unwrap();
    crate::render::render(&plan)
}

fn object(tree: &Tree, path: &str) -> Value {
    serde_saphyr::from_str(tree.get_str(path).unwrap_or_else(|| panic!("no {path}"))).unwrap()
}

fn env<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v["coder"]["env"].as_array().unwrap().iter().find(|e| e["name"] == name)
}

#[test]
fn proxy_values_are_the_coder_chart_in_proxy_mode() {
    let tree = render("wildcard_access_url: https://*.apps.acme.com\n");
    let v = object(&tree, "sites/eu/helm/coder/values.yaml");
    let c = &v["coder"];
    assert_eq!(c["workspaceProxy"], true);
    assert!(c.get("commandArgs").is_none(), "a non-empty commandArgs would drop `wsproxy server`");
    assert_eq!(env(&v, "CODER_ACCESS_URL").unwrap()["value"], "https://eu.coder.acme.com");
    // A hostname pattern: Coder refuses a scheme here.
    assert_eq!(env(&v, "CODER_WILDCARD_ACCESS_URL").unwrap()["value"], "*.eu.coder.acme.com");
    assert_eq!(env(&v, "CODER_PRIMARY_ACCESS_URL").unwrap()["value"], "https://coder.acme.com");
    let token = &env(&v, "CODER_PROXY_SESSION_TOKEN").unwrap()["valueFrom"]["secretKeyRef"];
    assert_eq!((token["name"].as_str(), token["key"].as_str()), (Some("coder-proxy-token"), Some("token")));
    assert!(env(&v, "CODER_PG_CONNECTION_URL").is_none(), "a proxy makes no database connection");
    assert_eq!(env(&v, "CODER_PROMETHEUS_ENABLE").unwrap()["value"], "true", "3k: observability on, the exact string");
    assert_eq!(c["serviceAccount"]["workspacePerms"], false);
    assert_eq!(c["serviceAccount"]["enableDeployments"], false);
    // Its own anti-affinity: the chart's default matches the release `coder`.
    let term = &c["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0];
    assert_eq!(term["labelSelector"]["matchLabels"]["app.kubernetes.io/instance"], "coder-proxy");
    assert!(c["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"].is_null());
    assert_eq!(c["nodeSelector"]["coder-gen/pool"], "proxy");
    assert_eq!(c["tls"]["secretNames"][0], "coder-proxy-tls");
    assert_eq!(c["service"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-type"], "nlb");
    // The primary's wildcard is a hostname pattern too.
    let p = object(&tree, "helm/coder/values.yaml");
    assert_eq!(env(&p, "CODER_WILDCARD_ACCESS_URL").unwrap()["value"], "*.apps.acme.com");
}

#[test]
fn site_provisioners_reach_the_primary_with_a_tagged_key() {
    let tree = render("");
    let v = object(&tree, "sites/lab/helm/coder-provisioner/prov-lab/values.yaml");
    assert_eq!(env(&v, "CODER_URL").unwrap()["value"], "https://coder.acme.com");
    assert_eq!(v["provisionerDaemon"]["keySecretName"], "coder-provisioner-key");
    assert!(v["provisionerDaemon"].get("tags").is_none(), "the chart refuses tags next to a key");
    assert!(
        tree.get_str("sites/lab/helm/coder-provisioner/prov-lab/values.yaml").unwrap().contains("# Provisioner tags gpu=a100,site=lab")
    );
    let readme = tree.get_str("sites/lab/README.md").unwrap();
    assert!(readme.contains("coder provisioner keys create prov-lab --tag gpu=a100 --tag site=lab"), "{readme}");
}

#[test]
fn site_kustomize_admits_the_contracts_flows_and_binds_only_its_provisioners() {
    let tree = render("");
    let top = object(&tree, "sites/eu/kustomize/kustomization.yaml");
    let listed: Vec<&str> = top["resources"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert_eq!(listed, ["overlays/proxy", "overlays/provisioners-coder-provisioners-eu", "overlays/workspaces-coder-workspaces-eu"]);
    let users = object(&tree, "sites/eu/kustomize/overlays/proxy/networkpolicy-allow-users.yaml");
    assert_eq!(users["spec"]["ingress"][0]["ports"][0]["port"], 8443);
    assert!(users["spec"]["ingress"][0].get("from").is_none(), "users, agents and the primary from anywhere");
    let mesh = object(&tree, "sites/eu/kustomize/overlays/proxy/networkpolicy-allow-proxy-mesh.yaml");
    assert_eq!(mesh["spec"]["ingress"][0]["ports"][0]["port"], 8080);
    assert_eq!(mesh["spec"]["ingress"][0]["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/instance"], "coder-proxy");
    let rb = object(&tree, "sites/lab/kustomize/overlays/workspaces-coder-workspaces-lab/rolebinding.yaml");
    assert_eq!(rb["subjects"].as_array().unwrap().len(), 1);
    assert_eq!(rb["subjects"][0]["namespace"], "prov-lab");
    let ns = object(&tree, "sites/eu/kustomize/overlays/proxy/namespace.yaml");
    assert_eq!(ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"], "restricted");
    // The primary's Kustomize does not list the sites (another cluster).
    assert!(!tree.get_str("kustomize/kustomization.yaml").unwrap().contains("sites"));
}

#[test]
fn terraform_only_for_cloud_sites_and_no_database() {
    let tree = render("");
    let files: Vec<&str> = tree.paths().filter(|p| p.starts_with("sites/eu/terraform/")).collect();
    assert_eq!(
        files,
        [
            "sites/eu/terraform/aws/node_pools.tf",
            "sites/eu/terraform/aws/outputs.tf",
            "sites/eu/terraform/aws/variables.tf",
            "sites/eu/terraform/aws/versions.tf"
        ]
    );
    let all: String = files.iter().map(|f| tree.get_str(f).unwrap()).collect();
    assert!(!all.contains("aws_db_instance") && !all.contains("kms_key_arn"));
    assert!(all.contains("\"acme-eu-workspace\"") && all.contains("region = \"eu-west-1\""));
    assert!(all.contains("resource \"aws_iam_role\" \"cluster_autoscaler\""), "the site's own autoscaler");
    assert!(tree.paths().all(|p| !p.starts_with("sites/lab/terraform")));
    assert!(tree.get("sites/eu/helm/cluster-autoscaler/values.yaml").is_some());
}

#[test]
fn the_readme_never_puts_a_token_on_disk_and_always_names_the_site_cluster() {
    let tree = render("");
    let readme = tree.get_str("sites/eu/README.md").unwrap();
    assert!(readme.contains(
        "coder wsproxy create --name eu --display-name \"eu\" --icon /emojis/1f310.png --only-token --no-prompt \\\n     | tr -d '\\n' \\\n     | kubectl --context \"$SITE_CONTEXT\" -n coder-proxy create secret generic coder-proxy-token --from-file=token=/dev/stdin"
    ));
    assert!(readme.contains("coder wsproxy regenerate-token eu --only-token"));
    assert!(!readme.contains("--from-literal") && !readme.contains(" > "), "nothing in argv or on disk");
    for line in readme.lines().map(str::trim_start) {
        if line.starts_with("kubectl ") || line.starts_with("| kubectl ") {
            assert!(line.contains("--context \"$SITE_CONTEXT\""), "{line}");
        }
        if line.starts_with("helm upgrade") {
            assert!(line.contains("--kube-context \"$SITE_CONTEXT\""), "{line}");
            // Coder's releases at the primary's chart version.
            assert!(line.contains("coder-v2/") == line.contains("--version 2.33.6"), "{line}");
        }
    }
    assert!(readme.contains("coder wsproxy ls"));
    // On-prem: its prerequisites and the node commands, no Terraform step.
    let lab = tree.get_str("sites/lab/README.md").unwrap();
    assert!(lab.contains("LoadBalancer implementation") && lab.contains("default StorageClass") && lab.contains("Outbound 443"));
    assert!(lab.contains("   kubectl --context \"$SITE_CONTEXT\" taint node NODE coder-gen/pool=provisioner:NoSchedule\n"));
    assert!(!lab.contains("terraform -chdir"));
    // The primary links every site and draws them.
    let primary = tree.get_str("README.md").unwrap();
    assert!(primary.contains("```mermaid") && primary.contains("[sites/eu/README.md](sites/eu/README.md)"));
    assert!(primary.contains("coderd -->|\"health check 443\"| eu_proxy"));
}

#[test]
fn gitops_targets_each_site_cluster() {
    let argo = render("gitops:\n  controller: argocd\n  repo_url: https://g.example/r.git\n");
    let app = object(&argo, "gitops/argocd/apps/application-site-eu.yaml");
    assert_eq!(app["spec"]["source"]["path"], "sites/eu/gitops/argocd/apps");
    assert_eq!(app["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"], "3");
    let listed = object(&argo, "gitops/argocd/apps/kustomization.yaml");
    assert!(listed["resources"].as_array().unwrap().iter().any(|r| r == "application-site-eu.yaml"));
    let proxy = object(&argo, "sites/eu/gitops/argocd/apps/application-proxy.yaml");
    assert_eq!(proxy["spec"]["destination"]["name"], "acme-eu");
    assert!(proxy["spec"]["destination"].get("server").is_none());
    assert_eq!(proxy["spec"]["sources"][0]["targetRevision"], "2.33.6");
    assert_eq!(proxy["spec"]["sources"][0]["helm"]["valueFiles"][0], "$values/sites/eu/helm/coder/values.yaml");
    let flux = render("gitops:\n  controller: flux\n  repo_url: https://g.example/r.git\n");
    let ks = object(&flux, "sites/lab/gitops/flux/kustomization-kustomize.yaml");
    assert_eq!(ks["spec"]["path"], "./sites/lab/kustomize");
    let rel = object(&flux, "sites/lab/gitops/flux/releases/kustomization.yaml");
    for g in rel["configMapGenerator"].as_array().unwrap() {
        let file = g["files"][0].as_str().unwrap();
        let target = file.strip_prefix("values.yaml=../../../../../").unwrap();
        assert!(flux.get(target).is_some(), "{file}");
    }
    let hr = object(&flux, "sites/lab/gitops/flux/releases/helmrelease-provisioner-prov-lab.yaml");
    assert_eq!(hr["spec"]["chart"]["spec"]["version"], "2.33.6");
}

#[test]
fn proxy_and_site_provisioners_carry_the_network_secure_defaults_and_env() {
    let extra = "coder:\n  provisioner_env:\n    TF_LOG: WARN\nnetwork:\n  registry:\n    mirror: reg.corp.example/m\n    pull_secret: pull\n  proxy:\n    url: http://proxy.corp.example:3128\n    cluster_cidrs: [10.0.0.0/8]\n  terraform_providers:\n    mirror_url: https://tf.corp.example/p/\n  ca:\n    secret: corp-ca\n";
    let tree = render(extra);
    let x = object(&tree, "sites/eu/helm/coder/values.yaml");
    assert_eq!(env(&x, "CODER_DISABLE_PATH_APPS").unwrap()["value"], "true");
    assert_eq!(env(&x, "CODER_STRICT_TRANSPORT_SECURITY").unwrap()["value"], "31536000");
    assert_eq!(env(&x, "HTTPS_PROXY").unwrap()["value"], "http://proxy.corp.example:3128");
    assert!(env(&x, "TF_CLI_CONFIG_FILE").is_none(), "a proxy runs no Terraform");
    assert!(env(&x, "CODER_TELEMETRY_ENABLE").is_none() && env(&x, "CODER_AUDIT_LOGS_RETENTION").is_none(), "coderd's options only");
    assert_eq!(x["coder"]["image"]["repo"], "reg.corp.example/m/coder/coder");
    assert_eq!(x["coder"]["certs"]["secrets"][0]["name"], "corp-ca");
    let g = object(&tree, "sites/lab/helm/coder-provisioner/prov-lab/values.yaml");
    assert_eq!(env(&g, "TF_CLI_CONFIG_FILE").unwrap()["value"], "/etc/coder-terraform/cli.tfrc");
    assert_eq!(env(&g, "TF_LOG").unwrap()["value"], "WARN", "coder.provisioner_env reaches site groups");
    assert!(g["extraTemplates"][0].as_str().unwrap().contains("https://tf.corp.example/p/"));
    assert_eq!(g["coder"]["image"]["pullSecrets"][0]["name"], "pull");
    // One images.txt: the EKS site's autoscaler is in it.
    let images = tree.get_str("images.txt").unwrap();
    assert!(images.lines().any(|l| l.starts_with("registry.k8s.io/autoscaling/cluster-autoscaler:")), "{images}");
    assert_eq!(object(&tree, "sites/lab/verify/serviceaccount.yaml")["imagePullSecrets"][0]["name"], "pull");
    // The site README creates the network's Secrets in the site's namespaces.
    let readme = tree.get_str("sites/lab/README.md").unwrap();
    assert!(readme.contains("kubectl --context \"$SITE_CONTEXT\" -n prov-lab create secret generic pull"), "{readme}");
    assert!(readme.contains("kubectl --context \"$SITE_CONTEXT\" -n coder-proxy create secret generic corp-ca"));
}
