//! The shared suite: each test runs on every engine (SQLite in memory and
//! a database on the test PostgreSQL server), or on PostgreSQL alone where
//! only it has the feature (copying into it, the lead).

use super::*;

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
