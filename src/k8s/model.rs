//! The typed model: the objects and fields the Kubernetes checks reason about, each with the
//! position of its key in the user's file, read leniently out of the generic YAML tree.
//!
//! Lenient means: unknown kinds and fields are ignored; a field of the wrong type (`replicas:
//! "3"`, `maxSurge: 1.5`) is recorded as a [`Problem`] and left unset, never a crash. Kubernetes
//! itself would reject such a manifest at apply time, so a problem is worth a finding.

use crate::report::{Location, Waived, WaiverSource};
use crate::yaml::{Node, Pos, Value};
use std::collections::{BTreeMap, HashMap};

/// The annotation that waives rules on one object: `gonogo.dev/ignore: "rule-a,rule-b"`.
pub const IGNORE_ANNOTATION: &str = "gonogo.dev/ignore";

/// A value and the position of its key (of the value itself for list items).
#[derive(Debug, Clone, PartialEq)]
pub struct Field<T> {
    pub value: T,
    pub pos: Pos,
}

/// `maxSurge: 1` or `maxSurge: 25%`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IntOrPercent {
    Int(i64),
    Percent(i64),
}

impl IntOrPercent {
    /// Kubernetes' `GetScaledValueFromIntOrPercent`: a percentage of `total`, rounded up or
    /// down (integer arithmetic, so 25% of 8 is exactly 2).
    pub fn scaled(self, total: i64, round_up: bool) -> i64 {
        match self {
            IntOrPercent::Int(value) => value,
            IntOrPercent::Percent(percent) => {
                let product = percent * total;
                if round_up {
                    (product + 99).div_euclid(100)
                } else {
                    product.div_euclid(100)
                }
            }
        }
    }
}

impl std::fmt::Display for IntOrPercent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IntOrPercent::Int(value) => write!(f, "{value}"),
            IntOrPercent::Percent(percent) => write!(f, "{percent}%"),
        }
    }
}

/// Which check a problem concerns, so each reports only the fields it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Concern {
    /// replicas, strategy, selectors, PDB, HPA, canary analysis; also metadata.
    Rollout,
    /// readiness, liveness and startup probes.
    Probes,
    /// terminationGracePeriodSeconds, preStop, command/args, load balancer draining.
    Termination,
    /// image, revisionHistoryLimit.
    Rollback,
}

/// A field gonogo could not read: it has the wrong type.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub file: String,
    pub pos: Pos,
    /// `Deployment/shop-api`
    pub object: String,
    pub message: String,
    pub concern: Concern,
    /// Rules waived on the object by its annotation.
    pub ignored_rules: Vec<String>,
}

/// What every object has.
#[derive(Debug, Clone, PartialEq)]
pub struct Meta {
    pub kind: String,
    pub api_version: String,
    pub name: String,
    pub namespace: Option<String>,
    /// The file, relative to the project root (`<stdin>` for standard input).
    pub file: String,
    /// Where the document starts (its first line of content).
    pub pos: Pos,
    pub labels: Labels,
    pub annotations: BTreeMap<String, Field<String>>,
    /// Rule ids (or globs) from `gonogo.dev/ignore` on the object (and, for workloads, on the
    /// pod template, which is what many charts let users annotate).
    pub ignored_rules: Vec<String>,
}

impl Meta {
    /// `Deployment/shop-api`
    pub fn display(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }

    /// A location in this object's file.
    pub fn at(&self, pos: Pos) -> Location {
        Location::new(&self.file, pos.line, pos.column)
    }

    /// The object's own location (its first line), for findings about a missing field.
    pub fn location(&self) -> Location {
        self.at(self.pos)
    }

    /// Whether the object's `gonogo.dev/ignore` annotation waives `rule`.
    pub fn waiver_for(&self, rule: &str) -> Option<Waived> {
        ignore_waiver(&self.ignored_rules, &self.display(), rule)
    }

    /// Objects without a namespace are applied into whatever namespace the deploy targets
    /// (`helm template`, `kubectl apply -n`), so they match any namespace.
    pub fn same_namespace(&self, other: &Meta) -> bool {
        match (&self.namespace, &other.namespace) {
            (Some(a), Some(b)) => a == b,
            _ => true,
        }
    }
}

/// The waiver an ignore list grants `rule` on `object`, if any.
pub fn ignore_waiver(ignored: &[String], object: &str, rule: &str) -> Option<Waived> {
    let waived = ignored.iter().any(|pattern| {
        pattern == rule
            || glob::Pattern::new(pattern)
                .map(|p| p.matches(rule))
                .unwrap_or(false)
    });
    waived.then(|| Waived {
        reason: format!("{IGNORE_ANNOTATION} annotation on {object}"),
        expires: None,
        source: WaiverSource::Inline,
    })
}

fn parse_ignore_list(value: &str) -> Vec<String> {
    value
        .split([',', ' ', '\n', '\t'])
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SelectorOperator {
    In,
    NotIn,
    Exists,
    DoesNotExist,
    Unknown(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorRequirement {
    pub key: String,
    pub operator: SelectorOperator,
    pub values: Vec<String>,
}

/// String-to-string maps (labels, selectors), sorted by key. A small sorted vector rather than
/// a `BTreeMap`: most hold one to three entries, and a map's first node costs ~0.5 KB, which a
/// stream of 100,000 workloads pays three times per workload.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Labels(Vec<(String, String)>);

impl Labels {
    pub fn insert(&mut self, key: String, value: String) {
        match self.0.binary_search_by(|(k, _)| k.as_str().cmp(&key)) {
            Ok(index) => self.0[index].1 = value,
            Err(index) => self.0.insert(index, (key, value)),
        }
    }

    pub fn get(&self, key: &str) -> Option<&String> {
        self.0
            .binary_search_by(|(k, _)| k.as_str().cmp(key))
            .ok()
            .map(|index| &self.0[index].1)
    }

    /// Entries in key order.
    pub fn iter(&self) -> impl Iterator<Item = (&String, &String)> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

impl FromIterator<(String, String)> for Labels {
    fn from_iter<I: IntoIterator<Item = (String, String)>>(iter: I) -> Self {
        let mut labels = Labels::default();
        for (k, v) in iter {
            labels.insert(k, v);
        }
        labels
    }
}

/// A label selector (`matchLabels` and `matchExpressions`, or a Service's plain map).
#[derive(Debug, Clone, PartialEq)]
pub struct LabelSelector {
    pub match_labels: Labels,
    pub match_expressions: Vec<SelectorRequirement>,
    pub pos: Pos,
}

impl LabelSelector {
    /// Kubernetes semantics: every label and every requirement must hold; an empty selector
    /// selects everything (policy/v1 PDB), an unknown operator selects nothing.
    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|req| {
                let value = labels.get(&req.key);
                match &req.operator {
                    SelectorOperator::In => value.is_some_and(|v| req.values.contains(v)),
                    SelectorOperator::NotIn => value.is_none_or(|v| !req.values.contains(v)),
                    SelectorOperator::Exists => value.is_some(),
                    SelectorOperator::DoesNotExist => value.is_none(),
                    SelectorOperator::Unknown(_) => false,
                }
            })
    }

    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum WorkloadKind {
    Deployment,
    StatefulSet,
    DaemonSet,
    /// Argo Rollouts `Rollout`.
    Rollout,
}

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

/// A reference by kind and name (`scaleTargetRef`, `targetRef`, `workloadRef`).
#[derive(Debug, Clone, PartialEq)]
pub struct TargetRef {
    pub api_version: Option<String>,
    pub kind: String,
    pub name: String,
    pub pos: Pos,
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
}

impl Workload {
    /// Kubernetes' default when `replicas` is unset.
    pub fn replicas_or_default(&self) -> i64 {
        self.replicas.as_ref().map_or(1, |r| r.value)
    }
}

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

#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisMetric {
    pub name: String,
    pub pos: Pos,
    pub interval: Option<Field<String>>,
    pub count: Option<Field<i64>>,
    /// Default 0: the first failed measurement fails the analysis.
    pub failure_limit: Option<Field<i64>>,
    /// Listed under `spec.dryRun`: its failures never fail the analysis.
    pub dry_run: bool,
}

/// Argo Rollouts AnalysisTemplate or ClusterAnalysisTemplate.
#[derive(Debug, Clone, PartialEq)]
pub struct AnalysisTemplate {
    pub meta: Meta,
    pub cluster: bool,
    pub metrics: Vec<AnalysisMetric>,
}

impl AnalysisTemplate {
    /// Whether a failing measurement can fail the analysis (and so abort the rollout).
    pub fn can_abort(&self) -> bool {
        self.metrics.iter().any(|m| !m.dry_run)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlaggerMetric {
    pub name: String,
    pub pos: Pos,
    /// `templateRef`: a Flagger MetricTemplate (name, namespace).
    pub template_ref: Option<(String, Option<String>)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlaggerWebhook {
    pub name: String,
    pub pos: Pos,
    /// `rollout` (the default), `pre-rollout`, `confirm-rollout`, …
    pub webhook_type: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FlaggerAnalysis {
    pub pos: Pos,
    pub interval: Option<Field<String>>,
    /// Failed checks before Flagger rolls back.
    pub threshold: Option<Field<i64>>,
    pub iterations: Option<Field<i64>>,
    pub max_weight: Option<Field<i64>>,
    pub step_weight: Option<Field<i64>>,
    pub metrics: Vec<FlaggerMetric>,
    pub webhooks: Vec<FlaggerWebhook>,
}

/// Flagger `Canary`.
#[derive(Debug, Clone, PartialEq)]
pub struct FlaggerCanary {
    pub meta: Meta,
    pub target: Option<TargetRef>,
    pub autoscaler: Option<TargetRef>,
    pub skip_analysis: Option<Field<bool>>,
    pub analysis: Option<FlaggerAnalysis>,
}

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
    pub ingresses: Vec<Ingress>,
    pub backend_configs: Vec<BackendConfig>,
    pub analysis_templates: Vec<AnalysisTemplate>,
    pub flagger_canaries: Vec<FlaggerCanary>,
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
        for (i, service) in m.services.iter().enumerate() {
            if let Some((k, v)) = service
                .selector
                .as_ref()
                .and_then(|s| s.match_labels.iter().next())
            {
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

    /// Add everything read from other inputs.
    pub fn extend(&mut self, other: Manifests) {
        self.index = std::sync::OnceLock::new();
        self.files.extend(other.files);
        self.documents += other.documents;
        self.workloads.extend(other.workloads);
        self.pdbs.extend(other.pdbs);
        self.hpas.extend(other.hpas);
        self.services.extend(other.services);
        self.ingresses.extend(other.ingresses);
        self.backend_configs.extend(other.backend_configs);
        self.analysis_templates.extend(other.analysis_templates);
        self.flagger_canaries.extend(other.flagger_canaries);
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
                | ("Ingress", "networking.k8s.io" | "extensions")
                | ("BackendConfig", "cloud.google.com")
        );
        if !known {
            return;
        }
        let mut reader = Reader {
            file,
            object: String::new(),
            ignored: Vec::new(),
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
                    meta,
                };
                self.services.push(service);
            }
            "Ingress" => {
                let ingress = Ingress {
                    backends: ingress_backends(spec),
                    meta,
                };
                self.ingresses.push(ingress);
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

/// Reads typed fields out of one object, recording problems instead of failing.
struct Reader<'a> {
    file: &'a str,
    object: String,
    ignored: Vec<String>,
    problems: &'a mut Vec<Problem>,
}

/// What an out-of-range count or number of seconds is told it should be.
const EXPECTED_INT32: &str = "a whole number from 0 to 2147483647";

/// Within a non-negative Kubernetes int32 (see [`Reader::int`]).
fn is_int32(n: i64) -> bool {
    (0..=i64::from(i32::MAX)).contains(&n)
}

fn join(prefix: &str, key: &str) -> String {
    if prefix.is_empty() {
        key.to_string()
    } else {
        format!("{prefix}.{key}")
    }
}

impl Reader<'_> {
    fn problem(&mut self, pos: Pos, path: &str, expected: &str, found: &Node, concern: Concern) {
        let found = match &found.value {
            Value::Str(s) => format!("the string \"{}\"", s.chars().take(40).collect::<String>()),
            Value::Int(i) => format!("the number {i}"),
            Value::Float(f) => format!("the number {f}"),
            Value::Bool(b) => format!("`{b}`"),
            _ => found.kind_name().to_string(),
        };
        self.problems.push(Problem {
            file: self.file.to_string(),
            pos,
            object: self.object.clone(),
            message: format!(
                "`{path}` of {} is {found}; expected {expected}",
                self.object
            ),
            concern,
            ignored_rules: self.ignored.clone(),
        });
    }

    /// A present, non-null entry.
    fn entry<'n>(&self, parent: &'n Node, key: &str) -> Option<(&'n Node, &'n Node)> {
        parent.entry(key).filter(|(_, v)| !v.is_null())
    }

    fn map<'n>(
        &mut self,
        parent: &'n Node,
        prefix: &str,
        key: &str,
        concern: Concern,
    ) -> Option<&'n Node> {
        let (k, v) = self.entry(parent, key)?;
        if matches!(v.value, Value::Map(_)) {
            Some(v)
        } else {
            self.problem(k.pos, &join(prefix, key), "a mapping", v, concern);
            None
        }
    }

    fn seq<'n>(
        &mut self,
        parent: &'n Node,
        prefix: &str,
        key: &str,
        concern: Concern,
    ) -> &'n [Node] {
        let Some((k, v)) = self.entry(parent, key) else {
            return &[];
        };
        if matches!(v.value, Value::Seq(_)) {
            v.items()
        } else {
            self.problem(k.pos, &join(prefix, key), "a list", v, concern);
            &[]
        }
    }

    /// A scalar field read with `extract`; anything else is a problem that says `expected`.
    #[allow(clippy::too_many_arguments)]
    fn scalar<T>(
        &mut self,
        parent: &Node,
        prefix: &str,
        key: &str,
        concern: Concern,
        expected: &str,
        extract: impl Fn(&Value) -> Option<T>,
    ) -> Option<Field<T>> {
        let (k, v) = self.entry(parent, key)?;
        match extract(&v.value) {
            Some(value) => Some(Field { value, pos: k.pos }),
            None => {
                self.problem(k.pos, &join(prefix, key), expected, v, concern);
                None
            }
        }
    }

    /// A count, a port or a number of seconds. Every one gonogo reads is a non-negative int32
    /// in its API (terminationGracePeriodSeconds is an int64, but 2^31 s is 68 years), so a
    /// value outside that range is reported as invalid where it is written, and the rules'
    /// arithmetic on these numbers (periodSeconds x failureThreshold, a grace period plus a
    /// preStop sleep) stays far from i64 overflow.
    fn int(
        &mut self,
        parent: &Node,
        prefix: &str,
        key: &str,
        concern: Concern,
    ) -> Option<Field<i64>> {
        self.scalar(parent, prefix, key, concern, EXPECTED_INT32, |v| match v {
            Value::Int(n) if is_int32(*n) => Some(*n),
            _ => None,
        })
    }

    fn bool(
        &mut self,
        parent: &Node,
        prefix: &str,
        key: &str,
        concern: Concern,
    ) -> Option<Field<bool>> {
        self.scalar(parent, prefix, key, concern, "true or false", |v| match v {
            Value::Bool(b) => Some(*b),
            _ => None,
        })
    }

    fn string(
        &mut self,
        parent: &Node,
        prefix: &str,
        key: &str,
        concern: Concern,
    ) -> Option<Field<String>> {
        self.scalar(parent, prefix, key, concern, "a string", |v| match v {
            Value::Str(text) => Some(text.clone()),
            _ => None,
        })
    }

    fn strings(
        &mut self,
        parent: &Node,
        prefix: &str,
        key: &str,
        concern: Concern,
    ) -> Option<Field<Vec<String>>> {
        let (k, v) = self.entry(parent, key)?;
        let Value::Seq(items) = &v.value else {
            self.problem(k.pos, &join(prefix, key), "a list of strings", v, concern);
            return None;
        };
        let mut values = Vec::with_capacity(items.len());
        for item in items {
            match item.as_key() {
                Some(text) if !matches!(item.value, Value::Map(_) | Value::Seq(_)) => {
                    values.push(text)
                }
                _ => {
                    self.problem(
                        item.pos,
                        &join(prefix, key),
                        "a list of strings",
                        item,
                        concern,
                    );
                    return None;
                }
            }
        }
        Some(Field {
            value: values,
            pos: k.pos,
        })
    }

    fn int_or_percent(
        &mut self,
        parent: &Node,
        prefix: &str,
        key: &str,
    ) -> Option<Field<IntOrPercent>> {
        let (k, v) = self.entry(parent, key)?;
        let parsed = match &v.value {
            Value::Int(value) if is_int32(*value) => Some(IntOrPercent::Int(*value)),
            Value::Str(text) => text
                .trim()
                .strip_suffix('%')
                .and_then(|n| n.trim().parse::<i64>().ok())
                .filter(|n| is_int32(*n))
                .map(IntOrPercent::Percent),
            _ => None,
        };
        match parsed {
            Some(value) => Some(Field { value, pos: k.pos }),
            None => {
                self.problem(
                    k.pos,
                    &join(prefix, key),
                    "a whole number from 0 to 2147483647 or a percentage like 25%",
                    v,
                    Concern::Rollout,
                );
                None
            }
        }
    }

    /// A mapping of strings (labels, annotations, a Service selector) and its key's position.
    fn string_map(
        &mut self,
        parent: &Node,
        prefix: &str,
        key: &str,
        concern: Concern,
    ) -> Option<(Labels, Pos)> {
        let (k, _) = self.entry(parent, key)?;
        let node = self.map(parent, prefix, key, concern)?;
        let mut out = Labels::default();
        for (name, value) in node.entries() {
            let name = name.as_key().unwrap_or_default();
            match &value.value {
                Value::Str(text) => {
                    out.insert(name, text.clone());
                }
                _ => self.problem(
                    value.pos,
                    &join(&join(prefix, key), &name),
                    "a string",
                    value,
                    concern,
                ),
            }
        }
        Some((out, k.pos))
    }

    fn meta(&mut self, root: &Node, kind: &str, api_version: &str) -> Meta {
        let metadata = root.get("metadata");
        let name = metadata
            .and_then(|m| m.get("name"))
            .and_then(Node::as_key)
            .or_else(|| {
                metadata
                    .and_then(|m| m.get("generateName"))
                    .and_then(Node::as_key)
            })
            .unwrap_or_else(|| "(unnamed)".to_string());
        self.object = format!("{kind}/{name}");
        let empty = Node {
            value: Value::Map(Vec::new()),
            pos: root.pos,
        };
        let metadata = metadata
            .filter(|m| matches!(m.value, Value::Map(_)))
            .unwrap_or(&empty);
        let labels = self
            .string_map(metadata, "metadata", "labels", Concern::Rollout)
            .map(|(l, _)| l)
            .unwrap_or_default();
        let annotations = self.annotations(metadata, "metadata");
        let ignored_rules = annotations
            .get(IGNORE_ANNOTATION)
            .map(|f| parse_ignore_list(&f.value))
            .unwrap_or_default();
        self.ignored = ignored_rules.clone();
        Meta {
            kind: kind.to_string(),
            api_version: api_version.to_string(),
            name,
            namespace: metadata.get("namespace").and_then(Node::as_key),
            file: self.file.to_string(),
            pos: root.pos,
            labels,
            annotations,
            ignored_rules,
        }
    }

    fn annotations(&mut self, metadata: &Node, prefix: &str) -> BTreeMap<String, Field<String>> {
        let mut out = BTreeMap::new();
        let Some(node) = self.map(metadata, prefix, "annotations", Concern::Rollout) else {
            return out;
        };
        for (key, value) in node.entries() {
            let name = key.as_key().unwrap_or_default();
            match &value.value {
                Value::Str(text) => {
                    out.insert(
                        name,
                        Field {
                            value: text.clone(),
                            pos: key.pos,
                        },
                    );
                }
                _ => self.problem(
                    key.pos,
                    &format!("{prefix}.annotations.{name}"),
                    "a string (quote it)",
                    value,
                    Concern::Rollout,
                ),
            }
        }
        out
    }

    fn selector(&mut self, parent: &Node, prefix: &str, key: &str) -> Option<LabelSelector> {
        let (k, _) = self.entry(parent, key)?;
        let pos = k.pos;
        let node = self.map(parent, prefix, key, Concern::Rollout)?;
        let path = join(prefix, key);
        let match_labels = self
            .string_map(node, &path, "matchLabels", Concern::Rollout)
            .map(|(l, _)| l)
            .unwrap_or_default();
        let mut match_expressions = Vec::new();
        for expression in self.seq(node, &path, "matchExpressions", Concern::Rollout) {
            let operator = match expression
                .get("operator")
                .and_then(Node::as_str)
                .unwrap_or("")
            {
                "In" => SelectorOperator::In,
                "NotIn" => SelectorOperator::NotIn,
                "Exists" => SelectorOperator::Exists,
                "DoesNotExist" => SelectorOperator::DoesNotExist,
                other => SelectorOperator::Unknown(other.to_string()),
            };
            match_expressions.push(SelectorRequirement {
                key: expression
                    .get("key")
                    .and_then(Node::as_key)
                    .unwrap_or_default(),
                operator,
                values: expression
                    .get("values")
                    .map(Node::items)
                    .unwrap_or(&[])
                    .iter()
                    .filter_map(Node::as_key)
                    .collect(),
            });
        }
        Some(LabelSelector {
            match_labels,
            match_expressions,
            pos,
        })
    }

    fn target_ref(&mut self, parent: &Node, prefix: &str, key: &str) -> Option<TargetRef> {
        let (k, _) = self.entry(parent, key)?;
        let pos = k.pos;
        let node = self.map(parent, prefix, key, Concern::Rollout)?;
        Some(TargetRef {
            api_version: node.get("apiVersion").and_then(Node::as_key),
            kind: node.get("kind").and_then(Node::as_key).unwrap_or_default(),
            name: node.get("name").and_then(Node::as_key).unwrap_or_default(),
            pos,
        })
    }

    fn workload(&mut self, mut meta: Meta, spec: &Node) -> Workload {
        let kind = match meta.kind.as_str() {
            "StatefulSet" => WorkloadKind::StatefulSet,
            "DaemonSet" => WorkloadKind::DaemonSet,
            "Rollout" => WorkloadKind::Rollout,
            _ => WorkloadKind::Deployment,
        };
        let template = self.map(spec, "spec", "template", Concern::Rollout);
        let template_meta = template.and_then(|t| t.get("metadata"));
        let mut pod_labels = Labels::default();
        if let Some(template_meta) = template_meta.filter(|m| matches!(m.value, Value::Map(_))) {
            pod_labels = self
                .string_map(
                    template_meta,
                    "spec.template.metadata",
                    "labels",
                    Concern::Rollout,
                )
                .map(|(l, _)| l)
                .unwrap_or_default();
            let annotations = self.annotations(template_meta, "spec.template.metadata");
            if let Some(ignore) = annotations.get(IGNORE_ANNOTATION) {
                for rule in parse_ignore_list(&ignore.value) {
                    if !meta.ignored_rules.contains(&rule) {
                        meta.ignored_rules.push(rule);
                    }
                }
                self.ignored = meta.ignored_rules.clone();
            }
        }
        let pod = template
            .and_then(|t| self.map(t, "spec.template", "spec", Concern::Rollout))
            .map(|p| self.pod_spec(p));
        let strategy_key = match kind {
            WorkloadKind::StatefulSet | WorkloadKind::DaemonSet => "updateStrategy",
            _ => "strategy",
        };
        let strategy = self.strategy(spec, kind, strategy_key);
        Workload {
            kind,
            replicas: self.int(spec, "spec", "replicas", Concern::Rollout),
            selector: self.selector(spec, "spec", "selector"),
            pod_labels,
            min_ready_seconds: self.int(spec, "spec", "minReadySeconds", Concern::Rollout),
            revision_history_limit: self.int(
                spec,
                "spec",
                "revisionHistoryLimit",
                Concern::Rollback,
            ),
            progress_deadline_seconds: self.int(
                spec,
                "spec",
                "progressDeadlineSeconds",
                Concern::Rollout,
            ),
            pod_management_policy: self.string(
                spec,
                "spec",
                "podManagementPolicy",
                Concern::Rollout,
            ),
            strategy,
            pod,
            workload_ref: self.target_ref(spec, "spec", "workloadRef"),
            meta,
        }
    }

    fn strategy(&mut self, spec: &Node, kind: WorkloadKind, key: &str) -> Strategy {
        let path = format!("spec.{key}");
        let pos = self.entry(spec, key).map(|(k, _)| k.pos);
        let node = self.map(spec, "spec", key, Concern::Rollout);
        let mut strategy = Strategy {
            kind: StrategyKind::RollingUpdate,
            pos,
            type_field: None,
            max_surge: None,
            max_unavailable: None,
            partition: None,
            canary: None,
            blue_green: None,
        };
        let Some(node) = node else {
            return strategy;
        };
        if kind == WorkloadKind::Rollout {
            if let Some(canary) = self.map(node, &path, "canary", Concern::Rollout) {
                let canary_path = format!("{path}.canary");
                strategy.kind = StrategyKind::Canary;
                strategy.max_surge = self.int_or_percent(canary, &canary_path, "maxSurge");
                strategy.max_unavailable =
                    self.int_or_percent(canary, &canary_path, "maxUnavailable");
                strategy.canary = Some(Box::new(self.canary(canary, &canary_path)));
            } else if let Some(blue_green) = self.map(node, &path, "blueGreen", Concern::Rollout) {
                strategy.kind = StrategyKind::BlueGreen;
                strategy.blue_green = Some(Box::new(
                    self.blue_green(blue_green, &format!("{path}.blueGreen")),
                ));
            }
            return strategy;
        }
        if let Some(type_field) = self.string(node, &path, "type", Concern::Rollout) {
            strategy.kind = match type_field.value.as_str() {
                "RollingUpdate" => StrategyKind::RollingUpdate,
                "Recreate" => StrategyKind::Recreate,
                "OnDelete" => StrategyKind::OnDelete,
                other => StrategyKind::Other(other.to_string()),
            };
            strategy.type_field = Some(type_field);
        }
        let rolling_path = format!("{path}.rollingUpdate");
        if let Some(rolling) = self.map(node, &path, "rollingUpdate", Concern::Rollout) {
            strategy.max_surge = self.int_or_percent(rolling, &rolling_path, "maxSurge");
            strategy.max_unavailable =
                self.int_or_percent(rolling, &rolling_path, "maxUnavailable");
            strategy.partition = self.int(rolling, &rolling_path, "partition", Concern::Rollout);
        }
        strategy
    }

    fn analysis_ref(&mut self, node: &Node, pos: Pos, path: &str) -> AnalysisRef {
        let mut templates = Vec::new();
        for template in self.seq(node, path, "templates", Concern::Rollout) {
            if let Some(name) = template.get("templateName").and_then(Node::as_key) {
                templates.push(TemplateRef {
                    name,
                    cluster_scope: matches!(
                        template.get("clusterScope").map(|n| &n.value),
                        Some(Value::Bool(true))
                    ),
                    pos: template.pos,
                });
            }
        }
        AnalysisRef { pos, templates }
    }

    fn canary(&mut self, node: &Node, path: &str) -> Canary {
        let mut steps = Vec::new();
        for step in self.seq(node, path, "steps", Concern::Rollout) {
            let parsed = if let Some((k, v)) = step.entry("setWeight") {
                match v.value {
                    Value::Int(value) if is_int32(value) => {
                        CanaryStep::SetWeight(Field { value, pos: k.pos })
                    }
                    Value::Int(_) => {
                        let step_path = format!("{path}.steps");
                        self.problem(
                            k.pos,
                            &join(&step_path, "setWeight"),
                            EXPECTED_INT32,
                            v,
                            Concern::Rollout,
                        );
                        CanaryStep::Other(k.pos)
                    }
                    _ => CanaryStep::Other(k.pos),
                }
            } else if let Some((k, v)) = step.entry("pause") {
                let duration = v
                    .get("duration")
                    .and_then(|d| d.as_key().map(|value| Field { value, pos: d.pos }));
                CanaryStep::Pause {
                    pos: k.pos,
                    duration,
                }
            } else if let Some((k, v)) = step.entry("analysis") {
                CanaryStep::Analysis(self.analysis_ref(v, k.pos, &format!("{path}.steps.analysis")))
            } else if let Some((k, v)) = step.entry("experiment") {
                let mut analyses = Vec::new();
                for analysis in v.get("analyses").map(Node::items).unwrap_or(&[]) {
                    if let Some(name) = analysis.get("templateName").and_then(Node::as_key) {
                        analyses.push(TemplateRef {
                            name,
                            cluster_scope: matches!(
                                analysis.get("clusterScope").map(|n| &n.value),
                                Some(Value::Bool(true))
                            ),
                            pos: analysis.pos,
                        });
                    }
                }
                CanaryStep::Experiment {
                    pos: k.pos,
                    analyses,
                }
            } else {
                CanaryStep::Other(step.pos)
            };
            steps.push(parsed);
        }
        let background_analysis = self
            .entry(node, "analysis")
            .map(|(k, v)| (k.pos, v))
            .map(|(pos, v)| self.analysis_ref(v, pos, &format!("{path}.analysis")));
        Canary {
            pos: node.pos,
            steps,
            background_analysis,
            traffic_routing: self.entry(node, "trafficRouting").is_some(),
            dynamic_stable_scale: self
                .bool(node, path, "dynamicStableScale", Concern::Rollout)
                .is_some_and(|f| f.value),
            stable_service: node.get("stableService").and_then(Node::as_key),
            canary_service: node.get("canaryService").and_then(Node::as_key),
        }
    }

    fn blue_green(&mut self, node: &Node, path: &str) -> BlueGreen {
        let pre = self
            .entry(node, "prePromotionAnalysis")
            .map(|(k, v)| (k.pos, v))
            .map(|(pos, v)| self.analysis_ref(v, pos, &format!("{path}.prePromotionAnalysis")));
        let post = self
            .entry(node, "postPromotionAnalysis")
            .map(|(k, v)| (k.pos, v))
            .map(|(pos, v)| self.analysis_ref(v, pos, &format!("{path}.postPromotionAnalysis")));
        BlueGreen {
            pos: node.pos,
            active_service: node.get("activeService").and_then(Node::as_key),
            preview_service: node.get("previewService").and_then(Node::as_key),
            auto_promotion_enabled: self.bool(node, path, "autoPromotionEnabled", Concern::Rollout),
            pre_promotion_analysis: pre,
            post_promotion_analysis: post,
            scale_down_delay_seconds: self.int(
                node,
                path,
                "scaleDownDelaySeconds",
                Concern::Rollback,
            ),
        }
    }

    fn pod_spec(&mut self, node: &Node) -> PodSpec {
        let path = "spec.template.spec";
        let containers = self
            .seq(node, path, "containers", Concern::Probes)
            .iter()
            .map(|c| self.container(c, &format!("{path}.containers")))
            .collect();
        let init_containers = self
            .seq(node, path, "initContainers", Concern::Probes)
            .iter()
            .map(|c| self.container(c, &format!("{path}.initContainers")))
            .collect();
        PodSpec {
            pos: node.pos,
            termination_grace_period_seconds: self.int(
                node,
                path,
                "terminationGracePeriodSeconds",
                Concern::Termination,
            ),
            containers,
            init_containers,
            host_network: self
                .bool(node, path, "hostNetwork", Concern::Rollout)
                .is_some_and(|f| f.value),
        }
    }

    fn container(&mut self, node: &Node, prefix: &str) -> Container {
        let name = node.get("name").and_then(Node::as_key).unwrap_or_default();
        let path = format!("{prefix}[{name}]");
        let mut ports = Vec::new();
        for port in self.seq(node, &path, "ports", Concern::Probes) {
            ports.push(ContainerPort {
                name: port.get("name").and_then(Node::as_key),
                container_port: self
                    .int(
                        port,
                        &format!("{path}.ports"),
                        "containerPort",
                        Concern::Probes,
                    )
                    .map(|f| f.value),
                host_port: self
                    .int(port, &format!("{path}.ports"), "hostPort", Concern::Rollout)
                    .map(|f| f.value),
                pos: port.pos,
            });
        }
        let pre_stop = node
            .path(&["lifecycle", "preStop"])
            .zip(
                node.get("lifecycle")
                    .and_then(|l| l.entry("preStop"))
                    .map(|(k, _)| k.pos),
            )
            .and_then(|(hook, pos)| {
                self.handler(
                    hook,
                    pos,
                    &format!("{path}.lifecycle.preStop"),
                    Concern::Termination,
                )
            });
        Container {
            pos: node.pos,
            image: self.string(node, &path, "image", Concern::Rollback),
            command: self.strings(node, &path, "command", Concern::Termination),
            args: self.strings(node, &path, "args", Concern::Termination),
            ports,
            readiness_probe: self.probe(node, &path, "readinessProbe").map(Box::new),
            liveness_probe: self.probe(node, &path, "livenessProbe").map(Box::new),
            startup_probe: self.probe(node, &path, "startupProbe").map(Box::new),
            pre_stop,
            name,
        }
    }

    fn probe(&mut self, container: &Node, prefix: &str, key: &str) -> Option<Probe> {
        let (k, _) = self.entry(container, key)?;
        let pos = k.pos;
        let node = self.map(container, prefix, key, Concern::Probes)?;
        let path = join(prefix, key);
        Some(Probe {
            pos,
            handler: self.handler(node, pos, &path, Concern::Probes),
            initial_delay_seconds: self.int(node, &path, "initialDelaySeconds", Concern::Probes),
            period_seconds: self.int(node, &path, "periodSeconds", Concern::Probes),
            timeout_seconds: self.int(node, &path, "timeoutSeconds", Concern::Probes),
            success_threshold: self.int(node, &path, "successThreshold", Concern::Probes),
            failure_threshold: self.int(node, &path, "failureThreshold", Concern::Probes),
        })
    }

    fn port(node: Option<&Node>) -> Option<PortRef> {
        match &node?.value {
            Value::Int(n) if is_int32(*n) => Some(PortRef::Number(*n)),
            Value::Str(s) => Some(
                s.parse()
                    .ok()
                    .filter(|n| is_int32(*n))
                    .map_or_else(|| PortRef::Name(s.clone()), PortRef::Number),
            ),
            _ => None,
        }
    }

    fn handler(&mut self, node: &Node, pos: Pos, path: &str, concern: Concern) -> Option<Handler> {
        let action = if let Some(http) = node.get("httpGet") {
            Action::HttpGet {
                path: http.get("path").and_then(Node::as_key),
                port: Self::port(http.get("port")),
            }
        } else if let Some(tcp) = node.get("tcpSocket") {
            Action::TcpSocket {
                port: Self::port(tcp.get("port")),
            }
        } else if let Some(exec) = node.get("exec") {
            Action::Exec {
                command: self
                    .strings(exec, &format!("{path}.exec"), "command", concern)
                    .map(|f| f.value)
                    .unwrap_or_default(),
            }
        } else if let Some(grpc) = node.get("grpc") {
            Action::Grpc {
                port: self
                    .int(grpc, &format!("{path}.grpc"), "port", concern)
                    .map(|f| f.value),
                service: grpc.get("service").and_then(Node::as_key),
            }
        } else if let Some(sleep) = node.get("sleep") {
            Action::Sleep {
                seconds: self
                    .int(sleep, &format!("{path}.sleep"), "seconds", concern)
                    .map(|f| f.value),
            }
        } else {
            return None;
        };
        Some(Handler { pos, action })
    }

    fn analysis_template(&mut self, meta: Meta, spec: &Node) -> AnalysisTemplate {
        let dry_run: Vec<String> = spec
            .get("dryRun")
            .map(Node::items)
            .unwrap_or(&[])
            .iter()
            .filter_map(|d| d.get("metricName").and_then(Node::as_key))
            .collect();
        let mut metrics = Vec::new();
        for metric in self.seq(spec, "spec", "metrics", Concern::Rollout) {
            let name = metric
                .get("name")
                .and_then(Node::as_key)
                .unwrap_or_default();
            let path = format!("spec.metrics[{name}]");
            let is_dry_run = dry_run
                .iter()
                .any(|pattern| pattern == &name || regex_like_all(pattern));
            metrics.push(AnalysisMetric {
                pos: metric.pos,
                interval: metric
                    .get("interval")
                    .and_then(|i| i.as_key().map(|value| Field { value, pos: i.pos })),
                count: self.int(metric, &path, "count", Concern::Rollback),
                failure_limit: self.int(metric, &path, "failureLimit", Concern::Rollback),
                dry_run: is_dry_run,
                name,
            });
        }
        AnalysisTemplate {
            cluster: meta.kind == "ClusterAnalysisTemplate",
            meta,
            metrics,
        }
    }

    fn flagger_canary(&mut self, meta: Meta, spec: &Node) -> FlaggerCanary {
        // `canaryAnalysis` is the pre-1.0 name of `analysis`.
        let key = if spec.get("analysis").is_some() {
            "analysis"
        } else {
            "canaryAnalysis"
        };
        let analysis_pos = self.entry(spec, key).map(|(k, _)| k.pos);
        let analysis = self.map(spec, "spec", key, Concern::Rollout).map(|node| {
            let path = format!("spec.{key}");
            let metrics = self
                .seq(node, &path, "metrics", Concern::Rollout)
                .iter()
                .map(|m| FlaggerMetric {
                    name: m.get("name").and_then(Node::as_key).unwrap_or_default(),
                    pos: m.pos,
                    template_ref: m.get("templateRef").and_then(|t| {
                        Some((
                            t.get("name").and_then(Node::as_key)?,
                            t.get("namespace").and_then(Node::as_key),
                        ))
                    }),
                })
                .collect();
            let webhooks = self
                .seq(node, &path, "webhooks", Concern::Rollout)
                .iter()
                .map(|w| FlaggerWebhook {
                    name: w.get("name").and_then(Node::as_key).unwrap_or_default(),
                    pos: w.pos,
                    webhook_type: w
                        .get("type")
                        .and_then(Node::as_key)
                        .unwrap_or_else(|| "rollout".to_string()),
                })
                .collect();
            FlaggerAnalysis {
                pos: analysis_pos.unwrap_or(node.pos),
                interval: self.string(node, &path, "interval", Concern::Rollback),
                threshold: self.int(node, &path, "threshold", Concern::Rollout),
                iterations: self.int(node, &path, "iterations", Concern::Rollout),
                max_weight: self.int(node, &path, "maxWeight", Concern::Rollout),
                step_weight: self.int(node, &path, "stepWeight", Concern::Rollout),
                metrics,
                webhooks,
            }
        });
        FlaggerCanary {
            target: self.target_ref(spec, "spec", "targetRef"),
            autoscaler: self.target_ref(spec, "spec", "autoscalerRef"),
            skip_analysis: self.bool(spec, "spec", "skipAnalysis", Concern::Rollout),
            analysis,
            meta,
        }
    }
}

/// Argo's `dryRun` metric names are regular expressions; `.*` (all metrics) is the common one.
fn regex_like_all(pattern: &str) -> bool {
    matches!(pattern, ".*" | ".+" | "*")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::{parse_document, split_documents};

    fn model(text: &str) -> Manifests {
        let mut manifests = Manifests::default();
        for raw in split_documents(text) {
            if let Some(node) = parse_document(&raw).unwrap() {
                manifests.add_document("deploy/app.yaml", &node);
            }
        }
        manifests
    }

    const DEPLOYMENT: &str = "\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: shop-api
  namespace: shop
  annotations:
    gonogo.dev/ignore: \"rollout/missing-pdb, rollout/single-replica\"
spec:
  replicas: 8
  selector:
    matchLabels: {app: shop-api}
  strategy:
    rollingUpdate:
      maxUnavailable: 25%
  template:
    metadata:
      labels: {app: shop-api, tier: web}
    spec:
      terminationGracePeriodSeconds: 45
      containers:
        - name: api
          image: registry.example.com/shop/api:1.8.0
          command: [sh, -c, exec api]
          readinessProbe:
            httpGet: {path: /ready, port: http}
            periodSeconds: 5
          lifecycle:
            preStop:
              sleep: {seconds: 10}
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: shop-api}
spec:
  maxUnavailable: 1
  selector:
    matchExpressions:
      - {key: tier, operator: In, values: [web]}
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: shop-api, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: shop-api}
  minReplicas: 3
  maxReplicas: 12
---
apiVersion: v1
kind: ConfigMap
metadata: {name: ignored}
";

    #[test]
    fn workloads_keep_field_positions() {
        let m = model(DEPLOYMENT);
        assert_eq!(m.documents, 4);
        assert_eq!(m.workloads.len(), 1);
        let w = &m.workloads[0];
        assert_eq!(w.meta.display(), "Deployment/shop-api");
        assert_eq!(w.meta.pos, Pos::new(1, 1));
        assert_eq!(
            w.replicas.as_ref().map(|r| (r.value, r.pos)),
            Some((8, Pos::new(9, 3)))
        );
        let unavailable = w.strategy.max_unavailable.as_ref().unwrap();
        assert_eq!(unavailable.value, IntOrPercent::Percent(25));
        assert_eq!(unavailable.pos, Pos::new(14, 7));
        assert!(w.strategy.max_surge.is_none());
        let pod = w.pod.as_ref().unwrap();
        assert_eq!(
            pod.termination_grace_period_seconds.as_ref().unwrap().value,
            45
        );
        let container = &pod.containers[0];
        assert_eq!(container.image.as_ref().unwrap().pos, Pos::new(22, 11));
        assert_eq!(
            container.command.as_ref().unwrap().value,
            ["sh", "-c", "exec api"]
        );
        let probe = container.readiness_probe.as_ref().unwrap();
        assert_eq!(probe.pos.line, 24);
        assert_eq!(
            probe.handler.as_ref().unwrap().action,
            Action::HttpGet {
                path: Some("/ready".into()),
                port: Some(PortRef::Name("http".into()))
            }
        );
        let pre_stop = container.pre_stop.as_ref().unwrap();
        assert_eq!(pre_stop.action, Action::Sleep { seconds: Some(10) });
        assert_eq!(pre_stop.pos.line, 28);
    }

    #[test]
    fn ignore_annotation_waives_listed_rules() {
        let m = model(DEPLOYMENT);
        let meta = &m.workloads[0].meta;
        assert_eq!(
            meta.ignored_rules,
            ["rollout/missing-pdb", "rollout/single-replica"]
        );
        let waived = meta.waiver_for("rollout/missing-pdb").unwrap();
        assert_eq!(
            waived.reason,
            "gonogo.dev/ignore annotation on Deployment/shop-api"
        );
        assert_eq!(waived.source, WaiverSource::Inline);
        assert!(meta.waiver_for("rollout/capacity-drops").is_none());
    }

    #[test]
    fn selectors_and_references_find_their_workload() {
        let m = model(DEPLOYMENT);
        let w = &m.workloads[0];
        assert_eq!(
            m.pdbs_for(w).len(),
            1,
            "a PDB without namespace matches by labels"
        );
        assert_eq!(
            m.hpa_for(w).unwrap().min_replicas.as_ref().unwrap().value,
            3
        );
        let other = model(&DEPLOYMENT.replace("values: [web]", "values: [worker]"));
        assert!(other.pdbs_for(&other.workloads[0]).is_empty());
        let elsewhere = model(&DEPLOYMENT.replace(
            "name: shop-api, namespace: shop}",
            "name: shop-api, namespace: other}",
        ));
        assert!(elsewhere.hpa_for(&elsewhere.workloads[0]).is_none());
    }

    #[test]
    fn wrong_types_become_problems_not_crashes() {
        let m = model(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}\nspec:\n  replicas: \"3\"\n  strategy:\n    rollingUpdate: {maxSurge: 1.5, maxUnavailable: two}\n  template: 7\n",
        );
        let w = &m.workloads[0];
        assert!(w.replicas.is_none());
        assert!(w.pod.is_none());
        let messages: Vec<&str> = m.problems.iter().map(|p| p.message.as_str()).collect();
        assert_eq!(m.problems.len(), 4, "{messages:#?}");
        let replicas = m
            .problems
            .iter()
            .find(|p| {
                p.message.contains(
                    "`spec.replicas` of Deployment/x is the string \"3\"; expected a whole number",
                )
            })
            .expect("a problem for replicas");
        assert_eq!(replicas.pos, Pos::new(5, 3));
        assert!(
            messages
                .iter()
                .any(|m| m.contains("maxSurge") && m.contains("1.5"))
        );
    }

    #[test]
    fn percentages_round_like_kubernetes() {
        assert_eq!(IntOrPercent::Percent(25).scaled(8, false), 2);
        assert_eq!(IntOrPercent::Percent(25).scaled(3, false), 0);
        assert_eq!(IntOrPercent::Percent(25).scaled(3, true), 1);
        assert_eq!(IntOrPercent::Percent(10).scaled(10, true), 1);
        assert_eq!(IntOrPercent::Percent(10).scaled(11, true), 2);
        assert_eq!(IntOrPercent::Int(2).scaled(100, false), 2);
    }

    #[test]
    fn argo_and_flagger_objects() {
        let text = "\
apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {name: web}
spec:
  replicas: 5
  workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web-template}
  strategy:
    canary:
      trafficRouting: {nginx: {stableIngress: web}}
      analysis:
        templates: [{templateName: success-rate}]
      steps:
        - setWeight: 20
        - pause: {}
        - analysis:
            templates:
              - templateName: error-rate
                clusterScope: true
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web-template}
spec:
  replicas: 0
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web:1}]}
---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: success-rate}
spec:
  dryRun: [{metricName: rate}]
  metrics: [{name: rate, interval: 1m, failureLimit: 2}]
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: podinfo}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: web-template}
  analysis:
    interval: 1m
    threshold: 5
    metrics:
      - name: request-success-rate
      - name: latency
        templateRef: {name: latency, namespace: flagger}
";
        let m = model(text);
        let rollout = &m.workloads[0];
        assert_eq!(rollout.strategy.kind, StrategyKind::Canary);
        let canary = rollout.strategy.canary.as_ref().unwrap();
        assert!(canary.traffic_routing);
        assert_eq!(canary.steps.len(), 3);
        assert!(
            matches!(&canary.steps[2], CanaryStep::Analysis(a) if a.templates[0].cluster_scope)
        );
        assert_eq!(
            canary.background_analysis.as_ref().unwrap().templates[0].name,
            "success-rate"
        );
        assert_eq!(m.pod_spec_of(rollout).unwrap().containers[0].name, "web");
        assert!(m.is_rollout_template(&m.workloads[1]));
        let template = m
            .analysis_template(
                &canary.background_analysis.as_ref().unwrap().templates[0],
                &rollout.meta,
            )
            .unwrap();
        assert!(!template.can_abort(), "its only metric is a dry run");
        let flagger = &m.flagger_canaries[0];
        let analysis = flagger.analysis.as_ref().unwrap();
        assert_eq!(analysis.threshold.as_ref().unwrap().value, 5);
        assert_eq!(
            analysis.metrics[1].template_ref,
            Some(("latency".into(), Some("flagger".into())))
        );
        assert!(m.flagger_canary_for(&m.workloads[1]).is_some());
    }
}
