//! A throwaway PostgreSQL server for tests: Debian's server binaries
//! (`/usr/lib/postgresql/*/bin`, installed with the Debian package
//! `postgresql` when missing and allowed), a cluster made by `initdb` under
//! the temporary directory (`mechcal-test-postgres/`), listening on a free loopback port with `fsync`
//! off. It starts once per test process and dies with it (`setpriv
//! --pdeathsig`); each test gets a database of its own.
//!
//! As root, the cluster belongs to the `postgres` user (`initdb` refuses
//! root). Without the binaries, and where they cannot be installed
//! (`MECHCAL_TEST_INSTALL=0`, no root), `database` says so on a loud
//! `skipped: postgres missing` line, which CI counts as a failure, and
//! returns `None`.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

struct Server {
    bin: PathBuf,
    port: u16,
}

/// A new, empty database on the test server, as a `postgres://` URL (user
/// `postgres`, trusted on loopback); `None` after the loud skip line.
pub fn database(test: &str) -> Option<String> {
    static SERVER: OnceLock<Option<Server>> = OnceLock::new();
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let Some(server) = SERVER.get_or_init(start).as_ref() else {
        let _ = writeln!(
            std::io::stderr(),
            "\nskipped: postgres missing (Debian postgresql): {test}"
        );
        return None;
    };
    let name = format!(
        "t{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    );
    let made = Command::new(server.bin.join("createdb"))
        .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
        .arg(server.port.to_string())
        .arg(&name)
        .output()
        .expect("createdb runs");
    assert!(
        made.status.success(),
        "createdb: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    Some(format!(
        "postgres://postgres@127.0.0.1:{}/{name}?sslmode=disable",
        server.port
    ))
}

fn start() -> Option<Server> {
    let bin = binaries().or_else(|| install().then(binaries).flatten())?;
    let root = is_root();
    // Under the system's temporary directory: the `postgres` user may not
    // be allowed into the checkout's.
    let top = std::env::temp_dir().join("mechcal-test-postgres");
    // Clusters of test processes that have ended go.
    for entry in std::fs::read_dir(&top).into_iter().flatten().flatten() {
        if !Path::new("/proc").join(entry.file_name()).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
    let dir = top.join(std::process::id().to_string());
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    if root {
        let owned = Command::new("chown")
            .arg("postgres:postgres")
            .arg(&top)
            .arg(&dir)
            .status()
            .unwrap();
        assert!(owned.success(), "chown to postgres");
    }
    let as_postgres = |program: PathBuf| {
        let mut c = Command::new("setpriv");
        c.arg("--pdeathsig=TERM");
        if root {
            c.args(["--reuid=postgres", "--regid=postgres", "--init-groups"]);
        }
        c.arg(program);
        c
    };
    let made = as_postgres(bin.join("initdb"))
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "initdb: {}",
        String::from_utf8_lossy(&made.stderr)
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let log = std::fs::File::create(dir.join("server.log")).unwrap();
    let mut server = as_postgres(bin.join("postgres"));
    server
        .arg("-D")
        .arg(dir.join("data"))
        .args(["-p", &port.to_string(), "-k"])
        .arg(&dir)
        .args([
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            "fsync=off",
            "-c",
            "max_connections=200",
        ])
        .stdout(Stdio::null())
        .stderr(log);
    // `--pdeathsig` fires when the thread that started the server ends: a
    // thread that never ends starts it, so the server lives as long as the
    // test process, and no longer.
    let (started, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = started.send(server.spawn().map(drop));
        loop {
            std::thread::park();
        }
    });
    wait.recv().unwrap().expect("postgres starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let ready = Command::new(bin.join("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ready {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "postgres did not start: {}",
            std::fs::read_to_string(dir.join("server.log")).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(Server { bin, port })
}

/// The newest `/usr/lib/postgresql/<version>/bin` that has a server.
fn binaries() -> Option<PathBuf> {
    let mut found: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| {
            let e = e.ok()?;
            let version: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.join("postgres").is_file().then_some((version, bin))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, bin)| bin)
}

/// Installs Debian's `postgresql` (as root, unless forbidden).
fn install() -> bool {
    if std::env::var("MECHCAL_TEST_INSTALL").as_deref() == Ok("0") || !is_root() {
        return false;
    }
    let _ = writeln!(
        std::io::stderr(),
        "\ninstalling postgres (Debian postgresql) for the tests"
    );
    let apt = |args: &[&str]| {
        Command::new("apt-get")
            .args(["-o", "DPkg::Lock::Timeout=600"])
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    apt(&["update", "-qq"])
        && apt(&[
            "install",
            "-y",
            "-qq",
            "--no-install-recommends",
            "postgresql",
        ])
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}
