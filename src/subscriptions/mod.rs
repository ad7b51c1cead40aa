//! Self-service subscriptions: people sign up for reminders on the page
//! (double opt-in), manage them through a personal link in every mail, and
//! may delete everything about them.
//!
//! What is stored about a subscriber is useless to whoever copies the
//! server's disk: the address and the preferences are sealed with the
//! address key ([`keys`]), and rows are found by a keyed hash of the
//! address, which also names the subscriber in the reminder ledger and the
//! opt-outs — for the subscribers file's people too, so the state database
//! holds no address at all. Links name that hash, never the address, and
//! are signed for one purpose ([`links`]).
//!
//! Files: `keys` (the address key: sealing and ids), `links` (signed
//! purpose-bound links and form tokens), `form` (the forms' fields, pure),
//! `limits` (how often a client may sign up, pure), and here the types
//! and [`merge`], which turns the file's subscribers and the stored ones
//! into the one list a reminder pass plans for (pure).

pub mod form;
pub mod keys;
pub mod limits;
pub mod links;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::i18n::Lang;
use crate::load::subscribers::{Origin, Subscriber};
use crate::model::catalog::Filter;
use crate::model::registry::Registry;

pub use keys::AddressKey;

/// What a subscriber chose on the form (or, for the subscribers file's
/// people, the language and days they set on the preference page).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    /// Topic slugs; empty means all.
    pub topics: Vec<String>,
    /// Mechanism slugs; empty means all.
    pub mechanisms: Vec<String>,
    /// A language code mechcal has.
    pub language: String,
    /// Days before a deadline, largest first.
    pub remind_days: Vec<u16>,
    /// One mail per pass (`true`) or one per deadline.
    pub digest: bool,
    /// Discreet mails (see [`Subscriber::discreet`]).
    #[serde(default)]
    pub discreet: bool,
    /// An armored OpenPGP public key pasted on the preference page (sealed
    /// like the rest); empty for none. Checked when pasted.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub openpgp_key: String,
}

impl Choice {
    /// Whether this is a choice someone made: a subscribers-file person's
    /// row made only to hold their link value has none (no language),
    /// and the file decides all their settings.
    pub fn chosen(&self) -> bool {
        !self.language.is_empty()
    }
}

/// What is sealed in a row: the address and the choice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sealed {
    pub email: String,
    pub choice: Choice,
}

/// The smallest size a sealed row's plain text is padded to.
pub const SEALED_CLASS: usize = 4096;

impl Sealed {
    /// The JSON to seal, padded with spaces (which JSON readers skip) to a
    /// size class: [`SEALED_CLASS`] bytes, or the next power of two above
    /// it. Rows with and without an OpenPGP key (an armored Ed25519 or
    /// RSA-4096 key is 1–3.5 KB) then seal to one size, so the database
    /// does not show who gave a key.
    pub fn padded_json(&self) -> Vec<u8> {
        let mut json = serde_json::to_vec(self).expect("plain data serialises");
        let class = json.len().next_power_of_two().max(SEALED_CLASS);
        json.resize(class, b' ');
        json
    }
}

/// Where a stored subscription stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    /// Signed up, not yet confirmed: no reminders; deleted when it expires.
    Pending,
    /// Confirmed, waiting for staff (`[subscriptions] approval = "staff"`).
    Approval,
    /// Gets reminders.
    Active,
    /// A subscribers-file person's own settings (language, days, link
    /// link value); the file decides everything else.
    File,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Approval => "approval",
            Status::Active => "active",
            Status::File => "file",
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Some(match s {
            "pending" => Status::Pending,
            "approval" => Status::Approval,
            "active" => Status::Active,
            "file" => Status::File,
            _ => return None,
        })
    }
}

/// A stored subscription, opened.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// The keyed hash of the address ([`AddressKey::id`]).
    pub id: String,
    pub status: Status,
    pub sealed: Sealed,
    pub created_at: DateTime<Utc>,
    /// When a pending sign-up lapses.
    pub expires_at: Option<DateTime<Utc>>,
    /// No reminders before this.
    pub paused_until: Option<DateTime<Utc>>,
    /// The random value the person's links are bound to
    /// ([`links::fresh_value`]); 0 only for a row not yet written.
    pub link_value: u64,
}

/// The row a subscribers-file person gets when they first need a link
/// or first change a setting: their address, sealed, no choice of their
/// own yet (see [`Choice::chosen`]: the file decides until they save
/// one), and `value` to bind their links to.
pub fn file_row(s: &Subscriber, value: u64, now: DateTime<Utc>) -> Stored {
    Stored {
        id: s.key.clone(),
        status: Status::File,
        sealed: Sealed {
            email: s.email.clone(),
            choice: Choice {
                topics: Vec::new(),
                mechanisms: Vec::new(),
                language: String::new(),
                remind_days: Vec::new(),
                digest: s.digest,
                discreet: false,
                openpgp_key: String::new(),
            },
        },
        created_at: now,
        expires_at: None,
        paused_until: None,
        link_value: value,
    }
}

/// Gives every subscriber its ledger key: the keyed hash of its address.
pub fn key_all(subscribers: &mut [Subscriber], key: &AddressKey) {
    for s in subscribers {
        s.key = key.id(&s.email);
    }
}

/// The subscribers a reminder pass plans for at `now`: the file's (keyed),
/// with the language and days they chose on the preference page, then the
/// active self-service ones whose address the file does not hold (the file
/// wins: one subscriber, never two mails), leaving out whoever is paused.
/// Topics and mechanisms the registry no longer has are dropped from a
/// stored choice (an empty list would mean "all").
pub fn merge(
    file: &[Subscriber],
    stored: &[Stored],
    registry: &Registry,
    timezone: Tz,
    now: DateTime<Utc>,
) -> Vec<Subscriber> {
    let by_id: std::collections::HashMap<&str, &Stored> =
        stored.iter().map(|s| (s.id.as_str(), s)).collect();
    let paused = |s: &Stored| s.paused_until.is_some_and(|t| t > now);
    let mut out = Vec::with_capacity(file.len() + stored.len());
    for f in file {
        let mut f = f.clone();
        // Only their own settings count (a sign-up of theirs from before
        // staff listed them is not theirs to keep).
        let own = by_id
            .get(f.key.as_str())
            .filter(|s| s.status == Status::File);
        if let Some(s) = own {
            if paused(s) {
                continue;
            }
            f.link_value = s.link_value;
            if s.sealed.choice.chosen() {
                f.language = Lang::parse(&s.sealed.choice.language).unwrap_or(f.language);
                if !s.sealed.choice.remind_days.is_empty() {
                    f.remind_days = s.sealed.choice.remind_days.clone();
                }
                f.discreet = s.sealed.choice.discreet;
            }
        }
        out.push(f);
    }
    let in_file: std::collections::HashSet<&str> = file.iter().map(|f| f.key.as_str()).collect();
    for s in stored {
        if s.status != Status::Active || paused(s) || in_file.contains(s.id.as_str()) {
            continue;
        }
        let c = &s.sealed.choice;
        let keep = |all: &[String], known: &dyn Fn(&str) -> bool| -> Option<Vec<String>> {
            let kept: Vec<String> = all.iter().filter(|t| known(t)).cloned().collect();
            // Everything chosen is gone: nothing to remind of (not "all").
            (all.is_empty() || !kept.is_empty()).then_some(kept)
        };
        let (Some(topics), Some(mechanisms)) = (
            keep(&c.topics, &|t| registry.topic(t).is_some()),
            keep(&c.mechanisms, &|m| registry.mechanism(m).is_some()),
        ) else {
            continue;
        };
        // A key was given: their mail is encrypted, or not sent. (It was
        // checked when pasted; one that only expired since is kept, and
        // the pass holds their mail.)
        let openpgp = if c.openpgp_key.is_empty() {
            None
        } else {
            match crate::openpgp::Cert::read(c.openpgp_key.as_bytes(), now) {
                Ok(cert) => Some(std::sync::Arc::new(cert)),
                Err(e) => {
                    tracing::error!(subscriber = %&s.id[..s.id.len().min(8)], "a stored OpenPGP key cannot be read ({e}); no mail to them until it is replaced");
                    continue;
                }
            }
        };
        out.push(Subscriber {
            name: String::new(),
            email: s.sealed.email.clone(),
            filter: Filter { topics, mechanisms },
            remind_days: c.remind_days.clone(),
            timezone,
            language: Lang::parse(&c.language).unwrap_or_default(),
            digest: c.digest,
            discreet: c.discreet,
            openpgp,
            line: 0,
            key: s.id.clone(),
            origin: Origin::SignUp,
            link_value: s.link_value,
        });
    }
    out
}

#[cfg(test)]
mod tests;
