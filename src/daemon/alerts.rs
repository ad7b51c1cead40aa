//! Staff alerts: one mail per distinct set of problems.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::Daemon;

/// An alert that could not be mailed is tried again after this long.
pub const ALERT_RETRY: Duration = Duration::from_secs(300);

/// Why an alert mail did not go out (it is tried again).
#[derive(Debug, thiserror::Error)]
enum AlertError {
    #[error(transparent)]
    Setup(#[from] crate::reminders::SetupError),
    #[error(transparent)]
    Message(#[from] crate::reminders::message::MessageError),
    #[error(transparent)]
    Send(#[from] crate::reminders::SendError),
}

impl Daemon {
    /// Mails `[alerts] staff` once per distinct set of problems (data,
    /// config, git) while they last. A mail that cannot be sent is tried
    /// again after [`ALERT_RETRY`] or at the next change.
    pub async fn alert(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        use crate::reminders::transport::{Mailer, Transport as _};
        use crate::reminders::SetupError;
        let mut alerted: Option<Vec<(&'static str, Vec<String>)>> = None;
        let mut retry = false;
        loop {
            let wait = if retry { ALERT_RETRY } else { Duration::MAX };
            tokio::select! {
                () = self.health_changed.notified() => {}
                () = tokio::time::sleep(wait) => {}
                _ = stopped.wait_for(|s| *s) => return,
            }
            retry = false;
            let health = self.app.health();
            let set: Vec<(&'static str, Vec<String>)> = health
                .problems()
                .map(|(what, d)| (what, d.diagnostics.clone()))
                .collect();
            if set.is_empty() {
                alerted = None;
                continue;
            }
            let config = self.config();
            if config.alerts.is_empty() || alerted.as_ref() == Some(&set) {
                continue;
            }
            // Among replicas the leader mails staff (the others see the
            // same data and would mail the same); look again later.
            if !self.app.lead.may_act(Duration::ZERO) {
                retry = true;
                continue;
            }
            let snap = self.app.snapshot();
            let problems: Vec<crate::reminders::message::Problem<'_>> = health
                .problems()
                .map(|(source, d)| crate::reminders::message::Problem {
                    source,
                    since: d.since,
                    diagnostics: &d.diagnostics,
                })
                .collect();
            let sent = async {
                let from = config.mail.from.parse().map_err(SetupError::From)?;
                let message = crate::reminders::message::alert(
                    &from,
                    &config.alerts,
                    &config.calendar.domain,
                    &problems,
                    &snap.catalog.version().to_string(),
                    snap.catalog.deadlines().len(),
                    (self.clock)(),
                )?;
                let id = message
                    .headers()
                    .get_raw("Message-ID")
                    .unwrap_or_default()
                    .to_string();
                let mailer = Mailer::new(&config.mail)?;
                mailer.send(&id, &message).await?;
                Ok::<_, AlertError>(())
            }
            .await;
            match sent {
                Ok(()) => {
                    tracing::info!(staff = config.alerts.len(), "alert mailed to staff");
                    alerted = Some(set);
                }
                Err(e) => {
                    tracing::error!("cannot mail the alert to staff: {e}; will try again");
                    retry = true;
                }
            }
        }
    }
}
