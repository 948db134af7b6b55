//! Speed of the Kubernetes checks over the shared corpus of real manifests (94 files from 13
//! projects): parsing into the model with positions, then the `rollout` rules, in-process; and
//! `gonogo check --only rollout` as a command; and a 50 MB stream piped into `gonogo check`
//! (all four Kubernetes checks), with its peak memory. Run with `cargo bench --bench k8s`;
//! figures are in README.md.

use gonogo::k8s::{Manifests, parse_stream};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The corpus lives beside our checkout, never in it: without it this benchmark cannot run.
fn corpus() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus/k8s");
    if !dir.is_dir() {
        eprintln!(
            "benchmark not run: {} not found (the third-party corpus beside the repository)",
            dir.display()
        );
        std::process::exit(2);
    }
    dir
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

    large_stream();
}

/// 50 MB of Deployments and PDBs on stdin, the way `helm template` output arrives: wall time
/// and the peak resident memory of the gonogo process.
fn large_stream() {
    let mut input = String::new();
    let mut count = 0;
    while input.len() < 50 * 1024 * 1024 {
        let name = format!("service-{count:06}");
        input.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: 3\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      containers:\n        - name: app\n          image: registry.example.com/{name}:1.0.0\n          readinessProbe: {{httpGet: {{path: /ready, port: 8080}}}}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: {name}\nspec:\n  maxUnavailable: 1\n  selector:\n    matchLabels: {{app: {name}}}\n"
        ));
        count += 1;
    }
    let project = tempfile::tempdir().unwrap();
    std::fs::write(
        project.path().join("gonogo.yaml"),
        "checks:\n  kubernetes:\n    manifests: [\"-\"]\n",
    )
    .unwrap();
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_gonogo"))
        .arg("check")
        .arg(project.path())
        .args(["--only", "readiness,grace,rollout,rollback"])
        .args(["--format", "json", "--deadline", "10m"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .expect("gonogo runs");
    let mut stdin = child.stdin.take().unwrap();
    let bytes = input.len();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let status = child.wait().unwrap();
    let _ = writer.join();
    let elapsed = started.elapsed();
    assert!(status.code().is_some_and(|c| c < 2), "{status}");
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a rusage struct into the pointer it is given.
    let peak_kib = unsafe {
        libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr());
        usage.assume_init().ru_maxrss
    };
    println!(
        "{:.0} MB stream on stdin, 4 checks (command) {:>7.1} s   peak RSS {} MiB ({count} workloads)",
        bytes as f64 / 1e6,
        elapsed.as_secs_f64(),
        peak_kib / 1024
    );
}
