//! iCalendar feeds: a catalog, a filter and options in, bytes out.
//!
//! Pure and deterministic: the same catalog, versions and options render the
//! same bytes on every run and machine. Nothing here reads the clock: event
//! `DTSTAMP`/`LAST-MODIFIED`/`SEQUENCE` come from [`Versions`] (kept in the
//! state database), and the retention cut-off is passed in.
//!
//! Timed deadlines are written in UTC (`DTSTART:20270331T100000Z`), not with
//! a `TZID`: every client places a UTC instant correctly, no `VTIMEZONE`
//! needs generating (Outlook mis-handles a `TZID` without one), and the
//! deadline's own zone and wall-clock time are spelled out in `DESCRIPTION`.

use std::collections::HashMap;
use std::fmt::Write as _;

use chrono::{DateTime, Duration, Utc};

use crate::i18n::Lang;
use crate::model::catalog::{Catalog, Filter};
use crate::model::deadline::{Deadline, Due, Status};
use crate::model::schedule::When;
use crate::render::ical::Writer;

/// When an entry's content last changed, and how often it has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EntryVersion {
    pub sequence: u32,
    pub changed_at: DateTime<Utc>,
}

/// The versions of all entries, and when an entry was last removed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Versions {
    pub entries: HashMap<String, EntryVersion>,
    pub last_removal: Option<DateTime<Utc>>,
    /// The due each entry had before its last change of due, as the state
    /// database saw it (for "extended from" where staff wrote none).
    pub was_due: HashMap<String, When>,
    /// When the settings that shape rendered output (names, alarm, retention)
    /// last changed.
    pub settings_changed_at: Option<DateTime<Utc>>,
}

impl Versions {
    /// An entry's version; entries the state has not seen yet (which only
    /// happens in tests) count as unchanged since the Unix epoch.
    pub fn get(&self, id: &str) -> EntryVersion {
        self.entries.get(id).copied().unwrap_or(EntryVersion {
            sequence: 0,
            changed_at: DateTime::UNIX_EPOCH,
        })
    }
}

pub use crate::model::alarm::{format_duration, parse_duration, Alarm};

/// Everything besides the catalog that decides a feed's bytes.
#[derive(Clone, Debug)]
pub struct FeedOptions {
    /// `NAME` / `X-WR-CALNAME`.
    pub name: String,
    /// The right-hand side of UIDs.
    pub domain: String,
    pub lang: Lang,
    pub alarm: Option<Alarm>,
    /// How often clients should poll (`REFRESH-INTERVAL`, `X-PUBLISHED-TTL`).
    pub refresh: Duration,
    /// Entries due before this instant are left out (the retention window).
    pub cutoff: DateTime<Utc>,
}

/// The deadlines a feed holds: matching the filter and inside the retention
/// window, cancelled ones included.
pub fn entries<'a>(
    catalog: &'a Catalog,
    filter: &'a Filter,
    cutoff: DateTime<Utc>,
) -> impl Iterator<Item = &'a Deadline> + 'a {
    catalog.select(filter).filter(move |d| d.due_at >= cutoff)
}

/// Renders a whole feed.
pub fn render(
    catalog: &Catalog,
    filter: &Filter,
    opts: &FeedOptions,
    versions: &Versions,
) -> String {
    let mut w = Writer::with_capacity(size_estimate(catalog, filter, opts.cutoff));
    begin_calendar(&mut w, opts);
    for d in entries(catalog, filter, opts.cutoff).filter(|d| in_calendar(d)) {
        event(&mut w, catalog, d, opts, versions.get(&d.id));
    }
    w.raw("END", "VCALENDAR");
    w.finish()
}

/// About the bytes the feed of `filter` takes.
pub fn size_estimate(catalog: &Catalog, filter: &Filter, cutoff: DateTime<Utc>) -> usize {
    1024 + entries(catalog, filter, cutoff)
        .map(event_size_estimate)
        .sum::<usize>()
}

/// About the bytes `d`'s VEVENT takes: its texts (folding and escaping add
/// a few percent) and the fixed properties around them.
fn event_size_estimate(d: &Deadline) -> usize {
    let texts = d.title.len()
        + d.description.as_ref().map_or(0, String::len)
        + d.url.as_ref().map_or(0, String::len)
        + d.body.as_ref().map_or(0, String::len);
    700 + texts + texts / 8
}

/// Renders a calendar holding the given deadlines (a reminder's attachment).
pub fn render_some(
    catalog: &Catalog,
    deadlines: &[&Deadline],
    opts: &FeedOptions,
    versions: &Versions,
) -> String {
    let mut w = Writer::new();
    begin_calendar(&mut w, opts);
    for d in deadlines.iter().filter(|d| in_calendar(d)) {
        event(&mut w, catalog, d, opts, versions.get(&d.id));
    }
    w.raw("END", "VCALENDAR");
    w.finish()
}

/// Renders a calendar holding one deadline ("add to my calendar").
pub fn render_one(
    catalog: &Catalog,
    d: &Deadline,
    opts: &FeedOptions,
    versions: &Versions,
) -> String {
    render_some(catalog, &[d], opts, versions)
}

fn begin_calendar(w: &mut Writer, opts: &FeedOptions) {
    w.raw("BEGIN", "VCALENDAR");
    w.raw("VERSION", "2.0");
    w.raw("PRODID", "-//mechcal//mechcal deadline calendar//EN");
    w.raw("CALSCALE", "GREGORIAN");
    w.raw("METHOD", "PUBLISH");
    w.text("NAME", &opts.name);
    w.x_text("X-WR-CALNAME", &opts.name);
    let refresh = format_duration(opts.refresh);
    w.raw("REFRESH-INTERVAL;VALUE=DURATION", &refresh);
    w.raw("X-PUBLISHED-TTL", &refresh);
}

/// `[CERD] Альтернативный доклад…`, or `[UPR] Stakeholder submission —
/// Belarus` for a milestone; marked when tentative, and for an open call.
pub fn summary(catalog: &Catalog, d: &Deadline, lang: Lang) -> String {
    let mechanism = mechanism_name(catalog, d, lang);
    let mut out = format!("[{mechanism}] {}", titled(catalog, d, lang));
    if d.status == Status::Tentative {
        let _ = write!(out, " ({})", lang.labels().tentative);
    }
    if d.is_open() {
        let _ = write!(out, " ({})", lang.text("open-call"));
    }
    out
}

/// The entry's title, after its milestone's name when it is one
/// (`Stakeholder submission — Belarus`): what feeds, pages and mail call
/// one dated item. A yearly date needs nothing more (its date says the
/// year).
pub fn titled(catalog: &Catalog, d: &Deadline, lang: Lang) -> String {
    match milestone_name(catalog, d, lang) {
        Some(name) => format!("{name} — {}", d.title),
        None => d.title.clone(),
    }
}

/// The mechanism's short name (`CERD`) in `lang`, or its slug if the
/// registry lacks it.
pub fn mechanism_name<'a>(catalog: &'a Catalog, d: &'a Deadline, lang: Lang) -> &'a str {
    catalog
        .registry()
        .mechanism(&d.mechanism)
        .map_or(d.mechanism.as_str(), |m| m.name(lang.code()))
}

/// The exact due time in words: `15 July 2024, end of day (Europe/Zurich)`.
pub fn due_words(d: &Deadline, lang: Lang) -> String {
    match d.due {
        Due::Date(date) => format!(
            "{}, {} ({})",
            lang.date(date),
            lang.labels().end_of_day,
            d.timezone.name()
        ),
        Due::Open => lang.text("open-call").into_owned(),
        Due::Local(_) | Due::Instant(_) => timed_words(d.due_at, d.timezone, lang),
    }
}

/// `31 March 2027, 12:00 CEST (Europe/Zurich, UTC+02:00)`.
fn timed_words(at: DateTime<Utc>, tz: chrono_tz::Tz, lang: Lang) -> String {
    let local = at.with_timezone(&tz);
    format!(
        "{}, {} ({}, UTC{})",
        lang.date(local.date_naive()),
        local.format("%H:%M %Z"),
        tz.name(),
        local.format("%:z"),
    )
}

/// Another date of `d` (when it opens, what it was extended from) in
/// words: the day of an all-day one, a timed one as [`due_words`] does.
pub fn when_words(w: &When, d: &Deadline, lang: Lang) -> String {
    match w.written {
        Due::Date(date) => lang.date(date),
        _ => timed_words(w.at, d.timezone, lang),
    }
}

/// "Extended from" and the earlier date, or "Moved from" and the later one
/// the due replaced, if `d` has one (`extended_from`, or the history).
pub fn extension(d: &Deadline, lang: Lang) -> Option<(std::borrow::Cow<'static, str>, String)> {
    let from = d.extended_from.as_ref()?;
    let label = if from.at < d.due_at {
        "extended-from"
    } else {
        "moved-from"
    };
    Some((lang.text(label), when_words(from, d, lang)))
}

/// The milestone's name: its label, or its kind's name in `lang`.
pub fn milestone_name<'a>(catalog: &'a Catalog, d: &'a Deadline, lang: Lang) -> Option<&'a str> {
    let m = d.milestone.as_ref()?;
    Some(match &m.label {
        Some(label) => label,
        None => catalog
            .registry()
            .kind(&m.kind)
            .map_or(m.kind.as_str(), |k| k.name(lang.code())),
    })
}

/// Whether `d` has a place in a calendar: an open call only on the day it
/// opens, if known.
pub fn in_calendar(d: &Deadline) -> bool {
    !d.is_open() || d.opens.is_some()
}

/// When `d` is due, short, for a reader in `tz`: the date of an all-day
/// deadline as it is, a timed one's instant in the reader's zone
/// (`31 March 2027, 12:00 CEST`).
pub fn due_short(d: &Deadline, tz: chrono_tz::Tz, lang: Lang) -> String {
    match d.due {
        Due::Date(date) => lang.date(date),
        Due::Open => lang.text("open-call").into_owned(),
        Due::Local(_) | Due::Instant(_) => {
            let local = d.due_at.with_timezone(&tz);
            format!(
                "{}, {}",
                lang.date(local.date_naive()),
                local.format("%H:%M %Z")
            )
        }
    }
}

/// The event's `DESCRIPTION`: the facts first, then the staff's text.
pub fn description(catalog: &Catalog, d: &Deadline, lang: Lang) -> String {
    let t = lang.labels();
    let code = lang.code();
    let reg = catalog.registry();
    let mut out = String::new();
    if let Some(m) = reg.mechanism(&d.mechanism) {
        let _ = writeln!(
            out,
            "{}: {} ({})",
            t.mechanism,
            m.full_name(code),
            m.name(code)
        );
    }
    if let Some(body) = &d.body {
        let _ = writeln!(out, "{body}");
    }
    if let Some(name) = milestone_name(catalog, d, lang) {
        let _ = writeln!(out, "{}: {name}", lang.text("milestone"));
    }
    if let Some(opens) = &d.opens {
        let _ = writeln!(
            out,
            "{}: {}",
            lang.text("opens"),
            when_words(opens, d, lang)
        );
    }
    let _ = writeln!(out, "{}: {}", t.due, due_words(d, lang));
    if let Some((label, when)) = extension(d, lang) {
        let _ = writeln!(out, "{label}: {when}");
    }
    if d.repeat.is_some() {
        let _ = writeln!(out, "{}: {}", lang.text("repeats"), lang.text("every-year"));
    }
    if d.status != Status::Confirmed {
        let status = if d.status == Status::Tentative {
            &t.tentative
        } else {
            &t.cancelled
        };
        let _ = writeln!(out, "{}: {status}", t.status);
    }
    if let Some(to) = &d.submit_to {
        let _ = writeln!(out, "{}: {to}", t.submit_to);
    }
    if let Some(url) = &d.url {
        let _ = writeln!(out, "{}: {url}", t.link);
    }
    for (label, value) in crate::render::requirements::lines(&d.requirements, lang) {
        let _ = writeln!(out, "{label}: {value}");
    }
    let topics: Vec<&str> = d
        .topics
        .iter()
        .map(|s| reg.topic_name(s, lang.code()))
        .collect();
    let _ = writeln!(out, "{}: {}", t.topics, topics.join(", "));
    if let Some(text) = &d.description {
        let _ = write!(out, "\n{text}");
    }
    out.trim_end().to_string()
}

/// How long a timed deadline lasts in a calendar: it starts at the moment
/// the deadline falls, so the time every calendar shows first, and every
/// alarm (relative to the start), is the deadline itself.
///
/// RFC 5545 (3.6.1) wants DTEND later than DTSTART. Leaving DTEND out (an
/// instant) is what the RFC allows, but khal, Evolution and Google Calendar
/// then show the event as an all-day event and the hour is lost; a DTEND
/// equal to DTSTART makes khal warn and stretch it to an hour. Fifteen
/// minutes is one row of a day view in Google Calendar, Apple Calendar and
/// Outlook (which all draw shorter events at that height anyway) and too
/// short to read as a meeting; TRANSP:TRANSPARENT keeps it out of busy time.
pub const TIMED_LENGTH: Duration = Duration::minutes(15);

fn event(
    w: &mut Writer,
    catalog: &Catalog,
    d: &Deadline,
    opts: &FeedOptions,
    version: EntryVersion,
) {
    let lang = opts.lang;
    w.raw("BEGIN", "VEVENT");
    w.raw("UID", &format!("{}@{}", d.id, opts.domain));
    w.utc("DTSTAMP", version.changed_at);
    w.utc("LAST-MODIFIED", version.changed_at);
    w.raw("SEQUENCE", &version.sequence.to_string());
    match (d.due, &d.opens) {
        (Due::Date(date), _) => {
            w.date("DTSTART", date);
            w.date("DTEND", date.succ_opt().unwrap_or(date));
        }
        // An open call is shown on the day it opens (see `in_calendar`).
        (Due::Open, opens) => {
            let date = opens.as_deref().map_or(d.due_at, |o| o.at);
            let date = match opens.as_deref().map(|o| o.written) {
                Some(Due::Date(day)) => day,
                _ => date.with_timezone(&d.timezone).date_naive(),
            };
            w.date("DTSTART", date);
            w.date("DTEND", date.succ_opt().unwrap_or(date));
        }
        (Due::Local(_) | Due::Instant(_), _) => {
            w.utc("DTSTART", d.due_at);
            w.utc("DTEND", d.due_at + TIMED_LENGTH);
        }
    }
    let summary = summary(catalog, d, lang);
    w.text("SUMMARY", &summary);
    w.text("DESCRIPTION", &description(catalog, d, lang));
    if let Some(url) = &d.url {
        w.raw("URL", url);
    }
    let reg = catalog.registry();
    let mut categories = vec![mechanism_name(catalog, d, lang)];
    categories.extend(d.topics.iter().map(|s| reg.topic_name(s, lang.code())));
    w.text_list("CATEGORIES", categories);
    w.raw(
        "STATUS",
        match d.status {
            Status::Confirmed => "CONFIRMED",
            Status::Tentative => "TENTATIVE",
            Status::Cancelled => "CANCELLED",
        },
    );
    w.raw("TRANSP", "TRANSPARENT");
    w.raw("CLASS", "PUBLIC");
    // Only for what is acted on: not sessions (`remind = false`) nor open calls.
    if let (Some(alarm), false, true) = (opts.alarm, d.status == Status::Cancelled, d.remind) {
        w.raw("BEGIN", "VALARM");
        // A fixed UID (RFC 9074), so that the alarm is the same on every render.
        w.raw("UID", &format!("{}-alarm@{}", d.id, opts.domain));
        w.raw("ACTION", "DISPLAY");
        w.text("DESCRIPTION", &summary);
        w.raw("TRIGGER", &alarm.trigger());
        w.raw("END", "VALARM");
    }
    w.raw("END", "VEVENT");
}

#[cfg(test)]
mod tests;
