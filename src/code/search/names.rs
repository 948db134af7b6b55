//! Words and names: whole-word matching, and the naming conventions that tie a table to its
//! model class (`order_items` ↔ `OrderItem`).
//!
//! Every recogniser in `search` matches names as whole words, never substrings, so that
//! `total` does not match `subtotal`; this module is the one place that decides what a word is.

pub(super) fn is_word(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_'
}

/// Length in bytes of the identifier `s` starts with.
pub(super) fn ident_len(s: &str) -> usize {
    s.bytes().take_while(|&c| is_word(c)).count()
}

pub(super) fn indent_of(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Byte offsets of `needle` as a whole word, ASCII case-insensitive. `dunder`: Python's
/// `total__gt` lookups end the word at `__`.
pub(super) fn word_matches(hay: &str, needle: &str, dunder: bool) -> Vec<usize> {
    let (h, n) = (hay.as_bytes(), needle.as_bytes());
    let mut out = Vec::new();
    if n.is_empty() {
        return out;
    }
    let mut i = 0;
    while i + n.len() <= h.len() {
        let end = i + n.len();
        let ends = match h.get(end) {
            None => true,
            Some(&c) => !is_word(c) || (dunder && h.get(end..end + 2) == Some(b"__")),
        };
        if h[i..end].eq_ignore_ascii_case(n) && (i == 0 || !is_word(h[i - 1])) && ends {
            out.push(i);
            i = end;
        } else {
            i += 1;
        }
    }
    out
}

pub(super) fn has_word(hay: &str, needle: &str, ignore_case: bool) -> bool {
    word_matches(hay, needle, false)
        .iter()
        .any(|&p| ignore_case || hay.get(p..p + needle.len()) == Some(needle))
}

/// `public.orders`, `"orders"`, `` `orders` `` → `orders`.
pub(super) fn bare_name(name: &str) -> &str {
    let last = name.rsplit('.').next().unwrap_or(name).trim();
    last.trim_matches(|c| matches!(c, '"' | '`' | '[' | ']'))
}

/// `OrderItem` → `order_item`, `UserID` → `user_id`.
pub(super) fn snake_case(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::new();
    for (i, &c) in chars.iter().enumerate() {
        if c.is_uppercase() && i > 0 {
            let prev = chars[i - 1];
            let next_lower = chars.get(i + 1).is_some_and(|n| n.is_lowercase());
            if prev.is_lowercase() || prev.is_ascii_digit() || (prev.is_uppercase() && next_lower) {
                out.push('_');
            }
        }
        out.extend(c.to_lowercase());
    }
    out
}

/// English plural as Rails and GORM make table names: `order` → `orders`, `category` →
/// `categories`, `box` → `boxes`.
pub(super) fn plural(word: &str) -> String {
    let consonant_y = word
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'i', 'o', 'u']));
    match consonant_y {
        Some(stem) if !stem.is_empty() => format!("{stem}ies"),
        _ if ["s", "x", "z", "ch", "sh"]
            .iter()
            .any(|e| word.ends_with(e)) =>
        {
            format!("{word}es")
        }
        _ => format!("{word}s"),
    }
}

fn singular(word: &str) -> String {
    if let Some(stem) = word.strip_suffix("ies") {
        format!("{stem}y")
    } else if let Some(stem) = ["ses", "xes", "zes", "ches", "shes"]
        .iter()
        .find_map(|e| word.strip_suffix(e).map(|s| (s, e)))
    {
        format!("{}{}", stem.0, &stem.1[..stem.1.len() - 2])
    } else {
        word.strip_suffix('s')
            .filter(|s| !s.ends_with('s'))
            .unwrap_or(word)
            .to_string()
    }
}

/// The model class names a table has by convention: `order_items` → `OrderItem`.
pub(super) fn class_names(table: &str) -> Vec<String> {
    let camel = |s: &str| {
        s.split('_')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let mut c = p.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect::<String>())
                    .unwrap_or_default()
            })
            .collect::<String>()
    };
    let table = table.to_ascii_lowercase();
    let mut out = vec![camel(&singular(&table))];
    if !out.contains(&camel(&table)) {
        out.push(camel(&table));
    }
    out.retain(|c| !c.is_empty());
    out
}
