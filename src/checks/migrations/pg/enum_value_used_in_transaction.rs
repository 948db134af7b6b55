//! The `migrations/pg-enum-value-used-in-transaction` rule (PostgreSQL): judged per transaction,
//! so it keeps the enum values added in the current one.

use super::Draft;
use crate::declare_rule;
use crate::sql::postgres::Lexing;
use crate::sql::postgres::operations::StatementFacts;
use pg_query::NodeEnum;
use pg_query::protobuf::Token;

declare_rule! {
    order: 160;
    /// ## What it catches
    /// A value added with `ALTER TYPE … ADD VALUE` used (as a string literal) by a later
    /// statement of the same transaction; before PostgreSQL 12, `ADD VALUE` inside a transaction
    /// block at all.
    ///
    /// ## Why it matters during a deploy
    /// PostgreSQL refuses to use a new enum value before the transaction that added it commits
    /// ("unsafe use of new value", SQLSTATE 55P04; "ALTER TYPE … ADD", PostgreSQL 12+), and before
    /// PostgreSQL 12 refuses `ADD VALUE` in a transaction block. The migration cannot succeed: the
    /// deploy stops there, on every environment.
    ///
    /// ## Example
    /// ```sql
    /// -- the runner wraps the file in one transaction
    /// ALTER TYPE payment_status ADD VALUE 'disputed';
    /// UPDATE payments SET state = 'disputed' WHERE id = 1;
    /// ```
    ///
    /// ## Do this instead
    /// Add the value in its own migration (its own transaction, committed), and use it in a later
    /// one.
    pub ENUM_VALUE_USED_IN_TRANSACTION = ("migrations/pg-enum-value-used-in-transaction", Fail, "an enum value added by ALTER TYPE … ADD VALUE is used before its transaction commits: the migration cannot succeed");
}

/// The enum values added in the current transaction.
#[derive(Default)]
pub struct EnumValuesAdded {
    /// (type, value, line of the ADD VALUE)
    added: Vec<(String, String, u32)>,
}

impl EnumValuesAdded {
    pub fn check(&mut self, statement: &StatementFacts, postgres_version: u32) -> Option<Draft> {
        if let Some((type_name, value)) = added_enum_value(&statement.text) {
            if postgres_version < 12
                && let Some(block) = statement.transaction.block
            {
                return Some(Draft::new(
                    &ENUM_VALUE_USED_IN_TRANSACTION,
                    &type_name,
                    format!(
                        "ALTER TYPE {type_name} ADD VALUE runs in a transaction block ({block}), which PostgreSQL {postgres_version} refuses (allowed from PostgreSQL 12): the migration cannot succeed"
                    ),
                    "run ALTER TYPE … ADD VALUE on its own, outside a transaction block (a migration of its own with the runner's transaction turned off)".to_string(),
                ));
            }
            // A statement-per-transaction runner commits it at once.
            if statement.transaction.multi_statement {
                self.added.push((type_name, value, statement.line));
            }
            return None;
        }
        // Scanning for literals only matters while this transaction has added a value.
        if !statement.transaction.multi_statement || self.added.is_empty() {
            return None;
        }
        let literals = string_literals(&statement.text);
        let (type_name, value, line) = self
            .added
            .iter()
            .find(|(_, value, _)| literals.iter().any(|l| l == value))?;
        Some(Draft::new(
            &ENUM_VALUE_USED_IN_TRANSACTION,
            type_name,
            format!(
                "'{value}' was added to {type_name} at line {line} in this same transaction: PostgreSQL refuses to use it before that transaction commits (unsafe use of new value), so the migration cannot succeed"
            ),
            format!(
                "commit between the two: `ALTER TYPE {type_name} ADD VALUE '{value}'` in a migration of its own, and this statement in a later one"
            ),
        ))
    }

    /// The transaction ended: its values are committed and usable.
    pub fn commit(&mut self) {
        self.added.clear();
    }
}

/// `ALTER TYPE t ADD VALUE 'v'`: (t, v).
fn added_enum_value(text: &str) -> Option<(String, String)> {
    // A second parse of every statement doubled the check's cost on real histories: only a
    // statement that can be an ADD VALUE is parsed again.
    if !(crate::sql::contains_ignore_case(text, "TYPE")
        && crate::sql::contains_ignore_case(text, "VALUE"))
    {
        return None;
    }
    let parsed = pg_query::parse(text, Lexing::default().options()).ok()?;
    let raw = parsed
        .protobuf
        .stmts
        .first()?
        .stmt
        .as_ref()?
        .node
        .as_ref()?;
    let NodeEnum::AlterEnumStmt(stmt) = raw else {
        return None;
    };
    if stmt.new_val.is_empty() || !stmt.old_val.is_empty() {
        // RENAME VALUE: nothing new to use.
        return None;
    }
    let type_name = crate::sql::postgres::strings(&stmt.type_name)
        .last()?
        .to_lowercase();
    Some((type_name, stmt.new_val.clone()))
}

/// The string constants of a statement (quotes removed, `''` undoubled), from PostgreSQL's own
/// scanner: text in comments is not a use.
fn string_literals(text: &str) -> Vec<String> {
    let Ok(tokens) = pg_query::scan_tokens(text) else {
        return Vec::new();
    };
    tokens
        .iter()
        .filter(|t| t.token == Token::Sconst as i32)
        .filter_map(|t| text.get(t.start as usize..t.end as usize))
        .filter_map(|quoted| {
            let inner = quoted.strip_prefix('\'')?.strip_suffix('\'')?;
            Some(inner.replace("''", "'"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_added_value_and_the_literals() {
        assert_eq!(
            added_enum_value("ALTER TYPE public.Payment_Status ADD VALUE IF NOT EXISTS 'it''s'"),
            Some(("payment_status".to_string(), "it's".to_string()))
        );
        assert_eq!(
            added_enum_value("ALTER TYPE payment_status RENAME VALUE 'a' TO 'b'"),
            None
        );
        assert_eq!(
            string_literals("UPDATE p SET s = 'disputed' /* 'not this' */ WHERE n = 'it''s'"),
            vec!["disputed".to_string(), "it's".to_string()]
        );
    }
}
