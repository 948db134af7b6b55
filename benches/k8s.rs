//! Speed of the Kubernetes checks over the shared corpus of real manifests (94 files from 13
//! projects): parsing into the model with positions, then the `rollout` rules, in-process; and
//! `gonogo check --only rollout` as a command. Run with `cargo bench --bench k8s`; figures are in
//! README.md.

use gonogo::k8s::{Manifests, parse_stream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/k8s")
}

fn yaml_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("../shared/corpus/k8s is readable")
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            yaml_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "yaml" || e == "yml") {
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
    yaml_files(&root, &mut paths);
    let texts: Vec<(String, String)> = paths
        .iter()
        .map(|p| {
            (
                p.to_string_lossy().to_string(),
                std::fs::read_to_string(p).unwrap(),
            )
        })
        .collect();
    let bytes: usize = texts.iter().map(|(_, t)| t.len()).sum();
    println!(
        "corpus: {} files, {:.2} MB",
        texts.len(),
        bytes as f64 / 1e6
    );

    let mut samples = Vec::new();
    let mut workloads = 0;
    for _ in 0..10 {
        let started = Instant::now();
        let mut manifests = Manifests::default();
        for (path, text) in &texts {
            let _ = parse_stream(&mut manifests, path, text);
        }
        let analysis = gonogo::checks::rollout::analyze(&manifests);
        workloads = manifests.workloads.len();
        std::hint::black_box(analysis);
        samples.push(started.elapsed());
    }
    println!(
        "parse + rollout rules (in-process)        {:>7.1} ms   ({workloads} workloads)",
        median(samples).as_secs_f64() * 1000.0
    );

    let project = tempfile::tempdir().unwrap();
    let config = project.path().join("gonogo.yaml");
    std::fs::write(
        &config,
        "checks:\n  kubernetes:\n    manifests: [\"**/*.yaml\", \"**/*.yml\"]\n",
    )
    .unwrap();
    let mut samples = Vec::new();
    for _ in 0..10 {
        let started = Instant::now();
        let output = Command::new(env!("CARGO_BIN_EXE_gonogo"))
            .arg("check")
            .arg(&root)
            .arg("--config")
            .arg(&config)
            .args(["--only", "rollout", "--format", "json"])
            .output()
            .expect("gonogo runs");
        samples.push(started.elapsed());
        assert!(
            output.status.code().is_some_and(|c| c < 2),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    println!(
        "gonogo check --only rollout (command)     {:>7.1} ms",
        median(samples).as_secs_f64() * 1000.0
    );
}
