//! `rollout/pdb-blocks-drains`: a PodDisruptionBudget that allows no eviction at all.

use super::{Out, WorkloadFacts};
use crate::declare_rule;
use crate::k8s::{PodDisruptionBudget, Pos, WorkloadKind};

declare_rule! {
    order: 70;
    /// ## What it catches
    /// A PodDisruptionBudget selecting a workload that allows no pod to be evicted:
    /// `minAvailable` equal to (or above) the replica count, `minAvailable: 100%`, or
    /// `maxUnavailable: 0`. Percentages round up, as the disruption controller rounds them.
    ///
    /// ## Why it matters during a deploy
    /// It does not slow this deploy: the Deployment controller does not go through the
    /// eviction API. It blocks every voluntary eviction instead: `kubectl drain`, node
    /// upgrades and cluster-autoscaler scale-downs wait on these pods forever, so the node
    /// maintenance that often comes with a release stalls (managed node upgrades time out or
    /// force the eviction). A warning, not a failure: it blocks drains, not deploys.
    ///
    /// ## Example
    /// ```yaml
    /// kind: PodDisruptionBudget
    /// spec:
    ///   minAvailable: 3      # the Deployment runs 3 replicas
    /// ```
    ///
    /// ## Do this instead
    /// `maxUnavailable: 1`, which follows the replica count when it changes.
    pub PDB_BLOCKS_DRAINS = ("rollout/pdb-blocks-drains", Warn, "a PodDisruptionBudget allows no eviction: node drains and upgrades stall");
}

/// Each PodDisruptionBudget that selects a workload other than a DaemonSet.
pub(super) fn check(facts: &WorkloadFacts<'_>, out: &mut Out) {
    let (manifests, workload, scale) = (facts.manifests, facts.workload, &facts.scale);
    if workload.kind == WorkloadKind::DaemonSet || scale.replicas < 1 {
        return;
    }
    let object = workload.meta.display();
    for pdb in manifests.pdbs_for(workload) {
        let Some((why, pos)) = allows_none(pdb, scale.replicas) else {
            continue;
        };
        let pdb_name = pdb.meta.display();
        out.push(
            PDB_BLOCKS_DRAINS
                .finding(format!(
                    "{pdb_name} allows no pod of {object} ({}) to be evicted ({why}): node drains, upgrades and autoscaler scale-downs wait on it forever; it does not block this deploy",
                    scale.of_replicas(scale.replicas)
                ))
                .at(pdb.meta.at(pos))
                .with_fix(format!(
                    "in {pdb_name} set `maxUnavailable: 1` (and remove minAvailable)"
                )),
            &[&pdb.meta, &workload.meta],
            &object,
            format!("{pdb_name} blocks drains"),
        );
    }
}

/// Why the PDB allows no eviction of `replicas` pods, if it does not.
fn allows_none(pdb: &PodDisruptionBudget, replicas: i64) -> Option<(String, Pos)> {
    if let Some(min) = &pdb.min_available {
        let keep = min.value.scaled(replicas, true);
        return (keep >= replicas).then(|| {
            (
                format!("minAvailable {} keeps {keep} of {replicas}", min.value),
                min.pos,
            )
        });
    }
    let max = pdb.max_unavailable.as_ref()?;
    (max.value.scaled(replicas, true) == 0)
        .then(|| (format!("maxUnavailable {}", max.value), max.pos))
}
