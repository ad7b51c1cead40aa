//! The mail to `[alerts] staff` about watched pages: what is wrong with
//! which link, for which entries, with the changed lines of a changed
//! page. One message for all the problems not mailed yet.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use lettre::message::Mailbox;
use lettre::Message;
use sha2::{Digest, Sha256};

use super::{to_staff, MessageError};
use crate::state::WatchAlert;

/// The message; its Message-ID is derived from the problems it carries, so
/// a retry after a failed send is recognisably the same mail.
pub fn watch_alert(
    from: &Mailbox,
    staff: &[String],
    domain: &str,
    alerts: &[WatchAlert],
    now: DateTime<Utc>,
) -> Result<Message, MessageError> {
    let mut hash = Sha256::new();
    for a in alerts {
        hash.update(a.url.as_bytes());
        hash.update(b"\n");
        hash.update(a.key.as_bytes());
        hash.update(b"\n");
    }
    let hex = crate::reminders::tokens::hex(&hash.finalize()[..12]);
    let kinds: Vec<&str> = {
        let mut k: Vec<&str> = alerts
            .iter()
            .map(|a| a.key.split(':').next().unwrap_or(""))
            .collect();
        k.sort_unstable();
        k.dedup();
        k
    };
    let subject = format!(
        "mechcal ({domain}): {} to look at ({})",
        if alerts.len() == 1 {
            "1 deadline link".to_string()
        } else {
            format!("{} deadline links", alerts.len())
        },
        kinds.join(", ")
    );
    let time = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let mut body = format!(
        "mechcal on {domain} checked the pages the deadlines link to ({}).\n\
         What is served is unchanged; these links need a look before they\n\
         mislead anyone:\n",
        time(now)
    );
    for a in alerts {
        let kind = a.key.split(':').next().unwrap_or("");
        let _ = write!(
            body,
            "\n== {kind}: {}\n   entries: {}\n   seen {}\n\n{}\n",
            a.url,
            a.entries,
            time(a.seen_at),
            a.message
        );
        if let Some(excerpt) = &a.excerpt {
            body.push_str("\nChanged lines (dates marked **like this**):\n");
            for line in excerpt.lines() {
                let _ = writeln!(body, "    {line}");
            }
        }
    }
    body.push_str(
        "\n`mechcal watch` shows every link as it stands now. Each problem is\n\
         mailed once; a changed page stays listed there until the entry's\n\
         `verified` date is on or after the change.\n",
    );
    to_staff(
        from,
        staff,
        subject,
        format!("<watch-{hex}@{domain}>"),
        now,
        body,
    )
}
