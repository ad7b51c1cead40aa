//! The state database: the shared tests run on every engine (SQLite and
//! a real PostgreSQL server); the rest look at SQLite's own files.

use super::*;
use crate::model::deadline::Due;
use crate::render::feed::EntryVersion;
use crate::state::records::Kind;
use crate::testing;
use rusqlite::Connection;

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
fn sequence_and_changed_at_follow_content_changes() {
    for mut state in engines("state::tests::sequence_and_changed_at_follow_content_changes") {
        let t1 = at("2026-01-01T00:00:00Z");
        let t2 = at("2026-02-01T00:00:00Z");
        let t3 = at("2026-03-01T00:00:00Z");
        let t4 = at("2026-04-01T00:00:00Z");

        let c1 = testing::catalog(&[("a.toml", &entry("a", "A")), ("b.toml", &entry("b", "B"))]);
        let v = state.sync(&c1, "s", t1).unwrap();
        assert_eq!(
            v.get("a"),
            EntryVersion {
                sequence: 0,
                changed_at: t1
            }
        );
        assert_eq!(v.last_removal, None);

        // Same content, moved to another file, synced later: nothing changes.
        let moved = testing::catalog(&[(
            "x/y.toml",
            &format!("{}\n{}", entry("b", "B"), entry("a", "A")),
        )]);
        assert_eq!(state.sync(&moved, "s", t2).unwrap(), v);

        // An edit bumps SEQUENCE and the change time.
        let c3 = testing::catalog(&[
            ("a.toml", &entry("a", "A, edited")),
            ("b.toml", &entry("b", "B")),
        ]);
        let v = state.sync(&c3, "s", t3).unwrap();
        assert_eq!(
            v.get("a"),
            EntryVersion {
                sequence: 1,
                changed_at: t3
            }
        );
        assert_eq!(
            v.get("b"),
            EntryVersion {
                sequence: 0,
                changed_at: t1
            }
        );

        // A removal is remembered; coming back continues the sequence.
        let c4 = testing::catalog(&[("a.toml", &entry("a", "A, edited"))]);
        let v = state.sync(&c4, "s", t4).unwrap();
        assert_eq!(v.last_removal, Some(t4));
        assert!(!v.entries.contains_key("b"));
        let v = state.sync(&c3, "s", at("2026-05-01T00:00:00Z")).unwrap();
        assert_eq!(v.get("b").sequence, 1);
        assert_eq!(v.last_removal, Some(t4));
    }
}

#[test]
fn a_clock_going_back_never_moves_versions_back() {
    for mut state in engines("state::tests::a_clock_going_back_never_moves_versions_back") {
        let late = at("2026-06-01T00:00:00Z");
        state
            .sync(
                &testing::catalog(&[("a.toml", &entry("a", "A"))]),
                "s",
                late,
            )
            .unwrap();
        let v = state
            .sync(
                &testing::catalog(&[("a.toml", &entry("a", "A2"))]),
                "s",
                at("2026-01-01T00:00:00Z"),
            )
            .unwrap();
        assert_eq!(v.get("a").changed_at, late);
    }
}

#[test]
fn settings_changes_are_dated() {
    for mut state in engines("state::tests::settings_changes_are_dated") {
        let c = testing::catalog(&[("a.toml", &entry("a", "A"))]);
        let t1 = at("2026-01-01T00:00:00Z");
        let t2 = at("2026-02-01T00:00:00Z");
        assert_eq!(
            state.sync(&c, "one", t1).unwrap().settings_changed_at,
            Some(t1)
        );
        assert_eq!(
            state.sync(&c, "one", t2).unwrap().settings_changed_at,
            Some(t1)
        );
        assert_eq!(
            state.sync(&c, "two", t2).unwrap().settings_changed_at,
            Some(t2)
        );
    }
}

#[test]
fn ledger_rows_and_opt_outs() {
    for mut state in engines("state::tests::ledger_rows_and_opt_outs") {
        let t1 = at("2026-12-16T07:00:00Z");
        let key = |kind| Key {
            subscriber: "a@example.org".into(),
            deadline: "d".into(),
            due_at: at("2027-01-15T23:00:00Z"),
            kind,
        };
        state
            .record(
                &[key(Kind::Remind(30)), key(Kind::Remind(60))],
                Delivery::Sending,
                Some("<m1@x>"),
                None,
                t1,
            )
            .unwrap();
        // Left `sending` (a pass that died): found again, under its Message-ID.
        assert_eq!(
            state.sending().unwrap(),
            vec![(
                "<m1@x>".to_string(),
                vec![key(Kind::Remind(30)), key(Kind::Remind(60))]
            )]
        );
        state
            .record(&[key(Kind::Remind(30))], Delivery::Sent, None, None, t1)
            .unwrap();
        state
            .record(&[key(Kind::Remind(60))], Delivery::Skipped, None, None, t1)
            .unwrap();
        state
            .record(
                &[key(Kind::Moved)],
                Delivery::Failed,
                None,
                Some("550 no such user"),
                t1,
            )
            .unwrap();
        let ledger = state.ledger().unwrap();
        assert_eq!(ledger.rows.len(), 3);
        assert_eq!(ledger.rows[&key(Kind::Remind(30))], Delivery::Sent);
        assert_eq!(ledger.rows[&key(Kind::Remind(60))], Delivery::Skipped);
        assert_eq!(ledger.rows[&key(Kind::Moved)], Delivery::Failed);
        assert!(state.sending().unwrap().is_empty());
        assert_eq!(state.attempts(&[key(Kind::Remind(30))]).unwrap(), 1);
        assert_eq!(state.attempts(&[key(Kind::Cancelled)]).unwrap(), 0);

        // Told once about a key problem.
        assert!(!state.key_noticed("n1").unwrap());
        state.record_key_notice("n1", "0123abcd", t1).unwrap();
        state.record_key_notice("n1", "0123abcd", t1).unwrap();
        assert!(state.key_noticed("n1").unwrap());

        // Opt-outs are by subscriber key (case is the key's business).
        assert!(!state.is_opted_out("0123abcd").unwrap());
        assert!(state.opt_out("0123abcd", t1).unwrap(), "new");
        assert!(!state.opt_out("0123abcd", t1).unwrap(), "already");
        assert!(state.is_opted_out("0123abcd").unwrap());
        assert_eq!(state.opted_out().unwrap(), ["0123abcd".to_string()].into());
        assert!(state.resubscribe("0123abcd").unwrap());
        assert!(!state.resubscribe("0123abcd").unwrap());
        assert!(state.opted_out().unwrap().is_empty());
    }
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
fn a_changed_due_is_remembered_as_extended_from() {
    for mut state in engines("state::tests::a_changed_due_is_remembered_as_extended_from") {
        let with_due = |due: &str| {
            testing::catalog(&[(
            "a.toml",
            &format!("[[deadline]]\nid = \"a\"\ntitle = \"A\"\nmechanism = \"upr\"\ntopics = [\"women\"]\ndue = {due}\n"),
        )])
        };
        let v = state
            .sync(&with_due("2027-03-31"), "s", at("2026-01-01T00:00:00Z"))
            .unwrap();
        assert!(v.was_due.is_empty(), "a first sight has no history");
        // Extended by a month: the old date is kept, and fills `extended_from`.
        let later = with_due("2027-04-30");
        let v = state.sync(&later, "s", at("2026-02-01T00:00:00Z")).unwrap();
        let was = v.was_due["a"];
        assert_eq!(was.written, Due::Date("2027-03-31".parse().unwrap()));
        let shown = later.with_history(|id| v.was_due.get(id).copied());
        assert_eq!(shown.get("a").unwrap().extended_from, Some(Box::new(was)));
        // It survives a reopen, and an unrelated sync changes nothing.
        let v2 = state
            .sync(&with_due("2027-04-30"), "s", at("2026-03-01T00:00:00Z"))
            .unwrap();
        assert_eq!(v2.was_due, v.was_due);
        // Moved earlier again: the history says from the extended date.
        let v3 = state
            .sync(
                &with_due("2027-04-15T12:00:00"),
                "s",
                at("2026-04-01T00:00:00Z"),
            )
            .unwrap();
        assert_eq!(
            v3.was_due["a"].written,
            Due::Date("2027-04-30".parse().unwrap())
        );
        // An open call has no date to be extended from.
        let v4 = state
            .sync(&with_due("\"open\""), "s", at("2026-05-01T00:00:00Z"))
            .unwrap();
        assert!(!v4.was_due.contains_key("a"));
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

#[test]
fn watched_pages_and_their_alerts() {
    use crate::state::records::{Noted, UrlState};
    for mut state in engines("state::tests::watched_pages_and_their_alerts") {
        let t1 = at("2027-01-01T06:00:00Z");
        let t2 = at("2027-01-01T12:00:00Z");
        assert_eq!(state.watched("https://a.example/").unwrap(), None);
        assert_eq!(state.last_watch_pass().unwrap(), None);
        let page = UrlState {
            url: "https://a.example/".into(),
            checked_at: Some(t1),
            status: Some(200),
            final_url: Some("https://a.example/call".into()),
            failures: 0,
            answered_at: Some(t1),
            etag: Some("\"v1\"".into()),
            last_modified: Some("Fri, 01 Jan 2027 05:00:00 GMT".into()),
            fingerprint: Some("f1".into()),
            text: Some("Deadline: 15 March 2027".into()),
            cut: true,
            reader: 2,
            ..UrlState::default()
        };
        state.record_watched(&page).unwrap();
        assert_eq!(state.watched(&page.url).unwrap(), Some(page.clone()));
        let failing = UrlState {
            url: "https://b.example/".into(),
            checked_at: Some(t2),
            error: Some("timeout: no answer in time".into()),
            failures: 3,
            failing_since: Some(t1),
            changed_at: Some(t1),
            excerpt: Some("- old\n+ new".into()),
            reader: 2,
            ..UrlState::default()
        };
        state.record_watched(&failing).unwrap();
        state.record_watched(&failing).unwrap();
        assert_eq!(state.watched(&failing.url).unwrap(), Some(failing.clone()));
        assert_eq!(state.last_watch_pass().unwrap(), Some(t2));
        // Validators only for text made by the current rules.
        assert_eq!(
            state
                .watch_validators(&page.url, 2)
                .unwrap()
                .etag
                .as_deref(),
            Some("\"v1\"")
        );
        assert_eq!(state.watch_validators(&page.url, 3).unwrap().etag, None);

        // Problems: noted once, mailed once, forgotten when over.
        let gone = Noted {
            key: "gone",
            message: "404",
            excerpt: None,
        };
        let moved = Noted {
            key: "moved",
            message: "now at c.example",
            excerpt: Some("x"),
        };
        state
            .note_watch_problems(&page.url, "e1,e2", &[gone, moved], t1)
            .unwrap();
        state
            .note_watch_problems(&page.url, "e1,e2", &[gone, moved], t2)
            .unwrap();
        let unsent = state.unsent_watch_alerts().unwrap();
        assert_eq!(unsent.len(), 2);
        assert_eq!(
            (
                unsent[0].key.as_str(),
                unsent[0].seen_at,
                unsent[0].entries.as_str()
            ),
            ("gone", t1, "e1,e2")
        );
        assert_eq!(unsent[1].excerpt.as_deref(), Some("x"));
        state.watch_alerts_sent(&unsent, t2).unwrap();
        assert!(state.unsent_watch_alerts().unwrap().is_empty());
        // `moved` is over: forgotten, so that it is mailed again if it
        // comes back; `gone` goes on.
        state
            .note_watch_problems(&page.url, "e1,e2", &[gone], t2)
            .unwrap();
        state
            .note_watch_problems(&page.url, "e1,e2", &[gone, moved], t2)
            .unwrap();
        let again = state.unsent_watch_alerts().unwrap();
        assert_eq!(again.len(), 1);
        assert_eq!(again[0].key, "moved");

        // URLs no entry links any more are forgotten with their alerts.
        let keep: HashSet<&str> = [failing.url.as_str()].into();
        assert_eq!(state.forget_watched_except(&keep).unwrap(), 1);
        assert_eq!(state.watched(&page.url).unwrap(), None);
        assert!(state.unsent_watch_alerts().unwrap().is_empty());
    }
}

/// Every row of every table, sorted: what a copy must carry over.
fn dump(db: &Database) -> Vec<(&'static str, Vec<Vec<columns::Value>>)> {
    columns::TABLES
        .iter()
        .map(|(table, cols)| {
            let mut rows = dispatch!(db, d => d.table_rows(table, cols)).unwrap();
            rows.sort_by_key(|r| format!("{r:?}"));
            (*table, rows)
        })
        .collect()
}

#[test]
fn a_state_copies_between_engines_row_for_row() {
    use crate::state::records::{Noted, UrlState};
    use crate::subscriptions::AddressKey;
    let Some(url) =
        testing::postgres::database("state::tests::a_state_copies_between_engines_row_for_row")
    else {
        return;
    };
    let t1 = at("2027-01-01T06:00:00Z");
    let mut sqlite = Database::in_memory().unwrap();
    let key = AddressKey::new(b"0123456789abcdef0123456789abcdef");
    sqlite.key_addresses(&key).unwrap();
    let catalog = testing::catalog(&[("a.toml", &entry("a", "A")), ("b.toml", &entry("b", "B"))]);
    sqlite.sync(&catalog, "s", t1).unwrap();
    let row = Key {
        subscriber: "k1".into(),
        deadline: "a".into(),
        due_at: at("2027-01-01T23:00:00Z"),
        kind: Kind::Remind(7),
    };
    sqlite
        .record(
            std::slice::from_ref(&row),
            Delivery::Sent,
            Some("<m@x>"),
            Some("451 later"),
            t1,
        )
        .unwrap();
    sqlite.opt_out("k2", t1).unwrap();
    sqlite.record_key_notice("n", "k1", t1).unwrap();
    let id = key.id("anna@example.org");
    sqlite
        .sign_up(
            &id,
            b"sealed bytes",
            t1 + chrono::Duration::hours(48),
            7,
            t1,
        )
        .unwrap();
    sqlite.mailed(&id, t1).unwrap();
    let page = UrlState {
        url: "https://a.example/".into(),
        checked_at: Some(t1),
        status: Some(404),
        cut: true,
        reader: 2,
        ..UrlState::default()
    };
    sqlite.record_watched(&page).unwrap();
    let gone = Noted {
        key: "gone",
        message: "404",
        excerpt: None,
    };
    sqlite
        .note_watch_problems(&page.url, "a", &[gone], t1)
        .unwrap();

    let mut pg = Database::connect(&url, None).unwrap();
    let copied = sqlite.copy_to(&mut pg).unwrap();
    assert!(copied.iter().all(|(_, n)| *n > 0), "{copied:?}");
    // Only into an empty database.
    let e = sqlite.copy_to(&mut pg).unwrap_err();
    assert!(matches!(e, StateError::NotEmpty { .. }), "{e}");
    assert!(e.to_string().contains("postgres://127.0.0.1:"), "{e}");
    // And back, into a new SQLite database: the same rows everywhere, and
    // the same answers.
    let mut back = Database::in_memory().unwrap();
    pg.copy_to(&mut back).unwrap();
    assert_eq!(dump(&pg), dump(&sqlite));
    assert_eq!(dump(&back), dump(&sqlite));
    assert_eq!(pg.ledger().unwrap().rows, sqlite.ledger().unwrap().rows);
    assert_eq!(pg.versions().unwrap(), sqlite.versions().unwrap());
    assert_eq!(pg.watched(&page.url).unwrap(), Some(page.clone()));
    pg.key_addresses(&key).unwrap();
    let other = AddressKey::new(b"another key, another server!!!!!");
    assert!(matches!(
        pg.key_addresses(&other),
        Err(StateError::WrongKey(_))
    ));
    // A sync after the copy changes nothing.
    assert_eq!(
        pg.sync(&catalog, "s", at("2027-01-02T00:00:00Z")).unwrap(),
        sqlite.versions().unwrap()
    );
}

/// The lead of replicas on PostgreSQL: one holder at a time, renewed in its
/// term, taken over (next term) only once run out, a stale leader's renewal
/// refused, and its ledger writes fenced off.
#[test]
fn the_lead_passes_only_when_its_lease_runs_out_and_fences_the_old_leader() {
    use std::time::Duration;
    let Some(url) = testing::postgres::database(
        "state::tests::the_lead_passes_only_when_its_lease_runs_out_and_fences_the_old_leader",
    ) else {
        return;
    };
    let mut a = Database::connect(&url, None).unwrap();
    let mut b = Database::connect(&url, None).unwrap();
    let short = Duration::from_millis(400);
    assert_eq!(a.lease().unwrap(), None);
    let first = a.claim_lead("a", short).unwrap().expect("a leads");
    assert_eq!(first.term, 1);
    assert_eq!(a.claim_lead("a", short).unwrap().map(|l| l.term), Some(1));
    assert_eq!(b.claim_lead("b", short).unwrap(), None, "a's lease runs");
    assert_eq!(
        b.lease().unwrap().map(|(h, l)| (h, l.term)),
        Some(("a".into(), 1))
    );

    std::thread::sleep(short + Duration::from_millis(200));
    let taken = b
        .claim_lead("b", Duration::from_secs(30))
        .unwrap()
        .expect("b takes over");
    assert_eq!(taken.term, 2);
    // The stale leader wakes up: its renewal is refused, and so are its
    // writes under its old term.
    assert_eq!(a.claim_lead("a", short).unwrap(), None);
    let row = Key {
        subscriber: "k".into(),
        deadline: "d".into(),
        due_at: at("2027-01-01T00:00:00Z"),
        kind: Kind::Remind(1),
    };
    let now = at("2026-12-31T08:00:00Z");
    a.set_fence(Some(("a".into(), 1)));
    let e = a
        .record(
            std::slice::from_ref(&row),
            Delivery::Sending,
            Some("<m@a>"),
            None,
            now,
        )
        .unwrap_err();
    assert!(matches!(e, StateError::Fenced { term: 1 }), "{e}");
    assert!(a.ledger().unwrap().rows.is_empty(), "nothing written");
    b.set_fence(Some(("b".into(), 2)));
    b.record(
        std::slice::from_ref(&row),
        Delivery::Sent,
        Some("<m@b>"),
        None,
        now,
    )
    .unwrap();
    assert_eq!(a.ledger().unwrap().rows[&row], Delivery::Sent);
    // Unfenced (commands run by hand) writes as before.
    a.set_fence(None);
    a.opt_out("k", now).unwrap();
}

/// Many calls from inside one tokio task (as a pass or a handler makes
/// them) all come back: the engine's waits do not depend on the calling
/// task's scheduler (a spent cooperative budget once hung the 129th).
#[test]
fn many_calls_from_one_tokio_task_all_return() {
    let Some(url) =
        testing::postgres::database("state::tests::many_calls_from_one_tokio_task_all_return")
    else {
        return;
    };
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let n = runtime.block_on(async {
            let mut db = Database::connect(&url, None).unwrap();
            let now = at("2027-01-01T00:00:00Z");
            for i in 0..600 {
                db.opt_out(&format!("k{i}"), now).unwrap();
            }
            db.opted_out().unwrap().len()
        });
        let _ = done.send(n);
    });
    let n = finished
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("every call returned");
    assert_eq!(n, 600);
}
