//! The I/O layer: find each zone's authoritative servers, ask every one of them directly with
//! recursion off (RD=0) so the TTL is the published one, follow CNAME chains, and hand the
//! answers to [`super::analysis`] as plain data.
//!
//! Every query to every server runs concurrently; one query costs at most `timeout` (the UDP
//! client retransmits once inside it), so a dead server costs one timeout per run, not one per
//! record.

use super::analysis::{
    Collected, End, Hop, NegativeTtl, Observation, Resolution, ServerAnswer, ZoneSerials,
};
use super::settings::{RecordSpec, Settings, display_name};
use futures_util::future::join_all;
use futures_util::stream::StreamExt;
use hickory_proto::op::{DnsRequestOptions, DnsResponse, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use hickory_resolver::TokioResolver;
use hickory_resolver::config::{NameServerConfig, ResolverConfig};
use hickory_resolver::net::NetError;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::tcp::TcpClientStream;
use hickory_resolver::net::udp::UdpClientStream;
use hickory_resolver::net::xfer::DnsHandle;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// CNAME links followed before giving up: real chains are two or three long; more is a loop.
const MAX_CHAIN: usize = 8;

/// One server asked as authoritative.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// `ns1.example.com (192.0.2.1:53)` or `127.0.0.1:5353`.
    pub label: String,
    pub addr: SocketAddr,
}

/// An NS host whose address could not be found.
#[derive(Debug, Clone)]
struct Unreachable {
    label: String,
    reason: String,
}

type Listed = Result<Server, Unreachable>;

/// A zone and its servers, as its NS set lists them.
#[derive(Debug, Clone)]
struct Zone {
    apex: Name,
    servers: Vec<Listed>,
}

/// Asks one server one question.
#[derive(Debug, Clone, Copy)]
pub struct Asker {
    timeout: Duration,
}

impl Asker {
    pub fn new(timeout: Duration) -> Asker {
        Asker { timeout }
    }

    /// One question with RD=0 over UDP, again over TCP when the answer was truncated. The
    /// response code is checked here: NOERROR and NXDOMAIN are answers, anything else is not.
    pub async fn ask(
        &self,
        server: &Server,
        name: &Name,
        record_type: RecordType,
    ) -> Result<DnsResponse, String> {
        let query = Query::query(name.clone(), record_type);
        let mut options = DnsRequestOptions::default();
        // The whole point: the server's own data, not what it (or a resolver behind it) cached.
        options.recursion_desired = false;
        // Two sends inside one timeout: one retransmission for a lost datagram.
        let floor_ms = u64::try_from(self.timeout.as_millis() / 2).unwrap_or(u64::MAX);
        let provider = TokioRuntimeProvider::new();
        // A fresh exchange per question: the UDP stream uses a new socket per request anyway,
        // and the exchange's request queue is small enough to refuse bursts (`Busy`).
        let udp = UdpClientStream::builder(server.addr, provider.clone())
            .with_timeout(Some(self.timeout))
            .with_max_retries(2)
            .with_retry_interval_floor(floor_ms)
            .exchange();
        let guard = self.timeout + Duration::from_millis(250);
        let response = first(guard, udp.lookup(query.clone(), options))
            .await
            .map_err(|e| self.reason(e))?;
        let response = if response.metadata.truncation {
            let tcp = TcpClientStream::exchange(server.addr, None, self.timeout, None, provider)
                .await
                .map_err(|e| {
                    format!(
                        "answer truncated over UDP, and TCP failed: {}",
                        self.reason(e)
                    )
                })?;
            first(guard, tcp.lookup(query, options))
                .await
                .map_err(|e| {
                    format!(
                        "answer truncated over UDP, and TCP failed: {}",
                        self.reason(e)
                    )
                })?
        } else {
            response
        };
        match response.metadata.response_code {
            ResponseCode::NoError | ResponseCode::NXDomain => Ok(response),
            code => Err(format!("answered {}", rcode_name(code))),
        }
    }

    fn reason(&self, error: NetError) -> String {
        match error {
            NetError::Timeout => format!(
                "did not answer within {} (asked twice)",
                seconds(self.timeout)
            ),
            NetError::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused => {
                "refused the connection (nothing listens there)".to_string()
            }
            other => other.to_string(),
        }
    }
}

async fn first<S>(guard: Duration, mut stream: S) -> Result<DnsResponse, NetError>
where
    S: futures_util::Stream<Item = Result<DnsResponse, NetError>> + Unpin,
{
    // The client has its own timeout, after which hickory ends the stream without an item
    // (`None`); the guard only keeps the bound if the client misbehaves.
    match tokio::time::timeout(guard, stream.next()).await {
        Err(_) | Ok(None) => Err(NetError::Timeout),
        Ok(Some(result)) => result,
    }
}

fn rcode_name(code: ResponseCode) -> String {
    match code {
        ResponseCode::ServFail => "SERVFAIL".to_string(),
        ResponseCode::Refused => "REFUSED".to_string(),
        ResponseCode::FormErr => "FORMERR".to_string(),
        ResponseCode::NotImp => "NOTIMP".to_string(),
        ResponseCode::NotAuth => "NOTAUTH (not authoritative for the zone)".to_string(),
        other => format!("{} ({})", u16::from(other), other.to_str()),
    }
}

fn seconds(duration: Duration) -> String {
    if duration.subsec_millis() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{:.1} s", duration.as_secs_f64())
    }
}

/// Where the authoritative servers come from.
enum Authorities {
    /// `dns.nameservers`: asked as if authoritative for every name, CNAME targets included.
    Configured(Vec<Server>),
    /// The walk up each name to its zone's NS set, through the system's recursive resolvers.
    Walk(Box<Walker>),
}

/// Where the walk to the authoritative servers starts. The default is the real thing: the
/// resolvers in /etc/resolv.conf and port 53. A lab gives its own (an authoritative test server
/// answers the walk's NS and address questions just as well).
#[derive(Debug, Clone, Copy, Default)]
pub struct Walk {
    /// A recursive resolver to ask instead of those in /etc/resolv.conf.
    pub resolver: Option<SocketAddr>,
    /// The port authoritative servers are asked on, 53 unless given.
    pub port: Option<u16>,
}

struct Walker {
    resolver: TokioResolver,
    port: u16,
    /// Zone apex lookups by name, so twenty records in one zone walk once.
    zones: Mutex<HashMap<Name, Arc<Result<Zone, String>>>>,
}

impl Walker {
    fn new(timeout: Duration, walk: Walk) -> Result<Walker, String> {
        let mut builder = match walk.resolver {
            Some(addr) => {
                let mut server = NameServerConfig::udp_and_tcp(addr.ip());
                for connection in &mut server.connections {
                    connection.port = addr.port();
                }
                TokioResolver::builder_with_config(
                    ResolverConfig::from_name_servers(vec![server]),
                    TokioRuntimeProvider::default(),
                )
            }
            None => TokioResolver::builder_tokio().map_err(|e| {
                format!("cannot read the system's resolver configuration (/etc/resolv.conf) to find authoritative servers: {e}; set checks.dns.nameservers instead")
            })?,
        };
        let options = builder.options_mut();
        options.timeout = timeout;
        options.attempts = 2;
        let resolver = builder
            .build()
            .map_err(|e| format!("cannot set up the recursive resolver: {e}"))?;
        Ok(Walker {
            resolver,
            port: walk.port.unwrap_or(53),
            zones: Mutex::new(HashMap::new()),
        })
    }

    /// The zone `name` is in: the closest enclosing name that has an NS set, and its servers'
    /// addresses.
    async fn zone_of(&self, name: &Name) -> Arc<Result<Zone, String>> {
        if let Some(known) = self.cached(name) {
            return known;
        }
        let found = Arc::new(self.find_zone(name).await);
        self.zones
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(name.clone(), Arc::clone(&found));
        found
    }

    fn cached(&self, name: &Name) -> Option<Arc<Result<Zone, String>>> {
        let zones = self.zones.lock().unwrap_or_else(|e| e.into_inner());
        zones.get(name).cloned()
    }

    async fn find_zone(&self, name: &Name) -> Result<Zone, String> {
        let mut candidate = name.clone();
        loop {
            if candidate.is_root() {
                return Err(format!(
                    "found no NS records for {} or any name above it (asked the resolvers in /etc/resolv.conf); is the name public, and does this machine resolve public names? Otherwise list its servers in checks.dns.nameservers",
                    display_name(name)
                ));
            }
            match self
                .resolver
                .lookup(candidate.clone(), RecordType::NS)
                .await
            {
                Ok(lookup) => {
                    let hosts: BTreeSet<Name> = lookup
                        .answers()
                        .iter()
                        .filter(|r| r.name == candidate)
                        .filter_map(|r| match &r.data {
                            RData::NS(ns) => Some(ns.0.clone()),
                            _ => None,
                        })
                        .collect();
                    if !hosts.is_empty() {
                        let servers = join_all(hosts.iter().map(|h| self.address_of(h))).await;
                        return Ok(Zone {
                            apex: candidate,
                            servers,
                        });
                    }
                }
                Err(e) if e.is_no_records_found() => {}
                Err(e) => {
                    return Err(format!(
                        "the recursive resolver (/etc/resolv.conf) could not look up the NS records of {}: {e}",
                        display_name(&candidate)
                    ));
                }
            }
            candidate = candidate.base_name();
        }
    }

    /// One address per NS host, IPv4 first: a host without IPv6 connectivity must not turn a
    /// healthy server into an error.
    async fn address_of(&self, host: &Name) -> Listed {
        let shown = display_name(host);
        let unreachable = |reason: String| Unreachable {
            label: shown.clone(),
            reason,
        };
        let ips = self
            .resolver
            .lookup_ip(host.clone())
            .await
            .map_err(|e| unreachable(format!("its address could not be resolved: {e}")))?;
        let ip = ips
            .iter()
            .find(IpAddr::is_ipv4)
            .or_else(|| ips.iter().next())
            .ok_or_else(|| unreachable("the name server has no address".to_string()))?;
        let addr = SocketAddr::new(ip, self.port);
        Ok(Server {
            label: format!("{shown} ({addr})"),
            addr,
        })
    }
}

/// Ask every record of every server, concurrently, and collect the answers.
pub async fn collect(settings: &Settings) -> Result<Collected, String> {
    collect_with(settings, Walk::default()).await
}

/// [`collect`], with the walk starting where `walk` says.
pub async fn collect_with(settings: &Settings, walk: Walk) -> Result<Collected, String> {
    let asker = Asker::new(settings.timeout);
    let authorities = if settings.nameservers.is_empty() {
        Authorities::Walk(Box::new(Walker::new(settings.timeout, walk)?))
    } else {
        Authorities::Configured(
            configured_servers(&settings.nameservers, settings.timeout, walk).await?,
        )
    };
    let authorities = &authorities;
    let observations = join_all(
        settings
            .records
            .iter()
            .enumerate()
            .map(|(index, spec)| observe(authorities, asker, index, spec)),
    )
    .await;
    let mut observed = Vec::with_capacity(observations.len());
    let mut soa_questions: BTreeSet<(String, SocketAddr, Name)> = BTreeSet::new();
    let mut servers_by_addr: BTreeMap<SocketAddr, Server> = BTreeMap::new();
    for (observation, asked) in observations {
        for (server, name) in asked {
            soa_questions.insert((server.label.clone(), server.addr, name));
            servers_by_addr.insert(server.addr, server);
        }
        observed.push(observation);
    }
    let zones = serials(asker, &soa_questions, &servers_by_addr).await;
    Ok(Collected {
        observations: observed,
        zones,
    })
}

/// `dns.nameservers` entries: `IP`, `IP:port`, `[v6]:port`, or a host name (resolved with the
/// system's resolver, port 53 unless given).
async fn configured_servers(
    entries: &[String],
    timeout: Duration,
    walk: Walk,
) -> Result<Vec<Server>, String> {
    let mut servers = Vec::new();
    let mut walker: Option<Walker> = None;
    for entry in entries {
        match parse_server(entry) {
            Ok(Some(addr)) => servers.push(Server {
                label: addr.to_string(),
                addr,
            }),
            Ok(None) => {
                let (host, port) = split_host_port(entry)?;
                if walker.is_none() {
                    walker = Some(Walker::new(timeout, walk)?);
                }
                let resolver = walker.as_ref().map(|w| &w.resolver);
                let Some(resolver) = resolver else { continue };
                let ips = resolver.lookup_ip(host.as_str()).await.map_err(|e| {
                    format!("checks.dns.nameservers: `{entry}` could not be resolved: {e}")
                })?;
                let ip = ips
                    .iter()
                    .find(IpAddr::is_ipv4)
                    .or_else(|| ips.iter().next())
                    .ok_or_else(|| format!("checks.dns.nameservers: `{entry}` has no address"))?;
                let addr = SocketAddr::new(ip, port);
                servers.push(Server {
                    label: format!("{host} ({addr})"),
                    addr,
                });
            }
            Err(reason) => return Err(reason),
        }
    }
    Ok(servers)
}

/// `Some(addr)` for an address (port 53 unless given), `None` for a host name.
pub fn parse_server(entry: &str) -> Result<Option<SocketAddr>, String> {
    let entry = entry.trim();
    if let Ok(addr) = entry.parse::<SocketAddr>() {
        return Ok(Some(addr));
    }
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Ok(Some(SocketAddr::new(ip, 53)));
    }
    if entry.is_empty() || entry.starts_with('[') {
        return Err(format!(
            "checks.dns.nameservers: `{entry}` is not an address; write 192.0.2.53, 192.0.2.53:5353, [2001:db8::53]:53 or ns1.example.com"
        ));
    }
    Ok(None)
}

fn split_host_port(entry: &str) -> Result<(String, u16), String> {
    let entry = entry.trim();
    match entry.rsplit_once(':') {
        Some((host, port)) => port
            .parse::<u16>()
            .map(|port| (host.to_string(), port))
            .map_err(|_| format!("checks.dns.nameservers: `{entry}` has an invalid port")),
        None => Ok((entry.to_string(), 53)),
    }
}

type Asked = Vec<(Server, Name)>;

/// One record on all of its zone's servers. Also returns which (server, name) pairs were
/// asked, for the SOA serial comparison.
async fn observe(
    authorities: &Authorities,
    asker: Asker,
    index: usize,
    spec: &RecordSpec,
) -> (Observation, Asked) {
    let servers = match servers_for(authorities, &spec.name).await {
        Ok(servers) => servers,
        Err(error) => {
            let observation = Observation {
                record: index,
                answers: Vec::new(),
                error: Some(error),
            };
            return (observation, Vec::new());
        }
    };
    let mut asked = Vec::new();
    let answers = join_all(servers.into_iter().map(|server| async {
        match server {
            Err(unreachable) => (
                None,
                ServerAnswer {
                    server: unreachable.label,
                    result: Err(unreachable.reason),
                },
            ),
            Ok(server) => {
                let result = resolve(
                    authorities,
                    asker,
                    &server,
                    spec.name.clone(),
                    spec.record_type,
                )
                .await;
                (
                    Some(server.clone()),
                    ServerAnswer {
                        server: server.label,
                        result,
                    },
                )
            }
        }
    }))
    .await;
    let answers = answers
        .into_iter()
        .map(|(server, answer)| {
            if let Some(server) = server
                && answer.result.is_ok()
            {
                asked.push((server, spec.name.clone()));
            }
            answer
        })
        .collect();
    (
        Observation {
            record: index,
            answers,
            error: None,
        },
        asked,
    )
}

async fn servers_for(authorities: &Authorities, name: &Name) -> Result<Vec<Listed>, String> {
    match authorities {
        Authorities::Configured(servers) => Ok(servers.iter().cloned().map(Ok).collect()),
        Authorities::Walk(walker) => match &*walker.zone_of(name).await {
            Ok(zone) if zone.servers.is_empty() => Err(format!(
                "the zone {} lists no name servers",
                display_name(&zone.apex)
            )),
            Ok(zone) => Ok(zone.servers.clone()),
            Err(error) => Err(error.clone()),
        },
    }
}

type ResolveFuture<'a> = Pin<Box<dyn Future<Output = Result<Resolution, String>> + Send + 'a>>;

/// `name`/`record_type` on `server`, following the CNAME chain: inside the answer where the
/// server included the target, by asking again where it did not (in the walk, the target's own
/// zone's servers when it lies elsewhere).
fn resolve<'a>(
    authorities: &'a Authorities,
    asker: Asker,
    server: &'a Server,
    name: Name,
    record_type: RecordType,
) -> ResolveFuture<'a> {
    Box::pin(async move {
        let mut chain: Vec<Hop> = Vec::new();
        let mut authoritative = true;
        let mut current = name;
        loop {
            // In the walk, a server is only believed about its own zone (the bailiwick rule
            // resolvers follow); configured servers are the authority for every name.
            let bailiwick = match authorities {
                Authorities::Walk(walker) => match &*walker.zone_of(&current).await {
                    Ok(zone) => Some(zone.apex.clone()),
                    Err(e) => return Err(format!("{}: {e}", display_name(&current))),
                },
                Authorities::Configured(_) => None,
            };
            let response = asker.ask(server, &current, record_type).await?;
            authoritative &= response.metadata.authoritative;
            let step = read_answer(&response, &current, record_type, bailiwick.as_ref());
            chain.extend(step.hops);
            if chain.len() > MAX_CHAIN {
                return Err(format!(
                    "the CNAME chain from {} is longer than {MAX_CHAIN} links (a loop?)",
                    chain.first().map(|h| h.owner.as_str()).unwrap_or_default()
                ));
            }
            if let Some(end) = step.end {
                return Ok(Resolution {
                    chain,
                    end,
                    authoritative,
                });
            }
            let Some(next) = step.next else {
                return Err(format!(
                    "is not authoritative for {} (it answered with a referral, not the record)",
                    display_name(&current)
                ));
            };
            if let Authorities::Walk(walker) = authorities {
                let zone = walker.zone_of(&next).await;
                let zone = zone
                    .as_ref()
                    .as_ref()
                    .map_err(|e| format!("following the CNAME to {}: {e}", display_name(&next)))?;
                let elsewhere = !zone
                    .servers
                    .iter()
                    .any(|s| s.as_ref().is_ok_and(|s| s.addr == server.addr));
                if elsewhere {
                    let rest =
                        resolve_elsewhere(authorities, asker, zone, next, record_type).await?;
                    chain.extend(rest.chain);
                    return Ok(Resolution {
                        chain,
                        end: rest.end,
                        authoritative: authoritative && rest.authoritative,
                    });
                }
            }
            current = next;
        }
    })
}

/// The rest of a chain in another zone: asked of all its servers; the answer with the longest
/// TTL stands for them (a resolver may pick any), and any failure is the chain's failure.
async fn resolve_elsewhere(
    authorities: &Authorities,
    asker: Asker,
    zone: &Zone,
    name: Name,
    record_type: RecordType,
) -> Result<Resolution, String> {
    let shown = display_name(&name);
    let results = join_all(zone.servers.iter().map(|server| {
        let name = name.clone();
        async move {
            match server {
                Err(e) => Err(format!("{}: {}", e.label, e.reason)),
                Ok(server) => resolve(authorities, asker, server, name, record_type)
                    .await
                    .map_err(|e| format!("{}: {e}", server.label)),
            }
        }
    }))
    .await;
    let mut best: Option<Resolution> = None;
    for result in results {
        let resolution = result.map_err(|e| format!("following the CNAME to {shown}: {e}"))?;
        let ttl = super::analysis::governing_ttl(&resolution);
        if best
            .as_ref()
            .is_none_or(|b| ttl > super::analysis::governing_ttl(b))
        {
            best = Some(resolution);
        }
    }
    best.ok_or_else(|| format!("following the CNAME to {shown}: its zone lists no servers"))
}

/// What one response says about `asked`.
#[derive(Debug, Default)]
pub struct Step {
    /// CNAME links found in the answer section, in order from `asked`.
    pub hops: Vec<Hop>,
    /// The chain ends in this response.
    pub end: Option<End>,
    /// The chain continues at this name, which the response did not answer; `None` with no
    /// `end`: the server referred us elsewhere (not authoritative).
    pub next: Option<Name>,
}

/// Read one response: follow CNAMEs inside the answer section, then decide whether the chain
/// ends here (records, NXDOMAIN, NODATA) or continues at a name to ask again. With a
/// `bailiwick`, answer records outside that zone are ignored: their own zone's servers are
/// asked instead.
pub fn read_answer(
    response: &DnsResponse,
    asked: &Name,
    record_type: RecordType,
    bailiwick: Option<&Name>,
) -> Step {
    let mut step = Step::default();
    let mut current = asked.clone();
    let mut seen = BTreeSet::new();
    let answers: Vec<&Record> = response
        .answers
        .iter()
        .filter(|r| bailiwick.is_none_or(|zone| zone.zone_of(&r.name)))
        .collect();
    loop {
        let matching: Vec<&Record> = answers
            .iter()
            .copied()
            .filter(|r| r.name == current && r.record_type() == record_type)
            .collect();
        if !matching.is_empty() {
            let mut values: Vec<String> = matching.iter().map(|r| value_text(&r.data)).collect();
            values.sort();
            values.dedup();
            step.end = Some(End::Records {
                owner: display_name(&current),
                ttl: matching.iter().map(|r| r.ttl).max().unwrap_or(0),
                values,
            });
            return step;
        }
        let cname = answers.iter().find_map(|r| match &r.data {
            RData::CNAME(target) if r.name == current => Some((r.ttl, target.0.clone())),
            _ => None,
        });
        match cname {
            Some((ttl, target)) if seen.insert(current.clone()) => {
                step.hops.push(Hop {
                    owner: display_name(&current),
                    ttl,
                    target: display_name(&target),
                });
                current = target;
            }
            // A CNAME loop inside one answer: stop; the caller's chain limit reports it.
            Some(_) => {
                step.next = Some(current);
                return step;
            }
            None => break,
        }
    }
    if current != *asked {
        // RFC 6604: with a chain, the response code is about the last name; an in-zone target
        // that does not exist comes back as NXDOMAIN with the SOA.
        if response.metadata.response_code == ResponseCode::NXDomain {
            step.end = Some(missing(response, &current, true));
        } else {
            step.next = Some(current);
        }
        return step;
    }
    let nxdomain = response.metadata.response_code == ResponseCode::NXDomain;
    if nxdomain || has_soa(response) || response.metadata.authoritative {
        step.end = Some(missing(response, &current, nxdomain));
    }
    // Otherwise: no answer, no SOA, not authoritative: a referral. `next` stays None.
    step
}

fn has_soa(response: &DnsResponse) -> bool {
    response
        .authorities
        .iter()
        .any(|r| matches!(r.data, RData::SOA(_)))
}

fn missing(response: &DnsResponse, owner: &Name, nxdomain: bool) -> End {
    let negative = response.authorities.iter().find_map(|r| match &r.data {
        RData::SOA(soa) => Some(NegativeTtl {
            soa_minimum: soa.minimum,
            soa_ttl: r.ttl,
        }),
        _ => None,
    });
    End::Missing {
        owner: display_name(owner),
        nxdomain,
        negative,
    }
}

/// A record's value as [`super::analysis::normalize_expected`] writes expected values.
pub fn value_text(data: &RData) -> String {
    match data {
        RData::A(a) => IpAddr::from(a.0).to_string(),
        RData::AAAA(aaaa) => IpAddr::from(aaaa.0).to_string(),
        RData::CNAME(name) => display_name(&name.0),
        RData::NS(name) => display_name(&name.0),
        RData::PTR(name) => display_name(&name.0),
        RData::MX(mx) => format!("{} {}", mx.preference, display_name(&mx.exchange)),
        other => other.to_string(),
    }
}

/// The SOA serial of each zone on each server that answered a record in it: asked once per
/// (server, record name); the SOA's owner in the reply names the zone.
async fn serials(
    asker: Asker,
    questions: &BTreeSet<(String, SocketAddr, Name)>,
    servers: &BTreeMap<SocketAddr, Server>,
) -> Vec<ZoneSerials> {
    let replies = join_all(questions.iter().map(|(_, addr, name)| async move {
        let server = servers.get(addr)?;
        let response = asker.ask(server, name, RecordType::SOA).await.ok()?;
        let (zone, serial) = response
            .answers
            .iter()
            .chain(response.authorities.iter())
            .find_map(|r| match &r.data {
                RData::SOA(soa) => Some((display_name(&r.name), soa.serial)),
                _ => None,
            })?;
        Some((zone, server.label.clone(), serial))
    }))
    .await;
    let mut zones: BTreeMap<String, BTreeMap<String, u32>> = BTreeMap::new();
    for (zone, server, serial) in replies.into_iter().flatten() {
        zones.entry(zone).or_default().insert(server, serial);
    }
    zones
        .into_iter()
        .map(|(zone, serials)| ZoneSerials {
            zone,
            serials: serials.into_iter().collect(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::op::Message;
    use hickory_proto::rr::rdata::{A, CNAME, SOA};

    fn name(text: &str) -> Name {
        Name::from_ascii(text).unwrap()
    }

    fn response(code: ResponseCode, answers: Vec<Record>, authorities: Vec<Record>) -> DnsResponse {
        let mut message = Message::response(1, hickory_proto::op::OpCode::Query);
        message.metadata.response_code = code;
        message.metadata.authoritative = true;
        message.answers = answers;
        message.authorities = authorities;
        DnsResponse::from_message(message).unwrap()
    }

    fn soa() -> Record {
        Record::from_rdata(
            name("example.com."),
            3600,
            RData::SOA(SOA::new(
                name("ns1.example.com."),
                name("hostmaster.example.com."),
                7,
                3600,
                600,
                86400,
                600,
            )),
        )
    }

    #[test]
    fn a_chain_inside_one_answer_is_followed_to_the_records() {
        let answers = vec![
            Record::from_rdata(
                name("www.example.com."),
                60,
                RData::CNAME(CNAME(name("lb.example.com."))),
            ),
            Record::from_rdata(
                name("lb.example.com."),
                3600,
                RData::A(A::new(192, 0, 2, 1)),
            ),
        ];
        let step = read_answer(
            &response(ResponseCode::NoError, answers, vec![]),
            &name("www.example.com."),
            RecordType::A,
            None,
        );
        assert_eq!(step.hops.len(), 1);
        assert_eq!(step.hops[0].target, "lb.example.com");
        assert_eq!(
            step.end,
            Some(End::Records {
                owner: "lb.example.com".into(),
                ttl: 3600,
                values: vec!["192.0.2.1".into()]
            })
        );
    }

    #[test]
    fn a_target_left_unanswered_is_asked_again() {
        let answers = vec![Record::from_rdata(
            name("www.example.com."),
            60,
            RData::CNAME(CNAME(name("lb.other.net."))),
        )];
        let step = read_answer(
            &response(ResponseCode::NoError, answers, vec![]),
            &name("www.example.com."),
            RecordType::A,
            None,
        );
        assert_eq!(step.next, Some(name("lb.other.net.")));
        assert!(step.end.is_none());
    }

    #[test]
    fn records_outside_the_bailiwick_are_asked_of_their_own_zone() {
        let answers = vec![
            Record::from_rdata(
                name("www.example.com."),
                60,
                RData::CNAME(CNAME(name("lb.other.net."))),
            ),
            Record::from_rdata(name("lb.other.net."), 5, RData::A(A::new(192, 0, 2, 1))),
        ];
        let step = read_answer(
            &response(ResponseCode::NoError, answers, vec![]),
            &name("www.example.com."),
            RecordType::A,
            Some(&name("example.com.")),
        );
        assert_eq!(step.hops.len(), 1);
        assert_eq!(step.next, Some(name("lb.other.net.")));
        assert!(step.end.is_none());
    }

    #[test]
    fn nxdomain_and_nodata_carry_the_negative_ttl() {
        let step = read_answer(
            &response(ResponseCode::NXDomain, vec![], vec![soa()]),
            &name("gone.example.com."),
            RecordType::A,
            None,
        );
        let Some(End::Missing {
            nxdomain, negative, ..
        }) = step.end
        else {
            panic!("expected missing: {step:?}");
        };
        assert!(nxdomain);
        assert_eq!(negative.unwrap().seconds(), 600);
        let step = read_answer(
            &response(ResponseCode::NoError, vec![], vec![soa()]),
            &name("example.com."),
            RecordType::AAAA,
            None,
        );
        assert!(matches!(
            step.end,
            Some(End::Missing {
                nxdomain: false,
                ..
            })
        ));
    }

    #[test]
    fn server_entries_parse() {
        assert_eq!(
            parse_server("127.0.0.1:5353").unwrap(),
            Some("127.0.0.1:5353".parse().unwrap())
        );
        assert_eq!(
            parse_server("192.0.2.1").unwrap(),
            Some("192.0.2.1:53".parse().unwrap())
        );
        assert_eq!(
            parse_server("2001:db8::1").unwrap(),
            Some("[2001:db8::1]:53".parse().unwrap())
        );
        assert_eq!(parse_server("ns1.example.com").unwrap(), None);
        assert!(parse_server("[oops").is_err());
        assert_eq!(
            split_host_port("ns1.example.com:5353").unwrap(),
            ("ns1.example.com".into(), 5353)
        );
    }
}
