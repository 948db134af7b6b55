//! What every format comparer shares: the two versions being compared, the pairs of files,
//! which side of a rolling deploy a change breaks, and how a schema that cannot be read is
//! reported.
//!
//! During a rolling deploy the deployed version ("old", read from git at the base ref) and the
//! new one (the working tree) run side by side, so every change is judged in both directions:
//! can the new code read what the old code writes, and can the old code read what the new code
//! writes? A format comparer (`openapi`, `proto`, `avro`, `jsonschema`) is a pure function
//! from two [`Version`]s and the [`Pair`]s of files to findings; I/O stays in `mod.rs`.

use crate::checks::Rule;
use crate::report::{Finding, Location};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

/// One version of the project's files: the deployed one (git at the base ref) or the new one
/// (the working tree). Reads are lazy and cached, so a `$ref` or an `import` to another file of
/// the same version costs one read.
/// Reads one file of a version: `Ok(None)` when it does not exist there.
type Reader = Box<dyn Fn(&str) -> Result<Option<String>, String> + Send + Sync>;

pub struct Version {
    /// How the version is named in messages: the base ref (`v1.4.2`) or `working tree`.
    pub label: String,
    reader: Reader,
    cache: Mutex<BTreeMap<String, Option<String>>>,
}

impl Version {
    /// A version backed by a reader: `Ok(None)` when the file does not exist in it. Paths are
    /// relative to the project root with `/` separators.
    pub fn new(
        label: impl Into<String>,
        reader: impl Fn(&str) -> Result<Option<String>, String> + Send + Sync + 'static,
    ) -> Version {
        Version {
            label: label.into(),
            reader: Box::new(reader),
            cache: Mutex::new(BTreeMap::new()),
        }
    }

    /// A version held in memory: tests and benchmarks.
    pub fn from_files<P: Into<String>, T: Into<String>>(
        label: impl Into<String>,
        files: impl IntoIterator<Item = (P, T)>,
    ) -> Version {
        let files: BTreeMap<String, String> = files
            .into_iter()
            .map(|(p, t)| (p.into(), t.into()))
            .collect();
        Version::new(label, move |path| Ok(files.get(path).cloned()))
    }

    /// The file's text in this version; `Ok(None)` when it does not exist there.
    pub fn read(&self, path: &str) -> Result<Option<String>, String> {
        if let Some(hit) = self.cache.lock().expect("cache lock").get(path) {
            return Ok(hit.clone());
        }
        let text = (self.reader)(path)?;
        self.cache
            .lock()
            .expect("cache lock")
            .insert(path.to_string(), text.clone());
        Ok(text)
    }
}

impl fmt::Debug for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Version")
            .field("label", &self.label)
            .finish()
    }
}

/// A file in the old version and the same file in the new one. The paths differ when git saw
/// a rename; files only in the new version have no pair (nothing to compare).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Pair {
    pub old_path: String,
    pub new_path: String,
}

impl Pair {
    pub fn same(path: impl Into<String>) -> Pair {
        let path = path.into();
        Pair {
            old_path: path.clone(),
            new_path: path,
        }
    }
}

/// Which way data flows through the changed schema element: who writes it, who reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Written by clients, read by the service (request bodies, parameters, RPC requests).
    Request,
    /// Written by the service, read by clients (response bodies, RPC responses).
    Response,
    /// Written by producers, read by consumers, possibly much later (events, messages, rows).
    Message,
    /// A Protobuf message both RPC requests and RPC responses carry: clients and servers of both
    /// versions write and read it.
    Rpc,
    /// A Protobuf message no RPC of the files carries: stored (rows, files, caches) or
    /// published, so read by whoever reads data the other version wrote.
    Stored,
}

/// Which side of the rolling deploy a change breaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breaks {
    /// The new version cannot read what the deployed version writes.
    NewReadsOld,
    /// The deployed version cannot read what the new version writes.
    OldReadsNew,
    /// Both.
    Both,
}

impl Breaks {
    /// The consequence in a developer's words, for this flow.
    pub fn consequence(self, flow: Flow) -> String {
        let one = |breaks: Breaks| match (flow, breaks) {
            (Flow::Request, Breaks::OldReadsNew) => {
                "old pods will reject requests from updated clients"
            }
            (Flow::Request, _) => {
                "updated pods will reject requests from clients that are not updated yet"
            }
            (Flow::Response, Breaks::NewReadsOld) => {
                "updated clients cannot read responses from old pods"
            }
            (Flow::Response, _) => {
                "clients that are not updated yet cannot read responses from updated pods"
            }
            (Flow::Message, Breaks::NewReadsOld) => {
                "updated consumers cannot read events already in the topic (written by the old version)"
            }
            (Flow::Message, _) => "old consumers cannot read events the new version publishes",
            (Flow::Rpc, Breaks::NewReadsOld) => {
                "updated servers and clients cannot read what the side not updated yet sends (requests from old clients, responses from old servers)"
            }
            (Flow::Rpc, _) => {
                "old servers and clients cannot read what updated ones send (requests from updated clients, responses from updated servers)"
            }
            (Flow::Stored, Breaks::NewReadsOld) => {
                "readers on the new version cannot read data written by the old version (stored or already published messages)"
            }
            (Flow::Stored, _) => {
                "readers still on the old version cannot read data written by the new version"
            }
        };
        match self {
            Breaks::Both => format!(
                "{}, and {}",
                one(Breaks::NewReadsOld),
                one(Breaks::OldReadsNew)
            ),
            single => one(single).to_string(),
        }
    }
}

/// A breaking change as a finding: `what` (e.g. "property `total` of the response of GET
/// /orders removed"), then the consequence. The rule's default severity applies.
pub fn breaking(
    rule: &'static Rule,
    what: impl fmt::Display,
    breaks: Breaks,
    flow: Flow,
    at: Location,
) -> Finding {
    rule.finding(format!("{what}: {}", breaks.consequence(flow)))
        .at(at)
}

/// A schema file that cannot be read (not valid YAML/JSON/proto, a `$ref` that leads nowhere).
/// gonogo cannot decide on it, so the check reports `error` naming file:line:column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaError {
    pub location: Location,
    pub message: String,
}

impl SchemaError {
    pub fn new(location: Location, message: impl Into<String>) -> SchemaError {
        SchemaError {
            location,
            message: message.into(),
        }
    }
}

impl fmt::Display for SchemaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// What one format comparer returns for its pairs: findings, and the files it could not read
/// (each makes the check `error`, while the findings of the other files are still reported).
#[derive(Debug, Default)]
pub struct Comparison {
    pub findings: Vec<Finding>,
    pub errors: Vec<SchemaError>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn consequences_name_the_side_that_breaks() {
        assert_eq!(
            Breaks::OldReadsNew.consequence(Flow::Request),
            "old pods will reject requests from updated clients"
        );
        assert_eq!(
            Breaks::NewReadsOld.consequence(Flow::Message),
            "updated consumers cannot read events already in the topic (written by the old version)"
        );
        assert!(
            Breaks::Both
                .consequence(Flow::Response)
                .contains("updated clients cannot read responses from old pods, and clients")
        );
    }

    #[test]
    fn versions_read_lazily_and_cache() {
        let calls = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counter = calls.clone();
        let version = Version::new("v1", move |path| {
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            Ok((path == "a.yaml").then(|| "x: 1".to_string()))
        });
        assert_eq!(version.read("a.yaml").unwrap().as_deref(), Some("x: 1"));
        assert_eq!(version.read("a.yaml").unwrap().as_deref(), Some("x: 1"));
        assert_eq!(version.read("b.yaml").unwrap(), None);
        assert_eq!(calls.load(std::sync::atomic::Ordering::SeqCst), 2);
    }
}
