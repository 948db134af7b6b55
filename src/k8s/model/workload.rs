//! Workloads and their pod specs: containers, ports, probes and lifecycle hooks.

use super::{Field, LabelSelector, Labels, Meta, Strategy, TargetRef};
use crate::yaml::Pos;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    /// Argo Rollouts `Rollout`.
    Rollout,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortRef {
    Number(i64),
    Name(String),
}

/// What a probe or lifecycle hook does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    HttpGet {
        path: Option<String>,
        port: Option<PortRef>,
    },
    TcpSocket {
        port: Option<PortRef>,
    },
    Exec {
        command: Vec<String>,
    },
    Grpc {
        port: Option<i64>,
        service: Option<String>,
    },
    /// The native `sleep` lifecycle action (Kubernetes 1.29+).
    Sleep {
        seconds: Option<i64>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct Handler {
    pub pos: Pos,
    pub action: Action,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub pos: Pos,
    pub handler: Option<Handler>,
    pub initial_delay_seconds: Option<Field<i64>>,
    pub period_seconds: Option<Field<i64>>,
    pub timeout_seconds: Option<Field<i64>>,
    pub success_threshold: Option<Field<i64>>,
    pub failure_threshold: Option<Field<i64>>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ContainerPort {
    pub name: Option<String>,
    pub container_port: Option<i64>,
    pub host_port: Option<i64>,
    pub pos: Pos,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Container {
    pub name: String,
    pub pos: Pos,
    pub image: Option<Field<String>>,
    pub command: Option<Field<Vec<String>>>,
    pub args: Option<Field<Vec<String>>>,
    pub ports: Vec<ContainerPort>,
    pub readiness_probe: Option<Box<Probe>>,
    pub liveness_probe: Option<Box<Probe>>,
    pub startup_probe: Option<Box<Probe>>,
    pub pre_stop: Option<Handler>,
    /// `lifecycle.postStart`: run when the container is created, with no guarantee it runs
    /// before the entrypoint (Kubernetes docs, "Container Lifecycle Hooks").
    pub post_start: Option<Handler>,
    /// Names of `env` variables: what the container says it connects to.
    pub env_names: Vec<String>,
}

impl Container {
    /// The first `env` variable that names another system the container connects to
    /// (`DATABASE_URL`, `REDIS_HOST`, `KAFKA_BROKERS`, …): a declared dependency.
    pub fn declared_dependency(&self) -> Option<&str> {
        const WORDS: &[&str] = &[
            "URL",
            "URI",
            "HOST",
            "ADDR",
            "DSN",
            "ENDPOINT",
            "DATABASE",
            "BROKER",
            "REDIS",
            "POSTGRES",
            "MYSQL",
            "MONGO",
            "KAFKA",
            "AMQP",
            "RABBIT",
            "UPSTREAM",
            "SERVICE_ADDR",
        ];
        self.env_names
            .iter()
            .find(|name| {
                let upper = name.to_ascii_uppercase();
                WORDS.iter().any(|w| upper.contains(w))
            })
            .map(String::as_str)
    }
}

/// A pod template's spec.
#[derive(Debug, Clone, PartialEq)]
pub struct PodSpec {
    pub pos: Pos,
    pub termination_grace_period_seconds: Option<Field<i64>>,
    pub containers: Vec<Container>,
    pub init_containers: Vec<Container>,
    pub host_network: bool,
}

/// Deployment, StatefulSet, DaemonSet or Argo Rollout.
#[derive(Debug, Clone, PartialEq)]
pub struct Workload {
    pub meta: Meta,
    pub kind: WorkloadKind,
    pub replicas: Option<Field<i64>>,
    pub selector: Option<LabelSelector>,
    /// The pod template's labels (what Services, PDBs and selectors match).
    pub pod_labels: Labels,
    pub min_ready_seconds: Option<Field<i64>>,
    pub revision_history_limit: Option<Field<i64>>,
    pub progress_deadline_seconds: Option<Field<i64>>,
    /// StatefulSet `podManagementPolicy` (OrderedReady by default).
    pub pod_management_policy: Option<Field<String>>,
    pub strategy: Strategy,
    pub pod: Option<PodSpec>,
    /// Argo Rollouts `workloadRef`: the pod template lives in that Deployment.
    pub workload_ref: Option<TargetRef>,
    /// The ConfigMaps and Secrets the pod template reads, and whether a change restarts it.
    pub config: super::PodConfig,
}

impl Workload {
    /// Kubernetes' default when `replicas` is unset.
    pub fn replicas_or_default(&self) -> i64 {
        self.replicas.as_ref().map_or(1, |r| r.value)
    }
}
