//! The state database: what must survive restarts, behind one facade
//! ([`Database`]) over its engines (SQLite, `[state] path`; PostgreSQL, `[state] url`).
//!
//! For the feeds: per deadline id, the fingerprint last seen, a `SEQUENCE`
//! that grows each time it changes, and when it last changed (the event's
//! `DTSTAMP` and `LAST-MODIFIED`); and when entries were removed, so that a
//! feed's `Last-Modified` never moves back. The reminders share this
//! database.
//!
//! Each engine creates and migrates its schema on open. The decision of
//! what changed is the pure [`advance`]; the engines only read and write
//! rows.
//!
//! No table holds an e-mail address: the ledger, the opt-outs and the
//! subscriptions name subscribers by the keyed hash of their address
//! ([`crate::subscriptions::AddressKey::id`]), self-service addresses are
//! sealed, and `secure_delete` overwrites what is deleted.
//!
//! Files: this one, the facade and its errors; `records` (the values the
//! state holds, as callers see them); `versions` (what changes an entry's
//! version, pure); `sqlite/` (the SQLite engine: `mod.rs` opens and
//! migrates; `versions`, `ledger` (reminders sent, skipped, failed;
//! opt-outs), `subscriptions` (sign-ups; keying the ledger; forgetting a
//! subscriber), `watch` (watched pages and the problems staff are mailed
//! about)).

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::load::config::StateConfig;
use crate::model::catalog::Catalog;
use crate::render::feed::Versions;
use crate::subscriptions::{AddressKey, Status, Stored};
use records::{Delivery, Key, Ledger, Noted, UrlState, Validators};

pub mod backup;
mod columns;
pub mod lead;
mod postgres;
pub mod records;
mod sqlite;
mod versions;

pub use records::{SignUp, WatchAlert};

pub use versions::{advance, Recorded, Row};

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot open the state database {path}: {source}")]
    Open {
        path: PathBuf,
        source: rusqlite::Error,
    },
    #[error("cannot make the state database {path} private (mode 600): {source}")]
    Private {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create the directory of the state database {path}: {source}")]
    Directory {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the state database {path} has schema version {found}, newer than this mechcal knows ({known}); upgrade mechcal")]
    TooNew {
        path: PathBuf,
        found: usize,
        known: usize,
    },
    #[error("state database error: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("cannot read the state database's password from {path}: {source}")]
    PasswordFile {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{target} is not empty (its `{table}` has rows): a state is copied only into an empty database")]
    NotEmpty { target: String, table: &'static str },
    #[error("{} exists: a state is copied only into a new SQLite file", .0.display())]
    Exists(PathBuf),
    #[error("the lead of term {term} has passed to another replica: this write is refused")]
    Fenced { term: i64 },
    #[error("`[state] url`: {reason}")]
    Url { reason: String },
    #[error("the state database {database}: {reason}")]
    Postgres { database: String, reason: String },
    #[error("the state database holds an invalid time `{0}`")]
    BadTime(String),
    #[error("the state database holds an invalid reminder kind `{0}`")]
    BadKind(String),
    #[error("the state database holds a subscription that does not open with this address key (a key from another install?)")]
    Sealed,
    #[error("the address key (`[state] key_file`, or the credential `address-key`) is not the one the state database {} was keyed with: with it no subscriber would be recognised (everyone would be reminded again) and no sign-up could be read; restore the key from its backup, or move the database aside to start afresh", .0.display())]
    WrongKey(PathBuf),
    #[error("{} is in use by a running `mechcal serve` (it holds {}): stop the service first (`systemctl stop mechcal`)", .state.display(), .lock.display())]
    InUse { state: PathBuf, lock: PathBuf },
    #[error("cannot take the lock {path}: {source}")]
    Lock {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the state is in PostgreSQL ({0}): back it up with PostgreSQL's own tools (`pg_dump --format=custom`, restored with `pg_restore`); see the book's Backups page")]
    NotSqlite(String),
    #[error("cannot write the backup {path}: {source}")]
    BackupWrite {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the backup {path} cannot be used: {reason}")]
    BadBackup { path: PathBuf, reason: String },
}

/// The state database: the engine behind it, and the methods every caller
/// uses. Each engine keeps the same tables and answers alike (the tests in
/// `tests.rs` run on each).
pub struct Database(Engine);

enum Engine {
    Sqlite(sqlite::Sqlite),
    Postgres(postgres::Postgres),
}

/// Calls `$call` on the engine (`$db`) behind `$self`.
macro_rules! dispatch {
    ($self:ident, $db:ident => $call:expr) => {
        match &$self.0 {
            Engine::Sqlite($db) => $call,
            Engine::Postgres($db) => $call,
        }
    };
}

/// `dispatch!` for the methods that write.
macro_rules! dispatch_mut {
    ($self:ident, $db:ident => $call:expr) => {
        match &mut $self.0 {
            Engine::Sqlite($db) => $call,
            Engine::Postgres($db) => $call,
        }
    };
}

impl Database {
    /// Opens (creating if needed) and migrates the SQLite database at
    /// `path`.
    pub fn open(path: &Path) -> Result<Database, StateError> {
        Ok(Database(Engine::Sqlite(sqlite::Sqlite::open(path)?)))
    }

    /// The state database `config` names: PostgreSQL at `url` (its
    /// password from the systemd credential `state-password`, else
    /// `password_file`), else the SQLite file at `path`.
    pub fn open_state(config: &StateConfig) -> Result<Database, StateError> {
        let Some(url) = &config.url else {
            return Database::open(&config.path);
        };
        let file = crate::os::credentials::path(crate::os::credentials::STATE_PASSWORD)
            .or_else(|| config.password_file.clone());
        let password = match file {
            None => None,
            Some(file) => Some(
                std::fs::read_to_string(&file)
                    .map_err(|source| StateError::PasswordFile {
                        path: file.clone(),
                        source,
                    })?
                    .trim_end_matches(['\r', '\n'])
                    .to_string(),
            ),
        };
        Database::connect(url, password.as_deref())
    }

    /// Connects to the PostgreSQL database at `url` (no password in it)
    /// with `password`, and migrates its schema.
    pub fn connect(url: &str, password: Option<&str>) -> Result<Database, StateError> {
        Ok(Database(Engine::Postgres(postgres::Postgres::connect(
            url, password,
        )?)))
    }

    /// Copies every row of this state into `target`, which must be empty
    /// (both are at this mechcal's schema: opening migrates them); the rows
    /// copied per table. The target's rows are written in one transaction:
    /// a copy that fails leaves it empty. Stop the service first: rows
    /// written during the copy may be left behind.
    pub fn copy_to(&self, target: &mut Database) -> Result<Vec<(&'static str, usize)>, StateError> {
        let mut tables = Vec::with_capacity(columns::TABLES.len());
        for (table, cols) in columns::TABLES {
            let there = dispatch!(target, db => db.table_rows(table, cols))?;
            if !there.is_empty() {
                return Err(StateError::NotEmpty {
                    target: target.shown(),
                    table,
                });
            }
            tables.push((*table, dispatch!(self, db => db.table_rows(table, cols))?));
        }
        dispatch_mut!(target, db => db.insert_rows(&tables))?;
        Ok(tables.iter().map(|(t, rows)| (*t, rows.len())).collect())
    }

    /// Writes a consistent copy of this SQLite state into `file`, which
    /// must be new or empty (`VACUUM INTO`: a snapshot read in one
    /// transaction, while others go on writing; deleted rows' bytes are
    /// not carried over). A PostgreSQL state is refused: `pg_dump` it.
    pub fn backup_into(&self, file: &Path) -> Result<(), StateError> {
        match &self.0 {
            Engine::Sqlite(db) => db.vacuum_into(file),
            Engine::Postgres(_) => Err(StateError::NotSqlite(self.shown())),
        }
    }

    /// Folds a SQLite state's write-ahead log into the database file, so
    /// that the file alone holds everything (nothing to do on PostgreSQL).
    pub fn checkpoint(&self) -> Result<(), StateError> {
        match &self.0 {
            Engine::Sqlite(db) => db.checkpoint(),
            Engine::Postgres(_) => Ok(()),
        }
    }

    /// Claims the lead of the replicas sharing this database for `lease`,
    /// or renews it for `holder` (a random id per process): the lease
    /// granted, or `None` while another holder's has not run out. The
    /// database's clock decides. A SQLite state always leads.
    pub fn claim_lead(
        &mut self,
        holder: &str,
        lease: std::time::Duration,
    ) -> Result<Option<records::Lease>, StateError> {
        dispatch_mut!(self, db => db.claim_lead(holder, lease))
    }

    /// Who holds the lead and until when (`None` on SQLite, or before
    /// anyone claimed it).
    pub fn lease(&self) -> Result<Option<(String, records::Lease)>, StateError> {
        dispatch!(self, db => db.lease())
    }

    /// Makes every ledger write check that `holder` still holds the lead
    /// in `term` (refused with [`StateError::Fenced`] otherwise); `None`
    /// writes unchecked. Only PostgreSQL has a lead to check.
    pub fn set_fence(&mut self, fence: Option<(String, i64)>) {
        dispatch_mut!(self, db => db.set_fence(fence))
    }

    /// Where the state is, for messages: the SQLite file, or PostgreSQL's
    /// `postgres://host:port/name` (never a password).
    pub fn shown(&self) -> String {
        match &self.0 {
            Engine::Sqlite(db) => db.path.display().to_string(),
            Engine::Postgres(db) => db.shown.to_string(),
        }
    }

    /// An in-memory SQLite database, for tests.
    pub fn in_memory() -> Result<Database, StateError> {
        Ok(Database(Engine::Sqlite(sqlite::Sqlite::in_memory()?)))
    }

    /// Records the catalog and the output settings (any string that changes
    /// when they do) as seen at `now`, and returns every entry's version.
    /// Idempotent: syncing the same catalog and settings again changes nothing.
    pub fn sync(
        &mut self,
        catalog: &Catalog,
        settings: &str,
        now: DateTime<Utc>,
    ) -> Result<Versions, StateError> {
        dispatch_mut!(self, db => db.sync(catalog, settings, now))
    }

    /// The versions as stored, without recording anything.
    pub fn versions(&self) -> Result<Versions, StateError> {
        dispatch!(self, db => db.versions())
    }

    /// Looks up one row (for tests and diagnostics).
    pub fn row(&self, id: &str) -> Result<Option<Row>, StateError> {
        dispatch!(self, db => db.row(id))
    }

    /// The reminder ledger, for the planner.
    pub fn ledger(&self) -> Result<Ledger, StateError> {
        dispatch!(self, db => db.ledger())
    }

    /// Records `keys` in `state` at `now`: creates the rows or updates them.
    /// `sending` counts an attempt and stores the Message-ID the rows go out
    /// under; `error` is kept for `failed` rows and retries.
    pub fn record(
        &mut self,
        keys: &[Key],
        state: Delivery,
        message_id: Option<&str>,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        dispatch_mut!(self, db => db.record(keys, state, message_id, error, now))
    }

    /// Rows left in `sending` (by a run that crashed or could not reach the
    /// mail server), grouped by the Message-ID they went out under.
    pub fn sending(&self) -> Result<Vec<(String, Vec<Key>)>, StateError> {
        dispatch!(self, db => db.sending())
    }

    /// The most attempts made on any of `keys`.
    pub fn attempts(&self, keys: &[Key]) -> Result<i64, StateError> {
        dispatch!(self, db => db.attempts(keys))
    }

    /// Whether the key problem `id` (see [`crate::subscriptions::AddressKey::id`])
    /// was already told to the subscriber and staff.
    pub fn key_noticed(&self, id: &str) -> Result<bool, StateError> {
        dispatch!(self, db => db.key_noticed(id))
    }

    /// Records that the key problem `id` of the subscriber `key` was told.
    pub fn record_key_notice(
        &mut self,
        id: &str,
        key: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        dispatch_mut!(self, db => db.record_key_notice(id, key, now))
    }

    /// The keys of the subscribers who opted out.
    pub fn opted_out(&self) -> Result<std::collections::HashSet<String>, StateError> {
        dispatch!(self, db => db.opted_out())
    }

    /// Whether the subscriber `key` opted out (one row read, not the set).
    pub fn is_opted_out(&self, key: &str) -> Result<bool, StateError> {
        dispatch!(self, db => db.is_opted_out(key))
    }

    /// Records an opt-out of the subscriber `key` (idempotent); whether it
    /// is new (they were not opted out already).
    pub fn opt_out(&mut self, key: &str, now: DateTime<Utc>) -> Result<bool, StateError> {
        dispatch_mut!(self, db => db.opt_out(key, now))
    }

    /// Lifts the opt-out of the subscriber `key`; whether there was one.
    pub fn resubscribe(&mut self, key: &str) -> Result<bool, StateError> {
        dispatch_mut!(self, db => db.resubscribe(key))
    }

    /// Renames the ledger's and the opt-outs' rows from the clear address
    /// to its keyed hash, once (databases from before self-service
    /// subscriptions): every sent and skipped row is kept, so nobody is
    /// reminded twice. Message-IDs of finished rows, an unkeyed hash of the
    /// address, are dropped (only `sending` rows need theirs, to be sent
    /// again under it); addresses in stored errors are masked. Then the
    /// file is rewritten (`VACUUM`) and the WAL emptied, so no earlier
    /// page with an address survives.
    pub fn key_addresses(&mut self, key: &AddressKey) -> Result<(), StateError> {
        dispatch_mut!(self, db => db.key_addresses(key))
    }

    /// Stores a sign-up for `id` with `sealed` (the address and choice
    /// sealed for `id`) until `expires_at`, its links bound to `value`
    /// (a pending one keeps its own: the link already mailed stays
    /// good), unless one is already confirmed. One row per address,
    /// however many sign-ups race: the check and the write are one
    /// transaction.
    pub fn sign_up(
        &mut self,
        id: &str,
        sealed: &[u8],
        expires_at: DateTime<Utc>,
        value: u64,
        now: DateTime<Utc>,
    ) -> Result<SignUp, StateError> {
        dispatch_mut!(self, db => db.sign_up(id, sealed, expires_at, value, now))
    }

    /// Whether `id` may be mailed a confirmation or notice at `now`: not
    /// within the hour before.
    pub fn may_mail(&self, id: &str, now: DateTime<Utc>) -> Result<bool, StateError> {
        dispatch!(self, db => db.may_mail(id, now))
    }

    /// Records that `id` was mailed at `now`.
    pub fn mailed(&mut self, id: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        dispatch_mut!(self, db => db.mailed(id, now))
    }

    /// Confirms the pending sign-up `id` whose links are bound to
    /// `value`: active, or waiting for staff when `approval`; an earlier
    /// opt-out of the address is lifted (the confirmation is a new,
    /// explicit consent). `None` when there is no such pending sign-up
    /// (expired, confirmed already, deleted, or signed up again since).
    pub fn confirm(
        &mut self,
        id: &str,
        value: u64,
        approval: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<Status>, StateError> {
        let status = if approval {
            Status::Approval
        } else {
            Status::Active
        };
        dispatch_mut!(self, db => db.confirm(id, value, status, now))
    }

    /// The stored subscription `id`, opened.
    pub fn subscription(&self, key: &AddressKey, id: &str) -> Result<Option<Stored>, StateError> {
        dispatch!(self, db => db.subscription(key, id))
    }

    /// Every stored subscription of `statuses`, opened; a row that does not
    /// open is left out (and logged).
    pub fn subscriptions(
        &self,
        key: &AddressKey,
        statuses: &[Status],
    ) -> Result<Vec<Stored>, StateError> {
        dispatch!(self, db => db.subscriptions(key, statuses))
    }

    /// Writes `stored` back (choice, status, pause, generation), creating
    /// the row if needed (a subscribers-file person's settings).
    pub fn save_subscription(
        &mut self,
        key: &AddressKey,
        stored: &Stored,
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        dispatch_mut!(self, db => db.save_subscription(key, stored, now))
    }

    /// Deletes every row about subscriber `id` — subscription, reminders
    /// sent, opt-out, mail limit — and empties the WAL, so that no table
    /// and no journal holds anything that could be matched to the address.
    /// Returns how many rows went.
    pub fn forget(&mut self, id: &str) -> Result<usize, StateError> {
        dispatch_mut!(self, db => db.forget(id))
    }

    /// Deletes sign-ups that were not confirmed in time, and mail limits
    /// older than an hour; returns how many sign-ups went.
    pub fn expire_sign_ups(&mut self, now: DateTime<Utc>) -> Result<usize, StateError> {
        dispatch_mut!(self, db => db.expire_sign_ups(now))
    }

    /// How many stored subscriptions there are of each status (for
    /// `/metrics` and staff: counts only).
    pub fn subscription_counts(&self) -> Result<Vec<(Status, u64)>, StateError> {
        dispatch!(self, db => db.subscription_counts())
    }

    /// What the last check of `url` saw (`None`: never checked).
    pub fn watched(&self, url: &str) -> Result<Option<UrlState>, StateError> {
        dispatch!(self, db => db.watched(url))
    }

    /// The validators of `url`'s last answer, for a conditional GET; none
    /// when its text was made by rules older than `reader` (the page is
    /// read whole again).
    pub fn watch_validators(&self, url: &str, reader: u32) -> Result<Validators, StateError> {
        dispatch!(self, db => db.watch_validators(url, reader))
    }

    /// When the last watch pass checked a URL (`None`: never).
    pub fn last_watch_pass(&self) -> Result<Option<DateTime<Utc>>, StateError> {
        dispatch!(self, db => db.last_watch_pass())
    }

    /// Stores what a check saw.
    pub fn record_watched(&mut self, s: &UrlState) -> Result<(), StateError> {
        dispatch_mut!(self, db => db.record_watched(s))
    }

    /// Forgets the URLs no entry links to any more (and their alerts).
    pub fn forget_watched_except(&mut self, keep: &HashSet<&str>) -> Result<usize, StateError> {
        dispatch_mut!(self, db => db.forget_watched_except(keep))
    }

    /// Records the problems `url` shows now: a new one is to be mailed; one
    /// that is over is forgotten once mailed (so that it is mailed again
    /// if it comes back), and kept until then (so that none is lost when
    /// the mail fails).
    pub fn note_watch_problems(
        &mut self,
        url: &str,
        entries: &str,
        problems: &[Noted<'_>],
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        dispatch_mut!(self, db => db.note_watch_problems(url, entries, problems, now))
    }

    /// The problems not mailed yet, oldest first.
    pub fn unsent_watch_alerts(&self) -> Result<Vec<WatchAlert>, StateError> {
        dispatch!(self, db => db.unsent_watch_alerts())
    }

    /// Marks alerts mailed.
    pub fn watch_alerts_sent(
        &mut self,
        alerts: &[WatchAlert],
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        dispatch_mut!(self, db => db.watch_alerts_sent(alerts, now))
    }
}

#[cfg(test)]
impl Database {
    /// The SQLite connection behind a test's database, for tests that look
    /// at rows as SQLite stores them.
    fn conn(&self) -> &rusqlite::Connection {
        match &self.0 {
            Engine::Sqlite(db) => &db.conn,
            Engine::Postgres(_) => panic!("a SQLite test on a PostgreSQL database"),
        }
    }
}

pub(crate) fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `t` cut to its hour: how subscribers' own rows (sign-ups, opt-outs)
/// keep their times, so that they cannot be matched to the second with a
/// web server's or a relay's log. The planner needs no more.
pub(crate) fn format_hour(t: DateTime<Utc>) -> String {
    use chrono::DurationRound as _;
    format_time(t.duration_trunc(chrono::Duration::hours(1)).unwrap_or(t))
}

/// `t` taken up to the next full hour (unless on one): for times that
/// must not come earlier than asked (an expiry, the end of a pause).
pub(crate) fn format_hour_up(t: DateTime<Utc>) -> String {
    use chrono::DurationRound as _;
    let down = t.duration_trunc(chrono::Duration::hours(1)).unwrap_or(t);
    format_time(if down == t {
        t
    } else {
        down + chrono::Duration::hours(1)
    })
}

pub(crate) fn parse_time(s: &str) -> Result<DateTime<Utc>, StateError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StateError::BadTime(s.to_string()))
}

#[cfg(test)]
mod tests;
