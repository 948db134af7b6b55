//! `gonogo init`'s migration sets on the layouts real repositories have (field test on
//! LemmyNet/lemmy, supabase/auth, ory/kratos): one readable pattern for diesel's folder per
//! migration, SQL the runner applies again (a replaceable/repeatable folder, unversioned
//! re-runnable scripts) and setup scripts left out with the reason, and the proposed config
//! checked end to end: an edit to the replaceable SQL is not an "applied migration edited".

use crate::common;
use common::*;

const CREATE_USERS: &str = "CREATE TABLE users (id bigint PRIMARY KEY, email text);\n";
const DROP_USERS: &str = "DROP TABLE users;\n";
const TRIGGERS: &str = "CREATE FUNCTION r.users_count () RETURNS trigger LANGUAGE plpgsql AS $$\nBEGIN\n  RETURN NULL;\nEND;\n$$;\n\nCREATE TRIGGER users_count AFTER INSERT ON users FOR EACH STATEMENT EXECUTE FUNCTION r.users_count ();\n";

/// A diesel project (one folder per migration, `up.sql` and `down.sql`), lemmy's replaceable
/// schema beside it, a versioned migration *about* the replaceable schema, a folder of
/// re-runnable unversioned scripts, a setup script, and an API test suite.
fn diesel_project() -> tempfile::TempDir {
    project(&[
        (
            "migrations/2024-01-01-000000_create_users/up.sql",
            CREATE_USERS,
        ),
        (
            "migrations/2024-01-01-000000_create_users/down.sql",
            DROP_USERS,
        ),
        (
            "migrations/2024-02-01-000000_replaceable-schema/up.sql",
            "CREATE SCHEMA IF NOT EXISTS r;\nALTER TABLE users ADD COLUMN name text;\n",
        ),
        (
            "migrations/2024-02-01-000000_replaceable-schema/down.sql",
            "ALTER TABLE users DROP COLUMN name;\n",
        ),
        (
            "migrations/2024-03-01-000000_add_posts/up.sql",
            "CREATE TABLE posts (id bigint PRIMARY KEY, user_id bigint);\n",
        ),
        (
            "migrations/2024-03-01-000000_add_posts/down.sql",
            "DROP TABLE posts;\n",
        ),
        ("crates/db/replaceable_schema/triggers.sql", TRIGGERS),
        (
            "crates/db/replaceable_schema/utils.sql",
            "CREATE FUNCTION r.one () RETURNS int LANGUAGE sql AS 'SELECT 1';\n",
        ),
        (
            "db/functions/users.sql",
            "CREATE OR REPLACE FUNCTION user_count () RETURNS bigint LANGUAGE sql AS 'SELECT count(*) FROM users';\nDROP VIEW IF EXISTS active_users;\nCREATE VIEW active_users AS SELECT id FROM users;\n",
        ),
        (
            "scripts/init_db.sql",
            "CREATE USER app LOGIN;\nCREATE DATABASE app OWNER app;\n",
        ),
        ("crates/db/src/lib.rs", "pub fn users() {}\n"),
        ("api_tests/src/users.ts", "export const x = 1;\n"),
    ])
}

/// The config's `migrations:` block and the lines about SQL left out: what a maintainer reads.
fn migrations_part(config: &str) -> String {
    config
        .lines()
        .skip_while(|l| !l.starts_with("  migrations:"))
        .take_while(|l| !l.starts_with("  compat:"))
        .chain(config.lines().filter(|l| l.contains("code_paths:")))
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn a_diesel_repository_gets_one_pattern_and_its_replaceable_sql_left_out() {
    let dir = diesel_project();
    let out = run(gonogo().arg("init").arg("--stdout").arg(dir.path()));
    assert_eq!(out.code, 0, "{}", out.stderr);
    insta::assert_snapshot!("init_diesel_with_replaceable", migrations_part(&out.stdout));
}

#[test]
fn the_proposed_config_does_not_call_an_edit_to_replaceable_sql_an_applied_migration() {
    let dir = diesel_project();
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-qm", "v1"]);
    git(dir.path(), &["tag", "v1"]);
    let init = run(gonogo().arg("init").arg(dir.path()));
    assert_eq!(init.code, 0, "{}", init.stderr);
    // This release: the replaceable triggers change (as lemmy's do in most releases), the
    // setup script changes, and one new migration.
    write(
        dir.path(),
        "crates/db/replaceable_schema/triggers.sql",
        &TRIGGERS.replace("RETURN NULL;", "PERFORM 1;\n  RETURN NULL;"),
    );
    write(
        dir.path(),
        "scripts/init_db.sql",
        "CREATE USER app LOGIN NOINHERIT;\n",
    );
    write(
        dir.path(),
        "migrations/2024-04-01-000000_posts_user_index/up.sql",
        "SET lock_timeout = '2s';\nCREATE INDEX posts_user_idx ON posts (user_id);\n",
    );
    write(
        dir.path(),
        "migrations/2024-04-01-000000_posts_user_index/down.sql",
        "DROP INDEX posts_user_idx;\n",
    );
    let (_, result) = check_only(dir.path(), "migrations", &["--base", "v1"]);
    let rules: Vec<(&str, &str)> = result["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap(),
                f["location"]["path"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        rules,
        [(
            "migrations/pg-add-index-not-concurrent",
            "migrations/2024-04-01-000000_posts_user_index/up.sql"
        )],
        "{result:#}"
    );
    assert!(
        result["summary"]
            .as_str()
            .unwrap()
            .starts_with("1 of 4 migration files changed since v1"),
        "{result}"
    );
}

#[test]
fn flyway_repeatable_files_stay_in_the_set_and_versioned_folders_are_listed_when_they_differ() {
    let dir = project(&[
        (
            "db/migration/V1__users.sql",
            "CREATE TABLE users (id bigint);\n",
        ),
        (
            "db/migration/R__user_view.sql",
            "CREATE OR REPLACE VIEW user_ids AS SELECT id FROM users;\n",
        ),
        ("db/legacy/0001_a.sql", "CREATE TABLE a (id bigint);\n"),
        ("db/legacy/0002_b.sql", "CREATE TABLE b (id bigint);\n"),
    ]);
    let out = run(gonogo().arg("init").arg("--stdout").arg(dir.path()));
    assert_eq!(out.code, 0, "{}", out.stderr);
    // Flyway applies R__ files itself, after the versioned ones: they belong to the set (the
    // check treats an edit to one as this deploy's). Two folders of many files each are
    // clearer listed than as `db/*/*.sql`.
    assert!(
        out.stdout
            .contains("paths: [\"db/legacy/*.sql\", \"db/migration/*.sql\"]"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("not a migration"), "{}", out.stdout);
}

/// supabase/auth writes `{{ index .Options "Namespace" }}` (two spacings) where its runner puts
/// the schema: unfilled, every such statement was an `unparsed-statement` failure. init proposes
/// each spelling as a placeholder, and the proposed config reads the SQL.
#[test]
fn template_placeholders_are_proposed_and_the_proposed_config_reads_the_sql() {
    let dir = project(&[
        (
            "migrations/20240101000000_users.up.sql",
            "create table if not exists {{ index .Options \"Namespace\" }}.users (id uuid primary key);\n",
        ),
        (
            "migrations/20240201000000_email.up.sql",
            "alter table {{index .Options \"Namespace\" }}.users add column email text;\n",
        ),
    ]);
    let init = run(gonogo().arg("init").arg(dir.path()));
    assert_eq!(init.code, 0, "{}", init.stderr);
    let config = std::fs::read_to_string(dir.path().join("gonogo.yaml")).unwrap();
    assert!(
        config.contains(
            "    placeholders:                 # template text your runner fills in: put its real value\n      \"{{ index .Options \\\"Namespace\\\" }}\": namespace\n      \"{{index .Options \\\"Namespace\\\" }}\": namespace\n"
        ),
        "{config}"
    );
    let (out, result) = check_only(dir.path(), "migrations", &[]);
    assert_ne!(out.code, 2, "{}", out.stderr);
    assert!(
        findings(&result, "migrations/unparsed-statement").is_empty(),
        "{result:#}"
    );
}

/// `migrations/*/up.sql` would also reach a test folder the listing left out
/// (`migrations/test/up.sql`): then the folders are listed one by one instead.
#[test]
fn the_one_pattern_never_reaches_a_folder_init_left_out() {
    let dir = project(&[
        ("migrations/2024-01-01_users/up.sql", CREATE_USERS),
        (
            "migrations/2024-02-01_posts/up.sql",
            "CREATE TABLE posts (id bigint);\n",
        ),
        (
            "migrations/test/up.sql",
            "INSERT INTO users VALUES (1, 'a');\n",
        ),
    ]);
    let out = run(gonogo().arg("init").arg("--stdout").arg(dir.path()));
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert!(
        out.stdout.contains(
            "paths: [\"migrations/2024-01-01_users/*.sql\", \"migrations/2024-02-01_posts/*.sql\"]"
        ),
        "{}",
        out.stdout
    );
}
