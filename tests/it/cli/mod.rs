//! Drives the real `mechcal` binary on the shipped sample data and on copies
//! of it with planted mistakes, checking output, places and exit codes.

mod backup;
mod docs;
mod list;
mod postgres;
mod serve;
mod subscribers;
mod upgrade;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support as common;
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
        format!("ok: 18 deadlines in 9 files: 29 dates, 18 upcoming; 4 subscribers{warnings}\n")
    );
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn sample_repository_json_summary() {
    let out = mechcal(&root(), &["check", "--format", "json", "--now", NOW]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["ok"], true);
    // 29 items: 14 entries, one with 4 milestones, four yearly (3 years each
    // inside the window around NOW).
    // Items (each milestone and year), and the entries they come from.
    assert_eq!(v["summary"]["deadlines"], 29);
    assert_eq!(v["summary"]["entries"], 18);
    assert_eq!(v["summary"]["files"], 9);
    assert_eq!(v["summary"]["upcoming"], 18);
    assert_eq!(v["summary"]["subscribers"], 4);
    assert_eq!(v["errors"], 0);
    for d in v["diagnostics"].as_array().unwrap() {
        assert_eq!(d["severity"], "warning", "{d}");
    }
}

/// Plants mistakes in a copy of the sample data; each must be reported at
/// its exact place, all in one run, with exit code 1.
#[test]
// Over 100 lines: one scenario, step by step, each step building on the state the last left.
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
        stderr.ends_with("error: 6 errors in deadlines (10 deadline files read)\n"),
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
    // Under it, but made to exhaust the parser: 4 million unclosed inline
    // tables (12 MB), and 120,000 keys (which took the server to 900 MB).
    fs::write(
        dir.join("nested-bomb.toml"),
        format!("x = {}", "{a=".repeat(4_000_000)),
    )
    .unwrap();
    fs::write(
        dir.join("keys-bomb.toml"),
        (0..120_000)
            .map(|i| format!("k{i} = 1\n"))
            .collect::<String>(),
    )
    .unwrap();
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
            "deadlines/deep.toml:1:37: error: invalid TOML: nested more than 32 levels deep".into(),
            "deadlines/empty.toml:1:1: warning: this file holds no deadlines".into(),
            "deadlines/huge.toml: error: file is too large (17 MiB; the limit is 16 MiB)".into(),
            "deadlines/keys-bomb.toml:100001:9: error: more than 100000 keys and tables in one file".into(),
            "deadlines/nested-bomb.toml:1:101: error: invalid TOML: nested more than 32 levels deep".into(),
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
    // …but not into a hidden part of the repository (`.git/` holds the
    // remote's URL, perhaps with a token).
    fs::create_dir_all(dir.join(".git")).unwrap();
    fs::write(
        dir.join(".git/config"),
        "[remote \"origin\"]\nurl = \"https://hunter2@example.org/data.git\"\n",
    )
    .unwrap();
    symlink(".git/config", dir.join("git-config.toml")).unwrap();
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
            "deadlines/git-config.toml: error: symbolic link points into a hidden part of the repository (to `.git/config`, which is `deadlines/.git/config`); not read",
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
        "ok: 18 deadlines in 9 files: 29 dates, 18 upcoming\n"
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

/// `[data] max_bytes` bounds what the repository's files may hold
/// together: the file that would pass it is reported, nothing after it is
/// read, and `check` fails.
#[test]
fn the_repository_is_bounded_by_max_bytes() {
    let (tmp, dir) = sample_copy();
    let entry = |id: &str| {
        format!(
            "[[deadline]]\nid = \"{id}\"\ntitle = \"Big\"\nmechanism = \"cat\"\ntopics = [\"torture\"]\ndue = 2027-06-26\ndescription = \"\"\"\n{}\n\"\"\"\n",
            "Lorem ipsum dolor sit amet.\n".repeat(600 * 1024 / 28)
        )
    };
    fs::write(dir.join("zz-big-1.toml"), entry("big-1")).unwrap();
    fs::write(dir.join("zz-big-2.toml"), entry("big-2")).unwrap();
    let config = tmp.path().join("mechcal.toml");
    let write = |max: &str| {
        fs::write(
            &config,
            format!(
                "[calendar]\ndomain = \"x.org\"\n[data]\ndeadlines = \"{}\"\n{max}",
                dir.display()
            ),
        )
        .unwrap();
    };
    write("max_bytes = 1048576\n");
    let out = mechcal(
        tmp.path(),
        &["--config", config.to_str().unwrap(), "check", "--now", NOW],
    );
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("zz-big-2.toml: error: the repository's files pass `[data] max_bytes` (1 MiB) here; this file and those after it were not read"),
        "{stderr}"
    );
    // The default (64 MiB) takes them.
    write("");
    let out = mechcal(
        tmp.path(),
        &["--config", config.to_str().unwrap(), "check", "--now", NOW],
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    write("max_bytes = 1000\n");
    let out = mechcal(
        tmp.path(),
        &["--config", config.to_str().unwrap(), "check", "--now", NOW],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("`max_bytes` must be between 1048576 and 4294967296"));
}
