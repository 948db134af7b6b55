//! PostgreSQL statements with their positions and parse trees, from the real grammar.
//!
//! One bad statement must not hide the others: the whole text is parsed at once (fast path) and,
//! when that fails, split with libpg_query's scanner and parsed statement by statement, so the
//! bad one is reported at its own line. `DO` blocks are opened with the PL/pgSQL parser and the
//! statements inside become statements of their own, marked as nested.

use pg_query::NodeEnum;
use pg_query::protobuf::{self, a_const::Val};

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
    /// The parse tree, or why there is none.
    pub node: Result<NodeEnum, String>,
    pub origin: Origin,
}

impl Statement {
    fn new(file: &str, offset: usize, len: usize, node: Result<NodeEnum, String>) -> Statement {
        let end = (offset + len).min(file.len());
        let (line, column) = super::line_col(file, offset);
        Statement {
            offset,
            line,
            column,
            text: file.get(offset..end).unwrap_or("").trim_end().to_string(),
            node,
            origin: Origin::TopLevel,
        }
    }
}

/// Parse a whole migration file into statements, in order.
pub fn parse(file: &str) -> Vec<Statement> {
    if file.contains('\0') {
        return vec![Statement::new(
            file,
            0,
            0,
            Err("the file contains a NUL byte; it is not SQL text".to_string()),
        )];
    }
    let statements = match pg_query::parse(file, 0) {
        Ok(result) => result
            .protobuf
            .stmts
            .into_iter()
            .filter_map(|raw| {
                let offset = raw.stmt_location.max(0) as usize;
                let len = if raw.stmt_len == 0 {
                    file.len().saturating_sub(offset)
                } else {
                    raw.stmt_len as usize
                };
                let node = raw.stmt.and_then(|n| n.node)?;
                Some(Statement::new(file, offset, len, Ok(node)))
            })
            .collect(),
        Err(_) => parse_one_by_one(file),
    };
    expand_do_blocks(file, statements)
}

fn parse_one_by_one(file: &str) -> Vec<Statement> {
    let pieces = match pg_query::split_with_scanner(file) {
        Ok(pieces) => pieces,
        Err(err) => {
            // The scanner itself failed (an unterminated quote or dollar-quoted body): the rest of
            // the file cannot be split, so report where the scanner points.
            let message = error_text(&err);
            let offset = super::near_offset(file, 0, &message).unwrap_or(0);
            return vec![Statement::new(
                file,
                offset,
                file.len() - offset,
                Err(message),
            )];
        }
    };
    let mut out = Vec::new();
    for piece in pieces {
        let piece_offset = piece.as_ptr() as usize - file.as_ptr() as usize;
        let start = piece_offset + super::skip_trivia(piece);
        let len = piece_offset + piece.len() - start;
        match pg_query::parse(piece, 0) {
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
                out.push(Statement::new(file, start, len, Err(message)));
            }
        }
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
    let mut out = Vec::with_capacity(statements.len());
    for statement in statements {
        let nested = match &statement.node {
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
            match literal_of(&query) {
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
                        found.push(statement);
                    }
                    continue;
                }
            }
        } else {
            query
        };
        let node = pg_query::parse(&sql, 0)
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
            node,
            origin: origin.clone(),
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

/// `EXECUTE 'ALTER TABLE …'`: the literal SQL, when the expression is a plain string literal.
fn literal_of(expression: &str) -> Option<String> {
    let result = pg_query::parse(expression, pg_query::ParserOptions::PLPGSQL_EXPR).ok()?;
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
mod tests {
    use super::*;

    /// The first column's type in `CREATE TABLE t (c <sql>)`.
    fn column_type(sql: &str) -> ColumnType {
        let statements = parse(&format!("CREATE TABLE t (c {sql})"));
        let Ok(NodeEnum::CreateStmt(create)) = &statements[0].node else {
            panic!("{sql}");
        };
        let Some(NodeEnum::ColumnDef(def)) = create.table_elts[0].node.as_ref() else {
            panic!("{sql}");
        };
        ColumnType::of(def.type_name.as_ref().unwrap())
    }

    #[test]
    fn column_types_have_catalog_names_and_show_written_ones() {
        for (sql, name, shown) in [
            ("bigint", "int8", "bigint"),
            ("integer", "int4", "integer"),
            ("character varying(64)", "varchar", "varchar(64)"),
            ("numeric(10, 2)", "numeric", "numeric(10,2)"),
            ("double precision", "float8", "double precision"),
            ("timestamp with time zone", "timestamptz", "timestamptz"),
            ("char(3)", "bpchar", "char(3)"),
            ("int8[]", "int8[]", "int8[]"),
            ("serial", "serial", "serial"),
            ("\"Status\"", "Status", "Status"),
        ] {
            let ty = column_type(sql);
            assert_eq!(
                (ty.name.as_str(), ty.to_string().as_str()),
                (name, shown),
                "{sql}"
            );
        }
    }

    #[test]
    fn statements_keep_their_positions() {
        let file = "-- é comment\nCREATE INDEX a ON t (x);\n\n  ALTER TABLE t ADD COLUMN y int;";
        let statements = parse(file);
        assert_eq!(statements.len(), 2);
        assert_eq!((statements[0].line, statements[0].column), (2, 1));
        assert_eq!(statements[0].text, "CREATE INDEX a ON t (x)");
        assert_eq!((statements[1].line, statements[1].column), (4, 3));
    }

    #[test]
    fn one_bad_statement_does_not_hide_the_others() {
        let file =
            "CREATE INDEX a ON t (x);\nALTER TABLE t MODIFY COLUMN c bigint;\nDROP TABLE u;\n";
        let statements = parse(file);
        assert_eq!(statements.len(), 3);
        assert!(statements[0].node.is_ok());
        let bad = &statements[1];
        assert_eq!(bad.line, 2);
        assert!(bad.node.as_ref().unwrap_err().contains("syntax error"));
        assert!(matches!(statements[2].node, Ok(NodeEnum::DropStmt(_))));
    }

    #[test]
    fn do_blocks_are_opened() {
        let file = "DO $$\nBEGIN\n  ALTER TABLE orders ADD COLUMN y int;\n  EXECUTE 'DROP TABLE legacy';\nEND\n$$;\n";
        let statements = parse(file);
        let nested: Vec<_> = statements
            .iter()
            .filter(|s| s.origin == Origin::DoBlock)
            .collect();
        assert_eq!(nested.len(), 2, "{statements:#?}");
        assert_eq!(nested[0].line, 3);
        assert!(matches!(nested[0].node, Ok(NodeEnum::AlterTableStmt(_))));
        assert!(matches!(nested[1].node, Ok(NodeEnum::DropStmt(_))));
    }

    #[test]
    fn unterminated_dollar_quote_is_an_error_not_a_panic() {
        let statements = parse("SELECT 1;\nDO $$ BEGIN PERFORM 1;\n");
        assert!(statements.iter().any(|s| s.node.is_err()));
    }
}
