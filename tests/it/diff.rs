//! `mechcal diff` against a scratch git repository: every kind of change
//! between a branch's merge base and its working tree (the default), and
//! between two commits; Markdown snapshots for the pull-request comment;
//! JSON; the errors.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::support::{mechcal_in as mechcal, root, text};

fn git(dir: &Path, args: &[&str]) {
    let ok = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=Staff",
            "-c",
            "user.email=staff@example.org",
        ])
        .args(args)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(
        ok.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
}

const NOW: &str = "2027-01-10T00:00:00Z";

const BEFORE: &str = r#"[[deadline]]
id = "report"
title = "Альтернативный доклад"
mechanism = "cedaw"
topics = ["women"]
due = 2027-03-01

[[deadline]]
id = "moved"
title = "Moved"
mechanism = "cedaw"
topics = ["women"]
due = 2027-03-01T12:00:00
timezone = "Europe/Zurich"

[[deadline]]
id = "extended"
title = "Extended"
mechanism = "cedaw"
topics = ["women"]
due = 2027-03-01

[[deadline]]
id = "cancelled"
title = "Cancelled"
mechanism = "cat"
topics = ["torture"]
due = 2027-04-01

[[deadline]]
id = "reinstated"
title = "Reinstated"
mechanism = "cat"
topics = ["torture"]
due = 2027-04-01
status = "cancelled"

[[deadline]]
id = "gone"
title = "Gone"
mechanism = "cedaw"
topics = ["women"]
due = 2027-05-01

[[deadline]]
id = "upr-blr-5"
title = "Belarus"
mechanism = "upr"
topics = ["upr"]
timezone = "Europe/Zurich"

[[deadline.milestone]]
kind = "submission"
due = 2027-04-08T12:00:00

[[deadline.milestone]]
kind = "session"
due = 2027-11-05
"#;

/// Every kind of change, made to BEFORE.
fn after() -> String {
    BEFORE
        .replace(
            "title = \"Альтернативный доклад\"\nmechanism = \"cedaw\"\ntopics = [\"women\"]\ndue = 2027-03-01\n",
            "title = \"Альтернативный доклад (обновлено)\"\nmechanism = \"cedaw\"\ntopics = [\"women\", \"elections\"]\ndue = 2027-03-01\nword_limit = 5000\n",
        )
        .replace("due = 2027-03-01T12:00:00\n", "due = 2027-02-20T12:00:00\n")
        .replace(
            "id = \"extended\"\ntitle = \"Extended\"\nmechanism = \"cedaw\"\ntopics = [\"women\"]\ndue = 2027-03-01\n",
            "id = \"extended\"\ntitle = \"Extended\"\nmechanism = \"cedaw\"\ntopics = [\"women\"]\ndue = 2027-03-31\nextended_from = 2027-03-01\n",
        )
        .replace(
            "topics = [\"torture\"]\ndue = 2027-04-01\n\n[[deadline]]\nid = \"reinstated\"",
            "topics = [\"torture\"]\ndue = 2027-04-01\nstatus = \"cancelled\"\n\n[[deadline]]\nid = \"reinstated\"",
        )
        .replace("due = 2027-04-01\nstatus = \"cancelled\"\n\n[[deadline]]\nid = \"gone\"", "due = 2027-04-01\n\n[[deadline]]\nid = \"gone\"")
        .replace(
            "[[deadline]]\nid = \"gone\"\ntitle = \"Gone\"\nmechanism = \"cedaw\"\ntopics = [\"women\"]\ndue = 2027-05-01\n",
            "[[deadline]]\nid = \"new\"\ntitle = \"New | @everyone\"\nmechanism = \"crc\"\ntopics = [\"children\"]\ndue = 2027-06-01\n",
        )
        .replace(
            "[[deadline.milestone]]\nkind = \"session\"\ndue = 2027-11-05\n",
            "[[deadline.milestone]]\nkind = \"adoption\"\ndue = 2028-03-01\n",
        )
}

/// A git repository at `dir` whose `deadlines/` is the sample registry and
/// BEFORE, committed on `main`, with a branch `change` checked out.
fn repository(dir: &Path) {
    fs::create_dir_all(dir.join("deadlines")).unwrap();
    fs::copy(
        root().join("deadlines/registry.toml"),
        dir.join("deadlines/registry.toml"),
    )
    .unwrap();
    fs::write(dir.join("deadlines/calls.toml"), BEFORE).unwrap();
    fs::write(dir.join("README.md"), "data\n").unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "-A"]);
    git(dir, &["commit", "-qm", "before"]);
    git(dir, &["checkout", "-qb", "change"]);
}

#[test]
fn diff_of_a_branch_says_what_each_change_does() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    repository(dir);
    // Nothing changed yet.
    let none = mechcal(dir, &["diff", "--dir", "deadlines", "--now", NOW]);
    assert_eq!(none.status.code(), Some(0), "{}", text(&none.stderr));
    assert_eq!(text(&none.stdout), "no change to any deadline\n");

    // The working tree against the merge base with main (the default).
    fs::write(dir.join("deadlines/calls.toml"), after()).unwrap();
    let md = mechcal(
        dir,
        &[
            "diff",
            "--dir",
            "deadlines",
            "--now",
            NOW,
            "--format",
            "markdown",
        ],
    );
    assert_eq!(md.status.code(), Some(0), "{}", text(&md.stderr));
    insta::assert_snapshot!(text(&md.stdout));
    let human = mechcal(dir, &["diff", "--dir", "deadlines", "--now", NOW]);
    insta::assert_snapshot!(text(&human.stdout));

    // Committed, then compared by revisions; main has moved on meanwhile.
    git(dir, &["commit", "-qam", "after"]);
    git(dir, &["checkout", "-q", "main"]);
    fs::write(dir.join("README.md"), "data, later\n").unwrap();
    git(dir, &["commit", "-qam", "unrelated"]);
    git(dir, &["checkout", "-q", "change"]);
    let by_rev = mechcal(
        dir,
        &[
            "diff",
            "--dir",
            "deadlines",
            "--now",
            NOW,
            "--format",
            "markdown",
            "main~1",
            "change",
        ],
    );
    assert_eq!(text(&by_rev.stdout), text(&md.stdout));
    let json = mechcal(
        dir,
        &[
            "diff",
            "--dir",
            "deadlines",
            "--now",
            NOW,
            "--format",
            "json",
            "main~1",
            "change",
        ],
    );
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(value["to"], "change");
    let kinds: Vec<(String, String)> = value["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["id"].as_str().unwrap().to_string(),
                c["what"][0]["kind"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("cancelled", "cancelled"),
            ("extended", "extended"),
            ("gone", "removed"),
            ("moved", "moved"),
            ("new", "added"),
            ("reinstated", "reinstated"),
            ("report", "changed"),
            ("upr-blr-5.adoption", "milestone_added"),
            ("upr-blr-5.session", "milestone_removed"),
        ]
        .map(|(a, b)| (a.to_string(), b.to_string()))
    );
    // Nothing about subscribers, ever.
    for out in [&md.stdout, &human.stdout, &json.stdout] {
        assert!(
            !text(out).to_lowercase().contains("subscriber "),
            "{}",
            text(out)
        );
    }
}

#[test]
fn diff_refuses_what_it_cannot_compare() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    repository(dir);
    fs::write(
        dir.join("deadlines/calls.toml"),
        BEFORE.replace("mechanism = \"cat\"", "mechanism = \"kat\""),
    )
    .unwrap();
    let invalid = mechcal(dir, &["diff", "--dir", "deadlines", "--now", NOW]);
    assert_eq!(invalid.status.code(), Some(1));
    let said = text(&invalid.stderr);
    assert!(
        said.contains("deadlines/calls.toml:") && said.contains("unknown mechanism `kat`"),
        "{said}"
    );
    assert!(
        said.contains("error: the working tree does not pass `check`: no diff"),
        "{said}"
    );
    for (args, error) in [
        (
            &["nosuch"][..],
            "error: `nosuch` names no commit of the repository at deadlines",
        ),
        (&["--", "-x"], "error: `-x` is not a revision"),
    ] {
        let mut all = vec!["diff", "--dir", "deadlines"];
        all.extend(args);
        let out = mechcal(dir, &all);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(text(&out.stderr).contains(error), "{}", text(&out.stderr));
    }
    // No branch to compare with.
    let lone = tmp.path().join("lone");
    fs::create_dir_all(lone.join("deadlines")).unwrap();
    fs::copy(
        root().join("deadlines/registry.toml"),
        lone.join("deadlines/registry.toml"),
    )
    .unwrap();
    git(&lone, &["init", "-q", "-b", "trunk"]);
    git(&lone, &["add", "-A"]);
    git(&lone, &["commit", "-qm", "x"]);
    let out = mechcal(&lone, &["diff", "--dir", "deadlines"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("no merge base of HEAD with origin/main or main"),
        "{}",
        text(&out.stderr)
    );
}
