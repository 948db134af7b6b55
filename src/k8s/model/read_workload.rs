//! Reading workloads: the pod template, containers, probes, lifecycle hooks and the strategy.

use super::reader::{Reader, is_int32, join};
use super::*;
use crate::yaml::{Node, Pos, Value};

impl Reader<'_> {
    pub(super) fn workload(&mut self, mut meta: Meta, spec: &Node) -> Workload {
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
                meta.ignore.add(&ignore.value, ignore.pos);
                self.ignore = meta.ignore.clone();
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
            config: self.pod_config(template),
            meta,
        }
    }

    pub(super) fn strategy(&mut self, spec: &Node, kind: WorkloadKind, key: &str) -> Strategy {
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

    pub(super) fn pod_spec(&mut self, node: &Node) -> PodSpec {
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

    pub(super) fn container(&mut self, node: &Node, prefix: &str) -> Container {
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
        let mut hook = |name: &str, concern: Concern| {
            let pos = node.get("lifecycle")?.entry(name)?.0.pos;
            let hook = node.path(&["lifecycle", name])?;
            self.handler(hook, pos, &format!("{path}.lifecycle.{name}"), concern)
        };
        let pre_stop = hook("preStop", Concern::Termination);
        // Read by readiness: a postStart hook runs as the container starts, alongside its
        // entrypoint, so a readiness file it creates says nothing about the application.
        let post_start = hook("postStart", Concern::Probes);
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
            post_start,
            env_names: node
                .get("env")
                .map(Node::items)
                .unwrap_or(&[])
                .iter()
                .filter_map(|e| e.get("name").and_then(Node::as_key))
                .collect(),
            name,
        }
    }

    pub(super) fn probe(&mut self, container: &Node, prefix: &str, key: &str) -> Option<Probe> {
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

    pub(super) fn port(node: Option<&Node>) -> Option<PortRef> {
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

    pub(super) fn handler(
        &mut self,
        node: &Node,
        pos: Pos,
        path: &str,
        concern: Concern,
    ) -> Option<Handler> {
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
}
