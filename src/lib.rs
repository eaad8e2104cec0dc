//! coder-gen: render a Coder deployment sized by Coder's reference
//! architectures. The pipeline runs one way:
//!
//! spec (parse + validate) -> plan (pure sizing) -> render (Plan -> Tree) -> output (disk)
//!
//! The binary is a thin shell over [`cli::run`]; tests and benchmarks drive
//! the same functions in-process. The library API is for this project's own
//! binary and tests and carries no semver promise.

pub mod catalog;
pub mod cli;
pub mod cloud;
pub mod digest;
pub mod error;
pub mod output;
pub mod overrides;
pub mod plan;
pub mod render;
pub mod spec;
pub mod tree;

use std::path::Path;

pub use error::Error;

/// Read a spec file. `display` is how the file is named in messages.
pub fn read_spec(path: &Path) -> Result<String, Error> {
    std::fs::read_to_string(path).map_err(|source| Error::Read { path: path.to_path_buf(), source })
}

/// Spec text -> Plan, with the embedded catalog. Override files the spec
/// names (`overrides:`) are read relative to `file`'s folder.
pub fn plan_from_str(file: &str, text: &str) -> Result<plan::Plan, error::SpecError> {
    let mut spec = spec::Spec::parse(file, text)?;
    overrides::read(&mut spec, Path::new(file))?;
    let plan = plan::plan(&spec, catalog::Catalog::embedded())?;
    if !plan.overrides.helm.is_empty() {
        overrides::check(&plan, file, &render::helm::generated(&plan))?;
    }
    if !plan.overrides.kustomize.is_empty() {
        overrides::check_kustomize(&plan, file, &render::kustomize::objects(&plan))?;
    }
    if !plan.overrides.terraform.is_empty() {
        overrides::check_terraform(&plan, file, &render::terraform_names(&plan))?;
    }
    Ok(plan)
}

/// Spec text -> Tree: the whole pipeline short of the disk.
pub fn render_str(file: &str, text: &str) -> Result<tree::Tree, error::SpecError> {
    Ok(render::render(&plan_from_str(file, text)?))
}
