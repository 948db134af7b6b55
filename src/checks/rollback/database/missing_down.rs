//! The `rollback/missing-down-migration` rule: the runner rolls migrations back with down
//! migrations, and one of this deploy's has none.

use crate::declare_rule;
use crate::report::{Finding, Location};
use crate::sql::files::downs::{Down, DownStyle};

declare_rule! {
    order: 70;
    /// ## What it catches
    /// A migration of this deploy without a down migration, in a project whose runner has
    /// them: golang-migrate, sqlx or diesel (`0042_x.up.sql` without `0042_x.down.sql`),
    /// dbmate (no `-- migrate:down` section, or an empty one), goose (no `-- +goose Down`
    /// section, or an empty one), Flyway Teams (a `V42__` script without its `U42__` undo
    /// script when the folder has undo scripts). A migration that changes no schema (a data
    /// backfill, a seed, only comments) needs none and is not reported. Runners without downs (Flyway's versioned scripts
    /// alone, plain folders of SQL) are not reported.
    ///
    /// ## Why it matters during a deploy
    /// Rolling back the code to a version that expects the old schema needs the schema rolled
    /// back too, and that is what the down does: `migrate down 1`, `dbmate rollback`,
    /// `goose down`, `flyway undo`. Without it the rollback is a hand-written script written
    /// during the incident, or the new schema stays and the old version runs against it.
    ///
    /// ## Example
    /// ```sql
    /// -- migrate:up
    /// ALTER TABLE orders ADD COLUMN currency text NOT NULL DEFAULT 'EUR';
    /// -- migrate:down
    /// ```
    ///
    /// ## Do this instead
    /// Write the down beside the up, in reverse order of the up's changes:
    /// `ALTER TABLE orders DROP COLUMN currency;`. If the change cannot be undone (data is
    /// destroyed), say so in the down (a comment, or a statement that fails with the reason)
    /// and waive this rule on the up with the reason.
    pub MISSING_DOWN_MIGRATION = ("rollback/missing-down-migration", Warn, "a migration of this deploy has no down migration, and its runner rolls back with them");
}

pub fn finding(path: &str, style: DownStyle, empty: Option<&Down>) -> Finding {
    let (message, location) = match empty {
        Some(down) => (
            format!(
                "{path} has an empty down ({}): rolling it back records the version as undone and changes nothing in the schema",
                style.describe()
            ),
            Location::new(&down.path, down.line.saturating_sub(1).max(1), 1),
        ),
        None => (
            format!(
                "{path} has no down migration ({} is how this project's runner rolls back): rolling back this deploy leaves its schema changes in place",
                style.describe()
            ),
            Location::new(path, 1, 1),
        ),
    };
    MISSING_DOWN_MIGRATION
        .finding(message)
        .at(location)
        .with_fix("write the down: undo each change of the up, in reverse order")
}
