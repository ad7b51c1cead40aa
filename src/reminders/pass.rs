//! One reminder pass: plan what is due, send it, record it — keeping the
//! ledger true whatever fails. [`Runner`] opens everything a pass needs
//! once from the config (state database, unsubscribe key, transport), for
//! `mechcal remind` and for the schedule inside `mechcal serve`; use and
//! drop it inside the tokio runtime it sends from (it keeps an SMTP
//! connection open between messages).
//!
//! The ledger discipline: a message's rows are written `sending` (with its
//! Message-ID) before the message is handed to the transport, and `sent`
//! after the transport accepted it. A run that dies in between leaves them
//! `sending`; the next run sends exactly those messages again, with the same
//! Message-ID, before planning anything new. So nothing is lost, and a
//! duplicate, if any, is recognisable by its Message-ID (at-least-once).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;

use crate::load::config::{self, Config};
use crate::load::subscribers::{self, Subscriber};
use crate::model::catalog::Catalog;
use crate::model::deadline::Deadline;
use crate::reminders::message::{self, Letterhead};
use crate::reminders::plan::{self, Delivery, Item, Key};
use crate::reminders::tokens::Secret;
use crate::render::feed::{FeedOptions, Versions};
use crate::state::{Database, StateError};
use crate::subscriptions::links::{self, Purpose};
use crate::subscriptions::{AddressKey, Status};

use super::transport::{Mailer, SendError, SetupError, Transport};

pub struct Runner {
    config: Arc<Config>,
    catalog: Arc<Catalog>,
    /// The subscribers file's, keyed.
    subscribers: Vec<Subscriber>,
    state: Database,
    secret: Secret,
    key: AddressKey,
    from: Mailbox,
    mailer: Mailer,
    backoff: Vec<Duration>,
    max_attempts: u32,
    stop: Option<Arc<std::sync::atomic::AtomicBool>>,
    /// Among replicas: the lead this process holds, and how long a message
    /// may take (a message starts only if it ends before the lease can).
    lead: Option<(Arc<crate::state::lead::Lead>, Duration)>,
}

impl Runner {
    pub fn new(
        config: Arc<Config>,
        catalog: Arc<Catalog>,
        subscribers: Arc<Vec<Subscriber>>,
    ) -> Result<Runner, SetupError> {
        let mut state = Database::open_state(&config.state)?;
        let key =
            AddressKey::load(&config.state.key_file).map_err(|source| SetupError::AddressKey {
                path: config.state.key_file.clone(),
                source,
            })?;
        state.key_addresses(&key)?;
        let mut subscribers = subscribers.to_vec();
        crate::subscriptions::key_all(&mut subscribers, &key);
        let secret =
            Secret::load(&config.reminders.secret_file).map_err(|source| SetupError::Secret {
                path: config.reminders.secret_file.clone(),
                source,
            })?;
        let from: Mailbox = config.mail.from.parse().map_err(SetupError::From)?;
        let mailer = Mailer::new(&config.mail)?;
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
            key,
            from,
            mailer,
            backoff,
            max_attempts,
            stop: None,
            lead: None,
        })
    }

    /// Passes go on only while `lead` holds the lead for `margin` more (the
    /// longest a message may take), and the ledger refuses their writes
    /// once another replica leads.
    pub fn lead_by(&mut self, lead: Arc<crate::state::lead::Lead>, margin: Duration) {
        self.state.set_fence(lead.fence());
        self.lead = Some((lead, margin));
    }

    /// A flag that, once set, ends a pass after the message being sent.
    pub fn stop_on(&mut self, flag: Arc<std::sync::atomic::AtomicBool>) {
        self.stop = Some(flag);
    }

    /// Plans later passes against `catalog` (after a reload).
    pub fn set_catalog(&mut self, catalog: Arc<Catalog>) {
        self.catalog = catalog;
    }

    /// One pass at `now` (see [`run`]).
    pub async fn pass(&mut self, now: DateTime<Utc>) -> Result<Outcome, StateError> {
        let c = &self.config;
        let versions = self
            .state
            .sync(&self.catalog, &c.render_fingerprint(), now)?;
        // Sign-ups left unconfirmed past their expiry go first.
        let expired = self.state.expire_sign_ups(now)?;
        if expired > 0 {
            tracing::info!(count = expired, "unconfirmed sign-ups expired");
        }
        let mut subscribers = current_subscribers(
            &self.state,
            &self.key,
            &self.subscribers,
            &self.catalog,
            c,
            now,
        )?;
        // The file's people without a row get one, so that the links in
        // their mails are bound to a stored random value like everyone's.
        for s in subscribers.iter_mut().filter(|s| s.link_value == 0) {
            let row = crate::subscriptions::file_row(s, links::fresh_value(), now);
            self.state.save_subscription(&self.key, &row, now)?;
            s.link_value = row.link_value;
        }
        let feed = FeedOptions {
            name: c.calendar.name.clone(),
            domain: c.calendar.domain.clone(),
            lang: Default::default(),
            alarm: c.calendar.alarm,
            refresh: c.calendar.refresh,
            cutoff: DateTime::UNIX_EPOCH,
        };
        let list_id = message::list_id(&c.calendar.name, &c.calendar.domain);
        let pass = Pass {
            catalog: &self.catalog,
            subscribers: &subscribers,
            from: &self.from,
            domain: &c.calendar.domain,
            list_id: &list_id,
            subject_prefix: &c.mail.subject_prefix,
            base_url: &c.calendar.base_url,
            secret: &self.secret,
            feed: &feed,
            versions: &versions,
            backoff: &self.backoff,
            max_attempts: self.max_attempts,
            stop: self.stop.as_deref(),
            lead: self.lead.as_ref().map(|(l, m)| (&**l, *m)),
            address_key: &self.key,
            staff: &c.alerts,
            contact: c.subscriptions.contact.as_deref(),
        };
        run(&pass, &mut self.state, &self.mailer, now).await
    }
}

/// Whom a pass at `now` plans for: the file's subscribers (`file`, keyed)
/// merged with the active self-service ones (see
/// [`crate::subscriptions::merge`]). Reads only (a dry run uses it too).
pub fn current_subscribers(
    state: &Database,
    key: &AddressKey,
    file: &[Subscriber],
    catalog: &Catalog,
    config: &Config,
    now: DateTime<Utc>,
) -> Result<Vec<Subscriber>, StateError> {
    let stored = state.subscriptions(key, &[Status::Active, Status::File])?;
    Ok(crate::subscriptions::merge(
        file,
        &stored,
        catalog.registry(),
        config.calendar.timezone,
        now,
    ))
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

/// What a pass needs besides the ledger and the transport.
pub struct Pass<'a> {
    pub catalog: &'a Catalog,
    pub subscribers: &'a [Subscriber],
    pub from: &'a Mailbox,
    pub domain: &'a str,
    /// The `List-Id` of every reminder and notice.
    pub list_id: &'a str,
    /// What subscribers' subjects start with (`[mail] subject_prefix`).
    pub subject_prefix: &'a str,
    /// Ends in `/`; the unsubscribe links start with it.
    pub base_url: &'a str,
    pub secret: &'a Secret,
    pub feed: &'a FeedOptions,
    pub versions: &'a Versions,
    /// Waits between tries of a transient failure within the pass.
    pub backoff: &'a [Duration],
    /// A message refused for good (5xx) is marked failed once its rows have
    /// been tried this many times; before that it waits for the next pass.
    pub max_attempts: u32,
    /// Set when the process is stopping: the message being sent is
    /// finished and recorded, and no other is started (the next pass plans
    /// them again, so nothing is lost).
    pub stop: Option<&'a std::sync::atomic::AtomicBool>,
    /// Among replicas: the lead, and the longest a message may take; no
    /// message starts that could end after the lease.
    pub lead: Option<(&'a crate::state::lead::Lead, Duration)>,
    /// Names the key-problem notices in the state database.
    pub address_key: &'a AddressKey,
    /// `[alerts] staff`: told when a subscriber's reminders are held.
    pub staff: &'a [String],
    /// `[subscriptions] contact`: where subscribers send a renewed key.
    pub contact: Option<&'a str>,
}

impl Pass<'_> {
    fn stopping(&self) -> bool {
        self.stop
            .is_some_and(|s| s.load(std::sync::atomic::Ordering::SeqCst))
            || self
                .lead
                .is_some_and(|(lead, margin)| !lead.may_act(margin))
    }
}

/// What a pass did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Messages accepted by the transport (including resent ones).
    pub sent: usize,
    /// Of those, messages sent again after an interrupted run.
    pub resent: usize,
    /// Reminders recorded as skipped.
    pub skipped: usize,
    /// Messages refused for good.
    pub failed: usize,
    /// Messages left `sending` for the next pass (transient failures).
    pub deferred: usize,
    /// Reminders held, not sent: the subscriber's OpenPGP key expired.
    pub held: usize,
    /// How long each hand-over to the transport took, failed ones too.
    pub send_times: Vec<Duration>,
    /// The pass stopped early because the process is stopping.
    pub interrupted: bool,
}

/// The one-click unsubscribe link of the subscriber `key` whose links are
/// bound to `value`.
pub fn unsubscribe_url(base_url: &str, secret: &Secret, key: &str, value: u64) -> String {
    format!(
        "{base_url}unsubscribe?token={}",
        links::make(secret, Purpose::Unsubscribe, key, value)
    )
}

/// The preference-page link of the subscriber `key` whose links are bound
/// to `value`.
pub fn manage_url(base_url: &str, secret: &Secret, key: &str, value: u64) -> String {
    format!(
        "{base_url}manage?token={}",
        links::make(secret, Purpose::Manage, key, value)
    )
}

/// One reminder pass at `now`: resend what an earlier pass left `sending`,
/// then plan, record skips, and send each planned message.
pub async fn run<T: Transport>(
    pass: &Pass<'_>,
    state: &mut Database,
    transport: &T,
    now: DateTime<Utc>,
) -> Result<Outcome, StateError> {
    let mut outcome = Outcome::default();
    let opted_out = state.opted_out()?;
    let by_email: HashMap<String, usize> = pass
        .subscribers
        .iter()
        .enumerate()
        .map(|(i, s)| (s.key.clone(), i))
        .collect();

    // 1. Messages an earlier pass did not finish, with their own Message-ID.
    for (message_id, keys) in state.sending()? {
        if pass.stopping() {
            outcome.interrupted = true;
            return Ok(outcome);
        }
        let subscriber = keys
            .first()
            .and_then(|k| by_email.get(&*k.subscriber))
            .copied();
        let items: Vec<Item> = keys
            .iter()
            .map(|k| Item {
                key: k.clone(),
                days_left: pass
                    .catalog
                    .get(&k.deadline)
                    .map_or(0, |d| d.days_left(now)),
                moved_from: None,
            })
            .collect();
        let usable = subscriber.filter(|&i| {
            !opted_out.contains(&pass.subscribers[i].key)
                && items
                    .iter()
                    .all(|i| pass.catalog.get(&i.key.deadline).is_some())
        });
        let Some(index) = usable else {
            // The subscriber or a deadline is gone, or they opted out:
            // nothing to send, and nothing to keep waiting for.
            state.record(
                &keys,
                Delivery::Skipped,
                None,
                Some("subscriber or deadline gone"),
                now,
            )?;
            outcome.skipped += keys.len();
            continue;
        };
        let sent = send_message(
            pass,
            state,
            transport,
            index,
            &items,
            &message_id,
            now,
            &mut outcome,
        )
        .await?;
        if sent {
            outcome.resent += 1;
        }
    }

    // 2. This pass's plan, subscriber by subscriber: their skips, then
    // their messages. (A stop between two leaves the rest to the next pass,
    // which plans it again from the ledger.)
    let ledger = state.ledger()?;
    for part in plan::Planner::new(pass.catalog, pass.subscribers, &ledger, &opted_out, now) {
        if pass.stopping() {
            outcome.interrupted = true;
            break;
        }
        if !part.skipped.is_empty() {
            state.record(&part.skipped, Delivery::Skipped, None, None, now)?;
            outcome.skipped += part.skipped.len();
        }
        for m in &part.messages {
            if pass.stopping() {
                outcome.interrupted = true;
                return Ok(outcome);
            }
            let keys: Vec<&Key> = m.items.iter().map(|i| &i.key).collect();
            let message_id = message::message_id(&keys, pass.domain, pass.address_key);
            send_message(
                pass,
                state,
                transport,
                m.subscriber,
                &m.items,
                &message_id,
                now,
                &mut outcome,
            )
            .await?;
        }
    }
    Ok(outcome)
}

/// Tells the subscriber `s` (a short notice naming nothing they follow)
/// and staff that reminders are held because of `problem`, once per
/// subscriber and key: recorded only after the notice was accepted, so a
/// failed notice is tried again at the next pass.
async fn tell_key_problem<T: Transport>(
    pass: &Pass<'_>,
    state: &mut Database,
    transport: &T,
    s: &Subscriber,
    problem: &crate::openpgp::KeyProblem,
    held: usize,
    now: DateTime<Utc>,
) -> Result<(), StateError> {
    let fingerprint = problem.fingerprint().unwrap_or_default();
    let id = pass
        .address_key
        .id(&format!("openpgp-notice\n{}\n{fingerprint}", s.email));
    if state.key_noticed(&id)? {
        return Ok(());
    }
    let manage = manage_url(pass.base_url, pass.secret, &s.key, s.link_value);
    let notice_id = format!("<key.{}@{}>", &id[..id.len().min(32)], pass.domain);
    let notice = message::key::notice(
        pass.from,
        s,
        problem,
        pass.contact,
        &manage,
        &notice_id,
        now,
    );
    if let Err(e) = send_built(transport, &notice_id, notice).await {
        tracing::warn!(to = %subscribers::mask(&s.email), "cannot send the key notice, will try again next pass: {e}");
        return Ok(());
    }
    if !pass.staff.is_empty() {
        let alert_id = format!("<key-alert.{}@{}>", &id[..id.len().min(32)], pass.domain);
        let alert = message::key::alert(
            pass.from,
            pass.staff,
            pass.domain,
            s,
            problem,
            held,
            &alert_id,
            now,
        );
        if let Err(e) = send_built(transport, &alert_id, alert).await {
            // The subscriber was told; staff see the held rows in the
            // ledger and the log.
            tracing::error!("cannot mail staff about held reminders: {e}");
        }
    }
    state.record_key_notice(&id, &s.key, now)?;
    tracing::info!(to = %subscribers::mask(&s.email), "key notice sent");
    Ok(())
}

/// Sends a message that may have failed to build; why not, in words.
async fn send_built<T: Transport>(
    transport: &T,
    id: &str,
    built: Result<lettre::Message, message::MessageError>,
) -> Result<(), String> {
    match built {
        Ok(m) => transport.send(id, &m).await.map_err(|e| e.to_string()),
        Err(e) => Err(e.to_string()),
    }
}

/// Records, builds and sends one message; returns whether it went out.
#[allow(clippy::too_many_arguments)]
async fn send_message<T: Transport>(
    pass: &Pass<'_>,
    state: &mut Database,
    transport: &T,
    subscriber: usize,
    items: &[Item],
    message_id: &str,
    now: DateTime<Utc>,
    outcome: &mut Outcome,
) -> Result<bool, StateError> {
    let s = &pass.subscribers[subscriber];
    let keys: Vec<Key> = items.iter().map(|i| i.key.clone()).collect();
    // Mail to a subscriber with a key is encrypted or not sent at all.
    if let Some(problem) = s.openpgp.as_ref().and_then(|c| c.usable_at(now).err()) {
        // The fingerprint shortened: no table ties a subscriber to a key.
        let why = subscribers::mask_fingerprints(&format!(
            "held: {problem}; never sent in clear, waiting for a renewed key"
        ));
        state.record(&keys, Delivery::Held, None, Some(&why), now)?;
        outcome.held += keys.len();
        tracing::warn!(to = %subscribers::mask(&s.email), items = keys.len(), "reminder held: the subscriber's OpenPGP key expired");
        tell_key_problem(pass, state, transport, s, &problem, keys.len(), now).await?;
        return Ok(false);
    }
    state.record(&keys, Delivery::Sending, Some(message_id), None, now)?;
    let with_deadlines: Vec<(&Item, &Deadline)> = items
        .iter()
        .filter_map(|i| pass.catalog.get(&i.key.deadline).map(|d| (i, d)))
        .collect();
    let url = unsubscribe_url(pass.base_url, pass.secret, &s.key, s.link_value);
    let manage = manage_url(pass.base_url, pass.secret, &s.key, s.link_value);
    let head = Letterhead {
        from: pass.from,
        domain: pass.domain,
        unsubscribe_url: &url,
        manage_url: &manage,
        list_id: pass.list_id,
        feed: pass.feed,
        subject_prefix: pass.subject_prefix,
        versions: pass.versions,
    };
    let message = match message::build(pass.catalog, s, &with_deadlines, &head, message_id, now) {
        Ok(m) => m,
        Err(e) => {
            tracing::error!(to = %subscribers::mask(&s.email), "cannot build a reminder: {e}");
            state.record(&keys, Delivery::Failed, None, Some(&e.to_string()), now)?;
            outcome.failed += 1;
            return Ok(false);
        }
    };
    // Retry policy: a transient failure is tried again after each wait in
    // `backoff`; after the last, the rows stay `sending` and the next pass
    // sends the same message again. A permanent failure fails the rows.
    let mut waits = pass.backoff.iter();
    loop {
        let started = std::time::Instant::now();
        let sent = transport.send(message_id, &message).await;
        outcome.send_times.push(started.elapsed());
        match sent {
            Ok(()) => {
                state.record(&keys, Delivery::Sent, None, None, now)?;
                outcome.sent += 1;
                tracing::info!(to = %subscribers::mask(&s.email), items = keys.len(), "reminder sent");
                return Ok(true);
            }
            Err(SendError::Permanent(e)) => {
                if state.attempts(&keys)? < i64::from(pass.max_attempts) {
                    tracing::warn!(to = %subscribers::mask(&s.email), "reminder refused, will try again next pass: {e}");
                    state.record(&keys, Delivery::Sending, None, Some(&e), now)?;
                    outcome.deferred += 1;
                } else {
                    tracing::warn!(to = %subscribers::mask(&s.email), "reminder refused for good: {e}");
                    state.record(&keys, Delivery::Failed, None, Some(&e), now)?;
                    outcome.failed += 1;
                }
                return Ok(false);
            }
            Err(SendError::Transient(e)) => match waits.next() {
                Some(wait) => {
                    tracing::warn!(to = %subscribers::mask(&s.email), "reminder deferred, retrying: {e}");
                    tokio::time::sleep(*wait).await;
                }
                None => {
                    tracing::warn!(to = %subscribers::mask(&s.email), "reminder deferred to the next pass: {e}");
                    state.record(&keys, Delivery::Sending, None, Some(&e), now)?;
                    outcome.deferred += 1;
                    return Ok(false);
                }
            },
        }
    }
}
