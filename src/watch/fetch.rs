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

use super::address::{internal_name, public};
use super::judge::{Content, Failure, Observation, Outcome};
use super::{charset, text};
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

pub use crate::state::records::Validators;

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
        Some(text::visible(&charset::decode(content_type, body, true).0))
    } else if kind.starts_with("text/") {
        Some(text::plain(&charset::decode(content_type, body, false).0))
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

    /// A windows-1251 page reads as its Cyrillic text, whether the header
    /// or a `<meta>` says so; the same text gives the same fingerprint.
    #[test]
    fn a_windows_1251_page_reads_as_text() {
        let body = |head: &str| {
            let mut b = head.as_bytes().to_vec();
            b.extend(
                encoding_rs::WINDOWS_1251
                    .encode("<p>Срок подачи: 1 мая&nbsp;2027 &laquo;УПО&raquo;</p>")
                    .0
                    .iter(),
            );
            b
        };
        let by_header = content(Some("text/html; charset=windows-1251"), &body(""), false);
        let by_meta = content(
            Some("text/html"),
            &body("<head><meta charset=\"windows-1251\"></head>"),
            false,
        );
        assert_eq!(by_header.text, "Срок подачи: 1 мая 2027 «УПО»");
        assert_eq!(by_meta.text, by_header.text);
        assert_eq!(by_meta.fingerprint, by_header.fingerprint);
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
