//! `junit`: JUnit XML for CI systems that ingest test reports. A testsuite per check, a testcase
//! per rule (the check's rule ids from the [`RuleCatalog`], plus any rule a plugin reported). A rule with an
//! unwaived `fail` finding is a failure (`warn` too under `--strict`); a check that could not
//! decide is an error; a skipped check is a skipped testcase.

use super::{CheckResult, Finding, Report, RuleCatalog, Severity, Status};
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

pub fn render(report: &Report, catalog: &RuleCatalog) -> String {
    let mut junit = quick_junit::Report::new("gonogo");
    junit.set_time(Duration::from_millis(report.duration_ms));
    for check in &report.checks {
        junit.add_test_suite(suite_for(check, report.strict, catalog));
    }
    junit
        .to_string()
        .unwrap_or_else(|e| format!("<!-- cannot serialise the JUnit report: {e} -->\n"))
}

fn suite_for(check: &CheckResult, strict: bool, catalog: &RuleCatalog) -> TestSuite {
    let mut suite = TestSuite::new(check.id.as_str());
    suite.set_time(Duration::from_millis(check.duration_ms));
    match check.status {
        Status::Skip => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(check.summary.as_str());
            let mut case = TestCase::new(check.id.as_str(), status);
            case.set_classname(check.id.as_str());
            suite.add_test_case(case);
            return suite;
        }
        Status::Error => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
            status.set_message(check.summary.as_str());
            let mut case = TestCase::new(check.id.as_str(), status);
            case.set_classname(check.id.as_str());
            suite.add_test_case(case);
            return suite;
        }
        Status::Pass | Status::Warn | Status::Fail => {}
    }

    // Rule ids: the check's in the catalog, then those only seen in findings (plugins,
    // bookkeeping).
    let mut rule_ids: Vec<&str> = catalog
        .check_rules(&check.id)
        .map(|rules| rules.map(|r| r.id.as_str()).collect())
        .unwrap_or_default();
    for finding in &check.findings {
        if !rule_ids.contains(&finding.rule.as_str()) {
            rule_ids.push(&finding.rule);
        }
    }
    if rule_ids.is_empty() {
        let mut case = TestCase::new(check.id.as_str(), TestCaseStatus::success());
        case.set_classname(check.id.as_str());
        case.set_system_out(check.summary.as_str());
        suite.add_test_case(case);
        return suite;
    }
    for rule in rule_ids {
        let findings: Vec<&Finding> = check.findings.iter().filter(|f| f.rule == rule).collect();
        let blocking: Vec<&&Finding> = findings
            .iter()
            .filter(|f| {
                f.waived.is_none()
                    && (f.severity == Severity::Fail || (strict && f.severity == Severity::Warn))
            })
            .collect();
        let text: String = findings.iter().map(|f| describe(f)).collect();
        let mut case = if blocking.is_empty() {
            let mut case = TestCase::new(rule, TestCaseStatus::success());
            if !text.is_empty() {
                case.set_system_out(text);
            }
            case
        } else {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status.set_message(blocking[0].message.as_str());
            status.set_type(blocking[0].severity.as_str());
            status.set_description(text);
            TestCase::new(rule, status)
        };
        case.set_classname(check.id.as_str());
        suite.add_test_case(case);
    }
    suite
}

fn describe(finding: &Finding) -> String {
    let mut text = String::new();
    if let Some(location) = &finding.location {
        text.push_str(&format!("{location}: "));
    }
    text.push_str(&format!("[{}] {}", finding.severity, finding.message));
    if let Some(fix) = &finding.fix {
        text.push_str(&format!("\n  fix: {fix}"));
    }
    if let Some(waived) = &finding.waived {
        text.push_str(&format!("\n  waived: {}", waived.reason));
    }
    text.push('\n');
    text
}
