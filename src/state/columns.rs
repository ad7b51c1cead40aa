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
