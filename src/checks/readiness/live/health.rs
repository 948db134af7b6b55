//! What a readiness body says: `application/health+json`, Spring Boot Actuator, MicroProfile
//! Health, Kubernetes' verbose `[+]name ok` list, plain text; whether it names a dependency;
//! whether it looks static. Pure: the GET itself is [`crate::live::observe::get`].

use crate::live::observe::Observation;
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/health+json` (draft-inadarei-api-health-check): `checks` keyed by
    /// `component:measurement`.
    HealthJson,
    /// Spring Boot Actuator: `status: UP`, `components` (or `details` before 2.2).
    SpringBoot,
    /// MicroProfile Health: `checks: [{name, status}]`.
    MicroProfile,
    /// Kubernetes' `?verbose` list: `[+]etcd ok`, `[-]db failed`.
    KubernetesVerbose,
    /// JSON without a known shape.
    Json,
    PlainText,
    Empty,
}

impl Format {
    pub fn describe(self) -> &'static str {
        match self {
            Format::HealthJson => "application/health+json",
            Format::SpringBoot => "Spring Boot Actuator health",
            Format::MicroProfile => "MicroProfile Health",
            Format::KubernetesVerbose => "Kubernetes verbose health list",
            Format::Json => "JSON",
            Format::PlainText => "plain text",
            Format::Empty => "an empty body",
        }
    }
}

/// One thing the body says it checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub name: String,
    /// `Some(true)` up, `Some(false)` down, `None` unknown.
    pub up: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub format: Format,
    /// The overall status the body states, when it states one.
    pub status: Option<String>,
    pub components: Vec<Component>,
}

/// What a health body says. Never fails: an unknown shape is `Json` or `PlainText`.
pub fn parse_health(content_type: Option<&str>, body: &[u8]) -> Health {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Health {
            format: Format::Empty,
            status: None,
            components: Vec::new(),
        };
    }
    let health_json = content_type.is_some_and(|c| c.to_ascii_lowercase().contains("health+json"));
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(trimmed) {
        let status = map.get("status").and_then(status_text);
        // health+json: `checks` is an object of arrays.
        if let Some(serde_json::Value::Object(checks)) = map.get("checks") {
            let components = checks
                .iter()
                .map(|(key, value)| {
                    let entries: Vec<&serde_json::Value> = match value {
                        serde_json::Value::Array(items) => items.iter().collect(),
                        other => vec![other],
                    };
                    let states: Vec<Option<bool>> = entries
                        .iter()
                        .map(|e| {
                            e.get("status")
                                .and_then(status_text)
                                .and_then(|s| status_up(&s))
                        })
                        .collect();
                    let up = if states.contains(&Some(false)) {
                        Some(false)
                    } else if !states.is_empty() && states.iter().all(|s| *s == Some(true)) {
                        Some(true)
                    } else {
                        None
                    };
                    Component {
                        name: key.clone(),
                        up,
                    }
                })
                .collect();
            return Health {
                format: if health_json || status.is_some() {
                    Format::HealthJson
                } else {
                    Format::Json
                },
                status,
                components,
            };
        }
        // MicroProfile: `checks` is an array of {name, status}.
        if let Some(serde_json::Value::Array(checks)) = map.get("checks") {
            let components = checks
                .iter()
                .filter_map(|c| {
                    let name = c.get("name")?.as_str()?.to_string();
                    let up = c
                        .get("status")
                        .and_then(status_text)
                        .and_then(|s| status_up(&s));
                    Some(Component { name, up })
                })
                .collect();
            return Health {
                format: Format::MicroProfile,
                status,
                components,
            };
        }
        // Spring Boot: `components` (2.2+) or `details` (older), each {status, ...}.
        for key in ["components", "details"] {
            if let Some(serde_json::Value::Object(parts)) = map.get(key) {
                let mut components = Vec::new();
                spring_components(parts, "", &mut components);
                return Health {
                    format: Format::SpringBoot,
                    status,
                    components,
                };
            }
        }
        // Unknown JSON: any top-level object with a `status` counts as a component.
        let components = map
            .iter()
            .filter_map(|(key, value)| {
                let status = value.as_object()?.get("status").and_then(status_text)?;
                Some(Component {
                    name: key.clone(),
                    up: status_up(&status),
                })
            })
            .collect();
        return Health {
            format: Format::Json,
            status,
            components,
        };
    }
    let verbose: Vec<Component> = trimmed
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let (up, rest) = if let Some(rest) = line.strip_prefix("[+]") {
                (true, rest)
            } else if let Some(rest) = line.strip_prefix("[-]") {
                (false, rest)
            } else {
                return None;
            };
            let name = rest.split_whitespace().next()?.to_string();
            Some(Component { name, up: Some(up) })
        })
        .collect();
    if !verbose.is_empty() {
        let status = trimmed
            .lines()
            .rev()
            .find(|l| l.contains("check passed") || l.contains("check failed"))
            .map(|l| l.trim().to_string());
        return Health {
            format: Format::KubernetesVerbose,
            status,
            components: verbose,
        };
    }
    let first_line: String = trimmed
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(80)
        .collect();
    Health {
        format: Format::PlainText,
        status: Some(first_line),
        components: Vec::new(),
    }
}

/// Spring nests groups (`db: {components: {primary: …}}`); names join with `/`.
fn spring_components(
    parts: &serde_json::Map<String, serde_json::Value>,
    prefix: &str,
    out: &mut Vec<Component>,
) {
    for (name, value) in parts {
        let full = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let up = value
            .get("status")
            .and_then(status_text)
            .and_then(|s| status_up(&s));
        out.push(Component {
            name: full.clone(),
            up,
        });
        if let Some(serde_json::Value::Object(nested)) = value.get("components") {
            spring_components(nested, &full, out);
        }
    }
}

fn status_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The vocabularies: health+json `pass/warn/fail`, Spring and MicroProfile `UP/DOWN`
/// (`OUT_OF_SERVICE`), and the plain words.
fn status_up(status: &str) -> Option<bool> {
    match status.to_ascii_lowercase().as_str() {
        "pass" | "ok" | "up" | "true" | "healthy" | "warn" => Some(true),
        "fail" | "down" | "out_of_service" | "false" | "unhealthy" | "error" => Some(false),
        _ => None,
    }
}

/// Names a dependency is commonly checked under: a `postgres` dependency is Spring's `db`
/// component, a `redis` one may be `cache`. Deliberately short: a wrong match would claim a
/// dependency is checked when it is not.
const ALIASES: &[&[&str]] = &[
    &[
        "postgres",
        "postgresql",
        "pg",
        "db",
        "database",
        "datasource",
        "jdbc",
        "sql",
    ],
    &[
        "mysql",
        "mariadb",
        "db",
        "database",
        "datasource",
        "jdbc",
        "sql",
    ],
    &["redis", "cache", "valkey"],
    &["kafka", "broker", "messaging"],
    &["rabbitmq", "rabbit", "amqp", "broker", "messaging"],
    &["mongo", "mongodb", "db", "database"],
    &["elasticsearch", "elastic", "opensearch", "search"],
];

/// Whether the body names the dependency `name` among its components.
pub fn mentions(health: &Health, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let mut names = vec![name.clone()];
    for group in ALIASES {
        if group.contains(&name.as_str()) {
            names.extend(group.iter().map(|s| s.to_string()));
        }
    }
    health.components.iter().any(|component| {
        let words: Vec<String> = component
            .name
            .to_ascii_lowercase()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        names.iter().any(|n| words.iter().any(|w| w == n))
    })
}

/// Answers faster than this, every time, with the same body, look like a handler that checks
/// nothing: a database round trip, even on localhost, takes longer.
pub const STATIC_LATENCY: Duration = Duration::from_millis(2);

/// Why a readiness endpoint looks static, if it does: dependencies are declared, every answer was
/// successful, the same bytes, fast, and the body names none of the dependencies.
pub fn looks_static(samples: &[Observation], declared: &[String]) -> Option<String> {
    if declared.is_empty() || samples.len() < 3 {
        return None;
    }
    let first = &samples[0];
    if !samples.iter().all(|s| s.success() && s.body == first.body) {
        return None;
    }
    let health = parse_health(first.content_type.as_deref(), &first.body);
    if declared.iter().any(|d| mentions(&health, d)) {
        return None;
    }
    let mut latencies: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    if median >= STATIC_LATENCY {
        return None;
    }
    Some(format!(
        "{} answers were identical ({}), median {} µs, and none names {}",
        samples.len(),
        body_preview(&first.body),
        median.as_micros(),
        declared
            .iter()
            .map(|d| format!("`{d}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// The start of a body for a message: one line, at most 60 characters.
pub fn body_preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.trim().lines().next().unwrap_or("").trim();
    if line.is_empty() {
        return "empty body".to_string();
    }
    if line.chars().count() > 60 {
        format!("`{}…`", line.chars().take(57).collect::<String>())
    } else {
        format!("`{line}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(health: &Health) -> Vec<(&str, Option<bool>)> {
        health
            .components
            .iter()
            .map(|c| (c.name.as_str(), c.up))
            .collect()
    }

    #[test]
    fn health_json_checks_and_status() {
        let body = br#"{"status":"fail","checks":{"postgres:connections":[{"status":"fail"}],"uptime":[{"status":"pass"}]}}"#;
        let health = parse_health(Some("application/health+json"), body);
        assert_eq!(health.format, Format::HealthJson);
        assert_eq!(health.status.as_deref(), Some("fail"));
        assert_eq!(
            names(&health),
            [
                ("postgres:connections", Some(false)),
                ("uptime", Some(true))
            ]
        );
        assert!(mentions(&health, "postgres"));
        assert!(!mentions(&health, "redis"));
    }

    #[test]
    fn spring_boot_components_nest() {
        let body = br#"{"status":"UP","components":{"db":{"status":"UP","components":{"primary":{"status":"UP"}}},"redis":{"status":"DOWN"}}}"#;
        let health = parse_health(Some("application/vnd.spring-boot.actuator.v3+json"), body);
        assert_eq!(health.format, Format::SpringBoot);
        assert_eq!(
            names(&health),
            [
                ("db", Some(true)),
                ("db/primary", Some(true)),
                ("redis", Some(false))
            ]
        );
        assert!(
            mentions(&health, "postgres"),
            "Spring's `db` is the database"
        );
        assert!(mentions(&health, "redis"));
    }

    #[test]
    fn microprofile_checks_list() {
        let body = br#"{"status":"DOWN","checks":[{"name":"kafka","status":"DOWN"},{"name":"mongo-connection","status":"UP"}]}"#;
        let health = parse_health(Some("application/json"), body);
        assert_eq!(health.format, Format::MicroProfile);
        assert_eq!(
            names(&health),
            [("kafka", Some(false)), ("mongo-connection", Some(true))]
        );
        assert!(mentions(&health, "mongo"));
    }

    #[test]
    fn kubernetes_verbose_list() {
        let body = b"[+]ping ok\n[+]etcd ok\n[-]informer-sync failed: reason withheld\nreadyz check failed\n";
        let health = parse_health(Some("text/plain"), body);
        assert_eq!(health.format, Format::KubernetesVerbose);
        assert_eq!(health.status.as_deref(), Some("readyz check failed"));
        assert_eq!(health.components.len(), 3);
        assert_eq!(health.components[2].up, Some(false));
        assert!(mentions(&health, "etcd"));
    }

    #[test]
    fn plain_text_empty_and_broken_json() {
        let health = parse_health(None, b"OK\n");
        assert_eq!(health.format, Format::PlainText);
        assert_eq!(health.status.as_deref(), Some("OK"));
        assert_eq!(parse_health(None, b"  ").format, Format::Empty);
        // Not JSON after all: plain text, no panic.
        assert_eq!(
            parse_health(Some("application/json"), b"{\"status\": ").format,
            Format::PlainText
        );
        assert_eq!(
            parse_health(None, &[0xff, 0xfe, b'x']).format,
            Format::PlainText
        );
    }

    #[test]
    fn dependency_names_match_whole_words_only() {
        let health = parse_health(None, br#"{"checks":[{"name":"dbx","status":"UP"}]}"#);
        assert!(!mentions(&health, "db"), "`dbx` is not `db`");
        let health = parse_health(None, br#"{"checks":[{"name":"db-primary","status":"UP"}]}"#);
        assert!(mentions(&health, "DB"));
    }

    fn sample(body: &str, micros: u64) -> Observation {
        Observation {
            status: 200,
            latency: Duration::from_micros(micros),
            content_type: None,
            body: body.as_bytes().to_vec(),
            truncated: false,
        }
    }

    #[test]
    fn static_readiness_needs_every_sign() {
        let declared = vec!["postgres".to_string()];
        let fast = [sample("OK", 200), sample("OK", 150), sample("OK", 300)];
        assert!(looks_static(&fast, &declared).unwrap().contains("`OK`"));
        // Nothing declared: nothing to expect.
        assert!(looks_static(&fast, &[]).is_none());
        // Slow enough to have done a round trip.
        let slow = [sample("OK", 5000), sample("OK", 6000), sample("OK", 7000)];
        assert!(looks_static(&slow, &declared).is_none());
        // The body names the dependency.
        let named = [
            sample(r#"{"components":{"db":{"status":"UP"}}}"#, 100),
            sample(r#"{"components":{"db":{"status":"UP"}}}"#, 100),
            sample(r#"{"components":{"db":{"status":"UP"}}}"#, 100),
        ];
        assert!(looks_static(&named, &declared).is_none());
        // Bodies that change (a timestamp) are not constant.
        let changing = [
            sample("OK 1", 100),
            sample("OK 2", 100),
            sample("OK 3", 100),
        ];
        assert!(looks_static(&changing, &declared).is_none());
    }
}
