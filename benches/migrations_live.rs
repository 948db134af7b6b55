//! What the live part of `migrations` adds to a run, for a migration touching 10 tables, against
//! a local throwaway PostgreSQL cluster: statistics + pre-flight on `stats_url`, the rolled-back
//! trace on `scratch_url`, and both. In-process, after the static analysis (which
//! benches/migrations.rs measures). Run with `cargo bench --bench migrations_live`; the target is
//! well under a second, and the figures are in README.md.

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
}
