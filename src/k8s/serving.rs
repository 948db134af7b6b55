//! Which workloads and containers serve user traffic: the one place the Kubernetes checks
//! learn it. The per-container rules of `readiness` and `grace` start from [`ServingPod`];
//! the workload rules of `rollout` ask [`Manifests::serves_user_traffic`].
//!
//! A Service sends user traffic unless it is a metrics endpoint: every port is named like one
//! (`metrics`, `http-metrics`, `prometheus`, …) or is scraped by a Prometheus Operator
//! ServiceMonitor that selects the Service. A controller whose only Service is such a
//! endpoint (the pattern of operators and leader-elected controllers) serves no user
//! traffic: Prometheus retries a failed scrape, and no request is lost while its pod restarts.

use super::{Container, Manifests, PodSpec, Service, Workload};

/// Port names that are about the pod's own operation, not user traffic: metrics scraping,
/// health probes, profiling.
fn auxiliary_port_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    [
        "metrics", "prom", "monitor", "health", "probe", "pprof", "profil", "debug",
    ]
    .iter()
    .any(|word| name.contains(word))
}

/// A workload's pod as the per-container rules see it.
#[derive(Debug)]
pub struct ServingPod<'a> {
    pub workload: &'a Workload,
    pub pod: &'a PodSpec,
    /// A Service that sends user traffic (not a metrics Service) selects the pods.
    pub selected: bool,
    /// The pod's containers (not its init containers), in order.
    pub containers: Vec<PodContainer<'a>>,
}

/// One container of a [`ServingPod`].
#[derive(Debug)]
pub struct PodContainer<'a> {
    pub container: &'a Container,
    /// `Deployment/shop-api, container api`: how findings name it.
    pub name: String,
    /// It serves user traffic: it declares ports (not only metrics or health ports, unless a
    /// serving Service selects the pods), or no container declares ports and a serving
    /// Service selects the pods; never when the only Services selecting the pods are metrics
    /// Services.
    pub serving: bool,
}

impl Container {
    /// Whether the container serves on its declared ports: any port counts, except when every
    /// port is a metrics or health port (named `metrics`, `prometheus`, `healthz`, …) and no
    /// serving Service selects the pods: a queue worker that Prometheus scrapes serves no
    /// traffic.
    pub fn serves_on_ports(&self, selected: bool) -> bool {
        !self.ports.is_empty()
            && (selected
                || self
                    .ports
                    .iter()
                    .any(|p| !p.name.as_deref().is_some_and(auxiliary_port_name)))
    }
}

/// What the Services in front of a workload say about its traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fronted {
    /// No Service selects the pods.
    Nothing,
    /// Only metrics Services select the pods.
    MetricsOnly,
    /// A Service that sends user traffic selects the pods.
    Serving,
}

impl Manifests {
    /// Whether a Service is a metrics endpoint: every port is named like one, or is scraped by
    /// a ServiceMonitor that selects the Service.
    pub fn is_metrics_service(&self, service: &Service) -> bool {
        if service.ports.is_empty() {
            return false;
        }
        let monitors: Vec<&super::ServiceMonitor> = self
            .service_monitors
            .iter()
            .filter(|m| {
                (m.other_namespaces || m.meta.same_namespace(&service.meta))
                    && m.selector
                        .as_ref()
                        .is_some_and(|s| !s.is_empty() && s.matches(&service.meta.labels))
            })
            .collect();
        service.ports.iter().all(|port| {
            port.name.as_deref().is_some_and(auxiliary_port_name)
                || monitors.iter().any(|m| {
                    m.ports.iter().any(|scraped| {
                        port.name.as_deref() == Some(scraped.as_str())
                            || port.target_port.as_deref() == Some(scraped.as_str())
                    })
                })
        })
    }

    /// The Services selecting the workload's pods that send user traffic (not metrics ones).
    pub fn serving_services_for(&self, workload: &Workload) -> Vec<&Service> {
        self.services_for(workload)
            .into_iter()
            .filter(|s| !self.is_metrics_service(s))
            .collect()
    }

    /// What kind of Service selects the workload's pods.
    pub fn fronted_by(&self, workload: &Workload) -> Fronted {
        let services = self.services_for(workload);
        if services.is_empty() {
            Fronted::Nothing
        } else if services.iter().all(|s| self.is_metrics_service(s)) {
            Fronted::MetricsOnly
        } else {
            Fronted::Serving
        }
    }

    /// The workload's pod and which of its containers serve; `None` for an Argo Rollout with
    /// `workloadRef` (its Deployment's template is what gets judged).
    pub fn serving_pod<'a>(&'a self, workload: &'a Workload) -> Option<ServingPod<'a>> {
        let pod = workload.pod.as_ref()?;
        let fronted = self.fronted_by(workload);
        let selected = fronted == Fronted::Serving;
        let any_ports = pod.containers.iter().any(|c| c.serves_on_ports(selected));
        let containers = pod
            .containers
            .iter()
            .map(|container| PodContainer {
                container,
                name: format!("{}, container {}", workload.meta.display(), container.name),
                serving: fronted != Fronted::MetricsOnly
                    && (container.serves_on_ports(selected) || (!any_ports && selected)),
            })
            .collect();
        Some(ServingPod {
            workload,
            pod,
            selected,
            containers,
        })
    }

    /// Whether the workload serves user traffic. An Argo Rollout with `workloadRef` is judged
    /// by its Deployment's pod template.
    pub fn traffic(&self, workload: &Workload) -> Traffic {
        match self.fronted_by(workload) {
            Fronted::Serving => Traffic::Serving,
            Fronted::MetricsOnly => Traffic::None,
            Fronted::Nothing => {
                let containers = self
                    .pod_spec_of(workload)
                    .map_or(&[][..], |pod| &pod.containers[..]);
                if containers.iter().any(|c| c.serves_on_ports(false)) {
                    Traffic::Serving
                } else if containers.iter().any(|c| !c.ports.is_empty()) {
                    Traffic::None
                } else {
                    Traffic::Unknown
                }
            }
        }
    }
}

/// Whether a workload serves user traffic, as far as the manifests tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Traffic {
    /// A serving Service selects its pods, or none does and a container declares a port that
    /// is not a metrics or health port.
    Serving,
    /// Only metrics Services select its pods, or none does and its containers declare only
    /// metrics or health ports: a controller, a worker.
    None,
    /// No Service selects it and no container declares ports: the Service may live in
    /// another file; rules that need to know assume it serves.
    Unknown,
}

impl ServingPod<'_> {
    /// How many of its containers serve.
    pub fn serving(&self) -> usize {
        self.containers.iter().filter(|c| c.serving).count()
    }
}
