use chrono::{NaiveDate, TimeZone, Utc};

use super::*;

const URL: &str = "https://www.ohchr.org/en/calls-for-input/belarus";

fn t(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2027, 3, day, 6, 0, 0).unwrap()
}

fn page(text: &str) -> Observation {
    Observation {
        final_url: Some(URL.into()),
        outcome: Outcome::Page {
            status: 200,
            content: Content {
                fingerprint: crate::watch::text::fingerprint(text.as_bytes()),
                text: text.into(),
                cut: false,
            },
            etag: Some("\"v1\"".into()),
            last_modified: None,
        },
    }
}

fn status(code: u16) -> Observation {
    Observation {
        final_url: Some(URL.into()),
        outcome: Outcome::Status(code),
    }
}

fn failed(f: Failure) -> Observation {
    Observation {
        final_url: None,
        outcome: Outcome::Failed(f),
    }
}

const RULES: Rules = Rules {
    failures: 3,
    timeout: std::time::Duration::from_secs(30),
};

/// The states after each observation in turn, from a URL never checked (day 1, 2, …).
fn run(seen: Vec<Observation>) -> Vec<UrlState> {
    let mut out: Vec<UrlState> = Vec::new();
    for (i, o) in seen.into_iter().enumerate() {
        let s = observe(out.last(), URL, o, t(i as u32 + 1));
        out.push(s);
    }
    out
}

fn kinds(states: &[UrlState], verified: Option<NaiveDate>, rules: Rules) -> Vec<Option<Kind>> {
    states
        .iter()
        .map(|s| problem(s, verified, rules).map(|p| p.kind))
        .collect()
}

#[test]
fn the_first_check_is_the_baseline_and_a_change_is_seen_with_its_lines() {
    let states = run(vec![
        page("Call\nDeadline: 31 March 2027"),
        page("Call\nDeadline: 31 March 2027"),
        page("Call\nDeadline: 30 April 2027"),
        page("Call\nDeadline: 30 April 2027"),
    ]);
    assert_eq!(states[0].changed_at, None);
    assert_eq!(states[1].changed_at, None);
    assert_eq!(states[2].changed_at, Some(t(3)));
    assert_eq!(
        states[2].excerpt.as_deref(),
        Some("- Deadline: **31 March 2027**\n+ Deadline: **30 April 2027**\n")
    );
    // Without `verified`: only the check that saw it.
    assert_eq!(
        kinds(&states, None, RULES),
        [None, None, Some(Kind::Changed), None]
    );
}

#[test]
fn a_change_stays_a_problem_until_the_entry_is_verified_on_or_after_it() {
    let states = run(vec![page("a"), page("b"), page("b")]);
    let day = |d| NaiveDate::from_ymd_opt(2027, 3, d).unwrap();
    assert_eq!(kinds(&states, Some(day(1)), RULES)[2], Some(Kind::Changed));
    // Verified on the day of the change counts as seen (a date has no hour).
    assert_eq!(kinds(&states, Some(day(2)), RULES)[2], None);
    assert_eq!(kinds(&states, Some(day(3)), RULES)[2], None);
    let p = problem(&states[2], Some(day(1)), RULES).unwrap();
    assert_eq!(
        p.message,
        "the page changed on 2027-03-02 (the entry was verified on 2027-03-01); check the entry and set `verified`"
    );
    // Another change is another problem.
    let again = observe(Some(&states[2]), URL, page("c"), t(4));
    assert_ne!(problem(&again, Some(day(1)), RULES).unwrap().key, p.key);
}

#[test]
fn gone_at_once_other_failures_after_three_in_a_row() {
    let states = run(vec![
        page("a"),
        status(503),
        failed(Failure::Timeout),
        failed(Failure::Connect("connection refused".into())),
        page("a"),
        status(404),
        status(410),
    ]);
    assert_eq!(
        kinds(&states, None, RULES),
        [
            None,
            None,
            None,
            Some(Kind::Failing),
            None,
            Some(Kind::Gone),
            Some(Kind::Gone)
        ]
    );
    let p = problem(&states[3], None, RULES).unwrap();
    assert_eq!(
        p.message,
        "cannot connect: connection refused (3 checks in a row, since 2027-03-02 06:00 UTC)"
    );
    assert_eq!(states[4].failures, 0, "an answer resets the count");
    assert_ne!(
        problem(&states[5], None, RULES).unwrap().key,
        problem(&states[6], None, RULES).unwrap().key
    );
    let timeouts = run(vec![
        failed(Failure::Timeout),
        failed(Failure::Timeout),
        failed(Failure::Timeout),
    ]);
    assert_eq!(
        problem(&timeouts[2], None, RULES).unwrap().message,
        "no answer within 30s (3 checks in a row, since 2027-03-01 06:00 UTC)"
    );
}

#[test]
fn dns_tls_loops_and_refused_redirects_are_problems_at_once() {
    for (f, kind) in [
        (Failure::Dns("no such host".into()), Kind::Dns),
        (Failure::Tls("invalid peer certificate".into()), Kind::Tls),
        (Failure::Loop("https://a/ -> https://a/".into()), Kind::Loop),
        (
            Failure::Refused("to a private address".into()),
            Kind::Refused,
        ),
    ] {
        let states = run(vec![failed(f)]);
        assert_eq!(kinds(&states, None, RULES), [Some(kind)]);
    }
}

#[test]
fn an_answer_from_another_host_is_a_move() {
    let mut moved = page("a");
    moved.final_url = Some("https://example.net/new".into());
    let states = run(vec![page("a"), moved]);
    let p = problem(&states[1], None, RULES).unwrap();
    assert_eq!(p.kind, Kind::Moved);
    assert_eq!(p.key, "moved:example.net");
    // The same host under another path is not.
    let mut same = page("a");
    same.final_url = Some("https://WWW.ohchr.org/en/other".into());
    assert_eq!(kinds(&run(vec![same]), None, RULES), [None]);
}

#[test]
fn not_modified_keeps_what_was_read() {
    let states = run(vec![
        page("a"),
        Observation {
            final_url: Some(URL.into()),
            outcome: Outcome::NotModified,
        },
    ]);
    assert_eq!(states[1].status, Some(304));
    assert_eq!(states[1].text.as_deref(), Some("a"));
    assert_eq!(states[1].etag.as_deref(), Some("\"v1\""));
    assert_eq!(states[1].answered_at, Some(t(2)));
    assert_eq!(states[1].changed_at, None);
    assert_eq!(status_text(&states[1]), "304");
}

#[test]
fn status_texts() {
    let states = run(vec![
        failed(Failure::Timeout),
        status(503),
        failed(Failure::Dns("x".into())),
    ]);
    let texts: Vec<String> = states.iter().map(status_text).collect();
    assert_eq!(texts, ["timeout", "503", "dns"]);
    let mut cut = page("a");
    if let Outcome::Page { content, .. } = &mut cut.outcome {
        content.cut = true;
    }
    assert_eq!(
        status_text(&run(vec![cut])[0]),
        "200, cut at the body limit"
    );
}

/// A text stored by older rules (`reader` 1) is read again without a
/// change; the one after is compared as usual.
#[test]
fn a_text_made_by_older_rules_is_read_again_quietly() {
    let old = UrlState {
        reader: 1,
        ..run(vec![page("Deadline: 1 May &Scaron;")]).remove(0)
    };
    let again = observe(Some(&old), URL, page("Deadline: 1 May Š"), t(2));
    assert_eq!(again.changed_at, None, "not a change");
    assert_eq!(again.excerpt, None);
    assert_eq!(again.reader, crate::watch::text::READER);
    assert_eq!(again.text.as_deref(), Some("Deadline: 1 May Š"));
    assert_eq!(problem(&again, None, RULES), None);
    // Once only: the next change of the page is one.
    let changed = observe(Some(&again), URL, page("Deadline: 15 May Š"), t(3));
    assert_eq!(changed.changed_at, Some(t(3)));
    assert_eq!(
        problem(&changed, None, RULES).map(|p| p.kind),
        Some(Kind::Changed)
    );
    // Under the current rules, the same difference is a change.
    let current = UrlState {
        reader: crate::watch::text::READER,
        ..old
    };
    let seen = observe(Some(&current), URL, page("Deadline: 1 May Š"), t(2));
    assert_eq!(seen.changed_at, Some(t(2)));
}
