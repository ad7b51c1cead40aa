//! Entry versions in SQLite: the rows `advance` decides on, read and
//! written.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::params;

use super::Sqlite;
use crate::model::catalog::Catalog;
use crate::model::deadline::Due;
use crate::model::schedule::When;
use crate::render::feed::Versions;
use crate::state::versions::{advance, versions, Recorded, Row};
use crate::state::{format_time, parse_time, StateError};

impl Sqlite {
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

    pub fn versions(&self) -> Result<Versions, StateError> {
        Ok(versions(&self.snapshot()?))
    }

    pub fn row(&self, id: &str) -> Result<Option<Row>, StateError> {
        Ok(self.rows()?.remove(id))
    }
}
