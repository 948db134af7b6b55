//! `readiness/tcp-readiness`: a tcpSocket readiness probe cannot see a broken dependency.

use super::probes::ContainerProbes;
use crate::checks::kubernetes::Flag;
use crate::declare_rule;
use crate::k8s::Action;
use crate::report::Severity;

declare_rule! {
    order: 30;
    /// ## What it catches
    /// A readiness probe with `tcpSocket`. A container that declares no dependency (no `env`
    /// variable naming a URL, host, database or broker: a datastore such as redis) is
    /// reported as `info`: an open port is what it can show.
    ///
    /// ## Why it matters during a deploy
    /// A TCP connect succeeds as soon as the process listens, before it can reach its
    /// database or has loaded its configuration, and keeps succeeding when it no longer can.
    /// The pod is marked ready, receives traffic and the rollout continues while every
    /// request fails.
    ///
    /// ## Example
    /// ```yaml
    /// readinessProbe:
    ///   tcpSocket: {port: 8080}
    /// ```
    ///
    /// ## Do this instead
    /// An HTTP (or gRPC, or exec) readiness check that exercises what a request needs:
    /// `httpGet: {path: /ready, port: 8080}`.
    pub TCP_READINESS = ("readiness/tcp-readiness", Warn, "a tcpSocket readiness probe cannot test dependencies");
}

pub fn check(facts: &ContainerProbes<'_>) -> Option<Flag> {
    let readiness = facts.readiness()?;
    if !matches!(facts.readiness_action(), Some(Action::TcpSocket { .. })) {
        return None;
    }
    let container = facts.container.container;
    let mut finding = TCP_READINESS
        .finding(match container.declared_dependency() {
            Some(env) => format!(
                "{}: the readinessProbe is a tcpSocket connect, which succeeds as soon as the process listens and cannot see a broken dependency (it declares one: env {env})",
                facts.container.name
            ),
            None => format!(
                "{}: the readinessProbe is a tcpSocket connect; the container declares no dependency (no env variable names a URL, host or database), so an open port is a fair sign it can serve",
                facts.container.name
            ),
        })
        .at(facts.meta.at(readiness.pos))
        .with_fix("use an httpGet (or grpc/exec) readiness check that exercises the dependencies");
    if container.declared_dependency().is_none() {
        finding.severity = Severity::Info;
    }
    Some(Flag::new(finding, "tcpSocket readiness"))
}
