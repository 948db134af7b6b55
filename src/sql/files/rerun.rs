//! SQL a runner applies again, not once: an edit to it is how it is meant to change, so it is
//! neither an applied migration (`migrations/applied-migration-edited` would cry wolf) nor, for
//! `gonogo init`, part of an applied-once migration set.
//!
//! Two kinds are told apart by name, from the runner's documented behaviour:
//!
//! - Flyway repeatable migrations, `R__<description>.sql`: Flyway applies them after the versioned
//!   ones whenever their checksum changed (Flyway docs, "Repeatable migrations");
//! - a folder named for it (`repeatable/`, `replaceable_schema/`): lemmy drops its `r` schema and
//!   runs `crates/…/replaceable_schema/*.sql` again on every start after a change.
//!
//! A third kind is told by content, for `gonogo init` only: a file whose name carries no version
//! and whose every statement can run again on the schema it leaves (`CREATE OR REPLACE`,
//! `DROP … IF EXISTS`, `… IF NOT EXISTS`, a `CREATE` of what the file dropped first). A versioned
//! file made of such statements is still an applied-once migration, so content alone never
//! decides for a versioned name.

use crate::sql::postgres::ast::{last_name, object_name};
use pg_query::NodeEnum;
use std::collections::BTreeSet;

/// Why the runner applies this file again when it changes, if its name says so.
pub fn rerun_by_name(path: &str) -> Option<String> {
    let (dirs, name) = path.rsplit_once('/').unwrap_or(("", path));
    // Flyway's default repeatable prefix is `R` with the `__` separator, case as written.
    if name.starts_with("R__") {
        return Some(
            "a Flyway repeatable migration (R__): Flyway applies it again whenever it changes"
                .to_string(),
        );
    }
    let folder = repeatable_folder(dirs)?;
    Some(format!(
        "repeatable SQL ({folder}/): applied again on every run, meant to be edited; not an applied-once migration"
    ))
}

/// The folder of `path` named for SQL applied again (`repeatable`, `replaceable_schema`), if any.
/// A versioned folder is one migration about such SQL (lemmy's
/// `migrations/2024-02-24-034523_replaceable-schema/`), applied once like the others.
pub fn repeatable_folder(path: &str) -> Option<&str> {
    path.split('/').find(|component| {
        let lower = component.to_ascii_lowercase();
        (lower.contains("repeatable") || lower.contains("replaceable"))
            && !lower.starts_with(|c: char| c.is_ascii_digit())
    })
}

/// A runner's version in the file name: digits first (`0001_x.sql`, `20240101_x/up.sql` by
/// its folder) or Flyway's `V1__`.
pub fn has_version(path: &str) -> bool {
    let mut parts = path.rsplit('/');
    let name = parts.next().unwrap_or(path);
    let starts_with_version = |s: &str| {
        let s = s.strip_prefix(['V', 'v']).unwrap_or(s);
        s.starts_with(|c: char| c.is_ascii_digit())
    };
    // diesel and dbmate-like layouts carry the version on the folder: `<version>_x/up.sql`.
    starts_with_version(name) || parts.next().is_some_and(starts_with_version)
}

/// A file without a version whose every statement can run again (see the module docs): a
/// script applied as a whole, again, rather than a migration applied once. PostgreSQL only;
/// a file that does not parse is not one.
pub fn rerunnable_script(path: &str, text: &str) -> bool {
    !has_version(path) && only_rerunnable_statements(text)
}

/// Every top-level statement can run again on the schema the file itself leaves.
pub fn only_rerunnable_statements(text: &str) -> bool {
    let statements = crate::sql::postgres::parse(text);
    let mut dropped: BTreeSet<String> = BTreeSet::new();
    let mut seen = 0;
    for statement in statements
        .iter()
        .filter(|s| s.origin == crate::sql::postgres::Origin::TopLevel)
    {
        let Ok(node) = &statement.node else {
            return false;
        };
        seen += 1;
        if !rerunnable(node, &mut dropped) {
            return false;
        }
    }
    seen > 0
}

/// One statement; `dropped` collects what earlier `DROP … IF EXISTS` statements removed, so
/// a plain `CREATE` of it can run again.
fn rerunnable(node: &NodeEnum, dropped: &mut BTreeSet<String>) -> bool {
    let recreated = |name: &str| !name.is_empty() && dropped.contains(name);
    match node {
        NodeEnum::DropStmt(drop) => {
            if !drop.missing_ok {
                return false;
            }
            for object in &drop.objects {
                match object.node.as_ref() {
                    Some(NodeEnum::ObjectWithArgs(function)) => {
                        dropped.insert(last_name(&function.objname));
                    }
                    Some(_) => {
                        dropped.insert(object_name(object));
                    }
                    None => {}
                }
            }
            true
        }
        NodeEnum::CreateFunctionStmt(function) => {
            function.replace || recreated(&last_name(&function.funcname))
        }
        NodeEnum::ViewStmt(view) => {
            view.replace
                || view
                    .view
                    .as_ref()
                    .is_some_and(|v| recreated(&v.relname.to_lowercase()))
        }
        NodeEnum::CreateTrigStmt(trigger) => {
            trigger.replace || recreated(&trigger.trigname.to_lowercase())
        }
        NodeEnum::RuleStmt(rule) => rule.replace || recreated(&rule.rulename.to_lowercase()),
        NodeEnum::CreateSchemaStmt(schema) => {
            schema.if_not_exists || recreated(&schema.schemaname.to_lowercase())
        }
        NodeEnum::CreateStmt(table) => table.if_not_exists,
        NodeEnum::IndexStmt(index) => index.if_not_exists,
        NodeEnum::CreateSeqStmt(sequence) => sequence.if_not_exists,
        NodeEnum::CreateExtensionStmt(extension) => extension.if_not_exists,
        NodeEnum::CreateTableAsStmt(table) => table.if_not_exists,
        // Saying the same thing again changes nothing.
        NodeEnum::CommentStmt(_)
        | NodeEnum::GrantStmt(_)
        | NodeEnum::VariableSetStmt(_)
        | NodeEnum::TransactionStmt(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_runner_reapplies() {
        assert!(rerun_by_name("db/migration/R__views.sql").is_some());
        assert!(rerun_by_name("db/migration/V2__views.sql").is_none());
        assert!(rerun_by_name("crates/db/replaceable_schema/triggers.sql").is_some());
        assert!(rerun_by_name("sql/Repeatable/functions.sql").is_some());
        assert!(rerun_by_name("migrations/0001_r.sql").is_none());
        assert!(rerun_by_name("migrations/2024-02-24-034523_replaceable-schema/up.sql").is_none());
    }

    #[test]
    fn rerunnable_statements_and_the_versioned_exception() {
        let script = "CREATE OR REPLACE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n\
                      DROP TRIGGER IF EXISTS t ON users;\n\
                      CREATE TRIGGER t AFTER INSERT ON users FOR EACH ROW EXECUTE FUNCTION f();\n\
                      DROP VIEW IF EXISTS v;\nCREATE VIEW v AS SELECT 1;\n\
                      CREATE TABLE IF NOT EXISTS audit (id bigint);\n\
                      COMMENT ON VIEW v IS 'x';\n";
        assert!(only_rerunnable_statements(script));
        assert!(rerunnable_script("db/functions/users.sql", script));
        // A versioned migration made of the same statements still runs once.
        assert!(!rerunnable_script(
            "db/migrations/0004_functions.sql",
            script
        ));
        assert!(!rerunnable_script("migrations/2024-01-01_x/up.sql", script));
        // A CREATE of something the file did not drop fails the second time.
        assert!(!only_rerunnable_statements(
            "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1';\n"
        ));
        assert!(!only_rerunnable_statements(
            "CREATE TABLE IF NOT EXISTS a (id int);\nALTER TABLE a ADD COLUMN b int;\n"
        ));
        assert!(!only_rerunnable_statements("-- nothing\n"));
        assert!(!only_rerunnable_statements(
            "CREATE OR REPLACE VIEW v AS SELEC 1;"
        ));
    }
}
