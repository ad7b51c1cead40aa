use super::*;

#[test]
fn routes_are_told_apart_by_pattern() {
    for (path, route) in [
        ("/", Route::Index),
        ("/calendar.ics", Route::Calendar),
        ("/topics/torture.ics", Route::Topic),
        ("/mechanisms/upr.ics", Route::Mechanism),
        ("/deadlines/x.ics", Route::Deadline),
        ("/deadlines/x", Route::Deadline),
        ("/deadlines.json", Route::Json),
        ("/healthz", Route::Health),
        ("/metrics", Route::Metrics),
        ("/unsubscribe", Route::Unsubscribe),
        ("/wp-login.php", Route::Other),
        ("/calendar.ics/", Route::Other),
    ] {
        assert_eq!(Route::of(path), route, "{path}");
    }
}

#[test]
fn exposition() {
    let m = Metrics::default();
    let (one, two) = (m.request_counts(), m.request_counts());
    one.add(Route::Calendar, 200);
    one.add(Route::Calendar, 304);
    two.add(Route::Calendar, 304);
    two.add(Route::Topic, 404);
    one.add(Route::Other, 500);
    m.pass(Some(&Outcome {
        sent: 2,
        skipped: 1,
        send_times: vec![Duration::from_millis(3), Duration::from_millis(40)],
        ..Outcome::default()
    }));
    m.pass(None);
    m.git_fetch(true);
    m.git_fetch(false);
    m.git_fetch(false);
    let at = DateTime::parse_from_rfc3339("2026-11-23T12:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let mut watched = crate::watch::Report {
        mailed: 2,
        took: Duration::from_millis(1500),
        ..Default::default()
    };
    watched.outcomes.insert("2xx", 5);
    watched.outcomes.insert("error", 1);
    m.watch_pass(Some(&watched), at);
    m.watch_pass(None, at);
    let text = m.render(&Gauges {
        deadlines: 42,
        catalog_version: "abc123",
        reloads_ok: 3,
        reloads_failed: 1,
        last_reload: Some(at),
        degraded: true,
        started: at,
        cache_entries: 3,
        cache_bytes: 4096,
        cache_budget: 64 << 20,
        lead: &crate::state::lead::View {
            role: crate::state::lead::Role::Follower,
            term: Some(7),
            expires_at: Some(at),
            renewals: [5, 2, 1],
        },
    });
    // Only the lines with data; the full text is in the snapshot.
    let has = |line: &str| assert!(text.lines().any(|l| l == line), "{line}\n{text}");
    has("mechcal_http_requests_total{route=\"/calendar.ics\",code=\"2xx\"} 1");
    has("mechcal_leader 0");
    has("mechcal_lease_renewals_total{result=\"refused\"} 2");
    has("mechcal_http_requests_total{route=\"/calendar.ics\",code=\"304\"} 2");
    has("mechcal_http_requests_total{route=\"/topics/{topic}\",code=\"4xx\"} 1");
    has("mechcal_http_requests_total{route=\"other\",code=\"5xx\"} 1");
    has("mechcal_reminders_total{result=\"sent\"} 2");
    has("mechcal_reminder_pass_errors_total 1");
    has("mechcal_mail_send_seconds_bucket{le=\"0.005\"} 1");
    has("mechcal_mail_send_seconds_bucket{le=\"0.05\"} 2");
    has("mechcal_mail_send_seconds_count 2");
    has("mechcal_mail_send_seconds_sum 0.043");
    has("mechcal_git_fetches_total{result=\"failed\"} 2");
    has("mechcal_catalog_deadlines 42");
    has("mechcal_render_cache_bytes 4096");
    has("mechcal_catalog_degraded 1");
    has("mechcal_last_reload_time_seconds 1795435200");
    has("mechcal_watch_passes_total{result=\"ok\"} 1");
    has("mechcal_watch_passes_total{result=\"failed\"} 1");
    has("mechcal_watch_checks_total{answer=\"2xx\"} 5");
    has("mechcal_watch_checks_total{answer=\"error\"} 1");
    has("mechcal_watch_problems{kind=\"gone\"} 0");
    has("mechcal_watch_alerts_mailed_total 2");
    has("mechcal_watch_last_pass_duration_seconds 1.5");
    // Every sample belongs to a family announced before it.
    let mut declared = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            declared.insert(rest.split(' ').next().unwrap().to_string());
        } else if !line.starts_with('#') {
            let name = line.split(['{', ' ']).next().unwrap();
            let family = name
                .strip_suffix("_bucket")
                .or(name.strip_suffix("_sum"))
                .or(name.strip_suffix("_count"))
                .filter(|f| declared.contains(*f))
                .unwrap_or(name);
            assert!(declared.contains(family), "{line}");
        }
    }
    insta::assert_snapshot!(text.replace(env!("CARGO_PKG_VERSION"), "VERSION"));
}
