//! The commands on a PostgreSQL state (`[state] url`), against the
//! throwaway server the tests start: a reminder pass sends each reminder
//! once, the next pass nothing; `subscribers` reads the counts; a wrong
//! address key is refused with the database named, never a password.

use super::*;

use crate::postgres as server;

/// `reminders_setup`'s config with the state on PostgreSQL at `url`.
fn postgres_setup(dir: &Path, url: &str) -> PathBuf {
    let config = reminders_setup(dir);
    let text = fs::read_to_string(&config).unwrap().replace(
        "[state]\npath = \"var/state.sqlite\"\n",
        &format!("[state]\nurl = \"{url}\"\nkey_file = \"var/address.key\"\n"),
    );
    assert!(text.contains("url = "), "{text}");
    fs::write(&config, text).unwrap();
    config
}

#[test]
fn a_pass_on_postgres_sends_each_reminder_once() {
    let Some(url) = server::database("cli::postgres::a_pass_on_postgres_sends_each_reminder_once")
    else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = postgres_setup(dir, &url);
    let cfg = config.to_str().unwrap();
    let pass = |now: &str| mechcal(dir, &["--config", cfg, "remind", "--now", now]);
    let first = pass("2027-01-08T08:00:00Z");
    assert_eq!(first.status.code(), Some(0), "{}", text(&first.stderr));
    assert!(
        text(&first.stdout).starts_with("sent 3 messages"),
        "{}",
        text(&first.stdout)
    );
    let mails = fs::read_dir(dir.join("var/maildir/new")).unwrap().count();
    assert_eq!(mails, 3);
    assert!(!dir.join("var/state.sqlite").exists(), "no SQLite file");
    // The same moment again, and an hour later: nothing new.
    for now in ["2027-01-08T08:00:00Z", "2027-01-08T09:00:00Z"] {
        let again = pass(now);
        assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
        assert!(
            text(&again.stdout).starts_with("sent 0 messages"),
            "{}",
            text(&again.stdout)
        );
    }
    assert_eq!(
        fs::read_dir(dir.join("var/maildir/new")).unwrap().count(),
        3
    );

    // Another address key on the same database: refused, naming it.
    fs::write(dir.join("var/address.key"), [7u8; 32]).unwrap();
    let refused = pass("2027-01-09T08:00:00Z");
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stdout));
    let said = text(&refused.stderr);
    assert!(said.contains("is not the one the state database"), "{said}");
    assert!(said.contains("postgres://127.0.0.1:"), "{said}");
}

#[test]
fn a_database_that_cannot_be_reached_is_a_clear_error() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = postgres_setup(
        dir,
        &format!("postgres://mechcal@127.0.0.1:{port}/mechcal?sslmode=disable"),
    );
    fs::write(dir.join("pw"), "s3cret-pass\n").unwrap();
    let text_config = fs::read_to_string(&config)
        .unwrap()
        .replace("key_file = ", "password_file = \"pw\"\nkey_file = ");
    fs::write(&config, text_config).unwrap();
    let out = mechcal(
        dir,
        &["--config", config.to_str().unwrap(), "remind", "--now", NOW],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let said = text(&out.stderr);
    assert!(
        said.contains(&format!(
            "the state database postgres://127.0.0.1:{port}/mechcal"
        )),
        "{said}"
    );
    assert!(!said.contains("s3cret"), "{said}");
}

/// An existing service moves to PostgreSQL with `state copy` and back:
/// after each copy a pass sends nothing new.
#[test]
fn state_copy_moves_a_service_without_reminding_anyone_again() {
    let Some(url) = server::database(
        "cli::postgres::state_copy_moves_a_service_without_reminding_anyone_again",
    ) else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = reminders_setup(dir);
    let cfg = config.to_str().unwrap().to_string();
    let run = |args: &[&str]| {
        let mut all = vec!["--config", cfg.as_str()];
        all.extend(args);
        mechcal(dir, &all)
    };
    let sent = |out: &Output| {
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    assert!(sent(&run(&["remind", "--now", "2027-01-08T08:00:00Z"])).starts_with("sent 3 messages"));

    // SQLite → PostgreSQL.
    let copied = run(&["state", "copy", "--to", &url]);
    let said = sent(&copied);
    assert!(said.starts_with("copied "), "{said}");
    assert!(said.contains("  reminders: 7\n"), "{said}");
    assert!(said.contains("to postgres://127.0.0.1:"), "{said}");
    // Not twice into the same database.
    let again = run(&["state", "copy", "--to", &url]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("is not empty"),
        "{}",
        text(&again.stderr)
    );

    let sqlite_config = fs::read_to_string(&config).unwrap();
    postgres_setup(dir, &url);
    assert!(sent(&run(&["remind", "--now", "2027-01-08T09:00:00Z"])).starts_with("sent 0 messages"));

    // PostgreSQL → a new SQLite file, the way back.
    let back = dir.join("var/back.sqlite");
    assert!(sent(&run(&["state", "copy", "--to", back.to_str().unwrap()])).starts_with("copied "));
    let refused = run(&["state", "copy", "--to", back.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        text(&refused.stderr).contains("exists"),
        "{}",
        text(&refused.stderr)
    );
    let with_password = run(&[
        "state",
        "copy",
        "--to",
        dir.join("other.sqlite").to_str().unwrap(),
        "--password-file",
        "pw",
    ]);
    assert_eq!(with_password.status.code(), Some(2));
    fs::write(
        &config,
        sqlite_config.replace("var/state.sqlite", "var/back.sqlite"),
    )
    .unwrap();
    assert!(sent(&run(&["remind", "--now", "2027-01-08T10:00:00Z"])).starts_with("sent 0 messages"));
    assert_eq!(
        fs::read_dir(dir.join("var/maildir/new")).unwrap().count(),
        3
    );
}

/// TLS to PostgreSQL is verified end to end: against a server that takes
/// TLS connections only (a test CA's certificate for 127.0.0.1 and
/// `localhost`), a pass runs with `sslrootcert` or with the CA among the
/// system's certificates; another CA, another host name, a missing CA file
/// or plain text are each a clear error, and nothing is sent.
#[test]
fn tls_to_postgres_is_verified_or_refused() {
    let Some(server) = server::own("cli::postgres::tls_to_postgres_is_verified_or_refused") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let certs = dir.join("certs");
    crate::smtp::make_certs(&certs);
    let other = dir.join("other-certs");
    crate::smtp::make_certs(&other);
    server.require_tls(&certs);
    let plain = server.database();
    let name = plain
        .rsplit('/')
        .next()
        .unwrap()
        .trim_end_matches("?sslmode=disable");
    let port = server.port;
    let ca = certs.join("ca.pem");
    let config = postgres_setup(dir, &plain);
    let pass = |url: &str, ssl_cert_file: &Path| {
        let text_config = fs::read_to_string(&config).unwrap();
        let current = text_config
            .lines()
            .find(|l| l.starts_with("url = "))
            .unwrap()
            .to_string();
        fs::write(
            &config,
            text_config.replace(&current, &format!("url = \"{url}\"")),
        )
        .unwrap();
        Command::new(env!("CARGO_BIN_EXE_mechcal"))
            .current_dir(dir)
            .args([
                "--config",
                config.to_str().unwrap(),
                "remind",
                "--now",
                "2027-01-08T08:00:00Z",
            ])
            .env("SSL_CERT_FILE", ssl_cert_file)
            .env_remove("SSL_CERT_DIR")
            .output()
            .unwrap()
    };
    let mails = || fs::read_dir(dir.join("var/maildir/new")).map_or(0, |d| d.count());
    let verified = |host: &str, extra: &str| {
        format!("postgres://postgres@{host}:{port}/{name}?sslmode=verify-full{extra}")
    };

    for (what, url, trusted, error) in [
        (
            "plain text",
            plain.clone(),
            ca.clone(),
            "no encryption\n  help: the server takes TLS connections only".to_string(),
        ),
        (
            "another CA",
            verified(
                "127.0.0.1",
                &format!("&sslrootcert={}", other.join("ca.pem").display()),
            ),
            ca.clone(),
            "invalid peer certificate".to_string(),
        ),
        (
            "the system's CAs, which do not hold the test CA",
            verified("127.0.0.1", ""),
            other.join("ca.pem"),
            "invalid peer certificate".to_string(),
        ),
        (
            "another host name",
            verified(
                "db.example",
                &format!("&hostaddr=127.0.0.1&sslrootcert={}", ca.display()),
            ),
            ca.clone(),
            "certificate not valid for name \"db.example\"".to_string(),
        ),
        (
            "a missing CA file",
            verified(
                "127.0.0.1",
                &format!("&sslrootcert={}", dir.join("nowhere.pem").display()),
            ),
            ca.clone(),
            format!(
                "`sslrootcert` {}: no such file or directory",
                dir.join("nowhere.pem").display()
            ),
        ),
    ] {
        let out = pass(&url, &trusted);
        let said = text(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {said}");
        assert!(said.contains(&error), "{what}: {said}");
        assert!(
            said.contains("the state database postgres://") || what == "a missing CA file",
            "{what}: {said}"
        );
        assert_eq!(mails(), 0, "{what}");
    }

    let with_roots = pass(
        &verified("127.0.0.1", &format!("&sslrootcert={}", ca.display())),
        &other.join("ca.pem"),
    );
    assert_eq!(
        with_roots.status.code(),
        Some(0),
        "{}",
        text(&with_roots.stderr)
    );
    assert!(
        text(&with_roots.stdout).starts_with("sent 3 messages"),
        "{}",
        text(&with_roots.stdout)
    );
    assert_eq!(mails(), 3);
    // By name, trusting the system's certificates (here: the test CA).
    let by_name = pass(&verified("localhost", ""), &ca);
    assert_eq!(by_name.status.code(), Some(0), "{}", text(&by_name.stderr));
    assert!(text(&by_name.stdout).starts_with("sent 0 messages"));
}
