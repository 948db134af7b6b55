//! A service gonogo starts for a drill (`readiness.command`, `grace.command`): its own process
//! group, its output kept (the tail, for error messages), and on every exit path the whole group
//! killed, as `plugins.rs` does for plugins. Signals are handled in [`super::interrupt`]; a process
//! that leaves the group is ended by [`crate::shutdown::end_descendants`] on Linux.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The last bytes of the service's stdout and stderr, for "the service exited: <its last line>".
const OUTPUT_TAIL_BYTES: usize = 8 * 1024;

pub struct Service {
    child: tokio::process::Child,
    pid: i32,
    /// The command as shown in messages (the program and its arguments).
    pub shown: String,
    output: Arc<Mutex<Vec<u8>>>,
    exited: Option<ExitStatus>,
}

impl Service {
    /// Start `command` from `root` with `env` added, as the leader of a new process group.
    pub fn start(
        command: &[String],
        env: &BTreeMap<String, String>,
        root: &Path,
    ) -> Result<Service, String> {
        let Some((program, args)) = command.split_first() else {
            return Err("the command is empty".to_string());
        };
        let resolved = if program.contains('/') && Path::new(program).is_relative() {
            root.join(program)
        } else {
            program.into()
        };
        let shown = command.join(" ");
        let mut cmd = tokio::process::Command::new(&resolved);
        cmd.args(args)
            .current_dir(root)
            .envs(env)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        // Its own group: Ctrl-C in the terminal does not reach it behind gonogo's back, and
        // killing the group ends whatever it spawned.
        cmd.process_group(0);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start `{shown}`: {e}"))?;
        let pid = child.id().map(|p| p as i32).unwrap_or(0);
        crate::shutdown::register_group(pid);
        let output = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn AsyncRead + Send + Unpin>),
            child
                .stderr
                .take()
                .map(|s| Box::new(s) as Box<dyn AsyncRead + Send + Unpin>),
        ]
        .into_iter()
        .flatten()
        {
            tokio::spawn(keep_tail(stream, Arc::clone(&output)));
        }
        Ok(Service {
            child,
            pid,
            shown,
            output,
            exited: None,
        })
    }

    pub fn pid(&self) -> i32 {
        self.pid
    }

    /// Wait until the process exits (for `select!` against a drill: a crash ends the drill).
    pub async fn wait(&mut self) -> ExitStatus {
        if let Some(status) = self.exited {
            return status;
        }
        match self.child.wait().await {
            Ok(status) => {
                self.exited = Some(status);
                status
            }
            // Cannot wait (already reaped elsewhere): never resolve, the drill decides.
            Err(_) => std::future::pending().await,
        }
    }

    /// Whether it has exited, without waiting.
    pub fn try_exited(&mut self) -> Option<ExitStatus> {
        if self.exited.is_none()
            && let Ok(Some(status)) = self.child.try_wait()
        {
            self.exited = Some(status);
        }
        self.exited
    }

    /// SIGTERM to the process only, as the kubelet sends it to the container's PID 1.
    pub fn terminate(&self) {
        signal(self.pid, libc::SIGTERM);
    }

    /// Stop it: SIGTERM, up to `grace` to exit, then SIGKILL to the whole group; whatever it
    /// spawned is killed with the group either way. Returns how it ended.
    pub async fn stop(&mut self, grace: Duration) -> Option<ExitStatus> {
        if self.try_exited().is_none() {
            self.terminate();
            if tokio::time::timeout(grace, self.wait()).await.is_err() {
                signal(-self.pid, libc::SIGKILL);
                let _ = tokio::time::timeout(Duration::from_secs(2), self.wait()).await;
            }
        }
        signal(-self.pid, libc::SIGKILL);
        self.exited
    }

    /// The last line the service printed, once its final output has been read: the readers
    /// run on their own tasks and may be a moment behind the exit.
    pub async fn last_line_after_exit(&self) -> Option<String> {
        tokio::time::sleep(Duration::from_millis(100)).await;
        self.last_line()
    }

    /// The last line the service printed, for error messages.
    pub fn last_line(&self) -> Option<String> {
        let output = self.output.lock().unwrap_or_else(|e| e.into_inner());
        let text = String::from_utf8_lossy(&output);
        text.lines()
            .rev()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.trim().chars().take(200).collect())
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        // Any exit path (an error, a panic, the run's deadline): the whole group dies.
        signal(-self.pid, libc::SIGKILL);
        crate::shutdown::unregister_group(self.pid);
    }
}

/// "exit status 3", "killed by signal 15 (SIGTERM)".
pub fn describe_exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit status {code}"),
        (None, Some(signal)) => {
            let name = match signal {
                libc::SIGTERM => " (SIGTERM)",
                libc::SIGKILL => " (SIGKILL)",
                libc::SIGINT => " (SIGINT)",
                libc::SIGSEGV => " (SIGSEGV)",
                libc::SIGABRT => " (SIGABRT)",
                _ => "",
            };
            format!("killed by signal {signal}{name}")
        }
        (None, None) => "an unknown exit".to_string(),
    }
}

/// kill(2); a negative pid is a process group. pid 0 (unknown) is never signalled: that would be
/// gonogo's own group.
pub fn signal(pid: i32, signal: i32) {
    crate::shutdown::kill(pid, signal);
}

async fn keep_tail(mut stream: Box<dyn AsyncRead + Send + Unpin>, tail: Arc<Mutex<Vec<u8>>>) {
    let mut buffer = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buffer).await {
        if n == 0 {
            return;
        }
        let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
        tail.extend_from_slice(&buffer[..n]);
        if tail.len() > OUTPUT_TAIL_BYTES {
            let cut = tail.len() - OUTPUT_TAIL_BYTES;
            tail.drain(..cut);
        }
    }
}
