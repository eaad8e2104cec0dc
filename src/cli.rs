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

#[derive(Debug, Parser)]
#[command(
    name = "coder-gen",
    version,
    about = "Render a Coder deployment (Helm values, Kustomize overlays, Terraform) sized by Coder's reference architectures",
    after_help = "Example:\n  coder-gen plan examples/quickstart.yaml\n  coder-gen render examples/quickstart.yaml -o out/\n\nExit codes: 0 success, 1 drift (check), 2 error."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the deployment tree for SPEC into DIR.
    #[command(after_help = "Example:\n  coder-gen render spec.yaml -o out/")]
    Render {
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
        Command::Render { spec, output } => {
            let (_, plan) = load(spec)?;
            let tree = crate::render::render(&plan);
            crate::output::write_tree(&tree, output).map_err(|e| Failure::from_error(&Error::Output(e), None))?;
            for w in &plan.warnings {
                eprintln!("warning: {}: {}", w.code, w.message);
            }
            eprintln!("wrote {} files to {}", tree.len(), output.display());
            Ok(0)
        }
    }
}

/// Print to stdout; a closed pipe (`| head`) is not an error.
fn print_stdout(s: &str) {
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(s.as_bytes());
    let _ = out.flush();
}
