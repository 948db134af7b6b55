//! Waivers: accepted risks. A waived finding stays in the report, marked with its reason; it no
//! longer counts towards its check's status.
//!
//! Three sources, one matching rule ([`rule_matches`]: an id or a glob over ids):
//! - `waivers:` in gonogo.yaml (rule, optional path glob, reason, optional expiry);
//! - an inline comment `gonogo:ignore RULE[,RULE] reason` on the comment lines directly above the
//!   finding's line (`-- ` in SQL, `#` in YAML and scripts, `//` in proto and code);
//! - the Kubernetes annotation `gonogo.dev/ignore: "RULE,RULE"` on the object a finding is about,
//!   which the checks record on the finding as data ([`Subject`]: the objects whose annotation
//!   can waive it).
//!
//! [`apply`] decides all three for every finding of the run, in that order of precedence
//! (annotation, inline, config). A check's summary names the workloads at risk only after this
//! (`CheckResult::settle`), so a finding waived in any way does not name its workload.
//!
//! An expired waiver stops waiving and says so; a config waiver that matched nothing is reported
//! as `info` so stale ones get cleaned up.

use crate::config::WaiverConfig;
use crate::date::Date;
use crate::declare_rule;
use crate::report::{
    CheckResult, Finding, IGNORE_ANNOTATION, IgnoreAnnotation, Location, Status, Subject, Waived,
    WaiverSource,
};
use std::collections::HashMap;
use std::path::Path;

/// The id of the synthetic check that carries waiver bookkeeping.
pub const CHECK_ID: &str = "waivers";

declare_rule! {
    order: 10;
    /// ## What it catches
    /// A waiver in gonogo.yaml whose `expires` date has passed.
    ///
    /// ## Why it matters during a deploy
    /// A waiver records a risk someone accepted for a while ("the table has 40 rows", "the
    /// maintenance window covers it"). After its date the reason may no longer hold, so the
    /// finding it waived counts again, and this warning says why the verdict changed.
    ///
    /// ## Example
    /// ```yaml
    /// waivers:
    ///   - {rule: migrations/pg-add-index-not-concurrent, reason: "40 rows", expires: 2026-01-31}
    /// ```
    ///
    /// ## Do this instead
    /// Fix the finding, or renew the waiver with a new date and a reason that is still true.
    pub WAIVER_EXPIRED = ("waivers/expired", Warn, "a waiver's expiry date has passed; it no longer waives");
}

declare_rule! {
    order: 20;
    /// ## What it catches
    /// A waiver in gonogo.yaml that matched no finding in this run, although its check ran.
    ///
    /// ## Why it matters during a deploy
    /// Stale waivers hide future findings of the same rule on the same path: the next risky
    /// change there would be waived by a reason written for something else.
    ///
    /// ## Example
    /// A waiver for `migrations/pg-add-index-not-concurrent` on a migration that was rewritten
    /// to use `CREATE INDEX CONCURRENTLY`.
    ///
    /// ## Do this instead
    /// Delete the waiver.
    pub WAIVER_UNUSED = ("waivers/unused", Info, "a waiver matched no finding; delete it");
}

declare_rule! {
    order: 30;
    /// ## What it catches
    /// An inline `gonogo:ignore RULE` comment without a reason.
    ///
    /// ## Why it matters during a deploy
    /// A waiver is a decision someone made; without the reason, the next person cannot tell
    /// whether it still holds. gonogo does not honour a waiver without a reason.
    ///
    /// ## Example
    /// ```sql
    /// -- gonogo:ignore migrations/pg-add-index-not-concurrent
    /// CREATE INDEX orders_status ON orders (status);
    /// ```
    ///
    /// ## Do this instead
    /// ```sql
    /// -- gonogo:ignore migrations/pg-add-index-not-concurrent orders has 40 rows in every region
    /// CREATE INDEX orders_status ON orders (status);
    /// ```
    pub WAIVER_WITHOUT_REASON = ("waivers/missing-reason", Warn, "an inline waiver has no reason, so it does not waive");
}

/// An inline waiver comment found above a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
struct InlineWaiver {
    rules: Vec<String>,
    reason: String,
    line: u32,
    column: u32,
}

/// Parse `gonogo:ignore RULE[,RULE] reason` out of one comment line.
fn parse_inline(line: &str) -> Option<(Vec<String>, String, usize)> {
    let marker = "gonogo:ignore";
    let at = line.find(marker)?;
    let rest = line[at + marker.len()..].trim();
    let (rules, reason) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    let rules: Vec<String> = rules
        .split(',')
        .filter(|r| !r.is_empty())
        .map(str::to_string)
        .collect();
    if rules.is_empty() {
        return None;
    }
    let reason = reason.trim().trim_end_matches("*/").trim().to_string();
    Some((rules, reason, at))
}

fn is_comment(line: &str) -> bool {
    let trimmed = line.trim_start();
    ["--", "#", "//", "/*", "*"]
        .iter()
        .any(|marker| trimmed.starts_with(marker))
}

/// Inline waivers in the comment block directly above `line` (1-based) of `text`.
/// A file's lines, split once per run: a report can hold thousands of findings in one file
/// (a manifest stream, a seed migration), and splitting the file again for each made applying
/// waivers quadratic.
struct FileLines {
    lines: Vec<String>,
}

impl FileLines {
    fn new(text: &str) -> FileLines {
        FileLines {
            lines: text.lines().map(str::to_string).collect(),
        }
    }

    fn get(&self, index: usize) -> Option<&str> {
        self.lines.get(index).map(String::as_str)
    }
}

fn inline_waivers_above(lines: &FileLines, line: u32) -> Vec<InlineWaiver> {
    let mut found = Vec::new();
    let mut index = line.saturating_sub(1) as usize; // the finding's line, 0-based
    while index > 0 {
        index -= 1;
        let Some(candidate) = lines.get(index) else {
            break;
        };
        if !is_comment(candidate) {
            break;
        }
        if let Some((rules, reason, at)) = parse_inline(candidate) {
            found.push(InlineWaiver {
                rules,
                reason,
                line: index as u32 + 1,
                column: candidate[..at].chars().count() as u32 + 1,
            });
        }
    }
    found
}

/// The waiver the annotations of a finding's [`Subject`] grant it: the first group whose
/// annotations all name its rule, with the reason naming that group's first object.
fn by_annotations(subject: &Subject, rule: &str) -> Option<Waived> {
    let names_rule = |annotation: &IgnoreAnnotation| {
        annotation
            .rules
            .iter()
            .any(|pattern| rule_matches(pattern, rule))
    };
    let group = subject
        .waivable_by
        .iter()
        .find(|group| !group.is_empty() && group.iter().all(names_rule))?;
    Some(Waived {
        reason: format!("{IGNORE_ANNOTATION} annotation on {}", group[0].object),
        expires: None,
        source: WaiverSource::Inline,
    })
}

/// Apply only the Kubernetes annotations: for callers of a check's pure analysis (fixture and
/// corpus tests), which has no run, config or files to read waivers from.
pub fn apply_annotations(findings: &mut [Finding]) {
    for finding in findings.iter_mut().filter(|f| f.waived.is_none()) {
        if let Some(subject) = &finding.subject {
            finding.waived = by_annotations(subject, &finding.rule);
        }
    }
}

/// Whether a waiver's rule (an id, or a glob such as `rollout/*`) covers `rule`.
fn rule_matches(pattern: &str, rule: &str) -> bool {
    pattern == rule
        || glob::Pattern::new(pattern)
            .map(|p| p.matches(rule))
            .unwrap_or(false)
}

fn path_matches(pattern: &str, path: &str) -> bool {
    let pattern = pattern.trim_start_matches("./");
    pattern == path
        || glob::Pattern::new(pattern)
            .map(|p| p.matches(path))
            .unwrap_or(false)
}

/// Apply waivers to every result, then return the bookkeeping check (expired, unused, missing
/// reasons), or `None` when there is nothing to say.
pub fn apply(
    results: &mut [CheckResult],
    waivers: &[WaiverConfig],
    root: &Path,
    config_path: Option<&str>,
    today: Date,
) -> Option<CheckResult> {
    let mut used = vec![false; waivers.len()];
    let mut file_cache: HashMap<String, Option<FileLines>> = HashMap::new();
    let mut bookkeeping: Vec<Finding> = Vec::new();

    for result in results.iter_mut() {
        for finding in result.findings.iter_mut() {
            if finding.waived.is_some() {
                continue;
            }
            if let Some(waived) = finding
                .subject
                .as_ref()
                .and_then(|subject| by_annotations(subject, &finding.rule))
            {
                finding.waived = Some(waived);
                continue;
            }
            if let Some(waived) =
                inline_waiver_for(finding, root, &mut file_cache, &mut bookkeeping)
            {
                finding.waived = Some(waived);
                continue;
            }
            let location_path = finding.location.as_ref().map(|l| l.path.as_str());
            for (index, waiver) in waivers.iter().enumerate() {
                if !rule_matches(&waiver.rule.value, &finding.rule) {
                    continue;
                }
                let path_ok = match (&waiver.path, location_path) {
                    (None, _) => true,
                    (Some(pattern), Some(path)) => path_matches(pattern, path),
                    (Some(_), None) => false,
                };
                if !path_ok {
                    continue;
                }
                used[index] = true;
                if waiver.expires.is_some_and(|expires| expires < today) {
                    // Expired: it does not waive; the bookkeeping below says so once.
                    continue;
                }
                finding.waived = Some(Waived {
                    reason: waiver.reason.clone(),
                    expires: waiver.expires.map(|d| d.to_string()),
                    source: WaiverSource::Config,
                });
                break;
            }
        }
        result.settle();
    }

    for (index, waiver) in waivers.iter().enumerate() {
        let scope = match &waiver.path {
            Some(path) => format!("`{}` on {}", waiver.rule.value, path),
            None => format!("`{}`", waiver.rule.value),
        };
        let mut finding = if let Some(expires) = waiver.expires.filter(|e| *e < today) {
            let effect = if used[index] {
                "the findings it matched count again"
            } else {
                "it matched nothing in this run either"
            };
            WAIVER_EXPIRED.finding(format!(
                "the waiver for {scope} expired on {expires} and no longer waives; {effect} (reason given: {})",
                waiver.reason
            ))
            .with_fix("fix the finding, or renew the waiver with a new `expires` and a reason that still holds")
        } else if !used[index] && check_ran(results, &waiver.rule.value) {
            WAIVER_UNUSED
                .finding(format!(
                    "the waiver for {scope} matched no finding; it can be deleted"
                ))
                .with_fix("delete the waiver from gonogo.yaml")
        } else {
            continue;
        };
        // The waiver's own line in gonogo.yaml, so an editor jumps to it.
        finding.location = config_path.map(|path| {
            let at = &waiver.rule.referenced;
            Location::new(path, at.line() as u32, at.column() as u32)
        });
        bookkeeping.push(finding);
    }

    if bookkeeping.is_empty() {
        return None;
    }
    let expired = bookkeeping
        .iter()
        .filter(|f| f.rule == WAIVER_EXPIRED.id)
        .count();
    let unused = bookkeeping
        .iter()
        .filter(|f| f.rule == WAIVER_UNUSED.id)
        .count();
    let missing = bookkeeping
        .iter()
        .filter(|f| f.rule == WAIVER_WITHOUT_REASON.id)
        .count();
    let summary = [
        (expired, "expired"),
        (unused, "unused"),
        (missing, "without a reason"),
    ]
    .iter()
    .filter(|(n, _)| *n > 0)
    .map(|(n, what)| format!("{n} {what}"))
    .collect::<Vec<_>>()
    .join(", ");
    let mut result = CheckResult {
        id: CHECK_ID.to_string(),
        title: "Waivers".to_string(),
        status: Status::Pass,
        duration_ms: 0,
        summary: format!("waivers: {summary}"),
        findings: bookkeeping,
        summary_template: None,
    };
    result.settle();
    Some(result)
}

/// A waiver for a check that did not run (skipped, errored, filtered out) is not "unused".
fn check_ran(results: &[CheckResult], rule: &str) -> bool {
    results.iter().any(|r| {
        !matches!(r.status, Status::Skip | Status::Error)
            && (rule.starts_with(&format!("{}/", r.id)) || rule_matches(rule, &r.id))
    })
}

fn inline_waiver_for(
    finding: &Finding,
    root: &Path,
    cache: &mut HashMap<String, Option<FileLines>>,
    bookkeeping: &mut Vec<Finding>,
) -> Option<Waived> {
    let location = finding.location.as_ref()?;
    let line = location.line?;
    let lines = cache
        .entry(location.path.clone())
        .or_insert_with(|| read_small_text(&root.join(&location.path)).map(|t| FileLines::new(&t)))
        .as_ref()?;
    for inline in inline_waivers_above(lines, line) {
        if !inline.rules.iter().any(|r| rule_matches(r, &finding.rule)) {
            continue;
        }
        if inline.reason.is_empty() {
            let already = bookkeeping.iter().any(|f| {
                f.location
                    .as_ref()
                    .is_some_and(|l| l.path == location.path && l.line == Some(inline.line))
            });
            if !already {
                bookkeeping.push(
                    WAIVER_WITHOUT_REASON
                        .finding(format!(
                            "`gonogo:ignore {}` has no reason, so `{}` is not waived",
                            inline.rules.join(","),
                            finding.rule
                        ))
                        .at(Location::new(&location.path, inline.line, inline.column))
                        .with_fix("write why the risk is acceptable after the rule id"),
                );
            }
            return None;
        }
        return Some(Waived {
            reason: inline.reason,
            expires: None,
            source: WaiverSource::Inline,
        });
    }
    None
}

/// Files above a few MiB are not source files anyone annotates by hand.
fn read_small_text(path: &Path) -> Option<String> {
    let metadata = std::fs::metadata(path).ok()?;
    if !metadata.is_file() || metadata.len() > 8 * 1024 * 1024 {
        return None;
    }
    std::fs::read_to_string(path).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_waiver_directly_above_is_found() {
        let sql = "-- add the index\n-- gonogo:ignore migrations/pg-add-index-not-concurrent 40 rows\nCREATE INDEX a ON t (c);\n";
        let found = inline_waivers_above(&FileLines::new(sql), 3);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rules, ["migrations/pg-add-index-not-concurrent"]);
        assert_eq!(found[0].reason, "40 rows");
        assert_eq!((found[0].line, found[0].column), (2, 4));
    }

    #[test]
    fn inline_waiver_separated_by_code_does_not_apply() {
        let sql = "-- gonogo:ignore a/b reason\nSELECT 1;\nCREATE INDEX a ON t (c);\n";
        assert!(inline_waivers_above(&FileLines::new(sql), 3).is_empty());
    }

    #[test]
    fn several_rules_and_no_reason() {
        assert_eq!(
            parse_inline("# gonogo:ignore a/b,c/d"),
            Some((vec!["a/b".into(), "c/d".into()], String::new(), 2))
        );
    }

    /// `object`'s `gonogo.dev/ignore: "{rules}"` annotation.
    fn annotation(object: &str, rules: &str) -> IgnoreAnnotation {
        let mut annotation = IgnoreAnnotation {
            object: object.to_string(),
            ..IgnoreAnnotation::default()
        };
        annotation.add(rules, crate::yaml::Pos::new(7, 5));
        annotation
    }

    #[test]
    fn an_ignore_annotation_waives_the_rules_it_names() {
        let annotation = annotation("Deployment/shop-api", "rollout/missing-pdb, grace/*");
        let about = |rule: &str| {
            let subject = Subject::object(&annotation, "Deployment/shop-api".into(), "r".into());
            Finding::new(rule, crate::report::Severity::Fail, "m").about(subject)
        };
        let mut findings = vec![
            about("rollout/missing-pdb"),
            about("grace/missing-prestop"),
            about("rollout/capacity-drops"),
        ];
        apply_annotations(&mut findings);
        let waived = findings[0].waived.as_ref().unwrap();
        assert_eq!(
            waived.reason,
            "gonogo.dev/ignore annotation on Deployment/shop-api"
        );
        assert_eq!(waived.source, WaiverSource::Inline);
        assert!(findings[1].waived.is_some());
        assert!(findings[2].waived.is_none());
    }

    #[test]
    fn a_group_waives_only_when_every_object_in_it_names_the_rule() {
        let readers = [
            annotation("Deployment/a", "rollout/*"),
            annotation("Deployment/b", "rollout/config-key-removed"),
        ];
        let subject = Subject::default().waivable_by_all(&readers);
        assert_eq!(
            by_annotations(&subject, "rollout/config-key-removed").map(|w| w.reason),
            Some("gonogo.dev/ignore annotation on Deployment/a".to_string())
        );
        assert!(by_annotations(&subject, "rollout/config-changed-in-place").is_none());
    }

    #[test]
    fn a_workload_is_at_risk_in_the_summary_until_a_waiver_of_any_kind_waives_its_findings() {
        let annotation = annotation("Deployment/api", "rollout/missing-pdb");
        let about = |rule: &str, object: &str, reason: &str| {
            let ignore = if object == "Deployment/api" {
                annotation.clone()
            } else {
                IgnoreAnnotation::default()
            };
            let subject = Subject::object(&ignore, object.into(), reason.into());
            Finding::new(rule, crate::report::Severity::Fail, "m").about(subject)
        };
        let mut results = vec![CheckResult {
            id: "rollout".into(),
            title: "Rollout".into(),
            status: Status::Pass,
            duration_ms: 0,
            summary: format!(
                "2 workloads{}",
                crate::report::at_risk_slot("capacity never drops")
            ),
            findings: vec![
                about("rollout/missing-pdb", "Deployment/api", "no PDB"),
                about("rollout/capacity-drops", "Deployment/web", "capacity drops"),
            ],
            summary_template: None,
        }];
        results[0].settle();
        assert_eq!(
            results[0].summary,
            "2 workloads; at risk: Deployment/api (no PDB), Deployment/web (capacity drops)"
        );
        let config: Vec<WaiverConfig> = serde_saphyr::from_str(
            "- {rule: rollout/capacity-drops, reason: one replica on purpose}",
        )
        .unwrap();
        let today = Date::parse("2026-12-08").unwrap();
        assert!(
            apply(
                &mut results,
                &config,
                Path::new("/nonexistent"),
                None,
                today
            )
            .is_none()
        );
        assert_eq!(results[0].status, Status::Pass);
        assert_eq!(results[0].summary, "2 workloads: capacity never drops");
    }

    #[test]
    fn globs_match_rules_and_paths() {
        assert!(rule_matches("migrations/*", "migrations/pg-x"));
        assert!(!rule_matches("compat/*", "migrations/pg-x"));
        assert!(path_matches(
            "db/migrations/*.sql",
            "db/migrations/0001_a.sql"
        ));
        assert!(path_matches("./db/x.sql", "db/x.sql"));
    }
}
