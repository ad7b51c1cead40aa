//! The reminder schedule inside `serve`.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::{Daemon, Settings};
use crate::http::Degraded;
use crate::reminders::pass::{self, Runner};

/// How soon a failed reminder pass is tried again.
const PASS_RETRY: Duration = Duration::from_secs(10);

impl Daemon {
    /// Reminder passes: one at start-up (catching up on anything missed
    /// while the server was down), then one at every tick of `[reminders]
    /// schedule`, and one after every config reload, until `stopped`. Each
    /// tick is only a wake-up: what is due is recomputed from the ledger, so
    /// a tick skipped or doubled by a DST change or a clock jump neither
    /// loses nor repeats a reminder. Waits are capped at 15 minutes so that
    /// clock jumps are noticed. `stop_flag` ends a pass after the message
    /// being sent.
    // Over 100 lines: one loop whose cases (settings changed, tick, stop, runner failing) share its state.
    pub async fn remind(
        self: Arc<Self>,
        mut stopped: watch::Receiver<bool>,
        stop_flag: Arc<AtomicBool>,
    ) {
        let mut changes = self.settings.subscribe();
        let mut runner: Option<(Arc<Settings>, Runner)> = None;
        let mut retry = false;
        loop {
            let settings = changes.borrow_and_update().clone();
            let Some(settings) = settings else {
                if runner.take().is_some() {
                    tracing::info!("reminders off");
                }
                tokio::select! {
                    _ = changes.changed() => continue,
                    _ = stopped.wait_for(|s| *s) => return,
                }
            };
            if !runner
                .as_ref()
                .is_some_and(|(s, _)| Arc::ptr_eq(s, &settings))
            {
                let c = &settings.config;
                match Runner::new(
                    c.clone(),
                    self.app.snapshot().catalog.clone(),
                    settings.subscribers.clone(),
                ) {
                    Ok(mut r) => {
                        r.stop_on(stop_flag.clone());
                        if self.app.health().reminders.is_some() {
                            self.app.update_health(|h| h.reminders = None);
                            self.health_changed.notify_one();
                        }
                        tracing::info!(schedule = %c.reminders.schedule.text, zone = c.reminders.timezone.name(), subscribers = settings.subscribers.len(), "reminders on");
                        runner = Some((settings.clone(), r));
                    }
                    Err(e) => {
                        // Only after a reload (start-up checks this before
                        // serving): the config is in use, its reminders are
                        // not; /healthz and the staff alert say so, and the
                        // next tick tries again.
                        tracing::error!("reminders cannot run: {e}");
                        self.app.metrics.pass(None);
                        let now = (self.clock)();
                        self.app.update_health(|h| {
                            Degraded::update(
                                &mut h.reminders,
                                vec![format!("reminders cannot run: {e}")],
                                now,
                            )
                        });
                        self.health_changed.notify_one();
                        runner = None;
                    }
                }
            }
            let leads = self.app.lead.may_act(Duration::ZERO);
            if !leads {
                tracing::debug!("another replica leads: no reminder pass here");
            }
            if let Some((_, r)) = runner.as_mut().filter(|_| leads) {
                // The catalog of the moment: reloads swap it in.
                r.set_catalog(self.app.snapshot().catalog.clone());
                r.lead_by(self.app.lead.clone(), message_time(&settings.config));
                match r.pass((self.clock)()).await {
                    Ok(o) => {
                        tracing::info!(
                            sent = o.sent,
                            resent = o.resent,
                            skipped = o.skipped,
                            failed = o.failed,
                            deferred = o.deferred,
                            held = o.held,
                            interrupted = o.interrupted,
                            "reminder pass done"
                        );
                        self.app.metrics.pass(Some(&o));
                    }
                    Err(e) => {
                        tracing::error!(
                            "reminder pass failed: {e}; trying again in {} s",
                            PASS_RETRY.as_secs()
                        );
                        self.app.metrics.pass(None);
                        retry = true;
                    }
                }
            }
            if *stopped.borrow() {
                return;
            }
            // Until the next tick, a settings change, or the stop.
            let schedule = settings.config.reminders.schedule.schedule.clone();
            let tz = settings.config.reminders.timezone;
            let mut next = pass::next_pass(&schedule, tz, (self.clock)());
            // A pass that failed (the database or the transport away) is
            // tried again soon, not at the next tick: what it left is
            // planned again from the ledger.
            if std::mem::take(&mut retry) {
                let soon =
                    (self.clock)() + chrono::Duration::from_std(PASS_RETRY).unwrap_or_default();
                next = Some(next.map_or(soon, |n| n.min(soon)));
            }
            loop {
                let Some(at) = next else {
                    tracing::warn!(
                        "the reminder schedule has no next time; waiting for a config reload"
                    );
                    tokio::select! {
                        _ = changes.changed() => break,
                        _ = stopped.wait_for(|s| *s) => return,
                    }
                };
                let now = (self.clock)();
                if at <= now {
                    break;
                }
                let wait = (at - now)
                    .to_std()
                    .unwrap_or_default()
                    .min(Duration::from_secs(900));
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    _ = changes.changed() => break,
                    // Leading now: the catch-up pass a start would run.
                    () = self.lead_gained.notified() => break,
                    _ = stopped.wait_for(|s| *s) => return,
                }
                // Recompute: the wall clock may have jumped.
                next = pass::next_pass(&schedule, tz, now)
                    .filter(|n| *n <= at)
                    .or(next);
            }
        }
    }
}

/// The longest one message may take to send: the SMTP exchange's bound
/// (a Maildir write takes a moment).
fn message_time(config: &crate::load::config::Config) -> Duration {
    match &config.mail.transport {
        crate::load::config::Transport::Smtp(smtp) => smtp.timeout,
        crate::load::config::Transport::Maildir(_) => Duration::from_secs(1),
    }
}
