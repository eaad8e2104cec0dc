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
