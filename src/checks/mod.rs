//! The [`Check`] trait and the registry of built-in checks.
//!
//! A built-in check is one module under `src/checks/<id>/`. It declares its rules with
//! [`declare_rule!`], so a rule cannot exist without an id, a default severity and documentation;
//! build.rs collects the declarations into [`registry`], which `gonogo list`, `gonogo explain`,
//! SARIF rule metadata and JUnit test names read.
//!
//! To add a check: write the module, implement [`Check`], and add it to [`BUILT_IN`].

pub mod compat;
pub mod dns;
pub mod grace;
pub mod kubernetes;
pub mod migrations;
pub mod readiness;
pub mod rollback;
pub mod rollout;

use crate::context::Context;
use crate::report::{Finding, Severity, Status};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

/// One rule: the single place that holds its id, default severity, one-line summary and docs.
#[derive(Debug)]
pub struct Rule {
    /// `<check>/<kebab-name>`; stable once released.
    pub id: &'static str,
    pub default_severity: Severity,
    pub summary: &'static str,
    /// Markdown with the headings *What it catches*, *Why it matters during a deploy*, *Example*,
    /// *Do this instead*; printed by `gonogo explain`.
    pub docs: &'static str,
}

impl Rule {
    /// The docs as written, without the space each `/// ` line leaves at its start.
    pub fn help(&self) -> String {
        self.docs
            .lines()
            .map(|line| line.strip_prefix(' ').unwrap_or(line))
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A finding of this rule at its default severity.
    pub fn finding(&'static self, message: impl Into<String>) -> Finding {
        Finding::new(self.id, self.default_severity, message)
    }
}

/// The headings every rule's docs have, in this order (STYLE.md); [`declare_rule!`] refuses, at
/// compile time, a rule whose docs lack one or have them out of order.
pub const RULE_HEADINGS: [&str; 4] = [
    "## What it catches",
    "## Why it matters during a deploy",
    "## Example",
    "## Do this instead",
];

/// Whether `docs` has the [`RULE_HEADINGS`] in order, each at the start of a line. A `const fn`
/// so that the check runs when the rule is compiled, not when a test remembers to look.
pub const fn has_rule_headings(docs: &str) -> bool {
    let text = docs.as_bytes();
    let mut from = 0;
    let mut heading = 0;
    while heading < RULE_HEADINGS.len() {
        match find_line_start(text, RULE_HEADINGS[heading].as_bytes(), from) {
            Some(at) => from = at + 1,
            None => return false,
        }
        heading += 1;
    }
    true
}

/// The first offset at or after `from` where `needle` starts a line (after optional spaces, as
/// doc comments leave one).
const fn find_line_start(text: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while at + needle.len() <= text.len() {
        let mut line_start = at;
        while line_start > 0 && text[line_start - 1] == b' ' {
            line_start -= 1;
        }
        if line_start == 0 || text[line_start - 1] == b'\n' {
            let mut i = 0;
            while i < needle.len() && text[at + i] == needle[i] {
                i += 1;
            }
            if i == needle.len() {
                return Some(at);
            }
        }
        at += 1;
    }
    None
}

/// Declare a rule; its doc comment becomes the text `gonogo explain` prints. The docs must have
/// the four [`RULE_HEADINGS`] in order: a rule without them does not compile.
///
/// `order:` is the rule's place among its check's rules (`gonogo list`, `explain <check>`,
/// SARIF's rule table); rules are numbered 10, 20, … so a new one fits between two. build.rs
/// collects every declaration into [`registry`], so a declared rule is listed by construction.
/// A declaration starts a line (a top-level item); its `NAME` is `pub`.
///
/// ```text
/// declare_rule! {
///     order: 100;
///     /// ## What it catches
///     /// ...
///     pub ADD_INDEX_NOT_CONCURRENT = ("migrations/pg-add-index-not-concurrent", Fail,
///         "CREATE INDEX without CONCURRENTLY blocks writes for the whole build");
/// }
/// ```
#[macro_export]
macro_rules! declare_rule {
    (order: $order:literal; $(#[doc = $doc:literal])* $vis:vis $name:ident = ($id:literal, $severity:ident, $summary:literal);) => {
        $vis static $name: $crate::checks::Rule = $crate::checks::Rule {
            id: $id,
            default_severity: $crate::report::Severity::$severity,
            summary: $summary,
            docs: concat!($($doc, "\n"),*),
        };
        const _: () = assert!(
            $crate::checks::has_rule_headings(concat!($($doc, "\n"),*)),
            concat!("rule ", $id, ": its doc comment needs the headings ## What it catches, ## Why it matters during a deploy, ## Example, ## Do this instead, in that order")
        );
    };
    // The registry's copy of a declaration (build.rs): the same tokens, public so that the
    // generated lists can name it; the headings were checked at the declaration.
    (@registry order: $order:literal; $(#[doc = $doc:literal])* $vis:vis $name:ident = ($id:literal, $severity:ident, $summary:literal);) => {
        pub static $name: $crate::checks::Rule = $crate::checks::Rule {
            id: $id,
            default_severity: $crate::report::Severity::$severity,
            summary: $summary,
            docs: concat!($($doc, "\n"),*),
        };
    };
    ($($other:tt)*) => {
        compile_error!("declare_rule! needs `order: N;` (the rule's place within its check), its doc comment, then `pub NAME = (\"check/rule\", Severity, \"summary\");`");
    };
}

/// The rules, collected by build.rs from every `declare_rule!` under `src/`: per check (the id
/// before `/`) in their `order:`, [`registry::BY_CHECK`] naming each group, and where each is
/// declared ([`registry::DECLARED_AT`]).
pub mod registry {
    include!(concat!(env!("OUT_DIR"), "/registry.rs"));
}

/// What a check hands back to the runner. The runner adds timing, waivers and the final status.
#[derive(Debug)]
pub struct CheckOutcome {
    /// `None`: the status follows from the findings. `Some(Skip | Error)` overrides.
    pub status: Option<Status>,
    pub summary: String,
    pub findings: Vec<Finding>,
}

impl CheckOutcome {
    pub fn findings(summary: impl Into<String>, findings: Vec<Finding>) -> Self {
        CheckOutcome {
            status: None,
            summary: summary.into(),
            findings,
        }
    }

    pub fn skip(reason: impl Into<String>) -> Self {
        CheckOutcome {
            status: Some(Status::Skip),
            summary: reason.into(),
            findings: Vec::new(),
        }
    }
}

/// A check that could not reach a decision: reported as `error` with this one-line reason.
#[derive(Debug)]
pub struct CheckError(pub String);

impl<E: std::fmt::Display> From<E> for CheckError {
    fn from(err: E) -> Self {
        CheckError(err.to_string())
    }
}

pub type CheckFuture = Pin<Box<dyn Future<Output = Result<CheckOutcome, CheckError>> + Send>>;

pub trait Check: Send + Sync {
    /// `migrations`, `compat`, …; for plugins `plugin/<name>`.
    fn id(&self) -> &str;
    fn title(&self) -> &str;
    /// Shown by `gonogo explain <check>`: what the check answers and how it is configured.
    fn docs(&self) -> &str;
    fn rules(&self) -> &'static [&'static Rule];
    /// Whether this config turns the check on (for `gonogo list`); a check may still discover
    /// its inputs without config.
    fn enabled_by(&self, config: &crate::config::Config) -> bool;
    /// Checks that need the network or a database are skipped with `--offline`.
    fn needs_network(&self, _ctx: &Context) -> bool {
        false
    }
    /// The longest this check may run; the run's `--deadline` caps it.
    fn timeout(&self, _ctx: &Context) -> Option<Duration> {
        None
    }
    fn run(&self, ctx: Arc<Context>) -> CheckFuture;
}

/// Built-in checks, in report order. Later issues add `migrations`, `compat`, `readiness`, `dns`,
/// `grace`, `rollout` and `rollback` here.
pub static BUILT_IN: &[&dyn Check] = &[
    &migrations::Migrations,
    &compat::Compat,
    &readiness::Readiness,
    &dns::Dns,
    &grace::Grace,
    &rollout::Rollout,
    &rollback::Rollback,
];

/// Rules that belong to gonogo itself rather than to a check (waiver bookkeeping).
pub static GONOGO_RULES: &[&Rule] = registry::WAIVERS;

/// Every rule gonogo knows, built-in checks first.
pub fn all_rules() -> impl Iterator<Item = &'static Rule> {
    BUILT_IN
        .iter()
        .flat_map(|check| check.rules().iter().copied())
        .chain(GONOGO_RULES.iter().copied())
}

pub fn find_rule(id: &str) -> Option<&'static Rule> {
    all_rules().find(|rule| rule.id == id)
}

pub fn find_check(id: &str) -> Option<&'static dyn Check> {
    BUILT_IN.iter().copied().find(|check| check.id() == id)
}

#[cfg(test)]
mod tests {
    use super::{Rule, find_rule, has_rule_headings};

    /// The registry's copies say what the declarations say (build.rs copies their tokens).
    #[test]
    fn registry_copies_match_their_declarations() {
        let declared: [&Rule; 5] = [
            &super::migrations::UNPARSED_STATEMENT,
            &super::rollout::CAPACITY_DROPS,
            &super::readiness::live::DRILL_RESULT,
            &super::grace::drill::DRILL_TIMELINE,
            &crate::waivers::WAIVER_EXPIRED,
        ];
        for rule in declared {
            let copy = find_rule(rule.id).expect("registered");
            assert!(!std::ptr::eq(copy, rule));
            assert_eq!(
                (copy.id, copy.default_severity, copy.summary, copy.docs),
                (rule.id, rule.default_severity, rule.summary, rule.docs)
            );
        }
    }

    const COMPLETE: &str = " ## What it catches\n a\n\n ## Why it matters during a deploy\n b\n ## Example\n c\n ## Do this instead\n d\n";

    #[test]
    fn complete_docs_have_the_headings() {
        assert!(has_rule_headings(COMPLETE));
    }

    #[test]
    fn a_missing_heading_is_refused() {
        assert!(!has_rule_headings(
            &COMPLETE.replace("## Example", "Example")
        ));
        assert!(!has_rule_headings(""));
    }

    #[test]
    fn headings_out_of_order_are_refused() {
        let swapped = " ## Why it matters during a deploy\n b\n ## What it catches\n a\n ## Example\n c\n ## Do this instead\n d\n";
        assert!(!has_rule_headings(swapped));
    }

    #[test]
    fn a_heading_in_the_middle_of_a_line_does_not_count() {
        let inline = COMPLETE.replace(" ## Example\n", " see ## Example\n");
        assert!(!has_rule_headings(&inline));
    }
}
