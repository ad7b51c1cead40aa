//! Self-service sign-up end to end, against `mechcal serve` as a process:
//! the form, the confirmation mail read from the Maildir, its link and
//! button, a `remind --now` pass reaching the new subscriber with only
//! their topics, the preference page, delete-everything, the answers
//! that must not tell addresses apart, and every bad input.

use std::collections::BTreeMap;
use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::header::{CONTENT_TYPE, ORIGIN};
use reqwest::StatusCode;

use crate::support as common;
use common::root;

/// `mechcal serve` on a copy of the sample, sign-up open, on a port
/// chosen first (so that `base_url`, which posts are checked against,
/// names it). Killed on drop.
pub struct Site {
    /// What `serve` logged.
    pub log: std::sync::Arc<std::sync::Mutex<String>>,
    pub dir: PathBuf,
    pub base: String,
    pub config: PathBuf,
    child: std::process::Child,
    _tmp: tempfile::TempDir,
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Site {
    /// `extra` is appended to `[subscriptions]`.
    pub fn start(extra: &str) -> Site {
        Site::start_with(extra, common::example_subscribers)
    }

    /// [`Site::start`] with the subscribers file that `subscribers`
    /// writes at the path it is given.
    pub fn start_with(extra: &str, subscribers: impl Fn(&Path)) -> Site {
        let mut extra = extra.to_string();
        if !extra.contains("per_client_per_hour") {
            extra = format!("per_client_per_hour = 50\n{extra}");
        }
        if !extra.contains("open =") {
            extra = format!("open = true\n{extra}");
        }
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let port = free_port();
        let base = format!("http://127.0.0.1:{port}/");
        subscribers(&dir.join("subscribers.toml"));
        let config = dir.join("mechcal.toml");
        fs::write(
            &config,
            format!(
                "[calendar]\ndomain = \"calendar.example.org\"\nbase_url = \"{base}\"\n\
                 [data]\ndeadlines = \"{}\"\n[state]\npath = \"var/state.sqlite\"\n\
                 [reminders]\nsubscribers = \"subscribers.toml\"\n\
                 [subscriptions]\n{extra}\n\
                 [mail]\nmaildir = \"var/maildir\"\n",
                root().join("deadlines").display()
            ),
        )
        .unwrap();
        Site::serve(tmp, config, port)
    }

    /// `mechcal serve` on `config` (in `tmp`) at `port`.
    pub fn serve(tmp: tempfile::TempDir, config: PathBuf, port: u16) -> Site {
        let dir = tmp.path().to_path_buf();
        let base = format!("http://127.0.0.1:{port}/");
        let mut child = Command::new(env!("CARGO_BIN_EXE_mechcal"))
            .arg("--config")
            .arg(&config)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stderr = BufReader::new(child.stderr.take().unwrap());
        let mut line = String::new();
        loop {
            line.clear();
            assert!(
                stderr.read_line(&mut line).unwrap() > 0,
                "serve exited early"
            );
            if line.contains("listening on http://") {
                break;
            }
        }
        // Keep reading its log, or it blocks on a full pipe.
        let log = std::sync::Arc::new(std::sync::Mutex::new(line.clone()));
        let kept = log.clone();
        std::thread::spawn(move || {
            let mut line = String::new();
            while stderr.read_line(&mut line).unwrap_or(0) > 0 {
                kept.lock().unwrap().push_str(&line);
                line.clear();
            }
        });
        Site {
            log,
            dir,
            base,
            config,
            child,
            _tmp: tmp,
        }
    }

    pub fn maildir(&self) -> PathBuf {
        self.dir.join("var/maildir/new")
    }

    pub fn state(&self) -> PathBuf {
        self.dir.join("var/state.sqlite")
    }

    /// `mechcal ARGS` on this site's config.
    pub fn mechcal(&self, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_mechcal"))
            .arg("--config")
            .arg(&self.config)
            .args(args)
            .output()
            .unwrap()
    }

    /// `mechcal remind --now NOW` on this site's config.
    pub fn remind(&self, now: &str) -> String {
        let out = self.mechcal(&["remind", "--now", now]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }
}

/// A loopback port free a moment ago.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One message of a Maildir, decoded by Python's `email` (the real MIME
/// parser, not ours): its headers and its text parts.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub headers: String,
    pub text: String,
}

pub fn mails(dir: &Path) -> Vec<Mail> {
    let script = r#"
import email, email.policy, json, os, sys
out = []
d = sys.argv[1]
for name in sorted(os.listdir(d)) if os.path.isdir(d) else []:
    with open(os.path.join(d, name), "rb") as f:
        m = email.message_from_binary_file(f, policy=email.policy.default)
    texts = [p.get_content() for p in m.walk() if p.get_content_type() == "text/plain"]
    heads = "".join(f"{k}: {v}\n" for k, v in m.items())
    out.append({"file": name, "to": m["To"].addresses[0].addr_spec if m["To"] else "", "subject": str(m["Subject"]), "headers": heads, "text": "\n".join(texts)})
print(json.dumps(out))
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Vec<BTreeMap<String, String>> = serde_json::from_slice(&out.stdout).unwrap();
    v.into_iter()
        .map(|m| Mail {
            to: m["to"].clone(),
            subject: m["subject"].clone(),
            headers: m["headers"].clone(),
            text: m["text"].clone(),
        })
        .collect()
}

/// The mails to `to`, waiting up to 10 s for there to be `n`.
pub fn mails_to(dir: &Path, to: &str, n: usize) -> Vec<Mail> {
    let start = Instant::now();
    loop {
        let found: Vec<Mail> = mails(dir).into_iter().filter(|m| m.to == to).collect();
        if found.len() >= n || start.elapsed() > Duration::from_secs(10) {
            return found;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The first line of `text` starting with `prefix`.
pub fn link(text: &str, prefix: &str) -> String {
    text.lines()
        .map(str::trim)
        .find(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix} link in {text}"))
        .to_string()
}

/// The form token of a page holding the sign-up form.
pub fn form_token(page: &str) -> String {
    let at = page.find("name=\"token\" value=\"").expect("a form token") + 20;
    page[at..at + page[at..].find('"').unwrap()].to_string()
}

pub fn client() -> reqwest::blocking::Client {
    crate::support::rustls_provider();
    reqwest::blocking::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Posts `form` to `url` as a browser on `site` would (its `Origin`).
pub fn post(site: &Site, url: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    post_from(Some(site.base.trim_end_matches('/')), url, form)
}

/// Posts `form` to `url` with `origin` as its `Origin` header, or none.
pub fn post_from(origin: Option<&str>, url: &str, form: &[(&str, &str)]) -> (StatusCode, String) {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let mut r = client()
        .post(url)
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded");
    if let Some(origin) = origin {
        r = r.header(ORIGIN, origin);
    }
    let r = r.body(body).send().unwrap();
    (r.status(), r.text().unwrap())
}

pub fn get(url: &str) -> (StatusCode, String) {
    let r = client().get(url).send().unwrap();
    (r.status(), r.text().unwrap())
}

/// The form action of a page with one button (confirm, unsubscribe).
pub fn action(site: &Site, page: &str) -> String {
    let at = page.find("action=\"").expect("a form") + 8;
    let path = &page[at..at + page[at..].find('"').unwrap()];
    format!(
        "{}{}",
        site.base.trim_end_matches('/'),
        path.replace("&amp;", "&")
    )
}

/// The links of a sign-up mail's `text`: its confirmation link, and the
/// preference link its confirm page offers (to change or delete the
/// sign-up before confirming).
pub fn confirm_and_manage(site: &Site, text: &str) -> (String, String) {
    let confirm = link(text, &format!("{}subscribe/confirm?token=", site.base));
    let (_, page) = get(&confirm);
    let at = page.find("manage?token=").expect("a preference link") + 13;
    let manage = format!(
        "{}manage?token={}",
        site.base,
        &page[at..at + page[at..].find('"').unwrap()]
    );
    (confirm, manage)
}

pub fn sign_up(
    site: &Site,
    email: &str,
    topics: &[&str],
    extra: &[(&str, &str)],
) -> (StatusCode, String) {
    let (_, page) = get(&format!("{}subscribe", site.base));
    let token = form_token(&page);
    let mut form = vec![("email", email), ("token", token.as_str())];
    form.extend(topics.iter().map(|t| ("topic", *t)));
    form.extend_from_slice(extra);
    post(site, &format!("{}subscribe", site.base), &form)
}

/// Every form an address can be found in.
pub fn traces(email: &str) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    let hex: String = email.bytes().map(|b| format!("{b:02x}")).collect();
    let b64 = base64::engine::general_purpose::STANDARD.encode(email);
    vec![
        email.as_bytes().to_vec(),
        hex.into_bytes(),
        b64.trim_end_matches('=').as_bytes().to_vec(),
    ]
}

/// Whether any file of the state database — the database, its `-wal`,
/// and a backup made with `sqlite3 .backup` — holds `needle`.
pub fn database_holds(state: &Path, needle: &[u8]) -> bool {
    let backup = state.with_extension("backup");
    let _ = fs::remove_file(&backup);
    let made = Command::new("sqlite3")
        .arg(state)
        .arg(format!(".backup '{}'", backup.display()))
        .status();
    if made.is_err() {
        // No sqlite3 here: a copy through the library's own backup.
        let c = rusqlite::Connection::open(state).unwrap();
        c.execute(&format!("VACUUM INTO '{}'", backup.display()), [])
            .unwrap();
    }
    ["", "-wal", "-shm", ".backup"].iter().any(|suffix| {
        let p = if *suffix == ".backup" {
            backup.clone()
        } else {
            let mut p = state.as_os_str().to_owned();
            p.push(suffix);
            PathBuf::from(p)
        };
        fs::read(&p).is_ok_and(|b| b.windows(needle.len()).any(|w| w == needle))
    })
}

#[test]
// Over 100 lines: one subscriber's life, step by step, each step building on the state the last left.
fn a_sign_up_is_confirmed_reminded_changed_and_deleted() {
    let site = Site::start("");
    let me = "new.subscriber@example.org";

    // The list page carries the form.
    let (status, page) = get(&site.base);
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("id=\"signup\""), "{page}");
    assert!(page.contains("name=\"topic\" value=\"hate-crime\""));

    // Sign up for one topic, in Belarusian, 30/7/1 days.
    let (status, answer) = sign_up(
        &site,
        me,
        &["hate-crime"],
        &[("lang", "be"), ("days", "30-7-1")],
    );
    assert_eq!(status, StatusCode::OK, "{answer}");
    assert!(answer.contains("Праверце пошту"), "{answer}");
    let confirm = mails_to(&site.maildir(), me, 1);
    assert_eq!(confirm.len(), 1);
    let c = &confirm[0];
    assert_eq!(c.subject, "Вашы напаміны пра тэрміны");
    assert!(
        !c.headers.contains("List-Unsubscribe"),
        "transactional: {}",
        c.headers
    );
    // One link only (a known address's mail has one too); the confirm
    // page links to the preference page: the sign-up can be changed, or
    // deleted, before it is confirmed.
    assert!(!c.text.contains("manage?token="), "{}", c.text);
    let (url, early) = confirm_and_manage(&site, &c.text);
    let (status, page) = get(&early);
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("яшчэ не пацверджана"), "{page}");

    // Nothing before the confirmation (a dry run: a real pass in 2027
    // would find the sign-up expired, and delete it).
    let out = site.mechcal(&[
        "remind",
        "--dry-run",
        "--show-emails",
        "--now",
        "2027-03-25T12:00:00Z",
    ]);
    let plan = String::from_utf8_lossy(&out.stdout);
    assert!(
        plan.contains("all-deadlines@example.org") && !plan.contains(me),
        "{plan}"
    );

    // GET shows a button and changes nothing; its POST confirms.
    let (status, page) = get(&url);
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("n***@example.org"), "{page}");
    let (status, page) = post(&site, &action(&site, &page), &[]);
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Напаміны пацверджаны"), "{page}");

    // A pass reaches the new subscriber with their topic only: the ODIHR
    // deadline (its 30-day reminder), not the UPR one whose 7-day reminder
    // is due for everyone else.
    // (The dry run above, another process opening the database while
    // `serve` holds it, once made the server's later writes vanish: a
    // descriptor closed in `serve` dropped SQLite's locks.)
    site.remind("2027-03-25T12:00:00Z");
    let got = mails_to(&site.maildir(), me, 2);
    assert_eq!(got.len(), 2, "{got:?}");
    let r = got
        .iter()
        .find(|m| m.headers.contains("List-Unsubscribe"))
        .unwrap();
    assert!(r.subject.contains("ODIHR"), "{}", r.subject);
    assert!(
        !r.text.contains("доклад заинтересованных сторон"),
        "{}",
        r.text
    );
    assert!(
        r.text.contains("Вітаем,"),
        "no name was asked for: {}",
        r.text
    );
    assert!(r.headers.contains("List-Unsubscribe"), "{}", r.headers);
    let manage = link(&r.text, &format!("{}manage?token=", site.base));

    // The preference page: switch the topic to the UPR.
    let (status, page) = get(&manage);
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("n***@example.org"), "{page}");
    assert!(page.contains("value=\"hate-crime\" checked"), "{page}");
    let (status, page) = post(
        &site,
        &manage,
        &[
            ("action", "save"),
            ("topic", "upr"),
            ("lang", "en"),
            ("days", "30-7-1"),
            ("mode", "digest"),
        ],
    );
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Your choice is saved."), "{page}");
    site.remind("2027-03-26T12:00:00Z");
    let got = mails_to(&site.maildir(), me, 3);
    assert_eq!(got.len(), 3);
    let upr = got
        .iter()
        .find(|m| m.headers.contains("List-Unsubscribe") && m.subject.contains("UPR"));
    assert!(
        upr.is_some_and(|m| m.text.contains("Hello,")),
        "in English now: {got:#?}"
    );

    // A new link: the old one stops working.
    let (_, page) = post(&site, &manage, &[("action", "rotate")]);
    let at = page.find("<code>").unwrap() + 6;
    let fresh = page[at..at + page[at..].find("</code>").unwrap()].replace("&amp;", "&");
    assert_eq!(get(&manage).0, StatusCode::BAD_REQUEST);
    assert_eq!(get(&fresh).0, StatusCode::OK);

    // The address is nowhere in the database, before or after deletion.
    let id_hex = {
        let key =
            mechcal::subscriptions::AddressKey::load(&site.dir.join("var/address.key")).unwrap();
        key.id(me)
    };
    for t in traces(me) {
        assert!(
            !database_holds(&site.state(), &t),
            "{}",
            String::from_utf8_lossy(&t)
        );
    }
    assert!(database_holds(&site.state(), id_hex.as_bytes()));
    let (status, page) = post(&site, &fresh, &[("action", "delete")]);
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Everything deleted"), "{page}");
    for t in traces(me).into_iter().chain([id_hex.into_bytes()]) {
        assert!(
            !database_holds(&site.state(), &t),
            "{}",
            String::from_utf8_lossy(&t)
        );
    }
    assert_eq!(get(&fresh).0, StatusCode::BAD_REQUEST);
    // The Maildir keeps none of their earlier mails; one last mail says
    // so, with no link that works; then nothing more.
    let start = Instant::now();
    let got = loop {
        let got = mails_to(&site.maildir(), me, 1);
        if got
            .iter()
            .any(|m| m.subject == "A change to your reminder settings")
            || start.elapsed() > Duration::from_secs(10)
        {
            break got;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(got.len(), 1, "only the deletion notice is left: {got:#?}");
    let last = &got[0];
    assert_eq!(last.subject, "A change to your reminder settings");
    assert!(
        last.text
            .contains("Everything about this address was deleted"),
        "{}",
        last.text
    );
    assert!(!last.text.contains("token="), "{}", last.text);
    site.remind("2027-04-30T12:00:00Z");
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(
        mails_to(&site.maildir(), me, 2).len(),
        1,
        "no mail after the deletion notice"
    );
}

/// The answer to a sign-up is the same for a new, pending, active,
/// opted-out and staff-managed address: only the form token differs.
#[test]
fn the_answer_never_tells_who_is_subscribed() {
    let site = Site::start("");
    // Active, then opted out.
    sign_up(&site, "active@example.org", &[], &[]);
    sign_up(&site, "out@example.org", &[], &[]);
    for who in ["active@example.org", "out@example.org"] {
        let m = &mails_to(&site.maildir(), who, 1)[0];
        let url = link(&m.text, &format!("{}subscribe/confirm?token=", site.base));
        let (_, page) = get(&url);
        assert_eq!(post(&site, &action(&site, &page), &[]).0, StatusCode::OK);
    }
    site.remind("2027-01-08T09:00:00Z");
    let m = mails_to(&site.maildir(), "out@example.org", 2);
    let reminder = m
        .iter()
        .find(|m| m.headers.contains("List-Unsubscribe"))
        .unwrap();
    let unsubscribe = link(&reminder.text, &format!("{}unsubscribe?token=", site.base));
    assert_eq!(post(&site, &unsubscribe, &[]).0, StatusCode::OK);
    sign_up(&site, "pending@example.org", &[], &[]);

    let mut answers = Vec::new();
    for who in [
        "brand-new@example.org",
        "pending@example.org",
        "active@example.org",
        "out@example.org",
        "womens-rights@example.org",
    ] {
        let (status, body) = sign_up(&site, who, &["women"], &[]);
        answers.push((status, body));
    }
    assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:#?}");
    // The address's owner learns where they stand, by mail: a link to the
    // preference page for those already subscribed (one mail an hour).
    std::thread::sleep(Duration::from_millis(500));
    let staff = mails_to(&site.maildir(), "womens-rights@example.org", 1);
    assert!(
        staff.iter().any(|m| m.text.contains("manage?token=")),
        "{staff:?}"
    );
    let new = mails_to(&site.maildir(), "brand-new@example.org", 1);
    assert!(new[0].text.contains("subscribe/confirm?token="));
    assert_eq!(
        mails_to(&site.maildir(), "pending@example.org", 2).len(),
        1,
        "at most one confirmation mail per address and hour"
    );
}

#[test]
fn bad_input_is_refused_and_nothing_is_stored_or_sent() {
    let site = Site::start("per_client_per_hour = 12");
    let (_, page) = get(&format!("{}subscribe", site.base));
    let token = form_token(&page);
    let url = format!("{}subscribe", site.base);
    let long = format!("{}@example.org", "a".repeat(300));
    type Case<'a> = (Vec<(&'a str, &'a str)>, StatusCode, &'a str);
    let cases: Vec<Case> = vec![
        (
            vec![("email", "not an address")],
            StatusCode::BAD_REQUEST,
            "Enter one e-mail address",
        ),
        (
            vec![("email", "a@b.org\r\nBcc: victim@example.org")],
            StatusCode::BAD_REQUEST,
            "Enter one e-mail address",
        ),
        (
            vec![("email", "a@b.org\nBcc: victim@example.org")],
            StatusCode::BAD_REQUEST,
            "Enter one e-mail address",
        ),
        (
            vec![("email", &long)],
            StatusCode::BAD_REQUEST,
            "A field is too long.",
        ),
        (
            vec![("email", "x@example.org"), ("topic", "no-such-topic")],
            StatusCode::BAD_REQUEST,
            "Choose topics from the list.",
        ),
        (
            vec![("email", "x@example.org"), ("mechanism", "unr")],
            StatusCode::BAD_REQUEST,
            "Choose mechanisms from the list.",
        ),
        (
            vec![("email", "x@example.org"), ("days", "5")],
            StatusCode::BAD_REQUEST,
            "when to be reminded",
        ),
    ];
    for (fields, status, says) in &cases {
        let mut form = fields.clone();
        form.push(("token", &token));
        let (got, body) = post(&site, &url, &form);
        assert_eq!(got, *status, "{fields:?}: {body}");
        assert!(body.contains(says), "{fields:?}: {body}");
        // The form comes back with what was typed (escaped).
        if let Some(("email", typed)) = fields.first() {
            if typed.len() < 100 && !typed.contains('\n') {
                assert!(body.contains(&format!("value=\"{typed}\"")), "{body}");
            }
        }
    }
    // A form without a token or with a forged one.
    let (got, body) = post(
        &site,
        &url,
        &[("email", "x@example.org"), ("token", "forged")],
    );
    assert_eq!(got, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("did not come from this site"), "{body}");
    // A post from another site.
    let r = client()
        .post(&url)
        .header(ORIGIN, "https://evil.example.net")
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(format!("email=x%40example.org&token={token}"))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // An over-long body.
    let r = client()
        .post(&url)
        .header(ORIGIN, site.base.trim_end_matches('/'))
        .body(format!(
            "email=x%40example.org&token={token}&pad={}",
            "x".repeat(20_000)
        ))
        .send()
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // Tampered and foreign links.
    for path in [
        "subscribe/confirm?token=AAAA",
        "subscribe/confirm?token=",
        "manage?token=AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkq",
        "manage",
    ] {
        let (status, body) = get(&format!("{}{path}", site.base));
        assert_eq!(status, StatusCode::BAD_REQUEST, "{path}: {body}");
        assert!(!body.contains("@example.org"));
    }
    std::thread::sleep(Duration::from_millis(300));
    assert!(mails(&site.maildir())
        .iter()
        .all(|m| !m.to.contains("x@example.org")));
    assert!(mails(&site.maildir())
        .iter()
        .all(|m| !m.to.contains("victim")));

    // The per-client limit: 12 an hour; the 13th is refused.
    let mut statuses = Vec::new();
    for i in 0..13 {
        let (status, _) = sign_up(&site, &format!("many{i}@example.org"), &[], &[]);
        statuses.push(status);
    }
    assert_eq!(
        statuses.iter().filter(|s| **s == StatusCode::OK).count(),
        12,
        "{statuses:?}"
    );
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
}

#[test]
fn with_staff_approval_a_confirmed_sign_up_waits() {
    let site =
        Site::start("approval = \"staff\"\n[alerts]\nstaff = [\"calendar-team@example.org\"]");
    let me = "waits@example.org";
    sign_up(&site, me, &[], &[]);
    let m = &mails_to(&site.maildir(), me, 1)[0];
    let url = link(&m.text, &format!("{}subscribe/confirm?token=", site.base));
    let (_, page) = get(&url);
    let (status, page) = post(&site, &action(&site, &page), &[]);
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("staff will look at your sign-up"), "{page}");
    // Staff are told that one waits, without the address.
    let note = mails_to(&site.maildir(), "calendar-team@example.org", 1);
    assert_eq!(note.len(), 1);
    assert!(
        note[0].subject.contains("1 sign-up waiting for approval"),
        "{}",
        note[0].subject
    );
    assert!(
        !note[0].text.contains("waits@") && !note[0].text.contains("w***"),
        "{}",
        note[0].text
    );
    site.remind("2027-01-08T09:00:00Z");
    assert_eq!(
        mails_to(&site.maildir(), me, 2).len(),
        1,
        "no reminder before approval"
    );

    let cli = |args: &[&str]| {
        let out = site.mechcal(args);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, _) = cli(&["subscribers", "pending"]);
    assert_eq!(code, Some(0));
    assert!(
        out.contains("w***@example.org") && !out.contains(me),
        "{out}"
    );
    let reference = out
        .lines()
        .nth(1)
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_string();
    let (code, _, err) = cli(&["subscribers", "approve", "ffffffff"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("names no sign-up waiting for approval"),
        "{err}"
    );
    let (_, out, _) = cli(&["subscribers"]);
    assert!(
        out.contains("self-service: 0 active, 1 waiting for approval, 0 not yet confirmed"),
        "{out}"
    );
    let (code, out, _) = cli(&["subscribers", "approve", &reference]);
    assert_eq!(code, Some(0), "{out}");
    let (_, out, _) = cli(&["subscribers"]);
    assert!(out.contains("self-service: 1 active, 0 waiting"), "{out}");
    site.remind("2027-01-08T09:00:00Z");
    assert_eq!(
        mails_to(&site.maildir(), me, 2).len(),
        2,
        "reminded once approved"
    );
}

/// `open = false`: no form, and the sign-up routes are not there; the
/// preference page and the privacy statement stay (reminders are on).
#[test]
fn closed_sign_up_has_no_form_and_no_routes() {
    let site = Site::start("open = false");
    let (_, page) = get(&site.base);
    assert!(
        !page.contains("id=\"signup\"") && !page.contains("#signup"),
        "{page}"
    );
    assert_eq!(
        get(&format!("{}subscribe", site.base)).0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post(
            &site,
            &format!("{}subscribe", site.base),
            &[("email", "a@example.org")]
        )
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        get(&format!("{}subscribe/confirm?token=x", site.base)).0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(get(&format!("{}privacy", site.base)).0, StatusCode::OK);
    assert_eq!(
        get(&format!("{}manage?token=x", site.base)).0,
        StatusCode::BAD_REQUEST
    );
}

/// A subscribers-file person's preference page: language and days are
/// theirs, topics staff's; they may pause and stop, not delete the file.
#[test]
fn a_file_subscriber_changes_language_and_days_not_topics() {
    let site = Site::start("contact = \"calendar-team@example.org\"");
    let who = "womens-rights@example.org";
    site.remind("2027-01-08T09:00:00Z");
    let first = mails_to(&site.maildir(), who, 1);
    assert_eq!(first.len(), 1);
    assert!(
        first[0].subject.contains("CEDAW"),
        "in Russian, their file's language: {}",
        first[0].subject
    );
    let manage = link(&first[0].text, &format!("{}manage?token=", site.base));
    let (status, page) = get(&manage);
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        page.contains("сотрудники календаря"),
        "staff choose the topics: {page}"
    );
    assert!(
        page.contains("напишите на calendar-team@example.org"),
        "{page}"
    );
    assert!(!page.contains("name=\"topic\""), "no topic boxes: {page}");
    assert!(!page.contains("name=\"mode\""), "no digest choice: {page}");
    assert!(!page.contains("value=\"delete\""), "{page}");
    // English, 1 day before only; a topic sent anyway is not taken.
    let (status, page) = post(
        &site,
        &manage,
        &[
            ("action", "save"),
            ("lang", "en"),
            ("days", "1"),
            ("mode", "digest"),
            ("topic", "upr"),
        ],
    );
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Your choice is saved."), "{page}");
    // The ODIHR deadline (15 April, topics hate-crime, discrimination):
    // their file asks 30/7/1 days; now only 1, in English.
    site.remind("2027-04-08T12:00:00Z");
    assert_eq!(
        mails_to(&site.maildir(), who, 2).len(),
        1,
        "no 7-day reminder any more"
    );
    site.remind("2027-04-14T12:00:00Z");
    let got = mails_to(&site.maildir(), who, 2);
    let last = got
        .iter()
        .find(|m| m.subject.contains("tomorrow"))
        .unwrap_or_else(|| panic!("{got:#?}"));
    assert!(
        last.text.contains("Hello Example: a women"),
        "{}",
        last.text
    );
    // No UPR reminder: the topic sent with the form was not taken.
    assert!(got.iter().all(|m| !m.subject.contains("UPR")));
}

/// The transport fails: the sign-up is stored, no mail, and nothing
/// records it as mailed — sending it again once the transport works
/// sends the confirmation. The log never holds an address.
#[test]
fn a_sign_up_whose_mail_failed_can_be_sent_again() {
    let site = Site::start("");
    let me = "unlucky@example.org";
    let new = site.maildir();
    let aside = new.with_extension("aside");
    // The Maildir broken: `new` is a file, so no message can be written.
    fs::create_dir_all(&new).unwrap();
    fs::rename(&new, &aside).unwrap();
    fs::write(&new, "not a directory").unwrap();
    let (status, page) = sign_up(&site, me, &[], &[]);
    assert_eq!(status, StatusCode::OK, "{page}");
    let start = Instant::now();
    while !site.log.lock().unwrap().contains("sign-up mail not sent") {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{}",
            site.log.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    fs::remove_file(&new).unwrap();
    fs::rename(&aside, &new).unwrap();
    assert!(mails_to(&new, me, 1).is_empty());
    // Submitted again: the confirmation goes out (the failed one did not
    // count against the address's hourly mail).
    let (status, _) = sign_up(&site, me, &[], &[]);
    assert_eq!(status, StatusCode::OK);
    let got = mails_to(&new, me, 1);
    assert_eq!(got.len(), 1, "sent on the second try");
    assert!(got[0].text.contains("subscribe/confirm?token="));
    // The log says what happened, not to whom: not even masked.
    let log = site.log.lock().unwrap().clone();
    assert!(log.contains("sign-up mail sent"), "{log}");
    assert!(!log.contains("u***@example.org"), "{log}");
    assert!(!log.contains(me), "{log}");
}

/// Discreet mails: a subscriber who set `discreet = true` (in the file, or
/// on the form) gets mail whose subject, sender name, attachment name and
/// first lines say only "Reminder: N items due …" — no mechanism, title,
/// topic, "human rights", "UN" or the service's name — with the details
/// below a blank screenful and in the `.ics`.
#[test]
fn discreet_mails_show_nothing_at_a_glance() {
    let site = Site::start("");
    // One of the file's people turns it on in the file; a sign-up on the form.
    let file = site.dir.join("subscribers.toml");
    let text = fs::read_to_string(&file).unwrap();
    common::write_private(
        &file,
        text.replacen("language = \"ru\"", "language = \"ru\"\ndiscreet = true", 1),
    );
    let me = "discreet@example.org";
    let (status, _) = sign_up(&site, me, &[], &[("lang", "be"), ("discreet", "on")]);
    assert_eq!(status, StatusCode::OK);
    let m = &mails_to(&site.maildir(), me, 1)[0];
    let url = link(&m.text, &format!("{}subscribe/confirm?token=", site.base));
    let (_, page) = get(&url);
    post(&site, &action(&site, &page), &[]);
    site.remind("2027-01-08T09:00:00Z");
    let forbidden = [
        "CEDAW",
        "КЛДЖ",
        "альтернатив",
        "Example",
        "Пример",
        "women",
        "Женщин",
        "Жанчын",
        "human",
        "Human",
        "прав",
        "UN ",
        "ООН",
        "mechcal",
        "deadlines",
        "calendar",
    ];
    for (who, line) in [
        (
            "womens-rights@example.org",
            "Напоминание: 1 пункт, срок через 7 дней",
        ),
        (me, "Напамін: 2 пункты, тэрмін праз 7 дзён"),
    ] {
        let got = mails_to(&site.maildir(), who, 1);
        let r = got
            .iter()
            .find(|m| m.headers.contains("List-Unsubscribe"))
            .unwrap_or_else(|| panic!("{who}: {got:#?}"));
        assert_eq!(r.subject, line, "{who}");
        // The sender's address and domain stay (the mail provider sees them
        // anyway): what is checked is the name shown beside them.
        let from = r.headers.lines().find(|l| l.starts_with("From: ")).unwrap();
        let from_name = from["From: ".len()..]
            .split('<')
            .next()
            .unwrap()
            .trim()
            .to_string();
        assert_eq!(
            from_name,
            if who == me {
                "Напамін"
            } else {
                "Напоминание"
            }
        );
        let list_id = r
            .headers
            .lines()
            .find(|l| l.starts_with("List-Id: "))
            .unwrap();
        assert!(
            list_id.starts_with("List-Id: <reminders."),
            "no name in it: {list_id}"
        );
        let glance: String = r.text.lines().take(12).collect::<Vec<_>>().join("\n");
        for word in forbidden {
            for (what, text) in [("subject", &r.subject), ("first lines", &glance)] {
                assert!(
                    !text.contains(word),
                    "{who}: `{word}` in the {what}: {text}"
                );
            }
        }
        assert!(glance.starts_with(line), "{glance}");
        // The details are there, further down.
        assert!(r.text.contains("CEDAW"), "{}", r.text);
    }
    // The attachment's name says nothing either; the others' mail is as before.
    let raw: Vec<String> = fs::read_dir(site.maildir())
        .unwrap()
        .map(|e| fs::read_to_string(e.unwrap().path()).unwrap())
        .filter(|m| m.contains("List-Unsubscribe"))
        .collect();
    let discreet = raw
        .iter()
        .filter(|m| m.contains("filename=\"reminder.ics\""))
        .count();
    assert_eq!(discreet, 2);
    assert!(raw
        .iter()
        .any(|m| m.contains("filename=\"deadlines.ics\"") && m.contains("[mechcal]")));
}

/// Revoked links stay revoked. A subscriber makes a new link, then
/// deletes everything; then somebody signs the address up again. Neither
/// the first preference link, nor the first one-click unsubscribe link,
/// nor the first confirmation link opens or confirms the new sign-up:
/// every link is bound to a random value of its row, and the new row has
/// a new one.
#[test]
fn revoked_links_never_come_back() {
    let site = Site::start("");
    let me = "revoked@example.org";
    sign_up(&site, me, &[], &[]);
    let first = &mails_to(&site.maildir(), me, 1)[0];
    let (confirm, manage) = confirm_and_manage(&site, &first.text);
    let (_, page) = get(&confirm);
    assert_eq!(post(&site, &action(&site, &page), &[]).0, StatusCode::OK);
    site.remind("2027-01-08T09:00:00Z");
    let got = mails_to(&site.maildir(), me, 2);
    let reminder = got
        .iter()
        .find(|m| m.headers.contains("List-Unsubscribe"))
        .unwrap();
    let unsubscribe = link(&reminder.text, &format!("{}unsubscribe?token=", site.base));
    let reminded_manage = link(&reminder.text, &format!("{}manage?token=", site.base));
    assert_eq!(
        reminded_manage, manage,
        "one value for all of a row's links"
    );
    assert_eq!(get(&manage).0, StatusCode::OK);

    // A new link, then "delete everything".
    let (_, page) = post(&site, &manage, &[("action", "rotate")]);
    let at = page.find("<code>").unwrap() + 6;
    let fresh = page[at..at + page[at..].find("</code>").unwrap()].replace("&amp;", "&");
    assert_eq!(get(&manage).0, StatusCode::BAD_REQUEST);
    assert_eq!(get(&unsubscribe).0, StatusCode::BAD_REQUEST, "rotated too");
    let (status, page) = post(&site, &fresh, &[("action", "delete")]);
    assert_eq!(status, StatusCode::OK, "{page}");

    // Somebody signs the address up again: a new confirmation mail.
    sign_up(&site, me, &["women"], &[]);
    // The deletion notice and the new confirmation (the Maildir kept
    // none of the mails before the deletion).
    let got = mails_to(&site.maildir(), me, 2);
    assert_eq!(got.len(), 2, "{got:#?}");
    for (what, url) in [
        ("first preference link", &manage),
        ("rotated preference link", &fresh),
        ("first unsubscribe link", &unsubscribe),
        ("first confirmation link", &confirm),
    ] {
        let (status, page) = get(url);
        assert_eq!(status, StatusCode::BAD_REQUEST, "{what}: {page}");
    }
    // Posting the old confirmation confirms nothing; the new one's does.
    assert_eq!(post(&site, &confirm, &[]).0, StatusCode::BAD_REQUEST);
    let prefix = format!("{}subscribe/confirm?token=", site.base);
    let second = got
        .iter()
        .flat_map(|m| m.text.lines().map(str::trim))
        .find(|l| l.starts_with(&prefix) && *l != confirm)
        .unwrap_or_else(|| panic!("{got:#?}"))
        .to_string();
    assert_eq!(get(&second).0, StatusCode::OK);
    assert_eq!(
        post(&site, &unsubscribe, &[]).0,
        StatusCode::BAD_REQUEST,
        "a late one-click of an old mail"
    );
}

/// A sign-up of a known address sends the same mail as a new one's —
/// same subject and text, one link at the same path, which forwards to
/// the preference page — and a file subscriber with an OpenPGP key gets
/// it encrypted, never in clear.
#[test]
fn a_known_address_gets_the_same_mail_and_a_key_holder_an_encrypted_one() {
    // The whole sample file: its last subscriber has an OpenPGP key.
    let site = Site::start_with("", |path| {
        let dir = path.parent().unwrap();
        common::copy_dir(&root().join("config/keys"), &dir.join("keys"));
        let text = fs::read_to_string(root().join("config/subscribers.example.toml")).unwrap();
        common::write_private(path, &text);
    });
    sign_up(&site, "brand-new@example.org", &[], &[]);
    sign_up(&site, "lawyer@example.org", &[], &[]);
    sign_up(&site, "encrypted@example.org", &[], &[]);
    let new = &mails_to(&site.maildir(), "brand-new@example.org", 1)[0];
    let known = &mails_to(&site.maildir(), "lawyer@example.org", 1)[0];
    let prefix = format!("{}subscribe/confirm?token=", site.base);
    let (new_link, known_link) = (link(&new.text, &prefix), link(&known.text, &prefix));
    assert_eq!(new.subject, known.subject);
    assert_eq!(new_link.len(), known_link.len());
    assert_eq!(
        new.text.replace(&new_link, ""),
        known.text.replace(&known_link, "")
    );
    // The known address's link leads to its preference page.
    let r = client().get(&known_link).send().unwrap();
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    assert!(location.starts_with("/manage?token="), "{location}");
    let (status, page) = get(&format!("{}{}", site.base, &location[1..]));
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("l***@example.org"), "{page}");

    // The key holder's: encrypted, nothing of it in clear.
    let raw = fs::read_dir(site.maildir())
        .unwrap()
        .map(|e| fs::read_to_string(e.unwrap().path()).unwrap())
        .find(|m| m.contains("To: encrypted@example.org"))
        .expect("a mail to the key holder");
    assert!(raw.contains("multipart/encrypted"), "{raw}");
    for clear in ["token=", "deadline reminders", "Your deadline"] {
        assert!(!raw.contains(clear), "{clear} in clear: {raw}");
    }
}
