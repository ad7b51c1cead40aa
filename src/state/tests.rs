//! The state database against real SQLite files.

use super::*;
use crate::reminders::plan::{Delivery, Key, Kind};
use crate::render::feed::EntryVersion;
use crate::testing;

fn entry(id: &str, title: &str) -> String {
    format!("[[deadline]]\nid = \"{id}\"\ntitle = \"{title}\"\nmechanism = \"upr\"\ntopics = [\"women\"]\ndue = 2027-01-01\n")
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[test]
fn sequence_and_changed_at_follow_content_changes() {
    let mut state = Database::in_memory().unwrap();
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

#[test]
fn a_clock_going_back_never_moves_versions_back() {
    let mut state = Database::in_memory().unwrap();
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

#[test]
fn settings_changes_are_dated() {
    let mut state = Database::in_memory().unwrap();
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

#[test]
fn ledger_rows_and_opt_outs() {
    let mut state = Database::in_memory().unwrap();
    let t1 = at("2026-12-16T07:00:00Z");
    let key = |kind| Key {
        email: "a@example.org".into(),
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
    let (attempts, id): (i64, String) = state
        .conn
        .query_row(
            "SELECT attempts, message_id FROM reminders WHERE kind = 'remind:30'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((attempts, id.as_str()), (1, "<m1@x>"));

    state.opt_out("A@Example.org", t1).unwrap();
    state.opt_out("a@example.org", t1).unwrap();
    assert_eq!(
        state.opted_out().unwrap(),
        ["a@example.org".to_string()].into()
    );
    assert!(state.resubscribe("a@EXAMPLE.org").unwrap());
    assert!(!state.resubscribe("a@example.org").unwrap());
    assert!(state.opted_out().unwrap().is_empty());
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
