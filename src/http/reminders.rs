//! What the endpoints about reminders share (unsubscribe, sign-up, the
//! preference page): the link key, the address key, the state database,
//! the subscribers file's people by their key, and the sign-up limits.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, RwLock};

use crate::load::config::MailConfig;
use crate::load::subscribers::Subscriber;
use crate::reminders::tokens::{Directory, Secret};
use crate::reminders::transport::{Mailer, SetupError};
use crate::state::{Database, StateError};
use crate::subscriptions::limits::ClientLimits;
use chrono::{DateTime, Utc};

use crate::subscriptions::{AddressKey, Choice, Status, Stored};

/// The reminder endpoints' state (present when reminders are on).
pub struct Reminders {
    pub(super) secret: Secret,
    pub(super) key: AddressKey,
    state: Mutex<Database>,
    file: RwLock<File>,
    pub(super) limits: Mutex<ClientLimits>,
    /// Keys of the addresses a sign-up mail is being sent to: a second
    /// sign-up racing the first sends nothing.
    pub(super) sending: Mutex<HashSet<String>>,
    /// When staff were last told that sign-ups wait (at most hourly).
    pub(super) staff_told: Mutex<Option<chrono::DateTime<chrono::Utc>>>,
    /// The transport and signer sign-up mails go through, made once per
    /// `[mail]` (reading the DKIM key or the CA certificates belongs to a
    /// start or a reload, not to every sign-up).
    mailer: Mutex<Option<(MailConfig, std::sync::Arc<Mailer>)>>,
}

/// The subscribers file's people.
#[derive(Default)]
struct File {
    /// By key (keyed hash of the address).
    by_key: HashMap<String, Subscriber>,
    /// Opaque unsubscribe tokens of mails sent before signed links.
    legacy: Directory,
}

impl File {
    fn new(secret: &Secret, key: &AddressKey, subscribers: &[Subscriber]) -> File {
        let mut keyed = subscribers.to_vec();
        crate::subscriptions::key_all(&mut keyed, key);
        File {
            legacy: Directory::new(secret, subscribers.iter().map(|s| s.email.as_str())),
            by_key: keyed.into_iter().map(|s| (s.key.clone(), s)).collect(),
        }
    }
}

/// Whom a link names, as the endpoints see it.
pub(super) enum Person {
    /// In the subscribers file; `stored` holds their own settings, if any.
    File {
        subscriber: Box<Subscriber>,
        stored: Option<Stored>,
    },
    /// Signed up through the form.
    SignUp(Stored),
}

impl Person {
    pub(super) fn email(&self) -> &str {
        match self {
            Person::File { subscriber, .. } => &subscriber.email,
            Person::SignUp(s) => &s.sealed.email,
        }
    }

    /// The key their mail is encrypted to, if they gave one: `Err` when a
    /// stored key cannot be read (then nothing may be sent to them).
    pub(super) fn openpgp(
        &self,
        now: DateTime<Utc>,
    ) -> Result<Option<std::sync::Arc<crate::openpgp::Cert>>, crate::openpgp::KeyProblem> {
        match self {
            Person::File { subscriber, .. } => Ok(subscriber.openpgp.clone()),
            Person::SignUp(s) if s.sealed.choice.openpgp_key.is_empty() => Ok(None),
            Person::SignUp(s) => {
                crate::openpgp::Cert::read(s.sealed.choice.openpgp_key.as_bytes(), now)
                    .map(|c| Some(std::sync::Arc::new(c)))
            }
        }
    }

    pub(super) fn link_value(&self) -> u64 {
        match self {
            Person::File { stored, .. } => stored.as_ref().map_or(0, |s| s.link_value),
            Person::SignUp(s) => s.link_value,
        }
    }
}

/// The person's settings as the page shows them: (choice, pause).
pub(super) fn current(p: &Person) -> (Choice, Option<DateTime<Utc>>) {
    match p {
        Person::SignUp(s) => (s.sealed.choice.clone(), s.paused_until),
        Person::File { subscriber, stored } => {
            let mut c = Choice {
                topics: subscriber.filter.topics.clone(),
                mechanisms: subscriber.filter.mechanisms.clone(),
                language: subscriber.language.code().to_string(),
                remind_days: subscriber.remind_days.clone(),
                digest: subscriber.digest,
                discreet: subscriber.discreet,
                openpgp_key: String::new(),
            };
            if let Some(s) = stored.as_ref().filter(|s| s.sealed.choice.chosen()) {
                c.language = s.sealed.choice.language.clone();
                if !s.sealed.choice.remind_days.is_empty() {
                    c.remind_days = s.sealed.choice.remind_days.clone();
                }
                c.discreet = s.sealed.choice.discreet;
            }
            (c, stored.as_ref().and_then(|s| s.paused_until))
        }
    }
}

/// The row to write for `p` (a subscribers-file person gets one on
/// their first change, or the first time a link of theirs is made, with
/// a fresh link value).
pub(super) fn row(p: &Person, now: DateTime<Utc>) -> Stored {
    match p {
        Person::SignUp(s) => s.clone(),
        Person::File { subscriber, stored } => stored.clone().unwrap_or_else(|| {
            crate::subscriptions::file_row(
                subscriber,
                crate::subscriptions::links::fresh_value(),
                now,
            )
        }),
    }
}

impl Reminders {
    /// The endpoints' state for the file's `subscribers`; keys the
    /// database's ledger first (see [`Database::key_addresses`]).
    pub fn new(
        secret: Secret,
        key: AddressKey,
        mut state: Database,
        subscribers: &[Subscriber],
    ) -> Result<Reminders, StateError> {
        state.key_addresses(&key)?;
        Ok(Reminders {
            file: RwLock::new(File::new(&secret, &key, subscribers)),
            secret,
            key,
            state: Mutex::new(state),
            limits: Mutex::default(),
            sending: Mutex::default(),
            staff_told: Mutex::default(),
            mailer: Mutex::default(),
        })
    }

    /// The file's subscribers after a reload.
    pub fn set_subscribers(&self, subscribers: &[Subscriber]) {
        let file = File::new(&self.secret, &self.key, subscribers);
        match self.file.write() {
            Ok(mut f) => *f = file,
            Err(poisoned) => *poisoned.into_inner() = file,
        }
    }

    /// Runs `f` on the state database (one connection, one request at a
    /// time; SQLite's busy timeout covers the reminder pass's own).
    pub(super) fn db<R>(
        &self,
        f: impl FnOnce(&mut Database) -> Result<R, StateError>,
    ) -> Result<R, StateError> {
        match self.state.lock() {
            Ok(mut s) => f(&mut s),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    fn with_file<R>(&self, f: impl FnOnce(&File) -> R) -> R {
        match self.file.read() {
            Ok(file) => f(&file),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }

    /// The mailer of `mail`: the one made before, unless `[mail]` changed
    /// since (a reload).
    pub(super) fn mailer(&self, mail: &MailConfig) -> Result<std::sync::Arc<Mailer>, SetupError> {
        let mut slot = match self.mailer.lock() {
            Ok(s) => s,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some((made_for, mailer)) = slot.as_ref() {
            if made_for == mail {
                return Ok(mailer.clone());
            }
        }
        let mailer = std::sync::Arc::new(Mailer::new(mail)?);
        *slot = Some((mail.clone(), mailer.clone()));
        Ok(mailer)
    }

    /// Whether `key` names somebody in the subscribers file.
    pub(super) fn in_file(&self, key: &str) -> bool {
        self.with_file(|f| f.by_key.contains_key(key))
    }

    /// The key an old-style unsubscribe token was made for.
    pub(super) fn legacy_key(&self, token: &str) -> Option<String> {
        let email = self.with_file(|f| self.secret.verify(token, &f.legacy))?;
        Some(self.key.id(&email))
    }

    /// Who `key` is, as [`Reminders::person`], ready for links to be made:
    /// a subscribers-file person without a row gets one now (sealed, with
    /// a fresh link value), so that no link is ever made without a value
    /// stored to check it against.
    pub(super) fn person_with_links(
        &self,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Person>, StateError> {
        match self.person(key)? {
            Some(p @ Person::File { stored: None, .. }) => {
                let stored = row(&p, now);
                self.db(|db| db.save_subscription(&self.key, &stored, now))?;
                let Person::File { subscriber, .. } = p else {
                    unreachable!("matched above")
                };
                Ok(Some(Person::File {
                    subscriber,
                    stored: Some(stored),
                }))
            }
            p => Ok(p),
        }
    }

    /// Who `key` is: the file's (the file wins) or a sign-up (confirmed or
    /// not: a pending one may change its choice or delete itself).
    pub(super) fn person(&self, key: &str) -> Result<Option<Person>, StateError> {
        let stored = self.db(|db| db.subscription(&self.key, key))?;
        if let Some(subscriber) = self.with_file(|f| f.by_key.get(key).cloned()) {
            return Ok(Some(Person::File {
                subscriber: Box::new(subscriber),
                stored: stored.filter(|s| s.status == Status::File),
            }));
        }
        Ok(stored
            .filter(|s| s.status != Status::File)
            .map(Person::SignUp))
    }
}

#[cfg(test)]
impl Reminders {
    /// Holds the state database: whatever needs it waits until the guard
    /// is dropped (tests prove what does not need it).
    pub(super) fn hold_database(&self) -> std::sync::MutexGuard<'_, Database> {
        self.state.lock().unwrap()
    }
}
