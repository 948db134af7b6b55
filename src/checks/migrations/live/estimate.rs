//! The cost model: how long a statement's long work holds its lock, from table sizes.
//!
//! Every kind of long work is a pass over the table's bytes at a rate measured on a real server:
//!
//! | work | time |
//! |---|---|
//! | rewrite (ALTER COLUMN TYPE, volatile default, VACUUM FULL, CLUSTER) | table / `rewrite` + one index build per index |
//! | scan (validate CHECK / FOREIGN KEY / NOT NULL) | table / `scan` |
//! | index build (CREATE INDEX, ADD UNIQUE, REINDEX) | table / `index_build` |
//! | unbatched UPDATE/DELETE of every row | table / `update` + per index: table / `index_build` × ½ |
//! | lock only (RENAME, DROP, TRUNCATE, LOCK) | `overhead` |
//!
//! "table" is heap + TOAST pages from `pg_class`. Each estimate adds a fixed `overhead` (catalog
//! updates, commit, a WAL flush). The default rates ([`CostModel::default`]) are rounded down
//! from timings on a 2-vCPU VM with PostgreSQL 15 and a cached 200k-row table, and are checked
//! against the measured time of the same statements by tests/migrations_live.rs (there the
//! estimates come out 1.0-1.7x the measured time: too long is the safe mistake). A production
//! server with cold caches, replication and concurrent load is slower, which is why the verdict
//! keeps a margin (see [`judge`]). Rates measured on your own server go in
//! `checks.migrations.costs` (`rewrite_mb_per_s`, `scan_mb_per_s`, `index_build_mb_per_s`,
//! `update_mb_per_s`, `overhead_ms`).

use crate::report::Severity;
use std::time::Duration;

/// Throughputs in MB (10^6 bytes) of table per second, and a fixed cost per statement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CostModel {
    pub rewrite_mb_per_s: f64,
    pub scan_mb_per_s: f64,
    pub index_build_mb_per_s: f64,
    pub update_mb_per_s: f64,
    pub overhead_ms: f64,
}

impl Default for CostModel {
    fn default() -> Self {
        // See the module docs: rounded down from timings on a 200k-row, 2-index table, so an
        // estimate errs on the long side.
        CostModel {
            rewrite_mb_per_s: 60.0,
            scan_mb_per_s: 400.0,
            index_build_mb_per_s: 60.0,
            update_mb_per_s: 25.0,
            overhead_ms: 5.0,
        }
    }
}

/// The long work a statement does while it holds its lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Work {
    /// Copies the table and rebuilds every index.
    Rewrite,
    /// Reads every row (constraint validation).
    Scan,
    /// Builds one index.
    IndexBuild,
    /// Writes a new version of every row (UPDATE/DELETE without WHERE).
    Update,
    /// Takes the lock and changes the catalog only.
    LockOnly,
}

impl Work {
    pub fn describe(self) -> &'static str {
        match self {
            Work::Rewrite => "rewrites",
            Work::Scan => "scans",
            Work::IndexBuild => "builds an index on",
            Work::Update => "writes every row of",
            Work::LockOnly => "locks",
        }
    }
}

/// What the estimate needs to know about a table.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TableSize {
    /// Heap + TOAST bytes (`pg_table_size`).
    pub table_bytes: u64,
    pub indexes: u32,
}

const MB: f64 = 1_000_000.0;

/// The estimated time `work` holds its lock on a table of `size`.
pub fn estimate(work: Work, size: TableSize, model: &CostModel) -> Duration {
    let mb = size.table_bytes as f64 / MB;
    let per = |rate: f64| if rate > 0.0 { mb / rate } else { 0.0 };
    let index_builds = f64::from(size.indexes) * per(model.index_build_mb_per_s);
    let seconds = match work {
        Work::Rewrite => per(model.rewrite_mb_per_s) + index_builds,
        Work::Scan => per(model.scan_mb_per_s),
        Work::IndexBuild => per(model.index_build_mb_per_s),
        // Each updated row gets a new entry in every index: about half an index build each.
        Work::Update => per(model.update_mb_per_s) + index_builds / 2.0,
        Work::LockOnly => 0.0,
    } + model.overhead_ms / 1000.0;
    Duration::from_secs_f64(seconds.max(0.0))
}

/// The severity of a lock window of `estimate` against `max_lock_seconds`. Estimates are good to
/// about a factor of 3 (see tests/migrations_live.rs), so a window within a tenth of the limit
/// is a pass (`info`), up to the limit a `warn` (the table grows; the estimate may be low), and
/// over it a `fail`. A lock that blocks neither reads nor writes is `info` whatever it lasts.
pub fn judge(estimate: Duration, max_lock_seconds: f64, blocks_writes: bool) -> Severity {
    let seconds = estimate.as_secs_f64();
    if !blocks_writes || seconds <= max_lock_seconds / 10.0 {
        Severity::Info
    } else if seconds <= max_lock_seconds {
        Severity::Warn
    } else {
        Severity::Fail
    }
}

/// How many events at `per_second` arrive during `window`: the queue behind the lock.
pub fn queued(per_second: f64, window: Duration) -> u64 {
    (per_second.max(0.0) * window.as_secs_f64()).round() as u64
}

/// `4.1 GB`, `812 MB`, `96 kB`, `8 kB`: sizes as people say them.
pub fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.0} MB", b / 1e6)
    } else {
        format!("{:.0} kB", (b / 1e3).max(1.0))
    }
}

/// `~38 s`, `~2.4 s`, `~120 ms`, `under 10 ms`.
pub fn human_duration(duration: Duration) -> String {
    let s = duration.as_secs_f64();
    if s >= 10.0 {
        format!("~{:.0} s", s)
    } else if s >= 1.0 {
        format!("~{:.1} s", s)
    } else if s >= 0.01 {
        format!("~{:.0} ms", s * 1000.0)
    } else {
        "under 10 ms".to_string()
    }
}

/// `12,000`: thousands separated, rounded to two significant digits above 1,000 (it is an
/// estimate, and "12,347 writes" would claim a precision it does not have).
pub fn human_count(count: u64) -> String {
    let rounded = if count >= 1000 {
        let magnitude = 10u64.pow((count as f64).log10().floor() as u32 - 1);
        (count + magnitude / 2) / magnitude * magnitude
    } else {
        count
    };
    let digits = rounded.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(mb: u64, indexes: u32) -> TableSize {
        TableSize {
            table_bytes: mb * 1_000_000,
            indexes,
        }
    }

    #[test]
    fn rewrite_costs_the_copy_plus_one_build_per_index() {
        let model = CostModel {
            rewrite_mb_per_s: 100.0,
            scan_mb_per_s: 500.0,
            index_build_mb_per_s: 50.0,
            update_mb_per_s: 25.0,
            overhead_ms: 0.0,
        };
        // 1000 MB: 10 s copy + 3 × 20 s index builds.
        assert_eq!(
            estimate(Work::Rewrite, size(1000, 3), &model),
            Duration::from_secs(70)
        );
        assert_eq!(
            estimate(Work::Scan, size(1000, 3), &model),
            Duration::from_secs(2)
        );
        assert_eq!(
            estimate(Work::IndexBuild, size(1000, 3), &model),
            Duration::from_secs(20)
        );
        assert_eq!(
            estimate(Work::Update, size(1000, 2), &model),
            Duration::from_secs(60)
        );
        assert_eq!(
            estimate(Work::LockOnly, size(1000, 3), &model),
            Duration::ZERO
        );
    }

    #[test]
    fn overhead_is_added_and_zero_rates_do_not_divide_by_zero() {
        let model = CostModel {
            rewrite_mb_per_s: 0.0,
            overhead_ms: 5.0,
            ..CostModel::default()
        };
        assert_eq!(
            estimate(Work::LockOnly, size(10, 0), &model),
            Duration::from_millis(5)
        );
        assert!(estimate(Work::Rewrite, size(10, 0), &model) < Duration::from_millis(6));
    }

    #[test]
    fn severity_follows_the_estimate() {
        assert_eq!(judge(Duration::from_millis(50), 2.0, true), Severity::Info);
        assert_eq!(judge(Duration::from_millis(900), 2.0, true), Severity::Warn);
        assert_eq!(judge(Duration::from_secs(38), 2.0, true), Severity::Fail);
        assert_eq!(judge(Duration::from_secs(38), 2.0, false), Severity::Info);
    }

    #[test]
    fn numbers_read_like_prose() {
        assert_eq!(human_bytes(4_100_000_000), "4.1 GB");
        assert_eq!(human_bytes(14_000_000), "14 MB");
        assert_eq!(human_bytes(8192), "8 kB");
        assert_eq!(human_duration(Duration::from_secs(38)), "~38 s");
        assert_eq!(human_duration(Duration::from_millis(2400)), "~2.4 s");
        assert_eq!(human_duration(Duration::from_millis(120)), "~120 ms");
        assert_eq!(human_duration(Duration::from_millis(3)), "under 10 ms");
        assert_eq!(human_count(12_347), "12,000");
        assert_eq!(human_count(987), "987");
        assert_eq!(human_count(1_560_000), "1,600,000");
        assert_eq!(queued(320.0, Duration::from_secs(38)), 12_160);
    }
}
