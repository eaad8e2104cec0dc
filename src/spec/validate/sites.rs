//! `sites:` and the `site:` of groups: every site judged at once, each
//! problem at the value that causes it. Defaults filled here: the site's
//! cluster name, its Kubernetes version (the primary's), a default group of
//! each kind, the `site` tag on its provisioner groups.

use std::collections::BTreeMap;

use serde_saphyr::Spanned;

use super::Validator;
use super::syntax::{dns1123_label_problem, is_k8s_minor};
use crate::cloud::Cloud;
use crate::diag::{Located, quote};
use crate::spec::raw::{AutoBool, RawCertificate};
use crate::spec::raw::{RawProxy, RawSite};
use crate::spec::site::{
    DEFAULT_PROXY_ICON, MAX_SITE_NAME, MAX_SITE_PREFIX, SITE_TAG, Site, SiteCloud, SiteMachineTypes, SiteProxy, default_proxy_url,
    default_proxy_wildcard,
};
use crate::spec::{
    At, CODER_NAMESPACE, CertificateSource, Challenge, DEFAULT_ISSUER, DEFAULT_PROVISIONER_NAMESPACE, DEFAULT_WORKSPACE_NAMESPACE,
    IssuerKind, Kubernetes, License, MAX_SITES, Network, ProvisionerGroup, WorkspaceGroup, ca_issuer_name,
};

/// What the sites are judged against: the primary's validated values.
pub(in crate::spec::validate) struct Primary<'a> {
    pub name: &'a str,
    pub users: u32,
    pub license: License,
    pub access_url: &'a str,
    pub wildcard_access_url: Option<&'a str>,
    pub cloud: Cloud,
    pub region: &'a str,
    pub kubernetes: &'a Kubernetes,
}

impl Validator<'_> {
    /// `tags.site` on a group: coder-gen's routing tag. A site group's
    /// value is its site; a primary group may not claim a site's jobs.
    pub(super) fn site_tag(&mut self, key: &str, value: &Spanned<String>, site: Option<&Spanned<String>>) {
        if key != SITE_TAG {
            return;
        }
        match site {
            Some(s) if s.value != value.value => self.err(
                value,
                format!("tag `site: {}` on a group of site {}", value.value, quote(&s.value)),
                "remove the tag: coder-gen tags every site group's key with `site: <its site>`",
            ),
            Some(_) => {}
            None => self.err(
                value,
                format!("tag `site: {}` on a primary group", value.value),
                "the `site` tag routes jobs to a site's provisioners; give the primary's groups other tags, or set `site:` on the group",
            ),
        }
    }

    /// The primary's default group takes a namespace a listed group has.
    pub(super) fn primary_default(&mut self, kind: &str, default: &str, seen: &BTreeMap<String, (u64, u64)>) {
        if let Some(&(line, column)) = seen.get(default) {
            self.errors.push(Located {
                line,
                column,
                message: format!("namespace {} is the primary's default {kind} group", quote(default)),
                help: format!(
                    "every {kind} group listed names a site, so the primary gets `{default}`: name this group otherwise, or list a {kind} group without `site`"
                ),
            });
        }
    }

    /// Every site, judged: name, cloud and region, users, cluster, proxy,
    /// machine types. `seen` holds every group namespace (a site's name may
    /// not be one); `site_refs` every group's `site:`.
    pub(super) fn sites(
        &mut self,
        raw: Option<Spanned<Vec<RawSite>>>,
        p: &Primary,
        seen: &BTreeMap<String, (u64, u64)>,
        site_refs: &[Spanned<String>],
    ) -> Vec<Site> {
        let Some(list) = raw else {
            for r in site_refs {
                self.err(
                    r,
                    format!("site {} is not in the spec's sites", quote(&r.value)),
                    "add it under `sites:`, or remove `site` for the primary",
                );
            }
            return Vec::new();
        };
        if list.value.is_empty() {
            self.err(&list, "sites is an empty list".into(), "remove the key, or list at least one site");
        }
        if p.license == License::Community {
            self.err(
                &list,
                "sites need a Coder Premium licence, but coder.license is community".into(),
                "workspace proxies and external provisioners are Premium features: set coder.license: premium (the default), or remove sites",
            );
        }
        let mut names: BTreeMap<String, (u64, u64)> = BTreeMap::new();
        let mut clusters: BTreeMap<(String, String, String), String> = BTreeMap::new();
        clusters.insert((p.cloud.as_str().to_string(), p.region.to_string(), p.kubernetes.cluster_name.clone()), "the primary".to_string());
        let mut urls: BTreeMap<String, String> = BTreeMap::from([(p.access_url.to_string(), "the primary's access_url".to_string())]);
        if let Some(w) = p.wildcard_access_url {
            urls.insert(w.to_string(), "the primary's wildcard_access_url".to_string());
        }
        let mut total = 0u64;
        let mut out = Vec::new();
        for (i, s) in list.value.into_iter().enumerate() {
            if i == MAX_SITES {
                self.err(
                    &s.name,
                    format!("sites lists more than {MAX_SITES} sites"),
                    &format!("list at most {MAX_SITES}: each is a cluster with its own proxy, provisioners and workspaces"),
                );
            }
            out.push(self.site(s, p, seen, &mut names, &mut clusters, &mut urls, &mut total));
        }
        for r in site_refs {
            if !names.contains_key(&r.value) {
                let known = names.keys().cloned().collect::<Vec<_>>().join(", ");
                self.err(
                    r,
                    format!("site {} is not in the spec's sites", quote(&r.value)),
                    &format!("use one of: {known}; or remove `site` for the primary"),
                );
            }
        }
        out
    }

    #[allow(clippy::too_many_arguments, clippy::too_many_lines)] // one key after another
    fn site(
        &mut self,
        s: RawSite,
        p: &Primary,
        seen: &BTreeMap<String, (u64, u64)>,
        names: &mut BTreeMap<String, (u64, u64)>,
        clusters: &mut BTreeMap<(String, String, String), String>,
        urls: &mut BTreeMap<String, String>,
        total: &mut u64,
    ) -> Site {
        let name = self
            .dns_label("sites[].name", &s.name, MAX_SITE_NAME, ": it names the site's cloud resources, namespaces and tags")
            .to_string();
        let prefix = format!("{}-{name}", p.name);
        if prefix.len() > MAX_SITE_PREFIX && name.len() <= MAX_SITE_NAME {
            self.err(
                &s.name,
                format!("`{prefix}` (name-site) is {} characters long; the most is {MAX_SITE_PREFIX}", prefix.len()),
                &format!("the site's node pools are named `{prefix}-<role>`, and GKE allows 40 characters: shorten the site's or the deployment's name"),
            );
        }
        if let Some((l, c)) = names.get(&name).copied() {
            self.err(
                &s.name,
                format!("site {} is already named at line {l}, column {c}", quote(&name)),
                "give every site a name of its own",
            );
        } else {
            names.insert(name.clone(), (s.name.defined.line(), s.name.defined.column()));
        }
        if let Some((l, c)) = seen.get(&name).copied() {
            self.err(
                &s.name,
                format!("site {} has the name of the namespace at line {l}, column {c}", quote(&name)),
                "name sites and namespaces differently: a site's name appears in its groups' namespaces, tags and paths",
            );
        } else if [CODER_NAMESPACE, DEFAULT_PROVISIONER_NAMESPACE, DEFAULT_WORKSPACE_NAMESPACE].contains(&name.as_str()) {
            self.err(
                &s.name,
                format!("site {} has the name of a namespace coder-gen uses", quote(&name)),
                "name sites and namespaces differently: a site's name appears in its groups' namespaces, tags and paths",
            );
        }

        // Cloud and region.
        let cloud = s.cloud.value;
        let region = match (cloud.cloud(), &s.region) {
            (Some(c), Some(r)) => {
                if r.value.trim().is_empty() || r.value.chars().any(|ch| !(ch.is_ascii_alphanumeric() || ch == '-' || ch == '_')) {
                    self.err(
                        r,
                        format!("region {} is not a region name", quote(&r.value)),
                        "use the cloud's region id, e.g. eu-west-1 (aws)",
                    );
                } else {
                    self.region(c, r);
                    // Only names that are otherwise valid: one message per problem.
                    let names_ok = prefix.len() <= MAX_SITE_PREFIX
                        && dns1123_label_problem(&name).is_none()
                        && dns1123_label_problem(p.name).is_none();
                    if c == Cloud::Aws && names_ok {
                        self.eks_node_group_prefix(&s.name, &prefix, &r.value, "the site's or the deployment's name");
                    }
                }
                Some(r.value.clone())
            }
            (Some(c), None) => {
                self.err(
                    &s.cloud,
                    format!("site {} is on {c} but has no region", quote(&name)),
                    "add `region:` with the cloud's region id, or set `cloud: onprem` for a cluster coder-gen does not provision",
                );
                None
            }
            (None, Some(r)) => {
                self.err(
                    r,
                    format!("site {} is on-prem, so it has no cloud region", quote(&name)),
                    "remove `region`, or set the site's cloud",
                );
                None
            }
            (None, None) => None,
        };

        // Users: part of the total; the primary keeps at least one.
        let users_n = s.users.value.0;
        let users = match u32::try_from(users_n) {
            Ok(u) if u >= 1 && users_n < u64::from(p.users) => u,
            _ => {
                self.err(
                    &s.users,
                    format!("site {} has {users_n} users; users (the total) is {}", quote(&name), p.users),
                    "give a site from 1 user up to fewer than the top-level users: the primary keeps the rest, at least one",
                );
                1
            }
        };
        let before = *total;
        *total += users_n;
        // Said once, at the site whose users cross the total.
        if users_n < u64::from(p.users) && before < u64::from(p.users) && *total >= u64::from(p.users) {
            self.err(
                &s.users,
                format!("the sites' users add up to {total} of the {} users: the primary keeps none", p.users),
                "users is every user; the sites take part of them and the primary keeps the rest (at least one, for templates pushed without tags): lower the sites' users or raise users",
            );
        }

        // The cluster: another one than the primary's and every other site's.
        let kubernetes = {
            let k = s.kubernetes.as_ref();
            let cluster_name = match k.and_then(|k| k.cluster_name.as_ref()) {
                Some(c) => self.dns_label("sites[].kubernetes.cluster_name", c, 63, "").to_string(),
                None => prefix.clone(),
            };
            let version = match k.and_then(|k| k.version.as_ref()) {
                Some(v) => {
                    if !is_k8s_minor(&v.value) {
                        self.err(
                            v,
                            format!("sites[].kubernetes.version {} is not a supported minor version", quote(&v.value)),
                            "quote a minor version from \"1.30\" to \"1.37\", e.g. version: \"1.33\"",
                        );
                    }
                    v.value.clone()
                }
                None => p.kubernetes.version.clone(),
            };
            Kubernetes { cluster_name, version }
        };
        let key = (cloud.as_str().to_string(), region.clone().unwrap_or_default(), kubernetes.cluster_name.clone());
        if let Some(other) = clusters.get(&key) {
            let at = s.kubernetes.as_ref().and_then(|k| k.cluster_name.as_ref()).unwrap_or(&s.name);
            self.err(
                at,
                format!("site {} is in the cluster of {other} ({} {})", quote(&name), cloud, kubernetes.cluster_name),
                "a site is a cluster of its own: name its cluster in `kubernetes.cluster_name`",
            );
        } else {
            clusters.insert(key, format!("site {name}"));
        }

        let proxy = self.proxy(s.proxy, &s.name, p, urls);
        let machine_types = match s.machine_types {
            None => SiteMachineTypes::default(),
            Some(m) => {
                if cloud == SiteCloud::Onprem {
                    for at in [&m.proxy, &m.provisioner, &m.workspace].into_iter().flatten() {
                        self.err(
                            at,
                            "machine_types on an on-prem site".into(),
                            "remove it: on-prem nodes are yours, and coder-gen sizes pods for the tier's node capacity (the site's README lists it)",
                        );
                    }
                }
                SiteMachineTypes {
                    proxy: m.proxy.map(At::from_spanned),
                    provisioner: m.provisioner.map(At::from_spanned),
                    workspace: m.workspace.map(At::from_spanned),
                }
            }
        };
        let cluster_cidrs = s.cluster_cidrs.map(|list| {
            for c in &list.value {
                if !super::network::is_cidr(&c.value) {
                    self.err(
                        c,
                        format!("sites[].cluster_cidrs entry {} is not a CIDR", quote(&c.value)),
                        "write an address range such as 10.20.0.0/16 or fd00::/8",
                    );
                }
            }
            At { line: list.defined.line(), column: list.defined.column(), value: list.value.into_iter().map(|c| c.value).collect() }
        });
        Site {
            name: At::from_spanned(s.name),
            cloud,
            region,
            users: At { value: users, line: s.users.defined.line(), column: s.users.defined.column() },
            kubernetes,
            proxy,
            machine_types,
            provisioners: Vec::new(),
            workspaces: Vec::new(),
            cluster_cidrs,
        }
    }

    fn proxy(&mut self, raw: Option<RawProxy>, name: &Spanned<String>, p: &Primary, urls: &mut BTreeMap<String, String>) -> SiteProxy {
        let site = name.value.as_str();
        let default_cert =
            CertificateSource::CertManager { issuer: DEFAULT_ISSUER.into(), kind: IssuerKind::ClusterIssuer, challenge: Challenge::Dns01 };
        let m = match raw {
            None => RawProxy::Short(AutoBool::Auto),
            Some(r) => r,
        };
        let m = match m {
            RawProxy::Short(enabled) => {
                if enabled != AutoBool::Set(false) {
                    self.proxy_url_free(&default_proxy_url(p.access_url, site), name, site, urls);
                    self.proxy_url_free(&default_proxy_wildcard(&default_proxy_url(p.access_url, site)), name, site, urls);
                }
                return SiteProxy {
                    enabled,
                    access_url: None,
                    wildcard_access_url: None,
                    display_name: None,
                    icon: None,
                    certificate: default_cert,
                    certificate_at: None,
                };
            }
            RawProxy::Full(m) => *m,
        };
        let access_url = m.access_url.as_ref().map(|u| self.https_url("sites[].proxy.access_url", u, false));
        let wildcard_access_url = m.wildcard_access_url.as_ref().map(|u| self.https_url("sites[].proxy.wildcard_access_url", u, true));
        let effective = access_url.clone().unwrap_or_else(|| default_proxy_url(p.access_url, site));
        self.proxy_url_free(&effective, m.access_url.as_ref().unwrap_or(name), site, urls);
        let wildcard = wildcard_access_url.clone().unwrap_or_else(|| default_proxy_wildcard(&effective));
        self.proxy_url_free(&wildcard, m.wildcard_access_url.as_ref().or(m.access_url.as_ref()).unwrap_or(name), site, urls);
        let display_name = m.display_name.as_ref().map(|d| {
            let ok = !d.value.trim().is_empty()
                && d.value.chars().count() <= 64
                && d.value.chars().all(|c| c.is_ascii_alphanumeric() || " -_.()".contains(c));
            if !ok {
                self.err(
                    d,
                    format!("sites[].proxy.display_name {} is not a display name", quote(&d.value)),
                    "use 1 to 64 letters, digits, spaces and - _ . ( ): it is passed to `coder wsproxy create --display-name`",
                );
            }
            d.value.clone()
        });
        let icon = m.icon.as_ref().map(|i| {
            let ok = (i.value.starts_with('/') || i.value.starts_with("https://"))
                && i.value.len() <= 256
                && i.value.chars().all(|c| c.is_ascii_alphanumeric() || "/._:-".contains(c));
            if !ok {
                self.err(
                    i,
                    format!("sites[].proxy.icon {} is not an icon path", quote(&i.value)),
                    &format!("use a path Coder serves, such as {DEFAULT_PROXY_ICON}, or an https URL (letters, digits, / . _ : -)"),
                );
            }
            i.value.clone()
        });
        let (certificate, certificate_at) = match m.certificate {
            None => (default_cert, None),
            Some(c) => {
                let at = certificate_at(&c);
                (self.proxy_certificate(c), at)
            }
        };
        SiteProxy { enabled: AutoBool::Set(true), access_url, wildcard_access_url, display_name, icon, certificate, certificate_at }
    }

    /// A proxy URL must differ from the primary's and every other proxy's;
    /// a derived one is reported at what it is derived from.
    fn proxy_url_free(&mut self, url: &str, at: &Spanned<String>, site: &str, urls: &mut BTreeMap<String, String>) {
        let owner = format!("site {site}'s proxy");
        match urls.get(url) {
            Some(other) if *other != owner => {
                self.err(
                    at,
                    format!("the proxy URL {} is already {other}", quote(url)),
                    "every proxy has its own URL and wildcard (each is a region users pick): give this one its own host in proxy.access_url",
                );
            }
            _ => {
                urls.insert(url.to_string(), owner);
            }
        }
    }

    /// The proxy's certificate: cert-manager (DNS-01: the proxy serves TLS
    /// itself and always has a wildcard) or the user's secrets.
    fn proxy_certificate(&mut self, c: RawCertificate) -> CertificateSource {
        match (c.cert_manager, c.secret) {
            (Some(cm), None) => {
                if let Some(w) = &c.wildcard_secret {
                    self.err(
                        w,
                        "proxy.certificate.wildcard_secret needs proxy.certificate.secret".into(),
                        "name both secrets, or use cert_manager alone",
                    );
                }
                if let Some(ch) = cm.challenge.as_ref().filter(|c| c.value == Challenge::Http01) {
                    self.err(
                        ch,
                        "a proxy's wildcard certificate cannot be obtained with an HTTP-01 challenge".into(),
                        "use an issuer that solves DNS-01 (challenge: dns01), a CA issuer (challenge: none), or name existing secrets",
                    );
                }
                let issuer = self.dns_label("proxy.certificate.cert_manager.issuer", &cm.issuer, 63, "").to_string();
                // DNS-01, or no challenge at all (a CA issuer signs the
                // wildcard by itself).
                let challenge = match cm.challenge.map(|c| c.value) {
                    Some(Challenge::None) => Challenge::None,
                    _ => Challenge::Dns01,
                };
                CertificateSource::CertManager { issuer, kind: cm.issuer_kind.map(|k| k.value).unwrap_or_default(), challenge }
            }
            (None, Some(secret)) => {
                let name = self.dns_label("proxy.certificate.secret", &secret, 63, "").to_string();
                let wildcard_secret = match &c.wildcard_secret {
                    Some(w) => Some(self.dns_label("proxy.certificate.wildcard_secret", w, 63, "").to_string()),
                    None => {
                        self.err(
                            &secret,
                            "a proxy always has a wildcard URL, but no certificate for it is named".into(),
                            "add wildcard_secret: the secret whose certificate covers the proxy's wildcard host (the same secret if it covers both)",
                        );
                        None
                    }
                };
                CertificateSource::Secrets { secret: name, wildcard_secret }
            }
            (Some(_), Some(secret)) => {
                self.err(&secret, "proxy.certificate names both cert_manager and secret".into(), "choose one way to get the certificate");
                CertificateSource::Secrets { secret: secret.value, wildcard_secret: None }
            }
            (None, None) => {
                if let Some(w) = &c.wildcard_secret {
                    self.err(w, "proxy.certificate.wildcard_secret needs proxy.certificate.secret".into(), "name both secrets");
                }
                CertificateSource::CertManager {
                    issuer: DEFAULT_ISSUER.into(),
                    kind: IssuerKind::ClusterIssuer,
                    challenge: Challenge::Dns01,
                }
            }
        }
    }

    /// The sites judged against `network:`, once it is validated: a proxy
    /// whose certificate the spec leaves to the default takes the tree's CA
    /// ClusterIssuer when `network.ca.issuer_secret` is set; an air-gapped
    /// spec refuses a proxy certificate from an ACME issuer (it needs the
    /// internet); `cluster_cidrs` only feeds `network.proxy`'s NO_PROXY.
    pub(super) fn sites_in_network(&mut self, sites: &mut [Site], network: &Network, air_gapped_at: Option<(u64, u64)>, p: &Primary) {
        let ca_issuer = network.ca.as_ref().filter(|c| c.issuer_secret.is_some()).map(|_| ca_issuer_name(p.name));
        for site in sites.iter_mut() {
            let name = site.name.value.clone();
            if let (Some(issuer), None) = (&ca_issuer, site.proxy.certificate_at) {
                site.proxy.certificate =
                    CertificateSource::CertManager { issuer: issuer.clone(), kind: IssuerKind::ClusterIssuer, challenge: Challenge::None };
            }
            if let Some(c) = site.cluster_cidrs.as_ref().filter(|_| network.proxy.is_none()) {
                self.errors.push(Located {
                    line: c.line,
                    column: c.column,
                    message: format!("site {} sets cluster_cidrs, but there is no network.proxy", quote(&name)),
                    help: "remove it: the site's CIDRs only keep its in-cluster traffic off network.proxy (NO_PROXY)".into(),
                });
            }
            if air_gapped_at.is_some()
                && site.proxy_on(p.cloud, p.region)
                && let CertificateSource::CertManager { issuer, challenge: Challenge::Dns01, .. } = &site.proxy.certificate
            {
                let (line, column) = site.proxy.certificate_at.unwrap_or((site.name.line, site.name.column));
                self.errors.push(Located {
                    line,
                    column,
                    message: format!(
                        "network.air_gapped is true but site {}'s proxy certificate comes from ACME issuer {} (DNS-01), which needs the internet",
                        quote(&name),
                        quote(issuer)
                    ),
                    help: "set network.ca.issuer_secret (every proxy then uses the tree's CA ClusterIssuer), give sites[].proxy.certificate.cert_manager your own CA issuer with challenge: none, or name existing secrets".into(),
                });
            }
        }
    }

    /// Each site gets the groups that name it, or a default one of each
    /// kind; its provisioner groups' keys carry `site: <name>`.
    pub(super) fn site_groups(
        &mut self,
        mut sites: Vec<Site>,
        provisioners: Vec<(Option<String>, ProvisionerGroup)>,
        workspaces: Vec<(Option<String>, WorkspaceGroup)>,
        seen: &mut BTreeMap<String, (u64, u64)>,
    ) -> Vec<Site> {
        let mut done: Vec<String> = Vec::new();
        for site in &mut sites {
            let name = site.name.value.clone();
            // A duplicate name is reported as such; its groups are the first's.
            if done.contains(&name) {
                continue;
            }
            done.push(name.clone());
            site.provisioners = provisioners.iter().filter(|(s, _)| s.as_deref() == Some(&name)).map(|(_, g)| g.clone()).collect();
            site.workspaces = workspaces.iter().filter(|(s, _)| s.as_deref() == Some(&name)).map(|(_, g)| g.clone()).collect();
            if site.provisioners.is_empty() {
                let ns = format!("{DEFAULT_PROVISIONER_NAMESPACE}-{name}");
                self.site_default(&site.name, &ns, seen);
                site.provisioners.push(ProvisionerGroup { namespace: ns, tags: BTreeMap::new(), workspaces: None, env: BTreeMap::new() });
            }
            if site.workspaces.is_empty() {
                let ns = format!("{DEFAULT_WORKSPACE_NAMESPACE}-{name}");
                self.site_default(&site.name, &ns, seen);
                site.workspaces.push(WorkspaceGroup { namespace: ns });
            }
            for g in &mut site.provisioners {
                g.tags.insert(SITE_TAG.to_string(), name.clone());
            }
            if site.workspaces.len() > site.users.value as usize {
                self.errors.push(Located {
                    line: site.users.line,
                    column: site.users.column,
                    message: format!(
                        "site {} has {} workspace namespaces for {} users, which leaves a namespace without users",
                        quote(&name),
                        site.workspaces.len(),
                        site.users.value
                    ),
                    help: "list at most as many workspace namespaces as the site has users".into(),
                });
            }
        }
        sites
    }

    /// A site's default group namespace is free (at the site's name).
    fn site_default(&mut self, site: &At<String>, ns: &str, seen: &mut BTreeMap<String, (u64, u64)>) {
        if dns1123_label_problem(ns).is_some() {
            // The site's name is reported as such already.
            return;
        }
        if let Some((l, c)) = seen.get(ns).copied() {
            self.errors.push(Located {
                line: site.line,
                column: site.column,
                message: format!(
                    "site {}'s default group namespace {} is already used at line {l}, column {c}",
                    quote(&site.value),
                    quote(ns)
                ),
                help: "list the site's groups yourself (`site:` on a provisioner and a workspace group), or rename the other group".into(),
            });
        } else {
            seen.insert(ns.to_string(), (site.line, site.column));
        }
    }

    /// In one location (`site`: `None` for the primary): every workspace
    /// namespace a provisioner group lists is one of that location's, and
    /// every workspace namespace is served by some group.
    pub(super) fn served(
        &mut self,
        site: Option<&str>,
        provisioners: &[ProvisionerGroup],
        workspaces: &[WorkspaceGroup],
        served: &[(Option<String>, Vec<Spanned<String>>)],
        any_sites: bool,
    ) {
        let here: Vec<&Spanned<String>> = served.iter().filter(|(s, _)| s.as_deref() == site).flat_map(|(_, w)| w).collect();
        let known = workspaces.iter().map(|g| g.namespace.as_str()).collect::<Vec<_>>().join(", ");
        // Without sites there is one place, and the message says no more.
        let (place, help) = match (site, any_sites) {
            (_, false) => (String::new(), format!("use one of the workspace namespaces: {known}")),
            (None, true) => {
                (" of the primary".into(), format!("a provisioner creates workspaces only in its own cluster; use one of: {known}"))
            }
            (Some(s), true) => {
                (format!(" of site {s}"), format!("a provisioner creates workspaces only in its own cluster; use one of: {known}"))
            }
        };
        for w in &here {
            if !workspaces.iter().any(|g| g.namespace == w.value) {
                self.err(
                    w,
                    format!("provisioners[].workspaces names {}, which is not a workspace namespace{place}", quote(&w.value)),
                    &help,
                );
            }
        }
        // Every workspace namespace is served by some group, or its builds
        // could never create a workspace there.
        if provisioners.iter().all(|p| p.workspaces.is_some()) {
            for g in workspaces {
                if !provisioners.iter().any(|p| p.workspaces.as_ref().is_some_and(|w| w.contains(&g.namespace)))
                    && let Some(at) = here.first()
                {
                    self.err(
                        at,
                        format!("workspace namespace {} is served by no provisioner group", quote(&g.namespace)),
                        "add it to some provisioners[].workspaces, or remove `workspaces` from a group to serve all",
                    );
                }
            }
        }
    }
}

/// Where a proxy's certificate source is written: the challenge, else the
/// issuer, else the secret.
fn certificate_at(c: &RawCertificate) -> Option<(u64, u64)> {
    let at = |s: &Spanned<String>| (s.defined.line(), s.defined.column());
    match (&c.cert_manager, &c.secret) {
        (Some(cm), _) => Some(cm.challenge.as_ref().map_or_else(|| at(&cm.issuer), |ch| (ch.defined.line(), ch.defined.column()))),
        (None, Some(s)) => Some(at(s)),
        (None, None) => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::spec::{AutoBool, Site, SiteCloud, Spec};
    use crate::test_support::spec_text;

    fn spec(extra: &str) -> Spec {
        Spec::parse("s.yaml", &format!("{}{extra}", spec_text(3000, "gcp"))).unwrap()
    }

    fn site<'a>(s: &'a Spec, name: &str) -> &'a Site {
        s.sites.iter().find(|x| x.name.value == name).unwrap()
    }

    #[test]
    fn defaults_fill_cluster_version_groups_and_the_site_tag() {
        let s = spec(
            "kubernetes:\n  version: \"1.32\"\nsites:\n  - name: eu\n    cloud: aws\n    region: eu-west-1\n    users: 800\n  - name: lab\n    cloud: onprem\n    users: 200\n",
        );
        let eu = site(&s, "eu");
        assert_eq!((eu.cloud, eu.region.as_deref(), eu.users.value), (SiteCloud::Aws, Some("eu-west-1"), 800));
        assert_eq!((eu.kubernetes.cluster_name.as_str(), eu.kubernetes.version.as_str()), ("acme-eu", "1.32"));
        assert_eq!(eu.provisioners.len(), 1);
        assert_eq!(eu.provisioners[0].namespace, "coder-provisioners-eu");
        assert_eq!(eu.provisioners[0].tags["site"], "eu");
        assert_eq!(eu.workspaces[0].namespace, "coder-workspaces-eu");
        assert_eq!(eu.proxy.enabled, AutoBool::Auto);
        assert_eq!(site(&s, "lab").region, None);
        // The primary keeps its own default groups.
        assert_eq!(s.provisioners.len(), 1);
        assert_eq!(s.provisioners[0].namespace, "coder-provisioners");
        assert!(s.provisioners[0].tags.is_empty());
    }

    #[test]
    fn groups_go_to_the_site_they_name_and_the_primary_keeps_a_default() {
        let s = spec(
            "sites:\n  - name: eu\n    cloud: aws\n    region: eu-west-1\n    users: 800\nprovisioners:\n  - namespace: prov-eu\n    site: eu\n    tags: { gpu: a100 }\nworkspaces:\n  - namespace: ws-eu\n    site: eu\n  - namespace: ws-main\n",
        );
        let eu = site(&s, "eu");
        assert_eq!(eu.provisioners[0].namespace, "prov-eu");
        assert_eq!(eu.provisioners[0].tags.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(), ["gpu=a100", "site=eu"]);
        assert_eq!(eu.workspaces.iter().map(|w| w.namespace.as_str()).collect::<Vec<_>>(), ["ws-eu"]);
        assert_eq!(s.provisioners.iter().map(|g| g.namespace.as_str()).collect::<Vec<_>>(), ["coder-provisioners"]);
        assert_eq!(s.workspaces.iter().map(|w| w.namespace.as_str()).collect::<Vec<_>>(), ["ws-main"]);
    }

    #[test]
    fn a_spec_without_sites_keeps_its_digest_shape() {
        // `sites` is left out of the canonical JSON when empty.
        let s = spec("");
        assert!(!serde_json::to_string(&s).unwrap().contains("\"sites\""));
    }

    #[test]
    fn a_site_tag_on_a_primary_group_is_refused() {
        let text = format!(
            "{}sites:\n  - name: eu\n    cloud: aws\n    region: eu-west-1\n    users: 800\nprovisioners:\n  - namespace: p\n    tags: {{ site: eu }}\n",
            spec_text(3000, "gcp")
        );
        let e = Spec::parse("s.yaml", &text).unwrap_err().to_string();
        assert!(e.contains("tag `site: eu` on a primary group"), "{e}");
    }
}
