//! What a check means (pure): the URL's new state from its previous one
//! and what the fetch saw, and the problem a state shows, if any.
//!
//! Rules (the book's docs/src/operators/watching.md says the same to staff):
//! - 404 and 410 are a problem at once ("gone"); so are a DNS or TLS
//!   failure, a redirect loop and a redirect refused (to a scheme other
//!   than http(s), or to a loopback or private address).
//! - Other failures (5xx, 429 and other 4xx, timeouts, refused
//!   connections) are a problem once they happen `failures` checks in a
//!   row ("failing"); an answer resets the count.
//! - An answer from another host than the URL's (after redirects) is a
//!   problem ("moved"): the link should be updated.
//! - The visible text changing is a problem ("changed") until staff mark
//!   the entry checked on or after the day of the change (`verified`);
//!   for an entry without `verified`, only the check that saw the change
//!   shows it (staff are mailed all the same: see `super::alerts`).
//! - The first check of a URL takes the page as staff last saw it; so does
//!   the first check after the rules that make a page's text changed
//!   ([`super::text::READER`]): that text is read again, not a change.

use chrono::{DateTime, NaiveDate, Utc};

use super::excerpt;

/// What one fetch of a URL saw.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observation {
    /// The URL that answered, after redirects (`None`: nothing answered).
    pub final_url: Option<String>,
    pub outcome: Outcome,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// A 2xx answer and what it shows.
    Page {
        status: u16,
        content: Content,
        etag: Option<String>,
        last_modified: Option<String>,
    },
    /// 304: unchanged since the validators sent.
    NotModified,
    /// Any other status (4xx, 5xx, a 3xx without `Location`).
    Status(u16),
    Failed(Failure),
}

/// A page's content as compared between checks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Content {
    /// Of the visible text (HTML, plain text) or of the bytes (anything else).
    pub fingerprint: String,
    /// The visible text, bounded ([`super::TEXT_LIMIT`]); empty for files
    /// that are not text (a PDF).
    pub text: String,
    /// The body was longer than `[watch] max_body` and was cut there.
    pub cut: bool,
}

/// Why nothing usable answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The request took longer than `[watch] timeout`.
    Timeout,
    /// The connection was refused, reset or could not be made.
    Connect(String),
    /// The host name does not resolve (or only to addresses not allowed).
    Dns(String),
    /// The TLS handshake failed (certificate, protocol).
    Tls(String),
    /// The redirects came back to a URL already visited, or did not end.
    Loop(String),
    /// A redirect to a URL mechcal will not follow.
    Refused(String),
    /// Anything else the client reported.
    Other(String),
}

impl Failure {
    fn slug(&self) -> &'static str {
        match self {
            Failure::Timeout => "timeout",
            Failure::Connect(_) => "connect",
            Failure::Dns(_) => "dns",
            Failure::Tls(_) => "tls",
            Failure::Loop(_) => "loop",
            Failure::Refused(_) => "refused",
            Failure::Other(_) => "error",
        }
    }

    /// For staff: what happened.
    pub fn describe(&self) -> String {
        match self {
            Failure::Timeout => "no answer in time".into(),
            Failure::Connect(e) => format!("cannot connect: {e}"),
            Failure::Dns(e) => format!("the host name does not resolve: {e}"),
            Failure::Tls(e) => format!("TLS failed: {e}"),
            Failure::Loop(e) => format!("redirect loop: {e}"),
            Failure::Refused(e) => format!("redirect not followed: {e}"),
            Failure::Other(e) => e.clone(),
        }
    }
}

pub use crate::state::records::UrlState;

/// The state after `seen` at `now`, from the state before (`None`: the
/// URL's first check).
pub fn observe(
    previous: Option<&UrlState>,
    url: &str,
    seen: Observation,
    now: DateTime<Utc>,
) -> UrlState {
    let mut s = previous.cloned().unwrap_or_else(|| UrlState {
        url: url.to_string(),
        ..UrlState::default()
    });
    let first = s.checked_at.is_none();
    s.checked_at = Some(now);
    if seen.final_url.is_some() {
        s.final_url = seen.final_url;
    }
    let failed = |s: &mut UrlState, status: Option<u16>, error: String| {
        s.status = status;
        s.error = Some(error);
        if s.failures == 0 {
            s.failing_since = Some(now);
        }
        s.failures = s.failures.saturating_add(1);
    };
    match seen.outcome {
        Outcome::Page {
            status,
            content,
            etag,
            last_modified,
        } => {
            answered(&mut s, status, now);
            s.etag = etag;
            s.last_modified = last_modified;
            s.cut = content.cut;
            // A text made by older rules differs without the page changing.
            let reread = s.reader < super::text::READER;
            s.reader = super::text::READER;
            if s.fingerprint.as_deref() != Some(content.fingerprint.as_str()) {
                if !first && !reread && s.fingerprint.is_some() {
                    s.changed_at = Some(now);
                    let old = s.text.as_deref().unwrap_or("");
                    s.excerpt = Some(if old.is_empty() && content.text.is_empty() {
                        "(the file's bytes changed; it has no text to compare)\n".into()
                    } else {
                        excerpt::changed_lines(old, &content.text)
                    });
                }
                s.fingerprint = Some(content.fingerprint);
                s.text = Some(content.text);
            }
        }
        Outcome::NotModified => answered(&mut s, 304, now),
        Outcome::Status(code) => failed(&mut s, Some(code), format!("status: HTTP {code}")),
        Outcome::Failed(f) => failed(&mut s, None, format!("{}: {}", f.slug(), f.describe())),
    }
    s
}

fn answered(s: &mut UrlState, status: u16, now: DateTime<Utc>) {
    s.status = Some(status);
    s.error = None;
    s.failures = 0;
    s.failing_since = None;
    s.answered_at = Some(now);
}

/// A problem staff should look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub kind: Kind,
    /// Distinct problems have distinct keys: staff are mailed once per key.
    pub key: String,
    /// One line for staff.
    pub message: String,
    /// The changed lines, for a change.
    pub excerpt: Option<String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Gone,
    Failing,
    Dns,
    Tls,
    Loop,
    Refused,
    Moved,
    Changed,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::Gone,
        Kind::Failing,
        Kind::Dns,
        Kind::Tls,
        Kind::Loop,
        Kind::Refused,
        Kind::Moved,
        Kind::Changed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Gone => "gone",
            Kind::Failing => "failing",
            Kind::Dns => "dns",
            Kind::Tls => "tls",
            Kind::Loop => "loop",
            Kind::Refused => "refused",
            Kind::Moved => "moved",
            Kind::Changed => "changed",
        }
    }
}

/// How states are judged.
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    /// Failures in a row that make a problem (`[watch] failures`).
    pub failures: u32,
    /// For messages.
    pub timeout: std::time::Duration,
}

/// The problem `s` shows for an entry checked by staff on `verified`.
pub fn problem(s: &UrlState, verified: Option<NaiveDate>, rules: Rules) -> Option<Problem> {
    let p = |kind: Kind, key: String, message: String| Problem {
        kind,
        key,
        message,
        excerpt: None,
    };
    if let Some(error) = &s.error {
        let (slug, text) = error.split_once(": ").unwrap_or((error, ""));
        let text = if slug == "timeout" {
            format!(
                "no answer within {}",
                crate::load::config::show_duration(rules.timeout)
            )
        } else {
            text.to_string()
        };
        let immediate = match slug {
            "dns" => Some(Kind::Dns),
            "tls" => Some(Kind::Tls),
            "loop" => Some(Kind::Loop),
            "refused" => Some(Kind::Refused),
            _ => None,
        };
        if let Some(kind) = immediate {
            let key = match kind {
                Kind::Refused | Kind::Loop => format!("{}:{text}", kind.as_str()),
                _ => kind.as_str().to_string(),
            };
            return Some(p(kind, key, text));
        }
        if let Some(code @ (404 | 410)) = s.status {
            return Some(p(
                Kind::Gone,
                format!("gone:{code}"),
                format!("HTTP {code}: the page is gone; find where it moved and update the link"),
            ));
        }
        if s.failures >= rules.failures {
            let since = s
                .failing_since
                .map(|t| format!(", since {}", t.format("%Y-%m-%d %H:%M UTC")))
                .unwrap_or_default();
            return Some(p(
                Kind::Failing,
                "failing".into(),
                format!("{text} ({} checks in a row{since})", s.failures),
            ));
        }
    }
    if let (Some(to), Some(from)) = (s.final_url.as_deref().and_then(host), host(&s.url)) {
        if s.error.is_none() && to != from {
            let final_url = s.final_url.clone().unwrap_or_default();
            return Some(p(
                Kind::Moved,
                format!("moved:{to}"),
                format!("answered from another host: {final_url}; check it and update the link"),
            ));
        }
    }
    let changed = s.changed_at?;
    let fingerprint = s.fingerprint.as_deref().unwrap_or("");
    let key = format!("changed:{fingerprint}");
    let open = match verified {
        Some(day) => day < changed.date_naive(),
        None => s.checked_at == Some(changed),
    };
    open.then(|| Problem {
        kind: Kind::Changed,
        message: match verified {
            Some(day) => format!(
                "the page changed on {} (the entry was verified on {day}); check the entry and set `verified`",
                changed.format("%Y-%m-%d")
            ),
            None => format!(
                "the page changed on {}; check the entry and set `verified`",
                changed.format("%Y-%m-%d")
            ),
        },
        key,
        excerpt: s.excerpt.clone(),
    })
}

/// The host of a URL, lower-cased (`None`: not a URL with a host).
pub fn host(url: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .host_str()
        .map(str::to_ascii_lowercase)
}

/// What the status column says of a state: `200`, `304`, `404`,
/// `timeout`, `200, cut at the body limit`.
pub fn status_text(s: &UrlState) -> String {
    match (&s.error, s.status) {
        (Some(e), None) => e
            .split_once(':')
            .map_or(e.as_str(), |(slug, _)| slug)
            .to_string(),
        (_, Some(code)) if s.cut && s.error.is_none() => format!("{code}, cut at the body limit"),
        (_, Some(code)) => code.to_string(),
        (None, None) => "-".into(),
    }
}

#[cfg(test)]
mod tests;
