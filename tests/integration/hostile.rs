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

/// The mutations of one example. A key already mutated at the same
/// indentation in an earlier line or example (`seen`: `cloud:`, `users:`,
/// `  - name:` recur in most of them) is skipped: the same edits of the same
/// key reach the same parser and check paths whatever its old value, and the
/// fuzz targets cover the rest.
fn mutations<'a>(text: &'a str, seen: &mut std::collections::HashSet<&'a str>) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut out = Vec::new();
    for i in 0..lines.len() {
        // Comments and blank lines mean nothing to the parser; mutating them
        // only costs time (the fuzz targets cover arbitrary bytes).
        let t = lines[i].trim_start();
        let key = lines[i].split_once(':').map_or(lines[i], |(k, _)| k);
        if t.is_empty() || t.starts_with('#') || !seen.insert(key) {
            continue;
        }
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
    let texts: Vec<String> = examples().iter().map(|spec| std::fs::read_to_string(spec).unwrap()).collect();
    let mut seen = std::collections::HashSet::new();
    let all: Vec<String> = texts.iter().flat_map(|text| mutations(text, &mut seen)).collect();
    // On every core: this is the suite's longest test.
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
    let (rendered, rejected) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|k| {
                let all = &all;
                scope.spawn(move || {
                    let (mut rendered, mut rejected) = (0, 0);
                    for m in all.iter().skip(k).step_by(threads) {
                        let result = std::panic::catch_unwind(|| coder_gen::render_str("spec.yaml", m).map(|t| t.len()));
                        match result {
                            Ok(Ok(_)) => rendered += 1,
                            Ok(Err(e)) => {
                                rejected += 1;
                                // Every rejection is located in the file or names the whole file.
                                assert!(!e.errors().is_empty());
                                assert!(!e.render(m).is_empty());
                            }
                            Err(_) => panic!("panicked on input:\n{m}"),
                        }
                    }
                    (rendered, rejected)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
    });
    // Both paths are exercised: some mutations are harmless, most are not.
    assert!(rendered > 10 && rejected > 100, "rendered {rendered}, rejected {rejected}");
}

// ------------------------------------------------ the filesystem and the terminal are hostile too (issue #15)

use std::ffi::{OsStr, OsString};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Deployment, MINIMAL, Run, read_tree, spec_in};

/// Peak memory any run may reach, whatever the input.
const MAX_RSS_KIB: u64 = 100 * 1024;
/// "At once": generous for a loaded CI machine, far below what reading a
/// GiB takes.
const AT_ONCE: Duration = Duration::from_secs(3);

/// A run watched by [`run_measured`] (the one harness for CLI runs is
/// `util::Run`; this one adds the peak memory and the time taken).
struct Measured {
    code: i32,
    stdout: Vec<u8>,
    stderr: Vec<u8>,
    /// The largest VmHWM (peak resident set) seen while it ran, in KiB.
    peak_kib: u64,
    elapsed: Duration,
}

impl Measured {
    fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }

    fn assert_bounded(&self, what: &str) {
        assert!(self.peak_kib < MAX_RSS_KIB, "{what}: peak RSS {} KiB\n{}", self.peak_kib, self.stderr());
        assert!(self.elapsed < AT_ONCE, "{what}: took {:?}", self.elapsed);
    }
}

/// Run coder-gen, watching its peak memory: /proc/<pid>/status's VmHWM is
/// the high-water mark of its resident set, polled every millisecond until
/// it exits. An unbounded read of a GiB grows for seconds, so it cannot slip
/// between two polls; a run too short to be seen at all cannot have read
/// much either (and `elapsed` is checked as well).
fn run_measured<S: AsRef<OsStr>>(args: &[S], cwd: &Path) -> Measured {
    run_program(OsStr::new(env!("CARGO_BIN_EXE_coder-gen")), args, cwd)
}

fn run_program<S: AsRef<OsStr>>(program: &OsStr, args: &[S], cwd: &Path) -> Measured {
    let start = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status_file = PathBuf::from(format!("/proc/{}/status", child.id()));
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        out.read_to_end(&mut v).unwrap();
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        err.read_to_end(&mut v).unwrap();
        v
    });
    let mut peak_kib = 0;
    let status = loop {
        if let Ok(s) = std::fs::read_to_string(&status_file)
            && let Some(kib) =
                s.lines().find_map(|l| l.strip_prefix("VmHWM:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        {
            peak_kib = std::cmp::max(peak_kib, kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            panic!("coder-gen {:?} did not finish", args.iter().map(AsRef::as_ref).collect::<Vec<_>>());
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let elapsed = start.elapsed();
    Measured { code: status.code().unwrap_or(-1), stdout: t_out.join().unwrap(), stderr: t_err.join().unwrap(), peak_kib, elapsed }
}

/// Bytes that could drive a terminal: C0 controls but newline, DEL, C1
/// (as UTF-8), and the bidi overrides.
fn raw_controls(bytes: &[u8]) -> Vec<String> {
    let text = String::from_utf8_lossy(bytes);
    text.char_indices()
        .filter(|(_, c)| (c.is_control() && *c != '\n') || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}'))
        .map(|(i, c)| format!("{c:?} at {i}"))
        .collect()
}

/// The probe can fail: a process that fills a 150 MB buffer is seen doing
/// so (dd reads /dev/zero into it twice, so the buffer is resident for
/// tens of milliseconds, many polls).
#[test]
fn the_memory_probe_sees_a_process_that_grows() {
    let tmp = crate::util::tempdir();
    let run = run_program(OsStr::new("dd"), &["if=/dev/zero", "of=/dev/null", "bs=150M", "count=2"], tmp.path());
    assert_eq!(run.code, 0, "{}", run.stderr());
    assert!(run.peak_kib > MAX_RSS_KIB, "peak {} KiB", run.peak_kib);
}

fn sparse(path: &Path, len: u64) {
    let f = std::fs::OpenOptions::new().create(true).append(true).open(path).unwrap();
    f.set_len(len).unwrap();
}

/// The minimal spec, rendered into its `out/`.
fn render_minimal() -> Deployment {
    let d = Deployment::minimal();
    d.render();
    d
}

#[test]
fn spec_reads_are_bounded_and_special_files_refused_at_once() {
    let tmp = crate::util::tempdir();
    let fifo = tmp.path().join("fifo.yaml");
    assert!(Command::new("mkfifo").arg(&fifo).status().unwrap().success(), "mkfifo");
    let huge = tmp.path().join("huge.yaml");
    sparse(&huge, 2 << 30);
    let over = tmp.path().join("over.yaml");
    std::fs::write(&over, format!("{MINIMAL}#{}\n", "x".repeat(coder_gen::spec::MAX_SPEC_BYTES))).unwrap();
    let cases: [(&Path, &str); 5] = [
        (Path::new("/dev/zero"), "it is a device, not a regular file"),
        (&fifo, "it is a named pipe (FIFO), not a regular file"),
        (tmp.path(), "it is a directory, not a regular file"),
        (&huge, "larger than 262144 bytes (256 KiB)"),
        (&over, "larger than 262144 bytes (256 KiB)"),
    ];
    for (path, needle) in cases {
        let run = run_measured(&[OsStr::new("plan"), path.as_os_str()], tmp.path());
        assert_eq!(run.code, 2, "{path:?}: {}", run.stderr());
        assert!(run.stderr().contains(needle) && run.stderr().contains("help:"), "{path:?}: {}", run.stderr());
        assert!(run.stdout.is_empty());
        run.assert_bounded(&format!("plan {path:?}"));
    }
    // The limit itself is allowed: exactly MAX_SPEC_BYTES is read and parsed.
    let at = tmp.path().join("at.yaml");
    std::fs::write(&at, format!("{MINIMAL}#{}\n", "x".repeat(coder_gen::spec::MAX_SPEC_BYTES - MINIMAL.len() - 2))).unwrap();
    assert_eq!(std::fs::metadata(&at).unwrap().len(), coder_gen::spec::MAX_SPEC_BYTES as u64);
    Run::new(["plan"]).arg(&at).assert().success().stdout_has("Warnings\n");
    // A link to a spec is followed; a link to a FIFO is refused like the FIFO.
    let link = tmp.path().join("link.yaml");
    std::os::unix::fs::symlink(&fifo, &link).unwrap();
    let run = run_measured(&[OsStr::new("plan"), link.as_os_str()], tmp.path());
    assert!(run.code == 2 && run.stderr().contains("named pipe"), "{}", run.stderr());
}

/// Names that would end a comment or a line, open a string, template or code
/// span, or drive a terminal, if written as they are.
fn hostile_names() -> Vec<OsString> {
    use std::os::unix::ffi::OsStringExt;
    let mut v: Vec<OsString> = [
        "spec\nkey: injected.yaml",
        "spec\r\nresource \"x\" \"y\" {}.yaml",
        // A file name cannot hold `/`: `*/` can only be in a directory's name,
        // which generated files never show.
        "a */ b\n #c/spec.yaml",
        "a *",
        "#x.yaml",
        "q'\"`.yaml",
        "${x}.yaml",
        "%{ if true }x.yaml",
        "{{x}}.yaml",
        "x --> <b>y</b>.yaml",
        "e\u{1b}]0;title\u{7}\u{1b}[31m.yaml",
        "\u{202e}lmay.yaml",
        "line\u{2028}sep\u{85}.yaml",
        "[link](x) *b* _i_.yaml",
    ]
    .iter()
    .map(OsString::from)
    .collect();
    v.push(OsString::from_vec(b"bad\xff\xfe.yaml".to_vec()));
    v
}

#[test]
fn hostile_spec_file_names_never_change_a_generated_file() {
    let tmp = crate::util::tempdir();
    let plain = read_tree(&render_minimal().out);
    // What each file of the plain tree parses to, computed once for all names.
    let plain_docs: std::collections::BTreeMap<&String, serde_json::Value> = plain
        .iter()
        .filter(|(path, _)| path.ends_with(".yaml"))
        .map(|(path, bytes)| (path, serde_saphyr::from_str(std::str::from_utf8(bytes).unwrap()).unwrap()))
        .collect();
    for (i, name) in hostile_names().into_iter().enumerate() {
        let dir = tmp.path().join(format!("case{i}"));
        std::fs::create_dir(&dir).unwrap();
        let spec = dir.join(&name);
        std::fs::create_dir_all(spec.parent().unwrap()).unwrap();
        std::fs::write(&spec, MINIMAL).unwrap();
        let out = dir.join("out");
        let run = run_measured(&[OsStr::new("render"), spec.as_os_str(), OsStr::new("-o"), out.as_os_str()], &dir);
        assert_eq!(run.code, 0, "{name:?}: {}", run.stderr());
        assert!(raw_controls(&run.stderr).is_empty(), "{name:?}: {:?}", raw_controls(&run.stderr));
        let shown = coder_gen::tree::display_name(&spec.file_name().unwrap().to_string_lossy());
        assert!(!shown.contains(['\n', '\r', '\u{85}', '\u{2028}', '#', '*', '<', '>', '`', '"', '\'', '$', '%', '[']), "{shown}");
        let tree = read_tree(&out);
        assert_eq!(tree.keys().collect::<Vec<_>>(), plain.keys().collect::<Vec<_>>(), "{name:?}");
        for (path, bytes) in &tree {
            let text = std::str::from_utf8(bytes).unwrap();
            let expected = std::str::from_utf8(&plain[path]).unwrap();
            if path.ends_with("manifest.json") {
                let m: serde_json::Value = serde_json::from_str(text).unwrap();
                assert_eq!(m["spec_file"], shown.as_str());
                continue;
            }
            if path == ".coder-gen/plan.json" {
                // JSON escapes the shown name's backslashes: compare the documents.
                fn renamed(v: &serde_json::Value, shown: &str) -> serde_json::Value {
                    match v {
                        serde_json::Value::String(s) => s.replace("spec.yaml", shown).into(),
                        serde_json::Value::Array(a) => a.iter().map(|v| renamed(v, shown)).collect(),
                        serde_json::Value::Object(m) => m.iter().map(|(k, v)| (k.clone(), renamed(v, shown))).collect(),
                        other => other.clone(),
                    }
                }
                let a: serde_json::Value = serde_json::from_str(text).unwrap();
                let b: serde_json::Value = serde_json::from_str(expected).unwrap();
                assert_eq!(a, renamed(&b, &shown), "{name:?}: {path}");
                continue;
            }
            // The name stands exactly where `spec.yaml` stood, and nothing else moved.
            assert_eq!(text, expected.replace("spec.yaml", &shown), "{name:?}: {path}");
            // Every file still parses, to the same document.
            if path.ends_with(".yaml") {
                let a: serde_json::Value = serde_saphyr::from_str(text).unwrap_or_else(|e| panic!("{name:?}: {path}: {e}"));
                assert_eq!(a, plain_docs[path], "{name:?}: {path}");
            } else if path.ends_with(".tf") {
                let a = hcl_edit::parser::parse_body(text).unwrap_or_else(|e| panic!("{name:?}: {path}: {e}"));
                let b = hcl_edit::parser::parse_body(expected).unwrap();
                let idents = |body: &hcl_edit::structure::Body| {
                    body.iter().map(|s| format!("{:?}", s.as_block().map(|b| b.ident.to_string()))).collect::<Vec<_>>()
                };
                assert_eq!(idents(&a), idents(&b), "{name:?}: {path}");
            } else if path.ends_with(".md") {
                let first = text.lines().next().unwrap();
                assert!(first.starts_with("<!-- ") && first.ends_with(" -->") && first.matches("-->").count() == 1, "{first}");
            }
        }
    }
}

#[test]
fn alias_amplified_errors_print_less_than_a_megabyte() {
    let tmp = crate::util::tempdir();
    // One bad 258 KB namespace, reused 99 times through an alias.
    let mut text = format!("{MINIMAL}workspaces:\n  - namespace: &a {}\n", "A".repeat(258_000));
    for _ in 0..98 {
        text.push_str("  - namespace: *a\n");
    }
    assert!(text.len() < coder_gen::spec::MAX_SPEC_BYTES);
    let spec = spec_in(tmp.path(), "spec.yaml", &text);
    let run = run_measured(&[OsStr::new("plan"), spec.as_os_str()], tmp.path());
    assert_eq!(run.code, 2);
    let err = run.stderr();
    assert!(err.len() < 64 * 1024, "{} bytes of errors", err.len());
    assert!(err.contains("(258000 characters)") && err.contains("more error(s) repeat a message shown above"), "{err}");
    run.assert_bounded("alias-amplified spec");
}

/// Specs whose values carry escape sequences, through every kind of message.
fn control_specs() -> Vec<(&'static str, String)> {
    let osc = r#""\e]0;pwned\a\e[31mred\x9b2J\u202e""#;
    vec![
        ("machine type", format!("{MINIMAL}machine_types:\n  coderd: {osc}\n")),
        ("name length", MINIMAL.replace("name: acme", &format!("name: {osc}"))),
        ("duplicate namespace", format!("{MINIMAL}workspaces:\n  - namespace: {osc}\n  - namespace: {osc}\n")),
        ("region", MINIMAL.replace("region: us-east-1", &format!("region: {osc}"))),
        ("url", MINIMAL.replace("access_url: https://coder.acme.com", &format!("access_url: {osc}"))),
        ("tag", format!("{MINIMAL}provisioners:\n  - namespace: p\n    tags:\n      {osc}: {osc}\n")),
        ("unknown key", format!("{MINIMAL}{osc}: 1\n")),
        ("users", MINIMAL.replace("users: 1800", &format!("users: {osc}"))),
        ("raw bytes in the file", format!("{MINIMAL}name2: a\u{1b}]0;x\u{7}\n")),
    ]
}

#[test]
fn no_raw_control_character_from_the_input_reaches_the_terminal() {
    let tmp = crate::util::tempdir();
    for (what, text) in control_specs() {
        let spec = spec_in(tmp.path(), "spec.yaml", &text);
        for args in [vec!["plan"], vec!["plan", "--format", "json"]] {
            let out = Run::new(&args).arg(&spec).assert().code(2).output;
            for stream in [&out.stdout, &out.stderr] {
                assert!(raw_controls(stream).is_empty(), "{what}: {:?}\n{}", raw_controls(stream), String::from_utf8_lossy(stream));
            }
        }
    }
    // A hand-edited generated file's escape sequences, in `diff` with colour
    // forced: coder-gen's own colours stay, the file's are shown escaped.
    let d = render_minimal();
    let values = d.out.join("helm/coder/values.yaml");
    let mut text = std::fs::read_to_string(&values).unwrap();
    text.push_str("# \u{1b}]0;pwned\u{7}\u{1b}[2J\u{9b}31m\n");
    std::fs::write(&values, text).unwrap();
    // The file no longer parses as YAML: the review cannot classify it, and says so.
    let status = diff_of_a_hand_edit("helm/coder/values.yaml");
    let status = status.split_once('\n').unwrap().1;
    let diff = d.run("diff").color_forced().assert().stderr_has(status).stderr_has("    unknown: release coder").success();
    assert!(raw_controls(&diff.output.stderr).is_empty());
    let stdout = diff.stdout();
    assert!(stdout.contains("\u{1b}[") && stdout.contains("\\u{1b}]0;pwned\\u{7}\\u{1b}[2J\\u{9b}31m"), "{stdout}");
    assert!(!stdout.contains("\u{1b}]") && !stdout.contains('\u{7}') && !stdout.contains("\u{1b}[2J") && !stdout.contains('\u{9b}'));
}

#[test]
fn a_huge_manifest_is_refused_in_bounded_memory() {
    let d = render_minimal();
    sparse(&d.out.join(".coder-gen/manifest.json"), 1 << 30);
    for cmd in ["check", "diff", "render"] {
        let run = run_measured(&[OsStr::new(cmd), d.spec.as_os_str(), OsStr::new("-o"), d.out.as_os_str()], d.dir());
        run.assert_bounded(cmd);
        assert_eq!(run.code, 2, "{cmd}: {}", run.stderr());
        assert!(run.stderr().contains("it is 1073741824 bytes; a manifest is at most 1048576 bytes"), "{cmd}: {}", run.stderr());
    }
}

#[test]
fn a_huge_owned_file_is_compared_in_bounded_memory_and_named_as_hand_edited() {
    let d = render_minimal();
    let values = d.out.join("helm/coder/values.yaml");
    sparse(&values, 1 << 30);
    let args = |cmd: &str| vec![OsString::from(cmd), d.spec.clone().into(), "-o".into(), d.out.clone().into()];
    let check = run_measured(&args("check"), d.dir());
    assert_eq!(check.code, 1, "{}", check.stderr());
    let stdout = String::from_utf8_lossy(&check.stdout);
    assert!(
        stdout.contains("--- a/helm/coder/values.yaml") && stdout.contains("1073741824 bytes, above the 1048576-byte compare limit"),
        "{stdout}"
    );
    assert!(check.stderr().contains(coder_gen::output::EDITED_BY_HAND) && check.stderr().contains("    helm/coder/values.yaml\n"));
    check.assert_bounded("check");
    let diff = run_measured(&args("diff"), d.dir());
    assert_eq!(diff.code, 0, "{}", diff.stderr());
    assert!(diff.stderr().contains(coder_gen::output::EDITED_BY_HAND));
    diff.assert_bounded("diff");
    let render = run_measured(&args("render"), d.dir());
    assert_eq!(render.code, 2);
    assert!(render.stderr().contains(coder_gen::output::EDITED_BY_HAND) && render.stderr().contains("    helm/coder/values.yaml\n"));
    render.assert_bounded("render");
    let mut forced = args("render");
    forced.push("--force".into());
    let run = run_measured(&forced, d.dir());
    assert_eq!(run.code, 0, "{}", run.stderr());
    let overwrote = "warning: --force: overwrote or deleted helm/coder/values.yaml, which coder-gen did not write as it was\n";
    assert!(run.stderr().starts_with(&format!("{overwrote}{}wrote ", d.warnings())), "{}", run.stderr());
    run.assert_bounded("render --force");
    assert!(std::fs::metadata(&values).unwrap().len() < 1 << 20);
    d.check_ok();
}

/// What `diff` says on stderr about one generated file edited by hand.
fn diff_of_a_hand_edit(path: &str) -> String {
    format!(
        "review: no planned value changes; nothing in the cluster changes (only comments and documentation differ)\n1 file(s) would change, but `coder-gen render` refuses to without --force:\n  {}\n    {path}\n",
        coder_gen::output::EDITED_BY_HAND
    )
}

#[test]
fn check_diff_and_render_name_a_hand_edited_file_in_the_same_words() {
    let d = render_minimal();
    let values = d.out.join("helm/coder/values.yaml");
    let mut text = std::fs::read_to_string(&values).unwrap();
    text.push_str("# my edit\n");
    std::fs::write(&values, text).unwrap();
    let words = format!("{}\n    helm/coder/values.yaml\n", coder_gen::output::EDITED_BY_HAND);
    d.run("check")
        .assert()
        .code(1)
        .stderr_has(&words)
        .stderr_has("refuses to overwrite them")
        .stderr_lacks("= help: run `coder-gen render");
    d.run("diff").assert().stderr_is(&diff_of_a_hand_edit("helm/coder/values.yaml")).stderr_has(&words).success();
    d.run("render").assert().code(2).stderr_has(&words);
    // Ordinary drift (the spec changed) still says to render.
    let spec2 = spec_in(d.dir(), "spec2.yaml", &MINIMAL.replace("1800", "1700"));
    let check2 = || Run::new(["check"]).arg(&spec2).arg("-o").arg(&d.out).assert().code(1);
    check2().stderr_has(&words);
    std::fs::remove_file(&values).unwrap();
    check2().stderr_lacks("edited by hand").stderr_has("= help: run `coder-gen render");
}

#[test]
fn comments_and_formatting_of_the_spec_do_not_drift_check() {
    let d = render_minimal();
    let reformatted = "# Acme's Coder\naccess_url: \"https://coder.acme.com\"   # public URL\n\ncloud: aws\nname: 'acme'\nregion: us-east-1\nusers: 1800\ntier: auto\n";
    d.edit(reformatted);
    d.check_ok();
    // A changed value is drift, even where no file but the manifest changes.
    d.edit(&reformatted.replace("1800", "1700"));
    d.run("check").assert().code(1).stderr_has("drift: ");
}

#[test]
fn stdout_write_errors_fail_and_a_closed_pipe_exits_quietly() {
    let tmp = crate::util::tempdir();
    let spec = spec_in(tmp.path(), "spec.yaml", MINIMAL);
    if Path::new("/dev/full").exists() {
        let full = || std::fs::OpenOptions::new().write(true).open("/dev/full").unwrap();
        Run::new(["plan"]).arg(&spec).stdout_to(full()).assert().code(2).stderr_has("error: cannot write to stdout");
        // `--help > /dev/full`
        Run::new(["--help"]).stdout_to(full()).assert().code(2);
    }
    for args in [vec!["plan"], vec!["plan", "--format", "json"]] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        // Quietly: exit 0 and nothing on stderr.
        Run::new(&args).arg(&spec).stdout_to(writer).assert().success();
    }
}

#[test]
fn smaller_holes_cr_only_snippets_users_forms_tag_cap_parser_advice() {
    let first_error = |text: &str| coder_gen::render_str("spec.yaml", text).unwrap_err().render(text);
    // CR-only line endings still get a snippet with a caret.
    let cr = MINIMAL.replace("users: 1800", "users: 0").replace('\n', "\r");
    let e = first_error(&cr);
    assert!(e.contains("spec.yaml:2:8:") && e.contains("2 | users: 0\n") && e.contains("|        ^"), "{e}");
    // users is decimal digits; YAML's other integer forms are refused.
    for form in ["0x1F4", "1_000", "+500", "0o764", "0b111"] {
        let e = first_error(&MINIMAL.replace("1800", form));
        assert!(e.contains(&format!("users is `{form}`: write the number of users in decimal digits")), "{e}");
    }
    // A float is a wrong type, found by the shape pass: shown as written.
    let e = first_error(&MINIMAL.replace("1800", "500.0"));
    assert!(e.contains("`users` is `500.0`; expected a whole number from 1 to 3000"), "{e}");
    assert_eq!(coder_gen::spec_from_str("s", &MINIMAL.replace("1800", "\"500\"")).unwrap().users.value, 500);
    // At most MAX_TAGS tags per provisioner group.
    let tags: String = (0..=coder_gen::spec::MAX_TAGS).map(|i| format!("      t{i}: v\n")).collect();
    let e = first_error(&format!("{MINIMAL}provisioners:\n  - namespace: p\n    tags:\n{tags}"));
    // Pointed at the 33rd tag as written (t32), not in sorted order.
    assert!(e.contains("has 33 tags, more than 32") && e.contains("|       t32: v\n"), "{e}");
    // A second document: what to do, not which library function to call.
    let e = first_error(&format!("{MINIMAL}---\na: 1\n"));
    assert!(e.contains("more than one YAML document") && !e.contains("from_str"), "{e}");
    let e = first_error(&format!("{MINIMAL}name: b\n"));
    assert!(e.contains("the key `name` is written twice") && !e.contains("Options"), "{e}");
    let e = first_error(&MINIMAL.replace("name: acme", "name: ~"));
    assert!(e.contains("`name` is empty; expected a string") && !e.contains("Option<"), "{e}");
}

#[test]
fn every_error_kind_has_a_code_and_help() {
    use coder_gen::Error;
    let io = || std::io::Error::other("x");
    let errors = [
        Error::Read { path: "p".into(), source: io() },
        Error::NotAFile { path: "p".into(), what: "a device" },
        Error::Stdout(io()),
        Error::Usage("u".into()),
        Error::Output(coder_gen::output::OutputError::NotOwned { dir: "d".into() }),
    ];
    let codes: std::collections::BTreeSet<&str> = errors.iter().map(Error::code).collect();
    assert_eq!(codes.len(), errors.len());
    for e in &errors {
        let text = coder_gen::error::render(e, None);
        assert!(text.starts_with("error: ") && text.contains("\n  = help: "), "{text}");
    }
}

#[test]
fn generated_files_stay_below_the_compare_limit() {
    // An owned file above the limit is "edited" without being read: that
    // holds only if coder-gen never writes one that large.
    for spec in examples() {
        let text = std::fs::read_to_string(&spec).unwrap();
        let tree = coder_gen::render_str(&spec.to_string_lossy(), &text).unwrap();
        for (path, bytes) in tree.iter() {
            assert!((bytes.len() as u64) < coder_gen::output::MAX_COMPARE_BYTES / 8, "{path}: {} bytes", bytes.len());
        }
    }
}

/// The error-catalogue fixtures (`tests/inputs/invalid/`): each is refused
/// with a bounded, escaped message.
#[test]
fn invalid_fixtures_are_refused_with_bounded_escaped_errors() {
    let fixtures = crate::util::yaml_files(&crate::util::repo_root().join("tests/inputs/invalid"));
    assert!(fixtures.len() >= 13);
    for spec in fixtures {
        let out = Run::new(["plan"]).arg(&spec).assert().code(2).output;
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.stdout.is_empty() && err.starts_with("error: ") && err.contains("= help: "), "{spec:?}: {err}");
        assert!(err.len() < 16 * 1024 && raw_controls(&out.stderr).is_empty(), "{spec:?}: {err}");
        assert!(!err.contains("Option") && !err.contains("from_str"), "{spec:?}: {err}");
    }
}
