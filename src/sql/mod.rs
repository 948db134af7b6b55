//! SQL statements → positions and parse trees, shared by the `migrations` check and the database
//! side of `compat`. PostgreSQL uses the real grammar (libpg_query through `pg_query`); MySQL uses
//! `sqlparser`'s MySQL dialect.

pub mod changes;
pub mod files;
pub mod followed;
pub mod mysql;
pub mod postgres;

/// The part of a migration file that runs in the deploy: dbmate's `-- migrate:down` and goose's
/// `-- +goose Down` sections are the rollback, not part of the deploy.
pub fn up_section(text: &str) -> &str {
    match files::downs::down_section(text) {
        Some((start, _, _)) => &text[..start],
        None => text,
    }
}

/// 1-based line and column (in characters) of a byte offset in `text`.
pub fn line_col(text: &str, offset: usize) -> (u32, u32) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() as u32 + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() as u32 + 1;
    (line, column)
}

/// `word` appears in `text` in any ASCII case: a cheap necessary condition that spares a rule a
/// second parse of statements that cannot concern it.
pub fn contains_ignore_case(text: &str, word: &str) -> bool {
    text.as_bytes()
        .windows(word.len().max(1))
        .any(|window| window.eq_ignore_ascii_case(word.as_bytes()))
}

/// Line starts of a text, computed once: [`LineIndex::line_col`] gives what [`line_col`] gives
/// without scanning the text from its start each time (a seed migration of 40,000 statements
/// made that quadratic).
pub struct LineIndex<'a> {
    text: &'a str,
    /// Byte offset of each line's first character; the first is 0.
    starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub fn new(text: &'a str) -> LineIndex<'a> {
        let starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        LineIndex { text, starts }
    }

    /// 1-based line and column (in characters) of a byte offset, as [`line_col`].
    pub fn line_col(&self, offset: usize) -> (u32, u32) {
        let offset = floor_char_boundary(self.text, offset.min(self.text.len()));
        // The last line start at or before the offset.
        let line = self.starts.partition_point(|&start| start <= offset);
        let line_start = self.starts[line - 1];
        let column = self.text[line_start..offset].chars().count() as u32 + 1;
        (line as u32, column)
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Byte offset of the first token of `piece` (skipping whitespace, `--` and `/* */` comments).
pub fn skip_trivia(piece: &str) -> usize {
    let bytes = piece.as_bytes();
    let mut i = 0;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if bytes[i..].starts_with(b"--") || bytes[i..].starts_with(b"#") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if bytes[i..].starts_with(b"/*") {
            match piece[i + 2..].find("*/") {
                Some(end) => i += 2 + end + 2,
                None => return piece.len(),
            }
        } else {
            return i;
        }
    }
}

/// Where a parser's "at or near \"X\"" points, as a byte offset into `text` from `from`.
pub fn near_offset(text: &str, from: usize, message: &str) -> Option<usize> {
    let quoted = message.split("at or near \"").nth(1)?;
    let needle = quoted.strip_suffix('"').unwrap_or(quoted);
    let needle: String = needle.chars().take(40).collect();
    if needle.is_empty() {
        return None;
    }
    text.get(from..)?.find(&needle).map(|i| from + i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters() {
        let text = "-- é\nALTER TABLE t;";
        assert_eq!(line_col(text, text.find("ALTER").unwrap()), (2, 1));
        assert_eq!(line_col("ab\ncdé f", 8), (2, 5));
        // The index agrees with the scan at every offset, past the end and inside a character.
        for text in ["", "a", "\n", "ab\ncdé f\n\nx", "é\né\n"] {
            let index = LineIndex::new(text);
            for offset in 0..=text.len() + 2 {
                assert_eq!(
                    index.line_col(offset),
                    line_col(text, offset),
                    "{text:?} {offset}"
                );
            }
        }
    }

    #[test]
    fn trivia_is_skipped() {
        assert_eq!(skip_trivia("\n -- c;\n/* x */ SELECT"), 16);
        assert_eq!(skip_trivia("/* never closed"), 15);
    }

    #[test]
    fn the_down_section_is_cut() {
        let text = "-- migrate:up\nCREATE TABLE t ();\n-- migrate:down\nDROP TABLE t;\n";
        assert_eq!(up_section(text), "-- migrate:up\nCREATE TABLE t ();\n");
        assert_eq!(up_section("DROP TABLE t;"), "DROP TABLE t;");
        let goose = "-- +goose Up\nCREATE TABLE t ();\n-- +goose Down\nDROP TABLE t;\n";
        assert_eq!(up_section(goose), "-- +goose Up\nCREATE TABLE t ();\n");
    }
}
