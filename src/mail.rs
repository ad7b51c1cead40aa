//! Reminder messages: subject, text and HTML bodies, the `.ics` attachment
//! and the headers, built from a planned message. No I/O and no clock: the
//! send time is passed in.
//!
//! The Message-ID is derived from the ledger keys the message carries, so a
//! message sent again after a crash has the same Message-ID and receivers
//! can tell it is a repeat.

use std::fmt::Write as _;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Attachment, Mailbox, MultiPart};
use lettre::Message;
use sha2::{Digest, Sha256};

use crate::catalog::Catalog;
use crate::deadline::{Deadline, Status};
use crate::feed::{self, FeedOptions, Versions};
use crate::i18n::Lang;
use crate::reminders::plan::{Item, Key, Kind};
use crate::subscribers::Subscriber;
use crate::web::page::esc;

/// What every message shares.
pub struct Letterhead<'a> {
    pub from: &'a Mailbox,
    /// The right-hand side of Message-IDs (the calendar's domain).
    pub domain: &'a str,
    /// The one-click unsubscribe address for this subscriber.
    pub unsubscribe_url: &'a str,
    /// Options for the `.ics` attachment (language is the subscriber's).
    pub feed: &'a FeedOptions,
    pub versions: &'a Versions,
}

/// `<hash@domain>` from the message's ledger keys (order does not matter).
pub fn message_id(keys: &[&Key], domain: &str) -> String {
    let mut parts: Vec<String> = keys
        .iter()
        .map(|k| {
            format!(
                "{}\n{}\n{}\n{}",
                k.email,
                k.deadline,
                k.due_at.to_rfc3339(),
                k.kind
            )
        })
        .collect();
    parts.sort();
    let hash = Sha256::digest(parts.join("\n\n").as_bytes());
    let hex: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("<reminder.{hex}@{domain}>")
}

/// Text without line breaks or other control characters, for headers.
fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// `[mechcal] CERD — Alternative report due in 7 days (15 Jul 2024)`.
pub fn subject(catalog: &Catalog, s: &Subscriber, items: &[(&Item, &Deadline)]) -> String {
    let lang = s.language;
    let line = |item: &Item, d: &Deadline| {
        let when = feed::due_short(d, s.timezone, lang);
        let what = match (item.key.kind, lang) {
            (Kind::Remind(_), Lang::En) => format!("due {}", lang.days_left(item.days_left)),
            (Kind::Remind(_), Lang::Ru) => format!("срок {}", lang.days_left(item.days_left)),
            (Kind::Moved, Lang::En) => "deadline moved".into(),
            (Kind::Moved, Lang::Ru) => "срок перенесён".into(),
            (Kind::Cancelled, Lang::En) => "cancelled".into(),
            (Kind::Cancelled, Lang::Ru) => "отменено".into(),
        };
        format!(
            "{} — {} {what} ({when})",
            feed::mechanism_name(catalog, d),
            d.title
        )
    };
    let text = match items {
        [(item, d)] => line(item, d),
        [(item, d), rest @ ..] => match lang {
            Lang::En => format!("{} and {} more", line(item, d), rest.len()),
            Lang::Ru => format!("{} и ещё {}", line(item, d), rest.len()),
        },
        [] => String::new(),
    };
    one_line(&format!("[mechcal] {text}"))
}

/// The `Subject` header of `text`. lettre writes ASCII words as they are,
/// so a title holding what looks like an RFC 2047 encoded-word
/// (`=?utf-8?q?…?=`) would be decoded by mail clients into other text (a
/// "Report" that reads "Cancelled"): such a Subject is encoded whole, as
/// folded `=?utf-8?b?…?=` words, and reaches the reader literally.
fn subject_header(text: &str) -> HeaderValue {
    let name = HeaderName::new_from_ascii_str("Subject");
    if !text.contains("=?") {
        return HeaderValue::new(name, text.to_string());
    }
    let mut encoded = String::new();
    {
        let mut w = email_encoding::headers::writer::EmailWriter::new(
            &mut encoded,
            "Subject: ".len(),
            0,
            false,
        );
        // Writing to a String cannot fail.
        let _ = email_encoding::headers::rfc2047::encode(text, &mut w);
    }
    HeaderValue::dangerous_new_pre_encoded(name, text.to_string(), encoded)
}

struct Lines<'a> {
    lang: Lang,
    tz: chrono_tz::Tz,
    catalog: &'a Catalog,
}

impl Lines<'_> {
    fn heading(&self, item: &Item, d: &Deadline) -> String {
        let lang = self.lang;
        let status = match (d.status, lang) {
            (Status::Tentative, Lang::En) => " (tentative)",
            (Status::Tentative, Lang::Ru) => " (предварительно)",
            _ => "",
        };
        let what = match (item.key.kind, lang) {
            (Kind::Remind(_), _) => String::new(),
            (Kind::Moved, Lang::En) => "MOVED: ".into(),
            (Kind::Moved, Lang::Ru) => "СРОК ПЕРЕНЕСЁН: ".into(),
            (Kind::Cancelled, Lang::En) => "CANCELLED: ".into(),
            (Kind::Cancelled, Lang::Ru) => "ОТМЕНЕНО: ".into(),
        };
        format!(
            "{what}[{}] {}{status}",
            feed::mechanism_name(self.catalog, d),
            d.title
        )
    }

    /// The facts of one item, as (label, value) pairs.
    fn facts(&self, item: &Item, d: &Deadline) -> Vec<(&'static str, String)> {
        let t = self.lang.texts();
        let mut out = vec![(
            t.due,
            format!(
                "{} ({}); {}",
                feed::due_short(d, self.tz, self.lang),
                self.lang.days_left(item.days_left),
                feed::due_words(d, self.lang)
            ),
        )];
        if let Some(from) = item.moved_from {
            let was = from
                .with_timezone(&self.tz)
                .format("%Y-%m-%d %H:%M %Z")
                .to_string();
            out.push((
                if self.lang == Lang::En {
                    "Was"
                } else {
                    "Было"
                },
                was,
            ));
        }
        if let Some(to) = &d.submit_to {
            out.push((t.submit_to, to.to_string()));
        }
        if let Some(url) = &d.url {
            out.push((t.link, url.clone()));
        }
        out
    }
}

fn text_body(
    lines: &Lines<'_>,
    s: &Subscriber,
    items: &[(&Item, &Deadline)],
    unsubscribe_url: &str,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        match s.language {
            Lang::En => format!("Hello {},\n\nDeadlines you follow:", s.name),
            Lang::Ru => format!(
                "Здравствуйте, {}!\n\nДедлайны, за которыми вы следите:",
                s.name
            ),
        }
    );
    for (item, d) in items {
        let _ = writeln!(out, "\n* {}", lines.heading(item, d));
        for (label, value) in lines.facts(item, d) {
            let _ = writeln!(out, "  {label}: {value}");
        }
    }
    let _ = writeln!(
        out,
        "\n{}\n{unsubscribe_url}",
        match s.language {
            Lang::En => "The attached calendar file adds these deadlines to your calendar.\nTo stop these reminders:",
            Lang::Ru => "Приложенный файл календаря добавит эти дедлайны в ваш календарь.\nЧтобы отписаться от напоминаний:",
        }
    );
    out
}

fn html_body(
    lines: &Lines<'_>,
    s: &Subscriber,
    items: &[(&Item, &Deadline)],
    unsubscribe_url: &str,
) -> String {
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"></head>\n<body style=\"font-family:sans-serif;line-height:1.5\">\n<p>{}</p>\n",
        s.language.code(),
        esc(&match s.language {
            Lang::En => format!("Hello {}, deadlines you follow:", s.name),
            Lang::Ru => format!("Здравствуйте, {}! Дедлайны, за которыми вы следите:", s.name),
        })
    );
    for (item, d) in items {
        let _ = write!(out, "<h3>{}</h3>\n<ul>\n", esc(&lines.heading(item, d)));
        for (label, value) in lines.facts(item, d) {
            let _ = writeln!(out, "<li><b>{}:</b> {}</li>", esc(label), esc(&value));
        }
        out.push_str("</ul>\n");
    }
    let _ = write!(
        out,
        "<p style=\"font-size:small\">{} <a href=\"{}\">{}</a></p>\n</body></html>\n",
        esc(match s.language {
            Lang::En => "The attached calendar file adds these deadlines to your calendar.",
            Lang::Ru => "Приложенный файл календаря добавит эти дедлайны в ваш календарь.",
        }),
        esc(unsubscribe_url),
        esc(match s.language {
            Lang::En => "Unsubscribe",
            Lang::Ru => "Отписаться",
        })
    );
    out
}

/// Builds the message for `items` (each with its deadline) to `s`, under
/// `id` (normally [`message_id`] of the items' keys; after an interrupted
/// run, the id recorded in the ledger).
pub fn build(
    catalog: &Catalog,
    s: &Subscriber,
    items: &[(&Item, &Deadline)],
    head: &Letterhead<'_>,
    id: &str,
    sent_at: DateTime<Utc>,
) -> Result<Message, String> {
    let lines = Lines {
        lang: s.language,
        tz: s.timezone,
        catalog,
    };
    let to: Mailbox = Mailbox::new(
        Some(one_line(&s.name)),
        s.email.parse().map_err(|e| format!("{e}"))?,
    );
    let mut opts = head.feed.clone();
    opts.lang = s.language;
    let deadlines: Vec<&Deadline> = items.iter().map(|(_, d)| *d).collect();
    let ics = feed::render_some(catalog, &deadlines, &opts, head.versions);
    let calendar = ContentType::parse("text/calendar; charset=utf-8; method=PUBLISH")
        .map_err(|e| e.to_string())?;
    let header = |name: &'static str, value: String| {
        HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
    };
    Message::builder()
        .from(head.from.clone())
        .to(to)
        .raw_header(subject_header(&subject(catalog, s, items)))
        .message_id(Some(id.to_string()))
        .date(SystemTime::from(sent_at))
        .raw_header(header("Auto-Submitted", "auto-generated".into()))
        .raw_header(header(
            "List-Unsubscribe",
            format!("<{}>", head.unsubscribe_url),
        ))
        .raw_header(header(
            "List-Unsubscribe-Post",
            "List-Unsubscribe=One-Click".into(),
        ))
        .multipart(
            MultiPart::mixed()
                .multipart(MultiPart::alternative_plain_html(
                    text_body(&lines, s, items, head.unsubscribe_url),
                    html_body(&lines, s, items, head.unsubscribe_url),
                ))
                .singlepart(Attachment::new("deadlines.ics".into()).body(ics, calendar)),
        )
        .map_err(|e| e.to_string())
}

/// One problem an alert reports.
pub struct Problem<'a> {
    /// `data`, `config` or `git`.
    pub source: &'a str,
    pub since: DateTime<Utc>,
    /// As `mechcal check` prints them.
    pub diagnostics: &'a [String],
}

/// The mail to `[alerts] staff` about `problems`, while the catalog
/// `version` of `deadlines` entries stays in service. Its Message-ID is
/// derived from the problems, so one set of problems has one id.
pub fn alert(
    from: &Mailbox,
    staff: &[String],
    domain: &str,
    problems: &[Problem<'_>],
    version: &str,
    deadlines: usize,
    now: DateTime<Utc>,
) -> Result<Message, String> {
    let mut hash = Sha256::new();
    for p in problems {
        hash.update(p.source.as_bytes());
        for d in p.diagnostics {
            hash.update(d.as_bytes());
            hash.update(b"\n");
        }
    }
    let hex: String = hash.finalize()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let what = |source: &str| match source {
        "data" => "the deadline data is invalid",
        "config" => "the config is invalid",
        "reminders" => "reminders cannot be sent",
        _ => "the data repository cannot be followed",
    };
    let errors: usize = problems.iter().map(|p| p.diagnostics.len()).sum();
    let subject = format!(
        "mechcal ({domain}): {} ({})",
        problems
            .iter()
            .map(|p| what(p.source))
            .collect::<Vec<_>>()
            .join("; "),
        if errors == 1 {
            "1 error".to_string()
        } else {
            format!("{errors} errors")
        }
    );
    let time = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let mut body = format!(
        "mechcal on {domain} found problems at {}.\n\
         The last good version stays in service (catalog {version}, {deadlines} deadlines)\n\
         until they are fixed; nothing is lost meanwhile.\n",
        time(now)
    );
    for p in problems {
        let _ = write!(
            body,
            "\n== {} (since {})\n\n",
            match p.source {
                "data" => "Deadline data",
                "config" => "Config",
                "reminders" => "Reminders",
                _ => "Git",
            },
            time(p.since)
        );
        body.push_str(&p.diagnostics.join("\n\n"));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(
        "Fix the files and push (`mechcal check` lists the same problems), or\n\
         `systemctl reload mechcal` after fixing the config. /healthz shows the\n\
         current state. This mail is sent once per distinct set of problems.\n",
    );
    let mut builder = Message::builder()
        .from(from.clone())
        .subject(subject)
        .message_id(Some(format!("<alert-{hex}@{domain}>")))
        .date(SystemTime::from(now))
        .raw_header(HeaderValue::new(
            HeaderName::new_from_ascii_str("Auto-Submitted"),
            "auto-generated".into(),
        ));
    for to in staff {
        builder = builder.to(to.parse().map_err(|e| format!("{to}: {e}"))?);
    }
    builder
        .header(ContentType::TEXT_PLAIN)
        .body(body)
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use crate::reminders::plan::{self, Ledger};
    use crate::testing;
    use chrono::Duration;
    use chrono_tz::Tz;
    use std::collections::HashSet;

    #[test]
    fn alert_to_staff() {
        let now = DateTime::parse_from_rfc3339("2026-11-23T14:05:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let data = vec![
            "deadlines/2027.toml:3:13: error: unknown mechanism `cedw`\n  3 | mechanism = \"cedw\"\n    |             ^^^^^^\n  help: did you mean `cedaw`?".to_string(),
        ];
        let git =
            vec!["`git fetch` failed: fatal: could not read from remote repository".to_string()];
        let from: Mailbox = "mechcal <reminders@calendar.example.org>".parse().unwrap();
        let problems = [
            Problem {
                source: "data",
                since: now,
                diagnostics: &data,
            },
            Problem {
                source: "git",
                since: now - chrono::Duration::hours(2),
                diagnostics: &git,
            },
        ];
        let staff = [
            "ops@example.org".to_string(),
            "editor@example.org".to_string(),
        ];
        let m = alert(
            &from,
            &staff,
            "calendar.example.org",
            &problems,
            "a1e3",
            12,
            now,
        )
        .unwrap();
        let text = String::from_utf8(m.formatted()).unwrap();
        let again = alert(
            &from,
            &staff,
            "calendar.example.org",
            &problems,
            "a1e3",
            12,
            now + chrono::Duration::hours(1),
        )
        .unwrap();
        let id = |m: &Message| m.headers().get_raw("Message-ID").unwrap().to_string();
        assert_eq!(id(&m), id(&again), "one set of problems, one Message-ID");
        let other = alert(
            &from,
            &staff,
            "calendar.example.org",
            &problems[..1],
            "a1e3",
            12,
            now,
        )
        .unwrap();
        assert_ne!(id(&m), id(&other));
        assert_eq!(m.envelope().to().len(), 2);
        let redacted: String = text
            .lines()
            .filter(|l| !l.starts_with("Date: "))
            .collect::<Vec<_>>()
            .join("\n");
        insta::assert_snapshot!(redacted);
    }

    fn subscriber(lang: Lang) -> Subscriber {
        Subscriber {
            name: "Anna".into(),
            email: "anna@example.org".into(),
            filter: Default::default(),
            remind_days: vec![30, 7, 1],
            timezone: Tz::Europe__Vilnius,
            language: lang,
            digest: true,
            line: 1,
        }
    }

    fn formatted(lang: Lang) -> (String, String) {
        formatted_with(lang, "Альтернативный доклад")
    }

    fn formatted_with(lang: Lang, title: &str) -> (String, String) {
        let cat = testing::catalog(&[(
            "a.toml",
            &format!("[[deadline]]\nid = \"cerd-2027\"\ntitle = \"{title}\"\nmechanism = \"cerd\"\ntopics = [\"women\"]\ndue = 2027-07-15\nstatus = \"tentative\"\nsubmit_to = \"cerd@example.org\"\n"),
        )]);
        let subs = vec![subscriber(lang)];
        let now: DateTime<Utc> = "2027-07-08T06:00:00Z".parse().unwrap();
        let p = plan::plan(&cat, &subs, &Ledger::default(), &HashSet::new(), now);
        let m = &p.messages[0];
        let items: Vec<(&Item, &Deadline)> = m
            .items
            .iter()
            .map(|i| (i, cat.get(&i.key.deadline).unwrap()))
            .collect();
        let from: Mailbox = "mechcal <reminders@calendar.example.org>".parse().unwrap();
        let opts = FeedOptions {
            name: "Deadlines".into(),
            domain: "calendar.example.org".into(),
            lang,
            alarm: None,
            refresh: Duration::hours(6),
            cutoff: DateTime::UNIX_EPOCH,
        };
        let head = Letterhead {
            from: &from,
            domain: "calendar.example.org",
            unsubscribe_url: "https://calendar.example.org/unsubscribe?token=abc",
            feed: &opts,
            versions: &Versions::default(),
        };
        let keys: Vec<&Key> = items.iter().map(|(i, _)| &i.key).collect();
        let id = message_id(&keys, head.domain);
        let msg = build(&cat, &subs[0], &items, &head, &id, now).unwrap();
        (
            String::from_utf8(msg.formatted()).unwrap(),
            subject(&cat, &subs[0], &items),
        )
    }

    #[test]
    fn headers_parts_and_stable_message_id() {
        let (text, subject) = formatted(Lang::En);
        assert_eq!(
            subject,
            "[mechcal] CERD — Альтернативный доклад due in 7 days (15 July 2027)"
        );
        for header in [
            "Message-ID: <reminder.",
            "Auto-Submitted: auto-generated",
            "List-Unsubscribe: <https://calendar.example.org/unsubscribe?token=abc>",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Date: Thu, 08 Jul 2027 06:00:00 +0000",
            "Content-Type: multipart/mixed;",
            "Content-Type: multipart/alternative;",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Type: text/html; charset=utf-8",
            "Content-Type: text/calendar; charset=utf-8; method=PUBLISH",
            "Content-Disposition: attachment; filename=\"deadlines.ics\"",
        ] {
            assert!(text.contains(header), "missing {header:?} in\n{text}");
        }
        // The same keys give the same Message-ID, run after run.
        let id = |t: &str| {
            t.lines()
                .find(|l| l.starts_with("Message-ID:"))
                .unwrap()
                .to_string()
        };
        assert_eq!(id(&text), id(&formatted(Lang::En).0));
        // Headers stay headers: no raw non-ASCII, no injected lines.
        let head = &text[..text.find("\r\n\r\n").unwrap()];
        assert!(head.is_ascii(), "{head}");
    }

    #[test]
    fn header_text_cannot_break_lines() {
        assert_eq!(
            one_line("Report\r\nBcc: victim@example.org"),
            "Report  Bcc: victim@example.org"
        );
        assert_eq!(one_line("tab\there\u{7}"), "tab here ");
    }

    /// The Subject as a mail reader decodes it, and its raw header lines.
    fn decoded_subject(text: &str) -> (String, Vec<String>) {
        let head = &text[..text.find("\r\n\r\n").unwrap()];
        let lines: Vec<String> = head
            .split("\r\n")
            .skip_while(|l| !l.starts_with("Subject: "))
            .enumerate()
            .take_while(|(i, l)| *i == 0 || l.starts_with(' '))
            .map(|(_, l)| l.to_string())
            .collect();
        let mut out = String::new();
        let mut last_encoded = false;
        for (i, line) in lines.iter().enumerate() {
            let body = if i == 0 {
                &line["Subject: ".len()..]
            } else {
                &line[1..]
            };
            for (j, word) in body.split(' ').enumerate() {
                let encoded = word.starts_with("=?utf-8?b?") && word.ends_with("?=");
                // RFC 2047: white space between encoded-words is dropped.
                if (i > 0 || j > 0) && !(encoded && last_encoded) {
                    out.push(' ');
                }
                if encoded {
                    let b64 = &word["=?utf-8?b?".len()..word.len() - 2];
                    out.push_str(&String::from_utf8(base64_decode(b64)).unwrap());
                } else {
                    out.push_str(word);
                }
                last_encoded = encoded;
            }
        }
        (out, lines)
    }

    fn base64_decode(s: &str) -> Vec<u8> {
        const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut bits = 0u32;
        let mut n = 0;
        let mut out = Vec::new();
        for c in s.bytes().filter(|&c| c != b'=') {
            bits = bits << 6 | ABC.iter().position(|&a| a == c).unwrap() as u32;
            n += 6;
            if n >= 8 {
                n -= 8;
                out.push((bits >> n) as u8);
            }
        }
        out
    }

    #[test]
    fn subjects_reach_the_reader_literally_and_folded() {
        let sneaky = "Report =?utf-8?q?=D0=9E=D1=82=D0=BC=D0=B5=D0=BD=D0=B0?= now";
        let (text, subject) = formatted_with(Lang::En, sneaky);
        let (decoded, lines) = decoded_subject(&text);
        assert_eq!(decoded, subject);
        assert!(decoded.contains(sneaky), "{decoded}");
        assert!(!lines.iter().any(|l| l.contains("=?utf-8?q?")), "{lines:?}");
        // The longest title allowed, in Cyrillic: folded lines, none long.
        let long = "Доклад ".repeat(43);
        let long = long.trim();
        assert_eq!(long.chars().count(), 300);
        let (text, subject) = formatted_with(Lang::Ru, long);
        let (decoded, lines) = decoded_subject(&text);
        assert_eq!(decoded, subject);
        assert!(lines.len() > 10, "{lines:?}");
        assert!(lines.iter().all(|l| l.len() <= 78), "{lines:?}");
        for line in text.split("\r\n") {
            assert!(line.len() <= 998, "{} octets", line.len());
        }
        // Python's mail parser (what many readers' tools use) agrees.
        for (title, lang) in [(sneaky, Lang::En), (long, Lang::Ru)] {
            let (text, subject) = formatted_with(lang, title);
            assert_eq!(python_subject(&text), subject);
        }
    }

    fn python_subject(message: &str) -> String {
        use std::io::Write as _;
        let mut child = std::process::Command::new("python3")
            .args([
                "-c",
                "import email, email.policy, sys\n\
                 m = email.message_from_bytes(sys.stdin.buffer.read(), policy=email.policy.default)\n\
                 sys.stdout.write(str(m['subject']))",
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("python3 runs");
        child
            .stdin
            .take()
            .unwrap()
            .write_all(message.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    }

    #[test]
    fn russian_subject() {
        let (_, subject) = formatted(Lang::Ru);
        assert_eq!(
            subject,
            "[mechcal] CERD — Альтернативный доклад срок через 7 дней (15 июля 2027)"
        );
    }

    #[test]
    fn message_ids_depend_on_keys_not_order() {
        let k = |kind| Key {
            email: "a@example.org".into(),
            deadline: "d".into(),
            due_at: DateTime::UNIX_EPOCH,
            kind,
        };
        let (a, b) = (k(Kind::Remind(7)), k(Kind::Moved));
        assert_eq!(
            message_id(&[&a, &b], "x.org"),
            message_id(&[&b, &a], "x.org")
        );
        assert_ne!(message_id(&[&a], "x.org"), message_id(&[&b], "x.org"));
    }
}
