//! The daemon's configuration (`config/mechcal.toml`).
//!
//! Parsed once into real types (`Tz`, paths resolved against the config
//! file's directory) and never re-read as strings. Unknown sections and keys
//! are errors with "did you mean", reported like data errors
//! (`path:line:column`). Each later concern adds its own section here.
//!
//! This file holds the types and their defaults; `parse` reads the file
//! (one function per section; those of the reminders' sections are in
//! `reminders`); `tests` has an error snapshot per class.

pub mod keys;
mod parse;
mod postgres;

pub use postgres::{postgres_config, PostgresUrl, Tls as PostgresTls};
mod reminders;
mod watch;

pub use watch::show as show_duration;

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};

use chrono::Duration;
use chrono_tz::Tz;

use crate::model::alarm::Alarm;

/// The sample configuration, shipped in the binary too (`mechcal default-config`).
pub const SAMPLE: &str = include_str!("../../../config/mechcal.toml");

/// Reminder passes run at 08:00 every day by default.
pub const DEFAULT_SCHEDULE: &str = "0 0 8 * * *";

/// Yearly dates are listed two years ahead by default.
pub const DEFAULT_HORIZON_DAYS: u32 = 730;

/// The shortest and longest `horizon_days`: at least a year, so that the
/// next occurrence of a yearly date is always listed (and reminded of,
/// reminder offsets being at most 365 days).
pub const HORIZON_DAYS: std::ops::RangeInclusive<u32> = 366..=3650;

/// The default zone: Geneva time, where most UN mechanisms sit.
pub const DEFAULT_TIMEZONE: Tz = Tz::Europe__Zurich;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The file this came from; `None` for built-in defaults.
    pub file: Option<PathBuf>,
    pub calendar: CalendarConfig,
    pub data: DataConfig,
    pub state: StateConfig,
    pub server: ServerConfig,
    pub reminders: RemindersConfig,
    pub subscriptions: SubscriptionsConfig,
    pub mail: MailConfig,
    /// `[alerts] staff`: who is mailed when the data, the config or the git
    /// sync goes wrong (through `[mail]`), and when a watched page is gone
    /// or changed (`[watch]`).
    pub alerts: Vec<String>,
    pub watch: WatchConfig,
}

/// The shortest and longest `[watch] interval`.
pub const MIN_INTERVAL: std::time::Duration = std::time::Duration::from_secs(300);
pub const MAX_INTERVAL: std::time::Duration = std::time::Duration::from_secs(7 * 86_400);

/// `[watch]`: checking the pages deadlines link to (`url`, `source`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WatchConfig {
    /// Whether `serve` checks them every `interval` (`mechcal watch` runs
    /// a pass whatever this says).
    pub enabled: bool,
    pub interval: std::time::Duration,
    /// Bounds each request, redirects and body included.
    pub timeout: std::time::Duration,
    /// Bytes of a body read at most (after decompression); the rest is
    /// not read.
    pub max_body: usize,
    /// The least time between two requests to one host.
    pub host_delay: std::time::Duration,
    /// Hosts checked at the same time (one request at a time each).
    pub hosts_at_once: usize,
    /// Failed checks in a row (5xx, timeouts…) that make a problem.
    pub failures: u32,
    /// Named in the User-Agent: an e-mail address or a page.
    pub contact: Option<String>,
    /// A proxy for every request (`socks5h://…` for Tor); without it the
    /// `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` / `NO_PROXY` variables apply.
    pub proxy: Option<String>,
    /// Whether URLs and redirects may lead to loopback, private and
    /// link-local addresses (tests; an intranet).
    pub allow_private: bool,
}

impl Default for WatchConfig {
    fn default() -> Self {
        WatchConfig {
            enabled: false,
            interval: std::time::Duration::from_secs(6 * 3600),
            timeout: std::time::Duration::from_secs(30),
            max_body: 2 << 20,
            host_delay: std::time::Duration::from_secs(2),
            hosts_at_once: 8,
            failures: 3,
            contact: None,
            proxy: None,
            allow_private: false,
        }
    }
}

/// `[calendar]`: how the calendar names itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarConfig {
    /// Shown as the feed and page title.
    pub name: String,
    /// The right-hand side of every event UID (`<id>@<domain>`). Changing it
    /// makes every subscriber's calendar see new events, so it has no default
    /// in a config file.
    pub domain: String,
    /// The zone of deadlines that name none.
    pub timezone: Tz,
    /// Where the server is reachable, for subscribe links; ends in `/`.
    pub base_url: String,
    /// Entries due more than this many days ago are left out of feeds.
    pub keep_past_days: u32,
    /// How far ahead yearly dates are listed, in days (at least a year,
    /// so that every reminder offset has its occurrence).
    pub horizon_days: u32,
    /// How often clients should poll a feed.
    pub refresh: Duration,
    /// The alarm built into feed events, unless a feed asks otherwise.
    pub alarm: Option<Alarm>,
}

impl CalendarConfig {
    /// Where yearly dates have their occurrences at `now`.
    pub fn window(&self, now: chrono::DateTime<chrono::Utc>) -> crate::model::schedule::Window {
        crate::model::schedule::Window::around(now, self.keep_past_days, self.horizon_days)
    }
}

/// `[state]`: the state database, a SQLite file (`path`) or PostgreSQL
/// (`url`), which replicas share.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateConfig {
    /// The SQLite file, unless `url` is set.
    pub path: PathBuf,
    /// PostgreSQL's `postgres://` URL (no password in it).
    pub url: Option<String>,
    /// The file holding PostgreSQL's password (the systemd credential
    /// `state-password` takes precedence).
    pub password_file: Option<PathBuf>,
    /// With `url`: how long a replica's lead lasts without renewal (5–300
    /// s); it renews every third of it.
    pub lease_seconds: u32,
    /// The address key (created if missing, unless the systemd credential
    /// `address-key` is given): it seals self-service addresses and keys
    /// the ledger, so it is needed whenever reminders are on.
    pub key_file: PathBuf,
}

impl StateConfig {
    /// Whether there is a state to read: a PostgreSQL database always is
    /// (it is created on connect); a SQLite file only once written.
    pub fn exists(&self) -> bool {
        self.url.is_some() || self.path.exists()
    }

    /// Where the state is, for messages (a URL holds no password).
    pub fn shown(&self) -> String {
        match &self.url {
            Some(url) => url.clone(),
            None => self.path.display().to_string(),
        }
    }
}

/// `[subscriptions]`: self-service sign-up on the page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionsConfig {
    /// Whether the form is shown and its routes answer (else 404).
    pub open: bool,
    /// Whether confirmed sign-ups wait for staff (`mechcal subscribers approve`).
    pub approval: Approval,
    /// How long a confirmation link is valid.
    pub confirm_hours: u32,
    /// Sign-ups one client address may make per hour.
    pub per_client_per_hour: u32,
    /// Proxies whose `X-Forwarded-For` names the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Whom the subscribers file's people write to about their topics
    /// (shown on their preference page).
    pub contact: Option<String>,
}

/// Who lets a confirmed sign-up in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Approval {
    /// The confirmation alone.
    None,
    /// Staff, after the confirmation.
    Staff,
}

/// `[reminders]`: who is reminded, when, and of what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RemindersConfig {
    /// The subscribers file (kept out of the public deadline repository);
    /// `None`: no reminders.
    pub subscribers: Option<PathBuf>,
    /// Days before a deadline, largest first, for subscribers and deadlines
    /// that set none.
    pub remind_days: Vec<u16>,
    /// When reminder passes run (seconds first: `0 0 8 * * *`).
    pub schedule: CronSchedule,
    /// The zone `schedule` is read in.
    pub timezone: Tz,
    /// Where the unsubscribe-token key is kept (created if missing), unless
    /// `MECHCAL_UNSUBSCRIBE_SECRET` is set.
    pub secret_file: PathBuf,
}

/// `[mail]`: how reminders leave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MailConfig {
    /// `From:` of every reminder: by default the calendar's name at
    /// `reminders@` its domain.
    pub from: String,
    /// What subscribers' subjects start with, in brackets: `[mail]
    /// subject_prefix`, by default `[calendar] name`; empty for none.
    /// (Discreet mail shows neither.)
    pub subject_prefix: String,
    pub transport: Transport,
    /// `[mail.dkim]`: mechcal signs what it sends.
    pub dkim: Option<DkimConfig>,
}

/// `[mail.dkim]`: the signing domain (`d=`), the selector (`s=`) and the
/// private key (RSA or Ed25519, PEM; the systemd credential `dkim-key`
/// takes precedence over the file).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DkimConfig {
    pub domain: String,
    pub selector: String,
    pub key_file: PathBuf,
}

/// Where messages go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Transport {
    /// Files in a Maildir (`tmp/`, `new/`, `cur/`): nothing external needed.
    Maildir(PathBuf),
    Smtp(SmtpConfig),
}

/// An SMTP relay. The password is never in the config: it is read from an
/// environment variable or a file (e.g. a systemd credential) when sending.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub tls: SmtpTls,
    pub username: Option<String>,
    pub password_env: Option<String>,
    pub password_file: Option<PathBuf>,
    /// Bounds each message's whole SMTP exchange.
    pub timeout: std::time::Duration,
    /// A message refused with 5xx is marked failed after this many attempts.
    pub max_attempts: u32,
    /// Waits between tries of a transiently failed message within one pass.
    pub retry_seconds: Vec<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SmtpTls {
    /// TLS from the first byte (port 465).
    Implicit,
    /// STARTTLS, required (port 587).
    Starttls,
    /// Plain text: only when written out, meant for a relay on loopback.
    None,
}

/// A parsed cron expression, with its text for messages.
#[derive(Clone, Debug)]
pub struct CronSchedule {
    pub text: String,
    pub schedule: cron::Schedule,
}

impl PartialEq for CronSchedule {
    fn eq(&self, other: &Self) -> bool {
        self.text == other.text
    }
}

impl Eq for CronSchedule {}

impl CronSchedule {
    pub fn parse(text: &str) -> Result<CronSchedule, String> {
        text.parse::<cron::Schedule>()
            .map(|schedule| CronSchedule {
                text: text.to_string(),
                schedule,
            })
            .map_err(|e| e.to_string())
    }
}

/// `[server]`: the HTTP server of `mechcal serve`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// A client must send a whole request head within this many seconds of
    /// connecting or of its previous response (slowloris, idle keep-alive).
    pub header_timeout_seconds: u64,
    /// A write to a client that stays blocked this long (a client that does
    /// not read) closes the connection.
    pub write_timeout_seconds: u64,
    /// Connections open at once; more wait in the kernel's queue.
    pub max_connections: usize,
    /// Connections one client address may hold open (reverse proxies in
    /// `[subscriptions] trusted_proxies` excepted); at most
    /// `max_connections`.
    pub max_connections_per_client: usize,
    /// The most bytes all cached renderings (bodies, their gzip copies,
    /// their headers) take together.
    pub cache_bytes: usize,
    /// Who is shown `/healthz`'s diagnostics.
    pub health_details: HealthDetails,
    /// Who may read `/metrics` (everyone else gets a 404): its counters
    /// move with sign-ups, mail and watch passes, which is staff's
    /// business, not the public's.
    pub metrics: HealthDetails,
}

/// `[server] health_details`: who sees the diagnostics on `/healthz` (they
/// name files, lines and values of the deadline repository and the config).
/// Everyone else gets the status, counts and times only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthDetails {
    /// Clients on a loopback address whose request came through no proxy
    /// (no `Forwarded` / `X-Forwarded-For` / `X-Real-IP` header).
    Loopback,
    Everyone,
    Nobody,
}

/// The default of `[server] max_connections_per_client` (lowered to
/// `max_connections` when that is smaller).
pub const DEFAULT_PER_CLIENT: usize = 256;

/// The default of `[server] cache_mib`.
pub const DEFAULT_CACHE_MIB: usize = 64;

/// `[data]`: where the deadline repository is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataConfig {
    pub deadlines: PathBuf,
    /// The most bytes the repository's files may hold together.
    pub max_bytes: u64,
    /// `[data.git]`: the daemon fetches and fast-forwards the checkout that
    /// holds `deadlines`.
    pub git: Option<GitConfig>,
}

/// `[data.git]`: follow a branch of a remote.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GitConfig {
    /// A remote's name in the checkout (`origin`) or a URL.
    pub remote: String,
    pub branch: String,
    /// Seconds between fetches.
    pub interval_seconds: u64,
}

impl Config {
    /// Built-in defaults, for `mechcal check DIR` run without a config file
    /// (e.g. in the data repository's own CI).
    pub fn defaults(deadlines: PathBuf) -> Config {
        let base = deadlines
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        Config {
            file: None,
            calendar: CalendarConfig {
                name: "mechcal".into(),
                domain: "localhost".into(),
                timezone: DEFAULT_TIMEZONE,
                base_url: "http://127.0.0.1:8080/".into(),
                keep_past_days: 365,
                horizon_days: DEFAULT_HORIZON_DAYS,
                refresh: Duration::hours(6),
                alarm: Alarm::parse("-P1D"),
            },
            data: DataConfig {
                deadlines,
                max_bytes: crate::load::deadlines::DEFAULT_MAX_BYTES,
                git: None,
            },
            state: StateConfig {
                path: normalize(&base.join("var/mechcal.sqlite")),
                url: None,
                password_file: None,
                lease_seconds: 30,
                key_file: normalize(&base.join("var/address.key")),
            },
            subscriptions: SubscriptionsConfig {
                open: false,
                approval: Approval::None,
                confirm_hours: 48,
                per_client_per_hour: 10,
                trusted_proxies: Vec::new(),
                contact: None,
            },
            server: ServerConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
                header_timeout_seconds: 10,
                write_timeout_seconds: 30,
                max_connections: 4096,
                max_connections_per_client: DEFAULT_PER_CLIENT,
                cache_bytes: DEFAULT_CACHE_MIB << 20,
                health_details: HealthDetails::Loopback,
                metrics: HealthDetails::Loopback,
            },
            reminders: RemindersConfig {
                subscribers: None,
                remind_days: vec![30, 7, 1],
                schedule: CronSchedule::parse(DEFAULT_SCHEDULE)
                    .expect("the default schedule parses"),
                timezone: DEFAULT_TIMEZONE,
                secret_file: normalize(&base.join("var/unsubscribe.secret")),
            },
            mail: MailConfig {
                from: "mechcal <reminders@localhost>".into(),
                subject_prefix: "mechcal".into(),
                transport: Transport::Maildir(normalize(&base.join("var/maildir"))),
                dkim: None,
            },
            alerts: Vec::new(),
            watch: WatchConfig::default(),
        }
    }

    /// A fingerprint of the settings that shape rendered feeds and pages,
    /// with the program version (templates change between releases).
    pub fn render_fingerprint(&self) -> String {
        let c = &self.calendar;
        format!(
            "{}|{}|{}|{}|{}|{}|{}|{:?}",
            env!("CARGO_PKG_VERSION"),
            c.name,
            c.domain,
            c.base_url,
            c.keep_past_days,
            c.horizon_days,
            c.refresh.num_seconds(),
            c.alarm.map(|a| a.0.num_seconds()),
        )
    }
}

/// Removes `.` and `dir/..` from a path without touching the file system, so
/// that messages say `deadlines/a.toml` rather than `config/../deadlines/a.toml`.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else if !matches!(out.components().next_back(), Some(Component::RootDir)) {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests;
