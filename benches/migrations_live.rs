//! What the live part of `migrations` adds to a run, for a migration touching 10 tables, against
//! a local throwaway PostgreSQL cluster: statistics + pre-flight on `stats_url`, the rolled-back
//! trace on `scratch_url`, and both. In-process, after the static analysis (which
//! benches/migrations.rs measures). Then how close the lock-time estimates come to the measured
//! time of the same statements on a 200,000-row table (a machine-dependent ratio, which is why it
//! is measured here and not asserted in a test). Run with `cargo bench --bench migrations_live`;
//! the target is well under a second, and the figures are in README.md.

#[path = "../tests/common/pg.rs"]
#[allow(dead_code)]
mod pg;

use gonogo::checks::migrations::live::{self, LiveSettings};
use gonogo::checks::migrations::{MigrationFile, Settings, analyze_files};
use std::time::{Duration, Instant};

const TABLES: usize = 10;

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

const ORDERS: &str = "
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL, amount int NOT NULL,
                     status text NOT NULL, note varchar(64));
INSERT INTO orders (customer_id, amount, status, note)
  SELECT i % 5000, i % 100000, CASE WHEN i % 3 = 0 THEN 'paid' ELSE 'open' END, 'order note ' || i
  FROM generate_series(1, 200000) AS i;
CREATE INDEX orders_customer_idx ON orders (customer_id);
VACUUM ANALYZE orders;
";

/// `~38 s`, `~2.4 s`, `~120 ms`, `under 10 ms` after "rows): " in a live message → seconds.
fn estimate_in(message: &str) -> Option<f64> {
    let rest = message.split("rows): ").nth(1)?;
    if rest.starts_with("under 10 ms") {
        return Some(0.005);
    }
    let mut parts = rest.trim_start_matches('~').split_whitespace();
    let number: f64 = parts.next()?.replace(',', "").parse().ok()?;
    match parts.next()? {
        "ms" => Some(number / 1000.0),
        "s" => Some(number),
        _ => None,
    }
}

/// The default cost model's estimate of each statement against its measured time: wall time of
/// `BEGIN; <statement>; ROLLBACK;` through psql minus psql's own start-up on `SELECT 1`, each the
/// median of seven runs.
fn estimates_against_measured(cluster: &pg::Cluster, runtime: &tokio::runtime::Runtime) {
    cluster.create_database("agree");
    cluster.execute("agree", ORDERS);
    let psql_median = |sql: &str| {
        median(
            (0..7)
                .map(|_| {
                    let started = Instant::now();
                    cluster.execute("agree", sql);
                    started.elapsed()
                })
                .collect(),
        )
    };
    let baseline = psql_median("SELECT 1");
    println!("estimate against measured time, 200,000-row table, default costs");
    for (what, sql) in [
        (
            "rewrite",
            "ALTER TABLE orders ALTER COLUMN amount TYPE bigint",
        ),
        (
            "index build",
            "CREATE INDEX orders_status_idx ON orders (status)",
        ),
        (
            "scan",
            "ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount >= 0)",
        ),
    ] {
        let files = vec![MigrationFile {
            path: "db/0001_change.sql".into(),
            text: format!("SET lock_timeout = '2s';\n{sql};\n"),
            in_deploy: true,
            transaction: None,
        }];
        let mut findings = analyze_files(&files, &Settings::default(), true);
        let settings = LiveSettings {
            stats_url: Some(cluster.url("agree")),
            scratch_url: None,
            max_lock_seconds: 100.0,
            trace_as_superuser: false,
            costs: Default::default(),
            budget: live::LIVE_BUDGET,
            deploy_is_known: true,
            transaction: Default::default(),
        };
        let outcome = runtime.block_on(live::run(&files, &mut findings, &settings));
        assert!(outcome.error.is_none(), "{:?}", outcome.error);
        let estimated = findings
            .iter()
            .find_map(|f| estimate_in(&f.message))
            .unwrap_or_else(|| panic!("{what}: no estimate in {findings:#?}"));
        let measured = psql_median(&format!("BEGIN; {sql}; ROLLBACK;"))
            .saturating_sub(baseline)
            .as_secs_f64();
        println!(
            "  {what:<12} estimated {:>7.1} ms, measured {:>7.1} ms, ratio {:.2}",
            estimated * 1000.0,
            measured * 1000.0,
            estimated / measured.max(0.0001)
        );
    }
}

fn main() {
    let cluster = pg::Cluster::start();
    let mut schema = String::new();
    for i in 0..TABLES {
        schema.push_str(&format!(
            "CREATE TABLE t{i} (id bigserial PRIMARY KEY, amount int NOT NULL, note text);
             INSERT INTO t{i} (amount, note) SELECT g, 'n' || g FROM generate_series(1, 10000) g;
             CREATE INDEX t{i}_amount_idx ON t{i} (amount);
             ANALYZE t{i};\n"
        ));
    }
    for db in ["shop", "scratch"] {
        cluster.create_database(db);
        cluster.execute(db, &schema);
    }
    let mut sql = String::from("SET lock_timeout = '2s';\n");
    for i in 0..TABLES {
        sql.push_str(&format!(
            "ALTER TABLE t{i} ALTER COLUMN amount TYPE bigint;\n"
        ));
    }
    let files = vec![MigrationFile {
        path: "db/0001_bigint.sql".into(),
        text: sql,
        in_deploy: true,
        transaction: None,
    }];
    let findings = analyze_files(&files, &Settings::default(), true);

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let base = LiveSettings {
        stats_url: None,
        scratch_url: None,
        max_lock_seconds: 2.0,
        costs: Default::default(),
        budget: live::LIVE_BUDGET,
        deploy_is_known: true,
        transaction: Default::default(),
        // The throwaway cluster's only role is its superuser.
        trace_as_superuser: true,
    };
    let cases = [
        (
            "stats + pre-flight",
            LiveSettings {
                stats_url: Some(cluster.url("shop")),
                ..base.clone()
            },
        ),
        (
            "trace (rolled back)",
            LiveSettings {
                scratch_url: Some(cluster.url("scratch")),
                ..base.clone()
            },
        ),
        (
            "both",
            LiveSettings {
                stats_url: Some(cluster.url("shop")),
                scratch_url: Some(cluster.url("scratch")),
                ..base.clone()
            },
        ),
    ];
    println!("live part of migrations, {TABLES} tables of 10,000 rows, local PostgreSQL");
    for (name, settings) in cases {
        let mut samples = Vec::new();
        for _ in 0..7 {
            let mut refined = findings.clone();
            let started = Instant::now();
            let outcome = runtime.block_on(live::run(&files, &mut refined, &settings));
            samples.push(started.elapsed());
            assert!(outcome.error.is_none(), "{:?}", outcome.error);
        }
        println!(
            "  {name:<22} {:>7.1} ms (median of 7)",
            median(samples).as_secs_f64() * 1000.0
        );
    }
    estimates_against_measured(&cluster, &runtime);
}
