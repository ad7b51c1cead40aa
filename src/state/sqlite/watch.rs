//! Watched pages: what each URL's last check saw (`watched`), and the
//! problems staff are to be mailed about once each (`watch_alerts`: a row
//! per URL and problem key, `sent_at` set once mailed). Nothing here names
//! a subscriber: URLs and entry ids are public.

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::Sqlite;
use crate::state::records::{Noted, UrlState, Validators, WatchAlert};
use crate::state::{format_time, parse_time, StateError};

const COLUMNS: &str = "url, checked_at, status, final_url, error, failures, failing_since, \
    answered_at, etag, last_modified, fingerprint, text, cut, changed_at, excerpt, reader";

impl Sqlite {
    pub fn watched(&self, url: &str) -> Result<Option<UrlState>, StateError> {
        let row = self
            .conn
            .query_row(
                &format!("SELECT {COLUMNS} FROM watched WHERE url = ?1"),
                [url],
                |r| {
                    Ok((
                        UrlState {
                            url: r.get(0)?,
                            status: r.get(2)?,
                            final_url: r.get(3)?,
                            error: r.get(4)?,
                            failures: r.get(5)?,
                            etag: r.get(8)?,
                            last_modified: r.get(9)?,
                            fingerprint: r.get(10)?,
                            text: r.get(11)?,
                            cut: r.get(12)?,
                            excerpt: r.get(14)?,
                            reader: r.get(15)?,
                            ..UrlState::default()
                        },
                        [
                            r.get::<_, Option<String>>(1)?,
                            r.get::<_, Option<String>>(6)?,
                            r.get::<_, Option<String>>(7)?,
                            r.get::<_, Option<String>>(13)?,
                        ],
                    ))
                },
            )
            .optional()?;
        let Some((mut s, [checked, failing, answered, changed])) = row else {
            return Ok(None);
        };
        let time = |t: Option<String>| t.map(|t| parse_time(&t)).transpose();
        s.checked_at = time(checked)?;
        s.failing_since = time(failing)?;
        s.answered_at = time(answered)?;
        s.changed_at = time(changed)?;
        Ok(Some(s))
    }

    pub fn watch_validators(&self, url: &str, reader: u32) -> Result<Validators, StateError> {
        Ok(self
            .conn
            .query_row(
                "SELECT etag, last_modified FROM watched WHERE url = ?1 AND reader >= ?2",
                params![url, reader],
                |r| {
                    Ok(Validators {
                        etag: r.get(0)?,
                        last_modified: r.get(1)?,
                    })
                },
            )
            .optional()?
            .unwrap_or_default())
    }

    pub fn last_watch_pass(&self) -> Result<Option<DateTime<Utc>>, StateError> {
        let last: Option<String> =
            self.conn
                .query_row("SELECT MAX(checked_at) FROM watched", [], |r| r.get(0))?;
        last.map(|t| parse_time(&t)).transpose()
    }

    pub fn record_watched(&mut self, s: &UrlState) -> Result<(), StateError> {
        let time = |t: Option<DateTime<Utc>>| t.map(format_time);
        self.conn.execute(
            &format!(
                "INSERT OR REPLACE INTO watched ({COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)"
            ),
            params![
                s.url,
                time(s.checked_at).unwrap_or_default(),
                s.status,
                s.final_url,
                s.error,
                s.failures,
                time(s.failing_since),
                time(s.answered_at),
                s.etag,
                s.last_modified,
                s.fingerprint,
                s.text,
                s.cut,
                time(s.changed_at),
                s.excerpt,
                s.reader,
            ],
        )?;
        Ok(())
    }

    pub fn forget_watched_except(&mut self, keep: &HashSet<&str>) -> Result<usize, StateError> {
        let tx = self.conn.transaction()?;
        let urls: Vec<String> = tx
            .prepare("SELECT url FROM watched UNION SELECT url FROM watch_alerts")?
            .query_map([], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        let mut gone = 0;
        for url in urls.iter().filter(|u| !keep.contains(u.as_str())) {
            gone += tx.execute("DELETE FROM watched WHERE url = ?1", [url])?;
            tx.execute("DELETE FROM watch_alerts WHERE url = ?1", [url])?;
        }
        tx.commit()?;
        Ok(gone)
    }

    pub fn note_watch_problems(
        &mut self,
        url: &str,
        entries: &str,
        problems: &[Noted<'_>],
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        let tx = self.conn.transaction()?;
        for p in problems {
            tx.execute(
                "INSERT OR IGNORE INTO watch_alerts (url, key, entries, message, excerpt, seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![url, p.key, entries, p.message, p.excerpt, format_time(now)],
            )?;
        }
        let keys: Vec<String> = tx
            .prepare("SELECT key FROM watch_alerts WHERE url = ?1 AND sent_at IS NOT NULL")?
            .query_map([url], |r| r.get(0))?
            .collect::<Result<_, _>>()?;
        for key in keys
            .iter()
            .filter(|k| !problems.iter().any(|p| p.key == k.as_str()))
        {
            tx.execute(
                "DELETE FROM watch_alerts WHERE url = ?1 AND key = ?2",
                params![url, key],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    pub fn unsent_watch_alerts(&self) -> Result<Vec<WatchAlert>, StateError> {
        let mut stmt = self.conn.prepare(
            "SELECT url, key, entries, message, excerpt, seen_at FROM watch_alerts
             WHERE sent_at IS NULL ORDER BY seen_at, url, key",
        )?;
        let rows = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                    r.get::<_, String>(5)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        rows.into_iter()
            .map(|(url, key, entries, message, excerpt, seen)| {
                Ok(WatchAlert {
                    url,
                    key,
                    entries,
                    message,
                    excerpt,
                    seen_at: parse_time(&seen)?,
                })
            })
            .collect()
    }

    pub fn watch_alerts_sent(
        &mut self,
        alerts: &[WatchAlert],
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        let tx = self.conn.transaction()?;
        for a in alerts {
            tx.execute(
                "UPDATE watch_alerts SET sent_at = ?3 WHERE url = ?1 AND key = ?2",
                params![a.url, a.key, format_time(now)],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}
