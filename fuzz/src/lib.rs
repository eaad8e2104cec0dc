//! Checks shared by the fuzz targets: what must hold for ANY input, beyond
//! "does not panic".

use coder_gen::tree::Tree;

/// Spec text -> plan -> plan text and JSON -> tree, asserting the pipeline's
/// invariants. Returns the tree when the spec is valid.
pub fn check_pipeline(file: &str, text: &str) -> Option<Tree> {
    match coder_gen::plan_from_str(file, text) {
        Ok(plan) => {
            let json = serde_json::to_string(&plan).expect("a plan serialises to JSON");
            assert!(json.contains("\"format_version\""));
            assert!(!coder_gen::plan::to_text(&plan).is_empty());
            let tree = coder_gen::render_str(file, text).expect("a spec that plans also renders");
            check_tree(&tree);
            // Determinism: the same input renders the same bytes.
            assert_eq!(coder_gen::render_str(file, text).ok().as_ref(), Some(&tree), "rendering is not deterministic");
            Some(tree)
        }
        Err(e) => {
            // A rejection names at least one problem and can be shown.
            assert!(!e.errors().is_empty(), "an error without a problem");
            assert!(!e.render(text).is_empty(), "an error that renders to nothing");
            assert!(coder_gen::render_str(file, text).is_err(), "plan refused what render accepted");
            None
        }
    }
}

/// What every rendered tree must look like: safe relative paths, UTF-8, LF,
/// one trailing newline, and YAML/JSON files that parse.
pub fn check_tree(tree: &Tree) {
    assert!(!tree.is_empty(), "an empty tree");
    for (path, bytes) in tree.iter() {
        assert!(coder_gen::tree::is_safe_relative(path), "unsafe path {path:?}");
        let text = std::str::from_utf8(bytes).unwrap_or_else(|_| panic!("{path}: not UTF-8"));
        assert!(!text.contains('\r'), "{path}: CR");
        assert!(text.ends_with('\n') && !text.ends_with("\n\n"), "{path}: not one trailing newline");
        if path.ends_with(".yaml") {
            let parsed: Result<serde_json::Value, _> = serde_saphyr::from_str(text);
            assert!(parsed.is_ok(), "{path}: rendered YAML does not parse: {:?}\n{text}", parsed.err());
        } else if path.ends_with(".json") {
            assert!(serde_json::from_str::<serde_json::Value>(text).is_ok(), "{path}: rendered JSON does not parse");
        }
    }
}
