//! The fuzz targets: each feeds one input to one of gonogo's parsers and to the analysis that
//! reads what it parsed. The property is the same for all: no panic, and an answer within a bound
//! (the harness measures that). One file, shared by the stable in-repo harness (`tests/fuzz.rs`,
//! which replays `fuzz/corpus/` and mutates it) and the cargo-fuzz targets (`fuzz/fuzz_targets/`,
//! for whoever has a nightly toolchain).

use gonogo::checks::compat::model::{Pair, Version};
use gonogo::checks::compat::{avro, jsonschema, openapi, proto};
use gonogo::checks::migrations::{MigrationFile, Settings, analyze_files};
use gonogo::config::{Dialect, ProtoLevel};
use gonogo::k8s::{Manifests, parse_stream};

/// One fuzz target: any input, no panic.
pub type Target = fn(&[u8]);

/// Every target by name; the name is also its folder under `fuzz/corpus/`.
pub const TARGETS: &[(&str, Target)] = &[
    ("config", config),
    ("manifests", manifests),
    ("pg", pg_migrations),
    ("mysql", mysql_migrations),
    ("openapi", openapi_schemas),
    ("avro", avro_schemas),
    ("jsonschema", json_schemas),
    ("proto", proto_schemas),
];

/// In a schema input, a line holding only this separates the deployed version (before it) from
/// the new one (after it); without it both versions are the input itself.
pub const NEW_VERSION_LINE: &str = "@@new@@";

fn text(data: &[u8]) -> String {
    String::from_utf8_lossy(data).into_owned()
}

/// `gonogo.yaml`: parsed and validated (an error is a fine answer, a panic is not).
pub fn config(data: &[u8]) {
    let _ = gonogo::config::parse(&text(data), "gonogo.yaml");
}

/// A manifest stream, then every static Kubernetes check over what it held.
pub fn manifests(data: &[u8]) {
    let mut manifests = Manifests::default();
    if parse_stream(&mut manifests, "deploy/app.yaml", &text(data)).is_err() {
        return;
    }
    let _ = gonogo::checks::rollout::analyze(&manifests);
    let _ = gonogo::checks::readiness::analyze(&manifests);
    let _ = gonogo::checks::grace::analyze(&manifests, &Default::default());
    let _ = gonogo::checks::rollback::analyze(&manifests, &Default::default());
}

fn migrations(data: &[u8], dialect: Dialect) {
    let file = MigrationFile {
        path: "db/migrations/0001_fuzz.sql".to_string(),
        text: text(data),
        in_deploy: true,
        transaction: None,
    };
    let settings = Settings {
        dialect,
        ..Settings::default()
    };
    let _ = analyze_files(&[file], &settings, true);
}

/// A PostgreSQL migration through libpg_query and the migration rules.
pub fn pg_migrations(data: &[u8]) {
    migrations(data, Dialect::Postgres);
}

/// A MySQL migration through sqlparser, gonogo's own fallback and the migration rules.
pub fn mysql_migrations(data: &[u8]) {
    migrations(data, Dialect::Mysql);
}

/// The deployed and the new version of one schema file named `path`.
fn versions(data: &[u8], path: &str) -> (Version, Version) {
    let whole = text(data);
    let separator = format!("\n{NEW_VERSION_LINE}\n");
    let (old, new) = match whole.split_once(&separator) {
        Some((old, new)) => (old.to_string(), new.to_string()),
        None => (whole.clone(), whole),
    };
    (
        Version::from_files("v1", [(path, old)]),
        Version::from_files("working tree", [(path, new)]),
    )
}

pub fn openapi_schemas(data: &[u8]) {
    let (old, new) = versions(data, "api/openapi.yaml");
    let _ = openapi::compare(&[Pair::same("api/openapi.yaml")], &old, &new);
}

pub fn avro_schemas(data: &[u8]) {
    let (old, new) = versions(data, "schemas/event.avsc");
    let _ = avro::compare(&[Pair::same("schemas/event.avsc")], &old, &new);
}

pub fn json_schemas(data: &[u8]) {
    let (old, new) = versions(data, "schemas/event.schema.json");
    let _ = jsonschema::compare(&[Pair::same("schemas/event.schema.json")], &old, &new);
}

pub fn proto_schemas(data: &[u8]) {
    let (old, new) = versions(data, "proto/api.proto");
    let _ = proto::compare(
        &[Pair::same("proto/api.proto")],
        &old,
        &new,
        ProtoLevel::WireJson,
    );
}
