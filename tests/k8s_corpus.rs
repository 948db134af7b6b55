//! The Kubernetes model and the rollout check over real manifests from public projects
//! (../shared/corpus/k8s: Argo Rollouts, Flagger, ingress-nginx, Istio, kube-prometheus, …):
//! every file parses, nothing panics, and the count of findings per rule is in a snapshot, so
//! changes in behaviour show up in review.

use gonogo::checks::rollout::analyze;
use gonogo::k8s::{Manifests, parse_stream};
use std::collections::BTreeMap;

#[test]
fn real_manifests_load_and_findings_per_rule_are_stable() {
    let Some(root) = crate::common::corpus::dir("k8s") else {
        return;
    };
    let files = crate::common::yaml_files(&root);
    assert!(files.len() >= 90, "{} files", files.len());
    let mut manifests = Manifests::default();
    let mut errors = Vec::new();
    for path in &files {
        let relative = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let text = std::fs::read_to_string(path).unwrap();
        // One file at a time, as separate `manifests` entries would be.
        let mut one = Manifests::default();
        match parse_stream(&mut one, &relative, &text) {
            Ok(()) => manifests.extend(one),
            Err(err) => errors.push(err.to_string()),
        }
    }
    assert!(
        errors.is_empty(),
        "files gonogo could not read:\n{}",
        errors.join("\n")
    );

    // Each project's files are analysed on their own: selectors must not match across projects.
    let mut per_rule: BTreeMap<String, usize> = BTreeMap::new();
    let mut projects: BTreeMap<String, Manifests> = BTreeMap::new();
    for path in &files {
        let relative = path
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let project = relative.split('/').next().unwrap().to_string();
        let text = std::fs::read_to_string(path).unwrap();
        parse_stream(projects.entry(project).or_default(), &relative, &text).unwrap();
    }
    for manifests in projects.values() {
        for finding in analyze(manifests).findings {
            let key = format!("{} ({})", finding.rule, finding.severity);
            *per_rule.entry(key).or_default() += 1;
            let location = finding.location.expect("every finding has a location");
            assert!(location.line.is_some(), "{}: no line", finding.message);
        }
    }
    let mut counts = format!(
        "{} files, {} documents, {} workloads, {} PDBs, {} HPAs, {} Services, {} Ingresses, {} analysis templates, {} Flagger canaries\n\n",
        manifests.files.len(),
        manifests.documents,
        manifests.workloads.len(),
        manifests.pdbs.len(),
        manifests.hpas.len(),
        manifests.services.len(),
        manifests.ingresses.len(),
        manifests.analysis_templates.len(),
        manifests.flagger_canaries.len(),
    );
    for (rule, count) in &per_rule {
        counts.push_str(&format!("{rule}: {count}\n"));
    }
    insta::assert_snapshot!("rollout_findings_per_rule", counts);
}

#[test]
fn the_invalid_corpus_file_is_an_error_naming_file_and_line() {
    let Some(root) = crate::common::corpus::dir("k8s-invalid") else {
        return;
    };
    let path = root.join("argo-rollouts-rollout-linkerd.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut manifests = Manifests::default();
    let err = parse_stream(&mut manifests, "argo-rollouts-rollout-linkerd.yaml", &text)
        .expect_err("`{{args.linkerd-enabled}}` is not a valid Kubernetes manifest");
    let line = text
        .lines()
        .position(|l| l.contains("linkerd.io/inject: {{args"))
        .unwrap() as u32
        + 1;
    assert_eq!(err.pos.map(|p| p.line), Some(line), "{err}");
    assert!(
        err.to_string()
            .starts_with(&format!("argo-rollouts-rollout-linkerd.yaml:{line}:")),
        "{err}"
    );
}
