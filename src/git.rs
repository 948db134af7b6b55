//! Git access through the real `git` binary: files at a ref, files changed since the base, the
//! newest tag. Never touches the working tree or the index.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone)]
pub struct Repo {
    /// The repository's top-level directory.
    pub top: PathBuf,
    /// Short hash of HEAD; `None` in a repository without commits.
    pub head: Option<String>,
}

impl Repo {
    /// The repository containing `dir`, if it is inside one and git is installed. One git
    /// process answers both questions: each costs a few milliseconds of the run.
    pub fn discover(dir: &Path) -> Option<Repo> {
        let output = Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["rev-parse", "--show-toplevel", "--short", "HEAD"])
            .output()
            .ok()?;
        let text = String::from_utf8(output.stdout).ok()?;
        let mut lines = text.lines();
        let top = lines.next().filter(|t| !t.is_empty())?;
        // Without commits `HEAD` does not resolve: rev-parse fails but still prints the top.
        let head = lines
            .next()
            .filter(|h| output.status.success() && !h.is_empty() && *h != "HEAD")
            .map(str::to_string);
        Some(Repo {
            top: PathBuf::from(top),
            head,
        })
    }

    fn git(&self, args: &[&str]) -> Result<Vec<u8>, String> {
        let output = Command::new("git")
            .arg("-C")
            .arg(&self.top)
            .args(args)
            .output()
            .map_err(|e| format!("cannot run git: {e}"))?;
        if output.status.success() {
            Ok(output.stdout)
        } else {
            let stderr = String::from_utf8_lossy(&output.stderr);
            Err(format!(
                "git {} failed: {}",
                args.join(" "),
                stderr.lines().next().unwrap_or("no message")
            ))
        }
    }

    fn git_text(&self, args: &[&str]) -> Result<String, String> {
        let bytes = self.git(args)?;
        Ok(String::from_utf8_lossy(&bytes).trim_end().to_string())
    }

    /// The newest tag reachable from HEAD: the usual name of what production runs.
    pub fn newest_tag(&self) -> Option<String> {
        self.git_text(&["describe", "--tags", "--abbrev=0", "HEAD"])
            .ok()
            .filter(|t| !t.is_empty())
    }

    /// Whether `reference` names a commit.
    pub fn resolves(&self, reference: &str) -> bool {
        self.git(&[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{reference}^{{commit}}"),
        ])
        .is_ok()
    }

    /// A file's bytes at `reference`; `Ok(None)` when the file does not exist there.
    /// `path` is relative to the repository top.
    pub fn file_at(&self, reference: &str, path: &str) -> Result<Option<Vec<u8>>, String> {
        let spec = format!("{reference}:{path}");
        match self.git(&["cat-file", "-e", &spec]) {
            Ok(_) => self.git(&["cat-file", "blob", &spec]).map(Some),
            Err(_) if self.resolves(reference) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Paths (relative to the repository top) added, copied, modified or renamed between
    /// `reference` and the working tree, plus untracked files: "this deploy's" files.
    pub fn changed_since(&self, reference: &str) -> Result<Vec<String>, String> {
        let diff = self.git_text(&[
            "diff",
            "--name-only",
            "--no-renames",
            "--diff-filter=ACMR",
            reference,
            "--",
        ])?;
        let untracked = self.git_text(&["ls-files", "--others", "--exclude-standard"])?;
        let mut paths: Vec<String> = diff
            .lines()
            .chain(untracked.lines())
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        paths.sort();
        paths.dedup();
        Ok(paths)
    }
}

impl Repo {
    /// Every file at `reference`, relative to the repository top (`git ls-tree -r`).
    pub fn files_at_ref(&self, reference: &str) -> Result<Vec<String>, String> {
        let bytes = self.git(&["ls-tree", "-r", "-z", "--name-only", reference, "--"])?;
        Ok(split_nul(&bytes))
    }

    /// Files git sees as renamed between `reference` and the working tree: (old, new), relative
    /// to the repository top. Only tracked files take part: a file moved with `git mv` (or
    /// staged) is followed, a plain `mv` shows up as a removal plus an untracked file.
    /// `pathspecs` (git pathspecs, e.g. `:(glob)api/**/*.yaml`) limit the files compared: rename
    /// detection reads the blobs it compares, so an unrelated unreadable blob elsewhere in the
    /// tree must not fail the caller.
    pub fn renames_since(
        &self,
        reference: &str,
        pathspecs: &[String],
    ) -> Result<Vec<(String, String)>, String> {
        if pathspecs.is_empty() {
            return Ok(Vec::new());
        }
        let mut args = vec![
            "diff",
            "-M",
            "--name-status",
            "-z",
            "--diff-filter=R",
            reference,
            "--",
        ];
        args.extend(pathspecs.iter().map(String::as_str));
        let bytes = self.git(&args)?;
        let fields = split_nul(&bytes);
        let mut renames = Vec::new();
        let mut rest = fields.as_slice();
        // `-z` output: `R<score>\0<old>\0<new>\0` per rename.
        while let [status, old, new, tail @ ..] = rest {
            if status.starts_with('R') {
                renames.push((old.clone(), new.clone()));
            }
            rest = tail;
        }
        Ok(renames)
    }

    /// Where `root` sits inside the repository, as a prefix for git paths: `""` at the top,
    /// `"services/api/"` below it. git paths are relative to the top, reports to the root.
    pub fn prefix_of(&self, root: &Path) -> String {
        let inside = root.canonicalize().ok().and_then(|root| {
            let top = self.top.canonicalize().ok()?;
            root.strip_prefix(top)
                .ok()
                .map(|p| p.to_string_lossy().replace('\\', "/"))
        });
        match inside {
            Some(p) if !p.is_empty() => format!("{p}/"),
            _ => String::new(),
        }
    }
}

/// Paths are passed to one git process in chunks of this many, so the command line stays far
/// below the kernel's limit whatever the size of the code base.
const PATHS_PER_GIT_CALL: usize = 2000;

impl Repo {
    /// Whether this is a shallow clone: CI checkouts fetch one commit by default, so the
    /// deployed version's commit is often simply not there.
    pub fn is_shallow(&self) -> bool {
        self.git_text(&["rev-parse", "--is-shallow-repository"])
            .is_ok_and(|answer| answer == "true")
    }

    /// The working tree's files, tracked and untracked but not ignored, relative to the top.
    pub fn working_files(&self) -> Result<Vec<String>, String> {
        let bytes = self.git(&[
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
        ])?;
        Ok(split_nul(&bytes))
    }

    /// How to get a base ref that does not resolve: a shallow clone (CI checkouts fetch one
    /// commit by default) needs its history, anything else a fetch of the tag or a fixed name.
    pub fn missing_ref_hint(&self) -> &'static str {
        if self.is_shallow() {
            "this is a shallow clone and the deployed commit is not in it (CI checkouts fetch one commit by default): fetch the history and tags, e.g. actions/checkout with fetch-depth: 0, or `git fetch --unshallow --tags`"
        } else {
            "check the name, or fetch it (`git fetch --tags`; in CI, actions/checkout with fetch-depth: 0)"
        }
    }

    /// Which of `paths` contain any of `words` (whole words, any case, binary files skipped): at
    /// `reference` when given (`git grep` on the ref, without touching the working tree), else
    /// in the working tree, untracked files included. Returns paths relative to the top.
    pub fn files_containing(
        &self,
        reference: Option<&str>,
        words: &[String],
        paths: &[String],
    ) -> Result<Vec<String>, String> {
        if words.is_empty() || paths.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        for chunk in paths.chunks(PATHS_PER_GIT_CALL) {
            let mut args: Vec<&str> = vec!["grep", "-l", "-z", "-I", "-i", "-w", "-F"];
            if reference.is_none() {
                args.push("--untracked");
            }
            for word in words {
                args.extend(["-e", word.as_str()]);
            }
            args.extend(reference);
            args.push("--");
            args.extend(chunk.iter().map(String::as_str));
            let output = Command::new("git")
                .arg("-C")
                .arg(&self.top)
                .args(&args)
                .output()
                .map_err(|e| format!("cannot run git: {e}"))?;
            // git grep exits 1 when nothing matched: an answer, not a failure.
            match output.status.code() {
                Some(0) => {}
                Some(1) if output.stderr.is_empty() => continue,
                _ => {
                    let stderr = String::from_utf8_lossy(&output.stderr);
                    return Err(format!(
                        "git grep failed: {}",
                        stderr.lines().next().unwrap_or("no message")
                    ));
                }
            }
            let prefix = reference.map(|r| format!("{r}:")).unwrap_or_default();
            found.extend(split_nul(&output.stdout).into_iter().map(|path| {
                path.strip_prefix(&prefix)
                    .map_or(path.clone(), str::to_string)
            }));
        }
        found.sort();
        found.dedup();
        Ok(found)
    }

    /// The bytes of each of `paths` at `reference`, read by one `git cat-file --batch` process
    /// (one process per file would cost more than the search). Paths missing there are left out.
    pub fn files_at(
        &self,
        reference: &str,
        paths: &[String],
    ) -> Result<Vec<(String, Vec<u8>)>, String> {
        use std::io::Write;
        if paths.is_empty() {
            return Ok(Vec::new());
        }
        let mut child = Command::new("git")
            .arg("-C")
            .arg(&self.top)
            .args(["cat-file", "--batch"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run git: {e}"))?;
        let request: String = paths
            .iter()
            .map(|path| format!("{reference}:{path}\n"))
            .collect();
        let mut stdin = child.stdin.take().ok_or("git cat-file has no stdin")?;
        // Write from another thread: git answers while it reads, and both pipes have a limit.
        let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
        let output = child
            .wait_with_output()
            .map_err(|e| format!("git cat-file failed: {e}"))?;
        let _ = writer.join();
        if !output.status.success() {
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(format!(
                "git cat-file failed: {}",
                stderr.lines().next().unwrap_or("no message")
            ));
        }
        Ok(paths
            .iter()
            .cloned()
            .zip(parse_batch(&output.stdout))
            .filter_map(|(path, blob)| Some((path, blob?)))
            .collect())
    }
}

/// `git cat-file --batch` output: per request either `<oid> <type> <size>\n<bytes>\n` or
/// `<name> missing\n`. One entry per request, in order; `None` for missing objects.
fn parse_batch(mut bytes: &[u8]) -> Vec<Option<Vec<u8>>> {
    let mut out = Vec::new();
    while !bytes.is_empty() {
        let Some(end) = bytes.iter().position(|b| *b == b'\n') else {
            break;
        };
        let header = String::from_utf8_lossy(&bytes[..end]).into_owned();
        bytes = &bytes[end + 1..];
        let fields: Vec<&str> = header.split(' ').collect();
        match fields.as_slice() {
            [_, kind, size] if *kind != "missing" => {
                let size: usize = size.parse().unwrap_or(0).min(bytes.len());
                out.push((*kind == "blob").then(|| bytes[..size].to_vec()));
                bytes = bytes.get(size + 1..).unwrap_or(&[]);
            }
            _ => out.push(None),
        }
    }
    out
}

fn split_nul(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|b| *b == 0)
        .filter(|part| !part.is_empty())
        .map(|part| String::from_utf8_lossy(part).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{parse_batch, split_nul};

    #[test]
    fn batch_output_keeps_one_entry_per_request() {
        let out = b"abc blob 5\nhello\nx.rs missing\ndef blob 0\n\n";
        assert_eq!(
            parse_batch(out),
            vec![Some(b"hello".to_vec()), None, Some(Vec::new())]
        );
    }

    #[test]
    fn nul_separated_output_keeps_spaces_and_drops_the_trailing_empty_field() {
        assert_eq!(
            split_nul(b"R100\0api/a b.yaml\0api/c.yaml\0"),
            vec!["R100", "api/a b.yaml", "api/c.yaml"]
        );
        assert!(split_nul(b"").is_empty());
    }
}
