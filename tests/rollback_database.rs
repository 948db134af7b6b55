//! The database side of `rollback` (issue 22, point 1) end to end, in real git repositories
//! built here: a tag is the deployed version, this deploy's migrations are in the working tree.
//! Down files beside the ups (golang-migrate, popx's per-dialect files), Flyway undo scripts,
//! the summary beside the pods' skip, and an inline waiver.

use crate::common;
use common::*;
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

fn rollback(dir: &std::path::Path) -> (Run, Value) {
    check_only(dir, "rollback", &["--base", "v1"])
}

/// (rule, path, line, severity, waived) of every finding.
fn described(result: &Value) -> Vec<(String, String, u64, String, bool)> {
    result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_string(),
                f["location"]["path"].as_str().unwrap_or("").to_string(),
                f["location"]["line"].as_u64().unwrap_or(0),
                f["severity"].as_str().unwrap().to_string(),
                f.get("waived").is_some(),
            )
        })
        .collect()
}

const INIT_UP: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, total integer NOT NULL, note text);\nCREATE INDEX orders_total_idx ON orders (total);\n";
const INIT_DOWN: &str = "DROP TABLE orders;\n";

#[test]
fn golang_migrate_down_files_are_found_followed_and_judged() {
    let dir = released(&[
        ("db/migrations/1_init.up.sql", INIT_UP),
        ("db/migrations/1_init.down.sql", INIT_DOWN),
    ]);
    let root = dir.path();
    // A down that forgets the index its up dropped.
    write(
        root,
        "db/migrations/2_currency.up.sql",
        "ALTER TABLE orders ADD COLUMN currency text NOT NULL DEFAULT 'EUR';\nDROP INDEX orders_total_idx;\n",
    );
    write(
        root,
        "db/migrations/2_currency.down.sql",
        "ALTER TABLE orders DROP COLUMN currency;\n",
    );
    // No down at all.
    write(
        root,
        "db/migrations/3_refunds.up.sql",
        "CREATE TABLE refunds (id bigint PRIMARY KEY);\n",
    );
    // Destroys data, with a down that puts the schema back: the data is still gone.
    write(
        root,
        "db/migrations/4_drop_note.up.sql",
        "-- gonogo:ignore rollback/irreversible-migration nothing has read note since v0.9\nALTER TABLE orders DROP COLUMN note;\nTRUNCATE orders;\n",
    );
    write(
        root,
        "db/migrations/4_drop_note.down.sql",
        "ALTER TABLE orders ADD COLUMN note text;\n",
    );
    let (run, result) = rollback(root);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(result["status"], "fail");
    let s = |x: &str| x.to_string();
    assert_eq!(
        described(&result),
        vec![
            (
                s("rollback/down-does-not-undo"),
                s("db/migrations/2_currency.down.sql"),
                1,
                s("fail"),
                false
            ),
            (
                s("rollback/missing-down-migration"),
                s("db/migrations/3_refunds.up.sql"),
                1,
                s("warn"),
                false
            ),
            (
                s("rollback/irreversible-migration"),
                s("db/migrations/4_drop_note.up.sql"),
                2,
                s("warn"),
                true
            ),
            (
                s("rollback/irreversible-migration"),
                s("db/migrations/4_drop_note.up.sql"),
                3,
                s("warn"),
                false
            ),
        ]
    );
    let not_undone = &findings(&result, "rollback/down-does-not-undo")[0];
    assert!(
        not_undone["message"]
            .as_str()
            .unwrap()
            .ends_with("does not undo its up: after up and down, index orders_total_idx (ON orders (total)) is gone"),
        "{not_undone}"
    );
    let summary = result["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("database: 3 migrations of this deploy: 2 destroying data, 1 without a down, 1 whose down does not undo it; pods: no Kubernetes manifests found"),
        "{summary}"
    );
}

#[test]
fn per_dialect_ups_use_the_generic_down_and_flyway_undo_scripts_count() {
    let dir = released(&[
        ("sql/1_init.up.sql", INIT_UP),
        ("sql/1_init.down.sql", INIT_DOWN),
    ]);
    let root = dir.path();
    // popx: a PostgreSQL variant of the up, one generic down for every dialect.
    write(
        root,
        "sql/2_x.postgres.up.sql",
        "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;\n",
    );
    write(
        root,
        "sql/2_x.mysql.up.sql",
        "ALTER TABLE orders MODIFY note text NOT NULL;\n",
    );
    write(
        root,
        "sql/2_x.down.sql",
        "ALTER TABLE orders ALTER COLUMN note DROP NOT NULL;\n",
    );
    write(
        root,
        "gonogo.yaml",
        "checks:\n  migrations:\n    paths: [\"sql\"]\n    dialect: postgres\n",
    );
    let (run, result) = rollback(root);
    assert_eq!(run.code, 0, "{result}");
    assert_eq!(result["status"], "pass");
    assert!(
        result["summary"].as_str().unwrap().starts_with(
            "database: 1 migration of this deploy, every schema change with a down that undoes it"
        ),
        "{result}"
    );

    // Flyway: undo scripts in the folder mean every versioned script needs one; the undo
    // script itself is not read as a migration.
    let flyway = released(&[
        ("db/migrations/V1__init.sql", INIT_UP),
        ("db/migrations/U1__init.sql", INIT_DOWN),
    ]);
    write(
        flyway.path(),
        "db/migrations/V2__currency.sql",
        "ALTER TABLE orders ADD COLUMN currency text;\n",
    );
    let (_, result) = rollback(flyway.path());
    assert_eq!(
        described(&result),
        vec![(
            "rollback/missing-down-migration".to_string(),
            "db/migrations/V2__currency.sql".to_string(),
            1,
            "warn".to_string(),
            false
        )]
    );
    write(
        flyway.path(),
        "db/migrations/U2__currency.sql",
        "ALTER TABLE orders DROP COLUMN currency;\n",
    );
    let (run, result) = rollback(flyway.path());
    assert_eq!(run.code, 0, "{result}");
    assert_eq!(described(&result), vec![]);
}

#[test]
fn a_runner_without_downs_is_quiet_and_an_unchanged_deploy_says_nothing() {
    let dir = released(&[("db/migrations/V1__init.sql", INIT_UP)]);
    write(
        dir.path(),
        "db/migrations/V2__currency.sql",
        "ALTER TABLE orders ADD COLUMN currency text;\n",
    );
    let (run, result) = rollback(dir.path());
    assert_eq!(run.code, 0, "{result}");
    assert_eq!(described(&result), vec![]);
    assert!(
        result["summary"]
            .as_str()
            .unwrap()
            .starts_with("database: 1 migration of this deploy, none destroying data (the runner keeps no down migrations)"),
        "{result}"
    );
    // Nothing changed since the base: the pods' answer alone (here: skip).
    let unchanged = released(&[("db/migrations/V1__init.sql", INIT_UP)]);
    let (_, result) = rollback(unchanged.path());
    assert_eq!(result["status"], "skip", "{result}");
}
