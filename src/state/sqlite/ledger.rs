//! The reminder ledger: one row per (subscriber, deadline, due instant,
//! kind) with where it stands (`sending`, `sent`, `skipped`, `failed`,
//! `held`), the
//! Message-ID it went out under, attempts, and the opt-outs. Subscribers
//! are named by their key (the keyed hash of the address; the column is
//! still called `email`, from before, see `key_addresses`).

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::Sqlite;
use crate::state::columns;
use crate::state::records::{Delivery, Key, Ledger};
use crate::state::{format_time, StateError};

impl Sqlite {
    pub fn ledger(&self) -> Result<Ledger, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT email, deadline, due_at, kind, state FROM reminders")?;
        let raw = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut ledger = Ledger::default();
        for (email, deadline, due_at, kind, state) in raw {
            let key = columns::key(email, deadline, &due_at, kind)?;
            ledger.rows.insert(key, columns::parse_delivery(&state));
        }
        Ok(ledger)
    }

    pub fn record(
        &mut self,
        keys: &[Key],
        state: Delivery,
        message_id: Option<&str>,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        let state = columns::delivery(state);
        let attempt = i64::from(state == "sending");
        let tx = self.conn.transaction()?;
        {
            let mut upsert = tx.prepare(
                "INSERT INTO reminders (email, deadline, due_at, kind, state, attempts, message_id, last_error, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
                 ON CONFLICT (email, deadline, due_at, kind) DO UPDATE SET
                     state = ?5, attempts = attempts + ?6,
                     message_id = COALESCE(?7, message_id), last_error = ?8, updated_at = ?9",
            )?;
            for k in keys {
                upsert.execute(params![
                    k.subscriber,
                    k.deadline,
                    format_time(k.due_at),
                    k.kind.to_string(),
                    state,
                    attempt,
                    message_id,
                    error.map(crate::model::mask::mask_addresses),
                    format_time(now),
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    pub fn sending(&self) -> Result<Vec<(String, Vec<Key>)>, StateError> {
        let mut stmt = self.conn.prepare(
            "SELECT message_id, email, deadline, due_at, kind FROM reminders
             WHERE state = 'sending' ORDER BY message_id, deadline, kind",
        )?;
        let raw = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut groups: Vec<(String, Vec<Key>)> = Vec::new();
        for (id, email, deadline, due_at, kind) in raw {
            let key = columns::key(email, deadline, &due_at, kind)?;
            let id = id.unwrap_or_default();
            match groups.last_mut() {
                Some((last, keys)) if *last == id => keys.push(key),
                _ => groups.push((id, vec![key])),
            }
        }
        Ok(groups)
    }

    pub fn attempts(&self, keys: &[Key]) -> Result<i64, StateError> {
        let mut most = 0;
        for k in keys {
            let n: Option<i64> = self
                .conn
                .query_row(
                    "SELECT attempts FROM reminders WHERE email = ?1 AND deadline = ?2 AND due_at = ?3 AND kind = ?4",
                    params![k.subscriber, k.deadline, format_time(k.due_at), k.kind.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            most = most.max(n.unwrap_or(0));
        }
        Ok(most)
    }

    pub fn key_noticed(&self, id: &str) -> Result<bool, StateError> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM key_notices WHERE id = ?1", [id], |_| Ok(()))
            .optional()?
            .is_some())
    }

    pub fn record_key_notice(
        &mut self,
        id: &str,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        self.conn.execute(
            "INSERT INTO key_notices (id, email, at) VALUES (?1, ?2, ?3) ON CONFLICT (id) DO NOTHING",
            params![id, key, format_time(now)],
        )?;
        Ok(())
    }

    pub fn opted_out(&self) -> Result<std::collections::HashSet<String>, StateError> {
        let mut stmt = self.conn.prepare("SELECT email FROM opt_outs")?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    pub fn is_opted_out(&self, key: &str) -> Result<bool, StateError> {
        Ok(self
            .conn
            .query_row("SELECT 1 FROM opt_outs WHERE email = ?1", [key], |_| Ok(()))
            .optional()?
            .is_some())
    }

    pub fn opt_out(&mut self, key: &str, now: DateTime<Utc>) -> Result<bool, StateError> {
        let n = self.conn.execute(
            "INSERT INTO opt_outs (email, at) VALUES (?1, ?2) ON CONFLICT (email) DO NOTHING",
            params![key, crate::state::format_hour(now)],
        )?;
        Ok(n == 1)
    }

    pub fn resubscribe(&mut self, key: &str) -> Result<bool, StateError> {
        let n = self
            .conn
            .execute("DELETE FROM opt_outs WHERE email = ?1", [key])?;
        Ok(n > 0)
    }
}
