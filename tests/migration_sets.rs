//! What a deploy really runs, in the order it runs it (issue 16, points 1–4), end to end in real
//! git repositories built here: a tag is the deployed version, the change is in the working tree.
//! Applied migrations edited since the base, the runner's order (Flyway versions, numeric
//! prefixes, an order file), several migration sets, exclusions and alternatives in paths,
//! per-dialect files, per-file transaction markers, templated SQL, and the config errors of the
//! new keys.

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

fn check(dir: &std::path::Path, extra: &[&str]) -> (Run, Value) {
    check_only(dir, "migrations", extra)
}

/// (rule, path, line, severity) of every finding, for readable assertions.
fn described(result: &Value) -> Vec<(String, String, u64, String)> {
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
            )
        })
        .collect()
}

const EDITED: &str = "migrations/applied-migration-edited";
const INDEX: &str = "migrations/pg-add-index-not-concurrent";

#[test]
fn an_edited_applied_migration_is_reported_once_and_its_tables_stay_existing() {
    let dir = released(&[
        (
            "gonogo.yaml",
            "checks:\n  migrations:\n    paths: [\"db/migrations/*.sql\"]\n",
        ),
        (
            "db/migrations/0001_users.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY, email text);\nCREATE INDEX users_id_idx ON users (id);\n",
        ),
    ]);
    // The applied file is schema-qualified (a one-line edit a runner never re-runs), and a new
    // migration locks the table the applied file created: that is the real finding.
    write(
        dir.path(),
        "db/migrations/0001_users.sql",
        "CREATE TABLE public.users (id bigint PRIMARY KEY, email text);\nCREATE INDEX users_id_idx ON public.users (id);\n",
    );
    write(
        dir.path(),
        "db/migrations/0002_email_index.sql",
        "SET lock_timeout = '2s';\nCREATE INDEX users_email_idx ON users (email);\n",
    );
    let (out, result) = check(dir.path(), &["--base", "v1"]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let findings = described(&result);
    assert_eq!(
        findings,
        vec![
            (
                EDITED.to_string(),
                "db/migrations/0001_users.sql".to_string(),
                1,
                "warn".to_string()
            ),
            (
                INDEX.to_string(),
                "db/migrations/0002_email_index.sql".to_string(),
                2,
                "fail".to_string()
            ),
        ],
        "{result:#}"
    );
    let edited = &findings_of_rule(&result, EDITED)[0];
    assert!(
        edited["message"]
            .as_str()
            .unwrap()
            .contains("runners do not re-run it; the change reaches no existing database"),
        "{edited}"
    );
    assert!(
        result["summary"]
            .as_str()
            .unwrap()
            .starts_with("1 of 2 migration files changed since v1"),
        "{result}"
    );
}

fn findings_of_rule(result: &Value, rule: &str) -> Vec<Value> {
    findings(result, rule).into_iter().cloned().collect()
}

#[test]
fn a_renamed_applied_migration_keeps_its_history_unless_its_version_changes() {
    let dir = released(&[
        (
            "gonogo.yaml",
            "checks:\n  migrations:\n    paths: [\"db/*.sql\"]\n",
        ),
        (
            "db/0001_users.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
        ),
        (
            "db/0002_orders.sql",
            "CREATE TABLE orders (id bigint PRIMARY KEY);\nCREATE INDEX orders_id_idx ON orders (id);\n",
        ),
    ]);
    // Same version, new description: still applied (info). New version: the runner runs it again.
    git(
        dir.path(),
        &["mv", "db/0001_users.sql", "db/0001_create_users.sql"],
    );
    git(
        dir.path(),
        &["mv", "db/0002_orders.sql", "db/0003_orders.sql"],
    );
    let (_, result) = check(dir.path(), &["--base", "v1"]);
    let edited = findings_of_rule(&result, EDITED);
    assert_eq!(edited.len(), 2, "{result:#}");
    assert_eq!(edited[0]["location"]["path"], "db/0001_create_users.sql");
    assert_eq!(edited[0]["severity"], "info");
    assert!(
        edited[0]["message"]
            .as_str()
            .unwrap()
            .contains("only renamed (same version)"),
        "{result:#}"
    );
    assert_eq!(edited[1]["location"]["path"], "db/0003_orders.sql");
    assert_eq!(edited[1]["severity"], "warn");
    assert!(
        edited[1]["message"]
            .as_str()
            .unwrap()
            .contains("runs it again"),
        "{result:#}"
    );
    // The renamed-to-a-new-version file is judged as new: it creates its table, so its index
    // is on a new table (no finding), and nothing of the same-version rename is judged.
    assert!(findings_of_rule(&result, INDEX).is_empty(), "{result:#}");
}

#[test]
fn files_run_in_the_runners_order_not_text_order() {
    // Flyway: 1 < 1.2 < 1.10. In text order V1_10 (widen to 15) comes before V1_2 (widen to 20)
    // and every change looks free; in version order V1_10 narrows 20 → 15: a rewrite.
    let dir = released(&[
        (
            "gonogo.yaml",
            "checks:\n  migrations:\n    paths: [\"sql/*.sql\"]\n",
        ),
        (
            "sql/V1__users.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY, name varchar(10));\n",
        ),
    ]);
    write(
        dir.path(),
        "sql/V1_2__widen.sql",
        "SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN name TYPE varchar(20);\n",
    );
    write(
        dir.path(),
        "sql/V1_10__narrow.sql",
        "SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN name TYPE varchar(15);\n",
    );
    let (_, result) = check(dir.path(), &["--base", "v1"]);
    let changes = described(&result)
        .into_iter()
        .filter(|(rule, ..)| rule == "migrations/pg-alter-column-type")
        .collect::<Vec<_>>();
    assert_eq!(
        changes,
        vec![(
            "migrations/pg-alter-column-type".to_string(),
            "sql/V1_10__narrow.sql".to_string(),
            2,
            "fail".to_string()
        )],
        "{result:#}"
    );
}

#[test]
fn an_order_file_decides_the_order_and_reports_what_it_does_not_list() {
    let dir = released(&[
        (
            "gonogo.yaml",
            "checks:\n  migrations:\n    paths: [\"db/*.sql\"]\n    order_file: db/atlas.sum\n",
        ),
        (
            "db/b_users.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY, name varchar(10));\n",
        ),
    ]);
    // atlas.sum as Atlas writes it: a checksum line, then `name h1:…` in apply order.
    write(
        dir.path(),
        "db/atlas.sum",
        "h1:abc=\nb_users.sql h1:x=\nc_widen.sql h1:y=\na_narrow.sql h1:z=\ngone.sql h1:w=\n",
    );
    write(
        dir.path(),
        "db/a_narrow.sql",
        "SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN name TYPE varchar(15);\n",
    );
    write(
        dir.path(),
        "db/c_widen.sql",
        "SET lock_timeout = '2s';\nALTER TABLE users ALTER COLUMN name TYPE varchar(20);\n",
    );
    write(dir.path(), "db/d_unlisted.sql", "SELECT 1;\n");
    let (_, result) = check(dir.path(), &["--base", "v1"]);
    let found = described(&result);
    assert!(
        found.contains(&(
            "migrations/pg-alter-column-type".to_string(),
            "db/a_narrow.sql".to_string(),
            2,
            "fail".to_string()
        )),
        "{result:#}"
    );
    assert!(
        !found
            .iter()
            .any(|(rule, path, ..)| rule == "migrations/pg-alter-column-type"
                && path == "db/c_widen.sql"),
        "{result:#}"
    );
    let order = findings_of_rule(&result, "migrations/unmatched-path");
    let messages: Vec<&str> = order
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(order.len(), 2, "{result:#}");
    assert!(
        messages
            .iter()
            .any(|m| m.contains("db/atlas.sum lists db/gone.sql, which does not exist")),
        "{messages:?}"
    );
    assert_eq!(order[0]["location"]["line"], 5, "{result:#}");
    assert!(
        messages
            .iter()
            .any(|m| m.contains("db/d_unlisted.sql is not listed in db/atlas.sum")),
        "{messages:?}"
    );
}

#[test]
fn several_sets_have_their_own_schema_dialect_and_name() {
    let dir = released(&[
        (
            "gonogo.yaml",
            "checks:\n  migrations:\n    - name: main\n      paths: [\"db/{pg,postgres}/*.sql\", \"!**/*_seed.sql\"]\n      dialect: postgres\n    - name: analytics\n      paths: [\"db/mysql/*.sql\"]\n      dialect: mysql\n",
        ),
        (
            "db/pg/0001_users.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
        ),
        (
            "db/mysql/0001_events.sql",
            "CREATE TABLE events (id bigint PRIMARY KEY, kind varchar(20)) ENGINE=InnoDB;\n",
        ),
    ]);
    // `users` exists in the PostgreSQL database only: the MySQL set's new `users` is new and
    // empty there, and the PostgreSQL set's index on its own `users` is the finding.
    write(
        dir.path(),
        "db/postgres/0002_email.sql",
        "SET lock_timeout = '2s';\nCREATE INDEX users_email_idx ON users (email);\n",
    );
    write(
        dir.path(),
        "db/pg/0003_data_seed.sql",
        "CREATE INDEX users_seed_idx ON users (id);\n",
    );
    write(
        dir.path(),
        "db/mysql/0002_users.sql",
        "CREATE TABLE users (id bigint PRIMARY KEY, email varchar(100)) ENGINE=InnoDB;\nALTER TABLE users ADD INDEX users_email (email), ALGORITHM=INPLACE, LOCK=NONE;\n",
    );
    let (out, result) = check(dir.path(), &["--base", "v1"]);
    let found = described(&result);
    let blocking: Vec<_> = found
        .iter()
        .filter(|(_, _, _, severity)| severity != "info")
        .collect();
    assert_eq!(
        blocking,
        vec![&(
            INDEX.to_string(),
            "db/postgres/0002_email.sql".to_string(),
            2,
            "fail".to_string()
        )],
        "{result:#} {}",
        out.stderr
    );
    assert!(
        findings_of_rule(&result, INDEX)[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("[main] "),
        "{result:#}"
    );
    let summary = result["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("main: 1 of 2 migration files changed since v1")
            && summary.contains("; analytics: 1 of 2 migration files changed since v1"),
        "{summary}"
    );
}

#[test]
fn a_dialect_variant_wins_over_the_generic_file_and_an_empty_one_skips_it() {
    // popx: `X.postgres.up.sql` runs on PostgreSQL instead of `X.up.sql`; an empty variant
    // means "nothing for this dialect"; other dialects' variants never run here.
    let dir = released(&[
        (
            "gonogo.yaml",
            "checks:\n  migrations:\n    paths: [\"migrations/*.sql\"]\n",
        ),
        (
            "migrations/20200101000000_users.up.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
        ),
    ]);
    let generic_index = "CREATE INDEX users_email_idx ON users (email);\n";
    write(
        dir.path(),
        "migrations/20210101000000_email.up.sql",
        generic_index,
    );
    write(
        dir.path(),
        "migrations/20210101000000_email.postgres.up.sql",
        "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY users_email_idx ON users (email);\n",
    );
    write(
        dir.path(),
        "migrations/20210101000000_email.sqlite3.up.sql",
        "CREATE INDEX users_email_idx ON users (email) WHERE email NOT GLOB '';\n",
    );
    write(
        dir.path(),
        "migrations/20210202000000_rebuild.up.sql",
        "REINDEX TABLE users;\n",
    );
    write(
        dir.path(),
        "migrations/20210202000000_rebuild.postgres.up.sql",
        "",
    );
    let (_, result) = check(dir.path(), &["--base", "v1"]);
    let found = described(&result);
    let paths: Vec<&str> = found.iter().map(|(_, p, ..)| p.as_str()).collect();
    assert!(
        paths
            .iter()
            .all(|p| *p == "migrations/20210101000000_email.postgres.up.sql"),
        "{result:#}"
    );
    assert!(
        !found
            .iter()
            .any(|(rule, ..)| rule == INDEX || rule == "migrations/pg-reindex-not-concurrent"),
        "{result:#}"
    );
}

#[test]
fn transaction_markers_of_each_runner_decide_per_file() {
    // CREATE INDEX CONCURRENTLY fails inside a transaction; each marker takes its file out of
    // the runner's per-file transaction, the unmarked control file stays in one.
    let concurrently = |name: &str| {
        format!(
            "SET lock_timeout = '2s';\nCREATE INDEX CONCURRENTLY {name}_idx ON users (email);\n"
        )
    };
    let dir = released(&[
        (
            "gonogo.yaml",
            "checks:\n  migrations:\n    paths: [\"db/*.sql\"]\n    transaction: per-file\n",
        ),
        (
            "db/00001_users.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
        ),
    ]);
    write(
        dir.path(),
        "db/00002_goose.sql",
        &format!(
            "-- +goose Up\n-- +goose NO TRANSACTION\n{}",
            concurrently("goose")
        ),
    );
    write(
        dir.path(),
        "db/00003_sqlx.sql",
        &format!("-- no-transaction\n{}", concurrently("sqlx"))
            .replace("SET lock_timeout = '2s';\n", ""),
    );
    write(
        dir.path(),
        "db/00004_popx.autocommit.up.sql",
        &concurrently("popx").replace("SET lock_timeout = '2s';\n", ""),
    );
    write(dir.path(), "db/00005_flyway.sql", &concurrently("flyway"));
    write(
        dir.path(),
        "db/00005_flyway.sql.conf",
        "executeInTransaction = false\n",
    );
    write(dir.path(), "db/00006_control.sql", &concurrently("control"));
    let (_, result) = check(dir.path(), &["--base", "v1"]);
    let in_transaction: Vec<String> =
        findings_of_rule(&result, "migrations/pg-concurrently-in-transaction")
            .iter()
            .map(|f| f["location"]["path"].as_str().unwrap().to_string())
            .collect();
    assert_eq!(in_transaction, vec!["db/00006_control.sql"], "{result:#}");
}

#[test]
fn a_template_placeholder_is_named_when_it_stops_the_parse_and_replaced_when_given() {
    let migration =
        "CREATE TABLE {{ index .Options \"Namespace\" }}.users (id bigint PRIMARY KEY);\n";
    let dir = released(&[(
        "gonogo.yaml",
        "checks:\n  migrations:\n    paths: [\"db/*.sql\"]\n",
    )]);
    write(dir.path(), "db/0001_users.sql", migration);
    let (_, result) = check(dir.path(), &["--base", "v1"]);
    let unparsed = findings_of_rule(&result, "migrations/unparsed-statement");
    assert_eq!(unparsed.len(), 1, "{result:#}");
    assert!(
        unparsed[0]["message"].as_str().unwrap().contains(
            "the template placeholder `{{ index .Options \"Namespace\" }}` (line 1) stopped the parse"
        ),
        "{result:#}"
    );

    write(
        dir.path(),
        "gonogo.yaml",
        "checks:\n  migrations:\n    paths: [\"db/*.sql\"]\n    placeholders:\n      '{{ index .Options \"Namespace\" }}': app\n      '${schema}': app\n",
    );
    write(
        dir.path(),
        "db/0002_flyway.sql",
        "CREATE TABLE ${schema}.orders (id bigint PRIMARY KEY);\n",
    );
    let (out, result) = check(dir.path(), &["--base", "v1"]);
    assert_eq!(out.code, 0, "{result:#}");
    assert!(
        findings_of_rule(&result, "migrations/unparsed-statement").is_empty(),
        "{result:#}"
    );
}

/// The config error for `yaml`: exit 2 and the stderr.
fn config_error(yaml: &str) -> String {
    let dir = project(&[("gonogo.yaml", yaml), ("db/0001.sql", "SELECT 1;\n")]);
    let out = run(gonogo().arg("check").arg(dir.path()));
    assert_eq!(out.code, 2, "{yaml}\n{}\n{}", out.stdout, out.stderr);
    out.stderr
}

#[test]
fn new_migration_keys_are_validated_with_positions() {
    let unnamed = config_error(
        "checks:\n  migrations:\n    - name: a\n      paths: [\"db/*.sql\"]\n    - paths: [\"db/*.sql\"]\n",
    );
    assert!(
        unnamed.contains("gonogo.yaml:5:7: this migration set has no `name`"),
        "{unnamed}"
    );
    let twice = config_error(
        "checks:\n  migrations:\n    - {name: a, paths: [\"db/*.sql\"]}\n    - {name: a, paths: [\"db/*.sql\"]}\n",
    );
    assert!(
        twice.contains("gonogo.yaml:4:14: two migration sets are named `a` (the first at line 3)"),
        "{twice}"
    );
    let empty_exclusion =
        config_error("checks:\n  migrations:\n    paths: [\"db/*.sql\", \"!\"]\n");
    assert!(
        empty_exclusion.contains("gonogo.yaml:3:12: the path pattern `!` is empty"),
        "{empty_exclusion}"
    );
    let braces = config_error("checks:\n  migrations:\n    paths: [\"db/{a,b/*.sql\"]\n");
    assert!(braces.contains("unbalanced braces"), "{braces}");
    assert!(braces.contains("gonogo.yaml:3:"), "{braces}");
    let empty_list = config_error("checks:\n  migrations: []\n");
    assert!(
        empty_list.contains("checks.migrations is an empty list"),
        "{empty_list}"
    );
    let unknown =
        config_error("checks:\n  migrations:\n    - name: a\n      order: db/atlas.sum\n");
    assert!(
        unknown.contains("gonogo.yaml:4:7: unknown key `order`"),
        "{unknown}"
    );
}

/// Flyway applies a repeatable migration (`R__x.sql`) again whenever its checksum changes
/// (Flyway docs, "Repeatable migrations"), and lemmy runs its `replaceable_schema/` again after
/// each change: an edit there is how the file is meant to change, so it is this deploy's SQL,
/// judged as such, and never `applied-migration-edited`. A versioned file beside them still is.
#[test]
fn an_edited_repeatable_migration_is_this_deploys_sql_not_an_applied_edit() {
    let view = "CREATE OR REPLACE VIEW user_ids AS SELECT id FROM users;\n";
    let dir = released(&[
        (
            "gonogo.yaml",
            "checks:\n  migrations:\n    paths: [\"db/migration/*.sql\", \"db/replaceable_schema/*.sql\"]\n",
        ),
        (
            "db/migration/V1__users.sql",
            "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n",
        ),
        ("db/migration/R__user_view.sql", view),
        ("db/replaceable_schema/views.sql", view),
    ]);
    write(
        dir.path(),
        "db/migration/R__user_view.sql",
        "CREATE OR REPLACE VIEW user_ids AS SELECT id, email FROM users;\n",
    );
    // The re-run file's new text is what the database runs: its index build is judged.
    write(
        dir.path(),
        "db/replaceable_schema/views.sql",
        &format!("{view}CREATE INDEX users_email_idx ON users (email);\n"),
    );
    write(
        dir.path(),
        "db/migration/V1__users.sql",
        "CREATE TABLE public.users (id bigint PRIMARY KEY, email text);\n",
    );
    let (_, result) = check(dir.path(), &["--base", "v1"]);
    let found: Vec<(String, String)> = described(&result)
        .into_iter()
        .map(|(rule, path, _, _)| (rule, path))
        .filter(|(rule, _)| rule != "migrations/pg-missing-lock-timeout")
        .collect();
    assert_eq!(
        found,
        [
            (EDITED.to_string(), "db/migration/V1__users.sql".to_string()),
            (
                INDEX.to_string(),
                "db/replaceable_schema/views.sql".to_string()
            ),
        ],
        "{result:#}"
    );
    assert!(
        result["summary"]
            .as_str()
            .unwrap()
            .starts_with("2 of 3 migration files changed since v1"),
        "{result}"
    );
}
