//! `rollout/replicas-pinned-with-hpa`: a manifest that sets `replicas` for a workload an HPA
//! scales, so every apply resets the scale.

use super::{Out, WorkloadFacts};
use crate::declare_rule;

declare_rule! {
    order: 40;
    /// ## What it catches
    /// A Deployment, StatefulSet or Rollout that sets `spec.replicas` while a
    /// HorizontalPodAutoscaler scales it to more than that (its `maxReplicas` is higher).
    ///
    /// ## Why it matters during a deploy
    /// The Kubernetes documentation on horizontal pod autoscaling: when an HPA is enabled,
    /// remove `spec.replicas` from the manifest, or "any time a change to that object is
    /// applied, for example via `kubectl apply -f deployment.yaml`, this will instruct
    /// Kubernetes to scale the current number of Pods to the value of the spec.replicas key".
    /// The deploy itself then scales a fleet the HPA had grown for peak load down to the
    /// pinned count, in the middle of the rollout. Server-side apply does not protect it: the
    /// HPA writes `spec.replicas` through the scale subresource and so manages that field, an
    /// apply that sets another value conflicts with it ("Server-Side Apply", Conflicts), and
    /// the usual answer, `--force-conflicts` (what Argo CD and Flux apply with), overwrites the
    /// HPA's count and takes the field back. Either the deploy stops on the conflict or it
    /// scales the fleet down.
    ///
    /// ## Example
    /// ```yaml
    /// kind: Deployment
    /// spec:
    ///   replicas: 3          # the HPA scales it between 3 and 20
    /// ```
    ///
    /// ## Do this instead
    /// Remove `replicas` from the manifest (or from the chart's template when autoscaling is
    /// on) and let the HPA's `minReplicas` set the floor.
    pub REPLICAS_PINNED_WITH_HPA = ("rollout/replicas-pinned-with-hpa", Fail, "spec.replicas is set while an HPA scales the workload: every apply resets the scale");
}

pub(super) fn check(facts: &WorkloadFacts<'_>, out: &mut Out) {
    let (workload, scale) = (facts.workload, &facts.scale);
    let (Some(pinned), Some(hpa), Some(max)) = (&workload.replicas, &scale.hpa, scale.hpa_max)
    else {
        return;
    };
    if pinned.value >= max {
        return; // the apply can only scale it up to where the HPA may go anyway
    }
    let object = workload.meta.display();
    out.push(
        REPLICAS_PINNED_WITH_HPA
            .finding(format!(
                "{object} sets replicas: {} while {hpa} scales it up to {max}: every apply of this manifest scales the running pods back to {}, during the deploy, whatever the load",
                pinned.value, pinned.value
            ))
            .at(workload.meta.at(pinned.pos))
            .with_fix(format!(
                "remove `replicas` from {object} and let {hpa}'s minReplicas set the floor"
            )),
        &[&workload.meta],
        &object,
        format!("replicas pinned under {hpa}"),
    );
}
