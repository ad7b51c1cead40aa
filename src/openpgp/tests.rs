//! Keys made by GnuPG 2.2 (tests/fixtures/openpgp, see its README).

use super::*;
use pgp::composed::{Message, SignedSecretKey};

fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/tests/fixtures/openpgp/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn at(t: &str) -> DateTime<Utc> {
    t.parse().unwrap()
}

const NOW: &str = "2026-12-03T00:00:00Z";

#[test]
fn keys_made_by_gnupg_are_judged_as_gnupg_judges_them() {
    let rsa = Cert::check(&fixture("rsa.asc"), at(NOW)).unwrap();
    assert_eq!(rsa.fingerprint.len(), 40);
    // `gpg --quick-gen-key … 2030-01-01`: that day, as GnuPG reads it.
    let expires = rsa.expires.unwrap();
    assert!(
        at("2029-12-31T00:00:00Z") < expires && expires <= at("2030-01-02T00:00:00Z"),
        "{expires}"
    );
    assert!(matches!(rsa.target, Target::Subkey(0)));
    let curve = Cert::check(&fixture("cv25519.asc"), at(NOW)).unwrap();
    assert_eq!(curve.expires, None);

    let problem = |name: &str| Cert::check(&fixture(name), at(NOW)).unwrap_err();
    assert!(matches!(
        problem("sign-only.asc"),
        KeyProblem::NoEncryption { .. }
    ));
    assert!(matches!(problem("revoked.asc"), KeyProblem::Revoked { .. }));
    match problem("expired.asc") {
        KeyProblem::Expired { at, .. } => {
            assert_eq!(at.format("%Y-%m-%d").to_string(), "2020-06-01")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(problem("rsa.secret.asc"), KeyProblem::Secret);
    assert!(matches!(
        Cert::check(
            b"-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nnonsense\n",
            at(NOW)
        ),
        Err(KeyProblem::NotAKey(_))
    ));
    assert!(matches!(
        Cert::check(b"", at(NOW)),
        Err(KeyProblem::NotAKey(_))
    ));
    let mut two = fixture("rsa.asc");
    two.extend(fixture("cv25519.asc"));
    assert_eq!(
        Cert::check(&two, at(NOW)).unwrap_err(),
        KeyProblem::Several(2)
    );
}

#[test]
fn a_key_that_expires_later_is_usable_until_then() {
    let rsa = Cert::check(&fixture("rsa.asc"), at(NOW)).unwrap();
    let until = rsa.expires.unwrap();
    assert_eq!(rsa.usable_at(until - chrono::Duration::seconds(1)), Ok(()));
    assert!(matches!(
        rsa.usable_at(until),
        Err(KeyProblem::Expired { at, .. }) if at == until
    ));
    // Checked after the date, it is refused outright.
    assert!(matches!(
        Cert::check(&fixture("rsa.asc"), at("2031-01-01T00:00:00Z")),
        Err(KeyProblem::Expired { .. })
    ));
}

fn decrypt(armored: &str, secret: &str) -> Vec<u8> {
    let (key, _) = SignedSecretKey::from_armor_single(fixture(secret).as_slice()).unwrap();
    let (message, _) = Message::from_string(armored).unwrap();
    let mut plain = message.decrypt(&"".into(), &key).unwrap();
    plain.as_data_vec().unwrap()
}

#[test]
fn encrypted_text_opens_only_with_the_subscribers_secret_key() {
    for (public, secret) in [
        ("rsa.asc", "rsa.secret.asc"),
        ("cv25519.asc", "cv25519.secret.asc"),
    ] {
        let cert = Cert::check(&fixture(public), at(NOW)).unwrap();
        let armored = cert.encrypt("Привет\r\nline two\r\n".as_bytes()).unwrap();
        assert!(
            armored.starts_with("-----BEGIN PGP MESSAGE-----"),
            "{armored}"
        );
        assert!(!armored.contains("Привет"));
        assert_eq!(
            decrypt(&armored, secret),
            "Привет\r\nline two\r\n".as_bytes(),
            "{public}"
        );
    }
}

#[test]
fn the_entity_keeps_the_content_and_protects_the_headers() {
    let inner = lettre::Message::builder()
        .from("Calendar <cal@example.org>".parse().unwrap())
        .to("a@example.org".parse().unwrap())
        .subject("CERD — Alternative report due in 7 days")
        .message_id(Some("<r.1@example.org>".into()))
        .raw_header(lettre::message::header::HeaderValue::new(
            lettre::message::header::HeaderName::new_from_ascii_str("List-Id"),
            "<reminders.example.org>".into(),
        ))
        .multipart(lettre::message::MultiPart::alternative_plain_html(
            "text".to_string(),
            "<p>html</p>".to_string(),
        ))
        .unwrap();
    let entity = String::from_utf8(mime::entity(&inner)).unwrap();
    let (head, body) = entity.split_once("\r\n\r\n").unwrap();
    assert!(
        head.contains("Content-Type: multipart/alternative;"),
        "{head}"
    );
    assert!(head.contains("protected-headers=\"v1\""), "{head}");
    for h in [
        "From: ",
        "To: ",
        "Subject: ",
        "Date: ",
        "Message-ID: <r.1@example.org>",
    ] {
        assert!(head.contains(h), "{h} missing from\n{head}");
    }
    assert!(!head.contains("List-Id"), "{head}");
    assert!(!head.contains("MIME-Version"), "{head}");
    assert!(body.contains("<p>html</p>"));
    assert!(
        !entity.replace("\r\n", "").contains('\n'),
        "bare LF in\n{entity}"
    );
}

/// A key is for the addresses its own user IDs name, whatever their case;
/// a key of another address is not.
#[test]
fn a_key_names_the_addresses_of_its_user_ids() {
    let rsa = Cert::check(&fixture("rsa.asc"), at(NOW)).unwrap();
    assert!(rsa.names("rsa@example.org"));
    assert!(rsa.names("RSA@Example.ORG"));
    for other in [
        "curve@example.org",
        "rsa@example.org.evil",
        "RSA Test",
        "",
        "example.org",
    ] {
        assert!(!rsa.names(other), "{other}");
    }
    let curve = Cert::check(&fixture("cv25519.asc"), at(NOW)).unwrap();
    assert!(curve.names("curve@example.org"));
    assert!(!curve.names("rsa@example.org"));
}
