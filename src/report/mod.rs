//! The report model (DESIGN.md, "The report") and one renderer per output format.
//!
//! Every format renders the same [`Report`]; JSON is its faithful serialisation and is described by
//! `docs/report.schema.json`. Renderers never decide anything: statuses, verdicts and ordering are
//! computed here, once.

mod concise;
mod github;
mod gitlab;
mod json;
mod junit;
mod markdown;
mod rules;
mod sarif;
mod slack;
mod subject;
mod table;
pub(crate) mod text;

use serde::{Deserialize, Serialize};
use std::fmt;

pub use rules::{RuleCatalog, RuleInfo};
pub use subject::{AtRisk, IGNORE_ANNOTATION, IgnoreAnnotation, Subject, at_risk_slot};
pub use table::ColorChoice;

/// Bumped only when a consumer of the JSON report would have to change.
pub const SCHEMA_VERSION: u32 = 1;

/// How bad a single finding is. `Info` never changes a check's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warn,
    Fail,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warn => "warn",
            Severity::Fail => "fail",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outcome of one check. Ordered by how much it blocks a deploy, so `max` gives the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Skip,
    Pass,
    Warn,
    Fail,
    Error,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Skip => "skip",
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
            Status::Error => "error",
        }
    }

    pub fn from_severity(severity: Severity) -> Status {
        match severity {
            Severity::Info => Status::Pass,
            Severity::Warn => Status::Warn,
            Severity::Fail => Status::Fail,
        }
    }

    /// `error` blocks like `fail`: not knowing is not a go.
    pub fn blocks(self, strict: bool) -> bool {
        matches!(self, Status::Fail | Status::Error) || (strict && self == Status::Warn)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Location {
    /// Relative to the project root, with `/` separators.
    pub path: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
}

impl Location {
    pub fn new(path: impl Into<String>, line: u32, column: u32) -> Self {
        Location {
            path: path.into(),
            line: Some(line),
            column: Some(column),
        }
    }

    pub fn file(path: impl Into<String>) -> Self {
        Location {
            path: path.into(),
            line: None,
            column: None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.path)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(column) = self.column {
                write!(f, ":{column}")?;
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WaiverSource {
    Config,
    Inline,
}

/// Why a finding no longer counts: it stays in the report, marked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Waived {
    pub reason: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires: Option<String>,
    pub source: WaiverSource,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub rule: String,
    pub severity: Severity,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<Location>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waived: Option<Waived>,
    /// The Kubernetes objects it is about ([`Subject`]): what can waive it and which workloads
    /// it puts at risk. Not printed; boxed because most findings have none.
    #[serde(skip)]
    pub subject: Option<Box<Subject>>,
}

impl Finding {
    pub fn new(rule: impl Into<String>, severity: Severity, message: impl Into<String>) -> Self {
        Finding {
            rule: rule.into(),
            severity,
            message: message.into(),
            location: None,
            evidence: None,
            fix: None,
            waived: None,
            subject: None,
        }
    }

    /// The objects this finding is about ([`Subject`]).
    pub fn about(mut self, subject: Subject) -> Self {
        self.subject = Some(Box::new(subject));
        self
    }

    pub fn at(mut self, location: Location) -> Self {
        self.location = Some(location);
        self
    }

    pub fn with_fix(mut self, fix: impl Into<String>) -> Self {
        self.fix = Some(fix.into());
        self
    }

    pub fn with_evidence(mut self, evidence: impl Into<String>) -> Self {
        self.evidence = Some(evidence.into());
        self
    }

    /// The severity that counts towards the check's status.
    pub fn effective_severity(&self) -> Option<Severity> {
        match (&self.waived, self.severity) {
            (Some(_), _) | (None, Severity::Info) => None,
            (None, severity) => Some(severity),
        }
    }

    fn sort_key(&self) -> (Option<&Location>, &str, std::cmp::Reverse<Severity>, &str) {
        (
            self.location.as_ref(),
            &self.rule,
            std::cmp::Reverse(self.severity),
            &self.message,
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckResult {
    pub id: String,
    pub title: String,
    pub status: Status,
    pub duration_ms: u64,
    pub summary: String,
    pub findings: Vec<Finding>,
    /// The summary as the check wrote it, when it left an [`at_risk_slot`] in it: every
    /// `settle` fills the slot anew from the findings that still count.
    #[serde(skip)]
    pub summary_template: Option<String>,
}

impl CheckResult {
    /// A check's status is its worst unwaived finding (`pass` when there is none).
    pub fn status_from_findings(findings: &[Finding]) -> Status {
        findings
            .iter()
            .filter_map(Finding::effective_severity)
            .map(Status::from_severity)
            .max()
            .unwrap_or(Status::Pass)
    }

    /// Recompute the status after waivers were applied, keeping `error` and `skip` as decided by
    /// the check (a waiver cannot turn "could not decide" into a pass), and name the workloads
    /// still at risk in the summary. The first call (the runner's, on the findings in the order
    /// the check returned them) takes the summary's template.
    pub fn settle(&mut self) {
        if self.summary_template.is_none() && subject::has_slot(&self.summary) {
            subject::number(&mut self.findings);
            self.summary_template = Some(std::mem::take(&mut self.summary));
        }
        self.findings
            .sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        if !matches!(self.status, Status::Error | Status::Skip) {
            self.status = Self::status_from_findings(&self.findings);
        }
        if let Some(template) = &self.summary_template {
            self.summary = subject::fill(template, &self.findings);
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Counts {
    pub pass: u32,
    pub warn: u32,
    pub fail: u32,
    pub error: u32,
    pub skip: u32,
}

impl std::fmt::Display for Counts {
    /// "1 pass, 3 warn, 3 fail, 1 error, 1 skip": the closing line of every text format.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} pass, {} warn, {} fail, {} error, {} skip",
            self.pass, self.warn, self.fail, self.error, self.skip
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Go,
    GoWithWarnings,
    NoGo,
    /// Every check was skipped: nothing was decided, and a gate must not read it as a go.
    NothingChecked,
}

impl Verdict {
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Go => "GO",
            Verdict::GoWithWarnings => "GO (with warnings)",
            Verdict::NoGo => "NO-GO",
            Verdict::NothingChecked => "NOTHING CHECKED",
        }
    }

    /// DESIGN.md "Exit codes": 0 go, 1 no-go, 2 nothing was checked.
    pub fn exit_code(self) -> i32 {
        match self {
            Verdict::NoGo => 1,
            Verdict::Go | Verdict::GoWithWarnings => 0,
            Verdict::NothingChecked => 2,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Report {
    pub schema_version: u32,
    pub gonogo_version: String,
    pub verdict: Verdict,
    pub strict: bool,
    pub counts: Counts,
    pub base: Option<String>,
    pub head: Option<String>,
    pub config: Option<String>,
    pub started_at: String,
    pub duration_ms: u64,
    pub checks: Vec<CheckResult>,
}

impl Report {
    /// Build the report from finished checks (already in registry order).
    pub fn new(meta: ReportMeta, checks: Vec<CheckResult>, duration_ms: u64) -> Report {
        let mut counts = Counts::default();
        for check in &checks {
            match check.status {
                Status::Pass => counts.pass += 1,
                Status::Warn => counts.warn += 1,
                Status::Fail => counts.fail += 1,
                Status::Error => counts.error += 1,
                Status::Skip => counts.skip += 1,
            }
        }
        let verdict = if checks.iter().any(|c| c.status.blocks(meta.strict)) {
            Verdict::NoGo
        } else if counts.warn > 0 {
            Verdict::GoWithWarnings
        } else {
            Verdict::Go
        };
        Report {
            schema_version: SCHEMA_VERSION,
            gonogo_version: env!("CARGO_PKG_VERSION").to_string(),
            verdict,
            strict: meta.strict,
            counts,
            base: meta.base,
            head: meta.head,
            config: meta.config,
            started_at: meta.started_at,
            duration_ms,
            checks,
        }
    }

    /// Every finding with the check it belongs to, worst first, then in report order.
    pub fn findings_worst_first(&self) -> Vec<(&CheckResult, &Finding)> {
        let mut all: Vec<(&CheckResult, &Finding)> = self
            .checks
            .iter()
            .flat_map(|c| c.findings.iter().map(move |f| (c, f)))
            .collect();
        // Stable sort keeps report order within a severity; waived findings go last.
        all.sort_by_key(|(_, f)| (f.waived.is_some(), std::cmp::Reverse(f.severity)));
        all
    }

    /// The checks as a person reads them: worst status first (error, fail, warn, pass, skip),
    /// registry order within a status. The JSON keeps registry order (a stable shape for
    /// scripts); the human formats (table, concise, markdown, slack) use this.
    pub fn checks_worst_first(&self) -> Vec<&CheckResult> {
        let mut checks: Vec<&CheckResult> = self.checks.iter().collect();
        checks.sort_by_key(|c| std::cmp::Reverse(c.status));
        checks
    }
}

impl CheckResult {
    /// Findings as a person reads them: unwaived fail, warn, info, then waived ones; by path,
    /// line, column and rule within each.
    pub fn findings_worst_first(&self) -> Vec<&Finding> {
        let mut findings: Vec<&Finding> = self.findings.iter().collect();
        findings.sort_by(|a, b| {
            (a.rank(), a.location.as_ref(), &a.rule, &a.message).cmp(&(
                b.rank(),
                b.location.as_ref(),
                &b.rule,
                &b.message,
            ))
        });
        findings
    }
}

impl Finding {
    /// 0 for an unwaived fail, then warn, info; waived findings last whatever their severity.
    pub fn rank(&self) -> u8 {
        match (&self.waived, self.severity) {
            (Some(_), _) => 3,
            (None, Severity::Fail) => 0,
            (None, Severity::Warn) => 1,
            (None, Severity::Info) => 2,
        }
    }

    /// Whether this finding makes the verdict no-go (with `--strict`, warnings too).
    pub fn blocks(&self, strict: bool) -> bool {
        match self.effective_severity() {
            Some(Severity::Fail) => true,
            Some(Severity::Warn) => strict,
            _ => false,
        }
    }
}

/// What the runner knows about the run, apart from the results.
#[derive(Debug, Clone, Default)]
pub struct ReportMeta {
    pub strict: bool,
    pub base: Option<String>,
    pub head: Option<String>,
    pub config: Option<String>,
    pub started_at: String,
}

/// The output formats of `--format` and `--output FORMAT=FILE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    /// One line per finding, `path:line:col: severity rule message`, like compilers and linters.
    Concise,
    Json,
    Markdown,
    Github,
    /// GitLab code quality report (JSON), for merge request widgets.
    Gitlab,
    Slack,
    Junit,
    Sarif,
}

impl Format {
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Concise => "concise",
            Format::Json => "json",
            Format::Markdown => "markdown",
            Format::Github => "github",
            Format::Gitlab => "gitlab",
            Format::Slack => "slack",
            Format::Junit => "junit",
            Format::Sarif => "sarif",
        }
    }

    pub const ALL: [Format; 9] = [
        Format::Table,
        Format::Concise,
        Format::Json,
        Format::Markdown,
        Format::Github,
        Format::Gitlab,
        Format::Slack,
        Format::Junit,
        Format::Sarif,
    ];

    pub fn parse(name: &str) -> Option<Format> {
        <Format as clap::ValueEnum>::from_str(name, true).ok()
    }
}

/// Options that change how a report is shown, not what it says.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    pub color: bool,
    /// Columns the table and its findings fit in (every line, wrapped).
    pub width: u16,
    /// Longest markdown output, in characters (a PR comment holds 65,536).
    pub markdown_max_chars: usize,
    /// `-q`: the verdict and what blocks it, nothing else (table and concise).
    pub quiet: bool,
    /// The project root relative to the git repository's top, with a trailing `/` (empty when
    /// they are the same): SARIF, GitHub annotations and GitLab reports name files from the
    /// repository root, where code scanning and merge request diffs look for them.
    pub repo_prefix: String,
    /// `docs_url` of the config with `{rule}` in it: SARIF's `helpUri` per rule.
    pub docs_url: Option<String>,
}

/// A table for a terminal we know nothing about (or a file): wide enough for a location and a
/// sentence, narrow enough to read in a log viewer.
pub const DEFAULT_WIDTH: u16 = 100;

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            color: false,
            width: DEFAULT_WIDTH,
            markdown_max_chars: markdown::DEFAULT_MAX_CHARS,
            quiet: false,
            repo_prefix: String::new(),
            docs_url: None,
        }
    }
}

impl RenderOptions {
    /// A project-relative path as the repository root sees it.
    pub fn repo_path(&self, path: &str) -> String {
        format!("{}{path}", self.repo_prefix)
    }
}

/// Render the report in one format. Secrets are masked here, so no renderer can forget to: in
/// the model first, before any renderer escapes or wraps a value (a secret turned into
/// `a\"b`, `a&amp;b` or `a%25b`, or split across two table lines, is no longer recognisable),
/// then in the final text for the registered values and their escaped forms. `rules` is the
/// rule metadata SARIF and JUnit print (the command layer builds it from the registry).
pub fn render(
    report: &Report,
    format: Format,
    options: &RenderOptions,
    rules: &RuleCatalog,
) -> String {
    let report = &report.masked();
    let text = match format {
        Format::Table => table::render(report, options),
        Format::Concise => concise::render(report, options),
        Format::Json => json::render(report),
        Format::Markdown => markdown::render(report, options.markdown_max_chars),
        Format::Github => github::render(report, options),
        Format::Gitlab => gitlab::render(report, options),
        Format::Slack => slack::render(report),
        Format::Junit => junit::render(report, rules),
        Format::Sarif => sarif::render(report, rules, options),
    };
    crate::secrets::redact_registered(&text, escaped_forms)
}

/// How each renderer may have escaped a value: JSON and SARIF strings, JUnit's XML text and
/// attributes, markdown, and GitHub workflow-command data and properties.
fn escaped_forms(value: &str) -> Vec<String> {
    let quoted = serde_json::to_string(value).unwrap_or_default();
    let json = quoted
        .strip_prefix('"')
        .and_then(|inner| inner.strip_suffix('"'))
        .unwrap_or_default()
        .to_string();
    let xml_text = value
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let xml_attribute = xml_text.replace('"', "&quot;").replace('\'', "&apos;");
    let xml_attribute_numeric = xml_text.replace('"', "&#34;").replace('\'', "&#39;");
    vec![
        json,
        xml_text,
        xml_attribute,
        xml_attribute_numeric,
        markdown::escape(value),
        github::escape_data(value),
        github::escape_property(value),
    ]
}

impl Report {
    /// A copy with every secret masked in every string a renderer may print.
    pub fn masked(&self) -> Report {
        let mut report = self.clone();
        for text in [&mut report.base, &mut report.head, &mut report.config]
            .into_iter()
            .flatten()
        {
            mask(text);
        }
        for check in &mut report.checks {
            mask(&mut check.id);
            mask(&mut check.title);
            mask(&mut check.summary);
            for finding in &mut check.findings {
                mask(&mut finding.rule);
                mask(&mut finding.message);
                if let Some(location) = &mut finding.location {
                    location.path = crate::secrets::redact_path(&location.path);
                }
                for text in [&mut finding.evidence, &mut finding.fix]
                    .into_iter()
                    .flatten()
                {
                    mask(text);
                }
                if let Some(waived) = &mut finding.waived {
                    mask(&mut waived.reason);
                    if let Some(expires) = &mut waived.expires {
                        mask(expires);
                    }
                }
            }
        }
        report
    }
}

fn mask(text: &mut String) {
    let masked = crate::secrets::redact(text);
    if masked != *text {
        *text = masked;
    }
}

/// A stable identifier for a finding, from the parts that survive an edit elsewhere in its file
/// (rule, path, message; never the line): code scanning and GitLab track an alert across
/// commits by it. FNV-1a, twice with different offsets, as 32 hex digits: std's hasher is not
/// promised to stay the same between Rust releases, and a changed fingerprint reopens alerts.
pub(crate) fn fingerprint(parts: &[&str]) -> String {
    let mut hashes = [0xcbf2_9ce4_8422_2325_u64, 0x6c62_272e_07bb_0142_u64];
    for hash in &mut hashes {
        for part in parts {
            for byte in part.bytes().chain([0xff]) {
                *hash ^= u64::from(byte);
                *hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
    }
    format!("{:016x}{:016x}", hashes[0], hashes[1])
}

/// "1.2 s", "35 ms": short durations for humans.
pub(crate) fn human_ms(ms: u64) -> String {
    if ms >= 10_000 {
        format!("{} s", ms / 1000)
    } else if ms >= 1000 {
        format!("{:.1} s", ms as f64 / 1000.0)
    } else {
        format!("{ms} ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A report with `n` findings of each severity in one failing check.
    fn big_report(n: usize) -> Report {
        let mut findings = Vec::new();
        for i in 0..n {
            for severity in [Severity::Info, Severity::Warn, Severity::Fail] {
                findings.push(
                    Finding::new(
                        format!("demo/{severity}"),
                        severity,
                        format!("{severity} finding number {i} | with a pipe <b>"),
                    )
                    .at(Location::new(format!("db/{i:04}.sql"), 3, 1)),
                );
            }
        }
        let mut check = CheckResult {
            summary_template: None,
            id: "demo".into(),
            title: "Demo".into(),
            status: Status::Pass,
            duration_ms: 5,
            summary: "many findings".into(),
            findings,
        };
        check.settle();
        Report::new(ReportMeta::default(), vec![check], 7)
    }

    #[test]
    fn verdicts_and_exit_codes() {
        let report = big_report(1);
        assert_eq!(report.verdict, Verdict::NoGo);
        assert_eq!(report.verdict.exit_code(), 1);
        assert_eq!(report.counts.fail, 1);
        let empty = Report::new(ReportMeta::default(), vec![], 0);
        assert_eq!(empty.verdict, Verdict::Go);
        let mut warn_only = big_report(1);
        warn_only.checks[0]
            .findings
            .retain(|f| f.severity != Severity::Fail);
        warn_only.checks[0].settle();
        let warn_report = Report::new(ReportMeta::default(), warn_only.checks.clone(), 0);
        assert_eq!(warn_report.verdict, Verdict::GoWithWarnings);
        let strict = Report::new(
            ReportMeta {
                strict: true,
                ..Default::default()
            },
            warn_only.checks,
            0,
        );
        assert_eq!(strict.verdict, Verdict::NoGo);
    }

    #[test]
    fn waived_findings_do_not_count() {
        let mut report = big_report(1);
        for finding in &mut report.checks[0].findings {
            finding.waived = Some(Waived {
                reason: "ok".into(),
                expires: None,
                source: WaiverSource::Config,
            });
        }
        report.checks[0].settle();
        assert_eq!(report.checks[0].status, Status::Pass);
    }

    #[test]
    fn markdown_is_cut_worst_first_within_its_budget() {
        let report = big_report(500);
        let text = markdown::render(&report, 4_000);
        assert!(
            text.chars().count() <= 4_000,
            "{} chars",
            text.chars().count()
        );
        assert!(text.contains("…and "), "says how many more");
        assert!(text.contains("fail finding number 0"));
        assert!(
            !text.contains("info finding number 0"),
            "info is cut before fail"
        );
        assert!(
            text.contains("\\| with a pipe &lt;b&gt;"),
            "table and HTML are escaped"
        );
    }

    #[test]
    fn github_caps_annotations_per_level() {
        let text = github::render(&big_report(25), &RenderOptions::default());
        assert_eq!(text.matches("::error ").count(), 10);
        assert_eq!(text.matches("::warning ").count(), 10);
        assert_eq!(text.matches("::notice ").count(), 10);
        assert!(text.contains("15 more error annotations not shown"));
        assert!(text.contains(
            "file=db/0000.sql,line=3,col=1,title=demo/fail::fail finding number 0 | with a pipe <b>"
        ));
    }

    #[test]
    fn github_escapes_properties_and_data() {
        let mut report = big_report(1);
        report.checks[0].findings[0].message = "50% done\nnext line".into();
        report.checks[0].findings[0].location = Some(Location::new("a,b:c.sql", 1, 1));
        let text = github::render(&report, &RenderOptions::default());
        assert!(text.contains("file=a%2Cb%3Ac.sql"), "{text}");
        assert!(text.contains("50%25 done%0Anext line"), "{text}");
    }

    #[test]
    fn error_checks_reach_every_ci_format() {
        let check = CheckResult {
            summary_template: None,
            id: "plugin/x".into(),
            title: "x".into(),
            status: Status::Error,
            duration_ms: 1,
            summary: "plugin did not finish within its timeout of 1s; killed".into(),
            findings: vec![],
        };
        let report = Report::new(ReportMeta::default(), vec![check], 1);
        assert!(
            github::render(&report, &RenderOptions::default())
                .contains("::error title=plugin/x could not decide::plugin did not finish")
        );
        let rules = RuleCatalog::default();
        assert!(junit::render(&report, &rules).contains("<error message=\"plugin did not finish"));
        assert!(
            sarif::render(&report, &rules, &RenderOptions::default()).contains("could not decide")
        );
        assert!(markdown::render(&report, 10_000).contains("🛑 error"));
    }
}
