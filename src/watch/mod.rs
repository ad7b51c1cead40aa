//! Watching the sources: each deadline's `url` and `source` page is checked
//! (`mechcal watch`, and `serve` every `[watch] interval`), and staff are
//! told once per distinct problem — a dead link, a page that keeps failing,
//! a move to another host, a redirect loop, a changed text — before a
//! subscriber is misled. Nothing here changes what is served or `/healthz`.
//!
//! Files: `charset` (a body's bytes as text, as browsers decode them,
//! pure), `text` (a page's visible text and its fingerprint, pure),
//! `excerpt` (changed lines with dates marked, pure), `judge` (a check's
//! meaning: the URL's new state and its problem, pure), `address` (which
//! addresses and names may be reached: special ranges with their RFCs,
//! pure), `fetch` (the HTTP edge: one conditional GET, redirects checked
//! hop by hop), `pass` (one
//! pass: hosts in parallel, one request at a time per host, states and
//! alerts recorded), `report` (the table and JSON of `mechcal watch`).

pub mod address;
pub mod charset;
pub mod excerpt;
pub mod fetch;
pub mod judge;
pub mod pass;
pub mod report;
pub mod text;

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::model::catalog::Catalog;

pub use pass::{pass, send_alerts, PassError, Report, Row};

/// The visible text kept of a page, to compare the next check with: 64 KiB
/// (a call page's text is a few KiB; the fingerprint covers all of it).
pub const TEXT_LIMIT: usize = 64 << 10;

/// Which key of an entry names a URL.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Field {
    Url,
    Source,
}

impl Field {
    pub fn as_str(self) -> &'static str {
        match self {
            Field::Url => "url",
            Field::Source => "source",
        }
    }
}

/// An entry that names a URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Use {
    /// The entry's id (as staff wrote it; its milestones and years share it).
    pub entry: String,
    pub field: Field,
    /// When staff last checked the entry against its source.
    pub verified: Option<NaiveDate>,
}

/// A URL to check, and the entries naming it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub url: String,
    pub uses: Vec<Use>,
}

/// The URLs of the catalog's entries with a date still ahead at `now` and
/// not cancelled (past deadlines' pages no longer matter), each once, in
/// URL order; or of entry `only`, whatever its dates. `None` when `only`
/// names no entry.
pub fn targets(catalog: &Catalog, only: Option<&str>, now: DateTime<Utc>) -> Option<Vec<Target>> {
    let mut by_url: BTreeMap<&str, Vec<Use>> = BTreeMap::new();
    let mut found = only.is_none();
    for d in catalog.deadlines() {
        match only {
            Some(id) if id != d.entry && id != d.id => continue,
            Some(_) => found = true,
            None if !d.is_upcoming(now) => continue,
            None => {}
        }
        let fields = [
            (Field::Url, d.url.as_deref()),
            (Field::Source, d.requirements.source.as_deref()),
        ];
        for (field, url) in fields {
            let Some(url) = url else { continue };
            let uses = by_url.entry(url).or_default();
            if !uses.iter().any(|u| u.entry == d.entry && u.field == field) {
                uses.push(Use {
                    entry: d.entry.clone(),
                    field,
                    verified: d.requirements.verified,
                });
            }
        }
    }
    found.then(|| {
        by_url
            .into_iter()
            .map(|(url, uses)| Target {
                url: url.to_string(),
                uses,
            })
            .collect()
    })
}
