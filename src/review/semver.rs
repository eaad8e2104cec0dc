//! Chart versions in Semantic Versioning 2.0.0 order (semver.org, §11):
//! numeric MAJOR.MINOR.PATCH, a pre-release ranks below its release,
//! pre-release identifiers compare numerically when both are numbers, else
//! as ASCII, a shorter list of equal identifiers ranks lower; build metadata
//! (`+…`) is ignored. The spec accepts only `X.Y.Z`; the recorded plan is
//! read from disk, so anything else is parsed, not trusted.

use std::cmp::Ordering;

/// A parsed version; `None` from [`parse`] for anything that is not one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    core: [u64; 3],
    pre: Vec<String>,
}

pub fn parse(s: &str) -> Option<Version> {
    let s = s.strip_prefix('v').unwrap_or(s);
    let s = s.split_once('+').map_or(s, |(v, _)| v);
    let (core, pre) = match s.split_once('-') {
        Some((c, p)) => (c, Some(p)),
        None => (s, None),
    };
    let mut parts = core.split('.');
    let mut n = [0u64; 3];
    for slot in &mut n {
        let p = parts.next()?;
        // No leading zeros, digits only, at most 18 digits (fits u64).
        if p.is_empty() || p.len() > 18 || !p.bytes().all(|b| b.is_ascii_digit()) || (p.len() > 1 && p.starts_with('0')) {
            return None;
        }
        *slot = p.parse().ok()?;
    }
    if parts.next().is_some() {
        return None;
    }
    let pre = match pre {
        None => Vec::new(),
        Some(p) => {
            let ids: Vec<String> = p.split('.').map(str::to_string).collect();
            if ids.iter().any(|i| i.is_empty() || !i.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')) {
                return None;
            }
            ids
        }
    };
    Some(Version { core: n, pre })
}

fn compare_id(a: &str, b: &str) -> Ordering {
    let num = |s: &str| if s.bytes().all(|c| c.is_ascii_digit()) { s.parse::<u64>().ok() } else { None };
    match (num(a), num(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        // Numeric identifiers rank below alphanumeric ones.
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => a.cmp(b),
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        self.core.cmp(&other.core).then_with(|| match (self.pre.is_empty(), other.pre.is_empty()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            (false, false) => {
                for (a, b) in self.pre.iter().zip(&other.pre) {
                    let o = compare_id(a, b);
                    if o != Ordering::Equal {
                        return o;
                    }
                }
                self.pre.len().cmp(&other.pre.len())
            }
        })
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lt(a: &str, b: &str) -> bool {
        parse(a).unwrap() < parse(b).unwrap()
    }

    #[test]
    fn orders_as_semver_does() {
        // semver.org §11's example chain, and numeric (not text) order.
        let chain =
            ["1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0"];
        for w in chain.windows(2) {
            assert!(lt(w[0], w[1]), "{} < {}", w[0], w[1]);
        }
        assert!(lt("2.9.0", "2.10.0") && lt("2.33.6", "2.34.0") && lt("2.33.6", "2.33.11") && lt("1.99.99", "2.0.0"));
        assert_eq!(parse("2.33.6+build.1"), parse("2.33.6"));
        assert_eq!(parse("v2.33.6"), parse("2.33.6"));
    }

    #[test]
    fn refuses_what_is_not_a_version() {
        for bad in
            ["", "2", "2.33", "2.33.6.1", "02.33.6", "2.33.x", "2.33.6-", "2.33.6-a..b", "-1.0.0", "99999999999999999999.0.0", "2.33.6-ä"]
        {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }
}
