//! The readiness rules beyond their fixtures (rule_fixtures.rs runs every fixture under
//! tests/fixtures/readiness/ and snapshots its findings): the arithmetic and wording of
//! messages, where findings point, settings from config, annotation waivers.

use gonogo::report::{Finding, Severity};
use std::path::{Path, PathBuf};

use crate::common;
use common::fixtures::describe;

fn fixtures() -> PathBuf {
    common::fixtures::root().join("readiness")
}

fn analyze_file(path: &Path) -> Vec<Finding> {
    common::fixtures::findings("readiness", path)
}

fn only(findings: &[Finding], rule: &str) -> Finding {
    let hits: Vec<&Finding> = findings.iter().filter(|f| f.rule == rule).collect();
    assert_eq!(hits.len(), 1, "{}", describe(findings));
    hits[0].clone()
}

#[test]
fn same_as_liveness_explains_why_and_points_at_the_readiness_probe() {
    let finding = only(
        &analyze_file(&fixtures().join("same-as-liveness/fail-same-http-dependency-path.yaml")),
        "readiness/same-as-liveness",
    );
    assert_eq!(finding.severity, Severity::Fail);
    assert!(
        finding.message.starts_with(
            "Deployment/api, container app: readiness and liveness run the same check (httpGet /ready on port 8080): the path looks like a dependency check (`ready`), so when a dependency blips every pod fails liveness"
        ),
        "{}",
        finding.message
    );
    assert!(finding.message.contains("a readiness check should"));
    assert_eq!(
        finding.location.unwrap().to_string(),
        "fail-same-http-dependency-path.yaml:19:11"
    );

    // Issue 17.4: the same endpoint whose path says nothing is a warning (gonogo cannot tell
    // what it checks); identical tcpSocket probes of a datastore and the standard gRPC health
    // check are info, with the reason.
    let cases = [
        (
            "fail-same-http.yaml",
            Severity::Warn,
            "gonogo cannot tell whether the endpoint checks dependencies",
        ),
        (
            "fail-same-exec.yaml",
            Severity::Warn,
            "gonogo cannot tell whether the command checks dependencies",
        ),
        (
            "pass-redis-same-tcp.yaml",
            Severity::Info,
            "a tcpSocket probe cannot check dependencies",
        ),
        (
            "pass-same-grpc-health-info.yaml",
            Severity::Info,
            "the standard gRPC health check",
        ),
        (
            "pass-grpc-health-probe-exec.yaml",
            Severity::Info,
            "the standard gRPC health check",
        ),
    ];
    for (file, severity, why) in cases {
        let finding = only(
            &analyze_file(&fixtures().join("same-as-liveness").join(file)),
            "readiness/same-as-liveness",
        );
        assert_eq!(finding.severity, severity, "{file}");
        assert!(finding.message.contains(why), "{file}: {}", finding.message);
    }
}

#[test]
fn a_missing_probe_points_at_the_container() {
    let finding = only(
        &analyze_file(&fixtures().join("missing-readiness-probe/fail-selected-by-service.yaml")),
        "readiness/missing-readiness-probe",
    );
    assert!(
        finding.message.contains("(a Service selects its pods)"),
        "{}",
        finding.message
    );
    assert_eq!(
        finding.location.unwrap().to_string(),
        "fail-selected-by-service.yaml:15:11"
    );
}

#[test]
fn slow_detection_shows_the_arithmetic_with_defaults() {
    let dir = fixtures().join("slow-detection");
    let period = only(
        &analyze_file(&dir.join("fail-slow-period.yaml")),
        "readiness/slow-detection",
    );
    assert!(
        period.message.contains(
            "for up to periodSeconds 30 s × failureThreshold 3 (the default) = 90 s (more than 30 s)"
        ),
        "{}",
        period.message
    );
    let threshold = only(
        &analyze_file(&dir.join("fail-high-threshold.yaml")),
        "readiness/slow-detection",
    );
    assert!(
        threshold
            .message
            .contains("periodSeconds 10 s (the default) × failureThreshold 6 = 60 s"),
        "{}",
        threshold.message
    );
    assert_eq!(
        threshold.location.unwrap().to_string(),
        "fail-high-threshold.yaml:21:13",
        "the failureThreshold key"
    );
}

#[test]
fn the_ignore_annotation_waives_on_that_object() {
    let findings = analyze_file(&fixtures().join("quiet/annotation-waives.yaml"));
    let finding = only(&findings, "readiness/tcp-readiness");
    assert_eq!(
        finding.waived.expect("waived").reason,
        "gonogo.dev/ignore annotation on Deployment/api"
    );
}
