//! How an entry is scheduled beyond a single `due`: its milestones, dates
//! that repeat every year, when a portal opens, and where an extension
//! came from. Types only; `load` validates and expands them.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::model::deadline::Due;

/// A point in time as written, with the instant it stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct When {
    pub written: Due,
    pub at: DateTime<Utc>,
}

/// One milestone of an entry that has several (`[[deadline.milestone]]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Milestone {
    /// A kind from the registry's `[kinds]`: `submission`, `session`…
    pub kind: String,
    /// The staff's own name for it, shown instead of the kind's.
    pub label: Option<String>,
}

/// A date that comes back every year (`repeat = "yearly"`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Yearly {
    /// The last date an occurrence may fall on, if any.
    pub until: Option<NaiveDate>,
}

/// The span of time in which yearly dates are expanded into occurrences:
/// from `keep_past_days` back to `horizon_days` ahead of `now`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Window {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl Window {
    pub fn around(now: DateTime<Utc>, keep_past_days: u32, horizon_days: u32) -> Window {
        Window {
            start: now - Duration::days(i64::from(keep_past_days)),
            end: now + Duration::days(i64::from(horizon_days)),
        }
    }

    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.start <= at && at <= self.end
    }
}
