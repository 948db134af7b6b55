//! The third-party corpus: real inputs written by others (`../shared/corpus`, beside our own checkout
//! and CI, never beside a user's clone). A test that reads it asks [`dir`] first:
//!
//! - the folder is there: the test runs and is counted like any other;
//! - it is missing and `GONOGO_REQUIRE_CORPUS` is set (`.ci/run` sets it): the test fails, so CI can
//!   never pass by skipping the corpus;
//! - it is missing otherwise (a user's fresh clone): the test returns early and says so on stderr in
//!   a line `scripts/test` counts for its closing summary — never a silent skip.

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
    super::missing_input(
        REQUIRE,
        NOT_RUN,
        &format!(
            "the shared corpus is missing at {}: this test reads third-party files kept beside the repository (../shared/corpus), never in it",
            dir.display()
        ),
        &format!("../shared/corpus/{relative} not found"),
    );
    None
}
