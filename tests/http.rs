//! The HTTP server on a real loopback port, driven with reqwest: every route,
//! filter, 404/400, ETag/304, HEAD, gzip, validators that only move forward,
//! and the static export's bytes.

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

mod common;
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
    let loaded = mechcal::load::deadlines::load(deadlines, config.calendar.timezone);
    let catalog = loaded.catalog.expect("valid data");
    let versions = Database::open(&config.state.path)
        .unwrap()
        .sync(&catalog, &config.render_fingerprint(), at)
        .unwrap();
    Snapshot {
        catalog: Arc::new(catalog),
        versions,
        config: Arc::new(config.clone()),
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
        Server {
            base: format!("http://{addr}"),
            app,
            client: reqwest::Client::new(),
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
    // Within the 365-day window: the 6 examples (the cancelled one included).
    assert_eq!(uids(&all).len(), 6, "{all}");
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
            "example-cedaw-alternative-report-2027",
            "example-odihr-hate-crime-2027"
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
            "example-cedaw-alternative-report-2027",
            "example-odihr-hate-crime-2027"
        ]
    );
    assert_eq!(json["deadlines"][0]["due"]["kind"], "date");
    assert_eq!(
        json["deadlines"][0]["due"]["instant"],
        "2027-01-15T23:00:00Z"
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

/// Pages carry a policy that lets them load nothing but their own style,
/// and isolate staff's text so that right-to-left text cannot reorder it.
#[tokio::test]
async fn pages_carry_a_strict_policy_and_isolate_staff_text() {
    let (_tmp, s) = sample_server().await;
    for path in ["/", "/?lang=ru", "/deadlines/upr-report-2025"] {
        let r = s.get(path).await;
        assert_eq!(r.status(), StatusCode::OK, "{path}");
        let csp = header(&r, "content-security-policy".parse().unwrap());
        assert!(csp.starts_with("default-src 'none';"), "{path}: {csp}");
        assert!(
            !csp.contains("script-src") && !csp.contains("unsafe"),
            "{csp}"
        );
        assert!(csp.contains("style-src 'sha256-"), "{csp}");
        assert_eq!(
            header(&r, "x-content-type-options".parse().unwrap()),
            "nosniff"
        );
        let html = r.text().await.unwrap();
        assert!(html.contains("<bdi>"), "{path}");
        assert!(!html.contains("<script"), "{path}");
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

#[tokio::test]
async fn etag_last_modified_304_and_head() {
    let (_tmp, s) = sample_server().await;
    let r = s.get("/calendar.ics").await;
    let etag = header(&r, ETAG);
    let lm = header(&r, LAST_MODIFIED);
    let len = header(&r, CONTENT_LENGTH);
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && !etag.starts_with("W/"),
        "{etag}"
    );
    assert_eq!(lm, "Mon, 23 Nov 2026 12:00:00 GMT");
    assert_eq!(
        header(&r, reqwest::header::CACHE_CONTROL),
        "public, max-age=300"
    );
    let body = r.bytes().await.unwrap();
    assert_eq!(len, body.len().to_string());

    let r = s.get_with("/calendar.ics", &[(IF_NONE_MATCH, &etag)]).await;
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&r, ETAG), etag);
    assert!(r.bytes().await.unwrap().is_empty());
    let r = s
        .get_with("/calendar.ics", &[(IF_MODIFIED_SINCE, &lm)])
        .await;
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    let r = s
        .get_with(
            "/calendar.ics",
            &[(IF_NONE_MATCH, "\"stale\""), (IF_MODIFIED_SINCE, &lm)],
        )
        .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "If-None-Match wins over If-Modified-Since"
    );
    let r = s
        .get_with(
            "/calendar.ics",
            &[(IF_MODIFIED_SINCE, "Sun, 22 Nov 2026 12:00:00 GMT")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    // Another filter is another representation.
    let other = header(&s.get("/topics/women.ics").await, ETAG);
    assert_ne!(other, etag);

    // HEAD: same headers, no body.
    let r = s
        .client
        .head(format!("{}/calendar.ics", s.base))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(header(&r, ETAG), etag);
    assert_eq!(header(&r, CONTENT_LENGTH), len);
    assert!(r.bytes().await.unwrap().is_empty());
}

#[tokio::test]
async fn gzip_by_accept_encoding() {
    let (_tmp, s) = sample_server().await;
    let plain = s.get("/calendar.ics").await;
    let plain_etag = header(&plain, ETAG);
    let plain = plain.bytes().await.unwrap();
    let r = s
        .get_with("/calendar.ics", &[(ACCEPT_ENCODING, "gzip, deflate, br")])
        .await;
    assert_eq!(header(&r, CONTENT_ENCODING), "gzip");
    assert_eq!(header(&r, reqwest::header::VARY), "Accept-Encoding");
    let gz_etag = header(&r, ETAG);
    assert_ne!(gz_etag, plain_etag, "each encoding has its own strong ETag");
    let compressed = r.bytes().await.unwrap();
    assert!(
        compressed.len() < plain.len() / 2,
        "{} vs {}",
        compressed.len(),
        plain.len()
    );
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&compressed[..])
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out, plain);
    // Revalidating the gzip copy.
    let r = s
        .get_with(
            "/calendar.ics",
            &[(ACCEPT_ENCODING, "gzip"), (IF_NONE_MATCH, &gz_etag)],
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    let r = s
        .get_with("/calendar.ics", &[(ACCEPT_ENCODING, "gzip;q=0")])
        .await;
    assert_eq!(header(&r, CONTENT_ENCODING), "");
}

#[tokio::test]
async fn validators_only_move_forward_when_an_entry_is_deleted() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("deadlines");
    copy_dir(&root().join("deadlines"), &data);
    let config = config(&tmp.path().join("state.sqlite"));
    let t0: DateTime<Utc> = "2026-11-01T00:00:00Z".parse().unwrap();
    let t1: DateTime<Utc> = "2026-11-20T00:00:00Z".parse().unwrap();
    // The newest change: an edit to the last example at t1.
    let s = Server::start(snapshot(&config, &data, t0)).await;
    let file = data.join("examples/2026-2027.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("Shows a cancelled one.", "Shows a cancelled one (edited)."),
    )
    .unwrap();
    s.app.swap(snapshot(&config, &data, t1));
    let seen = s.get("/calendar.ics").await;
    let (etag, lm) = (header(&seen, ETAG), header(&seen, LAST_MODIFIED));
    assert_eq!(lm, "Fri, 20 Nov 2026 00:00:00 GMT");
    let seen_body = seen.text().await.unwrap();
    assert!(
        seen_body.contains("SEQUENCE:1"),
        "the edited entry's SEQUENCE grows"
    );

    // Delete the newest-changed entry at t2 (earlier than nothing else).
    let t2: DateTime<Utc> = "2026-11-21T00:00:00Z".parse().unwrap();
    let cut = text
        .find("[[deadline]]\nid = \"example-crpd-session-2027\"")
        .unwrap();
    std::fs::write(&file, &text[..cut]).unwrap();
    s.app.swap(snapshot(&config, &data, t2));
    let r = s.get_with("/calendar.ics", &[(IF_NONE_MATCH, &etag)]).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "a changed feed must not answer 304"
    );
    let r = s
        .get_with("/calendar.ics", &[(IF_MODIFIED_SINCE, &lm)])
        .await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "Last-Modified must move forward on deletion"
    );
    assert_eq!(header(&r, LAST_MODIFIED), "Sat, 21 Nov 2026 00:00:00 GMT");
    assert!(!r
        .text()
        .await
        .unwrap()
        .contains("example-crpd-session-2027"));
}

#[tokio::test]
async fn bytes_and_etags_are_stable_across_restarts_and_cached_once() {
    let tmp = tempfile::tempdir().unwrap();
    let config = config(&tmp.path().join("state.sqlite"));
    let first = Server::start(snapshot(&config, &root().join("deadlines"), now())).await;
    let a = first.get("/calendar.ics?topic=women&lang=ru").await;
    let (etag_a, body_a) = (header(&a, ETAG), a.bytes().await.unwrap());
    // A restart a day later with the same data and state: same bytes.
    let later: DateTime<Utc> = "2026-11-24T08:00:00Z".parse().unwrap();
    let second = Server::start(snapshot(&config, &root().join("deadlines"), later)).await;
    let b = second.get("/calendar.ics?topic=women&lang=ru").await;
    assert_eq!(header(&b, ETAG), etag_a);
    assert_eq!(b.bytes().await.unwrap(), body_a);

    // Many requests, one rendering per distinct resource.
    let before = second.app.cached();
    for _ in 0..20 {
        second.get("/calendar.ics?topic=women&lang=ru").await;
        second.get("/calendar.ics?lang=ru&topic=women").await;
    }
    assert_eq!(second.app.cached(), before);
}

#[tokio::test]
async fn pages_follow_language_and_show_subscribe_links() {
    let (_tmp, s) = sample_server().await;
    let ru = s
        .get_with("/", &[(ACCEPT_LANGUAGE, "ru-RU,ru;q=0.9,en;q=0.5")])
        .await
        .text()
        .await
        .unwrap();
    assert!(ru.contains("<html lang=\"ru\">"));
    assert!(ru.contains("Подписаться на этот календарь"));
    assert!(ru.contains("<h2>Декабрь 2026</h2>"));
    assert!(ru.contains("через 17 дней"));
    let en = s.get("/?topic=women").await.text().await.unwrap();
    assert!(en.contains("<html lang=\"en\">"));
    assert!(
        en.contains("href=\"webcal://127.0.0.1:8080/topics/women.ics?lang=en\""),
        "{en}"
    );
    assert!(en.contains("<code>http://127.0.0.1:8080/topics/women.ics?lang=en</code>"));
    assert!(
        en.contains("<details>\n<summary>Past deadlines (1)</summary>"),
        "{en}"
    );
    // Nothing external: no scripts, no remote styles, images or fonts.
    for page in [&ru, &en] {
        assert!(!page.contains("<script"));
        assert!(!page.contains("<img"));
        assert!(!page.contains("<link"));
        assert!(!page.contains("@import"));
        assert!(!page.contains("url("));
    }
    let detail = s
        .get("/deadlines/example-cedaw-alternative-report-2027")
        .await
        .text()
        .await
        .unwrap();
    assert!(detail.contains("<a href=\"mailto:submissions@example.org\">"));
    assert!(detail.contains("15 January 2027, end of day (Europe/Zurich)"));
}

#[tokio::test]
async fn belarusian_is_a_whole_language() {
    let (_tmp, s) = sample_server().await;
    // By header and by query, the page in Belarusian.
    let by_header = s
        .get_with("/", &[(ACCEPT_LANGUAGE, "be-BY,be;q=0.9,ru;q=0.8")])
        .await
        .text()
        .await
        .unwrap();
    let page = s.get("/?lang=be").await.text().await.unwrap();
    for p in [&by_header, &page] {
        assert!(p.contains("<html lang=\"be\">"), "{p}");
        assert!(p.contains("Падпісацца на гэты каляндар"));
        assert!(p.contains("<h2>Снежань 2026</h2>"), "{p}");
        assert!(p.contains("праз 17 дзён"), "{p}");
        assert!(p.contains("Жанчыны"));
    }
    // The language links name each other language in itself.
    assert!(
        page.contains("hreflang=\"en\" lang=\"en\">English</a>"),
        "{page}"
    );
    assert!(
        page.contains("hreflang=\"ru\" lang=\"ru\">Русский</a>"),
        "{page}"
    );
    assert!(!page.contains("hreflang=\"be\""));
    let en = s.get("/").await.text().await.unwrap();
    assert!(
        en.contains("hreflang=\"be\" lang=\"be\">Беларуская</a>"),
        "{en}"
    );
    // Deadline pages, feeds and JSON: texts, topic and mechanism names.
    let detail = s
        .get("/deadlines/example-cedaw-alternative-report-2027?lang=be")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        detail.contains("15 студзеня 2027, да канца дня (Europe/Zurich)"),
        "{detail}"
    );
    assert!(detail.contains("Камітэт па ліквідацыі дыскрымінацыі ў дачыненні да жанчын (CEDAW)"));
    let ics = s.get("/calendar.ics?lang=be").await.text().await.unwrap();
    assert!(ics.contains("DESCRIPTION:Механізм: "), "{ics}");
    assert!(ics.contains("CATEGORIES:CEDAW,Жанчыны"), "{ics}");
    let json: serde_json::Value =
        serde_json::from_str(&s.get("/deadlines.json?lang=be").await.text().await.unwrap())
            .unwrap();
    assert_eq!(json["calendar"]["language"], "be");
    let cedaw = json["deadlines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["mechanism"]["slug"] == "cedaw")
        .unwrap();
    assert_eq!(
        cedaw["mechanism"]["full_name"],
        "Камітэт па ліквідацыі дыскрымінацыі ў дачыненні да жанчын"
    );
    // A language mechcal does not have is a 400 that lists the ones it has.
    let r = s.get("/calendar.ics?lang=uk").await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let body = r.text().await.unwrap();
    assert!(
        body.contains("be") && body.contains("ru") && body.contains("en"),
        "{body}"
    );
}

#[tokio::test]
async fn static_export_writes_the_served_bytes() {
    let (tmp, s) = sample_server().await;
    let out = tmp.path().join("public");
    let files = http::export(&s.app.snapshot(), &out, now()).unwrap();
    assert!(files.contains(&PathBuf::from("topics/women.ics")));
    assert!(files.contains(&PathBuf::from("mechanisms/cerd.ics")));
    assert!(files.contains(&PathBuf::from(
        "deadlines/example-upr-stakeholder-submission-2027.ics"
    )));
    for (file, path) in [
        ("calendar.ics", "/calendar.ics"),
        ("topics/women.ics", "/topics/women.ics"),
        ("mechanisms/upr.ics", "/mechanisms/upr.ics"),
        ("deadlines.json", "/deadlines.json"),
        ("index.html", "/"),
        (
            "deadlines/example-upr-stakeholder-submission-2027.ics",
            "/deadlines/example-upr-stakeholder-submission-2027.ics",
        ),
    ] {
        let served = s.get(path).await.bytes().await.unwrap();
        assert_eq!(std::fs::read(out.join(file)).unwrap(), served, "{file}");
    }
}

#[tokio::test]
async fn unsubscribe_confirms_then_records_and_reveals_nothing_for_bad_tokens() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = config(&tmp.path().join("state.sqlite"));
    // Behind a proxy at a path: the form must post under it.
    config.calendar.base_url = "https://calendar.example.org/calendar/".into();
    let snap = snapshot(&config, &root().join("deadlines"), now());
    let secret = mechcal::reminders::tokens::Secret::new(*b"a test secret of 32 bytes length");
    let unsubscribe = http::Unsubscribe::new(
        secret.clone(),
        Database::open(&config.state.path).unwrap(),
        ["anna@example.org", "boris@example.org"],
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = App::with_unsubscribe(snap, Arc::new(now), Some(unsubscribe));
    tokio::spawn(http::serve(
        listener,
        app,
        http::Limits::default(),
        std::future::pending(),
    ));
    let client = reqwest::Client::new();
    let token = secret.token("Anna@Example.org");

    // GET only asks (link scanners must not unsubscribe anybody).
    let r = client
        .get(format!("{base}/unsubscribe?token={token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let page = r.text().await.unwrap();
    assert!(
        page.contains("Stop deadline reminders to a***@example.org?"),
        "{page}"
    );
    assert!(
        page.contains(&format!(
            "<form method=\"post\" action=\"/calendar/unsubscribe?token={token}\">"
        )),
        "{page}"
    );
    assert!(Database::open(&config.state.path)
        .unwrap()
        .opted_out()
        .unwrap()
        .is_empty());

    // Bad tokens: one answer for all, naming nobody.
    // The token names nobody: no address in any encoding.
    assert_eq!(token.len(), 32, "{token}");
    assert!(!token.contains("616e6e61"), "{token}");
    // A forged old-form token: Boris's address with Anna's tag.
    let legacy = secret.legacy_token("anna@example.org");
    let forged = format!(
        "{}.{}",
        "626f726973406578616d706c652e6f7267",
        legacy.split_once('.').unwrap().1
    );
    let stranger = secret.token("carol@example.org");
    let mut bodies = Vec::new();
    for bad in ["", "nonsense", "00.00", forged.as_str(), stranger.as_str()] {
        for post in [false, true] {
            let url = format!("{base}/unsubscribe?token={bad}");
            let r = if post {
                client.post(url).send().await.unwrap()
            } else {
                client.get(url).send().await.unwrap()
            };
            assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{bad}");
            bodies.push(r.text().await.unwrap());
        }
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    assert!(!bodies[0].contains("example.org"));

    // RFC 8058 one-click POST.
    let r = client
        .post(format!("{base}/unsubscribe?token={token}"))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("a***@example.org will get no more deadline reminders."));
    let opted = Database::open(&config.state.path)
        .unwrap()
        .opted_out()
        .unwrap();
    assert_eq!(opted, ["anna@example.org".to_string()].into());

    // A link in a mail sent before opaque tokens still unsubscribes.
    let r = client
        .post(format!(
            "{base}/unsubscribe?token={}",
            secret.legacy_token("boris@example.org")
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let opted = Database::open(&config.state.path)
        .unwrap()
        .opted_out()
        .unwrap();
    assert_eq!(opted.len(), 2, "{opted:?}");
}

#[tokio::test]
async fn without_reminders_there_is_no_unsubscribe_endpoint() {
    let (_tmp, s) = sample_server().await;
    assert_eq!(
        s.get("/unsubscribe?token=x").await.status(),
        StatusCode::NOT_FOUND
    );
}

/// Distinct URLs cannot grow memory: the renderings they make are bounded
/// by `[server] cache_mib` in bytes, spellings of one option share one
/// rendering, and whatever is evicted is served all the same.
#[tokio::test]
async fn distinct_urls_are_bounded_by_the_cache_budget() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = config(&tmp.path().join("state.sqlite"));
    let budget = 256 * 1024;
    config.server.cache_bytes = budget;
    let s = Server::start(snapshot(&config, &root().join("deadlines"), now())).await;

    let first = s
        .get("/calendar.ics?alarm=PT60M")
        .await
        .bytes()
        .await
        .unwrap();
    let entries = s.app.cached();
    for same in ["alarm=PT1H", "alarm=-PT1H", "alarm=PT3600S", "alarm=P0DT1H"] {
        let r = s.get(&format!("/calendar.ics?{same}")).await;
        assert_eq!(r.status(), StatusCode::OK, "{same}");
        assert_eq!(r.bytes().await.unwrap(), first, "{same}");
    }
    assert_eq!(s.app.cached(), entries, "one rendering for one alarm");

    let mut largest = 0;
    for i in 1..=400 {
        let r = s.get(&format!("/calendar.ics?alarm=PT{i}M&lang=ru")).await;
        assert_eq!(r.status(), StatusCode::OK);
        let body = r.text().await.unwrap();
        assert!(body.contains(&format!("TRIGGER:-{}", trigger(i))), "{i}");
        largest = largest.max(s.app.cached_bytes());
    }
    assert!(largest <= budget, "{largest} bytes cached, budget {budget}");
    assert!(s.app.cached() < 400, "{} renderings kept", s.app.cached());
}

/// `PT90M` as the feed writes it.
fn trigger(minutes: u32) -> String {
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("PT{m}M"),
        (h, 0) => format!("PT{h}H"),
        (h, m) => format!("PT{h}H{m}M"),
    }
}
