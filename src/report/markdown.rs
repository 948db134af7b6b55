//! `markdown`: for a PR comment or a chat message. Per-check rows, the top findings, the rest
//! folded in `<details>`. A PR comment holds 65,536 characters and a chat message far less, so
//! the output is cut worst-first to `max_chars` with "…and N more".

use super::{Finding, Report, Severity, Status, Verdict, human_ms};
use std::fmt::Write;

/// Fits a GitHub PR comment (65,536) with room for a bot's own header.
pub const DEFAULT_MAX_CHARS: usize = 60_000;
const TOP_FINDINGS: usize = 5;

fn status_icon(status: Status) -> &'static str {
    match status {
        Status::Pass => "✅",
        Status::Warn => "⚠️",
        Status::Fail => "❌",
        Status::Error => "🛑",
        Status::Skip => "⏭️",
    }
}

fn severity_icon(finding: &Finding) -> &'static str {
    if finding.waived.is_some() {
        return "🔕";
    }
    match finding.severity {
        Severity::Fail => "❌",
        Severity::Warn => "⚠️",
        Severity::Info => "ℹ️",
    }
}

/// Text from checks and plugins must not break the table or inject HTML into a comment.
pub(super) fn escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace(['\n', '\r'], " ")
}

fn finding_line(check_id: &str, finding: &Finding) -> String {
    let location = finding
        .location
        .as_ref()
        .map(|l| format!(" `{}`", l.to_string().replace('`', "'")))
        .unwrap_or_default();
    let mut line = format!(
        "- {} **{}**{location} — {}",
        severity_icon(finding),
        escape(&finding.rule),
        escape(&finding.message)
    );
    if let Some(fix) = &finding.fix {
        let _ = write!(line, "<br>fix: {}", escape(fix));
    }
    if let Some(waived) = &finding.waived {
        let _ = write!(line, "<br>waived: {}", escape(&waived.reason));
    }
    if !finding.rule.starts_with(check_id) {
        let _ = write!(line, " ({})", escape(check_id));
    }
    line.push('\n');
    line
}

pub fn render(report: &Report, max_chars: usize) -> String {
    let mut out = String::new();
    let icon = match report.verdict {
        Verdict::Go => "✅",
        Verdict::GoWithWarnings => "⚠️",
        Verdict::NoGo => "❌",
    };
    let _ = writeln!(out, "### {icon} gonogo: {}\n", report.verdict.as_str());
    let mut facts = Vec::new();
    if let Some(base) = &report.base {
        facts.push(format!("base `{base}`"));
    }
    if let Some(head) = &report.head {
        facts.push(format!("head `{head}`"));
    }
    let c = &report.counts;
    facts.push(format!(
        "{} pass · {} warn · {} fail · {} error · {} skip",
        c.pass, c.warn, c.fail, c.error, c.skip
    ));
    facts.push(human_ms(report.duration_ms));
    if report.strict {
        facts.push("strict".to_string());
    }
    let _ = writeln!(out, "{}\n", facts.join(" · "));

    if !report.checks.is_empty() {
        out.push_str("| | check | summary |\n|---|---|---|\n");
        for check in &report.checks {
            let _ = writeln!(
                out,
                "| {} {} | `{}` | {} |",
                status_icon(check.status),
                check.status,
                check.id,
                escape(&check.summary)
            );
        }
        out.push('\n');
    }

    let findings = report.findings_worst_first();
    let counted: Vec<_> = findings
        .iter()
        .filter(|(_, f)| f.waived.is_none() && f.severity != Severity::Info)
        .collect();
    let footer_reserve = 200;
    if !counted.is_empty() {
        out.push_str("**Top findings**\n\n");
        let mut shown = 0;
        for (check, finding) in counted.iter().take(TOP_FINDINGS) {
            let line = finding_line(&check.id, finding);
            if out.len() + line.len() + footer_reserve > max_chars {
                break;
            }
            out.push_str(&line);
            shown += 1;
        }
        let not_shown = counted.len() - shown;
        if shown < TOP_FINDINGS.min(counted.len()) {
            let _ = writeln!(out, "- …and {not_shown} more");
            return out;
        }
        out.push('\n');
    }

    if !findings.is_empty() {
        let _ = writeln!(
            out,
            "<details><summary>All findings ({})</summary>\n",
            findings.len()
        );
        let closing = "\n</details>\n";
        let mut shown = 0;
        for (check, finding) in &findings {
            let line = finding_line(&check.id, finding);
            if out.len() + line.len() + closing.len() + footer_reserve > max_chars {
                break;
            }
            out.push_str(&line);
            shown += 1;
        }
        if shown < findings.len() {
            let _ = writeln!(out, "- …and {} more", findings.len() - shown);
        }
        out.push_str(closing);
    }
    out
}
