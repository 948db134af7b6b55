//! External check plugins (protocol: `checks/PROTOCOL.md`).
//!
//! A plugin is any executable. It gets the run's context as JSON on stdin, runs from the project
//! root in its own process group, and is killed (the whole group) at its timeout. A JSON
//! CheckResult on stdout is its result; otherwise its exit status decides, Nagios-style, so
//! existing Nagios/Icinga/Sensu plugins work unchanged.
//!
//! A plugin cannot lie about its result or leave anything behind: what it printed is parsed even
//! when a process it left running holds stdout open; its text is cleaned of terminal control
//! sequences and bounded before it reaches a report; and its processes end with it (the group at
//! once, escapees at gonogo's exit, see [`crate::shutdown`]).

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
/// Beyond this a plugin is stopped: it is not a result any more but a runaway loop.
const MAX_STDOUT_BYTES: usize = 4 * 1024 * 1024;
/// Only the tail of stderr is kept (its last line is quoted in errors); the rest is drained so
/// a chatty plugin never blocks on a full pipe.
const MAX_STDERR_BYTES: usize = 64 * 1024;
/// After the plugin exits, how long a process it left running may keep its stdout open before
/// we stop reading (and use what was read).
const PIPE_GRACE: Duration = Duration::from_millis(500);
/// What one plugin may add to a report: findings, and lines and characters per text field
/// (message, evidence, fix). Beyond these the text is cut and says so.
const MAX_FINDINGS: usize = 100;
const MAX_TEXT_LINES: usize = 20;
const MAX_TEXT_CHARS: usize = 2_000;
/// One-line fields: a rule id and a location's path.
const MAX_RULE_CHARS: usize = 100;
const MAX_PATH_CHARS: usize = 500;
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
    /// A process the plugin left running still held its stdout open [`PIPE_GRACE`] after it
    /// exited: `stdout` is what had arrived by then.
    pub stdout_held_open: bool,
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
    // Whatever happens from here (timeout, run deadline, a signal, panic), the plugin's whole
    // process group dies with this guard.
    let _group = GroupKiller::new(child.id());

    if let Some(mut stdin) = child.stdin.take() {
        let input_bytes = serde_json::to_vec(&input).unwrap_or_default();
        // On its own task: a plugin that prints before it reads never waits on us. One that
        // ignores stdin may exit before reading it: a broken pipe is fine.
        tokio::spawn(async move {
            let _ = stdin.write_all(&input_bytes).await;
            let _ = stdin.write_all(b"\n").await;
            let _ = stdin.shutdown().await;
        });
    }
    let (Some(stdout), Some(stderr)) = (child.stdout.take(), child.stderr.take()) else {
        return Err(CheckError(
            "cannot read the plugin's output (no pipe)".to_string(),
        ));
    };
    let collected = tokio::select! {
        // A signal ends the run: the plugin is killed (by the guard) and says so.
        biased;
        () = crate::shutdown::interrupted() => {
            return Err(CheckError(format!(
                "interrupted ({}) while the plugin ran; it was killed with its process group",
                crate::shutdown::cause()
            )));
        }
        collected = tokio::time::timeout(timeout, collect(&mut child, stdout, stderr)) => {
            collected.map_err(|_| {
                CheckError(format!(
                    "plugin did not finish within its timeout of {}; killed",
                    humanize(timeout)
                ))
            })?
        }
    };
    match collected.map_err(|e| CheckError(format!("cannot wait for the plugin: {e}")))? {
        Collected::Overflowed { stderr } => Err(CheckError(clean(
            &format!(
                "plugin printed over {} MiB on stdout, the protocol's limit; gonogo stopped reading and killed it{}",
                MAX_STDOUT_BYTES / (1024 * 1024),
                stderr_hint(&stderr)
            ),
            false,
        ))),
        Collected::Exited(output) => interpret(&config.name, &ctx.root, &output),
    }
}

/// How reading a plugin's output ended.
enum Collected {
    Exited(PluginOutput),
    /// It printed more than [`MAX_STDOUT_BYTES`]; it was not waited for.
    Overflowed {
        stderr: Vec<u8>,
    },
}

/// Read stdout and stderr while waiting for the plugin to exit; then give the pipes
/// [`PIPE_GRACE`] to close. A process the plugin left running (`sleep 300 &`) inherits the pipes
/// and can hold them open for ever: what was read is kept either way, never thrown away.
async fn collect(
    child: &mut tokio::process::Child,
    mut stdout: impl AsyncRead + Unpin,
    mut stderr: impl AsyncRead + Unpin,
) -> std::io::Result<Collected> {
    let mut out = Vec::new();
    let mut err = Vec::new();
    let mut out_chunk = vec![0u8; 64 * 1024];
    let mut err_chunk = vec![0u8; 8 * 1024];
    let (mut out_open, mut err_open) = (true, true);
    let mut status = None;
    let mut pipes_until: Option<tokio::time::Instant> = None;
    let status = loop {
        if let Some(status) = status.filter(|_| !out_open && !err_open) {
            break status;
        }
        let grace = async move {
            match pipes_until {
                Some(until) => tokio::time::sleep_until(until).await,
                None => std::future::pending().await,
            }
        };
        // Every branch is cancel-safe (a read that loses the race has read nothing).
        tokio::select! {
            read = stdout.read(&mut out_chunk), if out_open => match read {
                Ok(0) | Err(_) => out_open = false,
                Ok(n) => {
                    if out.len() + n > MAX_STDOUT_BYTES {
                        return Ok(Collected::Overflowed { stderr: err });
                    }
                    out.extend_from_slice(&out_chunk[..n]);
                }
            },
            read = stderr.read(&mut err_chunk), if err_open => match read {
                Ok(0) | Err(_) => err_open = false,
                Ok(n) => {
                    err.extend_from_slice(&err_chunk[..n]);
                    if err.len() > MAX_STDERR_BYTES {
                        err.drain(..err.len() - MAX_STDERR_BYTES);
                    }
                }
            },
            exited = child.wait(), if status.is_none() => {
                status = Some(exited?);
                pipes_until = Some(tokio::time::Instant::now() + PIPE_GRACE);
            }
            () = grace => {
                if let Some(status) = status {
                    break status;
                }
            }
        }
    };
    let exit = match status.code() {
        Some(code) => Ok(code),
        None => Err(signal_of(&status)),
    };
    Ok(Collected::Exited(PluginOutput {
        stdout: out,
        stderr: err,
        exit,
        stdout_held_open: out_open,
    }))
}

fn resolve_program(root: &Path, program: &str) -> PathBuf {
    let path = Path::new(program);
    if path.is_relative() && program.contains('/') {
        root.join(path)
    } else {
        path.to_path_buf()
    }
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

/// Kills the plugin's process group when dropped; registered with [`crate::shutdown`] so a
/// second signal, which exits without unwinding, kills it too.
struct GroupKiller(i32);

impl GroupKiller {
    fn new(pid: Option<u32>) -> GroupKiller {
        let pgid = pid.map_or(0, |p| p as i32);
        crate::shutdown::register_group(pgid);
        GroupKiller(pgid)
    }
}

impl Drop for GroupKiller {
    fn drop(&mut self) {
        // The plugin was started as the leader of its own process group; killing the group
        // also ends what it spawned (`sh -c 'sleep 1000'`), which would otherwise outlive us
        // and hold the CI job open. (A process that left the group with setsid(2) is ended at
        // gonogo's exit: crate::shutdown::end_descendants.)
        crate::shutdown::kill(-self.0, libc::SIGKILL);
        crate::shutdown::unregister_group(self.0);
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
/// Every text that reaches the outcome (or the error) is [`clean`]ed and bounded.
pub fn interpret(
    name: &str,
    root: &Path,
    output: &PluginOutput,
) -> Result<CheckOutcome, CheckError> {
    let interpreted = interpret_output(name, root, output);
    // Say when the output may be partial: the pipe was still open, so more might have come.
    let held_open = if output.stdout_held_open {
        format!(
            " (its stdout was still held open {} after it exited, by a process it left running: \
             what it printed until then was used, and its process group was killed)",
            humanize(PIPE_GRACE)
        )
    } else {
        String::new()
    };
    match interpreted {
        Ok(mut outcome) => {
            outcome.summary.push_str(&held_open);
            Ok(outcome)
        }
        Err(CheckError(reason)) => Err(CheckError(format!("{}{held_open}", clean(&reason, false)))),
    }
}

/// The last non-empty line of stderr, as ` (stderr: …)` for error messages.
fn stderr_hint(stderr: &[u8]) -> String {
    let stderr = clean(&String::from_utf8_lossy(stderr), true);
    stderr
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .map(|l| format!(" (stderr: {})", one_line(l)))
        .unwrap_or_default()
}

fn interpret_output(
    name: &str,
    root: &Path,
    output: &PluginOutput,
) -> Result<CheckOutcome, CheckError> {
    let stderr_hint = || stderr_hint(&output.stderr);
    let code = match output.exit {
        Ok(code) => code,
        Err(signal) => {
            return Err(CheckError(format!(
                "plugin was killed by signal {signal}{}{}",
                signal_name(signal),
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
    let stdout = clean(stdout, true);
    let mut lines = stdout.lines();
    let first = lines.next().unwrap_or("");
    let summary = one_line(first.split('|').next().unwrap_or(""));
    let evidence = bound(lines.collect::<Vec<_>>().join("\n").trim());
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

/// " (SIGPIPE)" and the like, for the signals a plugin typically dies of.
fn signal_name(signal: i32) -> &'static str {
    match signal {
        libc::SIGKILL => " (SIGKILL)",
        libc::SIGTERM => " (SIGTERM)",
        libc::SIGINT => " (SIGINT)",
        libc::SIGPIPE => " (SIGPIPE: it wrote to a closed pipe)",
        libc::SIGSEGV => " (SIGSEGV)",
        libc::SIGABRT => " (SIGABRT)",
        _ => "",
    }
}

fn interpret_json(name: &str, root: &Path, stdout: &str) -> Result<CheckOutcome, CheckError> {
    let result: PluginResult = serde_json::from_str(stdout).map_err(|e| {
        CheckError(format!(
            "plugin printed JSON that is not a valid result: {e}; expected {{\"status\", \"summary\", \"findings\"}} (see checks/PROTOCOL.md)"
        ))
    })?;
    let prefix = format!("plugin/{name}/");
    let summary = one_line(&clean(&result.summary, false));
    let mut findings: Vec<Finding> = result
        .findings
        .into_iter()
        .map(|f| {
            let rule = cut_chars(&clean(&f.rule, false), MAX_RULE_CHARS);
            let rule = if rule.starts_with(&prefix) {
                rule
            } else {
                format!("{prefix}{rule}")
            };
            Finding {
                rule,
                severity: f.severity,
                message: bound(&clean(&f.message, true)),
                location: f.location.map(|l| Location {
                    path: relative_to_root(
                        root,
                        &cut_chars(&clean(&l.path, false), MAX_PATH_CHARS),
                    ),
                    line: l.line.filter(|n| *n > 0),
                    column: l.column.filter(|n| *n > 0),
                }),
                evidence: f.evidence.map(|e| bound(&clean(&e, true))),
                fix: f.fix.map(|e| bound(&clean(&e, true))),
                waived: None,
                subject: None,
            }
        })
        .collect();
    if findings.len() > MAX_FINDINGS {
        findings = keep_worst(findings, &prefix);
    }
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

/// More than [`MAX_FINDINGS`]: keep the worst ones and replace the rest by one finding that
/// says how many were cut, with the worst severity among them, so cutting never lowers the
/// check's status (it can be waived like any finding).
fn keep_worst(mut findings: Vec<Finding>, prefix: &str) -> Vec<Finding> {
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let cut = findings.split_off(MAX_FINDINGS);
    let count = |severity| cut.iter().filter(|f| f.severity == severity).count();
    let worst = cut
        .iter()
        .map(|f| f.severity)
        .max()
        .unwrap_or(Severity::Info);
    findings.push(Finding::new(
        format!("{prefix}findings-cut"),
        worst,
        format!(
            "the plugin reported {} findings; gonogo keeps {MAX_FINDINGS} in a report (the worst first) and cut {} ({} fail, {} warn, {} info)",
            MAX_FINDINGS + cut.len(),
            cut.len(),
            count(Severity::Fail),
            count(Severity::Warn),
            count(Severity::Info),
        ),
    ));
    findings
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

fn cut_chars(text: &str, max: usize) -> String {
    if text.chars().count() > max {
        let cut: String = text.chars().take(max - 1).collect();
        format!("{cut}…")
    } else {
        text.to_string()
    }
}

/// A multi-line text from a plugin, kept to [`MAX_TEXT_LINES`] lines and [`MAX_TEXT_CHARS`]
/// characters; when cut, it ends with a line saying how much was cut.
fn bound(text: &str) -> String {
    let total_lines = text.lines().count();
    let total_chars = text.chars().count();
    if total_lines <= MAX_TEXT_LINES && total_chars <= MAX_TEXT_CHARS {
        return text.to_string();
    }
    let mut kept = String::new();
    let mut kept_lines = 0;
    for line in text.lines().take(MAX_TEXT_LINES) {
        let room = MAX_TEXT_CHARS.saturating_sub(kept.chars().count());
        if room == 0 {
            break;
        }
        if kept_lines > 0 {
            kept.push('\n');
        }
        kept.extend(line.chars().take(room));
        kept_lines += 1;
    }
    let cut_chars = total_chars.saturating_sub(kept.chars().count());
    let cut_lines = total_lines - kept_lines;
    let lines = if cut_lines > 0 {
        format!(" in {cut_lines} more lines")
    } else {
        String::new()
    };
    format!(
        "{kept}\n… (cut by gonogo: {cut_chars} more characters{lines}; a plugin's text is kept to {MAX_TEXT_LINES} lines and {MAX_TEXT_CHARS} characters)"
    )
}

/// Text from a plugin, made safe to show on a terminal, in a PR comment or a CI log, where a
/// control sequence could recolour, retitle, hide or rewrite what the reader sees:
/// - terminal escape sequences (ECMA-48) are removed: CSI (`ESC [` … a final byte, also the
///   one-byte C1 CSI), the string controls OSC, DCS, SOS, PM and APC up to their terminator
///   (BEL or ST; here also the end of the line, so an unterminated one cannot swallow the rest
///   of the text) and two-character escapes (`ESC c`);
/// - `\r` is dropped (`\r\n` becomes `\n`; a lone `\r` would let a later part of a line
///   overwrite an earlier one);
/// - every other control character (C0, DEL, C1) is dropped, and so are the bidirectional
///   embedding, override and isolate characters (U+202A–U+202E, U+2066–U+2069), which reorder
///   how text is displayed ("Trojan Source", CVE-2021-42574);
/// - `\n` and `\t` are kept when `multiline`, else each becomes a space.
pub fn clean(text: &str, multiline: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => skip_escape(&mut chars),
            '\u{9b}' => skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => skip_control_string(&mut chars),
            '\n' | '\t' if multiline => out.push(c),
            '\n' | '\t' => out.push(' '),
            '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => {}
            // Unicode noncharacters are for a program's internal use; gonogo marks the slot a
            // summary names workloads at risk in with two (`report::at_risk_slot`).
            '\u{fdd0}'..='\u{fdef}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

type Chars<'a> = std::iter::Peekable<std::str::Chars<'a>>;

fn skip_escape(chars: &mut Chars) {
    match chars.peek().copied() {
        Some('[') => {
            chars.next();
            skip_csi(chars);
        }
        Some(']' | 'P' | 'X' | '^' | '_') => {
            chars.next();
            skip_control_string(chars);
        }
        // Intermediate bytes, then one final byte (`ESC ( B`).
        Some('\u{20}'..='\u{2f}') => {
            while chars
                .next_if(|c| ('\u{20}'..='\u{2f}').contains(c))
                .is_some()
            {}
            chars.next_if(|c| ('\u{30}'..='\u{7e}').contains(c));
        }
        // `ESC c`, `ESC 7`, …: one final byte. Anything else is left as text.
        Some('\u{30}'..='\u{7e}') => {
            chars.next();
        }
        _ => {}
    }
}

/// After CSI: parameter bytes (0x30–0x3F), intermediate bytes (0x20–0x2F), one final byte
/// (0x40–0x7E).
fn skip_csi(chars: &mut Chars) {
    while chars
        .next_if(|c| ('\u{20}'..='\u{3f}').contains(c))
        .is_some()
    {}
    chars.next_if(|c| ('\u{40}'..='\u{7e}').contains(c));
}

/// After OSC, DCS, SOS, PM or APC: up to BEL, ST (`ESC \` or C1 ST), or the end of the line.
fn skip_control_string(chars: &mut Chars) {
    while let Some(&c) = chars.peek() {
        match c {
            '\n' => return,
            '\u{7}' | '\u{9c}' => {
                chars.next();
                return;
            }
            '\u{1b}' => {
                chars.next();
                chars.next_if_eq(&'\\');
                return;
            }
            _ => {
                chars.next();
            }
        }
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
            stdout_held_open: false,
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
            stdout_held_open: false,
        };
        assert!(
            interpret("demo", Path::new("/"), &bad)
                .unwrap_err()
                .0
                .contains("not UTF-8")
        );
    }

    #[test]
    fn clean_removes_terminal_control_and_keeps_text() {
        let raw = "\u{1b}[1;31mFAIL\u{1b}[0m: disk\u{7} full\r\n\u{1b}]0;owned\u{7}next\u{1b}]8;;http://x\u{1b}\\link\u{1b}]8;;\u{1b}\\ \u{9b}2Jdone\u{1b}(B\u{202e}txt\u{7f}";
        assert_eq!(clean(raw, true), "FAIL: disk full\nnextlink donetxt");
        assert_eq!(clean("a\tb\r\nc", false), "a b c");
        // An unterminated OSC hides only the rest of its own line.
        assert_eq!(clean("x\u{1b}]2;title\nvisible", true), "x\nvisible");
        assert_eq!(clean("plain ünïcode → ok", false), "plain ünïcode → ok");
        assert_eq!(clean("a\u{fdd0}ok\u{fdd1}b", false), "aokb");
    }

    #[test]
    fn long_text_is_cut_and_says_so() {
        let text: String = (1..=30_000).map(|n| format!("line {n}\n")).collect();
        let cut = bound(text.trim_end());
        assert_eq!(cut.lines().count(), MAX_TEXT_LINES + 1, "{cut}");
        assert!(cut.starts_with("line 1\nline 2\n"));
        assert!(cut.contains("in 29980 more lines"), "{cut}");
        let one_long = "x".repeat(10_000);
        let cut = bound(&one_long);
        assert!(cut.contains("8000 more characters"), "{cut}");
        assert_eq!(bound("short\ntext"), "short\ntext");
    }

    #[test]
    fn too_many_findings_keep_the_worst_and_never_lower_the_status() {
        let mut findings: Vec<String> = (0..150)
            .map(|n| format!(r#"{{"rule":"r{n}","severity":"info","message":"m{n}"}}"#))
            .collect();
        findings
            .push(r#"{"rule":"last","severity":"fail","message":"the one that matters"}"#.into());
        let json = format!(
            r#"{{"status":"pass","summary":"s","findings":[{}]}}"#,
            findings.join(",")
        );
        let outcome = interpret_str(&json, Ok(0)).unwrap();
        assert_eq!(outcome.findings.len(), MAX_FINDINGS + 1);
        assert_eq!(outcome.findings[0].rule, "plugin/demo/last");
        let note = outcome.findings.last().unwrap();
        assert_eq!(note.rule, "plugin/demo/findings-cut");
        assert_eq!(note.severity, Severity::Info);
        assert!(
            note.message.contains("reported 151 findings"),
            "{}",
            note.message
        );
        assert!(
            note.message.contains("cut 51 (0 fail, 0 warn, 51 info)"),
            "{}",
            note.message
        );
    }

    #[test]
    fn output_read_while_the_pipe_was_held_open_is_used_and_noted() {
        let held = PluginOutput {
            stdout: br#"{"status":"fail","summary":"broken"}"#.to_vec(),
            stderr: vec![],
            exit: Ok(0),
            stdout_held_open: true,
        };
        let outcome = interpret("demo", Path::new("/"), &held).unwrap();
        assert_eq!(outcome.findings[0].severity, Severity::Fail);
        assert!(
            outcome
                .summary
                .starts_with("broken (its stdout was still held open 500ms"),
            "{}",
            outcome.summary
        );
    }
}
