//! Throughput of the migrations check over the shared corpus of real PostgreSQL migrations
//! (~1,100 files, 1.8 MB), in-process and as a command, compared in the same run with squawk
//! (`pip install squawk-cli`) over the same files. Run with `cargo bench --bench migrations`;
//! figures are in README.md.

use gonogo::checks::migrations::{MigrationFile, Settings, analyze_files};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The corpus lives beside our checkout, never in it: without it this benchmark cannot run.
fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/pg-migrations");
    if !dir.is_dir() {
        eprintln!(
            "benchmark not run: {} not found (the third-party corpus beside the repository)",
            dir.display()
        );
        std::process::exit(2);
    }
    dir
}

fn sql_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("../shared/corpus/pg-migrations is readable")
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            sql_files(&path, out);
        } else if path.to_string_lossy().contains(".sql") {
            out.push(path);
        }
    }
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let root = corpus();
    let mut paths = Vec::new();
    sql_files(&root, &mut paths);
    let files: Vec<MigrationFile> = paths
        .iter()
        .filter_map(|p| {
            let text = String::from_utf8(std::fs::read(p).ok()?).ok()?;
            Some(MigrationFile {
                path: p.strip_prefix(&root).unwrap().to_string_lossy().to_string(),
                text,
                in_deploy: true,
                transaction: None,
            })
        })
        .collect();
    let bytes: usize = files.iter().map(|f| f.text.len()).sum();
    let mb = bytes as f64 / 1_000_000.0;
    println!("corpus: {} files, {:.2} MB", files.len(), mb);

    // In-process: parse + analyse each file on its own, as the check does for a deploy.
    let settings = Settings::default();
    let mut samples = Vec::new();
    let mut findings = 0;
    for _ in 0..5 {
        let started = Instant::now();
        findings = 0;
        for file in &files {
            findings += analyze_files(std::slice::from_ref(file), &settings, false).len();
        }
        samples.push(started.elapsed());
    }
    let in_process = median(samples);
    println!(
        "gonogo analysis (in-process, 1 thread)   {:>8.1} ms   {:>6.1} MB/s   {findings} findings",
        in_process.as_secs_f64() * 1000.0,
        mb / in_process.as_secs_f64()
    );

    // As a command: `gonogo check` with a config that lists the corpus.
    let project = tempfile::tempdir().unwrap();
    let config = project.path().join("gonogo.yaml");
    std::fs::write(
        &config,
        "checks:\n  migrations:\n    paths: [\"**/*.sql\", \"**/*.sql.postgres\"]\n",
    )
    .unwrap();
    let mut samples = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_gonogo"))
            .arg("check")
            .arg(&root)
            .arg("--config")
            .arg(&config)
            .args(["--only", "migrations", "--format", "json"])
            .output()
            .expect("gonogo runs");
        samples.push(started.elapsed());
        assert!(
            output.status.code().is_some_and(|c| c < 2),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let command = median(samples);
    println!(
        "gonogo check --only migrations (command) {:>8.1} ms   {:>6.1} MB/s",
        command.as_secs_f64() * 1000.0,
        mb / command.as_secs_f64()
    );

    // squawk over the same files, one process.
    let squawk = Command::new("squawk").arg("--version").output();
    if squawk.is_err() {
        println!("squawk: not installed (pip install squawk-cli); comparison skipped");
        return;
    }
    let mut samples = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        let _ = Command::new("squawk")
            .args(&paths)
            .output()
            .expect("squawk runs");
        samples.push(started.elapsed());
    }
    let squawk_time = median(samples);
    let version = String::from_utf8_lossy(&squawk.unwrap().stdout)
        .trim()
        .to_string();
    println!(
        "{version} (command)                  {:>8.1} ms   {:>6.1} MB/s",
        squawk_time.as_secs_f64() * 1000.0,
        mb / squawk_time.as_secs_f64()
    );
}
