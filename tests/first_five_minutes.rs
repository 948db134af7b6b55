//! The three users' first five minutes (issue 20), end to end through the binary: a developer's
//! table fits the terminal and shows the worst first; a CI gate never passes on nothing and
//! never loses its report silently; paths in a monorepo point at real files from the repository
//! root; chat output stays within its limits.

use crate::common;
use common::*;
use std::process::Stdio;

fn json(run: &Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}\n{}", run.stdout, run.stderr))
}

const BAD_MIGRATION: &str = "CREATE INDEX orders_status_idx ON orders (status);\n";

#[test]
fn the_table_fits_80_columns_and_a_log_100() {
    let at_80 = run(gonogo().arg("check").arg(shop()).env("COLUMNS", "80"));
    assert_eq!(at_80.code, 1, "{}", at_80.stderr);
    for line in at_80.stdout.lines() {
        assert!(line.chars().count() <= 80, "over 80 columns: {line}");
    }
    // Not a terminal and no COLUMNS: a log's default width, never rows of thousands.
    let piped = run(gonogo().arg("check").arg(shop()));
    let widest = piped
        .stdout
        .lines()
        .map(|l| l.chars().count())
        .max()
        .unwrap();
    assert!(widest <= 100, "widest line {widest}");
    // Worst first: the error and failures before the warnings, the skip last.
    let at = |needle: &str| {
        piped
            .stdout
            .find(needle)
            .unwrap_or_else(|| panic!("{needle}: {}", piped.stdout))
    };
    assert!(at("│ ERROR") < at("│ FAIL"));
    assert!(at("│ FAIL") < at("│ WARN"));
    assert!(at("│ PASS") < at("│ SKIP"));
}

#[test]
fn quiet_and_concise_show_what_blocks() {
    let quiet = run(gonogo().arg("check").arg(shop()).arg("-q"));
    assert_eq!(quiet.code, 1);
    assert!(!quiet.stdout.contains("warn db/"), "{}", quiet.stdout);
    assert!(
        quiet
            .stdout
            .contains("fail db/migrations/0004_orders_created_at_index.sql:5:1")
    );
    assert!(
        quiet
            .stdout
            .trim_end()
            .lines()
            .last()
            .unwrap()
            .starts_with("NO-GO")
    );

    let concise = run(gonogo()
        .arg("check")
        .arg(shop())
        .args(["--format", "concise"]));
    assert_eq!(concise.code, 1);
    assert!(
        concise.stdout.lines().any(|l| l
            == "db/migrations/0006_orders_amount_bigint.sql:6:1: fail migrations/pg-add-index-not-concurrent CREATE INDEX without CONCURRENTLY takes SHARE on orders: every INSERT, UPDATE and DELETE on orders waits until the whole index is built"),
        "{}",
        concise.stdout
    );
    let first_warn = concise.stdout.find(": warn ").unwrap();
    let last_fail = concise.stdout.rfind(": fail ").unwrap();
    assert!(last_fail < first_warn, "failures first: {}", concise.stdout);
}

#[test]
fn a_run_that_checks_nothing_is_exit_2() {
    // An empty repository.
    let empty = project(&[("README.md", "nothing\n")]);
    git(empty.path(), &["init", "-q"]);
    let run_empty = run(gonogo().arg("check").arg(empty.path()));
    assert_eq!(run_empty.code, 2, "{}", run_empty.stdout);
    assert!(
        run_empty.stdout.contains("NOTHING CHECKED"),
        "{}",
        run_empty.stdout
    );
    assert!(
        run_empty.stderr.contains("nothing was checked"),
        "{}",
        run_empty.stderr
    );
    assert!(
        run_empty.stderr.contains("gonogo init"),
        "{}",
        run_empty.stderr
    );

    // --only X --skip X.
    let dir = project(&[("db/migrations/1.sql", BAD_MIGRATION)]);
    let none = run(gonogo().arg("check").arg(dir.path()).args([
        "--only",
        "migrations",
        "--skip",
        "migrations",
    ]));
    assert_eq!(none.code, 2);
    assert!(
        none.stderr.contains("leaves no check to run"),
        "{}",
        none.stderr
    );

    // An empty manifest stream on stdin.
    let stdin_dir = project(&[(
        "gonogo.yaml",
        "checks:\n  kubernetes:\n    manifests: [\"-\"]\n",
    )]);
    let mut child = gonogo()
        .arg("check")
        .arg(stdin_dir.path())
        .args(["--format", "json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdin.take());
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["verdict"], "nothing-checked");
}

#[test]
fn a_lost_report_is_exit_2_with_the_reason() {
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = gonogo()
        .arg("check")
        .arg(shop())
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("could not be written (stdout: no space left"),
        "{stderr}"
    );
    assert!(stderr.contains("the verdict was NO-GO"), "{stderr}");

    // A reader that went away before the report was written.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let output = gonogo()
        .arg("check")
        .arg(shop())
        .stdout(writer)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("closed the pipe"), "{stderr}");
}

#[test]
fn list_explain_and_init_end_quietly_when_the_reader_stops_reading() {
    // `gonogo list | head`: the reader went away; nothing was lost that the user asked for.
    for args in [
        vec!["list".to_string()],
        vec!["explain".into(), "rollout/capacity-drops".into()],
        vec![
            "init".into(),
            "--stdout".into(),
            shop().display().to_string(),
        ],
    ] {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = gonogo().args(&args).stdout(writer).output().unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(!stderr.contains("panic"), "{args:?}: {stderr}");
    }
    // Any other failure to write is an error that says so, exit 2.
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .unwrap();
    let output = gonogo().arg("list").stdout(full).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("could not write to standard output: no space left"),
        "{stderr}"
    );
}

#[test]
fn monorepo_paths_are_from_the_repository_root() {
    let repo = project(&[
        (
            "services/shop/gonogo.yaml",
            "checks:\n  migrations:\n    paths: [\"db/*.sql\"]\n",
        ),
        ("services/shop/db/0001_idx.sql", BAD_MIGRATION),
    ]);
    git(repo.path(), &["init", "-q"]);
    let project_dir = repo.path().join("services/shop");
    let in_format = |format: &str| {
        let out = run(gonogo().arg("check").arg(&project_dir).args([
            "--format",
            format,
            "--only",
            "migrations",
        ]));
        assert_eq!(out.code, 1, "{format}: {}", out.stderr);
        out
    };
    let sarif = json(&in_format("sarif"));
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(
        result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "services/shop/db/0001_idx.sql"
    );
    let fingerprint = result["partialFingerprints"]["gonogoFindingHash/v1"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        in_format("github")
            .stdout
            .contains("file=services/shop/db/0001_idx.sql,line=1")
    );
    let gitlab = json(&in_format("gitlab"));
    let issue = &gitlab[0];
    assert_eq!(issue["location"]["path"], "services/shop/db/0001_idx.sql");
    assert_eq!(issue["location"]["lines"]["begin"], 1);
    assert_eq!(issue["severity"], "critical");
    assert_eq!(
        issue["check_name"],
        "migrations/pg-add-index-not-concurrent"
    );
    assert!(
        issue["description"]
            .as_str()
            .unwrap()
            .contains("CREATE INDEX")
    );
    // The table stays project-relative, as the developer typed it.
    assert!(
        in_format("table")
            .stdout
            .contains("fail db/0001_idx.sql:1:1")
    );

    // Lines shift above the finding: the fingerprint stays.
    write(
        &project_dir,
        "db/0001_idx.sql",
        &format!("-- a comment\n\n{BAD_MIGRATION}"),
    );
    let shifted = json(&in_format("sarif"));
    let result = &shifted["runs"][0]["results"][0];
    assert_eq!(
        result["locations"][0]["physicalLocation"]["region"]["startLine"],
        3
    );
    assert_eq!(
        result["partialFingerprints"]["gonogoFindingHash/v1"],
        fingerprint.as_str()
    );
}

#[test]
fn sarif_links_rules_to_the_configured_docs() {
    let dir = project(&[
        (
            "gonogo.yaml",
            "docs_url: https://wiki.example.com/gonogo/{rule}\nchecks:\n  migrations:\n    paths: [\"db/*.sql\"]\n",
        ),
        ("db/0001_idx.sql", BAD_MIGRATION),
    ]);
    let sarif = json(&run(gonogo().arg("check").arg(dir.path()).args([
        "--format",
        "sarif",
        "--only",
        "migrations",
    ])));
    let rules = sarif["runs"][0]["tool"]["driver"]["rules"]
        .as_array()
        .unwrap();
    let rule = rules
        .iter()
        .find(|r| r["id"] == "migrations/pg-add-index-not-concurrent")
        .unwrap();
    assert_eq!(
        rule["helpUri"],
        "https://wiki.example.com/gonogo/migrations/pg-add-index-not-concurrent"
    );
    assert_ne!(
        rule["fullDescription"]["text"],
        rule["shortDescription"]["text"]
    );
}

#[test]
fn chat_formats_stay_within_their_limits() {
    let markdown = run(gonogo().arg("check").arg(shop()).args([
        "--format",
        "markdown",
        "--markdown-max-chars",
        "500",
    ]));
    assert_eq!(markdown.code, 1);
    assert!(
        markdown.stdout.chars().count() <= 500,
        "{} chars",
        markdown.stdout.chars().count()
    );
    assert!(markdown.stdout.starts_with("### ❌ gonogo: NO-GO"));

    let slack = run(gonogo()
        .arg("check")
        .arg(shop())
        .args(["--format", "slack"]));
    assert_eq!(slack.code, 1);
    let message = json(&slack);
    assert!(
        message["text"]
            .as_str()
            .unwrap()
            .starts_with("gonogo: NO-GO")
    );
    let blocks = message["blocks"].as_array().unwrap();
    assert!(blocks.len() <= 50);
    assert_eq!(blocks[0]["type"], "header");
    for block in blocks {
        if let Some(text) = block["text"]["text"].as_str() {
            assert!(text.chars().count() <= 3000);
        }
    }
    assert!(
        slack
            .stdout
            .contains("migrations/pg-concurrently-in-transaction")
    );
}
