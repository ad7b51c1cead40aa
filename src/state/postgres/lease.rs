//! The lead of replicas sharing one database: a lease row, claimed and
//! renewed by one statement on the database's clock, and the fence that
//! refuses a former leader's ledger writes.

use std::time::Duration;

use super::Postgres;
use crate::state::records::Lease;
use crate::state::StateError;

impl Postgres {
    pub fn claim_lead(
        &mut self,
        holder: &str,
        lease: Duration,
    ) -> Result<Option<Lease>, StateError> {
        let err = self.error();
        let seconds = lease.as_secs_f64();
        // The holder renews its own lease while it runs (same term); anyone
        // takes one that has run out (next term); otherwise nothing
        // changes and no row comes back. `now()` is the database's.
        let row = self.block(async {
            let client = self.client().await?;
            client
                .query_opt(
                    "INSERT INTO lease AS l (name, holder, term, expires_at)
                     VALUES ('leader', $1, 1, now() + make_interval(secs => $2))
                     ON CONFLICT (name) DO UPDATE SET
                         term = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_at > now()
                                     THEN l.term ELSE l.term + 1 END,
                         holder = EXCLUDED.holder,
                         expires_at = EXCLUDED.expires_at
                     WHERE (l.holder = EXCLUDED.holder AND l.expires_at > now())
                        OR l.expires_at <= now()
                     RETURNING term, expires_at",
                    &[&holder, &seconds],
                )
                .await
                .map_err(&err)
        })?;
        Ok(row.map(|r| Lease {
            term: r.get(0),
            expires_at: r.get(1),
        }))
    }

    pub fn lease(&self) -> Result<Option<(String, Lease)>, StateError> {
        let err = self.error();
        let row = self.block(async {
            let client = self.client().await?;
            client
                .query_opt(
                    "SELECT holder, term, expires_at FROM lease WHERE name = 'leader'",
                    &[],
                )
                .await
                .map_err(&err)
        })?;
        Ok(row.map(|r| {
            (
                r.get(0),
                Lease {
                    term: r.get(1),
                    expires_at: r.get(2),
                },
            )
        }))
    }

    pub fn set_fence(&mut self, fence: Option<(String, i64)>) {
        self.fence = fence;
    }
}
