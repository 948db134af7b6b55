//! `table`: for a developer at a terminal. One row per check, then the findings grouped by check
//! with location, message and fix, then the verdict line. Colour only when asked for (the caller
//! decides: a terminal and no NO_COLOR).

use super::{CheckResult, Finding, RenderOptions, Report, Severity, Status, Verdict, human_ms};
use comfy_table::{ContentArrangement, Table, presets};
use owo_colors::OwoColorize;
use std::fmt::Write;

/// `--color`: `auto` colours only a terminal without NO_COLOR.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour stdout. NO_COLOR (any non-empty value) wins over `auto` only: an explicit
    /// `--color always` is the user's word.
    pub fn use_color(self, stdout_is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                stdout_is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
            }
        }
    }
}

fn status_label(status: Status, color: bool) -> String {
    let label = status.as_str().to_uppercase();
    if !color {
        return label;
    }
    match status {
        Status::Pass => label.green().to_string(),
        Status::Warn => label.yellow().to_string(),
        Status::Fail | Status::Error => label.red().bold().to_string(),
        Status::Skip => label.dimmed().to_string(),
    }
}

fn severity_label(finding: &Finding, color: bool) -> String {
    let label = if finding.waived.is_some() {
        "waived".to_string()
    } else {
        finding.severity.as_str().to_string()
    };
    if !color || finding.waived.is_some() {
        return label;
    }
    match finding.severity {
        Severity::Fail => label.red().bold().to_string(),
        Severity::Warn => label.yellow().to_string(),
        Severity::Info => label.cyan().to_string(),
    }
}

pub fn render(report: &Report, options: &RenderOptions) -> String {
    let color = options.color;
    let mut out = String::new();
    let header = match (&report.base, &report.head) {
        (Some(base), Some(head)) => format!(
            "gonogo {} · base {base} → head {head}",
            report.gonogo_version
        ),
        (None, Some(head)) => format!(
            "gonogo {} · head {head} (no base: every file counts as new)",
            report.gonogo_version
        ),
        (Some(base), None) => format!("gonogo {} · base {base}", report.gonogo_version),
        (None, None) => format!("gonogo {}", report.gonogo_version),
    };
    let _ = writeln!(out, "{header}");
    if report.checks.is_empty() {
        let _ = writeln!(
            out,
            "\nNo checks ran: nothing is configured or everything was filtered out."
        );
    } else {
        let mut table = Table::new();
        table
            .load_style(presets::UTF8_FULL_CONDENSED)
            .set_content_arrangement(ContentArrangement::Dynamic)
            .set_header(vec!["status", "check", "summary", "time"]);
        if let Some(width) = options.width {
            table.set_width(width);
        }
        for check in &report.checks {
            table.add_row(vec![
                status_label(check.status, color),
                check.id.clone(),
                check.summary.clone(),
                human_ms(check.duration_ms),
            ]);
        }
        let _ = writeln!(out, "{table}");
    }

    for check in report.checks.iter().filter(|c| !c.findings.is_empty()) {
        render_findings(&mut out, check, color);
    }

    let counts = &report.counts;
    let verdict = report.verdict.as_str();
    let verdict = if color {
        match report.verdict {
            Verdict::Go => verdict.green().bold().to_string(),
            Verdict::GoWithWarnings => verdict.yellow().bold().to_string(),
            Verdict::NoGo => verdict.red().bold().to_string(),
        }
    } else {
        verdict.to_string()
    };
    let strict = if report.strict {
        " (--strict: warnings block)"
    } else {
        ""
    };
    let _ = writeln!(
        out,
        "\n{verdict}{strict}: {} pass, {} warn, {} fail, {} error, {} skip in {}",
        counts.pass,
        counts.warn,
        counts.fail,
        counts.error,
        counts.skip,
        human_ms(report.duration_ms)
    );
    out
}

fn render_findings(out: &mut String, check: &CheckResult, color: bool) {
    let title = format!("{} — {}", check.id, check.title);
    let _ = writeln!(
        out,
        "\n{}",
        if color {
            title.bold().to_string()
        } else {
            title
        }
    );
    for finding in &check.findings {
        let location = finding
            .location
            .as_ref()
            .map(|l| format!("{l}: "))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "  {} {location}{} [{}]",
            severity_label(finding, color),
            finding.message,
            finding.rule
        );
        if let Some(evidence) = &finding.evidence {
            for line in evidence.lines() {
                let _ = writeln!(out, "      | {line}");
            }
        }
        if let Some(fix) = &finding.fix {
            let _ = writeln!(out, "      fix: {fix}");
        }
        if let Some(waived) = &finding.waived {
            let until = waived
                .expires
                .as_ref()
                .map(|e| format!(" until {e}"))
                .unwrap_or_default();
            let _ = writeln!(out, "      waived{until}: {}", waived.reason);
        }
    }
}
