//! Building reminders: 1,000 messages built plain, and built and
//! OpenPGP-encrypted (PGP/MIME) to a Curve25519 and to an RSA-3072 key made
//! by GnuPG (tests/fixtures/openpgp), in one run; messages per second and
//! the ratio to plain.
//!
//! Run: `cargo bench --bench mail`.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use chrono::{DateTime, Utc};
use mechcal::load::subscribers::Subscriber;
use mechcal::openpgp::Cert;
use mechcal::reminders::message::{self, Letterhead};
use mechcal::reminders::plan::{Item, Key, Kind};
use mechcal::render::feed::{FeedOptions, Versions};

const MESSAGES: usize = 1000;

fn main() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let top = Path::new(env!("CARGO_MANIFEST_DIR"));
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
    let key = |name: &str| {
        let text = std::fs::read(top.join("tests/fixtures/openpgp").join(name)).unwrap();
        Arc::new(Cert::check(&text, "2026-12-03T00:00:00Z".parse().unwrap()).unwrap())
    };
    let runs: [(&str, Option<Arc<Cert>>); 3] = [
        ("plain", None),
        ("encrypted, Curve25519", Some(key("cv25519.asc"))),
        ("encrypted, RSA-3072", Some(key("rsa.asc"))),
    ];
    let mut plain_rate = 0.0;
    println!("building {MESSAGES} reminders (text, HTML, .ics), one subscriber each:");
    for (what, cert) in runs {
        let started = Instant::now();
        let mut bytes = 0usize;
        let address_key =
            mechcal::subscriptions::AddressKey::new(b"a benchmark address key of 32 b");
        for i in 0..MESSAGES {
            let mut s = Subscriber::plain(&format!("Subscriber {i}"), &format!("s{i}@example.org"));
            s.openpgp = cert.clone();
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
            bytes += m.formatted().len();
        }
        let secs = started.elapsed().as_secs_f64();
        let rate = MESSAGES as f64 / secs;
        if plain_rate == 0.0 {
            plain_rate = rate;
        }
        println!(
            "  {what:<24} {:>8.1} ms  {rate:>8.0} messages/s  {:>5.1} KiB each  {:.2}x plain's time",
            secs * 1000.0,
            bytes as f64 / MESSAGES as f64 / 1024.0,
            plain_rate / rate
        );
    }
}
