//! What a finding is about, beyond its location: the Kubernetes objects whose
//! `gonogo.dev/ignore` annotation can waive it, and the workloads it puts at risk while it is not
//! waived. Neither is printed. The checks write them as data; the waiver layer
//! (`crate::waivers::apply`) decides what the annotations waive, with the config and inline
//! waivers, and [`CheckResult::settle`](super::CheckResult::settle) then names the workloads
//! still at risk in the check's summary (the [`at_risk_slot`] the check left in it). So a
//! finding waived in any of the three ways leaves its workload out of "at risk".

use super::{Finding, Severity};
use crate::yaml::Pos;
use std::collections::HashMap;

/// The annotation that waives rules on one object: `gonogo.dev/ignore: "rule-a,rule-b"`.
pub const IGNORE_ANNOTATION: &str = "gonogo.dev/ignore";

/// An object's `gonogo.dev/ignore` annotation, as data: the rules it names and where it is
/// written. What it waives is decided in one place with the config and inline waivers
/// (`crate::waivers`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IgnoreAnnotation {
    /// `Deployment/shop-api`: the waiver's reason names it.
    pub object: String,
    /// Rule ids or globs, from the object and, for workloads, from the pod template (which is
    /// what many charts let users annotate), without repeats.
    pub rules: Vec<String>,
    /// Where the annotation is written: the object's key, then the pod template's.
    pub positions: Vec<Pos>,
}

impl IgnoreAnnotation {
    /// Add the rules of one annotation value (`"rule-a, rule-b"`) written at `pos`.
    pub fn add(&mut self, value: &str, pos: Pos) {
        let rules = value
            .split([',', ' ', '\n', '\t'])
            .map(str::trim)
            .filter(|s| !s.is_empty());
        for rule in rules {
            if !self.rules.iter().any(|known| known == rule) {
                self.rules.push(rule.to_string());
            }
        }
        self.positions.push(pos);
    }
}

/// A workload a finding puts at risk, and why, in the words of the check's summary
/// ("Deployment/api (no readiness probe)").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtRisk {
    pub object: String,
    pub reason: String,
    /// The order the check named it in: the summary lists workloads in that order, not in the
    /// report's sorted order of findings. Set by the first `settle`.
    order: usize,
}

/// The objects a Kubernetes finding is about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subject {
    /// The finding is waived when, in one of these groups, every object's annotation names its
    /// rule: `[[workload]]` for a finding about one workload, `[[a], [b]]` when either object's
    /// waiver is enough, `[[config], [reader1, reader2]]` when the ConfigMap's waiver is, or
    /// every reader's together (one reader's waiver must not hide the others). Annotations that
    /// name no rule are left out when the subject is built; an empty group never waives.
    pub waivable_by: Vec<Vec<IgnoreAnnotation>>,
    /// The workloads named "at risk" in the summary while the finding counts (unwaived, not
    /// info).
    pub at_risk: Vec<AtRisk>,
}

impl Subject {
    /// A finding about one object (`ignore` is its annotation) that puts `object` at risk.
    pub fn object(ignore: &IgnoreAnnotation, object: String, reason: String) -> Subject {
        Subject::default()
            .waivable_by_any(std::iter::once(ignore))
            .at_risk(object, reason)
    }

    /// Waivable by any one of these objects' annotations.
    pub fn waivable_by_any<'a>(
        mut self,
        annotations: impl IntoIterator<Item = &'a IgnoreAnnotation>,
    ) -> Subject {
        for annotation in annotations {
            if !annotation.rules.is_empty() {
                self.waivable_by.push(vec![annotation.clone()]);
            }
        }
        self
    }

    /// Waivable by these objects' annotations together (each must name the rule). A group with
    /// an object that waives nothing can never waive, so it is not kept.
    pub fn waivable_by_all<'a>(
        mut self,
        annotations: impl IntoIterator<Item = &'a IgnoreAnnotation>,
    ) -> Subject {
        let group: Option<Vec<IgnoreAnnotation>> = annotations
            .into_iter()
            .map(|a| (!a.rules.is_empty()).then(|| a.clone()))
            .collect();
        if let Some(group) = group.filter(|g| !g.is_empty()) {
            self.waivable_by.push(group);
        }
        self
    }

    pub fn at_risk(mut self, object: String, reason: String) -> Subject {
        self.at_risk.push(AtRisk {
            object,
            reason,
            order: 0,
        });
        self
    }
}

// The slot a check leaves in its summary where the workloads at risk are named once waivers
// are known: a Unicode noncharacter on each side of the words that end the summary when none
// is at risk. Noncharacters are reserved for a program's internal use (Unicode FAQ,
// "Private-Use Characters, Noncharacters & Sentinels"): no check writes them, plugins' text has
// them removed (`plugins::clean`), they survive the string edits checks make around their
// static summary (a live drill's words in front, notes behind), and the slot is filled before
// a renderer sees the summary.
const SLOT_OPEN: char = '\u{FDD0}';
const SLOT_CLOSE: char = '\u{FDD1}';

/// The place in a Kubernetes check's summary that names the workloads at risk, filled by
/// `settle`: "; at risk: Deployment/api (no readiness probe); warnings: …", or ": {all_good}"
/// when no unwaived finding puts a workload at risk.
pub fn at_risk_slot(all_good: &str) -> String {
    format!("{SLOT_OPEN}{all_good}{SLOT_CLOSE}")
}

/// Whether `summary` still has a slot to fill.
pub(super) fn has_slot(summary: &str) -> bool {
    summary.contains(SLOT_OPEN)
}

/// Number the workloads at risk in the order the check named them (`findings` as the check
/// returned them, before sorting).
pub(super) fn number(findings: &mut [Finding]) {
    let mut next = 0;
    for finding in findings {
        for risk in finding
            .subject
            .iter_mut()
            .flat_map(|s| s.at_risk.iter_mut())
        {
            risk.order = next;
            next += 1;
        }
    }
}

/// `template` with each slot filled from the findings that still count.
pub(super) fn fill(template: &str, findings: &[Finding]) -> String {
    let mut risks: Vec<(&AtRisk, Severity)> = findings
        .iter()
        .filter(|f| f.waived.is_none() && f.severity != Severity::Info)
        .flat_map(|f| {
            f.subject
                .iter()
                .flat_map(|s| s.at_risk.iter())
                .map(move |risk| (risk, f.severity))
        })
        .collect();
    risks.sort_by_key(|(risk, _)| risk.order);
    let mut filled = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find(SLOT_OPEN) {
        filled.push_str(&rest[..open]);
        let inside = &rest[open + SLOT_OPEN.len_utf8()..];
        let (all_good, after) = inside.split_once(SLOT_CLOSE).unwrap_or((inside, ""));
        filled.push_str(&risk_summary(&risks, all_good));
        rest = after;
    }
    filled.push_str(rest);
    filled
}

/// "; at risk: Deployment/api (no readiness probe); warnings: StatefulSet/db (tcpSocket readiness)"
fn risk_summary(risks: &[(&AtRisk, Severity)], all_good: &str) -> String {
    let group = |severity: Severity| {
        // In order of first appearance; the index keeps this linear for thousands of workloads.
        let mut objects: Vec<(&str, Vec<&str>)> = Vec::new();
        let mut index: HashMap<&str, usize> = HashMap::new();
        for (risk, _) in risks.iter().filter(|(_, s)| *s == severity) {
            match index.get(risk.object.as_str()) {
                Some(&i) => {
                    let reasons = &mut objects[i].1;
                    if !reasons.contains(&risk.reason.as_str()) {
                        reasons.push(&risk.reason);
                    }
                }
                None => {
                    index.insert(&risk.object, objects.len());
                    objects.push((&risk.object, vec![&risk.reason]));
                }
            }
        }
        let total = objects.len();
        let mut shown: Vec<String> = objects
            .into_iter()
            .take(5)
            .map(|(object, reasons)| format!("{object} ({})", reasons.join(", ")))
            .collect();
        if total > 5 {
            shown.push(format!("…and {} more", total - 5));
        }
        shown.join(", ")
    };
    let failing = group(Severity::Fail);
    let warning = group(Severity::Warn);
    match (failing.is_empty(), warning.is_empty()) {
        (true, true) => format!(": {all_good}"),
        (false, true) => format!("; at risk: {failing}"),
        (true, false) => format!("; warnings: {warning}"),
        (false, false) => format!("; at risk: {failing}; warnings: {warning}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flagged(severity: Severity, object: &str, reason: &str) -> Finding {
        Finding::new("rollout/x", severity, "m").about(Subject::object(
            &IgnoreAnnotation::default(),
            object.to_string(),
            reason.to_string(),
        ))
    }

    #[test]
    fn the_slot_names_unwaived_workloads_in_the_order_the_check_named_them() {
        let mut findings = vec![
            flagged(Severity::Warn, "Deployment/b", "no PDB"),
            flagged(Severity::Fail, "Deployment/a", "no readiness probe"),
            flagged(Severity::Fail, "Deployment/a", "no readiness probe"),
            flagged(Severity::Info, "Deployment/c", "noted"),
            flagged(Severity::Fail, "Deployment/d", "capacity drops"),
        ];
        findings[4].waived = Some(super::super::Waived {
            reason: "accepted".into(),
            expires: None,
            source: super::super::WaiverSource::Config,
        });
        number(&mut findings);
        findings.reverse(); // the report sorts findings; the summary keeps the check's order
        let template = format!("2 workloads{}; left out: x", at_risk_slot("all good"));
        assert!(has_slot(&template));
        assert_eq!(
            fill(&format!("live: ok; {template}"), &findings),
            "live: ok; 2 workloads; at risk: Deployment/a (no readiness probe); warnings: Deployment/b (no PDB); left out: x"
        );
        assert_eq!(fill(&template, &[]), "2 workloads: all good; left out: x");
    }

    #[test]
    fn a_group_with_an_object_that_waives_nothing_is_dropped() {
        let named = IgnoreAnnotation {
            object: "ConfigMap/a".into(),
            rules: vec!["rollout/*".into()],
            positions: Vec::new(),
        };
        let subject = Subject::default()
            .waivable_by_all([&named, &IgnoreAnnotation::default()])
            .waivable_by_all(std::iter::empty())
            .waivable_by_any([&IgnoreAnnotation::default(), &named]);
        assert_eq!(subject.waivable_by, vec![vec![named]]);
    }
}
