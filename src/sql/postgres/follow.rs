//! Follows PostgreSQL migration files statement by statement and writes down their facts
//! ([`super::operations`]): which tables exist or are new, each column's current type, which
//! transaction a statement runs in and the locks already held there, whether `lock_timeout` is
//! set, which constraints were added NOT VALID in the transaction.
//!
//! Older files (not in this deploy) are followed too, so the schema is known. Lock modes are from
//! the PostgreSQL documentation ("Explicit Locking", "ALTER TABLE").

use super::ast::*;
use super::operations::*;
use super::schema::{Schema, Table};
use super::{self as parser, Origin, Statement};
use crate::config::TransactionMode;
use crate::sql::files::MigrationFile;
use pg_query::protobuf::{self, ObjectType, TransactionStmtKind};
use pg_query::{LockMode, NodeEnum};
use std::collections::{HashMap, HashSet};

mod alter_table;
mod changes;
mod definitions;
mod transaction_end;

/// What the facts depend on besides the files.
#[derive(Debug, Clone, Copy)]
pub struct FollowOptions {
    /// How the migration runner wraps files in transactions.
    pub transaction: TransactionMode,
    pub postgres_version: u32,
    /// A base ref selected this deploy's files (see [`Schema`]).
    pub deploy_is_known: bool,
}

/// Every file's facts, in order.
pub fn follow(files: &[MigrationFile], options: FollowOptions) -> Vec<FileFacts> {
    let mut schema = Schema::new(options.deploy_is_known);
    files
        .iter()
        .map(|file| follow_file(&mut schema, file, options))
        .collect()
}

/// One file's up section followed over `schema`, which it leaves as the file leaves the
/// database: the walk [`follow`] makes for each file, for a reader that keeps its own schema.
pub fn follow_file(schema: &mut Schema, file: &MigrationFile, options: FollowOptions) -> FileFacts {
    schema.start_file();
    let (up, dbmate_no_transaction) = up_section(&file.text);
    let transaction_mode = if dbmate_no_transaction {
        TransactionMode::None
    } else {
        file.transaction.unwrap_or(options.transaction)
    };
    let source = Source {
        path: &file.path,
        sql: up,
        in_deploy: file.in_deploy,
        transaction_mode,
    };
    FileWalk::follow(schema, source, options)
}

/// Every statement of `sql` (a down migration: no up section is cut out) followed over
/// `schema`, run as this deploy's in the set's transactions.
pub fn follow_sql(schema: &mut Schema, path: &str, sql: &str, options: FollowOptions) -> FileFacts {
    schema.start_file();
    let source = Source {
        path,
        sql,
        in_deploy: true,
        transaction_mode: options.transaction,
    };
    FileWalk::follow(schema, source, options)
}

/// The SQL one walk follows, and how it runs.
struct Source<'a> {
    path: &'a str,
    sql: &'a str,
    in_deploy: bool,
    transaction_mode: TransactionMode,
}

#[derive(Default)]
struct Transaction {
    held: Vec<HeldLock>,
    /// table → its position in `held`.
    held_position: HashMap<String, usize>,
    /// Every lock taken or strengthened, in order (what [`HeldBefore`] reads).
    taken: Vec<HeldLock>,
    /// (table, constraint) added NOT VALID in this transaction.
    not_valid: HashSet<(String, String)>,
    /// (table, column) proven NOT NULL by a CHECK validated in this transaction.
    validated_not_null: Vec<(String, String)>,
    /// (table, column) added to an existing table in this transaction: NULL (or its default)
    /// in every row until the transaction fills it.
    added_columns: HashSet<(String, String)>,
    /// (type, value, line) added by `ALTER TYPE … ADD VALUE` in this transaction: unusable
    /// until it commits.
    enum_values: Vec<(String, String, u32)>,
}

/// What one statement does to existing tables, for the lock bookkeeping.
#[derive(Default)]
struct Effect {
    locks: Vec<(String, LockMode)>,
    long_work: Option<&'static str>,
    operations: Vec<Operation>,
}

/// One file being followed.
struct FileWalk<'a> {
    schema: &'a mut Schema,
    options: FollowOptions,
    in_deploy: bool,
    transaction_mode: TransactionMode,
    statement_count: usize,
    /// The line of the statement being followed.
    line: u32,
    /// The ALTER being followed is an `ALTER INDEX`.
    altering_index: bool,
    lock_timeout: bool,
    explicit_transaction: bool,
    tx: Transaction,
    /// (table, column) a `PRIMARY KEY USING INDEX` of the statement being followed makes NOT
    /// NULL, read before the statement updates the schema (see `alter_table`).
    nullable_key_columns: Vec<(String, String)>,
    /// (table, column) a `SET NOT NULL` of the statement being followed names that were
    /// already NOT NULL, read before the statement updates the schema (see `alter_table`).
    already_not_null: Vec<(String, String)>,
    /// The PL/pgSQL procedures of this file that COMMIT or ROLLBACK, by name.
    ending_procedures: HashMap<String, transaction_end::TransactionEnd>,
    /// The text of the statement being followed, for syntax the parse tree does not keep
    /// (`REINDEX (CONCURRENTLY)` vs `REINDEX … CONCURRENTLY`).
    statement_text: String,
    steps: Vec<Step>,
}

/// The file's up section (see `crate::sql::up_section`), and whether its dbmate
/// `transaction:false` annotation means the file is not wrapped in a transaction.
fn up_section(text: &str) -> (&str, bool) {
    let no_transaction = text
        .lines()
        .take_while(|l| !l.trim_start().starts_with("-- migrate:down"))
        .any(|l| l.trim_start().starts_with("-- migrate:up") && l.contains("transaction:false"));
    (crate::sql::up_section(text), no_transaction)
}

impl<'a> FileWalk<'a> {
    fn follow(schema: &'a mut Schema, source: Source, options: FollowOptions) -> FileFacts {
        let up = source.sql;
        let mut statements = parser::parse(up);
        let top_level = statements
            .iter()
            .filter(|s| s.origin == Origin::TopLevel)
            .count();
        let mut walk = FileWalk {
            schema,
            options,
            in_deploy: source.in_deploy,
            transaction_mode: source.transaction_mode,
            statement_count: top_level,
            line: 0,
            altering_index: false,
            lock_timeout: false,
            explicit_transaction: false,
            tx: Transaction::default(),
            nullable_key_columns: Vec::new(),
            already_not_null: Vec::new(),
            ending_procedures: transaction_end::ending_procedures(&statements),
            statement_text: String::new(),
            // Grown as the statements' trees are freed (below), not sized up front: the peak
            // memory of a large file is the parse, and the facts must not add to it.
            steps: Vec::new(),
        };
        // PL/pgSQL functions this file defines (by position): their bodies run when the file
        // calls them.
        let functions: HashMap<String, usize> = statements
            .iter()
            .enumerate()
            .filter_map(|(i, statement)| match statement.node.as_deref() {
                Ok(NodeEnum::CreateFunctionStmt(function)) if is_plpgsql(function) => {
                    Some((last_name(&function.funcname), i))
                }
                _ => None,
            })
            .collect();
        let defines_function: HashSet<usize> = functions.values().copied().collect();
        for i in 0..statements.len() {
            let statement = &statements[i];
            walk.statement(statement);
            if let Ok(node @ (NodeEnum::SelectStmt(_) | NodeEnum::CallStmt(_))) =
                statement.node.as_deref()
            {
                let mut called = Vec::new();
                visit_func_calls(node, &mut |name| called.push(name.to_string()));
                for name in called {
                    let Some(function) = functions.get(&name).map(|&f| &statements[f]) else {
                        continue;
                    };
                    let origin =
                        Origin::Function(format!("{name}(), called at line {}", statement.line));
                    for nested in parser::plpgsql_statements(up, function, origin) {
                        walk.statement(&nested);
                    }
                }
            }
            if statement.origin == Origin::TopLevel && !walk.explicit_transaction {
                match walk.transaction_mode {
                    TransactionMode::PerFile => {}
                    TransactionMode::PerStatement | TransactionMode::None => walk.commit(),
                }
            }
            // Followed: its tree and text are no longer needed (its facts keep the text), unless
            // it defines a function a later call runs. Freed as the walk goes, they do not add
            // to the facts' memory at the end of a large file.
            if !defines_function.contains(&i) {
                let followed = &mut statements[i];
                followed.node = Err(String::new());
                followed.text = String::new();
            }
        }
        walk.commit();
        let unread = walk
            .steps
            .iter()
            .filter(|step| matches!(step, Step::Statement(s) if s.unread.is_some()))
            .count();
        FileFacts {
            path: source.path.to_string(),
            in_deploy: source.in_deploy,
            steps: walk.steps,
            unread,
        }
    }

    fn commit(&mut self) {
        let tx = std::mem::take(&mut self.tx);
        self.schema
            .not_null_checks
            .validated
            .extend(tx.validated_not_null);
        // The transaction's statements are the steps since the previous commit; they share
        // its lock log, each seeing the part taken before it.
        if !tx.taken.is_empty() {
            let log = std::sync::Arc::new(LockLog::new(tx.taken));
            for step in self.steps.iter_mut().rev() {
                match step {
                    Step::Statement(statement) => {
                        let upto = statement.transaction.held_before.upto();
                        statement.transaction.held_before =
                            HeldBefore::new(Some(log.clone()), upto);
                    }
                    Step::Commit { .. } => break,
                }
            }
        }
        self.steps.push(Step::Commit { held: tx.held });
    }

    fn existing(&self, table: &str) -> bool {
        self.schema.existing(table)
    }

    fn statement(&mut self, statement: &Statement) {
        let mut facts = StatementFacts {
            line: statement.line,
            column: statement.column,
            text: statement.text.clone(),
            origin: statement.origin.clone(),
            operations: Ok(Vec::new()),
            unread: None,
            strong_locks: Vec::new(),
            long_work: None,
            transaction: self.transaction_facts(),
            changes: Vec::new(),
        };
        let node = match statement.node.as_deref() {
            Ok(node) => node,
            Err(reason) => {
                facts.unread = statement.unread();
                facts.operations = Err(statement.unread_reason().unwrap_or(reason.clone()));
                self.steps.push(Step::Statement(facts));
                return;
            }
        };
        // Read before the statement changes the schema: they compare with what was there.
        self.nullable_key_columns = self.nullable_primary_key_columns(node);
        self.already_not_null = self.already_not_null_columns(node);
        facts.changes = self.schema_changes(statement, node);
        self.line = statement.line;
        self.statement_text.clone_from(&statement.text);
        let mut effect = self.effect(node);
        if !self.tx.enum_values.is_empty() && !matches!(node, NodeEnum::AlterEnumStmt(_)) {
            effect
                .operations
                .extend(self.new_enum_values_used(&statement.text));
        }
        // Every lock is held until COMMIT; only locks that conflict with reads or writes on an
        // existing table matter to a deploy.
        let strong: Vec<(String, LockMode)> = effect
            .locks
            .into_iter()
            .filter(|(table, lock)| *lock >= LockMode::ShareLock && self.existing(table))
            .collect();
        facts.transaction = self.transaction_facts();
        facts.operations = Ok(effect.operations);
        facts.long_work = effect.long_work;
        facts.strong_locks = strong.clone();
        self.steps.push(Step::Statement(facts));
        for (table, lock) in strong {
            let taken = HeldLock {
                table,
                lock,
                line: statement.line,
            };
            match self.tx.held_position.get(&taken.table) {
                Some(&position) => {
                    let held = &mut self.tx.held[position];
                    if lock > held.lock {
                        held.lock = lock;
                        self.tx.taken.push(HeldLock {
                            line: held.line,
                            ..taken
                        });
                    }
                }
                None => {
                    self.tx
                        .held_position
                        .insert(taken.table.clone(), self.tx.held.len());
                    self.tx.held.push(taken.clone());
                    self.tx.taken.push(taken);
                }
            }
        }
    }

    fn transaction_facts(&self) -> TransactionFacts {
        TransactionFacts {
            block: self.in_transaction_block(),
            multi_statement: self.explicit_transaction
                || self.transaction_mode == TransactionMode::PerFile,
            lock_timeout_set: self.lock_timeout,
            // The log itself is shared at COMMIT, when it is complete.
            held_before: HeldBefore::new(None, self.tx.taken.len()),
        }
    }

    /// In a transaction block, from PostgreSQL's point of view, for CONCURRENTLY.
    fn in_transaction_block(&self) -> Option<&'static str> {
        if self.explicit_transaction {
            return Some("inside BEGIN … COMMIT");
        }
        match self.transaction_mode {
            TransactionMode::PerFile => {
                Some("the migration runner wraps the file in a transaction (transaction: per-file)")
            }
            TransactionMode::None if self.statement_count > 1 => Some(
                "the file has several statements, which a runner sending the file as one query runs as one implicit transaction (transaction: none)",
            ),
            _ => None,
        }
    }

    /// The statement's operations, locks and long work; the schema and transaction follow it.
    fn effect(&mut self, node: &NodeEnum) -> Effect {
        let mut effect = Effect::default();
        effect.operations.extend(self.transaction_ends(node));
        match node {
            NodeEnum::TransactionStmt(stmt) => match stmt.kind() {
                TransactionStmtKind::TransStmtBegin | TransactionStmtKind::TransStmtStart => {
                    if self.transaction_mode != TransactionMode::PerFile {
                        self.commit();
                    }
                    self.explicit_transaction = true;
                }
                TransactionStmtKind::TransStmtCommit
                | TransactionStmtKind::TransStmtRollback
                | TransactionStmtKind::TransStmtCommitPrepared
                | TransactionStmtKind::TransStmtRollbackPrepared => {
                    self.explicit_transaction = false;
                    self.commit();
                }
                _ => {}
            },
            NodeEnum::VariableSetStmt(stmt) if stmt.name.eq_ignore_ascii_case("lock_timeout") => {
                // SET LOCAL lasts until the end of the transaction: in a statement-per-transaction
                // runner, that is this very statement.
                let lasts = !stmt.is_local
                    || self.explicit_transaction
                    || self.transaction_mode == TransactionMode::PerFile;
                if lasts {
                    self.lock_timeout = !setting_is_zero(&stmt.args);
                }
            }
            NodeEnum::CreateStmt(stmt) => {
                let table = table_of(&stmt.relation);
                // PostgreSQL skips CREATE TABLE IF NOT EXISTS of a table that exists (a
                // NOTICE): it keeps its rows, so it is not new.
                if stmt.if_not_exists && self.schema.knows(&table) {
                    return effect;
                }
                self.schema.created(&table, self.in_deploy);
                self.schema
                    .create_table(&table, definitions::created_table(&table, stmt));
                // REFERENCES takes SHARE ROW EXCLUSIVE on the referenced table (it adds
                // triggers there), even for a new, empty table: brief, but it queues behind
                // every write in flight on the referenced table.
                for referenced in foreign_key_targets(&stmt.table_elts) {
                    effect
                        .locks
                        .push((referenced, LockMode::ShareRowExclusiveLock));
                }
                if stmt.partspec.is_some() {
                    self.schema.set_partitioned(&table);
                }
                if let Some(bound) = &stmt.partbound
                    && let Some(parent) =
                        stmt.inh_relations
                            .first()
                            .and_then(|r| match r.node.as_ref() {
                                Some(NodeEnum::RangeVar(range)) => Some(range_name(range)),
                                _ => None,
                            })
                {
                    self.create_partition(&parent, &table, bound.is_default, &mut effect);
                }
            }
            NodeEnum::CreateDomainStmt(stmt) if !stmt.constraints.is_empty() => {
                self.schema
                    .add_constrained_domain(&last_name(&stmt.domainname));
            }
            NodeEnum::AlterDomainStmt(stmt) => self.alter_domain(stmt, &mut effect),
            NodeEnum::AlterSeqStmt(stmt) => {
                let restart = stmt.options.iter().any(|o| {
                    matches!(o.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname == "restart")
                });
                if restart {
                    effect
                        .operations
                        .push(Operation::SequenceRestarted { table: None });
                }
            }
            NodeEnum::SelectStmt(_) => {
                let mut setval = false;
                visit_func_calls(node, &mut |name| setval |= name == "setval");
                if setval {
                    effect
                        .operations
                        .push(Operation::SequenceRestarted { table: None });
                }
            }
            // RENAME VALUE (old_val set) adds nothing new to use.
            NodeEnum::AlterEnumStmt(stmt)
                if !stmt.new_val.is_empty() && stmt.old_val.is_empty() =>
            {
                let type_name = last_name(&stmt.type_name);
                if self.explicit_transaction || self.transaction_mode == TransactionMode::PerFile {
                    self.tx
                        .enum_values
                        .push((type_name.clone(), stmt.new_val.clone(), self.line));
                }
                effect.operations.push(Operation::EnumValueAdded {
                    type_name,
                    value: stmt.new_val.clone(),
                });
            }
            NodeEnum::CreateTableAsStmt(stmt) => {
                if let Some(into) = &stmt.into {
                    let table = table_of(&into.rel);
                    if stmt.if_not_exists && self.schema.knows(&table) {
                        return effect;
                    }
                    self.schema.created(&table, self.in_deploy);
                    // Its columns are the query's: known by name only from later ALTERs.
                    let created = Table {
                        created: true,
                        ..Table::default()
                    };
                    self.schema.create_table(&table, created);
                }
            }
            NodeEnum::IndexStmt(stmt) => {
                let table = table_of(&stmt.relation);
                let (name, index) = definitions::index(&table, stmt);
                // CREATE INDEX IF NOT EXISTS of an index that exists does nothing (a NOTICE).
                if !(stmt.if_not_exists && self.schema.index(&name).is_some()) {
                    self.schema.add_index(&name, index);
                }
                let partitioned = self.schema.is_partitioned(&table);
                if stmt.concurrent && partitioned {
                    // PostgreSQL 11-17 (DefineIndex): "cannot create index on partitioned table
                    // … concurrently", SQLSTATE 0A000, whether the table is new or not.
                    effect.operations.push(Operation::PartitionRefusal {
                        table: table.clone(),
                        what: "CREATE INDEX CONCURRENTLY",
                        why: "cannot create index on partitioned table concurrently",
                    });
                }
                if !self.existing(&table) {
                    return effect;
                }
                // `ON ONLY` a partitioned table creates the parent's index, invalid and empty,
                // in the catalog only: nothing is built until each partition's index is
                // attached ("CREATE INDEX": ONLY). SHARE on the parent is still taken.
                let only = stmt.relation.as_ref().is_some_and(|r| !r.inh);
                if partitioned && only && !stmt.concurrent {
                    effect.locks.push((table, LockMode::ShareLock));
                    return effect;
                }
                if stmt.concurrent {
                    effect.operations.push(Operation::Concurrently {
                        target: table.clone(),
                        what: "CREATE INDEX CONCURRENTLY",
                    });
                    effect
                        .locks
                        .push((table, LockMode::ShareUpdateExclusiveLock));
                } else {
                    effect.operations.push(Operation::CreateIndex {
                        table: table.clone(),
                        unique: stmt.unique,
                    });
                    effect.locks.push((table, LockMode::ShareLock));
                    effect.long_work = Some("an index build");
                }
            }
            NodeEnum::AlterTableStmt(stmt) => {
                let table = table_of(&stmt.relation);
                let is_table = matches!(
                    stmt.objtype(),
                    ObjectType::ObjectTable | ObjectType::ObjectMatview
                ) || stmt.objtype() == ObjectType::Undefined;
                self.altering_index = stmt.objtype() == ObjectType::ObjectIndex;
                let mut lock = LockMode::NoLock;
                for command in &stmt.cmds {
                    if let Some(NodeEnum::AlterTableCmd(cmd)) = command.node.as_ref() {
                        let first_new = effect.operations.len();
                        let (cmd_lock, work) = self.alter_table_cmd(&table, cmd, &mut effect);
                        for op in &mut effect.operations[first_new..] {
                            if let Operation::AddCheck { not_valid, .. }
                            | Operation::AddForeignKey { not_valid, .. } = op
                            {
                                *not_valid = not_valid_alone(stmt, cmd);
                            }
                        }
                        lock = lock.max(cmd_lock);
                        if work.is_some() {
                            effect.long_work = work;
                        }
                    }
                }
                if is_table && lock > LockMode::NoLock {
                    effect.locks.push((table, lock));
                }
            }
            NodeEnum::RenameStmt(stmt) => self.rename(stmt, &mut effect),
            NodeEnum::DropStmt(stmt) => self.drop(stmt, &mut effect),
            NodeEnum::TruncateStmt(stmt) => {
                for table in self.existing_relations(&stmt.relations) {
                    effect.operations.push(Operation::Truncate {
                        table: table.clone(),
                    });
                    effect.locks.push((table, LockMode::AccessExclusiveLock));
                }
            }
            NodeEnum::LockStmt(stmt) => {
                let lock = LockMode::try_from(stmt.mode).unwrap_or(LockMode::AccessExclusiveLock);
                for table in self.existing_relations(&stmt.relations) {
                    effect.operations.push(Operation::LockTable {
                        table: table.clone(),
                        lock,
                    });
                    effect.locks.push((table, lock));
                }
            }
            NodeEnum::VacuumStmt(stmt) => {
                let full = stmt.options.iter().any(|o| {
                    matches!(o.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname == "full" && !def_is_false(d))
                });
                if stmt.is_vacuumcmd && full {
                    let tables: Vec<String> = stmt
                        .rels
                        .iter()
                        .filter_map(|r| match r.node.as_ref() {
                            Some(NodeEnum::VacuumRelation(v)) => Some(table_of(&v.relation)),
                            _ => None,
                        })
                        .collect();
                    let tables = if tables.is_empty() {
                        vec!["every table".to_string()]
                    } else {
                        tables
                    };
                    for table in tables.into_iter().filter(|t| self.existing(t)) {
                        rewrite(&mut effect, table, RewriteKind::VacuumFull);
                    }
                }
            }
            NodeEnum::ClusterStmt(stmt) => {
                let table = if stmt.relation.is_some() {
                    table_of(&stmt.relation)
                } else {
                    "every clustered table".to_string()
                };
                if self.existing(&table) {
                    rewrite(&mut effect, table, RewriteKind::Cluster);
                }
            }
            NodeEnum::ReindexStmt(stmt) => {
                let target = if stmt.relation.is_some() {
                    table_of(&stmt.relation)
                } else {
                    stmt.name.clone()
                };
                let concurrent = stmt.params.iter().any(|p| {
                    matches!(p.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname == "concurrently" && !def_is_false(d))
                });
                // `REINDEX (CONCURRENTLY) …`: options in parentheses took CONCURRENTLY from
                // PostgreSQL 14; 12 and 13 only know `REINDEX INDEX CONCURRENTLY …`.
                let in_parentheses = self
                    .statement_text
                    .trim_start()
                    .get(7..)
                    .is_some_and(|rest| rest.trim_start().starts_with('('));
                if concurrent && in_parentheses && self.options.postgres_version < 14 {
                    effect.operations.push(Operation::NotInThisVersion {
                        table: target.clone(),
                        what: "REINDEX (CONCURRENTLY) …",
                        since: 14,
                    });
                }
                if concurrent {
                    effect.operations.push(Operation::Concurrently {
                        target,
                        what: "REINDEX CONCURRENTLY",
                    });
                } else if self.existing(&target) {
                    effect.operations.push(Operation::Reindex {
                        target: target.clone(),
                    });
                    // "REINDEX": SHARE on the table and ACCESS EXCLUSIVE on each index rebuilt.
                    // A query on the table opens every index of it while planning
                    // (get_relation_info), so reads of the table wait too, not only writes.
                    let reindex_table =
                        stmt.kind() == protobuf::ReindexObjectType::ReindexObjectTable;
                    let (table, indexes) = if reindex_table {
                        (target.clone(), format!("the indexes of {target}"))
                    } else {
                        let table = self
                            .schema
                            .index_table(&target)
                            .map(str::to_string)
                            .unwrap_or_else(|| target.clone());
                        (table, target)
                    };
                    effect.locks.push((table, LockMode::ShareLock));
                    effect.locks.push((indexes, LockMode::AccessExclusiveLock));
                    effect.long_work = Some("an index rebuild");
                }
            }
            NodeEnum::RefreshMatViewStmt(stmt) => {
                let view = table_of(&stmt.relation);
                // REFRESH … CONCURRENTLY, unlike the index operations, may run in a transaction.
                if !stmt.concurrent && self.existing(&view) {
                    effect
                        .operations
                        .push(Operation::RefreshMaterializedView { view: view.clone() });
                    effect.locks.push((view, LockMode::AccessExclusiveLock));
                    effect.long_work = Some("a materialized view refresh");
                }
            }
            NodeEnum::UpdateStmt(stmt) => {
                let condition = stmt.where_clause.as_ref().and_then(|w| w.node.as_ref());
                self.backfill(&stmt.relation, condition, "UPDATE", &mut effect);
            }
            NodeEnum::DeleteStmt(stmt) => {
                let condition = stmt.where_clause.as_ref().and_then(|w| w.node.as_ref());
                self.backfill(&stmt.relation, condition, "DELETE", &mut effect);
            }
            NodeEnum::CreateTrigStmt(stmt) => {
                let table = table_of(&stmt.relation);
                effect.locks.push((table, LockMode::ShareRowExclusiveLock));
            }
            _ => {}
        }
        effect
    }

    /// `CREATE TABLE partition PARTITION OF parent …` (DefineRelation takes ACCESS EXCLUSIVE on
    /// the parent). While the parent has a DEFAULT partition, a new bound also locks the
    /// DEFAULT partition ACCESS EXCLUSIVE and scans it for rows of the new bound
    /// (check_default_partition_contents, "CREATE TABLE": PARTITION OF).
    fn create_partition(
        &mut self,
        parent: &str,
        partition: &str,
        is_default: bool,
        effect: &mut Effect,
    ) {
        let default_partition = self.schema.default_partition(parent).map(str::to_string);
        self.schema.attach(parent, partition, is_default);
        if !self.existing(parent) {
            return;
        }
        effect
            .locks
            .push((parent.to_string(), LockMode::AccessExclusiveLock));
        if let Some(default) = default_partition.filter(|d| !is_default && self.existing(d)) {
            effect
                .locks
                .push((default.clone(), LockMode::AccessExclusiveLock));
            effect.long_work = Some("a table scan");
            effect.operations.push(Operation::CreatePartition {
                parent: parent.to_string(),
                partition: partition.to_string(),
                default_partition: default,
            });
        }
    }

    /// `ALTER DOMAIN`: adding a constraint (without NOT VALID), VALIDATE CONSTRAINT and SET NOT
    /// NULL check every stored value of the domain, holding SHARE on each table with a column of
    /// it (validateDomainConstraint / AlterDomainNotNull in typecmds.c).
    fn alter_domain(&mut self, stmt: &protobuf::AlterDomainStmt, effect: &mut Effect) {
        let domain = last_name(&stmt.type_name);
        let what = match stmt.subtype.as_str() {
            "C" => {
                self.schema.add_constrained_domain(&domain);
                let not_valid = matches!(
                    stmt.def.as_ref().and_then(|d| d.node.as_ref()),
                    Some(NodeEnum::Constraint(c)) if c.skip_validation
                );
                if not_valid {
                    return;
                }
                "ADD CONSTRAINT"
            }
            "V" => "VALIDATE CONSTRAINT",
            "O" => {
                self.schema.add_constrained_domain(&domain);
                "SET NOT NULL"
            }
            _ => return,
        };
        let tables: Vec<String> = self
            .schema
            .tables_using_type(&domain)
            .into_iter()
            .filter(|t| self.existing(t))
            .collect();
        if tables.is_empty() {
            return;
        }
        for table in &tables {
            effect.locks.push((table.clone(), LockMode::ShareLock));
        }
        effect.long_work = Some("a table scan");
        effect.operations.push(Operation::DomainCheck {
            domain,
            what,
            tables,
        });
    }

    /// The values added by `ALTER TYPE … ADD VALUE` earlier in this transaction that `text`
    /// uses as a string constant (PostgreSQL's scanner: a value in a comment is no use).
    fn new_enum_values_used(&self, text: &str) -> Vec<Operation> {
        let literals = parser::string_literals(text);
        self.tx
            .enum_values
            .iter()
            .filter(|(_, value, _)| literals.iter().any(|l| l == value))
            .map(|(type_name, value, line)| Operation::NewEnumValueUsed {
                type_name: type_name.clone(),
                value: value.clone(),
                added_line: *line,
            })
            .collect()
    }

    fn existing_relations(&self, relations: &[protobuf::Node]) -> Vec<String> {
        relations
            .iter()
            .filter_map(|relation| match relation.node.as_ref() {
                Some(NodeEnum::RangeVar(range)) => Some(range_name(range)),
                _ => None,
            })
            .filter(|table| self.existing(table))
            .collect()
    }

    fn backfill(
        &self,
        relation: &Option<protobuf::RangeVar>,
        condition: Option<&NodeEnum>,
        verb: &'static str,
        effect: &mut Effect,
    ) {
        let table = table_of(relation);
        if !self.existing(&table) {
            return;
        }
        // `WHERE new_column IS NULL` right after adding new_column matches every row.
        let whole_table = condition.is_none_or(|condition| {
            only_is_null_tests(condition)
                .unwrap_or_default()
                .into_iter()
                .any(|column| self.tx.added_columns.contains(&(table.clone(), column)))
        });
        let under_lock = self
            .tx
            .held_position
            .get(&table)
            .map(|&position| &self.tx.held[position])
            .filter(|h| h.lock == LockMode::AccessExclusiveLock)
            .cloned();
        effect.long_work = Some("a backfill");
        effect.operations.push(Operation::Backfill {
            table,
            verb,
            whole_table,
            under_lock,
        });
    }

    fn rename(&mut self, stmt: &protobuf::RenameStmt, effect: &mut Effect) {
        let table = table_of(&stmt.relation);
        match stmt.rename_type() {
            ObjectType::ObjectColumn if self.existing(&table) => {
                effect.operations.push(Operation::RenameColumn {
                    table: table.clone(),
                    from: stmt.subname.clone(),
                    to: stmt.newname.clone(),
                });
                // The column keeps its type under the new name, whatever the table.
                self.schema.rename_column(
                    &table,
                    &stmt.subname.to_lowercase(),
                    stmt.newname.to_lowercase(),
                );
                effect.locks.push((table, LockMode::AccessExclusiveLock));
            }
            ObjectType::ObjectTable if self.existing(&table) => {
                effect.operations.push(Operation::RenameTable {
                    table: table.clone(),
                    to: stmt.newname.clone(),
                });
                effect
                    .locks
                    .push((table.clone(), LockMode::AccessExclusiveLock));
                self.schema
                    .rename_table(&table, stmt.newname.to_lowercase());
            }
            ObjectType::ObjectTable => {
                let new = stmt.newname.to_lowercase();
                // A new table renamed is still new, whichever file renames it.
                self.schema.created(&new, true);
                self.schema.rename_table(&table, new);
            }
            // ALTER INDEX … RENAME TO: `relation` names the index.
            ObjectType::ObjectIndex => {
                self.schema
                    .rename_index(&table, &stmt.newname.to_lowercase());
            }
            // RENAME CONSTRAINT: ACCESS EXCLUSIVE on the table ("ALTER TABLE"), catalog only.
            ObjectType::ObjectTabconstraint => {
                self.schema.rename_constraint(
                    &table,
                    &stmt.subname.to_lowercase(),
                    stmt.newname.to_lowercase(),
                );
                if self.existing(&table) {
                    effect.locks.push((table, LockMode::AccessExclusiveLock));
                }
            }
            ObjectType::ObjectColumn => {
                self.schema.rename_column(
                    &table,
                    &stmt.subname.to_lowercase(),
                    stmt.newname.to_lowercase(),
                );
            }
            _ => {}
        }
    }

    fn drop(&mut self, stmt: &protobuf::DropStmt, effect: &mut Effect) {
        for object in &stmt.objects {
            let name = object_name(object);
            match stmt.remove_type() {
                ObjectType::ObjectTable => {
                    if self.existing(&name) {
                        effect.operations.push(Operation::DropTable {
                            table: name.clone(),
                        });
                        effect
                            .locks
                            .push((name.clone(), LockMode::AccessExclusiveLock));
                    } else {
                        self.schema.forget_created(&name);
                    }
                    self.schema.drop_table(&name);
                }
                ObjectType::ObjectIndex => {
                    // DROP INDEX takes ACCESS EXCLUSIVE on the index's table (RemoveRelations
                    // locks the heap before the index); CONCURRENTLY, SHARE UPDATE EXCLUSIVE.
                    if !stmt.concurrent
                        && let Some(table) = self.schema.index_table(&name)
                        && self.existing(table)
                    {
                        effect
                            .locks
                            .push((table.to_string(), LockMode::AccessExclusiveLock));
                    }
                    // `DROP INDEX orders.orders_total_idx` names a schema `orders`, not the
                    // table: PostgreSQL finds no such index there (and with IF EXISTS only
                    // says so in a NOTICE). MySQL's `table.index` habit drops nothing.
                    if qualifier(object).is_none_or(|q| self.schema.table(&q).is_none()) {
                        self.schema.drop_index(&name);
                    }
                    effect.operations.push(if stmt.concurrent {
                        Operation::Concurrently {
                            target: name,
                            what: "DROP INDEX CONCURRENTLY",
                        }
                    } else {
                        Operation::DropIndex { index: name }
                    });
                }
                _ => {}
            }
        }
    }
}

/// The existing tables a CREATE TABLE's columns and constraints reference.
fn foreign_key_targets(elements: &[protobuf::Node]) -> Vec<String> {
    let mut constraints: Vec<&protobuf::Constraint> = Vec::new();
    for element in elements {
        match element.node.as_ref() {
            Some(NodeEnum::Constraint(c)) => constraints.push(c),
            Some(NodeEnum::ColumnDef(column)) => {
                constraints.extend(column.constraints.iter().filter_map(
                    |c| match c.node.as_ref() {
                        Some(NodeEnum::Constraint(c)) => Some(c.as_ref()),
                        _ => None,
                    },
                ))
            }
            _ => {}
        }
    }
    let mut tables: Vec<String> = constraints
        .into_iter()
        .filter(|c| c.contype() == protobuf::ConstrType::ConstrForeign)
        .map(|c| table_of(&c.pktable))
        .collect();
    tables.dedup();
    tables
}

/// The first part of a qualified name (`a.b` → `a`), lower-cased.
fn qualifier(object: &protobuf::Node) -> Option<String> {
    match object.node.as_ref() {
        Some(NodeEnum::List(list)) if list.items.len() > 1 => {
            parser::strings(&list.items).next().map(str::to_lowercase)
        }
        _ => None,
    }
}

/// A statement that copies the whole table under ACCESS EXCLUSIVE.
fn rewrite(effect: &mut Effect, table: String, kind: RewriteKind) {
    effect.operations.push(Operation::Rewrite {
        table: table.clone(),
        kind,
    });
    effect.locks.push((table, LockMode::AccessExclusiveLock));
    effect.long_work = Some("a table rewrite");
}

#[cfg(test)]
mod tests;
