//! In-process benchmarks (divan): parse -> plan -> render of every example,
//! and `check` (compare a rendered tree with a directory on disk).
//! Run: `cargo bench --bench pipeline`. Whole-process timings: scripts/bench.sh.

use std::path::PathBuf;

use coder_gen::output::{OutputMeta, WriteOptions, compare, write_tree};

fn main() {
    divan::main();
}

/// Every example, by name (`examples/<name>.yaml`), read from the directory
/// so that no example is left out. Leaked: divan wants `'static` arguments.
fn examples() -> Vec<&'static str> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.unwrap().file_name().to_str()?.strip_suffix(".yaml").map(str::to_string))
        .collect();
    names.sort();
    names.into_iter().map(|n| &*Box::leak(n.into_boxed_str())).collect()
}

fn spec(name: &str) -> (String, String) {
    let file = format!("{name}.yaml");
    let text = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples").join(&file)).unwrap();
    (file, text)
}

/// Spec text -> Plan (parse, validate, size).
#[divan::bench(args = examples())]
fn plan(bencher: divan::Bencher, name: &str) {
    let (file, text) = spec(name);
    bencher.bench(|| coder_gen::plan_from_str(divan::black_box(&file), divan::black_box(&text)).unwrap());
}

/// Spec text -> Tree: the whole pipeline short of the disk.
#[divan::bench(args = examples())]
fn render(bencher: divan::Bencher, name: &str) {
    let (file, text) = spec(name);
    bencher.bench(|| coder_gen::render_str(divan::black_box(&file), divan::black_box(&text)).unwrap());
}

/// `check` on an up-to-date directory: render in memory, then compare every
/// file and the manifest with the disk.
#[divan::bench(args = examples(), sample_count = 30)]
fn check(bencher: divan::Bencher, name: &str) {
    let (file, text) = spec(name);
    let meta =
        OutputMeta { generator_version: "bench".into(), spec_file: file.clone(), spec_digest: "0".repeat(64), records: Default::default() };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    write_tree(&coder_gen::render_str(&file, &text).unwrap(), &out, &meta, &WriteOptions::default()).unwrap();
    bencher.bench(|| {
        let tree = coder_gen::render_str(&file, &text).unwrap();
        let changes = compare(&tree, &out, &meta).unwrap();
        assert!(changes.is_empty());
    });
}

/// A spec with `n` sites (every cloud and on-prem in turn), so the time per
/// site shows: render and check should grow linearly in `n` and stay in
/// milliseconds.
fn sites_spec(n: usize) -> String {
    let mut s = String::from(
        "name: acme\nusers: 3000\ncloud: gcp\nregion: us-central1\naccess_url: https://coder.acme.com\nwildcard_access_url: https://*.apps.acme.com\nsites:\n",
    );
    let places = [("gcp", Some("europe-west1")), ("aws", Some("eu-central-1")), ("azure", Some("japaneast")), ("onprem", None)];
    for i in 0..n {
        let (cloud, region) = places[i % places.len()];
        s.push_str(&format!("  - name: site{i}\n    cloud: {cloud}\n    users: 200\n"));
        if let Some(r) = region {
            s.push_str(&format!("    region: {r}\n"));
        }
    }
    s
}

/// Spec text -> Tree with 0, 1, 2, 4 and 8 sites.
#[divan::bench(args = [0, 1, 2, 4, 8])]
fn render_sites(bencher: divan::Bencher, n: usize) {
    let text = sites_spec(n);
    bencher.bench(|| coder_gen::render_str(divan::black_box("sites.yaml"), divan::black_box(&text)).unwrap());
}

/// `check` of an up-to-date tree with 0, 1, 2, 4 and 8 sites.
#[divan::bench(args = [0, 1, 2, 4, 8], sample_count = 30)]
fn check_sites(bencher: divan::Bencher, n: usize) {
    let text = sites_spec(n);
    let meta = OutputMeta {
        generator_version: "bench".into(),
        spec_file: "sites.yaml".into(),
        spec_digest: "0".repeat(64),
        records: Default::default(),
    };
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    write_tree(&coder_gen::render_str("sites.yaml", &text).unwrap(), &out, &meta, &WriteOptions::default()).unwrap();
    bencher.bench(|| {
        let tree = coder_gen::render_str("sites.yaml", &text).unwrap();
        assert!(compare(&tree, &out, &meta).unwrap().is_empty());
    });
}
