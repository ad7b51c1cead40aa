//! The state database (SQLite, `[state] path`): what must survive restarts.
//!
//! For the feeds: per deadline id, the fingerprint last seen, a `SEQUENCE`
//! that grows each time it changes, and when it last changed (the event's
//! `DTSTAMP` and `LAST-MODIFIED`); and when entries were removed, so that a
//! feed's `Last-Modified` never moves back. The reminders share this
//! database.
//!
//! The schema is created and migrated on open (`PRAGMA user_version`). The
//! decision of what changed is the pure [`advance`]; this module only reads
//! and writes rows.
//!
//! No table holds an e-mail address: the ledger, the opt-outs and the
//! subscriptions name subscribers by the keyed hash of their address
//! ([`crate::subscriptions::AddressKey::id`]), self-service addresses are
//! sealed, and `secure_delete` overwrites what is deleted.
//!
//! Files: this one opens and migrates; `versions` (entries' versions for
//! the feeds), `ledger` (reminders sent, skipped, failed; opt-outs),
//! `subscriptions` (sign-ups; keying the ledger; forgetting a subscriber),
//! `watch` (watched pages and the problems staff are mailed about);
//! `records` (the values those hold, as callers see them).

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension};

mod ledger;
pub mod records;
mod subscriptions;
mod versions;
mod watch;

pub use subscriptions::SignUp;
pub use watch::WatchAlert;

pub use versions::{advance, Recorded, Row};

/// Schema migrations, applied in order; `user_version` counts those applied.
const MIGRATIONS: &[&str] = &[
    // 1: entry versions for the feeds.
    "CREATE TABLE entries (
        id          TEXT PRIMARY KEY NOT NULL,
        fingerprint TEXT NOT NULL,
        sequence    INTEGER NOT NULL,
        changed_at  TEXT NOT NULL,
        removed_at  TEXT
    ) STRICT;
    CREATE TABLE meta (
        key   TEXT PRIMARY KEY NOT NULL,
        value TEXT NOT NULL
    ) STRICT;",
    // 2: the reminder ledger and opt-outs.
    "CREATE TABLE reminders (
        email      TEXT NOT NULL,
        deadline   TEXT NOT NULL,
        due_at     TEXT NOT NULL,
        kind       TEXT NOT NULL,
        state      TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'skipped', 'failed')),
        attempts   INTEGER NOT NULL DEFAULT 0,
        message_id TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (email, deadline, due_at, kind)
    ) STRICT;
    CREATE TABLE opt_outs (
        email TEXT PRIMARY KEY NOT NULL,
        at    TEXT NOT NULL
    ) STRICT;",
    // 3: self-service subscriptions, sealed, by the keyed hash of their
    // address; when an address was last mailed a confirmation or notice.
    // (From here on, `reminders.email` and `opt_outs.email` hold that
    // keyed hash too: see `Database::key_addresses`.)
    "CREATE TABLE subscriptions (
        id           TEXT PRIMARY KEY NOT NULL,
        status       TEXT NOT NULL CHECK (status IN ('pending', 'approval', 'active', 'file')),
        sealed       BLOB NOT NULL,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL,
        expires_at   TEXT,
        paused_until TEXT,
        generation   INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    CREATE INDEX subscriptions_expiry ON subscriptions (status, expires_at);
    CREATE TABLE mailed (
        id TEXT PRIMARY KEY NOT NULL,
        at TEXT NOT NULL
    ) STRICT;
    CREATE INDEX mailed_at ON mailed (at);",
    // 4: reminders `held` (the subscriber's OpenPGP key cannot be used;
    // never sent in clear), and which key problems were already told to
    // the subscriber and staff (`id`: a keyed hash of address and
    // fingerprint, so the table links no one to a key).
    "CREATE TABLE reminders_4 (
        email      TEXT NOT NULL,
        deadline   TEXT NOT NULL,
        due_at     TEXT NOT NULL,
        kind       TEXT NOT NULL,
        state      TEXT NOT NULL CHECK (state IN ('sending', 'sent', 'skipped', 'failed', 'held')),
        attempts   INTEGER NOT NULL DEFAULT 0,
        message_id TEXT,
        last_error TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (email, deadline, due_at, kind)
    ) STRICT;
    INSERT INTO reminders_4 SELECT email, deadline, due_at, kind, state, attempts,
        message_id, last_error, created_at, updated_at FROM reminders;
    DROP TABLE reminders;
    ALTER TABLE reminders_4 RENAME TO reminders;
    CREATE TABLE key_notices (
        id    TEXT PRIMARY KEY NOT NULL,
        email TEXT NOT NULL,
        at    TEXT NOT NULL
    ) STRICT;
    CREATE INDEX key_notices_email ON key_notices (email);",
    // 5: each entry's due as last seen (`Due::key` form, and its instant),
    // and the one before it changed: what "extended from" says when staff
    // wrote no `extended_from`. Rows of older releases start without.
    "ALTER TABLE entries ADD COLUMN due TEXT;
    ALTER TABLE entries ADD COLUMN due_at TEXT;
    ALTER TABLE entries ADD COLUMN was_due TEXT;
    ALTER TABLE entries ADD COLUMN was_due_at TEXT;",
    // 6: watched pages (`[watch]`): per URL what its last check saw and
    // the bounded visible text it is compared with; and the problems
    // staff are to be (or were) mailed about, once each.
    "CREATE TABLE watched (
        url           TEXT PRIMARY KEY NOT NULL,
        checked_at    TEXT NOT NULL,
        status        INTEGER,
        final_url     TEXT,
        error         TEXT,
        failures      INTEGER NOT NULL DEFAULT 0,
        failing_since TEXT,
        answered_at   TEXT,
        etag          TEXT,
        last_modified TEXT,
        fingerprint   TEXT,
        text          TEXT,
        cut           INTEGER NOT NULL DEFAULT 0,
        changed_at    TEXT,
        excerpt       TEXT
    ) STRICT;
    CREATE TABLE watch_alerts (
        url     TEXT NOT NULL,
        key     TEXT NOT NULL,
        entries TEXT NOT NULL,
        message TEXT NOT NULL,
        excerpt TEXT,
        seen_at TEXT NOT NULL,
        sent_at TEXT,
        PRIMARY KEY (url, key)
    ) STRICT;",
    // 7: a subscription's links are bound to a random value of its row
    // (`generation`, the name it had as a counter): new on every sign-up,
    // rotation and deletion, so that no revoked link ever comes back.
    // Rows of older releases get one (their links in old mails stop
    // working; the next mail carries a working one).
    "UPDATE subscriptions SET generation = (random() & 9223372036854775807) | 1;",
    // 8: which rules made a watched page's stored text (`watch::text::READER`).
    // Texts stored before are version 1: each is read again on its URL's
    // next check, quietly (not a change of the page), and then stored as
    // the current version.
    "ALTER TABLE watched ADD COLUMN reader INTEGER NOT NULL DEFAULT 1;",
];

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
    #[error("the state database holds an invalid time `{0}`")]
    BadTime(String),
    #[error("the state database holds an invalid reminder kind `{0}`")]
    BadKind(String),
    #[error("the state database holds a subscription that does not open with this address key (a key from another install?)")]
    Sealed,
    #[error("the address key (`[state] key_file`, or the credential `address-key`) is not the one the state database {} was keyed with: with it no subscriber would be recognised (everyone would be reminded again) and no sign-up could be read; restore the key from its backup, or move the database aside to start afresh", .0.display())]
    WrongKey(PathBuf),
}

pub struct Database {
    conn: Connection,
    path: PathBuf,
}

impl Database {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Database, StateError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::os::private::create_dir_all(dir).map_err(|source| StateError::Directory {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        // It holds addresses (ledger, opt-outs): 0600 before SQLite opens
        // it, which gives its -wal and -shm the same mode.
        let private = |p: &Path, r: std::io::Result<()>| {
            r.map_err(|source| StateError::Private {
                path: p.to_path_buf(),
                source,
            })
        };
        private(path, crate::os::private::touch(path))?;
        for suffix in ["-wal", "-shm"] {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            let p = Path::new(&p);
            private(p, crate::os::private::narrow_path(p))?;
        }
        let conn = Connection::open(path).map_err(|source| StateError::Open {
            path: path.to_path_buf(),
            source,
        })?;
        Self::init(conn, path)
    }

    /// An in-memory database, for tests.
    pub fn in_memory() -> Result<Database, StateError> {
        Self::init(Connection::open_in_memory()?, Path::new(":memory:"))
    }

    fn init(mut conn: Connection, path: &Path) -> Result<Database, StateError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // What is deleted (a forgotten subscriber, a replaced address) is
        // overwritten, not left in free pages for `strings` to find.
        conn.pragma_update(None, "secure_delete", "ON")?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        let version = usize::try_from(version).unwrap_or(usize::MAX);
        if version > MIGRATIONS.len() {
            return Err(StateError::TooNew {
                path: path.to_path_buf(),
                found: version,
                known: MIGRATIONS.len(),
            });
        }
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
            let tx = conn.transaction()?;
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(Database {
            conn,
            path: path.to_path_buf(),
        })
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StateError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| {
                r.get::<_, String>(0)
            })
            .optional()?)
    }
}

fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// `t` cut to its hour: how subscribers' own rows (sign-ups, opt-outs)
/// keep their times, so that they cannot be matched to the second with a
/// web server's or a relay's log. The planner needs no more.
fn format_hour(t: DateTime<Utc>) -> String {
    use chrono::DurationRound as _;
    format_time(t.duration_trunc(chrono::Duration::hours(1)).unwrap_or(t))
}

/// `t` taken up to the next full hour (unless on one): for times that
/// must not come earlier than asked (an expiry, the end of a pause).
fn format_hour_up(t: DateTime<Utc>) -> String {
    use chrono::DurationRound as _;
    let down = t.duration_trunc(chrono::Duration::hours(1)).unwrap_or(t);
    format_time(if down == t {
        t
    } else {
        down + chrono::Duration::hours(1)
    })
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, StateError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StateError::BadTime(s.to_string()))
}

#[cfg(test)]
mod tests;
