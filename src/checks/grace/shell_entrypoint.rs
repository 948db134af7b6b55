//! `grace/shell-entrypoint`: a shell as PID 1 does not forward SIGTERM.

use super::termination::ContainerShutdown;
use crate::checks::kubernetes::Flag;
use crate::declare_rule;
use crate::k8s::{Container, Pos};

declare_rule! {
    order: 50;
    /// ## What it catches
    /// A container whose `command` is the shell form: `sh -c "…"`, `/bin/sh -c`, `bash -c`,
    /// unless the script `exec`s the server.
    ///
    /// ## Why it matters during a deploy
    /// The shell is PID 1 and does not forward SIGTERM to the server it started. The server
    /// never learns it should drain; it keeps serving until SIGKILL at the end of the grace
    /// period, and every request in flight then is cut off. Every rollout also takes the full
    /// grace period per pod.
    ///
    /// ## Example
    /// ```yaml
    /// command: ["/bin/sh", "-c", "./migrate && ./server"]
    /// ```
    ///
    /// ## Do this instead
    /// `command: ["/bin/sh", "-c", "./migrate && exec ./server"]`, or run the server directly,
    /// or an init such as tini or dumb-init that forwards signals.
    pub SHELL_ENTRYPOINT = ("grace/shell-entrypoint", Warn, "a shell is PID 1 and does not forward SIGTERM");
}

/// The rule over one container, serving or not.
pub fn check(facts: &ContainerShutdown<'_>) -> Option<Flag> {
    let (shell, pos) = shell_form(facts.container.container)?;
    let meta = facts.pod.meta;
    Some(Flag::new(
        SHELL_ENTRYPOINT
            .finding(format!(
                "{}: the command starts with `{shell}`, so the shell is PID 1 and does not forward SIGTERM: the server is SIGKILLed after {} s instead of draining",
                facts.container.name, facts.pod.grace
            ))
            .at(meta.at(pos))
            .with_fix("`exec` the server at the end of the script, run it directly, or use tini/dumb-init"),
        "shell is PID 1",
    ))
}

/// `sh -c "…"` without `exec`: the shell stays PID 1.
fn shell_form(container: &Container) -> Option<(String, Pos)> {
    let command = container.command.as_ref()?;
    let mut argv: Vec<&str> = command.value.iter().map(String::as_str).collect();
    if let Some(args) = &container.args {
        argv.extend(args.value.iter().map(String::as_str));
    }
    let program = argv.first()?.rsplit('/').next()?;
    if !["sh", "bash", "ash", "dash", "zsh"].contains(&program) {
        return None;
    }
    let flag = argv
        .iter()
        .position(|a| a.starts_with('-') && !a.starts_with("--") && a.contains('c'))?;
    let script = argv.get(flag + 1).copied().unwrap_or("");
    let execs = script
        .split(|c: char| c.is_whitespace() || ";&|(".contains(c))
        .any(|w| w == "exec");
    if execs {
        return None;
    }
    let shown: Vec<&str> = argv.iter().take(flag + 1).copied().collect();
    Some((shown.join(" "), command.pos))
}
