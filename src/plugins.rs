//! External check plugins (protocol: `checks/PROTOCOL.md`).
//!
//! A plugin is any executable. It gets the run's context as JSON on stdin, runs from the project
//! root in its own process group, and is killed (the whole group) at its timeout. A JSON
//! CheckResult on stdout is its result; otherwise its exit status decides, Nagios-style, so
//! existing Nagios/Icinga/Sensu plugins work unchanged.

use crate::checks::{Check, CheckError, CheckFuture, CheckOutcome, Rule};
use crate::config::PluginConfig;
use crate::context::Context;
use crate::report::{Finding, Location, Severity, Status};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_STDOUT_BYTES: usize = 4 * 1024 * 1024;
const MAX_STDERR_BYTES: usize = 64 * 1024;
/// After the plugin exits, how long a grandchild may keep its stdout open before we stop reading.
const PIPE_GRACE: Duration = Duration::from_millis(500);
pub const PROTOCOL_VERSION: u32 = 1;

pub struct PluginCheck {
    id: String,
    title: String,
    docs: String,
    config: PluginConfig,
}

impl PluginCheck {
    pub fn new(config: PluginConfig) -> PluginCheck {
        PluginCheck {
            id: format!("plugin/{}", config.name),
            title: format!("Plugin {}", config.name),
            docs: format!(
                "# plugin/{name}\n\nAn external check, run as `{run}` from the project root \
                 (protocol: checks/PROTOCOL.md). Its findings carry rule ids \
                 `plugin/{name}/<rule>`; its own documentation lives with the script.\n",
                name = config.name,
                run = config.run.join(" ")
            ),
            config,
        }
    }
}

impl Check for PluginCheck {
    fn id(&self) -> &str {
        &self.id
    }
    fn title(&self) -> &str {
        &self.title
    }
    fn docs(&self) -> &str {
        &self.docs
    }
    fn rules(&self) -> &'static [&'static Rule] {
        &[]
    }
    fn enabled_by(&self, _config: &crate::config::Config) -> bool {
        true
    }
    fn timeout(&self, _ctx: &Context) -> Option<Duration> {
        Some(self.config.timeout.unwrap_or(DEFAULT_TIMEOUT))
    }
    fn run(&self, ctx: Arc<Context>) -> CheckFuture {
        let config = self.config.clone();
        Box::pin(async move { run_plugin(&config, &ctx).await })
    }
}

/// What a plugin printed and how it ended.
#[derive(Debug)]
pub struct PluginOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// `Ok(code)` for a normal exit, `Err(signal)` when killed by a signal.
    pub exit: Result<i32, i32>,
}

async fn run_plugin(config: &PluginConfig, ctx: &Context) -> Result<CheckOutcome, CheckError> {
    let timeout = config.timeout.unwrap_or(DEFAULT_TIMEOUT);
    let program = resolve_program(&ctx.root, &config.run[0]);
    let input = serde_json::json!({
        "protocol_version": PROTOCOL_VERSION,
        "service": ctx.config.service.as_ref().map(|s| s.value.clone()),
        "base": ctx.base,
        "head": ctx.head,
        "root": ctx.root.to_string_lossy(),
        "today": ctx.today.to_string(),
        "offline": ctx.offline,
        "config": config.raw,
    });
    let mut command = tokio::process::Command::new(&program);
    command
        .args(&config.run[1..])
        .current_dir(&ctx.root)
        .env("GONOGO_BASE", ctx.base.as_deref().unwrap_or(""))
        .env("GONOGO_HEAD", ctx.head.as_deref().unwrap_or(""))
        .env("GONOGO_ROOT", &ctx.root)
        .env("GONOGO_TODAY", ctx.today.to_string())
        .env("GONOGO_OFFLINE", if ctx.offline { "1" } else { "0" })
        .env("GONOGO_PLUGIN", &config.name)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    #[cfg(unix)]
    command.process_group(0);

    let mut child = command.spawn().map_err(|e| {
        CheckError(format!(
            "cannot start `{}`: {}",
            crate::context::relative_display(&ctx.root, &program),
            e
        ))
    })?;
    // Whatever happens from here (timeout, run deadline, panic), the plugin's whole process
    // group dies with this guard.
    let _group = GroupKiller(child.id());

    let mut stdin = child.stdin.take();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let input_bytes = serde_json::to_vec(&input).unwrap_or_default();

    let work = async {
        if let Some(mut stdin) = stdin.take() {
            // A plugin that ignores stdin may exit before reading it: a broken pipe is fine.
            let _ = stdin.write_all(&input_bytes).await;
            let _ = stdin.shutdown().await;
        }
        let stdout_task = tokio::spawn(read_capped(stdout, MAX_STDOUT_BYTES));
        let stderr_task = tokio::spawn(read_capped(stderr, MAX_STDERR_BYTES));
        let status = child.wait().await;
        let stdout = tokio::time::timeout(PIPE_GRACE, stdout_task)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let stderr = tokio::time::timeout(PIPE_GRACE, stderr_task)
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        (status, stdout, stderr)
    };
    let (status, stdout, stderr) = tokio::time::timeout(timeout, work).await.map_err(|_| {
        CheckError(format!(
            "plugin did not finish within its timeout of {}; killed",
            humanize(timeout)
        ))
    })?;
    let status = status.map_err(|e| CheckError(format!("cannot wait for the plugin: {e}")))?;
    let exit = match status.code() {
        Some(code) => Ok(code),
        None => Err(signal_of(&status)),
    };
    interpret(
        &config.name,
        &ctx.root,
        &PluginOutput {
            stdout,
            stderr,
            exit,
        },
    )
}

fn resolve_program(root: &Path, program: &str) -> PathBuf {
    let path = Path::new(program);
    if path.is_relative() && program.contains('/') {
        root.join(path)
    } else {
        path.to_path_buf()
    }
}

async fn read_capped<R: AsyncRead + Unpin>(reader: Option<R>, cap: usize) -> Vec<u8> {
    let Some(reader) = reader else {
        return Vec::new();
    };
    let mut buffer = Vec::new();
    let _ = reader.take(cap as u64).read_to_end(&mut buffer).await;
    buffer
}

#[cfg(unix)]
fn signal_of(status: &std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    status.signal().unwrap_or(-1)
}

#[cfg(not(unix))]
fn signal_of(_status: &std::process::ExitStatus) -> i32 {
    -1
}

struct GroupKiller(Option<u32>);

impl Drop for GroupKiller {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self.0 {
            // The plugin was started as the leader of its own process group; killing the group
            // also ends what it spawned (`sh -c 'sleep 1000'`), which would otherwise outlive us
            // and hold the CI job open.
            // SAFETY: kill(2) with a negative pid signals a process group; no memory is touched.
            unsafe {
                libc::kill(-(pid as i32), libc::SIGKILL);
            }
        }
    }
}

fn humanize(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

/// The JSON a plugin may print.
#[derive(Debug, Deserialize)]
struct PluginResult {
    status: Status,
    summary: String,
    #[serde(default)]
    #[allow(dead_code)] // accepted for compatibility; the report's title is `Plugin <name>`
    title: Option<String>,
    #[serde(default)]
    findings: Vec<PluginFinding>,
}

#[derive(Debug, Deserialize)]
struct PluginFinding {
    rule: String,
    severity: Severity,
    message: String,
    #[serde(default)]
    location: Option<PluginLocation>,
    #[serde(default)]
    evidence: Option<String>,
    #[serde(default)]
    fix: Option<String>,
}

#[derive(Debug, Deserialize)]
struct PluginLocation {
    path: String,
    #[serde(default)]
    line: Option<u32>,
    #[serde(default)]
    column: Option<u32>,
}

/// Turn what a plugin printed into an outcome. Pure, so the protocol is tested without processes.
pub fn interpret(
    name: &str,
    root: &Path,
    output: &PluginOutput,
) -> Result<CheckOutcome, CheckError> {
    let stderr_hint = || {
        let stderr = String::from_utf8_lossy(&output.stderr);
        stderr
            .lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| format!(" (stderr: {})", one_line(l)))
            .unwrap_or_default()
    };
    let code = match output.exit {
        Ok(code) => code,
        Err(signal) => {
            return Err(CheckError(format!(
                "plugin was killed by signal {signal}{}",
                stderr_hint()
            )));
        }
    };
    let stdout = std::str::from_utf8(&output.stdout).map_err(|e| {
        CheckError(format!(
            "plugin printed output that is not UTF-8 (byte {}); expected a JSON result or a Nagios status line",
            e.valid_up_to()
        ))
    })?;
    if stdout.trim_start().starts_with('{') {
        return interpret_json(name, root, stdout);
    }
    let mut lines = stdout.lines();
    let first = lines.next().unwrap_or("");
    let summary = one_line(first.split('|').next().unwrap_or(""));
    let evidence: String = lines.collect::<Vec<_>>().join("\n").trim().to_string();
    let summary_or = |fallback: &str| {
        if summary.is_empty() {
            fallback.to_string()
        } else {
            summary.clone()
        }
    };
    let severity = match code {
        0 => {
            return Ok(CheckOutcome::findings(
                summary_or("ok (no output)"),
                Vec::new(),
            ));
        }
        1 => Severity::Warn,
        2 => Severity::Fail,
        3 => {
            return Err(CheckError(format!(
                "plugin reported UNKNOWN (exit 3): {}{}",
                summary_or("no output"),
                stderr_hint()
            )));
        }
        other => {
            return Err(CheckError(format!(
                "plugin exited with status {other}, which the protocol does not define (0 pass, 1 warn, 2 fail){}",
                stderr_hint()
            )));
        }
    };
    let mut finding = Finding::new(
        format!("plugin/{name}/status"),
        severity,
        summary_or(if severity == Severity::Fail {
            "failed (no output)"
        } else {
            "warning (no output)"
        }),
    );
    if !evidence.is_empty() {
        finding.evidence = Some(evidence);
    }
    Ok(CheckOutcome::findings(
        summary_or("see findings"),
        vec![finding],
    ))
}

fn interpret_json(name: &str, root: &Path, stdout: &str) -> Result<CheckOutcome, CheckError> {
    let result: PluginResult = serde_json::from_str(stdout).map_err(|e| {
        CheckError(format!(
            "plugin printed JSON that is not a valid result: {e}; expected {{\"status\", \"summary\", \"findings\"}} (see checks/PROTOCOL.md)"
        ))
    })?;
    let prefix = format!("plugin/{name}/");
    let summary = one_line(&result.summary);
    let mut findings: Vec<Finding> = result
        .findings
        .into_iter()
        .map(|f| {
            let rule = if f.rule.starts_with(&prefix) {
                f.rule
            } else {
                format!("{prefix}{}", f.rule)
            };
            Finding {
                rule,
                severity: f.severity,
                message: f.message,
                location: f.location.map(|l| Location {
                    path: relative_to_root(root, &l.path),
                    line: l.line.filter(|n| *n > 0),
                    column: l.column.filter(|n| *n > 0),
                }),
                evidence: f.evidence,
                fix: f.fix,
                waived: None,
            }
        })
        .collect();
    match result.status {
        Status::Error => Err(CheckError(format!("plugin reported an error: {summary}"))),
        Status::Skip => Ok(CheckOutcome::skip(summary)),
        Status::Pass => Ok(CheckOutcome::findings(summary, findings)),
        declared @ (Status::Warn | Status::Fail) => {
            let worst = crate::report::CheckResult::status_from_findings(&findings);
            if worst < declared && findings.iter().all(|f| f.severity == Severity::Info) {
                // The plugin declared a warn/fail without a finding that carries it: keep its word
                // with a finding of its own, so the status still follows (waivable) findings.
                let severity = if declared == Status::Fail {
                    Severity::Fail
                } else {
                    Severity::Warn
                };
                findings.push(Finding::new(
                    format!("{prefix}status"),
                    severity,
                    summary.clone(),
                ));
            }
            Ok(CheckOutcome::findings(summary, findings))
        }
    }
}

fn relative_to_root(root: &Path, path: &str) -> String {
    crate::context::relative_display(root, Path::new(path))
}

fn one_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or("").trim();
    if line.chars().count() > 300 {
        let cut: String = line.chars().take(297).collect();
        format!("{cut}…")
    } else {
        line.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn output(stdout: &str, exit: Result<i32, i32>) -> PluginOutput {
        PluginOutput {
            stdout: stdout.as_bytes().to_vec(),
            stderr: b"some detail\n".to_vec(),
            exit,
        }
    }

    fn interpret_str(stdout: &str, exit: Result<i32, i32>) -> Result<CheckOutcome, CheckError> {
        interpret("demo", Path::new("/project"), &output(stdout, exit))
    }

    #[test]
    fn nagios_exit_codes() {
        let pass = interpret_str("OK - fine | x=1\n", Ok(0)).unwrap();
        assert!(pass.findings.is_empty());
        assert_eq!(pass.summary, "OK - fine");
        let warn = interpret_str("WARNING - soon\nmore detail\n", Ok(1)).unwrap();
        assert_eq!(warn.findings[0].severity, Severity::Warn);
        assert_eq!(warn.findings[0].rule, "plugin/demo/status");
        assert_eq!(warn.findings[0].evidence.as_deref(), Some("more detail"));
        let fail = interpret_str("CRITICAL - down\n", Ok(2)).unwrap();
        assert_eq!(fail.findings[0].severity, Severity::Fail);
        let unknown = interpret_str("UNKNOWN - no file\n", Ok(3)).unwrap_err();
        assert!(unknown.0.contains("UNKNOWN"), "{}", unknown.0);
        assert!(unknown.0.contains("some detail"), "{}", unknown.0);
        assert!(interpret_str("", Ok(7)).unwrap_err().0.contains("status 7"));
        assert!(
            interpret_str("", Err(9))
                .unwrap_err()
                .0
                .contains("signal 9")
        );
    }

    #[test]
    fn json_results_keep_locations_and_prefix_rules() {
        let outcome = interpret_str(
            r#"{"status":"warn","summary":"1 issue","findings":[{"rule":"x","severity":"warn","message":"m","location":{"path":"/project/src/a.py","line":3,"column":5}}]}"#,
            Ok(0),
        )
        .unwrap();
        let finding = &outcome.findings[0];
        assert_eq!(finding.rule, "plugin/demo/x");
        assert_eq!(finding.location, Some(Location::new("src/a.py", 3, 5)));
    }

    #[test]
    fn declared_failure_without_findings_still_fails() {
        let outcome = interpret_str(r#"{"status":"fail","summary":"broken"}"#, Ok(0)).unwrap();
        assert_eq!(outcome.findings.len(), 1);
        assert_eq!(outcome.findings[0].severity, Severity::Fail);
    }

    #[test]
    fn garbage_json_and_non_utf8_are_errors() {
        assert!(
            interpret_str("{\"status\": \"maybe\"", Ok(0))
                .unwrap_err()
                .0
                .contains("not a valid result")
        );
        let bad = PluginOutput {
            stdout: vec![0xff, 0xfe],
            stderr: vec![],
            exit: Ok(0),
        };
        assert!(
            interpret("demo", Path::new("/"), &bad)
                .unwrap_err()
                .0
                .contains("not UTF-8")
        );
    }
}
