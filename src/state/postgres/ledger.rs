//! The reminder ledger and opt-outs in PostgreSQL (see the SQLite engine's
//! `ledger` for what the rows mean).

use std::collections::HashSet;

use chrono::{DateTime, Utc};

use super::Postgres;
use crate::state::columns;
use crate::state::records::{Delivery, Key, Ledger};
use crate::state::{format_hour, format_time, StateError};

impl Postgres {
    pub fn ledger(&self) -> Result<Ledger, StateError> {
        let err = self.error();
        self.block(async {
            let client = self.client().await?;
            let rows = client
                .query(
                    "SELECT email, deadline, due_at, kind, state FROM reminders",
                    &[],
                )
                .await
                .map_err(&err)?;
            let mut ledger = Ledger::default();
            for r in rows {
                let key = columns::key(r.get(0), r.get(1), r.get(2), r.get(3))?;
                ledger.rows.insert(key, columns::parse_delivery(r.get(4)));
            }
            Ok(ledger)
        })
    }

    pub fn record(
        &mut self,
        keys: &[Key],
        state: Delivery,
        message_id: Option<&str>,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        let err = self.error();
        let state = columns::delivery(state);
        let attempt = i64::from(state == "sending");
        let error = error.map(crate::model::mask::mask_addresses);
        let now = format_time(now);
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(&err)?;
            // A former leader's writes are refused: the lease has moved on.
            if let Some((holder, term)) = &self.fence {
                let held = tx
                    .query_opt(
                        "SELECT 1 FROM lease WHERE name = 'leader' AND holder = $1 AND term = $2 FOR SHARE",
                        &[holder, term],
                    )
                    .await
                    .map_err(&err)?;
                if held.is_none() {
                    return Err(StateError::Fenced { term: *term });
                }
            }
            let upsert = tx
                .prepare(
                    "INSERT INTO reminders (email, deadline, due_at, kind, state, attempts, message_id, last_error, created_at, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
                     ON CONFLICT (email, deadline, due_at, kind) DO UPDATE SET
                         state = EXCLUDED.state, attempts = reminders.attempts + EXCLUDED.attempts,
                         message_id = COALESCE(EXCLUDED.message_id, reminders.message_id),
                         last_error = EXCLUDED.last_error, updated_at = EXCLUDED.updated_at",
                )
                .await
                .map_err(&err)?;
            for k in keys {
                tx.execute(
                    &upsert,
                    &[
                        &&*k.subscriber,
                        &&*k.deadline,
                        &format_time(k.due_at),
                        &k.kind.to_string(),
                        &state,
                        &attempt,
                        &message_id,
                        &error,
                        &now,
                    ],
                )
                .await
                .map_err(&err)?;
            }
            tx.commit().await.map_err(&err)
        })
    }

    pub fn sending(&self) -> Result<Vec<(String, Vec<Key>)>, StateError> {
        let err = self.error();
        self.block(async {
            let client = self.client().await?;
            //: the order SQLite gives (bytes), whatever the
            // database's locale.
            let rows = client
                .query(
                    "SELECT message_id, email, deadline, due_at, kind FROM reminders
                     WHERE state = 'sending'
                     ORDER BY message_id NULLS FIRST, deadline, kind",
                    &[],
                )
                .await
                .map_err(&err)?;
            let mut groups: Vec<(String, Vec<Key>)> = Vec::new();
            for r in rows {
                let key = columns::key(r.get(1), r.get(2), r.get(3), r.get(4))?;
                let id: String = r.get::<_, Option<String>>(0).unwrap_or_default();
                match groups.last_mut() {
                    Some((last, keys)) if *last == id => keys.push(key),
                    _ => groups.push((id, vec![key])),
                }
            }
            Ok(groups)
        })
    }

    pub fn attempts(&self, keys: &[Key]) -> Result<i64, StateError> {
        let err = self.error();
        self.block(async {
            let client = self.client().await?;
            let mut most = 0;
            for k in keys {
                let n: Option<i64> = client
                    .query_opt(
                        "SELECT attempts FROM reminders WHERE email = $1 AND deadline = $2 AND due_at = $3 AND kind = $4",
                        &[&&*k.subscriber, &&*k.deadline, &format_time(k.due_at), &k.kind.to_string()],
                    )
                    .await
                    .map_err(&err)?
                    .map(|r| r.get(0));
                most = most.max(n.unwrap_or(0));
            }
            Ok(most)
        })
    }

    pub fn key_noticed(&self, id: &str) -> Result<bool, StateError> {
        self.exists("SELECT 1 FROM key_notices WHERE id = $1", id)
    }

    pub fn record_key_notice(
        &mut self,
        id: &str,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        self.execute(
            "INSERT INTO key_notices (id, email, at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING",
            &[&id, &key, &format_time(now)],
        )
        .map(drop)
    }

    pub fn opted_out(&self) -> Result<HashSet<String>, StateError> {
        let err = self.error();
        self.block(async {
            let client = self.client().await?;
            Ok(client
                .query("SELECT email FROM opt_outs", &[])
                .await
                .map_err(&err)?
                .into_iter()
                .map(|r| r.get(0))
                .collect())
        })
    }

    pub fn is_opted_out(&self, key: &str) -> Result<bool, StateError> {
        self.exists("SELECT 1 FROM opt_outs WHERE email = $1", key)
    }

    pub fn opt_out(&mut self, key: &str, now: DateTime<Utc>) -> Result<bool, StateError> {
        let n = self.execute(
            "INSERT INTO opt_outs (email, at) VALUES ($1, $2) ON CONFLICT (email) DO NOTHING",
            &[&key, &format_hour(now)],
        )?;
        Ok(n == 1)
    }

    pub fn resubscribe(&mut self, key: &str) -> Result<bool, StateError> {
        Ok(self.execute("DELETE FROM opt_outs WHERE email = $1", &[&key])? > 0)
    }
}
