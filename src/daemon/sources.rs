//! `[watch]` in the daemon: a watch pass every `interval` while `enabled`
//! (a SIGHUP that reloads the config turns it on or off, or changes the
//! interval, at once).
//! The first pass comes `interval` after the last one recorded in the
//! state database, so restarts do not check every page again; a staff
//! mail that did not go out is tried again every [`super::ALERT_RETRY`].

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::{Daemon, ALERT_RETRY};
use crate::state::Database;

/// How often a replica that does not lead looks whether it does.
const FOLLOWER_RECHECK: Duration = Duration::from_secs(60);

impl Daemon {
    pub async fn watch_sources(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        loop {
            let config = self.config();
            let wait = if config.watch.enabled {
                let last = Database::open_state(&config.state)
                    .and_then(|db| db.last_watch_pass())
                    .unwrap_or(None);
                until_next(last, (self.clock)(), config.watch.interval)
            } else {
                Duration::MAX
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.reconfigured.notified() => continue,
                _ = stopped.wait_for(|s| *s) => return,
            }
            // Among replicas the leader watches; the others look again in
            // a minute (the leader's pass moves the next one for all).
            if !self.app.lead.may_act(Duration::ZERO) {
                tokio::select! {
                    () = tokio::time::sleep(FOLLOWER_RECHECK) => continue,
                    _ = stopped.wait_for(|s| *s) => return,
                }
            }
            let mut unsent = self.watch_pass(&config).await;
            while unsent {
                tokio::select! {
                    () = tokio::time::sleep(ALERT_RETRY) => {}
                    _ = stopped.wait_for(|s| *s) => return,
                }
                let Ok(mut db) = Database::open_state(&config.state) else {
                    break;
                };
                match crate::watch::send_alerts(&config, &mut db, (self.clock)()).await {
                    Ok(n) => {
                        tracing::info!(problems = n, "watch: staff mailed");
                        unsent = false;
                    }
                    Err(e) => tracing::error!("watch: cannot mail staff: {e}; will try again"),
                }
            }
        }
    }

    /// One pass; `true` when its staff mail did not go out.
    async fn watch_pass(&self, config: &crate::load::config::Config) -> bool {
        let now = (self.clock)();
        let snap = self.app.snapshot();
        let targets = crate::watch::targets(&snap.catalog, None, now).unwrap_or_default();
        drop(snap);
        let result = match Database::open_state(&config.state) {
            Ok(mut db) => crate::watch::pass(config, &targets, &mut db, now, true)
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e.to_string()),
        };
        let done = (self.clock)();
        match result {
            Ok(report) => {
                self.app.metrics.watch_pass(Some(&report), done);
                tracing::info!(
                    checked = report.checked,
                    left = report.left,
                    reread = report.reread,
                    problems = report.problems(),
                    mailed = report.mailed,
                    seconds = report.took.as_secs_f64(),
                    "watch pass done"
                );
                if let Some(e) = &report.mail_error {
                    tracing::error!("watch: cannot mail staff: {e}; will try again");
                }
                report.mail_error.is_some()
            }
            Err(e) => {
                self.app.metrics.watch_pass(None, done);
                tracing::error!("watch pass failed: {e}");
                false
            }
        }
    }
}

/// How long until the next pass: `interval` after the last, at once if
/// that is past (or there was none).
fn until_next(last: Option<DateTime<Utc>>, now: DateTime<Utc>, interval: Duration) -> Duration {
    let Some(last) = last else {
        return Duration::ZERO;
    };
    let next = last + chrono::Duration::from_std(interval).unwrap_or(chrono::Duration::MAX);
    (next - now).to_std().unwrap_or(Duration::ZERO)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_pass_follows_the_last_recorded() {
        let t = |s: &str| DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc);
        let six = Duration::from_secs(6 * 3600);
        assert_eq!(
            until_next(None, t("2027-01-01T00:00:00Z"), six),
            Duration::ZERO
        );
        assert_eq!(
            until_next(
                Some(t("2027-01-01T00:00:00Z")),
                t("2027-01-01T02:00:00Z"),
                six
            ),
            Duration::from_secs(4 * 3600)
        );
        assert_eq!(
            until_next(
                Some(t("2027-01-01T00:00:00Z")),
                t("2027-01-02T00:00:00Z"),
                six
            ),
            Duration::ZERO
        );
    }
}
