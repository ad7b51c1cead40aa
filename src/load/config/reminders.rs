//! The sections about reminders, read for [`Config::parse`]: who is
//! reminded and when (`[reminders]`), who may sign up (`[subscriptions]`),
//! and how mail leaves (`[mail]`, with its SMTP keys).

use std::path::Path;

use chrono_tz::Tz;

use super::parse::bounded;
use super::*;
use crate::load::tables::{self, Sink, Table};
use crate::load::{values, zone};

/// Reads `[reminders]`; returns its `timezone` if it names one.
pub(super) fn reminders(
    sink: &mut Sink<'_>,
    t: &Table<'_, '_>,
    base: &Path,
    out: &mut RemindersConfig,
) -> Option<Tz> {
    t.check_keys(sink, keys::REMINDERS);
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

/// Reads `[subscriptions]`.
pub(super) fn subscriptions(sink: &mut Sink<'_>, t: &Table<'_, '_>, out: &mut SubscriptionsConfig) {
    t.check_keys(sink, keys::SUBSCRIPTIONS);
    if let Some(v) = t.optional_str(sink, "contact") {
        if v.get_ref().parse::<lettre::Address>().is_ok() && values::is_email(v.get_ref()) {
            out.contact = Some(v.get_ref().clone());
        } else {
            sink.error(
                v.span(),
                format!("`{}` is not an e-mail address", v.get_ref()),
            )
            .help = Some("e.g. `contact = \"calendar-team@example.org\"`".into());
        }
    }
    if let Some(v) = t.get("open") {
        if let Some(b) = tables::as_bool(sink, "`open`", v) {
            out.open = b;
        }
    }
    if let Some(v) = t.optional_str(sink, "approval") {
        match v.get_ref().as_str() {
            "none" => out.approval = Approval::None,
            "staff" => out.approval = Approval::Staff,
            other => {
                let d = sink.error(v.span(), format!("unknown `approval` `{other}`"));
                d.help = Some(
                    crate::load::suggest::did_you_mean(other, ["none", "staff"]).unwrap_or_else(
                        || "use `none` (a confirmed sign-up gets reminders) or `staff` (staff approve it)".into(),
                    ),
                );
            }
        }
    }
    if let Some(n) = bounded(sink, t, "confirm_hours", 1, 720) {
        out.confirm_hours = n as u32;
    }
    if let Some(n) = bounded(sink, t, "per_client_per_hour", 1, 1_000_000) {
        out.per_client_per_hour = n as u32;
    }
    if let Some(v) = t.get("trusted_proxies") {
        if let Some(items) = tables::as_array(sink, "trusted_proxies", v, "[\"127.0.0.1\"]") {
            for item in items {
                let Some(ip) = tables::as_str(sink, "each of `trusted_proxies`", item) else {
                    continue;
                };
                match ip.get_ref().parse() {
                    Ok(ip) => out.trusted_proxies.push(ip),
                    Err(_) => {
                        sink.error(
                            ip.span(),
                            format!("`{}` is not an IP address", ip.get_ref()),
                        )
                        .help = Some("name the reverse proxy's address as the server sees it, e.g. `\"127.0.0.1\"` or `\"::1\"`".into());
                    }
                }
            }
        }
    }
}

pub(super) fn mail(sink: &mut Sink<'_>, t: &Table<'_, '_>, base: &Path, out: &mut MailConfig) {
    t.check_keys(sink, keys::MAIL);
    if let Some(d) = t.optional_table(sink, "dkim") {
        out.dkim = dkim(sink, &d, base);
    }
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
    if let Some(prefix) = t.optional_str(sink, "subject_prefix") {
        let text = prefix.get_ref().trim();
        let bad = text.chars().any(|c| {
            c.is_control()
                || matches!(c, '[' | ']')
                || crate::load::text::hidden_char_name(c).is_some()
        });
        if bad || text.chars().count() > 40 {
            sink.error(
                prefix.span(),
                "`subject_prefix` must be one line of at most 40 characters, without brackets, control or invisible characters",
            )
            .help = Some("e.g. `subject_prefix = \"BHR deadlines\"`; `\"\"` for none".into());
        } else {
            out.subject_prefix = text.to_string();
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

/// `[mail.dkim]`: all three keys are required.
fn dkim(sink: &mut Sink<'_>, t: &Table<'_, '_>, base: &Path) -> Option<DkimConfig> {
    t.check_keys(sink, keys::MAIL_DKIM);
    let domain = t.required_str(sink, "domain", "\"calendar.example.org\"");
    let selector = t.required_str(sink, "selector", "\"mechcal\"");
    let key_file = t.required_str(sink, "key_file", "\"/etc/mechcal/credentials/dkim-key\"");
    let domain = domain.and_then(|d| {
        if super::parse::is_domain(d.get_ref()) {
            Some(d.get_ref().to_ascii_lowercase())
        } else {
            sink.error(
                d.span(),
                format!("`domain` `{}` is not a domain name", d.get_ref()),
            )
            .help = Some("the domain of `[mail] from`, e.g. `calendar.example.org`".into());
            None
        }
    });
    let selector = selector.and_then(|s| {
        let ok = !s.get_ref().is_empty()
            && s.get_ref().split('.').all(|l| {
                !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if ok {
            Some(s.get_ref().clone())
        } else {
            sink.error(
                s.span(),
                format!("`selector` `{}` is not a DNS label", s.get_ref()),
            )
            .help = Some("letters, digits and `-`, e.g. `mechcal2027`".into());
            None
        }
    });
    let key_file = key_file.map(|k| normalize(&base.join(k.get_ref())));
    Some(DkimConfig {
        domain: domain?,
        selector: selector?,
        key_file: key_file?,
    })
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
            let items = tables::as_array(sink, "retry_seconds", v, "[1, 5]")?;
            let mut out = Vec::new();
            for item in items {
                let n = tables::as_integer(sink, "each of `retry_seconds`", item)?;
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
