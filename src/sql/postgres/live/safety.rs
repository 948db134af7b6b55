//! Running a migration's statements on a scratch database inside a transaction that is always
//! rolled back: which statements gonogo refuses to run there, and the session machinery both
//! live users share (the `migrations` trace of real locks, the `rollback` drill of ups and
//! downs).
//!
//! Safety rules (the migration under review is not trusted; the scratch database must still be
//! disposable):
//!
//! - Each statement is sent alone with the extended query protocol (Parse/Bind/Execute), never as
//!   a simple-protocol string: PostgreSQL refuses a Parse holding more than one command ("cannot
//!   insert multiple commands into a prepared statement"), so a statement gonogo split wrongly
//!   cannot smuggle a `COMMIT` in. Before a statement with a backslash, gonogo checks that the
//!   session's `standard_conforming_strings` and `backslash_quote` are what its parser assumed;
//!   where they differ, or where the parser could not follow them, the statement is not run.
//! - Transaction control (BEGIN, COMMIT, ROLLBACK, SAVEPOINT, PREPARE TRANSACTION) is never sent.
//! - Nothing that acts outside the transaction runs: `COPY` (files, programs, the client), dblink,
//!   replication slots and subscriptions, `nextval`/`setval`/`ALTER SEQUENCE` and `INSERT`/`MERGE`
//!   (sequence values are never rolled back), `pg_terminate_backend`/`pg_cancel_backend`, large
//!   objects (`lo_*`), server files and configuration (`ALTER SYSTEM`, `pg_reload_conf`, `LOAD`),
//!   `VACUUM`, `CREATE`/`DROP DATABASE`. They are looked for in the statement, in the statements
//!   of a `DO` block, and in the bodies of the functions and procedures the migrations define. A
//!   `DO` block that runs SQL built at run time is not run (gonogo cannot see what it runs);
//!   a routine defined with such a body, or in a language gonogo cannot read, stops the run at
//!   its definition, since any later statement could call it (directly, from a trigger, from a
//!   default).
//! - gonogo refuses a role that is a superuser or may become one (`SET ROLE`) unless the user
//!   opts in (`trace_as_superuser: true`): a superuser can act outside the transaction in ways no
//!   list covers (untrusted languages, `COPY … PROGRAM` through a function defined long ago).
//! - gonogo's catalog reads name `pg_catalog` objects and run with `search_path` pinned to
//!   `pg_catalog, pg_temp`, so a `CREATE TEMP VIEW pg_locks` in the migration cannot answer them.
//! - If anything fails or the deadline comes, the caller cancels the running statement (a cancel
//!   request) and closes the connection; PostgreSQL rolls back the open transaction of a closed
//!   session.
//! - One user of a scratch database at a time in a run ([`exclusive`]): the trace and the drill
//!   would otherwise wait for each other's ACCESS EXCLUSIVE locks until `lock_timeout`, and
//!   report the other's lock as the migration's failure.

use super::connect::describe;
use crate::sql::postgres::{self as parser, Lexing, Statement};
use pg_query::NodeEnum;
use std::time::{Duration, Instant};
use tokio_postgres::Client;

const IN_TRANSACTION_ONLY: &str =
    "cannot run inside a transaction, and gonogo only traces inside one that it rolls back";

/// Why a statement must not run inside gonogo's transaction, if it must not: it cannot run in
/// one, or it acts outside it. Looks through the whole parse tree (subqueries, CTEs, rule
/// actions, a routine's `BEGIN ATOMIC` body).
pub fn not_traceable(node: &NodeEnum) -> Option<String> {
    let concurrently = |params: &[pg_query::protobuf::Node]| {
        params.iter().any(|p| {
            matches!(p.node.as_ref(), Some(NodeEnum::DefElem(d)) if d.defname == "concurrently")
        })
    };
    let top = match node {
        NodeEnum::IndexStmt(stmt) if stmt.concurrent => {
            Some(format!("CREATE INDEX CONCURRENTLY {IN_TRANSACTION_ONLY}"))
        }
        NodeEnum::ReindexStmt(stmt) if concurrently(&stmt.params) => {
            Some(format!("REINDEX CONCURRENTLY {IN_TRANSACTION_ONLY}"))
        }
        NodeEnum::DropStmt(stmt) if stmt.concurrent => {
            Some(format!("DROP INDEX CONCURRENTLY {IN_TRANSACTION_ONLY}"))
        }
        NodeEnum::CopyStmt(stmt)
            if stmt.is_from && stmt.filename.is_empty() && !stmt.is_program =>
        {
            Some("COPY FROM STDIN needs data the migration runner sends".to_string())
        }
        _ => None,
    };
    if top.is_some() {
        return top;
    }
    let tree = serde_json::to_value(node).ok()?;
    let mut found = None;
    find_outside_effect(&tree, &mut found);
    found
}

/// Statement kinds that act outside the transaction (or cannot run in one), by their name in
/// the parse tree.
fn statement_effect(kind: &str, value: &serde_json::Value) -> Option<&'static str> {
    Some(match kind {
        "CopyStmt" => {
            if value.get("is_program").and_then(|v| v.as_bool()) == Some(true) {
                "COPY … PROGRAM runs a shell command on the database server"
            } else if value
                .get("filename")
                .and_then(|v| v.as_str())
                .is_some_and(|f| !f.is_empty())
            {
                "COPY to or from a file reads or writes files on the database server"
            } else {
                "COPY exchanges data with the migration runner, not the database"
            }
        }
        "VacuumStmt" => {
            "VACUUM and ANALYZE are not traced (VACUUM cannot run inside a transaction)"
        }
        "CreatedbStmt" | "DropdbStmt" => {
            "CREATE/DROP DATABASE acts outside the database and cannot run inside a transaction"
        }
        "AlterSystemStmt" => "ALTER SYSTEM writes the server's configuration file",
        "CreateTableSpaceStmt" | "DropTableSpaceStmt" => {
            "tablespaces are directories on the server and cannot be changed inside a transaction"
        }
        "CheckPointStmt" => "CHECKPOINT acts on the whole server",
        "DiscardStmt" => "DISCARD cannot run inside a transaction",
        "LoadStmt" => "LOAD loads a shared library into the server process",
        "CreateSubscriptionStmt" | "AlterSubscriptionStmt" | "DropSubscriptionStmt" => {
            "subscriptions create and drop replication slots on another server, which no rollback undoes"
        }
        "AlterSeqStmt" => {
            "it changes an existing sequence, and gonogo does not run what changes sequences (nextval and setval are never rolled back)"
        }
        "InsertStmt" | "MergeStmt" => {
            "INSERT can take values from sequences (serial and identity columns), and a rollback does not return them"
        }
        _ => return None,
    })
}

/// Functions that act outside the transaction, by name (lower case, schema ignored).
fn function_effect(name: &str) -> Option<&'static str> {
    let name = name.to_ascii_lowercase();
    Some(match name.as_str() {
        n if n.starts_with("dblink") => {
            "dblink runs SQL on another connection, which commits on its own"
        }
        n if n.starts_with("lo_") || n == "loread" || n == "lowrite" => {
            "large-object functions can read and write server files (lo_import, lo_export)"
        }
        "nextval" | "setval" => "sequence values are never rolled back (nextval, setval)",
        n if n.contains("replication_slot") || n.starts_with("pg_replication_origin") => {
            "replication slots and origins outlive a rollback"
        }
        "pg_terminate_backend" | "pg_cancel_backend" => "it signals other sessions",
        "pg_reload_conf"
        | "pg_rotate_logfile"
        | "pg_switch_wal"
        | "pg_promote"
        | "pg_create_restore_point"
        | "pg_backup_start"
        | "pg_backup_stop"
        | "pg_start_backup"
        | "pg_stop_backup"
        | "pg_logical_emit_message" => "it acts on the whole server",
        n if n.starts_with("pg_stat_reset") => "statistics resets are not rolled back",
        n if n.starts_with("pg_file_") || n.starts_with("pg_read_") || n.starts_with("pg_ls_") => {
            "it reads or writes files on the database server"
        }
        _ => return None,
    })
}

fn find_outside_effect(value: &serde_json::Value, found: &mut Option<String>) {
    if found.is_some() {
        return;
    }
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                if let Some(why) = statement_effect(key, child) {
                    *found = Some(why.to_string());
                    return;
                }
                if key == "FuncCall"
                    && let Some(name) = child
                        .get("funcname")
                        .and_then(|n| n.as_array())
                        .and_then(|names| names.last())
                        .and_then(|last| last.pointer("/node/String/sval"))
                        .and_then(|s| s.as_str())
                    && let Some(why) = function_effect(name)
                {
                    *found = Some(format!("it calls {name}(): {why}"));
                    return;
                }
                find_outside_effect(child, found);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                find_outside_effect(item, found);
            }
        }
        _ => {}
    }
}

/// One statement of the deploy, for the trace.
pub struct Candidate<'a> {
    pub text: &'a str,
    pub node: Option<&'a NodeEnum>,
    pub line: u32,
    /// How gonogo's parser read its backslashes.
    pub lexing: Lexing,
    /// What a `DO` block runs besides itself, read; `Err`: what gonogo could not read.
    pub inner: Result<Vec<NodeEnum>, String>,
    /// It defines a function or procedure gonogo must not let run: why (a whole clause, e.g.
    /// "f() calls dblink_exec(): …").
    pub defines_unsafe_routine: Option<String>,
}

/// Why gonogo does not run this statement, before looking at the server.
pub fn refusal(statement: &Candidate<'_>) -> Option<String> {
    let Some(node) = statement.node else {
        return Some(
            "gonogo could not parse it, so it cannot tell whether it is safe to run".to_string(),
        );
    };
    if let Some(why) = not_traceable(node) {
        return Some(why);
    }
    match &statement.inner {
        Ok(inner) => {
            for node in inner {
                if let Some(why) = not_traceable(node) {
                    return Some(format!("a statement in the DO block: {why}"));
                }
            }
        }
        Err(what) => {
            return Some(format!(
                "the DO block runs SQL gonogo cannot read ({}), so it cannot tell whether it is safe to run",
                first_line(what)
            ));
        }
    }
    None
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    let mut short: String = line.chars().take(80).collect();
    if short.len() < line.len() {
        short.push('…');
    }
    short
}

/// Whether the session reads backslashes in `'…'` literals differently from gonogo's parser
/// (the server's own default, or a change gonogo did not follow): why, if so.
pub async fn lexing_differs(client: &Client, assumed: Lexing) -> Result<Option<String>, String> {
    let row = pinned_query(
        client,
        "SELECT pg_catalog.current_setting('standard_conforming_strings'), pg_catalog.current_setting('backslash_quote')",
        &[],
    )
    .await
    .map_err(|e| format!("reading standard_conforming_strings during the trace failed: {e}"))?;
    let Some(row) = row.first() else {
        return Ok(None);
    };
    let conforming = row.get::<_, String>(0) == "on";
    let backslash_quote = row.get::<_, String>(1) != "off";
    let server = Lexing {
        standard_conforming_strings: conforming,
        backslash_quote,
    };
    Ok((server != assumed).then(|| {
        format!(
            "the session has standard_conforming_strings {} and backslash_quote {}, and gonogo read this statement's backslashes with {} and {}: PostgreSQL could read a different statement",
            on_off(server.standard_conforming_strings),
            on_off(server.backslash_quote),
            on_off(assumed.standard_conforming_strings),
            on_off(assumed.backslash_quote)
        )
    }))
}

fn on_off(value: bool) -> &'static str {
    if value { "on" } else { "off" }
}

/// A catalog query with `search_path` pinned to `pg_catalog, pg_temp` for its duration (a
/// migration's temporary objects come last, never before the catalog), then put back. gonogo's
/// own queries also name `pg_catalog` objects; the pin covers operators and types.
pub async fn pinned_query(
    client: &Client,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Vec<tokio_postgres::Row>, String> {
    let saved: String = client
        .query_one("SELECT pg_catalog.current_setting('search_path')", &[])
        .await
        .map_err(|e| describe(&e))?
        .get(0);
    client
        .execute(
            "SELECT pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true)",
            &[],
        )
        .await
        .map_err(|e| describe(&e))?;
    let rows = client.query(sql, params).await.map_err(|e| describe(&e));
    client
        .execute(
            "SELECT pg_catalog.set_config('search_path', $1, true)",
            &[&saved],
        )
        .await
        .map_err(|e| describe(&e))?;
    rows
}

/// What a `DO` block runs, read for the safety rules (other statements: nothing).
pub fn inner_sql(statement: &Statement) -> Result<Vec<NodeEnum>, String> {
    match statement.node.as_deref() {
        Ok(NodeEnum::DoStmt(_)) => parser::plpgsql_sql(&statement.text, statement.lexing),
        _ => Ok(Vec::new()),
    }
}

/// Why the function or procedure a statement defines must not be available to later
/// statements run in the transaction: its body acts outside the transaction, or gonogo cannot
/// read it.
pub fn routine_risk(statement: &Statement) -> Option<String> {
    let Ok(node @ NodeEnum::CreateFunctionStmt(function)) = statement.node.as_deref() else {
        return None;
    };
    let name = parser::strings(&function.funcname)
        .next_back()
        .unwrap_or("the routine")
        .to_string();
    // A `BEGIN ATOMIC` body is part of the parse tree.
    if let Some(why) = not_traceable(node) {
        return Some(format!("{name}() acts outside the transaction: {why}"));
    }
    let option = |wanted: &str| {
        function.options.iter().find_map(|o| match o.node.as_ref() {
            Some(NodeEnum::DefElem(d)) if d.defname == wanted => d.arg.as_deref(),
            _ => None,
        })
    };
    let language = match option("language").and_then(|a| a.node.as_ref()) {
        Some(NodeEnum::String(s)) => s.sval.to_ascii_lowercase(),
        _ => "sql".to_string(),
    };
    let body = match option("as").and_then(|a| a.node.as_ref()) {
        Some(NodeEnum::List(list)) => parser::strings(&list.items).next().map(str::to_string),
        _ => None,
    };
    match language.as_str() {
        "sql" => {
            let body = body?;
            match pg_query::parse(&body, statement.lexing.options()) {
                Ok(result) => result
                    .protobuf
                    .stmts
                    .into_iter()
                    .filter_map(|raw| raw.stmt.and_then(|n| n.node))
                    .find_map(|n| not_traceable(&n))
                    .map(|why| format!("{name}() acts outside the transaction: {why}")),
                Err(_) => Some(format!("{name}()'s SQL body does not parse")),
            }
        }
        "plpgsql" => match parser::plpgsql_sql(&statement.text, statement.lexing) {
            Ok(nodes) => nodes
                .iter()
                .find_map(not_traceable)
                .map(|why| format!("{name}() acts outside the transaction: {why}")),
            Err(why) => Some(format!("{name}() runs SQL gonogo cannot read: {why}")),
        },
        other => Some(format!(
            "{name}() is written in {other}, which gonogo cannot read"
        )),
    }
}

/// What the safety rules need of a parsed statement, read once: (what a `DO` block runs, why a
/// routine it defines is unsafe).
pub type Safety = (Result<Vec<NodeEnum>, String>, Option<String>);

pub fn safety(statement: &Statement) -> Safety {
    (inner_sql(statement), routine_risk(statement))
}

impl<'a> Candidate<'a> {
    /// A parsed statement with its safety facts.
    pub fn new(statement: &'a Statement, safety: &Safety) -> Candidate<'a> {
        Candidate {
            text: &statement.text,
            node: statement.node.as_deref().ok(),
            line: statement.line,
            lexing: statement.lexing,
            inner: safety.0.clone(),
            defines_unsafe_routine: safety.1.clone(),
        }
    }
}

/// What gonogo does with one statement in its rolled-back transaction.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Run,
    /// Transaction control: gonogo's own transaction replaces it.
    Skip,
    /// Not run, and why.
    Refuse(String),
}

/// The safety rules over a sequence of statements: a routine gonogo cannot vouch for stops
/// everything after its definition.
#[derive(Debug, Default)]
pub struct Gate {
    stopped: Option<String>,
}

impl Gate {
    /// Whether `statement` may run next (asks the session about backslashes when it has one).
    pub async fn judge(
        &mut self,
        client: &Client,
        statement: &Candidate<'_>,
    ) -> Result<Verdict, String> {
        if matches!(statement.node, Some(NodeEnum::TransactionStmt(_))) {
            return Ok(Verdict::Skip);
        }
        if let Some(why) = &self.stopped {
            return Ok(Verdict::Refuse(why.clone()));
        }
        if let Some(why) = &statement.defines_unsafe_routine {
            self.stopped = Some(format!(
                "line {} defines a routine gonogo does not run ({why}), and this statement could run it (directly, from a trigger or a default); gonogo stopped there",
                statement.line
            ));
            return Ok(Verdict::Refuse(format!(
                "{why}; gonogo stops here, since any later statement could run it (directly, from a trigger or a default)"
            )));
        }
        if let Some(why) = refusal(statement) {
            return Ok(Verdict::Refuse(why));
        }
        if statement.text.contains('\\')
            && let Some(why) = lexing_differs(client, statement.lexing).await?
        {
            return Ok(Verdict::Refuse(why));
        }
        Ok(Verdict::Run)
    }
}

/// Run one statement the gate let through; its duration, or PostgreSQL's refusal in words.
pub async fn execute(client: &Client, text: &str) -> Result<Duration, String> {
    let started = Instant::now();
    // Extended protocol: one Parse, so PostgreSQL refuses a text holding two commands.
    client.execute(text, &[]).await.map_err(|e| describe(&e))?;
    Ok(started.elapsed())
}

/// The time limits of gonogo's transaction, and whether a superuser role is accepted.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub statement_timeout: Duration,
    pub lock_timeout: Duration,
    /// `trace_as_superuser: true`: the user accepts running as a role that is (or may become)
    /// a superuser.
    pub as_superuser: bool,
}

/// Refuse a role that is a superuser or may SET ROLE to one (unless `limits.as_superuser`);
/// then set the timeouts and open the transaction. `what`: "trace", "run the rollback drill".
/// `statement_timeout` and `lock_timeout` apply to every statement (a migration's own SET
/// overrides them, as it would in production).
pub async fn begin(client: &Client, limits: Limits, what: &str) -> Result<(), String> {
    let fail = |doing: &str, e: tokio_postgres::Error| format!("{doing}: {}", describe(&e));
    if !limits.as_superuser {
        let row = client
            .query_one(
                "SELECT r.rolname::pg_catalog.text FROM pg_catalog.pg_roles r
                 WHERE r.rolsuper AND pg_catalog.pg_has_role(CURRENT_USER, r.oid, 'MEMBER')
                 ORDER BY r.rolname LIMIT 1",
                &[],
            )
            .await
            .map(|r| r.get::<_, String>(0));
        match row {
            Ok(superuser) => {
                return Err(format!(
                    "refusing to {what} as a superuser (the role is, or may SET ROLE to, {superuser}): a migration run as a superuser can act outside the rolled-back transaction (programs, files, other databases); connect as a role that owns the scratch schema and is not a superuser, or set checks.migrations.database.trace_as_superuser: true for a scratch server you can throw away"
                ));
            }
            Err(e) if e.as_db_error().is_some() => {
                return Err(fail("checking the scratch role's privileges failed", e));
            }
            // No row: not a superuser.
            Err(e) if e.to_string().contains("number of rows") => {}
            Err(e) => return Err(fail("checking the scratch role's privileges failed", e)),
        }
    }
    client
        .batch_execute(&format!(
            "SET statement_timeout = {}; SET lock_timeout = {}; BEGIN",
            limits.statement_timeout.as_millis().max(1),
            limits.lock_timeout.as_millis().max(1)
        ))
        .await
        .map_err(|e| fail(&format!("starting the {what} transaction failed"), e))
}

/// Roll gonogo's transaction back. Called also after an error (an aborted transaction accepts
/// ROLLBACK); if even that fails, the caller cancels and drops the connection, and the server
/// rolls back the transaction of a closed session.
pub async fn rollback(client: &Client) -> Result<(), String> {
    client
        .batch_execute("ROLLBACK")
        .await
        .map_err(|e| format!("rolling back failed: {}", describe(&e)))
}

/// Serialises the users of scratch databases within one run (see the module docs): held for
/// the whole transaction.
pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static SCRATCH: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    SCRATCH.lock().await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(sql: &str) -> NodeEnum {
        crate::sql::postgres::parse(sql)
            .remove(0)
            .node
            .map(std::sync::Arc::unwrap_or_clone)
            .expect("parses")
    }

    #[test]
    fn statements_that_cannot_run_in_a_transaction_are_not_traced() {
        assert!(not_traceable(&node("CREATE INDEX CONCURRENTLY i ON t (a)")).is_some());
        assert!(not_traceable(&node("REINDEX TABLE CONCURRENTLY t")).is_some());
        assert!(not_traceable(&node("DROP INDEX CONCURRENTLY i")).is_some());
        assert!(not_traceable(&node("VACUUM t")).is_some());
        assert!(not_traceable(&node("COPY t FROM STDIN")).is_some());
        assert!(not_traceable(&node("CREATE INDEX i ON t (a)")).is_none());
        assert!(not_traceable(&node("UPDATE t SET a = 1")).is_none());
        assert!(not_traceable(&node("ALTER TABLE t ADD COLUMN b int")).is_none());
    }

    #[test]
    fn statements_that_act_outside_the_transaction_are_not_traced() {
        for (sql, why) in [
            ("COPY t TO PROGRAM 'id'", "shell command"),
            ("COPY t FROM '/etc/passwd'", "files"),
            (
                "SELECT dblink_exec('dbname=x', 'CREATE TABLE y ()')",
                "dblink",
            ),
            (
                "SELECT * FROM pg_create_physical_replication_slot('s')",
                "replication",
            ),
            ("SELECT setval('t_id_seq', 100)", "sequence"),
            (
                "ALTER TABLE t ADD COLUMN n int DEFAULT nextval('s')",
                "sequence",
            ),
            ("ALTER SEQUENCE s RESTART 1", "sequence"),
            ("INSERT INTO t VALUES (1)", "sequences"),
            (
                "WITH x AS (SELECT pg_terminate_backend(42)) SELECT 1",
                "signals",
            ),
            ("SELECT lo_export(1, '/tmp/x')", "large-object"),
            ("CREATE DATABASE x", "DATABASE"),
            ("ALTER SYSTEM SET work_mem = '1GB'", "configuration"),
            ("VACUUM t", "VACUUM"),
            (
                "CREATE SUBSCRIPTION s CONNECTION 'x' PUBLICATION p",
                "replication slots",
            ),
            ("LOAD 'x'", "shared library"),
        ] {
            let reason = not_traceable(&node(sql)).unwrap_or_else(|| panic!("{sql}"));
            assert!(reason.contains(why), "{sql}: {reason}");
        }
    }
}
