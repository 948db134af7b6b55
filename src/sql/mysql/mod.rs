//! MySQL statements as sqlparser tokens, shared by the `migrations` check and the database side
//! of `compat`: a file split into statements (with `DELIMITER` blocks and tokenizer errors as
//! their own pieces), the token helpers both read statements with, the clause-by-clause view of
//! an ALTER TABLE sqlparser rejects as a whole, and the column attributes that say how a column
//! is filled.
//!
//! Statements are split with sqlparser's tokenizer and parsed one by one by the callers, so one
//! statement sqlparser cannot parse hides nothing else.
//!
//! On top of that, the MySQL schema model and each statement's facts, for the rules of the
//! `migrations` check: `parse` (sqlparser with gonogo's limits, and the fallback reader for what
//! it rejects), `online_ddl` (how MySQL runs each ALTER operation: data), `cost` (that table
//! applied to the schema and to a statement as a whole), `schema` (tables and columns as the
//! migrations build them), `alter` (one ALTER operation's facts) and `facts` (files → statements
//! → facts).

mod alter;
mod changes;
pub mod cost;
pub mod facts;
pub mod online_ddl;
pub mod parse;
pub mod schema;

use sqlparser::ast::{ColumnOption, Expr, GeneratedExpressionMode, Ident, ObjectName};
use sqlparser::dialect::MySqlDialect;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, TokenizerError, Whitespace};

/// A file is tokenized in segments of about this many bytes, each cut after a line that ends with
/// `;`, so memory follows the segment, not the file.
const SEGMENT_BYTES: usize = 64 * 1024;

/// Where a statement starts (1-based; the column counts characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    pub line: u32,
    pub column: u32,
}

// ---------------------------------------------------------------------------------------------
// Splitting a file into statements

pub enum Piece {
    /// One statement's tokens, without the `;`.
    Statement(Vec<TokenWithSpan>),
    /// `DELIMITER x` … `DELIMITER ;`, skipped; `end_line: None` when it runs to the end.
    DelimiterBlock { start: Pos, end_line: Option<u32> },
    /// The tokenizer gave up here; nothing after it is analysed.
    TokenizerError { pos: Pos, message: String },
}

#[derive(Default)]
struct Splitter {
    pending: Vec<TokenWithSpan>,
    delimiter: Option<DelimiterBlock>,
}

struct DelimiterBlock {
    start: Pos,
    /// Just saw a `DELIMITER` word: a `;` next ends the block.
    closing: bool,
}

/// Split `text` into statements at `;`, in order, tokenizing it one segment at a time.
pub fn split(text: &str, visit: &mut dyn FnMut(Piece)) {
    let mut splitter = Splitter::default();
    let mut start = 0;
    let mut line_offset = 0u64;
    while start < text.len() {
        let end = segment_end(text, start);
        match tokenize(&text[start..end]) {
            Ok(tokens) => splitter.feed(tokens, line_offset, visit),
            Err(_) if end < text.len() => {
                // The cut may be inside a string or comment that spans lines: read the rest at once.
                match tokenize(&text[start..]) {
                    Ok(tokens) => splitter.feed(tokens, line_offset, visit),
                    Err(err) => return splitter.error(&text[start..], err, line_offset, visit),
                }
                break;
            }
            Err(err) => return splitter.error(&text[start..end], err, line_offset, visit),
        }
        line_offset += text[start..end].bytes().filter(|b| *b == b'\n').count() as u64;
        start = end;
    }
    splitter.finish(visit);
}

/// The statements of `text` alone, as tokens: `DELIMITER` blocks (stored programs, whose bodies
/// run later, not during the migration) are skipped, and after a tokenizer error only the
/// complete statements before it are kept.
pub fn statements(text: &str) -> Vec<Vec<TokenWithSpan>> {
    let mut out = Vec::new();
    split(text, &mut |piece| {
        if let Piece::Statement(tokens) = piece {
            out.push(tokens);
        }
    });
    out
}

fn tokenize(text: &str) -> Result<Vec<TokenWithSpan>, TokenizerError> {
    Tokenizer::new(&MySqlDialect {}, text).tokenize_with_location()
}

/// The end of the segment starting at `start`: after the first line ending with `;` once the
/// segment is `SEGMENT_BYTES` long, or the end of the text.
fn segment_end(text: &str, start: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start + SEGMENT_BYTES;
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            let line = &bytes[start..i];
            if line
                .iter()
                .rev()
                .find(|b| !matches!(b, b' ' | b'\t' | b'\r'))
                == Some(&b';')
            {
                return i + 1;
            }
        }
        i += 1;
    }
    text.len()
}

impl Splitter {
    fn feed(&mut self, tokens: Vec<TokenWithSpan>, line_offset: u64, visit: &mut dyn FnMut(Piece)) {
        for mut token in tokens {
            token.span.start.line += line_offset;
            token.span.end.line += line_offset;
            self.push(token, visit);
        }
    }

    fn push(&mut self, token: TokenWithSpan, visit: &mut dyn FnMut(Piece)) {
        if let Some(block) = &mut self.delimiter {
            match &token.token {
                Token::Whitespace(_) => {}
                Token::SemiColon if block.closing => {
                    let start = block.start;
                    self.delimiter = None;
                    visit(Piece::DelimiterBlock {
                        start,
                        end_line: Some(pos_of(&token).line),
                    });
                }
                other => block.closing = is_word(other, "DELIMITER"),
            }
            return;
        }
        if token.token == Token::SemiColon {
            let tokens = std::mem::take(&mut self.pending);
            if tokens.iter().any(significant) {
                visit(Piece::Statement(tokens));
            }
            return;
        }
        if significant(&token) {
            let mut sig = self.pending.iter().filter(|t| significant(t));
            let (first, second) = (sig.next(), sig.next());
            if let (Some(first), None) = (first, second)
                && is_word(&first.token, "DELIMITER")
            {
                // `DELIMITER //`: a mysql client command; what follows up to `DELIMITER ;`
                // is stored-program code with `;` inside.
                let start = pos_of(first);
                self.delimiter = Some(DelimiterBlock {
                    start,
                    closing: false,
                });
                self.pending.clear();
                return;
            }
        }
        self.pending.push(token);
    }

    fn finish(&mut self, visit: &mut dyn FnMut(Piece)) {
        self.unclosed_block(visit);
        let tokens = std::mem::take(&mut self.pending);
        if tokens.iter().any(significant) {
            visit(Piece::Statement(tokens));
        }
    }

    /// A `DELIMITER` block still open runs to the end of what was read.
    fn unclosed_block(&mut self, visit: &mut dyn FnMut(Piece)) {
        if let Some(block) = self.delimiter.take() {
            visit(Piece::DelimiterBlock {
                start: block.start,
                end_line: None,
            });
        }
    }

    /// The tokenizer failed in `text` (a segment starting at a line start): analyse the complete
    /// statements before the error, then report it.
    fn error(
        &mut self,
        text: &str,
        err: TokenizerError,
        line_offset: u64,
        visit: &mut dyn FnMut(Piece),
    ) {
        let mut cut = byte_offset(text, err.location.line, err.location.column);
        for _ in 0..3 {
            match tokenize(&text[..cut]) {
                Ok(tokens) => {
                    self.feed(tokens, line_offset, visit);
                    break;
                }
                Err(again) => {
                    let shorter =
                        byte_offset(&text[..cut], again.location.line, again.location.column);
                    if shorter >= cut {
                        break;
                    }
                    cut = shorter;
                }
            }
        }
        // The statement with the error is incomplete: the error stands for it.
        self.pending.clear();
        self.unclosed_block(visit);
        visit(Piece::TokenizerError {
            pos: Pos {
                line: to_u32(err.location.line.max(1) + line_offset),
                column: to_u32(err.location.column.max(1)),
            },
            message: err.message,
        });
    }
}

/// The byte offset of a 1-based line and character column in `text` (its end if past it).
fn byte_offset(text: &str, line: u64, column: u64) -> usize {
    if line == 0 {
        return text.len();
    }
    let mut current = 1u64;
    let mut line_start = 0;
    if line > 1 {
        let mut found = false;
        for (i, b) in text.bytes().enumerate() {
            if b == b'\n' {
                current += 1;
                if current == line {
                    line_start = i + 1;
                    found = true;
                    break;
                }
            }
        }
        if !found {
            return text.len();
        }
    }
    let skip = usize::try_from(column.saturating_sub(1)).unwrap_or(usize::MAX);
    text[line_start..]
        .char_indices()
        .nth(skip)
        .map_or(text.len(), |(i, _)| line_start + i)
}

// ---------------------------------------------------------------------------------------------
// ALTER TABLE, clause by clause

/// An ALTER TABLE taken apart at its commas, for a statement sqlparser rejects as a whole (a
/// clause it does not know, such as `CONVERT TO CHARACTER SET`): each clause can then be read
/// alone after `header`, so the clauses sqlparser knows still count.
pub struct AlterClauses<'t> {
    /// The table as named: `t`, `s.t`, `` `s`.`t` ``.
    pub name: ObjectName,
    /// `ALTER TABLE name ` (without ONLINE / IGNORE), to parse one clause after.
    pub header: Vec<TokenWithSpan>,
    /// Each comma-separated clause (outside parentheses) that has a significant token, with its
    /// whitespace and comments.
    pub clauses: Vec<&'t [TokenWithSpan]>,
}

/// `ALTER [ONLINE | IGNORE] TABLE name clause, clause, …` taken apart; `None` when the tokens are
/// not an ALTER TABLE with a name.
pub fn alter_clauses(tokens: &[TokenWithSpan]) -> Option<AlterClauses<'_>> {
    let sig: Vec<usize> = (0..tokens.len())
        .filter(|&i| significant(&tokens[i]))
        .collect();
    if !is_word(&tokens[*sig.first()?].token, "ALTER") {
        return None;
    }
    let mut i = 1;
    while sig.get(i).is_some_and(|&k| {
        is_word(&tokens[k].token, "ONLINE") || is_word(&tokens[k].token, "IGNORE")
    }) {
        i += 1;
    }
    let &table_index = sig.get(i)?;
    if !is_word(&tokens[table_index].token, "TABLE") {
        return None;
    }
    let name_start = *sig.get(i + 1)?;
    let refs: Vec<&TokenWithSpan> = tokens[name_start..]
        .iter()
        .filter(|t| significant(t))
        .collect();
    let (name, used) = object_name(&refs)?;
    // The token index just past the name.
    let name_end = sig.get(i + 1 + used).copied().unwrap_or(tokens.len());
    let space = TokenWithSpan::wrap(Token::Whitespace(Whitespace::Space));
    let mut header = vec![
        tokens[sig[0]].clone(),
        space.clone(),
        tokens[table_index].clone(),
        space.clone(),
    ];
    header.extend(
        tokens[name_start..name_end]
            .iter()
            .filter(|t| significant(t))
            .cloned(),
    );
    header.push(space);
    let clauses = split_commas(&tokens[name_end..])
        .into_iter()
        .filter(|c| c.iter().any(significant))
        .collect();
    Some(AlterClauses {
        name,
        header,
        clauses,
    })
}

// ---------------------------------------------------------------------------------------------
// Column attributes

/// The column attributes of a column definition that say how the column is filled and what it
/// rejects.
#[derive(Debug, Default)]
pub struct Props<'a> {
    pub not_null: bool,
    pub default: bool,
    pub auto_increment: bool,
    /// `Some(true)`: a STORED generated column; `Some(false)`: VIRTUAL.
    pub generated: Option<bool>,
    pub primary_key: bool,
    pub unique: bool,
    /// The expressions of its enforced CHECKs (`NOT ENFORCED` ones never reject a write).
    pub checks: Vec<&'a Expr>,
    /// Its own character set, normalised (see [`normalize_charset`]).
    pub charset: Option<String>,
}

impl<'a> Props<'a> {
    pub fn of(options: impl Iterator<Item = &'a ColumnOption>) -> Props<'a> {
        let mut props = Props::default();
        for option in options {
            match option {
                ColumnOption::NotNull => props.not_null = true,
                ColumnOption::Null => props.not_null = false,
                ColumnOption::Default(_) => props.default = true,
                ColumnOption::DialectSpecific(tokens)
                    if tokens.iter().any(|t| is_word(t, "AUTO_INCREMENT")) =>
                {
                    props.auto_increment = true;
                }
                ColumnOption::Generated {
                    generation_expr: Some(_),
                    generation_expr_mode,
                    ..
                } => {
                    props.generated =
                        Some(*generation_expr_mode == Some(GeneratedExpressionMode::Stored))
                }
                ColumnOption::PrimaryKey(_) => props.primary_key = true,
                ColumnOption::Unique(_) => props.unique = true,
                ColumnOption::Check(check) if check.enforced != Some(false) => {
                    props.checks.push(&check.expr)
                }
                ColumnOption::CharacterSet(name) => {
                    props.charset = Some(normalize_charset(&name.to_string()))
                }
                _ => {}
            }
        }
        props
    }

    pub fn nullable(&self) -> bool {
        !(self.not_null || self.primary_key)
    }

    /// MySQL fills it when an INSERT leaves it out: DEFAULT, AUTO_INCREMENT, generated.
    pub fn filled(&self) -> bool {
        self.default || self.auto_increment || self.generated.is_some()
    }
}

/// A character set name as MySQL 8 means it: unquoted, lower-case, `utf8` is `utf8mb3`.
pub fn normalize_charset(name: &str) -> String {
    let name = name
        .trim_matches(|c| c == '`' || c == '\'' || c == '"')
        .to_lowercase();
    if name == "utf8" {
        "utf8mb3".to_string()
    } else {
        name
    }
}

// ---------------------------------------------------------------------------------------------
// Token helpers

/// Not whitespace (comments included) and not the end.
pub fn significant(token: &TokenWithSpan) -> bool {
    !matches!(token.token, Token::Whitespace(_) | Token::EOF)
}

pub fn pos_of(token: &TokenWithSpan) -> Pos {
    Pos {
        line: to_u32(token.span.start.line.max(1)),
        column: to_u32(token.span.start.column.max(1)),
    }
}

fn to_u32(n: u64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// An unquoted word, compared case-insensitively.
pub fn is_word(token: &Token, expected: &str) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && w.value.eq_ignore_ascii_case(expected))
}

/// `a`, `s.a`, `` `s`.`a` `` at the start of these (significant) tokens, and how many it used.
pub fn object_name(tokens: &[&TokenWithSpan]) -> Option<(ObjectName, usize)> {
    let ident = |t: &TokenWithSpan| match &t.token {
        Token::Word(w) => Some(Ident {
            value: w.value.clone(),
            quote_style: w.quote_style,
            span: t.span,
        }),
        _ => None,
    };
    let mut idents = vec![ident(tokens.first()?)?];
    let mut used = 1;
    while tokens.get(used).is_some_and(|t| t.token == Token::Period) {
        let Some(next) = tokens.get(used + 1).and_then(|t| ident(t)) else {
            break;
        };
        idents.push(next);
        used += 2;
    }
    Some((ObjectName::from(idents), used))
}

/// Split at commas outside parentheses.
pub fn split_commas(tokens: &[TokenWithSpan]) -> Vec<&[TokenWithSpan]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        match token.token {
            Token::LParen => depth += 1,
            Token::RParen => depth = depth.saturating_sub(1),
            Token::Comma if depth == 0 => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tokens[start..]);
    parts
}

/// The tokens as one line of SQL, comments dropped.
pub fn render(tokens: &[TokenWithSpan]) -> String {
    let mut out = String::new();
    for token in tokens {
        match &token.token {
            Token::Whitespace(_) => {
                if !out.is_empty() && !out.ends_with(' ') {
                    out.push(' ');
                }
            }
            Token::EOF => {}
            other => out.push_str(&other.to_string()),
        }
    }
    out.trim_end().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each piece of `text` in one line: the statement as SQL, `block <start> <end>`, or
    /// `error <line>:<column>`.
    fn pieces(text: &str) -> Vec<String> {
        let mut pieces = Vec::new();
        split(text, &mut |piece| {
            pieces.push(match piece {
                Piece::Statement(tokens) => render(&tokens),
                Piece::DelimiterBlock { start, end_line } => {
                    format!("block {} {:?}", start.line, end_line)
                }
                Piece::TokenizerError { pos, .. } => format!("error {}:{}", pos.line, pos.column),
            })
        });
        pieces
    }

    #[test]
    fn statements_are_split_with_their_positions() {
        let text = "-- header; not a statement\nSET SESSION lock_wait_timeout = 5;\n\n  /* c */ ALTER TABLE a\n  ADD INDEX i (x);SELECT ';';\n";
        let starts: Vec<(u32, u32, String)> = statements(text)
            .iter()
            .map(|tokens| {
                let first = pos_of(tokens.iter().find(|t| significant(t)).unwrap());
                (first.line, first.column, render(tokens))
            })
            .collect();
        assert_eq!(
            starts,
            vec![
                (2, 1, "SET SESSION lock_wait_timeout = 5".to_string()),
                (4, 11, "ALTER TABLE a ADD INDEX i (x)".to_string()),
                (5, 19, "SELECT ';'".to_string()),
            ]
        );
    }

    #[test]
    fn delimiter_blocks_are_skipped_as_one_piece() {
        let text = "DELIMITER ;\nDELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; SELECT 2; END //\nDELIMITER ;\nALTER TABLE a FORCE;\nDELIMITER $$\nCREATE TRIGGER x";
        assert_eq!(
            pieces(text),
            vec![
                "DELIMITER",
                "block 2 Some(4)",
                "ALTER TABLE a FORCE",
                "block 6 None"
            ]
        );
    }

    #[test]
    fn tokenizer_errors_keep_the_statements_before_them() {
        let text = "ALTER TABLE a FORCE;\nALTER TABLE b FORCE; SELECT 'oops\n;ALTER TABLE c FORCE;";
        assert_eq!(
            pieces(text),
            vec!["ALTER TABLE a FORCE", "ALTER TABLE b FORCE", "error 2:29"]
        );
    }

    #[test]
    fn byte_offsets_count_characters() {
        let text = "ab\nçé'x";
        assert_eq!(byte_offset(text, 1, 1), 0);
        assert_eq!(byte_offset(text, 2, 3), 3 + 4);
        assert_eq!(byte_offset(text, 9, 1), text.len());
        assert_eq!(byte_offset(text, 0, 0), text.len());
    }

    #[test]
    fn segments_end_after_a_line_ending_in_a_semicolon() {
        let line = "ALTER TABLE t ADD COLUMN c INT;\n";
        let text = line.repeat(SEGMENT_BYTES / line.len() + 10);
        let end = segment_end(&text, 0);
        assert!(
            end > SEGMENT_BYTES && end < text.len() && text[..end].ends_with(";\n"),
            "{end}"
        );
        assert_eq!(segment_end("short;", 0), 6);
    }

    #[test]
    fn alter_clauses_keep_the_name_and_split_outside_parentheses() {
        let tokens = &statements("ALTER ONLINE TABLE s.`T` ADD c DECIMAL(10, 2), /* x */ FORCE")[0];
        let alter = alter_clauses(tokens).unwrap();
        assert_eq!(alter.name.to_string(), "s.`T`");
        assert_eq!(render(&alter.header), "ALTER TABLE s.`T`");
        let clauses: Vec<String> = alter.clauses.iter().map(|c| render(c)).collect();
        assert_eq!(clauses, vec!["ADD c DECIMAL(10, 2)", "FORCE"]);
        for other in ["ALTER VIEW v AS SELECT 1", "DROP TABLE t", "ALTER TABLE"] {
            assert!(alter_clauses(&statements(other)[0]).is_none(), "{other}");
        }
    }
}
