//! What a well-formed value looks like: DNS-1123 names, https URLs, paths
//! inside a repository, Kubernetes and chart versions, label keys and tags.

/// Whether `v` is `https://<host>[:port]` (with `wildcard`, `https://*.<host>`).
pub(super) fn https_host_ok(v: &str, wildcard: bool) -> bool {
    match v.strip_prefix("https://") {
        Some(h) if !h.is_empty() && !h.contains(['/', '?', '#', ' ', '@']) => {
            let h = h.split(':').next().unwrap_or("");
            let h = if wildcard { h.strip_prefix("*.").unwrap_or("") } else { h };
            !h.is_empty()
                && h.split('.').all(|l| dns1123_label_problem(&l.to_ascii_lowercase()).is_none() || l.chars().all(|c| c.is_ascii_digit()))
        }
        _ => false,
    }
}

/// `path` as `a/b` (no leading `./`, no trailing `/`, empty for the root),
/// or `None` if it leaves the repository or has characters the controllers'
/// path fields would need quoted.
pub(super) fn normalize_repo_path(path: &str) -> Option<String> {
    if path.len() > 1024 || path.starts_with('/') {
        return None;
    }
    let mut parts = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." => return None,
            s if s.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-')) => parts.push(s),
            _ => return None,
        }
    }
    Some(parts.join("/"))
}

/// Why `s` is not an RFC 1123 subdomain (a Secret's name), or `None`.
pub(super) fn dns1123_subdomain_problem(s: &str) -> Option<&'static str> {
    if s.len() > 253 {
        return Some("it is longer than 253 characters");
    }
    s.split('.').find_map(dns1123_label_problem)
}

/// Why `s` is not an RFC 1123 label, or `None` if it is one.
pub(super) fn dns1123_label_problem(s: &str) -> Option<&'static str> {
    if s.is_empty() {
        return Some("it is empty");
    }
    if s.len() > 63 {
        return Some("it is longer than 63 characters");
    }
    if !s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        return Some("only lower-case letters, digits and '-' are allowed");
    }
    if !s.as_bytes()[0].is_ascii_lowercase() {
        return Some("it must start with a letter");
    }
    if s.ends_with('-') {
        return Some("it must end with a letter or digit");
    }
    None
}

pub(super) fn is_k8s_minor(s: &str) -> bool {
    match s.split_once('.') {
        Some(("1", minor)) => minor.parse::<u32>().is_ok_and(|m| (30..=37).contains(&m)) && !minor.starts_with('0'),
        _ => false,
    }
}

pub(super) fn is_semver(s: &str) -> bool {
    let parts: Vec<&str> = s.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| !p.is_empty() && p.len() <= 6 && p.bytes().all(|b| b.is_ascii_digit()))
}

/// A Kubernetes label key: optional DNS prefix and `/`, then a name.
pub(super) fn is_label_key(k: &str) -> bool {
    let (prefix, name) = match k.rsplit_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, k),
    };
    prefix.is_none_or(|p| !p.is_empty() && p.len() <= 253 && p.split('.').all(|l| dns1123_label_problem(l).is_none()))
        && is_tag_part(name)
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric())
}

pub(super) fn is_tag_part(s: &str) -> bool {
    !s.is_empty() && s.len() <= 63 && s.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_rules() {
        assert!(is_label_key("release") && is_label_key("example.com/team") && !is_label_key("a b") && !is_label_key("/x"));
        assert!(dns1123_label_problem("coder-ws-1").is_none());
        assert!(dns1123_label_problem("1abc").is_some());
        assert!(dns1123_label_problem("abc-").is_some());
        assert!(dns1123_label_problem(&"a".repeat(64)).is_some());
        assert!(is_k8s_minor("1.33") && !is_k8s_minor("1.3") && !is_k8s_minor("2.0") && !is_k8s_minor("1.033"));
        assert!(is_semver("2.33.6") && !is_semver("2.33") && !is_semver("v2.33.6"));
    }
}
