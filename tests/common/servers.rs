//! Real servers from the package registries (uvicorn and gunicorn from PyPI, Node's and Go's
//! standard HTTP servers from Debian), installed by `scripts/install-deps` into
//! `target/test-servers/`. Like the corpus ([`super::corpus`]): a test whose server is missing
//! fails when `GONOGO_REQUIRE_SERVERS` is set (`scripts/test` sets it after installing them),
//! and otherwise says on stderr that it did not run, in a line `scripts/test` counts.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

pub const REQUIRE: &str = "GONOGO_REQUIRE_SERVERS";
pub const NOT_RUN: &str = "server test not run:";

/// `target/test-servers` in the checkout (not `CARGO_TARGET_DIR`: scripts/install-deps does not
/// know it).
pub fn root() -> PathBuf {
    super::repo_root().join("target/test-servers")
}

/// `tests/servers/<name>`: the apps the servers run.
pub fn app(name: &str) -> PathBuf {
    super::repo_root().join("tests/servers").join(name)
}

/// The path of a program, or `None` (after saying so) when it is missing and not required.
pub fn program(path: Option<PathBuf>, what: &str) -> Option<PathBuf> {
    if let Some(path) = path.filter(|p| p.exists()) {
        return Some(path);
    }
    super::missing_input(
        REQUIRE,
        NOT_RUN,
        &format!("{what} is missing: scripts/install-deps installs it"),
        &format!("{what} not installed (scripts/install-deps installs it)"),
    );
    None
}

/// A program in the test venv (`uvicorn`, `gunicorn`).
pub fn venv(tool: &str) -> Option<PathBuf> {
    program(
        Some(root().join("venv/bin").join(tool)),
        &format!("{tool} (target/test-servers/venv)"),
    )
}

pub fn on_path(tool: &str) -> Option<PathBuf> {
    let found = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(tool))
            .find(|p| p.is_file())
    });
    program(found, tool)
}

/// tests/servers/go_server.go built once per test run with the machine's Go.
pub fn go_server() -> Option<PathBuf> {
    let go = on_path("go")?;
    static BUILT: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = BUILT.get_or_init(|| {
        let out = root().join("go");
        std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
        let binary = out.join("go_server");
        let output = Command::new(go)
            .args(["build", "-o"])
            .arg(&binary)
            .arg(app("go_server.go"))
            // A lone file, no module: GOPATH mode; the build cache beside the binary.
            .env("GO111MODULE", "off")
            .env("GOCACHE", out.join("cache"))
            .env("GOPATH", out.join("gopath"))
            .current_dir(&out)
            .output()
            .map_err(|e| e.to_string())?;
        if output.status.success() {
            Ok(binary)
        } else {
            Err(String::from_utf8_lossy(&output.stderr).into_owned())
        }
    });
    match built {
        Ok(path) => Some(path.clone()),
        Err(e) => panic!("go build tests/servers/go_server.go failed: {e}"),
    }
}
