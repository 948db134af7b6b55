//! The schema changes a MySQL statement makes that code of the previous release can notice
//! ([`crate::sql::changes`]), written down by the facts walk ([`super::facts`]) over its
//! [`Schema`], before the walk applies the statement (so they compare with what was there).
//!
//! Names: MySQL compares column names (and, on the usual `lower_case_table_names` setups, table
//! names) case-insensitively; unquoted names are lower-cased, backquoted ones keep their case.
//! Each ALTER clause is positioned at its own token when the commas match the operations.

use super::parse::{Clause, parse_clause};
use super::schema::{Schema, TableRef};
use super::{Pos, Props, alter_clauses, is_word, pos_of, significant, split_commas};
use crate::sql::changes::{
    ChangeKind, SchemaChange, Ty, int_rank, missing, narrowed, sorted_names,
};
use sqlparser::ast::{
    AlterTableOperation, AssignmentTarget, ColumnOption, CreateTable, DataType, EnumMember, Expr,
    Ident, IndexColumn, ObjectName, ObjectNamePart, RenameTableNameKind, SetExpr,
    Statement as Parsed, TableConstraint, TableFactor, TableObject, TableWithJoins,
};
use sqlparser::dialect::MySqlDialect;
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

/// What a column was before the statement.
#[derive(Debug, Clone, Default)]
struct Column {
    ty: Option<Ty>,
    not_null: bool,
}

struct Recorder<'s> {
    schema: &'s mut Schema,
    out: Vec<SchemaChange>,
}

/// The changes of one statement: `parsed` when sqlparser read it whole, else `None` (an ALTER
/// TABLE is then read clause by clause, so the clauses it knows still count).
pub(super) fn of(
    schema: &mut Schema,
    tokens: &[TokenWithSpan],
    parsed: Option<&Parsed>,
) -> Vec<SchemaChange> {
    let Some(first) = tokens.iter().find(|t| significant(t)) else {
        return Vec::new();
    };
    let mut recorder = Recorder {
        schema,
        out: Vec::new(),
    };
    let at = pos_of(first);
    match parsed {
        Some(statement) => recorder.statement(at, tokens, statement),
        None => recorder.alter_by_clause(at, tokens),
    }
    recorder.out
}

impl Recorder<'_> {
    fn emit(&mut self, at: Pos, table: &str, kind: ChangeKind) {
        let table_is_new = self.schema.is_new(&table.to_lowercase());
        self.out.push(SchemaChange {
            kind,
            table: table.to_string(),
            line: at.line,
            column: at.column,
            table_is_new,
        });
    }

    fn column(&self, table: &str, column: &str) -> Option<Column> {
        let known = self.schema.column(&table.to_lowercase(), column)?;
        Some(Column {
            ty: Some(written_type(&known.ty)),
            not_null: !known.nullable,
        })
    }

    fn statement(&mut self, at: Pos, tokens: &[TokenWithSpan], statement: &Parsed) {
        match statement {
            Parsed::CreateTable(create) => self.create_table(at, create),
            Parsed::AlterTable(alter) => {
                let table = table_name(&alter.name);
                let positions = op_positions(at, tokens, alter.operations.len());
                for (op, op_at) in alter.operations.iter().zip(positions) {
                    self.alter_op(op_at, &table, op);
                }
            }
            Parsed::CreateIndex(index) if index.unique => {
                let table = table_name(&index.table_name);
                let columns = index_columns(&index.columns, &table);
                let kind = ChangeKind::AddUnique {
                    columns,
                    unless_null: Vec::new(),
                };
                self.emit(at, &table, kind);
            }
            Parsed::Drop {
                object_type: sqlparser::ast::ObjectType::Table,
                names,
                temporary: false,
                ..
            } => {
                for name in names {
                    let table = table_name(name);
                    self.emit(at, &table, ChangeKind::DropTable);
                    self.schema.forget_in_deploy(&table.to_lowercase());
                }
            }
            Parsed::RenameTable(renames) => {
                for rename in renames {
                    let (old, new) = (&rename.old_name, &rename.new_name);
                    self.rename_table(at, old, new);
                }
            }
            Parsed::Update(update) => self.update(at, update),
            Parsed::Insert(insert) => {
                let TableObject::TableName(name) = &insert.table else {
                    return;
                };
                let table = table_name(name);
                if let Some(query) = &insert.source {
                    self.copy_from(at, &table, &query.body);
                }
            }
            _ => {}
        }
    }

    fn update(&mut self, at: Pos, update: &sqlparser::ast::Update) {
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
                .map(ident)
                .collect();
            let (column, qualified_elsewhere) = match parts.as_slice() {
                [column] => (column.clone(), false),
                [.., qualifier, column] => (column.clone(), !qualifiers.contains(qualifier)),
                [] => continue,
            };
            if qualified_elsewhere {
                continue;
            }
            let mentioned = columns_in(&assignment.value, &qualifiers);
            let from_columns: Vec<String> = sorted_names(mentioned, None)
                .into_iter()
                .filter(|c| !c.eq_ignore_ascii_case(&column))
                .collect();
            if !from_columns.is_empty() {
                let kind = ChangeKind::Backfill {
                    column,
                    from_columns,
                };
                self.emit(at, &table, kind);
            }
        }
    }

    fn create_table(&mut self, at: Pos, create: &CreateTable) {
        let table = table_name(&create.name);
        let key = table.to_lowercase();
        // MySQL skips CREATE TABLE IF NOT EXISTS of a table that exists (a note, not an
        // error): the table keeps its rows.
        if create.if_not_exists && self.schema.table(&key).is_some() {
            return;
        }
        self.emit(at, &table, ChangeKind::CreateTable);
        self.schema.created_by_this_file(&key);
        if let Some(query) = &create.query {
            let first = self.out.len();
            self.copy_from(at, &table, &query.body);
            // Filled by the statement that creates it, so new.
            for change in &mut self.out[first..] {
                change.table_is_new = true;
            }
        }
    }

    fn rename_table(&mut self, at: Pos, old: &ObjectName, new: &ObjectName) {
        let to = table_name(new);
        let table = table_name(old);
        self.emit(at, &table, ChangeKind::RenameTable { to });
        self.schema
            .move_in_deploy(&TableRef::new(old), &TableRef::new(new));
    }

    fn alter_op(&mut self, at: Pos, table: &str, op: &AlterTableOperation) {
        match op {
            AlterTableOperation::AddColumn { column_def, .. } => {
                let props = Props::of(column_def.options.iter().map(|o| &o.option));
                let column = ident(&column_def.name);
                let filled = props.filled();
                let kind = ChangeKind::AddColumn {
                    column: column.clone(),
                    not_null_without_default: !props.nullable() && !filled,
                    filled,
                };
                self.emit(at, table, kind);
                if props.unique {
                    let kind = ChangeKind::AddUnique {
                        columns: vec![column],
                        unless_null: Vec::new(),
                    };
                    self.emit(at, table, kind);
                }
                for check in &props.checks {
                    self.check(at, table, check);
                }
            }
            AlterTableOperation::DropColumn { column_names, .. } => {
                for column in column_names {
                    let kind = ChangeKind::DropColumn {
                        column: ident(column),
                    };
                    self.emit(at, table, kind);
                }
            }
            AlterTableOperation::RenameColumn {
                old_column_name,
                new_column_name,
            } => {
                let kind = ChangeKind::RenameColumn {
                    column: ident(old_column_name),
                    to: ident(new_column_name),
                };
                self.emit(at, table, kind);
            }
            AlterTableOperation::ChangeColumn {
                old_name,
                new_name,
                data_type,
                options,
                ..
            } => {
                let (old, new) = (ident(old_name), ident(new_name));
                let known = self.column(table, &old);
                if !old.eq_ignore_ascii_case(&new) {
                    let kind = ChangeKind::RenameColumn {
                        column: old,
                        to: new.clone(),
                    };
                    self.emit(at, table, kind);
                }
                self.modify(at, table, &new, known, data_type, options);
            }
            AlterTableOperation::ModifyColumn {
                col_name,
                data_type,
                options,
                ..
            } => {
                let column = ident(col_name);
                let known = self.column(table, &column);
                self.modify(at, table, &column, known, data_type, options);
            }
            AlterTableOperation::AddConstraint { constraint, .. } => match constraint {
                TableConstraint::Unique(unique) => {
                    let columns = index_columns(&unique.columns, table);
                    let kind = ChangeKind::AddUnique {
                        columns,
                        unless_null: Vec::new(),
                    };
                    self.emit(at, table, kind);
                }
                TableConstraint::PrimaryKey(pk) => {
                    // A PRIMARY KEY is NOT NULL on each of its columns, and unique.
                    let columns = index_columns(&pk.columns, table);
                    for column in &columns {
                        if !self.column(table, column).is_some_and(|c| c.not_null) {
                            let kind = ChangeKind::SetNotNull {
                                column: column.clone(),
                            };
                            self.emit(at, table, kind);
                        }
                    }
                    let kind = ChangeKind::AddUnique {
                        columns,
                        unless_null: Vec::new(),
                    };
                    self.emit(at, table, kind);
                }
                TableConstraint::Check(check) if check.enforced != Some(false) => {
                    self.check(at, table, &check.expr);
                }
                _ => {}
            },
            AlterTableOperation::RenameTable { table_name: new } => {
                let (RenameTableNameKind::To(new) | RenameTableNameKind::As(new)) = new;
                let to = table_name(new);
                let kind = ChangeKind::RenameTable { to: to.clone() };
                self.emit(at, table, kind);
                let old = TableRef {
                    key: table.to_lowercase(),
                    name: table.to_string(),
                    sql: table.to_string(),
                };
                self.schema.move_in_deploy(&old, &TableRef::new(new));
            }
            _ => {}
        }
    }

    /// MODIFY / CHANGE: the whole new definition replaces the old one.
    fn modify(
        &mut self,
        at: Pos,
        table: &str,
        column: &str,
        known: Option<Column>,
        data_type: &DataType,
        options: &[ColumnOption],
    ) {
        let props = Props::of(options.iter());
        let to = written_type(data_type);
        let from = known.as_ref().and_then(|c| c.ty.clone());
        match &from {
            // MySQL rejects (strict mode) or blanks (otherwise) a value missing from the ENUM;
            // appending or reordering values keeps every value the old code writes valid.
            Some(from) if from.name == "enum" && to.name == "enum" => {
                let removed = missing(&from.values, &to.values);
                if !removed.is_empty() {
                    let kind = ChangeKind::EnumValuesRemoved {
                        column: Some(column.to_string()),
                        type_name: None,
                        removed,
                    };
                    self.emit(at, table, kind);
                }
            }
            Some(from) if *from == to => {}
            _ => {
                let from = from.as_ref();
                let kind = ChangeKind::TypeChanged {
                    column: column.to_string(),
                    from: from.map(Ty::to_string),
                    to: to.to_string(),
                    narrowed: narrowed(from, &to),
                };
                self.emit(at, table, kind);
            }
        }
        // MODIFY/CHANGE restates the whole column: nullable now, NOT NULL before.
        let was_not_null = known.as_ref().is_some_and(|c| c.not_null);
        let column = column.to_string();
        if props.nullable() && was_not_null {
            self.emit(at, table, ChangeKind::DropNotNull { column });
        } else if !props.nullable() && !was_not_null {
            self.emit(at, table, ChangeKind::SetNotNull { column });
        }
    }

    fn check(&mut self, at: Pos, table: &str, expr: &Expr) {
        let mentioned = columns_in(expr, &[table.to_string()]);
        let kind = ChangeKind::AddCheck {
            columns: sorted_names(mentioned, None),
            expression: expr.to_string(),
            not_valid: false,
        };
        self.emit(at, table, kind);
    }

    fn copy_from(&mut self, at: Pos, table: &str, body: &SetExpr) {
        let mut sources = Vec::new();
        select_sources(body, &mut sources);
        let key = table.to_lowercase();
        let sources: Vec<String> = sorted_names(sources, None)
            .into_iter()
            .filter(|s| s.to_lowercase() != key)
            .collect();
        for from in sources {
            self.emit(at, table, ChangeKind::CopyFrom { from });
        }
    }

    /// An ALTER TABLE sqlparser rejects as a whole (a clause it does not know, such as
    /// `CONVERT TO CHARACTER SET`): each comma-separated clause is parsed alone.
    fn alter_by_clause(&mut self, at: Pos, tokens: &[TokenWithSpan]) {
        let Some(alter) = alter_clauses(tokens) else {
            return;
        };
        let table = table_name(&alter.name);
        for clause in alter.clauses {
            for op in parse_clause(&alter.header, clause) {
                if let Clause::Op(op) = op {
                    self.alter_op(at_first(at, clause), &table, &op);
                }
            }
        }
    }
}

fn select_sources(body: &SetExpr, out: &mut Vec<String>) {
    match body {
        SetExpr::Select(select) => {
            for from in &select.from {
                for factor in
                    std::iter::once(&from.relation).chain(from.joins.iter().map(|j| &j.relation))
                {
                    if let TableFactor::Table { name, .. } = factor {
                        out.push(table_name(name));
                    }
                }
            }
        }
        SetExpr::Query(query) => select_sources(&query.body, out),
        SetExpr::SetOperation { left, right, .. } => {
            select_sources(left, out);
            select_sources(right, out);
        }
        _ => {}
    }
}

/// Each ALTER operation's position: after the commas outside parentheses, when they match.
fn op_positions(at: Pos, tokens: &[TokenWithSpan], count: usize) -> Vec<Pos> {
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
fn at_first(at: Pos, tokens: &[TokenWithSpan]) -> Pos {
    tokens.iter().find(|t| significant(t)).map_or(at, pos_of)
}

/// Backquoted identifiers keep their case; others are lower-cased.
fn name_of(value: &str, quote_style: Option<char>) -> String {
    if quote_style.is_some() {
        value.to_string()
    } else {
        value.to_lowercase()
    }
}

fn ident(ident: &Ident) -> String {
    name_of(&ident.value, ident.quote_style)
}

fn table_name(name: &ObjectName) -> String {
    name.0
        .last()
        .and_then(ObjectNamePart::as_ident)
        .map(ident)
        .unwrap_or_default()
}

fn table_and_alias(from: &TableWithJoins) -> Option<(String, String)> {
    match &from.relation {
        TableFactor::Table { name, alias, .. } => Some((
            table_name(name),
            alias.as_ref().map(|a| ident(&a.name)).unwrap_or_default(),
        )),
        _ => None,
    }
}

fn index_columns(columns: &[IndexColumn], table: &str) -> Vec<String> {
    columns
        .iter()
        .flat_map(|c| match &c.column.expr {
            Expr::Identifier(name) => vec![ident(name)],
            other => sorted_names(columns_in(other, &[table.to_string()]), None),
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
fn columns_in(expr: &Expr, tables: &[String]) -> Vec<String> {
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
fn written_type(data_type: &DataType) -> Ty {
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
    use crate::sql::changes::ChangeKind;
    use crate::sql::mysql::facts::{Event, Walker, with_parser_stack};

    /// (file index, table, kind, table_is_new, unparsed) of every change.
    fn followed(
        files: &[(&str, bool)],
        deploy_is_known: bool,
    ) -> Vec<(usize, String, ChangeKind, bool)> {
        with_parser_stack(|| {
            let mut walker = Walker::for_deploy(deploy_is_known);
            let mut out = Vec::new();
            for (index, (text, in_deploy)) in files.iter().enumerate() {
                walker.deploy_file(text, *in_deploy, &mut |event| {
                    if let Event::Statement(statement) = event {
                        for c in statement.schema_changes {
                            out.push((index, c.table, c.kind, c.table_is_new));
                        }
                    }
                });
            }
            out
        })
    }

    /// The changes come from the walk the migrations rules read: a table this deploy created
    /// in an earlier file is new when a base selected the files, and MODIFY compares with the
    /// column as the walk's schema has it (NOT NULL from the PRIMARY KEY).
    #[test]
    fn changes_read_the_walks_schema() {
        let old = "CREATE TABLE t (id INT, a VARCHAR(10), PRIMARY KEY (id));";
        let first = "CREATE TABLE n (id INT);";
        let second = "ALTER TABLE n DROP COLUMN id;\nALTER TABLE t MODIFY id BIGINT NULL, MODIFY a VARCHAR(5);";
        let found = followed(&[(old, false), (first, true), (second, true)], true);
        let in_second: Vec<(String, ChangeKind, bool)> = found
            .into_iter()
            .filter(|(i, ..)| *i == 2)
            .map(|(_, t, k, n)| (t, k, n))
            .collect();
        let typed = |column: &str, from: &str, to: &str, narrowed: bool| ChangeKind::TypeChanged {
            column: column.to_string(),
            from: Some(from.to_string()),
            to: to.to_string(),
            narrowed,
        };
        assert_eq!(
            in_second,
            vec![
                (
                    "n".to_string(),
                    ChangeKind::DropColumn {
                        column: "id".to_string()
                    },
                    true
                ),
                ("t".to_string(), typed("id", "int", "bigint", false), false),
                (
                    "t".to_string(),
                    ChangeKind::DropNotNull {
                        column: "id".to_string()
                    },
                    false
                ),
                (
                    "t".to_string(),
                    typed("a", "varchar(10)", "varchar(5)", true),
                    false
                ),
            ]
        );
        // Without a base, the earlier file's table has long existed in production.
        let found = followed(
            &[(first, true), ("ALTER TABLE n DROP COLUMN id;", true)],
            false,
        );
        assert!(!found[1].3);
    }
}
