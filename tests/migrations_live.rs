//! The live part of `migrations` against a real, throwaway PostgreSQL cluster (tests/common/pg.rs):
//! lock-time estimates from real table statistics compared with the measured time of the same
//! statement, the pre-flight with a real second session holding a lock, the trace on a scratch
//! database that must be byte-for-byte unchanged afterwards, and the faults (refused, wrong
//! password, a statement timing out, a query waiting for a lock, the server disappearing
//! mid-check, a server that requires TLS, a certificate that fails verification), with the
//! password absent from every output format. TLS: each `sslmode` against one cluster that
//! accepts only `hostssl` connections (tests/common/pg.rs, `Cluster::start_tls`).
//!
//! How close an estimate comes to the measured time of the same statement depends on the machine
//! and its load, so no test asserts it: `cargo bench --bench migrations_live` measures the ratio
//! and README.md has the figures. The tests check what the estimate is made of (rows, the work
//! named) and compare estimates with each other.

use crate::common;

use common::migrations_json::{Checked, check, findings, migrations};
use common::pg::{Cluster, PASSWORD};
use common::{gonogo, project, run};
use serde_json::Value;
use std::time::{Duration, Instant};

const ORDERS: &str = "
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL, amount int NOT NULL,
                     status text NOT NULL, note varchar(64));
INSERT INTO orders (customer_id, amount, status, note)
  SELECT i % 5000, i % 100000, CASE WHEN i % 3 = 0 THEN 'paid' ELSE 'open' END, 'order note ' || i
  FROM generate_series(1, 200000) AS i;
CREATE INDEX orders_customer_idx ON orders (customer_id);
CREATE TABLE customers (id int PRIMARY KEY, name text);
INSERT INTO customers SELECT i, 'c' || i FROM generate_series(0, 4999) AS i;
VACUUM ANALYZE orders;
VACUUM ANALYZE customers;
";

fn config(max_lock_seconds: f64, stats: bool, scratch: bool) -> String {
    let mut text = format!(
        "checks:\n  migrations:\n    paths: [\"db/*.sql\"]\n    max_lock_seconds: {max_lock_seconds}\n    database:\n"
    );
    if stats {
        text.push_str("      stats_url: env:GONOGO_STATS_URL\n");
    }
    if scratch {
        // The throwaway cluster's only role is its superuser: these tests opt in to tracing as
        // it (tests/trace_isolation.rs covers the refusal and least-privilege roles).
        text.push_str(
            "      scratch_url: env:GONOGO_SCRATCH_URL\n      trace_as_superuser: true\n",
        );
    }
    text
}

/// `~38 s`, `~2.4 s`, `~120 ms`, `under 10 ms` after "rows): " in a live message → seconds.
fn estimate_in(message: &str) -> f64 {
    let rest = message
        .split("rows): ")
        .nth(1)
        .unwrap_or_else(|| panic!("no estimate in: {message}"));
    if rest.starts_with("under 10 ms") {
        return 0.010;
    }
    let rest = rest.trim_start_matches('~');
    let mut parts = rest.split_whitespace();
    let number: f64 = parts.next().unwrap().parse().unwrap();
    match parts.next().unwrap() {
        "ms" => number / 1000.0,
        "s" => number,
        unit => panic!("unit {unit} in {message}"),
    }
}

#[test]
fn estimates_from_real_statistics_name_the_work_and_scale_with_the_table() {
    let cluster = Cluster::start();
    cluster.create_database("shop");
    cluster.execute("shop", ORDERS);
    let cases = [
        (
            "rewrite",
            "ALTER TABLE {table} ALTER COLUMN {column} TYPE bigint",
            "migrations/pg-alter-column-type",
            "rewrites",
        ),
        (
            "index build",
            "CREATE INDEX {table}_{column}_idx ON {table} ({column})",
            "migrations/pg-add-index-not-concurrent",
            "builds an index on",
        ),
        (
            "scan",
            "ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_positive CHECK ({column} >= 0)",
            "migrations/pg-add-check-constraint",
            "scans",
        ),
    ];
    // The same statement on the 200,000-row table and on the 5,000-row one: each estimate comes
    // from that table's own statistics, so the big table's is many times the small one's.
    let estimate = |sql: &str, rule: &str, verb: &str, table: &str, rows: &str| -> f64 {
        let dir = project(&[
            ("gonogo.yaml", &config(100.0, true, false)),
            (
                "db/0001_change.sql",
                &format!("SET lock_timeout = '2s';\n{sql};\n"),
            ),
        ]);
        let out = check(
            dir.path(),
            &[("GONOGO_STATS_URL", cluster.url("shop"))],
            &[],
        );
        let found = findings(&out.json, rule);
        assert_eq!(found.len(), 1, "{sql}: {}", out.stdout);
        let message = found[0]["message"].as_str().unwrap();
        assert!(message.contains(&format!("{verb} {table}")), "{message}");
        assert!(message.contains(&format!("~{rows} rows")), "{message}");
        assert!(message.contains("writes would queue"), "{message}");
        // Within max_lock_seconds (100 s): not a fail any more.
        assert_ne!(found[0]["severity"], "fail", "{message}");
        estimate_in(message)
    };
    for (what, sql, rule, verb) in cases {
        let on =
            |table: &str, column: &str| sql.replace("{table}", table).replace("{column}", column);
        let big = estimate(&on("orders", "amount"), rule, verb, "orders", "200,000");
        let small = estimate(&on("customers", "id"), rule, verb, "customers", "5,000");
        // 40 times the rows; the small table's estimate is shown as "under 10 ms", read here as
        // 10 ms, so the ratio seen can be far below 40 but never near 1.
        assert!(
            big > 3.0 * small,
            "{what}: the estimate for 200,000 rows ({big:.3} s) is not many times the one for 5,000 ({small:.3} s)"
        );
    }
}

/// Locks are released at COMMIT: in a per-file transaction the small table's lock is held while
/// the big table is rewritten after it, so its window is the sum. A DO block's statements are
/// estimated too.
#[test]
fn a_lock_is_held_until_its_transaction_commits() {
    let cluster = Cluster::start();
    cluster.create_database("shop");
    cluster.execute("shop", ORDERS);
    let sql = "SET lock_timeout = '2s';\nALTER TABLE customers ALTER COLUMN id TYPE bigint;\nDO $$\nBEGIN\n  ALTER TABLE orders ALTER COLUMN amount TYPE bigint;\nEND\n$$;\n";
    let url = [("GONOGO_STATS_URL", cluster.url("shop"))];
    let customers_finding = |json: &Value| {
        findings(json, "migrations/pg-alter-column-type")
            .into_iter()
            .find(|f| {
                f["message"]
                    .as_str()
                    .unwrap()
                    .contains("rewrites customers")
            })
            .cloned()
            .unwrap_or_else(|| panic!("no customers rewrite in {json:#}"))
    };

    let dir = project(&[
        ("gonogo.yaml", &config(0.1, true, false)),
        ("db/0001.sql", sql),
    ]);
    let out = check(dir.path(), &url, &[]);
    let customers = customers_finding(&out.json);
    let message = customers["message"].as_str().unwrap();
    assert!(
        message
            .contains("and the lock is held until the transaction commits, 1 statement later: ~"),
        "{message}"
    );
    assert_eq!(
        customers["severity"], "fail",
        "the sum is past 0.1 s: {customers}"
    );
    let orders = findings(&out.json, "migrations/pg-alter-column-type")
        .into_iter()
        .find(|f| f["message"].as_str().unwrap().contains("rewrites orders"))
        .cloned()
        .unwrap_or_else(|| panic!("the DO block's rewrite is estimated: {}", out.stdout));
    assert_eq!(orders["location"]["line"], 5, "{orders}");

    // Each statement in its own transaction: nothing is held past the statement.
    let per_statement = config(0.1, true, false).replace(
        "    max_lock_seconds",
        "    transaction: per-statement\n    max_lock_seconds",
    );
    let dir = project(&[("gonogo.yaml", &per_statement), ("db/0001.sql", sql)]);
    let out = check(dir.path(), &url, &[]);
    let customers = customers_finding(&out.json);
    assert!(
        !customers["message"]
            .as_str()
            .unwrap()
            .contains("held until"),
        "{customers}"
    );
}

#[test]
fn severity_follows_the_estimate_against_max_lock_seconds() {
    let cluster = Cluster::start();
    cluster.create_database("shop");
    cluster.execute("shop", ORDERS);
    let sql = "SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN amount TYPE bigint;\nALTER TABLE customers ALTER COLUMN id TYPE bigint;\n";
    let url = [("GONOGO_STATS_URL", cluster.url("shop"))];

    let dir = project(&[
        ("gonogo.yaml", &config(0.05, true, false)),
        ("db/0001.sql", sql),
    ]);
    let out = check(dir.path(), &url, &[]);
    let found = findings(&out.json, "migrations/pg-alter-column-type");
    assert_eq!(found.len(), 2, "{}", out.stdout);
    let orders = found
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("rewrites orders"))
        .unwrap();
    assert_eq!(orders["severity"], "fail", "{orders}");
    assert_eq!(out.code, 1);

    // 5,000 customers: ~0.2 MB, far within 100 s: a pass (info), and the check passes.
    let dir = project(&[
        ("gonogo.yaml", &config(100.0, true, false)),
        ("db/0001.sql", sql),
    ]);
    let out = check(dir.path(), &url, &[]);
    let found = findings(&out.json, "migrations/pg-alter-column-type");
    let customers = found
        .iter()
        .find(|f| {
            f["message"]
                .as_str()
                .unwrap()
                .contains("rewrites customers")
        })
        .unwrap();
    assert_eq!(customers["severity"], "info", "{customers}");
    assert!(
        customers["evidence"]
            .as_str()
            .unwrap()
            .contains("(static analysis: "),
        "{customers}"
    );
    let summary = migrations(&out.json)["summary"].as_str().unwrap();
    assert!(
        summary.contains("live: statistics of 2 of 2 tables"),
        "{summary}"
    );

    // --offline: the static analysis only, and the summary says the live part was skipped.
    let out = check(dir.path(), &url, &["--offline"]);
    let summary = migrations(&out.json)["summary"].as_str().unwrap();
    assert!(
        summary.contains("live database part skipped: --offline"),
        "{summary}"
    );
    let found = findings(&out.json, "migrations/pg-alter-column-type");
    assert!(
        found
            .iter()
            .all(|f| !f["message"].as_str().unwrap().contains("Live estimate")),
        "{}",
        out.stdout
    );
}

#[test]
fn a_missing_table_makes_the_estimate_unavailable() {
    let cluster = Cluster::start();
    cluster.create_database("shop");
    let dir = project(&[
        ("gonogo.yaml", &config(2.0, true, false)),
        (
            "db/0001.sql",
            "SET lock_timeout = '2s';\nALTER TABLE invoices ALTER COLUMN total TYPE bigint;\n",
        ),
    ]);
    let out = check(
        dir.path(),
        &[("GONOGO_STATS_URL", cluster.url("shop"))],
        &[],
    );
    let found = findings(&out.json, "migrations/pg-estimate-unavailable");
    assert_eq!(found.len(), 1, "{}", out.stdout);
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("no table invoices")
    );
}

#[test]
fn preflight_reports_a_session_idle_in_transaction_holding_a_lock() {
    let cluster = Cluster::start();
    cluster.create_database("shop");
    cluster.execute("shop", ORDERS);
    let mut session = cluster.session("shop");
    session.send("BEGIN; SELECT count(*) FROM orders WHERE id = 1;");
    cluster.wait_for(
        "shop",
        "SELECT count(*) FROM pg_stat_activity WHERE state = 'idle in transaction'",
        "1",
    );
    let dir = project(&[
        ("gonogo.yaml", &config(2.0, true, false)),
        (
            "db/0001.sql",
            "SET lock_timeout = '2s';\nALTER TABLE orders RENAME COLUMN note TO remark;\n",
        ),
    ]);
    let out = check(
        dir.path(),
        &[("GONOGO_STATS_URL", cluster.url("shop"))],
        &[],
    );
    let found = findings(&out.json, "migrations/pg-blocking-session");
    assert_eq!(found.len(), 1, "{}", out.stdout);
    let message = found[0]["message"].as_str().unwrap();
    assert!(message.contains("idle in transaction"), "{message}");
    assert!(message.contains("ACCESS SHARE on orders"), "{message}");
    assert!(
        message.contains("ACCESS EXCLUSIVE waits behind it"),
        "{message}"
    );
    assert_eq!(found[0]["severity"], "fail");
    assert!(
        found[0]["fix"]
            .as_str()
            .unwrap()
            .contains("pg_terminate_backend")
    );

    // A waiting session (the queue already exists) is reported too.
    drop(session);
    let mut holder = cluster.session("shop");
    holder.send("BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;");
    cluster.wait_for(
        "shop",
        "SELECT count(*) FROM pg_locks WHERE mode = 'AccessExclusiveLock' AND relation = 'orders'::regclass",
        "1",
    );
    let mut waiter = cluster.session("shop");
    waiter.send("SELECT count(*) FROM orders;");
    cluster.wait_for(
        "shop",
        "SELECT count(*) FROM pg_locks WHERE NOT granted",
        "1",
    );
    let out = check(
        dir.path(),
        &[("GONOGO_STATS_URL", cluster.url("shop"))],
        &[],
    );
    let found = findings(&out.json, "migrations/pg-blocking-session");
    assert!(
        found
            .iter()
            .any(|f| f["message"].as_str().unwrap().contains("already waiting")),
        "{}",
        out.stdout
    );
    assert!(
        found.iter().any(|f| f["message"]
            .as_str()
            .unwrap()
            .contains("holds ACCESS EXCLUSIVE on orders")),
        "{}",
        out.stdout
    );
    drop(waiter);
    drop(holder);
}

/// Everything that must not change in the scratch database: the schema, each table's rows, and
/// each relation's file (a committed rewrite would change it).
fn fingerprint(cluster: &Cluster, db: &str) -> String {
    // pg_dump ≥ 15.14 writes a random `\restrict` key into each dump: not part of the schema.
    let schema = cluster
        .schema_dump(db)
        .map(|dump| {
            dump.lines()
                .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
                .collect::<Vec<_>>()
                .join("\n")
        })
        .unwrap_or_else(|| {
            cluster.query(
            db,
            "SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY 1)
             FROM information_schema.columns WHERE table_schema = 'public'",
        )
        });
    let data = cluster.query(
        db,
        "SELECT (SELECT count(*) FROM orders), (SELECT sum(amount) FROM orders),
                (SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o),
                (SELECT count(*) FROM customers),
                (SELECT string_agg(relname || '=' || relfilenode, ',' ORDER BY relname) FROM pg_class
                  WHERE relnamespace = 'public'::regnamespace)",
    );
    format!("{schema}\n{data}")
}

#[test]
fn the_trace_reports_real_locks_and_leaves_the_scratch_database_unchanged() {
    let cluster = Cluster::start();
    cluster.create_database("shop");
    cluster.create_database("shop_scratch");
    cluster.execute("shop", ORDERS);
    cluster.execute("shop_scratch", &ORDERS.replace("200000", "2000"));
    let before = fingerprint(&cluster, "shop_scratch");
    let sql = "\
SET lock_timeout = '2s';
ALTER TABLE orders ADD COLUMN shipped_at timestamptz;
ALTER TABLE orders ALTER COLUMN amount TYPE bigint;
ALTER TABLE orders ALTER COLUMN note TYPE text;
UPDATE orders SET status = 'paid';
COMMIT;
CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
";
    let dir = project(&[
        ("gonogo.yaml", &config(100.0, true, true)),
        ("db/0001.sql", sql),
    ]);
    let env = [
        ("GONOGO_STATS_URL", cluster.url("shop")),
        ("GONOGO_SCRATCH_URL", cluster.url("shop_scratch")),
    ];
    let out = check(dir.path(), &env, &[]);
    assert_eq!(
        fingerprint(&cluster, "shop_scratch"),
        before,
        "the scratch database changed"
    );

    // The rewrite: predicted and traced alike; the trace is in the evidence.
    let found = findings(&out.json, "migrations/pg-alter-column-type");
    let amount = found
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("amount"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    let evidence = amount["evidence"].as_str().unwrap();
    assert!(
        evidence.contains("traced on the scratch database: ACCESS EXCLUSIVE on orders, rewritten"),
        "{evidence}"
    );
    // varchar(64) → text: the migrations do not say what `note` was, so the static analysis
    // warns of a possible rewrite; the trace shows none, and wins.
    let note = found
        .iter()
        .find(|f| f["message"].as_str().unwrap().contains("ALTER COLUMN note"))
        .unwrap_or_else(|| panic!("{}", out.stdout));
    let message = note["message"].as_str().unwrap();
    assert!(message.contains("not rewritten"), "{message}");
    assert!(message.contains("the traced result wins"), "{message}");
    // ADD COLUMN without default: no static finding, ACCESS EXCLUSIVE traced (info).
    let traced = findings(&out.json, "migrations/pg-traced-locks");
    assert!(
        traced.iter().any(|f| f["location"]["line"] == 2
            && f["message"]
                .as_str()
                .unwrap()
                .contains("ACCESS EXCLUSIVE on orders")),
        "{}",
        out.stdout
    );
    // CONCURRENTLY: not run.
    let not_traced = findings(&out.json, "migrations/pg-not-traceable");
    assert_eq!(not_traced.len(), 1, "{}", out.stdout);
    assert_eq!(not_traced[0]["location"]["line"], 7);
    let summary = migrations(&out.json)["summary"].as_str().unwrap();
    assert!(
        summary.contains("statements traced on postgres@127.0.0.1"),
        "{summary}"
    );
    assert!(!out.stdout.contains(PASSWORD) && !out.stderr.contains(PASSWORD));
}

#[test]
fn the_trace_refuses_the_stats_database_and_reports_a_statement_timeout() {
    let cluster = Cluster::start();
    cluster.create_database("shop");
    cluster.execute("shop", ORDERS);
    let dir = project(&[
        ("gonogo.yaml", &config(2.0, true, true)),
        (
            "db/0001.sql",
            "SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN amount TYPE bigint;\n",
        ),
    ]);
    // The same database under another name (localhost vs 127.0.0.1).
    let same = cluster.url("shop").replace("127.0.0.1", "localhost");
    let before = fingerprint(&cluster, "shop");
    let out = check(
        dir.path(),
        &[
            ("GONOGO_STATS_URL", cluster.url("shop")),
            ("GONOGO_SCRATCH_URL", same),
        ],
        &[],
    );
    assert_eq!(migrations(&out.json)["status"], "error");
    let summary = migrations(&out.json)["summary"].as_str().unwrap();
    assert!(summary.contains("refusing to trace"), "{summary}");
    assert_eq!(fingerprint(&cluster, "shop"), before);

    // A statement that runs past its statement_timeout on the scratch database.
    cluster.create_database("scratch");
    cluster.execute("scratch", &ORDERS.replace("200000", "100"));
    let dir = project(&[
        ("gonogo.yaml", &config(2.0, false, true)),
        (
            "db/0001.sql",
            "SET statement_timeout = '200ms';\nSELECT pg_sleep(60);\n",
        ),
    ]);
    // Bounds far from both ends: the timeout ends it in a fraction of a second, the sleep would
    // take a minute.
    let started = Instant::now();
    let out = check(
        dir.path(),
        &[("GONOGO_SCRATCH_URL", cluster.url("scratch"))],
        &[],
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    let found = findings(&out.json, "migrations/pg-trace-failed");
    assert_eq!(found.len(), 1, "{}", out.stdout);
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("statement timeout"),
        "{}",
        out.stdout
    );
}

const FORMATS: &[&str] = &["table", "json", "markdown", "github", "junit", "sarif"];

/// Every format of the same run, for the password check.
fn all_formats(dir: &std::path::Path, env: &[(&str, String)]) -> String {
    let mut all = String::new();
    for format in FORMATS {
        let mut command = gonogo();
        command
            .arg("check")
            .arg(dir)
            .args(["--format", format, "--only", "migrations"]);
        for (name, value) in env {
            command.env(name, value);
        }
        let out = run(&mut command);
        all.push_str(&out.stdout);
        all.push_str(&out.stderr);
    }
    all
}

#[test]
fn faults_become_errors_with_a_reason_and_never_show_the_password() {
    let mut cluster = Cluster::start();
    cluster.create_database("shop");
    cluster.execute("shop", ORDERS);
    let file = (
        "db/0001.sql",
        "SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN amount TYPE bigint;\n",
    );

    // Wrong password.
    let dir = project(&[("gonogo.yaml", &config(2.0, true, false)), file]);
    let wrong = cluster.url("shop").replace(PASSWORD, "wrong-pw-5d1c9e");
    let env = [("GONOGO_STATS_URL", wrong)];
    let out = check(dir.path(), &env, &[]);
    assert_eq!(migrations(&out.json)["status"], "error", "{}", out.stdout);
    let summary = migrations(&out.json)["summary"].as_str().unwrap();
    assert!(
        summary.contains("password authentication failed"),
        "{summary}"
    );
    // The static findings are still reported.
    assert_eq!(
        findings(&out.json, "migrations/pg-alter-column-type").len(),
        1
    );
    let all = all_formats(dir.path(), &env);
    assert!(!all.contains("wrong-pw-5d1c9e"), "{all}");

    // A URL written in the config itself (not env:), with the password: masked too.
    let inline = format!(
        "checks:\n  migrations:\n    paths: [\"db/*.sql\"]\n    database:\n      stats_url: {}\n",
        cluster.url("shop").replace(PASSWORD, "inline-pw-77aa")
    );
    let dir2 = project(&[("gonogo.yaml", &inline), file]);
    let all = all_formats(dir2.path(), &[]);
    assert!(!all.contains("inline-pw-77aa"), "{all}");

    // Refused: nothing listens on the port.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let env = [(
        "GONOGO_STATS_URL",
        format!("postgres://app:{PASSWORD}@127.0.0.1:{closed}/shop"),
    )];
    let started = Instant::now();
    let out = check(dir.path(), &env, &[]);
    assert!(started.elapsed() < Duration::from_secs(10));
    let summary = migrations(&out.json)["summary"].as_str().unwrap();
    assert_eq!(migrations(&out.json)["status"], "error");
    assert!(summary.to_lowercase().contains("refused"), "{summary}");
    let all = all_formats(dir.path(), &env);
    assert!(!all.contains(PASSWORD), "{all}");

    // The server disappears in the middle of the check: the trace is sleeping when it stops.
    cluster.create_database("scratch");
    let dir = project(&[
        ("gonogo.yaml", &config(2.0, false, true)),
        ("db/0001.sql", "SELECT pg_sleep(3);\n"),
    ]);
    let mut command = gonogo();
    command
        .arg("check")
        .arg(dir.path())
        .args([
            "--format",
            "json",
            "--only",
            "migrations",
            "--deadline",
            "20s",
        ])
        .env("GONOGO_SCRATCH_URL", cluster.url("scratch"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let started = Instant::now();
    let child = command.spawn().unwrap();
    cluster.wait_for(
        "postgres",
        "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep(3)%'",
        "1",
    );
    cluster.stop();
    let output = child.wait_with_output().unwrap();
    assert!(started.elapsed() < Duration::from_secs(10));
    let stdout = String::from_utf8(output.stdout).unwrap();
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(migrations(&json)["status"], "error", "{stdout}");
    let summary = migrations(&json)["summary"].as_str().unwrap();
    assert!(summary.contains("scratch_url"), "{summary}");
    assert!(!stdout.contains(PASSWORD));
}

/// One cluster that accepts TCP connections only over TLS (`hostssl`), and each `sslmode`
/// against it through the real binary: `disable` is refused with the fix named, `require`
/// (the default `prefer` too) and `verify-full` with the right CA work, a wrong CA is a
/// verification error naming sslrootcert; the password never appears.
#[test]
fn tls_follows_sslmode_against_a_server_that_requires_it() {
    let cluster = Cluster::start_tls();
    cluster.create_database("shop");
    cluster.execute("shop", &ORDERS.replace("200000", "20000"));
    let ca = cluster.ca.clone().expect("the TLS cluster's CA");
    let dir = project(&[
        ("gonogo.yaml", &config(100.0, true, false)),
        (
            "db/0001.sql",
            "SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN amount TYPE bigint;\n",
        ),
    ]);
    let url = |host: &str, query: &str| {
        format!("{}?{query}", cluster.url("shop").replace("127.0.0.1", host))
    };
    let estimated = |out: &Checked, what: &str| {
        assert_ne!(
            migrations(&out.json)["status"],
            "error",
            "{what}: {}",
            out.stdout
        );
        let found = findings(&out.json, "migrations/pg-alter-column-type");
        assert_eq!(found.len(), 1, "{what}: {}", out.stdout);
        let message = found[0]["message"].as_str().unwrap();
        assert!(message.contains("~20,000 rows"), "{what}: {message}");
        assert!(!out.stdout.contains(PASSWORD) && !out.stderr.contains(PASSWORD));
    };

    // (a) sslmode=disable against a server that requires TLS: the check's error, naming the fix.
    let started = Instant::now();
    let out = check(
        dir.path(),
        &[("GONOGO_STATS_URL", url("127.0.0.1", "sslmode=disable"))],
        &[],
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_eq!(migrations(&out.json)["status"], "error", "{}", out.stdout);
    assert_eq!(out.code, 1, "{}", out.stdout);
    let summary = migrations(&out.json)["summary"].as_str().unwrap();
    assert!(summary.contains("the server requires TLS"), "{summary}");
    assert!(summary.contains("sslmode=require"), "{summary}");
    assert!(summary.contains("sslmode=verify-full"), "{summary}");
    assert!(!out.stdout.contains(PASSWORD) && !out.stderr.contains(PASSWORD));
    // The static findings stay.
    assert_eq!(
        findings(&out.json, "migrations/pg-alter-column-type").len(),
        1
    );

    // (b) require: encrypted, the certificate not verified. The default (prefer) takes TLS too.
    let out = check(
        dir.path(),
        &[("GONOGO_STATS_URL", url("127.0.0.1", "sslmode=require"))],
        &[],
    );
    estimated(&out, "require");
    let out = check(
        dir.path(),
        &[("GONOGO_STATS_URL", cluster.url("shop"))],
        &[],
    );
    estimated(&out, "prefer (default)");

    // (c) verify-full with the CA, by name and by address (the certificate has both).
    let root = format!("sslmode=verify-full&sslrootcert={}", ca.display());
    let out = check(
        dir.path(),
        &[("GONOGO_STATS_URL", url("localhost", &root))],
        &[],
    );
    estimated(&out, "verify-full");
    let out = check(
        dir.path(),
        &[("GONOGO_STATS_URL", url("127.0.0.1", &root))],
        &[],
    );
    estimated(&out, "verify-full by address");

    // (d) verify-full with a CA that did not sign the certificate: a verification error.
    let other = tempfile::tempdir().unwrap();
    let wrong = common::pg::make_ca(other.path(), "other-ca");
    let out = check(
        dir.path(),
        &[(
            "GONOGO_STATS_URL",
            url(
                "localhost",
                &format!("sslmode=verify-full&sslrootcert={}", wrong.display()),
            ),
        )],
        &[],
    );
    assert_eq!(migrations(&out.json)["status"], "error", "{}", out.stdout);
    let summary = migrations(&out.json)["summary"].as_str().unwrap();
    assert!(
        summary.contains("the server's certificate is not signed by a CA in sslrootcert"),
        "{summary}"
    );
    assert!(summary.contains("verify-ca"), "{summary}");
    assert!(!out.stdout.contains(PASSWORD) && !out.stderr.contains(PASSWORD));

    // A host name the certificate does not have (the TCP connection goes to hostaddr):
    // verify-full refuses it, naming verify-ca; verify-ca checks the chain only, and works.
    let unnamed = |mode: &str| {
        format!(
            "{}?hostaddr=127.0.0.1&sslmode={mode}&sslrootcert={}",
            cluster
                .url("shop")
                .replace("127.0.0.1", "db.gonogo-test.invalid"),
            ca.display()
        )
    };
    let out = check(
        dir.path(),
        &[("GONOGO_STATS_URL", unnamed("verify-full"))],
        &[],
    );
    assert_eq!(migrations(&out.json)["status"], "error", "{}", out.stdout);
    let summary = migrations(&out.json)["summary"].as_str().unwrap();
    assert!(
        summary.contains("not valid for the host name db.gonogo-test.invalid"),
        "{summary}"
    );
    assert!(summary.contains("sslmode=verify-ca"), "{summary}");
    let out = check(
        dir.path(),
        &[("GONOGO_STATS_URL", unnamed("verify-ca"))],
        &[],
    );
    estimated(&out, "verify-ca");
}

/// A query on the stats connection that waits for a lock ends with a clear reason within
/// seconds instead of waiting until the check's deadline. The stats and pre-flight queries
/// never open the migration's tables (sizes come from pg_class), so a lock on `orders` alone
/// would not make them wait; a catalog they read, locked by another session (maintenance such
/// as `VACUUM FULL pg_namespace`, here an explicit LOCK), does. gonogo's lock_timeout (1 s) and
/// statement_timeout (5 s) are set before the first query that reads a catalog.
#[test]
fn a_stats_query_waiting_for_a_lock_ends_with_a_timeout_reason() {
    let cluster = Cluster::start();
    cluster.create_database("shop");
    cluster.execute("shop", &ORDERS.replace("200000", "2000"));
    let dir = project(&[
        ("gonogo.yaml", &config(100.0, true, false)),
        (
            "db/0001.sql",
            "SET lock_timeout = '2s';\nALTER TABLE orders ALTER COLUMN amount TYPE bigint;\n",
        ),
    ]);
    let env = [("GONOGO_STATS_URL", cluster.url("shop"))];

    // A lock on the table itself: no wait, the holder is reported and the estimate is there.
    let mut holder = cluster.session_with_output("shop");
    holder.send("BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE; SELECT 'locked';");
    holder.wait_for_line("locked");
    let started = Instant::now();
    let out = check(dir.path(), &env, &["--deadline", "90s"]);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
    assert_ne!(migrations(&out.json)["status"], "error", "{}", out.stdout);
    let found = findings(&out.json, "migrations/pg-alter-column-type");
    assert!(
        found[0]["message"]
            .as_str()
            .unwrap()
            .contains("~2,000 rows"),
        "{}",
        out.stdout
    );
    assert!(
        !findings(&out.json, "migrations/pg-blocking-session").is_empty(),
        "{}",
        out.stdout
    );
    drop(holder);

    // A lock on a catalog the stats queries read: they wait, and lock_timeout ends the wait.
    let mut holder = cluster.session_with_output("shop");
    holder.send("BEGIN; LOCK TABLE pg_namespace IN ACCESS EXCLUSIVE MODE; SELECT 'locked';");
    holder.wait_for_line("locked");
    let started = Instant::now();
    let out = check(dir.path(), &env, &["--deadline", "90s"]);
    let elapsed = started.elapsed();
    drop(holder);
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    assert_eq!(migrations(&out.json)["status"], "error", "{}", out.stdout);
    let summary = migrations(&out.json)["summary"].as_str().unwrap();
    assert!(summary.contains("lock timeout"), "{summary}");
    assert!(
        summary.contains("waited for a lock another session holds"),
        "{summary}"
    );
    assert!(!out.stdout.contains(PASSWORD) && !out.stderr.contains(PASSWORD));
}
