//! Avro: the specification's schema-resolution rules, applied in both directions: the new
//! schema as reader of data the deployed version wrote, and the deployed schema as reader of
//! data the new version writes. Every problem is reported with its path (`Order.items[].price`),
//! not only the first (the `apache-avro` crate stops at the first and treats missing enum
//! symbols as partial compatibility).
//!
//! `.avsc` files are JSON, read as YAML through `crate::yaml` so every node has a line and
//! column. A file may hold one schema, a union (a JSON array), or a list of named schemas
//! (also an array, resolved like a union: every writer branch needs a reader branch).

use super::model::{Breaks, Comparison, Flow, Pair, SchemaError, Version, breaking};
use crate::checks::Rule;
use crate::report::{Finding, Location, Severity};
use crate::yaml::{Node, Pos, Value};
use std::collections::{BTreeMap, HashSet};

mod parse;
mod rules;

use parse::*;
pub use parse::{File, parse};
pub use rules::*;

pub fn compare(pairs: &[Pair], old: &Version, new: &Version) -> Comparison {
    let mut comparison = Comparison::default();
    for pair in pairs {
        let old_schema = read(old, &pair.old_path);
        let new_schema = read(new, &pair.new_path);
        match (old_schema, new_schema) {
            (Ok(o), Ok(n)) => comparison.findings.extend(compare_files(&o, &n)),
            (o, n) => comparison.errors.extend(o.err().into_iter().chain(n.err())),
        }
    }
    comparison.findings.sort_by(|a, b| {
        (&a.location, &a.rule, &a.message).cmp(&(&b.location, &b.rule, &b.message))
    });
    comparison.findings.dedup();
    comparison
}

/// One way a reader fails on a writer's data.
#[derive(Debug, Clone)]
struct Problem {
    rule: &'static Rule,
    /// What identifies the problem across both directions: the path, plus the symbol for
    /// enums (a removed and an added symbol are two problems).
    key: String,
    what: String,
    /// Where to point: in the new file when the element exists there, else in the old one.
    at: Location,
}

struct Resolver<'a> {
    writer: &'a File,
    reader: &'a File,
    /// Whether the reader is the new schema (then new positions are the reader's).
    reader_is_new: bool,
    problems: Vec<Problem>,
    seen: HashSet<(String, String)>,
    /// The field being resolved (reader's, writer's position): where a problem inside an
    /// unnamed type (a primitive, an array) points.
    context: (Option<Pos>, Option<Pos>),
    /// Named types matched by their unqualified name whose full names differ (a namespace
    /// change): (writer's full name, reader's full name, where).
    namespaces: Vec<(String, String, Location)>,
}

impl Resolver<'_> {
    fn at(&self, reader_pos: Option<Pos>, writer_pos: Option<Pos>) -> Location {
        let (reader_pos, writer_pos) = match (reader_pos, writer_pos) {
            (None, None) => self.context,
            given => given,
        };
        let (new_file, new_pos, old_file, old_pos) = if self.reader_is_new {
            (self.reader, reader_pos, self.writer, writer_pos)
        } else {
            (self.writer, writer_pos, self.reader, reader_pos)
        };
        match (new_pos, old_pos) {
            (Some(p), _) => Location::new(&new_file.path, p.line, p.column),
            (None, Some(p)) => Location::new(&old_file.path, p.line, p.column),
            (None, None) => Location::file(&new_file.path),
        }
    }

    fn problem(&mut self, rule: &'static Rule, key: &str, what: String, at: Location) {
        self.problems.push(Problem {
            rule,
            key: key.to_string(),
            what,
            at,
        });
    }

    fn named<'f>(file: &'f File, schema: &Schema) -> Option<&'f Named> {
        match schema {
            Schema::Ref(name, _) => file.named.get(name),
            _ => None,
        }
    }

    /// Can a reader with schema `r` read data written with `w`? `path` names the place.
    fn resolve(&mut self, w: &Schema, r: &Schema, path: &str) {
        match (w, r) {
            (Schema::Union(wb, _), _) => {
                for branch in wb {
                    let candidates: Vec<&Schema> = match r {
                        Schema::Union(rb, _) => rb.iter().collect(),
                        other => vec![other],
                    };
                    match candidates.iter().find(|c| self.matches(branch, c)) {
                        Some(c) => self.resolve(branch, c, path),
                        None => {
                            let at = self.at(pos_of(r), pos_of(w));
                            self.problem(
                                &UNION_BRANCH_MISSING,
                                path,
                                format!(
                                    "`{path}`: the writer's union branch {} has no match in the reader's {}",
                                    self.describe_w(branch),
                                    self.describe_r(r)
                                ),
                                at,
                            );
                        }
                    }
                }
            }
            (_, Schema::Union(rb, _)) => match rb.iter().find(|c| self.matches(w, c)) {
                Some(c) => self.resolve(w, c, path),
                None => {
                    let at = self.at(pos_of(r), pos_of(w));
                    self.problem(
                        &UNION_BRANCH_MISSING,
                        path,
                        format!(
                            "`{path}`: {} matches no branch of the reader's {}",
                            self.describe_w(w),
                            self.describe_r(r)
                        ),
                        at,
                    );
                }
            },
            (Schema::Array(wi), Schema::Array(ri)) => self.resolve(wi, ri, &format!("{path}[]")),
            (Schema::Map(wv), Schema::Map(rv)) => self.resolve(wv, rv, &format!("{path}{{}}")),
            (Schema::Ref(..), Schema::Ref(..)) => self.named_pair(w, r, path),
            (Schema::Bytes(Some(wd)), Schema::Bytes(Some(rd))) if wd != rd => {
                self.decimal_problem(path, *wd, *rd, pos_of(r), pos_of(w))
            }
            _ if promotable(w, r) => {}
            _ => {
                let at = self.at(pos_of(r), pos_of(w));
                self.problem(
                    &TYPE_CHANGED,
                    path,
                    format!(
                        "`{path}`: {} cannot be read as {}",
                        self.describe_w(w),
                        self.describe_r(r)
                    ),
                    at,
                );
            }
        }
    }

    fn decimal_problem(
        &mut self,
        path: &str,
        w: Decimal,
        r: Decimal,
        rp: Option<Pos>,
        wp: Option<Pos>,
    ) {
        let at = self.at(rp, wp);
        self.problem(
            &DECIMAL_CHANGED,
            path,
            format!(
                "`{path}`: decimal({}, {}) written, decimal({}, {}) read",
                w.precision, w.scale, r.precision, r.scale
            ),
            at,
        );
    }

    /// The specification's branch selection: the first reader branch that matches.
    fn matches(&self, w: &Schema, r: &Schema) -> bool {
        match (w, r) {
            (Schema::Ref(..), Schema::Ref(..)) => {
                match (Self::named(self.writer, w), Self::named(self.reader, r)) {
                    (Some(wn), Some(rn)) => same_kind(wn, rn) && names_match(wn, rn),
                    _ => false,
                }
            }
            (Schema::Array(_), Schema::Array(_)) | (Schema::Map(_), Schema::Map(_)) => true,
            (Schema::Null, Schema::Null) => true,
            _ => promotable(w, r),
        }
    }

    fn named_pair(&mut self, w: &Schema, r: &Schema, path: &str) {
        let (Some(wn), Some(rn)) = (Self::named(self.writer, w), Self::named(self.reader, r))
        else {
            return;
        };
        if !self
            .seen
            .insert((wn.full_name.clone(), rn.full_name.clone()))
        {
            return; // recursive type: already being compared
        }
        let at = self.at(Some(rn.pos), Some(wn.pos));
        if matches!(wn.kind, NamedKind::Unknown) || matches!(rn.kind, NamedKind::Unknown) {
            if wn.full_name != rn.full_name && !names_match(wn, rn) {
                self.problem(
                    &NAME_CHANGED,
                    path,
                    format!(
                        "`{path}`: type `{}` is now `{}`",
                        wn.full_name, rn.full_name
                    ),
                    at,
                );
            }
            return;
        }
        if !same_kind(wn, rn) {
            self.problem(
                &TYPE_CHANGED,
                path,
                format!(
                    "`{path}`: {} cannot be read as {}",
                    kind_name(wn),
                    kind_name(rn)
                ),
                at,
            );
            return;
        }
        if short(&wn.full_name) == short(&rn.full_name) && wn.full_name != rn.full_name {
            self.namespaces
                .push((wn.full_name.clone(), rn.full_name.clone(), at.clone()));
        }
        if !names_match(wn, rn) {
            self.problem(
                &NAME_CHANGED,
                path,
                format!(
                    "`{path}`: {} `{}` is read as `{}`, which does not list it in \"aliases\"",
                    kind_name(wn),
                    wn.full_name,
                    rn.full_name
                ),
                at.clone(),
            );
        }
        match (&wn.kind, &rn.kind) {
            (NamedKind::Record(wf), NamedKind::Record(rf)) => {
                let (wf, rf) = (wf.clone(), rf.clone());
                self.record(&wf, &rf, path);
            }
            (
                NamedKind::Enum { symbols: ws, .. },
                NamedKind::Enum {
                    symbols: rs,
                    default,
                },
            ) => {
                for symbol in ws.iter().filter(|s| !rs.contains(s)) {
                    let (rule, what) = match default {
                        Some(d) => (
                            &ENUM_SYMBOL_DEFAULTED,
                            format!("is read as the default `{d}`"),
                        ),
                        None => (
                            &ENUM_SYMBOL_MISSING,
                            "is unknown to the reader, which has no default".to_string(),
                        ),
                    };
                    self.problem(
                        rule,
                        &format!("{path} {symbol}"),
                        format!(
                            "`{path}`: symbol `{symbol}` of enum `{}` {what}",
                            rn.full_name
                        ),
                        at.clone(),
                    );
                }
            }
            (
                NamedKind::Fixed {
                    size: wsz,
                    decimal: wd,
                },
                NamedKind::Fixed {
                    size: rsz,
                    decimal: rd,
                },
            ) => {
                if wsz != rsz {
                    self.problem(
                        &FIXED_SIZE_CHANGED,
                        path,
                        format!(
                            "`{path}`: fixed `{}` has size {wsz} written, {rsz} read",
                            rn.full_name
                        ),
                        at.clone(),
                    );
                }
                if let (Some(wd), Some(rd)) = (wd, rd)
                    && wd != rd
                {
                    self.decimal_problem(path, *wd, *rd, Some(rn.pos), Some(wn.pos));
                }
            }
            _ => {}
        }
    }

    fn record(&mut self, writer_fields: &[Field], reader_fields: &[Field], path: &str) {
        for rf in reader_fields {
            let matched = writer_fields
                .iter()
                .find(|wf| wf.name == rf.name)
                .or_else(|| {
                    writer_fields
                        .iter()
                        .find(|wf| rf.aliases.contains(&wf.name))
                });
            let field_path = format!("{path}.{}", rf.name);
            match matched {
                Some(wf) => {
                    let (ws, rs) = (wf.schema.clone(), rf.schema.clone());
                    let outer = self.context;
                    self.context = (Some(rf.pos), Some(wf.pos));
                    self.resolve(&ws, &rs, &field_path);
                    self.context = outer;
                }
                None if rf.has_default => {}
                None => {
                    // The reader has a field the writer never writes, and no default.
                    let (rule, what) = if self.reader_is_new {
                        (&FIELD_ADDED_WITHOUT_DEFAULT, "added without a default")
                    } else {
                        (
                            &FIELD_REMOVED_WITHOUT_DEFAULT,
                            "removed, and the deployed schema has no default for it",
                        )
                    };
                    let at = if self.reader_is_new {
                        self.at(Some(rf.pos), None)
                    } else {
                        Location::new(&self.reader.path, rf.pos.line, rf.pos.column)
                    };
                    self.problem(
                        rule,
                        &field_path,
                        format!("field `{field_path}` {what}"),
                        at,
                    );
                }
            }
        }
    }

    fn describe_w(&self, s: &Schema) -> String {
        describe(self.writer, s)
    }

    fn describe_r(&self, s: &Schema) -> String {
        describe(self.reader, s)
    }
}

fn pos_of(s: &Schema) -> Option<Pos> {
    match s {
        Schema::Union(_, p) | Schema::Ref(_, p) => Some(*p),
        _ => None,
    }
}

fn same_kind(a: &Named, b: &Named) -> bool {
    matches!(
        (&a.kind, &b.kind),
        (NamedKind::Record(_), NamedKind::Record(_))
            | (NamedKind::Enum { .. }, NamedKind::Enum { .. })
            | (NamedKind::Fixed { .. }, NamedKind::Fixed { .. })
            | (NamedKind::Unknown, _)
            | (_, NamedKind::Unknown)
    )
}

/// The writer's type matches the reader's when the unqualified names are equal (the
/// specification), or the reader lists the writer's name among its aliases.
fn names_match(writer: &Named, reader: &Named) -> bool {
    short(&writer.full_name) == short(&reader.full_name)
        || reader
            .aliases
            .iter()
            .any(|a| a == &writer.full_name || short(a) == short(&writer.full_name))
}

fn kind_name(n: &Named) -> &'static str {
    match n.kind {
        NamedKind::Record(_) => "record",
        NamedKind::Enum { .. } => "enum",
        NamedKind::Fixed { .. } => "fixed",
        NamedKind::Unknown => "type",
    }
}

fn describe(file: &File, s: &Schema) -> String {
    match s {
        Schema::Null => "null".into(),
        Schema::Boolean => "boolean".into(),
        Schema::Int => "int".into(),
        Schema::Long => "long".into(),
        Schema::Float => "float".into(),
        Schema::Double => "double".into(),
        Schema::Bytes(None) => "bytes".into(),
        Schema::Bytes(Some(d)) => format!("decimal({}, {})", d.precision, d.scale),
        Schema::String => "string".into(),
        Schema::Array(i) => format!("array<{}>", describe(file, i)),
        Schema::Map(v) => format!("map<{}>", describe(file, v)),
        Schema::Union(b, _) => format!(
            "union [{}]",
            b.iter()
                .map(|x| describe(file, x))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Schema::Ref(name, _) => match file.named.get(name) {
            Some(n) => format!("{} `{name}`", kind_name(n)),
            None => format!("`{name}`"),
        },
    }
}

/// The specification's promotions, plus identity of primitives.
fn promotable(w: &Schema, r: &Schema) -> bool {
    use Schema::*;
    matches!(
        (w, r),
        (Null, Null)
            | (Boolean, Boolean)
            | (Int, Int | Long | Float | Double)
            | (Long, Long | Float | Double)
            | (Float, Float | Double)
            | (Double, Double)
            | (String, String | Bytes(None))
            | (Bytes(_), Bytes(_))
            | (Bytes(None), String)
    )
}

/// Both directions for one pair of files.
fn compare_files(old: &File, new: &File) -> Vec<Finding> {
    let run = |writer: &File, reader: &File, reader_is_new: bool| {
        let mut r = Resolver {
            writer,
            reader,
            reader_is_new,
            problems: Vec::new(),
            seen: HashSet::new(),
            context: (None, None),
            namespaces: Vec::new(),
        };
        let top = top_path(reader);
        r.resolve(&writer.root, &reader.root, &top);
        (r.problems, r.namespaces)
    };
    let (new_reads_old, namespaces) = run(old, new, true);
    let (old_reads_new, _) = run(new, old, false);
    let mut findings = Vec::new();
    // Schema resolution matches named types by their unqualified name, so the specification
    // has no objection; code generated from the schema does: see NAMESPACE_CHANGED.
    for (old_name, new_name, at) in namespaces {
        findings.push(
            NAMESPACE_CHANGED
                .finding(format!(
                    "`{old_name}` is now `{new_name}`: Avro's schema resolution still matches them by name, but Java consumers reading specific records (SpecificDatumReader; Confluent's deserializer with specific.avro.reader) load the class named by the writer's full name, so consumers still on the old version find no class for `{new_name}` (and updated ones none for `{old_name}` when they read stored records): they fail, or get generic records where their code casts to the generated class"
                ))
                .at(at)
                .with_fix(format!(
                    "keep the namespace `{}`; a type in another namespace is a new type: publish it under a new name or topic and migrate consumers to it",
                    old_name.rsplit_once('.').map_or("", |(ns, _)| ns)
                )),
        );
    }
    // Info problems do not break: they say who sees what instead of a consequence.
    let (new_reads_old, notes_new): (Vec<Problem>, Vec<Problem>) = new_reads_old
        .into_iter()
        .partition(|p| p.rule.default_severity != Severity::Info);
    let (old_reads_new, notes_old): (Vec<Problem>, Vec<Problem>) = old_reads_new
        .into_iter()
        .partition(|p| p.rule.default_severity != Severity::Info);
    for (notes, who) in [
        (notes_new, "updated consumers"),
        (notes_old, "old consumers"),
    ] {
        for p in notes {
            findings.push(p.rule.finding(format!("{} (for {who})", p.what)).at(p.at));
        }
    }
    // A problem found in both directions at the same place is one finding that breaks both.
    for p in &new_reads_old {
        let both = old_reads_new
            .iter()
            .any(|q| q.rule.id == p.rule.id && q.key == p.key);
        let breaks = if both {
            Breaks::Both
        } else {
            Breaks::NewReadsOld
        };
        findings.push(breaking(
            p.rule,
            &p.what,
            breaks,
            Flow::Message,
            p.at.clone(),
        ));
    }
    for p in &old_reads_new {
        if !new_reads_old
            .iter()
            .any(|q| q.rule.id == p.rule.id && q.key == p.key)
        {
            findings.push(breaking(
                p.rule,
                &p.what,
                Breaks::OldReadsNew,
                Flow::Message,
                p.at.clone(),
            ));
        }
    }
    for (name, pos) in &new.unknown {
        findings.push(
            UNKNOWN_TYPE
                .finding(format!(
                    "type `{name}` is not defined in this file: compared by name only"
                ))
                .at(Location::new(&new.path, pos.line, pos.column)),
        );
    }
    findings
}

fn top_path(file: &File) -> String {
    match &file.root {
        Schema::Ref(name, _) => short(name).to_string(),
        _ => "(root)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> File {
        parse("s.avsc", text).unwrap()
    }

    fn rules(old: &str, new: &str) -> Vec<String> {
        let mut r: Vec<String> = compare_files(&file(old), &file(new))
            .iter()
            .map(|f| format!("{} {}", f.rule, f.message.split(':').next().unwrap_or("")))
            .collect();
        r.sort();
        r
    }

    #[test]
    fn promotions_follow_the_specification() {
        assert!(promotable(&Schema::Int, &Schema::Long));
        assert!(promotable(&Schema::Long, &Schema::Double));
        assert!(!promotable(&Schema::Long, &Schema::Int));
        assert!(promotable(&Schema::String, &Schema::Bytes(None)));
        assert!(promotable(&Schema::Bytes(None), &Schema::String));
        assert!(!promotable(&Schema::Double, &Schema::Float));
    }

    #[test]
    fn widening_breaks_only_old_readers() {
        let old = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#;
        let new = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"long"}]}"#;
        let findings = compare_files(&file(old), &file(new));
        assert_eq!(findings.len(), 1);
        assert!(findings[0].message.contains("old consumers cannot read"));
        assert!(!findings[0].message.contains("updated consumers"));
    }

    #[test]
    fn aliases_match_renamed_records_and_fields() {
        let old = r#"{"type":"record","name":"Order","fields":[{"name":"total","type":"long"}]}"#;
        let new = r#"{"type":"record","name":"Purchase","aliases":["Order"],"fields":[{"name":"amount","aliases":["total"],"type":"long"}]}"#;
        // New reads old through the aliases; old (without aliases) cannot read new.
        let r = rules(old, new);
        assert!(r.iter().all(|x| !x.contains("updated consumers")), "{r:?}");
        assert!(
            r.iter().any(|x| x.starts_with("compat/avro-name-changed")),
            "{r:?}"
        );
    }

    #[test]
    fn namespaces_qualify_references() {
        let f = file(
            r#"{"type":"record","name":"R","namespace":"a.b","fields":[{"name":"x","type":{"type":"enum","name":"E","symbols":["A"]}},{"name":"y","type":"E"}]}"#,
        );
        assert!(f.named.contains_key("a.b.R"));
        assert!(f.named.contains_key("a.b.E"));
        assert!(f.unknown.is_empty(), "{:?}", f.unknown);
    }
}
