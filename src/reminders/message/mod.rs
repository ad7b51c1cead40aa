//! Reminder messages: subject, text and HTML bodies, the `.ics` attachment
//! and the headers, built from a planned message. No I/O and no clock: the
//! send time is passed in.
//!
//! The Message-ID is derived from the ledger keys the message carries, so a
//! message sent again after a crash has the same Message-ID and receivers
//! can tell it is a repeat.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::Message;
use sha2::{Digest, Sha256};

use crate::i18n::Lang;
use crate::load::subscribers::Subscriber;
use crate::model::catalog::Catalog;
use crate::model::deadline::{Deadline, Status, SubmitTo};
use crate::reminders::plan::{Item, Key, Kind};
use crate::render::feed::{self, FeedOptions, Versions};

mod body;
pub mod key;
pub mod signup;
mod watch;

pub use watch::watch_alert;

use body::{html_body, text_body, Link};

/// What every message shares.
pub struct Letterhead<'a> {
    pub from: &'a Mailbox,
    /// The right-hand side of Message-IDs (the calendar's domain).
    pub domain: &'a str,
    /// The one-click unsubscribe address for this subscriber.
    pub unsubscribe_url: &'a str,
    /// The subscriber's preference page.
    pub manage_url: &'a str,
    /// The `List-Id` header's value (see [`list_id`]).
    pub list_id: &'a str,
    /// Options for the `.ics` attachment (language is the subscriber's).
    pub feed: &'a FeedOptions,
    /// What the subject starts with, in brackets (`[mail] subject_prefix`).
    pub subject_prefix: &'a str,
    pub versions: &'a Versions,
}

/// The `List-Id` (RFC 2919) of a calendar's reminders:
/// `"Name" <reminders.domain>`, the name left out when it is not plain
/// ASCII (a header's phrase would need encoding) or holds a quote.
pub fn list_id(name: &str, domain: &str) -> String {
    let plain = name
        .chars()
        .all(|c| c.is_ascii() && !c.is_ascii_control() && c != '"' && c != '\\');
    if plain && !name.trim().is_empty() {
        format!("\"{}\" <reminders.{domain}>", name.trim())
    } else {
        format!("<reminders.{domain}>")
    }
}

/// `<tag@domain>` from the message's ledger keys (order does not matter):
/// keyed with the address key ([`AddressKey::tag`]), so the same message
/// sent again has the same Message-ID, and nobody without the key can
/// recompute one from ledger rows to join a relay's log to a subscriber.
pub fn message_id(keys: &[&Key], domain: &str, key: &crate::subscriptions::AddressKey) -> String {
    let mut parts: Vec<String> = keys
        .iter()
        .map(|k| {
            format!(
                "{}\n{}\n{}\n{}",
                k.subscriber,
                k.deadline,
                k.due_at.to_rfc3339(),
                k.kind
            )
        })
        .collect();
    parts.sort();
    let tag = key.tag("reminder message-id", parts.join("\n\n").as_bytes());
    let hex: String = tag[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("<reminder.{hex}@{domain}>")
}

/// Text without line breaks or other control characters, for headers.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `[Deadlines] CERD — Alternative report due in 7 days (15 Jul 2024)`,
/// after `prefix` (`[mail] subject_prefix`; none when empty).
pub fn subject(
    catalog: &Catalog,
    s: &Subscriber,
    items: &[(&Item, &Deadline)],
    prefix: &str,
) -> String {
    let lang = s.language;
    let line = |item: &Item, d: &Deadline| {
        let when = feed::due_short(d, s.timezone, lang);
        let what = match item.key.kind {
            Kind::Remind(_) => lang.format(
                "mail-subject-due",
                &[("when", lang.days_left(item.days_left).into())],
            ),
            Kind::Moved => lang.text("mail-subject-moved").into_owned(),
            Kind::Cancelled => lang.text("mail-subject-cancelled").into_owned(),
        };
        format!(
            "{} — {} {what} ({when})",
            feed::mechanism_name(catalog, d, lang),
            feed::titled(catalog, d, lang)
        )
    };
    let text = match items {
        [(item, d)] => line(item, d),
        [(item, d), rest @ ..] => lang.format(
            "mail-subject-more",
            &[("first", line(item, d).into()), ("more", rest.len().into())],
        ),
        [] => String::new(),
    };
    if prefix.is_empty() {
        one_line(&text)
    } else {
        one_line(&format!("[{prefix}] {text}"))
    }
}

/// The `Subject` header of `text`. lettre writes ASCII words as they are,
/// so a title holding what looks like an RFC 2047 encoded-word
/// (`=?utf-8?q?…?=`) would be decoded by mail clients into other text (a
/// "Report" that reads "Cancelled"): such a Subject is encoded whole, as
/// folded `=?utf-8?b?…?=` words, and reaches the reader literally.
pub(super) fn subject_header(text: &str) -> HeaderValue {
    let name = HeaderName::new_from_ascii_str("Subject");
    if !text.contains("=?") {
        return HeaderValue::new(name, text.to_string());
    }
    let mut encoded = String::new();
    {
        let mut w = email_encoding::headers::writer::EmailWriter::new(
            &mut encoded,
            "Subject: ".len(),
            0,
            false,
        );
        // Writing to a String cannot fail.
        let _ = email_encoding::headers::rfc2047::encode(text, &mut w);
    }
    HeaderValue::dangerous_new_pre_encoded(name, text.to_string(), encoded)
}

struct Lines<'a> {
    lang: Lang,
    tz: chrono_tz::Tz,
    catalog: &'a Catalog,
}

impl Lines<'_> {
    fn heading(&self, item: &Item, d: &Deadline) -> String {
        let lang = self.lang;
        let status = match d.status {
            Status::Tentative => format!(" ({})", lang.text("tentative")),
            _ => String::new(),
        };
        let kind = match item.key.kind {
            Kind::Remind(_) => "remind",
            Kind::Moved => "moved",
            Kind::Cancelled => "cancelled",
        };
        let what = format!(
            "[{}] {}{status}",
            feed::mechanism_name(self.catalog, d, lang),
            feed::titled(self.catalog, d, lang)
        );
        lang.format(
            "mail-heading",
            &[("kind", kind.into()), ("what", what.into())],
        )
    }

    /// The facts of one item, as (label, value) pairs.
    fn facts(&self, item: &Item, d: &Deadline) -> Vec<(Cow<'static, str>, String)> {
        self.linked_facts(item, d)
            .into_iter()
            .map(|(label, value, _)| (label, value))
            .collect()
    }

    /// [`Lines::facts`], each with where it links to when it is an address
    /// or a web page (for the HTML part).
    fn linked_facts(&self, item: &Item, d: &Deadline) -> Vec<(Cow<'static, str>, String, Link)> {
        let lang = self.lang;
        // The instant in the entry's own zone too, when the reader's differs
        // (else it would say the same thing twice).
        let timed = matches!(
            d.due,
            crate::model::deadline::Due::Local(_) | crate::model::deadline::Due::Instant(_)
        );
        let due = if timed && d.timezone == self.tz {
            format!(
                "{} ({})",
                feed::due_short(d, self.tz, lang),
                lang.days_left(item.days_left)
            )
        } else {
            format!(
                "{} ({}); {}",
                feed::due_short(d, self.tz, lang),
                lang.days_left(item.days_left),
                feed::due_words(d, lang)
            )
        };
        let mut out = vec![(lang.text("due"), due, Link::None)];
        if let Some(from) = item.moved_from {
            let was = from
                .with_timezone(&self.tz)
                .format("%Y-%m-%d %H:%M %Z")
                .to_string();
            out.push((lang.text("mail-was"), was, Link::None));
        }
        if let Some(opens) = &d.opens {
            out.push((
                lang.text("opens"),
                feed::when_words(opens, d, lang),
                Link::None,
            ));
        }
        // Staff's own `extended_from` (a moved notice says it already).
        if let (Some(extension), None) = (feed::extension(d, lang), item.moved_from) {
            out.push((extension.0, extension.1, Link::None));
        }
        if let Some(to) = &d.submit_to {
            let link = match to {
                SubmitTo::Email(address) => Link::Mail(address.clone()),
                SubmitTo::Url(url) => Link::Web(url.clone()),
            };
            out.push((lang.text("submit-to"), to.to_string(), link));
        }
        if let Some(url) = &d.url {
            out.push((lang.text("link"), url.clone(), Link::Web(url.clone())));
        }
        // What the submission must be like: the checklist before sending.
        for (label, value) in crate::render::requirements::lines(&d.requirements, lang) {
            out.push((Cow::Owned(label), value, Link::None));
        }
        out
    }
}

/// "Reminder: 2 items due in 7 days": all a discreet mail shows at a
/// glance (the soonest item's days left).
pub fn discreet_line(s: &Subscriber, items: &[(&Item, &Deadline)]) -> String {
    let soonest = items.iter().map(|(i, _)| i.days_left).min().unwrap_or(0);
    let lang = s.language;
    lang.format(
        "discreet-subject",
        &[
            ("count", items.len().into()),
            ("when", lang.days_left(soonest).into()),
        ],
    )
}

/// "Hello Anna," — or "Hello," for a self-service subscriber, whose name
/// mechcal never asks for.
pub(super) fn greeting(s: &Subscriber, id: &str) -> String {
    if s.name.is_empty() {
        s.language.text(&format!("{id}-anonymous")).into_owned()
    } else {
        s.language.format(id, &[("name", s.name.as_str().into())])
    }
}

/// Builds the message for `items` (each with its deadline) to `s`, under
/// `id` (normally [`message_id`] of the items' keys; after an interrupted
/// run, the id recorded in the ledger).
/// Why a message could not be built (an address lettre refuses, which
/// validation should have caught).
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    /// The address, masked for a subscriber's.
    #[error("{address}: {source}")]
    Address {
        address: String,
        source: lettre::address::AddressError,
    },
    #[error("content type: {0}")]
    ContentType(lettre::message::header::ContentTypeErr),
    #[error(transparent)]
    Build(lettre::error::Error),
    #[error(transparent)]
    Seal(#[from] crate::openpgp::mime::SealError),
}

pub fn build(
    catalog: &Catalog,
    s: &Subscriber,
    items: &[(&Item, &Deadline)],
    head: &Letterhead<'_>,
    id: &str,
    sent_at: DateTime<Utc>,
) -> Result<Message, MessageError> {
    let lines = Lines {
        lang: s.language,
        tz: s.timezone,
        catalog,
    };
    // A self-service subscriber has no name: mechcal never asks for one.
    let to: Mailbox = Mailbox::new(
        Some(one_line(&s.name)).filter(|n| !n.trim().is_empty()),
        s.email.parse().map_err(|source| MessageError::Address {
            address: crate::load::subscribers::mask(&s.email),
            source,
        })?,
    );
    let mut opts = head.feed.clone();
    opts.lang = s.language;
    let deadlines: Vec<&Deadline> = items.iter().map(|(_, d)| *d).collect();
    let ics = feed::render_some(catalog, &deadlines, &opts, head.versions);
    let calendar = ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
        .map_err(MessageError::ContentType)?;
    let header = |name: &'static str, value: String| {
        HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
    };
    // Discreet: what shows at a glance names no mechanism, title, topic
    // or service (see `discreet_line`); the details stay below and in the
    // attachment.
    let (from, subject, attachment, list_id) = if s.discreet {
        (
            Mailbox::new(
                Some(s.language.text("discreet-from").into_owned()),
                head.from.email.clone(),
            ),
            discreet_line(s, items),
            "reminder.ics",
            nameless(head.list_id),
        )
    } else {
        (
            head.from.clone(),
            subject(catalog, s, items, head.subject_prefix),
            "deadlines.ics",
            head.list_id.to_string(),
        )
    };
    // What a reminder's header says, inside or outside the encryption.
    let envelope = |from: Mailbox, to: Mailbox, subject: &str, list_id: String| {
        Message::builder()
            .from(from)
            .to(to)
            .raw_header(subject_header(subject))
            .message_id(Some(id.to_string()))
            .date(SystemTime::from(sent_at))
            .raw_header(header("Auto-Submitted", "auto-generated".into()))
            .raw_header(header("List-Id", list_id))
            .raw_header(header(
                "List-Unsubscribe",
                format!("<{}>", head.unsubscribe_url),
            ))
            .raw_header(header(
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".into(),
            ))
    };
    let inner = envelope(from, to.clone(), &subject, list_id)
        .multipart(
            MultiPart::mixed()
                .multipart(MultiPart::alternative_plain_html(
                    text_body(&lines, s, items, head),
                    html_body(&lines, s, items, head),
                ))
                .singlepart(Attachment::new(attachment.into()).body(ics, calendar)),
        )
        .map_err(MessageError::Build)?;
    let Some(cert) = &s.openpgp else {
        return Ok(inner);
    };
    // Encrypted: everything above travels inside; outside, only what a
    // discreet mail shows (and the one-click unsubscribe, which must stay
    // readable to the receiving server).
    let outer = envelope(
        Mailbox::new(
            Some(s.language.text("discreet-from").into_owned()),
            head.from.email.clone(),
        ),
        // The bare address: a name in the file may describe the person.
        Mailbox::new(None, to.email),
        &discreet_line(s, items),
        nameless(head.list_id),
    );
    Ok(crate::openpgp::mime::seal(&inner, cert, outer)?)
}

/// A `List-Id` without its name: `<reminders.domain>`.
fn nameless(list_id: &str) -> String {
    list_id
        .rsplit_once('<')
        .map_or(list_id.to_string(), |(_, id)| format!("<{id}"))
}

/// One problem an alert reports.
pub struct Problem<'a> {
    /// `data`, `config` or `git`.
    pub source: &'a str,
    pub since: DateTime<Utc>,
    /// As `mechcal check` prints them.
    pub diagnostics: &'a [String],
}

/// The mail to `[alerts] staff` about `problems`, while the catalog
/// `version` of `deadlines` entries stays in service. Its Message-ID is
/// derived from the problems, so one set of problems has one id.
pub fn alert(
    from: &Mailbox,
    staff: &[String],
    domain: &str,
    problems: &[Problem<'_>],
    version: &str,
    deadlines: usize,
    now: DateTime<Utc>,
) -> Result<Message, MessageError> {
    let mut hash = Sha256::new();
    for p in problems {
        hash.update(p.source.as_bytes());
        for d in p.diagnostics {
            hash.update(d.as_bytes());
            hash.update(b"\n");
        }
    }
    let hex: String = hash.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let what = |source: &str| match source {
        "data" => "the deadline data is invalid",
        "config" => "the config is invalid",
        "reminders" => "reminders cannot be sent",
        _ => "the data repository cannot be followed",
    };
    let errors: usize = problems.iter().map(|p| p.diagnostics.len()).sum();
    let subject = format!(
        "mechcal ({domain}): {} ({})",
        problems
            .iter()
            .map(|p| what(p.source))
            .collect::<Vec<_>>()
            .join("; "),
        if errors == 1 {
            "1 error".to_string()
        } else {
            format!("{errors} errors")
        }
    );
    let time = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let mut body = format!(
        "mechcal on {domain} found problems at {}.\n\
         The last good version stays in service (catalog {version}, {deadlines} deadlines)\n\
         until they are fixed; nothing is lost meanwhile.\n",
        time(now)
    );
    for p in problems {
        let _ = write!(
            body,
            "\n== {} (since {})\n\n",
            match p.source {
                "data" => "Deadline data",
                "config" => "Config",
                "reminders" => "Reminders",
                _ => "Git",
            },
            time(p.since)
        );
        body.push_str(&p.diagnostics.join("\n\n"));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(
        "Fix the files and push (`mechcal check` lists the same problems), or\n\
         `systemctl reload mechcal` after fixing the config. /healthz shows the\n\
         current state. This mail is sent once per distinct set of problems.\n",
    );
    to_staff(
        from,
        staff,
        subject,
        format!("<alert-{hex}@{domain}>"),
        now,
        body,
    )
}

/// A plain-text, auto-generated staff mail (alerts, notices) from `from`
/// to every one of `staff`.
pub(super) fn to_staff(
    from: &Mailbox,
    staff: &[String],
    subject: String,
    message_id: String,
    now: DateTime<Utc>,
    body: String,
) -> Result<Message, MessageError> {
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(subject)
        .message_id(Some(message_id))
        .date(SystemTime::from(now))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ));
    for to in staff {
        builder = builder.to(to.parse().map_err(|source| MessageError::Address {
            address: to.clone(),
            source,
        })?);
    }
    builder
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(MessageError::Build)
}

#[cfg(test)]
mod tests;
