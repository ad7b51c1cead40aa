//! Delivery through a real SMTP server on loopback (Python aiosmtpd, installed
//! by the test into target/conformance/venv), driving the real binary:
//! a normal pass, the same pass twice, downtime catch-up, a moved and a
//! cancelled deadline, 4xx then recovery, 5xx for one recipient, the
//! connection dropped during DATA, and the process killed mid-send and
//! restarted. Every received message must parse with Python's `email` and
//! its `.ics` part with Python `icalendar`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::support as common;
use common::{copy_dir, root};

/// The Python of target/conformance/venv, with aiosmtpd and icalendar.
fn python() -> PathBuf {
    common::python_with(&[
        "aiosmtpd==1.4.6",
        "icalendar==7.3.0",
        "cryptography==50.0.2",
    ])
}

/// A test CA and a certificate for `localhost` and 127.0.0.1 signed by
/// it, in `dir`: `ca.pem`, `server.pem`, `server.key`.
pub(crate) fn make_certs(dir: &Path) {
    let made = Command::new(python())
        .arg(root().join("tests/smtp/make_certs.py"))
        .arg(dir)
        .status()
        .unwrap();
    assert!(made.success(), "make_certs.py: {made}");
}

pub(crate) struct SmtpServer {
    child: Child,
    pub(crate) port: u16,
    out: PathBuf,
}

impl SmtpServer {
    pub(crate) fn start(dir: &Path, modes: &[&str]) -> SmtpServer {
        let out = dir.join("received");
        let port_file = dir.join("smtp-port");
        let _ = fs::remove_file(&port_file);
        let child = Command::new(python())
            .arg(root().join("tests/smtp/server.py"))
            .arg(&out)
            .arg(&port_file)
            .args(modes)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        let port = loop {
            if let Ok(p) = fs::read_to_string(&port_file) {
                if let Ok(p) = p.trim().parse() {
                    break p;
                }
            }
            assert!(
                start.elapsed() < Duration::from_secs(20),
                "the SMTP server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        SmtpServer { child, port, out }
    }

    /// Parsed messages, one JSON value each.
    pub(crate) fn messages(&self) -> Vec<serde_json::Value> {
        let out = Command::new(python())
            .arg(root().join("tests/smtp/check_messages.py"))
            .arg(&self.out)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "a message does not parse:\n{}",
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A working directory with the sample deadlines (copied, so tests can edit
/// them), the example subscribers and a config for `port`.
fn setup(dir: &Path, port: u16, extra: &str) -> PathBuf {
    setup_relay(dir, "127.0.0.1", port, "none", extra)
}

/// [`setup`] for a relay at `host` with `tls` (`none`, `starttls`, `implicit`).
fn setup_relay(dir: &Path, host: &str, port: u16, tls: &str, extra: &str) -> PathBuf {
    copy_dir(&root().join("deadlines"), &dir.join("deadlines"));
    let subs = dir.join("subscribers.toml");
    common::example_subscribers(&subs);
    let config = dir.join("mechcal.toml");
    fs::write(
        &config,
        format!(
            "[calendar]\ndomain = \"calendar.example.org\"\nbase_url = \"https://calendar.example.org/\"\n\
             [data]\ndeadlines = \"deadlines\"\n[state]\npath = \"state.sqlite\"\n\
             [reminders]\nsubscribers = \"subscribers.toml\"\nsecret_file = \"secret\"\n\
             [mail]\nfrom = \"mechcal <reminders@calendar.example.org>\"\ntransport = \"smtp\"\nhost = \"{host}\"\n\
             port = {port}\ntls = \"{tls}\"\nretry_seconds = [0]\n{extra}"
        ),
    )
    .unwrap();
    config
}

fn remind(config: &Path, now: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mechcal"))
        .args(["--config", config.to_str().unwrap(), "remind", "--now", now])
        .output()
        .unwrap()
}

fn summary(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).trim_end().to_string()
}

#[test]
// Over 100 lines: one scenario, step by step, each step building on the state the last left.
fn normal_pass_twice_catch_up_moved_and_cancelled() {
    let tmp = tempfile::tempdir().unwrap();
    let server = SmtpServer::start(tmp.path(), &[]);
    let config = setup(tmp.path(), server.port, "timeout_seconds = 5\n");

    // Downtime catch-up on 2027-01-08: 30- and 14-day reminders are both
    // due; one message per subscriber, the smaller offset only.
    let out = remind(&config, "2027-01-08T08:00:00Z");
    assert_eq!(
        summary(&out),
        "sent 3 messages (0 resent after an interrupted pass), skipped 3 reminders, failed 0, deferred 0",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = server.messages();
    assert_eq!(got.len(), 3);
    for m in &got {
        assert_eq!(m["auto_submitted"], "auto-generated");
        assert_eq!(m["one_click"], "List-Unsubscribe=One-Click");
        assert!(m["list_unsubscribe"]
            .as_str()
            .unwrap()
            .starts_with("<https://calendar.example.org/unsubscribe?token="));
        assert_eq!(
            m["parts"],
            serde_json::json!([
                "multipart/mixed",
                "multipart/alternative",
                "text/plain",
                "text/html",
                "text/calendar"
            ])
        );
        assert!(m["uids"].as_array().unwrap().contains(&serde_json::json!(
            "example-cedaw-alternative-report-2027@calendar.example.org"
        )));
    }
    let ru = got
        .iter()
        .find(|m| m["to"] == "womens-rights@example.org")
        .unwrap();
    assert_eq!(
        ru["subject"],
        "[mechcal] CEDAW — Пример: альтернативный доклад в КЛДЖ срок через 7 дней (15 января 2027)"
    );

    // The same pass again: nothing twice.
    let out = remind(&config, "2027-01-08T08:05:00Z");
    assert!(
        summary(&out).starts_with("sent 0 messages"),
        "{}",
        summary(&out)
    );
    assert_eq!(server.messages().len(), 3);

    // Moved: the CEDAW example is pushed back a month.
    let file = tmp.path().join("deadlines/examples/2026-2027.toml");
    let text = fs::read_to_string(&file).unwrap();
    fs::write(&file, text.replace("due = 2027-01-15", "due = 2027-02-15")).unwrap();
    let out = remind(&config, "2027-01-09T08:00:00Z");
    assert!(
        summary(&out).starts_with("sent 3 messages"),
        "{}",
        summary(&out)
    );
    let moved: Vec<_> = server.messages().into_iter().skip(3).collect();
    assert!(
        moved.iter().all(
            |m| m["subject"].as_str().unwrap().contains("deadline moved")
                || m["subject"].as_str().unwrap().contains("срок перенесён")
        ),
        "{moved:?}"
    );

    // Cancelled: those reminded hear of it once.
    let text = fs::read_to_string(&file).unwrap();
    fs::write(
        &file,
        text.replace(
            "remind_days = [30, 14, 3]",
            "remind_days = [30, 14, 3]\nstatus = \"cancelled\"",
        ),
    )
    .unwrap();
    let out = remind(&config, "2027-01-10T08:00:00Z");
    assert!(
        summary(&out).starts_with("sent 3 messages"),
        "{}",
        summary(&out)
    );
    let all = server.messages();
    assert!(all[6..].iter().all(|m| {
        let s = m["subject"].as_str().unwrap();
        s.contains("cancelled") || s.contains("отменено")
    }));
    let out = remind(&config, "2027-01-11T08:00:00Z");
    assert!(
        summary(&out).starts_with("sent 0 messages"),
        "{}",
        summary(&out)
    );
}

#[test]
fn tempfail_then_recovery_and_a_dropped_connection() {
    let tmp = tempfile::tempdir().unwrap();
    // Two 451s and one connection dropped during DATA; one retry per pass.
    let server = SmtpServer::start(tmp.path(), &["tempfail:2", "drop:1"]);
    let config = setup(tmp.path(), server.port, "timeout_seconds = 5\n");
    let out = remind(&config, "2027-01-08T08:00:00Z");
    let first = summary(&out);
    assert_eq!(out.status.code(), Some(1), "{first}");
    assert!(first.contains("deferred "), "{first}");
    let delivered = server.messages().len();
    // The next pass sends what was deferred, under the same Message-IDs.
    let out = remind(&config, "2027-01-08T09:00:00Z");
    assert_eq!(out.status.code(), Some(0), "{}", summary(&out));
    let got = server.messages();
    assert_eq!(
        got.len(),
        3,
        "first pass delivered {delivered}; then {}",
        summary(&out)
    );
    let mut ids: Vec<&str> = got
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 3, "no duplicates");
}

#[test]
fn permanent_refusal_fails_one_recipient_only() {
    let tmp = tempfile::tempdir().unwrap();
    let server = SmtpServer::start(tmp.path(), &["reject:lawyer@example.org"]);
    let config = setup(
        tmp.path(),
        server.port,
        "timeout_seconds = 5\nmax_attempts = 2\n",
    );
    let out = remind(&config, "2027-01-08T08:00:00Z");
    assert_eq!(summary(&out), "sent 2 messages (0 resent after an interrupted pass), skipped 3 reminders, failed 0, deferred 1");
    // Refused again at the next pass: now failed for good, and left alone.
    let out = remind(&config, "2027-01-08T09:00:00Z");
    assert!(
        summary(&out).contains("failed 1, deferred 0"),
        "{}",
        summary(&out)
    );
    let out = remind(&config, "2027-01-08T10:00:00Z");
    assert!(
        summary(&out).starts_with("sent 0 messages"),
        "{}",
        summary(&out)
    );
    assert!(
        summary(&out).ends_with("failed 0, deferred 0"),
        "{}",
        summary(&out)
    );
    let to: Vec<String> = server
        .messages()
        .iter()
        .map(|m| m["to"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(to.len(), 2);
    assert!(!to.contains(&"lawyer@example.org".to_string()));
}

#[test]
fn killed_mid_send_and_restarted_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    // The server takes 3 s to acknowledge each message: kill mechcal while
    // it waits for the first acknowledgement.
    let slow = SmtpServer::start(tmp.path(), &["slow:3"]);
    let config = setup(tmp.path(), slow.port, "timeout_seconds = 30\n");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mechcal"))
        .args([
            "--config",
            config.to_str().unwrap(),
            "remind",
            "--now",
            "2027-01-08T08:00:00Z",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let count = tmp.path().join("received/data-count");
    let start = Instant::now();
    while !count.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no DATA reached the server"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    drop(slow);

    // Restarted against a prompt server: the interrupted message goes out
    // again with its Message-ID, the rest as planned.
    let server = SmtpServer::start(tmp.path(), &[]);
    let config = setup(tmp.path(), server.port, "timeout_seconds = 5\n");
    let out = remind(&config, "2027-01-08T08:10:00Z");
    assert_eq!(out.status.code(), Some(0), "{}", summary(&out));
    assert!(
        summary(&out).contains("(1 resent after an interrupted pass)"),
        "{}",
        summary(&out)
    );
    let got = server.messages();
    let mut ids: Vec<&str> = got
        .iter()
        .map(|m| m["message_id"].as_str().unwrap())
        .collect();
    ids.sort();
    // Three subscribers, each exactly one message id; the slow server may
    // also have stored the interrupted copy (a duplicate with the same id).
    let mut unique = ids.clone();
    unique.dedup();
    assert_eq!(unique.len(), 3, "{ids:?}");
    assert!(ids.len() <= 4, "{ids:?}");
}

#[test]
// Over 100 lines: one scenario, step by step, each step building on the state the last left.
fn sigterm_during_a_pass_in_serve_loses_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // One deadline five days ahead, five subscribers reminded seven days
    // before: the start-up pass of `serve` owes each of them one message.
    common::deadline_five_days_ahead(t, 5);
    let config_for = |port: u16| {
        let config = t.join("mechcal.toml");
        fs::write(
            &config,
            format!(
                "[calendar]\ndomain = \"calendar.example.org\"\n[data]\ndeadlines = \"deadlines\"\n\
                 [state]\npath = \"state.sqlite\"\n[reminders]\nsubscribers = \"subscribers.toml\"\n\
                 secret_file = \"secret\"\n[mail]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\n\
                 port = {port}\ntls = \"none\"\ntimeout_seconds = 30\nretry_seconds = [0]\n"
            ),
        )
        .unwrap();
        config
    };

    // The relay takes 2 s to acknowledge each message; SIGTERM arrives
    // while it holds the first.
    fs::create_dir_all(t.join("slow")).unwrap();
    let slow = SmtpServer::start(&t.join("slow"), &["slow:2"]);
    let config = config_for(slow.port);
    let mut child = common::serve_command(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let log = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = std::io::Read::read_to_string(&mut std::io::BufReader::new(stderr), &mut s);
        s
    });
    let count = t.join("slow/received/data-count");
    let start = Instant::now();
    while !count.exists() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "no DATA reached the relay"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let term = Instant::now();
    assert!(Command::new("kill")
        .args(["-s", "TERM", &child.id().to_string()])
        .status()
        .unwrap()
        .success());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(
            term.elapsed() < Duration::from_secs(10),
            "serve did not stop within 10 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let log = log.join().unwrap();
    assert!(status.success(), "{log}");
    // The message in flight was finished and recorded; no other was begun.
    assert!(log.contains("interrupted=true"), "{log}");
    let first = slow.messages();
    assert_eq!(first.len(), 1, "{log}");
    drop(slow);

    // The next run sends the other four, and nothing twice.
    fs::create_dir_all(t.join("fast")).unwrap();
    let fast = SmtpServer::start(&t.join("fast"), &[]);
    let config = config_for(fast.port);
    let out = Command::new(env!("CARGO_BIN_EXE_mechcal"))
        .args(["--config", config.to_str().unwrap(), "remind"])
        .output()
        .unwrap();
    assert_eq!(
        summary(&out),
        "sent 4 messages (0 resent after an interrupted pass), skipped 0 reminders, failed 0, deferred 0",
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut to: Vec<String> = first
        .iter()
        .chain(fast.messages().iter())
        .map(|m| m["to"].as_str().unwrap().to_string())
        .collect();
    to.sort();
    assert_eq!(
        to,
        (0..5)
            .map(|i| format!("s{i}@example.org"))
            .collect::<Vec<_>>()
    );
}

/// TLS to the relay is required and verified, never skipped: STARTTLS and
/// implicit TLS against a real TLS server (aiosmtpd with a test CA, trusted
/// through `SSL_CERT_FILE`), and no message at all — not one in plain text —
/// when the certificate is not trusted or the relay offers no STARTTLS.
#[test]
// Over 100 lines: one scenario, step by step, each step building on the state the last left.
fn mail_goes_over_verified_tls_or_not_at_all() {
    let tmp = tempfile::tempdir().unwrap();
    let certs = tmp.path().join("certs");
    make_certs(&certs);
    // Another CA, which did not sign the relay's certificate.
    let other = tmp.path().join("other-certs");
    make_certs(&other);
    let untrusted = other.join("ca.pem");
    let run = |name: &str, server_modes: &[String], tls: &str, ca: &Path| {
        let dir = tmp.path().join(name);
        fs::create_dir_all(&dir).unwrap();
        let modes: Vec<&str> = server_modes.iter().map(String::as_str).collect();
        let server = SmtpServer::start(&dir, &modes);
        let config = setup_relay(
            &dir,
            "localhost",
            server.port,
            tls,
            "timeout_seconds = 10\n",
        );
        let out = Command::new(env!("CARGO_BIN_EXE_mechcal"))
            .args(["--config", config.to_str().unwrap()])
            .args(["remind", "--now", "2027-01-08T08:00:00Z"])
            .env("SSL_CERT_FILE", ca)
            .env_remove("SSL_CERT_DIR")
            .output()
            .unwrap();
        let tls_marks: Vec<String> = (1..=3)
            .filter_map(|i| fs::read_to_string(dir.join(format!("received/{i:03}.tls"))).ok())
            .collect();
        let data = dir.join("received/data-count").exists();
        (out, tls_marks, data, server)
    };
    let ca = certs.join("ca.pem");
    let starttls = format!("starttls:{}", certs.display());
    let implicit = format!("implicit:{}", certs.display());

    for (name, mode, tls) in [
        ("starttls", &starttls, "starttls"),
        ("implicit", &implicit, "implicit"),
    ] {
        let (out, marks, _, server) = run(name, std::slice::from_ref(mode), tls, &ca);
        assert_eq!(
            summary(&out),
            "sent 3 messages (0 resent after an interrupted pass), skipped 3 reminders, failed 0, deferred 0",
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            marks,
            ["yes", "yes", "yes"],
            "{name}: every message over TLS"
        );
        assert_eq!(server.messages().len(), 3);
    }

    // A certificate from an unknown CA: nothing is sent, the reminders wait.
    for (name, mode, tls) in [
        ("starttls-untrusted", &starttls, "starttls"),
        ("implicit-untrusted", &implicit, "implicit"),
    ] {
        let (out, marks, data, _server) = run(name, std::slice::from_ref(mode), tls, &untrusted);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{name}: {stderr}");
        assert!(
            summary(&out).ends_with("failed 0, deferred 3"),
            "{name}: {}",
            summary(&out)
        );
        assert!(
            stderr.to_lowercase().contains("certificate"),
            "{name}: {stderr}"
        );
        assert!(
            marks.is_empty() && !data,
            "{name}: a message reached the relay"
        );
    }

    // No CA certificates at all: implicit TLS refuses to start.
    let empty = tmp.path().join("empty.pem");
    fs::write(&empty, "").unwrap();
    let (out, _, data, _server) = run(
        "implicit-no-roots",
        std::slice::from_ref(&implicit),
        "implicit",
        &empty,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("no CA certificates to verify the SMTP relay with"));
    assert!(!data);

    // `starttls` against a relay that offers no STARTTLS: no plain-text
    // fallback.
    let (out, marks, data, _server) = run("no-starttls", &[], "starttls", &ca);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        summary(&out).ends_with("failed 0, deferred 3"),
        "{}",
        summary(&out)
    );
    assert!(
        marks.is_empty() && !data,
        "a message went out in plain text"
    );
}

/// A sign-up's confirmation mail goes through the SMTP relay like the
/// reminders: it arrives, parses, is transactional (no List-Unsubscribe),
/// and its link confirms.
#[test]
fn a_sign_up_is_confirmed_through_the_relay() {
    use crate::signup::{self, Site};
    let relay = tempfile::tempdir().unwrap();
    let server = SmtpServer::start(relay.path(), &[]);
    let tmp = tempfile::tempdir().unwrap();
    let config = setup(tmp.path(), server.port, "\n[subscriptions]\nopen = true\n");
    let site = Site::serve(tmp, config, signup::free_port());
    // Not a browser: no Origin (base_url is the public name, not loopback).
    let (_, form) = signup::get(&format!("{}subscribe", site.base));
    let token = signup::form_token(&form);
    let (status, body) = signup::post_from(
        None,
        &format!("{}subscribe", site.base),
        &[
            ("email", "relay.user@example.org"),
            ("topic", "upr"),
            ("token", &token),
        ],
    );
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    let start = Instant::now();
    let confirm = loop {
        let got: Vec<_> = signup::mails(&server.out)
            .into_iter()
            .filter(|m| m.to == "relay.user@example.org")
            .collect();
        if let Some(m) = got.into_iter().next() {
            break m;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no confirmation over SMTP"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(
        !confirm.headers.contains("List-Unsubscribe"),
        "{}",
        confirm.headers
    );
    assert!(confirm.headers.contains("Auto-Submitted: auto-generated"));
    let parsed = server.messages();
    assert!(parsed.iter().any(|m| m["to"] == "relay.user@example.org"));
    // base_url is the public address; the test reaches the same server on loopback.
    let link = signup::link(
        &confirm.text,
        "https://calendar.example.org/subscribe/confirm?token=",
    )
    .replace("https://calendar.example.org/", &site.base);
    let (_, page) = signup::get(&link);
    let (status, page) = signup::post_from(None, &signup::action(&site, &page), &[]);
    assert_eq!(status, reqwest::StatusCode::OK, "{page}");
    assert!(page.contains("Reminders confirmed"), "{page}");
}
