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

/// Text from checks and plugins must not break the table, inject HTML or open a link (code
/// spans and emphasis are left alone: they cannot hide or link anything, and fixes use code).
/// Backslash escapes render as the character itself on GitHub and GitLab, so the reader sees
/// the text as it was.
pub(super) fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '|' | '[' | ']' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// A value shown in a code span: a backtick would end the span early, and GitHub splits table
/// cells at a `|` even inside one unless it is escaped.
fn code(text: &str) -> String {
    format!(
        "`{}`",
        text.replace('`', "'")
            .replace('|', "\\|")
            .replace(['\n', '\r'], " ")
    )
}

fn finding_line(check_id: &str, finding: &Finding) -> String {
    let location = finding
        .location
        .as_ref()
        .map(|l| format!(" {}", code(&l.to_string())))
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

/// Output that never grows past `max` characters (Unicode scalar values, as GitHub counts a
/// comment's length).
struct Bounded {
    out: String,
    chars: usize,
    max: usize,
}

impl Bounded {
    /// Appends `text` if it fits with `reserve` characters left over; says whether it did.
    fn push(&mut self, text: &str, reserve: usize) -> bool {
        let len = text.chars().count();
        if self.chars + len + reserve > self.max {
            return false;
        }
        self.out.push_str(text);
        self.chars += len;
        true
    }
}

/// Room kept for a "- …and N more" line after a cut list.
const MORE_LINE: usize = 40;

pub fn render(report: &Report, max_chars: usize) -> String {
    let icon = match report.verdict {
        Verdict::Go => "✅",
        Verdict::GoWithWarnings => "⚠️",
        Verdict::NoGo => "❌",
        Verdict::NothingChecked => "⏭️",
    };
    let verdict = format!("### {icon} gonogo: {}\n\n", report.verdict.as_str());
    // The verdict always fits: with a limit too small even for it, it is all there is.
    let mut out = Bounded {
        chars: 0,
        out: String::new(),
        max: max_chars.max(verdict.chars().count()),
    };
    out.push(&verdict, 0);
    let mut facts = Vec::new();
    if let Some(base) = &report.base {
        facts.push(format!("base {}", code(base)));
    }
    if let Some(head) = &report.head {
        facts.push(format!("head {}", code(head)));
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
    if !out.push(&format!("{}\n\n", facts.join(" · ")), 0) {
        return out.out;
    }

    let checks = report.checks_worst_first();
    if !checks.is_empty() && out.push("| | check | summary |\n|---|---|---|\n", MORE_LINE) {
        for (index, check) in checks.iter().enumerate() {
            let row = format!(
                "| {} {} | {} | {} |\n",
                status_icon(check.status),
                check.status,
                code(&check.id),
                escape(&check.summary)
            );
            if !out.push(&row, MORE_LINE) {
                out.push(
                    &format!("| | …and {} more checks | |\n", checks.len() - index),
                    0,
                );
                return out.out;
            }
        }
        out.push("\n", 0);
    }

    let findings = report.findings_worst_first();
    let counted: Vec<_> = findings
        .iter()
        .filter(|(_, f)| f.waived.is_none() && f.severity != Severity::Info)
        .take(TOP_FINDINGS)
        .collect();
    let mut in_top = Vec::new();
    if !counted.is_empty() && out.push("**Top findings**\n\n", MORE_LINE) {
        for (check, finding) in &counted {
            if !out.push(&finding_line(&check.id, finding), MORE_LINE) {
                break;
            }
            in_top.push(std::ptr::from_ref(*finding));
        }
        if in_top.len() < counted.len() {
            out.push(
                &format!("- …and {} more\n", findings.len() - in_top.len()),
                0,
            );
            return out.out;
        }
        out.push("\n", 0);
    }

    // The rest, folded: the top findings are not repeated.
    let rest: Vec<_> = findings
        .iter()
        .filter(|(_, f)| !in_top.contains(&std::ptr::from_ref(*f)))
        .collect();
    if rest.is_empty() {
        return out.out;
    }
    let title = if in_top.is_empty() {
        "All findings"
    } else {
        "More findings"
    };
    let closing = "\n</details>\n";
    let reserve = closing.chars().count() + MORE_LINE;
    if !out.push(
        &format!("<details><summary>{title} ({})</summary>\n\n", rest.len()),
        reserve,
    ) {
        out.push(
            &format!("…and {} more findings in the full report\n", rest.len()),
            0,
        );
        return out.out;
    }
    let mut shown = 0;
    for (check, finding) in &rest {
        if !out.push(&finding_line(&check.id, finding), reserve) {
            break;
        }
        shown += 1;
    }
    if shown < rest.len() {
        out.push(&format!("- …and {} more\n", rest.len() - shown), 0);
    }
    out.push(closing, 0);
    out.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CheckResult, Location, ReportMeta};

    fn report(findings: usize) -> Report {
        let mut check = CheckResult {
            summary_template: None,
            id: "plugin/`x`|y".into(),
            title: "x".into(),
            status: Status::Pass,
            duration_ms: 1,
            summary: "[click](https://evil.example) **bold** <img src=x>".into(),
            findings: (0..findings)
                .map(|i| {
                    Finding::new(
                        "plugin/x/r",
                        Severity::Fail,
                        format!("finding {i} `tick` *b*"),
                    )
                    .at(Location::new(format!("a`{i}`.sql"), 1, 1))
                })
                .collect(),
        };
        check.settle();
        Report::new(ReportMeta::default(), vec![check], 1)
    }

    #[test]
    fn any_limit_is_respected_and_the_verdict_always_fits() {
        for max in [0, 10, 60, 200, 500, 1000, 3000] {
            let text = render(&report(50), max);
            let verdict = "### ❌ gonogo: NO-GO\n\n";
            assert!(text.starts_with(verdict), "{max}: {text}");
            assert!(
                text.chars().count() <= max.max(verdict.chars().count()),
                "{max}: {} chars: {text}",
                text.chars().count()
            );
        }
    }

    #[test]
    fn details_do_not_repeat_the_top_findings() {
        let text = render(&report(7), DEFAULT_MAX_CHARS);
        assert_eq!(text.matches("finding 0 ").count(), 1, "{text}");
        assert!(text.contains("More findings (2)"), "{text}");
    }

    #[test]
    fn plugin_text_cannot_format_the_comment() {
        let text = render(&report(1), DEFAULT_MAX_CHARS);
        assert!(
            text.contains("\\[click\\](https://evil.example) **bold** &lt;img"),
            "{text}"
        );
        assert!(text.contains("`plugin/'x'\\|y`"), "{text}");
        assert!(text.contains("`a'0'.sql:1:1`"), "{text}");
        assert!(text.contains("finding 0 `tick` *b*"), "{text}");
    }
}
