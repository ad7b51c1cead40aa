//! A state database of the release before self-service subscriptions
//! (`tests/fixtures/state-0.1-clear-addresses.sqlite`: addresses in
//! clear) is upgraded by the next pass: keyed, every row kept, nobody
//! reminded twice, the opt-out kept, and no address left in its files.

use super::*;

#[test]
fn an_old_ledger_is_keyed_and_nobody_is_reminded_twice() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    common::example_subscribers(&dir.join("subscribers.toml"));
    common::write_private(
        &dir.join("state.sqlite"),
        fs::read(root().join("tests/fixtures/state-0.1-clear-addresses.sqlite")).unwrap(),
    );
    // The data the old release ran on: the sample without what was added
    // since (its yearly dates and milestones, which have reminders of
    // their own).
    let old_data = dir.join("deadlines");
    copy_dir(&root().join("deadlines"), &old_data);
    fs::remove_dir_all(old_data.join("recurring")).unwrap();
    fs::remove_file(old_data.join("examples/upr-milestones.toml")).unwrap();
    let config = dir.join("mechcal.toml");
    fs::write(
        &config,
        format!(
            "[calendar]\ndomain = \"calendar.example.org\"\n[data]\ndeadlines = \"{}\"\n\
             [state]\npath = \"state.sqlite\"\n[reminders]\nsubscribers = \"subscribers.toml\"\n\
             [mail]\nmaildir = \"maildir\"\n",
            old_data.display()
        ),
    )
    .unwrap();
    let remind = |now: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_mechcal"))
            .arg("--config")
            .arg(&config)
            .args(["remind", "--now", now])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    // The pass the old release made last, again: all of it is on record.
    assert_eq!(
        remind("2027-03-25T08:00:00Z"),
        "sent 0 messages (0 resent after an interrupted pass), skipped 0 reminders, failed 0, deferred 0\n"
    );
    let db = mechcal::state::Database::open(&dir.join("state.sqlite")).unwrap();
    let key = mechcal::subscriptions::AddressKey::load(&dir.join("var/address.key")).unwrap();
    let ledger = db.ledger().unwrap();
    assert_eq!(ledger.rows.len(), 11, "every row kept");
    let sent = |email: &str| {
        ledger
            .rows
            .iter()
            .filter(|(k, d)| {
                *k.subscriber == *key.id(email) && **d == mechcal::reminders::plan::Delivery::Sent
            })
            .count()
    };
    assert_eq!(
        (
            sent("womens-rights@example.org"),
            sent("lawyer@example.org"),
            sent("all-deadlines@example.org")
        ),
        (2, 1, 4)
    );
    assert_eq!(
        db.opted_out().unwrap(),
        [key.id("lawyer@example.org")].into()
    );
    drop(db);
    // The next reminders go out once, and not to who opted out.
    let out = remind("2027-04-10T08:00:00Z");
    assert!(out.starts_with("sent 2 messages"), "{out}");
    let to: Vec<String> = fs::read_dir(dir.join("maildir/new"))
        .unwrap()
        .map(|e| {
            let m = fs::read_to_string(e.unwrap().path()).unwrap();
            m.lines()
                .find_map(|l| l.strip_prefix("To: "))
                .unwrap()
                .to_string()
        })
        .collect();
    assert!(to.iter().all(|t| !t.contains("lawyer@")), "{to:?}");
    assert!(remind("2027-04-10T09:00:00Z").starts_with("sent 0 messages"));
    // No address in the database, its WAL or a backup.
    for email in [
        "womens-rights@example.org",
        "lawyer@example.org",
        "all-deadlines@example.org",
    ] {
        for t in crate::signup::traces(email) {
            assert!(
                !crate::signup::database_holds(&dir.join("state.sqlite"), &t),
                "{email}: {}",
                String::from_utf8_lossy(&t)
            );
        }
    }
}
