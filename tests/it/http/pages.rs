//! Pages, languages, the policy they carry, and the static export.

use super::*;

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

/// An entry's submission requirements: a checklist on its page, lines in
/// its feed's DESCRIPTION, an object in JSON (null for entries without).
#[tokio::test]
async fn submission_requirements_show_on_the_page_in_feeds_and_json() {
    let (_tmp, s) = sample_server().await;
    let detail = s
        .get("/deadlines/example-sr-call-for-input-2027")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        detail.contains("<h2>Requirements</h2>\n<ul class=\"checklist\">"),
        "{detail}"
    );
    for line in [
        "<li>Word limit: <bdi>2500 words</bdi></li>",
        "<li>Languages: <bdi>EN, FR, ES</bdi></li>",
        "<li>Submit via: <bdi>web form</bdi></li>",
        "<li>May be published: <bdi>only on request</bdi></li>",
        "<li>Checked against the source: <bdi>20 November 2026</bdi></li>",
    ] {
        assert!(detail.contains(line), "{line} missing from {detail}");
    }
    let plain = s
        .get("/deadlines/example-cedaw-alternative-report-2027")
        .await
        .text()
        .await
        .unwrap();
    assert!(!plain.contains("checklist"));
    let ics = s
        .get("/deadlines/example-sr-call-for-input-2027.ics")
        .await
        .text()
        .await
        .unwrap()
        .replace("\r\n ", "");
    assert!(
        ics.contains("\\nWord limit: 2500 words\\nLanguages: EN\\, FR\\, ES\\n"),
        "{ics}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&s.get("/deadlines.json").await.text().await.unwrap()).unwrap();
    let entries = json["deadlines"].as_array().unwrap();
    let sr = entries
        .iter()
        .find(|e| e["id"] == "example-sr-call-for-input-2027")
        .unwrap();
    assert_eq!(sr["requirements"]["word_limit"], 2500);
    assert_eq!(
        sr["requirements"]["languages"],
        serde_json::json!(["en", "fr", "es"])
    );
    assert_eq!(
        sr["requirements"]["submit_via"],
        serde_json::json!(["form"])
    );
    assert_eq!(sr["requirements"]["public"], "on-request");
    assert_eq!(sr["requirements"]["verified"], "2026-11-20");
    let cedaw = entries
        .iter()
        .find(|e| e["id"] == "example-cedaw-alternative-report-2027")
        .unwrap();
    assert!(cedaw["requirements"].is_null());
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
    // Every item's page, as `deadlines/<id>/index.html`: the index's
    // links (`…/deadlines/<id>?lang=en`) all have their file.
    let file = "deadlines/example-upr-review.submission/index.html";
    let served = s
        .get("/deadlines/example-upr-review.submission")
        .await
        .bytes()
        .await
        .unwrap();
    assert_eq!(std::fs::read(out.join(file)).unwrap(), served, "{file}");
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    // The export carries the pages' policy itself, whatever serves it.
    assert!(
        index.contains("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src &#39;none&#39;; style-src &#39;sha256-"),
        "{index}"
    );
    assert!(
        !index.contains("frame-ancestors"),
        "ignored in a meta element"
    );
    let base = "http://127.0.0.1:8080/deadlines/";
    let mut links = 0;
    for part in index.split(base).skip(1) {
        let id = part.split(['?', '"']).next().unwrap();
        if id.ends_with(".ics") {
            continue;
        }
        links += 1;
        assert!(
            out.join("deadlines").join(id).join("index.html").exists(),
            "no page for the link to {id}"
        );
    }
    assert!(links >= 20, "{links} detail links");
}
