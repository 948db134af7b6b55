//! The Avro rules: each names a schema-resolution failure, in the direction that breaks.

use crate::declare_rule;

declare_rule! {
    order: 440;
    /// ## What it catches
    /// A record field in the new schema that the deployed schema does not have, without a
    /// `default`.
    ///
    /// ## Why it matters during a deploy
    /// Avro data carries no field names: a reader fills a field the writer did not write from
    /// the reader's `default`, and fails without one. The new version cannot read any record
    /// the old version wrote (everything already in the topic, and what old producers still
    /// publish during the rollout).
    ///
    /// ## Example
    /// ```json
    /// old: {"name": "id", "type": "string"}
    /// new: {"name": "id", "type": "string"}, {"name": "time", "type": "long"}
    /// ```
    ///
    /// ## Do this instead
    /// Give the new field a default: `{"name": "time", "type": ["null", "long"], "default": null}`
    /// or `{"name": "time", "type": "long", "default": 0}`.
    pub FIELD_ADDED_WITHOUT_DEFAULT = ("compat/avro-field-added-without-default", Fail, "a field was added without a default");
}

declare_rule! {
    order: 450;
    /// ## What it catches
    /// A record field of the deployed schema that the new schema no longer writes, when the
    /// deployed schema has no `default` for it.
    ///
    /// ## Why it matters during a deploy
    /// The old version, reading a record the new version wrote, finds the field missing and has
    /// no default to fill in: old consumers cannot read what the new version publishes.
    ///
    /// ## Example
    /// ```json
    /// old: {"name": "coupon", "type": "string"}
    /// new: (field gone)
    /// ```
    ///
    /// ## Do this instead
    /// First deploy a version whose schema gives the field a default, then remove it.
    pub FIELD_REMOVED_WITHOUT_DEFAULT = ("compat/avro-field-removed-without-default", Fail, "a field without a default was removed");
}

declare_rule! {
    order: 460;
    /// ## What it catches
    /// A type change beyond the specification's promotions: int → long, float or double;
    /// long → float or double; float → double; string ↔ bytes. Anything else (including the
    /// reverse of a promotion, e.g. long → int) cannot be read. A primitive turned into a record,
    /// array, map or the reverse too.
    ///
    /// ## Why it matters during a deploy
    /// The reader decodes the writer's bytes with the wrong type: decoding fails. The finding
    /// says which side: a widening (int → long) breaks only old readers of new data.
    ///
    /// ## Example
    /// ```json
    /// old: {"name": "price", "type": "long"}
    /// new: {"name": "price", "type": "int"}
    /// ```
    ///
    /// ## Do this instead
    /// Add a new field with the new type (with a default), write both, then retire the old one.
    pub TYPE_CHANGED = ("compat/avro-type-changed", Fail, "a type changed beyond the allowed promotions");
}

declare_rule! {
    order: 470;
    /// ## What it catches
    /// An enum symbol that a writer can write and the reader does not have, when the reader's
    /// enum has no `default`: a symbol removed (the new version cannot read old data that has
    /// it) or added (old readers cannot read new data that has it).
    ///
    /// ## Why it matters during a deploy
    /// Resolution fails on the unknown symbol: the whole record cannot be read.
    ///
    /// ## Example
    /// ```json
    /// old: {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID"]}
    /// new: {"type": "enum", "name": "Status", "symbols": ["NEW", "PAID", "REFUNDED"]}
    /// ```
    ///
    /// ## Do this instead
    /// Give the enum a `default` symbol before adding symbols (deploy that first, so old readers
    /// have it), and never remove symbols old data may still contain.
    pub ENUM_SYMBOL_MISSING = ("compat/avro-enum-symbol-missing", Fail, "an enum symbol is missing on the reading side and there is no default");
}

declare_rule! {
    order: 480;
    /// ## What it catches
    /// An enum symbol unknown to the reader that resolves to the reader's enum `default`.
    ///
    /// ## Why it matters during a deploy
    /// Nothing fails, but the reader sees the default instead of the symbol the writer meant.
    ///
    /// ## Example
    /// ```json
    /// new: {"type": "enum", "name": "Status", "symbols": ["UNKNOWN", "NEW", "REFUNDED"], "default": "UNKNOWN"}
    /// ```
    ///
    /// ## Do this instead
    /// Nothing to fix if the default is handled.
    pub ENUM_SYMBOL_DEFAULTED = ("compat/avro-enum-symbol-defaulted", Info, "an unknown enum symbol is read as the enum's default");
}

declare_rule! {
    order: 490;
    /// ## What it catches
    /// A union branch the writer can write that matches no branch of the reader's union (or
    /// the reader's single type, when a field became a union on the writing side only).
    ///
    /// ## Why it matters during a deploy
    /// A value written in that branch cannot be read: e.g. a field changed from `["null",
    /// "string"]` to `"string"` cannot read the nulls the old version wrote.
    ///
    /// ## Example
    /// ```json
    /// old: {"name": "note", "type": ["null", "string"], "default": null}
    /// new: {"name": "note", "type": "string"}
    /// ```
    ///
    /// ## Do this instead
    /// Only add branches to unions a reader already has; remove a branch after no data with it
    /// remains.
    pub UNION_BRANCH_MISSING = ("compat/avro-union-branch-missing", Fail, "a union branch has no match on the reading side");
}

declare_rule! {
    order: 500;
    /// ## What it catches
    /// A record, enum or fixed whose name changed without the reader listing the other name in
    /// `aliases`.
    ///
    /// ## Why it matters during a deploy
    /// Named types resolve by name: a reader does not match a writer's type of another name.
    ///
    /// ## Example
    /// ```json
    /// old: {"type": "record", "name": "Order", …}
    /// new: {"type": "record", "name": "Purchase", …}
    /// ```
    ///
    /// ## Do this instead
    /// Add the old name to the new type's `aliases` (`"aliases": ["Order"]`); keep the new name
    /// out of old readers' way by deploying readers first.
    pub NAME_CHANGED = ("compat/avro-name-changed", Fail, "a named type was renamed without an alias");
}

declare_rule! {
    order: 505;
    /// ## What it catches
    /// A record, enum or fixed whose namespace changed while its name stayed (`com.shop.events.
    /// OrderPlaced` → `com.shop.orders.events.OrderPlaced`), with or without aliases.
    ///
    /// ## Why it matters during a deploy
    /// The Avro specification resolves named types by their unqualified name, so generic
    /// readers and schema-registry compatibility checks accept it. Java consumers of specific
    /// records do not: Avro's `SpecificData` finds the generated class by the schema's full
    /// name (namespace + name), and Confluent's `KafkaAvroDeserializer` with
    /// `specific.avro.reader=true` looks it up by the writer's full name. Consumers still on the
    /// old version receive records whose class they do not have: they fail with a
    /// `ClassCastException` on a generic record, or cannot deserialize at all. Aliases do not
    /// help the old consumers; they only change how the new reader resolves.
    ///
    /// ## Example
    /// ```json
    /// old: {"type": "record", "name": "OrderPlaced", "namespace": "com.shop.events", …}
    /// new: {"type": "record", "name": "OrderPlaced", "namespace": "com.shop.orders.events", …}
    /// ```
    ///
    /// ## Do this instead
    /// Keep the namespace. A type in another namespace is a new type: publish it under a new
    /// subject or topic and move consumers over before producers.
    pub NAMESPACE_CHANGED = ("compat/avro-namespace-changed", Fail, "a named type's namespace changed (its full name, which Java specific records load classes by)");
}

declare_rule! {
    order: 510;
    /// ## What it catches
    /// A `fixed` whose `size` changed.
    ///
    /// ## Why it matters during a deploy
    /// A fixed is exactly `size` bytes with no length prefix: a different size misreads
    /// everything after it. Both directions break.
    ///
    /// ## Example
    /// ```json
    /// old: {"type": "fixed", "name": "Hash", "size": 16}   new: … "size": 32
    /// ```
    ///
    /// ## Do this instead
    /// Add a new field with a new fixed type.
    pub FIXED_SIZE_CHANGED = ("compat/avro-fixed-size-changed", Fail, "a fixed type's size changed");
}

declare_rule! {
    order: 520;
    /// ## What it catches
    /// A `decimal` logical type whose `precision` or `scale` changed.
    ///
    /// ## Why it matters during a deploy
    /// A decimal is an unscaled integer: the scale is not in the data. A reader with another
    /// scale reads 12.34 as 1.234 or 123.4, silently; the specification says such schemas do not
    /// match. Both directions break.
    ///
    /// ## Example
    /// ```json
    /// old: {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 2}
    /// new: {"type": "bytes", "logicalType": "decimal", "precision": 9, "scale": 3}
    /// ```
    ///
    /// ## Do this instead
    /// Add a new field with the new scale and migrate.
    pub DECIMAL_CHANGED = ("compat/avro-decimal-changed", Fail, "a decimal's precision or scale changed");
}

declare_rule! {
    order: 530;
    /// ## What it catches
    /// A named type that the schema file uses but does not define (it lives in another file).
    ///
    /// ## Why it matters during a deploy
    /// gonogo compares such types by name only: changes inside them go unnoticed here (they are
    /// found when that file is configured too).
    ///
    /// ## Example
    /// ```json
    /// {"name": "privacy", "type": "test.PrivacyImport"}
    /// ```
    ///
    /// ## Do this instead
    /// Configure the file that defines the type as well.
    pub UNKNOWN_TYPE = ("compat/avro-unknown-type", Info, "a named type is defined in another file; compared by name only");
}
