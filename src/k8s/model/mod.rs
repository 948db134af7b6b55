//! The typed model: the objects and fields the Kubernetes checks reason about, each with the
//! position of its key in the user's file, read leniently out of the generic YAML tree.
//!
//! Lenient means: unknown kinds and fields are ignored; a field of the wrong type (`replicas:
//! "3"`, `maxSurge: 1.5`) is recorded as a [`Problem`] and left unset, never a crash. Kubernetes
//! itself would reject such a manifest at apply time, so a problem is worth a finding.
//!
//! One file per object family: [`field`] (values with positions, problems), [`meta`] (what every
//! object has, selectors, the ignore annotation as data), [`workload`] (workloads, pod specs,
//! probes), [`strategy`] (strategies, Argo canary and blue-green), [`objects`] (PDB, HPA,
//! Service, Ingress, BackendConfig), [`analysis`] (Argo AnalysisTemplates, Flagger Canaries),
//! [`blue_green`] (plain two-Deployment blue-green pairs),
//! [`manifests`] (the whole model and its lookups); the lenient reader in [`reader`],
//! `read_workload` and `read_rollout`.

pub mod analysis;
pub mod blue_green;
pub mod config;
pub mod field;
pub mod manifests;
pub mod meta;
pub mod objects;
mod read_config;
mod read_rollout;
mod read_workload;
mod reader;
pub mod strategy;
pub mod workload;

pub use analysis::*;
pub use blue_green::*;
pub use config::*;
pub use field::*;
pub use manifests::*;
pub use meta::*;
pub use objects::*;
pub use strategy::*;
pub use workload::*;

#[cfg(test)]
mod tests;
