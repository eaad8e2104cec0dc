//! coder-gen: render a Coder deployment sized by Coder's reference
//! architectures. The pipeline runs one way:
//!
//! spec (parse + validate) -> plan (pure sizing) -> render (Plan -> Tree) -> output (disk)
//!
//! The binary is a thin shell over [`cli::run`]; tests and benchmarks drive
//! the same functions in-process. The library API is for this project's own
//! binary and tests and carries no semver promise.

// The top: the CLI and the one error type wrapping every domain's.
pub mod cli;
pub mod error;
pub mod explain;
// The pipeline, downhill.
pub mod catalog;
pub mod output;
pub mod overrides;
pub mod plan;
pub mod render;
pub mod review;
pub mod spec;
// The ground floor: imports nothing of the crate.
pub mod cloud;
pub mod diag;
pub mod digest;
pub(crate) mod fs;
pub mod tree;
pub(crate) mod yaml;

#[cfg(test)]
mod test_support;

use std::path::Path;

pub use error::Error;

use catalog::Catalog;
use diag::{SpecError, escape_json};
use fs::{Bounded, file_kind, read_at_most};
use output::OutputMeta;
use plan::Plan;
use spec::{MAX_SPEC_BYTES, Spec};
use tree::{Tree, display_name};

/// Read a spec file, bounded: a path that is not a regular file (a
/// directory, FIFO, device such as `/dev/zero`) is refused before it is
/// opened, so nothing blocks; a file larger than [`MAX_SPEC_BYTES`] is
/// refused after reading at most the limit + 1 bytes.
pub fn read_spec(path: &Path) -> Result<String, Error> {
    let read_err = |source| Error::Read { path: path.to_path_buf(), source };
    // Follows links: a link to a spec is fine, a link to a FIFO is not.
    let md = std::fs::metadata(path).map_err(read_err)?;
    if !md.is_file() {
        return Err(Error::NotAFile { path: path.to_path_buf(), what: file_kind(md.file_type()) });
    }
    match read_at_most(path, MAX_SPEC_BYTES as u64).map_err(read_err)? {
        Bounded::TooLarge(_) => Err(Error::Spec(spec::too_large(&display_name(&path.to_string_lossy())))),
        Bounded::Whole(bytes) => String::from_utf8(bytes).map_err(|e| {
            read_err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("it is not UTF-8 text (invalid byte at offset {})", e.utf8_error().valid_up_to()),
            ))
        }),
    }
}

/// Spec text -> validated Spec, with its digest: sha256 of the canonical
/// form of what was parsed, so comments and formatting do not change it.
pub fn spec_from_str(file: &str, text: &str) -> Result<Spec, SpecError> {
    let mut spec = Spec::parse(file, text)?;
    spec.digest = spec::digest(&spec);
    Ok(spec)
}

/// Spec text -> Plan, with the embedded catalog. Override files the spec
/// names (`overrides:`) are read relative to `file`'s folder, and checked
/// against what coder-gen generates without them.
pub fn plan_from_str(file: &str, text: &str) -> Result<Plan, SpecError> {
    let mut spec = spec_from_str(file, text)?;
    // The user's override files, read (bounded) relative to the spec.
    overrides::read(&mut spec, Path::new(file))?;
    let plan = plan::plan(&spec, Catalog::embedded())?;
    if plan.overrides.names_files() {
        overrides::check(&plan, file, &render::generated(&plan))?;
    }
    Ok(plan)
}

/// Spec text -> Tree: the whole pipeline short of the disk.
pub fn render_str(file: &str, text: &str) -> Result<Tree, SpecError> {
    Ok(render::render(&plan_from_str(file, text)?))
}

/// The plan's stable JSON document (`plan --format json`).
pub fn plan_json(plan: &Plan) -> String {
    let mut s = serde_json::to_string_pretty(plan).expect("the plan always serializes to JSON");
    s.push('\n');
    escape_json(&s)
}

/// What `render`, `diff` and `check` tell `output` besides the tree: the
/// manifest's fields and the records beside it. The tree records its plan
/// (`.coder-gen/plan.json`, byte for byte `plan --format json`): the next
/// `diff`'s starting point and the chart downgrade check's.
pub fn output_meta(plan: &Plan) -> OutputMeta {
    OutputMeta {
        generator_version: env!("CARGO_PKG_VERSION").to_string(),
        spec_file: plan.spec_file.clone(),
        spec_digest: plan.spec_digest.clone(),
        records: [(review::RECORDED_PLAN_NAME.to_string(), plan_json(plan).into_bytes())].into(),
    }
}
