//! The fuzz targets (`fuzz/targets.rs`) on a stable toolchain: every input of `fuzz/corpus/<target>/`
//! is replayed, then mutated with a small deterministic generator. The property: no panic, and
//! every input answered within [`INPUT_BOUND`].
//!
//! The normal test run is short (a fixed number of mutations per target, one fixed seed, so it
//! is the same run every time). Fuzz for longer with
//! `GONOGO_FUZZ_SECONDS=600 cargo test --release --test suite fuzz:: -- --nocapture`
//! (seconds per target; a random seed unless `GONOGO_FUZZ_SEED` is set). An input that fails is
//! written to `fuzz/artifacts/<target>/`; once fixed, move it into `fuzz/corpus/<target>/` so
//! every later run replays it.

#[allow(dead_code)]
#[path = "../fuzz/targets.rs"]
mod targets;

use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The longest one input may take. Inputs are at most [`MAX_INPUT_BYTES`]; the parsers answer
/// those in milliseconds, so this only catches a hang or a superlinear blow-up, never a slow
/// machine.
const INPUT_BOUND: Duration = Duration::from_secs(30);

/// Mutations per target in a normal test run.
const DEFAULT_CASES: usize = 400;

/// Mutated inputs stay under this size, so one case is quick.
const MAX_INPUT_BYTES: usize = 64 * 1024;

/// splitmix64: a small, well-mixed deterministic generator (no dependency needed).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Fragments that reach the corners of YAML, SQL and schema grammars: nesting, quoting,
/// anchors, numbers at and past every limit.
const TOKENS: &[&str] = &[
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "'",
    "\"",
    "`",
    "\\",
    ";",
    ",",
    ":",
    ": ",
    "- ",
    "\n",
    "\n  ",
    "\t",
    "---\n",
    "...\n",
    "#",
    "--",
    "/*",
    "*/",
    "$$",
    "&a ",
    "*a",
    "<<: *a",
    "!!str ",
    "|\n",
    ">-\n",
    "? ",
    "%YAML 1.2\n",
    "\u{feff}",
    "\u{0}",
    "é",
    "0",
    "-1",
    "1e20",
    "-1e309",
    ".nan",
    ".inf",
    "9223372036854775807",
    "-9223372036854775808",
    "18446744073709551616",
    "2147483648",
    "4294967296",
    "0x7fffffff",
    "1.7976931348623157e308",
    "99999999999h",
    "0s",
    "120s",
    "env:HOME",
    "null",
    "~",
    "true",
    "NOT ",
    "SELECT ",
    "CREATE TABLE t (",
    "ALTER TABLE t ",
    "ADD COLUMN c INT",
    "DEFAULT ",
    "CONCURRENTLY ",
    "DELIMITER //\n",
    "BEGIN;",
    "COMMIT;",
    "$ref",
    "\"$ref\": \"#/",
    "\"type\": ",
    "\"items\": ",
    "allOf",
    "oneOf",
    "message M {",
    "oneof o {",
    "repeated ",
    " = 1;",
    "import \"",
    "package a.b;",
    "syntax = \"proto3\";",
    "{\"type\": \"record\", \"name\": \"R\", \"fields\": [",
    "\"union\"",
    "replicas: ",
    "terminationGracePeriodSeconds: ",
    "periodSeconds: ",
    "maxSurge: ",
    "25%",
    "setWeight: ",
    "kind: Deployment\n",
    "apiVersion: apps/v1\n",
    "@@new@@\n",
];

fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(8) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 | 2 => {
                let token = rng.pick(TOKENS).as_bytes();
                out.splice(at..at, token.iter().copied());
            }
            3 => {
                let end = (at + rng.below(64)).min(out.len());
                out.drain(at..end);
            }
            4 => {
                // Repeat a slice: nesting and long runs, the shapes that find superlinear code.
                let end = (at + 1 + rng.below(16)).min(out.len());
                let slice = out[at.min(end)..end].to_vec();
                let most = if rng.below(4) == 0 { 2000 } else { 8 };
                let times = 1 + rng.below(most);
                for _ in 0..times {
                    out.splice(at..at, slice.iter().copied());
                }
            }
            5 => {
                let other = rng.pick(corpus);
                let from = rng.below(other.len() + 1);
                let end = (from + rng.below(256)).min(other.len());
                out.splice(at..at, other[from..end].iter().copied());
            }
            6 => out.truncate(at),
            _ => {
                let token = rng.pick(TOKENS).as_bytes();
                let depth = 1 + rng.below(200);
                let mut wrapped = token.repeat(depth);
                wrapped.extend_from_slice(&out[at..]);
                out.truncate(at);
                out.extend(wrapped);
            }
        }
    }
    out.truncate(MAX_INPUT_BYTES);
    out
}

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target)
}

/// The seeds of a target: its own `fuzz/corpus/<target>/` (limit cases and what fuzzing found),
/// then the rule fixtures of the same kind of input, read where they are rather than copied.
fn load_corpus(target: &str) -> Vec<(String, Vec<u8>)> {
    let mut entries = crate::common::files_under(&corpus_dir(target));
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut seeds = Vec::new();
    match target {
        "pg" | "mysql" => seeds = crate::common::files_under(&fixtures.join("migrations")),
        "manifests" => {
            for check in ["rollout", "readiness", "grace", "rollback"] {
                seeds.extend(crate::common::files_under(&fixtures.join(check)));
            }
        }
        _ => {}
    }
    // MySQL fixtures say so in their file name (`fail-mysql.sql`, `mysql-*` rule folders).
    let is_mysql = |p: &Path| p.to_string_lossy().contains("mysql");
    seeds.retain(|p| match target {
        "pg" => p.extension().is_some_and(|e| e == "sql") && !is_mysql(p),
        "mysql" => p.extension().is_some_and(|e| e == "sql") && is_mysql(p),
        _ => p.extension().is_some_and(|e| e == "yaml" || e == "yml"),
    });
    entries.extend(seeds);
    entries
        .into_iter()
        .map(|p| {
            let name = p
                .strip_prefix(env!("CARGO_MANIFEST_DIR"))
                .unwrap_or(&p)
                .to_string_lossy()
                .into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect()
}

/// Run one input on its own thread: a panic or an input past [`INPUT_BOUND`] is the failure,
/// described. (A hung thread cannot be stopped; the test fails and the process ends with it.)
fn run_one(target: fn(&[u8]), input: &[u8]) -> Result<Duration, String> {
    let (sender, receiver) = mpsc::channel();
    let data = input.to_vec();
    let started = Instant::now();
    std::thread::Builder::new()
        .name("fuzz-case".to_string())
        .spawn(move || {
            let outcome = std::panic::catch_unwind(|| target(&data));
            let _ = sender.send(outcome.map_err(|panic| {
                panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "a panic".to_string())
            }));
        })
        .expect("a thread for the case");
    match receiver.recv_timeout(INPUT_BOUND) {
        Ok(Ok(())) => Ok(started.elapsed()),
        Ok(Err(message)) => Err(format!("panicked: {message}")),
        Err(_) => Err(format!("no answer within {INPUT_BOUND:?}")),
    }
}

/// Keep a failing input where the next run (and cargo-fuzz) can find it.
fn save_failure(target: &str, input: &[u8]) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/artifacts")
        .join(target);
    std::fs::create_dir_all(&dir).unwrap();
    let mut hash = 0xcbf2_9ce4_8422_2325u64; // FNV-1a: a stable file name for the input
    for byte in input {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3);
    }
    let path = dir.join(format!("failure-{hash:016x}"));
    std::fs::write(&path, input).unwrap();
    path
}

fn fuzz_target(name: &str) {
    let target = targets::TARGETS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, f)| *f)
        .expect("a target of that name");
    let corpus = load_corpus(name);
    assert!(!corpus.is_empty(), "fuzz/corpus/{name} has seed inputs");
    let mut failures = Vec::new();
    for (file, input) in &corpus {
        if let Err(why) = run_one(target, input) {
            failures.push(format!("{file}: {why}"));
        }
    }
    let seconds: Option<u64> = std::env::var("GONOGO_FUZZ_SECONDS").ok().map(|s| {
        s.parse()
            .expect("GONOGO_FUZZ_SECONDS is a number of seconds")
    });
    let seed = std::env::var("GONOGO_FUZZ_SEED")
        .ok()
        .map(|s| s.parse::<u64>().expect("GONOGO_FUZZ_SEED is a number"))
        .unwrap_or_else(|| match seconds {
            // A long run explores: a new seed each time, printed so a failure can be replayed.
            Some(_) => std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64),
            None => 0x5EED_0000 + name.len() as u64,
        });
    let mut rng = Rng(seed);
    let seeds: Vec<Vec<u8>> = corpus.into_iter().map(|(_, bytes)| bytes).collect();
    let started = Instant::now();
    let mut cases = 0usize;
    loop {
        let more = match seconds {
            Some(s) => started.elapsed() < Duration::from_secs(s),
            None => cases < DEFAULT_CASES,
        };
        if !more || failures.len() >= 5 {
            break;
        }
        let base = rng.pick(&seeds).clone();
        let input = mutate(&mut rng, &base, &seeds);
        cases += 1;
        if let Err(why) = run_one(target, &input) {
            let saved = save_failure(name, &input);
            failures.push(format!("{}: {why}", saved.display()));
        }
    }
    if seconds.is_some() {
        eprintln!(
            "fuzz {name}: {cases} cases in {:?}, seed {seed}",
            started.elapsed()
        );
    }
    assert!(
        failures.is_empty(),
        "fuzz target `{name}` (seed {seed}):\n{}",
        failures.join("\n")
    );
}

#[test]
fn config() {
    fuzz_target("config");
}

#[test]
fn manifests() {
    fuzz_target("manifests");
}

#[test]
fn pg_migrations() {
    fuzz_target("pg");
}

#[test]
fn mysql_migrations() {
    fuzz_target("mysql");
}

#[test]
fn openapi() {
    fuzz_target("openapi");
}

#[test]
fn avro() {
    fuzz_target("avro");
}

#[test]
fn jsonschema() {
    fuzz_target("jsonschema");
}

#[test]
fn proto() {
    fuzz_target("proto");
}

/// Every target has a test above and a corpus folder, and every corpus folder a target.
#[test]
fn every_target_has_a_corpus_and_a_cargo_fuzz_entry() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz");
    for (name, _) in targets::TARGETS {
        assert!(corpus_dir(name).is_dir(), "fuzz/corpus/{name}");
        assert!(
            root.join("fuzz_targets")
                .join(format!("{name}.rs"))
                .is_file(),
            "fuzz/fuzz_targets/{name}.rs"
        );
    }
    for entry in std::fs::read_dir(root.join("corpus")).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        assert!(
            targets::TARGETS.iter().any(|(n, _)| *n == name),
            "fuzz/corpus/{name} has no target"
        );
    }
}
