//! The mails about an OpenPGP key that stopped working: a short notice to
//! the subscriber (in clear, so it names nothing they follow: no
//! mechanism, title or topic) and an alert to staff (the address masked).
//! Sent once per subscriber and key. No I/O and no clock.

use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::Message;

use crate::load::subscribers::{self, Subscriber};
use crate::openpgp::KeyProblem;

use super::MessageError;

fn auto_submitted() -> HeaderValue {
    HeaderValue::new(
        HeaderName::new_from_ascii_str("Auto-Submitted"),
        "auto-generated".into(),
    )
}

/// What the notice asks the subscriber to do, and where to send the key:
/// a sign-up pastes it on the preference page; a person of the file sends
/// it to `contact` (`[subscriptions] contact`), or the staff who listed them.
pub fn notice_text(
    s: &Subscriber,
    problem: &KeyProblem,
    contact: Option<&str>,
    manage_url: &str,
) -> (String, String) {
    let lang = s.language;
    // Shortened: the whole one, in mail that travels in clear, would tie
    // the address to the key on a key server at a glance.
    let fingerprint = subscribers::mask_fingerprints(problem.fingerprint().unwrap_or_default());
    let date = match problem {
        KeyProblem::Expired { at, .. } => at.format("%Y-%m-%d").to_string(),
        _ => String::new(),
    };
    let send = match (s.origin, contact) {
        (crate::load::subscribers::Origin::SignUp, _) => lang.text("key-notice-paste").into_owned(),
        (_, Some(c)) => lang.format("key-notice-send-to", &[("contact", c.into())]),
        (_, None) => lang.text("key-notice-send-staff").into_owned(),
    };
    let body = format!(
        "{}\n\n{}\n\n{}\n\n{send}\n\n{}\n{manage_url}\n",
        super::greeting(s, "mail-greeting"),
        lang.format(
            "key-notice-text",
            &[("fingerprint", fingerprint.into()), ("date", date.into()),]
        ),
        lang.text("key-notice-renew"),
        lang.text("mail-manage"),
    );
    (lang.text("key-notice-subject").into_owned(), body)
}

/// The notice to `s` that their reminders are held because of `problem`.
pub fn notice(
    from: &Mailbox,
    s: &Subscriber,
    problem: &KeyProblem,
    contact: Option<&str>,
    manage_url: &str,
    message_id: &str,
    now: DateTime<Utc>,
) -> Result<Message, MessageError> {
    let to = s.email.parse().map_err(|source| MessageError::Address {
        address: subscribers::mask(&s.email),
        source,
    })?;
    let (subject, body) = notice_text(s, problem, contact, manage_url);
    Message::builder()
        .from(Mailbox::new(
            Some(s.language.text("discreet-from").into_owned()),
            from.email.clone(),
        ))
        .to(Mailbox::new(None, to))
        .raw_header(super::subject_header(&subject))
        .message_id(Some(message_id.to_string()))
        .date(SystemTime::from(now))
        .raw_header(auto_submitted())
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(MessageError::Build)
}

/// The alert to `staff` that reminders to `s` are held.
#[allow(clippy::too_many_arguments)]
pub fn alert(
    from: &Mailbox,
    staff: &[String],
    domain: &str,
    s: &Subscriber,
    problem: &KeyProblem,
    held: usize,
    message_id: &str,
    now: DateTime<Utc>,
) -> Result<Message, MessageError> {
    let who = subscribers::mask(&s.email);
    let place = if s.line > 0 {
        format!("the subscribers file, line {}", s.line)
    } else {
        "a self-service sign-up (its preference page)".to_string()
    };
    let body = format!(
        "Reminders to {who} ({place}) are held, not sent: {problem}.\n\
         mechcal never sends them in clear. {held} held now; more will be\n\
         held at each pass until the key is renewed.\n\n\
         The subscriber has been told, without any topic or deadline, and\n\
         asked for a renewed key. To fix it: {}\n\
         then `mechcal check`, and reload. Held reminders that are still due\n\
         go out, encrypted, at the next pass.\n\n\
         `mechcal check` shows the key's full fingerprint for the file's\n\
         line; this mail shows it shortened.\n",
        problem.help(),
    );
    let body = subscribers::mask_fingerprints(&body);
    super::to_staff(
        from,
        staff,
        format!("mechcal ({domain}): reminders held, an OpenPGP key expired"),
        message_id.to_string(),
        now,
        body,
    )
}
