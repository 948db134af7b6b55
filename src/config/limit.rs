use super::{Duration, DurationValue, MAX_DURATION, check_timeout, show_duration};
use serde::Deserialize;
use serde::de::{self, Deserializer};

/// RFC 2181 section 8: a DNS TTL is an unsigned 31-bit number of seconds.
const MAX_TTL_SECONDS: u64 = (1 << 31) - 1;

/// Seconds keys (a request, a grace period, a lock, a rollback) share the 24 h bound of
/// durations, for the same reason.
const MAX_SECONDS: f64 = MAX_DURATION.as_secs() as f64;

pub fn timeout<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DurationValue>, D::Error> {
    let Some(value) = Option::<DurationValue>::deserialize(d)? else {
        return Ok(None);
    };
    check_timeout(value.0)
        .map(|_| Some(value))
        .map_err(de::Error::custom)
}

/// `dns.max_ttl`: zero is a real policy (no caching), and TTLs go past a day.
pub fn ttl<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DurationValue>, D::Error> {
    let Some(value) = Option::<DurationValue>::deserialize(d)? else {
        return Ok(None);
    };
    if value.0 > Duration::from_secs(MAX_TTL_SECONDS) || value.0.subsec_nanos() != 0 {
        return Err(de::Error::custom(format!(
            "{} is not a DNS TTL; expected whole seconds from 0s to {MAX_TTL_SECONDS}s (RFC 2181: a TTL is a 31-bit number of seconds)",
            show_duration(value.0)
        )));
    }
    Ok(Some(value))
}

/// A number in `[min, max]` (or `(min, max]` when `min_excluded`), finite; `what` names it.
fn number<'de, D: Deserializer<'de>>(
    d: D,
    min: f64,
    min_excluded: bool,
    max: f64,
    what: &str,
) -> Result<Option<f64>, D::Error> {
    let Some(value) = Option::<f64>::deserialize(d)? else {
        return Ok(None);
    };
    let above_min = if min_excluded {
        value > min
    } else {
        value >= min
    };
    if value.is_finite() && above_min && value <= max {
        return Ok(Some(value));
    }
    let lower = if min_excluded {
        format!("greater than {min}")
    } else {
        format!("from {min}")
    };
    let upper = if min_excluded { "and at most" } else { "to" };
    Err(de::Error::custom(format!(
        "{value} is out of range; expected {what} {lower} {upper} {max}"
    )))
}

/// Seconds that may be zero: a request length, a deregistration delay, a grace period.
pub fn seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    number(d, 0.0, false, MAX_SECONDS, "a number of seconds")
}

/// Seconds a thing must fit in (a lock, a rollback): zero could never be met.
pub fn positive_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    number(d, 0.0, true, MAX_SECONDS, "a number of seconds")
}

/// Measured throughputs in MB/s: lock-time estimates divide by them, so zero is refused;
/// below 1 KB/s or above 1 TB/s is no database's speed but a typo.
pub fn throughput<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    number(d, 0.001, false, 1_000_000.0, "MB per second")
}

/// A statement's fixed cost: over a minute is not overhead.
pub fn overhead_ms<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    number(d, 0.0, false, 60_000.0, "milliseconds")
}

/// `grace.requests`: the drill holds that many long requests open at SIGTERM; past 100 it
/// tests the load generator, not the shutdown.
pub fn drill_requests<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let Some(value) = Option::<i64>::deserialize(d)? else {
        return Ok(None);
    };
    match u32::try_from(value) {
        Ok(n @ 1..=100) => Ok(Some(n)),
        _ => Err(de::Error::custom(format!(
            "{value} is out of range; expected from 1 to 100 requests"
        ))),
    }
}

/// A PostgreSQL major version as rules compare it (`>= 11`, `>= 12`).
pub fn postgres_version<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    let Some(value) = Option::<i64>::deserialize(d)? else {
        return Ok(None);
    };
    match u32::try_from(value) {
        Ok(n @ 9..=99) => Ok(Some(n)),
        _ => Err(de::Error::custom(format!(
            "{value} is not a PostgreSQL major version; expected a whole number from 9 to 99, such as 15"
        ))),
    }
}
