//! Short notices to subscribers about their own settings — a key
//! changed or removed, reminders stopped, everything deleted — sent after
//! the answer, encrypted where the person had a key (for a key change,
//! to the key they had before: whoever changed it cannot read the
//! warning). Logs say a notice went, never to whom.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::i18n::Lang;
use crate::openpgp::Cert;
use crate::reminders::message::signup::{self as mail, Notice};
use crate::reminders::transport::Transport as _;

use super::reminders::Person;
use super::App;

/// Tells `person` what happened, in their language, after the answer.
/// `openpgp` is the key to encrypt to (`None`: in clear).
pub(super) fn tell(
    app: &Arc<App>,
    person: &Person,
    lang: Lang,
    what: Notice,
    openpgp: Option<Arc<Cert>>,
    now: DateTime<Utc>,
) {
    let email = person.email().to_string();
    let app = app.clone();
    tokio::spawn(async move {
        let Some(r) = &app.reminders else { return };
        let config = app.snapshot().config.clone();
        let sent = async {
            let from = config
                .mail
                .from
                .parse()
                .map_err(|e: lettre::address::AddressError| e.to_string())?;
            let nonce = super::signup::random_hex();
            let signup_url = format!("{}subscribe", config.calendar.base_url);
            let message = mail::notice(
                &from,
                &email,
                lang,
                &what,
                &signup_url,
                &config.calendar.domain,
                &nonce,
                openpgp.as_deref(),
                now,
            )
            .map_err(|e| e.to_string())?;
            let mailer = r.mailer(&config.mail).map_err(|e| e.to_string())?;
            let id = format!("<notice.{nonce}@{}>", config.calendar.domain);
            mailer.send(&id, &message).await.map_err(|e| e.to_string())
        }
        .await;
        match sent {
            Ok(()) => tracing::info!("settings notice sent"),
            Err(e) => tracing::warn!("settings notice not sent: {e}"),
        }
    });
}

/// `D47B…1EE0`: how pages and notices show a fingerprint.
pub(super) fn short(cert: &Cert) -> String {
    crate::load::subscribers::mask_fingerprints(&cert.fingerprint)
}
