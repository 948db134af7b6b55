//! Issue 14, "Limits": inputs past every sane size or range end in a clear finding or error,
//! quickly and in bounded memory, never a panic, an overflow or an abort.

use crate::common;
use common::*;
use gonogo::checks::migrations::{MigrationFile, Settings, analyze_files};
use gonogo::config::Dialect;
use gonogo::k8s::load::{MAX_DOCUMENT_BYTES, parse_reader};
use gonogo::k8s::{Manifests, parse_stream};
use std::io::{BufReader, Write};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// Manifest streams

/// An endless stream with no newline (`yes | tr -d '\n'`) used to grow one line until the
/// process was killed at 2.1 GB. Reading an endless reader must now end, with the cap named.
#[test]
fn an_endless_line_on_a_manifest_stream_ends_at_the_document_cap() {
    let mut manifests = Manifests::default();
    let endless = BufReader::new(std::io::repeat(b'a'));
    let err = parse_reader(&mut manifests, "<stdin>", endless).expect_err("refused");
    assert_eq!(
        err.to_string(),
        "<stdin>:1:1: the YAML document starting here is larger than 8 MiB; gonogo reads one document (one Kubernetes object) up to that size"
    );
}

/// The cap is per document, not per line: many short lines in one document count together,
/// and the error points at the line where that document starts.
#[test]
fn a_document_of_many_short_lines_is_capped_where_it_starts() {
    let mut stream =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: small}\n---\n");
    stream.push_str("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n");
    let mut i = 0;
    while stream.len() <= MAX_DOCUMENT_BYTES + 1024 {
        stream.push_str(&format!("  key{i}: value\n"));
        i += 1;
    }
    let mut manifests = Manifests::default();
    let err = parse_stream(&mut manifests, "deploy/big.yaml", &stream).expect_err("refused");
    assert!(
        err.to_string().starts_with(
            "deploy/big.yaml:4:1: the YAML document starting here is larger than 8 MiB"
        ),
        "{err}"
    );
    // Documents under the cap in a stream over it are fine: the cap is not on the stream.
    let mut under = String::new();
    for n in 0..3 {
        under.push_str(&format!("---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: c{n}}}\ndata:\n  blob: \"{}\"\n", "x".repeat(MAX_DOCUMENT_BYTES / 2)));
    }
    let mut manifests = Manifests::default();
    parse_stream(&mut manifests, "deploy/ok.yaml", &under).expect("three 4 MiB documents");
}

/// End to end: `gonogo check` reading an endless newline-free stdin stops reading, reports the
/// kubernetes checks as error with the cap, and exits 1 well within its deadline.
#[test]
fn gonogo_check_on_an_endless_stdin_reports_the_cap() {
    let dir = project(&[(
        "gonogo.yaml",
        "checks:\n  kubernetes:\n    manifests: [\"-\"]\n",
    )]);
    let mut child = crate::common::spawn_rollout_reading_stdin(dir.path());
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let chunk = [b'a'; 64 * 1024];
        let mut written = 0usize;
        // Stops at the broken pipe when gonogo stops reading; the bound only keeps a broken
        // gonogo from making this test write forever (1 GiB).
        while written < 1 << 30 {
            if stdin.write_all(&chunk).is_err() {
                return written;
            }
            written += chunk.len();
        }
        written
    });
    let output = child.wait_with_output().unwrap();
    let written = writer.join().unwrap();
    assert!(written < 1 << 30, "gonogo kept reading: {written} bytes");
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let rollout = &report["checks"][0];
    assert_eq!(rollout["status"], "error", "{rollout}");
    assert!(
        rollout.to_string().contains("larger than 8 MiB"),
        "{rollout}"
    );
}

// ---------------------------------------------------------------------------------------------
// Manifest numbers

fn deployment_with(pod_spec_extra: &str, probe_extra: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 3
  selector:
    matchLabels: {{app: api}}
  template:
    metadata:
      labels: {{app: api}}
    spec:
{pod_spec_extra}      containers:
        - name: app
          image: registry.example.com/api:1.0.0
          readinessProbe:
            httpGet: {{path: /ready, port: 8080}}
{probe_extra}"
    )
}

/// Huge and negative numbers in manifests are findings at their line (the field is invalid),
/// never an overflow in the grace or readiness arithmetic.
#[test]
fn out_of_range_manifest_numbers_are_invalid_fields_at_their_line() {
    for (extra, probe, line, field, found) in [
        (
            "      terminationGracePeriodSeconds: 9223372036854775807\n",
            "",
            13,
            "spec.template.spec.terminationGracePeriodSeconds",
            "the number 9223372036854775807",
        ),
        (
            "      terminationGracePeriodSeconds: -30\n",
            "",
            13,
            "spec.template.spec.terminationGracePeriodSeconds",
            "the number -30",
        ),
        (
            "",
            "            periodSeconds: 9223372036854775807\n            failureThreshold: 9223372036854775807\n",
            18,
            "periodSeconds",
            "the number 9223372036854775807",
        ),
    ] {
        let dir = project(&[
            ("deploy/api.yaml", &deployment_with(extra, probe)),
            (
                "gonogo.yaml",
                "checks:\n  kubernetes:\n    manifests: [deploy]\n",
            ),
        ]);
        for check in ["grace", "readiness", "rollout", "rollback"] {
            let (run, result) = check_only(dir.path(), check, &["--offline"]);
            assert!(!run.stderr.contains("panic"), "{check}: {}", run.stderr);
            let text = result.to_string();
            if check == "grace" && field.contains("termination")
                || check == "readiness" && field == "periodSeconds"
            {
                let invalid = result["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|f| f["message"].as_str().unwrap_or("").contains(field))
                    .unwrap_or_else(|| panic!("{check}: an invalid-field finding in {text}"));
                assert_eq!(invalid["location"]["path"], "deploy/api.yaml", "{invalid}");
                assert_eq!(invalid["location"]["line"], line, "{invalid}");
                let message = invalid["message"].as_str().unwrap();
                assert!(message.contains(found), "{message}");
                assert!(
                    message.contains("expected a whole number from 0 to 2147483647"),
                    "{message}"
                );
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// MySQL nesting

fn mysql(text: &str) -> Vec<gonogo::report::Finding> {
    let file = MigrationFile {
        path: "db/migrations/0001_deep.sql".to_string(),
        text: text.to_string(),
        in_deploy: true,
        transaction: None,
    };
    let settings = Settings {
        dialect: Dialect::Mysql,
        ..Settings::default()
    };
    analyze_files(&[file], &settings, true)
}

/// 100k nested parentheses (200 KB) took 16 s and grew superlinearly; 18 nested table
/// references overflowed the stack and aborted the process. Both are now unparsed statements,
/// at once, and the statements around them are still analysed.
#[test]
fn deeply_nested_mysql_statements_are_unparsed_quickly() {
    let deep = 100_000;
    let text = format!(
        "SET SESSION lock_wait_timeout = 5;\nSELECT {}1{};\nSELECT * FROM {}t{};\nALTER TABLE orders ADD COLUMN note TEXT, ALGORITHM=COPY;\n",
        "(".repeat(deep),
        ")".repeat(deep),
        "(".repeat(40),
        ")".repeat(40),
    );
    let started = Instant::now();
    let findings = mysql(&text);
    // Generous: this takes well under a second; the bound only catches a return of the
    // superlinear parse, never a slow machine.
    assert!(started.elapsed() < Duration::from_secs(60));
    let unparsed: Vec<_> = findings
        .iter()
        .filter(|f| f.rule == "migrations/unparsed-statement")
        .collect();
    assert_eq!(unparsed.len(), 2, "{findings:#?}");
    assert!(
        unparsed[0].message.contains(
            "parentheses nest 100000 levels deep; gonogo parses statements nested up to 32 levels"
        ),
        "{}",
        unparsed[0].message
    );
    assert_eq!(unparsed[0].location.as_ref().unwrap().line, Some(2));
    assert!(unparsed[1].message.contains("nest 40 levels deep"));
    assert_eq!(unparsed[1].location.as_ref().unwrap().line, Some(3));
    // The ALTER after them is still read.
    assert!(
        findings
            .iter()
            .any(|f| f.rule.starts_with("migrations/mysql-")),
        "{findings:#?}"
    );
}

/// Up to the limit, every nesting depth parses (or is rejected by sqlparser with its reason)
/// without overflowing the stack: the parse runs on a thread sized for it.
#[test]
fn mysql_nesting_up_to_the_limit_does_not_overflow() {
    for depth in [1, 17, 18, 24, 32 /* MAX_NESTING */] {
        let text = format!(
            "SELECT * FROM {}t{};\nCREATE TABLE t{depth} (c INT DEFAULT ({}1{}));\n",
            "(".repeat(depth),
            ")".repeat(depth),
            // The column list and DEFAULT's own parentheses are two levels already.
            "(".repeat(depth.saturating_sub(2)),
            ")".repeat(depth.saturating_sub(2)),
        );
        let findings = mysql(&text);
        assert!(
            findings.iter().all(|f| !f.message.contains("levels deep")),
            "depth {depth}: {findings:#?}"
        );
    }
}

/// The config side of issue 14 point 9 end to end: the grace drill no longer sees 1e20.
#[test]
fn a_huge_termination_grace_in_the_config_is_a_config_error_not_a_crash() {
    let dir = project(&[(
        "gonogo.yaml",
        "checks:\n  grace:\n    command: [\"sleep\", \"1\"]\n    url: http://127.0.0.1:9/slow\n    termination_grace_seconds: 1e20\n",
    )]);
    let run = run(gonogo().arg("check").arg(dir.path()));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr
            .starts_with("error: gonogo.yaml:5:32: 100000000000000000000 is out of range"),
        "{}",
        run.stderr
    );
}
