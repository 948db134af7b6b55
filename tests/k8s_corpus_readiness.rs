//! The readiness, grace and rollback checks over real manifests from public projects (../shared/corpus/k8s): every
//! file parses, nothing panics, every finding has a line, and the count of findings per rule is
//! in a snapshot, so changes in behaviour show up in review.

use gonogo::checks::grace::{self, Settings};
use gonogo::checks::readiness::analyze;
use gonogo::checks::rollback;
use gonogo::k8s::{Manifests, parse_stream};
use std::collections::BTreeMap;

#[test]
fn readiness_findings_per_rule_over_the_corpus_are_stable() {
    let Some(root) = crate::common::corpus::dir("k8s") else {
        return;
    };
    let files = crate::common::yaml_files(&root);
    assert!(files.len() >= 90, "{} files", files.len());

    // Each project's files are analysed on their own: selectors must not match across projects.
    let mut projects: BTreeMap<String, Manifests> = BTreeMap::new();
    let mut errors = Vec::new();
    for path in &files {
        let relative = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let project = relative.split('/').next().unwrap().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        if let Err(err) = parse_stream(projects.entry(project).or_default(), &relative, &text) {
            errors.push(err.to_string());
        }
    }
    assert!(
        errors.is_empty(),
        "files gonogo could not read:\n{}",
        errors.join("\n")
    );

    let mut per_rule: BTreeMap<String, usize> = BTreeMap::new();
    let (mut serving, mut workloads) = (0, 0);
    for manifests in projects.values() {
        let mut analysis = analyze(manifests);
        // grace looks at the same serving containers: only its findings are added.
        analysis
            .findings
            .extend(grace::analyze(manifests, &Settings::default()).findings);
        // rollback: its findings per rule too (its workload count is not the serving count).
        analysis
            .findings
            .extend(rollback::analyze(manifests, &rollback::Settings::default()).findings);
        serving += analysis.serving;
        workloads += analysis.workloads;
        for finding in analysis.findings {
            let key = format!("{} ({})", finding.rule, finding.severity);
            *per_rule.entry(key).or_default() += 1;
            let location = finding.location.expect("every finding has a location");
            assert!(location.line.is_some(), "{}: no line", finding.message);
        }
    }
    let mut counts = format!(
        "{} files, {serving} serving containers in {workloads} workloads\n\n",
        files.len()
    );
    for (rule, count) in &per_rule {
        counts.push_str(&format!("{rule}: {count}\n"));
    }
    insta::assert_snapshot!("readiness_findings_per_rule", counts);
}
