//! The rollback rules beyond their fixtures (rule_fixtures.rs runs every fixture under
//! tests/fixtures/rollback/ and snapshots its findings): the arithmetic and wording of
//! messages, where findings point, settings from config, annotation waivers.

use gonogo::checks::rollback::{Settings, analyze};
use gonogo::k8s::{Manifests, parse_stream};
use gonogo::report::{Finding, Severity};
use std::path::{Path, PathBuf};

use crate::common;
use common::fixtures::describe;

fn fixtures() -> PathBuf {
    common::fixtures::root().join("rollback")
}

fn analyze_with(path: &Path, settings: &Settings) -> Vec<Finding> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut manifests = Manifests::default();
    let name = path.file_name().unwrap().to_string_lossy().to_string();
    parse_stream(&mut manifests, &name, &text)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    analyze(&manifests, settings).findings
}

fn analyze_file(path: &Path) -> Vec<Finding> {
    common::fixtures::findings("rollback", path)
}

fn only(findings: &[Finding], rule: &str) -> Finding {
    let hits: Vec<&Finding> = findings.iter().filter(|f| f.rule == rule).collect();
    assert_eq!(hits.len(), 1, "{}", describe(findings));
    hits[0].clone()
}

#[test]
fn the_slow_rollback_message_shows_the_arithmetic() {
    let finding = only(
        &analyze_file(&fixtures().join("slow-rollback/fail-one-at-a-time.yaml")),
        "rollback/slow-rollback",
    );
    assert_eq!(finding.severity, Severity::Fail);
    assert_eq!(
        finding.message,
        "Deployment/shop-api: a rollback takes about 160 s once decided, over the 60 s target (rollback.target_seconds unset: the default): 8 waves = ceil(8 replicas / (maxSurge 1 -> 1 + maxUnavailable 0 -> 0)) x 20 s per wave (pod start 5 s + readiness of container app (initialDelaySeconds 10 + periodSeconds 5 x successThreshold 1) + minReadySeconds 0) = 160 s"
    );
    assert_eq!(
        finding.location.unwrap().to_string(),
        "fail-one-at-a-time.yaml:10:3",
        "points at the strategy"
    );
}

#[test]
fn the_hpa_maximum_is_the_worst_case() {
    let hpa = only(
        &analyze_file(&fixtures().join("slow-rollback/fail-hpa-max.yaml")),
        "rollback/slow-rollback",
    );
    assert!(
        hpa.message.contains(
            "10 waves = ceil(20 replicas (maxReplicas of HorizontalPodAutoscaler/web: the worst case) / (maxSurge 2 -> 2 + maxUnavailable 0 -> 0)) x 15 s per wave"
        ),
        "{}",
        hpa.message
    );
}

/// Issue 17.7: a basic canary whose rollback takes 45 s once decided, behind an analysis that
/// takes 120 s to decide. The two are judged apart, each against its own target, so the
/// finding says which one to fix.
#[test]
fn rollback_once_decided_and_time_to_detect_are_two_findings() {
    let path = fixtures().join("slow-detection/fail-over-budget.yaml");
    let settings = Settings {
        target_seconds: None,
        detection_budget_seconds: Some(60.0),
    };
    let findings = analyze_with(&path, &settings);
    assert!(
        !findings
            .iter()
            .any(|f| f.rule == "rollback/slow-rollback" && f.severity > Severity::Info),
        "45 s once decided is within the 60 s target: {findings:?}"
    );
    let detection = only(&findings, "rollback/slow-detection");
    assert_eq!(detection.severity, Severity::Fail);
    assert_eq!(
        detection.message,
        "Rollout/web: the analysis takes 120 s to decide a version is bad (AnalysisTemplate/success-rate metric `success-rate`: interval 1m x failureLimit 2), over the 60 s budget (rollback.detection_budget_seconds); the bad version serves until then"
    );
    assert_eq!(
        detection.location.unwrap().to_string(),
        "fail-over-budget.yaml:35:17",
        "points at the metric's interval, where it is fixed"
    );

    // Without a budget, the time to detect is shown as info; with a slow rollout as well,
    // the rollback finding names only its own arithmetic and points at the other.
    let settings = Settings {
        target_seconds: Some(30.0),
        detection_budget_seconds: None,
    };
    let findings = analyze_with(&path, &settings);
    assert_eq!(
        only(&findings, "rollback/slow-detection").severity,
        Severity::Info
    );
    let slow = only(&findings, "rollback/slow-rollback");
    assert!(
        slow.message.contains("about 45 s once decided, over the 30 s target")
            && slow.message.ends_with(
                "; deciding to roll back takes another 120 s (AnalysisTemplate/success-rate metric `success-rate`: interval 1m x failureLimit 2), judged on its own (rollback/slow-detection)"
            ),
        "{}",
        slow.message
    );
}

#[test]
fn a_traffic_shift_rollback_is_an_info_finding() {
    for file in [
        "pass-argo-traffic-routing.yaml",
        "pass-flagger.yaml",
        "pass-blue-green.yaml",
    ] {
        let finding = only(
            &analyze_file(&fixtures().join("slow-rollback").join(file)),
            "rollback/slow-rollback",
        );
        assert_eq!(finding.severity, Severity::Info, "{file}");
        assert!(
            finding.message.contains("near-instant"),
            "{}",
            finding.message
        );
    }
    let flagger = only(
        &analyze_file(&fixtures().join("slow-rollback/pass-flagger.yaml")),
        "rollback/slow-rollback",
    );
    assert!(
        flagger
            .message
            .ends_with("after detection 150 s (Canary/podinfo: interval 30s x threshold 5)"),
        "{}",
        flagger.message
    );
}

#[test]
fn the_target_comes_from_config() {
    let path = fixtures().join("slow-rollback/pass-under-target.yaml");
    let settings = Settings {
        target_seconds: Some(30.0),
        detection_budget_seconds: None,
    };
    let finding = only(&analyze_with(&path, &settings), "rollback/slow-rollback");
    assert!(
        finding
            .message
            .contains("about 40 s once decided, over the 30 s target (rollback.target_seconds)"),
        "{}",
        finding.message
    );
}
