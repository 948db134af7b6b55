//! `rollback/blue-green-scale-down`: a blue-green rollback is a switch of the active Service
//! only while the previous ReplicaSet still runs; once it is scaled down, a rollback is a full
//! rollout.

use super::Settings;
use super::slow_rollback::{fmt_seconds, recreate_all, slowest_metric};
use crate::checks::kubernetes::Analysis;
use crate::declare_rule;
use crate::k8s::{AnalysisRef, Manifests, Workload, WorkloadKind};
use crate::report::{Location, Severity};

declare_rule! {
    order: 25;
    /// ## What it catches
    /// An Argo Rollouts blue-green that scales the previous ReplicaSet down before a bad
    /// release is noticed, so a rollback finds nothing to switch back to:
    /// - `scaleDownDelayRevisionLimit: 0`: the controller scales it down at the switch;
    /// - an explicit `scaleDownDelaySeconds` shorter than the `postPromotionAnalysis` needs to
    ///   fail (its slowest metric's interval x failureLimit): Argo Rollouts cancels the
    ///   analysis when the delay ends (docs/features/bluegreen.md, postPromotionAnalysis), so
    ///   it can never abort;
    /// - without a post-promotion analysis, a `scaleDownDelaySeconds` (30 by default) shorter
    ///   than `rollback.detection_budget_seconds`, the time the team gives itself to notice a
    ///   bad release (not judged when the budget is unset).
    ///
    /// `fail` when re-creating every pod takes longer than `rollback.target_seconds`, `warn`
    /// otherwise (with `scaleDownDelayRevisionLimit: 0` every rollback is a re-creation, so
    /// over the target `rollback/slow-rollback` reports it instead). `scaleDownDelaySeconds: 0` is a `warn` of its own: it does not mean "at
    /// once"; the controller never scales the previous ReplicaSet down then
    /// (argo-rollouts#1992, open since v1.1), so each release keeps a second full set of pods.
    ///
    /// ## Why it matters during a deploy
    /// While the previous ReplicaSet runs, rolling back is a change of the active Service's
    /// selector: seconds. After it is scaled down, the rollback starts every pod of the old
    /// version again (image pull, start, readiness), while the bad version serves all users.
    ///
    /// ## Example
    /// ```yaml
    /// strategy:
    ///   blueGreen:
    ///     activeService: web
    ///     scaleDownDelaySeconds: 30     # with rollback.detection_budget_seconds: 300
    /// ```
    ///
    /// ## Do this instead
    /// Keep the previous ReplicaSet as long as it takes to notice a bad release
    /// (`scaleDownDelaySeconds: 600`, with `scaleDownDelayRevisionLimit: 1` so only one old
    /// version stays up), or let a `postPromotionAnalysis` decide, without an explicit
    /// `scaleDownDelaySeconds` (the controller then keeps the previous ReplicaSet until the
    /// analysis succeeds).
    pub BLUE_GREEN_SCALE_DOWN = ("rollback/blue-green-scale-down", Fail, "a blue-green scales the previous version down before a bad release is noticed: the rollback becomes a full rollout");
}

/// The slowest non-dry-run metric of a post-promotion analysis: seconds to fail (interval x
/// failureLimit, as `rollback/slow-detection` counts it) and how.
fn post_detection(
    manifests: &Manifests,
    workload: &Workload,
    analysis: &AnalysisRef,
) -> Option<(i64, String, Location)> {
    slowest_metric(manifests, workload, analysis.templates.iter())
}

pub(super) fn check(
    manifests: &Manifests,
    workload: &Workload,
    settings: &Settings,
    out: &mut Analysis,
) {
    if workload.kind != WorkloadKind::Rollout {
        return;
    }
    let Some(blue_green) = &workload.strategy.blue_green else {
        return;
    };
    let object = workload.meta.display();
    let explicit_delay = blue_green.scale_down_delay_seconds.as_ref();
    if let Some(zero) = explicit_delay.filter(|d| d.value == 0)
        && !blue_green.keeps_no_previous()
    {
        let mut finding = BLUE_GREEN_SCALE_DOWN
            .finding(format!(
                "{object} sets scaleDownDelaySeconds 0, which does not scale the previous ReplicaSet down at once: the controller then never scales it down (argo-rollouts#1992), so every release keeps a second full set of pods running; a rollback stays a switch of the active Service, but if the controller changes to the documented meaning, nothing will be left to switch back to"
            ))
            .at(workload.meta.at(zero.pos))
            .with_fix(format!(
                "say how long a rollback should stay a switch: `scaleDownDelaySeconds: 600` (or what the team needs to notice a bad release) in {object}"
            ));
        finding.severity = Severity::Warn;
        out.push(finding, &workload.meta, "scaleDownDelaySeconds 0");
        return;
    }
    let delay = blue_green.scale_down_delay();
    let post = blue_green.post_promotion_analysis.as_ref();
    let (why, location) = if let Some(limit) = blue_green
        .scale_down_delay_revision_limit
        .as_ref()
        .filter(|_| blue_green.keeps_no_previous())
    {
        (
            format!(
                "scaleDownDelayRevisionLimit {} scales the previous ReplicaSet down at the switch",
                limit.value
            ),
            workload.meta.at(limit.pos),
        )
    } else if let Some(post) = post {
        // Without an explicit delay the controller keeps the previous ReplicaSet until the
        // post-promotion analysis succeeds (scaleDownOldReplicaSetsForBlueGreen).
        let Some(explicit) = explicit_delay else {
            return;
        };
        let Some((needs, how, _)) = post_detection(manifests, workload, post) else {
            return;
        };
        if explicit.value >= needs {
            return;
        }
        (
            format!(
                "scaleDownDelaySeconds {} ends the postPromotionAnalysis before it can fail ({needs} s: {how}): Argo Rollouts cancels it and scales the previous ReplicaSet down when the delay ends",
                explicit.value
            ),
            workload.meta.at(explicit.pos),
        )
    } else {
        let Some(budget) = settings.detection_budget_seconds else {
            return;
        };
        if delay as f64 >= budget {
            return;
        }
        (
            format!(
                "the previous ReplicaSet is scaled down {delay} s after the switch (scaleDownDelaySeconds{}), before a bad release is noticed (rollback.detection_budget_seconds {})",
                if explicit_delay.is_some() {
                    ""
                } else {
                    ", 30 by default"
                },
                fmt_seconds(budget)
            ),
            explicit_delay.map_or(workload.meta.at(blue_green.pos), |d| {
                workload.meta.at(d.pos)
            }),
        )
    };
    let recreate = recreate_all(manifests, workload);
    let target = settings.target();
    if blue_green.keeps_no_previous() && recreate.seconds as f64 > target {
        // `rollback/slow-rollback` estimates this re-creation and fails it, naming the limit.
        return;
    }
    let mut finding = BLUE_GREEN_SCALE_DOWN
        .finding(format!(
            "{object}: {why}; a rollback then starts every pod again instead of switching the active Service back: {}",
            recreate.arithmetic
        ))
        .at(location)
        .with_fix(format!(
            "keep the previous ReplicaSet of {object} as long as it takes to notice a bad release: `scaleDownDelaySeconds` of that many seconds (with `scaleDownDelayRevisionLimit: 1`), or a postPromotionAnalysis without an explicit scaleDownDelaySeconds"
        ));
    if recreate.seconds as f64 <= target {
        finding.severity = Severity::Warn;
        finding
            .message
            .push_str(&format!(", within the {} s target", fmt_seconds(target)));
    } else {
        finding
            .message
            .push_str(&format!(", over the {} s target", fmt_seconds(target)));
    }
    out.push(
        finding,
        &workload.meta,
        "previous version scaled down before a bad release is noticed",
    );
}
