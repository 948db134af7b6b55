//! How the live facts refine the static findings: the lock windows estimated from table
//! statistics (held until COMMIT), what the pre-flight saw holding or waiting for locks, and what
//! the trace on the scratch database really did — raising a prediction freely, lowering one only
//! with evidence the migration cannot feed ([`lowering_distrusted`]).

use super::*;

pub(super) fn blocked_what(lock: LockMode, work: Work) -> &'static str {
    if lock == LockMode::AccessExclusiveLock {
        "blocked reads and writes"
    } else if work == Work::Update {
        "blocked writes to its rows"
    } else {
        "blocked writes"
    }
}

pub(super) fn blocks_writes(lock: LockMode, work: Work) -> bool {
    lock >= LockMode::ShareLock || work == Work::Update
}

/// How long each target's lock is held: its own work, plus the work of the statements after it in
/// the same transaction, since PostgreSQL releases locks only at COMMIT. `own[k]` is target k's
/// estimate (None without statistics); statements without an estimate cost the fixed overhead.
/// Returns (held window, how many statements run after it under the lock) per target. Pure.
pub(super) fn held_windows(
    targets: &[Target],
    own: &[Option<Duration>],
    groups: &[usize],
    overhead: Duration,
) -> Vec<(Duration, usize)> {
    let mut duration = vec![overhead; groups.len()];
    for (target, window) in targets.iter().zip(own) {
        if let (Some(slot), Some(window)) = (duration.get_mut(target.statement), window) {
            *slot = (*slot).max(*window);
        }
    }
    targets
        .iter()
        .zip(own)
        .map(|(target, window)| {
            let window = window.unwrap_or(overhead);
            let Some(group) = groups.get(target.statement) else {
                return (window, 0);
            };
            let later: Vec<usize> = (target.statement + 1..groups.len())
                .take_while(|j| groups[*j] == *group)
                .collect();
            let held = window + later.iter().map(|j| duration[*j]).sum::<Duration>();
            (held, later.len())
        })
        .collect()
}

/// Below this, the statements after a lock in its transaction are not worth a sentence.
pub(super) const HELD_LONGER_NOTE: Duration = Duration::from_millis(100);

/// Refine each target's finding with its estimated lock window.
pub(super) fn apply_estimates(
    findings: &mut Vec<Finding>,
    targets: &[Target],
    groups: &[usize],
    stats: &HashMap<String, stats::TableStats>,
    timeouts: &preflight::RoleTimeouts,
    settings: &LiveSettings,
) {
    let own: Vec<Option<Duration>> = targets
        .iter()
        .map(|t| {
            stats
                .get(&t.table)
                .map(|table| estimate::estimate(t.work, table.size(), &settings.costs))
        })
        .collect();
    let overhead = Duration::from_secs_f64(settings.costs.overhead_ms.max(0.0) / 1000.0);
    let held = held_windows(targets, &own, groups, overhead);
    let mut extra = Vec::new();
    for (k, target) in targets.iter().enumerate() {
        let Some(finding) = findings.get_mut(target.finding) else {
            continue;
        };
        let Some(table) = stats.get(&target.table) else {
            extra.push(
                ESTIMATE_UNAVAILABLE
                    .finding(format!(
                        "estimate unavailable: the stats database has no table {} (is stats_url production or a replica of it?)",
                        target.table
                    ))
                    .at(finding.location.clone().unwrap_or_else(|| Location::file("")))
                    .with_fix("point checks.migrations.database.stats_url at production or one of its replicas"),
            );
            continue;
        };
        let own_window = own[k].unwrap_or(overhead);
        let (window, later) = held[k];
        let blocks = blocks_writes(target.lock, target.work);
        let severity = estimate::judge(window, settings.max_lock_seconds, blocks);
        let mut text = format!(
            "{} {} ({}, {} {}, ~{} rows): {} of {}",
            target.work.describe(),
            target.table,
            estimate::human_bytes(table.table_bytes),
            table.indexes,
            if table.indexes == 1 {
                "index"
            } else {
                "indexes"
            },
            estimate::human_count(table.rows as u64),
            estimate::human_duration(own_window),
            blocked_what(target.lock, target.work),
        );
        if later > 0 && window.saturating_sub(own_window) >= HELD_LONGER_NOTE {
            text.push_str(&format!(
                ", and the lock is held until the transaction commits, {later} {} later: ~{} in all",
                if later == 1 { "statement" } else { "statements" },
                estimate::human_duration(window)
            ));
        }
        let writes = estimate::queued(table.writes_per_s, window);
        if blocks {
            text.push_str(&format!(
                "; about {} writes would queue at the current rate",
                estimate::human_count(writes)
            ));
            if target.lock == LockMode::AccessExclusiveLock {
                let reads = estimate::queued(table.reads_per_s, window);
                let noun = if reads == 1 { "read" } else { "reads" };
                text.push_str(&format!(" (and {} {noun})", estimate::human_count(reads)));
            }
        }
        finding.message = format!(
            "{}. Live estimate: {text}",
            finding.message.trim_end_matches('.')
        );
        let was = finding.severity;
        finding.severity = severity;
        let mut evidence = format!(
            "estimate from {} table bytes, {} indexes, rates rewrite {} / scan {} / index build {} / update {} MB/s; max_lock_seconds {}",
            table.table_bytes,
            table.indexes,
            settings.costs.rewrite_mb_per_s,
            settings.costs.scan_mb_per_s,
            settings.costs.index_build_mb_per_s,
            settings.costs.update_mb_per_s,
            settings.max_lock_seconds
        );
        if was != severity {
            evidence.push_str(&format!(
                "; severity {} from the estimate (static analysis: {})",
                severity.as_str(),
                was.as_str()
            ));
        }
        finding.evidence = Some(match finding.evidence.take() {
            Some(old) => format!("{old}; {evidence}"),
            None => evidence,
        });
        let timeout = timeouts.statement_timeout_ms;
        if timeout > 0 && window.as_millis() as u64 > timeout {
            extra.push(
                ROLE_STATEMENT_TIMEOUT
                    .finding(format!(
                        "the role in stats_url has statement_timeout {} ms, and this statement's lock window is estimated at {}: PostgreSQL would cancel it after blocking {} for the whole timeout",
                        timeout,
                        estimate::human_duration(window),
                        target.table
                    ))
                    .at(finding.location.clone().unwrap_or_else(|| Location::file("")))
                    .with_fix("use the safe pattern in the finding's fix, or raise statement_timeout for this migration only"),
            );
        }
    }
    findings.extend(extra);
}

/// Long transactions, waiting sessions and autovacuum on the tables the migration locks.
pub(super) fn apply_preflight(
    findings: &mut Vec<Finding>,
    targets: &[Target],
    stats: &HashMap<String, stats::TableStats>,
    holders: &[preflight::Holder],
    settings: &LiveSettings,
) {
    // The strongest lock wanted per table, and the first statement that wants it.
    let mut wanted: BTreeMap<&str, (LockMode, Option<Location>)> = BTreeMap::new();
    for target in targets {
        let location = findings
            .get(target.finding)
            .and_then(|f| f.location.clone());
        let entry = wanted
            .entry(target.table.as_str())
            .or_insert((target.lock, location));
        entry.0 = entry.0.max(target.lock);
    }
    let mut seen = std::collections::HashSet::new();
    for (table, (lock, location)) in wanted {
        let Some(oid) = stats.get(table).map(|s| s.oid) else {
            continue;
        };
        let location = location.unwrap_or_else(|| Location::file(""));
        for holder in holders.iter().filter(|h| h.table_oid == oid) {
            if !seen.insert((holder.pid, oid)) {
                continue;
            }
            let who = format!(
                "pid {} ({}{})",
                holder.pid,
                if holder.user.is_empty() {
                    "?"
                } else {
                    &holder.user
                },
                if holder.application.is_empty() {
                    String::new()
                } else {
                    format!(", {}", holder.application)
                }
            );
            if holder.is_autovacuum() {
                let mut finding = AUTOVACUUM_RUNNING
                    .finding(format!(
                        "{} is running on {table} now ({}): the migration's {} waits for it",
                        holder.query,
                        who,
                        super::super::pg::lock_name(lock),
                    ))
                    .at(location.clone())
                    .with_fix(format!("deploy after the vacuum on {table} finishes (pg_stat_progress_vacuum shows its progress)"));
                if holder.is_wraparound_vacuum() {
                    finding.severity = Severity::Fail;
                    finding.message.push_str(
                        " for the whole vacuum: an anti-wraparound autovacuum is not cancelled by a conflicting lock request, and every query on the table queues behind the migration",
                    );
                } else {
                    finding
                        .message
                        .push_str(" until autovacuum is cancelled (after deadlock_timeout)");
                }
                findings.push(finding);
                continue;
            }
            if !holder.granted {
                let mut finding = BLOCKING_SESSION
                    .finding(format!(
                        "{who} is already waiting for {} on {table}: there is a lock queue on {table} now, and the migration would join it",
                        super::super::pg::lock_name(holder.mode)
                    ))
                    .at(location.clone())
                    .with_fix(format!("find what holds the lock on {table} (pg_blocking_pids({})) before deploying", holder.pid));
                finding.severity = Severity::Warn;
                findings.push(finding);
                continue;
            }
            if preflight::conflicts(holder.mode, lock)
                && preflight::is_long_holder(holder, settings.max_lock_seconds)
            {
                let state = if holder.state.starts_with("idle in transaction") {
                    format!("idle in transaction for {:.0} s", holder.state_seconds)
                } else {
                    format!(
                        "in a transaction open for {:.0} s",
                        holder.transaction_seconds
                    )
                };
                findings.push(
                    BLOCKING_SESSION
                        .finding(format!(
                            "{who}, {state}, holds {} on {table}: the migration's {} waits behind it, and every query on {table} queues behind the migration",
                            super::super::pg::lock_name(holder.mode),
                            super::super::pg::lock_name(lock),
                        ))
                        .at(location.clone())
                        .with_evidence(format!("last query: {}", holder.query))
                        .with_fix(format!(
                            "end that transaction (`SELECT pg_terminate_backend({})`) or wait for it, and set lock_timeout in the migration",
                            holder.pid
                        )),
                );
            }
        }
    }
}

/// Why a trace that shows less than the static prediction (no rewrite, a weaker lock) cannot
/// lower it: the evidence could have been fed by the migration itself. A `DO` block or a `CALL`
/// can undo part of its own work in an exception handler (a subtransaction rolled back: no new
/// relfilenode, no lock left), so its trace cannot show what did not happen; a statement that
/// left no lock on the table did not visibly work on it. A plain top-level statement that
/// locked the table is read from `pg_catalog` with a pinned `search_path`, and stands.
pub(super) fn lowering_distrusted(
    statement: &DeployStatement,
    table: &str,
    locks: &[(String, LockMode, bool)],
) -> Option<String> {
    if matches!(
        statement.statement.node.as_deref(),
        Ok(NodeEnum::DoStmt(_)) | Ok(NodeEnum::CallStmt(_))
    ) {
        return Some(
            "a DO block or a procedure can undo part of its work in an exception handler, so its trace cannot show that something did not happen".to_string(),
        );
    }
    if !locks.iter().any(|(t, _, _)| t == table) {
        return Some(format!(
            "the traced statement left no lock on {table}, so the trace cannot show what it did to {table}"
        ));
    }
    None
}

/// The (statement, table, lock) of a rewrite the trace found and the static analysis did not.
type NewTarget = (usize, String, LockMode);

/// Put the traced locks beside the static prediction; where they disagree, the trace wins (the
/// target's work and lock change, so the estimate follows the trace).
pub(super) fn apply_trace(
    findings: &mut Vec<Finding>,
    targets: &mut Vec<Target>,
    statements: &[DeployStatement],
    traced: &[trace::Traced],
) {
    let mut extra: Vec<(Finding, Option<NewTarget>)> = Vec::new();
    let location =
        |s: &DeployStatement| Location::new(&s.path, s.statement.line, s.statement.column);
    for (index, (statement, result)) in statements.iter().zip(traced).enumerate() {
        match result {
            trace::Traced::NotTraceable(why) => extra.push((
                NOT_TRACEABLE
                    .finding(format!("not traced: {why}"))
                    .at(location(statement)),
                None,
            )),
            trace::Traced::Failed(reason) => extra.push((
                TRACE_FAILED
                    .finding(format!(
                        "this statement failed on the scratch database: {reason}; the statements after it were not traced"
                    ))
                    .at(location(statement))
                    .with_fix("fix the statement, or restore production's schema into the scratch database if it is out of date"),
                None,
            )),
            trace::Traced::Ran {
                locks,
                rewritten,
                duration,
            } => {
                let described: Vec<String> = locks
                    .iter()
                    .map(|(table, mode, new)| {
                        let rewrite = if rewritten.contains(table) { ", rewritten" } else { "" };
                        let since = if *new { "" } else { " (held since an earlier statement)" };
                        format!("{} on {table}{rewrite}{since}", super::super::pg::lock_name(*mode))
                    })
                    .collect();
                let summary = format!(
                    "traced on the scratch database: {} in {} ms",
                    if described.is_empty() {
                        "no lock on an existing table".to_string()
                    } else {
                        described.join(", ")
                    },
                    duration.as_millis()
                );
                let mut covered = Vec::new();
                for target in targets.iter_mut().filter(|t| t.statement == index) {
                    // A lock held since an earlier statement hides this one's: compare only
                    // locks this statement took.
                    let traced_lock = locks
                        .iter()
                        .find(|(t, _, new)| t == &target.table && *new)
                        .map(|(_, m, _)| *m);
                    let traced_rewrite = rewritten.contains(&target.table);
                    covered.push(target.table.clone());
                    let Some(finding) = findings.get_mut(target.finding) else {
                        continue;
                    };
                    match trace::disagreement(
                        target.work == Work::Rewrite,
                        Some(target.lock),
                        traced_rewrite,
                        traced_lock.or(Some(target.lock)),
                    ) {
                        None => {
                            finding.evidence = Some(match finding.evidence.take() {
                                Some(old) => format!("{old}; {summary}"),
                                None => summary.clone(),
                            });
                        }
                        Some(difference) => {
                            let lowers = (target.work == Work::Rewrite && !traced_rewrite)
                                || traced_lock.is_some_and(|l| l < target.lock);
                            let distrust = if lowers {
                                lowering_distrusted(statement, &target.table, locks)
                            } else {
                                None
                            };
                            match distrust {
                                None => {
                                    finding.message = format!(
                                        "{}. Traced on the scratch database: {difference}; the traced result wins",
                                        finding.message.trim_end_matches('.')
                                    );
                                    if traced_rewrite {
                                        target.work = Work::Rewrite;
                                    } else if target.work == Work::Rewrite {
                                        // No copy: what is left is the catalog change under the lock.
                                        target.work = Work::LockOnly;
                                        finding.severity = finding.severity.min(Severity::Warn);
                                    }
                                    if let Some(lock) = traced_lock {
                                        target.lock = lock;
                                    }
                                }
                                Some(why) => {
                                    // The trace may only add: a stronger lock counts, a
                                    // weaker result does not.
                                    finding.message = format!(
                                        "{}. Traced on the scratch database: {difference}; the static prediction stands, since {why}",
                                        finding.message.trim_end_matches('.')
                                    );
                                    if let Some(lock) = traced_lock.filter(|l| *l > target.lock) {
                                        target.lock = lock;
                                    }
                                }
                            }
                            finding.evidence = Some(summary.clone());
                        }
                    }
                }
                // Rewrites the static analysis did not flag at all: a finding of their own,
                // estimated like the others when statistics are available.
                for table in rewritten.iter().filter(|t| !covered.contains(t)) {
                    let lock = locks
                        .iter()
                        .find(|(t, _, _)| t == table)
                        .map(|(_, m, _)| *m)
                        .unwrap_or(LockMode::AccessExclusiveLock);
                    let mut finding = TRACED_LOCKS
                        .finding(format!(
                            "{summary}: {table} was rewritten, which the static analysis did not predict; the traced result wins"
                        ))
                        .at(location(statement))
                        .with_fix(format!("rewrite-free alternatives: add a new column and backfill {table} in batches"));
                    finding.severity = Severity::Fail;
                    extra.push((finding, Some((index, table.clone(), lock))));
                }
                let uncovered_strong = locks.iter().any(|(t, m, new)| {
                    *new && *m >= LockMode::ShareLock && !covered.contains(t) && !rewritten.contains(t)
                });
                if uncovered_strong && covered.is_empty() {
                    extra.push((TRACED_LOCKS.finding(summary).at(location(statement)), None));
                }
            }
            trace::Traced::Skipped | trace::Traced::NotReached => {}
        }
    }
    // Extra findings go last; an unpredicted rewrite becomes a target, so it is estimated too.
    for (finding, new_target) in extra {
        if let Some((statement, table, lock)) = new_target {
            targets.push(Target {
                finding: findings.len(),
                statement,
                table,
                work: Work::Rewrite,
                lock,
            });
        }
        findings.push(finding);
    }
}
