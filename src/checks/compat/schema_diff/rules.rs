//! The rules of the schema comparison: each names a kind of change; [`super::Differ`] decides
//! which side it breaks for the flow.

use crate::declare_rule;

declare_rule! {
    order: 100;
    /// ## What it catches
    /// The type a field accepts changed: narrowed (`number` → `integer`, a type added where any
    /// value was allowed, `["string", "null"]` → `string`), widened (`integer` → `number`, a field
    /// made nullable) or changed outright (`object` → `array`). Also a `oneOf`/`anyOf`
    /// alternative removed (narrowed) or added (widened).
    ///
    /// ## Why it matters during a deploy
    /// Old and new pods serve side by side. A narrowed request type makes updated pods reject
    /// requests from clients that are not updated yet; a widened response or event type hands
    /// old readers values they cannot parse (a `null` where they expect a string).
    ///
    /// ## Example
    /// ```yaml
    /// # old                      # new
    /// amount: {type: integer}    amount: {type: string}
    /// ```
    ///
    /// ## Do this instead
    /// Add a new field with the new type, write both for a release, move readers over, then
    /// remove the old field. Widen requests before responses: accept first, send later.
    pub TYPE_CHANGED = ("compat/type-changed", Fail, "a field's type was narrowed, widened or changed");
}

declare_rule! {
    order: 110;
    /// ## What it catches
    /// A property that did not exist before is added as `required`.
    ///
    /// ## Why it matters during a deploy
    /// Writers that are not updated yet (clients of the old API, producers of events already in
    /// a topic) do not send it, so updated pods or consumers reject their data. In a response
    /// it is harmless and not reported.
    ///
    /// ## Example
    /// ```yaml
    /// # old                          # new
    /// required: [sku]                required: [sku, currency]
    /// properties:                    properties:
    ///   sku: {type: string}            sku: {type: string}
    ///                                  currency: {type: string}
    /// ```
    ///
    /// ## Do this instead
    /// Add the property as optional with a server-side default; make it required in a later
    /// deploy, once every writer sends it.
    pub REQUIRED_PROPERTY_ADDED = ("compat/required-property-added", Fail, "a new property is required from writers that do not send it");
}

declare_rule! {
    order: 120;
    /// ## What it catches
    /// An existing optional property is added to `required`.
    ///
    /// ## Why it matters during a deploy
    /// Writers that are not updated yet may omit it; updated pods (or consumers) now reject
    /// their requests (or events). In a response it only strengthens a promise: not reported.
    ///
    /// ## Example
    /// ```yaml
    /// # old                 # new
    /// required: [sku]       required: [sku, note]
    /// ```
    ///
    /// ## Do this instead
    /// Keep it optional and default it where it is read; require it only after every writer
    /// is known to send it.
    pub PROPERTY_MADE_REQUIRED = ("compat/property-made-required", Fail, "an optional property became required");
}

declare_rule! {
    order: 130;
    /// ## What it catches
    /// A required property of a response or message is no longer required.
    ///
    /// ## Why it matters during a deploy
    /// Readers that are not updated yet rely on it being present; updated pods (or producers)
    /// may now leave it out, and old readers fail on the missing field. In a request it is a
    /// relaxation (reported as `compat/request-widened`).
    ///
    /// ## Example
    /// ```yaml
    /// # old                              # new
    /// required: [name, status, peers]    required: [status]
    /// ```
    ///
    /// ## Do this instead
    /// Keep sending the property (deprecate it in its description) until every reader
    /// tolerates its absence, then make it optional.
    pub PROPERTY_MADE_OPTIONAL = ("compat/property-made-optional", Fail, "a property readers rely on is no longer required");
}

declare_rule! {
    order: 140;
    /// ## What it catches
    /// A property removed from a response; or from a request or message whose model rejects
    /// unknown properties (`additionalProperties: false`); or a required property removed from
    /// a message.
    ///
    /// ## Why it matters during a deploy
    /// Readers that are not updated yet still read the property from what updated pods send;
    /// writers that are not updated yet still send it, and a closed model now rejects it.
    ///
    /// ## Example
    /// ```yaml
    /// # old (response)                  # new
    /// properties:                       properties:
    ///   Size: {type: integer}             Size: {type: integer}
    ///   VirtualSize: {type: integer}
    /// ```
    ///
    /// ## Do this instead
    /// Deprecate first and keep sending the property until no reader uses it; remove it in a
    /// later deploy. In a closed request model, stop rejecting it before clients stop sending.
    pub PROPERTY_REMOVED = ("compat/property-removed", Fail, "a property readers still read, or writers still send, was removed");
}

declare_rule! {
    order: 150;
    /// ## What it catches
    /// A property removed from a request or message schema that still accepts unknown
    /// properties. Data that carries it still validates, but the new version no longer gives
    /// it a meaning.
    ///
    /// ## Why it matters during a deploy
    /// Clients (or producers) that are not updated yet keep sending the property and expect it
    /// to do something; updated pods silently ignore it. Nothing is rejected, so this warns.
    ///
    /// ## Example
    /// ```yaml
    /// # old (request body)           # new
    /// properties:                    properties:
    ///   name: {type: string}           name: {type: string}
    ///   editorconfig: {type: boolean}
    /// ```
    ///
    /// ## Do this instead
    /// Deprecate the property in its description first and check that no writer depends on
    /// it; then remove it.
    pub PROPERTY_UNDECLARED = ("compat/property-undeclared", Warn, "a property writers may still send is no longer declared");
}

declare_rule! {
    order: 160;
    /// ## What it catches
    /// An optional property added to a schema that accepts unknown properties (or a required
    /// one added to a response).
    ///
    /// ## Why it matters during a deploy
    /// It does not break anything: old readers ignore what they do not know, and writers that
    /// are not updated yet may leave it out. It is listed so a reviewer sees the contract grow.
    ///
    /// ## Example
    /// ```yaml
    /// # old                      # new
    /// properties:                properties:
    ///   id: {type: string}         id: {type: string}
    ///                              note: {type: string}
    /// ```
    ///
    /// ## Do this instead
    /// Nothing to do; make sure the code treats the property as possibly absent.
    pub PROPERTY_ADDED = ("compat/property-added", Info, "an optional property was added");
}

declare_rule! {
    order: 170;
    /// ## What it catches
    /// A property added to a model that rejected unknown properties before
    /// (`additionalProperties: false` in the old schema).
    ///
    /// ## Why it matters during a deploy
    /// Readers that are not updated yet validate with the old, closed model: a response or event
    /// that carries the new property fails their validation.
    ///
    /// ## Example
    /// ```yaml
    /// # old                          # new
    /// additionalProperties: false    additionalProperties: false
    /// properties:                    properties:
    ///   id: {type: string}             id: {type: string}
    ///                                  tag: {type: string}
    /// ```
    ///
    /// ## Do this instead
    /// Open the model first (or deploy the readers first), then start writing the property.
    pub PROPERTY_ADDED_TO_CLOSED_MODEL = ("compat/property-added-to-closed-model", Fail, "a property was added to a model old readers keep closed");
}

declare_rule! {
    order: 180;
    /// ## What it catches
    /// `additionalProperties` changed: a model closed (`false`), opened, or its schema for
    /// undeclared properties changed.
    ///
    /// ## Why it matters during a deploy
    /// Closing a request or message model makes updated readers reject data with extra keys that
    /// the old version accepted; opening a response or message model lets updated writers send
    /// keys that old readers' closed models reject.
    ///
    /// ## Example
    /// ```yaml
    /// # old                       # new
    /// type: object                type: object
    ///                             additionalProperties: false
    /// ```
    ///
    /// ## Do this instead
    /// Close a model only after checking that no writer sends extra keys (log them first);
    /// open one only after every reader accepts extra keys.
    pub ADDITIONAL_PROPERTIES_CHANGED = ("compat/additional-properties-changed", Fail, "additionalProperties was tightened or loosened");
}

declare_rule! {
    order: 190;
    /// ## What it catches
    /// A value removed from an `enum` of a request or message field.
    ///
    /// ## Why it matters during a deploy
    /// Writers that are not updated yet still send the value; updated pods or consumers reject
    /// it (a renamed value is a removal plus an addition). In a response, removing a value
    /// is safe and not reported.
    ///
    /// ## Example
    /// ```yaml
    /// # old                                   # new
    /// enum: [password, refresh_token, oauth_pkce]    enum: [password, refresh_token, pkce]
    /// ```
    ///
    /// ## Do this instead
    /// Keep accepting the old value (map it to the new one) until no writer sends it.
    pub ENUM_VALUE_REMOVED = ("compat/enum-value-removed", Fail, "an enum value writers may still send was removed");
}

declare_rule! {
    order: 200;
    /// ## What it catches
    /// A value added to an `enum` of a response or message field.
    ///
    /// ## Why it matters during a deploy
    /// Readers that are not updated yet switch over the values they know; updated pods (or
    /// producers) now send one they do not, and strict deserializers fail. Adding a value to a
    /// request enum is safe (reported as `compat/request-widened`).
    ///
    /// ## Example
    /// ```yaml
    /// # old                            # new
    /// enum: [pending, paid]            enum: [pending, paid, refunded]
    /// ```
    ///
    /// ## Do this instead
    /// Deploy readers that tolerate unknown values first (a fallback branch), then send the
    /// new value.
    pub ENUM_VALUE_ADDED = ("compat/enum-value-added", Fail, "an enum value readers do not know was added");
}

declare_rule! {
    order: 210;
    /// ## What it catches
    /// A validation constraint tightened on a request or message field: `maxLength`,
    /// `maxItems`, `maximum` decreased; `minLength`, `minItems`, `minimum` increased; a
    /// `pattern`, `format`, `multipleOf`, `uniqueItems` or `enum` restriction added or changed.
    ///
    /// ## Why it matters during a deploy
    /// Writers that are not updated yet send values the old version accepted; updated pods
    /// or consumers now reject them. Tightening a response is safe and not reported.
    ///
    /// ## Example
    /// ```yaml
    /// # old                           # new
    /// name: {type: string, maxLength: 64}    name: {type: string, maxLength: 32}
    /// ```
    ///
    /// ## Do this instead
    /// Tighten in two steps: first make writers comply (and measure that they do), then
    /// enforce the constraint.
    pub CONSTRAINT_TIGHTENED = ("compat/constraint-tightened", Fail, "a validation constraint was tightened");
}

declare_rule! {
    order: 220;
    /// ## What it catches
    /// A validation constraint loosened on a response or message field: `maxLength` increased,
    /// `minimum` decreased, a `pattern`, `format` or `enum` restriction removed.
    ///
    /// ## Why it matters during a deploy
    /// Readers that are not updated yet still validate (or size buffers, or parse formats) by
    /// the old constraint; updated pods or producers now send values outside it. Loosening a
    /// request is safe (reported as `compat/request-widened`).
    ///
    /// ## Example
    /// ```yaml
    /// # old (response)                       # new
    /// code: {type: string, maxLength: 8}     code: {type: string, maxLength: 16}
    /// ```
    ///
    /// ## Do this instead
    /// Loosen readers first, then let writers use the wider range.
    pub CONSTRAINT_LOOSENED = ("compat/constraint-loosened", Fail, "a validation constraint readers rely on was loosened");
}

declare_rule! {
    order: 230;
    /// ## What it catches
    /// A request that now accepts more than before: an enum value added, a type widened, a
    /// constraint loosened, a property no longer required.
    ///
    /// ## Why it matters during a deploy
    /// Nothing breaks for clients that are not updated yet. But an updated client that uses the
    /// new freedom gets rejected by old pods until the rollout completes: ship clients that
    /// rely on it after the deploy, not with it.
    ///
    /// ## Example
    /// ```yaml
    /// # old (request)               # new
    /// enum: [card, invoice]         enum: [card, invoice, wallet]
    /// ```
    ///
    /// ## Do this instead
    /// Nothing to do; release clients that use it once every pod runs the new version.
    pub REQUEST_WIDENED = ("compat/request-widened", Info, "a request accepts more than before (compatible)");
}

declare_rule! {
    order: 235;
    /// ## What it catches
    /// The `default` of a request parameter or request body property changed (`limit`:
    /// `default: 20` → `default: 50`). Defaults of responses and messages are not judged here.
    ///
    /// ## Why it matters during a deploy
    /// OpenAPI defines a parameter's or property's `default` as the value the server uses when
    /// the client sends none. Nothing is rejected, so no compatibility check fails, but the
    /// same request means something else depending on which pod answers it while old and new
    /// pods serve side by side, and clients that relied on the old default silently get the
    /// new behaviour once the rollout completes (a page size, a currency, a sort order).
    ///
    /// ## Example
    /// ```yaml
    /// # old                                   # new
    /// - {name: limit, in: query,              - {name: limit, in: query,
    ///    schema: {type: integer, default: 20}}   schema: {type: integer, default: 50}}
    /// ```
    ///
    /// ## Do this instead
    /// Keep the default; clients that want another value send it. If the default must change,
    /// first make every client send the value explicitly, then change it.
    pub REQUEST_DEFAULT_CHANGED = ("compat/request-default-changed", Warn, "the default of a request parameter or property changed: a client that omits it gets different behaviour from old and new pods");
}
