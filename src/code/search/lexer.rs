//! The source text of one file: its language, where its string literals and comments are,
//! and line/column positions.
//!
//! Whether a name sits in code, in a comment, or in a string (and which string) decides how
//! much it counts as evidence, so every other part of `search` asks this module. The lexer is
//! deliberately loose: it knows each language's quotes and comment markers (Rust raw strings
//! and lifetimes, Python triple quotes, Go and JavaScript backticks, Ruby heredocs, SQL `--`)
//! but no grammar, and it never fails: an unterminated token ends at the end of its line or of
//! the file, because old code that does not lex cleanly must still be searched.

use super::names::is_word;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    Sql,
    Rust,
    Python,
    Ruby,
    Go,
    /// JavaScript and TypeScript.
    Script,
    /// Java, Kotlin, Scala, Groovy.
    Jvm,
    Prisma,
    /// Languages whose comments start with `#` (YAML, TOML, shell, Elixir, Perl, R).
    Hash,
    Other,
}

pub(super) fn lang_of(path: &str) -> Lang {
    let name = path.rsplit(['/', '\\']).next().unwrap_or(path);
    let ext = name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "sql" => Lang::Sql,
        "rs" => Lang::Rust,
        "py" | "pyi" => Lang::Python,
        "rb" | "rake" => Lang::Ruby,
        "go" => Lang::Go,
        "js" | "jsx" | "ts" | "tsx" | "mjs" | "cjs" | "mts" | "cts" => Lang::Script,
        "java" | "kt" | "kts" | "scala" | "groovy" => Lang::Jvm,
        "prisma" => Lang::Prisma,
        "yaml" | "yml" | "toml" | "sh" | "bash" | "ex" | "exs" | "pl" | "pm" | "r" => Lang::Hash,
        _ if name == "Rakefile" || name == "Gemfile" => Lang::Ruby,
        _ => Lang::Other,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SegKind {
    Literal,
    Comment,
}

/// A literal or comment: `open..close` is the whole token, `start..end` its content.
#[derive(Debug, Clone, Copy)]
pub(super) struct Segment {
    pub(super) kind: SegKind,
    pub(super) open: usize,
    pub(super) start: usize,
    pub(super) end: usize,
    pub(super) close: usize,
}

/// One file's text, lexed once: every question about a position is answered from this.
pub(super) struct Source<'a> {
    pub(super) text: &'a str,
    pub(super) lang: Lang,
    /// Literals and comments, by `open`.
    pub(super) segs: Vec<Segment>,
    /// Byte offset where each line starts.
    pub(super) lines: Vec<usize>,
}

impl<'a> Source<'a> {
    pub(super) fn new(text: &'a str, lang: Lang) -> Self {
        let lines = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        Source {
            text,
            lang,
            segs: lex(text, lang),
            lines,
        }
    }

    pub(super) fn line_index(&self, off: usize) -> usize {
        self.lines.partition_point(|&s| s <= off).saturating_sub(1)
    }

    pub(super) fn line_start(&self, li: usize) -> usize {
        self.lines.get(li).copied().unwrap_or(self.text.len())
    }

    pub(super) fn line(&self, li: usize) -> &'a str {
        let end = self.lines.get(li + 1).map_or(self.text.len(), |e| e - 1);
        let line = self.text.get(self.line_start(li)..end).unwrap_or("");
        line.strip_suffix('\r').unwrap_or(line)
    }

    /// The byte offset of `tail`, a trimmed or stripped end part of line `li`.
    pub(super) fn suffix_offset(&self, li: usize, tail: &str) -> usize {
        self.line_start(li) + self.line(li).len() - tail.len()
    }

    /// 1-based line and character column.
    pub(super) fn position(&self, off: usize) -> (u32, u32) {
        let li = self.line_index(off);
        let col = self
            .text
            .get(self.line_start(li)..off)
            .map_or(0, |s| s.chars().count());
        (li as u32 + 1, col as u32 + 1)
    }

    pub(super) fn seg_index(&self, off: usize) -> Option<usize> {
        let i = self
            .segs
            .partition_point(|s| s.open <= off)
            .checked_sub(1)?;
        (self.segs[i].close > off).then_some(i)
    }

    pub(super) fn is_code(&self, off: usize) -> bool {
        self.seg_index(off).is_none()
    }

    pub(super) fn content(&self, seg: &Segment) -> &'a str {
        self.text.get(seg.start..seg.end).unwrap_or("")
    }

    /// The first literal opening in `from..to`.
    pub(super) fn literal_after(&self, from: usize, to: usize) -> Option<&Segment> {
        let i = self.segs.partition_point(|s| s.open < from);
        self.segs[i..]
            .iter()
            .take_while(|s| s.open < to)
            .find(|s| s.kind == SegKind::Literal)
    }

    /// The first literal opening between `from` and the end of line `li`.
    pub(super) fn literal_on_line(&self, from: usize, li: usize) -> Option<&Segment> {
        self.literal_after(from, self.line_start(li) + self.line(li).len())
    }

    /// The literal right after `pos` (only whitespace between), e.g. a call's first argument.
    pub(super) fn literal_at(&self, pos: usize) -> Option<&Segment> {
        let seg = self.literal_after(pos, pos + 200)?;
        self.text
            .get(pos..seg.open)?
            .trim()
            .is_empty()
            .then_some(seg)
    }

    /// The byte after the bracket matching the one at `open`, skipping literals and comments.
    pub(super) fn close_of(&self, open: usize, limit: usize) -> Option<usize> {
        let b = self.text.as_bytes();
        let mut depth = 0i32;
        let mut i = open;
        while i < b.len().min(open + limit) {
            if let Some(s) = self.seg_index(i) {
                i = self.segs[s].close.max(i + 1);
                continue;
            }
            match b[i] {
                b'(' | b'[' | b'{' => depth += 1,
                b')' | b']' | b'}' => {
                    depth -= 1;
                    if depth <= 0 {
                        return Some(i + 1);
                    }
                }
                _ => {}
            }
            i += 1;
        }
        None
    }
}

/// Finds string literals and comments. Never fails: an unterminated token ends at the end of
/// the line (single-line kinds) or of the file.
fn lex(text: &str, lang: Lang) -> Vec<Segment> {
    use Lang::*;
    let b = text.as_bytes();
    let n = b.len();
    let slash = matches!(lang, Rust | Go | Script | Jvm | Prisma | Other | Sql);
    let hash = matches!(lang, Python | Ruby | Hash);
    let triple = matches!(lang, Python | Jvm | Hash);
    let backtick = matches!(lang, Go | Script | Ruby | Other);
    // Rust and Ruby strings may span lines; in the others a newline ends a broken string.
    let multiline = matches!(lang, Rust | Ruby | Hash | Other | Sql);
    let mut segs = Vec::new();
    let mut heredoc: Option<(usize, usize)> = None; // (newline where the body starts, resume)
    let mut i = 0;
    while i < n {
        let c = b[i];
        let next = b.get(i + 1).copied();
        let mut push = |kind, open, start, end, close: usize| {
            segs.push(Segment {
                kind,
                open,
                start,
                end,
                close,
            });
            close.max(open + 1)
        };
        if c == b'\n' {
            i = match heredoc.take() {
                Some((nl, resume)) if nl == i => resume,
                other => {
                    heredoc = other;
                    i + 1
                }
            };
            continue;
        }
        let line_end = |from: usize| {
            b[from.min(n)..]
                .iter()
                .position(|&x| x == b'\n')
                .map_or(n, |p| from + p)
        };
        i = if (lang == Sql && c == b'-' && next == Some(b'-'))
            || (slash && lang != Sql && c == b'/' && next == Some(b'/'))
            || (hash && c == b'#')
        {
            let e = line_end(i);
            push(SegKind::Comment, i, i, e, e)
        } else if slash && c == b'/' && next == Some(b'*') {
            let e = find_from(b, i + 2, b"*/").unwrap_or(n);
            push(SegKind::Comment, i, i, e, (e + 2).min(n))
        } else if triple
            && (c == b'"' || c == b'\'')
            && b.get(i..i + 3).is_some_and(|t| t[1] == c && t[2] == c)
        {
            let e = find_from(b, i + 3, &b[i..i + 3]).unwrap_or(n);
            push(SegKind::Literal, i, i + 3, e, (e + 3).min(n))
        } else if lang == Rust
            && c == b'r'
            && (i == 0 || !is_word(b[i - 1]) || (b[i - 1] == b'b' && (i < 2 || !is_word(b[i - 2]))))
            && matches!(next, Some(b'"' | b'#'))
        {
            let hashes = b[i + 1..].iter().take_while(|&&x| x == b'#').count();
            if b.get(i + 1 + hashes) == Some(&b'"') {
                let mut close = vec![b'"'];
                close.extend(std::iter::repeat_n(b'#', hashes));
                let s = i + 2 + hashes;
                let e = find_from(b, s, &close).unwrap_or(n);
                push(SegKind::Literal, i, s, e, (e + close.len()).min(n))
            } else {
                i + 1
            }
        } else if lang == Rust && c == b'\'' {
            // A char literal ('x', '\n', '\u{1F600}') or a lifetime ('a), which has no closing quote.
            let len = text
                .get(i + 1..)
                .and_then(|s| s.chars().next())
                .map_or(1, char::len_utf8);
            let close = if next == Some(b'\\') {
                // The escaped character itself may be a quote: '\''.
                b.get(i + 3..n.min(i + 14))
                    .and_then(|rest| rest.iter().position(|&x| x == b'\''))
                    .map(|p| i + 3 + p)
            } else {
                (b.get(i + 1 + len) == Some(&b'\'')).then_some(i + 1 + len)
            };
            match close {
                Some(e) => push(SegKind::Literal, i, i + 1, e, e + 1),
                None => i + 1,
            }
        } else if c == b'"' || c == b'\'' || (backtick && c == b'`') {
            let escapes = !(c == b'`' && lang == Go);
            let spans = multiline || c == b'`' || (lang == Sql && c == b'\'');
            let (e, close) =
                scan_quoted(b, i + 1, c, escapes, spans && !(c == b'\'' && lang != Sql));
            if lang == Sql && c == b'"' {
                i + 1 // a quoted identifier, which is SQL, not a string
            } else {
                push(SegKind::Literal, i, i + 1, e, close)
            }
        } else if lang == Ruby && c == b'<' && next == Some(b'<') && heredoc.is_none() {
            match ruby_heredoc(text, i) {
                Some((start, end, resume)) => {
                    heredoc = Some((start - 1, resume));
                    segs.push(Segment {
                        kind: SegKind::Literal,
                        open: start,
                        start,
                        end,
                        close: end,
                    });
                    i + 2
                }
                None => i + 2,
            }
        } else {
            i + 1
        };
    }
    segs.sort_by_key(|s| s.open);
    segs
}

pub(super) fn find_from(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// (content end, token end) of a quoted string whose content starts at `from`.
pub(super) fn scan_quoted(
    b: &[u8],
    from: usize,
    quote: u8,
    escapes: bool,
    multiline: bool,
) -> (usize, usize) {
    let mut j = from;
    while j < b.len() {
        match b[j] {
            b'\\' if escapes => j += 2,
            x if x == quote => return (j, j + 1),
            b'\n' if !multiline => return (j, j),
            _ => j += 1,
        }
    }
    (b.len(), b.len())
}

/// A Ruby heredoc `<<~SQL`, `<<-SQL`, `<<SQL` (upper-case tags only, so `a << b` and `x <<y`
/// stay shifts): (body start, body end, offset after the terminator line).
fn ruby_heredoc(text: &str, at: usize) -> Option<(usize, usize, usize)> {
    let rest = text.get(at + 2..)?;
    let rest = rest.strip_prefix(['~', '-']).unwrap_or(rest);
    let rest = rest.strip_prefix(['\'', '"']).unwrap_or(rest);
    let tag_len = rest
        .bytes()
        .take_while(|&c| c.is_ascii_uppercase() || c == b'_')
        .count();
    if tag_len == 0 || rest.as_bytes().get(tag_len).is_some_and(|&c| is_word(c)) {
        return None;
    }
    let tag = &rest[..tag_len];
    let start = at + text.get(at..)?.find('\n')? + 1;
    let mut line_start = start;
    while line_start < text.len() {
        let line_end = text[line_start..]
            .find('\n')
            .map_or(text.len(), |p| line_start + p);
        if text[line_start..line_end].trim() == tag {
            return Some((start, line_start, line_end));
        }
        line_start = line_end + 1;
    }
    Some((start, text.len(), text.len()))
}

#[cfg(test)]
mod tests {
    use crate::code::search::Strength::*;
    use crate::code::search::WriteKind::Update;
    use crate::code::search::testing::{assert_refs, assert_writes};

    #[test]
    fn rust_raw_string_spanning_lines_with_lifetimes() {
        let text = "fn load<'a>(db: &'a Db) -> Option<char> {\n    let c = '\\'';\n    db.query(r#\"\n        SELECT \"total\"\n        FROM public.orders\n    \"#);\n    Some('x')\n}\n";
        assert_refs(
            "src/db.rs",
            text,
            &[
                ("orders", Some("total"), &[(4, 17, SqlLiteral, true)]),
                ("orders", None, &[(5, 21, SqlLiteral, true)]),
            ],
        );
    }

    #[test]
    fn python_triple_quoted_sql() {
        let text = "def load(cur):\n    cur.execute(\"\"\"\n        select id, TOTAL\n        from orders\n    \"\"\")\n";
        assert_refs(
            "app/db.py",
            text,
            &[("orders", Some("total"), &[(3, 20, SqlLiteral, true)])],
        );
    }

    #[test]
    fn go_backtick_sql() {
        let text = "const q = `\nUPDATE orders\nSET total = $1\nWHERE id = $2`\nvar total int\n";
        let total = [(3, 5, SqlLiteral, true), (5, 5, Identifier, false)];
        assert_refs("db/q.go", text, &[("orders", Some("total"), &total)]);
    }

    #[test]
    fn ruby_heredoc_is_a_literal() {
        let text =
            "execute(<<~SQL, id)\n  UPDATE orders SET total = 0 WHERE id = ?\nSQL\ntotal = 1\n";
        let total = [(2, 21, SqlLiteral, true), (4, 1, Identifier, false)];
        assert_refs("a.rb", text, &[("orders", Some("total"), &total)]);
        assert_writes("a.rb", text, "orders", &[(2, Update, Some(&["total"]))]);
    }
}
