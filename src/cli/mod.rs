//! Command-line interface: argument parsing, printing, exit codes. No
//! business logic lives here.
//!
//! Exit codes (documented in README; scripts rely on them):
//! 0 success, 1 `check` found drift, 2 any error (bad spec, I/O, refusal).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::diag::{MAX_MESSAGE_LINES, SpecError, escape, escape_text};
use crate::error::{Error, render as render_error};
use crate::explain::explain;
use crate::output::{EDITED_BY_HAND, FileChange, OutputError, Record, WriteOptions, compare, read_record, unified_diff, write_tree};
use crate::plan::{Plan, to_text};
use crate::render::render;
use crate::review::{
    self, FileDiff, MAX_RECORDED_PLAN_BYTES, RECORDED_PLAN_NAME, Recorded, Summary, chart_downgrade, downgrade_unknown, summarize,
};
use crate::spec::spec_schema_text;
use crate::{output_meta as meta, plan_from_str, plan_json, read_spec};

mod tools;

#[derive(Debug, Parser)]
#[command(
    name = "coder-gen",
    version,
    about = "Render a Coder deployment (Helm values, Kustomize overlays, Terraform) sized by Coder's reference architectures",
    after_help = "Example:\n  coder-gen init spec.yaml --users 500 --cloud gcp --region us-central1 --access-url https://coder.example.com\n  coder-gen plan examples/quickstart.yaml\n  coder-gen render examples/quickstart.yaml -o out/\n  coder-gen diff examples/quickstart.yaml -o out/\n  coder-gen check examples/quickstart.yaml -o out/\n\nExit codes: 0 success, 1 drift (check), 2 error."
)]
pub struct Cli {
    /// Print only errors and each command's result: no warnings, notes or summaries on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// When to colour output: auto (on a terminal, unless NO_COLOR is set; CLICOLOR_FORCE=1 forces it),
    /// always or never.
    #[arg(long, global = true, value_enum, value_name = "WHEN", default_value_t = clap::ColorChoice::Auto)]
    pub color: clap::ColorChoice,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the deployment tree for SPEC into DIR, atomically.
    ///
    /// coder-gen owns only the files listed in DIR/.coder-gen/manifest.json: it deletes the ones it no
    /// longer generates (and directories they leave empty) and never deletes or overwrites any other
    /// file. It refuses, naming the files, when a generated path is taken by a file it does not own,
    /// when a generated file was edited by hand, or when DIR is not empty and has no manifest.
    #[command(after_help = "Example:\n  coder-gen render spec.yaml -o out/\n  git add out/ && git commit -m 'Render out/'")]
    Render {
        /// The spec file (YAML).
        spec: PathBuf,
        /// The output directory (created if missing).
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
        /// Write anyway: into a non-empty DIR without a manifest, over files at generated paths that
        /// the manifest does not list, and over (or deleting) generated files edited by hand. Every
        /// other file in DIR is still kept. The files overwritten are named on stderr.
        #[arg(long)]
        force: bool,
        /// Render a lower coder.chart_version than DIR records: say that you restored Coder's
        /// database from a backup taken before the upgrade (Coder cannot downgrade otherwise).
        #[arg(long)]
        restored_database: bool,
    },
    /// Show, as a unified diff, what `render` would change in DIR (nothing is written), then a
    /// review summary: what changes (tier, machine types, database, versions, ...) and what applying
    /// it does (in place, rolling, node-pool replacement, database restart, irreversible, destroys data).
    ///
    /// Only generated files and files coder-gen owns are compared; your own files in DIR are not shown.
    /// Coloured on a terminal; plain when piped or when NO_COLOR is set (CLICOLOR_FORCE=1 forces colour).
    /// The summary starts from the plan DIR recorded (DIR/.coder-gen/plan.json). With --format markdown
    /// or json, stdout is the summary alone. Exits 0 whether or not there are changes, 2 on error.
    #[command(
        after_help = "Example:\n  coder-gen diff spec.yaml -o out/\n  coder-gen diff spec.yaml -o out/ | less -R\n  coder-gen diff spec.yaml -o out/ --format markdown > review.md"
    )]
    Diff {
        /// The spec file (YAML).
        spec: PathBuf,
        /// The output directory.
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
        /// text: the diff on stdout, the summary on stderr; markdown (a PR comment) or json: the
        /// summary alone on stdout.
        #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
        format: SummaryFormat,
    },
    /// Exit 0 if DIR is exactly what `render` would write, 1 (printing the diff) if not.
    ///
    /// For CI and pre-commit hooks. A missing DIR and hand-edited generated files are drift (1); a
    /// bad spec, an unreadable or hostile manifest, or a DIR that render would refuse are errors (2).
    /// On drift it also prints the review summary (see `diff`).
    #[command(
        after_help = "Example:\n  coder-gen check deploy/spec.yaml -o deploy/out    # in CI or a pre-commit hook; see examples/gitops/\n  coder-gen check deploy/spec.yaml -o deploy/out --format markdown > review.md   # see examples/ci/"
    )]
    Check {
        /// The spec file (YAML).
        spec: PathBuf,
        /// The output directory.
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
        /// text: the diff on stdout, the summary on stderr; markdown (a PR comment) or json: the
        /// summary alone on stdout.
        #[arg(long, value_enum, default_value_t = SummaryFormat::Text)]
        format: SummaryFormat,
    },
    /// Show what would be built and why, without writing anything.
    #[command(after_help = "Examples:\n  coder-gen plan spec.yaml\n  coder-gen plan spec.yaml --format json | jq .coderd.replicas")]
    Plan {
        /// The spec file (YAML).
        spec: PathBuf,
        /// Output format: a readable table, or the stable JSON document.
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
    /// Write a commented starter spec from flags (no prompts). Never overwrites a file.
    ///
    /// The spec renders as written; every optional key is listed, commented out, with its default.
    #[command(
        after_help = "Example:\n  coder-gen init deploy/spec.yaml --users 800 --cloud aws --region us-east-1 --access-url https://coder.example.com\n  coder-gen render deploy/spec.yaml -o deploy/out"
    )]
    Init(tools::InitArgs),
    /// Print the spec's JSON Schema (draft-07), for editors (yaml-language-server) and CI validators.
    #[command(
        after_help = "Example:\n  coder-gen schema > coder-gen.schema.json\n  # then, first line of spec.yaml:\n  # yaml-language-server: $schema=coder-gen.schema.json"
    )]
    Schema,
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  coder-gen completions bash > ~/.local/share/bash-completion/completions/coder-gen\n  coder-gen completions zsh > ~/.zfunc/_coder-gen\n  coder-gen completions fish > ~/.config/fish/completions/coder-gen.fish"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff).
    #[command(after_help = "Example:\n  coder-gen man > ~/.local/share/man/man1/coder-gen.1 && man coder-gen")]
    Man,
    /// Print the plan entry and reason behind a generated file, a YAML key
    /// or a Terraform attribute (exit 2 for a path the spec does not generate)
    #[command(
        after_help = "Examples:\n  coder-gen explain spec.yaml helm/coder/values.yaml\n  coder-gen explain spec.yaml helm/coder/values.yaml:coder.resources.requests.cpu\n  coder-gen explain spec.yaml terraform/gcp/node_pools.tf:google_container_node_pool.workspace.max_pods_per_node"
    )]
    Explain {
        spec: PathBuf,
        /// A file of the tree, optionally with `:KEY` (a dotted YAML path, or
        /// TYPE.NAME.ATTR in a .tf file)
        target: String,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// How `diff` and `check` print the review summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SummaryFormat {
    Text,
    Markdown,
    Json,
}

/// Parse arguments, run, and map the outcome to an exit code.
pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        // --help and --version: clap prints them (to stdout), exit 0.
        Err(e) if !e.use_stderr() => {
            return match e.print() {
                Ok(()) => ExitCode::from(0),
                Err(err) => fail(&Failure::stdout(err)),
            };
        }
        Err(e) => {
            // clap's message quotes the arguments as given: escaped, so a
            // hostile argument cannot drive the terminal.
            let text = e.render().to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text).trim_end();
            let lines: Vec<String> = text.lines().map(escape).collect();
            let e = Error::Usage(lines.join("\n"));
            return fail(&Failure::from_error(&e, None));
        }
    };
    tools::set_color(cli.color);
    match execute(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => fail(&failure),
    }
}

fn fail(failure: &Failure) -> ExitCode {
    let mut err = anstream::stderr().lock();
    let _ = err.write_all(failure.message.as_bytes());
    ExitCode::from(failure.code)
}

/// One line on stderr, escaped. A failing stderr is ignored (there is
/// nowhere left to report it); `eprintln!` would panic.
fn say(line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", escape(line));
}

/// A failed command: what to print on stderr and the exit code.
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    fn from_error(e: &Error, source: Option<&str>) -> Failure {
        Failure { message: render_error(e, source), code: e.exit_code() }
    }

    /// Writing to stdout failed: a closed pipe (`| head`) ends the command
    /// quietly with success; anything else (a full disk) is an error.
    fn stdout(e: std::io::Error) -> Failure {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            return Failure { message: String::new(), code: 0 };
        }
        Failure::from_error(&Error::Stdout(e), None)
    }
}

fn load(path: &Path) -> Result<(String, Plan), Failure> {
    let text = read_spec(path).map_err(|e| Failure::from_error(&e, None))?;
    // Spec::parse escapes it for messages and headers.
    let file = path.to_string_lossy().into_owned();
    let plan = plan_from_str(&file, &text).map_err(|e: SpecError| Failure::from_error(&Error::Spec(e), Some(&text)))?;
    Ok((text, plan))
}

fn execute(cli: &Cli) -> Result<u8, Failure> {
    match &cli.command {
        Command::Plan { spec, format } => {
            let (_, plan) = load(spec)?;
            let out = match format {
                Format::Text => escape_text(&to_text(&plan)),
                Format::Json => plan_json(&plan),
            };
            print_stdout(&out)?;
            Ok(0)
        }
        Command::Explain { spec, target } => {
            let (_, plan) = load(spec)?;
            let tree = render(&plan);
            // An unknown path is a usage error: rendered like every other error, exit 2.
            let out = explain(&plan, &tree, target).map_err(|m| Failure::from_error(&Error::Usage(m), None))?;
            print_stdout(&out)?;
            Ok(0)
        }
        Command::Render { spec, output, force, restored_database } => {
            let (_, plan) = load(spec)?;
            let recorded = recorded_plan(output)?;
            if let Some(d) = chart_downgrade(&recorded, &plan) {
                if !restored_database {
                    return Err(Failure::from_error(&Error::Downgrade(d), None));
                }
                say(&format!("note: --restored-database: rendering coder.chart_version {} below the recorded {}", d.wanted, d.recorded));
            }
            // Said even with --quiet, like --force's warnings: a safety check did not run.
            if let Some(why) = downgrade_unknown(&recorded) {
                say(&format!(
                    "warning: the chart downgrade check did not run: {}/.coder-gen/{RECORDED_PLAN_NAME}: {why}; render rewrites it",
                    output.to_string_lossy()
                ));
            }
            let tree = render(&plan);
            let opts = WriteOptions { force: *force, ..WriteOptions::default() };
            let report = write_tree(&tree, output, &meta(&plan), &opts).map_err(output_failure)?;
            // --force names what it overwrote even with --quiet: that is data lost.
            for path in &report.forced {
                say(&format!("warning: --force: overwrote or deleted {path}, which coder-gen did not write as it was"));
            }
            if cli.quiet {
                return Ok(0);
            }
            for note in &report.notes {
                say(&format!("note: {note}"));
            }
            for w in &plan.warnings {
                say(&format!("warning: {}: {}", w.code, w.message));
            }
            let output = output.to_string_lossy();
            if report.is_noop() {
                say(&format!("{output} is up to date ({} files)", report.unchanged));
            } else if report.added.is_empty() && report.changed.is_empty() && report.deleted.is_empty() {
                say(&format!("wrote {output}: only the manifest changed ({} files unchanged)", report.unchanged));
            } else {
                say(&format!(
                    "wrote {output}: {} added, {} changed, {} deleted, {} unchanged",
                    report.added.len(),
                    report.changed.len(),
                    report.deleted.len(),
                    report.unchanged
                ));
            }
            Ok(0)
        }
        Command::Diff { spec, output, format } => {
            let (_, plan) = load(spec)?;
            let changes = compare(&render(&plan), output, &meta(&plan)).map_err(output_failure)?;
            let summary = review_of(&plan, output, &changes)?;
            match format {
                SummaryFormat::Text => {
                    print_diff(&changes)?;
                    if !cli.quiet {
                        say_lines(&review::to_text(&summary));
                    }
                }
                SummaryFormat::Markdown => print_stdout(&review::to_markdown(&summary, &title(spec, output)))?,
                SummaryFormat::Json => print_stdout(&review::to_json(&summary))?,
            }
            if cli.quiet {
                return Ok(0);
            }
            if changes.is_empty() {
                say(&format!("no changes: {} is up to date", output.to_string_lossy()));
            } else if edited(&changes) {
                say(&format!("{} file(s) would change, but `coder-gen render` refuses to without --force:", changes.len()));
                say_edited(&changes);
            } else {
                say(&format!("{} file(s) would change; `coder-gen render` writes them", changes.len()));
            }
            Ok(0)
        }
        Command::Check { spec, output, format } => {
            let (_, plan) = load(spec)?;
            let changes = compare(&render(&plan), output, &meta(&plan)).map_err(output_failure)?;
            let summary = review_of(&plan, output, &changes)?;
            let heading = title(spec, output);
            let (output, spec) = (output.to_string_lossy(), spec.to_string_lossy());
            let printed = match format {
                SummaryFormat::Text if changes.is_empty() => Ok(()),
                SummaryFormat::Text => print_diff(&changes),
                SummaryFormat::Markdown => print_stdout(&review::to_markdown(&summary, &heading)),
                SummaryFormat::Json => print_stdout(&review::to_json(&summary)),
            };
            if changes.is_empty() {
                printed?;
                if !cli.quiet {
                    say(&format!("ok: {output} is up to date with {spec}"));
                }
                return Ok(0);
            }
            // A closed pipe (`check | head`) still exits 1: drift is the answer.
            if let Err(f) = printed
                && f.code != 0
            {
                return Err(f);
            }
            if *format == SummaryFormat::Text && !cli.quiet {
                say_lines(&review::to_text(&summary));
            }
            say(&format!("drift: {} file(s) in {output} differ from what {spec} renders", changes.len()));
            if edited(&changes) {
                say_edited(&changes);
                say(&format!(
                    "  = help: `coder-gen render` refuses to overwrite them: move your changes into the spec (or into a file coder-gen does not generate), or run `coder-gen render {spec} -o {output} --force` to discard them; then commit the result"
                ));
            } else {
                say(&format!("  = help: run `coder-gen render {spec} -o {output}` and commit the result"));
            }
            Ok(1)
        }
        Command::Init(args) => tools::init(args, cli.quiet),
        Command::Schema => {
            print_stdout(&spec_schema_text())?;
            Ok(0)
        }
        Command::Completions { shell } => {
            print_stdout(&tools::completions(*shell))?;
            Ok(0)
        }
        Command::Man => {
            print_stdout(&tools::man_page())?;
            Ok(0)
        }
    }
}

/// The plan `output` recorded, read bounded (never through a link).
fn recorded_plan(output: &Path) -> Result<Recorded, Failure> {
    Ok(match read_record(output, RECORDED_PLAN_NAME, MAX_RECORDED_PLAN_BYTES).map_err(output_failure)? {
        Record::Absent => Recorded::Absent,
        Record::TooLarge(n) => Recorded::too_large(n),
        Record::Bytes(b) => Recorded::parse(&b),
    })
}

/// The review summary of `changes`, from the plan `output` recorded.
fn review_of(plan: &Plan, output: &Path, changes: &[FileChange]) -> Result<Summary, Failure> {
    let recorded = recorded_plan(output)?;
    let files: Vec<FileDiff<'_>> = changes
        .iter()
        .map(|c| FileDiff {
            path: &c.path,
            old: c.old.as_deref().filter(|_| c.old_not_shown.is_none()),
            new: c.new.as_deref(),
            old_unread: c.old_not_shown.is_some(),
        })
        .collect();
    Ok(summarize(&recorded, plan, &files))
}

/// The Markdown summary's title: the spec and the directory as given.
fn title(spec: &Path, output: &Path) -> String {
    format!("{} -> {}", spec.to_string_lossy(), output.to_string_lossy())
}

/// Several lines on stderr, each escaped.
fn say_lines(text: &str) {
    for line in text.lines() {
        say(line);
    }
}

fn output_failure(e: OutputError) -> Failure {
    Failure::from_error(&Error::Output(e), None)
}

fn edited(changes: &[FileChange]) -> bool {
    changes.iter().any(|c| c.edited)
}

/// Hand-edited owned files, in the words `render` uses when it refuses them.
fn say_edited(changes: &[FileChange]) {
    say(&format!("  {EDITED_BY_HAND}"));
    // A hostile manifest may own thousands: the list is capped like errors are.
    let edited: Vec<&str> = changes.iter().filter(|c| c.edited).map(|c| c.path.as_str()).collect();
    for path in edited.iter().take(MAX_MESSAGE_LINES) {
        say(&format!("    {path}"));
    }
    if edited.len() > MAX_MESSAGE_LINES {
        say(&format!("    … and {} more", edited.len() - MAX_MESSAGE_LINES));
    }
}

/// The diff on stdout, through anstream: coloured on a terminal, plain when
/// piped or with NO_COLOR, coloured with CLICOLOR_FORCE.
fn print_diff(changes: &[FileChange]) -> Result<(), Failure> {
    let mut out = anstream::stdout().lock();
    out.write_all(unified_diff(changes).as_bytes()).and_then(|()| out.flush()).map_err(Failure::stdout)
}

/// Print to stdout. A write error is an error (exit 2), except a closed
/// pipe (`| head`), which ends the command quietly.
fn print_stdout(s: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(s.as_bytes()).and_then(|()| out.flush()).map_err(Failure::stdout)
}
