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
//! returns `None`. A test that stops and starts its server gets one of its
//! own (`own`).

// Shared with the integration tests, which use what the unit tests do not.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// A PostgreSQL server of the tests' own.
pub struct Server {
    bin: PathBuf,
    dir: PathBuf,
    pub port: u16,
    /// The running server's process id.
    pid: std::sync::Mutex<u32>,
}

/// A new, empty database on the shared test server, as a `postgres://`
/// URL (user `postgres`, trusted on loopback); `None` after the loud skip
/// line.
pub fn database(test: &str) -> Option<String> {
    static SERVER: OnceLock<Option<Server>> = OnceLock::new();
    let Some(server) = SERVER.get_or_init(|| Server::start("shared")).as_ref() else {
        skipped(test);
        return None;
    };
    Some(server.database())
}

/// A server for one test alone (one it may stop and start), or `None`
/// after the loud skip line.
pub fn own(test: &str) -> Option<Server> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!("own{}", NEXT.fetch_add(1, Ordering::Relaxed));
    let server = Server::start(&name);
    if server.is_none() {
        skipped(test);
    }
    server
}

fn skipped(test: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "\nskipped: postgres missing (Debian postgresql): {test}"
    );
}

fn is_root() -> bool {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0)
}

/// `program` run as the server's user, dying with the thread that starts it.
fn as_postgres(program: PathBuf) -> Command {
    let mut c = Command::new("setpriv");
    c.arg("--pdeathsig=TERM");
    if is_root() {
        c.args(["--reuid=postgres", "--regid=postgres", "--init-groups"]);
    }
    c.arg(program);
    c
}

impl Server {
    fn start(name: &str) -> Option<Server> {
        let bin = binaries().or_else(|| install().then(binaries).flatten())?;
        // Under the system's temporary directory: the `postgres` user may
        // not be allowed into the checkout's.
        let top = std::env::temp_dir().join("mechcal-test-postgres");
        // Clusters of test processes that have ended go.
        for entry in std::fs::read_dir(&top).into_iter().flatten().flatten() {
            let pid = entry
                .file_name()
                .to_string_lossy()
                .split('-')
                .next()
                .map(String::from);
            if pid.is_some_and(|pid| !Path::new("/proc").join(pid).exists()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let dir = top.join(format!("{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        if is_root() {
            let owned = Command::new("chown")
                .arg("postgres:postgres")
                .arg(&top)
                .arg(&dir)
                .status()
                .unwrap();
            assert!(owned.success(), "chown to postgres");
        }
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
        let server = Server {
            bin,
            dir,
            port,
            pid: std::sync::Mutex::new(0),
        };
        server.run();
        Some(server)
    }

    /// Starts the server process and waits until it answers.
    fn run(&self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("server.log"))
            .unwrap();
        let mut server = as_postgres(self.bin.join("postgres"));
        server
            .arg("-D")
            .arg(self.dir.join("data"))
            .args(["-p", &self.port.to_string(), "-k"])
            .arg(&self.dir)
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
        // `--pdeathsig` fires when the thread that started the server
        // ends: a thread that never ends starts it, so the server lives as
        // long as the test process, and no longer.
        let (started, wait) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = started.send(server.spawn().map(|c| c.id()));
            loop {
                std::thread::park();
            }
        });
        *self.pid.lock().unwrap() = wait.recv().unwrap().expect("postgres starts");
        let deadline = Instant::now() + Duration::from_secs(30);
        while !self.ready() {
            assert!(
                Instant::now() < deadline,
                "postgres did not start: {}",
                std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn ready(&self) -> bool {
        Command::new(self.bin.join("pg_isready"))
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string()])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Stops the server (fast shutdown: connections are closed) and waits
    /// until it is gone.
    pub fn stop(&self) {
        let pid = *self.pid.lock().unwrap();
        let _ = Command::new("kill")
            .args(["-INT", &pid.to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Path::new("/proc")
            .join(pid.to_string())
            .join("exe")
            .exists()
        {
            assert!(Instant::now() < deadline, "postgres did not stop");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Makes the server take TLS connections only, with `certs`'s
    /// `server.pem` and `server.key` (made by `tests/smtp/make_certs.py`):
    /// a plain-text connection over TCP finds no `pg_hba.conf` line.
    /// Restarts it.
    pub fn require_tls(&self, certs: &Path) {
        let data = self.dir.join("data");
        for name in ["server.pem", "server.key"] {
            std::fs::copy(certs.join(name), data.join(name)).unwrap();
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(data.join(name), std::fs::Permissions::from_mode(0o600))
                .unwrap();
            if is_root() {
                let owned = Command::new("chown")
                    .arg("postgres:postgres")
                    .arg(data.join(name))
                    .status()
                    .unwrap();
                assert!(owned.success(), "chown to postgres");
            }
        }
        let mut conf = std::fs::OpenOptions::new()
            .append(true)
            .open(data.join("postgresql.conf"))
            .unwrap();
        writeln!(
            conf,
            "ssl = on\nssl_cert_file = 'server.pem'\nssl_key_file = 'server.key'"
        )
        .unwrap();
        std::fs::write(
            data.join("pg_hba.conf"),
            "local all all trust\nhostssl all all 127.0.0.1/32 trust\n",
        )
        .unwrap();
        self.stop();
        self.run();
    }

    /// Starts it again, on the same data and port.
    pub fn restart(&self) {
        self.run();
    }

    /// A new, empty database, as a `postgres://` URL.
    pub fn database(&self) -> String {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "t{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let made = Command::new(self.bin.join("createdb"))
            .args(["-h", "127.0.0.1", "-U", "postgres", "-p"])
            .arg(self.port.to_string())
            .arg(&name)
            .output()
            .expect("createdb runs");
        assert!(
            made.status.success(),
            "createdb: {}",
            String::from_utf8_lossy(&made.stderr)
        );
        format!(
            "postgres://postgres@127.0.0.1:{}/{name}?sslmode=disable",
            self.port
        )
    }
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
