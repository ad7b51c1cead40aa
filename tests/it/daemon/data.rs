//! Following the data: SIGHUP, the watcher, git, and the staff alerts when it breaks.

use super::*;

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
// Over 100 lines: one scenario, step by step, each step building on the state the last left.
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
    let mail = common::read_mail(&mails[0]);
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
