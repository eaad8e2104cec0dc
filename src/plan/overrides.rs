//! The user's own settings that the reference architecture does not size
//! (issue #14): extra coderd environment variables from `coder.env`. They
//! are carried as given; the spec refuses the variables coder-gen or the
//! chart sets (sized numbers among them), so nothing here changes a number
//! the plan sized.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Ctx, Reasons};
use crate::spec::EnvValue;

#[derive(Debug, Clone, Serialize)]
pub struct Overrides {
    /// Appended to coderd's environment after coder-gen's own variables,
    /// sorted by name. A `secret_ref` is read from a Secret in coderd's
    /// namespace, which the operator creates.
    pub coderd_env: BTreeMap<String, EnvValue>,
    pub reasons: Reasons,
}

pub(crate) fn plan(ctx: &Ctx) -> Overrides {
    let mut reasons = Reasons::new();
    reasons.insert(
        "coderd_env",
        "coder.env in the spec; names coder-gen or the chart sets (access URL, database, sized numbers, metrics, TLS) are refused there"
            .into(),
    );
    Overrides { coderd_env: ctx.spec.coder.env.clone(), reasons }
}
