//! Reading `mechcal.toml`: every section's keys checked, every problem
//! reported with its place (all of them, not the first).

use std::path::Path;

use chrono::Duration;

use super::*;
use crate::load::diagnostic::{Diagnostic, SourceFile};
use crate::load::tables::{self, Sink, Table};
use crate::load::{values, zone};
use crate::model::alarm::{self, Alarm};

use super::reminders::{mail, reminders, subscriptions};

impl Config {
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
    // Over 100 lines: the table of sections in file order, each read by its own function below; the rest is defaults and cross-section checks that need them all.
    pub fn parse(file: &SourceFile) -> Result<Config, Vec<Diagnostic>> {
        let base = file.path().parent().unwrap_or(Path::new(""));
        let mut sink = Sink::new(file);
        let mut config = Config::defaults(normalize(&base.join("deadlines")));
        config.file = Some(file.path().to_path_buf());
        config.state.path = normalize(&base.join("var/mechcal.sqlite"));
        config.state.key_file = normalize(&base.join("var/address.key"));
        config.reminders.secret_file = normalize(&base.join("var/unsubscribe.secret"));
        config.mail.transport = Transport::Maildir(normalize(&base.join("var/maildir")));
        let Some(doc) = tables::parse_document(file, &mut sink) else {
            let mut diags = sink.diags;
            crate::load::diagnostic::sort(&mut diags);
            return Err(diags);
        };
        let root = Table::new(&doc, 0..0, "the config");
        root.check_keys(&mut sink, keys::SECTIONS);

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
            data.check_keys(&mut sink, keys::DATA);
            // 1 MiB to 4 GiB.
            if let Some(n) = bounded(&mut sink, &data, "max_bytes", 1 << 20, 1 << 32) {
                config.data.max_bytes = n as u64;
            }
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
        let mut lease_span = None;
        if let Some(state) = root.optional_table(&mut sink, "state") {
            state_config(&mut sink, &state, base, &mut config.state);
            lease_span = state.get("lease_seconds").map(|v| v.span());
        }
        if let Some(server) = root.optional_table(&mut sink, "server") {
            server.check_keys(&mut sink, keys::SERVER);
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
            let per_client = bounded(&mut sink, &server, "max_connections_per_client", 1, 100_000);
            match per_client {
                Some(n) if n as usize > s.max_connections => {
                    let span = server
                        .get("max_connections_per_client")
                        .map_or(0..0, |v| v.span());
                    sink.error(
                        span,
                        format!(
                            "`max_connections_per_client` ({n}) is more than `max_connections` ({})",
                            s.max_connections
                        ),
                    )
                    .help = Some("a client's share must be below the whole; e.g. a quarter of `max_connections`".into());
                }
                Some(n) => s.max_connections_per_client = n as usize,
                None => {
                    s.max_connections_per_client =
                        s.max_connections_per_client.min(s.max_connections);
                }
            }
            if let Some(n) = bounded(&mut sink, &server, "cache_mib", 1, 65_536) {
                s.cache_bytes = (n as usize) << 20;
            }
            for key in ["health_details", "metrics"] {
                let Some(v) = server.optional_str(&mut sink, key) else {
                    continue;
                };
                let who = match v.get_ref().as_ref() {
                    "loopback" => HealthDetails::Loopback,
                    "everyone" => HealthDetails::Everyone,
                    "nobody" => HealthDetails::Nobody,
                    other => {
                        let d = sink.error(v.span(), format!("unknown `{key}` `{other}`"));
                        d.help = Some(
                            crate::load::suggest::did_you_mean(
                                other,
                                ["loopback", "everyone", "nobody"],
                            )
                            .unwrap_or_else(|| {
                                "use `loopback` (the default), `everyone` or `nobody`".into()
                            }),
                        );
                        continue;
                    }
                };
                if key == "metrics" {
                    s.metrics = who;
                } else {
                    s.health_details = who;
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
        if let Some(t) = root.optional_table(&mut sink, "subscriptions") {
            subscriptions(&mut sink, &t, &mut config.subscriptions);
            if config.subscriptions.open && config.reminders.subscribers.is_none() {
                let span = t.key_span("open").unwrap_or(0..0);
                sink.error(span, "sign-up needs reminders, which are off")
                    .help = Some("name a subscribers file in `[reminders] subscribers` (it may list nobody), or set `open = false`".into());
            }
        }
        // Mail names the calendar, never the software.
        config.mail.from = format!("reminders@{}", config.calendar.domain)
            .parse::<lettre::Address>()
            .map(|a| {
                lettre::message::Mailbox::new(Some(config.calendar.name.clone()), a).to_string()
            })
            .unwrap_or_else(|_| format!("reminders@{}", config.calendar.domain));
        config.mail.subject_prefix = config.calendar.name.clone();
        if let Some(m) = root.optional_table(&mut sink, "mail") {
            mail(&mut sink, &m, base, &mut config.mail);
        }
        if let Some(alerts) = root.optional_table(&mut sink, "alerts") {
            alerts.check_keys(&mut sink, keys::ALERTS);
            if let Some(v) = alerts.get("staff") {
                if let Some(items) =
                    tables::as_array(&mut sink, "staff", v, "[\"staff@example.org\"]")
                {
                    for item in items {
                        let Some(address) = tables::as_str(&mut sink, "each of `staff`", item)
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
        if let Some(w) = root.optional_table(&mut sink, "watch") {
            super::watch::watch(&mut sink, &w, &mut config.watch);
        }
        // The schedule's zone defaults to the calendar's, whichever is read first.
        config.reminders.timezone = reminders_tz.unwrap_or(config.calendar.timezone);
        // A leader sends a message only while the SMTP exchange can finish
        // before its lease could run out; it renews every third of the
        // lease, so the timeout must fit in two thirds of it.
        if let (Some(_), Transport::Smtp(smtp)) = (&config.state.url, &config.mail.transport) {
            let need = u32::try_from(smtp.timeout.as_secs() * 3 / 2 + 1).unwrap_or(u32::MAX);
            match lease_span {
                Some(span) if config.state.lease_seconds < need => {
                    sink.error(
                        span,
                        format!(
                            "`lease_seconds` ({}) is too short for `[mail] timeout_seconds` ({})",
                            config.state.lease_seconds,
                            smtp.timeout.as_secs()
                        ),
                    )
                    .help = Some(format!(
                        "a leader sends a message only when it can finish within its lease, and renews every third of it: set `lease_seconds = {need}` or more, or lower `timeout_seconds` to {} or less",
                        config.state.lease_seconds.saturating_mul(2).saturating_sub(1) / 3
                    ));
                }
                Some(_) => {}
                None => config.state.lease_seconds = config.state.lease_seconds.max(need).min(300),
            }
        }
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
    t.check_keys(sink, keys::CALENDAR);
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
        if let Some(n) = tables::as_integer(sink, "`keep_past_days`", v) {
            match u32::try_from(n) {
                Ok(n) if n <= 3650 => out.keep_past_days = n,
                _ => {
                    sink.error(v.span(), "`keep_past_days` must be between 0 and 3650");
                }
            }
        }
    }
    if let Some(v) = t.get("horizon_days") {
        if let Some(n) = tables::as_integer(sink, "`horizon_days`", v) {
            match u32::try_from(n) {
                Ok(n) if super::HORIZON_DAYS.contains(&n) => out.horizon_days = n,
                _ => {
                    sink.error(
                        v.span(),
                        format!(
                            "`horizon_days` must be between {} and {}",
                            super::HORIZON_DAYS.start(),
                            super::HORIZON_DAYS.end()
                        ),
                    )
                    .help = Some("yearly dates are listed this many days ahead: at least a year, so that the next one is always there".into());
                }
            }
        }
    }
    if let Some(refresh) = t.optional_str(sink, "refresh") {
        match alarm::parse_duration(refresh.get_ref()) {
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

pub(super) fn is_domain(s: &str) -> bool {
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

/// An optional integer key within `min..=max`; `None` when absent or wrong
/// (the error is reported).
pub(super) fn bounded(
    sink: &mut Sink<'_>,
    t: &Table<'_, '_>,
    key: &str,
    min: i64,
    max: i64,
) -> Option<i64> {
    let v = t.get(key)?;
    let n = tables::as_integer(sink, &format!("`{key}`"), v)?;
    if (min..=max).contains(&n) {
        Some(n)
    } else {
        sink.error(v.span(), format!("`{key}` must be between {min} and {max}"));
        None
    }
}

/// `[state]`: SQLite (`path`) or PostgreSQL (`url`, `password_file`),
/// and the address key.
fn state_config(sink: &mut Sink<'_>, state: &Table<'_, '_>, base: &Path, out: &mut StateConfig) {
    state.check_keys(sink, keys::STATE);
    for (key, out) in [("path", &mut out.path), ("key_file", &mut out.key_file)] {
        if let Some(path) = state.optional_str(sink, key) {
            if path.get_ref().trim().is_empty() {
                sink.error(path.span(), format!("`{key}` must name a file"));
            } else {
                *out = normalize(&base.join(path.get_ref()));
            }
        }
    }
    if let Some(url) = state.optional_str(sink, "url") {
        if let Some(password) = url_password(url.get_ref()) {
            let d = sink.error(url.span(), "`url` holds a password");
            d.help = Some(
                "remove it from the URL and give it in `password_file` (or the systemd credential `state-password`): the URL is shown in logs and errors".into(),
            );
            // The error must not show what it warns about.
            if let Some(loc) = d.location.as_mut() {
                loc.line_text = loc.line_text.replace(password, "***");
            }
        } else {
            match postgres_config(url.get_ref()) {
                Err(reason) => {
                    sink.error(url.span(), format!("`url`: {reason}")).help = Some(
                        "write `url = \"postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full\"`; add `&sslrootcert=/path/ca.pem` for a server with a CA of its own; plain text goes only to this machine, or where `sslmode=disable` is written"
                            .into(),
                    );
                }
                Ok(_) => out.url = Some(url.into_inner()),
            }
        }
        if let Some(path) = state.get("path") {
            sink.error(path.span(), "`path` and `url` are both set")
                .help = Some(
                "keep one: `url` for PostgreSQL (replicas share it), `path` for a SQLite file"
                    .into(),
            );
        }
    }
    if let Some(path) = state.optional_str(sink, "password_file") {
        if state.get("url").is_none() {
            sink.error(path.span(), "`password_file` without `url`")
                .help =
                Some("the password is PostgreSQL's: set `url`, or remove `password_file`".into());
        } else if path.get_ref().trim().is_empty() {
            sink.error(path.span(), "`password_file` must name a file");
        } else {
            out.password_file = Some(normalize(&base.join(path.get_ref())));
        }
    }
    if let Some(n) = bounded(sink, state, "lease_seconds", 5, 300) {
        out.lease_seconds = n as u32;
    }
}

/// The password in a URL's `user:password@`, or in `password=`, however
/// the rest of it reads.
fn url_password(url: &str) -> Option<&str> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let (authority, query) = match rest.split_once('?') {
        Some((a, q)) => (a, q),
        None => (rest, ""),
    };
    let authority = authority.split('/').next().unwrap_or("");
    let in_authority = authority
        .rsplit_once('@')
        .and_then(|(user, _)| user.split_once(':'))
        .map(|(_, password)| password);
    let in_query = query
        .split('&')
        .find_map(|pair| pair.strip_prefix("password="));
    in_authority.or(in_query).filter(|p| !p.is_empty())
}

/// `[data.git]`.
fn git_config(sink: &mut Sink<'_>, t: &Table<'_, '_>) -> Option<GitConfig> {
    t.check_keys(sink, keys::DATA_GIT);
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
    let d = duration(
        v,
        &[("", 1000), ("s", 1000), ("m", 60_000), ("h", 3_600_000)],
    )?;
    let secs = d.as_secs();
    (1..=86_400).contains(&secs).then_some(secs)
}

/// A duration as staff write it: a whole number of seconds, or a string
/// of digits and one of `units` (its size in milliseconds; `""` for a
/// bare number in a string).
pub(super) fn duration(
    v: &toml::de::DeValue<'_>,
    units: &[(&str, u64)],
) -> Option<std::time::Duration> {
    let ms = match v {
        toml::de::DeValue::Integer(i) if i.radix() == 10 => i
            .as_str()
            .replace('_', "")
            .parse::<u64>()
            .ok()?
            .checked_mul(1000)?,
        toml::de::DeValue::String(s) => {
            let s = s.trim();
            let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
            let (digits, unit) = s.split_at(split);
            let n: u64 = digits.parse().ok()?;
            let size = units.iter().find(|(u, _)| *u == unit.trim())?.1;
            n.checked_mul(size)?
        }
        _ => return None,
    };
    Some(std::time::Duration::from_millis(ms))
}
