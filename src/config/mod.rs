//! `gonogo.yaml`: the types of the file (this module), its value types (`values.rs`: `env:`
//! strings, durations, dates), range checks while reading (`limit.rs`), and finding, reading and
//! validating it with positions (`load.rs`).
//!
//! Every key is optional. Every error names `file:line:column`, says what was expected, and an
//! unknown key suggests the nearest valid one. `env:NAME` in a string value reads the environment;
//! such values are treated as secrets and redacted from every output.

use crate::date::Date;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

mod load;
mod values;

pub use load::{CONFIG_FILE_NAMES, ConfigError, discover, load, nearest, parse};
use values::null_as_default;
pub use values::{
    ConfigString, DurationValue, MAX_DURATION, check_timeout, parse_duration, show_duration,
};

/// Range checks for numbers and durations, as `deserialize_with` functions: an error raised while
/// the value is read carries the value's line and column, which a check after parsing would not.
mod limit;

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

/// The PostgreSQL version a set without `postgres_version:` is judged for.
pub const DEFAULT_POSTGRES_VERSION: u32 = 15;

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

#[cfg(test)]
mod tests;
