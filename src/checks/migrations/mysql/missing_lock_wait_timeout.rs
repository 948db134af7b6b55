//! `migrations/mysql-missing-lock-wait-timeout`: the first DDL on an existing table in a file
//! with no `lock_wait_timeout` set before it.

use super::write::Findings;
use crate::declare_rule;
use crate::sql::mysql::facts::Statement;

declare_rule! {
    order: 330;
    /// ## What it catches
    /// DDL on an existing table (`ALTER TABLE`, `CREATE`/`DROP INDEX`, `DROP`, `RENAME`,
    /// `TRUNCATE`, `OPTIMIZE TABLE`) with no `SET [SESSION] lock_wait_timeout = …` earlier in the
    /// same file; reported once per file, at the first such statement.
    ///
    /// ## Why it matters during a deploy
    /// Every ALTER needs an exclusive metadata lock, at least briefly. Waiting behind a long
    /// transaction, it blocks every later query on the table; the default `lock_wait_timeout` is
    /// a year.
    ///
    /// ## Example
    /// ```sql
    /// ALTER TABLE orders ADD COLUMN note TEXT, ALGORITHM=INSTANT;
    /// ```
    ///
    /// ## Do this instead
    /// ```sql
    /// SET SESSION lock_wait_timeout = 5;
    /// ALTER TABLE orders ADD COLUMN note TEXT, ALGORITHM=INSTANT;
    /// ```
    pub MYSQL_MISSING_LOCK_WAIT_TIMEOUT = ("migrations/mysql-missing-lock-wait-timeout", Warn, "DDL without lock_wait_timeout can queue every query behind a metadata lock");
}

pub fn check(out: &mut Findings, st: &Statement) {
    let Some(ddl) = &st.unguarded_ddl else {
        return;
    };
    let (verb, t) = (ddl.verb, &ddl.table.name);
    let path = out.path().to_string();
    out.report(
        st.pos,
        &MYSQL_MISSING_LOCK_WAIT_TIMEOUT,
        format!("{verb} on {t} with no lock_wait_timeout set: it needs an exclusive metadata lock on {t}, and while it waits behind a long transaction every later query on {t} queues behind it (the default lock_wait_timeout is one year)"),
        format!("add `SET SESSION lock_wait_timeout = 5;` at the top of {path}, and retry the migration when it times out"),
    );
}
