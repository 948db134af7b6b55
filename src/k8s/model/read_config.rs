//! Reading ConfigMaps and Secrets (keys and value fingerprints only) and how a pod template
//! reads them (volumes and their mounts, `env` keys, `envFrom`). Values are never kept: a
//! Secret's value must not reach a message, not even a problem's.

use super::reader::{Reader, join};
use super::*;
use crate::yaml::{Node, Pos, Value};
use std::collections::BTreeMap;

/// A volume's ConfigMap or Secret source (directly, or one source of a `projected` volume).
struct VolumeSource {
    kind: ConfigKind,
    name: String,
    /// `items`: (key, path) pairs; `None` when every key becomes a file.
    items: Option<Vec<(String, String)>>,
    optional: bool,
    pos: Pos,
}

impl Reader<'_> {
    pub(super) fn config_object(
        &mut self,
        meta: Meta,
        root: &Node,
        kind: ConfigKind,
    ) -> ConfigObject {
        let immutable = self.bool(root, "", "immutable", Concern::Rollout);
        // The API server merges a Secret's `stringData` over `data`; a ConfigMap's key may be in
        // `data` or `binaryData` (base64), never both.
        let sections: [(&str, bool); 2] = match kind {
            ConfigKind::ConfigMap => [("data", false), ("binaryData", true)],
            ConfigKind::Secret => [("data", true), ("stringData", false)],
        };
        let mut entries = BTreeMap::new();
        for (section, base64) in sections {
            let Some(node) = self.map(root, "", section, Concern::Rollout) else {
                continue;
            };
            for (key, value) in node.entries() {
                let name = key.as_key().unwrap_or_default();
                let path = join(section, &name);
                let bytes = match &value.value {
                    Value::Str(text) if base64 => decode_base64(text).unwrap_or_else(|| {
                        self.value_problem(
                            key.pos,
                            &path,
                            "is not base64; the API server rejects it",
                        );
                        text.as_bytes().to_vec()
                    }),
                    Value::Str(text) => text.as_bytes().to_vec(),
                    Value::Null => Vec::new(),
                    _ => {
                        self.value_problem(
                            key.pos,
                            &path,
                            &format!(
                                "is {}; the API server accepts only strings here (quote it)",
                                value.kind_name()
                            ),
                        );
                        value.as_key().unwrap_or_default().into_bytes()
                    }
                };
                entries.insert(
                    name,
                    ConfigEntry {
                        fingerprint: fingerprint(&bytes),
                        pos: key.pos,
                    },
                );
            }
        }
        ConfigObject {
            meta,
            kind,
            immutable,
            entries,
        }
    }

    /// A problem that names the field but never its value (it may be a Secret's).
    fn value_problem(&mut self, pos: Pos, path: &str, what: &str) {
        self.problems.push(Problem {
            file: self.file.to_string(),
            pos,
            object: self.object.clone(),
            message: format!("`{path}` of {} {what}", self.object),
            concern: Concern::Rollout,
            ignore: self.ignore.clone(),
        });
    }

    /// What a pod template (`spec.template`) reads, and whether it restarts on a change.
    pub(super) fn pod_config(&mut self, template: Option<&Node>) -> PodConfig {
        let Some(template) = template else {
            return PodConfig::default();
        };
        let checksum_annotations = template
            .path(&["metadata", "annotations"])
            .map(Node::entries)
            .unwrap_or(&[])
            .iter()
            .filter_map(|(k, _)| k.as_key())
            .filter(|k| is_checksum_annotation(k))
            .collect();
        let mut refs = Vec::new();
        if let Some(spec) = template.get("spec") {
            let volumes = volume_sources(spec);
            for key in ["initContainers", "containers"] {
                for container in spec.get(key).map(Node::items).unwrap_or(&[]) {
                    container_refs(container, &volumes, &mut refs);
                }
            }
        }
        PodConfig {
            refs,
            template_fingerprint: Some(node_fingerprint(template)),
            checksum_annotations,
        }
    }
}

/// Helm's convention (`checksum/config`, `checksum/secret`) and its common spellings
/// (`config-checksum`, `configHash`).
fn is_checksum_annotation(key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    key.contains("checksum") || key.contains("config-hash") || key.contains("confighash")
}

fn text(node: Option<&Node>) -> Option<String> {
    node.and_then(Node::as_key).filter(|s| !s.is_empty())
}

fn optional(node: &Node) -> bool {
    matches!(
        node.get("optional").map(|n| &n.value),
        Some(Value::Bool(true))
    )
}

fn source(kind: ConfigKind, node: &Node, name_key: &str) -> Option<VolumeSource> {
    let (k, name) = node.entry(name_key)?;
    let items = node.get("items").map(|items| {
        items
            .items()
            .iter()
            .filter_map(|item| Some((text(item.get("key"))?, text(item.get("path"))?)))
            .collect()
    });
    Some(VolumeSource {
        kind,
        name: text(Some(name))?,
        items,
        optional: optional(node),
        pos: k.pos,
    })
}

/// Every volume of a pod spec that holds a ConfigMap or Secret, by volume name.
fn volume_sources(spec: &Node) -> BTreeMap<String, Vec<VolumeSource>> {
    let mut out: BTreeMap<String, Vec<VolumeSource>> = BTreeMap::new();
    for volume in spec.get("volumes").map(Node::items).unwrap_or(&[]) {
        let Some(name) = text(volume.get("name")) else {
            continue;
        };
        let mut sources = Vec::new();
        if let Some(cm) = volume.get("configMap") {
            sources.extend(source(ConfigKind::ConfigMap, cm, "name"));
        }
        if let Some(secret) = volume.get("secret") {
            sources.extend(source(ConfigKind::Secret, secret, "secretName"));
        }
        for projected in volume
            .path(&["projected", "sources"])
            .map(Node::items)
            .unwrap_or(&[])
        {
            if let Some(cm) = projected.get("configMap") {
                sources.extend(source(ConfigKind::ConfigMap, cm, "name"));
            }
            if let Some(secret) = projected.get("secret") {
                sources.extend(source(ConfigKind::Secret, secret, "name"));
            }
        }
        if !sources.is_empty() {
            out.entry(name).or_default().extend(sources);
        }
    }
    out
}

fn container_refs(
    container: &Node,
    volumes: &BTreeMap<String, Vec<VolumeSource>>,
    refs: &mut Vec<ConfigRef>,
) {
    let name = text(container.get("name")).unwrap_or_default();
    for mount in container
        .get("volumeMounts")
        .map(Node::items)
        .unwrap_or(&[])
    {
        let Some(volume) = text(mount.get("name")) else {
            continue;
        };
        let mount_path = text(mount.get("mountPath")).unwrap_or_default();
        let sub_path = text(mount.get("subPath"));
        let sub_path_expr = mount.get("subPathExpr").is_some();
        for source in volumes.get(&volume).map(Vec::as_slice).unwrap_or(&[]) {
            let read = if let Some(sub_path) = &sub_path {
                ConfigRead::SubPath {
                    volume: volume.clone(),
                    mount_path: mount_path.clone(),
                    key: sub_path_key(sub_path, source.items.as_deref()),
                }
            } else if sub_path_expr {
                ConfigRead::SubPath {
                    volume: volume.clone(),
                    mount_path: mount_path.clone(),
                    key: None,
                }
            } else {
                ConfigRead::Volume {
                    volume: volume.clone(),
                    mount_path: mount_path.clone(),
                    keys: source
                        .items
                        .as_ref()
                        .map(|items| items.iter().map(|(k, _)| k.clone()).collect()),
                }
            };
            refs.push(ConfigRef {
                kind: source.kind,
                name: source.name.clone(),
                container: name.clone(),
                read,
                optional: source.optional,
                pos: source.pos,
            });
        }
    }
    for variable in container.get("env").map(Node::items).unwrap_or(&[]) {
        let Some(value_from) = variable.get("valueFrom") else {
            continue;
        };
        for (field, kind) in [
            ("configMapKeyRef", ConfigKind::ConfigMap),
            ("secretKeyRef", ConfigKind::Secret),
        ] {
            let Some(reference) = value_from.get(field) else {
                continue;
            };
            let (Some(object), Some(key)) =
                (text(reference.get("name")), text(reference.get("key")))
            else {
                continue;
            };
            refs.push(ConfigRef {
                kind,
                name: object,
                container: name.clone(),
                read: ConfigRead::EnvKey {
                    variable: text(variable.get("name")).unwrap_or_default(),
                    key,
                },
                optional: optional(reference),
                pos: variable.pos,
            });
        }
    }
    for from in container.get("envFrom").map(Node::items).unwrap_or(&[]) {
        for (field, kind) in [
            ("configMapRef", ConfigKind::ConfigMap),
            ("secretRef", ConfigKind::Secret),
        ] {
            let Some(reference) = from.get(field) else {
                continue;
            };
            let Some(object) = text(reference.get("name")) else {
                continue;
            };
            refs.push(ConfigRef {
                kind,
                name: object,
                container: name.clone(),
                read: ConfigRead::EnvFrom,
                optional: optional(reference),
                pos: from.pos,
            });
        }
    }
}

/// A fingerprint of a YAML tree's content, positions and mapping key order ignored.
fn node_fingerprint(node: &Node) -> u64 {
    let mut bytes = Vec::new();
    match &node.value {
        Value::Null => bytes.push(0),
        Value::Bool(b) => bytes.extend([1, u8::from(*b)]),
        Value::Int(i) => {
            bytes.push(2);
            bytes.extend(i.to_le_bytes());
        }
        Value::Float(f) => {
            bytes.push(3);
            bytes.extend(f.to_bits().to_le_bytes());
        }
        Value::Str(s) => {
            bytes.push(4);
            bytes.extend(s.as_bytes());
        }
        Value::Seq(items) => {
            bytes.push(5);
            for item in items {
                bytes.extend(node_fingerprint(item).to_le_bytes());
            }
        }
        Value::Map(entries) => {
            bytes.push(6);
            let mut pairs: Vec<(u64, u64)> = entries
                .iter()
                .map(|(k, v)| (node_fingerprint(k), node_fingerprint(v)))
                .collect();
            pairs.sort_unstable();
            for (k, v) in pairs {
                bytes.extend(k.to_le_bytes());
                bytes.extend(v.to_le_bytes());
            }
        }
    }
    fingerprint(&bytes)
}

#[cfg(test)]
mod tests {
    use crate::k8s::{ConfigKind, ConfigRead, Manifests, parse_stream};

    fn parse(text: &str) -> Manifests {
        let mut manifests = Manifests::default();
        parse_stream(&mut manifests, "app.yaml", text).unwrap();
        manifests
    }

    #[test]
    fn every_way_a_pod_reads_configuration_is_a_reference() {
        let m = parse(
            r#"apiVersion: apps/v1
kind: Deployment
metadata: {name: api}
spec:
  template:
    metadata:
      annotations: {checksum/config: abc}
    spec:
      initContainers:
        - name: init
          envFrom: [{secretRef: {name: creds, optional: true}}]
      containers:
        - name: api
          env:
            - {name: LEVEL, valueFrom: {configMapKeyRef: {name: cfg, key: level}}}
            - {name: PLAIN, value: x}
          volumeMounts:
            - {name: all, mountPath: /etc/all}
            - {name: one, mountPath: /etc/app.yaml, subPath: conf/app.yaml}
            - {name: bundle, mountPath: /etc/bundle}
      volumes:
        - {name: all, configMap: {name: cfg}}
        - name: one
          configMap:
            name: files
            items: [{key: app.yaml, path: conf/app.yaml}]
        - name: bundle
          projected:
            sources:
              - secret: {name: tls}
              - configMap: {name: ca, items: [{key: ca.crt, path: ca.crt}]}
        - {name: unused, secret: {secretName: never-mounted}}
"#,
        );
        let config = &m.workloads[0].config;
        assert_eq!(config.checksum_annotations, ["checksum/config"]);
        assert!(config.template_fingerprint.is_some());
        let refs: Vec<(ConfigKind, &str, &str, String, bool)> = config
            .refs
            .iter()
            .map(|r| {
                (
                    r.kind,
                    r.name.as_str(),
                    r.container.as_str(),
                    r.read.describe(),
                    r.optional,
                )
            })
            .collect();
        assert_eq!(
            refs,
            [
                (
                    ConfigKind::Secret,
                    "creds",
                    "init",
                    "envFrom".to_string(),
                    true
                ),
                (
                    ConfigKind::ConfigMap,
                    "cfg",
                    "api",
                    "volume at /etc/all".to_string(),
                    false
                ),
                (
                    ConfigKind::ConfigMap,
                    "files",
                    "api",
                    "subPath file /etc/app.yaml (key app.yaml)".to_string(),
                    false
                ),
                (
                    ConfigKind::Secret,
                    "tls",
                    "api",
                    "volume at /etc/bundle".to_string(),
                    false
                ),
                (
                    ConfigKind::ConfigMap,
                    "ca",
                    "api",
                    "volume at /etc/bundle (keys ca.crt)".to_string(),
                    false
                ),
                (
                    ConfigKind::ConfigMap,
                    "cfg",
                    "api",
                    "env LEVEL (key level)".to_string(),
                    false
                ),
            ]
        );
        assert!(
            config
                .refs
                .iter()
                .all(|r| r.read != ConfigRead::EnvFrom || r.container == "init")
        );
    }

    #[test]
    fn secret_data_and_string_data_compare_by_value_and_problems_never_quote_it() {
        let a = parse(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: aHVudGVyMg==}\n",
        );
        let b = parse(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {password: hunter2}\n",
        );
        assert_eq!(
            a.config_objects[0].entries["password"].fingerprint,
            b.config_objects[0].entries["password"].fingerprint
        );
        let bad = parse(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: s}\ndata: {password: \"hunter2!\", pin: 123456}\n",
        );
        assert_eq!(bad.problems.len(), 2, "{:?}", bad.problems);
        for problem in &bad.problems {
            assert!(
                !problem.message.contains("hunter2") && !problem.message.contains("123456"),
                "{}",
                problem.message
            );
        }
        assert!(
            bad.problems[0]
                .message
                .contains("`data.password` of Secret/s is not base64")
        );
    }

    #[test]
    fn config_map_immutable_and_binary_data_are_read() {
        let m = parse(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\nimmutable: true\ndata: {a: x}\nbinaryData: {b: eA==}\n",
        );
        let object = &m.config_objects[0];
        assert!(object.is_immutable());
        assert_eq!(
            object.entries["a"].fingerprint,
            object.entries["b"].fingerprint
        );
    }
}
