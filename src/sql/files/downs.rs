//! Down migrations: the script a runner runs to roll a migration back, where the runner has
//! them. Four layouts are read:
//!
//! - a file beside the up: golang-migrate and sqlx (`0042_x.up.sql` / `0042_x.down.sql`),
//!   diesel (`<version>_x/up.sql` / `down.sql`), popx (`X.postgres.up.sql` / `X.postgres.down.sql`);
//! - dbmate: the `-- migrate:down` section of the same file;
//! - goose: the `-- +goose Down` section of the same file;
//! - Flyway Teams undo scripts: `U<version>__x.sql` beside `V<version>__x.sql`.
//!
//! Runners without downs (Flyway Community, plain folders of `.sql` files, sqitch's separate
//! `revert/` plan) are recognised by the absence of all four: their migrations have nothing to
//! miss.

use super::MigrationFile;
use std::path::Path;

/// How a runner keeps its down migrations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DownStyle {
    /// `X.up.sql` beside `X.down.sql` (golang-migrate, sqlx, diesel, popx).
    DownFile,
    /// dbmate's `-- migrate:down` section.
    Dbmate,
    /// goose's `-- +goose Down` section.
    Goose,
    /// Flyway's `U<version>__` undo script.
    FlywayUndo,
}

impl DownStyle {
    /// How a user would name the down, for messages.
    pub fn describe(self) -> &'static str {
        match self {
            DownStyle::DownFile => "a .down.sql file beside it",
            DownStyle::Dbmate => "a `-- migrate:down` section",
            DownStyle::Goose => "a `-- +goose Down` section",
            DownStyle::FlywayUndo => "a Flyway undo script (U<version>__…sql)",
        }
    }
}

/// A migration's down, read.
#[derive(Debug, Clone)]
pub struct Down {
    /// Where it is: the up's own path for a section, else the down file's.
    pub path: String,
    /// The down's SQL; for a section, the file's text from the section's first line, with the
    /// lines before it blanked so that positions stay the file's own.
    pub text: String,
    /// The 1-based line where the down starts.
    pub line: u32,
    pub style: DownStyle,
}

/// What a deploy migration has for rolling back.
#[derive(Debug, Clone)]
pub enum DownOf {
    Found(Down),
    /// The runner has downs but this migration has none; `empty`: there is one, with no SQL.
    Missing {
        style: DownStyle,
        empty: Option<Down>,
    },
    /// The runner keeps no downs: nothing to look for.
    NotUsed,
}

/// Where the down section of a migration file starts, when the file has one: (byte offset of
/// the marker line, byte offset after it, style). dbmate and goose both read their markers as
/// whole comment lines; goose reads `-- +goose down` in any case.
pub fn down_section(text: &str) -> Option<(usize, usize, DownStyle)> {
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let start = offset;
        offset += line.len();
        let trimmed = line.trim();
        if trimmed.starts_with("-- migrate:down") {
            return Some((start, offset, DownStyle::Dbmate));
        }
        if let Some(rest) = trimmed.strip_prefix("-- +goose")
            && rest.trim().eq_ignore_ascii_case("down")
        {
            return Some((start, offset, DownStyle::Goose));
        }
    }
    None
}

/// The style a file's own name or markers show: `.up.sql`, `-- migrate:up`, `-- +goose Up`.
fn own_style(file: &MigrationFile) -> Option<DownStyle> {
    let name = file_name(&file.path).to_ascii_lowercase();
    if name == "up.sql" || name.ends_with(".up.sql") {
        return Some(DownStyle::DownFile);
    }
    for line in file.text.lines() {
        let line = line.trim();
        if line.starts_with("-- migrate:up") || line.starts_with("-- migrate:down") {
            return Some(DownStyle::Dbmate);
        }
        if let Some(rest) = line.strip_prefix("-- +goose") {
            let rest = rest.trim();
            if rest.eq_ignore_ascii_case("up") || rest.eq_ignore_ascii_case("down") {
                return Some(DownStyle::Goose);
            }
        }
    }
    None
}

/// The runner's way of keeping downs, as the set's files show it; `None`: the runner keeps
/// none. One file of the set in a style is enough: runners do not mix styles in one folder.
pub fn set_style(root: &Path, files: &[MigrationFile]) -> Option<DownStyle> {
    if let Some(style) = files.iter().find_map(own_style) {
        return Some(style);
    }
    // Flyway: any undo script in a folder holding versioned scripts.
    let mut folders: Vec<&str> = files
        .iter()
        .filter(|f| flyway_version(file_name(&f.path)).is_some())
        .map(|f| folder(&f.path))
        .collect();
    folders.dedup();
    folders
        .into_iter()
        .any(|dir| !undo_scripts(root, dir).is_empty())
        .then_some(DownStyle::FlywayUndo)
}

/// The down of `file`, for a runner that keeps them in `style`.
pub fn down_of(root: &Path, file: &MigrationFile, style: Option<DownStyle>) -> DownOf {
    let Some(style) = own_style(file).or(style) else {
        return DownOf::NotUsed;
    };
    let found = match style {
        DownStyle::Dbmate | DownStyle::Goose => down_section(&file.text)
            .filter(|(_, _, s)| *s == style)
            .map(|(_, after, _)| {
                let line = file.text[..after].matches('\n').count() as u32 + 1;
                let blank: String = file.text[..after].chars().filter(|c| *c == '\n').collect();
                Down {
                    path: file.path.clone(),
                    text: format!("{blank}{}", &file.text[after..]),
                    line,
                    style,
                }
            }),
        DownStyle::DownFile => down_file_names(file_name(&file.path))
            .into_iter()
            .find_map(|down_name| read_down(root, join(folder(&file.path), &down_name), style)),
        DownStyle::FlywayUndo => flyway_version(file_name(&file.path)).and_then(|version| {
            undo_scripts(root, folder(&file.path))
                .into_iter()
                .find(|(v, _)| *v == version)
                .and_then(|(_, name)| read_down(root, join(folder(&file.path), &name), style))
        }),
    };
    match found {
        Some(down) if has_sql(&down.text) => DownOf::Found(down),
        Some(down) => DownOf::Missing {
            style,
            empty: Some(down),
        },
        None => DownOf::Missing { style, empty: None },
    }
}

/// [`down_of`] in a set of `dialect`: popx picks each direction's file per dialect, so the down
/// of a generic `X.up.sql` is `X.<dialect>.down.sql` when there is one, before the generic
/// `X.down.sql` (ory/keto keeps CockroachDB syntax in a generic down and PostgreSQL's in its
/// `.postgres.down.sql`).
pub fn down_of_in(
    root: &Path,
    file: &MigrationFile,
    style: Option<DownStyle>,
    dialect: crate::config::Dialect,
) -> DownOf {
    if own_style(file).or(style) == Some(DownStyle::DownFile) {
        let name = file_name(&file.path);
        let base = name
            .len()
            .checked_sub(".up.sql".len())
            .filter(|&cut| name[cut..].eq_ignore_ascii_case(".up.sql"))
            .map(|cut| &name[..cut]);
        let generic = base.is_some_and(|base| {
            !base.rsplit_once('.').is_some_and(|(_, tag)| {
                let tag = tag.to_ascii_lowercase();
                tag == "autocommit" || super::DIALECT_TAGS.iter().any(|(t, _)| *t == tag)
            })
        });
        if let (Some(base), true) = (base, generic) {
            for (tag, _) in super::DIALECT_TAGS
                .iter()
                .filter(|(_, d)| *d == Some(dialect))
            {
                let path = join(folder(&file.path), &format!("{base}.{tag}.down.sql"));
                if let Some(down) = read_down(root, path, DownStyle::DownFile) {
                    return if has_sql(&down.text) {
                        DownOf::Found(down)
                    } else {
                        DownOf::Missing {
                            style: DownStyle::DownFile,
                            empty: Some(down),
                        }
                    };
                }
            }
        }
    }
    down_of(root, file, style)
}

/// The names the down of an up file may have, the runner's first choice first. popx picks a
/// migration's file per dialect: the down of `X.postgres.autocommit.up.sql` is
/// `X.postgres.autocommit.down.sql`, else `X.postgres.down.sql`, else the generic `X.down.sql`
/// (a dialect variant for one direction only is common: ory/kratos).
fn down_file_names(name: &str) -> Vec<String> {
    if name.eq_ignore_ascii_case("up.sql") {
        return vec!["down.sql".to_string()];
    }
    let Some(base) = name
        .len()
        .checked_sub(".up.sql".len())
        .filter(|&cut| name[cut..].eq_ignore_ascii_case(".up.sql"))
        .map(|cut| &name[..cut])
    else {
        return Vec::new();
    };
    let mut names = vec![format!("{base}.down.sql")];
    let mut rest = base;
    while let Some((head, tag)) = rest.rsplit_once('.') {
        let tag = tag.to_ascii_lowercase();
        let known = tag == "autocommit" || super::DIALECT_TAGS.iter().any(|(t, _)| *t == tag);
        if !known {
            break;
        }
        names.push(format!("{head}.down.sql"));
        rest = head;
    }
    names
}

fn read_down(root: &Path, path: String, style: DownStyle) -> Option<Down> {
    let text = std::fs::read_to_string(root.join(&path)).ok()?;
    Some(Down {
        path,
        text,
        line: 1,
        style,
    })
}

/// Whether a script has anything but whitespace and comments.
fn has_sql(text: &str) -> bool {
    let mut rest = text;
    loop {
        let skip = crate::sql::skip_trivia(rest);
        if skip >= rest.len() {
            return false;
        }
        rest = &rest[skip..];
        // `;` alone (goose's StatementBegin/End pairs leave none, but `;` lines occur).
        match rest.strip_prefix(';') {
            Some(after) => rest = after,
            None => return true,
        }
    }
}

/// Flyway's version of a versioned script name: `V1_2__x.sql` → `1.2`.
fn flyway_version(name: &str) -> Option<String> {
    prefixed_version(name, 'V')
}

fn prefixed_version(name: &str, prefix: char) -> Option<String> {
    let rest = name.strip_prefix(prefix)?;
    let (version, _) = rest.split_once("__")?;
    let ok = !version.is_empty()
        && version.starts_with(|c: char| c.is_ascii_digit())
        && version
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == '_');
    ok.then(|| {
        version
            .split(['.', '_'])
            .map(|part| part.trim_start_matches('0'))
            .collect::<Vec<_>>()
            .join(".")
    })
}

/// A Flyway undo script's name (`U1_2__x.sql`): never a migration of the deploy itself.
pub fn is_flyway_undo(name: &str) -> bool {
    name.to_ascii_lowercase().ends_with(".sql") && prefixed_version(name, 'U').is_some()
}

/// The undo scripts of a folder: (version, file name), sorted by name.
fn undo_scripts(root: &Path, dir: &str) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(root.join(dir)) else {
        return Vec::new();
    };
    let mut out: Vec<(String, String)> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            if !is_flyway_undo(&name) {
                return None;
            }
            prefixed_version(&name, 'U').map(|v| (v, name))
        })
        .collect();
    out.sort();
    out
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn folder(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, text: &str) -> MigrationFile {
        MigrationFile {
            path: path.to_string(),
            text: text.to_string(),
            in_deploy: true,
            transaction: None,
        }
    }

    #[test]
    fn sections_are_found_with_their_line() {
        let dbmate = file(
            "db/1.sql",
            "-- migrate:up\nCREATE TABLE t (id int);\n\n-- migrate:down\nDROP TABLE t;\n",
        );
        let DownOf::Found(down) = down_of(Path::new("/nonexistent"), &dbmate, None) else {
            panic!("no down");
        };
        assert_eq!((down.line, down.style), (5, DownStyle::Dbmate));
        assert_eq!(down.text, "\n\n\n\nDROP TABLE t;\n");
        let goose = file(
            "db/2.sql",
            "-- +goose Up\nCREATE TABLE t (id int);\n-- +goose down\n-- +goose StatementBegin\n-- +goose StatementEnd\n",
        );
        assert!(matches!(
            down_of(Path::new("/nonexistent"), &goose, None),
            DownOf::Missing {
                style: DownStyle::Goose,
                empty: Some(_)
            }
        ));
    }

    #[test]
    fn runners_without_downs_are_recognised() {
        let plain = [file("db/V1__init.sql", "CREATE TABLE t (id int);")];
        assert_eq!(set_style(Path::new("/nonexistent"), &plain), None);
        assert!(matches!(
            down_of(Path::new("/nonexistent"), &plain[0], None),
            DownOf::NotUsed
        ));
        let migrate = [file("db/1_x.up.sql", "CREATE TABLE t (id int);")];
        assert_eq!(
            set_style(Path::new("/nonexistent"), &migrate),
            Some(DownStyle::DownFile)
        );
    }

    #[test]
    fn dialect_variants_fall_back_to_the_generic_down() {
        assert_eq!(
            down_file_names("2_x.postgres.autocommit.up.sql"),
            vec![
                "2_x.postgres.autocommit.down.sql",
                "2_x.postgres.down.sql",
                "2_x.down.sql"
            ]
        );
        assert_eq!(down_file_names("1_v1.2.up.sql"), vec!["1_v1.2.down.sql"]);
        assert_eq!(down_file_names("up.sql"), vec!["down.sql"]);
    }

    #[test]
    fn flyway_names() {
        assert_eq!(flyway_version("V1_02__x.sql").as_deref(), Some("1.2"));
        assert!(is_flyway_undo("U1_2__x.sql"));
        assert!(!is_flyway_undo("Users__x.sql"));
        assert!(!is_flyway_undo("U__x.sql"));
    }
}
