//! An endpoint, observed: one GET with a capped body and a total timeout, through a client
//! that probes as the kubelet does, and failed requests (a rejected certificate above all) in
//! words. What a readiness body says is the readiness check's business
//! (`checks/readiness/live/health.rs`).

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

#[cfg(test)]
mod tests {
    use super::*;

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
