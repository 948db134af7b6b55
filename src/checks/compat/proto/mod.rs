//! Protobuf: the deployed and the new `.proto` files, compiled in pure Rust (protox +
//! prost-reflect, no protoc), compared by fully-qualified name in both directions.
//!
//! `load` turns one version into a descriptor pool with source positions, `diff` compares two
//! pools, `rules` holds the rules and their documentation.

mod diff;
mod editions;
mod load;
mod rules;

pub use rules::*;

use super::model::{Comparison, Pair, Version};
use crate::config::ProtoLevel;

/// Compare every old file of `pairs` against every new one. All old files are compiled
/// together (and all new ones), so a message that moved between files is matched by name.
pub fn compare(pairs: &[Pair], old: &Version, new: &Version, level: ProtoLevel) -> Comparison {
    let mut old_files: Vec<String> = pairs.iter().map(|p| p.old_path.clone()).collect();
    let mut new_files: Vec<String> = pairs.iter().map(|p| p.new_path.clone()).collect();
    old_files.sort();
    old_files.dedup();
    new_files.sort();
    new_files.dedup();
    let mut cache = load::ParseCache::default();
    let (old_loaded, mut errors) = load::load(old, &old_files, &mut cache);
    let (new_loaded, new_errors) = load::load(new, &new_files, &mut cache);
    errors.extend(new_errors);

    let mut diff = diff::Diff {
        old: &old_loaded,
        new: &new_loaded,
        level,
        findings: Vec::new(),
        usage: diff::RpcUsage::of(&[&old_loaded, &new_loaded]),
        message_flow: crate::checks::compat::model::Flow::Stored,
    };
    diff.run();
    let mut findings = diff.findings;
    // Reported once, from the version being deployed: that is the one the user can fix now.
    for (import, at) in &new_loaded.unresolved_imports {
        findings.push(
            IMPORT_UNRESOLVED
                .finding(format!(
                    "import `{import}` is not in the project or among the well-known types: the \
                     types used from it are compared by name only"
                ))
                .at(at.clone()),
        );
    }
    findings.sort_by(|a, b| {
        (&a.location, &a.rule, &a.message).cmp(&(&b.location, &b.rule, &b.message))
    });
    findings.dedup();
    errors.sort_by(|a, b| (&a.location, &a.message).cmp(&(&b.location, &b.message)));
    errors.dedup();
    Comparison { findings, errors }
}
