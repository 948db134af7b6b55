//! Speed of the database side of `compat` on a code base of realistic size: a git repository with
//! 40 tables, 2,000 source files (Python with SQL strings and Django models, Rust with sqlx
//! queries and plain identifiers; 18 MB) tagged as the deployed version, and a migration that
//! drops, renames and constrains 20 columns. Times `gonogo check --only compat` as a command (the
//! git grep on the ref, reading the candidate files, ranking every use, judging), and the ranking
//! alone in-process over every file. Run with `cargo bench --bench compat_database`; figures are in
//! README.md.

use gonogo::checks::compat::database::search;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const TABLES: usize = 40;
const FILES: usize = 2_000;

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=b", "-c", "user.email=b@example.com"])
        .args(["-c", "commit.gpgsign=false"])
        .args(args)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

fn write(root: &Path, path: &str, text: &str) {
    let full = root.join(path);
    std::fs::create_dir_all(full.parent().unwrap()).unwrap();
    std::fs::write(full, text).unwrap();
}

fn columns(table: usize) -> Vec<String> {
    (0..8).map(|c| format!("t{table}_col{c}")).collect()
}

/// One Python module: queries and a model over two tables, padded with ordinary code.
fn python(index: usize) -> String {
    let (a, b) = (index % TABLES, (index * 7 + 3) % TABLES);
    let cols = columns(a);
    let mut text = format!(
        "import db\nfrom django.db import models\n\n\nclass Table{a}Row{index}(models.Model):\n"
    );
    for column in &cols[..4] {
        text.push_str(&format!("    {column} = models.TextField(null=True)\n"));
    }
    text.push_str(&format!(
        "\n    class Meta:\n        db_table = \"table_{a}\"\n\n\ndef load_{index}(key):\n    return db.query(\"SELECT {} FROM table_{a} WHERE id = %s\", key)\n\n\ndef save_{index}(a, b):\n    db.execute(\"INSERT INTO table_{b} ({}, {}) VALUES (%s, %s)\", (a, b))\n",
        cols[..3].join(", "),
        columns(b)[0],
        columns(b)[1],
    ));
    for line in 0..60 {
        text.push_str(&format!(
            "\n\ndef helper_{index}_{line}(value, total):\n    # keeps the module the size of real code\n    return [item * {line} for item in value if item > total]\n"
        ));
    }
    text
}

/// One Rust module: an sqlx query and functions whose parameters share column names.
fn rust(index: usize) -> String {
    let a = (index * 3 + 1) % TABLES;
    let cols = columns(a);
    let mut text = format!(
        "pub async fn fetch_{index}(pool: &PgPool) -> sqlx::Result<Vec<Row>> {{\n    sqlx::query_as(\"SELECT id, {} FROM table_{a}\").fetch_all(pool).await\n}}\n",
        cols[4..6].join(", ")
    );
    for line in 0..60 {
        text.push_str(&format!(
            "\npub fn step_{index}_{line}({}: i64, total: i64) -> i64 {{\n    // a parameter that shares a column's name is not a use of the column\n    {} * {line} + total\n}}\n",
            cols[6], cols[6]
        ));
    }
    text
}

fn build_repo(root: &Path) -> usize {
    write(
        root,
        "gonogo.yaml",
        "checks:\n  migrations:\n    paths: [\"db/migrations/*.sql\"]\n  compat:\n    database:\n      code_paths: [\"src/\"]\n",
    );
    let mut init = String::new();
    for table in 0..TABLES {
        let list: Vec<String> = columns(table).iter().map(|c| format!("{c} text")).collect();
        init.push_str(&format!(
            "CREATE TABLE table_{table} (id bigserial PRIMARY KEY, {});\n",
            list.join(", ")
        ));
    }
    write(root, "db/migrations/001_init.sql", &init);
    let mut bytes = 0;
    for index in 0..FILES {
        let (path, text) = if index % 2 == 0 {
            (format!("src/app/module_{index}.py"), python(index))
        } else {
            (format!("src/lib/module_{index}.rs"), rust(index))
        };
        bytes += text.len();
        write(root, &path, &text);
    }
    git(root, &["init", "-q", "-b", "main"]);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", "deployed"]);
    git(root, &["tag", "v1"]);
    let mut deploy = String::new();
    for table in 0..5 {
        let cols = columns(table);
        deploy.push_str(&format!(
            "ALTER TABLE table_{table} DROP COLUMN {};\nALTER TABLE table_{table} RENAME COLUMN {} TO {}_new;\nALTER TABLE table_{table} ADD COLUMN required_{table} text NOT NULL;\nALTER TABLE table_{table} ALTER COLUMN {} SET NOT NULL;\n",
            cols[0], cols[6], cols[6], cols[1]
        ));
    }
    write(root, "db/migrations/002_deploy.sql", &deploy);
    bytes
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn main() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let bytes = build_repo(root);
    println!(
        "code base: {FILES} files, {:.1} MB, {TABLES} tables; the deploy drops, renames and constrains 20 columns of 5 tables",
        bytes as f64 / 1e6
    );

    let mut samples = Vec::new();
    let mut findings = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_gonogo"))
            .arg("check")
            .arg(root)
            .args(["--only", "compat", "--base", "v1", "--format", "json"])
            .output()
            .unwrap();
        samples.push(started.elapsed());
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        findings = report["checks"][0]["findings"].as_array().unwrap().len();
    }
    let command = median(samples);
    println!(
        "gonogo check --only compat (median of 5): {:.0} ms, {findings} findings",
        command.as_secs_f64() * 1000.0
    );

    // The ranking alone, every file against every column the deploy touches.
    let texts: Vec<(String, String)> = (0..FILES)
        .map(|index| {
            if index % 2 == 0 {
                (format!("src/app/module_{index}.py"), python(index))
            } else {
                (format!("src/lib/module_{index}.rs"), rust(index))
            }
        })
        .collect();
    let mut samples = Vec::new();
    let mut references = 0;
    for _ in 0..3 {
        let started = Instant::now();
        references = 0;
        for (path, text) in &texts {
            for table in 0..5 {
                for column in [0, 1, 6] {
                    let found = search::find(
                        path,
                        text,
                        &format!("table_{table}"),
                        Some(&columns(table)[column]),
                        &[],
                    );
                    references += found.references.len();
                }
            }
        }
        samples.push(started.elapsed());
    }
    let ranking = median(samples);
    println!(
        "ranking in-process, 15 columns x {FILES} files (median of 3): {:.0} ms, {:.1} MB/s per column, {references} references",
        ranking.as_secs_f64() * 1000.0,
        bytes as f64 * 15.0 / 1e6 / ranking.as_secs_f64()
    );
}
