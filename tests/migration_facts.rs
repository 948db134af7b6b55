//! Migration files are followed once per run (issue 15): the `migrations` check, the database
//! side of `compat` and of `rollback` read the facts the context followed for each set, with the
//! set's settings. End to end in real git repositories built here (a tag is the deployed
//! version, this deploy's migrations are in the working tree); `GONOGO_DEBUG=facts` makes a run
//! say on stderr each time a set is followed. Also: compat judges every set, not only the first.

use crate::common;
use common::*;
use gonogo::checks::migrations::{MigrationFile, Settings, analyze_files};
use gonogo::config::Dialect;
use serde_json::Value;

/// A git repository with `files` committed and tagged `v1`.
fn released(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = project(files);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-qm", "v1"]);
    git(dir.path(), &["tag", "v1"]);
    dir
}

/// Two databases: PostgreSQL `main` and MySQL `reports`, each its own migrations.
const TWO_SETS: &str = "checks:
  migrations:
    - name: main
      paths: [\"db/main/*.sql\"]
      postgres_version: 11
      transaction: per-statement
    - name: reports
      paths: [\"db/reports/*.sql\"]
      dialect: mysql
  compat:
    database:
      code_paths: [\"src/\"]
";

/// Deployed code that reads a column of each database.
const CODE: &str = "def orders():
    return db.query(\"SELECT id, legacy_note FROM orders\")

def daily():
    return reports.query(\"SELECT day, legacy_total FROM daily_totals\")
";

fn two_databases() -> tempfile::TempDir {
    let dir = released(&[
        ("gonogo.yaml", TWO_SETS),
        ("src/app.py", CODE),
        (
            "db/main/001_orders.sql",
            "CREATE TABLE orders (id bigint PRIMARY KEY, legacy_note text);\n",
        ),
        (
            "db/main/002_customers.sql",
            "CREATE TABLE customers (id bigint PRIMARY KEY);\n",
        ),
        (
            "db/reports/001_daily.sql",
            "CREATE TABLE daily_totals (day date PRIMARY KEY, legacy_total int);\n",
        ),
    ]);
    write(
        dir.path(),
        "db/main/003_drop_note.sql",
        "ALTER TABLE orders DROP COLUMN legacy_note;\n",
    );
    write(
        dir.path(),
        "db/reports/002_drop_total.sql",
        "ALTER TABLE daily_totals DROP COLUMN legacy_total;\n",
    );
    dir
}

/// `gonogo check --only migrations,compat,rollback --format json`, with `GONOGO_DEBUG=facts`.
fn three_checks(dir: &std::path::Path) -> (Run, Value) {
    let out = run(gonogo()
        .arg("check")
        .arg(dir)
        .args(["--only", "migrations,compat,rollback", "--base", "v1"])
        .args(["--format", "json"])
        .env("GONOGO_DEBUG", "facts"));
    let report = serde_json::from_str(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "JSON report expected ({e}): stdout {} stderr {}",
            out.stdout, out.stderr
        )
    });
    (out, report)
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|checks| checks.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("a {id} result in {report}"))
}

fn messages<'a>(check: &'a Value, rule: &str) -> Vec<&'a str> {
    findings(check, rule)
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect()
}

#[test]
fn three_checks_read_each_set_followed_once() {
    let dir = two_databases();
    let (out, report) = three_checks(dir.path());
    // Each set is followed exactly once, whichever of the three checks asked first.
    let followed: Vec<&str> = out
        .stderr
        .lines()
        .filter(|l| l.starts_with("gonogo debug facts: "))
        .collect();
    let mut sorted = followed.clone();
    sorted.sort();
    assert_eq!(
        sorted,
        vec![
            "gonogo debug facts: followed migration set main (3 files)",
            "gonogo debug facts: followed migration set reports (2 files)",
        ],
        "stderr: {}",
        out.stderr
    );
    // And all three read them: each judges both databases.
    let migrations = check(&report, "migrations");
    let summary = migrations["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("main: ") && summary.contains("; reports: "),
        "{summary}"
    );
    let rollback = check(&report, "rollback");
    let irreversible = messages(rollback, "rollback/irreversible-migration");
    assert_eq!(irreversible.len(), 2, "{rollback:#}");
    assert!(irreversible.iter().any(|m| m.contains("legacy_note")));
    assert!(irreversible.iter().any(|m| m.contains("legacy_total")));
    let compat = check(&report, "compat");
    let drops = messages(compat, "compat/db-column-still-used");
    assert_eq!(drops.len(), 2, "{compat:#}");
}

#[test]
fn compat_judges_every_migration_set_and_names_it() {
    let dir = two_databases();
    let (_, report) = three_checks(dir.path());
    let compat = check(&report, "compat");
    let mut drops = messages(compat, "compat/db-column-still-used");
    drops.sort();
    assert_eq!(drops.len(), 2, "{compat:#}");
    assert!(
        drops[0].starts_with("[main] ") && drops[0].contains("orders.legacy_note"),
        "{drops:?}"
    );
    assert!(
        drops[1].starts_with("[reports] ") && drops[1].contains("daily_totals.legacy_total"),
        "{drops:?}"
    );
    let summary = compat["summary"].as_str().unwrap();
    assert!(
        summary.contains(
            "database: main: 1 change of this deploy checked against the deployed code; reports: 1 change of this deploy checked against the deployed code; searched 1 file under src/ at v1"
        ),
        "{summary}"
    );
}

#[test]
fn a_set_without_changes_old_code_notices_is_named_in_the_summary() {
    let dir = two_databases();
    // Only the reports database changes what the code reads.
    std::fs::remove_file(dir.path().join("db/main/003_drop_note.sql")).unwrap();
    write(
        dir.path(),
        "db/main/003_index.sql",
        "CREATE INDEX CONCURRENTLY customers_id ON customers (id);\n",
    );
    let (_, report) = three_checks(dir.path());
    let compat = check(&report, "compat");
    let drops = messages(compat, "compat/db-column-still-used");
    assert_eq!(drops.len(), 1, "{compat:#}");
    assert!(drops[0].starts_with("[reports] "), "{drops:?}");
    let summary = compat["summary"].as_str().unwrap();
    assert!(
        summary.contains("database: main: no migration of this deploy (1 of 3 files) drops, renames or constrains what the deployed code can use; reports: 1 change"),
        "{summary}"
    );
}

/// The set's settings reach the facts the migrations check reads (PostgreSQL 11, one
/// transaction per statement), although compat and rollback read the same facts.
#[test]
fn the_facts_are_followed_with_the_sets_settings() {
    let dir = two_databases();
    // CONCURRENTLY is refused inside a transaction; per-statement runs it outside one.
    write(
        dir.path(),
        "db/main/004_index.sql",
        "CREATE INDEX CONCURRENTLY orders_id ON orders (id);\nCREATE INDEX CONCURRENTLY customers_id ON customers (id);\n",
    );
    let (out, report) = three_checks(dir.path());
    let migrations = check(&report, "migrations");
    assert!(
        findings(migrations, "migrations/pg-concurrently-in-transaction").is_empty(),
        "{migrations:#}"
    );
    assert_eq!(
        out.stderr
            .matches("gonogo debug facts: followed migration set main (4 files)")
            .count(),
        1,
        "{}",
        out.stderr
    );
}

/// A goose file's down section runs on rollback, never in the deploy: MySQL follows only the
/// up section, as PostgreSQL always did (the down's DROP COLUMN was reported as this deploy's).
#[test]
fn a_mysql_down_section_is_not_judged_as_the_deploy() {
    let settings = Settings {
        dialect: Dialect::Mysql,
        ..Settings::default()
    };
    let file = |path: &str, text: &str, in_deploy: bool| MigrationFile {
        path: path.to_string(),
        text: text.to_string(),
        in_deploy,
        transaction: None,
    };
    let findings = analyze_files(
        &[
            file(
                "001.sql",
                "CREATE TABLE orders (id bigint PRIMARY KEY);\n",
                false,
            ),
            file(
                "002.sql",
                "-- +goose Up\nALTER TABLE orders ADD COLUMN note text NULL, ALGORITHM=INSTANT;\n-- +goose Down\nALTER TABLE orders DROP COLUMN note;\n",
                true,
            ),
        ],
        &settings,
        true,
    );
    let lines: Vec<(String, Option<u32>)> = findings
        .iter()
        .map(|f| (f.rule.to_string(), f.location.as_ref().and_then(|l| l.line)))
        .collect();
    assert!(
        lines.iter().all(|(_, line)| *line != Some(4)),
        "nothing of the down section (line 4) is judged: {lines:?}"
    );
}

/// Only `sql/` turns migration files into facts: no check builds a follower of its own (a
/// PostgreSQL `FollowOptions`, a MySQL `Walker`), so none can follow a file a second time or with
/// other settings; they read `Context::migration_facts` (or, in their test entry points,
/// `sql::followed::follow_files`).
#[test]
fn no_check_follows_migration_files_itself() {
    let mut offenders = Vec::new();
    for path in files_under(&repo_root().join("src")) {
        let shown = path
            .strip_prefix(repo_root())
            .unwrap()
            .display()
            .to_string();
        if shown.starts_with("src/sql/") || path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (index, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            if line.contains("FollowOptions")
                || line.contains("facts::Walker")
                || line.contains("Walker::for_deploy")
                || line.contains("sql::postgres::{follow")
                || line.contains("sql::postgres::follow(")
            {
                offenders.push(format!("{shown}:{}: {}", index + 1, line.trim()));
            }
        }
    }
    assert!(offenders.is_empty(), "{offenders:#?}");
}
