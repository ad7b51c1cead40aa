//! Checks of staff's free text: one-line fields (`title`, `body`) and
//! descriptions. Text reaches calendars, mail subjects and the page, so it
//! must read as what it is: no control characters, no invisible characters
//! that reorder or hide text, bounded in length.

use toml::Spanned;

use crate::load::scripts;
use crate::load::tables::Sink;

/// The most characters of a one-line field (`title`, `body`): a title
/// becomes a mail Subject, and RFC 5322 allows 998 octets a header line.
pub const MAX_LINE_CHARS: usize = 300;

/// Characters that reorder or hide text: bidirectional embeddings,
/// overrides and isolates, and zero-width characters. In a one-line field
/// they can make a title read differently from what it is (in a calendar,
/// a Subject, the page).
pub fn hidden_char_name(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{202a}'..='\u{202e}' => "a bidirectional embedding or override",
        '\u{2066}'..='\u{2069}' => "a bidirectional isolate",
        '\u{200e}' | '\u{200f}' | '\u{61c}' => "a bidirectional mark",
        '\u{200b}' | '\u{200c}' | '\u{200d}' | '\u{2060}' | '\u{feff}' | '\u{180e}' => {
            "a zero-width character"
        }
        _ => return None,
    })
}

/// Reports the first character of `text` that reorders or hides text
/// ([`hidden_char_name`]), if there is one; whether there was.
fn refuse_hidden(sink: &mut Sink<'_>, key: &str, span: std::ops::Range<usize>, text: &str) -> bool {
    let Some((c, what)) = text
        .chars()
        .find_map(|c| hidden_char_name(c).map(|w| (c, w)))
    else {
        return false;
    };
    sink.error(span, format!("`{key}` contains U+{:04X}, {what}", c as u32))
        .help = Some(
        "remove it: it is invisible, and can make the text read differently in calendars, mail and the page (right-to-left text needs no such character)".into(),
    );
    true
}

/// Warns about every word of `text` (the value at `span`) written in more
/// than one alphabet ([`scripts::mixed_words`]): pointing at the word when
/// the file holds it as written, saying which letters are from which
/// script, and the word to write instead.
fn warn_mixed_scripts(sink: &mut Sink<'_>, key: &str, span: std::ops::Range<usize>, text: &str) {
    let found = scripts::mixed_words(text);
    if found.is_empty() {
        return;
    }
    let source = sink.file.text().get(span.clone()).unwrap_or_default();
    let mut from = 0;
    for m in found {
        // The word in the file (escapes aside, values are written as read).
        let at = match source[from..].find(&m.word) {
            Some(i) => {
                from += i + m.word.len();
                span.start + from - m.word.len()..span.start + from
            }
            None => span.clone(),
        };
        let strays: Vec<String> = m
            .strays
            .iter()
            .map(|(n, c, s)| format!("`{c}` (letter {n}) is {}", s.name()))
            .collect();
        let d = sink.warning(
            at,
            format!(
                "`{key}`: the word `{}` mixes alphabets: {}; the rest is {}",
                m.word,
                strays.join(", "),
                m.main.name()
            ),
        );
        d.help = Some(match m.fixed {
            Some(fixed) => format!(
                "write `{fixed}` ({} letters only): a look-alike letter from another alphabet is invisible to readers but not to search, screen readers or spam filters",
                m.main.name()
            ),
            None => format!(
                "retype the word in one alphabet ({} letters only): letters from another alphabet are invisible to readers but not to search, screen readers or spam filters",
                m.main.name()
            ),
        });
    }
}

/// Characters that show as nothing: spaces, and fillers that render blank.
pub(crate) fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || hidden_char_name(c).is_some()
        || matches!(
            c,
            '\u{ad}' | '\u{34f}' | '\u{115f}' | '\u{1160}' | '\u{3164}' | '\u{ffa0}' | '\u{2800}'
        )
}

/// A trimmed single-line text of at most [`MAX_LINE_CHARS`] characters,
/// without control, bidirectional or zero-width characters; `required`
/// texts must not be blank either.
pub(super) fn single_line(
    sink: &mut Sink<'_>,
    key: &str,
    v: Spanned<String>,
    required: bool,
) -> Option<String> {
    let text = v.get_ref().trim();
    if text.contains(['\n', '\r']) {
        sink.error(v.span(), format!("`{key}` must be a single line"))
            .help = Some("put longer text in `description`".into());
        return None;
    }
    if let Some(c) = text.chars().find(|c| c.is_control()) {
        sink.error(
            v.span(),
            format!("`{key}` contains the control character U+{:04X}", c as u32),
        )
        .help = Some("remove it; it is invisible in most editors".into());
        return None;
    }
    if refuse_hidden(sink, key, v.span(), text) {
        return None;
    }
    let chars = text.chars().count();
    if chars > MAX_LINE_CHARS {
        sink.error(
            v.span(),
            format!("`{key}` is {chars} characters long; the limit is {MAX_LINE_CHARS}"),
        )
        .help = Some("shorten it, and put the rest in `description`".into());
        return None;
    }
    warn_mixed_scripts(sink, key, v.span(), text);
    if required && text.chars().all(is_invisible) {
        let d = sink.error(v.span(), format!("`{key}` must not be empty"));
        if !text.is_empty() {
            d.message = format!("`{key}` is blank: it holds only invisible characters");
            d.help = Some("write the text people should see".into());
        }
        return None;
    }
    Some(text.to_string())
}

/// A description: any text, but no control character other than line
/// breaks and tabs, and no bidirectional or zero-width character (they
/// would reach the page, feeds and mail as they are, and could make the
/// text read differently from what it is).
pub(super) fn check_description(sink: &mut Sink<'_>, d: Spanned<String>) -> Option<String> {
    let text = d.get_ref().trim();
    if let Some(c) = text
        .chars()
        .find(|&c| c.is_control() && c != '\n' && c != '\t')
    {
        sink.error(
            d.span(),
            format!(
                "`description` contains the control character U+{:04X}",
                c as u32
            ),
        )
        .help = Some("remove it; it is invisible in most editors".into());
        return None;
    }
    if refuse_hidden(sink, "description", d.span(), text) {
        return None;
    }
    warn_mixed_scripts(sink, "description", d.span(), text);
    Some(text.to_string())
}
