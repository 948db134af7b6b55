//! `rollout/blue-green-without-analysis`: the blue-green twin of
//! `rollout/canary-without-analysis`: an automatic promotion is only safe when something
//! tested the new version first and could stop it.

use super::{Out, WorkloadFacts};
use crate::declare_rule;
use crate::k8s::{AnalysisRef, BlueGreen, Manifests, Workload, WorkloadKind};
use crate::report::Severity;

declare_rule! {
    order: 83;
    /// ## What it catches
    /// An Argo Rollouts `blueGreen` strategy that promotes by itself (`autoPromotionEnabled`
    /// defaults to true; `autoPromotionSeconds` only delays it) with no `prePromotionAnalysis`
    /// that can fail (none, or only templates whose metrics are all `dryRun`): `fail`. With
    /// only a `postPromotionAnalysis`, the abort comes after every user is on the new version:
    /// `warn`. A `prePromotionAnalysis` with no `previewService`: `warn`, nothing sends the new
    /// pods requests before the switch, so metrics of real traffic have nothing to measure.
    /// `autoPromotionEnabled: false` (a human promotes after looking at the preview) is left
    /// alone.
    ///
    /// ## Why it matters during a deploy
    /// Argo Rollouts (docs/features/bluegreen.md) switches the active Service's selector to
    /// the new ReplicaSet as soon as its pods are available, unless a pre-promotion analysis
    /// fails first. Blue-green has no small first step: the switch moves 100% of traffic at
    /// once, so with nothing judging the new version a bad release reaches every user and
    /// stays until someone notices and aborts.
    ///
    /// ## Example
    /// ```yaml
    /// strategy:
    ///   blueGreen:
    ///     activeService: web
    ///     previewService: web-preview
    /// ```
    ///
    /// ## Do this instead
    /// ```yaml
    /// strategy:
    ///   blueGreen:
    ///     activeService: web
    ///     previewService: web-preview      # where the analysis (or a smoke-test Job) reaches it
    ///     prePromotionAnalysis:
    ///       templates: [{templateName: smoke-tests}]
    ///       args: [{name: service, value: web-preview}]
    ///     postPromotionAnalysis:           # and keep watching after the switch
    ///       templates: [{templateName: success-rate}]
    /// ```
    /// or `autoPromotionEnabled: false` and promote by hand after testing the preview.
    pub BLUE_GREEN_WITHOUT_ANALYSIS = ("rollout/blue-green-without-analysis", Fail, "a blue-green rollout promotes itself with no analysis before the switch: nothing stops a bad version from taking all traffic");
}

/// Whether an analysis block can fail the rollout: a template gonogo cannot find counts as
/// able (`rollout/analysis-template-missing` reports it), one whose metrics are all dry-run
/// cannot.
fn can_abort(manifests: &Manifests, workload: &Workload, analysis: Option<&AnalysisRef>) -> bool {
    analysis.is_some_and(|analysis| {
        analysis.templates.iter().any(|reference| {
            manifests
                .analysis_template(reference, &workload.meta)
                .is_none_or(|template| template.can_abort())
        })
    })
}

/// When the controller promotes: "as soon as the new pods are available" or after the pause.
fn when(blue_green: &BlueGreen) -> String {
    match blue_green
        .auto_promotion_seconds
        .as_ref()
        .filter(|s| s.value > 0)
    {
        Some(seconds) => format!(
            "promotes by itself {} s after the new pods are available (autoPromotionSeconds)",
            seconds.value
        ),
        None => "promotes by itself as soon as the new pods are available (autoPromotionEnabled defaults to true)".to_string(),
    }
}

pub(super) fn check(facts: &WorkloadFacts<'_>, out: &mut Out) {
    let (manifests, workload) = (facts.manifests, facts.workload);
    if workload.kind != WorkloadKind::Rollout {
        return;
    }
    let Some(blue_green) = &workload.strategy.blue_green else {
        return;
    };
    if !blue_green.auto_promotes() {
        return;
    }
    let object = workload.meta.display();
    let pre = blue_green.pre_promotion_analysis.as_ref();
    let post = blue_green.post_promotion_analysis.as_ref();
    let pos = blue_green
        .auto_promotion_enabled
        .as_ref()
        .map_or(blue_green.pos, |f| f.pos);
    let when = when(blue_green);
    let (severity, message, fix, pos) = if can_abort(manifests, workload, pre) {
        if blue_green.preview_service.is_some() {
            return;
        }
        (
            Severity::Warn,
            format!(
                "{object} {when} after its prePromotionAnalysis, but has no previewService: before the switch no Service sends the new pods requests, so an analysis of real traffic (error rate, latency) measures nothing; only one that makes its own requests (a Job or web metric against the pods) can fail it"
            ),
            format!(
                "give {object} `strategy.blueGreen.previewService` (a Service the controller points at the new ReplicaSet) and aim the analysis or a smoke-test Job at it"
            ),
            pre.map_or(pos, |p| p.pos),
        )
    } else if can_abort(manifests, workload, post) {
        (
            Severity::Warn,
            format!(
                "{object} {when} with no prePromotionAnalysis that can fail: only its postPromotionAnalysis can abort, after the switch has sent every user to the new version"
            ),
            format!(
                "add `strategy.blueGreen.prePromotionAnalysis` to {object}, testing the new version through its previewService before the switch"
            ),
            pos,
        )
    } else {
        let what = if pre.is_some() || post.is_some() {
            "with analyses whose metrics are all dry-run"
        } else {
            "with no analysis"
        };
        (
            Severity::Fail,
            format!(
                "{object} {when} {what}: the switch sends all traffic to the new version at once and nothing aborts a bad one without a human"
            ),
            format!(
                "add `strategy.blueGreen.prePromotionAnalysis` (and a previewService for it to test) to {object}, or set `autoPromotionEnabled: false` and promote by hand after checking the preview"
            ),
            pos,
        )
    };
    let mut finding = BLUE_GREEN_WITHOUT_ANALYSIS
        .finding(message)
        .at(workload.meta.at(pos))
        .with_fix(fix);
    finding.severity = severity;
    out.push(
        finding,
        &[&workload.meta],
        &object,
        "blue-green promotes without analysis",
    );
}
