//! Reminder planning: catalog, subscribers, ledger snapshot and `now` in,
//! messages to send (and reminders to record as skipped) out. Pure: no
//! clock, no I/O, so every rule is a table test.
//!
//! The rules (the book's "The subscribers file and reminder passes", docs/src/operators/subscribers.md, states them for users):
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
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use crate::load::subscribers::Subscriber;
use crate::load::zone;
use crate::model::catalog::Catalog;
use crate::model::deadline::{Deadline, Status};

pub use crate::state::records::{Delivery, Key, Kind, Ledger};

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
    /// Reminders to record as skipped without sending, by subscriber, then
    /// deadline (soonest first).
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
/// The whole plan at once ([`Planner`] gives it subscriber by subscriber,
/// as a pass sends it).
pub fn plan(
    catalog: &Catalog,
    subscribers: &[Subscriber],
    ledger: &Ledger,
    opted_out: &HashSet<String>,
    now: DateTime<Utc>,
) -> Plan {
    let mut plan = Plan::default();
    for part in Planner::new(catalog, subscribers, ledger, opted_out, now) {
        plan.messages.extend(part.messages);
        plan.skipped.extend(part.skipped);
    }
    plan
}

/// One run's plan, one subscriber's part at a time: each part holds that
/// subscriber's messages and skips, in subscriber order, and subscribers
/// with nothing to send or skip are passed over. A pass sends each part
/// as it comes, so a catch-up over thousands of subscribers and deadlines
/// (over a million items) never has to be held in memory at once.
///
/// The deadlines that may concern anyone now (an offset due, or a ledger
/// row) are found once, soonest first; each subscriber then walks only
/// those, and every message comes out in order without sorting.
pub struct Planner<'a> {
    subscribers: std::iter::Enumerate<std::slice::Iter<'a, Subscriber>>,
    opted_out: &'a HashSet<String>,
    /// The ledger's rows by (address, deadline).
    by_pair: HashMap<(&'a str, &'a str), Vec<(&'a Key, Delivery)>>,
    names: Names<'a>,
    candidates: Vec<Candidate<'a>>,
    /// One buffer for every subscriber's items, each message then
    /// allocated at its size.
    items: Vec<Item>,
}

impl<'a> Planner<'a> {
    pub fn new(
        catalog: &'a Catalog,
        subscribers: &'a [Subscriber],
        ledger: &'a Ledger,
        opted_out: &'a HashSet<String>,
        now: DateTime<Utc>,
    ) -> Planner<'a> {
        let mut by_pair: HashMap<(&str, &str), Vec<(&Key, Delivery)>> = HashMap::new();
        for (k, s) in &ledger.rows {
            by_pair
                .entry((&*k.subscriber, &*k.deadline))
                .or_default()
                .push((k, *s));
        }
        let in_ledger: HashSet<&str> = ledger.rows.keys().map(|k| &*k.deadline).collect();
        let mut offsets: Vec<u16> = subscribers
            .iter()
            .flat_map(|s| s.remind_days.iter().copied())
            .collect();
        offsets.sort_unstable();
        offsets.dedup();
        let names = Names::of(catalog);
        let candidates = Candidate::all(catalog, &names, &offsets, &in_ledger, now);
        Planner {
            subscribers: subscribers.iter().enumerate(),
            opted_out,
            by_pair,
            names,
            candidates,
            items: Vec::new(),
        }
    }

    /// Subscriber `s`'s part (possibly empty).
    fn part(&mut self, index: usize, s: &Subscriber) -> Plan {
        let mut part = Plan::default();
        if self.opted_out.contains(&s.key) {
            return part;
        }
        // Keys share their strings: a catch-up makes millions of them.
        let email: Arc<str> = Arc::from(s.key.as_str());
        let filter = self.names.filter(&s.filter.topics, &s.filter.mechanisms);
        for c in &self.candidates {
            let matches = match (&filter, &c.bits) {
                (Some(f), Some(b)) => f.matches(b),
                _ => s.filter.matches(c.deadline),
            };
            if !matches {
                continue;
            }
            // (One hash lookup per deadline rather than per pair when the
            // ledger knows nothing of it, as for most of a catch-up.)
            let rows: &[(&Key, Delivery)] = if c.has_rows {
                self.by_pair
                    .get(&(&*email, c.deadline.id.as_str()))
                    .map_or(&[], Vec::as_slice)
            } else {
                &[]
            };
            c.decide(s, &email, rows, &mut self.items, &mut part.skipped);
        }
        if self.items.is_empty() {
            return part;
        }
        if s.digest {
            part.messages.push(Message {
                subscriber: index,
                items: self.items.drain(..).collect(),
            });
        } else {
            part.messages.extend(self.items.drain(..).map(|i| Message {
                subscriber: index,
                items: vec![i],
            }));
        }
        part
    }
}

impl Iterator for Planner<'_> {
    type Item = Plan;

    fn next(&mut self) -> Option<Plan> {
        while let Some((index, s)) = self.subscribers.next() {
            let part = self.part(index, s);
            if !part.messages.is_empty() || !part.skipped.is_empty() {
                return Some(part);
            }
        }
        None
    }
}

/// A deadline that may concern someone in this run, with what every
/// subscriber's decision about it shares.
struct Candidate<'a> {
    deadline: &'a Deadline,
    id: Arc<str>,
    bits: Option<Bits>,
    /// Whether the reminder `k` days before is due now, by `k`.
    due_now: [bool; 366],
    has_rows: bool,
    days_left: i64,
}

impl<'a> Candidate<'a> {
    /// Soonest first (then by id: the order of a message's items). Sessions
    /// and other items for information (`remind = false`) and open calls
    /// (which have no date) are never reminded of; a deadline with no offset
    /// due now and no ledger row concerns nobody.
    fn all(
        catalog: &'a Catalog,
        names: &Names,
        offsets: &[u16],
        in_ledger: &HashSet<&str>,
        now: DateTime<Utc>,
    ) -> Vec<Candidate<'a>> {
        let mut all: Vec<Candidate> = catalog
            .deadlines()
            .iter()
            .filter(|d| d.remind && d.is_ahead(now))
            .filter_map(|d| {
                let mut due_now = [false; 366];
                for &k in d.remind_days.as_deref().unwrap_or(offsets) {
                    due_now[usize::from(k)] = due_from(d, k) <= now;
                }
                let has_rows = in_ledger.contains(d.id.as_str());
                (due_now.contains(&true) || has_rows).then(|| Candidate {
                    deadline: d,
                    id: Arc::from(d.id.as_str()),
                    bits: names.deadline(d),
                    due_now,
                    has_rows,
                    days_left: d.days_left(now),
                })
            })
            .collect();
        all.sort_by(|a, b| (a.deadline.due_at, &a.id).cmp(&(b.deadline.due_at, &b.id)));
        all
    }

    /// The rules, in the order the book states them ("When reminders are
    /// due"), for subscriber `s` whose ledger rows about this deadline are
    /// `rows`: at most one item, and the reminders to skip.
    fn decide(
        &self,
        s: &Subscriber,
        email: &Arc<str>,
        rows: &[(&Key, Delivery)],
        items: &mut Vec<Item>,
        skipped: &mut Vec<Key>,
    ) {
        let d = self.deadline;
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
            deadline: self.id.clone(),
            due_at: d.due_at,
            kind,
        };
        let item = |kind, moved_from| Item {
            key: key(kind),
            days_left: self.days_left,
            moved_from,
        };
        if d.status == Status::Cancelled {
            if sent().next().is_some() && !final_here(Kind::Cancelled) {
                items.push(item(Kind::Cancelled, None));
            }
            return;
        }
        // The offsets due now and not yet final (no allocation: this runs
        // for every subscriber a due deadline concerns).
        let due = || {
            d.remind_days
                .as_deref()
                .unwrap_or(&s.remind_days)
                .iter()
                .copied()
                .filter(|&k| self.due_now[usize::from(k)] && !final_here(Kind::Remind(k)))
        };
        // Reminded of another due instant, and not yet of this one.
        let moved_from = sent()
            .filter(|(at, _)| *at != d.due_at)
            .map(|(at, _)| at)
            .max()
            .filter(|_| !sent().any(|(at, _)| at == d.due_at));
        if let Some(from) = moved_from.filter(|_| !final_here(Kind::Moved)) {
            items.push(item(Kind::Moved, Some(from)));
            // The notice gives the new date: reminders due now would repeat it.
            skipped.extend(due().map(|k| key(Kind::Remind(k))));
            return;
        }
        let smallest_sent = sent()
            .filter(|(at, _)| *at == d.due_at)
            .map(|(_, k)| k)
            .min();
        let send = due().min().filter(|&k| smallest_sent.is_none_or(|s| k < s));
        skipped.extend(
            due()
                .filter(|&k| Some(k) != send)
                .map(|k| key(Kind::Remind(k))),
        );
        if let Some(k) = send {
            items.push(item(Kind::Remind(k), None));
        }
    }
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
