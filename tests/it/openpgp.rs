//! OpenPGP-encrypted reminders, opened by GnuPG as a subscriber's mail
//! program would: keys made by GnuPG (RSA and Curve25519) in a throw-away
//! `GNUPGHOME`; every kind of reminder decrypts, the inner message parses
//! with Python `email` and holds the whole reminder and its `.ics`, and
//! the outer message names nothing the subscriber follows. A key that
//! expires holds the reminders (never in clear), tells the subscriber and
//! staff once, and a renewed key releases them. `check` refuses an
//! expired key with its place.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support as common;
use crate::tools;
use common::{copy_dir, root, write_private};

/// A throw-away GnuPG home.
struct Gpg {
    home: tempfile::TempDir,
}

impl Gpg {
    fn new() -> Gpg {
        let home = tempfile::tempdir().unwrap();
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(home.path(), fs::Permissions::from_mode(0o700)).unwrap();
        Gpg { home }
    }

    fn run(&self, args: &[&str]) -> Output {
        let out = Command::new("gpg")
            .arg("--homedir")
            .arg(self.home.path())
            .args(["--batch", "--pinentry-mode", "loopback", "--passphrase", ""])
            .args(args)
            .output()
            .expect("gpg runs (tools::need found it)");
        assert!(
            out.status.success(),
            "gpg {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// A key for `email`: `primary` [SC] and `sub` [E], both expiring at
    /// `expire` (`never` or `YYYY-MM-DD`); its fingerprint.
    fn make_key(&self, email: &str, primary: &str, sub: &str, expire: &str) -> String {
        self.run(&[
            "--quick-gen-key",
            &format!("Test <{email}>"),
            primary,
            "sign,cert",
            expire,
        ]);
        let fpr = self.fingerprint(email);
        self.run(&["--quick-add-key", &fpr, sub, "encr", expire]);
        fpr
    }

    fn fingerprint(&self, email: &str) -> String {
        let out = self.run(&["--with-colons", "--list-keys", email]);
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .find_map(|l| {
                l.strip_prefix("fpr:")
                    .map(|r| r.trim_matches(':').to_string())
            })
            .unwrap()
    }

    fn export(&self, email: &str) -> String {
        String::from_utf8(self.run(&["--armor", "--export", email]).stdout).unwrap()
    }
}

fn mechcal(config: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mechcal"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

/// Every message of `dir`, opened by `tests/mail/pgp_open.py` with `gpg`.
fn open_all(dir: &Path, gpg: &Gpg) -> Vec<serde_json::Value> {
    let out = Command::new("python3")
        .arg(root().join("tests/mail/pgp_open.py"))
        .arg(dir)
        .arg(gpg.home.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn site(subscribers: &str, extra: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    copy_dir(&root().join("deadlines"), &dir.join("deadlines"));
    fs::create_dir_all(dir.join("keys")).unwrap();
    write_private(&dir.join("subscribers.toml"), subscribers);
    let config = dir.join("mechcal.toml");
    fs::write(
        &config,
        format!(
            "[calendar]\nname = \"Belarus human rights deadlines\"\ndomain = \"calendar.example.org\"\n\
             [data]\ndeadlines = \"deadlines\"\n\
             [state]\npath = \"state.sqlite\"\n[reminders]\nsubscribers = \"subscribers.toml\"\n\
             [mail]\nmaildir = \"maildir\"\n{extra}"
        ),
    )
    .unwrap();
    (tmp, config)
}

fn pass(config: &Path, now: &str) -> Output {
    mechcal(config, &["remind", "--now", now])
}

/// Words that would tell a glance at the outer message what the reader
/// follows: mechanisms, titles, topics, the service, the subscriber's name.
const TELLING: [&str; 12] = [
    "CEDAW",
    "КЛДЖ",
    "Пример",
    "Example",
    "mechcal",
    "women",
    "discrimination",
    "human",
    "Belarus",
    "treaty",
    "deadline",
    "Test <",
];

#[test]
fn every_kind_of_reminder_decrypts_with_gnupg_and_the_outside_tells_nothing() {
    if !tools::need(
        &[&tools::GPG],
        "openpgp::every_kind_of_reminder_decrypts_with_gnupg_and_the_outside_tells_nothing",
    ) {
        return;
    }
    let gpg = Gpg::new();
    gpg.make_key("rsa@example.org", "rsa3072", "rsa3072", "never");
    gpg.make_key("curve@example.org", "ed25519", "cv25519", "never");
    let (tmp, config) = site(
        &format!(
            "[[subscriber]]\nname = \"Test RSA\"\nemail = \"rsa@example.org\"\n\
             topics = [\"women\"]\ndigest = false\nopenpgp_key = \"keys/rsa.asc\"\n\n\
             [[subscriber]]\nname = \"Test Curve\"\nemail = \"curve@example.org\"\n\
             language = \"ru\"\nopenpgp_key = \"\"\"\n{}\"\"\"\n\n\
             [[subscriber]]\nname = \"Plain\"\nemail = \"plain@example.org\"\ntopics = [\"women\"]\n",
            gpg.export("curve@example.org")
        ),
        "[mail.dkim]\ndomain = \"calendar.example.org\"\nselector = \"s2026\"\nkey_file = \"dkim.pem\"\n",
    );
    let dir = tmp.path();
    crate::dkim::make_key("ed25519", &dir.join("dkim.pem"));
    fs::write(dir.join("keys/rsa.asc"), gpg.export("rsa@example.org")).unwrap();
    let check = mechcal(&config, &["check"]);
    assert_eq!(check.status.code(), Some(0), "{check:?}");

    // A reminder; then "moved"; then "cancelled" (as tests/it/dkim.rs).
    let ok = |out: Output| {
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        )
    };
    common::remind_moved_cancelled(dir, |now| ok(pass(&config, now)));

    let mails = open_all(&dir.join("maildir/new"), &gpg);
    let to = |who: &str| -> Vec<&serde_json::Value> {
        mails
            .iter()
            .filter(|m| m["to"].as_str().unwrap().contains(who))
            .collect()
    };
    for who in ["rsa@example.org", "curve@example.org"] {
        let got = to(who);
        assert!(got.len() >= 3, "{who}: {got:#?}");
        let mut inner_subjects = Vec::new();
        for m in &got {
            assert_eq!(m["encrypted"], true, "{who}: {m:#}");
            assert_eq!(m["gpg_status"], 0, "{who}: {}", m["gpg_stderr"]);
            assert_eq!(m["protected"], "v1");
            assert_eq!(m["inner_message_id"], m["outer_message_id"]);
            let parts: Vec<&str> = m["parts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| p.as_str().unwrap())
                .collect();
            for p in ["text/plain", "text/html", "text/calendar"] {
                assert!(parts.contains(&p), "{who}: {parts:?}");
            }
            let inner = m["inner_text"].as_str().unwrap();
            assert!(
                inner.contains("BEGIN:VCALENDAR") && inner.contains("КЛДЖ"),
                "{inner}"
            );
            inner_subjects.push(m["inner_subject"].as_str().unwrap().to_string());
            // Outside: a discreet subject and sender, a nameless List-Id,
            // the bare address.
            let subject = m["subject"].as_str().unwrap();
            assert!(
                subject.starts_with("Reminder: ") || subject.starts_with("Напоминание: "),
                "{subject}"
            );
            assert!(
                m["from"].as_str().unwrap().starts_with("Reminder <")
                    || m["from"].as_str().unwrap().starts_with("Напоминание <"),
                "{m:#}"
            );
            assert_eq!(m["list_id"], "<reminders.calendar.example.org>");
            assert_eq!(m["to"], who);
            let outside = m["outside"].as_str().unwrap();
            for word in TELLING {
                assert!(
                    !outside.contains(word),
                    "{who}: `{word}` outside:\n{outside}"
                );
            }
            assert!(outside.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"));
        }
        let all = inner_subjects.join("\n");
        assert!(all.contains("CEDAW"), "{all}");
        assert!(all.contains("moved") || all.contains("перенесён"), "{all}");
        assert!(
            all.contains("cancelled") || all.contains("отменено"),
            "{all}"
        );
    }
    // DKIM signs the outer message, list headers included (dkimpy).
    let record = crate::dkim::record(&config);
    let signed = crate::dkim::verify(&dir.join("maildir/new"), &record);
    assert_eq!(signed.len(), mails.len());
    for (subject, ok, h) in &signed {
        assert!(ok, "{subject} does not verify");
        assert!(
            h.split(':').any(|x| x == "list-unsubscribe-post"),
            "{subject}: {h}"
        );
    }
    // Someone without a key gets mail as before.
    let plain = to("plain@example.org");
    assert!(!plain.is_empty());
    for m in plain {
        assert_eq!(m["encrypted"], false);
        assert!(m["subject"].as_str().unwrap().contains("CEDAW"), "{m:#}");
    }
}

#[test]
fn an_expired_key_holds_reminders_tells_once_and_a_renewed_key_releases_them() {
    if !tools::need(
        &[&tools::GPG],
        "openpgp::an_expired_key_holds_reminders_tells_once_and_a_renewed_key_releases_them",
    ) {
        return;
    }
    use chrono::{Duration, Utc};
    // The key must be usable by the real clock when the file is loaded.
    #[allow(clippy::disallowed_methods)]
    let now = Utc::now();
    let day = |d: i64| (now + Duration::days(d)).format("%Y-%m-%d").to_string();
    let at = |d: i64| format!("{}T08:00:00Z", day(d));
    let gpg = Gpg::new();
    // Usable today (so `check` and the load accept it), expired by the
    // reminder 30 days before a deadline 60 days ahead.
    let fpr = gpg.make_key("held@example.org", "ed25519", "cv25519", &day(20));
    let (tmp, config) = site(
        "[[subscriber]]\nname = \"Test Held\"\nemail = \"held@example.org\"\n\
         mechanisms = [\"cat\"]\nopenpgp_key = \"keys/held.asc\"\n",
        "[alerts]\nstaff = [\"staff@example.org\"]\n[subscriptions]\ncontact = \"keys@example.org\"\n",
    );
    let dir = tmp.path();
    fs::write(dir.join("keys/held.asc"), gpg.export("held@example.org")).unwrap();
    fs::write(
        dir.join("deadlines/held.toml"),
        format!(
            "[[deadline]]\nid = \"test-held\"\ntitle = \"Test: shadow report on torture\"\n\
             mechanism = \"cat\"\ntopics = [\"torture\"]\ndue = {}\nremind_days = [30, 10]\n",
            day(60)
        ),
    )
    .unwrap();
    let check = mechcal(&config, &["check"]);
    assert_eq!(check.status.code(), Some(0), "{check:?}");

    let first = pass(&config, &at(31));
    let stdout = String::from_utf8_lossy(&first.stdout);
    assert_eq!(first.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("held 1 reminder"), "{stdout}");
    let mails = open_all(&dir.join("maildir/new"), &gpg);
    assert_eq!(mails.len(), 2, "{mails:#?}");
    let notice = mails
        .iter()
        .find(|m| m["to"] == "held@example.org")
        .unwrap();
    assert_eq!(notice["encrypted"], false);
    let text = notice["text"].as_str().unwrap();
    let short = format!("{}…{}", &fpr[..4], &fpr[36..]);
    assert!(text.contains(&short) && !text.contains(&fpr), "{text}");
    assert!(text.contains("keys@example.org"), "{text}");
    assert!(text.contains("manage?token="), "{text}");
    for word in ["torture", "CAT", "Test: shadow", "mechcal", "human"] {
        let outside = notice["outside"].as_str().unwrap();
        assert!(
            !outside.contains(word),
            "`{word}` in the notice:\n{outside}"
        );
    }
    let alert = mails
        .iter()
        .find(|m| m["to"] == "staff@example.org")
        .unwrap();
    let alert_text = alert["text"].as_str().unwrap();
    assert!(alert_text.contains("h***@example.org"), "{alert_text}");
    assert!(!alert_text.contains("held@example.org"), "{alert_text}");
    assert!(!alert_text.contains(&fpr), "{alert_text}");
    assert!(alert_text.contains(&fpr[36..]), "{alert_text}");
    // The ledger says why.
    let db = rusqlite::Connection::open(dir.join("state.sqlite")).unwrap();
    let (state, why): (String, String) = db
        .query_row(
            "SELECT state, last_error FROM reminders WHERE deadline = 'test-held'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(state, "held");
    assert!(
        why.starts_with("held: key ") && why.contains("expired on"),
        "{why}"
    );
    assert!(!why.contains(&fpr) && why.contains(&fpr[36..]), "{why}");
    drop(db);

    // The next pass holds again and tells no one twice.
    let second = pass(&config, &at(32));
    assert_eq!(second.status.code(), Some(1));
    assert_eq!(open_all(&dir.join("maildir/new"), &gpg).len(), 2);

    // Renewed (subkeys too): the reminder goes out, encrypted.
    gpg.run(&["--quick-set-expire", &fpr, "2y"]);
    gpg.run(&["--quick-set-expire", &fpr, "2y", "*"]);
    fs::write(dir.join("keys/held.asc"), gpg.export("held@example.org")).unwrap();
    let third = pass(&config, &at(33));
    let stdout = String::from_utf8_lossy(&third.stdout);
    assert_eq!(third.status.code(), Some(0), "{stdout}");
    assert!(stdout.starts_with("sent 1 message"), "{stdout}");
    let mails = open_all(&dir.join("maildir/new"), &gpg);
    let sent: Vec<_> = mails.iter().filter(|m| m["encrypted"] == true).collect();
    assert_eq!(sent.len(), 1, "{mails:#?}");
    assert_eq!(sent[0]["gpg_status"], 0, "{}", sent[0]["gpg_stderr"]);
    assert!(sent[0]["inner_text"]
        .as_str()
        .unwrap()
        .contains("Test: shadow report on torture"));
}

#[test]
fn check_refuses_an_expired_key_and_the_service_holds_its_mail() {
    if !tools::need(
        &[&tools::GPG],
        "openpgp::check_refuses_an_expired_key_and_the_service_holds_its_mail",
    ) {
        return;
    }
    let (tmp, config) = site(
        "[[subscriber]]\nname = \"A\"\nemail = \"a@example.org\"\nopenpgp_key = \"keys/old.asc\"\n",
        "",
    );
    fs::copy(
        root().join("tests/fixtures/openpgp/expired.asc"),
        tmp.path().join("keys/old.asc"),
    )
    .unwrap();
    let out = mechcal(&config, &["check"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(
            "subscribers.toml:4:15: error: `openpgp_key`: key E0C3…083F expired on 2020-06-01"
        ),
        "{stderr}"
    );
    let shown = mechcal(&config, &["check", "--show-emails"]);
    let stderr = String::from_utf8_lossy(&shown.stderr);
    assert!(
        stderr.contains("key E0C31BBAFAF790AFE8C88AB67A125007D16C083F expired"),
        "{stderr}"
    );
    // The service keeps the subscriber (a warning) and holds their mail:
    // the notice goes out, no reminder in clear.
    let pass = pass(&config, "2027-01-08T08:00:00Z");
    let stdout = String::from_utf8_lossy(&pass.stdout);
    let stderr = String::from_utf8_lossy(&pass.stderr);
    assert_eq!(pass.status.code(), Some(1), "{stdout}{stderr}");
    assert!(
        stderr.contains("warning: `openpgp_key`: key E0C3…083F expired"),
        "{stderr}"
    );
    assert!(stdout.contains("held "), "{stdout}");
    let gpg = Gpg::new();
    let mails = open_all(&tmp.path().join("maildir/new"), &gpg);
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert!(
        mails[0]["subject"].as_str().unwrap().contains("on hold"),
        "{mails:#?}"
    );
    assert!(!mails[0]["outside"].as_str().unwrap().contains("CEDAW"));
}

/// The subject of the notices about a subscriber's own settings.
const NOTICE: &str = "A change to your reminder settings";

/// A self-service subscriber pastes a key on the preference page: a bad
/// one is refused with the reason, a good one is stored sealed (the
/// database holds no key in clear), their next reminder is encrypted,
/// and "stop encrypting" takes it away.
#[test]
fn a_sign_up_pastes_a_key_on_the_preference_page() {
    if !tools::need(
        &[&tools::GPG],
        "openpgp::a_sign_up_pastes_a_key_on_the_preference_page",
    ) {
        return;
    }
    use crate::signup::{
        action, confirm_and_manage, database_holds, get, mails_to, post, sign_up, Site,
    };
    use reqwest::StatusCode;
    let site = Site::start("");
    let me = "pasted@example.org";
    let (status, _) = sign_up(&site, me, &["women"], &[]);
    assert_eq!(status, StatusCode::OK);
    let c = &mails_to(&site.maildir(), me, 1)[0];
    let (confirm, manage) = confirm_and_manage(&site, &c.text);
    let (_, page) = get(&confirm);
    post(&site, &action(&site, &page), &[]);

    let (status, page) = get(&manage);
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Encrypted reminders (OpenPGP)"), "{page}");
    assert!(page.contains("name=\"openpgp_key\""), "{page}");
    let post_key = |key: &str, what: &str| {
        post(
            &site,
            &action(&site, &page),
            &[("openpgp_key", key), ("action", what)],
        )
    };

    let expired = fs::read_to_string(root().join("tests/fixtures/openpgp/expired.asc")).unwrap();
    let (status, answer) = post_key(&expired, "key");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer.contains("expired on 2020-06-01"), "{answer}");
    let secret = fs::read_to_string(root().join("tests/fixtures/openpgp/rsa.secret.asc")).unwrap();
    let (status, answer) = post_key(&secret, "key");
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(answer.contains("secret (private) key"), "{answer}");

    // A good key of another address: refused (whoever holds the link
    // cannot have the mail encrypted to themselves).
    let gpg = Gpg::new();
    gpg.make_key("someone.else@example.org", "ed25519", "cv25519", "never");
    let (status, answer) = post_key(&gpg.export("someone.else@example.org"), "key");
    assert_eq!(status, StatusCode::BAD_REQUEST, "{answer}");
    assert!(answer.contains("not this address&#39;s key"), "{answer}");
    assert!(answer.contains("p***@example.org"), "{answer}");

    let fpr = gpg.make_key(me, "ed25519", "cv25519", "never");
    let armored = gpg.export(me);
    let (status, answer) = post_key(&armored, "key");
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(
        answer.contains("encrypted to this key from now on"),
        "{answer}"
    );
    assert!(
        answer.contains(&format!("{}…{}", &fpr[..4], &fpr[36..])),
        "{answer}"
    );
    assert!(!database_holds(&site.state(), b"BEGIN PGP"));
    // The owner is told, in clear (there was no key before: whoever set
    // this one could be the one who reads it).
    let short = format!("{}…{}", &fpr[..4], &fpr[36..]);
    let notices = |n: usize| -> Vec<serde_json::Value> {
        let start = std::time::Instant::now();
        loop {
            let found: Vec<_> = open_all(&site.maildir(), &gpg)
                .into_iter()
                .filter(|m| {
                    m["to"] == me && (m["subject"] == NOTICE || m["inner_subject"] == NOTICE)
                })
                .collect();
            if found.len() >= n || start.elapsed() > std::time::Duration::from_secs(10) {
                return found;
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    let first = notices(1);
    assert_eq!(first.len(), 1, "{first:#?}");
    assert_eq!(first[0]["encrypted"], false);
    assert!(
        first[0]["text"].as_str().unwrap().contains(&short),
        "{first:#?}"
    );

    site.remind("2027-01-08T09:00:00Z");
    let mails = open_all(&site.maildir(), &gpg);
    let mine: Vec<_> = mails
        .iter()
        .filter(|m| m["to"] == me && m["encrypted"] == true)
        .collect();
    assert_eq!(mine.len(), 1, "{mails:#?}");
    assert_eq!(mine[0]["gpg_status"], 0, "{}", mine[0]["gpg_stderr"]);
    assert!(mine[0]["inner_text"].as_str().unwrap().contains("КЛДЖ"));
    for word in TELLING {
        assert!(
            !mine[0]["outside"].as_str().unwrap().contains(word),
            "{word}"
        );
    }

    // Somebody holding the link swaps in another key of the address: the
    // warning is encrypted to the key the owner had, and opens with it.
    let other = Gpg::new();
    let other_fpr = other.make_key(me, "ed25519", "cv25519", "never");
    let (status, answer) = post_key(&other.export(me), "key");
    assert_eq!(status, StatusCode::OK, "{answer}");
    let swapped = notices(2);
    let warning = swapped
        .iter()
        .find(|m| m["encrypted"] == true)
        .unwrap_or_else(|| panic!("{swapped:#?}"));
    assert_eq!(warning["gpg_status"], 0, "{}", warning["gpg_stderr"]);
    assert!(
        warning["inner_text"].as_str().unwrap().contains(&format!(
            "{}…{}",
            &other_fpr[..4],
            &other_fpr[36..]
        )),
        "{warning:#?}"
    );
    assert_eq!(warning["subject"], "Encrypted message");

    let (status, answer) = post_key("", "key-remove");
    assert_eq!(status, StatusCode::OK);
    assert!(answer.contains("no longer encrypted"), "{answer}");
    // Told under the key it had until now (the second one).
    let start = std::time::Instant::now();
    while !open_all(&site.maildir(), &other)
        .into_iter()
        .filter(|m| m["to"] == me && m["encrypted"] == true && m["gpg_status"] == 0)
        .any(|m| {
            m["inner_text"]
                .as_str()
                .unwrap()
                .contains("no longer encrypted")
        })
    {
        assert!(
            start.elapsed() < std::time::Duration::from_secs(10),
            "no notice of the removal under the key it had"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    site.remind("2027-01-12T09:00:00Z");
    let plain: Vec<_> = open_all(&site.maildir(), &gpg)
        .into_iter()
        .filter(|m| {
            m["to"] == me
                && m["encrypted"] == false
                && m["subject"].as_str().unwrap().contains("CEDAW")
        })
        .collect();
    assert_eq!(plain.len(), 1);
}
