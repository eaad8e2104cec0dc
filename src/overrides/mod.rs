//! The user's own override files (issue #14), in two phases:
//! - `read.rs`, spec time: read the files the spec names (the only I/O
//!   before `output`, called by `lib::plan_from_str` right after the parse);
//! - `check.rs`, plan time: the checks that keep a merged tree as safe as a
//!   generated one, against what coder-gen generates without the files
//!   (`render::generated`): only keys the real charts have, no sized value
//!   changed unless the spec marks it `intended`, patches that match.
//!
//! Merge rules (`yaml::merge`, applied by the Helm renderer): maps merge key
//! by key, recursively; anything else (lists, scalars, `null`) replaces what
//! was generated.

mod check;
mod read;
#[cfg(test)]
mod tests;

pub use check::check;
pub use read::read;
