//! `rollout/canary-without-analysis`: a progressive rollout is only safer than a rolling update
//! when something watches it and aborts it without a human.

use super::{Out, WorkloadFacts};
use crate::declare_rule;
use crate::k8s::rollout::argo_references;
use crate::k8s::{CanaryStep, FlaggerCanary, Manifests, TemplateRef, WorkloadKind};

declare_rule! {
    order: 80;
    /// ## What it catches
    /// An Argo Rollouts canary (steps or traffic routing) with no analysis that can fail it:
    /// no `analysis` step, no background `analysis`, no experiment with analyses, or only
    /// templates whose metrics are all `dryRun`. A Flagger `Canary` with `skipAnalysis: true`,
    /// or whose analysis has neither metrics nor rollout webhooks (it would only wait for pods
    /// to be ready).
    ///
    /// ## Why it matters during a deploy
    /// A canary without automated rollback is a smaller blast radius with manual intervention:
    /// the bad version serves its share of traffic until someone notices and runs
    /// `kubectl argo rollouts abort`, and timed pauses promote it whether or not it works.
    ///
    /// ## Example
    /// ```yaml
    /// strategy:
    ///   canary:
    ///     steps:
    ///       - setWeight: 20
    ///       - pause: {duration: 10m}
    /// ```
    ///
    /// ## Do this instead
    /// ```yaml
    /// strategy:
    ///   canary:
    ///     analysis:                # runs for the whole rollout, aborts it on failure
    ///       templates: [{templateName: success-rate}]
    ///       startingStep: 1
    ///     steps:
    ///       - setWeight: 20
    ///       - pause: {duration: 10m}
    /// ```
    /// and an AnalysisTemplate whose metric has a `successCondition` and a `failureLimit`
    /// (Flagger: `analysis.metrics` with `thresholdRange`, and `threshold`).
    pub CANARY_WITHOUT_ANALYSIS = ("rollout/canary-without-analysis", Fail, "a canary without automated analysis: nothing aborts a bad version without a human");
}

/// An Argo Rollouts canary.
pub(super) fn check(facts: &WorkloadFacts<'_>, out: &mut Out) {
    let (manifests, workload) = (facts.manifests, facts.workload);
    if workload.kind != WorkloadKind::Rollout {
        return;
    }
    let object = workload.meta.display();
    let references = argo_references(workload);
    let Some(canary) = &workload.strategy.canary else {
        return;
    };
    // A canary without steps or traffic routing is a plain rolling update.
    if canary.steps.is_empty() && !canary.traffic_routing {
        return;
    }
    let canary_refs: Vec<&TemplateRef> = references
        .iter()
        .filter(|(_, role)| *role != "promotion analysis")
        .map(|(t, _)| *t)
        .collect();
    let can_abort = canary_refs.iter().any(|reference| {
        manifests
            .analysis_template(reference, &workload.meta)
            .is_none_or(|template| template.can_abort())
    });
    if can_abort {
        return;
    }
    let weights: Vec<String> = canary
        .steps
        .iter()
        .filter_map(|s| match s {
            CanaryStep::SetWeight(w) => Some(format!("{}%", w.value)),
            _ => None,
        })
        .collect();
    let manual = canary
        .steps
        .iter()
        .any(|s| matches!(s, CanaryStep::Pause { duration: None, .. }));
    let how = match (weights.is_empty(), manual) {
        (false, true) => format!(
            "shifts traffic in steps ({}) and waits for a human to promote",
            weights.join(", ")
        ),
        (false, false) => format!("shifts traffic in steps ({}) on timers", weights.join(", ")),
        (true, _) => "runs a canary".to_string(),
    };
    let what = if canary_refs.is_empty() {
        "with no analysis".to_string()
    } else {
        "whose analysis only has dry-run metrics".to_string()
    };
    out.push(
        CANARY_WITHOUT_ANALYSIS
            .finding(format!(
                "{object} {how} {what}: a canary without automated rollback is a smaller blast radius with manual intervention"
            ))
            .at(workload.meta.at(canary.pos))
            .with_fix(format!(
                "add background analysis to {object} (`strategy.canary.analysis.templates: [{{templateName: …}}]`) with an AnalysisTemplate whose metrics fail on errors or latency"
            )),
        &[&workload.meta],
        &object,
        "canary without automated analysis",
    );
}

/// A Flagger Canary.
pub(super) fn flagger(manifests: &Manifests, canary: &FlaggerCanary, out: &mut Out) {
    let object = canary.meta.display();
    let target = canary
        .target
        .as_ref()
        .and_then(|t| manifests.workload(&t.kind, &t.name, &canary.meta));
    let mut waivers = vec![&canary.meta];
    if let Some(target) = target {
        waivers.push(&target.meta);
    }
    let skipped = canary.skip_analysis.as_ref().filter(|s| s.value);
    let (why, pos) = match (&canary.analysis, skipped) {
        (_, Some(skip)) => (
            "skipAnalysis: true promotes without checks".to_string(),
            skip.pos,
        ),
        (None, None) => ("it has no analysis".to_string(), canary.meta.pos),
        (Some(analysis), None) => {
            let checks = analysis.metrics.len()
                + analysis
                    .webhooks
                    .iter()
                    .filter(|w| w.webhook_type == "rollout")
                    .count();
            if checks > 0 {
                return;
            }
            (
                "its analysis has no metrics and no rollout webhooks, so it only waits for pods to be ready".to_string(),
                analysis.pos,
            )
        }
    };
    out.push(
        CANARY_WITHOUT_ANALYSIS
            .finding(format!(
                "{object}: {why}; a canary without automated rollback is a smaller blast radius with manual intervention"
            ))
            .at(canary.meta.at(pos))
            .with_fix(format!(
                "give {object} `analysis.metrics` (request-success-rate with a thresholdRange) and a `threshold`, and remove skipAnalysis"
            )),
        &waivers,
        &object,
        "canary without automated analysis",
    );
}
