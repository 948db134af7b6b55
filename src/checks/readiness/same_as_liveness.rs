//! `readiness/same-as-liveness`: readiness and liveness run the same check.

use super::probes::{ContainerProbes, dependency_word, describe, http_path, is_grpc_health_exec};
use crate::checks::kubernetes::Flag;
use crate::declare_rule;
use crate::k8s::Action;
use crate::report::Severity;

declare_rule! {
    order: 20;
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
    /// The severity follows what the shared check can do. `fail`: an HTTP path that looks
    /// like a dependency check (`/ready`, `/health/db`, …): liveness then restarts every pod
    /// when the dependency blips. `warn`: another HTTP path or an exec command: gonogo cannot
    /// tell whether it checks dependencies. `info`: a `tcpSocket` probe (it cannot check
    /// dependencies, so liveness is safe and readiness only says the port is open: see
    /// `readiness/tcp-readiness`) and the standard gRPC health check (a native `grpc` probe or
    /// `grpc_health_probe`), whose status the server sets.
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
    let (severity, why) = judge(action);
    let mut finding = SAME_AS_LIVENESS
        .finding(format!(
            "{}: readiness and liveness run the same check ({}): {why}",
            facts.container.name,
            describe(action)
        ))
        .at(facts.meta.at(readiness.pos))
        .with_fix("give readiness its own endpoint that checks dependencies (/ready) and keep liveness shallow (/healthz)");
    finding.severity = severity;
    Some(Flag::new(finding, "readiness same as liveness"))
}

/// How bad one check for both probes is, by what that check can do, and why.
fn judge(action: &Action) -> (Severity, String) {
    const BOTH: &str = "a liveness check must not depend on other systems (a failure restarts the container), a readiness check should (a failure only takes the pod out of rotation)";
    match action {
        Action::HttpGet { path, .. } => match dependency_word(http_path(path)) {
            Some(word) => (
                Severity::Fail,
                format!(
                    "the path looks like a dependency check (`{word}`), so when a dependency blips every pod fails liveness and Kubernetes restarts them all; {BOTH}"
                ),
            ),
            None => (
                Severity::Warn,
                format!(
                    "gonogo cannot tell whether the endpoint checks dependencies: if it does, a dependency blip restarts every pod; if not, readiness cannot take a pod that cannot serve out of rotation; {BOTH}"
                ),
            ),
        },
        Action::Exec { command } if is_grpc_health_exec(command) => (
            Severity::Info,
            "the standard gRPC health check reports the status the server sets; it restarts pods on a dependency blip only if the server marks itself NOT_SERVING for a dependency".to_string(),
        ),
        Action::Exec { .. } => (
            Severity::Warn,
            format!("gonogo cannot tell whether the command checks dependencies; {BOTH}"),
        ),
        Action::Grpc { .. } => (
            Severity::Info,
            "the standard gRPC health check reports the status the server sets; it restarts pods on a dependency blip only if the server marks itself NOT_SERVING for a dependency".to_string(),
        ),
        Action::TcpSocket { .. } | Action::Sleep { .. } => (
            Severity::Info,
            "a tcpSocket probe cannot check dependencies, so liveness never restarts pods on a dependency blip; readiness only says the port accepts connections".to_string(),
        ),
    }
}
