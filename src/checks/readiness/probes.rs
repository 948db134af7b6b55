//! The facts the readiness rules judge, per container: its probes and whether it serves; and
//! the loop that runs each rule (one file each, listed in [`super::CONTAINER_RULES`]) over them.

use crate::checks::kubernetes::{Analysis, Flag};
use crate::k8s::{Action, Container, Manifests, Meta, PodContainer, PortRef, Probe, Workload};

/// The longest a pod may stay in rotation after it stops being ready, in seconds:
/// periodSeconds × failureThreshold above this warns (`readiness/slow-detection`).
pub const MAX_DETECTION_SECONDS: i64 = 30;
/// Kubernetes' default `periodSeconds`.
pub const DEFAULT_PERIOD: i64 = 10;
/// Kubernetes' default `failureThreshold`.
pub const DEFAULT_FAILURE_THRESHOLD: i64 = 3;

/// One container of a workload, as the readiness rules see it.
pub struct ContainerProbes<'a> {
    pub meta: &'a Meta,
    pub container: &'a PodContainer<'a>,
}

impl ContainerProbes<'_> {
    /// The readiness probe of a serving container (a container that serves no traffic needs
    /// none, and its readiness probe is not judged).
    pub fn readiness(&self) -> Option<&Probe> {
        self.container
            .serving
            .then_some(self.container.container.readiness_probe.as_deref())
            .flatten()
    }

    /// What the readiness probe of a serving container does.
    pub fn readiness_action(&self) -> Option<&Action> {
        self.readiness()
            .and_then(|probe| probe.handler.as_ref())
            .map(|h| &h.action)
    }

    pub fn liveness(&self) -> Option<&Probe> {
        self.container.container.liveness_probe.as_deref()
    }

    /// Readiness and liveness run the same check (`readiness/same-as-liveness`).
    pub fn same_as_liveness(&self) -> bool {
        let live_action = self
            .liveness()
            .and_then(|probe| probe.handler.as_ref())
            .map(|h| &h.action);
        match (self.readiness_action(), live_action) {
            (Some(r), Some(l)) => same_check(self.container.container, r, l),
            _ => false,
        }
    }
}

/// A readiness rule over one container: what it found, if anything.
pub type ContainerRule = fn(&ContainerProbes<'_>) -> Option<Flag>;

/// Run `rules`, in order, over every container of one workload.
pub fn check(
    manifests: &Manifests,
    workload: &Workload,
    rules: &[ContainerRule],
    out: &mut Analysis,
) {
    let Some(serving_pod) = manifests.serving_pod(workload) else {
        return; // an Argo Rollout with workloadRef: its Deployment's template is checked
    };
    for container in &serving_pod.containers {
        let facts = ContainerProbes {
            meta: &workload.meta,
            container,
        };
        for rule in rules {
            if let Some(flag) = rule(&facts) {
                out.flag(flag, &workload.meta);
            }
        }
    }
    let serving = serving_pod.serving();
    if serving > 0 {
        out.serving += serving;
        out.workloads += 1;
    }
}

/// A port as a number when the container names it.
fn port_number(container: &Container, port: &Option<PortRef>) -> Option<PortRef> {
    match port {
        Some(PortRef::Name(name)) => Some(
            container
                .ports
                .iter()
                .find(|p| p.name.as_deref() == Some(name.as_str()))
                .and_then(|p| p.container_port)
                .map_or_else(|| PortRef::Name(name.clone()), PortRef::Number),
        ),
        other => other.clone(),
    }
}

pub fn http_path(path: &Option<String>) -> &str {
    match path.as_deref() {
        None | Some("") => "/",
        Some(p) => p,
    }
}

/// Whether two probe actions run the same check.
fn same_check(container: &Container, a: &Action, b: &Action) -> bool {
    match (a, b) {
        (Action::HttpGet { path: pa, port: qa }, Action::HttpGet { path: pb, port: qb }) => {
            http_path(pa) == http_path(pb)
                && port_number(container, qa) == port_number(container, qb)
        }
        (Action::TcpSocket { port: qa }, Action::TcpSocket { port: qb }) => {
            port_number(container, qa) == port_number(container, qb)
        }
        (Action::Exec { command: ca }, Action::Exec { command: cb }) => ca == cb,
        (
            Action::Grpc {
                port: pa,
                service: sa,
            },
            Action::Grpc {
                port: pb,
                service: sb,
            },
        ) => pa == pb && sa.as_deref().unwrap_or("") == sb.as_deref().unwrap_or(""),
        _ => false,
    }
}

fn show_port(port: &Option<PortRef>) -> String {
    match port {
        Some(PortRef::Number(n)) => n.to_string(),
        Some(PortRef::Name(n)) => n.clone(),
        None => "?".to_string(),
    }
}

/// "httpGet /health on port 8080"
pub fn describe(action: &Action) -> String {
    match action {
        Action::HttpGet { path, port } => {
            format!("httpGet {} on port {}", http_path(path), show_port(port))
        }
        Action::TcpSocket { port } => format!("tcpSocket on port {}", show_port(port)),
        Action::Exec { command } => format!("exec `{}`", command.join(" ")),
        Action::Grpc { port, service } => format!(
            "grpc on port {}{}",
            port.map_or("?".to_string(), |p| p.to_string()),
            service
                .as_ref()
                .map(|s| format!(" service {s}"))
                .unwrap_or_default()
        ),
        Action::Sleep { seconds } => format!("sleep {}", seconds.unwrap_or(0)),
    }
}

/// Words in a liveness path that say it checks more than the process itself.
const DEPENDENCY_WORDS: &[&str] = &[
    "ready",
    "readiness",
    "readyz",
    "deps",
    "dependencies",
    "dependency",
    "db",
    "database",
];

/// Why a liveness action looks like a dependency check, if it does.
pub fn dependency_like(readiness: Option<&Action>, liveness: Option<&Action>) -> Option<String> {
    let Some(Action::HttpGet { path, .. }) = liveness else {
        return None;
    };
    let live = http_path(path);
    if let Some(Action::HttpGet { path: ready, .. }) = readiness
        && http_path(ready) == live
        && live != "/"
    {
        return Some(format!("uses the readiness path {live}"));
    }
    let word = dependency_word(live)?;
    Some(format!(
        "path {live} looks like a dependency check (`{word}`)"
    ))
}

/// The word of an HTTP path that says it checks more than the process (`/health/db` → `db`).
pub fn dependency_word(path: &str) -> Option<&'static str> {
    let lower = path.to_ascii_lowercase();
    lower
        .split(|c: char| !c.is_ascii_alphanumeric())
        .find_map(|w| DEPENDENCY_WORDS.iter().find(|d| **d == w).copied())
}

/// An exec probe that runs the standard gRPC health check client (`grpc_health_probe`, or
/// `grpc-health-probe`): the gRPC health protocol, like a native `grpc` probe.
pub fn is_grpc_health_exec(command: &[String]) -> bool {
    command.iter().any(|part| {
        part.split_whitespace().any(|word| {
            let program = word.rsplit('/').next().unwrap_or(word);
            program == "grpc_health_probe" || program == "grpc-health-probe"
        })
    })
}
