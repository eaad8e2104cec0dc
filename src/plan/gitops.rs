//! GitOps: which controller deploys the tree from Git, from where, and in
//! which order (namespaces and policies, then coderd, then provisioners).

use serde::Serialize;

use std::collections::BTreeSet;

use super::{Ctx, Reasons, SecretRef};
use crate::spec::{EnvValue, GitopsController};

/// The controller whose objects the tree carries. The spec's `none` never
/// reaches the plan: it means no [`Gitops`] at all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Controller {
    Flux,
    Argocd,
}

impl Controller {
    /// As the spec and plan JSON spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Controller::Flux => "flux",
            Controller::Argocd => "argocd",
        }
    }
}

/// The kind of Git credentials a private repository needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum GitAuth {
    Ssh,
    Https,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gitops {
    pub controller: Controller,
    /// Where the controller's objects live (`flux-system` or `argocd`, the
    /// namespaces `flux install` and Argo CD's install manifests create).
    pub namespace: String,
    pub repo_url: String,
    /// The tree's folder in the repository, `""` for its root.
    pub path: String,
    pub branch: String,
    pub secret_name: Option<String>,
    /// How the controller authenticates to the repository: `ssh` (a deploy
    /// key) for an `ssh://` URL, `https` (a token) otherwise.
    pub auth: GitAuth,
    /// How often Flux re-reads Git and re-applies (Argo CD polls on its own
    /// global setting).
    pub interval: String,
    /// How often Flux re-reads the Helm repository's index.
    pub chart_interval: String,
    /// The secrets coderd's pods read (its database URL, `coder.env`'s
    /// secrets), which the operator or External Secrets creates: Flux holds
    /// the releases back until they exist (health checks of the Kustomize
    /// tree's Kustomization).
    pub coderd_secrets: Vec<NamespacedSecret>,
    pub reasons: Reasons,
}

#[derive(Debug, Clone, Serialize)]
pub struct NamespacedSecret {
    pub namespace: String,
    pub name: String,
}

pub(crate) fn plan(ctx: &Ctx, coderd_namespace: &str, url_secret: &SecretRef) -> Option<Gitops> {
    let g = ctx.spec.gitops.as_ref()?;
    let controller = match g.controller {
        GitopsController::Flux => Controller::Flux,
        GitopsController::Argocd => Controller::Argocd,
        // The spec keeps no Gitops for `none`; were it to, no objects either.
        GitopsController::None => return None,
    };
    let namespace = match controller {
        Controller::Flux => "flux-system",
        Controller::Argocd => "argocd",
    };
    let mut reasons = Reasons::new();
    reasons.insert("controller", "gitops.controller in the spec".into());
    reasons.insert(
        "namespace",
        match controller {
            Controller::Flux => "`flux install` creates flux-system; its controllers read their objects there".into(),
            Controller::Argocd => {
                "Argo CD's install manifests use argocd; Applications live there unless apps-in-any-namespace is set up".into()
            }
        },
    );
    reasons.insert(
        "order",
        "namespaces, Pod Security, policies, quotas and RBAC first (the releases' namespaces and Roles must exist), then coderd, then provisioners (they connect to coderd): Flux dependsOn, Argo CD sync waves 0, 1, 2".into(),
    );
    reasons.insert(
        "interval",
        "how often Flux re-reads Git and corrects drift; 10m as in Flux's own examples (`flux reconcile` applies a commit at once)".into(),
    );
    reasons.insert("repo_url", "gitops.repo_url in the spec".into());
    reasons.insert("path", "gitops.path in the spec, normalised; empty for the repository's root (the default)".into());
    reasons.insert("branch", "gitops.branch in the spec (default main)".into());
    let auth = if g.repo_url.starts_with("ssh://") { GitAuth::Ssh } else { GitAuth::Https };
    reasons.insert(
        "auth",
        match auth {
            GitAuth::Ssh => "the repository URL is ssh://: the controller reads it with a deploy key".into(),
            GitAuth::Https => "the repository URL is https://: the controller reads it with an access token".into(),
        },
    );
    reasons.insert("chart_interval", "chart versions are pinned; the Helm index only needs an occasional refresh".into());
    let mut names: BTreeSet<&str> = BTreeSet::from([url_secret.name.as_str()]);
    names.extend(ctx.spec.coder.env.values().filter_map(|v| match v {
        EnvValue::SecretRef { secret, .. } => Some(secret.as_str()),
        EnvValue::Value(_) => None,
    }));
    let coderd_secrets: Vec<NamespacedSecret> =
        names.into_iter().map(|name| NamespacedSecret { namespace: coderd_namespace.into(), name: name.into() }).collect();
    reasons.insert(
        "coderd_secrets",
        match controller {
            Controller::Flux => "coderd's pods cannot start without them, and a Helm install that times out waiting is retried and rolled back over and over: Flux's Kustomize tree Kustomization health-checks them, so the releases (dependsOn) start only once they exist".into(),
            Controller::Argocd => "coderd's pods cannot start without them; Argo CD keeps the coder Application progressing until they exist (create them before it syncs)".into(),
        },
    );
    Some(Gitops {
        controller,
        namespace: namespace.into(),
        repo_url: g.repo_url.clone(),
        path: g.path.clone(),
        branch: g.branch.clone(),
        secret_name: g.secret_name.clone(),
        auth,
        interval: "10m".into(),
        chart_interval: "1h".into(),
        coderd_secrets,
        reasons,
    })
}
