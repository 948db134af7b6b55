//! Runs checks concurrently on tokio. Each check has a deadline (its own, capped by the run's
//! `--deadline`); a check that times out, returns an error or panics becomes that check's
//! `error` result with a one-line reason, and the report is still complete. Results come back in
//! the order the checks were given, whatever order they finish in.
//!
//! A signal (Ctrl-C, SIGTERM, SIGHUP; see [`crate::shutdown`]) interrupts the run: checks that
//! clean up after themselves (drills, plugins) end with their own reason, the rest are cut off as
//! `error: interrupted (<signal>) before it finished`, and the report is still complete.

use crate::checks::{Check, CheckError, CheckOutcome};
use crate::context::Context;
use crate::report::{CheckResult, Status};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// After an interruption, how long checks that are restoring what they changed (a drill stopping
/// its service: SIGTERM, up to 5 s, SIGKILL) may take before they are cut off too.
const CLEANUP_LIMIT: Duration = Duration::from_secs(8);

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

/// Which checks are still running, and since when: the stderr spinner reads it.
#[derive(Debug, Default)]
pub struct Progress {
    running: std::sync::Mutex<Vec<(String, Instant)>>,
}

impl Progress {
    fn start(&self, id: &str) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.push((id.to_string(), Instant::now()));
    }

    fn finish(&self, id: &str) {
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running.retain(|(running_id, _)| running_id != id);
    }

    /// Checks running for longer than `at_least`, longest first.
    pub fn slow(&self, at_least: Duration) -> Vec<(String, Duration)> {
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        running
            .iter()
            .map(|(id, since)| (id.clone(), since.elapsed()))
            .filter(|(_, elapsed)| *elapsed >= at_least)
            .collect()
    }
}

pub async fn run_checks(
    checks: Vec<&dyn Check>,
    ctx: Arc<Context>,
    progress: Arc<Progress>,
) -> Vec<CheckResult> {
    crate::shutdown::listen();
    let run_deadline = tokio::time::Instant::now() + ctx.deadline;
    let mut handles = Vec::with_capacity(checks.len());
    for check in &checks {
        let id = check.id().to_string();
        let title = check.title().to_string();
        if ctx.offline && check.needs_network(&ctx) {
            handles.push(Pending::Done(CheckResult {
                summary_template: None,
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
        progress.start(&id);
        let task_progress = Arc::clone(&progress);
        let task_id = id.clone();
        let task = tokio::spawn(async move {
            let result = tokio::select! {
                // The check first: one that reacts to the interruption itself reports its own
                // reason ("interrupted … the service was stopped").
                biased;
                timed = tokio::time::timeout_at(check_deadline, future) => match timed {
                    Ok(outcome) => Ended::Finished(outcome),
                    Err(_) => Ended::TimedOut,
                },
                () = async {
                    crate::shutdown::interrupted().await;
                    crate::shutdown::cleanups_finished(CLEANUP_LIMIT).await;
                } => Ended::Interrupted,
            };
            task_progress.finish(&task_id);
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
                let joined = task.await;
                progress.finish(&id);
                let (outcome, elapsed) = match joined {
                    Ok((Ended::Finished(outcome), elapsed)) => (outcome, elapsed),
                    Ok((Ended::TimedOut, elapsed)) => (Err(CheckError(timeout_reason)), elapsed),
                    Ok((Ended::Interrupted, elapsed)) => (
                        Err(CheckError(format!(
                            "interrupted ({}) before it finished",
                            crate::shutdown::cause()
                        ))),
                        elapsed,
                    ),
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

/// How a check's task ended.
enum Ended {
    Finished(Result<CheckOutcome, CheckError>),
    /// Its deadline passed first.
    TimedOut,
    /// A signal interrupted the run first.
    Interrupted,
}

enum Pending {
    Done(CheckResult),
    Running {
        id: String,
        title: String,
        task: tokio::task::JoinHandle<(Ended, Duration)>,
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
                summary_template: None,
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
            summary_template: None,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::{CheckFuture, Rule};
    use crate::report::{Finding, Severity};

    /// A check whose behaviour the test chooses.
    struct Scripted {
        id: &'static str,
        behaviour: fn() -> CheckFuture,
        timeout: Option<Duration>,
    }

    impl Check for Scripted {
        fn id(&self) -> &str {
            self.id
        }
        fn title(&self) -> &str {
            "scripted"
        }
        fn docs(&self) -> &str {
            ""
        }
        fn rules(&self) -> &'static [&'static Rule] {
            &[]
        }
        fn enabled_by(&self, _config: &crate::config::Config) -> bool {
            true
        }
        fn timeout(&self, _ctx: &Context) -> Option<Duration> {
            self.timeout
        }
        fn needs_network(&self, _ctx: &Context) -> bool {
            self.id == "network"
        }
        fn run(&self, _ctx: Arc<Context>) -> CheckFuture {
            (self.behaviour)()
        }
    }

    fn context(deadline: Duration, offline: bool) -> Arc<Context> {
        Arc::new(Context {
            root: std::env::temp_dir(),
            config: Default::default(),
            config_path: None,
            repo: None,
            base: None,
            head: None,
            offline,
            checks: Vec::new(),
            today: crate::date::Date::today(),
            deadline,
            kubernetes: Default::default(),
            kubernetes_base: Default::default(),
            migrations: Default::default(),
        })
    }

    fn scripted(id: &'static str, behaviour: fn() -> CheckFuture) -> Scripted {
        Scripted {
            id,
            behaviour,
            timeout: None,
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn broken_checks_become_errors_and_the_report_is_complete() {
        let panics = scripted("panics", || {
            Box::pin(async { panic!("index out of bounds") })
        });
        let fails = scripted("fails", || {
            Box::pin(async { Err(CheckError("connection refused\nsecond line".into())) })
        });
        let hangs = Scripted {
            id: "hangs",
            behaviour: || {
                Box::pin(async {
                    tokio::time::sleep(Duration::from_secs(60)).await;
                    Ok(CheckOutcome::skip("never"))
                })
            },
            timeout: Some(Duration::from_millis(100)),
        };
        let finds = scripted("finds", || {
            Box::pin(async {
                Ok(CheckOutcome::findings(
                    "one warning",
                    vec![Finding::new("finds/x", Severity::Warn, "m")],
                ))
            })
        });
        let checks: Vec<&dyn Check> = vec![&panics, &fails, &hangs, &finds];
        let started = Instant::now();
        let results = run_checks(
            checks,
            context(Duration::from_secs(30), false),
            Default::default(),
        )
        .await;
        assert!(started.elapsed() < Duration::from_secs(5));
        let ids: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(
            ids,
            ["panics", "fails", "hangs", "finds"],
            "input order kept"
        );
        assert_eq!(results[0].status, Status::Error);
        assert!(results[0].summary.contains("crashed: index out of bounds"));
        assert_eq!(results[1].status, Status::Error);
        assert_eq!(results[1].summary, "connection refused", "one line");
        assert_eq!(results[2].status, Status::Error);
        assert!(
            results[2].summary.contains("timeout of 0.1s"),
            "{}",
            results[2].summary
        );
        assert_eq!(results[3].status, Status::Warn);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn run_deadline_caps_every_check() {
        let slow = scripted("slow", || {
            Box::pin(async {
                tokio::time::sleep(Duration::from_secs(60)).await;
                Ok(CheckOutcome::skip("never"))
            })
        });
        let results = run_checks(
            vec![&slow],
            context(Duration::from_millis(200), false),
            Default::default(),
        )
        .await;
        assert_eq!(results[0].status, Status::Error);
        assert!(
            results[0].summary.contains("run's deadline of 0.2s"),
            "{}",
            results[0].summary
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn offline_skips_checks_that_need_the_network() {
        let network = scripted("network", || Box::pin(async { panic!("must not run") }));
        let results = run_checks(
            vec![&network],
            context(Duration::from_secs(5), true),
            Default::default(),
        )
        .await;
        assert_eq!(results[0].status, Status::Skip);
        assert!(results[0].summary.contains("--offline"));
    }

    #[test]
    fn selection_understands_plugin_groups() {
        let selection = Selection {
            only: vec!["plugin".into()],
            skip: vec!["plugin/b".into()],
        };
        assert!(selection.includes("plugin/a"));
        assert!(!selection.includes("plugin/b"));
        assert!(!selection.includes("migrations"));
    }
}
