//! The mails of self-service subscriptions: the confirmation a sign-up
//! asks for, the notice an already subscribed address gets instead, and
//! the staff's note that sign-ups wait. Transactional: no List-Id and no
//! List-Unsubscribe (nobody subscribed to them); plain text; in the
//! subscriber's language. No I/O and no clock.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::Message;

use crate::i18n::Lang;

use super::MessageError;

/// Which mail a sign-up sends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// "Confirm your reminders": the link activates the sign-up.
    Confirm,
    /// "Your reminders": the address already gets them; the link opens
    /// the preference page.
    Known,
}

/// The links a sign-up mail carries: the one to follow (confirm, or the
/// preference page), and for a confirmation the preference page too (to
/// change the choice, or delete the request, before confirming).
pub struct Links<'a> {
    pub main: &'a str,
    pub manage: Option<&'a str>,
}

/// The mail of `kind` to `to` with `links`; `nonce` makes its Message-ID
/// (random, so that two mails to one address are not linkable by it).
#[allow(clippy::too_many_arguments)]
pub fn build(
    kind: Kind,
    from: &Mailbox,
    to: &str,
    lang: Lang,
    links: &Links<'_>,
    confirm_hours: u32,
    domain: &str,
    nonce: &str,
    now: DateTime<Utc>,
) -> Result<Message, MessageError> {
    let address = to.parse().map_err(|source| MessageError::Address {
        address: crate::load::subscribers::mask(to),
        source,
    })?;
    let (subject, body) = texts(kind, lang, links, confirm_hours);
    Message::builder()
        .from(from.clone())
        .to(Mailbox::new(None, address))
        .raw_header(super::subject_header(&subject))
        .message_id(Some(format!("<signup.{nonce}@{domain}>")))
        .date(SystemTime::from(now))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ))
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(MessageError::Build)
}

/// The subject and text of a sign-up mail.
pub fn texts(kind: Kind, lang: Lang, links: &Links<'_>, confirm_hours: u32) -> (String, String) {
    let hours = &[("hours", confirm_hours.into())];
    let link = links.main;
    match kind {
        Kind::Confirm => (
            lang.text("confirm-mail-subject").into_owned(),
            format!(
                "{}\n\n{}\n\n{}\n{}",
                lang.format("confirm-mail-text", hours),
                link,
                lang.text("confirm-mail-ignore"),
                links
                    .manage
                    .map(|m| format!("\n{}\n{m}\n", lang.text("confirm-mail-manage")))
                    .unwrap_or_default()
            ),
        ),
        Kind::Known => (
            lang.text("known-mail-subject").into_owned(),
            format!(
                "{}\n\n{}\n\n{}\n",
                lang.text("known-mail-text"),
                link,
                lang.text("known-mail-ignore")
            ),
        ),
    }
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

    /// Both sign-up mails in every language: a reviewed change when a
    /// text or a translation changes.
    #[test]
    fn sign_up_mails_in_every_language() {
        let mut out = String::new();
        for lang in Lang::all() {
            for kind in [Kind::Confirm, Kind::Known] {
                let links = Links {
                    main: "https://calendar.example.org/x?token=T",
                    manage: (kind == Kind::Confirm)
                        .then_some("https://calendar.example.org/manage?token=M"),
                };
                let (subject, body) = texts(kind, lang, &links, 48);
                out.push_str(&format!(
                    "== {} {kind:?}\nSubject: {subject}\n{body}\n",
                    lang.code()
                ));
            }
        }
        insta::assert_snapshot!(out);
    }

    #[test]
    fn a_sign_up_mail_is_transactional_and_to_the_address_only() {
        let from: Mailbox = "mechcal <reminders@calendar.example.org>".parse().unwrap();
        let now = "2027-01-01T08:00:00Z".parse().unwrap();
        let m = build(
            Kind::Confirm,
            &from,
            "anna@example.org",
            Lang::EN,
            &Links {
                main: "https://x/",
                manage: None,
            },
            48,
            "calendar.example.org",
            "abc",
            now,
        )
        .unwrap();
        let text = String::from_utf8(m.formatted()).unwrap();
        assert!(text.contains("To: anna@example.org\r\n"), "{text}");
        assert!(text.contains("Message-ID: <signup.abc@calendar.example.org>"));
        assert!(text.contains("Auto-Submitted: auto-generated"));
        assert!(!text.contains("List-Unsubscribe") && !text.contains("List-Id"));
        // An address that is not one is an error naming it masked.
        let e = build(
            Kind::Confirm,
            &from,
            "anna@@example.org",
            Lang::EN,
            &Links {
                main: "https://x/",
                manage: None,
            },
            48,
            "d",
            "n",
            now,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("a***@"), "{e}");
    }
}
