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

/// The mail of `kind` to `to` with `link`; `nonce` makes its Message-ID
/// (random, so that two mails to one address are not linkable by it).
#[allow(clippy::too_many_arguments)]
pub fn build(
    kind: Kind,
    from: &Mailbox,
    to: &str,
    lang: Lang,
    link: &str,
    confirm_hours: u32,
    domain: &str,
    nonce: &str,
    now: DateTime<Utc>,
) -> Result<Message, MessageError> {
    let address = to.parse().map_err(|source| MessageError::Address {
        address: crate::load::subscribers::mask(to),
        source,
    })?;
    let hours = &[("hours", confirm_hours.into())];
    let (subject, body) = match kind {
        Kind::Confirm => (
            lang.text("confirm-mail-subject").into_owned(),
            format!(
                "{}\n\n{}\n\n{}\n",
                lang.format("confirm-mail-text", hours),
                link,
                lang.text("confirm-mail-ignore")
            ),
        ),
        Kind::Known => (
            lang.text("known-mail-subject").into_owned(),
            format!(
                "{}\n\n{}\n\n{}\n",
                lang.text("known-mail-text"),
                link,
                lang.text("confirm-mail-ignore")
            ),
        ),
    };
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
