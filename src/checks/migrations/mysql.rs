//! MySQL 8 (InnoDB) rules of the `migrations` check. Each ALTER is classified by MySQL's online
//! DDL table: INSTANT, INPLACE without a rebuild, INPLACE with a table rebuild, or COPY.

use super::{MigrationFile, Settings};
use crate::declare_rule;
use crate::report::Finding;

declare_rule! {
    /// ## What it catches
    /// An `ALTER TABLE` that MySQL can only run with `ALGORITHM=COPY`: changing a column's type
    /// (`MODIFY`/`CHANGE` to another type), shrinking a column, dropping the primary key,
    /// `CONVERT TO CHARACTER SET`, or an explicit `ALGORITHM=COPY` / `LOCK=SHARED|EXCLUSIVE`.
    ///
    /// ## Why it matters during a deploy
    /// COPY builds a new table row by row and blocks every write (DML) to the table until it is
    /// done: minutes to hours on a large table.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders MODIFY COLUMN amount_cents BIGINT NOT NULL;
    /// ```
    ///
    /// ## Do this instead
    /// Use an online schema change tool (gh-ost, pt-online-schema-change) for large tables, or
    /// expand and contract: add a new column, backfill in batches, switch, drop the old one.
    pub MYSQL_COPY_ALGORITHM = ("migrations/mysql-copy-algorithm", Fail, "ALTER TABLE that needs ALGORITHM=COPY blocks writes for the whole copy");
}

declare_rule! {
    /// ## What it catches
    /// An `ALTER TABLE` that MySQL runs INPLACE but with a full table rebuild: making a column
    /// NULL or NOT NULL, adding a primary key, `FORCE`, `ENGINE=InnoDB`, `OPTIMIZE TABLE`.
    ///
    /// ## Why it matters during a deploy
    /// Writes continue during most of the rebuild, but it reads and rewrites the whole table
    /// (I/O, replica lag), and the metadata lock at the start and end can queue every query.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users MODIFY COLUMN email VARCHAR(255) NOT NULL;
    /// ```
    ///
    /// ## Do this instead
    /// Run it with `ALGORITHM=INPLACE, LOCK=NONE` off-peak, or with gh-ost /
    /// pt-online-schema-change on large tables.
    pub MYSQL_TABLE_REBUILD = ("migrations/mysql-table-rebuild", Fail, "ALTER TABLE that rebuilds the whole table");
}

declare_rule! {
    /// ## What it catches
    /// Adding a `FULLTEXT` or `SPATIAL` index.
    ///
    /// ## Why it matters during a deploy
    /// InnoDB builds these with a shared lock: writes to the table are blocked for the whole
    /// build (and the first FULLTEXT index rebuilds the table).
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE products ADD FULLTEXT INDEX products_name_ft (name);
    /// ```
    ///
    /// ## Do this instead
    /// Build it with gh-ost / pt-online-schema-change, or in a maintenance window.
    pub MYSQL_FULLTEXT_INDEX = ("migrations/mysql-fulltext-index", Fail, "FULLTEXT/SPATIAL index builds block writes");
}

declare_rule! {
    /// ## What it catches
    /// An online `ALTER TABLE` (INSTANT or INPLACE) written without `ALGORITHM=…` and
    /// `LOCK=NONE`.
    ///
    /// ## Why it matters during a deploy
    /// Without them MySQL silently falls back to a slower algorithm or a stronger lock when the
    /// change turns out not to be online (a different MySQL version, a table with a FULLTEXT
    /// index). With them it refuses instead, and nothing is blocked.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD INDEX orders_status_idx (status);
    /// ```
    ///
    /// ## Do this instead
    /// ```sql
    /// ALTER TABLE orders ADD INDEX orders_status_idx (status), ALGORITHM=INPLACE, LOCK=NONE;
    /// ALTER TABLE orders ADD COLUMN note TEXT, ALGORITHM=INSTANT;
    /// ```
    pub MYSQL_MISSING_ALGORITHM_LOCK = ("migrations/mysql-missing-algorithm-lock", Warn, "online ALTER without ALGORITHM/LOCK can silently block");
}

declare_rule! {
    /// ## What it catches
    /// DDL on an existing table with no `SET lock_wait_timeout` (session) earlier in the
    /// migration.
    ///
    /// ## Why it matters during a deploy
    /// Every ALTER needs an exclusive metadata lock, at least briefly. Waiting behind a long
    /// transaction, it blocks every later query on the table; the default `lock_wait_timeout` is
    /// a year.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN note TEXT, ALGORITHM=INSTANT;
    /// ```
    ///
    /// ## Do this instead
    /// ```sql
    /// SET SESSION lock_wait_timeout = 5;
    /// ALTER TABLE orders ADD COLUMN note TEXT, ALGORITHM=INSTANT;
    /// ```
    pub MYSQL_MISSING_LOCK_WAIT_TIMEOUT = ("migrations/mysql-missing-lock-wait-timeout", Warn, "DDL without lock_wait_timeout can queue every query behind a metadata lock");
}

/// Analyse MySQL migration files in order. (Work in progress: see the check's summary.)
pub fn analyze(_files: &[MigrationFile], _settings: &Settings) -> Option<Vec<Finding>> {
    None
}
