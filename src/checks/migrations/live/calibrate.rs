//! `gonogo calibrate`: the cost model's rates ([`CostModel`]) measured on the user's own server.
//!
//! On `scratch_url` only, inside ONE transaction that is always rolled back, gonogo generates a
//! table with `generate_series` and times, in this order: a lock-only DDL (the per-statement
//! overhead), a constraint validation (scan), an index build, a rewrite (ALTER COLUMN TYPE) and an
//! UPDATE of every row. Each rate is the table's size (`pg_table_size`, as the estimate uses) over
//! the statement's time minus the overhead. The index is dropped before the rewrite and the
//! update so that each timing is the work the model charges to that one rate (the model adds
//! index builds separately). The overhead also counts a round trip, timed before the
//! transaction with a read-only `SELECT 1`. A real commit's WAL flush is not measured: timing
//! one would mean committing something, and gonogo commits nothing on any database.
//!
//! Nothing is committed: a failure drops the connection, and PostgreSQL rolls back the open
//! transaction of a closed session.

use super::connect::{self, Target, describe};
use super::estimate::CostModel;
use std::time::{Duration, Instant};
use tokio_postgres::Client;

pub const DEFAULT_ROWS: u64 = 200_000;
/// Below this the timings are all overhead and noise; above it calibration takes minutes.
pub const MIN_ROWS: u64 = 10_000;
pub const MAX_ROWS: u64 = 20_000_000;

/// Per statement: generous for the largest allowed table on a slow server, yet bounded.
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(300);
/// The table is gonogo's own and new, so nothing should hold a lock on it; a wait means
/// something odd (e.g. a conflicting name being created concurrently).
const LOCK_TIMEOUT: Duration = Duration::from_secs(2);
const TABLE: &str = "gonogo_calibrate";
/// Overhead samples; the median resists one slow round trip.
const OVERHEAD_SAMPLES: usize = 5;

/// What one calibration run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Measured {
    pub rows: u64,
    /// `pg_table_size` before each timed statement (the rewrite and update change it).
    pub scan_bytes: u64,
    pub index_bytes: u64,
    pub rewrite_bytes: u64,
    pub update_bytes: u64,
    pub scan: Duration,
    pub index_build: Duration,
    pub rewrite: Duration,
    pub update: Duration,
    /// Median time of a lock-only DDL statement.
    pub overhead: Duration,
    /// Median time of a read-only round trip outside the rolled-back transaction (named
    /// `commit` for the model's per-statement commit; its WAL flush is not measured).
    pub commit: Duration,
}

/// The cost model from measured timings. Rates are rounded DOWN to two significant figures and
/// the overhead UP to 0.1 ms: a slower model makes longer estimates, the safe mistake.
pub fn constants(m: &Measured) -> Result<CostModel, String> {
    let overhead_s = m.overhead.as_secs_f64();
    let rate = |what: &str, bytes: u64, took: Duration| -> Result<f64, String> {
        if bytes == 0 {
            return Err(format!("the generated table had size 0 before the {what}"));
        }
        // The overhead is charged separately by the model; never let the remainder reach 0
        // (a timer resolution artefact would make the rate infinite).
        let work = (took.as_secs_f64() - overhead_s).max(0.000_1);
        let value = round_down_2sf(bytes as f64 / 1_000_000.0 / work);
        if value.is_finite() && value > 0.0 {
            Ok(value)
        } else {
            Err(format!("the {what} gave no usable rate ({value})"))
        }
    };
    Ok(CostModel {
        rewrite_mb_per_s: rate("rewrite", m.rewrite_bytes, m.rewrite)?,
        scan_mb_per_s: rate("scan", m.scan_bytes, m.scan)?,
        index_build_mb_per_s: rate("index build", m.index_bytes, m.index_build)?,
        update_mb_per_s: rate("update", m.update_bytes, m.update)?,
        // The model's overhead is the statement's own plus its commit (see estimate.rs).
        overhead_ms: (((overhead_s + m.commit.as_secs_f64()) * 10_000.0).ceil() / 10.0).max(0.1),
    })
}

/// `v` rounded down to two significant figures, printed without float noise when formatted.
fn round_down_2sf(v: f64) -> f64 {
    if !(v.is_finite() && v > 0.0) {
        return 0.0;
    }
    let magnitude = v.log10().floor() as i32;
    let step = 10f64.powi(magnitude - 1);
    let floored = (v / step).floor() * step;
    // Through text, so 0.34 is 0.34 and not 0.34000000000000002.
    let decimals = (1 - magnitude).max(0) as usize;
    format!("{floored:.decimals$}").parse().unwrap_or(floored)
}

/// The `costs:` mapping's lines at `indent` spaces (keys one `step` deeper).
pub fn yaml_block(model: &CostModel, indent: usize, step: usize) -> String {
    let pad = " ".repeat(indent);
    let mut out = format!("{pad}costs:\n");
    for (key, value) in entries(model) {
        out.push_str(&format!("{pad}{}{key}: {value}\n", " ".repeat(step)));
    }
    out
}

fn entries(model: &CostModel) -> [(&'static str, String); 5] {
    [
        ("rewrite_mb_per_s", model.rewrite_mb_per_s.to_string()),
        ("scan_mb_per_s", model.scan_mb_per_s.to_string()),
        (
            "index_build_mb_per_s",
            model.index_build_mb_per_s.to_string(),
        ),
        ("update_mb_per_s", model.update_mb_per_s.to_string()),
        ("overhead_ms", model.overhead_ms.to_string()),
    ]
}

/// One line of the config, split for the editor.
struct Line<'a> {
    /// Without the line ending.
    text: &'a str,
    indent: usize,
    /// Blank or comment only.
    trivia: bool,
}

fn lines(text: &str) -> Vec<Line<'_>> {
    text.split('\n')
        .map(|raw| {
            let text = raw.strip_suffix('\r').unwrap_or(raw);
            let body = text.trim_start_matches(' ');
            Line {
                text,
                indent: text.len() - body.len(),
                trivia: body.is_empty() || body.starts_with('#'),
            }
        })
        .collect()
}

/// Whether `line` is exactly `key:` (block mapping follows), optionally with a comment. The
/// value part is returned when it is something else, so the caller can refuse.
fn key_value<'a>(line: &'a str, key: &str) -> Option<&'a str> {
    let body = line.trim_start_matches(' ');
    let rest = body.strip_prefix(key)?.strip_prefix(':')?;
    if !(rest.is_empty() || rest.starts_with(' ') || rest.starts_with('\t')) {
        return None;
    }
    let value = rest.trim();
    Some(if value.starts_with('#') { "" } else { value })
}

/// The block of lines under `parent` (its index): (first child line, end exclusive, last
/// content line, child indent). `None` for the child indent when the block is empty.
fn block(lines: &[Line<'_>], parent: usize) -> (usize, usize, usize, Option<usize>) {
    let parent_indent = lines[parent].indent;
    let mut end = parent + 1;
    let mut last = parent;
    let mut child = None;
    while end < lines.len() {
        let line = &lines[end];
        if !line.trivia {
            if line.indent <= parent_indent {
                break;
            }
            child.get_or_insert(line.indent);
            last = end;
        }
        end += 1;
    }
    (parent + 1, end, last, child)
}

/// Find `key:` among the direct children of the block under `parent` (or at the top level when
/// `parent` is None).
fn find_key(lines: &[Line<'_>], range: (usize, usize), indent: usize, key: &str) -> Option<usize> {
    (range.0..range.1).find(|&i| {
        let line = &lines[i];
        !line.trivia && line.indent == indent && key_value(line.text, key).is_some()
    })
}

/// `config` with `checks.migrations.costs` set to `model`: existing keys get the new value (their
/// trailing comments kept), missing keys are appended to the block, a missing block is inserted
/// at the end of `migrations:`. Every other line is kept byte for byte. An `Err` says why the
/// file is too unusual to edit safely (the caller prints the block instead).
pub fn update_config(config: &str, model: &CostModel) -> Result<String, String> {
    const UNUSUAL: &str = "gonogo edits only plain block-style YAML";
    if config.contains('\t') {
        return Err(format!("{UNUSUAL}, and the file has tab characters"));
    }
    let newline = if config.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let all = lines(config);
    if all
        .iter()
        .enumerate()
        .any(|(i, l)| i > 0 && (l.text.starts_with("---") || l.text.starts_with("...")))
    {
        return Err(format!(
            "{UNUSUAL}, and the file has several YAML documents"
        ));
    }
    let checks = find_key(&all, (0, all.len()), 0, "checks")
        .ok_or_else(|| format!("{UNUSUAL}: no top-level `checks:` line"))?;
    if key_value(all[checks].text, "checks") != Some("") {
        return Err(format!(
            "{UNUSUAL}: `checks:` is not followed by an indented block"
        ));
    }
    let (start, end, _, child) = block(&all, checks);
    let child = child.ok_or_else(|| format!("{UNUSUAL}: `checks:` is empty"))?;
    let migrations = find_key(&all, (start, end), child, "migrations")
        .ok_or_else(|| format!("{UNUSUAL}: no `migrations:` line under `checks:`"))?;
    if key_value(all[migrations].text, "migrations") != Some("") {
        return Err(format!(
            "{UNUSUAL}: `migrations:` is not followed by an indented block"
        ));
    }
    let (start, end, last, child) = block(&all, migrations);
    let child = child.ok_or_else(|| format!("{UNUSUAL}: `migrations:` is empty"))?;
    let step = child - all[migrations].indent;

    let mut out: Vec<String> = all.iter().map(|l| l.text.to_string()).collect();
    match find_key(&all, (start, end), child, "costs") {
        None => {
            // After the last content line of `migrations:`, so comments that follow it (which
            // may introduce the next section) stay where they are.
            let inserted = yaml_block(model, child, step);
            let at = last + 1;
            for (offset, line) in inserted.lines().enumerate() {
                out.insert(at + offset, line.to_string());
            }
        }
        Some(costs) => {
            if key_value(all[costs].text, "costs") != Some("") {
                return Err(format!(
                    "{UNUSUAL}: `costs:` is not followed by an indented block"
                ));
            }
            let (cstart, cend, clast, cchild) = block(&all, costs);
            let key_indent = cchild.unwrap_or(child + step);
            let mut missing = Vec::new();
            for (key, value) in entries(model) {
                match find_key(&all, (cstart, cend), key_indent, key) {
                    Some(i) => {
                        let text = all[i].text;
                        // The comment with the spaces before it, as the user aligned it.
                        let comment = text
                            .find(" #")
                            .map(|at| &text[text[..at].trim_end_matches(' ').len()..])
                            .unwrap_or("");
                        out[i] = format!("{}{key}: {value}{comment}", " ".repeat(key_indent));
                    }
                    None => missing.push(format!("{}{key}: {value}", " ".repeat(key_indent))),
                }
            }
            // Anything else in the block (an unknown key, a nested mapping) is left as it is;
            // the caller validates the result by parsing it.
            let at = clast + 1;
            for (offset, line) in missing.into_iter().enumerate() {
                out.insert(at + offset, line);
            }
        }
    }
    Ok(out.join(newline))
}

/// The measurement as YAML comments: what was timed, on what, so the block explains itself.
pub fn describe_measured(m: &Measured, shown: &str) -> String {
    use super::estimate::{human_bytes, human_count};
    let ms = |d: Duration| format!("{:.1} ms", d.as_secs_f64() * 1000.0);
    format!(
        "# measured by `gonogo calibrate` on {shown}: a {}-row table, in a transaction rolled back\n\
         # scan (ADD CHECK) {} in {}; index build {} in {}; rewrite (int -> bigint) {} in {};\n\
         # UPDATE of every row {} in {}; overhead (lock-only statement {} + round trip {}, medians of {OVERHEAD_SAMPLES})\n",
        human_count(m.rows),
        human_bytes(m.scan_bytes),
        ms(m.scan),
        human_bytes(m.index_bytes),
        ms(m.index_build),
        human_bytes(m.rewrite_bytes),
        ms(m.rewrite),
        human_bytes(m.update_bytes),
        ms(m.update),
        ms(m.overhead),
        ms(m.commit),
    )
}

/// Connect to `scratch_url`, measure, roll back: the measurement and the target as shown in
/// messages. `stats_url` is only compared with it: calibration never runs on the stats database.
/// The error is one line without the password.
pub async fn calibrate(
    url: &str,
    stats_url: Option<&str>,
    rows: u64,
) -> Result<(Measured, String), String> {
    if !(MIN_ROWS..=MAX_ROWS).contains(&rows) {
        return Err(format!(
            "--rows must be between {MIN_ROWS} and {MAX_ROWS}, found {rows}"
        ));
    }
    let target = Target::parse(url, "scratch_url")?;
    // The transaction is rolled back, but its table and writes still load the server: refuse
    // the database whose statistics stand for production.
    if let Some(stats) = stats_url.and_then(|u| Target::parse(u, "stats_url").ok())
        && connect::same_database(&stats.config, &target.config)
    {
        return Err(format!(
            "refusing to calibrate: scratch_url ({}) is the same database as stats_url ({}); calibrate on a disposable copy",
            target.shown, stats.shown
        ));
    }
    let client = connect::connect(&target, "scratch_url", &[]).await?;
    let fail = |what: &str, e: tokio_postgres::Error| {
        format!(
            "calibrating on scratch_url ({}) failed: {what}: {}",
            target.shown,
            describe(&e)
        )
    };
    // A round trip outside the transaction, read-only: the part of a statement's fixed cost the
    // rolled-back transaction's timings do not show. (A commit's WAL flush would need a commit.)
    let mut commits = Vec::with_capacity(OVERHEAD_SAMPLES);
    for _ in 0..OVERHEAD_SAMPLES {
        let started = Instant::now();
        client
            .batch_execute("SELECT 1")
            .await
            .map_err(|e| fail("timing a round trip", e))?;
        commits.push(started.elapsed());
    }
    commits.sort();
    let commit = commits[OVERHEAD_SAMPLES / 2];
    let version: String = client
        .query_one("SELECT current_setting('server_version')", &[])
        .await
        .map_err(|e| fail("reading the server version", e))?
        .get(0);
    client
        .batch_execute(&format!(
            "SET statement_timeout = {}; SET lock_timeout = {}; BEGIN",
            STATEMENT_TIMEOUT.as_millis(),
            LOCK_TIMEOUT.as_millis()
        ))
        .await
        .map_err(|e| fail("starting the transaction", e))?;
    let result = measure(&client, rows, commit).await;
    // Always roll back, also after an error (an aborted transaction accepts ROLLBACK). If even
    // that fails, dropping the client closes the session and the server rolls back.
    let rollback = client.batch_execute("ROLLBACK").await;
    let measured = result.map_err(|(what, e)| fail(what, e))?;
    rollback.map_err(|e| fail("rolling back", e))?;
    Ok((measured, format!("{} (PostgreSQL {version})", target.shown)))
}

type Step = (&'static str, tokio_postgres::Error);

async fn measure(client: &Client, rows: u64, commit: Duration) -> Result<Measured, Step> {
    let timed = |what: &'static str, sql: String| async move {
        let started = Instant::now();
        client.batch_execute(&sql).await.map_err(|e| (what, e))?;
        Ok::<Duration, Step>(started.elapsed())
    };
    let size = || async {
        client
            .query_one(&format!("SELECT pg_table_size('{TABLE}')::int8"), &[])
            .await
            .map(|row| row.get::<_, i64>(0).max(0) as u64)
            .map_err(|e| ("reading the table size", e))
    };
    // Rows like an application table's: integers and short text, as in tests/migrations_live.rs.
    timed(
        "creating the calibration table (the role needs CREATE on the first schema in its search_path)",
        format!(
            "CREATE TABLE {TABLE} (id int NOT NULL, customer_id int NOT NULL, amount int NOT NULL,
                                   status text NOT NULL, note varchar(64));
             INSERT INTO {TABLE}
               SELECT i, i % 5000, i % 100000, CASE WHEN i % 3 = 0 THEN 'paid' ELSE 'open' END,
                      'order note ' || i
               FROM generate_series(1, {rows}) AS i"
        ),
    )
    .await?;
    let mut samples = Vec::with_capacity(OVERHEAD_SAMPLES);
    for i in 0..OVERHEAD_SAMPLES {
        // A lock-only DDL: ACCESS EXCLUSIVE and a catalog update, no pass over the rows.
        samples.push(
            timed(
                "timing a lock-only statement",
                format!(
                    "ALTER TABLE {TABLE} ALTER COLUMN note SET STATISTICS {}",
                    100 + i
                ),
            )
            .await?,
        );
    }
    samples.sort();
    let overhead = samples[OVERHEAD_SAMPLES / 2];
    let scan_bytes = size().await?;
    let scan = timed(
        "timing a scan (ADD CHECK)",
        format!("ALTER TABLE {TABLE} ADD CONSTRAINT {TABLE}_amount_check CHECK (amount >= 0)"),
    )
    .await?;
    let index_bytes = size().await?;
    let index_build = timed(
        "timing an index build",
        format!("CREATE INDEX {TABLE}_customer_idx ON {TABLE} (customer_id)"),
    )
    .await?;
    timed(
        "dropping the index",
        format!("DROP INDEX {TABLE}_customer_idx"),
    )
    .await?;
    let rewrite_bytes = size().await?;
    let rewrite = timed(
        "timing a rewrite (ALTER COLUMN TYPE)",
        format!("ALTER TABLE {TABLE} ALTER COLUMN id TYPE bigint"),
    )
    .await?;
    let update_bytes = size().await?;
    let update = timed(
        "timing an UPDATE of every row",
        format!("UPDATE {TABLE} SET amount = amount + 1"),
    )
    .await?;
    Ok(Measured {
        rows,
        scan_bytes,
        index_bytes,
        rewrite_bytes,
        update_bytes,
        scan,
        index_build,
        rewrite,
        update,
        overhead,
        commit,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured() -> Measured {
        Measured {
            rows: 200_000,
            scan_bytes: 20_000_000,
            index_bytes: 20_000_000,
            rewrite_bytes: 20_000_000,
            update_bytes: 22_000_000,
            scan: Duration::from_millis(51),
            index_build: Duration::from_millis(251),
            rewrite: Duration::from_millis(301),
            update: Duration::from_millis(801),
            overhead: Duration::from_micros(1_030),
            commit: Duration::from_micros(1_000),
        }
    }

    #[test]
    fn rates_are_size_over_time_minus_overhead_rounded_down() {
        let model = constants(&measured()).unwrap();
        // 20 MB in (51 - 1.03) ms = 400.2 MB/s → 400.
        assert_eq!(model.scan_mb_per_s, 400.0);
        // 20 MB / 0.24997 s = 80.01 → 80.
        assert_eq!(model.index_build_mb_per_s, 80.0);
        // 20 MB / 0.29997 s = 66.67 → 66.
        assert_eq!(model.rewrite_mb_per_s, 66.0);
        // 22 MB / 0.79997 s = 27.5 → 27.
        assert_eq!(model.update_mb_per_s, 27.0);
        // 1.03 ms statement + 1 ms commit, up to the next 0.1 ms.
        assert_eq!(model.overhead_ms, 2.1);
    }

    #[test]
    fn degenerate_timings_never_give_zero_infinite_or_nan() {
        let mut m = measured();
        m.scan = Duration::ZERO;
        m.overhead = Duration::ZERO;
        m.commit = Duration::ZERO;
        let model = constants(&m).unwrap();
        assert!(model.scan_mb_per_s.is_finite() && model.scan_mb_per_s > 0.0);
        assert_eq!(model.overhead_ms, 0.1);
        m.update_bytes = 0;
        assert!(constants(&m).unwrap_err().contains("update"));
    }

    #[test]
    fn rounding_keeps_two_significant_figures_without_float_noise() {
        assert_eq!(round_down_2sf(0.3456), 0.34);
        assert_eq!(round_down_2sf(3.456), 3.4);
        assert_eq!(round_down_2sf(1234.0), 1200.0);
        assert_eq!(round_down_2sf(f64::INFINITY), 0.0);
        assert_eq!(0.34f64.to_string(), "0.34");
    }

    fn model() -> CostModel {
        CostModel {
            rewrite_mb_per_s: 66.0,
            scan_mb_per_s: 400.0,
            index_build_mb_per_s: 80.0,
            update_mb_per_s: 27.0,
            overhead_ms: 2.1,
        }
    }

    #[test]
    fn inserts_a_costs_block_at_the_end_of_migrations_keeping_comments() {
        let config = "# my config\nchecks:\n  migrations:   # the SQL\n    paths: [\"db/*.sql\"]\n    database:\n      scratch_url: env:X  # scratch\n  # dns next\n  dns: {}\n";
        let updated = update_config(config, &model()).unwrap();
        assert_eq!(
            updated,
            "# my config\nchecks:\n  migrations:   # the SQL\n    paths: [\"db/*.sql\"]\n    database:\n      scratch_url: env:X  # scratch\n    costs:\n      rewrite_mb_per_s: 66\n      scan_mb_per_s: 400\n      index_build_mb_per_s: 80\n      update_mb_per_s: 27\n      overhead_ms: 2.1\n  # dns next\n  dns: {}\n"
        );
    }

    #[test]
    fn replaces_values_in_an_existing_block_and_adds_missing_keys() {
        let config = "checks:\n    migrations:\n        costs:\n            # measured last year\n            scan_mb_per_s: 10   # old\n            rewrite_mb_per_s: 5\n        database:\n            scratch_url: x\r\n";
        let updated = update_config(&config.replace("\r\n", "\n"), &model()).unwrap();
        assert_eq!(
            updated,
            "checks:\n    migrations:\n        costs:\n            # measured last year\n            scan_mb_per_s: 400   # old\n            rewrite_mb_per_s: 66\n            index_build_mb_per_s: 80\n            update_mb_per_s: 27\n            overhead_ms: 2.1\n        database:\n            scratch_url: x\n"
        );
        // CRLF files stay CRLF.
        let crlf = update_config(
            &config.replace('\n', "\r\n").replace("\r\r", "\r"),
            &model(),
        )
        .unwrap();
        assert!(crlf.contains("scan_mb_per_s: 400   # old\r\n"), "{crlf}");
        assert!(!crlf.replace("\r\n", "").contains('\n'), "{crlf}");
    }

    #[test]
    fn refuses_what_it_cannot_edit_safely() {
        for config in [
            "checks: {migrations: {paths: []}}\n",
            "checks:\n  migrations: *anchor\n",
            "checks:\n  migrations:\n    costs: {scan_mb_per_s: 1}\n",
            "checks:\n\tmigrations:\n",
            "checks:\n  migrations:\n    paths: []\n---\nchecks: {}\n",
            "base: v1\n",
            "",
        ] {
            assert!(update_config(config, &model()).is_err(), "{config:?}");
        }
    }

    #[test]
    fn the_printed_block_is_valid_config() {
        let block = yaml_block(&model(), 4, 2);
        let text = format!("checks:\n  migrations:\n{block}");
        let parsed = crate::config::parse(&text, "gonogo.yaml").unwrap();
        let costs = parsed
            .checks
            .migrations
            .unwrap()
            .sets
            .remove(0)
            .costs
            .unwrap();
        assert_eq!(costs.overhead_ms, Some(2.1));
        assert_eq!(costs.scan_mb_per_s, Some(400.0));
    }
}
