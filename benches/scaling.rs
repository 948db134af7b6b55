//! How the cost grows with the size of one input: each curve runs `gonogo check` on a generated
//! project at n, 2n, 4n and 8n items and prints the wall time, the time per item and the peak
//! resident memory of the gonogo process. A flat time per item is linear growth; a time per item
//! that doubles with n is the quadratic step issue 24 was about. Needs no corpus.
//!
//! Run with `cargo bench --bench scaling` (release build), or `-- <word>` for the curves whose
//! name holds it; figures are in README.md (Speed).
//!
//! Curves:
//! - one PostgreSQL migration of seed data: a CREATE TABLE and n `INSERT … VALUES` statements
//!   (the shape of a real seed file; squawk's time on the same files is in README);
//! - one PostgreSQL migration of n schema changes on n existing tables (ADD COLUMN, CREATE INDEX
//!   CONCURRENTLY, SET NOT NULL via a CHECK): every statement is judged by the lock rules;
//! - one manifest stream of n Deployments, each with its Service, PodDisruptionBudget and
//!   HorizontalPodAutoscaler (the shape of an umbrella chart's `helm template` output), through
//!   the four Kubernetes checks;
//! - the same stream where every Deployment is one side of a plain blue-green pair
//!   (`color: blue` / `color: green`, a Service selecting the green side): every workload is
//!   searched for its pair.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs per size; the median is printed.
const RUNS: usize = 3;

struct Curve {
    name: &'static str,
    item: &'static str,
    sizes: [usize; 4],
    /// Writes the project for `n` items into the directory.
    write: fn(&Path, usize),
    only: &'static str,
}

fn main() {
    let curves = [
        Curve {
            name: "seed-data migration (CREATE TABLE + n INSERTs)",
            item: "statement",
            sizes: [5_000, 10_000, 20_000, 40_000],
            write: seed_migration,
            only: "migrations",
        },
        Curve {
            name: "schema-change migration (n ALTER/CREATE INDEX on n tables)",
            item: "statement",
            sizes: [1_000, 2_000, 4_000, 8_000],
            write: ddl_migration,
            only: "migrations",
        },
        Curve {
            name: "manifest stream (n Deployments + Service, PDB, HPA)",
            item: "Deployment",
            sizes: [1_000, 2_000, 4_000, 8_000],
            write: manifest_stream,
            only: "readiness,grace,rollout,rollback",
        },
        Curve {
            name: "blue-green stream (n Deployments in n/2 colour pairs + Service, PDB, HPA)",
            item: "Deployment",
            sizes: [1_000, 2_000, 4_000, 8_000],
            write: blue_green_stream,
            only: "readiness,grace,rollout,rollback",
        },
    ];
    // `cargo bench --bench scaling -- blue-green` runs the curves whose name holds a word given
    // (cargo passes `--bench` itself, which is no word).
    let words: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    for curve in &curves {
        if !words.is_empty() && !words.iter().any(|w| curve.name.contains(w.as_str())) {
            continue;
        }
        println!("{}", curve.name);
        println!(
            "  {:>8}  {:>9}  {:>14}  {:>9}",
            "n", "time", "per item", "peak RSS"
        );
        for n in curve.sizes {
            let project = tempfile::tempdir().expect("a temporary directory");
            (curve.write)(project.path(), n);
            let mut times = Vec::new();
            let mut peak_kib = 0;
            for _ in 0..RUNS {
                let (elapsed, kib) = run(project.path(), curve.only);
                times.push(elapsed);
                peak_kib = peak_kib.max(kib);
            }
            times.sort();
            let median = times[RUNS / 2];
            println!(
                "  {:>8}  {:>7.2} s  {:>9.1} µs/{}  {:>5} MiB",
                n,
                median.as_secs_f64(),
                median.as_secs_f64() * 1e6 / n as f64,
                curve.item,
                peak_kib / 1024
            );
        }
    }
}

/// One `gonogo check` in `project`: its wall time and its own peak resident memory (wait4's
/// rusage is the child's alone, unlike getrusage(RUSAGE_CHILDREN), which keeps the maximum of
/// every child so far).
#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4 below, which also gives its rusage"
)]
fn run(project: &Path, only: &str) -> (Duration, i64) {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_gonogo"))
        .arg("check")
        .arg(project)
        .args(["--only", only, "--format", "json", "--deadline", "10m"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("gonogo runs");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: wait4 writes the exit status and a rusage struct into the pointers it is given;
    // the child is ours and not waited for elsewhere.
    let (waited, usage) = unsafe {
        let waited = libc::wait4(pid, &mut status, 0, usage.as_mut_ptr());
        (waited, usage.assume_init())
    };
    let elapsed = started.elapsed();
    assert_eq!(waited, pid, "wait4 on gonogo failed");
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    assert!(
        code.is_some_and(|c| c < 2),
        "gonogo check did not give a verdict (status {status}) in {}",
        project.display()
    );
    (elapsed, usage.ru_maxrss)
}

fn migrations_config(project: &Path) {
    std::fs::create_dir_all(project.join("migrations")).unwrap();
    std::fs::write(
        project.join("gonogo.yaml"),
        "checks:\n  migrations:\n    paths: [migrations]\n    dialect: postgres\n",
    )
    .unwrap();
}

fn seed_migration(project: &Path, n: usize) {
    migrations_config(project);
    let mut sql = String::from(
        "CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, price numeric(10,2), tags text[]);\n",
    );
    for i in 0..n {
        sql.push_str(&format!(
            "INSERT INTO items (id, name, price, tags) VALUES ({i}, 'item number {i} with a name', {}.99, ARRAY['a','b']);\n",
            i % 1000
        ));
    }
    std::fs::write(project.join("migrations/001_seed.sql"), sql).unwrap();
}

fn ddl_migration(project: &Path, n: usize) {
    migrations_config(project);
    // The tables exist before this deploy (an older file), so every change is judged.
    let mut tables = String::new();
    for i in 0..n {
        tables.push_str(&format!(
            "CREATE TABLE t{i} (id bigint PRIMARY KEY, email text, created_at timestamptz);\n"
        ));
    }
    std::fs::write(project.join("migrations/001_tables.sql"), tables).unwrap();
    let mut sql = String::new();
    for i in 0..n {
        sql.push_str(&match i % 3 {
            0 => format!("ALTER TABLE t{i} ADD COLUMN note text;\n"),
            1 => format!("CREATE INDEX CONCURRENTLY t{i}_email ON t{i} (email);\n"),
            _ => format!(
                "ALTER TABLE t{i} ADD CONSTRAINT t{i}_email_nn CHECK (email IS NOT NULL) NOT VALID;\n"
            ),
        });
    }
    std::fs::write(project.join("migrations/002_changes.sql"), sql).unwrap();
    // Only the second file is this deploy's: mark the first as applied through git.
    git(project, &["init", "-q"]);
    git(
        project,
        &["add", "gonogo.yaml", "migrations/001_tables.sql"],
    );
    git(project, &["commit", "-q", "-m", "v1"]);
    git(project, &["tag", "v1"]);
    std::fs::write(
        project.join("gonogo.yaml"),
        "base: v1\nchecks:\n  migrations:\n    paths: [migrations]\n    dialect: postgres\n",
    )
    .unwrap();
}

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.com",
        ])
        .args(args)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

fn manifest_stream(project: &Path, n: usize) {
    std::fs::write(
        project.join("gonogo.yaml"),
        "checks:\n  kubernetes:\n    manifests: [deploy.yaml]\n",
    )
    .unwrap();
    let mut yaml = String::new();
    for i in 0..n {
        let name = format!("service-{i:05}");
        yaml.push_str(&format!(
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: 3\n  selector:\n    matchLabels: {{app: {name}}}\n  template:\n    metadata:\n      labels: {{app: {name}}}\n    spec:\n      terminationGracePeriodSeconds: 40\n      containers:\n        - name: app\n          image: registry.example.com/{name}@sha256:{:064x}\n          ports: [{{containerPort: 8080}}]\n          readinessProbe: {{httpGet: {{path: /ready, port: 8080}}, periodSeconds: 5}}\n          livenessProbe: {{httpGet: {{path: /live, port: 8080}}, periodSeconds: 10}}\n          lifecycle: {{preStop: {{sleep: {{seconds: 10}}}}}}\n---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {name}\nspec:\n  selector: {{app: {name}}}\n  ports: [{{port: 80, targetPort: 8080}}]\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: {name}\nspec:\n  maxUnavailable: 1\n  selector:\n    matchLabels: {{app: {name}}}\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: {name}\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {name}}}\n  minReplicas: 3\n  maxReplicas: 10\n",
            i + 1
        ));
    }
    std::fs::write(project.join("deploy.yaml"), yaml).unwrap();
}

fn blue_green_stream(project: &Path, n: usize) {
    std::fs::write(
        project.join("gonogo.yaml"),
        "checks:\n  kubernetes:\n    manifests: [deploy.yaml]\n",
    )
    .unwrap();
    let mut yaml = String::new();
    for i in 0..n / 2 {
        let app = format!("service-{i:05}");
        for colour in ["blue", "green"] {
            yaml.push_str(&format!(
                "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {app}-{colour}\nspec:\n  replicas: 3\n  selector:\n    matchLabels: {{app: {app}, color: {colour}}}\n  template:\n    metadata:\n      labels: {{app: {app}, color: {colour}}}\n    spec:\n      terminationGracePeriodSeconds: 40\n      containers:\n        - name: app\n          image: registry.example.com/{app}@sha256:{:064x}\n          ports: [{{containerPort: 8080}}]\n          readinessProbe: {{httpGet: {{path: /ready, port: 8080}}, periodSeconds: 5}}\n          lifecycle: {{preStop: {{sleep: {{seconds: 10}}}}}}\n---\napiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata:\n  name: {app}-{colour}\nspec:\n  maxUnavailable: 1\n  selector:\n    matchLabels: {{app: {app}, color: {colour}}}\n---\napiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata:\n  name: {app}-{colour}\nspec:\n  scaleTargetRef: {{apiVersion: apps/v1, kind: Deployment, name: {app}-{colour}}}\n  minReplicas: 3\n  maxReplicas: 10\n",
                i + 1
            ));
        }
        yaml.push_str(&format!(
            "---\napiVersion: v1\nkind: Service\nmetadata:\n  name: {app}\nspec:\n  selector: {{app: {app}, color: green}}\n  ports: [{{port: 80, targetPort: 8080}}]\n"
        ));
    }
    std::fs::write(project.join("deploy.yaml"), yaml).unwrap();
}
