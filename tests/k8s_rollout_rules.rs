//! The rollout rules beyond their fixtures (rule_fixtures.rs runs every fixture under
//! tests/fixtures/rollout/ and snapshots its findings): the arithmetic and wording of
//! messages, where findings point, settings from config, annotation waivers.

use gonogo::report::{Finding, Severity};
use std::path::{Path, PathBuf};

use crate::common;
use common::fixtures::describe;

fn fixtures() -> PathBuf {
    common::fixtures::root().join("rollout")
}

fn analyze_file(path: &Path) -> Vec<Finding> {
    common::fixtures::findings("rollout", path)
}

fn only(findings: &[Finding], rule: &str) -> Finding {
    let hits: Vec<&Finding> = findings.iter().filter(|f| f.rule == rule).collect();
    assert_eq!(hits.len(), 1, "{}", describe(findings));
    hits[0].clone()
}

#[test]
fn rounding_is_shown_in_the_message_and_points_at_the_field() {
    let dir = fixtures().join("capacity-drops");
    let eight = only(
        &analyze_file(&dir.join("fail-default-strategy-8-replicas.yaml")),
        "rollout/capacity-drops",
    );
    assert_eq!(
        eight.message,
        "Deployment/shop-api: maxUnavailable 25% (the default) of 8 replicas rounds down to 2: 2 pods down during the rollout (capacity drops to 6 of 8)"
    );
    // No strategy written: the finding points at `replicas:`.
    assert_eq!(
        eight.location.unwrap().to_string(),
        "fail-default-strategy-8-replicas.yaml:7:3"
    );
    assert!(eight.fix.unwrap().contains(
        "strategy.rollingUpdate.maxUnavailable: 0` and `strategy.rollingUpdate.maxSurge: 2`"
    ));

    let forced = only(
        &analyze_file(&dir.join("fail-both-round-to-zero.yaml")),
        "rollout/capacity-drops",
    );
    assert!(
        forced.message.contains(
            "maxSurge 0 and maxUnavailable 10% of 3 replicas both round to 0, so Kubernetes takes 1 pod down at a time (capacity drops to 2 of 3)"
        ),
        "{}",
        forced.message
    );
    assert_eq!(
        forced.location.unwrap().to_string(),
        "fail-both-round-to-zero.yaml:14:7",
        "the maxUnavailable key"
    );

    let hpa = only(
        &analyze_file(&dir.join("fail-hpa-max-replicas.yaml")),
        "rollout/capacity-drops",
    );
    assert!(
        hpa.message.contains(
            "of 10 replicas (maxReplicas of HorizontalPodAutoscaler/shop-api) rounds down to 2"
        ),
        "{}",
        hpa.message
    );

    let stateful = only(
        &analyze_file(&dir.join("fail-statefulset-in-place.yaml")),
        "rollout/capacity-drops",
    );
    assert_eq!(
        stateful.severity,
        Severity::Warn,
        "in place is inherent: warn"
    );

    let three = analyze_file(&dir.join("pass-default-strategy-3-replicas.yaml"));
    assert!(three.is_empty(), "{}", describe(&three));
}

#[test]
fn the_ignore_annotation_waives_on_that_object_only() {
    let findings = analyze_file(&fixtures().join("quiet/annotation-waives.yaml"));
    assert_eq!(findings.len(), 2, "{}", describe(&findings));
    for finding in &findings {
        let waived = finding.waived.as_ref().expect("waived");
        assert_eq!(
            waived.reason,
            "gonogo.dev/ignore annotation on Deployment/cron-ui"
        );
    }
}

#[test]
fn canary_message_explains_the_missing_rollback() {
    let finding = only(
        &analyze_file(
            &fixtures().join("canary-without-analysis/fail-argo-steps-without-analysis.yaml"),
        ),
        "rollout/canary-without-analysis",
    );
    assert!(
        finding.message.contains(
            "Rollout/web shifts traffic in steps (20%, 60%) and waits for a human to promote with no analysis: a canary without automated rollback is a smaller blast radius with manual intervention"
        ),
        "{}",
        finding.message
    );
}
