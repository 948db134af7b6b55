//! The `dns` check end to end: the gonogo binary against real authoritative servers
//! (hickory-server on 127.0.0.1, zones under tests/fixtures/dns/), asked with `dns.nameservers`.
//! Each rule's finding is asserted with its message, and the timing of a dead server is bounded
//! so tightly that asking records one after another could not meet it.

use crate::common;
use crate::dns_lab;

use common::*;
use dns_lab::Lab;
use serde_json::Value;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn lab() -> &'static Lab {
    static LAB: OnceLock<Lab> = OnceLock::new();
    LAB.get_or_init(Lab::start)
}

/// A project whose gonogo.yaml has this `checks.dns` body (indented under `dns:`).
fn dns_project(body: &str) -> tempfile::TempDir {
    project(&[("gonogo.yaml", &format!("checks:\n  dns:\n{body}"))])
}

fn servers(addrs: &[std::net::SocketAddr]) -> String {
    let list = addrs
        .iter()
        .map(|a| format!("\"{a}\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!("    nameservers: [{list}]\n")
}

/// `gonogo check --only dns --format json`: the run and the dns check's result.
fn check_dns(dir: &std::path::Path, extra: &[&str]) -> (Run, Value) {
    common::check_only(dir, "dns", extra)
}

fn message(finding: &Value) -> &str {
    finding["message"].as_str().unwrap()
}

#[test]
fn a_high_ttl_before_the_cutover_fails_with_the_lead_time() {
    let lab = lab();
    let dir = dns_project(&format!(
        "    phase: before-cutover\n{}    records:\n      - {{name: api.example.test, type: A}}\n      - {{name: low.example.test}}\n",
        servers(&[lab.ns1])
    ));
    let (run, dns) = check_dns(dir.path(), &[]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert_eq!(dns["status"], "fail", "{dns}");
    let high = findings(&dns, "dns/ttl-too-high");
    assert_eq!(high.len(), 1, "{dns}");
    assert_eq!(
        message(high[0]),
        "api.example.test A has TTL 3600 s (max 300 s): lower it at least 1 h before the cutover, caches keep answers that long"
    );
    assert_eq!(high[0]["severity"], "fail");
    // The finding points at the record's line in gonogo.yaml.
    assert_eq!(high[0]["location"]["path"], "gonogo.yaml");
    assert_eq!(high[0]["location"]["line"], 6);
    // low.example.test (60 s) passes; only api is reported.
    assert_eq!(dns["findings"].as_array().unwrap().len(), 1, "{dns}");
    assert!(
        dns["summary"]
            .as_str()
            .unwrap()
            .contains("longest TTL 3600 s (api.example.test A)"),
        "{dns}"
    );
}

#[test]
fn the_longest_ttl_in_a_cname_chain_governs_even_across_zones() {
    let lab = lab();
    // www (CNAME, 60 s) → lb (CNAME, 1800 s) → edge.cdn.test (A, 120 s, another zone).
    let dir = dns_project(&format!(
        "{}    records:\n      - {{name: www.example.test}}\n",
        servers(&[lab.ns1])
    ));
    let (_, dns) = check_dns(dir.path(), &[]);
    let high = findings(&dns, "dns/ttl-too-high");
    assert_eq!(high.len(), 1, "{dns}");
    let text = message(high[0]);
    assert!(
        text.starts_with("www.example.test A has TTL 1800 s (the longest in its CNAME chain"),
        "{text}"
    );
    assert!(
        text.contains("lower it at least 30 min before the cutover"),
        "{text}"
    );
    let evidence = high[0]["evidence"].as_str().unwrap();
    assert!(
        evidence.contains(
            "www.example.test CNAME lb.example.test (60 s) → lb.example.test CNAME edge.cdn.test (1800 s) → 203.0.113.20 (TTL 120 s)"
        ),
        "{evidence}"
    );
}

#[test]
fn after_the_cutover_low_ttls_warn_and_a_record_on_the_old_side_fails() {
    let lab = lab();
    let dir = dns_project(&format!(
        "    phase: after-cutover\n{}    records:\n      - {{name: low.example.test, expect: [\"203.0.113.10\"]}}\n      - {{name: api.example.test, expect: [\"203.0.113.10\"]}}\n      - {{name: txt.example.test, type: txt, expect: [\"\\\"v=spf1 -all\\\"\"]}}\n",
        servers(&[lab.ns1])
    ));
    let (run, dns) = check_dns(dir.path(), &[]);
    assert_eq!(run.code, 1);
    assert_eq!(dns["status"], "fail", "{dns}");
    let low = findings(&dns, "dns/ttl-still-low");
    let low_messages: Vec<&str> = low.iter().map(|f| message(f)).collect();
    // txt's 300 s is at max_ttl: also "still low".
    assert_eq!(low.len(), 2, "{low_messages:?}");
    assert!(low_messages.iter().any(|m| m.starts_with(
        "low.example.test A still has TTL 60 s (at or under max_ttl 300 s) after the cutover: raise it again"
    )), "{low_messages:?}");
    assert!(
        low_messages
            .iter()
            .any(|m| m.starts_with("txt.example.test TXT still has TTL 300 s"))
    );
    assert_eq!(low[0]["severity"], "warn");
    let mismatch = findings(&dns, "dns/expect-mismatch");
    assert_eq!(mismatch.len(), 1, "{dns}");
    assert_eq!(
        message(mismatch[0]),
        format!(
            "api.example.test A resolves to 198.51.100.7 on {}, expected 203.0.113.10: it still points at the old environment (or somewhere else)",
            lab.ns1
        )
    );
    assert_eq!(
        mismatch[0]["evidence"],
        "expected: 203.0.113.10; got: 198.51.100.7"
    );
}

#[test]
fn servers_that_disagree_warn_with_serials_and_answers() {
    let lab = lab();
    let dir = dns_project(&format!(
        "{}    records:\n      - {{name: low.example.test}}\n",
        servers(&[lab.ns1, lab.ns2])
    ));
    let (run, dns) = check_dns(dir.path(), &[]);
    assert_eq!(run.code, 0, "warnings alone are a go: {}", run.stderr);
    assert_eq!(dns["status"], "warn", "{dns}");
    let disagree = findings(&dns, "dns/servers-disagree");
    let texts: Vec<&str> = disagree.iter().map(|f| message(f)).collect();
    assert_eq!(disagree.len(), 2, "{texts:?}");
    assert!(texts.contains(&format!(
        "the authoritative servers disagree on low.example.test A: {} says 198.51.100.7 (TTL 60 s); {} says 203.0.113.10 (TTL 60 s)",
        lab.ns2, lab.ns1
    ).as_str()), "{texts:?}");
    // Serials are listed by server; the ports (and so their order) vary from run to run.
    let serials = texts
        .iter()
        .find(|t| {
            t.starts_with(
                "the SOA serial of example.test differs between its authoritative servers: ",
            )
        })
        .unwrap_or_else(|| panic!("{texts:?}"));
    assert!(
        serials.contains(&format!("2026112301 on {}", lab.ns1)),
        "{serials}"
    );
    assert!(
        serials.contains(&format!("2026112201 on {}", lab.ns2)),
        "{serials}"
    );
    // With --strict a warning blocks.
    let (strict, _) = check_dns(dir.path(), &["--strict"]);
    assert_eq!(strict.code, 1);
}

#[test]
fn a_missing_record_fails_with_the_negative_caching_ttl() {
    let lab = lab();
    let dir = dns_project(&format!(
        "{}    records:\n      - {{name: green.example.test}}\n      - {{name: staging.example.test, must_exist: false}}\n      - {{name: api.example.test, type: AAAA}}\n",
        servers(&[lab.ns1])
    ));
    let (run, dns) = check_dns(dir.path(), &[]);
    assert_eq!(run.code, 1);
    assert_eq!(dns["status"], "fail", "{dns}");
    let missing = findings(&dns, "dns/record-missing");
    let texts: Vec<&str> = missing.iter().map(|f| message(f)).collect();
    assert_eq!(missing.len(), 2, "{texts:?}"); // staging may be missing
    assert!(texts.contains(&format!(
        "green.example.test A does not exist (NXDOMAIN) on {}: resolvers that ask now cache that for 600 s (negative-caching TTL: min(SOA minimum 600 s, SOA TTL 3600 s))",
        lab.ns1
    ).as_str()), "{texts:?}");
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("api.example.test AAAA has no AAAA record (NODATA)")),
        "{texts:?}"
    );
    let fix = missing[0]["fix"].as_str().unwrap();
    assert!(fix.contains("at least 10 min before"), "{fix}");
}

#[test]
fn a_large_answer_is_asked_again_over_tcp() {
    let lab = lab();
    let dir = dns_project(&format!(
        "{}    records:\n      - {{name: big.example.test, type: TXT}}\n",
        servers(&[lab.ns1])
    ));
    let (run, dns) = check_dns(dir.path(), &[]);
    assert_eq!(dns["status"], "pass", "{dns}\n{}", run.stderr);
    assert!(
        dns["summary"]
            .as_str()
            .unwrap()
            .contains("longest TTL 300 s"),
        "{dns}"
    );
}

#[test]
fn a_server_that_never_answers_is_an_error_within_the_timeout() {
    let lab = lab();
    let dir = dns_project(&format!(
        "    timeout: 500ms\n{}    records:\n      - {{name: low.example.test}}\n",
        servers(&[lab.ns1, lab.dead])
    ));
    let started = Instant::now();
    let (run, dns) = check_dns(dir.path(), &[]);
    let elapsed = started.elapsed();
    assert_eq!(run.code, 1);
    assert_eq!(dns["status"], "error", "{dns}");
    let unresolved = findings(&dns, "dns/unresolved");
    assert_eq!(unresolved.len(), 1, "{dns}");
    assert_eq!(
        message(unresolved[0]),
        format!(
            "low.example.test A on {}: did not answer within 0.5 s (asked twice)",
            lab.dead
        )
    );
    assert!(
        dns["summary"]
            .as_str()
            .unwrap()
            .starts_with("could not decide: "),
        "{dns}"
    );
    // Within the run's deadline, with room for a loaded machine: the bound is about the timeout
    // ending the wait, not about speed (benches/dns.rs measures that).
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
}

#[test]
fn twenty_records_against_a_dead_server_cost_one_timeout_not_twenty() {
    let lab = lab();
    let mut body = format!("    timeout: 2s\n{}    records:\n", servers(&[lab.dead]));
    for i in 1..=20 {
        body.push_str(&format!("      - {{name: bulk{i:02}.example.test}}\n"));
    }
    let dir = dns_project(&body);
    let started = Instant::now();
    let (run, dns) = check_dns(dir.path(), &[]);
    let elapsed = started.elapsed();
    assert_eq!(run.code, 1);
    assert_eq!(dns["status"], "error", "{dns}");
    assert_eq!(findings(&dns, "dns/unresolved").len(), 20, "{dns}");
    // Serially this is 20 × 2 s (asked twice: 80 s); concurrently about one timeout. 20 s leaves
    // room for a loaded CI machine and still cannot be met one record at a time.
    assert!(elapsed < Duration::from_secs(20), "took {elapsed:?}");
    assert!(
        dns["summary"].as_str().unwrap().ends_with("(and 19 more)"),
        "{dns}"
    );
}

#[test]
fn twenty_records_on_a_live_server_are_all_asked() {
    let lab = lab();
    let mut body = servers(&[lab.ns1, lab.ns2]);
    body.push_str("    records:\n");
    for i in 1..=20 {
        body.push_str(&format!("      - {{name: bulk{i:02}.example.test}}\n"));
    }
    let dir = dns_project(&body);
    let (_, dns) = check_dns(dir.path(), &[]);
    // Only the serial differs between ns1 and ns2 for these records.
    assert_eq!(dns["status"], "warn", "{dns}");
    assert_eq!(findings(&dns, "dns/servers-disagree").len(), 1, "{dns}");
    assert!(
        dns["summary"].as_str().unwrap().starts_with(
            "20 records asked of 2 authoritative servers (before-cutover, max_ttl 300 s)"
        ),
        "{dns}"
    );
}

#[test]
fn offline_runs_skip_the_check() {
    let lab = lab();
    let dir = dns_project(&format!(
        "{}    records:\n      - {{name: api.example.test}}\n",
        servers(&[lab.ns1])
    ));
    let (run, dns) = check_dns(dir.path(), &["--offline"]);
    // DNS was the only check configured: skipped, nothing was checked (exit 2, not a go).
    assert_eq!(run.code, 2);
    assert_eq!(dns["status"], "skip");
}

#[test]
fn a_bad_record_type_is_an_error_naming_the_line() {
    let dir = dns_project(
        "    nameservers: [\"127.0.0.1:9\"]\n    records:\n      - {name: api.example.test, type: AAAAA}\n",
    );
    let (run, dns) = check_dns(dir.path(), &[]);
    assert_eq!(run.code, 1);
    assert_eq!(dns["status"], "error");
    assert_eq!(
        dns["summary"],
        "checks.dns.records at gonogo.yaml:5: unknown record type `AAAAA`; use A, AAAA, CNAME, TXT, MX, NS, SRV, CAA or another RR type"
    );
}

#[test]
fn explain_prints_every_rule_with_its_sections() {
    for rule in [
        "dns/ttl-too-high",
        "dns/ttl-still-low",
        "dns/expect-mismatch",
        "dns/servers-disagree",
        "dns/record-missing",
        "dns/unresolved",
        "dns/not-authoritative",
    ] {
        let run = run(gonogo().args(["explain", rule]));
        assert_eq!(run.code, 0, "{rule}: {}", run.stderr);
        for heading in [
            "What it catches",
            "Why it matters during a deploy",
            "Example",
            "Do this instead",
        ] {
            assert!(run.stdout.contains(heading), "{rule} lacks {heading}");
        }
    }
    let run = run(gonogo().args(["explain", "dns"]));
    assert!(run.stdout.contains("max_ttl"), "{}", run.stdout);
}

/// Without `nameservers`, the check walks up each name to its zone's NS set and asks those
/// servers. The lab's ns1 stands in for the recursive resolver of /etc/resolv.conf (it answers
/// the walk's NS and address questions for its zones), and the authoritative servers are asked
/// on the lab's port instead of 53; everything else is the code path of a real run.
#[test]
fn the_walk_finds_each_zones_servers_and_follows_a_chain_into_another_zone() {
    use gonogo::checks::dns::analysis::{End, outcome};
    use gonogo::checks::dns::query::{Walk, collect_with};
    use gonogo::checks::dns::settings::{RecordSpec, Settings, parse_name};
    use gonogo::config::DnsPhase;

    let lab = lab();
    let spec = |name: &str| RecordSpec {
        name: parse_name(name).unwrap(),
        record_type: hickory_proto::rr::RecordType::A,
        expect: Vec::new(),
        must_exist: true,
        location: None,
    };
    let settings = Settings {
        phase: DnsPhase::BeforeCutover,
        max_ttl: 300,
        timeout: Duration::from_secs(2),
        nameservers: Vec::new(),
        records: vec![spec("api.example.test"), spec("www.example.test")],
    };
    let walk = Walk {
        resolver: Some(lab.ns1),
        port: Some(lab.ns1.port()),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let collected = runtime
        .block_on(collect_with(&settings, walk))
        .expect("the walk works");

    let api = &collected.observations[0];
    let asked: Vec<&str> = api.answers.iter().map(|a| a.server.as_str()).collect();
    assert_eq!(
        asked,
        [
            format!("ns1.example.test ({})", lab.ns1),
            format!("ns2.example.test ({})", lab.ns1),
        ],
        "both NS of example.test, at their A records' address"
    );
    // www's chain leaves example.test for cdn.test, whose own server (127.0.0.2) publishes
    // edge with 2400 s; ns1's out-of-zone copy (120 s) is not believed.
    let www = collected.observations[1].answers[0]
        .result
        .as_ref()
        .expect("www resolves");
    assert_eq!(www.chain.len(), 2);
    let End::Records { ttl, owner, .. } = &www.end else {
        panic!("records expected: {www:?}");
    };
    assert_eq!((owner.as_str(), *ttl), ("edge.cdn.test", 2400));
    assert!(www.authoritative);

    let result = outcome(&settings, &collected);
    assert_eq!(result.status, None);
    let messages: Vec<&str> = result.findings.iter().map(|f| f.message.as_str()).collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("www.example.test A has TTL 2400 s")
                && m.contains("at least 40 min before the cutover")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("api.example.test A has TTL 3600 s")),
        "{messages:?}"
    );
    assert!(
        result
            .summary
            .starts_with("2 records asked of 2 authoritative servers")
    );
}
