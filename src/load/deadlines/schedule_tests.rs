//! Milestones, yearly dates, open calls and extensions: what loads, the
//! items it makes, and one snapshot per error class.

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use super::*;
use crate::model::deadline::{Due, Status};
use crate::testing;

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

fn sources(registry: &str, text: &str) -> Sources {
    let source = |rel: &str, text: &str| Source {
        rel: rel.into(),
        display: std::path::PathBuf::from("deadlines").join(rel),
        text: text.to_string(),
    };
    Sources {
        registry: Some(source("registry.toml", registry)),
        files: vec![source("upr.toml", text)],
        diags: Vec::new(),
    }
}

fn load_at(text: &str, window: Window) -> Loaded {
    validate(sources(testing::REGISTRY, text), Tz::Europe__Zurich, window)
}

fn load(text: &str) -> Loaded {
    load_at(text, testing::WINDOW)
}

fn render(loaded: &Loaded) -> String {
    diagnostic::render_human(&loaded.diagnostics)
}

/// An entry's common keys, then `rest`.
fn entry(rest: &str) -> String {
    format!("[[deadline]]\nid = \"upr-blr\"\ntitle = \"Belarus\"\nmechanism = \"upr\"\ntopics = [\"women\"]\n{rest}")
}

const UPR: &str = r#"
timezone = "Europe/Zurich"
status = "tentative"

[[deadline.milestone]]
kind = "submission"
opens = 2027-01-10
due = 2027-03-31T12:00:00
status = "confirmed"

[[deadline.milestone]]
kind = "loi"
label = "Pre-session application"
due = 2027-05-15
timezone = "Europe/Vilnius"

[[deadline.milestone]]
kind = "session"
due = 2027-11-05
"#;

#[test]
fn milestones_become_one_item_each() {
    let loaded = load(&entry(UPR));
    assert_eq!(render(&loaded), "");
    let catalog = loaded.catalog.unwrap();
    let ids: Vec<&str> = catalog.deadlines().iter().map(|d| d.id.as_str()).collect();
    assert_eq!(
        ids,
        ["upr-blr.submission", "upr-blr.loi", "upr-blr.session"]
    );
    let s = catalog.get("upr-blr.submission").unwrap();
    assert_eq!(s.entry, "upr-blr");
    assert_eq!(s.due_at, at("2027-03-31T10:00:00Z"));
    assert_eq!(s.opens.as_deref().unwrap().at, at("2027-01-09T23:00:00Z"));
    assert_eq!(s.status, Status::Confirmed);
    assert!(s.remind);
    let loi = catalog.get("upr-blr.loi").unwrap();
    assert_eq!(loi.timezone, Tz::Europe__Vilnius);
    assert_eq!(loi.status, Status::Tentative, "inherited from the entry");
    assert_eq!(
        loi.milestone.as_ref().unwrap().label.as_deref(),
        Some("Pre-session application")
    );
    // Sessions are for information: the kind says `remind = false`.
    assert!(!catalog.get("upr-blr.session").unwrap().remind);
    // Each milestone is its own version: fingerprints differ.
    assert_ne!(s.fingerprint, loi.fingerprint);
}

#[test]
fn remind_on_a_milestone_or_entry_overrides_the_kind() {
    let text = entry(
        "remind = false\n[[deadline.milestone]]\nkind = \"submission\"\ndue = 2027-03-31\n\
         [[deadline.milestone]]\nkind = \"session\"\ndue = 2027-11-05\nremind = true\n",
    );
    let catalog = load(&text).catalog.unwrap();
    assert!(!catalog.get("upr-blr.submission").unwrap().remind);
    assert!(catalog.get("upr-blr.session").unwrap().remind);
}

#[test]
fn a_single_due_keeps_its_id_and_fingerprint() {
    // The same entry as before milestones existed: same id, and a
    // fingerprint that does not see the new (unset) keys.
    let text = entry("due = 2027-03-31\n");
    let catalog = load(&text).catalog.unwrap();
    let d = catalog.get("upr-blr").unwrap();
    assert_eq!((d.entry.as_str(), d.milestone.is_none()), ("upr-blr", true));
    assert!(d.remind && d.year.is_none() && d.opens.is_none());
}

#[test]
fn yearly_dates_repeat_inside_the_window() {
    let text = entry("due = 2025-04-30\nrepeat = \"yearly\"\nopens = 2025-01-01\n");
    let window = Window::around(at("2027-01-15T00:00:00Z"), 365, 730);
    let loaded = load_at(&text, window);
    assert_eq!(render(&loaded), "");
    let catalog = loaded.catalog.unwrap();
    let got: Vec<(String, String, Option<i32>)> = catalog
        .deadlines()
        .iter()
        .map(|d| (d.id.clone(), d.due_date().to_string(), d.year))
        .collect();
    assert_eq!(
        got,
        [
            ("upr-blr.2026".into(), "2026-04-30".into(), Some(2026)),
            ("upr-blr.2027".into(), "2027-04-30".into(), Some(2027)),
            ("upr-blr.2028".into(), "2028-04-30".into(), Some(2028)),
        ]
    );
    let d = catalog.get("upr-blr.2028").unwrap();
    assert_eq!(
        d.opens.as_deref().unwrap().written,
        Due::Date("2028-01-01".parse().unwrap())
    );
    // Every year is its own item with its own fingerprint.
    assert_ne!(
        d.fingerprint,
        catalog.get("upr-blr.2027").unwrap().fingerprint
    );
}

#[test]
fn yearly_dates_stop_at_until_and_keep_the_local_time() {
    // 12:00 in Geneva is 11:00Z in winter and 10:00Z in summer.
    let text = entry("due = 2026-03-20T12:00:00\nrepeat = \"yearly\"\nuntil = 2028-12-31\n");
    let loaded = load(&text);
    let catalog = loaded.catalog.unwrap();
    let got: Vec<(String, DateTime<Utc>)> = catalog
        .deadlines()
        .iter()
        .map(|d| (d.id.clone(), d.due_at))
        .collect();
    assert_eq!(
        got,
        [
            ("upr-blr.2026".into(), at("2026-03-20T11:00:00Z")),
            ("upr-blr.2027".into(), at("2027-03-20T11:00:00Z")),
            ("upr-blr.2028".into(), at("2028-03-20T11:00:00Z")),
        ]
    );
}

#[test]
fn a_yearly_milestone_has_kind_and_year_in_its_id() {
    let text = entry(
        "[[deadline.milestone]]\nkind = \"submission\"\ndue = 2026-12-01\nrepeat = \"yearly\"\nuntil = 2027-12-01\n",
    );
    let catalog = load(&text).catalog.unwrap();
    let ids: Vec<&str> = catalog.deadlines().iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["upr-blr.submission.2026", "upr-blr.submission.2027"]);
}

#[test]
fn a_local_time_in_a_later_years_gap_moves_after_it() {
    // 2026-03-28 02:30 exists in Zurich; on 2027-03-28 the clocks skip
    // from 02:00 to 03:00, so that year's occurrence is the same moment
    // the clocks show an hour later, 03:30 CEST (01:30Z), as `check`
    // suggests for a written time in a gap.
    let text = entry("due = 2026-03-28T02:30:00\nrepeat = \"yearly\"\nuntil = 2027-12-31\n");
    let catalog = load(&text).catalog.unwrap();
    let d = catalog.get("upr-blr.2027").unwrap();
    assert_eq!(d.due_at, at("2027-03-28T01:30:00Z"));
}

#[test]
fn an_open_call_is_never_reminded_and_sorts_last() {
    let text = format!(
        "{}\n{}",
        entry("due = \"open\"\nopens = 2026-06-01\n"),
        "[[deadline]]\nid = \"later\"\ntitle = \"x\"\nmechanism = \"cerd\"\ntopics = [\"women\"]\ndue = 2035-01-01\n"
    );
    let catalog = load(&text).catalog.unwrap();
    let d = catalog.get("upr-blr").unwrap();
    assert!(d.is_open() && !d.remind);
    assert!(d.is_upcoming(at("2999-01-01T00:00:00Z")));
    assert_eq!(catalog.deadlines().last().unwrap().id, "upr-blr");
}

#[test]
fn extended_from_is_kept_as_written() {
    let text = entry("due = 2027-04-30\nextended_from = 2027-03-31\n");
    let catalog = load(&text).catalog.unwrap();
    let d = catalog.get("upr-blr").unwrap();
    let from = d.extended_from.as_deref().unwrap();
    assert_eq!(from.written, Due::Date("2027-03-31".parse().unwrap()));
    assert!(from.at < d.due_at);
}

#[test]
fn registry_kinds_are_checked() {
    let cases = [
        ("registry_kind_number", "[kinds.2027]\nen = \"x\"\n"),
        (
            "registry_kind_no_en",
            "[kinds.session]\nru = \"Сессия\"\nremind = \"no\"\n",
        ),
    ];
    for (name, kinds) in cases {
        let registry = format!("{}\n{kinds}", testing::REGISTRY.replace("[kinds.", "[old."));
        let registry = registry.split("[old.").next().unwrap().to_string() + kinds;
        let loaded = validate(
            sources(&registry, &entry("due = 2027-01-01\n")),
            Tz::Europe__Zurich,
            testing::WINDOW,
        );
        assert!(loaded.catalog.is_none(), "{name}");
        insta::assert_snapshot!(name, render(&loaded), &registry);
    }
}

/// One snapshot per error class of the schedule.
#[test]
fn schedule_error_classes() {
    let m = |rest: &str| {
        entry(&format!(
            "[[deadline.milestone]]\nkind = \"submission\"\n{rest}"
        ))
    };
    let cases: Vec<(&str, String)> = vec![
        ("due_and_milestones", entry("due = 2027-03-31\n[[deadline.milestone]]\nkind = \"submission\"\ndue = 2027-03-31\n")),
        ("milestone_without_due", m("opens = 2027-01-01\n")),
        ("milestone_without_kind", entry("[[deadline.milestone]]\ndue = 2027-03-31\n")),
        ("milestone_empty_list", entry("milestone = []\n")),
        ("milestone_not_a_table", entry("milestone = [1]\n")),
        ("milestone_scalar", entry("milestone = \"submission\"\n")),
        ("milestone_unknown_kind", m("due = 2027-03-31\n[[deadline.milestone]]\nkind = \"sesion\"\ndue = 2027-11-05\n")),
        ("milestone_kind_twice", m("due = 2027-03-31\n[[deadline.milestone]]\nkind = \"submission\"\ndue = 2027-04-30\n")),
        ("milestone_unknown_key", m("due = 2027-03-31\ndeu = 2027-03-31\ntopics = [\"women\"]\n")),
        ("milestone_bad_status_and_zone", m("due = 2027-03-31\nstatus = \"tentativ\"\ntimezone = \"Geneva\"\n")),
        ("entry_keys_beside_milestones", entry("opens = 2027-01-01\nrepeat = \"yearly\"\n[[deadline.milestone]]\nkind = \"submission\"\ndue = 2027-03-31\n")),
        ("opens_after_due", entry("due = 2027-03-31\nopens = 2027-04-01\n")),
        ("opens_on_due_day", m("due = 2027-03-31T12:00:00\nopens = 2027-03-31T12:00:00\n")),
        ("opens_string", entry("due = 2027-03-31\nopens = \"2027-01-01\"\n")),
        ("extended_from_after_due", entry("due = 2027-03-31\nextended_from = 2027-04-30\n")),
        ("repeat_monthly", entry("due = 2027-03-31\nrepeat = \"monthly\"\n")),
        ("until_without_repeat", entry("due = 2027-03-31\nuntil = 2030-01-01\n")),
        ("until_before_first_due", entry("due = 2027-03-31\nrepeat = \"yearly\"\nuntil = 2026-12-31\n")),
        ("until_with_time", entry("due = 2027-03-31\nrepeat = \"yearly\"\nuntil = 2030-01-01T00:00:00\n")),
        ("yearly_29_february", entry("due = 2028-02-29\nrepeat = \"yearly\"\n")),
        ("yearly_extended_from", entry("due = 2027-04-30\nrepeat = \"yearly\"\nextended_from = 2027-03-31\n")),
        ("open_repeat", entry("due = \"open\"\nrepeat = \"yearly\"\n")),
        ("open_extended_from", entry("due = \"open\"\nextended_from = 2027-03-31\n")),
        ("open_remind", entry("due = \"open\"\nremind = true\n")),
        ("open_capitalised", entry("due = \"Open\"\n")),
        ("remind_not_bool", entry("due = 2027-03-31\nremind = \"no\"\n")),
    ];
    for (name, text) in cases {
        let loaded = load(&text);
        assert!(loaded.catalog.is_none(), "{name}: expected an error");
        insta::assert_snapshot!(name, render(&loaded), &text);
    }
}

#[test]
fn milestones_without_kinds_in_the_registry() {
    let registry = testing::REGISTRY.split("[kinds.").next().unwrap();
    let text = entry("[[deadline.milestone]]\nkind = \"submission\"\ndue = 2027-03-31\n");
    let loaded = validate(
        sources(registry, &text),
        Tz::Europe__Zurich,
        testing::WINDOW,
    );
    insta::assert_snapshot!(render(&loaded), @r#"
    deadlines/upr.toml:7:8: error: unknown milestone kind `submission`
      7 | kind = "submission"
        |        ^^^^^^^^^^^^
      help: the registry lists no milestone kinds: add `[kinds.<slug>]` tables (with `en = "…"`) to `registry.toml`
    "#);
}
