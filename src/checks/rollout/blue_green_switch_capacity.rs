//! `rollout/blue-green-switch-capacity`: where a blue-green switch really loses capacity: the
//! side users leave is gone before every node routes to the new one, or the side they reach
//! is smaller.

use super::{Out, WorkloadFacts};
use crate::declare_rule;
use crate::k8s::rollout::Scale;
use crate::k8s::{BlueGreen, DEFAULT_SCALE_DOWN_DELAY_SECONDS, Traffic, Workload, WorkloadKind};
use crate::report::{Location, Severity};

declare_rule! {
    order: 86;
    /// ## What it catches
    /// The serving capacity of a blue-green switch:
    /// - Argo Rollouts `scaleDownDelayRevisionLimit: 0` (the previous ReplicaSet is scaled
    ///   down at the switch) or `scaleDownDelaySeconds` between 1 and 29: the pods users are
    ///   leaving stop before every node has the Service's new endpoints;
    /// - `abortScaleDownDelaySeconds` between 1 and 29 with a `postPromotionAnalysis`: an
    ///   abort after the switch sends traffic back and stops the new pods just as early;
    /// - plain blue-green (two Deployments, one Service selecting one by a colour label): the
    ///   side the Service selects runs fewer replicas than the other, so switching to it
    ///   drops capacity. (The sides' own rolling updates are not judged by
    ///   `rollout/capacity-drops`: each side is updated while the Service selects the other.)
    ///
    /// Not reported, because they do not lose serving capacity: `previewReplicaCount` (the
    /// controller scales the new ReplicaSet to `replicas` and waits for it before switching,
    /// docs/features/bluegreen.md), `scaleDownDelaySeconds: 0` (the controller never scales
    /// the previous ReplicaSet down then, argo-rollouts#1992; `rollback/blue-green-scale-down`
    /// reports it) and `abortScaleDownDelaySeconds: 0` (the aborted pods stay up).
    ///
    /// ## Why it matters during a deploy
    /// A Service selector change reaches each node's kube-proxy (and any load balancer that
    /// follows endpoints) after a propagation delay; until then those nodes keep sending
    /// requests to the old pods. Argo Rollouts waits `scaleDownDelaySeconds` (30 by default,
    /// "a minimum of 30 seconds is recommended to ensure IP table propagation", its
    /// BlueGreenStrategy docs) before stopping them; stopping them sooner turns those requests
    /// into connection errors at the moment of the release.
    ///
    /// ## Example
    /// ```yaml
    /// strategy:
    ///   blueGreen:
    ///     activeService: web
    ///     scaleDownDelayRevisionLimit: 0
    /// ```
    ///
    /// ## Do this instead
    /// Keep the default (`scaleDownDelaySeconds: 30`, no revision limit or a limit of 1 or
    /// more), or longer when a rollback should stay a switch. In plain blue-green, scale the
    /// side you switch to to the same replicas as the side serving now before the switch.
    pub BLUE_GREEN_SWITCH_CAPACITY = ("rollout/blue-green-switch-capacity", Warn, "a blue-green switch stops the old pods before traffic has left them, or switches to a smaller side");
}

pub(super) fn check(facts: &WorkloadFacts<'_>, out: &mut Out) {
    let workload = facts.workload;
    let serving = facts.traffic != Traffic::None;
    match (&workload.kind, &workload.strategy.blue_green) {
        (WorkloadKind::Rollout, Some(blue_green)) => argo(workload, blue_green, serving, out),
        (WorkloadKind::Deployment, _) => plain(facts, serving, out),
        _ => {}
    }
}

fn argo(workload: &Workload, blue_green: &BlueGreen, serving: bool, out: &mut Out) {
    let object = workload.meta.display();
    let early = |seconds: i64| (1..DEFAULT_SCALE_DOWN_DELAY_SECONDS).contains(&seconds);
    let mut problems: Vec<(String, String, Location)> = Vec::new();
    if let Some(limit) = blue_green
        .scale_down_delay_revision_limit
        .as_ref()
        .filter(|_| blue_green.keeps_no_previous())
    {
        problems.push((
            format!(
                "{object} has scaleDownDelayRevisionLimit {}: the controller scales the previous ReplicaSet down at the switch, while nodes that have not yet seen the active Service's new selector still send it requests",
                limit.value
            ),
            format!(
                "remove scaleDownDelayRevisionLimit from {object} or set it to 1 or more, so the previous ReplicaSet stays up for scaleDownDelaySeconds"
            ),
            workload.meta.at(limit.pos),
        ));
    } else if let Some(delay) = blue_green
        .scale_down_delay_seconds
        .as_ref()
        .filter(|d| early(d.value))
    {
        problems.push((
            format!(
                "{object} scales the previous ReplicaSet down {} s after the switch (scaleDownDelaySeconds), under the {DEFAULT_SCALE_DOWN_DELAY_SECONDS} s Argo Rollouts recommends for the selector change to reach every node: requests still routed to the old pods fail",
                delay.value
            ),
            format!(
                "set `scaleDownDelaySeconds: {DEFAULT_SCALE_DOWN_DELAY_SECONDS}` or more in {object} (or remove it: 30 is the default)"
            ),
            workload.meta.at(delay.pos),
        ));
    }
    if let (Some(delay), Some(_)) = (
        blue_green
            .abort_scale_down_delay_seconds
            .as_ref()
            .filter(|d| early(d.value)),
        &blue_green.post_promotion_analysis,
    ) {
        problems.push((
            format!(
                "{object} scales the new ReplicaSet down {} s after an abort (abortScaleDownDelaySeconds); when its postPromotionAnalysis aborts after the switch, traffic switches back and the new pods stop before every node routes away from them",
                delay.value
            ),
            format!(
                "set `abortScaleDownDelaySeconds: {DEFAULT_SCALE_DOWN_DELAY_SECONDS}` or more in {object} (or remove it: 30 is the default)"
            ),
            workload.meta.at(delay.pos),
        ));
    }
    for (message, fix, location) in problems {
        push(workload, message, fix, location, serving, out);
    }
}

/// Plain blue-green: judged on the side the Service selects.
fn plain(facts: &WorkloadFacts<'_>, serving: bool, out: &mut Out) {
    let manifests = facts.manifests;
    let Some(pair) = manifests.plain_blue_green(facts.workload) else {
        return;
    };
    if !std::ptr::eq(pair.active, facts.workload) {
        return;
    }
    let active = facts.scale.replicas;
    let idle = Scale::of(manifests, pair.idle).replicas;
    if active <= 0 || idle <= active {
        return;
    }
    let object = pair.active.meta.display();
    let message = format!(
        "{} selects {object} ({}: {}) with {active} replicas, while {} ({}: {}) runs {idle}: a switch to {object} drops capacity from {idle} to {active} pods",
        pair.service.meta.display(),
        pair.key,
        pair.active_value(),
        pair.idle.meta.display(),
        pair.key,
        pair.idle_value(),
    );
    let fix = format!(
        "scale {object} to {idle} replicas and wait for them to be ready before switching {}",
        pair.service.meta.display()
    );
    let pos = pair
        .active
        .replicas
        .as_ref()
        .map_or(pair.active.meta.pos, |r| r.pos);
    push(
        pair.active,
        message,
        fix,
        pair.active.meta.at(pos),
        serving,
        out,
    );
}

fn push(
    workload: &Workload,
    message: String,
    fix: String,
    location: Location,
    serving: bool,
    out: &mut Out,
) {
    let object = workload.meta.display();
    let mut finding = BLUE_GREEN_SWITCH_CAPACITY
        .finding(message)
        .at(location)
        .with_fix(fix);
    if !serving {
        finding.severity = Severity::Info;
        finding.message.push_str(
            "; it serves no user traffic (no Service sends it requests, or only a metrics Service), so no request is lost",
        );
    }
    out.push(
        finding,
        &[&workload.meta],
        &object,
        "blue-green switch loses capacity",
    );
}
