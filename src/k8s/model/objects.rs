//! The objects around a workload: PodDisruptionBudgets, HorizontalPodAutoscalers, Services,
//! Ingresses and GKE BackendConfigs.

use super::{Field, IntOrPercent, LabelSelector, Meta, TargetRef};

#[derive(Debug, Clone, PartialEq)]
pub struct PodDisruptionBudget {
    pub meta: Meta,
    pub selector: Option<LabelSelector>,
    pub min_available: Option<Field<IntOrPercent>>,
    pub max_unavailable: Option<Field<IntOrPercent>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HorizontalPodAutoscaler {
    pub meta: Meta,
    pub target: Option<TargetRef>,
    /// Default 1.
    pub min_replicas: Option<Field<i64>>,
    pub max_replicas: Option<Field<i64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub meta: Meta,
    /// `None`: no selector (endpoints managed by hand); never matches a workload.
    pub selector: Option<LabelSelector>,
    pub service_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ingress {
    pub meta: Meta,
    /// Names of the Services it routes to.
    pub backends: Vec<String>,
}

/// GKE BackendConfig.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendConfig {
    pub meta: Meta,
    /// `spec.connectionDraining.drainingTimeoutSec`
    pub draining_timeout_seconds: Option<Field<i64>>,
}
