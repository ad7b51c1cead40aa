//! Which addresses and names a watched URL (or a redirect hop) may lead
//! to: the public internet only (unless `[watch] allow_private`). Pure:
//! tables of special-purpose ranges with their RFCs, and names that are
//! internal by their form.

use std::net::IpAddr;

/// IPv4 ranges that are not the public internet, each with the RFC
/// that sets it aside.
pub const SPECIAL_V4: [(std::net::Ipv4Addr, u8, &str); 15] = {
    use std::net::Ipv4Addr as A;
    [
        (A::new(0, 0, 0, 0), 8, "RFC 1122 (this network)"),
        (A::new(10, 0, 0, 0), 8, "RFC 1918 (private)"),
        (A::new(100, 64, 0, 0), 10, "RFC 6598 (shared, CGNAT)"),
        (A::new(127, 0, 0, 0), 8, "RFC 1122 (loopback)"),
        (
            A::new(169, 254, 0, 0),
            16,
            "RFC 3927 (link-local, cloud metadata)",
        ),
        (A::new(172, 16, 0, 0), 12, "RFC 1918 (private)"),
        (
            A::new(192, 0, 0, 0),
            24,
            "RFC 6890 (IETF protocol assignments)",
        ),
        (A::new(192, 0, 2, 0), 24, "RFC 5737 (documentation)"),
        (A::new(192, 88, 99, 0), 24, "RFC 7526 (6to4 relay anycast)"),
        (A::new(192, 168, 0, 0), 16, "RFC 1918 (private)"),
        (A::new(198, 18, 0, 0), 15, "RFC 2544 (benchmarking)"),
        (A::new(198, 51, 100, 0), 24, "RFC 5737 (documentation)"),
        (A::new(203, 0, 113, 0), 24, "RFC 5737 (documentation)"),
        (A::new(224, 0, 0, 0), 4, "RFC 5771 (multicast)"),
        (A::new(240, 0, 0, 0), 4, "RFC 1112 (reserved; broadcast)"),
    ]
};

/// Where an IPv6 range carries an IPv4 address that decides instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Embedded {
    /// Refused whatever it embeds.
    No,
    /// The last 32 bits (NAT64, IPv4-mapped).
    Last32,
    /// Bits 16–48 (6to4).
    SixToFour,
}

/// IPv6 ranges that are not the public internet, or that carry an IPv4
/// address which decides, each with its RFC.
pub const SPECIAL_V6: [(std::net::Ipv6Addr, u8, Embedded, &str); 17] = {
    use std::net::Ipv6Addr as A;
    use Embedded::{Last32, No, SixToFour};
    [
        (
            A::new(0, 0, 0, 0, 0, 0xffff, 0, 0),
            96,
            Last32,
            "RFC 4291 (IPv4-mapped)",
        ),
        (
            A::new(0, 0, 0, 0, 0, 0, 0, 0),
            96,
            No,
            "RFC 4291 (unspecified, loopback, IPv4-compatible)",
        ),
        (
            A::new(0x64, 0xff9b, 0, 0, 0, 0, 0, 0),
            96,
            Last32,
            "RFC 6052 (NAT64)",
        ),
        (
            A::new(0x64, 0xff9b, 1, 0, 0, 0, 0, 0),
            48,
            Last32,
            "RFC 8215 (local-use NAT64)",
        ),
        (
            A::new(0x100, 0, 0, 0, 0, 0, 0, 0),
            64,
            No,
            "RFC 6666 (discard)",
        ),
        (
            A::new(0x2001, 0, 0, 0, 0, 0, 0, 0),
            32,
            No,
            "RFC 4380 (Teredo)",
        ),
        (
            A::new(0x2001, 0x2, 0, 0, 0, 0, 0, 0),
            48,
            No,
            "RFC 5180 (benchmarking)",
        ),
        (
            A::new(0x2001, 0x10, 0, 0, 0, 0, 0, 0),
            28,
            No,
            "RFC 4843 (ORCHID)",
        ),
        (
            A::new(0x2001, 0x20, 0, 0, 0, 0, 0, 0),
            28,
            No,
            "RFC 7343 (ORCHIDv2)",
        ),
        (
            A::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0),
            32,
            No,
            "RFC 3849 (documentation)",
        ),
        (
            A::new(0x2002, 0, 0, 0, 0, 0, 0, 0),
            16,
            SixToFour,
            "RFC 3056 (6to4)",
        ),
        (
            A::new(0x3fff, 0, 0, 0, 0, 0, 0, 0),
            20,
            No,
            "RFC 9637 (documentation)",
        ),
        (
            A::new(0x5f00, 0, 0, 0, 0, 0, 0, 0),
            16,
            No,
            "RFC 9602 (SRv6 SIDs)",
        ),
        (
            A::new(0xfc00, 0, 0, 0, 0, 0, 0, 0),
            7,
            No,
            "RFC 4193 (unique local)",
        ),
        (
            A::new(0xfe80, 0, 0, 0, 0, 0, 0, 0),
            10,
            No,
            "RFC 4291 (link-local)",
        ),
        (
            A::new(0xfec0, 0, 0, 0, 0, 0, 0, 0),
            10,
            No,
            "RFC 3879 (site-local)",
        ),
        (
            A::new(0xff00, 0, 0, 0, 0, 0, 0, 0),
            8,
            No,
            "RFC 4291 (multicast)",
        ),
    ]
};

fn in_v4(ip: std::net::Ipv4Addr, net: std::net::Ipv4Addr, bits: u8) -> bool {
    let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
    u32::from(ip) & mask == u32::from(net) & mask
}

fn in_v6(ip: std::net::Ipv6Addr, net: std::net::Ipv6Addr, bits: u8) -> bool {
    let mask = u128::MAX.checked_shl(128 - u32::from(bits)).unwrap_or(0);
    u128::from(ip) & mask == u128::from(net) & mask
}

/// Whether an address is on the public internet: in none of the ranges
/// of [`SPECIAL_V4`] and [`SPECIAL_V6`]; an IPv6 address that embeds an
/// IPv4 one (mapped, NAT64, 6to4) is as public as the IPv4 address.
pub fn public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(a) => !SPECIAL_V4
            .iter()
            .any(|(net, bits, _)| in_v4(a, *net, *bits)),
        IpAddr::V6(a) => {
            let Some((_, _, embedded, _)) = SPECIAL_V6
                .iter()
                .find(|(net, bits, _, _)| in_v6(a, *net, *bits))
            else {
                return true;
            };
            let n = u128::from(a);
            let v4 = match embedded {
                Embedded::No => return false,
                Embedded::Last32 => n as u32,
                Embedded::SixToFour => (n >> 80) as u32,
            };
            public(IpAddr::V4(v4.into()))
        }
    }
}

/// Names that are internal by their form, whatever they resolve to:
/// `localhost` and `*.localhost` (RFC 6761), `*.internal` (cloud and
/// ICANN private use), `*.local` (mDNS, RFC 6762), `*.home.arpa`
/// (RFC 8375), and `metadata.*` (cloud metadata services).
pub fn internal_name(host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let under = |suffix: &str| host == suffix || host.ends_with(&format!(".{suffix}"));
    under("localhost")
        || under("internal")
        || under("local")
        || under("home.arpa")
        || host == "metadata"
        || host.starts_with("metadata.")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every special range, with its RFC: its first and last address
    /// and one inside are refused; addresses that embed IPv4 are judged
    /// by it.
    #[test]
    fn public_addresses() {
        for (net, bits, rfc) in SPECIAL_V4 {
            let n = u32::from(net);
            let last = n | (u32::MAX >> bits);
            for ip in [n, last, n + (last - n) / 2] {
                let ip = std::net::Ipv4Addr::from(ip);
                assert!(!public(IpAddr::V4(ip)), "{ip} ({rfc})");
            }
        }
        for (net, bits, embedded, rfc) in SPECIAL_V6 {
            let n = u128::from(net);
            let last = n | (u128::MAX >> bits);
            for ip in [n, last, n + (last - n) / 2] {
                let ip = std::net::Ipv6Addr::from(ip);
                // Those that embed IPv4 refuse what embeds a special one
                // (their first address embeds 0.0.0.0).
                if embedded == Embedded::No || ip == net {
                    assert!(!public(IpAddr::V6(ip)), "{ip} ({rfc})");
                }
            }
        }
        for (ip, want) in [
            ("193.70.1.1", true),
            ("8.8.8.8", true),
            ("2001:4860::1", true),
            ("2a00:1450::1", true),
            // The list: each must be refused before any request.
            ("::7f00:1", false),
            ("::ffff:127.0.0.1", false),
            ("::ffff:8.8.8.8", true),
            ("64:ff9b::7f00:1", false),
            ("64:ff9b::a9fe:a9fe", false),
            ("64:ff9b::808:808", true),
            ("64:ff9b:1::7f00:1", false),
            ("2002:7f00:1::1", false),
            ("2002:a9fe:a9fe::", false),
            ("2002:808:808::1", true),
            ("2001::1", false),
            ("fec0::1", false),
            ("2001:db8::1", false),
            ("198.18.0.1", false),
            ("198.19.255.255", false),
            ("240.0.0.1", false),
            ("255.255.255.255", false),
            ("192.0.0.8", false),
            ("169.254.169.254", false),
        ] {
            assert_eq!(public(ip.parse().unwrap()), want, "{ip}");
        }
    }

    #[test]
    fn internal_names_by_their_form() {
        for name in [
            "localhost",
            "LOCALHOST.",
            "a.localhost",
            "metadata.google.internal",
            "db.internal",
            "printer.local",
            "nas.home.arpa",
            "metadata",
            "metadata.example.org",
        ] {
            assert!(internal_name(name), "{name}");
        }
        for name in [
            "www.ohchr.org",
            "localhost.example.org",
            "internal.example.org",
            "local.by",
        ] {
            assert!(!internal_name(name), "{name}");
        }
    }
}
