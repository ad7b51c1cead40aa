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
            .prepare("SELECT id, fingerprint, sequence, changed_at, removed_at FROM entries")?;
        let raw = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        raw.into_iter()
            .map(|(id, fingerprint, sequence, changed, removed)| {
                Ok((
                    id,
                    Row {
                        fingerprint,
                        sequence,
                        changed_at: parse_time(&changed)?,
                        removed_at: removed.as_deref().map(parse_time).transpose()?,
                    },
                ))
            })
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
                "INSERT INTO entries (id, fingerprint, sequence, changed_at, removed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET fingerprint = ?2, sequence = ?3,
                     changed_at = ?4, removed_at = ?5",
            )?;
            for (id, row) in &after.rows {
                if before.rows.get(id) != Some(row) {
                    upsert.execute(params![
                        id,
                        row.fingerprint,
                        row.sequence,
                        format_time(row.changed_at),
                        row.removed_at.map(format_time),
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
/// `last_removal` forward. Pure.
pub fn advance(
    before: &Recorded,
    catalog: &Catalog,
    settings: &str,
    now: DateTime<Utc>,
) -> Recorded {
    let mut after = before.rows.clone();
    for d in catalog.deadlines() {
        let fingerprint = d.fingerprint.to_string();
        match after.get_mut(&d.id) {
            None => {
                after.insert(
                    d.id.clone(),
                    Row {
                        fingerprint,
                        sequence: 0,
                        changed_at: now,
                        removed_at: None,
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
        last_removal: snapshot.last_removal,
        settings_changed_at: snapshot.settings.as_ref().map(|(_, t)| *t),
    }
}
