//! The deadline: one validated `[[deadline]]` entry.
//!
//! A [`Deadline`] is only ever built by validation (`load`), so its fields
//! hold: the mechanism and topics exist in the registry, the due instant exists
//! in its zone, links are http(s). Its [`Fingerprint`] is a hash of the
//! normalised fields, not of where the entry is written, so moving an entry to
//! another file does not change it, and any edit that matters does.

use std::fmt;
use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// When a deadline falls due, as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    /// All day: due by the end of that day in the deadline's zone.
    Date(NaiveDate),
    /// A wall-clock time in the deadline's zone.
    Local(NaiveDateTime),
    /// An absolute instant (written with an offset, e.g. `…T12:00:00Z`).
    Instant(DateTime<FixedOffset>),
    /// No fixed date: open until further notice (`due = "open"`). Such an
    /// entry never passes and is never reminded; its `due_at` is
    /// [`Due::open_at`], after every dated entry.
    Open,
}

impl Due {
    /// The `due_at` of open calls: 9999-12-31, so that they sort last and
    /// are always ahead.
    pub fn open_at() -> DateTime<Utc> {
        NaiveDate::from_ymd_opt(9999, 12, 31)
            .expect("a valid date")
            .and_time(chrono::NaiveTime::MIN)
            .and_utc()
    }

    /// The form the fingerprint and the state database keep: `date
    /// 2027-03-31`, `local 2027-03-31T12:00:00`, `instant …`, `open`.
    pub fn key(&self) -> String {
        match self {
            Due::Date(d) => format!("date {d}"),
            Due::Local(t) => format!("local {}", t.format("%Y-%m-%dT%H:%M:%S%.f")),
            Due::Instant(t) => format!("instant {}", t.to_rfc3339()),
            Due::Open => "open".into(),
        }
    }

    /// As written in a file: `2027-03-31`, `2027-03-31T12:00:00`,
    /// `2027-03-31T12:00:00+02:00`, `open`.
    pub fn written(&self) -> String {
        match self {
            Due::Date(d) => d.to_string(),
            Due::Local(t) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
            Due::Instant(t) => t.to_rfc3339(),
            Due::Open => "open".into(),
        }
    }

    /// Reads [`Due::key`] back.
    pub fn from_key(s: &str) -> Option<Due> {
        if s == "open" {
            return Some(Due::Open);
        }
        let (kind, value) = s.split_once(' ')?;
        match kind {
            "date" => value.parse().ok().map(Due::Date),
            "local" => NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(Due::Local),
            "instant" => DateTime::parse_from_rfc3339(value).ok().map(Due::Instant),
            _ => None,
        }
    }
}

/// How sure the deadline is.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    #[default]
    Confirmed,
    Tentative,
    Cancelled,
}

impl Status {
    pub const NAMES: [&'static str; 3] = ["confirmed", "tentative", "cancelled"];

    pub fn parse(s: &str) -> Option<Status> {
        match s {
            "confirmed" => Some(Status::Confirmed),
            "tentative" => Some(Status::Tentative),
            "cancelled" => Some(Status::Cancelled),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        Self::NAMES[self as usize]
    }
}

/// Where to send a submission.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SubmitTo {
    Email(String),
    Url(String),
}

impl fmt::Display for SubmitTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SubmitTo::Email(e) | SubmitTo::Url(e) => f.write_str(e),
        }
    }
}

/// Where an entry was written: for messages only, never part of its identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Origin {
    /// The file, relative to the deadline repository's root: one copy for
    /// all the items of a file.
    pub file: std::sync::Arc<Path>,
    pub line: u32,
    pub column: u32,
}

/// A SHA-256 of an entry's normalised fields.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Fingerprint(pub [u8; 32]);

impl fmt::Display for Fingerprint {
    /// The first 16 bytes in hex: plenty to tell versions apart, short in logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in &self.0[..16] {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// A validated deadline: one dated item of the calendar. An entry with a
/// single `due` is one item; an entry with milestones is one item per
/// milestone, and a yearly date one item per year (see [`Deadline::id`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deadline {
    /// The item's id: the entry's id, then `.<kind>` for a milestone and
    /// `.<year>` for an occurrence of a yearly date (`upr-blr-4.submission`,
    /// `odihr-hate-crime.2027`). Feeds' UIDs and the reminder ledger use it.
    pub id: String,
    /// The entry's id, as written (`[[deadline]] id`).
    pub entry: String,
    /// The milestone this item is, for entries with milestones.
    pub milestone: Option<Box<crate::model::schedule::Milestone>>,
    /// The year of this occurrence, for yearly dates.
    pub year: Option<i32>,
    /// The rule occurrences follow, for yearly dates.
    pub repeat: Option<crate::model::schedule::Yearly>,
    /// When submissions open (a portal, a call), if known.
    pub opens: Option<Box<crate::model::schedule::When>>,
    /// The date this one replaces, as staff wrote it (`extended_from`).
    pub extended_from: Option<Box<crate::model::schedule::When>>,
    /// Whether subscribers are reminded of it (not of sessions, which are
    /// for information, nor of open calls).
    pub remind: bool,
    pub title: String,
    pub mechanism: String,
    pub topics: Vec<String>,
    pub due: Due,
    /// The instant the deadline passes: the end of the day for all-day entries.
    pub due_at: DateTime<Utc>,
    /// The deadline's own zone, or the calendar's default.
    pub timezone: Tz,
    pub country: Option<String>,
    pub body: Option<String>,
    pub url: Option<String>,
    pub submit_to: Option<SubmitTo>,
    pub description: Option<String>,
    pub status: Status,
    /// Reminder offsets in days, largest first, if the entry overrides them.
    pub remind_days: Option<Vec<u16>>,
    /// What the submission must be like (limits, languages, how to send).
    /// Shared by the items of an entry.
    pub requirements: std::sync::Arc<crate::model::requirements::Requirements>,
    pub origin: Origin,
    pub fingerprint: Fingerprint,
}

impl Deadline {
    /// The calendar date the deadline falls on, in its zone.
    pub fn due_date(&self) -> NaiveDate {
        match self.due {
            Due::Date(d) => d,
            Due::Open => self.due_at.date_naive(),
            _ => self.due_at.with_timezone(&self.timezone).date_naive(),
        }
    }

    /// Whole calendar days from `now`'s date to the due date, both in the
    /// deadline's zone: 0 on the day itself, negative once past.
    pub fn days_left(&self, now: DateTime<Utc>) -> i64 {
        let today = now.with_timezone(&self.timezone).date_naive();
        (self.due_date() - today).num_days()
    }

    /// Not yet passed at `now` (whatever its status).
    pub fn is_ahead(&self, now: DateTime<Utc>) -> bool {
        self.due_at > now
    }

    /// Open until further notice (no date).
    pub fn is_open(&self) -> bool {
        self.due == Due::Open
    }

    /// Ahead of `now` and not cancelled.
    pub fn is_upcoming(&self, now: DateTime<Utc>) -> bool {
        self.is_ahead(now) && self.status != Status::Cancelled
    }

    /// Computes the fingerprint of the given fields. Topics and reminder days
    /// are sets, so their order does not count; every field is length-prefixed
    /// so that no two different entries hash the same bytes.
    pub fn fingerprint_of(&self) -> Fingerprint {
        // The bytes are gathered first and hashed at once: thousands of
        // items are fingerprinted per load, and small updates cost.
        let mut bytes: Vec<u8> = Vec::with_capacity(1024);
        let mut field = |name: &str, value: &str| {
            for part in [name, value] {
                bytes.extend_from_slice(&(part.len() as u64).to_le_bytes());
                bytes.extend_from_slice(part.as_bytes());
            }
        };
        field("v", "1");
        field("id", &self.id);
        field("title", &self.title);
        field("mechanism", &self.mechanism);
        let mut topics = self.topics.clone();
        topics.sort();
        field("topics", &topics.join("\n"));
        field("due", &self.due.key());
        field("timezone", self.timezone.name());
        field("country", self.country.as_deref().unwrap_or(""));
        field("body", self.body.as_deref().unwrap_or(""));
        field("url", self.url.as_deref().unwrap_or(""));
        let submit = match &self.submit_to {
            Some(SubmitTo::Email(e)) => format!("email {e}"),
            Some(SubmitTo::Url(u)) => format!("url {u}"),
            None => String::new(),
        };
        field("submit_to", &submit);
        field("description", self.description.as_deref().unwrap_or(""));
        field("status", self.status.as_str());
        let days = match &self.remind_days {
            Some(days) => {
                let mut days = days.clone();
                days.sort_unstable();
                days.iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            }
            None => "default".into(),
        };
        field("remind_days", &days);
        // Only those set: entries without them keep their fingerprint
        // (and so their SEQUENCE) from before requirements existed.
        for (name, value) in self.requirements.fields() {
            field(name, &value);
        }
        // The same for the schedule: only what is set.
        if self.entry != self.id {
            field("entry", &self.entry);
        }
        if let Some(m) = &self.milestone {
            field("kind", &m.kind);
            if let Some(label) = &m.label {
                field("label", label);
            }
        }
        if let Some(year) = self.year {
            field("year", &year.to_string());
        }
        if let Some(r) = &self.repeat {
            field("repeat", "yearly");
            if let Some(until) = r.until {
                field("until", &until.to_string());
            }
        }
        if let Some(o) = &self.opens {
            field("opens", &o.written.key());
        }
        if let Some(e) = &self.extended_from {
            field("extended_from", &e.written.key());
        }
        if !self.remind {
            field("remind", "false");
        }
        Fingerprint(Sha256::digest(&bytes).into())
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    pub(crate) fn sample() -> Deadline {
        let mut d = Deadline {
            id: "cerd-blr-2024".into(),
            entry: "cerd-blr-2024".into(),
            milestone: None,
            year: None,
            repeat: None,
            opens: None,
            extended_from: None,
            remind: true,
            title: "Альтернативный доклад…".into(),
            mechanism: "cerd".into(),
            topics: vec!["racial-discrimination".into(), "discrimination".into()],
            due: Due::Date(NaiveDate::from_ymd_opt(2024, 7, 15).unwrap()),
            due_at: Utc.with_ymd_and_hms(2024, 7, 15, 22, 0, 0).unwrap(),
            timezone: Tz::Europe__Zurich,
            country: Some("BY".into()),
            body: None,
            url: None,
            submit_to: None,
            description: None,
            status: Status::Confirmed,
            remind_days: Some(vec![30, 7]),
            requirements: Default::default(),
            origin: Origin {
                file: std::path::Path::new("a.toml").into(),
                line: 1,
                column: 1,
            },
            fingerprint: Fingerprint([0; 32]),
        };
        d.fingerprint = d.fingerprint_of();
        d
    }

    /// An item's size is what 10,000 deadlines cost a running server
    /// (benches/memory.sh): rarely-set fields are boxed, requirements are
    /// shared (one empty value for all entries without any).
    #[test]
    fn an_item_stays_small_and_empty_requirements_are_shared() {
        assert!(
            std::mem::size_of::<Deadline>() <= 416,
            "{} bytes",
            std::mem::size_of::<Deadline>()
        );
        let a = crate::model::requirements::shared(Default::default());
        let b = crate::model::requirements::shared(Default::default());
        assert!(std::sync::Arc::ptr_eq(&a, &b));
        let full = crate::model::requirements::Requirements {
            word_limit: Some(5000),
            ..Default::default()
        };
        let c = crate::model::requirements::shared(full.clone());
        assert!(!std::sync::Arc::ptr_eq(&a, &c));
        assert_eq!(*c, full);
    }

    #[test]
    fn fingerprint_ignores_origin_and_set_order() {
        let a = sample();
        let mut b = a.clone();
        b.origin.file = std::path::Path::new("elsewhere/b.toml").into();
        b.origin.line = 40;
        b.topics.reverse();
        b.remind_days = Some(vec![7, 30]);
        assert_eq!(a.fingerprint_of(), b.fingerprint_of());
    }

    #[test]
    fn fingerprint_changes_with_every_field() {
        let a = sample();
        let edits: [fn(&mut Deadline); 29] = [
            |d| d.title.push('!'),
            |d| d.mechanism = "cedaw".into(),
            |d| d.topics.pop().map(drop).unwrap_or(()),
            |d| d.due = Due::Date(NaiveDate::from_ymd_opt(2024, 7, 16).unwrap()),
            |d| d.timezone = Tz::UTC,
            |d| d.country = None,
            |d| d.body = Some("x".into()),
            |d| d.url = Some("https://x.org/".into()),
            |d| d.submit_to = Some(SubmitTo::Email("a@b.org".into())),
            |d| d.description = Some("x".into()),
            |d| d.status = Status::Cancelled,
            |d| d.remind_days = None,
            |d| d.remind_days = Some(vec![]),
            |d| std::sync::Arc::make_mut(&mut d.requirements).word_limit = Some(5000),
            |d| std::sync::Arc::make_mut(&mut d.requirements).page_limit = Some(10),
            |d| std::sync::Arc::make_mut(&mut d.requirements).languages = vec!["en".into()],
            |d| {
                std::sync::Arc::make_mut(&mut d.requirements).submit_via =
                    vec![crate::model::requirements::SubmitVia::Post]
            },
            |d| {
                std::sync::Arc::make_mut(&mut d.requirements).subject_line = Some("HCR 2026".into())
            },
            |d| {
                std::sync::Arc::make_mut(&mut d.requirements).public =
                    Some(crate::model::requirements::Public::No)
            },
            |d| {
                std::sync::Arc::make_mut(&mut d.requirements).verified =
                    NaiveDate::from_ymd_opt(2026, 11, 30)
            },
            |d| {
                std::sync::Arc::make_mut(&mut d.requirements).source = Some("https://x.org/".into())
            },
            |d| d.due = Due::Open,
            |d| d.entry = "cerd".into(),
            |d| {
                d.milestone = Some(Box::new(crate::model::schedule::Milestone {
                    kind: "loi".into(),
                    label: None,
                }))
            },
            |d| d.year = Some(2024),
            |d| d.repeat = Some(crate::model::schedule::Yearly { until: None }),
            |d| {
                d.opens = Some(Box::new(crate::model::schedule::When {
                    written: Due::Date(NaiveDate::from_ymd_opt(2024, 6, 1).unwrap()),
                    at: Utc.with_ymd_and_hms(2024, 5, 31, 22, 0, 0).unwrap(),
                }))
            },
            |d| d.remind = false,
            |d| {
                d.extended_from = Some(Box::new(crate::model::schedule::When {
                    written: Due::Date(NaiveDate::from_ymd_opt(2024, 6, 30).unwrap()),
                    at: Utc.with_ymd_and_hms(2024, 6, 30, 22, 0, 0).unwrap(),
                }))
            },
        ];
        for (i, edit) in edits.iter().enumerate() {
            let mut b = a.clone();
            edit(&mut b);
            assert_ne!(a.fingerprint_of(), b.fingerprint_of(), "edit {i}");
        }
        // A pinned value: the fingerprint must be stable across builds and
        // machines (feeds derive SEQUENCE and DTSTAMP from it).
        assert_eq!(a.fingerprint.to_string(), a.fingerprint_of().to_string());
        insta::assert_snapshot!(a.fingerprint.to_string(), @"d53a1b9651f2cc77cc623e6a1b48e122");
    }

    #[test]
    fn days_left_counts_calendar_days_in_the_zone() {
        let d = sample(); // due 2024-07-15, Zurich
        let at = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        assert_eq!(d.days_left(at("2024-07-14T21:59:00Z")), 1); // 23:59 on the 14th in Zurich
        assert_eq!(d.days_left(at("2024-07-14T22:00:00Z")), 0); // 00:00 on the 15th
        assert!(d.is_ahead(at("2024-07-15T21:59:59Z")));
        assert!(!d.is_ahead(at("2024-07-15T22:00:00Z")));
        assert_eq!(d.days_left(at("2024-07-20T12:00:00Z")), -5);
    }
}
