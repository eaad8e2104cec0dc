//! The spec's JSON Schema (`coder-gen schema`), generated from the raw spec
//! types in `spec.rs` so it cannot drift from what the parser accepts.
//!
//! Draft-07, because yaml-language-server (VS Code's YAML extension and
//! most editors) does not fully support 2019-09/2020-12 yet.

use std::sync::OnceLock;

use serde_json::Value;

/// The schema as a JSON value (generated once).
pub fn spec_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let schema = schemars::generate::SchemaSettings::draft07().into_generator().into_root_schema_for::<crate::spec::RawSpec>();
        schema.to_value()
    })
}

/// The schema as `coder-gen schema` prints it: pretty, one trailing newline.
pub fn spec_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(spec_schema()).expect("a JSON value always serializes");
    s.push('\n');
    s
}
