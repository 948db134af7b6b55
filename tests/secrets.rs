//! "No secret in any output", end to end through the binary. A plugin (a small sh script) prints
//! the secret in its summary and in a finding's message, location, evidence and fix, so the
//! secret reaches every field of the report and every format; each secret is built from marker
//! pieces around the characters that broke masking before (`Qa1&Qb2"…`), and no piece may be
//! left in the output, so a partly masked secret fails too.

use crate::common;
use common::*;

const FORMATS: [&str; 6] = ["table", "json", "markdown", "github", "junit", "sarif"];

/// A project with one plugin, `leak`, that prints `result` (a JSON CheckResult) and exits 0.
/// `config_extra` is added to the plugin's entry in gonogo.yaml (e.g. `token: env:X`, which
/// registers the variable's value as a secret).
fn leaking_plugin(result: &serde_json::Value, config_extra: &str) -> tempfile::TempDir {
    let script = format!(
        "#!/bin/sh\ncat <<'RESULT'\n{}\nRESULT\n",
        serde_json::to_string(result).unwrap()
    );
    project(&[
        ("checks/leak.sh", &script),
        (
            "gonogo.yaml",
            &format!(
                "checks:\n  plugins:\n    - {{name: leak, run: [\"checks/leak.sh\"]{config_extra}}}\n"
            ),
        ),
    ])
}

/// A failing CheckResult with `text` in the summary and in every field of a finding.
fn result_with(text: &str) -> serde_json::Value {
    serde_json::json!({
        "status": "fail",
        "summary": format!("summary says {text} here"),
        "findings": [{
            "rule": "leaky",
            "severity": "fail",
            "message": format!("message says {text} here"),
            "location": {"path": format!("config/{text}.env"), "line": 3, "column": 1},
            "evidence": format!("first line\nevidence says {text} here"),
            "fix": format!("fix says {text} here"),
        }]
    })
}

/// Run `gonogo check` in every format with `env`; no piece of any secret in stdout or stderr,
/// the mask where the secret was, the verdict unchanged, and JSON and SARIF still valid JSON.
fn assert_masked_in_every_format(
    dir: &std::path::Path,
    env: &[(&str, &str)],
    pieces: &[&str],
) -> Vec<String> {
    let mut outputs = Vec::new();
    for format in FORMATS {
        let mut command = gonogo();
        command
            .arg("check")
            .arg(dir)
            .args(["--only", "plugin/leak", "--format", format]);
        for (name, value) in env {
            command.env(name, value);
        }
        let run = run(&mut command);
        assert_eq!(
            run.code, 1,
            "{format}: the plugin's fail is a no-go\n{}\n{}",
            run.stdout, run.stderr
        );
        for piece in pieces {
            assert!(
                !run.stdout.contains(piece) && !run.stderr.contains(piece),
                "{format} leaks `{piece}`:\n{}\n{}",
                run.stdout,
                run.stderr
            );
        }
        assert!(
            run.stdout.contains("***"),
            "{format}: the secret is masked, not dropped:\n{}",
            run.stdout
        );
        if matches!(format, "json" | "sarif") {
            serde_json::from_str::<serde_json::Value>(&run.stdout)
                .unwrap_or_else(|e| panic!("{format} is still JSON ({e}):\n{}", run.stdout));
        }
        if format == "junit" {
            assert!(
                run.stdout.contains("<testsuites")
                    && run.stdout.trim_end().ends_with("</testsuites>"),
                "{}",
                run.stdout
            );
        }
        outputs.push(run.stdout);
    }
    outputs
}

#[test]
fn env_values_with_characters_every_format_escapes_are_masked() {
    // JSON escapes `"` and `\`, XML `&`, `<`, `>` and `"`, markdown `\`, `<` and `>`, GitHub
    // workflow commands `%`: each turned the secret into text the old masking did not know.
    let secret = r#"Qa1&Qb2"Qc3<Qd4>Qe5\Qf6%Qg7"#;
    let dir = leaking_plugin(&result_with(secret), ", token: env:GONOGO_TEST_SECRET");
    assert_masked_in_every_format(
        dir.path(),
        &[("GONOGO_TEST_SECRET", secret)],
        &["Qa1", "Qb2", "Qc3", "Qd4", "Qe5", "Qf6", "Qg7"],
    );
}

#[test]
fn an_env_value_with_a_trailing_newline_is_masked_without_it() {
    // `export TOKEN="$(cat token.txt)"` drops the newline, `TOKEN=$(<file)` in some tools and
    // CI secret stores keep it; the plugin prints the token without it.
    let dir = leaking_plugin(
        &result_with("Tn1-trailing-secret"),
        ", token: env:GONOGO_TEST_SECRET",
    );
    assert_masked_in_every_format(
        dir.path(),
        &[("GONOGO_TEST_SECRET", "Tn1-trailing-secret\n")],
        &["Tn1", "trailing-secret"],
    );
}

#[test]
fn a_secret_split_by_narrow_table_wrapping_is_masked() {
    // A long secret in a summary: at 40 columns the table wraps the cell mid-secret, so the
    // secret never appears whole in the rendered text.
    let secret = "Wr1abcdefghijklmnopqrstuvwxyzWr2abcdefghijklmnopqrstuvwxyzWr3";
    let url =
        "postgres://app:Wu1abcdefghijklmnopqrstuvwxyzWu2abcdefghijklmnopqrstuvwxyzWu3@db/shop";
    let result = serde_json::json!({
        "status": "fail",
        "summary": format!("token {secret} and {url} were rejected by the server"),
        "findings": [],
    });
    let dir = leaking_plugin(&result, ", token: env:GONOGO_TEST_SECRET");
    let outputs = assert_masked_in_every_format(
        dir.path(),
        &[("GONOGO_TEST_SECRET", secret), ("COLUMNS", "40")],
        &["Wr1", "Wr2", "Wr3", "Wu1", "Wu2", "Wu3", "klmnop"],
    );
    let table = &outputs[0];
    let rows: Vec<&str> = table.lines().filter(|line| line.starts_with('│')).collect();
    assert!(
        rows.len() > 3 && rows.iter().all(|line| line.chars().count() <= 40),
        "the summary cell was wrapped to 40 columns:\n{table}"
    );
}

#[test]
fn url_passwords_with_brackets_and_quotes_are_masked() {
    let dir = leaking_plugin(
        &result_with("(postgres://app:Ur1)Ur2'Ur3@db:5432/shop)"),
        "",
    );
    let outputs = assert_masked_in_every_format(dir.path(), &[], &["Ur1", "Ur2", "Ur3"]);
    assert!(
        outputs[1].contains("postgres://app:***@db:5432/shop"),
        "the rest of the URL stays readable:\n{}",
        outputs[1]
    );
}

#[test]
fn key_value_passwords_with_commas_and_semicolons_are_masked() {
    for text in [
        "host=db password=Pk1,Pk2;Pk3 user=app",
        "PGPASSWORD=Pk1;Pk2,Pk3 psql",
        "pwd=Pk1,Pk2;Pk3",
        "host=db password='Pk1 Pk2;Pk3,x' user=app",
        r#"Server=db;Password="Pk1;Pk2""Pk3";Database=shop"#,
        r#"{"password": "Pk1,Pk2;Pk3"}"#,
    ] {
        let dir = leaking_plugin(&result_with(text), "");
        assert_masked_in_every_format(dir.path(), &[], &["Pk1", "Pk2", "Pk3"]);
    }
}

#[test]
fn authorization_headers_of_every_scheme_are_masked() {
    for text in [
        "Authorization: Ah1-raw-token-Ah2",
        "Authorization: ApiKey Ah1,Ah2",
        r#"Authorization: Digest username="app", nonce="Ah1", response="Ah2""#,
        "curl -H 'Authorization: Token Ah1;Ah2' https://flags.example.com/",
        "Authorization: Bearer Ah1.Ah2",
    ] {
        let dir = leaking_plugin(&result_with(text), "");
        assert_masked_in_every_format(dir.path(), &[], &["Ah1", "Ah2"]);
    }
}

#[test]
fn config_errors_do_not_echo_a_literal_password() {
    for (config, pieces) in [
        // An unknown key on the password's line: the caret snippet shows that line.
        (
            "checks:\n  migrations:\n    database:\n      scratch_urll: \"postgres://app:Ce1)Ce2@db/shop\"\n",
            &["Ce1", "Ce2"][..],
        ),
        // A wrong type for a key/value connection string with a quoted password.
        (
            "checks:\n  migrations:\n    database:\n      stats_url: [\"host=db password='Ce1 Ce2'\"]\n",
            &["Ce1", "Ce2"][..],
        ),
        // A plugin entry broken on the line that holds its header.
        (
            "checks:\n  plugins:\n    - {name: x, run: [\"x.sh\"], timeout: 5, auth: \"Authorization: ApiKey Ce1\"}\n",
            &["Ce1"][..],
        ),
    ] {
        let dir = project(&[("gonogo.yaml", config)]);
        for format in FORMATS {
            let run = run(gonogo()
                .arg("check")
                .arg(dir.path())
                .args(["--format", format]));
            assert_eq!(run.code, 2, "{format}: {}", run.stderr);
            assert!(
                run.stderr.contains("gonogo.yaml:4:") || run.stderr.contains("gonogo.yaml:3:"),
                "names file:line:column: {}",
                run.stderr
            );
            assert!(run.stderr.contains("***"), "{}", run.stderr);
            assert!(run.stderr.contains('^'), "keeps the caret: {}", run.stderr);
            for piece in pieces {
                assert!(
                    !run.stderr.contains(piece) && !run.stdout.contains(piece),
                    "{format} leaks `{piece}`: {}",
                    run.stderr
                );
            }
        }
    }
}

#[test]
fn the_config_error_caret_points_at_the_same_place_after_masking() {
    let dir = project(&[(
        "gonogo.yaml",
        "checks:\n  migrations:\n    database: {scratch_url: \"postgres://app:Cc1-long-password@db/x\", stats_ulr: y}\n",
    )]);
    let run = run(gonogo().arg("check").arg(dir.path()));
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!run.stderr.contains("Cc1"), "{}", run.stderr);
    let lines: Vec<&str> = run.stderr.lines().collect();
    let source = lines
        .iter()
        .position(|l| l.starts_with("3 | "))
        .unwrap_or_else(|| panic!("the snippet: {}", run.stderr));
    let caret = lines[source + 1]
        .find('^')
        .unwrap_or_else(|| panic!("a caret line: {}", run.stderr));
    assert_eq!(
        &lines[source][caret..caret + "stats_ulr".len()],
        "stats_ulr",
        "{}",
        run.stderr
    );
}

#[test]
fn explain_and_list_mask_a_plugins_env_argument() {
    let dir = project(&[
        ("checks/flags.sh", "#!/bin/sh\necho OK\n"),
        (
            "gonogo.yaml",
            "checks:\n  plugins:\n    - {name: flags, run: [\"checks/flags.sh\", \"--token\", \"env:GONOGO_TEST_SECRET\", \"--dsn\", \"postgres://app:Ex3@db/x\"]}\n",
        ),
    ]);
    let secret = r#"Ex1&"<Ex2"#;
    let explain = run(gonogo()
        .args(["explain", "plugin/flags", "--dir"])
        .arg(dir.path())
        .env("GONOGO_TEST_SECRET", secret));
    assert_eq!(explain.code, 0, "{}", explain.stderr);
    assert!(
        explain
            .stdout
            .contains("checks/flags.sh --token *** --dsn postgres://app:***@db/x"),
        "{}",
        explain.stdout
    );
    for format in ["table", "json"] {
        let list = run(gonogo()
            .args(["list", "--format", format])
            .arg(dir.path())
            .env("GONOGO_TEST_SECRET", secret));
        assert_eq!(list.code, 0, "{}", list.stderr);
        for piece in ["Ex1", "Ex2", "Ex3"] {
            assert!(!list.stdout.contains(piece), "{format}: {}", list.stdout);
            assert!(!explain.stdout.contains(piece), "{}", explain.stdout);
        }
    }
}

#[test]
fn reports_without_secrets_are_unchanged_by_masking() {
    // Prose that resembles a credential keyword stays as written.
    let text = "the token: missing; GET /oauth/authorizations/{authorization_id}; http://127.0.0.1:8080/users/@me";
    let dir = leaking_plugin(&result_with(text), "");
    let run = run(gonogo().arg("check").arg(dir.path()).args([
        "--only",
        "plugin/leak",
        "--format",
        "json",
    ]));
    let report: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(
        report["checks"][0]["findings"][0]["message"],
        format!("message says {text} here")
    );
}
