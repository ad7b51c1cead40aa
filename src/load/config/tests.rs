//! One snapshot per class of config error, and the shipped configs.

use super::*;
use crate::load::diagnostic::SourceFile;

fn parse(text: &str) -> Result<Config, String> {
    Config::parse(&SourceFile::new("config/mechcal.toml", text))
        .map_err(|d| crate::load::diagnostic::render_human(&d))
}

#[test]
fn sample_config_parses() {
    let c = parse(SAMPLE).unwrap();
    assert_eq!(c.calendar.timezone, Tz::Europe__Zurich);
    assert_eq!(c.data.deadlines, PathBuf::from("deadlines"));
    assert_eq!(c.state.path, PathBuf::from("var/mechcal.sqlite"));
    assert_eq!(c.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(
        c.calendar.alarm.map(|a| a.trigger()).as_deref(),
        Some("-P1D")
    );
    assert_eq!(c.calendar.keep_past_days, 365);
    // The sample shows the sign-up flow; the production sample keeps it closed.
    assert!(c.subscriptions.open);
    assert_eq!(c.state.key_file, PathBuf::from("var/address.key"));
    // Watching is off in the sample (it sends requests to the pages' sites).
    assert!(!c.watch.enabled);
    assert_eq!(
        c.watch.contact.as_deref(),
        Some("calendar-team@example.org")
    );
    assert_eq!(
        c.watch,
        WatchConfig {
            contact: c.watch.contact.clone(),
            ..WatchConfig::default()
        }
    );
    assert_eq!(c.mail.subject_prefix, "Deadlines");
    assert_eq!(c.mail.from, "Deadlines <reminders@calendar.example.org>");
    let prod = parse(include_str!("../../../systemd/mechcal.toml")).unwrap();
    assert!(!prod.subscriptions.open);
    assert_eq!(prod.subscriptions.trusted_proxies.len(), 2);
}

#[test]
fn server_limits_and_git() {
    let c = parse("[calendar]\ndomain = \"x.org\"\n").unwrap();
    assert_eq!(c.data.git, None);
    assert_eq!(
        (
            c.server.header_timeout_seconds,
            c.server.write_timeout_seconds
        ),
        (10, 30)
    );
    let c = parse(
        "[calendar]\ndomain = \"x.org\"\n[server]\nheader_timeout_seconds = 3\nwrite_timeout_seconds = 4\nmax_connections = 100\n[data.git]\n",
    )
    .unwrap();
    assert_eq!(
        (
            c.server.header_timeout_seconds,
            c.server.write_timeout_seconds,
            c.server.max_connections
        ),
        (3, 4, 100)
    );
    assert_eq!(
        (
            c.server.cache_bytes,
            c.server.health_details,
            c.server.metrics
        ),
        (64 << 20, HealthDetails::Loopback, HealthDetails::Loopback)
    );
    // A client's share of connections: at most the whole, which lowers it.
    assert_eq!(c.server.max_connections_per_client, 100);
    let err = parse(
        "[calendar]\ndomain = \"x.org\"\n[server]\nmax_connections = 16\nmax_connections_per_client = 32\n",
    )
    .unwrap_err();
    assert!(
        err.contains("`max_connections_per_client` (32) is more than `max_connections` (16)"),
        "{err}"
    );
    let tuned = parse(
        "[calendar]\ndomain = \"x.org\"\n[server]\ncache_mib = 8\nhealth_details = \"nobody\"\nmetrics = \"everyone\"\n",
    )
    .unwrap();
    assert_eq!(
        (
            tuned.server.cache_bytes,
            tuned.server.health_details,
            tuned.server.metrics
        ),
        (8 << 20, HealthDetails::Nobody, HealthDetails::Everyone)
    );
    for bad in [
        "cache_mib = 0",
        "health_details = \"loopbak\"",
        "metrics = \"loopbak\"",
    ] {
        let text = format!("[calendar]\ndomain = \"x.org\"\n[server]\n{bad}\n");
        let err = parse(&text).unwrap_err();
        assert!(
            err.contains("must be between 1 and 65536") || err.contains("did you mean `loopback`?"),
            "{err}"
        );
    }
    assert_eq!(
        c.data.git,
        Some(GitConfig {
            remote: "origin".into(),
            branch: "main".into(),
            interval_seconds: 300
        })
    );
    for (interval, secs) in [
        ("300", Some(300)),
        ("\"300\"", Some(300)),
        ("\"45s\"", Some(45)),
        ("\"5m\"", Some(300)),
        ("\"2h\"", Some(7200)),
        ("\"24h\"", Some(86_400)),
        ("1", Some(1)),
        ("0", None),
        ("\"25h\"", None),
        ("\"5 min\"", None),
        ("\"m\"", None),
        ("-5", None),
        ("0x10", None),
        ("5.0", None),
    ] {
        let got = parse(&format!(
            "[calendar]\ndomain = \"x.org\"\n[data.git]\nremote = \"https://git.example.org/data.git\"\nbranch = \"release/2027\"\ninterval = {interval}\n"
        ));
        assert_eq!(
            got.as_ref()
                .ok()
                .and_then(|c| c.data.git.as_ref())
                .map(|g| g.interval_seconds),
            secs,
            "{interval}: {got:?}"
        );
    }
}

#[test]
fn the_systemd_config_parses() {
    let text = include_str!("../../../systemd/mechcal.toml");
    let c = Config::parse(&SourceFile::new("/etc/mechcal/mechcal.toml", text)).unwrap();
    // As shipped: the packaged sample data, mail to a Maildir, until the
    // operator configures the checkout and the relay (commented out).
    assert_eq!(
        c.data.deadlines,
        PathBuf::from("/usr/share/mechcal/deadlines")
    );
    assert_eq!(c.data.git, None);
    assert_eq!(c.alerts, ["calendar-team@example.org"]);
    assert!(matches!(c.mail.transport, Transport::Maildir(_)));
    assert!(!c.watch.enabled && !c.subscriptions.open);
    let configured = text
        .replace(
            "deadlines = \"/usr/share/mechcal/deadlines\"\n#deadlines",
            "deadlines",
        )
        .replace(
            "#[data.git]\n#remote = \"origin\"\n#branch = \"main\"\n#interval",
            "[data.git]\nremote = \"origin\"\nbranch = \"main\"\ninterval",
        )
        .replace("maildir = \"/var/lib/mechcal/maildir\"\n", "")
        .replace("\n#transport", "\ntransport")
        .replace("\n#host", "\nhost")
        .replace("\n#port", "\nport")
        .replace("\n#tls", "\ntls")
        .replace("\n#username", "\nusername")
        .replace("\n#password_file", "\npassword_file");
    let c = Config::parse(&SourceFile::new("/etc/mechcal/mechcal.toml", &configured)).unwrap();
    assert_eq!(
        c.data.deadlines,
        PathBuf::from("/var/lib/mechcal/data/deadlines")
    );
    assert_eq!(c.data.git.as_ref().map(|g| g.interval_seconds), Some(120));
    assert!(matches!(c.mail.transport, Transport::Smtp(_)));
}

#[test]
fn watch_durations_and_proxy() {
    let c = parse(
        "[calendar]\ndomain = \"x.org\"\n[watch]\nenabled = true\ncontact = \"https://x.org/contact\"\n\
         interval = \"90m\"\ntimeout = 45\nhost_delay = \"250ms\"\nmax_body_kib = 512\n\
         proxy = \"socks5h://127.0.0.1:9050\"\nallow_private = true\n",
    )
    .unwrap();
    let w = &c.watch;
    assert!(w.enabled && w.allow_private);
    assert_eq!(w.interval, std::time::Duration::from_secs(5400));
    assert_eq!(w.timeout, std::time::Duration::from_secs(45));
    assert_eq!(w.host_delay, std::time::Duration::from_millis(250));
    assert_eq!(w.max_body, 512 << 10);
    assert_eq!(w.proxy.as_deref(), Some("socks5h://127.0.0.1:9050"));
    for (d, text) in [
        (250, "250ms"),
        (30_000, "30s"),
        (300_000, "5m"),
        (21_600_000, "6h"),
        (604_800_000, "7d"),
    ] {
        assert_eq!(show_duration(std::time::Duration::from_millis(d)), text);
    }
}

#[test]
fn normalize_table() {
    for (input, expected) in [
        ("config/../deadlines", "deadlines"),
        ("./config/./x", "config/x"),
        ("../x", "../x"),
        ("a/../../x", "../x"),
        ("/a/../../x", "/x"),
        ("a/..", "."),
    ] {
        assert_eq!(
            normalize(Path::new(input)),
            PathBuf::from(expected),
            "{input}"
        );
    }
}

#[test]
fn errors() {
    let cases = [
        (
            "geneva",
            "[calendar]\ndomain = \"x.org\"\ntimezone = \"Europe/Geneva\"\n",
        ),
        ("unknown_section", "[calender]\ndomain = \"x.org\"\n"),
        (
            "unknown_key",
            "[calendar]\ndomain = \"x.org\"\nbase_uri = \"https://x.org\"\n",
        ),
        ("missing_domain", "[calendar]\nname = \"x\"\n"),
        ("bad_domain", "[calendar]\ndomain = \"https://x.org/\"\n"),
        (
            "bad_base_url",
            "[calendar]\ndomain = \"x.org\"\nbase_url = \"ftp://x.org\"\n",
        ),
        ("section_not_table", "calendar = \"x\"\n"),
        (
            "signup_without_reminders",
            "[calendar]\ndomain = \"x.org\"\n[subscriptions]\nopen = true\n",
        ),
        (
            "signup_values",
            "[calendar]\ndomain = \"x.org\"\n[reminders]\nsubscribers = \"s.toml\"\n[subscriptions]\nopen = \"yes\"\napproval = \"staf\"\nconfirm_hours = 0\ntrusted_proxies = [\"proxy.local\"]\n",
        ),
        ("syntax", "[calendar\ndomain = \"x.org\"\n"),
        (
            "state_url_with_password",
            "[calendar]\ndomain = \"x.org\"\n[state]\nurl = \"postgres://me:secret@db.example:5432/mechcal\"\n",
        ),
        (
            "state_path_and_url",
            "[calendar]\ndomain = \"x.org\"\n[state]\npath = \"s.sqlite\"\nurl = \"postgres://me@db.example/mechcal?sslmode=verify-full\"\n",
        ),
        (
            "state_not_postgres",
            "[calendar]\ndomain = \"x.org\"\n[state]\nurl = \"mysql://me@db.example/mechcal\"\n",
        ),
        (
            "state_lease_shorter_than_smtp",
            "[calendar]\ndomain = \"x.org\"\n[state]\nurl = \"postgres://me@db.example/mechcal?sslmode=verify-full\"\nlease_seconds = 30\n[mail]\ntransport = \"smtp\"\nhost = \"relay.example\"\ntimeout_seconds = 30\n",
        ),
        (
            "state_url_in_plain_text",
            "[calendar]\ndomain = \"x.org\"\n[state]\nurl = \"postgres://me@db.example/mechcal\"\n",
        ),
        (
            "state_url_password_in_query",
            "[calendar]\ndomain = \"x.org\"\n[state]\nurl = \"postgres://me@db.example/mechcal?password=hunter2&sslmode=bad\"\n",
        ),
        (
            "state_password_without_url",
            "[calendar]\ndomain = \"x.org\"\n[state]\npassword_file = \"pw\"\n",
        ),
        (
            "data_type",
            "[calendar]\ndomain = \"x.org\"\n[data]\ndeadlines = 5\n",
        ),
        (
            "bad_alarm",
            "[calendar]\ndomain = \"x.org\"\nalarm = \"1 day\"\n",
        ),
        (
            "bad_refresh",
            "[calendar]\ndomain = \"x.org\"\nrefresh = \"PT1M\"\n",
        ),
        (
            "bad_keep_past_days",
            "[calendar]\ndomain = \"x.org\"\nkeep_past_days = -1\n",
        ),
        (
            "bad_horizon_days",
            "[calendar]\ndomain = \"x.org\"\nhorizon_days = 100\n",
        ),
        (
            "bad_listen",
            "[calendar]\ndomain = \"x.org\"\n[server]\nlisten = \"localhost:8080\"\n",
        ),
        (
            "bad_header_timeout",
            "[calendar]\ndomain = \"x.org\"\n[server]\nheader_timeout_seconds = 0\n",
        ),
        (
            "git_remote_option",
            "[calendar]\ndomain = \"x.org\"\n[data.git]\nremote = \"--upload-pack=touch /tmp/x\"\n",
        ),
        (
            "git_bad_branch",
            "[calendar]\ndomain = \"x.org\"\n[data.git]\nbranch = \"main..x\"\n",
        ),
        (
            "git_bad_interval",
            "[calendar]\ndomain = \"x.org\"\n[data.git]\ninterval = \"1d\"\n",
        ),
        (
            "alerts_bad_address",
            "[calendar]\ndomain = \"x.org\"\n[alerts]\nstaff = [\"ops@example.org\", \"ops at example.org\"]\n",
        ),
        (
            "git_unknown_key",
            "[calendar]\ndomain = \"x.org\"\n[data.git]\nbranches = \"main\"\n",
        ),
        (
            "unknown_state_key",
            "[calendar]\ndomain = \"x.org\"\n[state]\ndb = \"x\"\n",
        ),
        (
            "watch_without_contact",
            "[calendar]\ndomain = \"x.org\"\n[watch]\nenabled = true\n",
        ),
        (
            "watch_values",
            "[calendar]\ndomain = \"x.org\"\n[watch]\ninterval = \"1m\"\ntimeout = \"30 seconds\"\nhost_delay = -1\nmax_body_kib = 0\nhosts_at_once = 65\nfailures = 0\nenabled = \"yes\"\n",
        ),
        (
            "watch_contact_and_proxy",
            "[calendar]\ndomain = \"x.org\"\n[watch]\ncontact = \"staff at example.org\"\nproxy = \"tor://127.0.0.1:9050\"\n",
        ),
        (
            "watch_unknown_key",
            "[calendar]\ndomain = \"x.org\"\n[watch]\ndelay = \"2s\"\n",
        ),
    ];
    for (name, text) in cases {
        let err = parse(text).expect_err(name);
        insta::assert_snapshot!(format!("config_{name}"), err, text);
    }
}

/// Mail names the calendar: the default sender and subject prefix are
/// `[calendar] name`; `[mail] subject_prefix` overrides it (empty: none),
/// within one short line without brackets.
#[test]
fn mail_names_the_calendar() {
    let c = parse("[calendar]\ndomain = \"x.org\"\nname = \"Belarus HR deadlines\"\n").unwrap();
    assert_eq!(c.mail.from, "Belarus HR deadlines <reminders@x.org>");
    assert_eq!(c.mail.subject_prefix, "Belarus HR deadlines");
    let c = parse("[calendar]\ndomain = \"x.org\"\n[mail]\nsubject_prefix = \"\"\n").unwrap();
    assert_eq!(c.mail.subject_prefix, "");
    for bad in ["[x]", "a\\u202eb", &"x".repeat(41)] {
        let err = parse(&format!(
            "[calendar]\ndomain = \"x.org\"\n[mail]\nsubject_prefix = \"{bad}\"\n"
        ))
        .unwrap_err();
        assert!(
            err.contains("`subject_prefix` must be one line"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn the_state_on_postgres() {
    let base = "[calendar]\ndomain = \"x.org\"\n";
    let c = parse(base).unwrap();
    assert_eq!((c.state.url.as_deref(), c.state.lease_seconds), (None, 30));
    let c = parse(&format!(
        "{base}[state]\nurl = \"postgres://me@db.example/mechcal?sslmode=verify-full\"\npassword_file = \"pw\"\n"
    ))
    .unwrap();
    assert_eq!(
        c.state.url.as_deref(),
        Some("postgres://me@db.example/mechcal?sslmode=verify-full")
    );
    assert!(c.state.password_file.unwrap().ends_with("config/pw"));
    // With a Maildir the lease stays 30 s; with SMTP it is long enough for
    // the SMTP timeout unless written.
    assert_eq!(c.state.lease_seconds, 30);
    let smtp = format!(
        "{base}[state]\nurl = \"postgres://me@db.example/m?sslmode=verify-full\"\n[mail]\ntransport = \"smtp\"\nhost = \"relay.example\"\n"
    );
    assert_eq!(parse(&smtp).unwrap().state.lease_seconds, 46);
    let fast = smtp.replace("[mail]\n", "[mail]\ntimeout_seconds = 10\n");
    assert_eq!(parse(&fast).unwrap().state.lease_seconds, 30);
}
