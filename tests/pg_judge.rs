//! PostgreSQL as the judge of every lock claim (issue 19).
//!
//! Every PostgreSQL migration fixture (tests/fixtures/migrations/) and every case in
//! tests/pg_judge/cases/ runs on a real cluster of each installed PostgreSQL major, on a fresh
//! copy of one fixture database (tests/pg_judge/schema.sql: tables with rows, indexes, a
//! partitioned table with a DEFAULT partition, a domain, an enum, materialized views, a
//! tablespace). Each statement runs the way the fixture's migration runner would run it (one
//! transaction for the file, one per statement, or as written), and is measured while its
//! transaction is still open (see `measure`). gonogo's static claim for the same statement (its
//! PostgreSQL facts: locks held, long work, "fails in a transaction", "cannot succeed") is then
//! compared with what PostgreSQL did. A disagreement fails the test unless it is listed in
//! [`EXPECTED_DISAGREEMENTS`] with its reason; a listed one that no longer happens fails it too,
//! so the list is always what is left to fix.
//!
//! The agreement table (rules × PostgreSQL majors) is printed (`cargo test --test suite
//! pg_judge:: -- --nocapture`) and copied into README.md.

mod claims;
mod measure;

use crate::common::pg::{Cluster, installed_majors};
use claims::{Claim, claims};
use gonogo::config::TransactionMode;
use gonogo::sql::postgres::lock_name;
use gonogo::sql::postgres::{Origin, parse};
use measure::{Judge, Measured, Relations, Session};
use pg_query::{LockMode, NodeEnum};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The majors the issue asks the judge to cover; those not installed are reported as not run.
const WANTED_MAJORS: [u32; 6] = [12, 13, 14, 15, 16, 17];

/// Disagreements between gonogo and PostgreSQL that are known and not fixed yet, per statement
/// (`<file under tests/>:<line>`): each `<kind> <table>` PostgreSQL showed there, and why. Kinds:
/// `lock-missed`/`lock-overclaimed` (the strongest lock held on a table), `reads`/`writes` (a
/// second session's probe), `rewrite-missed`/`rewrite-overclaimed` (new heap files),
/// `work-missed`/`work-overclaimed` (scans, index builds, row changes under a strong lock),
/// `refused`/`not-refused` (PostgreSQL's error vs "fails in a transaction", "cannot succeed").
const EXPECTED_DISAGREEMENTS: &[(&str, &[&str], &str)] = &[];

/// `"<statement> <kind> <table>"` of every expected disagreement, with its reason.
fn expected_keys() -> Vec<(String, &'static str)> {
    EXPECTED_DISAGREEMENTS
        .iter()
        .flat_map(|(statement, kinds, reason)| {
            kinds
                .iter()
                .map(move |kind| (format!("{statement} {kind}"), *reason))
        })
        .collect()
}

/// Extra objects some fixtures need that others must not find (two fixtures create the same
/// index name): run and committed before the fixture, and read by gonogo as an earlier
/// migration.
const FIXTURE_SETUP: &[(&str, &str)] = &[
    (
        "pg-add-column-generated-stored/fail-many-columns",
        "CREATE TABLE metrics (id bigint PRIMARY KEY, v bigint NOT NULL);\n\
         INSERT INTO metrics SELECT g, g FROM generate_series(1, 5000) g;\n",
    ),
    (
        "pg-reindex-not-concurrent/",
        "CREATE INDEX orders_customer_id_idx ON orders (customer_id);\n\
     CREATE UNIQUE INDEX users_email_key ON users (email);\n",
    ),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

/// One migration the judge runs.
struct Migration {
    /// Relative to tests/.
    name: String,
    text: String,
    transaction: TransactionMode,
    setup: String,
}

/// The PostgreSQL migration fixtures and the judge's own cases.
fn migrations() -> Vec<Migration> {
    let mut files = Vec::new();
    let fixtures = root().join("fixtures/migrations");
    for folder in crate::common::fixtures::entries(&fixtures) {
        let folder_name = crate::common::fixtures::name_of(&folder);
        if folder_name.starts_with("mysql-") {
            continue;
        }
        for file in crate::common::fixtures::entries(&folder) {
            let name = crate::common::fixtures::name_of(&file);
            let stem = name.trim_end_matches(".sql");
            if !name.ends_with(".sql")
                || stem == "schema"
                || stem.split('-').any(|word| word == "mysql")
            {
                continue;
            }
            files.push(file);
        }
    }
    files.extend(crate::common::fixtures::entries(
        &root().join("pg_judge/cases"),
    ));
    files
        .into_iter()
        .map(|path| {
            let name = path
                .strip_prefix(root())
                .unwrap()
                .to_string_lossy()
                .to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let (transaction, mut setup) = header(&text);
            for (prefix, sql) in FIXTURE_SETUP {
                if name.contains(prefix) {
                    setup.push_str(sql);
                }
            }
            Migration {
                name,
                text,
                transaction,
                setup,
            }
        })
        .collect()
}

/// `-- fixture: transaction=…` (the fixtures' header; other settings are the check's, not the
/// server's) and `-- setup: SQL` lines (a case's earlier migration).
fn header(text: &str) -> (TransactionMode, String) {
    let mut transaction = TransactionMode::PerFile;
    let mut setup = String::new();
    for line in text.lines().take_while(|l| l.starts_with("--")) {
        if let Some(settings) = line.strip_prefix("-- fixture:") {
            for pair in settings.split(',') {
                if let Some(("transaction", value)) = pair.trim().split_once('=') {
                    transaction = match value {
                        "per-file" => TransactionMode::PerFile,
                        "per-statement" => TransactionMode::PerStatement,
                        "none" => TransactionMode::None,
                        other => panic!("unknown transaction mode {other}"),
                    };
                }
            }
        } else if let Some(sql) = line.strip_prefix("-- setup:") {
            setup.push_str(sql.trim());
            setup.push('\n');
        }
    }
    (transaction, setup)
}

/// One way gonogo's claim and PostgreSQL's behaviour differ.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Disagreement {
    line: u32,
    kind: &'static str,
    table: String,
    detail: String,
}

fn lock_text(lock: LockMode) -> &'static str {
    if lock == LockMode::NoLock {
        "no strong lock"
    } else {
        lock_name(lock)
    }
}

/// Compare one statement's claim with what PostgreSQL did. `batch_error`: the SQLSTATE with
/// which PostgreSQL refused the whole file sent as one query, if it did (for the "several
/// statements in one implicit transaction" claim).
fn compare(
    claim: &Claim,
    measured: &Measured,
    batch_error: Option<&str>,
    relations: &Relations,
) -> Vec<Disagreement> {
    let mut out = Vec::new();
    let mut say = |kind: &'static str, table: &str, detail: String| {
        out.push(Disagreement {
            line: claim.line,
            kind,
            table: table.to_string(),
            detail,
        })
    };
    let error = measured.error.as_ref();
    if claim.not_sure {
        return out;
    }
    if claim.unparsable {
        if error.is_none_or(|(code, _)| code != "42601") {
            say(
                "parsed-by-postgres",
                "",
                format!("gonogo cannot parse it; PostgreSQL said {error:?}"),
            );
        }
        return out;
    }
    if let Some(block) = claim.fails_in_transaction {
        let refused = if block.starts_with("the file has several statements") {
            batch_error == Some(claim.refusal_code)
        } else {
            error.is_some_and(|(code, _)| code == claim.refusal_code)
        };
        if !refused {
            say(
                "not-refused",
                "",
                format!("gonogo says PostgreSQL refuses it ({block}); it ran: {error:?}"),
            );
        }
        return out;
    }
    if let Some(why) = &claim.cannot_succeed {
        if error.is_none() {
            say(
                "not-refused",
                "",
                format!("gonogo says it cannot succeed ({why}); it ran"),
            );
        }
        return out;
    }
    if let Some((code, message)) = error {
        say(
            "refused",
            "",
            format!("PostgreSQL refused it ({code} {message}); gonogo claims it runs"),
        );
        return out;
    }
    if measured.observed {
        let tables: BTreeSet<&String> = claim
            .locks_after
            .keys()
            .chain(measured.locks_after.keys())
            .collect();
        for table in tables {
            let claimed = claim
                .locks_after
                .get(table)
                .copied()
                .unwrap_or(LockMode::NoLock);
            let held = measured
                .locks_after
                .get(table)
                .copied()
                .unwrap_or(LockMode::NoLock);
            let detail = format!(
                "PostgreSQL holds {} on {table}; gonogo claims {}",
                lock_text(held),
                lock_text(claimed)
            );
            if held > claimed {
                say("lock-missed", table, detail);
            } else if claimed > held {
                say("lock-overclaimed", table, detail);
            }
        }
        let probed: BTreeSet<&String> = claim
            .locks_after
            .keys()
            .chain(claim.index_locks.keys())
            .chain(measured.locks_after.keys())
            .collect();
        for table in probed {
            let claimed = claim
                .locks_after
                .get(table)
                .copied()
                .unwrap_or(LockMode::NoLock);
            let claims_reads = claimed == LockMode::AccessExclusiveLock
                || claim.index_locks.get(table) == Some(&LockMode::AccessExclusiveLock);
            if claims_reads != measured.reads_blocked.contains(table) {
                say(
                    "reads",
                    table,
                    format!(
                        "a second session {} read {table}; gonogo claims {}",
                        if claims_reads { "could" } else { "could not" },
                        lock_text(claimed)
                    ),
                );
            }
            // A materialized view takes no writes at all.
            let is_view = relations.tables.get(table.as_str()) == Some(&'m');
            let claims_writes = claimed >= LockMode::ShareLock;
            if !is_view && claims_writes != measured.writes_blocked.contains(table) {
                say(
                    "writes",
                    table,
                    format!(
                        "a second session {} write {table}; gonogo claims {}",
                        if claims_writes { "could" } else { "could not" },
                        lock_text(claimed)
                    ),
                );
            }
        }
    }
    // Long work. A matview refresh is a new heap, like a rewrite.
    let refresh = claim.work.contains("a materialized view refresh");
    let rewrites: BTreeSet<&String> = measured.rewritten.iter().collect();
    if claim.work.contains("a table rewrite") || refresh {
        // REFRESH … CONCURRENTLY keeps the view's file and applies the differences as rows.
        let refreshed_in_place = refresh && !measured.rows_changed.is_empty();
        if rewrites.is_empty() && !refreshed_in_place {
            say(
                "rewrite-overclaimed",
                "",
                format!(
                    "gonogo claims {:?}; no table got a new file ({:?})",
                    claim.work, measured.messages
                ),
            );
        }
    } else if let Some(table) = rewrites.iter().next() {
        say(
            "rewrite-missed",
            table,
            format!(
                "PostgreSQL rewrote {:?}; gonogo claims {:?} ({:?})",
                measured.rewritten, claim.work, measured.messages
            ),
        );
    }
    let mut other_work: BTreeSet<&String> = BTreeSet::new();
    other_work.extend(&measured.indexed);
    other_work.extend(&measured.rows_changed);
    other_work.extend(&measured.scanned);
    if claim.work.contains("a backfill") {
        other_work.extend(&measured.index_scanned);
    }
    let claims_other = claim
        .work
        .iter()
        .any(|w| *w != "a table rewrite" && *w != "a materialized view refresh");
    if claim.work.is_empty() {
        let strong = |table: &String| {
            let lock = if measured.observed {
                measured.locks_after.get(table)
            } else {
                claim.locks_after.get(table)
            };
            lock.is_some_and(|l| *l >= LockMode::ShareLock)
        };
        if let Some(table) = other_work.iter().find(|t| strong(t)) {
            say(
                "work-missed",
                table,
                format!(
                    "PostgreSQL scanned {:?}, built indexes on {:?}, changed rows of {:?} under a strong lock; gonogo claims no long work",
                    measured.scanned, measured.indexed, measured.rows_changed
                ),
            );
        } else if measured.foreign_key_validated
            && measured
                .locks_after
                .values()
                .any(|l| *l >= LockMode::ShareLock)
        {
            say(
                "work-missed",
                "",
                "PostgreSQL validated a foreign key (a scan); gonogo claims no long work"
                    .to_string(),
            );
        }
    } else if claims_other
        && measured.observed
        && other_work.is_empty()
        && rewrites.is_empty()
        && !measured.foreign_key_validated
    {
        say(
            "work-overclaimed",
            "",
            format!(
                "gonogo claims {:?}; PostgreSQL scanned nothing, built no index, changed no row ({:?})",
                claim.work, measured.messages
            ),
        );
    }
    out
}

/// Results of one migration on one major.
struct Judged {
    claims: Vec<Claim>,
    disagreements: Vec<Disagreement>,
}

async fn judge_migration(
    cluster: &Cluster,
    template_relations: &Relations,
    earlier: &str,
    migration: &Migration,
    major: u32,
    index: usize,
) -> Judged {
    let db = format!("judge_{index}");
    let admin = Session::connect(&cluster.url("postgres")).await;
    admin
        .must(&format!("CREATE DATABASE {db} TEMPLATE judge_template"))
        .await;
    if !migration.setup.is_empty() {
        let setup = Session::connect(&cluster.url(&db)).await;
        setup.must(&migration.setup).await;
    }
    let earlier = format!("{earlier}\n{}", migration.setup);
    let up = gonogo::sql::up_section(&migration.text);
    let dbmate_no_transaction = migration
        .text
        .lines()
        .any(|l| l.trim_start().starts_with("-- migrate:up") && l.contains("transaction:false"));
    let transaction = if dbmate_no_transaction {
        TransactionMode::None
    } else {
        migration.transaction
    };
    // parse() also lists the statements inside DO blocks; the server runs the block as one.
    let statements: Vec<_> = parse(up)
        .into_iter()
        .filter(|s| s.origin == Origin::TopLevel)
        .collect();
    let lines: Vec<u32> = statements.iter().map(|s| s.line).collect();
    let claims = claims(
        &lines,
        &earlier,
        &migration.name,
        &migration.text,
        transaction,
        major,
    );
    let relations = if migration.setup.is_empty() {
        template_relations.clone()
    } else {
        Relations::read(&Session::connect(&cluster.url(&db)).await).await
    };
    // gonogo names the index for REINDEX INDEX; PostgreSQL's lock that matters is its table's.
    let claims: Vec<Claim> = claims
        .into_iter()
        .map(|mut claim| {
            let named = std::mem::take(&mut claim.locks_after);
            for (name, lock) in named {
                let index_of = relations
                    .indexes
                    .get(&name)
                    .cloned()
                    .or_else(|| name.strip_prefix("the indexes of ").map(str::to_string));
                let (locks, table) = match index_of {
                    Some(table) => (&mut claim.index_locks, table),
                    None => (&mut claim.locks_after, name),
                };
                let entry = locks.entry(table).or_insert(lock);
                *entry = (*entry).max(lock);
            }
            claim
        })
        .collect();

    // The whole file as one query string, as a runner with transaction: none may send it.
    let batch_error = if transaction == TransactionMode::None
        && claims.iter().any(|c| {
            c.fails_in_transaction
                .is_some_and(|b| b.starts_with("the file has several statements"))
        }) {
        let batch_db = format!("judge_{index}_batch");
        admin
            .must(&format!("CREATE DATABASE {batch_db} TEMPLATE {db}"))
            .await;
        let session = Session::connect(&cluster.url(&batch_db)).await;
        let refused = session.run(up).await.err().map(|(code, _)| code);
        drop(session);
        drop_database(&admin, &batch_db, major).await;
        refused
    } else {
        None
    };

    let judge = Judge::open(&cluster.url(&db), &relations).await;
    let mut in_transaction = false;
    if transaction == TransactionMode::PerFile {
        judge.migration.must("BEGIN").await;
        in_transaction = true;
    }
    let mut disagreements = Vec::new();
    // Lock disagreements already reported in this transaction: a lock stays held, so the same
    // difference would show again after every later statement.
    let mut reported: BTreeSet<(&'static str, String, String)> = BTreeSet::new();
    for (statement, claim) in statements.iter().zip(&claims) {
        if let Ok(NodeEnum::TransactionStmt(stmt)) = statement.node.as_deref() {
            use pg_query::protobuf::TransactionStmtKind as Kind;
            let _ = judge.migration.run(&statement.text).await;
            match stmt.kind() {
                Kind::TransStmtBegin | Kind::TransStmtStart => in_transaction = true,
                _ => {
                    in_transaction = false;
                    reported.clear();
                }
            }
            continue;
        }
        let probe: BTreeSet<String> = claim
            .locks_after
            .keys()
            .chain(claim.index_locks.keys())
            .cloned()
            .collect();
        let measured = if in_transaction {
            judge.in_transaction(&statement.text, &probe).await
        } else {
            reported.clear();
            judge.own_transaction(&statement.text, &probe).await
        };
        for disagreement in compare(claim, &measured, batch_error.as_deref(), &relations) {
            let lasting = matches!(
                disagreement.kind,
                "lock-missed" | "lock-overclaimed" | "reads" | "writes"
            );
            let key = (
                disagreement.kind,
                disagreement.table.clone(),
                disagreement.detail.clone(),
            );
            if lasting && !reported.insert(key) {
                continue;
            }
            disagreements.push(disagreement);
        }
    }
    if in_transaction {
        let _ = judge.migration.run("ROLLBACK").await;
    }
    drop(judge);
    drop_database(&admin, &db, major).await;
    Judged {
        claims,
        disagreements,
    }
}

/// Drop a judged database whose sessions may still be ending. `WITH (FORCE)` exists from
/// PostgreSQL 13; before, end them with pg_terminate_backend and retry while they exit
/// (55006 object_in_use: "is being accessed by other users").
async fn drop_database(admin: &Session, db: &str, major: u32) {
    if major >= 13 {
        admin
            .must(&format!("DROP DATABASE {db} WITH (FORCE)"))
            .await;
        return;
    }
    for _ in 0..200 {
        admin
            .must(&format!(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{db}'"
            ))
            .await;
        match admin.run(&format!("DROP DATABASE {db}")).await {
            Ok(()) => return,
            Err((code, _)) if code == "55006" => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await
            }
            Err((code, message)) => panic!("DROP DATABASE {db}: {code} {message}"),
        }
    }
    panic!("DROP DATABASE {db}: its sessions did not end");
}

/// Per rule: statements judged, statements where gonogo and PostgreSQL agree.
type Agreement = BTreeMap<String, (usize, usize)>;

fn judge_major(major: u32, migrations: &[Migration]) -> (Agreement, Vec<String>) {
    let cluster = Cluster::start_major(major);
    let tablespace = cluster.server_owned_dir("fast_ssd");
    cluster.execute(
        "postgres",
        &format!(
            "CREATE ROLE reporting; CREATE ROLE support_agent;\n\
             CREATE TABLESPACE fast_ssd LOCATION '{}';\n\
             CREATE DATABASE judge_template;\n",
            tablespace.display()
        ),
    );
    let earlier = std::fs::read_to_string(root().join("pg_judge/schema.sql")).unwrap();
    if major < 13 {
        // gen_random_uuid() is core from PostgreSQL 13; pgcrypto provides it before. The
        // fixtures use it for a volatile default, not to test its availability.
        cluster.execute("judge_template", "CREATE EXTENSION pgcrypto;");
    }
    cluster.execute("judge_template", &earlier);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let template = Session::connect(&cluster.url("judge_template")).await;
        let relations = Relations::read(&template).await;
        drop(template);
        let mut agreement = Agreement::new();
        let mut found = Vec::new();
        for (index, migration) in migrations.iter().enumerate() {
            let judged =
                judge_migration(&cluster, &relations, &earlier, migration, major, index).await;
            for claim in &judged.claims {
                let agrees = !judged.disagreements.iter().any(|d| d.line == claim.line);
                let rules: Vec<String> = if claim.rules.is_empty() {
                    vec!["(no rule raised)".to_string()]
                } else {
                    claim.rules.iter().cloned().collect()
                };
                for rule in rules {
                    let entry = agreement.entry(rule).or_default();
                    entry.0 += 1;
                    entry.1 += usize::from(agrees);
                }
            }
            for d in judged.disagreements {
                found.push(format!(
                    "{}:{} {} {}\t{}",
                    migration.name, d.line, d.kind, d.table, d.detail
                ));
            }
        }
        (agreement, found)
    })
}

#[test]
fn postgres_agrees_with_every_lock_claim() {
    // GONOGO_JUDGE_ONLY=<part of a path>: judge only those migrations (while iterating; the
    // stale-entry check then only covers them).
    let only = std::env::var("GONOGO_JUDGE_ONLY").ok();
    let migrations: Vec<Migration> = migrations()
        .into_iter()
        .filter(|m| only.as_deref().is_none_or(|part| m.name.contains(part)))
        .collect();
    let installed = installed_majors();
    let majors: Vec<u32> = WANTED_MAJORS
        .iter()
        .copied()
        .filter(|m| installed.contains(m))
        .collect();
    assert!(
        !majors.is_empty(),
        "no PostgreSQL major of {WANTED_MAJORS:?} is installed in /usr/lib/postgresql or target/test-servers/postgresql (scripts/install-deps installs them)"
    );
    // scripts/test sets it after scripts/install-deps fetched every major: none may be missing.
    let missing: Vec<u32> = WANTED_MAJORS
        .iter()
        .copied()
        .filter(|m| !majors.contains(m))
        .collect();
    assert!(
        missing.is_empty() || std::env::var_os(crate::common::servers::REQUIRE).is_none(),
        "PostgreSQL {missing:?} not installed while {} is set: run scripts/install-deps",
        crate::common::servers::REQUIRE
    );
    let mut table: BTreeMap<String, BTreeMap<u32, (usize, usize)>> = BTreeMap::new();
    let mut unexpected = Vec::new();
    let mut seen = BTreeSet::new();
    // Each major has its own cluster and runtime: judge as many at once as there are cores.
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut results = Vec::new();
    for group in majors.chunks(workers) {
        std::thread::scope(|scope| {
            let handles: Vec<_> = group
                .iter()
                .map(|&major| {
                    let migrations = &migrations;
                    scope.spawn(move || {
                        let started = std::time::Instant::now();
                        let judged = judge_major(major, migrations);
                        (major, judged, started.elapsed().as_secs_f64())
                    })
                })
                .collect();
            for handle in handles {
                results.push(handle.join().expect("a major's judge panicked"));
            }
        });
    }
    let mut durations = Vec::new();
    for (major, (agreement, found), seconds) in results {
        durations.push(format!("PG {major} {seconds:.0} s"));
        for (rule, counts) in agreement {
            table.entry(rule).or_default().insert(major, counts);
        }
        for line in found {
            let key = line.split('\t').next().unwrap().trim_end().to_string();
            let expected = expected_keys().iter().any(|(k, _)| *k == key);
            seen.insert(key);
            if !expected {
                unexpected.push(format!("PostgreSQL {major}: {line}"));
            }
        }
    }
    let not_run: Vec<String> = WANTED_MAJORS
        .iter()
        .filter(|m| !majors.contains(m))
        .map(|m| m.to_string())
        .collect();
    println!(
        "PostgreSQL judge: {} migrations on PostgreSQL {}; not run (not installed): {}",
        migrations.len(),
        majors
            .iter()
            .map(|m| m.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        if not_run.is_empty() {
            "none".to_string()
        } else {
            not_run.join(", ")
        }
    );
    // For the README's CI-time figure; never asserted (it depends on the machine).
    println!("time per major: {}", durations.join(", "));
    let mut header = "| rule |".to_string();
    let mut rule_line = "|---|".to_string();
    for major in WANTED_MAJORS {
        header.push_str(&format!(" PG {major} |"));
        rule_line.push_str("---|");
    }
    println!("{header}\n{rule_line}");
    for (rule, per_major) in &table {
        let mut row = format!("| {rule} |");
        for major in WANTED_MAJORS {
            match per_major.get(&major) {
                Some((judged, agreed)) => row.push_str(&format!(" {agreed}/{judged} |")),
                None => row.push_str(" not run |"),
            }
        }
        println!("{row}");
    }
    for (statement, kinds, reason) in EXPECTED_DISAGREEMENTS {
        println!(
            "known disagreement: {statement} ({}): {reason}",
            kinds.join(", ")
        );
    }
    let stale: Vec<String> = expected_keys()
        .into_iter()
        .map(|(k, _)| k)
        .filter(|k| {
            migrations
                .iter()
                .any(|m| k.starts_with(&format!("{}:", m.name)))
        })
        .filter(|k| !seen.contains(k))
        .collect();
    assert!(
        unexpected.is_empty() && stale.is_empty(),
        "PostgreSQL contradicts gonogo:\n{}\n\nlisted in EXPECTED_DISAGREEMENTS but no longer seen (remove them):\n{}",
        unexpected.join("\n"),
        stale.join("\n")
    );
}
