//! PostgreSQL statements with their positions and parse trees, from the real grammar.
//!
//! One bad statement must not hide the others: the whole text is parsed at once (fast path) and,
//! when that fails, split with libpg_query's scanner and parsed statement by statement, so the
//! bad one is reported at its own line. `DO` blocks are opened with the PL/pgSQL parser and the
//! statements inside become statements of their own, marked as nested.
//!
//! Backslashes in string literals: PostgreSQL reads `'a\'` as a complete literal only while
//! `standard_conforming_strings` is on (the default since 9.1); with it off, `\'` is an escaped
//! quote and the literal goes on. A file that turns it off (`SET standard_conforming_strings =
//! off`, or changes `backslash_quote`) is re-read from that statement on the way the server
//! reads it (libpg_query's parser options), so the statements gonogo sees are the ones the
//! server runs. Where the file changes these settings in a way gonogo does not follow
//! (`set_config`, a `DO` block, `SET LOCAL`), every statement from the first one with a
//! backslash on is reported as unparsed: its reading, and where it ends, depend on the setting.
//!
//! On top of the parse: [`follow`] walks a project's migration files in order and writes down the
//! facts the rules judge ([`operations`]): each statement's operations on existing or new tables,
//! its locks, its long work and its transaction, with the [`schema`] built so far. That schema is
//! the one PostgreSQL schema model (tables, columns with type, NOT NULL and default,
//! constraints, indexes, enums, partitions, domains), and the follower is the only code that
//! changes it; `rollback` follows ups and downs over a schema of its own ([`shape::Replay`])
//! and compares the [`shape`]s it takes.

pub mod ast;
mod chunks;
pub mod follow;
pub mod live;
pub mod operations;
pub mod schema;
pub mod shape;

pub use follow::{FollowOptions, follow, follow_file, follow_sql};
pub use operations::{blocks, lock_name};
use std::sync::Arc;

use pg_query::protobuf::{self, a_const::Val};
use pg_query::{NodeEnum, ParserOptions};

/// How the server reads backslashes in `'…'` literals at a statement: the session's
/// `standard_conforming_strings` and `backslash_quote` as the file has left them (PostgreSQL's
/// defaults at the start: on, and `safe_encoding`, which allows `\'` in UTF-8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lexing {
    pub standard_conforming_strings: bool,
    pub backslash_quote: bool,
}

impl Default for Lexing {
    fn default() -> Self {
        Lexing {
            standard_conforming_strings: true,
            backslash_quote: true,
        }
    }
}

impl Lexing {
    pub fn options(self) -> ParserOptions {
        let mut options = ParserOptions::DEFAULT;
        if !self.standard_conforming_strings {
            options |= ParserOptions::DISABLE_STANDARD_CONFORMING_STRINGS;
        }
        if !self.backslash_quote {
            options |= ParserOptions::DISABLE_BACKSLASH_QUOTE;
        }
        options
    }
}

/// What a statement does to [`Lexing`].
#[derive(Debug, PartialEq)]
enum LexingChange {
    None,
    To(Lexing),
    /// It may change them, in a way gonogo does not follow.
    Unknown,
}

fn lexing_change(statement: &Statement, current: Lexing) -> LexingChange {
    use protobuf::VariableSetKind as Kind;
    const NAMES: [&str; 2] = ["standard_conforming_strings", "backslash_quote"];
    let mentions = || {
        let lower = statement.text.to_ascii_lowercase();
        NAMES.iter().any(|n| lower.contains(n))
    };
    let set = match statement.node.as_deref() {
        Ok(NodeEnum::VariableSetStmt(set)) => set,
        // DISCARD ALL runs RESET ALL.
        Ok(NodeEnum::DiscardStmt(_)) => return LexingChange::To(Lexing::default()),
        _ if mentions() => return LexingChange::Unknown,
        _ => return LexingChange::None,
    };
    let kind = Kind::try_from(set.kind).unwrap_or(Kind::Undefined);
    if kind == Kind::VarResetAll {
        return match Lexing::default() == current {
            true => LexingChange::None,
            false => LexingChange::To(Lexing::default()),
        };
    }
    if !NAMES.contains(&set.name.as_str()) {
        return LexingChange::None;
    }
    // SET LOCAL ends with the transaction, which gonogo does not follow here.
    if set.is_local {
        return LexingChange::Unknown;
    }
    let value = match kind {
        Kind::VarSetDefault | Kind::VarReset => None,
        Kind::VarSetValue => match set.args.first().and_then(|a| a.node.as_ref()) {
            Some(NodeEnum::AConst(constant)) => match &constant.val {
                Some(Val::Sval(s)) => Some(s.sval.to_ascii_lowercase()),
                Some(Val::Boolval(b)) => Some(if b.boolval { "on" } else { "off" }.to_string()),
                Some(Val::Ival(i)) => Some(i.ival.to_string()),
                _ => return LexingChange::Unknown,
            },
            _ => return LexingChange::Unknown,
        },
        _ => return LexingChange::Unknown,
    };
    // PostgreSQL's boolean spellings (parse_bool accepts unique prefixes too).
    let boolean = |v: &str| match v {
        "on" | "true" | "yes" | "1" | "t" | "y" | "tr" | "tru" | "ye" => Some(true),
        "off" | "false" | "no" | "0" | "f" | "n" | "of" | "fa" | "fal" | "fals" => Some(false),
        _ => None,
    };
    let mut next = current;
    if set.name == "standard_conforming_strings" {
        next.standard_conforming_strings = match value.as_deref() {
            None => true,
            Some(v) => match boolean(v) {
                Some(b) => b,
                None => return LexingChange::Unknown,
            },
        };
    } else {
        // backslash_quote: on | off | safe_encoding (which allows \' in UTF-8, gonogo's input).
        next.backslash_quote = match value.as_deref() {
            None | Some("safe_encoding") => true,
            Some(v) => match boolean(v) {
                Some(b) => b,
                None => return LexingChange::Unknown,
            },
        };
    }
    if next == current {
        LexingChange::None
    } else {
        LexingChange::To(next)
    }
}

/// Where a nested statement came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    TopLevel,
    /// Inside a `DO` block (run now, in the migration's transaction).
    DoBlock,
    /// Inside a function that this file calls.
    Function(String),
}

#[derive(Debug)]
pub struct Statement {
    /// Byte offset of the statement's first token in the file.
    pub offset: usize,
    pub line: u32,
    pub column: u32,
    /// The statement's text, without the trailing `;`.
    pub text: String,
    /// The parse tree, or why there is none. Behind a pointer, and shared by the plain
    /// `INSERT … VALUES` statements of one table (see `chunks`): the node enum is as large as its
    /// largest inline variant (~600 bytes), which a seed file of 150,000 INSERTs paid 130 MB
    /// for, one identical tree per statement.
    pub node: Result<Arc<NodeEnum>, String>,
    pub origin: Origin,
    /// How the server reads backslashes in this statement's literals (what it was parsed with).
    pub lexing: Lexing,
}

impl Statement {
    fn new(file: &str, offset: usize, len: usize, node: Result<NodeEnum, String>) -> Statement {
        Statement::shared(file, offset, len, node.map(Arc::new))
    }

    fn shared(
        file: &str,
        offset: usize,
        len: usize,
        node: Result<Arc<NodeEnum>, String>,
    ) -> Statement {
        let end = (offset + len).min(file.len());
        Statement {
            offset,
            // Filled in by `parse` for every statement at once (`with_positions`): computing
            // them one by one from the start of the file is quadratic in the statements.
            line: 0,
            column: 0,
            text: file.get(offset..end).unwrap_or("").trim_end().to_string(),
            node,
            origin: Origin::TopLevel,
            lexing: Lexing::default(),
        }
    }
}

/// Why a statement was not read, as far as it decides a deploy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unread {
    /// PostgreSQL's own grammar (libpg_query is the server's parser) rejects the statement as
    /// written: the server would refuse it too, and the migration fails when it runs.
    Rejected,
    /// gonogo cannot tell what the server would do: a psql meta-command, an unexpanded template
    /// placeholder or psql variable, SQL built at run time, a PL/pgSQL body, backslashes read
    /// under settings gonogo does not follow.
    NotSure,
}

/// Text that marks a statement as a template or a psql script rather than SQL for the server:
/// the first one found, for the reason.
fn template_marker(text: &str) -> Option<String> {
    let excerpt = |start: usize, end: Option<usize>| {
        let end = end.map_or(text.len(), |e| e.min(text.len()));
        let mut cut: String = text[start..end].chars().take(60).collect();
        if cut.len() < end - start {
            cut.push('…');
        }
        cut
    };
    // Go templates (pop, buffalo): `{{ … }}`; Flyway, Liquibase and shell-style: `${…}`;
    // ERB: `<% … %>`.
    for (open, close) in [("{{", "}}"), ("${", "}"), ("<%", "%>")] {
        if let Some(start) = text.find(open) {
            let end = text[start..].find(close).map(|e| start + e + close.len());
            return Some(format!("the template placeholder {}", excerpt(start, end)));
        }
    }
    // psql variables: `:name`, `:'name'`, `:"name"` (a cast `::type` is not one).
    let bytes = text.as_bytes();
    for (i, _) in text.match_indices(':') {
        let before = i.checked_sub(1).map(|b| bytes[b]);
        let after = bytes.get(i + 1).copied();
        let variable = before != Some(b':')
            && matches!(after, Some(b'\'' | b'"' | b'a'..=b'z' | b'A'..=b'Z' | b'_'))
            && !matches!(
                before,
                Some(b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'_' | b'\'')
            );
        if variable {
            let end = text[i + 1..]
                .find(|c: char| c.is_whitespace() || c == ')' || c == ',' || c == ';')
                .map(|e| i + 1 + e);
            return Some(format!("the psql variable {}", excerpt(i, end)));
        }
    }
    None
}

impl Statement {
    /// `None` when the statement parsed; otherwise whether the server would reject it too.
    pub fn unread(&self) -> Option<Unread> {
        let reason = self.node.as_ref().err()?;
        let gonogo_reason = reason.starts_with("gonogo ")
            || reason.starts_with(PSQL_META_COMMAND)
            || reason.starts_with("the file contains a NUL")
            || reason.starts_with("EXECUTE of ")
            || reason.starts_with("cannot read the PL/pgSQL body");
        if self.origin != Origin::TopLevel || gonogo_reason || template_marker(&self.text).is_some()
        {
            Some(Unread::NotSure)
        } else {
            Some(Unread::Rejected)
        }
    }

    /// Why the statement was not read, in words: the parser's reason, with what made gonogo
    /// unsure when the text is a template.
    pub fn unread_reason(&self) -> Option<String> {
        let reason = self.node.as_ref().err()?;
        Some(match template_marker(&self.text) {
            Some(marker) if !reason.starts_with(PSQL_META_COMMAND) => format!(
                "{marker} is not SQL: the runner must expand it before PostgreSQL reads the statement, and gonogo does not know its value ({reason})"
            ),
            _ => reason.clone(),
        })
    }
}

/// How many of these statements gonogo could not read (either kind of [`Unread`]): what every
/// summary built on them must say instead of calling the migration clean.
pub fn unread_count(statements: &[Statement]) -> usize {
    statements.iter().filter(|s| s.node.is_err()).count()
}

/// The start of the reason given to a psql meta-command.
const PSQL_META_COMMAND: &str = "a psql meta-command";

/// Parse a whole migration file into statements, in order, each read the way the server reads
/// it at that point of the file (see [`Lexing`]).
pub fn parse(file: &str) -> Vec<Statement> {
    if file.contains('\0') {
        return with_positions(
            &super::LineIndex::new(file),
            vec![Statement::new(
                file,
                0,
                0,
                Err("the file contains a NUL byte; it is not SQL text".to_string()),
            )],
        );
    }
    let index = super::LineIndex::new(file);
    let mut out = Vec::new();
    let mut start = 0;
    let mut lexing = Lexing::default();
    // The line of a statement that may have changed the settings in a way gonogo cannot follow.
    let mut uncertain: Option<u32> = None;
    // The statements are judged in place and moved, never copied: a seed-data file has tens of
    // thousands, and a second vector of them doubled the peak memory.
    loop {
        let mut statements = parse_from(file, start, lexing);
        let mut next = None;
        let mut stop = false;
        let mut keep = statements.len();
        for (i, statement) in statements.iter_mut().enumerate() {
            if let Some(line) = uncertain
                && statement.text.contains('\\')
            {
                let rest = file.len() - statement.offset;
                *statement = Statement::new(
                    file,
                    statement.offset,
                    rest,
                    Err(format!(
                        "gonogo cannot tell how PostgreSQL reads the backslashes here, nor where this statement ends: line {line} may change standard_conforming_strings or backslash_quote in a way gonogo does not follow; the rest of the file is not analysed"
                    )),
                );
                keep = i + 1;
                stop = true;
                break;
            }
            statement.lexing = lexing;
            match lexing_change(statement, lexing) {
                LexingChange::None => {}
                LexingChange::Unknown => {
                    if uncertain.is_none() {
                        uncertain = Some(index.line_col(statement.offset).0);
                    }
                }
                LexingChange::To(new) => {
                    next = Some((statement.offset + statement.text.len(), new));
                    keep = i + 1;
                    break;
                }
            }
        }
        statements.truncate(keep);
        if out.is_empty() {
            out = statements;
        } else {
            out.append(&mut statements);
        }
        match next {
            // The rest of the file, read with the new settings.
            Some((end, new)) if !stop => {
                start = end;
                lexing = new;
            }
            _ => break,
        }
    }
    // Positions before the DO blocks are expanded: their statements count lines from the
    // block's own line.
    let out = with_positions(&index, out);
    with_positions(&index, expand_do_blocks(file, out))
}

/// The line and column of every statement [`Statement::new`] made, from one line index.
fn with_positions(index: &super::LineIndex, mut statements: Vec<Statement>) -> Vec<Statement> {
    for statement in statements.iter_mut().filter(|s| s.line == 0) {
        (statement.line, statement.column) = index.line_col(statement.offset);
    }
    statements
}

/// The statements of `file[start..]`, read with `lexing`, positioned in `file`.
fn parse_from(file: &str, start: usize, lexing: Lexing) -> Vec<Statement> {
    let segment = &file[start..];
    if lexing == Lexing::default()
        && segment.len() > chunks::CHUNK_BYTES
        && let Some(statements) = chunks::parse_in_chunks(file, start)
    {
        return statements;
    }
    match pg_query::parse(segment, lexing.options()) {
        Ok(result) => chunks::statements_of(file, start, file.len(), result.protobuf.stmts),
        Err(_) if lexing != Lexing::default() => {
            // The rest of the file may go back to the standard reading further on (`RESET
            // standard_conforming_strings`), where this reading fails: the shortest prefix, cut
            // at a `;`, that parses and changes the settings again, then the rest on its own.
            for (cut, _) in segment.match_indices(';').take(MAX_PREFIX_ATTEMPTS) {
                let prefix = &segment[..=cut];
                let Ok(result) = pg_query::parse(prefix, lexing.options()) else {
                    continue;
                };
                let statements: Vec<Statement> = result
                    .protobuf
                    .stmts
                    .into_iter()
                    .filter_map(|raw| {
                        let offset = start + raw.stmt_location.max(0) as usize;
                        let len = if raw.stmt_len == 0 {
                            start + prefix.len() - offset
                        } else {
                            raw.stmt_len as usize
                        };
                        let node = raw.stmt.and_then(|n| n.node)?;
                        Some(Statement::new(file, offset, len, Ok(node)))
                    })
                    .collect();
                if statements
                    .iter()
                    .any(|s| matches!(lexing_change(s, lexing), LexingChange::To(_)))
                {
                    return statements;
                }
            }
            parse_one_by_one(file, start, lexing)
        }
        Err(_) => parse_one_by_one(file, start, lexing),
    }
}

/// How many `;`-cut prefixes [`parse_from`] tries before giving up on a file that changes
/// standard_conforming_strings and has a syntax error (each try parses the prefix).
const MAX_PREFIX_ATTEMPTS: usize = 400;

fn parse_one_by_one(file: &str, start: usize, lexing: Lexing) -> Vec<Statement> {
    let segment = &file[start..];
    let pieces = match pg_query::split_with_scanner(segment) {
        Ok(pieces) => pieces,
        Err(err) => {
            // The scanner itself failed (an unterminated quote or dollar-quoted body): the rest of
            // the file cannot be split, so report where the scanner points.
            let message = error_text(&err);
            let offset = start + super::near_offset(segment, 0, &message).unwrap_or(0);
            return vec![Statement::new(
                file,
                offset,
                file.len() - offset,
                Err(message),
            )];
        }
    };
    let mut out = Vec::new();
    for piece in with_gaps(segment, pieces) {
        let piece_offset = piece.as_ptr() as usize - file.as_ptr() as usize;
        let first = piece_offset + super::skip_trivia(piece);
        // libpg_query's scanner reads literals the standard way only: with other settings its
        // pieces are right up to the first backslash, and nothing after it can be trusted.
        if lexing != Lexing::default() && piece.contains('\\') {
            out.push(Statement::new(
                file,
                first,
                file.len() - first,
                Err("gonogo cannot tell where this statement ends: the file turned standard_conforming_strings or backslash_quote off, a statement from here on has a syntax error, and where it ends depends on the backslashes in its strings; the rest of the file is not analysed".to_string()),
            ));
            break;
        }
        let piece = split_meta_commands(file, piece, &mut out);
        if piece.trim().is_empty() {
            continue;
        }
        let piece_offset = piece.as_ptr() as usize - file.as_ptr() as usize;
        let first = piece_offset + super::skip_trivia(piece);
        let len = piece_offset + piece.len() - first;
        match pg_query::parse(piece, lexing.options()) {
            Ok(result) => {
                for raw in result.protobuf.stmts {
                    let offset = piece_offset + raw.stmt_location.max(0) as usize;
                    let len = if raw.stmt_len == 0 {
                        piece_offset + piece.len() - offset
                    } else {
                        raw.stmt_len as usize
                    };
                    if let Some(node) = raw.stmt.and_then(|n| n.node) {
                        out.push(Statement::new(file, offset, len, Ok(node)));
                    }
                }
            }
            Err(err) => {
                let message = error_text(&err);
                out.push(Statement::new(file, first, len, Err(message)));
            }
        }
    }
    out
}

/// psql meta-commands at the start of `piece` (`\connect other_db`, `\set x 1`, `\i file.sql`):
/// one line each, read by psql, never sent to the server, so not a grammar error of PostgreSQL;
/// but gonogo does not follow what they do (another database, included files, variables), so
/// each is a statement gonogo is not sure of. Returns the rest of the piece.
fn split_meta_commands<'a>(file: &str, mut piece: &'a str, out: &mut Vec<Statement>) -> &'a str {
    loop {
        let start = super::skip_trivia(piece);
        if !piece[start..].starts_with('\\') {
            return piece;
        }
        let end = piece[start..].find('\n').map_or(piece.len(), |e| start + e);
        let offset = piece.as_ptr() as usize - file.as_ptr() as usize + start;
        let command = piece[start..end].trim_end();
        let name = command.split_whitespace().next().unwrap_or(command);
        out.push(Statement::new(
            file,
            offset,
            command.len(),
            Err(format!(
                "{PSQL_META_COMMAND} ({name}): psql runs it, not the server, and gonogo does not follow what it does (another database, an included file, a variable); run the file with psql and check this by hand"
            )),
        ));
        piece = &piece[end..];
    }
}

/// The scanner's pieces of `segment`, plus any text between them that is more than `;`,
/// whitespace and comments. libpg_query's scanner split drops a leading statement it cannot
/// classify (`SELEC 1;` yields no piece at all): such text must reach the parser and be reported
/// as unparsable, never vanish.
fn with_gaps<'a>(segment: &'a str, pieces: Vec<&'a str>) -> Vec<&'a str> {
    let mut out = Vec::with_capacity(pieces.len());
    let mut covered = 0;
    let base = segment.as_ptr() as usize;
    let gap = |from: usize, to: usize, out: &mut Vec<&'a str>| {
        for part in segment[from..to].split(';') {
            let rest = &part[super::skip_trivia(part)..];
            if !rest.trim().is_empty() {
                out.push(part);
            }
        }
    };
    for piece in pieces {
        let start = piece.as_ptr() as usize - base;
        if start > covered {
            gap(covered, start, &mut out);
        }
        covered = covered.max(start + piece.len());
        out.push(piece);
    }
    if covered < segment.len() {
        gap(covered, segment.len(), &mut out);
    }
    out
}

fn error_text(err: &pg_query::Error) -> String {
    match err {
        pg_query::Error::Parse(m) | pg_query::Error::Split(m) | pg_query::Error::Scan(m) => {
            m.clone()
        }
        other => other.to_string(),
    }
}

/// Replace each `DO` block by itself followed by the statements inside it (marked `DoBlock`).
fn expand_do_blocks(file: &str, statements: Vec<Statement>) -> Vec<Statement> {
    if !statements
        .iter()
        .any(|s| matches!(s.node.as_deref(), Ok(NodeEnum::DoStmt(_))))
    {
        return statements;
    }
    let mut out = Vec::with_capacity(statements.len());
    for statement in statements {
        let nested = match statement.node.as_deref() {
            Ok(NodeEnum::DoStmt(_)) => Some(plpgsql_statements(file, &statement, Origin::DoBlock)),
            _ => None,
        };
        out.push(statement);
        if let Some(nested) = nested {
            out.extend(nested);
        }
    }
    out
}

/// The SQL statements a PL/pgSQL block or function runs, positioned in the file.
pub fn plpgsql_statements(file: &str, outer: &Statement, origin: Origin) -> Vec<Statement> {
    let mut found = Vec::new();
    let parsed = match pg_query::parse_plpgsql(&outer.text) {
        Ok(json) => json,
        Err(err) => {
            let mut statement = Statement::new(
                file,
                outer.offset,
                outer.text.len(),
                Err(format!(
                    "cannot read the PL/pgSQL body: {}",
                    error_text(&err)
                )),
            );
            statement.origin = origin;
            statement.lexing = outer.lexing;
            return vec![statement];
        }
    };
    let mut queries = Vec::new();
    collect_plpgsql(&parsed, &mut queries);
    // PL/pgSQL line numbers count from the line holding the opening dollar quote.
    let body_line = outer
        .text
        .find("$")
        .map(|i| outer.text[..i].matches('\n').count() as u32)
        .unwrap_or(0);
    for (query, lineno, dynamic) in queries {
        let line = outer.line + body_line + lineno.saturating_sub(1);
        let offset = line_offset(file, line);
        let sql = if dynamic {
            match literal_of(&query, outer.lexing) {
                Some(literal) => literal,
                None => {
                    if mentions_ddl_or_dml(&query) {
                        let mut statement = Statement::new(
                            file,
                            offset,
                            0,
                            Err(format!(
                                "EXECUTE of a query built at run time ({}); gonogo cannot see which tables it locks",
                                query.trim()
                            )),
                        );
                        statement.text = query.trim().to_string();
                        statement.origin = origin.clone();
                        statement.lexing = outer.lexing;
                        found.push(statement);
                    }
                    continue;
                }
            }
        } else {
            query
        };
        let node = pg_query::parse(&sql, outer.lexing.options())
            .map_err(|e| error_text(&e))
            .and_then(|result| {
                result
                    .protobuf
                    .stmts
                    .into_iter()
                    .next()
                    .and_then(|raw| raw.stmt.and_then(|n| n.node))
                    .ok_or_else(|| "empty statement".to_string())
            });
        let (line, column) = super::line_col(file, offset + super::skip_trivia(&file[offset..]));
        found.push(Statement {
            offset,
            line,
            column,
            text: sql.trim().to_string(),
            node: node.map(Arc::new),
            origin: origin.clone(),
            lexing: outer.lexing,
        });
    }
    found
}

fn line_offset(file: &str, line: u32) -> usize {
    if line <= 1 {
        return 0;
    }
    file.match_indices('\n')
        .nth(line as usize - 2)
        .map_or(file.len(), |(i, _)| i + 1)
}

/// Walk parse_plpgsql's JSON for the SQL it runs: (query, line in body, is EXECUTE).
fn collect_plpgsql(value: &serde_json::Value, out: &mut Vec<(String, u32, bool)>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                let (pointer, dynamic) = match key.as_str() {
                    "PLpgSQL_stmt_execsql" => ("/sqlstmt/PLpgSQL_expr/query", false),
                    "PLpgSQL_stmt_dynexecute" => ("/query/PLpgSQL_expr/query", true),
                    _ => ("", false),
                };
                if !pointer.is_empty()
                    && let Some(query) = child.pointer(pointer).and_then(|q| q.as_str())
                {
                    let line = child.get("lineno").and_then(|l| l.as_u64()).unwrap_or(1);
                    out.push((query.to_string(), line as u32, dynamic));
                }
                collect_plpgsql(child, out);
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|i| collect_plpgsql(i, out)),
        _ => {}
    }
}

/// Every SQL statement and expression a PL/pgSQL body (a `DO` block or a `CREATE FUNCTION`'s
/// text) may run, parsed: statements, `PERFORM`, assignments, conditions, and `EXECUTE` of a
/// string literal. `Err` with what it is when some of it cannot be read: SQL built at run time
/// (`EXECUTE` of an expression, `FOR … IN EXECUTE`, `OPEN … FOR EXECUTE`), or text that does not
/// parse. For deciding whether the body is safe to run, not for findings (see
/// [`plpgsql_statements`]).
pub fn plpgsql_sql(text: &str, lexing: Lexing) -> Result<Vec<NodeEnum>, String> {
    let parsed = pg_query::parse_plpgsql(text)
        .map_err(|e| format!("its PL/pgSQL body does not parse: {}", error_text(&e)))?;
    let mut out = Vec::new();
    plpgsql_walk(&parsed, lexing, &mut out)?;
    Ok(out)
}

fn plpgsql_walk(
    value: &serde_json::Value,
    lexing: Lexing,
    out: &mut Vec<NodeEnum>,
) -> Result<(), String> {
    let query_of = |expr: &serde_json::Value| {
        expr.pointer("/PLpgSQL_expr/query")
            .and_then(|q| q.as_str())
            .map(str::to_string)
    };
    match value {
        serde_json::Value::Object(map) => {
            for (key, child) in map {
                let dynamic = match key.as_str() {
                    "PLpgSQL_stmt_dynexecute" | "PLpgSQL_stmt_dynfors" => child.get("query"),
                    "dynquery" => Some(child),
                    _ => None,
                };
                if let Some(expr) = dynamic.and_then(query_of) {
                    match literal_of(&expr, lexing) {
                        Some(sql) => out.extend(parse_sql(&sql, lexing)?),
                        None => {
                            return Err(format!(
                                "EXECUTE of SQL built at run time ({})",
                                expr.trim()
                            ));
                        }
                    }
                }
                if key == "PLpgSQL_expr"
                    && let Some(query) = child.get("query").and_then(|q| q.as_str())
                {
                    out.extend(parse_sql(query, lexing)?);
                }
                plpgsql_walk(child, lexing, out)?;
            }
            Ok(())
        }
        serde_json::Value::Array(items) => {
            for item in items {
                plpgsql_walk(item, lexing, out)?;
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// A PL/pgSQL query or expression: a statement, an expression, or an assignment `x := …`.
fn parse_sql(text: &str, lexing: Lexing) -> Result<Vec<NodeEnum>, String> {
    for mode in [
        ParserOptions::DEFAULT,
        ParserOptions::PLPGSQL_EXPR,
        ParserOptions::PLPGSQL_ASSIGN1,
        ParserOptions::PLPGSQL_ASSIGN2,
        ParserOptions::PLPGSQL_ASSIGN3,
    ] {
        if let Ok(result) = pg_query::parse(text, mode | lexing.options()) {
            return Ok(result
                .protobuf
                .stmts
                .into_iter()
                .filter_map(|raw| raw.stmt.and_then(|n| n.node))
                .collect());
        }
    }
    Err(format!("SQL gonogo cannot parse ({})", text.trim()))
}

/// `EXECUTE 'ALTER TABLE …'`: the literal SQL, when the expression is a plain string literal.
fn literal_of(expression: &str, lexing: Lexing) -> Option<String> {
    let result =
        pg_query::parse(expression, ParserOptions::PLPGSQL_EXPR | lexing.options()).ok()?;
    let raw = result.protobuf.stmts.first()?;
    let Some(NodeEnum::SelectStmt(select)) = raw.stmt.as_ref().and_then(|n| n.node.as_ref()) else {
        return None;
    };
    let Some(NodeEnum::ResTarget(target)) =
        select.target_list.first().and_then(|n| n.node.as_ref())
    else {
        return None;
    };
    let Some(NodeEnum::AConst(constant)) = target.val.as_ref().and_then(|v| v.node.as_ref()) else {
        return None;
    };
    match &constant.val {
        Some(Val::Sval(s)) => Some(s.sval.clone()),
        _ => None,
    }
}

fn mentions_ddl_or_dml(text: &str) -> bool {
    let upper = text.to_ascii_uppercase();
    [
        "ALTER ", "DROP ", "CREATE ", "TRUNCATE", "UPDATE ", "DELETE ", "REINDEX", "VACUUM",
        "CLUSTER", "LOCK ",
    ]
    .iter()
    .any(|keyword| upper.contains(keyword))
}

// ---------------------------------------------------------------------------------------------
// Column types

/// A column's declared type: the catalog's name (`bigint` → `int8`, `character varying` →
/// `varchar`), `[]` after it for an array, and its modifiers (`varchar(64)` → ("varchar", [64])).
/// Shown with the names people write (`int8` as `bigint`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnType {
    pub name: String,
    pub mods: Vec<i64>,
}

impl ColumnType {
    /// The type as declared. Names other than the built-in spellings keep their case: the parser
    /// has folded unquoted ones already.
    pub fn of(type_name: &protobuf::TypeName) -> ColumnType {
        let raw = strings(&type_name.names).next_back().unwrap_or_default();
        let name = match raw.to_ascii_lowercase().as_str() {
            "int" | "integer" | "int4" => "int4",
            "bigint" | "int8" => "int8",
            "smallint" | "int2" => "int2",
            "character varying" | "varchar" => "varchar",
            "character" | "char" | "bpchar" => "bpchar",
            "decimal" | "numeric" => "numeric",
            "float8" | "double precision" => "float8",
            "float4" | "real" => "float4",
            "bool" | "boolean" => "bool",
            "timestamp with time zone" | "timestamptz" => "timestamptz",
            "timestamp without time zone" | "timestamp" => "timestamp",
            "bit varying" | "varbit" => "varbit",
            _ => raw,
        };
        let mods = type_name
            .typmods
            .iter()
            .filter_map(|m| match m.node.as_ref() {
                Some(NodeEnum::AConst(c)) => match &c.val {
                    Some(Val::Ival(i)) => Some(i64::from(i.ival)),
                    _ => None,
                },
                _ => None,
            })
            .collect();
        let array = if type_name.array_bounds.is_empty() {
            ""
        } else {
            "[]"
        };
        ColumnType {
            name: format!("{name}{array}"),
            mods,
        }
    }
}

impl std::fmt::Display for ColumnType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(written_type_name(&self.name))?;
        if !self.mods.is_empty() {
            let mods: Vec<String> = self.mods.iter().map(i64::to_string).collect();
            write!(f, "({})", mods.join(","))?;
        }
        Ok(())
    }
}

/// The strings of a list of name nodes (`pg_catalog.int8` → `pg_catalog`, `int8`), skipping others.
pub fn strings(nodes: &[protobuf::Node]) -> impl DoubleEndedIterator<Item = &str> {
    nodes.iter().filter_map(|n| match n.node.as_ref() {
        Some(NodeEnum::String(s)) => Some(s.sval.as_str()),
        _ => None,
    })
}

/// The string constants of a statement (quotes removed, `''` undoubled), from PostgreSQL's own
/// scanner: text in comments is not a constant.
pub fn string_literals(text: &str) -> Vec<String> {
    let Ok(tokens) = pg_query::scan_tokens(text) else {
        return Vec::new();
    };
    tokens
        .iter()
        .filter(|t| t.token == protobuf::Token::Sconst as i32)
        .filter_map(|t| text.get(t.start as usize..t.end as usize))
        .filter_map(|quoted| {
            let inner = quoted.strip_prefix('\'')?.strip_suffix('\'')?;
            Some(inner.replace("''", "'"))
        })
        .collect()
}

/// Show the names people write, not the catalog's: `int8` → `bigint`; other names as they are.
pub fn written_type_name(catalog: &str) -> &str {
    match catalog {
        "int8" => "bigint",
        "int4" => "integer",
        "int2" => "smallint",
        "float8" => "double precision",
        "float4" => "real",
        "bool" => "boolean",
        "bpchar" => "char",
        other => other,
    }
}

#[cfg(test)]
mod tests;
