//! The config's value types: strings that may come from the environment (`env:NAME`),
//! durations with units, dates; and the reader that treats a YAML null as empty.

use crate::date::Date;
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;
use std::time::Duration;

/// A string that may be `env:NAME`, resolved while the config is read so a missing variable is
/// reported with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigString {
    pub value: String,
    /// Set when the value came from the environment; such values are redacted from output.
    pub from_env: Option<String>,
}

impl ConfigString {
    pub fn as_str(&self) -> &str {
        &self.value
    }
}

impl fmt::Display for ConfigString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.value)
    }
}

impl<'de> Deserialize<'de> for ConfigString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        let Some(name) = raw.strip_prefix("env:") else {
            return Ok(ConfigString {
                value: raw,
                from_env: None,
            });
        };
        let name = name.trim();
        if name.is_empty() {
            return Err(de::Error::custom(
                "`env:` needs a variable name, e.g. `env:GONOGO_STATS_URL`",
            ));
        }
        match std::env::var(name) {
            Ok(value) => {
                crate::secrets::register(&value);
                Ok(ConfigString {
                    value,
                    from_env: Some(name.to_string()),
                })
            }
            Err(std::env::VarError::NotPresent) => Err(de::Error::custom(format!(
                "environment variable `{name}` is not set (the value is `env:{name}`); set it or remove the key"
            ))),
            Err(std::env::VarError::NotUnicode(_)) => Err(de::Error::custom(format!(
                "environment variable `{name}` is not valid UTF-8"
            ))),
        }
    }
}

/// A duration written with a unit: `500ms`, `20s`, `2m`, `1m30s`, `1h`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DurationValue(pub Duration);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = DurationValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration with a unit, like 120s, 2m or 1m30s")
            }
            fn visit_str<E: de::Error>(self, value: &str) -> Result<DurationValue, E> {
                parse_duration(value).map(DurationValue).map_err(E::custom)
            }
            fn visit_u64<E: de::Error>(self, value: u64) -> Result<DurationValue, E> {
                Err(E::custom(format!(
                    "expected a duration with a unit, like {value}s or {value}ms; found the bare number {value}"
                )))
            }
            fn visit_i64<E: de::Error>(self, value: i64) -> Result<DurationValue, E> {
                Err(E::custom(format!(
                    "expected a duration with a unit, like 120s; found the number {value}"
                )))
            }
            fn visit_f64<E: de::Error>(self, value: f64) -> Result<DurationValue, E> {
                Err(E::custom(format!(
                    "expected a duration with a unit, like 120s; found the number {value}"
                )))
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

/// Parse `120s`, `2m`, `1m30s`, `500ms`, `1h`. Pure, so command-line flags share it.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let expected = || format!("expected a duration like 120s, 2m or 1m30s, found `{text}`");
    let text_trimmed = text.trim();
    if text_trimmed.is_empty() || text_trimmed.contains(char::is_whitespace) {
        return Err(expected());
    }
    let mut total = Duration::ZERO;
    let mut rest = text_trimmed;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(rest.len());
        if digits == 0 {
            return Err(expected());
        }
        // Only digits here, so a failed parse is an overflow: saturate, and let the range check
        // of the key say the value is too large.
        let number: u64 = rest[..digits].parse().unwrap_or(u64::MAX);
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let part = match unit {
            "ms" => Duration::from_millis(number),
            "s" => Duration::from_secs(number),
            "m" => Duration::from_secs(number.saturating_mul(60)),
            "h" => Duration::from_secs(number.saturating_mul(3600)),
            "" => {
                return Err(format!(
                    "`{text}` has no unit: write {number}s for seconds or {number}ms for milliseconds"
                ));
            }
            other => {
                return Err(format!(
                    "unknown unit `{other}` in `{text}`; use ms, s, m or h (e.g. 120s)"
                ));
            }
        };
        total = total.saturating_add(part);
    }
    Ok(total)
}

/// The longest duration a key or `--deadline` accepts: 24 h. gonogo gates a deploy and its whole
/// run ends by its deadline; a day is longer than any CI job runs (GitHub Actions stops a job
/// after 6 h). The bound also keeps `Instant + duration` in range: std panics when that addition
/// overflows, which is how `--deadline 9223372036854775807s` used to end (exit 101).
pub const MAX_DURATION: Duration = Duration::from_secs(24 * 60 * 60);

/// A duration shown as the user would write it: `90s`, `250ms`.
pub fn show_duration(duration: Duration) -> String {
    if duration.subsec_nanos() == 0 {
        format!("{}s", duration.as_secs())
    } else {
        format!("{}ms", duration.as_millis())
    }
}

/// A deadline or timeout: more than zero (a zero timeout can never be met) and at most
/// [`MAX_DURATION`]. `--deadline` and every timeout key share this rule and its wording.
pub fn check_timeout(duration: Duration) -> Result<Duration, String> {
    if duration.is_zero() {
        return Err(
            "a duration of 0s can never be met; expected a duration from 1ms to 24h".to_string(),
        );
    }
    if duration > MAX_DURATION {
        return Err(format!(
            "{} is out of range; expected a duration from 1ms to 24h (gonogo bounds a whole run to a day)",
            show_duration(duration)
        ));
    }
    Ok(duration)
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Date::parse(&text).map_err(de::Error::custom)
    }
}

/// `checks:` with every entry commented out is YAML null: treat it as empty, not as an error.
pub(super) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
