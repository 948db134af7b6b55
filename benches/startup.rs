//! Release-mode benchmark of what a user waits for: `gonogo --version`, a check of the bundled
//! example with only static checks (plugins skipped) and the full example (two shell plugins).
//! Reports the median wall time and the mean CPU time (user + system, from getrusage of the
//! children) per run. Run with `cargo bench --bench startup`; figures are in README.md.

use std::process::Command;
use std::time::{Duration, Instant};

const RUNS: usize = 50;

fn children_cpu() -> Duration {
    // SAFETY: getrusage writes into the zeroed struct we pass and touches nothing else.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage);
        usage
    };
    let micros = |t: libc::timeval| t.tv_sec as u64 * 1_000_000 + t.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

fn bench(name: &str, args: &[&str]) {
    let binary = env!("CARGO_BIN_EXE_gonogo");
    let root = env!("CARGO_MANIFEST_DIR");
    let mut walls = Vec::with_capacity(RUNS);
    let cpu_before = children_cpu();
    for _ in 0..RUNS {
        let started = Instant::now();
        let output = Command::new(binary)
            .args(args)
            .current_dir(root)
            .env("GONOGO_TODAY", "2026-11-23")
            .output()
            .expect("gonogo runs");
        walls.push(started.elapsed());
        assert!(
            output.status.code().is_some_and(|c| c < 2),
            "{name}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let cpu = (children_cpu() - cpu_before) / RUNS as u32;
    walls.sort();
    println!(
        "{name:<44} median wall {:>7.2} ms   mean CPU {:>7.2} ms   ({RUNS} runs)",
        walls[RUNS / 2].as_secs_f64() * 1000.0,
        cpu.as_secs_f64() * 1000.0
    );
}

fn main() {
    // `cargo bench` passes --bench; a plain harness ignores its arguments.
    bench("gonogo --version", &["--version"]);
    bench(
        "check examples/shop --skip plugin (static)",
        &[
            "check",
            "examples/shop",
            "--skip",
            "plugin",
            "--format",
            "json",
        ],
    );
    bench(
        "check examples/shop (with 2 shell plugins)",
        &["check", "examples/shop", "--format", "json"],
    );
}
