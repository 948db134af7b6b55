//! The third-party corpus: real inputs written by others (`../shared/corpus`, beside our own checkout
//! and CI, never beside a user's clone). A test that reads it asks [`dir`] first:
//!
//! - the folder is there: the test runs and is counted like any other;
//! - it is missing and `GONOGO_REQUIRE_CORPUS` is set (`.ci/run` sets it): the test fails, so CI can
//!   never pass by skipping the corpus;
//! - it is missing otherwise (a user's fresh clone): the test returns early and says so on stderr in
//!   a line `scripts/test` counts for its closing summary — never a silent skip.

use std::io::Write;
use std::path::PathBuf;

/// Set (to anything but `0`) where the corpus must be present.
pub const REQUIRE: &str = "GONOGO_REQUIRE_CORPUS";

/// The start of the line a test prints when it did not run; scripts/test counts these.
pub const NOT_RUN: &str = "corpus test not run:";

/// `../shared/corpus/<relative>`, or `None` (after saying so) when it is absent and not required.
pub fn dir(relative: &str) -> Option<PathBuf> {
    let root = super::repo_root().join("../shared/corpus");
    let dir = root.join(relative);
    if dir.is_dir() {
        return Some(dir);
    }
    let required = std::env::var_os(REQUIRE).is_some_and(|v| !v.is_empty() && v != "0");
    assert!(
        !required,
        "{REQUIRE} is set, but the shared corpus is missing at {}: this test reads third-party files kept beside the repository (../shared/corpus), never in it",
        dir.display()
    );
    // Straight to the process's stderr, past the test harness's output capture (which only takes
    // print!/eprint!), so a passing run still shows which test did not run and why.
    let test = std::thread::current()
        .name()
        .unwrap_or("a corpus test")
        .to_string();
    let _ = writeln!(
        std::io::stderr(),
        "{NOT_RUN} {test}: ../shared/corpus/{relative} not found"
    );
    None
}
