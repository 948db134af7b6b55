//! `rollout/single-replica`: one eviction or crash is an outage.

use super::{Out, WorkloadFacts};
use crate::declare_rule;
use crate::k8s::{Traffic, WorkloadKind};
use crate::report::Severity;

declare_rule! {
    order: 30;
    /// ## What it catches
    /// A Deployment, StatefulSet or Rollout with fewer than 2 replicas (or an HPA whose
    /// `minReplicas` is below 2). Workloads scaled to 0 on purpose are left alone.
    ///
    /// ## Why it matters during a deploy
    /// One pod is one node drain, eviction or crash away from an outage, and a deploy is when
    /// pods restart. A surge keeps a single-replica Deployment up during its own rollout, but
    /// not during the node upgrades and rebalancing that come with it; a single-replica
    /// StatefulSet is down for every rollout.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   replicas: 1
    /// ```
    ///
    /// ## Do this instead
    /// Run at least 2 replicas (spread over nodes) with a PodDisruptionBudget of
    /// `maxUnavailable: 1`; with an HPA, set `minReplicas: 2`. A workload that serves no user
    /// traffic (no Service, or only a metrics Service: a leader-elected controller, a worker)
    /// is reported as `info`: a single replica is its normal shape, and a restart delays its
    /// work without failing a request.
    pub SINGLE_REPLICA = ("rollout/single-replica", Warn, "fewer than 2 replicas: one eviction or crash is an outage");
}

/// Fewer than 2 replicas (or HPA minReplicas below 2).
pub(super) fn check(facts: &WorkloadFacts<'_>, out: &mut Out) {
    let (workload, scale) = (facts.workload, &facts.scale);
    if workload.kind == WorkloadKind::DaemonSet {
        return; // one pod per node by design
    }
    if scale.replicas <= 0 || scale.replicas >= 2 {
        return;
    }
    let object = workload.meta.display();
    let (message, fix) = match &scale.hpa {
        Some(hpa) => (
            format!(
                "{object} is scaled by {hpa} with minReplicas {}: at low traffic one eviction, node drain or crash is an outage",
                scale.replicas
            ),
            format!("set `minReplicas: 2` in {hpa}"),
        ),
        None => (
            format!(
                "{object} runs {} replica: one eviction, node drain or crash is an outage{}",
                scale.replicas,
                if workload.kind == WorkloadKind::StatefulSet {
                    ", and every rollout restarts the only pod"
                } else {
                    ""
                }
            ),
            format!(
                "set `replicas: 2` in {object} and add a PodDisruptionBudget with `maxUnavailable: 1`"
            ),
        ),
    };
    let pos = workload
        .replicas
        .as_ref()
        .map_or(workload.meta.pos, |r| r.pos);
    let mut finding = SINGLE_REPLICA
        .finding(message)
        .at(workload.meta.at(pos))
        .with_fix(fix);
    if facts.traffic == Traffic::None {
        finding.severity = Severity::Info;
        finding.message.push_str(
            "; it serves no user traffic (no Service sends it requests, or only a metrics Service), so a restart delays its work but fails no request",
        );
    }
    out.push(
        finding,
        &[&workload.meta],
        &object,
        format!("{} replica", scale.replicas),
    );
}
