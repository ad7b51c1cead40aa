//! Drives the real `mechcal` binary on the shipped sample data and on copies
//! of it with planted mistakes, checking output, places and exit codes.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

mod common;
use common::{copy_dir, root};

const NOW: &str = "2026-11-23T12:00:00Z";

fn mechcal(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mechcal"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run mechcal")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A temporary copy of the sample repository, at `<tmp>/deadlines`.
fn sample_copy() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("deadlines");
    copy_dir(&root().join("deadlines"), &dir);
    (tmp, dir)
}

/// The sample checks clean. Its example subscribers file is readable by
/// others in a fresh clone (git keeps no file modes but the executable
/// bit), which `check` rightly warns about unless someone ran `chmod 600`.
/// A private copy (mode 600) of the example subscribers in `dir`, and a
/// config there naming it and the sample deadlines, state and mail under
/// `dir/var/`; returns the config's path.
fn reminders_setup(dir: &Path) -> PathBuf {
    let subs = dir.join("subscribers.toml");
    common::example_subscribers(&subs);
    let config = dir.join("mechcal.toml");
    fs::write(
        &config,
        format!(
            "[calendar]\ndomain = \"calendar.example.org\"\nbase_url = \"https://calendar.example.org/\"\n\
             [data]\ndeadlines = \"{}\"\n[state]\npath = \"var/state.sqlite\"\n\
             [reminders]\nsubscribers = \"subscribers.toml\"\n[mail]\nmaildir = \"var/maildir\"\n",
            root().join("deadlines").display()
        ),
    )
    .unwrap();
    config
}

#[test]
fn sample_repository_checks_clean() {
    let out = mechcal(&root(), &["check", "--now", NOW]);
    let stderr = text(&out.stderr);
    let open = stderr.contains("warning: the subscribers file can be read by others");
    if open {
        assert!(
            stderr.starts_with("config/subscribers.example.toml: warning: the subscribers file can be read by others (mode "),
            "{stderr}"
        );
        assert!(
            stderr.ends_with(
                "  help: it holds personal data: `chmod 600 config/subscribers.example.toml`\n"
            ),
            "{stderr}"
        );
        assert_eq!(stderr.lines().count(), 2, "{stderr}");
    } else {
        assert_eq!(stderr, "");
    }
    let warnings = if open { ", 1 warning" } else { "" };
    assert_eq!(
        text(&out.stdout),
        format!("ok: 12 deadlines in 6 files, 5 upcoming; 3 subscribers{warnings}\n")
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn sample_repository_json_summary() {
    let out = mechcal(&root(), &["check", "--format", "json", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["summary"]["deadlines"], 12);
    assert_eq!(v["summary"]["files"], 6);
    assert_eq!(v["summary"]["upcoming"], 5);
    assert_eq!(v["summary"]["subscribers"], 3);
    assert_eq!(v["errors"], 0);
    for d in v["diagnostics"].as_array().unwrap() {
        assert_eq!(d["severity"], "warning", "{d}");
    }
}

/// Plants mistakes in a copy of the sample data; each must be reported at
/// its exact place, all in one run, with exit code 1.
#[test]
fn planted_mistakes_are_all_reported_at_their_places() {
    let (_tmp, dir) = sample_copy();
    let edit = |rel: &str, from: &str, to: &str| {
        let path = dir.join(rel);
        let before = fs::read_to_string(&path).unwrap();
        assert!(before.contains(from), "{rel} lacks {from}");
        fs::write(&path, before.replacen(from, to, 1)).unwrap();
    };
    // 1. a topic typo (line 9 of the file, in the array)
    edit(
        "2024/cerd.toml",
        "topics = [\"racial-discrimination\",",
        "topics = [\"racial-discrimnation\",",
    );
    // 2. Geneva, which is no IANA zone
    edit(
        "examples/2026-2027.toml",
        "timezone = \"Europe/Minsk\"",
        "timezone = \"Europe/Geneva\"",
    );
    // 3. a quoted date
    edit("2025/upr.toml", "due = 2025-03-13", "due = \"2025-03-13\"");
    // 4. a misspelt key
    edit(
        "2024/care-and-support.toml",
        "status = \"tentative\"",
        "stauts = \"tentative\"",
    );
    // 5. a duplicate id in a new file
    fs::write(
        dir.join("2024/zz-copy.toml"),
        "[[deadline]]\nid = \"cerd-blr-alternative-report-2024\"\ntitle = \"Copy\"\nmechanism = \"cerd\"\ntopics = [\"discrimination\"]\ndue = 2024-07-15\n",
    )
    .unwrap();
    // 6. an unknown mechanism
    edit(
        "2024/special-procedures.toml",
        "mechanism = \"special-procedures\"\ntopics = [\"enforced",
        "mechanism = \"special-procedure\"\ntopics = [\"enforced",
    );

    let out = mechcal(&root(), &["check", dir.to_str().unwrap(), "--now", NOW]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let stderr = text(&out.stderr).replace(&dir.display().to_string(), "deadlines");
    let heads: Vec<&str> = stderr.lines().filter(|l| l.contains(": error: ")).collect();
    assert_eq!(
        heads,
        [
            "deadlines/2024/care-and-support.toml:10:1: error: unknown key `stauts` in deadline",
            "deadlines/2024/cerd.toml:8:11: error: unknown topic `racial-discrimnation`",
            "deadlines/2024/special-procedures.toml:20:13: error: unknown mechanism `special-procedure`",
            "deadlines/2024/zz-copy.toml:2:6: error: duplicate deadline id `cerd-blr-alternative-report-2024`",
            "deadlines/2025/upr.toml:9:7: error: `due` must be a TOML date, not a string",
            "deadlines/examples/2026-2027.toml:39:12: error: unknown time zone `Europe/Geneva`",
        ],
        "{stderr}"
    );
    for help in [
        "help: did you mean `status`?",
        "help: did you mean `racial-discrimination`?",
        "help: did you mean `special-procedures`?",
        "help: `cerd-blr-alternative-report-2024` is first defined at deadlines/2024/cerd.toml:5:6",
        "help: write it without quotes: `due = 2025-03-13`",
        "help: Geneva time is the IANA zone `Europe/Zurich`",
    ] {
        assert!(stderr.contains(help), "missing {help:?} in\n{stderr}");
    }
    assert!(
        stderr.ends_with("error: 6 errors in deadlines (7 deadline files read)\n"),
        "{stderr}"
    );
    assert_eq!(text(&out.stdout), "");

    // The same run as JSON: machine-readable places for CI annotations.
    let out = mechcal(
        &root(),
        &["check", dir.to_str().unwrap(), "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["errors"], 6);
    assert!(v["summary"].is_null());
    let places: Vec<(String, u64, u64)> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let file = d["file"].as_str().unwrap();
            let rel = Path::new(file)
                .strip_prefix(&dir)
                .unwrap()
                .display()
                .to_string();
            (
                rel,
                d["line"].as_u64().unwrap(),
                d["column"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        places,
        [
            ("2024/care-and-support.toml".into(), 10, 1),
            ("2024/cerd.toml".into(), 8, 11),
            ("2024/special-procedures.toml".into(), 20, 13),
            ("2024/zz-copy.toml".into(), 2, 6),
            ("2025/upr.toml".into(), 9, 7),
            ("examples/2026-2027.toml".into(), 39, 12),
        ]
    );
    let first = &v["diagnostics"][0];
    assert_eq!(first["severity"], "error");
    assert_eq!(first["help"], "did you mean `status`?");
    assert_eq!(first["end_column"], 7);
}

#[test]
fn hostile_files_never_crash() {
    let (_tmp, dir) = sample_copy();
    // Windows-1251 text, as saved by an old editor.
    fs::write(
        dir.join("cp1251.toml"),
        b"[[deadline]]\ntitle = \"\xc4\xee\xea\xeb\xe0\xe4\"\n",
    )
    .unwrap();
    // Empty, BOM-only and comment-only files.
    fs::write(dir.join("empty.toml"), b"").unwrap();
    fs::write(dir.join("bom.toml"), "\u{feff}").unwrap();
    // A CRLF file with a BOM that is otherwise valid.
    fs::write(
        dir.join("crlf.toml"),
        "\u{feff}[[deadline]]\r\nid = \"crlf\"\r\ntitle = \"CRLF\"\r\nmechanism = \"cat\"\r\ntopics = [\"torture\"]\r\ndue = 2027-06-26\r\ndescription = \"\"\"\r\nx\r\n\"\"\"\r\n",
    )
    .unwrap();
    // Deep nesting.
    fs::write(
        dir.join("deep.toml"),
        format!("x = {}{}", "[".repeat(100_000), "]".repeat(100_000)),
    )
    .unwrap();
    // A 10 MB file: one valid deadline with a huge description.
    fs::write(
        dir.join("big.toml"),
        format!(
            "[[deadline]]\nid = \"big\"\ntitle = \"Big\"\nmechanism = \"cat\"\ntopics = [\"torture\"]\ndue = 2027-06-26\ndescription = \"\"\"\n{}\n\"\"\"\n",
            "Lorem ipsum dolor sit amet.\n".repeat(10 * 1024 * 1024 / 28)
        ),
    )
    .unwrap();
    // Over the size limit.
    fs::write(dir.join("huge.toml"), vec![b'#'; 17 * 1024 * 1024]).unwrap();
    // A directory symlink loop, and a hidden directory that must be ignored.
    #[cfg(unix)]
    std::os::unix::fs::symlink("..", dir.join("2024/loop")).unwrap();
    fs::create_dir_all(dir.join(".git")).unwrap();
    fs::write(dir.join(".git/config.toml"), b"not = [valid").unwrap();
    fs::write(dir.join(".hidden.toml"), b"not = [valid").unwrap();

    let out = mechcal(&root(), &["check", dir.to_str().unwrap(), "--now", NOW]);
    let stderr = text(&out.stderr).replace(&format!("{}/", dir.display()), "deadlines/");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let heads: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("deadlines/"))
        .collect();
    assert_eq!(
        heads,
        [
            "deadlines/2024/loop: warning: symbolic link loop: this directory leads back to `".to_string()
                + &dir.display().to_string()
                + "`; skipped",
            "deadlines/bom.toml:1:1: warning: this file holds no deadlines".into(),
            "deadlines/cp1251.toml:2:10: error: file is not valid UTF-8".into(),
            "deadlines/deep.toml:1:85: error: invalid TOML: cannot recurse further; max recursion depth met".into(),
            "deadlines/empty.toml:1:1: warning: this file holds no deadlines".into(),
            "deadlines/huge.toml: error: file is too large (17 MiB; the limit is 16 MiB)".into(),
        ],
        "{stderr}"
    );
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// Links planted in the data repository (anyone who can push can plant
/// one) never make mechcal read, let alone quote, a file outside it.
#[test]
#[cfg(unix)]
fn links_out_of_the_repository_are_refused_and_never_read() {
    use std::os::unix::fs::symlink;
    let (tmp, dir) = sample_copy();
    let outside = tmp.path().join("outside");
    fs::create_dir_all(outside.join("more")).unwrap();
    // A "credentials file" that fails TOML parsing on its first line, so
    // that its text would be quoted if it were read.
    fs::write(outside.join("credentials"), "password: hunter2-SECRET\n").unwrap();
    fs::write(
        outside.join("more/x.toml"),
        "[[deadline]]\nid = \"leak\"\ntitle = \"hunter2-SECRET\"\n",
    )
    .unwrap();
    symlink(outside.join("credentials"), dir.join("2024/creds.toml")).unwrap();
    symlink("../outside/more", dir.join("linked")).unwrap();
    // Links that stay inside are followed as before.
    symlink("cerd.toml", dir.join("2024/alias-of-cerd.toml")).unwrap();
    // Not regular files: a device and a named pipe (reading either would
    // never end).
    symlink("/dev/zero", dir.join("zero.toml")).unwrap();
    let fifo = dir.join("pipe.toml");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());

    let out = mechcal(&root(), &["check", dir.to_str().unwrap(), "--now", NOW]);
    let stderr = text(&out.stderr).replace(&format!("{}/", tmp.path().display()), "");
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("hunter2"), "{stderr}");
    let heads: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("deadlines/") && !l.contains("duplicate deadline id"))
        .collect();
    assert_eq!(
        heads,
        [
            "deadlines/2024/creds.toml: error: symbolic link points outside the deadline repository (to `outside/credentials`, which is `outside/credentials`); not read",
            "deadlines/linked: error: symbolic link points outside the deadline repository (to `../outside/more`, which is `outside/more`); not read",
            "deadlines/pipe.toml: warning: not a regular file (a named pipe); skipped",
            "deadlines/zero.toml: warning: not a regular file (a device); skipped",
        ],
        "{stderr}"
    );
    // The inside alias is read: its ids collide with the file it names.
    assert!(
        stderr.contains("is first defined at deadlines/2024/alias-of-cerd.toml"),
        "{stderr}"
    );
    // JSON says the same, with the help line.
    let out = mechcal(
        &root(),
        &[
            "check",
            dir.to_str().unwrap(),
            "--format",
            "json",
            "--now",
            NOW,
        ],
    );
    let json = text(&out.stdout);
    assert!(!json.contains("hunter2"), "{json}");
    assert!(
        json.contains("only files inside the repository are read"),
        "{json}"
    );
}

#[test]
fn config_and_usage_errors_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let cases: Vec<(Vec<&str>, &str, &str)> = vec![
        (
            vec!["check", "--config", "nope.toml"],
            "nope.toml: error: cannot read config file: no such file or directory",
            "",
        ),
        (
            vec!["check", "no-such-dir"],
            "no-such-dir: error: cannot open the deadline directory: no such file or directory",
            "",
        ),
        (
            vec!["check"],
            "config/mechcal.toml: error: no config file",
            "",
        ),
        (
            vec!["check", "--format", "yaml"],
            "invalid value 'yaml'",
            "",
        ),
        (
            vec!["list", "--now", "yesterday"],
            "invalid value 'yesterday'",
            "",
        ),
        (vec!["frobnicate"], "unrecognized subcommand", ""),
    ];
    for (args, expected, _) in cases {
        let out = mechcal(tmp.path(), &args);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains(expected),
            "{args:?}:\n{}",
            text(&out.stderr)
        );
    }

    // A broken config: every problem at its place, exit 2, in JSON too.
    fs::create_dir_all(tmp.path().join("config")).unwrap();
    fs::write(
        tmp.path().join("config/mechcal.toml"),
        "[calendar]\ndomain = \"calendar.example.org\"\ntimezone = \"Europe/Geneva\"\n[data]\ndeadlines = \"../deadlines\"\ndeadline = 1\n",
    )
    .unwrap();
    let out = mechcal(tmp.path(), &["check"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("config/mechcal.toml:3:12: error: unknown time zone `Europe/Geneva`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("config/mechcal.toml:6:1: error: unknown key `deadline` in `[data]`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("help: did you mean `deadlines`?"),
        "{stderr}"
    );
    let out = mechcal(tmp.path(), &["check", "--format", "json"]);
    assert_eq!(out.status.code(), Some(2));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["diagnostics"][0]["line"], 3);
}

#[test]
fn check_without_config_uses_defaults_for_a_named_directory() {
    let (tmp, _dir) = sample_copy();
    let out = mechcal(tmp.path(), &["check", "deadlines", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "ok: 12 deadlines in 6 files, 5 upcoming\n"
    );
}

#[test]
fn missing_registry_is_reported() {
    let (_tmp, dir) = sample_copy();
    fs::remove_file(dir.join("registry.toml")).unwrap();
    let out = mechcal(&root(), &["check", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("registry.toml: error: the deadline repository has no registry file"),
        "{stderr}"
    );
}

#[test]
fn list_upcoming_as_a_table() {
    let out = mechcal(&root(), &["list", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout), @r"
    DUE                    LEFT         MECHANISM              TITLE
    2026-12-10             in 17 days   OSCE Moscow Mechanism  Пример: сведения для миссии Московского механизма ОБСЕ [tentative]
    2027-01-15             in 53 days   CEDAW                  Пример: альтернативный доклад в КЛДЖ
    2027-02-01 23:59 +03   in 70 days   Special Procedures     Example: call for input on freedom of association in exile
    2027-03-31 12:00 CEST  in 128 days  UPR                    Пример: доклад заинтересованных сторон для УПО
    2027-04-15             in 143 days  ODIHR hate crime       Example: hate crime data for the ODIHR annual report
    ");
}

#[test]
fn list_filters_and_all() {
    let out = mechcal(
        &root(),
        &[
            "list", "--now", NOW, "--all", "--topic", "women", "--topic", "upr",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout), @r"
    DUE                    LEFT          MECHANISM  TITLE
    2024-04-13             954 days ago  HRC        Центральное значение у… [tentative]
    2025-03-13             620 days ago  UPR        Доклад для Универсальн…
    2027-01-15             in 53 days    CEDAW      Пример: альтернативный доклад в КЛДЖ
    2027-03-31 12:00 CEST  in 128 days   UPR        Пример: доклад заинтересованных сторон для УПО
    ");
    // Topics OR'ed, AND'ed with mechanisms.
    let out = mechcal(
        &root(),
        &[
            "list",
            "--now",
            NOW,
            "--topic",
            "women",
            "--topic",
            "upr",
            "--mechanism",
            "cedaw",
        ],
    );
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 2, "{stdout}");
    assert!(stdout.contains("CEDAW"));
    // Cancelled entries only with --all.
    let out = mechcal(&root(), &["list", "--now", NOW, "--mechanism", "crpd"]);
    assert_eq!(text(&out.stdout), "no upcoming deadlines\n");
    let out = mechcal(
        &root(),
        &["list", "--now", NOW, "--mechanism", "crpd", "--all"],
    );
    assert!(text(&out.stdout).contains("[cancelled]"));
}

#[test]
fn list_unknown_filter_is_a_usage_error() {
    let out = mechcal(&root(), &["list", "--topic", "womens"]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        text(&out.stderr),
        "error: unknown topic `womens`\n  help: did you mean `women`?\n"
    );
}

#[test]
fn list_refuses_invalid_data() {
    let (_tmp, dir) = sample_copy();
    fs::write(dir.join("bad.toml"), "[[deadline]]\nid = \"x\"\n").unwrap();
    let config = dir.parent().unwrap().join("mechcal.toml");
    fs::write(
        &config,
        "[calendar]\ndomain = \"x.org\"\n[data]\ndeadlines = \"deadlines\"\n",
    )
    .unwrap();
    let out = mechcal(&root(), &["list", "--config", config.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("error: the deadline repository has 4 errors; run `mechcal check`"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn default_config_is_the_shipped_sample() {
    let out = mechcal(&root(), &["default-config"]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        text(&out.stdout),
        fs::read_to_string(root().join("config/mechcal.toml")).unwrap()
    );
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
    let mut child = common::serve_command(&config)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
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
    assert!(
        tmp.path().join("state.sqlite").exists(),
        "the state database is created next to the config"
    );

    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
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

/// `check` validates the subscribers file the config names; `subscribers`
/// lists them with masked addresses.
#[test]
fn subscribers_are_checked_and_listed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = reminders_setup(dir);
    let subs = dir.join("subscribers.toml");
    let cfg = config.to_str().unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&subs, fs::Permissions::from_mode(0o644)).unwrap();
        let out = mechcal(dir, &["--config", cfg, "check", "--now", NOW]);
        assert_eq!(out.status.code(), Some(0));
        let stderr = text(&out.stderr);
        assert!(
            stderr.contains("warning: the subscribers file can be read by others (mode 644)"),
            "{stderr}"
        );
        fs::set_permissions(&subs, fs::Permissions::from_mode(0o600)).unwrap();
    }
    let out = mechcal(dir, &["--config", cfg, "check", "--now", NOW]);
    assert_eq!(text(&out.stderr), "");
    assert_eq!(
        text(&out.stdout),
        "ok: 12 deadlines in 6 files, 5 upcoming; 3 subscribers\n"
    );

    let out = mechcal(dir, &["--config", cfg, "subscribers", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let listing = text(&out.stdout);
    assert!(listing.contains("w***@example.org"), "{listing}");
    assert!(
        !listing.contains("womens-rights@example.org"),
        "addresses are masked by default"
    );
    insta::assert_snapshot!(listing, @"
    NAME                                       EMAIL             TOPICS                MECHANISMS               DAYS     ZONE            LANG  DIGEST  UPCOMING
    Example: a women's rights CSO              w***@example.org  women,discrimination  all                      30,7,1   Europe/Vilnius  ru    yes     2
    Example: a lawyer following treaty bodies  l***@example.org  all                   cedaw,cerd,crpd,cat,crc  60,14,3  Europe/Zurich   en    no      1
    Example: everything, in English            a***@example.org  all                   all                      30,7,1   Europe/Zurich   en    yes     5
    3 subscribers
    ");
    let out = mechcal(dir, &["--config", cfg, "subscribers", "--show-emails"]);
    assert!(text(&out.stdout).contains("womens-rights@example.org"));

    // A broken subscribers file fails the check with its places.
    fs::write(
        &subs,
        "[[subscriber]]\nname = \"A\"\nemail = \"a@example\"\ntopics = [\"womens\"]\n",
    )
    .unwrap();
    let out = mechcal(dir, &["--config", cfg, "check"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("subscribers.toml:3:9: error: `email` is not a valid e-mail address"),
        "{stderr}"
    );
    assert!(
        stderr.contains("subscribers.toml:4:11: error: unknown topic `womens`"),
        "{stderr}"
    );
    let out = mechcal(dir, &["--config", cfg, "subscribers"]);
    assert_eq!(out.status.code(), Some(1));
}

/// `remind --dry-run` prints the plan and creates nothing.
#[test]
fn remind_dry_run_plans_without_changing_anything() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = reminders_setup(dir);
    let cfg = config.to_str().unwrap();
    // 2027-01-08: the CEDAW example's 30- and 14-day reminders are both due
    // for whoever was never reminded: only the 14-day one is sent.
    let out = mechcal(
        dir,
        &[
            "--config",
            cfg,
            "remind",
            "--dry-run",
            "--now",
            "2027-01-08T08:00:00Z",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    insta::assert_snapshot!(text(&out.stdout), @"
    3 messages, 3 skipped reminders
    to w***@example.org (ru, Europe/Vilnius):
      reminder 14d: [CEDAW] Пример: альтернативный доклад в КЛДЖ — due 15 января 2027 (через 7 дней)
    to l***@example.org (en, Europe/Zurich):
      reminder 14d: [CEDAW] Пример: альтернативный доклад в КЛДЖ — due 15 January 2027 (in 7 days)
    to a***@example.org (en, Europe/Zurich):
      reminder 14d: [CEDAW] Пример: альтернативный доклад в КЛДЖ — due 15 January 2027 (in 7 days)
      reminder 30d: [Special Procedures] Example: call for input on freedom of association in exile — due 1 February 2027, 21:59 CET (in 24 days)
    ");
    assert!(
        !dir.join("var").exists(),
        "a dry run creates no state database"
    );
}

/// `remind` delivers to a Maildir: nothing twice, an interrupted message sent
/// again with its Message-ID, opt-outs respected and lifted by staff.
#[test]
fn remind_delivers_once_recovers_and_respects_opt_outs() {
    use mechcal::reminders::plan::{Delivery as Row, Key, Kind};
    use mechcal::state::Database;

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = reminders_setup(dir);
    let cfg = config.to_str().unwrap();
    let maildir = dir.join("var/maildir/new");
    let messages = || {
        let mut names: Vec<String> = fs::read_dir(&maildir)
            .map(|d| {
                d.map(|e| e.unwrap().file_name().into_string().unwrap())
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    };

    let out = mechcal(
        dir,
        &["--config", cfg, "remind", "--now", "2027-01-08T08:00:00Z"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "sent 3 messages (0 resent after an interrupted pass), skipped 3 reminders, failed 0, deferred 0\n"
    );
    let first = messages();
    assert_eq!(first.len(), 3);
    let stderr = text(&out.stderr);
    for address in [
        "womens-rights@example.org",
        "lawyer@example.org",
        "all-deadlines@example.org",
    ] {
        assert!(
            !stderr.contains(address),
            "a full address in the logs: {stderr}"
        );
    }
    assert!(
        stderr.contains("reminder sent to=l***@example.org"),
        "{stderr}"
    );
    let mail = fs::read_to_string(maildir.join(&first[0])).unwrap();
    assert!(
        mail.contains("List-Unsubscribe: <https://calendar.example.org/unsubscribe?token="),
        "{mail}"
    );
    assert!(dir.join("var/unsubscribe.secret").exists());

    // The same pass again: nothing twice.
    let out = mechcal(
        dir,
        &["--config", cfg, "remind", "--now", "2027-01-08T09:00:00Z"],
    );
    assert!(
        text(&out.stdout).starts_with("sent 0 messages"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(messages(), first);

    // A pass that died after writing `sending`: the next pass sends that very
    // message again, under the Message-ID recorded for it.
    let key = Key {
        email: "all-deadlines@example.org".into(),
        deadline: "example-odihr-hate-crime-2027".into(),
        due_at: "2027-04-15T22:00:00Z".parse().unwrap(),
        kind: Kind::Remind(7),
    };
    Database::open(&dir.join("var/state.sqlite"))
        .unwrap()
        .record(
            &[key],
            Row::Sending,
            Some("<crashed@calendar.example.org>"),
            None,
            "2027-04-08T08:00:00Z".parse().unwrap(),
        )
        .unwrap();
    let out = mechcal(
        dir,
        &["--config", cfg, "remind", "--now", "2027-04-08T08:30:00Z"],
    );
    assert!(
        text(&out.stdout).contains("(1 resent after an interrupted pass)"),
        "{}",
        text(&out.stdout)
    );
    let resent = messages()
        .into_iter()
        .filter(|m| !first.contains(m))
        .collect::<Vec<_>>();
    let found = resent.iter().any(|m| {
        fs::read_to_string(maildir.join(m))
            .unwrap()
            .contains("Message-ID: <crashed@calendar.example.org>")
    });
    assert!(found, "the interrupted message keeps its Message-ID");

    // Opted out: nothing more; staff lift it with a command.
    let mut state = Database::open(&dir.join("var/state.sqlite")).unwrap();
    state
        .opt_out(
            "womens-rights@example.org",
            "2027-04-09T00:00:00Z".parse().unwrap(),
        )
        .unwrap();
    drop(state);
    let out = mechcal(
        dir,
        &[
            "--config",
            cfg,
            "remind",
            "--dry-run",
            "--now",
            "2027-04-14T08:00:00Z",
        ],
    );
    assert!(
        !text(&out.stdout).contains("w***@example.org"),
        "{}",
        text(&out.stdout)
    );
    let out = mechcal(
        dir,
        &[
            "--config",
            cfg,
            "subscribers",
            "resubscribe",
            "womens-rights@example.org",
        ],
    );
    assert_eq!(
        text(&out.stdout),
        "w***@example.org will get reminders again\n"
    );
    let out = mechcal(
        dir,
        &[
            "--config",
            cfg,
            "remind",
            "--dry-run",
            "--now",
            "2027-04-14T08:00:00Z",
        ],
    );
    assert!(
        text(&out.stdout).contains("w***@example.org"),
        "{}",
        text(&out.stdout)
    );
    let out = mechcal(
        dir,
        &[
            "--config",
            cfg,
            "subscribers",
            "resubscribe",
            "womens-rights@example.org",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
}

/// A running `serve` follows edits of the deadline directory within 2 s,
/// keeps serving the last good data while a file is broken (and says so on
/// /healthz), and recovers when it is fixed.
#[cfg(unix)]
#[test]
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
    /// Stops the server even when an assertion fails, so that it does not
    /// outlive the test holding its output pipe.
    struct Stop(std::process::Child);
    impl Drop for Stop {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
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

/// Under systemd, the unsubscribe secret comes from the credential
/// directory (`LoadCredential=`), ahead of the configured file, which is
/// then neither read nor created: the links match those made with the same
/// secret given through the environment.
#[test]
fn systemd_credentials_take_precedence_over_the_secret_file() {
    let run = |env: &[(&str, &str)]| -> (Vec<String>, bool) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let config = reminders_setup(dir);
        let creds = dir.join("credentials");
        fs::create_dir_all(&creds).unwrap();
        fs::write(creds.join("unsubscribe-secret"), "a secret of 24 bytes....").unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_mechcal"))
            .current_dir(dir)
            .args(["--config", config.to_str().unwrap()])
            .args(["remind", "--now", "2027-01-08T08:00:00Z"])
            .env_remove("MECHCAL_UNSUBSCRIBE_SECRET")
            .env_remove("CREDENTIALS_DIRECTORY")
            .envs(
                env.iter()
                    .map(|(k, v)| (*k, v.replace("{creds}", creds.to_str().unwrap()))),
            )
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let mut links: Vec<String> = fs::read_dir(dir.join("var/maildir/new"))
            .unwrap()
            .map(|e| {
                let mail = fs::read_to_string(e.unwrap().path()).unwrap();
                mail.lines()
                    .find(|l| l.starts_with("List-Unsubscribe: "))
                    .unwrap()
                    .to_string()
            })
            .collect();
        links.sort();
        (links, dir.join("var/unsubscribe.secret").exists())
    };
    let (from_credential, created) = run(&[("CREDENTIALS_DIRECTORY", "{creds}")]);
    assert!(
        !created,
        "the secret file was created despite the credential"
    );
    let (from_env, _) = run(&[("MECHCAL_UNSUBSCRIBE_SECRET", "a secret of 24 bytes....")]);
    assert_eq!(from_credential.len(), 3);
    assert_eq!(from_credential, from_env);
    let (from_file, created) = run(&[]);
    assert!(created);
    assert_ne!(from_file, from_credential);
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

/// `check` masks addresses in what it says about the subscribers file;
/// staff on their own machine may ask to see them.
#[test]
fn check_masks_subscriber_addresses_unless_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let config = reminders_setup(tmp.path());
    common::write_private(
        &tmp.path().join("subscribers.toml"),
        "[[subscriber]]\nname = \"A\"\nemail = \"anna.private@example.org\"\n\n\
         [[subscriber]]\nname = \"B\"\nemail = \"ANNA.private@example.org\"\n",
    );
    let args = ["--config", config.to_str().unwrap(), "check", "--now", NOW];
    let out = mechcal(tmp.path(), &args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("this address is subscribed twice"),
        "{stderr}"
    );
    assert!(stderr.contains("\"A***@example.org\""), "{stderr}");
    assert!(!stderr.to_lowercase().contains("anna.private"), "{stderr}");
    let out = mechcal(tmp.path(), &[&args[..], &["--show-emails"]].concat());
    assert!(text(&out.stderr).contains("ANNA.private@example.org"));
}
