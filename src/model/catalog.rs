//! The catalog: the validated deadline repository as one immutable value.
//!
//! A `Catalog` is built only from data that validated without errors. Later
//! parts (feeds, the web page, the reminder planner) share it as
//! `Arc<Catalog>` and swap the whole value on reload, so a reader never sees
//! half of an update.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::model::deadline::{Deadline, Fingerprint};
use crate::model::registry::Registry;

#[derive(Debug)]
pub struct Catalog {
    registry: Registry,
    /// Sorted by due instant, then id.
    deadlines: Vec<Deadline>,
    by_id: HashMap<String, usize>,
    files: usize,
    version: Fingerprint,
}

/// Puts `items[order[i]]` at `i` for every `i`, in place: each cycle of
/// the permutation is followed once, by swaps (no copy of the whole list).
fn permute<T>(items: &mut [T], mut order: Vec<usize>) {
    for start in 0..order.len() {
        let mut at = start;
        // A placed position points at itself.
        while order[at] != at {
            let from = std::mem::replace(&mut order[at], at);
            if from == start {
                break;
            }
            items.swap(at, from);
            at = from;
        }
    }
}

impl Catalog {
    /// Builds a catalog from validated parts. `files` is the number of deadline
    /// files they came from.
    pub fn new(registry: Registry, deadlines: Vec<Deadline>, files: usize) -> Catalog {
        // Sorted as (due, id, index) keys, then moved once: a deadline is
        // over 600 bytes, and a sort that compared and moved them would
        // reach all over memory for every step.
        let mut order: Vec<(DateTime<Utc>, &str, usize)> = deadlines
            .iter()
            .enumerate()
            .map(|(i, d)| (d.due_at, d.id.as_str(), i))
            .collect();
        order.sort_unstable();
        let order: Vec<usize> = order.into_iter().map(|(_, _, i)| i).collect();
        let mut deadlines = deadlines;
        permute(&mut deadlines, order);
        let by_id = deadlines
            .iter()
            .enumerate()
            .map(|(i, d)| (d.id.clone(), i))
            .collect();
        let mut h = Sha256::new();
        for d in &deadlines {
            h.update(d.fingerprint.0);
        }
        // The registry's names appear in feeds and pages, so they count too.
        // Every string is length-prefixed so that no two registries hash alike.
        let mut put = |s: &str| {
            h.update((s.len() as u64).to_le_bytes());
            h.update(s.as_bytes());
        };
        for m in registry.mechanisms.values() {
            for s in [
                &m.slug,
                &m.name,
                &m.full_name,
                m.url.as_deref().unwrap_or(""),
            ] {
                put(s);
            }
            for (code, n) in &m.names {
                put(code);
                put(n.name.as_deref().unwrap_or(""));
                put(n.full_name.as_deref().unwrap_or(""));
            }
            put("");
        }
        put("topics");
        for t in registry.topics.values() {
            put(&t.slug);
            put(&t.en);
            for (code, name) in &t.names {
                put(code);
                put(name);
            }
            put("");
        }
        put("kinds");
        for k in registry.kinds.values() {
            put(&k.slug);
            put(&k.en);
            put(if k.remind { "remind" } else { "no-remind" });
            for (code, name) in &k.names {
                put(code);
                put(name);
            }
            put("");
        }
        Catalog {
            registry,
            deadlines,
            by_id,
            files,
            version: Fingerprint(h.finalize().into()),
        }
    }

    /// Fills in `extended_from` where staff wrote none and `was` (the state
    /// database's history) knows the due an item had before. The version
    /// stays: history only changes when a due, and so a fingerprint, does.
    pub fn with_history(
        mut self,
        was: impl Fn(&str) -> Option<crate::model::schedule::When>,
    ) -> Catalog {
        for d in &mut self.deadlines {
            if d.extended_from.is_none() {
                d.extended_from = was(&d.id).map(Box::new);
            }
        }
        self
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// All deadlines, soonest first.
    pub fn deadlines(&self) -> &[Deadline] {
        &self.deadlines
    }

    pub fn get(&self, id: &str) -> Option<&Deadline> {
        self.by_id.get(id).map(|&i| &self.deadlines[i])
    }

    pub fn files(&self) -> usize {
        self.files
    }

    /// Changes whenever any entry or the registry changes; equal for equal data.
    pub fn version(&self) -> Fingerprint {
        self.version
    }

    /// The deadlines a filter selects, soonest first.
    pub fn select<'a>(&'a self, filter: &'a Filter) -> impl Iterator<Item = &'a Deadline> + 'a {
        self.deadlines.iter().filter(move |d| filter.matches(d))
    }

    /// How many entries the items come from (an entry with milestones or a
    /// yearly date makes several items).
    pub fn entries(&self) -> usize {
        let entries: std::collections::HashSet<&str> =
            self.deadlines.iter().map(|d| d.entry.as_str()).collect();
        entries.len()
    }

    /// How many deadlines are still ahead at `now` and not cancelled.
    pub fn upcoming(&self, now: DateTime<Utc>) -> usize {
        self.deadlines.iter().filter(|d| d.is_upcoming(now)).count()
    }
}

/// Which deadlines a reader wants: any of `topics` (if any are named) and any
/// of `mechanisms` (if any are named).
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Filter {
    pub topics: Vec<String>,
    pub mechanisms: Vec<String>,
}

impl Filter {
    pub fn matches(&self, d: &Deadline) -> bool {
        (self.topics.is_empty() || d.topics.iter().any(|t| self.topics.contains(t)))
            && (self.mechanisms.is_empty() || self.mechanisms.contains(&d.mechanism))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::deadline::tests::sample;

    #[test]
    fn permute_follows_every_cycle() {
        // Identity, one swap, a 3-cycle with a fixed point, two cycles.
        for order in [
            vec![0, 1, 2, 3],
            vec![1, 0, 2, 3],
            vec![2, 1, 3, 0],
            vec![3, 2, 1, 0],
            vec![1, 2, 0, 4, 3],
        ] {
            let mut items: Vec<char> = "abcde"[..order.len()].chars().collect();
            let expected: Vec<char> = order.iter().map(|&i| items[i]).collect();
            permute(&mut items, order.clone());
            assert_eq!(items, expected, "{order:?}");
        }
    }

    #[test]
    fn deadlines_are_sorted_by_due_then_id() {
        let mut a = sample();
        let mut b = sample();
        let mut c = sample();
        (a.id, b.id, c.id) = ("a".into(), "b".into(), "c".into());
        c.due_at -= chrono::Duration::days(1);
        let cat = Catalog::new(Registry::default(), vec![b, c, a], 1);
        let ids: Vec<&str> = cat.deadlines().iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["c", "a", "b"]);
        assert_eq!(cat.get("b").map(|d| d.id.as_str()), Some("b"));
    }

    #[test]
    fn filter_table() {
        let d = sample(); // cerd; racial-discrimination, discrimination
        let f = |topics: &[&str], mechanisms: &[&str]| Filter {
            topics: topics.iter().map(|s| s.to_string()).collect(),
            mechanisms: mechanisms.iter().map(|s| s.to_string()).collect(),
        };
        let cases = [
            (f(&[], &[]), true),
            (f(&["discrimination"], &[]), true),
            (f(&["women", "discrimination"], &[]), true),
            (f(&["women"], &[]), false),
            (f(&[], &["cerd"]), true),
            (f(&[], &["upr", "cerd"]), true),
            (f(&[], &["upr"]), false),
            (f(&["discrimination"], &["upr"]), false),
            (f(&["discrimination"], &["cerd"]), true),
        ];
        for (filter, expected) in cases {
            assert_eq!(filter.matches(&d), expected, "{filter:?}");
        }
    }

    #[test]
    fn sorted_indexed_and_versioned() {
        let mut a = sample();
        a.id = "b".into();
        let mut b = sample();
        b.id = "a".into();
        b.due_at += chrono::Duration::days(1);
        let c1 = Catalog::new(Registry::default(), vec![b.clone(), a.clone()], 1);
        assert_eq!(c1.deadlines()[0].id, "b");
        assert_eq!(c1.get("a").unwrap().id, "a");
        let c2 = Catalog::new(Registry::default(), vec![a.clone(), b.clone()], 2);
        assert_eq!(c1.version(), c2.version());
        let mut registry = Registry::default();
        registry.topics.insert(
            "women".into(),
            crate::model::registry::Topic {
                slug: "women".into(),
                en: "Women".into(),
                names: Default::default(),
            },
        );
        let with_topic = Catalog::new(registry.clone(), vec![a.clone(), b.clone()], 1);
        assert_ne!(c1.version(), with_topic.version());
        registry.topics["women"]
            .names
            .insert("ru".into(), "Женщины".into());
        let renamed = Catalog::new(registry, vec![a.clone(), b.clone()], 1);
        assert_ne!(with_topic.version(), renamed.version());
        b.fingerprint.0[0] ^= 1;
        let c3 = Catalog::new(Registry::default(), vec![a, b], 1);
        assert_ne!(c1.version(), c3.version());
    }
}
