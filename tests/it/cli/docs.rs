//! The manual pages and completions, as `man` and the shells read them.

use super::*;
use crate::tools;

/// `mechcal man DIR` writes a page per command that `man -l` renders
/// without a warning (groff's warnings on, 80 columns).
#[test]
fn man_pages_render_without_warnings() {
    if !tools::need(
        &[&tools::MAN],
        "cli::docs::man_pages_render_without_warnings",
    ) {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("man1");
    let out = mechcal(tmp.path(), &["man", dir.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("wrote 23 manual pages"),
        "{}",
        text(&out.stdout)
    );
    let mut pages = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let page = entry.unwrap().path();
        let shown = Command::new("man")
            .args(["--warnings", "-l"])
            .arg(&page)
            .env("MANWIDTH", "80")
            .env("MANPAGER", "cat")
            .output()
            .expect("man runs (tools::need found it)");
        assert!(
            shown.status.success(),
            "{}: {}",
            page.display(),
            text(&shown.stderr)
        );
        assert_eq!(text(&shown.stderr), "", "{}", page.display());
        let body = text(&shown.stdout);
        assert!(body.contains("NAME"), "{}: {body}", page.display());
        pages += 1;
    }
    assert_eq!(pages, 23);
    let main = fs::read_to_string(dir.join("mechcal.1")).unwrap();
    for sub in [
        "check",
        "import",
        "new",
        "diff",
        "backup",
        "restore",
        "serve",
        "remind",
        "watch",
        "man",
        "completions",
    ] {
        assert!(
            main.contains(&format!("mechcal\\-{sub}(1)")),
            "{sub}: {main}"
        );
    }
    // A directory that cannot be made: a clear error, exit 2.
    fs::write(tmp.path().join("file"), "").unwrap();
    let out = mechcal(tmp.path(), &["man", "file/man1"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot write to file/man1"),
        "{}",
        text(&out.stderr)
    );
}

/// The bash script parses (`bash -n`); every shell's script completes the
/// subcommands; an unknown shell is a usage error.
#[test]
fn completions_for_each_shell() {
    let tmp = tempfile::tempdir().unwrap();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = mechcal(tmp.path(), &["completions", shell]);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = text(&out.stdout);
        for sub in ["check", "serve", "subscribers", "completions"] {
            assert!(script.contains(sub), "{shell}: {sub}");
        }
        if shell == "bash" {
            let path = tmp.path().join("mechcal.bash");
            fs::write(&path, &script).unwrap();
            let parsed = Command::new("bash").arg("-n").arg(&path).output().unwrap();
            assert!(parsed.status.success(), "{}", text(&parsed.stderr));
        }
    }
    let out = mechcal(tmp.path(), &["completions", "tcsh"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("possible values"),
        "{}",
        text(&out.stderr)
    );
}
