//! Backups as the user asks for them (`database.backup`), mapped onto what
//! each cloud really keeps: days of automated backups, how far back
//! point-in-time recovery reaches, and (Azure) whether a copy goes to the
//! region's pair. Values outside what the cloud keeps are refused, located,
//! so the tree never promises more than the service holds. Ranges and
//! defaults come from `catalog/clouds.yaml` (`database.backup_*`,
//! `point_in_time_recovery_*`, `geo_redundant_backup`), region pairs from
//! `catalog/regions.yaml`.

use super::{Ctx, Reasons};
use crate::catalog::regions;
use crate::cloud::Cloud;
use crate::diag::{Located, SpecError};
use crate::spec::At;

/// What the database component takes over (its fields and reasons).
pub(crate) struct Backups {
    pub retention_days: u32,
    pub point_in_time_recovery_days: u32,
    pub geo_redundant: Option<bool>,
    pub reasons: Reasons,
}

fn located<T>(at: &At<T>, message: String, help: String) -> Located {
    Located { line: at.line, column: at.column, message, help }
}

pub(crate) fn plan(ctx: &Ctx) -> Result<Backups, SpecError> {
    let (spec, cloud) = (ctx.spec, ctx.cloud);
    let rules = ctx.rules.database.as_ref().expect("every cloud has database rules (catalog tests)");
    let asked = &spec.database.backup;
    let mut errors = Vec::new();
    let mut r = Reasons::new();
    let service = match cloud {
        Cloud::Gcp => "Cloud SQL",
        Cloud::Aws => "RDS",
        Cloud::Azure => "Azure Database for PostgreSQL",
    };

    let (rmin, rmax) = rules.backup_retention_range.value;
    let check_retention = |at: &At<u32>, key: &str, errors: &mut Vec<Located>| {
        if !(rmin..=rmax).contains(&at.value) {
            let message = if cloud == Cloud::Aws && at.value == 0 {
                format!(
                    "database.backup.{key} 0 on AWS would turn RDS's automated backups off, and point-in-time recovery with them (switching between 0 and other values is also an outage)"
                )
            } else {
                format!("database.backup.{key} {} is outside what {service} keeps: {rmin} to {rmax} days", at.value)
            };
            errors.push(located(at, message, format!("use {rmin} to {rmax} ({})", rules.backup_retention_range.source)));
        }
    };

    let (retention_days, point_in_time_recovery_days) = match rules.point_in_time_recovery_range.value {
        // The window is the retention (RDS, Azure): pitr_days may set both,
        // or must agree with retention_days.
        None => {
            let days = match (&asked.retention_days, &asked.pitr_days) {
                (Some(ret), Some(pitr)) => {
                    check_retention(ret, "retention_days", &mut errors);
                    if pitr.value != ret.value {
                        errors.push(located(
                            pitr,
                            format!(
                                "database.backup.pitr_days {} differs from retention_days {}: {service} restores to any point within its backup retention, so the window is retention_days",
                                pitr.value, ret.value
                            ),
                            "leave pitr_days out (or equal to retention_days) and set retention_days to the window you want".into(),
                        ));
                    }
                    r.insert(
                        "backup_retention_days",
                        format!("database.backup.retention_days in the spec ({service}: {rmin}-{rmax} days)"),
                    );
                    ret.value
                }
                (Some(at), None) | (None, Some(at)) => {
                    let key = if asked.retention_days.is_some() { "retention_days" } else { "pitr_days" };
                    check_retention(at, key, &mut errors);
                    r.insert("backup_retention_days", format!("database.backup.{key} in the spec ({service}: {rmin}-{rmax} days)"));
                    at.value
                }
                (None, None) => {
                    r.insert("backup_retention_days", rules.backup_retention_days.reason.clone());
                    rules.backup_retention_days.value
                }
            };
            r.insert(
                "point_in_time_recovery_days",
                format!("{service} restores to any point within the backup retention: the window is the retention, {days} days"),
            );
            (days, days)
        }
        // A window of its own, below the kept backups (Cloud SQL).
        Some((pmin, pmax)) => {
            let retention = match &asked.retention_days {
                Some(at) => {
                    check_retention(at, "retention_days", &mut errors);
                    r.insert(
                        "backup_retention_days",
                        format!("database.backup.retention_days in the spec: {} daily backups kept ({service}: {rmin}-{rmax})", at.value),
                    );
                    at.value
                }
                None => {
                    r.insert("backup_retention_days", rules.backup_retention_days.reason.clone());
                    rules.backup_retention_days.value
                }
            };
            let default_pitr = rules.point_in_time_recovery_days.value.unwrap_or(pmax);
            let pitr = match &asked.pitr_days {
                Some(at) => {
                    if !(pmin..=pmax).contains(&at.value) {
                        errors.push(located(
                            at,
                            format!(
                                "database.backup.pitr_days {} is more than {service} keeps: it keeps transaction logs {pmin} to {pmax} days on its Enterprise edition",
                                at.value
                            ),
                            format!("use {pmin} to {pmax} ({})", rules.point_in_time_recovery_range.source),
                        ));
                    } else if at.value >= retention {
                        errors.push(located(
                            at,
                            format!(
                                "database.backup.pitr_days {} is not below retention_days {retention}: {service} must keep more daily backups than days of transaction logs",
                                at.value
                            ),
                            format!("set retention_days to at least {} or pitr_days below {retention}", at.value + 1),
                        ));
                    }
                    r.insert(
                        "point_in_time_recovery_days",
                        format!("database.backup.pitr_days in the spec ({service}: {pmin}-{pmax} days of transaction logs, below the kept backups)"),
                    );
                    at.value
                }
                None if default_pitr < retention => {
                    r.insert("point_in_time_recovery_days", rules.point_in_time_recovery_days.reason.clone());
                    default_pitr
                }
                None => {
                    let days = retention.saturating_sub(1).max(pmin);
                    r.insert(
                        "point_in_time_recovery_days",
                        format!("{days} days: {service} must keep more daily backups ({retention}) than days of transaction logs"),
                    );
                    days
                }
            };
            (retention, pitr)
        }
    };

    let geo_redundant = match (rules.geo_redundant_backup.value, &asked.geo_redundant) {
        (None, None) => None,
        (None, Some(at)) => {
            errors.push(located(
                at,
                format!("database.backup.geo_redundant is an Azure setting; {service} has none here"),
                "remove database.backup.geo_redundant".into(),
            ));
            None
        }
        (Some(default), asked_geo) => {
            let pair = regions::pair(cloud, &spec.region);
            let value = match (asked_geo, pair) {
                (Some(at), None) if at.value => {
                    errors.push(located(
                        at,
                        format!("database.backup.geo_redundant: true, but Azure region {} has no pair, so the flexible server cannot keep geo-redundant backups there", spec.region),
                        "set geo_redundant: false, or use a region with a pair (catalog/regions.yaml, azure.pairs)".into(),
                    ));
                    true
                }
                (Some(at), _) => at.value,
                (None, p) => default && p.is_some(),
            };
            let why = match (asked_geo.is_some(), pair) {
                (true, Some(p)) => {
                    format!("database.backup.geo_redundant in the spec; backups are copied to {p}, the pair of {}", spec.region)
                }
                (true, None) => "database.backup.geo_redundant in the spec".into(),
                (false, Some(p)) => format!("{}: to {p}, the pair of {}", rules.geo_redundant_backup.reason, spec.region),
                (false, None) => format!(
                    "off: {} has no region pair, and the flexible server keeps geo-redundant backups only in paired regions",
                    spec.region
                ),
            };
            r.insert(
                "geo_redundant_backup",
                format!("{why}; fixed at the server's creation: changing it later replaces the server, data and all (geo_redundant_backup_enabled is ForceNew)"),
            );
            Some(value)
        }
    };

    if errors.is_empty() {
        Ok(Backups { retention_days, point_in_time_recovery_days, geo_redundant, reasons: r })
    } else {
        Err(SpecError::Invalid { file: spec.file.clone(), errors })
    }
}
