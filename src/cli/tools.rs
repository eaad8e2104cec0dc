//! The set-up commands: `init`, `completions`, `man`, and `--color`.
//! (`schema` prints `spec::spec_schema_text`.)

use std::io::Write;
use std::path::PathBuf;

use clap::CommandFactory;

use super::{Cli, Failure};
use crate::spec::{
    DEFAULT_CHART_VERSION, DEFAULT_KUBERNETES_VERSION, DEFAULT_POSTGRES_VERSION, DEFAULT_PROVISIONER_NAMESPACE, DEFAULT_WORKSPACE_NAMESPACE,
};

/// `coder-gen init`'s flags: the four things a spec cannot default.
#[derive(Debug, clap::Args)]
pub struct InitArgs {
    /// Where to write the spec (refused if the file exists).
    #[arg(default_value = "spec.yaml")]
    pub path: PathBuf,
    /// Concurrent users to size for (1 to 3000).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=3000))]
    pub users: u32,
    /// The cloud.
    #[arg(long, value_parser = ["gcp", "aws", "azure"])]
    pub cloud: String,
    /// The cloud's region id, e.g. us-east-1 (aws), us-central1 (gcp), eastus (azure).
    #[arg(long)]
    pub region: String,
    /// The https URL users open, e.g. https://coder.example.com.
    #[arg(long, value_name = "URL")]
    pub access_url: String,
    /// Deployment name: prefixes cloud resource names (a DNS label of at most 20 characters).
    #[arg(long, default_value = "coder")]
    pub name: String,
}

/// `--color`, for everything printed through anstream (diffs, errors).
/// `auto` keeps anstream's rules: a terminal, `NO_COLOR`, `CLICOLOR_FORCE`.
pub fn set_color(choice: clap::ColorChoice) {
    let choice = match choice {
        clap::ColorChoice::Auto => anstream::ColorChoice::Auto,
        clap::ColorChoice::Always => anstream::ColorChoice::Always,
        clap::ColorChoice::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
}

pub fn completions(shell: clap_complete::Shell) -> String {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "coder-gen", &mut out);
    String::from_utf8(out).expect("clap_complete writes UTF-8")
}

pub fn man_page() -> String {
    let mut out = Vec::new();
    clap_mangen::Man::new(Cli::command()).render(&mut out).expect("writing to memory cannot fail");
    String::from_utf8(out).expect("clap_mangen writes UTF-8")
}

/// The starter spec for `init`: the required keys from the flags, every
/// optional key commented out with its default.
pub fn starter_spec(a: &InitArgs) -> String {
    let host = a.access_url.trim_end_matches('/').strip_prefix("https://").unwrap_or("coder.example.com");
    let d = DEFAULT_KUBERNETES_VERSION;
    let chart = DEFAULT_CHART_VERSION;
    let pg = DEFAULT_POSTGRES_VERSION;
    let prov = DEFAULT_PROVISIONER_NAMESPACE;
    let ws = DEFAULT_WORKSPACE_NAMESPACE;
    // A value the user typed is written plain when that is unambiguous, else
    // quoted as a JSON string, so any input stays one YAML scalar (the parse
    // below then judges it).
    let q = |s: &str| {
        let plain = s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'/' | b'*'))
            || s.starts_with("https://") && !s.contains([' ', '#', '\'', '"']) && !s.contains(": ");
        let special = matches!(s, "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n");
        if plain && !special { s.to_string() } else { serde_json::to_string(s).expect("a string serializes") }
    };
    format!(
        "# coder-gen spec, written by `coder-gen init`. Render it with:\n\
         #   coder-gen render {path} -o out/\n\
         # Every key is described in coder-gen's README (\"The spec\"). For completion and\n\
         # checking in your editor, run `coder-gen schema > coder-gen.schema.json` and add\n\
         # this first line: # yaml-language-server: $schema=coder-gen.schema.json\n\
         \n\
         # Prefixes cloud resource names: a DNS label of at most 20 characters.\n\
         name: {name}\n\
         # Concurrent users (1 to 3000): picks Coder's 1k, 2k or 3k reference architecture.\n\
         users: {users}\n\
         # gcp | aws | azure, and the cloud's region id.\n\
         cloud: {cloud}\n\
         region: {region}\n\
         # The https URL users open (no path).\n\
         access_url: {access_url}\n\
         \n\
         # Optional. Each key shows its default; uncomment to change it.\n\
         # wildcard_access_url: https://*.{host}   # workspace apps on subdomains\n\
         # tier: auto                   # auto | 1k | 2k | 3k\n\
         # kubernetes:\n\
         #   cluster_name: {name}        # the existing cluster; default: name\n\
         #   version: \"{d}\"              # quoted; \"1.30\" to \"1.37\"\n\
         # coder:\n\
         #   chart_version: {chart}\n\
         # database:\n\
         #   postgres_version: {pg}         # 14 | 15 | 16 | 17\n\
         #   ha: auto                     # on for 3k\n\
         #   read_replicas: auto          # or 0..5\n\
         #   builds_per_day: 800          # workspace builds per day; no default\n\
         # provisioners:\n\
         #   - namespace: {prov}\n\
         #     tags: {{}}\n\
         # workspaces:\n\
         #   - namespace: {ws}\n\
         # observability: auto            # on for 3k\n",
        path = a.path.display(),
        name = q(&a.name),
        users = a.users,
        cloud = a.cloud,
        region = q(&a.region),
        access_url = q(&a.access_url),
    )
}

/// `coder-gen init`: write the starter spec if it plans, never over a file.
pub fn init(a: &InitArgs, quiet: bool) -> Result<u8, Failure> {
    let text = starter_spec(a);
    let file = a.path.display().to_string();
    // The file must render as written: check it with the real pipeline.
    if let Err(e) = crate::plan_from_str(&file, &text) {
        let mut message = String::from("error: the flags do not make a valid spec; nothing was written\n");
        message.push_str(&e.render(&text));
        return Err(Failure { message, code: 2 });
    }
    let refuse = |why: String| Failure { message: format!("error: {why}\n"), code: 2 };
    let mut f = match std::fs::OpenOptions::new().write(true).create_new(true).open(&a.path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(refuse(format!(
                "{file} already exists; init never overwrites a file\n  = help: choose another path, e.g. `coder-gen init new-spec.yaml …`"
            )));
        }
        Err(e) => return Err(refuse(format!("cannot create {file}: {e}"))),
    };
    if let Err(e) = f.write_all(text.as_bytes()).and_then(|()| f.sync_all()) {
        let _ = std::fs::remove_file(&a.path);
        return Err(refuse(format!("cannot write {file}: {e}")));
    }
    if !quiet {
        eprintln!("wrote {file}; next: coder-gen render {file} -o out/");
    }
    Ok(0)
}
