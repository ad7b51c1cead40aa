use chrono_tz::Tz;

use super::*;
use crate::testing;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn deadline(id: &str, due: &str, extra: &str) -> String {
    format!("[[deadline]]\nid = \"{id}\"\ntitle = \"{id}\"\nmechanism = \"cerd\"\ntopics = [\"women\"]\ndue = {due}\n{extra}\n")
}

use crate::testing::subscriber;

fn key(email: &str, id: &str, due_at: &str, kind: Kind) -> Key {
    Key {
        subscriber: email.into(),
        deadline: id.into(),
        due_at: at(due_at),
        kind,
    }
}

/// A compact view of a plan: "email: id kind (days)" per item, then skips.
fn show(plan: &Plan, subs: &[Subscriber]) -> Vec<String> {
    let mut out: Vec<String> = plan
        .messages
        .iter()
        .map(|m| {
            let items: Vec<String> = m
                .items
                .iter()
                .map(|i| format!("{} {} ({}d)", i.key.deadline, i.key.kind, i.days_left))
                .collect();
            format!("{}: {}", subs[m.subscriber].email, items.join(", "))
        })
        .collect();
    out.extend(
        plan.skipped
            .iter()
            .map(|k| format!("skip {} {} {}", k.subscriber, k.deadline, k.kind)),
    );
    out
}

// D due 2027-01-15 (all day, Zurich): instant 2027-01-15T23:00Z.
// 30 days: from 2026-12-16 00:00 CET = 2026-12-15T23:00Z;
// 7 days: from 2027-01-08 00:00 = 2027-01-07T23:00Z; 1 day: 2027-01-13T23:00Z.
const DUE: &str = "2027-01-15T23:00:00Z";

#[test]
fn table() {
    let cat = testing::catalog(&[("a.toml", &deadline("d", "2027-01-15", ""))]);
    let subs = vec![subscriber("s@example.org")];
    let sent = |kinds: &[Kind]| Ledger {
        rows: kinds
            .iter()
            .map(|&k| (key("s@example.org", "d", DUE, k), Delivery::Sent))
            .collect(),
    };
    let cases: Vec<(&str, Ledger, &str, Vec<&str>)> = vec![
        (
            "before the first offset",
            Ledger::default(),
            "2026-12-15T22:59:59Z",
            vec![],
        ),
        (
            "first offset, to the second",
            Ledger::default(),
            "2026-12-15T23:00:00Z",
            vec!["s@example.org: d remind:30 (30d)"],
        ),
        (
            "same run again: nothing twice",
            sent(&[Kind::Remind(30)]),
            "2026-12-16T08:00:00Z",
            vec![],
        ),
        (
            "downtime: only the smallest due offset, others skipped",
            Ledger::default(),
            "2027-01-08T07:00:00Z",
            vec![
                "s@example.org: d remind:7 (7d)",
                "skip s@example.org d remind:30",
            ],
        ),
        (
            "next offset",
            sent(&[Kind::Remind(30), Kind::Remind(7)]),
            "2027-01-14T07:00:00Z",
            vec!["s@example.org: d remind:1 (1d)"],
        ),
        (
            "a larger offset after a smaller one is skipped",
            sent(&[Kind::Remind(7)]),
            "2027-01-09T07:00:00Z",
            vec!["skip s@example.org d remind:30"],
        ),
        (
            "a crashed run's `sending` row is sent again",
            Ledger {
                rows: [(
                    key("s@example.org", "d", DUE, Kind::Remind(30)),
                    Delivery::Sending,
                )]
                .into(),
            },
            "2026-12-16T08:00:00Z",
            vec!["s@example.org: d remind:30 (30d)"],
        ),
        (
            "a failed row is not retried",
            Ledger {
                rows: [(
                    key("s@example.org", "d", DUE, Kind::Remind(30)),
                    Delivery::Failed,
                )]
                .into(),
            },
            "2026-12-16T08:00:00Z",
            vec![],
        ),
        (
            "after the deadline passed: nothing",
            Ledger::default(),
            "2027-01-15T23:00:00Z",
            vec![],
        ),
        (
            "on the day itself, before it passes",
            sent(&[Kind::Remind(30), Kind::Remind(7), Kind::Remind(1)]),
            "2027-01-15T12:00:00Z",
            vec![],
        ),
    ];
    for (name, ledger, now, expected) in cases {
        let plan = plan(&cat, &subs, &ledger, &HashSet::new(), at(now));
        assert_eq!(show(&plan, &subs), expected, "{name}");
    }
}

#[test]
fn deadline_offsets_override_the_subscribers() {
    let cat = testing::catalog(&[("a.toml", &deadline("d", "2027-01-15", "remind_days = [60]"))]);
    let subs = vec![subscriber("s@example.org")];
    let p = plan(
        &cat,
        &subs,
        &Ledger::default(),
        &HashSet::new(),
        at("2026-11-15T23:00:00Z"),
    );
    assert_eq!(show(&p, &subs), ["s@example.org: d remind:60 (60d)"]);
    // The subscriber's 30 does not apply to this deadline.
    let p = plan(
        &cat,
        &subs,
        &Ledger::default(),
        &HashSet::new(),
        at("2026-12-16T08:00:00Z"),
    );
    assert_eq!(show(&p, &subs), ["s@example.org: d remind:60 (30d)"]);
}

#[test]
fn moved_and_cancelled_notices_only_for_those_reminded() {
    let old = "2027-01-15T23:00:00Z";
    let reminded = Ledger {
        rows: [(
            key("a@example.org", "d", old, Kind::Remind(30)),
            Delivery::Sent,
        )]
        .into(),
    };
    let subs = vec![subscriber("a@example.org"), subscriber("b@example.org")];

    // Moved to 2027-02-15: a was reminded of the old date, b was not.
    let moved = testing::catalog(&[("a.toml", &deadline("d", "2027-02-15", ""))]);
    let now = at("2026-12-20T08:00:00Z");
    let p = plan(&moved, &subs, &reminded, &HashSet::new(), now);
    assert_eq!(show(&p, &subs), ["a@example.org: d moved (57d)"]);
    assert_eq!(p.messages[0].items[0].moved_from, Some(at(old)));
    // Once told, a follows the new schedule; the new 30-day reminder is due
    // from 2027-01-16.
    let mut told = reminded.clone();
    told.rows.insert(
        key("a@example.org", "d", "2027-02-15T23:00:00Z", Kind::Moved),
        Delivery::Sent,
    );
    assert!(plan(&moved, &subs, &told, &HashSet::new(), now)
        .messages
        .is_empty());
    let p = plan(
        &moved,
        &subs,
        &told,
        &HashSet::new(),
        at("2027-01-16T08:00:00Z"),
    );
    assert_eq!(
        show(&p, &subs),
        [
            "a@example.org: d remind:30 (30d)",
            "b@example.org: d remind:30 (30d)"
        ]
    );
    // A move notice stands for reminders due in the same run.
    let p = plan(
        &moved,
        &subs,
        &reminded,
        &HashSet::new(),
        at("2027-01-16T08:00:00Z"),
    );
    assert_eq!(
        show(&p, &subs),
        [
            "a@example.org: d moved (30d)",
            "b@example.org: d remind:30 (30d)",
            "skip a@example.org d remind:30"
        ]
    );

    // Cancelled: a hears of it once, b never.
    let cancelled = testing::catalog(&[(
        "a.toml",
        &deadline("d", "2027-01-15", "status = \"cancelled\""),
    )]);
    let p = plan(&cancelled, &subs, &reminded, &HashSet::new(), now);
    assert_eq!(show(&p, &subs), ["a@example.org: d cancelled (26d)"]);
    let mut told = reminded.clone();
    told.rows.insert(
        key("a@example.org", "d", old, Kind::Cancelled),
        Delivery::Sent,
    );
    assert!(plan(&cancelled, &subs, &told, &HashSet::new(), now)
        .messages
        .is_empty());
}

#[test]
fn digests_filters_opt_outs_and_tentative() {
    let cat = testing::catalog(&[
        ("a.toml", &deadline("late", "2027-01-20", "")),
        ("b.toml", &deadline("soon", "2027-01-10", "status = \"tentative\"")),
        (
            "c.toml",
            "[[deadline]]\nid = \"upr\"\ntitle = \"UPR\"\nmechanism = \"upr\"\ntopics = [\"discrimination\"]\ndue = 2027-01-12\n",
        ),
    ]);
    let mut single = subscriber("single@example.org");
    single.digest = false;
    let mut cerd_only = subscriber("cerd@example.org");
    cerd_only.filter.mechanisms = vec!["cerd".into()];
    let mut women_only = subscriber("women@example.org");
    women_only.filter.topics = vec!["women".into()];
    let gone = subscriber("gone@example.org");
    let subs = vec![
        subscriber("digest@example.org"),
        single,
        cerd_only,
        women_only,
        gone,
    ];
    let opted_out: HashSet<String> = ["gone@example.org".to_string()].into();
    // 2026-12-22: the 30-day reminders of all three (due 10, 12, 20 Jan) are due.
    let p = plan(
        &cat,
        &subs,
        &Ledger::default(),
        &opted_out,
        at("2026-12-22T08:00:00Z"),
    );
    assert_eq!(
        show(&p, &subs),
        [
            "digest@example.org: soon remind:30 (19d), upr remind:30 (21d), late remind:30 (29d)",
            "single@example.org: soon remind:30 (19d)",
            "single@example.org: upr remind:30 (21d)",
            "single@example.org: late remind:30 (29d)",
            "cerd@example.org: soon remind:30 (19d), late remind:30 (29d)",
            "women@example.org: soon remind:30 (19d), late remind:30 (29d)",
        ]
    );
}

#[test]
fn dst_weeks_and_subscriber_zones() {
    // Clocks go forward in Zurich on 2027-03-28, back on 2027-10-31.
    let cat = testing::catalog(&[
        (
            "a.toml",
            &deadline("spring", "2027-03-29", "remind_days = [1]"),
        ),
        (
            "b.toml",
            &deadline("autumn", "2027-10-31", "remind_days = [0]"),
        ),
        (
            "c.toml",
            &deadline(
                "minsk",
                "2027-03-29",
                "remind_days = [1]\ntimezone = \"Europe/Minsk\"",
            ),
        ),
    ]);
    let d = |id: &str| cat.get(id).unwrap().clone();
    // The day before spring's deadline starts at 00:00 CET (UTC+1).
    assert_eq!(due_from(&d("spring"), 1), at("2027-03-27T23:00:00Z"));
    // Autumn's own day starts at 00:00 CEST (UTC+2).
    assert_eq!(due_from(&d("autumn"), 0), at("2027-10-30T22:00:00Z"));
    // Minsk has no DST: UTC+3 all year.
    assert_eq!(due_from(&d("minsk"), 1), at("2027-03-27T21:00:00Z"));

    // Subscribers east and west of Geneva see the same plan: what is due
    // depends on the deadline's zone, theirs only shapes how dates read.
    let mut west = subscriber("west@example.org");
    west.timezone = Tz::America__Los_Angeles;
    let mut east = subscriber("east@example.org");
    east.timezone = Tz::Asia__Tokyo;
    let subs = vec![west, east];
    for (now, expected_ids) in [
        ("2027-03-27T20:59:59Z", vec![]),
        ("2027-03-27T21:00:00Z", vec!["minsk"]),
        ("2027-03-27T23:00:00Z", vec!["minsk", "spring"]),
    ] {
        let p = plan(&cat, &subs, &Ledger::default(), &HashSet::new(), at(now));
        for m in &p.messages {
            let ids: Vec<&str> = m.items.iter().map(|i| &*i.key.deadline).collect();
            assert_eq!(ids, expected_ids, "{now}");
        }
        assert_eq!(
            p.messages.len(),
            if expected_ids.is_empty() { 0 } else { 2 },
            "{now}"
        );
    }
}

#[test]
fn kinds_round_trip() {
    for k in [
        Kind::Remind(0),
        Kind::Remind(365),
        Kind::Moved,
        Kind::Cancelled,
    ] {
        assert_eq!(Kind::parse(&k.to_string()), Some(k));
    }
    assert_eq!(Kind::parse("remind:x"), None);
}

/// A plan's items as "id kind" strings, all messages together.
fn items(p: &Plan) -> Vec<String> {
    p.messages
        .iter()
        .flat_map(|m| m.items.iter())
        .map(|i| format!("{} {}", i.key.deadline, i.key.kind))
        .collect()
}

#[test]
fn milestones_are_reminded_each_and_sessions_never() {
    let text = "[[deadline]]\nid = \"upr\"\ntitle = \"Belarus\"\nmechanism = \"upr\"\ntopics = [\"women\"]\n\
        [[deadline.milestone]]\nkind = \"submission\"\ndue = 2027-03-31\n\
        [[deadline.milestone]]\nkind = \"loi\"\ndue = 2027-04-30\n\
        [[deadline.milestone]]\nkind = \"session\"\ndue = 2027-05-31\n";
    let cat = testing::catalog(&[("a.toml", text)]);
    let subs = vec![subscriber("s@example.org")];
    let run = |now: &str| {
        items(&plan(
            &cat,
            &subs,
            &Ledger::default(),
            &HashSet::new(),
            at(now),
        ))
    };
    // 30 days before each: the submission, then the list of issues; the
    // session (its kind says `remind = false`) never, not even on its day.
    assert_eq!(run("2027-03-01T08:00:00Z"), ["upr.submission remind:30"]);
    // A missed run: each milestone its own smallest due offset.
    assert_eq!(
        run("2027-03-31T08:00:00Z"),
        ["upr.submission remind:1", "upr.loi remind:30"]
    );
    assert!(
        run("2027-05-30T08:00:00Z").is_empty(),
        "no session reminder"
    );
}

#[test]
fn a_yearly_date_is_reminded_every_year_and_an_open_call_never() {
    let text =
        "[[deadline]]\nid = \"hcr\"\ntitle = \"HCR\"\nmechanism = \"upr\"\ntopics = [\"women\"]\n\
        due = 2027-04-30\nrepeat = \"yearly\"\n\
        [[deadline]]\nid = \"open\"\ntitle = \"Open\"\nmechanism = \"upr\"\ntopics = [\"women\"]\n\
        due = \"open\"\nopens = 2027-01-01\n";
    let cat = testing::catalog(&[("a.toml", text)]);
    let subs = vec![subscriber("s@example.org")];
    let run = |now: &str| {
        items(&plan(
            &cat,
            &subs,
            &Ledger::default(),
            &HashSet::new(),
            at(now),
        ))
    };
    assert_eq!(run("2027-04-29T08:00:00Z"), ["hcr.2027 remind:1"]);
    assert_eq!(run("2028-04-29T08:00:00Z"), ["hcr.2028 remind:1"]);
    assert_eq!(run("2031-03-31T08:00:00Z"), ["hcr.2031 remind:30"]);
    // The open call: never, whatever the day.
    for now in ["2027-01-01T08:00:00Z", "2030-06-01T08:00:00Z"] {
        assert!(!run(now).iter().any(|i| i.starts_with("open")), "{now}");
    }
}

#[test]
fn the_planner_gives_the_plan_one_subscriber_at_a_time() {
    let text = [
        deadline("a", "2027-01-15", ""),
        deadline("b", "2027-01-10", ""),
        deadline("c", "2027-02-01", ""),
    ]
    .concat();
    let cat = testing::catalog(&[("a.toml", &text)]);
    let mut quiet = subscriber("quiet@example.org");
    quiet.filter.topics = vec!["children".into()];
    let mut single = subscriber("single@example.org");
    single.digest = false;
    let gone = subscriber("gone@example.org");
    let subs = vec![
        subscriber("first@example.org"),
        quiet,
        single,
        gone,
        subscriber("last@example.org"),
    ];
    let opted_out: HashSet<String> = ["gone@example.org".to_string()].into();
    // A missed month: every offset of a and b is due, c's 30 days too.
    let now = at("2027-01-09T08:00:00Z");
    let ledger = Ledger::default();
    let parts: Vec<Plan> = Planner::new(&cat, &subs, &ledger, &opted_out, now).collect();
    let who: Vec<Vec<usize>> = parts
        .iter()
        .map(|p| p.messages.iter().map(|m| m.subscriber).collect())
        .collect();
    // Nobody with nothing to do (a filter that matches nothing, an opt-out),
    // one message per deadline for a subscriber without digests.
    assert_eq!(who, [vec![0], vec![2, 2, 2], vec![4]]);
    for p in &parts {
        let index = p.messages[0].subscriber;
        assert!(p.skipped.iter().all(|k| *k.subscriber == subs[index].key));
    }
    // The parts together are the whole plan, soonest deadline first.
    let whole = plan(&cat, &subs, &ledger, &opted_out, now);
    let joined = Plan {
        messages: parts.iter().flat_map(|p| p.messages.clone()).collect(),
        skipped: parts.iter().flat_map(|p| p.skipped.clone()).collect(),
    };
    assert_eq!(joined, whole);
    assert_eq!(
        items(&whole)[..3],
        ["b remind:1", "a remind:7", "c remind:30"]
    );
    assert_eq!(
        whole.skipped.len(),
        3 * 3,
        "30 and 7 days of b, 30 of a, each"
    );
}
