//! `rollback/no-revision-history`: no old ReplicaSet to roll back to.

use crate::checks::kubernetes::Analysis;
use crate::declare_rule;
use crate::k8s::{Workload, WorkloadKind};

declare_rule! {
    order: 40;
    /// ## What it catches
    /// A Deployment or Argo Rollout with `revisionHistoryLimit: 0`.
    ///
    /// ## Why it matters during a deploy
    /// A rollback (`kubectl rollout undo`, `kubectl argo rollouts undo`, an automated abort)
    /// scales the previous ReplicaSet back up. With a history limit of 0 the controller deletes
    /// old ReplicaSets as soon as the rollout completes, so there is nothing to roll back to:
    /// going back means a new deploy of the old version through the whole pipeline.
    ///
    /// ## Example
    /// ```yaml
    /// spec:
    ///   revisionHistoryLimit: 0
    /// ```
    ///
    /// ## Do this instead
    /// Keep a few revisions (the default is 10): `revisionHistoryLimit: 3`.
    pub NO_REVISION_HISTORY = ("rollback/no-revision-history", Fail, "revisionHistoryLimit: 0 leaves no old ReplicaSet to roll back to");
}

/// Deployments and Argo Rollouts keep old ReplicaSets to roll back to.
pub(super) fn check(workload: &Workload, out: &mut Analysis) {
    if !matches!(
        workload.kind,
        WorkloadKind::Deployment | WorkloadKind::Rollout
    ) {
        return;
    }
    let Some(limit) = workload
        .revision_history_limit
        .as_ref()
        .filter(|l| l.value == 0)
    else {
        return;
    };
    let object = workload.meta.display();
    out.push(
        NO_REVISION_HISTORY
            .finding(format!(
                "{object} sets revisionHistoryLimit: 0: the old ReplicaSet is deleted when a rollout completes, so there is nothing to roll back to"
            ))
            .at(workload.meta.at(limit.pos))
            .with_fix(format!(
                "set `revisionHistoryLimit: 3` (or remove it: the default is 10) in {object}"
            )),
        &workload.meta,
        "revisionHistoryLimit: 0",
    );
}
