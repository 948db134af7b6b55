//! The facts a PostgreSQL migration gives the rules: for every statement, in file order, what it
//! does to which table (as [`Operation`]s, each already knowing whether the table existed before
//! this deploy and, for a type change, the column's type before), the locks it takes on existing
//! tables and the long work it does while holding them, and the transaction it runs in.
//!
//! Computed once by [`super::follow::follow`]; the `migrations` check's rules only read them.

use super::ColumnType;
pub use super::{Origin, Unread};
pub use crate::sql::changes::SchemaChange;
use pg_query::LockMode;

/// One migration file, followed.
#[derive(Debug)]
pub struct FileFacts {
    pub path: String,
    pub in_deploy: bool,
    pub steps: Vec<Step>,
    /// How many statements gonogo could not read (see [`StatementFacts::unread`]).
    pub unread: usize,
}

#[derive(Debug)]
pub enum Step {
    /// A statement (top-level, or run from a DO block or a function the file calls).
    Statement(StatementFacts),
    /// The transaction ended (COMMIT, ROLLBACK, a new BEGIN, the runner's commit after a
    /// statement or at the end of the file): every lock it held until then, in order taken.
    Commit { held: Vec<HeldLock> },
}

/// A lock held in the current transaction on an existing table.
#[derive(Debug, Clone)]
pub struct HeldLock {
    pub table: String,
    pub lock: LockMode,
    /// Where it was first taken.
    pub line: u32,
}

#[derive(Debug)]
pub struct StatementFacts {
    pub line: u32,
    pub column: u32,
    /// The statement as written, without the trailing `;`.
    pub text: String,
    pub origin: Origin,
    /// What it does, in the order PostgreSQL does it; `Err`: why it could not be parsed.
    pub operations: Result<Vec<Operation>, String>,
    /// For a statement that could not be parsed: whether PostgreSQL rejects it too.
    pub unread: Option<Unread>,
    /// Locks that conflict with reads or writes (SHARE and stronger) on existing tables, in order
    /// taken. Empty for a statement that did not parse.
    pub strong_locks: Vec<(String, LockMode)>,
    /// Long work done while those locks are held: a rewrite, a scan, a backfill, an index build.
    pub long_work: Option<&'static str>,
    pub transaction: TransactionFacts,
    /// The schema changes code of the previous release can notice (a dropped column, a new
    /// NOT NULL or CHECK, a narrower type, a removed enum value…), on every table, new ones
    /// too, each at its ALTER clause: what the database side of `compat` judges.
    pub changes: Vec<SchemaChange>,
}

/// The transaction a statement runs in, as PostgreSQL sees it.
#[derive(Debug, Clone)]
pub struct TransactionFacts {
    /// Why the statement runs in a transaction block (which CONCURRENTLY refuses), if it does.
    pub block: Option<&'static str>,
    /// Several statements share the transaction (BEGIN … COMMIT, or a per-file runner), so locks
    /// taken earlier are still held.
    pub multi_statement: bool,
    /// A non-zero `lock_timeout` is in effect.
    pub lock_timeout_set: bool,
    /// Locks held from earlier statements of the transaction, before this one's.
    pub held_before: HeldBefore,
}

/// The strong locks held before one statement of a transaction. Every statement of the
/// transaction shares one log of the transaction's lock acquisitions and sees its first `upto`
/// entries: a copy of the held locks per statement made a migration of n schema changes in one
/// transaction cost n² in time and memory (issue 24).
#[derive(Debug, Clone, Default)]
pub struct HeldBefore {
    /// `None` while the transaction is being followed, and when it took no strong lock.
    log: Option<std::sync::Arc<LockLog>>,
    upto: usize,
}

/// Each time a transaction took a strong lock on a table it did not hold, or a stronger one on
/// a table it held, in order.
#[derive(Debug, Default)]
pub struct LockLog {
    taken: Vec<HeldLock>,
    /// table → position of its first entry in `taken`.
    first_taken: std::collections::HashMap<String, usize>,
}

impl LockLog {
    pub fn new(taken: Vec<HeldLock>) -> LockLog {
        let mut first_taken = std::collections::HashMap::new();
        for (position, held) in taken.iter().enumerate() {
            first_taken.entry(held.table.clone()).or_insert(position);
        }
        LockLog { taken, first_taken }
    }
}

impl HeldBefore {
    /// The locks held before the statement that comes after the first `upto` entries of `log`.
    pub fn new(log: Option<std::sync::Arc<LockLog>>, upto: usize) -> HeldBefore {
        HeldBefore { log, upto }
    }

    /// The entries of the log the statement sees.
    fn taken(&self) -> &[HeldLock] {
        self.log.as_ref().map_or(&[], |log| &log.taken[..self.upto])
    }

    /// How many log entries the statement sees (the rest are taken by it or after it).
    pub fn upto(&self) -> usize {
        self.upto
    }

    pub fn is_empty(&self) -> bool {
        self.upto == 0
    }

    /// Whether a lock on `table` was held before the statement.
    pub fn holds(&self, table: &str) -> bool {
        self.log
            .as_ref()
            .and_then(|log| log.first_taken.get(table))
            .is_some_and(|position| *position < self.upto)
    }

    /// The lock taken first in the transaction, in its strongest mode before the statement.
    pub fn first(&self) -> Option<HeldLock> {
        let first = self.taken().first()?;
        let lock = self
            .taken()
            .iter()
            .filter(|h| h.table == first.table)
            .map(|h| h.lock)
            .max()
            .unwrap_or(first.lock);
        Some(HeldLock {
            lock,
            ..first.clone()
        })
    }

    /// Every table locked before the statement, in the order first locked, each in its
    /// strongest mode so far and with the line that first locked it.
    pub fn iter(&self) -> std::vec::IntoIter<HeldLock> {
        let mut held: Vec<HeldLock> = Vec::new();
        let mut position: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for taken in self.taken() {
            match position.get(taken.table.as_str()) {
                Some(&i) => held[i].lock = held[i].lock.max(taken.lock),
                None => {
                    position.insert(&taken.table, held.len());
                    held.push(taken.clone());
                }
            }
        }
        held.into_iter()
    }
}

/// One thing a statement does that a rule may judge. Tables are lower-cased, without schema.
/// Operations on tables created earlier in this deploy (new and empty) are not listed, except
/// where PostgreSQL refuses the statement whatever the table ([`Operation::Concurrently`]) or
/// where no table is known ([`Operation::DropIndex`]).
#[derive(Debug, Clone)]
pub enum Operation {
    /// `CREATE INDEX CONCURRENTLY`, `DROP INDEX CONCURRENTLY`, `REINDEX … CONCURRENTLY`.
    Concurrently {
        target: String,
        what: &'static str,
    },
    /// `CREATE [UNIQUE] INDEX` without CONCURRENTLY on an existing table.
    CreateIndex {
        table: String,
        unique: bool,
    },
    AddColumn(AddColumn),
    /// `ALTER COLUMN … TYPE` on an existing table.
    AlterColumnType {
        table: String,
        /// Lower-cased.
        column: String,
        /// From the earlier migrations; `None` when they do not say.
        before: Option<ColumnType>,
        after: ColumnType,
        rewrite: TypeChange,
    },
    /// `SET NOT NULL` that scans: the column may hold NULLs (not already NOT NULL) and no
    /// validated CHECK proves it has none (or PostgreSQL before 12).
    SetNotNull {
        table: String,
        column: String,
        /// A `CHECK (column IS NOT NULL)` added NOT VALID and not validated yet.
        unvalidated_check: Option<String>,
    },
    /// `COMMIT` or `ROLLBACK` in a PL/pgSQL `DO` block, or in a procedure this file defines and
    /// the statement CALLs.
    TransactionEndInBlock {
        /// `COMMIT`, `ROLLBACK`.
        what: &'static str,
        /// "the DO block", "procedure batch_backfill()".
        inside: String,
        /// Where the COMMIT or ROLLBACK is, in the file.
        line: u32,
        /// It runs only on some paths (under IF, CASE, WHILE, a loop over a query).
        conditional: bool,
    },
    /// `ADD CONSTRAINT … CHECK` without NOT VALID.
    AddCheck {
        table: String,
        name: String,
        /// `ALTER TABLE … ADD CONSTRAINT … NOT VALID` for this constraint alone.
        not_valid: Option<String>,
    },
    /// `ADD … FOREIGN KEY` without NOT VALID.
    AddForeignKey {
        table: String,
        name: String,
        referenced: String,
        /// `ALTER TABLE … ADD CONSTRAINT … NOT VALID` for this constraint alone.
        not_valid: Option<String>,
    },
    /// `ADD UNIQUE / PRIMARY KEY / EXCLUDE` that builds its index (no `USING INDEX`).
    AddUniqueConstraint {
        table: String,
        name: String,
        kind: &'static str,
        columns: String,
    },
    /// `ADD CONSTRAINT … NOT NULL` without NOT VALID.
    AddNotNullConstraint {
        table: String,
        name: String,
        column: String,
    },
    /// `ADD CONSTRAINT … PRIMARY KEY USING INDEX` on an existing table whose key columns were
    /// nullable: PostgreSQL sets them NOT NULL, scanning the table.
    PrimaryKeySetsNotNull {
        table: String,
        name: String,
        index: String,
        columns: Vec<String>,
    },
    /// Syntax the configured PostgreSQL major does not have yet (its grammar rejects it).
    NotInThisVersion {
        table: String,
        what: &'static str,
        since: u32,
    },
    /// `VALIDATE CONSTRAINT` of a constraint added NOT VALID in the same transaction.
    ValidateInSameTransaction {
        table: String,
        name: String,
    },
    DropColumn {
        table: String,
        column: String,
    },
    RenameColumn {
        table: String,
        from: String,
        to: String,
    },
    RenameTable {
        table: String,
        to: String,
    },
    DropTable {
        table: String,
    },
    /// `DROP INDEX` without CONCURRENTLY (whatever the table).
    DropIndex {
        index: String,
    },
    Truncate {
        table: String,
    },
    LockTable {
        table: String,
        lock: LockMode,
    },
    /// A whole-table copy under ACCESS EXCLUSIVE.
    Rewrite {
        table: String,
        kind: RewriteKind,
    },
    /// `REINDEX` without CONCURRENTLY.
    Reindex {
        target: String,
    },
    /// `REFRESH MATERIALIZED VIEW` without CONCURRENTLY.
    RefreshMaterializedView {
        view: String,
    },
    /// `CREATE TABLE … PARTITION OF parent FOR VALUES …` while `parent` has a DEFAULT partition:
    /// PostgreSQL holds ACCESS EXCLUSIVE on the parent and the DEFAULT partition and scans the
    /// DEFAULT partition for rows that would belong to the new one (check_default_partition_contents
    /// in partbounds.c).
    CreatePartition {
        parent: String,
        partition: String,
        default_partition: String,
    },
    /// `ALTER TABLE parent ATTACH PARTITION partition`: ACCESS EXCLUSIVE on the attached table
    /// and on the DEFAULT partition, each scanned unless a valid CHECK implies the bound
    /// ("ALTER TABLE … ATTACH PARTITION"); SHARE UPDATE EXCLUSIVE on the parent (PostgreSQL 12+).
    AttachPartition {
        parent: String,
        partition: String,
        default_partition: Option<String>,
    },
    /// `ALTER TABLE parent DETACH PARTITION partition` without CONCURRENTLY: ACCESS EXCLUSIVE on
    /// the parent, the partition and the DEFAULT partition.
    DetachPartition {
        parent: String,
        partition: String,
        default_partition: Option<String>,
    },
    /// A partitioning statement PostgreSQL refuses whatever the data: `CREATE INDEX
    /// CONCURRENTLY` on a partitioned table, `DETACH PARTITION … CONCURRENTLY` while the parent
    /// has a DEFAULT partition.
    PartitionRefusal {
        table: String,
        what: &'static str,
        /// PostgreSQL's error message.
        why: &'static str,
    },
    /// `ALTER DOMAIN … ADD CONSTRAINT` (without NOT VALID), `VALIDATE CONSTRAINT` or `SET NOT
    /// NULL`: PostgreSQL checks every column of the domain, holding SHARE on each table that has
    /// one (validateDomainConstraint in typecmds.c).
    DomainCheck {
        domain: String,
        what: &'static str,
        /// The existing tables with a column of the domain, in name order.
        tables: Vec<String>,
    },
    /// `ALTER COLUMN … ADD GENERATED … AS IDENTITY` without `START WITH` on an existing table's
    /// column: the new identity sequence starts at 1, behind the column's existing values.
    IdentityStartsAtOne {
        table: String,
        column: String,
    },
    /// A sequence moved on: `ALTER COLUMN … RESTART`, `ALTER SEQUENCE … RESTART` or a
    /// `setval(…)` call (`table`: the identity column's table when the statement names it).
    SequenceRestarted {
        table: Option<String>,
    },
    /// `ALTER TYPE … ADD VALUE`.
    EnumValueAdded {
        type_name: String,
        value: String,
    },
    /// A string constant equal to a value `ALTER TYPE … ADD VALUE` added earlier in the same
    /// transaction (PostgreSQL refuses to use it before that transaction commits).
    NewEnumValueUsed {
        type_name: String,
        value: String,
        added_line: u32,
    },
    /// `UPDATE` or `DELETE` of an existing table.
    Backfill {
        table: String,
        verb: &'static str,
        /// Every row: no WHERE, or only `WHERE new_column IS NULL` on a column added earlier in
        /// the same transaction (every row matches, and no index can narrow the scan).
        whole_table: bool,
        /// ACCESS EXCLUSIVE on the table, taken earlier in the same transaction (an `ADD
        /// COLUMN`) and held until COMMIT: no reads or writes for the whole backfill.
        under_lock: Option<HeldLock>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum RewriteKind {
    VacuumFull,
    Cluster,
    /// `SET LOGGED`, `SET UNLOGGED`, `SET TABLESPACE x`.
    AlterTable(String),
}

impl RewriteKind {
    pub fn what(&self) -> &str {
        match self {
            RewriteKind::VacuumFull => "VACUUM FULL",
            RewriteKind::Cluster => "CLUSTER",
            RewriteKind::AlterTable(what) => what,
        }
    }
}

/// Whether a column type change rewrites the table.
#[derive(Debug, Clone, PartialEq)]
pub enum TypeChange {
    /// Binary-coercible: no rewrite.
    Free,
    /// A rewrite, and why.
    Rewrite(String),
    /// The heap is kept (the cast is binary-coercible, or the values' bits do not change) but
    /// an index on the column may be rebuilt, and why.
    KeepsHeap {
        /// An index on the column (created by an earlier migration) is rebuilt under the
        /// ALTER's ACCESS EXCLUSIVE: its operator class or its values' order changes.
        index_rebuilt: bool,
        /// Whether the heap is kept only under a session setting (timestamp → timestamptz: the
        /// TimeZone must be UTC), as a sentence; `None`: always kept.
        only_if: Option<&'static str>,
        why: String,
    },
    /// The type before is not known.
    Unknown,
}

/// `ADD COLUMN` on an existing table.
#[derive(Debug, Clone)]
pub struct AddColumn {
    pub table: String,
    /// As written.
    pub column: String,
    /// As written (`bigint`, `varchar(64)`), empty when not given.
    pub type_text: String,
    /// What makes PostgreSQL rewrite the table, in the order it is judged; `None`: no rewrite.
    pub rewrite: Option<AddColumnRewrite>,
    /// NOT NULL with no DEFAULT at all.
    pub not_null_without_default: bool,
    /// The first inline constraint that scans or builds an index.
    pub inline: Option<InlineConstraint>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AddColumnRewrite {
    /// serial types (`what`: the type) or identity (`what`: "an identity column").
    Sequence {
        what: String,
    },
    GeneratedStored,
    /// A column of a domain with constraints: PostgreSQL rewrites the table to check every
    /// row's value against them (ATExecAddColumn in tablecmds.c).
    Domain {
        domain: String,
    },
    /// A default written into every row: a volatile function, or before PostgreSQL 11 any
    /// non-NULL default (`volatile`: None, `postgres_version` given).
    Default {
        volatile: Option<String>,
        postgres_version: u32,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum InlineConstraint {
    /// `REFERENCES other` without NOT VALID.
    ForeignKey { referenced: String },
    /// `UNIQUE` or `PRIMARY KEY`.
    Unique,
    /// `CHECK (…)` without NOT VALID: PostgreSQL verifies every existing row ("verifying table"
    /// at DEBUG1) under the ALTER's ACCESS EXCLUSIVE.
    Check { name: String },
}

impl AddColumn {
    /// The long work the column adds, in the order PostgreSQL's checks apply.
    pub fn long_work(&self) -> Option<&'static str> {
        if self.rewrite.is_some() {
            return Some("a table rewrite");
        }
        match self.inline {
            Some(InlineConstraint::ForeignKey { .. } | InlineConstraint::Check { .. }) => {
                Some("a table scan")
            }
            Some(InlineConstraint::Unique) => Some("an index build"),
            None => None,
        }
    }
}

pub fn lock_name(lock: LockMode) -> &'static str {
    match lock {
        LockMode::NoLock => "no lock",
        LockMode::AccessShareLock => "ACCESS SHARE",
        LockMode::RowShareLock => "ROW SHARE",
        LockMode::RowExclusiveLock => "ROW EXCLUSIVE",
        LockMode::ShareUpdateExclusiveLock => "SHARE UPDATE EXCLUSIVE",
        LockMode::ShareLock => "SHARE",
        LockMode::ShareRowExclusiveLock => "SHARE ROW EXCLUSIVE",
        LockMode::ExclusiveLock => "EXCLUSIVE",
        LockMode::AccessExclusiveLock => "ACCESS EXCLUSIVE",
    }
}

/// What a lock mode blocks, from PostgreSQL's lock conflict table ("Explicit Locking").
pub fn blocks(lock: LockMode) -> &'static str {
    match lock {
        LockMode::AccessExclusiveLock => "it blocks reads and writes",
        LockMode::ShareLock | LockMode::ShareRowExclusiveLock | LockMode::ExclusiveLock => {
            "it blocks writes"
        }
        _ => "it blocks schema changes only",
    }
}
