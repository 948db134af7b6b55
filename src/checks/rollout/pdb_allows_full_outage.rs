//! `rollout/pdb-allows-full-outage`: a PodDisruptionBudget that still lets every pod go.

use super::{Out, WorkloadFacts};
use crate::declare_rule;
use crate::k8s::{IntOrPercent, PodDisruptionBudget, WorkloadKind};

declare_rule! {
    order: 60;
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

/// Each PodDisruptionBudget that selects a workload of 2 or more replicas.
pub(super) fn check(facts: &WorkloadFacts<'_>, out: &mut Out) {
    let (manifests, workload, scale) = (facts.manifests, facts.workload, &facts.scale);
    if workload.kind == WorkloadKind::DaemonSet || scale.replicas < 2 {
        return;
    }
    let object = workload.meta.display();
    let pdbs = manifests.pdbs_for(workload);
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
