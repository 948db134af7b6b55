//! Which files of the project are its deployed code: `checks.compat.database.code_paths` (globs,
//! or directories meaning everything under them), minus `!pattern` exclusions and the files
//! that never run in production (tests are not deployed code: a drop that only a test still
//! names breaks nothing during the rollout).

use crate::config::ConfigString;

/// How code-path globs match: `*` stays within a directory, `**` crosses them, as in the
/// working-tree glob.
pub fn glob_options() -> glob::MatchOptions {
    glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: false,
    }
}

/// One entry of `checks.compat.database.code_paths`: a glob (`app/**/*.py`), or a directory or
/// file (`src/`, `app`) meaning everything under it.
#[derive(Debug, Clone)]
pub struct PathPattern {
    text: String,
    glob: Option<glob::Pattern>,
}

impl PathPattern {
    fn parse(text: &str) -> Result<PathPattern, String> {
        let text = text.trim_start_matches("./").to_string();
        let glob = if text.contains(['*', '?', '[']) {
            Some(glob::Pattern::new(&text).map_err(|e| {
                format!("checks.compat.database.code_paths: invalid pattern `{text}`: {e}")
            })?)
        } else {
            None
        };
        Ok(PathPattern { text, glob })
    }

    fn matches(&self, path: &str) -> bool {
        match &self.glob {
            Some(glob) => glob.matches_with(path, glob_options()),
            None => {
                let dir = self.text.trim_end_matches('/');
                dir.is_empty() || path == dir || path.starts_with(&format!("{dir}/"))
            }
        }
    }
}

/// Directories whose files never run in production: test suites, their data and fixtures.
const TEST_DIRECTORIES: &[&str] = &[
    "test",
    "tests",
    "testdata",
    "spec",
    "__tests__",
    "fixtures",
    "__fixtures__",
    "__mocks__",
];

/// Whether a file is test code by the conventions of its language's test runner: Go only
/// builds `_test.go` files into `go test` binaries; pytest collects `test_*.py`/`*_test.py`
/// (and `conftest.py`); RSpec `_spec.rb`; Jest/Vitest/Mocha `*.test.*`/`*.spec.*`.
fn is_test_file(path: &str) -> bool {
    let mut parts: Vec<&str> = path.split('/').collect();
    let name = parts.pop().unwrap_or("");
    if parts.iter().any(|dir| TEST_DIRECTORIES.contains(dir)) {
        return true;
    }
    let stem = name.rsplit_once('.').map_or(name, |(stem, _)| stem);
    name.ends_with("_test.go")
        || (name.ends_with(".py")
            && (stem.starts_with("test_") || stem.ends_with("_test") || stem == "conftest"))
        || name.ends_with("_spec.rb")
        || stem.ends_with(".test")
        || stem.ends_with(".spec")
}

/// `checks.compat.database.code_paths`: what to search, minus `!pattern` exclusions and the
/// files that never run in production (tests are not deployed code: a drop that only a test
/// still names breaks nothing during the rollout).
#[derive(Debug)]
pub struct CodePaths {
    pub include: Vec<PathPattern>,
    pub exclude: Vec<PathPattern>,
}

/// Why a file under the code paths is not searched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeftOut {
    Test,
    Excluded,
}

impl CodePaths {
    pub fn of(entries: &[ConfigString]) -> Result<CodePaths, String> {
        let mut paths = CodePaths {
            include: Vec::new(),
            exclude: Vec::new(),
        };
        for entry in entries {
            match entry.as_str().strip_prefix('!') {
                Some(excluded) => paths.exclude.push(PathPattern::parse(excluded.trim())?),
                None => paths.include.push(PathPattern::parse(entry.as_str())?),
            }
        }
        Ok(paths)
    }

    /// `None`: not under the code paths; `Some(Ok(()))`: searched; `Some(Err(why))`: left out.
    pub fn select(&self, path: &str) -> Option<Result<(), LeftOut>> {
        if !self.include.iter().any(|p| p.matches(path)) {
            return None;
        }
        if self.exclude.iter().any(|p| p.matches(path)) {
            return Some(Err(LeftOut::Excluded));
        }
        if is_test_file(path) {
            return Some(Err(LeftOut::Test));
        }
        Some(Ok(()))
    }

    pub fn searches(&self, path: &str) -> bool {
        self.select(path) == Some(Ok(()))
    }

    /// "src/, app/**/*.py, not vendor/": the code paths as the messages show them.
    pub fn shown(&self) -> String {
        let shown = |p: &PathPattern| match p.text.as_str() {
            "" => "./".to_string(),
            text => text.to_string(),
        };
        let mut parts: Vec<String> = self.include.iter().map(shown).collect();
        parts.extend(self.exclude.iter().map(|p| format!("not {}", shown(p))));
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_paths(entries: &[&str]) -> CodePaths {
        let entries: Vec<ConfigString> = entries
            .iter()
            .map(|e| ConfigString {
                value: e.to_string(),
                from_env: None,
            })
            .collect();
        CodePaths::of(&entries).unwrap()
    }

    #[test]
    fn code_paths_are_globs_or_directories() {
        let paths = code_paths(&["src/", "app/**/*.py"]);
        assert!(paths.searches("src/a/b.rs"));
        assert!(!paths.searches("srcx/a.rs"));
        assert!(paths.searches("app/models/order.py"));
        assert!(!paths.searches("app/models/order.rb"));
    }

    /// Tests are not deployed code (issue 18): left out by default, and `!pattern` leaves out
    /// more.
    #[test]
    fn tests_and_excluded_paths_are_left_out() {
        let paths = code_paths(&["./", "!vendor/", "!**/*.pb.go"]);
        for (path, expected) in [
            ("internal/store/user.go", Some(Ok(()))),
            ("internal/store/user_test.go", Some(Err(LeftOut::Test))),
            ("internal/jwt/testdata/keys.sql", Some(Err(LeftOut::Test))),
            ("test/e2e/users.go", Some(Err(LeftOut::Test))),
            ("app/tests/test_models.py", Some(Err(LeftOut::Test))),
            ("app/test_models.py", Some(Err(LeftOut::Test))),
            ("app/conftest.py", Some(Err(LeftOut::Test))),
            ("spec/models/user_spec.rb", Some(Err(LeftOut::Test))),
            ("web/src/__tests__/api.ts", Some(Err(LeftOut::Test))),
            ("web/src/api.test.ts", Some(Err(LeftOut::Test))),
            ("src/test/java/OrderTest.java", Some(Err(LeftOut::Test))),
            ("app/latest.py", Some(Ok(()))),
            ("app/contest_entries.py", Some(Ok(()))),
            ("vendor/lib/db.go", Some(Err(LeftOut::Excluded))),
            ("api/user.pb.go", Some(Err(LeftOut::Excluded))),
        ] {
            assert_eq!(paths.select(path), expected, "{path}");
        }
        assert_eq!(code_paths(&["src/"]).select("lib/a.go"), None);
        assert_eq!(paths.shown(), "./, not vendor/, not **/*.pb.go");
    }
}
