//! Unit tests of the PostgreSQL statement reader (split out of mod.rs to keep it readable).

use super::*;

/// libpg_query's scanner split yields no piece for `SELEC 1;`: the statement must still be
/// there, as unparsable, wherever it stands in the file.
#[test]
fn a_statement_the_scanner_split_drops_is_still_reported() {
    for (file, line) in [
        ("SELEC 1;\n", 1),
        ("SELEC 1;\nCREATE TABLE t (id int);\n", 1),
        ("CREATE TABLE t (id int);\n-- a comment\nSELEC 1;\n", 3),
        ("SELEC 1;\nALTR TABLE x;\n", 1),
    ] {
        let statements = parse(file);
        let bad: Vec<&Statement> = statements.iter().filter(|s| s.node.is_err()).collect();
        assert!(!bad.is_empty(), "{file:?}: {statements:?}");
        assert_eq!(bad[0].line, line, "{file:?}");
        assert!(
            bad[0].text.starts_with("SELEC 1"),
            "{file:?}: {:?}",
            bad[0].text
        );
        assert!(
            bad[0].node.as_ref().unwrap_err().contains("syntax error"),
            "{file:?}"
        );
    }
    // Semicolons, blank lines and comments between statements are not statements.
    let clean = parse("CREATE TABLE t (id int);;\n\n/* c */ ;\nCREATE TABLE u (id int);\n");
    assert!(clean.iter().all(|s| s.node.is_ok()), "{clean:?}");
    assert_eq!(clean.len(), 2);
}

/// What the server's grammar rejects is `Rejected`; what only a tool around the server reads
/// (psql meta-commands, template placeholders, psql variables) is `NotSure`, and a
/// meta-command does not swallow the statement after it.
#[test]
fn unread_statements_say_whether_postgres_rejects_them() {
    let kinds = |file: &str| -> Vec<(u32, Option<Unread>)> {
        parse(file).iter().map(|s| (s.line, s.unread())).collect()
    };
    assert_eq!(
        kinds("ALTR TABLE t ADD c int;\nSELECT 1;\n"),
        [(1, Some(Unread::Rejected)), (2, None)]
    );
    assert_eq!(
        kinds("\\connect billing\nALTER TABLE t ADD c int;\n\\set ON_ERROR_STOP on\nSELECT 1;\n"),
        [
            (1, Some(Unread::NotSure)),
            (2, None),
            (3, Some(Unread::NotSure)),
            (4, None)
        ]
    );
    let meta = &parse("\\connect billing\nSELECT 1;\n")[0];
    assert_eq!(meta.text, "\\connect billing");
    assert!(
        meta.unread_reason()
            .unwrap()
            .contains("psql meta-command (\\connect)")
    );
    for template in [
        "ALTER TABLE {{ index .Options \"Namespace\" }}.t ADD c int;",
        "CREATE INDEX i ON ${schema}.t (a);",
        "ALTER TABLE :\"schema\".t ADD c int;",
    ] {
        let statements = parse(template);
        assert_eq!(statements[0].unread(), Some(Unread::NotSure), "{template}");
    }
    let reason = parse("CREATE INDEX i ON ${schema}.t (a);")[0]
        .unread_reason()
        .unwrap();
    assert!(
        reason.starts_with("the template placeholder ${schema}"),
        "{reason}"
    );
    // A cast is not a psql variable.
    assert_eq!(
        parse("SELECT x::int FROM;")[0].unread(),
        Some(Unread::Rejected)
    );
    assert_eq!(unread_count(&parse("SELEC 1;\nSELECT 1;\nALTR x;\n")), 2);
}

/// The first column's type in `CREATE TABLE t (c <sql>)`.
fn column_type(sql: &str) -> ColumnType {
    let statements = parse(&format!("CREATE TABLE t (c {sql})"));
    let Ok(NodeEnum::CreateStmt(create)) = statements[0].node.as_deref() else {
        panic!("{sql}");
    };
    let Some(NodeEnum::ColumnDef(def)) = create.table_elts[0].node.as_ref() else {
        panic!("{sql}");
    };
    ColumnType::of(def.type_name.as_ref().unwrap())
}

#[test]
fn column_types_have_catalog_names_and_show_written_ones() {
    for (sql, name, shown) in [
        ("bigint", "int8", "bigint"),
        ("integer", "int4", "integer"),
        ("character varying(64)", "varchar", "varchar(64)"),
        ("numeric(10, 2)", "numeric", "numeric(10,2)"),
        ("double precision", "float8", "double precision"),
        ("timestamp with time zone", "timestamptz", "timestamptz"),
        ("char(3)", "bpchar", "char(3)"),
        ("int8[]", "int8[]", "int8[]"),
        ("serial", "serial", "serial"),
        ("\"Status\"", "Status", "Status"),
    ] {
        let ty = column_type(sql);
        assert_eq!(
            (ty.name.as_str(), ty.to_string().as_str()),
            (name, shown),
            "{sql}"
        );
    }
}

#[test]
fn statements_keep_their_positions() {
    let file = "-- é comment\nCREATE INDEX a ON t (x);\n\n  ALTER TABLE t ADD COLUMN y int;";
    let statements = parse(file);
    assert_eq!(statements.len(), 2);
    assert_eq!((statements[0].line, statements[0].column), (2, 1));
    assert_eq!(statements[0].text, "CREATE INDEX a ON t (x)");
    assert_eq!((statements[1].line, statements[1].column), (4, 3));
}

#[test]
fn one_bad_statement_does_not_hide_the_others() {
    let file = "CREATE INDEX a ON t (x);\nALTER TABLE t MODIFY COLUMN c bigint;\nDROP TABLE u;\n";
    let statements = parse(file);
    assert_eq!(statements.len(), 3);
    assert!(statements[0].node.is_ok());
    let bad = &statements[1];
    assert_eq!(bad.line, 2);
    assert!(bad.node.as_ref().unwrap_err().contains("syntax error"));
    assert!(matches!(
        statements[2].node.as_deref(),
        Ok(NodeEnum::DropStmt(_))
    ));
}

#[test]
fn do_blocks_are_opened() {
    let file = "DO $$\nBEGIN\n  ALTER TABLE orders ADD COLUMN y int;\n  EXECUTE 'DROP TABLE legacy';\nEND\n$$;\n";
    let statements = parse(file);
    let nested: Vec<_> = statements
        .iter()
        .filter(|s| s.origin == Origin::DoBlock)
        .collect();
    assert_eq!(nested.len(), 2, "{statements:#?}");
    assert_eq!(nested[0].line, 3);
    assert!(matches!(
        nested[0].node.as_deref(),
        Ok(NodeEnum::AlterTableStmt(_))
    ));
    assert!(matches!(
        nested[1].node.as_deref(),
        Ok(NodeEnum::DropStmt(_))
    ));
}

#[test]
fn statements_after_standard_conforming_strings_off_are_read_as_the_server_reads_them() {
    // Read the standard way, the second line is one SELECT of two string literals; with
    // standard_conforming_strings off, `\'` escapes the quote and the server runs four.
    let file = "SET standard_conforming_strings = off;\nSELECT 'a\\', '; COMMIT; DROP TABLE customers; SELECT '--';\n";
    let statements = parse(file);
    let texts: Vec<&str> = statements.iter().map(|s| s.text.as_str()).collect();
    assert_eq!(
        texts,
        [
            "SET standard_conforming_strings = off",
            "SELECT 'a\\', '",
            "COMMIT",
            "DROP TABLE customers",
            "SELECT '--'"
        ],
        "{statements:#?}"
    );
    assert!(matches!(
        statements[3].node.as_deref(),
        Ok(NodeEnum::DropStmt(_))
    ));
    assert_eq!((statements[3].line, statements[3].column), (2, 25));
    assert!(!statements[1].lexing.standard_conforming_strings);
    assert!(statements[0].lexing.standard_conforming_strings);
    // Back on: read the standard way again.
    let file = "SET standard_conforming_strings TO off;\nSELECT 'a\\\\';\nRESET standard_conforming_strings;\nSELECT 'b\\';\n";
    let statements = parse(file);
    assert_eq!(statements.len(), 4, "{statements:#?}");
    assert!(statements[3].lexing.standard_conforming_strings);
    assert!(statements.iter().all(|s| s.node.is_ok()));
}

#[test]
fn settings_changed_in_a_way_gonogo_does_not_follow_make_backslashes_unparsed() {
    let file = "SELECT set_config('standard_conforming_strings', 'off', false);\nSELECT 1;\nSELECT 'a\\', '; DROP TABLE customers; SELECT '--';\nALTER TABLE t ADD c int;\n";
    let statements = parse(file);
    assert_eq!(statements.len(), 3, "{statements:#?}");
    assert!(statements[1].node.is_ok());
    let reason = statements[2].node.as_ref().unwrap_err();
    assert!(reason.contains("line 1"), "{reason}");
    assert_eq!(statements[2].line, 3);
    // Without a backslash the readings agree: nothing is lost.
    let file = "SET LOCAL standard_conforming_strings = off;\nALTER TABLE t ADD c int;\n";
    assert!(parse(file).iter().all(|s| s.node.is_ok()));
}

#[test]
fn a_syntax_error_after_standard_conforming_strings_off_stops_at_the_first_backslash() {
    let file = "SET standard_conforming_strings = off;\nALTER TABLE t ADD c int;\nALTER TABLE t MODIFY x int;\nSELECT 'a\\', '; DROP TABLE customers; SELECT '--';\n";
    let statements = parse(file);
    assert!(matches!(
        statements[1].node.as_deref(),
        Ok(NodeEnum::AlterTableStmt(_))
    ));
    assert!(statements[2].node.is_err());
    let last = statements.last().unwrap();
    assert_eq!(last.line, 4);
    assert!(last.node.as_ref().unwrap_err().contains("where it ends"));
    assert!(
        !statements
            .iter()
            .any(|s| matches!(s.node.as_deref(), Ok(NodeEnum::DropStmt(_))))
    );
}

#[test]
fn unterminated_dollar_quote_is_an_error_not_a_panic() {
    let statements = parse("SELECT 1;\nDO $$ BEGIN PERFORM 1;\n");
    assert!(statements.iter().any(|s| s.node.is_err()));
}
