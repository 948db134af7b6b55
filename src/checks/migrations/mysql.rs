//! MySQL 8 (InnoDB) rules of the `migrations` check. Each ALTER is classified by MySQL's online
//! DDL table: INSTANT, INPLACE without a rebuild, INPLACE with a table rebuild, or COPY.
//!
//! Every file is followed statement by statement, with the state that decides whether a statement
//! is dangerous: which tables were created earlier in the same file (new and empty, so safe), each
//! column's current type, nullability and character set (from every earlier migration), whether
//! `lock_wait_timeout` and `foreign_key_checks` were set in this file. Files outside this deploy
//! are followed silently, so the schema is known.
//!
//! Statements are split with sqlparser's tokenizer (`crate::sql::mysql`) and parsed one by one,
//! so one statement sqlparser cannot parse hides nothing else. ALTER TABLE clauses sqlparser does
//! not know (`ENGINE=…`, `FORCE`, `CONVERT TO CHARACTER SET`, `RENAME INDEX`, …) are recognised
//! one clause at a time from the tokens.

use super::compat::{ADD_COLUMN_NOT_NULL, DROP_COLUMN, DROP_TABLE, RENAME_COLUMN, RENAME_TABLE};
use super::{MigrationFile, Settings, UNPARSED_STATEMENT};
use crate::checks::Rule;
use crate::declare_rule;
use crate::report::{Finding, Location, Severity};
use crate::sql::mysql::{
    self as sql, Piece, Pos, Props, is_word, normalize_charset, object_name, pos_of, render,
    significant, split_commas,
};
use sqlparser::ast::{
    AlterColumnOperation, AlterTableAlgorithm, AlterTableLock, AlterTableOperation,
    CharacterLength, ColumnOption, CreateTable, CreateTableLikeKind, CreateTableOptions, DataType,
    EnumMember, ExactNumberInfo, Expr, Ident, MySQLColumnPosition, ObjectName, ObjectNamePart,
    ObjectType, RenameTableNameKind, Set, SqlOption, Statement, TableConstraint,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace};
use std::collections::{HashMap, HashSet};

declare_rule! {
    /// ## What it catches
    /// An `ALTER TABLE` that MySQL can only run with `ALGORITHM=COPY`: changing a column's type
    /// (`MODIFY`/`CHANGE` to another type), shrinking a column, growing a `VARCHAR` across 255
    /// bytes (its length prefix grows from 1 to 2 bytes; gonogo assumes utf8mb4 unless the
    /// migrations say otherwise), reordering or removing `ENUM`/`SET` values, changing a column's
    /// character set, dropping the primary key without adding one, `CONVERT TO CHARACTER SET`,
    /// adding a foreign key while `foreign_key_checks` is on, adding an enforced `CHECK`
    /// constraint, adding a `STORED` generated or an `AUTO_INCREMENT` column, or an explicit
    /// `ALGORITHM=COPY` / `LOCK=SHARED|EXCLUSIVE`. When the column's current type is not in the
    /// earlier migrations, a `MODIFY` to anything but a `VARCHAR`, `ENUM` or `SET` is reported too.
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
    /// NULL or NOT NULL, moving a column (`FIRST`/`AFTER` in a `MODIFY`), adding a primary key,
    /// `FORCE`, `ENGINE=…`, `ROW_FORMAT`, `OPTIMIZE TABLE`, and an `ADD COLUMN` or `DROP COLUMN`
    /// that cannot be INSTANT (written with `ALGORITHM=INPLACE`, combined with an INPLACE change in
    /// the same statement, or on a table with a FULLTEXT index).
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
    /// pt-online-schema-change on large tables. Put INSTANT changes (`ADD COLUMN`) in an ALTER of
    /// their own with `ALGORITHM=INSTANT`.
    pub MYSQL_TABLE_REBUILD = ("migrations/mysql-table-rebuild", Fail, "ALTER TABLE that rebuilds the whole table");
}

declare_rule! {
    /// ## What it catches
    /// Adding a `FULLTEXT` or `SPATIAL` index, with `ALTER TABLE … ADD` or `CREATE … INDEX`.
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
    /// An online `ALTER TABLE`, `CREATE INDEX` or `DROP INDEX` on an existing table written
    /// without `ALGORITHM=INPLACE, LOCK=NONE` (warn), or with an `ALGORITHM=INSTANT` the change
    /// does not support, so MySQL rejects it (warn). A change that is INSTANT in MySQL 8
    /// (`ADD COLUMN`, `RENAME COLUMN`, `SET DEFAULT`, appending `ENUM` values) written without
    /// `ALGORITHM=INSTANT` is reported as `info`.
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
    /// DDL on an existing table (`ALTER TABLE`, `CREATE`/`DROP INDEX`, `DROP`, `RENAME`,
    /// `TRUNCATE`, `OPTIMIZE TABLE`) with no `SET [SESSION] lock_wait_timeout = …` earlier in the
    /// same file; reported once per file, at the first such statement.
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

/// The character set gonogo assumes when the migrations do not name one: MySQL 8's default.
const DEFAULT_CHARSET: &str = "utf8mb4";

/// Analyse MySQL migration files in order. Always `Some`: every statement is either judged or
/// reported as unparsed.
pub fn analyze(files: &[MigrationFile], _settings: &Settings) -> Option<Vec<Finding>> {
    let run = || {
        let mut state = State::default();
        for file in files {
            state.file(file);
        }
        state.findings
    };
    // sqlparser is a recursive-descent parser: each nesting level is a few stack frames, large
    // ones in a debug build (18 parenthesised table references overflowed a 2 MiB tokio worker
    // stack, which aborts the whole process: a stack overflow is not a panic the runner can
    // catch). Statements nested deeper than MAX_NESTING are refused before parsing; the parse
    // itself runs on a thread whose stack holds that depth with room to spare. Only the pages
    // touched are committed, so the large reservation costs no memory.
    let findings = std::thread::scope(|scope| {
        match std::thread::Builder::new()
            .name("mysql-migrations".to_string())
            .stack_size(PARSER_STACK_BYTES)
            .spawn_scoped(scope, run)
        {
            Ok(handle) => handle
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
            // No thread to be had (a resource limit): parse here, still bounded by MAX_NESTING.
            Err(_) => run(),
        }
    });
    Some(findings)
}

/// The deepest nesting of parentheses and brackets a statement may have. Hand-written DDL nests a
/// few levels (a generated column's expression, a CHECK, a partition list); anything deeper is
/// generated or hostile input, reported as unparsed (quickly) rather than handed to the parser.
pub const MAX_NESTING: usize = 32;

/// sqlparser's own limit on nested expressions and queries, which also bounds recursion that
/// takes no parentheses (`NOT NOT NOT …`, `- - - 1`); sqlparser's default is 50.
const PARSER_RECURSION_LIMIT: usize = 50;

/// Stack for the thread that parses: MAX_NESTING levels of the deepest-recursing construct seen
/// (parenthesised table references, ~110 KiB a level in a debug build) fit with a wide margin.
const PARSER_STACK_BYTES: usize = 64 * 1024 * 1024;

/// How deep `(`/`[` nest in `tokens`, counting unbalanced opening ones.
fn nesting_depth(tokens: &[TokenWithSpan]) -> usize {
    let (mut depth, mut deepest) = (0usize, 0usize);
    for token in tokens {
        match token.token {
            Token::LParen | Token::LBracket | Token::LBrace => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            Token::RParen | Token::RBracket | Token::RBrace => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// A sqlparser parser for MySQL with gonogo's recursion limit.
fn mysql_parser(dialect: &MySqlDialect, tokens: Vec<TokenWithSpan>) -> Parser<'_> {
    Parser::new(dialect)
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .with_tokens_with_locations(tokens)
}

// ---------------------------------------------------------------------------------------------
// Schema and per-file state

#[derive(Debug, Clone, Default)]
struct Table {
    /// Lowercase column name → what gonogo knows of it.
    columns: HashMap<String, Column>,
    /// The table's default character set, when a CREATE TABLE named it.
    charset: Option<String>,
    /// Whether the table has a FULLTEXT index (no INSTANT ADD/DROP COLUMN then).
    fulltext: bool,
}

#[derive(Debug, Clone)]
struct Column {
    ty: DataType,
    nullable: bool,
    /// The column's character set: its own, else the table's; `None` when neither was named.
    charset: Option<String>,
}

#[derive(Default)]
struct State {
    /// Lowercase table name → its schema, from every migration read so far.
    schema: HashMap<String, Table>,
    /// Tables created earlier in the file being read: new and empty, so safe.
    created_in_file: HashSet<String>,
    findings: Vec<Finding>,
}

struct FileState<'a> {
    file: &'a MigrationFile,
    lock_wait_timeout: bool,
    lock_wait_reported: bool,
    foreign_key_checks: bool,
}

/// A table as named in a statement.
#[derive(Debug, Clone)]
struct TableRef {
    /// Lowercase, without schema: the key into `State::schema`.
    key: String,
    /// As written, without quotes or schema, for messages.
    name: String,
    /// As written, with quotes and schema, for fixes.
    sql: String,
}

impl TableRef {
    fn new(name: &ObjectName) -> TableRef {
        let last = name.0.last().and_then(ObjectNamePart::as_ident);
        let plain = last
            .map(|i| i.value.clone())
            .unwrap_or_else(|| name.to_string());
        TableRef {
            key: plain.to_lowercase(),
            name: plain,
            sql: name.to_string(),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// How MySQL runs each ALTER operation

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Level {
    Instant,
    Inplace,
    Rebuild,
    Copy,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Cost {
    /// A metadata change with `ALGORITHM=INSTANT`. When the statement as a whole runs INPLACE,
    /// it costs a rebuild if `rebuild_if_inplace`, else an INPLACE metadata change.
    Instant { rebuild_if_inplace: bool },
    /// INPLACE without a rebuild; concurrent reads and writes continue. `note`: why gonogo is
    /// not sure (the column's current type was not found).
    Inplace { note: Option<String> },
    /// INPLACE with a full table rebuild.
    Rebuild { why: String },
    /// Only ALGORITHM=COPY: writes are blocked for the whole copy.
    Copy { why: String, fix: Option<String> },
}

impl Cost {
    fn level(&self) -> Level {
        match self {
            Cost::Instant { .. } => Level::Instant,
            Cost::Inplace { .. } => Level::Inplace,
            Cost::Rebuild { .. } => Level::Rebuild,
            Cost::Copy { .. } => Level::Copy,
        }
    }

    fn inplace() -> Cost {
        Cost::Inplace { note: None }
    }

    fn copy(why: impl Into<String>) -> Cost {
        Cost::Copy {
            why: why.into(),
            fix: None,
        }
    }

    fn rebuild(why: impl Into<String>) -> Cost {
        Cost::Rebuild { why: why.into() }
    }
}

/// One operation of an ALTER TABLE (or the one operation of CREATE INDEX / DROP INDEX).
#[derive(Debug, Clone)]
struct Op {
    /// The clause as SQL, for fixes: `ADD INDEX orders_status_idx (status)`.
    sql: String,
    /// Short, for messages: `ADD INDEX orders_status_idx`.
    what: String,
    cost: Cost,
    /// A FULLTEXT or SPATIAL index build (LOCK=SHARED).
    fulltext: bool,
}

impl Op {
    fn new(sql: impl Into<String>, what: impl Into<String>, cost: Cost) -> Op {
        Op {
            sql: sql.into(),
            what: what.into(),
            cost,
            fulltext: false,
        }
    }
}

/// One clause of an ALTER TABLE, parsed or recognised from its tokens.
enum Clause {
    Op(Box<AlterTableOperation>),
    Text(Op),
    /// Not understood: the parser's message.
    Unknown(String),
}

/// How a statement's fix is written with `ALGORITHM=…, LOCK=…` added.
enum Shape {
    /// `ALTER TABLE t op, op, ALGORITHM=INPLACE, LOCK=NONE;`
    Alter,
    /// `CREATE INDEX … ALGORITHM=INPLACE LOCK=NONE;` (options without commas), from this SQL.
    Index(String),
}

// ---------------------------------------------------------------------------------------------
// Statements

impl State {
    fn file(&mut self, file: &MigrationFile) {
        self.created_in_file.clear();
        let mut fs = FileState {
            file,
            lock_wait_timeout: false,
            lock_wait_reported: false,
            foreign_key_checks: true,
        };
        sql::split(&file.text, &mut |piece| match piece {
            Piece::Statement(tokens) => self.statement(&mut fs, tokens),
            Piece::DelimiterBlock { start, end_line } => {
                let lines = match end_line {
                    Some(end) => format!("lines {}–{end}", start.line),
                    None => format!("line {} to the end of the file", start.line),
                };
                self.report(
                    &fs,
                    start,
                    &UNPARSED_STATEMENT,
                    format!("`DELIMITER` is a mysql client command, not SQL: gonogo skipped {lines} (stored programs such as triggers or procedures) without analysing them"),
                    "check those statements' locks by hand (CREATE TRIGGER takes an exclusive metadata lock on its table) and waive this with a reason".to_string(),
                );
            }
            Piece::TokenizerError { pos, message } => {
                self.report(
                    &fs,
                    pos,
                    &UNPARSED_STATEMENT,
                    format!("gonogo cannot read the SQL from here on ({message}): the rest of {} was not analysed", fs.file.path),
                    "fix the SQL (an unterminated quote or comment?), or check the rest of the file by hand".to_string(),
                );
            }
        });
    }

    fn existing(&self, key: &str) -> bool {
        !self.created_in_file.contains(key)
    }

    fn report(
        &mut self,
        fs: &FileState,
        pos: Pos,
        rule: &'static Rule,
        message: String,
        fix: String,
    ) {
        self.report_at(fs, pos, rule, None, message, fix);
    }

    fn report_at(
        &mut self,
        fs: &FileState,
        pos: Pos,
        rule: &'static Rule,
        severity: Option<Severity>,
        message: String,
        fix: String,
    ) {
        if !fs.file.in_deploy {
            return;
        }
        let mut finding = rule
            .finding(message)
            .at(Location::new(&fs.file.path, pos.line, pos.column))
            .with_fix(fix);
        if let Some(severity) = severity {
            finding.severity = severity;
        }
        self.findings.push(finding);
    }

    fn unparsed(&mut self, fs: &FileState, pos: Pos, tokens: &[TokenWithSpan], reason: &str) {
        if !fs.file.in_deploy {
            return;
        }
        self.findings.push(
            UNPARSED_STATEMENT
                .finding(format!("gonogo cannot analyse this statement: {reason}"))
                .at(Location::new(&fs.file.path, pos.line, pos.column))
                .with_evidence(shorten(&render(tokens)))
                .with_fix("fix the SQL, or check this statement's locks by hand and waive it with a reason"),
        );
    }

    /// MYSQL_MISSING_LOCK_WAIT_TIMEOUT, once per file, for DDL on an existing table.
    fn ddl(&mut self, fs: &mut FileState, pos: Pos, table: &TableRef, ddl: &str) {
        if fs.lock_wait_timeout || fs.lock_wait_reported {
            return;
        }
        fs.lock_wait_reported = true;
        let t = &table.name;
        self.report(
            fs,
            pos,
            &MYSQL_MISSING_LOCK_WAIT_TIMEOUT,
            format!("{ddl} on {t} with no lock_wait_timeout set: it needs an exclusive metadata lock on {t}, and while it waits behind a long transaction every later query on {t} queues behind it (the default lock_wait_timeout is one year)"),
            format!("add `SET SESSION lock_wait_timeout = 5;` at the top of {}, and retry the migration when it times out", fs.file.path),
        );
    }

    fn statement(&mut self, fs: &mut FileState, tokens: Vec<TokenWithSpan>) {
        let Some(first) = tokens.iter().find(|t| significant(t)) else {
            return;
        };
        let pos = pos_of(first);
        let significant_count = tokens.iter().filter(|t| significant(t)).count();
        if significant_count == 1 && is_word(&first.token, "DELIMITER") {
            return; // `DELIMITER ;`: back to the default, nothing to analyse.
        }
        let depth = nesting_depth(&tokens);
        if depth > MAX_NESTING {
            let reason = format!(
                "parentheses nest {depth} levels deep; gonogo parses statements nested up to {MAX_NESTING} levels (deeper ones are generated, not hand-written DDL)"
            );
            self.unparsed(fs, pos, &tokens, &reason);
            return;
        }
        let dialect = MySqlDialect {};
        let mut parser = mysql_parser(&dialect, tokens.clone());
        let parsed = parser.parse_statement();
        let mut rest = Vec::new();
        if parsed.is_ok() {
            loop {
                let token = parser.next_token();
                if token.token == Token::EOF {
                    break;
                }
                rest.push(token);
            }
        }
        match parsed {
            Ok(statement) if rest.is_empty() => self.parsed(fs, pos, &tokens, statement),
            Ok(Statement::Drop {
                object_type: ObjectType::Index,
                names,
                table,
                ..
            }) if algorithm_lock(&rest).is_some() => {
                let (algorithm, lock) = algorithm_lock(&rest).unwrap_or_default();
                self.drop_index(fs, pos, &tokens, &names, table.as_ref(), algorithm, lock);
            }
            Ok(_) => {
                let message = format!(
                    "unexpected `{}` at line {}, column {}",
                    rest[0].token, rest[0].span.start.line, rest[0].span.start.column
                );
                self.fallback(fs, pos, &tokens, message);
            }
            Err(err) => self.fallback(fs, pos, &tokens, parser_message(&err)),
        }
    }

    fn parsed(
        &mut self,
        fs: &mut FileState,
        pos: Pos,
        tokens: &[TokenWithSpan],
        statement: Statement,
    ) {
        match statement {
            Statement::CreateTable(create) => self.create_table(&create),
            Statement::AlterTable(alter) => {
                let clauses = alter
                    .operations
                    .into_iter()
                    .map(|op| Clause::Op(Box::new(op)))
                    .collect();
                self.alter(fs, pos, tokens, &alter.name, clauses);
            }
            Statement::CreateIndex(mut index) => {
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
                let kind = if index.unique {
                    "CREATE UNIQUE INDEX"
                } else {
                    "CREATE INDEX"
                };
                let op = Op::new(
                    sql.clone(),
                    format!("{kind} {name}").trim_end().to_string(),
                    Cost::inplace(),
                );
                self.index_statement(
                    fs,
                    pos,
                    &table,
                    op,
                    algorithm,
                    lock,
                    Shape::Index(sql),
                    kind,
                );
            }
            Statement::Drop {
                object_type,
                names,
                table,
                temporary,
                ..
            } => match object_type {
                ObjectType::Table => self.drop_tables(fs, pos, &names, temporary),
                ObjectType::Index => {
                    self.drop_index(fs, pos, tokens, &names, table.as_ref(), None, None)
                }
                _ => {}
            },
            Statement::RenameTable(renames) => {
                for rename in renames {
                    self.rename_table(fs, pos, &rename.old_name, &rename.new_name);
                }
            }
            Statement::Set(set) => self.set(fs, &set),
            Statement::Truncate(truncate) => {
                for target in &truncate.table_names {
                    let table = TableRef::new(&target.name);
                    if self.existing(&table.key) {
                        self.ddl(fs, pos, &table, "TRUNCATE TABLE");
                    }
                }
            }
            _ => {}
        }
    }

    /// Statements sqlparser cannot parse but gonogo recognises from their tokens.
    fn fallback(
        &mut self,
        fs: &mut FileState,
        pos: Pos,
        tokens: &[TokenWithSpan],
        message: String,
    ) {
        let sig: Vec<&TokenWithSpan> = tokens.iter().filter(|t| significant(t)).collect();
        let word_at = |i: usize| sig.get(i).and_then(|t| word(&t.token));
        match word_at(0).as_deref() {
            Some("ALTER") if self.alter_fallback(fs, pos, tokens) => return,
            Some("OPTIMIZE") => {
                let mut i = 1;
                while matches!(word_at(i).as_deref(), Some("NO_WRITE_TO_BINLOG" | "LOCAL")) {
                    i += 1;
                }
                if matches!(word_at(i).as_deref(), Some("TABLE" | "TABLES")) {
                    let names = name_list(&sig[i + 1..]);
                    if !names.is_empty() {
                        for name in names {
                            self.optimize(fs, pos, &name);
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
                    let sql = render(tokens);
                    self.index_statement(
                        fs,
                        pos,
                        &table,
                        op,
                        None,
                        None,
                        Shape::Index(sql),
                        "CREATE INDEX",
                    );
                    if kind == "FULLTEXT" {
                        self.schema.entry(table.key).or_default().fulltext = true;
                    }
                    return;
                }
            }
            _ => {}
        }
        self.unparsed(fs, pos, tokens, &message);
    }

    fn create_table(&mut self, create: &CreateTable) {
        let table = TableRef::new(&create.name);
        if create.if_not_exists && self.schema.contains_key(&table.key) && self.existing(&table.key)
        {
            return; // Already there: a no-op, and the table is not new.
        }
        self.created_in_file.insert(table.key.clone());
        let mut info = match &create.like {
            Some(CreateTableLikeKind::Plain(like) | CreateTableLikeKind::Parenthesized(like)) => {
                self.schema
                    .get(&TableRef::new(&like.name).key)
                    .cloned()
                    .unwrap_or_default()
            }
            None => Table::default(),
        };
        if let Some(charset) = table_charset(&create.table_options) {
            info.charset = Some(charset);
        }
        for column in &create.columns {
            let props = Props::of(column.options.iter().map(|o| &o.option));
            info.columns.insert(
                column.name.value.to_lowercase(),
                Column {
                    ty: column.data_type.clone(),
                    nullable: props.nullable(),
                    charset: props.charset.clone().or_else(|| info.charset.clone()),
                },
            );
        }
        for constraint in &create.constraints {
            match constraint {
                TableConstraint::PrimaryKey(pk) => {
                    for column in &pk.columns {
                        if let Some(c) = info.columns.get_mut(
                            &column
                                .column
                                .expr
                                .to_string()
                                .trim_matches('`')
                                .to_lowercase(),
                        ) {
                            c.nullable = false;
                        }
                    }
                }
                TableConstraint::FulltextOrSpatial(index) if index.fulltext => info.fulltext = true,
                _ => {}
            }
        }
        self.schema.insert(table.key, info);
    }

    fn drop_tables(&mut self, fs: &mut FileState, pos: Pos, names: &[ObjectName], temporary: bool) {
        for name in names {
            let table = TableRef::new(name);
            if !temporary && self.existing(&table.key) {
                self.ddl(fs, pos, &table, "DROP TABLE");
                let t = &table.name;
                self.report(
                    fs,
                    pos,
                    &DROP_TABLE,
                    format!("DROP TABLE {t}: the old version still queries it until the rollout ends, and the data cannot come back with a rollback"),
                    format!("ship code that no longer uses {t} first; drop it in a later deploy (or rename it to {t}_deprecated for one release)"),
                );
            }
            self.created_in_file.remove(&table.key);
            self.schema.remove(&table.key);
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn drop_index(
        &mut self,
        fs: &mut FileState,
        pos: Pos,
        tokens: &[TokenWithSpan],
        names: &[ObjectName],
        table: Option<&ObjectName>,
        algorithm: Option<AlterTableAlgorithm>,
        lock: Option<AlterTableLock>,
    ) {
        let Some(table_name) = table else {
            self.unparsed(fs, pos, tokens, "MySQL's DROP INDEX needs `ON <table>`");
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
            Cost::inplace()
        };
        let op = Op::new(sql.clone(), format!("DROP INDEX {index}"), cost);
        self.index_statement(
            fs,
            pos,
            &table,
            op,
            algorithm,
            lock,
            Shape::Index(sql),
            "DROP INDEX",
        );
    }

    /// CREATE INDEX / DROP INDEX: a single-operation ALTER in another syntax.
    #[allow(clippy::too_many_arguments)]
    fn index_statement(
        &mut self,
        fs: &mut FileState,
        pos: Pos,
        table: &TableRef,
        op: Op,
        algorithm: Option<AlterTableAlgorithm>,
        lock: Option<AlterTableLock>,
        shape: Shape,
        ddl: &str,
    ) {
        if !self.existing(&table.key) {
            return;
        }
        self.ddl(fs, pos, table, ddl);
        let first_fulltext =
            op.fulltext && self.schema.get(&table.key).is_some_and(|t| !t.fulltext);
        self.judge(
            fs,
            pos,
            table,
            &[op],
            algorithm,
            lock,
            true,
            first_fulltext,
            &shape,
        );
    }

    fn rename_table(&mut self, fs: &mut FileState, pos: Pos, old: &ObjectName, new: &ObjectName) {
        let old = TableRef::new(old);
        let new = TableRef::new(new);
        if self.existing(&old.key) {
            self.ddl(fs, pos, &old, "RENAME TABLE");
            self.rename_table_finding(fs, pos, &old, &new);
        }
        self.move_table(&old, &new);
    }

    fn rename_table_finding(&mut self, fs: &FileState, pos: Pos, old: &TableRef, new: &TableRef) {
        let (o, n) = (&old.name, &new.name);
        self.report(
            fs,
            pos,
            &RENAME_TABLE,
            format!("renaming {o} to {n} breaks every query of the old version, which keeps running until the rollout ends"),
            format!("after the rename, `CREATE VIEW {} AS SELECT * FROM {};` for one release (a simple view is updatable in MySQL), and drop the view once no running version uses {o}", old.sql, new.sql),
        );
    }

    fn move_table(&mut self, old: &TableRef, new: &TableRef) {
        if old.key == new.key {
            return;
        }
        if let Some(info) = self.schema.remove(&old.key) {
            self.schema.insert(new.key.clone(), info);
        } else {
            self.schema.remove(&new.key);
        }
        if self.created_in_file.remove(&old.key) {
            self.created_in_file.insert(new.key.clone());
        } else {
            self.created_in_file.remove(&new.key);
        }
    }

    fn optimize(&mut self, fs: &mut FileState, pos: Pos, name: &ObjectName) {
        let table = TableRef::new(name);
        if !self.existing(&table.key) {
            return;
        }
        self.ddl(fs, pos, &table, "OPTIMIZE TABLE");
        let t = &table.name;
        self.report(
            fs,
            pos,
            &MYSQL_TABLE_REBUILD,
            format!("OPTIMIZE TABLE {t} rebuilds {t} (ALGORITHM=INPLACE): reads and writes continue, but MySQL rewrites every row of {t} (I/O, replica lag) and takes an exclusive metadata lock at the start and end"),
            format!("do not optimize in a migration: rebuild {t} off-peak with `ALTER TABLE {} FORCE, ALGORITHM=INPLACE, LOCK=NONE;`, or with gh-ost or pt-online-schema-change", table.sql),
        );
    }

    fn set(&mut self, fs: &mut FileState, set: &Set) {
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
                "lock_wait_timeout" => fs.lock_wait_timeout = value != "DEFAULT",
                "foreign_key_checks" => {
                    fs.foreign_key_checks = !matches!(value.as_str(), "0" | "OFF" | "FALSE")
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

    // -----------------------------------------------------------------------------------------
    // ALTER TABLE

    /// An ALTER TABLE sqlparser rejected as a whole: split it into clauses and recognise each.
    /// `false`: not an ALTER TABLE gonogo can take apart.
    fn alter_fallback(&mut self, fs: &mut FileState, pos: Pos, tokens: &[TokenWithSpan]) -> bool {
        let Some(alter) = sql::alter_clauses(tokens) else {
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
        self.alter(fs, pos, tokens, &alter.name, clauses);
        true
    }

    fn alter(
        &mut self,
        fs: &mut FileState,
        pos: Pos,
        tokens: &[TokenWithSpan],
        name: &ObjectName,
        clauses: Vec<Clause>,
    ) {
        let table = TableRef::new(name);
        let existing = self.existing(&table.key);
        // Table-level facts before this statement (not the columns: cloning them for every ALTER
        // would make long migrations on wide tables quadratic).
        let before = self.schema.get(&table.key).map(|t| Facts {
            charset: t.charset.clone(),
            fulltext: t.fulltext,
        });
        let adds_primary_key = clauses.iter().any(|c| {
            matches!(c, Clause::Op(op) if matches!(op.as_ref(), AlterTableOperation::AddConstraint { constraint: TableConstraint::PrimaryKey(_), .. }))
        });
        let mut algorithm = None;
        let mut lock = None;
        let mut ops = Vec::new();
        let mut unknown = Vec::new();
        let mut rename_to = None;
        for clause in clauses {
            match clause {
                Clause::Op(op) => match *op {
                    AlterTableOperation::Algorithm { algorithm: a, .. } => algorithm = Some(a),
                    AlterTableOperation::Lock { lock: l, .. } => lock = Some(l),
                    op => {
                        let mut ctx = AlterContext {
                            fs,
                            pos,
                            table: &table,
                            existing,
                            before: before.as_ref(),
                            adds_primary_key,
                        };
                        match self.classify(&mut ctx, &op, &mut rename_to) {
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
                self.rename_table_finding(fs, pos, &table, &new);
            }
            self.move_table(&table, &new);
        }
        if !existing {
            return;
        }
        self.ddl(fs, pos, &table, "ALTER TABLE");
        if let Some(message) = unknown.first() {
            self.unparsed(fs, pos, tokens, message);
        }
        let first_fulltext = before.as_ref().is_some_and(|t| !t.fulltext);
        self.judge(
            fs,
            pos,
            &table,
            &ops,
            algorithm,
            lock,
            unknown.is_empty(),
            first_fulltext,
            &Shape::Alter,
        );
    }

    /// One parsed ALTER TABLE operation: its cost, its compatibility findings, and its effect on
    /// the schema. `Err`: an operation gonogo does not know in MySQL.
    fn classify(
        &mut self,
        ctx: &mut AlterContext,
        op: &AlterTableOperation,
        rename_to: &mut Option<ObjectName>,
    ) -> Result<Vec<Op>, String> {
        let t = ctx.table.name.clone();
        let table_fulltext = ctx.before.is_some_and(|b| b.fulltext);
        let sql = op.to_string();
        let mut ops = Vec::new();
        match op {
            AlterTableOperation::AddColumn {
                column_def,
                column_keyword,
                if_not_exists,
                column_position,
            } => {
                let column = &column_def.name;
                // Inline keys and checks become operations of their own (so a fix can split them
                // off); the column's SQL is written without them.
                let mut plain = column_def.clone();
                plain.options.retain(|o| {
                    !matches!(
                        o.option,
                        ColumnOption::PrimaryKey(_)
                            | ColumnOption::Unique(_)
                            | ColumnOption::Check(_)
                    )
                });
                let sql = AlterTableOperation::AddColumn {
                    column_keyword: *column_keyword,
                    if_not_exists: *if_not_exists,
                    column_def: plain,
                    column_position: column_position.clone(),
                }
                .to_string();
                let props = Props::of(column_def.options.iter().map(|o| &o.option));
                let what = format!("ADD COLUMN {}", column.value);
                let cost = if props.generated == Some(true) {
                    Cost::Copy {
                        why: "a STORED generated column is computed and written for every row"
                            .to_string(),
                        fix: Some(format!(
                            "add {} as a VIRTUAL generated column (INSTANT) and index it if needed, or use gh-ost or pt-online-schema-change for {t}",
                            column.value
                        )),
                    }
                } else if props.auto_increment {
                    Cost::copy("an AUTO_INCREMENT column gives every existing row a value")
                } else if table_fulltext {
                    Cost::rebuild(format!(
                        "{t} has a FULLTEXT index, so ADD COLUMN cannot be INSTANT"
                    ))
                } else {
                    Cost::Instant {
                        rebuild_if_inplace: props.generated.is_none(),
                    }
                };
                ops.push(Op::new(sql, what, cost));
                for option in &column_def.options {
                    match &option.option {
                        ColumnOption::PrimaryKey(_) => {
                            let sql = format!("ADD PRIMARY KEY ({column})");
                            let cost = Cost::rebuild(
                                "the primary key is the clustered index, so changing it rewrites every row",
                            );
                            ops.push(Op::new(sql.clone(), sql, cost));
                        }
                        ColumnOption::Unique(_) => {
                            let sql = format!("ADD UNIQUE ({column})");
                            ops.push(Op::new(sql.clone(), sql, Cost::inplace()));
                        }
                        ColumnOption::Check(check) => {
                            let sql = format!("ADD {check}");
                            let cost = if check.enforced == Some(false) {
                                Cost::inplace()
                            } else {
                                Cost::copy(
                                    "MySQL checks a new enforced CHECK constraint against every row only with ALGORITHM=COPY",
                                )
                            };
                            ops.push(Op::new(sql.clone(), sql, cost));
                        }
                        _ => {}
                    }
                }
                if ctx.existing
                    && !props.nullable()
                    && !props.default
                    && !props.auto_increment
                    && props.generated.is_none()
                {
                    let c = &column.value;
                    let ty = &column_def.data_type;
                    self.report(
                        ctx.fs,
                        ctx.pos,
                        &ADD_COLUMN_NOT_NULL,
                        format!("ADD COLUMN {c} NOT NULL without a DEFAULT on {t}: existing rows get the type's implicit default, but in strict mode every INSERT of the old version, which does not set {c}, is rejected"),
                        format!("`ALTER TABLE {} ADD COLUMN {column} {ty} NULL, ALGORITHM=INSTANT;` (or NOT NULL with a constant DEFAULT), backfill {t} in batches, and make it NOT NULL once every running version writes it", ctx.table.sql),
                    );
                }
                let charset = props
                    .charset
                    .clone()
                    .or_else(|| ctx.before.and_then(|b| b.charset.clone()));
                self.schema
                    .entry(ctx.table.key.clone())
                    .or_default()
                    .columns
                    .insert(
                        column.value.to_lowercase(),
                        Column {
                            ty: column_def.data_type.clone(),
                            nullable: props.nullable(),
                            charset,
                        },
                    );
            }
            AlterTableOperation::DropColumn { column_names, .. } => {
                let names: Vec<&str> = column_names.iter().map(|c| c.value.as_str()).collect();
                for column in column_names {
                    if ctx.existing {
                        let c = &column.value;
                        self.report(
                            ctx.fs,
                            ctx.pos,
                            &DROP_COLUMN,
                            format!("DROP COLUMN {t}.{c} while the old version, still running until the rollout ends, reads and writes it"),
                            format!("ship code that ignores {t}.{c} first (Rails ignored_columns, Django field removed), and drop it in a later deploy"),
                        );
                    }
                    if let Some(info) = self.schema.get_mut(&ctx.table.key) {
                        info.columns.remove(&column.value.to_lowercase());
                    }
                }
                let cost = if table_fulltext {
                    Cost::rebuild(format!(
                        "{t} has a FULLTEXT index, so DROP COLUMN cannot be INSTANT"
                    ))
                } else {
                    Cost::Instant {
                        rebuild_if_inplace: true,
                    }
                };
                ops.push(Op::new(
                    sql,
                    format!("DROP COLUMN {}", names.join(", ")),
                    cost,
                ));
            }
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => {
                self.rename_column(ctx, old_column_name, new_column_name);
                ops.push(Op::new(
                    sql,
                    format!("RENAME COLUMN {}", old_column_name.value),
                    Cost::Instant {
                        rebuild_if_inplace: false,
                    },
                ));
            }
            AlterTableOperation::ChangeColumn {
                old_name,
                new_name,
                data_type,
                options,
                column_position,
            } => {
                let props = Props::of(options.iter());
                let old = self
                    .schema
                    .get(&ctx.table.key)
                    .and_then(|t| t.columns.get(&old_name.value.to_lowercase()))
                    .cloned();
                let cost = modify_cost(
                    ctx.table,
                    ctx.before.and_then(|b| b.charset.as_deref()),
                    &old_name.value,
                    old.as_ref(),
                    data_type,
                    &props,
                    column_position.as_ref(),
                );
                if old_name.value.to_lowercase() != new_name.value.to_lowercase() {
                    self.rename_column(ctx, old_name, new_name);
                }
                self.set_column(ctx, &new_name.value, data_type, &props);
                ops.push(Op::new(
                    sql,
                    format!("CHANGE COLUMN {} {}", old_name.value, new_name.value),
                    cost,
                ));
            }
            AlterTableOperation::ModifyColumn {
                col_name,
                data_type,
                options,
                column_position,
            } => {
                let props = Props::of(options.iter());
                let old = self
                    .schema
                    .get(&ctx.table.key)
                    .and_then(|t| t.columns.get(&col_name.value.to_lowercase()))
                    .cloned();
                let cost = modify_cost(
                    ctx.table,
                    ctx.before.and_then(|b| b.charset.as_deref()),
                    &col_name.value,
                    old.as_ref(),
                    data_type,
                    &props,
                    column_position.as_ref(),
                );
                self.set_column(ctx, &col_name.value, data_type, &props);
                ops.push(Op::new(
                    sql,
                    format!("MODIFY COLUMN {}", col_name.value),
                    cost,
                ));
            }
            AlterTableOperation::AlterColumn {
                column_name,
                op: column_op,
            } => match column_op {
                AlterColumnOperation::SetDefault { .. } | AlterColumnOperation::DropDefault => {
                    let verb = if matches!(column_op, AlterColumnOperation::DropDefault) {
                        "DROP DEFAULT"
                    } else {
                        "SET DEFAULT"
                    };
                    ops.push(Op::new(
                        sql,
                        format!("ALTER COLUMN {} {verb}", column_name.value),
                        Cost::Instant {
                            rebuild_if_inplace: false,
                        },
                    ));
                }
                other => {
                    return Err(format!(
                        "MySQL has no `ALTER COLUMN {} {other}`: use MODIFY COLUMN with the full column definition",
                        column_name.value
                    ));
                }
            },
            AlterTableOperation::AddConstraint { constraint, .. } => {
                ops.push(self.add_constraint(ctx, constraint, sql)?);
            }
            AlterTableOperation::DropPrimaryKey { .. } => {
                ops.push(Op::new(
                    sql,
                    "DROP PRIMARY KEY",
                    drop_primary_key(ctx.table, ctx.adds_primary_key),
                ));
            }
            AlterTableOperation::DropIndex { name }
                if name.value.eq_ignore_ascii_case("PRIMARY") =>
            {
                ops.push(Op::new(
                    sql,
                    "DROP INDEX PRIMARY",
                    drop_primary_key(ctx.table, ctx.adds_primary_key),
                ));
            }
            AlterTableOperation::DropIndex { name } => ops.push(Op::new(
                sql,
                format!("DROP INDEX {}", name.value),
                Cost::inplace(),
            )),
            AlterTableOperation::DropForeignKey { name, .. } => ops.push(Op::new(
                sql,
                format!("DROP FOREIGN KEY {}", name.value),
                Cost::inplace(),
            )),
            AlterTableOperation::DropConstraint { name, .. } => ops.push(Op::new(
                sql,
                format!("DROP CONSTRAINT {}", name.value),
                Cost::inplace(),
            )),
            AlterTableOperation::RenameTable { table_name } => {
                let (RenameTableNameKind::To(new) | RenameTableNameKind::As(new)) = table_name;
                *rename_to = Some(new.clone());
                ops.push(Op::new(
                    sql,
                    format!("RENAME TO {new}"),
                    Cost::Instant {
                        rebuild_if_inplace: false,
                    },
                ));
            }
            AlterTableOperation::AutoIncrement { .. } => {
                ops.push(Op::new(sql.clone(), sql, Cost::inplace()))
            }
            other => return Err(format!("gonogo does not know how MySQL runs `{other}`")),
        }
        Ok(ops)
    }

    fn add_constraint(
        &mut self,
        ctx: &mut AlterContext,
        constraint: &TableConstraint,
        sql: String,
    ) -> Result<Op, String> {
        let t = ctx.table.name.clone();
        let named = |kind: &str, name: Option<&Ident>| match name {
            Some(name) => format!("{kind} {}", name.value),
            None => kind.to_string(),
        };
        Ok(match constraint {
            TableConstraint::Index(index) => Op::new(
                sql,
                named("ADD INDEX", index.name.as_ref()),
                Cost::inplace(),
            ),
            TableConstraint::Unique(unique) => Op::new(
                sql,
                named(
                    "ADD UNIQUE",
                    unique.index_name.as_ref().or(unique.name.as_ref()),
                ),
                Cost::inplace(),
            ),
            TableConstraint::PrimaryKey(pk) => {
                if let Some(info) = self.schema.get_mut(&ctx.table.key) {
                    for column in &pk.columns {
                        if let Some(c) = info.columns.get_mut(
                            &column
                                .column
                                .expr
                                .to_string()
                                .trim_matches('`')
                                .to_lowercase(),
                        ) {
                            c.nullable = false;
                        }
                    }
                }
                Op::new(
                    sql,
                    "ADD PRIMARY KEY",
                    Cost::rebuild(
                        "the primary key is the clustered index, so changing it rewrites every row",
                    ),
                )
            }
            TableConstraint::FulltextOrSpatial(index) => {
                let kind = if index.fulltext {
                    "ADD FULLTEXT INDEX"
                } else {
                    "ADD SPATIAL INDEX"
                };
                if index.fulltext {
                    self.schema
                        .entry(ctx.table.key.clone())
                        .or_default()
                        .fulltext = true;
                }
                let mut op = Op::new(
                    sql,
                    named(kind, index.opt_index_name.as_ref()),
                    Cost::inplace(),
                );
                op.fulltext = true;
                op
            }
            TableConstraint::ForeignKey(fk) => {
                let what = named(
                    "ADD FOREIGN KEY",
                    fk.name.as_ref().or(fk.index_name.as_ref()),
                );
                if ctx.fs.foreign_key_checks {
                    let cost = Cost::Copy {
                        why: "with foreign_key_checks on, MySQL adds a foreign key only with ALGORITHM=COPY".to_string(),
                        fix: Some(format!("`SET foreign_key_checks = 0;` before it lets MySQL add it INPLACE without copying {t} (existing rows are not checked: verify them with a query first), then `SET foreign_key_checks = 1;`; or use pt-online-schema-change (gh-ost does not support foreign keys)")),
                    };
                    Op::new(sql, what, cost)
                } else {
                    Op::new(sql, what, Cost::inplace())
                }
            }
            TableConstraint::Check(check) => {
                let what = named("ADD CHECK", check.name.as_ref());
                if check.enforced == Some(false) {
                    Op::new(sql, what, Cost::inplace())
                } else {
                    let cost = Cost::Copy {
                        why: "MySQL checks a new enforced CHECK constraint against every row only with ALGORITHM=COPY".to_string(),
                        fix: Some(format!("use gh-ost or pt-online-schema-change for {t}, or enforce the rule in the application")),
                    };
                    Op::new(sql, what, cost)
                }
            }
            other => return Err(format!("`ADD {other}` is not MySQL syntax")),
        })
    }

    fn rename_column(&mut self, ctx: &mut AlterContext, old: &Ident, new: &Ident) {
        if ctx.existing {
            let t = &ctx.table.name;
            let (o, n) = (&old.value, &new.value);
            self.report(
                ctx.fs,
                ctx.pos,
                &RENAME_COLUMN,
                format!("renaming {t}.{o} to {n} breaks every query of the old version, which keeps running until the rollout ends"),
                format!("add {n} to {t}, write both, backfill in batches, switch reads to {n}, and drop {o} in a later deploy"),
            );
        }
        if let Some(info) = self.schema.get_mut(&ctx.table.key)
            && let Some(column) = info.columns.remove(&old.value.to_lowercase())
        {
            info.columns.insert(new.value.to_lowercase(), column);
        }
    }

    fn set_column(&mut self, ctx: &AlterContext, name: &str, ty: &DataType, props: &Props) {
        let info = self.schema.entry(ctx.table.key.clone()).or_default();
        let charset = props.charset.clone().or_else(|| info.charset.clone());
        info.columns.insert(
            name.to_lowercase(),
            Column {
                ty: ty.clone(),
                nullable: props.nullable(),
                charset,
            },
        );
    }

    /// Decide how MySQL runs the statement as a whole, and report it.
    #[allow(clippy::too_many_arguments)]
    fn judge(
        &mut self,
        fs: &FileState,
        pos: Pos,
        table: &TableRef,
        ops: &[Op],
        algorithm: Option<AlterTableAlgorithm>,
        lock: Option<AlterTableLock>,
        understood: bool,
        first_fulltext: bool,
        shape: &Shape,
    ) {
        let t = &table.name;
        let whats = ops
            .iter()
            .map(|o| o.what.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        let with_options = |options: &str| -> String {
            match shape {
                Shape::Alter => format!(
                    "ALTER TABLE {} {}, {options};",
                    table.sql,
                    join_sql(ops.iter())
                ),
                Shape::Index(sql) => format!(
                    "{} {};",
                    sql.trim_end_matches(';'),
                    options.replace(',', "")
                ),
            }
        };
        let gh_ost = format!("use gh-ost or pt-online-schema-change for {t}");
        if ops.is_empty() {
            return;
        }

        if algorithm == Some(AlterTableAlgorithm::Copy) {
            self.report(
                fs,
                pos,
                &MYSQL_COPY_ALGORITHM,
                format!("ALGORITHM=COPY on {t} ({whats}): writes to {t} are blocked while MySQL copies the table"),
                format!("`{}` if MySQL can do it online (it refuses otherwise), or {gh_ost}", with_options("ALGORITHM=INPLACE, LOCK=NONE")),
            );
            return;
        }

        let all_instant = ops.iter().all(|o| o.cost.level() == Level::Instant);
        let instant = all_instant && algorithm != Some(AlterTableAlgorithm::Inplace);
        let effective: Vec<Cost> = ops
            .iter()
            .map(|op| match &op.cost {
                Cost::Instant { rebuild_if_inplace } if !instant => {
                    if !rebuild_if_inplace {
                        Cost::inplace()
                    } else if algorithm == Some(AlterTableAlgorithm::Inplace) {
                        Cost::rebuild("INSTANT alone, but ALGORITHM=INPLACE makes MySQL rebuild the table")
                    } else {
                        Cost::rebuild(format!(
                            "INSTANT alone, but in one ALTER with {} MySQL runs the whole statement INPLACE, which rebuilds the table",
                            ops.iter().filter(|o| o.cost.level() != Level::Instant).map(|o| o.what.as_str()).collect::<Vec<_>>().join(", ")
                        ))
                    }
                }
                other => other.clone(),
            })
            .collect();
        let level = effective
            .iter()
            .map(Cost::level)
            .max()
            .unwrap_or(Level::Instant);
        // What MySQL does with an ALGORITHM or LOCK the operation cannot honour: it refuses.
        let rejected = |needs: Level, fulltext: bool| -> String {
            let by_algorithm = match algorithm {
                Some(AlterTableAlgorithm::Instant) => needs > Level::Instant || fulltext,
                Some(AlterTableAlgorithm::Inplace) => needs == Level::Copy,
                _ => false,
            };
            let by_lock = lock == Some(AlterTableLock::None) && (needs == Level::Copy || fulltext);
            match (by_algorithm, algorithm) {
                (true, Some(a)) => format!("; with ALGORITHM={a} as written, MySQL rejects the statement and the migration fails"),
                _ if by_lock => "; with LOCK=NONE as written, MySQL rejects the statement and the migration fails".to_string(),
                _ => String::new(),
            }
        };

        let mut blocking = false;
        for (op, cost) in ops.iter().zip(&effective) {
            if let Cost::Copy { why, fix } = cost {
                blocking = true;
                let fix = fix.clone().unwrap_or_else(|| copy_fix(table));
                self.report(
                    fs,
                    pos,
                    &MYSQL_COPY_ALGORITHM,
                    format!("{} on {t} needs ALGORITHM=COPY ({why}): writes to {t} are blocked while MySQL copies the table{}", op.what, rejected(Level::Copy, false)),
                    fix,
                );
            }
        }
        if level == Level::Rebuild {
            // One finding for the statement: it rebuilds the table once, whatever the reasons.
            blocking = true;
            let rebuilding: Vec<(&Op, &String)> = ops
                .iter()
                .zip(&effective)
                .filter_map(|(op, cost)| match cost {
                    Cost::Rebuild { why } => Some((op, why)),
                    _ => None,
                })
                .collect();
            let whats = rebuilding
                .iter()
                .map(|(op, _)| op.what.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let mut whys: Vec<&str> = Vec::new();
            for (_, why) in &rebuilding {
                if !whys.contains(&why.as_str()) {
                    whys.push(why);
                }
            }
            let degraded = rebuilding
                .iter()
                .any(|(op, _)| op.cost.level() == Level::Instant);
            let fix = if degraded && all_instant {
                format!("`{}`", with_options("ALGORITHM=INSTANT"))
            } else if degraded && matches!(shape, Shape::Alter) {
                let renames = |o: &&Op| o.what.starts_with("RENAME TO");
                let instant_ops = join_sql(
                    ops.iter()
                        .filter(|o| o.cost.level() == Level::Instant && !renames(o)),
                );
                let other_ops = join_sql(
                    ops.iter()
                        .filter(|o| o.cost.level() != Level::Instant)
                        .chain(ops.iter().filter(renames)),
                );
                format!(
                    "split it: `ALTER TABLE {tsql} {instant_ops}, ALGORITHM=INSTANT;` then `ALTER TABLE {tsql} {other_ops}, ALGORITHM=INPLACE, LOCK=NONE;`",
                    tsql = table.sql
                )
            } else {
                format!(
                    "run `{}` off-peak (writes continue; expect I/O and replica lag), or {gh_ost}",
                    with_options("ALGORITHM=INPLACE, LOCK=NONE")
                )
            };
            self.report(
                fs,
                pos,
                &MYSQL_TABLE_REBUILD,
                format!(
                    "{whats} on {t} rebuilds the table ({}): with ALGORITHM=INPLACE reads and writes continue, but MySQL rewrites every row of {t} (I/O, replica lag) and takes an exclusive metadata lock at the start and end{}",
                    whys.join("; "),
                    rejected(Level::Rebuild, false)
                ),
                fix,
            );
        }
        for op in ops.iter().filter(|o| o.fulltext) {
            blocking = true;
            let first = if first_fulltext && op.what.contains("FULLTEXT") {
                format!(", and as the first FULLTEXT index of {t} it also rebuilds the table")
            } else {
                String::new()
            };
            self.report(
                fs,
                pos,
                &MYSQL_FULLTEXT_INDEX,
                format!("{} on {t}: InnoDB builds FULLTEXT and SPATIAL indexes with LOCK=SHARED, so writes to {t} are blocked for the whole build{first}{}", op.what, rejected(Level::Inplace, true)),
                format!("build it with gh-ost or pt-online-schema-change for {t}, or in a maintenance window"),
            );
        }
        if let Some(l @ (AlterTableLock::Shared | AlterTableLock::Exclusive)) = lock
            && level != Level::Copy
        {
            blocking = true;
            let blocked = if l == AlterTableLock::Exclusive {
                format!("reads and writes of {t} are")
            } else {
                format!("writes to {t} are")
            };
            self.report(
                fs,
                pos,
                &MYSQL_COPY_ALGORITHM,
                format!("LOCK={l} on {t} ({whats}): {blocked} blocked for the whole ALTER"),
                format!(
                    "`{}`",
                    with_options(if level == Level::Instant {
                        "ALGORITHM=INSTANT"
                    } else {
                        "ALGORITHM=INPLACE, LOCK=NONE"
                    })
                ),
            );
        }
        if blocking || !understood {
            return;
        }

        match level {
            Level::Instant => {
                if algorithm != Some(AlterTableAlgorithm::Instant) {
                    self.report_at(
                        fs,
                        pos,
                        &MYSQL_MISSING_ALGORITHM_LOCK,
                        Some(Severity::Info),
                        format!("{whats} on {t} is INSTANT in MySQL 8 (a metadata change); add `ALGORITHM=INSTANT` so MySQL refuses, instead of silently rebuilding {t}, when it cannot do it instantly (MySQL before 8.0.29 for DROP COLUMN, a FULLTEXT index, 64 instant changes already)"),
                        format!("`{}`", with_options("ALGORITHM=INSTANT")),
                    );
                }
            }
            Level::Inplace => {
                let note = effective.iter().find_map(|c| match c {
                    Cost::Inplace { note: Some(note) } => Some(note.clone()),
                    _ => None,
                });
                if algorithm == Some(AlterTableAlgorithm::Instant) {
                    self.report(
                        fs,
                        pos,
                        &MYSQL_MISSING_ALGORITHM_LOCK,
                        format!("ALGORITHM=INSTANT is not supported for {whats} on {t}: MySQL rejects the statement and the migration fails"),
                        format!("`{}`", with_options("ALGORITHM=INPLACE, LOCK=NONE")),
                    );
                } else if !(algorithm == Some(AlterTableAlgorithm::Inplace)
                    && lock == Some(AlterTableLock::None))
                {
                    let message = match note {
                        Some(note) => format!(
                            "{whats} on {t}: {note}; with `ALGORITHM=INPLACE, LOCK=NONE` MySQL refuses instead of silently copying {t}"
                        ),
                        None => format!(
                            "{whats} on {t} can run online (ALGORITHM=INPLACE, no table copy), but without `ALGORITHM=INPLACE, LOCK=NONE` MySQL silently copies the table or takes a stronger lock when it cannot do it online, instead of refusing"
                        ),
                    };
                    self.report(
                        fs,
                        pos,
                        &MYSQL_MISSING_ALGORITHM_LOCK,
                        message,
                        format!("`{}`", with_options("ALGORITHM=INPLACE, LOCK=NONE")),
                    );
                }
            }
            Level::Rebuild | Level::Copy => {}
        }
    }
}

struct Facts {
    charset: Option<String>,
    fulltext: bool,
}

struct AlterContext<'a, 'b> {
    fs: &'a mut FileState<'b>,
    pos: Pos,
    table: &'a TableRef,
    existing: bool,
    /// The table as it was before this statement, when known.
    before: Option<&'a Facts>,
    adds_primary_key: bool,
}

/// Dropping the primary key: a rebuild when the same ALTER adds another, else a copy.
fn drop_primary_key(table: &TableRef, adds_primary_key: bool) -> Cost {
    if adds_primary_key {
        return Cost::rebuild(
            "the primary key is the clustered index, so changing it rewrites every row",
        );
    }
    Cost::Copy {
        why: "dropping the primary key without adding another in the same ALTER is only possible with ALGORITHM=COPY".to_string(),
        fix: Some(format!(
            "drop and add the primary key in one statement (`ALTER TABLE {} DROP PRIMARY KEY, ADD PRIMARY KEY (…), ALGORITHM=INPLACE, LOCK=NONE;` rebuilds {t} but lets writes continue), or use gh-ost or pt-online-schema-change for {t}",
            table.sql,
            t = table.name
        )),
    }
}

/// The SQL of these operations, comma-separated.
fn join_sql<'a>(ops: impl Iterator<Item = &'a Op>) -> String {
    ops.filter(|o| !o.sql.is_empty())
        .map(|o| o.sql.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn copy_fix(table: &TableRef) -> String {
    format!(
        "use gh-ost or pt-online-schema-change for {t} (it applies the change to a copy of {t} while writes continue, then swaps the tables), or schedule it for a maintenance window",
        t = table.name
    )
}

/// MODIFY / CHANGE of a column from `old` (when known) to `new`.
fn modify_cost(
    table: &TableRef,
    table_charset: Option<&str>,
    column: &str,
    old: Option<&Column>,
    new: &DataType,
    props: &Props,
    position: Option<&MySQLColumnPosition>,
) -> Cost {
    let t = &table.name;
    let expand = format!(
        "use gh-ost or pt-online-schema-change for {t}, or expand and contract: `ALTER TABLE {} ADD COLUMN {column}_new {new} NULL, ALGORITHM=INSTANT;`, backfill it in batches, switch reads to {column}_new, and drop {column} in a later deploy",
        table.sql
    );
    let Some(old) = old else {
        if varchar_length(new).is_some() || enum_members(new).is_some() {
            return Cost::Inplace {
                note: Some(format!(
                    "gonogo did not find {t}.{column}'s current type in the earlier migrations: widening a VARCHAR within its length-prefix size or appending ENUM/SET values runs INPLACE or INSTANT, but any other type change copies {t} (ALGORITHM=COPY) and a NULL/NOT NULL change rebuilds it"
                )),
            };
        }
        return Cost::Copy {
            why: format!(
                "gonogo did not find {t}.{column}'s current type in the earlier migrations; unless it is already {new}, this is a type change, which only ALGORITHM=COPY can do"
            ),
            fix: Some(expand),
        };
    };
    let new_charset = props
        .charset
        .clone()
        .or_else(|| table_charset.map(str::to_string));
    let charsets = |old_cs: &Option<String>, new_cs: &Option<String>| -> Option<(String, String)> {
        let o = old_cs
            .clone()
            .unwrap_or_else(|| DEFAULT_CHARSET.to_string());
        let n = new_cs
            .clone()
            .unwrap_or_else(|| DEFAULT_CHARSET.to_string());
        (o != n).then_some((o, n))
    };
    let charset_change = if is_string_type(&old.ty) && is_string_type(new) {
        charsets(&old.charset, &new_charset)
    } else {
        None
    };
    let copy = |why: String| Cost::Copy {
        why,
        fix: Some(expand.clone()),
    };
    let mut cost = if let Some((from, to)) = charset_change {
        copy(format!("it converts {column} from {from} to {to}"))
    } else if type_key(&old.ty) == type_key(new) {
        Cost::inplace()
    } else if let (Some(n), Some(m)) = (varchar_length(&old.ty), varchar_length(new)) {
        let (bytes, charset) = bytes_per_char(new_charset.as_deref());
        if m < n {
            copy(format!(
                "it shrinks {column} from VARCHAR({n}) to VARCHAR({m})"
            ))
        } else if (n * bytes <= 255) == (m * bytes <= 255) {
            Cost::inplace()
        } else {
            copy(format!(
                "VARCHAR({n}) to VARCHAR({m}) in {charset} crosses 255 bytes, so the length prefix of every value grows from 1 to 2 bytes"
            ))
        }
    } else if let (Some((old_set, old_members)), Some((new_set, new_members))) =
        (enum_members(&old.ty), enum_members(new))
    {
        if old_set == new_set && appends(&old_members, &new_members, old_set) {
            Cost::Instant {
                rebuild_if_inplace: false,
            }
        } else {
            let kind = if new_set { "SET" } else { "ENUM" };
            copy(format!(
                "it changes {column}'s {kind} values other than by appending at the end"
            ))
        }
    } else {
        copy(format!("{} to {new} is a type change", old.ty))
    };
    if cost.level() < Level::Rebuild {
        let nullable = props.nullable();
        if old.nullable != nullable {
            let to = if nullable { "NULL" } else { "NOT NULL" };
            cost = Cost::rebuild(format!("it makes {column} {to}"));
        } else if position.is_some() {
            cost = Cost::rebuild(format!(
                "moving {column} with FIRST/AFTER reorders the columns"
            ));
        }
    }
    cost
}

/// Whether `new` only appends members to `old` without growing the storage size.
fn appends(old: &[String], new: &[String], set: bool) -> bool {
    if new.len() < old.len() || new[..old.len()] != *old {
        return false;
    }
    if set {
        let bytes = |n: usize| match n.div_ceil(8) {
            0 | 1 => 1,
            2 => 2,
            3 => 3,
            4 => 4,
            _ => 8,
        };
        bytes(old.len()) == bytes(new.len())
    } else {
        (old.len() <= 255) == (new.len() <= 255)
    }
}

fn varchar_length(ty: &DataType) -> Option<u64> {
    match ty {
        DataType::Varchar(length)
        | DataType::CharVarying(length)
        | DataType::CharacterVarying(length)
        | DataType::Nvarchar(length) => match length {
            Some(CharacterLength::IntegerLength { length, .. }) => Some(*length),
            _ => None,
        },
        _ => None,
    }
}

/// `(is_set, members)` of an ENUM or SET.
fn enum_members(ty: &DataType) -> Option<(bool, Vec<String>)> {
    match ty {
        DataType::Enum(members, _) => Some((
            false,
            members
                .iter()
                .map(|m| match m {
                    EnumMember::Name(name) | EnumMember::NamedValue(name, _) => name.clone(),
                })
                .collect(),
        )),
        DataType::Set(members) => Some((true, members.clone())),
        _ => None,
    }
}

fn is_string_type(ty: &DataType) -> bool {
    matches!(
        ty,
        DataType::Char(_)
            | DataType::Character(_)
            | DataType::Varchar(_)
            | DataType::CharVarying(_)
            | DataType::CharacterVarying(_)
            | DataType::Nvarchar(_)
            | DataType::Text
            | DataType::TinyText
            | DataType::MediumText
            | DataType::LongText
            | DataType::Enum(..)
            | DataType::Set(_)
    )
}

/// A type with MySQL's synonyms and display widths folded, for comparing old and new.
fn type_key(ty: &DataType) -> String {
    let decimal = |name: &str, info: &ExactNumberInfo| match info {
        ExactNumberInfo::None => format!("{name}(10,0)"),
        ExactNumberInfo::Precision(p) => format!("{name}({p},0)"),
        ExactNumberInfo::PrecisionAndScale(p, s) => format!("{name}({p},{s})"),
    };
    let chars = |name: &str, length: &Option<CharacterLength>, default: u64| match length {
        Some(CharacterLength::IntegerLength { length, .. }) => format!("{name}({length})"),
        Some(CharacterLength::Max) => format!("{name}(MAX)"),
        None => format!("{name}({default})"),
    };
    match ty {
        DataType::TinyInt(_) | DataType::Bool | DataType::Boolean => "TINYINT".into(),
        DataType::TinyIntUnsigned(_) => "TINYINT UNSIGNED".into(),
        DataType::SmallInt(_) | DataType::Int2(_) => "SMALLINT".into(),
        DataType::SmallIntUnsigned(_) | DataType::Int2Unsigned(_) => "SMALLINT UNSIGNED".into(),
        DataType::MediumInt(_) => "MEDIUMINT".into(),
        DataType::MediumIntUnsigned(_) => "MEDIUMINT UNSIGNED".into(),
        DataType::Int(_) | DataType::Integer(_) | DataType::Int4(_) => "INT".into(),
        DataType::IntUnsigned(_) | DataType::IntegerUnsigned(_) | DataType::Int4Unsigned(_) => {
            "INT UNSIGNED".into()
        }
        DataType::BigInt(_) | DataType::Int8(_) => "BIGINT".into(),
        DataType::BigIntUnsigned(_) | DataType::Int8Unsigned(_) => "BIGINT UNSIGNED".into(),
        DataType::Decimal(info) | DataType::Numeric(info) | DataType::Dec(info) => {
            decimal("DECIMAL", info)
        }
        DataType::DecimalUnsigned(info) | DataType::DecUnsigned(info) => {
            decimal("DECIMAL UNSIGNED", info)
        }
        DataType::Real
        | DataType::DoublePrecision
        | DataType::Double(ExactNumberInfo::None)
        | DataType::Float8 => "DOUBLE".into(),
        DataType::Char(length) | DataType::Character(length) => chars("CHAR", length, 1),
        DataType::Varchar(length)
        | DataType::CharVarying(length)
        | DataType::CharacterVarying(length) => chars("VARCHAR", length, 0),
        other => other.to_string().to_ascii_uppercase().replace(", ", ","),
    }
}

/// Maximum bytes per character of a character set, and its name for messages.
fn bytes_per_char(charset: Option<&str>) -> (u64, String) {
    let Some(charset) = charset else {
        return (
            4,
            format!(
                "{DEFAULT_CHARSET} (MySQL 8's default; gonogo found no character set for this column)"
            ),
        );
    };
    let bytes = match charset {
        "latin1" | "latin2" | "latin5" | "latin7" | "ascii" | "binary" | "cp1250" | "cp1251"
        | "cp1256" | "cp1257" | "cp850" | "cp852" | "cp866" | "dec8" | "greek" | "hebrew"
        | "hp8" | "keybcs2" | "koi8r" | "koi8u" | "macce" | "macroman" | "swe7" | "tis620"
        | "armscii8" | "geostd8" => 1,
        "ucs2" | "big5" | "gbk" | "gb2312" | "sjis" | "cp932" | "euckr" => 2,
        "utf8mb3" | "ujis" | "eucjpms" => 3,
        _ => 4,
    };
    (bytes, charset.to_string())
}

fn table_charset(options: &CreateTableOptions) -> Option<String> {
    let list = match options {
        CreateTableOptions::Plain(list)
        | CreateTableOptions::With(list)
        | CreateTableOptions::Options(list)
        | CreateTableOptions::TableProperties(list) => list,
        CreateTableOptions::None => return None,
    };
    list.iter().find_map(|option| match option {
        SqlOption::KeyValue { key, value } => {
            let key = key.to_string().to_ascii_uppercase();
            (key.contains("CHARSET") || key.contains("CHARACTER SET"))
                .then(|| normalize_charset(&value.to_string()))
        }
        _ => None,
    })
}

// ---------------------------------------------------------------------------------------------
// Clauses sqlparser does not parse

/// One clause of an ALTER TABLE that failed to parse as a whole, recognised from its tokens or
/// parsed alone after `header` (`ALTER TABLE name `).
fn text_clause(header: &[TokenWithSpan], clause: &[TokenWithSpan]) -> Vec<Clause> {
    let sig: Vec<&TokenWithSpan> = clause.iter().filter(|t| significant(t)).collect();
    let word_at = |i: usize| sig.get(i).and_then(|t| word(&t.token));
    let sql = render(clause);
    let text = |cost: Cost| vec![Clause::Text(Op::new(sql.clone(), sql.clone(), cost))];
    match (word_at(0).as_deref(), word_at(1).as_deref()) {
        (Some("ENGINE"), _) => text(Cost::rebuild(
            "ENGINE=… rebuilds the table, even when the engine does not change",
        )),
        (Some("FORCE"), _) => text(Cost::rebuild("FORCE rebuilds the table")),
        (Some("ROW_FORMAT" | "KEY_BLOCK_SIZE"), _) => text(Cost::rebuild(
            "changing ROW_FORMAT or KEY_BLOCK_SIZE rebuilds the table",
        )),
        (Some("CONVERT"), _) => text(Cost::copy(
            "CONVERT TO CHARACTER SET converts every string column, which MySQL does only with ALGORITHM=COPY",
        )),
        (Some("DEFAULT"), Some("CHARACTER" | "CHARSET" | "COLLATE"))
        | (
            Some(
                "CHARACTER" | "CHARSET" | "COLLATE" | "COMMENT" | "STATS_PERSISTENT"
                | "STATS_AUTO_RECALC" | "STATS_SAMPLE_PAGES",
            ),
            _,
        ) => text(Cost::inplace()),
        (Some("RENAME"), Some("INDEX" | "KEY")) => text(Cost::inplace()),
        (Some("RENAME"), _) => {
            let skip = if matches!(word_at(1).as_deref(), Some("TO" | "AS")) {
                2
            } else {
                1
            };
            match sig.get(skip..).and_then(object_name) {
                Some((name, used)) if skip + used == sig.len() => {
                    vec![Clause::Op(Box::new(AlterTableOperation::RenameTable {
                        table_name: RenameTableNameKind::To(name),
                    }))]
                }
                _ => parse_clause(header, clause),
            }
        }
        (Some("ALTER"), Some("INDEX")) => text(Cost::inplace()),
        (Some("ALTER"), _)
            if sig
                .last()
                .and_then(|t| word(&t.token))
                .is_some_and(|w| w == "VISIBLE" || w == "INVISIBLE") =>
        {
            text(Cost::Instant {
                rebuild_if_inplace: false,
            })
        }
        (Some("DROP"), Some("CHECK")) => text(Cost::inplace()),
        (Some("ADD"), _) => {
            let open = if word_at(1).as_deref() == Some("COLUMN") {
                2
            } else {
                1
            };
            if sig.get(open).is_some_and(|t| t.token == Token::LParen) {
                // ADD [COLUMN] (a INT, b INT): one ADD COLUMN each.
                let start = clause
                    .iter()
                    .position(|t| t.token == Token::LParen)
                    .unwrap_or(0)
                    + 1;
                let end = clause
                    .iter()
                    .rposition(|t| t.token == Token::RParen)
                    .unwrap_or(clause.len())
                    .max(start);
                let mut prefix = vec![
                    sig[0].clone(),
                    TokenWithSpan::wrap(Token::Whitespace(Whitespace::Space)),
                ];
                prefix.push(TokenWithSpan::wrap(Token::make_keyword("COLUMN")));
                prefix.push(TokenWithSpan::wrap(Token::Whitespace(Whitespace::Space)));
                split_commas(&clause[start..end])
                    .into_iter()
                    .filter(|part| part.iter().any(significant))
                    .flat_map(|part| {
                        let mut tokens = prefix.clone();
                        tokens.extend(part.iter().cloned());
                        parse_clause(header, &tokens)
                    })
                    .collect()
            } else {
                parse_clause(header, clause)
            }
        }
        _ => parse_clause(header, clause),
    }
}

fn parse_clause(header: &[TokenWithSpan], clause: &[TokenWithSpan]) -> Vec<Clause> {
    let mut tokens = header.to_vec();
    tokens.extend(clause.iter().cloned());
    let dialect = MySqlDialect {};
    let mut parser = mysql_parser(&dialect, tokens);
    match parser.parse_statement() {
        Ok(statement) => {
            let next = parser.next_token();
            if next.token != Token::EOF {
                return vec![Clause::Unknown(format!(
                    "unexpected `{}` at line {}, column {}",
                    next.token, next.span.start.line, next.span.start.column
                ))];
            }
            match statement {
                Statement::AlterTable(alter) => alter
                    .operations
                    .into_iter()
                    .map(|op| Clause::Op(Box::new(op)))
                    .collect(),
                other => vec![Clause::Unknown(format!(
                    "`{other}` is not an ALTER TABLE clause"
                ))],
            }
        }
        Err(err) => vec![Clause::Unknown(parser_message(&err))],
    }
}

/// `ALGORITHM [=] x` and `LOCK [=] y`, and nothing else, in these tokens.
fn algorithm_lock(
    tokens: &[TokenWithSpan],
) -> Option<(Option<AlterTableAlgorithm>, Option<AlterTableLock>)> {
    let sig: Vec<&TokenWithSpan> = tokens.iter().filter(|t| significant(t)).collect();
    let (mut algorithm, mut lock) = (None, None);
    let mut i = 0;
    while i < sig.len() {
        let key = word(&sig[i].token)?;
        i += 1;
        if sig.get(i).is_some_and(|t| t.token == Token::Eq) {
            i += 1;
        }
        let value = word(&sig.get(i)?.token)?;
        i += 1;
        match (key.as_str(), value.as_str()) {
            ("ALGORITHM", "DEFAULT") => algorithm = Some(AlterTableAlgorithm::Default),
            ("ALGORITHM", "INSTANT") => algorithm = Some(AlterTableAlgorithm::Instant),
            ("ALGORITHM", "INPLACE") => algorithm = Some(AlterTableAlgorithm::Inplace),
            ("ALGORITHM", "COPY") => algorithm = Some(AlterTableAlgorithm::Copy),
            ("LOCK", "DEFAULT") => lock = Some(AlterTableLock::Default),
            ("LOCK", "NONE") => lock = Some(AlterTableLock::None),
            ("LOCK", "SHARED") => lock = Some(AlterTableLock::Shared),
            ("LOCK", "EXCLUSIVE") => lock = Some(AlterTableLock::Exclusive),
            _ => return None,
        }
    }
    Some((algorithm, lock))
}

// ---------------------------------------------------------------------------------------------
// Token helpers

/// An unquoted word, uppercase.
fn word(token: &Token) -> Option<String> {
    match token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    }
}

/// `a, s.b, c` (significant tokens).
fn name_list(tokens: &[&TokenWithSpan]) -> Vec<ObjectName> {
    let mut names = Vec::new();
    let mut i = 0;
    while let Some((name, used)) = tokens.get(i..).and_then(object_name) {
        names.push(name);
        i += used;
        if tokens.get(i).is_some_and(|t| t.token == Token::Comma) {
            i += 1;
        } else {
            break;
        }
    }
    names
}

fn shorten(text: &str) -> String {
    if text.chars().count() > 160 {
        format!("{}…", text.chars().take(159).collect::<String>())
    } else {
        text.to_string()
    }
}

fn parser_message(err: &ParserError) -> String {
    match err {
        ParserError::ParserError(message) | ParserError::TokenizerError(message) => message.clone(),
        ParserError::RecursionLimitExceeded => "the statement is nested too deeply".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(sql: &str) -> DataType {
        let statement = format!("CREATE TABLE t (c {sql})");
        match Parser::parse_sql(&MySqlDialect {}, &statement)
            .unwrap()
            .remove(0)
        {
            Statement::CreateTable(create) => create.columns[0].data_type.clone(),
            other => panic!("{other}"),
        }
    }

    fn column(sql: &str, nullable: bool, charset: Option<&str>) -> Column {
        Column {
            ty: ty(sql),
            nullable,
            charset: charset.map(str::to_string),
        }
    }

    fn table() -> TableRef {
        TableRef::new(&ObjectName::from(vec![Ident::new("orders")]))
    }

    /// `MODIFY c <new>` on a column that was `old` (None: unknown), in a table whose default
    /// character set is the old column's.
    fn modify(old: Option<Column>, new: &str, not_null: bool) -> Cost {
        let props = Props {
            not_null,
            ..Props::default()
        };
        let charset = old.as_ref().and_then(|c| c.charset.clone());
        modify_cost(
            &table(),
            charset.as_deref(),
            "c",
            old.as_ref(),
            &ty(new),
            &props,
            None,
        )
    }

    fn findings(text: &str) -> Vec<Finding> {
        let file = MigrationFile {
            path: "m.sql".into(),
            text: text.into(),
            in_deploy: true,
        };
        analyze(&[file], &Settings::default()).unwrap()
    }

    fn rules(text: &str) -> Vec<String> {
        findings(text)
            .into_iter()
            .map(|f| {
                format!(
                    "{}:{}",
                    f.location.unwrap().line.unwrap(),
                    f.rule.trim_start_matches("migrations/")
                )
            })
            .collect()
    }

    #[test]
    fn varchar_growth_depends_on_bytes_not_characters() {
        // utf8mb4 (the default): 4 bytes a character.
        assert_eq!(
            modify(
                Some(column("VARCHAR(64)", true, None)),
                "VARCHAR(128)",
                false
            )
            .level(),
            Level::Inplace
        );
        assert_eq!(
            modify(
                Some(column("VARCHAR(32)", true, None)),
                "VARCHAR(63)",
                false
            )
            .level(),
            Level::Inplace
        );
        assert_eq!(
            modify(
                Some(column("VARCHAR(32)", true, None)),
                "VARCHAR(64)",
                false
            )
            .level(),
            Level::Copy
        );
        // latin1: 1 byte a character.
        assert_eq!(
            modify(
                Some(column("VARCHAR(100)", true, Some("latin1"))),
                "VARCHAR(255)",
                false
            )
            .level(),
            Level::Inplace
        );
        let crossing = modify(
            Some(column("VARCHAR(255)", true, Some("latin1"))),
            "VARCHAR(256)",
            false,
        );
        assert!(
            matches!(&crossing, Cost::Copy { why, .. } if why.contains("crosses 255 bytes")),
            "{crossing:?}"
        );
        // Shrinking always copies.
        assert_eq!(
            modify(
                Some(column("VARCHAR(200)", true, None)),
                "VARCHAR(100)",
                false
            )
            .level(),
            Level::Copy
        );
    }

    #[test]
    fn type_changes_copy_and_null_changes_rebuild() {
        assert_eq!(
            modify(Some(column("INT", false, None)), "BIGINT", true).level(),
            Level::Copy
        );
        assert_eq!(
            modify(Some(column("INT(11)", false, None)), "INTEGER", true).level(),
            Level::Inplace
        );
        assert_eq!(
            modify(
                Some(column("DECIMAL(10,2)", true, None)),
                "DECIMAL(12,2)",
                false
            )
            .level(),
            Level::Copy
        );
        assert_eq!(
            modify(Some(column("DECIMAL", true, None)), "DECIMAL(10,0)", false).level(),
            Level::Inplace
        );
        let null_change = modify(
            Some(column("VARCHAR(255)", true, None)),
            "VARCHAR(255)",
            true,
        );
        assert!(
            matches!(&null_change, Cost::Rebuild { why } if why.contains("NOT NULL")),
            "{null_change:?}"
        );
        // MODIFY without NOT NULL makes a NOT NULL column nullable: a rebuild too.
        assert_eq!(
            modify(Some(column("BIGINT", false, None)), "BIGINT", false).level(),
            Level::Rebuild
        );
        // A type change that is also a NULL change is still a copy.
        assert_eq!(
            modify(Some(column("INT", true, None)), "BIGINT", true).level(),
            Level::Copy
        );
    }

    #[test]
    fn enum_and_set_appends_are_instant() {
        assert_eq!(
            modify(
                Some(column("ENUM('a','b')", true, None)),
                "ENUM('a','b','c')",
                false
            )
            .level(),
            Level::Instant
        );
        assert_eq!(
            modify(
                Some(column("ENUM('a','b')", true, None)),
                "ENUM('b','a','c')",
                false
            )
            .level(),
            Level::Copy
        );
        assert_eq!(
            modify(
                Some(column("ENUM('a','b')", true, None)),
                "ENUM('a')",
                false
            )
            .level(),
            Level::Copy
        );
        assert_eq!(
            modify(
                Some(column("SET('a','b')", true, None)),
                "SET('a','b','c')",
                false
            )
            .level(),
            Level::Instant
        );
        let eight: Vec<String> = (0..8).map(|i| format!("'v{i}'")).collect();
        let nine: Vec<String> = (0..9).map(|i| format!("'v{i}'")).collect();
        // Nine members need a second byte: not a metadata change.
        assert_eq!(
            modify(
                Some(column(&format!("SET({})", eight.join(",")), true, None)),
                &format!("SET({})", nine.join(",")),
                false
            )
            .level(),
            Level::Copy
        );
    }

    #[test]
    fn charset_changes_copy() {
        let cost = modify_cost(
            &table(),
            None,
            "c",
            Some(&column("VARCHAR(10)", true, Some("latin1"))),
            &ty("VARCHAR(10)"),
            &Props::default(),
            None,
        );
        assert!(
            matches!(&cost, Cost::Copy { why, .. } if why.contains("latin1 to utf8mb4")),
            "{cost:?}"
        );
        let same = Props {
            charset: Some("latin1".into()),
            ..Props::default()
        };
        let cost = modify_cost(
            &table(),
            None,
            "c",
            Some(&column("VARCHAR(10)", true, Some("latin1"))),
            &ty("VARCHAR(10)"),
            &same,
            None,
        );
        assert_eq!(cost.level(), Level::Inplace);
        assert_eq!(normalize_charset("`UTF8`"), "utf8mb3");
    }

    #[test]
    fn unknown_current_type() {
        let widening = modify(None, "VARCHAR(255)", false);
        assert!(
            matches!(&widening, Cost::Inplace { note: Some(note) } if note.contains("did not find orders.c's current type")),
            "{widening:?}"
        );
        let retype = modify(None, "BIGINT", true);
        assert!(
            matches!(&retype, Cost::Copy { why, .. } if why.contains("did not find orders.c's current type")),
            "{retype:?}"
        );
    }

    #[test]
    fn moving_a_column_rebuilds() {
        let props = Props {
            not_null: true,
            ..Props::default()
        };
        let position = MySQLColumnPosition::First;
        let cost = modify_cost(
            &table(),
            None,
            "c",
            Some(&column("INT", false, None)),
            &ty("INT"),
            &props,
            Some(&position),
        );
        assert_eq!(cost.level(), Level::Rebuild);
    }

    #[test]
    fn instant_ops_combined_with_inplace_ops_rebuild() {
        let found = rules(
            "SET lock_wait_timeout = 5;\nALTER TABLE t ADD COLUMN c INT NULL, ADD INDEX i (d);\nALTER TABLE t ADD COLUMN e INT NULL, ALGORITHM=INPLACE, LOCK=NONE;\nALTER TABLE t RENAME COLUMN a TO b, ALGORITHM=INPLACE, LOCK=NONE;\n",
        );
        assert_eq!(
            found,
            vec![
                "2:mysql-table-rebuild",
                "3:mysql-table-rebuild",
                "4:rename-column"
            ]
        );
    }

    #[test]
    fn textual_clauses_are_classified() {
        let found = rules(
            "SET lock_wait_timeout = 5;\n\
             ALTER TABLE t ENGINE = InnoDB;\n\
             ALTER TABLE t CONVERT TO CHARACTER SET utf8mb4;\n\
             ALTER TABLE t RENAME INDEX a TO b, ALGORITHM=INPLACE, LOCK=NONE;\n\
             ALTER TABLE t COMMENT = 'x', ALGORITHM=INPLACE, LOCK=NONE;\n\
             ALTER TABLE t ADD COLUMN (a INT NULL, b INT NULL), ALGORITHM=INSTANT;\n\
             ALTER TABLE t RENAME t2;\n\
             OPTIMIZE NO_WRITE_TO_BINLOG TABLE t2, t3;\n\
             ALTER TABLE t2 PARTITION BY HASH(id);\n",
        );
        assert_eq!(
            found,
            vec![
                "2:mysql-table-rebuild",
                "3:mysql-copy-algorithm",
                "7:rename-table",
                "7:mysql-missing-algorithm-lock",
                "8:mysql-table-rebuild",
                "8:mysql-table-rebuild",
                "9:unparsed-statement",
            ]
        );
    }

    #[test]
    fn lock_wait_timeout_is_session_scoped_and_once_per_file() {
        assert_eq!(
            rules("SET GLOBAL lock_wait_timeout = 5;\nDROP TABLE a;\nDROP TABLE b;\n"),
            vec![
                "2:mysql-missing-lock-wait-timeout",
                "2:drop-table",
                "3:drop-table"
            ]
        );
        assert_eq!(
            rules("SET @@SESSION.LOCK_WAIT_TIMEOUT = 5;\nDROP TABLE a;\n"),
            vec!["2:drop-table"]
        );
        assert_eq!(
            rules("SET lock_wait_timeout = DEFAULT;\nTRUNCATE TABLE a;\n"),
            vec!["2:mysql-missing-lock-wait-timeout"]
        );
        assert_eq!(
            rules("CREATE TABLE a (id INT);\nDROP TABLE a;\n"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn dropping_the_primary_key_copies_unless_another_is_added() {
        let found = rules(
            "SET lock_wait_timeout = 5;\n\
             ALTER TABLE t DROP PRIMARY KEY;\n\
             ALTER TABLE t DROP INDEX `PRIMARY`;\n\
             DROP INDEX `PRIMARY` ON t;\n\
             ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (a, b);\n",
        );
        assert_eq!(
            found,
            vec![
                "2:mysql-copy-algorithm",
                "3:mysql-copy-algorithm",
                "4:mysql-copy-algorithm",
                "5:mysql-table-rebuild"
            ]
        );
    }

    #[test]
    fn foreign_keys_copy_unless_checks_are_off() {
        let add = "ALTER TABLE o ADD CONSTRAINT fk FOREIGN KEY (c) REFERENCES c (id), ALGORITHM=INPLACE, LOCK=NONE;\n";
        let on = findings(&format!("SET lock_wait_timeout = 5;\n{add}"));
        assert_eq!(on.len(), 1);
        assert!(
            on[0].message.contains("MySQL rejects the statement"),
            "{}",
            on[0].message
        );
        assert!(
            findings(&format!(
                "SET lock_wait_timeout = 5;\nSET foreign_key_checks = OFF;\n{add}"
            ))
            .is_empty()
        );
    }

    #[test]
    fn instant_changes_without_the_option_are_info() {
        let found =
            findings("SET lock_wait_timeout = 5;\nALTER TABLE t ALTER COLUMN c SET DEFAULT 1;\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].rule, MYSQL_MISSING_ALGORITHM_LOCK.id);
        assert_eq!(found[0].severity, Severity::Info);
        assert_eq!(
            found[0].fix.as_deref(),
            Some("`ALTER TABLE t ALTER COLUMN c SET DEFAULT 1, ALGORITHM=INSTANT;`")
        );
    }

    #[test]
    fn add_column_not_null_needs_a_default_or_a_value() {
        let found = rules(
            "SET lock_wait_timeout = 5;\n\
             ALTER TABLE t ADD COLUMN a INT NOT NULL, ALGORITHM=INSTANT;\n\
             ALTER TABLE t ADD COLUMN b INT NOT NULL DEFAULT 0, ALGORITHM=INSTANT;\n\
             ALTER TABLE t ADD COLUMN c INT AS (b + 1) VIRTUAL NOT NULL, ALGORITHM=INSTANT;\n",
        );
        assert_eq!(found, vec!["2:add-column-not-null-without-default"]);
    }
}
