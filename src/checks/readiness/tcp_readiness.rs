//! `readiness/tcp-readiness`: a tcpSocket readiness probe cannot see a broken dependency.

use super::probes::ContainerProbes;
use crate::checks::kubernetes::Flag;
use crate::declare_rule;
use crate::k8s::Action;

declare_rule! {
    /// ## What it catches
    /// A readiness probe with `tcpSocket`.
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
    Some(Flag::new(
        TCP_READINESS
            .finding(format!(
                "{}: the readinessProbe is a tcpSocket connect, which succeeds as soon as the process listens and cannot see a broken dependency",
                facts.container.name
            ))
            .at(facts.meta.at(readiness.pos))
            .with_fix("use an httpGet (or grpc/exec) readiness check that exercises the dependencies"),
        "tcpSocket readiness",
    ))
}
