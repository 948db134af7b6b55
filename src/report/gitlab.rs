//! `gitlab`: GitLab's code quality report (a JSON array of issues with `description`,
//! `check_name`, `fingerprint`, `severity`, `location.path`, `location.lines.begin`), which
//! merge request widgets show per changed file. Paths are from the repository root, where
//! GitLab looks for them. Waived findings are left out; a check that could not decide is a
//! `blocker` on the config file.

use super::{RenderOptions, Report, Severity, Status, fingerprint};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Serialize)]
struct Issue {
    description: String,
    check_name: String,
    fingerprint: String,
    severity: &'static str,
    location: IssueLocation,
}

#[derive(Serialize)]
struct IssueLocation {
    path: String,
    lines: Lines,
}

#[derive(Serialize)]
struct Lines {
    begin: u32,
}

pub fn render(report: &Report, options: &RenderOptions) -> String {
    let config_path = options.repo_path(report.config.as_deref().unwrap_or("gonogo.yaml"));
    let mut issues = Vec::new();
    let mut seen: HashMap<String, u32> = HashMap::new();
    for check in &report.checks {
        if check.status == Status::Error {
            issues.push(Issue {
                description: format!("{} could not decide: {}", check.id, check.summary),
                check_name: check.id.clone(),
                fingerprint: fingerprint(&[&check.id, "error", &check.summary]),
                severity: "blocker",
                location: IssueLocation {
                    path: config_path.clone(),
                    lines: Lines { begin: 1 },
                },
            });
        }
        for finding in &check.findings {
            if finding.waived.is_some() {
                continue;
            }
            let path = finding
                .location
                .as_ref()
                .map(|l| options.repo_path(&l.path))
                .unwrap_or_else(|| config_path.clone());
            // Two identical findings in one file stay two issues with their own fingerprints.
            let occurrence = seen
                .entry(format!("{}\0{path}\0{}", finding.rule, finding.message))
                .and_modify(|n| *n += 1)
                .or_insert(0)
                .to_string();
            let mut description = finding.message.clone();
            if let Some(fix) = &finding.fix {
                description.push_str(" Fix: ");
                description.push_str(fix);
            }
            issues.push(Issue {
                description,
                check_name: finding.rule.clone(),
                fingerprint: fingerprint(&[&finding.rule, &path, &finding.message, &occurrence]),
                severity: match finding.severity {
                    Severity::Fail => "critical",
                    Severity::Warn => "major",
                    Severity::Info => "info",
                },
                location: IssueLocation {
                    path,
                    lines: Lines {
                        begin: finding.location.as_ref().and_then(|l| l.line).unwrap_or(1),
                    },
                },
            });
        }
    }
    let mut text = serde_json::to_string_pretty(&issues).unwrap_or_else(|_| "[]".to_string());
    text.push('\n');
    text
}
