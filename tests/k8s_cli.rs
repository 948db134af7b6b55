//! The rollout check end to end, through the binary: manifests from stdin (`-`), a directory
//! tree, discovery without config, invalid YAML (an `error` naming file:line), a path that
//! matches nothing, and a 50 MB multi-document stream (bounded memory, no crash).

use crate::common;
use common::*;
use std::io::Write;

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr))
}

fn rollout(report: &serde_json::Value) -> serde_json::Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "rollout")
        .expect("rollout check")
        .clone()
}

fn rules(check: &serde_json::Value) -> Vec<String> {
    check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["rule"].as_str().unwrap().to_string())
        .collect()
}

/// Run `gonogo check DIR --only rollout --format json` with `input` on stdin.
fn check_with_stdin(dir: &std::path::Path, input: Vec<u8>) -> Run {
    let mut child = crate::common::spawn_rollout_reading_stdin(dir);
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        // gonogo may stop reading early (an error): a broken pipe is fine.
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).unwrap(),
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn deployment(name: &str, replicas: u32) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: app
          image: registry.example.com/{name}:1.0.0
"
    )
}

fn pdb(name: &str) -> String {
    format!(
        "apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {name}
spec:
  maxUnavailable: 1
  selector:
    matchLabels: {{app: {name}}}
"
    )
}

const STDIN_CONFIG: &str = "checks:\n  kubernetes:\n    manifests: [\"-\"]\n";

#[test]
fn manifests_from_stdin_like_helm_template() {
    let dir = project(&[("gonogo.yaml", STDIN_CONFIG)]);
    let input = format!(
        "---\n# Source: shop/templates/deployment.yaml\n{}---\n# Source: shop/templates/pdb.yaml\n{}",
        deployment("shop-api", 8),
        pdb("shop-api")
    );
    let run = check_with_stdin(dir.path(), input.into_bytes());
    assert_eq!(run.code, 1, "capacity drops: no-go\n{}", run.stdout);
    let check = rollout(&json(&run));
    assert_eq!(check["status"], "fail");
    assert_eq!(
        check["summary"],
        "1 workload in 1 file; at risk: Deployment/shop-api (capacity drops to 6 of 8)"
    );
    assert_eq!(rules(&check), ["rollout/capacity-drops"]);
    let finding = &check["findings"][0];
    assert_eq!(finding["location"]["path"], "<stdin>");
    assert_eq!(
        finding["location"]["line"], 8,
        "the replicas line of the stream"
    );
    assert!(
        finding["message"]
            .as_str()
            .unwrap()
            .contains("25% (the default) of 8 replicas rounds down to 2"),
        "{finding}"
    );
}

#[test]
fn a_directory_tree_is_read_recursively_with_paths_relative_to_the_root() {
    let dir = project(&[
        (
            "gonogo.yaml",
            "checks:\n  kubernetes:\n    manifests: [\"deploy\", \"k8s-typo/*.yaml\"]\n",
        ),
        ("deploy/api/deployment.yaml", &deployment("api", 3)),
        ("deploy/api/pdb.yml", &pdb("api")),
        (
            "deploy/worker/all.yaml",
            &format!(
                "{}---\n{}",
                deployment("worker", 1),
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
            ),
        ),
        ("deploy/README.md", "not a manifest\n"),
    ]);
    let report = json(&run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--only", "rollout", "--format", "json"])));
    let check = rollout(&report);
    assert_eq!(check["status"], "warn", "{check}");
    let summary = check["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("2 workloads in 3 files; warnings: "),
        "{summary}"
    );
    assert!(
        summary.contains("Deployment/worker (1 replica)"),
        "{summary}"
    );
    let findings = check["findings"].as_array().unwrap();
    let single = findings
        .iter()
        .find(|f| f["rule"] == "rollout/single-replica")
        .expect("single replica");
    assert_eq!(single["location"]["path"], "deploy/worker/all.yaml");
    assert_eq!(single["location"]["line"], 6);
    let unmatched = findings
        .iter()
        .find(|f| f["rule"] == "rollout/unmatched-path")
        .expect("the typo is reported");
    assert_eq!(unmatched["location"]["path"], "gonogo.yaml");
}

/// The loader's findings concern all four Kubernetes checks: with `rollout` skipped, the first
/// Kubernetes check that runs reports a mistyped manifests path, once.
#[test]
fn a_mistyped_manifests_path_is_reported_once_whatever_checks_run() {
    let dir = project(&[
        (
            "gonogo.yaml",
            "checks:\n  kubernetes:\n    manifests: [\"deploy\", \"k8s-typo/*.yaml\"]\n",
        ),
        ("deploy/api/deployment.yaml", &deployment("api", 3)),
    ]);
    for (selection, reporter) in [
        (vec![], "rollout"),
        (vec!["--skip", "rollout"], "readiness"),
        (vec!["--skip", "rollout,readiness"], "grace"),
        (vec!["--only", "rollback"], "rollback"),
    ] {
        let report = json(&run(gonogo()
            .arg("check")
            .arg(dir.path())
            .args(&selection)
            .args(["--format", "json"])));
        let reported: Vec<(String, serde_json::Value)> = report["checks"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|check| {
                check["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|f| f["rule"] == "rollout/unmatched-path")
                    .map(|f| (check["id"].as_str().unwrap().to_string(), f.clone()))
                    .collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(reported.len(), 1, "{selection:?}: {reported:?}");
        let (check, finding) = &reported[0];
        assert_eq!(check, reporter, "{selection:?}");
        assert_eq!(
            finding["message"],
            "`k8s-typo/*.yaml` matches no file under the project root"
        );
        assert_eq!(finding["location"]["path"], "gonogo.yaml");
        assert_eq!(
            finding["fix"],
            "fix the pattern in checks.kubernetes.manifests"
        );
    }
}

#[test]
fn discovery_without_config_says_where_it_looked() {
    let dir = project(&[
        (
            "k8s/api.yaml",
            &format!("{}---\n{}", deployment("api", 3), pdb("api")),
        ),
        (
            "k8s/chart/templates/svc.yaml",
            "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n",
        ),
    ]);
    let check = rollout(&json(&run(gonogo()
        .arg("check")
        .arg(dir.path())
        .args(["--only", "rollout", "--format", "json"]))));
    assert_eq!(check["status"], "pass", "{check}");
    let summary = check["summary"].as_str().unwrap();
    assert!(
        summary.starts_with(
            "1 workload in 1 file (no config: found under k8s/): capacity never drops"
        ),
        "{summary}"
    );
    assert!(
        summary.contains("left out: k8s/chart/templates/svc.yaml: a Helm template"),
        "{summary}"
    );

    let empty = project(&[("README.md", "hi\n")]);
    let check = rollout(&json(&run(gonogo()
        .arg("check")
        .arg(empty.path())
        .args(["--only", "rollout", "--format", "json"]))));
    assert_eq!(check["status"], "skip");
    assert!(
        check["summary"]
            .as_str()
            .unwrap()
            .starts_with("no Kubernetes manifests found (looked for YAML with apiVersion and kind under deploy/, k8s/, manifests/, kubernetes/"),
        "{check}"
    );
}

#[test]
fn one_invalid_file_is_an_error_naming_file_and_line_and_the_others_are_judged() {
    let dir = project(&[
        (
            "gonogo.yaml",
            "checks:\n  kubernetes:\n    manifests: [\"deploy/\"]\n",
        ),
        ("deploy/a.yaml", &deployment("api", 8)),
        (
            "deploy/b.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: worker\nspec:\n  replicas: 2\n  {{- if .Values.strategy }}\n  strategy: {{ .Values.strategy }}\n",
        ),
    ]);
    let run = run(gonogo().arg("check").arg(dir.path()).args([
        "--only",
        "rollout,readiness",
        "--format",
        "json",
    ]));
    assert_eq!(run.code, 1, "not knowing is not a go");
    let report = json(&run);
    let check = rollout(&report);
    assert_eq!(check["status"], "error");
    let summary = check["summary"].as_str().unwrap();
    assert!(
        summary.starts_with("could not read deploy/b.yaml:7:"),
        "{summary}"
    );
    assert!(summary.contains("not valid YAML"), "{summary}");
    assert!(summary.contains("unrendered Helm template"), "{summary}");
    assert!(
        summary.contains("judged the rest: 1 workload in 2 files"),
        "{summary}"
    );
    // The bad file is a finding at its line (for annotations and SARIF), reported once ...
    let findings = check["findings"].as_array().unwrap();
    let bad = findings
        .iter()
        .find(|f| f["rule"] == "rollout/unreadable-manifest")
        .expect("the bad file is a finding");
    assert_eq!(bad["location"]["path"], "deploy/b.yaml");
    assert_eq!(bad["location"]["line"], 7);
    // ... and the valid file is still judged: 25% of 8 replicas may be down.
    assert!(
        rules(&check).contains(&"rollout/capacity-drops".to_string()),
        "{check}"
    );
    let readiness = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == "readiness")
        .unwrap();
    assert_eq!(readiness["status"], "error", "{readiness}");
    assert!(
        !rules(readiness).contains(&"rollout/unreadable-manifest".to_string()),
        "reported once, by rollout"
    );

    // The same through stdin names <stdin> and the line in the stream, and judges the
    // documents around the bad one.
    let dir = project(&[("gonogo.yaml", STDIN_CONFIG)]);
    let input = format!(
        "{}---\nkind: Service\nmetadata: [unclosed\n---\n{}",
        deployment("api", 3),
        deployment("web", 8)
    );
    let run = check_with_stdin(dir.path(), input.into_bytes());
    let check = rollout(&json(&run));
    assert_eq!(check["status"], "error", "{check}");
    assert!(
        check["summary"]
            .as_str()
            .unwrap()
            .starts_with("could not read <stdin>:18:11: not valid YAML: unclosed bracket"),
        "{check}"
    );
    let judged = check["findings"].as_array().unwrap().iter().any(|f| {
        f["rule"] == "rollout/capacity-drops"
            && f["message"].as_str().unwrap().contains("Deployment/web")
    });
    assert!(judged, "the document after the bad one is judged: {check}");
}

#[test]
fn the_ignore_annotation_waives_through_the_binary() {
    let manifest = deployment("cron-ui", 1).replace(
        "  name: cron-ui\n",
        "  name: cron-ui\n  annotations:\n    gonogo.dev/ignore: rollout/single-replica\n",
    );
    let dir = project(&[("gonogo.yaml", STDIN_CONFIG)]);
    let run = check_with_stdin(dir.path(), manifest.into_bytes());
    assert_eq!(run.code, 0, "{}", run.stdout);
    let check = rollout(&json(&run));
    assert_eq!(check["status"], "pass");
    assert_eq!(
        check["findings"][0]["waived"]["reason"],
        "gonogo.dev/ignore annotation on Deployment/cron-ui"
    );
    assert_eq!(check["findings"][0]["waived"]["source"], "inline");
}

#[test]
fn a_workload_whose_findings_are_waived_in_config_is_not_named_at_risk() {
    // One waiver layer for annotations, inline comments and gonogo.yaml: the summary names the
    // workloads at risk after all three were applied.
    let config = format!(
        "{STDIN_CONFIG}waivers:\n  - {{rule: rollout/single-replica, reason: \"a cron UI, one pod is enough\"}}\n"
    );
    let dir = project(&[("gonogo.yaml", &config)]);
    let input = format!("{}---\n{}", deployment("cron-ui", 1), deployment("api", 1));
    let annotated = input.replacen(
        "  name: api\n",
        "  name: api\n  annotations:\n    gonogo.dev/ignore: rollout/*\n",
        1,
    );
    let run = check_with_stdin(dir.path(), annotated.into_bytes());
    let check = rollout(&json(&run));
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert_eq!(check["status"], "pass", "{check}");
    let summary = check["summary"].as_str().unwrap();
    assert!(summary.ends_with(": capacity never drops"), "{summary}");
    let reasons: Vec<&str> = check["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["waived"]["reason"].as_str().unwrap())
        .collect();
    assert_eq!(
        reasons,
        [
            "a cron UI, one pod is enough",
            "gonogo.dev/ignore annotation on Deployment/api"
        ],
        "{check}"
    );

    // Without the waivers both are at risk, named in the summary.
    let dir = project(&[("gonogo.yaml", STDIN_CONFIG)]);
    let run = check_with_stdin(dir.path(), input.into_bytes());
    let summary = rollout(&json(&run))["summary"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(summary.contains("Deployment/cron-ui ("), "{summary}");
    assert!(summary.contains("Deployment/api ("), "{summary}");
}

#[test]
fn explain_prints_a_rollout_rule() {
    let run = run(gonogo().args(["explain", "rollout/capacity-drops"]));
    assert_eq!(run.code, 0);
    assert!(run.stdout.contains("## Why it matters during a deploy"));
    assert!(
        run.stdout.contains("25% of 8 is 2 pods down"),
        "{}",
        run.stdout
    );
}

/// Peak resident memory of the largest finished child process, in KiB (Linux: ru_maxrss).
fn children_peak_rss_kib() -> i64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a rusage struct into the pointer it is given.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) };
    assert_eq!(rc, 0);
    // SAFETY: initialised by the successful call above.
    unsafe { usage.assume_init() }.ru_maxrss
}

#[test]
fn a_50_mb_multi_document_stream_is_read_in_bounded_memory() {
    // 50 MB: 110,000 Deployments and as many PDBs, the worst case for memory (the smallest
    // documents, so the most objects per megabyte), piped in like `helm template` output.
    const SIZE: usize = 50 * 1024 * 1024;
    let mut input = String::with_capacity(SIZE + 4096);
    let mut count = 0;
    while input.len() < SIZE {
        let name = format!("service-{count:06}");
        input.push_str("---\n");
        input.push_str(&deployment(&name, 3));
        input.push_str("---\n");
        input.push_str(&pdb(&name));
        count += 1;
    }
    let dir = project(&[("gonogo.yaml", STDIN_CONFIG)]);
    let size_mib = (input.len() / (1024 * 1024)) as i64;
    let run = check_with_stdin(dir.path(), input.into_bytes());
    assert_eq!(
        run.code,
        0,
        "{}\n{}",
        &run.stdout[..run.stdout.len().min(2000)],
        run.stderr
    );
    let check = rollout(&json(&run));
    assert_eq!(check["status"], "pass");
    assert_eq!(
        check["summary"],
        format!("{count} workloads in 1 file: capacity never drops")
    );
    let peak_mib = children_peak_rss_kib() / 1024;
    // The stream is parsed a document at a time and only the typed objects stay (about
    // 1.4 KB per object here, 220,000 objects): ~320 MiB measured. Holding the text, a tree
    // of the whole stream or one model per check (as before) took over 750 MiB.
    assert!(
        peak_mib < 8 * size_mib,
        "peak RSS {peak_mib} MiB for a {size_mib} MiB stream"
    );
}
