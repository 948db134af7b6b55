//! Readiness, observed: one GET with a capped body and a total timeout, and what the body says
//! (`application/health+json`, Spring Boot Actuator, MicroProfile Health, Kubernetes' verbose
//! `[+]name ok` list, plain text). Parsing and judging are pure; only [`get`] does I/O.

use std::path::Path;
use std::time::{Duration, Instant};

/// A health body is a few hundred bytes; reading more only costs memory. A 10 MB body is cut
/// here, not read whole.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The HTTP client for probes (readiness, liveness, and the grace drill's requests): no system
/// proxy (an `HTTP_PROXY` in CI must not route a localhost probe elsewhere), no redirects followed
/// (Kubernetes counts a 3xx as success without following it off-host), a short connect timeout,
/// TLS by rustls with the ring provider. `ca_file` (`checks.readiness.ca_file`, already resolved
/// against the project root) adds a private CA to the system roots.
pub fn client(timeout: Duration, ca_file: Option<&Path>) -> Result<reqwest::Client, String> {
    // Installing the process-wide provider once is how reqwest's `rustls-no-provider` is used;
    // a second call (two drills in one run) reports "already installed", which is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout.min(Duration::from_secs(2)))
        // A fresh connection per probe, as the kubelet makes: a pooled connection would hide a
        // listener that no longer accepts.
        .pool_max_idle_per_host(0);
    if let Some(path) = ca_file {
        // Merged with the system roots, not replacing them: a staging service behind a private
        // CA and a public one must both verify. reqwest hands extra roots to
        // rustls-platform-verifier (`new_with_extra_roots`, Linux and Windows; on macOS reqwest
        // refuses at build time, and that error is reported below naming the file).
        builder = builder.tls_certs_merge(load_ca_file(path)?);
    }
    builder.build().map_err(|e| match ca_file {
        // The only input that can make the build fail is the CA file: a PEM block whose
        // contents are not a certificate is rejected here, when the verifier parses it.
        Some(path) => format!(
            "checks.readiness.ca_file `{}` cannot be used as CA certificates: {}",
            path.display(),
            error_chain(&e)
        ),
        None => format!("cannot build the HTTP client: {}", error_chain(&e)),
    })
}

/// The CA certificates of a PEM file (one or more `-----BEGIN CERTIFICATE-----` blocks; other
/// blocks, such as a private key, are skipped). An unreadable file or one without a certificate
/// is an error naming it: a typo in the path must not fall back to the system roots silently.
pub fn load_ca_file(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let shown = path.display();
    let bytes = std::fs::read(path)
        .map_err(|e| format!("checks.readiness.ca_file `{shown}` cannot be read: {e}"))?;
    let certs = reqwest::Certificate::from_pem_bundle(&bytes).map_err(|e| {
        format!(
            "checks.readiness.ca_file `{shown}` is not a PEM certificate file: {}",
            error_chain(&e)
        )
    })?;
    if certs.is_empty() {
        return Err(format!(
            "checks.readiness.ca_file `{shown}` holds no PEM certificate (a `-----BEGIN CERTIFICATE-----` block)"
        ));
    }
    Ok(certs)
}

/// One answer to a GET.
#[derive(Debug, Clone)]
pub struct Observation {
    pub status: u16,
    pub latency: Duration,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
    /// The body was longer than [`MAX_BODY_BYTES`] and was cut there.
    pub truncated: bool,
}

impl Observation {
    /// Kubernetes' rule for an httpGet probe: 200 ≤ status < 400 succeeds.
    pub fn success(&self) -> bool {
        is_success(self.status)
    }
}

pub fn is_success(status: u16) -> bool {
    (200..400).contains(&status)
}

/// GET `url` within `timeout` for everything: connect, headers and the (capped) body, so a
/// slowloris body that trickles a byte a second ends at the timeout like a hanging server.
pub async fn get(
    client: &reqwest::Client,
    url: &str,
    timeout: Duration,
) -> Result<Observation, String> {
    let started = Instant::now();
    let work = async {
        let mut response = client
            .get(url)
            .header(
                reqwest::header::ACCEPT,
                "application/health+json, application/json;q=0.9, */*;q=0.5",
            )
            .send()
            .await
            .map_err(|e| describe_request_error(&e))?;
        let latency = started.elapsed();
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = Vec::new();
        let mut truncated = false;
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| format!("reading the body: {}", error_chain(&e)))?
        {
            let room = MAX_BODY_BYTES - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                truncated = true;
                break; // dropping the response closes the connection
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Observation {
            status,
            latency,
            content_type,
            body,
            truncated,
        })
    };
    match tokio::time::timeout(timeout, work).await {
        Ok(result) => result,
        Err(_) => Err(format!(
            "no complete answer within {}",
            super::human(timeout)
        )),
    }
}

/// How every certificate problem begins: [`super::wait_ready`] stops polling on it, since a
/// certificate does not become trusted by waiting for the service to start.
pub const CERTIFICATE_REJECTED: &str = "TLS certificate rejected: ";

/// A failed request in words: the TLS certificate problem with its fix when that is what
/// failed, else the whole source chain.
pub fn describe_request_error(err: &(dyn std::error::Error + 'static)) -> String {
    let chain = error_chain(err);
    match certificate_error(err) {
        Some(problem) => format!(
            "{CERTIFICATE_REJECTED}{} ({chain})",
            certificate_advice(&problem)
        ),
        None => chain,
    }
}

/// The rustls certificate error under a reqwest error, if any. rustls' error reaches reqwest
/// wrapped in `io::Error`s (tokio-rustls wraps it, and the connector may wrap that again), and
/// `io::Error::source()` skips the error it wraps (it returns that error's own source), so each
/// `io::Error` is also opened with `get_ref`. The depth bound only guards against a cycle.
fn certificate_error(err: &(dyn std::error::Error + 'static)) -> Option<rustls::CertificateError> {
    fn search(
        err: &(dyn std::error::Error + 'static),
        depth: usize,
    ) -> Option<rustls::CertificateError> {
        if depth == 0 {
            return None;
        }
        if let Some(rustls::Error::InvalidCertificate(problem)) =
            err.downcast_ref::<rustls::Error>()
        {
            return Some(problem.clone());
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            && let Some(found) = search(inner, depth - 1)
        {
            return Some(found);
        }
        search(err.source()?, depth - 1)
    }
    search(err, 32)
}

/// What a rejected certificate means and what to do about it.
pub fn certificate_advice(problem: &rustls::CertificateError) -> String {
    use rustls::CertificateError as C;
    match problem {
        // webpki says UnknownIssuer for a self-signed certificate too: its issuer (itself) is
        // not among the roots.
        C::UnknownIssuer => "certificate not trusted (self-signed or unknown CA): set checks.readiness.ca_file to the CA's PEM".to_string(),
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            "certificate not valid for the URL's host name: use a host name the certificate names (its subjectAltName), or reissue it".to_string()
        }
        C::Expired | C::ExpiredContext { .. } => "certificate expired: renew it".to_string(),
        C::NotValidYet | C::NotValidYetContext { .. } => {
            "certificate not valid yet: check the clock, or the certificate's notBefore".to_string()
        }
        C::Revoked => "certificate revoked: reissue it".to_string(),
        other => format!("certificate rejected ({other:?})"),
    }
}

/// reqwest's Display stops at "error sending request"; the reason (connection refused, invalid
/// peer certificate) is further down the source chain.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        // reqwest repeats the URL; parts already said are skipped.
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    // Errors from reqwest carry the URL, which may hold credentials: the report redacts URL
    // passwords, and nothing else of a URL is secret.
    parts.join(": ")
}

// ---------------------------------------------------------------------------------------------
// Health bodies

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `application/health+json` (draft-inadarei-api-health-check): `checks` keyed by
    /// `component:measurement`.
    HealthJson,
    /// Spring Boot Actuator: `status: UP`, `components` (or `details` before 2.2).
    SpringBoot,
    /// MicroProfile Health: `checks: [{name, status}]`.
    MicroProfile,
    /// Kubernetes' `?verbose` list: `[+]etcd ok`, `[-]db failed`.
    KubernetesVerbose,
    /// JSON without a known shape.
    Json,
    PlainText,
    Empty,
}

impl Format {
    pub fn describe(self) -> &'static str {
        match self {
            Format::HealthJson => "application/health+json",
            Format::SpringBoot => "Spring Boot Actuator health",
            Format::MicroProfile => "MicroProfile Health",
            Format::KubernetesVerbose => "Kubernetes verbose health list",
            Format::Json => "JSON",
            Format::PlainText => "plain text",
            Format::Empty => "an empty body",
        }
    }
}

/// One thing the body says it checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Component {
    pub name: String,
    /// `Some(true)` up, `Some(false)` down, `None` unknown.
    pub up: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Health {
    pub format: Format,
    /// The overall status the body states, when it states one.
    pub status: Option<String>,
    pub components: Vec<Component>,
}

/// What a health body says. Never fails: an unknown shape is `Json` or `PlainText`.
pub fn parse_health(content_type: Option<&str>, body: &[u8]) -> Health {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Health {
            format: Format::Empty,
            status: None,
            components: Vec::new(),
        };
    }
    let health_json = content_type.is_some_and(|c| c.to_ascii_lowercase().contains("health+json"));
    if let Ok(serde_json::Value::Object(map)) = serde_json::from_str::<serde_json::Value>(trimmed) {
        let status = map.get("status").and_then(status_text);
        // health+json: `checks` is an object of arrays.
        if let Some(serde_json::Value::Object(checks)) = map.get("checks") {
            let components = checks
                .iter()
                .map(|(key, value)| {
                    let entries: Vec<&serde_json::Value> = match value {
                        serde_json::Value::Array(items) => items.iter().collect(),
                        other => vec![other],
                    };
                    let states: Vec<Option<bool>> = entries
                        .iter()
                        .map(|e| {
                            e.get("status")
                                .and_then(status_text)
                                .and_then(|s| status_up(&s))
                        })
                        .collect();
                    let up = if states.contains(&Some(false)) {
                        Some(false)
                    } else if !states.is_empty() && states.iter().all(|s| *s == Some(true)) {
                        Some(true)
                    } else {
                        None
                    };
                    Component {
                        name: key.clone(),
                        up,
                    }
                })
                .collect();
            return Health {
                format: if health_json || status.is_some() {
                    Format::HealthJson
                } else {
                    Format::Json
                },
                status,
                components,
            };
        }
        // MicroProfile: `checks` is an array of {name, status}.
        if let Some(serde_json::Value::Array(checks)) = map.get("checks") {
            let components = checks
                .iter()
                .filter_map(|c| {
                    let name = c.get("name")?.as_str()?.to_string();
                    let up = c
                        .get("status")
                        .and_then(status_text)
                        .and_then(|s| status_up(&s));
                    Some(Component { name, up })
                })
                .collect();
            return Health {
                format: Format::MicroProfile,
                status,
                components,
            };
        }
        // Spring Boot: `components` (2.2+) or `details` (older), each {status, ...}.
        for key in ["components", "details"] {
            if let Some(serde_json::Value::Object(parts)) = map.get(key) {
                let mut components = Vec::new();
                spring_components(parts, "", &mut components);
                return Health {
                    format: Format::SpringBoot,
                    status,
                    components,
                };
            }
        }
        // Unknown JSON: any top-level object with a `status` counts as a component.
        let components = map
            .iter()
            .filter_map(|(key, value)| {
                let status = value.as_object()?.get("status").and_then(status_text)?;
                Some(Component {
                    name: key.clone(),
                    up: status_up(&status),
                })
            })
            .collect();
        return Health {
            format: Format::Json,
            status,
            components,
        };
    }
    let verbose: Vec<Component> = trimmed
        .lines()
        .filter_map(|line| {
            let line = line.trim();
            let (up, rest) = if let Some(rest) = line.strip_prefix("[+]") {
                (true, rest)
            } else if let Some(rest) = line.strip_prefix("[-]") {
                (false, rest)
            } else {
                return None;
            };
            let name = rest.split_whitespace().next()?.to_string();
            Some(Component { name, up: Some(up) })
        })
        .collect();
    if !verbose.is_empty() {
        let status = trimmed
            .lines()
            .rev()
            .find(|l| l.contains("check passed") || l.contains("check failed"))
            .map(|l| l.trim().to_string());
        return Health {
            format: Format::KubernetesVerbose,
            status,
            components: verbose,
        };
    }
    let first_line: String = trimmed
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(80)
        .collect();
    Health {
        format: Format::PlainText,
        status: Some(first_line),
        components: Vec::new(),
    }
}

/// Spring nests groups (`db: {components: {primary: …}}`); names join with `/`.
fn spring_components(
    parts: &serde_json::Map<String, serde_json::Value>,
    prefix: &str,
    out: &mut Vec<Component>,
) {
    for (name, value) in parts {
        let full = if prefix.is_empty() {
            name.clone()
        } else {
            format!("{prefix}/{name}")
        };
        let up = value
            .get("status")
            .and_then(status_text)
            .and_then(|s| status_up(&s));
        out.push(Component {
            name: full.clone(),
            up,
        });
        if let Some(serde_json::Value::Object(nested)) = value.get("components") {
            spring_components(nested, &full, out);
        }
    }
}

fn status_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// The vocabularies: health+json `pass/warn/fail`, Spring and MicroProfile `UP/DOWN`
/// (`OUT_OF_SERVICE`), and the plain words.
fn status_up(status: &str) -> Option<bool> {
    match status.to_ascii_lowercase().as_str() {
        "pass" | "ok" | "up" | "true" | "healthy" | "warn" => Some(true),
        "fail" | "down" | "out_of_service" | "false" | "unhealthy" | "error" => Some(false),
        _ => None,
    }
}

/// Names a dependency is commonly checked under: a `postgres` dependency is Spring's `db`
/// component, a `redis` one may be `cache`. Deliberately short: a wrong match would claim a
/// dependency is checked when it is not.
const ALIASES: &[&[&str]] = &[
    &[
        "postgres",
        "postgresql",
        "pg",
        "db",
        "database",
        "datasource",
        "jdbc",
        "sql",
    ],
    &[
        "mysql",
        "mariadb",
        "db",
        "database",
        "datasource",
        "jdbc",
        "sql",
    ],
    &["redis", "cache", "valkey"],
    &["kafka", "broker", "messaging"],
    &["rabbitmq", "rabbit", "amqp", "broker", "messaging"],
    &["mongo", "mongodb", "db", "database"],
    &["elasticsearch", "elastic", "opensearch", "search"],
];

/// Whether the body names the dependency `name` among its components.
pub fn mentions(health: &Health, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    let mut names = vec![name.clone()];
    for group in ALIASES {
        if group.contains(&name.as_str()) {
            names.extend(group.iter().map(|s| s.to_string()));
        }
    }
    health.components.iter().any(|component| {
        let words: Vec<String> = component
            .name
            .to_ascii_lowercase()
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        names.iter().any(|n| words.iter().any(|w| w == n))
    })
}

/// Answers faster than this, every time, with the same body, look like a handler that checks
/// nothing: a database round trip, even on localhost, takes longer.
pub const STATIC_LATENCY: Duration = Duration::from_millis(2);

/// Why a readiness endpoint looks static, if it does: dependencies are declared, every answer was
/// successful, the same bytes, fast, and the body names none of the dependencies.
pub fn looks_static(samples: &[Observation], declared: &[String]) -> Option<String> {
    if declared.is_empty() || samples.len() < 3 {
        return None;
    }
    let first = &samples[0];
    if !samples.iter().all(|s| s.success() && s.body == first.body) {
        return None;
    }
    let health = parse_health(first.content_type.as_deref(), &first.body);
    if declared.iter().any(|d| mentions(&health, d)) {
        return None;
    }
    let mut latencies: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
    latencies.sort();
    let median = latencies[latencies.len() / 2];
    if median >= STATIC_LATENCY {
        return None;
    }
    Some(format!(
        "{} answers were identical ({}), median {} µs, and none names {}",
        samples.len(),
        body_preview(&first.body),
        median.as_micros(),
        declared
            .iter()
            .map(|d| format!("`{d}`"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
}

/// The start of a body for a message: one line, at most 60 characters.
pub fn body_preview(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.trim().lines().next().unwrap_or("").trim();
    if line.is_empty() {
        return "empty body".to_string();
    }
    if line.chars().count() > 60 {
        format!("`{}…`", line.chars().take(57).collect::<String>())
    } else {
        format!("`{line}`")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(health: &Health) -> Vec<(&str, Option<bool>)> {
        health
            .components
            .iter()
            .map(|c| (c.name.as_str(), c.up))
            .collect()
    }

    #[test]
    fn health_json_checks_and_status() {
        let body = br#"{"status":"fail","checks":{"postgres:connections":[{"status":"fail"}],"uptime":[{"status":"pass"}]}}"#;
        let health = parse_health(Some("application/health+json"), body);
        assert_eq!(health.format, Format::HealthJson);
        assert_eq!(health.status.as_deref(), Some("fail"));
        assert_eq!(
            names(&health),
            [
                ("postgres:connections", Some(false)),
                ("uptime", Some(true))
            ]
        );
        assert!(mentions(&health, "postgres"));
        assert!(!mentions(&health, "redis"));
    }

    #[test]
    fn spring_boot_components_nest() {
        let body = br#"{"status":"UP","components":{"db":{"status":"UP","components":{"primary":{"status":"UP"}}},"redis":{"status":"DOWN"}}}"#;
        let health = parse_health(Some("application/vnd.spring-boot.actuator.v3+json"), body);
        assert_eq!(health.format, Format::SpringBoot);
        assert_eq!(
            names(&health),
            [
                ("db", Some(true)),
                ("db/primary", Some(true)),
                ("redis", Some(false))
            ]
        );
        assert!(
            mentions(&health, "postgres"),
            "Spring's `db` is the database"
        );
        assert!(mentions(&health, "redis"));
    }

    #[test]
    fn microprofile_checks_list() {
        let body = br#"{"status":"DOWN","checks":[{"name":"kafka","status":"DOWN"},{"name":"mongo-connection","status":"UP"}]}"#;
        let health = parse_health(Some("application/json"), body);
        assert_eq!(health.format, Format::MicroProfile);
        assert_eq!(
            names(&health),
            [("kafka", Some(false)), ("mongo-connection", Some(true))]
        );
        assert!(mentions(&health, "mongo"));
    }

    #[test]
    fn kubernetes_verbose_list() {
        let body = b"[+]ping ok\n[+]etcd ok\n[-]informer-sync failed: reason withheld\nreadyz check failed\n";
        let health = parse_health(Some("text/plain"), body);
        assert_eq!(health.format, Format::KubernetesVerbose);
        assert_eq!(health.status.as_deref(), Some("readyz check failed"));
        assert_eq!(health.components.len(), 3);
        assert_eq!(health.components[2].up, Some(false));
        assert!(mentions(&health, "etcd"));
    }

    #[test]
    fn plain_text_empty_and_broken_json() {
        let health = parse_health(None, b"OK\n");
        assert_eq!(health.format, Format::PlainText);
        assert_eq!(health.status.as_deref(), Some("OK"));
        assert_eq!(parse_health(None, b"  ").format, Format::Empty);
        // Not JSON after all: plain text, no panic.
        assert_eq!(
            parse_health(Some("application/json"), b"{\"status\": ").format,
            Format::PlainText
        );
        assert_eq!(
            parse_health(None, &[0xff, 0xfe, b'x']).format,
            Format::PlainText
        );
    }

    #[test]
    fn dependency_names_match_whole_words_only() {
        let health = parse_health(None, br#"{"checks":[{"name":"dbx","status":"UP"}]}"#);
        assert!(!mentions(&health, "db"), "`dbx` is not `db`");
        let health = parse_health(None, br#"{"checks":[{"name":"db-primary","status":"UP"}]}"#);
        assert!(mentions(&health, "DB"));
    }

    fn sample(body: &str, micros: u64) -> Observation {
        Observation {
            status: 200,
            latency: Duration::from_micros(micros),
            content_type: None,
            body: body.as_bytes().to_vec(),
            truncated: false,
        }
    }

    #[test]
    fn static_readiness_needs_every_sign() {
        let declared = vec!["postgres".to_string()];
        let fast = [sample("OK", 200), sample("OK", 150), sample("OK", 300)];
        assert!(looks_static(&fast, &declared).unwrap().contains("`OK`"));
        // Nothing declared: nothing to expect.
        assert!(looks_static(&fast, &[]).is_none());
        // Slow enough to have done a round trip.
        let slow = [sample("OK", 5000), sample("OK", 6000), sample("OK", 7000)];
        assert!(looks_static(&slow, &declared).is_none());
        // The body names the dependency.
        let named = [
            sample(r#"{"components":{"db":{"status":"UP"}}}"#, 100),
            sample(r#"{"components":{"db":{"status":"UP"}}}"#, 100),
            sample(r#"{"components":{"db":{"status":"UP"}}}"#, 100),
        ];
        assert!(looks_static(&named, &declared).is_none());
        // Bodies that change (a timestamp) are not constant.
        let changing = [
            sample("OK 1", 100),
            sample("OK 2", 100),
            sample("OK 3", 100),
        ];
        assert!(looks_static(&changing, &declared).is_none());
    }

    /// An error whose source is another error, as reqwest and hyper chain them.
    #[derive(Debug)]
    struct Wrapped(
        &'static str,
        Box<dyn std::error::Error + Send + Sync + 'static>,
    );

    impl std::fmt::Display for Wrapped {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Wrapped {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&*self.1)
        }
    }

    fn rejected(problem: rustls::CertificateError) -> Wrapped {
        // rustls' error inside an io::Error inside the client's error: how reqwest reports a
        // failed handshake.
        let io = std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            rustls::Error::InvalidCertificate(problem),
        );
        Wrapped(
            "error sending request for url (https://127.0.0.1:8443/ready)",
            Box::new(Wrapped("client error (Connect)", Box::new(io))),
        )
    }

    #[test]
    fn an_untrusted_certificate_says_how_to_trust_it() {
        let text = describe_request_error(&rejected(rustls::CertificateError::UnknownIssuer));
        assert!(text.starts_with(CERTIFICATE_REJECTED), "{text}");
        assert!(
            text.contains("certificate not trusted (self-signed or unknown CA): set checks.readiness.ca_file to the CA's PEM"),
            "{text}"
        );
        // The chain stays, for the details.
        assert!(
            text.contains("invalid peer certificate: UnknownIssuer"),
            "{text}"
        );
        // Wrapped twice in io::Error, as the connector may do: still found.
        let twice = Wrapped(
            "error sending request",
            Box::new(std::io::Error::other(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                rustls::Error::InvalidCertificate(rustls::CertificateError::UnknownIssuer),
            ))),
        );
        assert!(
            describe_request_error(&twice).contains("set checks.readiness.ca_file"),
            "{}",
            describe_request_error(&twice)
        );
        let text = describe_request_error(&rejected(rustls::CertificateError::NotValidForName));
        assert!(text.contains("not valid for the URL's host name"), "{text}");
        let text = describe_request_error(&rejected(rustls::CertificateError::Expired));
        assert!(text.contains("certificate expired"), "{text}");
        // Not a certificate problem: the chain alone.
        let refused = Wrapped(
            "error sending request",
            Box::new(std::io::Error::from(std::io::ErrorKind::ConnectionRefused)),
        );
        let text = describe_request_error(&refused);
        assert!(!text.contains(CERTIFICATE_REJECTED), "{text}");
        assert!(text.contains("refused"), "{text}");
    }

    #[test]
    fn a_bad_ca_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let e = load_ca_file(&missing).unwrap_err();
        assert!(
            e.contains("checks.readiness.ca_file") && e.contains("missing.pem"),
            "{e}"
        );
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = load_ca_file(&empty).unwrap_err();
        assert!(
            e.contains("empty.pem") && e.contains("holds no PEM certificate"),
            "{e}"
        );
        // A certificate block whose contents are not base64: a parse error, not a panic.
        let broken = dir.path().join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
        )
        .unwrap();
        let e = load_ca_file(&broken).unwrap_err();
        assert!(e.contains("broken.pem"), "{e}");
    }

    #[test]
    fn kubernetes_success_range() {
        assert!(is_success(200) && is_success(302) && is_success(399));
        assert!(!is_success(199) && !is_success(400) && !is_success(503));
    }
}
