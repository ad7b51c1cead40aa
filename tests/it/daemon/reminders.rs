//! Reminders inside serve, and subscriber data that shows nowhere.

use super::*;

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

/// Subscriber data shows nowhere: the files mechcal makes are private under
/// a permissive umask, unsubscribe links name nobody yet work through
/// `serve`, and an invalid subscribers file is reported (log, `/healthz`)
/// with its addresses masked; `/healthz` keeps its diagnostics from
/// clients behind a proxy.
#[test]
// Over 100 lines: one scenario, step by step, each step building on the state the last left.
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
    // A signed link: purpose, keyed id, number, tag — 41 bytes, base64url.
    assert_eq!(token.len(), 55, "{link}");
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
