//! The `dns/...` rules: ids, default severities and the docs `gonogo explain` prints.

use crate::declare_rule;

declare_rule! {
    order: 10;
    /// ## What it catches
    /// Before a cutover, a record the cutover moves whose TTL, as published by the zone's
    /// authoritative servers, is above `dns.max_ttl` (300 s unless configured). With a CNAME
    /// chain the longest TTL in the chain counts: a resolver may hold any link of it that long.
    ///
    /// ## Why it matters during a deploy
    /// Resolvers keep an answer for its TTL. Switch `api.example.com` from the blue to the green
    /// environment while its TTL is 3600 s and clients keep reaching blue for up to an hour:
    /// you cannot shut blue down, and a rollback is just as slow. Lowering the TTL only helps
    /// once the caches holding the old, long TTL have expired, so it has to happen at least one
    /// old TTL before the cutover.
    ///
    /// ## Example
    /// ```text
    /// api.example.com.  3600  IN  A  198.51.100.7
    /// ```
    /// `api.example.com A has TTL 3600 s (max 300 s): lower it at least 1 h before the cutover`
    ///
    /// ## Do this instead
    /// Lower the TTL (to 60–300 s) at least one old TTL before the cutover, wait that long, then
    /// switch. Raise it again once the new environment is confirmed (`dns/ttl-still-low`).
    pub TTL_TOO_HIGH = ("dns/ttl-too-high", Fail,
        "before the cutover, a record's published TTL is above max_ttl: caches keep the old answer that long");
}

declare_rule! {
    order: 20;
    /// ## What it catches
    /// After a cutover (`dns.phase: after-cutover`), a record whose TTL is still at or below
    /// `dns.max_ttl`, the value it was lowered to for the switch.
    ///
    /// ## Why it matters during a deploy
    /// Low TTLs are a tool for the switch, not a setting to keep: every resolver asks again
    /// every few minutes, which costs latency for clients and load (and money) at the DNS
    /// provider, and an outage of the provider reaches clients within minutes instead of hours.
    ///
    /// ## Example
    /// ```text
    /// api.example.com.  60  IN  A  203.0.113.10     ; a week after the cutover
    /// ```
    ///
    /// ## Do this instead
    /// Once the new environment is confirmed and a rollback by DNS is no longer needed, raise
    /// the TTL again (e.g. to 3600 s).
    pub TTL_STILL_LOW = ("dns/ttl-still-low", Warn,
        "after the cutover, a record's TTL is still as low as for the switch: raise it again");
}

declare_rule! {
    order: 30;
    /// ## What it catches
    /// A record that does not resolve to the values under `expect:` on every authoritative
    /// server, in the phase the config names: after the cutover (`phase: after-cutover`) it
    /// still points at the old environment, or at something else; before it (the default),
    /// it no longer points where it must until the switch: changed early, or wrongly.
    /// A's and AAAA's compare as addresses, names without case or trailing dot, and a name in
    /// `expect` also matches a CNAME target in the record's chain.
    ///
    /// ## Why it matters during a deploy
    /// After: the cutover happened in the deploy tool but not in DNS (a forgotten record, a
    /// change made in the wrong zone or the wrong provider account, a secondary that did not
    /// pick it up): clients keep reaching the old environment, which is about to be shut down.
    /// Before: traffic already goes to a side that is not ready for it.
    ///
    /// ## Example
    /// ```yaml
    /// records:
    ///   - {name: api.example.com, type: A, expect: ["203.0.113.10"]}   # green
    /// ```
    /// while the zone still says `api.example.com. 300 IN A 198.51.100.7` (blue).
    ///
    /// ## Do this instead
    /// Repoint the record, check it on every authoritative server, and keep the old
    /// environment running for at least the old TTL after the change.
    pub EXPECT_MISMATCH = ("dns/expect-mismatch", Fail,
        "a record does not resolve to the values `expect` gives for this phase");
}

declare_rule! {
    order: 50;
    /// ## What it catches
    /// The authoritative servers of a zone that give different answers: a different SOA serial
    /// (a secondary that has not transferred the latest zone) or a different answer for a
    /// record (values, TTL or CNAME chain).
    ///
    /// ## Why it matters during a deploy
    /// Resolvers pick any of a zone's servers. When they disagree, some clients get the new
    /// answer and some the old one, for as long as the servers stay out of sync plus the TTL;
    /// a TTL lowered on the primary only is not lowered for the clients that ask a secondary.
    ///
    /// ## Example
    /// `ns1 says 203.0.113.10 (TTL 60 s), ns2 says 198.51.100.7 (TTL 3600 s); SOA serial
    /// 2026112301 on ns1, 2026112201 on ns2`
    ///
    /// ## Do this instead
    /// Find out why the secondary is behind (NOTIFY blocked, zone transfer refused, a second
    /// DNS provider that is managed by hand), fix it, and wait until every server serves the
    /// same serial before the cutover.
    pub SERVERS_DISAGREE = ("dns/servers-disagree", Warn,
        "the zone's authoritative servers disagree (SOA serial or answer)");
}

declare_rule! {
    order: 40;
    /// ## What it catches
    /// A configured record that does not exist: NXDOMAIN (no such name) or NODATA (the name
    /// exists but has no record of that type), directly or at the end of its CNAME chain.
    /// The finding reports the zone's negative-caching TTL, min(SOA minimum, SOA TTL)
    /// (RFC 2308). Records with `must_exist: false` are exempt.
    ///
    /// ## Why it matters during a deploy
    /// Resolvers cache "does not exist" too. A name that is created only at the cutover stays
    /// missing for everyone who asked before, for up to the negative-caching TTL, often an
    /// hour or more, and nothing can flush it.
    ///
    /// ## Example
    /// `green.example.com A does not exist (NXDOMAIN) on ns1.example.com: resolvers that ask
    /// now cache that for 3600 s`
    ///
    /// ## Do this instead
    /// Create the record well before the cutover (at least the negative-caching TTL before
    /// anyone can ask for it), or lower the SOA minimum ahead of time.
    pub RECORD_MISSING = ("dns/record-missing", Fail,
        "a record that must exist is NXDOMAIN or has no data of its type");
}

declare_rule! {
    order: 60;
    /// ## What it catches
    /// A record gonogo could not get an answer for: an authoritative server that times out,
    /// answers SERVFAIL or REFUSED, is not authoritative for the zone (a referral), or no
    /// authoritative server could be found or reached at all. The check reports `error`.
    ///
    /// ## Why it matters during a deploy
    /// Without the published TTL and answer, gonogo cannot say whether the cutover is safe,
    /// and "I'm not sure" is a no-go. An authoritative server that does not answer also means
    /// slow or failing resolution for the clients that pick it.
    ///
    /// ## Example
    /// `api.example.com A: 192.0.2.53:53 did not answer within 2 s (asked twice)`
    ///
    /// ## Do this instead
    /// Fix or remove the broken server from the zone's NS set; for a lab setup, point
    /// `dns.nameservers` at servers that serve the zone; or raise `dns.timeout` for a slow link.
    pub UNRESOLVED = ("dns/unresolved", Fail,
        "a record could not be resolved on an authoritative server (timeout, SERVFAIL, REFUSED, unreachable)");
}

declare_rule! {
    order: 70;
    /// ## What it catches
    /// A server asked as authoritative (from the NS walk or `dns.nameservers`) that answers
    /// without the AA (authoritative answer) bit: a recursive resolver or a forwarder.
    ///
    /// ## Why it matters during a deploy
    /// A non-authoritative answer comes from a cache: its TTL is the remaining countdown, not
    /// the published value, so it can pass `max_ttl` while the zone still publishes 3600 s.
    ///
    /// ## Example
    /// `dns.nameservers: ["1.1.1.1"]` answers `api.example.com 212 IN A ...` without AA.
    ///
    /// ## Do this instead
    /// Leave `dns.nameservers` unset (gonogo finds the authoritative servers itself) or list
    /// the zone's authoritative servers there.
    pub NOT_AUTHORITATIVE = ("dns/not-authoritative", Warn,
        "a server asked as authoritative answered from a cache (no AA bit)");
}
