//! TLS for the PostgreSQL connections: tokio-postgres' TLS hook (`MakeTlsConnect`/`TlsConnect`)
//! implemented over tokio-rustls, with rustls' ring provider (no OpenSSL, no aws-lc), and the
//! three certificate policies libpq's `sslmode` asks for.
//!
//! - No certificate check (`prefer`, `require`, `allow`): [`NoCertificateCheck`] accepts any
//!   certificate, as libpq does in those modes, but still checks the handshake signatures
//!   against the certificate's key. The connection is encrypted against an eavesdropper, not
//!   authenticated against a man in the middle (that is `verify-ca`/`verify-full`); checking
//!   the signatures costs nothing and keeps the handshake what TLS says it is: the peer proved
//!   it holds the key of the certificate it sent.
//! - Chain only (`verify-ca`): [`ChainOnly`] runs webpki's full verification and forgives only
//!   a name mismatch, which webpki checks after the chain, its validity dates and its purpose.
//! - Chain and name (`verify-full`): webpki's verifier as it is.
//!
//! No channel binding (SCRAM-SHA-256-PLUS): [`Stream::channel_binding`] offers none, so
//! SCRAM-SHA-256 is used as over a plain connection, and `channel_binding=require` is refused.

use super::{RootCerts, TlsMode, TlsSettings};
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{
    CertificateError, ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme,
};
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio_postgres::tls::{ChannelBinding, MakeTlsConnect, TlsConnect};

/// What tokio-postgres calls to start TLS on a connection.
#[derive(Clone)]
pub struct Connector {
    config: Arc<ClientConfig>,
}

/// The connector for `settings`. `direct`: `sslnegotiation=direct`, where the server wants the
/// `postgresql` ALPN protocol. Errors name sslrootcert when the root certificates cannot be read.
pub fn connector(settings: &TlsSettings, direct: bool) -> Result<Connector, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match settings.mode {
        TlsMode::Disable | TlsMode::Allow | TlsMode::Prefer | TlsMode::Require => {
            Arc::new(NoCertificateCheck {
                provider: provider.clone(),
            })
        }
        TlsMode::VerifyCa | TlsMode::VerifyFull => {
            let roots = root_store(&settings.roots)?;
            let webpki =
                WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
                    .build()
                    .map_err(|e| format!("the root certificates cannot be used: {e}"))?;
            if settings.mode == TlsMode::VerifyFull {
                webpki
            } else {
                Arc::new(ChainOnly { inner: webpki })
            }
        }
    };
    let mut config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS setup failed: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    if direct {
        config.alpn_protocols = vec![b"postgresql".to_vec()];
    }
    Ok(Connector {
        config: Arc::new(config),
    })
}

/// The roots for `roots`: a PEM file, or the system's trust store.
fn root_store(roots: &RootCerts) -> Result<RootCertStore, String> {
    match roots {
        RootCerts::File(path) => {
            load_pem(path).map_err(|e| format!("sslrootcert {}: {e}", path.display()))
        }
        RootCerts::System => {
            for path in system_bundles() {
                if let Ok(store) = load_pem(&path) {
                    return Ok(store);
                }
            }
            Err("no system trust store found (SSL_CERT_FILE, /etc/ssl/certs/ca-certificates.crt and the other usual bundles); set sslrootcert=/path/to/ca.pem in the URL".to_string())
        }
    }
}

/// Where OpenSSL-based clients find the system's roots, in the order they are tried:
/// `SSL_CERT_FILE`, the files in `SSL_CERT_DIR`, then each distribution's bundle.
fn system_bundles() -> Vec<PathBuf> {
    let mut paths = Vec::new();
    if let Some(file) = std::env::var_os("SSL_CERT_FILE") {
        paths.push(PathBuf::from(file));
    }
    if let Some(dir) = std::env::var_os("SSL_CERT_DIR")
        && let Ok(entries) = std::fs::read_dir(dir)
    {
        let mut files: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
        files.sort();
        paths.extend(files);
    }
    for bundle in [
        "/etc/ssl/certs/ca-certificates.crt", // Debian, Ubuntu, Arch, Gentoo
        "/etc/pki/tls/certs/ca-bundle.crt",   // Fedora, RHEL
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", // Fedora, RHEL (newer)
        "/etc/ssl/ca-bundle.pem",             // openSUSE
        "/etc/ssl/cert.pem",                  // macOS, Alpine, BSDs
    ] {
        paths.push(PathBuf::from(bundle));
    }
    paths
}

/// The certificates of a PEM file as trust anchors; an error when there are none.
fn load_pem(path: &Path) -> Result<RootCertStore, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read it ({})", pem_error(&e)))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not a PEM certificate file ({})", pem_error(&e)))?;
    let mut store = RootCertStore::empty();
    let (added, _unusable) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(
            "no usable certificate in it (expected PEM: -----BEGIN CERTIFICATE-----)".to_string(),
        );
    }
    Ok(store)
}

fn pem_error(err: &rustls::pki_types::pem::Error) -> String {
    match err {
        rustls::pki_types::pem::Error::Io(io) => io.to_string(),
        other => format!("{other:?}"),
    }
}

/// `prefer`/`require`: any certificate, with the handshake signatures still checked (see the
/// module documentation).
#[derive(Debug)]
struct NoCertificateCheck {
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for NoCertificateCheck {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// `verify-ca`: webpki's verification of chain, dates and purpose; a certificate for another
/// host name is accepted (webpki checks the name last, after everything else passed).
#[derive(Debug)]
struct ChainOnly {
    inner: Arc<WebPkiServerVerifier>,
}

impl ServerCertVerifier for ChainOnly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

impl<S> MakeTlsConnect<S> for Connector
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Stream<S>;
    type TlsConnect = Handshake;
    type Error = io::Error;

    fn make_tls_connect(&mut self, domain: &str) -> Result<Handshake, io::Error> {
        Ok(Handshake {
            config: self.config.clone(),
            domain: domain.to_string(),
        })
    }
}

/// One connection's TLS handshake, for the host name in the URL.
pub struct Handshake {
    config: Arc<ClientConfig>,
    domain: String,
}

impl<S> TlsConnect<S> for Handshake
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    type Stream = Stream<S>;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Stream<S>>> + Send>>;

    fn connect(self, stream: S) -> Self::Future {
        Box::pin(async move {
            let name = ServerName::try_from(self.domain.clone()).map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{:?} is not a host name or address TLS can use",
                        self.domain
                    ),
                )
            })?;
            let stream = tokio_rustls::TlsConnector::from(self.config)
                .connect(name, stream)
                .await?;
            Ok(Stream(stream))
        })
    }
}

/// A TLS connection to the server.
pub struct Stream<S>(tokio_rustls::client::TlsStream<S>);

impl<S> tokio_postgres::tls::TlsStream for Stream<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    fn channel_binding(&self) -> ChannelBinding {
        ChannelBinding::none()
    }
}

impl<S> AsyncRead for Stream<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl<S> AsyncWrite for Stream<S>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// The rustls error under a tokio-postgres TLS error: tokio-rustls reports it inside an
/// `io::Error`, whose `source()` skips it, hence the `get_ref` at each step.
pub fn rustls_error(err: &tokio_postgres::Error) -> Option<&rustls::Error> {
    let mut current: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(err);
    while let Some(e) = current {
        if let Some(found) = e.downcast_ref::<rustls::Error>() {
            return Some(found);
        }
        if let Some(io) = e.downcast_ref::<io::Error>()
            && let Some(found) = io
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(found);
        }
        current = e.source();
    }
    None
}
