//! The HTTP server on a real loopback port, driven with reqwest: every route,
//! filter, 404/400, ETag/304, HEAD, gzip, validators that only move forward,
//! and the static export's bytes.

mod caching;
mod pages;
mod unsubscribe;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use mechcal::http::{self, App, Snapshot};
use mechcal::load::config::Config;
use mechcal::state::Database;
use reqwest::header::{
    ACCEPT_ENCODING, ACCEPT_LANGUAGE, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG,
    IF_MODIFIED_SINCE, IF_NONE_MATCH, LAST_MODIFIED,
};
use reqwest::StatusCode;

use crate::support as common;
use common::{copy_dir, root};

const NOW: &str = "2026-11-23T12:00:00Z";

fn now() -> DateTime<Utc> {
    NOW.parse().unwrap()
}

fn config(state: &Path) -> Config {
    let mut config = Config::load(&root().join("config/mechcal.toml")).unwrap();
    config.state.path = state.to_path_buf();
    config
}

/// A snapshot of `deadlines` synced into the state database at `at`.
fn snapshot(config: &Config, deadlines: &Path, at: DateTime<Utc>) -> Snapshot {
    let loaded = mechcal::load::deadlines::load(
        deadlines,
        config.data.max_bytes,
        config.calendar.timezone,
        config.calendar.window(at),
    );
    let catalog = loaded.catalog.expect("valid data");
    let versions = Database::open(&config.state.path)
        .unwrap()
        .sync(&catalog, &config.render_fingerprint(), at)
        .unwrap();
    Snapshot {
        catalog: Arc::new(catalog),
        versions,
        config: Arc::new(config.clone()),
        signup: None,
    }
}

struct Server {
    base: String,
    app: Arc<App>,
    client: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Server {
    async fn start(snapshot: Snapshot) -> Server {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = App::new(snapshot, Arc::new(now));
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let served = app.clone();
        tokio::spawn(async move {
            http::serve(listener, served, http::Limits::default(), async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        crate::support::rustls_provider();
        Server {
            base: format!("http://{addr}"),
            app,
            // A plain client: these tests ask for gzip themselves and read
            // what the server sends (reqwest's gzip is on for `[watch]`).
            client: reqwest::Client::builder().no_gzip().build().unwrap(),
            _stop: tx,
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .unwrap()
    }

    async fn get_with(
        &self,
        path: &str,
        headers: &[(reqwest::header::HeaderName, &str)],
    ) -> reqwest::Response {
        let mut req = self.client.get(format!("{}{path}", self.base));
        for (k, v) in headers {
            req = req.header(k.clone(), *v);
        }
        req.send().await.unwrap()
    }
}

async fn sample_server() -> (tempfile::TempDir, Server) {
    let tmp = tempfile::tempdir().unwrap();
    let config = config(&tmp.path().join("state.sqlite"));
    let snap = snapshot(&config, &root().join("deadlines"), now());
    (tmp, Server::start(snap).await)
}

fn header(r: &reqwest::Response, name: reqwest::header::HeaderName) -> String {
    r.headers()
        .get(name)
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default()
}

fn uids(ics: &str) -> Vec<String> {
    ics.lines()
        .filter_map(|l| l.strip_prefix("UID:"))
        .filter(|u| !u.contains("-alarm@"))
        .map(|u| {
            u.trim_end()
                .trim_end_matches("@calendar.example.org")
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn every_route_answers_with_its_content_type() {
    let (_tmp, s) = sample_server().await;
    let cases = [
        ("/", "text/html; charset=utf-8"),
        ("/?lang=ru&topic=women", "text/html; charset=utf-8"),
        ("/calendar.ics", "text/calendar; charset=utf-8"),
        ("/topics/women.ics", "text/calendar; charset=utf-8"),
        ("/mechanisms/cedaw.ics", "text/calendar; charset=utf-8"),
        (
            "/deadlines/example-cedaw-alternative-report-2027.ics",
            "text/calendar; charset=utf-8",
        ),
        (
            "/deadlines/example-cedaw-alternative-report-2027",
            "text/html; charset=utf-8",
        ),
        (
            "/deadlines/upr-report-2025?lang=ru",
            "text/html; charset=utf-8",
        ),
        ("/deadlines.json", "application/json"),
        ("/deadlines.json?topic=women&lang=ru", "application/json"),
        ("/healthz", "application/json"),
    ];
    for (path, content_type) in cases {
        let r = s.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        assert_eq!(header(&r, CONTENT_TYPE), content_type, "{path}");
        assert!(!r.bytes().await.unwrap().is_empty(), "{path}");
    }
}

#[tokio::test]
async fn filters_select_the_right_events() {
    let (_tmp, s) = sample_server().await;
    let all = s.get("/calendar.ics").await.text().await.unwrap();
    // Within the 365-day window: the 6 examples (the cancelled one
    // included), the UPR example's 4 milestones, the open call (on the day
    // it opened), and 3 occurrences each of the 4 yearly dates.
    assert_eq!(uids(&all).len(), 6 + 4 + 1 + 12, "{all}");
    for uid in [
        "example-upr-review.submission",
        "example-upr-review.adoption",
        "example-open-call-testimonies",
        "crc-input-february-pre-session.2025",
        "crc-input-february-pre-session.2027",
        "odihr-hate-crime-report.2028",
    ] {
        assert!(uids(&all).contains(&uid.to_string()), "{uid}");
    }
    assert!(all.contains("STATUS:CANCELLED"));
    let women = s
        .get("/calendar.ics?topic=women")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(uids(&women), ["example-cedaw-alternative-report-2027"]);
    // Topics OR'ed.
    let either = s
        .get("/calendar.ics?topic=women&topic=hate-crime")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(
        uids(&either),
        [
            "odihr-hate-crime-report.2026",
            "example-cedaw-alternative-report-2027",
            "example-odihr-hate-crime-2027",
            "odihr-hate-crime-report.2027",
            "odihr-hate-crime-report.2028",
        ]
    );
    // Topics AND mechanisms.
    let both = s
        .get("/calendar.ics?topic=discrimination&mechanism=odihr-hate-crime")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(uids(&both), ["example-odihr-hate-crime-2027"]);
    assert!(both.replace("\r\n ", "").contains(
        "X-WR-CALNAME:Human-rights mechanisms: deadlines — ODIHR hate crime · Discrimination"
    ));
    // The slug routes equal the query form.
    let a = s.get("/topics/women.ics").await.text().await.unwrap();
    assert_eq!(a, women);
    // Language and alarms.
    let ru = s
        .get("/mechanisms/cedaw.ics?lang=ru&alarm=none")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        ru.contains("CATEGORIES:CEDAW,Женщины,Дискриминация"),
        "{ru}"
    );
    assert!(!ru.contains("BEGIN:VALARM"));
    let week = s
        .get("/mechanisms/cedaw.ics?alarm=P7D")
        .await
        .text()
        .await
        .unwrap();
    assert!(week.contains("TRIGGER:-P7D"));
    let default = s.get("/mechanisms/cedaw.ics").await.text().await.unwrap();
    assert!(default.contains("TRIGGER:-P1D"));
    // One event.
    let one = s
        .get("/deadlines/example-upr-stakeholder-submission-2027.ics")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(uids(&one), ["example-upr-stakeholder-submission-2027"]);
    assert!(one.contains("DTSTART:20270331T100000Z"));
    // JSON uses the same selection.
    let json: serde_json::Value = serde_json::from_slice(
        &s.get("/deadlines.json?topic=women&topic=hate-crime")
            .await
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    let ids: Vec<&str> = json["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        [
            "odihr-hate-crime-report.2026",
            "example-cedaw-alternative-report-2027",
            "example-odihr-hate-crime-2027",
            "odihr-hate-crime-report.2027",
            "odihr-hate-crime-report.2028",
        ]
    );
    assert_eq!(json["deadlines"][1]["due"]["kind"], "date");
    assert_eq!(
        json["deadlines"][1]["due"]["instant"],
        "2027-01-15T23:00:00Z"
    );
    // A yearly date's occurrence: its entry, year and rule.
    let d = &json["deadlines"][0];
    assert_eq!(
        (&d["entry"], &d["year"], &d["repeat"], &d["remind"]),
        (
            &serde_json::json!("odihr-hate-crime-report"),
            &serde_json::json!(2026),
            &serde_json::json!("yearly"),
            &serde_json::json!(true)
        )
    );
}

#[tokio::test]
async fn unknown_names_are_404_and_bad_queries_400() {
    let (_tmp, s) = sample_server().await;
    let cases = [
        (
            "/topics/womens.ics",
            StatusCode::NOT_FOUND,
            "unknown topic `womens`\ndid you mean `women`?\nvalid topics: civil-society,",
        ),
        (
            "/mechanisms/osce.ics",
            StatusCode::NOT_FOUND,
            "unknown mechanism `osce`\n",
        ),
        (
            "/calendar.ics?topic=nope",
            StatusCode::NOT_FOUND,
            "unknown topic `nope`",
        ),
        (
            "/calendar.ics?mechanism=cerdd",
            StatusCode::NOT_FOUND,
            "did you mean `cerd`?",
        ),
        (
            "/deadlines/no-such-id.ics",
            StatusCode::NOT_FOUND,
            "unknown deadline `no-such-id`",
        ),
        (
            "/deadlines/upr-report-2024",
            StatusCode::NOT_FOUND,
            "did you mean `upr-report-2025`?",
        ),
        (
            "/topics/women",
            StatusCode::NOT_FOUND,
            "feeds end in `.ics`",
        ),
        (
            "/nothing/here",
            StatusCode::NOT_FOUND,
            "not found: /nothing/here",
        ),
        (
            "/calendar.ics?lang=de",
            StatusCode::BAD_REQUEST,
            "unknown language `de`",
        ),
        (
            "/calendar.ics?alarm=soon",
            StatusCode::BAD_REQUEST,
            "`alarm=soon` is not a duration",
        ),
        (
            "/calendar.ics?lang=en&lang=ru",
            StatusCode::BAD_REQUEST,
            "`lang` is given twice",
        ),
        (
            "/calendar.ics?topics=women",
            StatusCode::BAD_REQUEST,
            "did you mean `topic`?",
        ),
        (
            "/topics/women.ics?topic=upr",
            StatusCode::BAD_REQUEST,
            "to combine filters, use /calendar.ics",
        ),
        (
            "/deadlines.json?alarm=P1D",
            StatusCode::BAD_REQUEST,
            "unknown query parameter `alarm`",
        ),
        (
            "/?alarm=P1D",
            StatusCode::BAD_REQUEST,
            "unknown query parameter `alarm`",
        ),
    ];
    for (path, status, text) in cases {
        let r = s.get(path).await;
        assert_eq!(r.status(), status, "{path}");
        assert_eq!(
            header(&r, CONTENT_TYPE),
            "text/plain; charset=utf-8",
            "{path}"
        );
        assert_eq!(
            header(&r, "x-content-type-options".parse().unwrap()),
            "nosniff",
            "{path}"
        );
        let body = r.text().await.unwrap();
        assert!(body.contains(text), "{path}: {body}");
    }
}

/// What an error quotes of the request is inert: control characters come
/// back escaped (no forged lines in a terminal or log viewer), markup is
/// plain text that browsers may not sniff as HTML.
#[tokio::test]
async fn error_bodies_quote_requests_inertly() {
    let (_tmp, s) = sample_server().await;
    for (path, quoted) in [
        (
            "/calendar.ics?topic=x%0D%0AX-Injected:%201%1B[2J",
            "unknown topic `x\\u{d}\\u{a}X-Injected: 1\\u{1b}[2J`",
        ),
        (
            "/calendar.ics?lang=%3Cscript%3Ealert(1)%3C/script%3E",
            "unknown language `<script>alert(1)</script>`",
        ),
    ] {
        let r = s.get(path).await;
        assert!(r.status().is_client_error(), "{path}");
        assert_eq!(header(&r, CONTENT_TYPE), "text/plain; charset=utf-8");
        assert_eq!(
            header(&r, "x-content-type-options".parse().unwrap()),
            "nosniff"
        );
        let body = r.text().await.unwrap();
        assert!(body.contains(quoted), "{path}: {body}");
        assert!(!body.contains('\r') && !body.contains('\u{1b}'), "{body:?}");
    }
}

#[tokio::test]
async fn no_input_yields_a_500() {
    let (_tmp, s) = sample_server().await;
    let long = format!("/calendar.ics?topic={}", "a".repeat(5000));
    let many = format!("/calendar.ics?{}", "topic=women&".repeat(100));
    let paths = [
        "/calendar.ics?%ff%fe=%00",
        "/calendar.ics?topic=%E2%82",
        "/calendar.ics?&&&=&",
        "/calendar.ics?alarm=P99999999999999999999D",
        "/calendar.ics?alarm=-P",
        "/topics/%2e%2e%2f%2e%2e%2fetc%2fpasswd.ics",
        "/deadlines/%00.ics",
        "/deadlines/..%2f..%2fCargo.toml",
        "/deadlines/%D0%B4%D0%BE%D0%BA%D0%BB%D0%B0%D0%B4",
        "/mechanisms/.ics",
        "/?lang=",
        "/deadlines.json?topic=",
        long.as_str(),
        many.as_str(),
    ];
    for path in paths {
        let r = s.get(path).await;
        assert!(
            r.status().is_client_error() || r.status().is_success(),
            "{path}: {}",
            r.status()
        );
    }
    let r = s
        .client
        .post(format!("{}/calendar.ics", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
}

/// `PT90M` as the feed writes it.
fn trigger(minutes: u32) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("PT{m}M"),
        (h, 0) => format!("PT{h}H"),
        (h, m) => format!("PT{h}H{m}M"),
    }
}
