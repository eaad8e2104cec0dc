//! The user's own settings that the reference architecture does not size
//! (issue #14): extra coderd environment variables from `coder.env`, and
//! Helm values files merged over the generated values. They are carried as
//! given; the spec refuses the variables coder-gen or the chart sets, and
//! `crate::overrides::check` refuses a values file that changes a sized
//! value unless the spec lists it as `intended` (then the reasons say so).

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Ctx, Reasons};
use crate::spec::EnvValue;

#[derive(Debug, Clone, Serialize)]
pub struct Overrides {
    /// Appended to coderd's environment after coder-gen's own variables,
    /// sorted by name. A `secret_ref` is read from a Secret in coderd's
    /// namespace, which the operator creates.
    pub coderd_env: BTreeMap<String, EnvValue>,
    /// Per target (`coder`, `coder-provisioner/<ns>`): the user's values file.
    pub helm: BTreeMap<String, HelmValues>,
    /// The user's Terraform files, copied into `terraform/<cloud>/`.
    pub terraform: Vec<TerraformFile>,
    /// Per overlay (`coder`, `provisioners-<ns>`, `workspaces-<ns>`): the
    /// user's patches and extra objects, copied into the overlay.
    pub kustomize: BTreeMap<String, Vec<KustomizeFile>>,
    pub reasons: Reasons,
}

#[derive(Debug, Clone, Serialize)]
pub struct KustomizeFile {
    /// Relative to the spec's folder.
    pub file: String,
    /// Its name in the overlay (`patch-<name>` or `extra-<name>`).
    pub name: String,
    /// A strategic merge patch.
    pub patch: bool,
    /// A JSON 6902 patch of `object_kind`/`object_name` (neither: an extra object).
    pub json_patch: bool,
    pub object_kind: String,
    pub object_name: String,
    pub sha256: String,
    #[serde(skip)]
    pub text: String,
    #[serde(skip)]
    pub line: u64,
    #[serde(skip)]
    pub column: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TerraformFile {
    /// Relative to the spec's folder.
    pub file: String,
    /// Its name in `terraform/<cloud>/`.
    pub name: String,
    pub sha256: String,
    #[serde(skip)]
    pub text: String,
    #[serde(skip)]
    pub line: u64,
    #[serde(skip)]
    pub column: u64,
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
            let text = o.text.clone()?;
            Some(TerraformFile {
                file: o.file.value.clone(),
                name: o.file.value.rsplit('/').next().unwrap_or(&o.file.value).to_string(),
                sha256: crate::digest::sha256_hex(text.as_bytes()),
                text,
                line: o.file.line,
                column: o.file.column,
            })
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
                let text = f.text.clone()?;
                let (object_kind, object_name) = crate::overrides::object_id(&text).ok()?;
                let base = f.file.value.rsplit('/').next().unwrap_or(&f.file.value);
                Some(KustomizeFile {
                    file: f.file.value.clone(),
                    name: format!("{}-{base}", if patch { "patch" } else { "extra" }),
                    patch,
                    json_patch: false,
                    object_kind,
                    object_name,
                    sha256: crate::digest::sha256_hex(text.as_bytes()),
                    text,
                    line: f.file.line,
                    column: f.file.column,
                })
            })
            .collect();
        let mut files = files;
        for (f, kind, name) in &k.json_patches {
            let Some(text) = f.text.clone() else { continue };
            let base = f.file.value.rsplit('/').next().unwrap_or(&f.file.value);
            files.push(KustomizeFile {
                file: f.file.value.clone(),
                name: format!("json-patch-{base}"),
                patch: false,
                json_patch: true,
                object_kind: kind.clone(),
                object_name: name.clone(),
                sha256: crate::digest::sha256_hex(text.as_bytes()),
                text,
                line: f.file.line,
                column: f.file.column,
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
    Overrides { coderd_env: ctx.spec.coder.env.clone(), helm, terraform, kustomize, reasons }
}
