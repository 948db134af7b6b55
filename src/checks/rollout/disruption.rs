//! PodDisruptionBudgets: the only thing that stops a node drain (a cluster upgrade, often
//! running during the same window as a deploy) from evicting every pod of a workload at once.

use super::Out;
use crate::declare_rule;
use crate::k8s::rollout::Scale;
use crate::k8s::{IntOrPercent, Manifests, PodDisruptionBudget, Workload};

declare_rule! {
    /// ## What it catches
    /// A Deployment, StatefulSet or Rollout with 2 or more replicas that no
    /// PodDisruptionBudget selects (same namespace, selector matching the pod template's
    /// labels). Single-replica workloads are left to `rollout/single-replica`, and DaemonSets
    /// are not evicted by drains.
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
    pub MISSING_PDB = ("rollout/missing-pdb", Warn, "no PodDisruptionBudget selects the workload: a node drain may evict every pod at once");
}

declare_rule! {
    /// ## What it catches
    /// A PodDisruptionBudget selecting a workload that still allows every pod to be evicted at
    /// once: `minAvailable: 0` (or 0%), or `maxUnavailable` at or above the replica count (or
    /// 100%). Percentages round up, as the disruption controller rounds them.
    ///
    /// ## Why it matters during a deploy
    /// It looks like protection and is none: a drain during the deploy may still take every
    /// pod down.
    ///
    /// ## Example
    /// ```yaml
    /// kind: PodDisruptionBudget
    /// spec:
    ///   minAvailable: 0
    /// ```
    ///
    /// ## Do this instead
    /// `maxUnavailable: 1` (or a `minAvailable` below the replica count, so drains can still
    /// proceed one pod at a time).
    pub PDB_ALLOWS_FULL_OUTAGE = ("rollout/pdb-allows-full-outage", Warn, "a PodDisruptionBudget that still lets every pod be evicted at once");
}

pub(super) fn check(manifests: &Manifests, workload: &Workload, scale: &Scale, out: &mut Out) {
    if scale.replicas < 2 {
        return;
    }
    let object = workload.meta.display();
    let pdbs = manifests.pdbs_for(workload);
    if pdbs.is_empty() {
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
        return;
    }
    for pdb in pdbs {
        if let Some((allowed, why, pos)) = allows_all_down(pdb, scale.replicas) {
            let pdb_name = pdb.meta.display();
            out.push(
                PDB_ALLOWS_FULL_OUTAGE
                    .finding(format!(
                        "{pdb_name} lets {allowed} of the {} pods of {object} be evicted at once ({why})",
                        scale.replicas
                    ))
                    .at(pdb.meta.at(pos))
                    .with_fix(format!(
                        "in {pdb_name} set `maxUnavailable: 1` (and remove minAvailable)"
                    )),
                &[&pdb.meta, &workload.meta],
                &object,
                format!("{pdb_name} allows all pods down"),
            );
        }
    }
}

/// How many pods the PDB allows down, when that is all of them.
fn allows_all_down(
    pdb: &PodDisruptionBudget,
    replicas: i64,
) -> Option<(i64, String, crate::k8s::Pos)> {
    if let Some(min) = &pdb.min_available {
        let keep = min.value.scaled(replicas, true);
        let allowed = (replicas - keep).max(0);
        return (allowed >= replicas).then(|| {
            (
                allowed,
                format!("minAvailable {} keeps {keep}", min.value),
                min.pos,
            )
        });
    }
    if let Some(max) = &pdb.max_unavailable {
        let allowed = max.value.scaled(replicas, true).min(replicas);
        let why = match max.value {
            IntOrPercent::Percent(_) => {
                format!(
                    "maxUnavailable {} of {replicas} rounds up to {allowed}",
                    max.value
                )
            }
            IntOrPercent::Int(_) => format!("maxUnavailable {}", max.value),
        };
        return (allowed >= replicas).then_some((allowed, why, max.pos));
    }
    None
}
