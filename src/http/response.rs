//! Responses: the caching and encoding rules for rendered bodies, as pure
//! functions (strong ETags, `If-None-Match` / `If-Modified-Since`, gzip by
//! `Accept-Encoding`), and the builders every handler answers with (a
//! rendering, plain text, an HTML page, a query error).

use std::io::Write as _;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, TimeZone, Utc};
use sha2::{Digest, Sha256};

use super::query::QueryError;
use crate::i18n::Lang;
use crate::render::page;

/// A body rendered once and served many times, with its validators and a
/// gzip copy made at render time (never per request). An HTML page keeps
/// only the gzip copy: every browser takes gzip, so the plain body, as
/// large again as the whole catalog's text, would sit in the cache for the
/// odd client that does not (it gets the copy unpacked, see
/// [`Rendered::identity`]). Feeds and JSON keep both: calendar clients
/// and scripts that ask for no encoding are common.
pub struct Rendered {
    pub content_type: &'static str,
    /// The plain body, unless only the gzip copy is kept.
    body: Option<Bytes>,
    pub gzip: Bytes,
    /// Strong validator of `body`: `"<hash>"`; the gzip copy's is `"<hash>-gz"`.
    pub etag: String,
    pub etag_gzip: String,
    /// Whole seconds, as HTTP dates have no finer unit.
    pub last_modified: DateTime<Utc>,
    pub cache_control: &'static str,
    /// The same validators as ready header values, so that answering a
    /// request formats nothing.
    pub etag_header: HeaderValue,
    pub etag_gzip_header: HeaderValue,
    pub last_modified_header: HeaderValue,
    /// Served since the cache last looked: the cache's second chance.
    pub used: std::sync::atomic::AtomicBool,
}

impl Rendered {
    pub fn new(
        content_type: &'static str,
        mut body: Vec<u8>,
        last_modified: DateTime<Utc>,
        cache_control: &'static str,
    ) -> Rendered {
        let hash = Sha256::digest(&body);
        let hex: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        // Writing to a Vec cannot fail.
        let _ = gz.write_all(&body);
        let mut gzip = gz.finish().unwrap_or_default();
        // Both are kept for as long as the rendering is cached, and the
        // cache counts their lengths: no spare capacity may hide behind them.
        body.shrink_to_fit();
        gzip.shrink_to_fit();
        let body = (!content_type.starts_with("text/html")).then(|| Bytes::from(body));
        let etag = format!("\"{hex}\"");
        let etag_gzip = format!("\"{hex}-gz\"");
        let last_modified = Utc
            .timestamp_opt(last_modified.timestamp(), 0)
            .single()
            .unwrap_or(last_modified);
        let header = |s: &str| HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static(""));
        Rendered {
            content_type,
            body,
            gzip: Bytes::from(gzip),
            etag_header: header(&etag),
            etag_gzip_header: header(&etag_gzip),
            last_modified_header: header(&http_date(last_modified)),
            etag,
            etag_gzip,
            last_modified,
            cache_control,
            used: std::sync::atomic::AtomicBool::new(false),
        }
    }

    /// The plain body: kept, or unpacked from the gzip copy.
    pub fn identity(&self) -> Bytes {
        if let Some(body) = &self.body {
            return body.clone();
        }
        let mut out = Vec::with_capacity(self.gzip.len() * 8);
        // The copy was made from a Vec by this process: it unpacks.
        let _ =
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&self.gzip[..]), &mut out);
        Bytes::from(out)
    }

    /// The bytes this rendering holds, as the cache counts them: the
    /// bodies, the validators, and the struct itself.
    pub fn size(&self) -> usize {
        std::mem::size_of::<Rendered>()
            + self.body.as_ref().map_or(0, Bytes::len)
            + self.gzip.len()
            + 2 * (self.etag.len() + self.etag_gzip.len())
            + self.last_modified_header.len()
    }

    /// Marks it served (a relaxed load first, so a hot rendering's cache
    /// line is not written on every request).
    pub fn touch(&self) {
        use std::sync::atomic::Ordering;
        if !self.used.load(Ordering::Relaxed) {
            self.used.store(true, Ordering::Relaxed);
        }
    }
}

/// Whether the client's cached copy is still good (→ 304).
///
/// `If-None-Match` wins when present (RFC 9110 §13.2.2) and is compared
/// weakly: either encoding's tag matches, with or without `W/`. Otherwise
/// `If-Modified-Since` matches when `last_modified` is not later.
pub fn not_modified(
    r: &Rendered,
    if_none_match: Option<&str>,
    if_modified_since: Option<&str>,
) -> bool {
    if let Some(inm) = if_none_match {
        return inm.split(',').map(str::trim).any(|tag| {
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            tag == "*" || tag == r.etag || tag == r.etag_gzip
        });
    }
    if let Some(ims) = if_modified_since.and_then(parse_http_date) {
        return r.last_modified <= ims;
    }
    false
}

/// Whether `Accept-Encoding` accepts gzip (`gzip` or `*` with q > 0, and not
/// refused by a more specific `gzip;q=0`).
pub fn accepts_gzip(accept_encoding: Option<&str>) -> bool {
    let Some(header) = accept_encoding else {
        return false;
    };
    let mut star = None;
    for part in header.split(',') {
        let mut pieces = part.split(';');
        let coding = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = pieces
            .find_map(|p| p.trim().strip_prefix("q=").map(str::to_string))
            .and_then(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        match coding.as_str() {
            "gzip" | "x-gzip" => return q > 0.0,
            "*" => star = Some(q > 0.0),
            _ => {}
        }
    }
    star.unwrap_or(false)
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`.
pub fn http_date(t: DateTime<Utc>) -> String {
    t.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// Parses an IMF-fixdate (and the obsolete RFC 850 / asctime forms, which
/// RFC 9110 says recipients must accept).
pub fn parse_http_date(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc2822(s) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"] {
        if let Ok(t) = chrono::NaiveDateTime::parse_from_str(s, format) {
            return Some(t.and_utc());
        }
    }
    None
}

/// A plain-text answer (errors). What it quotes of the request (a path, a
/// decoded query value) has control characters escaped and is cut, and
/// `nosniff` keeps browsers from reading it as anything but text.
pub(super) fn text(status: StatusCode, message: &str) -> Response {
    let mut body = String::with_capacity(message.len() + 1);
    for line in message.split_inclusive('\n') {
        let (content, newline) = match line.strip_suffix('\n') {
            Some(c) => (c, "\n"),
            None => (line, ""),
        };
        body.push_str(&crate::load::diagnostic::escape(content, 1_000));
        body.push_str(newline);
    }
    if !body.ends_with('\n') {
        body.push('\n');
    }
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            // These pages' addresses hold tokens: none leaves for another site.
            (header::REFERRER_POLICY, "same-origin"),
        ],
        body,
    )
        .into_response()
}

pub(super) fn query_error(e: QueryError) -> Response {
    match e {
        QueryError::Malformed(m) => text(StatusCode::BAD_REQUEST, &m),
        QueryError::Unknown(m) => text(StatusCode::NOT_FOUND, &m),
    }
}

/// A 200 with the right encoding, or a 304 when the client's copy is current.
/// Formats nothing: every header value was made at render time.
pub(super) fn respond(r: &Rendered, headers: &HeaderMap) -> Response {
    let get = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let gzip = accepts_gzip(get(header::ACCEPT_ENCODING));
    let mut out = HeaderMap::with_capacity(8);
    let etag = if gzip {
        &r.etag_gzip_header
    } else {
        &r.etag_header
    };
    out.insert(header::ETAG, etag.clone());
    out.insert(header::LAST_MODIFIED, r.last_modified_header.clone());
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(r.cache_control),
    );
    out.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if not_modified(
        r,
        get(header::IF_NONE_MATCH),
        get(header::IF_MODIFIED_SINCE),
    ) {
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(r.content_type),
    );
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if r.content_type.starts_with("text/html") {
        out.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(page::content_security_policy()),
        );
    }
    let body = if gzip {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r.gzip.clone()
    } else {
        r.identity()
    };
    (StatusCode::OK, out, Body::from(body)).into_response()
}

pub(super) fn header_lang(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or_default()
}

/// A small page in `lang`: the messages `title` and `text`.
pub(super) fn message_page(status: StatusCode, lang: Lang, title: &str, text: &str) -> Response {
    html(
        status,
        page::simple(&lang.text(title), &lang.text(text), "", lang),
    )
}

/// The answer when the state database cannot be used just now (logged as
/// `what`).
pub(super) fn unavailable(what: &str, e: &crate::state::StateError) -> Response {
    tracing::error!("{what}: {e}");
    text(
        StatusCode::SERVICE_UNAVAILABLE,
        "please try again in a minute",
    )
}

pub(super) fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::CONTENT_SECURITY_POLICY,
                page::content_security_policy(),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rendered() -> Rendered {
        Rendered::new(
            "text/calendar; charset=utf-8",
            b"BEGIN:VCALENDAR\r\n".to_vec(),
            "2026-10-01T08:30:00.7Z".parse().unwrap(),
            "public, max-age=300",
        )
    }

    #[test]
    fn validators() {
        let r = rendered();
        assert_eq!(r.last_modified.to_rfc3339(), "2026-10-01T08:30:00+00:00");
        assert_eq!(http_date(r.last_modified), "Thu, 01 Oct 2026 08:30:00 GMT");
        let etag = r.etag.clone();
        let cases = [
            (Some(etag.as_str()), None, true),
            (Some(&*format!("W/{etag}")), None, true),
            (Some(&*format!("\"other\", {}", r.etag_gzip)), None, true),
            (Some("\"other\""), None, false),
            (Some("*"), None, true),
            // If-None-Match wins over If-Modified-Since.
            (
                Some("\"other\""),
                Some("Thu, 01 Oct 2026 08:30:00 GMT"),
                false,
            ),
            (None, Some("Thu, 01 Oct 2026 08:30:00 GMT"), true),
            (None, Some("Thu, 01 Oct 2026 09:00:00 GMT"), true),
            (None, Some("Thu, 01 Oct 2026 08:29:59 GMT"), false),
            (None, Some("Thursday, 01-Oct-26 08:30:00 GMT"), true),
            (None, Some("Thu Oct  1 08:30:00 2026"), true),
            (None, Some("yesterday"), false),
            (None, None, false),
        ];
        for (inm, ims, expected) in cases {
            assert_eq!(not_modified(&r, inm, ims), expected, "{inm:?} {ims:?}");
        }
    }

    #[test]
    fn gzip_negotiation() {
        let cases = [
            (None, false),
            (Some("gzip"), true),
            (Some("gzip, deflate, br"), true),
            (Some("br;q=1.0, gzip;q=0.8"), true),
            (Some("gzip;q=0"), false),
            (Some("*"), true),
            (Some("*;q=0"), false),
            (Some("identity"), false),
            (Some("*, gzip;q=0"), false),
        ];
        for (header, expected) in cases {
            assert_eq!(accepts_gzip(header), expected, "{header:?}");
        }
        let r = rendered();
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&r.gzip[..]), &mut out)
            .unwrap();
        assert_eq!(out, r.identity());
        // A page keeps only the gzip copy, and unpacks it for a client
        // that takes no gzip.
        let text = "<!DOCTYPE html><p>Срок</p>".repeat(100);
        let page = Rendered::new(
            "text/html; charset=utf-8",
            text.clone().into_bytes(),
            "2026-10-01T08:30:00Z".parse().unwrap(),
            "no-cache",
        );
        assert!(page.body.is_none());
        assert!(page.size() < text.len(), "{}", page.size());
        assert_eq!(page.identity(), text.as_bytes());
        assert_eq!(rendered().identity(), &b"BEGIN:VCALENDAR\r\n"[..]);
    }
}
