//! The daemon's configuration (`config/mechcal.toml`).
//!
//! Parsed once into real types (`Tz`, paths resolved against the config
//! file's directory) and never re-read as strings. Unknown sections and keys
//! are errors with "did you mean", reported like data errors
//! (`path:line:column`). Each later concern adds its own section here.
//!
//! (Over 600 lines: split into the layer folders of the layout issue, #10,
//! with the rest of the tree; not piecemeal before it.)

use std::net::SocketAddr;
use std::path::{Component, Path, PathBuf};

use chrono::Duration;
use chrono_tz::Tz;

use crate::load::diagnostic::{Diagnostic, SourceFile};
use crate::load::tables::{self as tomlx, Sink, Table};
use crate::load::{values, zone};
use crate::render::feed::{self, Alarm};

/// The sample configuration, shipped in the binary too (`mechcal default-config`).
pub const SAMPLE: &str = include_str!("../../../config/mechcal.toml");

/// Reminder passes run at 08:00 every day by default.
pub const DEFAULT_SCHEDULE: &str = "0 0 8 * * *";

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
    pub mail: MailConfig,
    /// `[alerts] staff`: who is mailed when the data, the config or the git
    /// sync goes wrong (through `[mail]`).
    pub alerts: Vec<String>,
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
    /// How often clients should poll a feed.
    pub refresh: Duration,
    /// The alarm built into feed events, unless a feed asks otherwise.
    pub alarm: Option<Alarm>,
}

/// `[state]`: the SQLite state database.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateConfig {
    pub path: PathBuf,
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
    /// `From:` of every reminder.
    pub from: String,
    pub transport: Transport,
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
    /// The most bytes all cached renderings (bodies, their gzip copies,
    /// their headers) take together.
    pub cache_bytes: usize,
    /// Who is shown `/healthz`'s diagnostics.
    pub health_details: HealthDetails,
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

/// The default of `[server] cache_mib`.
pub const DEFAULT_CACHE_MIB: usize = 64;

/// `[data]`: where the deadline repository is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataConfig {
    pub deadlines: PathBuf,
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
                refresh: Duration::hours(6),
                alarm: Alarm::parse("-P1D"),
            },
            data: DataConfig {
                deadlines,
                git: None,
            },
            state: StateConfig {
                path: normalize(&base.join("var/mechcal.sqlite")),
            },
            server: ServerConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
                header_timeout_seconds: 10,
                write_timeout_seconds: 30,
                max_connections: 4096,
                cache_bytes: DEFAULT_CACHE_MIB << 20,
                health_details: HealthDetails::Loopback,
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
                transport: Transport::Maildir(normalize(&base.join("var/maildir"))),
            },
            alerts: Vec::new(),
        }
    }

    /// A fingerprint of the settings that shape rendered feeds and pages,
    /// with the program version (templates change between releases).
    pub fn render_fingerprint(&self) -> String {
        let c = &self.calendar;
        format!(
            "{}|{}|{}|{}|{}|{}|{:?}",
            env!("CARGO_PKG_VERSION"),
            c.name,
            c.domain,
            c.base_url,
            c.keep_past_days,
            c.refresh.num_seconds(),
            c.alarm.map(|a| a.0.num_seconds()),
        )
    }

    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Config, Vec<Diagnostic>> {
        let text = match std::fs::read(path) {
            Ok(bytes) => crate::load::deadlines::decode(path, bytes).map_err(|d| vec![d])?,
            Err(e) => {
                return Err(vec![Diagnostic::file_error(
                    path,
                    format!(
                        "cannot read config file: {}",
                        crate::load::deadlines::io_reason(&e)
                    ),
                )
                .with_help("pass another file with `--config FILE`")])
            }
        };
        Config::parse(&SourceFile::new(path, text))
    }

    /// Parses config text; relative paths resolve against the file's directory.
    pub fn parse(file: &SourceFile) -> Result<Config, Vec<Diagnostic>> {
        let base = file.path().parent().unwrap_or(Path::new(""));
        let mut sink = Sink::new(file);
        let mut config = Config::defaults(normalize(&base.join("deadlines")));
        config.file = Some(file.path().to_path_buf());
        config.state.path = normalize(&base.join("var/mechcal.sqlite"));
        config.reminders.secret_file = normalize(&base.join("var/unsubscribe.secret"));
        config.mail.transport = Transport::Maildir(normalize(&base.join("var/maildir")));
        let Some(doc) = tomlx::parse_document(file, &mut sink) else {
            let mut diags = sink.diags;
            crate::load::diagnostic::sort(&mut diags);
            return Err(diags);
        };
        let root = Table::new(&doc, 0..0, "the config");
        root.check_keys(
            &mut sink,
            &[
                "calendar",
                "data",
                "state",
                "server",
                "reminders",
                "mail",
                "alerts",
            ],
        );

        match root.optional_table(&mut sink, "calendar") {
            Some(cal) => calendar(&mut sink, &cal, &mut config.calendar),
            None if root.get("calendar").is_none() => {
                sink.error(0..0, "the config has no `[calendar]` section")
                    .help = Some(
                    "add `[calendar]` with at least `domain = \"calendar.example.org\"`".into(),
                );
            }
            None => {}
        }
        if let Some(data) = root.optional_table(&mut sink, "data") {
            data.check_keys(&mut sink, &["deadlines", "git"]);
            if let Some(dir) = data.optional_str(&mut sink, "deadlines") {
                if dir.get_ref().trim().is_empty() {
                    sink.error(dir.span(), "`deadlines` must name a directory");
                } else {
                    config.data.deadlines = normalize(&base.join(dir.get_ref()));
                }
            }
            if let Some(git) = data.optional_table(&mut sink, "git") {
                config.data.git = git_config(&mut sink, &git);
            }
        }
        if let Some(state) = root.optional_table(&mut sink, "state") {
            state.check_keys(&mut sink, &["path"]);
            if let Some(path) = state.optional_str(&mut sink, "path") {
                if path.get_ref().trim().is_empty() {
                    sink.error(path.span(), "`path` must name a file");
                } else {
                    config.state.path = normalize(&base.join(path.get_ref()));
                }
            }
        }
        if let Some(server) = root.optional_table(&mut sink, "server") {
            server.check_keys(
                &mut sink,
                &[
                    "listen",
                    "header_timeout_seconds",
                    "write_timeout_seconds",
                    "max_connections",
                    "cache_mib",
                    "health_details",
                ],
            );
            let s = &mut config.server;
            if let Some(n) = bounded(&mut sink, &server, "header_timeout_seconds", 1, 300) {
                s.header_timeout_seconds = n as u64;
            }
            if let Some(n) = bounded(&mut sink, &server, "write_timeout_seconds", 1, 600) {
                s.write_timeout_seconds = n as u64;
            }
            if let Some(n) = bounded(&mut sink, &server, "max_connections", 16, 100_000) {
                s.max_connections = n as usize;
            }
            if let Some(n) = bounded(&mut sink, &server, "cache_mib", 1, 65_536) {
                s.cache_bytes = (n as usize) << 20;
            }
            if let Some(v) = server.optional_str(&mut sink, "health_details") {
                match v.get_ref().as_ref() {
                    "loopback" => s.health_details = HealthDetails::Loopback,
                    "everyone" => s.health_details = HealthDetails::Everyone,
                    "nobody" => s.health_details = HealthDetails::Nobody,
                    other => {
                        let d = sink.error(v.span(), format!("unknown `health_details` `{other}`"));
                        d.help = Some(
                            crate::load::suggest::did_you_mean(
                                other,
                                ["loopback", "everyone", "nobody"],
                            )
                            .unwrap_or_else(|| {
                                "use `loopback` (the default), `everyone` or `nobody`".into()
                            }),
                        );
                    }
                }
            }
            if let Some(listen) = server.optional_str(&mut sink, "listen") {
                match listen.get_ref().parse::<SocketAddr>() {
                    Ok(addr) => config.server.listen = addr,
                    Err(_) => {
                        sink.error(
                            listen.span(),
                            format!("`listen` must be an IP address and port, not `{}`", listen.get_ref()),
                        )
                        .help = Some("e.g. `127.0.0.1:8080`, or `[::1]:8080`; put a reverse proxy in front for TLS".into());
                    }
                }
            }
        }
        let mut reminders_tz = None;
        if let Some(r) = root.optional_table(&mut sink, "reminders") {
            reminders_tz = reminders(&mut sink, &r, base, &mut config.reminders);
        }
        config.mail.from = format!("mechcal <reminders@{}>", config.calendar.domain);
        if let Some(m) = root.optional_table(&mut sink, "mail") {
            mail(&mut sink, &m, base, &mut config.mail);
        }
        if let Some(alerts) = root.optional_table(&mut sink, "alerts") {
            alerts.check_keys(&mut sink, &["staff"]);
            if let Some(v) = alerts.get("staff") {
                if let Some(items) =
                    tomlx::as_array(&mut sink, "staff", v, "[\"staff@example.org\"]")
                {
                    for item in items {
                        let Some(address) = tomlx::as_str(&mut sink, "each of `staff`", item)
                        else {
                            continue;
                        };
                        if address.get_ref().parse::<lettre::Address>().is_ok() {
                            config.alerts.push(address.get_ref().clone());
                        } else {
                            sink.error(
                                address.span(),
                                format!("`{}` is not an e-mail address", address.get_ref()),
                            )
                            .help = Some("e.g. `staff = [\"calendar-team@example.org\"]`".into());
                        }
                    }
                }
            }
        }
        // The schedule's zone defaults to the calendar's, whichever is read first.
        config.reminders.timezone = reminders_tz.unwrap_or(config.calendar.timezone);
        if sink.has_errors() {
            let mut diags = sink.diags;
            crate::load::diagnostic::sort(&mut diags);
            Err(diags)
        } else {
            Ok(config)
        }
    }
}

fn calendar(sink: &mut Sink<'_>, t: &Table<'_, '_>, out: &mut CalendarConfig) {
    t.check_keys(
        sink,
        &[
            "name",
            "domain",
            "timezone",
            "base_url",
            "keep_past_days",
            "refresh",
            "alarm",
        ],
    );
    if let Some(name) = t.optional_str(sink, "name") {
        if name.get_ref().trim().is_empty() || name.get_ref().contains(['\n', '\r']) {
            sink.error(name.span(), "`name` must be a non-empty single line");
        } else if let Some(c) = name
            .get_ref()
            .chars()
            .find(|c| matches!(c, ',' | ';' | '\\'))
        {
            sink.error(name.span(), format!("`name` must not contain `{c}`"))
                .help = Some("calendar applications disagree on how to read `,` `;` and `\\` in a calendar's name; use `–` or `·` instead".into());
        } else {
            out.name = name.get_ref().trim().to_string();
        }
    }
    if let Some(domain) = t.required_str(sink, "domain", "\"calendar.example.org\"") {
        if is_domain(domain.get_ref()) {
            out.domain = domain.get_ref().to_ascii_lowercase();
        } else {
            sink.error(
                domain.span(),
                format!("`domain` must be a DNS name, not `{}`", domain.get_ref()),
            )
            .help = Some(
                "event UIDs are `<id>@<domain>`: use a domain the organisation controls, e.g. `calendar.example.org`"
                    .into(),
            );
        }
    }
    if let Some(tz) = t.optional_str(sink, "timezone") {
        match zone::parse(tz.get_ref()) {
            Ok(z) => out.timezone = z,
            Err(e) => sink.error(tz.span(), e.message).help = e.help,
        }
    }
    if let Some(url) = t.optional_str(sink, "base_url") {
        if let Some(u) = values::check_http_url(sink, "base_url", &url) {
            out.base_url = if u.ends_with('/') { u } else { format!("{u}/") };
        }
    }
    if let Some(v) = t.get("keep_past_days") {
        if let Some(n) = tomlx::as_integer(sink, "`keep_past_days`", v) {
            match u32::try_from(n) {
                Ok(n) if n <= 3650 => out.keep_past_days = n,
                _ => {
                    sink.error(v.span(), "`keep_past_days` must be between 0 and 3650");
                }
            }
        }
    }
    if let Some(refresh) = t.optional_str(sink, "refresh") {
        match feed::parse_duration(refresh.get_ref()) {
            Some(d) if d >= Duration::minutes(15) && d <= Duration::days(7) => out.refresh = d,
            _ => {
                sink.error(
                    refresh.span(),
                    format!(
                        "`refresh` must be a duration between PT15M and P7D, not `{}`",
                        refresh.get_ref()
                    ),
                )
                .help = Some("e.g. `refresh = \"PT6H\"` (every six hours)".into());
            }
        }
    }
    if let Some(alarm) = t.optional_str(sink, "alarm") {
        if alarm.get_ref() == "none" {
            out.alarm = None;
        } else {
            match Alarm::parse(alarm.get_ref()) {
                Some(a) => out.alarm = Some(a),
                None => {
                    sink.error(
                        alarm.span(),
                        format!(
                            "`alarm` must be a duration before the deadline or `none`, not `{}`",
                            alarm.get_ref()
                        ),
                    )
                    .help = Some(
                        "e.g. `alarm = \"-P1D\"` (one day before), `\"-PT12H\"`, or `\"none\"`"
                            .into(),
                    );
                }
            }
        }
    }
}

/// Reads `[reminders]`; returns its `timezone` if it names one.
fn reminders(
    sink: &mut Sink<'_>,
    t: &Table<'_, '_>,
    base: &Path,
    out: &mut RemindersConfig,
) -> Option<Tz> {
    t.check_keys(
        sink,
        &[
            "subscribers",
            "remind_days",
            "schedule",
            "timezone",
            "secret_file",
        ],
    );
    if let Some(path) = t.optional_str(sink, "secret_file") {
        if path.get_ref().trim().is_empty() {
            sink.error(path.span(), "`secret_file` must name a file");
        } else {
            out.secret_file = normalize(&base.join(path.get_ref()));
        }
    }
    if let Some(path) = t.optional_str(sink, "subscribers") {
        if path.get_ref().trim().is_empty() {
            sink.error(path.span(), "`subscribers` must name a file");
        } else {
            out.subscribers = Some(normalize(&base.join(path.get_ref())));
        }
    }
    if let Some(v) = t.get("remind_days") {
        if let Some(days) = crate::load::deadlines::entry::check_remind_days(sink, v) {
            out.remind_days = days;
        }
    }
    if let Some(text) = t.optional_str(sink, "schedule") {
        match CronSchedule::parse(text.get_ref()) {
            Ok(s) => out.schedule = s,
            Err(e) => {
                sink.error(text.span(), format!("`schedule` is not a valid cron expression: {e}"))
                    .help = Some(
                    "six fields, seconds first, day names for weekdays: `0 0 8 * * *` (08:00 daily), `0 30 7 * * Mon-Fri`"
                        .into(),
                );
            }
        }
    }
    let tz = t.optional_str(sink, "timezone")?;
    match zone::parse(tz.get_ref()) {
        Ok(z) => Some(z),
        Err(e) => {
            sink.error(tz.span(), e.message).help = e.help;
            None
        }
    }
}

fn mail(sink: &mut Sink<'_>, t: &Table<'_, '_>, base: &Path, out: &mut MailConfig) {
    t.check_keys(
        sink,
        &[
            "from",
            "transport",
            "maildir",
            "host",
            "port",
            "tls",
            "username",
            "password_env",
            "password_file",
            "timeout_seconds",
            "max_attempts",
            "retry_seconds",
        ],
    );
    if let Some(from) = t.optional_str(sink, "from") {
        match from.get_ref().parse::<lettre::message::Mailbox>() {
            Ok(_) => out.from = from.get_ref().clone(),
            Err(e) => {
                sink.error(from.span(), format!("`from` is not a valid mailbox: {e}"))
                    .help =
                    Some("e.g. `from = \"mechcal <reminders@calendar.example.org>\"`".into());
            }
        }
    }
    if let Some(transport) = t.optional_str(sink, "transport") {
        match transport.get_ref().as_str() {
            "maildir" => {}
            "smtp" => {
                if let Some(smtp) = smtp(sink, t, base) {
                    out.transport = Transport::Smtp(smtp);
                }
                return;
            }
            other => {
                sink.error(transport.span(), format!("unknown transport `{other}`"))
                    .help = Some("`transport` is `smtp` or `maildir`".into());
            }
        }
    }
    if let Some(dir) = t.optional_str(sink, "maildir") {
        if dir.get_ref().trim().is_empty() {
            sink.error(dir.span(), "`maildir` must name a directory");
        } else {
            out.transport = Transport::Maildir(normalize(&base.join(dir.get_ref())));
        }
    }
}

fn smtp(sink: &mut Sink<'_>, t: &Table<'_, '_>, base: &Path) -> Option<SmtpConfig> {
    let host = t
        .required_str(sink, "host", "\"smtp.example.org\"")?
        .into_inner();
    let tls = match t.optional_str(sink, "tls") {
        None => SmtpTls::Starttls,
        Some(v) => match v.get_ref().as_str() {
            "starttls" => SmtpTls::Starttls,
            "implicit" => SmtpTls::Implicit,
            "none" => SmtpTls::None,
            other => {
                sink.error(v.span(), format!("unknown TLS mode `{other}`"))
                    .help = Some("`tls` is `starttls` (default), `implicit`, or `none` (plain text, for a relay on loopback only)".into());
                return None;
            }
        },
    };
    let number = |sink: &mut Sink<'_>, key: &str, min: i64, max: i64, default: i64| match t.get(key)
    {
        None => Some(default),
        Some(_) => bounded(sink, t, key, min, max),
    };
    let default_port = match tls {
        SmtpTls::Implicit => 465,
        SmtpTls::Starttls => 587,
        SmtpTls::None => 25,
    };
    let port = number(sink, "port", 1, 65535, default_port)?;
    let timeout = number(sink, "timeout_seconds", 1, 600, 30)?;
    let max_attempts = number(sink, "max_attempts", 1, 100, 3)?;
    let retry_seconds = match t.get("retry_seconds") {
        None => vec![1, 5],
        Some(v) => {
            let items = tomlx::as_array(sink, "retry_seconds", v, "[1, 5]")?;
            let mut out = Vec::new();
            for item in items {
                let n = tomlx::as_integer(sink, "each of `retry_seconds`", item)?;
                if !(0..=300).contains(&n) || items.len() > 10 {
                    sink.error(
                        item.span(),
                        "`retry_seconds` holds at most 10 waits of 0 to 300 seconds",
                    );
                    return None;
                }
                out.push(n as u64);
            }
            out
        }
    };
    let username = t.optional_str(sink, "username").map(|u| u.into_inner());
    let password_env = t.optional_str(sink, "password_env").map(|u| u.into_inner());
    let password_file = t
        .optional_str(sink, "password_file")
        .map(|p| normalize(&base.join(p.get_ref())));
    if username.is_some() && password_env.is_none() && password_file.is_none() {
        sink.error(t.span.clone(), "`username` is set but no password source")
            .help = Some("add `password_env = \"MECHCAL_SMTP_PASSWORD\"` or `password_file = \"/run/credentials/mechcal.service/smtp-password\"`; the password itself never goes in the config".into());
        return None;
    }
    Some(SmtpConfig {
        host,
        port: u16::try_from(port).ok()?,
        tls,
        username,
        password_env,
        password_file,
        timeout: std::time::Duration::from_secs(u64::try_from(timeout).ok()?),
        max_attempts: u32::try_from(max_attempts).ok()?,
        retry_seconds,
    })
}

fn is_domain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
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

/// An optional integer key within `min..=max`; `None` when absent or wrong
/// (the error is reported).
fn bounded(sink: &mut Sink<'_>, t: &Table<'_, '_>, key: &str, min: i64, max: i64) -> Option<i64> {
    let v = t.get(key)?;
    let n = tomlx::as_integer(sink, &format!("`{key}`"), v)?;
    if (min..=max).contains(&n) {
        Some(n)
    } else {
        sink.error(v.span(), format!("`{key}` must be between {min} and {max}"));
        None
    }
}

/// `[data.git]`.
fn git_config(sink: &mut Sink<'_>, t: &Table<'_, '_>) -> Option<GitConfig> {
    t.check_keys(sink, &["remote", "branch", "interval"]);
    let mut git = GitConfig {
        remote: "origin".into(),
        branch: "main".into(),
        interval_seconds: 300,
    };
    let mut ok = true;
    // Both reach `git` as arguments: nothing that git could read as an option.
    let plain = |v: &str| {
        !v.is_empty()
            && !v.starts_with('-')
            && !v.chars().any(|c| c.is_whitespace() || c.is_control())
    };
    if let Some(remote) = t.optional_str(sink, "remote") {
        if plain(remote.get_ref()) {
            git.remote = remote.get_ref().clone();
        } else {
            sink.error(
                remote.span(),
                format!(
                    "`remote` must be a remote's name or a URL, not `{}`",
                    remote.get_ref()
                ),
            )
            .help = Some("e.g. `remote = \"origin\"`".into());
            ok = false;
        }
    }
    if let Some(branch) = t.optional_str(sink, "branch") {
        let b = branch.get_ref();
        if plain(b) && !b.contains("..") && !b.contains(['~', '^', ':', '?', '*', '[', '\\']) {
            git.branch = b.clone();
        } else {
            sink.error(
                branch.span(),
                format!("`branch` is not a branch name: `{b}`"),
            )
            .help = Some("e.g. `branch = \"main\"`".into());
            ok = false;
        }
    }
    if let Some(v) = t.get("interval") {
        match parse_interval(v.get_ref()) {
            Some(secs) => git.interval_seconds = secs,
            None => {
                sink.error(
                    v.span(),
                    "`interval` must be between 1 second and 1 day: seconds, or a number with `s`, `m` or `h`",
                )
                .help = Some("e.g. `interval = \"5m\"` or `interval = 300`".into());
                ok = false;
            }
        }
    }
    ok.then_some(git)
}

/// `300`, `"300s"`, `"5m"`, `"1h"` → seconds, within 1 s ..= 1 day.
fn parse_interval(v: &toml::de::DeValue<'_>) -> Option<u64> {
    let secs = match v {
        toml::de::DeValue::Integer(i) if i.radix() == 10 => {
            i.as_str().replace('_', "").parse::<u64>().ok()?
        }
        toml::de::DeValue::String(s) => {
            let s = s.trim();
            let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let (digits, unit) = s.split_at(split);
            let n: u64 = digits.parse().ok()?;
            n.checked_mul(match unit.trim() {
                "" | "s" => 1,
                "m" => 60,
                "h" => 3600,
                _ => return None,
            })?
        }
        _ => return None,
    };
    (1..=86_400).contains(&secs).then_some(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

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
            (c.server.cache_bytes, c.server.health_details),
            (64 << 20, HealthDetails::Loopback)
        );
        let tuned = parse(
            "[calendar]\ndomain = \"x.org\"\n[server]\ncache_mib = 8\nhealth_details = \"nobody\"\n",
        )
        .unwrap();
        assert_eq!(
            (tuned.server.cache_bytes, tuned.server.health_details),
            (8 << 20, HealthDetails::Nobody)
        );
        for bad in ["cache_mib = 0", "health_details = \"loopbak\""] {
            let text = format!("[calendar]\ndomain = \"x.org\"\n[server]\n{bad}\n");
            let err = parse(&text).unwrap_err();
            assert!(
                err.contains("must be between 1 and 65536")
                    || err.contains("did you mean `loopback`?"),
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
        assert_eq!(
            c.data.deadlines,
            PathBuf::from("/var/lib/mechcal/data/deadlines")
        );
        assert_eq!(c.data.git.as_ref().map(|g| g.interval_seconds), Some(120));
        assert_eq!(c.alerts, ["calendar-team@example.org"]);
        assert!(matches!(c.mail.transport, Transport::Smtp(_)));
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
            ("syntax", "[calendar\ndomain = \"x.org\"\n"),
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
        ];
        for (name, text) in cases {
            let err = parse(text).expect_err(name);
            insta::assert_snapshot!(format!("config_{name}"), err, text);
        }
    }
}
