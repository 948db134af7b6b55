//! `readiness/missing-readiness-probe`: a serving container without a readiness probe.

use super::probes::ContainerProbes;
use crate::checks::kubernetes::Flag;
use crate::declare_rule;

declare_rule! {
    order: 10;
    /// ## What it catches
    /// A serving container without a `readinessProbe`. Serving: the container declares
    /// `ports` (except when they are all metrics ports, named like `metrics` or `prometheus`,
    /// and no Service selects the pods), or no container declares ports and a Service selects
    /// the pods. Init containers are not looked at.
    ///
    /// ## Why it matters during a deploy
    /// Without a readiness probe a pod counts as ready as soon as its process starts: the
    /// Service sends it traffic before it has opened its connection pools or warmed its
    /// caches, and the rollout moves on to the next batch while the new version cannot serve.
    /// Every rollout then has a burst of errors, and a version that never becomes able to
    /// serve replaces the old one completely.
    ///
    /// ## Example
    /// ```yaml
    /// containers:
    ///   - name: api
    ///     ports: [{containerPort: 8080}]
    ///     livenessProbe: {httpGet: {path: /healthz, port: 8080}}
    /// ```
    ///
    /// ## Do this instead
    /// ```yaml
    ///     readinessProbe:
    ///       httpGet: {path: /ready, port: 8080}   # checks the database, caches, …
    ///       periodSeconds: 5
    ///       failureThreshold: 3
    /// ```
    pub MISSING_READINESS_PROBE = ("readiness/missing-readiness-probe", Fail, "a serving container has no readiness probe");
}

pub fn check(facts: &ContainerProbes<'_>) -> Option<Flag> {
    let container = facts.container.container;
    if !facts.container.serving || container.readiness_probe.is_some() {
        return None;
    }
    let why = if container.ports.is_empty() {
        "a Service selects its pods"
    } else {
        "it declares ports"
    };
    Some(Flag::new(
        MISSING_READINESS_PROBE
            .finding(format!(
                "{} serves traffic ({why}) but has no readinessProbe: its pods receive traffic as soon as the process starts, before they can serve",
                facts.container.name
            ))
            .at(facts.meta.at(container.pos))
            .with_fix("add a readinessProbe that checks what a request needs (e.g. httpGet /ready)"),
        "no readiness probe",
    ))
}
