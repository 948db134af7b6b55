//! The one fixture layout and the code that runs a fixture through its check.
//!
//! ```text
//! tests/fixtures/<check>/<rule name>/fail[-<what>].<ext>   must raise the rule
//! tests/fixtures/<check>/<rule name>/pass[-<what>].<ext>   must not raise it
//! tests/fixtures/<check>/<rule name>/quiet[-<what>].<ext>  must not raise it (a false-alarm guard)
//! tests/fixtures/<check>/quiet/<what>.<ext>                must raise nothing unwaived at warn or fail
//! ```
//!
//! A fixture is one input of its check: a `.sql` migration file (`migrations`), a `.yaml`
//! manifest stream (`rollout`, `readiness`, `grace`, `rollback`), or for `compat` a folder
//! holding the deployed and the new version side by side (`old.<ext>`/`new.<ext>` files, or
//! `old/`/`new/` trees of `.proto` files); a rollout rule that compares with the deployed
//! version has folders holding `deployed.yaml` (the base) and `new.yaml`. Other entries of a rule folder support its fixtures:
//! `schema.sql` (earlier migrations that give the tables a fixture changes) and, inside a compat
//! fixture, `expect.txt` (lines one of the rule's messages must contain).

use gonogo::checks::compat::model::{Comparison, Pair, Version};
use gonogo::checks::compat::{avro, jsonschema, openapi, proto};
use gonogo::checks::migrations::{MigrationFile, Settings, analyze_files};
use gonogo::checks::{grace, readiness, rollback, rollout};
use gonogo::config::{Dialect, ProtoLevel, TransactionMode};
use gonogo::k8s::base::Deployed;
use gonogo::k8s::{Manifests, parse_stream};
use gonogo::report::Finding;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The root of the fixture tree.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A fixture by its path under tests/fixtures, e.g. `rollout/capacity-drops/fail-hpa.yaml`.
pub fn path(relative: &str) -> PathBuf {
    let path = root().join(relative);
    assert!(path.exists(), "no fixture {}", path.display());
    path
}

/// What a fixture's name says it must do to its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    Raise,
    NotRaise,
}

/// `fail*` raises, `pass*` and `quiet*` do not; anything else is a support file.
pub fn expectation(name: &str) -> Option<Expect> {
    if name.starts_with("fail") {
        Some(Expect::Raise)
    } else if name.starts_with("pass") || name.starts_with("quiet") {
        Some(Expect::NotRaise)
    } else {
        None
    }
}

/// Entries of `dir` (files and folders), sorted by name.
pub fn entries(dir: &Path) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .collect();
    out.sort();
    out
}

pub fn name_of(path: &Path) -> String {
    path.file_name().unwrap().to_string_lossy().to_string()
}

/// Run one fixture of `check` through the code the check runs. `Err` when the input itself is
/// unusable (a compat pair that does not compile): a fixture must be a valid input.
pub fn findings_of(check: &str, fixture: &Path) -> Result<Vec<Finding>, String> {
    let mut findings = analysis_of(check, fixture)?;
    // What the run's waiver layer does with the annotations the checks record on findings.
    gonogo::waivers::apply_annotations(&mut findings);
    Ok(findings)
}

fn analysis_of(check: &str, fixture: &Path) -> Result<Vec<Finding>, String> {
    match check {
        "migrations" => Ok(migrations(fixture)),
        "rollout" if fixture.is_dir() => rollout_against_base(fixture),
        "rollout" => manifests(fixture).map(|m| rollout::analyze(&m).findings),
        "readiness" => manifests(fixture).map(|m| readiness::analyze(&m).findings),
        "grace" => manifests(fixture).map(|m| {
            let mut settings = grace::Settings::default();
            for (key, value) in k8s_fixture_header(fixture) {
                match key.as_str() {
                    "max_request_seconds" => settings.max_request_seconds = Some(value),
                    "lb_deregistration_seconds" => settings.lb_deregistration_seconds = Some(value),
                    "margin_seconds" => settings.margin_seconds = Some(value),
                    other => panic!("{}: unknown fixture setting {other}", fixture.display()),
                }
            }
            grace::analyze(&m, &settings).findings
        }),
        "rollback" if fixture.extension().is_some_and(|e| e == "sql") => {
            Ok(rollback_database(fixture))
        }
        "rollback" => manifests(fixture).map(|m| {
            let mut settings = rollback::Settings::default();
            for (key, value) in k8s_fixture_header(fixture) {
                match key.as_str() {
                    "target_seconds" => settings.target_seconds = Some(value),
                    "detection_budget_seconds" => settings.detection_budget_seconds = Some(value),
                    other => panic!("{}: unknown fixture setting {other}", fixture.display()),
                }
            }
            rollback::analyze(&m, &settings).findings
        }),
        "compat" => {
            let comparison = compat(fixture, ProtoLevel::default());
            if comparison.errors.is_empty() {
                Ok(comparison.findings)
            } else {
                let errors: Vec<String> = comparison.errors.iter().map(|e| e.to_string()).collect();
                Err(errors.join("; "))
            }
        }
        other => Err(format!("no static fixtures for the check `{other}`")),
    }
}

/// The findings of a fixture that must be a valid input; panics with the reason otherwise.
pub fn findings(check: &str, fixture: &Path) -> Vec<Finding> {
    findings_of(check, fixture).unwrap_or_else(|e| panic!("{}: {e}", fixture.display()))
}

/// A manifest fixture's first line `# fixture: margin_seconds=5, max_request_seconds=1` sets
/// the check's settings (the config keys of its section).
fn k8s_fixture_header(path: &Path) -> Vec<(String, f64)> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let Some(header) = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("# fixture:"))
    else {
        return Vec::new();
    };
    header
        .split(',')
        .map(|pair| {
            let (key, value) = pair
                .trim()
                .split_once('=')
                .expect("key=value in fixture header");
            (
                key.to_string(),
                value.parse().expect("a number in fixture header"),
            )
        })
        .collect()
}

/// A rollout fixture folder compares two versions, as `gonogo check --base v1` does: `new.yaml`
/// is the working tree, `deployed.yaml` the manifests at v1 (without it, no base is known). Both
/// are read as `manifests.yaml`, the one path they share in a repository.
fn rollout_against_base(dir: &Path) -> Result<Vec<Finding>, String> {
    let read = |name: &str| -> Result<Option<Manifests>, String> {
        let path = dir.join(name);
        if !path.is_file() {
            return Ok(None);
        }
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        let mut manifests = Manifests::default();
        parse_stream(&mut manifests, "manifests.yaml", &text).map_err(|e| e.to_string())?;
        Ok(Some(manifests))
    };
    let new = read("new.yaml")?.ok_or("a rollout fixture folder holds new.yaml")?;
    let deployed = read("deployed.yaml")?.map(|manifests| Deployed {
        reference: "v1".to_string(),
        manifests,
        unreadable: Vec::new(),
        reads_stdin: false,
        kustomized_dirs: Vec::new(),
    });
    let base = deployed
        .as_ref()
        .ok_or("no deployed version is known (the fixture has no deployed.yaml)");
    Ok(rollout::analyze_against(base, &new).findings)
}

fn manifests(path: &Path) -> Result<Manifests, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let mut manifests = Manifests::default();
    parse_stream(&mut manifests, &name_of(path), &text).map_err(|e| e.to_string())?;
    Ok(manifests)
}

/// A migrations fixture is MySQL when its rule is a `mysql-` rule or its name has a `mysql`
/// word (`fail-mysql.sql`, `quiet/mysql-online-changes.sql`); PostgreSQL otherwise. A first
/// line `-- fixture: postgres_version=10, transaction=none` sets the check's settings.
fn migration_settings(path: &Path, text: &str) -> Settings {
    let rule_folder = path.parent().map(name_of).unwrap_or_default();
    let stem = path.file_stem().unwrap().to_string_lossy().to_string();
    let mysql = rule_folder.starts_with("mysql-") || stem.split('-').any(|word| word == "mysql");
    let mut settings = Settings::default();
    if mysql {
        settings.dialect = Dialect::Mysql;
    }
    if let Some(header) = text
        .lines()
        .next()
        .and_then(|l| l.strip_prefix("-- fixture:"))
    {
        for pair in header.split(',') {
            let (key, value) = pair
                .trim()
                .split_once('=')
                .expect("key=value in fixture header");
            match key {
                "postgres_version" => settings.postgres_version = value.parse().unwrap(),
                "transaction" => {
                    settings.transaction = match value {
                        "per-file" => TransactionMode::PerFile,
                        "per-statement" => TransactionMode::PerStatement,
                        "none" => TransactionMode::None,
                        other => panic!("unknown transaction mode {other}"),
                    }
                }
                other => panic!("unknown fixture setting {other}"),
            }
        }
    }
    settings
}

/// The fixture as this deploy's migration, after `schema.sql` when one is beside it (an earlier
/// migration, not in the deploy: it gives the tables and column types the fixture changes).
fn fixture_files(path: &Path, text: String) -> Vec<MigrationFile> {
    let mut files = Vec::new();
    let schema = path.with_file_name("schema.sql");
    if schema.is_file() {
        files.push(MigrationFile {
            path: "schema.sql".to_string(),
            text: std::fs::read_to_string(schema).unwrap(),
            in_deploy: false,
            transaction: None,
        });
    }
    files.push(MigrationFile {
        path: name_of(path),
        text,
        in_deploy: true,
        transaction: None,
    });
    files
}

/// A `schema.sql` beside the fixture is an earlier migration (not in the deploy): it gives the
/// tables and column types the fixture's statements change.
fn migrations(path: &Path) -> Vec<Finding> {
    let text = std::fs::read_to_string(path).unwrap();
    let settings = migration_settings(path, &text);
    let files = fixture_files(path, text);
    analyze_files(&files, &settings, true)
}

/// A `rollback` SQL fixture: the database side over `schema.sql` (earlier migrations, when
/// beside it) and the fixture as this deploy's migration; its down is its own dbmate or goose
/// section. MySQL when its name has a `mysql` word, as for `migrations`.
fn rollback_database(path: &Path) -> Vec<Finding> {
    use gonogo::checks::rollback::database::{SetInput, analyze};
    let text = std::fs::read_to_string(path).unwrap();
    let settings = migration_settings(path, &text);
    let files = fixture_files(path, text);
    let input = SetInput {
        files: &files,
        dialect: settings.dialect,
        transaction: settings.transaction,
        deploy_is_known: true,
    };
    analyze(path.parent().unwrap(), &input).findings
}

/// Compare the two versions of a compat fixture folder with the comparer of their format:
/// `old/`+`new/` trees of `.proto` files; otherwise `old.avsc` (Avro, as
/// `schemas/order.avsc`), `old.json` (JSON Schema, as `spec.json`) or `old.yaml` (OpenAPI or
/// Swagger, as `spec.yaml`). `level` is for Protobuf only.
pub fn compat(dir: &Path, level: ProtoLevel) -> Comparison {
    assert!(dir.is_dir(), "no compat fixture {}", dir.display());
    if dir.join("old").is_dir() {
        return compare_proto_trees(
            proto_tree(&dir.join("old")),
            proto_tree(&dir.join("new")),
            level,
        );
    }
    let read = |file: &str| {
        std::fs::read_to_string(dir.join(file))
            .unwrap_or_else(|e| panic!("{}/{file}: {e}", dir.display()))
    };
    let pair = |path: &str, ext: &str| {
        (
            Version::from_files("v1", [(path.to_string(), read(&format!("old.{ext}")))]),
            Version::from_files(
                "working tree",
                [(path.to_string(), read(&format!("new.{ext}")))],
            ),
            [Pair::same(path)],
        )
    };
    if dir.join("old.avsc").is_file() {
        let (old, new, pairs) = pair("schemas/order.avsc", "avsc");
        avro::compare(&pairs, &old, &new)
    } else if dir.join("old.json").is_file() {
        let (old, new, pairs) = pair("spec.json", "json");
        jsonschema::compare(&pairs, &old, &new)
    } else if dir.join("old.yaml").is_file() {
        let (old, new, pairs) = pair("spec.yaml", "yaml");
        openapi::compare(&pairs, &old, &new)
    } else {
        panic!(
            "{}: a compat fixture holds old.<ext> and new.<ext>, or old/ and new/",
            dir.display()
        )
    }
}

/// Every `.proto` under `dir`, keyed by its path relative to `dir`.
pub fn proto_tree(dir: &Path) -> BTreeMap<String, String> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                walk(root, &path, out);
            } else if path.extension().is_some_and(|e| e == "proto") {
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                out.insert(relative, std::fs::read_to_string(&path).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

/// Compare two trees of files: every file present in both is a pair; files only in the old
/// tree are compared too (against nothing), as a deleted file's types are gone.
pub fn compare_proto_trees(
    old: BTreeMap<String, String>,
    new: BTreeMap<String, String>,
    level: ProtoLevel,
) -> Comparison {
    let pairs: Vec<Pair> = old
        .keys()
        .filter(|p| new.contains_key(*p))
        .map(Pair::same)
        .collect();
    let old = Version::from_files("v1", old);
    let new = Version::from_files("working tree", new);
    proto::compare(&pairs, &old, &new, level)
}

/// One line per finding, for failure messages.
pub fn describe(findings: &[Finding]) -> String {
    if findings.is_empty() {
        return "  (none)".to_string();
    }
    findings
        .iter()
        .map(|f| {
            let location = f
                .location
                .as_ref()
                .map(|l| l.to_string())
                .unwrap_or_default();
            format!("  {location} {} {}: {}", f.severity, f.rule, f.message)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every field of every finding, for snapshots: a changed message, location or fix is a
/// reviewed snapshot change.
pub fn render_full(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let location = f
            .location
            .as_ref()
            .map_or_else(|| "(no location)".to_string(), |l| l.to_string());
        out.push_str(&format!("- {} {} at {location}\n", f.severity, f.rule));
        let mut field = |label: &str, value: &str| {
            let mut lines = value.lines();
            out.push_str(&format!("  {label}: {}\n", lines.next().unwrap_or("")));
            for line in lines {
                out.push_str(&format!("    {line}\n"));
            }
        };
        field("message", &f.message);
        if let Some(evidence) = &f.evidence {
            field("evidence", evidence);
        }
        if let Some(fix) = &f.fix {
            field("fix", fix);
        }
        if let Some(waived) = &f.waived {
            field("waived", &waived.reason);
        }
    }
    out
}
