//! The model read from small manifests: positions, waivers as data, lookups, problems.

use super::*;
use crate::yaml::{Pos, parse_document, split_documents};

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
fn ignore_annotation_is_read_as_data_with_its_position() {
    let m = model(DEPLOYMENT);
    let ignore = &m.workloads[0].meta.ignore;
    assert_eq!(ignore.object, "Deployment/shop-api");
    assert_eq!(
        ignore.rules,
        ["rollout/missing-pdb", "rollout/single-replica"]
    );
    assert_eq!(ignore.positions, [Pos::new(7, 5)]);
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
    assert!(matches!(&canary.steps[2], CanaryStep::Analysis(a) if a.templates[0].cluster_scope));
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
