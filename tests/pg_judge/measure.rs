//! PostgreSQL's side: run a migration statement by statement on a copy of the fixture database
//! and record what the server did, while the statement's transaction is still open.
//!
//! - locks: `pg_locks` of the migration's backend, read from a second session (a backend's own
//!   locks are only visible to others through pg_locks, and they are held until its transaction
//!   ends, so reading them before COMMIT shows every lock the statement took);
//! - rewrites: `pg_relation_filenode` before and after, read in the migration's own session (a
//!   rewrite gives the heap and its indexes new files; other sessions see the old catalog row
//!   until COMMIT);
//! - scans and row changes: `pg_stat_xact_user_tables`, which counts the current transaction's
//!   sequential scans and tuples changed per table;
//! - PostgreSQL's own DEBUG1 messages ("rewriting table", "verifying table", "existing
//!   constraints … sufficient to prove", "validating foreign key constraint"), with
//!   `client_min_messages = debug1`;
//! - whether a second session can still read (`SELECT … LIMIT 1`) and write (`DELETE … WHERE
//!   false`, which takes ROW EXCLUSIVE like any write) each table, with a short `lock_timeout`.

use super::claims::lock_mode;
use pg_query::LockMode;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use tokio_postgres::{AsyncMessage, Client, NoTls, SimpleQueryMessage};

/// SQLSTATE 25001 active_sql_transaction: "… cannot run inside a transaction block".
pub const IN_TRANSACTION_BLOCK: &str = "25001";
/// SQLSTATE 2D000 invalid_transaction_termination: a COMMIT inside a DO block run in a
/// transaction block; the runner runs the block alone (autocommit), so does the judge.
pub const INVALID_TRANSACTION_TERMINATION: &str = "2D000";
/// SQLSTATE 55P03 lock_not_available: the probe's lock_timeout expired.
const LOCK_NOT_AVAILABLE: &str = "55P03";
/// SQLSTATE 42P01 undefined_table: dropped or renamed by an earlier, committed statement.
const UNDEFINED_TABLE: &str = "42P01";

/// A session and the notices (DEBUG1 … WARNING) the server sent it.
pub struct Session {
    pub client: Client,
    notices: Arc<Mutex<Vec<String>>>,
}

impl Session {
    pub async fn connect(url: &str) -> Session {
        let (client, mut connection) = tokio_postgres::connect(url, NoTls)
            .await
            .unwrap_or_else(|e| panic!("connect to the judge's cluster: {e}"));
        let notices = Arc::new(Mutex::new(Vec::new()));
        let sink = notices.clone();
        tokio::spawn(async move {
            // Notices arrive on the connection before the response of the query that raised
            // them, so they are all here once that query returns.
            while let Some(message) = std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                match message {
                    Ok(AsyncMessage::Notice(notice)) => {
                        sink.lock().unwrap().push(notice.message().to_string())
                    }
                    Ok(_) => {}
                    Err(_) => break,
                }
            }
        });
        Session { client, notices }
    }

    /// Run SQL (simple query protocol, as a migration runner sends it); the error's SQLSTATE
    /// and message.
    pub async fn run(&self, sql: &str) -> Result<(), (String, String)> {
        self.client
            .batch_execute(sql)
            .await
            .map_err(|e| match e.as_db_error() {
                Some(db) => (db.code().code().to_string(), db.message().to_string()),
                None => ("connection".to_string(), e.to_string()),
            })
    }

    pub async fn must(&self, sql: &str) {
        if let Err((code, message)) = self.run(sql).await {
            panic!("`{sql}` failed on the judge's cluster: {code} {message}");
        }
    }

    /// Rows of a simple query, each as its text columns.
    pub async fn rows(&self, sql: &str) -> Vec<Vec<String>> {
        let messages = self
            .client
            .simple_query(sql)
            .await
            .unwrap_or_else(|e| panic!("`{sql}`: {e}"));
        messages
            .into_iter()
            .filter_map(|m| match m {
                SimpleQueryMessage::Row(row) => Some(
                    (0..row.len())
                        .map(|i| row.get(i).unwrap_or("").to_string())
                        .collect(),
                ),
                _ => None,
            })
            .collect()
    }

    pub fn take_notices(&self) -> Vec<String> {
        std::mem::take(&mut *self.notices.lock().unwrap())
    }
}

/// The relations of the fixture database before the migration: tables, partitioned tables and
/// materialized views (name → relkind), and indexes (name → their table).
#[derive(Debug, Default, Clone)]
pub struct Relations {
    pub tables: BTreeMap<String, char>,
    pub indexes: BTreeMap<String, String>,
}

impl Relations {
    pub async fn read(session: &Session) -> Relations {
        let mut relations = Relations::default();
        for row in session
            .rows(
                "SELECT c.relname, c.relkind, coalesce(t.relname, '') FROM pg_class c \
                 LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = i.indrelid \
                 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'm', 'i', 'I')",
            )
            .await
        {
            let kind = row[1].chars().next().unwrap();
            if kind == 'i' || kind == 'I' {
                relations.indexes.insert(row[0].clone(), row[2].clone());
            } else {
                relations.tables.insert(row[0].clone(), kind);
            }
        }
        relations
    }
}

/// What the migration's session sees of its relations' files and statistics.
#[derive(Debug, Default)]
struct State {
    /// relation → (filenode, size in bytes, its table for an index)
    files: BTreeMap<String, (String, i64, String)>,
    /// table → (seq_scan, idx_scan, rows inserted + updated + deleted)
    stats: BTreeMap<String, (i64, i64, i64)>,
}

impl State {
    async fn read(session: &Session) -> State {
        let mut state = State::default();
        for row in session
            .rows(
                "SELECT c.relname, coalesce(pg_relation_filenode(c.oid)::text, ''), pg_relation_size(c.oid), \
                 coalesce(t.relname, '') FROM pg_class c \
                 LEFT JOIN pg_index i ON i.indexrelid = c.oid LEFT JOIN pg_class t ON t.oid = i.indrelid \
                 WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'm', 'i')",
            )
            .await
        {
            state.files.insert(
                row[0].clone(),
                (row[1].clone(), row[2].parse().unwrap(), row[3].clone()),
            );
        }
        for row in session
            .rows(
                "SELECT relname, seq_scan, coalesce(idx_scan, 0), n_tup_ins + n_tup_upd + n_tup_del \
                 FROM pg_stat_xact_user_tables \
                 WHERE schemaname = 'public'",
            )
            .await
        {
            let number = |i: usize| row[i].parse::<i64>().unwrap();
            state
                .stats
                .insert(row[0].clone(), (number(1), number(2), number(3)));
        }
        state
    }
}

/// What PostgreSQL did with one top-level statement.
#[derive(Debug, Default)]
pub struct Measured {
    /// SQLSTATE and message when PostgreSQL refused it.
    pub error: Option<(String, String)>,
    /// It ran inside a transaction the harness could look into before it ended. A statement
    /// PostgreSQL refuses in a transaction block (VACUUM, CONCURRENTLY) ran on its own: its locks,
    /// scans and probes are not observed, only its outcome and its files.
    pub observed: bool,
    /// Strong locks (SHARE and stronger) held on the database's tables after the statement.
    pub locks_after: BTreeMap<String, LockMode>,
    /// Tables whose heap got a new, non-empty file (a rewrite; a materialized view's refresh).
    pub rewritten: BTreeSet<String>,
    /// Tables whose heap got a new, empty file (TRUNCATE).
    pub emptied: BTreeSet<String>,
    /// Tables with an index built or rebuilt (a new index, or a new file for an old one).
    pub indexed: BTreeSet<String>,
    /// Tables read from end to end: a sequential scan, or "verifying table".
    pub scanned: BTreeSet<String>,
    /// Tables read through an index.
    pub index_scanned: BTreeSet<String>,
    /// Tables with rows inserted, updated or deleted.
    pub rows_changed: BTreeSet<String>,
    /// A foreign key was validated ("validating foreign key constraint").
    pub foreign_key_validated: bool,
    /// "existing constraints … are sufficient to prove": a scan PostgreSQL skipped.
    pub proven_without_scan: bool,
    /// PostgreSQL's DEBUG1 messages about the work.
    pub messages: Vec<String>,
    /// Tables a second session could not read / write (lock_timeout expired).
    pub reads_blocked: BTreeSet<String>,
    pub writes_blocked: BTreeSet<String>,
}

/// The two sessions of one run: the migration's, and the observer that reads its locks and
/// tries to read and write past them.
pub struct Judge<'a> {
    pub migration: Session,
    pub observer: Session,
    pub pid: String,
    pub before: &'a Relations,
}

impl<'a> Judge<'a> {
    pub async fn open(url: &str, before: &'a Relations) -> Judge<'a> {
        let migration = Session::connect(url).await;
        migration.must("SET client_min_messages = debug1").await;
        let pid = migration.rows("SELECT pg_backend_pid()").await[0][0].clone();
        let observer = Session::connect(url).await;
        observer.must("SET lock_timeout = '100ms'").await;
        Judge {
            migration,
            observer,
            pid,
            before,
        }
    }

    /// Run `sql` in the migration's current transaction (a savepoint keeps the transaction
    /// usable when PostgreSQL refuses it) and measure it before the transaction ends.
    pub async fn in_transaction(&self, sql: &str, probe: &BTreeSet<String>) -> Measured {
        self.migration.must("SAVEPOINT judge").await;
        let before = State::read(&self.migration).await;
        self.migration.take_notices();
        let outcome = self.migration.run(sql).await;
        let notices = self.migration.take_notices();
        if outcome.is_err() {
            self.migration.must("ROLLBACK TO SAVEPOINT judge").await;
        }
        let mut measured = self.measure(&before, notices, true, probe).await;
        measured.error = outcome.err();
        self.migration.must("RELEASE SAVEPOINT judge").await;
        measured
    }

    /// Run `sql` the way a statement-per-transaction runner does: in its own transaction, kept
    /// open to be measured, then committed; on its own when PostgreSQL refuses it in a
    /// transaction block.
    pub async fn own_transaction(&self, sql: &str, probe: &BTreeSet<String>) -> Measured {
        self.migration.must("BEGIN").await;
        let before = State::read(&self.migration).await;
        self.migration.take_notices();
        let outcome = self.migration.run(sql).await;
        let notices = self.migration.take_notices();
        match outcome {
            Err((code, _))
                if code == IN_TRANSACTION_BLOCK || code == INVALID_TRANSACTION_TERMINATION =>
            {
                self.migration.must("ROLLBACK").await;
                let before = State::read(&self.migration).await;
                self.migration.take_notices();
                let outcome = self.migration.run(sql).await;
                let notices = self.migration.take_notices();
                let mut measured = self.measure(&before, notices, false, probe).await;
                measured.error = outcome.err();
                measured
            }
            Err(error) => {
                self.migration.must("ROLLBACK").await;
                let mut measured = self.measure(&before, notices, false, probe).await;
                measured.error = Some(error);
                measured
            }
            Ok(()) => {
                let measured = self.measure(&before, notices, true, probe).await;
                self.migration.must("COMMIT").await;
                measured
            }
        }
    }

    async fn measure(
        &self,
        before: &State,
        notices: Vec<String>,
        observed: bool,
        probe: &BTreeSet<String>,
    ) -> Measured {
        let after = State::read(&self.migration).await;
        let mut measured = Measured {
            observed,
            ..Measured::default()
        };
        let is_table = |name: &str| self.before.tables.contains_key(name);
        for (name, (node, size, table)) in &after.files {
            let old = before.files.get(name);
            let changed = old.is_none_or(|(old_node, _, _)| old_node != node);
            // A file that was there under another name is a rename, not a build: ADD
            // CONSTRAINT … USING INDEX renames the index to the constraint's name.
            let renamed = old.is_none() && before.files.values().any(|(n, _, _)| n == node);
            if !changed || renamed {
                continue;
            }
            if self.before.tables.contains_key(name) {
                if *size > 0 {
                    measured.rewritten.insert(name.clone());
                } else {
                    measured.emptied.insert(name.clone());
                }
            } else if is_table(table) {
                measured.indexed.insert(table.clone());
            }
        }
        // An index's new file is part of a rewrite or a truncation of its table, not a build.
        let swapped: BTreeSet<String> = measured
            .rewritten
            .union(&measured.emptied)
            .cloned()
            .collect();
        measured.indexed.retain(|t| !swapped.contains(t));
        if observed {
            for (table, (scans, index_scans, rows)) in &after.stats {
                let (old_scans, old_index_scans, old_rows) =
                    before.stats.get(table).copied().unwrap_or((0, 0, 0));
                // TRUNCATE swaps in an empty file: whatever it counted is not work on rows.
                if !is_table(table) || measured.emptied.contains(table) {
                    continue;
                }
                if scans > &old_scans {
                    measured.scanned.insert(table.clone());
                }
                if index_scans > &old_index_scans {
                    measured.index_scanned.insert(table.clone());
                }
                if rows > &old_rows {
                    measured.rows_changed.insert(table.clone());
                }
            }
        }
        for notice in notices {
            let quoted = notice.split('"').nth(1).unwrap_or("").to_string();
            if notice.starts_with("verifying table") && is_table(&quoted) {
                measured.scanned.insert(quoted);
            } else if notice.starts_with("validating foreign key constraint") {
                measured.foreign_key_validated = true;
            } else if notice.contains("sufficient to prove") || notice.contains("is implied by") {
                measured.proven_without_scan = true;
            } else if !(notice.starts_with("rewriting table")
                || notice.starts_with("building index"))
            {
                continue;
            }
            measured.messages.push(notice);
        }
        if observed {
            for row in self
                .observer
                .rows(&format!(
                    "SELECT c.relname, l.mode FROM pg_locks l JOIN pg_class c ON c.oid = l.relation \
                     WHERE l.pid = {} AND l.locktype = 'relation' AND l.granted \
                     AND c.relnamespace = 'public'::regnamespace",
                    self.pid
                ))
                .await
            {
                let mode = lock_mode(&row[1]);
                // Nobody writes to a materialized view: on one, only ACCESS EXCLUSIVE (which
                // blocks reads) matters; REFRESH … CONCURRENTLY's EXCLUSIVE blocks other refreshes.
                let strong = match self.before.tables.get(&row[0]) {
                    Some('m') => LockMode::AccessExclusiveLock,
                    Some(_) => LockMode::ShareLock,
                    None => continue,
                };
                if mode >= strong {
                    let entry = measured.locks_after.entry(row[0].clone()).or_insert(mode);
                    *entry = (*entry).max(mode);
                }
            }
            let tables: BTreeSet<String> = probe
                .iter()
                .chain(measured.locks_after.keys())
                .cloned()
                .collect();
            for table in tables {
                self.probe(&table, &mut measured).await;
            }
        }
        measured
    }

    /// Whether the observer can read and write `table` now (each try gives up after its
    /// lock_timeout).
    async fn probe(&self, table: &str, measured: &mut Measured) {
        let Some(&kind) = self.before.tables.get(table) else {
            return;
        };
        if let Err((code, message)) = self
            .observer
            .run(&format!("SELECT 1 FROM public.{table} LIMIT 1"))
            .await
        {
            if code == UNDEFINED_TABLE {
                return;
            }
            assert_eq!(code, LOCK_NOT_AVAILABLE, "probe read {table}: {message}");
            measured.reads_blocked.insert(table.to_string());
        }
        // A materialized view takes no writes at all.
        if kind != 'm' {
            let write = self
                .observer
                .run(&format!(
                    "BEGIN; DELETE FROM public.{table} WHERE false; ROLLBACK"
                ))
                .await;
            if let Err((code, message)) = write {
                self.observer.must("ROLLBACK").await;
                assert_eq!(code, LOCK_NOT_AVAILABLE, "probe write {table}: {message}");
                measured.writes_blocked.insert(table.to_string());
            }
        }
    }
}
