//! The OpenAPI and JSON Schema comparers beyond their fixtures (rule_fixtures.rs runs every
//! fixture under tests/fixtures/compat/ and snapshots its findings; a fixture's `expect.txt`
//! names the direction that breaks): locations point into JSON as into YAML.

use crate::common;

use common::fixtures::{compat, path};
use gonogo::config::ProtoLevel;

#[test]
fn locations_point_into_json_as_into_yaml() {
    let findings = compat(
        &path("compat/enum-value-removed/fail-jsonschema"),
        ProtoLevel::default(),
    )
    .findings;
    let removed = findings
        .iter()
        .find(|f| f.rule == "compat/enum-value-removed")
        .unwrap();
    // The removed value `paid`, in the old file.
    assert_eq!(
        removed.location.as_ref().unwrap().to_string(),
        "spec.json:16:9"
    );
    let findings = compat(
        &path("compat/constraint-tightened/fail-openapi"),
        ProtoLevel::default(),
    )
    .findings;
    let tightened = findings
        .iter()
        .find(|f| f.rule == "compat/constraint-tightened")
        .unwrap();
    assert_eq!(
        tightened.location.as_ref().unwrap().to_string(),
        "spec.yaml:43:29"
    );
}
