//! The finding writer of the MySQL rules: findings located in the file being read, and the SQL
//! of the fixes they suggest.

use crate::checks::Rule;
use crate::report::{Finding, Location, Severity};
use crate::sql::files::MigrationFile;
use crate::sql::mysql::Pos;
use crate::sql::mysql::cost::{Judged, Level, Op, Refusal, Shape};

/// Findings of one file in this deploy.
pub struct Findings<'a> {
    file: &'a MigrationFile,
    out: &'a mut Vec<Finding>,
}

impl<'a> Findings<'a> {
    pub fn new(file: &'a MigrationFile, out: &'a mut Vec<Finding>) -> Findings<'a> {
        Findings { file, out }
    }

    pub fn path(&self) -> &str {
        &self.file.path
    }

    /// A finding of `rule` at `pos`, at the rule's severity.
    pub fn report(&mut self, pos: Pos, rule: &'static Rule, message: String, fix: String) {
        self.out.push(self.finding(pos, rule, message, fix));
    }

    /// A finding of `rule` at `pos`, as `info` whatever the rule's severity.
    pub fn info(&mut self, pos: Pos, rule: &'static Rule, message: String, fix: String) {
        let mut finding = self.finding(pos, rule, message, fix);
        finding.severity = Severity::Info;
        self.out.push(finding);
    }

    /// A finding of `rule` at `pos`, as `fail` whatever the rule's severity: what the rule
    /// warns about turned out to make the migration itself fail.
    pub fn fail(&mut self, pos: Pos, rule: &'static Rule, message: String, fix: String) {
        let mut finding = self.finding(pos, rule, message, fix);
        finding.severity = Severity::Fail;
        self.out.push(finding);
    }

    /// A finding with the statement as evidence (shortened), no fix.
    pub fn push(&mut self, finding: Finding) {
        self.out.push(finding);
    }

    pub fn location(&self, pos: Pos) -> Location {
        Location::new(&self.file.path, pos.line, pos.column)
    }

    fn finding(&self, pos: Pos, rule: &'static Rule, message: String, fix: String) -> Finding {
        rule.finding(bounded(&message))
            .at(self.location(pos))
            .with_fix(bounded(&fix))
    }
}

/// The statement written again with `options` (`ALGORITHM=…, LOCK=…`) added.
pub fn with_options(judged: &Judged, options: &str) -> String {
    match &judged.shape {
        Shape::Alter => format!(
            "ALTER TABLE {} {}, {options};",
            judged.table.sql,
            join_sql(judged.ops.iter())
        ),
        Shape::Index(sql) => format!(
            "{} {};",
            sql.trim_end_matches(';'),
            options.replace(',', "")
        ),
    }
}

/// The SQL of these operations, comma-separated.
pub fn join_sql<'a>(ops: impl Iterator<Item = &'a Op>) -> String {
    ops.filter(|o| !o.sql.is_empty())
        .map(|o| o.sql.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// `; with ALGORITHM=… as written, MySQL rejects …` when MySQL refuses the statement as written
/// for a change that needs `needs`; empty otherwise.
pub fn rejected(judged: &Judged, needs: Level, fulltext: bool) -> String {
    match judged.refusal(needs, fulltext) {
        Some(Refusal::Algorithm(a)) => format!(
            "; with ALGORITHM={a} as written, MySQL rejects the statement and the migration fails"
        ),
        Some(Refusal::LockNone) => {
            "; with LOCK=NONE as written, MySQL rejects the statement and the migration fails"
                .to_string()
        }
        None => String::new(),
    }
}

/// The advice for a table too large to change in place: the online schema change tools that
/// work with its foreign keys.
pub fn gh_ost(judged: &Judged) -> String {
    let t = &judged.table.name;
    format!("use {} for {t}", judged.relations.tools(t))
}

/// Long statements as evidence: the first 159 characters and an ellipsis.
pub fn shorten(text: &str) -> String {
    if text.chars().count() > 160 {
        format!("{}…", text.chars().take(159).collect::<String>())
    } else {
        text.to_string()
    }
}

/// A finding's message or fix holds at most this many characters: an ALTER of thousands of
/// characters is quoted as an excerpt in a CI log or a PR comment, never whole.
const MAX_TEXT: usize = 600;

fn bounded(text: &str) -> String {
    if text.chars().count() > MAX_TEXT {
        format!("{}…", text.chars().take(MAX_TEXT - 1).collect::<String>())
    } else {
        text.to_string()
    }
}
