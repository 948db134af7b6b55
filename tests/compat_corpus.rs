//! Real-world OpenAPI / Swagger and JSON Schema pairs from `../shared/corpus/pairs/` (PAIRS.md
//! lists what changed in each): the findings per pair are kept in a snapshot a reviewer can
//! read, and the key documented changes are asserted. oasdiff's own test specs must parse (or
//! fail with a clean schema error) and compare equal to themselves.

use crate::common::corpus;
use gonogo::checks::compat::model::{Comparison, Pair, Version};
use gonogo::checks::compat::{jsonschema, openapi};
use gonogo::report::{Finding, Severity};
use std::path::{Path, PathBuf};

type Compare = fn(&[Pair], &Version, &Version) -> Comparison;

/// Compare `old.<ext>` with `new.<ext>` of a pair folder, both read as `<pair>/spec.<ext>` so
/// locations name the pair.
fn compare_pair(dir: &Path, compare: Compare) -> Comparison {
    let ext = ["yaml", "json"]
        .into_iter()
        .find(|e| dir.join(format!("old.{e}")).is_file())
        .unwrap_or_else(|| panic!("{}: no old.yaml or old.json", dir.display()));
    let name = dir.file_name().unwrap().to_string_lossy().to_string();
    let path = format!("{name}/spec.{ext}");
    let read = |side: &str| std::fs::read_to_string(dir.join(format!("{side}.{ext}"))).unwrap();
    let old = Version::from_files("old", [(path.clone(), read("old"))]);
    let new = Version::from_files("new", [(path.clone(), read("new"))]);
    compare(&[Pair::same(path)], &old, &new)
}

fn render(comparison: &Comparison) -> String {
    let mut findings: Vec<&Finding> = comparison.findings.iter().collect();
    findings.sort_by(|a, b| {
        (&a.location, &a.rule, &a.message).cmp(&(&b.location, &b.rule, &b.message))
    });
    let mut out: Vec<String> = findings
        .iter()
        .map(|f| {
            let at = f
                .location
                .as_ref()
                .map(|l| l.to_string())
                .unwrap_or_default();
            format!("{} {} {at}\n    {}", f.severity, f.rule, f.message)
        })
        .collect();
    out.extend(comparison.errors.iter().map(|e| format!("ERROR {e}")));
    if out.is_empty() {
        "(nothing)".to_string()
    } else {
        out.join("\n")
    }
}

fn pairs(root: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap_or_else(|e| panic!("{}: {e}", root.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn run_all(root: &Path, compare: Compare) -> Vec<(String, Comparison)> {
    pairs(root)
        .into_iter()
        .map(|dir| {
            let name = dir.file_name().unwrap().to_string_lossy().to_string();
            (name, compare_pair(&dir, compare))
        })
        .collect()
}

fn snapshot_text(results: &[(String, Comparison)]) -> String {
    results
        .iter()
        .map(|(name, c)| format!("## {name}\n{}\n", render(c)))
        .collect::<Vec<_>>()
        .join("\n")
}

fn of<'a>(results: &'a [(String, Comparison)], name: &str) -> &'a Comparison {
    &results
        .iter()
        .find(|(n, _)| n == name)
        .unwrap_or_else(|| panic!("no pair {name}"))
        .1
}

fn loud(c: &Comparison) -> Vec<&Finding> {
    c.findings
        .iter()
        .filter(|f| f.severity != Severity::Info)
        .collect()
}

fn has(c: &Comparison, rule: &str, text: &str) -> bool {
    c.findings
        .iter()
        .any(|f| f.rule == rule && f.message.contains(text))
}

#[test]
fn openapi_pairs() {
    let Some(root) = corpus::dir("pairs/openapi") else {
        return;
    };
    let results = run_all(&root, openapi::compare);
    insta::assert_snapshot!("compat_corpus_openapi", snapshot_text(&results));
    for (name, c) in &results {
        assert!(c.errors.is_empty(), "{name}: {:?}", c.errors);
    }
    let virtualsize = of(&results, "moby-remove-virtualsize");
    assert!(
        has(
            virtualsize,
            "compat/property-removed",
            "property `VirtualSize` removed: clients that are not updated yet"
        ),
        "{}",
        render(virtualsize)
    );
    assert!(loud(of(&results, "supabase-auth-audit-description-only")).is_empty());
    assert!(
        of(&results, "supabase-auth-audit-description-only")
            .findings
            .is_empty()
    );
    assert!(
        loud(of(&results, "argo-rollouts-analysis-template-ref")).is_empty(),
        "a renamed definition with the same structure"
    );
    let cluster = of(&results, "alertmanager-cluster-status-optional");
    assert!(has(
        cluster,
        "compat/property-made-optional",
        "`cluster.name` no longer required"
    ));
    assert!(has(
        cluster,
        "compat/property-made-optional",
        "`cluster.peers` no longer required"
    ));
    let grant = of(&results, "supabase-auth-grant-type-enum");
    assert!(has(grant, "compat/enum-value-removed", "`oauth_pkce`"));
    assert!(has(grant, "compat/request-widened", "`pkce`"));
    let flow = of(&results, "supabase-auth-remove-flow-type");
    assert!(has(
        flow,
        "compat/openapi-parameter-removed",
        "query parameter `flow_type` removed"
    ));
    let grants = of(&results, "supabase-auth-oauth-grants");
    assert!(has(
        grants,
        "compat/type-changed",
        "type changed from object to array"
    ));
    assert!(has(
        grants,
        "compat/property-removed",
        "`client.client_id` removed"
    ));
    let attest = of(&results, "moby-image-attestations");
    assert!(loud(attest).is_empty());
    assert!(has(
        attest,
        "compat/openapi-endpoint-added",
        "GET /images/{name}/attestations added"
    ));
    for additive in [
        "alertmanager-silence-filters",
        "alertmanager-receiver-matchers",
        "argo-rollouts-consecutive-success",
    ] {
        assert!(
            loud(of(&results, additive)).is_empty(),
            "{additive}: {}",
            render(of(&results, additive))
        );
    }
    assert!(has(
        of(&results, "alertmanager-silence-filters"),
        "compat/openapi-parameter-added",
        "`expired`"
    ));
    let split = of(&results, "alertmanager-silence-split");
    assert!(!loud(split).is_empty());
}

#[test]
fn jsonschema_pairs() {
    let Some(root) = corpus::dir("pairs/jsonschema") else {
        return;
    };
    let results = run_all(&root, jsonschema::compare);
    insta::assert_snapshot!("compat_corpus_jsonschema", snapshot_text(&results));
    for (name, c) in &results {
        assert!(c.errors.is_empty(), "{name}: {:?}", c.errors);
    }
    let renamed = of(&results, "cloudevents-schemaurl-to-dataschema");
    assert!(has(renamed, "compat/property-undeclared", "`schemaurl`"));
    assert!(has(renamed, "compat/property-added", "`dataschema`"));
    let nullable = of(&results, "cloudevents-nullable-attributes");
    assert!(has(nullable, "compat/type-changed", "made nullable"));
    assert!(has(
        nullable,
        "compat/constraint-tightened",
        "minLength 1 added"
    ));
    let ecosystems = of(&results, "schemastore-dependabot-ecosystems");
    assert!(has(ecosystems, "compat/enum-value-added", "`bazel`"));
    assert!(
        !has(ecosystems, "compat/enum-value-removed", ""),
        "gitsubmodule only moved"
    );
    let editorconfig = of(&results, "schemastore-prettierrc-remove-editorconfig");
    assert!(has(
        editorconfig,
        "compat/property-undeclared",
        "`editorconfig`"
    ));
    assert!(
        !editorconfig
            .findings
            .iter()
            .any(|f| f.severity == Severity::Fail)
    );
    assert!(
        loud(of(
            &results,
            "schemastore-prettierrc-trailing-comma-default"
        ))
        .is_empty()
    );
    let parallel = of(&results, "schemastore-github-action-remove-parallel");
    assert!(has(
        parallel,
        "compat/property-removed",
        "`steps[].parallel` removed: updated consumers cannot read"
    ));
}

/// oasdiff's test specs: each compares equal to itself (zero findings) or is refused with a
/// schema error naming a position; none panics.
#[test]
fn oasdiff_specs_compare_equal_to_themselves() {
    let Some(dir) = corpus::dir("openapi-oasdiff") else {
        return;
    };
    let mut files = Vec::new();
    collect(&dir, &mut files);
    assert!(files.len() > 50, "{} specs", files.len());
    let mut refused = Vec::new();
    for file in &files {
        let relative = file
            .strip_prefix(&dir)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let load = |label: &str| {
            let base = dir.clone();
            Version::new(label, move |path| {
                match std::fs::read_to_string(base.join(path)) {
                    Ok(text) => Ok(Some(text)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(e.to_string()),
                }
            })
        };
        let (old, new) = (load("old"), load("new"));
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            openapi::compare(&[Pair::same(relative.clone())], &old, &new)
        }));
        let comparison = result.unwrap_or_else(|_| panic!("{relative}: panicked"));
        assert!(
            comparison.findings.is_empty(),
            "{relative} differs from itself:\n{}",
            render(&comparison)
        );
        for error in &comparison.errors {
            assert!(
                error.location.line.is_some() || error.message.contains("does not exist"),
                "{relative}: {error}"
            );
            refused.push(format!("{relative}: {error}"));
        }
    }
    refused.sort();
    refused.dedup();
    insta::assert_snapshot!("compat_corpus_oasdiff_refused", refused.join("\n"));
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, out);
        } else if path
            .extension()
            .is_some_and(|e| e == "yaml" || e == "yml" || e == "json")
        {
            out.push(path);
        }
    }
}
