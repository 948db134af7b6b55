//! Finding, reading and validating `gonogo.yaml`: every error is an unusable config (exit 2)
//! with `file:line:column`, what was expected, and the nearest valid key for an unknown one.

use super::*;
use std::path::{Path, PathBuf};

/// Config files larger than this are refused: a real one is a few kilobytes, and a huge one is a
/// mistake (or an attack on the parser) that should not cost the CI job its time budget.
const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

pub const CONFIG_FILE_NAMES: &[&str] = &["gonogo.yaml", "gonogo.yml"];

// ---------------------------------------------------------------------------------------------
// Errors

/// An unusable config: exit 2, nothing checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub message: String,
    /// The offending source line, when there is one, for a caret snippet.
    pub source_line: Option<String>,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.path,
            self.line,
            self.column,
            crate::secrets::redact(&self.message)
        )?;
        if let Some(source_line) = &self.source_line {
            // The echoed line may hold a literal password; the caret follows the mask.
            let (source_line, caret_column) =
                crate::secrets::redact_keeping_column(source_line, self.column as usize);
            let gutter = self.line.to_string();
            let pad = " ".repeat(gutter.len());
            let caret_pad: String = source_line
                .chars()
                .take(caret_column.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(
                f,
                "\n{pad} |\n{gutter} | {source_line}\n{pad} | {caret_pad}^"
            )?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigError {}

impl ConfigError {
    fn at(path: &str, text: Option<&str>, line: u32, column: u32, message: String) -> Self {
        let source_line = text
            .and_then(|t| t.lines().nth(line.saturating_sub(1) as usize))
            .filter(|l| l.len() <= 200)
            .map(str::to_string);
        ConfigError {
            path: path.to_string(),
            line,
            column,
            message,
            source_line,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Discovery and loading

/// Find `gonogo.yaml` in `dir` or the nearest parent, stopping at the git root (the directory
/// holding `.git`); outside a git repository only `dir` itself is searched.
pub fn discover(dir: &Path) -> Option<PathBuf> {
    let git_root = dir.ancestors().find(|d| d.join(".git").exists());
    for candidate_dir in dir.ancestors() {
        for name in CONFIG_FILE_NAMES {
            let candidate = candidate_dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
        match git_root {
            Some(root) if candidate_dir != root => continue,
            _ => break,
        }
    }
    None
}

/// Read and validate a config file. `shown_path` is how the file is named in messages.
pub fn load(path: &Path, shown_path: &str) -> Result<Config, ConfigError> {
    let whole_file = |message: String| ConfigError::at(shown_path, None, 1, 1, message);
    let metadata = std::fs::metadata(path)
        .map_err(|e| whole_file(format!("cannot read the config file: {}", io_reason(&e))))?;
    if metadata.is_dir() {
        return Err(whole_file(
            "is a directory; expected a YAML file such as gonogo.yaml".to_string(),
        ));
    }
    if metadata.len() > MAX_CONFIG_BYTES {
        return Err(whole_file(format!(
            "the file is {} bytes; a gonogo config is at most {} bytes (is this the right file?)",
            metadata.len(),
            MAX_CONFIG_BYTES
        )));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| whole_file(format!("cannot read the config file: {}", io_reason(&e))))?;
    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => {
            let valid = &err.as_bytes()[..err.utf8_error().valid_up_to()];
            let valid = std::str::from_utf8(valid).unwrap_or_default();
            let line = valid.matches('\n').count() as u32 + 1;
            let column = valid.rsplit('\n').next().unwrap_or("").chars().count() as u32 + 1;
            return Err(ConfigError::at(
                shown_path,
                None,
                line,
                column,
                "the file is not valid UTF-8; expected YAML text".to_string(),
            ));
        }
    };
    parse(&text, shown_path)
}

/// Parse config text. Pure: tests feed it strings.
pub fn parse(text: &str, shown_path: &str) -> Result<Config, ConfigError> {
    let has_content = text.lines().any(|line| {
        let line = line.trim();
        !line.is_empty() && !line.starts_with('#') && line != "---"
    });
    if !has_content {
        return Err(ConfigError::at(
            shown_path,
            None,
            1,
            1,
            "the file is empty; expected a mapping of settings such as `checks:` (`gonogo init` writes a commented one)"
                .to_string(),
        ));
    }
    let config: Config = serde_saphyr::from_str(text).map_err(|err| {
        let (line, column) = err
            .location()
            .map(|l| (l.line() as u32, l.column() as u32))
            .unwrap_or((1, 1));
        let raw = err.without_snippet().to_string();
        let (message, anchor) = split_position_suffix(&raw);
        let mut message = explain_yaml_error(message);
        if let Some(anchor) = anchor {
            message.push_str(&format!(" (the value comes from the anchor at {anchor})"));
        }
        ConfigError::at(shown_path, Some(text), line, column, message)
    })?;
    validate(&config, text).map_err(|(message, pos)| {
        ConfigError::at(shown_path, Some(text), pos.line, pos.column, message)
    })?;
    validate_migration_sets(&config).map_err(|(line, column, message)| {
        ConfigError::at(shown_path, Some(text), line, column, message)
    })?;
    Ok(config)
}

/// Checks serde cannot express, positioned from the YAML tree (the config parsed, so the tree
/// does too; 1:1 only if it somehow does not).
fn validate(config: &Config, text: &str) -> Result<(), (String, crate::yaml::Pos)> {
    let tree = crate::yaml::parse_single(text).ok().flatten();
    let start = crate::yaml::Pos::new(1, 1);
    let item_pos = |list: &[&str], index: usize, key: &str| {
        tree.as_ref()
            .and_then(|t| t.path(list))
            .and_then(|l| l.items().get(index))
            .map(|item| item.get(key).map_or(item.pos, |v| v.pos))
            .unwrap_or(start)
    };
    let mut names = std::collections::BTreeMap::new();
    for (index, plugin) in config.checks.plugins.iter().enumerate() {
        if let Some(first) = names.insert(plugin.name.as_str(), index) {
            let first = item_pos(&["checks", "plugins"], first, "name");
            return Err((
                format!(
                    "a second plugin is named `{}` (the first is at line {}); plugin names must be unique: they are the check ids `plugin/<name>`",
                    plugin.name, first.line
                ),
                item_pos(&["checks", "plugins"], index, "name"),
            ));
        }
    }
    for (index, waiver) in config.waivers.iter().enumerate() {
        if waiver.reason.trim().is_empty() {
            return Err((
                format!(
                    "the waiver for `{}` has an empty reason; a waiver needs a reason (why the risk is accepted)",
                    waiver.rule.value
                ),
                item_pos(&["waivers"], index, "reason"),
            ));
        }
    }
    Ok(())
}

/// Several migration sets need names, and different ones (findings say which set they are
/// about); paths and placeholders must say something.
fn validate_migration_sets(config: &Config) -> Result<(), (u32, u32, String)> {
    let Some(sets) = &config.checks.migrations else {
        return Ok(());
    };
    if sets.sets.is_empty() {
        return Err((
            1,
            1,
            "checks.migrations is an empty list; give at least one set (`- {name: main, paths: [\"db/migrations/*.sql\"]}`) or remove the key".to_string(),
        ));
    }
    let mut names: BTreeMap<&str, u32> = BTreeMap::new();
    for (set, &(line, column)) in sets.sets.iter().zip(&sets.positions) {
        let Some(name) = &set.name else {
            if sets.sets.len() > 1 {
                return Err((
                    line,
                    column,
                    "this migration set has no `name`; with several sets each needs one (findings say which set they are about)".to_string(),
                ));
            }
            continue;
        };
        let at = (
            name.referenced.line() as u32,
            name.referenced.column() as u32,
        );
        if name.value.trim().is_empty() {
            return Err((at.0, at.1, "a migration set's `name` is empty".to_string()));
        }
        if let Some(first) = names.insert(name.value.as_str(), at.0) {
            return Err((
                at.0,
                at.1,
                format!(
                    "two migration sets are named `{}` (the first at line {first}); set names must be unique",
                    name.value
                ),
            ));
        }
    }
    Ok(())
}

fn io_reason(err: &std::io::Error) -> String {
    match err.kind() {
        std::io::ErrorKind::NotFound => "no such file".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        _ => err.to_string(),
    }
}

/// serde-saphyr appends " at line L, column C" (we print the position ourselves), and for a
/// value reached through an alias " (defined at line L, column C) (used)": the message without
/// them, and where the anchor is.
fn split_position_suffix(message: &str) -> (&str, Option<String>) {
    let Some(index) = message
        .find(" at line ")
        .filter(|&i| message[i..].contains(", column "))
    else {
        return (message, None);
    };
    let anchor = message[index..]
        .split_once("(defined at line ")
        .and_then(|(_, rest)| rest.split_once(')'))
        .and_then(|(position, _)| position.split_once(", column "))
        .map(|(line, column)| format!("{}:{}", line.trim(), column.trim()));
    (&message[..index], anchor)
}

/// Turn parser wording into what a user of gonogo.yaml needs to hear.
fn explain_yaml_error(message: &str) -> String {
    if let Some(rest) = message.strip_prefix("unknown field `") {
        if let Some((key, expected)) = rest.split_once("`, expected one of ") {
            let valid: Vec<&str> = expected.split(", ").map(|s| s.trim_matches('`')).collect();
            let valid: Vec<&str> = valid.into_iter().filter(|v| !v.is_empty()).collect();
            if valid.is_empty() {
                return format!("unknown key `{key}`; this mapping takes no keys");
            }
            let mut text = format!("unknown key `{key}`");
            if let Some(nearest) = nearest(key, &valid) {
                text.push_str(&format!("; did you mean `{nearest}`?"));
            }
            text.push_str(&format!(" (valid keys here: {})", valid.join(", ")));
            return text;
        }
        if let Some((key, _)) = rest.split_once("`, expected ") {
            return format!("unknown key `{key}`; this mapping takes no keys");
        }
        if let Some((key, _)) = rest.split_once("`, there are no fields") {
            return format!("unknown key `{key}`; this mapping takes no keys");
        }
    }
    if let Some((value, expected)) = message
        .strip_prefix("unknown variant `")
        .and_then(|rest| rest.split_once("`, expected one of "))
    {
        let valid: Vec<&str> = expected.split(", ").map(|s| s.trim_matches('`')).collect();
        let mut text = format!("unknown value `{value}`");
        if let Some(nearest) = nearest(value, &valid) {
            text.push_str(&format!("; did you mean `{nearest}`?"));
        }
        text.push_str(&format!(" (expected one of: {})", valid.join(", ")));
        return text;
    }
    if message.starts_with("multiple YAML documents") {
        return "a second YAML document starts here; gonogo.yaml is one document (remove the `---` line and merge the settings into one mapping)".into();
    }
    if message.starts_with("budget breached") {
        return "the aliases here expand to too many values (over gonogo's budget for a config file, which stops alias bombs); write the values out instead of nesting aliases".into();
    }
    match message {
        "expected sequence start" => {
            "expected a list, e.g. [\"a\", \"b\"] or `- item` lines".into()
        }
        "expected mapping start" => "expected a mapping of `key: value` pairs".into(),
        m if m.starts_with("invalid u") || m.starts_with("invalid i") => {
            "expected a whole number".into()
        }
        m if m.starts_with("invalid f") => "expected a number".into(),
        m if m.contains("set DuplicateKeyPolicy") => m
            .split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or(m)
            .replace("duplicate mapping key", "duplicate key")
            .to_string(),
        m => m.to_string(),
    }
}

/// The candidate closest to `input` by edit distance, when it is close enough to be a typo.
pub fn nearest<'a>(input: &str, candidates: &[&'a str]) -> Option<&'a str> {
    candidates
        .iter()
        .map(|c| (edit_distance(input, c), *c))
        .filter(|(distance, candidate)| *distance <= (candidate.len().max(3) / 3).max(2))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = previous[j] + usize::from(ca != *cb);
            current.push(substitution.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}
