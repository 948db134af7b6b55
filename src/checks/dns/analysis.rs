//! The check's decision: a pure function from what the servers answered to findings, so the
//! rules are tested without a network (`query` does the asking).

use super::rules::{
    EXPECT_MISMATCH, NOT_AUTHORITATIVE, RECORD_MISSING, SERVERS_DISAGREE, TTL_STILL_LOW,
    TTL_TOO_HIGH, UNRESOLVED,
};
use super::settings::{RecordSpec, Settings};
use crate::checks::CheckOutcome;
use crate::config::DnsPhase;
use crate::report::{Finding, Status};
use hickory_proto::rr::RecordType;
use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

/// One CNAME link: `owner` is an alias for `target`, published with `ttl`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub owner: String,
    pub ttl: u32,
    pub target: String,
}

/// The SOA fields that make the negative-caching TTL (RFC 2308 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NegativeTtl {
    pub soa_minimum: u32,
    pub soa_ttl: u32,
}

impl NegativeTtl {
    pub fn seconds(self) -> u32 {
        self.soa_minimum.min(self.soa_ttl)
    }
}

/// Where the chain of a record ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// The records of the asked type at `owner`; `ttl` is the RRset's (the largest if the
    /// server mixes TTLs); `values` normalised (see [`normalize_expected`]), sorted, unique.
    Records {
        owner: String,
        ttl: u32,
        values: Vec<String>,
    },
    /// NXDOMAIN (`nxdomain`) or NODATA at `owner`, with the zone's SOA when the server sent it.
    Missing {
        owner: String,
        nxdomain: bool,
        negative: Option<NegativeTtl>,
    },
}

/// What one server said about one record, CNAME chain followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolution {
    pub chain: Vec<Hop>,
    pub end: End,
    /// Every response on the way had the AA bit.
    pub authoritative: bool,
}

#[derive(Debug, Clone)]
pub struct ServerAnswer {
    /// `ns1.example.com (192.0.2.1:53)` or `127.0.0.1:5353`.
    pub server: String,
    /// `Err`: why there is no answer ("did not answer within 2 s (asked twice)").
    pub result: Result<Resolution, String>,
}

/// Everything learned about one configured record.
#[derive(Debug, Clone)]
pub struct Observation {
    /// Index into [`Settings::records`].
    pub record: usize,
    pub answers: Vec<ServerAnswer>,
    /// Set when there was no server to ask (no authoritative server found or resolvable).
    pub error: Option<String>,
}

/// The SOA serial each server reported for one zone.
#[derive(Debug, Clone)]
pub struct ZoneSerials {
    pub zone: String,
    pub serials: Vec<(String, u32)>,
}

#[derive(Debug, Clone, Default)]
pub struct Collected {
    pub observations: Vec<Observation>,
    pub zones: Vec<ZoneSerials>,
}

/// The findings and the summary for everything collected.
pub fn outcome(settings: &Settings, collected: &Collected) -> CheckOutcome {
    if settings.records.is_empty() {
        return CheckOutcome::skip("no records under checks.dns.records");
    }
    let mut findings = Vec::new();
    let mut unresolved: Vec<String> = Vec::new();
    // server → records it answered without AA, reported once per server.
    let mut not_authoritative: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    let mut longest: Option<(u32, String)> = None;
    let mut servers: BTreeSet<&str> = BTreeSet::new();

    for observation in &collected.observations {
        let Some(spec) = settings.records.get(observation.record) else {
            continue;
        };
        let at = |finding: Finding| match &spec.location {
            Some(location) => finding.at(location.clone()),
            None => finding,
        };
        if let Some(error) = &observation.error {
            let message = format!("{}: {error}", spec.label());
            unresolved.push(message.clone());
            findings.push(at(UNRESOLVED.finding(message)));
        }
        let mut answered = Vec::new();
        for answer in &observation.answers {
            servers.insert(&answer.server);
            match &answer.result {
                Err(reason) => {
                    let message = format!("{} on {}: {reason}", spec.label(), answer.server);
                    unresolved.push(message.clone());
                    findings.push(at(UNRESOLVED.finding(message)));
                }
                Ok(resolution) => {
                    if !resolution.authoritative {
                        not_authoritative
                            .entry(&answer.server)
                            .or_default()
                            .push(spec.label());
                    }
                    answered.push((answer.server.as_str(), resolution));
                }
            }
        }
        for finding in record_findings(settings, spec, &answered) {
            findings.push(at(finding));
        }
        if let Some((ttl, _)) = worst_ttl(&answered)
            && longest.as_ref().is_none_or(|(t, _)| ttl > *t)
        {
            longest = Some((ttl, spec.label()));
        }
    }
    for (server, labels) in not_authoritative {
        findings.push(
            NOT_AUTHORITATIVE
                .finding(format!(
                    "{server} answered {} without the AA bit: it is not authoritative, so its TTLs may be a cache's countdown, not the published values",
                    labels.join(", ")
                ))
                .with_fix("leave dns.nameservers unset, or list the zone's authoritative servers"),
        );
    }
    for zone in &collected.zones {
        if let Some(finding) = serial_disagreement(zone) {
            findings.push(finding);
        }
    }

    let summary = summary(settings, servers.len(), longest.as_ref(), &unresolved);
    CheckOutcome {
        // "I'm not sure" is a no-go: one record gonogo could not resolve makes the check error.
        status: (!unresolved.is_empty()).then_some(Status::Error),
        summary,
        findings,
    }
}

fn summary(
    settings: &Settings,
    servers: usize,
    longest: Option<&(u32, String)>,
    unresolved: &[String],
) -> String {
    if let Some(first) = unresolved.first() {
        let more = match unresolved.len() {
            1 => String::new(),
            n => format!(" (and {} more)", n - 1),
        };
        return format!("could not decide: {first}{more}");
    }
    let records = settings.records.len();
    let phase = match settings.phase {
        DnsPhase::BeforeCutover => "before-cutover",
        DnsPhase::AfterCutover => "after-cutover",
    };
    let mut text = format!(
        "{records} record{} asked of {servers} authoritative server{} ({phase}, max_ttl {} s)",
        plural(records),
        plural(servers),
        settings.max_ttl
    );
    if let Some((ttl, label)) = longest {
        text.push_str(&format!(": longest TTL {ttl} s ({label})"));
    }
    text
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The rules for one record over the servers that answered it.
fn record_findings(
    settings: &Settings,
    spec: &RecordSpec,
    answered: &[(&str, &Resolution)],
) -> Vec<Finding> {
    let mut findings = Vec::new();
    if let Some(finding) = answer_disagreement(spec, answered) {
        findings.push(finding);
    }
    if let Some(finding) = missing(spec, answered) {
        findings.push(finding);
    }
    let Some((ttl, (server, resolution))) = worst_ttl(answered) else {
        return findings;
    };
    match settings.phase {
        DnsPhase::BeforeCutover if ttl > settings.max_ttl => {
            findings.push(ttl_too_high(settings, spec, ttl, server, resolution));
        }
        DnsPhase::AfterCutover => {
            if ttl <= settings.max_ttl {
                findings.push(
                    TTL_STILL_LOW
                        .finding(format!(
                            "{} still has TTL {ttl} s (at or under max_ttl {} s) after the cutover: raise it again once the new environment is confirmed",
                            spec.label(),
                            settings.max_ttl
                        ))
                        .with_evidence(format!("{server}: {}", describe(resolution)))
                        .with_fix("raise the TTL (e.g. to 3600 s) now that the switch is done"),
                );
            }
        }
        DnsPhase::BeforeCutover => {}
    }
    // `expect` holds in the phase the config names: before the cutover, what the record must
    // still point at (a record switched early, or into the wrong place, is worth knowing);
    // after it, where it must point now.
    findings.extend(expect_mismatches(settings.phase, spec, answered));
    findings
}

fn ttl_too_high(
    settings: &Settings,
    spec: &RecordSpec,
    ttl: u32,
    server: &str,
    resolution: &Resolution,
) -> Finding {
    let via = if resolution.chain.is_empty() {
        String::new()
    } else {
        format!(
            " (the longest in its CNAME chain: {})",
            describe(resolution)
        )
    };
    TTL_TOO_HIGH
        .finding(format!(
            "{} has TTL {ttl} s{via} (max {} s): lower it at least {} before the cutover, caches keep answers that long",
            spec.label(),
            settings.max_ttl,
            human_duration(ttl)
        ))
        .with_evidence(format!("{server}: {}", describe(resolution)))
        .with_fix(format!(
            "lower the TTL to {} s or less now, then wait {} (the old TTL) before switching",
            settings.max_ttl,
            human_duration(ttl)
        ))
}

/// The TTL that governs staleness of one answer: the longest in the chain, since a resolver
/// may hold any link of it that long.
pub fn governing_ttl(resolution: &Resolution) -> Option<u32> {
    let End::Records { ttl, .. } = &resolution.end else {
        return None;
    };
    Some(
        resolution
            .chain
            .iter()
            .map(|hop| hop.ttl)
            .fold(*ttl, u32::max),
    )
}

/// The answer with the longest governing TTL: a resolver may ask any server, so the worst
/// one counts.
fn worst_ttl<'a>(
    answered: &'a [(&'a str, &'a Resolution)],
) -> Option<(u32, (&'a str, &'a Resolution))> {
    answered
        .iter()
        .filter_map(|(server, resolution)| {
            governing_ttl(resolution).map(|ttl| (ttl, (*server, *resolution)))
        })
        .max_by_key(|(ttl, _)| *ttl)
}

fn answer_disagreement(spec: &RecordSpec, answered: &[(&str, &Resolution)]) -> Option<Finding> {
    let mut groups: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (server, resolution) in answered {
        groups.entry(describe(resolution)).or_default().push(server);
    }
    if groups.len() < 2 {
        return None;
    }
    let said = groups
        .iter()
        .map(|(answer, servers)| {
            let verb = if servers.len() == 1 { "says" } else { "say" };
            format!("{} {verb} {answer}", servers.join(", "))
        })
        .collect::<Vec<_>>()
        .join("; ");
    Some(
        SERVERS_DISAGREE
            .finding(format!(
                "the authoritative servers disagree on {}: {said}",
                spec.label()
            ))
            .with_fix("make every authoritative server serve the same zone (check zone transfers / NOTIFY) before the cutover"),
    )
}

fn serial_disagreement(zone: &ZoneSerials) -> Option<Finding> {
    let distinct: BTreeSet<u32> = zone.serials.iter().map(|(_, serial)| *serial).collect();
    if distinct.len() < 2 {
        return None;
    }
    let list = zone
        .serials
        .iter()
        .map(|(server, serial)| format!("{serial} on {server}"))
        .collect::<Vec<_>>()
        .join(", ");
    Some(
        SERVERS_DISAGREE
            .finding(format!(
                "the SOA serial of {} differs between its authoritative servers: {list}",
                zone.zone
            ))
            .with_fix("a secondary is behind: check zone transfers (NOTIFY, AXFR/IXFR allowed) and wait until every server has the newest serial"),
    )
}

fn missing(spec: &RecordSpec, answered: &[(&str, &Resolution)]) -> Option<Finding> {
    if !spec.must_exist && spec.expect.is_empty() {
        return None;
    }
    let missing: Vec<(&str, &Resolution)> = answered
        .iter()
        .filter(|(_, r)| matches!(r.end, End::Missing { .. }))
        .copied()
        .collect();
    let (_, first) = missing.first()?;
    let End::Missing {
        owner,
        nxdomain,
        negative,
    } = &first.end
    else {
        return None;
    };
    let servers = missing
        .iter()
        .map(|(server, _)| *server)
        .collect::<Vec<_>>()
        .join(", ");
    let kind = if *nxdomain {
        "does not exist (NXDOMAIN)".to_string()
    } else {
        format!("has no {} record (NODATA)", spec.record_type)
    };
    let what = if first.chain.is_empty() {
        format!("{} {kind}", spec.label())
    } else {
        format!(
            "{}: its CNAME chain ({}) ends at {owner}, which {kind}",
            spec.label(),
            describe(first)
        )
    };
    let mut finding = match negative {
        Some(negative) => {
            let seconds = negative.seconds();
            RECORD_MISSING
                .finding(format!(
                    "{what} on {servers}: resolvers that ask now cache that for {seconds} s (negative-caching TTL: min(SOA minimum {} s, SOA TTL {} s))",
                    negative.soa_minimum, negative.soa_ttl
                ))
                .with_fix(format!(
                    "create the record at least {} before anyone needs it, or lower the SOA minimum ahead of time",
                    human_duration(seconds)
                ))
        }
        None => RECORD_MISSING
            .finding(format!(
                "{what} on {servers} (the server sent no SOA, so the negative-caching time is unknown)"
            ))
            .with_fix("create the record well before the cutover"),
    };
    if missing.len() < answered.len() {
        finding = finding.with_evidence("other servers answered it: see dns/servers-disagree");
    }
    Some(finding)
}

fn expect_mismatches(
    phase: DnsPhase,
    spec: &RecordSpec,
    answered: &[(&str, &Resolution)],
) -> Vec<Finding> {
    if spec.expect.is_empty() {
        return Vec::new();
    }
    let expected: BTreeSet<String> = spec
        .expect
        .iter()
        .map(|value| normalize_expected(value, spec.record_type))
        .collect();
    // Servers with the same wrong answer share one finding.
    let mut wrong: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for (server, resolution) in answered {
        let End::Records { values, .. } = &resolution.end else {
            continue; // a missing record is dns/record-missing's
        };
        if !matches_expected(&expected, resolution) {
            wrong.entry(values.join(", ")).or_default().push(server);
        }
    }
    let expected_list = expected.iter().cloned().collect::<Vec<_>>().join(", ");
    let (meaning, fix) = match phase {
        DnsPhase::BeforeCutover => (
            "before the cutover it should still point there (`expect` holds in the configured phase, before-cutover): it was switched early, or somewhere else — if these are the new side's values, set `phase: after-cutover` once the switch is done",
            "find out who changed the record before the cutover; or, if `expect` lists the new side, use it with `phase: after-cutover`",
        ),
        DnsPhase::AfterCutover => (
            "it still points at the old environment (or somewhere else)",
            "repoint the record, and keep the old environment up for the old TTL after the change",
        ),
    };
    wrong
        .into_iter()
        .map(|(got, servers)| {
            EXPECT_MISMATCH
                .finding(format!(
                    "{} resolves to {got} on {}, expected {expected_list}: {meaning}",
                    spec.label(),
                    servers.join(", ")
                ))
                .with_evidence(format!("expected: {expected_list}; got: {got}"))
                .with_fix(fix)
        })
        .collect()
}

/// The answer's values are exactly the expected ones, or every expected value is a name in
/// the CNAME chain (`expect: [lb.green.example.net]` for an alias).
fn matches_expected(expected: &BTreeSet<String>, resolution: &Resolution) -> bool {
    let End::Records { values, .. } = &resolution.end else {
        return false;
    };
    let got: BTreeSet<String> = values.iter().cloned().collect();
    if &got == expected {
        return true;
    }
    let targets: BTreeSet<&str> = resolution
        .chain
        .iter()
        .map(|hop| hop.target.as_str())
        .collect();
    !expected.is_empty() && expected.iter().all(|e| targets.contains(e.as_str()))
}

/// An expected value written by a person, in the form the I/O layer gives answers: addresses
/// canonical, names lower case without the trailing dot, TXT without surrounding quotes.
pub fn normalize_expected(value: &str, record_type: RecordType) -> String {
    let value = value.trim();
    if let Ok(ip) = value.parse::<IpAddr>() {
        return ip.to_string();
    }
    match record_type {
        RecordType::TXT => value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value)
            .to_string(),
        _ => value
            .split_whitespace()
            .map(|part| {
                let lower = part.to_ascii_lowercase();
                match lower.strip_suffix('.') {
                    Some(stripped) if !stripped.is_empty() => stripped.to_string(),
                    _ => lower,
                }
            })
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// `www.example.com CNAME lb.example.net (60 s) → 203.0.113.10 (3600 s)`: the chain as one line,
/// also the key that tells whether two servers gave the same answer.
pub fn describe(resolution: &Resolution) -> String {
    let mut text = String::new();
    for hop in &resolution.chain {
        text.push_str(&format!(
            "{} CNAME {} ({} s) → ",
            hop.owner, hop.target, hop.ttl
        ));
    }
    match &resolution.end {
        End::Records { values, ttl, .. } => {
            text.push_str(&format!("{} (TTL {ttl} s)", values.join(", ")));
        }
        End::Missing {
            owner, nxdomain, ..
        } => {
            let what = if *nxdomain { "NXDOMAIN" } else { "NODATA" };
            text.push_str(&format!("{owner} {what}"));
        }
    }
    text
}

/// `45 s`, `5 min`, `1 h`, `1 h 30 min`, `2 d`: how long before the cutover to act.
pub fn human_duration(seconds: u32) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
        seconds % 60,
    );
    let parts = [(d, "d"), (h, "h"), (m, "min"), (s, "s")];
    let first = parts.iter().position(|(n, _)| *n > 0);
    match first {
        None => "0 s".to_string(),
        Some(i) => parts[i..]
            .iter()
            .take(2)
            .filter(|(n, _)| *n > 0)
            .map(|(n, unit)| format!("{n} {unit}"))
            .collect::<Vec<_>>()
            .join(" "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::dns::settings::{RecordSpec, parse_name};
    use crate::report::Severity;
    use std::time::Duration;

    fn settings(phase: DnsPhase, records: Vec<RecordSpec>) -> Settings {
        Settings {
            phase,
            max_ttl: 300,
            timeout: Duration::from_secs(2),
            nameservers: Vec::new(),
            records,
        }
    }

    fn spec(name: &str, expect: &[&str]) -> RecordSpec {
        RecordSpec {
            name: parse_name(name).unwrap(),
            record_type: RecordType::A,
            expect: expect.iter().map(|e| e.to_string()).collect(),
            must_exist: true,
            location: None,
        }
    }

    fn records(owner: &str, ttl: u32, values: &[&str]) -> Resolution {
        Resolution {
            chain: Vec::new(),
            end: End::Records {
                owner: owner.to_string(),
                ttl,
                values: values.iter().map(|v| v.to_string()).collect(),
            },
            authoritative: true,
        }
    }

    fn observed(answers: Vec<(&str, Result<Resolution, String>)>) -> Collected {
        Collected {
            observations: vec![Observation {
                record: 0,
                answers: answers
                    .into_iter()
                    .map(|(server, result)| ServerAnswer {
                        server: server.to_string(),
                        result,
                    })
                    .collect(),
                error: None,
            }],
            zones: Vec::new(),
        }
    }

    fn rules(outcome: &CheckOutcome) -> Vec<&str> {
        outcome.findings.iter().map(|f| f.rule.as_str()).collect()
    }

    #[test]
    fn high_ttl_before_cutover_fails_with_the_lead_time() {
        let s = settings(DnsPhase::BeforeCutover, vec![spec("api.example.com", &[])]);
        let out = outcome(
            &s,
            &observed(vec![(
                "ns1",
                Ok(records("api.example.com", 3600, &["198.51.100.7"])),
            )]),
        );
        assert_eq!(rules(&out), ["dns/ttl-too-high"]);
        assert_eq!(
            out.findings[0].message,
            "api.example.com A has TTL 3600 s (max 300 s): lower it at least 1 h before the cutover, caches keep answers that long"
        );
        assert_eq!(out.status, None);
    }

    /// `expect` is never ignored: before the cutover it is what the record must still point at.
    #[test]
    fn expect_holds_before_the_cutover_too() {
        let s = settings(
            DnsPhase::BeforeCutover,
            vec![spec("api.example.com", &["198.51.100.7"])],
        );
        let still_old = observed(vec![(
            "ns1",
            Ok(records("api.example.com", 60, &["198.51.100.7"])),
        )]);
        assert_eq!(rules(&outcome(&s, &still_old)), Vec::<&str>::new());
        let switched_early = observed(vec![(
            "ns1",
            Ok(records("api.example.com", 60, &["203.0.113.10"])),
        )]);
        let out = outcome(&s, &switched_early);
        assert_eq!(rules(&out), ["dns/expect-mismatch"]);
        assert_eq!(
            out.findings[0].message,
            "api.example.com A resolves to 203.0.113.10 on ns1, expected 198.51.100.7: before the cutover it should still point there (`expect` holds in the configured phase, before-cutover): it was switched early, or somewhere else — if these are the new side's values, set `phase: after-cutover` once the switch is done"
        );
    }

    #[test]
    fn the_longest_ttl_in_a_cname_chain_governs() {
        let mut resolution = records("lb.example.net", 60, &["203.0.113.10"]);
        resolution.chain.push(Hop {
            owner: "www.example.com".into(),
            ttl: 7200,
            target: "lb.example.net".into(),
        });
        assert_eq!(governing_ttl(&resolution), Some(7200));
        let s = settings(DnsPhase::BeforeCutover, vec![spec("www.example.com", &[])]);
        let out = outcome(&s, &observed(vec![("ns1", Ok(resolution))]));
        assert!(out.findings[0].message.contains("TTL 7200 s (the longest"));
        assert!(out.findings[0].message.contains("at least 2 h before"));
    }

    #[test]
    fn low_ttl_after_cutover_warns_and_a_wrong_answer_fails() {
        let s = settings(
            DnsPhase::AfterCutover,
            vec![spec("api.example.com", &["203.0.113.10"])],
        );
        let out = outcome(
            &s,
            &observed(vec![(
                "ns1",
                Ok(records("api.example.com", 60, &["198.51.100.7"])),
            )]),
        );
        assert_eq!(rules(&out), ["dns/ttl-still-low", "dns/expect-mismatch"]);
        assert!(out.findings[1].message.contains("198.51.100.7"));
        assert!(out.findings[1].message.contains("expected 203.0.113.10"));
    }

    #[test]
    fn expect_matches_addresses_and_cname_targets() {
        let expected: BTreeSet<String> = ["lb.green.example.net".to_string()].into();
        let mut resolution = records("lb.green.example.net", 60, &["203.0.113.10"]);
        resolution.chain.push(Hop {
            owner: "www.example.com".into(),
            ttl: 60,
            target: "lb.green.example.net".into(),
        });
        assert!(matches_expected(&expected, &resolution));
        assert_eq!(
            normalize_expected("LB.Green.Example.NET.", RecordType::CNAME),
            "lb.green.example.net"
        );
        assert_eq!(
            normalize_expected("2001:DB8::1", RecordType::AAAA),
            "2001:db8::1"
        );
        assert_eq!(
            normalize_expected("\"v=spf1 -all\"", RecordType::TXT),
            "v=spf1 -all"
        );
    }

    #[test]
    fn servers_that_disagree_warn_with_both_answers() {
        let s = settings(DnsPhase::BeforeCutover, vec![spec("api.example.com", &[])]);
        let out = outcome(
            &s,
            &observed(vec![
                ("ns1", Ok(records("api.example.com", 60, &["203.0.113.10"]))),
                ("ns2", Ok(records("api.example.com", 60, &["198.51.100.7"]))),
            ]),
        );
        assert_eq!(rules(&out), ["dns/servers-disagree"]);
        assert_eq!(out.findings[0].severity, Severity::Warn);
        let message = &out.findings[0].message;
        assert!(message.contains("ns1 says 203.0.113.10"), "{message}");
        assert!(message.contains("ns2 says 198.51.100.7"), "{message}");
    }

    #[test]
    fn differing_serials_warn() {
        let zone = ZoneSerials {
            zone: "example.com".into(),
            serials: vec![("ns1".into(), 2), ("ns2".into(), 1)],
        };
        let finding = serial_disagreement(&zone).unwrap();
        assert!(finding.message.contains("2 on ns1, 1 on ns2"));
        let same = ZoneSerials {
            zone: "example.com".into(),
            serials: vec![("ns1".into(), 2), ("ns2".into(), 2)],
        };
        assert!(serial_disagreement(&same).is_none());
    }

    #[test]
    fn nxdomain_fails_with_the_negative_ttl() {
        let s = settings(
            DnsPhase::BeforeCutover,
            vec![spec("green.example.com", &[])],
        );
        let missing = Resolution {
            chain: Vec::new(),
            end: End::Missing {
                owner: "green.example.com".into(),
                nxdomain: true,
                negative: Some(NegativeTtl {
                    soa_minimum: 600,
                    soa_ttl: 3600,
                }),
            },
            authoritative: true,
        };
        let out = outcome(&s, &observed(vec![("ns1", Ok(missing.clone()))]));
        assert_eq!(rules(&out), ["dns/record-missing"]);
        assert!(out.findings[0].message.contains("NXDOMAIN"));
        assert!(out.findings[0].message.contains("cache that for 600 s"));

        let mut optional = spec("green.example.com", &[]);
        optional.must_exist = false;
        let s = settings(DnsPhase::BeforeCutover, vec![optional]);
        assert!(
            outcome(&s, &observed(vec![("ns1", Ok(missing))]))
                .findings
                .is_empty()
        );
    }

    #[test]
    fn an_unanswered_query_makes_the_check_error() {
        let s = settings(DnsPhase::BeforeCutover, vec![spec("api.example.com", &[])]);
        let out = outcome(
            &s,
            &observed(vec![(
                "127.0.0.1:9",
                Err("did not answer within 2 s (asked twice)".into()),
            )]),
        );
        assert_eq!(out.status, Some(Status::Error));
        assert_eq!(rules(&out), ["dns/unresolved"]);
        assert!(out.summary.contains("127.0.0.1:9: did not answer"));
    }

    #[test]
    fn cached_answers_are_flagged_once_per_server() {
        let s = settings(
            DnsPhase::BeforeCutover,
            vec![spec("a.example.com", &[]), spec("b.example.com", &[])],
        );
        let mut cached = records("a.example.com", 60, &["192.0.2.1"]);
        cached.authoritative = false;
        let mut collected = observed(vec![("1.1.1.1:53", Ok(cached.clone()))]);
        collected.observations.push(Observation {
            record: 1,
            answers: vec![ServerAnswer {
                server: "1.1.1.1:53".into(),
                result: Ok(cached),
            }],
            error: None,
        });
        let out = outcome(&s, &collected);
        assert_eq!(rules(&out), ["dns/not-authoritative"]);
        assert!(
            out.findings[0]
                .message
                .contains("a.example.com A, b.example.com A")
        );
    }

    #[test]
    fn durations_read_like_a_person_wrote_them() {
        assert_eq!(human_duration(45), "45 s");
        assert_eq!(human_duration(300), "5 min");
        assert_eq!(human_duration(3600), "1 h");
        assert_eq!(human_duration(5400), "1 h 30 min");
        assert_eq!(human_duration(86_400 * 2 + 60), "2 d");
        assert_eq!(human_duration(0), "0 s");
    }
}
