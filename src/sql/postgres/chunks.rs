//! Reading a large file a chunk of statements at a time, and what is dropped from each
//! statement's tree as it is read: the memory of a seed-data migration (issue 24).

use super::{Lexing, Statement};
use pg_query::NodeEnum;
use pg_query::protobuf;
use std::sync::Arc;

/// Above this many bytes a segment is parsed in pieces of about this size (see [`parse_in_chunks`]).
pub(super) const CHUNK_BYTES: usize = 64 * 1024;

/// A large segment parsed a chunk of whole statements at a time, or `None` when any chunk does
/// not parse (the caller then reads the segment as one, as for a small file).
///
/// Why: libpg_query hands back the whole file's parse tree at once, serialized and then decoded,
/// and a decoded node costs hundreds of bytes: a seed-data migration of 40,000 INSERTs held
/// ~450 MB, and most of the run went to the kernel zeroing pages for it, then to serializing
/// trees nothing reads. Chunks are cut where the scanner splits statements; a cut in the wrong
/// place (a `BEGIN ATOMIC` body has `;` inside) leaves a chunk the grammar rejects, so the reading
/// falls back to the whole segment and the result never differs from it.
///
/// In each chunk the grammar itself (libpg_query's split, which runs the server's parser) finds
/// the statements and rejects a chunk with any syntax error; then a plain `INSERT … VALUES` gets
/// only its target ([`plain_insert`]) and every other run of statements is parsed into trees.
pub(super) fn parse_in_chunks(file: &str, start: usize) -> Option<Vec<Statement>> {
    let segment = &file[start..];
    let pieces = pg_query::split_with_scanner(segment).ok()?;
    let offset_in = |outer: &str, piece: &str| piece.as_ptr() as usize - outer.as_ptr() as usize;
    let mut cuts: Vec<usize> = Vec::new();
    let mut chunk_start = 0;
    for piece in &pieces {
        // A chunk ends where the next statement starts, so its `;` and comments stay in it.
        let piece_start = offset_in(segment, piece);
        if piece_start - chunk_start >= CHUNK_BYTES {
            cuts.push(piece_start);
            chunk_start = piece_start;
        }
    }
    cuts.push(segment.len());
    let mut out = Vec::with_capacity(pieces.len());
    let mut from = 0;
    for to in cuts {
        let chunk = &segment[from..to];
        let base = start + from;
        // Statements that need their tree, back to back: parsed together, in one call.
        let mut run: Option<(usize, usize)> = None;
        // The tree of the last plain INSERT: the next one into the same table shares it.
        let mut last_insert: Option<Arc<NodeEnum>> = None;
        for statement in pg_query::split_with_parser(chunk).ok()? {
            let (at, end) = (
                offset_in(chunk, statement),
                offset_in(chunk, statement) + statement.len(),
            );
            match plain_insert(statement) {
                Some(insert) => {
                    if let Some((a, b)) = run.take() {
                        out.extend(parse_run(file, base, &chunk[a..b], a)?);
                    }
                    let tree = match last_insert.take() {
                        Some(last) if *last == insert => last,
                        _ => Arc::new(insert),
                    };
                    last_insert = Some(tree.clone());
                    let (offset, len) = (base + at, statement.len());
                    out.push(Statement::shared(file, offset, len, Ok(tree)));
                }
                None => run = Some((run.map_or(at, |(a, _)| a), end)),
            }
        }
        if let Some((a, b)) = run {
            out.extend(parse_run(file, base, &chunk[a..b], a)?);
        }
        from = to;
    }
    Some(out)
}

/// The statements of `text`, which starts `at` bytes into the chunk at `base` in `file`.
fn parse_run(file: &str, base: usize, text: &str, at: usize) -> Option<Vec<Statement>> {
    let result = pg_query::parse(text, Lexing::default().options()).ok()?;
    Some(statements_of(
        file,
        base + at,
        base + at + text.len(),
        result.protobuf.stmts,
    ))
}

/// The statements of one parse of `file[base..end]`, positioned in `file` and compacted.
pub(super) fn statements_of(
    file: &str,
    base: usize,
    end: usize,
    raws: Vec<protobuf::RawStmt>,
) -> Vec<Statement> {
    raws.into_iter()
        .filter_map(|raw| {
            let offset = base + raw.stmt_location.max(0) as usize;
            let len = if raw.stmt_len == 0 {
                end.saturating_sub(offset)
            } else {
                raw.stmt_len as usize
            };
            let node = compact(raw.stmt.and_then(|n| n.node)?);
            Some(Statement::new(file, offset, len, Ok(node)))
        })
        .collect()
}

/// Drops what no fact is made of: the rows and column list of an `INSERT … VALUES` (seed data).
/// An INSERT takes ROW EXCLUSIVE on its table, which conflicts with no read or write, and the
/// rules read its target and, for `INSERT … SELECT`, its sources; literals (an enum value used in
/// the same transaction) are read from the statement's text, which stays. What is left is what
/// [`plain_insert`] makes without a tree, so both readings of a file give the same statements.
fn compact(node: NodeEnum) -> NodeEnum {
    let NodeEnum::InsertStmt(insert) = node else {
        return node;
    };
    // A boxed node is ~600 bytes whatever it holds (the node enum is as large as its largest
    // inline variant), so the VALUES select goes whole.
    let plain_values = matches!(
        insert.select_stmt.as_ref().and_then(|s| s.node.as_ref()),
        Some(NodeEnum::SelectStmt(select))
            if select.from_clause.is_empty() && select.with_clause.is_none() && select.larg.is_none()
    );
    if !plain_values
        || insert.on_conflict_clause.is_some()
        || insert.returning_clause.is_some()
        || insert.with_clause.is_some()
    {
        return NodeEnum::InsertStmt(insert);
    }
    let relation = insert.relation.map(|relation| protobuf::RangeVar {
        // Node positions are relative to whatever text was parsed; nothing reads them, and the
        // statement keeps its own.
        location: -1,
        ..relation
    });
    NodeEnum::InsertStmt(Box::new(protobuf::InsertStmt {
        relation,
        r#override: insert.r#override,
        ..Default::default()
    }))
}

/// `INSERT INTO [schema.]table [(columns)] VALUES (…), …` and nothing else — the shape of seed
/// data — as the node [`compact`] leaves of it, read from the text without a tree. `None` for
/// anything else, or anything this small reader is not sure of (comments, dollar quotes,
/// parameters, three-part or over-long names, a subquery, ON CONFLICT, RETURNING, OVERRIDING, an
/// alias): that statement is parsed. The statement has passed the server's grammar already, so
/// this only needs to skip literals correctly (standard_conforming_strings on: `'…'` with `''`;
/// `E'…'` with backslash escapes) and fold unquoted names as the server does (ASCII lower case).
pub(super) fn plain_insert(text: &str) -> Option<NodeEnum> {
    let words = words_outside_literals(text)?;
    let mut at = words.iter();
    let (Some(Word::Plain(insert)), Some(Word::Plain(into))) = (at.next(), at.next()) else {
        return None;
    };
    if !insert.eq_ignore_ascii_case("insert") || !into.eq_ignore_ascii_case("into") {
        return None;
    }
    let first = at.next()?.name()?;
    let (schema, table, next) = match at.next()? {
        Word::Punct('.') => (first, at.next()?.name()?, at.next()?),
        next => (String::new(), first, next),
    };
    match next {
        Word::Punct('(') => {}
        Word::Plain(values) if values.eq_ignore_ascii_case("values") => {}
        _ => return None,
    }
    let refused = [
        "select",
        "with",
        "returning",
        "on",
        "overriding",
        "default",
        "table",
        "as",
    ];
    let mut has_values = false;
    for word in &words {
        if let Word::Plain(w) = word {
            if refused.iter().any(|r| w.eq_ignore_ascii_case(r)) {
                return None;
            }
            has_values |= w.eq_ignore_ascii_case("values");
        }
    }
    if !has_values {
        return None;
    }
    Some(NodeEnum::InsertStmt(Box::new(protobuf::InsertStmt {
        relation: Some(protobuf::RangeVar {
            catalogname: String::new(),
            schemaname: schema,
            relname: table,
            inh: true,
            relpersistence: "p".to_string(),
            alias: None,
            location: -1,
        }),
        r#override: protobuf::OverridingKind::OverridingNotSet as i32,
        ..Default::default()
    })))
}

#[derive(Debug, PartialEq)]
enum Word<'a> {
    /// An unquoted identifier or keyword, as written.
    Plain(&'a str),
    /// A `"quoted"` identifier, unescaped.
    Quoted(String),
    Punct(char),
}

impl Word<'_> {
    /// The name a word gives an object: folded as PostgreSQL folds unquoted identifiers (ASCII
    /// only, in a UTF-8 database); `None` past 63 bytes (the server truncates those).
    fn name(&self) -> Option<String> {
        let name = match self {
            Word::Plain(w) => w.to_ascii_lowercase(),
            Word::Quoted(w) => w.clone(),
            Word::Punct(_) => return None,
        };
        (!name.is_empty() && name.len() < 64).then_some(name)
    }
}

/// The words and punctuation of `text` outside its string literals, or `None` at anything the
/// small reader does not follow (comments, `$`, a backslash, a `U&` literal).
fn words_outside_literals(text: &str) -> Option<Vec<Word<'_>>> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        match c {
            b' ' | b'\t' | b'\n' | b'\r' | b'\x0c' => i += 1,
            b'\'' => i = end_of_literal(bytes, i + 1, false)?,
            b'"' => {
                let start = i + 1;
                let mut j = start;
                loop {
                    match bytes.get(j)? {
                        b'"' if bytes.get(j + 1) == Some(&b'"') => j += 2,
                        b'"' => break,
                        _ => j += 1,
                    }
                }
                words.push(Word::Quoted(text.get(start..j)?.replace("\"\"", "\"")));
                i = j + 1;
            }
            b'0'..=b'9' => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'.' || bytes[i] == b'_')
                {
                    // An exponent's sign belongs to the number: `1e-5`.
                    if matches!(bytes[i], b'e' | b'E')
                        && matches!(bytes.get(i + 1), Some(b'+' | b'-'))
                    {
                        i += 1;
                    }
                    i += 1;
                }
            }
            b'$' | b'\\' => return None,
            b'-' if bytes.get(i + 1) == Some(&b'-') => return None,
            b'/' if bytes.get(i + 1) == Some(&b'*') => return None,
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 => {
                let start = i;
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric()
                        || bytes[i] == b'_'
                        || bytes[i] == b'$'
                        || bytes[i] >= 0x80)
                {
                    i += 1;
                }
                let word = text.get(start..i)?;
                if bytes.get(i) == Some(&b'\'') {
                    // A literal with a prefix: E'…' reads backslash escapes; B'…', X'…', N'…'
                    // read like standard ones; anything else (U&'…') is not followed.
                    i = match word {
                        "E" | "e" => end_of_literal(bytes, i + 1, true)?,
                        "B" | "b" | "X" | "x" | "N" | "n" => end_of_literal(bytes, i + 1, false)?,
                        _ => return None,
                    };
                } else if bytes.get(i) == Some(&b'&') {
                    return None;
                } else {
                    words.push(Word::Plain(word));
                }
            }
            c => {
                words.push(Word::Punct(c as char));
                i += 1;
            }
        }
    }
    Some(words)
}

/// The byte after the literal whose text starts at `i` (after its opening quote).
fn end_of_literal(bytes: &[u8], mut i: usize, backslash_escapes: bool) -> Option<usize> {
    loop {
        match bytes.get(i)? {
            b'\\' if backslash_escapes => i += 2,
            b'\'' if bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b'\'' => return Some(i + 1),
            _ => i += 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse, with_positions};
    use super::*;

    /// What a reading gives, in a form two readings can be compared by.
    fn shape(statements: &[Statement]) -> Vec<(usize, u32, u32, String, String)> {
        statements
            .iter()
            .map(|s| {
                let kind = match s.node.as_deref() {
                    Ok(node) => format!("{node:?}").chars().take(60).collect(),
                    Err(e) => format!("error: {e}"),
                };
                (s.offset, s.line, s.column, s.text.clone(), kind)
            })
            .collect()
    }

    /// The whole text in one parse, as `parse_from` reads a small file.
    fn in_one_parse(file: &str) -> Vec<Statement> {
        let result = pg_query::parse(file, Lexing::default().options()).expect("parses");
        let index = crate::sql::LineIndex::new(file);
        with_positions(
            &index,
            statements_of(file, 0, file.len(), result.protobuf.stmts),
        )
    }

    /// A large file is read a chunk at a time (memory), and the chunks must add up to exactly
    /// the one-parse reading: same statements, same positions, same trees.
    #[test]
    fn a_large_file_read_in_chunks_reads_as_one_parse() {
        let mut file = String::from("CREATE TABLE items (id bigint PRIMARY KEY, name text);\n");
        let mut i = 0;
        while file.len() < 3 * CHUNK_BYTES {
            file.push_str(&format!(
                "-- row {i}\nINSERT INTO items (id, name) VALUES ({i}, 'it''s; {i}');\n"
            ));
            if i % 500 == 0 {
                file.push_str("ALTER TABLE items ADD COLUMN IF NOT EXISTS note text;\n");
            }
            i += 1;
        }
        file.push_str("CREATE INDEX CONCURRENTLY items_name ON items (name)");
        let chunked = parse_in_chunks(&file, 0).expect("every chunk parses");
        let index = crate::sql::LineIndex::new(&file);
        let chunked = with_positions(&index, chunked);
        assert_eq!(shape(&chunked), shape(&in_one_parse(&file)));
        assert_eq!(shape(&parse(&file)), shape(&chunked));
    }

    /// A `BEGIN ATOMIC` body holds `;`s the scanner splits at: a chunk cut inside it does not
    /// parse, and the file is read as one instead — never as two broken statements.
    #[test]
    fn a_chunk_cut_inside_a_function_body_falls_back_to_one_parse() {
        let mut file = String::new();
        let mut i = 0;
        while file.len() < CHUNK_BYTES - 40 {
            file.push_str(&format!("INSERT INTO t VALUES ({i});\n"));
            i += 1;
        }
        file.push_str("CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC\n");
        for j in 0..200 {
            file.push_str(&format!("  SELECT {j};\n"));
        }
        file.push_str("  SELECT 1;\nEND;\nALTER TABLE t ADD COLUMN c int;\n");
        assert!(
            parse_in_chunks(&file, 0).is_none(),
            "the cut falls inside the body"
        );
        let statements = parse(&file);
        assert!(statements.iter().all(|s| s.node.is_ok()));
        assert_eq!(
            statements
                .iter()
                .filter(|s| matches!(s.node.as_deref(), Ok(NodeEnum::CreateFunctionStmt(_))))
                .count(),
            1
        );
        assert_eq!(shape(&statements), shape(&in_one_parse(&file)));
    }

    /// Seed rows are dropped, what the facts are made of stays: the target table, and the
    /// sources of `INSERT … SELECT` (a backfill copies from them).
    #[test]
    fn insert_values_rows_are_dropped_insert_select_is_kept() {
        let statements = parse(
            "INSERT INTO public.items (id) VALUES (1), (2);\nINSERT INTO items_copy SELECT * FROM items;\n",
        );
        let [
            Ok(NodeEnum::InsertStmt(values)),
            Ok(NodeEnum::InsertStmt(select)),
        ] = [statements[0].node.as_deref(), statements[1].node.as_deref()]
        else {
            panic!("{statements:?}");
        };
        let relation = values.relation.as_ref().expect("the target stays");
        assert_eq!(
            (relation.schemaname.as_str(), relation.relname.as_str()),
            ("public", "items")
        );
        assert!(values.select_stmt.is_none() && values.cols.is_empty());
        assert_eq!(
            statements[0].text,
            "INSERT INTO public.items (id) VALUES (1), (2)"
        );
        let Some(NodeEnum::SelectStmt(source)) =
            select.select_stmt.as_ref().and_then(|s| s.node.as_ref())
        else {
            panic!("{select:?}");
        };
        assert_eq!(source.from_clause.len(), 1);
    }

    /// The tree-less reading of seed data gives what a parse and [`compact`] give, for every
    /// shape it accepts; and it declines what it cannot be sure of.
    #[test]
    fn plain_inserts_read_without_a_tree_match_their_parse() {
        for sql in [
            "INSERT INTO items VALUES (1, 'a')",
            "insert into Public.Items (id, name) values (1, 'it''s'), (2, E'\\'quoted\\' with select')",
            "INSERT INTO \"Mixed\"\"Case\" (\"Id\") VALUES (1.5e-3, X'1F', B'101', now())",
            "INSERT INTO s.t (a) VALUES (ARRAY['on', 'as'], '{\"with\": 1}'::jsonb, -1)",
            "INSERT INTO version VALUES (1)",
        ] {
            let parsed = pg_query::parse(sql, Lexing::default().options()).expect("valid SQL");
            let tree = compact(parsed.protobuf.stmts[0].stmt.clone().unwrap().node.unwrap());
            assert_eq!(plain_insert(sql).as_ref(), Some(&tree), "{sql}");
        }
        for sql in [
            "INSERT INTO t SELECT * FROM u",
            "INSERT INTO t VALUES ((SELECT max(id) FROM u))",
            "INSERT INTO t VALUES (1) ON CONFLICT DO NOTHING",
            "INSERT INTO t VALUES (1) RETURNING id",
            "INSERT INTO t AS x VALUES (1)",
            "INSERT INTO t DEFAULT VALUES",
            "INSERT INTO t OVERRIDING SYSTEM VALUE VALUES (1)",
            "INSERT INTO d.s.t VALUES (1)",
            "INSERT INTO t VALUES ($$x$$)",
            "INSERT INTO t VALUES (1) -- note",
            "INSERT INTO t VALUES (U&'d\\0061t')",
            "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x",
            "UPDATE t SET a = 1",
        ] {
            assert_eq!(plain_insert(sql), None, "{sql}");
        }
    }
}
