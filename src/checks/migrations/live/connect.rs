//! Connections to the user's databases: read-only for statistics, time-bounded for everything,
//! and errors turned into one clear reason that never contains a password.

use std::str::FromStr;
use std::time::Duration;
use tokio_postgres::config::Host;
use tokio_postgres::{Client, Config, NoTls};

/// Longest wait for a TCP connection and the server's greeting.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Every catalog query gonogo sends is small; one that takes longer is a sick server.
pub const STATS_STATEMENT_TIMEOUT_MS: u64 = 5_000;

/// A parsed connection URL, with what messages may show of it.
pub struct Target {
    pub config: Config,
    /// `app@db.internal:5432/shop`: no password, ever.
    pub shown: String,
}

impl Target {
    /// Parse a `postgres://` URL or `key=value` string. The error never repeats the input (it
    /// may hold a password).
    pub fn parse(url: &str, role: &str) -> Result<Target, String> {
        let mut config = Config::from_str(url).map_err(|_| {
            format!("{role} is not a valid PostgreSQL connection URL (expected postgres://user:password@host:port/database)")
        })?;
        if config.get_hosts().is_empty() {
            return Err(format!(
                "{role} names no host (expected postgres://user:password@host:port/database)"
            ));
        }
        config.connect_timeout(CONNECT_TIMEOUT);
        config.application_name("gonogo");
        let shown = shown(&config);
        Ok(Target { config, shown })
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
/// the cluster's system identifier when the role may read it, else the server's address and
/// port, plus the database name.
pub async fn server_identity(client: &Client) -> Result<String, String> {
    let row = client
        .query_one(
            "SELECT coalesce((SELECT system_identifier::text FROM pg_control_system()),
                             coalesce(host(inet_server_addr()), 'local') || ':' || coalesce(inet_server_port()::text, current_setting('port')))
                    || '/' || current_database()",
            &[],
        )
        .await;
    match row {
        Ok(row) => Ok(row.get::<_, String>(0)),
        // pg_control_system() may be revoked for the role: fall back on the address.
        Err(_) => client
            .query_one(
                "SELECT coalesce(host(inet_server_addr()), 'local') || ':' || current_setting('port') || '/' || current_database()",
                &[],
            )
            .await
            .map(|row| row.get::<_, String>(0))
            .map_err(|e| describe(&e)),
    }
}

/// Connect and drive the connection on the runtime. `startup` are `-c name=value` options set
/// for the whole session before the first query.
pub async fn connect(
    target: &Target,
    role: &str,
    startup: &[(&str, String)],
) -> Result<Client, String> {
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
    let attempt = tokio::time::timeout(CONNECT_TIMEOUT + Duration::from_secs(1), async {
        config.connect(NoTls).await
    })
    .await;
    let (client, connection) = match attempt {
        Ok(Ok(pair)) => pair,
        Ok(Err(err)) => {
            return Err(format!(
                "cannot connect to {role} ({}): {}",
                target.shown,
                describe(&err)
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
    Ok(client)
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
            && db.message().contains("no encryption")
        {
            "the server requires TLS (its pg_hba.conf has no entry for unencrypted connections), and gonogo connects without TLS; use a URL that reaches the server without TLS (a replica on a private network, an SSH tunnel) or a pg_hba.conf `host` entry for gonogo's address".to_string()
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
        if text.contains("TLS") || text.contains("tls") {
            format!(
                "{text} (the URL asks for TLS, which gonogo does not support yet; use sslmode=disable or prefer on a trusted network)"
            )
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
