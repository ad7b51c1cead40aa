//! A reminder runner: everything a pass needs, opened once from the config
//! (state database, unsubscribe key, transport), for `mechcal remind` and
//! for the schedule inside `mechcal serve`. Use and drop it inside the tokio
//! runtime it sends from (it keeps an SMTP connection open between messages).

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;

use crate::load::config::{self, Config};
use crate::load::subscribers::Subscriber;
use crate::model::catalog::Catalog;
use crate::reminders::tokens::Secret;
use crate::render::feed::FeedOptions;
use crate::state::State;

use super::transport::{self, Mailer, Outcome, Pass};

pub struct Runner {
    config: Arc<Config>,
    catalog: Arc<Catalog>,
    subscribers: Arc<Vec<Subscriber>>,
    state: State,
    secret: Secret,
    from: Mailbox,
    mailer: Mailer,
    backoff: Vec<Duration>,
    max_attempts: u32,
    stop: Option<Arc<std::sync::atomic::AtomicBool>>,
}

impl Runner {
    pub fn new(
        config: Arc<Config>,
        catalog: Arc<Catalog>,
        subscribers: Arc<Vec<Subscriber>>,
    ) -> Result<Runner, String> {
        let state = State::open(&config.state.path).map_err(|e| e.to_string())?;
        let secret = Secret::load(&config.reminders.secret_file).map_err(|e| {
            format!(
                "cannot read the unsubscribe secret {}: {e}",
                config.reminders.secret_file.display()
            )
        })?;
        let from: Mailbox = config
            .mail
            .from
            .parse()
            .map_err(|e| format!("`[mail] from`: {e}"))?;
        let mailer = Mailer::new(&config.mail.transport)?;
        let (max_attempts, backoff) = match &config.mail.transport {
            config::Transport::Smtp(c) => (
                c.max_attempts,
                c.retry_seconds
                    .iter()
                    .map(|&s| Duration::from_secs(s))
                    .collect(),
            ),
            config::Transport::Maildir(_) => (1, vec![Duration::from_secs(1)]),
        };
        Ok(Runner {
            config,
            catalog,
            subscribers,
            state,
            secret,
            from,
            mailer,
            backoff,
            max_attempts,
            stop: None,
        })
    }

    /// A flag that, once set, ends a pass after the message being sent.
    pub fn stop_on(&mut self, flag: Arc<std::sync::atomic::AtomicBool>) {
        self.stop = Some(flag);
    }

    /// Plans later passes against `catalog` (after a reload).
    pub fn set_catalog(&mut self, catalog: Arc<Catalog>) {
        self.catalog = catalog;
    }

    /// One pass at `now` (see [`transport::run`]).
    pub async fn pass(&mut self, now: DateTime<Utc>) -> Result<Outcome, String> {
        let c = &self.config;
        let versions = self
            .state
            .sync(&self.catalog, &c.render_fingerprint(), now)
            .map_err(|e| e.to_string())?;
        let feed = FeedOptions {
            name: c.calendar.name.clone(),
            domain: c.calendar.domain.clone(),
            lang: Default::default(),
            alarm: c.calendar.alarm,
            refresh: c.calendar.refresh,
            cutoff: DateTime::UNIX_EPOCH,
        };
        let pass = Pass {
            catalog: &self.catalog,
            subscribers: &self.subscribers,
            from: &self.from,
            domain: &c.calendar.domain,
            base_url: &c.calendar.base_url,
            secret: &self.secret,
            feed: &feed,
            versions: &versions,
            backoff: &self.backoff,
            max_attempts: self.max_attempts,
            stop: self.stop.as_deref(),
        };
        transport::run(&pass, &mut self.state, &self.mailer, now)
            .await
            .map_err(|e| e.to_string())
    }
}

/// The next time `schedule` fires after `now`, read in `tz`.
pub fn next_pass(
    schedule: &cron::Schedule,
    tz: chrono_tz::Tz,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    schedule
        .after(&now.with_timezone(&tz))
        .next()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_pass_follows_the_zone_across_dst() {
        let s: cron::Schedule = "0 0 8 * * *".parse().unwrap();
        let z = chrono_tz::Tz::Europe__Zurich;
        let at = |t: &str| t.parse::<DateTime<Utc>>().unwrap();
        // 08:00 CET is 07:00 UTC; after the spring change 08:00 CEST is 06:00 UTC.
        assert_eq!(
            next_pass(&s, z, at("2027-03-27T07:30:00Z")),
            Some(at("2027-03-28T06:00:00Z"))
        );
        assert_eq!(
            next_pass(&s, z, at("2027-03-26T06:59:59Z")),
            Some(at("2027-03-26T07:00:00Z"))
        );
        let weekdays: cron::Schedule = "0 30 7 * * Mon-Fri".parse().unwrap();
        // Friday 2027-01-15 after 07:30 Zurich → Monday 2027-01-18 07:30 CET.
        assert_eq!(
            next_pass(&weekdays, z, at("2027-01-15T09:00:00Z")),
            Some(at("2027-01-18T06:30:00Z"))
        );
    }
}
