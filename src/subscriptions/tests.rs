//! Merging the file's subscribers with the stored ones.

use super::*;
use crate::testing;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn key() -> AddressKey {
    AddressKey::new(b"0123456789abcdef0123456789abcdef")
}

fn stored(email: &str, status: Status, topics: &[&str]) -> Stored {
    Stored {
        id: key().id(email),
        status,
        sealed: Sealed {
            email: email.into(),
            choice: Choice {
                topics: topics.iter().map(|s| s.to_string()).collect(),
                mechanisms: vec![],
                language: "ru".into(),
                remind_days: vec![7, 1],
                digest: false,
                discreet: false,
                openpgp_key: String::new(),
            },
        },
        created_at: at("2027-01-01T00:00:00Z"),
        expires_at: None,
        paused_until: None,
        link_value: 0,
    }
}

fn file(emails: &[&str]) -> Vec<Subscriber> {
    let mut subs: Vec<Subscriber> = emails
        .iter()
        .map(|e| Subscriber::plain("Staff's", e))
        .collect();
    key_all(&mut subs, &key());
    subs
}

fn show(subs: &[Subscriber]) -> Vec<String> {
    subs.iter()
        .map(|s| {
            format!(
                "{} {:?} {} {:?} topics={:?}",
                s.email,
                s.origin,
                s.language.code(),
                s.remind_days,
                s.filter.topics
            )
        })
        .collect()
}

#[test]
fn the_file_wins_and_pauses_and_pending_ones_are_left_out() {
    let reg = testing::registry();
    let now = at("2027-02-01T00:00:00Z");
    let mut paused = stored("paused@example.org", Status::Active, &[]);
    paused.paused_until = Some(at("2027-03-01T00:00:00Z"));
    let mut paused_before = stored("back@example.org", Status::Active, &[]);
    paused_before.paused_until = Some(at("2027-01-15T00:00:00Z"));
    let mut own = stored("anna@example.org", Status::File, &[]);
    own.sealed.choice.language = "be".into();
    own.link_value = 3;
    let rows = vec![
        stored("Self@Example.org", Status::Active, &["women"]),
        stored("pending@example.org", Status::Pending, &[]),
        stored("waiting@example.org", Status::Approval, &[]),
        // Signed up, then listed by staff: one subscriber, the file's.
        stored("boris@example.org", Status::Active, &["women"]),
        paused,
        paused_before,
        own,
    ];
    let merged = merge(
        &file(&["anna@example.org", "boris@example.org"]),
        &rows,
        &reg,
        Tz::Europe__Zurich,
        now,
    );
    assert_eq!(
        show(&merged),
        [
            "anna@example.org File be [7, 1] topics=[]",
            "boris@example.org File en [30, 7, 1] topics=[]",
            "Self@Example.org SignUp ru [7, 1] topics=[\"women\"]",
            "back@example.org SignUp ru [7, 1] topics=[]",
        ]
    );
    assert_eq!(merged[0].link_value, 3);
    assert_eq!(merged[2].key, key().id("self@example.org"));
    assert!(merged.iter().all(|s| s.key.len() == 32));
}

#[test]
fn topics_gone_from_the_registry_do_not_widen_a_choice() {
    let reg = testing::registry();
    let now = at("2027-02-01T00:00:00Z");
    let rows = vec![
        stored("a@example.org", Status::Active, &["women", "retired-topic"]),
        stored("b@example.org", Status::Active, &["retired-topic"]),
    ];
    let merged = merge(&[], &rows, &reg, Tz::Europe__Zurich, now);
    assert_eq!(
        show(&merged),
        ["a@example.org SignUp ru [7, 1] topics=[\"women\"]"],
        "b chose only a topic that is gone: nothing, not everything"
    );
}

/// Sealed rows with and without an OpenPGP key are one size: a copied
/// database does not show who gave a key; each opens back whole.
#[test]
fn sealed_rows_are_padded_to_one_size() {
    let key = AddressKey::new(b"0123456789abcdef0123456789abcdef");
    let choice = Choice {
        topics: vec!["women".into()],
        mechanisms: vec![],
        language: "en".into(),
        remind_days: vec![7],
        digest: true,
        discreet: false,
        openpgp_key: String::new(),
    };
    let plain = Sealed {
        email: "anna@example.org".into(),
        choice: choice.clone(),
    };
    let with_key = Sealed {
        email: "boris@example.org".into(),
        choice: Choice {
            openpgp_key: include_str!("../../tests/fixtures/openpgp/rsa.asc").into(),
            ..choice
        },
    };
    let sizes: Vec<usize> = [&plain, &with_key]
        .iter()
        .map(|s| key.seal("id", &s.padded_json()).len())
        .collect();
    assert_eq!(sizes[0], sizes[1], "an RSA-3072 key's row shows");
    for s in [&plain, &with_key] {
        let opened = key.open("id", &key.seal("id", &s.padded_json())).unwrap();
        assert_eq!(&serde_json::from_slice::<Sealed>(&opened).unwrap(), s);
    }
}
