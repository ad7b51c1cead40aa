//! Validators, 304s, gzip and the render cache's bounds.

use super::*;

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

    // The page keeps only its gzip copy: a client without gzip gets it
    // unpacked, byte for byte, under the plain body's own ETag.
    let plain = s.get("/?lang=ru").await;
    assert_eq!(header(&plain, CONTENT_ENCODING), "");
    let plain_etag = header(&plain, ETAG);
    let plain = plain.bytes().await.unwrap();
    assert!(plain.starts_with(b"<!DOCTYPE html>"));
    let r = s.get_with("/?lang=ru", &[(ACCEPT_ENCODING, "gzip")]).await;
    assert_eq!(header(&r, CONTENT_ENCODING), "gzip");
    assert_ne!(header(&r, ETAG), plain_etag);
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(&r.bytes().await.unwrap()[..])
        .read_to_end(&mut out)
        .unwrap();
    assert_eq!(out, plain);
    let again = s
        .get_with("/?lang=ru", &[(IF_NONE_MATCH, &plain_etag)])
        .await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
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
