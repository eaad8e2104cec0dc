//! Command-line interface: argument parsing, printing, exit codes. No
//! business logic lives here.
//!
//! Exit codes (documented in README; scripts rely on them):
//! 0 success, 1 `check` found drift, 2 any error (bad spec, I/O, refusal).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

use crate::Error;
use crate::error::SpecError;
use crate::output::{OutputMeta, WriteOptions, compare, unified_diff, write_tree};

#[derive(Debug, Parser)]
#[command(
    name = "coder-gen",
    version,
    about = "Render a Coder deployment (Helm values, Kustomize overlays, Terraform) sized by Coder's reference architectures",
    after_help = "Example:\n  coder-gen plan examples/quickstart.yaml\n  coder-gen render examples/quickstart.yaml -o out/\n  coder-gen diff examples/quickstart.yaml -o out/\n  coder-gen check examples/quickstart.yaml -o out/\n\nExit codes: 0 success, 1 drift (check), 2 error."
)]
pub struct Cli {
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
    },
    /// Show, as a unified diff, what `render` would change in DIR (nothing is written).
    ///
    /// Only generated files and files coder-gen owns are compared; your own files in DIR are not shown.
    /// Coloured on a terminal; plain when piped or when NO_COLOR is set (CLICOLOR_FORCE=1 forces colour).
    /// Exits 0 whether or not there are changes, 2 on error.
    #[command(after_help = "Example:\n  coder-gen diff spec.yaml -o out/\n  coder-gen diff spec.yaml -o out/ | less -R")]
    Diff {
        /// The spec file (YAML).
        spec: PathBuf,
        /// The output directory.
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
    },
    /// Exit 0 if DIR is exactly what `render` would write, 1 (printing the diff) if not.
    ///
    /// For CI and pre-commit hooks. A missing DIR and hand-edited generated files are drift (1); a
    /// bad spec, an unreadable or hostile manifest, or a DIR that render would refuse are errors (2).
    #[command(
        after_help = "Example:\n  coder-gen check deploy/spec.yaml -o deploy/out    # in CI or a pre-commit hook; see examples/gitops/"
    )]
    Check {
        /// The spec file (YAML).
        spec: PathBuf,
        /// The output directory.
        #[arg(short, long, value_name = "DIR")]
        output: PathBuf,
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

/// Parse arguments, run, and map the outcome to an exit code.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    match execute(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(failure) => {
            let mut err = anstream::stderr().lock();
            let _ = err.write_all(failure.message.as_bytes());
            ExitCode::from(failure.code)
        }
    }
}

/// A failed command: what to print on stderr and the exit code.
struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    fn from_error(e: &Error, source: Option<&str>) -> Failure {
        let message = match (e, source) {
            (Error::Spec(s), Some(text)) => s.render(text),
            _ => format!("error: {e}\n"),
        };
        Failure { message, code: e.exit_code() }
    }
}

fn load(path: &Path) -> Result<(String, crate::plan::Plan), Failure> {
    let text = crate::read_spec(path).map_err(|e| Failure::from_error(&e, None))?;
    let file = path.display().to_string();
    let plan = crate::plan_from_str(&file, &text).map_err(|e: SpecError| Failure::from_error(&Error::Spec(e), Some(&text)))?;
    Ok((text, plan))
}

fn execute(cli: &Cli) -> Result<u8, Failure> {
    match &cli.command {
        Command::Plan { spec, format } => {
            let (_, plan) = load(spec)?;
            let out = match format {
                Format::Text => crate::plan::to_text(&plan),
                Format::Json => {
                    let mut s = serde_json::to_string_pretty(&plan).expect("the plan always serializes to JSON");
                    s.push('\n');
                    s
                }
            };
            print_stdout(&out);
            Ok(0)
        }
        Command::Explain { spec, target } => {
            let (_, plan) = load(spec)?;
            let tree = crate::render::render(&plan);
            let out = crate::explain::explain(&plan, &tree, target).map_err(|m| Failure { message: format!("error: {m}\n"), code: 2 })?;
            print_stdout(&out);
            Ok(0)
        }
        Command::Render { spec, output, force } => {
            let (_, plan) = load(spec)?;
            let tree = crate::render::render(&plan);
            let opts = WriteOptions { force: *force, ..WriteOptions::default() };
            let report = write_tree(&tree, output, &meta(&plan), &opts).map_err(output_failure)?;
            for note in &report.notes {
                eprintln!("note: {note}");
            }
            for path in &report.forced {
                eprintln!("warning: --force: overwrote or deleted {path}, which coder-gen did not write as it was");
            }
            for w in &plan.warnings {
                eprintln!("warning: {}: {}", w.code, w.message);
            }
            if report.is_noop() {
                eprintln!("{} is up to date ({} files)", output.display(), report.unchanged);
            } else if report.added.is_empty() && report.changed.is_empty() && report.deleted.is_empty() {
                eprintln!("wrote {}: only the manifest changed ({} files unchanged)", output.display(), report.unchanged);
            } else {
                eprintln!(
                    "wrote {}: {} added, {} changed, {} deleted, {} unchanged",
                    output.display(),
                    report.added.len(),
                    report.changed.len(),
                    report.deleted.len(),
                    report.unchanged
                );
            }
            Ok(0)
        }
        Command::Diff { spec, output } => {
            let (_, plan) = load(spec)?;
            let changes = compare(&crate::render::render(&plan), output, &meta(&plan)).map_err(output_failure)?;
            print_diff(&changes);
            if changes.is_empty() {
                eprintln!("no changes: {} is up to date", output.display());
            } else {
                eprintln!("{} file(s) would change; `coder-gen render` writes them", changes.len());
            }
            Ok(0)
        }
        Command::Check { spec, output } => {
            let (_, plan) = load(spec)?;
            let changes = compare(&crate::render::render(&plan), output, &meta(&plan)).map_err(output_failure)?;
            if changes.is_empty() {
                eprintln!("ok: {} is up to date with {}", output.display(), spec.display());
                return Ok(0);
            }
            print_diff(&changes);
            eprintln!(
                "drift: {} file(s) in {} differ from what {} renders\n  = help: run `coder-gen render {} -o {}` and commit the result",
                changes.len(),
                output.display(),
                spec.display(),
                spec.display(),
                output.display()
            );
            Ok(1)
        }
    }
}

fn meta(plan: &crate::plan::Plan) -> OutputMeta {
    OutputMeta {
        generator_version: env!("CARGO_PKG_VERSION").to_string(),
        spec_file: plan.spec_file.clone(),
        spec_digest: plan.spec_digest.clone(),
    }
}

fn output_failure(e: crate::output::OutputError) -> Failure {
    Failure::from_error(&Error::Output(e), None)
}

/// The diff on stdout, through anstream: coloured on a terminal, plain when
/// piped or with NO_COLOR, coloured with CLICOLOR_FORCE.
fn print_diff(changes: &[crate::output::FileChange]) {
    let mut out = anstream::stdout().lock();
    let _ = out.write_all(unified_diff(changes).as_bytes());
    let _ = out.flush();
}

/// Print to stdout; a closed pipe (`| head`) is not an error.
fn print_stdout(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}
