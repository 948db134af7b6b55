//! `grace/prestop-shorter-than-deregistration`: the pod stops accepting connections before the
//! load balancer stops sending them.

use super::termination::{ContainerShutdown, seconds};
use crate::checks::kubernetes::Flag;
use crate::declare_rule;

declare_rule! {
    /// ## What it catches
    /// A preStop delay shorter than the load balancer's deregistration delay: the AWS load
    /// balancer controller's `deregistration_delay.timeout_seconds=N` in the
    /// `service.beta.kubernetes.io/aws-load-balancer-target-group-attributes` annotation of a
    /// Service that selects the pods, or in `alb.ingress.kubernetes.io/target-group-attributes`
    /// of an Ingress that routes to such a Service; on GKE, `connectionDraining.drainingTimeoutSec`
    /// of the BackendConfig the Service names in `cloud.google.com/backend-config`; else
    /// `grace.lb_deregistration_seconds`.
    ///
    /// ## Why it matters during a deploy
    /// The load balancer keeps sending new connections to a target until it has deregistered
    /// it. When the pod stops accepting connections earlier, those connections fail.
    ///
    /// ## Example
    /// ```yaml
    /// metadata:
    ///   annotations:
    ///     alb.ingress.kubernetes.io/target-group-attributes: deregistration_delay.timeout_seconds=30
    /// # and a preStop of sleep 5
    /// ```
    ///
    /// ## Do this instead
    /// A preStop delay at least as long as the deregistration delay (and a grace period to
    /// match), or a shorter deregistration delay.
    pub PRESTOP_SHORTER_THAN_DEREGISTRATION = ("grace/prestop-shorter-than-deregistration", Warn, "the preStop delay ends before the load balancer stops sending traffic");
}

/// The rule over one serving container; a preStop delay that reaches the grace period is
/// `grace/prestop-exceeds-grace`'s finding instead.
pub fn check(facts: &ContainerShutdown<'_>) -> Option<Flag> {
    if facts.prestop_reaches_grace() {
        return None;
    }
    let (n, pos) = facts.prestop()?;
    let (lb_seconds, from) = facts.pod.lb.as_ref()?;
    if n as f64 >= *lb_seconds {
        return None;
    }
    Some(Flag::new(
        PRESTOP_SHORTER_THAN_DEREGISTRATION
            .finding(format!(
                "{}: the preStop delay of {n} s ends before the load balancer deregisters the target after {} s ({from}): connections arriving in between fail",
                facts.container.name,
                seconds(*lb_seconds)
            ))
            .at(facts.pod.meta.at(pos))
            .with_fix(format!(
                "make the preStop delay at least {} s (and the grace period to match)",
                lb_seconds.ceil() as i64
            )),
        "preStop shorter than LB deregistration",
    ))
}
