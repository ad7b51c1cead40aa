//! Counters for `/metrics` (Prometheus text format, version 0.0.4).
//!
//! Counting is a relaxed atomic add on the request path; the text is made
//! only when `/metrics` is asked for. Gauges that describe the served data
//! (catalog size and version, reloads) are read from the snapshot and the
//! health record at that moment, so they cannot drift from `/healthz`.
//!
//! Files: this one (requests, connections, reminders, git, the text);
//! `watch` (the watch passes' counters and their families).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::reminders::Outcome;

mod watch;

/// The routes requests are counted by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    Index,
    Calendar,
    Topic,
    Mechanism,
    Deadline,
    Json,
    Health,
    Metrics,
    Unsubscribe,
    /// The sign-up form and its confirmation.
    Subscribe,
    /// The preference page.
    Manage,
    Other,
}

impl Route {
    const ALL: [Route; 12] = [
        Route::Index,
        Route::Calendar,
        Route::Topic,
        Route::Mechanism,
        Route::Deadline,
        Route::Json,
        Route::Health,
        Route::Metrics,
        Route::Unsubscribe,
        Route::Subscribe,
        Route::Manage,
        Route::Other,
    ];

    /// The route a request path belongs to.
    pub fn of(path: &str) -> Route {
        match path {
            "/" => Route::Index,
            "/calendar.ics" => Route::Calendar,
            "/deadlines.json" => Route::Json,
            "/healthz" => Route::Health,
            "/metrics" => Route::Metrics,
            "/unsubscribe" => Route::Unsubscribe,
            "/subscribe" | "/subscribe/confirm" => Route::Subscribe,
            "/manage" => Route::Manage,
            p if p.starts_with("/topics/") => Route::Topic,
            p if p.starts_with("/mechanisms/") => Route::Mechanism,
            p if p.starts_with("/deadlines/") => Route::Deadline,
            _ => Route::Other,
        }
    }

    /// The `route` label: the route's pattern, not the path asked for
    /// (which would make one series per URL anyone cares to try).
    fn label(self) -> &'static str {
        match self {
            Route::Index => "/",
            Route::Calendar => "/calendar.ics",
            Route::Topic => "/topics/{topic}",
            Route::Mechanism => "/mechanisms/{mechanism}",
            Route::Deadline => "/deadlines/{id}",
            Route::Json => "/deadlines.json",
            Route::Health => "/healthz",
            Route::Metrics => "/metrics",
            Route::Unsubscribe => "/unsubscribe",
            Route::Subscribe => "/subscribe",
            Route::Manage => "/manage",
            Route::Other => "other",
        }
    }
}

/// Response classes; 304 apart, since revalidation is most of a feed's traffic.
const CODES: [&str; 5] = ["2xx", "304", "3xx", "4xx", "5xx"];

fn code_index(status: u16) -> usize {
    match status {
        304 => 1,
        200..=299 => 0,
        300..=399 => 2,
        400..=499 => 3,
        _ => 4,
    }
}

/// Upper bounds (seconds) of the mail hand-over histogram.
const SEND_BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 5.0, 30.0];

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; SEND_BUCKETS.len()],
    count: AtomicU64,
    sum_micros: AtomicU64,
}

impl Histogram {
    fn observe(&self, d: Duration) {
        let secs = d.as_secs_f64();
        for (bound, bucket) in SEND_BUCKETS.iter().zip(&self.buckets) {
            if secs <= *bound {
                bucket.fetch_add(1, Relaxed);
            }
        }
        self.count.fetch_add(1, Relaxed);
        self.sum_micros
            .fetch_add(u64::try_from(d.as_micros()).unwrap_or(u64::MAX), Relaxed);
    }
}

/// Request counts of one server thread. Each thread adds to its own, so
/// that counting costs no cache-line traffic between cores; a scrape sums
/// them.
#[derive(Default)]
pub struct RequestCounts([[AtomicU64; CODES.len()]; Route::ALL.len()]);

impl RequestCounts {
    pub fn add(&self, route: Route, status: u16) {
        self.0[route as usize][code_index(status)].fetch_add(1, Relaxed);
    }
}

/// Process-wide counters.
#[derive(Default)]
pub struct Metrics {
    requests: std::sync::Mutex<Vec<Arc<RequestCounts>>>,
    connections_open: AtomicI64,
    connections: AtomicU64,
    /// Connections hyper closed with an error: header timeouts, write
    /// timeouts, malformed requests, resets.
    connection_errors: AtomicU64,
    header_timeouts: AtomicU64,
    connections_refused: AtomicU64,
    reminders_sent: AtomicU64,
    reminders_failed: AtomicU64,
    reminders_skipped: AtomicU64,
    reminders_deferred: AtomicU64,
    reminders_held: AtomicU64,
    reminder_passes: AtomicU64,
    reminder_pass_errors: AtomicU64,
    mail_send: Histogram,
    git_fetches_ok: AtomicU64,
    git_fetches_failed: AtomicU64,
    watch: std::sync::Mutex<watch::WatchCounts>,
}

/// What the served data looks like at the moment of a scrape.
pub struct Gauges<'a> {
    pub deadlines: usize,
    pub catalog_version: &'a str,
    pub reloads_ok: u64,
    pub reloads_failed: u64,
    pub last_reload: Option<DateTime<Utc>>,
    pub degraded: bool,
    pub started: DateTime<Utc>,
    /// Renderings cached, and the bytes counted against `[server] cache_mib`.
    pub cache_entries: usize,
    pub cache_bytes: usize,
    pub cache_budget: usize,
    /// Whether this process leads, and its lease renewals by result.
    pub lead: &'a crate::state::lead::View,
}

impl Metrics {
    /// Counts for one more server thread.
    pub fn request_counts(&self) -> Arc<RequestCounts> {
        let counts = Arc::<RequestCounts>::default();
        if let Ok(mut all) = self.requests.lock() {
            all.push(counts.clone());
        }
        counts
    }

    fn requests(&self, route: Route, code: usize) -> u64 {
        self.requests.lock().map_or(0, |all| {
            all.iter()
                .map(|c| c.0[route as usize][code].load(Relaxed))
                .sum()
        })
    }

    pub fn connection_opened(&self) {
        self.connections.fetch_add(1, Relaxed);
        self.connections_open.fetch_add(1, Relaxed);
    }

    pub fn connection_closed(&self) {
        self.connections_open.fetch_sub(1, Relaxed);
    }

    /// A connection closed at once: its client held its share already.
    pub fn connection_refused(&self) {
        self.connections_refused.fetch_add(1, Relaxed);
    }

    pub fn connection_failed(&self, e: &hyper::Error) {
        self.connection_errors.fetch_add(1, Relaxed);
        if e.is_timeout() {
            self.header_timeouts.fetch_add(1, Relaxed);
        }
    }

    /// Adds up a reminder pass.
    pub fn pass(&self, outcome: Option<&Outcome>) {
        self.reminder_passes.fetch_add(1, Relaxed);
        let Some(o) = outcome else {
            self.reminder_pass_errors.fetch_add(1, Relaxed);
            return;
        };
        let n = |x: usize| x as u64;
        self.reminders_sent.fetch_add(n(o.sent), Relaxed);
        self.reminders_failed.fetch_add(n(o.failed), Relaxed);
        self.reminders_skipped.fetch_add(n(o.skipped), Relaxed);
        self.reminders_deferred.fetch_add(n(o.deferred), Relaxed);
        self.reminders_held.fetch_add(n(o.held), Relaxed);
        for t in &o.send_times {
            self.mail_send.observe(*t);
        }
    }

    pub fn git_fetch(&self, ok: bool) {
        if ok {
            self.git_fetches_ok.fetch_add(1, Relaxed);
        } else {
            self.git_fetches_failed.fetch_add(1, Relaxed);
        }
    }

    /// The exposition text.
    // Over 100 lines: one block per metric family in exposition order, so it reads against the book's list (docs/src/operators/metrics.md).
    pub fn render(&self, g: &Gauges<'_>) -> String {
        let mut out = String::with_capacity(4096);
        fn head(out: &mut String, name: &str, kind: &str, help: &str) {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
        }
        let time = |t: Option<DateTime<Utc>>| t.map_or(0, |t| t.timestamp());

        head(
            &mut out,
            "mechcal_build_info",
            "gauge",
            "The running version.",
        );
        let _ = writeln!(
            out,
            "mechcal_build_info{{version=\"{}\"}} 1",
            env!("CARGO_PKG_VERSION")
        );
        head(
            &mut out,
            "mechcal_start_time_seconds",
            "gauge",
            "When the server started (Unix time).",
        );
        let _ = writeln!(out, "mechcal_start_time_seconds {}", g.started.timestamp());

        head(
            &mut out,
            "mechcal_catalog_deadlines",
            "gauge",
            "Deadlines in the served catalog.",
        );
        let _ = writeln!(out, "mechcal_catalog_deadlines {}", g.deadlines);
        head(
            &mut out,
            "mechcal_render_cache_entries",
            "gauge",
            "Renderings in the cache.",
        );
        let _ = writeln!(out, "mechcal_render_cache_entries {}", g.cache_entries);
        head(
            &mut out,
            "mechcal_render_cache_bytes",
            "gauge",
            "Bytes the cached renderings (and those under way) hold.",
        );
        let _ = writeln!(out, "mechcal_render_cache_bytes {}", g.cache_bytes);
        head(
            &mut out,
            "mechcal_render_cache_budget_bytes",
            "gauge",
            "The cache's bound ([server] cache_mib).",
        );
        let _ = writeln!(out, "mechcal_render_cache_budget_bytes {}", g.cache_budget);
        head(
            &mut out,
            "mechcal_catalog_info",
            "gauge",
            "The served catalog's version (a hash of its content).",
        );
        let _ = writeln!(
            out,
            "mechcal_catalog_info{{version=\"{}\"}} 1",
            g.catalog_version
        );
        head(
            &mut out,
            "mechcal_catalog_degraded",
            "gauge",
            "1 while the data on disk is invalid and the last good catalog is served.",
        );
        let _ = writeln!(out, "mechcal_catalog_degraded {}", u8::from(g.degraded));
        head(
            &mut out,
            "mechcal_reloads_total",
            "counter",
            "Reloads of the deadline data and config, by result.",
        );
        let _ = writeln!(
            out,
            "mechcal_reloads_total{{result=\"ok\"}} {}",
            g.reloads_ok
        );
        let _ = writeln!(
            out,
            "mechcal_reloads_total{{result=\"failed\"}} {}",
            g.reloads_failed
        );
        head(
            &mut out,
            "mechcal_last_reload_time_seconds",
            "gauge",
            "When the data was last reloaded (Unix time; 0: not since start).",
        );
        let _ = writeln!(
            out,
            "mechcal_last_reload_time_seconds {}",
            time(g.last_reload)
        );

        head(
            &mut out,
            "mechcal_http_requests_total",
            "counter",
            "HTTP requests by route and response class (304: not modified).",
        );
        for route in Route::ALL {
            for (i, code) in CODES.iter().enumerate() {
                let n = self.requests(route, i);
                let _ = writeln!(
                    out,
                    "mechcal_http_requests_total{{route=\"{}\",code=\"{code}\"}} {n}",
                    route.label()
                );
            }
        }
        head(
            &mut out,
            "mechcal_http_connections_open",
            "gauge",
            "HTTP connections open now.",
        );
        let _ = writeln!(
            out,
            "mechcal_http_connections_open {}",
            self.connections_open.load(Relaxed).max(0)
        );
        head(
            &mut out,
            "mechcal_http_connections_total",
            "counter",
            "HTTP connections accepted.",
        );
        let _ = writeln!(
            out,
            "mechcal_http_connections_total {}",
            self.connections.load(Relaxed)
        );
        head(
            &mut out,
            "mechcal_http_connection_errors_total",
            "counter",
            "Connections closed on an error: timeouts, malformed requests, resets.",
        );
        let _ = writeln!(
            out,
            "mechcal_http_connection_errors_total {}",
            self.connection_errors.load(Relaxed)
        );
        head(
            &mut out,
            "mechcal_http_header_timeouts_total",
            "counter",
            "Connections closed because a request head did not arrive in time.",
        );
        let _ = writeln!(
            out,
            "mechcal_http_header_timeouts_total {}",
            self.header_timeouts.load(Relaxed)
        );
        head(
            &mut out,
            "mechcal_http_connections_refused_total",
            "counter",
            "Connections closed at once: their client held `max_connections_per_client` already.",
        );
        let _ = writeln!(
            out,
            "mechcal_http_connections_refused_total {}",
            self.connections_refused.load(Relaxed)
        );

        head(
            &mut out,
            "mechcal_reminders_total",
            "counter",
            "Reminder messages by outcome.",
        );
        for (result, n) in [
            ("sent", &self.reminders_sent),
            ("failed", &self.reminders_failed),
            ("skipped", &self.reminders_skipped),
            ("deferred", &self.reminders_deferred),
            ("held", &self.reminders_held),
        ] {
            let _ = writeln!(
                out,
                "mechcal_reminders_total{{result=\"{result}\"}} {}",
                n.load(Relaxed)
            );
        }
        head(
            &mut out,
            "mechcal_leader",
            "gauge",
            "1 while this process leads (runs reminder and watch passes, alerts); always 1 on SQLite.",
        );
        let _ = writeln!(
            out,
            "mechcal_leader {}",
            u8::from(g.lead.role == crate::state::lead::Role::Leader)
        );
        head(
            &mut out,
            "mechcal_lease_renewals_total",
            "counter",
            "Claims and renewals of the lead among replicas on PostgreSQL, by result.",
        );
        for (result, n) in ["ok", "refused", "error"].iter().zip(g.lead.renewals) {
            let _ = writeln!(
                out,
                "mechcal_lease_renewals_total{{result=\"{result}\"}} {n}"
            );
        }
        head(
            &mut out,
            "mechcal_reminder_passes_total",
            "counter",
            "Reminder passes run.",
        );
        let _ = writeln!(
            out,
            "mechcal_reminder_passes_total {}",
            self.reminder_passes.load(Relaxed)
        );
        head(
            &mut out,
            "mechcal_reminder_pass_errors_total",
            "counter",
            "Reminder passes that stopped on an error (state database, transport set-up).",
        );
        let _ = writeln!(
            out,
            "mechcal_reminder_pass_errors_total {}",
            self.reminder_pass_errors.load(Relaxed)
        );
        head(
            &mut out,
            "mechcal_mail_send_seconds",
            "histogram",
            "Time to hand one message to the mail transport (the SMTP exchange), failures included.",
        );
        for (bound, bucket) in SEND_BUCKETS.iter().zip(&self.mail_send.buckets) {
            let _ = writeln!(
                out,
                "mechcal_mail_send_seconds_bucket{{le=\"{bound}\"}} {}",
                bucket.load(Relaxed)
            );
        }
        let count = self.mail_send.count.load(Relaxed);
        let _ = writeln!(
            out,
            "mechcal_mail_send_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let _ = writeln!(
            out,
            "mechcal_mail_send_seconds_sum {}",
            self.mail_send.sum_micros.load(Relaxed) as f64 / 1e6
        );
        let _ = writeln!(out, "mechcal_mail_send_seconds_count {count}");

        head(
            &mut out,
            "mechcal_git_fetches_total",
            "counter",
            "Fetches of `[data.git]`, by result.",
        );
        let _ = writeln!(
            out,
            "mechcal_git_fetches_total{{result=\"ok\"}} {}",
            self.git_fetches_ok.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "mechcal_git_fetches_total{{result=\"failed\"}} {}",
            self.git_fetches_failed.load(Relaxed)
        );
        if let Ok(w) = self.watch.lock() {
            w.render(&mut out, head);
        }
        out
    }
}

#[cfg(test)]
mod tests;
