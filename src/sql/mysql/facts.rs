//! MySQL migrations as facts: every file is followed statement by statement over one schema
//! model ([`Schema`]), and each statement becomes a [`Statement`]: the breaking schema changes it
//! makes, the DDL it runs on an existing table without `lock_wait_timeout`, how MySQL runs it
//! ([`Judged`]), or why gonogo could not read it. Rules read these facts; they never parse.
//!
//! Files outside this deploy are followed too (the schema must be known); their facts are
//! produced like any other and the caller decides what to report.

use super::alter::{AlterWalk, Before, classify};
use super::cost::{Cost, Judged, Level, Op, Relations, Shape, drop_primary_key};
use super::parse::{
    Clause, MAX_NESTING, PARSER_STACK_BYTES, algorithm_lock, name_list, nesting_depth, read,
    text_clause, word,
};
use super::schema::{Schema, TableRef};
use super::{Piece, Pos, alter_clauses, is_word, object_name, pos_of, render, significant, split};
use crate::sql::changes::SchemaChange;
use sqlparser::ast::{
    AlterTableAlgorithm, AlterTableLock, AlterTableOperation, Expr, ObjectName, ObjectType, Set,
    Statement as Parsed, TableConstraint,
};
use sqlparser::tokenizer::TokenWithSpan;

/// One piece of a migration file.
pub enum Event {
    Statement(Box<Statement>),
    /// `DELIMITER x` … `DELIMITER ;` (stored programs), skipped; `end_line: None` when it runs to
    /// the end of the file.
    DelimiterBlock {
        start: Pos,
        end_line: Option<u32>,
    },
    /// The tokenizer gave up here; nothing after it was read.
    TokenizerError {
        pos: Pos,
        message: String,
    },
}

/// What kind of statement, as far as the order of its facts goes: an ALTER TABLE changes the
/// schema clause by clause before it is run as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Alter,
    Other,
}

/// The facts of one statement.
pub struct Statement {
    /// Where it starts.
    pub pos: Pos,
    pub kind: Kind,
    /// Schema changes the old version of the code, still running during the rollout, breaks on
    /// (only on tables that existed before this file), in statement order.
    pub changes: Vec<Change>,
    /// The first DDL on an existing table in this file with no `lock_wait_timeout` set in the
    /// session before it (only that one statement of a file has it).
    pub unguarded_ddl: Option<Ddl>,
    /// gonogo could not read (part of) the statement.
    pub unparsed: Option<Unparsed>,
    /// Existing tables an `OPTIMIZE TABLE` rebuilds, with the foreign keys around each.
    pub optimized: Vec<(TableRef, Relations)>,
    /// How MySQL runs the ALTER TABLE / CREATE INDEX / DROP INDEX on an existing table.
    pub judged: Option<Judged>,
    /// The same on a table created in this file, only when `LOCK=NONE` is written and the table
    /// has a cascading foreign key: no lock blocks anyone on a new table, but MySQL refuses
    /// LOCK=NONE there all the same (see [`Judged::lock_none_refused`]).
    pub lock_none_on_new_table: Option<Judged>,
    /// The schema changes code of the previous release can notice, on every table (new ones
    /// marked), each at its ALTER clause: what the database side of `compat` judges.
    pub schema_changes: Vec<SchemaChange>,
}

/// DDL on an existing table: it needs an exclusive metadata lock.
pub struct Ddl {
    /// `ALTER TABLE`, `DROP TABLE`, `CREATE INDEX`, …
    pub verb: &'static str,
    pub table: TableRef,
}

pub struct Unparsed {
    /// Why, in gonogo's or sqlparser's words.
    pub reason: String,
    /// The statement as one line of SQL, comments dropped.
    pub sql: String,
}

/// A change to an existing table that breaks the version of the code still running.
pub enum Change {
    /// ADD COLUMN … NOT NULL with no DEFAULT, not AUTO_INCREMENT, not generated.
    AddColumnNotNull {
        table: TableRef,
        /// The column's name as written, without quotes.
        column: String,
        /// The name as written, with quotes, for fixes.
        column_sql: String,
        /// Its type as SQL.
        ty: String,
    },
    DropColumn {
        table: TableRef,
        column: String,
    },
    RenameColumn {
        table: TableRef,
        old: String,
        new: String,
    },
    RenameTable {
        old: TableRef,
        new: TableRef,
    },
    DropTable {
        table: TableRef,
    },
}

/// The session variables of the migration's connection that matter, as set in this file.
struct Session {
    lock_wait_timeout: bool,
    /// A DDL on an existing table was already seen in this file.
    ddl_seen: bool,
    foreign_key_checks: bool,
}

/// `ALGORITHM=…` and `LOCK=…` as written.
#[derive(Debug, Clone, Copy, Default)]
struct Options {
    algorithm: Option<AlterTableAlgorithm>,
    lock: Option<AlterTableLock>,
}

/// A one-operation ALTER in another syntax (CREATE INDEX, DROP INDEX).
struct IndexStatement {
    table: TableRef,
    op: Op,
    options: Options,
    shape: Shape,
    verb: &'static str,
}

/// Run `work` on a thread whose stack holds sqlparser's deepest recursion for statements nested
/// up to [`MAX_NESTING`] levels.
///
/// sqlparser is a recursive-descent parser: each nesting level is a few stack frames, large ones
/// in a debug build (18 parenthesised table references overflowed a 2 MiB tokio worker stack,
/// which aborts the whole process: a stack overflow is not a panic the runner can catch).
/// Statements nested deeper than MAX_NESTING are refused before parsing; the parse itself runs
/// on a thread whose stack holds that depth with room to spare. Only the pages touched are
/// committed, so the large reservation costs no memory.
pub fn with_parser_stack<R: Send>(work: impl FnOnce() -> R + Send) -> R {
    // The work is taken from a slot, so the same closure can run here when no thread is to be
    // had (a resource limit), still bounded by MAX_NESTING.
    let slot = std::sync::Mutex::new(Some(work));
    let run = || {
        let work = slot.lock().map(|mut w| w.take()).unwrap_or_default();
        work.map(|w| w())
    };
    let result = std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .name("mysql-migrations".to_string())
            .stack_size(PARSER_STACK_BYTES)
            .spawn_scoped(scope, run)
        {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            Err(_) => run(),
        }
    });
    match result {
        Some(result) => result,
        // Unreachable: the work runs exactly once, on the thread or here.
        None => unreachable!("the parser work ran neither on its thread nor here"),
    }
}

/// Follows migration files in order over one schema model.
#[derive(Default)]
pub struct Walker {
    schema: Schema,
}

impl Walker {
    /// A walker that knows which files are this deploy's (`deploy_is_known`: a base selected
    /// them), so a table an earlier file of the deploy created counts as new in the schema
    /// changes (see [`Statement::schema_changes`]).
    pub fn for_deploy(deploy_is_known: bool) -> Walker {
        Walker {
            schema: Schema::for_deploy(deploy_is_known),
        }
    }

    /// Follow one file of this deploy (`in_deploy`) or an older one, as [`Walker::file`].
    pub fn deploy_file(&mut self, text: &str, in_deploy: bool, visit: &mut dyn FnMut(Event)) {
        self.schema.file_in_deploy(in_deploy);
        self.file(text, visit);
    }

    /// Follow one file, handing each piece's facts to `visit` in order.
    pub fn file(&mut self, text: &str, visit: &mut dyn FnMut(Event)) {
        self.schema.begin_file();
        let mut walk = FileWalk {
            schema: &mut self.schema,
            session: Session {
                lock_wait_timeout: false,
                ddl_seen: false,
                foreign_key_checks: true,
            },
        };
        split(text, &mut |piece| match piece {
            Piece::Statement(tokens) => {
                if let Some(statement) = walk.statement(tokens) {
                    visit(Event::Statement(Box::new(statement)));
                }
            }
            Piece::DelimiterBlock { start, end_line } => {
                visit(Event::DelimiterBlock { start, end_line })
            }
            Piece::TokenizerError { pos, message } => visit(Event::TokenizerError { pos, message }),
        });
    }
}

struct FileWalk<'s> {
    schema: &'s mut Schema,
    session: Session,
}

impl Statement {
    fn new(pos: Pos) -> Statement {
        Statement {
            pos,
            kind: Kind::Other,
            changes: Vec::new(),
            unguarded_ddl: None,
            unparsed: None,
            optimized: Vec::new(),
            judged: None,
            lock_none_on_new_table: None,
            schema_changes: Vec::new(),
        }
    }

    fn unparsed(&mut self, tokens: &[TokenWithSpan], reason: &str) {
        self.unparsed = Some(Unparsed {
            reason: reason.to_string(),
            sql: render(tokens),
        });
    }
}

impl FileWalk<'_> {
    fn statement(&mut self, tokens: Vec<TokenWithSpan>) -> Option<Statement> {
        let first = tokens.iter().find(|t| significant(t))?;
        let mut st = Statement::new(pos_of(first));
        let significant_count = tokens.iter().filter(|t| significant(t)).count();
        if significant_count == 1 && is_word(&first.token, "DELIMITER") {
            return None; // `DELIMITER ;`: back to the default, nothing to analyse.
        }
        let depth = nesting_depth(&tokens);
        if depth > MAX_NESTING {
            let reason = format!(
                "parentheses nest {depth} levels deep; gonogo parses statements nested up to {MAX_NESTING} levels (deeper ones are generated, not hand-written DDL)"
            );
            st.unparsed(&tokens, &reason);
            return Some(st);
        }
        let read = read(tokens.clone());
        // Read before the statement changes the schema: they compare with what was there.
        let whole = match &read {
            Ok((statement, rest)) if rest.is_empty() => Some(statement),
            _ => None,
        };
        st.schema_changes = super::changes::of(self.schema, &tokens, whole);
        match read {
            Ok((statement, rest)) if rest.is_empty() => self.parsed(&mut st, &tokens, statement),
            Ok((
                Parsed::Drop {
                    object_type: ObjectType::Index,
                    names,
                    table,
                    ..
                },
                rest,
            )) if algorithm_lock(&rest).is_some() => {
                let (algorithm, lock) = algorithm_lock(&rest).unwrap_or_default();
                let options = Options { algorithm, lock };
                self.drop_index(&mut st, &tokens, &names, table.as_ref(), options);
            }
            Ok((_, rest)) => {
                let message = format!(
                    "unexpected `{}` at line {}, column {}",
                    rest[0].token, rest[0].span.start.line, rest[0].span.start.column
                );
                self.fallback(&mut st, &tokens, message);
            }
            Err(message) => self.fallback(&mut st, &tokens, message),
        }
        Some(st)
    }

    fn parsed(&mut self, st: &mut Statement, tokens: &[TokenWithSpan], statement: Parsed) {
        match statement {
            Parsed::CreateTable(create) => self.schema.create_table(&create),
            Parsed::AlterTable(alter) => {
                let clauses = alter
                    .operations
                    .into_iter()
                    .map(|op| Clause::Op(Box::new(op)))
                    .collect();
                self.alter(st, tokens, &alter.name, clauses);
            }
            Parsed::CreateIndex(mut index) => {
                let algorithm = index.alter_options.iter().find_map(|o| match o {
                    AlterTableOperation::Algorithm { algorithm, .. } => Some(*algorithm),
                    _ => None,
                });
                let lock = index.alter_options.iter().find_map(|o| match o {
                    AlterTableOperation::Lock { lock, .. } => Some(*lock),
                    _ => None,
                });
                // The fix is the user's own statement with the options added (sqlparser's rendering
                // when options must be replaced).
                let sql = if index.alter_options.is_empty() {
                    render(tokens)
                } else {
                    index.alter_options.clear();
                    index.to_string()
                };
                let table = TableRef::new(&index.table_name);
                let name = index
                    .name
                    .as_ref()
                    .map(|n| n.to_string())
                    .unwrap_or_default();
                let verb = if index.unique {
                    "CREATE UNIQUE INDEX"
                } else {
                    "CREATE INDEX"
                };
                let op = Op::new(
                    sql.clone(),
                    format!("{verb} {name}").trim_end().to_string(),
                    Cost::inplace(),
                );
                let index = IndexStatement {
                    table,
                    op,
                    options: Options { algorithm, lock },
                    shape: Shape::Index(sql),
                    verb,
                };
                self.index_statement(st, index);
            }
            Parsed::Drop {
                object_type,
                names,
                table,
                temporary,
                ..
            } => match object_type {
                ObjectType::Table => self.drop_tables(st, &names, temporary),
                ObjectType::Index => {
                    self.drop_index(st, tokens, &names, table.as_ref(), Options::default())
                }
                _ => {}
            },
            Parsed::RenameTable(renames) => {
                for rename in renames {
                    self.rename_table(st, &rename.old_name, &rename.new_name);
                }
            }
            Parsed::Set(set) => self.set(&set),
            Parsed::Truncate(truncate) => {
                for target in &truncate.table_names {
                    let table = TableRef::new(&target.name);
                    if self.schema.existing(&table.key) {
                        self.ddl(st, &table, "TRUNCATE TABLE");
                    }
                }
            }
            _ => {}
        }
    }

    /// Statements sqlparser cannot parse but gonogo recognises from their tokens.
    fn fallback(&mut self, st: &mut Statement, tokens: &[TokenWithSpan], message: String) {
        let sig: Vec<&TokenWithSpan> = tokens.iter().filter(|t| significant(t)).collect();
        let word_at = |i: usize| sig.get(i).and_then(|t| word(&t.token));
        match word_at(0).as_deref() {
            Some("ALTER") if self.alter_fallback(st, tokens) => return,
            Some("OPTIMIZE") => {
                let mut i = 1;
                while matches!(word_at(i).as_deref(), Some("NO_WRITE_TO_BINLOG" | "LOCAL")) {
                    i += 1;
                }
                if matches!(word_at(i).as_deref(), Some("TABLE" | "TABLES")) {
                    let names = name_list(&sig[i + 1..]);
                    if !names.is_empty() {
                        for name in names {
                            self.optimize(st, &name);
                        }
                        return;
                    }
                }
            }
            Some("CREATE")
                if matches!(word_at(1).as_deref(), Some("FULLTEXT" | "SPATIAL"))
                    && word_at(2).as_deref() == Some("INDEX") =>
            {
                let on = sig.iter().position(|t| is_word(&t.token, "ON"));
                if let Some(table) =
                    on.and_then(|i| object_name(&sig[i + 1..]).map(|(name, _)| name))
                {
                    let table = TableRef::new(&table);
                    let kind = word_at(1).unwrap_or_default();
                    let index = sig
                        .get(3)
                        .map(|t| t.token.to_string())
                        .filter(|_| on != Some(3))
                        .unwrap_or_default();
                    let mut op = Op::new(
                        render(tokens),
                        format!("CREATE {kind} INDEX {index}")
                            .trim_end()
                            .to_string(),
                        Cost::inplace(),
                    );
                    op.fulltext = true;
                    let key = table.key.clone();
                    let index = IndexStatement {
                        table,
                        op,
                        options: Options::default(),
                        shape: Shape::Index(render(tokens)),
                        verb: "CREATE INDEX",
                    };
                    self.index_statement(st, index);
                    if kind == "FULLTEXT" {
                        self.schema.table_mut(&key).fulltext = true;
                    }
                    return;
                }
            }
            _ => {}
        }
        st.unparsed(tokens, &message);
    }

    /// `LOCK=NONE` written on a table with a cascading foreign key (before the statement).
    fn lock_none_refused_on_new(&self, key: &str, lock: Option<AlterTableLock>) -> bool {
        lock == Some(AlterTableLock::None) && self.schema.cascading_foreign_key(key).is_some()
    }

    /// The foreign keys around the table `key` now.
    fn relations(&self, key: &str) -> Relations {
        Relations {
            cascading: self.schema.cascading_foreign_key(key).cloned(),
            child: self
                .schema
                .table(key)
                .is_some_and(|t| !t.foreign_keys.is_empty()),
            children: self.schema.children_of(key),
        }
    }

    /// The first DDL on an existing table in a file with no lock_wait_timeout in the session.
    fn ddl(&mut self, st: &mut Statement, table: &TableRef, verb: &'static str) {
        if self.session.lock_wait_timeout || self.session.ddl_seen {
            return;
        }
        self.session.ddl_seen = true;
        st.unguarded_ddl = Some(Ddl {
            verb,
            table: table.clone(),
        });
    }

    fn drop_tables(&mut self, st: &mut Statement, names: &[ObjectName], temporary: bool) {
        for name in names {
            let table = TableRef::new(name);
            if !temporary && self.schema.existing(&table.key) {
                self.ddl(st, &table, "DROP TABLE");
                st.changes.push(Change::DropTable {
                    table: table.clone(),
                });
            }
            self.schema.drop_table(&table.key);
        }
    }

    fn drop_index(
        &mut self,
        st: &mut Statement,
        tokens: &[TokenWithSpan],
        names: &[ObjectName],
        table: Option<&ObjectName>,
        options: Options,
    ) {
        let Some(table_name) = table else {
            st.unparsed(tokens, "MySQL's DROP INDEX needs `ON <table>`");
            return;
        };
        let table = TableRef::new(table_name);
        let index = names
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!("DROP INDEX {index} ON {}", table.sql);
        let cost = if names.iter().any(|n| {
            n.to_string()
                .trim_matches('`')
                .eq_ignore_ascii_case("PRIMARY")
        }) {
            drop_primary_key(&table, false)
        } else {
            Cost::from(crate::sql::mysql::online_ddl::INDEX_METADATA)
        };
        let op = Op::new(sql.clone(), format!("DROP INDEX {index}"), cost);
        let index = IndexStatement {
            table,
            op,
            options,
            shape: Shape::Index(sql),
            verb: "DROP INDEX",
        };
        self.index_statement(st, index);
    }

    /// CREATE INDEX / DROP INDEX: a single-operation ALTER in another syntax.
    fn index_statement(&mut self, st: &mut Statement, index: IndexStatement) {
        let existing = self.schema.existing(&index.table.key);
        if !existing && !self.lock_none_refused_on_new(&index.table.key, index.options.lock) {
            return;
        }
        if existing {
            self.ddl(st, &index.table, index.verb);
        }
        let first_fulltext = index.op.fulltext
            && self
                .schema
                .table(&index.table.key)
                .is_some_and(|t| !t.fulltext);
        let relations = self.relations(&index.table.key);
        let judged = if existing {
            &mut st.judged
        } else {
            &mut st.lock_none_on_new_table
        };
        *judged = Some(
            Judged {
                table: index.table,
                ops: vec![index.op],
                algorithm: index.options.algorithm,
                lock: index.options.lock,
                understood: true,
                first_fulltext,
                shape: index.shape,
                effective: Vec::new(),
                level: Level::Instant,
                relations: Relations::default(),
            }
            .settled()
            .related(relations),
        );
    }

    fn rename_table(&mut self, st: &mut Statement, old: &ObjectName, new: &ObjectName) {
        let old = TableRef::new(old);
        let new = TableRef::new(new);
        if self.schema.existing(&old.key) {
            self.ddl(st, &old, "RENAME TABLE");
            st.changes.push(Change::RenameTable {
                old: old.clone(),
                new: new.clone(),
            });
        }
        self.schema.move_table(&old, &new);
    }

    fn optimize(&mut self, st: &mut Statement, name: &ObjectName) {
        let table = TableRef::new(name);
        if !self.schema.existing(&table.key) {
            return;
        }
        self.ddl(st, &table, "OPTIMIZE TABLE");
        let relations = self.relations(&table.key);
        st.optimized.push((table, relations));
    }

    fn set(&mut self, set: &Set) {
        let session = &mut self.session;
        let mut assign = |scope_global: bool, name: &ObjectName, value: &Expr| {
            let parts: Vec<String> = name
                .0
                .iter()
                .filter_map(|p| p.as_ident())
                .map(|i| i.value.to_lowercase())
                .collect();
            let global = scope_global || parts.iter().any(|p| p == "@@global");
            let variable = parts
                .last()
                .map(|p| {
                    p.trim_start_matches("@@")
                        .rsplit('.')
                        .next()
                        .unwrap_or("")
                        .to_string()
                })
                .unwrap_or_default();
            if global {
                return; // SET GLOBAL changes later sessions, not this one.
            }
            let value = value
                .to_string()
                .trim_matches(|c| c == '\'' || c == '"')
                .to_ascii_uppercase();
            match variable.as_str() {
                "lock_wait_timeout" => session.lock_wait_timeout = value != "DEFAULT",
                "foreign_key_checks" => {
                    session.foreign_key_checks = !matches!(value.as_str(), "0" | "OFF" | "FALSE")
                }
                _ => {}
            }
        };
        match set {
            Set::SingleAssignment {
                scope,
                variable,
                values,
                ..
            } => {
                if let Some(value) = values.first() {
                    assign(
                        matches!(scope, Some(sqlparser::ast::ContextModifier::Global)),
                        variable,
                        value,
                    );
                }
            }
            Set::MultipleAssignments { assignments } => {
                for a in assignments {
                    assign(
                        matches!(a.scope, Some(sqlparser::ast::ContextModifier::Global)),
                        &a.name,
                        &a.value,
                    );
                }
            }
            _ => {}
        }
    }

    /// An ALTER TABLE sqlparser rejected as a whole: split it into clauses and recognise each.
    /// `false`: not an ALTER TABLE gonogo can take apart.
    fn alter_fallback(&mut self, st: &mut Statement, tokens: &[TokenWithSpan]) -> bool {
        let Some(alter) = alter_clauses(tokens) else {
            return false;
        };
        let clauses: Vec<Clause> = alter
            .clauses
            .into_iter()
            .flat_map(|c| text_clause(&alter.header, c))
            .collect();
        if clauses.is_empty() {
            return false;
        }
        self.alter(st, tokens, &alter.name, clauses);
        true
    }

    fn alter(
        &mut self,
        st: &mut Statement,
        tokens: &[TokenWithSpan],
        name: &ObjectName,
        clauses: Vec<Clause>,
    ) {
        st.kind = Kind::Alter;
        let table = TableRef::new(name);
        let existing = self.schema.existing(&table.key);
        // Table-level facts before this statement (not the columns: cloning them for every ALTER
        // would make long migrations on wide tables quadratic).
        let before = self.schema.table(&table.key).map(|t| Before {
            charset: t.charset.clone(),
            fulltext: t.fulltext,
        });
        // The foreign keys as they were: MySQL judges the statement against the table it alters.
        let relations = self.relations(&table.key);
        let adds_primary_key = clauses.iter().any(|c| {
            matches!(c, Clause::Op(op) if matches!(op.as_ref(), AlterTableOperation::AddConstraint { constraint: TableConstraint::PrimaryKey(_), .. }))
        });
        let mut options = Options::default();
        let mut ops = Vec::new();
        let mut unknown = Vec::new();
        let mut rename_to = None;
        for clause in clauses {
            match clause {
                Clause::Op(op) => match *op {
                    AlterTableOperation::Algorithm { algorithm: a, .. } => {
                        options.algorithm = Some(a)
                    }
                    AlterTableOperation::Lock { lock: l, .. } => options.lock = Some(l),
                    op => {
                        let mut walk = AlterWalk {
                            schema: self.schema,
                            changes: &mut st.changes,
                            table: &table,
                            existing,
                            before: before.as_ref(),
                            adds_primary_key,
                            foreign_key_checks: self.session.foreign_key_checks,
                        };
                        match classify(&mut walk, &op, &mut rename_to) {
                            Ok(mut new_ops) => ops.append(&mut new_ops),
                            Err(message) => unknown.push(message),
                        }
                    }
                },
                Clause::Text(op) => ops.push(op),
                Clause::Unknown(message) => unknown.push(message),
            }
        }
        if let Some(new_name) = &rename_to {
            let new = TableRef::new(new_name);
            if existing {
                st.changes.push(Change::RenameTable {
                    old: table.clone(),
                    new: new.clone(),
                });
            }
            self.schema.move_table(&table, &new);
        }
        let lock_none_refused =
            options.lock == Some(AlterTableLock::None) && relations.cascading.is_some();
        if !existing && !lock_none_refused {
            return;
        }
        if existing {
            self.ddl(st, &table, "ALTER TABLE");
            if let Some(message) = unknown.first() {
                st.unparsed(tokens, message);
            }
        }
        if ops.is_empty() {
            return;
        }
        let first_fulltext = before.as_ref().is_some_and(|t| !t.fulltext);
        let judged = if existing {
            &mut st.judged
        } else {
            &mut st.lock_none_on_new_table
        };
        *judged = Some(
            Judged {
                table,
                ops,
                algorithm: options.algorithm,
                lock: options.lock,
                understood: unknown.is_empty(),
                first_fulltext,
                shape: Shape::Alter,
                effective: Vec::new(),
                level: Level::Instant,
                relations: Relations::default(),
            }
            .settled()
            .related(relations),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(files: &[&str]) -> Vec<Statement> {
        let mut walker = Walker::default();
        let mut out = Vec::new();
        for text in files {
            walker.file(text, &mut |event| {
                if let Event::Statement(st) = event {
                    out.push(*st);
                }
            });
        }
        out
    }

    #[test]
    fn one_statement_as_facts() {
        let found = facts(&[
            "CREATE TABLE t (id INT PRIMARY KEY, a VARCHAR(10) NOT NULL);",
            "ALTER TABLE t ADD COLUMN b INT NOT NULL, DROP COLUMN a, ADD INDEX i (id);",
        ]);
        let alter = &found[1];
        assert_eq!((alter.pos.line, alter.pos.column), (1, 1));
        assert_eq!(alter.kind, Kind::Alter);
        let changes: Vec<&str> = alter
            .changes
            .iter()
            .map(|c| match c {
                Change::AddColumnNotNull { .. } => "add-not-null",
                Change::DropColumn { .. } => "drop-column",
                _ => "other",
            })
            .collect();
        assert_eq!(changes, vec!["add-not-null", "drop-column"]);
        let ddl = alter
            .unguarded_ddl
            .as_ref()
            .expect("no lock_wait_timeout set");
        assert_eq!((ddl.verb, ddl.table.name.as_str()), ("ALTER TABLE", "t"));
        let judged = alter
            .judged
            .as_ref()
            .expect("an ALTER on an existing table");
        // ADD and DROP COLUMN are INSTANT alone; with ADD INDEX the statement runs INPLACE and
        // rebuilds the table.
        assert_eq!(judged.whats(), "ADD COLUMN b, DROP COLUMN a, ADD INDEX i");
        assert_eq!(judged.level, Level::Rebuild);
        assert!(judged.blocks_writes());
        assert!(alter.unparsed.is_none());
    }

    #[test]
    fn tables_created_in_the_file_have_no_lock_facts() {
        let found = facts(&["CREATE TABLE n (id INT);\nALTER TABLE n ADD COLUMN b INT NOT NULL;"]);
        assert!(found[1].changes.is_empty());
        assert!(found[1].unguarded_ddl.is_none());
        assert!(found[1].judged.is_none());
    }

    #[test]
    fn session_variables_are_facts_of_the_file() {
        let found = facts(&[
            "SET SESSION lock_wait_timeout = 5;\nSET foreign_key_checks = 0;\nALTER TABLE o ADD FOREIGN KEY (c) REFERENCES c (id);",
            "ALTER TABLE o ADD FOREIGN KEY (d) REFERENCES d (id);",
        ]);
        let guarded = &found[2];
        assert!(guarded.unguarded_ddl.is_none());
        assert_eq!(
            guarded.judged.as_ref().map(|j| j.level),
            Some(Level::Inplace)
        );
        // A new file is a new session: no timeout, foreign key checks on again.
        let next = &found[3];
        assert!(next.unguarded_ddl.is_some());
        assert_eq!(next.judged.as_ref().map(|j| j.level), Some(Level::Copy));
    }
}
