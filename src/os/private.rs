//! Files and directories that hold personal data (the state database and its
//! `-wal`/`-shm`, the Maildir and its messages): created readable by their
//! owner only (0600 / 0700), whatever the umask — the quick start and
//! `sudo mechcal remind` run without the unit's `UMask=`.
//!
//! Directories that already exist keep their mode (a `StateDirectory=` is
//! systemd's); files that exist with a wider mode are narrowed, since they
//! are mechcal's own.

use std::fs::{DirBuilder, File, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` and its missing parents with mode 0700.
pub fn create_dir_all(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Creates (or truncates) `path` with mode 0600, for writing.
pub fn create_file(path: &Path) -> io::Result<File> {
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    narrow(&file)?;
    Ok(file)
}

/// Makes sure `path` exists with mode 0600 (creating it empty if missing),
/// before a library such as SQLite opens it: SQLite gives its `-wal` and
/// `-shm` the mode of the database file.
///
/// An existing file is never opened here, only `chmod`ed by its path:
/// closing any descriptor of a file drops every POSIX lock this process
/// holds on it, and SQLite's connections in this process hold such locks
/// on the database and its `-shm` — another process would then take the
/// database for unused and reset its WAL under them (writes lost).
pub fn touch(path: &Path) -> io::Result<()> {
    match std::fs::metadata(path) {
        Ok(_) => narrow_path(path),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
            {
                Ok(file) => narrow(&file),
                // Made by somebody else meanwhile: theirs to hold open.
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => narrow_path(path),
                Err(e) => Err(e),
            }
        }
        Err(e) => Err(e),
    }
}

/// Narrows an existing file of mechcal's to 0600 if others may read it,
/// by its path (without opening it: see [`touch`]).
pub fn narrow_path(path: &Path) -> io::Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) => {
            let mode = meta.permissions().mode();
            if mode & 0o077 != 0 {
                std::fs::set_permissions(
                    path,
                    std::fs::Permissions::from_mode(mode & 0o700 | 0o600),
                )?;
            }
            Ok(())
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// The key in `file` (at least 16 bytes), or — when the file is missing —
/// `len` fresh random bytes written to it with mode 0600 (its directory
/// 0700), so a fresh install works and the key survives restarts. A
/// symbolic link is refused (it could point at a file others can swap).
pub fn read_or_create_key(file: &Path, len: usize, what: &str) -> io::Result<Vec<u8>> {
    let opened = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(file);
    match opened {
        Ok(mut f) => {
            let mut bytes = Vec::new();
            io::Read::read_to_end(&mut f, &mut bytes)?;
            if bytes.len() < 16 {
                return Err(io::Error::other(format!(
                    "{what} in {} is shorter than 16 bytes",
                    file.display()
                )));
            }
            Ok(bytes)
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let mut bytes = vec![0u8; len];
            getrandom::fill(&mut bytes).map_err(io::Error::other)?;
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty()) {
                create_dir_all(dir)?;
            }
            let mut f = OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(file)?;
            io::Write::write_all(&mut f, &bytes)?;
            f.sync_all()?;
            Ok(bytes)
        }
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Err(io::Error::other(format!(
            "{what} {} is a symbolic link; name the file itself",
            file.display()
        ))),
        Err(e) => Err(e),
    }
}

fn narrow(file: &File) -> io::Result<()> {
    let mode = file.metadata()?.permissions().mode();
    if mode & 0o077 != 0 {
        file.set_permissions(std::fs::Permissions::from_mode(mode & 0o700 | 0o600))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn private_whatever_was_there() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        create_dir_all(&dir).unwrap();
        assert_eq!((mode(&tmp.path().join("a")), mode(&dir)), (0o700, 0o700));
        let f = dir.join("f");
        std::fs::write(&f, "x").unwrap();
        std::fs::set_permissions(&f, std::fs::Permissions::from_mode(0o644)).unwrap();
        touch(&f).unwrap();
        assert_eq!(mode(&f), 0o600);
        assert_eq!(std::fs::read_to_string(&f).unwrap(), "x");
        let g = dir.join("g");
        create_file(&g).unwrap();
        assert_eq!(mode(&g), 0o600);
        narrow_path(&dir.join("missing")).unwrap();
    }
}
