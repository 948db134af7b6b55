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

/// Argo Rollouts `strategy.blueGreen`.
#[derive(Debug, Clone, PartialEq)]
pub struct BlueGreen {
    pub pos: Pos,
    pub active_service: Option<String>,
    pub preview_service: Option<String>,
    pub auto_promotion_enabled: Option<Field<bool>>,
    pub pre_promotion_analysis: Option<AnalysisRef>,
    pub post_promotion_analysis: Option<AnalysisRef>,
    pub scale_down_delay_seconds: Option<Field<i64>>,
}
