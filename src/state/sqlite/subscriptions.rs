//! Self-service subscriptions in the state database, the keying of the
//! ledger by the address key, and forgetting a subscriber.
//!
//! Rows are named by the keyed hash of the address and hold it sealed
//! with the choice (see [`crate::subscriptions`]); nothing here sees or
//! stores an address in clear except to seal or open it.

use chrono::{DateTime, Utc};
use rusqlite::{params, OptionalExtension};

use super::Sqlite;
use crate::state::columns::{self, KEY_CHECK_TEXT, META_KEYED, META_KEY_CHECK};
use crate::state::records::SignUp;
use crate::state::{format_hour, format_hour_up, format_time, StateError};
use crate::subscriptions::{AddressKey, Status, Stored};

impl Sqlite {
    pub fn key_addresses(&mut self, key: &AddressKey) -> Result<(), StateError> {
        let check = key.id(KEY_CHECK_TEXT);
        match self.meta(META_KEY_CHECK)? {
            Some(known) if known != check => return Err(StateError::WrongKey(self.path.clone())),
            Some(_) => {}
            None => {
                self.conn.execute(
                    "INSERT INTO meta (key, value) VALUES (?1, ?2)",
                    [META_KEY_CHECK, &check],
                )?;
            }
        }
        if self.meta(META_KEYED)?.is_some() {
            return Ok(());
        }
        let tx = self.conn.transaction()?;
        for table in ["reminders", "opt_outs"] {
            let emails: Vec<String> = tx
                .prepare(&format!(
                    "SELECT DISTINCT email FROM {table} WHERE email LIKE '%@%'"
                ))?
                .query_map([], |r| r.get(0))?
                .collect::<Result<_, _>>()?;
            for email in emails {
                let id = key.id(&email);
                tx.execute(
                    &format!("UPDATE OR IGNORE {table} SET email = ?1 WHERE email = ?2"),
                    params![id, email],
                )?;
                // A row already there under the id (cannot happen before
                // this runs, but if it did the keyed one stands).
                tx.execute(&format!("DELETE FROM {table} WHERE email = ?1"), [&email])?;
            }
        }
        tx.execute(
            "UPDATE reminders SET message_id = NULL WHERE state <> 'sending'",
            [],
        )?;
        let errors: Vec<(i64, String)> = tx
            .prepare("SELECT rowid, last_error FROM reminders WHERE last_error LIKE '%@%'")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<Result<_, _>>()?;
        for (rowid, error) in errors {
            tx.execute(
                "UPDATE reminders SET last_error = ?1 WHERE rowid = ?2",
                params![crate::model::mask::mask_addresses(&error), rowid],
            )?;
        }
        tx.execute(
            "INSERT INTO meta (key, value) VALUES (?1, '1')",
            [META_KEYED],
        )?;
        tx.commit()?;
        self.conn.execute_batch("VACUUM")?;
        self.scrub_wal()
    }

    /// Empties the WAL into the database file (whose deleted content
    /// `secure_delete` has overwritten), so that it keeps no older page.
    fn scrub_wal(&self) -> Result<(), StateError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    pub fn sign_up(
        &mut self,
        id: &str,
        sealed: &[u8],
        expires_at: DateTime<Utc>,
        value: u64,
        now: DateTime<Utc>,
    ) -> Result<SignUp, StateError> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let status: Option<String> = tx
            .query_row(
                "SELECT status FROM subscriptions WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        let outcome = match status.as_deref() {
            None => {
                tx.execute(
                    "INSERT INTO subscriptions (id, status, sealed, created_at, updated_at, expires_at, generation)
                     VALUES (?1, 'pending', ?2, ?3, ?3, ?4, ?5)",
                    params![id, sealed, format_hour(now), format_hour_up(expires_at), columns::link_value(value)],
                )?;
                SignUp::New
            }
            Some("pending") => {
                tx.execute(
                    "UPDATE subscriptions SET sealed = ?2, updated_at = ?3, expires_at = ?4 WHERE id = ?1",
                    params![id, sealed, format_hour(now), format_hour_up(expires_at)],
                )?;
                SignUp::Pending
            }
            // `file` rows are a subscribers-file person's own settings:
            // the form does not touch them (the caller checks the file).
            Some(_) => SignUp::Confirmed,
        };
        tx.commit()?;
        Ok(outcome)
    }

    pub fn may_mail(&self, id: &str, now: DateTime<Utc>) -> Result<bool, StateError> {
        let last: Option<String> = self
            .conn
            .query_row("SELECT at FROM mailed WHERE id = ?1", [id], |r| r.get(0))
            .optional()?;
        columns::may_mail(last.as_deref(), now)
    }

    pub fn mailed(&mut self, id: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        self.conn.execute(
            "INSERT INTO mailed (id, at) VALUES (?1, ?2) ON CONFLICT (id) DO UPDATE SET at = ?2",
            params![id, format_time(now)],
        )?;
        Ok(())
    }

    pub fn confirm(
        &mut self,
        id: &str,
        value: u64,
        status: Status,
        now: DateTime<Utc>,
    ) -> Result<Option<Status>, StateError> {
        let tx = self.conn.transaction()?;
        let n = tx.execute(
            "UPDATE subscriptions SET status = ?2, expires_at = NULL, updated_at = ?5
             WHERE id = ?1 AND status = 'pending' AND expires_at > ?3 AND generation = ?4",
            params![
                id,
                status.as_str(),
                format_time(now),
                columns::link_value(value),
                format_hour(now)
            ],
        )?;
        if n == 1 {
            tx.execute("DELETE FROM opt_outs WHERE email = ?1", [id])?;
        }
        tx.commit()?;
        Ok((n == 1).then_some(status))
    }

    pub fn subscription(&self, key: &AddressKey, id: &str) -> Result<Option<Stored>, StateError> {
        let row = self
            .conn
            .query_row(
                "SELECT id, status, sealed, created_at, expires_at, paused_until, generation
                 FROM subscriptions WHERE id = ?1",
                [id],
                raw_row,
            )
            .optional()?;
        row.map(|r| columns::open_subscription(key, r)).transpose()
    }

    pub fn subscriptions(
        &self,
        key: &AddressKey,
        statuses: &[Status],
    ) -> Result<Vec<Stored>, StateError> {
        let mut stmt = self.conn.prepare(
            "SELECT id, status, sealed, created_at, expires_at, paused_until, generation
             FROM subscriptions ORDER BY created_at, id",
        )?;
        let rows = stmt
            .query_map([], raw_row)?
            .collect::<Result<Vec<_>, _>>()?;
        columns::open_subscriptions(key, rows, statuses)
    }

    pub fn save_subscription(
        &mut self,
        key: &AddressKey,
        stored: &Stored,
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        let json = stored.sealed.padded_json();
        let sealed = key.seal(&stored.id, &json);
        self.conn.execute(
            "INSERT INTO subscriptions (id, status, sealed, created_at, updated_at, expires_at, paused_until, generation)
             VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?6, ?7)
             ON CONFLICT (id) DO UPDATE SET status = ?2, sealed = ?3, updated_at = ?4,
                 expires_at = ?5, paused_until = ?6, generation = ?7",
            params![
                stored.id,
                stored.status.as_str(),
                sealed,
                format_hour(now),
                stored.expires_at.map(format_hour_up),
                stored.paused_until.map(format_hour_up),
                columns::link_value(stored.link_value),
            ],
        )?;
        Ok(())
    }

    pub fn forget(&mut self, id: &str) -> Result<usize, StateError> {
        let tx = self.conn.transaction()?;
        let mut n = 0;
        for (table, column) in [
            ("subscriptions", "id"),
            ("reminders", "email"),
            ("opt_outs", "email"),
            ("mailed", "id"),
            ("key_notices", "email"),
        ] {
            n += tx.execute(&format!("DELETE FROM {table} WHERE {column} = ?1"), [id])?;
        }
        tx.commit()?;
        self.scrub_wal()?;
        Ok(n)
    }

    pub fn expire_sign_ups(&mut self, now: DateTime<Utc>) -> Result<usize, StateError> {
        let n = self.conn.execute(
            "DELETE FROM subscriptions WHERE status = 'pending' AND expires_at <= ?1",
            [format_time(now)],
        )?;
        self.conn.execute(
            "DELETE FROM mailed WHERE at <= ?1",
            [format_time(now - chrono::Duration::hours(1))],
        )?;
        if n > 0 {
            self.scrub_wal()?;
        }
        Ok(n)
    }

    pub fn subscription_counts(&self) -> Result<Vec<(Status, u64)>, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT status, COUNT(*) FROM subscriptions GROUP BY status")?;
        let rows = stmt
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))?
            .collect::<Result<Vec<_>, _>>()?;
        Ok(rows
            .into_iter()
            .filter_map(|(s, n)| Some((Status::parse(&s)?, u64::try_from(n).unwrap_or(0))))
            .collect())
    }
}

fn raw_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<columns::SubscriptionRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
    ))
}
