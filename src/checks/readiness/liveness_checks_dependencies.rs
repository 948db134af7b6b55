//! `readiness/liveness-checks-dependencies`: a liveness probe that looks like a dependency check.

use super::probes::{ContainerProbes, dependency_like};
use crate::checks::kubernetes::Flag;
use crate::declare_rule;

declare_rule! {
    order: 50;
    /// ## What it catches
    /// A liveness probe whose HTTP path looks like a dependency or readiness check: it
    /// contains `ready`, `deps`, `dependencies`, `db` or `database`, or it is the readiness
    /// probe's path (on another port). `/healthz` and `/livez` are not flagged. Every container
    /// with a liveness probe is looked at, serving or not (a queue worker restarts too).
    ///
    /// ## Why it matters during a deploy
    /// A liveness failure restarts the container. When liveness checks the database, a
    /// database failover or a slow migration makes every pod fail liveness at once, and
    /// Kubernetes restarts the whole fleet, turning a short dependency blip into an outage
    /// and a crash loop during the deploy.
    ///
    /// ## Example
    /// ```yaml
    /// livenessProbe:
    ///   httpGet: {path: /health/db, port: 8080}
    /// ```
    ///
    /// ## Do this instead
    /// Liveness checks only that the process itself responds (`/healthz`); the database
    /// check belongs in readiness (`/ready`).
    pub LIVENESS_CHECKS_DEPENDENCIES = ("readiness/liveness-checks-dependencies", Warn, "the liveness probe looks like a dependency check");
}

/// The rule over any container (a worker that restarts whenever the database blips is an
/// outage too); a liveness probe identical to readiness is `readiness/same-as-liveness`'s
/// finding instead.
pub fn check(facts: &ContainerProbes<'_>) -> Option<Flag> {
    if facts.same_as_liveness() {
        return None;
    }
    let liveness = facts.liveness()?;
    let live_action = liveness.handler.as_ref().map(|h| &h.action);
    let reason = dependency_like(facts.readiness_action(), live_action)?;
    Some(Flag::new(
        LIVENESS_CHECKS_DEPENDENCIES
            .finding(format!(
                "{}: the livenessProbe {reason}: when a dependency fails, every pod fails liveness and Kubernetes restarts them all",
                facts.container.name
            ))
            .at(facts.meta.at(liveness.pos))
            .with_fix("point liveness at an endpoint that only checks the process itself (/healthz)"),
        "liveness checks dependencies",
    ))
}
