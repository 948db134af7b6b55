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
    /// `spec.ports`: names and target ports tell a metrics Service from a serving one.
    pub ports: Vec<ServicePort>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServicePort {
    pub name: Option<String>,
    pub port: Option<i64>,
    /// `targetPort` as written (a number or a container port name).
    pub target_port: Option<String>,
}

/// A Prometheus Operator `ServiceMonitor`: the Services it selects are scraped for metrics on
/// the ports its endpoints name.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceMonitor {
    pub meta: Meta,
    pub selector: Option<LabelSelector>,
    /// `spec.namespaceSelector` is set: it selects Services in other namespaces too.
    pub other_namespaces: bool,
    /// `spec.endpoints[].port` (Service port names) and `targetPort`s.
    pub ports: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Ingress {
    pub meta: Meta,
    /// Names of the Services it routes to.
    pub backends: Vec<String>,
    /// `spec.ingressClassName`: the IngressClass, which names the controller that serves it.
    pub class_name: Option<String>,
}

/// An `IngressClass` (networking.k8s.io/v1): which controller serves the Ingresses of that
/// class, and whether it is the cluster's default class (the annotation
/// `ingressclass.kubernetes.io/is-default-class: "true"`), which serves the Ingresses that name
/// no class (Kubernetes docs, "Ingress", "Default IngressClass").
#[derive(Debug, Clone, PartialEq)]
pub struct IngressClass {
    pub meta: Meta,
    /// `spec.controller`: `ingress.k8s.aws/alb`, `k8s.io/ingress-nginx`, …
    pub controller: Option<String>,
    pub is_default: bool,
}

/// GKE BackendConfig.
#[derive(Debug, Clone, PartialEq)]
pub struct BackendConfig {
    pub meta: Meta,
    /// `spec.connectionDraining.drainingTimeoutSec`
    pub draining_timeout_seconds: Option<Field<i64>>,
}
