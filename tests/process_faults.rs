//! The process fault matrix, with real processes (sh scripts in temp dirs): a plugin cannot turn
//! its result into something else, and nothing gonogo starts outlives it.
//!
//! | fault | status | message | left running |
//! |---|---|---|---|
//! | a background child holds the plugin's stdout | the plugin's JSON (`fail`) | its summary + "still held open" | nothing |
//! | a `setsid` child escapes the process group | the plugin's result | — | nothing after gonogo exits |
//! | SIGTERM / SIGHUP / SIGINT during a slow plugin | `error`, exit 1, report printed | `interrupted (SIGTERM) while the plugin ran` | nothing |
//! | ANSI, BEL, `\r` and 30,000 lines | the plugin's result | control sequences stripped, text cut "cut by gonogo" | nothing |
//! | more than 4 MiB on stdout | `error` | `printed over 4 MiB on stdout` (not a SIGPIPE status) | nothing |

use crate::common::*;
use crate::live::alive;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn plugin_check<'a>(report: &'a serde_json::Value, id: &str) -> &'a serde_json::Value {
    crate::live::check(report, id)
}

fn json_report(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "a JSON report on stdout ({e}): {}\nstderr: {}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// `gonogo check DIR --format json` with both streams read on a thread, so a large report never
/// blocks gonogo on a full pipe; panics when it has not exited within `limit`.
fn run_within(command: &mut Command, limit: Duration) -> Output {
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gonogo starts");
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    receiver
        .recv_timeout(limit)
        .unwrap_or_else(|_| panic!("gonogo did not exit within {limit:?}"))
        .expect("gonogo's output")
}

fn check_command(dir: &Path) -> Command {
    let mut command = gonogo();
    command.arg("check").arg(dir).args(["--format", "json"]);
    command
}

/// The pid a plugin wrote to `file` in the project.
fn pid_in(dir: &Path, file: &str) -> i32 {
    crate::live::read_pid(&dir.join(file))
}

/// kill(pid, 0) fails with ESRCH: no such process, not even a zombie (gonogo reaped it).
fn gone(pid: i32) -> bool {
    // SAFETY: kill(2) with signal 0 only checks that the process exists.
    let result = unsafe { libc::kill(pid, 0) };
    result == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
}

fn wait_for_file(path: &Path, limit: Duration) {
    let started = Instant::now();
    while !path.exists() {
        assert!(
            started.elapsed() < limit,
            "{} was never written",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_background_child_holding_stdout_does_not_hide_the_plugins_fail() {
    let dir = plugin_project(&[(
        "lag",
        "cat >/dev/null\n\
         sleep 300 &\n\
         echo $! > holder.pid\n\
         echo '{\"status\": \"fail\", \"summary\": \"replica lag 40s\"}'\n\
         exit 0",
        "",
    )]);
    let output = run_within(&mut check_command(dir.path()), Duration::from_secs(30));
    let report = json_report(&output);
    assert_eq!(output.status.code(), Some(1), "a fail is a no-go");
    let lag = plugin_check(&report, "plugin/lag");
    assert_eq!(lag["status"], "fail", "{lag:#}");
    let summary = lag["summary"].as_str().unwrap();
    assert!(summary.starts_with("replica lag 40s"), "{summary}");
    assert!(
        summary.contains("stdout was still held open")
            && summary.contains("process it left running"),
        "{summary}"
    );
    let holder = pid_in(dir.path(), "holder.pid");
    assert!(
        gone(holder),
        "the child holding stdout ({holder}) outlived gonogo"
    );
}

#[test]
fn a_setsid_child_is_gone_when_gonogo_exits() {
    // setsid(1) puts the sleep in a new session and process group: killing the plugin's group
    // does not reach it; only gonogo's final sweep of its process tree does.
    let dir = plugin_project(&[(
        "escape",
        "cat >/dev/null\n\
         command -v setsid >/dev/null || { echo 'CRITICAL - setsid(1) is missing: apt-get install util-linux'; exit 2; }\n\
         setsid sleep 300 </dev/null >/dev/null 2>&1 &\n\
         pid=$!\n\
         echo $pid > escaped.pid\n\
         tries=0\n\
         until [ \"$(awk '{print $6}' /proc/$pid/stat 2>/dev/null)\" = \"$pid\" ]; do\n\
           tries=$((tries + 1))\n\
           [ $tries -gt 200 ] && { echo 'CRITICAL - the setsid child never led a session of its own'; exit 2; }\n\
           sleep 0.05\n\
         done\n\
         echo 'OK - left a setsid child behind'",
        "",
    )]);
    let output = run_within(&mut check_command(dir.path()), Duration::from_secs(30));
    let report = json_report(&output);
    let escape = plugin_check(&report, "plugin/escape");
    assert_eq!(escape["status"], "pass", "{escape:#}");
    assert_eq!(output.status.code(), Some(0));
    let escaped = pid_in(dir.path(), "escaped.pid");
    assert!(gone(escaped), "the setsid child {escaped} outlived gonogo");
}

/// A slow plugin with a child in its group and a setsid child out of it, and a quick one; the
/// signal arrives while the slow one sleeps.
fn signal_during_a_slow_plugin(signal: i32, cause: &str) {
    let dir = plugin_project(&[
        (
            "slow",
            "cat >/dev/null\n\
             sleep 300 & echo $! > child.pid\n\
             setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $! > escaped.pid\n\
             echo $$ > plugin.pid\n\
             : > ready\n\
             sleep 300\n\
             echo 'OK - never'",
            ", timeout: 120s",
        ),
        ("quick", "echo $$ > quick.pid\necho 'OK - quick'", ""),
    ]);
    let mut command = check_command(dir.path());
    command
        .args(["--deadline", "120s"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().expect("gonogo starts");
    wait_for_file(&dir.path().join("ready"), Duration::from_secs(30));
    // The quick plugin must have ended (and been reaped by gonogo) before the signal, or it is
    // rightly interrupted too: on a loaded machine its shell may start after the slow one's.
    let quick = pid_in(dir.path(), "quick.pid");
    let waited = Instant::now();
    while !gone(quick) {
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "the quick plugin {quick} never ended"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pids: Vec<i32> = ["plugin.pid", "child.pid", "escaped.pid"]
        .iter()
        .map(|f| pid_in(dir.path(), f))
        .collect();
    for pid in &pids {
        assert!(alive(*pid), "{pid} should be running before the signal");
    }
    // SAFETY: kill(2) signals the gonogo process this test started.
    unsafe {
        libc::kill(child.id() as i32, signal);
    }
    let signalled = Instant::now();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    let output = receiver
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("gonogo did not exit within 30s of {cause}"))
        .unwrap();
    assert!(
        signalled.elapsed() < Duration::from_secs(20),
        "gonogo took {:?} after {cause}",
        signalled.elapsed()
    );
    let report = json_report(&output);
    assert_eq!(
        output.status.code(),
        Some(1),
        "an interrupted check is an error: no-go"
    );
    let slow = plugin_check(&report, "plugin/slow");
    assert_eq!(slow["status"], "error", "{slow:#}");
    let summary = slow["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!("interrupted ({cause}) while the plugin ran")),
        "{summary}"
    );
    assert_eq!(plugin_check(&report, "plugin/quick")["status"], "pass");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains(&format!("gonogo: {cause}: ending the checks")),
        "{stderr}"
    );
    for pid in pids {
        assert!(gone(pid), "{pid} outlived gonogo after {cause}");
    }
}

#[test]
fn sigterm_during_a_plugin_prints_the_report_and_leaves_nothing_running() {
    signal_during_a_slow_plugin(libc::SIGTERM, "SIGTERM");
}

#[test]
fn sighup_during_a_plugin_prints_the_report_and_leaves_nothing_running() {
    signal_during_a_slow_plugin(libc::SIGHUP, "SIGHUP");
}

#[test]
fn ctrl_c_during_a_plugin_prints_the_report_and_leaves_nothing_running() {
    signal_during_a_slow_plugin(libc::SIGINT, "Ctrl-C");
}

#[test]
fn terminal_control_is_stripped_and_long_output_is_cut() {
    let dir = plugin_project(&[
        (
            "noisy",
            // A red "CRITICAL", a bell, a window-title change, CRLF line ends, then 30,000 lines.
            "printf '\\033[1;31mCRITICAL\\033[0m - disk\\007 full\\033]0;pwned\\007\\r\\n'\n\
             seq 1 30000 | sed 's/^/detail /'\n\
             exit 2",
            "",
        ),
        (
            "escaped",
            "cat <<'JSON'\n\
             {\"status\": \"warn\", \"summary\": \"\\u001b[2Jcleared\\r\", \"findings\": [\n\
             {\"rule\": \"r\\u0007\", \"severity\": \"warn\", \"message\": \"a\\u001b[8mhidden\\u001b[0m b\\u202e\", \"evidence\": \"x\\r\\ny\"}]}\n\
             JSON",
            "",
        ),
    ]);
    let output = run_within(&mut check_command(dir.path()), Duration::from_secs(60));
    let text = String::from_utf8(output.stdout.clone()).unwrap();
    let report = json_report(&output);
    let noisy = plugin_check(&report, "plugin/noisy");
    assert_eq!(noisy["status"], "fail", "{noisy:#}");
    assert_eq!(noisy["summary"], "CRITICAL - disk full");
    let evidence = noisy["findings"][0]["evidence"].as_str().unwrap();
    assert!(evidence.starts_with("detail 1\ndetail 2\n"), "{evidence}");
    assert_eq!(
        evidence.lines().count(),
        21,
        "20 lines and the note: {evidence}"
    );
    assert!(
        evidence.ends_with(
            "(cut by gonogo: 378703 more characters in 29980 more lines; a plugin's text is kept to 20 lines and 2000 characters)"
        ),
        "{evidence}"
    );
    let escaped = plugin_check(&report, "plugin/escaped");
    assert_eq!(escaped["status"], "warn", "{escaped:#}");
    assert_eq!(escaped["summary"], "cleared");
    let finding = &escaped["findings"][0];
    assert_eq!(finding["rule"], "plugin/escaped/r");
    assert_eq!(finding["message"], "ahidden b");
    assert_eq!(finding["evidence"], "x\ny");
    // The JSON escapes nothing left to escape: no control character is in any string.
    for control in ["\\u001b", "\\u0007", "\\r", "\u{202e}"] {
        assert!(!text.contains(control), "{control} in the report: {text}");
    }
    assert!(text.len() < 20_000, "one plugin added {} bytes", text.len());

    // The table, what a developer's terminal shows: no escape sequence, bell or carriage return.
    let table = run(gonogo().arg("check").arg(dir.path()));
    for control in ['\u{1b}', '\u{7}', '\r', '\u{202e}'] {
        assert!(
            !table.stdout.contains(control),
            "{control:?} in the table: {}",
            table.stdout
        );
    }
}

#[test]
fn a_plugin_printing_over_4_mib_is_stopped_and_the_reason_named() {
    let dir = plugin_project(&[
        ("flood", "cat >/dev/null\nyes 'spam spam spam spam'", ""),
        // Just under the limit is fine: the cap is on the size, not on how it was printed.
        (
            "big",
            "cat >/dev/null\nseq 1 400000 | sed 's/^/OK - line /' | head -c 4000000",
            "",
        ),
    ]);
    let output = run_within(&mut check_command(dir.path()), Duration::from_secs(60));
    let report = json_report(&output);
    let flood = plugin_check(&report, "plugin/flood");
    assert_eq!(flood["status"], "error", "{flood:#}");
    let summary = flood["summary"].as_str().unwrap();
    assert!(
        summary.contains("plugin printed over 4 MiB on stdout, the protocol's limit"),
        "{summary}"
    );
    assert!(
        !summary.contains("141") && !summary.contains("signal"),
        "{summary}"
    );
    let big = plugin_check(&report, "plugin/big");
    assert_eq!(big["status"], "pass", "{big:#}");
    assert_eq!(big["summary"], "OK - line 1");
}
