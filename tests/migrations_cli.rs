//! The migrations check end to end: this deploy's files selected with git, discovery without a
//! config, waivers on migration findings, and bad input (not UTF-8, empty, huge, not SQL, an
//! unclosed dollar quote, a path that matches nothing) reported clearly, never a panic.

use crate::common;
use common::*;

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr))
}

fn migrations(report: &serde_json::Value) -> &serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "migrations")
        .expect("migrations check")
}

fn rules(check: &serde_json::Value) -> Vec<String> {
    check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

const CONFIG: &str = "checks:\n  migrations:\n    paths: [\"db/migrations/*.sql\"]\n";

#[test]
fn only_migrations_changed_since_the_base_are_checked() {
    let dir = project(&[
        ("gonogo.yaml", CONFIG),
        (
            "db/migrations/0001_init.sql",
            "CREATE TABLE orders (id bigint PRIMARY KEY, amount integer);\n",
        ),
        (
            "db/migrations/0002_old_index.sql",
            "CREATE INDEX orders_amount_idx ON orders (amount);\n",
        ),
    ]);
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-qm", "v1"]);
    git(dir.path(), &["tag", "v1.0.0"]);
    write(
        dir.path(),
        "db/migrations/0003_amount_bigint.sql",
        "SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN amount TYPE bigint;\n",
    );
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-qm", "v2"]);

    let report = json(&run(gonogo().arg("check").arg(dir.path()).args([
        "--format",
        "json",
        "--only",
        "migrations",
    ])));
    let check = migrations(&report);
    assert_eq!(report["base"], "v1.0.0");
    assert_eq!(
        rules(check),
        ["migrations/pg-alter-column-type"],
        "0002's index predates the base: {check}"
    );
    let finding = &check["findings"][0];
    assert_eq!(
        finding["location"]["path"],
        "db/migrations/0003_amount_bigint.sql"
    );
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("TYPE bigint from integer"),
        "{finding}"
    );
    assert!(
        check["summary"]
            .as_str()
            .unwrap()
            .starts_with("1 of 3 migration files changed since v1.0.0"),
        "{check}"
    );

    // An untracked new migration is part of the deploy too.
    write(
        dir.path(),
        "db/migrations/0004_idx.sql",
        "SET lock_timeout = '2s';\nCREATE INDEX orders_id_amount ON orders (id, amount);\n",
    );
    let report = json(&run(gonogo().arg("check").arg(dir.path()).args([
        "--format",
        "json",
        "--only",
        "migrations",
    ])));
    assert!(
        rules(migrations(&report)).contains(&"migrations/pg-add-index-not-concurrent".to_string())
    );
}

#[test]
fn discovery_without_config_finds_migrations_and_says_what_it_guessed() {
    let dir = project(&[
        (
            "app/migrations/2024-01-01-000000_init/up.sql",
            "CREATE TABLE posts (id serial PRIMARY KEY);\n",
        ),
        (
            "app/migrations/2024-01-01-000000_init/down.sql",
            "DROP TABLE posts;\n",
        ),
        (
            "app/migrations/2024-02-01-000000_idx/up.sql",
            "CREATE INDEX posts_id ON posts (id);\n",
        ),
    ]);
    let report = json(&run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json"])));
    let check = migrations(&report);
    let summary = check["summary"].as_str().unwrap();
    assert!(summary.contains("guessed PostgreSQL"), "{summary}");
    let found = rules(check);
    assert!(
        found.contains(&"migrations/pg-add-index-not-concurrent".to_string()),
        "{check}"
    );
    assert!(
        !found.contains(&"migrations/drop-table".to_string()),
        "down migrations are rollbacks, not part of a deploy: {check}"
    );
}

#[test]
fn nothing_to_check_is_a_skip_with_the_reason() {
    let dir = project(&[("README.md", "hi\n")]);
    let report = json(&run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json"])));
    let check = migrations(&report);
    assert_eq!(check["status"], "skip");
    assert!(
        check["summary"]
            .as_str()
            .unwrap()
            .contains("no migrations found")
    );
}

#[test]
fn waivers_apply_to_migration_findings() {
    let dir = project(&[
        (
            "gonogo.yaml",
            &format!(
                "{CONFIG}waivers:\n  - {{rule: migrations/pg-missing-lock-timeout, reason: \"runner sets lock_timeout\"}}\n"
            ),
        ),
        (
            "db/migrations/0001_idx.sql",
            "-- gonogo:ignore migrations/pg-add-index-not-concurrent audit_log has 12 rows\nCREATE INDEX audit_log_at ON audit_log (at);\n",
        ),
    ]);
    let run = run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json"]));
    assert_eq!(run.code, 0, "every finding is waived: {}", run.stdout);
    let report = json(&run);
    let check = migrations(&report);
    assert_eq!(check["status"], "pass");
    let sources: Vec<&str> = check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["waived"]["source"].as_str().unwrap())
        .collect();
    assert_eq!(sources.len(), 2);
    assert!(sources.contains(&"inline") && sources.contains(&"config"));
}

#[test]
fn explain_prints_a_migration_rule() {
    let run = run(gonogo().args(["explain", "migrations/pg-add-index-not-concurrent"]));
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("CREATE INDEX CONCURRENTLY"));
    assert!(run.stdout.contains("## Why it matters during a deploy"));
    let check = run_gonogo(&["explain", "migrations"]);
    assert!(
        check.stdout.contains("migrations/pg-set-not-null"),
        "{}",
        check.stdout
    );
}

fn run_gonogo(args: &[&str]) -> Run {
    run(gonogo().args(args))
}

#[test]
fn bad_input_is_reported_with_the_file_and_never_panics() {
    let dir = project(&[
        (
            "gonogo.yaml",
            "checks:\n  migrations:\n    paths: [\"db/*.sql\", \"db/typo/*.sql\"]\n",
        ),
        ("db/0001_empty.sql", ""),
        (
            "db/0002_prose.sql",
            "This migration adds the orders table.\nIt is not SQL at all.\n",
        ),
        (
            "db/0003_unclosed.sql",
            "SET lock_timeout = '1s';\nDO $$\nBEGIN\n  PERFORM 1;\n",
        ),
    ]);
    std::fs::write(
        dir.path().join("db/0004_latin1.sql"),
        b"-- caf\xe9\nSELECT 1;\n",
    )
    .unwrap();
    let big = "-- padding\n".repeat(1_000_000);
    std::fs::write(dir.path().join("db/0005_huge.sql"), big).unwrap();

    let run = run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json"]));
    assert!(!run.stderr.contains("panic"), "{}", run.stderr);
    let report = json(&run);
    let check = migrations(&report);
    let findings = check["findings"].as_array().unwrap();
    let about = |path: &str| -> Vec<&serde_json::Value> {
        findings
            .iter()
            .filter(|f| f["location"]["path"].as_str().unwrap_or("").ends_with(path))
            .collect()
    };
    assert_eq!(about("0001_empty.sql")[0]["severity"], "info");
    // The summary never calls statements nobody read clean.
    assert!(
        check["summary"]
            .as_str()
            .unwrap()
            .contains("statements gonogo could not read (not judged)"),
        "{}",
        check["summary"]
    );
    // PostgreSQL's grammar rejects both: the migration fails when it runs.
    assert_eq!(
        about("0002_prose.sql")[0]["rule"],
        "migrations/pg-syntax-error"
    );
    let unclosed = about("0003_unclosed.sql");
    assert_eq!(unclosed[0]["rule"], "migrations/pg-syntax-error");
    assert_eq!(
        unclosed[0]["location"]["line"], 2,
        "points at the DO block: {unclosed:?}"
    );
    let latin1 = about("0004_latin1.sql");
    assert_eq!(latin1[0]["rule"], "migrations/unreadable-file");
    assert_eq!(latin1[0]["location"]["line"], 1);
    assert!(
        about("0005_huge.sql")[0]["message"]
            .as_str()
            .unwrap()
            .contains("MB")
    );
    let typo = findings
        .iter()
        .find(|f| f["rule"] == "migrations/unmatched-path")
        .expect("unmatched path");
    assert!(typo["message"].as_str().unwrap().contains("db/typo/*.sql"));
    assert_eq!(
        check["status"], "fail",
        "an unreadable file blocks: nobody checked it"
    );
}
