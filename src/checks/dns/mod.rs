//! `dns`: are the records a cutover moves ready for it? The TTLs as the zone publishes them
//! (asked of each authoritative server with recursion off, CNAME chains followed), the answers
//! after the switch, and servers that disagree.
//!
//! `settings` reads the config, `query` does the network I/O and returns plain data,
//! `analysis` turns that data into findings (pure, unit-tested without a network), `rules`
//! holds the rules' ids and docs.

pub mod analysis;
pub mod query;
mod rules;
pub mod settings;

use crate::checks::{Check, CheckError, CheckFuture, CheckOutcome, Rule};
use crate::config::Config;
use crate::context::Context;
use std::sync::Arc;
use std::time::Duration;

pub use rules::{
    EXPECT_MISMATCH, NOT_AUTHORITATIVE, RECORD_MISSING, SERVERS_DISAGREE, TTL_STILL_LOW,
    TTL_TOO_HIGH, UNRESOLVED,
};
pub use settings::Settings;

pub struct Dns;

pub static RULES: &[&Rule] = crate::checks::registry::DNS;

const DOCS: &str = "\
Are the DNS records a cutover moves ready for it?

For every record under `checks.dns.records`, gonogo finds the zone's authoritative name servers
(walking up the name to its NS set through the resolvers in /etc/resolv.conf), and asks EACH of
them directly with recursion off, so the TTL it sees is the one the zone publishes, not a
cache's countdown. CNAME chains are followed (into other zones too); the longest TTL in the
chain is the one that governs how long clients can keep the old answer.

before-cutover (the default): every record's TTL must be at or under `max_ttl`; a higher TTL
fails, with how long before the cutover it must have been lowered (the old TTL: caches keep
the old value that long). after-cutover: TTLs still at or under `max_ttl` warn (raise them
again). In both phases a record with `expect:` must resolve to exactly those values on every
server: before the cutover, what it must still point at (the old side); after it, the new side.

Always: a record that does not exist (NXDOMAIN or NODATA) fails with the zone's negative-caching
TTL, authoritative servers that disagree (SOA serial or answer) warn, and a record that cannot
be resolved (timeout, SERVFAIL, REFUSED, no authoritative server found) makes the check `error`:
not knowing is not a go. All queries run concurrently; one dead server costs one `timeout`.

Config:
  checks:
    dns:
      phase: before-cutover            # before-cutover | after-cutover
      max_ttl: 300s                    # the TTL a record may have for the switch
      timeout: 2s                      # per query and server, one retransmission included
      nameservers: [\"127.0.0.1:5353\"]  # optional: ask these as the authority (tests, demos)
      records:
        - {name: api.example.com, type: A, expect: [\"203.0.113.10\"]}
        - {name: www.example.com}      # type A by default; CNAME chains are followed
        - {name: green.example.com, must_exist: false}

Types: A, AAAA, CNAME, TXT, MX, NS, SRV, CAA and any other record type by name. In `expect`,
addresses compare as addresses, names without case or trailing dot (MX as `10 mail.example.com`),
and a name also matches a CNAME target in the chain. The check needs the network and is skipped
with --offline.";

impl Check for Dns {
    fn id(&self) -> &str {
        "dns"
    }
    fn title(&self) -> &str {
        "DNS TTLs and answers for the cutover"
    }
    fn docs(&self) -> &str {
        DOCS
    }
    fn rules(&self) -> &'static [&'static Rule] {
        RULES
    }
    fn enabled_by(&self, config: &Config) -> bool {
        config.checks.dns.is_some()
    }
    fn needs_network(&self, _ctx: &Context) -> bool {
        true
    }
    fn timeout(&self, ctx: &Context) -> Option<Duration> {
        // Queries run concurrently, but a walk and a CNAME chain are sequential steps: a
        // generous bound in units of the per-query timeout, so a hang still ends with a reason.
        let per_query = ctx
            .config
            .checks
            .dns
            .as_ref()
            .and_then(|dns| dns.timeout)
            .map(|t| t.0)
            .unwrap_or(settings::DEFAULT_TIMEOUT);
        Some(per_query.saturating_mul(15).max(Duration::from_secs(10)))
    }
    fn run(&self, ctx: Arc<Context>) -> CheckFuture {
        Box::pin(async move { run(&ctx).await })
    }
}

async fn run(ctx: &Context) -> Result<CheckOutcome, CheckError> {
    let Some(config) = ctx.config.checks.dns.as_ref() else {
        return Ok(CheckOutcome::skip(
            "not configured: add checks.dns.records to gonogo.yaml",
        ));
    };
    let settings = Settings::from_config(config, ctx.config_path.as_deref()).map_err(CheckError)?;
    if settings.records.is_empty() {
        return Ok(analysis::outcome(&settings, &Default::default()));
    }
    let collected = query::collect(&settings).await.map_err(CheckError)?;
    Ok(analysis::outcome(&settings, &collected))
}
