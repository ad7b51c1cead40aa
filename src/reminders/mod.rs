//! E-mail reminders. `plan` decides, as a pure function of the catalog, the
//! subscribers, the ledger and `now`, what each subscriber is to be sent.
//! Delivery and the ledger's storage build on it.

pub mod message;
pub mod pass;
pub mod plan;
pub mod tokens;
pub mod transport;

pub use pass::{Outcome, Runner};
pub use transport::{SendError, SetupError};

use std::fmt::Write as _;

use crate::load::subscribers::{self, Subscriber};
use crate::model::catalog::Catalog;
use crate::render::feed;

use self::plan::{Kind, Plan};

/// A plan in words, for `mechcal remind --dry-run`: each message with its
/// recipient (masked unless `show_emails`) and items, dates in the
/// recipient's zone and language.
pub fn describe(plan: &Plan, catalog: &Catalog, subs: &[Subscriber], show_emails: bool) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}, {} skipped {}",
        plan.messages.len(),
        if plan.messages.len() == 1 {
            "message"
        } else {
            "messages"
        },
        plan.skipped.len(),
        if plan.skipped.len() == 1 {
            "reminder"
        } else {
            "reminders"
        },
    );
    for m in &plan.messages {
        let s = &subs[m.subscriber];
        let to = if show_emails {
            s.email.clone()
        } else {
            subscribers::mask(&s.email)
        };
        let _ = writeln!(
            out,
            "to {to} ({}, {}):",
            s.language.code(),
            s.timezone.name()
        );
        for item in &m.items {
            let Some(d) = catalog.get(&item.key.deadline) else {
                continue;
            };
            let what = match item.key.kind {
                Kind::Remind(k) => format!("reminder {k}d"),
                Kind::Moved => "moved".into(),
                Kind::Cancelled => "cancelled".into(),
            };
            let due = feed::due_short(d, s.timezone, s.language);
            let _ = writeln!(
                out,
                "  {what}: {} — due {due} ({})",
                feed::summary(catalog, d, s.language),
                s.language.days_left(item.days_left)
            );
        }
    }
    out
}
