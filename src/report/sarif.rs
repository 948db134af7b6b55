//! `sarif`: SARIF 2.1.0 for GitHub code scanning and other SARIF consumers. One run; the rules
//! that could have fired (with their help text from the [`RuleCatalog`] the command layer built
//! from the registry) and the results with locations.
//! Waived findings are results with a suppression, which code scanning shows as dismissed.
//! Checks that could not decide are tool execution notifications.

use super::{Finding, RenderOptions, Report, RuleCatalog, Severity, Status, fingerprint};
use serde::Serialize;
use std::collections::BTreeMap;

const SARIF_SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

#[derive(Serialize)]
struct Log {
    #[serde(rename = "$schema")]
    schema: &'static str,
    version: &'static str,
    runs: Vec<Run>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    invocations: Vec<Invocation>,
    results: Vec<SarifResult>,
    column_kind: &'static str,
}

#[derive(Serialize)]
struct Tool {
    driver: Driver,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: &'static str,
    version: String,
    semantic_version: String,
    rules: Vec<RuleDescriptor>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleDescriptor {
    id: String,
    name: String,
    short_description: Text,
    #[serde(skip_serializing_if = "Option::is_none")]
    full_description: Option<Text>,
    #[serde(skip_serializing_if = "Option::is_none")]
    help_uri: Option<String>,
    help: Help,
    default_configuration: RuleConfiguration,
}

#[derive(Serialize)]
struct Text {
    text: String,
}

#[derive(Serialize)]
struct Help {
    text: String,
    markdown: String,
}

#[derive(Serialize)]
struct RuleConfiguration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    level: &'static str,
    message: Text,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    locations: Vec<SarifLocation>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suppressions: Vec<Suppression>,
    partial_fingerprints: BTreeMap<&'static str, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifLocation {
    physical_location: PhysicalLocation,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<Region>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: String,
    uri_base_id: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    start_column: Option<u32>,
}

#[derive(Serialize)]
struct Suppression {
    kind: &'static str,
    status: &'static str,
    justification: String,
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Fail => "error",
        Severity::Warn => "warning",
        Severity::Info => "note",
    }
}

/// `migrations/pg-add-index-not-concurrent` → `PgAddIndexNotConcurrent`: SARIF's `name` is
/// meant to be an identifier-like label.
fn pascal_name(rule_id: &str) -> String {
    rule_id
        .rsplit('/')
        .next()
        .unwrap_or(rule_id)
        .split(['-', '_', '.'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Relative paths as URI references: percent-encode what would otherwise change their meaning.
fn uri_of(path: &str) -> String {
    let mut uri = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                uri.push(byte as char)
            }
            other => uri.push_str(&format!("%{other:02X}")),
        }
    }
    uri
}

/// What the rule catches and why it matters (the help's first two sections, as one paragraph):
/// SARIF viewers show `fullDescription` under `shortDescription`, so repeating the summary
/// there says nothing.
fn full_description(summary: &str, help: &str) -> Option<Text> {
    let before_example = help.split("## Example").next().unwrap_or_default();
    let text = before_example
        .lines()
        .filter(|line| !line.starts_with('#'))
        .flat_map(str::split_whitespace)
        .collect::<Vec<_>>()
        .join(" ");
    (!text.is_empty() && text != summary.trim()).then_some(Text { text })
}

/// `docs_url` with `{rule}` replaced by the rule id (or the id appended when it has no
/// placeholder).
fn help_uri(docs_url: Option<&str>, rule_id: &str) -> Option<String> {
    docs_url.map(|url| {
        if url.contains("{rule}") {
            url.replace("{rule}", rule_id)
        } else {
            format!("{}/{rule_id}", url.trim_end_matches('/'))
        }
    })
}

fn descriptor_for(
    rule_id: &str,
    seen: &Finding,
    catalog: &RuleCatalog,
    docs_url: Option<&str>,
) -> RuleDescriptor {
    match catalog.rule(rule_id) {
        Some(rule) => RuleDescriptor {
            id: rule.id.clone(),
            name: pascal_name(&rule.id),
            short_description: Text {
                text: rule.summary.to_string(),
            },
            full_description: full_description(&rule.summary, &rule.help),
            help_uri: help_uri(docs_url, &rule.id),
            help: Help {
                text: rule.help.clone(),
                markdown: rule.help.clone(),
            },
            default_configuration: RuleConfiguration {
                level: level(rule.default_severity),
            },
        },
        None => {
            let plugin = rule_id
                .strip_prefix("plugin/")
                .and_then(|rest| rest.split('/').next())
                .unwrap_or("an external check");
            let help = format!(
                "Reported by the gonogo plugin `{plugin}`; its documentation lives with the plugin's script."
            );
            RuleDescriptor {
                id: rule_id.to_string(),
                name: pascal_name(rule_id),
                short_description: Text {
                    text: format!("{rule_id} (plugin {plugin})"),
                },
                full_description: None,
                help_uri: None,
                help: Help {
                    markdown: help.clone(),
                    text: help,
                },
                default_configuration: RuleConfiguration {
                    level: level(seen.severity),
                },
            }
        }
    }
}

pub fn render(report: &Report, catalog: &RuleCatalog, options: &RenderOptions) -> String {
    let docs_url = options.docs_url.as_deref();
    // Rules: every rule of every check that ran, then rules only seen in findings.
    let mut rule_index: BTreeMap<String, usize> = BTreeMap::new();
    let mut rules: Vec<RuleDescriptor> = Vec::new();
    for check in report.checks.iter().filter(|c| c.status != Status::Skip) {
        if let Some(built_in) = catalog.check_rules(&check.id) {
            for rule in built_in {
                if !rule_index.contains_key(&rule.id) {
                    rule_index.insert(rule.id.clone(), rules.len());
                    rules.push(descriptor_for(
                        &rule.id,
                        &Finding::new(rule.id.as_str(), rule.default_severity, ""),
                        catalog,
                        docs_url,
                    ));
                }
            }
        }
        for finding in &check.findings {
            if !rule_index.contains_key(&finding.rule) {
                rule_index.insert(finding.rule.clone(), rules.len());
                rules.push(descriptor_for(&finding.rule, finding, catalog, docs_url));
            }
        }
    }

    let fallback_location = report.config.as_deref();
    let mut results = Vec::new();
    let mut seen: BTreeMap<String, u32> = BTreeMap::new();
    for check in &report.checks {
        for finding in &check.findings {
            let path = finding
                .location
                .as_ref()
                .map(|l| l.path.as_str())
                .or(fallback_location);
            let locations = path
                .map(|path| {
                    let region = finding
                        .location
                        .as_ref()
                        .filter(|l| l.path == path)
                        .and_then(|l| {
                            l.line.map(|line| Region {
                                start_line: line,
                                start_column: l.column,
                            })
                        });
                    vec![SarifLocation {
                        physical_location: PhysicalLocation {
                            artifact_location: ArtifactLocation {
                                // From the repository root (%SRCROOT% is the checkout).
                                uri: uri_of(&options.repo_path(path)),
                                uri_base_id: "%SRCROOT%",
                            },
                            region,
                        },
                    }]
                })
                .unwrap_or_default();
            let mut message = finding.message.clone();
            if let Some(fix) = &finding.fix {
                message.push_str("\nFix: ");
                message.push_str(fix);
            }
            let suppressions = finding
                .waived
                .iter()
                .map(|w| Suppression {
                    kind: match w.source {
                        super::WaiverSource::Config => "external",
                        super::WaiverSource::Inline => "inSource",
                    },
                    status: "accepted",
                    justification: w.reason.clone(),
                })
                .collect();
            // Rule, file and message, not the line: an edit above the finding must not make
            // code scanning close the alert and open a new one. Identical findings in one file
            // are told apart by their order.
            let repo_path = path.map(|p| options.repo_path(p)).unwrap_or_default();
            let occurrence = seen
                .entry(format!(
                    "{}\0{repo_path}\0{}",
                    finding.rule, finding.message
                ))
                .and_modify(|n| *n += 1)
                .or_insert(0)
                .to_string();
            let partial_fingerprints = BTreeMap::from([(
                "gonogoFindingHash/v1",
                fingerprint(&[&finding.rule, &repo_path, &finding.message, &occurrence]),
            )]);
            results.push(SarifResult {
                partial_fingerprints,
                rule_index: rule_index[&finding.rule],
                rule_id: finding.rule.clone(),
                level: level(finding.severity),
                message: Text { text: message },
                locations,
                suppressions,
            });
        }
    }

    let notifications: Vec<Notification> = report
        .checks
        .iter()
        .filter(|c| c.status == Status::Error)
        .map(|c| Notification {
            level: "error",
            message: Text {
                text: format!("check `{}` could not decide: {}", c.id, c.summary),
            },
        })
        .collect();

    let log = Log {
        schema: SARIF_SCHEMA,
        version: "2.1.0",
        runs: vec![Run {
            tool: Tool {
                driver: Driver {
                    name: "gonogo",
                    version: report.gonogo_version.clone(),
                    semantic_version: report.gonogo_version.clone(),
                    rules,
                },
            },
            invocations: vec![Invocation {
                execution_successful: notifications.is_empty(),
                tool_execution_notifications: notifications,
            }],
            results,
            column_kind: "unicodeCodePoints",
        }],
    };
    let mut text = serde_json::to_string_pretty(&log)
        .unwrap_or_else(|e| format!("{{\"error\": \"cannot serialise SARIF: {e}\"}}"));
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_uris() {
        assert_eq!(
            pascal_name("migrations/pg-add-index-not-concurrent"),
            "PgAddIndexNotConcurrent"
        );
        assert_eq!(pascal_name("plugin/flags/undefined-flag"), "UndefinedFlag");
        assert_eq!(uri_of("db/my file#1.sql"), "db/my%20file%231.sql");
    }

    #[test]
    fn full_description_says_more_than_the_summary() {
        let help = "## What it catches\n`X` on a\ntable.\n\n## Why it matters during a deploy\nIt locks.\n\n## Example\n```sql\nX;\n```\n";
        assert_eq!(
            full_description("X locks", help).unwrap().text,
            "`X` on a table. It locks."
        );
        assert!(full_description("same", "same").is_none());
        assert_eq!(
            help_uri(Some("https://d.example/rules/{rule}.html"), "a/b").unwrap(),
            "https://d.example/rules/a/b.html"
        );
        assert_eq!(
            help_uri(Some("https://d.example/r/"), "a/b").unwrap(),
            "https://d.example/r/a/b"
        );
    }
}
