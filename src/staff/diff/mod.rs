//! `mechcal diff`: what a change to the deadline repository does for
//! subscribers, item by item (an entry, each milestone, each year of a
//! yearly date): added, removed, moved, extended, cancelled, reinstated,
//! milestones added or removed, fields changed; which of these send a
//! notice to people already reminded; which feeds change. Pure: two
//! catalogs and `now` in. It knows nothing of subscribers and says nothing
//! of them (it runs in the data repository's public CI).
//!
//! The notices follow the reminder planner's rules
//! (`reminders::plan`): a subscriber reminded of an item's earlier due
//! instant gets a "moved" notice at the next pass, while the item is
//! ahead, reminded of (`remind`) and not cancelled; one reminded of an
//! item that is then cancelled gets a "cancelled" notice, while it is
//! ahead. A test runs the planner on both sides to hold the two together.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::catalog::Catalog;
use crate::model::deadline::{Deadline, Due, Status};

/// What happened to one item.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum What {
    Added,
    Removed,
    MilestoneAdded,
    MilestoneRemoved,
    /// Its due instant changed (earlier, or later without `extended_from`).
    Moved {
        from: String,
        to: String,
    },
    /// Later, and `extended_from` says so.
    Extended {
        from: String,
        to: String,
    },
    Cancelled,
    Reinstated,
    /// Other fields: their names, and for short ones the old and new value.
    Changed {
        fields: Vec<FieldChange>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldChange {
    pub field: &'static str,
    /// Shown for one-line values; `None` for long text.
    pub from: Option<String>,
    pub to: Option<String>,
}

/// The notice subscribers already reminded of an item get.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Notice {
    Moved,
    Cancelled,
}

/// One item's changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The item's id (`upr-blr-5.submission`, `crc-report.2027`).
    pub id: String,
    pub title: String,
    pub mechanism: String,
    pub what: Vec<What>,
    pub notice: Option<Notice>,
}

/// Everything [`diff`] found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub changes: Vec<Change>,
    /// The feeds whose content changes: `calendar.ics`,
    /// `mechanisms/<slug>.ics`, `topics/<slug>.ics`.
    pub feeds: Vec<String>,
}

/// Compares the items of `from` and `to` as of `now`.
pub fn diff(from: &Catalog, to: &Catalog, now: DateTime<Utc>) -> Report {
    let old: BTreeMap<&str, &Deadline> = from
        .deadlines()
        .iter()
        .map(|d| (d.id.as_str(), d))
        .collect();
    let new: BTreeMap<&str, &Deadline> =
        to.deadlines().iter().map(|d| (d.id.as_str(), d)).collect();
    let old_entries: BTreeSet<&str> = old.values().map(|d| d.entry.as_str()).collect();
    let new_entries: BTreeSet<&str> = new.values().map(|d| d.entry.as_str()).collect();
    let ids: BTreeSet<&str> = old.keys().chain(new.keys()).copied().collect();
    let mut report = Report::default();
    let mut feeds: BTreeSet<String> = BTreeSet::new();
    for id in ids {
        let (what, shown, notice) = match (old.get(id), new.get(id)) {
            (None, Some(n)) => {
                let what = if n.milestone.is_some() && old_entries.contains(n.entry.as_str()) {
                    What::MilestoneAdded
                } else {
                    What::Added
                };
                (vec![what], *n, None)
            }
            (Some(o), None) => {
                let what = if o.milestone.is_some() && new_entries.contains(o.entry.as_str()) {
                    What::MilestoneRemoved
                } else {
                    What::Removed
                };
                (vec![what], *o, None)
            }
            (Some(o), Some(n)) if o.fingerprint != n.fingerprint || o.due_at != n.due_at => {
                let (what, notice) = compare(o, n, now);
                if what.is_empty() {
                    continue;
                }
                (what, *n, notice)
            }
            _ => continue,
        };
        for d in [old.get(id), new.get(id)].into_iter().flatten() {
            feeds.insert("calendar.ics".into());
            feeds.insert(format!("mechanisms/{}.ics", d.mechanism));
            for t in &d.topics {
                feeds.insert(format!("topics/{t}.ics"));
            }
        }
        report.changes.push(Change {
            id: id.to_string(),
            title: shown.title.clone(),
            mechanism: shown.mechanism.clone(),
            what,
            notice,
        });
    }
    report.feeds = feeds.into_iter().collect();
    report
}

/// The changes between two versions of one item, and the notice they send.
fn compare(o: &Deadline, n: &Deadline, now: DateTime<Utc>) -> (Vec<What>, Option<Notice>) {
    let mut what = Vec::new();
    let mut notice = None;
    let reminded = n.remind && n.is_ahead(now);
    match (o.status == Status::Cancelled, n.status == Status::Cancelled) {
        (false, true) => {
            what.push(What::Cancelled);
            if reminded {
                notice = Some(Notice::Cancelled);
            }
        }
        (true, false) => what.push(What::Reinstated),
        _ => {}
    }
    if o.due_at != n.due_at {
        let (from, to) = (shown(o), shown(n));
        let extended =
            n.due_at > o.due_at && n.extended_from.as_ref().is_some_and(|e| e.at == o.due_at);
        what.push(if extended {
            What::Extended { from, to }
        } else {
            What::Moved { from, to }
        });
        if reminded && n.status != Status::Cancelled && o.due != Due::Open {
            notice = Some(Notice::Moved);
        }
    }
    let mut fields = Vec::new();
    let mut field = |name: &'static str, a: Option<String>, b: Option<String>, short: bool| {
        if a != b {
            fields.push(FieldChange {
                field: name,
                from: if short { a } else { None },
                to: if short { b } else { None },
            });
        }
    };
    field("title", Some(o.title.clone()), Some(n.title.clone()), true);
    field(
        "mechanism",
        Some(o.mechanism.clone()),
        Some(n.mechanism.clone()),
        true,
    );
    let topics = |d: &Deadline| {
        let set: BTreeSet<&String> = d.topics.iter().collect();
        Some(set.into_iter().cloned().collect::<Vec<_>>().join(", "))
    };
    field("topics", topics(o), topics(n), true);
    if o.due_at == n.due_at {
        // The same instant shown in another zone, or written another way.
        field(
            "timezone",
            Some(o.timezone.name().to_string()),
            Some(n.timezone.name().to_string()),
            true,
        );
    }
    if (o.status == Status::Cancelled) == (n.status == Status::Cancelled) {
        field(
            "status",
            Some(o.status.as_str().into()),
            Some(n.status.as_str().into()),
            true,
        );
    }
    field("country", o.country.clone(), n.country.clone(), true);
    field("body", o.body.clone(), n.body.clone(), true);
    field("url", o.url.clone(), n.url.clone(), true);
    field(
        "submit_to",
        o.submit_to.as_ref().map(|s| s.to_string()),
        n.submit_to.as_ref().map(|s| s.to_string()),
        true,
    );
    field(
        "description",
        o.description.clone(),
        n.description.clone(),
        false,
    );
    let opens = |d: &Deadline| d.opens.as_ref().map(|w| w.written.written());
    field("opens", opens(o), opens(n), true);
    let days = |d: &Deadline| d.remind_days.as_ref().map(|v| format!("{v:?}"));
    field("remind_days", days(o), days(n), true);
    field(
        "remind",
        Some(o.remind.to_string()),
        Some(n.remind.to_string()),
        true,
    );
    let label = |d: &Deadline| d.milestone.as_ref().and_then(|m| m.label.clone());
    field("label", label(o), label(n), true);
    let (a, b) = (&o.requirements, &n.requirements);
    let number = |v: Option<u32>| v.map(|n| n.to_string());
    field(
        "word_limit",
        number(a.word_limit),
        number(b.word_limit),
        true,
    );
    field(
        "page_limit",
        number(a.page_limit),
        number(b.page_limit),
        true,
    );
    let list = |v: &[String]| (!v.is_empty()).then(|| v.join(", "));
    field("languages", list(&a.languages), list(&b.languages), true);
    let via = |r: &crate::model::requirements::Requirements| {
        (!r.submit_via.is_empty()).then(|| {
            r.submit_via
                .iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        })
    };
    field("submit_via", via(a), via(b), true);
    field(
        "subject_line",
        a.subject_line.clone(),
        b.subject_line.clone(),
        true,
    );
    field(
        "public",
        a.public.map(|p| p.as_str().to_string()),
        b.public.map(|p| p.as_str().to_string()),
        true,
    );
    field(
        "verified",
        a.verified.map(|d| d.to_string()),
        b.verified.map(|d| d.to_string()),
        true,
    );
    field("source", a.source.clone(), b.source.clone(), true);
    const LISTED: [&str; 8] = [
        "word_limit",
        "page_limit",
        "languages",
        "submit_via",
        "subject_line",
        "public",
        "verified",
        "source",
    ];
    if a != b && !fields.iter().any(|f| LISTED.contains(&f.field)) {
        // A requirement not listed above.
        fields.push(FieldChange {
            field: "requirements",
            from: None,
            to: None,
        });
    }
    if !fields.is_empty() {
        what.push(What::Changed { fields });
    }
    (what, notice)
}

/// An item's due, as people read it, in its own zone: `31 March 2027`
/// (all day), `31 March 2027 12:00 CEST`, `open`.
pub fn shown(d: &Deadline) -> String {
    match d.due {
        Due::Date(date) => date.format("%-d %B %Y").to_string(),
        Due::Open => "open".into(),
        _ => d
            .due_at
            .with_timezone(&d.timezone)
            .format("%-d %B %Y %H:%M %Z")
            .to_string(),
    }
}

impl What {
    /// One line for people.
    pub fn describe(&self) -> String {
        match self {
            What::Added => "added".into(),
            What::Removed => "removed".into(),
            What::MilestoneAdded => "milestone added".into(),
            What::MilestoneRemoved => "milestone removed".into(),
            What::Moved { from, to } => format!("moved from {from} to {to}"),
            What::Extended { from, to } => format!("extended from {from} to {to}"),
            What::Cancelled => "cancelled".into(),
            What::Reinstated => "reinstated (no longer cancelled)".into(),
            What::Changed { fields } => {
                let parts: Vec<String> = fields
                    .iter()
                    .map(|f| match (&f.from, &f.to) {
                        (None, None) => format!("{} changed", f.field),
                        (from, to) => format!(
                            "{}: {} → {}",
                            f.field,
                            from.as_deref().unwrap_or("(none)"),
                            to.as_deref().unwrap_or("(none)")
                        ),
                    })
                    .collect();
                parts.join("; ")
            }
        }
    }
}

impl Notice {
    pub fn describe(self) -> &'static str {
        match self {
            Notice::Moved => "sends a “moved” notice to those already reminded of the old date",
            Notice::Cancelled => "sends a “cancelled” notice to those already reminded",
        }
    }
}

impl Report {
    /// Plain text, one item per line and its notice under it.
    pub fn human(&self) -> String {
        if self.changes.is_empty() {
            return "no change to any deadline\n".into();
        }
        let mut out = String::new();
        for c in &self.changes {
            let what: Vec<String> = c.what.iter().map(What::describe).collect();
            out.push_str(&format!("{} ({}): {}\n", c.id, c.title, what.join("; ")));
            if let Some(n) = c.notice {
                out.push_str(&format!("  {}\n", n.describe()));
            }
        }
        out.push_str(&format!(
            "{} changed; feeds that change: {}\n",
            crate::load::count(self.changes.len(), "item"),
            self.feeds.join(", ")
        ));
        out
    }

    /// Markdown for a pull-request comment.
    pub fn markdown(&self) -> String {
        let mut out = String::from("### What this change does for subscribers\n\n");
        if self.changes.is_empty() {
            out.push_str("No deadline changes.\n");
            return out;
        }
        out.push_str("| deadline | mechanism | change | notice to those already reminded |\n|---|---|---|---|\n");
        for c in &self.changes {
            let what: Vec<String> = c.what.iter().map(What::describe).collect();
            let notice = match c.notice {
                Some(Notice::Moved) => "“moved”",
                Some(Notice::Cancelled) => "“cancelled”",
                None => "—",
            };
            out.push_str(&format!(
                "| `{}` {} | {} | {} | {} |\n",
                c.id,
                cell(&c.title),
                cell(&c.mechanism),
                cell(&what.join("; ")),
                notice
            ));
        }
        out.push_str(&format!(
            "\nFeeds that change: {}.\n",
            self.feeds
                .iter()
                .map(|f| format!("`{f}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
        out
    }
}

/// Text safe in a Markdown table cell: no `|`, no line breaks, no markup
/// that would run into the next cell or ping people.
fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            '`' | '*' | '_' | '[' | ']' | '<' | '>' | '@' | '#' | '~' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests;
