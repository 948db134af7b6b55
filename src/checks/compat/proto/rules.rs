//! Protobuf rules of the `compat` check: declarations and documentation (what `gonogo explain`
//! prints). Detection is in `diff.rs`.
//!
//! The reference is `buf breaking` with the WIRE (`proto_level: wire`) and WIRE_JSON
//! (`proto_level: wire_json`, the default) categories; each rule names the buf rule it
//! corresponds to and every deliberate difference. docs/buf-comparison.md records the
//! side-by-side run.

use crate::declare_rule;

declare_rule! {
    order: 240;
    /// ## What it catches
    /// A field deleted from a message whose number is not `reserved` in the new version (at
    /// `wire_json`, the message says when the name is not reserved either). buf:
    /// FIELD_NO_DELETE_UNLESS_NUMBER_RESERVED.
    ///
    /// ## Why it matters during a deploy
    /// Old writers keep sending the field; the new version drops it as an unknown field, and old
    /// readers of new messages see its zero value. Worse, nothing stops the next change from
    /// giving the number to a different field, and then the old data is misread.
    /// Breaks both directions. Reported at the message in the new file, where `reserved` goes.
    ///
    /// ## Example
    /// ```proto
    /// // old                                   // new
    /// message Order {                          message Order {
    ///   string id = 1;                           string id = 1;
    ///   string coupon = 2;                     }
    /// }
    /// ```
    ///
    /// ## Do this instead
    /// Stop writing the field first (deprecate it), deploy, then delete it and reserve both:
    /// `reserved 2; reserved "coupon";`.
    pub FIELD_REMOVED = ("compat/proto-field-removed", Fail, "a field was removed without reserving its number");
}

declare_rule! {
    order: 250;
    /// ## What it catches
    /// A deleted field whose number is reserved but whose name is not (`wire_json` only). buf:
    /// FIELD_NO_DELETE_UNLESS_NAME_RESERVED.
    ///
    /// ## Why it matters during a deploy
    /// The protobuf JSON encoding uses field names. Old writers still send `"coupon": …`; a JSON
    /// parser of the new version rejects unknown fields by default, so the new version cannot
    /// read what the old one writes.
    ///
    /// ## Example
    /// ```proto
    /// // old: string coupon = 2;      // new: reserved 2;
    /// ```
    ///
    /// ## Do this instead
    /// Reserve the name too: `reserved 2; reserved "coupon";`. If no one uses the JSON encoding,
    /// set `proto_level: wire`.
    pub FIELD_NAME_NOT_RESERVED = ("compat/proto-field-name-not-reserved", Fail, "a removed field's number is reserved but not its name (JSON)");
}

declare_rule! {
    order: 270;
    /// ## What it catches
    /// A field that keeps its name but gets another number, which also means its old number now
    /// belongs to another field or to nothing. buf reports the same change as a deletion of the
    /// old number.
    ///
    /// ## Why it matters during a deploy
    /// The binary encoding carries only numbers: old writers send the value under the old
    /// number, the new version looks for it under the new one (and reads whatever now owns the
    /// old number as something else). Both directions break.
    ///
    /// ## Example
    /// ```proto
    /// // old: int64 amount = 3;       // new: int64 amount = 4;
    /// ```
    ///
    /// ## Do this instead
    /// Field numbers are forever. Add a new field with a new number, write both during the
    /// transition, then retire the old one with `reserved`.
    pub FIELD_NUMBER_CHANGED = ("compat/proto-field-number-changed", Fail, "a field changed its number");
}

declare_rule! {
    order: 260;
    /// ## What it catches
    /// A field deleted the safe way: its number (and at `wire_json` its name) is reserved.
    /// Info; buf reports nothing.
    ///
    /// ## Why it matters during a deploy
    /// Nothing fails to parse, but old readers of new messages see the field's zero value and
    /// new readers drop what old writers still send. Worth knowing if the old version still
    /// relies on the field.
    ///
    /// ## Example
    /// ```proto
    /// // old: string target = 1 [deprecated = true];   // new: reserved 1; reserved "target";
    /// ```
    ///
    /// ## Do this instead
    /// Nothing to fix when the old version no longer reads the field.
    pub FIELD_RETIRED = ("compat/proto-field-retired", Info, "a field was removed and its number reserved");
}

declare_rule! {
    order: 280;
    /// ## What it catches
    /// A field number whose name or `json_name` changed (`wire_json` only; the binary encoding
    /// does not carry names). buf: FIELD_SAME_NAME and FIELD_SAME_JSON_NAME, reported here as
    /// one finding per field.
    ///
    /// ## Why it matters during a deploy
    /// JSON carries the name: old writers send `"labels"`, the new version expects
    /// `"attributes"` and rejects (or drops) the old key, and old readers do the same to new
    /// messages. Both directions break for every JSON client (gRPC-Gateway, Connect JSON,
    /// messages stored as JSON).
    ///
    /// ## Example
    /// ```proto
    /// // old: repeated KeyValue labels = 1;     // new: repeated KeyValue attributes = 1;
    /// ```
    ///
    /// ## Do this instead
    /// Keep the JSON name stable with `[json_name = "labels"]`, or add the new field beside the
    /// old one and migrate. When only the binary encoding is used, set `proto_level: wire`.
    pub FIELD_RENAMED = ("compat/proto-field-renamed", Fail, "a field was renamed (breaks the JSON encoding)");
}

declare_rule! {
    order: 290;
    /// ## What it catches
    /// A field whose type changed to one that does not read the old bytes. Compatible at `wire`
    /// (protobuf's rules, as buf's FIELD_WIRE_COMPATIBLE_TYPE): int32, uint32, int64, uint64 and
    /// bool with each other; sint32 with sint64; fixed32 with sfixed32; fixed64 with sfixed64;
    /// string → bytes (not bytes → string: only valid UTF-8 would read, and nothing enforces
    /// it); an enum with int32, uint32, int64 and uint64. At `wire_json` (buf's
    /// FIELD_WIRE_JSON_COMPATIBLE_TYPE) JSON must agree too: only int32 ↔ uint32, int64 ↔
    /// uint64, fixed32 ↔ sfixed32 and fixed64 ↔ sfixed64 remain (64-bit integers are JSON
    /// strings, enums are names, bytes are base64). So int32 → uint32 is not reported at either
    /// level, even though a negative value written by the old version reads as a large number.
    ///
    /// An enum or message replaced by another of a different name is compared by content, not
    /// by name: a message renamed with the same fields (numbers, types and, at `wire_json`, JSON
    /// names) or an enum renamed with the same numbers (and names at `wire_json`) reads the
    /// same bytes and JSON. buf reports every name change; this is a deliberate difference.
    /// Switching between group (delimited) and length-prefixed encoding is a change.
    ///
    /// ## Why it matters during a deploy
    /// The other version decodes the bytes (or JSON) with the wrong type: a parse error, or
    /// worse, a silently different value. Both directions break.
    ///
    /// ## Example
    /// ```proto
    /// // old: int32 quantity = 2;      // new: sint32 quantity = 2;   (zigzag vs plain varint)
    /// ```
    ///
    /// ## Do this instead
    /// Add a new field with the new type, write both, migrate readers, then reserve the old one.
    pub FIELD_TYPE_CHANGED = ("compat/proto-field-type-changed", Fail, "a field's type changed incompatibly");
}

declare_rule! {
    order: 300;
    /// ## What it catches
    /// A field that changed between a single value, `repeated` and `map`. Switching between
    /// proto3 implicit presence and `optional` (explicit presence) is not reported: the
    /// encoding is the same. buf: FIELD_WIRE(_JSON)_COMPATIBLE_CARDINALITY.
    ///
    /// ## Why it matters during a deploy
    /// A reader expecting one value keeps only the last of a list; a packed repeated scalar is
    /// one length-delimited record a singular reader cannot parse; JSON changes between a value,
    /// an array and an object. Both directions break.
    ///
    /// ## Example
    /// ```proto
    /// // old: string tag = 3;      // new: repeated string tag = 3;
    /// ```
    ///
    /// ## Do this instead
    /// Add a new repeated (or map) field beside the old one, write both, then retire the old one.
    pub FIELD_CARDINALITY_CHANGED = ("compat/proto-field-cardinality-changed", Fail, "a field changed between single, repeated and map");
}

declare_rule! {
    order: 310;
    /// ## What it catches
    /// A `required` field added, or a field made required or no longer required (proto2 and
    /// editions `LEGACY_REQUIRED`). buf: MESSAGE_SAME_REQUIRED_FIELDS and the cardinality rules.
    ///
    /// ## Why it matters during a deploy
    /// A parser rejects a message that lacks a field it considers required. A new required field
    /// makes the new version reject everything the old one writes; a required field dropped or
    /// made optional makes old readers reject new messages that leave it out.
    ///
    /// ## Example
    /// ```proto
    /// // old: optional string region = 4;     // new: required string region = 4;
    /// ```
    ///
    /// ## Do this instead
    /// Never add required fields: add an optional one and validate in code.
    pub REQUIRED_FIELD_CHANGED = ("compat/proto-required-field-changed", Fail, "a required field was added or a field's required-ness changed");
}

declare_rule! {
    order: 320;
    /// ## What it catches
    /// A field moved into a `oneof`, out of one, or from one `oneof` to another. A proto3
    /// `optional` field's synthetic oneof does not count. One existing field moved alone into a
    /// new oneof is not reported: the protobuf language guide says "you can safely move a
    /// single field into a new oneof" (same number, type and JSON name; no old message can set
    /// two members). Moving several existing fields into one new oneof, or any field into a
    /// oneof that already existed, is. buf: FIELD_SAME_ONEOF.
    ///
    /// ## Why it matters during a deploy
    /// Setting one member of a oneof clears the others. A message that sets both the moved field
    /// and another member is read differently by each version: one of the values is silently
    /// lost. Both directions break.
    ///
    /// ## Example
    /// ```proto
    /// // old: string email = 1; string phone = 2;
    /// // new: oneof contact { string email = 1; string phone = 2; }
    /// ```
    ///
    /// ## Do this instead
    /// Move at most one existing field into a new oneof and give its other members new field
    /// numbers; or add a new oneof with new field numbers and migrate.
    pub FIELD_ONEOF_CHANGED = ("compat/proto-field-oneof-changed", Fail, "a field moved into, out of or between oneofs");
}

declare_rule! {
    order: 330;
    /// ## What it catches
    /// A proto2 (or editions explicit-presence) field whose `[default = …]` changed. buf:
    /// FIELD_SAME_DEFAULT.
    ///
    /// ## Why it matters during a deploy
    /// The default is not sent on the wire; each reader fills it in. For the same message, an
    /// unset field reads as the old default in the old version and the new default in the new
    /// one. Both directions disagree.
    ///
    /// ## Example
    /// ```proto
    /// // old: optional int32 page_size = 1 [default = 50];   // new: … [default = 100];
    /// ```
    ///
    /// ## Do this instead
    /// Keep the default; write the value explicitly from the writers that need another one.
    pub FIELD_DEFAULT_CHANGED = ("compat/proto-field-default-changed", Fail, "a field's default value changed");
}

declare_rule! {
    order: 340;
    /// ## What it catches
    /// An enum value deleted without reserving its number (at `wire_json`, the message says when
    /// the name is not reserved either). buf: ENUM_VALUE_NO_DELETE_UNLESS_NUMBER_RESERVED.
    ///
    /// ## Why it matters during a deploy
    /// Old writers still send the value. The new version does not know it: proto3 keeps it as
    /// an unrecognised number that no `switch` handles, proto2 moves it to unknown fields, and
    /// a JSON parser rejects the unknown name. The new version cannot read what the old one
    /// writes, and the number can later be reused with another meaning.
    ///
    /// ## Example
    /// ```proto
    /// // old: SCOPE_SHARD = 3; SCOPE_EXECUTION = 4;     // new: (both lines gone)
    /// ```
    ///
    /// ## Do this instead
    /// Keep the value (mark it `[deprecated = true]`), or reserve it:
    /// `reserved 3, 4; reserved "SCOPE_SHARD", "SCOPE_EXECUTION";`.
    pub ENUM_VALUE_REMOVED = ("compat/proto-enum-value-removed", Fail, "an enum value was removed without reserving its number");
}

declare_rule! {
    order: 350;
    /// ## What it catches
    /// A deleted enum value whose number is reserved but not its name (`wire_json` only). buf:
    /// ENUM_VALUE_NO_DELETE_UNLESS_NAME_RESERVED.
    ///
    /// ## Why it matters during a deploy
    /// JSON writes enum values by name: a JSON parser of the new version rejects the old name
    /// that old writers still send.
    ///
    /// ## Example
    /// ```proto
    /// // old: STATUS_NEW = 2;       // new: reserved 2;
    /// ```
    ///
    /// ## Do this instead
    /// Reserve the name too: `reserved "STATUS_NEW";`.
    pub ENUM_VALUE_NAME_NOT_RESERVED = ("compat/proto-enum-value-name-not-reserved", Fail, "a removed enum value's number is reserved but not its name (JSON)");
}

declare_rule! {
    order: 360;
    /// ## What it catches
    /// An enum value that keeps its name but gets another number. buf reports it as a deletion
    /// of the old number.
    ///
    /// ## Why it matters during a deploy
    /// The binary encoding carries the number: each version reads the other's value as a
    /// different (or unknown) one. Both directions break.
    ///
    /// ## Example
    /// ```proto
    /// // old: STATUS_DONE = 2;      // new: STATUS_DONE = 3;
    /// ```
    ///
    /// ## Do this instead
    /// Numbers are forever: add a new value if the meaning changes.
    pub ENUM_VALUE_CHANGED = ("compat/proto-enum-value-renumbered", Fail, "an enum value changed its number");
}

declare_rule! {
    order: 370;
    /// ## What it catches
    /// An enum number whose name changed (`wire_json` only). buf: ENUM_VALUE_SAME_NAME.
    ///
    /// ## Why it matters during a deploy
    /// JSON writes the name: each version rejects (or maps to the default) the name the other
    /// writes. Both directions break for JSON clients.
    ///
    /// ## Example
    /// ```proto
    /// // old: EVENT_TYPE_UPDATE_REQUESTED = 47;   // new: EVENT_TYPE_UPDATE_ADMITTED = 47;
    /// ```
    ///
    /// ## Do this instead
    /// Add the new name as an alias (`option allow_alias = true;` and both names on 47), deploy
    /// everywhere, then remove the old name and reserve it.
    pub ENUM_VALUE_RENAMED = ("compat/proto-enum-value-renamed", Fail, "an enum value was renamed (breaks the JSON encoding)");
}

declare_rule! {
    order: 380;
    /// ## What it catches
    /// A service, or an RPC of a service, that exists in the deployed version and not in the new
    /// one (matched by fully-qualified name). buf reports this only in its FILE and PACKAGE
    /// categories (RPC_NO_DELETE, SERVICE_NO_DELETE), not in WIRE or WIRE_JSON; gonogo
    /// reports it at both levels because it is exactly a deploy-time break.
    ///
    /// ## Why it matters during a deploy
    /// Clients that are not updated yet keep calling the RPC, and updated pods answer
    /// `UNIMPLEMENTED`.
    ///
    /// ## Example
    /// ```proto
    /// // old: rpc Watch(HealthCheckRequest) returns (stream HealthCheckResponse);
    /// // new: (gone)
    /// ```
    ///
    /// ## Do this instead
    /// Keep the RPC until no client calls it (check the metrics), then remove it in a later
    /// deploy.
    pub RPC_REMOVED = ("compat/proto-rpc-removed", Fail, "a service or RPC was removed");
}

declare_rule! {
    order: 390;
    /// ## What it catches
    /// An RPC whose request or response type changed to one that does not carry the same
    /// fields. As for fields, a renamed message with the same fields is not reported (buf's
    /// RPC_SAME_REQUEST_TYPE / RPC_SAME_RESPONSE_TYPE, in its FILE category, report any name
    /// change).
    ///
    /// ## Why it matters during a deploy
    /// Clients and pods of different versions encode the call with different messages: the
    /// request or response is misread.
    ///
    /// ## Example
    /// ```proto
    /// // old: rpc Get(GetRequest) returns (Order);     // new: rpc Get(GetRequest) returns (OrderView);
    /// ```
    ///
    /// ## Do this instead
    /// Add a new RPC with the new types, move clients to it, then remove the old one.
    pub RPC_TYPE_CHANGED = ("compat/proto-rpc-type-changed", Fail, "an RPC's request or response type changed");
}

declare_rule! {
    order: 400;
    /// ## What it catches
    /// An RPC that changed between unary and streaming, on the client or the server side. buf:
    /// RPC_SAME_CLIENT_STREAMING / RPC_SAME_SERVER_STREAMING.
    ///
    /// ## Why it matters during a deploy
    /// The call shape differs: a unary client talking to a streaming handler (or the reverse)
    /// fails or reads only the first message.
    ///
    /// ## Example
    /// ```proto
    /// // old: rpc List(Req) returns (Resp);      // new: rpc List(Req) returns (stream Resp);
    /// ```
    ///
    /// ## Do this instead
    /// Add a new streaming RPC next to the unary one.
    pub RPC_STREAMING_CHANGED = ("compat/proto-rpc-streaming-changed", Fail, "an RPC changed between unary and streaming");
}

declare_rule! {
    order: 410;
    /// ## What it catches
    /// A message or enum that no longer exists under its fully-qualified name (a type moved to
    /// another file is not removed). Info: buf's WIRE and WIRE_JSON categories do not report
    /// it either, because no encoding names a type. What breaks is what used it: a field or
    /// RPC whose type changed or disappeared is reported by its own rule.
    ///
    /// ## Why it matters during a deploy
    /// It does not by itself, but code still referring to the type (including other
    /// repositories, or a consumer that decodes a topic's payload by this type) no longer
    /// builds against the new schema.
    ///
    /// ## Example
    /// ```proto
    /// // old: message InstrumentationLibrary { … }     // new: (gone)
    /// ```
    ///
    /// ## Do this instead
    /// Deprecate first; delete once nothing refers to it.
    pub MESSAGE_REMOVED = ("compat/proto-type-removed", Info, "a message or enum was removed");
}

declare_rule! {
    order: 420;
    /// ## What it catches
    /// `reserved` numbers or names of a message or enum that the new version no longer
    /// reserves (and does not use). Info: buf reports this in WIRE (RESERVED_MESSAGE_NO_DELETE,
    /// RESERVED_ENUM_NO_DELETE), but nothing breaks during this deploy; the risk is a later
    /// change reusing them.
    ///
    /// ## Why it matters during a deploy
    /// It does not yet: the reservation protects data written long ago from being misread by a
    /// future field with the same number or name.
    ///
    /// ## Example
    /// ```proto
    /// // old: reserved 4; reserved "name";     // new: (gone)
    /// ```
    ///
    /// ## Do this instead
    /// Keep reservations forever.
    pub RESERVED_REMOVED = ("compat/proto-reserved-removed", Info, "a reserved number or name was dropped");
}

declare_rule! {
    order: 430;
    /// ## What it catches
    /// An `import` that is found neither in the project (relative to the package root of a
    /// configured file, its directory, or the project root) nor among the well-known
    /// `google/protobuf/*.proto` files; typically a dependency from the Buf Schema Registry.
    ///
    /// ## Why it matters during a deploy
    /// gonogo still compares the files: the types used from the missing file are treated as
    /// opaque messages and compared by name only, so a change inside them goes unnoticed.
    ///
    /// ## Example
    /// ```proto
    /// import "google/api/annotations.proto";   // not vendored in the repository
    /// ```
    ///
    /// ## Do this instead
    /// Vendor the dependency in the repository (e.g. `buf export` into `third_party/`) if its
    /// types should be compared too.
    pub IMPORT_UNRESOLVED = ("compat/proto-import-unresolved", Info, "an import is not in the project; its types are compared by name only");
}

declare_rule! {
    order: 432;
    /// ## What it catches
    /// A message or enum whose `features.json_format` went from `ALLOW` to
    /// `LEGACY_BEST_EFFORT` (`wire_json` only), including by moving it from a proto3 or
    /// editions file into a proto2 file, whose default is `LEGACY_BEST_EFFORT`. buf:
    /// MESSAGE_SAME_JSON_FORMAT and ENUM_SAME_JSON_FORMAT (buf also reports each map entry of
    /// the message; gonogo reports the message once).
    ///
    /// ## Why it matters during a deploy
    /// protobuf.dev/editions/features#json_format: under `ALLOW` protoc guarantees a
    /// well-defined JSON mapping (it refuses field names whose JSON names collide); under
    /// `LEGACY_BEST_EFFORT` it stops checking, so the next change can add a field that JSON
    /// clients of this version cannot tell apart from another. The encoding of today's fields
    /// does not change: warn, not fail.
    ///
    /// ## Example
    /// ```proto
    /// // old: edition = "2023"; message Order {…}
    /// // new: option features.json_format = LEGACY_BEST_EFFORT;
    /// ```
    ///
    /// ## Do this instead
    /// Keep `json_format = ALLOW` for anything JSON clients read (set it explicitly on types
    /// moved into proto2 files, or leave them where they were).
    pub JSON_FORMAT_CHANGED = ("compat/proto-json-format-changed", Warn, "a message or enum no longer guarantees a JSON mapping");
}

declare_rule! {
    order: 434;
    /// ## What it catches
    /// An enum that became closed: `features.enum_type` from `OPEN` to `CLOSED`, or moved
    /// from a proto3 or editions file into a proto2 file (proto2 enums are closed). buf has
    /// ENUM_SAME_TYPE in its FILE category only; gonogo warns because the change is about
    /// what a reader does with data.
    ///
    /// ## Why it matters during a deploy
    /// protobuf.dev/programming-guides/enum: a reader of a closed enum puts a number it does
    /// not know into the unknown fields, so the field reads as unset (its default), where an
    /// open enum keeps the number. Once the new version is deployed, any value added later
    /// (or written by a version that has more values) silently becomes the default for it.
    ///
    /// ## Example
    /// ```proto
    /// // old: enum Status { STATUS_UNSPECIFIED = 0; … }
    /// // new: enum Status { option features.enum_type = CLOSED; STATUS_UNSPECIFIED = 0; … }
    /// ```
    ///
    /// ## Do this instead
    /// Keep enums open (the editions default), and handle unknown values in code.
    pub ENUM_CLOSED = ("compat/proto-enum-closed", Warn, "an enum became closed: unknown values read as unset");
}

declare_rule! {
    order: 436;
    /// ## What it catches
    /// A `string` field that starts validating UTF-8 (`features.utf8_validation` from `NONE`
    /// to `VERIFY`), typically when a proto2
    /// file (no validation) becomes an editions file (`VERIFY` by default) without
    /// `features.utf8_validation = NONE`. buf has FIELD_SAME_UTF8_VALIDATION in its FILE
    /// category only.
    ///
    /// ## Why it matters during a deploy
    /// protobuf.dev/editions/features#utf8_validation: with `VERIFY` the parser rejects a
    /// message whose string is not valid UTF-8; with `NONE` it reads it like `bytes`. From
    /// `NONE` to `VERIFY`, the new version refuses messages the old one wrote with invalid
    /// UTF-8 (C++ and proto2 writers never checked). `VERIFY` to `NONE` is not reported: old
    /// readers would refuse only invalid UTF-8 the new version writes, which Java, Go, Python
    /// and JavaScript strings cannot hold.
    ///
    /// ## Example
    /// ```proto
    /// // old: syntax = "proto2"; optional string note = 1;
    /// // new: edition = "2023";  string note = 1;
    /// ```
    ///
    /// ## Do this instead
    /// Keep the old behaviour explicitly when migrating: `option features.utf8_validation =
    /// NONE;`, and change it in a release of its own once the data is known to be clean.
    pub UTF8_VALIDATION_CHANGED = ("compat/proto-utf8-validation-changed", Warn, "a string field now rejects invalid UTF-8");
}

declare_rule! {
    order: 438;
    /// ## What it catches
    /// A singular scalar or enum field whose presence changed between explicit (proto2
    /// `optional`, proto3 `optional`, editions' default `EXPLICIT`) and implicit (proto3's
    /// plain fields, `features.field_presence = IMPLICIT`). Info; buf's WIRE and WIRE_JSON
    /// cardinality rules treat both as the same cardinality too. A change to or from
    /// `LEGACY_REQUIRED` is `compat/proto-required-field-changed`.
    ///
    /// ## Why it matters during a deploy
    /// protobuf.dev/programming-guides/field_presence: the bytes of a set value are the same,
    /// but an implicit-presence writer never sends the zero value, so an explicit-presence
    /// reader sees the field as unset (`has_…` false) where the writer meant 0. Code that
    /// branches on presence behaves differently; the value read is the same unless a custom
    /// default differs (reported as `compat/proto-field-default-changed`).
    ///
    /// ## Example
    /// ```proto
    /// // old: int32 retries = 3;                                   (edition 2023: explicit)
    /// // new: int32 retries = 3 [features.field_presence = IMPLICIT];
    /// ```
    ///
    /// ## Do this instead
    /// Nothing to fix when no code on either side asks whether the field is set.
    pub PRESENCE_CHANGED = ("compat/proto-presence-changed", Info, "a field changed between explicit and implicit presence");
}
