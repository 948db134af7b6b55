//! MySQL 8 (InnoDB) rules of the `migrations` check.
//!
//! Facts, then rules: `crate::sql::mysql::facts` follows every file statement by statement over
//! one schema model (files outside this deploy too, so the schema is known) and says, for each
//! statement, how MySQL runs it (INSTANT, INPLACE, a table rebuild or COPY, from the online-DDL
//! table), what it breaks for the old version, and whether it runs without `lock_wait_timeout`.
//! Each rule below is one file: its declaration with its docs, and a `check` over those facts.
//! Adding a rule: a file here (its declaration with an `order:`), a `mod` line and a line in
//! [`statement`], and its fixtures; build.rs lists it in the registry.

mod breaking;
mod cascading_foreign_key;
mod copy_algorithm;
mod fulltext_index;
mod missing_algorithm_lock;
mod missing_lock_wait_timeout;
mod table_rebuild;
mod unparsed;
mod write;

#[cfg(test)]
mod tests;

use super::MigrationFile;
use crate::report::Finding;
use crate::sql::mysql::facts::{Event, Kind, Statement};
use write::Findings;

/// Judge MySQL migration files from their followed facts (`events`: each file's, in the same
/// order as `files`; see `crate::sql::followed`). Every statement is either judged or reported
/// as unparsed.
pub fn analyze(files: &[MigrationFile], events: &[Vec<Event>]) -> Vec<Finding> {
    let mut findings = Vec::new();
    for (file, events) in files.iter().zip(events) {
        // Files outside this deploy only build the schema.
        if !file.in_deploy {
            continue;
        }
        let mut out = Findings::new(file, &mut findings);
        for event in events {
            event_rules(&mut out, event);
        }
    }
    findings
}

/// How many statements (or unread stretches of a file) these findings say gonogo could not read.
pub fn unread(findings: &[Finding]) -> usize {
    findings
        .iter()
        .filter(|f| f.rule == super::UNPARSED_STATEMENT.id)
        .count()
}

fn event_rules(out: &mut Findings, event: &Event) {
    match event {
        Event::Statement(st) => statement(out, st),
        Event::DelimiterBlock { start, end_line } => {
            unparsed::delimiter_block(out, *start, *end_line)
        }
        Event::TokenizerError { pos, message } => unparsed::tokenizer_error(out, *pos, message),
    }
}

/// Every rule over one statement's facts, in the order their findings are written.
fn statement(out: &mut Findings, st: &Statement) {
    // An ALTER TABLE's schema changes are read clause by clause before it runs; other DDL takes
    // its lock before it changes anything.
    if st.kind == Kind::Alter {
        breaking::check(out, st);
        missing_lock_wait_timeout::check(out, st);
    } else {
        missing_lock_wait_timeout::check(out, st);
        breaking::check(out, st);
    }
    unparsed::statement(out, st);
    for (table, relations) in &st.optimized {
        table_rebuild::check_optimize(out, st.pos, table, relations);
    }
    if let Some(judged) = &st.judged {
        copy_algorithm::check(out, st.pos, judged);
        table_rebuild::check(out, st.pos, judged);
        fulltext_index::check(out, st.pos, judged);
        cascading_foreign_key::check(out, st.pos, judged);
        copy_algorithm::check_lock(out, st.pos, judged);
        missing_algorithm_lock::check(out, st.pos, judged);
    }
    if let Some(judged) = &st.lock_none_on_new_table {
        cascading_foreign_key::check(out, st.pos, judged);
    }
}
