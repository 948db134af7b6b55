//! sqlparser's MySQL dialect with gonogo's limits, and the fallback reader for what it rejects:
//! an ALTER TABLE clause sqlparser does not know (`ENGINE=…`, `FORCE`, `CONVERT TO CHARACTER
//! SET`, `RENAME INDEX`, …) is recognised from its tokens (the online-DDL table) or parsed alone.

use super::cost::{Cost, Op};
use super::online_ddl;
use super::{object_name, render, significant, split_commas};
use sqlparser::ast::{
    AlterTableAlgorithm, AlterTableLock, AlterTableOperation, ObjectName, RenameTableNameKind,
    Statement,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Whitespace};

/// The deepest nesting of parentheses and brackets a statement may have. Hand-written DDL nests a
/// few levels (a generated column's expression, a CHECK, a partition list); anything deeper is
/// generated or hostile input, reported as unparsed (quickly) rather than handed to the parser.
pub const MAX_NESTING: usize = 32;

/// sqlparser's own limit on nested expressions and queries, which also bounds recursion that
/// takes no parentheses (`NOT NOT NOT …`, `- - - 1`); sqlparser's default is 50.
const PARSER_RECURSION_LIMIT: usize = 50;

/// Stack for the thread that parses: MAX_NESTING levels of the deepest-recursing construct seen
/// (parenthesised table references, ~110 KiB a level in a debug build) fit with a wide margin.
pub const PARSER_STACK_BYTES: usize = 64 * 1024 * 1024;

/// How deep `(`/`[` nest in `tokens`, counting unbalanced opening ones.
pub fn nesting_depth(tokens: &[TokenWithSpan]) -> usize {
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
pub fn mysql_parser(dialect: &MySqlDialect, tokens: Vec<TokenWithSpan>) -> Parser<'_> {
    Parser::new(dialect)
        .with_recursion_limit(PARSER_RECURSION_LIMIT)
        .with_tokens_with_locations(tokens)
}

/// One clause of an ALTER TABLE, parsed or recognised from its tokens.
pub enum Clause {
    Op(Box<AlterTableOperation>),
    Text(Op),
    /// Not understood: the parser's message.
    Unknown(String),
}

/// A statement read with sqlparser: the statement and the tokens it left unread (empty when it
/// read them all), or sqlparser's message.
pub fn read(tokens: Vec<TokenWithSpan>) -> Result<(Statement, Vec<TokenWithSpan>), String> {
    let dialect = MySqlDialect {};
    let mut parser = mysql_parser(&dialect, tokens);
    let statement = parser
        .parse_statement()
        .map_err(|err| parser_message(&err))?;
    let mut rest = Vec::new();
    loop {
        let token = parser.next_token();
        if token.token == Token::EOF {
            break;
        }
        rest.push(token);
    }
    Ok((statement, rest))
}

// ---------------------------------------------------------------------------------------------
// Clauses sqlparser does not parse

/// One clause of an ALTER TABLE that failed to parse as a whole, recognised from its tokens or
/// parsed alone after `header` (`ALTER TABLE name `).
pub fn text_clause(header: &[TokenWithSpan], clause: &[TokenWithSpan]) -> Vec<Clause> {
    let sig: Vec<&TokenWithSpan> = clause.iter().filter(|t| significant(t)).collect();
    let word_at = |i: usize| sig.get(i).and_then(|t| word(&t.token));
    let sql = render(clause);
    let text = |cost: Cost| vec![Clause::Text(Op::new(sql.clone(), sql.clone(), cost))];
    let (first, second) = (word_at(0), word_at(1));
    if let Some(online) = online_ddl::clause(first.as_deref(), second.as_deref()) {
        return text(Cost::from(online));
    }
    match (first.as_deref(), second.as_deref()) {
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
        (Some("ALTER"), _)
            if sig
                .last()
                .and_then(|t| word(&t.token))
                .is_some_and(|w| w == "VISIBLE" || w == "INVISIBLE") =>
        {
            text(Cost::from(online_ddl::METADATA_ONLY))
        }
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

/// One clause of an ALTER TABLE parsed alone after `header` (`ALTER TABLE name `): its
/// operations, or why sqlparser could not read it.
pub fn parse_clause(header: &[TokenWithSpan], clause: &[TokenWithSpan]) -> Vec<Clause> {
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
pub fn algorithm_lock(
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
pub fn word(token: &Token) -> Option<String> {
    match token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.value.to_ascii_uppercase()),
        _ => None,
    }
}

/// `a, s.b, c` (significant tokens).
pub fn name_list(tokens: &[&TokenWithSpan]) -> Vec<ObjectName> {
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

pub fn parser_message(err: &ParserError) -> String {
    match err {
        ParserError::ParserError(message) | ParserError::TokenizerError(message) => message.clone(),
        ParserError::RecursionLimitExceeded => "the statement is nested too deeply".to_string(),
    }
}
