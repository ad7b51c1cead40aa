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
//! (Over 600 lines: split into the layer folders of the layout issue, #10,
//! with the rest of the tree; not piecemeal before it.)

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

use crate::model::catalog::Catalog;
use crate::reminders::plan::{Key, Kind, Ledger, State as RowState};
use crate::render::feed::{EntryVersion, Versions};

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
}

/// Everything the feeds need from the database.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Snapshot {
    pub rows: HashMap<String, Row>,
    /// The latest time an entry left the catalog. Kept apart from the rows,
    /// so that it survives the entry coming back: it only moves forward.
    pub last_removal: Option<DateTime<Utc>>,
    /// A fingerprint of the settings that shape rendered output, and when it
    /// last changed.
    pub settings: Option<(String, DateTime<Utc>)>,
}

/// One row of `entries`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    pub fingerprint: String,
    pub sequence: u32,
    pub changed_at: DateTime<Utc>,
    pub removed_at: Option<DateTime<Utc>>,
}

pub struct State {
    conn: Connection,
}

impl State {
    /// Opens (creating if needed) and migrates the database at `path`.
    pub fn open(path: &Path) -> Result<State, StateError> {
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
    pub fn in_memory() -> Result<State, StateError> {
        Self::init(Connection::open_in_memory()?, Path::new(":memory:"))
    }

    fn init(mut conn: Connection, path: &Path) -> Result<State, StateError> {
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
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
        Ok(State { conn })
    }

    fn meta(&self, key: &str) -> Result<Option<String>, StateError> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| {
                r.get::<_, String>(0)
            })
            .optional()?)
    }

    fn snapshot(&self) -> Result<Snapshot, StateError> {
        let last_removal = self
            .meta("last_removal")?
            .as_deref()
            .map(parse_time)
            .transpose()?;
        let settings = match (self.meta("settings")?, self.meta("settings_changed_at")?) {
            (Some(f), Some(t)) => Some((f, parse_time(&t)?)),
            _ => None,
        };
        Ok(Snapshot {
            rows: self.rows()?,
            last_removal,
            settings,
        })
    }

    fn rows(&self) -> Result<HashMap<String, Row>, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, fingerprint, sequence, changed_at, removed_at FROM entries")?;
        let raw = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, u32>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, Option<String>>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        raw.into_iter()
            .map(|(id, fingerprint, sequence, changed, removed)| {
                Ok((
                    id,
                    Row {
                        fingerprint,
                        sequence,
                        changed_at: parse_time(&changed)?,
                        removed_at: removed.as_deref().map(parse_time).transpose()?,
                    },
                ))
            })
            .collect()
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
        let before = self.snapshot()?;
        let after = advance(&before, catalog, settings, now);
        let tx = self.conn.transaction()?;
        let put_meta = |key: &str, value: String| {
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET value = ?2",
                [key, value.as_str()],
            )
        };
        if after.last_removal != before.last_removal {
            if let Some(t) = after.last_removal {
                put_meta("last_removal", format_time(t))?;
            }
        }
        if after.settings != before.settings {
            if let Some((f, t)) = &after.settings {
                put_meta("settings", f.clone())?;
                put_meta("settings_changed_at", format_time(*t))?;
            }
        }
        {
            let mut upsert = tx.prepare(
                "INSERT INTO entries (id, fingerprint, sequence, changed_at, removed_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (id) DO UPDATE SET fingerprint = ?2, sequence = ?3,
                     changed_at = ?4, removed_at = ?5",
            )?;
            for (id, row) in &after.rows {
                if before.rows.get(id) != Some(row) {
                    upsert.execute(params![
                        id,
                        row.fingerprint,
                        row.sequence,
                        format_time(row.changed_at),
                        row.removed_at.map(format_time),
                    ])?;
                }
            }
        }
        tx.commit()?;
        Ok(versions(&after))
    }

    /// The versions as stored, without recording anything.
    pub fn versions(&self) -> Result<Versions, StateError> {
        Ok(versions(&self.snapshot()?))
    }

    /// The reminder ledger, for the planner.
    pub fn ledger(&self) -> Result<Ledger, StateError> {
        let mut stmt = self
            .conn
            .prepare("SELECT email, deadline, due_at, kind, state FROM reminders")?;
        let raw = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut ledger = Ledger::default();
        for (email, deadline, due_at, kind, state) in raw {
            let kind = Kind::parse(&kind).ok_or(StateError::BadKind(kind))?;
            let state = match state.as_str() {
                "sending" => RowState::Sending,
                "sent" => RowState::Sent,
                "skipped" => RowState::Skipped,
                _ => RowState::Failed,
            };
            let key = Key {
                email,
                deadline,
                due_at: parse_time(&due_at)?,
                kind,
            };
            ledger.rows.insert(key, state);
        }
        Ok(ledger)
    }

    /// Records `keys` in `state` at `now`: creates the rows or updates them.
    /// `sending` counts an attempt and stores the Message-ID the rows go out
    /// under; `error` is kept for `failed` rows and retries.
    pub fn record(
        &mut self,
        keys: &[Key],
        state: RowState,
        message_id: Option<&str>,
        error: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StateError> {
        let state = match state {
            RowState::Sending => "sending",
            RowState::Sent => "sent",
            RowState::Skipped => "skipped",
            RowState::Failed => "failed",
        };
        let attempt = i64::from(state == "sending");
        let tx = self.conn.transaction()?;
        {
            let mut upsert = tx.prepare(
                "INSERT INTO reminders (email, deadline, due_at, kind, state, attempts, message_id, last_error, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)
                 ON CONFLICT (email, deadline, due_at, kind) DO UPDATE SET
                     state = ?5, attempts = attempts + ?6,
                     message_id = COALESCE(?7, message_id), last_error = ?8, updated_at = ?9",
            )?;
            for k in keys {
                upsert.execute(params![
                    k.email,
                    k.deadline,
                    format_time(k.due_at),
                    k.kind.to_string(),
                    state,
                    attempt,
                    message_id,
                    error,
                    format_time(now),
                ])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    /// Rows left in `sending` (by a run that crashed or could not reach the
    /// mail server), grouped by the Message-ID they went out under.
    pub fn sending(&self) -> Result<Vec<(String, Vec<Key>)>, StateError> {
        let mut stmt = self.conn.prepare(
            "SELECT message_id, email, deadline, due_at, kind FROM reminders
             WHERE state = 'sending' ORDER BY message_id, deadline, kind",
        )?;
        let raw = stmt
            .query_map([], |r| {
                Ok((
                    r.get::<_, Option<String>>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, String>(2)?,
                    r.get::<_, String>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?
            .collect::<Result<Vec<_>, _>>()?;
        let mut groups: Vec<(String, Vec<Key>)> = Vec::new();
        for (id, email, deadline, due_at, kind) in raw {
            let key = Key {
                email,
                deadline,
                due_at: parse_time(&due_at)?,
                kind: Kind::parse(&kind).ok_or(StateError::BadKind(kind))?,
            };
            let id = id.unwrap_or_default();
            match groups.last_mut() {
                Some((last, keys)) if *last == id => keys.push(key),
                _ => groups.push((id, vec![key])),
            }
        }
        Ok(groups)
    }

    /// The most attempts made on any of `keys`.
    pub fn attempts(&self, keys: &[Key]) -> Result<i64, StateError> {
        let mut most = 0;
        for k in keys {
            let n: Option<i64> = self
                .conn
                .query_row(
                    "SELECT attempts FROM reminders WHERE email = ?1 AND deadline = ?2 AND due_at = ?3 AND kind = ?4",
                    params![k.email, k.deadline, format_time(k.due_at), k.kind.to_string()],
                    |r| r.get(0),
                )
                .optional()?;
            most = most.max(n.unwrap_or(0));
        }
        Ok(most)
    }

    /// The lower-case addresses that opted out.
    pub fn opted_out(&self) -> Result<std::collections::HashSet<String>, StateError> {
        let mut stmt = self.conn.prepare("SELECT email FROM opt_outs")?;
        let rows = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<Result<_, _>>()?;
        Ok(rows)
    }

    /// Records an opt-out (idempotent).
    pub fn opt_out(&mut self, email: &str, now: DateTime<Utc>) -> Result<(), StateError> {
        self.conn.execute(
            "INSERT INTO opt_outs (email, at) VALUES (?1, ?2) ON CONFLICT (email) DO NOTHING",
            params![email.to_lowercase(), format_time(now)],
        )?;
        Ok(())
    }

    /// Lifts an opt-out; whether there was one.
    pub fn resubscribe(&mut self, email: &str) -> Result<bool, StateError> {
        let n = self.conn.execute(
            "DELETE FROM opt_outs WHERE email = ?1",
            [email.to_lowercase()],
        )?;
        Ok(n > 0)
    }

    /// Looks up one row (for tests and diagnostics).
    pub fn row(&self, id: &str) -> Result<Option<Row>, StateError> {
        Ok(self.rows()?.remove(id))
    }
}

/// The rows after seeing `catalog` at `now`: new entries start at sequence 0;
/// an entry whose fingerprint changed (or that comes back after removal)
/// gets the next sequence and `changed_at = now`; entries no longer in the
/// catalog are marked removed at `now` (once), which also moves
/// `last_removal` forward. Pure.
pub fn advance(
    before: &Snapshot,
    catalog: &Catalog,
    settings: &str,
    now: DateTime<Utc>,
) -> Snapshot {
    let mut after = before.rows.clone();
    for d in catalog.deadlines() {
        let fingerprint = d.fingerprint.to_string();
        match after.get_mut(&d.id) {
            None => {
                after.insert(
                    d.id.clone(),
                    Row {
                        fingerprint,
                        sequence: 0,
                        changed_at: now,
                        removed_at: None,
                    },
                );
            }
            Some(row) if row.fingerprint != fingerprint || row.removed_at.is_some() => {
                row.fingerprint = fingerprint;
                row.sequence = row.sequence.saturating_add(1);
                // Never move backwards, even if the clock did.
                row.changed_at = now.max(row.changed_at);
                row.removed_at = None;
            }
            Some(_) => {}
        }
    }
    let mut last_removal = before.last_removal;
    for (id, row) in after.iter_mut() {
        if row.removed_at.is_none() && catalog.get(id).is_none() {
            let at = last_removal.map_or(now, |t| t.max(now)).max(row.changed_at);
            row.removed_at = Some(at);
            last_removal = Some(at);
        }
    }
    let settings = match &before.settings {
        Some((f, t)) if f == settings => Some((f.clone(), *t)),
        Some((_, t)) => Some((settings.to_string(), now.max(*t))),
        None => Some((settings.to_string(), now)),
    };
    Snapshot {
        rows: after,
        last_removal,
        settings,
    }
}

fn versions(snapshot: &Snapshot) -> Versions {
    Versions {
        entries: snapshot
            .rows
            .iter()
            .filter(|(_, r)| r.removed_at.is_none())
            .map(|(id, r)| {
                (
                    id.clone(),
                    EntryVersion {
                        sequence: r.sequence,
                        changed_at: r.changed_at,
                    },
                )
            })
            .collect(),
        last_removal: snapshot.last_removal,
        settings_changed_at: snapshot.settings.as_ref().map(|(_, t)| *t),
    }
}

fn format_time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn parse_time(s: &str) -> Result<DateTime<Utc>, StateError> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| StateError::BadTime(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn entry(id: &str, title: &str) -> String {
        format!("[[deadline]]\nid = \"{id}\"\ntitle = \"{title}\"\nmechanism = \"upr\"\ntopics = [\"women\"]\ndue = 2027-01-01\n")
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn sequence_and_changed_at_follow_content_changes() {
        let mut state = State::in_memory().unwrap();
        let t1 = at("2026-01-01T00:00:00Z");
        let t2 = at("2026-02-01T00:00:00Z");
        let t3 = at("2026-03-01T00:00:00Z");
        let t4 = at("2026-04-01T00:00:00Z");

        let c1 = testing::catalog(&[("a.toml", &entry("a", "A")), ("b.toml", &entry("b", "B"))]);
        let v = state.sync(&c1, "s", t1).unwrap();
        assert_eq!(
            v.get("a"),
            EntryVersion {
                sequence: 0,
                changed_at: t1
            }
        );
        assert_eq!(v.last_removal, None);

        // Same content, moved to another file, synced later: nothing changes.
        let moved = testing::catalog(&[(
            "x/y.toml",
            &format!("{}\n{}", entry("b", "B"), entry("a", "A")),
        )]);
        assert_eq!(state.sync(&moved, "s", t2).unwrap(), v);

        // An edit bumps SEQUENCE and the change time.
        let c3 = testing::catalog(&[
            ("a.toml", &entry("a", "A, edited")),
            ("b.toml", &entry("b", "B")),
        ]);
        let v = state.sync(&c3, "s", t3).unwrap();
        assert_eq!(
            v.get("a"),
            EntryVersion {
                sequence: 1,
                changed_at: t3
            }
        );
        assert_eq!(
            v.get("b"),
            EntryVersion {
                sequence: 0,
                changed_at: t1
            }
        );

        // A removal is remembered; coming back continues the sequence.
        let c4 = testing::catalog(&[("a.toml", &entry("a", "A, edited"))]);
        let v = state.sync(&c4, "s", t4).unwrap();
        assert_eq!(v.last_removal, Some(t4));
        assert!(!v.entries.contains_key("b"));
        let v = state.sync(&c3, "s", at("2026-05-01T00:00:00Z")).unwrap();
        assert_eq!(v.get("b").sequence, 1);
        assert_eq!(v.last_removal, Some(t4));
    }

    #[test]
    fn a_clock_going_back_never_moves_versions_back() {
        let mut state = State::in_memory().unwrap();
        let late = at("2026-06-01T00:00:00Z");
        state
            .sync(
                &testing::catalog(&[("a.toml", &entry("a", "A"))]),
                "s",
                late,
            )
            .unwrap();
        let v = state
            .sync(
                &testing::catalog(&[("a.toml", &entry("a", "A2"))]),
                "s",
                at("2026-01-01T00:00:00Z"),
            )
            .unwrap();
        assert_eq!(v.get("a").changed_at, late);
    }

    #[test]
    fn settings_changes_are_dated() {
        let mut state = State::in_memory().unwrap();
        let c = testing::catalog(&[("a.toml", &entry("a", "A"))]);
        let t1 = at("2026-01-01T00:00:00Z");
        let t2 = at("2026-02-01T00:00:00Z");
        assert_eq!(
            state.sync(&c, "one", t1).unwrap().settings_changed_at,
            Some(t1)
        );
        assert_eq!(
            state.sync(&c, "one", t2).unwrap().settings_changed_at,
            Some(t1)
        );
        assert_eq!(
            state.sync(&c, "two", t2).unwrap().settings_changed_at,
            Some(t2)
        );
    }

    #[test]
    fn ledger_rows_and_opt_outs() {
        let mut state = State::in_memory().unwrap();
        let t1 = at("2026-12-16T07:00:00Z");
        let key = |kind| Key {
            email: "a@example.org".into(),
            deadline: "d".into(),
            due_at: at("2027-01-15T23:00:00Z"),
            kind,
        };
        state
            .record(
                &[key(Kind::Remind(30)), key(Kind::Remind(60))],
                RowState::Sending,
                Some("<m1@x>"),
                None,
                t1,
            )
            .unwrap();
        state
            .record(&[key(Kind::Remind(30))], RowState::Sent, None, None, t1)
            .unwrap();
        state
            .record(&[key(Kind::Remind(60))], RowState::Skipped, None, None, t1)
            .unwrap();
        state
            .record(
                &[key(Kind::Moved)],
                RowState::Failed,
                None,
                Some("550 no such user"),
                t1,
            )
            .unwrap();
        let ledger = state.ledger().unwrap();
        assert_eq!(ledger.rows.len(), 3);
        assert_eq!(ledger.rows[&key(Kind::Remind(30))], RowState::Sent);
        assert_eq!(ledger.rows[&key(Kind::Remind(60))], RowState::Skipped);
        assert_eq!(ledger.rows[&key(Kind::Moved)], RowState::Failed);
        let (attempts, id): (i64, String) = state
            .conn
            .query_row(
                "SELECT attempts, message_id FROM reminders WHERE kind = 'remind:30'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((attempts, id.as_str()), (1, "<m1@x>"));

        state.opt_out("A@Example.org", t1).unwrap();
        state.opt_out("a@example.org", t1).unwrap();
        assert_eq!(
            state.opted_out().unwrap(),
            ["a@example.org".to_string()].into()
        );
        assert!(state.resubscribe("a@EXAMPLE.org").unwrap());
        assert!(!state.resubscribe("a@example.org").unwrap());
        assert!(state.opted_out().unwrap().is_empty());
    }

    #[test]
    fn survives_reopen_and_refuses_newer_schema() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("var/state.sqlite");
        let t = at("2026-01-01T00:00:00Z");
        let c = testing::catalog(&[("a.toml", &entry("a", "A"))]);
        let v = State::open(&path).unwrap().sync(&c, "s", t).unwrap();
        let reopened = State::open(&path).unwrap();
        assert_eq!(reopened.versions().unwrap(), v);
        assert_eq!(reopened.row("a").unwrap().unwrap().sequence, 0);
        drop(reopened);
        Connection::open(&path)
            .unwrap()
            .pragma_update(None, "user_version", 99)
            .unwrap();
        let err = State::open(&path).err().unwrap();
        assert!(err.to_string().contains("schema version 99"), "{err}");
    }
}
