//! Subscribers (`[reminders] subscribers`, e.g. `config/subscribers.toml`):
//! who gets e-mail reminders of which deadlines.
//!
//! This file holds personal data of people who may work under persecution:
//! it is kept out of the public deadline repository, it is checked to be
//! readable by its owner only, and addresses are masked wherever mechcal
//! shows them unless asked otherwise.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::i18n::Lang;
use crate::load::deadlines::entry::{self, Slugs};
use crate::load::diagnostic::{Diagnostic, SourceFile};
use crate::load::tables::{self, Sink, Table};
use crate::load::{values, zone};
use crate::model::catalog::Filter;
use crate::model::registry::Registry;

mod mask;

pub use mask::{mask, mask_addresses, mask_diagnostic, mask_fingerprints};

/// One subscriber, validated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscriber {
    pub name: String,
    /// As written (trimmed).
    pub email: String,
    /// Topics and mechanisms; empty lists mean all.
    pub filter: Filter,
    /// Reminder offsets in days, largest first.
    pub remind_days: Vec<u16>,
    /// How dates are shown to this subscriber.
    pub timezone: Tz,
    pub language: Lang,
    /// One mail per run listing all due reminders (`true`), or one per deadline.
    pub digest: bool,
    /// Discreet mails: what a phone's notification or a glance shows — the
    /// subject, the sender's name, the attachment's name, the first lines
    /// — says only "Reminder: 2 items due in 7 days".
    pub discreet: bool,
    /// The subscriber's OpenPGP public key, checked: mail to them is
    /// encrypted to it (PGP/MIME), and never sent in clear.
    pub openpgp: Option<std::sync::Arc<crate::openpgp::Cert>>,
    /// The line of the `[[subscriber]]` header, for messages (0 for a
    /// self-service subscriber).
    pub line: usize,
    /// The subscriber's name in the state database (ledger, opt-outs): the
    /// keyed hash of the address once [`crate::subscriptions::key_all`]
    /// has run, which every reminder pass and server does; the lower-cased
    /// address before (two spellings are one mailbox).
    pub key: String,
    /// Where the subscription comes from.
    pub origin: Origin,
    /// The random value the subscriber's links are bound to (stored with
    /// their row; 0 while they have none, and then no link of theirs works).
    pub link_value: u64,
}

impl Subscriber {
    /// A subscriber of everything with the defaults (30, 7 and 1 days;
    /// Geneva time; English; a digest), as a file entry naming only
    /// `name` and `email` would be.
    pub fn plain(name: &str, email: &str) -> Subscriber {
        Subscriber {
            name: name.into(),
            email: email.into(),
            filter: Filter::default(),
            remind_days: vec![30, 7, 1],
            timezone: crate::load::config::DEFAULT_TIMEZONE,
            language: Lang::EN,
            digest: true,
            discreet: false,
            openpgp: None,
            line: 1,
            key: email.to_lowercase(),
            origin: Origin::File,
            link_value: 0,
        }
    }
}

/// Who manages a subscription.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Origin {
    /// Staff, in the subscribers file (topics are theirs to change).
    #[default]
    File,
    /// The subscriber, through the sign-up form.
    SignUp,
}

/// What subscribers inherit when they set nothing, and what their keys
/// are checked against.
pub struct Defaults<'a> {
    pub remind_days: &'a [u16],
    pub timezone: Tz,
    /// OpenPGP keys are judged at this time.
    pub now: DateTime<Utc>,
    /// Whether a key that has only expired is an error (`mechcal check`),
    /// or a warning (the service: the subscriber stays, and their mail is
    /// held, never sent in clear, until the key is renewed).
    pub expired_key_is_error: bool,
}

/// The largest key file read (a public key with many signatures is a few
/// hundred KiB at most).
const MAX_KEY_FILE: u64 = 1 << 20;

/// Reads the key file `path`, relative to `dir` (the subscribers file's
/// folder): a regular file of at most [`MAX_KEY_FILE`] bytes.
fn read_key_file(dir: &Path, path: &str) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let full = dir.join(path);
    let file = std::fs::File::open(&full)
        .map_err(|e| crate::load::deadlines::io_reason(&e).to_string())?;
    let meta = file
        .metadata()
        .map_err(|e| crate::load::deadlines::io_reason(&e).to_string())?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    if meta.len() > MAX_KEY_FILE {
        return Err(format!("it is larger than {} KiB", MAX_KEY_FILE / 1024));
    }
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE)
        .read_to_end(&mut bytes)
        .map_err(|e| crate::load::deadlines::io_reason(&e).to_string())?;
    Ok(bytes)
}

const KEYS: [&str; 10] = [
    "name",
    "email",
    "topics",
    "mechanisms",
    "remind_days",
    "timezone",
    "language",
    "digest",
    "discreet",
    "openpgp_key",
];

/// Whether diagnostics about the subscribers file may show addresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Addresses {
    /// Masked as in logs (`a***@example.org`): for every channel a
    /// diagnostic can reach (stderr, the journal, `/healthz`, staff alerts).
    Masked,
    /// In full: only `mechcal check --show-emails`, run by staff.
    Shown,
}

/// Reads and validates a subscribers file. Problems with the file itself
/// (missing, unreadable, not UTF-8) are errors; a file that others can read
/// is a warning. With [`Addresses::Masked`] no diagnostic shows an address.
pub fn load(
    path: &Path,
    registry: &Registry,
    defaults: &Defaults<'_>,
    addresses: Addresses,
) -> (Vec<Subscriber>, Vec<Diagnostic>) {
    let (subscribers, mut diags) = load_file(path, registry, defaults);
    if addresses == Addresses::Masked {
        diags.iter_mut().for_each(mask_diagnostic);
    }
    (subscribers, diags)
}

fn load_file(
    path: &Path,
    registry: &Registry,
    defaults: &Defaults<'_>,
) -> (Vec<Subscriber>, Vec<Diagnostic>) {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            return (
                Vec::new(),
                vec![Diagnostic::file_error(
                    path,
                    format!(
                        "cannot read the subscribers file: {}",
                        crate::load::deadlines::io_reason(&e)
                    ),
                )
                .with_help("create it, or remove `[reminders] subscribers` from the config")],
            )
        }
    };
    let mut diags = Vec::new();
    #[cfg(unix)]
    if let Ok(meta) = std::fs::metadata(path) {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode();
        if mode & 0o077 != 0 {
            diags.push(
                Diagnostic::file_error(
                    path,
                    format!(
                        "the subscribers file can be read by others (mode {:o})",
                        mode & 0o777
                    ),
                )
                .with_help(format!(
                    "it holds personal data: `chmod 600 {}`",
                    path.display()
                ))
                .warning(),
            );
        }
    }
    let text = match crate::load::deadlines::decode(path, bytes) {
        Ok(t) => t,
        Err(d) => {
            diags.push(d);
            return (Vec::new(), diags);
        }
    };
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    let read = move |p: &str| read_key_file(&dir, p);
    let (subscribers, more) = parse(&SourceFile::new(path, text), registry, defaults, &read);
    diags.extend(more);
    (subscribers, diags)
}

/// Validates subscribers text. Pure but for `read_key`, which reads the
/// key file an `openpgp_key` names (or fails with the reason).
// Over 100 lines: one block per key of a subscriber, in the order of the book's table (docs/src/operators/subscribers.md), plus the checks across subscribers (duplicates).
pub fn parse(
    file: &SourceFile,
    registry: &Registry,
    defaults: &Defaults<'_>,
    read_key: &dyn Fn(&str) -> Result<Vec<u8>, String>,
) -> (Vec<Subscriber>, Vec<Diagnostic>) {
    let mut sink = Sink::new(file);
    let mut out = Vec::new();
    let Some(doc) = tables::parse_document(file, &mut sink) else {
        return (out, sink.diags);
    };
    let root = Table::new(&doc, 0..0, "the subscribers file");
    root.check_keys(&mut sink, &["subscriber"]);
    let tables = match doc.get("subscriber").map(|v| (v, v.get_ref())) {
        None => Vec::new(),
        Some((_, toml::de::DeValue::Array(items))) => items
            .iter()
            .filter_map(|item| match item.get_ref() {
                toml::de::DeValue::Table(t) => Some((t, item.span())),
                other => {
                    sink.error(
                        item.span(),
                        format!(
                            "each subscriber must be a table, found {}",
                            tables::type_name(other)
                        ),
                    );
                    None
                }
            })
            .collect(),
        Some((v, _)) => {
            sink.error(
                root.key_span("subscriber").unwrap_or(v.span()),
                "subscribers are written `[[subscriber]]`, one table each",
            );
            Vec::new()
        }
    };
    // Lower-cased address → where it was first written.
    let mut seen: HashMap<String, String> = HashMap::new();
    for (table, span) in tables {
        let t = Table::new(table, span.clone(), "subscriber");
        let errors_before = sink.diags.iter().filter(|d| d.is_error()).count();
        t.check_keys(&mut sink, &KEYS);
        let name = t.required_str(&mut sink, "name", "\"Anna\"").and_then(|n| {
            let text = n.get_ref().trim();
            if text.is_empty() || text.contains(['\n', '\r']) || text.chars().any(char::is_control)
            {
                sink.error(n.span(), "`name` must be a non-empty single line");
                None
            } else {
                Some(text.to_string())
            }
        });
        let email = t.required_str(&mut sink, "email", "\"anna@example.org\"").and_then(|e| {
            let address = e.get_ref().trim();
            if !values::is_email(address) {
                sink.error(e.span(), "`email` is not a valid e-mail address")
                    .help = Some("write a plain address: `name@example.org`, without a display name or `<>`".into());
                return None;
            }
            let key = address.to_lowercase();
            if let Some(first) = seen.get(&key) {
                sink.error(e.span(), "this address is subscribed twice")
                    .help = Some(format!(
                    "it is first subscribed at {first}; give one subscriber all the topics and mechanisms"
                ));
                return None;
            }
            seen.insert(key, file.place(e.span().start));
            Some(address.to_string())
        });
        let topics = match t.get("topics") {
            None => Some(Vec::new()),
            Some(v) => entry::slug_list(
                &mut sink,
                v,
                &Slugs::TOPICS,
                registry.topic_slugs(),
                |s| registry.topic(s).is_some(),
                false,
            ),
        };
        let mechanisms = match t.get("mechanisms") {
            None => Some(Vec::new()),
            Some(v) => entry::slug_list(
                &mut sink,
                v,
                &Slugs::MECHANISMS,
                registry.mechanism_slugs(),
                |s| registry.mechanism(s).is_some(),
                false,
            ),
        };
        let remind_days = match t.get("remind_days") {
            None => Some(defaults.remind_days.to_vec()),
            Some(v) => entry::check_remind_days(&mut sink, v),
        };
        let timezone = match t.optional_str(&mut sink, "timezone") {
            None => Some(defaults.timezone),
            Some(name) => match zone::parse(name.get_ref()) {
                Ok(tz) => Some(tz),
                Err(e) => {
                    sink.error(name.span(), e.message).help = e.help;
                    None
                }
            },
        };
        let language = match t.optional_str(&mut sink, "language") {
            None => Some(Lang::default()),
            Some(l) => Lang::parse(l.get_ref()).or_else(|| {
                let d = sink.error(l.span(), format!("unknown language `{}`", l.get_ref()));
                // No "did you mean": between two-letter codes it would
                // offer `be` for `de`.
                d.help = Some(format!(
                    "reminders are written in {}",
                    crate::load::tables::list(Lang::codes())
                ));
                None
            }),
        };
        let digest = match t.get("digest") {
            None => Some(true),
            Some(v) => tables::as_bool(&mut sink, "`digest`", v),
        };
        let discreet = match t.get("discreet") {
            None => Some(false),
            Some(v) => tables::as_bool(&mut sink, "`discreet`", v),
        };
        let openpgp = match t.optional_str(&mut sink, "openpgp_key") {
            None => Some(None),
            Some(v) => openpgp_key(
                &mut sink,
                &v,
                defaults.now,
                defaults.expired_key_is_error,
                read_key,
            )
            .map(Some),
        };
        if sink.diags.iter().filter(|d| d.is_error()).count() > errors_before {
            continue;
        }
        if let (
            Some(name),
            Some(email),
            Some(topics),
            Some(mechanisms),
            Some(remind_days),
            Some(timezone),
            Some(language),
            Some(digest),
            Some(discreet),
            Some(openpgp),
        ) = (
            name,
            email,
            topics,
            mechanisms,
            remind_days,
            timezone,
            language,
            digest,
            discreet,
            openpgp,
        ) {
            out.push(Subscriber {
                name,
                filter: Filter { topics, mechanisms },
                remind_days,
                timezone,
                language,
                key: email.to_lowercase(),
                email,
                digest,
                discreet,
                openpgp,
                line: file.position(span.start).line,
                origin: Origin::File,
                link_value: 0,
            });
        }
    }
    let mut diags = sink.diags;
    crate::load::diagnostic::sort(&mut diags);
    (out, diags)
}

/// An `openpgp_key` value: the armored key itself, or a path to it relative
/// to the subscribers file; checked at `now`.
fn openpgp_key(
    sink: &mut Sink<'_>,
    value: &toml::Spanned<String>,
    now: DateTime<Utc>,
    expired_is_error: bool,
    read_key: &dyn Fn(&str) -> Result<Vec<u8>, String>,
) -> Option<std::sync::Arc<crate::openpgp::Cert>> {
    let text = value.get_ref().trim();
    let bytes = if text.starts_with("-----BEGIN PGP") {
        text.as_bytes().to_vec()
    } else if text.is_empty() {
        sink.error(value.span(), "`openpgp_key` is empty").help = Some(
            "paste the armored public key between `\"\"\"` quotes, or give the path of its file"
                .into(),
        );
        return None;
    } else {
        match read_key(text) {
            Ok(b) => b,
            Err(reason) => {
                sink.error(
                    value.span(),
                    format!("cannot read the OpenPGP key file `{text}`: {reason}"),
                )
                .help = Some(
                    "a path is relative to the subscribers file's folder; or paste the armored key itself".into(),
                );
                return None;
            }
        }
    };
    match crate::openpgp::Cert::read(&bytes, now) {
        Ok(cert) => {
            if let Err(problem) = cert.usable_at(now) {
                let d = sink.error(value.span(), format!("`openpgp_key`: {problem}"));
                d.help = Some(problem.help());
                if !expired_is_error {
                    d.help = Some(format!(
                        "{}; until then their reminders are held, never sent in clear",
                        problem.help()
                    ));
                    *d = d.clone().warning();
                    return Some(std::sync::Arc::new(cert));
                }
                return None;
            }
            Some(std::sync::Arc::new(cert))
        }
        Err(problem) => {
            sink.error(value.span(), format!("`openpgp_key`: {problem}"))
                .help = Some(problem.help());
            None
        }
    }
}

#[cfg(test)]
mod tests;
