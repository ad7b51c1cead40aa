//! Replicas of `mechcal serve` sharing their state in PostgreSQL (the
//! throwaway server the tests start): one leads at a time, and every
//! reminder goes out once.

use std::fs;
use std::io::{Read as _, Write as _};
use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use crate::support as common;

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
        Replica::spawn_with(common::serve_command(config), log)
    }

    /// `command` (a `serve`) started, not yet waited for.
    fn spawn_with(mut command: std::process::Command, log: PathBuf) -> Replica {
        let child = command
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

/// Polls `done` until it holds; fails after `within`, showing `context`.
fn wait_for(what: &str, within: Duration, done: impl Fn() -> bool, context: impl Fn() -> String) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < within, "{what}\n{}", context());
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// `b` leads within the lease (6 s) and 5 s, then runs its catch-up pass.
fn takes_over(b: &Replica) {
    wait_for(
        "no takeover within the lease + 5 s",
        Duration::from_secs(6 + 5),
        || b.get("/healthz").contains("\"role\":\"leader\""),
        || b.log(),
    );
    wait_for(
        "no catch-up pass",
        Duration::from_secs(10),
        || b.log().contains("reminder pass done"),
        || b.log(),
    );
}

/// A repository with one deadline five days ahead, `n` subscribers
/// reminded seven days before, mail to one Maildir, the state at `url`.
fn setup(dir: &Path, url: &str, n: usize) -> PathBuf {
    common::deadline_five_days_ahead(dir, n);
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
    wait_for(
        "the first pass did not mail all three",
        Duration::from_secs(30),
        || mails(dir).len() >= 3,
        || a.log(),
    );
    let b = Replica::start(&config, dir.join("b.log"));
    std::thread::sleep(Duration::from_secs(1));
    assert!(a.get("/healthz").contains("\"role\":\"leader\""));
    assert!(b.get("/healthz").contains("\"role\":\"follower\""));
    drop(a); // SIGKILL
             // The new leader ran its catch-up pass: nothing was due again.
    takes_over(&b);
    assert!(b.log().contains("sent=0"), "{}", b.log());
    assert_eq!(b.sent(), 0);
    assert_eq!(recipients(dir).len(), 3);
    assert!(
        b.get("/healthz").contains("\"term\":2"),
        "{}",
        b.get("/healthz")
    );
}

/// A TCP relay on loopback to `upstream` that can stop forwarding without
/// closing anything: a replica behind it is cut off from the database
/// while its connections stay open.
struct Relay {
    port: u16,
    frozen: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Relay {
    fn to(upstream: std::net::SocketAddr) -> Relay {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let frozen = Arc::new(AtomicBool::new(false));
        let held = frozen.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = std::net::TcpStream::connect(upstream) else {
                    continue;
                };
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), server.try_clone().unwrap()),
                    (server, client),
                ] {
                    let frozen = held.clone();
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16 * 1024];
                        loop {
                            let n = match from.read(&mut buf) {
                                Ok(0) | Err(_) => return,
                                Ok(n) => n,
                            };
                            // Held back (not dropped) while frozen.
                            while frozen.load(Ordering::SeqCst) {
                                std::thread::sleep(Duration::from_millis(20));
                            }
                            if to.write_all(&buf[..n]).is_err() {
                                return;
                            }
                        }
                    });
                }
            }
        });
        Relay { port, frozen }
    }

    fn freeze(&self, on: bool) {
        self.frozen.store(on, std::sync::atomic::Ordering::SeqCst);
    }
}

/// The leader is cut off from the database in the middle of a pass (slow
/// relay), its connections open: it starts no message after its lease
/// could have run out, the other replica takes over and finishes the
/// pass, and the cut-off leader's late ledger write is refused by the term
/// check. Nobody gets a reminder more than twice, and a second copy has the
/// first's Message-ID.
#[test]
// Over 100 lines: one failure, step by step.
fn a_leader_cut_off_from_the_database_stops_and_its_late_writes_are_refused() {
    use crate::smtp::SmtpServer;
    let Some(url) = server::database(
        "replicas::a_leader_cut_off_from_the_database_stops_and_its_late_writes_are_refused",
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::create_dir_all(dir.join("smtp")).unwrap();
    // Each message takes 1 s at the relay.
    let smtp = SmtpServer::start(&dir.join("smtp"), &["slow:1"]);
    let config = setup(dir, &url, 8);
    let with_smtp = |url: &str| {
        fs::read_to_string(&config)
            .unwrap()
            .replace("[mail]\nmaildir = \"maildir\"\n", &format!(
                "[mail]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout_seconds = 2\nretry_seconds = [0]\n",
                smtp.port
            ))
            .replace(&url_of(&config), url)
    };
    // A reaches the database through the relay; B directly.
    let db_port: u16 = url
        .split(':')
        .nth(2)
        .unwrap()
        .split('/')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let relay = Relay::to(([127, 0, 0, 1], db_port).into());
    let through = url.replace(&format!(":{db_port}/"), &format!(":{}/", relay.port));
    let config_a = dir.join("a.toml");
    let config_b = dir.join("b.toml");
    fs::write(&config_a, with_smtp(&through)).unwrap();
    fs::write(&config_b, with_smtp(&url)).unwrap();

    let a = Replica::start(&config_a, dir.join("a.log"));
    // A leads and sends; then B starts, as a follower.
    let started = Instant::now();
    while smtp.messages().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(20), "{}", a.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    let b = Replica::start(&config_b, dir.join("b.log"));
    assert!(
        a.get("/healthz").contains("\"role\":\"leader\""),
        "{}",
        a.log()
    );
    relay.freeze(true);
    let cut = Instant::now();
    #[allow(clippy::disallowed_methods)] // serve logs the real clock: so does the test
    let cut_at = chrono::Utc::now();
    // B takes over within the lease and a renewal period.
    while !b.get("/healthz").contains("\"role\":\"leader\"") {
        assert!(
            cut.elapsed() < Duration::from_secs(6 + 2 + 5),
            "no takeover\n{}",
            b.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(a.get("/healthz").contains("\"role\":\"follower\""));
    // B finishes the pass: all eight get their reminder.
    until_recipients(&smtp, 8, Duration::from_secs(30), &|| {
        format!("{}\n{}", a.log(), b.log())
    });
    // A's writes held in the relay now reach the database: refused.
    relay.freeze(false);
    let thawed = Instant::now();
    while !a.log().contains("has passed to another replica") {
        assert!(
            thawed.elapsed() < Duration::from_secs(15),
            "A's late write was not refused\n{}",
            a.log()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    std::thread::sleep(Duration::from_secs(2));
    // At most twice each, and a second copy is the first again.
    let by_to = copies(&smtp);
    assert_eq!(by_to.len(), 8);
    for (to, ids) in &by_to {
        assert!(ids.len() <= 2, "{to}: {ids:?}");
        assert!(ids.windows(2).all(|w| w[0] == w[1]), "{to}: {ids:?}");
    }
    // Every message A sent, it sent before its lease could have run out
    // (6 s from its last renewal, which came before the cut).
    let a_log = a.log();
    for line in a_log.lines().filter(|l| l.contains("reminder sent to=")) {
        let at: chrono::DateTime<chrono::Utc> =
            line.split_whitespace().next().unwrap().parse().unwrap();
        assert!(
            at < cut_at + chrono::Duration::seconds(6),
            "{line}\n{a_log}"
        );
    }
    assert!(a.sent() < 8, "{a_log}");
    assert!(b.sent() > 0, "{}", b.log());
}

/// Each recipient's messages at `smtp`, as their Message-IDs.
fn copies(smtp: &crate::smtp::SmtpServer) -> std::collections::HashMap<String, Vec<String>> {
    let mut by_to: std::collections::HashMap<String, Vec<String>> = Default::default();
    for m in &smtp.messages() {
        by_to
            .entry(m["to"].as_str().unwrap().to_string())
            .or_default()
            .push(m["message_id"].as_str().unwrap().to_string());
    }
    by_to
}

/// Waits until `n` recipients have a message at `smtp` (at most `within`).
fn until_recipients(
    smtp: &crate::smtp::SmtpServer,
    n: usize,
    within: Duration,
    logs: &dyn Fn() -> String,
) {
    let start = Instant::now();
    while copies(smtp).len() < n {
        assert!(
            start.elapsed() < within,
            "{:?}\n{}",
            copies(smtp).keys(),
            logs()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The `url = "…"` of a config.
fn url_of(config: &Path) -> String {
    let text = fs::read_to_string(config).unwrap();
    let line = text.lines().find(|l| l.starts_with("url = ")).unwrap();
    line["url = \"".len()..line.len() - 1].to_string()
}

/// PostgreSQL restarts in the middle of a pass (a slow relay): the pass
/// fails, is tried again soon, and every reminder goes out; none twice
/// but the one in flight, under its Message-ID.
#[test]
fn postgres_restarting_mid_pass_loses_and_doubles_nothing() {
    use crate::smtp::SmtpServer;
    let Some(db) = server::own("replicas::postgres_restarting_mid_pass_loses_and_doubles_nothing")
    else {
        return;
    };
    let url = db.database();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::create_dir_all(dir.join("smtp")).unwrap();
    let smtp = SmtpServer::start(&dir.join("smtp"), &["slow:1"]);
    let config = setup(dir, &url, 6);
    let text = fs::read_to_string(&config).unwrap().replace(
        "[mail]\nmaildir = \"maildir\"\n",
        &format!(
            "[mail]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = {}\ntls = \"none\"\ntimeout_seconds = 2\nretry_seconds = [0]\n",
            smtp.port
        ),
    );
    fs::write(&config, text).unwrap();
    let a = Replica::start(&config, dir.join("a.log"));
    let started = Instant::now();
    while smtp.messages().is_empty() {
        assert!(started.elapsed() < Duration::from_secs(20), "{}", a.log());
        std::thread::sleep(Duration::from_millis(100));
    }
    db.stop();
    std::thread::sleep(Duration::from_secs(2));
    db.restart();
    until_recipients(&smtp, 6, Duration::from_secs(40), &|| a.log());
    std::thread::sleep(Duration::from_secs(2));
    let log = a.log();
    assert!(log.contains("reminder pass failed"), "{log}");
    let by_to = copies(&smtp);
    assert_eq!(by_to.len(), 6);
    let doubled: Vec<_> = by_to.values().filter(|ids| ids.len() > 1).collect();
    assert!(doubled.len() <= 1, "{doubled:?}");
    for ids in by_to.values() {
        assert!(
            ids.len() <= 2 && ids.windows(2).all(|w| w[0] == w[1]),
            "{ids:?}"
        );
    }
    assert!(a.get("/healthz").contains("\"role\":\"leader\""));
}

/// One replica's wall clock is 10 minutes ahead (libfaketime; its
/// monotonic clock untouched): nothing changes. It follows while the other
/// leads, takes over when the other dies, within the lease, and sends
/// nothing again: the lease runs on the database's clock.
#[test]
fn a_replica_whose_clock_is_ten_minutes_off_changes_nothing() {
    if !crate::tools::need(
        &[&crate::tools::FAKETIME],
        "replicas::a_replica_whose_clock_is_ten_minutes_off_changes_nothing",
    ) {
        return;
    }
    let Some(url) =
        server::database("replicas::a_replica_whose_clock_is_ten_minutes_off_changes_nothing")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = setup(dir, &url, 3);
    let a = Replica::start(&config, dir.join("a.log"));
    wait_for(
        "the first pass did not mail all three",
        Duration::from_secs(30),
        || mails(dir).len() >= 3,
        || a.log(),
    );
    let mut ahead = std::process::Command::new("faketime");
    ahead
        .args(["-f", "+10m", env!("CARGO_BIN_EXE_mechcal"), "--config"])
        .arg(&config)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    let b = Replica::spawn_with(ahead, dir.join("b.log")).ready();
    // Its log's times are ten minutes ahead: the clock is off indeed.
    let first = b.log();
    let logged: chrono::DateTime<chrono::Utc> =
        first.split_whitespace().next().unwrap().parse().unwrap();
    #[allow(clippy::disallowed_methods)] // the test's own clock, to compare with
    let skew = logged - chrono::Utc::now();
    assert!(skew > chrono::Duration::minutes(9), "{skew} {first}");
    // Two renewals of B: it follows all the while.
    std::thread::sleep(Duration::from_secs(5));
    assert!(a.get("/healthz").contains("\"role\":\"leader\""));
    assert!(
        b.get("/healthz").contains("\"role\":\"follower\""),
        "{}",
        b.log()
    );
    drop(a);
    // The new leader ran its catch-up pass: nothing was due again.
    takes_over(&b);
    assert_eq!(b.sent(), 0, "{}", b.log());
    assert_eq!(recipients(dir).len(), 3);
}
