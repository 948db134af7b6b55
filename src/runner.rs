//! Runs checks concurrently on tokio. Each check has a deadline (its own, capped by the run's
//! `--deadline`); a check that times out, returns an error or panics becomes that check's
//! `error` result with a one-line reason, and the report is still complete. Results come back in
//! the order the checks were given, whatever order they finish in.

use crate::checks::{Check, CheckError, CheckOutcome};
use crate::context::Context;
use crate::report::{CheckResult, Status};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which checks a run includes, from `--only` / `--skip`.
#[derive(Debug, Default, Clone)]
pub struct Selection {
    pub only: Vec<String>,
    pub skip: Vec<String>,
}

impl Selection {
    /// `plugin` selects every plugin; `plugin/x` one of them.
    pub fn includes(&self, id: &str) -> bool {
        let matches =
            |pattern: &String| pattern == id || (pattern == "plugin" && id.starts_with("plugin/"));
        (self.only.is_empty() || self.only.iter().any(matches)) && !self.skip.iter().any(matches)
    }
}

pub async fn run_checks(checks: Vec<&dyn Check>, ctx: Arc<Context>) -> Vec<CheckResult> {
    let run_deadline = tokio::time::Instant::now() + ctx.deadline;
    let mut handles = Vec::with_capacity(checks.len());
    for check in &checks {
        let id = check.id().to_string();
        let title = check.title().to_string();
        if ctx.offline && check.needs_network(&ctx) {
            handles.push(Pending::Done(CheckResult {
                id,
                title,
                status: Status::Skip,
                duration_ms: 0,
                summary: "skipped: --offline (this check needs the network or a database)"
                    .to_string(),
                findings: Vec::new(),
            }));
            continue;
        }
        let now = tokio::time::Instant::now();
        let (check_deadline, timeout_reason) = match check.timeout(&ctx) {
            Some(timeout) if now + timeout < run_deadline => (
                now + timeout,
                format!("did not finish within its timeout of {}", seconds(timeout)),
            ),
            _ => (
                run_deadline,
                format!(
                    "did not finish before the run's deadline of {}",
                    seconds(ctx.deadline)
                ),
            ),
        };
        let future = check.run(Arc::clone(&ctx));
        let started = Instant::now();
        let task = tokio::spawn(async move {
            let result = tokio::time::timeout_at(check_deadline, future).await;
            (result, started.elapsed())
        });
        handles.push(Pending::Running {
            id,
            title,
            task,
            timeout_reason,
            started,
        });
    }

    let mut results = Vec::with_capacity(handles.len());
    for pending in handles {
        results.push(match pending {
            Pending::Done(result) => result,
            Pending::Running {
                id,
                title,
                task,
                timeout_reason,
                started,
            } => {
                let (outcome, elapsed) = match task.await {
                    Ok((Ok(outcome), elapsed)) => (outcome, elapsed),
                    Ok((Err(_elapsed), elapsed)) => (Err(CheckError(timeout_reason)), elapsed),
                    Err(join_error) => {
                        let reason = if join_error.is_panic() {
                            format!(
                                "the check crashed: {}",
                                panic_message(join_error.into_panic())
                            )
                        } else {
                            "the check was cancelled".to_string()
                        };
                        (Err(CheckError(reason)), started.elapsed())
                    }
                };
                to_result(id, title, outcome, elapsed)
            }
        });
    }
    results
}

enum Pending {
    Done(CheckResult),
    Running {
        id: String,
        title: String,
        task: tokio::task::JoinHandle<(
            Result<Result<CheckOutcome, CheckError>, tokio::time::error::Elapsed>,
            Duration,
        )>,
        timeout_reason: String,
        started: Instant,
    },
}

fn to_result(
    id: String,
    title: String,
    outcome: Result<CheckOutcome, CheckError>,
    elapsed: Duration,
) -> CheckResult {
    let duration_ms = elapsed.as_millis() as u64;
    match outcome {
        Ok(outcome) => {
            let mut result = CheckResult {
                id,
                title,
                status: outcome.status.unwrap_or(Status::Pass),
                duration_ms,
                summary: outcome.summary,
                findings: outcome.findings,
            };
            result.settle();
            result
        }
        Err(CheckError(reason)) => CheckResult {
            id,
            title,
            status: Status::Error,
            duration_ms,
            summary: one_line(&reason),
            findings: Vec::new(),
        },
    }
}

fn seconds(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{:.1}s", duration.as_secs_f64())
    }
}

fn one_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_string()
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        one_line(text)
    } else if let Some(text) = payload.downcast_ref::<String>() {
        one_line(text)
    } else {
        "panic with a non-text payload".to_string()
    }
}
