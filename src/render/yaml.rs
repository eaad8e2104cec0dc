//! The one YAML style of the tree: serde-saphyr, block sequences indented
//! under their key (yamllint's default), no folding of long lines, and
//! strings like `on`/`yes`/`y` quoted so YAML 1.1 readers (Helm) keep them
//! as strings.

use serde::Serialize;

use crate::tree::{Comment, header};

fn options() -> serde_saphyr::SerializerOptions {
    serde_saphyr::ser_options! { folded_wrap_chars: 100_000, compact_list_indent: false }
}

/// Serialize `value` as a YAML document. Only our own plain data types
/// (strings, numbers, maps, k8s-openapi objects) come here, which always
/// serialize; a failure would be a bug in coder-gen, not in the input.
pub fn to_yaml<T: Serialize>(value: &T) -> String {
    serde_saphyr::to_string_with_options(value, options()).expect("plain data always serializes to YAML")
}

/// A YAML file with the DO NOT EDIT header.
pub fn document<T: Serialize>(spec_file: &str, value: &T) -> String {
    format!("{}{}", header(Comment::Hash, spec_file), to_yaml(value))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    #[test]
    fn yaml11_booleans_stay_strings() {
        let m = BTreeMap::from([("a", "on"), ("b", "y"), ("c", "yes"), ("d", "plain")]);
        let y = super::to_yaml(&m);
        assert_eq!(y, "a: \"on\"\nb: \"y\"\nc: \"yes\"\nd: plain\n");
    }

    #[test]
    fn sequences_are_indented() {
        let m = BTreeMap::from([("k", vec!["x", "z"])]);
        assert_eq!(super::to_yaml(&m), "k:\n  - x\n  - z\n");
    }
}
