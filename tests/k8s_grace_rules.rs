//! The grace rules beyond their fixtures (rule_fixtures.rs runs every fixture under
//! tests/fixtures/grace/ and snapshots its findings): the arithmetic and wording of
//! messages, where findings point, settings from config, annotation waivers.

use gonogo::checks::grace::{Settings, analyze};
use gonogo::k8s::{Manifests, parse_stream};
use gonogo::report::{Finding, Severity};
use std::path::{Path, PathBuf};

use crate::common;
use common::fixtures::describe;

fn fixtures() -> PathBuf {
    common::fixtures::root().join("grace")
}

fn analyze_file(path: &Path) -> Vec<Finding> {
    common::fixtures::findings("grace", path)
}

fn only(findings: &[Finding], rule: &str) -> Finding {
    let hits: Vec<&Finding> = findings.iter().filter(|f| f.rule == rule).collect();
    assert_eq!(hits.len(), 1, "{}", describe(findings));
    hits[0].clone()
}

#[test]
fn the_grace_period_message_shows_the_sum() {
    let finding = only(
        &analyze_file(&fixtures().join("grace-period-too-short/fail-default-grace.yaml")),
        "grace/grace-period-too-short",
    );
    assert_eq!(
        finding.message,
        "Deployment/api, container app: terminationGracePeriodSeconds 30 (the default) < preStop delay 20 s + longest request 10 s (grace.max_request_seconds unset: assumed) + margin 2 s (grace.margin_seconds unset: the default) = 32 s: requests still running at SIGKILL are cut off; the longest request is assumed: set grace.max_request_seconds to decide"
    );
    assert_eq!(
        finding.severity,
        Severity::Warn,
        "a sum built on an assumed request length is a warning until the config says it"
    );
    assert_eq!(
        finding.location.unwrap().to_string(),
        "fail-default-grace.yaml:2:1",
        "no terminationGracePeriodSeconds: the workload"
    );
}

#[test]
fn config_sets_the_longest_request_and_the_deregistration_delay() {
    let text =
        std::fs::read_to_string(fixtures().join("missing-prestop/pass-sleep-action.yaml")).unwrap();
    let mut manifests = Manifests::default();
    parse_stream(&mut manifests, "x.yaml", &text).unwrap();
    let settings = Settings {
        max_request_seconds: Some(25.0),
        lb_deregistration_seconds: Some(15.0),
        margin_seconds: Some(3.0),
    };
    let findings = analyze(&manifests, &settings).findings;
    let short = only(&findings, "grace/grace-period-too-short");
    assert!(
        short.message.contains(
            "preStop delay 10 s + longest request 25 s (grace.max_request_seconds) + margin 3 s (grace.margin_seconds) = 38 s"
        ),
        "{}",
        short.message
    );
    let lb = only(&findings, "grace/prestop-shorter-than-deregistration");
    assert!(
        lb.message
            .contains("after 15 s (grace.lb_deregistration_seconds)"),
        "{}",
        lb.message
    );
}

#[test]
fn annotations_name_where_the_deregistration_delay_comes_from() {
    let finding = only(
        &analyze_file(
            &fixtures().join("prestop-shorter-than-deregistration/fail-ingress-annotation.yaml"),
        ),
        "grace/prestop-shorter-than-deregistration",
    );
    assert!(
        finding
            .message
            .contains("after 20 s (deregistration_delay.timeout_seconds=20 on Ingress/api)"),
        "{}",
        finding.message
    );
}
