//! Entry versions: per deadline id the fingerprint last seen, a `SEQUENCE`
//! that grows each time it changes, and when it last changed (the feeds'
//! `DTSTAMP`/`LAST-MODIFIED`); when entries left; when the settings that
//! shape output changed. What changed is decided here, by the pure
//! [`advance`]; the engines only read and write rows.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::model::catalog::Catalog;
use crate::model::deadline::Due;
use crate::model::schedule::When;
use crate::render::feed::{EntryVersion, Versions};

/// Everything the feeds need from the database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Recorded {
    pub rows: HashMap<String, Row>,
    /// The latest time an entry left the catalog. Kept apart from the rows,
    /// so that it survives the entry coming back: it only moves forward.
    pub last_removal: Option<DateTime<Utc>>,
    /// A fingerprint of the settings that shape rendered output, and when it
    /// last changed.
    pub settings: Option<(String, DateTime<Utc>)>,
}

/// One row of `entries`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub fingerprint: String,
    pub sequence: u32,
    pub changed_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
    /// The due last seen (`None` in rows of releases before schema 5).
    pub due: Option<When>,
    /// The due before the last change of it, if it changed.
    pub was_due: Option<When>,
}

/// The rows after seeing `catalog` at `now`: new entries start at sequence 0;
/// an entry whose fingerprint changed (or that comes back after removal)
/// gets the next sequence and `changed_at = now`; entries no longer in the
/// catalog are marked removed at `now` (once), which also moves
/// `last_removal` forward. A due that changed is kept as `was_due` (the
/// "extended from" of feeds and pages). Pure.
pub fn advance(
    before: &Recorded,
    catalog: &Catalog,
    settings: &str,
    now: DateTime<Utc>,
) -> Recorded {
    let mut after = before.rows.clone();
    for d in catalog.deadlines() {
        let fingerprint = d.fingerprint.to_string();
        let due = When {
            written: d.due,
            at: d.due_at,
        };
        if let Some(row) = after.get_mut(&d.id) {
            match row.due {
                // Open calls have no date to be extended from.
                Some(old) if old.written != due.written && old.written != Due::Open => {
                    row.was_due = (d.due != Due::Open).then_some(old);
                    row.due = Some(due);
                }
                Some(_) => {}
                None => row.due = Some(due),
            }
        }
        match after.get_mut(&d.id) {
            None => {
                after.insert(
                    d.id.clone(),
                    Row {
                        fingerprint,
                        sequence: 0,
                        changed_at: now,
                        removed_at: None,
                        due: Some(due),
                        was_due: None,
                    },
                );
            }
            Some(row) if row.fingerprint != fingerprint || row.removed_at.is_some() => {
                row.fingerprint = fingerprint;
                row.sequence = row.sequence.saturating_add(1);
                // Never move backwards, even if the clock did.
                row.changed_at = now.max(row.changed_at);
                row.removed_at = None;
            }
            Some(_) => {}
        }
    }
    let mut last_removal = before.last_removal;
    for (id, row) in after.iter_mut() {
        if row.removed_at.is_none() && catalog.get(id).is_none() {
            let at = last_removal.map_or(now, |t| t.max(now)).max(row.changed_at);
            row.removed_at = Some(at);
            last_removal = Some(at);
        }
    }
    let settings = match &before.settings {
        Some((f, t)) if f == settings => Some((f.clone(), *t)),
        Some((_, t)) => Some((settings.to_string(), now.max(*t))),
        None => Some((settings.to_string(), now)),
    };
    Recorded {
        rows: after,
        last_removal,
        settings,
    }
}

/// The feeds' versions in `snapshot`: the entries still in the catalog.
pub(super) fn versions(snapshot: &Recorded) -> Versions {
    Versions {
        entries: snapshot
            .rows
            .iter()
            .filter(|(_, r)| r.removed_at.is_none())
            .map(|(id, r)| {
                (
                    id.clone(),
                    EntryVersion {
                        sequence: r.sequence,
                        changed_at: r.changed_at,
                    },
                )
            })
            .collect(),
        was_due: snapshot
            .rows
            .iter()
            .filter(|(_, r)| r.removed_at.is_none())
            .filter_map(|(id, r)| Some((id.clone(), r.was_due?)))
            .collect(),
        last_removal: snapshot.last_removal,
        settings_changed_at: snapshot.settings.as_ref().map(|(_, t)| *t),
    }
}
