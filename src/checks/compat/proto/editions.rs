//! Protobuf Editions (`edition = "2023";`), read with a parser that only knows proto2 and
//! proto3 (protox 0.10, the newest release, has no editions grammar; neither does any other
//! pure-Rust parser), by a mapping layer rather than a parser fork:
//!
//! 1. [`lower_source`]: the editions grammar is proto2's without field labels `optional` /
//!    `required` and without groups (protobuf.dev/editions/overview). Read as proto3, the
//!    only construct that parser refuses is `[default = …]`, so the `edition` statement
//!    becomes `syntax = "proto3"` and `default` is renamed to a placeholder option of the
//!    same length. Every other byte stays where it was: source positions are unchanged.
//! 2. [`lower_descriptor`]: the parsed file becomes the proto2 descriptor the comparer already
//!    understands (`LEGACY_REQUIRED` → `required`, `DELIMITED` → group encoding, the default
//!    back in place, `features.*` options removed), and the features every message, enum and
//!    field resolves to are kept beside it ([`Features`]) for the comparisons only features
//!    can tell (enum type, UTF-8 validation, JSON format, presence).
//!
//! Files in proto2 and proto3 get the features their syntax implies (the `EDITION_PROTO2` and
//! `EDITION_PROTO3` defaults of descriptor.proto), so moving a type between a proto2 file and
//! an editions file is compared by behaviour, not by syntax.

use prost_reflect::prost_types::{
    DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto,
    UninterpretedOption, field_descriptor_proto::Label, field_descriptor_proto::Type,
};
use std::collections::{HashMap, HashSet};

/// The placeholder `default` is renamed to in the source: the same length, and a name no
/// descriptor.proto option has.
const DEFAULT_PLACEHOLDER: &str = "gngdflt";

/// The editions gonogo reads. 2024 changes no feature the comparer looks at (its new
/// features are naming style and symbol visibility, protobuf.dev/editions/features).
const EDITIONS: &[&str] = &["2023", "2024"];

/// An editions file, rewritten so the proto3 parser reads it at the same byte offsets.
pub struct LoweredSource {
    pub text: String,
    pub edition: String,
}

/// `Ok(None)` for proto2/proto3 files; `Err((byte offset, message))` for an edition gonogo
/// does not read.
pub fn lower_source(text: &str) -> Result<Option<LoweredSource>, (usize, String)> {
    let tokens = tokens(text);
    let Some(first) = tokens.first() else {
        return Ok(None);
    };
    if first.text(text) != "edition" {
        return Ok(None);
    }
    let statement = &tokens[..tokens.len().min(4)];
    let edition = match statement {
        [_, eq, value, semi]
            if eq.text(text) == "=" && value.is_string(text) && semi.text(text) == ";" =>
        {
            value.text(text).trim_matches(['"', '\'']).to_string()
        }
        _ => {
            return Err((
                first.start,
                "expected `edition = \"2023\";` as the first statement".to_string(),
            ));
        }
    };
    if !EDITIONS.contains(&edition.as_str()) {
        return Err((
            statement[2].start,
            format!(
                "edition \"{edition}\" is not supported: gonogo reads editions {}",
                EDITIONS.join(" and ")
            ),
        ));
    }
    let mut out = text.as_bytes().to_vec();
    let (start, end) = (first.start, statement[3].end);
    let syntax = b"syntax=\"proto3\";";
    // `edition = "2023";` is 17 bytes, the replacement 16: pad with spaces. A shorter
    // statement (`edition="2023";`) shifts only the rest of its own line.
    let mut replacement = syntax.to_vec();
    while replacement.len() < end - start {
        replacement.push(b' ');
    }
    let mut edits: Vec<(usize, usize, Vec<u8>)> = vec![(start, end, replacement)];
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate() {
        let word = token.text(text);
        match word {
            "[" => depth += 1,
            "]" => depth = depth.saturating_sub(1),
            // Field options: `[default = 5, json_name = "x"]`.
            "default"
                if depth > 0
                    && i > 0
                    && matches!(tokens[i - 1].text(text), "[" | ",")
                    && tokens.get(i + 1).is_some_and(|t| t.text(text) == "=") =>
            {
                edits.push((
                    token.start,
                    token.end,
                    DEFAULT_PLACEHOLDER.as_bytes().to_vec(),
                ));
            }
            // Edition 2024: `export` / `local` before a type set its symbol visibility, which
            // the encodings never see; `import option "x.proto";` imports a file for custom
            // options only, which gonogo drops anyway.
            "export" | "local"
                if starts_statement(&tokens, i, text)
                    && tokens
                        .get(i + 1)
                        .is_some_and(|t| matches!(t.text(text), "message" | "enum")) =>
            {
                edits.push((token.start, token.end, vec![b' '; token.end - token.start]));
            }
            "import"
                if starts_statement(&tokens, i, text)
                    && tokens.get(i + 1).is_some_and(|t| t.text(text) == "option") =>
            {
                if let Some(semi) = tokens[i..].iter().find(|t| t.text(text) == ";") {
                    let blank = text.as_bytes()[token.start..semi.end]
                        .iter()
                        .map(|b| if *b == b'\n' { b'\n' } else { b' ' })
                        .collect();
                    edits.push((token.start, semi.end, blank));
                }
            }
            _ => {}
        }
    }
    // Applied from the end so earlier offsets stay valid; only the first edit can change the
    // length.
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (start, end, bytes) in edits {
        out.splice(start..end, bytes);
    }
    let text = String::from_utf8(out).map_err(|_| (0, "not UTF-8".to_string()))?;
    Ok(Some(LoweredSource { text, edition }))
}

fn starts_statement(tokens: &[Token], i: usize, text: &str) -> bool {
    i == 0 || matches!(tokens[i - 1].text(text), ";" | "{" | "}")
}

#[derive(Debug, Clone, Copy)]
struct Token {
    start: usize,
    end: usize,
}

impl Token {
    fn text<'t>(&self, text: &'t str) -> &'t str {
        &text[self.start..self.end]
    }
    fn is_string(&self, text: &str) -> bool {
        matches!(text.as_bytes()[self.start], b'"' | b'\'')
    }
}

/// The protobuf language's tokens, enough to find statements: identifiers, numbers, strings
/// and single punctuation characters, with comments and whitespace skipped.
fn tokens(text: &str) -> Vec<Token> {
    let bytes = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b.is_ascii_whitespace() {
            i += 1;
        } else if bytes[i..].starts_with(b"//") {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
        } else if bytes[i..].starts_with(b"/*") {
            i += 2;
            while i < bytes.len() && !bytes[i..].starts_with(b"*/") {
                i += 1;
            }
            i = (i + 2).min(bytes.len());
        } else if b == b'"' || b == b'\'' {
            let start = i;
            i += 1;
            while i < bytes.len() && bytes[i] != b && bytes[i] != b'\n' {
                i += if bytes[i] == b'\\' { 2 } else { 1 };
            }
            i = (i + 1).min(bytes.len());
            out.push(Token { start, end: i });
        } else if b.is_ascii_alphanumeric() || b == b'_' {
            let start = i;
            while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                i += 1;
            }
            out.push(Token { start, end: i });
        } else {
            // One punctuation character; a multi-byte UTF-8 character outside strings and
            // comments is invalid protobuf, which the parser reports.
            let len = text[i..].chars().next().map_or(1, char::len_utf8);
            out.push(Token {
                start: i,
                end: i + len,
            });
            i += len;
        }
    }
    out
}

/// Field presence (protobuf.dev/editions/features#field_presence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Presence {
    Explicit,
    Implicit,
    LegacyRequired,
}

/// The features the comparer uses, resolved for one element (file defaults, then each
/// enclosing message, oneof and the element's own `features.*` options, innermost wins).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Features {
    pub presence: Presence,
    /// `enum_type = CLOSED`: unknown values of the enum go to the unknown fields.
    pub closed_enum: bool,
    /// `repeated_field_encoding = PACKED`.
    pub packed: bool,
    /// `utf8_validation = VERIFY`.
    pub verify_utf8: bool,
    /// `message_encoding = DELIMITED` (group encoding).
    pub delimited: bool,
    /// `json_format = ALLOW` (as opposed to `LEGACY_BEST_EFFORT`).
    pub json_allowed: bool,
}

impl Features {
    /// The defaults of each syntax and edition, from descriptor.proto's `edition_defaults`.
    fn defaults(syntax: &str) -> Features {
        match syntax {
            "proto2" | "" => Features {
                presence: Presence::Explicit,
                closed_enum: true,
                packed: false,
                verify_utf8: false,
                delimited: false,
                json_allowed: false,
            },
            "proto3" => Features {
                presence: Presence::Implicit,
                closed_enum: false,
                packed: true,
                verify_utf8: true,
                delimited: false,
                json_allowed: true,
            },
            _ => Features {
                presence: Presence::Explicit,
                closed_enum: false,
                packed: true,
                verify_utf8: true,
                delimited: false,
                json_allowed: true,
            },
        }
    }

    /// Apply `features.<name> = <VALUE>` options; `Err` names an unknown value.
    fn apply(mut self, options: &[UninterpretedOption]) -> Result<Features, String> {
        for option in options {
            let Some((feature, value)) = feature_option(option) else {
                continue;
            };
            let bad = || format!("unknown value `{value}` for `features.{feature}`");
            match feature {
                "field_presence" => {
                    self.presence = match value {
                        "EXPLICIT" => Presence::Explicit,
                        "IMPLICIT" => Presence::Implicit,
                        "LEGACY_REQUIRED" => Presence::LegacyRequired,
                        _ => return Err(bad()),
                    }
                }
                "enum_type" => {
                    self.closed_enum = match value {
                        "OPEN" => false,
                        "CLOSED" => true,
                        _ => return Err(bad()),
                    }
                }
                "repeated_field_encoding" => {
                    self.packed = match value {
                        "PACKED" => true,
                        "EXPANDED" => false,
                        _ => return Err(bad()),
                    }
                }
                "utf8_validation" => {
                    self.verify_utf8 = match value {
                        "VERIFY" => true,
                        "NONE" => false,
                        _ => return Err(bad()),
                    }
                }
                "message_encoding" => {
                    self.delimited = match value {
                        "LENGTH_PREFIXED" => false,
                        "DELIMITED" => true,
                        _ => return Err(bad()),
                    }
                }
                "json_format" => {
                    self.json_allowed = match value {
                        "ALLOW" => true,
                        "LEGACY_BEST_EFFORT" => false,
                        _ => return Err(bad()),
                    }
                }
                // Language features (`features.(pb.cpp).string_type`) have an extension in
                // their name and are dropped with the other custom options; other built-in
                // features (naming style, visibility) change no encoding.
                _ => {}
            }
        }
        Ok(self)
    }
}

/// `features.field_presence = IMPLICIT` → (`field_presence`, `IMPLICIT`).
fn feature_option(option: &UninterpretedOption) -> Option<(&str, &str)> {
    match option.name.as_slice() {
        [first, second] if first.name_part == "features" && !first.is_extension => Some((
            second.name_part.as_str(),
            option.identifier_value.as_deref()?,
        )),
        _ => None,
    }
}

fn is_feature_option(option: &UninterpretedOption) -> bool {
    option
        .name
        .first()
        .is_some_and(|p| p.name_part == "features" && !p.is_extension)
}

/// What every message, enum and field of one file resolves to, by full name (fields as
/// `message.full.Name.field_name`, extensions by their own full name).
#[derive(Debug, Default)]
pub struct FeatureMap {
    pub messages: HashMap<String, Features>,
    pub enums: HashMap<String, Features>,
    pub fields: HashMap<String, Features>,
}

/// An error in an editions file, at a source-info path of the parsed descriptor.
pub struct LoweringError {
    pub path: Vec<i32>,
    pub message: String,
}

/// Resolve the features of `file` (any syntax) into `map`. For an editions file (`edition`
/// set) also rewrite the descriptor to the proto2 the comparer reads; `enum_names` are the
/// short names of every enum of the version (to tell enum fields from message fields).
pub fn lower_descriptor(
    file: &mut FileDescriptorProto,
    edition: Option<&str>,
    enum_names: &HashSet<String>,
    map: &mut FeatureMap,
) -> Result<(), LoweringError> {
    let syntax = match edition {
        Some(_) => "editions".to_string(),
        None => file.syntax().to_string(),
    };
    let editions = edition.is_some();
    let mut base = Features::defaults(&syntax);
    if editions {
        let options = file
            .options
            .as_ref()
            .map(|o| o.uninterpreted_option.as_slice())
            .unwrap_or_default();
        base = base.apply(options).map_err(|message| LoweringError {
            path: vec![8],
            message,
        })?;
    }
    let package = file.package().to_string();
    let mut lowering = Lowering {
        editions,
        enum_names,
        proto3: syntax == "proto3",
        map,
    };
    for (i, message) in file.message_type.iter_mut().enumerate() {
        lowering.message(message, &package, base, vec![4, i as i32])?;
    }
    for (i, e) in file.enum_type.iter_mut().enumerate() {
        lowering.enumeration(e, &package, base, vec![5, i as i32])?;
    }
    for (i, field) in file.extension.iter_mut().enumerate() {
        let name = join(&package, field.name());
        lowering.field(field, &name, base, None, vec![7, i as i32])?;
    }
    if editions {
        file.syntax = Some("proto2".into());
        if let Some(options) = file.options.as_mut() {
            options
                .uninterpreted_option
                .retain(|o| !is_feature_option(o));
        }
        for service in &mut file.service {
            if let Some(options) = service.options.as_mut() {
                options
                    .uninterpreted_option
                    .retain(|o| !is_feature_option(o));
            }
            for method in &mut service.method {
                if let Some(options) = method.options.as_mut() {
                    options
                        .uninterpreted_option
                        .retain(|o| !is_feature_option(o));
                }
            }
        }
    }
    Ok(())
}

struct Lowering<'m> {
    editions: bool,
    enum_names: &'m HashSet<String>,
    proto3: bool,
    map: &'m mut FeatureMap,
}

impl Lowering<'_> {
    /// This element's own features on top of `inherited`, its `features.*` options removed
    /// (editions only: in proto2/proto3 `features` is not an option).
    fn own(
        &self,
        inherited: Features,
        options: Option<&mut Vec<UninterpretedOption>>,
        path: &[i32],
    ) -> Result<Features, LoweringError> {
        let Some(options) = options else {
            return Ok(inherited);
        };
        if !self.editions {
            return Ok(inherited);
        }
        let features = inherited.apply(options).map_err(|message| LoweringError {
            path: path.to_vec(),
            message,
        })?;
        options.retain(|o| !is_feature_option(o));
        Ok(features)
    }

    fn message(
        &mut self,
        message: &mut DescriptorProto,
        scope: &str,
        inherited: Features,
        path: Vec<i32>,
    ) -> Result<(), LoweringError> {
        let name = join(scope, message.name());
        let features = self.own(
            inherited,
            message
                .options
                .as_mut()
                .map(|o| &mut o.uninterpreted_option),
            &path,
        )?;
        self.map.messages.insert(name.clone(), features);
        let oneofs: Vec<Features> = message
            .oneof_decl
            .iter_mut()
            .enumerate()
            .map(|(i, oneof)| {
                let at = [path.as_slice(), &[8, i as i32]].concat();
                self.own(
                    features,
                    oneof.options.as_mut().map(|o| &mut o.uninterpreted_option),
                    &at,
                )
            })
            .collect::<Result<_, _>>()?;
        for (i, field) in message.field.iter_mut().enumerate() {
            let inherited = field
                .oneof_index
                .and_then(|o| oneofs.get(o as usize).copied())
                .unwrap_or(features);
            let field_name = format!("{name}.{}", field.name());
            let at = [path.as_slice(), &[2, i as i32]].concat();
            let oneof = field.oneof_index;
            self.field(field, &field_name, inherited, oneof, at)?;
        }
        for (i, field) in message.extension.iter_mut().enumerate() {
            let field_name = join(&name, field.name());
            let at = [path.as_slice(), &[6, i as i32]].concat();
            self.field(field, &field_name, features, None, at)?;
        }
        for (i, nested) in message.nested_type.iter_mut().enumerate() {
            let at = [path.as_slice(), &[3, i as i32]].concat();
            self.message(nested, &name, features, at)?;
        }
        for (i, e) in message.enum_type.iter_mut().enumerate() {
            let at = [path.as_slice(), &[4, i as i32]].concat();
            self.enumeration(e, &name, features, at)?;
        }
        Ok(())
    }

    fn enumeration(
        &mut self,
        e: &mut EnumDescriptorProto,
        scope: &str,
        inherited: Features,
        path: Vec<i32>,
    ) -> Result<(), LoweringError> {
        let features = self.own(
            inherited,
            e.options.as_mut().map(|o| &mut o.uninterpreted_option),
            &path,
        )?;
        if self.editions {
            for value in &mut e.value {
                if let Some(options) = value.options.as_mut() {
                    options
                        .uninterpreted_option
                        .retain(|o| !is_feature_option(o));
                }
            }
        }
        self.map.enums.insert(join(scope, e.name()), features);
        Ok(())
    }

    fn field(
        &mut self,
        field: &mut FieldDescriptorProto,
        name: &str,
        inherited: Features,
        oneof: Option<i32>,
        path: Vec<i32>,
    ) -> Result<(), LoweringError> {
        let mut features = self.own(
            inherited,
            field.options.as_mut().map(|o| &mut o.uninterpreted_option),
            &path,
        )?;
        let repeated = field.label() == Label::Repeated;
        if self.editions {
            if field.proto3_optional() {
                return Err(LoweringError {
                    path: [path.as_slice(), &[4]].concat(),
                    message: "`optional` is not allowed in editions: presence is \
                              `features.field_presence` (EXPLICIT is the default)"
                        .to_string(),
                });
            }
            if let Some(options) = field.options.as_mut()
                && let Some(at) = options
                    .uninterpreted_option
                    .iter()
                    .position(|o| o.name.len() == 1 && o.name[0].name_part == DEFAULT_PLACEHOLDER)
            {
                let option = options.uninterpreted_option.remove(at);
                field.default_value = Some(default_text(&option, field.r#type));
            }
            if features.presence == Presence::LegacyRequired && !repeated && oneof.is_none() {
                field.label = Some(Label::Required as i32);
            }
            // A message field with DELIMITED encoding is what proto2 calls a group
            // (protobuf.dev/editions/features#message_encoding); scalar and enum fields
            // ignore the feature. The parser leaves named types unresolved, so a name that
            // is an enum anywhere in the version is taken for the enum.
            let named_message = field.r#type.is_none()
                && field.type_name.as_deref().is_some_and(|t| {
                    let short = t.rsplit('.').next().unwrap_or(t);
                    !self.enum_names.contains(short)
                });
            if features.delimited && named_message {
                field.r#type = Some(Type::Group as i32);
            }
        } else {
            // What proto2/proto3 spell with labels and options, in features' terms. Message
            // fields track presence in every syntax: the comparer leaves them out.
            if field.label() == Label::Required {
                features.presence = Presence::LegacyRequired;
            } else if self.proto3 && (field.proto3_optional() || oneof.is_some()) {
                features.presence = Presence::Explicit;
            }
            if let Some(packed) = field.options.as_ref().and_then(|o| o.packed) {
                features.packed = packed;
            }
            features.delimited = field.r#type() == Type::Group;
        }
        self.map.fields.insert(name.to_string(), features);
        Ok(())
    }
}

/// A `default` option's value as `FieldDescriptorProto.default_value` spells it
/// (descriptor.proto: numbers as written, strings as is, bytes C-escaped, enums by name).
fn default_text(option: &UninterpretedOption, ty: Option<i32>) -> String {
    if let Some(value) = option.positive_int_value {
        return value.to_string();
    }
    if let Some(value) = option.negative_int_value {
        return value.to_string();
    }
    if let Some(value) = option.double_value {
        return value.to_string();
    }
    if let Some(bytes) = &option.string_value {
        if ty == Some(Type::Bytes as i32) {
            let mut out = String::new();
            for b in bytes {
                match b {
                    b'\\' => out.push_str("\\\\"),
                    b'"' => out.push_str("\\\""),
                    b'\'' => out.push_str("\\'"),
                    0x20..=0x7e => out.push(*b as char),
                    _ => out.push_str(&format!("\\{b:03o}")),
                }
            }
            return out;
        }
        return String::from_utf8_lossy(bytes).into_owned();
    }
    option.identifier_value.clone().unwrap_or_default()
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_edition_statement_becomes_proto3_at_the_same_offsets() {
        let text = "// header\nedition = \"2023\";\npackage a;\nmessage M { int32 x = 1 [default = 5]; }\n";
        let lowered = lower_source(text).unwrap().unwrap();
        assert_eq!(lowered.edition, "2023");
        assert_eq!(lowered.text.len(), text.len());
        assert!(lowered.text.contains("syntax=\"proto3\"; \n"));
        assert!(lowered.text.contains("[gngdflt = 5]"));
        assert_eq!(lowered.text.find("message"), text.find("message"));
    }

    #[test]
    fn proto3_files_and_default_named_fields_are_left_alone() {
        assert!(
            lower_source("syntax = \"proto3\";\nmessage M {}\n")
                .unwrap()
                .is_none()
        );
        let text = "edition = \"2023\";\nmessage M { int32 default = 1; string s = 2 [json_name = \"default\"]; }\n";
        let lowered = lower_source(text).unwrap().unwrap();
        assert!(lowered.text.contains("int32 default = 1"));
        assert!(lowered.text.contains("\"default\""));
    }

    #[test]
    fn unknown_editions_are_refused_with_their_position() {
        let (at, message) = lower_source("edition = \"2099\";\n").err().unwrap();
        assert_eq!(at, 10);
        assert!(message.contains("\"2099\" is not supported"), "{message}");
    }

    #[test]
    fn edition_2024_visibility_and_option_imports_are_blanked() {
        let text = "edition = \"2024\";\nimport option \"x/y.proto\";\nexport message M {}\nlocal enum E { E_ZERO = 0; }\n";
        let lowered = lower_source(text).unwrap().unwrap();
        assert!(!lowered.text.contains("import"));
        assert!(lowered.text.contains("       message M"));
        assert!(lowered.text.contains("      enum E"));
    }
}
