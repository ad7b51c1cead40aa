//! `[watch]`, read for [`Config::parse`]: checking deadlines' `url` and
//! `source` pages for dead links and changes.

use std::time::Duration;

use super::*;
use crate::load::tables::{self, Sink, Table};

/// Reads `[watch]` into `out`.
pub(super) fn watch(sink: &mut Sink<'_>, t: &Table<'_, '_>, out: &mut WatchConfig) {
    t.check_keys(sink, keys::WATCH);
    for (key, slot) in [
        ("enabled", &mut out.enabled),
        ("allow_private", &mut out.allow_private),
    ] {
        if let Some(v) = t.get(key) {
            if let Some(b) = tables::as_bool(sink, &format!("`{key}`"), v) {
                *slot = b;
            }
        }
    }
    let spans = [
        (
            "interval",
            &mut out.interval,
            MIN_INTERVAL,
            MAX_INTERVAL,
            "\"6h\"",
        ),
        (
            "timeout",
            &mut out.timeout,
            Duration::from_secs(1),
            Duration::from_secs(300),
            "\"30s\"",
        ),
        (
            "host_delay",
            &mut out.host_delay,
            Duration::ZERO,
            Duration::from_secs(3600),
            "\"2s\"",
        ),
    ];
    for (key, slot, min, max, example) in spans {
        let Some(v) = t.get(key) else { continue };
        match span(v.get_ref()) {
            Some(d) if (min..=max).contains(&d) => *slot = d,
            _ => {
                sink.error(
                    v.span(),
                    format!(
                        "`{key}` must be a duration between {} and {}",
                        show(min),
                        show(max)
                    ),
                )
                .help = Some(format!(
                    "a number with `ms`, `s`, `m`, `h` or `d`, e.g. `{key} = {example}`"
                ));
            }
        }
    }
    if let Some(n) = super::parse::bounded(sink, t, "max_body_kib", 16, 65_536) {
        out.max_body = (n as usize) << 10;
    }
    if let Some(n) = super::parse::bounded(sink, t, "hosts_at_once", 1, 64) {
        out.hosts_at_once = n as usize;
    }
    if let Some(n) = super::parse::bounded(sink, t, "failures", 1, 100) {
        out.failures = n as u32;
    }
    if let Some(v) = t.optional_str(sink, "contact") {
        let c = v.get_ref().trim();
        if c.parse::<lettre::Address>().is_ok() || is_web_link(c) {
            out.contact = Some(c.to_string());
        } else {
            sink.error(
                v.span(),
                format!("`contact` must be an e-mail address or an http(s) link, not `{c}`"),
            )
            .help = Some("site owners read it in the User-Agent to reach you, e.g. `contact = \"calendar-team@example.org\"`".into());
        }
    }
    if let Some(v) = t.optional_str(sink, "proxy") {
        let p = v.get_ref().trim();
        match url::Url::parse(p) {
            Ok(u)
                if matches!(u.scheme(), "http" | "https" | "socks5" | "socks5h")
                    && u.host_str().is_some_and(|h| !h.is_empty()) =>
            {
                out.proxy = Some(p.to_string());
            }
            _ => {
                sink.error(
                    v.span(),
                    format!("`proxy` must be an http(s) or SOCKS5 proxy URL, not `{p}`"),
                )
                .help = Some("e.g. `proxy = \"socks5h://127.0.0.1:9050\"` (Tor; `socks5h` resolves names through the proxy) or `\"http://proxy.example.org:3128\"`".into());
            }
        }
    }
    if out.enabled && out.contact.is_none() {
        let span = t.key_span("enabled").unwrap_or(0..0);
        sink.error(span, "`[watch]` needs a `contact` to name in its User-Agent")
            .help = Some("add `contact = \"calendar-team@example.org\"` (or a page's https link): site owners whose pages are checked can reach you".into());
    }
}

fn is_web_link(s: &str) -> bool {
    url::Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
}

/// `"250ms"`, `"30s"`, `"5m"`, `"6h"`, `"1d"`, or a number of seconds.
fn span(v: &toml::de::DeValue<'_>) -> Option<Duration> {
    super::parse::duration(
        v,
        &[
            ("ms", 1),
            ("", 1000),
            ("s", 1000),
            ("m", 60_000),
            ("h", 3_600_000),
            ("d", 86_400_000),
        ],
    )
}

/// A duration as staff write it: `250ms`, `30s`, `5m`, `6h`, `7d`.
pub fn show(d: Duration) -> String {
    let ms = d.as_millis();
    for (unit, size) in [
        ("d", 86_400_000),
        ("h", 3_600_000),
        ("m", 60_000),
        ("s", 1000),
    ] {
        if ms >= size && ms.is_multiple_of(size) {
            return format!("{}{unit}", ms / size);
        }
    }
    format!("{ms}ms")
}
