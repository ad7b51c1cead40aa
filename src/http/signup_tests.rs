//! The sign-up post in process: every kind of address is answered alike,
//! before the state database is touched.

use std::path::Path;
use std::time::Duration as StdDuration;

use axum::http::Request;
use tower_service::Service as _;

use super::*;
use crate::http::{router, Snapshot};
use crate::load::subscribers::Subscriber;
use crate::reminders::tokens::Secret;
use crate::state::Database;
use crate::subscriptions::{AddressKey, Choice};

const BASE: &str = "https://calendar.example.org/";
const NOW: &str = "2027-01-05T10:00:00Z";

fn now() -> DateTime<Utc> {
    NOW.parse().unwrap()
}

fn choice() -> Choice {
    Choice {
        topics: vec!["women".into()],
        mechanisms: vec![],
        language: "en".into(),
        remind_days: vec![7],
        digest: false,
        discreet: false,
        openpgp_key: String::new(),
    }
}

/// A server with sign-up open on `dir`, whose state holds a pending, a
/// confirmed and an OpenPGP subscriber, and whose file lists one.
fn app(dir: &Path) -> Arc<App> {
    let mut config = crate::load::config::Config::defaults(dir.join("deadlines"));
    config.calendar.base_url = BASE.into();
    config.calendar.domain = "calendar.example.org".into();
    config.subscriptions.open = true;
    config.subscriptions.per_client_per_hour = 1000;
    config.state.path = dir.join("state.sqlite");
    config.mail.transport = crate::load::config::Transport::Maildir(dir.join("maildir"));
    let key = AddressKey::new(b"an address key of thirty-two b..");
    let secret = Secret::new(*b"0123456789abcdef0123456789abcdef");
    let mut db = Database::open_state(&config.state).unwrap();
    let at = now() - Duration::hours(2);
    let store = |db: &mut Database, email: &str, choice: Choice, confirm: bool| {
        let id = key.id(email);
        let json = serde_json::to_vec(&Sealed {
            email: email.into(),
            choice,
        })
        .unwrap();
        db.sign_up(&id, &key.seal(&id, &json), at + Duration::hours(48), 77, at)
            .unwrap();
        if confirm {
            db.confirm(&id, 77, false, at).unwrap();
        }
    };
    store(&mut db, "pending@example.org", choice(), false);
    store(&mut db, "confirmed@example.org", choice(), true);
    let openpgp = Choice {
        openpgp_key: include_str!("../../tests/fixtures/openpgp/cv25519.asc").into(),
        ..choice()
    };
    store(&mut db, "openpgp@example.org", openpgp, true);
    let file = [Subscriber::plain("Staff", "file@example.org")];
    let reminders = Reminders::new(secret, key, db, &file).unwrap();
    let snapshot = Snapshot {
        catalog: Arc::new(crate::testing::catalog(&[])),
        versions: Default::default(),
        config: Arc::new(config),
        signup: None,
    };
    App::with_reminders(snapshot, Arc::new(now), Some(reminders))
}

fn post(email: &str, secret: &Secret) -> Request<Body> {
    let token = links::form_token(secret, now());
    let body = format!(
        "email={}&token={token}&topic=women",
        email.replace('@', "%40")
    );
    Request::post("/subscribe")
        .header(header::ORIGIN, "https://calendar.example.org")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(Body::from(body))
        .unwrap()
}

const KINDS: [&str; 5] = [
    "new@example.org",
    "pending@example.org",
    "confirmed@example.org",
    "file@example.org",
    "openpgp@example.org",
];

/// The state database is held while every kind of address is posted:
/// each is answered all the same — so none of them read or wrote it
/// before the answer (a lookup would wait for the lock, and the answer
/// with it). Once the database is free, the work left for after the
/// answer is done: the new address is stored, and everyone gets a mail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
// Holding the lock across the posts is the point: whatever needs the
// database before answering waits, and the answer with it.
#[allow(clippy::await_holding_lock)]
async fn every_kind_of_address_is_answered_before_the_database_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let app = app(dir.path());
    let r = app.reminders.as_ref().unwrap();
    let mut answers = Vec::new();
    {
        let held = r.hold_database();
        for who in KINDS {
            let mut router = router(app.clone());
            let request = post(who, &r.secret);
            let call = tokio::spawn(async move { router.call(request).await.unwrap() });
            let answer = match tokio::time::timeout(StdDuration::from_secs(3), call).await {
                Ok(answer) => answer.unwrap(),
                Err(_) => {
                    drop(held);
                    panic!("{who}: no answer while the state database was held");
                }
            };
            let status = answer.status();
            let headers = format!("{:?}", answer.headers());
            let body = axum::body::to_bytes(answer.into_body(), MAX_BODY)
                .await
                .unwrap();
            answers.push((who, status, headers, body));
        }
        drop(held);
    }
    for w in answers.windows(2) {
        assert_eq!(
            (w[0].1, &w[0].2, &w[0].3),
            (w[1].1, &w[1].2, &w[1].3),
            "{} and {} answered differently",
            w[0].0,
            w[1].0
        );
    }
    assert_eq!(answers[0].1, StatusCode::OK);

    // After the answer: the new address is stored, and each is mailed.
    let mail_dir = dir.path().join("maildir/new");
    let mut mailed = 0;
    for _ in 0..400 {
        mailed = std::fs::read_dir(&mail_dir).map_or(0, |d| d.count());
        if mailed == KINDS.len() {
            break;
        }
        tokio::time::sleep(StdDuration::from_millis(50)).await;
    }
    assert_eq!(mailed, KINDS.len(), "one mail per address");
    let id = r.key.id("new@example.org");
    let stored = r.db(|db| db.subscription(&r.key, &id)).unwrap().unwrap();
    assert_eq!(stored.status, crate::subscriptions::Status::Pending);
    assert_eq!(stored.sealed.choice.topics, ["women"]);
}
