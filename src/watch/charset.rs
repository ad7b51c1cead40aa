//! A body's bytes as text, decoded the way a browser decodes them (the
//! WHATWG encoding-sniffing order): a byte-order mark; else the
//! `Content-Type` header's `charset`; else, for HTML, a `<meta charset>`
//! or `<meta http-equiv="Content-Type">` in the first 1024 bytes, and for
//! XML its declaration's `encoding`; else UTF-8 when the bytes are valid
//! UTF-8, and windows-1252 (the standard's fallback) when they are not.
//! Labels are the WHATWG ones (`cp1251`, `windows-1251`, `koi8-r`,
//! `latin1`…), through `encoding_rs`. Pure.

use encoding_rs::{Encoding, UTF_8, WINDOWS_1252};
use html5gum::{DefaultEmitter, Token, Tokenizer};

/// How far a page is searched for a `<meta>` that names its encoding.
const PRESCAN: usize = 1024;

/// `body` decoded: its text and the encoding used.
pub fn decode(content_type: Option<&str>, body: &[u8], html: bool) -> (String, &'static Encoding) {
    let encoding = sniff(content_type, body, html);
    // BOM-aware: a BOM wins and is removed; malformed bytes become U+FFFD.
    let (text, used, _) = encoding.decode(body);
    (text.into_owned(), used)
}

/// The encoding of `body`, in the WHATWG order.
pub fn sniff(content_type: Option<&str>, body: &[u8], html: bool) -> &'static Encoding {
    if let Some((bom, _)) = Encoding::for_bom(body) {
        return bom;
    }
    if let Some(e) = content_type.and_then(header_charset) {
        return e;
    }
    let declared = if html {
        meta_charset(&body[..body.len().min(PRESCAN)])
    } else {
        None
    };
    if let Some(e) = declared.or_else(|| xml_encoding(body)) {
        return e;
    }
    if std::str::from_utf8(body).is_ok() {
        UTF_8
    } else {
        WINDOWS_1252
    }
}

/// The `charset` parameter of a `Content-Type` value, when it names an
/// encoding.
fn header_charset(value: &str) -> Option<&'static Encoding> {
    value.split(';').skip(1).find_map(|param| {
        let (name, v) = param.split_once('=')?;
        name.trim()
            .eq_ignore_ascii_case("charset")
            .then(|| Encoding::for_label(v.trim().trim_matches(['"', '\'']).as_bytes()))?
    })
}

/// What a `<meta>` in `head` declares. The bytes are read as windows-1252
/// (which keeps every ASCII byte as itself), by the same tokenizer as the
/// page: markup that fools a hand-written scan does not fool this one.
fn meta_charset(head: &[u8]) -> Option<&'static Encoding> {
    let (ascii, _, _) = WINDOWS_1252.decode(head);
    let mut emitter = DefaultEmitter::default();
    emitter.naively_switch_states(true);
    for token in Tokenizer::new_with_emitter(ascii.as_ref(), emitter).flatten() {
        let Token::StartTag(tag) = token else {
            continue;
        };
        if tag.name.as_slice() != b"meta" {
            continue;
        }
        let attr = |name: &[u8]| {
            tag.attributes
                .iter()
                .find(|(k, _)| k.as_slice() == name)
                .map(|(_, v)| String::from_utf8_lossy(&v.value).into_owned())
        };
        let found = if let Some(label) = attr(b"charset") {
            Encoding::for_label(label.trim().as_bytes())
        } else if attr(b"http-equiv").is_some_and(|h| h.trim().eq_ignore_ascii_case("content-type"))
        {
            attr(b"content").and_then(|c| content_charset(&c))
        } else {
            None
        };
        if let Some(e) = found {
            // A page that says UTF-16 in ASCII bytes is not UTF-16.
            return Some(
                if e == encoding_rs::UTF_16LE || e == encoding_rs::UTF_16BE {
                    UTF_8
                } else if e == encoding_rs::X_USER_DEFINED {
                    WINDOWS_1252
                } else {
                    e
                },
            );
        }
    }
    None
}

/// The `charset=` of a `<meta http-equiv>`'s `content`.
fn content_charset(content: &str) -> Option<&'static Encoding> {
    let lower = content.to_ascii_lowercase();
    let at = lower.find("charset")?;
    let rest = lower[at + "charset".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let rest = rest.trim_start();
    let value = match rest.chars().next()? {
        q @ ('"' | '\'') => rest[1..].split(q).next()?,
        _ => rest.split([';', ' ', '\t', '\n']).next()?,
    };
    Encoding::for_label(value.as_bytes())
}

/// The `encoding` of an XML declaration at the very start.
fn xml_encoding(body: &[u8]) -> Option<&'static Encoding> {
    let head = &body[..body.len().min(PRESCAN)];
    if !head.starts_with(b"<?xml") {
        return None;
    }
    let end = head.iter().position(|&b| b == b'>')?;
    let decl = std::str::from_utf8(&head[..end]).ok()?;
    let at = decl.find("encoding")?;
    let rest = decl[at + "encoding".len()..]
        .trim_start()
        .strip_prefix('=')?;
    let rest = rest.trim_start();
    let q = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
    let value = rest[1..].split(q).next()?;
    Encoding::for_label(value.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Срок подачи: 1 мая" in windows-1251.
    fn cp1251(text: &str) -> Vec<u8> {
        encoding_rs::WINDOWS_1251.encode(text).0.into_owned()
    }

    const RU: &str = "Срок подачи: 1 мая";

    #[test]
    fn each_place_an_encoding_is_declared_in() {
        let page = |head: &str| {
            let mut b = head.as_bytes().to_vec();
            b.extend(cp1251(&format!("<p>{RU}</p>")));
            b
        };
        for (content_type, body, html) in [
            // The header.
            (Some("text/html; charset=windows-1251"), page(""), true),
            (Some("text/html;charset=\"CP1251\""), page(""), true),
            // <meta charset>, quoted or not, after other markup.
            (Some("text/html"), page("<!DOCTYPE html><html><head><meta charset=windows-1251>"), true),
            (None, page("<head><!-- x --><META CHARSET='cp1251'>"), true),
            // <meta http-equiv>.
            (
                Some("text/html"),
                page("<meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1251\">"),
                true,
            ),
            // An XML declaration.
            (
                Some("application/xhtml+xml"),
                page("<?xml version=\"1.0\" encoding=\"windows-1251\"?><html>"),
                true,
            ),
            // Plain text with a header.
            (Some("text/plain; charset=windows-1251"), cp1251(RU), false),
        ] {
            let (text, used) = decode(content_type, &body, html);
            assert_eq!(used, encoding_rs::WINDOWS_1251, "{content_type:?}");
            assert!(text.contains(RU), "{content_type:?}: {text}");
        }
    }

    #[test]
    fn the_order_is_bom_header_meta_default() {
        // A BOM beats a header that says otherwise.
        let mut bom = b"\xEF\xBB\xBF".to_vec();
        bom.extend(format!("<p>{RU}</p>").as_bytes());
        let (text, used) = decode(Some("text/html; charset=windows-1251"), &bom, true);
        assert_eq!(used, UTF_8);
        assert_eq!(text, format!("<p>{RU}</p>"));
        // The header beats a <meta>.
        let body = format!("<meta charset=windows-1251><p>{RU}</p>");
        let (_, used) = decode(Some("text/html; charset=utf-8"), body.as_bytes(), true);
        assert_eq!(used, UTF_8);
        // Nothing declared: UTF-8 when valid, windows-1252 when not.
        assert_eq!(sniff(None, RU.as_bytes(), true), UTF_8);
        assert_eq!(sniff(None, &cp1251(RU), true), WINDOWS_1252);
        // A <meta> after the first 1024 bytes is not read.
        let late = format!("{}<meta charset=windows-1251>", " ".repeat(1100));
        assert_eq!(sniff(None, late.as_bytes(), true), UTF_8);
        // A <meta> inside a comment or a script is not one.
        for body in [
            "<!-- <meta charset=windows-1251> -->",
            "<script>'<meta charset=windows-1251>'</script>",
        ] {
            assert_eq!(sniff(None, body.as_bytes(), true), UTF_8, "{body}");
        }
        // Plain text reads no <meta>.
        assert_eq!(
            sniff(Some("text/plain"), b"<meta charset=koi8-r>", false),
            UTF_8
        );
    }

    #[test]
    fn unknown_labels_and_utf16_in_meta_are_ignored() {
        assert_eq!(
            sniff(Some("text/html; charset=nonsense"), b"abc", true),
            UTF_8
        );
        assert_eq!(sniff(None, b"<meta charset=utf-16le>abc", true), UTF_8);
        assert_eq!(
            sniff(None, b"<meta charset=x-user-defined>abc", true),
            WINDOWS_1252
        );
        // Bytes that are not valid in the declared encoding become U+FFFD.
        let (text, _) = decode(Some("text/plain; charset=utf-8"), b"a\xFFb", false);
        assert_eq!(text, "a\u{fffd}b");
    }
}
