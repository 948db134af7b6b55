//! How a workload replaces its pods: Kubernetes' strategies and Argo Rollouts' canary and
//! blue-green, with the analyses they reference.

use super::{Field, IntOrPercent};
use crate::yaml::Pos;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrategyKind {
    RollingUpdate,
    Recreate,
    OnDelete,
    /// Argo Rollouts canary.
    Canary,
    /// Argo Rollouts blue-green.
    BlueGreen,
    Other(String),
}

/// How a workload replaces its pods: `spec.strategy` (Deployment, Rollout) or
/// `spec.updateStrategy` (StatefulSet, DaemonSet), with Kubernetes' default type when unset.
#[derive(Debug, Clone, PartialEq)]
pub struct Strategy {
    pub kind: StrategyKind,
    /// The `strategy:` / `updateStrategy:` key, when present.
    pub pos: Option<Pos>,
    /// `type: Recreate`, when written.
    pub type_field: Option<Field<String>>,
    pub max_surge: Option<Field<IntOrPercent>>,
    pub max_unavailable: Option<Field<IntOrPercent>>,
    /// StatefulSet `rollingUpdate.partition`.
    pub partition: Option<Field<i64>>,
    // Boxed (like the probes below): most workloads have neither, and a stream of 100,000
    // workloads keeps every Workload in memory.
    pub canary: Option<Box<Canary>>,
    pub blue_green: Option<Box<BlueGreen>>,
}

/// A reference to an Argo Rollouts AnalysisTemplate or ClusterAnalysisTemplate.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateRef {
    pub name: String,
    pub cluster_scope: bool,
    pub pos: Pos,
}

/// An `analysis:` block (a canary step, background analysis, or blue-green pre/post promotion).
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisRef {
    pub pos: Pos,
    pub templates: Vec<TemplateRef>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum CanaryStep {
    SetWeight(Field<i64>),
    /// `pause: {}` waits for a human; `pause: {duration: 10m}` waits.
    Pause {
        pos: Pos,
        duration: Option<Field<String>>,
    },
    Analysis(AnalysisRef),
    Experiment {
        pos: Pos,
        analyses: Vec<TemplateRef>,
    },
    Other(Pos),
}

/// Argo Rollouts `strategy.canary`.
#[derive(Debug, Clone, PartialEq)]
pub struct Canary {
    pub pos: Pos,
    pub steps: Vec<CanaryStep>,
    /// Background analysis (`canary.analysis`), running for the whole rollout.
    pub background_analysis: Option<AnalysisRef>,
    /// With traffic routing, the stable ReplicaSet stays fully scaled until promotion and
    /// maxSurge/maxUnavailable do not apply.
    pub traffic_routing: bool,
    pub dynamic_stable_scale: bool,
    pub stable_service: Option<String>,
    pub canary_service: Option<String>,
}

/// Argo Rollouts `strategy.blueGreen` (fields and defaults as documented in
/// argo-rollouts docs/features/bluegreen.md and `BlueGreenStrategy` in its types.go).
#[derive(Debug, Clone, PartialEq)]
pub struct BlueGreen {
    pub pos: Pos,
    /// `activeService`: the Service whose selector the controller switches at promotion.
    pub active_service: Option<Field<String>>,
    /// `previewService`: the Service that reaches the new ReplicaSet before promotion.
    pub preview_service: Option<Field<String>>,
    /// Default true: promote as soon as the new ReplicaSet is available.
    pub auto_promotion_enabled: Option<Field<bool>>,
    /// Seconds to wait (paused) before auto-promotion; ignored when auto-promotion is off.
    pub auto_promotion_seconds: Option<Field<i64>>,
    pub pre_promotion_analysis: Option<AnalysisRef>,
    pub post_promotion_analysis: Option<AnalysisRef>,
    /// Default 30: how long the previous ReplicaSet stays up after the switch.
    pub scale_down_delay_seconds: Option<Field<i64>>,
    /// How many previous ReplicaSets stay up for their delay (unset: all of them).
    pub scale_down_delay_revision_limit: Option<Field<i64>>,
    /// Default 30: how long the new ReplicaSet stays up after an abort (0: forever).
    pub abort_scale_down_delay_seconds: Option<Field<i64>>,
    /// Pods of the new ReplicaSet before promotion (unset: `replicas`).
    pub preview_replica_count: Option<Field<i64>>,
}

/// `scaleDownDelaySeconds` when unset (`DefaultScaleDownDelaySeconds` in Argo Rollouts'
/// utils/defaults).
pub const DEFAULT_SCALE_DOWN_DELAY_SECONDS: i64 = 30;

impl BlueGreen {
    /// Whether the controller promotes without a human: `autoPromotionEnabled` defaults to true.
    pub fn auto_promotes(&self) -> bool {
        self.auto_promotion_enabled.as_ref().is_none_or(|f| f.value)
    }

    /// The effective `scaleDownDelaySeconds`.
    pub fn scale_down_delay(&self) -> i64 {
        self.scale_down_delay_seconds
            .as_ref()
            .map_or(DEFAULT_SCALE_DOWN_DELAY_SECONDS, |f| f.value)
    }

    /// `scaleDownDelayRevisionLimit: 0`: the controller scales the previous ReplicaSet down at
    /// the switch (`scaleDownDelayHelper` in rollout/replicaset.go keeps only the newest
    /// `limit` old ReplicaSets up).
    pub fn keeps_no_previous(&self) -> bool {
        self.scale_down_delay_revision_limit
            .as_ref()
            .is_some_and(|f| f.value <= 0)
    }
}
