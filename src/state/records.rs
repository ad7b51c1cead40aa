//! The values the state keeps, as its callers and every engine see them:
//! ledger rows (what the reminder planner reads and a pass records) and
//! watched URLs (what the watch pass reads and records). Plain data, no I/O:
//! the planner and the watch judge use them without depending on how they
//! are stored.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use chrono::{DateTime, Utc};

/// What a ledger row is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A reminder `k` days before.
    Remind(u16),
    /// The due instant changed after the subscriber was reminded.
    Moved,
    /// The deadline was cancelled after the subscriber was reminded.
    Cancelled,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Remind(k) => write!(f, "remind:{k}"),
            Kind::Moved => f.write_str("moved"),
            Kind::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "moved" => Some(Kind::Moved),
            "cancelled" => Some(Kind::Cancelled),
            _ => s.strip_prefix("remind:")?.parse().ok().map(Kind::Remind),
        }
    }
}

/// The identity of one ledger row: unique, and stable across runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// The subscriber's key (`Subscriber::key`: a keyed hash of the
    /// address).
    pub subscriber: Arc<str>,
    pub deadline: Arc<str>,
    /// The deadline's due instant when the row was made.
    pub due_at: DateTime<Utc>,
    pub kind: Kind,
}

/// Where a ledger row stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Handed to the mail transport; not yet confirmed (a crashed run leaves
    /// rows here, and they are sent again with the same Message-ID).
    Sending,
    Sent,
    /// Not sent on purpose (a smaller offset was due in the same run).
    Skipped,
    /// Refused for good (5xx after the allowed attempts).
    Failed,
    /// Not sent: the subscriber's OpenPGP key cannot be used (expired), and
    /// mail to them never goes in clear. Not final: planned again at every
    /// pass, and sent (by the usual rules) once the key is renewed.
    Held,
}

impl Delivery {
    /// Whether the row needs no more work.
    pub fn is_final(self) -> bool {
        matches!(self, Delivery::Sent | Delivery::Skipped | Delivery::Failed)
    }
}

/// The ledger as the planner sees it.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    pub rows: HashMap<Key, Delivery>,
}

/// What the state database keeps of a URL between checks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UrlState {
    pub url: String,
    pub checked_at: Option<DateTime<Utc>>,
    /// The last HTTP status (`None`: the last check got no answer).
    pub status: Option<u16>,
    /// Where the last answer came from, after redirects.
    pub final_url: Option<String>,
    /// The last check's failure (`<slug>: <text>`), if it failed.
    pub error: Option<String>,
    /// Failed checks in a row.
    pub failures: u32,
    /// The first of those failed checks.
    pub failing_since: Option<DateTime<Utc>>,
    /// When the URL last answered (2xx or 304).
    pub answered_at: Option<DateTime<Utc>>,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub fingerprint: Option<String>,
    /// The visible text, bounded.
    pub text: Option<String>,
    /// The body was cut at `max_body` when last read.
    pub cut: bool,
    /// When the visible text last changed, and what changed then.
    pub changed_at: Option<DateTime<Utc>>,
    pub excerpt: Option<String>,
    /// The version of the rules that made `text` and `fingerprint`
    /// (`watch::text::READER`).
    pub reader: u32,
}

/// The validators of the last answer, sent back as `If-None-Match` and
/// `If-Modified-Since`.
#[derive(Clone, Debug, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A problem of a watched URL to note for staff (`key`: distinct problems
/// have distinct keys, and each is mailed once).
#[derive(Clone, Copy, Debug)]
pub struct Noted<'a> {
    pub key: &'a str,
    pub message: &'a str,
    pub excerpt: Option<&'a str>,
}

/// What a sign-up found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SignUp {
    /// A new pending sign-up was stored.
    New,
    /// A pending sign-up was there: its choice and expiry are renewed.
    Pending,
    /// Already confirmed (active or waiting for staff): nothing changed.
    Confirmed,
}

/// A problem to mail staff about (or mailed already).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchAlert {
    pub url: String,
    pub key: String,
    /// The ids of the entries that link to the URL, comma-separated.
    pub entries: String,
    pub message: String,
    pub excerpt: Option<String>,
    pub seen_at: DateTime<Utc>,
}

/// The lead of replicas as the database granted it: its term (one more at
/// every change of holder) and when it runs out, by the database's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease {
    pub term: i64,
    pub expires_at: DateTime<Utc>,
}
