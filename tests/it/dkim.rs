//! DKIM: every kind of mail mechcal sends — a digest, a single reminder, a
//! "moved" and a "cancelled" notice, a sign-up confirmation, the staff's
//! note — is signed, and Python dkimpy verifies each against the record
//! `mechcal dkim-record` prints, for an RSA-2048 and an Ed25519 key made
//! by Python `cryptography`. The signature covers the list headers RFC 8058
//! requires (`List-Unsubscribe`, `List-Unsubscribe-Post`) and `List-Id`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support as common;
use crate::tools;
use common::{copy_dir, root};

fn python() -> PathBuf {
    common::python_with(&["dkimpy==1.1.8", "pynacl==1.5.0", "cryptography==50.0.2"])
}

/// A private key of `kind` (`rsa`, `ed25519`) written as PEM to `path`.
pub(crate) fn make_key(kind: &str, path: &Path) {
    let script = r#"
import sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
kind, path = sys.argv[1], sys.argv[2]
if kind == "rsa":
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    fmt = serialization.PrivateFormat.TraditionalOpenSSL
else:
    key = ed25519.Ed25519PrivateKey.generate()
    fmt = serialization.PrivateFormat.PKCS8
open(path, "wb").write(key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()))
"#;
    let ok = Command::new(python())
        .args(["-c", script, kind])
        .arg(path)
        .status()
        .unwrap();
    assert!(ok.success());
}

fn mechcal(config: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mechcal"))
        .arg("--config")
        .arg(config)
        .args(args)
        .output()
        .unwrap()
}

/// `(subject, verified, h=)` of every message in `dir`.
pub(crate) fn verify(dir: &Path, record: &str) -> Vec<(String, bool, String)> {
    let out = Command::new(python())
        .arg(root().join("tests/mail/dkim_verify.py"))
        .arg(dir)
        .arg(record)
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
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (
                v["subject"].as_str().unwrap().to_string(),
                v["ok"].as_bool().unwrap(),
                v["h"].as_str().unwrap().to_lowercase(),
            )
        })
        .collect()
}

/// The record's value, from `mechcal dkim-record`.
pub(crate) fn record(config: &Path) -> String {
    let out = mechcal(config, &["dkim-record"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("._domainkey.calendar.example.org. 3600 IN TXT ( \"v=DKIM1; k=")
            && !text.starts_with('.'),
        "{text}"
    );
    text.lines()
        .find_map(|l| l.strip_prefix("; value: "))
        .unwrap()
        .to_string()
}

#[test]
fn reminders_and_notices_verify_with_dkimpy_for_rsa_and_ed25519() {
    for kind in ["rsa", "ed25519"] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        copy_dir(&root().join("deadlines"), &dir.join("deadlines"));
        common::example_subscribers(&dir.join("subscribers.toml"));
        make_key(kind, &dir.join("dkim.pem"));
        let config = dir.join("mechcal.toml");
        fs::write(
            &config,
            "[calendar]\ndomain = \"calendar.example.org\"\n[data]\ndeadlines = \"deadlines\"\n\
             [state]\npath = \"state.sqlite\"\n[reminders]\nsubscribers = \"subscribers.toml\"\n\
             [mail]\nmaildir = \"maildir\"\n\
             [mail.dkim]\ndomain = \"calendar.example.org\"\nselector = \"mechcal\"\nkey_file = \"dkim.pem\"\n",
        )
        .unwrap();
        let value = record(&config);
        assert!(
            value.starts_with(&format!("v=DKIM1; k={kind}; p=")),
            "{value}"
        );
        // A digest and a single reminder; then "moved"; then "cancelled".
        let pass = |now: &str| {
            let out = mechcal(&config, &["remind", "--now", now]);
            assert_eq!(
                out.status.code(),
                Some(0),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        common::remind_moved_cancelled(dir, pass);
        let got = verify(&dir.join("maildir/new"), &value);
        assert_eq!(got.len(), 9, "{got:#?}");
        for (subject, ok, h) in &got {
            assert!(ok, "{kind}: {subject} does not verify");
            for header in [
                "from",
                "to",
                "subject",
                "date",
                "message-id",
                "mime-version",
                "content-type",
                "list-id",
                "list-unsubscribe",
                "list-unsubscribe-post",
            ] {
                assert!(
                    h.split(':').any(|x| x == header),
                    "{kind}: {header} unsigned in {subject}: {h}"
                );
            }
        }
        let subjects: Vec<&str> = got.iter().map(|g| g.0.as_str()).collect();
        assert!(
            subjects
                .iter()
                .any(|s| s.contains("moved") || s.contains("перенесён")),
            "{subjects:?}"
        );
        assert!(
            subjects
                .iter()
                .any(|s| s.contains("cancelled") || s.contains("отменено")),
            "{subjects:?}"
        );
        // A changed byte fails: the check can fail.
        let first = fs::read_dir(dir.join("maildir/new"))
            .unwrap()
            .next()
            .unwrap()
            .unwrap()
            .path();
        let raw = fs::read_to_string(&first).unwrap();
        fs::write(&first, raw.replacen("Subject: ", "Subject: X", 1)).unwrap();
        let again = verify(&dir.join("maildir/new"), &value);
        assert_eq!(again.iter().filter(|g| !g.1).count(), 1, "{again:#?}");
    }
}

#[test]
fn sign_up_mails_and_the_staff_note_verify_too() {
    use crate::signup::{self, Site};
    let keys = tempfile::tempdir().unwrap();
    let key = keys.path().join("dkim.pem");
    make_key("rsa", &key);
    let site = Site::start(&format!(
        "approval = \"staff\"\n[alerts]\nstaff = [\"calendar-team@example.org\"]\n\
         [mail.dkim]\ndomain = \"calendar.example.org\"\nselector = \"mechcal\"\nkey_file = \"{}\"",
        key.display()
    ));
    let value = record(&site.config);
    let me = "signed@example.org";
    signup::sign_up(&site, me, &[], &[]);
    let m = &signup::mails_to(&site.maildir(), me, 1)[0];
    let url = signup::link(&m.text, &format!("{}subscribe/confirm?token=", site.base));
    let (_, page) = signup::get(&url);
    signup::post(&site, &signup::action(&site, &page), &[]);
    assert_eq!(
        signup::mails_to(&site.maildir(), "calendar-team@example.org", 1).len(),
        1
    );
    let got = verify(&site.maildir(), &value);
    let confirm = got.iter().find(|g| g.0.contains("Your deadline reminders"));
    let note = got.iter().find(|g| g.0.contains("waiting for approval"));
    for (what, g) in [("confirmation", confirm), ("staff note", note)] {
        let (subject, ok, h) = g.unwrap_or_else(|| panic!("no {what}: {got:#?}"));
        assert!(ok, "{what} does not verify: {subject}");
        assert!(
            !h.contains("list-unsubscribe"),
            "{what} is transactional: {h}"
        );
    }
}

#[test]
fn a_dkim_key_that_cannot_be_read_stops_the_start() {
    if !tools::need(
        &[&tools::OPENSSL],
        "dkim::a_dkim_key_that_cannot_be_read_stops_the_start",
    ) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    common::example_subscribers(&dir.join("subscribers.toml"));
    fs::write(dir.join("not-a-key.pem"), "hello\n").unwrap();
    // ring, which signs, refuses RSA keys under 2048 bits: so do check,
    // serve and the commands, saying how to make one.
    let small = Command::new("openssl")
        .args(["genrsa", "-traditional", "-out"])
        .arg(dir.join("small.pem"))
        .arg("1024")
        .output()
        .unwrap();
    assert!(small.status.success());
    let config = dir.join("mechcal.toml");
    for (file, says) in [
        ("missing.pem", "cannot read the DKIM key"),
        ("not-a-key.pem", "is not a PEM private key"),
        ("small.pem", "fewer than 2048 bits"),
    ] {
        fs::write(
            &config,
            format!(
                "[calendar]\ndomain = \"calendar.example.org\"\n[data]\ndeadlines = \"{}\"\n\
                 [state]\npath = \"state.sqlite\"\n[reminders]\nsubscribers = \"subscribers.toml\"\n\
                 [mail]\nmaildir = \"maildir\"\n\
                 [mail.dkim]\ndomain = \"calendar.example.org\"\nselector = \"mechcal\"\nkey_file = \"{file}\"\n",
                root().join("deadlines").display()
            ),
        )
        .unwrap();
        // `serve` exits 1 when reminders cannot run (as for a missing SMTP
        // password); the commands, 2 (an environment error).
        for (args, code) in [
            (&["serve", "--listen", "127.0.0.1:0"][..], 1),
            (&["remind"], 2),
            (&["dkim-record"], 2),
            (&["check"], 2),
        ] {
            let out = mechcal(&config, args);
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
            assert!(err.contains(says), "{args:?}: {err}");
        }
    }
    // Without [mail.dkim], dkim-record says what to add.
    fs::write(&config, "[calendar]\ndomain = \"calendar.example.org\"\n").unwrap();
    let out = mechcal(&config, &["dkim-record"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("has no `[mail.dkim]`"));
}

/// The staff's alert about broken data goes through the same signer.
#[test]
fn staff_alerts_verify_too() {
    use crate::signup::{self, Site};
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    copy_dir(&root().join("deadlines"), &dir.join("deadlines"));
    make_key("ed25519", &dir.join("dkim.pem"));
    let config = dir.join("mechcal.toml");
    fs::write(
        &config,
        "[calendar]\ndomain = \"calendar.example.org\"\n[data]\ndeadlines = \"deadlines\"\n\
         [state]\npath = \"state.sqlite\"\n[mail]\nmaildir = \"var/maildir\"\n\
         [mail.dkim]\ndomain = \"calendar.example.org\"\nselector = \"mechcal\"\nkey_file = \"dkim.pem\"\n\
         [alerts]\nstaff = [\"ops@example.org\"]\n",
    )
    .unwrap();
    let value = record(&config);
    let site = Site::serve(tmp, config, signup::free_port());
    let file = dir.join("deadlines/examples/2026-2027.toml");
    let good = fs::read_to_string(&file).unwrap();
    fs::write(
        &file,
        good.replacen("mechanism = \"cedaw\"", "mechanism = \"cedw\"", 1),
    )
    .unwrap();
    let alert = signup::mails_to(&site.maildir(), "ops@example.org", 1);
    assert_eq!(alert.len(), 1, "{}", site.log.lock().unwrap());
    let got = verify(&site.maildir(), &value);
    assert_eq!(got.len(), 1);
    assert!(got[0].1, "the alert does not verify: {got:?}");
    assert!(got[0].0.contains("the deadline data is invalid"), "{got:?}");
}
