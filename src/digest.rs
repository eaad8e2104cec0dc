//! Content digests for the manifest and the spec.

use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::spec::{At, Spec};

/// Lower-case hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let hash = Sha256::digest(bytes);
    let mut out = String::with_capacity(64);
    for b in hash {
        out.push(char::from(b"0123456789abcdef"[usize::from(b >> 4)]));
        out.push(char::from(b"0123456789abcdef"[usize::from(b & 0xf)]));
    }
    out
}

/// The spec's digest for the manifest: sha256 of the validated Spec's
/// canonical form (compact JSON, defaults filled in, without the file name
/// and without where each value was written). Comments, key order, quoting,
/// blank lines and moving a key do not change it; changing a value does.
pub fn spec_digest(spec: &Spec) -> String {
    let canonical = serde_json::to_vec(spec).expect("the validated spec always serializes to JSON");
    sha256_hex(&canonical)
}

/// Only the value: where it was written is not part of the spec's meaning.
impl<T: Serialize> Serialize for At<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_vector() {
        assert_eq!(super::sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn spec_digest_ignores_formatting_but_not_values() {
        let d = |text: &str| crate::spec_from_str("spec.yaml", text).unwrap().digest;
        let base = "name: acme\nusers: 1800\ncloud: aws\nregion: us-east-1\naccess_url: https://coder.acme.com\n";
        let reformatted = "# my deployment\ncloud: aws   # cloud\n\nname: \"acme\"\nusers: 1800\nregion: 'us-east-1'\naccess_url: https://coder.acme.com\n";
        assert_eq!(d(base), d(reformatted));
        assert_eq!(d(base).len(), 64);
        assert_ne!(d(base), d(&base.replace("1800", "1700")));
        // Spelling out a default is the same spec.
        assert_eq!(d(base), d(&format!("{base}tier: auto\n")));
        // The file name is not part of it.
        assert_eq!(d(base), crate::spec_from_str("other.yaml", base).unwrap().digest);
    }
}
