//! Table-driven assertions shared by the unit tests of every `search` module: each test lists
//! (input, expected) cases, and these compare exact values, so a failure names the case.

use super::{Strength, WriteKind, find, writes};

/// One expected reference: (line, column, strength, names_table).
pub(super) type Ref = (u32, u32, Strength, bool);

/// One expected write: (line, kind, columns).
pub(super) type ExpectedWrite<'a> = (u32, WriteKind, Option<&'a [&'a str]>);

/// (line, column, strength, names_table) of every reference `find` returns, without markers.
pub(super) fn refs(path: &str, text: &str, table: &str, column: Option<&str>) -> Vec<Ref> {
    find(path, text, table, column, &[])
        .references
        .iter()
        .map(|r| (r.line, r.column, r.strength, r.names_table))
        .collect()
}

/// For each case (table, column, expected), exactly the references `find` returns in `text`.
pub(super) fn assert_refs(path: &str, text: &str, cases: &[(&str, Option<&str>, &[Ref])]) {
    for &(table, column, expected) in cases {
        assert_eq!(
            refs(path, text, table, column),
            expected,
            "references to {table}.{column:?} in {path}"
        );
    }
}

/// Exactly the writes of `table` in `text`, by line, kind and columns.
pub(super) fn assert_writes(path: &str, text: &str, table: &str, expected: &[ExpectedWrite]) {
    let found = writes(path, text, table);
    let actual: Vec<(u32, WriteKind, Option<Vec<&str>>)> = found
        .iter()
        .map(|w| {
            let columns = w.columns.as_ref();
            let columns = columns.map(|c| c.iter().map(String::as_str).collect());
            (w.line, w.kind, columns)
        })
        .collect();
    let expected: Vec<(u32, WriteKind, Option<Vec<&str>>)> = expected
        .iter()
        .map(|&(line, kind, columns)| (line, kind, columns.map(<[&str]>::to_vec)))
        .collect();
    assert_eq!(actual, expected, "writes of {table} in {path}");
}
