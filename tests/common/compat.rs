//! What the `compat` comparer tests share: one line per finding (and per unreadable file) for
//! snapshots, and the rules that would block a deploy.

use gonogo::checks::compat::model::Comparison;
use gonogo::report::Severity;

/// `<severity> <rule> <file:line:col>: <message>` per finding, then `error <file>: <why>`.
pub fn render(comparison: &Comparison) -> String {
    let mut out = String::new();
    for f in &comparison.findings {
        let at = f
            .location
            .as_ref()
            .map(|l| l.to_string())
            .unwrap_or_default();
        out.push_str(&format!("{} {} {at}: {}\n", f.severity, f.rule, f.message));
    }
    for e in &comparison.errors {
        out.push_str(&format!("error {e}\n"));
    }
    out
}

/// The rules of findings at warn or fail, sorted.
pub fn blocking(comparison: &Comparison) -> Vec<&str> {
    let mut rules: Vec<&str> = comparison
        .findings
        .iter()
        .filter(|f| f.severity >= Severity::Warn)
        .map(|f| f.rule.as_str())
        .collect();
    rules.sort();
    rules
}
