//! `mechcal serve` as a service, driving the real binary: SIGHUP config
//! reload (keeping the last good config), the systemd notify protocol on a
//! socket the test provides, slow clients that must not block others,
//! `/metrics` read by Python's prometheus_client, JSON logs, and following a
//! git remote (fetch, fast-forward, failures, a diverged checkout).

use std::fs;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

mod common;
use common::{copy_dir, root};

/// A minimal config for the deadlines in `deadlines` (relative to `dir`).
fn write_config(dir: &Path, deadlines: &str, extra: &str) -> PathBuf {
    let config = dir.join("mechcal.toml");
    fs::write(
        &config,
        format!(
            "[calendar]\ndomain = \"calendar.example.org\"\nname = \"First name\"\n\
             [data]\ndeadlines = \"{deadlines}\"\n[state]\npath = \"state.sqlite\"\n{extra}"
        ),
    )
    .unwrap();
    config
}

/// A minimal config for the sample deadlines (read in place).
fn sample_config(dir: &Path, extra: &str) -> PathBuf {
    write_config(dir, &root().join("deadlines").display().to_string(), extra)
}

/// Polls `ok` until it holds; fails after `limit`.
fn eventually(what: &str, limit: Duration, ok: impl Fn() -> bool) {
    let start = Instant::now();
    while !ok() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A running `mechcal serve`, killed on drop if still running.
struct Serve {
    child: Child,
    addr: String,
    log: Arc<Mutex<String>>,
}

impl Serve {
    fn start(config: &Path, args: &[&str], env: &[(&str, &str)]) -> Serve {
        let mut child = common::serve_command(config)
            .args(args)
            .envs(env.iter().copied())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = BufReader::new(child.stderr.take().unwrap());
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        // Keeps draining the log, so that the server never blocks on it.
        std::thread::spawn(move || {
            for line in stderr.lines() {
                let Ok(line) = line else { return };
                let mut log = sink.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let mut serve = Serve {
            child,
            addr: String::new(),
            log,
        };
        eventually("serve starts watching", Duration::from_secs(20), || {
            serve.log().contains("watching the deadline directory")
        });
        let log = serve.log();
        let i = log.find("listening on http://").expect("listening") + "listening on http://".len();
        serve.addr = log[i..i + log[i..].find('/').unwrap()].to_string();
        serve
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }

    /// One HTTP/1.0 exchange: the whole response.
    fn get(&self, path: &str) -> String {
        self.request(&format!("GET {path} HTTP/1.0\r\nHost: x\r\n\r\n"))
    }

    fn request(&self, raw: &str) -> String {
        let mut s = TcpStream::connect(&self.addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(raw.as_bytes()).unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    fn signal(&self, name: &str) {
        let ok = Command::new("kill")
            .args(["-s", name, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(ok.success());
    }

    fn wait(&mut self, limit: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                start.elapsed() < limit,
                "serve did not exit within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn health(serve: &Serve) -> serde_json::Value {
    let r = serve.get("/healthz");
    serde_json::from_str(&r[r.find("\r\n\r\n").unwrap() + 4..]).unwrap()
}

#[test]
fn sighup_reloads_the_config_and_keeps_the_last_good_one() {
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&root().join("deadlines"), &tmp.path().join("deadlines"));
    let config = write_config(tmp.path(), "deadlines", "");
    let serve = Serve::start(&config, &["--log-format", "json"], &[]);
    let reload_with = |text: String| {
        fs::write(&config, text).unwrap();
        serve.signal("HUP");
    };
    assert!(serve
        .get("/calendar.ics")
        .contains("X-WR-CALNAME:First name"));

    // A valid change: applied on SIGHUP.
    let text = fs::read_to_string(&config).unwrap();
    reload_with(text.replace("First name", "Second name"));
    eventually("the new name", Duration::from_secs(5), || {
        serve
            .get("/calendar.ics")
            .contains("X-WR-CALNAME:Second name")
    });
    assert_eq!(health(&serve)["status"], "ok");

    // A broken config: the running one stays, /healthz says why.
    reload_with(
        text.replace("First name", "Third name")
            .replace("[state]", "[stat]"),
    );
    eventually("degraded", Duration::from_secs(5), || {
        health(&serve)["status"] == "degraded"
    });
    let h = health(&serve);
    assert_eq!(h["degraded"], serde_json::json!(["config"]));
    let diag = h["diagnostics"][0].as_str().unwrap();
    assert!(
        diag.contains("mechcal.toml:6:2: error: unknown key `stat` in the config"),
        "{diag}"
    );
    assert!(serve
        .get("/calendar.ics")
        .contains("X-WR-CALNAME:Second name"));

    // A config whose data does not load: nothing changes either.
    reload_with(
        text.replace("First name", "Fourth name")
            .replace("deadlines = \"deadlines\"", "deadlines = \"nowhere\""),
    );
    eventually(
        "the missing directory reported",
        Duration::from_secs(5),
        || {
            health(&serve)["diagnostics"]
                .to_string()
                .contains("cannot open the deadline directory")
        },
    );
    assert!(serve
        .get("/calendar.ics")
        .contains("X-WR-CALNAME:Second name"));

    // Fixed, with a restart-only change: the rest applies, with a warning.
    reload_with(
        text.replace("First name", "Fifth name")
            .replace("[state]", "[server]\nheader_timeout_seconds = 5\n[state]"),
    );
    eventually("recovered", Duration::from_secs(5), || {
        health(&serve)["status"] == "ok"
    });
    assert!(serve
        .get("/calendar.ics")
        .contains("X-WR-CALNAME:Fifth name"));
    let h = health(&serve);
    assert_eq!(h["reloads_failed"], 2);
    // Every log line is one JSON object; the restart-only warning is there.
    let log = serve.log();
    let lines: Vec<serde_json::Value> = log
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(lines.iter().any(|l| l["level"] == "WARN"
        && l["message"]
            .as_str()
            .unwrap()
            .starts_with("[server] changed: restart mechcal")));
    assert!(lines.iter().any(|l| l["level"] == "ERROR"
        && l["message"]
            .as_str()
            .unwrap()
            .contains("unknown key `stat` in the config")));
}

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
    assert_eq!(get("mechcal_catalog_deadlines"), 12.0);
    assert_eq!(get("mechcal_catalog_degraded"), 0.0);
    assert_eq!(get("mechcal_reloads_total|result=failed"), 0.0);
    assert!(get("mechcal_last_reload_time_seconds") > 1.7e9);
    assert!(get("mechcal_http_connections_total") >= 6.0);
    assert_eq!(get("mechcal_mail_send_seconds_count"), 0.0);
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "Staff")
        .env("GIT_AUTHOR_EMAIL", "staff@example.org")
        .env("GIT_COMMITTER_NAME", "Staff")
        .env("GIT_COMMITTER_EMAIL", "staff@example.org")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn follows_a_git_remote_and_survives_its_failures() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    // The remote, a staff member's clone, and the server's checkout.
    git(
        t,
        &[
            "init",
            "--quiet",
            "--bare",
            "--initial-branch=main",
            "origin.git",
        ],
    );
    git(t, &["clone", "--quiet", "origin.git", "staff"]);
    let staff = t.join("staff");
    copy_dir(&root().join("deadlines"), &staff.join("deadlines"));
    git(&staff, &["checkout", "--quiet", "-b", "main"]);
    git(&staff, &["add", "."]);
    git(&staff, &["commit", "--quiet", "-m", "sample"]);
    git(&staff, &["push", "--quiet", "origin", "main"]);
    git(t, &["clone", "--quiet", "origin.git", "checkout"]);
    let config = write_config(
        t,
        "checkout/deadlines",
        "[data.git]\nremote = \"origin\"\nbranch = \"main\"\ninterval = 1\n",
    );
    let serve = Serve::start(&config, &[], &[]);
    let feed = || serve.get("/deadlines.json");

    // A push is served within seconds. The commit renames a mechanism in
    // the registry and every deadline naming it: only the whole commit is
    // valid, so a reload of a half-updated tree would fail.
    let push_rename = |from: &str, to: &str, message: &str| {
        for file in walk(&staff.join("deadlines")) {
            let text = fs::read_to_string(&file).unwrap();
            let renamed = text
                .replace(
                    &format!("[mechanisms.{from}]"),
                    &format!("[mechanisms.{to}]"),
                )
                .replace(
                    &format!("[mechanisms.{from}."),
                    &format!("[mechanisms.{to}."),
                )
                .replace(
                    &format!("mechanism = \"{from}\""),
                    &format!("mechanism = \"{to}\""),
                );
            fs::write(&file, renamed).unwrap();
        }
        git(&staff, &["commit", "--quiet", "-am", message]);
        git(&staff, &["push", "--quiet", "origin", "main"]);
    };
    for round in 0..3 {
        let (from, to) = if round % 2 == 0 {
            ("cedaw", "cedaw-committee")
        } else {
            ("cedaw-committee", "cedaw")
        };
        push_rename(from, to, &format!("rename {round}"));
        eventually("the pushed rename", Duration::from_secs(10), || {
            feed().contains(&format!("\"slug\": \"{to}\""))
        });
    }
    let h = health(&serve);
    assert_eq!(h["status"], "ok", "{h}");
    assert_eq!(
        h["reloads_failed"], 0,
        "a reload saw a half-updated tree: {h}"
    );

    // The remote goes away: logged, reported, the data still served.
    fs::rename(t.join("origin.git"), t.join("moved.git")).unwrap();
    eventually("git degraded", Duration::from_secs(10), || {
        health(&serve)["degraded"] == serde_json::json!(["git"])
    });
    let diag = health(&serve)["diagnostics"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(diag.contains("`git fetch` failed"), "{diag}");
    assert!(feed().contains("\"slug\": \"cedaw-committee\""));
    assert!(serve.log().contains("git: `git fetch` failed"));
    fs::rename(t.join("moved.git"), t.join("origin.git")).unwrap();
    eventually("git recovered", Duration::from_secs(10), || {
        health(&serve)["status"] == "ok"
    });

    // Someone commits on the server: no fast-forward, and the way out.
    let checkout = t.join("checkout");
    fs::write(checkout.join("local.txt"), "local").unwrap();
    git(&checkout, &["add", "local.txt"]);
    git(&checkout, &["commit", "--quiet", "-m", "local"]);
    push_rename(
        "cedaw-committee",
        "cedaw-diverged",
        "after the local commit",
    );
    eventually("diverged reported", Duration::from_secs(10), || {
        health(&serve)["diagnostics"]
            .to_string()
            .contains("has commits that are not on it")
    });
    let diag = health(&serve)["diagnostics"][0]
        .as_str()
        .unwrap()
        .to_string();
    assert!(diag.contains("reset --hard"), "{diag}");
    assert!(!feed().contains("cedaw-diverged"));
    assert!(metric(&serve, "mechcal_git_fetches_total{result=\"failed\"}") >= 2);
    assert!(metric(&serve, "mechcal_git_fetches_total{result=\"ok\"}") >= 3);
}

fn metric(serve: &Serve, series: &str) -> u64 {
    let m = serve.get("/metrics");
    m.lines()
        .find_map(|l| l.strip_prefix(series))
        .unwrap_or_else(|| panic!("{series}"))
        .trim()
        .parse()
        .unwrap()
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else if path.extension().is_some_and(|e| e == "toml") {
            out.push(path);
        }
    }
    out
}

#[test]
fn staff_are_alerted_once_per_distinct_set_of_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let t = tmp.path();
    copy_dir(&root().join("deadlines"), &t.join("deadlines"));
    let config = write_config(
        t,
        "deadlines",
        "[mail]\nmaildir = \"maildir\"\n[alerts]\nstaff = [\"ops@example.org\"]\n",
    );
    let serve = Serve::start(&config, &[], &[]);
    let alerts = || serve.log().matches("alert mailed to staff").count();
    let file = t.join("deadlines/examples/2026-2027.toml");
    let good = fs::read_to_string(&file).unwrap();
    let broken_once = good.replacen("mechanism = \"cedaw\"", "mechanism = \"cedw\"", 1);
    fs::write(&file, &broken_once).unwrap();
    eventually("the first alert", Duration::from_secs(5), || alerts() == 1);
    let mails: Vec<PathBuf> = fs::read_dir(t.join("maildir/new"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(mails.len(), 1);
    // Read through Python's e-mail parser (unfolded, decoded).
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import email, email.policy, sys\n\
             m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)\n\
             print('To:', m['To']); print('Subject:', m['Subject']); print(m.get_content())\n",
        )
        .arg(&mails[0])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mail = String::from_utf8(out.stdout).unwrap();
    assert!(mail.contains("To: ops@example.org"), "{mail}");
    assert!(
        mail.contains(
            "Subject: mechcal (calendar.example.org): the deadline data is invalid (1 error)"
        ),
        "{mail}"
    );
    assert!(mail.contains("unknown mechanism `cedw`"), "{mail}");
    assert!(mail.contains("help: did you mean `cedaw`?"), "{mail}");

    // The same errors again (the file saved twice): no second mail.
    fs::write(&file, &broken_once).unwrap();
    eventually("the second reload", Duration::from_secs(5), || {
        health(&serve)["reloads_failed"] == 2
    });
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(alerts(), 1);

    // Different errors: a new mail.
    fs::write(
        &file,
        broken_once.replace("mechanism = \"cedw\"", "mechanism = \"cerdd\""),
    )
    .unwrap();
    eventually("the second alert", Duration::from_secs(5), || alerts() == 2);

    // Fixed, then the first mistake again: a new episode, a new mail.
    fs::write(&file, &good).unwrap();
    eventually("recovered", Duration::from_secs(5), || {
        health(&serve)["status"] == "ok"
    });
    fs::write(&file, &broken_once).unwrap();
    eventually("the third alert", Duration::from_secs(5), || alerts() == 3);
}

/// A config whose reminders cannot run (the SMTP password variable is
/// unset), its subscribers file, in `t`.
fn config_with_unrunnable_reminders(t: &Path) -> PathBuf {
    let subs = t.join("subscribers.toml");
    common::write_private(
        &subs,
        "[[subscriber]]\nname = \"A\"\nemail = \"a@example.org\"\n",
    );
    let config = write_config(
        t,
        &root().join("deadlines").display().to_string(),
        "[reminders]\nsubscribers = \"subscribers.toml\"\nsecret_file = \"secret\"\n\
         [mail]\ntransport = \"smtp\"\nhost = \"127.0.0.1\"\nport = 2525\nusername = \"u\"\n\
         password_env = \"MECHCAL_TEST_NO_SUCH_VARIABLE\"\n",
    );
    config
}

#[test]
fn reminders_that_cannot_run_stop_the_start() {
    let tmp = tempfile::tempdir().unwrap();
    let config = config_with_unrunnable_reminders(tmp.path());
    let out = common::serve_command(&config)
        .env_remove("MECHCAL_TEST_NO_SUCH_VARIABLE")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "error: reminders cannot run: the SMTP password variable MECHCAL_TEST_NO_SUCH_VARIABLE is not set"
        ),
        "{stderr}"
    );
}

#[test]
fn reminders_that_cannot_run_after_a_reload_are_reported() {
    let tmp = tempfile::tempdir().unwrap();
    let config = config_with_unrunnable_reminders(tmp.path());
    // Started with working reminders (a Maildir), then reloaded into the
    // unset password: served on, reported as `reminders`, and mended.
    let broken = fs::read_to_string(&config).unwrap();
    let working = broken
        .replace("transport = \"smtp\"", "transport = \"maildir\"")
        .replace("username = \"u\"\n", "")
        .replace("password_env = \"MECHCAL_TEST_NO_SUCH_VARIABLE\"\n", "");
    assert_ne!(working, broken);
    fs::write(&config, &working).unwrap();
    let serve = Serve::start(&config, &[], &[]);
    fs::write(&config, &broken).unwrap();
    serve.signal("HUP");
    eventually("reminders degraded", Duration::from_secs(5), || {
        health(&serve)["degraded"] == serde_json::json!(["reminders"])
    });
    let h = health(&serve);
    assert!(
        h["diagnostics"][0]
            .as_str()
            .unwrap()
            .contains("the SMTP password variable MECHCAL_TEST_NO_SUCH_VARIABLE is not set"),
        "{h}"
    );
    assert!(serve.get("/calendar.ics").starts_with("HTTP/1.0 200"));
    fs::write(&config, &working).unwrap();
    serve.signal("HUP");
    eventually("reminders back", Duration::from_secs(5), || {
        health(&serve)["status"] == "ok"
    });
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
    let baseline = sockets();
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

/// Subscriber data shows nowhere: the files mechcal makes are private under
/// a permissive umask, unsubscribe links name nobody yet work through
/// `serve`, and an invalid subscribers file is reported (log, `/healthz`)
/// with its addresses masked; `/healthz` keeps its diagnostics from
/// clients behind a proxy.
#[test]
fn subscriber_data_shows_nowhere() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let subs = dir.join("subscribers.toml");
    common::example_subscribers(&subs);
    let config = sample_config(
        dir,
        "[reminders]\nsubscribers = \"subscribers.toml\"\n[mail]\nmaildir = \"var/maildir\"\n",
    );
    let config = fs::read_to_string(&config)
        .unwrap()
        .replace("path = \"state.sqlite\"", "path = \"var/state.sqlite\"");
    fs::write(dir.join("mechcal.toml"), config).unwrap();
    let bin = env!("CARGO_BIN_EXE_mechcal");
    let out = Command::new("sh")
        .current_dir(dir)
        .args([
            "-c",
            &format!(
                "umask 022; exec '{bin}' --config mechcal.toml remind --now 2027-01-08T08:00:00Z"
            ),
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
    for d in [
        "var",
        "var/maildir",
        "var/maildir/new",
        "var/maildir/tmp",
        "var/maildir/cur",
    ] {
        assert_eq!(mode(&dir.join(d)), 0o700, "{d}");
    }
    let mails: Vec<PathBuf> = fs::read_dir(dir.join("var/maildir/new"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!mails.is_empty());
    for p in mails.iter().chain([&dir.join("var/state.sqlite")]) {
        assert_eq!(mode(p), 0o600, "{}", p.display());
    }
    for suffix in ["-wal", "-shm"] {
        let p = dir.join(format!("var/state.sqlite{suffix}"));
        if p.exists() {
            assert_eq!(mode(&p), 0o600, "{}", p.display());
        }
    }
    // The link of a mail: 32 hex digits, no address in any encoding.
    let mail = fs::read_to_string(&mails[0]).unwrap();
    let to = mail
        .lines()
        .find_map(|l| l.strip_prefix("To: "))
        .unwrap()
        .trim()
        .to_string();
    let link = mail
        .lines()
        .find_map(|l| l.strip_prefix("List-Unsubscribe: <"))
        .unwrap();
    let token = link.split("token=").nth(1).unwrap().trim_end_matches('>');
    assert_eq!(token.len(), 32, "{link}");
    let hex: String = to.bytes().map(|b| format!("{b:02x}")).collect();
    assert!(!link.contains(&hex[..8]) && !link.contains(&to), "{link}");

    let mut serve = Serve::start(&dir.join("mechcal.toml"), &[], &[]);
    let page = serve.get(&format!("/unsubscribe?token={token}"));
    assert!(page.starts_with("HTTP/1.0 200"), "{page}");
    assert!(
        page.contains(&to[..1]) && page.contains("***@example.org"),
        "{page}"
    );
    let done = serve.request(&format!(
        "POST /unsubscribe?token={token} HTTP/1.0\r\nHost: x\r\nContent-Length: 0\r\n\r\n"
    ));
    assert!(
        done.contains("will get no more deadline reminders"),
        "{done}"
    );

    // A broken subscribers file, reloaded: reported, masked everywhere.
    common::write_private(
        &subs,
        "[[subscriber]]\nname = \"Anna\"\nemail = \"anna.private@example.org\"\n\n\
         [[subscriber]]\nname = \"Anna again\"\nemail = \"Anna.Private@example.org\"\n",
    );
    serve.signal("HUP");
    eventually("the reload fails", Duration::from_secs(10), || {
        serve.get("/healthz").contains("\"config\"")
    });
    let health = serve.get("/healthz");
    assert!(health.contains("subscribed twice"), "{health}");
    assert!(health.contains("A***@example.org"), "{health}");
    let proxied =
        serve.request("GET /healthz HTTP/1.0\r\nHost: x\r\nX-Forwarded-For: 203.0.113.9\r\n\r\n");
    assert!(proxied.contains("\"degraded\":[\"config\"]"), "{proxied}");
    assert!(!proxied.contains("subscribed twice"), "{proxied}");
    assert!(proxied.contains("\"diagnostics\":[]"), "{proxied}");
    let log = serve.log();
    for shown in [&health, &proxied, &log] {
        assert!(!shown.to_lowercase().contains("anna.private"), "{shown}");
    }
    assert!(log.contains("subscribed twice"), "{log}");
    serve.signal("TERM");
    assert!(serve.wait(Duration::from_secs(15)).success());
}

/// A file rewritten in place by a slow writer is loaded once it is whole:
/// never a half in which its later deadlines are missing (which would be
/// published as removals) or its TOML is cut (logged as invalid).
#[test]
fn a_file_written_slowly_in_place_is_loaded_only_when_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    copy_dir(&root().join("deadlines"), &dir.join("deadlines"));
    let config = write_config(dir, "deadlines", "");
    let mut serve = Serve::start(&config, &[], &[]);
    let count = |serve: &Serve| {
        let health = serve.get("/healthz");
        let at = health.find("\"deadlines\":").unwrap() + "\"deadlines\":".len();
        let digits: String = health[at..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.parse::<usize>().unwrap()
    };
    let before = count(&serve);
    let file = dir.join("deadlines/examples/2026-2027.toml");
    let whole = fs::read_to_string(&file).unwrap()
        + "\n[[deadline]]\nid = \"written-slowly\"\ntitle = \"Written slowly\"\n\
           mechanism = \"cedaw\"\ntopics = [\"women\"]\ndue = 2027-09-01\n";
    // In place, as an upload or a script would: truncate, then twenty
    // pieces 50 ms apart (each gap well inside the 250 ms debounce, even on
    // a loaded machine; the whole write four times longer).
    let mut f = fs::File::create(&file).unwrap();
    let bytes = whole.as_bytes();
    for piece in bytes.chunks(bytes.len().div_ceil(20)) {
        f.write_all(piece).unwrap();
        f.flush().unwrap();
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(f);
    eventually("the whole file is served", Duration::from_secs(10), || {
        count(&serve) == before + 1
    });
    std::thread::sleep(Duration::from_millis(600));
    let log = serve.log();
    assert!(!log.contains("is invalid"), "{log}");
    let reloads: Vec<&str> = log
        .lines()
        .filter(|l| l.contains("reloaded the deadline repository"))
        .collect();
    assert_eq!(reloads.len(), 1, "{log}");
    assert!(
        reloads[0].contains(&format!("deadlines={}", before + 1)),
        "{log}"
    );
    serve.signal("TERM");
    assert!(serve.wait(Duration::from_secs(15)).success());
}
