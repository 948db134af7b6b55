//! `checks.dns` turned into what the check works with: parsed names and types, seconds, the
//! record's line in gonogo.yaml. Pure, so a bad value is reported before any query is sent.

use crate::config::{DnsConfig, DnsPhase, DnsRecordConfig};
use crate::report::Location;
use hickory_proto::rr::{Name, RecordType};
use std::str::FromStr;
use std::time::Duration;

/// `max_ttl` when the config does not say: five minutes is the usual "lowered for a switch".
pub const DEFAULT_MAX_TTL: u32 = 300;
/// One query to one server, retransmission included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

#[derive(Debug, Clone)]
pub struct Settings {
    pub phase: DnsPhase,
    pub max_ttl: u32,
    pub timeout: Duration,
    /// `dns.nameservers` as written (`IP`, `IP:port`, `[v6]:port`, `host`, `host:port`); empty:
    /// find each zone's authoritative servers.
    pub nameservers: Vec<String>,
    pub records: Vec<RecordSpec>,
}

#[derive(Debug, Clone)]
pub struct RecordSpec {
    /// Fully qualified (trailing dot), as it is asked.
    pub name: Name,
    pub record_type: RecordType,
    pub expect: Vec<String>,
    pub must_exist: bool,
    /// The record's line in gonogo.yaml, when the config came from a file.
    pub location: Option<Location>,
}

impl RecordSpec {
    /// `api.example.com A`: how messages name the record.
    pub fn label(&self) -> String {
        format!("{} {}", display_name(&self.name), self.record_type)
    }
}

/// A name as people write it: no trailing dot, lower case.
pub fn display_name(name: &Name) -> String {
    let text = name.to_lowercase().to_utf8();
    match text.strip_suffix('.') {
        Some(stripped) if !stripped.is_empty() => stripped.to_string(),
        _ => text,
    }
}

impl Settings {
    /// `config_path` is the config file as shown in reports, for the records' locations.
    pub fn from_config(config: &DnsConfig, config_path: Option<&str>) -> Result<Settings, String> {
        let max_ttl = match &config.max_ttl {
            Some(value) => u32::try_from(value.0.as_secs())
                .map_err(|_| "checks.dns.max_ttl is larger than a DNS TTL can be".to_string())?,
            None => DEFAULT_MAX_TTL,
        };
        let timeout = match &config.timeout {
            Some(value) if value.0.is_zero() => {
                return Err("checks.dns.timeout must be longer than 0s".to_string());
            }
            Some(value) => value.0,
            None => DEFAULT_TIMEOUT,
        };
        let records = config
            .records
            .iter()
            .map(|record| record_spec(record, config_path))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Settings {
            phase: config.phase.unwrap_or(DnsPhase::BeforeCutover),
            max_ttl,
            timeout,
            nameservers: config
                .nameservers
                .iter()
                .map(|s| s.value.trim().to_string())
                .collect(),
            records,
        })
    }
}

fn record_spec(record: &DnsRecordConfig, config_path: Option<&str>) -> Result<RecordSpec, String> {
    let at = &record.name.referenced;
    let line = at.line();
    let place = match config_path {
        Some(path) => format!("{path}:{line}"),
        None => format!("line {line}"),
    };
    let name = parse_name(&record.name.value)
        .map_err(|reason| format!("checks.dns.records at {place}: {reason}"))?;
    let record_type = parse_type(record.record_type.as_deref().unwrap_or("A"))
        .map_err(|reason| format!("checks.dns.records at {place}: {reason}"))?;
    Ok(RecordSpec {
        name,
        record_type,
        expect: record.expect.iter().map(|e| e.trim().to_string()).collect(),
        must_exist: record.must_exist.unwrap_or(true),
        location: config_path.map(|path| {
            Location::new(
                path,
                u32::try_from(line).unwrap_or(u32::MAX),
                u32::try_from(at.column()).unwrap_or(u32::MAX),
            )
        }),
    })
}

/// A record name, made fully qualified: config names are always absolute (no search domains).
pub fn parse_name(text: &str) -> Result<Name, String> {
    let text = text.trim();
    if text.is_empty() || text == "." {
        return Err("the record name is empty".to_string());
    }
    let mut name =
        Name::from_utf8(text).map_err(|e| format!("`{text}` is not a valid DNS name: {e}"))?;
    name.set_fqdn(true);
    Ok(name)
}

/// `A`, `aaaa`, `CNAME`, `TXT`, `MX`, …; query-only types (ANY, AXFR) are refused.
pub fn parse_type(text: &str) -> Result<RecordType, String> {
    let upper = text.trim().to_ascii_uppercase();
    let unknown = || {
        format!(
            "unknown record type `{text}`; use A, AAAA, CNAME, TXT, MX, NS, SRV, CAA or another RR type"
        )
    };
    let record_type = RecordType::from_str(&upper).map_err(|_| unknown())?;
    match record_type {
        RecordType::Unknown(_) => Err(unknown()),
        RecordType::ANY | RecordType::AXFR | RecordType::IXFR | RecordType::OPT => Err(format!(
            "`{text}` is a query type, not a record a cutover moves; name the record's type (A, AAAA, CNAME, …)"
        )),
        other => Ok(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_fully_qualified_and_display_without_the_dot() {
        let name = parse_name("API.Example.com").unwrap();
        assert!(name.is_fqdn());
        assert_eq!(display_name(&name), "api.example.com");
        assert!(parse_name("  ").is_err());
        assert!(parse_name("a..b").is_err());
    }

    #[test]
    fn types_parse_case_insensitively_and_query_types_are_refused() {
        assert_eq!(parse_type("aaaa").unwrap(), RecordType::AAAA);
        assert_eq!(parse_type("MX").unwrap(), RecordType::MX);
        assert!(
            parse_type("AAAAA")
                .unwrap_err()
                .contains("unknown record type")
        );
        assert!(parse_type("ANY").unwrap_err().contains("query type"));
    }
}
