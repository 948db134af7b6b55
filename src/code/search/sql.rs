//! SQL inside string literals: is this literal SQL at all, and which INSERT/UPDATE statements
//! in it write which columns of a table.
//!
//! Old code embeds SQL in host-language strings full of placeholders (`$1`, `?`, `%s`,
//! `:name`, `${x}`, `#{x}`) and escapes, and statements are often fragments (`"WHERE total >
//! ?"`), so a real SQL parser would reject most of them. A loose tokenizer is enough to find a
//! write's target table and its column list, which is all an old-code INSERT needs to show
//! whether it provides a new NOT NULL column.

use super::WriteKind;
use super::lexer::{find_from, scan_quoted};
use super::names::is_word;

/// Whether a literal reads as SQL rather than as prose or a name.
pub(super) fn looks_like_sql(s: &str) -> bool {
    const KEYWORDS: [&str; 11] = [
        "SELECT",
        "INSERT",
        "UPDATE",
        "DELETE",
        "FROM",
        "INTO",
        "SET",
        "WHERE",
        "JOIN",
        "VALUES",
        "RETURNING",
    ];
    let mut found = [false; 11];
    for (i, w) in s
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
        .enumerate()
    {
        if let Some(k) = KEYWORDS.iter().position(|k| k.eq_ignore_ascii_case(w)) {
            // One upper-case keyword leading a fragment is SQL ("WHERE total > ?"); otherwise two
            // different keywords, so "failed to read total from cache" is not.
            if i == 0 && w.bytes().all(|c| c.is_ascii_uppercase()) {
                return true;
            }
            found[k] = true;
            if found.iter().filter(|f| **f).count() >= 2 {
                return true;
            }
        }
    }
    false
}

/// An INSERT or UPDATE of the table: where its keyword is, which kind, and the columns it
/// provides (None: positional, no column list).
pub(super) type SqlWrite = (usize, WriteKind, Option<Vec<String>>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Word,
    Quoted,
    Punct(u8),
    Other,
}

#[derive(Debug, Clone, Copy)]
struct Token {
    kind: Tok,
    start: usize,
    end: usize,
}

/// A loose SQL tokenizer over `text[start..end]`: words, quoted identifiers, punctuation, and
/// `Other` for strings, numbers and placeholders (`$1`, `?`, `%s`, `:name`, `@p`, `${x}`, `#{x}`).
fn sql_tokens(text: &str, start: usize, end: usize) -> Vec<Token> {
    let b = &text.as_bytes()[..end.min(text.len())];
    let mut out = Vec::new();
    let mut i = start;
    let tok = |kind, start, end| Token { kind, start, end };
    while i < b.len() {
        let c = b[i];
        let next = b.get(i + 1).copied();
        if c.is_ascii_whitespace() {
            i += 1;
        } else if c == b'\\' {
            // An escape of the host language: `\n` is a newline, `\"` a quote.
            i += if matches!(next, Some(b'n' | b't' | b'r')) {
                2
            } else {
                1
            };
        } else if c == b'-' && next == Some(b'-') {
            i = b[i..]
                .iter()
                .position(|&x| x == b'\n')
                .map_or(b.len(), |p| i + p);
        } else if c == b'/' && next == Some(b'*') {
            i = find_from(b, i + 2, b"*/").map_or(b.len(), |p| p + 2);
        } else if c == b'\'' {
            let (_, close) = scan_quoted(b, i + 1, b'\'', true, true);
            out.push(tok(Tok::Other, i, close));
            i = close.max(i + 1);
        } else if c == b'"' || c == b'`' {
            let (e, close) = scan_quoted(b, i + 1, c, false, true);
            let mut e = e;
            while e > i + 1 && b[e - 1] == b'\\' {
                e -= 1;
            }
            out.push(tok(Tok::Quoted, i + 1, e));
            i = close.max(i + 1);
        } else if (c == b'$' || c == b'#') && next == Some(b'{') {
            let close = b[i..]
                .iter()
                .position(|&x| x == b'}')
                .map_or(b.len(), |p| i + p + 1);
            out.push(tok(Tok::Other, i, close));
            i = close;
        } else if matches!(c, b'$' | b'@' | b'%')
            || (c == b':' && next.is_some_and(is_word) && (i == 0 || b[i - 1] != b':'))
        {
            let mut j = i + 1;
            if c == b'%' && next == Some(b'(') {
                j = b[i..]
                    .iter()
                    .position(|&x| x == b')')
                    .map_or(b.len(), |p| i + p + 1);
            }
            j += b[j.min(b.len())..]
                .iter()
                .take_while(|&&x| is_word(x))
                .count();
            out.push(tok(Tok::Other, i, j));
            i = j;
        } else if is_word(c) {
            let n = b[i..]
                .iter()
                .take_while(|&&x| is_word(x) || x == b'$')
                .count();
            let kind = if c.is_ascii_digit() {
                Tok::Other
            } else {
                Tok::Word
            };
            out.push(tok(kind, i, i + n));
            i += n;
        } else if c.is_ascii() {
            out.push(tok(Tok::Punct(c), i, i + 1));
            i += 1;
        } else {
            i += 1;
        }
    }
    out
}

/// Every INSERT/UPDATE/REPLACE/UPSERT of `table` in `text[start..end]`.
pub(super) fn writes(text: &str, start: usize, end: usize, table: &str) -> Vec<SqlWrite> {
    let toks: &[Token] = &sql_tokens(text, start, end);
    let word = |i: usize, w: &str| {
        toks.get(i).is_some_and(|t| {
            t.kind == Tok::Word
                && text
                    .get(t.start..t.end)
                    .is_some_and(|s| s.eq_ignore_ascii_case(w))
        })
    };
    let is_punct = |i: usize, c: u8| toks.get(i).is_some_and(|t| t.kind == Tok::Punct(c));
    let mut out = Vec::new();
    for i in 0..toks.len() {
        let prev_is = |ws: &[&str]| i > 0 && ws.iter().any(|w| word(i - 1, w));
        if word(i, "INSERT") || word(i, "UPSERT") || (word(i, "REPLACE") && !prev_is(&["OR"])) {
            let mut j = i + 1;
            while [
                "IGNORE",
                "LOW_PRIORITY",
                "DELAYED",
                "HIGH_PRIORITY",
                "OR",
                "REPLACE",
                "ROLLBACK",
                "ABORT",
                "FAIL",
                "INTO",
            ]
            .iter()
            .any(|w| word(j, w))
            {
                j += 1;
            }
            let Some((name, mut j)) = qualified_name(toks, text, j) else {
                continue;
            };
            if !name.eq_ignore_ascii_case(table) {
                continue;
            }
            if word(j, "AS") {
                j += 2;
            }
            let columns = if is_punct(j, b'(') && !word(j + 1, "SELECT") && !word(j + 1, "WITH") {
                Some(column_list(toks, text, j + 1))
            } else if word(j, "DEFAULT") {
                Some(Vec::new())
            } else if word(j, "SET") {
                Some(set_targets(toks, text, j + 1))
            } else {
                None
            };
            out.push((toks[i].start, WriteKind::Insert, columns));
        } else if word(i, "UPDATE")
            && !prev_is(&[
                "DO", "KEY", "FOR", "ON", "BEFORE", "AFTER", "OF", "OR", "INSTEAD",
            ])
        {
            let mut j = i + 1;
            while ["ONLY", "LOW_PRIORITY", "IGNORE"]
                .iter()
                .any(|w| word(j, w))
            {
                j += 1;
            }
            let Some((name, j)) = qualified_name(toks, text, j) else {
                continue;
            };
            if !name.eq_ignore_ascii_case(table) {
                continue;
            }
            // Aliases and MySQL joins may sit between the table and SET.
            let set = (j..toks.len())
                .take_while(|&k| !is_punct(k, b';'))
                .find(|&k| word(k, "SET"));
            if let Some(set) = set {
                out.push((
                    toks[i].start,
                    WriteKind::Update,
                    Some(set_targets(toks, text, set + 1)),
                ));
            }
        }
    }
    out
}

/// `schema.table`, `"table"`, `` `table` `` starting at token `i`: (last part, next token).
fn qualified_name(toks: &[Token], text: &str, mut i: usize) -> Option<(String, usize)> {
    let mut last = None;
    loop {
        let t = toks
            .get(i)
            .filter(|t| matches!(t.kind, Tok::Word | Tok::Quoted))?;
        last = text.get(t.start..t.end).map(str::to_string).or(last);
        i += 1;
        if toks.get(i).is_some_and(|t| t.kind == Tok::Punct(b'.')) {
            i += 1;
        } else {
            return last.map(|l| (l, i));
        }
    }
}

/// `(a, b, "c")`: the last identifier of each comma-separated item, starting after `(`.
fn column_list(toks: &[Token], text: &str, from: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut item: Option<&Token> = None;
    for t in &toks[from.min(toks.len())..] {
        match t.kind {
            Tok::Word | Tok::Quoted => item = Some(t),
            Tok::Punct(b',') | Tok::Punct(b')') => {
                out.extend(
                    item.take()
                        .and_then(|t| text.get(t.start..t.end))
                        .map(str::to_string),
                );
                if t.kind == Tok::Punct(b')') {
                    break;
                }
            }
            _ => {}
        }
    }
    out
}

/// The assigned columns of `SET a = …, (b, c) = (…), t.d = …`, up to WHERE/FROM/RETURNING.
fn set_targets(toks: &[Token], text: &str, from: usize) -> Vec<String> {
    const STOP: [&str; 7] = [
        "WHERE",
        "FROM",
        "RETURNING",
        "ORDER",
        "LIMIT",
        "OUTPUT",
        "ON",
    ];
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut expecting_target = true;
    let mut target: Option<&Token> = None;
    let mut i = from;
    while let Some(t) = toks.get(i) {
        let s = text.get(t.start..t.end).unwrap_or("");
        match t.kind {
            Tok::Punct(b'(') if expecting_target => {
                let cols = column_list(toks, text, i + 1);
                out.extend(cols);
                i += toks[i..]
                    .iter()
                    .position(|t| t.kind == Tok::Punct(b')'))
                    .unwrap_or(toks.len());
                target = None;
            }
            Tok::Punct(b'(') => depth += 1,
            Tok::Punct(b')') if depth == 0 => break,
            Tok::Punct(b')') => depth -= 1,
            Tok::Punct(b';') => break,
            Tok::Word if depth == 0 && STOP.iter().any(|w| s.eq_ignore_ascii_case(w)) => break,
            Tok::Word | Tok::Quoted if expecting_target => target = Some(t),
            Tok::Punct(b'=') if expecting_target => {
                out.extend(
                    target
                        .take()
                        .and_then(|t| text.get(t.start..t.end))
                        .map(str::to_string),
                );
                expecting_target = false;
            }
            Tok::Punct(b',') if depth == 0 => expecting_target = true,
            _ => {}
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::code::search::Strength::Identifier;
    use crate::code::search::WriteKind::{Insert, Update};
    use crate::code::search::testing::{assert_refs, assert_writes};
    use crate::code::search::writes;

    #[test]
    fn english_strings_are_not_sql() {
        let text = "log.info(\"failed to read total from cache\")\n";
        assert_refs(
            "app/q.py",
            text,
            &[("orders", Some("total"), &[(1, 26, Identifier, false)])],
        );
    }

    #[test]
    fn writes_insert_with_and_without_columns() {
        let text = "a = \"INSERT INTO orders (id, \\\"total\\\", note) VALUES ($1, $2, 'x, y')\"\nb = \"INSERT INTO orders VALUES (?, ?)\"\nc = \"insert into orders select * from old_orders\"\nd = \"INSERT INTO orders (id, total) SELECT id, total FROM old\"\ne = \"INSERT INTO invoices (id) VALUES (1)\"\n";
        assert_writes(
            "w.py",
            text,
            "orders",
            &[
                (1, Insert, Some(&["id", "total", "note"])),
                (2, Insert, None),
                (3, Insert, None),
                (4, Insert, Some(&["id", "total"])),
            ],
        );
    }

    #[test]
    fn writes_update_set_list() {
        let text = "q = \"UPDATE orders o SET total = total + :delta, updated_at = (SELECT max(t) FROM x WHERE a = b), o.note = %(n)s WHERE id = %s RETURNING id\"\nr = \"SELECT * FROM orders FOR UPDATE\"\n";
        let columns = ["total", "updated_at", "note"];
        assert_writes("w.py", text, "orders", &[(1, Update, Some(&columns))]);
        assert_eq!(writes("w.py", text, "orders")[0].column, 6);
    }

    #[test]
    fn writes_quoted_and_qualified_tables_and_upserts() {
        let text = "INSERT INTO public.\"orders\" (id, total) VALUES (1, 2)\n  ON CONFLICT (id) DO UPDATE SET total = excluded.total;\nREPLACE INTO `orders` (id) VALUES (1);\nUPDATE \"public\".orders SET (a, b) = (1, 2);\n";
        assert_writes(
            "m.sql",
            text,
            "orders",
            &[
                (1, Insert, Some(&["id", "total"])),
                (3, Insert, Some(&["id"])),
                (4, Update, Some(&["a", "b"])),
            ],
        );
    }
}
