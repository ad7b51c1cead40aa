//! Planning one reminder run for 10,000 subscribers × 1,000 deadlines
//! (target: < 200 ms on the 2-core CI machine).
//!
//! Run: `cargo bench --bench plan`

mod common;

use std::collections::HashSet;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use mechcal::i18n::Lang;
use mechcal::load::subscribers::Subscriber;
use mechcal::model::catalog::{Catalog, Filter};
use mechcal::reminders::plan::{self, Delivery, Ledger};

fn main() {
    // Passes run in `serve`: its allocator settings.
    mechcal::os::allocator::for_serving();
    divan::main();
}

const TOPICS: [&str; 6] = [
    "women",
    "discrimination",
    "elections",
    "torture",
    "children",
    "civil-society",
];
const MECHANISMS: [&str; 6] = ["upr", "cedaw", "cerd", "crpd", "cat", "crc"];

fn catalog() -> (tempfile::TempDir, Catalog) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("deadlines");
    common::generate(&root, 1_000);
    let catalog = mechcal::load::deadlines::load(
        &root,
        mechcal::load::deadlines::DEFAULT_MAX_BYTES,
        Tz::Europe__Zurich,
        common::window(),
    )
    .catalog
    .expect("valid data");
    (tmp, catalog)
}

/// Subscribers with a mix of filters, offsets, zones and digest settings.
fn subscribers(n: usize) -> Vec<Subscriber> {
    (0..n)
        .map(|i| {
            let topics = match i % 4 {
                0 => vec![],
                1 => vec![TOPICS[i % 6].to_string()],
                _ => vec![TOPICS[i % 6].to_string(), TOPICS[(i + 1) % 6].to_string()],
            };
            let mechanisms = if i % 3 == 0 {
                vec![MECHANISMS[i % 6].to_string()]
            } else {
                vec![]
            };
            Subscriber {
                name: format!("Subscriber {i}"),
                email: format!("subscriber-{i}@example.org"),
                filter: Filter { topics, mechanisms },
                remind_days: if i % 5 == 0 {
                    vec![60, 14, 3]
                } else {
                    vec![30, 7, 1]
                },
                timezone: [Tz::Europe__Zurich, Tz::Europe__Minsk, Tz::America__New_York][i % 3],
                language: if i % 2 == 0 {
                    Lang::EN
                } else {
                    Lang::parse("ru").unwrap()
                },
                digest: i % 7 != 0,
                discreet: false,
                openpgp: None,
                line: i + 1,
                key: format!("subscriber-{i}@example.org"),
                origin: Default::default(),
                link_value: 0,
            }
        })
        .collect()
}

/// A day in the middle of the generated deadlines (2027–2029), with an
/// empty ledger: every offset due today is a catch-up.
#[divan::bench(sample_count = 20)]
fn plan_10k_subscribers_1k_deadlines(bencher: divan::Bencher) {
    let (_tmp, catalog) = catalog();
    let subs = subscribers(10_000);
    let now: DateTime<Utc> = "2027-06-01T06:00:00Z".parse().unwrap();
    let ledger = Ledger::default();
    let planned = plan::plan(&catalog, &subs, &ledger, &HashSet::new(), now);
    assert!(!planned.messages.is_empty());
    bencher.bench(|| {
        plan::plan(
            &catalog,
            &subs,
            &ledger,
            &HashSet::new(),
            divan::black_box(now),
        )
    });
}

/// Issue 13: 10,000 entries of which a third have 3 milestones and a tenth
/// repeat yearly (about 20,000 items), the same subscribers and day.
fn scheduled() -> (tempfile::TempDir, Catalog) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("deadlines");
    common::generate_with_schedules(&root, 10_000);
    let catalog = mechcal::load::deadlines::load(
        &root,
        mechcal::load::deadlines::DEFAULT_MAX_BYTES,
        Tz::Europe__Zurich,
        common::window(),
    )
    .catalog
    .expect("valid data");
    (tmp, catalog)
}

/// As a pass plans: one subscriber's part at a time, each dropped before
/// the next (a pass sends it meanwhile). The catch-up decides about
/// 1.3 million items for 10,000 subscribers.
#[divan::bench(sample_count = 20)]
fn plan_10k_subscribers_10k_entries_with_schedules(bencher: divan::Bencher) {
    let (_tmp, catalog) = scheduled();
    let subs = subscribers(10_000);
    let now: DateTime<Utc> = "2027-06-01T06:00:00Z".parse().unwrap();
    let ledger = Ledger::default();
    let whole = plan::plan(&catalog, &subs, &ledger, &HashSet::new(), now);
    let items: usize = whole.messages.iter().map(|m| m.items.len()).sum();
    assert!(items > 1_000_000, "{items} items");
    let opted_out = HashSet::new();
    bencher.bench(|| {
        let mut items = 0;
        for part in plan::Planner::new(&catalog, &subs, &ledger, &opted_out, divan::black_box(now))
        {
            items += part.messages.iter().map(|m| m.items.len()).sum::<usize>();
            items += part.skipped.len();
        }
        items
    });
}

/// The same plan held whole in memory (`mechcal remind --dry-run` and the
/// tests), for comparison.
#[divan::bench(sample_count = 20)]
fn plan_10k_subscribers_10k_entries_with_schedules_whole(bencher: divan::Bencher) {
    let (_tmp, catalog) = scheduled();
    let subs = subscribers(10_000);
    let now: DateTime<Utc> = "2027-06-01T06:00:00Z".parse().unwrap();
    let ledger = Ledger::default();
    bencher.bench(|| {
        plan::plan(
            &catalog,
            &subs,
            &ledger,
            &HashSet::new(),
            divan::black_box(now),
        )
    });
}

/// The next day's run, with the ledger of the first run: the steady state.
#[divan::bench(sample_count = 20)]
fn plan_next_day_with_ledger(bencher: divan::Bencher) {
    let (_tmp, catalog) = catalog();
    let subs = subscribers(10_000);
    let first: DateTime<Utc> = "2027-06-01T06:00:00Z".parse().unwrap();
    let planned = plan::plan(&catalog, &subs, &Ledger::default(), &HashSet::new(), first);
    let mut ledger = Ledger::default();
    for m in &planned.messages {
        for i in &m.items {
            ledger.rows.insert(i.key.clone(), Delivery::Sent);
        }
    }
    for k in &planned.skipped {
        ledger.rows.insert(k.clone(), Delivery::Skipped);
    }
    let now: DateTime<Utc> = "2027-06-02T06:00:00Z".parse().unwrap();
    bencher.bench(|| {
        plan::plan(
            &catalog,
            &subs,
            &ledger,
            &HashSet::new(),
            divan::black_box(now),
        )
    });
}

/// 10,000 self-service subscribers: stored sealed in the state database,
/// as sign-ups leave them, with the same mix of choices as above.
fn stored(n: usize) -> (mechcal::state::Database, mechcal::subscriptions::AddressKey) {
    use mechcal::subscriptions::{Choice, Sealed, Status, Stored};
    let key = mechcal::subscriptions::AddressKey::new(b"a benchmark address key of 32 b");
    let mut db = mechcal::state::Database::in_memory().unwrap();
    let now: DateTime<Utc> = "2027-01-01T00:00:00Z".parse().unwrap();
    for s in subscribers(n) {
        let stored = Stored {
            id: key.id(&s.email),
            status: Status::Active,
            sealed: Sealed {
                email: s.email.clone(),
                choice: Choice {
                    topics: s.filter.topics.clone(),
                    mechanisms: s.filter.mechanisms.clone(),
                    language: s.language.code().to_string(),
                    remind_days: s.remind_days.clone(),
                    digest: s.digest,
                    discreet: false,
                    openpgp_key: String::new(),
                },
            },
            created_at: now,
            expires_at: None,
            paused_until: None,
            link_value: 0,
        };
        db.save_subscription(&key, &stored, now).unwrap();
    }
    (db, key)
}

/// What a pass does for them: read and open the 10,000 rows, merge them
/// with the (empty) subscribers file, plan — the same plan as
/// `plan_10k_subscribers_1k_deadlines`, plus the database and the AEAD.
#[divan::bench(sample_count = 20)]
fn open_and_plan_10k_self_service_subscribers_1k_deadlines(bencher: divan::Bencher) {
    let (_tmp, catalog) = catalog();
    let (db, key) = stored(10_000);
    // divan wants a shareable closure; a connection is not Sync.
    let db = std::sync::Mutex::new(db);
    let config = mechcal::load::config::Config::defaults("deadlines".into());
    let now: DateTime<Utc> = "2027-06-01T06:00:00Z".parse().unwrap();
    let ledger = Ledger::default();
    bencher.bench(|| {
        let subs = mechcal::reminders::pass::current_subscribers(
            &db.lock().unwrap(),
            &key,
            &[],
            &catalog,
            &config,
            divan::black_box(now),
        )
        .unwrap();
        assert_eq!(subs.len(), 10_000);
        plan::plan(&catalog, &subs, &ledger, &HashSet::new(), now)
    });
}

/// Only reading and opening the 10,000 sealed rows and merging them.
#[divan::bench(sample_count = 20)]
fn open_10k_self_service_subscribers(bencher: divan::Bencher) {
    let (_tmp, catalog) = catalog();
    let (db, key) = stored(10_000);
    // divan wants a shareable closure; a connection is not Sync.
    let db = std::sync::Mutex::new(db);
    let config = mechcal::load::config::Config::defaults("deadlines".into());
    let now: DateTime<Utc> = "2027-06-01T06:00:00Z".parse().unwrap();
    bencher.bench(|| {
        mechcal::reminders::pass::current_subscribers(
            &db.lock().unwrap(),
            &key,
            &[],
            &catalog,
            &config,
            divan::black_box(now),
        )
        .unwrap()
    });
}
