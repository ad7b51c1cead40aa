//! The mails of self-service subscriptions: the one a sign-up sends, and
//! the staff's note that sign-ups wait. Transactional: no List-Id and no
//! List-Unsubscribe (nobody subscribed to them); plain text; in the
//! subscriber's language. No I/O and no clock.
//!
//! A sign-up sends one mail whatever the address is: the same subject,
//! text and length for a new address as for one that already gets
//! reminders, so that whoever reads mail in transit learns nothing from
//! it; only the link differs (it confirms a new sign-up, or leads an
//! existing subscriber to their preference page). To a person with an
//! OpenPGP key it is encrypted, under a neutral subject; never in clear.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MessageBuilder};
use lettre::Message;

use crate::i18n::Lang;
use crate::openpgp::Cert;

use super::MessageError;

/// The sign-up mail to `to`, carrying `link`, encrypted to `openpgp` when
/// given; `nonce` makes its Message-ID (random, so that two mails to one
/// address are not linkable by it).
#[allow(clippy::too_many_arguments)]
pub fn build(
    from: &Mailbox,
    to: &str,
    lang: Lang,
    link: &str,
    confirm_hours: u32,
    domain: &str,
    nonce: &str,
    openpgp: Option<&Cert>,
    now: DateTime<Utc>,
) -> Result<Message, MessageError> {
    let (subject, body) = texts(lang, link, confirm_hours);
    transactional(
        from, to, lang, &subject, body, "signup", domain, nonce, openpgp, now,
    )
}

/// A plain-text transactional mail to `to` (Message-ID `<{kind}.{nonce}@
/// {domain}>`), encrypted to `openpgp` under a neutral subject and sender
/// name when given.
#[allow(clippy::too_many_arguments)]
fn transactional(
    from: &Mailbox,
    to: &str,
    lang: Lang,
    subject: &str,
    body: String,
    kind: &str,
    domain: &str,
    nonce: &str,
    openpgp: Option<&Cert>,
    now: DateTime<Utc>,
) -> Result<Message, MessageError> {
    let address: lettre::Address = to.parse().map_err(|source| MessageError::Address {
        address: crate::load::subscribers::mask(to),
        source,
    })?;
    let envelope = |from: Mailbox, subject: &str| -> MessageBuilder {
        Message::builder()
            .from(from)
            .to(Mailbox::new(None, address.clone()))
            .raw_header(super::subject_header(subject))
            .message_id(Some(format!("<{kind}.{nonce}@{domain}>")))
            .date(SystemTime::from(now))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".into(),
            ))
    };
    let inner = envelope(from.clone(), subject)
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(MessageError::Build)?;
    let Some(cert) = openpgp else {
        return Ok(inner);
    };
    // Outside, only a neutral sender name and subject.
    let outer = envelope(
        Mailbox::new(
            Some(lang.text("discreet-from").into_owned()),
            from.email.clone(),
        ),
        &lang.text("signup-mail-encrypted"),
    );
    Ok(crate::openpgp::mime::seal(&inner, cert, outer)?)
}

/// The subject and text of the sign-up mail.
pub fn texts(lang: Lang, link: &str, confirm_hours: u32) -> (String, String) {
    let hours = &[("hours", confirm_hours.into())];
    (
        lang.text("signup-mail-subject").into_owned(),
        format!(
            "{}\n\n{link}\n\n{}\n",
            lang.text("signup-mail-text"),
            lang.format("signup-mail-ignore", hours),
        ),
    )
}

/// What a notice tells a subscriber about their own settings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Notice {
    /// The key their mail is encrypted to changed; the new one's short
    /// fingerprint (`D47B…1EE0`).
    KeyChanged(String),
    /// The key was removed: their mail goes in clear from now on.
    KeyRemoved,
    /// Their reminders are stopped (preference page or one-click).
    OptedOut,
    /// Everything about them was deleted: the last mail, with no link
    /// that works (the sign-up form's address only).
    Deleted,
}

/// The short notice to `to` that `what` happened to their settings, in
/// `lang`, encrypted to `openpgp` when given (for a key change: the old
/// key, so that whoever changed it cannot read the warning); `signup_url`
/// is the public sign-up form, where the owner gets their link again.
#[allow(clippy::too_many_arguments)]
pub fn notice(
    from: &Mailbox,
    to: &str,
    lang: Lang,
    what: &Notice,
    signup_url: &str,
    domain: &str,
    nonce: &str,
    openpgp: Option<&Cert>,
    now: DateTime<Utc>,
) -> Result<Message, MessageError> {
    let body = notice_text(lang, what, signup_url);
    let subject = lang.text("notice-subject").into_owned();
    transactional(
        from, to, lang, &subject, body, "notice", domain, nonce, openpgp, now,
    )
}

/// The text of a notice.
pub fn notice_text(lang: Lang, what: &Notice, signup_url: &str) -> String {
    let url = &[("url", signup_url.into())];
    let (first, then) = match what {
        Notice::KeyChanged(fingerprint) => (
            lang.format(
                "notice-key-changed",
                &[("fingerprint", fingerprint.clone().into())],
            ),
            lang.format("notice-not-you", url),
        ),
        Notice::KeyRemoved => (
            lang.text("notice-key-removed").into_owned(),
            lang.format("notice-not-you", url),
        ),
        Notice::OptedOut => (
            lang.text("notice-opted-out").into_owned(),
            lang.format("notice-not-you", url),
        ),
        Notice::Deleted => (
            lang.text("notice-deleted").into_owned(),
            lang.format("notice-not-you-deleted", url),
        ),
    };
    format!("{first}\n\n{then}\n")
}

/// The note to `[alerts] staff` that `waiting` confirmed sign-ups wait
/// for approval. No address: staff see them with `mechcal subscribers
/// pending`.
pub fn approval_note(
    from: &Mailbox,
    staff: &[String],
    domain: &str,
    waiting: usize,
    nonce: &str,
    now: DateTime<Utc>,
) -> Result<Message, MessageError> {
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(format!(
            "mechcal ({domain}): {waiting} sign-up{} waiting for approval",
            if waiting == 1 { "" } else { "s" }
        ))
        .message_id(Some(format!("<approval.{nonce}@{domain}>")))
        .date(SystemTime::from(now))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ));
    for s in staff {
        let address = s.parse().map_err(|source| MessageError::Address {
            address: s.clone(),
            source,
        })?;
        builder = builder.to(Mailbox::new(None, address));
    }
    builder
        .header(ContentType::TEXT_PLAIN)
        .body(format!(
            "Confirmed sign-ups for reminders on {domain} wait for approval: {waiting}.\n\n\
             List them with `mechcal subscribers pending` (addresses are masked unless\n\
             you add --show-emails), then `mechcal subscribers approve REF` or\n\
             `mechcal subscribers reject REF`.\n"
        ))
        .map_err(MessageError::Build)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The sign-up mail in every language: a reviewed change when a text
    /// or a translation changes.
    #[test]
    fn sign_up_mails_in_every_language() {
        let mut out = String::new();
        for lang in Lang::all() {
            let (subject, body) = texts(lang, "https://calendar.example.org/x?token=T", 48);
            out.push_str(&format!("== {}\nSubject: {subject}\n{body}\n", lang.code()));
        }
        insta::assert_snapshot!(out);
    }

    /// Every notice in every language.
    #[test]
    fn notices_in_every_language() {
        let mut out = String::new();
        let kinds = [
            Notice::KeyChanged("D47B…1EE0".into()),
            Notice::KeyRemoved,
            Notice::OptedOut,
            Notice::Deleted,
        ];
        for lang in Lang::all() {
            for what in &kinds {
                let text = notice_text(lang, what, "https://calendar.example.org/subscribe");
                out.push_str(&format!(
                    "== {} {what:?}\nSubject: {}\n{text}\n",
                    lang.code(),
                    lang.text("notice-subject")
                ));
            }
        }
        insta::assert_snapshot!(out);
    }

    /// The deletion notice holds no link but the public sign-up form's.
    #[test]
    fn the_deletion_notice_holds_no_personal_link() {
        for lang in Lang::all() {
            let text = notice_text(lang, &Notice::Deleted, "https://c.example.org/subscribe");
            assert!(!text.contains("token"), "{text}");
            assert_eq!(text.matches("https://").count(), 1, "{text}");
        }
    }

    fn from() -> Mailbox {
        "mechcal <reminders@calendar.example.org>".parse().unwrap()
    }

    fn now() -> DateTime<Utc> {
        "2027-01-01T08:00:00Z".parse().unwrap()
    }

    #[test]
    fn a_sign_up_mail_is_transactional_and_to_the_address_only() {
        let m = build(
            &from(),
            "anna@example.org",
            Lang::EN,
            "https://x/",
            48,
            "calendar.example.org",
            "abc",
            None,
            now(),
        )
        .unwrap();
        let text = String::from_utf8(m.formatted()).unwrap();
        assert!(text.contains("To: anna@example.org\r\n"), "{text}");
        assert!(text.contains("Message-ID: <signup.abc@calendar.example.org>"));
        assert!(text.contains("Auto-Submitted: auto-generated"));
        assert!(!text.contains("List-Unsubscribe") && !text.contains("List-Id"));
        // An address that is not one is an error naming it masked.
        let e = build(
            &from(),
            "anna@@example.org",
            Lang::EN,
            "https://x/",
            48,
            "d",
            "n",
            None,
            now(),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("a***@"), "{e}");
    }

    /// A new sign-up's mail and a known subscriber's differ only in their
    /// link's token: same subject, same text, same length.
    #[test]
    fn new_and_known_read_the_same() {
        let base = "https://calendar.example.org/subscribe/confirm?token=";
        let mail = |token: &str| {
            let m = build(
                &from(),
                "anna@example.org",
                Lang::parse("ru").unwrap(),
                &format!("{base}{token}"),
                48,
                "calendar.example.org",
                "0123456789abcdef0123456789abcdef",
                None,
                now(),
            )
            .unwrap();
            String::from_utf8(m.formatted()).unwrap()
        };
        let (confirm, known) = (mail(&"C".repeat(55)), mail(&"K".repeat(55)));
        assert_eq!(confirm.len(), known.len());
        let (confirm_head, confirm_body) = confirm.split_once("\r\n\r\n").unwrap();
        let (known_head, known_body) = known.split_once("\r\n\r\n").unwrap();
        assert_eq!(confirm_head, known_head);
        let text = |body: &str| {
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(body.replace("\r\n", ""))
                .unwrap();
            String::from_utf8(bytes).unwrap()
        };
        assert_eq!(
            text(confirm_body).replace(&"C".repeat(55), &"K".repeat(55)),
            text(known_body)
        );
    }

    /// To a person with a key, the mail is encrypted: outside, a neutral
    /// subject and sender name, and neither the link nor the text.
    #[test]
    fn to_a_key_the_mail_is_encrypted() {
        let cert = Cert::read(
            include_bytes!("../../../tests/fixtures/openpgp/cv25519.asc"),
            now(),
        )
        .unwrap();
        let m = build(
            &from(),
            "anna@example.org",
            Lang::EN,
            "https://calendar.example.org/subscribe/confirm?token=SECRET",
            48,
            "calendar.example.org",
            "abc",
            Some(&cert),
            now(),
        )
        .unwrap();
        let text = String::from_utf8(m.formatted()).unwrap();
        assert!(text.contains("multipart/encrypted"), "{text}");
        assert!(text.contains("Subject: Encrypted message\r\n"), "{text}");
        assert!(
            text.contains("From: Reminder <reminders@calendar.example.org>"),
            "{text}"
        );
        for clear in ["SECRET", "token=", "deadline reminders", "mechcal"] {
            assert!(!text.contains(clear), "{clear} in clear: {text}");
        }
    }
}
