//! Replicas of `mechcal serve` sharing their state in PostgreSQL (the
//! throwaway server the tests start): one leads at a time, and every
//! reminder goes out once.

use std::fs;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use chrono::Datelike as _;

use crate::support as common;
use common::root;

use crate::postgres as server;

/// A `serve` process, killed when dropped; its address and log.
struct Replica {
    child: Child,
    addr: String,
    log: PathBuf,
}

impl Drop for Replica {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Replica {
    fn start(config: &Path, log: PathBuf) -> Replica {
        Replica::spawn(config, log).ready()
    }

    /// Started, not yet waited for.
    fn spawn(config: &Path, log: PathBuf) -> Replica {
        let child = common::serve_command(config)
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        Replica {
            child,
            addr: String::new(),
            log,
        }
    }

    /// Once it listens.
    fn ready(mut self) -> Replica {
        let start = Instant::now();
        loop {
            let text = self.log();
            if let Some(at) = text.find("listening on http://") {
                let rest = &text[at + "listening on http://".len()..];
                self.addr = rest.split('/').next().unwrap().to_string();
                return self;
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "serve did not start: {text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Reminders this replica sent (its log's lines).
    fn sent(&self) -> usize {
        self.log().matches("reminder sent to=").count()
    }

    /// `GET path`, the body (HTTP/1.0, so the server closes after it).
    fn get(&self, path: &str) -> String {
        let mut s = std::net::TcpStream::connect(&self.addr).unwrap();
        write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        text.split("\r\n\r\n")
            .nth(1)
            .unwrap_or_default()
            .to_string()
    }

    fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
}

/// A repository with one deadline five days ahead, `n` subscribers
/// reminded seven days before, mail to one Maildir, the state at `url`.
fn setup(dir: &Path, url: &str, n: usize) -> PathBuf {
    fs::create_dir_all(dir.join("deadlines")).unwrap();
    fs::copy(
        root().join("deadlines/registry.toml"),
        dir.join("deadlines/registry.toml"),
    )
    .unwrap();
    #[allow(clippy::disallowed_methods)] // serve reads the real clock: so does the test
    let due = (chrono::Utc::now() + chrono::Duration::days(5)).date_naive();
    fs::write(
        dir.join("deadlines/soon.toml"),
        format!(
            "[[deadline]]\nid = \"soon\"\ntitle = \"Example: a deadline five days ahead\"\n\
             mechanism = \"cedaw\"\ntopics = [\"women\"]\ndue = {:04}-{:02}-{:02}\n",
            due.year(),
            due.month(),
            due.day()
        ),
    )
    .unwrap();
    let mut subs = String::new();
    for i in 0..n {
        subs += &format!(
            "[[subscriber]]\nname = \"Subscriber {i}\"\nemail = \"s{i}@example.org\"\nremind_days = [7]\n"
        );
    }
    common::write_private(&dir.join("subscribers.toml"), subs);
    let config = dir.join("mechcal.toml");
    fs::write(
        &config,
        format!(
            "[calendar]\ndomain = \"calendar.example.org\"\n[data]\ndeadlines = \"deadlines\"\n\
             [state]\nurl = \"{url}\"\nlease_seconds = 6\n\
             [reminders]\nsubscribers = \"subscribers.toml\"\nsecret_file = \"secret\"\n\
             [mail]\nmaildir = \"maildir\"\n"
        ),
    )
    .unwrap();
    config
}

fn mails(dir: &Path) -> Vec<PathBuf> {
    fs::read_dir(dir.join("maildir/new"))
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

/// Every mail's `To:`, sorted.
fn recipients(dir: &Path) -> Vec<String> {
    let mut to: Vec<String> = mails(dir)
        .iter()
        .map(|p| {
            let text = fs::read_to_string(p).unwrap();
            text.lines()
                .find_map(|l| l.strip_prefix("To: "))
                .unwrap()
                .to_string()
        })
        .collect();
    to.sort();
    to
}

#[test]
fn two_replicas_started_together_send_every_reminder_once() {
    let Some(url) =
        server::database("replicas::two_replicas_started_together_send_every_reminder_once")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = setup(dir, &url, 20);
    // Both at once, on a database neither has seen (schema, key check and
    // lease all raced for).
    let a = Replica::spawn(&config, dir.join("a.log"));
    let b = Replica::spawn(&config, dir.join("b.log"));
    let (a, b) = (a.ready(), b.ready());
    let start = Instant::now();
    while mails(dir).len() < 20 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{} mails\n{}\n{}",
            mails(dir).len(),
            a.log(),
            b.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    // A lease's worth more: nobody sends a second copy. (Maildir files
    // are named after the Message-ID, so a copy would replace its first:
    // the replicas' logs count what was sent.)
    std::thread::sleep(Duration::from_secs(7));
    assert_eq!(a.sent() + b.sent(), 20, "{}\n{}", a.log(), b.log());
    assert!(a.sent() == 0 || b.sent() == 0, "both sent");
    let to = recipients(dir);
    let mut unique = to.clone();
    unique.dedup();
    assert_eq!(to.len(), 20, "{to:#?}");
    assert_eq!(unique.len(), 20, "{to:#?}");

    // One leads, the other follows; both say so, with the same term.
    let (ha, hb) = (a.get("/healthz"), b.get("/healthz"));
    let roles: Vec<bool> = [&ha, &hb]
        .iter()
        .map(|h| h.contains("\"role\":\"leader\""))
        .collect();
    assert_eq!(roles.iter().filter(|r| **r).count(), 1, "{ha}\n{hb}");
    assert!(ha.contains("\"role\":\"") && hb.contains("\"role\":\""));
    let leader = if roles[0] { &a } else { &b };
    let follower = if roles[0] { &b } else { &a };
    assert!(
        leader.log().contains("this replica leads"),
        "{}",
        leader.log()
    );
    assert!(
        !follower.log().contains("reminder pass done"),
        "{}",
        follower.log()
    );
    let metrics = leader.get("/metrics");
    assert!(metrics.contains("mechcal_leader 1"), "{metrics}");
    assert!(follower.get("/metrics").contains("mechcal_leader 0"));
    assert!(follower.get("/metrics").lines().any(|l| l
        .starts_with("mechcal_lease_renewals_total{result=\"refused\"} ")
        && !l.ends_with(" 0")),);
}

/// The leader dies (SIGKILL): the follower takes the lead once the lease
/// runs out, and a reminder that comes due after is sent once, by it.
#[test]
fn when_the_leader_dies_the_other_leads_within_the_lease() {
    let Some(url) =
        server::database("replicas::when_the_leader_dies_the_other_leads_within_the_lease")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = setup(dir, &url, 3);
    let a = Replica::start(&config, dir.join("a.log"));
    let start = Instant::now();
    while mails(dir).len() < 3 {
        assert!(start.elapsed() < Duration::from_secs(30), "{}", a.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let b = Replica::start(&config, dir.join("b.log"));
    std::thread::sleep(Duration::from_secs(1));
    assert!(a.get("/healthz").contains("\"role\":\"leader\""));
    assert!(b.get("/healthz").contains("\"role\":\"follower\""));
    drop(a); // SIGKILL
    let killed = Instant::now();
    while !b.get("/healthz").contains("\"role\":\"leader\"") {
        assert!(
            killed.elapsed() < Duration::from_secs(6 + 5),
            "no takeover within lease + 5 s\n{}",
            b.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    // The new leader ran its catch-up pass: nothing was due again.
    let caught_up = Instant::now();
    while !b.log().contains("reminder pass done") {
        assert!(caught_up.elapsed() < Duration::from_secs(10), "{}", b.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(b.log().contains("sent=0"), "{}", b.log());
    assert_eq!(b.sent(), 0);
    assert_eq!(recipients(dir).len(), 3);
    assert!(
        b.get("/healthz").contains("\"term\":2"),
        "{}",
        b.get("/healthz")
    );
}
