//! Configuration that pods read: ConfigMaps and Secrets (their keys and a fingerprint of each
//! value, never the value itself), and how a pod template reads them (volumes, `subPath`
//! mounts, `env` keys, `envFrom`).
//!
//! Why the way of reading matters (Kubernetes docs, "ConfigMaps" → "Mounted ConfigMaps are
//! updated automatically", and the same for Secrets): the kubelet updates the files of a
//! ConfigMap or Secret mounted as a volume inside running pods (after its sync period plus the
//! cache's TTL, about a minute by default), except for a `subPath` mount, which is copied once
//! at container start. Environment variables (`env` with `valueFrom`, `envFrom`) are read only
//! when the container starts.

use super::{Field, Manifests, Meta, Workload};
use crate::yaml::Pos;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ConfigKind {
    ConfigMap,
    Secret,
}

impl ConfigKind {
    pub fn name(self) -> &'static str {
        match self {
            ConfigKind::ConfigMap => "ConfigMap",
            ConfigKind::Secret => "Secret",
        }
    }
}

/// One key of a ConfigMap (`data`, `binaryData`) or Secret (`data`, `stringData`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigEntry {
    /// A fingerprint of the value's bytes (base64 decoded for `binaryData` and a Secret's
    /// `data`), so that two versions can be compared without keeping, or ever printing, a value.
    pub fingerprint: u64,
    /// Where the key is written.
    pub pos: Pos,
}

/// A ConfigMap or a Secret.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigObject {
    pub meta: Meta,
    pub kind: ConfigKind,
    /// `immutable: true`: the API server rejects any change to its data (Kubernetes docs,
    /// "Immutable ConfigMaps": "you can only delete and recreate the ConfigMap").
    pub immutable: Option<Field<bool>>,
    /// Every key with its value's fingerprint. A Secret's `stringData` is merged over `data`,
    /// as the API server does.
    pub entries: BTreeMap<String, ConfigEntry>,
}

impl ConfigObject {
    pub fn is_immutable(&self) -> bool {
        self.immutable.as_ref().is_some_and(|f| f.value)
    }
}

/// How a container reads a ConfigMap or Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigRead {
    /// A volume mounted without `subPath`: the kubelet updates its files in running pods.
    /// `keys`: the volume's `items` (only those keys become files); `None` means every key.
    Volume {
        volume: String,
        mount_path: String,
        keys: Option<Vec<String>>,
    },
    /// One file of a volume mounted with `subPath`: copied when the container starts and never
    /// updated. `key`: the key behind that file, when gonogo can tell (not with `subPathExpr`).
    SubPath {
        volume: String,
        mount_path: String,
        key: Option<String>,
    },
    /// `envFrom`: every key becomes a variable when the container starts.
    EnvFrom,
    /// `env[].valueFrom.configMapKeyRef` / `secretKeyRef`: one key, read at container start.
    EnvKey { variable: String, key: String },
}

impl ConfigRead {
    /// Whether running pods see a change of the object without restarting.
    pub fn is_live(&self) -> bool {
        matches!(self, ConfigRead::Volume { .. })
    }

    /// The keys this read names explicitly: a pod whose named key is missing does not start.
    pub fn named_keys(&self) -> Vec<&str> {
        match self {
            ConfigRead::Volume {
                keys: Some(keys), ..
            } => keys.iter().map(String::as_str).collect(),
            ConfigRead::SubPath { key: Some(key), .. } => vec![key.as_str()],
            ConfigRead::EnvKey { key, .. } => vec![key.as_str()],
            _ => Vec::new(),
        }
    }

    /// "mounted at /etc/app (files update in running pods)", for messages.
    pub fn describe(&self) -> String {
        match self {
            ConfigRead::Volume {
                mount_path, keys, ..
            } => match keys {
                Some(keys) => format!("volume at {mount_path} (keys {})", keys.join(", ")),
                None => format!("volume at {mount_path}"),
            },
            ConfigRead::SubPath {
                mount_path, key, ..
            } => match key {
                Some(key) => format!("subPath file {mount_path} (key {key})"),
                None => format!("subPath file {mount_path}"),
            },
            ConfigRead::EnvFrom => "envFrom".to_string(),
            ConfigRead::EnvKey { variable, key } => format!("env {variable} (key {key})"),
        }
    }
}

/// One container's read of one ConfigMap or Secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigRef {
    pub kind: ConfigKind,
    pub name: String,
    pub container: String,
    pub read: ConfigRead,
    /// `optional: true`: the pod starts without the object or key.
    pub optional: bool,
    /// Where the reference is written (the `name:` of the source, or the env entry).
    pub pos: Pos,
}

/// What a pod template says about its configuration: the objects it reads, and whether a
/// change of them restarts the pods.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PodConfig {
    pub refs: Vec<ConfigRef>,
    /// A fingerprint of the whole pod template (`spec.template`, key order ignored): equal in
    /// two versions means the controller does not roll the pods.
    pub template_fingerprint: Option<u64>,
    /// Pod template annotations that carry a checksum of configuration (Helm's
    /// `checksum/config: {{ include … | sha256sum }}` convention): the template changes whenever
    /// the configuration does, so the pods roll.
    pub checksum_annotations: Vec<String>,
}

/// The key a `subPath` names: with `items`, the item whose `path` the subPath is (or lies
/// under); without, the first path segment is the key's file.
pub fn sub_path_key(sub_path: &str, items: Option<&[(String, String)]>) -> Option<String> {
    let sub_path = sub_path.trim_start_matches("./");
    match items {
        Some(items) => items
            .iter()
            .find(|(_, path)| {
                let path = path.trim_start_matches("./");
                sub_path == path || sub_path.starts_with(&format!("{path}/"))
            })
            .map(|(key, _)| key.clone()),
        None => sub_path
            .split('/')
            .next()
            .filter(|s| !s.is_empty())
            .map(str::to_string),
    }
}

/// A stable fingerprint of some bytes (FNV-1a, 64 bits): the same in every run and build, so
/// two versions read in one run always compare, and nothing of the value is kept.
pub fn fingerprint(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash
}

/// Standard base64 (RFC 4648, with or without padding, whitespace ignored), as the API server
/// decodes a Secret's `data` and a ConfigMap's `binaryData`; `None` when it is not base64.
pub fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    let mut padding = 0;
    for byte in text.bytes() {
        let value = match byte {
            b'A'..=b'Z' => byte - b'A',
            b'a'..=b'z' => byte - b'a' + 26,
            b'0'..=b'9' => byte - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding += 1;
                continue;
            }
            b' ' | b'\n' | b'\r' | b'\t' => continue,
            _ => return None,
        };
        if padding > 0 {
            return None;
        }
        buffer = (buffer << 6) | u32::from(value);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
            buffer &= (1 << bits) - 1;
        }
    }
    (padding <= 2).then_some(out)
}

/// A name ending in a kustomize `configMapGenerator`/`secretGenerator` hash suffix
/// (`app-config-5g2dhk7b8f`): ten characters of kustomize's hash alphabet, which has no vowels
/// so a hash never spells a word.
pub fn has_generated_suffix(name: &str) -> bool {
    name.rsplit_once('-').is_some_and(|(stem, suffix)| {
        !stem.is_empty()
            && suffix.len() == 10
            && suffix.bytes().all(|b| b"bcdfghkmt2456789".contains(&b))
    })
}

/// Objects managed by Helm: `helm upgrade` deletes the objects the new release no longer
/// renders.
pub fn is_helm_managed(meta: &Meta) -> bool {
    meta.labels
        .get("app.kubernetes.io/managed-by")
        .is_some_and(|v| v == "Helm")
        || meta.labels.get("helm.sh/chart").is_some()
}

/// The folder of a manifest file (`""` at the root).
fn folder(file: &str) -> &str {
    file.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// Whether `a` (an object of one version, in file `a.meta.file`) and `b` (the same kind,
/// namespace and name in the other version) are one object across the change.
///
/// A repository often holds several bundles of the same objects (`install.yaml`,
/// `ha/install.yaml`, `install-with-hydrator.yaml`), each deployed on its own, so an object is
/// the one *in the same file*. Across files they are one object only when it moved: `a`'s file
/// does not hold it in `b`'s version and `b`'s file does not hold it in `a`'s (a file renamed
/// with `git mv`, an object moved or split out of a bundle). A new bundle that copies an object
/// that still exists where it was is a new object, not a change of the old one.
fn one_object(
    a: &Meta,
    b: &Meta,
    a_version_holds: impl Fn(&str) -> bool,
    b_version_holds: impl Fn(&str) -> bool,
) -> bool {
    a.file == b.file || (!b_version_holds(&a.file) && !a_version_holds(&b.file))
}

impl Manifests {
    /// This version of `object`, an object of `from` (the other version): see [`one_object`].
    pub fn config_counterpart(
        &self,
        object: &ConfigObject,
        from: &Manifests,
    ) -> Option<&ConfigObject> {
        let same = |o: &&ConfigObject| {
            o.kind == object.kind
                && o.meta.name == object.meta.name
                && o.meta.same_namespace(&object.meta)
        };
        let holds = |version: &Manifests, file: &str| {
            version
                .config_objects
                .iter()
                .filter(same)
                .any(|o| o.meta.file == file)
        };
        let mut matching = self.config_objects.iter().filter(same);
        matching
            .clone()
            .find(|o| o.meta.file == object.meta.file)
            .or_else(|| {
                matching.find(|o| {
                    one_object(
                        &object.meta,
                        &o.meta,
                        |file| holds(from, file),
                        |file| holds(self, file),
                    )
                })
            })
    }

    /// This version of a workload of `from` (the other version): same kind, name and
    /// namespace, paired by file as [`one_object`] says.
    pub fn counterpart(&self, other: &Workload, from: &Manifests) -> Option<&Workload> {
        let same = |w: &&Workload| {
            w.meta.kind == other.meta.kind
                && w.meta.name == other.meta.name
                && w.meta.same_namespace(&other.meta)
        };
        let holds = |version: &Manifests, file: &str| {
            version
                .workloads
                .iter()
                .filter(same)
                .any(|w| w.meta.file == file)
        };
        let mut matching = self.workloads.iter().filter(same);
        matching
            .clone()
            .find(|w| w.meta.file == other.meta.file)
            .or_else(|| {
                matching.find(|w| {
                    one_object(
                        &other.meta,
                        &w.meta,
                        |file| holds(from, file),
                        |file| holds(self, file),
                    )
                })
            })
    }

    /// What a workload's pods read: its own template's, or for an Argo Rollout with
    /// `workloadRef` the referenced Deployment's.
    pub fn pod_config_of<'a>(&'a self, workload: &'a Workload) -> &'a PodConfig {
        match &workload.workload_ref {
            Some(target) if workload.pod.is_none() => self
                .workload(&target.kind, &target.name, &workload.meta)
                .map_or(&workload.config, |w| &w.config),
            _ => &workload.config,
        }
    }

    /// The workloads that roll (not an Argo Rollout's template Deployment) and read this
    /// object, with each read.
    pub fn readers_of<'a>(&'a self, object: &ConfigObject) -> Vec<(&'a Workload, &'a ConfigRef)> {
        self.readers_of_name(object.kind, &object.meta.name, &object.meta)
    }

    /// [`Manifests::readers_of`] by kind and name; `near` is the object's metadata. A file that
    /// holds the object and workloads that read it is a bundle deployed on its own
    /// (`install.yaml`, `ha/install.yaml`): its object is read by its workloads only, and a
    /// workload in another file that defines its own copy reads that copy, not this one. The
    /// same holds one level up for a folder of one-object files (`deploy/staging/`,
    /// `deploy/prod/`, each with its `configmap.yaml` and `deployment.yaml`).
    pub fn readers_of_name<'a>(
        &'a self,
        kind: ConfigKind,
        name: &str,
        near: &Meta,
    ) -> Vec<(&'a Workload, &'a ConfigRef)> {
        let own_copy = |file: &str| {
            let copy_in = |holds: &dyn Fn(&str) -> bool| {
                self.config_objects.iter().any(|o| {
                    o.kind == kind
                        && o.meta.name == name
                        && o.meta.same_namespace(near)
                        && holds(&o.meta.file)
                })
            };
            (file != near.file && copy_in(&|f| f == file))
                || (folder(file) != folder(&near.file) && copy_in(&|f| folder(f) == folder(file)))
        };
        let mut out = Vec::new();
        for workload in &self.workloads {
            if self.is_rollout_template(workload)
                || !workload.meta.same_namespace(near)
                || own_copy(&workload.meta.file)
            {
                continue;
            }
            for reference in &self.pod_config_of(workload).refs {
                if reference.kind == kind && reference.name == name {
                    out.push((workload, reference));
                }
            }
        }
        if out.iter().any(|(w, _)| w.meta.file == near.file) {
            out.retain(|(w, _)| w.meta.file == near.file);
        } else if out
            .iter()
            .any(|(w, _)| folder(&w.meta.file) == folder(&near.file))
        {
            out.retain(|(w, _)| folder(&w.meta.file) == folder(&near.file));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_decodes_with_and_without_padding_and_refuses_other_text() {
        assert_eq!(decode_base64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVsbG8").unwrap(), b"hello");
        assert_eq!(decode_base64("aGVs\nbG8=").unwrap(), b"hello");
        assert_eq!(decode_base64("").unwrap(), b"");
        assert!(decode_base64("not base64!").is_none());
        assert!(decode_base64("aG=Vs").is_none());
    }

    #[test]
    fn kustomize_hash_suffixes_are_recognised() {
        assert!(has_generated_suffix("app-config-5g2dhk7b8f"));
        assert!(has_generated_suffix("db-creds-t2fmb8d6h4"));
        assert!(!has_generated_suffix("app-config-v2"));
        assert!(!has_generated_suffix("app-config"));
        assert!(!has_generated_suffix("app-config-production"));
    }

    #[test]
    fn sub_path_names_the_item_or_the_key_file() {
        let items = vec![("app.yaml".to_string(), "conf/app.yaml".to_string())];
        assert_eq!(
            sub_path_key("conf/app.yaml", Some(&items)).as_deref(),
            Some("app.yaml")
        );
        assert_eq!(sub_path_key("other", Some(&items)), None);
        assert_eq!(
            sub_path_key("nginx.conf", None).as_deref(),
            Some("nginx.conf")
        );
    }
}
