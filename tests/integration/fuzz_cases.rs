//! The fuzz targets' checks (`fuzz/src/lib.rs`, compiled here too so they
//! cannot rot) over the committed seed corpus and every input a fuzz run ever
//! found (`fuzz/regressions/pipeline_bytes/`), in `cargo test`.

#[path = "../../fuzz/src/lib.rs"]
#[allow(dead_code)]
mod checks;

use crate::util::repo_root;

#[test]
fn seeds_and_fuzz_findings_pass_the_fuzz_checks() {
    let mut inputs = Vec::new();
    for dir in ["fuzz/corpus/pipeline_bytes", "fuzz/regressions/pipeline_bytes"] {
        for e in std::fs::read_dir(repo_root().join(dir)).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.starts_with("seed-") || (dir.contains("regressions") && !name.starts_with('.')) {
                inputs.push(p);
            }
        }
    }
    inputs.sort();
    assert!(inputs.len() >= 70, "only {} inputs", inputs.len());
    let mut valid = 0;
    for p in &inputs {
        let bytes = std::fs::read(p).unwrap();
        let Ok(text) = std::str::from_utf8(&bytes) else { continue };
        let outcome = std::panic::catch_unwind(|| checks::check_pipeline("spec.yaml", text).is_some());
        match outcome {
            Ok(ok) => valid += usize::from(ok),
            Err(_) => panic!("{}: the fuzz checks fail", p.display()),
        }
    }
    assert!(valid >= 10, "only {valid} valid specs among the seeds");
}

/// Finding (file_name_and_output): a spec file name with a line break put
/// the rest of the name into every generated file, e.g. `x\nreplicaCount: 99`
/// as a Helm value. The name may change only comment lines (and the
/// README's prose), and the header stays one line.
#[test]
fn a_file_name_cannot_inject_content() {
    let spec = crate::util::MINIMAL;
    let plain = coder_gen::render_str("spec.yaml", spec).unwrap();
    for name in ["x\nreplicaCount: 99\n#.yaml", "a\r\nb.yaml", "x -->\n# evil\n<!-- .yaml", "tab\there.yaml", "\u{85}next-line.yaml"] {
        let tree = coder_gen::render_str(name, spec).unwrap();
        checks::check_tree(&tree);
        for (path, bytes) in tree.iter() {
            let text = std::str::from_utf8(bytes).unwrap();
            let header = text.lines().next().unwrap();
            assert!(header.contains("DO NOT EDIT") && header.contains("Change the spec"), "{name:?} {path}: {header}");
            if path.ends_with(".md") {
                assert_eq!(header.matches("-->").count(), 1, "{name:?} {path}: {header}");
                continue;
            }
            let content = |t: &str| t.lines().filter(|l| !l.starts_with('#')).map(str::to_string).collect::<Vec<_>>();
            assert_eq!(content(text), content(plain.get_str(path).unwrap()), "{name:?} changed {path}");
        }
    }
}
