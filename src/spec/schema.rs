//! The spec's JSON Schema (`coder-gen schema`), generated from the raw spec
//! types in `spec` so it cannot drift from what the parser accepts.
//!
//! Draft-07, because yaml-language-server (VS Code's YAML extension and
//! most editors) does not fully support 2019-09/2020-12 yet.

use std::sync::OnceLock;

use serde_json::Value;

use super::RawSpec;
use crate::catalog::regions;
use crate::cloud::Cloud;

/// The schema as a JSON value (generated once).
pub fn spec_schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        let schema = schemars::generate::SchemaSettings::draft07().into_generator().into_root_schema_for::<RawSpec>();
        let mut value = schema.to_value();
        add_regions(&mut value);
        value
    })
}

/// The schema as `coder-gen schema` prints it: pretty, one trailing newline.
pub fn spec_schema_text() -> String {
    let mut s = serde_json::to_string_pretty(spec_schema()).expect("a JSON value always serializes");
    s.push('\n');
    s
}

/// `region` per `cloud`, from catalog/regions.yaml, so editors complete and
/// check it (the types alone say only "a string"). The parser checks the
/// same list (`spec::Validator::region`).
fn add_regions(schema: &mut Value) {
    let rules: Vec<Value> = [Cloud::Gcp, Cloud::Aws, Cloud::Azure]
        .into_iter()
        .map(|cloud| {
            serde_json::json!({
                "if": { "properties": { "cloud": { "const": cloud.as_str() } }, "required": ["cloud"] },
                "then": { "properties": { "region": { "enum": regions::of(cloud) } } }
            })
        })
        .collect();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("allOf".to_string(), Value::Array(rules));
    }
}
