//! The `rollback/down-does-not-undo` rule: following a migration's up and then its down does
//! not give back the schema from before the up.

use crate::declare_rule;
use crate::report::{Finding, Location};
use crate::sql::files::downs::Down;

declare_rule! {
    order: 80;
    /// ## What it catches
    /// A PostgreSQL down migration that does not put the schema back as it was before its up:
    /// gonogo follows the earlier migrations, then the up, then the down, and compares tables,
    /// columns (type, NOT NULL, default), constraints, indexes and enum values with the schema
    /// before the up. Each difference is named: a column the down forgets to drop, an index it
    /// does not recreate, a default or NOT NULL it does not restore, a type it leaves changed.
    /// Files with a statement gonogo cannot read are not judged (their effect is unknown).
    ///
    /// ## Why it matters during a deploy
    /// The down runs during an incident, when the previous version is going back out. A down
    /// that leaves a NOT NULL column the old version does not write makes every INSERT of the
    /// old version fail; an index it forgets to recreate turns the old version's queries into
    /// sequential scans; a table it leaves behind makes the next deploy's `CREATE TABLE` fail.
    /// Nobody finds this out before the rollback, because downs rarely run.
    ///
    /// ## Example
    /// ```sql
    /// -- migrate:up
    /// ALTER TABLE orders ADD COLUMN currency text NOT NULL DEFAULT 'EUR';
    /// DROP INDEX orders_created_at_idx;
    /// -- migrate:down
    /// ALTER TABLE orders DROP COLUMN currency;
    /// ```
    ///
    /// ## Do this instead
    /// Undo every change of the up, in reverse order: here also
    /// `CREATE INDEX orders_created_at_idx ON orders (created_at);`. With a scratch database
    /// (`checks.migrations.database.scratch_url`) `rollback` also runs the ups and downs for
    /// real inside a transaction it rolls back, and compares the catalog.
    pub DOWN_DOES_NOT_UNDO = ("rollback/down-does-not-undo", Fail, "a down migration does not give back the schema from before its up");
}

pub fn finding(up_path: &str, down: &Down, differences: &[String]) -> Finding {
    let shown: Vec<&str> = differences.iter().take(5).map(String::as_str).collect();
    let more = differences.len().saturating_sub(shown.len());
    let mut message = format!(
        "the down of {up_path} does not undo its up: after up and down, {}",
        shown.join("; ")
    );
    if more > 0 {
        message.push_str(&format!("; and {more} more"));
    }
    DOWN_DOES_NOT_UNDO
        .finding(message)
        .at(Location::new(&down.path, down.line, 1))
        .with_evidence(differences.join("\n"))
        .with_fix("make the down reverse every change of the up, in reverse order")
}
