//! `overrides:`: the user's own Helm values, Terraform and Kustomize files,
//! named relative to the spec's folder (read later, by `crate::overrides`).

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use super::Validator;
use super::syntax::normalize_repo_path;
use crate::diag::quote;
use crate::spec::raw::{RawHelmOverride, RawKustomizeOverride};
use crate::spec::{At, CODER_NAMESPACE, HelmOverride, KustomizeOverride, ProvisionerGroup, SIZED_HELM_PATHS, UserFile, WorkspaceGroup};

impl Validator<'_> {
    pub(super) fn helm_overrides(
        &mut self,
        raw: BTreeMap<String, RawHelmOverride>,
        provisioners: &[ProvisionerGroup],
    ) -> BTreeMap<String, HelmOverride> {
        let mut targets = vec![CODER_NAMESPACE.to_string()];
        targets.extend(provisioners.iter().map(|g| format!("coder-provisioner/{}", g.namespace)));
        let mut out = BTreeMap::new();
        for (target, o) in raw {
            if !targets.contains(&target) {
                self.err(
                    &o.values,
                    format!("overrides.helm has no release {}", quote(&target)),
                    &format!("use one of: {}", targets.join(", ")),
                );
            }
            let file = match normalize_repo_path(&o.values.value) {
                Some(f) if !f.is_empty() => f,
                _ => {
                    self.err(
                        &o.values,
                        format!("overrides.helm.{target}.values {} is not a file inside the spec's folder", quote(&o.values.value)),
                        "give a path relative to the spec's folder, without `..`, e.g. overrides/coder-values.yaml",
                    );
                    String::new()
                }
            };
            let mut intended = Vec::new();
            for i in o.intended {
                if !SIZED_HELM_PATHS.contains(&i.value.as_str()) {
                    self.err(
                        &i,
                        format!("{} is not a value the plan sizes", quote(&i.value)),
                        &format!("intended lists only sized values: {}", SIZED_HELM_PATHS.join(", ")),
                    );
                }
                intended.push(At::from_spanned(i));
            }
            let at = At { value: file, line: o.values.defined.line(), column: o.values.defined.column() };
            out.insert(target, HelmOverride { file: at, intended, values: None });
        }
        out
    }

    pub(super) fn kustomize_overrides(
        &mut self,
        raw: BTreeMap<String, RawKustomizeOverride>,
        provisioners: &[ProvisionerGroup],
        workspaces: &[WorkspaceGroup],
    ) -> BTreeMap<String, KustomizeOverride> {
        let mut overlays = vec![CODER_NAMESPACE.to_string()];
        overlays.extend(provisioners.iter().map(|g| format!("provisioners-{}", g.namespace)));
        overlays.extend(workspaces.iter().map(|g| format!("workspaces-{}", g.namespace)));
        let mut out = BTreeMap::new();
        for (overlay, o) in raw {
            let mut names = Vec::new();
            // An unknown overlay is said once, at its first file.
            let mut unknown = !overlays.contains(&overlay);
            let mut files = |list: Vec<Spanned<String>>, what: &str, this: &mut Self| -> Vec<UserFile> {
                let mut v = Vec::new();
                for f in list {
                    if std::mem::take(&mut unknown) {
                        this.err(
                            &f,
                            format!("overrides.kustomize has no overlay {}", quote(&overlay)),
                            &format!("use one of: {}", overlays.join(", ")),
                        );
                    }
                    match normalize_repo_path(&f.value).filter(|p| (p.ends_with(".yaml") || p.ends_with(".yml")) && !p.is_empty()) {
                        Some(file) => {
                            let name = file.rsplit('/').next().unwrap_or(&file).to_string();
                            if names.contains(&name) {
                                this.err(
                                    &f,
                                    format!("overrides.kustomize.{overlay} names two files called {name}"),
                                    "each file is copied into the overlay under its own name: rename one",
                                );
                            }
                            names.push(name);
                            v.push(UserFile { file: At { value: file, line: f.defined.line(), column: f.defined.column() }, text: None });
                        }
                        None => this.err(
                            &f,
                            format!(
                                "overrides.kustomize.{overlay}.{what} {} is not a .yaml file inside the spec's folder",
                                quote(&f.value)
                            ),
                            "give a path relative to the spec's folder, without `..`, e.g. kustomize/coder-patch.yaml",
                        ),
                    }
                }
                v
            };
            let patches = files(o.patches, "patches", self);
            let resources = files(o.resources, "resources", self);
            let targets: Vec<(String, String)> = o.json_patches.iter().map(|j| (j.kind.clone(), j.name.clone())).collect();
            let json_files = files(o.json_patches.into_iter().map(|j| j.file).collect(), "json_patches", self);
            let json_patches = json_files.into_iter().zip(targets).map(|(f, (k, n))| (f, k, n)).collect();
            out.insert(overlay, KustomizeOverride { patches, resources, json_patches });
        }
        out
    }

    pub(super) fn terraform_overrides(&mut self, raw: Vec<Spanned<String>>) -> Vec<UserFile> {
        let mut out: Vec<UserFile> = Vec::new();
        for f in raw {
            let file = normalize_repo_path(&f.value).filter(|p| p.ends_with(".tf") && !p.is_empty());
            let Some(file) = file else {
                self.err(
                    &f,
                    format!("overrides.terraform {} is not a .tf file inside the spec's folder", quote(&f.value)),
                    "give a path relative to the spec's folder, without `..`, ending in .tf, e.g. terraform/backend.tf",
                );
                continue;
            };
            let name = file.rsplit('/').next().unwrap_or(&file).to_string();
            if out.iter().any(|o| o.file.value.rsplit('/').next() == Some(name.as_str())) {
                self.err(
                    &f,
                    format!("overrides.terraform names two files called {name}"),
                    "each file is copied into terraform/<cloud>/ under its own name: rename one",
                );
            }
            out.push(UserFile { file: At { value: file, line: f.defined.line(), column: f.defined.column() }, text: None });
        }
        out
    }
}
