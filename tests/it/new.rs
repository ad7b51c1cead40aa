//! `mechcal new`: by flags (scriptable: a missing flag is an error, an
//! entry `check` would refuse is not written), and through a
//! pseudo-terminal (Python's pexpect), answering each question, wrong
//! answers first.

use std::fs;

use std::process::Command;

use crate::support as common;
use common::{mechcal_in as mechcal, sample_repository, text};

#[test]
fn new_by_flags_appends_an_entry_that_passes_check() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = sample_repository(dir);
    let cfg = config.to_str().unwrap();
    let add = |extra: &[&str]| {
        let mut args = vec!["--config", cfg, "new"];
        args.extend(extra);
        mechcal(dir, &args)
    };
    let full = [
        "--title",
        "Доклад о выборах",
        "--mechanism",
        "Специальные процедуры",
        "--topic",
        "Выборы",
        "--topic",
        "women",
        "--due",
        "1 марта 2027 г. 12:00 по женевскому времени",
        "--url",
        "https://www.ohchr.org/en/calls",
    ];
    let dry = add(&[&full[..], &["--dry-run"]].concat());
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    assert!(!dir.join("deadlines/special-procedures").exists());

    let out = add(&full);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let written = fs::read_to_string(dir.join("deadlines/special-procedures/2027.toml")).unwrap();
    assert_eq!(
        written,
        "[[deadline]]\nid = \"doklad-o-vyborakh-2027\"\ntitle = \"Доклад о выборах\"\nmechanism = \"special-procedures\"\ntopics = [\"elections\", \"women\"]\ndue = 2027-03-01T12:00:00\ntimezone = \"Europe/Zurich\"\nurl = \"https://www.ohchr.org/en/calls\"\n"
    );
    assert!(
        text(&out.stdout).ends_with("check: 19 deadlines in 10 files, valid\n"),
        "{}",
        text(&out.stdout)
    );
    // The same again: appended, with the next id.
    let again = add(&full);
    assert_eq!(again.status.code(), Some(0));
    let written = fs::read_to_string(dir.join("deadlines/special-procedures/2027.toml")).unwrap();
    assert!(
        written.contains("\n\n[[deadline]]\nid = \"doklad-o-vyborakh-2027-2\"\n"),
        "{written}"
    );

    let before = fs::read_to_string(dir.join("deadlines/2025/upr.toml")).unwrap();
    for (args, code, said) in [
        (&["--title", "X", "--due", "2027-01-01"][..], 2, "error: missing --mechanism, --topic\n  help: give them, or run `mechcal new` on a terminal to be asked"),
        (&["--title", "X", "--mechanism", "CEDAV", "--topic", "women", "--due", "2027-01-01"], 2, "error: --mechanism: no mechanism in registry.toml is called “CEDAV”\n  help: did you mean `cedaw`?"),
        (&["--title", "X", "--mechanism", "upr", "--topic", "upr", "--due", "03/04/2027"], 2, "error: --due: `03/04/2027` is ambiguous"),
        (&["--title", "X", "--mechanism", "upr", "--topic", "upr", "--due", "2027-01-01", "--status", "bogus"], 1, "error: unknown status `bogus`"),
        (&["--title", "X", "--mechanism", "upr", "--topic", "upr", "--due", "2027-01-01", "--id", "upr-report-2025"], 1, "duplicate deadline id `upr-report-2025`"),
        (&["--title", "X", "--mechanism", "upr", "--topic", "upr", "--due", "2027-01-01", "--file", "c.toml"], 2, "error: --file: c.toml is not a .toml file in"),
    ] {
        let out = add(args);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {}", text(&out.stderr));
        assert!(text(&out.stderr).contains(said), "{args:?}: {}", text(&out.stderr));
    }
    // --file: appended to the file named, which still passes check.
    let out = add(&[
        "--title",
        "Y",
        "--mechanism",
        "upr",
        "--topic",
        "upr",
        "--due",
        "2027-01-01",
        "--file",
        "deadlines/2025/upr.toml",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let after = fs::read_to_string(dir.join("deadlines/2025/upr.toml")).unwrap();
    assert!(
        after.starts_with(&before),
        "the file is appended to, nothing else changes"
    );
    assert!(after.ends_with("\n[[deadline]]\nid = \"y-2027\"\ntitle = \"Y\"\nmechanism = \"upr\"\ntopics = [\"upr\"]\ndue = 2027-01-01\n"), "{after}");
    let check = mechcal(dir, &["--config", cfg, "check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
}

/// The questions at a real terminal (a pseudo-terminal driven by
/// pexpect), in the staff's language (LANG=ru_RU.UTF-8), each wrong
/// answer refused at once with the reason.
#[test]
fn new_on_a_terminal_asks_for_each_field_and_checks_each_answer() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = sample_repository(dir);
    let python = common::python_with(&["pexpect==4.9.0"]);
    let script = r#"
import sys, pexpect
binary, config = sys.argv[1], sys.argv[2]
child = pexpect.spawn(binary, ["--config", config, "new"], encoding="utf-8", timeout=20,
                      env={"LANG": "ru_RU.UTF-8", "PATH": "/usr/bin:/bin", "TERM": "dumb"})
def step(expect, send):
    child.expect_exact(expect)
    child.sendline(send)
step("Title: ", "")
step("a deadline needs a title", "Доклад о пытках")
child.expect_exact("CEDAW — Комитет по ликвидации дискриминации в отношении женщин (cedaw)")
step("Mechanism (number or name): ", "cst")
step("did you mean `cat`", "cat")
child.expect_exact("Пытки (torture)")
step("Topics (numbers or names, separated by commas): ", "99")
step("is not in the list", "Пытки, political-prisoners")
step("Due (", "03/04/2027")
step("is ambiguous", "15 марта 2027 12:00")
step("Link to the call (Enter for none): ", "ftp://example.org/")
step("a link starts with https://", "")
step("Time zone of that time (Enter for the calendar's): ", "Europe/Geneva")
step("is not a time zone", "Europe/Zurich")
step("? [Y/n] ", "y")
child.expect_exact("added `doklad-o-pytkakh-2027` to ")
child.expect(pexpect.EOF)
child.close()
sys.exit(child.exitstatus)
"#;
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_mechcal"))
        .arg(&config)
        .current_dir(dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let written = fs::read_to_string(dir.join("deadlines/cat/2027.toml")).unwrap();
    assert_eq!(
        written,
        "[[deadline]]\nid = \"doklad-o-pytkakh-2027\"\ntitle = \"Доклад о пытках\"\nmechanism = \"cat\"\ntopics = [\"torture\", \"political-prisoners\"]\ndue = 2027-03-15T12:00:00\ntimezone = \"Europe/Zurich\"\n"
    );
    let check = mechcal(dir, &["--config", config.to_str().unwrap(), "check"]);
    assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
}
