//! `readiness/file-ready-at-start`: a readiness file the entrypoint, or a postStart hook,
//! creates before the application starts.

use super::probes::ContainerProbes;
use crate::checks::kubernetes::Flag;
use crate::declare_rule;
use crate::k8s::Action;

declare_rule! {
    order: 40;
    /// ## What it catches
    /// An exec readiness probe that only checks a file exists (`cat /tmp/ready`,
    /// `test -f /tmp/ready`, `ls /tmp/ready`) while the container's own command creates that
    /// file before starting the application (`touch /tmp/ready && exec ./server`,
    /// `echo ok > /tmp/ready; ./server`), or a `lifecycle.postStart` exec hook creates it
    /// without waiting for the application: Kubernetes runs the hook as the container is
    /// created, with "no guarantee that the hook will execute before the container
    /// ENTRYPOINT" ("Container Lifecycle Hooks" in the Kubernetes docs), so it says nothing
    /// about the application either. A file the application writes when it is ready is
    /// fine and not flagged, and so is a start script that creates the file only after it has
    /// waited for the application to answer (`until curl -fs localhost:8080/ready; do sleep 1;
    /// done; touch /tmp/ready`).
    ///
    /// ## Why it matters during a deploy
    /// The probe goes green as soon as the shell has run `touch`, before the application has
    /// opened its port or its connections: the pod is marked ready, gets traffic, and the
    /// rollout moves on while every request to it fails. It stays green when the application
    /// later breaks, because nothing removes the file.
    ///
    /// ## Example
    /// ```yaml
    /// command: ["sh", "-c", "touch /tmp/ready && exec ./server"]
    /// readinessProbe:
    ///   exec: {command: ["cat", "/tmp/ready"]}
    /// ```
    ///
    /// ## Do this instead
    /// Probe the application itself (`httpGet: {path: /ready, port: 8080}`), or let the
    /// application create the file once it can serve and delete it when it cannot.
    pub FILE_READY_AT_START = ("readiness/file-ready-at-start", Fail, "the readiness file is created by the entrypoint, before the application is ready");
}

/// Programs that succeed when a file exists and test nothing else.
const FILE_CHECKS: &[&str] = &["cat", "test", "ls", "[", "stat"];

/// The file an exec readiness probe checks, when all it does is check a file exists.
fn checked_file(command: &[String]) -> Option<String> {
    let words: Vec<&str> = command
        .iter()
        .flat_map(|part| part.split_whitespace())
        .filter(|w| {
            !matches!(
                *w,
                "sh" | "/bin/sh" | "bash" | "/bin/bash" | "-c" | "-f" | "-e" | "-s" | "]"
            )
        })
        .collect();
    let (program, rest) = words.split_first()?;
    let program = program.rsplit('/').next().unwrap_or(program);
    if !FILE_CHECKS.contains(&program) || rest.len() != 1 || !rest[0].starts_with('/') {
        return None;
    }
    Some(rest[0].to_string())
}

/// Commands a start script uses to wait until the application answers before it creates the
/// readiness file (`./server & until curl -fs localhost:8080/ready; do sleep 1; done; touch
/// /tmp/ready; wait`): a file created after one of them tracks the application's start.
const WAITS_FOR_THE_APP: &[&str] = &[
    "until",
    "while",
    "curl",
    "wget",
    "nc",
    "grpc_health_probe",
    "pg_isready",
    "wait-for-it",
    "wait-for-it.sh",
];

/// Whether the container's command and args create `file` themselves before the application
/// is up: a `touch` or a redirection into it that no wait for the application precedes.
fn created_at_start(command: &[String], file: &str) -> bool {
    let script = command.join(" ");
    let words: Vec<&str> = script
        .split(|c: char| c.is_whitespace() || ";&|()".contains(c))
        .filter(|w| !w.is_empty())
        .map(|w| w.trim_matches(|c| c == '"' || c == '\''))
        .collect();
    let unquoted = |w: &str| w.trim_start_matches('>') == file;
    let touched = words
        .windows(2)
        .position(|pair| pair[0].rsplit('/').next() == Some("touch") && unquoted(pair[1]));
    let redirected = words.iter().enumerate().position(|(i, w)| {
        (w.starts_with('>') && unquoted(w))
            || (w.chars().all(|c| c == '>') && words.get(i + 1).is_some_and(|next| unquoted(next)))
    });
    let Some(created) = touched.into_iter().chain(redirected).min() else {
        return false;
    };
    !words[..created]
        .iter()
        .any(|w| WAITS_FOR_THE_APP.contains(&w.rsplit('/').next().unwrap_or(w)))
}

/// Who creates the readiness file before the application is up: the container's own command,
/// or its postStart hook.
fn creator(container: &crate::k8s::Container, file: &str) -> Option<&'static str> {
    let entrypoint: Vec<String> = container
        .command
        .iter()
        .chain(&container.args)
        .flat_map(|f| f.value.iter().cloned())
        .collect();
    if created_at_start(&entrypoint, file) {
        return Some("the container's own command creates it before the application starts");
    }
    match container.post_start.as_ref().map(|hook| &hook.action) {
        Some(Action::Exec { command }) if created_at_start(command, file) => Some(
            "its postStart hook creates it as the container starts, without waiting for the application",
        ),
        _ => None,
    }
}

pub fn check(facts: &ContainerProbes<'_>) -> Option<Flag> {
    let readiness = facts.readiness()?;
    let Some(Action::Exec { command }) = facts.readiness_action() else {
        return None;
    };
    let file = checked_file(command)?;
    let creator = creator(facts.container.container, &file)?;
    Some(Flag::new(
        FILE_READY_AT_START
            .finding(format!(
                "{}: the readinessProbe only checks that {file} exists, and {creator}: the pod is ready (and gets traffic) before the application can serve, and stays ready when it breaks",
                facts.container.name
            ))
            .at(facts.meta.at(readiness.pos))
            .with_fix("probe the application itself (httpGet /ready), or let the application create the file once it can serve and remove it when it cannot"),
        "readiness file created at start",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn file_checks_and_their_creation() {
        assert_eq!(
            checked_file(&strings(&["cat", "/tmp/ready"])).as_deref(),
            Some("/tmp/ready")
        );
        assert_eq!(
            checked_file(&strings(&["sh", "-c", "test -f /tmp/ready"])).as_deref(),
            Some("/tmp/ready")
        );
        assert_eq!(
            checked_file(&strings(&["/bin/grpc_health_probe", "-addr=:8080"])),
            None
        );
        assert_eq!(
            checked_file(&strings(&["cat", "/tmp/ready", "/tmp/other"])),
            None
        );
        assert!(created_at_start(
            &strings(&["sh", "-c", "touch /tmp/ready && exec ./server"]),
            "/tmp/ready"
        ));
        assert!(created_at_start(
            &strings(&["sh", "-c", "echo ok > /tmp/ready; ./server"]),
            "/tmp/ready"
        ));
        assert!(!created_at_start(
            &strings(&["./server", "--ready-file=/tmp/ready"]),
            "/tmp/ready"
        ));
        assert!(created_at_start(
            &strings(&["sh", "-c", "touch '/tmp/ready'; exec ./server"]),
            "/tmp/ready"
        ));
        assert!(created_at_start(
            &strings(&["sh", "-c", "echo ok >>/tmp/ready && ./server"]),
            "/tmp/ready"
        ));
        // Created only once the application answers: the file follows the application.
        assert!(!created_at_start(
            &strings(&[
                "sh",
                "-c",
                "./server & until curl -fs localhost:8080/ready; do sleep 1; done; touch /tmp/ready; wait"
            ]),
            "/tmp/ready"
        ));
    }
}
