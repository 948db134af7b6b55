//! Which containers of a workload serve traffic: the facts the per-container rules of
//! `readiness` and `grace` start from, computed the same way for both.

use super::{Container, Manifests, PodSpec, Workload};

/// A workload's pod as the per-container rules see it.
#[derive(Debug)]
pub struct ServingPod<'a> {
    pub workload: &'a Workload,
    pub pod: &'a PodSpec,
    /// A Service selects the pods, so they receive traffic.
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
    /// It serves traffic: it declares ports (not only metrics ports, unless a Service selects
    /// the pods), or no container declares ports and a Service selects the pods.
    pub serving: bool,
}

impl Container {
    /// Whether the container serves on its declared ports: any port counts, except when every
    /// port is a metrics port (named `metrics`, `prometheus`, `monitoring`, …) and no Service
    /// selects the pods: a queue worker that Prometheus scrapes serves no traffic.
    pub fn serves_on_ports(&self, selected: bool) -> bool {
        !self.ports.is_empty()
            && (selected
                || self.ports.iter().any(|p| {
                    !p.name.as_deref().is_some_and(|n| {
                        let n = n.to_ascii_lowercase();
                        n.contains("metrics") || n.contains("prom") || n.contains("monitor")
                    })
                }))
    }
}

impl Manifests {
    /// The workload's pod and which of its containers serve; `None` for an Argo Rollout with
    /// `workloadRef` (its Deployment's template is what gets judged).
    pub fn serving_pod<'a>(&'a self, workload: &'a Workload) -> Option<ServingPod<'a>> {
        let pod = workload.pod.as_ref()?;
        let selected = !self.services_for(workload).is_empty();
        let any_ports = pod.containers.iter().any(|c| c.serves_on_ports(selected));
        let containers = pod
            .containers
            .iter()
            .map(|container| PodContainer {
                container,
                name: format!("{}, container {}", workload.meta.display(), container.name),
                serving: container.serves_on_ports(selected) || (!any_ports && selected),
            })
            .collect();
        Some(ServingPod {
            workload,
            pod,
            selected,
            containers,
        })
    }
}

impl ServingPod<'_> {
    /// How many of its containers serve.
    pub fn serving(&self) -> usize {
        self.containers.iter().filter(|c| c.serving).count()
    }
}
