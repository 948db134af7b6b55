//! One version's `.proto` files, parsed and linked in memory by protox into a
//! [`DescriptorPool`] that keeps source positions.
//!
//! Imports resolve within the same [`Version`] (so the deployed version is read from git, never
//! the working tree), relative to these include roots, in order: the root implied by a file's
//! `package` (`proto/acme/v1/x.proto` with `package acme.v1` → `proto/`, buf's layout), the
//! directory of each configured file, and the project root. Well-known `google/protobuf/*.proto`
//! files come from protox's built-in copies when the project does not vendor them.
//!
//! An import that is nowhere in the project (typically a dependency pulled from the Buf Schema
//! Registry, like `google/api/annotations.proto`) does not stop the comparison: the types the
//! importing files use from it are stubbed as empty messages, so they compare by name, and the
//! caller reports the import as `compat/proto-import-unresolved` (info). Custom options
//! (`option (google.api.http) = …`) are dropped before linking for the same reason: they never
//! change the wire or JSON encoding.

use super::super::model::{SchemaError, Version};
use super::editions::{self, FeatureMap};
use crate::report::Location;
use prost_reflect::DescriptorPool;
use prost_reflect::prost_types::{DescriptorProto, FileDescriptorProto};
use protox::file::{File, FileResolver, GoogleFileResolver};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

/// Where stub files live in the compiler's name space; no project file can be called this.
const STUB_PREFIX: &str = "gonogo-stub/";

/// One version, compiled.
pub struct Loaded {
    pub pool: DescriptorPool,
    /// Compiler file name → project path, for every project file in the pool.
    pub paths: HashMap<String, String>,
    /// Compiler names of the configured files that compiled.
    pub roots: HashSet<String>,
    /// Imports found nowhere in the project: (import, where it is imported).
    pub unresolved_imports: Vec<(String, Location)>,
    /// The editions features every message, enum and field of the project resolves to.
    pub features: FeatureMap,
    /// Compiler file name → `proto2`, `proto3` or `edition 2023`, for every project file.
    pub syntax: HashMap<String, String>,
}

impl Loaded {
    pub fn is_stub_file(name: &str) -> bool {
        name.starts_with(STUB_PREFIX)
    }
}

/// A project file as read and parsed, before linking.
struct Parsed {
    path: String,
    proto: FileDescriptorProto,
    /// `2023` for an `edition = "2023";` file, read through [`editions::lower_source`].
    edition: Option<String>,
}

/// Files parsed in one run, by path and text: the deployed and the new version of a file that
/// did not change are parsed once (a release typically touches a few files of a tree).
/// Parsing is most of the cost of a version's compilation, and each version is linked once.
#[derive(Default)]
pub struct ParseCache {
    parsed: HashMap<(String, String), (FileDescriptorProto, Option<String>)>,
}

/// Compile the configured `files` (project paths) of `version`. Files that cannot be read,
/// parsed or linked become [`SchemaError`]s; the others are still compiled.
pub fn load(
    version: &Version,
    files: &[String],
    cache: &mut ParseCache,
) -> (Loaded, Vec<SchemaError>) {
    let mut errors = Vec::new();
    let google = GoogleFileResolver::new();
    let mut parsed: BTreeMap<String, Parsed> = BTreeMap::new(); // project path → parsed
    // Configured files first: together they decide the include roots imports resolve against.
    let mut include_roots: Vec<String> = Vec::new();
    for path in files {
        if let Some(one) = parse_one(version, path, cache, &mut errors) {
            for root in include_roots_of(path, one.proto.package()) {
                if !include_roots.contains(&root) {
                    include_roots.push(root);
                }
            }
            parsed.insert(path.clone(), one);
        }
    }
    include_roots.push(String::new()); // the project root comes last
    // Then every project file they import, transitively.
    // (importer path, import string, target project path, index of the import)
    let mut edges: Vec<(String, String, Option<String>, usize)> = Vec::new();
    let mut queue: VecDeque<String> = parsed.keys().cloned().collect();
    let mut seen: HashSet<String> = files.iter().cloned().collect();
    while let Some(path) = queue.pop_front() {
        if !parsed.contains_key(&path) {
            match parse_one(version, &path, cache, &mut errors) {
                Some(one) => {
                    parsed.insert(path.clone(), one);
                }
                None => continue,
            }
        }
        let imports = parsed[&path].proto.dependency.clone();
        for (index, import) in imports.into_iter().enumerate() {
            let target = find_in_project(version, &include_roots, &import);
            if let Some(target) = &target
                && seen.insert(target.clone())
            {
                queue.push_back(target.clone());
            }
            edges.push((path.clone(), import, target, index));
        }
    }

    // Features of every file, and editions files rewritten to the proto2 the comparer reads.
    let enum_names = enum_short_names(parsed.values().map(|p| &p.proto));
    let mut features = FeatureMap::default();
    parsed.retain(|path, one| {
        match editions::lower_descriptor(
            &mut one.proto,
            one.edition.as_deref(),
            &enum_names,
            &mut features,
        ) {
            Ok(()) => true,
            Err(err) => {
                let at = span(&one.proto, &err.path)
                    .map(|(line, column)| Location::new(path, line, column))
                    .unwrap_or_else(|| Location::file(path));
                errors.push(SchemaError::new(at, err.message));
                false
            }
        }
    });

    // Names: a file imported by some other file is known by that import string (so the two
    // agree); otherwise by its path relative to its package root, else to the project root.
    let mut names: HashMap<String, String> = HashMap::new(); // project path → compiler name
    for (_, import, target, _) in &edges {
        if let Some(target) = target {
            names
                .entry(target.clone())
                .or_insert_with(|| import.clone());
        }
    }
    for parsed in parsed.values() {
        names
            .entry(parsed.path.clone())
            .or_insert_with(|| default_name(&parsed.path, parsed.proto.package()));
    }

    let mut unresolved_imports = Vec::new();
    let mut missing: BTreeSet<String> = BTreeSet::new();
    for (importer, import, target, index) in &edges {
        if target.is_none() && google.open_file(import).is_err() {
            let at = parsed
                .get(importer)
                .and_then(|p| span(&p.proto, &[3, *index as i32]))
                .map(|(line, column)| Location::new(importer, line, column))
                .unwrap_or_else(|| Location::file(importer));
            unresolved_imports.push((import.clone(), at));
            missing.insert(import.clone());
        }
    }

    let mut by_name: HashMap<String, FileDescriptorProto> = HashMap::new();
    let mut paths = HashMap::new();
    let mut syntax = HashMap::new();
    for parsed in parsed.values() {
        let name = names[&parsed.path].clone();
        syntax.insert(
            name.clone(),
            match &parsed.edition {
                Some(edition) => format!("edition {edition}"),
                None => parsed
                    .proto
                    .syntax
                    .clone()
                    .unwrap_or_else(|| "proto2".into()),
            },
        );
        let mut proto = parsed.proto.clone();
        proto.name = Some(name.clone());
        strip_custom_options(&mut proto);
        paths.insert(name.clone(), parsed.path.clone());
        by_name.insert(name, proto);
    }

    if !missing.is_empty() {
        let stub_names = unresolved_types(&by_name, &google);
        let stub_files = stub_files(&stub_names);
        let stub_file_names: Vec<String> =
            stub_files.iter().map(|f| f.name().to_string()).collect();
        for import in &missing {
            by_name.insert(
                import.clone(),
                FileDescriptorProto {
                    name: Some(import.clone()),
                    syntax: Some("proto3".into()),
                    dependency: stub_file_names.clone(),
                    public_dependency: (0..stub_file_names.len() as i32).collect(),
                    ..Default::default()
                },
            );
        }
        for file in stub_files {
            by_name.insert(file.name().to_string(), file);
        }
    }

    let mut compiler = protox::Compiler::with_file_resolver(MemoryResolver {
        files: by_name,
        google,
    });
    compiler.include_source_info(true).include_imports(true);
    let mut roots = HashSet::new();
    let mut seen_errors = HashSet::new();
    for path in files {
        let Some(name) = names.get(path) else {
            continue; // already reported: unreadable or unparsable
        };
        match compiler.open_file(name) {
            Ok(_) => {
                roots.insert(name.clone());
            }
            Err(err) => {
                let error = error_at(&format!("{err:?}"), &err.to_string(), path, |file| {
                    paths.get(file).cloned()
                });
                if seen_errors.insert(error.to_string()) {
                    errors.push(error);
                }
            }
        }
    }
    let loaded = Loaded {
        pool: compiler.descriptor_pool(),
        paths,
        roots,
        unresolved_imports,
        features,
        syntax,
    };
    (loaded, errors)
}

fn parse_one(
    version: &Version,
    path: &str,
    cache: &mut ParseCache,
    errors: &mut Vec<SchemaError>,
) -> Option<Parsed> {
    let text = match version.read(path) {
        Ok(Some(text)) => text,
        Ok(None) => {
            errors.push(SchemaError::new(
                Location::file(path),
                format!("file not found in {}", version.label),
            ));
            return None;
        }
        Err(err) => {
            errors.push(SchemaError::new(Location::file(path), err));
            return None;
        }
    };
    let key = (path.to_string(), text);
    if let Some((proto, edition)) = cache.parsed.get(&key) {
        return Some(Parsed {
            path: path.to_string(),
            proto: proto.clone(),
            edition: edition.clone(),
        });
    }
    let text = &key.1;
    let (source, edition) = match editions::lower_source(text) {
        Ok(None) => (text.clone(), None),
        Ok(Some(lowered)) => (lowered.text, Some(lowered.edition)),
        Err((offset, message)) => {
            let (line, column) = line_column(text, offset);
            errors.push(SchemaError::new(Location::new(path, line, column), message));
            return None;
        }
    };
    match File::from_source(path, &source) {
        Ok(file) => {
            let proto = file.file_descriptor_proto().clone();
            cache
                .parsed
                .insert(key.clone(), (proto.clone(), edition.clone()));
            Some(Parsed {
                path: path.to_string(),
                proto,
                edition,
            })
        }
        Err(err) => {
            let mut message = err.to_string();
            if edition.is_some() {
                // The file was read as proto3: say what editions allow instead.
                message = match message.as_str() {
                    "required fields are not allowed in proto3 syntax" => {
                        "`required` is not allowed in editions: use \
                         `[features.field_presence = LEGACY_REQUIRED]`"
                            .to_string()
                    }
                    "groups are not allowed in proto3 syntax" => {
                        "groups are not allowed in editions: use a message field with \
                         `[features.message_encoding = DELIMITED]`"
                            .to_string()
                    }
                    _ => message,
                };
            }
            errors.push(error_at(&format!("{err:?}"), &message, path, |_| {
                Some(path.to_string())
            }));
            None
        }
    }
}

/// 1-based line and column of a byte offset.
fn line_column(text: &str, offset: usize) -> (u32, u32) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
    (line as u32, column as u32)
}

/// The short names of every enum the files define, nested ones included.
fn enum_short_names<'f>(files: impl Iterator<Item = &'f FileDescriptorProto>) -> HashSet<String> {
    fn message(m: &DescriptorProto, out: &mut HashSet<String>) {
        out.extend(m.enum_type.iter().map(|e| e.name().to_string()));
        m.nested_type.iter().for_each(|n| message(n, out));
    }
    let mut out = HashSet::new();
    for file in files {
        out.extend(file.enum_type.iter().map(|e| e.name().to_string()));
        file.message_type.iter().for_each(|m| message(m, &mut out));
    }
    out
}

/// The include roots a configured file implies: its package root (when the directories end
/// with the package, buf's layout) and its own directory.
fn include_roots_of(path: &str, package: &str) -> Vec<String> {
    let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    let mut roots = Vec::new();
    if let Some(root) = package_root(dir, package) {
        roots.push(root);
    }
    roots.push(dir.to_string());
    roots
}

/// `proto/acme/v1` with package `acme.v1` → `proto`; `acme/v1` → `` (the project root).
fn package_root(dir: &str, package: &str) -> Option<String> {
    if package.is_empty() {
        return None;
    }
    let suffix = package.replace('.', "/");
    if dir == suffix {
        return Some(String::new());
    }
    dir.strip_suffix(&format!("/{suffix}")).map(str::to_string)
}

fn default_name(path: &str, package: &str) -> String {
    let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
    match package_root(dir, package) {
        Some(root) if !root.is_empty() => path[root.len() + 1..].to_string(),
        _ => path.to_string(),
    }
}

fn find_in_project(version: &Version, roots: &[String], import: &str) -> Option<String> {
    roots.iter().find_map(|root| {
        let candidate = if root.is_empty() {
            import.to_string()
        } else {
            format!("{root}/{import}")
        };
        matches!(version.read(&candidate), Ok(Some(_))).then_some(candidate)
    })
}

/// A 1-based (line, column) of the element at `path` in the file's source info.
pub fn span(file: &FileDescriptorProto, path: &[i32]) -> Option<(u32, u32)> {
    let info = file.source_code_info.as_ref()?;
    let location = info.location.iter().find(|l| l.path == path)?;
    let line = u32::try_from(*location.span.first()?).ok()?;
    let column = u32::try_from(*location.span.get(1)?).ok()?;
    Some((line + 1, column + 1))
}

/// protox and prost-reflect print errors with their position as `file:line:col: message`
/// (their `Debug`); the structured position is only reachable through miette, which gonogo
/// does not depend on. `display` is the bare message; `path_of` maps the compiler's file name
/// to the project path.
fn error_at(
    debug: &str,
    display: &str,
    fallback: &str,
    path_of: impl Fn(&str) -> Option<String>,
) -> SchemaError {
    let (file, line, column) = split_position(debug);
    let location = match (file.and_then(&path_of), line, column) {
        (Some(path), Some(line), Some(column)) => Location::new(path, line, column),
        (Some(path), _, _) => Location::file(path),
        (None, _, _) => Location::file(fallback),
    };
    SchemaError::new(location, display.to_string())
}

/// `a/b.proto:3:7: message` → (`a/b.proto`, 3, 7).
fn split_position(debug: &str) -> (Option<&str>, Option<u32>, Option<u32>) {
    let mut parts = debug.splitn(4, ':');
    let file = parts.next().filter(|f| f.ends_with(".proto"));
    let line = parts.next().and_then(|l| l.trim().parse().ok());
    let column = parts.next().and_then(|c| c.trim().parse().ok());
    match (file, line, column) {
        (Some(f), Some(l), Some(c)) => (Some(f), Some(l), Some(c)),
        (Some(f), _, _) => (Some(f), None, None),
        _ => (None, None, None),
    }
}

struct MemoryResolver {
    files: HashMap<String, FileDescriptorProto>,
    google: GoogleFileResolver,
}

impl FileResolver for MemoryResolver {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match self.files.get(name) {
            Some(proto) => Ok(File::from_file_descriptor_proto(proto.clone())),
            None => self.google.open_file(name),
        }
    }
}

/// Drop options whose name is an extension (`(google.api.http)`): they need their defining
/// file to link, and never change an encoding. Built-in options (`json_name`, `deprecated`,
/// `packed`, `allow_alias`, `default`) stay.
fn strip_custom_options(file: &mut FileDescriptorProto) {
    macro_rules! strip {
        ($options:expr) => {
            if let Some(options) = $options.as_mut() {
                options
                    .uninterpreted_option
                    .retain(|o| !o.name.iter().any(|part| part.is_extension));
            }
        };
    }
    fn message(m: &mut DescriptorProto) {
        strip!(m.options);
        for f in m.field.iter_mut().chain(m.extension.iter_mut()) {
            strip!(f.options);
            // How an option field of a features file (google/protobuf/cpp_features.proto)
            // is declared: never an encoding, and protox 0.10 cannot interpret the
            // aggregate `edition_defaults = { edition: …, value: … }`.
            if let Some(options) = f.options.as_mut() {
                options.uninterpreted_option.retain(|o| {
                    !matches!(
                        o.name.first().map(|p| p.name_part.as_str()),
                        Some("edition_defaults" | "feature_support" | "targets" | "retention")
                    )
                });
            }
        }
        for o in &mut m.oneof_decl {
            strip!(o.options);
        }
        for r in &mut m.extension_range {
            strip!(r.options);
        }
        for e in &mut m.enum_type {
            strip!(e.options);
            for v in &mut e.value {
                strip!(v.options);
            }
        }
        m.nested_type.iter_mut().for_each(message);
    }
    strip!(file.options);
    file.message_type.iter_mut().for_each(message);
    for e in &mut file.enum_type {
        strip!(e.options);
        for v in &mut e.value {
            strip!(v.options);
        }
    }
    for f in &mut file.extension {
        strip!(f.options);
    }
    for s in &mut file.service {
        strip!(s.options);
        for m in &mut s.method {
            strip!(m.options);
        }
    }
}

/// Every symbol the parsed files define, and every package prefix (`a`, `a.b` for `a.b.c`).
fn defined_symbols(
    files: &HashMap<String, FileDescriptorProto>,
    google: &GoogleFileResolver,
) -> HashSet<String> {
    fn message(prefix: &str, m: &DescriptorProto, out: &mut HashSet<String>) {
        let name = join(prefix, m.name());
        for e in &m.enum_type {
            out.insert(join(&name, e.name()));
        }
        for n in &m.nested_type {
            message(&name, n, out);
        }
        out.insert(name);
    }
    let mut out = HashSet::new();
    let wkt: Vec<FileDescriptorProto> = files
        .values()
        .flat_map(|f| f.dependency.iter())
        .filter_map(|d| google.open_file(d).ok())
        .map(|f| f.file_descriptor_proto().clone())
        .collect();
    for file in files.values().chain(wkt.iter()) {
        let package = file.package();
        let mut prefix = String::new();
        for part in package.split('.').filter(|p| !p.is_empty()) {
            prefix = join(&prefix, part);
            out.insert(prefix.clone());
        }
        for m in &file.message_type {
            message(package, m, &mut out);
        }
        for e in &file.enum_type {
            out.insert(join(package, e.name()));
        }
        for s in &file.service {
            out.insert(join(package, s.name()));
        }
    }
    out
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

/// The fully-qualified names that type references in the files point to but nothing defines.
fn unresolved_types(
    files: &HashMap<String, FileDescriptorProto>,
    google: &GoogleFileResolver,
) -> HashSet<String> {
    let defined = defined_symbols(files, google);
    let mut out = HashSet::new();
    let mut check = |scope: &str, reference: &str| {
        if reference.is_empty() {
            return;
        }
        if let Some(full) = unresolved_target(&defined, scope, reference) {
            out.insert(full);
        }
    };
    fn walk(scope: &str, m: &DescriptorProto, check: &mut dyn FnMut(&str, &str)) {
        let scope = join(scope, m.name());
        for f in m.field.iter().chain(m.extension.iter()) {
            check(&scope, f.type_name());
            check(&scope, f.extendee());
        }
        for n in &m.nested_type {
            walk(&scope, n, check);
        }
    }
    for file in files.values() {
        let package = file.package();
        for m in &file.message_type {
            walk(package, m, &mut check);
        }
        for f in &file.extension {
            check(package, f.type_name());
            check(package, f.extendee());
        }
        for s in &file.service {
            for m in &s.method {
                check(package, m.input_type());
                check(package, m.output_type());
            }
        }
    }
    out
}

/// Protobuf name resolution, reduced to what stubbing needs: `None` when `reference` resolves
/// from `scope`; otherwise the full name a stub must have so that it does.
fn unresolved_target(defined: &HashSet<String>, scope: &str, reference: &str) -> Option<String> {
    if let Some(full) = reference.strip_prefix('.') {
        return (!defined.contains(full)).then(|| full.to_string());
    }
    let (first, rest) = match reference.split_once('.') {
        Some((first, rest)) => (first, Some(rest)),
        None => (reference, None),
    };
    let mut scope = scope.to_string();
    loop {
        let candidate = join(&scope, first);
        if defined.contains(&candidate) {
            let full = match rest {
                Some(rest) => format!("{candidate}.{rest}"),
                None => candidate,
            };
            return (!defined.contains(&full)).then_some(full);
        }
        if scope.is_empty() {
            return Some(reference.to_string());
        }
        scope = scope
            .rsplit_once('.')
            .map(|(s, _)| s.to_string())
            .unwrap_or_default();
    }
}

/// Stub files that define `names` as empty messages: a name whose parent is itself stubbed
/// is nested in it; the others are top-level messages in the package of their prefix.
fn stub_files(names: &HashSet<String>) -> Vec<FileDescriptorProto> {
    let mut sorted: Vec<&String> = names.iter().collect();
    sorted.sort();
    let mut files = Vec::new();
    let is_nested = |name: &str| {
        let mut prefix = name;
        while let Some((parent, _)) = prefix.rsplit_once('.') {
            if names.contains(parent) {
                return true;
            }
            prefix = parent;
        }
        false
    };
    fn build(name: &str, names: &[&String]) -> DescriptorProto {
        let short = name.rsplit('.').next().unwrap_or(name);
        let children: Vec<&String> = names
            .iter()
            .copied()
            .filter(|n| {
                n.strip_prefix(name)
                    .and_then(|rest| rest.strip_prefix('.'))
                    .is_some_and(|rest| !rest.contains('.'))
            })
            .collect();
        DescriptorProto {
            name: Some(short.to_string()),
            nested_type: children.iter().map(|c| build(c, names)).collect(),
            ..Default::default()
        }
    }
    for name in sorted.iter().copied().filter(|n| !is_nested(n)) {
        let package = name.rsplit_once('.').map(|(p, _)| p).unwrap_or("");
        files.push(FileDescriptorProto {
            name: Some(format!("{STUB_PREFIX}{name}.proto")),
            package: (!package.is_empty()).then(|| package.to_string()),
            syntax: Some("proto3".into()),
            message_type: vec![build(name, &sorted)],
            ..Default::default()
        });
    }
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_roots_follow_buf_layout() {
        assert_eq!(
            package_root("proto/acme/v1", "acme.v1").as_deref(),
            Some("proto")
        );
        assert_eq!(package_root("acme/v1", "acme.v1").as_deref(), Some(""));
        assert_eq!(package_root("api", "acme.v1"), None);
        assert_eq!(
            default_name("proto/acme/v1/x.proto", "acme.v1"),
            "acme/v1/x.proto"
        );
        assert_eq!(default_name("api/x.proto", "acme.v1"), "api/x.proto");
    }

    #[test]
    fn positions_are_read_from_debug_output() {
        assert_eq!(
            split_position("a/b.proto:3:7: unexpected token"),
            (Some("a/b.proto"), Some(3), Some(7))
        );
        assert_eq!(
            split_position("a/b.proto: something"),
            (Some("a/b.proto"), None, None)
        );
        assert_eq!(split_position("import cycle"), (None, None, None));
    }

    #[test]
    fn unresolved_names_follow_scoping() {
        let defined: HashSet<String> = ["a", "a.b", "a.b.M", "c"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(unresolved_target(&defined, "a.b", "M"), None);
        assert_eq!(unresolved_target(&defined, "a.b", ".a.b.M"), None);
        assert_eq!(
            unresolved_target(&defined, "a.b", "b.N").as_deref(),
            Some("a.b.N")
        );
        assert_eq!(
            unresolved_target(&defined, "a.b", "x.Y").as_deref(),
            Some("x.Y")
        );
        assert_eq!(
            unresolved_target(&defined, "a.b", ".c.D").as_deref(),
            Some("c.D")
        );
    }

    #[test]
    fn stubs_nest_under_stubbed_parents() {
        let names: HashSet<String> = ["x.Y", "x.Y.Z", "q.R"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let files = stub_files(&names);
        assert_eq!(files.len(), 2);
        let y = files.iter().find(|f| f.package() == "x").unwrap();
        assert_eq!(y.message_type[0].nested_type[0].name(), "Z");
    }
}
