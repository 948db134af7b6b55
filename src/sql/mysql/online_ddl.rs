//! How MySQL 8.0 (InnoDB) runs each ALTER TABLE operation, as data: the tables of the MySQL 8.0
//! Reference Manual, section 15.12.1 "Online DDL Operations" (index, primary key, column,
//! generated column, foreign key, table and tablespace operations), reduced to what decides a
//! deploy: INSTANT (metadata only), INPLACE without a rebuild, INPLACE with a table rebuild
//! ("Rebuilds Table: Yes"), or COPY only ("Permits Concurrent DML: No").
//!
//! The reasons are written into findings as they are, so they say why in the user's terms. What
//! depends on the schema (a column's current type, a FULLTEXT index on the table, the session's
//! `foreign_key_checks`) is decided by the cost model (`cost.rs`) with these entries.

/// How an operation runs, before the statement as a whole is considered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Online {
    /// `ALGORITHM=INSTANT` supported. When the statement as a whole runs INPLACE (another
    /// operation in it cannot be INSTANT), it rebuilds the table if `rebuild_if_inplace`.
    Instant { rebuild_if_inplace: bool },
    /// INPLACE, no rebuild, concurrent DML permitted.
    Inplace,
    /// INPLACE and "Only Modifies Metadata: Yes": no rebuild, no index build, concurrent DML
    /// permitted; it is never a COPY, so ALGORITHM/LOCK change nothing.
    InplaceMetadata,
    /// INPLACE, "Rebuilds Table: Yes".
    Rebuild(&'static str),
    /// "In Place: No": ALGORITHM=COPY only, concurrent DML not permitted.
    Copy(&'static str),
}

// --- Column operations ------------------------------------------------------------------------

/// Adding a column: INSTANT since 8.0.12 (any position since 8.0.29); a stored generated column
/// and an AUTO_INCREMENT column are not.
pub const ADD_COLUMN: Online = Online::Instant {
    rebuild_if_inplace: true,
};
/// A VIRTUAL generated column is a metadata change even INPLACE.
pub const ADD_VIRTUAL_COLUMN: Online = Online::Instant {
    rebuild_if_inplace: false,
};
pub const ADD_STORED_GENERATED_COLUMN: &str =
    "a STORED generated column is computed and written for every row";
pub const ADD_AUTO_INCREMENT_COLUMN: &str =
    "an AUTO_INCREMENT column gives every existing row a value";
/// Dropping a column: INSTANT since 8.0.29, else INPLACE with a rebuild.
pub const DROP_COLUMN: Online = Online::Instant {
    rebuild_if_inplace: true,
};
/// Renaming a column, setting or dropping its default, renaming the table, index visibility:
/// metadata only, with either algorithm.
pub const METADATA_ONLY: Online = Online::Instant {
    rebuild_if_inplace: false,
};

// --- Index, primary key and constraint operations ---------------------------------------------

/// Adding or dropping a secondary index, renaming an index, dropping a foreign key or a CHECK,
/// setting AUTO_INCREMENT, table options that are metadata: INPLACE without a rebuild.
pub const SECONDARY_INDEX: Online = Online::Inplace;
/// The primary key is InnoDB's clustered index.
pub const PRIMARY_KEY: Online =
    Online::Rebuild("the primary key is the clustered index, so changing it rewrites every row");
pub const DROP_PRIMARY_KEY_ALONE: &str = "dropping the primary key without adding another in the same ALTER is only possible with ALGORITHM=COPY";
/// Dropping or renaming a secondary index, dropping a foreign key: "In Place: Yes, Rebuilds
/// Table: No, Permits Concurrent DML: Yes, Only Modifies Metadata: Yes" (MySQL 8.0 manual,
/// "Online DDL Operations", index and foreign key operations).
pub const INDEX_METADATA: Online = Online::InplaceMetadata;
/// FULLTEXT and SPATIAL indexes are built INPLACE, but with LOCK=SHARED (the first FULLTEXT
/// index also rebuilds the table).
pub const FULLTEXT_OR_SPATIAL_INDEX: Online = Online::Inplace;
pub const FOREIGN_KEY_WITH_CHECKS: &str =
    "with foreign_key_checks on, MySQL adds a foreign key only with ALGORITHM=COPY";
pub const ENFORCED_CHECK: &str =
    "MySQL checks a new enforced CHECK constraint against every row only with ALGORITHM=COPY";

// --- Table options and clauses sqlparser does not parse ---------------------------------------

/// A clause recognised by its first words.
pub struct ClauseEntry {
    /// Its first word, one of these (uppercase, unquoted).
    pub first: &'static [&'static str],
    /// Its second word, one of these; `None` matches anything.
    pub second: Option<&'static [&'static str]>,
    pub online: Online,
}

const fn entry(
    first: &'static [&'static str],
    second: Option<&'static [&'static str]>,
    online: Online,
) -> ClauseEntry {
    ClauseEntry {
        first,
        second,
        online,
    }
}

/// Clauses recognised by their first words. The first entry that matches wins.
pub const CLAUSES: &[ClauseEntry] = &[
    entry(
        &["ENGINE"],
        None,
        Online::Rebuild("ENGINE=… rebuilds the table, even when the engine does not change"),
    ),
    entry(
        &["FORCE"],
        None,
        Online::Rebuild("FORCE rebuilds the table"),
    ),
    entry(
        &["ROW_FORMAT", "KEY_BLOCK_SIZE"],
        None,
        Online::Rebuild("changing ROW_FORMAT or KEY_BLOCK_SIZE rebuilds the table"),
    ),
    entry(
        &["CONVERT"],
        None,
        Online::Copy(
            "CONVERT TO CHARACTER SET converts every string column, which MySQL does only with ALGORITHM=COPY",
        ),
    ),
    entry(
        &["DEFAULT"],
        Some(&["CHARACTER", "CHARSET", "COLLATE"]),
        Online::Inplace,
    ),
    entry(
        &[
            "CHARACTER",
            "CHARSET",
            "COLLATE",
            "COMMENT",
            "STATS_PERSISTENT",
            "STATS_AUTO_RECALC",
            "STATS_SAMPLE_PAGES",
        ],
        None,
        Online::Inplace,
    ),
    entry(&["RENAME"], Some(&["INDEX", "KEY"]), INDEX_METADATA),
    // Index visibility (`ALTER INDEX i INVISIBLE`): the index is kept up to date either way, only
    // the data dictionary flag changes.
    entry(&["ALTER"], Some(&["INDEX"]), INDEX_METADATA),
    entry(&["DROP"], Some(&["CHECK"]), Online::Inplace),
];

/// How a clause starting with these (uppercase, unquoted) words runs, from [`CLAUSES`].
pub fn clause(first: Option<&str>, second: Option<&str>) -> Option<Online> {
    CLAUSES.iter().find_map(|entry| {
        let first_matches = first.is_some_and(|w| entry.first.contains(&w));
        let second_matches = match entry.second {
            None => true,
            Some(seconds) => second.is_some_and(|w| seconds.contains(&w)),
        };
        (first_matches && second_matches).then_some(entry.online)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clauses_are_looked_up_by_their_first_words() {
        assert!(matches!(
            clause(Some("ENGINE"), None),
            Some(Online::Rebuild(_))
        ));
        assert!(matches!(
            clause(Some("CONVERT"), Some("TO")),
            Some(Online::Copy(_))
        ));
        assert_eq!(
            clause(Some("DEFAULT"), Some("CHARSET")),
            Some(Online::Inplace)
        );
        assert_eq!(clause(Some("DEFAULT"), None), None);
        assert_eq!(clause(Some("RENAME"), Some("TO")), None);
        assert_eq!(clause(None, None), None);
    }
}
