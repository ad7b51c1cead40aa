//! `mechcal serve` as a service, driving the real binary: SIGHUP config
//! reload (keeping the last good config), the systemd notify protocol on a
//! socket the test provides, slow clients that must not block others,
//! `/metrics` read by Python's prometheus_client, JSON logs, and following a
//! git remote (fetch, fast-forward, failures, a diverged checkout).

mod data;
mod in_process;
mod limits;
mod reminders;
mod systemd;

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support as common;
use common::{copy_dir, root};

/// A minimal config for the deadlines in `deadlines` (relative to `dir`).
fn write_config(dir: &Path, deadlines: &str, extra: &str) -> PathBuf {
    let config = dir.join("mechcal.toml");
    fs::write(
        &config,
        format!(
            "[calendar]\ndomain = \"calendar.example.org\"\nname = \"First name\"\n\
             [data]\ndeadlines = \"{deadlines}\"\n[state]\npath = \"state.sqlite\"\n{extra}"
        ),
    )
    .unwrap();
    config
}

/// A minimal config for the sample deadlines (read in place).
fn sample_config(dir: &Path, extra: &str) -> PathBuf {
    write_config(dir, &root().join("deadlines").display().to_string(), extra)
}

/// Polls `ok` until it holds; fails after `limit`.
pub(crate) fn eventually(what: &str, limit: Duration, ok: impl Fn() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running `mechcal serve`, killed on drop if still running.
pub(crate) struct Serve {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
}

impl Serve {
    pub(crate) fn start(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Serve {
        let mut child = common::serve_command(config)
            .args(args)
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        // Keeps draining the log, so that the server never blocks on it.
        std::thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { return };
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut serve = Serve {
            child,
            addr: String::new(),
            log,
        };
        eventually("serve starts watching", Duration::from_secs(20), || {
            serve.log().contains("watching the deadline directory")
        });
        let log = serve.log();
        let i = log.find("listening on http://").expect("listening") + "listening on http://".len();
        serve.addr = log[i..i + log[i..].find('/').unwrap()].to_string();
        serve
    }

    pub(crate) fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// One HTTP/1.0 exchange: the whole response.
    pub(crate) fn get(&self, path: &str) -> String {
        self.request(&format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n"))
    }

    fn request(&self, raw: &str) -> String {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(raw.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    pub(crate) fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args(["-s", name, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    fn wait(&mut self, limit: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < limit,
                "serve did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn health(serve: &Serve) -> serde_json::Value {
    let r = serve.get("/healthz");
    serde_json::from_str(&r[r.find("\r\n\r\n").unwrap() + 4..]).unwrap()
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Staff")
        .env("GIT_AUTHOR_EMAIL", "staff@example.org")
        .env("GIT_COMMITTER_NAME", "Staff")
        .env("GIT_COMMITTER_EMAIL", "staff@example.org")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

pub(crate) fn metric(serve: &Serve, series: &str) -> u64 {
    let m = serve.get("/metrics");
    m.lines()
        .find_map(|l| l.strip_prefix(series))
        .unwrap_or_else(|| panic!("{series}"))
        .trim()
        .parse()
        .unwrap()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    out
}

/// A config whose reminders cannot run (the SMTP password variable is
/// unset), its subscribers file, in `t`.
fn config_with_unrunnable_reminders(t: &Path) -> PathBuf {
    let subs = t.join("subscribers.toml");
    common::write_private(
        &subs,
        "[[subscriber]]\nname = \"A\"\nemail = \"a@example.org\"\n",
    );
    let config = write_config(
        t,
        &root().join("deadlines").display().to_string(),
        "[reminders]\nsubscribers = \"subscribers.toml\"\nsecret_file = \"secret\"\n\
         [mail]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = 2525\nusername = \"u\"\n\
         password_env = \"MECHCAL_TEST_NO_SUCH_VARIABLE\"\n",
    );
    config
}
