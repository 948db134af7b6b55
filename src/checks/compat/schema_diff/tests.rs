use super::*;

fn docs(text: &str) -> Docs {
    Docs::from_node("s.yaml", crate::yaml::parse_single(text).unwrap().unwrap())
}

fn diff(old: &str, new: &str, flow: Flow) -> Vec<Finding> {
    let (old, new) = (docs(old), docs(new));
    let mut differ = Differ::new(&old, &new);
    let place = Place {
        context: "body".to_string(),
        flow,
    };
    let (a, b) = (old.root("s.yaml").unwrap(), new.root("s.yaml").unwrap());
    differ.schemas(&place, "", &[a], &[b]);
    assert!(differ.errors.is_empty(), "{:?}", differ.errors);
    differ.findings
}

fn rules(findings: &[Finding]) -> Vec<&str> {
    findings.iter().map(|f| f.rule.as_str()).collect()
}

#[test]
fn type_narrowing_breaks_requests_and_widening_breaks_responses() {
    let (int, num) = ("type: integer\n", "type: number\n");
    let request = diff(num, int, Flow::Request);
    assert_eq!(rules(&request), ["compat/type-changed"]);
    assert!(
        request[0]
            .message
            .contains("updated pods will reject requests")
    );
    assert!(diff(num, int, Flow::Response).is_empty());
    let response = diff(int, num, Flow::Response);
    assert!(
        response[0]
            .message
            .contains("clients that are not updated yet cannot read")
    );
    assert_eq!(
        rules(&diff(int, num, Flow::Request)),
        ["compat/request-widened"]
    );
    let both = diff("type: object\n", "type: array\n", Flow::Message);
    assert!(both[0].message.contains(", and "), "{both:?}");
}

#[test]
fn nullable_spellings_are_one_type() {
    let old = "type: string\n";
    for new in [
        "type: string\nnullable: true\n",
        "type: string\nx-nullable: true\n",
        "type: [string, 'null']\n",
    ] {
        let found = diff(old, new, Flow::Response);
        assert_eq!(rules(&found), ["compat/type-changed"], "{new}");
        assert!(found[0].message.contains("made nullable"), "{found:?}");
    }
}

#[test]
fn required_and_properties_by_flow() {
    let old = "type: object\nproperties:\n  a: {type: string}\n";
    let new =
        "type: object\nrequired: [a, b]\nproperties:\n  a: {type: string}\n  b: {type: string}\n";
    let found = diff(old, new, Flow::Request);
    assert_eq!(
        rules(&found),
        [
            "compat/required-property-added",
            "compat/property-made-required"
        ]
    );
    assert_eq!(found[0].location, Some(Location::new("s.yaml", 5, 3)));
    assert_eq!(
        rules(&diff(old, new, Flow::Response)),
        ["compat/property-added"]
    );
    let removed = diff(new, old, Flow::Response);
    assert_eq!(
        rules(&removed),
        ["compat/property-removed", "compat/property-made-optional"]
    );
    assert_eq!(removed[0].location, Some(Location::new("s.yaml", 5, 3)));
    assert_eq!(
        rules(&diff(new, old, Flow::Request))[0],
        "compat/property-undeclared"
    );
}

#[test]
fn constraints_and_enums() {
    let tighter = diff(
        "type: string\nmaxLength: 64\n",
        "type: string\nmaxLength: 32\npattern: '^a'\n",
        Flow::Request,
    );
    assert_eq!(
        rules(&tighter),
        ["compat/constraint-tightened", "compat/constraint-tightened"]
    );
    assert!(
        tighter[0]
            .message
            .contains("maxLength decreased from 64 to 32")
    );
    let enums = diff("enum: [a, b]\n", "enum: [a, c]\n", Flow::Message);
    assert_eq!(
        rules(&enums),
        ["compat/enum-value-removed", "compat/enum-value-added"]
    );
    assert_eq!(
        enums[0].location,
        Some(Location::new("s.yaml", 1, 11)),
        "old file position"
    );
    assert!(
        diff("format: uri-reference\n", "format: uri\n", Flow::Message)[0]
            .message
            .contains("updated consumers cannot read events already in the topic")
    );
}

#[test]
fn refs_all_of_and_cycles() {
    let old = "$ref: '#/definitions/a'\ndefinitions:\n  a:\n    allOf:\n      - {$ref: '#/definitions/b'}\n      - properties: {x: {$ref: '#/definitions/a'}}\n  b:\n    properties: {id: {type: string}}\n";
    assert!(diff(old, old, Flow::Message).is_empty());
    let new = old.replace("id: {type: string}", "id: {type: integer}");
    assert_eq!(
        rules(&diff(old, &new, Flow::Message)),
        ["compat/type-changed"]
    );
}

#[test]
fn reordered_alternatives_are_equal() {
    let old = "oneOf:\n  - {enum: [es5], description: a}\n  - {enum: [all]}\n";
    let new = "oneOf:\n  - {enum: [all], description: b}\n  - {enum: [es5]}\n";
    assert!(diff(old, new, Flow::Message).is_empty());
}

#[test]
fn paths_join_relative_to_the_referring_file() {
    assert_eq!(
        join_path("api/openapi.yaml", "schemas/a.yaml"),
        "api/schemas/a.yaml"
    );
    assert_eq!(
        join_path("api/v1/x.yaml", "../common.yaml"),
        "api/common.yaml"
    );
    assert_eq!(join_path("x.yaml", "./a%20b.yaml"), "a b.yaml");
}
