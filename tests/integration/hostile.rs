//! No input may panic: every example spec, mutated line by line in ways a
//! careless edit or a hostile file would, goes through the whole in-process
//! pipeline (spec -> plan -> render) and must end in a tree or a located
//! error, never a panic.

use crate::util::examples;

const VALUES: &[&str] = &[
    "",
    "~",
    "[]",
    "{}",
    "0",
    "-1",
    "99999999999999999999",
    "1e999",
    "yes",
    "\"\"",
    "\"a b\"",
    "!!binary aGk=",
    "&a [*a]",
    "\"\\u0000\"",
    "é",
    "https://",
    "https://*.x",
    "[1, 2",
];

fn mutations(text: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for i in 0..lines.len() {
        // drop the line
        let mut v = lines.clone();
        v.remove(i);
        out.push(v.join("\n"));
        // duplicate it (duplicate keys)
        let mut v = lines.clone();
        v.insert(i, lines[i]);
        out.push(v.join("\n"));
        // replace its value
        if let Some((key, _)) = lines[i].split_once(':') {
            for val in VALUES {
                let mut v = lines.clone();
                let replaced = format!("{key}: {val}");
                v[i] = &replaced;
                out.push(v.join("\n"));
            }
        }
        // break its indentation
        let mut v = lines.clone();
        let indented = format!("   {}", lines[i]);
        v[i] = &indented;
        out.push(v.join("\n"));
    }
    out
}

#[test]
fn mutated_examples_never_panic() {
    let mut rendered = 0;
    let mut rejected = 0;
    for spec in examples() {
        let text = std::fs::read_to_string(&spec).unwrap();
        for m in mutations(&text) {
            let result = std::panic::catch_unwind(|| coder_gen::render_str("spec.yaml", &m).map(|t| t.len()));
            match result {
                Ok(Ok(_)) => rendered += 1,
                Ok(Err(e)) => {
                    rejected += 1;
                    // Every rejection is located in the file or names the whole file.
                    assert!(!e.errors().is_empty());
                    assert!(!e.render(&m).is_empty());
                }
                Err(_) => panic!("panicked on input:\n{m}"),
            }
        }
    }
    // Both paths are exercised: some mutations are harmless, most are not.
    assert!(rendered > 10 && rejected > 100, "rendered {rendered}, rejected {rejected}");
}
