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

// The live rollback drill (checks.migrations.database.scratch_url) on a throwaway PostgreSQL
// cluster: the scratch database holds the released schema (1_init), the deploy's ups and downs
// run in a transaction gonogo rolls back.

use common::pg::Cluster;

const SCRATCH_CONFIG: &str = "checks:\n  migrations:\n    paths: [\"db/migrations\"]\n    dialect: postgres\n    database:\n      scratch_url: env:GONOGO_SCRATCH_URL\n      trace_as_superuser: true\n";

const RELEASED_SCHEMA: &str = "CREATE TABLE orders (id bigint PRIMARY KEY, total integer NOT NULL, note text);\nCREATE INDEX orders_total_idx ON orders (total);\n";

/// The rollback check with the scratch URL (and more environment) set.
fn drill(dir: &std::path::Path, env: &[(&str, &str)], extra: &[&str]) -> (Run, Value) {
    let mut command = gonogo();
    command
        .arg("check")
        .arg(dir)
        .args(["--format", "json", "--base", "v1"])
        .args(extra);
    if !extra.contains(&"--only") {
        command.args(["--only", "rollback"]);
    }
    for (name, value) in env {
        command.env(name, value);
    }
    let out = run(&mut command);
    let report: Value = serde_json::from_str(&out.stdout)
        .unwrap_or_else(|e| panic!("JSON expected ({e}): {} {}", out.stdout, out.stderr));
    let result = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "rollback")
        .unwrap_or_else(|| panic!("a rollback result in {report}"))
        .clone();
    (out, result)
}

/// Catalog and rows of the scratch database, to prove the drill left it as it was.
fn state(cluster: &Cluster, db: &str) -> (String, String) {
    // pg_dump 15.14+ brackets its output with a random `\restrict` key: not the schema.
    let schema = cluster.schema_dump(db).map(|dump| {
        dump.lines()
            .filter(|l| !l.starts_with("\\restrict") && !l.starts_with("\\unrestrict"))
            .collect::<Vec<_>>()
            .join("\n")
    });
    let schema = schema.unwrap_or_else(|| {
        cluster.query(
            db,
            "SELECT string_agg(table_name || '.' || column_name || ' ' || data_type || ' ' || coalesce(column_default, ''), ',' ORDER BY 1) FROM information_schema.columns WHERE table_schema = 'public'",
        )
    });
    let indexes = cluster.query(
        db,
        "SELECT string_agg(indexdef, ';' ORDER BY indexname) FROM pg_indexes WHERE schemaname = 'public'",
    );
    let rows = cluster.query(db, "SELECT count(*), sum(hashtext(o::text)) FROM orders o");
    (format!("{schema}\n{indexes}"), rows)
}

#[test]
fn the_drill_runs_ups_and_downs_and_names_what_each_down_leaves() {
    let cluster = Cluster::start();
    cluster.create_database("shop");
    cluster.execute(
        "shop",
        &format!("{RELEASED_SCHEMA}INSERT INTO orders SELECT i, i % 100, 'n' || i FROM generate_series(1, 500) i;\n"),
    );
    let dir = released(&[
        ("gonogo.yaml", SCRATCH_CONFIG),
        ("db/migrations/1_init.up.sql", RELEASED_SCHEMA),
        ("db/migrations/1_init.down.sql", INIT_DOWN),
    ]);
    let root = dir.path();
    // A good pair: nothing to say.
    write(
        root,
        "db/migrations/2_paid.up.sql",
        "ALTER TABLE orders ADD COLUMN paid_at timestamptz;\nCREATE INDEX orders_paid_at_idx ON orders (paid_at);\n",
    );
    write(
        root,
        "db/migrations/2_paid.down.sql",
        "DROP INDEX orders_paid_at_idx;\nALTER TABLE orders DROP COLUMN paid_at;\n",
    );
    // Forgets the index its up dropped and the default its up set.
    write(
        root,
        "db/migrations/3_currency.up.sql",
        "ALTER TABLE orders ADD COLUMN currency text NOT NULL DEFAULT 'EUR';\nDROP INDEX orders_total_idx;\nALTER TABLE orders ALTER COLUMN note SET DEFAULT 'none';\n",
    );
    write(
        root,
        "db/migrations/3_currency.down.sql",
        "ALTER TABLE orders DROP COLUMN currency;\n",
    );
    // Forgets a column.
    write(
        root,
        "db/migrations/4_refunds.up.sql",
        "CREATE TABLE refunds (id bigint PRIMARY KEY, order_id bigint REFERENCES orders);\nALTER TABLE orders ADD COLUMN refunded boolean NOT NULL DEFAULT false;\n",
    );
    write(
        root,
        "db/migrations/4_refunds.down.sql",
        "DROP TABLE refunds;\n",
    );
    // A down PostgreSQL refuses: a name the up never created.
    write(
        root,
        "db/migrations/5_by_total.up.sql",
        "CREATE INDEX orders_total_id_idx ON orders (total, id);\n",
    );
    write(
        root,
        "db/migrations/5_by_total.down.sql",
        "-- the index by total\nDROP INDEX orders_by_total_idx;\n",
    );
    let before = state(&cluster, "shop");
    let url = cluster.url("shop");
    let (run, result) = drill(root, &[("GONOGO_SCRATCH_URL", &url)], &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(result["status"], "fail", "{result}");
    assert_eq!(
        state(&cluster, "shop"),
        before,
        "the drill changed the scratch database"
    );

    let s = |x: &str| x.to_string();
    let found = described(&result);
    // The drill's comparison replaces the static reading of the downs it compared (3 and 4);
    // 5's down did not run to the end, so its static reading stays.
    assert!(
        !found
            .iter()
            .any(|(rule, path, ..)| rule == "rollback/down-does-not-undo"
                && (path.contains("3_currency") || path.contains("4_refunds"))),
        "{result}"
    );
    for expected in [
        (
            s("rollback/down-leaves-changes"),
            s("db/migrations/3_currency.down.sql"),
            1,
            s("fail"),
            false,
        ),
        (
            s("rollback/down-leaves-changes"),
            s("db/migrations/4_refunds.down.sql"),
            1,
            s("fail"),
            false,
        ),
        (
            s("rollback/down-drill-failed"),
            s("db/migrations/5_by_total.down.sql"),
            2,
            s("fail"),
            false,
        ),
    ] {
        assert!(found.contains(&expected), "{expected:?} in {found:#?}");
    }
    assert!(
        !found.iter().any(|(_, path, ..)| path.contains("2_paid")),
        "{found:#?}"
    );
    let message = |rule: &str, path: &str| -> String {
        findings(&result, rule)
            .iter()
            .find(|f| f["location"]["path"].as_str().unwrap().contains(path))
            .map(|f| f["message"].as_str().unwrap().to_string())
            .unwrap_or_else(|| panic!("{rule} at {path} in {result}"))
    };
    let currency = message("rollback/down-leaves-changes", "3_currency");
    assert!(
        currency.contains("index public.orders_total_idx is missing (it was: CREATE INDEX orders_total_idx ON public.orders USING btree (total))"),
        "{currency}"
    );
    assert!(
        currency
            .contains("column public.orders.note is `text DEFAULT 'none'::text`, it was `text`"),
        "{currency}"
    );
    let refunds = message("rollback/down-leaves-changes", "4_refunds");
    assert!(
        refunds.ends_with(
            "column public.orders.refunded is left behind (boolean NOT NULL DEFAULT false)"
        ),
        "{refunds}"
    );
    let failed = message("rollback/down-drill-failed", "5_by_total");
    assert!(
        failed.contains("index \"orders_by_total_idx\" does not exist"),
        "{failed}"
    );
    let summary = result["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!(
            "drill on postgres@127.0.0.1:{}/shop: 4 ups in ",
            cluster.port
        )) && summary.contains(" ms, 3 downs in ")
            && summary.contains(
                " ms, rolled back; down not compared for db/migrations/5_by_total.up.sql"
            ),
        "{summary}"
    );
    // 5's down also does not undo its up as gonogo reads it statically: that finding stays.
    assert!(
        summary.contains("3 whose down does not undo it, 1 whose down fails"),
        "{summary}"
    );
    assert!(!run.stdout.contains(common::pg::PASSWORD));

    // With the migrations trace on the same scratch database in the same run, they take turns:
    // neither waits for the other's locks until lock_timeout.
    let (run, both) = drill(
        root,
        &[("GONOGO_SCRATCH_URL", &url)],
        &["--only", "migrations,rollback"],
    );
    assert_eq!(described(&both), described(&result), "{}", run.stdout);
    assert!(!run.stdout.contains("pg-trace-failed"), "{}", run.stdout);
    assert!(
        run.stdout.contains("statements traced on"),
        "{}",
        run.stdout
    );
    assert_eq!(state(&cluster, "shop"), before);

    // --offline: no drill, and the summary says so.
    let (_, result) = drill(root, &[("GONOGO_SCRATCH_URL", &url)], &["--offline"]);
    assert!(
        result["summary"]
            .as_str()
            .unwrap()
            .contains("drill skipped: --offline"),
        "{result}"
    );
    assert!(findings(&result, "rollback/down-leaves-changes").is_empty());
}

#[test]
fn concurrently_is_not_drilled_and_the_drill_refuses_what_it_must_not_touch() {
    let cluster = Cluster::start();
    cluster.create_database("shop");
    cluster.execute("shop", RELEASED_SCHEMA);
    let dir = released(&[
        ("gonogo.yaml", SCRATCH_CONFIG),
        ("db/migrations/1_init.up.sql", RELEASED_SCHEMA),
        ("db/migrations/1_init.down.sql", INIT_DOWN),
    ]);
    let root = dir.path();
    write(
        root,
        "db/migrations/2_paid.up.sql",
        "ALTER TABLE orders ADD COLUMN paid_at timestamptz;\n",
    );
    write(
        root,
        "db/migrations/2_paid.down.sql",
        "ALTER TABLE orders DROP COLUMN paid_at;\n",
    );
    write(
        root,
        "db/migrations/3_paid_idx.up.sql",
        "CREATE INDEX CONCURRENTLY orders_paid_at_idx ON orders (paid_at);\n",
    );
    write(
        root,
        "db/migrations/3_paid_idx.down.sql",
        "DROP INDEX CONCURRENTLY orders_paid_at_idx;\n",
    );
    write(
        root,
        "db/migrations/4_note.up.sql",
        "ALTER TABLE orders ALTER COLUMN note SET NOT NULL;\n",
    );
    write(
        root,
        "db/migrations/4_note.down.sql",
        "ALTER TABLE orders ALTER COLUMN note DROP NOT NULL;\n",
    );
    let before = state(&cluster, "shop");
    let url = cluster.url("shop");
    let (run, result) = drill(root, &[("GONOGO_SCRATCH_URL", &url)], &[]);
    assert_eq!(run.code, 0, "{result}");
    assert_eq!(result["status"], "pass", "{result}");
    let not_drillable = findings(&result, "rollback/not-drillable");
    assert_eq!(not_drillable.len(), 1, "{result}");
    assert_eq!(not_drillable[0]["severity"], "info");
    assert_eq!(
        not_drillable[0]["location"]["path"],
        "db/migrations/3_paid_idx.up.sql"
    );
    let message = not_drillable[0]["message"].as_str().unwrap();
    assert!(
        message.starts_with("not drillable: CREATE INDEX CONCURRENTLY cannot run inside a transaction")
            && message.ends_with("the drill stopped the ups here, so the downs of db/migrations/3_paid_idx.up.sql, db/migrations/4_note.up.sql were not compared"),
        "{message}"
    );
    let summary = result["summary"].as_str().unwrap();
    assert!(
        summary.contains(": 1 up in ")
            && summary.contains("1 down in ")
            && summary.contains(
                "down not compared for db/migrations/3_paid_idx.up.sql, db/migrations/4_note.up.sql"
            ),
        "{summary}"
    );
    assert_eq!(state(&cluster, "shop"), before);

    // scratch_url naming the stats database: refused before anything runs.
    let config = SCRATCH_CONFIG.replace(
        "      scratch_url:",
        "      stats_url: env:GONOGO_STATS_URL\n      scratch_url:",
    );
    write(root, "gonogo.yaml", &config);
    let (run, result) = drill(
        root,
        &[("GONOGO_SCRATCH_URL", &url), ("GONOGO_STATS_URL", &url)],
        &[],
    );
    assert_eq!(run.code, 1, "{result}");
    assert_eq!(result["status"], "error", "{result}");
    let summary = result["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("the rollback drill could not decide: refusing to drill: scratch_url (postgres@127.0.0.1:")
            && summary.contains("is the same database as stats_url"),
        "{summary}"
    );
    // A superuser role without trace_as_superuser: refused, nothing run.
    write(
        root,
        "gonogo.yaml",
        &SCRATCH_CONFIG.replace("      trace_as_superuser: true\n", ""),
    );
    let (run, result) = drill(root, &[("GONOGO_SCRATCH_URL", &url)], &[]);
    assert_eq!(run.code, 1, "{result}");
    assert!(
        result["summary"]
            .as_str()
            .unwrap()
            .contains("refusing to run the rollback drill as a superuser"),
        "{result}"
    );
    assert_eq!(state(&cluster, "shop"), before);
}

#[test]
fn runner_formats_are_drilled_at_their_own_lines() {
    let cluster = Cluster::start();
    cluster.create_database("shop");
    cluster.execute("shop", RELEASED_SCHEMA);
    for (name, text, down_line) in [
        (
            "20240102_status.sql",
            "-- migrate:up\nALTER TABLE orders ADD COLUMN status text DEFAULT 'open';\nCREATE INDEX orders_status_idx ON orders (status);\n\n-- migrate:down\nDROP INDEX orders_status_idx;\n",
            6,
        ),
        (
            "20240102_status.sql",
            "-- +goose Up\nALTER TABLE orders ADD COLUMN status text DEFAULT 'open';\nCREATE INDEX orders_status_idx ON orders (status);\n\n-- +goose Down\nDROP INDEX orders_status_idx;\n",
            6,
        ),
    ] {
        let init = if text.starts_with("-- migrate") {
            format!("-- migrate:up\n{RELEASED_SCHEMA}-- migrate:down\n{INIT_DOWN}")
        } else {
            format!("-- +goose Up\n{RELEASED_SCHEMA}-- +goose Down\n{INIT_DOWN}")
        };
        let dir = released(&[
            ("gonogo.yaml", SCRATCH_CONFIG),
            ("db/migrations/20240101_init.sql", &init),
        ]);
        write(dir.path(), &format!("db/migrations/{name}"), text);
        let url = cluster.url("shop");
        let (_, result) = drill(dir.path(), &[("GONOGO_SCRATCH_URL", &url)], &[]);
        let leaves = findings(&result, "rollback/down-leaves-changes");
        assert_eq!(leaves.len(), 1, "{result}");
        assert_eq!(
            leaves[0]["location"]["path"],
            format!("db/migrations/{name}")
        );
        assert_eq!(leaves[0]["location"]["line"], down_line, "{result}");
        assert!(
            leaves[0]["message"].as_str().unwrap().ends_with(
                "column public.orders.status is left behind (text DEFAULT 'open'::text)"
            ),
            "{result}"
        );
    }

    // popx (ory/keto): a generic up whose PostgreSQL down is a dialect variant; the generic down
    // holds CockroachDB syntax PostgreSQL cannot run. The drill runs the variant, as popx does,
    // and names the column it recreates wider than it was.
    let dir = released(&[
        ("gonogo.yaml", SCRATCH_CONFIG),
        ("db/migrations/1_init.up.sql", RELEASED_SCHEMA),
        ("db/migrations/1_init.down.sql", INIT_DOWN),
    ]);
    let root = dir.path();
    write(root, "db/migrations/2_swap.up.sql", "DROP TABLE orders;\n");
    write(
        root,
        "db/migrations/2_swap.down.sql",
        "CREATE TABLE orders (id INT8 PRIMARY KEY, total INT8 NOT NULL, note STRING, INDEX orders_total_idx (total));\n",
    );
    write(
        root,
        "db/migrations/2_swap.postgres.down.sql",
        "CREATE TABLE orders (id bigint PRIMARY KEY, total bigint NOT NULL, note text);\nCREATE INDEX orders_total_idx ON orders (total);\n",
    );
    let url = cluster.url("shop");
    let (_, result) = drill(root, &[("GONOGO_SCRATCH_URL", &url)], &[]);
    assert!(
        findings(&result, "rollback/not-drillable").is_empty(),
        "{result}"
    );
    let leaves = findings(&result, "rollback/down-leaves-changes");
    assert_eq!(leaves.len(), 1, "{result}");
    assert_eq!(
        leaves[0]["location"]["path"],
        "db/migrations/2_swap.postgres.down.sql"
    );
    assert!(
        leaves[0]["message"].as_str().unwrap().ends_with(
            "column public.orders.total is `bigint NOT NULL`, it was `integer NOT NULL`"
        ),
        "{result}"
    );
}

/// A drop whose contract step is prepared in the deployed code (compat's markers, or no use at
/// all at the base) is info; a drop the deployed code still uses keeps its severity.
#[test]
fn a_drop_prepared_in_the_deployed_code_is_info() {
    let config = "checks:\n  migrations:\n    paths: [\"db/migrations\"]\n    dialect: postgres\n  compat:\n    database:\n      code_paths: [\"app/\"]\n      markers: [\"gonogo:dropping\"]\n";
    let init = "CREATE TABLE orders (id bigint PRIMARY KEY, legacy_total integer, note text, unused text);\n";
    let dir = released(&[
        ("gonogo.yaml", config),
        ("db/migrations/1_init.up.sql", init),
        ("db/migrations/1_init.down.sql", INIT_DOWN),
        (
            "app/orders.py",
            "# gonogo:dropping legacy_total\nTOTALS = \"SELECT id, legacy_total FROM orders\"\nNOTES = \"SELECT id, note FROM orders\"\n",
        ),
    ]);
    let root = dir.path();
    write(
        root,
        "db/migrations/2_drop.up.sql",
        "ALTER TABLE orders DROP COLUMN legacy_total;\nALTER TABLE orders DROP COLUMN note;\nALTER TABLE orders DROP COLUMN unused;\n",
    );
    write(
        root,
        "db/migrations/2_drop.down.sql",
        "ALTER TABLE orders ADD COLUMN unused text;\nALTER TABLE orders ADD COLUMN note text;\nALTER TABLE orders ADD COLUMN legacy_total integer;\n",
    );
    let (run, result) = rollback(root);
    assert_eq!(run.code, 0, "{result}");
    let irreversible = findings(&result, "rollback/irreversible-migration");
    let by_line: Vec<(u64, &str, &str)> = irreversible
        .iter()
        .map(|f| {
            (
                f["location"]["line"].as_u64().unwrap(),
                f["severity"].as_str().unwrap(),
                f["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(by_line.len(), 3, "{result}");
    assert_eq!(by_line[0].1, "info", "{result}");
    assert!(
        by_line[0].2.ends_with("prepared: the deployed code (v1) marks orders.legacy_total as going away at app/orders.py:1 (`# gonogo:dropping legacy_total`), so a rollback does not need them"),
        "{}", by_line[0].2
    );
    // Still used by the deployed code: a rollback needs it.
    assert_eq!(by_line[1].1, "warn", "{result}");
    assert!(
        by_line[1].2.contains("only a restore from backup"),
        "{}",
        by_line[1].2
    );
    assert_eq!(by_line[2].1, "info", "{result}");
    assert!(
        by_line[2].2.contains("prepared: no file under checks.compat.database.code_paths at v1 (the version a rollback returns to) uses orders.unused"),
        "{}", by_line[2].2
    );
    let summary = result["summary"].as_str().unwrap();
    assert!(
        summary
            .contains("1 destroying data, 2 dropping what the deployed code no longer uses (info)"),
        "{summary}"
    );
}
