//! OpenAPI 3.0 / 3.1 and Swagger 2.0, YAML or JSON: operations of the deployed spec against the
//! new one. Operations are matched by path and method, with path templates compared by shape
//! (`/orders/{id}` is `/orders/{orderId}`); parameters by location and name (path parameters
//! by position); request bodies and responses by media type. Their schemas go through
//! [`schema_diff`](super::schema_diff) with the flow they travel in: requests are written by
//! clients and read by the service, responses the other way round.

use super::model::{Breaks, Comparison, Flow, Pair, SchemaError, Version, breaking};
use super::schema_diff::{Differ, Docs, Place, Sref, here};
use crate::declare_rule;
use crate::report::Location;
use crate::yaml::Node;
use std::collections::BTreeMap;

declare_rule! {
    order: 20;
    /// ## What it catches
    /// An operation (path + method) of the deployed spec that the new spec no longer has.
    ///
    /// ## Why it matters during a deploy
    /// Clients that are not updated yet keep calling it; as soon as their request lands on an
    /// updated pod it gets a 404 or 405.
    ///
    /// ## Example
    /// ```yaml
    /// # old                            # new
    /// paths:                           paths:
    ///   /orders/{id}:                    /orders/{id}:
    ///     get: {...}                       get: {...}
    ///     delete: {...}
    /// ```
    ///
    /// ## Do this instead
    /// Mark the operation `deprecated: true`, watch its traffic drop to zero, then remove it
    /// in a later deploy.
    pub ENDPOINT_REMOVED = ("compat/openapi-endpoint-removed", Fail, "an operation clients may still call was removed");
}

declare_rule! {
    order: 30;
    /// ## What it catches
    /// An operation the deployed spec does not have.
    ///
    /// ## Why it matters during a deploy
    /// Nothing breaks, but until the rollout completes old pods answer it with 404: clients
    /// that call it must wait for the deploy to finish.
    ///
    /// ## Example
    /// ```yaml
    /// # new
    /// /images/{name}/attestations:
    ///   get: {...}
    /// ```
    ///
    /// ## Do this instead
    /// Nothing to do; release the clients that call it after the deploy.
    pub ENDPOINT_ADDED = ("compat/openapi-endpoint-added", Info, "a new operation (old pods answer it with 404 until the rollout completes)");
}

declare_rule! {
    order: 40;
    /// ## What it catches
    /// A success response (2xx) of an operation removed, e.g. `200` replaced by `201`.
    ///
    /// ## Why it matters during a deploy
    /// Clients that are not updated yet check for the status they know and treat the new one
    /// as an error, or cannot find the body schema they expect.
    ///
    /// ## Example
    /// ```yaml
    /// # old                   # new
    /// responses:              responses:
    ///   "200": {...}            "201": {...}
    /// ```
    ///
    /// ## Do this instead
    /// Keep answering with the old status; introduce a new status in a new operation or API
    /// version.
    pub SUCCESS_RESPONSE_REMOVED = ("compat/openapi-success-response-removed", Fail, "a success response clients expect was removed");
}

declare_rule! {
    order: 50;
    /// ## What it catches
    /// A new required parameter (query, header, cookie, form) or a newly required request body.
    ///
    /// ## Why it matters during a deploy
    /// Clients that are not updated yet do not send it; updated pods reject their requests
    /// with 400.
    ///
    /// ## Example
    /// ```yaml
    /// # new
    /// parameters:
    ///   - {name: tenant, in: query, required: true, schema: {type: string}}
    /// ```
    ///
    /// ## Do this instead
    /// Add the parameter as optional with a server-side default; require it in a later
    /// deploy, once every client sends it.
    pub REQUIRED_PARAMETER_ADDED = ("compat/openapi-required-parameter-added", Fail, "a new required parameter clients do not send yet");
}

declare_rule! {
    order: 60;
    /// ## What it catches
    /// An optional parameter or request body that became `required: true`.
    ///
    /// ## Why it matters during a deploy
    /// Clients that are not updated yet may leave it out; updated pods reject them with 400.
    ///
    /// ## Example
    /// ```yaml
    /// # old                                   # new
    /// - {name: limit, in: query}               - {name: limit, in: query, required: true}
    /// ```
    ///
    /// ## Do this instead
    /// Keep it optional with a default where it is read.
    pub PARAMETER_MADE_REQUIRED = ("compat/openapi-parameter-made-required", Fail, "an optional parameter or request body became required");
}

declare_rule! {
    order: 70;
    /// ## What it catches
    /// A parameter (query, header, cookie, form) the deployed spec accepts and the new one does
    /// not declare.
    ///
    /// ## Why it matters during a deploy
    /// Clients that are not updated yet keep sending it and expect it to take effect; updated
    /// pods silently ignore it (or reject it when unknown parameters are refused). It warns
    /// because nothing is rejected by the spec itself.
    ///
    /// ## Example
    /// ```yaml
    /// # old                                        # new
    /// - {name: flow_type, in: query, schema: {...}}
    /// ```
    ///
    /// ## Do this instead
    /// Deprecate the parameter, make sure no client relies on it, then remove it.
    pub PARAMETER_REMOVED = ("compat/openapi-parameter-removed", Warn, "a parameter clients may still send was removed");
}

declare_rule! {
    order: 80;
    /// ## What it catches
    /// A new optional parameter.
    ///
    /// ## Why it matters during a deploy
    /// Compatible: clients that are not updated yet do not send it; old pods ignore it when
    /// updated clients send it before the rollout completes.
    ///
    /// ## Example
    /// ```yaml
    /// # new
    /// - {name: active, in: query, type: boolean, default: true}
    /// ```
    ///
    /// ## Do this instead
    /// Nothing to do.
    pub PARAMETER_ADDED = ("compat/openapi-parameter-added", Info, "a new optional parameter");
}

declare_rule! {
    order: 90;
    /// ## What it catches
    /// A media type of a request body (`content:` in OpenAPI 3, `consumes` in Swagger 2.0) or
    /// of a response (`produces`) that the new spec drops.
    ///
    /// ## Why it matters during a deploy
    /// A request body: clients that are not updated yet still send that type and updated pods
    /// answer 415. A response: clients that are not updated yet still ask for it (`Accept`)
    /// and get a 406 or a body they cannot parse.
    ///
    /// ## Example
    /// ```yaml
    /// # old                              # new
    /// content:                           content:
    ///   application/json: {...}            application/json: {...}
    ///   application/xml: {...}
    /// ```
    ///
    /// ## Do this instead
    /// Keep serving the media type until no client uses it.
    pub MEDIA_TYPE_REMOVED = ("compat/openapi-media-type-removed", Fail, "a request or response media type was removed");
}

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

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
        let mut differ = Differ::new(&old_docs, &new_docs);
        if let Err(e) = compare_specs(&mut differ, &pair.old_path, &pair.new_path) {
            out.errors.push(e);
            continue;
        }
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

/// Swagger 2.0 or OpenAPI 3.x: the parts that differ between them.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Swagger2,
    OpenApi3,
}

fn dialect(root: Sref<'_>, label: &str) -> Result<Dialect, SchemaError> {
    if root.node.get("swagger").is_some() {
        Ok(Dialect::Swagger2)
    } else if root.node.get("openapi").is_some() {
        Ok(Dialect::OpenApi3)
    } else {
        Err(SchemaError::new(
            root.location(),
            format!(
                "not an OpenAPI document ({label}): no `openapi:` or `swagger:` key at the top"
            ),
        ))
    }
}

/// One operation: where it is and what it is made of.
struct Operation<'a> {
    /// As written: `/orders/{orderId}`.
    path: String,
    method: &'static str,
    node: Sref<'a>,
    /// The method key (`get:`), for locations.
    at: Location,
    path_item: Sref<'a>,
}

impl Operation<'_> {
    fn name(&self) -> String {
        format!("{} {}", self.method.to_uppercase(), self.path)
    }
}

/// `/orders/{orderId}` → `/orders/{}`: templates that match the same URLs.
fn path_shape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_braces = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_braces = true;
                out.push('{');
            }
            '}' => {
                in_braces = false;
                out.push('}');
            }
            _ if in_braces => {}
            _ => out.push(c),
        }
    }
    out
}

fn operations<'a>(
    docs: &'a Docs,
    root: Sref<'a>,
    errors: &mut Vec<SchemaError>,
) -> BTreeMap<(String, &'static str), Operation<'a>> {
    let mut out = BTreeMap::new();
    let Some(paths) = root.node.get("paths") else {
        return out;
    };
    for (key, item) in paths.entries() {
        let Some(path) = key.as_str() else { continue };
        let item = match docs.resolve(Sref {
            doc: root.doc,
            node: item,
        }) {
            Ok(item) => item,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        for method in METHODS {
            if let Some((method_key, node)) = item.node.entry(method) {
                out.insert(
                    (path_shape(path), *method),
                    Operation {
                        path: path.to_string(),
                        method,
                        node: Sref {
                            doc: item.doc,
                            node,
                        },
                        at: here(item.doc, method_key.pos),
                        path_item: item,
                    },
                );
            }
        }
    }
    out
}

fn compare_specs(
    differ: &mut Differ<'_>,
    old_path: &str,
    new_path: &str,
) -> Result<(), SchemaError> {
    let (old_docs, new_docs) = (differ.old, differ.new);
    let missing = |path: &str| SchemaError::new(Location::file(path), "file not loaded");
    let old_root = old_docs.root(old_path).ok_or_else(|| missing(old_path))?;
    let new_root = new_docs.root(new_path).ok_or_else(|| missing(new_path))?;
    let specs = Specs {
        old: (old_root, dialect(old_root, &old_docs.label)?),
        new: (new_root, dialect(new_root, &new_docs.label)?),
    };
    let mut errors = Vec::new();
    let old_ops = operations(old_docs, old_root, &mut errors);
    let new_ops = operations(new_docs, new_root, &mut errors);
    differ.errors.append(&mut errors);
    for (key, old_op) in &old_ops {
        match new_ops.get(key) {
            Some(new_op) => compare_operation(differ, &specs, old_op, new_op),
            None => differ.findings.push(breaking(
                &ENDPOINT_REMOVED,
                format!("{} removed", old_op.name()),
                Breaks::NewReadsOld,
                Flow::Request,
                old_op.at.clone(),
            )),
        }
    }
    for (key, new_op) in &new_ops {
        if !old_ops.contains_key(key) {
            differ.findings.push(
                ENDPOINT_ADDED
                    .finding(format!(
                        "{} added: compatible; old pods answer it with 404 until the rollout completes",
                        new_op.name()
                    ))
                    .at(new_op.at.clone()),
            );
        }
    }
    Ok(())
}

struct Specs<'a> {
    old: (Sref<'a>, Dialect),
    new: (Sref<'a>, Dialect),
}

/// A parameter, keyed by where it goes and its name (path parameters by position).
struct Parameter<'a> {
    name: String,
    location: String,
    required: bool,
    node: Sref<'a>,
    /// What to compare: `schema` (or the first `content` schema) in OpenAPI 3, the parameter
    /// itself (it carries `type`, `enum`, `maximum`…) in Swagger 2.0.
    schema: Option<Sref<'a>>,
}

/// A request or response body: whether required, its media types and their schemas.
struct Body<'a> {
    at: Location,
    required: bool,
    media: BTreeMap<String, (Location, Option<Sref<'a>>)>,
}

fn is_true(node: Option<&Node>) -> bool {
    matches!(node.map(|n| &n.value), Some(crate::yaml::Value::Bool(true)))
}

fn parameters<'a>(
    docs: &'a Docs,
    op: &Operation<'a>,
    dialect: Dialect,
    errors: &mut Vec<SchemaError>,
) -> (BTreeMap<(String, String), Parameter<'a>>, Option<Sref<'a>>) {
    let path_names: Vec<String> = op
        .path
        .split('{')
        .skip(1)
        .filter_map(|part| part.split_once('}').map(|(name, _)| name.to_string()))
        .collect();
    let mut out = BTreeMap::new();
    let mut body = None;
    let lists = [op.path_item, op.node]
        .into_iter()
        .filter_map(|s| s.node.get("parameters").map(|list| (s.doc, list)));
    for (doc, list) in lists {
        for item in list.items() {
            let param = match docs.resolve(Sref { doc, node: item }) {
                Ok(p) => p,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let (Some(name), Some(location)) = (
                param.node.get("name").and_then(Node::as_str),
                param.node.get("in").and_then(Node::as_str),
            ) else {
                continue;
            };
            if location == "body" {
                body = Some(param);
                continue;
            }
            let key_name = match location {
                "path" => path_names
                    .iter()
                    .position(|n| n == name)
                    .map_or_else(|| name.to_string(), |i| format!("#{i}")),
                "header" => name.to_ascii_lowercase(),
                _ => name.to_string(),
            };
            let schema = match dialect {
                Dialect::Swagger2 => Some(param),
                Dialect::OpenApi3 => param
                    .node
                    .get("schema")
                    .or_else(|| {
                        param
                            .node
                            .get("content")
                            .and_then(|c| c.entries().first())
                            .and_then(|(_, media)| media.get("schema"))
                    })
                    .map(|node| Sref {
                        doc: param.doc,
                        node,
                    }),
            };
            // Operation-level parameters override path-level ones with the same key.
            out.insert(
                (location.to_string(), key_name),
                Parameter {
                    name: name.to_string(),
                    location: location.to_string(),
                    required: is_true(param.node.get("required")) || location == "path",
                    node: param,
                    schema,
                },
            );
        }
    }
    (out, body)
}

/// Swagger 2.0 `consumes`/`produces` of an operation, else of the spec, else JSON.
fn swagger_media(op: Sref<'_>, root: Sref<'_>, key: &str) -> Vec<(String, Location)> {
    let list = op
        .node
        .get(key)
        .map(|n| (op.doc, n))
        .or_else(|| root.node.get(key).map(|n| (root.doc, n)));
    match list {
        Some((doc, node)) => node
            .items()
            .iter()
            .filter_map(|m| m.as_str().map(|s| (s.to_string(), here(doc, m.pos))))
            .collect(),
        None => vec![("application/json".to_string(), op.location())],
    }
}

fn request_body<'a>(
    docs: &'a Docs,
    (root, dialect): (Sref<'a>, Dialect),
    op: &Operation<'a>,
    swagger_body: Option<Sref<'a>>,
    form: bool,
    errors: &mut Vec<SchemaError>,
) -> Option<Body<'a>> {
    match dialect {
        Dialect::Swagger2 => {
            if swagger_body.is_none() && !form {
                return None;
            }
            let schema = swagger_body
                .and_then(|b| b.node.get("schema").map(|node| Sref { doc: b.doc, node }));
            Some(Body {
                at: swagger_body.map_or_else(|| op.at.clone(), |b| b.location()),
                required: swagger_body.is_some_and(|b| is_true(b.node.get("required"))),
                media: swagger_media(op.node, root, "consumes")
                    .into_iter()
                    .map(|(m, at)| (m, (at, schema)))
                    .collect(),
            })
        }
        Dialect::OpenApi3 => {
            let node = op.node.node.get("requestBody")?;
            let body = match docs.resolve(Sref {
                doc: op.node.doc,
                node,
            }) {
                Ok(b) => b,
                Err(e) => {
                    errors.push(e);
                    return None;
                }
            };
            Some(Body {
                at: body.location(),
                required: is_true(body.node.get("required")),
                media: content(body),
            })
        }
    }
}

fn content<'a>(body: Sref<'a>) -> BTreeMap<String, (Location, Option<Sref<'a>>)> {
    body.node
        .get("content")
        .map(|c| c.entries())
        .unwrap_or_default()
        .iter()
        .filter_map(|(k, v)| {
            let schema = v.get("schema").map(|node| Sref {
                doc: body.doc,
                node,
            });
            k.as_key().map(|m| (m, (here(body.doc, k.pos), schema)))
        })
        .collect()
}

fn responses<'a>(
    docs: &'a Docs,
    (root, dialect): (Sref<'a>, Dialect),
    op: &Operation<'a>,
    errors: &mut Vec<SchemaError>,
) -> BTreeMap<String, Body<'a>> {
    let mut out = BTreeMap::new();
    let Some(list) = op.node.node.get("responses") else {
        return out;
    };
    for (code, node) in list.entries() {
        let Some(code_text) = code.as_key() else {
            continue;
        };
        let response = match docs.resolve(Sref {
            doc: op.node.doc,
            node,
        }) {
            Ok(r) => r,
            Err(e) => {
                errors.push(e);
                continue;
            }
        };
        let media = match dialect {
            Dialect::OpenApi3 => content(response),
            Dialect::Swagger2 => {
                let schema = response.node.get("schema").map(|node| Sref {
                    doc: response.doc,
                    node,
                });
                match schema {
                    Some(schema) => swagger_media(op.node, root, "produces")
                        .into_iter()
                        .map(|(m, at)| (m, (at, Some(schema))))
                        .collect(),
                    None => BTreeMap::new(),
                }
            }
        };
        out.insert(
            code_text.to_ascii_uppercase(),
            Body {
                at: here(op.node.doc, code.pos),
                required: true,
                media,
            },
        );
    }
    out
}

fn compare_operation<'a>(
    differ: &mut Differ<'a>,
    specs: &Specs<'a>,
    old: &Operation<'a>,
    new: &Operation<'a>,
) {
    let (old_docs, new_docs) = (differ.old, differ.new);
    let name = new.name();
    let mut errors = Vec::new();
    let (old_params, old_body) = parameters(old_docs, old, specs.old.1, &mut errors);
    let (new_params, new_body) = parameters(new_docs, new, specs.new.1, &mut errors);
    differ.errors.append(&mut errors);
    compare_parameters(differ, &name, &old_params, &new_params);

    let has_form = |params: &BTreeMap<(String, String), Parameter<'_>>| {
        params.keys().any(|(location, _)| location == "formData")
    };
    let mut errors = Vec::new();
    let old_request = request_body(
        old_docs,
        specs.old,
        old,
        old_body,
        has_form(&old_params),
        &mut errors,
    );
    let new_request = request_body(
        new_docs,
        specs.new,
        new,
        new_body,
        has_form(&new_params),
        &mut errors,
    );
    differ.errors.append(&mut errors);
    let request = Place {
        context: format!("{name} request body"),
        flow: Flow::Request,
    };
    match (&old_request, &new_request) {
        (None, Some(b)) if b.required => differ.findings.push(breaking(
            &REQUIRED_PARAMETER_ADDED,
            format!("{name}: a required request body added"),
            Breaks::NewReadsOld,
            Flow::Request,
            b.at.clone(),
        )),
        (Some(a), Some(b)) => {
            if b.required && !a.required {
                differ.findings.push(breaking(
                    &PARAMETER_MADE_REQUIRED,
                    format!("{name}: request body made required"),
                    Breaks::NewReadsOld,
                    Flow::Request,
                    b.at.clone(),
                ));
            }
            compare_media(differ, &request, a, b);
        }
        _ => {}
    }

    let mut errors = Vec::new();
    let old_responses = responses(old_docs, specs.old, old, &mut errors);
    let new_responses = responses(new_docs, specs.new, new, &mut errors);
    differ.errors.append(&mut errors);
    for (code, old_response) in &old_responses {
        let place = Place {
            context: format!("{name} response {code}"),
            flow: Flow::Response,
        };
        match new_responses.get(code) {
            Some(new_response) => compare_media(differ, &place, old_response, new_response),
            None if code.starts_with('2') => differ.findings.push(breaking(
                &SUCCESS_RESPONSE_REMOVED,
                format!("{name}: success response {code} removed"),
                Breaks::OldReadsNew,
                Flow::Response,
                old_response.at.clone(),
            )),
            None => {}
        }
    }
}

fn compare_parameters<'a>(
    differ: &mut Differ<'a>,
    name: &str,
    old: &BTreeMap<(String, String), Parameter<'a>>,
    new: &BTreeMap<(String, String), Parameter<'a>>,
) {
    for (key, a) in old {
        let what = format!("{name}: {} parameter `{}`", a.location, a.name);
        match new.get(key) {
            Some(b) => {
                if b.required && !a.required {
                    differ.findings.push(breaking(
                        &PARAMETER_MADE_REQUIRED,
                        format!("{what} made required"),
                        Breaks::NewReadsOld,
                        Flow::Request,
                        b.node.key_location("required"),
                    ));
                }
                if let (Some(x), Some(y)) = (a.schema, b.schema) {
                    let place = Place {
                        context: format!("{name} {} parameter `{}`", b.location, b.name),
                        flow: Flow::Request,
                    };
                    differ.schemas(&place, "", &[x], &[y]);
                }
            }
            None if a.location == "path" => {}
            None => differ.findings.push(
                PARAMETER_REMOVED
                    .finding(format!(
                        "{what} removed: updated pods ignore it when clients that are not updated yet send it"
                    ))
                    .at(a.node.location()),
            ),
        }
    }
    for (key, b) in new {
        if old.contains_key(key) || b.location == "path" {
            continue;
        }
        if b.required {
            differ.findings.push(breaking(
                &REQUIRED_PARAMETER_ADDED,
                format!(
                    "{name}: required {} parameter `{}` added",
                    b.location, b.name
                ),
                Breaks::NewReadsOld,
                Flow::Request,
                b.node.location(),
            ));
        } else {
            differ.findings.push(
                PARAMETER_ADDED
                    .finding(format!(
                        "{name}: optional {} parameter `{}` added: compatible",
                        b.location, b.name
                    ))
                    .at(b.node.location()),
            );
        }
    }
}

/// Media types of a request or response body: removed ones reported, shared ones compared.
/// When each side has exactly one (renamed `application/json` → `application/json;
/// charset=utf-8`), their schemas are still compared.
fn compare_media<'a>(differ: &mut Differ<'a>, place: &Place, old: &Body<'a>, new: &Body<'a>) {
    let wildcard = new.media.contains_key("*/*");
    let breaks = match place.flow {
        Flow::Request => Breaks::NewReadsOld,
        _ => Breaks::OldReadsNew,
    };
    for (media, (at, _)) in &old.media {
        if !new.media.contains_key(media) && !wildcard {
            differ.findings.push(breaking(
                &MEDIA_TYPE_REMOVED,
                format!("{}: media type {media} removed", place.context),
                breaks,
                place.flow,
                at.clone(),
            ));
        }
    }
    let mut compared = 0;
    for (media, (_, old_schema)) in &old.media {
        let Some((_, new_schema)) = new.media.get(media) else {
            continue;
        };
        compared += 1;
        if let (Some(a), Some(b)) = (old_schema, new_schema) {
            differ.schemas(place, "", &[*a], &[*b]);
        }
    }
    if compared == 0
        && old.media.len() == 1
        && new.media.len() == 1
        && let (Some((_, Some(a))), Some((_, Some(b)))) =
            (old.media.values().next(), new.media.values().next())
    {
        differ.schemas(place, "", &[*a], &[*b]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::Finding;

    fn run(old: &str, new: &str) -> Comparison {
        let old = Version::from_files("v1", [("api.yaml", old)]);
        let new = Version::from_files("working tree", [("api.yaml", new)]);
        compare(&[Pair::same("api.yaml")], &old, &new)
    }

    fn rules(findings: &[Finding]) -> Vec<&str> {
        let mut out: Vec<&str> = findings.iter().map(|f| f.rule.as_str()).collect();
        out.sort();
        out
    }

    const BASE: &str = "openapi: 3.0.3\npaths:\n  /orders/{id}:\n    get:\n      parameters:\n        - {name: id, in: path, required: true, schema: {type: string}}\n      responses:\n        '200':\n          content:\n            application/json:\n              schema: {$ref: '#/components/schemas/Order'}\ncomponents:\n  schemas:\n    Order:\n      type: object\n      required: [id]\n      properties:\n        id: {type: string}\n        total: {type: integer}\n";

    #[test]
    fn path_templates_match_by_shape() {
        assert_eq!(path_shape("/a/{id}/b/{x}"), "/a/{}/b/{}");
        let renamed = BASE
            .replace("{id}", "{orderId}")
            .replace("name: id", "name: orderId");
        let out = run(BASE, &renamed);
        assert!(out.findings.is_empty(), "{:?}", out.findings);
    }

    #[test]
    fn a_removed_response_property_breaks_old_clients() {
        let new = BASE.replace("        total: {type: integer}\n", "");
        let out = run(BASE, &new);
        assert_eq!(rules(&out.findings), ["compat/property-removed"]);
        let finding = &out.findings[0];
        assert!(finding.message.starts_with("GET /orders/{id} response 200: property `total` removed: clients that are not updated yet"), "{}", finding.message);
        assert_eq!(finding.location, Some(Location::new("api.yaml", 19, 9)));
    }

    #[test]
    fn removed_operations_point_at_the_old_file() {
        let new = "openapi: 3.0.3\npaths: {}\n";
        let out = run(BASE, new);
        assert_eq!(rules(&out.findings), ["compat/openapi-endpoint-removed"]);
        assert_eq!(
            out.findings[0].location,
            Some(Location::new("api.yaml", 4, 5))
        );
        assert!(
            out.findings[0].message.contains(
                "updated pods will reject requests from clients that are not updated yet"
            )
        );
    }

    #[test]
    fn not_an_openapi_document_is_a_schema_error() {
        let out = run(BASE, "just: text\n");
        assert_eq!(out.errors.len(), 1);
        assert!(out.errors[0].message.contains("not an OpenAPI document"));
        let out = run(BASE, "a: [\n");
        assert!(
            out.errors[0].to_string().starts_with("api.yaml:"),
            "{}",
            out.errors[0]
        );
    }

    #[test]
    fn dangling_refs_are_schema_errors() {
        let new = BASE.replace("#/components/schemas/Order", "#/components/schemas/Nope");
        let out = run(BASE, &new);
        assert_eq!(out.errors.len(), 1, "{:?}", out.findings);
        assert!(out.errors[0].message.contains("leads nowhere"));
        assert!(
            out.findings.is_empty(),
            "a half-read spec yields no findings"
        );
    }
}
