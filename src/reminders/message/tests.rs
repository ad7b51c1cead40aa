//! Tests of reminder and alert messages.

use super::*;
use crate::i18n::Lang;
use crate::reminders::plan::{self, Ledger};
use crate::testing;
use chrono::Duration;
use chrono_tz::Tz;
use std::collections::HashSet;

#[test]
fn alert_to_staff() {
    let now = DateTime::parse_from_rfc3339("2026-11-23T14:05:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let data = vec![
        "deadlines/2027.toml:3:13: error: unknown mechanism `cedw`\n  3 | mechanism = \"cedw\"\n    |             ^^^^^^\n  help: did you mean `cedaw`?".to_string(),
    ];
    let git = vec!["`git fetch` failed: fatal: could not read from remote repository".to_string()];
    let from: Mailbox = "mechcal <reminders@calendar.example.org>".parse().unwrap();
    let problems = [
        Problem {
            source: "data",
            since: now,
            diagnostics: &data,
        },
        Problem {
            source: "git",
            since: now - chrono::Duration::hours(2),
            diagnostics: &git,
        },
    ];
    let staff = [
        "ops@example.org".to_string(),
        "editor@example.org".to_string(),
    ];
    let m = alert(
        &from,
        &staff,
        "calendar.example.org",
        &problems,
        "a1e3",
        12,
        now,
    )
    .unwrap();
    let text = String::from_utf8(m.formatted()).unwrap();
    let again = alert(
        &from,
        &staff,
        "calendar.example.org",
        &problems,
        "a1e3",
        12,
        now + chrono::Duration::hours(1),
    )
    .unwrap();
    let id = |m: &Message| m.headers().get_raw("Message-ID").unwrap().to_string();
    assert_eq!(id(&m), id(&again), "one set of problems, one Message-ID");
    let other = alert(
        &from,
        &staff,
        "calendar.example.org",
        &problems[..1],
        "a1e3",
        12,
        now,
    )
    .unwrap();
    assert_ne!(id(&m), id(&other));
    assert_eq!(m.envelope().to().len(), 2);
    let redacted: String = text
        .lines()
        .filter(|l| !l.starts_with("Date: "))
        .collect::<Vec<_>>()
        .join("\n");
    insta::assert_snapshot!(redacted);
}

fn subscriber(lang: Lang) -> Subscriber {
    Subscriber {
        name: "Anna".into(),
        email: "anna@example.org".into(),
        filter: Default::default(),
        remind_days: vec![30, 7, 1],
        timezone: Tz::Europe__Vilnius,
        language: lang,
        digest: true,
        discreet: false,
        openpgp: None,
        line: 1,
        key: "anna@example.org".into(),
        origin: Default::default(),
        link_value: 0,
    }
}

fn formatted(lang: Lang) -> (String, String) {
    formatted_with(lang, "Альтернативный доклад")
}

fn formatted_with(lang: Lang, title: &str) -> (String, String) {
    formatted_entry(lang, title, "")
}

/// The reminder mail for an entry titled `title` with `extra` TOML lines.
fn formatted_entry(lang: Lang, title: &str, extra: &str) -> (String, String) {
    let cat = testing::catalog(&[(
        "a.toml",
        &format!("[[deadline]]\nid = \"cerd-2027\"\ntitle = \"{title}\"\nmechanism = \"cerd\"\ntopics = [\"women\"]\ndue = 2027-07-15\nstatus = \"tentative\"\nsubmit_to = \"cerd@example.org\"\n{extra}"),
    )]);
    let subs = vec![subscriber(lang)];
    let now: DateTime<Utc> = "2027-07-08T06:00:00Z".parse().unwrap();
    let p = plan::plan(&cat, &subs, &Ledger::default(), &HashSet::new(), now);
    let m = &p.messages[0];
    let items: Vec<(&Item, &Deadline)> = m
        .items
        .iter()
        .map(|i| (i, cat.get(&i.key.deadline).unwrap()))
        .collect();
    let from: Mailbox = "mechcal <reminders@calendar.example.org>".parse().unwrap();
    let opts = FeedOptions {
        name: "Deadlines".into(),
        domain: "calendar.example.org".into(),
        lang,
        alarm: None,
        refresh: Duration::hours(6),
        cutoff: DateTime::UNIX_EPOCH,
    };
    let head = Letterhead {
        from: &from,
        domain: "calendar.example.org",
        unsubscribe_url: "https://calendar.example.org/unsubscribe?token=abc",
        manage_url: "https://calendar.example.org/manage?token=def",
        list_id: "\"Deadlines\" <reminders.calendar.example.org>",
        feed: &opts,
        subject_prefix: "Deadlines",
        versions: &Versions::default(),
    };
    let keys: Vec<&Key> = items.iter().map(|(i, _)| &i.key).collect();
    let id = message_id(&keys, head.domain, &address_key());
    let msg = build(&cat, &subs[0], &items, &head, &id, now).unwrap();
    (
        String::from_utf8(msg.formatted()).unwrap(),
        subject(&cat, &subs[0], &items, "Deadlines"),
    )
}

#[test]
fn headers_parts_and_stable_message_id() {
    let (text, subject) = formatted(Lang::EN);
    assert_eq!(
        subject,
        "[Deadlines] CERD — Альтернативный доклад due in 7 days (15 July 2027)"
    );
    for header in [
        "Message-ID: <reminder.",
        "Auto-Submitted: auto-generated",
        "List-Unsubscribe: <https://calendar.example.org/unsubscribe?token=abc>",
        "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
        "Date: Thu, 08 Jul 2027 06:00:00 +0000",
        "Content-Type: multipart/mixed;",
        "Content-Type: multipart/alternative;",
        "Content-Type: text/plain; charset=utf-8",
        "Content-Type: text/html; charset=utf-8",
        "Content-Type: text/calendar; charset=utf-8; method=PUBLISH",
        "Content-Disposition: attachment; filename=\"deadlines.ics\"",
    ] {
        assert!(text.contains(header), "missing {header:?} in\n{text}");
    }
    // The same keys give the same Message-ID, run after run.
    let id = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("Message-ID:"))
            .unwrap()
            .to_string()
    };
    assert_eq!(id(&text), id(&formatted(Lang::EN).0));
    // Headers stay headers: no raw non-ASCII, no injected lines.
    let head = &text[..text.find("\r\n\r\n").unwrap()];
    assert!(head.is_ascii(), "{head}");
}

#[test]
fn header_text_cannot_break_lines() {
    assert_eq!(
        one_line("Report\r\nBcc: victim@example.org"),
        "Report  Bcc: victim@example.org"
    );
    assert_eq!(one_line("tab\there\u{7}"), "tab here ");
}

/// The Subject as a mail reader decodes it, and its raw header lines.
fn decoded_subject(text: &str) -> (String, Vec<String>) {
    let head = &text[..text.find("\r\n\r\n").unwrap()];
    let lines: Vec<String> = head
        .split("\r\n")
        .skip_while(|l| !l.starts_with("Subject: "))
        .enumerate()
        .take_while(|(i, l)| *i == 0 || l.starts_with(' '))
        .map(|(_, l)| l.to_string())
        .collect();
    let mut out = String::new();
    let mut last_encoded = false;
    for (i, line) in lines.iter().enumerate() {
        let body = if i == 0 {
            &line["Subject: ".len()..]
        } else {
            &line[1..]
        };
        for (j, word) in body.split(' ').enumerate() {
            let encoded = word.starts_with("=?utf-8?b?") && word.ends_with("?=");
            // RFC 2047: white space between encoded-words is dropped.
            if (i > 0 || j > 0) && !(encoded && last_encoded) {
                out.push(' ');
            }
            if encoded {
                let b64 = &word["=?utf-8?b?".len()..word.len() - 2];
                out.push_str(&String::from_utf8(base64_decode(b64)).unwrap());
            } else {
                out.push_str(word);
            }
            last_encoded = encoded;
        }
    }
    (out, lines)
}

fn base64_decode(s: &str) -> Vec<u8> {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut bits = 0u32;
    let mut n = 0;
    let mut out = Vec::new();
    for c in s.bytes().filter(|&c| c != b'=') {
        bits = bits << 6 | ABC.iter().position(|&a| a == c).unwrap() as u32;
        n += 6;
        if n >= 8 {
            n -= 8;
            out.push((bits >> n) as u8);
        }
    }
    out
}

#[test]
fn subjects_reach_the_reader_literally_and_folded() {
    let sneaky = "Report =?utf-8?q?=D0=9E=D1=82=D0=BC=D0=B5=D0=BD=D0=B0?= now";
    let (text, subject) = formatted_with(Lang::EN, sneaky);
    let (decoded, lines) = decoded_subject(&text);
    assert_eq!(decoded, subject);
    assert!(decoded.contains(sneaky), "{decoded}");
    assert!(!lines.iter().any(|l| l.contains("=?utf-8?q?")), "{lines:?}");
    // The longest title allowed, in Cyrillic: folded lines, none long.
    let long = "Доклад ".repeat(43);
    let long = long.trim();
    assert_eq!(long.chars().count(), 300);
    let (text, subject) = formatted_with(Lang::parse("ru").unwrap(), long);
    let (decoded, lines) = decoded_subject(&text);
    assert_eq!(decoded, subject);
    assert!(lines.len() > 10, "{lines:?}");
    assert!(lines.iter().all(|l| l.len() <= 78), "{lines:?}");
    for line in text.split("\r\n") {
        assert!(line.len() <= 998, "{} octets", line.len());
    }
    // Python's mail parser (what many readers' tools use) agrees.
    for (title, lang) in [(sneaky, Lang::EN), (long, Lang::parse("ru").unwrap())] {
        let (text, subject) = formatted_with(lang, title);
        assert_eq!(python_subject(&text), subject);
    }
}

fn python_subject(message: &str) -> String {
    use std::io::Write as _;
    let mut child = std::process::Command::new("python3")
        .args([
            "-c",
            "import email, email.policy, sys\n\
             m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)\n\
             sys.stdout.write(str(m['subject']))",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python3 runs");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(message.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn russian_subject() {
    let (_, subject) = formatted(Lang::parse("ru").unwrap());
    assert_eq!(
        subject,
        "[Deadlines] CERD — Альтернативный доклад срок через 7 дней (15 июля 2027)"
    );
}

#[test]
fn belarusian_subject() {
    let (_, subject) = formatted(Lang::parse("be").unwrap());
    assert_eq!(
        subject,
        "[Deadlines] CERD — Альтернативный доклад тэрмін праз 7 дзён (15 ліпеня 2027)"
    );
}

/// The plain-text body in every language (a moved deadline, so that every
/// message of a reminder shows): one snapshot, so that a changed or lost
/// translation is a reviewed change.
#[test]
fn text_bodies_in_every_language() {
    let cat = testing::catalog(&[(
        "a.toml",
        "[[deadline]]\nid = \"cerd-2027\"\ntitle = \"Alternative report\"\nmechanism = \"cerd\"\ntopics = [\"women\"]\ndue = 2027-07-15T12:00:00\nstatus = \"tentative\"\nsubmit_to = \"cerd@example.org\"\nurl = \"https://www.ohchr.org/cerd\"\n",
    )]);
    let d = cat.get("cerd-2027").unwrap();
    let moved = Item {
        key: Key {
            subscriber: "anna@example.org".into(),
            deadline: "cerd-2027".into(),
            due_at: d.due_at,
            kind: Kind::Moved,
        },
        days_left: 22,
        moved_from: Some("2027-06-30T10:00:00Z".parse().unwrap()),
    };
    let mut out = String::new();
    for lang in Lang::all() {
        let s = subscriber(lang);
        let lines = Lines {
            lang,
            tz: s.timezone,
            catalog: &cat,
        };
        out.push_str(&format!(
            "== {}\n{}\n{}\n",
            lang.code(),
            subject(&cat, &s, &[(&moved, d)], "Deadlines"),
            text_body(
                &lines,
                &s,
                &[(&moved, d)],
                &Letterhead {
                    from: &"a@example.org".parse().unwrap(),
                    domain: "calendar.example.org",
                    unsubscribe_url: "https://calendar.example.org/unsubscribe?token=abc",
                    manage_url: "https://calendar.example.org/manage?token=def",
                    list_id: "<reminders.calendar.example.org>",
                    feed: &FeedOptions {
                        name: "x".into(),
                        domain: "calendar.example.org".into(),
                        lang,
                        alarm: None,
                        refresh: Duration::hours(6),
                        cutoff: DateTime::UNIX_EPOCH,
                    },
                    subject_prefix: "Deadlines",
                    versions: &Versions::default(),
                }
            )
        ));
    }
    insta::assert_snapshot!(out);
}

#[test]
fn message_ids_depend_on_keys_not_order() {
    let k = |kind| Key {
        subscriber: "a@example.org".into(),
        deadline: "d".into(),
        due_at: DateTime::UNIX_EPOCH,
        kind,
    };
    let (a, b) = (k(Kind::Remind(7)), k(Kind::Moved));
    let key = address_key();
    assert_eq!(
        message_id(&[&a, &b], "x.org", &key),
        message_id(&[&b, &a], "x.org", &key)
    );
    assert_ne!(
        message_id(&[&a], "x.org", &key),
        message_id(&[&b], "x.org", &key)
    );
    // Keyed: another key gives another id, and none is the unkeyed
    // SHA-256 of the ledger columns that anybody could compute.
    let other = crate::subscriptions::AddressKey::new(b"another key, another server!!!!!");
    assert_ne!(
        message_id(&[&a], "x.org", &key),
        message_id(&[&a], "x.org", &other)
    );
    let plain = format!(
        "{}\n{}\n{}\n{}",
        a.subscriber,
        a.deadline,
        a.due_at.to_rfc3339(),
        a.kind
    );
    let unkeyed: String = <sha2::Sha256 as sha2::Digest>::digest(plain.as_bytes())[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert!(!message_id(&[&a], "x.org", &key).contains(&unkeyed));
}

fn address_key() -> crate::subscriptions::AddressKey {
    crate::subscriptions::AddressKey::new(b"0123456789abcdef0123456789abcdef")
}

#[test]
fn list_ids_are_plain_headers() {
    assert_eq!(
        list_id("Human-rights mechanisms: deadlines", "calendar.example.org"),
        "\"Human-rights mechanisms: deadlines\" <reminders.calendar.example.org>"
    );
    for name in [
        "Правозащитный календарь",
        "a \"quoted\" name",
        "",
        "line\nbreak",
    ] {
        assert_eq!(list_id(name, "x.org"), "<reminders.x.org>", "{name:?}");
    }
}

/// The discreet line in every language, for counts whose plural differs
/// (1, 2, 5, 22) and near and far dates: a reviewed change when it changes.
#[test]
fn discreet_lines_in_every_language() {
    let cat = testing::catalog(&[(
        "a.toml",
        "[[deadline]]\nid = \"cerd-2027\"\ntitle = \"Alternative report\"\nmechanism = \"cerd\"\ntopics = [\"women\"]\ndue = 2027-07-15\n",
    )]);
    let d = cat.get("cerd-2027").unwrap();
    let mut out = String::new();
    for lang in Lang::all() {
        let mut s = subscriber(lang);
        s.discreet = true;
        for (count, days) in [(1, 0), (2, 1), (5, 7), (22, 30)] {
            let item = Item {
                key: Key {
                    subscriber: "k".into(),
                    deadline: "cerd-2027".into(),
                    due_at: d.due_at,
                    kind: Kind::Remind(7),
                },
                days_left: days,
                moved_from: None,
            };
            let items: Vec<(&Item, &Deadline)> = (0..count).map(|_| (&item, d)).collect();
            let line = discreet_line(&s, &items);
            for word in ["CERD", "Alternative", "Women", "mechcal", "UN "] {
                assert!(!line.contains(word), "{line}");
            }
            out.push_str(&format!("{} {count} {days}: {line}\n", lang.code()));
        }
    }
    insta::assert_snapshot!(out);
}

#[test]
fn the_expired_key_notice_names_nothing_followed_in_three_languages() {
    use crate::openpgp::KeyProblem;
    let problem = KeyProblem::Expired {
        fingerprint: "E0C31BBAFAF790AFE8C88AB67A125007D16C083F".into(),
        at: "2027-01-05T12:00:00Z".parse().unwrap(),
    };
    let mut all = String::new();
    for code in ["en", "ru", "be"] {
        let mut s = subscriber(Lang::parse(code).unwrap());
        let (subject, body) = key::notice_text(
            &s,
            &problem,
            Some("keys@example.org"),
            "https://c.example.org/manage?token=t",
        );
        all.push_str(&format!("== {code} (file)\n{subject}\n\n{body}\n"));
        s.origin = crate::load::subscribers::Origin::SignUp;
        s.name.clear();
        let (_, body) =
            key::notice_text(&s, &problem, None, "https://c.example.org/manage?token=t");
        all.push_str(&format!("== {code} (sign-up)\n{body}\n"));
    }
    for word in ["CEDAW", "КЛДЖ", "mechcal", "human", "человек", "чалавек"] {
        assert!(!all.contains(word), "{word} in\n{all}");
    }
    insta::assert_snapshot!(all);
    let from: Mailbox = "Deadlines <reminders@calendar.example.org>"
        .parse()
        .unwrap();
    let staff = key::alert(
        &from,
        &["staff@example.org".into()],
        "calendar.example.org",
        &subscriber(Lang::EN),
        &problem,
        2,
        "<key-alert.x@calendar.example.org>",
        "2027-01-06T08:00:00Z".parse().unwrap(),
    )
    .unwrap();
    let text = String::from_utf8(staff.formatted()).unwrap();
    assert!(
        text.contains("a***@example.org") && !text.contains("anna@example.org"),
        "{text}"
    );
    // (The body is encoded: tests/it/openpgp.rs reads it decoded.)
    assert!(
        !text.contains("E0C31BBAFAF790AFE8C88AB67A125007D16C083F"),
        "{text}"
    );
}

#[test]
fn a_reminder_lists_the_submission_requirements() {
    let (raw, _) = formatted_entry(
        Lang::EN,
        "Report",
        "word_limit = 3000\nlanguages = [\"en\", \"fr\"]\nsubmit_via = \"email\"\nsubject_line = \"CERD submission\"\n",
    );
    let text = plain_part(&raw);
    for line in [
        "Word limit: 3000 words",
        "Languages: EN, FR",
        "Submit via: e-mail",
        "E-mail subject: CERD submission",
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
    let (plain, _) = formatted_with(Lang::EN, "Report");
    assert!(!plain_part(&plain).contains("Word limit"));
}

#[test]
fn a_reminder_says_when_the_call_opened_and_what_it_was_extended_from() {
    let (raw, _) = formatted_entry(
        Lang::EN,
        "Report",
        "opens = 2027-05-01\nextended_from = 2027-06-30\n",
    );
    let text = plain_part(&raw);
    for line in ["Opens: 1 May 2027", "Extended from: 30 June 2027"] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
}

/// The text/plain part of a formatted message, decoded (lettre writes
/// non-ASCII text as base64).
fn plain_part(raw: &str) -> String {
    let at = raw.find("Content-Type: text/plain").expect("a text part");
    let part = &raw[at..];
    let (head, body) = part.split_once("\r\n\r\n").unwrap();
    let body = body.split("\r\n--").next().unwrap();
    if head.contains("base64") {
        String::from_utf8(base64_decode(&body.replace("\r\n", ""))).unwrap()
    } else {
        body.to_string()
    }
}

/// A milestone's mail names the milestone (its label, or its kind's name
/// from the registry) in the subject and the item's heading, as the feeds
/// do; a timed due in the reader's own zone is said once.
#[test]
fn milestones_are_named_in_every_language() {
    let cat = testing::catalog(&[(
        "a.toml",
        "[[deadline]]\nid = \"upr-5\"\ntitle = \"UPR of Belarus, 5th cycle\"\nmechanism = \"upr\"\ntopics = [\"women\"]\n\
         [[deadline.milestone]]\nkind = \"submission\"\nlabel = \"Stakeholder submission\"\ndue = 2027-04-12T12:00:00\n\
         [[deadline.milestone]]\nkind = \"loi\"\ndue = 2027-04-19\n",
    )]);
    let mut items: Vec<(Item, &Deadline)> = cat
        .deadlines()
        .iter()
        .map(|d| {
            (
                Item {
                    key: Key {
                        subscriber: "anna@example.org".into(),
                        deadline: d.id.as_str().into(),
                        due_at: d.due_at,
                        kind: Kind::Remind(7),
                    },
                    days_left: 7,
                    moved_from: None,
                },
                d,
            )
        })
        .collect();
    assert_eq!(items.len(), 2);
    items[1].0.key.kind = Kind::Cancelled;
    let mut out = String::new();
    for lang in Lang::all() {
        let mut s = subscriber(lang);
        s.timezone = Tz::Europe__Zurich;
        let lines = Lines {
            lang,
            tz: s.timezone,
            catalog: &cat,
        };
        for (item, d) in &items {
            out.push_str(&format!(
                "== {} {:?}\n{}\n{}\n",
                lang.code(),
                item.key.kind,
                subject(&cat, &s, &[(item, d)], "Deadlines"),
                lines.heading(item, d),
            ));
            for (label, value) in lines.facts(item, d) {
                out.push_str(&format!("{label}: {value}\n"));
            }
        }
    }
    assert!(
        out.contains("Stakeholder submission — UPR of Belarus"),
        "{out}"
    );
    assert!(out.contains("List of issues — UPR of Belarus"), "{out}");
    assert!(
        !out.contains("(Europe/Zurich, UTC+02:00)"),
        "the same instant twice: {out}"
    );
    // A reader in another zone gets the entry's own too.
    let lines = Lines {
        lang: Lang::EN,
        tz: Tz::Europe__Vilnius,
        catalog: &cat,
    };
    let due = &lines.facts(&items[0].0, items[0].1)[0].1;
    assert!(due.contains("(Europe/Zurich, UTC+02:00)"), "{due}");
    insta::assert_snapshot!(out);
}
