//! `migrations/unparsed-statement` (declared with the check) for MySQL: a statement, a
//! `DELIMITER` block or the rest of a file gonogo could not read is said, never silently passed.

use super::write::{Findings, shorten};
use crate::checks::migrations::UNPARSED_STATEMENT;
use crate::sql::mysql::Pos;
use crate::sql::mysql::facts::Statement;

pub fn statement(out: &mut Findings, st: &Statement) {
    let Some(unparsed) = &st.unparsed else {
        return;
    };
    let finding = UNPARSED_STATEMENT
        .finding(format!(
            "gonogo cannot analyse this statement: {}",
            unparsed.reason
        ))
        .at(out.location(st.pos))
        .with_evidence(shorten(&unparsed.sql))
        .with_fix(
            "fix the SQL, or check this statement's locks by hand and waive it with a reason",
        );
    out.push(finding);
}

pub fn delimiter_block(out: &mut Findings, start: Pos, end_line: Option<u32>) {
    let lines = match end_line {
        Some(end) => format!("lines {}–{end}", start.line),
        None => format!("line {} to the end of the file", start.line),
    };
    out.report(
        start,
        &UNPARSED_STATEMENT,
        format!("`DELIMITER` is a mysql client command, not SQL: gonogo skipped {lines} (stored programs such as triggers or procedures) without analysing them"),
        "check those statements' locks by hand (CREATE TRIGGER takes an exclusive metadata lock on its table) and waive this with a reason".to_string(),
    );
}

pub fn tokenizer_error(out: &mut Findings, pos: Pos, message: &str) {
    let path = out.path().to_string();
    out.report(
        pos,
        &UNPARSED_STATEMENT,
        format!("gonogo cannot read the SQL from here on ({message}): the rest of {path} was not analysed"),
        "fix the SQL (an unterminated quote or comment?), or check the rest of the file by hand".to_string(),
    );
}
