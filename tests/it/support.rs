//! Helpers shared by the integration tests (every module of this test
//! binary uses them as `common`).

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The repository's top directory.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Copies a directory tree.
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The Python of target/conformance/venv (created if missing) with
/// `packages` (pinned `name==version`) installed.
///
/// One test at a time: tests run in parallel threads, and a test whose pip
/// was still installing a package another test's Python was importing saw
/// it half there (on a fresh clone, `make_certs.py` failed to import
/// `cryptography`).
pub fn python_with(packages: &[&str]) -> PathBuf {
    static PIP: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = PIP.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let venv = root().join("target/conformance/venv");
    if !venv.join("bin/python").exists() {
        assert!(Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .unwrap()
            .success());
    }
    let ok = Command::new(venv.join("bin/pip"))
        .args(["install", "--quiet", "--disable-pip-version-check"])
        .args(packages)
        .status()
        .unwrap();
    assert!(ok.success(), "pip install {packages:?} failed");
    venv.join("bin/python")
}

/// Writes a file readable by its owner only, as a subscribers file must be.
pub fn write_private(path: &Path, contents: impl AsRef<[u8]>) {
    use std::os::unix::fs::PermissionsExt;
    fs::write(path, contents).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o600)).unwrap();
}

/// The three plain example subscribers of `config/subscribers.example.toml`,
/// copied to `path` with mode 600. The sample's fourth, whose mail is
/// OpenPGP-encrypted, is left out: these tests count and read plain mail;
/// tests/it/openpgp.rs covers encrypted subscribers.
pub fn example_subscribers(path: &Path) {
    let text = fs::read_to_string(root().join("config/subscribers.example.toml")).unwrap();
    let cut = text
        .find("\n[[subscriber]]\nname = \"Example: encrypted reminders\"")
        .expect("the sample's encrypted subscriber");
    write_private(path, &text[..cut + 1]);
}

/// Three reminder passes over the sample deadlines copied to `dir`: on
/// 2027-01-08 (reminders), then, the CEDAW entry moved a month later, on
/// 01-09 (a "moved" notice), then, the entry cancelled, on 01-10 (a
/// "cancelled" notice). `pass` runs one pass at the instant it is given.
pub fn remind_moved_cancelled(dir: &Path, pass: impl Fn(&str)) {
    let file = dir.join("deadlines/examples/2026-2027.toml");
    pass("2027-01-08T08:00:00Z");
    let text = fs::read_to_string(&file).unwrap();
    fs::write(&file, text.replace("due = 2027-01-15", "due = 2027-02-15")).unwrap();
    pass("2027-01-09T08:00:00Z");
    let text = fs::read_to_string(&file).unwrap();
    fs::write(
        &file,
        text.replace(
            "remind_days = [30, 14, 3]",
            "remind_days = [30, 14, 3]\nstatus = \"cancelled\"",
        ),
    )
    .unwrap();
    pass("2027-01-10T08:00:00Z");
}

/// `mechcal --config CONFIG serve --listen 127.0.0.1:0`, to add to and spawn.
pub fn serve_command(config: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_mechcal"));
    command
        .arg("--config")
        .arg(config)
        .args(["serve", "--listen", "127.0.0.1:0"]);
    command
}

/// A mail file as Python's e-mail parser reads it: every header (unfolded,
/// decoded) as `Name: value`, then the body decoded.
pub fn read_mail(path: &Path) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            "import email, email.policy, sys\n\
             m = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)\n\
             [print(f'{k}: {v}') for k, v in m.items()]\n\
             print(m.get_content())\n",
        )
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Makes ring the process's rustls provider, once. reqwest is built
/// without a provider of its own (mechcal gives its client a ring
/// configuration; aws-lc would be a second C library), so a test's plain
/// `reqwest::Client` needs one installed before it is built.
pub fn rustls_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// In `dir`: `deadlines/` with the sample registry and one deadline five
/// days ahead of the real clock (which `serve` reads), and
/// `subscribers.toml` with `n` subscribers reminded seven days before, so
/// that the first pass owes each of them one message.
pub fn deadline_five_days_ahead(dir: &Path, n: usize) {
    use chrono::Datelike as _;
    fs::create_dir_all(dir.join("deadlines")).unwrap();
    fs::copy(
        root().join("deadlines/registry.toml"),
        dir.join("deadlines/registry.toml"),
    )
    .unwrap();
    #[allow(clippy::disallowed_methods)] // serve reads the real clock: so does the test
    let due = (chrono::Utc::now() + chrono::Duration::days(5)).date_naive();
    fs::write(
        dir.join("deadlines/soon.toml"),
        format!(
            "[[deadline]]\nid = \"soon\"\ntitle = \"Example: a deadline five days ahead\"\n\
             mechanism = \"cedaw\"\ntopics = [\"women\"]\ndue = {:04}-{:02}-{:02}\n",
            due.year(),
            due.month(),
            due.day()
        ),
    )
    .unwrap();
    let mut subs = String::new();
    for i in 0..n {
        subs += &format!(
            "[[subscriber]]\nname = \"Subscriber {i}\"\nemail = \"s{i}@example.org\"\nremind_days = [7]\n"
        );
    }
    write_private(&dir.join("subscribers.toml"), subs);
}

/// `mechcal args…` run in `dir` (stdin empty), its output.
pub fn mechcal_in(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_mechcal"))
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run mechcal")
}

/// Bytes of output as text.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A copy of the sample repository at `dir/deadlines` and a config
/// naming it (`dir/c.toml`, state in `dir/var`), for the staff tools.
pub fn sample_repository(dir: &Path) -> PathBuf {
    copy_dir(&root().join("deadlines"), &dir.join("deadlines"));
    let config = dir.join("c.toml");
    fs::write(
        &config,
        "[calendar]\ndomain = \"calendar.example.org\"\n[data]\ndeadlines = \"deadlines\"\n[state]\npath = \"var/state.sqlite\"\n",
    )
    .unwrap();
    config
}
