//! How often sign-ups may come: per client address and hour. Pure: the
//! time is passed in. (The per-address limit — one confirmation mail per
//! address per hour — lives in the state database, beside the sign-up.)
//!
//! Clients are counted by address, IPv6 ones by their /64 (one host
//! usually holds a whole /64) and, together, by their /48 (one site's
//! allocation: at most [`PER_48`] times the per-client limit), so that one
//! network cannot pose as thousands of clients. Memory is bounded: at
//! most [`MAX_CLIENTS`] buckets are kept; when more come within one hour
//! the oldest are forgotten (their clients may sign up again), so a flood
//! from many addresses never locks sign-up for everyone else.

use std::collections::{HashMap, VecDeque};
use std::net::{IpAddr, Ipv6Addr};

use chrono::{DateTime, Utc};

/// The most buckets (client addresses, /64s and /48s) kept at once.
pub const MAX_CLIENTS: usize = 100_000;

/// How many clients' worth of sign-ups one IPv6 /48 may make per hour.
pub const PER_48: u32 = 16;

/// What is counted: a client (an IPv4 address, an IPv6 /64) or an IPv6 /48.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Bucket {
    Client(IpAddr),
    Site(Ipv6Addr),
}

/// Sign-ups counted per bucket in the current hour.
#[derive(Debug, Default)]
pub struct ClientLimits {
    hour: i64,
    counts: HashMap<Bucket, u32>,
    /// The buckets in the order they came, oldest first.
    order: VecDeque<Bucket>,
}

impl ClientLimits {
    /// Whether `client` may sign up once more at `now`, `per_hour` being
    /// the most per client and hour; counts the attempt if so.
    pub fn allow(&mut self, client: IpAddr, per_hour: u32, now: DateTime<Utc>) -> bool {
        let hour = now.timestamp().div_euclid(3600);
        if hour != self.hour {
            self.hour = hour;
            self.counts.clear();
            self.order.clear();
        }
        let (client, site) = buckets(client);
        let mut checks = vec![(client, per_hour)];
        if let Some(site) = site {
            checks.push((site, per_hour.saturating_mul(PER_48)));
        }
        if checks
            .iter()
            .any(|(b, most)| self.counts.get(b).is_some_and(|n| n >= most))
        {
            return false;
        }
        for (b, _) in checks {
            let n = match self.counts.get_mut(&b) {
                Some(n) => n,
                None => {
                    while self.counts.len() >= MAX_CLIENTS {
                        let Some(oldest) = self.order.pop_front() else {
                            break;
                        };
                        self.counts.remove(&oldest);
                    }
                    self.order.push_back(b);
                    self.counts.entry(b).or_default()
                }
            };
            *n += 1;
        }
        true
    }

    /// How many buckets are kept (for tests).
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

/// A client's bucket — an IPv4 address (or an IPv4-mapped one) itself,
/// an IPv6 address's /64 — and, for IPv6, its /48.
fn buckets(ip: IpAddr) -> (Bucket, Option<Bucket>) {
    match ip {
        IpAddr::V4(_) => (Bucket::Client(ip), None),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => (Bucket::Client(IpAddr::V4(v4)), None),
            None => {
                let s = v6.segments();
                (
                    Bucket::Client(IpAddr::V6(Ipv6Addr::new(
                        s[0], s[1], s[2], s[3], 0, 0, 0, 0,
                    ))),
                    Some(Bucket::Site(Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0))),
                )
            }
        },
    }
}

/// The client of a request: the socket's peer, unless the peer is one of
/// `trusted` proxies — then the right-most address of `X-Forwarded-For`
/// (every line of it, in order, as one list: a proxy may append a line of
/// its own) that is not itself a trusted proxy. The left-most entries are
/// whatever the client chose to send, and prove nothing.
pub fn client(peer: IpAddr, forwarded_for: &[&str], trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let hops: Vec<&str> = forwarded_for
        .iter()
        .flat_map(|line| line.split(','))
        .collect();
    for hop in hops.into_iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if trusted.contains(&ip) => continue,
            Ok(ip) => return ip,
            Err(_) => return peer,
        }
    }
    peer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t: &str) -> DateTime<Utc> {
        t.parse().unwrap()
    }

    #[test]
    fn per_client_and_hour() {
        let mut l = ClientLimits::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let now = at("2027-01-10T10:00:00Z");
        assert!((0..3).all(|_| l.allow(a, 3, now)));
        assert!(!l.allow(a, 3, now));
        assert!(l.allow(b, 3, now), "another client");
        assert!(l.allow(a, 3, at("2027-01-10T11:00:00Z")), "the next hour");
        assert_eq!(l.len(), 1, "earlier hours are forgotten");
    }

    #[test]
    fn ipv6_counts_by_64() {
        let mut l = ClientLimits::default();
        let now = at("2027-01-10T10:00:00Z");
        assert!(l.allow("2001:db8:1:2::1".parse().unwrap(), 2, now));
        assert!(l.allow("2001:db8:1:2:ffff::9".parse().unwrap(), 2, now));
        assert!(!l.allow("2001:db8:1:2::7".parse().unwrap(), 2, now));
        assert!(l.allow("2001:db8:1:3::1".parse().unwrap(), 2, now));
    }

    /// A full table forgets its oldest clients: a flood never locks
    /// sign-up for a newcomer.
    #[test]
    fn memory_is_bounded_and_the_oldest_go_first() {
        let mut l = ClientLimits::default();
        let now = at("2027-01-10T10:00:00Z");
        for i in 0..MAX_CLIENTS as u32 {
            assert!(l.allow(IpAddr::V4(i.into()), 1, now));
        }
        assert_eq!(l.len(), MAX_CLIENTS);
        assert!(l.allow(IpAddr::V4(u32::MAX.into()), 1, now), "a newcomer");
        assert_eq!(l.len(), MAX_CLIENTS);
        assert!(!l.allow(IpAddr::V4(u32::MAX.into()), 1, now), "counted");
        assert!(
            l.allow(IpAddr::V4(0.into()), 1, now),
            "the oldest was forgotten"
        );
        assert!(
            !l.allow(IpAddr::V4(5.into()), 1, now),
            "younger ones are kept"
        );
    }

    /// One /48 cannot pose as 65,536 clients: its /64s together get
    /// [`PER_48`] clients' worth; another /48 is not held back by it.
    #[test]
    fn one_ipv6_site_counts_as_a_few_clients() {
        let mut l = ClientLimits::default();
        let now = at("2027-01-10T10:00:00Z");
        let in_site = |n: u16| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 7, n, 0, 0, 0, 1));
        let allowed = (0..1000).filter(|n| l.allow(in_site(*n), 2, now)).count();
        assert_eq!(allowed, 2 * PER_48 as usize);
        assert!(l.len() < 40, "{} buckets", l.len());
        assert!(l.allow("2001:db8:8::1".parse().unwrap(), 2, now));
    }

    #[test]
    fn forwarded_for_only_from_trusted_proxies() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        let proxy = [ip("127.0.0.1"), ip("10.0.0.2")];
        let cases = [
            ("198.51.100.7", Some("203.0.113.9"), "198.51.100.7"),
            ("127.0.0.1", None, "127.0.0.1"),
            ("127.0.0.1", Some("203.0.113.9"), "203.0.113.9"),
            ("127.0.0.1", Some("1.2.3.4, 203.0.113.9"), "203.0.113.9"),
            ("127.0.0.1", Some("203.0.113.9, 10.0.0.2"), "203.0.113.9"),
            ("127.0.0.1", Some("garbage"), "127.0.0.1"),
        ];
        // A proxy that appends a line of its own: the right-most address
        // of all lines counts, not the client's chosen first line.
        assert_eq!(
            client(ip("127.0.0.1"), &["198.51.100.1", "203.0.113.9"], &proxy),
            ip("203.0.113.9")
        );
        assert_eq!(
            client(
                ip("127.0.0.1"),
                &["198.51.100.1", "203.0.113.9, 10.0.0.2"],
                &proxy
            ),
            ip("203.0.113.9")
        );
        for (peer, header, want) in cases {
            let lines: Vec<&str> = header.into_iter().collect();
            assert_eq!(
                client(ip(peer), &lines, &proxy),
                ip(want),
                "{peer} {header:?}"
            );
        }
    }
}
