//! The rule metadata renderers print (SARIF rule descriptors, JUnit test cases). The registry of
//! checks and rules sits above the report model; the command layer reads it once per run into a
//! [`RuleCatalog`] and hands the catalog to the renderers, so no renderer looks anything up in
//! the registry itself.

use super::Severity;
use std::collections::HashMap;

/// One rule as a renderer shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleInfo {
    pub id: String,
    pub default_severity: Severity,
    pub summary: String,
    /// The rule's documentation as text (its four headings), for SARIF's help.
    pub help: String,
}

/// Every documented rule, and which rules each built-in check can report, in registry order.
/// A rule not in the catalog (a plugin's) is described from its findings alone.
#[derive(Debug, Clone, Default)]
pub struct RuleCatalog {
    rules: Vec<RuleInfo>,
    /// Rule id → index in `rules`; the first rule registered under an id wins, as a lookup
    /// over the registry in order would.
    by_id: HashMap<String, usize>,
    /// Check id → its rules' indexes, in the order the check lists them.
    by_check: HashMap<String, Vec<usize>>,
}

impl RuleCatalog {
    /// Add a check and the rules it lists (kept as listed, a repeated rule included).
    pub fn add_check(&mut self, check_id: &str, rules: impl IntoIterator<Item = RuleInfo>) {
        let indexes = rules.into_iter().map(|rule| self.add(rule)).collect();
        self.by_check.entry(check_id.to_string()).or_insert(indexes);
    }

    /// Add a rule no check lists (gonogo's own bookkeeping, such as unused waivers).
    pub fn add_rule(&mut self, rule: RuleInfo) {
        self.add(rule);
    }

    fn add(&mut self, rule: RuleInfo) -> usize {
        let index = self.rules.len();
        self.by_id.entry(rule.id.clone()).or_insert(index);
        self.rules.push(rule);
        index
    }

    pub fn rule(&self, id: &str) -> Option<&RuleInfo> {
        self.by_id.get(id).map(|&index| &self.rules[index])
    }

    /// The rules a built-in check lists; `None` for a check the catalog does not know (a
    /// plugin).
    pub fn check_rules(&self, check_id: &str) -> Option<impl Iterator<Item = &RuleInfo>> {
        self.by_check
            .get(check_id)
            .map(|indexes| indexes.iter().map(|&index| &self.rules[index]))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn info(id: &str) -> RuleInfo {
        RuleInfo {
            id: id.to_string(),
            default_severity: Severity::Warn,
            summary: format!("{id} summary"),
            help: String::new(),
        }
    }

    #[test]
    fn checks_keep_their_order_and_lookups_find_the_first() {
        let mut catalog = RuleCatalog::default();
        catalog.add_check("demo", [info("demo/b"), info("demo/a")]);
        catalog.add_check("other", [info("demo/a")]);
        catalog.add_rule(info("gonogo/waiver-unused"));
        let ids: Vec<&str> = catalog
            .check_rules("demo")
            .unwrap()
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(ids, ["demo/b", "demo/a"]);
        assert_eq!(catalog.rules.len(), 4);
        assert_eq!(catalog.by_id["demo/a"], 1, "the first registration wins");
        assert!(catalog.rule("gonogo/waiver-unused").is_some());
        assert!(catalog.rule("plugin/x/y").is_none());
        assert!(catalog.check_rules("plugin/x").is_none());
    }
}
