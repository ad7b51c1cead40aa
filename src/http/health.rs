//! `/healthz` (what is degraded and since when; details only for those
//! allowed to see them) and `/metrics`.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};

use super::{App, Peer};

/// What `/healthz` reports.
#[derive(Clone, Debug, Default)]
pub struct Health {
    /// Set while the deadline data on disk is invalid and the last good
    /// catalog is being served.
    pub data: Option<Degraded>,
    /// Set while the config file (or the subscribers file it names) read at
    /// the last reload was invalid and the previous config goes on running.
    pub config: Option<Degraded>,
    /// Set while fetching or fast-forwarding `[data.git]` fails.
    pub git: Option<Degraded>,
    /// Set while reminders cannot run under the config in service (an
    /// unreadable password after a reload, say).
    pub reminders: Option<Degraded>,
    pub last_reload: Option<DateTime<Utc>>,
    pub reloads_ok: u64,
    pub reloads_failed: u64,
}

impl Health {
    /// Each current problem with its source (`data`, `config`, `git`,
    /// `reminders`).
    pub fn problems(&self) -> impl Iterator<Item = (&'static str, &Degraded)> {
        [
            ("data", &self.data),
            ("config", &self.config),
            ("git", &self.git),
            ("reminders", &self.reminders),
        ]
        .into_iter()
        .filter_map(|(what, d)| d.as_ref().map(|d| (what, d)))
    }

    pub fn is_degraded(&self) -> bool {
        self.problems().next().is_some()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Degraded {
    pub since: DateTime<Utc>,
    /// Each diagnostic as `check` prints it.
    pub diagnostics: Vec<String>,
}

impl Degraded {
    /// `diagnostics` from `now` on, or since the earlier report when it
    /// said the same.
    pub fn update(slot: &mut Option<Degraded>, diagnostics: Vec<String>, now: DateTime<Utc>) {
        let since = match slot {
            Some(d) if d.diagnostics == diagnostics => d.since,
            _ => now,
        };
        *slot = Some(Degraded { since, diagnostics });
    }
}

pub(super) async fn metrics(
    State(app): State<Arc<App>>,
    uri: axum::http::Uri,
    peer: Option<axum::Extension<Peer>>,
    headers: HeaderMap,
) -> Response {
    let snap = app.snapshot();
    if !sees_details(snap.config.server.metrics, peer.map(|p| p.0), &headers) {
        return super::pages::not_found(uri).await;
    }
    let health = app.health();
    let version = snap.catalog.version().to_string();
    let body = app.metrics.render(&crate::metrics::Gauges {
        deadlines: snap.catalog.deadlines().len(),
        catalog_version: &version,
        reloads_ok: health.reloads_ok,
        reloads_failed: health.reloads_failed,
        last_reload: health.last_reload,
        degraded: health.is_degraded(),
        started: app.started,
        cache_entries: app.cached(),
        cache_bytes: app.cached_bytes(),
        cache_budget: snap.config.server.cache_bytes,
        lead: &app.lead.view(),
    });
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

/// Whether a `/healthz` request may see the diagnostics: they name files,
/// lines and values of the repository and the config, which is staff's
/// business, not the public's.
pub(super) fn sees_details(
    setting: crate::load::config::HealthDetails,
    peer: Option<Peer>,
    headers: &HeaderMap,
) -> bool {
    use crate::load::config::HealthDetails;
    match setting {
        HealthDetails::Everyone => true,
        HealthDetails::Nobody => false,
        HealthDetails::Loopback => {
            // A reverse proxy on this host connects from loopback too; the
            // headers it adds tell its requests apart.
            let proxied = ["forwarded", "x-forwarded-for", "x-real-ip"]
                .iter()
                .any(|h| headers.contains_key(*h));
            peer.is_some_and(|p| p.0.to_canonical().is_loopback()) && !proxied
        }
    }
}

pub(super) async fn healthz(
    State(app): State<Arc<App>>,
    peer: Option<axum::Extension<Peer>>,
    headers: HeaderMap,
) -> Response {
    let snap = app.snapshot();
    let health = app.health();
    let time = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let details = sees_details(
        snap.config.server.health_details,
        peer.map(|p| p.0),
        &headers,
    );
    let diagnostics: Vec<&String> = if details {
        health
            .problems()
            .flat_map(|(_, d)| d.diagnostics.iter())
            .collect()
    } else {
        Vec::new()
    };
    let lead = app.lead.view();
    let body = serde_json::json!({
        "status": if health.is_degraded() { "degraded" } else { "ok" },
        "degraded": health.problems().map(|(what, _)| what).collect::<Vec<_>>(),
        "deadlines": snap.catalog.deadlines().len(),
        "catalog_version": snap.catalog.version().to_string(),
        "last_reload": health.last_reload.map(time),
        "reloads_ok": health.reloads_ok,
        "reloads_failed": health.reloads_failed,
        "degraded_since": health.problems().map(|(_, d)| d.since).min().map(time),
        "diagnostics": diagnostics,
        "diagnostics_shown": details,
        "role": lead.role.as_str(),
        "lease": lead.term.map(|term| serde_json::json!({
            "term": term,
            "expires_at": lead.expires_at.map(time),
        })),
    });
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        format!("{body}\n"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::config::HealthDetails;
    use axum::http::HeaderValue;

    #[test]
    fn who_sees_health_details() {
        let peer = |s: &str| Some(Peer(s.parse().unwrap()));
        let mut proxied = HeaderMap::new();
        proxied.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        let mut forwarded = HeaderMap::new();
        forwarded.insert("forwarded", HeaderValue::from_static("for=203.0.113.9"));
        let none = HeaderMap::new();
        let cases = [
            (HealthDetails::Loopback, peer("127.0.0.1"), &none, true),
            (HealthDetails::Loopback, peer("::1"), &none, true),
            (
                HealthDetails::Loopback,
                peer("::ffff:127.0.0.1"),
                &none,
                true,
            ),
            (HealthDetails::Loopback, peer("127.0.0.1"), &proxied, false),
            (
                HealthDetails::Loopback,
                peer("127.0.0.1"),
                &forwarded,
                false,
            ),
            (HealthDetails::Loopback, peer("192.0.2.7"), &none, false),
            (HealthDetails::Loopback, None, &none, false),
            (HealthDetails::Everyone, peer("192.0.2.7"), &proxied, true),
            (HealthDetails::Nobody, peer("127.0.0.1"), &none, false),
        ];
        for (setting, peer, headers, expected) in cases {
            assert_eq!(
                sees_details(setting, peer, headers),
                expected,
                "{setting:?} {peer:?} {headers:?}"
            );
        }
    }
}
