//! The unsubscribe endpoints.

use super::*;
use mechcal::load::subscribers::Subscriber;
use mechcal::subscriptions::AddressKey;

#[tokio::test]
// Over 100 lines: one scenario, step by step, each step building on the state the last left.
async fn unsubscribe_confirms_then_records_and_reveals_nothing_for_bad_tokens() {
    let tmp = tempfile::tempdir().unwrap();
    let mut config = config(&tmp.path().join("state.sqlite"));
    // Behind a proxy at a path: the form must post under it.
    config.calendar.base_url = "https://calendar.example.org/calendar/".into();
    let snap = snapshot(&config, &root().join("deadlines"), now());
    let secret = mechcal::reminders::tokens::Secret::new(*b"a test secret of 32 bytes length");
    let key = AddressKey::new(b"a test address key of 32 bytes!!");
    let unsubscribe = http::Reminders::new(
        secret.clone(),
        key.clone(),
        Database::open(&config.state.path).unwrap(),
        &[
            Subscriber::plain("Anna", "anna@example.org"),
            Subscriber::plain("Boris", "boris@example.org"),
        ],
    )
    .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = App::with_reminders(snap, Arc::new(now), Some(unsubscribe));
    tokio::spawn(http::serve(
        listener,
        app,
        http::Limits::default(),
        std::future::pending(),
    ));
    crate::support::rustls_provider();
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
    // Named by the keyed hash of the address, not the address.
    assert_eq!(opted, [key.id("anna@example.org")].into());

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
