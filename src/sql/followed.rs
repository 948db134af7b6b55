//! A migration set's files followed once: parsed and walked statement by statement over the
//! dialect's schema model, into the facts every reader of the set shares — the `migrations`
//! rules (operations, locks, transactions; MySQL's online-DDL judgement), the database side of
//! `compat` (each statement's schema changes) and of `rollback` (drops, deletes, narrowed types).
//! [`crate::context::Context::migration_facts`] computes them on first use and caches them per set,
//! so no check follows a file a second time.
//!
//! The facts depend on the files and on the set's settings ([`FollowSettings`]: the runner's
//! transactions, the server version, whether a base ref chose this deploy's files). The readers
//! that are not `migrations` read only facts those settings do not change — `compat` reads the
//! schema changes and the unread count (`follow/changes.rs` reads neither the transaction nor the
//! version, and the schema model they are read over is changed the same way under every
//! setting); `rollback` reads which tables and columns are dropped (from the schema model), whole-
//! table DELETEs (which depend on the transaction: the set's, as before) and a column's types
//! before and after (the version only changes whether the heap is rewritten, which it does not
//! read) — so one follow with the set's settings serves all three.

use crate::config::{DEFAULT_POSTGRES_VERSION, Dialect, MigrationsConfig, TransactionMode};
use crate::sql::files::MigrationFile;
use crate::sql::mysql::facts::{Event, Walker, with_parser_stack};
use crate::sql::postgres::operations::FileFacts;
use crate::sql::postgres::{FollowOptions, follow};

/// What a set's facts depend on besides its files: its configured settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FollowSettings {
    /// How the migration runner wraps files in transactions.
    pub transaction: TransactionMode,
    /// The PostgreSQL server version locks and rewrites are judged for.
    pub postgres_version: u32,
    /// A base ref selected this deploy's files: a table an earlier file of the deploy created
    /// is new (otherwise only one created in the same file is).
    pub deploy_is_known: bool,
}

impl FollowSettings {
    /// The settings of a configured set (`None`: discovered without a config, the defaults).
    pub fn of(section: Option<&MigrationsConfig>, deploy_is_known: bool) -> FollowSettings {
        FollowSettings {
            transaction: section.map(|s| s.transaction).unwrap_or_default(),
            postgres_version: section
                .and_then(|s| s.postgres_version)
                .unwrap_or(DEFAULT_POSTGRES_VERSION),
            deploy_is_known,
        }
    }
}

/// Every file's facts, in the order the runner applies the files (the set's order).
pub enum SetFacts {
    /// One [`FileFacts`] per file.
    Postgres(Vec<FileFacts>),
    /// Per file, its pieces' facts in order (statements, skipped DELIMITER blocks, where the
    /// tokenizer gave up).
    Mysql(Vec<Vec<Event>>),
}

impl SetFacts {
    /// How many files were followed.
    pub fn files(&self) -> usize {
        match self {
            SetFacts::Postgres(files) => files.len(),
            SetFacts::Mysql(files) => files.len(),
        }
    }
}

impl std::fmt::Debug for SetFacts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let dialect = match self {
            SetFacts::Postgres(_) => "Postgres",
            SetFacts::Mysql(_) => "Mysql",
        };
        write!(f, "SetFacts::{dialect}({} files)", self.files())
    }
}

/// Follow `files` in order: the only place migration files become facts.
///
/// Only each file's up section is followed (`crate::sql::up_section`): a dbmate or goose down
/// section runs on rollback, never during the deploy.
pub fn follow_files(
    files: &[MigrationFile],
    dialect: Dialect,
    settings: FollowSettings,
) -> SetFacts {
    match dialect {
        Dialect::Postgres => SetFacts::Postgres(follow(
            files,
            FollowOptions {
                transaction: settings.transaction,
                postgres_version: settings.postgres_version,
                deploy_is_known: settings.deploy_is_known,
            },
        )),
        // On a thread with a stack for sqlparser's recursion (see `with_parser_stack`): a
        // parenthesised table reference 25 levels deep overflowed a tokio worker's 2 MiB stack,
        // which aborts the whole process.
        Dialect::Mysql => SetFacts::Mysql(with_parser_stack(|| {
            let mut walker = Walker::for_deploy(settings.deploy_is_known);
            files
                .iter()
                .map(|file| {
                    let mut events = Vec::new();
                    walker.deploy_file(
                        crate::sql::up_section(&file.text),
                        file.in_deploy,
                        &mut |event| events.push(event),
                    );
                    events
                })
                .collect()
        })),
    }
}
