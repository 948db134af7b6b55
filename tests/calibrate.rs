//! `gonogo calibrate` against a real, throwaway PostgreSQL cluster (tests/common/pg.rs): sane
//! positive constants, `--write` editing gonogo.yaml with its comments kept (and the result
//! loading), the scratch database unchanged afterwards, and the refusals (no scratch_url, a wrong
//! password, `sslmode=disable` against a server that requires TLS) with exit code 2 and no
//! password in the output; over TLS with `verify-full`, it calibrates.

use crate::common;

use common::pg::{Cluster, PASSWORD};
use common::{gonogo, project, run};

const CONFIG: &str = "# team config: keep this comment\nchecks:\n  migrations:\n    paths: [\"db/*.sql\"]   # our migrations\n    database:\n      scratch_url: env:GONOGO_SCRATCH_URL\n    # costs measured below\n";

/// Every table in the scratch database and its relfilenode, plus the schema's objects.
fn tables(cluster: &Cluster, db: &str) -> String {
    cluster.query(
        db,
        "SELECT coalesce(string_agg(relname || '=' || relfilenode, ',' ORDER BY relname), '')
         FROM pg_class WHERE relnamespace = 'public'::regnamespace",
    )
}

fn constants(stdout: &str) -> Vec<(String, f64)> {
    stdout
        .lines()
        .filter(|l| l.starts_with("  "))
        .filter_map(|l| {
            let (key, value) = l.trim().split_once(": ")?;
            Some((key.to_string(), value.parse().ok()?))
        })
        .collect()
}

#[test]
fn calibrate_prints_and_writes_sane_constants_and_leaves_the_scratch_database_unchanged() {
    let cluster = Cluster::start();
    cluster.create_database("scratch");
    cluster.execute(
        "scratch",
        "CREATE TABLE keep (id int PRIMARY KEY); INSERT INTO keep SELECT generate_series(1, 10);",
    );
    let before = tables(&cluster, "scratch");
    let dir = project(&[("gonogo.yaml", CONFIG), ("db/001.sql", "SELECT 1;\n")]);

    let out = run(gonogo()
        .args(["calibrate", "--rows", "50000"])
        .arg(dir.path())
        .env("GONOGO_SCRATCH_URL", cluster.url("scratch")));
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("\ncosts:\n"), "{}", out.stdout);
    let printed = constants(&out.stdout);
    let keys: Vec<&str> = printed.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        keys,
        [
            "rewrite_mb_per_s",
            "scan_mb_per_s",
            "index_build_mb_per_s",
            "update_mb_per_s",
            "overhead_ms"
        ],
        "{}",
        out.stdout
    );
    for (key, value) in &printed {
        // Sane: positive, and within what any server from a Raspberry Pi up could do.
        assert!(
            value.is_finite() && *value > 0.0 && *value < 1_000_000.0,
            "{key} = {value}\n{}",
            out.stdout
        );
    }
    assert!(!out.stdout.contains(PASSWORD) && !out.stderr.contains(PASSWORD));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("gonogo.yaml")).unwrap(),
        CONFIG,
        "without --write the config is not touched"
    );
    assert_eq!(tables(&cluster, "scratch"), before, "no leftover table");

    let out = run(gonogo()
        .args(["calibrate", "--rows", "50000", "--write"])
        .arg(dir.path())
        .env("GONOGO_SCRATCH_URL", cluster.url("scratch")));
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("updated checks.migrations.costs"),
        "{}",
        out.stderr
    );
    let written = std::fs::read_to_string(dir.path().join("gonogo.yaml")).unwrap();
    for kept in [
        "# team config: keep this comment\n",
        "    paths: [\"db/*.sql\"]   # our migrations\n",
        "    # costs measured below\n",
    ] {
        assert!(written.contains(kept), "{written}");
    }
    assert!(
        written.contains("\n    costs:\n      rewrite_mb_per_s: "),
        "{written}"
    );
    // The written values are the ones this run printed.
    let in_file = constants(
        &written
            .lines()
            .filter(|l| l.starts_with("      ") && !l.contains("scratch_url"))
            .map(|l| &l[4..])
            .collect::<Vec<_>>()
            .join("\n"),
    );
    assert_eq!(in_file, constants(&out.stdout), "{written}");
    assert_eq!(tables(&cluster, "scratch"), before, "no leftover table");

    // A second --write replaces the values in place instead of adding a block.
    let out = run(gonogo()
        .args(["calibrate", "--rows", "50000", "--write"])
        .arg(dir.path())
        .env("GONOGO_SCRATCH_URL", cluster.url("scratch")));
    assert_eq!(out.code, 0, "{}", out.stderr);
    let rewritten = std::fs::read_to_string(dir.path().join("gonogo.yaml")).unwrap();
    assert_eq!(rewritten.matches("costs:").count(), 1, "{rewritten}");
    assert_eq!(rewritten.matches("overhead_ms").count(), 1, "{rewritten}");

    // The config still loads and is used: `check` runs with the written costs.
    let out = run(gonogo()
        .args(["check", "--offline", "--format", "json"])
        .arg(dir.path())
        .env("GONOGO_SCRATCH_URL", cluster.url("scratch")));
    assert!(
        out.code == 0 || out.code == 1,
        "{}\n{}",
        out.stdout,
        out.stderr
    );
    let json: serde_json::Value = serde_json::from_str(&out.stdout).expect("a JSON report");
    assert!(json.get("verdict").is_some(), "{}", out.stdout);
}

#[test]
fn refusals_exit_2_with_a_clear_message_and_no_password() {
    let no_scratch = project(&[(
        "gonogo.yaml",
        "checks:\n  migrations:\n    paths: [\"db/*.sql\"]\n",
    )]);
    let out = run(gonogo().arg("calibrate").arg(no_scratch.path()));
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("scratch_url is not set"),
        "{}",
        out.stderr
    );

    let no_config = tempfile::tempdir().unwrap();
    let out = run(gonogo().arg("calibrate").arg(no_config.path()));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(out.stderr.contains("no gonogo.yaml"), "{}", out.stderr);

    let cluster = Cluster::start();
    cluster.create_database("scratch");
    let dir = project(&[("gonogo.yaml", CONFIG)]);
    let wrong = cluster
        .url("scratch")
        .replace(PASSWORD, "wrong-secret-pw-91x");
    let out = run(gonogo()
        .arg("calibrate")
        .arg(dir.path())
        .env("GONOGO_SCRATCH_URL", &wrong));
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("password authentication failed"),
        "{}",
        out.stderr
    );
    for output in [&out.stdout, &out.stderr] {
        assert!(!output.contains("wrong-secret-pw-91x") && !output.contains(PASSWORD));
    }

    // Nothing listening: exit 2 as well, and the config is untouched by --write.
    let closed = format!(
        "postgres://postgres:{PASSWORD}@127.0.0.1:{}/scratch",
        cluster.port
    );
    drop(cluster);
    let out = run(gonogo()
        .args(["calibrate", "--write"])
        .arg(dir.path())
        .env("GONOGO_SCRATCH_URL", &closed));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(!out.stderr.contains(PASSWORD), "{}", out.stderr);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("gonogo.yaml")).unwrap(),
        CONFIG
    );
}

#[test]
fn out_of_range_rows_exit_2() {
    let dir = project(&[("gonogo.yaml", CONFIG)]);
    let out = run(gonogo()
        .args(["calibrate", "--rows", "5"])
        .arg(dir.path())
        .env("GONOGO_SCRATCH_URL", "postgres://u:p@127.0.0.1:1/x"));
    assert_eq!(out.code, 2, "{}", out.stderr);
    assert!(
        out.stderr.contains("--rows must be between"),
        "{}",
        out.stderr
    );
}

/// `gonogo calibrate` uses the same connection code as the check: against a server that
/// accepts only TLS, `verify-full` with the CA calibrates, and `sslmode=disable` is refused with
/// exit code 2 and the fix named, without the password.
#[test]
fn calibrate_connects_over_tls_as_sslmode_says() {
    let cluster = Cluster::start_tls();
    cluster.create_database("scratch");
    let ca = cluster.ca.clone().expect("the TLS cluster's CA");
    let dir = project(&[("gonogo.yaml", CONFIG), ("db/001.sql", "SELECT 1;\n")]);
    let url = |query: &str| {
        format!(
            "{}?{query}",
            cluster.url("scratch").replace("127.0.0.1", "localhost")
        )
    };

    let out = run(gonogo()
        .args(["calibrate", "--rows", "10000"])
        .arg(dir.path())
        .env(
            "GONOGO_SCRATCH_URL",
            url(&format!("sslmode=verify-full&sslrootcert={}", ca.display())),
        ));
    assert_eq!(out.code, 0, "{}\n{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("\ncosts:\n"), "{}", out.stdout);
    assert!(!out.stdout.contains(PASSWORD) && !out.stderr.contains(PASSWORD));

    let out = run(gonogo()
        .args(["calibrate", "--rows", "10000"])
        .arg(dir.path())
        .env("GONOGO_SCRATCH_URL", url("sslmode=disable")));
    assert_eq!(out.code, 2, "{}\n{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("the server requires TLS") && out.stderr.contains("sslmode=require"),
        "{}",
        out.stderr
    );
    assert!(!out.stdout.contains(PASSWORD) && !out.stderr.contains(PASSWORD));
}
