//! Database credentials: Coder logs in as a role of its own (never the
//! cloud's admin or master user), created once by a short-lived psql pod
//! that logs in as the admin with a password read at run time; a read-only
//! role for the Postgres exporters when observability is on; and where the
//! Kubernetes secrets come from (`kubectl` by hand, or External Secrets
//! Operator objects reading the cloud's secret manager).
//!
//! No password is decided here or written anywhere: the README's step
//! generates them in the operator's shell.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Ctx, Reasons, SecretRef, network::Network, observability::Observability, provisioners::Provisioners, security::Security};
use crate::cloud::Cloud;
use crate::spec::{CODER_NAMESPACE, SecretsManager, StoreKind};

#[derive(Debug, Clone, Serialize)]
pub struct Credentials {
    /// The database Terraform creates and Coder uses.
    pub database: String,
    /// Coder's own login role (owner of its tables, no admin rights).
    pub coder_role: String,
    pub sslmode: &'static str,
    /// How the setup pod logs in as the admin.
    pub admin: Admin,
    /// The short-lived pod that creates the roles.
    pub setup_pod: SetupPod,
    /// Read-only role for the Postgres exporters (`null` when observability
    /// is off).
    pub exporter: Option<ExporterRole>,
    /// `kubectl` or `external-secrets`.
    pub manager: &'static str,
    /// External Secrets Operator objects (`null` with `kubectl`).
    pub external_secrets: Option<ExternalSecrets>,
    pub reasons: Reasons,
}

#[derive(Debug, Clone, Serialize)]
pub struct Admin {
    /// The admin login name, where the tree fixes it (RDS's master user,
    /// which Terraform writes from here; Cloud SQL's `postgres`); `null`
    /// where it is read at run time (Azure's `administrator_login`).
    pub user: Option<String>,
    /// Where the user name and password come from:
    /// `aws-secrets-manager` (RDS's managed master secret, read at run
    /// time, never copied), `azure-key-vault` (Azure: the login from
    /// Terraform, the password from the Key Vault secret Terraform reads
    /// too), `prompt` (Cloud SQL: set with `gcloud sql users set-password
    /// --prompt-for-password`, typed in).
    pub source: &'static str,
    /// Terraform output giving the database host.
    pub host_output: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct SetupPod {
    pub name: String,
    pub namespace: String,
    pub image: String,
    /// The image's `postgres` user (Alpine images: uid 70), so the pod passes
    /// Pod Security `restricted` (non-root).
    pub run_as_user: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExporterRole {
    pub role: String,
    /// `CONNECTION LIMIT` of the role: postgres-exporter, sql-exporter and
    /// Grafana's datasource; counted in the database's max_connections.
    pub connection_limit: u32,
    /// Secret in the observability namespace holding `PGPASSWORD` (the
    /// chart's `global.postgres.mountSecret`).
    pub secret: SecretRef,
    pub namespace: String,
    /// How the database step grants `pg_monitor`: `required` (the grant
    /// must work, or the step changes nothing) or `if-allowed` (where no
    /// source says the cloud's admin may grant it on this PostgreSQL major:
    /// the step goes on without it and says what the exporters then miss).
    pub pg_monitor_grant: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExternalSecrets {
    pub store: String,
    pub store_kind: &'static str,
    pub refresh_interval: &'static str,
    /// One ExternalSecret per Kubernetes secret the tree needs.
    pub secrets: Vec<ExternalSecret>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExternalSecret {
    pub namespace: String,
    pub secret: SecretRef,
    /// Name of the secret in the cloud's secret manager (letters, digits and
    /// '-', valid on all three).
    pub remote_key: String,
    /// Keys the Secret gets from the plan besides the fetched one (a user
    /// name, which is not a secret), through the operator's template;
    /// empty: the Secret holds the fetched key alone.
    pub literals: BTreeMap<String, String>,
}

/// Extra connections the exporter role may open (see `ExporterRole`).
pub const EXPORTER_CONNECTIONS: u32 = 5;

/// The RDS master user (`aws_db_instance.username`). Every AWS tree has
/// created its database with it, and RDS cannot rename it (ForceNew).
const AWS_MASTER_USER: &str = "coder";

pub(crate) fn plan(
    ctx: &Ctx,
    url_secret: &SecretRef,
    observability: &Observability,
    provisioners: &[Provisioners],
    network: &Network,
    security: &Security,
) -> Credentials {
    let spec = ctx.spec;
    let mut r = Reasons::new();
    // Coder's role must never be the admin: the RDS master user is `coder`
    // (aws_db_instance.username, ForceNew: renaming it replaces the
    // database), so on AWS Coder's role is `coderd`.
    let coder_role = match ctx.cloud {
        Cloud::Aws => "coderd",
        Cloud::Gcp | Cloud::Azure => "coder",
    };
    r.insert(
        "coder_role",
        match ctx.cloud {
            Cloud::Aws => format!("Coder logs in as its own role, never the admin: the RDS master user is `{AWS_MASTER_USER}` (username is ForceNew: renaming it would replace the database), so Coder's role is `{coder_role}`; the master's rotating password must not sit in a static secret (coder-facts section 9)"),
            _ => "Coder logs in as its own role `coder`, never the admin: no cloud creates it, and the admin's password must not sit in a static secret (coder-facts section 9)".into(),
        },
    );
    r.insert("database", "the database Terraform creates".into());
    r.insert("sslmode", "every managed PostgreSQL here requires TLS (Terraform turns it on)".into());
    let admin = match ctx.cloud {
        Cloud::Aws => Admin { user: Some(AWS_MASTER_USER.into()), source: "aws-secrets-manager", host_output: "database_address".into() },
        Cloud::Azure => Admin { user: None, source: "azure-key-vault", host_output: "database_fqdn".into() },
        Cloud::Gcp => Admin { user: Some("postgres".into()), source: "prompt", host_output: "database_private_ip".into() },
    };
    r.insert(
        "admin",
        match ctx.cloud {
            Cloud::Aws => format!("the RDS master user `{AWS_MASTER_USER}` (Terraform's aws_db_instance.username; ForceNew, so never changed: a new name would replace the database); RDS keeps its rotating password in Secrets Manager (manage_master_user_password): read at run time, never copied"),
            Cloud::Azure => "the only password login is administrator_login (Terraform output, a variable Terraform refuses to set to Coder's role); its password lives in a Key Vault secret that Terraform reads as an ephemeral resource (never in the state) and the database step reads at run time, so no apply needs it typed".into(),
            Cloud::Gcp => "Cloud SQL's built-in `postgres` user (Terraform creates no user); the operator sets its password with --prompt-for-password and types it".into(),
        },
    );
    r.insert("setup_pod", "a psql pod in coderd's namespace reaches the database as coderd does (egress is not restricted); it passes Pod Security restricted and is deleted when done".into());
    // PostgreSQL 16 lets a CREATEROLE admin grant a role only with ADMIN
    // OPTION on it. RDS's rds_superuser and Azure's azure_pg_admin may grant
    // pg_monitor; no source says Cloud SQL's cloudsqlsuperuser may on 16+.
    let unverified = ctx.cloud == Cloud::Gcp && spec.database.postgres_version >= 16;
    let exporter = observability.stack.as_ref().map(|s| ExporterRole {
        role: "coder_observability".into(),
        connection_limit: EXPORTER_CONNECTIONS,
        secret: SecretRef { name: "coder-observability-db".into(), key: "PGPASSWORD".into() },
        namespace: s.namespace.clone(),
        pg_monitor_grant: if unverified { "if-allowed" } else { "required" },
    });
    if exporter.is_some() {
        r.insert(
            "pg_monitor_grant",
            match (ctx.cloud, unverified) {
                (_, false) if spec.database.postgres_version < 16 => "required: before PostgreSQL 16 a CREATEROLE admin may grant pg_monitor; a refusal stops the step before anything is kept".into(),
                (Cloud::Aws, _) => "required: on PostgreSQL 16+ granting pg_monitor needs ADMIN OPTION, and RDS lets an rds_superuser member grant it (erikdarlingdata/PerformanceMonitor PR #3184, gravitational/teleport PR #48897); a refusal stops the step before anything is kept".into(),
                (Cloud::Azure, _) => "required: on PostgreSQL 16+ granting pg_monitor needs ADMIN OPTION, which Azure's azure_pg_admin has since its 'Improved control for azure_pg_admin' change (Microsoft Learn, security-access-control; DataDog/documentation PR #39602); a refusal stops the step before anything is kept".into(),
                _ => format!("if allowed: on PostgreSQL {} granting pg_monitor needs ADMIN OPTION, and no source we hold says Cloud SQL's cloudsqlsuperuser has it; the step tries, and if Cloud SQL refuses it goes on without (Coder's role and the exporter's login work; the exporters then miss other sessions' queries and WAL metrics) and says so", spec.database.postgres_version),
            },
        );
    }
    r.insert(
        "exporter",
        match exporter {
            Some(_) => "the chart's postgres-exporter and sql-exporter log in with a read-only role (pg_monitor), never Coder's; its password is mounted from a secret holding PGPASSWORD (global.postgres.mountSecret)".into(),
            None => "observability is off: no exporter".into(),
        },
    );
    let external_secrets = match (spec.secrets.manager, &spec.secrets.store) {
        (SecretsManager::ExternalSecrets, Some(store)) => {
            let prefix = &spec.name;
            let one = |namespace: &str, secret: &SecretRef, remote_key: String| ExternalSecret {
                namespace: namespace.to_string(),
                secret: secret.clone(),
                remote_key,
                literals: BTreeMap::new(),
            };
            let mut secrets = vec![one(CODER_NAMESPACE, url_secret, format!("{prefix}-coder-db-url"))];
            secrets
                .extend(provisioners.iter().map(|g| one(&g.namespace, &g.key_secret, format!("{prefix}-provisioner-key-{}", g.namespace))));
            if let Some(e) = &exporter {
                secrets.push(one(&e.namespace, &e.secret, format!("{prefix}-observability-db-password")));
            }
            // The stack's own secrets: the store keeps each password (or URL,
            // key, client secret); a user name, not secret, comes from here.
            if let Some(so) = &security.observability {
                let ns = so.namespace.as_str();
                if let Some(a) = &so.grafana.admin {
                    secrets.push(ExternalSecret {
                        literals: BTreeMap::from([(a.user_key.clone(), a.user.clone())]),
                        ..one(
                            ns,
                            &SecretRef { name: a.secret.clone(), key: a.password_key.clone() },
                            format!("{prefix}-grafana-admin-password"),
                        )
                    });
                }
                if let Some(o) = &so.grafana.oidc {
                    secrets.push(one(ns, &o.client_secret, format!("{prefix}-grafana-oidc-client-secret")));
                }
                let store = &so.logs.object_store_secret;
                secrets.push(ExternalSecret {
                    literals: BTreeMap::from([(store.user_key.to_string(), store.user.clone())]),
                    ..one(
                        ns,
                        &SecretRef { name: store.name.clone(), key: store.password_key.into() },
                        format!("{prefix}-loki-minio-root-password"),
                    )
                });
                if let Some(r) = &so.receiver {
                    secrets.push(one(ns, &r.secret, format!("{prefix}-alertmanager-receiver")));
                }
            }
            Some(ExternalSecrets {
                store: store.clone(),
                store_kind: match spec.secrets.store_kind {
                    StoreKind::ClusterSecretStore => "ClusterSecretStore",
                    StoreKind::SecretStore => "SecretStore",
                },
                refresh_interval: "1h",
                secrets,
            })
        }
        _ => None,
    };
    r.insert(
        "manager",
        match external_secrets {
            Some(_) => "secrets.manager: external-secrets in the spec: ExternalSecret objects fill each secret from the cloud's secret manager (refreshed hourly)".into(),
            None => "secrets are created by hand with kubectl from the README's steps; none is written to the tree".into(),
        },
    );
    Credentials {
        database: "coder".into(),
        coder_role: coder_role.into(),
        sslmode: "require",
        admin,
        setup_pod: SetupPod {
            name: "coder-db-setup".into(),
            namespace: CODER_NAMESPACE.into(),
            image: network.images["postgres"].reference.clone(),
            run_as_user: 70,
        },
        exporter,
        manager: if external_secrets.is_some() { "external-secrets" } else { "kubectl" },
        external_secrets,
        reasons: r,
    }
}
