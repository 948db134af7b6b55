//! `readiness/same-as-liveness`: readiness and liveness run the same check.

use super::probes::{ContainerProbes, describe};
use crate::checks::kubernetes::Flag;
use crate::declare_rule;

declare_rule! {
    /// ## What it catches
    /// A readiness probe that runs the same check as the liveness probe: the same HTTP path
    /// and port, the same TCP port, the same exec command or the same gRPC port and service.
    ///
    /// ## Why it matters during a deploy
    /// The two probes answer different questions. Liveness asks "is this process stuck?" and
    /// restarts the container when it fails, so it must not depend on other systems: when the
    /// database blips, every pod fails liveness at once and Kubernetes restarts them all.
    /// Readiness asks "can this pod serve now?" and only takes the pod out of rotation, so it
    /// should check the dependencies. One endpoint for both is either too shallow to stop
    /// traffic to a pod that cannot serve, or deep enough to restart the whole fleet.
    ///
    /// ## Example
    /// ```yaml
    /// readinessProbe: {httpGet: {path: /health, port: 8080}}
    /// livenessProbe:  {httpGet: {path: /health, port: 8080}}
    /// ```
    ///
    /// ## Do this instead
    /// ```yaml
    /// readinessProbe: {httpGet: {path: /ready, port: 8080}}    # checks dependencies
    /// livenessProbe:  {httpGet: {path: /healthz, port: 8080}}  # the process answers
    /// ```
    pub SAME_AS_LIVENESS = ("readiness/same-as-liveness", Fail, "readiness and liveness run the same check");
}

pub fn check(facts: &ContainerProbes<'_>) -> Option<Flag> {
    if !facts.same_as_liveness() {
        return None;
    }
    let readiness = facts.readiness()?;
    let action = facts.readiness_action()?;
    Some(Flag::new(
        SAME_AS_LIVENESS
            .finding(format!(
                "{}: readiness and liveness run the same check ({}): a liveness check must not depend on other systems (a failure restarts the container), a readiness check should (a failure only takes the pod out of rotation)",
                facts.container.name,
                describe(action)
            ))
            .at(facts.meta.at(readiness.pos))
            .with_fix("give readiness its own endpoint that checks dependencies (/ready) and keep liveness shallow (/healthz)"),
        "readiness same as liveness",
    ))
}
