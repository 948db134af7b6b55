//! PostgreSQL analysis: follows every migration file statement by statement, with the state that
//! decides whether a statement is dangerous: which tables exist (created before this deploy) or
//! are new, each column's current type, which transaction the statement runs in and the locks
//! already held there, whether `lock_timeout` is set, which constraints are NOT VALID.
//!
//! Older files (not in this deploy) are followed too, silently, so the schema is known.

use super::compat::{ADD_COLUMN_NOT_NULL, DROP_COLUMN, DROP_TABLE, RENAME_COLUMN, RENAME_TABLE};
use super::pg_rules::*;
use super::{MigrationFile, Settings, UNPARSED_STATEMENT};
use crate::checks::Rule;
use crate::config::TransactionMode;
use crate::report::{Finding, Location};
use crate::sql::postgres::{self as parser, ColumnType, Origin, Statement};
use pg_query::protobuf::{
    self, AlterTableType, ConstrType, ObjectType, TransactionStmtKind, a_const::Val,
};
use pg_query::{LockMode, NodeEnum};
use std::collections::{HashMap, HashSet};

pub struct Analysis {
    pub findings: Vec<Finding>,
    /// Tables with a blocking finding, and why, in order of first appearance.
    pub at_risk: Vec<(String, Vec<&'static str>)>,
}

/// A lock held in the current transaction on an existing table.
#[derive(Debug, Clone)]
struct Held {
    table: String,
    lock: LockMode,
    line: u32,
}

#[derive(Default)]
struct Transaction {
    held: Vec<Held>,
    /// (table, constraint) added NOT VALID in this transaction.
    not_valid: HashSet<(String, String)>,
    /// (table, column) proven NOT NULL by a CHECK validated in this transaction.
    validated_not_null: Vec<(String, String)>,
    /// Index in `findings` of this transaction's lock-accumulation finding.
    accumulation: Option<usize>,
}

/// What one statement does to an existing table, for the lock bookkeeping.
#[derive(Default)]
struct Effect {
    locks: Vec<(String, LockMode)>,
    /// Long work while locks are held: a rewrite, a scan, a backfill, an index build.
    long_work: Option<&'static str>,
}

/// `deploy_is_known`: a base ref selected this deploy's files, so a table created by any of them
/// is new at deploy time. Without a base every file is checked as if new, but a table created by
/// an earlier file has long existed in production: only same-file creations count as new then.
pub fn analyze(files: &[MigrationFile], settings: &Settings, deploy_is_known: bool) -> Analysis {
    let mut state = State {
        deploy_is_known,
        created_in_file: HashSet::new(),
        settings: settings.clone(),
        schema: HashMap::new(),
        created_in_deploy: HashSet::new(),
        findings: Vec::new(),
        at_risk: Vec::new(),
    };
    for file in files {
        state.file(file);
    }
    Analysis {
        findings: state.findings,
        at_risk: state.at_risk,
    }
}

struct State {
    deploy_is_known: bool,
    /// Tables created earlier in the file being read.
    created_in_file: HashSet<String>,
    settings: Settings,
    /// table → column → type, from every migration read so far.
    schema: HashMap<String, HashMap<String, ColumnType>>,
    /// Tables created by this deploy's migrations: new and empty, so safe.
    created_in_deploy: HashSet<String>,
    findings: Vec<Finding>,
    at_risk: Vec<(String, Vec<&'static str>)>,
}

/// Per-file state.
struct FileState<'a> {
    file: &'a MigrationFile,
    transaction_mode: TransactionMode,
    statement_count: usize,
    lock_timeout: bool,
    lock_timeout_reported: bool,
    explicit_transaction: bool,
    tx: Transaction,
    /// (table, constraint) → column, for `CHECK (column IS NOT NULL) NOT VALID`.
    pending_not_null_checks: HashMap<(String, String), String>,
    /// (table, column) proven NOT NULL by a CHECK validated in an earlier transaction.
    validated_not_null: HashSet<(String, String)>,
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

impl State {
    fn file(&mut self, file: &MigrationFile) {
        self.created_in_file.clear();
        let (up, dbmate_no_transaction) = up_section(&file.text);
        let statements = parser::parse(up);
        let mut fs = FileState {
            file,
            transaction_mode: if dbmate_no_transaction {
                TransactionMode::None
            } else {
                self.settings.transaction
            },
            statement_count: statements
                .iter()
                .filter(|s| s.origin == Origin::TopLevel)
                .count(),
            lock_timeout: false,
            lock_timeout_reported: false,
            explicit_transaction: false,
            tx: Transaction::default(),
            pending_not_null_checks: HashMap::new(),
            validated_not_null: HashSet::new(),
        };
        // PL/pgSQL functions this file defines: their bodies run when the file calls them.
        let functions: HashMap<String, &Statement> = statements
            .iter()
            .filter_map(|statement| match &statement.node {
                Ok(NodeEnum::CreateFunctionStmt(function)) if is_plpgsql(function) => {
                    Some((last_name(&function.funcname), statement))
                }
                _ => None,
            })
            .collect();
        for statement in &statements {
            self.statement(&mut fs, statement);
            if let Ok(node @ (NodeEnum::SelectStmt(_) | NodeEnum::CallStmt(_))) = &statement.node {
                let mut called = Vec::new();
                visit_func_calls(node, &mut |name| called.push(name.to_string()));
                for name in called {
                    let Some(function) = functions.get(&name) else {
                        continue;
                    };
                    let origin =
                        Origin::Function(format!("{name}(), called at line {}", statement.line));
                    for nested in parser::plpgsql_statements(up, function, origin) {
                        self.statement(&mut fs, &nested);
                    }
                }
            }
            if statement.origin == Origin::TopLevel && !fs.explicit_transaction {
                match fs.transaction_mode {
                    TransactionMode::PerFile => {}
                    TransactionMode::PerStatement | TransactionMode::None => self.commit(&mut fs),
                }
            }
        }
        self.commit(&mut fs);
    }

    fn commit(&mut self, fs: &mut FileState) {
        let tx = std::mem::take(&mut fs.tx);
        fs.validated_not_null.extend(tx.validated_not_null);
        if let Some(index) = tx.accumulation {
            // Now that the transaction is complete, name every lock it held until COMMIT.
            let union: Vec<String> = tx
                .held
                .iter()
                .map(|h| format!("{} {}", h.table, lock_name(h.lock)))
                .collect();
            if let Some(finding) = self.findings.get_mut(index) {
                finding.evidence = Some(format!("locks held until COMMIT: {}", union.join(", ")));
            }
        }
    }

    fn existing(&self, table: &str) -> bool {
        !(self.created_in_file.contains(table)
            || (self.deploy_is_known && self.created_in_deploy.contains(table)))
    }

    fn report(
        &mut self,
        fs: &FileState,
        statement: &Statement,
        rule: &'static Rule,
        table: &str,
        message: String,
        fix: String,
    ) {
        if !fs.file.in_deploy {
            return;
        }
        let mut finding = rule
            .finding(message)
            .at(Location::new(
                &fs.file.path,
                statement.line,
                statement.column,
            ))
            .with_fix(fix);
        match &statement.origin {
            Origin::DoBlock => finding.message.push_str(" (inside a DO block)"),
            Origin::Function(called) => finding
                .message
                .push_str(&format!(" (inside function {called})")),
            Origin::TopLevel => {}
        }
        if self.settings.old_code_judged_by_compat {
            super::compat::defer_to_compat(&mut finding);
        }
        if finding.severity == crate::report::Severity::Fail {
            let why = short_reason(rule.id.trim_start_matches("migrations/"));
            match self.at_risk.iter_mut().find(|(t, _)| t == table) {
                Some((_, reasons)) if !reasons.contains(&why) => reasons.push(why),
                Some(_) => {}
                None => self.at_risk.push((table.to_string(), vec![why])),
            }
        }
        self.findings.push(finding);
    }

    fn statement(&mut self, fs: &mut FileState, statement: &Statement) {
        let node = match &statement.node {
            Ok(node) => node,
            Err(reason) => {
                if fs.file.in_deploy {
                    self.findings.push(
                        UNPARSED_STATEMENT
                            .finding(format!("gonogo cannot analyse this statement: {reason}"))
                            .at(Location::new(&fs.file.path, statement.line, statement.column))
                            .with_evidence(first_line(&statement.text))
                            .with_fix("fix the SQL, or check this statement's locks by hand and waive it with a reason"),
                    );
                }
                return;
            }
        };
        let effect = self.rules(fs, statement, node);
        self.track_locks(fs, statement, effect);
    }

    /// Lock bookkeeping shared by every statement: lock_timeout and accumulation.
    fn track_locks(&mut self, fs: &mut FileState, statement: &Statement, effect: Effect) {
        let strong: Vec<(String, LockMode)> = effect
            .locks
            .into_iter()
            .filter(|(table, lock)| *lock >= LockMode::ShareLock && self.existing(table))
            .collect();
        if let Some((table, lock)) = strong.first().cloned()
            && !fs.lock_timeout
            && !fs.lock_timeout_reported
        {
            fs.lock_timeout_reported = true;
            self.report(
                fs,
                statement,
                &MISSING_LOCK_TIMEOUT,
                &table,
                format!(
                    "{} on {table} with no lock_timeout set: if it waits behind a long query, every query on {table} queues behind it ({})",
                    lock_name(lock),
                    blocks(lock)
                ),
                format!("add `SET lock_timeout = '2s';` at the top of {} and retry the migration when it times out", fs.file.path),
            );
        }
        let in_multi_statement_tx =
            fs.explicit_transaction || fs.transaction_mode == TransactionMode::PerFile;
        if in_multi_statement_tx && !fs.tx.held.is_empty() && fs.tx.accumulation.is_none() {
            let new_table = strong
                .iter()
                .find(|(t, _)| !fs.tx.held.iter().any(|h| &h.table == t));
            let extends = match (new_table, effect.long_work) {
                (Some((table, lock)), _) => {
                    Some(format!("takes {} on {table} too", lock_name(*lock)))
                }
                (None, Some(work)) => Some(format!("runs {work}")),
                (None, None) => None,
            };
            if let Some(extends) = extends {
                let first = fs.tx.held[0].clone();
                let table = new_table
                    .map(|(t, _)| t.clone())
                    .unwrap_or(first.table.clone());
                let index = self.findings.len();
                self.report(
                    fs,
                    statement,
                    &LOCK_ACCUMULATION,
                    &table,
                    format!(
                        "this statement {extends} while {} is still held on {} (since line {}) until COMMIT: every statement in the transaction extends the lock window",
                        lock_name(first.lock),
                        first.table,
                        first.line
                    ),
                    "one strong lock per transaction: commit before this statement (a separate migration), and backfill in batches outside the DDL transaction".to_string(),
                );
                if self.findings.len() > index {
                    fs.tx.accumulation = Some(index);
                }
            }
        }
        for (table, lock) in strong {
            match fs.tx.held.iter_mut().find(|h| h.table == table) {
                Some(held) => held.lock = held.lock.max(lock),
                None => fs.tx.held.push(Held {
                    table,
                    lock,
                    line: statement.line,
                }),
            }
        }
    }

    /// In a transaction block, from PostgreSQL's point of view, for CONCURRENTLY.
    fn in_transaction_block(&self, fs: &FileState) -> Option<&'static str> {
        if fs.explicit_transaction {
            return Some("inside BEGIN … COMMIT");
        }
        match fs.transaction_mode {
            TransactionMode::PerFile => {
                Some("the migration runner wraps the file in a transaction (transaction: per-file)")
            }
            TransactionMode::None if fs.statement_count > 1 => Some(
                "the file has several statements, which a runner sending the file as one query runs as one implicit transaction (transaction: none)",
            ),
            _ => None,
        }
    }

    fn concurrently(&mut self, fs: &FileState, statement: &Statement, table: &str, what: &str) {
        if let Some(why) = self.in_transaction_block(fs) {
            self.report(
                fs,
                statement,
                &CONCURRENTLY_IN_TRANSACTION,
                table,
                format!("{what} cannot run inside a transaction block, and here {why}: PostgreSQL rejects it and the deploy fails"),
                format!("move `{}` into a migration of its own that runs outside a transaction, and set checks.migrations.transaction to match your runner", first_line(&statement.text)),
            );
        }
    }

    /// Apply the statement's rules; return its locks and long work.
    fn rules(&mut self, fs: &mut FileState, statement: &Statement, node: &NodeEnum) -> Effect {
        let mut effect = Effect::default();
        match node {
            NodeEnum::TransactionStmt(stmt) => match stmt.kind() {
                TransactionStmtKind::TransStmtBegin | TransactionStmtKind::TransStmtStart => {
                    if fs.transaction_mode != TransactionMode::PerFile {
                        self.commit(fs);
                    }
                    fs.explicit_transaction = true;
                }
                TransactionStmtKind::TransStmtCommit
                | TransactionStmtKind::TransStmtRollback
                | TransactionStmtKind::TransStmtCommitPrepared
                | TransactionStmtKind::TransStmtRollbackPrepared => {
                    fs.explicit_transaction = false;
                    self.commit(fs);
                }
                _ => {}
            },
            NodeEnum::VariableSetStmt(stmt) if stmt.name.eq_ignore_ascii_case("lock_timeout") => {
                // SET LOCAL lasts until the end of the transaction: in a statement-per-transaction
                // runner, that is this very statement.
                let lasts = !stmt.is_local
                    || fs.explicit_transaction
                    || fs.transaction_mode == TransactionMode::PerFile;
                if lasts {
                    fs.lock_timeout = !setting_is_zero(&stmt.args);
                }
            }
            NodeEnum::CreateStmt(stmt) => {
                let table = table_of(&stmt.relation);
                self.created_in_file.insert(table.clone());
                if fs.file.in_deploy {
                    self.created_in_deploy.insert(table.clone());
                }
                let columns = self.schema.entry(table).or_default();
                for element in &stmt.table_elts {
                    if let Some(NodeEnum::ColumnDef(column)) = element.node.as_ref()
                        && let Some(ty) = column.type_name.as_ref().map(column_type)
                    {
                        columns.insert(column.colname.to_lowercase(), ty);
                    }
                }
            }
            NodeEnum::CreateTableAsStmt(stmt) => {
                if let Some(into) = &stmt.into {
                    let table = table_of(&into.rel);
                    self.created_in_file.insert(table.clone());
                    if fs.file.in_deploy {
                        self.created_in_deploy.insert(table);
                    }
                }
            }
            NodeEnum::IndexStmt(stmt) => {
                let table = table_of(&stmt.relation);
                if !self.existing(&table) {
                    return effect;
                }
                if stmt.concurrent {
                    self.concurrently(fs, statement, &table, "CREATE INDEX CONCURRENTLY");
                    effect
                        .locks
                        .push((table, LockMode::ShareUpdateExclusiveLock));
                } else {
                    let kind = if stmt.unique {
                        "CREATE UNIQUE INDEX"
                    } else {
                        "CREATE INDEX"
                    };
                    self.report(
                        fs,
                        statement,
                        &ADD_INDEX_NOT_CONCURRENT,
                        &table,
                        format!("{kind} without CONCURRENTLY takes SHARE on {table}: every INSERT, UPDATE and DELETE on {table} waits until the whole index is built"),
                        format!("`{}` in a migration of its own, outside a transaction", add_concurrently(&statement.text)),
                    );
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
                let mut lock = LockMode::NoLock;
                for command in &stmt.cmds {
                    if let Some(NodeEnum::AlterTableCmd(cmd)) = command.node.as_ref() {
                        let (cmd_lock, work) =
                            self.alter_table_cmd(fs, statement, &table, cmd, &mut effect);
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
            NodeEnum::RenameStmt(stmt) => {
                let table = table_of(&stmt.relation);
                match stmt.rename_type() {
                    ObjectType::ObjectColumn if self.existing(&table) => {
                        self.report(
                            fs,
                            statement,
                            &RENAME_COLUMN,
                            &table,
                            format!("renaming {table}.{} to {} breaks every query of the old version, which keeps running until the rollout ends", stmt.subname, stmt.newname),
                            format!("add {new} to {table}, write both, backfill in batches, switch reads to {new}, and drop {old} in a later deploy", new = stmt.newname, old = stmt.subname),
                        );
                        effect.locks.push((table, LockMode::AccessExclusiveLock));
                    }
                    ObjectType::ObjectTable if self.existing(&table) => {
                        self.report(
                            fs,
                            statement,
                            &RENAME_TABLE,
                            &table,
                            format!("renaming {table} to {} breaks every query of the old version, which keeps running until the rollout ends", stmt.newname),
                            format!("after the rename, `CREATE VIEW {table} AS SELECT * FROM {};` for one release, and drop the view once no running version uses {table}", stmt.newname),
                        );
                        effect
                            .locks
                            .push((table.clone(), LockMode::AccessExclusiveLock));
                        if let Some(columns) = self.schema.remove(&table) {
                            self.schema.insert(stmt.newname.to_lowercase(), columns);
                        }
                    }
                    ObjectType::ObjectTable => {
                        let new = stmt.newname.to_lowercase();
                        self.created_in_file.insert(new.clone());
                        self.created_in_deploy.insert(new.clone());
                        if let Some(columns) = self.schema.remove(&table) {
                            self.schema.insert(new, columns);
                        }
                    }
                    ObjectType::ObjectColumn => {
                        if let Some(columns) = self.schema.get_mut(&table)
                            && let Some(ty) = columns.remove(&stmt.subname.to_lowercase())
                        {
                            columns.insert(stmt.newname.to_lowercase(), ty);
                        }
                    }
                    _ => {}
                }
            }
            NodeEnum::DropStmt(stmt) => self.drop(fs, statement, stmt, &mut effect),
            NodeEnum::TruncateStmt(stmt) => {
                for relation in &stmt.relations {
                    if let Some(NodeEnum::RangeVar(range)) = relation.node.as_ref() {
                        let table = range_name(range);
                        if self.existing(&table) {
                            self.report(
                                fs,
                                statement,
                                &TRUNCATE,
                                &table,
                                format!("TRUNCATE {table} takes ACCESS EXCLUSIVE and deletes every row while the old version is still running"),
                                format!("delete from {table} in batches, or drop it in a later deploy once no code uses it"),
                            );
                            effect.locks.push((table, LockMode::AccessExclusiveLock));
                        }
                    }
                }
            }
            NodeEnum::LockStmt(stmt) => {
                let lock = LockMode::try_from(stmt.mode).unwrap_or(LockMode::AccessExclusiveLock);
                for relation in &stmt.relations {
                    if let Some(NodeEnum::RangeVar(range)) = relation.node.as_ref() {
                        let table = range_name(range);
                        if self.existing(&table) {
                            self.report(
                                fs,
                                statement,
                                &LOCK_TABLE,
                                &table,
                                format!("LOCK TABLE {table} takes {} until COMMIT ({})", lock_name(lock), blocks(lock)),
                                "take the weakest lock that protects the change, with lock_timeout set, and commit quickly".to_string(),
                            );
                            effect.locks.push((table, lock));
                        }
                    }
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
                    let tables: Vec<String> =
                        tables.into_iter().filter(|t| self.existing(t)).collect();
                    for table in tables {
                        let fix = format!(
                            "do not run VACUUM FULL in a migration; reclaim space in {table} online with pg_repack or pg_squeeze"
                        );
                        self.rewrite(fs, statement, table, "VACUUM FULL", fix, &mut effect);
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
                    let fix = format!("reorder {table} online with pg_repack, not in a migration");
                    self.rewrite(fs, statement, table, "CLUSTER", fix, &mut effect);
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
                if concurrent {
                    self.concurrently(fs, statement, &target, "REINDEX CONCURRENTLY");
                } else if self.existing(&target) {
                    let fix = if self.settings.postgres_version >= 12 {
                        format!(
                            "`{}` outside a transaction block",
                            add_reindex_concurrently(&statement.text)
                        )
                    } else {
                        format!(
                            "PostgreSQL {} has no REINDEX CONCURRENTLY: CREATE INDEX CONCURRENTLY a copy, then DROP INDEX CONCURRENTLY the old one",
                            self.settings.postgres_version
                        )
                    };
                    self.report(
                        fs,
                        statement,
                        &REINDEX_NOT_CONCURRENT,
                        &target,
                        format!("REINDEX without CONCURRENTLY blocks writes to {target} (and reads that use the index) for the whole rebuild"),
                        fix,
                    );
                    effect.locks.push((target, LockMode::ShareLock));
                    effect.long_work = Some("an index rebuild");
                }
            }
            NodeEnum::RefreshMatViewStmt(stmt) => {
                let view = table_of(&stmt.relation);
                // REFRESH … CONCURRENTLY, unlike the index operations, may run in a transaction.
                if !stmt.concurrent && self.existing(&view) {
                    self.report(
                        fs,
                        statement,
                        &REFRESH_MATVIEW_NOT_CONCURRENT,
                        &view,
                        format!("REFRESH MATERIALIZED VIEW {view} holds ACCESS EXCLUSIVE on it: every read of {view} waits for the whole refresh"),
                        format!("`REFRESH MATERIALIZED VIEW CONCURRENTLY {view};` (needs a unique index on {view}) outside a transaction block"),
                    );
                    effect.locks.push((view, LockMode::AccessExclusiveLock));
                    effect.long_work = Some("a materialized view refresh");
                }
            }
            NodeEnum::UpdateStmt(stmt) => {
                let table = table_of(&stmt.relation);
                self.backfill(
                    fs,
                    statement,
                    &table,
                    stmt.where_clause.is_none(),
                    "UPDATE",
                    &mut effect,
                );
            }
            NodeEnum::DeleteStmt(stmt) => {
                let table = table_of(&stmt.relation);
                self.backfill(
                    fs,
                    statement,
                    &table,
                    stmt.where_clause.is_none(),
                    "DELETE",
                    &mut effect,
                );
            }
            NodeEnum::CreateTrigStmt(stmt) => {
                let table = table_of(&stmt.relation);
                effect.locks.push((table, LockMode::ShareRowExclusiveLock));
            }
            _ => {}
        }
        effect
    }

    /// A statement that copies the whole table under ACCESS EXCLUSIVE.
    fn rewrite(
        &mut self,
        fs: &FileState,
        statement: &Statement,
        table: String,
        what: &str,
        fix: String,
        effect: &mut Effect,
    ) {
        self.report(
            fs,
            statement,
            &TABLE_REWRITE,
            &table,
            format!("{what} rewrites {table} under ACCESS EXCLUSIVE: reads and writes wait for the whole copy"),
            fix,
        );
        effect.locks.push((table, LockMode::AccessExclusiveLock));
        effect.long_work = Some("a table rewrite");
    }

    fn backfill(
        &mut self,
        fs: &FileState,
        statement: &Statement,
        table: &str,
        whole_table: bool,
        verb: &str,
        effect: &mut Effect,
    ) {
        if !self.existing(table) {
            return;
        }
        effect.long_work = Some("a backfill");
        if whole_table {
            self.report(
                fs,
                statement,
                &UNBATCHED_BACKFILL,
                table,
                format!("{verb} of every row of {table} in one statement: each row stays locked until COMMIT, concurrent writes to them wait, and replicas lag"),
                format!("{verb} {table} in batches of a few thousand rows (`WHERE id BETWEEN … AND …`), each committed, outside the DDL transaction"),
            );
        }
    }

    fn drop(
        &mut self,
        fs: &FileState,
        statement: &Statement,
        stmt: &protobuf::DropStmt,
        effect: &mut Effect,
    ) {
        for object in &stmt.objects {
            let name = object_name(object);
            match stmt.remove_type() {
                ObjectType::ObjectTable => {
                    if self.existing(&name) {
                        self.report(
                            fs,
                            statement,
                            &DROP_TABLE,
                            &name,
                            format!("DROP TABLE {name}: the old version still queries it until the rollout ends, and the data cannot come back with a rollback"),
                            format!("ship code that no longer uses {name} first; drop it in a later deploy (or rename it to {name}_deprecated for one release)"),
                        );
                        effect
                            .locks
                            .push((name.clone(), LockMode::AccessExclusiveLock));
                    } else {
                        self.created_in_file.remove(&name);
                        self.created_in_deploy.remove(&name);
                    }
                    self.schema.remove(&name);
                }
                ObjectType::ObjectIndex => {
                    if stmt.concurrent {
                        self.concurrently(fs, statement, &name, "DROP INDEX CONCURRENTLY");
                    } else {
                        self.report(
                            fs,
                            statement,
                            &DROP_INDEX_NOT_CONCURRENT,
                            &name,
                            format!("DROP INDEX {name} needs ACCESS EXCLUSIVE on its table: it waits behind long queries and every query on the table queues behind it"),
                            format!("`DROP INDEX CONCURRENTLY IF EXISTS {name};` outside a transaction block"),
                        );
                    }
                }
                _ => {}
            }
        }
    }

    /// One ALTER TABLE sub-command: its findings, its lock, and long work.
    fn alter_table_cmd(
        &mut self,
        fs: &mut FileState,
        statement: &Statement,
        table: &str,
        cmd: &protobuf::AlterTableCmd,
        effect: &mut Effect,
    ) -> (LockMode, Option<&'static str>) {
        let existing = self.existing(table);
        let column = cmd.name.to_lowercase();
        let def = cmd.def.as_ref().and_then(|d| d.node.as_ref());
        match (cmd.subtype(), def) {
            (AlterTableType::AtAddColumn, Some(NodeEnum::ColumnDef(column_def))) => {
                let work = if existing {
                    self.add_column(fs, statement, table, column_def)
                } else {
                    None
                };
                if let Some(ty) = column_def.type_name.as_ref().map(column_type) {
                    self.schema
                        .entry(table.to_string())
                        .or_default()
                        .insert(column_def.colname.to_lowercase(), ty);
                }
                (LockMode::AccessExclusiveLock, work)
            }
            (AlterTableType::AtAlterColumnType, Some(NodeEnum::ColumnDef(column_def))) => {
                let Some(new_type) = column_def.type_name.as_ref().map(column_type) else {
                    return (LockMode::AccessExclusiveLock, None);
                };
                let old_type = self.schema.get(table).and_then(|c| c.get(&column)).cloned();
                let mut work = None;
                if existing {
                    let using = column_def
                        .raw_default
                        .as_ref()
                        .and_then(|d| d.node.as_ref());
                    work = self.alter_type(
                        fs,
                        statement,
                        table,
                        &column,
                        old_type.as_ref(),
                        &new_type,
                        using,
                    );
                }
                self.schema
                    .entry(table.to_string())
                    .or_default()
                    .insert(column, new_type);
                (LockMode::AccessExclusiveLock, work)
            }
            (AlterTableType::AtSetNotNull, _) => {
                if existing {
                    let proven = self.settings.postgres_version >= 12
                        && fs
                            .validated_not_null
                            .contains(&(table.to_string(), column.clone()));
                    if !proven {
                        self.report(
                            fs,
                            statement,
                            &SET_NOT_NULL,
                            table,
                            format!("SET NOT NULL on {table}.{column} scans the whole table under ACCESS EXCLUSIVE: no reads or writes of {table} until the scan ends"),
                            format!(
                                "in separate transactions: `ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_not_null CHECK ({column} IS NOT NULL) NOT VALID;` then `ALTER TABLE {table} VALIDATE CONSTRAINT {table}_{column}_not_null;` then SET NOT NULL (PostgreSQL 12+ skips the scan), then drop the check"
                            ),
                        );
                        return (LockMode::AccessExclusiveLock, Some("a table scan"));
                    }
                }
                (LockMode::AccessExclusiveLock, None)
            }
            (AlterTableType::AtAddConstraint, Some(NodeEnum::Constraint(constraint))) => {
                self.add_constraint(fs, statement, table, constraint, existing, effect)
            }
            (AlterTableType::AtValidateConstraint, _) => {
                let key = (table.to_string(), cmd.name.clone());
                if fs.tx.not_valid.contains(&key) && existing {
                    self.report(
                        fs,
                        statement,
                        &VALIDATE_IN_SAME_TRANSACTION,
                        table,
                        format!("VALIDATE CONSTRAINT {} runs in the same transaction as its ADD … NOT VALID: the strong lock taken by the ADD is still held during the full scan of {table}", cmd.name),
                        format!("validate in a later migration (or after a COMMIT): `ALTER TABLE {table} VALIDATE CONSTRAINT {};`", cmd.name),
                    );
                }
                if let Some(column) = fs.pending_not_null_checks.get(&key).cloned() {
                    fs.tx.validated_not_null.push((table.to_string(), column));
                }
                (LockMode::ShareUpdateExclusiveLock, None)
            }
            (AlterTableType::AtDropColumn, _) => {
                if existing {
                    self.report(
                        fs,
                        statement,
                        &DROP_COLUMN,
                        table,
                        format!("DROP COLUMN {table}.{column} while the old version, still running until the rollout ends, reads and writes it"),
                        format!("ship code that ignores {table}.{column} first (Rails ignored_columns, Django field removed), and drop it in a later deploy"),
                    );
                }
                if let Some(columns) = self.schema.get_mut(table) {
                    columns.remove(&column);
                }
                (LockMode::AccessExclusiveLock, None)
            }
            (
                AlterTableType::AtSetLogged
                | AlterTableType::AtSetUnLogged
                | AlterTableType::AtSetTableSpace,
                _,
            ) => {
                if existing {
                    let what = match cmd.subtype() {
                        AlterTableType::AtSetLogged => "SET LOGGED".to_string(),
                        AlterTableType::AtSetUnLogged => "SET UNLOGGED".to_string(),
                        _ => format!("SET TABLESPACE {}", cmd.name),
                    };
                    self.report(
                        fs,
                        statement,
                        &TABLE_REWRITE,
                        table,
                        format!("{what} rewrites {table} under ACCESS EXCLUSIVE: reads and writes wait for the whole copy"),
                        format!("create the new {table} alongside and copy in batches, or schedule this for a maintenance window"),
                    );
                    return (LockMode::AccessExclusiveLock, Some("a table rewrite"));
                }
                (LockMode::AccessExclusiveLock, None)
            }
            (
                AlterTableType::AtSetStatistics
                | AlterTableType::AtClusterOn
                | AlterTableType::AtDropCluster
                | AlterTableType::AtSetRelOptions
                | AlterTableType::AtResetRelOptions
                | AlterTableType::AtSetOptions
                | AlterTableType::AtResetOptions,
                _,
            ) => (LockMode::ShareUpdateExclusiveLock, None),
            (
                AlterTableType::AtEnableTrig
                | AlterTableType::AtDisableTrig
                | AlterTableType::AtEnableAlwaysTrig
                | AlterTableType::AtEnableReplicaTrig
                | AlterTableType::AtEnableTrigAll
                | AlterTableType::AtDisableTrigAll
                | AlterTableType::AtEnableTrigUser
                | AlterTableType::AtDisableTrigUser,
                _,
            ) => (LockMode::ShareRowExclusiveLock, None),
            (AlterTableType::AtAttachPartition | AlterTableType::AtDetachPartition, _) => {
                (LockMode::ShareUpdateExclusiveLock, None)
            }
            _ => (LockMode::AccessExclusiveLock, None),
        }
    }

    fn add_column(
        &mut self,
        fs: &FileState,
        statement: &Statement,
        table: &str,
        column_def: &protobuf::ColumnDef,
    ) -> Option<&'static str> {
        let column = &column_def.colname;
        let ty = column_def.type_name.as_ref().map(column_type);
        let constraints: Vec<&protobuf::Constraint> = column_def
            .constraints
            .iter()
            .filter_map(|c| match c.node.as_ref() {
                Some(NodeEnum::Constraint(c)) => Some(c.as_ref()),
                _ => None,
            })
            .collect();
        let default = constraints
            .iter()
            .find(|c| c.contype() == ConstrType::ConstrDefault);
        let not_null = constraints
            .iter()
            .any(|c| c.contype() == ConstrType::ConstrNotnull);
        let identity = constraints
            .iter()
            .any(|c| c.contype() == ConstrType::ConstrIdentity);
        let generated_stored = constraints
            .iter()
            .any(|c| c.contype() == ConstrType::ConstrGenerated && c.generated_kind != "v");
        let serial = ty.as_ref().is_some_and(|t| {
            matches!(
                t.name.as_str(),
                "serial" | "serial4" | "bigserial" | "serial8" | "smallserial" | "serial2"
            )
        });
        let type_text = ty.as_ref().map(|t| t.to_string()).unwrap_or_default();

        if serial || identity {
            let what = if serial {
                type_text.clone()
            } else {
                "an identity column".to_string()
            };
            self.report(
                fs,
                statement,
                &ADD_COLUMN_SERIAL,
                table,
                format!("ADD COLUMN {column} {what} gives every existing row of {table} a sequence value: the table is rewritten under ACCESS EXCLUSIVE"),
                format!("add `{column} bigint` nullable, `CREATE SEQUENCE {table}_{column}_seq`, set the default to nextval, and backfill {table} in batches"),
            );
            return Some("a table rewrite");
        }
        if generated_stored {
            self.report(
                fs,
                statement,
                &ADD_COLUMN_GENERATED_STORED,
                table,
                format!("ADD COLUMN {column} GENERATED … STORED computes and stores a value for every row of {table}: a rewrite under ACCESS EXCLUSIVE"),
                format!("add {column} as a plain nullable column filled by a trigger, and backfill {table} in batches (or compute it in a view)"),
            );
            return Some("a table rewrite");
        }
        if let Some(default) = default {
            let expression = default.raw_expr.as_ref().and_then(|e| e.node.as_ref());
            let volatile = expression.and_then(volatile_function);
            let is_null = expression.is_some_and(is_null_constant);
            let old_postgres = self.settings.postgres_version < 11 && !is_null;
            if volatile.is_some() || old_postgres {
                let why = match &volatile {
                    Some(function) => format!(
                        "{function}() is volatile, so its value is computed for every existing row"
                    ),
                    None => format!(
                        "before PostgreSQL 11 any non-NULL default is written into every row (postgres_version is {})",
                        self.settings.postgres_version
                    ),
                };
                self.report(
                    fs,
                    statement,
                    &ADD_COLUMN_VOLATILE_DEFAULT,
                    table,
                    format!("ADD COLUMN {column} with a default rewrites {table} under ACCESS EXCLUSIVE: {why}"),
                    format!(
                        "`ALTER TABLE {table} ADD COLUMN {column} {type_text};` then `ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT …;` and backfill existing rows in batches"
                    ),
                );
                return Some("a table rewrite");
            }
        } else if not_null {
            self.report(
                fs,
                statement,
                &ADD_COLUMN_NOT_NULL,
                table,
                format!("ADD COLUMN {column} NOT NULL without a default fails if {table} has rows, and rejects every INSERT of the old version, which does not know {column}"),
                format!("add {column} nullable (or with a constant DEFAULT), backfill {table} in batches, then enforce NOT NULL once every running version writes it"),
            );
        }
        for constraint in &constraints {
            if constraint.contype() == ConstrType::ConstrForeign && !constraint.skip_validation {
                let referenced = table_of(&constraint.pktable);
                self.report(
                    fs,
                    statement,
                    &ADD_FOREIGN_KEY,
                    table,
                    format!("ADD COLUMN {column} … REFERENCES {referenced} validates the new foreign key with a scan of {table} while holding SHARE ROW EXCLUSIVE on {referenced}: writes to {referenced} wait"),
                    format!("add {column} without REFERENCES, then `ALTER TABLE {table} ADD CONSTRAINT {table}_{column}_fkey FOREIGN KEY ({column}) REFERENCES {referenced} NOT VALID;` and VALIDATE it in a later transaction"),
                );
                return Some("a table scan");
            }
            if matches!(
                constraint.contype(),
                ConstrType::ConstrUnique | ConstrType::ConstrPrimary
            ) {
                self.report(
                    fs,
                    statement,
                    &ADD_UNIQUE_CONSTRAINT,
                    table,
                    format!("ADD COLUMN {column} … UNIQUE/PRIMARY KEY builds an index on {table} under ACCESS EXCLUSIVE"),
                    format!("add {column} plain, `CREATE UNIQUE INDEX CONCURRENTLY` on it, then `ADD CONSTRAINT … UNIQUE USING INDEX …`"),
                );
                return Some("an index build");
            }
        }
        None
    }

    #[allow(clippy::too_many_arguments)]
    fn alter_type(
        &mut self,
        fs: &FileState,
        statement: &Statement,
        table: &str,
        column: &str,
        old: Option<&ColumnType>,
        new: &ColumnType,
        using: Option<&NodeEnum>,
    ) -> Option<&'static str> {
        let using_changes_data = using.is_some_and(|u| !is_plain_cast_of(u, column));
        let verdict = if using_changes_data {
            TypeChange::Rewrite("the USING expression computes new values".to_string())
        } else {
            type_change(old, new)
        };
        let fix = format!(
            "add {column}_new {new} to {table}, write both from the application (or a trigger), backfill in batches, switch reads, and drop {column} in a later deploy"
        );
        match verdict {
            TypeChange::Free => None,
            TypeChange::Rewrite(why) => {
                let from = old.map(|o| format!(" from {o}")).unwrap_or_default();
                self.report(
                    fs,
                    statement,
                    &ALTER_COLUMN_TYPE,
                    table,
                    format!("ALTER COLUMN {column} TYPE {new}{from} rewrites {table} and rebuilds its indexes under ACCESS EXCLUSIVE ({why})"),
                    fix,
                );
                Some("a table rewrite")
            }
            TypeChange::Unknown => {
                let mut finding = ALTER_COLUMN_TYPE
                    .finding(format!(
                        "ALTER COLUMN {column} TYPE {new}: gonogo did not find {table}.{column}'s current type in the earlier migrations; unless it is a shorter varchar (or text to varchar), this rewrites {table} under ACCESS EXCLUSIVE"
                    ))
                    .at(Location::new(&fs.file.path, statement.line, statement.column))
                    .with_fix(fix);
                finding.severity = crate::report::Severity::Warn;
                if fs.file.in_deploy {
                    self.findings.push(finding);
                }
                None
            }
        }
    }

    fn add_constraint(
        &mut self,
        fs: &mut FileState,
        statement: &Statement,
        table: &str,
        constraint: &protobuf::Constraint,
        existing: bool,
        effect: &mut Effect,
    ) -> (LockMode, Option<&'static str>) {
        let name = if constraint.conname.is_empty() {
            format!("{table}_constraint")
        } else {
            constraint.conname.clone()
        };
        let key = (table.to_string(), constraint.conname.clone());
        match constraint.contype() {
            ConstrType::ConstrCheck => {
                let not_null_column = constraint
                    .raw_expr
                    .as_ref()
                    .and_then(|e| e.node.as_ref())
                    .and_then(is_not_null_test);
                if constraint.skip_validation {
                    fs.tx.not_valid.insert(key.clone());
                    if let Some(column) = not_null_column {
                        fs.pending_not_null_checks.insert(key, column);
                    }
                    return (LockMode::AccessExclusiveLock, None);
                }
                if let Some(column) = not_null_column {
                    fs.tx.validated_not_null.push((table.to_string(), column));
                }
                if existing {
                    let text = single_line(&statement.text);
                    self.report(
                        fs,
                        statement,
                        &ADD_CHECK_CONSTRAINT,
                        table,
                        format!("ADD CONSTRAINT {name} CHECK … checks every row of {table} while holding ACCESS EXCLUSIVE"),
                        format!("`{} NOT VALID;` then, in a later transaction, `ALTER TABLE {table} VALIDATE CONSTRAINT {name};`", text.trim_end_matches(';')),
                    );
                    return (LockMode::AccessExclusiveLock, Some("a table scan"));
                }
                (LockMode::AccessExclusiveLock, None)
            }
            ConstrType::ConstrForeign => {
                let referenced = table_of(&constraint.pktable);
                if constraint.skip_validation {
                    fs.tx.not_valid.insert(key);
                } else if existing {
                    let text = single_line(&statement.text);
                    self.report(
                        fs,
                        statement,
                        &ADD_FOREIGN_KEY,
                        table,
                        format!("ADD FOREIGN KEY {name} scans {table} while holding SHARE ROW EXCLUSIVE on {table} and {referenced}: writes to both wait for the whole scan"),
                        format!("`{} NOT VALID;` then, in a later transaction, `ALTER TABLE {table} VALIDATE CONSTRAINT {name};`", text.trim_end_matches(';')),
                    );
                    effect
                        .locks
                        .push((referenced, LockMode::ShareRowExclusiveLock));
                    return (LockMode::ShareRowExclusiveLock, Some("a table scan"));
                }
                effect
                    .locks
                    .push((referenced, LockMode::ShareRowExclusiveLock));
                (LockMode::ShareRowExclusiveLock, None)
            }
            ConstrType::ConstrUnique | ConstrType::ConstrPrimary | ConstrType::ConstrExclusion => {
                let using_index = !constraint.indexname.is_empty();
                if existing && !using_index {
                    let kind = match constraint.contype() {
                        ConstrType::ConstrUnique => "UNIQUE",
                        ConstrType::ConstrPrimary => "PRIMARY KEY",
                        _ => "EXCLUDE",
                    };
                    let columns = key_names(&constraint.keys);
                    let fix = if constraint.contype() == ConstrType::ConstrExclusion {
                        "an exclusion constraint cannot use an existing index: schedule it for a maintenance window or build it on a new table".to_string()
                    } else {
                        format!(
                            "`CREATE UNIQUE INDEX CONCURRENTLY {name} ON {table} ({columns});` in its own migration, then `ALTER TABLE {table} ADD CONSTRAINT {name} {kind} USING INDEX {name};`"
                        )
                    };
                    self.report(
                        fs,
                        statement,
                        &ADD_UNIQUE_CONSTRAINT,
                        table,
                        format!("ADD {kind} builds an index on {table} while ALTER TABLE holds ACCESS EXCLUSIVE: no reads or writes until the build ends"),
                        fix,
                    );
                    return (LockMode::AccessExclusiveLock, Some("an index build"));
                }
                (LockMode::AccessExclusiveLock, None)
            }
            ConstrType::ConstrNotnull => {
                if existing && !constraint.skip_validation {
                    let column = key_names(&constraint.keys);
                    self.report(
                        fs,
                        statement,
                        &SET_NOT_NULL,
                        table,
                        format!("ADD CONSTRAINT {name} NOT NULL {column} scans the whole of {table} under ACCESS EXCLUSIVE"),
                        format!("`ALTER TABLE {table} ADD CONSTRAINT {name} NOT NULL {column} NOT VALID;` then VALIDATE it in a later transaction"),
                    );
                    return (LockMode::AccessExclusiveLock, Some("a table scan"));
                }
                (LockMode::AccessExclusiveLock, None)
            }
            _ => (LockMode::AccessExclusiveLock, None),
        }
    }
}

enum TypeChange {
    Free,
    Rewrite(String),
    Unknown,
}

/// Whether changing a column from `old` to `new` rewrites the table. Binary-coercible changes that
/// PostgreSQL applies without a rewrite: varchar widening or unbounding, varchar → text,
/// text → unbounded varchar, numeric precision increase at the same scale or unbounding, cidr →
/// inet, timestamp precision increase.
fn type_change(old: Option<&ColumnType>, new: &ColumnType) -> TypeChange {
    let Some(old) = old else {
        return TypeChange::Unknown;
    };
    if old == new {
        return TypeChange::Free;
    }
    let widened = |old_mods: &[i64], new_mods: &[i64]| match (old_mods.first(), new_mods.first()) {
        (_, None) => true,
        (Some(o), Some(n)) => n >= o,
        (None, Some(_)) => false,
    };
    let free = match (old.name.as_str(), new.name.as_str()) {
        ("varchar", "varchar") => widened(&old.mods, &new.mods),
        ("varchar", "text") | ("bpchar", "bpchar") if new.name == "text" => true,
        ("text", "varchar") => new.mods.is_empty(),
        ("numeric", "numeric") => {
            new.mods.is_empty()
                || (old.mods.len() == new.mods.len()
                    && old.mods.get(1) == new.mods.get(1)
                    && widened(&old.mods, &new.mods))
                || (old.mods.len() == 1
                    && new.mods.len() == 2
                    && new.mods[1] == 0
                    && new.mods[0] >= old.mods[0])
        }
        ("cidr", "inet") => true,
        ("timestamp", "timestamp")
        | ("timestamptz", "timestamptz")
        | ("time", "time")
        | ("interval", "interval") => widened(&old.mods, &new.mods),
        ("varbit", "varbit") => widened(&old.mods, &new.mods),
        _ => false,
    };
    if free {
        TypeChange::Free
    } else {
        TypeChange::Rewrite(format!("{old} to {new} is not binary-coercible"))
    }
}

/// Type names are matched case-insensitively, like table and column names here.
fn column_type(type_name: &protobuf::TypeName) -> ColumnType {
    let mut ty = ColumnType::of(type_name);
    ty.name = ty.name.to_lowercase();
    ty
}

/// Functions whose default PostgreSQL computes per row (volatile), found anywhere in the expression.
fn volatile_function(expression: &NodeEnum) -> Option<String> {
    const VOLATILE: &[&str] = &[
        "gen_random_uuid",
        "uuid_generate_v1",
        "uuid_generate_v1mc",
        "uuid_generate_v4",
        "uuidv4",
        "uuidv7",
        "random",
        "random_normal",
        "clock_timestamp",
        "timeofday",
        "nextval",
        "txid_current",
        "gen_random_bytes",
    ];
    let mut found = None;
    visit_func_calls(expression, &mut |name| {
        if found.is_none() && VOLATILE.contains(&name) {
            found = Some(name.to_string());
        }
    });
    found
}

/// Call `f` with the (unqualified, lowercase) name of every function call in the expression.
fn visit_func_calls(node: &NodeEnum, f: &mut dyn FnMut(&str)) {
    // The protobuf tree has dozens of expression node kinds; its Debug form lists every nested
    // FuncCall with its name, which is all this needs.
    let text = format!("{node:?}");
    let mut rest = text.as_str();
    while let Some(index) = rest.find("FuncCall { funcname: [") {
        rest = &rest[index + "FuncCall { funcname: [".len()..];
        let end = rest.find(']').unwrap_or(rest.len());
        let names = &rest[..end];
        if let Some(last) = names.rsplit("sval: \"").next() {
            let name = last.split('"').next().unwrap_or("");
            f(&name.to_lowercase());
        }
    }
}

fn is_plpgsql(function: &protobuf::CreateFunctionStmt) -> bool {
    function.options.iter().any(|option| {
        matches!(option.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname == "language"
            && matches!(d.arg.as_ref().and_then(|a| a.node.as_ref()), Some(NodeEnum::String(s)) if s.sval.eq_ignore_ascii_case("plpgsql")))
    })
}

fn last_name(names: &[protobuf::Node]) -> String {
    parser::strings(names)
        .next_back()
        .unwrap_or_default()
        .to_lowercase()
}

fn is_null_constant(node: &NodeEnum) -> bool {
    match node {
        NodeEnum::AConst(c) => c.isnull,
        NodeEnum::TypeCast(cast) => cast
            .arg
            .as_ref()
            .and_then(|a| a.node.as_ref())
            .is_some_and(is_null_constant),
        _ => false,
    }
}

/// `column IS NOT NULL` → the column.
fn is_not_null_test(node: &NodeEnum) -> Option<String> {
    let NodeEnum::NullTest(test) = node else {
        return None;
    };
    if test.nulltesttype() != protobuf::NullTestType::IsNotNull {
        return None;
    }
    column_ref_name(test.arg.as_ref()?.node.as_ref()?)
}

fn column_ref_name(node: &NodeEnum) -> Option<String> {
    let NodeEnum::ColumnRef(column) = node else {
        return None;
    };
    parser::strings(&column.fields)
        .next_back()
        .map(str::to_lowercase)
}

/// `USING amount` or `USING amount::bigint`: no new values, just the conversion.
fn is_plain_cast_of(node: &NodeEnum, column: &str) -> bool {
    match node {
        NodeEnum::TypeCast(cast) => cast
            .arg
            .as_ref()
            .and_then(|a| a.node.as_ref())
            .is_some_and(|a| is_plain_cast_of(a, column)),
        other => column_ref_name(other).as_deref() == Some(column),
    }
}

fn setting_is_zero(args: &[protobuf::Node]) -> bool {
    match args.first().and_then(|a| a.node.as_ref()) {
        Some(NodeEnum::AConst(c)) => match &c.val {
            Some(Val::Ival(i)) => i.ival == 0,
            Some(Val::Sval(s)) => {
                s.sval.trim() == "0" || s.sval.trim().starts_with("0 ") || s.sval.trim() == "0s"
            }
            _ => false,
        },
        None => true, // SET lock_timeout TO DEFAULT
        _ => false,
    }
}

fn def_is_false(def: &protobuf::DefElem) -> bool {
    match def.arg.as_ref().and_then(|a| a.node.as_ref()) {
        Some(NodeEnum::Boolean(b)) => !b.boolval,
        Some(NodeEnum::String(s)) => matches!(s.sval.as_str(), "false" | "off" | "0"),
        Some(NodeEnum::Integer(i)) => i.ival == 0,
        _ => false,
    }
}

fn key_names(keys: &[protobuf::Node]) -> String {
    parser::strings(keys).collect::<Vec<_>>().join(", ")
}

fn table_of(relation: &Option<protobuf::RangeVar>) -> String {
    relation.as_ref().map(range_name).unwrap_or_default()
}

/// Tables are matched by name without schema: migrations rarely mix schemas, and a false
/// "new table" would hide a real finding less often than a schema mismatch would invent one.
fn range_name(range: &protobuf::RangeVar) -> String {
    range.relname.to_lowercase()
}

fn object_name(object: &protobuf::Node) -> String {
    match object.node.as_ref() {
        Some(NodeEnum::List(list)) => last_name(&list.items),
        Some(NodeEnum::String(s)) => s.sval.to_lowercase(),
        _ => String::new(),
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

fn blocks(lock: LockMode) -> &'static str {
    match lock {
        LockMode::AccessExclusiveLock => "it blocks reads and writes",
        LockMode::ShareLock | LockMode::ShareRowExclusiveLock | LockMode::ExclusiveLock => {
            "it blocks writes"
        }
        _ => "it blocks schema changes only",
    }
}

fn short_reason(rule: &str) -> &'static str {
    match rule {
        "pg-add-column-volatile-default"
        | "pg-add-column-serial"
        | "pg-add-column-generated-stored"
        | "pg-alter-column-type"
        | "pg-table-rewrite" => "rewrite",
        "pg-set-not-null"
        | "pg-add-check-constraint"
        | "pg-add-foreign-key"
        | "pg-validate-in-same-transaction" => "scan",
        "pg-add-index-not-concurrent"
        | "pg-add-unique-constraint"
        | "pg-reindex-not-concurrent" => "index build",
        "pg-unbatched-backfill" => "backfill",
        "pg-concurrently-in-transaction" => "fails in a transaction",
        _ => "breaking change",
    }
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    if line.chars().count() > 160 {
        format!("{}…", line.chars().take(159).collect::<String>())
    } else {
        line.to_string()
    }
}

/// `CREATE [UNIQUE] INDEX name …` → `CREATE [UNIQUE] INDEX CONCURRENTLY name …` (the user's own
/// statement, fixed).
fn single_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn add_concurrently(text: &str) -> String {
    let single_line = single_line(text);
    let upper = single_line.to_ascii_uppercase();
    match upper.find("INDEX ") {
        Some(i) => format!(
            "{}CONCURRENTLY {};",
            &single_line[..i + 6],
            &single_line[i + 6..]
        ),
        None => single_line,
    }
}

fn add_reindex_concurrently(text: &str) -> String {
    let single_line = single_line(text);
    let mut words: Vec<&str> = single_line.split(' ').collect();
    if words.len() >= 3 {
        words.insert(2, "CONCURRENTLY");
    }
    format!("{};", words.join(" "))
}
