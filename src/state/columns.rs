//! What both engines write into columns and read back: the same text for a
//! time, a reminder's kind and state, a link value; the same checks on the
//! way back. Engine code only moves these values in and out of rows.

use chrono::{DateTime, Utc};

use super::records::{Delivery, Key, Kind};
use super::{parse_time, StateError};
use crate::subscriptions::{AddressKey, Sealed, Status, Stored};

/// `meta` key: the ledger names subscribers by their keyed id.
pub const META_KEYED: &str = "ledger_keyed";
/// `meta` key: the keyed hash of [`KEY_CHECK_TEXT`] under the address key
/// the database was keyed with; another key is refused before it can do
/// harm.
pub const META_KEY_CHECK: &str = "address_key_check";
pub const KEY_CHECK_TEXT: &str = "mechcal address key check";

/// A ledger row's `state` column.
pub fn delivery(state: Delivery) -> &'static str {
    match state {
        Delivery::Sending => "sending",
        Delivery::Sent => "sent",
        Delivery::Skipped => "skipped",
        Delivery::Failed => "failed",
        Delivery::Held => "held",
    }
}

/// A ledger row's `state` read back (anything unknown counts as failed:
/// final, never sent again).
pub fn parse_delivery(state: &str) -> Delivery {
    match state {
        "sending" => Delivery::Sending,
        "sent" => Delivery::Sent,
        "skipped" => Delivery::Skipped,
        "held" => Delivery::Held,
        _ => Delivery::Failed,
    }
}

/// A ledger row's key from its columns.
pub fn key(email: String, deadline: String, due_at: &str, kind: String) -> Result<Key, StateError> {
    Ok(Key {
        subscriber: email.into(),
        deadline: deadline.into(),
        due_at: parse_time(due_at)?,
        kind: Kind::parse(&kind).ok_or(StateError::BadKind(kind))?,
    })
}

/// A link value as a signed 64-bit column (values are below 2^63).
pub fn link_value(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// A subscription row as stored: id, status, sealed, created_at,
/// expires_at, paused_until, generation.
pub type SubscriptionRow = (
    String,
    String,
    Vec<u8>,
    String,
    Option<String>,
    Option<String>,
    i64,
);

/// A subscription row opened with the address key.
pub fn open_subscription(key: &AddressKey, r: SubscriptionRow) -> Result<Stored, StateError> {
    let (id, status, sealed, created_at, expires_at, paused_until, generation) = r;
    let plain = key.open(&id, &sealed).ok_or(StateError::Sealed)?;
    let sealed: Sealed = serde_json::from_slice(&plain).map_err(|_| StateError::Sealed)?;
    Ok(Stored {
        status: Status::parse(&status).ok_or(StateError::Sealed)?,
        sealed,
        created_at: parse_time(&created_at)?,
        expires_at: expires_at.as_deref().map(parse_time).transpose()?,
        paused_until: paused_until.as_deref().map(parse_time).transpose()?,
        link_value: u64::try_from(generation).unwrap_or(0),
        id,
    })
}

/// The subscriptions among `rows` with a status in `statuses`, opened; a
/// row that does not open is left out with a warning (the key is checked
/// on open, so such a row is damaged, and must not stop everybody else's
/// reminders).
pub fn open_subscriptions(
    key: &AddressKey,
    rows: Vec<SubscriptionRow>,
    statuses: &[Status],
) -> Result<Vec<Stored>, StateError> {
    let mut out = Vec::with_capacity(rows.len());
    let mut broken = 0;
    for r in rows {
        if !Status::parse(&r.1).is_some_and(|s| statuses.contains(&s)) {
            continue;
        }
        match open_subscription(key, r) {
            Ok(s) => out.push(s),
            Err(StateError::Sealed) => broken += 1,
            Err(e) => return Err(e),
        }
    }
    if broken > 0 {
        tracing::warn!(
            rows = broken,
            "subscriptions that do not open were left out"
        );
    }
    Ok(out)
}

/// Whether a confirmation or notice may go to `id` again, given when one
/// last went (at most one an hour).
pub fn may_mail(last: Option<&str>, now: DateTime<Utc>) -> Result<bool, StateError> {
    Ok(match last {
        None => true,
        Some(t) => parse_time(t)? + chrono::Duration::hours(1) <= now,
    })
}

/// What a column holds, for copying rows between engines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Col {
    Text,
    /// A 64-bit integer.
    Int,
    /// A 32-bit integer (an HTTP status).
    Int32,
    Blob,
    /// 0/1 in SQLite, `BOOLEAN` in PostgreSQL.
    Bool,
}

/// One value of a row being copied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Null,
    Int(i64),
    Text(String),
    Blob(Vec<u8>),
}

/// Every table of the state and its columns, as both engines hold them at
/// the current schema: what `Database::copy_to` copies.
pub const TABLES: &[(&str, &[(&str, Col)])] = &[
    ("meta", &[("key", Col::Text), ("value", Col::Text)]),
    (
        "entries",
        &[
            ("id", Col::Text),
            ("fingerprint", Col::Text),
            ("sequence", Col::Int),
            ("changed_at", Col::Text),
            ("removed_at", Col::Text),
            ("due", Col::Text),
            ("due_at", Col::Text),
            ("was_due", Col::Text),
            ("was_due_at", Col::Text),
        ],
    ),
    (
        "reminders",
        &[
            ("email", Col::Text),
            ("deadline", Col::Text),
            ("due_at", Col::Text),
            ("kind", Col::Text),
            ("state", Col::Text),
            ("attempts", Col::Int),
            ("message_id", Col::Text),
            ("last_error", Col::Text),
            ("created_at", Col::Text),
            ("updated_at", Col::Text),
        ],
    ),
    ("opt_outs", &[("email", Col::Text), ("at", Col::Text)]),
    (
        "subscriptions",
        &[
            ("id", Col::Text),
            ("status", Col::Text),
            ("sealed", Col::Blob),
            ("created_at", Col::Text),
            ("updated_at", Col::Text),
            ("expires_at", Col::Text),
            ("paused_until", Col::Text),
            ("generation", Col::Int),
        ],
    ),
    ("mailed", &[("id", Col::Text), ("at", Col::Text)]),
    (
        "key_notices",
        &[("id", Col::Text), ("email", Col::Text), ("at", Col::Text)],
    ),
    (
        "watched",
        &[
            ("url", Col::Text),
            ("checked_at", Col::Text),
            ("status", Col::Int32),
            ("final_url", Col::Text),
            ("error", Col::Text),
            ("failures", Col::Int),
            ("failing_since", Col::Text),
            ("answered_at", Col::Text),
            ("etag", Col::Text),
            ("last_modified", Col::Text),
            ("fingerprint", Col::Text),
            ("text", Col::Text),
            ("cut", Col::Bool),
            ("changed_at", Col::Text),
            ("excerpt", Col::Text),
            ("reader", Col::Int),
        ],
    ),
    (
        "watch_alerts",
        &[
            ("url", Col::Text),
            ("key", Col::Text),
            ("entries", Col::Text),
            ("message", Col::Text),
            ("excerpt", Col::Text),
            ("seen_at", Col::Text),
            ("sent_at", Col::Text),
        ],
    ),
];

/// `SELECT a, b, … FROM table` and `INSERT INTO table (a, b, …) VALUES
/// (<p1>, <p2>, …)` with each engine's placeholders.
pub fn copy_sql(
    table: &str,
    columns: &[(&str, Col)],
    placeholder: impl Fn(usize) -> String,
) -> (String, String) {
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let names = names.join(", ");
    let places: Vec<String> = (1..=columns.len()).map(placeholder).collect();
    (
        format!("SELECT {names} FROM {table}"),
        format!(
            "INSERT INTO {table} ({names}) VALUES ({})",
            places.join(", ")
        ),
    )
}
