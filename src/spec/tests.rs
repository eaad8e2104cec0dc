use super::*;
use crate::diag::Located;
use crate::spec_from_str;
use crate::test_support::MINIMAL as MIN;

fn parse(s: &str) -> Result<Spec, SpecError> {
    Spec::parse("spec.yaml", s)
}

fn first_error(s: &str) -> Located {
    match parse(s) {
        Err(SpecError::Invalid { errors, .. }) => errors[0].clone(),
        Err(SpecError::Yaml { error, .. }) => error,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn minimal_spec_gets_defaults() {
    let s = parse(MIN).unwrap();
    assert_eq!(s.users.value, 1800);
    assert_eq!(s.kubernetes.cluster_name, "acme");
    assert_eq!(s.kubernetes.version, "1.33");
    assert_eq!(s.coder.chart_version, DEFAULT_CHART_VERSION);
    assert_eq!(s.provisioners[0].namespace, "coder-provisioners");
    assert_eq!(s.workspaces[0].namespace, "coder-workspaces");
    assert_eq!(s.tier.value, TierChoice::Auto);
    // The digest is the caller's (`crate::spec_from_str`), of the parsed spec.
    assert!(s.digest.is_empty());
}

/// Every error of `s`, whole. (What the user sees of each message is in
/// the bad-spec catalogue, `tests/inputs/invalid/`.)
fn all_errors(s: &str) -> Vec<Located> {
    parse(s).expect_err("expected errors").errors().to_vec()
}

#[test]
fn unknown_top_level_key_is_rejected() {
    let e = first_error(&format!("{MIN}userz: 3\n"));
    assert_eq!(e.line, 6);
    assert!(e.message.contains("userz"));
}

#[test]
fn users_out_of_range_points_at_value() {
    let e = first_error(&MIN.replace("1800", "3001"));
    assert_eq!((e.line, e.column), (2, 8));
    assert!(e.help.contains("3,000"));
    let e = first_error(&MIN.replace("1800", "0"));
    assert!(e.message.contains("outside"));
}

#[test]
fn names_and_namespaces_are_dns_labels_and_distinct() {
    let e = first_error(&MIN.replace("acme", "Acme"));
    assert_eq!((e.line, e.column), (1, 7));
    let spec = format!("{MIN}provisioners:\n  - namespace: a\nworkspaces:\n  - namespace: a\n");
    let e = first_error(&spec);
    assert_eq!(e.line, 9);
    assert!(e.message.contains("already used at line 7"), "{}", e.message);
    let e = first_error(&format!("{MIN}workspaces:\n  - namespace: coder\n"));
    assert!(e.message.contains("coderd's own"));
    let many: String = (0..17).map(|i| format!("  - namespace: ws{i}\n")).collect();
    let e = first_error(&format!("{MIN}workspaces:\n{many}"));
    assert_eq!((e.line, e.column), (23, 16));
    assert!(e.message.contains("more than 16"), "{}", e.message);
    for reserved in ["default", "kube-system", "kube-public", "coder-observability"] {
        let e = first_error(&format!("{MIN}provisioners:\n  - namespace: {reserved}\n"));
        assert_eq!((e.line, e.column), (7, 16), "{reserved}");
        assert!(e.message.contains("not coder-gen's to manage"), "{reserved}: {}", e.message);
    }
}

#[test]
fn access_url_must_be_https() {
    let e = first_error(&MIN.replace("https://coder.acme.com", "http://coder.acme.com"));
    assert_eq!(e.line, 5);
    assert!(first_error(&format!("{MIN}wildcard_access_url: https://coder.acme.com\n")).message.contains("wildcard"));
    assert!(parse(&format!("{MIN}wildcard_access_url: https://*.coder.acme.com\n")).is_ok());
    assert!(first_error(&MIN.replace("coder.acme.com", "coder.acme.com:8443")).message.contains("443"));
    assert!(parse(&MIN.replace("coder.acme.com", "coder.acme.com:443")).is_ok());
}

#[test]
fn entry_and_licence_defaults_and_located_errors() {
    let s = parse(MIN).unwrap();
    assert_eq!(s.entry.mode, EntryMode::CoderdTls);
    assert_eq!(s.coder.license, License::Premium);
    assert_eq!(s.coder.organization, None);
    assert!(matches!(s.entry.certificate, CertificateSource::CertManager { challenge: Challenge::Dns01, .. }));
    let w = format!("{MIN}wildcard_access_url: https://*.apps.acme.com\n");
    // A wildcard cannot come from HTTP-01 (line 9: the challenge value).
    let e = first_error(&format!(
        "{w}entry:\n  mode: ingress\n  ingress_class: nginx\n  controller_namespace: ingress-nginx\n  certificate:\n    cert_manager:\n      issuer: le\n      challenge: http01\n"
    ));
    assert_eq!((e.line, e.column), (14, 18), "{e:?}");
    assert!(e.message.contains("wildcard"), "{}", e.message);
    // Named secrets with a wildcard need the wildcard's secret.
    let e = first_error(&format!("{w}entry:\n  certificate:\n    secret: my-tls\n"));
    assert_eq!((e.line, e.column), (9, 13));
    assert!(e.help.contains("wildcard_secret"));
    // coderd-tls cannot answer HTTP-01.
    let e = first_error(&format!("{MIN}entry:\n  certificate:\n    cert_manager:\n      issuer: le\n      challenge: http01\n"));
    assert!(e.message.contains("coderd-tls"), "{}", e.message);
    // ingress needs a class and the controller's namespace.
    match parse(&format!("{MIN}entry:\n  mode: ingress\n")) {
        Err(SpecError::Invalid { errors, .. }) => assert_eq!(errors.len(), 2, "{errors:?}"),
        other => panic!("{other:?}"),
    }
    // gateway needs its class and namespace, and no HTTP-01.
    match parse(&format!("{MIN}entry:\n  mode: gateway\n  ingress_class: nginx\n")) {
        Err(SpecError::Invalid { errors, .. }) => assert_eq!(errors.len(), 3, "{errors:?}"),
        other => panic!("{other:?}"),
    }
    let e = first_error(&format!(
        "{MIN}entry:\n  mode: gateway\n  gateway_class: eg\n  controller_namespace: envoy-gateway-system\n  certificate:\n    cert_manager:\n      issuer: le\n      challenge: http01\n"
    ));
    assert!(e.message.contains("gateway"), "{}", e.message);
    let e = first_error(&format!("{MIN}entry:\n  ingress_class: nginx\n"));
    assert!(e.message.contains("only used with `mode: ingress`"));
    let e = first_error(&format!("{MIN}coder:\n  license: enterprise\n"));
    assert!(e.message.contains("enterprise"), "{}", e.message);
    let ok = parse(&format!("{w}coder:\n  license: community\nentry:\n  certificate:\n    secret: a\n    wildcard_secret: a\n")).unwrap();
    assert_eq!(ok.coder.license, License::Community);
}

#[test]
fn bad_cloud_and_yaml11_booleans_are_rejected() {
    assert!(first_error(&MIN.replace("aws", "ibm")).message.contains("ibm"));
    assert!(parse(&format!("{MIN}observability: yes\n")).is_err());
    assert_eq!(parse(&format!("{MIN}observability: true\n")).unwrap().observability.enabled, AutoBool::Set(true));
}

#[test]
fn observability_map_and_secrets() {
    let s = parse(&format!(
        "{MIN}observability:\n  enabled: true\n  chart_version: \"0.6.1\"\n  prometheus_operator:\n    enabled: true\n    selector_labels: {{ release: kps }}\n"
    ))
    .unwrap();
    assert_eq!(s.observability.enabled, AutoBool::Set(true));
    assert_eq!(s.observability.chart_version, "0.6.1");
    let op = s.observability.prometheus_operator.unwrap();
    assert_eq!((op.namespace.as_str(), op.selector_labels["release"].as_str()), ("coder-observability", "kps"));
    let e = first_error(&format!("{MIN}observability:\n  enable: true\n"));
    assert_eq!((e.line, e.column), (7, 3));
    assert!(e.message.contains("enable"), "{}", e.message);
    let e =
        first_error(&format!("{MIN}observability:\n  prometheus_operator:\n    enabled: true\n    selector_labels: {{ \"a b\": x }}\n"));
    assert!(e.message.contains("not a Kubernetes label"), "{}", e.message);
    assert_eq!(parse(MIN).unwrap().secrets.manager, SecretsManager::Kubectl);
    let e = first_error(&format!("{MIN}secrets:\n  manager: external-secrets\n"));
    assert!(e.message.contains("secrets.store"), "{}", e.message);
    let s = parse(&format!("{MIN}secrets:\n  manager: external-secrets\n  store: aws-sm\n")).unwrap();
    assert_eq!((s.secrets.store.as_deref(), s.secrets.store_kind), (Some("aws-sm"), StoreKind::ClusterSecretStore));
}

#[test]
fn every_error_is_reported_not_just_the_first() {
    match parse(&MIN.replace("acme", "ACME").replace("1800", "9000")) {
        Err(SpecError::Invalid { errors, .. }) => assert_eq!(errors.len(), 2),
        other => panic!("{other:?}"),
    }
}

#[test]
fn hostile_inputs_do_not_panic() {
    for input in ["", "---", "[]", "~", "name: [", "a: &a [*a]", "\u{0}", "users: 1e999", "name: !!binary aGk="] {
        let _ = parse(input);
    }
    let big = "x".repeat(MAX_SPEC_BYTES + 1);
    assert!(parse(&big).is_err());
}

#[test]
fn a_flood_of_shape_errors_is_summarised_and_aliases_are_bounded() {
    let wide: String = (0..2000).map(|i| format!("k{i}: {i}\n")).collect();
    let errors = all_errors(&wide);
    assert_eq!(errors.len(), 51, "50 shown, then a summary");
    // 2000 unknown keys and 5 missing required keys.
    assert_eq!(errors[50].message, "1955 more problems like these are not shown");
    // 10^8 nodes if expanded; the second pass gives up at once instead.
    let mut bomb = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
    for i in 1..9 {
        bomb.push_str(&format!("a{i}: &a{i} [{}]\n", vec![format!("*a{}", i - 1); 10].join(", ")));
    }
    let t = std::time::Instant::now();
    assert!(parse(&bomb).is_err());
    assert!(t.elapsed() < std::time::Duration::from_secs(5), "{:?}", t.elapsed());
}

#[test]
fn coder_env_values_and_secret_refs() {
    let s = parse(&format!(
        "{MIN}coder:\n  env:\n    CODER_OIDC_ISSUER_URL: https://login.acme.com\n    CODER_OIDC_CLIENT_SECRET: {{ secret: coder-oidc, key: client-secret }}\n"
    ))
    .unwrap();
    assert_eq!(s.coder.env["CODER_OIDC_ISSUER_URL"], EnvValue::Value("https://login.acme.com".into()));
    assert_eq!(s.coder.env["CODER_OIDC_CLIENT_SECRET"], EnvValue::SecretRef { secret: "coder-oidc".into(), key: "client-secret".into() });
    let e = first_error(&format!("{MIN}coder:\n  env:\n    CODER_PG_CONN_MAX_OPEN: \"50\"\n"));
    assert_eq!((e.line, e.column), (8, 29));
    assert!(e.help.contains("the plan"), "{}", e.help);
    let e = first_error(&format!("{MIN}coder:\n  env:\n    CODER_ACCESS_URL: https://x.acme.com\n"));
    assert!(e.help.contains("access_url"), "{}", e.help);
    assert!(first_error(&format!("{MIN}coder:\n  env:\n    1BAD: x\n")).message.contains("not an environment variable name"));
    let e = first_error(&format!("{MIN}coder:\n  env:\n    CODER_X: true\n"));
    assert!(e.message.contains("quote"), "{}", e.message);
    let e = first_error(&format!("{MIN}coder:\n  env:\n    CODER_X: {{ secret: Bad_Name, key: k }}\n"));
    assert!(e.message.contains("not a Secret name"), "{}", e.message);
    assert!(parse(&format!("{MIN}coder:\n  env:\n    CODER_X: {{ secret: s, key: k, value: v }}\n")).is_err());
}

#[test]
fn gitops_is_checked_and_normalised() {
    assert_eq!(parse(MIN).unwrap().gitops, None);
    assert_eq!(parse(&format!("{MIN}gitops:\n  controller: none\n")).unwrap().gitops, None);
    let g = parse(&format!("{MIN}gitops:\n  controller: flux\n  repo_url: https://git.acme.com/infra.git\n  path: ./clusters//prod/\n"))
        .unwrap()
        .gitops
        .unwrap();
    assert_eq!((g.controller, g.path.as_str(), g.branch.as_str()), (GitopsController::Flux, "clusters/prod", "main"));
    let e = first_error(&format!("{MIN}gitops:\n  controller: argocd\n"));
    assert_eq!((e.line, e.column), (7, 15));
    assert!(e.message.contains("repo_url"), "{}", e.message);
    let e = first_error(&format!("{MIN}gitops:\n  controller: flux\n  repo_url: git@github.com:acme/infra.git\n"));
    assert_eq!(e.line, 8);
    let e = first_error(&format!("{MIN}gitops:\n  controller: flux\n  repo_url: https://g/x.git\n  path: a/../../etc\n"));
    assert_eq!((e.line, e.column), (9, 9));
    let e = first_error(&format!("{MIN}gitops:\n  controller: flux\n  repo_url: https://g/x.git\n  branch: -x\n"));
    assert!(e.message.contains("branch"), "{}", e.message);
    let e = first_error(&format!("{MIN}gitops:\n  controller: argocd\n  repo_url: https://g/x.git\n  secret_name: git\n"));
    assert!(e.message.contains("Flux"), "{}", e.message);
    assert!(first_error(&format!("{MIN}gitops:\n  controller: jenkins\n")).message.contains("jenkins"));
}

#[test]
fn provisioner_workspace_mapping_is_checked() {
    let base = format!("{MIN}workspaces:\n  - namespace: ws-a\n  - namespace: ws-b\n");
    let ok = format!("{base}provisioners:\n  - namespace: p-a\n    workspaces: [ws-a]\n  - namespace: p-b\n    workspaces: [ws-b]\n");
    let s = parse(&ok).unwrap();
    assert_eq!(s.provisioners[0].workspaces, Some(vec!["ws-a".to_string()]));
    // Unknown namespace: located at the name, listing the choices.
    let bad = format!("{base}provisioners:\n  - namespace: p-a\n    workspaces: [ws-a, ws-c]\n");
    let Err(SpecError::Invalid { errors, .. }) = parse(&bad) else { panic!("expected errors") };
    let e = errors.iter().find(|e| e.message.contains("`ws-c`")).expect("unknown namespace reported");
    assert!(e.help.contains("ws-a, ws-b"), "{e:?}");
    assert_eq!((e.line, e.column), (11, 24));
    // A workspace namespace no group serves.
    let unserved = format!("{base}provisioners:\n  - namespace: p-a\n    workspaces: [ws-a]\n");
    assert!(first_error(&unserved).message.contains("`ws-b` is served by no provisioner group"));
    // Default: all.
    assert_eq!(parse(&base).unwrap().provisioners[0].workspaces, None);
}

#[test]
fn spec_digest_ignores_formatting_but_not_values() {
    let d = |text: &str| spec_from_str("spec.yaml", text).unwrap().digest;
    let base = MIN;
    let reformatted =
        "# my deployment\ncloud: aws   # cloud\n\nname: \"acme\"\nusers: 1800\nregion: 'us-east-1'\naccess_url: https://coder.acme.com\n";
    assert_eq!(d(base), d(reformatted));
    assert_eq!(d(base).len(), 64);
    assert_ne!(d(base), d(&base.replace("1800", "1700")));
    // Spelling out a default is the same spec.
    assert_eq!(d(base), d(&format!("{base}tier: auto\n")));
    // The file name is not part of it.
    assert_eq!(d(base), spec_from_str("other.yaml", base).unwrap().digest);
}
