//! Everything read from the manifests, how each document enters the model, and the lookups the
//! checks make between objects (a workload's PDBs, HPA, Services, Flagger canary, pod template).

use super::reader::Reader;
use super::*;
use crate::yaml::{Node, Value};
use std::collections::HashMap;

/// Everything read from the manifests.
#[derive(Debug, Clone, Default)]
pub struct Manifests {
    /// Files read, relative to the project root.
    pub files: Vec<String>,
    pub documents: usize,
    pub workloads: Vec<Workload>,
    pub pdbs: Vec<PodDisruptionBudget>,
    pub hpas: Vec<HorizontalPodAutoscaler>,
    pub services: Vec<Service>,
    pub service_monitors: Vec<ServiceMonitor>,
    pub ingresses: Vec<Ingress>,
    pub ingress_classes: Vec<IngressClass>,
    pub backend_configs: Vec<BackendConfig>,
    pub analysis_templates: Vec<AnalysisTemplate>,
    pub flagger_canaries: Vec<FlaggerCanary>,
    /// ConfigMaps and Secrets (keys and value fingerprints, never values).
    pub config_objects: Vec<ConfigObject>,
    /// Names of Flagger MetricTemplates.
    pub metric_templates: Vec<Meta>,
    pub problems: Vec<Problem>,
    /// Lookups by label and by name, built on first use: a stream of thousands of workloads
    /// must not cost workloads × PDBs selector matches.
    index: std::sync::OnceLock<Index>,
}

/// Positions in [`Manifests`]' vectors, keyed for the lookups the checks make.
#[derive(Debug, Clone, Default)]
struct Index {
    /// PDBs by one `matchLabels` pair of their selector; the rest (expressions only, empty
    /// selector) are always candidates.
    pdbs_by_label: HashMap<(String, String), Vec<usize>>,
    pdbs_other: Vec<usize>,
    services_by_label: HashMap<(String, String), Vec<usize>>,
    /// HPAs and Flagger canaries by the (kind, name) they target.
    hpas_by_target: HashMap<(String, String), Vec<usize>>,
    canaries_by_target: HashMap<(String, String), Vec<usize>>,
    workloads_by_name: HashMap<(String, String), Vec<usize>>,
    /// (kind, name) of Deployments that an Argo Rollout uses as its pod template.
    rollout_templates: HashMap<(String, String), Vec<usize>>,
    /// For plain blue-green pairing; built after the rest (it reads templates and labels).
    blue_green: std::sync::OnceLock<super::blue_green::PairIndex>,
}

/// How many of the given selectors hold each label pair.
pub(super) fn label_pair_counts<'a>(
    selectors: impl Iterator<Item = &'a super::Labels>,
) -> HashMap<(&'a str, &'a str), usize> {
    let mut counts = HashMap::new();
    for labels in selectors {
        for (k, v) in labels.iter() {
            *counts.entry((k.as_str(), v.as_str())).or_insert(0) += 1;
        }
    }
    counts
}

/// The `n` pairs of `labels` the fewest selectors share (ties in label order).
pub(super) fn rarest_pairs<'a>(
    labels: &'a super::Labels,
    counts: &HashMap<(&str, &str), usize>,
    n: usize,
) -> Vec<(&'a String, &'a String)> {
    let mut pairs: Vec<(&String, &String)> = labels.iter().collect();
    pairs.sort_by_key(|(k, v)| counts.get(&(k.as_str(), v.as_str())).copied().unwrap_or(0));
    pairs.truncate(n);
    pairs
}

fn key(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

impl Index {
    fn build(m: &Manifests) -> Index {
        let mut index = Index::default();
        for (i, pdb) in m.pdbs.iter().enumerate() {
            match pdb
                .selector
                .as_ref()
                .and_then(|s| s.match_labels.iter().next())
            {
                Some((k, v)) => index.pdbs_by_label.entry(key(k, v)).or_default().push(i),
                None => index.pdbs_other.push(i),
            }
        }
        // A Service selects a workload only if every pair of its selector is among the pod's
        // labels, so one pair finds it: the rarest, so that a pair most Services share
        // (`color: green` in a blue-green stream) does not make every lookup read them all.
        let selectors = || m.services.iter().filter_map(|s| s.selector.as_ref());
        let counts = label_pair_counts(selectors().map(|s| &s.match_labels));
        for (i, service) in m.services.iter().enumerate() {
            let Some(selector) = &service.selector else {
                continue;
            };
            if let Some((k, v)) = rarest_pairs(&selector.match_labels, &counts, 1).first() {
                index
                    .services_by_label
                    .entry(key(k, v))
                    .or_default()
                    .push(i);
            }
        }
        for (i, hpa) in m.hpas.iter().enumerate() {
            if let Some(t) = &hpa.target {
                index
                    .hpas_by_target
                    .entry(key(&t.kind, &t.name))
                    .or_default()
                    .push(i);
            }
        }
        for (i, canary) in m.flagger_canaries.iter().enumerate() {
            if let Some(t) = &canary.target {
                index
                    .canaries_by_target
                    .entry(key(&t.kind, &t.name))
                    .or_default()
                    .push(i);
            }
        }
        for (i, workload) in m.workloads.iter().enumerate() {
            index
                .workloads_by_name
                .entry(key(&workload.meta.kind, &workload.meta.name))
                .or_default()
                .push(i);
            if let Some(t) = &workload.workload_ref {
                index
                    .rollout_templates
                    .entry(key(&t.kind, &t.name))
                    .or_default()
                    .push(i);
            }
        }
        index
    }
}

impl Manifests {
    fn index(&self) -> &Index {
        self.index.get_or_init(|| Index::build(self))
    }

    pub(super) fn pair_index(&self) -> &super::blue_green::PairIndex {
        (self.index().blue_green).get_or_init(|| super::blue_green::PairIndex::build(self))
    }

    /// Add everything read from other inputs.
    pub fn extend(&mut self, other: Manifests) {
        self.index = std::sync::OnceLock::new();
        self.files.extend(other.files);
        self.documents += other.documents;
        self.workloads.extend(other.workloads);
        self.pdbs.extend(other.pdbs);
        self.hpas.extend(other.hpas);
        self.services.extend(other.services);
        self.service_monitors.extend(other.service_monitors);
        self.ingresses.extend(other.ingresses);
        self.ingress_classes.extend(other.ingress_classes);
        self.backend_configs.extend(other.backend_configs);
        self.analysis_templates.extend(other.analysis_templates);
        self.flagger_canaries.extend(other.flagger_canaries);
        self.config_objects.extend(other.config_objects);
        self.metric_templates.extend(other.metric_templates);
        self.problems.extend(other.problems);
    }

    /// Read one parsed document into the model. Unknown kinds are ignored.
    pub fn add_document(&mut self, file: &str, root: &Node) {
        self.index = std::sync::OnceLock::new();
        self.documents += 1;
        let kind = root.get("kind").and_then(Node::as_str).unwrap_or("");
        let api_version = root.get("apiVersion").and_then(Node::as_str).unwrap_or("");
        let group = api_version.split('/').next().unwrap_or("");
        if kind == "List" || kind.ends_with("List") && root.get("items").is_some() {
            for item in root.get("items").map(Node::items).unwrap_or(&[]) {
                self.add_document(file, item);
                self.documents -= 1;
            }
            return;
        }
        let known = matches!(
            (kind, group),
            (
                "Deployment" | "StatefulSet" | "DaemonSet",
                "apps" | "extensions"
            ) | ("Rollout", "argoproj.io")
                | (
                    "AnalysisTemplate" | "ClusterAnalysisTemplate",
                    "argoproj.io"
                )
                | ("Canary" | "MetricTemplate", "flagger.app")
                | ("PodDisruptionBudget", "policy")
                | ("HorizontalPodAutoscaler", "autoscaling")
                | ("Service", "v1")
                | ("ServiceMonitor", "monitoring.coreos.com")
                | ("Ingress", "networking.k8s.io" | "extensions")
                | ("IngressClass", "networking.k8s.io")
                | ("BackendConfig", "cloud.google.com")
                | ("ConfigMap" | "Secret", "v1")
        );
        if !known {
            return;
        }
        let mut reader = Reader {
            file,
            object: String::new(),
            ignore: IgnoreAnnotation::default(),
            problems: &mut self.problems,
        };
        let meta = reader.meta(root, kind, api_version);
        let spec = reader.map(root, "", "spec", Concern::Rollout);
        let empty = Node {
            value: Value::Map(Vec::new()),
            pos: meta.pos,
        };
        let spec = spec.unwrap_or(&empty);
        match kind {
            "Deployment" | "StatefulSet" | "DaemonSet" | "Rollout" => {
                let workload = reader.workload(meta, spec);
                self.workloads.push(workload);
            }
            "AnalysisTemplate" | "ClusterAnalysisTemplate" => {
                let template = reader.analysis_template(meta, spec);
                self.analysis_templates.push(template);
            }
            "Canary" => {
                let canary = reader.flagger_canary(meta, spec);
                self.flagger_canaries.push(canary);
            }
            "MetricTemplate" => self.metric_templates.push(meta),
            "ConfigMap" | "Secret" => {
                let kind = match kind {
                    "Secret" => ConfigKind::Secret,
                    _ => ConfigKind::ConfigMap,
                };
                let object = reader.config_object(meta, root, kind);
                self.config_objects.push(object);
            }
            "PodDisruptionBudget" => {
                let pdb = PodDisruptionBudget {
                    selector: reader.selector(spec, "spec", "selector"),
                    min_available: reader.int_or_percent(spec, "spec", "minAvailable"),
                    max_unavailable: reader.int_or_percent(spec, "spec", "maxUnavailable"),
                    meta,
                };
                self.pdbs.push(pdb);
            }
            "HorizontalPodAutoscaler" => {
                let hpa = HorizontalPodAutoscaler {
                    target: reader.target_ref(spec, "spec", "scaleTargetRef"),
                    min_replicas: reader.int(spec, "spec", "minReplicas", Concern::Rollout),
                    max_replicas: reader.int(spec, "spec", "maxReplicas", Concern::Rollout),
                    meta,
                };
                self.hpas.push(hpa);
            }
            "Service" => {
                let selector = reader
                    .string_map(spec, "spec", "selector", Concern::Rollout)
                    .map(|(labels, pos)| LabelSelector {
                        match_labels: labels,
                        match_expressions: Vec::new(),
                        pos,
                    });
                let service = Service {
                    selector,
                    service_type: reader
                        .string(spec, "spec", "type", Concern::Rollout)
                        .map(|f| f.value),
                    ports: service_ports(spec),
                    meta,
                };
                self.services.push(service);
            }
            "ServiceMonitor" => {
                let monitor = ServiceMonitor {
                    selector: reader.selector(spec, "spec", "selector"),
                    other_namespaces: spec.get("namespaceSelector").is_some(),
                    ports: spec
                        .get("endpoints")
                        .map(Node::items)
                        .unwrap_or(&[])
                        .iter()
                        .flat_map(|e| [e.get("port"), e.get("targetPort")])
                        .flatten()
                        .filter_map(Node::as_key)
                        .collect(),
                    meta,
                };
                self.service_monitors.push(monitor);
            }
            "Ingress" => {
                let ingress = Ingress {
                    backends: ingress_backends(spec),
                    class_name: spec
                        .get("ingressClassName")
                        .and_then(Node::as_str)
                        .map(str::to_string),
                    meta,
                };
                self.ingresses.push(ingress);
            }
            "IngressClass" => {
                let is_default = meta
                    .annotations
                    .get("ingressclass.kubernetes.io/is-default-class")
                    .is_some_and(|a| a.value.trim() == "true");
                let class = IngressClass {
                    controller: spec
                        .get("controller")
                        .and_then(Node::as_str)
                        .map(str::to_string),
                    is_default,
                    meta,
                };
                self.ingress_classes.push(class);
            }
            "BackendConfig" => {
                let draining = reader.map(spec, "spec", "connectionDraining", Concern::Termination);
                let config = BackendConfig {
                    draining_timeout_seconds: draining.and_then(|d| {
                        reader.int(
                            d,
                            "spec.connectionDraining",
                            "drainingTimeoutSec",
                            Concern::Termination,
                        )
                    }),
                    meta,
                };
                self.backend_configs.push(config);
            }
            _ => {}
        }
    }

    /// The controller that serves `ingress`, when the manifests say: its `ingressClassName`'s
    /// IngressClass, or, for an Ingress that names no class (neither the field nor the older
    /// `kubernetes.io/ingress.class` annotation), the default IngressClass.
    pub fn ingress_controller(&self, ingress: &Ingress) -> Option<&str> {
        let class = match &ingress.class_name {
            Some(name) => self.ingress_classes.iter().find(|c| &c.meta.name == name),
            None if ingress
                .meta
                .annotations
                .contains_key("kubernetes.io/ingress.class") =>
            {
                None
            }
            None => self.ingress_classes.iter().find(|c| c.is_default),
        };
        class?.controller.as_deref()
    }

    /// The HPA scaling this workload, if any.
    pub fn hpa_for(&self, workload: &Workload) -> Option<&HorizontalPodAutoscaler> {
        self.index()
            .hpas_by_target
            .get(&key(&workload.meta.kind, &workload.meta.name))?
            .iter()
            .map(|i| &self.hpas[*i])
            .find(|hpa| hpa.meta.same_namespace(&workload.meta))
    }

    /// PodDisruptionBudgets whose selector matches the workload's pods.
    pub fn pdbs_for(&self, workload: &Workload) -> Vec<&PodDisruptionBudget> {
        let labels = self.pod_labels_of(workload);
        let index = self.index();
        let mut candidates: Vec<usize> = labels
            .iter()
            .filter_map(|(k, v)| index.pdbs_by_label.get(&key(k, v)))
            .flatten()
            .chain(&index.pdbs_other)
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .map(|i| &self.pdbs[i])
            .filter(|pdb| {
                pdb.meta.same_namespace(&workload.meta)
                    && pdb.selector.as_ref().is_some_and(|s| s.matches(&labels))
            })
            .collect()
    }

    /// Services whose selector matches the workload's pods.
    pub fn services_for(&self, workload: &Workload) -> Vec<&Service> {
        let labels = self.pod_labels_of(workload);
        let index = self.index();
        let mut candidates: Vec<usize> = labels
            .iter()
            .filter_map(|(k, v)| index.services_by_label.get(&key(k, v)))
            .flatten()
            .copied()
            .collect();
        candidates.sort_unstable();
        candidates.dedup();
        candidates
            .into_iter()
            .map(|i| &self.services[i])
            .filter(|service| {
                service.meta.same_namespace(&workload.meta)
                    && service
                        .selector
                        .as_ref()
                        .is_some_and(|s| !s.is_empty() && s.matches(&labels))
            })
            .collect()
    }

    /// The Flagger Canary that manages this workload, if any.
    pub fn flagger_canary_for(&self, workload: &Workload) -> Option<&FlaggerCanary> {
        self.index()
            .canaries_by_target
            .get(&key(&workload.meta.kind, &workload.meta.name))?
            .iter()
            .map(|i| &self.flagger_canaries[*i])
            .find(|canary| canary.meta.same_namespace(&workload.meta))
    }

    /// The workload a reference names, in the same namespace.
    pub fn workload(&self, kind: &str, name: &str, near: &Meta) -> Option<&Workload> {
        self.index()
            .workloads_by_name
            .get(&key(kind, name))?
            .iter()
            .map(|i| &self.workloads[*i])
            .find(|w| w.meta.same_namespace(near))
    }

    /// A Rollout with `workloadRef` takes its pod template from that Deployment.
    pub fn pod_spec_of<'a>(&'a self, workload: &'a Workload) -> Option<&'a PodSpec> {
        match &workload.workload_ref {
            Some(target) if workload.pod.is_none() => self
                .workload(&target.kind, &target.name, &workload.meta)
                .and_then(|w| w.pod.as_ref()),
            _ => workload.pod.as_ref(),
        }
    }

    pub fn pod_labels_of(&self, workload: &Workload) -> Labels {
        match &workload.workload_ref {
            Some(target) if workload.pod_labels.is_empty() => self
                .workload(&target.kind, &target.name, &workload.meta)
                .map(|w| w.pod_labels.clone())
                .unwrap_or_default(),
            _ => workload.pod_labels.clone(),
        }
    }

    /// Whether this workload is only the pod template of an Argo Rollout (`workloadRef`):
    /// Argo scales it down, and the Rollout is what rolls out.
    pub fn is_rollout_template(&self, workload: &Workload) -> bool {
        self.index()
            .rollout_templates
            .get(&key(&workload.meta.kind, &workload.meta.name))
            .is_some_and(|rollouts| {
                rollouts
                    .iter()
                    .any(|i| self.workloads[*i].meta.same_namespace(&workload.meta))
            })
    }

    pub fn analysis_template(
        &self,
        reference: &TemplateRef,
        near: &Meta,
    ) -> Option<&AnalysisTemplate> {
        self.analysis_templates.iter().find(|t| {
            t.meta.name == reference.name
                && t.cluster == reference.cluster_scope
                && (t.cluster || t.meta.same_namespace(near))
        })
    }
}

/// `spec.ports` of a Service, read leniently: a port gonogo cannot read is left out (it only
/// decides whether the Service is a metrics endpoint).
fn service_ports(spec: &Node) -> Vec<ServicePort> {
    spec.get("ports")
        .map(Node::items)
        .unwrap_or(&[])
        .iter()
        .map(|port| ServicePort {
            name: port.get("name").and_then(Node::as_str).map(str::to_string),
            port: match port.get("port").map(|p| &p.value) {
                Some(Value::Int(n)) => Some(*n),
                _ => None,
            },
            target_port: port.get("targetPort").and_then(Node::as_key),
        })
        .collect()
}

fn ingress_backends(spec: &Node) -> Vec<String> {
    let mut names = Vec::new();
    let mut add = |backend: Option<&Node>| {
        if let Some(backend) = backend {
            // networking.k8s.io/v1: service.name; extensions/v1beta1: serviceName
            let name = backend
                .path(&["service", "name"])
                .or_else(|| backend.get("serviceName"))
                .and_then(Node::as_str);
            if let Some(name) = name
                && !names.iter().any(|n| n == name)
            {
                names.push(name.to_string());
            }
        }
    };
    add(spec.get("defaultBackend").or_else(|| spec.get("backend")));
    for rule in spec.get("rules").map(Node::items).unwrap_or(&[]) {
        for path in rule
            .path(&["http", "paths"])
            .map(Node::items)
            .unwrap_or(&[])
        {
            add(path.get("backend"));
        }
    }
    names
}
