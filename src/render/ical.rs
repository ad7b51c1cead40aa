//! iCalendar (RFC 5545) content lines: escaping, folding, CRLF.
//!
//! A small writer of our own rather than the `icalendar` crate, whose gaps we
//! would have to work around one by one (a random `UID` on every `VALARM`,
//! `DTSTAMP` defaulting to the clock, `\r` left unescaped, list values not
//! escaped); here every byte is ours and the conformance tests check it.
//!
//! Invariants: every line ends in CRLF; no line is longer than 75 octets
//! (continuations start with one space); a fold never splits a UTF-8
//! character; TEXT values cannot contain a raw CR or LF, so no input can start
//! a new property or component.

use chrono::{DateTime, NaiveDate, Utc};

/// The longest content line, in octets, excluding CRLF (RFC 5545 §3.1).
const MAX_OCTETS: usize = 75;

/// Accumulates content lines.
#[derive(Default)]
pub struct Writer {
    out: String,
}

impl Writer {
    pub fn new() -> Self {
        Writer::default()
    }

    /// A writer whose buffer starts at `bytes`: a whole feed is written
    /// without growing (and copying) a buffer of megabytes several times.
    pub fn with_capacity(bytes: usize) -> Self {
        Writer {
            out: String::with_capacity(bytes),
        }
    }

    /// A property whose value is already in its final form (dates, numbers,
    /// URIs, enumerated values). `value` must not contain CR or LF: callers
    /// pass only values they produced; anything else is stripped.
    pub fn raw(&mut self, name: &str, value: &str) {
        let mut line = String::with_capacity(name.len() + value.len() + 1);
        line.push_str(name);
        line.push(':');
        line.extend(value.chars().filter(|c| !c.is_control()));
        self.fold(&line);
    }

    /// A TEXT property, escaped.
    pub fn text(&mut self, name: &str, value: &str) {
        self.raw_escaped(name, &escape_text(value));
    }

    /// A non-standard `X-` property that parsers disagree on: ical.js and
    /// Python icalendar read `X-WR-CALNAME` raw, vobject splits it at commas.
    /// The only form all read alike has no `,` `;` `\\` and no line breaks, so
    /// those become spaces.
    pub fn x_text(&mut self, name: &str, value: &str) {
        let value: String = value
            .chars()
            .map(|c| {
                if c.is_control() || matches!(c, ',' | ';' | '\\') {
                    ' '
                } else {
                    c
                }
            })
            .collect();
        self.raw_escaped(name, &value);
    }

    /// A property holding a list of TEXT values (e.g. `CATEGORIES`).
    pub fn text_list<'a>(&mut self, name: &str, values: impl IntoIterator<Item = &'a str>) {
        let joined: Vec<String> = values.into_iter().map(escape_text).collect();
        self.raw_escaped(name, &joined.join(","));
    }

    /// A UTC date-time in basic format: `20270331T100000Z`.
    pub fn utc(&mut self, name: &str, at: DateTime<Utc>) {
        self.raw(name, &format_utc(at));
    }

    /// A `VALUE=DATE` property: `DTSTART;VALUE=DATE:20240715`.
    pub fn date(&mut self, name: &str, date: NaiveDate) {
        self.raw(
            &format!("{name};VALUE=DATE"),
            &date.format("%Y%m%d").to_string(),
        );
    }

    fn raw_escaped(&mut self, name: &str, escaped: &str) {
        let mut line = String::with_capacity(name.len() + escaped.len() + 1);
        line.push_str(name);
        line.push(':');
        line.push_str(escaped);
        self.fold(&line);
    }

    /// Writes `line` folded at 75 octets, never inside a UTF-8 character.
    fn fold(&mut self, line: &str) {
        let mut rest = line;
        let mut limit = MAX_OCTETS;
        loop {
            if rest.len() <= limit {
                self.out.push_str(rest);
                self.out.push_str("\r\n");
                return;
            }
            let mut cut = limit;
            while !rest.is_char_boundary(cut) {
                cut -= 1;
            }
            // Keep escape sequences (`\,`, `\n`) whole: folding inside one is
            // legal, but naive unfolders in the wild get it wrong.
            let backslashes = rest[..cut]
                .bytes()
                .rev()
                .take_while(|&b| b == b'\\')
                .count();
            if backslashes % 2 == 1 {
                cut -= 1;
            }
            self.out.push_str(&rest[..cut]);
            self.out.push_str("\r\n ");
            rest = &rest[cut..];
            // A continuation line's leading space counts towards its 75 octets.
            limit = MAX_OCTETS - 1;
        }
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// Escapes a TEXT value: `\` `;` `,` and line breaks (CRLF, CR or LF become
/// `\n`); other control characters, which TEXT does not allow, are dropped.
pub fn escape_text(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\\n");
            }
            '\n' => out.push_str("\\n"),
            '\t' => out.push(' '),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `20270331T100000Z`.
pub fn format_utc(at: DateTime<Utc>) -> String {
    at.format("%Y%m%dT%H%M%SZ").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(s: &str) -> Vec<&str> {
        s.split_terminator("\r\n").collect()
    }

    #[test]
    fn escape_table() {
        let cases = [
            ("plain", "plain"),
            ("a,b;c\\d", "a\\,b\\;c\\\\d"),
            ("one\ntwo", "one\\ntwo"),
            ("one\r\ntwo", "one\\ntwo"),
            ("one\rtwo", "one\\ntwo"),
            (
                "x\nEND:VEVENT\nBEGIN:VEVENT",
                "x\\nEND:VEVENT\\nBEGIN:VEVENT",
            ),
            ("bell\u{7}tab\t", "belltab "),
            ("Альтернативный доклад…", "Альтернативный доклад…"),
        ];
        for (input, expected) in cases {
            assert_eq!(escape_text(input), expected, "{input:?}");
        }
    }

    #[test]
    fn folds_at_75_octets_without_splitting_characters() {
        for title in [
            "a".repeat(500),
            "Ж".repeat(500),
            "😀".repeat(200),
            format!("x{}", "Ж".repeat(300)),
            format!("xy{}", "😀".repeat(150)),
            ",".repeat(200),
            format!("a{}", "\\;".repeat(100)),
        ] {
            let mut w = Writer::new();
            w.text("SUMMARY", &title);
            let out = w.finish();
            assert!(out.ends_with("\r\n"));
            let ls = lines(&out);
            assert!(ls.len() > 1);
            for (i, l) in ls.iter().enumerate() {
                assert!(l.len() <= 75, "line {i} has {} octets", l.len());
                if i > 0 {
                    assert!(l.starts_with(' '));
                }
            }
            // Unfolding gives back the value.
            let unfolded = out.trim_end_matches("\r\n").replace("\r\n ", "");
            assert_eq!(unfolded, format!("SUMMARY:{}", escape_text(&title)));
            // No fold falls inside an escape sequence.
            for l in &ls {
                let trailing = l.bytes().rev().take_while(|&b| b == b'\\').count();
                assert_eq!(trailing % 2, 0, "{l}");
            }
        }
    }

    #[test]
    fn raw_values_cannot_break_lines() {
        let mut w = Writer::new();
        w.raw("URL", "https://x.org/\r\nEND:VCALENDAR");
        assert_eq!(w.finish(), "URL:https://x.org/END:VCALENDAR\r\n");
    }

    #[test]
    fn lists_escape_each_value() {
        let mut w = Writer::new();
        w.text_list("CATEGORIES", ["CERD", "Women, girls", "a;b"]);
        assert_eq!(w.finish(), "CATEGORIES:CERD,Women\\, girls,a\\;b\r\n");
    }
}
