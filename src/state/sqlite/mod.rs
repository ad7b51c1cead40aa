//! The SQLite engine: one file (`[state] path`), WAL, synchronous writes,
//! `secure_delete`; the schema created and migrated on open
//! (`PRAGMA user_version`). One module per group of tables, as the facade
//! in `state` names them.

use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension};

use super::StateError;

mod copy;
mod ledger;
mod subscriptions;
mod versions;
mod watch;

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

/// A SQLite state database.
pub struct Sqlite {
    pub(super) conn: Connection,
    pub(super) path: PathBuf,
}

impl Sqlite {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<Sqlite, StateError> {
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
    pub fn in_memory() -> Result<Sqlite, StateError> {
        Self::init(Connection::open_in_memory()?, Path::new(":memory:"))
    }

    fn init(mut conn: Connection, path: &Path) -> Result<Sqlite, StateError> {
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
        Ok(Sqlite {
            conn,
            path: path.to_path_buf(),
        })
    }

    /// `PRAGMA wal_checkpoint(TRUNCATE)`.
    pub(super) fn checkpoint(&self) -> Result<(), StateError> {
        self.conn
            .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
        Ok(())
    }

    /// `VACUUM INTO file`: a consistent copy, compacted.
    pub(super) fn vacuum_into(&self, file: &Path) -> Result<(), StateError> {
        let target = file.to_str().ok_or_else(|| StateError::BackupWrite {
            path: file.to_path_buf(),
            source: std::io::Error::other("the path is not UTF-8"),
        })?;
        self.conn.execute("VACUUM INTO ?1", [target])?;
        Ok(())
    }

    pub(super) fn meta(&self, key: &str) -> Result<Option<String>, StateError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| {
                r.get::<_, String>(0)
            })
            .optional()?)
    }

    /// A SQLite state is one process's: it always leads, for ever.
    pub fn claim_lead(
        &mut self,
        _holder: &str,
        _lease: std::time::Duration,
    ) -> Result<Option<super::records::Lease>, StateError> {
        Ok(Some(super::records::Lease {
            term: 0,
            expires_at: chrono::DateTime::<chrono::Utc>::MAX_UTC,
        }))
    }

    pub fn lease(&self) -> Result<Option<(String, super::records::Lease)>, StateError> {
        Ok(None)
    }

    pub fn set_fence(&mut self, _fence: Option<(String, i64)>) {}
}
