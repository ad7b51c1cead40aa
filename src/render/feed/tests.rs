use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::testing;

const FILE: &str = r#"
[[deadline]]
id = "cerd-alt-2027"
title = "Альтернативный доклад, часть 1; раздел \\ 2"
mechanism = "cerd"
topics = ["discrimination", "women"]
due = 2027-07-15
body = "CERD, 113th session"
url = "https://www.ohchr.org/en/treaty-bodies/cerd"
submit_to = "submissions@example.org"
description = """
Line one.
Line two, with a comma.
"""

[[deadline]]
id = "upr-timed-2027"
title = "UPR stakeholder submission"
mechanism = "upr"
topics = ["women"]
due = 2027-03-31T12:00:00
status = "tentative"

[[deadline]]
id = "upr-cancelled-2027"
title = "Cancelled one"
mechanism = "upr"
topics = ["discrimination"]
due = 2027-05-01T18:00:00+03:00
timezone = "Europe/Minsk"
status = "cancelled"

[[deadline]]
id = "old-2020"
title = "Long past"
mechanism = "upr"
topics = ["women"]
due = 2020-01-01
"#;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn options(lang: Lang) -> FeedOptions {
    FeedOptions {
        name: "Deadlines".into(),
        domain: "calendar.example.org".into(),
        lang,
        alarm: Alarm::parse("-P1D"),
        refresh: Duration::hours(6),
        cutoff: at("2025-11-23T00:00:00Z"),
    }
}

fn versions() -> Versions {
    let mut v = Versions::default();
    v.entries.insert(
        "cerd-alt-2027".into(),
        EntryVersion {
            sequence: 2,
            changed_at: at("2026-10-01T08:30:00Z"),
        },
    );
    v
}

#[test]
fn feed_snapshot() {
    let catalog = testing::catalog(&[("a.toml", FILE)]);
    let bytes = render(
        &catalog,
        &Filter::default(),
        &options(Lang::EN),
        &versions(),
    );
    // Lines end in CRLF; the snapshot shows them as LF.
    assert!(!bytes.replace("\r\n", "").contains('\n'));
    insta::assert_snapshot!(bytes.replace("\r\n", "\n"));
}

#[test]
fn feed_snapshot_russian_without_alarm() {
    let catalog = testing::catalog(&[("a.toml", FILE)]);
    let mut opts = options(Lang::parse("ru").unwrap());
    opts.alarm = None;
    let filter = Filter {
        topics: vec!["discrimination".into()],
        mechanisms: vec!["cerd".into()],
    };
    let bytes = render(&catalog, &filter, &opts, &versions());
    insta::assert_snapshot!(bytes.replace("\r\n", "\n"));
}

#[test]
fn rendering_is_deterministic_and_independent_of_file_layout() {
    let a = testing::catalog(&[("a.toml", FILE)]);
    let (first, rest) = FILE.split_at(FILE.find("[[deadline]]\nid = \"upr-timed").unwrap());
    let b = testing::catalog(&[("z/moved.toml", rest), ("b/first.toml", first)]);
    let opts = options(Lang::EN);
    let one = render(&a, &Filter::default(), &opts, &versions());
    assert_eq!(one, render(&a, &Filter::default(), &opts, &versions()));
    assert_eq!(one, render(&b, &Filter::default(), &opts, &versions()));
}

#[test]
fn retention_keeps_cancelled_and_drops_old() {
    let catalog = testing::catalog(&[("a.toml", FILE)]);
    let bytes = render(
        &catalog,
        &Filter::default(),
        &options(Lang::EN),
        &versions(),
    );
    assert!(bytes.contains("UID:upr-cancelled-2027@calendar.example.org"));
    assert!(!bytes.contains("old-2020"));
    let mut opts = options(Lang::EN);
    opts.cutoff = at("2019-01-01T00:00:00Z");
    let bytes = render(&catalog, &Filter::default(), &opts, &versions());
    assert!(bytes.contains("UID:old-2020@calendar.example.org"));
}

#[test]
fn hostile_titles_cannot_inject_lines() {
    let text = "[[deadline]]\nid = \"evil\"\ntitle = \"x END:VEVENT\"\nmechanism = \"upr\"\ntopics = [\"women\"]\ndue = 2027-01-01\n\
                description = \"END:VEVENT\\r\\nBEGIN:VEVENT\\rUID:fake\\nEND:VCALENDAR\"\n";
    let catalog = testing::catalog(&[("a.toml", text)]);
    let bytes = render(
        &catalog,
        &Filter::default(),
        &options(Lang::EN),
        &versions(),
    );
    let lines: Vec<&str> = bytes.split("\r\n").collect();
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.starts_with("BEGIN:VEVENT"))
            .count(),
        1
    );
    assert_eq!(
        lines.iter().filter(|l| l.starts_with("END:VEVENT")).count(),
        1
    );
    assert_eq!(lines.iter().filter(|l| l.starts_with("UID:")).count(), 2); // event + alarm
    assert!(!bytes.replace("\r\n", "").contains(['\r', '\n']));
}

#[test]
fn alarm_and_duration_table() {
    let cases = [
        ("-P1D", Some("-P1D")),
        ("P1D", Some("-P1D")),
        ("P7D", Some("-P7D")),
        ("P1W", Some("-P7D")),
        ("PT12H", Some("-PT12H")),
        ("-PT30M", Some("-PT30M")),
        ("P1DT6H", Some("-P1DT6H")),
        ("P366D", None),
        ("P0D", None),
        ("P", None),
        ("PT", None),
        ("1D", None),
        ("P1H", None),
        ("PT1D", None),
        ("P1D2W", None),
        ("none", None),
        ("P99999999999D", None),
    ];
    for (input, expected) in cases {
        assert_eq!(
            Alarm::parse(input).map(Alarm::trigger).as_deref(),
            expected,
            "{input}"
        );
    }
    assert_eq!(format_duration(Duration::hours(6)), "PT6H");
    assert_eq!(format_duration(Duration::zero()), "PT0S");
}
