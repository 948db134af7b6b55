//! `grace/missing-prestop`: no preStop delay behind a Service.

use super::termination::{ContainerShutdown, Delay, seconds};
use crate::checks::kubernetes::Flag;
use crate::declare_rule;

declare_rule! {
    order: 20;
    /// ## What it catches
    /// A serving container without a preStop delay (an exec `sleep N` or the native `sleep`
    /// action) in a pod that a Service selects.
    ///
    /// ## Why it matters during a deploy
    /// Kubernetes sends SIGTERM and removes the pod from the endpoints at the same time, and
    /// kube-proxy, ingress controllers and cloud load balancers learn about it seconds later.
    /// An application that stops accepting connections on SIGTERM refuses the requests that
    /// still arrive in those seconds: a burst of 502s on every rollout.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: api
    ///     ports: [{containerPort: 8080}]
    /// ```
    ///
    /// ## Do this instead
    /// ```yaml
    ///     lifecycle:
    ///       preStop:
    ///         sleep: {seconds: 10}       # Kubernetes 1.29+; else exec: {command: [sleep, "10"]}
    /// ```
    pub MISSING_PRESTOP = ("grace/missing-prestop", Warn, "no preStop delay while a Service sends traffic to the pod");
}

/// The rule over one serving container.
pub fn check(facts: &ContainerShutdown<'_>) -> Option<Flag> {
    if !matches!(facts.delay, Delay::None) || !facts.pod.selected {
        return None;
    }
    let meta = facts.pod.meta;
    Some(Flag::new(
        MISSING_PRESTOP
            .finding(format!(
                "{}: no preStop delay while a Service sends it traffic: endpoints are removed asynchronously, so new connections still arrive after SIGTERM{}",
                facts.container.name,
                facts.pod.lb
                    .as_ref()
                    .map(|(n, from)| format!(" (for {} s: {from})", seconds(*n)))
                    .unwrap_or_default()
            ))
            .at(meta.at(facts.container.container.pos))
            .with_fix("add `lifecycle: {preStop: {sleep: {seconds: 10}}}` (or exec `sleep 10` before Kubernetes 1.29)"),
        "no preStop delay",
    ))
}
