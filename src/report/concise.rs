//! `concise`: one line per finding, `path:line:col: severity rule message`, the shape compilers
//! and linters print so editors and `grep` can jump to it; then one line per check that could
//! not decide, and the verdict. Worst first; waived findings are left out (they do not count).

use super::{RenderOptions, Report, Status};
use std::fmt::Write;

pub fn render(report: &Report, options: &RenderOptions) -> String {
    let mut out = String::new();
    for check in report.checks_worst_first() {
        if check.status == Status::Error {
            // Where to act on it: the config, when there is one.
            let place = report.config.as_deref().unwrap_or(&check.id);
            let _ = writeln!(
                out,
                "{place}: error {} could not decide: {}",
                check.id,
                one_line(&check.summary)
            );
        }
    }
    // Worst first across checks (every fail before any warning), then check by check, by file
    // and line.
    let mut findings: Vec<_> = report
        .checks_worst_first()
        .into_iter()
        .flat_map(|check| {
            check
                .findings_worst_first()
                .into_iter()
                .map(move |f| (check, f))
        })
        .collect();
    findings.sort_by_key(|(_, f)| f.rank());
    for (check, finding) in findings {
        if finding.waived.is_some() || (options.quiet && !finding.blocks(report.strict)) {
            continue;
        }
        let place = finding
            .location
            .as_ref()
            .map(ToString::to_string)
            .or_else(|| report.config.clone())
            .unwrap_or_else(|| check.id.clone());
        let _ = writeln!(
            out,
            "{place}: {} {} {}",
            finding.severity,
            finding.rule,
            one_line(&finding.message)
        );
    }
    let _ = writeln!(out, "{}: {}", report.verdict.as_str(), report.counts);
    out
}

/// A message on one line: a finding's line must stay one line for the tools that read it.
fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CheckResult, Finding, Location, ReportMeta, Severity};

    #[test]
    fn one_line_per_finding_worst_first() {
        let mut check = CheckResult {
            summary_template: None,
            id: "migrations".into(),
            title: "m".into(),
            status: Status::Pass,
            duration_ms: 1,
            summary: "s".into(),
            findings: vec![
                Finding::new("migrations/a", Severity::Warn, "first\nsecond")
                    .at(Location::new("db/1.sql", 3, 1)),
                Finding::new("migrations/b", Severity::Fail, "bad").at(Location::file("db/2.sql")),
            ],
        };
        check.settle();
        let report = Report::new(ReportMeta::default(), vec![check], 1);
        let text = render(&report, &RenderOptions::default());
        assert_eq!(
            text,
            "db/2.sql: fail migrations/b bad\n\
             db/1.sql:3:1: warn migrations/a first second\n\
             NO-GO: 0 pass, 0 warn, 1 fail, 0 error, 0 skip\n"
        );
        let quiet = render(
            &report,
            &RenderOptions {
                quiet: true,
                ..RenderOptions::default()
            },
        );
        assert!(!quiet.contains("migrations/a"), "{quiet}");
    }
}
