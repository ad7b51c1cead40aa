//! Reminder planning: catalog, subscribers, ledger snapshot and `now` in,
//! messages to send (and reminders to record as skipped) out. Pure: no
//! clock, no I/O, so every rule is a table test.
//!
//! The rules (README "Reminders" states them for users):
//! - The offsets for (subscriber S, deadline D) are D's `remind_days` when
//!   its file sets them, otherwise S's.
//! - A reminder (S, D, k days) is due from the start of the calendar day
//!   `due_date(D) − k` in D's zone, and is sent by the first run at or
//!   after that instant while D is still ahead and not cancelled.
//! - When several offsets of one (S, D) are due in one run (after downtime,
//!   for a new subscriber or deadline) only the smallest is sent, the others
//!   are recorded as skipped; an offset larger than one already sent is
//!   skipped too (it would arrive after a later reminder).
//! - Reminders are keyed by D's due instant: when it moves, they re-arm for
//!   the new date, and a subscriber who was reminded of the old date gets a
//!   "moved" notice (which stands for any reminder due in that run). When D
//!   is cancelled, a subscriber who was reminded of it gets a "cancelled"
//!   notice. Nobody gets notices of deadlines they were never reminded of.
//! - Tentative deadlines are reminded like others (messages mark them).
//! - One message per subscriber per run listing all its items, soonest
//!   deadline first (digest), or one per deadline when `digest = false`.
//! - Subscribers who opted out get nothing.

use std::collections::{HashMap, HashSet};
use std::fmt;

use chrono::{DateTime, Duration, Utc};

use crate::load::subscribers::Subscriber;
use crate::load::zone;
use crate::model::catalog::Catalog;
use crate::model::deadline::{Deadline, Status};

/// What a ledger row is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    /// A reminder `k` days before.
    Remind(u16),
    /// The due instant changed after the subscriber was reminded.
    Moved,
    /// The deadline was cancelled after the subscriber was reminded.
    Cancelled,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kind::Remind(k) => write!(f, "remind:{k}"),
            Kind::Moved => f.write_str("moved"),
            Kind::Cancelled => f.write_str("cancelled"),
        }
    }
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        match s {
            "moved" => Some(Kind::Moved),
            "cancelled" => Some(Kind::Cancelled),
            _ => s.strip_prefix("remind:")?.parse().ok().map(Kind::Remind),
        }
    }
}

/// The identity of one ledger row: unique, and stable across runs.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key {
    /// The subscriber's key ([`Subscriber::key`]: a keyed hash of the
    /// address).
    pub subscriber: String,
    pub deadline: String,
    /// The deadline's due instant when the row was made.
    pub due_at: DateTime<Utc>,
    pub kind: Kind,
}

/// Where a ledger row stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Handed to the mail transport; not yet confirmed (a crashed run leaves
    /// rows here, and they are sent again with the same Message-ID).
    Sending,
    Sent,
    /// Not sent on purpose (a smaller offset was due in the same run).
    Skipped,
    /// Refused for good (5xx after the allowed attempts).
    Failed,
    /// Not sent: the subscriber's OpenPGP key cannot be used (expired), and
    /// mail to them never goes in clear. Not final: planned again at every
    /// pass, and sent (by the usual rules) once the key is renewed.
    Held,
}

impl Delivery {
    /// Whether the row needs no more work.
    pub fn is_final(self) -> bool {
        matches!(self, Delivery::Sent | Delivery::Skipped | Delivery::Failed)
    }
}

/// The ledger as the planner sees it.
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    pub rows: HashMap<Key, Delivery>,
}

/// One line of a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    pub key: Key,
    /// Calendar days left at `now`, in the deadline's zone.
    pub days_left: i64,
    /// For `Moved`: the due instant the subscriber was reminded of.
    pub moved_from: Option<DateTime<Utc>>,
}

/// One message to one subscriber.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Index into the subscribers slice.
    pub subscriber: usize,
    /// Soonest deadline first.
    pub items: Vec<Item>,
}

/// What a run does.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Plan {
    pub messages: Vec<Message>,
    /// Reminders to record as skipped without sending.
    pub skipped: Vec<Key>,
}

/// The instant from which the reminder `k` days before `d` is due: the start
/// of the calendar day `due_date − k` in the deadline's zone.
pub fn due_from(d: &Deadline, k: u16) -> DateTime<Utc> {
    let day = d.due_date() - Duration::days(i64::from(k));
    zone::start_of_day(d.timezone, day)
}

/// Plans one run. `opted_out` holds lower-case addresses.
///
/// Deadlines are the outer loop: a deadline with no offset due now and no
/// ledger row is skipped for all subscribers at once, which keeps a run over
/// thousands of subscribers cheap.
// Over 100 lines: the planner's rules in the order README states them ("When reminders are due"), one after another.
pub fn plan(
    catalog: &Catalog,
    subscribers: &[Subscriber],
    ledger: &Ledger,
    opted_out: &HashSet<String>,
    now: DateTime<Utc>,
) -> Plan {
    // The ledger's rows by (address, deadline).
    let mut by_pair: HashMap<(&str, &str), Vec<(&Key, Delivery)>> = HashMap::new();
    for (k, s) in &ledger.rows {
        by_pair
            .entry((k.subscriber.as_str(), k.deadline.as_str()))
            .or_default()
            .push((k, *s));
    }
    let in_ledger: HashSet<&str> = ledger.rows.keys().map(|k| k.deadline.as_str()).collect();
    let active: Vec<(usize, &Subscriber, String)> = subscribers
        .iter()
        .enumerate()
        .map(|(i, s)| (i, s, s.key.clone()))
        .filter(|(_, _, email)| !opted_out.contains(email))
        .collect();
    let mut offsets: Vec<u16> = subscribers
        .iter()
        .flat_map(|s| s.remind_days.iter().copied())
        .collect();
    offsets.sort_unstable();
    offsets.dedup();

    let names = Names::of(catalog);
    let filters: Vec<Option<Bits>> = active
        .iter()
        .map(|(_, s, _)| names.filter(&s.filter.topics, &s.filter.mechanisms))
        .collect();

    let mut items: Vec<Vec<(DateTime<Utc>, Item)>> = vec![Vec::new(); subscribers.len()];
    let mut skipped = Vec::new();
    // Sessions and other items for information (`remind = false`) and open
    // calls (which have no date) are never reminded of.
    for d in catalog
        .deadlines()
        .iter()
        .filter(|d| d.remind && d.is_ahead(now))
    {
        let own = d.remind_days.as_deref();
        let mut due_now = [false; 366];
        for &k in own.unwrap_or(&offsets) {
            due_now[usize::from(k)] = due_from(d, k) <= now;
        }
        let has_rows = in_ledger.contains(d.id.as_str());
        if !due_now.contains(&true) && !has_rows {
            continue;
        }
        let bits = names.deadline(d);
        for ((index, s, email), filter) in active.iter().zip(&filters) {
            let matches = match (filter, &bits) {
                (Some(f), Some(b)) => f.matches(b),
                _ => s.filter.matches(d),
            };
            if !matches {
                continue;
            }
            // (One hash lookup per deadline rather than per pair when the
            // ledger knows nothing of it, as for most of a catch-up.)
            let rows: &[(&Key, Delivery)] = if has_rows {
                by_pair
                    .get(&(email.as_str(), d.id.as_str()))
                    .map_or(&[], Vec::as_slice)
            } else {
                &[]
            };
            let final_here = |kind: Kind| {
                rows.iter()
                    .any(|(k, st)| k.due_at == d.due_at && k.kind == kind && st.is_final())
            };
            let sent = || {
                rows.iter().filter_map(|(k, st)| match (k.kind, st) {
                    (Kind::Remind(days), Delivery::Sent) => Some((k.due_at, days)),
                    _ => None,
                })
            };
            let key = |kind| Key {
                subscriber: email.clone(),
                deadline: d.id.clone(),
                due_at: d.due_at,
                kind,
            };
            let item = |kind, moved_from| Item {
                key: key(kind),
                days_left: d.days_left(now),
                moved_from,
            };
            if d.status == Status::Cancelled {
                if sent().next().is_some() && !final_here(Kind::Cancelled) {
                    items[*index].push((d.due_at, item(Kind::Cancelled, None)));
                }
                continue;
            }
            // The offsets due now and not yet final (no allocation: this
            // runs for every subscriber a due deadline concerns).
            let due = || {
                own.unwrap_or(&s.remind_days)
                    .iter()
                    .copied()
                    .filter(|&k| due_now[usize::from(k)] && !final_here(Kind::Remind(k)))
            };
            // Reminded of another due instant, and not yet of this one.
            let moved_from = sent()
                .filter(|(at, _)| *at != d.due_at)
                .map(|(at, _)| at)
                .max()
                .filter(|_| !sent().any(|(at, _)| at == d.due_at));
            if let Some(from) = moved_from.filter(|_| !final_here(Kind::Moved)) {
                items[*index].push((d.due_at, item(Kind::Moved, Some(from))));
                // The notice gives the new date: reminders due now would repeat it.
                skipped.extend(due().map(|k| key(Kind::Remind(k))));
                continue;
            }
            let smallest_sent = sent()
                .filter(|(at, _)| *at == d.due_at)
                .map(|(_, k)| k)
                .min();
            let send = due().min().filter(|&k| smallest_sent.is_none_or(|s| k < s));
            for k in due() {
                if Some(k) != send {
                    skipped.push(key(Kind::Remind(k)));
                }
            }
            if let Some(k) = send {
                items[*index].push((d.due_at, item(Kind::Remind(k), None)));
            }
        }
    }

    let mut messages = Vec::new();
    for (index, mut list) in items.into_iter().enumerate() {
        if list.is_empty() {
            continue;
        }
        list.sort_by(|a, b| (a.0, &a.1.key).cmp(&(b.0, &b.1.key)));
        let list: Vec<Item> = list.into_iter().map(|(_, i)| i).collect();
        if subscribers[index].digest {
            messages.push(Message {
                subscriber: index,
                items: list,
            });
        } else {
            messages.extend(list.into_iter().map(|i| Message {
                subscriber: index,
                items: vec![i],
            }));
        }
    }
    // Keys are unique: an unstable sort gives the one order, faster.
    skipped.sort_unstable();
    Plan { messages, skipped }
}

/// A filter, or a deadline's topics and mechanism, as bit sets over the
/// registry's slugs: matching 10,000 subscribers against each due deadline
/// is then two ANDs, not string comparisons.
#[derive(Clone, Copy)]
struct Bits {
    topics: u128,
    mechanisms: u128,
}

impl Bits {
    /// The filter's rule ([`Filter::matches`]): any of its topics (all, if
    /// none) and any of its mechanisms (likewise).
    fn matches(&self, deadline: &Bits) -> bool {
        self.topics & deadline.topics != 0 && self.mechanisms & deadline.mechanisms != 0
    }
}

/// The registry's slugs by bit; `None` from its methods where a name is not
/// there or the registry has more than 128 of a kind (then names are
/// compared as before).
struct Names<'a> {
    topics: HashMap<&'a str, u32>,
    mechanisms: HashMap<&'a str, u32>,
}

impl<'a> Names<'a> {
    fn of(catalog: &'a Catalog) -> Names<'a> {
        let index = |slugs: Vec<&'a str>| {
            if slugs.len() > 128 {
                return HashMap::new();
            }
            slugs.into_iter().zip(0..).collect()
        };
        let reg = catalog.registry();
        Names {
            topics: index(reg.topic_slugs().collect()),
            mechanisms: index(reg.mechanism_slugs().collect()),
        }
    }

    fn set(index: &HashMap<&str, u32>, names: &[String], empty_is_all: bool) -> Option<u128> {
        if names.is_empty() && empty_is_all {
            return Some(u128::MAX);
        }
        names.iter().try_fold(0u128, |set, n| {
            index.get(n.as_str()).map(|&i| set | 1u128 << i)
        })
    }

    fn filter(&self, topics: &[String], mechanisms: &[String]) -> Option<Bits> {
        Some(Bits {
            topics: Self::set(&self.topics, topics, true)?,
            mechanisms: Self::set(&self.mechanisms, mechanisms, true)?,
        })
    }

    fn deadline(&self, d: &Deadline) -> Option<Bits> {
        Some(Bits {
            topics: Self::set(&self.topics, &d.topics, false)?,
            mechanisms: Self::set(&self.mechanisms, std::slice::from_ref(&d.mechanism), false)?,
        })
    }
}

#[cfg(test)]
mod tests;
