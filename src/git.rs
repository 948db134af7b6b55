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
    pub fn renames_since(&self, reference: &str) -> Result<Vec<(String, String)>, String> {
        let bytes = self.git(&[
            "diff",
            "-M",
            "--name-status",
            "-z",
            "--diff-filter=R",
            reference,
            "--",
        ])?;
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

fn split_nul(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|b| *b == 0)
        .filter(|part| !part.is_empty())
        .map(|part| String::from_utf8_lossy(part).into_owned())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::split_nul;

    #[test]
    fn nul_separated_output_keeps_spaces_and_drops_the_trailing_empty_field() {
        assert_eq!(
            split_nul(b"R100\0api/a b.yaml\0api/c.yaml\0"),
            vec!["R100", "api/a b.yaml", "api/c.yaml"]
        );
        assert!(split_nul(b"").is_empty());
    }
}
