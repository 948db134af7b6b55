//! Reading progressive delivery: Argo Rollouts canary steps, blue-green, analysis references and
//! AnalysisTemplates, and Flagger Canaries.

use super::reader::{EXPECTED_INT32, Reader, is_int32, join};
use super::*;
use crate::yaml::{Node, Pos, Value};

impl Reader<'_> {
    pub(super) fn analysis_ref(&mut self, node: &Node, pos: Pos, path: &str) -> AnalysisRef {
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

    pub(super) fn canary(&mut self, node: &Node, path: &str) -> Canary {
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

    pub(super) fn blue_green(&mut self, node: &Node, path: &str) -> BlueGreen {
        let pre = self
            .entry(node, "prePromotionAnalysis")
            .map(|(k, v)| (k.pos, v))
            .map(|(pos, v)| self.analysis_ref(v, pos, &format!("{path}.prePromotionAnalysis")));
        let post = self
            .entry(node, "postPromotionAnalysis")
            .map(|(k, v)| (k.pos, v))
            .map(|(pos, v)| self.analysis_ref(v, pos, &format!("{path}.postPromotionAnalysis")));
        let service = |key: &str| {
            node.entry(key)
                .and_then(|(k, v)| v.as_key().map(|value| Field { value, pos: k.pos }))
        };
        BlueGreen {
            pos: node.pos,
            active_service: service("activeService"),
            preview_service: service("previewService"),
            auto_promotion_enabled: self.bool(node, path, "autoPromotionEnabled", Concern::Rollout),
            auto_promotion_seconds: self.int(node, path, "autoPromotionSeconds", Concern::Rollout),
            pre_promotion_analysis: pre,
            post_promotion_analysis: post,
            scale_down_delay_seconds: self.int(
                node,
                path,
                "scaleDownDelaySeconds",
                Concern::Rollback,
            ),
            scale_down_delay_revision_limit: self.int(
                node,
                path,
                "scaleDownDelayRevisionLimit",
                Concern::Rollback,
            ),
            abort_scale_down_delay_seconds: self.int(
                node,
                path,
                "abortScaleDownDelaySeconds",
                Concern::Rollout,
            ),
            preview_replica_count: self.int(node, path, "previewReplicaCount", Concern::Rollout),
        }
    }

    pub(super) fn analysis_template(&mut self, meta: Meta, spec: &Node) -> AnalysisTemplate {
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

    pub(super) fn flagger_canary(&mut self, meta: Meta, spec: &Node) -> FlaggerCanary {
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
