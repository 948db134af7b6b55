//! `gonogo.yaml`: types, discovery and validation with positions.
//!
//! Every key is optional. Every error names `file:line:column`, says what was expected, and an
//! unknown key suggests the nearest valid one. `env:NAME` in a string value reads the environment;
//! such values are treated as secrets and redacted from every output.

use crate::date::Date;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Config files larger than this are refused: a real one is a few kilobytes, and a huge one is a
/// mistake (or an attack on the parser) that should not cost the CI job its time budget.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

pub const CONFIG_FILE_NAMES: &[&str] = &["gonogo.yaml", "gonogo.yml"];

// ---------------------------------------------------------------------------------------------
// Value types

/// A string that may be `env:NAME`, resolved while the config is read so a missing variable is
/// reported with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigString {
    pub value: String,
    /// Set when the value came from the environment; such values are redacted from output.
    pub from_env: Option<String>,
}

impl ConfigString {
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for ConfigString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl<'de> Deserialize<'de> for ConfigString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        let Some(name) = raw.strip_prefix("env:") else {
            return Ok(ConfigString {
                value: raw,
                from_env: None,
            });
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(de::Error::custom(
                "`env:` needs a variable name, e.g. `env:GONOGO_STATS_URL`",
            ));
        }
        match std::env::var(name) {
            Ok(value) => {
                crate::secrets::register(&value);
                Ok(ConfigString {
                    value,
                    from_env: Some(name.to_string()),
                })
            }
            Err(std::env::VarError::NotPresent) => Err(de::Error::custom(format!(
                "environment variable `{name}` is not set (the value is `env:{name}`); set it or remove the key"
            ))),
            Err(std::env::VarError::NotUnicode(_)) => Err(de::Error::custom(format!(
                "environment variable `{name}` is not valid UTF-8"
            ))),
        }
    }
}

/// A duration written with a unit: `500ms`, `20s`, `2m`, `1m30s`, `1h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationValue(pub Duration);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = DurationValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration with a unit, like 120s, 2m or 1m30s")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<DurationValue, E> {
                parse_duration(value).map(DurationValue).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<DurationValue, E> {
                Err(E::custom(format!(
                    "expected a duration with a unit, like {value}s or {value}ms; found the bare number {value}"
                )))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<DurationValue, E> {
                Err(E::custom(format!(
                    "expected a duration with a unit, like 120s; found the number {value}"
                )))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<DurationValue, E> {
                Err(E::custom(format!(
                    "expected a duration with a unit, like 120s; found the number {value}"
                )))
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

/// Parse `120s`, `2m`, `1m30s`, `500ms`, `1h`. Pure, so command-line flags share it.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let expected = || format!("expected a duration like 120s, 2m or 1m30s, found `{text}`");
    let text_trimmed = text.trim();
    if text_trimmed.is_empty() || text_trimmed.contains(char::is_whitespace) {
        return Err(expected());
    }
    let mut total = Duration::ZERO;
    let mut rest = text_trimmed;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(expected());
        }
        // Only digits here, so a failed parse is an overflow: saturate, and let the range check
        // of the key say the value is too large.
        let number: u64 = rest[..digits].parse().unwrap_or(u64::MAX);
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let part = match unit {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number.saturating_mul(60)),
            "h" => Duration::from_secs(number.saturating_mul(3600)),
            "" => {
                return Err(format!(
                    "`{text}` has no unit: write {number}s for seconds or {number}ms for milliseconds"
                ));
            }
            other => {
                return Err(format!(
                    "unknown unit `{other}` in `{text}`; use ms, s, m or h (e.g. 120s)"
                ));
            }
        };
        total = total.saturating_add(part);
    }
    Ok(total)
}

/// The longest duration a key or `--deadline` accepts: 24 h. gonogo gates a deploy and its whole
/// run ends by its deadline; a day is longer than any CI job runs (GitHub Actions stops a job
/// after 6 h). The bound also keeps `Instant + duration` in range: std panics when that addition
/// overflows, which is how `--deadline 9223372036854775807s` used to end (exit 101).
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// A duration shown as the user would write it: `90s`, `250ms`.
pub fn show_duration(duration: Duration) -> String {
    if duration.subsec_nanos() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

/// A deadline or timeout: more than zero (a zero timeout can never be met) and at most
/// [`MAX_DURATION`]. `--deadline` and every timeout key share this rule and its wording.
pub fn check_timeout(duration: Duration) -> Result<Duration, String> {
    if duration.is_zero() {
        return Err(
            "a duration of 0s can never be met; expected a duration from 1ms to 24h".to_string(),
        );
    }
    if duration > MAX_DURATION {
        return Err(format!(
            "{} is out of range; expected a duration from 1ms to 24h (gonogo bounds a whole run to a day)",
            show_duration(duration)
        ));
    }
    Ok(duration)
}

/// Range checks for numbers and durations, as `deserialize_with` functions: an error raised while
/// the value is read carries the value's line and column, which a check after parsing would not.
mod limit;

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Date::parse(&text).map_err(de::Error::custom)
    }
}

/// `checks:` with every entry commented out is YAML null: treat it as empty, not as an error.
fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}

// ---------------------------------------------------------------------------------------------
// The config file, as DESIGN.md describes it

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub service: Option<ConfigString>,
    pub base: Option<ConfigString>,
    #[serde(default, deserialize_with = "limit::timeout")]
    pub deadline: Option<DurationValue>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub checks: ChecksConfig,
    #[serde(default, deserialize_with = "null_as_default")]
    pub waivers: Vec<WaiverConfig>,
    /// Where the rules are documented, `{rule}` standing for the rule id
    /// (`https://wiki.example.com/gonogo/{rule}`): SARIF's `helpUri`, a link in code scanning.
    pub docs_url: Option<ConfigString>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecksConfig {
    pub migrations: Option<MigrationSets>,
    pub compat: Option<CompatConfig>,
    pub kubernetes: Option<KubernetesConfig>,
    pub readiness: Option<ReadinessConfig>,
    pub dns: Option<DnsConfig>,
    pub grace: Option<GraceConfig>,
    pub rollback: Option<RollbackConfig>,
    pub rollout: Option<RolloutConfig>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub plugins: Vec<PluginConfig>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    #[default]
    Postgres,
    Mysql,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum TransactionMode {
    #[default]
    PerFile,
    PerStatement,
    None,
}

/// `checks.migrations`: one set of migrations (a mapping, the usual form) or a list of sets,
/// each its own database: its own paths, dialect, transaction mode and schema.
#[derive(Debug, Default)]
pub struct MigrationSets {
    pub sets: Vec<MigrationsConfig>,
    /// Where each set starts in gonogo.yaml (line, column), for errors about a set as a whole.
    pub positions: Vec<(u32, u32)>,
    /// Written as a list (even of one set).
    pub listed: bool,
}

impl MigrationSets {
    /// The first set: what a single-database feature (calibrate, the database side of compat)
    /// uses. Validation guarantees there is one.
    pub fn primary(&self) -> &MigrationsConfig {
        &self.sets[0]
    }
}

impl<'de> Deserialize<'de> for MigrationSets {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct SetsVisitor;
        impl<'de> Visitor<'de> for SetsVisitor {
            type Value = MigrationSets;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of migration settings, or a list of them (one per set)")
            }
            fn visit_map<A: de::MapAccess<'de>>(self, map: A) -> Result<MigrationSets, A::Error> {
                let set =
                    MigrationsConfig::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(MigrationSets {
                    sets: vec![set],
                    positions: vec![(1, 1)],
                    listed: false,
                })
            }
            fn visit_seq<A: de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<MigrationSets, A::Error> {
                let mut sets = MigrationSets {
                    listed: true,
                    ..MigrationSets::default()
                };
                while let Some(set) =
                    seq.next_element::<serde_saphyr::Spanned<MigrationsConfig>>()?
                {
                    sets.positions
                        .push((set.referenced.line() as u32, set.referenced.column() as u32));
                    sets.sets.push(set.value);
                }
                Ok(sets)
            }
        }
        deserializer.deserialize_any(SetsVisitor)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationsConfig {
    /// The set's name in findings and summaries; needed when there are several sets.
    pub name: Option<serde_saphyr::Spanned<String>>,
    /// Globs relative to the project root; `!glob` excludes, `{a,b}` is either; a folder is
    /// the `.sql` files directly in it.
    #[serde(default, deserialize_with = "migration_paths")]
    pub paths: Vec<ConfigString>,
    /// A file listing the migrations in the order the runner applies them, one per line
    /// (relative to the order file's folder; Atlas's `atlas.sum` reads as is). Without it,
    /// the runner's usual order: versions and numbers compared as numbers.
    pub order_file: Option<ConfigString>,
    /// Literal text → its value, replaced in every file before parsing (templated SQL:
    /// `{{ index .Options "Namespace" }}`, `${schema}`).
    #[serde(default, deserialize_with = "placeholders")]
    pub placeholders: BTreeMap<String, String>,
    #[serde(default)]
    pub dialect: Dialect,
    #[serde(default, deserialize_with = "limit::postgres_version")]
    pub postgres_version: Option<u32>,
    #[serde(default)]
    pub transaction: TransactionMode,
    #[serde(default, deserialize_with = "limit::positive_seconds")]
    pub max_lock_seconds: Option<f64>,
    pub database: Option<MigrationsDatabaseConfig>,
    /// The lock-time cost model's rates, measured on your own server. A missing key keeps its
    /// default (documented in src/checks/migrations/live/estimate.rs).
    pub costs: Option<MigrationsCostsConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationsDatabaseConfig {
    pub stats_url: Option<ConfigString>,
    pub scratch_url: Option<ConfigString>,
    /// Trace on scratch_url even when its role is a superuser (or may SET ROLE to one): by
    /// default gonogo refuses, since a superuser can act outside the rolled-back transaction.
    pub trace_as_superuser: Option<bool>,
}

/// Throughputs in MB of table per second, and the fixed cost of a statement in milliseconds.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationsCostsConfig {
    #[serde(default, deserialize_with = "limit::throughput")]
    pub rewrite_mb_per_s: Option<f64>,
    #[serde(default, deserialize_with = "limit::throughput")]
    pub scan_mb_per_s: Option<f64>,
    #[serde(default, deserialize_with = "limit::throughput")]
    pub index_build_mb_per_s: Option<f64>,
    #[serde(default, deserialize_with = "limit::throughput")]
    pub update_mb_per_s: Option<f64>,
    #[serde(default, deserialize_with = "limit::overhead_ms")]
    pub overhead_ms: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompatConfig {
    #[serde(default)]
    pub openapi: Vec<ConfigString>,
    #[serde(default)]
    pub proto: Vec<ConfigString>,
    #[serde(default)]
    pub avro: Vec<ConfigString>,
    #[serde(default)]
    pub jsonschema: Vec<ConfigString>,
    /// How strict Protobuf compatibility is: `wire` (binary encoding only) or `wire_json`
    /// (also the JSON encoding, where field and enum value names are the keys).
    pub proto_level: Option<ProtoLevel>,
    pub database: Option<CompatDatabaseConfig>,
}

/// What a Protobuf change must keep working; buf's `WIRE` and `WIRE_JSON` categories.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProtoLevel {
    Wire,
    #[default]
    WireJson,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompatDatabaseConfig {
    /// Where the deployed version's code lives (globs or directories, relative to the project
    /// root), searched at the base ref for uses of what the migrations drop or change.
    #[serde(default)]
    pub code_paths: Vec<ConfigString>,
    /// Texts that mark a column or table as going away, on the line of a reference or the line
    /// above it (`# gonogo:dropping`). Rails `ignored_columns` is always recognised.
    #[serde(default)]
    pub markers: Vec<ConfigString>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KubernetesConfig {
    #[serde(default)]
    pub manifests: Vec<ConfigString>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadinessConfig {
    pub url: Option<ConfigString>,
    pub liveness_url: Option<ConfigString>,
    #[serde(default)]
    pub dependencies: Vec<DependencyConfig>,
    #[serde(default)]
    pub command: Vec<ConfigString>,
    /// Environment for `command` (added to gonogo's own).
    #[serde(default)]
    pub env: BTreeMap<String, ConfigString>,
    /// How long readiness may take to turn unready after a cut (and ready after the restore)
    /// when no manifest's probe says it (periodSeconds x failureThreshold); default 30 s.
    #[serde(default, deserialize_with = "limit::timeout")]
    pub detection_budget: Option<DurationValue>,
    /// One readiness or liveness request, body included (default 2 s).
    #[serde(default, deserialize_with = "limit::timeout")]
    pub timeout: Option<DurationValue>,
    /// How long the service gonogo starts with `command` may take to become ready (default 30 s).
    #[serde(default, deserialize_with = "limit::timeout")]
    pub startup_timeout: Option<DurationValue>,
    /// A PEM file of CA certificates (relative to the project root) trusted for https readiness
    /// and grace URLs in addition to the system roots: a staging environment's private CA.
    pub ca_file: Option<ConfigString>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DependencyConfig {
    pub name: String,
    #[serde(default)]
    pub soft: bool,
    pub proxy: Option<ProxyConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProxyConfig {
    pub listen: ConfigString,
    pub upstream: ConfigString,
    /// How the cut looks: `close` (connections refused and closed) or `blackhole` (accepted,
    /// never answered: how many real outages look). Default `close`.
    #[serde(default)]
    pub mode: CutMode,
}

/// How a cut looks to the service.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CutMode {
    /// Connections are refused and open ones closed: a crashed dependency.
    #[default]
    Close,
    /// Connections are accepted and never answered: a network partition, a hung server, how
    /// many real outages look. Only a readiness check with a timeout notices.
    Blackhole,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DnsPhase {
    BeforeCutover,
    AfterCutover,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsConfig {
    pub phase: Option<DnsPhase>,
    #[serde(default, deserialize_with = "limit::ttl")]
    pub max_ttl: Option<DurationValue>,
    /// How long one query to one server may take, retransmission included (default 2 s).
    #[serde(default, deserialize_with = "limit::timeout")]
    pub timeout: Option<DurationValue>,
    #[serde(default)]
    pub nameservers: Vec<ConfigString>,
    #[serde(default)]
    pub records: Vec<DnsRecordConfig>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsRecordConfig {
    /// Spanned so findings about the record can point at its line in gonogo.yaml.
    pub name: serde_saphyr::Spanned<String>,
    #[serde(rename = "type")]
    pub record_type: Option<String>,
    #[serde(default)]
    pub expect: Vec<String>,
    /// `false` for a record that may legitimately not exist yet (default `true`).
    pub must_exist: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraceConfig {
    #[serde(default, deserialize_with = "limit::seconds")]
    pub max_request_seconds: Option<f64>,
    #[serde(default, deserialize_with = "limit::seconds")]
    pub lb_deregistration_seconds: Option<f64>,
    /// The preStop delay the drill assumes when no manifest says it: Kubernetes runs it
    /// before SIGTERM, so new connections after SIGTERM are past the endpoints' removal.
    #[serde(default, deserialize_with = "limit::seconds")]
    pub prestop_seconds: Option<f64>,
    /// From the last request finishing to the process's exit (default 2 s): flushing logs,
    /// closing connections.
    #[serde(default, deserialize_with = "limit::seconds")]
    pub margin_seconds: Option<f64>,
    #[serde(default)]
    pub command: Vec<ConfigString>,
    pub url: Option<ConfigString>,
    /// Environment for `command` (added to gonogo's own).
    #[serde(default)]
    pub env: BTreeMap<String, ConfigString>,
    /// The readiness endpoint to watch during the drill; default `checks.readiness.url`.
    pub readiness_url: Option<ConfigString>,
    /// How many long requests are in flight when SIGTERM is sent (default 5).
    #[serde(default, deserialize_with = "limit::drill_requests")]
    pub requests: Option<u32>,
    /// terminationGracePeriodSeconds when no manifest says it (default 30, as Kubernetes).
    #[serde(default, deserialize_with = "limit::seconds")]
    pub termination_grace_seconds: Option<f64>,
    /// What a new connection during the drain may get: `served`, `refused` or `either` (default).
    #[serde(default)]
    pub new_connections: NewConnections,
    /// How long the service may take to become ready after it starts (default 30 s).
    #[serde(default, deserialize_with = "limit::timeout")]
    pub startup_timeout: Option<DurationValue>,
}

/// What a new connection may get while the service drains (the grace drill).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NewConnections {
    /// Answered with any HTTP status.
    Served,
    /// Refused at connect (the listener is closed): the load balancer retries elsewhere.
    Refused,
    /// Either of the two; only a reset, a hang or a broken answer fails.
    #[default]
    Either,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RollbackConfig {
    /// The longest a rollback may take once decided.
    #[serde(default, deserialize_with = "limit::positive_seconds")]
    pub target_seconds: Option<f64>,
    /// The longest an automated analysis may take to decide a version is bad.
    #[serde(default, deserialize_with = "limit::positive_seconds")]
    pub detection_budget_seconds: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RolloutConfig {}

/// A plugin entry. Keys other than `name`, `run` and `timeout` are the plugin's own config and
/// are passed to it on stdin.
#[derive(Debug, Clone)]
pub struct PluginConfig {
    pub name: String,
    pub run: Vec<String>,
    pub timeout: Option<Duration>,
    /// The whole entry as JSON (what the plugin receives as `config`).
    pub raw: serde_json::Value,
}

impl<'de> Deserialize<'de> for PluginConfig {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Known {
            name: String,
            run: Vec<ConfigString>,
            #[serde(default, deserialize_with = "limit::timeout")]
            timeout: Option<DurationValue>,
            #[serde(flatten)]
            rest: BTreeMap<String, serde_json::Value>,
        }
        let known = Known::deserialize(deserializer)?;
        if !is_plugin_name(&known.name) {
            return Err(de::Error::custom(format!(
                "plugin name `{}` must be lowercase letters, digits and dashes (it becomes the check id `plugin/<name>`)",
                known.name
            )));
        }
        if known.run.is_empty() {
            return Err(de::Error::custom(format!(
                "plugin `{}` has an empty `run`; expected the command as a list, e.g. [\"checks/{}.sh\"]",
                known.name, known.name
            )));
        }
        let run: Vec<String> = known.run.into_iter().map(|s| s.value).collect();
        let mut raw = serde_json::Map::new();
        raw.insert("name".into(), known.name.clone().into());
        raw.insert("run".into(), run.clone().into());
        if let Some(DurationValue(timeout)) = known.timeout {
            raw.insert("timeout".into(), show_duration(timeout).into());
        }
        for (key, mut value) in known.rest {
            resolve_env_in_json(&mut value).map_err(de::Error::custom)?;
            raw.insert(key, value);
        }
        Ok(PluginConfig {
            name: known.name,
            run,
            timeout: known.timeout.map(|t| t.0),
            raw: serde_json::Value::Object(raw),
        })
    }
}

/// A plugin's own keys may use `env:NAME` too; resolved values are registered as secrets.
fn resolve_env_in_json(value: &mut serde_json::Value) -> Result<(), String> {
    match value {
        serde_json::Value::String(text) => {
            if let Some(name) = text.strip_prefix("env:") {
                let name = name.trim().to_string();
                let resolved = std::env::var(&name).map_err(|_| {
                    format!("environment variable `{name}` is not set (the value is `env:{name}`); set it or remove the key")
                })?;
                crate::secrets::register(&resolved);
                *text = resolved;
            }
            Ok(())
        }
        serde_json::Value::Array(items) => items.iter_mut().try_for_each(resolve_env_in_json),
        serde_json::Value::Object(map) => map.values_mut().try_for_each(resolve_env_in_json),
        _ => Ok(()),
    }
}

fn is_plugin_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        && name.as_bytes()[0].is_ascii_alphanumeric()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaiverConfig {
    /// Spanned so waiver bookkeeping (expired, unused) can point at the waiver's line.
    pub rule: serde_saphyr::Spanned<String>,
    pub path: Option<String>,
    pub reason: String,
    pub expires: Option<Date>,
}

// ---------------------------------------------------------------------------------------------
// Errors

/// An unusable config: exit 2, nothing checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
    /// The offending source line, when there is one, for a caret snippet.
    pub source_line: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path,
            self.line,
            self.column,
            crate::secrets::redact(&self.message)
        )?;
        if let Some(source_line) = &self.source_line {
            // The echoed line may hold a literal password; the caret follows the mask.
            let (source_line, caret_column) =
                crate::secrets::redact_keeping_column(source_line, self.column as usize);
            let gutter = self.line.to_string();
            let pad = " ".repeat(gutter.len());
            let caret_pad: String = source_line
                .chars()
                .take(caret_column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(
                f,
                "\n{pad} |\n{gutter} | {source_line}\n{pad} | {caret_pad}^"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    fn at(path: &str, text: Option<&str>, line: u32, column: u32, message: String) -> Self {
        let source_line = text
            .and_then(|t| t.lines().nth(line.saturating_sub(1) as usize))
            .filter(|l| l.len() <= 200)
            .map(str::to_string);
        ConfigError {
            path: path.to_string(),
            line,
            column,
            message,
            source_line,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Discovery and loading

/// Find `gonogo.yaml` in `dir` or the nearest parent, stopping at the git root (the directory
/// holding `.git`); outside a git repository only `dir` itself is searched.
pub fn discover(dir: &Path) -> Option<PathBuf> {
    let git_root = dir.ancestors().find(|d| d.join(".git").exists());
    for candidate_dir in dir.ancestors() {
        for name in CONFIG_FILE_NAMES {
            let candidate = candidate_dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
        match git_root {
            Some(root) if candidate_dir != root => continue,
            _ => break,
        }
    }
    None
}

/// Read and validate a config file. `shown_path` is how the file is named in messages.
pub fn load(path: &Path, shown_path: &str) -> Result<Config, ConfigError> {
    let whole_file = |message: String| ConfigError::at(shown_path, None, 1, 1, message);
    let metadata = std::fs::metadata(path)
        .map_err(|e| whole_file(format!("cannot read the config file: {}", io_reason(&e))))?;
    if metadata.is_dir() {
        return Err(whole_file(
            "is a directory; expected a YAML file such as gonogo.yaml".to_string(),
        ));
    }
    if metadata.len() > MAX_CONFIG_BYTES {
        return Err(whole_file(format!(
            "the file is {} bytes; a gonogo config is at most {} bytes (is this the right file?)",
            metadata.len(),
            MAX_CONFIG_BYTES
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| whole_file(format!("cannot read the config file: {}", io_reason(&e))))?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
            let valid = std::str::from_utf8(valid).unwrap_or_default();
            let line = valid.matches('\n').count() as u32 + 1;
            let column = valid.rsplit('\n').next().unwrap_or("").chars().count() as u32 + 1;
            return Err(ConfigError::at(
                shown_path,
                None,
                line,
                column,
                "the file is not valid UTF-8; expected YAML text".to_string(),
            ));
        }
    };
    parse(&text, shown_path)
}

/// Parse config text. Pure: tests feed it strings.
pub fn parse(text: &str, shown_path: &str) -> Result<Config, ConfigError> {
    let has_content = text.lines().any(|line| {
        let line = line.trim();
        !line.is_empty() && !line.starts_with('#') && line != "---"
    });
    if !has_content {
        return Err(ConfigError::at(
            shown_path,
            None,
            1,
            1,
            "the file is empty; expected a mapping of settings such as `checks:` (`gonogo init` writes a commented one)"
                .to_string(),
        ));
    }
    let config: Config = serde_saphyr::from_str(text).map_err(|err| {
        let (line, column) = err
            .location()
            .map(|l| (l.line() as u32, l.column() as u32))
            .unwrap_or((1, 1));
        let raw = err.without_snippet().to_string();
        let (message, anchor) = split_position_suffix(&raw);
        let mut message = explain_yaml_error(message);
        if let Some(anchor) = anchor {
            message.push_str(&format!(" (the value comes from the anchor at {anchor})"));
        }
        ConfigError::at(shown_path, Some(text), line, column, message)
    })?;
    validate(&config, text).map_err(|(message, pos)| {
        ConfigError::at(shown_path, Some(text), pos.line, pos.column, message)
    })?;
    validate_migration_sets(&config).map_err(|(line, column, message)| {
        ConfigError::at(shown_path, Some(text), line, column, message)
    })?;
    Ok(config)
}

/// Checks serde cannot express, positioned from the YAML tree (the config parsed, so the tree
/// does too; 1:1 only if it somehow does not).
fn validate(config: &Config, text: &str) -> Result<(), (String, crate::yaml::Pos)> {
    let tree = crate::yaml::parse_single(text).ok().flatten();
    let start = crate::yaml::Pos::new(1, 1);
    let item_pos = |list: &[&str], index: usize, key: &str| {
        tree.as_ref()
            .and_then(|t| t.path(list))
            .and_then(|l| l.items().get(index))
            .map(|item| item.get(key).map_or(item.pos, |v| v.pos))
            .unwrap_or(start)
    };
    let mut names = std::collections::BTreeMap::new();
    for (index, plugin) in config.checks.plugins.iter().enumerate() {
        if let Some(first) = names.insert(plugin.name.as_str(), index) {
            let first = item_pos(&["checks", "plugins"], first, "name");
            return Err((
                format!(
                    "a second plugin is named `{}` (the first is at line {}); plugin names must be unique: they are the check ids `plugin/<name>`",
                    plugin.name, first.line
                ),
                item_pos(&["checks", "plugins"], index, "name"),
            ));
        }
    }
    for (index, waiver) in config.waivers.iter().enumerate() {
        if waiver.reason.trim().is_empty() {
            return Err((
                format!(
                    "the waiver for `{}` has an empty reason; a waiver needs a reason (why the risk is accepted)",
                    waiver.rule.value
                ),
                item_pos(&["waivers"], index, "reason"),
            ));
        }
    }
    Ok(())
}

/// Migration path patterns: each says something (a lone `!` or an empty string matches nothing
/// and is a typo), and its braces are balanced.
fn migration_paths<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<ConfigString>, D::Error> {
    let paths: Vec<ConfigString> = null_as_default(deserializer)?;
    for pattern in &paths {
        let bare = pattern.value.trim().trim_start_matches('!');
        if bare.is_empty() {
            return Err(de::Error::custom(format!(
                "the path pattern `{}` is empty; write a glob such as \"db/migrations/*.sql\" (`!glob` excludes files)",
                pattern.value
            )));
        }
        if bare.matches('{').count() != bare.matches('}').count() {
            return Err(de::Error::custom(format!(
                "the path pattern `{}` has unbalanced braces; `{{a,b}}` means either a or b",
                pattern.value
            )));
        }
    }
    Ok(paths)
}

/// Placeholders: the literal text to replace cannot be empty.
fn placeholders<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let map: BTreeMap<String, String> = null_as_default(deserializer)?;
    if map.keys().any(|k| k.is_empty()) {
        return Err(de::Error::custom(
            "a placeholder's key is empty; a key is the literal text to replace, e.g. `${schema}: public`",
        ));
    }
    Ok(map)
}

/// Several migration sets need names, and different ones (findings say which set they are
/// about); paths and placeholders must say something.
fn validate_migration_sets(config: &Config) -> Result<(), (u32, u32, String)> {
    let Some(sets) = &config.checks.migrations else {
        return Ok(());
    };
    if sets.sets.is_empty() {
        return Err((
            1,
            1,
            "checks.migrations is an empty list; give at least one set (`- {name: main, paths: [\"db/migrations/*.sql\"]}`) or remove the key".to_string(),
        ));
    }
    let mut names: BTreeMap<&str, u32> = BTreeMap::new();
    for (set, &(line, column)) in sets.sets.iter().zip(&sets.positions) {
        let Some(name) = &set.name else {
            if sets.sets.len() > 1 {
                return Err((
                    line,
                    column,
                    "this migration set has no `name`; with several sets each needs one (findings say which set they are about)".to_string(),
                ));
            }
            continue;
        };
        let at = (
            name.referenced.line() as u32,
            name.referenced.column() as u32,
        );
        if name.value.trim().is_empty() {
            return Err((at.0, at.1, "a migration set's `name` is empty".to_string()));
        }
        if let Some(first) = names.insert(name.value.as_str(), at.0) {
            return Err((
                at.0,
                at.1,
                format!(
                    "two migration sets are named `{}` (the first at line {first}); set names must be unique",
                    name.value
                ),
            ));
        }
    }
    Ok(())
}

fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => err.to_string(),
    }
}

/// serde-saphyr appends " at line L, column C" (we print the position ourselves), and for a
/// value reached through an alias " (defined at line L, column C) (used)": the message without
/// them, and where the anchor is.
fn split_position_suffix(message: &str) -> (&str, Option<String>) {
    let Some(index) = message
        .find(" at line ")
        .filter(|&i| message[i..].contains(", column "))
    else {
        return (message, None);
    };
    let anchor = message[index..]
        .split_once("(defined at line ")
        .and_then(|(_, rest)| rest.split_once(')'))
        .and_then(|(position, _)| position.split_once(", column "))
        .map(|(line, column)| format!("{}:{}", line.trim(), column.trim()));
    (&message[..index], anchor)
}

/// Turn parser wording into what a user of gonogo.yaml needs to hear.
fn explain_yaml_error(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((key, expected)) = rest.split_once("`, expected one of ") {
            let valid: Vec<&str> = expected.split(", ").map(|s| s.trim_matches('`')).collect();
            let valid: Vec<&str> = valid.into_iter().filter(|v| !v.is_empty()).collect();
            if valid.is_empty() {
                return format!("unknown key `{key}`; this mapping takes no keys");
            }
            let mut text = format!("unknown key `{key}`");
            if let Some(nearest) = nearest(key, &valid) {
                text.push_str(&format!("; did you mean `{nearest}`?"));
            }
            text.push_str(&format!(" (valid keys here: {})", valid.join(", ")));
            return text;
        }
        if let Some((key, _)) = rest.split_once("`, expected ") {
            return format!("unknown key `{key}`; this mapping takes no keys");
        }
        if let Some((key, _)) = rest.split_once("`, there are no fields") {
            return format!("unknown key `{key}`; this mapping takes no keys");
        }
    }
    if let Some((value, expected)) = message
        .strip_prefix("unknown variant `")
        .and_then(|rest| rest.split_once("`, expected one of "))
    {
        let valid: Vec<&str> = expected.split(", ").map(|s| s.trim_matches('`')).collect();
        let mut text = format!("unknown value `{value}`");
        if let Some(nearest) = nearest(value, &valid) {
            text.push_str(&format!("; did you mean `{nearest}`?"));
        }
        text.push_str(&format!(" (expected one of: {})", valid.join(", ")));
        return text;
    }
    if message.starts_with("multiple YAML documents") {
        return "a second YAML document starts here; gonogo.yaml is one document (remove the `---` line and merge the settings into one mapping)".into();
    }
    if message.starts_with("budget breached") {
        return "the aliases here expand to too many values (over gonogo's budget for a config file, which stops alias bombs); write the values out instead of nesting aliases".into();
    }
    match message {
        "expected sequence start" => {
            "expected a list, e.g. [\"a\", \"b\"] or `- item` lines".into()
        }
        "expected mapping start" => "expected a mapping of `key: value` pairs".into(),
        m if m.starts_with("invalid u") || m.starts_with("invalid i") => {
            "expected a whole number".into()
        }
        m if m.starts_with("invalid f") => "expected a number".into(),
        m if m.contains("set DuplicateKeyPolicy") => m
            .split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or(m)
            .replace("duplicate mapping key", "duplicate key")
            .to_string(),
        m => m.to_string(),
    }
}

/// The candidate closest to `input` by edit distance, when it is close enough to be a typo.
pub fn nearest<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(input, c), *c))
        .filter(|(distance, candidate)| *distance <= (candidate.len().max(3) / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests;
