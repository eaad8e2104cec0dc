//! The user's own settings that the reference architecture does not size
//! (issue #14): extra coderd environment variables from `coder.env`, and
//! Helm values files merged over the generated values. They are carried as
//! given; the spec refuses the variables coder-gen or the chart sets, and
//! `crate::overrides::check` refuses a values file that changes a sized
//! value unless the spec lists it as `intended` (then the reasons say so).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Ctx, Reasons};
use crate::digest::sha256_hex;
use crate::spec::{EnvValue, UserFile};
use crate::yaml::object_id;

#[derive(Debug, Clone, Serialize)]
pub struct Overrides {
    /// Appended to coderd's environment after coder-gen's own variables,
    /// sorted by name. A `secret_ref` is read from a Secret in coderd's
    /// namespace, which the operator creates.
    pub coderd_env: BTreeMap<String, EnvValue>,
    /// Per provisioner namespace (groups with any): appended to the
    /// provisioners' environment after coder-gen's own variables, sorted by
    /// name; `coder.provisioner_env` with the group's own `env` over it. A
    /// `secret_ref` is read from a Secret in the group's namespace.
    pub provisioner_env: BTreeMap<String, BTreeMap<String, EnvValue>>,
    /// Per target (`coder`, `coder-provisioner/<ns>`): the user's values file.
    pub helm: BTreeMap<String, HelmValues>,
    /// The user's Terraform files, copied into `terraform/<cloud>/`.
    pub terraform: Vec<TerraformFile>,
    /// Per overlay (`coder`, `provisioners-<ns>`, `workspaces-<ns>`): the
    /// user's patches and extra objects, copied into the overlay.
    pub kustomize: BTreeMap<String, Vec<KustomizeFile>>,
    pub reasons: Reasons,
}

impl Overrides {
    /// Whether the user gave any file of their own (Helm values, Terraform,
    /// Kustomize), which `overrides::check` then compares with the tree.
    pub fn names_files(&self) -> bool {
        !self.helm.is_empty() || !self.terraform.is_empty() || !self.kustomize.is_empty()
    }
}

/// A file of the user's, copied into the tree as written.
#[derive(Debug, Clone, Serialize)]
pub struct CopiedFile {
    /// Relative to the spec's folder.
    pub file: String,
    pub sha256: String,
    /// Its content (not in plan JSON).
    #[serde(skip)]
    pub text: String,
    /// Where the spec names the file, for errors.
    #[serde(skip)]
    pub line: u64,
    #[serde(skip)]
    pub column: u64,
}

impl CopiedFile {
    /// The spec's file entry, once its text has been read (`None` before).
    fn of(f: &UserFile) -> Option<CopiedFile> {
        let text = f.text.clone()?;
        Some(CopiedFile { file: f.file.value.clone(), sha256: sha256_hex(text.as_bytes()), text, line: f.file.line, column: f.file.column })
    }

    /// The file's own name, without its folders.
    fn base_name(&self) -> &str {
        self.file.rsplit('/').next().unwrap_or(&self.file)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct KustomizeFile {
    #[serde(flatten)]
    pub source: CopiedFile,
    /// Its name in the overlay (`patch-<name>`, `extra-<name>` or `json-patch-<name>`).
    pub name: String,
    /// A strategic merge patch.
    pub patch: bool,
    /// A JSON 6902 patch of `object_kind`/`object_name` (neither: an extra object).
    pub json_patch: bool,
    pub object_kind: String,
    pub object_name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TerraformFile {
    #[serde(flatten)]
    pub source: CopiedFile,
    /// Its name in `terraform/<cloud>/`.
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct HelmValues {
    /// Relative to the spec's folder.
    pub file: String,
    pub sha256: String,
    /// Sized values the user takes over (e.g. `coder.replicaCount`).
    pub intended: Vec<String>,
    /// The file's content, merged by the Helm renderer (not in plan JSON).
    #[serde(skip)]
    pub values: serde_json::Value,
    /// Where the spec names the file, for errors.
    #[serde(skip)]
    pub line: u64,
    #[serde(skip)]
    pub column: u64,
}

pub(crate) fn plan(ctx: &Ctx) -> Overrides {
    let mut reasons = Reasons::new();
    reasons.insert(
        "coderd_env",
        "coder.env in the spec; names coder-gen or the chart sets (access URL, database, sized numbers, metrics, TLS) are refused there"
            .into(),
    );
    let mut provisioner_env = BTreeMap::new();
    // The sites' groups too: namespaces are unique across the tree.
    for g in ctx.spec.provisioners.iter().chain(ctx.spec.sites.iter().flat_map(|s| &s.provisioners)) {
        let mut env = ctx.spec.coder.provisioner_env.clone();
        env.extend(g.env.clone());
        if !env.is_empty() {
            provisioner_env.insert(g.namespace.clone(), env);
        }
    }
    reasons.insert(
        "provisioner_env",
        "coder.provisioner_env (every group) and provisioners[].env (one group, which wins) in the spec; names coder-gen or the chart sets (coderd's URL, the provisioner key, tags, metrics) are refused there"
            .into(),
    );
    let mut helm = BTreeMap::new();
    for (target, o) in &ctx.spec.helm_overrides {
        // Unread (`values: None`) only when the spec came without its folder;
        // the caller reads the files before planning.
        let Some((values, sha256)) = &o.values else { continue };
        let intended: Vec<String> = o.intended.iter().map(|i| i.value.clone()).collect();
        helm.insert(
            target.clone(),
            HelmValues {
                file: o.file.value.clone(),
                sha256: sha256.clone(),
                intended,
                values: values.clone(),
                line: o.file.line,
                column: o.file.column,
            },
        );
    }
    reasons.insert(
        "helm",
        if helm.is_empty() {
            "no overrides.helm in the spec".into()
        } else {
            helm.iter()
                .map(|(t, h)| {
                    let taken = if h.intended.is_empty() {
                        String::new()
                    } else {
                        format!("; from the user, not the plan: {}", h.intended.join(", "))
                    };
                    format!("{t}: {} merged over the generated values{taken}", h.file)
                })
                .collect::<Vec<_>>()
                .join("; ")
        },
    );
    let terraform: Vec<TerraformFile> = ctx
        .spec
        .terraform_overrides
        .iter()
        .filter_map(|o| {
            let source = CopiedFile::of(o)?;
            Some(TerraformFile { name: source.base_name().to_string(), source })
        })
        .collect();
    reasons.insert(
        "terraform",
        "overrides.terraform in the spec: copied as written; *_override.tf files may not set sized arguments (node counts, max pods, classes, storage, HA, labels, taints)".into(),
    );
    let mut kustomize = BTreeMap::new();
    for (overlay, k) in &ctx.spec.kustomize_overrides {
        let files: Vec<KustomizeFile> = k
            .patches
            .iter()
            .map(|f| (f, true))
            .chain(k.resources.iter().map(|f| (f, false)))
            .filter_map(|(f, patch)| {
                let source = CopiedFile::of(f)?;
                let (object_kind, object_name) = object_id(&source.text).ok()?;
                let name = format!("{}-{}", if patch { "patch" } else { "extra" }, source.base_name());
                Some(KustomizeFile { source, name, patch, json_patch: false, object_kind, object_name })
            })
            .collect();
        let mut files = files;
        for (f, kind, name) in &k.json_patches {
            let Some(source) = CopiedFile::of(f) else { continue };
            files.push(KustomizeFile {
                name: format!("json-patch-{}", source.base_name()),
                source,
                patch: false,
                json_patch: true,
                object_kind: kind.clone(),
                object_name: name.clone(),
            });
        }
        if !files.is_empty() {
            kustomize.insert(overlay.clone(), files);
        }
    }
    reasons.insert(
        "kustomize",
        "overrides.kustomize in the spec: copied into the overlay; each patch must match one of its objects and may not touch a ResourceQuota or LimitRange (sized)".into(),
    );
    Overrides { coderd_env: ctx.spec.coder.env.clone(), provisioner_env, helm, terraform, kustomize, reasons }
}
