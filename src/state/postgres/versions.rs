//! Entry versions in PostgreSQL: read, decided by `advance` and written in
//! one transaction, under an advisory lock so that replicas syncing the
//! same commit at once agree (the second sees the first's rows and changes
//! nothing).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

use super::{Postgres, LOCK_ENTRIES};
use crate::model::catalog::Catalog;
use crate::model::deadline::Due;
use crate::model::schedule::When;
use crate::render::feed::Versions;
use crate::state::versions::{advance, versions, Recorded, Row};
use crate::state::{format_time, parse_time, StateError};

impl Postgres {
    async fn snapshot(&self, c: &impl GenericClient) -> Result<Recorded, StateError> {
        let err = self.error();
        let meta = |rows: &[tokio_postgres::Row], key: &str| {
            rows.iter()
                .find(|r| r.get::<_, &str>(0) == key)
                .map(|r| r.get::<_, String>(1))
        };
        let metas = c
            .query(
                "SELECT key, value FROM meta WHERE key IN ('last_removal', 'settings', 'settings_changed_at')",
                &[],
            )
            .await
            .map_err(&err)?;
        let last_removal = meta(&metas, "last_removal")
            .as_deref()
            .map(parse_time)
            .transpose()?;
        let settings = match (
            meta(&metas, "settings"),
            meta(&metas, "settings_changed_at"),
        ) {
            (Some(f), Some(t)) => Some((f, parse_time(&t)?)),
            _ => None,
        };
        let raw = c
            .query(
                "SELECT id, fingerprint, sequence, changed_at, removed_at, due, due_at, was_due, was_due_at FROM entries",
                &[],
            )
            .await
            .map_err(&err)?;
        let when = |key: Option<String>, at: Option<String>| -> Result<Option<When>, StateError> {
            Ok(match (key.as_deref().and_then(Due::from_key), at) {
                (Some(written), Some(at)) => Some(When {
                    written,
                    at: parse_time(&at)?,
                }),
                _ => None,
            })
        };
        let mut rows = HashMap::with_capacity(raw.len());
        for r in raw {
            let sequence: i64 = r.get(2);
            rows.insert(
                r.get::<_, String>(0),
                Row {
                    fingerprint: r.get(1),
                    sequence: u32::try_from(sequence).unwrap_or(u32::MAX),
                    changed_at: parse_time(r.get(3))?,
                    removed_at: r.get::<_, Option<&str>>(4).map(parse_time).transpose()?,
                    due: when(r.get(5), r.get(6))?,
                    was_due: when(r.get(7), r.get(8))?,
                },
            );
        }
        Ok(Recorded {
            rows,
            last_removal,
            settings,
        })
    }

    pub fn sync(
        &mut self,
        catalog: &Catalog,
        settings: &str,
        now: DateTime<Utc>,
    ) -> Result<Versions, StateError> {
        let err = self.error();
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(&err)?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&LOCK_ENTRIES])
                .await
                .map_err(&err)?;
            let before = self.snapshot(&tx).await?;
            let after = advance(&before, catalog, settings, now);
            let put_meta = "INSERT INTO meta (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value";
            if after.last_removal != before.last_removal {
                if let Some(t) = after.last_removal {
                    tx.execute(put_meta, &[&"last_removal", &format_time(t)])
                        .await
                        .map_err(&err)?;
                }
            }
            if after.settings != before.settings {
                if let Some((f, t)) = &after.settings {
                    tx.execute(put_meta, &[&"settings", f])
                        .await
                        .map_err(&err)?;
                    tx.execute(put_meta, &[&"settings_changed_at", &format_time(*t)])
                        .await
                        .map_err(&err)?;
                }
            }
            let upsert = tx
                .prepare(
                    "INSERT INTO entries (id, fingerprint, sequence, changed_at, removed_at,
                         due, due_at, was_due, was_due_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                     ON CONFLICT (id) DO UPDATE SET fingerprint = $2, sequence = $3,
                         changed_at = $4, removed_at = $5, due = $6, due_at = $7,
                         was_due = $8, was_due_at = $9",
                )
                .await
                .map_err(&err)?;
            for (id, row) in &after.rows {
                if before.rows.get(id) != Some(row) {
                    tx.execute(
                        &upsert,
                        &[
                            id,
                            &row.fingerprint,
                            &i64::from(row.sequence),
                            &format_time(row.changed_at),
                            &row.removed_at.map(format_time),
                            &row.due.map(|w| w.written.key()),
                            &row.due.map(|w| format_time(w.at)),
                            &row.was_due.map(|w| w.written.key()),
                            &row.was_due.map(|w| format_time(w.at)),
                        ],
                    )
                    .await
                    .map_err(&err)?;
                }
            }
            tx.commit().await.map_err(&err)?;
            Ok(versions(&after))
        })
    }

    pub fn versions(&self) -> Result<Versions, StateError> {
        self.block(async {
            let client = self.client().await?;
            Ok(versions(&self.snapshot(&client).await?))
        })
    }

    pub fn row(&self, id: &str) -> Result<Option<Row>, StateError> {
        self.block(async {
            let client = self.client().await?;
            Ok(self.snapshot(&client).await?.rows.remove(id))
        })
    }
}
