//! The trace on the scratch database cannot escape its rolled-back transaction or be forged by
//! the migration it traces (issue 14, points 1–5), against a real throwaway PostgreSQL cluster
//! (tests/common/pg.rs). Each escape is run for real; the catalog (tables, columns, relation
//! files, sequences' last_value, databases, roles, replication slots, large objects) and the rows
//! of every table are compared before and after, on the scratch database and on the other one.

use crate::common;

use common::migrations_json::{check, findings, migrations};
use common::pg::Cluster;
use common::project;
use serde_json::Value;
use std::time::{Duration, Instant};

const SCHEMA: &str = "
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL, amount int NOT NULL,
                     status text NOT NULL);
INSERT INTO orders (customer_id, amount, status)
  SELECT i % 50, i, 'open' FROM generate_series(1, 2000) AS i;
CREATE TABLE customers (id int PRIMARY KEY, name text);
INSERT INTO customers SELECT i, 'c' || i FROM generate_series(0, 49) AS i;
";

/// The app role's password on TCP connections.
const APP_PASSWORD: &str = "app-pw-31c8";

/// A cluster with databases `shop` (the "production" one) and `scratch`, each with the schema
/// owned by the non-superuser `app`.
fn cluster() -> Cluster {
    let cluster = Cluster::start();
    cluster.execute(
        "postgres",
        &format!("CREATE ROLE app LOGIN PASSWORD '{APP_PASSWORD}';"),
    );
    for db in ["shop", "scratch"] {
        cluster.execute("postgres", &format!("CREATE DATABASE {db} OWNER app"));
        cluster.execute(db, &format!("SET ROLE app;\n{SCHEMA}"));
    }
    cluster
}

/// Everything a trace must leave as it was.
fn fingerprint(cluster: &Cluster, db: &str) -> String {
    cluster.query(
        db,
        "SELECT
          (SELECT string_agg(c.relname || ':' || c.relkind::text || ':' || c.relfilenode, ',' ORDER BY c.relname)
             FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace),
          (SELECT string_agg(a.attrelid::regclass || '.' || a.attname || ':' || format_type(a.atttypid, a.atttypmod), ',' ORDER BY 1)
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
             WHERE c.relnamespace = 'public'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped),
          (SELECT string_agg(sequencename || '=' || coalesce(last_value::text, 'null'), ',' ORDER BY 1) FROM pg_sequences),
          (SELECT string_agg(datname, ',' ORDER BY 1) FROM pg_database),
          (SELECT string_agg(rolname, ',' ORDER BY 1) FROM pg_roles),
          (SELECT count(*) FROM pg_replication_slots),
          (SELECT count(*) FROM pg_largeobject_metadata),
          (SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o),
          (SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM customers c)",
    )
}

fn config(stats: bool, scratch: bool, as_superuser: bool) -> String {
    let mut text = "checks:\n  migrations:\n    paths: [\"db/*.sql\"]\n    database:\n".to_string();
    if stats {
        text.push_str("      stats_url: env:GONOGO_STATS_URL\n");
    }
    if scratch {
        text.push_str("      scratch_url: env:GONOGO_SCRATCH_URL\n");
    }
    if as_superuser {
        text.push_str("      trace_as_superuser: true\n");
    }
    text
}

/// The "not traced" reasons, by line.
fn not_traced(json: &Value) -> Vec<(u64, String)> {
    findings(json, "migrations/pg-not-traceable")
        .iter()
        .map(|f| {
            (
                f["location"]["line"].as_u64().unwrap(),
                f["message"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn standard_conforming_strings_off_cannot_smuggle_a_commit_into_the_trace() {
    let cluster = cluster();
    let before = (
        fingerprint(&cluster, "scratch"),
        fingerprint(&cluster, "shop"),
    );
    let sql = "SET standard_conforming_strings = off;\nSELECT 'a\\', '; COMMIT; DROP TABLE customers; SELECT '--';\n";
    let dir = project(&[
        ("gonogo.yaml", &config(false, true, false)),
        ("db/0001.sql", sql),
    ]);
    let env = [(
        "GONOGO_SCRATCH_URL",
        cluster.url_as("app", APP_PASSWORD, "scratch"),
    )];
    let out = check(dir.path(), &env, &[]);
    assert_eq!(
        (
            fingerprint(&cluster, "scratch"),
            fingerprint(&cluster, "shop")
        ),
        before,
        "a database changed: {}",
        out.stdout
    );
    // The static analysis reads the file as the server does: the DROP is a statement of its own.
    let dropped = findings(&out.json, "migrations/drop-table");
    assert_eq!(dropped.len(), 1, "{}", out.stdout);
    assert_eq!(dropped[0]["location"]["line"], 2);
    assert_eq!(migrations(&out.json)["status"], "fail", "{}", out.stdout);
    assert_eq!(out.code, 1);

    // The server's own default is off (the file says nothing): gonogo's parser reads the line
    // as one SELECT, the server would not, so it is not traced.
    cluster.execute(
        "postgres",
        "ALTER DATABASE scratch SET standard_conforming_strings = off",
    );
    let sql = "SELECT 'a\\', '; COMMIT; DROP TABLE customers; SELECT '--';\n";
    let dir = project(&[
        ("gonogo.yaml", &config(false, true, false)),
        ("db/0001.sql", sql),
    ]);
    let env = [(
        "GONOGO_SCRATCH_URL",
        cluster.url_as("app", APP_PASSWORD, "scratch"),
    )];
    let out = check(dir.path(), &env, &[]);
    assert_eq!(fingerprint(&cluster, "scratch"), before.0, "{}", out.stdout);
    let reasons = not_traced(&out.json);
    assert_eq!(reasons.len(), 1, "{}", out.stdout);
    assert!(
        reasons[0].1.contains("standard_conforming_strings off"),
        "{reasons:?}"
    );
    assert!(
        !migrations(&out.json)["summary"]
            .as_str()
            .unwrap()
            .contains("1 statements traced"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_migration_cannot_forge_the_trace() {
    let cluster = cluster();
    let env = [(
        "GONOGO_SCRATCH_URL",
        cluster.url_as("app", APP_PASSWORD, "scratch"),
    )];
    let before = fingerprint(&cluster, "scratch");
    // Temporary views shadowing the catalog gonogo reads.
    let sql = "\
CREATE TEMP VIEW pg_locks AS SELECT * FROM pg_catalog.pg_locks WHERE false;
CREATE TEMP VIEW pg_class AS SELECT * FROM pg_catalog.pg_class WHERE false;
ALTER TABLE orders ALTER COLUMN amount TYPE bigint;
";
    let dir = project(&[
        ("gonogo.yaml", &config(false, true, false)),
        ("db/0001.sql", sql),
    ]);
    let out = check(dir.path(), &env, &[]);
    assert_eq!(fingerprint(&cluster, "scratch"), before);
    let found = findings(&out.json, "migrations/pg-alter-column-type");
    assert_eq!(found.len(), 1, "{}", out.stdout);
    let evidence = found[0]["evidence"].as_str().unwrap_or_default();
    assert!(
        evidence.contains("ACCESS EXCLUSIVE on orders, rewritten"),
        "{}",
        out.stdout
    );
    assert!(
        !found[0]["message"]
            .as_str()
            .unwrap()
            .contains("not rewritten"),
        "{}",
        out.stdout
    );

    // A DO block that undoes its rewrite in an exception handler: the trace sees no rewrite,
    // and that does not lower the static prediction.
    let sql = "\
DO $$
BEGIN
  ALTER TABLE orders ALTER COLUMN amount TYPE bigint;
  RAISE EXCEPTION 'undo';
EXCEPTION WHEN others THEN NULL;
END
$$;
";
    let dir = project(&[
        ("gonogo.yaml", &config(false, true, false)),
        ("db/0001.sql", sql),
    ]);
    let offline = check(dir.path(), &env, &["--offline"]);
    let out = check(dir.path(), &env, &[]);
    assert_eq!(fingerprint(&cluster, "scratch"), before);
    let found = findings(&out.json, "migrations/pg-alter-column-type");
    assert_eq!(found.len(), 1, "{}", out.stdout);
    let message = found[0]["message"].as_str().unwrap();
    assert!(
        message.contains("the static prediction stands"),
        "{message}"
    );
    // Not lowered: the static analysis alone says the same.
    let statically = findings(&offline.json, "migrations/pg-alter-column-type");
    assert_eq!(found[0]["severity"], statically[0]["severity"]);
    assert_eq!(
        migrations(&out.json)["status"],
        migrations(&offline.json)["status"]
    );
    assert_eq!(out.code, offline.code);
}

#[test]
fn statements_that_act_outside_the_transaction_are_not_traced() {
    let cluster = cluster();
    cluster.execute("scratch", "CREATE EXTENSION dblink;");
    let marker_dir = tempfile::tempdir().unwrap();
    let marker = |n: u32| marker_dir.path().join(format!("escaped-{n}"));
    // The server runs as another user when the tests run as root: let it write there, so only
    // gonogo's refusal keeps the markers away.
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(marker_dir.path(), std::fs::Permissions::from_mode(0o777))
            .unwrap();
    }
    let mut victim = cluster.session("shop");
    victim.send("SET application_name = 'victim'; SELECT pg_sleep(600);");
    cluster.wait_for(
        "postgres",
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'victim'",
        "1",
    );
    let shop = format!(
        "host=127.0.0.1 port={} user=postgres password={} dbname=shop",
        cluster.port,
        common::pg::PASSWORD
    );
    let sql = format!(
        "\
ALTER TABLE orders ADD COLUMN traced_ok int;
SELECT setval('orders_id_seq', 999999);
SELECT nextval('orders_id_seq');
INSERT INTO orders (customer_id, amount, status) VALUES (1, 1, 'x');
SELECT pg_create_physical_replication_slot('gonogo_escape');
COPY (SELECT 1) TO PROGRAM 'touch {m1}';
DO $$ BEGIN EXECUTE 'COPY (SELECT 1) TO PROGRAM ''touch {m2}'''; END $$;
DO $$ DECLARE c text := 'COPY (SELECT 1) TO PROGRAM ' || quote_literal('touch {m3}'); BEGIN EXECUTE c; END $$;
DO $$ BEGIN PERFORM dblink_exec('{shop}', 'CREATE TABLE escaped ()'); END $$;
SELECT dblink_exec('{shop}', 'CREATE DATABASE escaped_db');
SELECT lo_import('/etc/hostname');
SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'victim';
ALTER SEQUENCE orders_id_seq RESTART 5000;
CREATE FUNCTION evil() RETURNS void LANGUAGE plpgsql AS $f$ BEGIN COPY (SELECT 1) TO PROGRAM 'touch {m4}'; END $f$;
SELECT evil();
",
        m1 = marker(1).display(),
        m2 = marker(2).display(),
        m3 = marker(3).display(),
        m4 = marker(4).display(),
    );
    let before = (
        fingerprint(&cluster, "scratch"),
        fingerprint(&cluster, "shop"),
    );
    // As a superuser, opted in: everything above would work if it ran.
    let dir = project(&[
        ("gonogo.yaml", &config(false, true, true)),
        ("db/0001.sql", &sql),
    ]);
    let out = check(
        dir.path(),
        &[("GONOGO_SCRATCH_URL", cluster.url("scratch"))],
        &[],
    );
    assert_eq!(
        (
            fingerprint(&cluster, "scratch"),
            fingerprint(&cluster, "shop")
        ),
        before,
        "{}",
        out.stdout
    );
    for n in 1..=4 {
        assert!(!marker(n).exists(), "marker {n} written: {}", out.stdout);
    }
    assert_eq!(
        cluster.query(
            "postgres",
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'victim'"
        ),
        "1",
        "the victim session was terminated"
    );
    // The first statement is traced; every other one is reported, with why.
    let traced = findings(&out.json, "migrations/pg-traced-locks");
    assert!(
        traced.iter().any(|f| f["location"]["line"] == 1),
        "{}",
        out.stdout
    );
    let reasons = not_traced(&out.json);
    let lines: Vec<u64> = reasons.iter().map(|(l, _)| *l).collect();
    assert_eq!(lines, (2..=15).collect::<Vec<u64>>(), "{reasons:#?}");
    let reason = |line: u64| &reasons.iter().find(|(l, _)| *l == line).unwrap().1;
    for (line, why) in [
        (2, "setval"),
        (3, "nextval"),
        (4, "sequences"),
        (5, "replication"),
        (6, "shell command"),
        (7, "shell command"),
        (8, "built at run time"),
        (9, "dblink"),
        (10, "dblink"),
        (11, "large-object"),
        (12, "signals other sessions"),
        (13, "sequence"),
        (14, "evil()"),
        (15, "line 14"),
    ] {
        assert!(reason(line).contains(why), "line {line}: {}", reason(line));
    }
    assert_ne!(migrations(&out.json)["status"], "error", "{}", out.stdout);
    drop(victim);
}

#[test]
fn a_superuser_is_refused_unless_the_config_opts_in() {
    let cluster = cluster();
    let before = fingerprint(&cluster, "scratch");
    let sql = "ALTER TABLE orders ADD COLUMN note text;\n";
    let dir = project(&[
        ("gonogo.yaml", &config(false, true, false)),
        ("db/0001.sql", sql),
    ]);
    let out = check(
        dir.path(),
        &[("GONOGO_SCRATCH_URL", cluster.url("scratch"))],
        &[],
    );
    assert_eq!(migrations(&out.json)["status"], "error", "{}", out.stdout);
    let summary = migrations(&out.json)["summary"].as_str().unwrap();
    assert!(
        summary.contains("refusing to trace as a superuser")
            && summary.contains("trace_as_superuser: true"),
        "{summary}"
    );
    assert_eq!(out.code, 1);
    // A role that may SET ROLE to a superuser is one.
    cluster.execute(
        "postgres",
        "CREATE ROLE admins SUPERUSER NOLOGIN; GRANT admins TO app;",
    );
    let out = check(
        dir.path(),
        &[(
            "GONOGO_SCRATCH_URL",
            cluster.url_as("app", APP_PASSWORD, "scratch"),
        )],
        &[],
    );
    let summary = migrations(&out.json)["summary"].as_str().unwrap();
    assert!(summary.contains("may SET ROLE to, admins"), "{summary}");
    cluster.execute("postgres", "REVOKE admins FROM app; DROP ROLE admins;");
    // The schema's owner, not a superuser: traced.
    let out = check(
        dir.path(),
        &[(
            "GONOGO_SCRATCH_URL",
            cluster.url_as("app", APP_PASSWORD, "scratch"),
        )],
        &[],
    );
    assert_ne!(migrations(&out.json)["status"], "error", "{}", out.stdout);
    assert_eq!(findings(&out.json, "migrations/pg-traced-locks").len(), 1);
    assert_eq!(fingerprint(&cluster, "scratch"), before);
}

#[test]
fn server_identity_that_cannot_be_proven_refuses_the_trace() {
    let cluster = cluster();
    // Function privileges are per database.
    for db in ["shop", "scratch"] {
        cluster.execute(
            db,
            "REVOKE EXECUTE ON FUNCTION pg_control_system() FROM PUBLIC;",
        );
    }
    let before = (
        fingerprint(&cluster, "scratch"),
        fingerprint(&cluster, "shop"),
    );
    let sql = "ALTER TABLE orders ADD COLUMN note text;\n";
    let dir = project(&[
        ("gonogo.yaml", &config(true, true, false)),
        ("db/0001.sql", sql),
    ]);
    let env = [
        (
            "GONOGO_STATS_URL",
            cluster.url_as("app", APP_PASSWORD, "shop"),
        ),
        (
            "GONOGO_SCRATCH_URL",
            cluster.url_as("app", APP_PASSWORD, "scratch"),
        ),
    ];
    let out = check(dir.path(), &env, &[]);
    assert_eq!(migrations(&out.json)["status"], "error", "{}", out.stdout);
    let summary = migrations(&out.json)["summary"].as_str().unwrap();
    assert!(
        summary.contains("cannot prove")
            && summary.contains("GRANT EXECUTE ON FUNCTION pg_catalog.pg_control_system()"),
        "{summary}"
    );
    assert!(findings(&out.json, "migrations/pg-traced-locks").is_empty());
    assert_eq!(
        (
            fingerprint(&cluster, "scratch"),
            fingerprint(&cluster, "shop")
        ),
        before
    );
    // Granted: the identities differ (two databases), and the trace runs.
    for db in ["shop", "scratch"] {
        cluster.execute(db, "GRANT EXECUTE ON FUNCTION pg_control_system() TO app;");
    }
    let out = check(dir.path(), &env, &[]);
    assert_ne!(migrations(&out.json)["status"], "error", "{}", out.stdout);
    assert_eq!(findings(&out.json, "migrations/pg-traced-locks").len(), 1);
}

#[test]
fn at_the_deadline_the_scratch_backend_is_cancelled_and_gone() {
    let cluster = cluster();
    let mut holder = cluster.session_with_output("scratch");
    holder.send("BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE; SELECT 'locked';");
    holder.wait_for_line("locked");
    // The migration lifts the trace's timeouts: only the deadline ends its wait for the lock.
    let sql =
        "SET lock_timeout = 0;\nSET statement_timeout = 0;\nALTER TABLE orders ADD COLUMN x int;\n";
    let dir = project(&[
        ("gonogo.yaml", &config(false, true, false)),
        ("db/0001.sql", sql),
    ]);
    let started = Instant::now();
    let out = check(
        dir.path(),
        &[(
            "GONOGO_SCRATCH_URL",
            cluster.url_as("app", APP_PASSWORD, "scratch"),
        )],
        &["--deadline", "4s"],
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_eq!(migrations(&out.json)["status"], "error", "{}", out.stdout);
    // No backend of gonogo's is left waiting for (or holding) the lock.
    cluster.wait_for(
        "postgres",
        "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'gonogo'",
        "0",
    );
    drop(holder);
}
