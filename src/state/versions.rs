//! Entry versions: per deadline id the fingerprint last seen, a `SEQUENCE`
//! that grows each time it changes, and when it last changed (the feeds'
//! `DTSTAMP`/`LAST-MODIFIED`); when entries left; when the settings that
//! shape output changed. What changed is decided by the pure [`advance`];
//! the methods here only read and write rows.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::{format_time, parse_time, Database, StateError};
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

impl Database {
    pub(super) fn snapshot(&self) -> Result<Recorded, StateError> {
        let last_removal = self
            .meta("last_removal")?
            .as_deref()
            .map(parse_time)
            .transpose()?;
        let settings = match (self.meta("settings")?, self.meta("settings_changed_at")?) {
            (Some(f), Some(t)) => Some((f, parse_time(&t)?)),
            _ => None,
        };
        Ok(Recorded {
            rows: self.rows()?,
            last_removal,
            settings,
        })
    }

    pub(super) fn rows(&self) -> Result<HashMap<String, Row>, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, fingerprint, sequence, changed_at, removed_at, due, due_at, was_due, was_due_at FROM entries")?;
        let raw = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    [
                        r.get::<_, Option<String>>(5)?,
                        r.get::<_, Option<String>>(6)?,
                        r.get::<_, Option<String>>(7)?,
                        r.get::<_, Option<String>>(8)?,
                    ],
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        // A due that does not read back (written by a newer release) is
        // left out: it only words "extended from".
        let when =
            |key: &Option<String>, at: &Option<String>| -> Result<Option<When>, StateError> {
                Ok(match (key.as_deref().and_then(Due::from_key), at) {
                    (Some(written), Some(at)) => Some(When {
                        written,
                        at: parse_time(at)?,
                    }),
                    _ => None,
                })
            };
        raw.into_iter()
            .map(
                |(id, fingerprint, sequence, changed, removed, [due, due_at, was, was_at])| {
                    Ok((
                        id,
                        Row {
                            fingerprint,
                            sequence,
                            changed_at: parse_time(&changed)?,
                            removed_at: removed.as_deref().map(parse_time).transpose()?,
                            due: when(&due, &due_at)?,
                            was_due: when(&was, &was_at)?,
                        },
                    ))
                },
            )
            .collect()
    }

    /// Records the catalog and the output settings (any string that changes
    /// when they do) as seen at `now`, and returns every entry's version.
    /// Idempotent: syncing the same catalog and settings again changes nothing.
    pub fn sync(
        &mut self,
        catalog: &Catalog,
        settings: &str,
        now: DateTime<Utc>,
    ) -> Result<Versions, StateError> {
        let before = self.snapshot()?;
        let after = advance(&before, catalog, settings, now);
        let tx = self.conn.transaction()?;
        let put_meta = |key: &str, value: String| {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = ?2",
                [key, value.as_str()],
            )
        };
        if after.last_removal != before.last_removal {
            if let Some(t) = after.last_removal {
                put_meta("last_removal", format_time(t))?;
            }
        }
        if after.settings != before.settings {
            if let Some((f, t)) = &after.settings {
                put_meta("settings", f.clone())?;
                put_meta("settings_changed_at", format_time(*t))?;
            }
        }
        {
            let mut upsert = tx.prepare(
                "INSERT INTO entries (id, fingerprint, sequence, changed_at, removed_at,
                     due, due_at, was_due, was_due_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (id) DO UPDATE SET fingerprint = ?2, sequence = ?3,
                     changed_at = ?4, removed_at = ?5, due = ?6, due_at = ?7,
                     was_due = ?8, was_due_at = ?9",
            )?;
            for (id, row) in &after.rows {
                if before.rows.get(id) != Some(row) {
                    upsert.execute(params![
                        id,
                        row.fingerprint,
                        row.sequence,
                        format_time(row.changed_at),
                        row.removed_at.map(format_time),
                        row.due.map(|w| w.written.key()),
                        row.due.map(|w| format_time(w.at)),
                        row.was_due.map(|w| w.written.key()),
                        row.was_due.map(|w| format_time(w.at)),
                    ])?;
                }
            }
        }
        tx.commit()?;
        Ok(versions(&after))
    }

    /// The versions as stored, without recording anything.
    pub fn versions(&self) -> Result<Versions, StateError> {
        Ok(versions(&self.snapshot()?))
    }

    /// Looks up one row (for tests and diagnostics).
    pub fn row(&self, id: &str) -> Result<Option<Row>, StateError> {
        Ok(self.rows()?.remove(id))
    }
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

fn versions(snapshot: &Recorded) -> Versions {
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
