//! Secrets never appear in any output format.
//!
//! Two nets, both applied to text *before* any renderer escapes it (an escaped secret, such as
//! `a\"b` in JSON or `a&amp;b` in JUnit, no longer matches the value it came from):
//!
//! - every value read from the environment through `env:NAME` in the config is registered
//!   ([`register`]) and masked wherever it appears, together with the parts of it that are
//!   credentials on their own (the password of a URL, trimmed and percent-decoded);
//! - whatever its origin, a credential recognised by its shape is masked: the password of a URL
//!   (`postgres://user:secret@host`), the value after `password=`, `pwd=`, `token=`… (quoted or
//!   not), and the credentials of an `Authorization:` header whatever its scheme.
//!
//! The report masks its model with [`redact`] before rendering; [`redact_registered`] is the
//! renderers' last pass over their final text, for the registered values and their escaped forms.

use std::ops::Range;
use std::sync::{Mutex, OnceLock};

pub const MASK: &str = "***";

/// Shorter registered values are ignored: masking every "1" or "on" in a report would destroy
/// it and protect nothing.
const SHORTEST_REGISTERED: usize = 4;

fn registry() -> &'static Mutex<Vec<String>> {
    static SECRETS: OnceLock<Mutex<Vec<String>>> = OnceLock::new();
    SECRETS.get_or_init(|| Mutex::new(Vec::new()))
}

fn registered() -> Vec<String> {
    registry().lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Remember a secret value so it is masked in all output. Also registered: the value without
/// surrounding whitespace (`$(cat token.txt)` keeps the file's newline, the plugin that prints
/// the token does not), each line of a multi-line value (a table or an evidence block shows one
/// line at a time), and the credentials found inside it (a URL's password, raw and
/// percent-decoded, as a driver's error message may quote it on its own).
pub fn register(value: &str) {
    let mut candidates = vec![value.to_string(), value.trim().to_string()];
    if value.trim().contains('\n') {
        candidates.extend(value.lines().map(|line| line.trim().to_string()));
    }
    for span in pattern_spans(value) {
        let part = &value[span];
        candidates.push(part.to_string());
        candidates.push(crate::percent::decode(part));
    }
    let mut secrets = registry().lock().unwrap_or_else(|e| e.into_inner());
    for candidate in candidates {
        if candidate.chars().count() >= SHORTEST_REGISTERED
            && candidate != MASK
            && !secrets.contains(&candidate)
        {
            secrets.push(candidate);
        }
    }
}

/// `text` with every registered value and every recognised credential replaced by `***`.
pub fn redact(text: &str) -> String {
    replace_spans(text, &secret_spans(text)).0
}

/// [`redact`] for a path shown relative to the project root: paths are displayed with `/`
/// separators, so a registered value holding `\` is also searched with `/` in its place.
pub fn redact_path(path: &str) -> String {
    let mut spans = secret_spans(path);
    for secret in registered().iter().filter(|s| s.contains('\\')) {
        let shown = secret.replace('\\', "/");
        spans.extend(
            path.match_indices(shown.as_str())
                .map(|(at, found)| at..at + found.len()),
        );
    }
    replace_spans(path, &merge(spans)).0
}

/// [`redact`] for a line shown with a caret under a column (a config error's snippet): the
/// masked line and the 1-based character column the caret moves to. A column inside a masked
/// value points at its mask.
pub fn redact_keeping_column(text: &str, column: usize) -> (String, usize) {
    let byte = text
        .char_indices()
        .nth(column.saturating_sub(1))
        .map_or(text.len(), |(index, _)| index);
    let (masked, moved) = replace_spans(text, &secret_spans(text));
    let shift = |position: usize| masked[..moved(position)].chars().count();
    (masked.clone(), shift(byte) + 1)
}

/// The last pass over a renderer's final text: every registered value and each of its forms
/// (the renderer's escapings of it) replaced by `***`. Recognised patterns are not searched here:
/// they were masked in the model, and a pattern matched across a format's escaping and
/// structure (`\"`, `&quot;`, a JSON line's closing quote) could corrupt the document.
pub fn redact_registered(text: &str, forms: impl Fn(&str) -> Vec<String>) -> String {
    let mut spans = Vec::new();
    for secret in registered() {
        let mut variants = forms(&secret);
        variants.push(secret);
        for variant in variants.iter().filter(|v| !v.is_empty()) {
            spans.extend(
                text.match_indices(variant.as_str())
                    .map(|(at, found)| at..at + found.len()),
            );
        }
    }
    replace_spans(text, &merge(spans)).0
}

fn secret_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = pattern_spans(text);
    for secret in registered() {
        spans.extend(
            text.match_indices(secret.as_str())
                .map(|(at, found)| at..at + found.len()),
        );
    }
    merge(spans)
}

fn pattern_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = url_password_spans(text);
    spans.extend(keyword_value_spans(text));
    spans.extend(authorization_spans(text));
    spans.extend(bearer_token_spans(text));
    spans.retain(|span| !span.is_empty() && !is_masked(&text[span.clone()]));
    merge(spans)
}

/// Sorted, with overlapping and touching spans joined (two masks side by side say no more).
fn merge(mut spans: Vec<Range<usize>>) -> Vec<Range<usize>> {
    spans.sort_by_key(|span| (span.start, span.end));
    let mut merged: Vec<Range<usize>> = Vec::with_capacity(spans.len());
    for span in spans {
        match merged.last_mut() {
            Some(last) if span.start <= last.end => last.end = last.end.max(span.end),
            _ => merged.push(span),
        }
    }
    merged
}

/// Replace merged spans by the mask; also returns where a byte position of `text` lands in the
/// result (a position inside a span lands on its mask).
fn replace_spans(text: &str, spans: &[Range<usize>]) -> (String, impl Fn(usize) -> usize + use<>) {
    let mut out = String::with_capacity(text.len());
    // (span in text, where its mask starts in out)
    let mut moved: Vec<(Range<usize>, usize)> = Vec::with_capacity(spans.len());
    let mut cursor = 0;
    for span in spans {
        out.push_str(&text[cursor..span.start]);
        moved.push((span.clone(), out.len()));
        out.push_str(MASK);
        cursor = span.end;
    }
    out.push_str(&text[cursor..]);
    let position = move |byte: usize| {
        let mut delta: isize = 0;
        for (span, mask_at) in &moved {
            if byte < span.start {
                break;
            }
            if byte < span.end {
                return *mask_at;
            }
            delta += MASK.len() as isize - span.len() as isize;
        }
        (byte as isize + delta).max(0) as usize
    };
    (out, position)
}

/// A value that is already `***` (the model was masked before it was rendered): leave it.
fn is_masked(value: &str) -> bool {
    value
        .strip_prefix(MASK)
        .is_some_and(|rest| rest.chars().next().is_none_or(|c| !c.is_alphanumeric()))
}

/// `scheme://user:password@host` → the password. The userinfo ends at the *last* `@` before
/// whitespace: WHATWG URL parsers take the last `@` of the authority, and rust-postgres (like
/// most drivers) accepts `)`, `'`, `/` and `?` in a password that was not percent-encoded, so
/// only whitespace is taken to end the URL.
fn url_password_spans(text: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    for (index, _) in text.match_indices("://") {
        let start = index + 3;
        let token_end = text[start..]
            .find(char::is_whitespace)
            .map_or(text.len(), |end| start + end);
        let token = &text[start..token_end];
        let Some(at) = token.rfind('@') else {
            continue;
        };
        let userinfo = &token[..at];
        let Some(colon) = userinfo.find(':') else {
            continue;
        };
        if userinfo[..colon].contains(['/', '?', '#']) {
            // `https://example.com/a:b@c`: the colon is in the path; there is no userinfo.
            continue;
        }
        let password = &userinfo[colon + 1..];
        let digits = password.bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 && password[digits..].starts_with(['/', '?', '#']) {
            // `http://host:8080/users/@me`: a port, then a path that holds an `@`.
            continue;
        }
        spans.push(start + colon + 1..start + at);
    }
    spans
}

/// Key names whose value is a credential, and the shortest value masked after `name: ` (prose
/// such as "token: missing" must survive; after `=` every value is masked).
const CREDENTIAL_KEYS: &[(&str, usize)] = &[
    ("password", 1),
    ("passwd", 1),
    ("pwd", 1),
    ("secret", 12),
    ("token", 12),
    ("api_key", 12),
    ("apikey", 12),
    ("api-key", 12),
    ("access_key", 12),
];

/// The value after `password=`, `PGPASSWORD=`, `pwd=`, `token=`, `"password": "…"`,
/// `password: …` (YAML) and the like, quoted or not.
fn keyword_value_spans(text: &str) -> Vec<Range<usize>> {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    for (name, shortest_after_colon) in CREDENTIAL_KEYS {
        for (index, _) in lower.match_indices(name) {
            let mut i = index + name.len();
            // The closing quote of a quoted key: `"password": …`, `'pwd'=…`.
            if matches!(bytes.get(i), Some(b'"' | b'\'')) {
                i += 1;
            }
            i = skip_blanks(bytes, i);
            let separator = bytes.get(i).copied();
            i += 1;
            match separator {
                Some(b'=') if bytes.get(i) != Some(&b'=') => {}
                // `password: x` and `"password":"x"`, not `Token::Whitespace` or `pwd:/home`.
                Some(b':') if matches!(bytes.get(i), Some(b' ' | b'\t' | b'"' | b'\'')) => {}
                _ => continue,
            }
            i = skip_blanks(bytes, i);
            let line_end = text[i..].find(['\n', '\r']).map_or(text.len(), |e| i + e);
            let span = if let Some(quoted) = quoted_value(text, i, line_end) {
                quoted
            } else if separator == Some(b'=') {
                i..unquoted_end(text, i, line_end)
            } else if *shortest_after_colon == 1 {
                // A YAML plain scalar runs to the end of the line (spaces included), or to a
                // ` #` comment.
                let end = text[i..line_end].find(" #").map_or(line_end, |e| i + e);
                i..i + text[i..end].trim_end().len()
            } else {
                let end = text[i..line_end]
                    .find(|c: char| c.is_whitespace() || "\"'`<,;".contains(c))
                    .map_or(line_end, |e| i + e);
                if text[i..end].chars().count() < *shortest_after_colon {
                    continue;
                }
                i..end
            };
            spans.push(span);
        }
    }
    spans
}

fn skip_blanks(bytes: &[u8], mut i: usize) -> usize {
    while matches!(bytes.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

/// A value in `"…"` or `'…'` starting at `start`: the text inside the quotes. A backslash
/// escapes the next character (libpq's `password='it\'s'`) and a doubled quote is one quote
/// (YAML's `'it''s'`, ADO.NET's `"a""b"`). Without a closing quote, the rest of the line.
fn quoted_value(text: &str, start: usize, line_end: usize) -> Option<Range<usize>> {
    let bytes = text.as_bytes();
    let quote = *bytes.get(start).filter(|b| matches!(b, b'"' | b'\''))?;
    let mut i = start + 1;
    while i < line_end {
        match bytes[i] {
            b'\\' => i += 2,
            b if b == quote && bytes.get(i + 1) == Some(&quote) => i += 2,
            b if b == quote => return Some(start + 1..i),
            _ => i += 1,
        }
    }
    Some(start + 1..line_end)
}

/// Where an unquoted `key=value` value ends. libpq's `key=value` strings end a value only at
/// whitespace, so `,` and `;` belong to the password, unless another `key=` follows them (a
/// URL query's `&sslmode=`, ADO.NET's `;User Id=`). A closing bracket ends it only when the
/// text goes on after it (`(token=abc).`), and a quote or `<` always does.
fn unquoted_end(text: &str, start: usize, line_end: usize) -> usize {
    let bytes = text.as_bytes();
    let mut i = start;
    while i < line_end {
        match bytes[i] {
            b' ' | b'\t' | b'"' | b'\'' | b'`' | b'<' => return i,
            b'&' | b';' | b',' if key_follows(&text[i + 1..line_end]) => return i,
            b')' | b']' | b'}' | b'>'
                if bytes.get(i + 1).is_none_or(|next| {
                    next.is_ascii_whitespace() || b".,;:!?)]}>\"'`".contains(next)
                }) =>
            {
                return i;
            }
            _ => i += 1,
        }
    }
    line_end
}

/// `sslmode=…`: a key (letters, digits, `_`, `-`, `.`) and `=`. A key with a space (ADO.NET's
/// `User Id=`) is not taken for one: in libpq's `password=a;b user=x` the space separates, and
/// masking `;User` too is the safe mistake.
fn key_follows(rest: &str) -> bool {
    let Some(eq) = rest.find('=') else {
        return false;
    };
    let key = &rest[..eq];
    key.len() <= 40
        && key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.".contains(c))
}

/// The IANA HTTP Authentication Scheme Registry, and the non-standard schemes APIs commonly use.
const KNOWN_AUTH_SCHEMES: &[&str] = &[
    "Basic",
    "Bearer",
    "Concealed",
    "Digest",
    "DPoP",
    "GNAP",
    "HOBA",
    "Mutual",
    "Negotiate",
    "NTLM",
    "OAuth",
    "PrivateToken",
    "SCRAM-SHA-1",
    "SCRAM-SHA-256",
    "vapid",
    "AWS4-HMAC-SHA256",
    "ApiKey",
    "Api-Key",
    "Key",
    "Token",
    "JWT",
    "SSWS",
    "Splunk",
];

/// An `Authorization:` (or `Proxy-Authorization:`) header's credentials, whatever the scheme:
/// `Bearer x`, `Basic x`, `ApiKey x`, `Digest username="…", response="…"` or a raw token. The
/// scheme word stays readable; the rest of the header value is masked, to the end of the line
/// or to the quote that encloses the header (`-H 'Authorization: …'`).
fn authorization_spans(text: &str) -> Vec<Range<usize>> {
    let lower = text.to_ascii_lowercase();
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    for (index, _) in lower.match_indices("authorization") {
        let enclosing_quote = index
            .checked_sub(1)
            .map(|before| bytes[before])
            .filter(|b| matches!(b, b'"' | b'\''));
        let mut i = index + "authorization".len();
        let key_quoted = matches!(bytes.get(i), Some(b'"' | b'\''));
        if key_quoted {
            i += 1;
        }
        i = skip_blanks(bytes, i);
        if !matches!(bytes.get(i), Some(b':' | b'=')) {
            continue;
        }
        i = skip_blanks(bytes, i + 1);
        let line_end = text[i..].find(['\n', '\r']).map_or(text.len(), |e| i + e);
        let value = if key_quoted {
            // `"Authorization": "Bearer x"`: the value is a quoted string of its own.
            match quoted_value(text, i, line_end) {
                Some(value) => value,
                None => continue,
            }
        } else {
            let end = enclosing_quote
                .and_then(|quote| text[i..line_end].find(quote as char))
                .map_or(line_end, |e| i + e);
            i..end
        };
        let value = value.start..value.start + text[value.clone()].trim_end().len();
        let credentials = &text[value.clone()];
        // `<scheme> <credentials>` (RFC 9110 §11.4). Only a known scheme stays readable: a raw
        // token looks like a scheme word too (`Authorization: abc-123 …`).
        let scheme_len = credentials
            .find(' ')
            .filter(|&len| {
                KNOWN_AUTH_SCHEMES
                    .iter()
                    .any(|scheme| scheme.eq_ignore_ascii_case(&credentials[..len]))
                    && !credentials[len..].trim().is_empty()
            })
            .map_or(0, |len| len + 1);
        let start = skip_blanks(bytes, value.start + scheme_len);
        if start < value.end {
            spans.push(start..value.end);
        }
    }
    spans
}

/// A bearer token outside an `Authorization:` header (`curl … Bearer eyJ…`). Only token-like
/// values are masked, so that prose such as "the bearer of" survives.
fn bearer_token_spans(text: &str) -> Vec<Range<usize>> {
    const SHORTEST_TOKEN: usize = 12;
    let lower = text.to_ascii_lowercase();
    lower
        .match_indices("bearer ")
        .filter_map(|(index, keyword)| {
            let start = index + keyword.len();
            let end = text[start..]
                .find(|c: char| c.is_whitespace() || "\"'`<>,;)]}".contains(c))
                .map_or(text.len(), |e| start + e);
            (text[start..end].chars().count() >= SHORTEST_TOKEN).then_some(start..end)
        })
        .collect()
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
        assert_eq!(
            redact("http://127.0.0.1:8080/users/@me"),
            "http://127.0.0.1:8080/users/@me"
        );
        assert_eq!(
            redact("https://example.com/a:b@c"),
            "https://example.com/a:b@c"
        );
    }

    #[test]
    fn url_passwords_with_closing_brackets_and_quotes_are_masked_whole() {
        assert_eq!(
            redact("(postgres://app:Pa)ss'w0rd@db/shop)"),
            "(postgres://app:***@db/shop)"
        );
        assert_eq!(
            redact("mysql://root:a@b/c?d#e@db:3306/x is down"),
            "mysql://root:***@db:3306/x is down"
        );
        assert_eq!(
            redact("'postgres://u:it's@h'"),
            "'postgres://u:***@h'",
            "the last @ ends the userinfo"
        );
    }

    #[test]
    fn key_value_passwords_with_commas_and_semicolons_are_masked_whole() {
        assert_eq!(
            redact("host=db password=a,b;c user=x"),
            "host=db password=*** user=x"
        );
        assert_eq!(redact("PGPASSWORD=s3c;r,et psql"), "PGPASSWORD=*** psql");
        assert_eq!(redact("pwd=one,two"), "pwd=***");
    }

    #[test]
    fn quoted_key_value_passwords_are_masked_inside_their_quotes() {
        assert_eq!(
            redact("host=db password='a b;c,d' user=x"),
            "host=db password='***' user=x"
        );
        assert_eq!(
            redact(r"password='it\'s; ok' dbname=x"),
            "password='***' dbname=x"
        );
        assert_eq!(
            redact(r#"Server=db;Password="x;y""z";User Id=sa"#),
            r#"Server=db;Password="***";User Id=sa"#
        );
        assert_eq!(
            redact(r#"{"password": "p,w;d", "user": "app"}"#),
            r#"{"password": "***", "user": "app"}"#
        );
    }

    #[test]
    fn the_next_key_ends_an_unquoted_value() {
        assert_eq!(
            redact("Server=db;Password=abc;Database=shop"),
            "Server=db;Password=***;Database=shop"
        );
        assert_eq!(redact("GET /x?token=s3cr3t&a=1"), "GET /x?token=***&a=1");
        assert_eq!(redact("(token=abc123). Next"), "(token=***). Next");
    }

    #[test]
    fn yaml_passwords_are_masked_to_the_end_of_the_line() {
        assert_eq!(
            redact("    password: correct horse # staging\n    user: app"),
            "    password: *** # staging\n    user: app"
        );
        assert_eq!(redact("  password: 'it''s, ok'"), "  password: '***'");
        assert_eq!(
            redact("the token: missing"),
            "the token: missing",
            "prose after a loose keyword survives"
        );
        assert_eq!(redact("pwd:/home/app"), "pwd:/home/app");
        assert_eq!(redact("Token::Whitespace"), "Token::Whitespace");
        assert_eq!(redact("the bearer of news"), "the bearer of news");
        assert_eq!(
            redact("curl -H Bearer eyJhbGciOi.x.y"),
            "curl -H Bearer ***"
        );
    }

    #[test]
    fn authorization_headers_are_masked_whatever_the_scheme() {
        for (header, masked) in [
            (
                "Authorization: Bearer abc.def.ghi",
                "Authorization: Bearer ***",
            ),
            (
                "Authorization: Basic YWxhZGRpbjpvcGVu",
                "Authorization: Basic ***",
            ),
            (
                "authorization: ApiKey k-123,456",
                "authorization: ApiKey ***",
            ),
            ("Authorization: raw-token-123", "Authorization: ***"),
            (
                "Authorization: raw-token-123 was refused",
                "Authorization: ***",
            ),
            (
                r#"Authorization: Digest username="bob", response="6629fae4""#,
                "Authorization: Digest ***",
            ),
            (
                "Proxy-Authorization: Token t0k",
                "Proxy-Authorization: Token ***",
            ),
        ] {
            assert_eq!(redact(header), masked);
        }
        assert_eq!(
            redact("curl -H 'Authorization: ApiKey k1' https://x/"),
            "curl -H 'Authorization: ApiKey ***' https://x/"
        );
        assert_eq!(
            redact(r#"{"Authorization": "Bearer t,o;k", "Accept": "*/*"}"#),
            r#"{"Authorization": "Bearer ***", "Accept": "*/*"}"#
        );
        assert_eq!(
            redact("GET /oauth/authorizations/{authorization_id} response 200"),
            "GET /oauth/authorizations/{authorization_id} response 200"
        );
    }

    #[test]
    fn registered_values_are_masked_anywhere() {
        register("very-secret-value-42");
        assert_eq!(
            redact("the dsn was very-secret-value-42!"),
            "the dsn was ***!"
        );
    }

    #[test]
    fn registered_values_are_also_masked_trimmed_and_line_by_line() {
        register("trailing-newline-secret-7\n");
        assert_eq!(redact("got trailing-newline-secret-7."), "got ***.");
        register("-----BEGIN KEY-----\nline-one-of-key-7\nline-two-of-key-7\n");
        assert_eq!(redact("| line-two-of-key-7"), "| ***");
    }

    #[test]
    fn a_registered_urls_password_is_masked_on_its_own() {
        register("postgres://app:p%40ss-word-71@db/shop");
        assert_eq!(
            redact("auth failed for p@ss-word-71"),
            "auth failed for ***"
        );
        assert_eq!(
            redact("auth failed for p%40ss-word-71"),
            "auth failed for ***"
        );
    }

    #[test]
    fn paths_are_masked_with_either_separator() {
        register(r"path\secret-value-74");
        assert_eq!(
            redact_path("config/path/secret-value-74.env"),
            "config/***.env"
        );
        assert_eq!(redact_path(r"config/path\secret-value-74"), "config/***");
    }

    #[test]
    fn escaped_forms_of_registered_values_are_masked_in_rendered_text() {
        register("esc&aped\"secret-73");
        let text = redact_registered("x esc&amp;aped&quot;secret-73 y", |s| {
            vec![s.replace('&', "&amp;").replace('"', "&quot;")]
        });
        assert_eq!(text, "x *** y");
    }

    #[test]
    fn truncated_and_non_ascii_input_never_panics() {
        let pieces = [
            "password=",
            "password",
            "pwd: ",
            "token=",
            "Authorization:",
            "authorization: ",
            "\"authorization\"",
            "://",
            "postgres://a:@",
            "x://:@",
            "password='",
            "password=\"\\",
            "é",
            "пароль",
            "🔑",
            "'",
            "\"",
            "\\",
            ";",
            ",",
            "&",
            "=",
            ":",
            "@",
            " ",
            "\n",
            "\t",
            "Bearer ",
            ")",
            "#",
        ];
        for a in pieces {
            for b in pieces {
                for c in pieces {
                    let text = format!("{a}{b}{c}");
                    let masked = redact(&text);
                    let length = text.chars().count();
                    for column in [0, 1, length / 2, length, length + 2] {
                        let (line, at) = redact_keeping_column(&text, column);
                        assert_eq!(line, masked);
                        assert!(at <= line.chars().count() + 1, "{text:?} {column}");
                    }
                }
            }
        }
    }

    #[test]
    fn masking_twice_changes_nothing_more() {
        for text in [
            "password=a,b host=x",
            "postgres://u:p)w@h/db",
            "Authorization: Digest a=\"b\"",
            "  password: hunter2 # c",
        ] {
            let once = redact(text);
            assert_eq!(redact(&once), once, "{text}");
        }
    }

    #[test]
    fn the_caret_column_follows_the_mask() {
        let line = "  scratch_url: postgres://app:longpassword@db/shop  # x";
        let column_of = |text: &str, needle: &str| text.find(needle).unwrap() + 1;
        let (masked, column) = redact_keeping_column(line, column_of(line, "shop"));
        assert_eq!(masked, "  scratch_url: postgres://app:***@db/shop  # x");
        assert_eq!(column, column_of(&masked, "shop"));
        let (_, inside) = redact_keeping_column(line, column_of(line, "password"));
        assert_eq!(inside, column_of(&masked, "***"));
        let (_, before) = redact_keeping_column(line, 3);
        assert_eq!(before, 3);
        let (_, past_the_end) = redact_keeping_column(line, 200);
        assert_eq!(past_the_end, masked.chars().count() + 1);
    }
}
