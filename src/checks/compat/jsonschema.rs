//! JSON Schema (draft-04 style `definitions`, draft-07, 2020-12 `$defs`), YAML or JSON: a schema
//! describes a message, written by producers and read by consumers, possibly much later. Both
//! directions break: narrowing (old events fail the new schema: updated consumers cannot read
//! the topic's backlog) and widening (new events fail the old schema: old consumers cannot read
//! them). The root schema is compared, then every definition the two versions share by name,
//! so a library of definitions without a root is compared too (a definition reached from the
//! root is reported once).

use super::model::{Comparison, Flow, Pair, Version};
use super::schema_diff::{Differ, Docs, Place, Sref};

/// The JSON Schema rules are the shared schema rules in `schema_diff`.
const DEFINITION_KEYS: &[&str] = &["$defs", "definitions"];

pub fn compare(pairs: &[Pair], old: &Version, new: &Version) -> Comparison {
    let mut out = Comparison::default();
    for pair in pairs {
        let loaded = Docs::load(old, &pair.old_path)
            .and_then(|o| Docs::load(new, &pair.new_path).map(|n| (o, n)));
        let (old_docs, new_docs) = match loaded {
            Ok(docs) => docs,
            Err(e) => {
                out.errors.push(e);
                continue;
            }
        };
        let (Some(old_root), Some(new_root)) =
            (old_docs.root(&pair.old_path), new_docs.root(&pair.new_path))
        else {
            continue;
        };
        let mut differ = Differ::new(&old_docs, &new_docs);
        compare_roots(&mut differ, old_root, new_root);
        // A file that could not be read completely yields no findings: they would describe
        // a half-resolved schema. The check reports `error` for it.
        if differ.errors.is_empty() {
            out.findings.extend(differ.finish());
        }
        differ
            .errors
            .sort_by(|a, b| (&a.location, &a.message).cmp(&(&b.location, &b.message)));
        differ.errors.dedup();
        out.errors.append(&mut differ.errors);
    }
    out
}

fn compare_roots<'a>(differ: &mut Differ<'a>, old: Sref<'a>, new: Sref<'a>) {
    let root = Place {
        context: "schema".to_string(),
        flow: Flow::Message,
    };
    differ.schemas(&root, "", &[old], &[new]);
    for key in DEFINITION_KEYS {
        let (Some(old_defs), Some(new_defs)) = (old.node.get(key), new.node.get(key)) else {
            continue;
        };
        for (name_node, old_def) in old_defs.entries() {
            let Some(name) = name_node.as_key() else {
                continue;
            };
            let Some(new_def) = new_defs.get(&name) else {
                continue;
            };
            let place = Place {
                context: format!("definition `{name}`"),
                flow: Flow::Message,
            };
            differ.schemas(
                &place,
                "",
                &[Sref {
                    doc: old.doc,
                    node: old_def,
                }],
                &[Sref {
                    doc: new.doc,
                    node: new_def,
                }],
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(old: &str, new: &str) -> Comparison {
        let old = Version::from_files("v1", [("event.json", old)]);
        let new = Version::from_files("working tree", [("event.json", new)]);
        compare(&[Pair::same("event.json")], &old, &new)
    }

    #[test]
    fn definitions_are_compared_once_and_by_name() {
        let old = r##"{"$ref": "#/definitions/e", "definitions": {"e": {"type": "object", "properties": {"a": {"type": "string"}}}, "lib": {"type": "string"}}}"##;
        let new = r##"{"$ref": "#/definitions/e", "definitions": {"e": {"type": "object", "properties": {"a": {"type": "integer"}}}, "lib": {"type": "integer"}}}"##;
        let out = run(old, new);
        let messages: Vec<&str> = out.findings.iter().map(|f| f.message.as_str()).collect();
        assert_eq!(messages.len(), 2, "{messages:?}");
        assert!(messages[0].starts_with("schema: `a` type changed from string to integer"));
        assert!(messages[1].starts_with("definition `lib`: type changed"));
    }

    #[test]
    fn refs_to_other_files_of_the_same_version() {
        let old = Version::from_files(
            "v1",
            [
                (
                    "s/event.json",
                    r#"{"properties": {"a": {"$ref": "common.json#/defs/id"}}}"#,
                ),
                ("s/common.json", r#"{"defs": {"id": {"type": "string"}}}"#),
            ],
        );
        let new = Version::from_files(
            "working tree",
            [
                (
                    "s/event.json",
                    r#"{"properties": {"a": {"$ref": "common.json#/defs/id"}}}"#,
                ),
                (
                    "s/common.json",
                    r#"{"defs": {"id": {"type": "string", "maxLength": 3}}}"#,
                ),
            ],
        );
        let out = compare(&[Pair::same("s/event.json")], &old, &new);
        assert_eq!(out.findings.len(), 1, "{:?}", out);
        assert_eq!(out.findings[0].rule, "compat/constraint-tightened");
        assert_eq!(
            out.findings[0].location.as_ref().unwrap().path,
            "s/common.json"
        );
        let broken = Version::from_files(
            "working tree",
            [(
                "s/event.json",
                r#"{"properties": {"a": {"$ref": "gone.json"}}}"#,
            )],
        );
        let out = compare(&[Pair::same("s/event.json")], &old, &broken);
        assert!(
            out.errors[0]
                .message
                .contains("gone.json, which does not exist"),
            "{out:?}"
        );
    }
}
