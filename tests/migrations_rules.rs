//! Every migrations rule against its fixtures: `fail*.sql` must raise the rule, `pass*.sql` must
//! not, and every file under `quiet/` must raise nothing at warn or fail (false-alarm guards).
//! A first line `-- fixture: postgres_version=10, transaction=none` sets the check's settings.

use gonogo::checks::migrations::{LIVE_RULES, MigrationFile, RULES, Settings, analyze_files};
use gonogo::config::TransactionMode;
use gonogo::report::Finding;
use std::path::{Path, PathBuf};

use crate::common;
use common::fixtures::{check_rule_folders, describe, loud_quiet_fixtures};

fn fixtures(dialect: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/migrations")
        .join(dialect)
}

fn settings_for(text: &str) -> Settings {
    let mut settings = Settings::default();
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

/// Analyse one fixture. A `schema.sql` beside it is an earlier migration (not in the deploy): it
/// gives the tables and column types the fixture's statements change.
fn analyze(path: &Path) -> Vec<Finding> {
    let text = std::fs::read_to_string(path).unwrap();
    let settings = settings_for(&text);
    let mut files = Vec::new();
    let schema = path.with_file_name("schema.sql");
    if schema.is_file() {
        files.push(MigrationFile {
            path: "schema.sql".to_string(),
            text: std::fs::read_to_string(schema).unwrap(),
            in_deploy: false,
        });
    }
    files.push(MigrationFile {
        path: path.file_name().unwrap().to_string_lossy().to_string(),
        text,
        in_deploy: true,
    });
    analyze_files(&files, &settings, true)
}

#[test]
fn every_postgres_rule_has_a_failing_and_a_passing_fixture_that_behave() {
    // Rules about files and config, not statements, are tested end to end (migrations_cli.rs);
    // those of the live part against a real PostgreSQL (migrations_live.rs).
    let rules: Vec<&str> = RULES
        .iter()
        .filter(|r| !LIVE_RULES.iter().any(|live| live.id == r.id))
        .map(|r| r.id)
        .filter(|id| !id.starts_with("migrations/mysql-"))
        .filter(|id| {
            !matches!(
                *id,
                "migrations/unreadable-file" | "migrations/unmatched-path"
            )
        })
        .collect();
    assert!(rules.len() >= 20, "only {} rules", rules.len());
    let problems = check_rule_folders(
        &rules,
        &fixtures("pg"),
        &["sql"],
        &|id| id.trim_start_matches("migrations/").to_string(),
        &analyze,
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

#[test]
fn quiet_fixtures_raise_no_warning_or_failure() {
    let problems = loud_quiet_fixtures(&fixtures("pg").join("quiet"), &["sql"], &analyze);
    assert!(
        problems.is_empty(),
        "false alarms:\n{}",
        problems.join("\n\n")
    );
}

#[test]
fn findings_point_at_the_statement() {
    let text = "SET lock_timeout = '2s';\n\n-- a comment\nCREATE INDEX orders_status_idx\n  ON orders (status);\n";
    let file = MigrationFile {
        path: "db/0007.sql".into(),
        text: text.into(),
        in_deploy: true,
    };
    let findings = analyze_files(&[file], &Settings::default(), false);
    let finding = findings
        .iter()
        .find(|f| f.rule == "migrations/pg-add-index-not-concurrent")
        .expect("finding");
    assert_eq!(
        finding.location.as_ref().unwrap().to_string(),
        "db/0007.sql:4:1"
    );
    assert!(
        finding
            .fix
            .as_deref()
            .unwrap()
            .contains("CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);"),
        "{:?}",
        finding.fix
    );
}

#[test]
fn older_files_give_column_types_and_no_findings() {
    let old = MigrationFile {
        path: "0001.sql".into(),
        text: "CREATE TABLE orders (id bigint, note varchar(64), amount integer);\nCREATE INDEX a ON orders (id);\n".into(),
        in_deploy: false,
    };
    let new = MigrationFile {
        path: "0002.sql".into(),
        text: "SET lock_timeout = '1s';\nALTER TABLE orders ALTER COLUMN note TYPE varchar(128);\nALTER TABLE orders ALTER COLUMN amount TYPE bigint;\n".into(),
        in_deploy: true,
    };
    let findings = analyze_files(&[old, new], &Settings::default(), true);
    let types: Vec<&Finding> = findings
        .iter()
        .filter(|f| f.rule == "migrations/pg-alter-column-type")
        .collect();
    assert_eq!(types.len(), 1, "{}", describe(&findings));
    assert!(
        types[0].message.contains("TYPE bigint from integer"),
        "{}",
        types[0].message
    );
    assert!(
        findings
            .iter()
            .all(|f| f.location.as_ref().unwrap().path == "0002.sql")
    );
}

#[test]
fn live_rules_are_registered_with_the_check() {
    for rule in LIVE_RULES {
        assert!(
            RULES.iter().any(|r| r.id == rule.id),
            "{} is not in migrations::RULES",
            rule.id
        );
    }
}
