//! MySQL migrations → schema changes, from sqlparser's MySQL dialect. Files are split into
//! statements by `crate::sql::mysql` (stored programs between `DELIMITER` lines skipped); an ALTER
//! TABLE sqlparser rejects as a whole is read clause by clause.

use super::{At, ChangeKind, Column, State, Ty, int_rank, missing, narrowed, sorted_names};
use crate::sql::files::MigrationFile;
use crate::sql::mysql::facts::with_parser_stack;
use crate::sql::mysql::parse::{Clause, MAX_NESTING, nesting_depth, parse_clause, read};
use crate::sql::mysql::{
    Props, alter_clauses, is_word, pos_of, significant, split_commas, statements,
};
use sqlparser::ast::{
    AlterTableOperation, AssignmentTarget, ColumnOption, CreateTable, CreateTableLikeKind,
    DataType, EnumMember, Expr, Ident, IndexColumn, ObjectName, ObjectNamePart,
    RenameTableNameKind, SetExpr, Statement as MyStatement, TableConstraint, TableFactor,
    TableObject, TableWithJoins,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

pub(super) fn file(state: &mut State, file: &MigrationFile, text: &str) {
    // Parsed as the migrations check parses: on a thread with a stack for sqlparser's recursion,
    // and statements nested deeper than MAX_NESTING skipped (the migrations check reports them
    // as unparsed). A parenthesised table reference 25 levels deep overflowed a tokio worker's
    // 2 MiB stack here, which aborts the whole process.
    with_parser_stack(|| statements_of(state, file, text));
}

fn statements_of(state: &mut State, file: &MigrationFile, text: &str) {
    for tokens in statements(text) {
        let Some(first) = tokens.iter().find(|t| significant(t)) else {
            continue;
        };
        if nesting_depth(&tokens) > MAX_NESTING {
            state.unread += usize::from(file.in_deploy);
            continue;
        }
        let pos = pos_of(first);
        let at = At {
            path: &file.path,
            in_deploy: file.in_deploy,
            line: pos.line,
            column: pos.column,
        };
        // Read as the migrations check reads it (the same parser, the same clause fallback).
        match read(tokens.clone()) {
            Ok((statement, rest)) if rest.is_empty() => {
                mysql_statement(state, at, &tokens, statement)
            }
            _ => mysql_alter_by_clause(state, at, &tokens),
        }
    }
}

fn mysql_statement(state: &mut State, at: At, tokens: &[TokenWithSpan], statement: MyStatement) {
    match statement {
        MyStatement::CreateTable(create) => mysql_create_table(state, at, &create),
        MyStatement::AlterTable(alter) => {
            let table = my_table(&alter.name);
            let positions = op_positions(at, tokens, alter.operations.len());
            for (op, op_at) in alter.operations.iter().zip(positions) {
                mysql_alter_op(state, op_at, &table, op);
            }
        }
        MyStatement::CreateIndex(index) if index.unique => {
            let table = my_table(&index.table_name);
            let columns = index_columns(&index.columns, &table);
            state.emit(
                at,
                &table,
                ChangeKind::AddUnique {
                    columns,
                    unless_null: Vec::new(),
                },
            );
        }
        MyStatement::Drop {
            object_type: sqlparser::ast::ObjectType::Table,
            names,
            temporary: false,
            ..
        } => {
            for name in &names {
                state.drop_table(at, &my_table(name));
            }
        }
        MyStatement::RenameTable(renames) => {
            for rename in &renames {
                state.rename_table(at, &my_table(&rename.old_name), &my_table(&rename.new_name));
            }
        }
        MyStatement::Update(update) => {
            let Some((table, alias)) = table_and_alias(&update.table) else {
                return;
            };
            let qualifiers = [table.clone(), alias];
            for assignment in &update.assignments {
                let AssignmentTarget::ColumnName(target) = &assignment.target else {
                    continue;
                };
                let parts: Vec<String> = target
                    .0
                    .iter()
                    .filter_map(ObjectNamePart::as_ident)
                    .map(my_ident)
                    .collect();
                let (column, qualified_elsewhere) = match parts.as_slice() {
                    [column] => (column.clone(), false),
                    [.., qualifier, column] => (column.clone(), !qualifiers.contains(qualifier)),
                    [] => continue,
                };
                if qualified_elsewhere {
                    continue;
                }
                let mentioned = my_columns(&assignment.value, &qualifiers);
                let from_columns: Vec<String> = sorted_names(mentioned, None)
                    .into_iter()
                    .filter(|c| !c.eq_ignore_ascii_case(&column))
                    .collect();
                state.backfill(at, &table, column, from_columns);
            }
        }
        MyStatement::Insert(insert) => {
            let TableObject::TableName(name) = &insert.table else {
                return;
            };
            let table = my_table(name);
            if let Some(query) = &insert.source {
                mysql_copy_from(state, at, &table, &query.body);
            }
        }
        _ => {}
    }
}

fn mysql_create_table(state: &mut State, at: At, create: &CreateTable) {
    let table = my_table(&create.name);
    if create.if_not_exists && state.tables.contains_key(&state.key(&table)) {
        return;
    }
    let mut columns: Vec<(String, Column)> = match &create.like {
        Some(CreateTableLikeKind::Plain(like) | CreateTableLikeKind::Parenthesized(like)) => state
            .tables
            .get(&state.key(&my_table(&like.name)))
            .map(|c| c.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
            .unwrap_or_default(),
        None => Vec::new(),
    };
    for def in &create.columns {
        let props = Props::of(def.options.iter().map(|o| &o.option));
        let column = Column {
            ty: Some(my_type(&def.data_type)),
            not_null: !props.nullable(),
        };
        columns.push((my_ident(&def.name), column));
    }
    for constraint in &create.constraints {
        if let TableConstraint::PrimaryKey(pk) = constraint {
            let keys = index_columns(&pk.columns, &table);
            for (name, column) in &mut columns {
                column.not_null |= keys.iter().any(|k| k.eq_ignore_ascii_case(name));
            }
        }
    }
    state.create_table(at, &table, columns);
    if let Some(query) = &create.query {
        mysql_copy_from(state, at, &table, &query.body);
    }
}

fn mysql_alter_op(state: &mut State, at: At, table: &str, op: &AlterTableOperation) {
    match op {
        AlterTableOperation::AddColumn { column_def, .. } => {
            let props = Props::of(column_def.options.iter().map(|o| &o.option));
            let column = my_ident(&column_def.name);
            let info = Column {
                ty: Some(my_type(&column_def.data_type)),
                not_null: !props.nullable(),
            };
            state.add_column(at, table, &column, info, props.filled(), props.unique);
            for check in &props.checks {
                mysql_check(state, at, table, check);
            }
        }
        AlterTableOperation::DropColumn { column_names, .. } => {
            for column in column_names {
                state.drop_column(at, table, &my_ident(column));
            }
        }
        AlterTableOperation::RenameColumn {
            old_column_name,
            new_column_name,
        } => {
            state.rename_column(
                at,
                table,
                &my_ident(old_column_name),
                &my_ident(new_column_name),
            );
        }
        AlterTableOperation::ChangeColumn {
            old_name,
            new_name,
            data_type,
            options,
            ..
        } => {
            let (old, new) = (my_ident(old_name), my_ident(new_name));
            let known = state.column(table, &old).cloned();
            if !old.eq_ignore_ascii_case(&new) {
                state.rename_column(at, table, &old, &new);
            }
            mysql_modify(state, at, table, &new, known, data_type, options);
        }
        AlterTableOperation::ModifyColumn {
            col_name,
            data_type,
            options,
            ..
        } => {
            let column = my_ident(col_name);
            let known = state.column(table, &column).cloned();
            mysql_modify(state, at, table, &column, known, data_type, options);
        }
        AlterTableOperation::AddConstraint { constraint, .. } => match constraint {
            TableConstraint::Unique(unique) => {
                let columns = index_columns(&unique.columns, table);
                state.emit(
                    at,
                    table,
                    ChangeKind::AddUnique {
                        columns,
                        unless_null: Vec::new(),
                    },
                );
            }
            TableConstraint::PrimaryKey(pk) => {
                let columns = index_columns(&pk.columns, table);
                state.add_primary_key(at, table, columns);
            }
            TableConstraint::Check(check) if check.enforced != Some(false) => {
                mysql_check(state, at, table, &check.expr);
            }
            _ => {}
        },
        AlterTableOperation::RenameTable { table_name } => {
            let (RenameTableNameKind::To(new) | RenameTableNameKind::As(new)) = table_name;
            state.rename_table(at, table, &my_table(new));
        }
        _ => {}
    }
}

/// MODIFY / CHANGE: the whole new definition replaces the old one.
fn mysql_modify(
    state: &mut State,
    at: At,
    table: &str,
    column: &str,
    known: Option<Column>,
    data_type: &DataType,
    options: &[ColumnOption],
) {
    let props = Props::of(options.iter());
    let to = my_type(data_type);
    let from = known.as_ref().and_then(|c| c.ty.clone());
    match &from {
        // MySQL rejects (strict mode) or blanks (otherwise) a value missing from the ENUM;
        // appending or reordering values keeps every value the old code writes valid.
        Some(from) if from.name == "enum" && to.name == "enum" => {
            let removed = missing(&from.values, &to.values);
            if !removed.is_empty() {
                state.enum_values_removed(at, table, column, None, removed);
            }
        }
        Some(from) if *from == to => {}
        _ => {
            let from = from.as_ref();
            state.type_changed(at, table, column, from, &to, narrowed(from, &to));
        }
    }
    // MODIFY/CHANGE restates the whole column: nullable now, NOT NULL before.
    if props.nullable() && known.as_ref().is_some_and(|c| c.not_null) {
        state.emit(
            at,
            table,
            ChangeKind::DropNotNull {
                column: column.to_string(),
            },
        );
    }
    if !props.nullable() && !known.as_ref().is_some_and(|c| c.not_null) {
        state.emit(
            at,
            table,
            ChangeKind::SetNotNull {
                column: column.to_string(),
            },
        );
    }
    state.set_column(
        table,
        column,
        Column {
            ty: Some(to),
            not_null: !props.nullable(),
        },
    );
}

fn mysql_check(state: &mut State, at: At, table: &str, expr: &Expr) {
    let mentioned = my_columns(expr, &[table.to_string()]);
    state.add_check(at, table, mentioned, expr.to_string(), false);
}

fn mysql_copy_from(state: &mut State, at: At, table: &str, body: &SetExpr) {
    let mut sources = Vec::new();
    my_select_sources(body, &mut sources);
    let key = state.key(table);
    let sources: Vec<String> = sorted_names(sources, None)
        .into_iter()
        .filter(|s| state.key(s) != key)
        .collect();
    for from in sources {
        state.emit(at, table, ChangeKind::CopyFrom { from });
    }
}

fn my_select_sources(body: &SetExpr, out: &mut Vec<String>) {
    match body {
        SetExpr::Select(select) => {
            for from in &select.from {
                for factor in
                    std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation))
                {
                    if let TableFactor::Table { name, .. } = factor {
                        out.push(my_table(name));
                    }
                }
            }
        }
        SetExpr::Query(query) => my_select_sources(&query.body, out),
        SetExpr::SetOperation { left, right, .. } => {
            my_select_sources(left, out);
            my_select_sources(right, out);
        }
        _ => {}
    }
}

/// An ALTER TABLE sqlparser rejects as a whole (a clause it does not know, such as
/// `CONVERT TO CHARACTER SET`): each comma-separated clause is parsed alone, so the clauses it
/// knows still count.
fn mysql_alter_by_clause(state: &mut State, at: At, tokens: &[TokenWithSpan]) {
    let Some(alter) = alter_clauses(tokens) else {
        return;
    };
    let table = my_table(&alter.name);
    for clause in alter.clauses {
        for op in parse_clause(&alter.header, clause) {
            if let Clause::Op(op) = op {
                mysql_alter_op(state, at_first(at, clause), &table, &op);
            }
        }
    }
}

/// Each ALTER operation's position: after the commas outside parentheses, when they match.
fn op_positions<'a>(at: At<'a>, tokens: &[TokenWithSpan], count: usize) -> Vec<At<'a>> {
    let clauses = split_commas(tokens);
    if clauses.len() != count {
        return vec![at; count];
    }
    clauses
        .iter()
        .enumerate()
        .map(|(index, clause)| if index > 0 { at_first(at, clause) } else { at })
        .collect()
}

/// `at`, moved to the first significant token of `tokens` when there is one.
fn at_first<'a>(at: At<'a>, tokens: &[TokenWithSpan]) -> At<'a> {
    match tokens.iter().find(|t| significant(t)) {
        Some(first) => {
            let pos = pos_of(first);
            At {
                line: pos.line,
                column: pos.column,
                ..at
            }
        }
        None => at,
    }
}

/// Backquoted identifiers keep their case; others are lower-cased.
fn name_of(value: &str, quote_style: Option<char>) -> String {
    if quote_style.is_some() {
        value.to_string()
    } else {
        value.to_lowercase()
    }
}

fn my_ident(ident: &Ident) -> String {
    name_of(&ident.value, ident.quote_style)
}

fn my_table(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(ObjectNamePart::as_ident)
        .map(my_ident)
        .unwrap_or_default()
}

fn table_and_alias(from: &TableWithJoins) -> Option<(String, String)> {
    match &from.relation {
        TableFactor::Table { name, alias, .. } => Some((
            my_table(name),
            alias
                .as_ref()
                .map(|a| my_ident(&a.name))
                .unwrap_or_default(),
        )),
        _ => None,
    }
}

fn index_columns(columns: &[IndexColumn], table: &str) -> Vec<String> {
    columns
        .iter()
        .flat_map(|c| match &c.column.expr {
            Expr::Identifier(ident) => vec![my_ident(ident)],
            other => sorted_names(my_columns(other, &[table.to_string()]), None),
        })
        .collect()
}

/// Words that are part of an expression's syntax, not column names.
const EXPRESSION_WORDS: &[&str] = &[
    "AND",
    "OR",
    "NOT",
    "XOR",
    "NULL",
    "IS",
    "TRUE",
    "FALSE",
    "UNKNOWN",
    "CASE",
    "WHEN",
    "THEN",
    "ELSE",
    "END",
    "IN",
    "BETWEEN",
    "LIKE",
    "REGEXP",
    "RLIKE",
    "ESCAPE",
    "AS",
    "DIV",
    "MOD",
    "INTERVAL",
    "COLLATE",
    "BINARY",
    "DISTINCT",
    "SEPARATOR",
    "MICROSECOND",
    "SECOND",
    "MINUTE",
    "HOUR",
    "DAY",
    "WEEK",
    "MONTH",
    "QUARTER",
    "YEAR",
    "CURRENT_TIMESTAMP",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "USING",
];

/// Column names an expression mentions (unqualified, or qualified by one of `tables`), read from
/// its tokens: names not followed by `(` (functions), not after AS (CAST types), not syntax.
fn my_columns(expr: &Expr, tables: &[String]) -> Vec<String> {
    let text = expr.to_string();
    let Ok(tokens) = Tokenizer::new(&MySqlDialect {}, &text).tokenize() else {
        return Vec::new();
    };
    let sig: Vec<&Token> = tokens
        .iter()
        .filter(|t| !matches!(t, Token::Whitespace(_)))
        .collect();
    let mut out = Vec::new();
    for (i, token) in sig.iter().enumerate() {
        let Token::Word(word) = token else { continue };
        // In MySQL "…" is a string unless ANSI_QUOTES is set.
        if word.quote_style.is_some_and(|q| q != '`') {
            continue;
        }
        let next = sig.get(i + 1).copied();
        if matches!(next, Some(Token::LParen | Token::Period)) {
            continue;
        }
        let name = name_of(&word.value, word.quote_style);
        let previous = i.checked_sub(1).and_then(|p| sig.get(p)).copied();
        if previous == Some(&Token::Period) {
            let qualifier = i.checked_sub(2).and_then(|p| sig.get(p)).copied();
            if let Some(Token::Word(q)) = qualifier
                && tables.contains(&name_of(&q.value, q.quote_style))
            {
                out.push(name);
            }
            continue;
        }
        let after_as = matches!(previous, Some(p) if is_word(p, "AS"));
        let syntax = word.quote_style.is_none()
            && EXPRESSION_WORDS
                .iter()
                .any(|w| word.value.eq_ignore_ascii_case(w));
        if !after_as && !syntax {
            out.push(name);
        }
    }
    out
}

/// The type as written, lower-cased, with the names MySQL treats as the same type merged.
fn my_type(data_type: &DataType) -> Ty {
    if let DataType::Enum(members, _) = data_type {
        let values = members
            .iter()
            .map(|m| match m {
                EnumMember::Name(name) | EnumMember::NamedValue(name, _) => name.clone(),
            })
            .collect();
        return Ty {
            name: "enum".to_string(),
            values,
            ..Ty::default()
        };
    }
    let text = data_type.to_string().to_lowercase();
    let unsigned = text.contains("unsigned");
    let base = text.replace("unsigned", "").replace("zerofill", "");
    let (name, rest) = base.split_once('(').unwrap_or((base.as_str(), ""));
    let mut mods: Vec<i64> = rest
        .split(')')
        .next()
        .unwrap_or("")
        .split(',')
        .filter_map(|m| m.trim().parse().ok())
        .collect();
    let name = match name.trim() {
        "integer" => "int",
        "bool" | "boolean" => "tinyint",
        "character varying" => "varchar",
        "character" => "char",
        "dec" | "numeric" | "fixed" => "decimal",
        "double precision" | "real" => "double",
        other => other,
    }
    .to_string();
    if int_rank(&name).is_some() {
        mods.clear(); // INT(11): a display width, not a range.
    }
    // MySQL's DECIMAL is DECIMAL(10,0), and DECIMAL(p) is DECIMAL(p,0).
    if name == "decimal" {
        match mods.len() {
            0 => mods = vec![10, 0],
            1 => mods.push(0),
            _ => {}
        }
    }
    Ty {
        name,
        mods,
        unsigned,
        values: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::*;
    use crate::checks::compat::database::changes::ChangeKind::*;

    #[test]
    fn tables_created_renamed_dropped() {
        let old = "CREATE TABLE a (id INT); CREATE TABLE x (id INT);";
        let new = "DROP TABLE a;
            RENAME TABLE x TO y, c TO d;
            ALTER TABLE y RENAME TO z;
            ALTER TABLE z RENAME AS w;
            CREATE TABLE n (id INT);";
        assert_eq!(
            deploy(MY, old, new),
            vec![
                on("a", DropTable),
                on("x", RenameTable { to: s("y") }),
                on("c", RenameTable { to: s("d") }),
                on("y", RenameTable { to: s("z") }),
                on("z", RenameTable { to: s("w") }),
                on("n", CreateTable),
            ]
        );
    }

    #[test]
    fn columns_added_dropped_renamed() {
        let old = "CREATE TABLE t (g INT NULL);";
        let new = "ALTER TABLE t ADD COLUMN a INT NOT NULL, ADD b INT NOT NULL DEFAULT 0,
                ADD c BIGINT NOT NULL AUTO_INCREMENT, ADD e INT UNIQUE;
            ALTER TABLE t DROP COLUMN x, DROP y;
            ALTER TABLE t RENAME COLUMN f TO f2;
            ALTER TABLE t CHANGE COLUMN g h INT NULL;
            ALTER TABLE t CHANGE h h BIGINT NULL;";
        assert_eq!(
            deploy(MY, old, new),
            all_on(
                "t",
                vec![
                    add("a", true),
                    add_filled("b"),
                    add_filled("c"),
                    add("e", false),
                    unique(&["e"]),
                    drop_column("x"),
                    drop_column("y"),
                    rename_column("f", "f2"),
                    rename_column("g", "h"),
                    typed("h", Some("int"), "bigint", false),
                ]
            )
        );
    }

    #[test]
    fn modify_types_nullability_and_enums() {
        let old = "CREATE TABLE t (a INT(11), b VARCHAR(64) NULL, s ENUM('a','b','c') NOT NULL,
            s2 ENUM('a','b'), n DECIMAL(10,2), f FLOAT, u INT UNSIGNED, v VARCHAR(10) NOT NULL);";
        let new = "ALTER TABLE t MODIFY a BIGINT, MODIFY COLUMN b VARCHAR(32) NOT NULL;
            ALTER TABLE t MODIFY s ENUM('a','b') NOT NULL, MODIFY s2 ENUM('a','b','c');
            ALTER TABLE t MODIFY n DECIMAL(12,2), MODIFY f DOUBLE, MODIFY u INT;
            ALTER TABLE t MODIFY v VARCHAR(10) NOT NULL, MODIFY v TEXT, MODIFY w INT;";
        assert_eq!(
            deploy(MY, old, new),
            all_on(
                "t",
                vec![
                    typed("a", Some("int"), "bigint", false),
                    typed("b", Some("varchar(64)"), "varchar(32)", true),
                    not_null("b"),
                    enum_removed("s", None, &["c"]),
                    typed("n", Some("decimal(10,2)"), "decimal(12,2)", false),
                    typed("f", Some("float"), "double", false),
                    typed("u", Some("int unsigned"), "int", true),
                    typed("v", Some("varchar(10)"), "text", false),
                    // MODIFY restates the column: without NOT NULL it is nullable now.
                    DropNotNull { column: s("v") },
                    typed("w", None, "int", true),
                ]
            )
        );
    }

    #[test]
    fn unique_and_checks() {
        let new = "ALTER TABLE t ADD UNIQUE KEY k (a, b), ADD CONSTRAINT u UNIQUE (c);
            CREATE UNIQUE INDEX i ON t (d);
            CREATE INDEX j ON t (e);
            ALTER TABLE t ADD CONSTRAINT ck CHECK (amount > 0 AND t.`Currency` <> 'x');
            ALTER TABLE t ADD CHECK (x < y) NOT ENFORCED;
            ALTER TABLE t ADD PRIMARY KEY (id);";
        assert_eq!(
            deploy(MY, "", new),
            all_on(
                "t",
                vec![
                    unique(&["a", "b"]),
                    unique(&["c"]),
                    unique(&["d"]),
                    check(
                        &["Currency", "amount"],
                        "amount > 0 AND t.`Currency` <> 'x'",
                        false
                    ),
                    not_null("id"),
                    unique(&["id"]),
                ]
            )
        );
    }

    #[test]
    fn backfills_and_copies() {
        let new = "UPDATE t SET total = price * qty, a = LOWER(a) WHERE total IS NULL;
            UPDATE t SET b = CAST(c AS CHAR), d = CASE WHEN e IS NULL THEN 'x' ELSE d END;
            INSERT INTO t2 SELECT * FROM t;
            INSERT INTO t2 (id) VALUES (1);";
        assert_eq!(
            deploy(MY, "", new),
            vec![
                on("t", backfill("total", &["price", "qty"])),
                on("t", backfill("b", &["c"])),
                on("t", backfill("d", &["e"])),
                on("t2", copy_from("t")),
            ]
        );
    }

    #[test]
    fn quotes_keep_case_and_schema_is_dropped() {
        let new =
            "ALTER TABLE `Orders` DROP COLUMN `Total`;\nALTER TABLE shop.Orders DROP COLUMN X;";
        assert_eq!(
            deploy(MY, "", new),
            vec![
                on("Orders", drop_column("Total")),
                on("orders", drop_column("x")),
            ]
        );
    }

    #[test]
    fn deeply_nested_statements_are_skipped_not_fatal() {
        // A test thread's stack is the size that overflowed before the parser had its own.
        let joins = format!(
            "SELECT * FROM {}t JOIN u ON 1{};",
            "(".repeat(25),
            ")".repeat(25)
        );
        let deeper = format!("SELECT {}1{};", "(".repeat(40), ")".repeat(40));
        let new = format!("{joins}\n{deeper}\nALTER TABLE t DROP COLUMN x;");
        assert_eq!(deploy(MY, "", &new), vec![on("t", drop_column("x"))]);
    }

    #[test]
    fn new_tables_are_marked() {
        let found = run(
            MY,
            &[
                ("CREATE TABLE old_t (id INT);", false),
                (
                    "CREATE TABLE `N` (id INT);\nALTER TABLE n DROP id;\nALTER TABLE old_t DROP id;",
                    true,
                ),
            ],
        );
        let new: Vec<bool> = found.iter().map(|c| c.table_is_new).collect();
        assert_eq!(new, vec![false, false, true, false]);
    }
}
