//! The rules of the database side of `compat`: each pairs a schema change of this deploy's
//! migrations with what the deployed code (at the base ref) does with that table or column.

use crate::declare_rule;

declare_rule! {
    order: 540;
    /// ## What it catches
    /// A migration of this deploy drops or renames a column, and the code of the deployed version
    /// (at the base ref, under `checks.compat.database.code_paths`) still uses it: in an SQL
    /// string that names the table, an ORM model field mapped to the table, or a query-builder
    /// call. The finding lists the strongest uses as file:line. No use found is a warning that
    /// says where gonogo searched; a use only as a bare identifier (a parameter or a variable
    /// that happens to share the name) is a warning too, never a failure.
    ///
    /// ## Why it matters during a deploy
    /// The migration runs first; the old pods keep serving until the rollout ends, and every query
    /// of theirs that names the column fails from the moment the migration commits (ORMs that list
    /// every mapped column in SELECT and INSERT fail even where the code never reads the field).
    /// When this release removed those uses from the code, that is exactly the case that breaks:
    /// the old pods still run the code of the base ref.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders DROP COLUMN legacy_status;   -- v1.4.2's app/orders.py still selects it
    /// ```
    ///
    /// ## Do this instead
    /// Contract in a later deploy: first ship code that no longer reads or writes the column
    /// (Rails `ignored_columns`, the Django field removed from the model), then drop it once no
    /// running version uses it. For a rename: add the new column, write both, backfill, switch
    /// reads, and drop the old name in a later deploy.
    pub COLUMN_STILL_USED = ("compat/db-column-still-used", Fail, "a column dropped or renamed while the deployed code still uses it");
}

declare_rule! {
    order: 550;
    /// ## What it catches
    /// A migration of this deploy drops or renames a table that the code of the deployed version
    /// still uses (SQL naming it, an ORM model mapped to it). No use found is a warning that says
    /// where gonogo searched.
    ///
    /// ## Why it matters during a deploy
    /// Old pods keep querying the table until the rollout ends; every query fails from the
    /// moment the migration commits, and a rollback of the code does not bring the table back.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE customers RENAME TO accounts;   -- v1.4.2 still runs SELECT … FROM customers
    /// ```
    ///
    /// ## Do this instead
    /// Create the new table (or a view with the old name, for a rename), make the code use the new
    /// name, and drop the old one in a later deploy once no running version uses it.
    pub TABLE_STILL_USED = ("compat/db-table-still-used", Fail, "a table dropped or renamed while the deployed code still uses it");
}

declare_rule! {
    order: 560;
    /// ## What it catches
    /// A migration of this deploy makes the database reject rows the deployed code writes:
    /// `ADD COLUMN … NOT NULL` without a default, `SET NOT NULL`, or a new `CHECK` that requires a
    /// value (`… IS NOT NULL`), while the deployed code INSERTs into the table without providing
    /// the column (an INSERT whose column list lacks it, a positional INSERT, an ORM model without
    /// the field). Where the old code provides the column, or no write to the table is found, the
    /// finding is a warning: gonogo cannot see the values written. A new `CHECK` or `UNIQUE`
    /// constraint on columns the old code writes is a warning for the same reason (a NULL never
    /// violates UNIQUE, so an INSERT that omits the column is not rejected by it).
    ///
    /// ## Why it matters during a deploy
    /// Old pods do not know the new rule: from the moment the migration commits, their writes fail
    /// with a not-null or check violation until the rollout ends.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN currency text NOT NULL;   -- v1.4.2 INSERTs (id, total)
    /// ```
    ///
    /// ## Do this instead
    /// Add the column nullable or with a default, ship code that writes it, backfill in batches,
    /// and enforce NOT NULL (`CHECK … NOT VALID`, then `VALIDATE`, then `SET NOT NULL`) in a
    /// later deploy once every running version writes it.
    pub OLD_WRITES_REJECTED = ("compat/db-old-writes-rejected", Fail, "a new NOT NULL or CHECK rule rejects rows the deployed code writes");
}

declare_rule! {
    order: 570;
    /// ## What it catches
    /// A column's type changes to one that cannot hold every value of the old type (`bigint` to
    /// `integer`, `varchar(255)` to `varchar(64)`, `numeric(12,2)` to `numeric(10,2)`, `text` to
    /// anything else) while the deployed code writes that column: a failure. With no write of the
    /// column found it is a warning. Known widenings (`integer` to `bigint`, a longer `varchar`,
    /// `varchar` to `text`) are not reported.
    ///
    /// ## Why it matters during a deploy
    /// Old pods keep writing the values they always wrote; a value past the new type's range or
    /// length is rejected (PostgreSQL, MySQL strict mode) or silently truncated (MySQL without
    /// strict mode) until the rollout ends.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ALTER COLUMN note TYPE varchar(64);   -- v1.4.2 writes notes up to 255
    /// ```
    ///
    /// ## Do this instead
    /// Ship code that validates the narrower range first; or add a new column of the new type,
    /// write both, backfill, switch, and drop the old column in a later deploy.
    pub TYPE_NARROWED = ("compat/db-type-narrowed", Fail, "a column type narrowed while the deployed code writes the column");
}

declare_rule! {
    order: 580;
    /// ## What it catches
    /// An enum loses values: a PostgreSQL column moved to an enum type with fewer values, an
    /// `ALTER TYPE … RENAME VALUE`, or a MySQL `ENUM(…)` column redefined without some values.
    /// A failure when the deployed code mentions a removed value as a string; a warning when it
    /// does not.
    ///
    /// ## Why it matters during a deploy
    /// Old pods keep writing the values they know; each write of a removed value fails until the
    /// rollout ends, and old pods reading the column may meet values they do not know.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TYPE order_status RENAME VALUE 'shipped' TO 'dispatched';   -- v1.4.2 writes 'shipped'
    /// ```
    ///
    /// ## Do this instead
    /// Add the new value first and ship code that writes it; remove the old value in a later
    /// deploy, once no running version writes it (and the rows holding it are migrated).
    pub ENUM_VALUE_REMOVED = ("compat/db-enum-value-removed", Fail, "enum values removed while the deployed code may still write them");
}

declare_rule! {
    order: 600;
    /// ## What it catches
    /// Expand and contract in one deploy: the release adds a replacement (a column backfilled from
    /// the old one with `UPDATE … SET new = f(old)`, or a table filled with `INSERT … SELECT …
    /// FROM old`) and removes the old one in the same deploy; or it removes the old one while the
    /// deployed code does not use the replacement yet (the expand step never shipped).
    ///
    /// ## Why it matters during a deploy
    /// Between the migration and the end of the rollout the old pods still write the old column
    /// or table, which is gone, and never wrote the new one: their writes fail, and what they
    /// wrote after the backfill is lost.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE users ADD COLUMN full_name text;
    /// UPDATE users SET full_name = name;
    /// ALTER TABLE users DROP COLUMN name;
    /// ```
    ///
    /// ## Do this instead
    /// Three deploys, with your names in the finding: (1) add the new column and make the code
    /// write both; (2) backfill in batches and switch reads to the new column; (3) once no running
    /// version uses the old column, drop it.
    pub EXPAND_AND_CONTRACT_TOGETHER = ("compat/db-expand-and-contract-together", Fail, "the replacement and the removal ship in one deploy");
}

declare_rule! {
    order: 610;
    /// ## What it catches
    /// A drop or rename that was prepared: the deployed code marks the column as going away
    /// (Rails `ignored_columns`, or a marker text configured under
    /// `checks.compat.database.markers` on the line of the use or the line above it), a model of
    /// the table no longer declares the column (a Django field removed from the model while the
    /// migration lags one release), or the replacement has been in use since the deployed version
    /// and the old name is no longer used.
    ///
    /// ## Why it matters during a deploy
    /// It does not block: it records why gonogo let the contract step through, with the evidence,
    /// so a reviewer can check it.
    ///
    /// ## Example
    /// ```ruby
    /// class Order < ApplicationRecord
    ///   self.ignored_columns += ["legacy_status"]
    /// end
    /// ```
    ///
    /// ## Do this instead
    /// Nothing: this is the safe sequence.
    pub CONTRACT_PREPARED = ("compat/db-contract-prepared", Info, "a drop or rename the deployed code was prepared for");
}

declare_rule! {
    order: 590;
    /// ## What it catches
    /// A migration of this deploy drops NOT NULL from a column (`ALTER COLUMN … DROP NOT NULL`,
    /// a MySQL `MODIFY` that makes it nullable) while the deployed code reads that column into a
    /// model field whose type cannot hold NULL: a Go `string`/`int64`/`time.Time` (GORM, sqlx,
    /// pop, beego, sqlc), a Kotlin type without `?` or a Java primitive (JPA), a Rust type
    /// outside `Option` (Diesel). The finding cites the field and its type. Without such a
    /// field it is silent: old writes are not affected by a looser column.
    ///
    /// ## Why it matters during a deploy
    /// The new version is about to write NULLs there; the old pods, still serving until the
    /// rollout ends, load those rows too. database/sql refuses to scan NULL into a `string`,
    /// Diesel reports "Unexpected null for non-null column", Hibernate cannot set NULL on a
    /// primitive; readers that do not fail take an empty string or zero for real data.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE identities ALTER COLUMN nid DROP NOT NULL;  -- v1.4.2: NID string `db:"nid"`
    /// ```
    ///
    /// ## Do this instead
    /// Make the old field nullable first (a pointer, `sql.NullString`, `Option`, `String?`) and
    /// ship that; write NULLs only once no running version reads the column as non-null.
    pub NULL_READ_INTO_NON_NULL = ("compat/db-null-read-into-non-null", Warn, "a column made nullable that the deployed code reads into a non-null field");
}
