use super::*;

fn error_of(text: &str) -> ConfigError {
    parse(text, "gonogo.yaml").expect_err("config should be rejected")
}

#[test]
fn durations_need_units() {
    assert_eq!(parse_duration("120s"), Ok(Duration::from_secs(120)));
    assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
    assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
    assert!(parse_duration("120").unwrap_err().contains("no unit"));
    assert!(parse_duration("2 weeks").is_err());
    assert!(
        parse_duration("5d")
            .unwrap_err()
            .contains("unknown unit `d`")
    );
    assert!(parse_duration("").is_err());
}

#[test]
fn unknown_key_suggests_nearest_with_position() {
    let err = error_of("service: shop\nchecks:\n  migration:\n    paths: []\n");
    assert_eq!((err.line, err.column), (3, 3));
    assert!(err.message.contains("unknown key `migration`"), "{err}");
    assert!(err.message.contains("did you mean `migrations`?"), "{err}");
}

#[test]
fn unknown_enum_value_suggests_nearest() {
    let err = error_of("checks:\n  migrations:\n    dialect: postgress\n");
    assert_eq!(err.line, 3);
    assert!(err.message.contains("did you mean `postgres`?"), "{err}");
}

#[test]
fn missing_env_var_is_named() {
    let err = error_of(
        "checks:\n  migrations:\n    database:\n      stats_url: env:GONOGO_TEST_SURELY_UNSET_VAR\n",
    );
    assert_eq!(err.line, 4);
    assert!(
        err.message.contains("GONOGO_TEST_SURELY_UNSET_VAR"),
        "{err}"
    );
}

#[test]
fn bad_date_and_duration_are_positioned() {
    let err = error_of("waivers:\n  - {rule: a/b, reason: r, expires: 2026-13-01}\n");
    assert_eq!(err.line, 2);
    assert!(err.message.contains("month"), "{err}");
    let err = error_of("deadline: 120\n");
    assert!(err.message.contains("120s"), "{err}");
    assert_eq!(err.line, 1);
}

#[test]
fn empty_and_comment_only_files_are_errors() {
    assert!(error_of("").message.contains("empty"));
    assert!(error_of("# nothing here\n\n").message.contains("empty"));
}

#[test]
fn plugin_entries_keep_their_own_keys() {
    let config = parse(
        "checks:\n  plugins:\n    - {name: flags, run: [\"a.sh\"], timeout: 5s, owner: team-a}\n",
        "gonogo.yaml",
    )
    .unwrap();
    let plugin = &config.checks.plugins[0];
    assert_eq!(plugin.timeout, Some(Duration::from_secs(5)));
    assert_eq!(plugin.raw["owner"], "team-a");
}

#[test]
fn nearest_only_suggests_close_names() {
    assert_eq!(
        nearest("migratons", &["migrations", "compat"]),
        Some("migrations")
    );
    assert_eq!(nearest("zzzzzz", &["migrations", "compat"]), None);
}

/// Config mistakes off the happy path: each a sentence at the right line and column, with
/// no parser wording ("from_str_multiple", "budget breached", an empty key list).
#[test]
fn off_the_happy_path_errors_have_positions_and_sentences() {
    let error = |text: &str| parse(text, "gonogo.yaml").unwrap_err().to_string();
    let multi = error("checks: {}\n---\nchecks: {}\n");
    assert!(
        multi.starts_with("gonogo.yaml:3:1: a second YAML document"),
        "{multi}"
    );
    assert!(!multi.contains("from_str"), "{multi}");

    let alias = error("checks:\n  dns: &d {phase: before-cutover}\n  grace: *d\n");
    assert!(
        alias.starts_with("gonogo.yaml:3:10: unknown key `phase`"),
        "{alias}"
    );
    assert!(
        alias.contains("(the value comes from the anchor at 2:"),
        "{alias}"
    );
    assert!(!alias.contains("(used)"), "{alias}");

    let mut bomb = String::from(
        "checks:\n  plugins:\n    - name: a\n      run: [x]\n      a: &a [x, x, x, x, x, x, x, x, x]\n",
    );
    let mut previous = 'a';
    for name in 'b'..='n' {
        let refs = vec![format!("*{previous}"); 9].join(", ");
        bomb.push_str(&format!("      {name}: &{name} [{refs}]\n"));
        previous = name;
    }
    let bomb = error(&bomb);
    assert!(
        bomb.contains("aliases here expand to too many values"),
        "{bomb}"
    );
    assert!(!bomb.contains("Nodes {"), "{bomb}");

    let no_keys = error("checks:\n  rollout:\n    foo: 1\n");
    assert!(
        no_keys.starts_with("gonogo.yaml:3:5: unknown key `foo`; this mapping takes no keys"),
        "{no_keys}"
    );

    let duplicate =
        error("checks:\n  plugins:\n    - {name: a, run: [x]}\n    - {name: a, run: [y]}\n");
    assert!(
        duplicate
            .starts_with("gonogo.yaml:4:14: a second plugin is named `a` (the first is at line 3)"),
        "{duplicate}"
    );
    let reason = error("waivers:\n  - rule: migrations/x\n    reason: \"  \"\n");
    assert!(
        reason.starts_with("gonogo.yaml:3:13: the waiver for `migrations/x` has an empty reason"),
        "{reason}"
    );
    let negative = error("checks:\n  rollback:\n    target_seconds: -5\n");
    assert!(
        negative.starts_with("gonogo.yaml:3:21: -5 is out of range"),
        "{negative}"
    );
    let zero = error("checks:\n  plugins:\n    - {name: a, run: [x], timeout: 0s}\n");
    assert!(
        zero.starts_with("gonogo.yaml:3:36: a duration of 0s can never be met"),
        "{zero}"
    );
}
