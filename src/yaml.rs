//! YAML and JSON values of the user's files: the strict parse, the one
//! Kubernetes object of a file (`kind`, `metadata.name`), the operations of a
//! JSON 6902 patch, a dotted-path lookup and the Helm merge rule. Used where
//! the files are read (overrides), planned (plan) and copied into the tree
//! (render). The ground floor: it imports nothing of the crate; the caller
//! words a refusal (`diag` for the parser's own errors).

use serde_json::Value;

/// Why a user's file is not the YAML it should be.
#[derive(Debug)]
pub enum Refusal {
    /// Not YAML: the parser's error, for the caller to word and locate.
    Yaml(Box<serde_saphyr::Error>),
    /// YAML of the wrong shape; the words go on from the file's name
    /// ("ns.yaml: is not a …").
    Shape(&'static str),
}

/// `text` as a JSON value, parsed as strictly as the spec (YAML 1.1 words
/// like `yes` are strings, not booleans).
pub fn parse(text: &str) -> Result<Value, serde_saphyr::Error> {
    let options = serde_saphyr::options! { strict_booleans: true };
    serde_saphyr::from_str_with_options(text, options)
}

/// `(kind, name)` of the one Kubernetes object in `text`.
pub fn object_id(text: &str) -> Result<(String, String), Refusal> {
    let v = parse(text).map_err(|e| Refusal::Yaml(Box::new(e)))?;
    let s = |p: &str| get(&v, p).and_then(Value::as_str).map(str::to_string);
    match (s("apiVersion"), s("kind"), s("metadata.name")) {
        (Some(_), Some(kind), Some(name)) => Ok((kind, name)),
        _ => Err(Refusal::Shape("is not a Kubernetes object with apiVersion, kind and metadata.name")),
    }
}

/// The `(op, path)` of each JSON 6902 operation in `text`.
pub fn json_ops(text: &str) -> Result<Vec<(String, String)>, Refusal> {
    let v = parse(text).map_err(|e| Refusal::Yaml(Box::new(e)))?;
    let Value::Array(ops) = v else { return Err(Refusal::Shape("is not a list of JSON 6902 operations")) };
    if ops.is_empty() {
        return Err(Refusal::Shape("has no operations"));
    }
    ops.iter()
        .map(|op| {
            let s = |k: &str| op.get(k).and_then(Value::as_str).map(str::to_string);
            match (s("op"), s("path")) {
                (Some(o), Some(p)) if ["add", "remove", "replace", "move", "copy", "test"].contains(&o.as_str()) && p.starts_with('/') => {
                    Ok((o, p))
                }
                _ => Err(Refusal::Shape(
                    "has an operation without a valid `op` (add, remove, replace, move, copy, test) and a `path` starting with /",
                )),
            }
        })
        .collect()
}

/// `user` merged over `base`: maps merge recursively, anything else replaces.
pub fn merge(base: &mut Value, user: &Value) {
    match (base, user) {
        (Value::Object(b), Value::Object(u)) => {
            for (k, v) in u {
                match b.get_mut(k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, u) => *b = u.clone(),
    }
}

/// The value at the dotted `path` (`coder.env`) in `v`.
pub fn get<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, k| v.get(k))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn maps_merge_lists_and_scalars_replace() {
        let mut base = json!({"a": {"b": 1, "c": [1, 2]}, "d": "x"});
        super::merge(&mut base, &json!({"a": {"c": [3], "e": true}, "d": null}));
        assert_eq!(base, json!({"a": {"b": 1, "c": [3], "e": true}, "d": null}));
    }
}
