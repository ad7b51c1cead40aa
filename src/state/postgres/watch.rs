//! Watched pages and the problems staff are mailed about, in PostgreSQL
//! (see the SQLite engine's `watch`).

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::Postgres;
use crate::state::records::{Noted, UrlState, Validators, WatchAlert};
use crate::state::{format_time, parse_time, StateError};

const COLUMNS: &str = "url, checked_at, status, final_url, error, failures, failing_since, \
    answered_at, etag, last_modified, fingerprint, text, cut, changed_at, excerpt, reader";

impl Postgres {
    pub fn watched(&self, url: &str) -> Result<Option<UrlState>, StateError> {
        let err = self.error();
        let row = self.block(async {
            let client = self.client().await?;
            client
                .query_opt(
                    &format!("SELECT {COLUMNS} FROM watched WHERE url = $1"),
                    &[&url],
                )
                .await
                .map_err(&err)
        })?;
        let Some(r) = row else {
            return Ok(None);
        };
        let time = |i: usize| r.get::<_, Option<&str>>(i).map(parse_time).transpose();
        let status: Option<i32> = r.get(2);
        let failures: i64 = r.get(5);
        let reader: i64 = r.get(15);
        Ok(Some(UrlState {
            url: r.get(0),
            checked_at: time(1)?,
            status: status.and_then(|s| u16::try_from(s).ok()),
            final_url: r.get(3),
            error: r.get(4),
            failures: u32::try_from(failures).unwrap_or(u32::MAX),
            failing_since: time(6)?,
            answered_at: time(7)?,
            etag: r.get(8),
            last_modified: r.get(9),
            fingerprint: r.get(10),
            text: r.get(11),
            cut: r.get(12),
            changed_at: time(13)?,
            excerpt: r.get(14),
            reader: u32::try_from(reader).unwrap_or(0),
        }))
    }

    pub fn watch_validators(&self, url: &str, reader: u32) -> Result<Validators, StateError> {
        let err = self.error();
        self.block(async {
            let client = self.client().await?;
            Ok(client
                .query_opt(
                    "SELECT etag, last_modified FROM watched WHERE url = $1 AND reader >= $2",
                    &[&url, &i64::from(reader)],
                )
                .await
                .map_err(&err)?
                .map(|r| Validators {
                    etag: r.get(0),
                    last_modified: r.get(1),
                })
                .unwrap_or_default())
        })
    }

    pub fn last_watch_pass(&self) -> Result<Option<DateTime<Utc>>, StateError> {
        let err = self.error();
        let last: Option<String> = self.block(async {
            let client = self.client().await?;
            Ok::<_, StateError>(
                client
                    .query_one("SELECT MAX(checked_at) FROM watched", &[])
                    .await
                    .map_err(&err)?
                    .get(0),
            )
        })?;
        last.map(|t| parse_time(&t)).transpose()
    }

    pub fn record_watched(&mut self, s: &UrlState) -> Result<(), StateError> {
        let time = |t: Option<DateTime<Utc>>| t.map(format_time);
        self.execute(
            &format!(
                "INSERT INTO watched ({COLUMNS})
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)
                 ON CONFLICT (url) DO UPDATE SET checked_at = $2, status = $3, final_url = $4,
                     error = $5, failures = $6, failing_since = $7, answered_at = $8, etag = $9,
                     last_modified = $10, fingerprint = $11, text = $12, cut = $13,
                     changed_at = $14, excerpt = $15, reader = $16"
            ),
            &[
                &s.url,
                &time(s.checked_at).unwrap_or_default(),
                &s.status.map(i32::from),
                &s.final_url,
                &s.error,
                &i64::from(s.failures),
                &time(s.failing_since),
                &time(s.answered_at),
                &s.etag,
                &s.last_modified,
                &s.fingerprint,
                &s.text,
                &s.cut,
                &time(s.changed_at),
                &s.excerpt,
                &i64::from(s.reader),
            ],
        )
        .map(drop)
    }

    pub fn forget_watched_except(&mut self, keep: &HashSet<&str>) -> Result<usize, StateError> {
        let err = self.error();
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(&err)?;
            let urls: Vec<String> = tx
                .query(
                    "SELECT url FROM watched UNION SELECT url FROM watch_alerts",
                    &[],
                )
                .await
                .map_err(&err)?
                .into_iter()
                .map(|r| r.get(0))
                .collect();
            let mut gone = 0;
            for url in urls.iter().filter(|u| !keep.contains(u.as_str())) {
                gone += tx
                    .execute("DELETE FROM watched WHERE url = $1", &[url])
                    .await
                    .map_err(&err)?;
                tx.execute("DELETE FROM watch_alerts WHERE url = $1", &[url])
                    .await
                    .map_err(&err)?;
            }
            tx.commit().await.map_err(&err)?;
            Ok(usize::try_from(gone).unwrap_or(usize::MAX))
        })
    }

    pub fn note_watch_problems(
        &mut self,
        url: &str,
        entries: &str,
        problems: &[Noted<'_>],
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        let err = self.error();
        let now = format_time(now);
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(&err)?;
            for p in problems {
                tx.execute(
                    "INSERT INTO watch_alerts (url, key, entries, message, excerpt, seen_at)
                     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (url, key) DO NOTHING",
                    &[&url, &p.key, &entries, &p.message, &p.excerpt, &now],
                )
                .await
                .map_err(&err)?;
            }
            let keys: Vec<String> = tx
                .query(
                    "SELECT key FROM watch_alerts WHERE url = $1 AND sent_at IS NOT NULL",
                    &[&url],
                )
                .await
                .map_err(&err)?
                .into_iter()
                .map(|r| r.get(0))
                .collect();
            for key in keys
                .iter()
                .filter(|k| !problems.iter().any(|p| p.key == k.as_str()))
            {
                tx.execute(
                    "DELETE FROM watch_alerts WHERE url = $1 AND key = $2",
                    &[&url, key],
                )
                .await
                .map_err(&err)?;
            }
            tx.commit().await.map_err(&err)
        })
    }

    pub fn unsent_watch_alerts(&self) -> Result<Vec<WatchAlert>, StateError> {
        let err = self.error();
        let rows = self.block(async {
            let client = self.client().await?;
            client
                .query(
                    "SELECT url, key, entries, message, excerpt, seen_at FROM watch_alerts
                     WHERE sent_at IS NULL ORDER BY seen_at, url, key",
                    &[],
                )
                .await
                .map_err(&err)
        })?;
        rows.into_iter()
            .map(|r| {
                Ok(WatchAlert {
                    url: r.get(0),
                    key: r.get(1),
                    entries: r.get(2),
                    message: r.get(3),
                    excerpt: r.get(4),
                    seen_at: parse_time(r.get(5))?,
                })
            })
            .collect()
    }

    pub fn watch_alerts_sent(
        &mut self,
        alerts: &[WatchAlert],
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        let err = self.error();
        let now = format_time(now);
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(&err)?;
            for a in alerts {
                tx.execute(
                    "UPDATE watch_alerts SET sent_at = $3 WHERE url = $1 AND key = $2",
                    &[&a.url, &a.key, &now],
                )
                .await
                .map_err(&err)?;
            }
            tx.commit().await.map_err(&err)
        })
    }
}
