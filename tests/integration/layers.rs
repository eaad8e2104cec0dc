//! The house's floors (docs/ARCHITECTURE.md, "Which way imports run"):
//! every crate path a source file names (`use crate::…`, an inline
//! `crate::x::…`, a `super::` that leaves its module) must lead to a module
//! its own module may import. Test-only code (`#[cfg(test)]` modules and the
//! files they declare) is left out: a test may drive the whole pipeline.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

const GROUND: &[&str] = &["cloud", "diag", "digest", "fs", "tree", "yaml"];

/// Each top-level module and the modules it may import, besides the ground
/// floor (which itself imports nothing of the crate). `lib` is the crate
/// root (`src/lib.rs` and `crate::read_spec`-style paths).
const MAY_IMPORT: &[(&str, &[&str])] = &[
    ("cloud", &[]),
    ("diag", &[]),
    ("digest", &[]),
    ("fs", &[]),
    ("tree", &[]),
    ("yaml", &[]),
    ("catalog", &[]),
    ("spec", &["catalog"]),
    ("plan", &["spec", "catalog"]),
    // render reads only the Plan: never the spec, whose enums the plan re-exports.
    ("render", &["plan"]),
    ("overrides", &["render", "plan", "spec"]),
    ("output", &[]),
    ("explain", &["render", "plan"]),
    // The review summary reads the Plan and the impact data; the CLI hands it
    // the bytes output read, so it never imports output.
    ("review", &["plan", "catalog"]),
    ("error", &["output", "review"]),
    ("cli", &["lib", "error", "explain", "review", "output", "overrides", "render", "plan", "spec", "catalog"]),
    ("lib", &["cli", "error", "explain", "review", "output", "overrides", "render", "plan", "spec", "catalog"]),
    ("main", &["lib", "cli"]),
];

fn allowed(from: &str, to: &str) -> Option<bool> {
    let (_, list) = MAY_IMPORT.iter().find(|(m, _)| *m == from)?;
    let from_ground = GROUND.contains(&from);
    Some(from == to || list.contains(&to) || (!from_ground && GROUND.contains(&to)))
}

/// The number of `#` of a raw string literal starting at `i`, if one does.
fn raw_string_at(b: &[u8], i: usize) -> Option<usize> {
    let ident = |k: usize| b[k].is_ascii_alphanumeric() || b[k] == b'_';
    // `br"…"` is a raw string too; `for"` is not.
    let ident_before = i > 0 && ident(i - 1) && !(b[i - 1] == b'b' && (i < 2 || !ident(i - 2)));
    if b[i] != b'r' || ident_before {
        return None;
    }
    let hashes = b[i + 1..].iter().take_while(|&&c| c == b'#').count();
    (b.get(i + 1 + hashes) == Some(&b'"')).then_some(hashes)
}

/// `text` without comments, string literals' contents and `#[cfg(test)]`
/// items (a `mod x { … }` or `mod x;`), and the names of the `mod x;` files
/// declared test-only.
fn code_of(text: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(text.len());
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if text[i..].starts_with("//") {
            i += text[i..].find('\n').unwrap_or(text.len() - i);
        } else if text[i..].starts_with("/*") {
            i += text[i..].find("*/").map_or(text.len() - i, |n| n + 2);
        } else if let Some(hashes) = raw_string_at(b, i) {
            // r"…", r#"…"#: ends at a quote followed by as many hashes.
            let close = format!("\"{}", "#".repeat(hashes));
            let body = i + 2 + hashes;
            i = text[body..].find(&close).map_or(text.len(), |n| body + n + close.len());
            out.push_str("\"\"");
        } else if b[i] == b'"' {
            out.push('"');
            i += 1;
            while i < b.len() && b[i] != b'"' {
                i += if b[i] == b'\\' { 2 } else { 1 };
            }
            out.push('"');
            i += 1;
        } else if b[i] == b'\'' {
            // A char literal ('"', '\'', '\u{1b}'); a lifetime has no closing quote.
            let c = text[i + 1..].chars().next().unwrap_or(' ');
            let len = if c == '\\' {
                text[i + 3..].find('\'').map(|n| n + 4)
            } else {
                text[i + 1 + c.len_utf8()..].starts_with('\'').then_some(2 + c.len_utf8())
            };
            match len {
                Some(n) => i += n,
                None => {
                    out.push('\'');
                    i += 1;
                }
            }
        } else {
            let c = text[i..].chars().next().unwrap();
            out.push(c);
            i += c.len_utf8();
        }
    }
    let mut code = String::new();
    let mut test_files = Vec::new();
    let mut rest = out.as_str();
    while let Some(at) = rest.find("#[cfg(test)]") {
        code.push_str(&rest[..at]);
        let after = rest[at + "#[cfg(test)]".len()..].trim_start();
        let item = after.strip_prefix("pub ").unwrap_or(after);
        let Some(m) = item.strip_prefix("mod ") else {
            rest = after;
            continue;
        };
        let name: String = m.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
        let tail = m[name.len()..].trim_start();
        if let Some(t) = tail.strip_prefix(';') {
            test_files.push(name);
            rest = t;
        } else {
            // Skip the braced body.
            let body = tail.strip_prefix('{').expect("a test module is `mod x;` or `mod x { … }`");
            let mut depth = 1;
            let mut end = body.len();
            for (k, c) in body.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            end = k + 1;
                            break;
                        }
                    }
                    _ => {}
                }
            }
            rest = &body[end..];
        }
    }
    code.push_str(rest);
    (code, test_files)
}

/// The module path of a file: src/plan/pools.rs -> [plan, pools].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    if matches!(parts.last().map(String::as_str), Some("mod" | "lib" | "main")) {
        parts.pop();
    }
    parts
}

fn ident(s: &str) -> &str {
    let n = s.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..n]
}

/// The top-level modules that `code` (of the module `here`) names: `lib`
/// for the crate root's own items.
fn targets(code: &str, here: &[String], top_modules: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    let top = |name: &str| if top_modules.contains(name) { name.to_string() } else { "lib".to_string() };
    let bytes = code.as_bytes();
    for (at, _) in code.match_indices("crate::") {
        if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
            continue; // e.g. `my_crate::`
        }
        let rest = &code[at + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            out.extend(group.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| top(ident(s))));
        } else {
            out.push(top(ident(rest)));
        }
    }
    for (at, _) in code.match_indices("super::") {
        if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_' || bytes[at - 1] == b':') {
            continue; // counted with the first `super::` of a chain
        }
        let mut path = here.to_vec();
        let mut rest = &code[at..];
        while let Some(r) = rest.strip_prefix("super::") {
            path.pop();
            rest = r;
        }
        match path.first() {
            Some(first) => out.push(first.clone()),
            None if rest.starts_with('{') => {
                let group = &rest[1..rest.find('}').unwrap_or(rest.len())];
                out.extend(group.split(',').map(str::trim).filter(|s| !s.is_empty()).map(|s| top(ident(s))));
            }
            None => out.push(top(ident(rest))),
        }
    }
    out
}

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .map(|e| e.unwrap().into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "rs"))
        .collect();
    files.sort();
    files
}

/// Every import of `src` that runs the wrong way, as `file: from -> to`.
fn wrong_way(src: &Path) -> Vec<String> {
    let files: Vec<(PathBuf, String, Vec<String>)> = rust_files(src)
        .into_iter()
        .map(|f| {
            let (code, tests) = code_of(&std::fs::read_to_string(&f).unwrap());
            (f, code, tests)
        })
        .collect();
    let top_modules: BTreeSet<String> = files.iter().filter_map(|(f, _, _)| module_of(src, f).first().cloned()).collect();
    // `#[cfg(test)] mod x;`: x.rs or x/mod.rs beside the declaring module's
    // file, and everything under x/.
    let mut test_only: BTreeSet<PathBuf> = BTreeSet::new();
    for (f, _, tests) in &files {
        let dir = if matches!(f.file_name().unwrap().to_str(), Some("mod.rs" | "lib.rs" | "main.rs")) {
            f.parent().unwrap().to_path_buf()
        } else {
            f.with_extension("")
        };
        for t in tests {
            test_only.insert(dir.join(format!("{t}.rs")));
            test_only.insert(dir.join(t));
        }
    }
    let mut problems = Vec::new();
    for (f, code, _) in &files {
        if test_only.iter().any(|t| f == t || f.starts_with(t)) {
            continue;
        }
        let shown = f.strip_prefix(src.parent().unwrap()).unwrap().display();
        let here = module_of(src, f);
        let from = match here.first() {
            Some(m) => m.clone(),
            None => f.file_stem().unwrap().to_string_lossy().into_owned(),
        };
        for to in targets(code, &here, &top_modules) {
            match allowed(&from, &to) {
                Some(true) => {}
                Some(false) => problems.push(format!("{shown}: {from} -> {to}")),
                None => problems.push(format!("{shown}: module `{from}` has no floor in MAY_IMPORT")),
            }
        }
    }
    problems.sort();
    problems.dedup();
    problems
}

#[test]
fn imports_run_downhill_only() {
    let problems = wrong_way(Path::new(env!("CARGO_MANIFEST_DIR")).join("src").as_path());
    assert!(problems.is_empty(), "imports that run the wrong way (see docs/ARCHITECTURE.md):\n{}", problems.join("\n"));
}

/// The checker sees what it must: an upward `use`, an inline path, a
/// `super::` out of the module, a group, and not test-only code.
#[test]
fn the_checker_finds_wrong_way_imports() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src");
    let write = |rel: &str, text: &str| {
        let p = src.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write("lib.rs", "pub mod render;\npub mod spec;\npub mod tree;\npub mod plan;\n");
    write(
        "spec.rs",
        "// use crate::plan::Plan; (a comment)\nconst S: &str = \"crate::plan::X\";\nconst R: &str = r#\"\"crate::plan::Y\"#;\nconst Q: char = '\"';\n",
    );
    write("plan.rs", "use crate::spec::Spec;\n#[cfg(test)]\nmod tests {\n    use crate::render::render;\n}\n");
    write("tree.rs", "fn f() -> usize { crate::spec::MAX }\n");
    write("render/mod.rs", "mod helm;\n#[cfg(test)]\nmod asserts;\n#[cfg(test)]\nmod tests;\nuse crate::{plan::Plan, spec::Spec};\n");
    write("render/asserts/mod.rs", "use crate::spec::Spec;\n");
    write("render/helm.rs", "use super::super::spec::EnvValue;\nfn f() { crate::plan_from_str(); }\n");
    write("render/tests.rs", "use crate::spec::Spec;\n");
    assert_eq!(
        wrong_way(&src),
        [
            "src/render/helm.rs: render -> lib",
            "src/render/helm.rs: render -> spec",
            "src/render/mod.rs: render -> spec",
            "src/tree.rs: tree -> spec"
        ]
    );
}
