//! Every migrations rule against its fixtures: `fail*.sql` must raise the rule, `pass*.sql` must
//! not, and every file under `quiet/` must raise nothing at warn or fail (false-alarm guards).
//! A first line `-- fixture: postgres_version=10, transaction=none` sets the check's settings.

use gonogo::checks::migrations::{MigrationFile, RULES, Settings, analyze_files};
use gonogo::config::TransactionMode;
use gonogo::report::{Finding, Severity};
use std::path::{Path, PathBuf};

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

fn describe(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| {
            format!(
                "  {} {} {}: {}",
                f.location
                    .as_ref()
                    .map(|l| l.to_string())
                    .unwrap_or_default(),
                f.severity,
                f.rule,
                f.message
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn sql_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    files.sort();
    files
}

#[test]
fn every_postgres_rule_has_a_failing_and_a_passing_fixture_that_behave() {
    let mut problems = Vec::new();
    let mut checked_rules = 0;
    for rule in RULES
        .iter()
        .filter(|r| !r.id.starts_with("migrations/mysql-"))
    {
        let name = rule.id.trim_start_matches("migrations/");
        let dir = fixtures("pg").join(name);
        if !dir.is_dir() {
            // Rules about files and config, not statements, are tested end to end instead.
            if matches!(name, "unreadable-file" | "unmatched-path") {
                continue;
            }
            problems.push(format!("{}: no fixture folder {}", rule.id, dir.display()));
            continue;
        }
        checked_rules += 1;
        let files = sql_files(&dir);
        let (mut fails, mut passes) = (0, 0);
        for file in &files {
            let stem = file.file_stem().unwrap().to_string_lossy().to_string();
            let findings = analyze(file);
            let hits: Vec<&Finding> = findings.iter().filter(|f| f.rule == rule.id).collect();
            if stem.starts_with("fail") {
                fails += 1;
                if hits.is_empty() {
                    problems.push(format!(
                        "{}: {} raised nothing of it; findings:\n{}",
                        rule.id,
                        file.display(),
                        describe(&findings)
                    ));
                }
            } else if stem.starts_with("pass") {
                passes += 1;
                if !hits.is_empty() {
                    problems.push(format!(
                        "{}: {} should be quiet for it:\n{}",
                        rule.id,
                        file.display(),
                        describe(&findings)
                    ));
                }
            }
        }
        if fails == 0 || passes == 0 {
            problems.push(format!(
                "{}: needs fail*.sql and pass*.sql (has {fails} and {passes})",
                rule.id
            ));
        }
    }
    assert!(
        checked_rules >= 20,
        "only {checked_rules} rules have fixtures"
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
    let mut problems = Vec::new();
    for file in sql_files(&fixtures("pg").join("quiet")) {
        let findings = analyze(&file);
        let loud: Vec<Finding> = findings
            .into_iter()
            .filter(|f| f.severity != Severity::Info)
            .collect();
        if !loud.is_empty() {
            problems.push(format!("{}:\n{}", file.display(), describe(&loud)));
        }
    }
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
