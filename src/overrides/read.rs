//! Reading the user's override files, where the spec is read (the only
//! I/O before `output`): bounded, regular files only, inside the spec's
//! folder (links included), each checked for the shape it must have. Every
//! problem is located where the spec names the file.

use std::path::Path;

use serde_json::Value;

use crate::diag::{Located, SpecError};
use crate::digest::sha256_hex;
use crate::fs::{Bounded, file_kind, read_at_most};
use crate::spec::{At, Spec};
use crate::yaml::{self, Refusal, json_ops, object_id};

/// An override file is a few settings; anything larger is a mistake.
const MAX_OVERRIDE_BYTES: u64 = 256 * 1024;

/// Read every override file the spec names, relative to `spec_path`'s folder:
/// bounded in size, never outside that folder (links included), YAML maps
/// only. Every problem is reported at once, located at the spec's `values:`.
pub fn read(spec: &mut Spec, spec_path: &Path) -> Result<(), SpecError> {
    if spec.helm_overrides.is_empty() && spec.terraform_overrides.is_empty() && spec.kustomize_overrides.is_empty() {
        return Ok(());
    }
    let dir = spec_path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let root = dir.canonicalize().ok();
    let mut errors = Vec::new();
    for (target, o) in &mut spec.helm_overrides {
        let shown = o.file.value.clone();
        let mut fail = |message: String, help: &str| {
            errors.push(Located {
                line: o.file.line,
                column: o.file.column,
                message: format!("overrides.helm.{target}: {message}"),
                help: help.to_string(),
            });
        };
        let text = match read_file(dir, root.as_deref(), &shown) {
            Ok(t) => t,
            Err((message, help)) => {
                fail(message, help);
                continue;
            }
        };
        match yaml::parse(&text) {
            Ok(v @ Value::Object(_)) => o.values = Some((v, sha256_hex(text.as_bytes()))),
            Ok(_) => fail(
                format!("{shown} is not a YAML map of Helm values"),
                "write the values as in the chart's values.yaml, e.g. `coder:` at the top",
            ),
            Err(e) => {
                let l = SpecError::from_yaml(&shown, &e);
                let detail = l.errors().first().map(|x| format!("{shown}:{}:{}: {}", x.line, x.column, x.message)).unwrap_or_default();
                fail(detail, "fix the YAML of the override file");
            }
        }
    }
    for (overlay, k) in &mut spec.kustomize_overrides {
        let what = format!("overrides.kustomize.{overlay}");
        for (o, _, _) in &mut k.json_patches {
            o.text = read_checked(
                dir,
                root.as_deref(),
                &o.file,
                &what,
                |t| json_ops(t).map(drop).map_err(|r| format!(": {}", refusal(r))),
                "write a YAML list of JSON 6902 operations, e.g. `- op: replace` with `path: /spec/...` and `value:`",
                &mut errors,
            );
        }
        for o in k.patches.iter_mut().chain(k.resources.iter_mut()) {
            o.text = read_checked(
                dir,
                root.as_deref(),
                &o.file,
                &what,
                |t| object_id(t).map(drop).map_err(|r| format!(": {}", refusal(r))),
                "give one Kubernetes object per file, with apiVersion, kind and metadata.name",
                &mut errors,
            );
        }
    }
    for o in &mut spec.terraform_overrides {
        o.text = read_checked(
            dir,
            root.as_deref(),
            &o.file,
            "overrides.terraform",
            |t| {
                hcl_edit::parser::parse_body(t)
                    .map(drop)
                    .map_err(|e| format!(" is not Terraform (HCL): {}", e.to_string().replace('\n', " ")))
            },
            "fix the file; `terraform fmt` shows the problem too",
            &mut errors,
        );
    }
    if errors.is_empty() { Ok(()) } else { Err(SpecError::Invalid { file: spec.file.clone(), errors }) }
}

/// Read the override file `file` (bounded, inside the spec's folder) and
/// check its content with `check`; a problem is an error located where the
/// spec names the file, prefixed with `what` (the spec key).
fn read_checked(
    dir: &Path,
    root: Option<&Path>,
    file: &At<String>,
    what: &str,
    check: impl Fn(&str) -> Result<(), String>,
    help: &str,
    errors: &mut Vec<Located>,
) -> Option<String> {
    let shown = &file.value;
    let (message, help) = match read_file(dir, root, shown) {
        Ok(text) => match check(&text) {
            Ok(()) => return Some(text),
            // `why` goes on from the file's name (": …" or " is not …").
            Err(why) => (format!("{shown}{why}"), help),
        },
        Err((message, help)) => (message, help),
    };
    errors.push(Located { line: file.line, column: file.column, message: format!("{what}: {message}"), help: help.to_string() });
    None
}

/// A refused user file in words: the parser's error located in the file
/// ("3:1: …"), or what its YAML should have been.
fn refusal(r: Refusal) -> String {
    match r {
        Refusal::Yaml(e) => {
            let l = SpecError::from_yaml("", &e);
            l.errors().first().map(|x| format!("{}:{}: {}", x.line, x.column, x.message)).unwrap_or_default()
        }
        Refusal::Shape(why) => why.to_string(),
    }
}

/// The text of `rel` under `dir`, refused outside `root` (after links), when
/// not a regular file (a FIFO would block the read) and above
/// [`MAX_OVERRIDE_BYTES`] (read bounded, like the spec: [`read_at_most`]).
fn read_file(dir: &Path, root: Option<&Path>, rel: &str) -> Result<String, (String, &'static str)> {
    let real = dir
        .join(rel)
        .canonicalize()
        .map_err(|e| (format!("cannot read {rel}: {e}"), "create the file, or fix the path (relative to the spec's folder)"))?;
    if root.is_none_or(|r| !real.starts_with(r)) {
        return Err((format!("{rel} leads outside the spec's folder"), "keep override files beside the spec (no links out of its folder)"));
    }
    let unreadable = |e: std::io::Error| (format!("cannot read {rel}: {e}"), "give a readable UTF-8 file");
    let md = std::fs::metadata(&real).map_err(unreadable)?;
    if !md.is_file() {
        return Err((format!("cannot read {rel}: it is {}, not a regular file", file_kind(md.file_type())), "give a readable UTF-8 file"));
    }
    match read_at_most(&real, MAX_OVERRIDE_BYTES).map_err(unreadable)? {
        Bounded::TooLarge(_) => Err((format!("{rel} is larger than {MAX_OVERRIDE_BYTES} bytes"), "an override file holds a few settings")),
        // The wording `read_to_string` gives, as before.
        Bounded::Whole(bytes) => String::from_utf8(bytes)
            .map_err(|_| unreadable(std::io::Error::new(std::io::ErrorKind::InvalidData, "stream did not contain valid UTF-8"))),
    }
}
