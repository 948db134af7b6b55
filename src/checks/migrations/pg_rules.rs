//! PostgreSQL rules of the `migrations` check: declarations and documentation. The detection is in
//! `pg.rs`, which follows locks through transactions; each rule's doc comment is what
//! `gonogo explain` prints.
//!
//! Lock facts are from the PostgreSQL documentation ("Explicit Locking", "ALTER TABLE"); the
//! version where a behaviour changed is named where it matters.

use crate::declare_rule;

declare_rule! {
    /// ## What it catches
    /// `ADD COLUMN … DEFAULT <volatile expression>` (`gen_random_uuid()`, `random()`,
    /// `clock_timestamp()`, `nextval(…)`) on an existing table; on PostgreSQL 10 and older, any
    /// non-NULL default.
    ///
    /// ## Why it matters during a deploy
    /// A volatile default must be computed for every existing row, so PostgreSQL rewrites the
    /// whole table under an ACCESS EXCLUSIVE lock: no reads, no writes until it is done. Since
    /// PostgreSQL 11 a constant or stable default (`0`, `'new'`, `now()`, `CURRENT_TIMESTAMP`) is
    /// stored in the catalog and costs nothing.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN public_id uuid DEFAULT gen_random_uuid();
    /// ```
    ///
    /// ## Do this instead
    /// Add the column without a default, set the default for new rows, backfill in batches:
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN public_id uuid;
    /// ALTER TABLE orders ALTER COLUMN public_id SET DEFAULT gen_random_uuid();
    /// UPDATE orders SET public_id = gen_random_uuid() WHERE id BETWEEN 1 AND 10000 AND public_id IS NULL;  -- repeat per batch
    /// ```
    pub ADD_COLUMN_VOLATILE_DEFAULT = ("migrations/pg-add-column-volatile-default", Fail, "ADD COLUMN with a volatile default rewrites the table under ACCESS EXCLUSIVE");
}

declare_rule! {
    /// ## What it catches
    /// `ADD COLUMN` of type `serial`/`bigserial`/`smallserial`, or `GENERATED … AS IDENTITY`, on an
    /// existing table.
    ///
    /// ## Why it matters during a deploy
    /// Every existing row needs its own sequence value, so the table is rewritten under an ACCESS
    /// EXCLUSIVE lock, blocking reads and writes for the whole rewrite.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE events ADD COLUMN seq bigserial;
    /// ```
    ///
    /// ## Do this instead
    /// Add a nullable `bigint`, create the sequence, set the default, backfill in batches, then
    /// add the constraint you need (NOT NULL via a validated CHECK, a unique index CONCURRENTLY).
    pub ADD_COLUMN_SERIAL = ("migrations/pg-add-column-serial", Fail, "ADD COLUMN serial/identity rewrites the table under ACCESS EXCLUSIVE");
}

declare_rule! {
    /// ## What it catches
    /// `ADD COLUMN … GENERATED ALWAYS AS (…) STORED` on an existing table.
    ///
    /// ## Why it matters during a deploy
    /// The value is computed and stored for every row: a full rewrite under ACCESS EXCLUSIVE.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN total_cents bigint GENERATED ALWAYS AS (amount_cents + tax_cents) STORED;
    /// ```
    ///
    /// ## Do this instead
    /// Add a plain nullable column filled by a trigger for new rows, backfill in batches; or
    /// compute it in a view or in the query.
    pub ADD_COLUMN_GENERATED_STORED = ("migrations/pg-add-column-generated-stored", Fail, "ADD COLUMN GENERATED … STORED rewrites the table");
}

declare_rule! {
    /// ## What it catches
    /// `ALTER COLUMN … TYPE` to a type that is not binary-coercible from the current one
    /// (`int` → `bigint`, `json` → `jsonb`, `timestamp` → `timestamptz`, a shorter `varchar`, a
    /// `USING` expression that changes the data). Widening `varchar(n)`, `varchar` → `text` and a
    /// larger `numeric` precision with the same scale do not rewrite and stay quiet. gonogo reads
    /// the column's current type from the earlier migrations.
    ///
    /// ## Why it matters during a deploy
    /// PostgreSQL rewrites the table and rebuilds every index on it while holding ACCESS
    /// EXCLUSIVE: minutes of downtime on a large table.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ALTER COLUMN amount_cents TYPE bigint;
    /// ```
    ///
    /// ## Do this instead
    /// Add a new column of the new type, write both from the application (or a trigger),
    /// backfill in batches, switch reads, then drop the old column in a later deploy.
    pub ALTER_COLUMN_TYPE = ("migrations/pg-alter-column-type", Fail, "ALTER COLUMN TYPE rewrites the table and its indexes under ACCESS EXCLUSIVE");
}

declare_rule! {
    /// ## What it catches
    /// Statements that rewrite a whole table: `VACUUM FULL`, `CLUSTER`, `ALTER TABLE … SET
    /// LOGGED/UNLOGGED`, `ALTER TABLE … SET TABLESPACE`.
    ///
    /// ## Why it matters during a deploy
    /// Each copies every row into a new file under ACCESS EXCLUSIVE: reads and writes wait for
    /// the whole copy.
    ///
    /// ## Example
    /// ```sql
    /// VACUUM FULL orders;
    /// ```
    ///
    /// ## Do this instead
    /// Do not run these in a migration. To reclaim space online use `pg_repack` or
    /// `pg_squeeze`; to move a table, create a new one and copy in batches.
    pub TABLE_REWRITE = ("migrations/pg-table-rewrite", Fail, "VACUUM FULL, CLUSTER, SET LOGGED/UNLOGGED or SET TABLESPACE rewrites the table");
}

declare_rule! {
    /// ## What it catches
    /// `ALTER COLUMN … SET NOT NULL` on an existing table without a validated
    /// `CHECK (column IS NOT NULL)` constraint from an earlier transaction.
    ///
    /// ## Why it matters during a deploy
    /// PostgreSQL scans the whole table to prove there is no NULL, holding ACCESS EXCLUSIVE the
    /// whole time. Since PostgreSQL 12 it skips the scan when a valid CHECK constraint already
    /// proves it.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ALTER COLUMN email SET NOT NULL;
    /// ```
    ///
    /// ## Do this instead
    /// In separate transactions:
    /// ```sql
    /// ALTER TABLE users ADD CONSTRAINT users_email_not_null CHECK (email IS NOT NULL) NOT VALID;
    /// ALTER TABLE users VALIDATE CONSTRAINT users_email_not_null;  -- SHARE UPDATE EXCLUSIVE: reads and writes go on
    /// ALTER TABLE users ALTER COLUMN email SET NOT NULL;            -- PostgreSQL 12+: no scan
    /// ALTER TABLE users DROP CONSTRAINT users_email_not_null;
    /// ```
    pub SET_NOT_NULL = ("migrations/pg-set-not-null", Fail, "SET NOT NULL scans the table under ACCESS EXCLUSIVE");
}

declare_rule! {
    /// ## What it catches
    /// `ADD CONSTRAINT … CHECK (…)` on an existing table without `NOT VALID`.
    ///
    /// ## Why it matters during a deploy
    /// PostgreSQL checks every existing row while holding ACCESS EXCLUSIVE.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount_cents > 0);
    /// ```
    ///
    /// ## Do this instead
    /// ```sql
    /// ALTER TABLE orders ADD CONSTRAINT orders_amount_positive CHECK (amount_cents > 0) NOT VALID;
    /// -- in a later transaction:
    /// ALTER TABLE orders VALIDATE CONSTRAINT orders_amount_positive;
    /// ```
    pub ADD_CHECK_CONSTRAINT = ("migrations/pg-add-check-constraint", Fail, "ADD CHECK without NOT VALID scans the table under ACCESS EXCLUSIVE");
}

declare_rule! {
    /// ## What it catches
    /// `ADD … FOREIGN KEY` on an existing table without `NOT VALID`.
    ///
    /// ## Why it matters during a deploy
    /// PostgreSQL validates every row while holding SHARE ROW EXCLUSIVE on both the table and
    /// the referenced table: writes to both are blocked for the whole scan.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id);
    /// ```
    ///
    /// ## Do this instead
    /// ```sql
    /// ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
    /// -- in a later transaction (SHARE UPDATE EXCLUSIVE: reads and writes go on):
    /// ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
    /// ```
    pub ADD_FOREIGN_KEY = ("migrations/pg-add-foreign-key", Fail, "ADD FOREIGN KEY without NOT VALID blocks writes on both tables during a full scan");
}

declare_rule! {
    /// ## What it catches
    /// `VALIDATE CONSTRAINT` in the same transaction as the `ADD CONSTRAINT … NOT VALID` it
    /// validates.
    ///
    /// ## Why it matters during a deploy
    /// `NOT VALID` is only useful because the validation can run later under a weak lock. In
    /// the same transaction, the ACCESS EXCLUSIVE (or SHARE ROW EXCLUSIVE) lock taken by the ADD
    /// is still held while VALIDATE scans the table: the same outage as without NOT VALID.
    ///
    /// ## Example
    /// ```sql
    /// BEGIN;
    /// ALTER TABLE orders ADD CONSTRAINT orders_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id) NOT VALID;
    /// ALTER TABLE orders VALIDATE CONSTRAINT orders_customer_fk;
    /// COMMIT;
    /// ```
    ///
    /// ## Do this instead
    /// Put the VALIDATE in a separate migration (or after a COMMIT).
    pub VALIDATE_IN_SAME_TRANSACTION = ("migrations/pg-validate-in-same-transaction", Fail, "VALIDATE CONSTRAINT in the same transaction as its ADD … NOT VALID keeps the strong lock during the scan");
}

declare_rule! {
    /// ## What it catches
    /// `CREATE [UNIQUE] INDEX` without `CONCURRENTLY` on an existing table.
    ///
    /// ## Why it matters during a deploy
    /// The build holds a SHARE lock: reads go on, but every INSERT, UPDATE and DELETE waits
    /// until the whole index is built.
    ///
    /// ## Example
    /// ```sql
    /// CREATE INDEX orders_status_idx ON orders (status);
    /// ```
    ///
    /// ## Do this instead
    /// ```sql
    /// CREATE INDEX CONCURRENTLY IF NOT EXISTS orders_status_idx ON orders (status);
    /// ```
    /// outside a transaction block (its own migration without a wrapping transaction). If it
    /// fails it leaves an INVALID index: drop it and retry.
    pub ADD_INDEX_NOT_CONCURRENT = ("migrations/pg-add-index-not-concurrent", Fail, "CREATE INDEX without CONCURRENTLY blocks writes for the whole build");
}

declare_rule! {
    /// ## What it catches
    /// `ADD CONSTRAINT … UNIQUE (…)`, `ADD PRIMARY KEY (…)` or `ADD … EXCLUDE` on an existing
    /// table, which build their index inside ALTER TABLE.
    ///
    /// ## Why it matters during a deploy
    /// The index is built while ALTER TABLE holds ACCESS EXCLUSIVE: no reads, no writes until the
    /// build ends.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE (email);
    /// ```
    ///
    /// ## Do this instead
    /// ```sql
    /// CREATE UNIQUE INDEX CONCURRENTLY users_email_key ON users (email);
    /// ALTER TABLE users ADD CONSTRAINT users_email_key UNIQUE USING INDEX users_email_key;
    /// ```
    /// (An exclusion constraint has no USING INDEX form: schedule it for a maintenance window.)
    pub ADD_UNIQUE_CONSTRAINT = ("migrations/pg-add-unique-constraint", Fail, "ADD UNIQUE / PRIMARY KEY / EXCLUDE builds an index under ACCESS EXCLUSIVE");
}

declare_rule! {
    /// ## What it catches
    /// `REINDEX` without `CONCURRENTLY`.
    ///
    /// ## Why it matters during a deploy
    /// REINDEX blocks writes to the table (and reads that would use the index) for the whole
    /// rebuild. `REINDEX CONCURRENTLY` exists since PostgreSQL 12.
    ///
    /// ## Example
    /// ```sql
    /// REINDEX INDEX orders_status_idx;
    /// ```
    ///
    /// ## Do this instead
    /// `REINDEX INDEX CONCURRENTLY orders_status_idx;` outside a transaction block (before 12:
    /// `CREATE INDEX CONCURRENTLY` a copy, then drop the old one concurrently).
    pub REINDEX_NOT_CONCURRENT = ("migrations/pg-reindex-not-concurrent", Fail, "REINDEX without CONCURRENTLY blocks writes for the whole rebuild");
}

declare_rule! {
    /// ## What it catches
    /// `DROP INDEX` without `CONCURRENTLY`.
    ///
    /// ## Why it matters during a deploy
    /// The drop itself is quick, but it needs ACCESS EXCLUSIVE on the table: it waits behind any
    /// long query, and every query on the table queues behind it meanwhile.
    ///
    /// ## Example
    /// ```sql
    /// DROP INDEX orders_legacy_idx;
    /// ```
    ///
    /// ## Do this instead
    /// `DROP INDEX CONCURRENTLY IF EXISTS orders_legacy_idx;` outside a transaction block.
    pub DROP_INDEX_NOT_CONCURRENT = ("migrations/pg-drop-index-not-concurrent", Warn, "DROP INDEX without CONCURRENTLY needs ACCESS EXCLUSIVE on the table");
}

declare_rule! {
    /// ## What it catches
    /// `REFRESH MATERIALIZED VIEW` without `CONCURRENTLY`.
    ///
    /// ## Why it matters during a deploy
    /// The refresh holds ACCESS EXCLUSIVE on the view: every read of it waits for the whole
    /// refresh.
    ///
    /// ## Example
    /// ```sql
    /// REFRESH MATERIALIZED VIEW daily_revenue;
    /// ```
    ///
    /// ## Do this instead
    /// `REFRESH MATERIALIZED VIEW CONCURRENTLY daily_revenue;` (needs a unique index on the view)
    /// outside a transaction block.
    pub REFRESH_MATVIEW_NOT_CONCURRENT = ("migrations/pg-refresh-matview-not-concurrent", Fail, "REFRESH MATERIALIZED VIEW without CONCURRENTLY blocks reads of the view");
}

declare_rule! {
    /// ## What it catches
    /// `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY` or `REINDEX … CONCURRENTLY`
    /// inside a transaction block: an explicit
    /// `BEGIN`, a runner that wraps each file in a transaction (`transaction: per-file`, the
    /// default of Rails, Django, Flyway, sqlx), or several statements sent as one query
    /// (`transaction: none`), which PostgreSQL runs as one implicit transaction.
    ///
    /// ## Why it matters during a deploy
    /// PostgreSQL refuses: "cannot run inside a transaction block". The deploy fails halfway.
    ///
    /// ## Example
    /// ```sql
    /// BEGIN;
    /// CREATE INDEX CONCURRENTLY orders_status_idx ON orders (status);
    /// COMMIT;
    /// ```
    ///
    /// ## Do this instead
    /// Put the statement alone in a migration that runs outside a transaction: Rails
    /// `disable_ddl_transaction!`, Django `atomic = False`, dbmate
    /// `-- migrate:up transaction:false`, golang-migrate one statement per file; and set
    /// `transaction:` in gonogo.yaml to what your runner does.
    pub CONCURRENTLY_IN_TRANSACTION = ("migrations/pg-concurrently-in-transaction", Fail, "a CONCURRENTLY operation inside a transaction block fails at deploy time");
}

declare_rule! {
    /// ## What it catches
    /// In one transaction, a statement that runs while a lock blocking reads or writes on an
    /// existing table is already held: a second strong lock on another table, a backfill, a
    /// rewrite or a scan.
    ///
    /// ## Why it matters during a deploy
    /// Every lock is held until COMMIT. A 1 ms `ADD COLUMN` followed in the same transaction by a
    /// backfill keeps `orders` locked for the whole backfill; two strong locks on two tables
    /// also invite deadlocks with application traffic.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN currency text;            -- ACCESS EXCLUSIVE on orders…
    /// UPDATE orders SET currency = 'EUR' WHERE id < 100000;   -- …held during the whole update
    /// ```
    ///
    /// ## Do this instead
    /// One strong lock per transaction: split the migration (or commit between the steps), and
    /// backfill outside the DDL transaction, in batches.
    pub LOCK_ACCUMULATION = ("migrations/pg-lock-accumulation", Warn, "locks accumulate in one transaction: a strong lock is held while more work runs");
}

declare_rule! {
    /// ## What it catches
    /// `UPDATE` or `DELETE` on an existing table without a `WHERE` clause.
    ///
    /// ## Why it matters during a deploy
    /// One statement locks every row it touches until it commits: concurrent writes to those rows
    /// wait, the table bloats, and replicas lag behind the huge transaction.
    ///
    /// ## Example
    /// ```sql
    /// UPDATE orders SET currency = 'EUR';
    /// ```
    ///
    /// ## Do this instead
    /// Backfill in batches outside the migration's DDL transaction, committing each batch:
    /// ```sql
    /// UPDATE orders SET currency = 'EUR' WHERE id BETWEEN 1 AND 10000 AND currency IS NULL;  -- repeat per range
    /// ```
    pub UNBATCHED_BACKFILL = ("migrations/pg-unbatched-backfill", Fail, "UPDATE/DELETE of a whole existing table in one statement");
}

declare_rule! {
    /// ## What it catches
    /// A statement that takes a lock conflicting with reads or writes on an existing table, with
    /// no `SET lock_timeout` (or `SET LOCAL lock_timeout`) earlier in the migration.
    ///
    /// ## Why it matters during a deploy
    /// Locks are granted in order. A 1 ms `ALTER TABLE` that waits behind a long-running query
    /// holds its place in the queue, and every query on the table, reads included, queues behind
    /// it: the site is down for as long as the slowest query runs. A lock timeout makes the
    /// migration give up (and retry) instead.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN note text;
    /// ```
    ///
    /// ## Do this instead
    /// ```sql
    /// SET lock_timeout = '2s';
    /// ALTER TABLE orders ADD COLUMN note text;
    /// ```
    /// and retry the migration when it times out.
    pub MISSING_LOCK_TIMEOUT = ("migrations/pg-missing-lock-timeout", Warn, "a strong lock without lock_timeout can queue every query on the table");
}

declare_rule! {
    /// ## What it catches
    /// `TRUNCATE` of an existing table.
    ///
    /// ## Why it matters during a deploy
    /// It takes ACCESS EXCLUSIVE and deletes every row; the old version, still running, loses
    /// its data with no way back by rolling back the code.
    ///
    /// ## Example
    /// ```sql
    /// TRUNCATE sessions;
    /// ```
    ///
    /// ## Do this instead
    /// Delete in batches (`DELETE … WHERE id < …`) or drop the table in a later deploy once no
    /// code uses it.
    pub TRUNCATE = ("migrations/pg-truncate", Fail, "TRUNCATE of an existing table: ACCESS EXCLUSIVE and every row gone");
}

declare_rule! {
    /// ## What it catches
    /// An explicit `LOCK TABLE` on an existing table.
    ///
    /// ## Why it matters during a deploy
    /// `LOCK TABLE t` without a mode takes ACCESS EXCLUSIVE, held until COMMIT: every read and
    /// write of the table waits for the rest of the migration.
    ///
    /// ## Example
    /// ```sql
    /// LOCK TABLE orders IN ACCESS EXCLUSIVE MODE;
    /// ```
    ///
    /// ## Do this instead
    /// Take the weakest lock that protects what you do, with `lock_timeout` set, and keep the
    /// transaction short.
    pub LOCK_TABLE = ("migrations/pg-lock-table", Warn, "explicit LOCK TABLE holds a strong lock until COMMIT");
}
