//! `table`: for a developer at a terminal. One row per check, then the findings grouped by check
//! with location, message and fix, then the verdict line. Colour only when asked for (the caller
//! decides: a terminal and no NO_COLOR).

use super::text::wrap;
use super::{CheckResult, Finding, RenderOptions, Report, Severity, Status, Verdict, human_ms};
use comfy_table::{ColumnConstraint, ContentArrangement, Table, Width, presets};
use owo_colors::OwoColorize;
use std::fmt::Write;

/// Width of the time column, padding included: "999 ms" and one space either side.
const TIME_WIDTH: u16 = 8;

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
    // Below this nothing readable fits; COLUMNS=5 is treated as this.
    let width = usize::from(options.width.max(40));
    let mut out = String::new();
    if !options.quiet {
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
        push_lines(&mut out, wrap(&header, "", "  ", width));
        if report.checks.is_empty() {
            out.push('\n');
            push_lines(
                &mut out,
                wrap(
                    "No checks ran: nothing is configured or everything was filtered out.",
                    "",
                    "",
                    width,
                ),
            );
        } else {
            let _ = writeln!(out, "{}", check_table(report, color, width));
        }
    }

    for check in report.checks_worst_first() {
        if options.quiet {
            render_blocking(&mut out, check, report.strict, color, width);
        } else if !check.findings.is_empty() {
            render_findings(&mut out, check, color, width);
        }
    }

    let counts = &report.counts;
    let strict = if report.strict {
        " (--strict: warnings block)"
    } else {
        ""
    };
    let verdict_text = report.verdict.as_str();
    let line = format!(
        "{verdict_text}{strict}: {counts} in {}",
        human_ms(report.duration_ms)
    );
    let mut lines = wrap(&line, "", "  ", width);
    if color {
        let coloured = match report.verdict {
            Verdict::Go => verdict_text.green().bold().to_string(),
            Verdict::GoWithWarnings => verdict_text.yellow().bold().to_string(),
            Verdict::NoGo | Verdict::NothingChecked => verdict_text.red().bold().to_string(),
        };
        lines[0] = lines[0].replacen(verdict_text, &coloured, 1);
    }
    if !out.is_empty() {
        out.push('\n');
    }
    push_lines(&mut out, lines);
    out
}

/// One row per check, worst first; skipped checks with the same reason share one row.
fn check_table(report: &Report, color: bool, width: usize) -> Table {
    let mut table = Table::new();
    table
        .load_style(presets::UTF8_FULL_CONDENSED)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_width(u16::try_from(width).unwrap_or(u16::MAX))
        .set_header(vec!["status", "check", "summary", "time"]);
    // The time column is as wide as the longest duration human_ms writes ("999 ms"), whatever
    // this run's durations: a slower run must not take width from the summaries and re-wrap them.
    if let Some(time) = table.column_mut(3) {
        time.set_constraint(ColumnConstraint::Absolute(Width::Fixed(TIME_WIDTH)));
    }
    let mut skipped: Vec<(&str, Vec<&str>, u64)> = Vec::new();
    for check in report.checks_worst_first() {
        if check.status == Status::Skip {
            match skipped
                .iter_mut()
                .find(|(summary, _, _)| *summary == check.summary)
            {
                Some((_, ids, ms)) => {
                    ids.push(&check.id);
                    *ms += check.duration_ms;
                }
                None => skipped.push((&check.summary, vec![&check.id], check.duration_ms)),
            }
            continue;
        }
        table.add_row(vec![
            status_label(check.status, color),
            check.id.clone(),
            check.summary.clone(),
            human_ms(check.duration_ms),
        ]);
    }
    for (summary, ids, ms) in skipped {
        table.add_row(vec![
            status_label(Status::Skip, color),
            ids.join(", "),
            summary.to_string(),
            human_ms(ms),
        ]);
    }
    table
}

fn push_lines(out: &mut String, lines: Vec<String>) {
    for line in lines {
        out.push_str(line.trim_end());
        out.push('\n');
    }
}

/// The hanging indent of everything under a finding's first line.
const INDENT: &str = "      ";

fn render_findings(out: &mut String, check: &CheckResult, color: bool, width: usize) {
    let title = format!("{} — {}", check.id, check.title);
    out.push('\n');
    let mut title_lines = wrap(&title, "", "  ", width);
    if color {
        title_lines = title_lines
            .into_iter()
            .map(|l| l.bold().to_string())
            .collect();
    }
    push_lines(out, title_lines);
    for finding in check.findings_worst_first() {
        render_finding(out, finding, color, width);
    }
}

fn render_finding(out: &mut String, finding: &Finding, color: bool, width: usize) {
    let location = finding
        .location
        .as_ref()
        .map(|l| format!("{l}: "))
        .unwrap_or_default();
    let plain_label = severity_label(finding, false);
    let first = format!("  {plain_label} ");
    let text = format!("{location}{} [{}]", finding.message, finding.rule);
    let mut lines = wrap(&text, &first, INDENT, width);
    if color {
        lines[0] = format!(
            "  {}{}",
            severity_label(finding, true),
            &lines[0][2 + plain_label.len()..]
        );
    }
    push_lines(out, lines);
    if let Some(evidence) = &finding.evidence {
        for line in evidence.lines() {
            let prefix = format!("{INDENT}| ");
            push_lines(out, wrap(line, &prefix, &prefix, width));
        }
    }
    if let Some(fix) = &finding.fix {
        push_lines(out, wrap(fix, &format!("{INDENT}fix: "), INDENT, width));
    }
    if let Some(waived) = &finding.waived {
        let until = waived
            .expires
            .as_ref()
            .map(|e| format!(" until {e}"))
            .unwrap_or_default();
        push_lines(
            out,
            wrap(
                &waived.reason,
                &format!("{INDENT}waived{until}: "),
                INDENT,
                width,
            ),
        );
    }
}

/// `-q`: a check that blocks the verdict, and only the findings that block it.
fn render_blocking(out: &mut String, check: &CheckResult, strict: bool, color: bool, width: usize) {
    if !check.status.blocks(strict) {
        return;
    }
    let label = check.status.as_str().to_uppercase();
    let mut lines = wrap(
        &format!("{}: {}", check.id, check.summary),
        &format!("{label} "),
        INDENT,
        width,
    );
    if color {
        lines[0] = lines[0].replacen(&label, &status_label(check.status, true), 1);
    }
    push_lines(out, lines);
    for finding in check.findings_worst_first() {
        if finding.blocks(strict) {
            render_finding(out, finding, color, width);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{Location, ReportMeta, text};

    fn report() -> Report {
        let long = "ACCESS EXCLUSIVE on orders with no lock_timeout set: if it waits behind a long query, every query on orders queues behind it (it blocks reads and writes)";
        let mut migrations = CheckResult {
            summary_template: None,
            id: "migrations".into(),
            title: "Migration lock risk".into(),
            status: Status::Pass,
            duration_ms: 3,
            summary: "6 migration files; at risk: orders (fails in a transaction, breaking change, scan, index build, rewrite)".into(),
            findings: vec![
                Finding::new("migrations/info-one", Severity::Info, "just so you know")
                    .at(Location::new("db/a.sql", 1, 1)),
                Finding::new("migrations/warn-one", Severity::Warn, long)
                    .at(Location::new("db/a.sql", 2, 1))
                    .with_fix(long),
                Finding::new("migrations/fail-one", Severity::Fail, long)
                    .at(Location::new("db/b.sql", 9, 1))
                    .with_evidence(long),
            ],
        };
        migrations.settle();
        let skip = |id: &str, summary: &str| CheckResult {
            summary_template: None,
            id: id.into(),
            title: id.into(),
            status: Status::Skip,
            duration_ms: 0,
            summary: summary.into(),
            findings: vec![],
        };
        let pass = CheckResult {
            summary_template: None,
            id: "rollout".into(),
            title: "rollout".into(),
            status: Status::Pass,
            duration_ms: 1,
            summary: "ok".into(),
            findings: vec![],
        };
        Report::new(
            ReportMeta::default(),
            vec![
                skip("dns", "skipped: --offline"),
                pass,
                migrations,
                skip("readiness", "skipped: --offline"),
            ],
            9,
        )
    }

    fn options(width: u16) -> RenderOptions {
        RenderOptions {
            width,
            ..RenderOptions::default()
        }
    }

    #[test]
    fn every_line_fits_80_columns() {
        let out = render(&report(), &options(80));
        for line in out.lines() {
            assert!(
                text::width(line) <= 80,
                "{} columns: {line}",
                text::width(line)
            );
        }
        assert!(out.contains("\n      fix: ACCESS EXCLUSIVE"), "{out}");
    }

    #[test]
    fn worst_first_and_skips_folded() {
        let out = render(&report(), &options(100));
        let at = |needle: &str| {
            out.find(needle)
                .unwrap_or_else(|| panic!("{needle}: {out}"))
        };
        assert!(at("FAIL") < at("PASS"));
        assert!(at("PASS") < at("dns, readiness"), "{out}");
        assert_eq!(out.matches("SKIP").count(), 1, "{out}");
        assert!(at("fail db/b.sql:9:1") < at("warn db/a.sql:2:1"));
        assert!(at("warn db/a.sql:2:1") < at("info db/a.sql:1:1"));
    }

    #[test]
    fn quiet_shows_the_verdict_and_what_blocks_it() {
        let out = render(
            &report(),
            &RenderOptions {
                quiet: true,
                ..options(100)
            },
        );
        assert!(out.starts_with("FAIL migrations: "), "{out}");
        assert!(out.contains("fail db/b.sql:9:1"));
        assert!(!out.contains("warn db/a.sql"), "{out}");
        assert!(!out.contains("rollout"), "{out}");
        assert!(out.trim_end().ends_with("in 9 ms"), "{out}");
    }
}
