//! The `migrations/pg-alter-domain-check` rule (PostgreSQL).

use super::{Draft, Facts};
use crate::declare_rule;
use crate::sql::postgres::operations::*;

declare_rule! {
    order: 176;
    /// ## What it catches
    /// `ALTER DOMAIN … ADD CONSTRAINT` without `NOT VALID`, `ALTER DOMAIN … VALIDATE CONSTRAINT`
    /// and `ALTER DOMAIN … SET NOT NULL`, on a domain that columns of existing tables use.
    ///
    /// ## Why it matters during a deploy
    /// PostgreSQL checks every stored value of the domain, holding SHARE on each table with a
    /// column of it (validateDomainConstraint in typecmds.c): writes to all of them wait for
    /// the whole scan. Unlike a table's `VALIDATE CONSTRAINT` (SHARE UPDATE EXCLUSIVE), a
    /// domain's VALIDATE blocks writes too, so `NOT VALID` then `VALIDATE` does not help.
    ///
    /// ## Example
    /// ```sql
    /// ALTER DOMAIN positive_cents ADD CONSTRAINT positive_cents_cap CHECK (VALUE < 1000000000);
    /// ```
    ///
    /// ## Do this instead
    /// Put the CHECK on each table's column instead (`ADD CONSTRAINT … NOT VALID`, then `VALIDATE
    /// CONSTRAINT` in a later transaction: no write is blocked), or run the domain change in a
    /// quiet window.
    pub ALTER_DOMAIN_CHECK = ("migrations/pg-alter-domain-check", Fail, "ALTER DOMAIN checks every column of the domain under SHARE: writes to those tables wait");
}

pub fn check(facts: &Facts) -> Option<Draft> {
    let Operation::DomainCheck {
        domain,
        what,
        tables,
    } = facts.op
    else {
        return None;
    };
    let list = tables.join(", ");
    let them = if tables.len() == 1 { "it" } else { "them" };
    Some(Draft::new(
        &ALTER_DOMAIN_CHECK,
        &tables[0],
        format!(
            "ALTER DOMAIN {domain} {what} checks every {domain} value while holding SHARE on {list}: writes to {them} wait for the whole scan"
        ),
        format!(
            "put the CHECK on each column of {domain} as a table constraint (`ALTER TABLE … ADD CONSTRAINT … CHECK (…) NOT VALID;`, VALIDATE in a later transaction), or run it in a quiet window"
        ),
    ))
}
