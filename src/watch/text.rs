//! A page's visible text: what a reader of the page sees, one line per
//! block, so that a rotated session token, a changed script, a new class
//! name or re-indented markup does not count as a change of the page.
//!
//! Not a full HTML parser: markup is skipped (comments, doctype, tags with
//! their attributes, quoted values included), the contents of elements
//! that show nothing (`script`, `style`, `noscript`, `template`, `svg`,
//! `head`…) are dropped, block elements end a line, common entities are
//! decoded, whitespace is collapsed and empty lines dropped. The result is
//! deterministic: the same page gives the same text, byte for byte.

use sha2::{Digest, Sha256};

/// Elements whose contents are not shown as text.
const HIDDEN: [&str; 9] = [
    "script", "style", "noscript", "template", "svg", "head", "iframe", "object", "math",
];

/// Elements that start or end a line of text.
const BLOCKS: [&str; 38] = [
    "p",
    "div",
    "br",
    "li",
    "ul",
    "ol",
    "dl",
    "dt",
    "dd",
    "tr",
    "td",
    "th",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "caption",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "section",
    "article",
    "aside",
    "header",
    "footer",
    "nav",
    "main",
    "blockquote",
    "pre",
    "hr",
    "form",
    "fieldset",
    "figure",
    "figcaption",
    "address",
];

/// The visible text of an HTML document: lines of single-spaced words.
pub fn visible(html: &str) -> String {
    let mut raw = String::with_capacity(html.len() / 4);
    let bytes = html.as_bytes();
    let mut i = 0;
    let mut text_from = 0;
    while i < bytes.len() {
        if bytes[i] != b'<' {
            i += 1;
            continue;
        }
        push_text(&mut raw, &html[text_from..i]);
        let rest = &html[i..];
        if let Some(comment) = rest.strip_prefix("<!--") {
            i += comment.find("-->").map_or(rest.len(), |e| e + 7);
        } else if rest.starts_with("<!") || rest.starts_with("<?") {
            i += rest.find('>').map_or(rest.len(), |e| e + 1);
        } else if let Some((name, closing, len)) = tag(rest) {
            i += len;
            if BLOCKS.contains(&name.as_str()) {
                raw.push('\n');
            }
            if !closing && HIDDEN.contains(&name.as_str()) {
                i += skip_element(&html[i..], &name);
            }
        } else {
            // A `<` that starts no tag ("a < b") is text.
            raw.push('<');
            i += 1;
        }
        text_from = i;
    }
    push_text(&mut raw, &html[text_from.min(html.len())..]);
    normalize(&raw)
}

/// Plain text normalised as `visible` normalises a page's text.
pub fn plain(text: &str) -> String {
    normalize(text)
}

/// The fingerprint of a text (or of a file's bytes): hex SHA-256, 32 digits.
pub fn fingerprint(bytes: &[u8]) -> String {
    crate::reminders::tokens::hex(&Sha256::digest(bytes)[..16])
}

/// `text` cut to at most `max` bytes, at a line end where one is near
/// (never inside a character).
pub fn bounded(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    match text[..end].rfind('\n') {
        Some(nl) if nl > max / 2 => &text[..nl],
        _ => &text[..end],
    }
}

/// A tag at the start of `s` (`<name …>` or `</name …>`): its lower-case
/// name, whether it closes, and its length in bytes.
fn tag(s: &str) -> Option<(String, bool, usize)> {
    let b = s.as_bytes();
    let (closing, start) = if b.get(1) == Some(&b'/') {
        (true, 2)
    } else {
        (false, 1)
    };
    if !b.get(start).is_some_and(u8::is_ascii_alphabetic) {
        return None;
    }
    let name_end = start
        + b[start..]
            .iter()
            .position(|c| !(c.is_ascii_alphanumeric() || *c == b'-' || *c == b':'))
            .unwrap_or(b.len() - start);
    let name = s[start..name_end].to_ascii_lowercase();
    // The end of the tag: the first `>` outside a quoted attribute value.
    let mut quote = None;
    let mut j = name_end;
    while j < b.len() {
        match (quote, b[j]) {
            (None, b'>') => return Some((name, closing, j + 1)),
            (None, q @ (b'"' | b'\'')) => quote = Some(q),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
        j += 1;
    }
    Some((name, closing, b.len()))
}

/// The length of an element's contents and its end tag (`</name>`), or of
/// everything left when it never ends.
fn skip_element(s: &str, name: &str) -> usize {
    let b = s.as_bytes();
    let mut from = 0;
    while let Some(at) = s[from..].find("</") {
        let start = from + at;
        let after = start + 2;
        let candidate = &b[after..(after + name.len()).min(b.len())];
        if candidate.eq_ignore_ascii_case(name.as_bytes())
            && !b
                .get(after + name.len())
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'-')
        {
            return s[start..].find('>').map_or(s.len(), |e| start + e + 1);
        }
        from = after;
    }
    s.len()
}

/// Appends text with its entities decoded.
fn push_text(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        match entity(rest) {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
}

/// A character reference at the start of `s` (`&amp;`, `&#39;`, `&#x2019;`):
/// the character and the reference's length. Named references other than
/// the common ones stay as written (the same page still gives the same
/// text).
fn entity(s: &str) -> Option<(char, usize)> {
    let end = s[1..].find(';').filter(|&e| e <= 10)? + 1;
    let body = &s[1..end];
    let c = if let Some(num) = body.strip_prefix('#') {
        let n = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        char::from_u32(n).filter(|c| *c != '\0')?
    } else {
        match body {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            "nbsp" => ' ',
            "ndash" => '–',
            "mdash" => '—',
            "lsquo" => '‘',
            "rsquo" => '’',
            "ldquo" => '“',
            "rdquo" => '”',
            "laquo" => '«',
            "raquo" => '»',
            "hellip" => '…',
            "copy" => '©',
            "eacute" => 'é',
            "egrave" => 'è',
            "agrave" => 'à',
            "ccedil" => 'ç',
            "ntilde" => 'ñ',
            "oacute" => 'ó',
            "aacute" => 'á',
            "iacute" => 'í',
            "uacute" => 'ú',
            _ => return None,
        }
    };
    Some((c, end + 1))
}

/// Lines trimmed, runs of whitespace made one space, empty lines dropped.
/// Lines of single-spaced words, with every control, bidirectional and
/// zero-width character written as `\u{1b}` (as diagnostics show them):
/// a hostile page's escape sequences and reordering marks reach neither
/// staff's terminal nor their mail as themselves.
fn normalize(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    for line in raw.lines() {
        let mut words = line.split_whitespace().peekable();
        if words.peek().is_none() {
            continue;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        for (n, w) in words.enumerate() {
            if n > 0 {
                out.push(' ');
            }
            out.push_str(&crate::load::diagnostic::escape(w, usize::MAX));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ESC sequences, bidirectional overrides and zero-width characters
    /// of a page are escaped, never passed on.
    #[test]
    fn hostile_characters_are_escaped() {
        let page = "<p>Deadline \u{1b}[2J\u{1b}]0;pwned\u{7}15 May</p><p>evil\u{202e}txt.exe \u{200b}x</p>";
        let text = visible(page);
        assert_eq!(
            text,
            "Deadline \\u{1b}[2J\\u{1b}]0;pwned\\u{7}15 May\nevil\\u{202e}txt.exe \\u{200b}x"
        );
        assert!(!text.chars().any(|c| c.is_control() && c != '\n'));
        assert_eq!(plain("a\u{9b}31m b"), "a\\u{9b}31m b");
    }

    #[test]
    fn markup_scripts_and_whitespace_are_not_text() {
        let page = r#"<!DOCTYPE html>
<html><head><title>Call</title><style>p { color: red }</style>
<script>var token = "abc123"; if (a < b) {}</script></head>
<body class="x">
  <!-- generated 2026-12-07 -->
  <h1>Call for input:   <em>Belarus</em></h1>
  <p data-token='9f>3'>Deadline:&nbsp;30 April 2027 &amp; later</p>
  <ul><li>One</li><li>Two &#8211; &#x2014;</li></ul>
  <noscript>Enable JavaScript</noscript><svg><text>logo</text></svg>
  a < b
</body></html>"#;
        assert_eq!(
            visible(page),
            "Call for input: Belarus\nDeadline: 30 April 2027 & later\nOne\nTwo – —\na < b"
        );
    }

    #[test]
    fn a_token_or_markup_change_keeps_the_fingerprint() {
        let a = r#"<div class="a"><input type="hidden" value="tok1"><p>Submissions by 1 May 2027.</p></div>"#;
        let b = "<div\n class='b' id=x>\n<input type=hidden value=tok2>  <p>Submissions   by 1 May 2027.</p></div><script>x()</script>";
        let c = r#"<div class="a"><p>Submissions by 15 May 2027.</p></div>"#;
        let fa = fingerprint(visible(a).as_bytes());
        assert_eq!(fa, fingerprint(visible(b).as_bytes()));
        assert_ne!(fa, fingerprint(visible(c).as_bytes()));
    }

    #[test]
    fn unterminated_markup_and_odd_references_do_not_panic() {
        for page in [
            "<",
            "<p",
            "<script>never ends",
            "<!-- open",
            "&",
            "&#xFFFFFFFF;",
            "&#0;",
            "&unknown;",
            "<a href=\"x>",
            "</",
            "é<é>é",
        ] {
            let _ = visible(page);
        }
        assert_eq!(visible("AT&T &unknown; &#0;"), "AT&T &unknown; &#0;");
    }

    #[test]
    fn bounded_cuts_at_a_line_or_a_character() {
        assert_eq!(bounded("abc", 10), "abc");
        assert_eq!(bounded("line one\nline two", 12), "line one");
        assert_eq!(bounded("ééééé", 3), "é");
    }
}
