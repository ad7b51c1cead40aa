//! One conditional GET of a watched URL (the I/O edge of watching).
//!
//! reqwest (rustls on ring, the system's CA certificates, gzip) with
//! redirects followed here, not by the client, so that each hop is
//! checked: only http and https, no loopback, private or link-local
//! address (by name, through [`Resolver`], or as a literal) unless
//! `[watch] allow_private`, no URL twice (a loop), at most
//! [`MAX_REDIRECTS`]. The whole exchange, body included, is bounded by
//! `[watch] timeout`; at most `[watch] max_body_kib` of the (decompressed)
//! body is read.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{self, HeaderMap};
use url::Url;

use super::judge::{Content, Failure, Observation, Outcome};
use super::text;
use crate::load::config::WatchConfig;

/// Redirects followed at most before the chain counts as a loop.
pub const MAX_REDIRECTS: usize = 10;

/// What one check brought back.
#[derive(Debug)]
pub struct Fetched {
    pub observation: Observation,
    /// The host asked us to wait this long (`Retry-After` on a 429 or 503).
    pub retry_after: Option<Duration>,
}

/// The validators of the last answer, sent back as `If-None-Match` and
/// `If-Modified-Since`.
#[derive(Clone, Debug, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Why the client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("no CA certificates for https: {0}")]
    Certificates(String),
    #[error("`[watch] proxy`: {0}")]
    Proxy(reqwest::Error),
    #[error("cannot build the HTTP client: {0}")]
    Client(reqwest::Error),
}

pub struct Fetcher {
    client: reqwest::Client,
    timeout: Duration,
    max_body: usize,
    allow_private: bool,
    /// How names reach the configured proxy, if there is one.
    proxy: Option<ProxyNames>,
}

/// Who resolves a URL's name when a proxy carries the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ProxyNames {
    /// `socks5h`: the proxy does (so that Tor resolves `.onion` and no
    /// name leaks to the local resolver); mechcal can only refuse names
    /// that are internal by their form ([`internal_name`]).
    Remote,
    /// An HTTP(S) or `socks5` proxy: mechcal resolves the name first and
    /// checks every address, as it does without a proxy.
    Local,
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

impl Fetcher {
    /// A client for `config`, naming `base_url` and the contact in its
    /// User-Agent.
    pub fn new(config: &WatchConfig, base_url: &str) -> Result<Fetcher, SetupError> {
        let tls = crate::reminders::transport::tls_client_config()
            .map_err(|e| SetupError::Certificates(e.to_string()))?;
        let agent = format!(
            "mechcal/{} (deadline calendar; +{base_url}; {})",
            env!("CARGO_PKG_VERSION"),
            config.contact.as_deref().unwrap_or("no contact set")
        );
        let mut builder = reqwest::Client::builder()
            .tls_backend_preconfigured((*tls).clone())
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(agent)
            .connect_timeout(config.timeout)
            .tcp_nodelay(true)
            .pool_max_idle_per_host(1)
            .pool_idle_timeout(Duration::from_secs(30))
            .dns_resolver(Arc::new(Resolver {
                allow_private: config.allow_private,
            }));
        // `*_PROXY` in the environment is never used: only `[watch] proxy`,
        // whose requests are checked as below.
        builder = builder.no_proxy();
        let mut names = None;
        if let Some(proxy) = &config.proxy {
            names = Some(if proxy.to_ascii_lowercase().starts_with("socks5h:") {
                ProxyNames::Remote
            } else {
                ProxyNames::Local
            });
            let proxy = reqwest::Proxy::all(proxy).map_err(SetupError::Proxy)?;
            builder = builder.proxy(proxy);
        }
        Ok(Fetcher {
            client: builder.build().map_err(SetupError::Client)?,
            timeout: config.timeout,
            max_body: config.max_body,
            allow_private: config.allow_private,
            proxy: names,
        })
    }

    /// Checks `url`, within `[watch] timeout`.
    pub async fn fetch(&self, url: &str, validators: &Validators) -> Fetched {
        match tokio::time::timeout(self.timeout, self.follow(url, validators)).await {
            Ok(Ok(fetched)) => fetched,
            Ok(Err(failure)) => failed(failure),
            Err(_) => failed(Failure::Timeout),
        }
    }

    async fn follow(&self, url: &str, validators: &Validators) -> Result<Fetched, Failure> {
        let mut current = Url::parse(url).map_err(|e| Failure::Other(format!("not a URL: {e}")))?;
        let mut visited = vec![current.clone()];
        loop {
            self.allowed(&current)?;
            self.name_allowed(&current).await?;
            let mut request = self.client.get(current.clone());
            if let Some(etag) = &validators.etag {
                request = request.header(header::IF_NONE_MATCH, etag);
            }
            if let Some(date) = &validators.last_modified {
                request = request.header(header::IF_MODIFIED_SINCE, date);
            }
            let response = request.send().await.map_err(classify)?;
            let status = response.status().as_u16();
            let location = response
                .headers()
                .get(header::LOCATION)
                .and_then(|l| l.to_str().ok());
            if (300..400).contains(&status) && status != 304 {
                if let Some(location) = location {
                    let next = current.join(location).map_err(|e| {
                        Failure::Refused(format!("`Location: {location}` is not a URL: {e}"))
                    })?;
                    if visited.contains(&next) || visited.len() > MAX_REDIRECTS {
                        visited.push(next);
                        return Err(Failure::Loop(chain(&visited)));
                    }
                    visited.push(next.clone());
                    current = next;
                    continue;
                }
            }
            let final_url = Some(current.to_string());
            let retry_after = retry_after(response.headers());
            let outcome = match status {
                304 => Outcome::NotModified,
                200..=299 => {
                    let headers = response.headers();
                    let etag = text_header(headers, header::ETAG);
                    let last_modified = text_header(headers, header::LAST_MODIFIED);
                    let content_type = text_header(headers, header::CONTENT_TYPE);
                    let (body, cut) = self.body(response).await?;
                    Outcome::Page {
                        status,
                        content: content(content_type.as_deref(), &body, cut),
                        etag,
                        last_modified,
                    }
                }
                _ => Outcome::Status(status),
            };
            return Ok(Fetched {
                observation: Observation { final_url, outcome },
                retry_after,
            });
        }
    }

    /// At most `max_body` bytes of the body; `true` when there was more.
    async fn body(&self, mut response: reqwest::Response) -> Result<(Vec<u8>, bool), Failure> {
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(classify)? {
            let room = self.max_body - body.len();
            if chunk.len() > room {
                body.extend_from_slice(&chunk[..room]);
                return Ok((body, true));
            }
            body.extend_from_slice(&chunk);
        }
        Ok((body, false))
    }

    /// Refuses a URL that is not http(s), or names a literal address that
    /// is not allowed (names are checked when resolved).
    fn allowed(&self, url: &Url) -> Result<(), Failure> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(Failure::Refused(format!(
                "to `{url}`: only http and https are followed"
            )));
        }
        let ip = match url.host() {
            Some(url::Host::Ipv4(a)) => IpAddr::V4(a),
            Some(url::Host::Ipv6(a)) => IpAddr::V6(a),
            Some(url::Host::Domain(_)) => return Ok(()),
            None => return Err(Failure::Refused(format!("`{url}` names no host"))),
        };
        if !self.allowed_ip(ip) {
            return Err(Failure::Refused(format!(
                "to `{url}`: a loopback or private address (`[watch] allow_private` is off)"
            )));
        }
        Ok(())
    }

    /// Through a proxy, our resolver is not asked: a name is checked here
    /// first — by its form when the proxy resolves it, else by resolving
    /// it and checking every address.
    async fn name_allowed(&self, url: &Url) -> Result<(), Failure> {
        let (Some(names), Some(url::Host::Domain(host))) = (self.proxy, url.host()) else {
            return Ok(());
        };
        if self.allow_private {
            return Ok(());
        }
        if internal_name(host) {
            return Err(Failure::Refused(format!(
                "to `{url}`: `{host}` is an internal name (`[watch] allow_private` is off)"
            )));
        }
        if names == ProxyNames::Remote {
            return Ok(());
        }
        let found: Vec<SocketAddr> = tokio::net::lookup_host((host, 0))
            .await
            .map_err(|e| Failure::Dns(format!("{host}: {e}")))?
            .collect();
        if found.is_empty() {
            return Err(Failure::Dns(format!("{host}: no address")));
        }
        if found.iter().any(|a| !public(a.ip())) {
            return Err(Failure::Refused(format!(
                "to `{url}`: `{host}` resolves to a loopback or private address (`[watch] allow_private` is off)"
            )));
        }
        Ok(())
    }

    fn allowed_ip(&self, ip: IpAddr) -> bool {
        self.allow_private || public(ip)
    }
}

fn failed(failure: Failure) -> Fetched {
    Fetched {
        observation: Observation {
            final_url: None,
            outcome: Outcome::Failed(failure),
        },
        retry_after: None,
    }
}

/// `a -> b -> a`, for a loop's message.
fn chain(urls: &[Url]) -> String {
    urls.iter()
        .map(Url::as_str)
        .collect::<Vec<_>>()
        .join(" -> ")
}

fn text_header(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
}

/// `Retry-After` in seconds or as an HTTP date, from the response's own
/// `Date` (no clock read here).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(header::RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let now =
        chrono::DateTime::parse_from_rfc2822(headers.get(header::DATE)?.to_str().ok()?).ok()?;
    (at - now).to_std().ok()
}

/// What a body shows: the visible text of HTML, plain text as it is, the
/// bytes of anything else (a PDF) by their fingerprint alone.
pub fn content(content_type: Option<&str>, body: &[u8], cut: bool) -> Content {
    let kind = content_type.unwrap_or("").to_ascii_lowercase();
    let sniffed_html = kind.is_empty()
        && body
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .is_some_and(|b| *b == b'<');
    let text = if kind.contains("html") || kind.contains("xml") || sniffed_html {
        Some(text::visible(&String::from_utf8_lossy(body)))
    } else if kind.starts_with("text/") {
        Some(text::plain(&String::from_utf8_lossy(body)))
    } else {
        None
    };
    match text {
        Some(t) => Content {
            fingerprint: text::fingerprint(t.as_bytes()),
            text: text::bounded(&t, super::TEXT_LIMIT).to_string(),
            cut,
        },
        None => Content {
            fingerprint: text::fingerprint(body),
            text: String::new(),
            cut,
        },
    }
}

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

/// The failure a client error stands for.
fn classify(e: reqwest::Error) -> Failure {
    if e.is_timeout() {
        return Failure::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    let mut innermost = e.to_string();
    while let Some(err) = source {
        if let Some(dns) = err.downcast_ref::<DnsError>() {
            return Failure::Dns(dns.to_string());
        }
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Failure::Tls(tls.to_string());
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                    return Failure::Tls(tls.to_string());
                }
                if let Some(dns) = inner.downcast_ref::<DnsError>() {
                    return Failure::Dns(dns.to_string());
                }
            }
            if io.kind() == std::io::ErrorKind::InvalidData {
                // rustls reports a peer that does not speak TLS this way.
                return Failure::Tls(io.to_string());
            }
        }
        innermost = err.to_string();
        // hyper-rustls reports a peer that hangs up mid-handshake as a
        // plain I/O error ("tls handshake eof").
        if innermost.to_ascii_lowercase().contains("tls handshake") {
            return Failure::Tls(innermost);
        }
        source = err.source();
    }
    if e.is_connect() {
        Failure::Connect(innermost)
    } else {
        Failure::Other(innermost)
    }
}

/// A host name that does not resolve, or only to addresses not allowed.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DnsError(String);

/// Resolves names with the system's resolver and drops the addresses not
/// allowed, so that no name (nor a redirect to one) reaches a loopback
/// or private address unless `[watch] allow_private` says so; the check
/// is on the address connected to, so a name that changes its answer
/// between checks cannot slip past it.
struct Resolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_string();
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await
                .map_err(|e| DnsError(format!("{host}: {e}")))?
                .collect();
            let kept: Vec<SocketAddr> = found
                .iter()
                .copied()
                .filter(|a| allow_private || public(a.ip()))
                .collect();
            if kept.is_empty() {
                let why = if found.is_empty() {
                    format!("{host}: no address")
                } else {
                    format!("{host} resolves only to loopback or private addresses (`[watch] allow_private` is off)")
                };
                return Err(Box::new(DnsError(why)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(kept.into_iter()) as reqwest::dns::Addrs)
        })
    }
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

    #[test]
    fn content_by_type() {
        let html = content(Some("text/html; charset=utf-8"), b"<p>A</p><p>B</p>", false);
        assert_eq!(html.text, "A\nB");
        let sniffed = content(None, b"  <html><p>A</p>", false);
        assert_eq!(sniffed.text, "A");
        let plain = content(Some("text/plain"), b"  a  b \n\n c", true);
        assert_eq!((plain.text.as_str(), plain.cut), ("a b\nc", true));
        let pdf = content(Some("application/pdf"), b"%PDF-1.7 ...", false);
        assert_eq!(pdf.text, "");
        assert_eq!(pdf.fingerprint, text::fingerprint(b"%PDF-1.7 ..."));
    }

    #[test]
    fn retry_after_in_seconds_or_as_a_date() {
        let mut h = HeaderMap::new();
        h.insert(header::RETRY_AFTER, "120".parse().unwrap());
        assert_eq!(retry_after(&h), Some(Duration::from_secs(120)));
        h.insert(
            header::RETRY_AFTER,
            "Wed, 21 Oct 2026 07:28:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), None, "a date needs the response's Date");
        h.insert(
            header::DATE,
            "Wed, 21 Oct 2026 07:27:00 GMT".parse().unwrap(),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_secs(60)));
    }
}
