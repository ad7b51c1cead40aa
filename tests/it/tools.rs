//! The third-party programs the integration tests drive, and how a test
//! gets them.
//!
//! `need` finds each program on `PATH`; a missing one is installed from
//! Debian's packages (as root, or through `sudo -n`), one install at a
//! time. A program that still cannot be had makes the test return early
//! after a loud line written past the test harness's output capture, so it
//! shows in every run:
//!
//! ```text
//! skipped: spamassassin missing (Debian spamassassin): spam::every_kind_of_reminder_scores_below_one
//! ```
//!
//! `.ci/run` counts these lines and fails on any. `MECHCAL_TEST_INSTALL=0`
//! forbids installing (the test of a machine without the tools uses it).

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Mutex, OnceLock};

/// A program and the Debian packages that bring it (and what it needs to
/// do its job in the tests, such as fonts for the browser).
pub struct Tool {
    pub program: &'static str,
    pub packages: &'static [&'static str],
}

pub const GPG: Tool = Tool {
    program: "gpg",
    packages: &["gnupg"],
};
pub const SPAMASSASSIN: Tool = Tool {
    program: "spamassassin",
    packages: &["spamassassin"],
};
pub const MAN: Tool = Tool {
    program: "man",
    packages: &["man-db"],
};
pub const SQLITE3: Tool = Tool {
    program: "sqlite3",
    packages: &["sqlite3"],
};
pub const OPENSSL: Tool = Tool {
    program: "openssl",
    packages: &["openssl"],
};
pub const CURL: Tool = Tool {
    program: "curl",
    packages: &["curl"],
};
pub const CHROMIUM: Tool = Tool {
    program: "chromium",
    packages: &["chromium", "fonts-dejavu-core"],
};
pub const SYSTEMD_ANALYZE: Tool = Tool {
    program: "systemd-analyze",
    packages: &["systemd"],
};
pub const STRACE: Tool = Tool {
    program: "strace",
    packages: &["strace"],
};
pub const NODE: Tool = Tool {
    program: "node",
    packages: &["nodejs"],
};
pub const NPM: Tool = Tool {
    program: "npm",
    packages: &["npm"],
};
pub const FAKETIME: Tool = Tool {
    program: "faketime",
    packages: &["faketime"],
};
pub const PYTHON3: Tool = Tool {
    program: "python3",
    packages: &["python3", "python3-venv"],
};

/// Whether every tool is there (installing what is missing); when one is
/// not, the loud `skipped:` line naming `test` has been written.
pub fn need(tools: &[&Tool], test: &str) -> bool {
    let mut ready = true;
    for tool in tools {
        if find(tool.program).is_some() || install(tool) {
            continue;
        }
        ready = false;
        // Straight to the process's stderr: libtest captures only the
        // print macros, and a skip must never pass unseen.
        let _ = writeln!(
            std::io::stderr(),
            "\nskipped: {} missing (Debian {}): {test}",
            tool.program,
            tool.packages.join(" ")
        );
    }
    ready
}

/// The program's path on `PATH`.
pub fn find(program: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|candidate| {
            candidate
                .metadata()
                .map(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
                .unwrap_or(false)
        })
}

/// Installs the tool's packages; whether the program is there afterwards.
fn install(tool: &Tool) -> bool {
    static ONE_AT_A_TIME: Mutex<()> = Mutex::new(());
    static UPDATED: OnceLock<bool> = OnceLock::new();
    if std::env::var("MECHCAL_TEST_INSTALL").as_deref() == Ok("0") {
        return false;
    }
    let _guard = ONE_AT_A_TIME
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if find(tool.program).is_some() {
        return true; // another test installed it meanwhile
    }
    let Some(apt) = apt() else {
        return false;
    };
    let updated = *UPDATED.get_or_init(|| run(&apt, &["update", "-qq"]));
    if !updated {
        return false;
    }
    let _ = writeln!(
        std::io::stderr(),
        "\ninstalling {} (Debian {}) for the tests",
        tool.program,
        tool.packages.join(" ")
    );
    let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
    args.extend(tool.packages);
    run(&apt, &args) && find(tool.program).is_some()
}

/// How to run apt-get here: directly as root, through `sudo -n` otherwise;
/// `None` without apt-get or the right to use it.
fn apt() -> Option<Vec<PathBuf>> {
    let apt_get = find("apt-get")?;
    // The owner of /proc/self is the process's effective user.
    use std::os::unix::fs::MetadataExt;
    if std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0) {
        return Some(vec![apt_get]);
    }
    let sudo = find("sudo")?;
    let allowed = Command::new(&sudo)
        .args(["-n", "true"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|status| status.success())
        .unwrap_or(false);
    allowed.then(|| vec![sudo, PathBuf::from("-n"), apt_get])
}

fn run(command: &[PathBuf], args: &[&str]) -> bool {
    let (program, before) = command.split_first().expect("a command");
    Command::new(program)
        .args(before)
        .args(["-o", "DPkg::Lock::Timeout=600"])
        .args(args)
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .status()
        .map(|status| status.success())
        .unwrap_or(false)
}
