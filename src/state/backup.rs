//! Backups of a SQLite state, and putting one back.
//!
//! - [`ServeLock`]: `serve` holds an exclusive lock on `<state>.lock` for
//!   as long as it runs (a BSD `flock`, released by the kernel when the
//!   process ends, however it ends). [`restore`] takes the same lock, so it
//!   never replaces a database under a running service; a second `serve`
//!   on the same file is refused too.
//! - [`backup`]: a consistent copy while `serve` runs (`VACUUM INTO`, one
//!   read transaction), mode 0600, beside a `sha256sum`-style checksum file.
//! - [`restore`]: checks the checksum, copies the backup beside the state,
//!   migrates the copy and checks it against the address key present (a
//!   backup keyed with another key is refused), then swaps it in; the state
//!   it replaces is kept beside it.
//!
//! A PostgreSQL state is backed up with PostgreSQL's tools (`pg_dump`).

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::{Database, StateError};
use crate::load::config::StateConfig;
use crate::subscriptions::AddressKey;

/// `<state>.lock`.
pub fn lock_path(state: &Path) -> PathBuf {
    let mut p = state.as_os_str().to_owned();
    p.push(".lock");
    PathBuf::from(p)
}

/// The lock `serve` holds on a SQLite state (nothing for PostgreSQL,
/// whose replicas share it by design).
#[derive(Debug)]
pub struct ServeLock(#[allow(dead_code)] Option<File>);

impl ServeLock {
    /// Takes the lock of `config`'s SQLite state, or says who holds it.
    pub fn take(config: &StateConfig) -> Result<ServeLock, StateError> {
        if config.url.is_some() {
            return Ok(ServeLock(None));
        }
        take(&config.path).map(|f| ServeLock(Some(f)))
    }
}

fn take(state: &Path) -> Result<File, StateError> {
    let lock = lock_path(state);
    let failed = |source| StateError::Lock {
        path: lock.clone(),
        source,
    };
    if let Some(dir) = state.parent().filter(|d| !d.as_os_str().is_empty()) {
        crate::os::private::create_dir_all(dir).map_err(failed)?;
    }
    crate::os::private::touch(&lock).map_err(failed)?;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .open(&lock)
        .map_err(failed)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(StateError::InUse {
            state: state.to_path_buf(),
            lock,
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(failed(e)),
    }
}

/// A backup written.
#[derive(Debug)]
pub struct Written {
    pub file: PathBuf,
    pub checksum_file: PathBuf,
    pub bytes: u64,
    pub sha256: String,
}

/// Writes a copy of `config`'s SQLite state into `dir` (made 0700 if
/// missing) as `mechcal-state-<now>.sqlite`, with its checksum beside it
/// (`… .sqlite.sha256`, as `sha256sum` writes it).
pub fn backup(config: &StateConfig, dir: &Path, now: DateTime<Utc>) -> Result<Written, StateError> {
    if config.url.is_some() {
        return Err(StateError::NotSqlite(config.shown()));
    }
    let db = Database::open_state(config)?;
    let name = format!("mechcal-state-{}.sqlite", now.format("%Y%m%dT%H%M%SZ"));
    let file = dir.join(&name);
    let failed = |path: &Path| {
        let path = path.to_path_buf();
        move |source| StateError::BackupWrite { path, source }
    };
    crate::os::private::create_dir_all(dir).map_err(failed(dir))?;
    if file.exists() {
        return Err(StateError::BackupWrite {
            path: file.clone(),
            source: std::io::Error::from(std::io::ErrorKind::AlreadyExists),
        });
    }
    crate::os::private::touch(&file).map_err(failed(&file))?;
    if let Err(e) = db.backup_into(&file) {
        let _ = std::fs::remove_file(&file);
        return Err(e);
    }
    let (bytes, sha256) = digest(&file).map_err(failed(&file))?;
    let checksum_file = dir.join(format!("{name}.sha256"));
    let mut sums =
        crate::os::private::create_file(&checksum_file).map_err(failed(&checksum_file))?;
    sums.write_all(format!("{sha256}  {name}\n").as_bytes())
        .and_then(|()| sums.sync_all())
        .map_err(failed(&checksum_file))?;
    Ok(Written {
        file,
        checksum_file,
        bytes,
        sha256,
    })
}

/// A file's size and SHA-256, in lower-case hex.
fn digest(file: &Path) -> std::io::Result<(u64, String)> {
    let mut f = File::open(file)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 64 * 1024];
    let mut bytes = 0u64;
    loop {
        let n = f.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        hasher.update(&buffer[..n]);
    }
    let hex = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((bytes, hex))
}

/// What [`restore`] did.
#[derive(Debug)]
pub struct Restored {
    /// Where the state it replaced was kept (`None`: there was none).
    pub kept: Option<PathBuf>,
}

/// Puts the backup `file` back as `config`'s SQLite state, with `serve`
/// stopped. Refuses a backup whose checksum file (`file.sha256`) is
/// missing or does not match, one that is not a mechcal state, and one
/// keyed with another address key than `key`; the state it replaces is
/// kept as `<state>.before-restore-<now>`.
pub fn restore(
    config: &StateConfig,
    key: &AddressKey,
    file: &Path,
    now: DateTime<Utc>,
) -> Result<Restored, StateError> {
    if config.url.is_some() {
        return Err(StateError::NotSqlite(config.shown()));
    }
    let bad = |reason: String| StateError::BadBackup {
        path: file.to_path_buf(),
        reason,
    };
    // The checksum first: a backup that changed is not read at all.
    let mut sums = file.as_os_str().to_owned();
    sums.push(".sha256");
    let sums = PathBuf::from(sums);
    let written = std::fs::read_to_string(&sums).map_err(|e| {
        bad(format!(
            "its checksum file {} cannot be read ({})",
            sums.display(),
            crate::load::deadlines::io_reason(&e)
        ))
    })?;
    let expected = written
        .split_whitespace()
        .next()
        .unwrap_or("")
        .to_lowercase();
    let (_, actual) = digest(file).map_err(|e| bad(crate::load::deadlines::io_reason(&e)))?;
    if expected != actual {
        return Err(bad(format!(
            "its SHA-256 is {actual}, not {expected} as {} says: it changed since it was written",
            sums.display()
        )));
    }
    let state = &config.path;
    let _lock = take(state)?;
    // A copy beside the state (same file system: the swap is a rename),
    // migrated and checked against the key present.
    let tmp = sibling(state, &format!("restore-{}", now.format("%Y%m%dT%H%M%SZ")));
    let _ = std::fs::remove_file(&tmp);
    let copied = (|| {
        let mut from = File::open(file)?;
        let mut to = crate::os::private::create_file(&tmp)?;
        std::io::copy(&mut from, &mut to)?;
        to.sync_all()
    })();
    copied.map_err(|source| StateError::BackupWrite {
        path: tmp.clone(),
        source,
    })?;
    let checked = (|| {
        // A mechcal state has a schema version; anything else (another
        // SQLite file, not SQLite at all) is not migrated into one.
        let version =
            rusqlite::Connection::open_with_flags(&tmp, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .and_then(|c| c.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0)));
        if !matches!(version, Ok(v) if v > 0) {
            return Err(bad("it is not a mechcal state database".into()));
        }
        let mut db = Database::open(&tmp)?;
        db.key_addresses(key).map_err(|e| match e {
            StateError::WrongKey(_) => bad(
                "it was keyed with another address key than the one present (`[state] key_file` or the credential `address-key`): restore that key first, or keep the state you have".into(),
            ),
            other => other,
        })?;
        db.checkpoint()
    })();
    if let Err(e) = checked {
        remove_database(&tmp);
        return Err(e);
    }
    // The state in place, whole (its WAL folded in), is kept.
    let kept = if state.exists() {
        Database::open(state)?.checkpoint()?;
        let kept = sibling(
            state,
            &format!("before-restore-{}", now.format("%Y%m%dT%H%M%SZ")),
        );
        std::fs::rename(state, &kept).map_err(|source| StateError::BackupWrite {
            path: kept.clone(),
            source,
        })?;
        for suffix in ["-wal", "-shm"] {
            let mut p = state.as_os_str().to_owned();
            p.push(suffix);
            let _ = std::fs::remove_file(PathBuf::from(p));
        }
        Some(kept)
    } else {
        None
    };
    for suffix in ["-wal", "-shm"] {
        let mut p = tmp.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
    std::fs::rename(&tmp, state).map_err(|source| StateError::BackupWrite {
        path: state.to_path_buf(),
        source,
    })?;
    if let Some(dir) = state.parent().filter(|d| !d.as_os_str().is_empty()) {
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(Restored { kept })
}

/// `<state>.<suffix>`.
fn sibling(state: &Path, suffix: &str) -> PathBuf {
    let mut p = state.as_os_str().to_owned();
    p.push(format!(".{suffix}"));
    PathBuf::from(p)
}

/// A SQLite file and its `-wal` and `-shm`.
fn remove_database(path: &Path) {
    let _ = std::fs::remove_file(path);
    for suffix in ["-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(PathBuf::from(p));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_serve_lock_at_a_time_released_when_dropped() {
        let tmp = tempfile::tempdir().unwrap();
        let config = StateConfig {
            path: tmp.path().join("var/state.sqlite"),
            url: None,
            password_file: None,
            lease_seconds: 30,
            key_file: tmp.path().join("var/address.key"),
        };
        let first = ServeLock::take(&config).unwrap();
        match ServeLock::take(&config) {
            Err(StateError::InUse { state, lock }) => {
                assert_eq!(state, config.path);
                assert_eq!(lock, tmp.path().join("var/state.sqlite.lock"));
            }
            other => panic!("{other:?}"),
        }
        drop(first);
        ServeLock::take(&config).unwrap();
        // PostgreSQL replicas share their state: no lock.
        let shared = StateConfig {
            url: Some("postgres://m@localhost/m".into()),
            ..config.clone()
        };
        let _a = ServeLock::take(&shared).unwrap();
        let _b = ServeLock::take(&shared).unwrap();
    }
}
