//! Self-service subscriptions in PostgreSQL, the address key check, and
//! forgetting a subscriber (see the SQLite engine's `subscriptions`).
//!
//! A PostgreSQL state is keyed from its first day (it starts empty or as a
//! copy of a keyed state), so keying only checks the key and marks it.
//! PostgreSQL has no `secure_delete`: a forgotten subscriber's rows are
//! deleted, and their bytes stay in the table's pages until PostgreSQL
//! reuses the space (the operator's book says so).

use chrono::{DateTime, Utc};

use super::Postgres;
use crate::state::columns::{self, KEY_CHECK_TEXT, META_KEYED, META_KEY_CHECK};
use crate::state::records::SignUp;
use crate::state::{format_hour, format_hour_up, format_time, StateError};
use crate::subscriptions::{AddressKey, Status, Stored};

const COLUMNS: &str = "id, status, sealed, created_at, expires_at, paused_until, generation";

fn subscription_row(r: &tokio_postgres::Row) -> columns::SubscriptionRow {
    (
        r.get(0),
        r.get(1),
        r.get(2),
        r.get(3),
        r.get(4),
        r.get(5),
        r.get(6),
    )
}

impl Postgres {
    pub fn key_addresses(&mut self, key: &AddressKey) -> Result<(), StateError> {
        let check = key.id(KEY_CHECK_TEXT);
        // The first replica to key an empty database writes the check; the
        // others compare with it.
        self.execute(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
            &[&META_KEY_CHECK, &check],
        )?;
        match self.meta(META_KEY_CHECK)? {
            Some(known) if known != check => {
                return Err(StateError::WrongKey(self.shown.to_string().into()))
            }
            _ => {}
        }
        self.execute(
            "INSERT INTO meta (key, value) VALUES ($1, '1') ON CONFLICT (key) DO NOTHING",
            &[&META_KEYED],
        )
        .map(drop)
    }

    pub fn sign_up(
        &mut self,
        id: &str,
        sealed: &[u8],
        expires_at: DateTime<Utc>,
        value: u64,
        now: DateTime<Utc>,
    ) -> Result<SignUp, StateError> {
        // Insert, or renew a pending row, or leave a confirmed one: each
        // statement locks the row it finds, so two sign-ups of one address
        // racing each other leave one row.
        let (now, expires) = (format_hour(now), format_hour_up(expires_at));
        let inserted = self.execute(
            "INSERT INTO subscriptions (id, status, sealed, created_at, updated_at, expires_at, generation)
             VALUES ($1, 'pending', $2, $3, $3, $4, $5) ON CONFLICT (id) DO NOTHING",
            &[&id, &sealed, &now, &expires, &columns::link_value(value)],
        )?;
        if inserted == 1 {
            return Ok(SignUp::New);
        }
        let renewed = self.execute(
            "UPDATE subscriptions SET sealed = $2, updated_at = $3, expires_at = $4
             WHERE id = $1 AND status = 'pending'",
            &[&id, &sealed, &now, &expires],
        )?;
        Ok(if renewed == 1 {
            SignUp::Pending
        } else {
            SignUp::Confirmed
        })
    }

    pub fn may_mail(&self, id: &str, now: DateTime<Utc>) -> Result<bool, StateError> {
        let err = self.error();
        let last: Option<String> = self.block(async {
            let client = self.client().await?;
            Ok::<_, StateError>(
                client
                    .query_opt("SELECT at FROM mailed WHERE id = $1", &[&id])
                    .await
                    .map_err(&err)?
                    .map(|r| r.get(0)),
            )
        })?;
        columns::may_mail(last.as_deref(), now)
    }

    pub fn mailed(&mut self, id: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        self.execute(
            "INSERT INTO mailed (id, at) VALUES ($1, $2) ON CONFLICT (id) DO UPDATE SET at = EXCLUDED.at",
            &[&id, &format_time(now)],
        )
        .map(drop)
    }

    pub fn confirm(
        &mut self,
        id: &str,
        value: u64,
        status: Status,
        now: DateTime<Utc>,
    ) -> Result<Option<Status>, StateError> {
        let err = self.error();
        let n = self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(&err)?;
            let n = tx
                .execute(
                    "UPDATE subscriptions SET status = $2, expires_at = NULL, updated_at = $5
                     WHERE id = $1 AND status = 'pending' AND expires_at > $3 AND generation = $4",
                    &[
                        &id,
                        &status.as_str(),
                        &format_time(now),
                        &columns::link_value(value),
                        &format_hour(now),
                    ],
                )
                .await
                .map_err(&err)?;
            if n == 1 {
                tx.execute("DELETE FROM opt_outs WHERE email = $1", &[&id])
                    .await
                    .map_err(&err)?;
            }
            tx.commit().await.map_err(&err)?;
            Ok::<_, StateError>(n)
        })?;
        Ok((n == 1).then_some(status))
    }

    pub fn subscription(&self, key: &AddressKey, id: &str) -> Result<Option<Stored>, StateError> {
        let err = self.error();
        let row = self.block(async {
            let client = self.client().await?;
            Ok::<_, StateError>(
                client
                    .query_opt(
                        &format!("SELECT {COLUMNS} FROM subscriptions WHERE id = $1"),
                        &[&id],
                    )
                    .await
                    .map_err(&err)?
                    .map(|r| subscription_row(&r)),
            )
        })?;
        row.map(|r| columns::open_subscription(key, r)).transpose()
    }

    pub fn subscriptions(
        &self,
        key: &AddressKey,
        statuses: &[Status],
    ) -> Result<Vec<Stored>, StateError> {
        let err = self.error();
        let rows = self.block(async {
            let client = self.client().await?;
            Ok::<_, StateError>(
                client
                    .query(
                        &format!("SELECT {COLUMNS} FROM subscriptions ORDER BY created_at, id"),
                        &[],
                    )
                    .await
                    .map_err(&err)?
                    .iter()
                    .map(subscription_row)
                    .collect(),
            )
        })?;
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
        self.execute(
            "INSERT INTO subscriptions (id, status, sealed, created_at, updated_at, expires_at, paused_until, generation)
             VALUES ($1, $2, $3, $4, $4, $5, $6, $7)
             ON CONFLICT (id) DO UPDATE SET status = $2, sealed = $3, updated_at = $4,
                 expires_at = $5, paused_until = $6, generation = $7",
            &[
                &stored.id,
                &stored.status.as_str(),
                &sealed,
                &format_hour(now),
                &stored.expires_at.map(format_hour_up),
                &stored.paused_until.map(format_hour_up),
                &columns::link_value(stored.link_value),
            ],
        )
        .map(drop)
    }

    pub fn forget(&mut self, id: &str) -> Result<usize, StateError> {
        let err = self.error();
        self.block(async {
            let mut client = self.client().await?;
            let tx = client.transaction().await.map_err(&err)?;
            let mut n = 0;
            for (table, column) in [
                ("subscriptions", "id"),
                ("reminders", "email"),
                ("opt_outs", "email"),
                ("mailed", "id"),
                ("key_notices", "email"),
            ] {
                n += tx
                    .execute(&format!("DELETE FROM {table} WHERE {column} = $1"), &[&id])
                    .await
                    .map_err(&err)?;
            }
            tx.commit().await.map_err(&err)?;
            Ok(usize::try_from(n).unwrap_or(usize::MAX))
        })
    }

    pub fn expire_sign_ups(&mut self, now: DateTime<Utc>) -> Result<usize, StateError> {
        let n = self.execute(
            "DELETE FROM subscriptions WHERE status = 'pending' AND expires_at <= $1",
            &[&format_time(now)],
        )?;
        self.execute(
            "DELETE FROM mailed WHERE at <= $1",
            &[&format_time(now - chrono::Duration::hours(1))],
        )?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }

    pub fn subscription_counts(&self) -> Result<Vec<(Status, u64)>, StateError> {
        let err = self.error();
        self.block(async {
            let client = self.client().await?;
            Ok(client
                .query(
                    "SELECT status, COUNT(*) FROM subscriptions GROUP BY status",
                    &[],
                )
                .await
                .map_err(&err)?
                .into_iter()
                .filter_map(|r| {
                    let n: i64 = r.get(1);
                    Some((Status::parse(r.get(0))?, u64::try_from(n).unwrap_or(0)))
                })
                .collect())
        })
    }
}
