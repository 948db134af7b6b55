//! `rollout/missing-pdb`: nothing stops a node drain from evicting every pod at once.

use super::{Out, WorkloadFacts};
use crate::declare_rule;
use crate::k8s::WorkloadKind;

declare_rule! {
    order: 50;
    /// ## What it catches
    /// A Deployment, StatefulSet or Rollout with 2 or more replicas that no
    /// PodDisruptionBudget selects (same namespace, selector matching the pod template's
    /// labels). Single-replica workloads are left to `rollout/single-replica`, and DaemonSets
    /// are not evicted by drains. Reported as `info`: a PDB limits voluntary evictions (node
    /// drains, autoscaler scale-downs), not what the Deployment controller does during this
    /// deploy, so its absence is worth knowing, not a reason to stop a deploy.
    ///
    /// ## Why it matters during a deploy
    /// The rollout strategy only limits what the Deployment controller does. A node drain,
    /// a cluster autoscaler scale-down or a node upgrade evicts pods through the eviction API,
    /// which only a PDB limits: without one, all replicas on the drained nodes go at once,
    /// while the rollout is also replacing pods.
    ///
    /// ## Example
    /// A Deployment `shop-api` with `replicas: 4` and no PodDisruptionBudget.
    ///
    /// ## Do this instead
    /// ```yaml
    /// apiVersion: policy/v1
    /// kind: PodDisruptionBudget
    /// metadata: {name: shop-api}
    /// spec:
    ///   maxUnavailable: 1
    ///   selector:
    ///     matchLabels: {app: shop-api}
    /// ```
    pub MISSING_PDB = ("rollout/missing-pdb", Info, "no PodDisruptionBudget selects the workload: a node drain may evict every pod at once");
}

/// Workloads of 2 or more replicas other than DaemonSets (a drain takes a DaemonSet's pod with
/// its node anyway).
pub(super) fn check(facts: &WorkloadFacts<'_>, out: &mut Out) {
    let (manifests, workload, scale) = (facts.manifests, facts.workload, &facts.scale);
    if workload.kind == WorkloadKind::DaemonSet || scale.replicas < 2 {
        return;
    }
    let object = workload.meta.display();
    let pdbs = manifests.pdbs_for(workload);
    if !pdbs.is_empty() {
        return;
    }
    let labels = manifests.pod_labels_of(workload);
    let match_labels = if labels.is_empty() {
        "<the pod template's labels>".to_string()
    } else {
        labels
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    out.push(
        MISSING_PDB
            .finding(format!(
                "no PodDisruptionBudget selects the pods of {object}, which runs {}: a node drain or upgrade may evict all of them at once",
                scale.of_replicas(scale.replicas)
            ))
            .at(workload.meta.location())
            .with_fix(format!(
                "add `{{apiVersion: policy/v1, kind: PodDisruptionBudget, metadata: {{name: {}}}, spec: {{maxUnavailable: 1, selector: {{matchLabels: {{{match_labels}}}}}}}}}`",
                workload.meta.name
            )),
        &[&workload.meta],
        &object,
        "no PDB",
    );
}
