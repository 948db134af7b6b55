//! Secrets never appear in any output format.
//!
//! Two nets: every value read from the environment through `env:NAME` in the config is
//! registered and replaced wherever it appears; and, whatever its origin, a password in a URL
//! (`postgres://user:secret@host`), a bearer/basic credential and `token=`/`password=` query or
//! key/value pairs are masked. `render` calls [`redact`] on every format's final text.

use std::sync::{Mutex, OnceLock};

const MASK: &str = "***";

fn registry() -> &'static Mutex<Vec<String>> {
    static SECRETS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| Mutex::new(Vec::new()))
}

/// Remember a secret value so it is masked in all output. Very short values are not registered:
/// masking every "1" or "on" in a report would destroy it and protect nothing.
pub fn register(value: &str) {
    if value.len() < 4 {
        return;
    }
    let mut secrets = registry().lock().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|s| s == value) {
        secrets.push(value.to_string());
        // Longest first, so a secret containing another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

pub fn redact(text: &str) -> String {
    let mut out = text.to_string();
    {
        let secrets = registry().lock().unwrap_or_else(|e| e.into_inner());
        for secret in secrets.iter() {
            if out.contains(secret.as_str()) {
                out = out.replace(secret.as_str(), MASK);
            }
        }
    }
    let out = mask_url_passwords(&out);
    mask_after_keywords(&out)
}

/// `scheme://user:password@host` → `scheme://user:***@host`.
fn mask_url_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(index) = rest.find("://") {
        let (head, tail) = rest.split_at(index + 3);
        out.push_str(head);
        // The authority ends at the first '/', whitespace, quote or similar delimiter.
        let authority_end = tail
            .find(|c: char| c == '/' || c.is_whitespace() || "\"'<>`?#)]}|".contains(c))
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) if colon + 1 < userinfo.len() => {
                        out.push_str(&userinfo[..=colon]);
                        out.push_str(MASK);
                        out.push_str(&authority[at..]);
                    }
                    _ => out.push_str(authority),
                }
            }
            None => out.push_str(authority),
        }
        rest = &tail[authority_end..];
    }
    out.push_str(rest);
    out
}

/// Mask the value after `Authorization: Bearer`, `password=`, `token=` and similar.
fn mask_after_keywords(text: &str) -> String {
    // (keyword, shortest value masked): prose such as "the bearer of" must survive, so the
    // looser keywords only mask token-like values.
    const KEYWORDS: &[(&str, usize)] = &[
        ("authorization: bearer ", 1),
        ("authorization: basic ", 1),
        ("authorization: token ", 1),
        ("bearer ", 12),
        ("password=", 1),
        ("passwd=", 1),
        ("pwd=", 1),
        ("token=", 1),
        ("secret=", 1),
        ("api_key=", 1),
        ("apikey=", 1),
        ("password: ", 1),
        ("token: ", 12),
    ];
    let lower = text.to_ascii_lowercase();
    let mut spans: Vec<(usize, usize)> = Vec::new();
    for (keyword, shortest) in KEYWORDS {
        let mut from = 0;
        while let Some(found) = lower[from..].find(keyword) {
            let start = from + found + keyword.len();
            let end = text[start..]
                .find(|c: char| c.is_whitespace() || "\"'&,;<>)]}".contains(c))
                .map_or(text.len(), |e| start + e);
            if end >= start + shortest && &text[start..end] != MASK {
                spans.push((start, end));
            }
            from = start;
        }
    }
    if spans.is_empty() {
        return text.to_string();
    }
    spans.sort_unstable();
    let mut out = String::with_capacity(text.len());
    let mut cursor = 0;
    for (start, end) in spans {
        if start < cursor {
            continue;
        }
        out.push_str(&text[cursor..start]);
        out.push_str(MASK);
        cursor = end;
    }
    out.push_str(&text[cursor..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_passwords_are_masked() {
        assert_eq!(
            redact("connect postgres://app:hunter2@db:5432/shop failed"),
            "connect postgres://app:***@db:5432/shop failed"
        );
        assert_eq!(redact("https://example.com/a@b"), "https://example.com/a@b");
        assert_eq!(redact("postgres://app@db/shop"), "postgres://app@db/shop");
    }

    #[test]
    fn credentials_after_keywords_are_masked() {
        assert_eq!(
            redact("Authorization: Bearer abc.def.ghi sent"),
            "Authorization: Bearer *** sent"
        );
        assert_eq!(redact("GET /x?token=s3cr3t&a=1"), "GET /x?token=***&a=1");
    }

    #[test]
    fn registered_values_are_masked_anywhere() {
        register("very-secret-value-42");
        assert_eq!(
            redact("the dsn was very-secret-value-42!"),
            "the dsn was ***!"
        );
    }
}
