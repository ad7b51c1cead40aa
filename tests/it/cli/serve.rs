//! `mechcal serve` driven from the command line: answers, reloads, logs, stops.

use super::*;

/// Stops a server even when an assertion fails, so that it does not
/// outlive the test holding its output pipe (cargo would wait for it).
struct Stop(std::process::Child);

impl Drop for Stop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `mechcal serve` as a user runs it: starts, answers on loopback, and stops
/// cleanly on SIGTERM.
#[cfg(unix)]
#[test]
fn serve_answers_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("mechcal.toml");
    fs::write(
        &config,
        format!(
            "[calendar]\ndomain = \"calendar.example.org\"\n[data]\ndeadlines = \"{}\"\n[state]\npath = \"state.sqlite\"\n\
             [reminders]\nsubscribers = \"subscribers.toml\"\n[mail]\nmaildir = \"maildir\"\n",
            root().join("deadlines").display()
        ),
    )
    .unwrap();
    let subs = tmp.path().join("subscribers.toml");
    common::example_subscribers(&subs);
    let mut child = Stop(
        common::serve_command(&config)
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut stderr = BufReader::new(child.0.stderr.take().unwrap());
    let mut line = String::new();
    let addr = loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "serve exited early"
        );
        if let Some(i) = line.find("listening on http://") {
            let rest = &line[i + "listening on http://".len()..];
            break rest[..rest.find('/').unwrap()].to_string();
        }
    };
    let get = |path: &str| {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    assert!(
        get("/healthz").starts_with("HTTP/1.0 200"),
        "{}",
        get("/healthz")
    );
    let feed = get("/calendar.ics");
    assert!(feed.contains("BEGIN:VCALENDAR"), "{feed}");

    // A second instance is refused, not let in beside the first: on the
    // same port (its listening sockets would share it with SO_REUSEPORT),
    // with a state of its own; and on the same state, on another port.
    let second = |config: &Path, listen: &str| {
        let mut second = Command::new(env!("CARGO_BIN_EXE_mechcal"))
            .arg("--config")
            .arg(config)
            .args(["serve", "--listen", listen])
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let start = Instant::now();
        let code = loop {
            if let Some(s) = second.try_wait().unwrap() {
                break s.code();
            }
            if start.elapsed() > Duration::from_secs(10) {
                let _ = second.kill();
                panic!("a second serve ({listen}) started beside the first");
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut err = String::new();
        second
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut err)
            .unwrap();
        (code, err)
    };
    let other_state = tmp.path().join("other.toml");
    fs::write(
        &other_state,
        fs::read_to_string(&config)
            .unwrap()
            .replace("path = \"state.sqlite\"", "path = \"other.sqlite\""),
    )
    .unwrap();
    let (code, err) = second(&other_state, &addr);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains(&format!("cannot listen on {addr}")), "{err}");
    assert!(err.contains("in use"), "{err}");
    let (code, err) = second(&config, "127.0.0.1:0");
    assert_eq!(code, Some(2), "{err}");
    assert!(
        err.contains("state.sqlite is in use by a running `mechcal serve` (it holds "),
        "{err}"
    );
    assert!(get("/healthz").starts_with("HTTP/1.0 200"));
    assert!(
        tmp.path().join("state.sqlite").exists(),
        "the state database is created next to the config"
    );

    let pid = child.0.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "serve did not stop within 10 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(status.code(), Some(0));
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert!(rest.contains("stopped"), "{rest}");
    // With subscribers configured, serve ran a reminder pass at start-up.
    let all = format!("{line}{rest}");
    assert!(all.contains("reminders on schedule=0 0 8 * * *"), "{all}");
    assert!(all.contains("reminder pass done"), "{all}");
    assert!(tmp.path().join("maildir/new").is_dir());
}

/// A running `serve` follows edits of the deadline directory within 2 s,
/// keeps serving the last good data while a file is broken (and says so on
/// /healthz), and recovers when it is fixed.
#[cfg(unix)]
#[test]
// Over 100 lines: one scenario, step by step, each step building on the state the last left.
fn serve_reloads_edits_and_keeps_the_last_good_data() {
    use std::io::{BufRead, BufReader, Read, Write};
    use std::process::Stdio;
    use std::time::{Duration, Instant};

    let (tmp, dir) = sample_copy();
    let config = tmp.path().join("mechcal.toml");
    fs::write(
        &config,
        "[calendar]\ndomain = \"calendar.example.org\"\n[data]\ndeadlines = \"deadlines\"\n[state]\npath = \"state.sqlite\"\n",
    )
    .unwrap();
    let mut child = common::serve_command(&config)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let child = Stop(child);
    let mut line = String::new();
    let mut addr = None;
    // Wait until the server listens and watches the directory.
    loop {
        line.clear();
        assert!(
            stderr.read_line(&mut line).unwrap() > 0,
            "serve exited early"
        );
        if let Some(i) = line.find("listening on http://") {
            let rest = &line[i + "listening on http://".len()..];
            addr = Some(rest[..rest.find('/').unwrap()].to_string());
        }
        if line.contains("watching the deadline directory") {
            break;
        }
    }
    let addr = addr.expect("listening before watching");
    // Keep draining the log so that the server never blocks on it.
    std::thread::spawn(move || {
        let mut sink = String::new();
        let _ = stderr.read_to_string(&mut sink);
    });
    let get = |path: &str| {
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        write!(s, "GET {path} HTTP/1.0\r\nHost: x\r\n\r\n").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    };
    let within_2s = |what: &str, ok: &dyn Fn() -> bool| {
        let start = Instant::now();
        while !ok() {
            assert!(
                start.elapsed() < Duration::from_secs(2),
                "{what} took over 2 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    };

    // An edit shows in the feed.
    let file = dir.join("examples/2026-2027.toml");
    let text = fs::read_to_string(&file).unwrap();
    fs::write(
        &file,
        text.replace("Example: hate crime data", "Edited: hate crime data"),
    )
    .unwrap();
    within_2s("the edit", &|| {
        get("/calendar.ics").contains("Edited: hate crime data")
    });

    // A broken file: the last good feed stays, /healthz says why.
    fs::write(dir.join("2024/broken.toml"), "[[deadline]]\nid = \"x\"\n").unwrap();
    within_2s("degraded", &|| {
        get("/healthz").contains("\"status\":\"degraded\"")
    });
    let health = get("/healthz");
    assert!(
        health.contains(
            "deadlines/2024/broken.toml:1:1: error: deadline is missing required key `title`"
        ),
        "{health}"
    );
    assert!(health.contains("\"degraded_since\":\"20"), "{health}");
    assert!(get("/calendar.ics").contains("Edited: hate crime data"));

    // Fixed: healthy again.
    fs::remove_file(dir.join("2024/broken.toml")).unwrap();
    within_2s("recovery", &|| {
        get("/healthz").contains("\"status\":\"ok\"")
    });

    let _ = Command::new("kill")
        .args(["-TERM", &child.0.id().to_string()])
        .status();
}

/// When standard error is the journal (`JOURNAL_STREAM` names the very
/// stream), each log line starts with its syslog priority and has no
/// timestamp; when the variable names another stream (inherited by a child
/// whose stderr was redirected), lines are plain, with a timestamp.
#[test]
fn logs_carry_syslog_priorities_when_stderr_is_the_journal() {
    use std::os::unix::fs::MetadataExt;
    let run = |journal: bool| -> String {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let config = reminders_setup(dir);
        let log_path = dir.join("stderr.log");
        let log = fs::File::create(&log_path).unwrap();
        let meta = log.metadata().unwrap();
        let stream = if journal {
            format!("{}:{}", meta.dev(), meta.ino())
        } else {
            format!("{}:{}", meta.dev(), meta.ino() + 1)
        };
        let status = Command::new(env!("CARGO_BIN_EXE_mechcal"))
            .current_dir(dir)
            .args(["--config", config.to_str().unwrap()])
            .args(["remind", "--now", "2027-01-08T08:00:00Z"])
            .env("JOURNAL_STREAM", stream)
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .status()
            .unwrap();
        assert!(status.success());
        fs::read_to_string(log_path).unwrap()
    };
    let journal = run(true);
    let lines: Vec<&str> = journal.lines().collect();
    assert!(!lines.is_empty());
    for line in &lines {
        assert!(
            line.starts_with("<6>") || line.starts_with("<4>"),
            "{journal}"
        );
    }
    assert!(
        lines.iter().any(|l| l.starts_with("<6>reminder sent to=")),
        "{journal}"
    );
    let plain = run(false);
    assert!(
        plain
            .lines()
            .all(|l| l.starts_with("20") && l.contains(" INFO ")),
        "{plain}"
    );
}
