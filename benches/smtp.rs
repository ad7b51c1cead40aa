//! Delivery to a real SMTP server on loopback (Python aiosmtpd): messages per
//! second on one reused connection (as `mechcal remind` sends) against a new
//! connection per message, in one run, over the same messages; and on one
//! implicit-TLS connection (a test CA, trusted through `SSL_CERT_FILE`).
//!
//! Run: `cargo bench --bench smtp` (installs aiosmtpd into
//! target/conformance/venv on first run).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use mechcal::load::config::{SmtpConfig, SmtpTls};
use mechcal::reminders::message::{self, Letterhead};
use mechcal::reminders::plan::{Item, Key, Kind};
use mechcal::reminders::transport::{Smtp, Transport};
use mechcal::render::feed::{FeedOptions, Versions};

// The integration tests' helpers (the venv with aiosmtpd); this bench uses
// a few of them, so the rest are unused here.
#[allow(dead_code)]
#[path = "../tests/it/support.rs"]
mod common;

const MESSAGES: usize = 300;

// Over 100 lines: one script, top to bottom — start the SMTP server, send with each client, print the ratio.
fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    let python = common::python_with(&["aiosmtpd==1.4.6", "cryptography==50.0.2"]);
    let start_server = |name: &str, modes: &[String]| -> (std::process::Child, u16) {
        let dir = tmp.path().join(name);
        let port_file = dir.join("port");
        std::fs::create_dir_all(&dir).unwrap();
        let server = Command::new(&python)
            .arg(top.join("tests/smtp/server.py"))
            .arg(dir.join("received"))
            .arg(&port_file)
            .args(modes)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let start = Instant::now();
        let port: u16 = loop {
            if let Some(p) = std::fs::read_to_string(&port_file)
                .ok()
                .and_then(|p| p.trim().parse().ok())
            {
                break p;
            }
            assert!(start.elapsed() < Duration::from_secs(20));
            std::thread::sleep(Duration::from_millis(50));
        };
        (server, port)
    };
    let address_key = mechcal::subscriptions::AddressKey::new(b"a benchmark address key of 32 b");
    // A test CA and certificate for the TLS run, trusted through SSL_CERT_FILE.
    let certs = tmp.path().join("certs");
    assert!(Command::new(&python)
        .arg(top.join("tests/smtp/make_certs.py"))
        .arg(&certs)
        .status()
        .unwrap()
        .success());
    std::env::set_var("SSL_CERT_FILE", certs.join("ca.pem"));
    let (mut server, port) = start_server("plain", &[]);
    let (mut tls_server, tls_port) =
        start_server("tls", &[format!("implicit:{}", certs.display())]);

    // Real reminder messages, built by mechcal from the sample data.
    let catalog = mechcal::load::deadlines::load(
        &top.join("deadlines"),
        mechcal::load::deadlines::DEFAULT_MAX_BYTES,
        chrono_tz::Tz::Europe__Zurich,
        mechcal::model::schedule::Window::around("2027-06-01T00:00:00Z".parse().unwrap(), 365, 730),
    )
    .catalog
    .unwrap();
    let d = catalog
        .get("example-cedaw-alternative-report-2027")
        .unwrap();
    let now: DateTime<Utc> = "2027-01-08T08:00:00Z".parse().unwrap();
    let from: lettre::message::Mailbox =
        "mechcal <reminders@calendar.example.org>".parse().unwrap();
    let opts = FeedOptions {
        name: "Deadlines".into(),
        domain: "calendar.example.org".into(),
        lang: Default::default(),
        alarm: None,
        refresh: chrono::Duration::hours(6),
        cutoff: DateTime::UNIX_EPOCH,
    };
    let versions = Versions::default();
    let messages: Vec<(String, lettre::Message)> = (0..MESSAGES)
        .map(|i| {
            let s = mechcal::load::subscribers::Subscriber {
                name: format!("Subscriber {i}"),
                email: format!("s{i}@example.org"),
                filter: Default::default(),
                remind_days: vec![7],
                timezone: chrono_tz::Tz::Europe__Zurich,
                language: Default::default(),
                digest: true,
                discreet: false,
                openpgp: None,
                line: 1,
                key: format!("s{i}@example.org"),
                origin: Default::default(),
                link_value: 0,
            };
            let item = Item {
                key: Key {
                    subscriber: s.key.as_str().into(),
                    deadline: d.id.as_str().into(),
                    due_at: d.due_at,
                    kind: Kind::Remind(7),
                },
                days_left: 7,
                moved_from: None,
            };
            let head = Letterhead {
                from: &from,
                domain: "calendar.example.org",
                unsubscribe_url: "https://calendar.example.org/unsubscribe?token=x",
                manage_url: "https://calendar.example.org/manage?token=y",
                list_id: "<reminders.calendar.example.org>",
                feed: &opts,
                subject_prefix: "Deadlines",
                versions: &versions,
            };
            let id = message::message_id(&[&item.key], "calendar.example.org", &address_key);
            let m = message::build(&catalog, &s, &[(&item, d)], &head, &id, now).unwrap();
            (id, m)
        })
        .collect();

    let config = SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        tls: SmtpTls::None,
        username: None,
        password_env: None,
        password_file: None,
        timeout: Duration::from_secs(30),
        max_attempts: 1,
        retry_seconds: vec![],
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let tls_config = SmtpConfig {
        host: "localhost".into(),
        port: tls_port,
        tls: SmtpTls::Implicit,
        ..config.clone()
    };
    let (reused, fresh, tls) = runtime.block_on(async {
        let t = Instant::now();
        let smtp = Smtp::new(&config).unwrap();
        for (id, m) in &messages {
            smtp.send(id, m).await.unwrap();
        }
        let reused = t.elapsed();
        drop(smtp);
        let t = Instant::now();
        for (id, m) in &messages {
            // A transport per message: a new connection (and EHLO) each time.
            let smtp = Smtp::new(&config).unwrap();
            smtp.send(id, m).await.unwrap();
        }
        let fresh = t.elapsed();
        let t = Instant::now();
        let smtp = Smtp::new(&tls_config).unwrap();
        for (id, m) in &messages {
            smtp.send(id, m).await.unwrap();
        }
        (reused, fresh, t.elapsed())
    });
    for s in [&mut server, &mut tls_server] {
        let _ = s.kill();
        let _ = s.wait();
    }
    let rate = |d: Duration| MESSAGES as f64 / d.as_secs_f64();
    println!("delivery of {MESSAGES} reminder messages to aiosmtpd on loopback:");
    println!(
        "  one connection, reused:      {:8.1} messages/s",
        rate(reused)
    );
    println!(
        "  a new connection per message: {:7.1} messages/s",
        rate(fresh)
    );
    println!("  ratio reused / new: {:.2}", rate(reused) / rate(fresh));
    println!(
        "  implicit TLS, one connection: {:7.1} messages/s",
        rate(tls)
    );
}
