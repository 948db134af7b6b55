//! The database side of `compat`, end to end: real git repositories in temp dirs, the deployed
//! version (code and migrations) committed and tagged, this deploy's migrations (and code) in the
//! working tree, `gonogo check --only compat --format json` run as a user would. Every PostgreSQL
//! fixture is also applied to a throwaway PostgreSQL to prove it is valid SQL.

use crate::common;

use common::pg::Cluster;
use common::{Run, findings, git, gonogo, project, run, write};
use serde_json::Value;
use std::path::Path;

const PG_CONFIG: &str = "checks:
  migrations:
    paths: [\"db/migrations/*.sql\"]
  compat:
    database:
      code_paths: [\"src/\"]
      markers: [\"gonogo:dropping\"]
";

const MYSQL_CONFIG: &str = "checks:
  migrations:
    paths: [\"db/migrations/*.sql\"]
    dialect: mysql
  compat:
    database:
      code_paths: [\"src/\"]
";

/// The deployed schema most cases start from.
const INIT: &str = "CREATE TYPE order_status AS ENUM ('new', 'shipped', 'cancelled');
CREATE TABLE orders (
  id bigserial PRIMARY KEY,
  total numeric(12,2) NOT NULL,
  legacy_status text,
  note varchar(255),
  status order_status NOT NULL DEFAULT 'new'
);
CREATE TABLE customers (id bigserial PRIMARY KEY, email text NOT NULL);
CREATE TABLE users (id bigserial PRIMARY KEY, name text);
CREATE TABLE coupons (id bigserial PRIMARY KEY, code text NOT NULL);
";

/// Code of the deployed version: SQL strings in Python.
const ORDERS_PY: &str = "import db

def list_orders():
    return db.query(\"SELECT id, total, legacy_status FROM orders ORDER BY id\")

def create_order(total, note):
    db.execute(\"INSERT INTO orders (total, note) VALUES (%s, %s)\", (total, note))

def ship(order_id):
    db.execute(\"UPDATE orders SET status = 'shipped' WHERE id = %s\", (order_id,))
";

/// Each migration set applied to PostgreSQL by `every_postgres_fixture_is_valid_sql`.
const PG_DEPLOYS: &[(&str, &str)] = &[
    (
        "drop used",
        "ALTER TABLE orders DROP COLUMN legacy_status;\n",
    ),
    ("drop total", "ALTER TABLE orders DROP COLUMN total;\n"),
    (
        "rename table",
        "ALTER TABLE customers RENAME TO accounts;\n",
    ),
    (
        "rename column",
        "ALTER TABLE users RENAME COLUMN name TO full_name;\n",
    ),
    ("drop table", "DROP TABLE coupons;\n"),
    (
        "not null",
        "ALTER TABLE orders ADD COLUMN currency text NOT NULL;\n",
    ),
    (
        "set not null",
        "ALTER TABLE orders ALTER COLUMN legacy_status SET NOT NULL;\n",
    ),
    (
        "narrow",
        "ALTER TABLE orders ALTER COLUMN note TYPE varchar(64);\n",
    ),
    ("widen", "ALTER TABLE orders ALTER COLUMN note TYPE text;\n"),
    (
        "enum",
        "ALTER TYPE order_status RENAME VALUE 'shipped' TO 'dispatched';\n",
    ),
    (
        "check requires a value",
        "ALTER TABLE orders ADD CONSTRAINT orders_legacy_set CHECK (legacy_status IS NOT NULL) NOT VALID;\n",
    ),
    (
        "check on values",
        "ALTER TABLE orders ADD CONSTRAINT orders_note_short CHECK (length(note) < 200) NOT VALID;\n",
    ),
    (
        "unique",
        "CREATE UNIQUE INDEX CONCURRENTLY orders_note ON orders (note);\n",
    ),
    (
        "expand and contract",
        "ALTER TABLE users ADD COLUMN full_name text;\nUPDATE users SET full_name = name;\nALTER TABLE users DROP COLUMN name;\n",
    ),
];

fn deploy(name: &str) -> &'static str {
    PG_DEPLOYS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, sql)| *sql)
        .unwrap_or_else(|| panic!("no deploy fixture {name}"))
}

/// A repository whose first commit, tagged `v1`, holds `files`.
fn deployed(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = project(files);
    git(dir.path(), &["init", "-q", "-b", "main"]);
    commit(dir.path(), "v1");
    git(dir.path(), &["tag", "v1"]);
    dir
}

fn commit(dir: &Path, message: &str) {
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-q", "-m", message]);
}

/// The PostgreSQL project most cases use: INIT and ORDERS_PY deployed as v1, `migration` added.
fn pg_project(code: &[(&str, &str)], migration: &str) -> tempfile::TempDir {
    let mut files = vec![
        ("gonogo.yaml", PG_CONFIG),
        ("db/migrations/001_init.sql", INIT),
    ];
    files.extend_from_slice(code);
    let dir = deployed(&files);
    write(dir.path(), "db/migrations/002_change.sql", migration);
    dir
}

fn compat(dir: &Path, extra: &[&str]) -> (Run, Value) {
    common::check_only(dir, "compat", extra)
}

fn only<'a>(check: &'a Value, rule: &str) -> &'a Value {
    let found = findings(check, rule);
    assert_eq!(found.len(), 1, "one {rule} expected in {check:#}");
    found[0]
}

fn text(value: &Value) -> &str {
    value.as_str().unwrap_or("")
}

#[test]
fn dropping_a_column_the_deployed_code_selects_fails_with_the_use() {
    let dir = pg_project(&[("src/orders.py", ORDERS_PY)], deploy("drop used"));
    let (out, check) = compat(dir.path(), &["--base", "v1"]);
    assert_eq!(out.code, 1, "{check:#}");
    assert_eq!(check["status"], "fail");
    let finding = only(&check, "compat/db-column-still-used");
    assert_eq!(finding["severity"], "fail");
    assert_eq!(finding["location"]["path"], "db/migrations/002_change.sql");
    assert_eq!(finding["location"]["line"], 1);
    let message = text(&finding["message"]);
    assert!(
        message.contains("DROP COLUMN orders.legacy_status") && message.contains("src/orders.py:4"),
        "{message}"
    );
    assert!(
        !message.contains("This release removed"),
        "the working tree still uses it: {message}"
    );
    assert!(text(&finding["evidence"]).contains("SQL naming the table"));
    assert!(
        text(&finding["fix"])
            .contains("first ship code that no longer reads or writes orders.legacy_status"),
        "{finding:#}"
    );
    assert_eq!(
        check["summary"],
        "1 breaking change in db/migrations/002_change.sql; database: 1 change of this deploy checked against the deployed code (searched 1 file under src/ at v1)"
    );
    assert!(
        text(&check["summary"]).contains("searched 1 file under src/ at v1"),
        "{}",
        check["summary"]
    );
}

#[test]
fn a_use_this_release_removed_from_the_code_still_fails_and_says_why() {
    let dir = pg_project(&[("src/orders.py", ORDERS_PY)], deploy("drop used"));
    write(
        dir.path(),
        "src/orders.py",
        &ORDERS_PY.replace(", legacy_status FROM", " FROM"),
    );
    commit(dir.path(), "stop reading legacy_status");
    let (_, check) = compat(dir.path(), &["--base", "v1"]);
    let finding = only(&check, "compat/db-column-still-used");
    assert_eq!(finding["severity"], "fail");
    assert!(
        text(&finding["message"]).contains(
            "This release removed those uses from the code, which is exactly the case that breaks: the old pods still run the code of v1"
        ),
        "{finding:#}"
    );
}

#[test]
fn a_column_named_only_by_an_unrelated_identifier_warns_and_does_not_fail() {
    let lib = "/// Doubles an amount.\npub fn total(total: i64) -> i64 {\n    total * 2\n}\n";
    let dir = pg_project(&[("src/lib.rs", lib)], deploy("drop total"));
    let (out, check) = compat(dir.path(), &["--base", "v1"]);
    assert_eq!(out.code, 0, "{check:#}");
    assert_eq!(check["status"], "warn");
    let finding = only(&check, "compat/db-column-still-used");
    assert_eq!(finding["severity"], "warn");
    assert!(
        text(&finding["message"]).contains("only where gonogo cannot tie it to the table"),
        "{finding:#}"
    );
    assert!(text(&finding["evidence"]).contains("src/lib.rs:2"));
}

/// Issue 16.5: a deploy whose statements gonogo could not read is never called clean.
#[test]
fn statements_that_could_not_be_read_are_counted_in_the_summary() {
    let code = "def ping():\n    return \"SELECT 1\"\n";
    let dir = pg_project(
        &[("src/health.py", code)],
        "ALTR TABLE orders ADD COLUMN note text;\nSELEC 1;\n",
    );
    let (_, check) = compat(dir.path(), &["--base", "v1"]);
    let summary = text(&check["summary"]);
    assert!(
        summary.contains("; 2 statements gonogo could not read (not judged)"),
        "{summary}"
    );
}

#[test]
fn a_drop_with_no_use_anywhere_warns_and_says_where_gonogo_searched() {
    let code = "def ping():\n    return \"SELECT 1\"\n";
    let dir = pg_project(&[("src/health.py", code)], deploy("drop used"));
    let (out, check) = compat(dir.path(), &["--base", "v1"]);
    assert_eq!(out.code, 0);
    let finding = only(&check, "compat/db-column-still-used");
    assert_eq!(finding["severity"], "warn");
    assert!(
        text(&finding["message"]).contains(
            "no use of orders.legacy_status found in the deployed code (searched 1 file under src/ at v1)"
        ),
        "{finding:#}"
    );
}

#[test]
fn renaming_a_table_go_code_queries_fails() {
    let code = "package store\n\nfunc Customer(db *sql.DB, id int64) (*sql.Rows, error) {\n\treturn db.Query(`SELECT id, email\n\t\tFROM customers\n\t\tWHERE id = $1`, id)\n}\n";
    let dir = pg_project(&[("src/store/customers.go", code)], deploy("rename table"));
    let (_, check) = compat(dir.path(), &["--base", "v1"]);
    let finding = only(&check, "compat/db-table-still-used");
    assert_eq!(finding["severity"], "fail");
    assert!(
        text(&finding["message"]).contains("renaming table customers to accounts"),
        "{finding:#}"
    );
    assert!(text(&finding["evidence"]).contains("src/store/customers.go:5"));
    assert!(text(&finding["fix"]).contains("a view named customers"));
}

#[test]
fn dropping_the_table_of_a_django_model_fails() {
    let models = "from django.db import models\n\n\nclass Coupon(models.Model):\n    code = models.CharField(max_length=20)\n\n    class Meta:\n        db_table = \"coupons\"\n";
    let dir = pg_project(&[("src/shop/models.py", models)], deploy("drop table"));
    let (_, check) = compat(dir.path(), &["--base", "v1"]);
    let finding = only(&check, "compat/db-table-still-used");
    assert_eq!(finding["severity"], "fail", "{finding:#}");
    assert!(text(&finding["evidence"]).contains("src/shop/models.py:"));
}

#[test]
fn a_not_null_column_old_inserts_leave_out_fails() {
    let dir = pg_project(&[("src/orders.py", ORDERS_PY)], deploy("not null"));
    let (_, check) = compat(dir.path(), &["--base", "v1"]);
    let finding = only(&check, "compat/db-old-writes-rejected");
    assert_eq!(finding["severity"], "fail");
    assert!(
        text(&finding["message"]).contains(
            "ADD COLUMN orders.currency NOT NULL without a default: the deployed code (v1) inserts into orders without currency at src/orders.py:7"
        ),
        "{finding:#}"
    );
    assert!(text(&finding["evidence"]).contains("INSERT, writes (total, note)"));
}

#[test]
fn set_not_null_fails_when_old_inserts_omit_the_column_and_warns_when_they_write_it() {
    let dir = pg_project(&[("src/orders.py", ORDERS_PY)], deploy("set not null"));
    let (_, check) = compat(dir.path(), &["--base", "v1"]);
    assert_eq!(
        only(&check, "compat/db-old-writes-rejected")["severity"],
        "fail"
    );

    let writes_it = ORDERS_PY.replace(
        "INSERT INTO orders (total, note) VALUES (%s, %s)\", (total, note)",
        "INSERT INTO orders (total, note, legacy_status) VALUES (%s, %s, 'v1')\", (total, note)",
    );
    let dir = pg_project(&[("src/orders.py", &writes_it)], deploy("set not null"));
    let (_, check) = compat(dir.path(), &["--base", "v1"]);
    let finding = only(&check, "compat/db-old-writes-rejected");
    assert_eq!(finding["severity"], "warn");
    assert!(text(&finding["message"]).contains("make sure it never writes NULL"));
}

#[test]
fn narrowing_a_column_the_old_code_writes_fails_and_widening_it_passes() {
    let dir = pg_project(&[("src/orders.py", ORDERS_PY)], deploy("narrow"));
    let (_, check) = compat(dir.path(), &["--base", "v1"]);
    let finding = only(&check, "compat/db-type-narrowed");
    assert_eq!(finding["severity"], "fail");
    assert!(
        text(&finding["message"]).contains("orders.note changes from varchar(255) to varchar(64)"),
        "{finding:#}"
    );

    let dir = pg_project(&[("src/orders.py", ORDERS_PY)], deploy("widen"));
    let (out, check) = compat(dir.path(), &["--base", "v1"]);
    assert_eq!(out.code, 0, "{check:#}");
    assert_eq!(check["status"], "pass");
    assert!(
        check["findings"].as_array().unwrap().is_empty(),
        "{check:#}"
    );
}

#[test]
fn removing_an_enum_value_the_old_code_writes_fails() {
    let dir = pg_project(&[("src/orders.py", ORDERS_PY)], deploy("enum"));
    let (_, check) = compat(dir.path(), &["--base", "v1"]);
    let finding = only(&check, "compat/db-enum-value-removed");
    assert_eq!(finding["severity"], "fail");
    assert!(
        text(&finding["message"]).contains("no longer accepts 'shipped'")
            && text(&finding["message"]).contains("src/orders.py:10"),
        "{finding:#}"
    );
}

#[test]
fn a_unique_index_on_a_column_old_code_writes_warns() {
    let dir = pg_project(&[("src/orders.py", ORDERS_PY)], deploy("unique"));
    let (_, check) = compat(dir.path(), &["--base", "v1"]);
    let finding = only(&check, "compat/db-old-writes-rejected");
    assert_eq!(finding["severity"], "warn");
    assert!(text(&finding["message"]).contains("UNIQUE (note) on orders"));
}

#[test]
fn expand_and_contract_in_one_deploy_fails_with_the_three_deploy_sequence() {
    let users = "def rename(db, user_id, name):\n    db.execute(\"UPDATE users SET name = %s WHERE id = %s\", (name, user_id))\n";
    let dir = pg_project(&[("src/users.py", users)], deploy("expand and contract"));
    let (_, check) = compat(dir.path(), &["--base", "v1"]);
    let finding = only(&check, "compat/db-expand-and-contract-together");
    assert_eq!(finding["severity"], "fail");
    assert_eq!(finding["location"]["line"], 3, "at the DROP");
    assert!(
        text(&finding["message"]).contains("this deploy adds full_name (db/migrations/002_change.sql:1), backfills full_name from name (db/migrations/002_change.sql:2) and drops users.name"),
        "{finding:#}"
    );
    assert!(text(&finding["fix"]).contains(
        "(1) add full_name and make the code write both name and full_name; (2) backfill full_name from name in batches and switch reads to full_name; (3) once no running version uses name, drop it"
    ));
    assert_eq!(
        only(&check, "compat/db-column-still-used")["severity"],
        "fail"
    );
}

/// v1: `name`. v2 (deployed): `full_name` added and backfilled, the code moved to it. Now: drop
/// `name`. With v2's code using `full_name` and not `name`, the contract step passes; with v2's
/// code not using `full_name` yet, the expand step never shipped.
fn three_deploys(v2_code: &str) -> tempfile::TempDir {
    let dir = deployed(&[
        ("gonogo.yaml", PG_CONFIG),
        ("db/migrations/001_init.sql", INIT),
        (
            "src/users.py",
            "def name(db, user_id):\n    return db.query(\"SELECT name FROM users WHERE id = %s\", user_id)\n",
        ),
    ]);
    write(
        dir.path(),
        "db/migrations/002_full_name.sql",
        "ALTER TABLE users ADD COLUMN full_name text;\nUPDATE users SET full_name = name WHERE full_name IS NULL;\n",
    );
    write(dir.path(), "src/users.py", v2_code);
    commit(dir.path(), "v2");
    git(dir.path(), &["tag", "v2"]);
    write(
        dir.path(),
        "db/migrations/003_drop_name.sql",
        "ALTER TABLE users DROP COLUMN name;\n",
    );
    dir
}

#[test]
fn the_contract_step_after_an_expand_that_shipped_passes() {
    let dir = three_deploys(
        "def name(db, user_id):\n    return db.query(\"SELECT full_name FROM users WHERE id = %s\", user_id)\n",
    );
    let (out, check) = compat(dir.path(), &["--base", "v2"]);
    assert_eq!(out.code, 0, "{check:#}");
    assert_eq!(check["status"], "pass", "{check:#}");
    let finding = only(&check, "compat/db-contract-prepared");
    assert_eq!(finding["severity"], "info");
    assert_eq!(
        finding["location"]["path"],
        "db/migrations/003_drop_name.sql"
    );
    // The newest tag is the default base: the same answer.
    let (_, by_tag) = compat(dir.path(), &[]);
    assert_eq!(by_tag["status"], "pass");

    // The whole checklist is a go: the migrations check leaves the DROP COLUMN to compat, which
    // saw the evidence, instead of failing the prepared contract step.
    let out = run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--format", "json"]));
    assert_eq!(out.code, 0, "{}", out.stdout);
    let report: Value = serde_json::from_str(&out.stdout).unwrap();
    let migrations = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "migrations")
        .unwrap();
    let drop = only(migrations, "migrations/drop-column");
    assert_eq!(drop["severity"], "info", "{drop:#}");
    assert!(
        text(&drop["message"]).contains("judged against the deployed code by the compat check")
    );
}

#[test]
fn a_contract_step_whose_expand_never_shipped_fails() {
    let dir = three_deploys("def ping(db):\n    return db.query(\"SELECT 1\")\n");
    let (_, check) = compat(dir.path(), &["--base", "v2"]);
    let finding = only(&check, "compat/db-expand-and-contract-together");
    assert!(
        text(&finding["message"]).contains(
            "users.full_name replaces name (backfilled at db/migrations/002_full_name.sql:2), but the deployed code (v2) does not use full_name yet"
        ),
        "{finding:#}"
    );
}

#[test]
fn rails_ignored_columns_marks_a_prepared_drop() {
    let model = "class Order < ApplicationRecord\n  self.ignored_columns += [\"legacy_status\"]\n\n  def legacy?\n    legacy_status.present?\n  end\nend\n";
    let dir = pg_project(&[("src/models/order.rb", model)], deploy("drop used"));
    let (out, check) = compat(dir.path(), &["--base", "v1"]);
    assert_eq!(out.code, 0, "{check:#}");
    assert_eq!(check["status"], "pass", "{check:#}");
    let finding = only(&check, "compat/db-contract-prepared");
    assert!(
        text(&finding["message"]).contains("src/models/order.rb:2"),
        "{finding:#}"
    );
}

#[test]
fn a_configured_marker_above_the_use_marks_a_prepared_drop() {
    let code = "# gonogo:dropping legacy_status is read by the nightly export only, moved to v2\nLEGACY = \"SELECT legacy_status FROM orders\"\n";
    let dir = pg_project(&[("src/export.py", code)], deploy("drop used"));
    let (_, check) = compat(dir.path(), &["--base", "v1"]);
    assert_eq!(check["status"], "pass", "{check:#}");
    assert_eq!(
        only(&check, "compat/db-contract-prepared")["severity"],
        "info"
    );
}

#[test]
fn mysql_drops_and_enum_changes_are_judged_against_the_old_code() {
    let init = "CREATE TABLE orders (\n  id INT AUTO_INCREMENT PRIMARY KEY,\n  note VARCHAR(255),\n  status ENUM('new', 'shipped', 'cancelled') NOT NULL DEFAULT 'new'\n);\n";
    let code = "<?php\nfunction cancel($db, $id) {\n    $db->query(\"UPDATE orders SET status = 'cancelled', note = ? WHERE id = ?\", [$note, $id]);\n}\n";
    let dir = deployed(&[
        ("gonogo.yaml", MYSQL_CONFIG),
        ("db/migrations/001_init.sql", init),
        ("src/orders.php", code),
    ]);
    write(
        dir.path(),
        "db/migrations/002_change.sql",
        "ALTER TABLE orders DROP COLUMN note;\nALTER TABLE orders MODIFY COLUMN status ENUM('new', 'shipped') NOT NULL DEFAULT 'new';\n",
    );
    let (_, check) = compat(dir.path(), &["--base", "v1"]);
    let dropped = only(&check, "compat/db-column-still-used");
    assert_eq!(dropped["severity"], "fail", "{check:#}");
    assert_eq!(dropped["location"]["line"], 1);
    let enum_removed = only(&check, "compat/db-enum-value-removed");
    assert_eq!(enum_removed["severity"], "fail", "{check:#}");
    assert_eq!(enum_removed["location"]["line"], 2);
    assert!(text(&enum_removed["message"]).contains("'cancelled'"));
}

#[test]
fn a_deploy_without_such_changes_passes() {
    let dir = pg_project(
        &[("src/orders.py", ORDERS_PY)],
        "ALTER TABLE orders ADD COLUMN coupon_id bigint;\nCREATE TABLE refunds (id bigserial PRIMARY KEY, order_id bigint NOT NULL);\nALTER TABLE refunds DROP COLUMN order_id;\n",
    );
    let (out, check) = compat(dir.path(), &["--base", "v1"]);
    assert_eq!(out.code, 0, "{check:#}");
    assert_eq!(check["status"], "pass");
    assert!(
        text(&check["summary"]).contains("database: no migration of this deploy"),
        "{check:#}"
    );
}

// Bad input: each is the check's `error` with a way out, never a silent pass.

fn assert_error(check: &Value, out: &Run, needle: &str) {
    assert_eq!(check["status"], "error", "{check:#}");
    assert_eq!(out.code, 1, "error blocks like fail");
    assert!(
        text(&check["summary"]).contains(needle),
        "{} lacks {needle}",
        check["summary"]
    );
}

#[test]
fn no_base_ref_is_an_error_naming_the_flag() {
    let dir = project(&[
        ("gonogo.yaml", PG_CONFIG),
        ("db/migrations/001_init.sql", INIT),
        ("src/orders.py", ORDERS_PY),
    ]);
    git(dir.path(), &["init", "-q", "-b", "main"]);
    commit(dir.path(), "untagged");
    let (out, check) = compat(dir.path(), &[]);
    assert_error(&check, &out, "--base <ref>");
}

/// An unusable `--base` is a usage error (exit 2) before any check runs.
fn usage_error(dir: &Path, base: &str) -> Run {
    let out = run(gonogo()
        .arg("check")
        .arg(dir)
        .args(["--only", "compat", "--format", "json", "--base", base]));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stdout.is_empty());
    out
}

#[test]
fn a_base_ref_that_does_not_exist_is_a_usage_error() {
    let dir = pg_project(&[("src/orders.py", ORDERS_PY)], deploy("drop used"));
    let out = usage_error(dir.path(), "v9");
    assert!(
        out.stderr.contains("base `v9` is not a commit in")
            && out.stderr.contains("check the name, or fetch it"),
        "{}",
        out.stderr
    );
}

#[test]
fn code_paths_that_match_nothing_at_the_base_are_an_error() {
    let dir = pg_project(&[("src/orders.py", ORDERS_PY)], deploy("drop used"));
    write(
        dir.path(),
        "gonogo.yaml",
        &PG_CONFIG.replace("[\"src/\"]", "[\"app/**/*.py\"]"),
    );
    let (out, check) = compat(dir.path(), &["--base", "v1"]);
    assert_error(
        &check,
        &out,
        "checks.compat.database.code_paths (app/**/*.py) match no file at v1",
    );
}

#[test]
fn a_directory_without_git_is_an_error() {
    let dir = project(&[
        ("gonogo.yaml", PG_CONFIG),
        ("db/migrations/001_init.sql", INIT),
        ("src/orders.py", ORDERS_PY),
    ]);
    let (out, check) = compat(dir.path(), &[]);
    assert_error(&check, &out, "is not inside a git repository");
    let out = usage_error(dir.path(), "v1");
    assert!(out.stderr.contains("is not inside a git repository"));
}

#[test]
fn a_shallow_clone_without_the_base_commit_says_to_fetch_history() {
    let origin = pg_project(&[("src/orders.py", ORDERS_PY)], deploy("drop used"));
    commit(origin.path(), "v2 work");
    write(origin.path(), "src/more.py", "X = 1\n");
    commit(origin.path(), "more");
    let clones = tempfile::tempdir().unwrap();
    let url = format!("file://{}", origin.path().display());
    git(
        clones.path(),
        &["clone", "-q", "--depth", "1", &url, "shallow"],
    );
    let out = usage_error(&clones.path().join("shallow"), "v1");
    assert!(
        out.stderr
            .contains("this is a shallow clone and the deployed commit is not in it")
            && out.stderr.contains("fetch-depth: 0"),
        "{}",
        out.stderr
    );
}

#[test]
fn every_postgres_fixture_is_valid_sql() {
    let cluster = Cluster::start();
    for (index, (name, sql)) in PG_DEPLOYS.iter().enumerate() {
        let db = format!("fixture_{index}");
        cluster.create_database(&db);
        cluster.execute(&db, INIT);
        // CREATE INDEX CONCURRENTLY cannot run in psql's script transaction: execute runs each
        // statement on its own, as a migration runner would.
        cluster.execute(&db, sql);
        assert_eq!(
            cluster.query(
                &db,
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
            ),
            if *name == "drop table" { "3" } else { "4" },
            "{name}"
        );
    }
    let db = "three_deploys";
    cluster.create_database(db);
    cluster.execute(db, INIT);
    cluster.execute(
        db,
        "ALTER TABLE users ADD COLUMN full_name text;\nUPDATE users SET full_name = name WHERE full_name IS NULL;\n",
    );
    cluster.execute(db, "ALTER TABLE users DROP COLUMN name;\n");
}

#[test]
fn an_enum_value_the_old_code_never_names_warns() {
    let code = "def count(db):\n    return db.query(\"SELECT count(*) FROM orders\")\n";
    let dir = pg_project(&[("src/orders.py", code)], deploy("enum"));
    let (out, check) = compat(dir.path(), &["--base", "v1"]);
    assert_eq!(out.code, 0, "{check:#}");
    let finding = only(&check, "compat/db-enum-value-removed");
    assert_eq!(finding["severity"], "warn");
    assert!(
        text(&finding["message"]).contains("the deployed code does not name them as strings"),
        "{finding:#}"
    );
}

#[test]
fn dropping_a_table_the_old_code_never_uses_warns() {
    let dir = pg_project(&[("src/orders.py", ORDERS_PY)], deploy("drop table"));
    let (out, check) = compat(dir.path(), &["--base", "v1"]);
    assert_eq!(out.code, 0, "{check:#}");
    let finding = only(&check, "compat/db-table-still-used");
    assert_eq!(finding["severity"], "warn");
    assert!(text(&finding["message"]).contains("no use of coupons found"));
}

/// Each rule of the database side is met by a test above, failing and passing (or warning).
#[test]
fn every_database_rule_is_explained() {
    for rule in gonogo::checks::all_rules().filter(|rule| rule.id.starts_with("compat/db-")) {
        let out = run(gonogo().args(["explain", rule.id]));
        assert_eq!(out.code, 0, "{}", rule.id);
        assert!(
            out.stdout.contains("## Do this instead"),
            "{}: {}",
            rule.id,
            out.stdout
        );
    }
}

#[test]
fn a_check_that_requires_a_value_old_inserts_leave_out_fails() {
    let dir = pg_project(
        &[("src/orders.py", ORDERS_PY)],
        deploy("check requires a value"),
    );
    let (_, check) = compat(dir.path(), &["--base", "v1"]);
    let finding = only(&check, "compat/db-old-writes-rejected");
    assert_eq!(finding["severity"], "fail", "{finding:#}");
    assert!(
        text(&finding["message"])
            .contains("inserts into orders without legacy_status at src/orders.py:7"),
        "{finding:#}"
    );

    // A check on values the old code writes: gonogo sees the column, not the values.
    let dir = pg_project(&[("src/orders.py", ORDERS_PY)], deploy("check on values"));
    let (_, check) = compat(dir.path(), &["--base", "v1"]);
    let finding = only(&check, "compat/db-old-writes-rejected");
    assert_eq!(finding["severity"], "warn", "{finding:#}");
    assert!(
        text(&finding["message"]).contains("the values it writes must satisfy the new check"),
        "{finding:#}"
    );
}

#[test]
fn renaming_a_column_the_old_code_writes_fails_with_the_three_deploys() {
    let users = "def rename(db, user_id, name):\n    db.execute(\"UPDATE users SET name = %s WHERE id = %s\", (name, user_id))\n";
    let dir = pg_project(&[("src/users.py", users)], deploy("rename column"));
    let (_, check) = compat(dir.path(), &["--base", "v1"]);
    let finding = only(&check, "compat/db-column-still-used");
    assert_eq!(finding["severity"], "fail");
    assert!(
        text(&finding["message"]).contains("renaming column users.name to full_name")
            && text(&finding["message"]).contains("src/users.py:2"),
        "{finding:#}"
    );
    assert!(
        text(&finding["fix"])
            .contains("(1) add full_name and make the code write both name and full_name"),
        "{finding:#}"
    );
}

#[test]
fn a_django_model_that_no_longer_declares_the_column_marks_a_prepared_drop() {
    let models = "from django.db import models\n\n\nclass Order(models.Model):\n    total = models.DecimalField(max_digits=12, decimal_places=2)\n    note = models.CharField(max_length=255, null=True)\n\n    class Meta:\n        db_table = \"orders\"\n";
    let dir = pg_project(&[("src/shop/models.py", models)], deploy("drop used"));
    let (out, check) = compat(dir.path(), &["--base", "v1"]);
    assert_eq!(out.code, 0, "{check:#}");
    assert_eq!(check["status"], "pass", "{check:#}");
    let finding = only(&check, "compat/db-contract-prepared");
    assert!(
        text(&finding["message"])
            .contains("maps orders in a model without legacy_status at src/shop/models.py:"),
        "{finding:#}"
    );
}

/// The schema changes of ~1,100 real migration files (Lemmy, Synapse, Supabase), each project's
/// history read in order: no panic, every kind of change found in real SQL, and the counts per
/// project in a snapshot so a change in extraction shows up in review.
#[test]
fn real_migration_histories_yield_their_schema_changes() {
    use crate::migrations_corpus::{corpus, sql_files};
    use gonogo::checks::compat::database::changes::{ChangeKind, changes};
    use gonogo::checks::migrations::MigrationFile;
    use gonogo::config::Dialect;
    use std::collections::BTreeMap;

    let Some(root) = corpus() else {
        return;
    };
    let mut report = String::new();
    let mut kinds_seen: BTreeMap<&str, usize> = BTreeMap::new();
    for project in ["lemmy", "synapse", "supabase-postgres", "supabase-auth"] {
        let mut paths = Vec::new();
        sql_files(&root.join(project), &mut paths);
        let files: Vec<MigrationFile> = paths
            .iter()
            // Lemmy keeps each migration's rollback beside it: down.sql never runs in a deploy.
            .filter(|p| !p.ends_with("down.sql"))
            .filter_map(|p| {
                Some(MigrationFile {
                    path: p.strip_prefix(&root).ok()?.to_string_lossy().into_owned(),
                    text: String::from_utf8(std::fs::read(p).ok()?).ok()?,
                    in_deploy: false,
                    transaction: None,
                })
            })
            .collect();
        let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
        for change in changes(&files, Dialect::Postgres) {
            let kind = match change.kind {
                ChangeKind::CreateTable => "create table",
                ChangeKind::DropTable => "drop table",
                ChangeKind::RenameTable { .. } => "rename table",
                ChangeKind::AddColumn {
                    not_null_without_default: true,
                    ..
                } => "add column not null without default",
                ChangeKind::AddColumn { .. } => "add column",
                ChangeKind::DropColumn { .. } => "drop column",
                ChangeKind::RenameColumn { .. } => "rename column",
                ChangeKind::SetNotNull { .. } => "set not null",
                ChangeKind::DropNotNull { .. } => "drop not null",
                ChangeKind::AddCheck { .. } => "add check",
                ChangeKind::AddUnique { .. } => "add unique",
                ChangeKind::TypeChanged { narrowed: true, .. } => "type narrowed",
                ChangeKind::TypeChanged { .. } => "type widened",
                ChangeKind::EnumValuesRemoved { .. } => "enum values removed",
                ChangeKind::Backfill { .. } => "backfill",
                ChangeKind::CopyFrom { .. } => "copy from",
            };
            *per_kind.entry(kind).or_default() += 1;
            *kinds_seen.entry(kind).or_default() += 1;
        }
        report.push_str(&format!("{project} ({} files):\n", files.len()));
        for (kind, count) in per_kind {
            report.push_str(&format!("  {kind}: {count}\n"));
        }
    }
    for kind in [
        "drop table",
        "rename table",
        "drop column",
        "rename column",
        "set not null",
        "add check",
        "add unique",
        "type narrowed",
        "backfill",
        "copy from",
    ] {
        assert!(
            kinds_seen.contains_key(kind),
            "no {kind} in the corpus:\n{report}"
        );
    }
    insta::assert_snapshot!("schema_changes_per_project", report);
}
