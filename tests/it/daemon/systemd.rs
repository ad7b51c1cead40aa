//! The systemd protocol and the journal: notify, watchdog, priorities.

use super::*;

#[test]
fn systemd_notifications_arrive_on_the_notify_socket() {
    use std::os::unix::net::UnixDatagram;
    let tmp = tempfile::tempdir().unwrap();
    let config = sample_config(tmp.path(), "");
    let socket_path = tmp.path().join("notify.sock");
    let socket = UnixDatagram::bind(&socket_path).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let next = || {
        let mut buf = [0u8; 4096];
        let n = socket.recv(&mut buf).expect("a notification");
        String::from_utf8(buf[..n].to_vec()).unwrap()
    };
    let mut serve = Serve::start(
        &config,
        &[],
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
            // A 1-second watchdog: pings every 0.5 s.
            ("WATCHDOG_USEC", "1000000"),
        ],
    );
    assert_eq!(next().trim(), "READY=1");
    let started = Instant::now();
    let mut pings = 0;
    while pings < 3 {
        assert_eq!(next().trim(), "WATCHDOG=1");
        pings += 1;
    }
    assert!(started.elapsed() < Duration::from_secs(3));

    serve.signal("HUP");
    let mut reload = Vec::new();
    loop {
        let m = next();
        if m.trim() == "WATCHDOG=1" {
            continue;
        }
        let done = m.trim() == "READY=1";
        reload.push(m);
        if done {
            break;
        }
    }
    let lines: Vec<&str> = reload[0].lines().collect();
    assert_eq!(lines[0], "RELOADING=1", "{reload:?}");
    let usec: u64 = lines[1]
        .strip_prefix("MONOTONIC_USEC=")
        .unwrap_or_else(|| panic!("{reload:?}"))
        .parse()
        .unwrap();
    assert!(usec > 0);
    assert_eq!(reload.len(), 2, "{reload:?}");

    serve.signal("TERM");
    loop {
        let m = next();
        if m.trim() == "WATCHDOG=1" {
            continue;
        }
        assert_eq!(m.trim(), "STOPPING=1");
        break;
    }
    assert!(serve.wait(Duration::from_secs(10)).success());
}

/// Under systemd (stderr is the journal), every line of a multi-line
/// diagnostic carries the error priority, since journald reads each line as
/// an entry of its own.
#[test]
fn journal_lines_of_a_diagnostic_all_carry_its_priority() {
    use std::os::unix::fs::MetadataExt;
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    copy_dir(&root().join("deadlines"), &t.join("deadlines"));
    let config = write_config(t, "deadlines", "");
    let log_path = t.join("journal.log");
    let log = fs::File::create(&log_path).unwrap();
    let meta = log.metadata().unwrap();
    let mut child = common::serve_command(&config)
        .env("JOURNAL_STREAM", format!("{}:{}", meta.dev(), meta.ino()))
        .stderr(log)
        .spawn()
        .unwrap();
    let read = || fs::read_to_string(&log_path).unwrap();
    eventually("watching", Duration::from_secs(20), || {
        read().contains("watching the deadline directory")
    });
    let file = t.join("deadlines/examples/2026-2027.toml");
    let text = fs::read_to_string(&file).unwrap();
    fs::write(
        &file,
        text.replacen("mechanism = \"cedaw\"", "mechanism = \"cedw\"", 1),
    )
    .unwrap();
    eventually("the diagnostic logged", Duration::from_secs(5), || {
        read().contains("help: did you mean `cedaw`?")
    });
    let _ = child.kill();
    let _ = child.wait();
    let journal = read();
    for line in journal.lines() {
        assert!(
            ["<3>", "<4>", "<6>"].iter().any(|p| line.starts_with(p)),
            "a line without its priority: {line:?}\n{journal}"
        );
    }
    assert!(
        journal.contains("<3>  help: did you mean `cedaw`?"),
        "{journal}"
    );
}

/// A notify socket nobody reads fills up (the kernel queues 10 datagrams by
/// default); the daemon must go on serving, reloading and stopping.
#[test]
fn a_full_notify_socket_never_blocks_the_daemon() {
    use std::os::unix::net::UnixDatagram;
    let tmp = tempfile::tempdir().unwrap();
    let config = sample_config(tmp.path(), "");
    let socket_path = tmp.path().join("notify.sock");
    let _socket = UnixDatagram::bind(&socket_path).unwrap();
    let mut serve = Serve::start(
        &config,
        &[],
        &[
            ("NOTIFY_SOCKET", socket_path.to_str().unwrap()),
            // Pings every 50 ms: the queue is full within a second.
            ("WATCHDOG_USEC", "100000"),
        ],
    );
    std::thread::sleep(Duration::from_millis(1500));
    let text = fs::read_to_string(&config).unwrap();
    fs::write(&config, text.replace("First name", "Renamed")).unwrap();
    serve.signal("HUP");
    eventually("the reload", Duration::from_secs(5), || {
        serve.get("/calendar.ics").contains("X-WR-CALNAME:Renamed")
    });
    assert!(serve.log().contains("cannot notify systemd (WATCHDOG=1)"));
    serve.signal("TERM");
    assert!(serve.wait(Duration::from_secs(10)).success());
}

/// `NOTIFY_SOCKET` may name a socket in the abstract namespace (`@name`).
#[test]
fn notifications_reach_an_abstract_socket() {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixDatagram};
    let tmp = tempfile::tempdir().unwrap();
    let config = sample_config(tmp.path(), "");
    let name = format!("mechcal-test-{}", std::process::id());
    let socket =
        UnixDatagram::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes()).unwrap()).unwrap();
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let _serve = Serve::start(&config, &[], &[("NOTIFY_SOCKET", &format!("@{name}"))]);
    let mut buf = [0u8; 256];
    let n = socket.recv(&mut buf).unwrap();
    assert_eq!(&buf[..n], b"READY=1\n");
}
