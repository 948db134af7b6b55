//! `rollout/recreate-strategy`: every pod stops before the first new one starts.

use super::{Out, WorkloadFacts};
use crate::declare_rule;
use crate::k8s::{Fronted, StrategyKind, WorkloadKind};
use crate::report::Severity;

declare_rule! {
    order: 20;
    /// ## What it catches
    /// A Deployment with `strategy.type: Recreate`.
    ///
    /// ## Why it matters during a deploy
    /// Recreate stops every old pod before the first new one starts: the service is down from
    /// the first termination until the first new pod is ready, on every deploy and on every
    /// rollback.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   strategy:
    ///     type: Recreate
    /// ```
    ///
    /// ## Do this instead
    /// ```yaml
    /// spec:
    ///   strategy:
    ///     type: RollingUpdate
    ///     rollingUpdate: {maxUnavailable: 0, maxSurge: 1}
    /// ```
    /// When two versions must never run at once (a ReadWriteOnce volume, a singleton
    /// consumer), keep Recreate, accept the downtime window, and waive this rule with the
    /// reason. A singleton that no serving Service selects (one replica, no Service or only
    /// a metrics Service: a leader-elected controller) is reported as `info`: Recreate is
    /// its normal pattern, and no request waits for it.
    pub RECREATE_STRATEGY = ("rollout/recreate-strategy", Fail, "Recreate stops every pod before starting new ones: downtime on every deploy");
}

/// Deployments and Argo Rollouts (StatefulSets and DaemonSets have no Recreate).
pub(super) fn check(facts: &WorkloadFacts<'_>, out: &mut Out) {
    let workload = facts.workload;
    let scale = &facts.scale;
    let strategy = &workload.strategy;
    if !matches!(
        workload.kind,
        WorkloadKind::Deployment | WorkloadKind::Rollout
    ) || strategy.kind != StrategyKind::Recreate
    {
        return;
    }
    let pos = strategy
        .type_field
        .as_ref()
        .map_or(workload.meta.pos, |t| t.pos);
    let object = workload.meta.display();
    if scale.replicas <= 1 && facts.manifests.fronted_by(workload) != Fronted::Serving {
        let mut finding = RECREATE_STRATEGY
            .finding(format!(
                "{object} uses the Recreate strategy with one replica and no Service sends it user traffic (none in these manifests, or only a metrics Service): the normal pattern of a singleton controller, so two versions never run at once; it does nothing while its new pod starts"
            ))
            .at(workload.meta.at(pos));
        finding.severity = Severity::Info;
        out.push(finding, &[&workload.meta], &object, "Recreate singleton");
        return;
    }
    out.push(
        RECREATE_STRATEGY
            .finding(format!(
                "{object} uses the Recreate strategy: {} before the first new one starts, so the service is down for the whole rollout",
                if scale.replicas == 1 {
                    "its pod stops".to_string()
                } else {
                    format!("all {} pods stop", scale.replicas)
                }
            ))
            .at(workload.meta.at(pos))
            .with_fix(format!(
                "in {object} set `strategy: {{type: RollingUpdate, rollingUpdate: {{maxUnavailable: 0, maxSurge: 1}}}}`; if two versions must never run at once, keep Recreate and waive rollout/recreate-strategy with the reason"
            )),
        &[&workload.meta],
        &object,
        "Recreate: down for the whole rollout",
    );
}
