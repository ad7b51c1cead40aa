//! Which replica leads, as this process knows it: on SQLite the process
//! always leads; on PostgreSQL it leads while the lease it last renewed
//! runs, counted on its own monotonic clock from the moment it asked (the
//! database granted a lease at least that long, on its own clock). Only
//! the leader runs reminder passes, watch passes, staff alerts and the
//! sign-up housekeeping, and it stops sending a message it could not finish
//! before its lease runs out. No I/O: the daemon asks the database and
//! tells this what it answered.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use super::records::Lease;

/// What this process is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Leader,
    Follower,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Leader => "leader",
            Role::Follower => "follower",
        }
    }
}

/// How a renewal changed the role.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Gained,
    Kept,
    Lost,
    None,
}

/// What `/healthz` and `/metrics` show.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct View {
    pub role: Role,
    /// `None` on SQLite (no lease).
    pub term: Option<i64>,
    pub expires_at: Option<DateTime<Utc>>,
    /// Renewals that held or gained the lead, that another replica's lease
    /// refused, and that failed (the database did not answer).
    pub renewals: [u64; 3],
}

pub struct Lead {
    holder: String,
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    /// On a shared database: the lead comes and goes with a lease.
    replicated: bool,
    lease: Duration,
    /// The term and end (monotonic, and the database's) of the lease held.
    term: Option<i64>,
    until: Option<Instant>,
    expires_at: Option<DateTime<Utc>>,
    renewals: [u64; 3],
}

/// Whether a leader whose lease runs until `until` may start work that
/// takes up to `margin` at `now`: only if it ends before the lease could.
pub fn may_act_at(until: Option<Instant>, now: Instant, margin: Duration) -> bool {
    until.is_some_and(|until| now.checked_add(margin).is_some_and(|end| end < until))
}

impl Lead {
    /// A process that leads until told it shares its database (`holder`:
    /// its random id in the lease).
    pub fn new(holder: String) -> Lead {
        Lead {
            holder,
            held: Mutex::new(Held::default()),
        }
    }

    pub fn holder(&self) -> &str {
        &self.holder
    }

    fn held(&self) -> std::sync::MutexGuard<'_, Held> {
        self.held.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The database is shared: a follower until a lease is granted.
    pub fn replicate(&self, lease: Duration) {
        let mut h = self.held();
        h.replicated = true;
        h.lease = lease;
    }

    /// The database granted (or renewed) `lease`, asked for at `asked`.
    pub fn renewed(&self, asked: Instant, lease: &Lease) -> Change {
        let mut h = self.held();
        let was = h.term;
        h.until = asked.checked_add(h.lease);
        h.term = Some(lease.term);
        h.expires_at = Some(lease.expires_at);
        h.renewals[0] += 1;
        if was == Some(lease.term) {
            Change::Kept
        } else {
            Change::Gained
        }
    }

    /// Another replica holds the lead.
    pub fn refused(&self) -> Change {
        let mut h = self.held();
        h.renewals[1] += 1;
        let had = h.term.take().is_some();
        h.until = None;
        h.expires_at = None;
        if had {
            Change::Lost
        } else {
            Change::None
        }
    }

    /// The database did not answer: the lease held runs out on its own.
    pub fn failed(&self) {
        self.held().renewals[2] += 1;
    }

    /// Whether this process may start work that takes up to `margin` now.
    pub fn may_act(&self, margin: Duration) -> bool {
        let h = self.held();
        !h.replicated || may_act_at(h.until, Instant::now(), margin)
    }

    /// The fence ledger writes carry: `(holder, term)` while leading a
    /// shared database.
    pub fn fence(&self) -> Option<(String, i64)> {
        let h = self.held();
        if h.replicated {
            h.term.map(|t| (self.holder.clone(), t))
        } else {
            None
        }
    }

    pub fn view(&self) -> View {
        let h = self.held();
        let leads = !h.replicated || may_act_at(h.until, Instant::now(), Duration::ZERO);
        View {
            role: if leads { Role::Leader } else { Role::Follower },
            term: h.term,
            expires_at: h.expires_at,
            renewals: h.renewals,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_starts_only_if_it_ends_before_the_lease() {
        let t0 = Instant::now();
        let s = Duration::from_secs;
        let until = Some(t0 + s(30));
        for (now, margin, may) in [
            (t0, s(0), true),
            (t0, s(29), true),
            (t0, s(30), false),
            (t0 + s(20), s(9), true),
            (t0 + s(20), s(10), false),
            (t0 + s(31), s(0), false),
        ] {
            assert_eq!(
                may_act_at(until, now, margin),
                may,
                "{:?} {margin:?}",
                now - t0
            );
        }
        assert!(!may_act_at(None, t0, s(0)), "no lease, no work");
    }

    #[test]
    fn a_single_process_leads_a_shared_one_only_while_its_lease_runs() {
        let lead = Lead::new("a".into());
        assert!(lead.may_act(Duration::from_secs(3600)));
        assert_eq!(lead.fence(), None);
        assert_eq!(lead.view().role, Role::Leader);

        lead.replicate(Duration::from_secs(30));
        assert!(!lead.may_act(Duration::ZERO), "a follower until granted");
        assert_eq!(lead.view().role, Role::Follower);
        let lease = |term| Lease {
            term,
            expires_at: "2027-01-01T00:00:30Z".parse().unwrap(),
        };
        assert_eq!(lead.renewed(Instant::now(), &lease(4)), Change::Gained);
        assert!(lead.may_act(Duration::from_secs(20)));
        assert!(!lead.may_act(Duration::from_secs(31)));
        assert_eq!(lead.fence(), Some(("a".into(), 4)));
        assert_eq!(lead.renewed(Instant::now(), &lease(4)), Change::Kept);
        // Asked long ago: the lease counts from the asking.
        let long_ago = Instant::now() - Duration::from_secs(29);
        lead.renewed(long_ago, &lease(4));
        assert!(!lead.may_act(Duration::from_secs(2)));
        assert_eq!(lead.refused(), Change::Lost);
        assert_eq!(lead.refused(), Change::None);
        assert_eq!(lead.fence(), None);
        lead.failed();
        assert_eq!(lead.view().renewals, [3, 2, 1]);
    }
}
