//! How often sign-ups may come: per client address and hour. Pure: the
//! time is passed in. (The per-address limit — one confirmation mail per
//! address per hour — lives in the state database, beside the sign-up.)
//!
//! Clients are counted by address, IPv6 ones by their /64 (one host
//! usually holds a whole /64). Memory is bounded: at most
//! [`MAX_CLIENTS`] clients are tracked per hour; when more come within one
//! hour, sign-ups are refused until the next hour starts — under a flood
//! from that many addresses, refusing is the side that mail-bombs nobody.

use std::collections::HashMap;
use std::net::IpAddr;

use chrono::{DateTime, Utc};

/// The most client addresses tracked at once.
pub const MAX_CLIENTS: usize = 100_000;

/// Sign-ups counted per client in the current hour.
#[derive(Debug, Default)]
pub struct ClientLimits {
    hour: i64,
    counts: HashMap<IpAddr, u32>,
}

impl ClientLimits {
    /// Whether `client` may sign up once more at `now`, `per_hour` being
    /// the most per client and hour; counts the attempt if so.
    pub fn allow(&mut self, client: IpAddr, per_hour: u32, now: DateTime<Utc>) -> bool {
        let hour = now.timestamp().div_euclid(3600);
        if hour != self.hour {
            self.hour = hour;
            self.counts.clear();
        }
        let client = bucket(client);
        if !self.counts.contains_key(&client) && self.counts.len() >= MAX_CLIENTS {
            return false;
        }
        let n = self.counts.entry(client).or_default();
        if *n >= per_hour {
            return false;
        }
        *n += 1;
        true
    }

    /// How many clients are tracked (for tests).
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

/// An IPv6 address's /64; an IPv4 address (or an IPv4-mapped one) itself.
fn bucket(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The client of a request: the socket's peer, unless the peer is one of
/// `trusted` proxies — then the right-most address of `X-Forwarded-For`
/// that is not itself a trusted proxy (the left-most entries are whatever
/// the client chose to send, and prove nothing).
pub fn client(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[IpAddr]) -> IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let Some(header) = forwarded_for else {
        return peer;
    };
    for hop in header.rsplit(',') {
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

    #[test]
    fn memory_is_bounded() {
        let mut l = ClientLimits::default();
        let now = at("2027-01-10T10:00:00Z");
        for i in 0..MAX_CLIENTS as u32 {
            assert!(l.allow(IpAddr::V4(i.into()), 1, now));
        }
        assert!(!l.allow(IpAddr::V4(u32::MAX.into()), 1, now));
        assert_eq!(l.len(), MAX_CLIENTS);
        assert!(l.allow(IpAddr::V4(u32::MAX.into()), 1, at("2027-01-10T11:00:00Z")));
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
        for (peer, header, want) in cases {
            assert_eq!(
                client(ip(peer), header, &proxy),
                ip(want),
                "{peer} {header:?}"
            );
        }
    }
}
