//! `slack`: a Slack message in Block Kit JSON (`{"text", "blocks"}`, ready for `chat.postMessage`
//! or an incoming webhook): the verdict as a header, the counts, one section per check that
//! blocks or warns, and the top findings. Slack renders neither markdown tables nor `<details>`,
//! hence a format of its own.
//!
//! Slack's limits (docs.slack.dev, Block Kit reference): a message holds at most 50 blocks; a
//! header block's text at most 150 characters; a section block's text at most 3,000. Past them
//! Slack rejects the whole message (`invalid_blocks`), so every text is cut to its limit and the
//! block list to 50, saying how much was left out. In `mrkdwn`, `&`, `<` and `>` are control
//! characters (links, mentions such as `<!channel>`) and are escaped, so a plugin's output cannot
//! ping a channel.

use super::{Finding, Report, Severity, Status, Verdict, text::truncate_chars};
use serde_json::{Value, json};

pub const MAX_BLOCKS: usize = 50;
pub const MAX_HEADER_CHARS: usize = 150;
pub const MAX_SECTION_CHARS: usize = 3000;
/// Findings listed in the message; the full report is for the CI log or an artifact.
const TOP_FINDINGS: usize = 10;

/// Slack's mrkdwn escaping: only these three characters have to be escaped.
fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn section(text: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": truncate_chars(text, MAX_SECTION_CHARS)}})
}

fn status_emoji(status: Status) -> &'static str {
    match status {
        Status::Pass => ":white_check_mark:",
        Status::Warn => ":warning:",
        Status::Fail => ":x:",
        Status::Error => ":octagonal_sign:",
        Status::Skip => ":fast_forward:",
    }
}

fn finding_line(finding: &Finding) -> String {
    let icon = match finding.severity {
        Severity::Fail => ":x:",
        Severity::Warn => ":warning:",
        Severity::Info => ":information_source:",
    };
    let location = finding
        .location
        .as_ref()
        // Backticks would end the code span early.
        .map(|l| format!(" `{}`", escape(&l.to_string().replace('`', "'"))))
        .unwrap_or_default();
    format!(
        "{icon} *{}*{location} {}",
        escape(&finding.rule),
        escape(&one_line(&finding.message))
    )
}

fn one_line(text: &str) -> String {
    text.split(['\n', '\r'])
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

pub fn render(report: &Report) -> String {
    let c = &report.counts;
    let verdict = report.verdict.as_str();
    let emoji = match report.verdict {
        Verdict::Go => ":white_check_mark:",
        Verdict::GoWithWarnings => ":warning:",
        Verdict::NoGo => ":x:",
        Verdict::NothingChecked => ":fast_forward:",
    };
    let counts = format!(
        "{} pass · {} warn · {} fail · {} error · {} skip",
        c.pass, c.warn, c.fail, c.error, c.skip
    );
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": truncate_chars(&format!("gonogo: {verdict}"), MAX_HEADER_CHARS), "emoji": true}
    })];
    let mut facts = vec![format!("{emoji} *{verdict}* · {counts}")];
    if let Some(base) = &report.base {
        facts.push(format!("base `{}`", escape(base)));
    }
    if let Some(head) = &report.head {
        facts.push(format!("head `{}`", escape(head)));
    }
    if report.strict {
        facts.push("--strict: warnings block".to_string());
    }
    blocks.push(section(&facts.join(" · ")));

    // Checks that block or warn, worst first; passes and skips are in the counts.
    let mut check_sections: Vec<Value> = Vec::new();
    for check in report.checks_worst_first() {
        if !matches!(check.status, Status::Error | Status::Fail | Status::Warn) {
            continue;
        }
        check_sections.push(section(&format!(
            "{} *{}* {}: {}",
            status_emoji(check.status),
            escape(&check.id),
            check.status,
            escape(&one_line(&check.summary))
        )));
    }
    let findings: Vec<&Finding> = report
        .findings_worst_first()
        .into_iter()
        .map(|(_, f)| f)
        .filter(|f| f.waived.is_none() && f.severity != Severity::Info)
        .collect();
    let mut shown = 0;
    let mut findings_section = None;
    if !findings.is_empty() {
        // One section of findings, as many lines as fit in its 3,000 characters.
        let mut text = String::from("*Top findings*");
        for finding in findings.iter().take(TOP_FINDINGS) {
            let line = format!("\n• {}", finding_line(finding));
            // Room for "…and N more" below.
            if text.chars().count() + line.chars().count() > MAX_SECTION_CHARS - 40 {
                if shown == 0 {
                    text.push_str(&truncate_chars(
                        &line,
                        MAX_SECTION_CHARS - 40 - text.chars().count(),
                    ));
                    shown = 1;
                }
                break;
            }
            text.push_str(&line);
            shown += 1;
        }
        if findings.len() > shown {
            text.push_str(&format!("\n…and {} more", findings.len() - shown));
        }
        findings_section = Some(section(&text));
    }
    // Header and facts, the checks, the findings; when the checks do not all fit, a context
    // block says how many were left out.
    let mut room = MAX_BLOCKS - blocks.len() - usize::from(findings_section.is_some());
    if check_sections.len() > room {
        room -= 1;
    }
    let left_out = check_sections.len().saturating_sub(room);
    blocks.extend(check_sections.into_iter().take(room));
    blocks.extend(findings_section);
    if left_out > 0 {
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": format!("…and {left_out} more checks: see the full report")}]
        }));
    }
    let message = json!({
        "text": format!("gonogo: {verdict} ({counts})"),
        "blocks": blocks,
    });
    let mut text = serde_json::to_string_pretty(&message).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::{CheckResult, Location, ReportMeta};

    #[test]
    fn stays_within_slacks_limits_and_escapes_mentions() {
        let checks: Vec<CheckResult> = (0..80)
            .map(|i| CheckResult {
                summary_template: None,
                id: format!("plugin/p{i}"),
                title: "p".into(),
                status: Status::Fail,
                duration_ms: 1,
                summary: "x".repeat(5000),
                findings: vec![
                    Finding::new(
                        format!("plugin/p{i}/r"),
                        Severity::Fail,
                        "<!channel> & ".repeat(400),
                    )
                    .at(Location::new("a.sql", 1, 1)),
                ],
            })
            .collect();
        let report = Report::new(ReportMeta::default(), checks, 1);
        let message: Value = serde_json::from_str(&render(&report)).unwrap();
        let blocks = message["blocks"].as_array().unwrap();
        assert_eq!(blocks.len(), MAX_BLOCKS);
        assert!(
            blocks.last().unwrap()["elements"][0]["text"]
                .as_str()
                .unwrap()
                .contains("more checks")
        );
        assert!(
            blocks[blocks.len() - 2]["text"]["text"]
                .as_str()
                .unwrap()
                .starts_with("*Top findings*")
        );
        for block in blocks {
            if block["type"] == "section" {
                let text = block["text"]["text"].as_str().unwrap();
                assert!(text.chars().count() <= MAX_SECTION_CHARS);
                assert!(!text.contains("<!channel>"));
            }
        }
        assert!(
            message["text"]
                .as_str()
                .unwrap()
                .starts_with("gonogo: NO-GO")
        );
    }
}
