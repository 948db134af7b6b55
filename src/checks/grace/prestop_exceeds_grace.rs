//! `grace/prestop-exceeds-grace`: SIGKILL before the server even gets SIGTERM.

use super::termination::ContainerShutdown;
use crate::checks::kubernetes::Flag;
use crate::declare_rule;

declare_rule! {
    order: 30;
    /// ## What it catches
    /// A preStop delay at or beyond `terminationGracePeriodSeconds` (30 s when unset).
    ///
    /// ## Why it matters during a deploy
    /// The grace period counts from the start of the preStop hook. When the hook sleeps that
    /// long, Kubernetes sends SIGKILL before the application has even received SIGTERM: every
    /// request in flight is cut off, on every pod the rollout replaces.
    ///
    /// ## Example
    /// ```yaml
    /// terminationGracePeriodSeconds: 30
    /// containers:
    ///   - lifecycle: {preStop: {exec: {command: [sleep, "30"]}}}
    /// ```
    ///
    /// ## Do this instead
    /// A preStop delay a little above the load balancer's deregistration delay, and a grace
    /// period that covers it plus the longest request plus a margin.
    pub PRESTOP_EXCEEDS_GRACE = ("grace/prestop-exceeds-grace", Fail, "the preStop delay reaches the grace period: SIGKILL before draining");
}

/// The rule over one serving container.
pub fn check(facts: &ContainerShutdown<'_>) -> Option<Flag> {
    let (n, pos) = facts.prestop().filter(|_| facts.prestop_reaches_grace())?;
    let pod = facts.pod;
    Some(Flag::new(
        PRESTOP_EXCEEDS_GRACE
            .finding(format!(
                "{}: the preStop delay of {n} s reaches {}: Kubernetes sends SIGKILL before the server even gets SIGTERM",
                facts.container.name, pod.grace_shown
            ))
            .at(pod.meta.at(pos))
            .with_fix(format!(
                "set terminationGracePeriodSeconds to at least {} (preStop + longest request + margin)",
                (n as f64 + pod.max_request + pod.margin).ceil() as i64
            )),
        "preStop reaches the grace period",
    ))
}
