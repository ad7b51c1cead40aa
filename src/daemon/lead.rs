//! The lead among replicas sharing a PostgreSQL state: claimed at start,
//! renewed every third of `[state] lease_seconds`. Gaining it wakes the
//! reminder schedule for the catch-up pass a start would run; losing it (or
//! not reaching the database) stops the passes before the lease can run
//! out. On SQLite the process always leads and this task does nothing.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::sync::watch;

use super::Daemon;
use crate::state::lead::Change;
use crate::state::Database;

impl Daemon {
    /// Marks the process as one of several replicas when the state is on
    /// PostgreSQL: a follower until the first renewal answers.
    pub(super) fn share_state(&self) {
        let config = self.config();
        if config.state.url.is_some() {
            self.app
                .lead
                .replicate(Duration::from_secs(config.state.lease_seconds.into()));
        }
    }

    pub async fn keep_lead(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        let config = self.config();
        if config.state.url.is_none() {
            return;
        }
        let lease = Duration::from_secs(config.state.lease_seconds.into());
        let lead = self.app.lead.clone();
        let mut db: Option<Database> = None;
        loop {
            let asked = Instant::now();
            let state = config.state.clone();
            let holder = lead.holder().to_string();
            let open = db.take();
            let answer = tokio::task::spawn_blocking(move || {
                let mut db = match open {
                    Some(db) => db,
                    None => Database::open_state(&state)?,
                };
                let claimed = db.claim_lead(&holder, lease);
                claimed.map(|c| (c, db))
            })
            .await;
            match answer {
                Ok(Ok((Some(granted), kept))) => {
                    db = Some(kept);
                    if lead.renewed(asked, &granted) == Change::Gained {
                        tracing::info!(term = granted.term, "this replica leads");
                        self.lead_gained.notify_one();
                    }
                }
                Ok(Ok((None, kept))) => {
                    db = Some(kept);
                    if lead.refused() == Change::Lost {
                        tracing::warn!("this replica lost the lead to another");
                    }
                }
                Ok(Err(e)) => {
                    lead.failed();
                    tracing::warn!("cannot renew the lead: {e}");
                }
                Err(e) => {
                    lead.failed();
                    tracing::warn!("cannot renew the lead: {e}");
                }
            }
            tokio::select! {
                () = tokio::time::sleep(lease / 3) => {}
                _ = stopped.wait_for(|s| *s) => return,
            }
        }
    }
}
