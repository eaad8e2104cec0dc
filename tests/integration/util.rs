//! Shared test helpers: a spec builder, a CLI-run builder and a deployment
//! fixture (a temp dir holding `spec.yaml` and `out/`).

#![allow(dead_code)] // each test module uses a different subset

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Output;

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shared reference material (`../shared` beside the repository, or
/// `$CODER_GEN_SHARED`).
pub fn shared_dir() -> PathBuf {
    match std::env::var_os("CODER_GEN_SHARED") {
        Some(dir) => PathBuf::from(dir),
        None => repo_root().join("../shared"),
    }
}

/// A fresh temporary directory, in RAM (`/dev/shm`) where the machine has
/// one. Every render fsyncs each file it writes; on a disk that waiting was
/// a third of the suite's wall time and shows nothing the assertions can
/// see (no test can observe durability). Elsewhere: the system temp dir.
pub fn tempdir() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    if shm.is_dir()
        && let Ok(dir) = tempfile::Builder::new().prefix("coder-gen-test").tempdir_in(shm)
    {
        return dir;
    }
    tempfile::tempdir().unwrap()
}

/// Tests that need something from outside the repository are
/// `#[ignore = "needs …"]`: plain `cargo test` lists them as ignored, never
/// "ok". `.ci/run` runs them with `--ignored`; there a missing prerequisite
/// fails the test, naming it.
#[track_caller]
pub fn require(available: bool, what: &str, how: &str) {
    assert!(available, "{what} is missing, so this test cannot run: {how}");
}

/// The smallest valid spec, as text: the one fixture every test that needs
/// "some valid spec" starts from (`SpecBuilder::new().build()` is the same
/// text, checked below; build variants with `SpecBuilder`).
pub const MINIMAL: &str = "name: acme\nusers: 1800\ncloud: aws\nregion: us-east-1\naccess_url: https://coder.acme.com\n";

#[test]
fn the_spec_builders_defaults_are_the_minimal_spec() {
    assert_eq!(SpecBuilder::new().build(), MINIMAL);
}

/// Every example spec: `examples/*.yaml`, then the specs with user
/// overrides, `overlays/*.yaml` (issues #14, #20), each sorted by name.
pub fn examples() -> Vec<PathBuf> {
    let mut v = files_with_extension(&repo_root().join("examples"), "yaml");
    v.extend(files_with_extension(&repo_root().join("overlays"), "yaml"));
    v
}

/// The golden directory's name of an example: `examples/<name>.yaml` ->
/// `<name>`; `overlays/overlays.yaml` -> `overlays`, every other
/// `overlays/<name>.yaml` -> `overlays-<name>` (so the overlay examples sort
/// together in `golden/` and never take an `examples/` name).
pub fn golden_name(spec: &Path) -> String {
    let stem = spec.file_stem().unwrap().to_string_lossy().into_owned();
    let in_overlays = spec.parent().and_then(Path::file_name).is_some_and(|d| d == "overlays");
    if in_overlays && stem != "overlays" { format!("overlays-{stem}") } else { stem }
}

/// The `*.yaml` files directly in `dir`, sorted by name.
pub fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    files_with_extension(dir, "yaml")
}

/// The files directly in `dir` whose name ends in `.<ext>`, sorted by name.
pub fn files_with_extension(dir: &Path, ext: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == ext)).collect();
    v.sort();
    v
}

/// All files under `dir`, as relative path -> bytes (sorted).
pub fn read_tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    if !dir.exists() {
        return out;
    }
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.file_type().is_file() {
            let rel = entry.path().strip_prefix(dir).unwrap().to_string_lossy().replace('\\', "/");
            out.insert(rel, std::fs::read(entry.path()).unwrap());
        }
    }
    out
}

/// Write `text` to `dir/name` and return the path.
pub fn spec_in(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// The plan's warnings (`plan --format json`'s `warnings`) as `render`
/// prints them on stderr, one `warning: <code>: <message>` line each.
pub fn warnings_of(spec: &Path) -> String {
    let text = std::fs::read_to_string(spec).unwrap();
    // The whole path: override files are read beside the spec.
    let plan = coder_gen::plan_from_str(&spec.display().to_string(), &text).unwrap_or_else(|e| panic!("{}: {e}", spec.display()));
    let plan = serde_json::to_value(plan).unwrap();
    plan["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| format!("warning: {}: {}\n", w["code"].as_str().unwrap(), w["message"].as_str().unwrap()))
        .collect()
}

// ---------------------------------------------------------------- spec builder

/// A valid spec, field by field; `build()` gives its YAML text. The defaults
/// are the smallest valid spec (acme, 1,800 users on AWS).
#[must_use = "a SpecBuilder does nothing until `.build()`"]
#[derive(Clone, Debug)]
pub struct SpecBuilder {
    name: String,
    users: String,
    cloud: String,
    region: Option<String>,
    access_url: String,
    provisioners: Vec<String>,
    workspaces: Vec<String>,
    extra: String,
}

impl Default for SpecBuilder {
    fn default() -> Self {
        SpecBuilder {
            name: "acme".into(),
            users: "1800".into(),
            cloud: "aws".into(),
            region: None,
            access_url: "https://coder.acme.com".into(),
            provisioners: Vec::new(),
            workspaces: Vec::new(),
            extra: String::new(),
        }
    }
}

impl SpecBuilder {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.into();
        self
    }
    pub fn users(mut self, users: u32) -> Self {
        self.users = users.to_string();
        self
    }
    /// `users:` as raw YAML (a word, a float, a huge number).
    pub fn users_raw(mut self, raw: &str) -> Self {
        self.users = raw.into();
        self
    }
    /// The cloud, with a region of that cloud unless `region` says otherwise.
    pub fn cloud(mut self, cloud: &str) -> Self {
        self.cloud = cloud.into();
        self
    }
    pub fn region(mut self, region: &str) -> Self {
        self.region = Some(region.into());
        self
    }
    pub fn access_url(mut self, url: &str) -> Self {
        self.access_url = url.into();
        self
    }
    /// One provisioner group per namespace.
    pub fn provisioners(mut self, namespaces: &[&str]) -> Self {
        self.provisioners = namespaces.iter().map(|s| s.to_string()).collect();
        self
    }
    pub fn workspaces(mut self, namespaces: &[&str]) -> Self {
        self.workspaces = namespaces.iter().map(|s| s.to_string()).collect();
        self
    }
    /// Raw YAML appended as is (top-level keys, each line ending in `\n`).
    pub fn extra(mut self, yaml: &str) -> Self {
        self.extra.push_str(yaml);
        self
    }
    pub fn build(&self) -> String {
        let region = self.region.clone().unwrap_or_else(|| {
            match self.cloud.as_str() {
                "gcp" => "us-central1",
                "azure" => "eastus",
                _ => "us-east-1",
            }
            .into()
        });
        let mut s = format!(
            "name: {}\nusers: {}\ncloud: {}\nregion: {region}\naccess_url: {}\n",
            self.name, self.users, self.cloud, self.access_url
        );
        for (key, list) in [("provisioners", &self.provisioners), ("workspaces", &self.workspaces)] {
            if !list.is_empty() {
                s.push_str(&format!("{key}:\n"));
                for ns in list {
                    s.push_str(&format!("  - namespace: {ns}\n"));
                }
            }
        }
        s.push_str(&self.extra);
        s
    }
}

// ---------------------------------------------------------------- CLI runs

/// One run of the built `coder-gen` binary, colour off so output is stable.
/// `Run::new(["plan", "spec.yaml"]).in_dir(dir).assert().code(2).stderr_has("…")`.
///
/// Like just's `tests/test.rs`: a `Run` that is never `.assert()`ed is a
/// warning, every check blames the test's line, and `success()` also
/// requires an empty stderr unless the test said what stderr holds first
/// (`stderr_has`, `stderr_is`) or allowed it (`allow_stderr`).
#[must_use = "a Run does nothing until `.assert()`"]
pub struct Run {
    cmd: std::process::Command,
}

impl Run {
    pub fn new<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_coder-gen"));
        cmd.args(args).env("NO_COLOR", "1").env_remove("CLICOLOR_FORCE").env_remove("CLICOLOR");
        Run { cmd }
    }
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.cmd.arg(arg);
        self
    }
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.cmd.args(args);
        self
    }
    /// `--format json`.
    pub fn args_json(self) -> Self {
        self.args(["--format", "json"])
    }
    pub fn in_dir(mut self, dir: &Path) -> Self {
        self.cmd.current_dir(dir);
        self
    }
    pub fn env(mut self, key: &str, value: impl AsRef<OsStr>) -> Self {
        self.cmd.env(key, value);
        self
    }
    pub fn env_remove(mut self, key: &str) -> Self {
        self.cmd.env_remove(key);
        self
    }
    /// Where stdout goes (a full disk, a closed pipe) instead of being
    /// captured.
    pub fn stdout_to(mut self, to: impl Into<std::process::Stdio>) -> Self {
        self.cmd.stdout(to);
        self
    }
    /// Colour forced on (`CLICOLOR_FORCE=1`, `NO_COLOR` unset), as a
    /// terminal user who asked for it would run it.
    pub fn color_forced(self) -> Self {
        self.env("CLICOLOR_FORCE", "1").env_remove("NO_COLOR")
    }
    /// Run it (stdin closed, as `Command::output` does). Check the result:
    /// `.success()`, `.code(n)`.
    #[must_use = "check the run: `.success()`, `.code(n)`"]
    #[track_caller]
    pub fn assert(mut self) -> Done {
        let what = format!("{:?}", self.cmd);
        let output = self.cmd.output().unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
        Done { what, output, stderr_checked: false }
    }
}

/// A finished run; each check panics at the test's line with the command,
/// exit code and both streams.
pub struct Done {
    what: String,
    pub output: Output,
    /// The test said what stderr holds (or that anything goes): `success()`
    /// does not require it empty.
    stderr_checked: bool,
}

impl Done {
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.output.stdout).into_owned()
    }
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.output.stderr).into_owned()
    }
    pub fn exit_code(&self) -> Option<i32> {
        self.output.status.code()
    }
    #[track_caller]
    fn fail(&self, why: &str) -> ! {
        panic!("{why}\ncommand: {}\nexit: {:?}\n--- stdout\n{}--- stderr\n{}", self.what, self.exit_code(), self.stdout(), self.stderr())
    }
    /// Exit code `code`; `code(0)` is `success()` (stderr empty unless
    /// checked or allowed first).
    #[track_caller]
    pub fn code(self, code: i32) -> Self {
        if self.exit_code() != Some(code) {
            self.fail(&format!("expected exit code {code}"));
        }
        if code == 0 && !self.stderr_checked && !self.output.stderr.is_empty() {
            self.fail("expected an empty stderr (say what it holds first: `.stderr_has(..)`, `.stderr_is(..)`, or `.allow_stderr()`)");
        }
        self
    }
    /// Exit code 0 and an empty stderr, unless a check of stderr came first.
    #[track_caller]
    pub fn success(self) -> Self {
        self.code(0)
    }
    /// Whatever stderr holds is fine for `success()` (a test that looks at
    /// other things, e.g. every example's render).
    pub fn allow_stderr(mut self) -> Self {
        self.stderr_checked = true;
        self
    }
    #[track_caller]
    pub fn stderr_has(mut self, needle: &str) -> Self {
        if !self.stderr().contains(needle) {
            self.fail(&format!("stderr lacks {needle:?}"));
        }
        self.stderr_checked = true;
        self
    }
    #[track_caller]
    pub fn stderr_lacks(self, needle: &str) -> Self {
        if self.stderr().contains(needle) {
            self.fail(&format!("stderr has {needle:?}"));
        }
        self
    }
    #[track_caller]
    pub fn stderr_is(mut self, expected: &str) -> Self {
        if self.stderr() != expected {
            self.fail(&format!("stderr is not {expected:?}"));
        }
        self.stderr_checked = true;
        self
    }
    /// `render` succeeded and said only what it should on stderr: `lines`
    /// (the plan's warnings as [`warnings_of`] prints them, after what
    /// `--force` overwrote), then one summary line for `out` as the command
    /// line gave it (`wrote <out>: …` or `<out> is up to date (N files)`).
    #[track_caller]
    pub fn rendered(mut self, lines: &str, out: &Path) -> Self {
        let out = out.display();
        let stderr = self.stderr();
        let Some(summary) = stderr.strip_prefix(lines) else { self.fail(&format!("stderr does not start with:\n{lines}")) };
        let one_line = summary.ends_with('\n') && summary.lines().count() == 1;
        if !one_line || !(summary.starts_with(&format!("wrote {out}: ")) || summary.starts_with(&format!("{out} is up to date ("))) {
            self.fail(&format!("after the warnings, stderr is not one summary line for {out}"));
        }
        self.stderr_checked = true;
        self.success()
    }
    /// `check` found `out` up to date with `spec` (both as the command line
    /// gave them): exit 0, nothing on stdout, one line on stderr.
    #[track_caller]
    pub fn up_to_date(self, out: &Path, spec: &Path) -> Self {
        self.stdout_is("").stderr_is(&format!("ok: {} is up to date with {}\n", out.display(), spec.display())).success()
    }
    /// `diff` showed changes: stderr is the review summary (`review:` and
    /// its lines, see [`review_of`]), then a line counting the files stdout's
    /// diff shows.
    #[track_caller]
    pub fn diff_shown(mut self) -> Self {
        let stdout = anstream::adapter::strip_str(&self.stdout()).to_string();
        let files = stdout.lines().filter(|l| l.starts_with("+++ ")).count();
        if files == 0 {
            self.fail("stdout shows no changed file");
        }
        let stderr = self.stderr();
        let status = format!("{files} file(s) would change; `coder-gen render` writes them\n");
        let Some(review) = stderr.strip_suffix(&status) else { self.fail(&format!("stderr does not end with {status:?}")) };
        if !(review.is_empty() || review.starts_with("review:\n")) {
            self.fail("before the count, stderr holds something other than the review summary");
        }
        self.stderr_checked = true;
        self.success()
    }
    /// The review summary on stderr (text format): the `review:` line and
    /// the indented lines after it.
    pub fn review_of(&self) -> String {
        let stderr = self.stderr();
        let mut lines = stderr.lines().skip_while(|l| !l.starts_with("review:"));
        let Some(first) = lines.next() else { return String::new() };
        std::iter::once(first).chain(lines.take_while(|l| l.starts_with("  "))).map(|l| format!("{l}\n")).collect()
    }
    #[track_caller]
    pub fn stdout_has(self, needle: &str) -> Self {
        if !self.stdout().contains(needle) {
            self.fail(&format!("stdout lacks {needle:?}"));
        }
        self
    }
    #[track_caller]
    pub fn stdout_is(self, expected: &str) -> Self {
        if self.stdout() != expected {
            self.fail(&format!("stdout is not {expected:?}"));
        }
        self
    }
}

// ---------------------------------------------------------------- fixture

/// A temp dir with a spec file and an output directory path (`out/`, not
/// created): the setup nearly every CLI test starts from.
pub struct Deployment {
    pub tmp: tempfile::TempDir,
    pub spec: PathBuf,
    pub out: PathBuf,
}

impl Deployment {
    pub fn new(spec_text: &str) -> Self {
        Self::named("spec.yaml", spec_text)
    }
    pub fn named(file: &str, spec_text: &str) -> Self {
        let tmp = tempdir();
        let spec = spec_in(tmp.path(), file, spec_text);
        let out = tmp.path().join("out");
        Deployment { tmp, spec, out }
    }
    /// An existing spec file (an example), with `out/` in a fresh temp dir.
    pub fn of(spec: &Path) -> Self {
        let tmp = tempdir();
        let out = tmp.path().join("out");
        Deployment { tmp, spec: spec.to_path_buf(), out }
    }
    /// The default spec: [`MINIMAL`].
    pub fn minimal() -> Self {
        Self::new(MINIMAL)
    }
    pub fn dir(&self) -> &Path {
        self.tmp.path()
    }
    /// Replace the spec file's text.
    pub fn edit(&self, spec_text: &str) {
        std::fs::write(&self.spec, spec_text).unwrap();
    }
    /// `coder-gen <sub> <spec>` (plan).
    pub fn plan(&self) -> Run {
        Run::new(["plan"]).arg(&self.spec)
    }
    /// `coder-gen <sub> <spec> -o <out>` (render, diff, check).
    pub fn run(&self, sub: &str) -> Run {
        self.run_into(sub, &self.out)
    }
    pub fn run_into(&self, sub: &str, out: &Path) -> Run {
        Run::new([sub]).arg(&self.spec).arg("-o").arg(out)
    }
    /// `render` into `out/`: it must succeed and print only the plan's
    /// warnings and its summary line.
    #[track_caller]
    pub fn render(&self) -> Done {
        self.render_into(&self.out)
    }
    #[track_caller]
    pub fn render_into(&self, out: &Path) -> Done {
        self.run_into("render", out).assert().rendered(&self.warnings(), out)
    }
    /// `check` of `out/`: up to date, and it says so.
    #[track_caller]
    pub fn check_ok(&self) -> Done {
        self.run("check").assert().up_to_date(&self.out, &self.spec)
    }
    /// The plan's warnings, as `render` prints them.
    pub fn warnings(&self) -> String {
        warnings_of(&self.spec)
    }
    pub fn tree(&self) -> BTreeMap<String, Vec<u8>> {
        read_tree(&self.out)
    }
}
