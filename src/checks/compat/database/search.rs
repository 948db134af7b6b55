//! Where the old code uses a table or column, ranked by how sure gonogo is that it is one.
//!
//! During a rolling deploy the migrations of the new version run before the last old pod stops:
//! for minutes, code written against the previous schema still reads and writes the database.
//! A dropped or renamed column breaks every old query that names it, and a new NOT NULL column
//! without a default breaks every old INSERT that does not provide it. This module reads one
//! file of the old code (the caller fetches it from git at the base ref) and answers three
//! questions: where does it use this table or column, is the column already marked as going
//! away, and where does it write this table with which columns. It is pure and works on text:
//! a small lexer finds string literals and comments, SQL inside literals is tokenized loosely,
//! and ORM models are recognised by their declaration patterns. No file is parsed with a real
//! grammar, so results are evidence ranked by [`Strength`], never proof.

use std::collections::{BTreeSet, HashMap};

/// How sure gonogo is that a match is a use of the table or column (ordered weakest first).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Strength {
    /// A bare identifier or a word in a comment or a non-SQL string: `fn total(total: i64)`,
    /// a Rails schema dump's `t.decimal :total`. Not evidence by itself.
    Identifier,
    /// The exact name as a string literal or symbol, as query builders and ORMs take it:
    /// `.select("total")`, `pluck(:total)`, `where(total: …)`, `F("total")`, `filter(total=…)`,
    /// a `gorm:"column:total"` tag outside a recognised model, or any literal that is the first
    /// argument of a query-builder method (`where("total > ?")`).
    QueryBuilder,
    /// A model field declaration mapped to the table: Django `total = models.DecimalField(…)`,
    /// SQLAlchemy `total = Column(…)`/`mapped_column`/`Mapped[…]`, Diesel `table!` entries and
    /// `#[diesel(table_name = …)]` struct fields, JPA/Hibernate entity fields and
    /// `@Column(name = "total")`, TypeORM `@Column()` properties, GORM struct fields, Prisma model
    /// fields. Rails schema dumps and annotate comments are not this (they do not run).
    OrmField,
    /// Inside a string literal that is SQL (SQL keywords like SELECT/INSERT/UPDATE/DELETE/FROM/
    /// INTO/SET/WHERE/JOIN/VALUES/RETURNING), or anywhere outside comments in a .sql file.
    SqlLiteral,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Reference {
    pub path: String,
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
    pub strength: Strength,
    /// The same SQL string (statement in a .sql file), model, or nearby code also names the
    /// table, so the match is about this table and not a same-named column of another one.
    /// Always true for a reference to the table itself.
    pub names_table: bool,
    /// The line, trimmed, at most 120 characters (cut on a char boundary with "…").
    pub snippet: String,
}

/// A "this is going away" marker about the name: Rails `ignored_columns` listing it, or a
/// configured marker text on the same line as a reference or on the line just above it.
#[derive(Debug, Clone, PartialEq)]
pub struct Marker {
    pub path: String,
    pub line: u32,
    /// The marker's line, trimmed, cut like [`Reference::snippet`].
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Found {
    /// In file order, one per position (the strongest reading of that position).
    pub references: Vec<Reference>,
    /// In line order, one per line.
    pub markers: Vec<Marker>,
}

/// A place where the file writes the table.
#[derive(Debug, Clone, PartialEq)]
pub struct Write {
    pub path: String,
    pub line: u32,
    pub column: u32,
    pub kind: WriteKind,
    /// Columns the write provides, unquoted, as written. None when it names none (INSERT
    /// without a column list, `INSERT … SELECT *`): positional, so a new column is never
    /// provided. Rails models are `Model` with None: ActiveRecord writes whatever columns it
    /// read from the schema at boot, which is the old schema in an old pod.
    pub columns: Option<Vec<String>>,
    pub snippet: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteKind {
    Insert,
    Update,
    Model,
}

/// Uses of `column` of `table` (or of the table itself when `column` is None) in one file.
/// Matching is on whole words ([A-Za-z0-9_] boundaries), case-insensitive inside SQL and
/// comments, case-sensitive in code and other strings. Quoted SQL identifiers match too.
/// References that a marker covers are still returned (the caller decides).
pub fn find(
    path: &str,
    text: &str,
    table: &str,
    column: Option<&str>,
    markers: &[String],
) -> Found {
    let src = Source::new(text, lang_of(path));
    let table = bare_name(table);
    let name = column.map(bare_name).unwrap_or(table);
    if name.is_empty() {
        return Found::default();
    }
    let ctx = Context {
        table,
        is_table: column.is_none(),
        classes: class_names(table),
        schema_dump: src.lang == Lang::Ruby
            && (text.contains("ActiveRecord::Schema") || text.contains("ActiveRecord::Migration")),
    };
    let mut cache = Cache::default();
    let mut hits: Vec<(usize, Strength, bool)> = word_matches(text, name, src.lang == Lang::Python)
        .into_iter()
        .filter_map(|off| classify(&src, off, name, &ctx, &mut cache).map(|(s, t)| (off, s, t)))
        .collect();
    for model in models(&src) {
        let mapped = maps_to(&model, table);
        match column {
            Some(_) => hits.extend(
                (model
                    .fields
                    .iter()
                    .filter(|f| f.column.eq_ignore_ascii_case(name)))
                .map(|f| (f.offset, Strength::OrmField, mapped)),
            ),
            None if mapped => hits.push((model.offset, Strength::OrmField, true)),
            None => {}
        }
    }
    hits.sort_by_key(|h| h.0);
    let mut merged: Vec<(usize, Strength, bool)> = Vec::with_capacity(hits.len());
    for hit in hits {
        match merged.last_mut() {
            Some(last) if last.0 == hit.0 => {
                last.1 = last.1.max(hit.1);
                last.2 |= hit.2;
            }
            _ => merged.push(hit),
        }
    }
    let references: Vec<Reference> = merged
        .iter()
        .map(|&(off, strength, names_table)| {
            let (line, column) = src.position(off);
            Reference {
                path: path.to_string(),
                line,
                column,
                strength,
                names_table: names_table || ctx.is_table,
                snippet: snippet(src.line(src.line_index(off))),
            }
        })
        .collect();
    let mut marker_lines = BTreeSet::new();
    if column.is_some() {
        marker_lines.extend(ignored_columns_lines(&src, name));
    }
    let wanted: Vec<&str> = markers
        .iter()
        .map(String::as_str)
        .filter(|m| !m.is_empty())
        .collect();
    if !wanted.is_empty() {
        let ref_lines: BTreeSet<usize> = merged.iter().map(|h| src.line_index(h.0)).collect();
        for li in ref_lines {
            for l in [li.checked_sub(1), Some(li)].into_iter().flatten() {
                if wanted.iter().any(|m| src.line(l).contains(m)) {
                    marker_lines.insert(l);
                }
            }
        }
    }
    let markers = marker_lines
        .into_iter()
        .map(|li| Marker {
            path: path.to_string(),
            line: li as u32 + 1,
            text: snippet(src.line(li)),
        })
        .collect();
    Found {
        references,
        markers,
    }
}

/// Where this file writes `table`: SQL INSERT/UPDATE/REPLACE/UPSERT in string literals (the
/// whole text of a .sql file), and ORM models mapped to the table, which write the fields they
/// declare (a Django ForeignKey `customer` writes `customer_id`). Diesel `table!` blocks and
/// Queryable-only structs are not writes; `#[derive(Insertable)]`/`AsChangeset` structs are.
pub fn writes(path: &str, text: &str, table: &str) -> Vec<Write> {
    let src = Source::new(text, lang_of(path));
    let table = bare_name(table);
    let mut out = Vec::new();
    let mut push = |off: usize, kind: WriteKind, columns: Option<Vec<String>>| {
        let (line, column) = src.position(off);
        let snippet = snippet(src.line(src.line_index(off)));
        out.push(Write {
            path: path.to_string(),
            line,
            column,
            kind,
            columns,
            snippet,
        });
    };
    if src.lang == Lang::Sql {
        for (off, kind, cols) in sql_writes(&sql_tokens(text, 0, text.len()), text, table) {
            push(off, kind, cols);
        }
    } else {
        for seg in src.segs.iter().filter(|s| s.kind == SegKind::Literal) {
            if looks_like_sql(src.content(seg)) {
                for (off, kind, cols) in
                    sql_writes(&sql_tokens(text, seg.start, seg.end), text, table)
                {
                    push(off, kind, cols);
                }
            }
        }
    }
    for model in models(&src)
        .into_iter()
        .filter(|m| m.kind.writes() && maps_to(m, table))
    {
        let columns = (model.kind != ModelKind::Rails).then(|| {
            let mut cols: Vec<String> = Vec::new();
            for f in model.fields {
                if !cols.contains(&f.column) {
                    cols.push(f.column);
                }
            }
            cols
        });
        push(model.offset, WriteKind::Model, columns);
    }
    out.sort_by_key(|w| (w.line, w.column));
    out
}

// ---------------------------------------------------------------------------------------------
// Source text: language, lexed literals and comments, line positions.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    Sql,
    Rust,
    Python,
    Ruby,
    Go,
    Script,
    Jvm,
    Prisma,
    Hash,
    Other,
}

fn lang_of(path: &str) -> Lang {
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
enum SegKind {
    Literal,
    Comment,
}

/// A literal or comment: `open..close` is the whole token, `start..end` its content.
#[derive(Debug, Clone, Copy)]
struct Segment {
    kind: SegKind,
    open: usize,
    start: usize,
    end: usize,
    close: usize,
}

struct Source<'a> {
    text: &'a str,
    lang: Lang,
    segs: Vec<Segment>,
    lines: Vec<usize>,
}

impl<'a> Source<'a> {
    fn new(text: &'a str, lang: Lang) -> Self {
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

    fn line_index(&self, off: usize) -> usize {
        self.lines.partition_point(|&s| s <= off).saturating_sub(1)
    }

    fn line_start(&self, li: usize) -> usize {
        self.lines.get(li).copied().unwrap_or(self.text.len())
    }

    fn line(&self, li: usize) -> &'a str {
        let end = self.lines.get(li + 1).map_or(self.text.len(), |e| e - 1);
        let line = self.text.get(self.line_start(li)..end).unwrap_or("");
        line.strip_suffix('\r').unwrap_or(line)
    }

    /// 1-based line and character column.
    fn position(&self, off: usize) -> (u32, u32) {
        let li = self.line_index(off);
        let col = self
            .text
            .get(self.line_start(li)..off)
            .map_or(0, |s| s.chars().count());
        (li as u32 + 1, col as u32 + 1)
    }

    fn seg_index(&self, off: usize) -> Option<usize> {
        let i = self
            .segs
            .partition_point(|s| s.open <= off)
            .checked_sub(1)?;
        (self.segs[i].close > off).then_some(i)
    }

    fn is_code(&self, off: usize) -> bool {
        self.seg_index(off).is_none()
    }

    fn content(&self, seg: &Segment) -> &'a str {
        self.text.get(seg.start..seg.end).unwrap_or("")
    }

    /// The first literal opening in `from..to`.
    fn literal_after(&self, from: usize, to: usize) -> Option<&Segment> {
        let i = self.segs.partition_point(|s| s.open < from);
        self.segs[i..]
            .iter()
            .take_while(|s| s.open < to)
            .find(|s| s.kind == SegKind::Literal)
    }

    /// The literal right after `pos` (only whitespace between), e.g. a call's first argument.
    fn literal_at(&self, pos: usize) -> Option<&Segment> {
        let seg = self.literal_after(pos, pos + 200)?;
        self.text
            .get(pos..seg.open)?
            .trim()
            .is_empty()
            .then_some(seg)
    }

    /// The byte after the bracket matching the one at `open`, skipping literals and comments.
    fn close_of(&self, open: usize, limit: usize) -> Option<usize> {
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

fn find_from(b: &[u8], from: usize, needle: &[u8]) -> Option<usize> {
    b.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|p| from + p)
}

/// (content end, token end) of a quoted string whose content starts at `from`.
fn scan_quoted(b: &[u8], from: usize, quote: u8, escapes: bool, multiline: bool) -> (usize, usize) {
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

// ---------------------------------------------------------------------------------------------
// Classifying one match.

struct Context<'a> {
    table: &'a str,
    is_table: bool,
    classes: Vec<String>,
    schema_dump: bool,
}

/// Per-file answers that would otherwise be recomputed for every match in the same literal.
#[derive(Default)]
struct Cache {
    literal: HashMap<usize, (bool, bool)>, // segment index -> (is SQL, names the table)
    statement: HashMap<usize, bool>,       // .sql statement start -> names the table
    semicolons: Option<Vec<usize>>,        // .sql statement ends
}

fn classify(
    src: &Source,
    off: usize,
    name: &str,
    ctx: &Context,
    cache: &mut Cache,
) -> Option<(Strength, bool)> {
    let exact = src.text.get(off..off + name.len()) == Some(name);
    let li = src.line_index(off);
    let seg = src.seg_index(off).map(|i| (i, src.segs[i]));
    if seg.is_some_and(|(_, s)| s.kind == SegKind::Comment) {
        return Some((
            Strength::Identifier,
            has_word(src.line(li), ctx.table, true),
        ));
    }
    if src.lang == Lang::Sql {
        // A statement ends at `;`; its table mention decides, not the whole file's.
        let semicolons = cache
            .semicolons
            .get_or_insert_with(|| src.text.match_indices(';').map(|(i, _)| i).collect());
        let next = semicolons.partition_point(|&p| p < off);
        let start = next.checked_sub(1).map_or(0, |i| semicolons[i] + 1);
        let end = semicolons.get(next).copied().unwrap_or(src.text.len());
        let names = *cache
            .statement
            .entry(start)
            .or_insert_with(|| has_word(src.text.get(start..end).unwrap_or(""), ctx.table, true));
        return Some((Strength::SqlLiteral, names));
    }
    if let Some((index, seg)) = seg {
        let content = src.content(&seg);
        let (sql, names) = *cache
            .literal
            .entry(index)
            .or_insert_with(|| (looks_like_sql(content), has_word(content, ctx.table, true)));
        if sql {
            return Some((Strength::SqlLiteral, names));
        }
        if !exact {
            return None;
        }
        let before = src.text.get(seg.start..off).unwrap_or("");
        let bare = content.trim_start_matches('-');
        let qualified = bare
            .strip_suffix(name)
            .and_then(|p| p.strip_suffix('.'))
            .is_some_and(|p| p.bytes().all(is_word));
        if bare == name || qualified || before.ends_with("column:") || builder_argument(src, &seg) {
            return Some((Strength::QueryBuilder, nearby_names_table(src, li, ctx)));
        }
        return Some((
            Strength::Identifier,
            has_word(src.line(li), ctx.table, true),
        ));
    }
    if !exact {
        return None;
    }
    let b = src.text.as_bytes();
    let at = |i: Option<usize>| i.and_then(|i| b.get(i)).copied();
    let end = off + name.len();
    let builder = match src.lang {
        // Ruby symbols and hash keys: `pluck(:total)`, `where(total: 5)`, not `Foo::total`.
        Lang::Ruby if !ctx.schema_dump => {
            (at(off.checked_sub(1)) == Some(b':') && at(off.checked_sub(2)) != Some(b':'))
                || (at(Some(end)) == Some(b':') && at(Some(end + 1)) != Some(b':'))
        }
        Lang::Python => django_keyword(src, end, li),
        _ => false,
    };
    if builder {
        return Some((Strength::QueryBuilder, nearby_names_table(src, li, ctx)));
    }
    Some((
        Strength::Identifier,
        has_word(src.line(li), ctx.table, true),
    ))
}

/// A Django queryset keyword argument: `filter(total=5)`, `filter(total__gt=5)`.
fn django_keyword(src: &Source, end: usize, li: usize) -> bool {
    let rest = src.text.get(end..).unwrap_or("");
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_alphanumeric() || c == '_');
    let line = src.line(li);
    rest.starts_with('=')
        && !rest.starts_with("==")
        && [
            ".objects.",
            ".filter(",
            ".exclude(",
            ".update(",
            ".create(",
            ".get(",
            "_or_create(",
            ".filter_by(",
        ]
        .iter()
        .any(|m| line.contains(m))
}

const BUILDER_METHODS: &[&str] = &[
    "where",
    "or_where",
    "orwhere",
    "and_where",
    "andwhere",
    "where_raw",
    "whereraw",
    "not",
    "rewhere",
    "select",
    "select_raw",
    "selectraw",
    "add_select",
    "addselect",
    "order",
    "order_by",
    "orderby",
    "reorder",
    "group",
    "group_by",
    "groupby",
    "having",
    "pluck",
    "joins",
    "filter",
    "exclude",
    "values",
    "values_list",
    "only",
    "defer",
    "distinct",
    "sum",
    "count",
    "average",
    "avg",
    "minimum",
    "maximum",
    "min",
    "max",
    "update_all",
    "update_column",
    "update_columns",
    "increment",
    "decrement",
    "column",
    "col",
    "f",
];

/// A literal that is the first argument of a query-builder method: `where("total > ?")`.
fn builder_argument(src: &Source, seg: &Segment) -> bool {
    let before = src.text.get(..seg.open).unwrap_or("").trim_end();
    let Some(before) = before.strip_suffix('(') else {
        return false;
    };
    let method_len = before.bytes().rev().take_while(|&c| is_word(c)).count();
    let method = before[before.len() - method_len..].to_ascii_lowercase();
    BUILDER_METHODS.contains(&method.as_str())
}

/// The table or its model class on the same line or the 5 above: `Order.where(total: 5)`.
fn nearby_names_table(src: &Source, li: usize, ctx: &Context) -> bool {
    (li.saturating_sub(5)..=li).any(|l| {
        let line = src.line(l);
        has_word(line, ctx.table, true) || ctx.classes.iter().any(|c| has_word(line, c, false))
    })
}

fn looks_like_sql(s: &str) -> bool {
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

/// Rails `self.ignored_columns = [...]`/`+= %w[...]`/`<< "x"` lines that list `column`.
fn ignored_columns_lines(src: &Source, column: &str) -> Vec<usize> {
    let mut out = Vec::new();
    for off in word_matches(src.text, "ignored_columns", false) {
        if !src.is_code(off) {
            continue;
        }
        let from = off + "ignored_columns".len();
        let line_end = src
            .text
            .get(from..)
            .and_then(|s| s.find('\n'))
            .map_or(src.text.len(), |p| from + p);
        let bracket = src
            .text
            .get(from..line_end)
            .and_then(|s| s.find(['[', '(']))
            .map(|p| from + p);
        let end = bracket
            .and_then(|b| src.close_of(b, 4000))
            .unwrap_or(line_end)
            .max(line_end);
        if has_word(src.text.get(from..end).unwrap_or(""), column, true) {
            out.push(src.line_index(off));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// ORM models.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ModelKind {
    Django,
    SqlAlchemy,
    DieselTable,
    DieselStruct { writes: bool },
    Entity,
    TypeOrm,
    Gorm,
    Prisma,
    Rails,
}

impl ModelKind {
    fn writes(self) -> bool {
        !matches!(
            self,
            ModelKind::DieselTable | ModelKind::DieselStruct { writes: false }
        )
    }
}

#[derive(Debug, Clone)]
struct Model {
    kind: ModelKind,
    class: String,
    /// The table named in the code (`db_table`, `__tablename__`, `@Table`, `@@map`, …).
    table: Option<String>,
    offset: usize,
    fields: Vec<Field>,
}

#[derive(Debug, Clone)]
struct Field {
    column: String,
    offset: usize,
}

fn models(src: &Source) -> Vec<Model> {
    match src.lang {
        Lang::Python => python_models(src),
        Lang::Ruby => rails_models(src),
        Lang::Rust => diesel_models(src),
        Lang::Jvm => entity_models(src, false),
        Lang::Script => entity_models(src, true),
        Lang::Go => gorm_models(src),
        Lang::Prisma => prisma_models(src),
        _ => Vec::new(),
    }
}

/// Whether the model is mapped to `table`: by its explicit table, else by the framework's
/// default name (Django `<app>_<model>`, Rails/GORM plural snake case, JPA/TypeORM/Prisma name).
fn maps_to(model: &Model, table: &str) -> bool {
    let table = table.to_ascii_lowercase();
    if let Some(explicit) = &model.table {
        return bare_name(explicit).eq_ignore_ascii_case(&table);
    }
    if matches!(
        model.kind,
        ModelKind::SqlAlchemy | ModelKind::DieselTable | ModelKind::DieselStruct { .. }
    ) {
        return false;
    }
    let lower = model.class.to_ascii_lowercase();
    let snake = snake_case(&model.class);
    [plural(&lower), plural(&snake), lower, snake]
        .iter()
        .any(|c| {
            *c == table || (model.kind == ModelKind::Django && table.ends_with(&format!("_{c}")))
        })
}

fn python_models(src: &Source) -> Vec<Model> {
    let mut out = Vec::new();
    let count = src.lines.len();
    let mut li = 0;
    while li < count {
        let line = src.line(li);
        let indent = indent_of(line);
        let Some(rest) = line.trim_start().strip_prefix("class ") else {
            li += 1;
            continue;
        };
        let class_off = src.line_start(li) + indent + 6;
        let name_len = ident_len(rest);
        if name_len == 0 || !src.is_code(class_off) {
            li += 1;
            continue;
        }
        let bases = rest[name_len..].split(')').next().unwrap_or("");
        let mut django = bases.contains("models.Model");
        // Forms and serializers declare `x = CharField()` too, but are not tables.
        let model_base =
            bases.contains("Model") && !bases.contains("Form") && !bases.contains("Serializer");
        let mut model = Model {
            kind: ModelKind::SqlAlchemy,
            class: rest[..name_len].to_string(),
            table: None,
            offset: class_off,
            fields: Vec::new(),
        };
        let mut body_indent = None;
        let mut j = li + 1;
        while j < count {
            let l = src.line(j);
            let ind = indent_of(l);
            let t = l.trim();
            if t.is_empty() || t.starts_with('#') || !src.is_code(src.line_start(j) + ind) {
                j += 1;
                continue;
            }
            if ind <= indent {
                break;
            }
            let first = *body_indent.get_or_insert(ind);
            if let Some(table) = assigned_literal(src, j, ind, "db_table")
                .or_else(|| assigned_literal(src, j, ind, "__tablename__"))
            {
                model.table = Some(table);
            } else if ind == first
                && let Some((field, is_django)) = python_field(src, j, ind, django || model_base)
            {
                django |= is_django;
                model.fields.push(field);
            }
            j += 1;
        }
        li = j.max(li + 1);
        if django {
            model.kind = ModelKind::Django;
        }
        if django || model.table.is_some() || !model.fields.is_empty() {
            out.push(model);
        }
    }
    out
}

/// `key = "literal"` on line `li` at indentation `ind`.
fn assigned_literal(src: &Source, li: usize, ind: usize, key: &str) -> Option<String> {
    let rest = src.line(li).get(ind..)?.strip_prefix(key)?;
    let value = rest.trim_start().strip_prefix('=')?;
    let pos = src.line_start(li) + src.line(li).len() - value.len();
    src.literal_at(pos).map(|s| src.content(s).to_string())
}

/// A Django or SQLAlchemy field declaration: (field, is Django).
fn python_field(src: &Source, li: usize, ind: usize, django_class: bool) -> Option<(Field, bool)> {
    let line = src.line(li).get(ind..)?;
    let start = src.line_start(li) + ind;
    let name_len = ident_len(line);
    let name = line.get(..name_len).filter(|n| !n.is_empty())?;
    let rest = line[name_len..].trim_start();
    fn rhs_of(r: &str) -> Option<&str> {
        r.find('=').map(|p| r[p + 1..].trim_start())
    }
    let (rhs, annotated) = if let Some(ann) = rest.strip_prefix(':') {
        (rhs_of(ann), ann.contains("Mapped["))
    } else if rest.starts_with('=') && !rest.starts_with("==") {
        (rhs_of(rest), false)
    } else {
        return None;
    };
    let field = |column: String, offset| Field { column, offset };
    let Some(rhs) = rhs else {
        return annotated.then(|| (field(name.to_string(), start), false));
    };
    let paren = start + line.len() - rhs.len() + rhs.find('(').unwrap_or(rhs.len());
    let callee = rhs.split('(').next().unwrap_or("").trim();
    let last = callee.rsplit('.').next().unwrap_or("");
    if last == "Column" || last == "mapped_column" {
        // SQLAlchemy: a first positional string argument is the column name.
        return Some(match src.literal_at(paren + 1) {
            Some(seg) => (field(src.content(seg).to_string(), seg.start), false),
            None => (field(name.to_string(), start), false),
        });
    }
    if annotated && !rhs.contains("relationship(") {
        return Some((field(name.to_string(), start), false));
    }
    let django_type = last.ends_with("Field") || last == "ForeignKey";
    if !django_type
        || !(callee.starts_with("models.") || (django_class && !callee.contains('.')))
        || last == "ManyToManyField"
        || !rhs.contains('(')
    {
        return None;
    }
    let call_end = src.close_of(paren, 4000).unwrap_or(paren);
    let call = src.text.get(paren..call_end).unwrap_or("");
    if let Some(p) = call.find("db_column")
        && let Some(seg) = src.literal_after(paren + p, call_end)
    {
        return Some((field(src.content(seg).to_string(), seg.start), true));
    }
    let column = if last == "ForeignKey" || last == "OneToOneField" {
        format!("{name}_id")
    } else {
        name.to_string()
    };
    Some((field(column, start), true))
}

fn rails_models(src: &Source) -> Vec<Model> {
    let mut out: Vec<Model> = Vec::new();
    for li in 0..src.lines.len() {
        let line = src.line(li);
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("class ") {
            let Some((name, base)) = rest.split_once('<') else {
                continue;
            };
            let base = base.trim();
            if base == "ApplicationRecord"
                || base == "ActiveRecord::Base"
                || base.ends_with("Record")
            {
                let class = name.trim().rsplit("::").next().unwrap_or("").to_string();
                let offset = src.line_start(li) + line.len() - rest.len();
                out.push(Model {
                    kind: ModelKind::Rails,
                    class,
                    table: None,
                    offset,
                    fields: Vec::new(),
                });
            }
        } else if let Some(model) = out.last_mut()
            && let Some(table) = assigned_literal(src, li, indent_of(line), "self.table_name")
        {
            model.table = Some(table);
        }
    }
    out
}

fn diesel_models(src: &Source) -> Vec<Model> {
    let mut out = Vec::new();
    let text = src.text;
    for off in word_matches(text, "table", false) {
        let after = off + 5;
        if !src.is_code(off) || text.as_bytes().get(after) != Some(&b'!') {
            continue;
        }
        if let Some(model) = diesel_table(src, after + 1) {
            out.push(model);
        }
    }
    for li in 0..src.lines.len() {
        if let Some(model) = diesel_struct(src, li) {
            out.push(model);
        }
    }
    out
}

/// `table! { [use …;] orders (id) { total -> Numeric, … } }` starting after the `!`.
fn diesel_table(src: &Source, mut i: usize) -> Option<Model> {
    let text = src.text;
    let skip_ws = |i: usize| i + text.get(i..).map_or(0, |s| s.len() - s.trim_start().len());
    i = skip_ws(i);
    if !matches!(text.as_bytes().get(i), Some(b'{' | b'(')) {
        return None;
    }
    i = skip_ws(i + 1);
    loop {
        let rest = text.get(i..)?;
        if rest.starts_with("use ") {
            i = skip_ws(i + rest.find(';')? + 1);
        } else if rest.starts_with("#[") {
            i = skip_ws(i + rest.find(']')? + 1);
        } else {
            break;
        }
    }
    let rest = text.get(i..)?;
    let path_len = rest
        .bytes()
        .take_while(|&c| is_word(c) || c == b'.')
        .count();
    let path = &rest[..path_len];
    let name = path.rsplit('.').next().unwrap_or(path);
    let name_off = i + path_len - name.len();
    let open = i + path_len + rest[path_len..].find('{')?;
    let close = src.close_of(open, 200_000)?;
    let mut fields = Vec::new();
    let mut sql_name = None;
    for li in src.line_index(open) + 1..=src.line_index(close) {
        let line = src.line(li);
        let t = line.trim_start();
        if t.starts_with("#[sql_name") {
            sql_name = src
                .literal_after(src.line_start(li), src.line_start(li) + line.len())
                .map(|s| (src.content(s).to_string(), s.start));
        } else if let Some((col, _)) = t.split_once("->") {
            let col = col.trim();
            if !col.is_empty() && col.bytes().all(is_word) {
                let off = src.line_start(li) + line.len() - t.len();
                let (column, offset) = sql_name.take().unwrap_or((col.to_string(), off));
                fields.push(Field { column, offset });
            }
        }
    }
    (!name.is_empty()).then(|| Model {
        kind: ModelKind::DieselTable,
        class: name.to_string(),
        table: Some(name.to_string()),
        offset: name_off,
        fields,
    })
}

/// A struct under `#[diesel(table_name = orders)]` or `#[table_name = "orders"]`.
fn diesel_struct(src: &Source, li: usize) -> Option<Model> {
    let line = src.line(li).trim();
    if !line.starts_with("#[") {
        return None;
    }
    let value = line
        .split_once("table_name")?
        .1
        .trim_start()
        .strip_prefix('=')?;
    let value = value.trim_start().trim_start_matches('"');
    let path_len = value
        .bytes()
        .take_while(|&c| is_word(c) || c == b':')
        .count();
    let table = value[..path_len].rsplit("::").next()?.to_string();
    let struct_line = (li + 1..src.lines.len().min(li + 12)).find(|&l| {
        let t = src.line(l).trim_start();
        t.starts_with("struct ")
            || t.starts_with("pub struct ")
            || t.starts_with("pub(crate) struct ")
    })?;
    let header = src.line(struct_line);
    let class_at = header.find("struct ")? + 7;
    let class_len = ident_len(&header[class_at..]);
    let attrs = (li.saturating_sub(6)..struct_line)
        .map(|l| src.line(l))
        .collect::<Vec<_>>()
        .join(" ");
    let writes = attrs.contains("Insertable") || attrs.contains("AsChangeset");
    let mut fields = Vec::new();
    let mut rename = None;
    for l in struct_line + 1..src.lines.len() {
        let t = src.line(l).trim_start();
        if t.starts_with('}') {
            break;
        }
        if let Some(r) = t.split_once("column_name") {
            let v = r.1.trim_start().trim_start_matches(['=', ' ', '"']);
            rename = Some(v[..ident_len(v)].to_string());
            continue;
        }
        let decl = t
            .strip_prefix("pub(crate) ")
            .or_else(|| t.strip_prefix("pub "))
            .unwrap_or(t);
        let n = ident_len(decl);
        if n > 0 && decl[n..].trim_start().starts_with(':') {
            let offset = src.line_start(l) + src.line(l).len() - decl.len();
            fields.push(Field {
                column: rename.take().unwrap_or_else(|| decl[..n].to_string()),
                offset,
            });
        }
    }
    Some(Model {
        kind: ModelKind::DieselStruct { writes },
        class: header[class_at..class_at + class_len].to_string(),
        table: Some(table),
        offset: src.line_start(struct_line) + class_at,
        fields,
    })
}

/// JPA/Hibernate (`script` false: Java, Kotlin) and TypeORM (`script` true) entities.
fn entity_models(src: &Source, script: bool) -> Vec<Model> {
    let mut out = Vec::new();
    let count = src.lines.len();
    for li in 0..count {
        let line = src.line(li);
        let Some(at) = line.find("@Entity") else {
            continue;
        };
        if !line[..at].trim().is_empty() || !src.is_code(src.line_start(li) + at) {
            continue;
        }
        let Some((cl, class_at)) =
            (li..count.min(li + 20)).find_map(|l| src.line(l).find("class ").map(|p| (l, p + 6)))
        else {
            continue;
        };
        let header = src.line(cl);
        let class = header[class_at..class_at + ident_len(&header[class_at..])].to_string();
        let (mut from_table, mut from_entity) = (None, None);
        for l in li.saturating_sub(6)..=cl {
            let text = src.line(l);
            if let Some(p) = text.find("@Table") {
                from_table = key_literal(src, l, p, "name");
            } else if let Some(p) = text.find("@Entity(") {
                let start = src.line_start(l) + p + 8;
                from_entity = key_literal(src, l, p, "name").or_else(|| {
                    src.literal_at(start)
                        .map(|s| (src.content(s).to_string(), s.start))
                });
            }
        }
        let table = from_table.or(from_entity).map(|t| t.0);
        let kind = if script {
            ModelKind::TypeOrm
        } else {
            ModelKind::Entity
        };
        let fields = entity_fields(src, cl, script);
        out.push(Model {
            kind,
            class,
            table,
            offset: src.line_start(cl) + class_at,
            fields,
        });
    }
    out
}

/// The literal after `key =` or `key:` on line `li`, from byte `from` of the line.
fn key_literal(src: &Source, li: usize, from: usize, key: &str) -> Option<(String, usize)> {
    let line = src.line(li);
    let p = from
        + word_matches(line.get(from..)?, key, false)
            .into_iter()
            .next()?;
    let rest = line[p + key.len()..].trim_start();
    let rest = rest.strip_prefix(['=', ':'])?;
    let seg = src.literal_at(src.line_start(li) + line.len() - rest.len())?;
    Some((src.content(seg).to_string(), seg.start))
}

fn entity_fields(src: &Source, class_line: usize, script: bool) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut depth = 0i32;
    let mut in_body = false;
    let mut pending: Vec<usize> = Vec::new(); // annotation lines waiting for their declaration
    let mut open_parens = 0i32;
    for li in class_line..src.lines.len() {
        let line = src.line(li);
        let ls = src.line_start(li);
        let depth_at_start = depth;
        for (k, c) in line.bytes().enumerate() {
            if (c == b'{' || c == b'}') && src.is_code(ls + k) {
                depth += if c == b'{' { 1 } else { -1 };
                in_body = true;
            }
        }
        let t = line.trim_start();
        let constructor = !script && depth_at_start == 0 && !(in_body && depth_at_start > 0);
        if (depth_at_start == 1 && li > class_line) || constructor {
            if open_parens > 0 {
                open_parens += paren_balance(t);
                pending.push(li);
            } else if let Some(field) = entity_member(src, li, &pending, script, &mut open_parens) {
                fields.extend(field);
                pending.clear();
            } else if open_parens > 0 || (t.starts_with('@') && !t.contains(';')) {
                pending.push(li);
            } else if !t.is_empty()
                && !t.starts_with("//")
                && !t.starts_with('*')
                && !t.starts_with("/*")
            {
                pending.clear();
            }
        }
        if in_body && depth <= 0 {
            break;
        }
    }
    fields
}

fn paren_balance(s: &str) -> i32 {
    s.bytes()
        .map(|c| i32::from(c == b'(') - i32::from(c == b')'))
        .sum()
}

/// One member line of an entity; `Some(None)` = a declaration that is not a column.
fn entity_member(
    src: &Source,
    li: usize,
    pending: &[usize],
    script: bool,
    open_parens: &mut i32,
) -> Option<Option<Field>> {
    let line = src.line(li);
    let mut t = line.trim_start();
    // Annotations in front of the declaration on the same line.
    while let Some(rest) = t.strip_prefix('@') {
        let n = rest
            .bytes()
            .take_while(|&c| is_word(c) || c == b'.')
            .count();
        let mut rest = &rest[n..];
        if rest.starts_with('(') {
            let bal = paren_balance(rest);
            if bal > 0 {
                *open_parens = bal;
                return None;
            }
            let mut depth = 0;
            let end = rest.bytes().position(|c| {
                depth += i32::from(c == b'(') - i32::from(c == b')');
                depth == 0
            })?;
            rest = &rest[end + 1..];
        }
        t = rest.trim_start();
    }
    if t.is_empty() {
        return None;
    }
    let modifiers = [
        "public ",
        "private ",
        "protected ",
        "readonly ",
        "override ",
        "lateinit ",
        "open ",
        "final ",
        "@JvmField ",
    ];
    let mut decl = t;
    while let Some(m) = modifiers.iter().find(|m| decl.starts_with(**m)) {
        decl = decl[m.len()..].trim_start();
    }
    let kotlin = decl
        .strip_prefix("val ")
        .or_else(|| decl.strip_prefix("var "));
    let name = if let Some(k) = kotlin {
        let k = k.trim_start();
        &k[..ident_len(k)]
    } else if script {
        let n = ident_len(decl);
        let after = decl[n..].trim_start_matches(['!', '?']).trim_start();
        if n == 0
            || !(after.starts_with(':') || after.starts_with('='))
            || decl.starts_with("static ")
        {
            return Some(None);
        }
        &decl[..n]
    } else {
        let stop = decl.find([';', '='])?;
        if decl[..stop].contains('(') || decl.contains("static ") || decl.contains("transient ") {
            return Some(None);
        }
        let last = decl[..stop].split_whitespace().last()?;
        last.trim_end_matches("[]")
    };
    if name.is_empty() {
        return Some(None);
    }
    let name_off = src.line_start(li) + line.len() - decl.len() + decl.find(name).unwrap_or(0);
    let annotation_lines: Vec<usize> = pending.iter().copied().chain(std::iter::once(li)).collect();
    let annotations = annotation_lines
        .iter()
        .map(|&l| src.line(l))
        .collect::<Vec<_>>()
        .join(" ");
    let has = |a: &str| annotations.contains(a);
    if has("@Transient")
        || has("@OneToMany")
        || has("@ManyToMany")
        || has("@Embedded")
        || has("@ElementCollection")
    {
        return Some(None);
    }
    let relation = has("@ManyToOne") || has("@OneToOne");
    if script && !(relation || has("Column(")) {
        return Some(None);
    }
    let explicit = annotation_lines.iter().find_map(|&l| {
        let text = src.line(l);
        let from = text
            .find("Column(")
            .or_else(|| (!text.trim_start().starts_with('@')).then_some(0))?;
        if l == li && from == 0 && !text.contains("Column(") {
            return None;
        }
        key_literal(src, l, from, "name")
    });
    let (column, offset) = match explicit {
        Some(e) => e,
        None if relation && script => (format!("{name}Id"), name_off),
        None if relation => (format!("{}_id", snake_case(name)), name_off),
        None if script => (name.to_string(), name_off),
        None => (snake_case(name), name_off),
    };
    Some(Some(Field { column, offset }))
}

fn gorm_models(src: &Source) -> Vec<Model> {
    let count = src.lines.len();
    let mut tables: HashMap<String, String> = HashMap::new();
    let mut structs: Vec<(usize, String, usize)> = Vec::new();
    for li in 0..count {
        let line = src.line(li);
        let t = line.trim_start();
        if let Some(rest) = t.strip_prefix("func (")
            && let Some((receiver, after)) = rest.split_once(')')
            && after.trim_start().starts_with("TableName()")
        {
            let ty = receiver
                .split_whitespace()
                .last()
                .unwrap_or("")
                .trim_start_matches('*');
            let limit = src.line_start((li + 4).min(count));
            if let Some(seg) = src.literal_after(src.line_start(li), limit) {
                tables.insert(ty.to_string(), src.content(seg).to_string());
            }
        } else if let Some(rest) = t.strip_prefix("type ")
            && rest.trim_end().ends_with("struct {")
        {
            let n = ident_len(rest);
            structs.push((
                li,
                rest[..n].to_string(),
                src.line_start(li) + line.len() - rest.len(),
            ));
        }
    }
    let names: Vec<&str> = structs.iter().map(|s| s.1.as_str()).collect();
    let mut out = Vec::new();
    for (li, class, offset) in &structs {
        let mut fields = Vec::new();
        let mut is_gorm = false;
        for l in li + 1..count {
            let line = src.line(l);
            let t = line.trim_start();
            if t.starts_with('}') {
                break;
            }
            let at = src.line_start(l) + line.len() - t.len();
            let mut words = t.split_whitespace();
            let (Some(name), ty) = (words.next(), words.next()) else {
                continue;
            };
            if name == "gorm.Model" {
                is_gorm = true;
                fields.extend(
                    ["id", "created_at", "updated_at", "deleted_at"].map(|c| Field {
                        column: c.into(),
                        offset: at,
                    }),
                );
                continue;
            }
            let tag = t
                .split_once("gorm:\"")
                .map(|(_, r)| r.split('"').next().unwrap_or(""));
            is_gorm |= tag.is_some();
            let ty = ty.unwrap_or("").trim_start_matches('*');
            let related = names.contains(&ty.trim_start_matches("[]"))
                || (ty.starts_with("[]") && ty != "[]byte");
            let tag = tag.unwrap_or("");
            if !name.starts_with(|c: char| c.is_ascii_uppercase())
                || related
                || tag == "-"
                || tag.starts_with("-;")
                || tag.contains("many2many")
            {
                continue;
            }
            let column = tag.split(';').find_map(|p| p.strip_prefix("column:"));
            fields.push(match column {
                Some(c) => Field {
                    column: c.to_string(),
                    offset: at + t.find(&format!("column:{c}")).unwrap_or(0) + 7,
                },
                None => Field {
                    column: snake_case(name),
                    offset: at,
                },
            });
        }
        if is_gorm {
            out.push(Model {
                kind: ModelKind::Gorm,
                class: class.clone(),
                table: tables.get(class).cloned(),
                offset: *offset,
                fields,
            });
        }
    }
    out
}

fn prisma_models(src: &Source) -> Vec<Model> {
    let count = src.lines.len();
    let heads: Vec<(usize, &str)> = (0..count)
        .filter_map(|li| {
            let rest = src.line(li).trim_start().strip_prefix("model ")?;
            Some((li, &rest[..ident_len(rest)]))
        })
        .collect();
    let names: Vec<&str> = heads.iter().map(|h| h.1).collect();
    let mut out = Vec::new();
    for &(li, class) in &heads {
        let mut model = Model {
            kind: ModelKind::Prisma,
            class: class.to_string(),
            table: None,
            offset: src.line_start(li) + src.line(li).find(class).unwrap_or(0),
            fields: Vec::new(),
        };
        for l in li + 1..count {
            let line = src.line(l);
            let t = line.trim_start();
            let at = src.line_start(l) + line.len() - t.len();
            let mapped = |from: usize| {
                src.literal_after(from, src.line_start(l) + line.len())
                    .map(|s| (src.content(s).to_string(), s.start))
            };
            if t.starts_with('}') {
                break;
            } else if let Some(p) = t.find("@@map(") {
                model.table = mapped(at + p).map(|m| m.0);
            } else if !t.starts_with("@@") && !t.starts_with("//") {
                let mut words = t.split_whitespace();
                let (Some(name), Some(ty)) = (words.next(), words.next()) else {
                    continue;
                };
                if t.contains("@relation")
                    || names.contains(&ty.trim_end_matches(['?', '!']).trim_end_matches("[]"))
                {
                    continue;
                }
                let (column, offset) = t
                    .find("@map(")
                    .and_then(|p| mapped(at + p))
                    .unwrap_or((name.to_string(), at));
                model.fields.push(Field { column, offset });
            }
        }
        out.push(model);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// SQL writes inside a literal.

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

/// (offset of the keyword, kind, columns) for every INSERT/UPDATE of `table` in the tokens.
fn sql_writes(
    toks: &[Token],
    text: &str,
    table: &str,
) -> Vec<(usize, WriteKind, Option<Vec<String>>)> {
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

// ---------------------------------------------------------------------------------------------
// Words and names.

fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

fn ident_len(s: &str) -> usize {
    s.bytes().take_while(|&c| is_word(c)).count()
}

fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Byte offsets of `needle` as a whole word, ASCII case-insensitive. `dunder`: Python's
/// `total__gt` lookups end the word at `__`.
fn word_matches(hay: &str, needle: &str, dunder: bool) -> Vec<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let mut out = Vec::new();
    if n.is_empty() {
        return out;
    }
    let mut i = 0;
    while i + n.len() <= h.len() {
        let end = i + n.len();
        let ends = match h.get(end) {
            None => true,
            Some(&c) => !is_word(c) || (dunder && h.get(end..end + 2) == Some(b"__")),
        };
        if h[i..end].eq_ignore_ascii_case(n) && (i == 0 || !is_word(h[i - 1])) && ends {
            out.push(i);
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

fn has_word(hay: &str, needle: &str, ignore_case: bool) -> bool {
    word_matches(hay, needle, false)
        .iter()
        .any(|&p| ignore_case || hay.get(p..p + needle.len()) == Some(needle))
}

/// `public.orders`, `"orders"`, `` `orders` `` → `orders`.
fn bare_name(name: &str) -> &str {
    let last = name.rsplit('.').next().unwrap_or(name).trim();
    last.trim_matches(|c| matches!(c, '"' | '`' | '[' | ']'))
}

fn snippet(line: &str) -> String {
    let line = line.trim();
    if line.chars().count() <= 120 {
        return line.to_string();
    }
    let mut cut: String = line.chars().take(119).collect();
    cut.push('…');
    cut
}

/// `OrderItem` → `order_item`, `UserID` → `user_id`.
fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

fn plural(word: &str) -> String {
    let consonant_y = word
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'i', 'o', 'u']));
    match consonant_y {
        Some(stem) if !stem.is_empty() => format!("{stem}ies"),
        _ if ["s", "x", "z", "ch", "sh"]
            .iter()
            .any(|e| word.ends_with(e)) =>
        {
            format!("{word}es")
        }
        _ => format!("{word}s"),
    }
}

fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = ["ses", "xes", "zes", "ches", "shes"]
        .iter()
        .find_map(|e| word.strip_suffix(e).map(|s| (s, e)))
    {
        format!("{}{}", stem.0, &stem.1[..stem.1.len() - 2])
    } else {
        word.strip_suffix('s')
            .filter(|s| !s.ends_with('s'))
            .unwrap_or(word)
            .to_string()
    }
}

/// The model class names a table has by convention: `order_items` → `OrderItem`.
fn class_names(table: &str) -> Vec<String> {
    let camel = |s: &str| {
        s.split('_')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let mut c = p.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            })
            .collect::<String>()
    };
    let table = table.to_ascii_lowercase();
    let mut out = vec![camel(&singular(&table))];
    if !out.contains(&camel(&table)) {
        out.push(camel(&table));
    }
    out.retain(|c| !c.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (line, column, strength, names_table) of every reference.
    fn refs(
        path: &str,
        text: &str,
        table: &str,
        column: Option<&str>,
    ) -> Vec<(u32, u32, Strength, bool)> {
        let found = find(path, text, table, column, &[]);
        found
            .references
            .iter()
            .map(|r| (r.line, r.column, r.strength, r.names_table))
            .collect()
    }

    fn write_list(
        path: &str,
        text: &str,
        table: &str,
    ) -> Vec<(u32, WriteKind, Option<Vec<&'static str>>)> {
        writes(path, text, table)
            .into_iter()
            .map(|w| {
                let cols = w
                    .columns
                    .map(|c| c.into_iter().map(|s| &*s.leak()).collect());
                (w.line, w.kind, cols)
            })
            .collect()
    }

    use Strength::*;

    #[test]
    fn rust_parameter_is_only_an_identifier() {
        let text = "fn total(total: i64) -> i64 {\n    total * 2\n}\n";
        assert_eq!(
            refs("src/lib.rs", text, "orders", Some("total")),
            vec![
                (1, 4, Identifier, false),
                (1, 10, Identifier, false),
                (2, 5, Identifier, false)
            ]
        );
    }

    #[test]
    fn rust_sqlx_query_is_sql_naming_the_table() {
        let text = "let r = sqlx::query!(\"SELECT id, total FROM orders WHERE id = $1\", id);";
        assert_eq!(
            refs("src/db.rs", text, "orders", Some("total")),
            vec![(1, 34, SqlLiteral, true)]
        );
        let found = find("src/db.rs", text, "orders", Some("total"), &[]);
        assert_eq!(found.references[0].snippet, text);
        assert_eq!(found.references[0].path, "src/db.rs");
    }

    #[test]
    fn rust_raw_string_spanning_lines_with_lifetimes() {
        let text = "fn load<'a>(db: &'a Db) -> Option<char> {\n    let c = '\\'';\n    db.query(r#\"\n        SELECT \"total\"\n        FROM public.orders\n    \"#);\n    Some('x')\n}\n";
        assert_eq!(
            refs("src/db.rs", text, "orders", Some("total")),
            vec![(4, 17, SqlLiteral, true)]
        );
        assert_eq!(
            refs("src/db.rs", text, "orders", None),
            vec![(5, 21, SqlLiteral, true)]
        );
    }

    #[test]
    fn python_triple_quoted_sql() {
        let text = "def load(cur):\n    cur.execute(\"\"\"\n        select id, TOTAL\n        from orders\n    \"\"\")\n";
        assert_eq!(
            refs("app/db.py", text, "orders", Some("total")),
            vec![(3, 20, SqlLiteral, true)]
        );
    }

    #[test]
    fn go_backtick_sql() {
        let text = "const q = `\nUPDATE orders\nSET total = $1\nWHERE id = $2`\nvar total int\n";
        assert_eq!(
            refs("db/q.go", text, "orders", Some("total")),
            vec![(3, 5, SqlLiteral, true), (5, 5, Identifier, false)]
        );
    }

    #[test]
    fn sql_of_another_table_does_not_name_the_table() {
        let text = "q = \"SELECT total FROM invoices\"\n";
        assert_eq!(
            refs("app/q.py", text, "orders", Some("total")),
            vec![(1, 13, SqlLiteral, false)]
        );
    }

    #[test]
    fn english_strings_are_not_sql() {
        let text = "log.info(\"failed to read total from cache\")\n";
        assert_eq!(
            refs("app/q.py", text, "orders", Some("total")),
            vec![(1, 26, Identifier, false)]
        );
    }

    #[test]
    fn comment_mentioning_the_column_is_an_identifier() {
        let text = "// the Total of orders is cached\nlet x = 1;\n";
        assert_eq!(
            refs("src/a.rs", text, "orders", Some("total")),
            vec![(1, 8, Identifier, true)]
        );
    }

    #[test]
    fn django_model_with_meta_db_table() {
        let text = "from django.db import models\n\nclass Order(models.Model):\n    \"\"\"An order. total = models.X(\"\"\"\n    total = models.DecimalField(max_digits=10)\n    customer = models.ForeignKey(Customer, on_delete=models.CASCADE)\n    tags = models.ManyToManyField(Tag)\n    note = models.TextField(db_column=\"remark\")\n\n    class Meta:\n        db_table = \"orders\"\n\ndef f():\n    return Order.objects.filter(total__gt=5)\n";
        assert_eq!(
            refs("shop/models.py", text, "orders", Some("total")),
            vec![
                (4, 18, Identifier, false),
                (5, 5, OrmField, true),
                (14, 33, QueryBuilder, true)
            ]
        );
        assert_eq!(
            refs("shop/models.py", text, "orders", Some("customer_id")),
            vec![(6, 5, OrmField, true)]
        );
        assert_eq!(
            refs("shop/models.py", text, "orders", Some("remark")),
            vec![(8, 40, OrmField, true)]
        );
        assert_eq!(
            refs("shop/models.py", text, "invoices", Some("total"))[1],
            (5, 5, OrmField, false)
        );
        assert_eq!(
            write_list("shop/models.py", text, "orders"),
            vec![(
                3,
                WriteKind::Model,
                Some(vec!["total", "customer_id", "remark"])
            )]
        );
    }

    #[test]
    fn django_default_table_name_is_app_and_model() {
        let text = "class OrderItem(models.Model):\n    qty = models.IntegerField()\n";
        assert_eq!(
            refs("shop/models.py", text, "shop_orderitem", Some("qty")),
            vec![(2, 5, OrmField, true)]
        );
        assert_eq!(
            refs("shop/models.py", text, "shop_orderitem", None),
            vec![(1, 7, OrmField, true)]
        );
    }

    #[test]
    fn sqlalchemy_model() {
        let text = "class Order(Base):\n    __tablename__ = \"orders\"\n    id = Column(Integer, primary_key=True)\n    total = Column(\"total_amount\", Numeric)\n    note: Mapped[str]\n    items: Mapped[list[\"Item\"]] = relationship()\n";
        assert_eq!(
            refs("app/models.py", text, "orders", Some("total_amount")),
            vec![(4, 21, OrmField, true)]
        );
        assert_eq!(
            refs("app/models.py", text, "orders", Some("note")),
            vec![(5, 5, OrmField, true)]
        );
        assert_eq!(
            write_list("app/models.py", text, "orders"),
            vec![(
                1,
                WriteKind::Model,
                Some(vec!["id", "total_amount", "note"])
            )]
        );
    }

    #[test]
    fn diesel_table_macro() {
        let text = "diesel::table! {\n    use diesel::sql_types::*;\n    orders (id) {\n        id -> Int4,\n        total -> Numeric,\n    }\n}\n";
        assert_eq!(
            refs("src/schema.rs", text, "orders", Some("total")),
            vec![(5, 9, OrmField, true)]
        );
        assert_eq!(
            refs("src/schema.rs", text, "orders", None),
            vec![(3, 5, OrmField, true)]
        );
        assert_eq!(write_list("src/schema.rs", text, "orders"), vec![]);
    }

    #[test]
    fn diesel_insertable_struct_writes() {
        let text = "#[derive(Insertable)]\n#[diesel(table_name = crate::schema::orders)]\npub struct NewOrder<'a> {\n    pub total: i64,\n    #[diesel(column_name = note)]\n    pub remark: &'a str,\n}\n";
        assert_eq!(
            write_list("src/models.rs", text, "orders"),
            vec![(3, WriteKind::Model, Some(vec!["total", "note"]))]
        );
    }

    #[test]
    fn jpa_entity_columns() {
        let text = "@Entity\n@Table(name = \"orders\")\npublic class Order {\n    @Id\n    private Long id;\n    @Column(name = \"total\", nullable = false)\n    private BigDecimal amount;\n    private String shippingNote;\n    @ManyToOne\n    private Customer customer;\n    @Transient\n    private int cached;\n    public BigDecimal getAmount() { return amount; }\n}\n";
        assert_eq!(
            refs("src/Order.java", text, "orders", Some("total")),
            vec![(6, 21, OrmField, true)]
        );
        assert_eq!(
            refs("src/Order.java", text, "orders", Some("shipping_note")),
            vec![(8, 20, OrmField, true)]
        );
        assert_eq!(
            write_list("src/Order.java", text, "orders"),
            vec![(
                3,
                WriteKind::Model,
                Some(vec!["id", "total", "shipping_note", "customer_id"])
            )]
        );
    }

    #[test]
    fn typeorm_entity_columns() {
        let text = "@Entity({ name: \"orders\" })\nexport class Order {\n  @PrimaryGeneratedColumn()\n  id: number;\n  @Column({ name: \"total_amount\" })\n  total!: number;\n  helper?: string;\n}\n";
        assert_eq!(
            write_list("src/order.ts", text, "orders"),
            vec![(2, WriteKind::Model, Some(vec!["id", "total_amount"]))]
        );
    }

    #[test]
    fn gorm_tags_and_default_names() {
        let text = "type Order struct {\n\tgorm.Model\n\tTotal int64 `gorm:\"column:total_amount\" json:\"total\"`\n\tCustomerID uint\n\tItems []Item\n}\n\nfunc (Order) TableName() string { return \"orders\" }\n";
        assert_eq!(
            refs("m.go", text, "orders", Some("total_amount")),
            vec![(3, 28, OrmField, true)]
        );
        assert_eq!(
            write_list("m.go", text, "orders"),
            vec![(
                1,
                WriteKind::Model,
                Some(vec![
                    "id",
                    "created_at",
                    "updated_at",
                    "deleted_at",
                    "total_amount",
                    "customer_id"
                ])
            )]
        );
        // A tag outside any model is still the name as a query builder takes it.
        assert_eq!(
            refs(
                "x.go",
                "x := `gorm:\"column:total\"`",
                "orders",
                Some("total")
            ),
            vec![(1, 20, QueryBuilder, false)]
        );
    }

    #[test]
    fn prisma_model() {
        let text = "model Order {\n  id    Int @id\n  total Decimal @map(\"total_amount\")\n  user  User @relation(fields: [userId], references: [id])\n  userId Int\n  @@map(\"orders\")\n}\nmodel User {\n  id Int @id\n}\n";
        assert_eq!(
            write_list("schema.prisma", text, "orders"),
            vec![(
                1,
                WriteKind::Model,
                Some(vec!["id", "total_amount", "userId"])
            )]
        );
    }

    #[test]
    fn ruby_query_builder_symbols_and_keys() {
        let text = "class Report\n  def run\n    Order.where(total: 5).pluck(:total)\n    Foo::total\n  end\nend\n";
        assert_eq!(
            refs("app/report.rb", text, "orders", Some("total")),
            vec![
                (3, 17, QueryBuilder, true),
                (3, 34, QueryBuilder, true),
                (4, 10, Identifier, false)
            ]
        );
    }

    #[test]
    fn rails_schema_dump_is_only_identifiers() {
        let text = "ActiveRecord::Schema[7.1].define(version: 1) do\n  create_table \"orders\" do |t|\n    t.decimal :total\n  end\nend\n";
        assert_eq!(
            refs("db/schema.rb", text, "orders", Some("total")),
            vec![(3, 16, Identifier, false)]
        );
    }

    #[test]
    fn rails_model_ignored_columns_marker() {
        let text = "class Order < ApplicationRecord\n  self.ignored_columns += %w[\n    legacy\n    total\n  ]\n  self.table_name = \"orders\"\nend\n";
        let found = find("app/models/order.rb", text, "orders", Some("total"), &[]);
        assert_eq!(
            found.markers,
            vec![Marker {
                path: "app/models/order.rb".into(),
                line: 2,
                text: "self.ignored_columns += %w[".into()
            }]
        );
        assert_eq!(
            found
                .references
                .iter()
                .map(|r| (r.line, r.strength))
                .collect::<Vec<_>>(),
            vec![(4, Identifier)]
        );
        assert_eq!(
            write_list("app/models/order.rb", text, "orders"),
            vec![(1, WriteKind::Model, None)]
        );
        let other = find(
            "app/models/order.rb",
            text,
            "orders",
            Some("legacy_total"),
            &[],
        );
        assert_eq!(other.markers, vec![]);
    }

    #[test]
    fn configured_marker_on_the_line_above() {
        let text = "struct Order {\n    // gonogo:dropping\n    total: i64,\n    #[deprecated] note: String,\n}\n";
        let markers = vec!["gonogo:dropping".to_string(), "#[deprecated".to_string()];
        let found = find("src/o.rs", text, "orders", Some("total"), &markers);
        assert_eq!(
            found.markers,
            vec![Marker {
                path: "src/o.rs".into(),
                line: 2,
                text: "// gonogo:dropping".into()
            }]
        );
        let found = find("src/o.rs", text, "orders", Some("note"), &markers);
        assert_eq!(
            found.markers.iter().map(|m| m.line).collect::<Vec<_>>(),
            vec![4]
        );
    }

    #[test]
    fn sql_file_is_sql_outside_comments() {
        let text = "-- total is legacy\nSELECT total FROM orders;\nSELECT total FROM invoices;\n";
        assert_eq!(
            refs("q/queries.sql", text, "orders", Some("total")),
            vec![
                (1, 4, Identifier, false),
                (2, 8, SqlLiteral, true),
                (3, 8, SqlLiteral, false)
            ]
        );
    }

    #[test]
    fn snippet_is_cut_at_120_characters() {
        let text = format!(
            "    let q = \"SELECT total FROM orders {}\";",
            "é".repeat(200)
        );
        let found = find("a.rs", &text, "orders", Some("total"), &[]);
        let s = &found.references[0].snippet;
        assert_eq!(s.chars().count(), 120);
        assert!(
            s.starts_with("let q = \"SELECT total") && s.ends_with("é…"),
            "{s}"
        );
    }

    #[test]
    fn writes_insert_with_and_without_columns() {
        let text = "a = \"INSERT INTO orders (id, \\\"total\\\", note) VALUES ($1, $2, 'x, y')\"\nb = \"INSERT INTO orders VALUES (?, ?)\"\nc = \"insert into orders select * from old_orders\"\nd = \"INSERT INTO orders (id, total) SELECT id, total FROM old\"\ne = \"INSERT INTO invoices (id) VALUES (1)\"\n";
        assert_eq!(
            write_list("w.py", text, "orders"),
            vec![
                (1, WriteKind::Insert, Some(vec!["id", "total", "note"])),
                (2, WriteKind::Insert, None),
                (3, WriteKind::Insert, None),
                (4, WriteKind::Insert, Some(vec!["id", "total"])),
            ]
        );
    }

    #[test]
    fn writes_update_set_list() {
        let text = "q = \"UPDATE orders o SET total = total + :delta, updated_at = (SELECT max(t) FROM x WHERE a = b), o.note = %(n)s WHERE id = %s RETURNING id\"\nr = \"SELECT * FROM orders FOR UPDATE\"\n";
        let found = writes("w.py", text, "orders");
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].line, found[0].column, found[0].kind),
            (1, 6, WriteKind::Update)
        );
        assert_eq!(
            found[0].columns,
            Some(vec!["total".into(), "updated_at".into(), "note".into()])
        );
    }

    #[test]
    fn writes_quoted_and_qualified_tables_and_upserts() {
        let text = "INSERT INTO public.\"orders\" (id, total) VALUES (1, 2)\n  ON CONFLICT (id) DO UPDATE SET total = excluded.total;\nREPLACE INTO `orders` (id) VALUES (1);\nUPDATE \"public\".orders SET (a, b) = (1, 2);\n";
        assert_eq!(
            write_list("m.sql", text, "orders"),
            vec![
                (1, WriteKind::Insert, Some(vec!["id", "total"])),
                (3, WriteKind::Insert, Some(vec!["id"])),
                (4, WriteKind::Update, Some(vec!["a", "b"])),
            ]
        );
    }

    #[test]
    fn ruby_heredoc_is_a_literal() {
        let text =
            "execute(<<~SQL, id)\n  UPDATE orders SET total = 0 WHERE id = ?\nSQL\ntotal = 1\n";
        assert_eq!(
            refs("a.rb", text, "orders", Some("total")),
            vec![(2, 21, SqlLiteral, true), (4, 1, Identifier, false)]
        );
        assert_eq!(
            write_list("a.rb", text, "orders"),
            vec![(2, WriteKind::Update, Some(vec!["total"]))]
        );
    }

    #[test]
    fn kotlin_entity_constructor_and_body() {
        let text = "@Entity\n@Table(name = \"orders\")\ndata class Order(\n    @Id val id: Long,\n    @Column(name = \"total\") val amount: BigDecimal,\n) {\n    var shippedAt: Instant? = null\n}\n";
        assert_eq!(
            write_list("Order.kt", text, "orders"),
            vec![(3, WriteKind::Model, Some(vec!["id", "total", "shipped_at"]))]
        );
    }

    #[test]
    fn django_forms_and_serializers_are_not_models() {
        let text = "class OrderForm(forms.ModelForm):\n    total = forms.DecimalField()\n\nclass S(serializers.ModelSerializer):\n    total = serializers.DecimalField()\n";
        assert_eq!(
            refs("shop/forms.py", text, "shop_orderform", Some("total")),
            vec![(2, 5, Identifier, false), (5, 5, Identifier, false)]
        );
        assert_eq!(write_list("shop/forms.py", text, "shop_orderform"), vec![]);
    }

    #[test]
    fn large_files_stay_linear() {
        let mut text = String::new();
        for i in 0..20_000 {
            text.push_str(&format!("SELECT total, id FROM orders WHERE id = {i};\n"));
        }
        let started = std::time::Instant::now();
        let found = find(
            "big.sql",
            &text,
            "orders",
            Some("total"),
            &["gonogo:dropping".into()],
        );
        assert_eq!(found.references.len(), 20_000);
        assert!(
            found
                .references
                .iter()
                .all(|r| r.strength == SqlLiteral && r.names_table)
        );
        let rust = text
            .lines()
            .map(|l| format!("let q = \"{l}\"; // total\n"))
            .collect::<String>();
        assert_eq!(
            find("big.rs", &rust, "orders", Some("total"), &[])
                .references
                .len(),
            40_000
        );
        assert_eq!(writes("big.rs", &rust, "orders"), vec![]);
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn no_panics_on_generated_input() {
        let pieces = [
            "\"",
            "'",
            "`",
            "\"\"\"",
            "r#\"",
            "\"#",
            "/*",
            "*/",
            "//",
            "#",
            "--",
            "\\",
            "\n",
            "<<~SQL",
            "SQL",
            "(",
            ")",
            "{",
            "}",
            "[",
            "]",
            "@Entity",
            "@Column(name = ",
            "class Order(models.Model):",
            "table!",
            "    total = models.ForeignKey(",
            "INSERT INTO orders",
            "UPDATE orders SET",
            " total",
            "é",
            "😀",
            "=",
            ",",
            ";",
            ":total",
            "total:",
            "ignored_columns",
            "#[diesel(table_name = orders)]",
            "struct X {",
            "type O struct {",
            "gorm:\"column:",
            "model M {",
            "@map(",
            "${",
            "#{",
            "$1",
            "%(",
            "'\\",
            "VALUES",
        ];
        let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
        for _ in 0..3000 {
            let mut text = String::new();
            for _ in 0..(seed % 24) {
                seed = seed
                    .wrapping_mul(6_364_136_223_846_793_005)
                    .wrapping_add(1_442_695_040_888_963_407);
                text.push_str(pieces[(seed >> 33) as usize % pieces.len()]);
            }
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            for path in [
                "a.rs", "a.py", "a.rb", "a.go", "a.ts", "A.kt", "a.sql", "a.prisma", "a.md",
            ] {
                let found = find(path, &text, "orders", Some("total"), &["total".to_string()]);
                assert!(
                    found
                        .references
                        .iter()
                        .all(|r| r.line >= 1 && r.column >= 1)
                );
                let _ = find(path, &text, "public.orders", None, &[]);
                let _ = writes(path, &text, "orders");
            }
        }
    }

    #[test]
    fn no_panics_on_nasty_input() {
        let inputs = [
            "",
            "\"",
            "'",
            "`",
            "r#\"",
            "'a",
            "\"\"\"",
            "/*",
            "<<~SQL\n",
            "é\"total",
            "total",
            "\u{0}\u{ff}total'",
            "INSERT INTO orders (",
            "UPDATE orders SET (",
            "class Order(models.Model):\n    total = models.X(",
            "@Entity\nclass",
            "diesel::table! { orders (id) {",
            "type A struct {\n\tB `gorm:\"column:",
            "model X {",
            "ignored_columns += [\"total\"",
            "'\\",
            "\"\\",
            "INSERT INTO orders ($1",
            "#{",
            "${",
            "%(",
        ];
        for text in inputs {
            for path in [
                "a.rs", "a.py", "a.rb", "a.go", "a.ts", "A.java", "a.sql", "a.prisma", "a.txt",
            ] {
                let _ = find(path, text, "orders", Some("total"), &["x".to_string()]);
                let _ = find(path, text, "orders", None, &[]);
                let _ = writes(path, text, "orders");
            }
        }
        let found = find(
            "a.rs",
            "let s = \"unterminated total\nlet total = 1;",
            "orders",
            Some("total"),
            &[],
        );
        assert_eq!(found.references.len(), 2);
    }
}
