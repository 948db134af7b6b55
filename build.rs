//! Generates the rule registry from the rule declarations, so that a declared rule is listed by
//! construction: `gonogo list`, `gonogo explain`, SARIF and JUnit read what this writes.
//!
//! Every `declare_rule! {` block that starts a line of a file under `src/` (a top-level item;
//! the macro's own doc example sits behind `///`) is copied, token for token, into
//! `$OUT_DIR/registry.rs` as `declare_rule! { @registry … }` in a module of its own, and listed
//! under its check (the id before the `/`) in its `order:`. `checks::registry` includes that
//! file. A copy rather than a path to the declaration: most rules sit in private modules
//! (`migrations::pg::add_column_serial`) that the registry cannot name, and the copy is made of
//! the same tokens, so it cannot say anything the declaration does not.
//!
//! A block this cannot read, a repeated id, or two rules of one check with the same `order:` stop
//! the build with the file and line.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// One `declare_rule!` block as written.
struct Declared {
    /// `src/checks/…/x.rs`, from the project root, with `/`.
    file: String,
    /// Of the `declare_rule! {` line, from 1.
    line: usize,
    name: String,
    id: String,
    order: u32,
    /// The lines between `declare_rule! {` and its closing `}`.
    body: String,
}

fn main() {
    let root = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    // A directory: cargo looks at every file under it.
    println!("cargo::rerun-if-changed=src");
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    files.sort();

    let mut rules = Vec::new();
    let mut problems = Vec::new();
    for path in &files {
        let text = std::fs::read_to_string(path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        let shown = path
            .strip_prefix(&root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/");
        let before = rules.len();
        declarations(&shown, &text, &mut rules, &mut problems);
        if rules.len() > before
            && let Err(why) = in_module_tree(&root.join("src"), path)
        {
            problems.push(format!("{shown}: declares rules but {why}"));
        }
    }

    let mut by_check: BTreeMap<&str, Vec<&Declared>> = BTreeMap::new();
    let mut ids = BTreeMap::new();
    for rule in &rules {
        if let Some(first) = ids.insert(rule.id.as_str(), rule) {
            problems.push(format!(
                "{}:{}: rule {} is already declared at {}:{}",
                rule.file, rule.line, rule.id, first.file, first.line
            ));
        }
        let check = rule.id.split_once('/').map_or("", |(check, _)| check);
        by_check.entry(check).or_default().push(rule);
    }
    for list in by_check.values_mut() {
        list.sort_by_key(|rule| rule.order);
        for pair in list.windows(2) {
            if pair[0].order == pair[1].order {
                problems.push(format!(
                    "{}:{}: rule {} has order: {}, like {} ({}:{}); each rule of a check needs its own place",
                    pair[1].file,
                    pair[1].line,
                    pair[1].id,
                    pair[1].order,
                    pair[0].id,
                    pair[0].file,
                    pair[0].line
                ));
            }
        }
    }
    if !problems.is_empty() {
        for problem in &problems {
            eprintln!("error: {problem}");
        }
        std::process::exit(1);
    }

    let generated = registry(&rules, &by_check);
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("set by cargo")).join("registry.rs");
    // Rewritten only when it changes, so an edit elsewhere does not touch it.
    if std::fs::read_to_string(&out).ok().as_deref() != Some(generated.as_str()) {
        std::fs::write(&out, generated)
            .unwrap_or_else(|e| panic!("writing {}: {e}", out.display()));
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let entries =
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()));
    for entry in entries {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `file` is compiled: each module from it up to `src/lib.rs` is declared with
/// `mod <name>;` in its parent. The registry holds a copy of each rule, so without this a rule
/// in a file left out of the module tree would be listed although nothing can raise it.
fn in_module_tree(src: &Path, file: &Path) -> Result<(), String> {
    let mut file = file.to_path_buf();
    loop {
        if file.parent() == Some(src)
            && file
                .file_name()
                .is_some_and(|name| name == "lib.rs" || name == "main.rs")
        {
            return Ok(());
        }
        let stem = file
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        // `a/b/mod.rs` and `a/b.rs` are both module `b`, declared in `a/mod.rs`, `a.rs` or,
        // at the top, `lib.rs`.
        let (name, dir) = if stem == "mod" {
            let dir = file.parent().ok_or("no parent")?;
            let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            (
                name.to_string(),
                dir.parent().ok_or("no parent")?.to_path_buf(),
            )
        } else {
            (
                stem.to_string(),
                file.parent().ok_or("no parent")?.to_path_buf(),
            )
        };
        let parents = if dir == src {
            vec![src.join("lib.rs")]
        } else {
            vec![dir.join("mod.rs"), dir.with_extension("rs")]
        };
        let Some(parent) = parents.into_iter().find(|p| p.is_file()) else {
            return Err(format!(
                "no module file declares `{name}` in {}",
                shown(src, &dir)
            ));
        };
        let text = std::fs::read_to_string(&parent).unwrap_or_default();
        let declared = text.lines().any(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            words.len() >= 2
                && words[words.len() - 2] == "mod"
                && words[words.len() - 1] == format!("{name};")
        });
        if !declared {
            return Err(format!(
                "{} has no `mod {name};`, so it is not compiled",
                shown(src, &parent)
            ));
        }
        file = parent;
    }
}

/// `path` from the project root (the folder above `src`).
fn shown(src: &Path, path: &Path) -> String {
    let root = src.parent().unwrap_or(src);
    path.strip_prefix(root)
        .unwrap_or(path)
        .display()
        .to_string()
}

/// The `declare_rule!` blocks of one file.
fn declarations(file: &str, text: &str, out: &mut Vec<Declared>, problems: &mut Vec<String>) {
    let lines: Vec<&str> = text.lines().collect();
    let mut at = 0;
    while at < lines.len() {
        if lines[at].trim_end() != "declare_rule! {" {
            at += 1;
            continue;
        }
        let start = at;
        let Some(len) = lines[start + 1..].iter().position(|l| l.trim_end() == "}") else {
            problems.push(format!(
                "{file}:{}: declare_rule! {{ has no closing `}}` at the start of a line",
                start + 1
            ));
            return;
        };
        let body = &lines[start + 1..start + 1 + len];
        match parse(body) {
            Ok((name, id, order)) => out.push(Declared {
                file: file.to_string(),
                line: start + 1,
                name,
                id,
                order,
                body: body.join("\n"),
            }),
            Err(why) => problems.push(format!("{file}:{}: {why}", start + 1)),
        }
        at = start + len + 2;
    }
}

/// `(NAME, id, order)` of a block's body:
/// `order: N;`, the doc comment, then `pub NAME = ("check/rule", Severity, "summary");`.
fn parse(body: &[&str]) -> Result<(String, String, u32), String> {
    const SHAPE: &str = "declare_rule! needs `order: N;`, the docs, then `pub NAME = (\"check/rule\", Severity, \"summary\");`";
    let mut code = body
        .iter()
        .map(|line| line.trim())
        .filter(|line| !line.is_empty() && !line.starts_with("//") && !line.starts_with("#["));
    let order = code
        .next()
        .and_then(|line| line.strip_prefix("order:"))
        .and_then(|rest| rest.trim().strip_suffix(';'))
        .and_then(|n| n.trim().parse::<u32>().ok())
        .ok_or_else(|| {
            format!(
                "{SHAPE} (its first line, where the rule is listed within its check, is missing)"
            )
        })?;
    let statement = code.collect::<Vec<_>>().join(" ");
    let (left, right) = statement.split_once(" = (").ok_or(SHAPE)?;
    let mut words = left.split_whitespace().rev();
    let name = words.next().ok_or(SHAPE)?;
    if words.next().is_none_or(|vis| !vis.starts_with("pub")) {
        return Err(format!("{name} is not `pub`: {SHAPE}"));
    }
    let id = right
        .strip_prefix('"')
        .and_then(|rest| rest.split_once('"'))
        .map(|(id, _)| id)
        .ok_or(SHAPE)?;
    let kebab = |part: &str| {
        !part.is_empty()
            && !part.starts_with('-')
            && part
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    };
    match id.split_once('/') {
        Some((check, rule)) if kebab(check) && kebab(rule) => {}
        _ => return Err(format!("rule id {id:?} is not `<check>/<kebab-case-name>`")),
    }
    Ok((name.to_string(), id.to_string(), order))
}

fn registry(rules: &[Declared], by_check: &BTreeMap<&str, Vec<&Declared>>) -> String {
    let index: BTreeMap<&str, usize> = rules
        .iter()
        .enumerate()
        .map(|(i, rule)| (rule.id.as_str(), i))
        .collect();
    let mut out = String::from(
        "// Generated by build.rs from the declare_rule! blocks under src/: do not edit.\n\n",
    );
    for (i, rule) in rules.iter().enumerate() {
        writeln!(
            out,
            "// {}:{}\nmod r{i} {{\ncrate::declare_rule! {{ @registry\n{}\n}}\n}}\n",
            rule.file, rule.line, rule.body
        )
        .unwrap();
    }
    for (check, list) in by_check {
        let name = check.to_uppercase().replace('-', "_");
        writeln!(out, "/// The `{check}` rules, in their `order:`.").unwrap();
        writeln!(out, "pub static {name}: &[&crate::checks::Rule] = &[").unwrap();
        for rule in list {
            writeln!(out, "    &r{}::{},", index[rule.id.as_str()], rule.name).unwrap();
        }
        out.push_str("];\n\n");
    }
    out.push_str("/// Every group above by its check id (the part of the rule ids before `/`).\n");
    out.push_str("pub static BY_CHECK: &[(&str, &[&crate::checks::Rule])] = &[\n");
    for check in by_check.keys() {
        writeln!(
            out,
            "    ({check:?}, {}),",
            check.to_uppercase().replace('-', "_")
        )
        .unwrap();
    }
    out.push_str("];\n\n/// Where each rule is declared: `(id, file, line)`.\n");
    out.push_str("pub static DECLARED_AT: &[(&str, &str, u32)] = &[\n");
    for rule in rules {
        writeln!(out, "    ({:?}, {:?}, {}),", rule.id, rule.file, rule.line).unwrap();
    }
    out.push_str("];\n");
    out
}
