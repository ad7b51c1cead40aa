//! [`diff`] on repositories held in memory: every kind of change, the
//! notices, the feeds; and the notices against the reminder planner's.

use std::collections::HashSet;
use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::*;
use crate::load::deadlines::{validate, Source, Sources};
use crate::model::schedule::Window;

const REGISTRY: &str = r#"
[mechanisms.cedaw]
name = "CEDAW"
full_name = "Committee on the Elimination of Discrimination against Women"
[mechanisms.upr]
name = "UPR"
full_name = "Universal Periodic Review"
[topics.women]
en = "Women"
[topics.upr]
en = "UPR"
[topics.elections]
en = "Elections"
[kinds.submission]
en = "Submission"
[kinds.session]
en = "Session"
remind = false
"#;

fn now() -> DateTime<Utc> {
    "2027-01-10T00:00:00Z".parse().unwrap()
}

fn catalog(text: &str) -> Catalog {
    let source = |rel: &str, text: &str| Source {
        rel: PathBuf::from(rel),
        display: PathBuf::from(rel),
        text: text.to_string(),
    };
    let sources = Sources {
        registry: Some(source("registry.toml", REGISTRY)),
        files: vec![source("a.toml", text)],
        diags: vec![],
    };
    let loaded = validate(
        sources,
        chrono_tz::Europe::Zurich,
        Window::around(now(), 30, 730),
    );
    assert!(loaded.catalog.is_some(), "{:?}", loaded.diagnostics);
    loaded.catalog.unwrap()
}

const BEFORE: &str = r#"
[[deadline]]
id = "report"
title = "Report"
mechanism = "cedaw"
topics = ["women"]
due = 2027-03-01

[[deadline]]
id = "moved"
title = "Moved"
mechanism = "cedaw"
topics = ["women"]
due = 2027-03-01T12:00:00

[[deadline]]
id = "extended"
title = "Extended"
mechanism = "cedaw"
topics = ["women"]
due = 2027-03-01

[[deadline]]
id = "cancelled"
title = "Cancelled"
mechanism = "cedaw"
topics = ["women"]
due = 2027-04-01

[[deadline]]
id = "reinstated"
title = "Reinstated"
mechanism = "cedaw"
topics = ["women"]
due = 2027-04-01
status = "cancelled"

[[deadline]]
id = "gone"
title = "Gone"
mechanism = "cedaw"
topics = ["women"]
due = 2027-05-01

[[deadline]]
id = "past"
title = "Past"
mechanism = "cedaw"
topics = ["women"]
due = 2027-01-02

[[deadline]]
id = "upr-blr"
title = "Belarus"
mechanism = "upr"
topics = ["upr"]
timezone = "Europe/Zurich"

[[deadline.milestone]]
kind = "submission"
due = 2027-04-08T12:00:00

[[deadline.milestone]]
kind = "session"
due = 2027-11-05

[[deadline]]
id = "upr-geo"
title = "Georgia"
mechanism = "upr"
topics = ["upr"]

[[deadline.milestone]]
kind = "submission"
due = 2027-05-08T12:00:00
"#;

const AFTER: &str = r#"
[[deadline]]
id = "report"
title = "Report (revised)"
mechanism = "cedaw"
topics = ["women", "elections"]
due = 2027-03-01
url = "https://www.ohchr.org/"
description = "Long text"
word_limit = 5000

[[deadline]]
id = "moved"
title = "Moved"
mechanism = "cedaw"
topics = ["women"]
due = 2027-02-20T12:00:00

[[deadline]]
id = "extended"
title = "Extended"
mechanism = "cedaw"
topics = ["women"]
due = 2027-03-31
extended_from = 2027-03-01

[[deadline]]
id = "cancelled"
title = "Cancelled"
mechanism = "cedaw"
topics = ["women"]
due = 2027-04-01
status = "cancelled"

[[deadline]]
id = "reinstated"
title = "Reinstated"
mechanism = "cedaw"
topics = ["women"]
due = 2027-04-01

[[deadline]]
id = "new"
title = "New"
mechanism = "cedaw"
topics = ["women"]
due = 2027-06-01

[[deadline]]
id = "past"
title = "Past"
mechanism = "cedaw"
topics = ["women"]
due = 2027-01-05

[[deadline]]
id = "upr-blr"
title = "Belarus"
mechanism = "upr"
topics = ["upr"]
timezone = "Europe/Zurich"

[[deadline.milestone]]
kind = "submission"
due = 2027-04-08T12:00:00

[[deadline]]
id = "upr-geo"
title = "Georgia"
mechanism = "upr"
topics = ["upr"]

[[deadline.milestone]]
kind = "submission"
due = 2027-05-08T12:00:00

[[deadline.milestone]]
kind = "session"
due = 2027-12-01
"#;

#[test]
fn every_kind_of_change_and_its_notice() {
    let report = diff(&catalog(BEFORE), &catalog(AFTER), now());
    insta::assert_snapshot!(report.human());
    let notices: Vec<(&str, Option<Notice>)> = report
        .changes
        .iter()
        .map(|c| (c.id.as_str(), c.notice))
        .collect();
    assert_eq!(
        notices,
        [
            ("cancelled", Some(Notice::Cancelled)),
            ("extended", Some(Notice::Moved)),
            ("gone", None),
            ("moved", Some(Notice::Moved)),
            ("new", None),
            // Past: nobody is reminded of it any more.
            ("past", None),
            ("reinstated", None),
            ("report", None),
            ("upr-blr.session", None),
            ("upr-geo.session", None),
        ]
    );
    assert_eq!(
        report.feeds,
        [
            "calendar.ics",
            "mechanisms/cedaw.ics",
            "mechanisms/upr.ics",
            "topics/elections.ics",
            "topics/upr.ics",
            "topics/women.ics"
        ]
    );
    insta::assert_snapshot!(report.markdown());
    let json = serde_json::to_string_pretty(&serde_json::to_value(&report).unwrap()["changes"][1])
        .unwrap();
    insta::assert_snapshot!(json);
}

#[test]
fn no_change_is_said_plainly() {
    let report = diff(&catalog(BEFORE), &catalog(BEFORE), now());
    assert!(report.changes.is_empty() && report.feeds.is_empty());
    assert_eq!(report.human(), "no change to any deadline\n");
    assert!(report.markdown().ends_with("No deadline changes.\n"));
    // Moving an entry to another line changes nothing either.
    let entries: Vec<&str> = BEFORE.split("\n[[deadline]]\n").skip(1).collect();
    let reordered: String = entries
        .iter()
        .rev()
        .map(|e| format!("\n[[deadline]]\n{e}\n"))
        .collect();
    assert!(diff(&catalog(BEFORE), &catalog(&reordered), now())
        .changes
        .is_empty());
}

#[test]
fn markdown_cells_cannot_break_the_table_or_ping_anyone() {
    let before = "[[deadline]]\nid = \"a\"\ntitle = \"A\"\nmechanism = \"cedaw\"\ntopics = [\"women\"]\ndue = 2027-03-01\n";
    let after = before.replace(
        "title = \"A\"",
        "title = \"A | @team <b>x</b> [l](http://e)\"",
    );
    let md = diff(&catalog(before), &catalog(&after), now()).markdown();
    let row = md.lines().find(|l| l.starts_with("| `a`")).unwrap();
    // Four cells: three separators; the title's `|` is escaped.
    assert_eq!(row.matches(" | ").count(), 3, "{row}");
    assert!(!row.contains(" @team") && !row.contains("<b>"), "{row}");
}

/// The notices [`diff`] announces are the ones the planner sends to a
/// subscriber who was reminded of the old version.
#[test]
fn notices_match_the_reminder_planners() {
    use crate::reminders::plan::{plan, Delivery, Key, Kind, Ledger};
    let (old, new) = (catalog(BEFORE), catalog(AFTER));
    let report = diff(&old, &new, now());
    let subscriber = crate::testing::subscriber("s@example.org");
    // Reminded of every old item 30 days before (whatever the date).
    let mut ledger = Ledger::default();
    for d in old.deadlines() {
        ledger.rows.insert(
            Key {
                subscriber: subscriber.key.as_str().into(),
                deadline: d.id.as_str().into(),
                due_at: d.due_at,
                kind: Kind::Remind(30),
            },
            Delivery::Sent,
        );
    }
    let planned = plan(
        &new,
        std::slice::from_ref(&subscriber),
        &ledger,
        &HashSet::new(),
        now(),
    );
    let sent: Vec<(String, Kind)> = planned
        .messages
        .iter()
        .flat_map(|m| &m.items)
        .filter(|i| matches!(i.key.kind, Kind::Moved | Kind::Cancelled))
        .map(|i| (i.key.deadline.to_string(), i.key.kind))
        .collect();
    let announced: Vec<(String, Kind)> = report
        .changes
        .iter()
        .filter_map(|c| {
            c.notice.map(|n| {
                let kind = match n {
                    Notice::Moved => Kind::Moved,
                    Notice::Cancelled => Kind::Cancelled,
                };
                (c.id.clone(), kind)
            })
        })
        .collect();
    let mut sent = sent;
    sent.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(announced, sent);
}
