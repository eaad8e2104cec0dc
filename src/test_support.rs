//! The unit tests' shared fixture: one valid spec, as text, so every test
//! module starts from the same few lines and adds only the keys it is about.
//! It names nothing of the crate (a test drives the pipeline through `lib`).

/// The smallest valid spec: 1,800 users on AWS (us-east-1). Five lines, so
/// a key appended to it sits on line 6.
pub(crate) const MINIMAL: &str = "name: acme\nusers: 1800\ncloud: aws\nregion: us-east-1\naccess_url: https://coder.acme.com\n";

/// [`MINIMAL`] with `users` on `cloud` (`aws`, `gcp` or `azure`, in one of
/// its regions); append YAML for anything else.
pub(crate) fn spec_text(users: u32, cloud: &str) -> String {
    let region = match cloud {
        "aws" => "us-east-1",
        "gcp" => "us-east1",
        "azure" => "eastus",
        other => panic!("no cloud {other}"),
    };
    format!("name: acme\nusers: {users}\ncloud: {cloud}\nregion: {region}\naccess_url: https://coder.acme.com\n")
}

#[test]
fn the_fixture_is_valid_everywhere() {
    assert_eq!(spec_text(1800, "aws"), MINIMAL);
    for cloud in ["aws", "gcp", "azure"] {
        crate::plan_from_str("spec.yaml", &spec_text(500, cloud)).unwrap();
    }
}
