//! `migrations/mysql-fulltext-index`: building a FULLTEXT or SPATIAL index (LOCK=SHARED).

use super::write::{Findings, rejected};
use crate::declare_rule;
use crate::sql::mysql::Pos;
use crate::sql::mysql::cost::{Judged, Level};

declare_rule! {
    order: 310;
    /// ## What it catches
    /// Adding a `FULLTEXT` or `SPATIAL` index, with `ALTER TABLE … ADD` or `CREATE … INDEX`.
    ///
    /// ## Why it matters during a deploy
    /// InnoDB builds these with a shared lock: writes to the table are blocked for the whole
    /// build (and the first FULLTEXT index rebuilds the table).
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE products ADD FULLTEXT INDEX products_name_ft (name);
    /// ```
    ///
    /// ## Do this instead
    /// Build it with gh-ost / pt-online-schema-change, or in a maintenance window.
    pub MYSQL_FULLTEXT_INDEX = ("migrations/mysql-fulltext-index", Fail, "FULLTEXT/SPATIAL index builds block writes");
}

pub fn check(out: &mut Findings, pos: Pos, j: &Judged) {
    if j.explicit_copy() {
        return;
    }
    let t = &j.table.name;
    for op in j.ops.iter().filter(|o| o.fulltext) {
        let first = if j.first_fulltext && op.what.contains("FULLTEXT") {
            format!(", and as the first FULLTEXT index of {t} it also rebuilds the table")
        } else {
            String::new()
        };
        out.report(
            pos,
            &MYSQL_FULLTEXT_INDEX,
            format!("{} on {t}: InnoDB builds FULLTEXT and SPATIAL indexes with LOCK=SHARED, so writes to {t} are blocked for the whole build{first}{}", op.what, rejected(j, Level::Inplace, true)),
            format!("build it with {} for {t}, or in a maintenance window", j.relations.tools(t)),
        );
    }
}
