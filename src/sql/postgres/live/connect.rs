//! Connections to the user's databases: read-only for statistics, time-bounded for everything,
//! and errors turned into one clear reason that never contains a password.
//!
//! TLS follows libpq's `sslmode` and `sslrootcert` URL parameters (rustls with the ring
//! provider, see [`tls`]):
//!
//! - `disable`: plain TCP.
//! - `allow`: plain first; TLS (unverified) if the server refuses an unencrypted connection.
//! - `prefer` (the default): TLS (unverified) if the server offers it, else plain; and plain
//!   again if the server refuses the TLS connection for this user (`hostnossl`).
//! - `require`: TLS, the certificate not verified (libpq's meaning: encryption against
//!   eavesdroppers, not against a man in the middle). As in libpq, when a root certificate is
//!   given (`sslrootcert=<file>`, or `~/.postgresql/root.crt` exists) it behaves as `verify-ca`.
//! - `verify-ca`: TLS, the chain verified against the root certificates, the host name not.
//! - `verify-full`: TLS, chain and host name verified.
//!
//! Root certificates: `sslrootcert=<PEM file>`; else `~/.postgresql/root.crt` when it exists
//! (libpq's default); else, or with `sslrootcert=system`, the system's trust store (the PEM
//! bundle named by `SSL_CERT_FILE` or found at the usual OpenSSL locations).

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::{Client, Config};

mod tls;

/// Longest wait for a TCP connection and the server's greeting.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Every catalog query gonogo sends is small; one that takes longer is a sick server.
pub const STATS_STATEMENT_TIMEOUT_MS: u64 = 5_000;

/// libpq's `sslmode` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsMode {
    Disable,
    Allow,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl TlsMode {
    fn parse(value: &str) -> Option<TlsMode> {
        Some(match value {
            "disable" => TlsMode::Disable,
            "allow" => TlsMode::Allow,
            "prefer" => TlsMode::Prefer,
            "require" => TlsMode::Require,
            "verify-ca" => TlsMode::VerifyCa,
            "verify-full" => TlsMode::VerifyFull,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            TlsMode::Disable => "disable",
            TlsMode::Allow => "allow",
            TlsMode::Prefer => "prefer",
            TlsMode::Require => "require",
            TlsMode::VerifyCa => "verify-ca",
            TlsMode::VerifyFull => "verify-full",
        }
    }
}

/// Where the root certificates for `verify-ca`/`verify-full` come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCerts {
    /// `sslrootcert=<file>`, or libpq's default `~/.postgresql/root.crt`.
    File(PathBuf),
    /// `sslrootcert=system`, or no file at all.
    System,
}

/// The TLS part of a connection URL, which gonogo handles itself (tokio-postgres knows only
/// disable/prefer/require and no root certificates).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    pub mode: TlsMode,
    pub roots: RootCerts,
}

/// A parsed connection URL, with what messages may show of it.
pub struct Target {
    pub config: Config,
    /// `app@db.internal:5432/shop`: no password, ever.
    pub shown: String,
    pub tls: TlsSettings,
}

impl Target {
    /// Parse a `postgres://` URL or `key=value` string. The error never repeats the input (it
    /// may hold a password).
    pub fn parse(url: &str, role: &str) -> Result<Target, String> {
        let home = std::env::var_os("HOME").map(PathBuf::from);
        Target::parse_with_home(url, role, home.as_deref())
    }

    fn parse_with_home(url: &str, role: &str, home: Option<&Path>) -> Result<Target, String> {
        let split = split_tls_params(url);
        let mut config = Config::from_str(&split.rest).map_err(|_| {
            format!("{role} is not a valid PostgreSQL connection URL (expected postgres://user:password@host:port/database)")
        })?;
        if config.get_hosts().is_empty() {
            return Err(format!(
                "{role} names no host (expected postgres://user:password@host:port/database)"
            ));
        }
        let tls = tls_settings(split.sslmode.as_deref(), split.sslrootcert.as_deref(), home)
            .map_err(|e| format!("{role}: {e}"))?;
        // tokio-postgres does the SSLRequest exchange; gonogo's connector does the handshake
        // and the verification the mode asks for.
        config.ssl_mode(match tls.mode {
            TlsMode::Disable | TlsMode::Allow => SslMode::Disable,
            TlsMode::Prefer => SslMode::Prefer,
            TlsMode::Require | TlsMode::VerifyCa | TlsMode::VerifyFull => SslMode::Require,
        });
        config.connect_timeout(CONNECT_TIMEOUT);
        config.application_name("gonogo");
        let shown = shown(&config);
        Ok(Target { config, shown, tls })
    }
}

/// The effective TLS settings from the URL's `sslmode` and `sslrootcert`, as libpq reads them.
fn tls_settings(
    sslmode: Option<&str>,
    sslrootcert: Option<&str>,
    home: Option<&Path>,
) -> Result<TlsSettings, String> {
    let mode = match sslmode {
        None => None,
        Some(value) => Some(TlsMode::parse(value).ok_or_else(|| {
            format!(
                "sslmode={value} is not one of disable, allow, prefer, require, verify-ca, verify-full"
            )
        })?),
    };
    let roots = match sslrootcert {
        Some("system") => RootCerts::System,
        Some(path) if !path.is_empty() => RootCerts::File(PathBuf::from(path)),
        _ => match home.map(|h| h.join(".postgresql/root.crt")) {
            Some(default) if default.is_file() => RootCerts::File(default),
            _ => RootCerts::System,
        },
    };
    let mode = match (mode, sslrootcert) {
        // libpq: the system store only makes sense with full verification, which it implies.
        (None, Some("system")) => TlsMode::VerifyFull,
        (Some(mode), Some("system")) if mode != TlsMode::VerifyFull => {
            return Err(format!(
                "sslrootcert=system needs sslmode=verify-full (found sslmode={}): the system's roots vouch for host names, not for the chain alone",
                mode.name()
            ));
        }
        // libpq, for compatibility: `require` with a root certificate file verifies the chain.
        (Some(TlsMode::Require), _) if matches!(roots, RootCerts::File(_)) => TlsMode::VerifyCa,
        (Some(mode), _) => mode,
        (None, _) => TlsMode::Prefer,
    };
    Ok(TlsSettings { mode, roots })
}

/// A connection string without the parameters gonogo handles itself.
struct SplitUrl {
    rest: String,
    sslmode: Option<String>,
    sslrootcert: Option<String>,
}

/// Take `sslmode` and `sslrootcert` out of a `postgres://` URL's query or a `key=value`
/// string; everything else is left, byte for byte, for tokio-postgres to parse.
fn split_tls_params(url: &str) -> SplitUrl {
    let mut split = SplitUrl {
        rest: String::new(),
        sslmode: None,
        sslrootcert: None,
    };
    let mut take = |key: &str, value: String| match key {
        "sslmode" => {
            split.sslmode = Some(value);
            true
        }
        "sslrootcert" => {
            split.sslrootcert = Some(value);
            true
        }
        _ => false,
    };
    let rest = if let Some(after) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    {
        // As tokio-postgres reads it: the credentials end at the first '@' (a password may
        // hold '?'), the query starts at the first '?' after them.
        let authority_start = url.len() - after.len() + after.find('@').map_or(0, |at| at + 1);
        match url[authority_start..].find('?') {
            None => url.to_string(),
            Some(q) => {
                let (head, query) = url.split_at(authority_start + q);
                let kept: Vec<&str> = query[1..]
                    .split('&')
                    .filter(|pair| {
                        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
                        !take(&crate::percent::decode(key), crate::percent::decode(value))
                    })
                    .collect();
                if kept.is_empty() {
                    head.to_string()
                } else {
                    format!("{head}?{}", kept.join("&"))
                }
            }
        }
    } else {
        let mut rest = String::new();
        for (key, value, raw) in key_values(url) {
            if !take(key, value) {
                if !rest.is_empty() {
                    rest.push(' ');
                }
                rest.push_str(raw);
            }
        }
        rest
    };
    split.rest = rest;
    split
}

/// The pairs of a libpq `key=value` string: key, unquoted value, and the pair's raw text.
/// Values are bare (backslash escapes) or single-quoted (`\'` and `\\` escapes).
fn key_values(text: &str) -> Vec<(&str, String, &str)> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut i = 0;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() {
            return out;
        }
        let start = i;
        while i < bytes.len() && bytes[i] != b'=' && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let key = &text[start..i];
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i >= bytes.len() || bytes[i] != b'=' {
            // Not a pair: keep the word for tokio-postgres to reject.
            out.push((key, String::new(), &text[start..i]));
            continue;
        }
        i += 1;
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut value = Vec::new();
        let quoted = i < bytes.len() && bytes[i] == b'\'';
        if quoted {
            i += 1;
        }
        while i < bytes.len() {
            match bytes[i] {
                b'\\' if i + 1 < bytes.len() => {
                    value.push(bytes[i + 1]);
                    i += 2;
                }
                b'\'' if quoted => {
                    i += 1;
                    break;
                }
                c if !quoted && c.is_ascii_whitespace() => break,
                c => {
                    value.push(c);
                    i += 1;
                }
            }
        }
        out.push((
            key,
            String::from_utf8_lossy(&value).into_owned(),
            &text[start..i],
        ));
    }
}

/// `user@host:port/db`, for messages.
fn shown(config: &Config) -> String {
    let host = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect::<Vec<_>>()
        .join(",");
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let user = config.get_user().unwrap_or("(default user)");
    let db = config.get_dbname().unwrap_or(user);
    format!("{user}@{host}:{port}/{db}")
}

/// Whether two URLs name the same database on the same server, as far as the URLs tell
/// (loopback names are one host). [`same_server_identity`] catches the rest after connecting.
pub fn same_database(a: &Config, b: &Config) -> bool {
    fn normal_host(host: &Host) -> String {
        match host {
            Host::Tcp(name) => {
                let name = name.to_ascii_lowercase();
                match name.as_str() {
                    "localhost" | "127.0.0.1" | "::1" | "[::1]" => "loopback".to_string(),
                    _ => name,
                }
            }
            // Unix sockets are the local server as much as 127.0.0.1 is.
            Host::Unix(_) => "loopback".to_string(),
        }
    }
    let hosts = |c: &Config| -> Vec<String> { c.get_hosts().iter().map(normal_host).collect() };
    let port = |c: &Config| c.get_ports().first().copied().unwrap_or(5432);
    let db = |c: &Config| {
        c.get_dbname()
            .or(c.get_user())
            .unwrap_or_default()
            .to_string()
    };
    let a_hosts = hosts(a);
    hosts(b).iter().any(|h| a_hosts.contains(h)) && port(a) == port(b) && db(a) == db(b)
}

/// What identifies the server and database a session is connected to, whatever the URL said:
/// the cluster's system identifier (`pg_control_system()`, unique per `initdb`) and the database
/// name. When the role may not read the identifier this fails: an address is no identity (one
/// server has many: 127.0.0.1, its LAN address, a proxy's), and a check that could not prove two
/// URLs name different databases must not run a migration on one of them.
pub async fn server_identity(client: &Client, role: &str) -> Result<String, String> {
    let row = client
        .query_one(
            "SELECT s.system_identifier::pg_catalog.text OPERATOR(pg_catalog.||) '/' OPERATOR(pg_catalog.||) pg_catalog.current_database()
             FROM pg_catalog.pg_control_system() AS s",
            &[],
        )
        .await;
    match row {
        Ok(row) => Ok(row.get::<_, String>(0)),
        Err(e) => Err(format!(
            "refusing to trace: gonogo cannot prove that scratch_url and stats_url are different databases, because the role in {role} may not read the server's system identifier ({}); grant it with `GRANT EXECUTE ON FUNCTION pg_catalog.pg_control_system() TO <role>`, or remove stats_url to trace without comparing",
            describe(&e)
        )),
    }
}

/// What ends a session's running query from outside: PostgreSQL's cancel request, sent on a new
/// connection to the same server (the backend does not read its own socket while it runs a
/// query or waits for a lock, so closing the connection alone does not stop it).
pub struct Canceller {
    token: tokio_postgres::CancelToken,
    tls: tls::Connector,
}

impl Canceller {
    /// Send the cancel request; a failure is ignored (the server may be gone already).
    pub async fn cancel(self) {
        let _ = tokio::time::timeout(CONNECT_TIMEOUT, self.token.cancel_query(self.tls)).await;
    }
}

/// Connect and drive the connection on the runtime. `startup` are `-c name=value` options set
/// for the whole session before the first query.
pub async fn connect(
    target: &Target,
    role: &str,
    startup: &[(&str, String)],
) -> Result<Client, String> {
    connect_cancellable(target, role, startup)
        .await
        .map(|(client, _)| client)
}

/// [`connect`], with what cancels the session's running query.
pub async fn connect_cancellable(
    target: &Target,
    role: &str,
    startup: &[(&str, String)],
) -> Result<(Client, Canceller), String> {
    let mut config = target.config.clone();
    if !startup.is_empty() {
        let options: Vec<String> = startup
            .iter()
            .map(|(name, value)| format!("-c {name}={value}"))
            .collect();
        let existing = config.get_options().map(str::to_string);
        let joined = match existing {
            Some(existing) if !existing.is_empty() => format!("{existing} {}", options.join(" ")),
            _ => options.join(" "),
        };
        config.options(&joined);
    }
    let direct = config.get_ssl_negotiation() == tokio_postgres::config::SslNegotiation::Direct;
    let connector = tls::connector(&target.tls, direct)
        .map_err(|e| format!("cannot connect to {role} ({}): {e}", target.shown))?;
    let attempt = tokio::time::timeout(CONNECT_TIMEOUT + Duration::from_secs(1), async {
        let first = config.connect(connector.clone()).await;
        let connector = connector.clone();
        // libpq's second attempt: `prefer` retries without TLS when the TLS connection failed
        // or was refused for this user (pg_hba.conf `hostnossl`); `allow` retries with TLS
        // when the plain one was refused (`hostssl` only).
        match (target.tls.mode, first) {
            (TlsMode::Prefer, Err(err)) if tls_failed(&err) || refused_for(&err, "SSL") => {
                config.ssl_mode(SslMode::Disable);
                config.connect(connector).await
            }
            (TlsMode::Allow, Err(err)) if refused_for(&err, "no encryption") => {
                config.ssl_mode(SslMode::Require);
                config.connect(connector).await
            }
            (_, result) => result,
        }
    })
    .await;
    let (client, connection) = match attempt {
        Ok(Ok(pair)) => pair,
        Ok(Err(err)) => {
            return Err(format!(
                "cannot connect to {role} ({}): {}",
                target.shown,
                describe_connect(&err, target)
            ));
        }
        Err(_) => {
            return Err(format!(
                "cannot connect to {role} ({}): no answer within {} s",
                target.shown,
                CONNECT_TIMEOUT.as_secs()
            ));
        }
    };
    tokio::spawn(async move {
        // The connection ends when the client is dropped or the server goes away; the
        // client's next query reports that, so the result here adds nothing.
        let _ = connection.await;
    });
    let canceller = Canceller {
        token: client.cancel_token(),
        tls: connector,
    };
    Ok((client, canceller))
}

/// The server's "no pg_hba.conf entry …, <encryption>" refusal, for the given encryption
/// (`SSL encryption`, `no encryption`).
fn refused_for(err: &tokio_postgres::Error, encryption: &str) -> bool {
    err.as_db_error().is_some_and(|db| {
        *db.code() == tokio_postgres::error::SqlState::INVALID_AUTHORIZATION_SPECIFICATION
            && db.message().contains("pg_hba.conf")
            && db.message().contains(encryption)
    })
}

/// The TLS handshake itself failed (not the server's answer to the SSLRequest).
fn tls_failed(err: &tokio_postgres::Error) -> bool {
    tls::rustls_error(err).is_some()
}

/// [`describe`], plus what only the target knows: which sslmode and which root certificates a
/// certificate was checked against.
fn describe_connect(err: &tokio_postgres::Error, target: &Target) -> String {
    let Some(rustls_error) = tls::rustls_error(err) else {
        return describe(err);
    };
    let mode = target.tls.mode.name();
    let roots = match &target.tls.roots {
        RootCerts::File(path) => format!("sslrootcert ({})", path.display()),
        RootCerts::System => "the system's trust store (the URL sets no sslrootcert)".to_string(),
    };
    let host = match target.config.get_hosts().first() {
        Some(Host::Tcp(name)) => name.clone(),
        _ => "the server".to_string(),
    };
    use rustls::CertificateError as C;
    let text = match rustls_error {
        rustls::Error::InvalidCertificate(problem) => match problem {
            C::UnknownIssuer | C::BadSignature => format!(
                "TLS: the server's certificate is not signed by a CA in {roots} (sslmode={mode}); set sslrootcert=/path/to/ca.pem to the CA that signed it (for a managed database, the provider's CA bundle) with sslmode=verify-ca or verify-full, or use sslmode=require to encrypt without verifying the server"
            ),
            C::NotValidForName | C::NotValidForNameContext { .. } => format!(
                "TLS: the server's certificate is not valid for the host name {host} (sslmode=verify-full checks the name); connect with a host name the certificate names, or use sslmode=verify-ca to verify the chain against sslrootcert without the name"
            ),
            C::Expired | C::ExpiredContext { .. } => format!(
                "TLS: the server's certificate has expired (sslmode={mode}); renew it on the server, or check this machine's clock"
            ),
            C::NotValidYet | C::NotValidYetContext { .. } => format!(
                "TLS: the server's certificate is not valid yet (sslmode={mode}); check this machine's clock"
            ),
            other => format!(
                "TLS: the server's certificate failed verification ({other:?}, sslmode={mode}, roots: {roots}); check sslrootcert, or use sslmode=verify-ca or require"
            ),
        },
        other => format!(
            "TLS handshake failed ({other}, sslmode={mode}); use sslmode=disable only if the network is trusted"
        ),
    };
    crate::secrets::redact(&text)
}

/// One line a user can act on, from a driver error. Passwords never appear in driver errors,
/// but the result is redacted anyway (a server message may quote a connection string).
pub fn describe(err: &tokio_postgres::Error) -> String {
    use tokio_postgres::error::SqlState;
    let text = if let Some(db) = err.as_db_error() {
        let code = db.code();
        if *code == SqlState::INVALID_PASSWORD {
            "password authentication failed (check the user and password in the URL)".to_string()
        } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
            && (db.message().contains("no encryption") || db.message().contains("SSL off"))
        {
            "the server requires TLS (its pg_hba.conf has no entry for unencrypted connections) and the URL's sslmode=disable turned it off; add sslmode=require to the URL to encrypt, or sslmode=verify-full&sslrootcert=/path/to/ca.pem to encrypt and verify the server".to_string()
        } else if *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
            && db.message().contains("SSL encryption")
        {
            "the server refuses TLS connections for this user (its pg_hba.conf has no `hostssl` or `host` entry for it), and the URL's sslmode requires TLS; use sslmode=prefer or disable on a trusted network, or fix pg_hba.conf".to_string()
        } else if *code == SqlState::LOCK_NOT_AVAILABLE {
            format!(
                "{} (lock_timeout: the query waited for a lock another session holds)",
                db.message()
            )
        } else if *code == SqlState::INVALID_CATALOG_NAME {
            format!("{} (check the database name in the URL)", db.message())
        } else if *code == SqlState::QUERY_CANCELED {
            format!(
                "{} (statement_timeout or a cancel request ended the query)",
                db.message()
            )
        } else if *code == SqlState::TOO_MANY_CONNECTIONS {
            format!("{} (the server refuses new connections)", db.message())
        } else {
            format!("{} (SQLSTATE {})", db.message(), code.code())
        }
    } else {
        let mut text = err.to_string();
        // The underlying I/O error says what happened (refused, reset, unreachable).
        let mut source = std::error::Error::source(err);
        while let Some(inner) = source {
            text = format!("{text}: {inner}");
            source = inner.source();
        }
        if text.contains("server does not support TLS") {
            "the server does not accept TLS connections (its `ssl` setting is off), and the URL's sslmode (require, verify-ca or verify-full) needs TLS; turn ssl on in the server, or use sslmode=prefer or disable on a trusted network".to_string()
        } else if err.is_closed() || text.contains("connection closed") {
            format!("{text} (the server closed the connection: it stopped or restarted)")
        } else {
            text
        }
    };
    crate::secrets::redact(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(url: &str) -> Config {
        Config::from_str(url).unwrap()
    }

    #[test]
    fn the_shown_target_has_no_password() {
        let target = Target::parse(
            "postgres://app:hunter2-secret@db.internal:6432/shop",
            "stats_url",
        )
        .unwrap();
        assert_eq!(target.shown, "app@db.internal:6432/shop");
        let err = Target::parse("postgres://app:hunter2-secret@[bad", "stats_url")
            .err()
            .unwrap();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn tls_parameters_are_taken_out_of_urls_and_key_value_strings() {
        let split = split_tls_params(
            "postgres://app:p?w@db:5432/shop?sslmode=verify-full&sslrootcert=%2Ftmp%2Fca%20x.pem&connect_timeout=3",
        );
        assert_eq!(split.sslmode.as_deref(), Some("verify-full"));
        assert_eq!(split.sslrootcert.as_deref(), Some("/tmp/ca x.pem"));
        assert_eq!(
            split.rest,
            "postgres://app:p?w@db:5432/shop?connect_timeout=3"
        );
        let split = split_tls_params("postgresql://db/shop?sslmode=require");
        assert_eq!(split.rest, "postgresql://db/shop");
        assert_eq!(split.sslmode.as_deref(), Some("require"));

        let split = split_tls_params(
            "host=db user=app password='it\\'s \\ secret' sslmode = verify-ca sslrootcert='/a b/ca.pem' dbname=shop",
        );
        assert_eq!(split.sslmode.as_deref(), Some("verify-ca"));
        assert_eq!(split.sslrootcert.as_deref(), Some("/a b/ca.pem"));
        assert!(!split.rest.contains("ssl"), "{}", split.rest);
        assert_eq!(
            split.rest,
            "host=db user=app password='it\\'s \\ secret' dbname=shop"
        );
        assert!(Config::from_str(&split.rest).is_ok());
    }

    #[test]
    fn sslmode_follows_libpq() {
        let home = tempfile::tempdir().unwrap();
        let settings =
            |mode: Option<&str>, root: Option<&str>| tls_settings(mode, root, Some(home.path()));
        assert_eq!(settings(None, None).unwrap().mode, TlsMode::Prefer);
        assert_eq!(
            settings(Some("require"), None).unwrap().mode,
            TlsMode::Require
        );
        // require with a root certificate verifies the chain, as in libpq.
        assert_eq!(
            settings(Some("require"), Some("/ca.pem")).unwrap(),
            TlsSettings {
                mode: TlsMode::VerifyCa,
                roots: RootCerts::File(PathBuf::from("/ca.pem")),
            }
        );
        assert_eq!(
            settings(None, Some("system")).unwrap().mode,
            TlsMode::VerifyFull
        );
        assert!(settings(Some("require"), Some("system")).is_err());
        let err = settings(Some("verify-everything"), None).unwrap_err();
        assert!(err.contains("verify-full"), "{err}");
        // libpq's default root file.
        std::fs::create_dir_all(home.path().join(".postgresql")).unwrap();
        std::fs::write(home.path().join(".postgresql/root.crt"), "x").unwrap();
        let found = settings(Some("verify-full"), None).unwrap();
        assert_eq!(
            found.roots,
            RootCerts::File(home.path().join(".postgresql/root.crt"))
        );
        assert_eq!(
            settings(Some("require"), None).unwrap().mode,
            TlsMode::VerifyCa
        );
        // Parsed through Target: tokio-postgres never sees the values it does not know.
        let target = Target::parse_with_home(
            "postgres://app:pw@db/shop?sslmode=verify-full&sslrootcert=/ca.pem",
            "stats_url",
            None,
        )
        .unwrap();
        assert_eq!(target.config.get_ssl_mode(), SslMode::Require);
        assert_eq!(target.tls.mode, TlsMode::VerifyFull);
        let err = Target::parse_with_home(
            "postgres://app:hunter2-secret@db/shop?sslmode=bogus",
            "stats_url",
            None,
        )
        .err()
        .unwrap();
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn same_database_sees_through_loopback_names() {
        assert!(same_database(
            &config("postgres://a:x@localhost:5432/shop"),
            &config("postgres://b:y@127.0.0.1/shop"),
        ));
        assert!(!same_database(
            &config("postgres://a@127.0.0.1:5432/shop"),
            &config("postgres://a@127.0.0.1:5432/shop_scratch"),
        ));
        assert!(!same_database(
            &config("postgres://a@db1:5432/shop"),
            &config("postgres://a@db2:5432/shop"),
        ));
        assert!(!same_database(
            &config("postgres://a@db1:5432/shop"),
            &config("postgres://a@db1:5433/shop"),
        ));
    }
}
