//! What decides whether a progressive rollout aborts: Argo Rollouts AnalysisTemplates and
//! Flagger Canaries.

use super::{Field, Meta, TargetRef};
use crate::yaml::Pos;

#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisMetric {
    pub name: String,
    pub pos: Pos,
    pub interval: Option<Field<String>>,
    pub count: Option<Field<i64>>,
    /// Default 0: the first failed measurement fails the analysis.
    pub failure_limit: Option<Field<i64>>,
    /// Listed under `spec.dryRun`: its failures never fail the analysis.
    pub dry_run: bool,
}

/// Argo Rollouts AnalysisTemplate or ClusterAnalysisTemplate.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisTemplate {
    pub meta: Meta,
    pub cluster: bool,
    pub metrics: Vec<AnalysisMetric>,
}

impl AnalysisTemplate {
    /// Whether a failing measurement can fail the analysis (and so abort the rollout).
    pub fn can_abort(&self) -> bool {
        self.metrics.iter().any(|m| !m.dry_run)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlaggerMetric {
    pub name: String,
    pub pos: Pos,
    /// `templateRef`: a Flagger MetricTemplate (name, namespace).
    pub template_ref: Option<(String, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlaggerWebhook {
    pub name: String,
    pub pos: Pos,
    /// `rollout` (the default), `pre-rollout`, `confirm-rollout`, …
    pub webhook_type: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlaggerAnalysis {
    pub pos: Pos,
    pub interval: Option<Field<String>>,
    /// Failed checks before Flagger rolls back.
    pub threshold: Option<Field<i64>>,
    pub iterations: Option<Field<i64>>,
    pub max_weight: Option<Field<i64>>,
    pub step_weight: Option<Field<i64>>,
    pub metrics: Vec<FlaggerMetric>,
    pub webhooks: Vec<FlaggerWebhook>,
}

/// Flagger `Canary`.
#[derive(Debug, Clone, PartialEq)]
pub struct FlaggerCanary {
    pub meta: Meta,
    pub target: Option<TargetRef>,
    pub autoscaler: Option<TargetRef>,
    pub skip_analysis: Option<Field<bool>>,
    pub analysis: Option<FlaggerAnalysis>,
}
