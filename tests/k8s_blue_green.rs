//! Blue-green beyond the fixtures (rule_fixtures.rs snapshots each rule's fixtures): Argo
//! Rollouts `blueGreen` and plain two-Deployment blue-green seen by both Kubernetes checks
//! together, from manifests written inline so each test shows the whole input.

use gonogo::checks::{rollback, rollout};
use gonogo::k8s::{Manifests, parse_stream};
use gonogo::report::{Finding, Severity};

use crate::common::fixtures::describe;

fn manifests(text: &str) -> Manifests {
    let mut manifests = Manifests::default();
    parse_stream(&mut manifests, "deploy/app.yaml", text).unwrap();
    manifests
}

/// The findings as a run reports them: annotation waivers decided by the waiver layer.
fn waived(mut findings: Vec<Finding>) -> Vec<Finding> {
    gonogo::waivers::apply_annotations(&mut findings);
    findings
}

fn rollback_findings(text: &str, settings: &rollback::Settings) -> Vec<Finding> {
    waived(rollback::analyze(&manifests(text), settings).findings)
}

fn rollout_findings(text: &str) -> Vec<Finding> {
    waived(rollout::analyze(&manifests(text)).findings)
}

fn of<'a>(findings: &'a [Finding], rule: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.rule == rule).collect()
}

fn rollout_yaml(strategy: &str, readiness_delay: i64) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {{name: web}}
spec:
  replicas: 4
  selector: {{matchLabels: {{app: web}}}}
  strategy:
    blueGreen:
{strategy}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
        - name: app
          image: registry.example.com/web:1.4.2
          ports: [{{containerPort: 8080}}]
          readinessProbe: {{httpGet: {{path: /ready, port: 8080}}, initialDelaySeconds: {readiness_delay}}}
---
apiVersion: v1
kind: Service
metadata: {{name: web}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80, targetPort: 8080}}]
"
    )
}

#[test]
fn a_blue_green_rollback_is_a_selector_switch_for_the_scale_down_window() {
    let text = rollout_yaml(
        "      activeService: web\n      autoPromotionEnabled: false\n      scaleDownDelaySeconds: 600",
        20,
    );
    let findings = rollback_findings(&text, &rollback::Settings::default());
    let slow = of(&findings, "rollback/slow-rollback");
    assert_eq!(slow.len(), 1, "{}", describe(&findings));
    assert_eq!(slow[0].severity, Severity::Info);
    assert_eq!(
        slow[0].message,
        "Rollout/web: a rollback is near-instant: blue-green keeps the previous ReplicaSet running for 600 s after the switch (scaleDownDelaySeconds), so a rollback switches Service/web's selector back to the previous ReplicaSet (seconds: the controller changes one label, kube-proxy follows); after that a rollback starts all 4 replicas at once: 1 wave x 35 s (pod start 5 s + readiness of container app (initialDelaySeconds 20 + periodSeconds 10 x successThreshold 1) + minReadySeconds 0) = 35 s"
    );
    assert!(of(&findings, "rollback/blue-green-scale-down").is_empty());
}

#[test]
fn the_detection_budget_decides_whether_the_default_delay_is_long_enough() {
    let text = rollout_yaml(
        "      activeService: web\n      autoPromotionEnabled: false",
        70,
    );
    let budget = |seconds: f64| rollback::Settings {
        target_seconds: None,
        detection_budget_seconds: Some(seconds),
    };
    // Unset budget: nothing to judge the 30 s default against.
    let findings = rollback_findings(&text, &rollback::Settings::default());
    assert!(of(&findings, "rollback/blue-green-scale-down").is_empty());
    // 30 s covers a 20 s budget.
    let findings = rollback_findings(&text, &budget(20.0));
    assert!(of(&findings, "rollback/blue-green-scale-down").is_empty());
    // A 300 s budget outlives the previous ReplicaSet: re-creating 4 pods takes 85 s > 60 s.
    let findings = rollback_findings(&text, &budget(300.0));
    let hits = of(&findings, "rollback/blue-green-scale-down");
    assert_eq!(hits.len(), 1, "{}", describe(&findings));
    assert_eq!(hits[0].severity, Severity::Fail);
    assert!(
        hits[0].message.contains("scaled down 30 s after the switch (scaleDownDelaySeconds, 30 by default), before a bad release is noticed (rollback.detection_budget_seconds 300)")
            && hits[0].message.ends_with("= 85 s, over the 60 s target"),
        "{}",
        hits[0].message
    );
    // Within the target the same finding is a warning: a full rollout, but a fast one.
    let fast = rollout_yaml(
        "      activeService: web\n      autoPromotionEnabled: false",
        0,
    );
    let findings = rollback_findings(&fast, &budget(300.0));
    assert_eq!(
        of(&findings, "rollback/blue-green-scale-down")[0].severity,
        Severity::Warn
    );
}

#[test]
fn a_post_promotion_analysis_holds_the_previous_replicaset_unless_a_delay_cuts_it_short() {
    let template = "---
apiVersion: argoproj.io/v1alpha1
kind: AnalysisTemplate
metadata: {name: success-rate}
spec:
  metrics:
    - name: success-rate
      interval: 1m
      failureLimit: 3
      successCondition: result[0] >= 0.99
      provider: {prometheus: {address: http://prometheus:9090, query: x}}
";
    let post = "      activeService: web\n      postPromotionAnalysis:\n        templates: [{templateName: success-rate}]";
    let budget = rollback::Settings {
        target_seconds: None,
        detection_budget_seconds: Some(600.0),
    };
    // No explicit delay: the controller waits for the analysis, whatever the budget.
    let held = rollout_yaml(post, 0) + template;
    assert!(
        of(
            &rollback_findings(&held, &budget),
            "rollback/blue-green-scale-down"
        )
        .is_empty()
    );
    // 120 s ends the 180 s analysis early.
    let cut = rollout_yaml(&format!("{post}\n      scaleDownDelaySeconds: 120"), 0) + template;
    let findings = rollback_findings(&cut, &budget);
    let hits = of(&findings, "rollback/blue-green-scale-down");
    assert_eq!(hits.len(), 1, "{}", describe(&findings));
    assert!(
        hits[0].message.starts_with("Rollout/web: scaleDownDelaySeconds 120 ends the postPromotionAnalysis before it can fail (180 s: AnalysisTemplate/success-rate metric `success-rate`: interval 1m x failureLimit 3)"),
        "{}",
        hits[0].message
    );
    // 180 s is enough.
    let enough = rollout_yaml(&format!("{post}\n      scaleDownDelaySeconds: 180"), 0) + template;
    assert!(
        of(
            &rollback_findings(&enough, &budget),
            "rollback/blue-green-scale-down"
        )
        .is_empty()
    );
}

/// Two Deployments switched by a `version` label (the shape of the blue-green tutorials in
/// the field): one Service selects one version; a preview Service the other.
fn plain_pair(active_replicas: i64, idle_replicas: i64) -> String {
    let deployment = |name: &str, version: &str, replicas: i64| {
        format!(
            "apiVersion: apps/v1
kind: Deployment
metadata: {{name: {name}}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{name: nginx, version: \"{version}\"}}}}
  template:
    metadata: {{labels: {{name: nginx, version: \"{version}\"}}}}
    spec:
      containers:
        - name: nginx
          image: registry.example.com/nginx:{version}.3
          ports: [{{containerPort: 80}}]
---
"
        )
    };
    deployment("nginx-1-10", "1.10", idle_replicas)
        + &deployment("nginx-1-11", "1.11", active_replicas)
        + "apiVersion: v1
kind: Service
metadata: {name: nginx}
spec:
  selector: {name: nginx, version: \"1.11\"}
  ports: [{port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: nginx-preview}
spec:
  selector: {name: nginx, version: \"1.10\"}
  ports: [{port: 80}]
"
}

#[test]
fn plain_blue_green_sides_are_not_judged_as_two_rolling_updates() {
    // 8 replicas with the default 25% maxUnavailable would be 2 pods down in a rolling
    // update; each side is updated while the Service selects the other.
    let findings = rollout_findings(&plain_pair(8, 8));
    assert!(
        of(&findings, "rollout/capacity-drops").is_empty()
            && of(&findings, "rollout/blue-green-switch-capacity").is_empty(),
        "{}",
        describe(&findings)
    );
    let findings = rollback_findings(&plain_pair(8, 8), &rollback::Settings::default());
    let slow = of(&findings, "rollback/slow-rollback");
    assert_eq!(
        slow.len(),
        1,
        "only the selected side: {}",
        describe(&findings)
    );
    assert_eq!(slow[0].severity, Severity::Info);
    assert!(
        slow[0].message.starts_with("Deployment/nginx-1-11: a rollback is near-instant: plain blue-green: Service/nginx selects it by version: 1.11 while Deployment/nginx-1-10 (version: 1.10) runs 8 replicas"),
        "{}",
        slow[0].message
    );
}

#[test]
fn switching_to_the_smaller_side_drops_capacity() {
    let findings = rollout_findings(&plain_pair(2, 8));
    let hits = of(&findings, "rollout/blue-green-switch-capacity");
    assert_eq!(hits.len(), 1, "{}", describe(&findings));
    assert_eq!(
        hits[0].message,
        "Service/nginx selects Deployment/nginx-1-11 (version: 1.11) with 2 replicas, while Deployment/nginx-1-10 (version: 1.10) runs 8: a switch to Deployment/nginx-1-11 drops capacity from 8 to 2 pods"
    );
}

#[test]
fn an_other_side_scaled_to_zero_makes_the_rollback_a_scale_up() {
    let findings = rollback_findings(
        &plain_pair(8, 0),
        &rollback::Settings {
            target_seconds: Some(4.0),
            detection_budget_seconds: None,
        },
    );
    let slow = of(&findings, "rollback/slow-rollback");
    assert_eq!(slow.len(), 1, "{}", describe(&findings));
    assert_eq!(slow[0].severity, Severity::Fail);
    assert!(
        slow[0].message.contains("1 wave (plain blue-green: Deployment/nginx-1-10 (version: 1.10) runs 0 replicas, so a rollback scales it up, all pods at once, then switches Service/nginx back: 8 replicas) x 5 s per wave"),
        "{}",
        slow[0].message
    );
}

/// A blue-green Rollout in `shop` whose activeService `web` is also the name of a Service
/// behind an IP-mode ALB Ingress, with the Ingress in `namespace` and `annotations` on it.
fn behind_alb(namespace: &str, annotations: &str) -> String {
    format!(
        "apiVersion: argoproj.io/v1alpha1
kind: Rollout
metadata: {{name: web, namespace: shop}}
spec:
  replicas: 4
  selector: {{matchLabels: {{app: web}}}}
  strategy:
    blueGreen: {{activeService: web, autoPromotionEnabled: false}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers: [{{name: app, image: web:1}}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata:
  name: web
  namespace: {namespace}
  annotations:
    alb.ingress.kubernetes.io/target-type: ip
{annotations}
spec:
  ingressClassName: alb
  defaultBackend: {{service: {{name: web, port: {{number: 80}}}}}}
"
    )
}

#[test]
fn blue_green_behind_alb_looks_at_the_rollouts_namespace_and_honours_the_ingress_waiver() {
    let findings = rollout_findings(&behind_alb("shop", ""));
    let alb = of(&findings, "rollout/blue-green-behind-alb");
    assert_eq!(alb.len(), 1, "{}", describe(&findings));
    assert_eq!(alb[0].severity, Severity::Warn);
    assert!(
        alb[0].message.starts_with(
            "Rollout/web promotes by switching the selector of its activeService `web`, which Ingress/web routes to through the AWS Load Balancer Controller in IP mode (alb.ingress.kubernetes.io/target-type: ip on Ingress/web)"
        ),
        "{}",
        alb[0].message
    );

    // An Ingress of another namespace routes to another Service named `web`.
    let findings = rollout_findings(&behind_alb("other", ""));
    assert!(of(&findings, "rollout/blue-green-behind-alb").is_empty());

    // The Ingress's own waiver (the team that owns the ALB accepted the risk).
    let findings = rollout_findings(&behind_alb(
        "shop",
        "    gonogo.dev/ignore: rollout/blue-green-behind-alb",
    ));
    let alb = of(&findings, "rollout/blue-green-behind-alb");
    assert!(
        alb.len() == 1 && alb[0].waived.is_some(),
        "{}",
        describe(&findings)
    );
}
