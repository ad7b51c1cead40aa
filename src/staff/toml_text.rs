//! Deadline entries written as TOML the way staff write them by hand:
//! one `key = value` per line, free text in a `"""` block where it reads as
//! written. Pure.

/// `[[deadline]]` after a blank line, then `id` and `lines` (`key`, value
/// as TOML), one per line.
pub fn deadline_block(id: &str, lines: &[(&str, String)]) -> String {
    let mut out = String::from("\n[[deadline]]\n");
    out.push_str(&format!("id = {}\n", quoted(id)));
    for (key, value) in lines {
        out.push_str(&format!("{key} = {value}\n"));
    }
    out
}

/// Free text as a TOML string: a `"""` block when it reads as written,
/// else an escaped one-line string.
pub fn multiline(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let plain = !text.contains('\\')
        && !text.contains("\"\"")
        && !text.ends_with('"')
        && !text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t');
    if plain && text.contains('\n') {
        format!("\"\"\"\n{text}\n\"\"\"")
    } else {
        quoted(&text)
    }
}

/// A TOML basic string: `"…"` with `\\`, `\"` and control characters
/// escaped.
pub fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_and_text_kept_readable() {
        assert_eq!(quoted("a \"b\" \\ c"), r#""a \"b\" \\ c""#);
        assert_eq!(quoted("tab\there\u{7}"), r#""tab\there\u0007""#);
        assert_eq!(multiline("one line"), "\"one line\"");
        assert_eq!(multiline("two\r\nlines"), "\"\"\"\ntwo\nlines\n\"\"\"");
        // Text a `"""` block would change is escaped instead.
        assert_eq!(multiline("a\n\"\"\"b"), r#""a\n\"\"\"b""#);
        assert_eq!(multiline("ends\nwith \""), r#""ends\nwith \"""#);
        for text in ["two\nlines", "a\n\"\"\"b", "x \\ y\nz", "ends\nwith \""] {
            let parsed: toml::Table = toml::from_str(&format!("v = {}", multiline(text))).unwrap();
            // A block ends in a line break, as hand-written ones do.
            let value = parsed["v"].as_str().unwrap();
            assert!(
                value == text || value == format!("{text}\n"),
                "{text:?}: {value:?}"
            );
        }
    }
}
