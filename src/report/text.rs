//! Wrapping text to a terminal's width: display columns (a CJK character takes two, a combining
//! mark none), words kept whole where they fit, longer ones (a path, a URL) cut so that no line
//! is ever wider than asked.

use unicode_width::UnicodeWidthChar;

/// Display width of `text` in terminal columns.
pub fn width(text: &str) -> usize {
    text.chars().map(|c| c.width().unwrap_or(0)).sum()
}

/// `text` wrapped to `width` columns: the first line starts with `first`, the others with
/// `rest` (a hanging indent). Newlines in `text` start new lines; runs of spaces collapse.
pub fn wrap(text: &str, first: &str, rest: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = first.to_string();
    let mut line_width = self::width(first);
    let mut line_has_word = false;
    for (index, paragraph) in text.split('\n').enumerate() {
        if index > 0 {
            lines.push(std::mem::replace(&mut line, rest.to_string()));
            line_width = self::width(rest);
            line_has_word = false;
        }
        for word in paragraph.split([' ', '\t', '\r']).filter(|w| !w.is_empty()) {
            let word_width = self::width(word);
            let space = usize::from(line_has_word);
            if line_has_word && line_width + space + word_width > width {
                lines.push(std::mem::replace(&mut line, rest.to_string()));
                line_width = self::width(rest);
                line_has_word = false;
            }
            let space = usize::from(line_has_word);
            if line_width + space + word_width <= width {
                if line_has_word {
                    line.push(' ');
                }
                line.push_str(word);
                line_width += space + word_width;
                line_has_word = true;
                continue;
            }
            // Longer than a whole line: cut it where the line ends, after a `/` when one is on
            // the line (a long path breaks between directories, not inside a line number).
            if line_has_word {
                line.push(' ');
                line_width += 1;
            }
            let mut piece = String::new();
            let mut piece_width = 0;
            for c in word.chars() {
                let c_width = c.width().unwrap_or(0);
                if line_width + piece_width + c_width > width
                    && line_width + piece_width > self::width(rest)
                {
                    let keep = match piece.rfind('/') {
                        Some(slash) if slash + 1 < piece.len() => slash + 1,
                        _ => piece.len(),
                    };
                    let carried = piece.split_off(keep);
                    line.push_str(&piece);
                    lines.push(std::mem::replace(&mut line, rest.to_string()));
                    line_width = self::width(rest);
                    piece_width = self::width(&carried);
                    piece = carried;
                }
                piece.push(c);
                piece_width += c_width;
            }
            line.push_str(&piece);
            line_width += piece_width;
            line_has_word = true;
        }
    }
    lines.push(line);
    lines
}

/// At most `max` characters of `text`, ending in `…` when cut.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_under_a_hanging_indent_within_the_width() {
        let text = "ACCESS EXCLUSIVE on orders with no lock_timeout set: if it waits behind a long query, every query on orders queues behind it";
        let lines = wrap(text, "  fail ", "       ", 40);
        assert!(lines.iter().all(|l| width(l) <= 40), "{lines:#?}");
        assert!(lines[0].starts_with("  fail ACCESS"));
        assert!(lines[1..].iter().all(|l| l.starts_with("       ")));
        assert_eq!(
            lines
                .iter()
                .map(|l| l.trim())
                .collect::<Vec<_>>()
                .join(" ")
                .replace("fail ", ""),
            text
        );
    }

    #[test]
    fn cuts_words_longer_than_a_line() {
        let long = "x".repeat(100);
        let lines = wrap(&format!("see {long} now"), "", "  ", 30);
        assert!(lines.iter().all(|l| width(l) <= 30), "{lines:#?}");
        assert_eq!(lines.concat().matches('x').count(), 100);
    }

    #[test]
    fn long_paths_break_after_a_slash() {
        let text =
            "internal/testing/integration/testdata/migrations/mysql/00002_insert.sql:21:1: DELETE";
        let lines = wrap(text, "  fail ", "      ", 80);
        assert!(lines.iter().all(|l| width(l) <= 80), "{lines:#?}");
        assert_eq!(
            lines[0],
            "  fail internal/testing/integration/testdata/migrations/mysql/"
        );
        assert!(
            lines[1].starts_with("      00002_insert.sql:21:1: DELETE"),
            "{lines:#?}"
        );
    }

    #[test]
    fn counts_display_columns() {
        assert_eq!(width("表"), 2);
        let lines = wrap(&"表".repeat(30), "", "", 21);
        assert!(lines.iter().all(|l| width(l) <= 21), "{lines:#?}");
    }

    #[test]
    fn newlines_start_new_lines() {
        assert_eq!(wrap("a\nb", "> ", "  ", 80), vec!["> a", "  b"]);
    }
}
