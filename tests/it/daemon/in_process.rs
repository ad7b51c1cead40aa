//! `daemon::run` in this process, as tokio's mini-redis tests its server:
//! the test owns the shutdown future, and gets the daemon's `Result`.

use super::*;

use mechcal::exit::Exit;
use mechcal::load::config::Config;
use mechcal::load::subscribers::Addresses;

fn inputs(dir: &Path) -> mechcal::load::Inputs {
    let config = Config::load(&sample_config(dir, "")).unwrap();
    mechcal::load::everything(
        config,
        Some(Addresses::Masked),
        #[allow(clippy::disallowed_methods)] // as the daemon's start does
        mechcal::load::Keys::serving(chrono::Utc::now()),
    )
    .unwrap()
}

fn free_port() -> std::net::SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
}

#[test]
fn runs_until_its_shutdown_future_and_returns_ok() {
    let tmp = tempfile::tempdir().unwrap();
    let addr = free_port();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let clock: mechcal::http::Clock = Arc::new(|| "2026-12-01T08:00:00Z".parse().unwrap());
    let result = runtime.block_on(async {
        let daemon = tokio::spawn(mechcal::daemon::run(
            inputs(tmp.path()),
            Some(addr),
            clock,
            async {
                let _ = stopped.await;
            },
        ));
        crate::support::rustls_provider();
        let client = reqwest::Client::new();
        let mut page = None;
        for _ in 0..200 {
            if let Ok(r) = client.get(format!("http://{addr}/?lang=be")).send().await {
                page = Some(r.text().await.unwrap());
                break;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        let page = page.expect("the in-process daemon answers");
        assert!(page.contains("<html lang=\"be\">"), "{page}");
        stop.send(()).unwrap();
        tokio::time::timeout(Duration::from_secs(15), daemon)
            .await
            .expect("stops within its drain time")
            .unwrap()
    });
    result.unwrap();
    // The state database it recorded the catalog in is there.
    assert!(tmp.path().join("state.sqlite").exists());
}

#[test]
fn a_port_in_use_is_an_error_not_a_print() {
    let tmp = tempfile::tempdir().unwrap();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let clock: mechcal::http::Clock = Arc::new(|| "2026-12-01T08:00:00Z".parse().unwrap());
    let err = runtime
        .block_on(mechcal::daemon::run(
            inputs(tmp.path()),
            Some(addr),
            clock,
            std::future::pending(),
        ))
        .unwrap_err();
    assert!(
        matches!(err, mechcal::daemon::Error::Listen { .. }),
        "{err:?}"
    );
    assert_eq!(err.exit(), Exit::Usage);
    assert!(
        err.to_string()
            .starts_with(&format!("cannot listen on {addr}")),
        "{err}"
    );
}
