//! The server loop's limits: slow clients, big heads, the connection cap, and /metrics counting them.

use super::*;

#[test]
fn slow_clients_do_not_block_a_normal_request() {
    let tmp = tempfile::tempdir().unwrap();
    let config = sample_config(tmp.path(), "[server]\nheader_timeout_seconds = 2\n");
    let serve = Serve::start(&config, &[], &[]);
    // 200 slowloris clients: a request line, then one header byte every
    // 300 ms, never finishing the head; 20 that connect and send nothing.
    let mut slow = Vec::new();
    for i in 0..220 {
        let mut s = TcpStream::connect(&serve.addr).unwrap();
        if i < 200 {
            s.write_all(b"GET /calendar.ics HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                .unwrap();
        }
        s.set_nonblocking(true).unwrap();
        slow.push(s);
    }
    let dripping = Instant::now();
    let mut closed = vec![None; slow.len()];
    let mut normal = Vec::new();
    while dripping.elapsed() < Duration::from_secs(4) {
        // A normal client meanwhile gets its answer at once.
        let asked = Instant::now();
        let r = serve.get("/calendar.ics");
        normal.push(asked.elapsed());
        assert!(r.starts_with("HTTP/1.0 200 OK"), "{r}");
        for (i, s) in slow.iter_mut().enumerate() {
            if closed[i].is_some() {
                continue;
            }
            if i < 200 {
                let _ = s.write_all(b"a");
            }
            let mut buf = [0u8; 512];
            match s.read(&mut buf) {
                Ok(0) => closed[i] = Some(dripping.elapsed()),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == std::io::ErrorKind::TimedOut => {}
                // A 408 or a reset also ends it.
                _ => closed[i] = Some(dripping.elapsed()),
            }
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let slowest = normal.iter().max().unwrap();
    assert!(
        *slowest < Duration::from_secs(1),
        "a normal request took {slowest:?} among slow clients"
    );
    // Every slow client was closed once the 2-second header timeout passed.
    for (i, c) in closed.iter().enumerate() {
        let at = c.unwrap_or_else(|| panic!("slow client {i} still open after 4 s"));
        assert!(
            at >= Duration::from_millis(1500),
            "client {i} closed early, at {at:?}"
        );
    }
    let metrics = serve.get("/metrics");
    let timeouts: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("mechcal_http_header_timeouts_total "))
        .unwrap()
        .parse()
        .unwrap();
    assert!(timeouts >= 220, "{timeouts}");
}

#[test]
fn metrics_count_requests_and_parse_as_prometheus_text() {
    let tmp = tempfile::tempdir().unwrap();
    let config = sample_config(tmp.path(), "");
    let serve = Serve::start(&config, &[], &[]);
    let first = serve.get("/calendar.ics");
    let etag = first
        .lines()
        .find_map(|l| l.strip_prefix("etag: "))
        .unwrap()
        .to_string();
    for _ in 0..3 {
        let r = serve.request(&format!(
            "GET /calendar.ics HTTP/1.0\r\nHost: x\r\nIf-None-Match: {etag}\r\n\r\n"
        ));
        assert!(r.starts_with("HTTP/1.0 304"), "{r}");
    }
    serve.get("/topics/no-such-topic.ics");
    serve.get("/wp-login.php");
    let r = serve.get("/metrics");
    assert!(r.contains("content-type: text/plain; version=0.0.4"), "{r}");
    let body = &r[r.find("\r\n\r\n").unwrap() + 4..];
    let text = tmp.path().join("metrics.txt");
    fs::write(&text, body).unwrap();
    // The text through a real Prometheus parser: every sample, as JSON.
    let out = Command::new(common::python_with(&["prometheus-client==0.26.0"]))
        .arg("-c")
        .arg(
            "import json, sys\n\
             from prometheus_client.parser import text_string_to_metric_families\n\
             out = {}\n\
             for f in text_string_to_metric_families(open(sys.argv[1]).read()):\n\
             \x20   for s in f.samples:\n\
             \x20       key = s.name + ''.join(f'|{k}={v}' for k, v in sorted(s.labels.items()))\n\
             \x20       out[key] = s.value\n\
             print(json.dumps(out))\n",
        )
        .arg(&text)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let samples: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let get = |key: &str| {
        samples[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}: {samples}"))
    };
    assert_eq!(
        get("mechcal_http_requests_total|code=2xx|route=/calendar.ics"),
        1.0
    );
    assert_eq!(
        get("mechcal_http_requests_total|code=304|route=/calendar.ics"),
        3.0
    );
    assert_eq!(
        get("mechcal_http_requests_total|code=4xx|route=/topics/{topic}"),
        1.0
    );
    assert_eq!(get("mechcal_http_requests_total|code=4xx|route=other"), 1.0);
    // The sample's items today (its yearly dates have occurrences around
    // the real clock the server runs on).
    #[allow(clippy::disallowed_methods)]
    let today = chrono::Utc::now();
    let items = mechcal::load::deadlines::load(
        &crate::support::root().join("deadlines"),
        mechcal::load::deadlines::DEFAULT_MAX_BYTES,
        chrono_tz::Tz::Europe__Zurich,
        mechcal::model::schedule::Window::around(today, 365, 730),
    )
    .catalog
    .unwrap()
    .deadlines()
    .len();
    assert_eq!(get("mechcal_catalog_deadlines"), items as f64);
    assert_eq!(get("mechcal_catalog_degraded"), 0.0);
    assert_eq!(get("mechcal_reloads_total|result=failed"), 0.0);
    assert!(get("mechcal_last_reload_time_seconds") > 1.7e9);
    assert!(get("mechcal_http_connections_total") >= 6.0);
    assert_eq!(get("mechcal_mail_send_seconds_count"), 0.0);
}

#[test]
fn oversized_request_heads_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let config = sample_config(tmp.path(), "");
    let serve = Serve::start(&config, &[], &[]);
    let big_header = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(100_000)
    );
    let r = serve.request(&big_header);
    assert!(r.starts_with("HTTP/1.1 431 "), "{}", &r[..r.len().min(200)]);
    let long_uri = format!("GET /{} HTTP/1.1\r\nHost: x\r\n\r\n", "a".repeat(70_000));
    let r = serve.request(&long_uri);
    assert!(r.starts_with("HTTP/1.1 431 "), "{}", &r[..r.len().min(200)]);
    // Just under the limit is served.
    let r = serve.request(&format!(
        "GET / HTTP/1.0\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(60_000)
    ));
    assert!(
        r.starts_with("HTTP/1.0 200 OK"),
        "{}",
        &r[..r.len().min(200)]
    );
}

/// `[server] max_connections` bounds the connections open at once: of 40
/// silent clients, at most 16 are accepted (counted as the server's socket
/// descriptors; the rest wait in the kernel's queue), and when the head
/// timeout closes those, the waiting ones are taken in turn.
#[test]
fn connections_beyond_the_cap_wait_in_the_kernel_queue() {
    let tmp = tempfile::tempdir().unwrap();
    let config = sample_config(
        tmp.path(),
        "[server]\nheader_timeout_seconds = 2\nmax_connections = 16\n",
    );
    let serve = Serve::start(&config, &[], &[]);
    let sockets = || {
        fs::read_dir(format!("/proc/{}/fd", serve.child.id()))
            .unwrap()
            .filter_map(|e| fs::read_link(e.unwrap().path()).ok())
            .filter(|l| l.to_string_lossy().starts_with("socket:"))
            .count()
    };
    // The baseline once everything is set up: the server answers only after
    // its signal handlers (a socket pair of their own) are installed, and
    // the connection of that answer is closed before the count settles.
    assert!(serve.get("/healthz").starts_with("HTTP/1.0 200"));
    let mut baseline = sockets();
    loop {
        std::thread::sleep(Duration::from_millis(100));
        let now = sockets();
        if now == baseline {
            break;
        }
        baseline = now;
    }
    let silent: Vec<TcpStream> = (0..40)
        .map(|_| TcpStream::connect(&serve.addr).unwrap())
        .collect();
    // Never more than 16 at once; at least 14 once the server has caught up
    // (each server thread may hold one slot while it waits on its own empty
    // queue). Watched until the head timeout starts closing them.
    let start = Instant::now();
    let mut most = 0;
    while start.elapsed() < Duration::from_millis(1500) {
        let accepted = sockets() - baseline;
        assert!(
            accepted <= 16,
            "{accepted} connections open with max_connections = 16"
        );
        most = most.max(accepted);
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(most >= 14, "only {most} of 40 connections were accepted");
    // After the head timeout the waiting ones get their turn.
    eventually(
        "the next connections accepted",
        Duration::from_secs(4),
        || serve.get("/healthz").starts_with("HTTP/1.0 200"),
    );
    drop(silent);
}

/// `/metrics` answers staff only: loopback clients that came through no
/// proxy by default (a proxied request gets the 404 any unknown path
/// gets), everyone with `[server] metrics = "everyone"`; it and
/// `/healthz` say `nosniff`.
#[test]
fn metrics_are_staffs_and_health_is_not_sniffed() {
    let tmp = tempfile::tempdir().unwrap();
    let config = sample_config(tmp.path(), "");
    let serve = Serve::start(&config, &[], &[]);
    let direct = serve.get("/metrics");
    assert!(direct.starts_with("HTTP/1.0 200"), "{direct}");
    let proxied =
        serve.request("GET /metrics HTTP/1.0\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n");
    assert!(proxied.starts_with("HTTP/1.0 404"), "{proxied}");
    assert!(!proxied.contains("mechcal_"), "{proxied}");
    for path in ["/metrics", "/healthz"] {
        let r = serve.get(path).to_lowercase();
        assert!(r.contains("x-content-type-options: nosniff"), "{path}: {r}");
    }
    drop(serve);

    let tmp = tempfile::tempdir().unwrap();
    let config = sample_config(tmp.path(), "[server]\nmetrics = \"everyone\"\n");
    let serve = Serve::start(&config, &[], &[]);
    let proxied =
        serve.request("GET /metrics HTTP/1.0\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n");
    assert!(proxied.starts_with("HTTP/1.0 200"), "{proxied}");
}

/// `[server] max_connections_per_client`: one client holding its share of
/// idle connections gets its next one closed at once, while another
/// client (127.0.0.2, another loopback address) is answered at once;
/// `/metrics` counts the refusal; once the idle ones close, the first
/// client is served again.
#[test]
fn one_client_cannot_take_every_connection() {
    let tmp = tempfile::tempdir().unwrap();
    let config = sample_config(
        tmp.path(),
        "[server]\nheader_timeout_seconds = 30\nmax_connections_per_client = 4\n",
    );
    let serve = Serve::start(&config, &[], &[]);
    let idle: Vec<TcpStream> = (0..4)
        .map(|_| TcpStream::connect(&serve.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    let mut fifth = TcpStream::connect(&serve.addr).unwrap();
    fifth
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let _ = fifth.write_all(b"GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n");
    let mut buf = [0u8; 64];
    let closed = match fifth.read(&mut buf) {
        Ok(0) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(_) => false,
    };
    assert!(closed, "the fifth connection of one client was served");

    // Another client is answered at once.
    let other = {
        use socket2::{Domain, Socket, Type};
        let addr: std::net::SocketAddr = serve.addr.parse().unwrap();
        let s = Socket::new(Domain::IPV4, Type::STREAM, None).unwrap();
        s.bind(
            &"127.0.0.2:0"
                .parse::<std::net::SocketAddr>()
                .unwrap()
                .into(),
        )
        .unwrap();
        s.connect(&addr.into()).unwrap();
        let mut s: TcpStream = s.into();
        s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
        s.write_all(b"GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n")
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    assert!(other.starts_with("HTTP/1.0 200"), "{other}");

    drop(idle);
    // Until the server has seen the idle ones close, a new connection may
    // still be refused (reset): that is a "not yet", not a failure.
    let try_get = || -> Option<String> {
        let mut s = TcpStream::connect(&serve.addr).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
        s.write_all(b"GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n")
            .ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        Some(out)
    };
    eventually(
        "the first client served again",
        Duration::from_secs(5),
        || try_get().is_some_and(|r| r.starts_with("HTTP/1.0 200")),
    );
    assert!(metric(&serve, "mechcal_http_connections_refused_total ") >= 1);
}
