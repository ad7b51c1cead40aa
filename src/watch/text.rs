//! A page's visible text: what a reader of the page sees, one line per
//! block, so that a rotated session token, a changed script, a new class
//! name or re-indented markup does not count as a change of the page.
//!
//! The markup is read by a WHATWG-conformant tokenizer (`html5gum`), as a
//! browser reads it: every character reference (the full table of named
//! ones), comments, doctypes, attributes quoted or not, `<script>` and
//! `<style>` read as raw text. The contents of elements that show nothing
//! (`script`, `style`, `noscript`, `template`, `title`, `svg`, `math`,
//! `iframe`, `object`) are dropped; a self-closing one (`<svg/>`) holds
//! nothing, and inside `svg` or `math` an HTML block (`<p>`, `<div>`…)
//! ends them, as in a browser, so that no malformed markup hides the text
//! after it. Block elements end a line, whitespace is collapsed and empty
//! lines dropped. The result is deterministic: the same page gives the
//! same text, byte for byte. Decoding the bytes is `super::charset`'s.

use html5gum::{DefaultEmitter, Token, Tokenizer};
use sha2::{Digest, Sha256};

/// The version of the rules that make a page's text: stored with each
/// URL's text, so that a text made by older rules is read again once,
/// quietly, instead of being reported as a change of the page.
pub const READER: u32 = 2;

/// Elements whose contents are not shown as text.
const HIDDEN: [&str; 9] = [
    "script", "style", "noscript", "template", "title", "svg", "math", "iframe", "object",
];

/// HTML start tags that end an `svg` or `math` element they appear in
/// (the HTML standard's "breakout" tags of foreign content).
const BREAKOUT: [&str; 44] = [
    "b",
    "big",
    "blockquote",
    "body",
    "br",
    "center",
    "code",
    "dd",
    "div",
    "dl",
    "dt",
    "em",
    "embed",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "hr",
    "i",
    "img",
    "li",
    "listing",
    "menu",
    "meta",
    "nobr",
    "ol",
    "p",
    "pre",
    "ruby",
    "s",
    "small",
    "span",
    "strong",
    "strike",
    "sub",
    "sup",
    "table",
    "tt",
    "u",
    "ul",
    "var",
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
    // The hidden elements open around the current point, innermost last.
    let mut hidden: Vec<String> = Vec::new();
    let mut emitter = DefaultEmitter::default();
    emitter.naively_switch_states(true);
    for token in Tokenizer::new_with_emitter(html, emitter).flatten() {
        match token {
            Token::StartTag(tag) => {
                let name = String::from_utf8_lossy(&tag.name);
                let name = name.as_ref();
                if BREAKOUT.contains(&name) {
                    if let Some(at) = hidden.iter().position(|h| h == "svg" || h == "math") {
                        hidden.truncate(at);
                    }
                }
                if BLOCKS.contains(&name) {
                    raw.push('\n');
                }
                if HIDDEN.contains(&name) && !tag.self_closing {
                    hidden.push(name.to_string());
                }
            }
            Token::EndTag(tag) => {
                let name = String::from_utf8_lossy(&tag.name);
                let name = name.as_ref();
                // A stray end tag closes nothing.
                if let Some(at) = hidden.iter().rposition(|h| h == name) {
                    hidden.truncate(at);
                }
                if BLOCKS.contains(&name) {
                    raw.push('\n');
                }
            }
            Token::String(text) if hidden.is_empty() => {
                raw.push_str(&String::from_utf8_lossy(&text.value));
            }
            _ => {}
        }
    }
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
        // As a browser: a NUL reference is U+FFFD, an unknown name stays.
        assert_eq!(visible("AT&T &unknown; &#0;"), "AT&T &unknown; \u{fffd}");
    }

    /// Every named reference of the HTML standard, not a short list; and
    /// the legacy ones a browser reads without their `;`.
    #[test]
    fn character_references_are_read_as_a_browser_reads_them() {
        assert_eq!(
            visible("<p>&Zcaron;&scaron; &laquo;&Scaron;&raquo; &ycirc; &frac12; &euro;&#x20AC;&#8364; &copy 2027 &notin;</p>"),
            "Žš «Š» ŷ ½ €€€ © 2027 ∉"
        );
    }

    /// Markup a browser recovers from hides no text after it.
    #[test]
    fn malformed_markup_does_not_hide_later_text() {
        for (page, want) in [
            // A self-closing svg holds nothing.
            ("<p>before</p><svg/><p>after</p>", "before\nafter"),
            ("<svg viewBox='0 0 1 1'/>Deadline: 1 May", "Deadline: 1 May"),
            // No </head>: the body still shows.
            (
                "<html><head><title>T</title><meta charset=utf-8><body><p>Deadline: 1 May</p>",
                "Deadline: 1 May",
            ),
            (
                "<head><title>T</title><p>Deadline: 1 May",
                "Deadline: 1 May",
            ),
            // Unclosed paragraphs and a stray end tag.
            ("<p>one<p>two</div><p>three", "one\ntwo\nthree"),
            ("</div></span>text</p>", "text"),
            // An unclosed svg ends at the first HTML block, as in a browser.
            (
                "<svg><text>logo</text><p>Deadline: 1 May</p>",
                "Deadline: 1 May",
            ),
            ("<math><mi>x</mi><div>after</div>", "after"),
            // Script and style are raw text: a tag in a string is not a tag.
            (
                "<script>var s = '</div><p>not text';</script><p>text</p>",
                "text",
            ),
            ("<style>p::after { content: '<p>x' }</style>text", "text"),
            // Comments with dashes, and a bogus comment.
            (
                "<!-- a -- b --><p>text</p><? processing ?>more",
                "text\nmore",
            ),
            // Attribute values holding `>` and quotes.
            ("<p title='a > b' data-x=\"<p>\">text</p>", "text"),
        ] {
            assert_eq!(visible(page), want, "{page}");
        }
    }

    #[test]
    fn bounded_cuts_at_a_line_or_a_character() {
        assert_eq!(bounded("abc", 10), "abc");
        assert_eq!(bounded("line one\nline two", 12), "line one");
        assert_eq!(bounded("ééééé", 3), "é");
    }
}
