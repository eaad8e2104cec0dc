//! The second pass that lists every unknown key and every wrong type at once.
//!
//! serde stops at the first error. When the typed parse fails, the document is
//! read again as a generic tree in which every key and value keeps its line
//! and column, and the tree is checked against the spec's JSON Schema (which
//! is generated from the same Rust types, so the two agree). Value rules
//! (name format, URL, region, ...) are the validator's; they run once the
//! shape is right. Only the keywords the generated schema uses are
//! understood: `$ref`, `allOf`, `anyOf`, `type`, `enum`, `const`,
//! `properties`, `additionalProperties`, `required`, `items`, `minimum`,
//! `maximum`; the rest (`pattern`, lengths, `if`) are the validator's.

use std::fmt;

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use serde_saphyr::Spanned;

use crate::diag::{Located, quote};

/// A YAML value with the position of every part.
#[derive(Debug)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Spanned<Node>>),
    Map(Vec<(Spanned<String>, Spanned<Node>)>),
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Node;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
                Ok(Node::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
                Ok(Node::Int(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
                Ok(Node::Int(v.into()))
            }
            fn visit_i128<E>(self, v: i128) -> Result<Node, E> {
                Ok(Node::Int(v))
            }
            fn visit_u128<E>(self, v: u128) -> Result<Node, E> {
                Ok(Node::Int(i128::try_from(v).unwrap_or(i128::MAX)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
                Ok(Node::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<Node, E> {
                Ok(Node::Str(v.to_string()))
            }
            fn visit_string<E>(self, v: String) -> Result<Node, E> {
                Ok(Node::Str(v))
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Node, E> {
                Ok(Node::Str(String::from_utf8_lossy(v).into_owned()))
            }
            fn visit_unit<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_none<E>(self) -> Result<Node, E> {
                Ok(Node::Null)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Node, D2::Error> {
                Node::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut v = Vec::new();
                while let Some(x) = a.next_element()? {
                    v.push(x);
                }
                Ok(Node::Seq(v))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Node, A::Error> {
                let mut v = Vec::new();
                while let Some(k) = a.next_key::<Spanned<String>>()? {
                    v.push((k, a.next_value()?));
                }
                Ok(Node::Map(v))
            }
        }
        d.deserialize_any(V)
    }
}

/// Every shape problem in `text`, or `None` when the text is not even a YAML
/// document this pass can read (then the parser's own error stands).
pub(crate) fn errors(text: &str, schema: &Value) -> Option<Vec<Located>> {
    // The typed parse stopped early; this one reads everything, so aliases
    // get a tight budget (a spec needs none): an alias bomb fails fast here.
    let options = serde_saphyr::options! {
        strict_booleans: true,
        alias_limits: serde_saphyr::alias_limits! { max_total_replayed_events: 10_000 },
    };
    let doc: Spanned<Node> = serde_saphyr::from_str_with_options(text, options).ok()?;
    let mut checker = Checker { root: schema, errors: Vec::new() };
    checker.check(&doc, schema, "");
    let mut errors = checker.errors;
    errors.sort_by_key(|e| (e.line, e.column));
    errors.dedup();
    // A file with this many shape errors is not a spec; the first ones say so.
    // (Past the cap, unknown keys were only counted: empty messages.)
    let counted = errors.iter().filter(|e| e.message.is_empty()).count();
    errors.retain(|e| !e.message.is_empty());
    if errors.len() + counted > MAX_ERRORS {
        let more = errors.len().saturating_sub(MAX_ERRORS) + counted;
        errors.truncate(MAX_ERRORS);
        errors.push(Located {
            line: 0,
            column: 0,
            message: format!("{more} more problems like these are not shown"),
            help: "check that this is a coder-gen spec; `coder-gen init` writes one".to_string(),
        });
    }
    Some(errors)
}

/// Problems listed before the rest are summarised.
const MAX_ERRORS: usize = 50;

struct Checker<'s> {
    root: &'s Value,
    errors: Vec<Located>,
}

fn at<T>(s: &Spanned<T>) -> (u64, u64) {
    (s.defined.line(), s.defined.column())
}

impl<'s> Checker<'s> {
    /// Whether `schema` can hold a node of this kind at all (a mapping, a
    /// list, a scalar), looking through `$ref` and `anyOf`/`allOf` branches
    /// and `const`s, so a nested choice (an optional short-or-map section)
    /// still leads to the one branch of the node's kind.
    fn kind_fits(&self, node: &Spanned<Node>, schema: &'s Value, depth: u8) -> bool {
        let schema = self.resolve(schema);
        if !types(schema).is_empty() {
            return kind_matches(node, schema);
        }
        if schema.get("const").is_some() {
            return !matches!(node.value, Node::Map(_) | Node::Seq(_));
        }
        let branches: Vec<&Value> = ["anyOf", "allOf"].iter().filter_map(|k| schema.get(*k).and_then(Value::as_array)).flatten().collect();
        if branches.is_empty() || depth > 8 {
            return true;
        }
        branches.iter().any(|b| self.kind_fits(node, b, depth + 1))
    }

    fn resolve(&self, mut schema: &'s Value) -> &'s Value {
        // `#/definitions/X` only: the generator writes nothing else.
        for _ in 0..16 {
            let Some(r) = schema.get("$ref").and_then(Value::as_str) else { break };
            match r.strip_prefix("#/definitions/").and_then(|n| self.root.get("definitions")?.get(n)) {
                Some(s) => schema = s,
                None => break,
            }
        }
        schema
    }

    fn push(&mut self, (line, column): (u64, u64), message: String, help: String) {
        self.errors.push(Located { line, column, message, help });
    }

    /// Past this, only counting matters (see `MAX_ERRORS`): skip the costly
    /// "did you mean" of yet another unknown key.
    fn saturated(&self) -> bool {
        self.errors.len() > MAX_ERRORS
    }

    /// Whether `node` is valid against `schema`, without recording anything.
    fn fits(&self, node: &Spanned<Node>, schema: &'s Value, path: &str) -> bool {
        let mut trial = Checker { root: self.root, errors: Vec::new() };
        trial.check(node, schema, path);
        trial.errors.is_empty()
    }

    fn check(&mut self, node: &Spanned<Node>, schema: &'s Value, path: &str) {
        let schema = self.resolve(schema);
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for s in all {
                self.check(node, s, path);
            }
        }
        if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
            if any.iter().any(|s| self.fits(node, s, path)) {
                return;
            }
            // One branch of the node's kind (e.g. the mapping of an optional
            // section): report what is wrong inside it rather than "expected".
            let structural = matches!(node.value, Node::Map(_) | Node::Seq(_));
            let same_kind: Vec<&Value> = any.iter().filter(|s| self.kind_fits(node, s, 0)).collect();
            if let (true, [only]) = (structural, same_kind.as_slice()) {
                self.check(node, only, path);
            } else {
                self.type_error(node, schema, path);
            }
            return;
        }
        if let Some(c) = schema.get("const") {
            if !scalar_equals(&node.value, c) {
                self.type_error(node, schema, path);
            }
            return;
        }
        if !kind_matches(node, schema) {
            self.type_error(node, schema, path);
            return;
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            if !values.iter().any(|v| scalar_equals(&node.value, v)) {
                self.type_error(node, schema, path);
            }
            return;
        }
        match &node.value {
            Node::Int(n) => {
                let min = schema.get("minimum").and_then(Value::as_i64).map(i128::from);
                let max = schema.get("maximum").and_then(Value::as_i64).map(i128::from);
                if min.is_some_and(|m| *n < m) || max.is_some_and(|m| *n > m) {
                    self.type_error(node, schema, path);
                }
            }
            Node::Map(entries) => self.check_map(node, entries, schema, path),
            Node::Seq(items) => {
                if let Some(item_schema) = schema.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        self.check(item, item_schema, &format!("{path}[{i}]"));
                    }
                }
            }
            _ => {}
        }
    }

    fn check_map(&mut self, node: &Spanned<Node>, entries: &[(Spanned<String>, Spanned<Node>)], schema: &'s Value, path: &str) {
        static EMPTY: std::sync::OnceLock<serde_json::Map<String, Value>> = std::sync::OnceLock::new();
        let properties = schema.get("properties").and_then(Value::as_object).unwrap_or_else(|| EMPTY.get_or_init(serde_json::Map::new));
        let additional = schema.get("additionalProperties");
        for (key, value) in entries {
            let child = join(path, &key.value);
            match properties.get(&key.value) {
                Some(s) => self.check(value, s, &child),
                None => match additional {
                    Some(Value::Bool(false)) if self.saturated() => self.push(at(key), String::new(), String::new()),
                    Some(Value::Bool(false)) => {
                        let keys: Vec<&str> = properties.keys().map(String::as_str).collect();
                        let suggestion = closest(&key.value, &keys).map(|k| format!("did you mean `{k}`? ")).unwrap_or_default();
                        let place = if path.is_empty() { "at the top level".to_string() } else { format!("in `{path}`") };
                        self.push(
                            at(key),
                            format!("unknown key {} {place}", quote(&key.value)),
                            format!("{suggestion}The keys {place} are: {}", keys.join(", ")),
                        );
                    }
                    Some(s @ Value::Object(_)) => self.check(value, s, &child),
                    _ => {}
                },
            }
        }
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for r in required.iter().filter_map(Value::as_str) {
                if !entries.iter().any(|(k, _)| k.value == r) {
                    let place = if path.is_empty() { "the spec".to_string() } else { format!("`{path}`") };
                    let what = properties.get(r).and_then(|p| p.get("description")).and_then(Value::as_str).unwrap_or("");
                    self.push(at(node), format!("{place} is missing the required key `{r}`"), format!("add `{r}:`. {what}"));
                }
            }
        }
    }

    fn type_error(&mut self, node: &Spanned<Node>, schema: &'s Value, path: &str) {
        let expected = self.describe(schema);
        let name = if path.is_empty() { "the spec".to_string() } else { format!("`{path}`") };
        let found = describe_node(&node.value);
        let key = last_segment(path);
        let help = match &node.value {
            _ if path.is_empty() => "a spec is a mapping of keys; start from `coder-gen init` or examples/".to_string(),
            Node::Str(s) if self.wants(schema, "integer") && looks_like_grouped_number(s) => {
                let digits: String = s.chars().filter(char::is_ascii_digit).collect();
                format!("write the number without separators, e.g. `{key}: {digits}`")
            }
            Node::Str(s) if self.wants(schema, "boolean") && is_yaml11_bool(s) => {
                format!("YAML 1.1 words like `{s}` are not booleans here: write `true` or `false`")
            }
            Node::Str(s) if !self.enum_values(schema).is_empty() => {
                let values = self.enum_values(schema);
                match closest(s, &values) {
                    Some(v) => format!("did you mean `{v}`?"),
                    None => format!("write {expected}"),
                }
            }
            // An empty value is never the default (a required key has none).
            Node::Null => format!("give `{key}` a value; to get an optional key's default, remove the key"),
            _ => format!("give `{key}` {expected} (see `coder-gen schema` or README, 'The spec')"),
        };
        self.push(at(node), format!("{name} is {found}; expected {expected}"), help);
    }

    /// Whether `schema` (or one of its branches) accepts type `t`.
    fn wants(&self, schema: &'s Value, t: &str) -> bool {
        let schema = self.resolve(schema);
        types(schema).contains(&t)
            || ["anyOf", "allOf"]
                .iter()
                .any(|k| schema.get(*k).and_then(Value::as_array).is_some_and(|l| l.iter().any(|s| self.wants(s, t))))
    }

    fn enum_values(&self, schema: &'s Value) -> Vec<&'s str> {
        let schema = self.resolve(schema);
        let mut out: Vec<&str> = schema.get("enum").and_then(Value::as_array).into_iter().flatten().filter_map(Value::as_str).collect();
        if let Some(c) = schema.get("const").and_then(Value::as_str) {
            out.push(c);
        }
        for key in ["anyOf", "allOf"] {
            for s in schema.get(key).and_then(Value::as_array).into_iter().flatten() {
                out.extend(self.enum_values(s));
            }
        }
        out
    }

    /// "a whole number from 1 to 3000", "`auto`, `true` or `false`", ...
    fn describe(&self, schema: &'s Value) -> String {
        let mut parts = Vec::new();
        self.describe_into(schema, &mut parts);
        parts.dedup();
        match parts.as_slice() {
            [] => "a value".to_string(),
            [one] => one.clone(),
            [init @ .., last] => format!("{} or {last}", init.join(", ")),
        }
    }

    fn describe_into(&self, schema: &'s Value, parts: &mut Vec<String>) {
        let schema = self.resolve(schema);
        for key in ["allOf", "anyOf"] {
            if let Some(list) = schema.get(key).and_then(Value::as_array) {
                for s in list {
                    self.describe_into(s, parts);
                }
                return;
            }
        }
        let show = |v: &Value| format!("`{}`", v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()));
        if let Some(c) = schema.get("const") {
            parts.push(show(c));
            return;
        }
        if let Some(values) = schema.get("enum").and_then(Value::as_array) {
            let names: Vec<String> = values.iter().map(show).collect();
            parts.push(format!("one of {}", names.join(", ")));
            return;
        }
        for t in types(schema) {
            let phrase = match t {
                "integer" => {
                    let min = schema.get("minimum").and_then(Value::as_i64);
                    let max = schema.get("maximum").and_then(Value::as_i64);
                    match (min, max) {
                        (Some(a), Some(b)) => format!("a whole number from {a} to {b}"),
                        (Some(0), None) => "a whole number (0 or more)".to_string(),
                        (Some(a), None) => format!("a whole number of at least {a}"),
                        _ => "a whole number".to_string(),
                    }
                }
                // The two booleans, spelled as they must be written.
                "boolean" => {
                    parts.push("`true`".to_string());
                    "`false`".to_string()
                }
                "string" => "a string".to_string(),
                "object" => "a mapping of keys".to_string(),
                "array" => "a list".to_string(),
                // `null` is how the schema says "optional"; never the advice.
                _ => continue,
            };
            parts.push(phrase);
        }
    }
}

fn types(schema: &Value) -> Vec<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// Whether the node's YAML kind is one the schema's `type` allows, with the
/// coercions the parser makes (any scalar reads as a string; a quoted number
/// as a number).
fn kind_matches(node: &Spanned<Node>, schema: &Value) -> bool {
    let ts = types(schema);
    if ts.is_empty() {
        return true;
    }
    ts.iter().any(|t| match (*t, &node.value) {
        ("null", Node::Null)
        | ("boolean", Node::Bool(_))
        | ("integer", Node::Int(_))
        | ("number", Node::Int(_) | Node::Float(_))
        | ("string", Node::Str(_) | Node::Int(_) | Node::Float(_) | Node::Bool(_))
        | ("object", Node::Map(_))
        | ("array", Node::Seq(_)) => true,
        ("integer", Node::Str(s)) => parse_int(s).is_some(),
        _ => false,
    })
}

fn scalar_equals(node: &Node, v: &Value) -> bool {
    match (node, v) {
        (Node::Str(s), Value::String(w)) => s == w,
        (Node::Bool(b), Value::Bool(w)) => b == w,
        (Node::Int(n), Value::Number(w)) => w.as_i64().is_some_and(|w| i128::from(w) == *n),
        (Node::Null, Value::Null) => true,
        _ => false,
    }
}

/// Integers as YAML writes them (`1800`, `1_800`, `0x10`); the parser reads a
/// quoted number the same way.
fn parse_int(s: &str) -> Option<i128> {
    let t = s.trim().replace('_', "");
    let (neg, t) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(&t)),
    };
    let n = if let Some(h) = t.strip_prefix("0x") {
        i128::from_str_radix(h, 16).ok()?
    } else if let Some(o) = t.strip_prefix("0o") {
        i128::from_str_radix(o, 8).ok()?
    } else if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
        t.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -n } else { n })
}

/// `1,800`, `1.800`, `1 800`, `1'800`: a number with thousands separators.
fn looks_like_grouped_number(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_digit())
        && s.chars().all(|c| c.is_ascii_digit() || matches!(c, ',' | '.' | ' ' | '\''))
        && s.chars().any(|c| !c.is_ascii_digit())
}

fn is_yaml11_bool(s: &str) -> bool {
    matches!(s.to_ascii_lowercase().as_str(), "yes" | "no" | "on" | "off" | "y" | "n")
}

fn describe_node(node: &Node) -> String {
    match node {
        Node::Null => "empty".to_string(),
        Node::Bool(b) => format!("`{b}`"),
        Node::Int(n) => format!("{n}"),
        // `{:?}` keeps the fraction: `500.0`, not `500`.
        Node::Float(f) => format!("`{f:?}`"),
        Node::Str(s) => quote(s),
        Node::Seq(_) => "a list".to_string(),
        Node::Map(_) => "a mapping".to_string(),
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() { key.to_string() } else { format!("{path}.{key}") }
}

fn last_segment(path: &str) -> &str {
    let last = path.rsplit('.').next().unwrap_or(path);
    last.split('[').next().unwrap_or(last)
}

/// The candidate within a third of the longer name's length in edits, if any.
pub(crate) fn closest<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let (best, d) = candidates.iter().map(|c| (*c, strsim::levenshtein(word, c))).min_by_key(|(c, d)| (*d, *c))?;
    (d <= (best.len().max(word.len()) / 3).max(1)).then_some(best)
}

/// Tabs in the indentation of a line: YAML forbids them, and the parser
/// reports some of them at the end of the line before. Located exactly here.
pub(crate) fn indentation_tabs(text: &str) -> Vec<Located> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let rest = line.trim_start_matches([' ', '\t']);
        if rest.is_empty() || rest.starts_with('#') {
            continue;
        }
        let indent = &line[..line.len() - rest.len()];
        if let Some(col) = indent.find('\t') {
            out.push(Located {
                line: i as u64 + 1,
                column: col as u64 + 1,
                message: "a tab in the indentation".to_string(),
                help: "indent with spaces: YAML does not allow tabs for indentation".to_string(),
            });
        }
    }
    out
}
