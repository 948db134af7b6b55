//! The `migrations/pg-concurrently-on-partitioned-table` rule (PostgreSQL): it remembers, across
//! the files in order, which tables were created `PARTITION BY`.

use super::Draft;
use crate::declare_rule;
use crate::sql::postgres::Lexing;
use crate::sql::postgres::operations::{Operation, StatementFacts};
use pg_query::NodeEnum;
use std::collections::HashSet;

declare_rule! {
    order: 170;
    /// ## What it catches
    /// `CREATE INDEX CONCURRENTLY` on a partitioned table (one created `PARTITION BY` by an
    /// earlier statement or migration).
    ///
    /// ## Why it matters during a deploy
    /// PostgreSQL refuses it ("cannot create index on partitioned table … concurrently",
    /// SQLSTATE 0A000, PostgreSQL 11 to 17): the migration stops there. Dropping CONCURRENTLY to
    /// make it pass builds every partition's index under SHARE, blocking writes to the whole
    /// partitioned table for the whole build.
    ///
    /// ## Example
    /// ```sql
    /// CREATE INDEX CONCURRENTLY measurements_reading_idx ON measurements (reading);
    /// ```
    ///
    /// ## Do this instead
    /// An index on the parent only, a concurrent build per partition, then attach each one (no
    /// scan, brief locks):
    /// `CREATE INDEX measurements_reading_idx ON ONLY measurements (reading);`
    /// `CREATE INDEX CONCURRENTLY measurements_2026_reading_idx ON measurements_2026 (reading);`
    /// `ALTER INDEX measurements_reading_idx ATTACH PARTITION measurements_2026_reading_idx;`
    pub CONCURRENTLY_ON_PARTITIONED_TABLE = ("migrations/pg-concurrently-on-partitioned-table", Fail, "CREATE INDEX CONCURRENTLY on a partitioned table: PostgreSQL refuses it");
}

/// The partitioned tables created so far, in every file read (older ones included).
#[derive(Default)]
pub struct PartitionedTables {
    tables: HashSet<String>,
}

impl PartitionedTables {
    /// Remember a `CREATE TABLE … PARTITION BY`; judge an operation.
    pub fn check(&mut self, statement: &StatementFacts) -> Option<Draft> {
        self.follow(&statement.text);
        let operations = statement.operations.as_ref().ok()?;
        operations.iter().find_map(|op| match op {
            Operation::Concurrently {
                target,
                what: "CREATE INDEX CONCURRENTLY",
            } if self.tables.contains(target) => Some(Draft::new(
                &CONCURRENTLY_ON_PARTITIONED_TABLE,
                target,
                format!(
                    "{target} is a partitioned table: PostgreSQL refuses CREATE INDEX CONCURRENTLY on it (cannot create index on partitioned table concurrently), so the migration cannot succeed"
                ),
                format!(
                    "`CREATE INDEX … ON ONLY {target} (…)`, then `CREATE INDEX CONCURRENTLY` on each partition and `ALTER INDEX … ATTACH PARTITION` for each"
                ),
            )),
            _ => None,
        })
    }

    fn follow(&mut self, text: &str) {
        // Only a CREATE is worth a second parse.
        let head = text.trim_start().get(..6).unwrap_or("");
        if !head.eq_ignore_ascii_case("CREATE")
            || !crate::sql::contains_ignore_case(text, "PARTITION")
        {
            return;
        }
        let Ok(parsed) = pg_query::parse(text, Lexing::default().options()) else {
            return;
        };
        let Some(node) = parsed
            .protobuf
            .stmts
            .first()
            .and_then(|s| s.stmt.as_ref())
            .and_then(|s| s.node.as_ref())
        else {
            return;
        };
        if let NodeEnum::CreateStmt(stmt) = node
            && stmt.partspec.is_some()
            && let Some(relation) = &stmt.relation
        {
            self.tables.insert(relation.relname.to_lowercase());
        }
    }
}
