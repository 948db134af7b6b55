//! `github`: GitHub Actions workflow commands (`::error file=…,line=…::message`), which the
//! runner turns into annotations on the pull request's diff. GitHub shows at most 10 annotations
//! per severity per step, so each level is capped at 10 and the rest are counted.

use super::{RenderOptions, Report, Severity, Status};
use std::fmt::Write;

const PER_LEVEL: usize = 10;

/// Escaping rules of the actions toolkit (`toCommandValue` / `toCommandProperties`).
pub(super) fn escape_data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

pub(super) fn escape_property(text: &str) -> String {
    escape_data(text).replace(':', "%3A").replace(',', "%2C")
}

pub fn render(report: &Report, options: &RenderOptions) -> String {
    let mut out = String::new();
    // (level, properties, message) in report order, worst level first.
    let mut annotations: Vec<(&str, String, String)> = Vec::new();
    for check in &report.checks {
        if check.status == Status::Error {
            annotations.push((
                "error",
                format!(
                    "title={}",
                    escape_property(&format!("{} could not decide", check.id))
                ),
                escape_data(&check.summary),
            ));
        }
    }
    for (check, finding) in report.findings_worst_first() {
        if finding.waived.is_some() {
            continue;
        }
        let level = match finding.severity {
            Severity::Fail => "error",
            Severity::Warn => "warning",
            Severity::Info => "notice",
        };
        let mut properties = Vec::new();
        if let Some(location) = &finding.location {
            // From the repository root: that is where GitHub looks for the file.
            properties.push(format!(
                "file={}",
                escape_property(&options.repo_path(&location.path))
            ));
            if let Some(line) = location.line {
                properties.push(format!("line={line}"));
            }
            if let Some(column) = location.column {
                properties.push(format!("col={column}"));
            }
        }
        properties.push(format!("title={}", escape_property(&finding.rule)));
        let mut message = finding.message.clone();
        if let Some(fix) = &finding.fix {
            message.push_str("\nFix: ");
            message.push_str(fix);
        }
        if check.status == Status::Skip {
            continue;
        }
        annotations.push((level, properties.join(","), escape_data(&message)));
    }
    for level in ["error", "warning", "notice"] {
        let of_level: Vec<_> = annotations.iter().filter(|(l, _, _)| *l == level).collect();
        for (_, properties, message) in of_level.iter().take(PER_LEVEL) {
            let _ = writeln!(out, "::{level} {properties}::{message}");
        }
        if of_level.len() > PER_LEVEL {
            let _ = writeln!(
                out,
                "gonogo: {} more {level} annotations not shown (GitHub shows {PER_LEVEL} per severity per step); see the full report (--output json=… or sarif=…)",
                of_level.len() - PER_LEVEL
            );
        }
    }
    let _ = writeln!(
        out,
        "gonogo: {}: {}",
        report.verdict.as_str(),
        report.counts
    );
    out
}
