//! `rollout/analysis-template-missing`: a progressive rollout references an analysis template
//! gonogo cannot see.

use super::{Out, WorkloadFacts};
use crate::declare_rule;
use crate::k8s::rollout::argo_references;
use crate::k8s::{FlaggerCanary, Manifests, WorkloadKind};

declare_rule! {
    order: 90;
    /// ## What it catches
    /// An Argo Rollouts AnalysisTemplate or ClusterAnalysisTemplate (or a Flagger
    /// MetricTemplate) that a rollout references but that is not among the manifests gonogo
    /// read.
    ///
    /// ## Why it matters during a deploy
    /// If it is not in the cluster either, Argo Rollouts marks the rollout invalid and Flagger
    /// halts the canary; if it lives elsewhere (another repository, a platform chart), gonogo
    /// cannot tell whether it aborts on failure.
    ///
    /// ## Example
    /// ```yaml
    /// steps:
    ///   - analysis:
    ///       templates: [{templateName: success-rate}]   # defined nowhere in the input
    /// ```
    ///
    /// ## Do this instead
    /// Add the template to the manifests you deploy (or pass it to gonogo with them); for a
    /// shared template, waive this rule with where it lives.
    pub ANALYSIS_TEMPLATE_MISSING = ("rollout/analysis-template-missing", Warn, "a referenced analysis template is not in the manifests");
}

/// An Argo Rollout's AnalysisTemplate references.
pub(super) fn check(facts: &WorkloadFacts<'_>, out: &mut Out) {
    let (manifests, workload) = (facts.manifests, facts.workload);
    if workload.kind != WorkloadKind::Rollout {
        return;
    }
    let object = workload.meta.display();
    let references = argo_references(workload);
    for (reference, _) in &references {
        if manifests
            .analysis_template(reference, &workload.meta)
            .is_none()
        {
            let kind = if reference.cluster_scope {
                "ClusterAnalysisTemplate"
            } else {
                "AnalysisTemplate"
            };
            out.push(
                ANALYSIS_TEMPLATE_MISSING
                    .finding(format!(
                        "{object} references {kind} `{}`, which is not in the manifests gonogo read: gonogo cannot tell whether it aborts a bad version, and Argo Rollouts rejects the rollout if the cluster lacks it too",
                        reference.name
                    ))
                    .at(workload.meta.at(reference.pos))
                    .with_fix(format!(
                        "add {kind} `{}` to the manifests (or to `checks.kubernetes.manifests`)",
                        reference.name
                    )),
                &[&workload.meta],
                &object,
                format!("{kind} {} not found", reference.name),
            );
        }
    }
}

/// A Flagger Canary's MetricTemplate references.
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
    if let Some(analysis) = &canary.analysis {
        for metric in &analysis.metrics {
            let Some((name, namespace)) = &metric.template_ref else {
                continue;
            };
            let found = manifests.metric_templates.iter().any(|t| {
                &t.name == name
                    && match (namespace, &t.namespace) {
                        (Some(a), Some(b)) => a == b,
                        _ => true,
                    }
            });
            if !found {
                out.push(
                    ANALYSIS_TEMPLATE_MISSING
                        .finding(format!(
                            "{object} metric `{}` uses MetricTemplate `{name}`, which is not in the manifests gonogo read",
                            metric.name
                        ))
                        .at(canary.meta.at(metric.pos))
                        .with_fix(format!("add MetricTemplate `{name}` to the manifests")),
                    &waivers,
                    &object,
                    format!("MetricTemplate {name} not found"),
                );
            }
        }
    }
}
