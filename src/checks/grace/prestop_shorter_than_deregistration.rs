//! `grace/prestop-shorter-than-deregistration`: the pod stops accepting connections before the
//! load balancer stops sending them.

use super::termination::{ContainerShutdown, Delay, seconds};
use crate::checks::kubernetes::Flag;
use crate::declare_rule;
use crate::k8s::Action;

declare_rule! {
    order: 40;
    /// ## What it catches
    /// A preStop delay shorter than the load balancer's deregistration delay: the AWS load
    /// balancer controller's `deregistration_delay.timeout_seconds=N` in the
    /// `service.beta.kubernetes.io/aws-load-balancer-target-group-attributes` annotation of a
    /// Service that selects the pods, or in `alb.ingress.kubernetes.io/target-group-attributes`
    /// of an Ingress that routes to such a Service; on GKE, `connectionDraining.drainingTimeoutSec`
    /// of the BackendConfig the Service names in `cloud.google.com/backend-config`; else
    /// `grace.lb_deregistration_seconds`. A preStop hook whose length gonogo cannot tell (a
    /// script, an HTTP call) against a known deregistration delay is reported too: gonogo
    /// cannot say it waits long enough.
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
    let (lb_seconds, from) = facts.pod.lb.as_ref()?;
    if facts.delay == Delay::Unknown {
        let hook = facts.container.container.pre_stop.as_ref()?;
        return Some(Flag::new(
            PRESTOP_SHORTER_THAN_DEREGISTRATION
                .finding(format!(
                    "{}: the load balancer keeps sending connections for {} s after the pod is removed ({from}), and gonogo cannot tell how long the preStop hook ({}) waits: if it returns sooner, connections arriving in between fail",
                    facts.container.name,
                    seconds(*lb_seconds),
                    describe_hook(&hook.action)
                ))
                .at(facts.pod.meta.at(hook.pos))
                .with_fix(format!(
                    "make the wait visible: start the hook with `sleep {}` (exec) or use the native `preStop: {{sleep: {{seconds: {}}}}}` (Kubernetes 1.29+); or waive this rule on the object with the hook's real length as the reason",
                    lb_seconds.ceil() as i64,
                    lb_seconds.ceil() as i64
                )),
            "preStop of unknown length vs LB deregistration",
        ));
    }
    let (n, pos) = facts.prestop()?;
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

/// "exec `/bin/drain.sh`", "httpGet /drain"
fn describe_hook(action: &Action) -> String {
    match action {
        Action::Exec { command } => format!("exec `{}`", command.join(" ")),
        Action::HttpGet { path, .. } => {
            format!("httpGet {}", path.as_deref().unwrap_or("/"))
        }
        Action::TcpSocket { .. } => "tcpSocket".to_string(),
        Action::Grpc { .. } => "grpc".to_string(),
        Action::Sleep { .. } => "sleep".to_string(),
    }
}
