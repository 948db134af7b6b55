//! Finding and reading manifests: the files and folders under `checks.kubernetes.manifests`
//! (relative to the project root), standard input with `-` (`helm template . | gonogo check`),
//! or, without that config section, YAML files with `apiVersion` and `kind` under `deploy/`,
//! `k8s/`, `manifests/` and `kubernetes/`.

use super::model::Manifests;
use crate::config::Config;
use crate::context::relative_display;
use crate::yaml::{Cut, Node, Pos, RawDocument, Splitter, Value, parse_document};
use std::fmt;
use std::io::{BufRead, BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};

/// Larger inputs are refused. Inputs are read as a stream, one document at a time, so memory
/// holds the typed objects, not the text; the limit bounds those too. A rendered chart of a big
/// platform is a few megabytes; 64 MiB leaves room for an umbrella chart's whole output.
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// One YAML document (one object, or a `List`) larger than this is refused. Kubernetes stores
/// each object in etcd, whose default request limit is 1.5 MiB, so no real object comes close;
/// 8 MiB leaves room for comments and a generous `List`. The cap is per document, not per line:
/// a stream with no newline (`yes | tr -d '\n'`) would otherwise grow one line without bound.
pub const MAX_DOCUMENT_BYTES: usize = 8 * 1024 * 1024;

/// How standard input is named in findings.
pub const STDIN_PATH: &str = "<stdin>";

/// Folders looked in when the config has no `kubernetes:` section.
pub const DISCOVERY_DIRS: &[&str] = &["deploy", "k8s", "manifests", "kubernetes"];

/// Where the manifests came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inputs {
    /// `checks.kubernetes.manifests`, as written.
    Configured(Vec<String>),
    /// No `kubernetes:` section: the discovery folders were searched.
    Discovered,
}

/// The manifests, and what the loader has to say about how it found them.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub manifests: Manifests,
    pub inputs: Inputs,
    /// Configured patterns that matched no file.
    pub unmatched: Vec<String>,
    /// Discovered files left out, with the reason (`deploy/chart/templates/x.yaml: a Helm template`).
    pub skipped: Vec<String>,
    /// Configured inputs (a file, or one document of a stream) that could not be read or
    /// parsed. The rest is still read and judged, so one bad file does not hide the findings
    /// of the others; each Kubernetes check still ends `error` (not knowing is not a go).
    pub unreadable: Vec<LoadError>,
}

/// An input gonogo was told to read and could not: the check reports `error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub path: String,
    pub pos: Option<Pos>,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(pos) => write!(
                f,
                "{}:{}:{}: {}",
                self.path, pos.line, pos.column, self.message
            ),
            None => write!(f, "{}: {}", self.path, self.message),
        }
    }
}

impl std::error::Error for LoadError {}

/// Read the manifests the config names (or discover them). The checks share one load per run
/// (see `Context::kubernetes`), so standard input is read once.
pub fn load(root: &Path, config: &Config) -> Result<Loaded, LoadError> {
    match &config.checks.kubernetes {
        Some(section) => {
            let patterns: Vec<String> = section.manifests.iter().map(|p| p.value.clone()).collect();
            load_configured(root, &patterns)
        }
        None => Ok(discover(root)),
    }
}

fn load_configured(root: &Path, patterns: &[String]) -> Result<Loaded, LoadError> {
    let mut loaded = Loaded {
        manifests: Manifests::default(),
        inputs: Inputs::Configured(patterns.to_vec()),
        unmatched: Vec::new(),
        skipped: Vec::new(),
        unreadable: Vec::new(),
    };
    let mut files: Vec<PathBuf> = Vec::new();
    let mut stdin = false;
    for pattern in patterns {
        if pattern.trim() == "-" {
            stdin = true;
            continue;
        }
        let matched = expand(root, pattern).map_err(|message| LoadError {
            path: pattern.clone(),
            pos: None,
            message,
        })?;
        if matched.is_empty() {
            loaded.unmatched.push(pattern.clone());
        }
        for path in matched {
            if !files.contains(&path) {
                files.push(path);
            }
        }
    }
    files.sort();
    if stdin {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            return Err(LoadError {
                path: STDIN_PATH.to_string(),
                pos: None,
                message: "`-` in checks.kubernetes.manifests reads standard input, but it is a terminal; pipe the manifests in (`helm template . | gonogo check`)".to_string(),
            });
        }
        read_stream(
            &mut loaded.manifests,
            STDIN_PATH,
            stdin.lock(),
            &mut loaded.unreadable,
        );
    }
    for path in &files {
        let shown = relative_display(root, path);
        match std::fs::File::open(path) {
            Ok(file) => read_stream(
                &mut loaded.manifests,
                &shown,
                BufReader::new(file),
                &mut loaded.unreadable,
            ),
            Err(e) => loaded.unreadable.push(LoadError {
                path: shown.clone(),
                pos: None,
                message: format!("cannot read: {e}"),
            }),
        }
    }
    Ok(loaded)
}

/// Files a pattern names: a file, a folder (its YAML files, recursively) or a glob.
fn expand(root: &Path, pattern: &str) -> Result<Vec<PathBuf>, String> {
    let pattern = pattern.trim().trim_start_matches("./");
    let full = root.join(pattern);
    if full.is_dir() {
        let mut out = Vec::new();
        walk_yaml(&full, &mut out);
        return Ok(out);
    }
    let entries = glob::glob(&full.to_string_lossy())
        .map_err(|e| format!("invalid path pattern `{pattern}`: {e}"))?;
    let mut out = Vec::new();
    for entry in entries.flatten() {
        if entry.is_dir() {
            walk_yaml(&entry, &mut out);
        } else if entry.is_file() {
            out.push(entry);
        }
    }
    Ok(out)
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

fn walk_yaml(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    paths.sort();
    for path in paths {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default();
        if name.starts_with('.') || name == "node_modules" || name == "target" {
            continue;
        }
        if path.is_dir() {
            walk_yaml(&path, out);
        } else if is_yaml(&path) {
            out.push(path);
        }
    }
}

fn discover(root: &Path) -> Loaded {
    let mut loaded = Loaded {
        manifests: Manifests::default(),
        inputs: Inputs::Discovered,
        unmatched: Vec::new(),
        skipped: Vec::new(),
        unreadable: Vec::new(),
    };
    let mut files = Vec::new();
    for dir in DISCOVERY_DIRS {
        let dir = root.join(dir);
        if dir.is_dir() {
            walk_yaml(&dir, &mut files);
        }
    }
    for path in files {
        let shown = relative_display(root, &path);
        let Ok(text) = read_file(&path, &shown) else {
            loaded
                .skipped
                .push(format!("{shown}: unreadable or too large"));
            continue;
        };
        let looks_like_manifest = text.lines().any(|l| l.starts_with("apiVersion:"))
            && text.lines().any(|l| l.starts_with("kind:"));
        if !looks_like_manifest {
            continue;
        }
        if text.contains("{{") {
            loaded.skipped.push(format!("{shown}: a Helm template"));
            continue;
        }
        // Not told to read it: a file that does not parse is left out and named, not an error.
        let mut single = Manifests::default();
        match parse_stream(&mut single, &shown, &text) {
            Ok(()) => loaded.manifests.extend(single),
            Err(err) => loaded.skipped.push(format!("{err}")),
        }
    }
    loaded
}

fn read_file(path: &Path, shown: &str) -> Result<String, LoadError> {
    let error = |message: String| LoadError {
        path: shown.to_string(),
        pos: None,
        message,
    };
    let metadata = std::fs::metadata(path).map_err(|e| error(format!("cannot read: {e}")))?;
    if metadata.len() > MAX_INPUT_BYTES {
        return Err(error(format!(
            "is {} MiB; gonogo reads manifest inputs up to {} MiB",
            metadata.len() / (1024 * 1024),
            MAX_INPUT_BYTES / (1024 * 1024)
        )));
    }
    let bytes = std::fs::read(path).map_err(|e| error(format!("cannot read: {e}")))?;
    utf8(bytes).map_err(|(pos, message)| LoadError {
        path: shown.to_string(),
        pos: Some(pos),
        message,
    })
}

fn utf8(bytes: Vec<u8>) -> Result<String, (Pos, String)> {
    String::from_utf8(bytes).map_err(|err| {
        let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
        let line = valid.iter().filter(|b| **b == b'\n').count() as u32 + 1;
        (
            Pos::new(line, 1),
            "not UTF-8 text; expected YAML manifests".to_string(),
        )
    })
}

/// Parse a YAML stream into `manifests`. Pure: tests and benchmarks feed it strings. The first
/// document that is not valid YAML stops the stream with its file:line.
pub fn parse_stream(manifests: &mut Manifests, path: &str, text: &str) -> Result<(), LoadError> {
    parse_reader(manifests, path, text.as_bytes())
}

/// Parse a YAML stream as it is read (see [`read_stream`]); the first problem, if any, is the
/// error, after every document that parses has been added.
pub fn parse_reader(
    manifests: &mut Manifests,
    path: &str,
    reader: impl BufRead,
) -> Result<(), LoadError> {
    let mut problems = Vec::new();
    read_stream(manifests, path, reader, &mut problems);
    match problems.into_iter().next() {
        Some(first) => Err(first),
        None => Ok(()),
    }
}

/// Parse a YAML stream as it is read, adding every document that parses to `manifests` and
/// each one that does not to `problems`: one bad document (an unrendered template in a
/// `helm template` stream) must not hide the objects around it. What ends the stream is a
/// problem with the input as a whole: a read error, text that is not UTF-8, more than
/// [`MAX_INPUT_BYTES`] or a document over [`MAX_DOCUMENT_BYTES`].
pub fn read_stream(
    manifests: &mut Manifests,
    path: &str,
    reader: impl BufRead,
    problems: &mut Vec<LoadError>,
) {
    if let Err(fatal) = stream_documents(manifests, path, reader, problems) {
        problems.push(fatal);
    }
}

/// Each document is parsed, turned into typed objects and dropped before the next is read, so
/// a 50 MB `helm template` output never sits in memory as text or as one tree.
fn stream_documents(
    manifests: &mut Manifests,
    path: &str,
    mut reader: impl BufRead,
    problems: &mut Vec<LoadError>,
) -> Result<(), LoadError> {
    let error = |pos: Option<Pos>, message: String| LoadError {
        path: path.to_string(),
        pos,
        message,
    };
    manifests.files.push(path.to_string());
    let mut splitter = Splitter::default();
    let mut document = String::new();
    let mut first_line = 1u32;
    let mut line = Vec::new();
    let mut total = 0u64;
    let too_large = |first_line: u32| {
        error(
            Some(Pos::new(first_line, 1)),
            format!(
                "the YAML document starting here is larger than {} MiB; gonogo reads one document (one Kubernetes object) up to that size",
                MAX_DOCUMENT_BYTES / (1024 * 1024)
            ),
        )
    };
    for line_number in 1u32.. {
        line.clear();
        // One line is read up to one byte past the document cap, so memory stays bounded by
        // the document plus one capped line however long the line is.
        let line_cap = MAX_DOCUMENT_BYTES as u64 + 1;
        let read = (&mut reader)
            .take(line_cap)
            .read_until(b'\n', &mut line)
            .map_err(|e| error(None, format!("cannot read: {e}")))?;
        if read == 0 {
            break;
        }
        if read as u64 == line_cap {
            // This line alone is past the cap, so the document holding it is too.
            return Err(too_large(first_line));
        }
        total += read as u64;
        if total > MAX_INPUT_BYTES {
            return Err(error(
                None,
                format!(
                    "is larger than {} MiB; gonogo reads manifest inputs up to that size",
                    MAX_INPUT_BYTES / (1024 * 1024)
                ),
            ));
        }
        let mut text = std::str::from_utf8(&line).map_err(|_| {
            error(
                Some(Pos::new(line_number, 1)),
                "not UTF-8 text; expected YAML manifests".to_string(),
            )
        })?;
        if line_number == 1 {
            text = text.strip_prefix('\u{feff}').unwrap_or(text);
        }
        match splitter.line(text.trim_end_matches(['\n', '\r'])) {
            Some(Cut::Before { has_content }) => {
                if has_content {
                    keep_going(
                        add_document(manifests, path, &document, first_line),
                        problems,
                    );
                }
                document.clear();
                first_line = line_number;
                document.push_str(text);
            }
            Some(Cut::After { has_content }) => {
                document.push_str(text);
                if has_content {
                    keep_going(
                        add_document(manifests, path, &document, first_line),
                        problems,
                    );
                }
                document.clear();
                first_line = line_number + 1;
            }
            None => document.push_str(text),
        }
        if document.len() > MAX_DOCUMENT_BYTES {
            return Err(too_large(first_line));
        }
    }
    if splitter.has_content() {
        keep_going(
            add_document(manifests, path, &document, first_line),
            problems,
        );
    }
    Ok(())
}

/// A document that does not parse is a problem to report, not the end of the stream.
fn keep_going(result: Result<(), LoadError>, problems: &mut Vec<LoadError>) {
    if let Err(problem) = result {
        problems.push(problem);
    }
}

/// Parse one document and add its objects.
fn add_document(
    manifests: &mut Manifests,
    path: &str,
    text: &str,
    first_line: u32,
) -> Result<(), LoadError> {
    let raw = RawDocument { text, first_line };
    // Point at template syntax only when it is on (or just before) the offending line.
    let helm_hint = |pos: Pos| {
        let index = pos.line.saturating_sub(first_line) as usize;
        let near = text
            .lines()
            .skip(index.saturating_sub(1))
            .take(2)
            .any(|l| l.contains("{{") || l.contains("}}"));
        if near {
            "; this looks like an unrendered Helm template: render it first (`helm template . | gonogo check` with `manifests: [\"-\"]`)"
        } else {
            ""
        }
    };
    let node = parse_document(&raw).map_err(|err| LoadError {
        path: path.to_string(),
        pos: Some(err.pos),
        message: format!("not valid YAML: {}{}", err.message, helm_hint(err.pos)),
    })?;
    let Some(node) = node else {
        return Ok(());
    };
    if let Some(pos) = complex_key(&node) {
        // Valid YAML, but Kubernetes (JSON underneath) rejects a mapping or list as a key;
        // it is almost always `{{ … }}` template syntax read as a flow mapping.
        return Err(LoadError {
            path: path.to_string(),
            pos: Some(pos),
            message: format!(
                "not a Kubernetes manifest: a mapping or list used as a key{}",
                helm_hint(pos)
            ),
        });
    }
    manifests.add_document(path, &node);
    Ok(())
}

fn complex_key(node: &Node) -> Option<Pos> {
    match &node.value {
        Value::Map(entries) => entries.iter().find_map(|(k, v)| {
            if matches!(k.value, Value::Map(_) | Value::Seq(_)) {
                Some(k.pos)
            } else {
                complex_key(v)
            }
        }),
        Value::Seq(items) => items.iter().find_map(complex_key),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_syntax_is_an_error_with_a_hint() {
        let mut m = Manifests::default();
        let text = "apiVersion: v1\nkind: Service\nmetadata:\n  name: x\n  annotations:\n    a: {{ .Values.a }}\n";
        let err = parse_stream(&mut m, "deploy/svc.yaml", text).unwrap_err();
        assert_eq!(err.pos, Some(Pos::new(6, 9)), "{err}");
        assert!(
            err.to_string()
                .starts_with("deploy/svc.yaml:6:9: not a Kubernetes manifest"),
            "{err}"
        );
        assert!(err.message.contains("Helm template"), "{err}");
    }

    #[test]
    fn configured_folders_globs_and_unmatched_patterns() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        };
        write(
            "deploy/a.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n",
        );
        write(
            "deploy/nested/b.yml",
            "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: b}\n",
        );
        write("deploy/notes.txt", "not yaml: [\n");
        let loaded = load_configured(dir.path(), &["deploy".into(), "k8s/*.yaml".into()]).unwrap();
        assert_eq!(
            loaded.manifests.files,
            ["deploy/a.yaml", "deploy/nested/b.yml"]
        );
        assert_eq!(loaded.manifests.workloads.len(), 2);
        assert_eq!(loaded.unmatched, ["k8s/*.yaml"]);
    }

    #[test]
    fn discovery_skips_templates_and_broken_files_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let write = |path: &str, text: &str| {
            let full = dir.path().join(path);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        };
        write(
            "k8s/app.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: a}\n",
        );
        write(
            "k8s/chart/templates/d.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {{ .Release.Name }}\n",
        );
        write(
            "k8s/broken.yaml",
            "apiVersion: v1\nkind: Service\nspec: [\n",
        );
        write("k8s/values.yaml", "replicas: 3\n");
        let loaded = discover(dir.path());
        assert_eq!(loaded.inputs, Inputs::Discovered);
        assert_eq!(loaded.manifests.files, ["k8s/app.yaml"]);
        assert_eq!(loaded.skipped.len(), 2, "{:?}", loaded.skipped);
        assert!(
            loaded
                .skipped
                .iter()
                .any(|s| s.starts_with("k8s/broken.yaml:"))
        );
    }
}
