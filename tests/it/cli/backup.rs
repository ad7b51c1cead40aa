//! `mechcal backup` while `serve` runs under load, and `mechcal restore`:
//! refused while `serve` runs, refused for a changed file, another key, a
//! file that is not a state; after a restore, a pass sends nothing twice.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::*;

const FIRST: &str = "2027-01-08T08:00:00Z";

/// Stops the server when the test ends, however it ends.
struct Stop(std::process::Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn backups(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "sqlite"))
        .collect();
    files.sort();
    files
}

#[test]
fn backup_while_serving_and_restore_with_its_checks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = reminders_setup(dir);
    let cfg = config.to_str().unwrap().to_string();
    let run = |args: &[&str]| {
        let mut all = vec!["--config", cfg.as_str()];
        all.extend(args);
        mechcal(dir, &all)
    };
    let first = run(&["remind", "--now", FIRST]);
    assert!(
        text(&first.stdout).starts_with("sent 3 messages"),
        "{}",
        text(&first.stderr)
    );

    // serve, and load on it: feeds fetched, and reminder passes writing
    // the ledger, while three backups are taken.
    let mut server = Stop(
        crate::support::serve_command(&config)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = BufReader::new(server.0.stderr.take().unwrap());
    let addr = loop {
        let mut line = String::new();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "serve exited early"
        );
        if let Some(i) = line.find("listening on http://") {
            let rest = &line[i + "listening on http://".len()..];
            break rest[..rest.find('/').unwrap()].to_string();
        }
    };
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = stderr.read_to_string(&mut sink);
    });
    let stop = Arc::new(AtomicBool::new(false));
    let served = Arc::new(AtomicUsize::new(0));
    let load: Vec<_> = (0..4)
        .map(|_| {
            let (stop, served, addr) = (stop.clone(), served.clone(), addr.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let mut out = String::new();
                    let fetched = std::net::TcpStream::connect(&addr).and_then(|mut s| {
                        write!(s, "GET /calendar.ics HTTP/1.0\r\nHost: x\r\n\r\n")?;
                        s.read_to_string(&mut out)
                    });
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    assert!(
                        fetched.is_ok() && out.starts_with("HTTP/1.0 200"),
                        "{fetched:?} {out}"
                    );
                    served.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let out_dir = dir.join("backups");
    for i in 0..3 {
        // A pass that writes (skipped offsets, later days) beside the backup.
        let writer = {
            let cfg = cfg.clone();
            let dir = dir.to_path_buf();
            std::thread::spawn(move || {
                mechcal(
                    &dir,
                    &[
                        "--config",
                        &cfg,
                        "remind",
                        "--now",
                        &format!("2027-01-{:02}T09:00:00Z", 8 + i),
                    ],
                )
            })
        };
        let backup = run(&["backup", "--out", out_dir.to_str().unwrap()]);
        assert_eq!(backup.status.code(), Some(0), "{}", text(&backup.stderr));
        let said = text(&backup.stdout);
        assert!(said.starts_with("wrote "), "{said}");
        assert!(said.contains("(check it with `sha256sum -c`)"), "{said}");
        assert!(
            said.contains("note: the subscribers in it can only be read with the address key"),
            "{said}"
        );
        let written = writer.join().unwrap();
        assert_eq!(written.status.code(), Some(0), "{}", text(&written.stderr));
        // Backups are named by the second they were taken.
        std::thread::sleep(Duration::from_millis(1100));
    }
    stop.store(true, Ordering::Relaxed);
    for t in load {
        t.join().unwrap();
    }
    assert!(served.load(Ordering::Relaxed) > 0);
    let taken = backups(&out_dir);
    assert_eq!(taken.len(), 3);
    for b in &taken {
        use std::os::unix::fs::PermissionsExt as _;
        assert_eq!(fs::metadata(b).unwrap().permissions().mode() & 0o777, 0o600);
        let sums = Command::new("sha256sum")
            .arg("-c")
            .arg(format!(
                "{}.sha256",
                b.file_name().unwrap().to_string_lossy()
            ))
            .current_dir(&out_dir)
            .output()
            .unwrap();
        assert!(sums.status.success(), "{}", text(&sums.stdout));
    }
    let backup = taken[0].to_str().unwrap().to_string();

    // Not while serve runs.
    let busy = run(&["restore", &backup]);
    assert_eq!(busy.status.code(), Some(2));
    assert!(
        text(&busy.stderr).contains("is in use by a running `mechcal serve`"),
        "{}",
        text(&busy.stderr)
    );
    let pid = server.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let start = Instant::now();
    while server.0.try_wait().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "serve did not stop"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let state = dir.join("var/state.sqlite");
    let before = fs::read(&state).unwrap();

    // A changed backup, a file that is not a state, another key, no key:
    // each refused, the state untouched.
    let changed = dir.join("changed.sqlite");
    let mut bytes = fs::read(&backup).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    fs::write(&changed, bytes).unwrap();
    fs::copy(
        format!("{backup}.sha256"),
        dir.join("changed.sqlite.sha256"),
    )
    .unwrap();
    let not_state = dir.join("notes.sqlite");
    fs::write(&not_state, "not a database").unwrap();
    let sum = Command::new("sha256sum")
        .arg("notes.sqlite")
        .current_dir(dir)
        .output()
        .unwrap();
    fs::write(dir.join("notes.sqlite.sha256"), &sum.stdout).unwrap();
    let key = dir.join("var/address.key");
    let real_key = fs::read(&key).unwrap();
    for (file, setup, error) in [
        (
            changed.to_str().unwrap(),
            None,
            "it changed since it was written",
        ),
        (
            not_state.to_str().unwrap(),
            None,
            "it is not a mechcal state database",
        ),
        (
            dir.join("missing.sqlite").to_str().unwrap(),
            None,
            "its checksum file",
        ),
        (
            backup.as_str(),
            Some(Some([7u8; 32].to_vec())),
            "it was keyed with another address key",
        ),
        (backup.as_str(), Some(None), "the address key"),
    ] {
        match &setup {
            Some(Some(other)) => fs::write(&key, other).unwrap(),
            Some(None) => fs::remove_file(&key).unwrap(),
            None => {}
        }
        let refused = run(&["restore", file]);
        assert_eq!(
            refused.status.code(),
            Some(2),
            "{file}: {}",
            text(&refused.stderr)
        );
        assert!(
            text(&refused.stderr).contains(error),
            "{file}: {}",
            text(&refused.stderr)
        );
        assert_eq!(
            fs::read(&state).unwrap(),
            before,
            "{file}: the state changed"
        );
        if setup.is_some() {
            fs::write(&key, &real_key).unwrap();
        }
    }

    // Restored: the state it replaced is kept; a pass at the first
    // instant again sends nothing (the backup has the first pass's rows).
    let restored = run(&["restore", &backup]);
    assert_eq!(
        restored.status.code(),
        Some(0),
        "{}",
        text(&restored.stderr)
    );
    let said = text(&restored.stdout);
    assert!(said.contains("the state it replaced is kept as "), "{said}");
    let kept: Vec<_> = fs::read_dir(dir.join("var"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("state.sqlite.before-restore-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    let again = run(&["remind", "--now", FIRST]);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(
        text(&again.stdout).starts_with("sent 0 messages"),
        "{}",
        text(&again.stdout)
    );
}

/// A PostgreSQL state is backed up with PostgreSQL's tools.
#[test]
fn backup_of_a_postgres_state_points_to_pg_dump() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = reminders_setup(dir);
    let text_config = fs::read_to_string(&config).unwrap().replace(
        "[state]\npath = \"var/state.sqlite\"\n",
        "[state]\nurl = \"postgres://mechcal@127.0.0.1:1/mechcal?sslmode=disable\"\n",
    );
    fs::write(&config, text_config).unwrap();
    for args in [&["backup", "--out", "b"][..], &["restore", "x.sqlite"]] {
        let mut all = vec!["--config", config.to_str().unwrap()];
        all.extend(args);
        let out = mechcal(dir, &all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            text(&out.stderr).contains("`pg_dump --format=custom`"),
            "{}",
            text(&out.stderr)
        );
    }
    assert!(!dir.join("b").exists());
}
