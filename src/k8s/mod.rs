//! Kubernetes manifests, shared by the `readiness`, `grace`, `rollout` and `rollback` checks:
//! workloads (Deployment, StatefulSet, DaemonSet, Argo Rollouts `Rollout`), their probes,
//! strategies and pod specs, PodDisruptionBudgets, HorizontalPodAutoscalers, Services, Ingresses,
//! GKE BackendConfigs, Argo Rollouts AnalysisTemplates and Flagger Canaries.
//!
//! Three layers: [`load`] finds and reads the inputs (`checks.kubernetes.manifests`, stdin with
//! `-`, or discovered folders); [`crate::yaml`] turns each document into a tree that knows the line and
//! column of every node; [`model`] reads the typed objects out of that tree leniently, keeping
//! the position of every field a finding may point at.

pub mod base;
pub mod load;
pub mod model;
pub mod rollout;
pub mod serving;

pub use crate::yaml::Pos;
pub use load::{Inputs, LoadError, Loaded, MAX_INPUT_BYTES, load, parse_stream};
pub use model::*;
pub use serving::{Fronted, PodContainer, ServingPod, Traffic};
