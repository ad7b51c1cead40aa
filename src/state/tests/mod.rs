//! The state database: the shared tests run on every engine (SQLite and
//! a real PostgreSQL server); the rest look at SQLite's own files.

use super::*;
use crate::model::deadline::Due;
use crate::render::feed::EntryVersion;
use crate::state::records::Kind;
use crate::testing;
use rusqlite::Connection;

mod engines;

fn entry(id: &str, title: &str) -> String {
    format!("[[deadline]]\nid = \"{id}\"\ntitle = \"{title}\"\nmechanism = \"upr\"\ntopics = [\"women\"]\ndue = 2027-01-01\n")
}

/// The engines the shared tests run on: SQLite in memory, and a new
/// database on the test PostgreSQL server (unless it cannot run here: then
/// a loud `skipped:` line).
fn engines(test: &str) -> Vec<Database> {
    let mut out = vec![Database::in_memory().unwrap()];
    if let Some(url) = testing::postgres::database(test) {
        out.push(Database::connect(&url, None).unwrap());
    }
    out
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[test]
fn survives_reopen_and_refuses_newer_schema() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("var/state.sqlite");
    let t = at("2026-01-01T00:00:00Z");
    let c = testing::catalog(&[("a.toml", &entry("a", "A"))]);
    let v = Database::open(&path).unwrap().sync(&c, "s", t).unwrap();
    let reopened = Database::open(&path).unwrap();
    assert_eq!(reopened.versions().unwrap(), v);
    assert_eq!(reopened.row("a").unwrap().unwrap().sequence, 0);
    drop(reopened);
    Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = Database::open(&path).err().unwrap();
    assert!(err.to_string().contains("schema version 99"), "{err}");
}

mod subscriptions {
    use super::*;
    use crate::state::SignUp;
    use crate::subscriptions::{AddressKey, Choice, Sealed, Status};

    fn key() -> AddressKey {
        AddressKey::new(b"0123456789abcdef0123456789abcdef")
    }

    fn sealed(k: &AddressKey, email: &str) -> Vec<u8> {
        let s = Sealed {
            email: email.into(),
            choice: Choice {
                topics: vec!["women".into()],
                mechanisms: vec![],
                language: "en".into(),
                remind_days: vec![7, 1],
                digest: true,
                discreet: false,
                openpgp_key: String::new(),
            },
        };
        k.seal(&k.id(email), &serde_json::to_vec(&s).unwrap())
    }

    /// Every form an address could be found in: clear, hex, base64.
    fn traces(email: &str) -> Vec<Vec<u8>> {
        use base64::Engine as _;
        let hex: String = email.bytes().map(|b| format!("{b:02x}")).collect();
        let b64 = base64::engine::general_purpose::STANDARD.encode(email);
        vec![
            email.as_bytes().to_vec(),
            email.to_uppercase().into_bytes(),
            hex.into_bytes(),
            b64.trim_end_matches('=').as_bytes().to_vec(),
        ]
    }

    fn files_hold(path: &std::path::Path, needle: &[u8]) -> bool {
        ["", "-wal", "-shm"].iter().any(|suffix| {
            let mut p = path.as_os_str().to_owned();
            p.push(suffix);
            std::fs::read(&p).is_ok_and(|bytes| bytes.windows(needle.len()).any(|w| w == needle))
        })
    }

    #[test]
    fn a_ledger_of_clear_addresses_is_keyed_without_losing_a_row() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("state.sqlite");
        let now = at("2027-01-01T08:00:00Z");
        let row = |email: &str, kind| Key {
            subscriber: email.into(),
            deadline: "d".into(),
            due_at: at("2027-02-01T11:00:00Z"),
            kind,
        };
        {
            // As the release before keyed ledgers wrote it.
            let mut db = Database::open(&path).unwrap();
            db.record(
                &[row("anna@example.org", Kind::Remind(30))],
                Delivery::Sent,
                Some("<x@y>"),
                None,
                now,
            )
            .unwrap();
            db.record(
                &[row("anna@example.org", Kind::Remind(7))],
                Delivery::Skipped,
                None,
                None,
                now,
            )
            .unwrap();
            db.record(
                &[row("boris@example.org", Kind::Remind(30))],
                Delivery::Sending,
                Some("<b@y>"),
                Some("550 boris@example.org: no such user"),
                now,
            )
            .unwrap();
            db.opt_out("carol@example.org", now).unwrap();
            db.conn()
                .execute("DELETE FROM meta WHERE key = 'ledger_keyed'", [])
                .unwrap();
        }
        let k = key();
        let mut db = Database::open(&path).unwrap();
        db.key_addresses(&k).unwrap();
        let ledger = db.ledger().unwrap();
        assert_eq!(ledger.rows.len(), 3);
        assert_eq!(
            ledger.rows[&row(&k.id("anna@example.org"), Kind::Remind(30))],
            Delivery::Sent
        );
        assert_eq!(
            ledger.rows[&row(&k.id("anna@example.org"), Kind::Remind(7))],
            Delivery::Skipped
        );
        assert_eq!(
            ledger.rows[&row(&k.id("boris@example.org"), Kind::Remind(30))],
            Delivery::Sending
        );
        // The row to send again keeps its Message-ID.
        assert_eq!(db.sending().unwrap()[0].0, "<b@y>");
        assert_eq!(db.opted_out().unwrap(), [k.id("carol@example.org")].into());
        // Twice is once.
        db.key_addresses(&k).unwrap();
        assert_eq!(db.ledger().unwrap().rows.len(), 3);
        drop(db);
        for email in ["anna@example.org", "boris@example.org", "carol@example.org"] {
            for t in traces(email) {
                assert!(
                    !files_hold(&path, &t),
                    "{email} in {:?}",
                    String::from_utf8_lossy(&t)
                );
            }
        }
    }

    #[test]
    fn one_row_per_address_and_confirmation_in_time_only() {
        let k = key();
        for mut db in engines("state::tests::one_row_per_address_and_confirmation_in_time_only") {
            let now = at("2027-01-01T08:00:00Z");
            let id = k.id("anna@example.org");
            let expires = now + chrono::Duration::hours(48);
            assert_eq!(
                db.sign_up(&id, &sealed(&k, "anna@example.org"), expires, 7, now)
                    .unwrap(),
                SignUp::New
            );
            // Signed up again while pending: the link already mailed stays good.
            assert_eq!(
                db.sign_up(&id, &sealed(&k, "anna@example.org"), expires, 9, now)
                    .unwrap(),
                SignUp::Pending
            );
            assert_eq!(db.subscriptions(&k, &[Status::Pending]).unwrap().len(), 1);
            assert_eq!(db.subscription(&k, &id).unwrap().unwrap().link_value, 7);
            // Too late, or another link's value: nothing confirmed.
            assert_eq!(db.confirm(&id, 7, false, expires).unwrap(), None);
            assert_eq!(db.confirm(&id, 9, false, now).unwrap(), None);
            assert_eq!(
                db.confirm(&id, 7, false, now).unwrap(),
                Some(Status::Active)
            );
            assert_eq!(
                db.confirm(&id, 7, false, now).unwrap(),
                None,
                "confirmed once"
            );
            assert_eq!(
                db.sign_up(&id, &sealed(&k, "anna@example.org"), expires, 11, now)
                    .unwrap(),
                SignUp::Confirmed
            );
            let s = db.subscription(&k, &id).unwrap().unwrap();
            assert_eq!(
                (s.status, s.sealed.email.as_str()),
                (Status::Active, "anna@example.org")
            );
            // Another key cannot open it.
            let other = AddressKey::new(b"another key, another server!!!!!");
            assert!(matches!(
                db.subscription(&other, &id),
                Err(StateError::Sealed)
            ));
            // Unconfirmed ones expire.
            let boris = k.id("boris@example.org");
            db.sign_up(&boris, &sealed(&k, "boris@example.org"), expires, 5, now)
                .unwrap();
            assert_eq!(db.expire_sign_ups(expires).unwrap(), 1);
            assert!(db.subscription(&k, &boris).unwrap().is_none());
        }
    }

    #[test]
    fn another_address_key_is_refused_before_it_does_harm() {
        for mut db in engines("state::tests::another_address_key_is_refused_before_it_does_harm") {
            db.key_addresses(&key()).unwrap();
            db.key_addresses(&key()).unwrap();
            let other = AddressKey::new(b"another key, another server!!!!!");
            let e = db.key_addresses(&other).unwrap_err();
            assert!(matches!(e, StateError::WrongKey(_)), "{e}");
            assert!(
                e.to_string().contains("restore the key from its backup"),
                "{e}"
            );
        }
    }

    /// A subscriber's own rows keep their times to the hour (expiry and
    /// pause taken up to the next hour), so they cannot be matched to the
    /// second with a web server's or a relay's log; confirming in time
    /// still works to the second.
    #[test]
    fn subscribers_rows_keep_times_to_the_hour() {
        let k = key();
        let mut db = Database::in_memory().unwrap();
        let now = at("2027-01-01T10:17:23Z");
        let id = k.id("anna@example.org");
        db.sign_up(
            &id,
            &sealed(&k, "anna@example.org"),
            now + chrono::Duration::hours(48),
            7,
            now,
        )
        .unwrap();
        db.opt_out(&id, now).unwrap();
        let row: (String, String, String) = db
            .conn()
            .query_row(
                "SELECT created_at, updated_at, expires_at FROM subscriptions WHERE id = ?1",
                [&id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            row,
            (
                "2027-01-01T10:00:00Z".into(),
                "2027-01-01T10:00:00Z".into(),
                "2027-01-03T11:00:00Z".into()
            )
        );
        let opted: String = db
            .conn()
            .query_row("SELECT at FROM opt_outs WHERE email = ?1", [&id], |r| {
                r.get(0)
            })
            .unwrap();
        assert_eq!(opted, "2027-01-01T10:00:00Z");
        let confirmed_at = at("2027-01-02T23:59:59Z");
        assert_eq!(
            db.confirm(&id, 7, false, confirmed_at).unwrap(),
            Some(Status::Active)
        );
        let updated: String = db
            .conn()
            .query_row(
                "SELECT updated_at FROM subscriptions WHERE id = ?1",
                [&id],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(updated, "2027-01-02T23:00:00Z");
    }

    /// Deleted, then signed up again by anyone: the first sign-up's value
    /// confirms nothing (the row's value is new, not a counter restarted).
    #[test]
    fn a_deleted_sign_ups_link_value_does_not_come_back() {
        let k = key();
        for mut db in engines("state::tests::a_deleted_sign_ups_link_value_does_not_come_back") {
            let now = at("2027-01-01T08:00:00Z");
            let id = k.id("anna@example.org");
            let expires = now + chrono::Duration::hours(48);
            db.sign_up(&id, &sealed(&k, "anna@example.org"), expires, 7, now)
                .unwrap();
            db.forget(&id).unwrap();
            db.sign_up(&id, &sealed(&k, "anna@example.org"), expires, 8, now)
                .unwrap();
            assert_eq!(db.confirm(&id, 7, false, now).unwrap(), None);
            assert_eq!(
                db.subscription(&k, &id).unwrap().unwrap().status,
                Status::Pending
            );
        }
    }

    #[test]
    fn a_row_that_does_not_open_is_left_out_not_fatal() {
        let k = key();
        let mut db = Database::in_memory().unwrap();
        let now = at("2027-01-01T08:00:00Z");
        for email in ["a@example.org", "b@example.org"] {
            let id = k.id(email);
            db.sign_up(
                &id,
                &sealed(&k, email),
                now + chrono::Duration::hours(1),
                1,
                now,
            )
            .unwrap();
        }
        db.conn()
            .execute(
                "UPDATE subscriptions SET sealed = x'00' WHERE id = ?1",
                [k.id("a@example.org")],
            )
            .unwrap();
        let rows = db.subscriptions(&k, &[Status::Pending]).unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].sealed.email, "b@example.org");
    }

    #[test]
    fn racing_sign_ups_leave_one_row() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("state.sqlite");
        Database::open(&path).unwrap();
        let k = key();
        let now = at("2027-01-01T08:00:00Z");
        let outcomes: Vec<SignUp> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let (path, k) = (&path, &k);
                    s.spawn(move || {
                        let mut db = Database::open(path).unwrap();
                        let id = k.id("anna@example.org");
                        db.sign_up(
                            &id,
                            &sealed(k, "anna@example.org"),
                            now + chrono::Duration::hours(1),
                            1,
                            now,
                        )
                        .unwrap()
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(
            outcomes.iter().filter(|o| **o == SignUp::New).count(),
            1,
            "{outcomes:?}"
        );
        let db = Database::open(&path).unwrap();
        assert_eq!(db.subscriptions(&k, &[Status::Pending]).unwrap().len(), 1);
    }

    #[test]
    fn forgetting_leaves_no_trace_in_any_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("state.sqlite");
        let k = key();
        let now = at("2027-01-01T08:00:00Z");
        let email = "forget.me@example.org";
        let id = k.id(email);
        let mut db = Database::open(&path).unwrap();
        db.sign_up(
            &id,
            &sealed(&k, email),
            now + chrono::Duration::hours(1),
            3,
            now,
        )
        .unwrap();
        db.confirm(&id, 3, false, now).unwrap();
        db.record(
            &[Key {
                subscriber: id.as_str().into(),
                deadline: "d".into(),
                due_at: now,
                kind: Kind::Remind(7),
            }],
            Delivery::Sent,
            Some("<m@y>"),
            None,
            now,
        )
        .unwrap();
        db.opt_out(&id, now).unwrap();
        db.mailed(&id, now).unwrap();
        assert!(files_hold(&path, id.as_bytes()), "the id is there before");
        assert_eq!(db.forget(&id).unwrap(), 4);
        assert!(db.subscription(&k, &id).unwrap().is_none());
        for t in traces(email).into_iter().chain([id.clone().into_bytes()]) {
            assert!(!files_hold(&path, &t), "{:?}", String::from_utf8_lossy(&t));
        }
    }
}

#[test]
fn rows_of_schema_4_read_without_a_due() {
    let mut state = Database::in_memory().unwrap();
    state
        .conn()
        .execute(
            "INSERT INTO entries (id, fingerprint, sequence, changed_at) VALUES ('a', 'x', 3, '2026-01-01T00:00:00Z')",
            [],
        )
        .unwrap();
    let row = state.row("a").unwrap().unwrap();
    assert_eq!((row.sequence, row.due, row.was_due), (3, None, None));
    // The first sync records the due without inventing a history.
    let c = testing::catalog(&[("a.toml", &entry("a", "A"))]);
    let v = state.sync(&c, "s", at("2026-02-01T00:00:00Z")).unwrap();
    assert!(v.was_due.is_empty());
    assert!(state.row("a").unwrap().unwrap().due.is_some());
}
