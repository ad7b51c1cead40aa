//! SpamAssassin (Debian `spamassassin` 4, offline: `spamassassin -L -t`)
//! scores every kind of mail mechcal sends, in every language it sends it
//! in: digests and single reminders, "moved" and "cancelled" notices,
//! discreet and OpenPGP-encrypted reminders and the notice about an expired
//! key (on the sample data, in English, Belarusian and Russian); the
//! sign-up mail, the notices about changed settings, and staff's alerts.
//! The target is a score below 1.0 for each.
//!
//! One rule is allowed, under a condition the test checks: `MIXED_ES`
//! ("too many es are not es", 1.0) fires on any text with more than 20
//! Latin "e" and at least 0.4 times as many Cyrillic "е" — every Russian or
//! Belarusian mail that carries links, addresses or English names. It may
//! score only on such a mail, only alone, and only when its Latin "e" come
//! from links, addresses and names: with those taken out, what is left
//! (mechcal's own words, staff's titles) must hold at most 20, so a word
//! typed in two alphabets, or Latin text in a translation, still fails.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support as common;
use crate::tools;
use common::{copy_dir, root, write_private};

/// The rules that scored (≠ 0), with their points.
type Rules = Vec<(String, f64)>;

/// `(score, rules that scored ≠ 0)` of the message at `path`.
fn score(path: &Path) -> (f64, Rules) {
    let out = Command::new("spamassassin")
        .args(["-L", "-t"])
        .stdin(fs::File::open(path).unwrap())
        .output()
        .expect("spamassassin runs (tools::need found it)");
    let text = String::from_utf8_lossy(&out.stdout);
    let total = text
        .lines()
        .find_map(|l| l.strip_prefix("Content analysis details:   ("))
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no score in\n{text}"));
    let report = text
        .rsplit("Content analysis details:")
        .next()
        .unwrap_or_default();
    let rules = report
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let pts: f64 = w.next()?.trim_start_matches('+').parse().ok()?;
            let name = w.next()?.to_string();
            (pts != 0.0).then_some((name, pts))
        })
        .collect();
    (total, rules)
}

#[test]
fn every_kind_of_reminder_scores_below_one() {
    if !tools::need(
        &[&tools::SPAMASSASSIN],
        "spam::every_kind_of_reminder_scores_below_one",
    ) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    copy_dir(&root().join("deadlines"), &dir.join("deadlines"));
    copy_dir(&root().join("config/keys"), &dir.join("keys"));
    // The sample's subscribers, and one whose key expired (the notice).
    let mut subscribers =
        fs::read_to_string(root().join("config/subscribers.example.toml")).unwrap();
    subscribers.push_str("\n[[subscriber]]\nname = \"Expired key\"\nemail = \"expired@example.org\"\ntopics = [\"women\"]\nopenpgp_key = \"keys/expired.asc\"\n");
    // A discreet Russian reader: the blank screenful before the details
    // once scored AC_BR_BONANZA (runs of <br>).
    subscribers.push_str("\n[[subscriber]]\nname = \"Discreet\"\nemail = \"discreet@example.org\"\ntopics = [\"women\"]\nlanguage = \"ru\"\ndiscreet = true\n");
    // Belarusian: a digest of every topic, and a discreet reader.
    subscribers.push_str("\n[[subscriber]]\nname = \"Беларуская арганізацыя\"\nemail = \"be-digest@example.org\"\nlanguage = \"be\"\ndigest = true\n");
    subscribers.push_str("\n[[subscriber]]\nname = \"Ганна\"\nemail = \"be-discreet@example.org\"\ntopics = [\"women\"]\nlanguage = \"be\"\ndiscreet = true\n");
    // The expired-key notice in Russian and Belarusian.
    for code in ["ru", "be"] {
        subscribers.push_str(&format!("\n[[subscriber]]\nname = \"Ганна\"\nemail = \"expired-{code}@example.org\"\ntopics = [\"women\"]\nlanguage = \"{code}\"\nopenpgp_key = \"keys/expired.asc\"\n"));
    }
    fs::copy(
        root().join("tests/fixtures/openpgp/expired.asc"),
        dir.join("keys/expired.asc"),
    )
    .unwrap();
    write_private(&dir.join("subscribers.toml"), subscribers);
    let config = dir.join("mechcal.toml");
    fs::write(
        &config,
        "[calendar]\nname = \"Belarus human rights deadlines\"\ndomain = \"calendar.example.org\"\n\
         base_url = \"https://calendar.example.org/\"\n[data]\ndeadlines = \"deadlines\"\n\
         [state]\npath = \"state.sqlite\"\n[reminders]\nsubscribers = \"subscribers.toml\"\n\
         [mail]\nfrom = \"Deadlines <reminders@calendar.example.org>\"\nmaildir = \"maildir\"\n",
    )
    .unwrap();
    let pass = |now: &str| {
        let out = Command::new(env!("CARGO_BIN_EXE_mechcal"))
            .arg("--config")
            .arg(&config)
            .args(["remind", "--now", now])
            .output()
            .unwrap();
        // 1: the expired key's reminders are held (and nothing else fails).
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.code() == Some(0) || stdout.contains("failed 0, deferred 0\nheld "),
            "{stdout}{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    common::remind_moved_cancelled(dir, pass);

    let mut report = Vec::new();
    let mut encrypted = 0;
    let mut discreet = 0;
    let mut belarusian = 0;
    for entry in fs::read_dir(dir.join("maildir/new")).unwrap() {
        let path = entry.unwrap().path();
        let raw = fs::read_to_string(&path).unwrap();
        let head = raw.split("\r\n\r\n").next().unwrap_or_default().to_string();
        // The sample's one Russian subscriber, and the test's.
        let cyrillic = [
            "womens-rights@",
            "discreet@",
            "be-",
            "expired-ru@",
            "expired-be@",
        ]
        .iter()
        .any(|a| head.contains(&format!("<{a}")));
        encrypted += usize::from(head.contains("multipart/encrypted"));
        discreet += usize::from(head.contains("discreet@example.org>"));
        belarusian += usize::from(head.contains("<be-"));
        let (total, rules) = score(&path);
        let subject = head
            .lines()
            .find(|l| l.starts_with("Subject:"))
            .unwrap_or_default()
            .to_string();
        let (latin, own) = latin_e(&path);
        report.push(format!(
            "{total:>5.1} {rules:?} e: {latin} ({own} outside links, addresses, names) {subject}"
        ));
        if total >= 1.0 {
            assert!(
                cyrillic && rules.iter().all(|(r, _)| r == "MIXED_ES") && latin > 20 && own <= 20,
                "{subject}: {total} {rules:?}, Latin e: {latin}, outside links, addresses and names: {own}\n{report:#?}"
            );
        }
    }
    assert!(encrypted >= 3, "{report:#?}");
    assert!(
        report.iter().any(|r| r.contains("on hold")),
        "no expired-key notice: {report:#?}"
    );
    assert!(report.len() >= 10, "{report:#?}");
    assert!(
        discreet >= 2,
        "no discreet Russian or Belarusian reminder: {report:#?}"
    );
    assert!(belarusian >= 2, "no Belarusian reminder: {report:#?}");
    eprintln!("SpamAssassin scores:\n{}", report.join("\n"));
}

/// How many Latin "e" SpamAssassin's `MIXED_ES` counts in the mail at
/// `path` (its subject, and the text of its plain and HTML parts), and how
/// many of them are left with links, e-mail addresses, names (the
/// subscriber's, the calendar's, the sample's English entry names) and
/// zone names taken out.
fn latin_e(path: &Path) -> (usize, usize) {
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            r#"import email, email.policy, re, sys
m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
text = str(m['Subject'] or '') + '\n'
for part in m.walk():
    if part.get_content_type() == 'text/plain':
        text += part.get_content() + '\n'
    elif part.get_content_type() == 'text/html':
        text += re.sub(r'<[^>]*>', ' ', part.get_content()) + '\n'
rest = re.sub(r'https?://\S+|[\w.+-]+@[\w.-]+', ' ', text)
for name in ['Belarus human rights deadlines', 'Example: a women\'s rights CSO', 'Discreet',
             'Europe/Zurich', 'Europe/Minsk', 'Europe/Vilnius', 'Europe/Warsaw']:
    rest = rest.replace(name, ' ')
print(text.count('e'), rest.count('e'))
"#,
        )
        .arg(path)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut n = text.split_whitespace().map(|n| n.parse().unwrap_or(0));
    (n.next().unwrap_or(0), n.next().unwrap_or(0))
}

/// Scores each of `mails` (name, message) on two threads; `(name, score,
/// rules)` in the order given.
fn score_all(dir: &Path, mails: Vec<(String, Vec<u8>)>) -> Vec<(String, f64, Rules)> {
    let paths: Vec<(String, std::path::PathBuf)> = mails
        .into_iter()
        .enumerate()
        .map(|(i, (name, bytes))| {
            let path = dir.join(format!("{i}.eml"));
            fs::write(&path, bytes).unwrap();
            (name, path)
        })
        .collect();
    let half = paths.len().div_ceil(2);
    std::thread::scope(|s| {
        let jobs: Vec<_> = paths
            .chunks(half.max(1))
            .map(|chunk| {
                s.spawn(move || {
                    chunk
                        .iter()
                        .map(|(name, path)| {
                            let (total, rules) = score(path);
                            (name.clone(), total, rules)
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        jobs.into_iter().flat_map(|j| j.join().unwrap()).collect()
    })
}

/// The mails that are not reminders, in every language they are sent in:
/// the sign-up mail (in clear and encrypted), each notice about a change
/// of settings, and staff's mail (English only): an alert about invalid
/// data, a watch alert and the note about sign-ups awaiting approval.
#[test]
fn transactional_and_staff_mail_scores_below_one() {
    if !tools::need(
        &[&tools::SPAMASSASSIN],
        "spam::transactional_and_staff_mail_scores_below_one",
    ) {
        return;
    }
    use chrono::TimeZone as _;
    use mechcal::i18n::Lang;
    use mechcal::reminders::message::{self, signup};

    common::rustls_provider();
    let tmp = tempfile::tempdir().unwrap();
    let now = chrono::Utc.with_ymd_and_hms(2027, 1, 8, 8, 0, 0).unwrap();
    let from: lettre::message::Mailbox = "Deadlines <reminders@calendar.example.org>"
        .parse()
        .unwrap();
    let domain = "calendar.example.org";
    let key = fs::read(root().join("config/keys/example-encrypted.asc")).unwrap();
    let cert = mechcal::openpgp::Cert::read(&key, now).unwrap();
    let link = "https://calendar.example.org/subscribe/confirm?token=AbC9-xYz01_k2LmNoPqRsTuVwX3y4Z5a6B7c8D9e0Fg";
    let signup_url = "https://calendar.example.org/subscribe";
    let mut mails: Vec<(String, Vec<u8>)> = Vec::new();
    for code in ["en", "be", "ru"] {
        let lang = Lang::parse(code).unwrap();
        let to = format!("reader-{code}@example.org");
        let m = signup::build(&from, &to, lang, link, 48, domain, "n1", None, now).unwrap();
        mails.push((format!("{code} sign-up"), m.formatted()));
        let m = signup::build(&from, &to, lang, link, 48, domain, "n2", Some(&cert), now).unwrap();
        mails.push((format!("{code} sign-up, encrypted"), m.formatted()));
        let notices = [
            (
                "key changed",
                signup::Notice::KeyChanged("AB12 CD34 …".into()),
            ),
            ("key removed", signup::Notice::KeyRemoved),
            ("opted out", signup::Notice::OptedOut),
            ("deleted", signup::Notice::Deleted),
        ];
        for (what, notice) in notices {
            let m = signup::notice(
                &from, &to, lang, &notice, signup_url, domain, "n3", None, now,
            )
            .unwrap();
            mails.push((format!("{code} notice: {what}"), m.formatted()));
        }
    }
    let staff = vec!["staff@example.org".to_string()];
    let diagnostics = vec![
        "deadlines/2027/cerd.toml:4:7: error: unknown mechanism `cerdd`\n  4 | mechanism = \"cerdd\"\n    |             ^^^^^^^\n  help: did you mean `cerd`?".to_string(),
    ];
    let problems = [message::Problem {
        source: "data",
        since: now,
        diagnostics: &diagnostics,
    }];
    let m = message::alert(&from, &staff, domain, &problems, "3f2a9c1", 18, now).unwrap();
    mails.push(("staff: invalid data".into(), m.formatted()));
    let alerts = [mechcal::state::WatchAlert {
        url: "https://www.ohchr.org/en/treaty-bodies/cedaw".into(),
        key: "changed:1a2b3c".into(),
        entries: "example-cedaw-alternative-report-2027".into(),
        message: "the page changed since it was last checked".into(),
        excerpt: Some("- Deadline for submissions: 15 January 2027\n+ Deadline for submissions: 15 February 2027".into()),
        seen_at: now,
    }];
    let m = message::watch_alert(&from, &staff, domain, &alerts, now).unwrap();
    mails.push(("staff: watch alert".into(), m.formatted()));
    let m = signup::approval_note(&from, &staff, domain, 2, "n4", now).unwrap();
    mails.push(("staff: sign-ups to approve".into(), m.formatted()));

    let scored = score_all(tmp.path(), mails);
    let report: Vec<String> = scored
        .iter()
        .map(|(name, total, rules)| format!("{total:>5.1} {name} {rules:?}"))
        .collect();
    eprintln!("SpamAssassin scores:\n{}", report.join("\n"));
    assert_eq!(scored.len(), 3 * 6 + 3);
    for (name, total, rules) in &scored {
        assert!(*total < 1.0, "{name}: {total} {rules:?}\n{report:#?}");
    }
    // The encrypted ones are seen as such (the rule that says so scores).
    assert!(scored
        .iter()
        .filter(|(n, _, _)| n.ends_with("encrypted"))
        .all(|(_, _, r)| r.iter().any(|(rule, _)| rule == "ENCRYPTED_MESSAGE")));
}
