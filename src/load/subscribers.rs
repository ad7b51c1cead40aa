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
    /// The generation of the subscriber's preference link (a rotated link
    /// invalidates the earlier ones).
    pub generation: u64,
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
            generation: 0,
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

/// Masks every address a diagnostic quotes: in its message and its excerpt
/// of the line (helps quote only mechcal's own words, places and registry
/// names). The caret keeps pointing at the same value.
pub fn mask_diagnostic(d: &mut Diagnostic) {
    d.message = mask_fingerprints(&mask_addresses(&d.message));
    d.help = d.help.as_deref().map(mask_fingerprints);
    if let Some(loc) = d.location.as_mut() {
        let caret = loc.start.column.saturating_sub(loc.skipped + 1);
        let before: String = loc.line_text.chars().take(caret).collect();
        let after: String = loc.line_text.chars().skip(caret).collect();
        let before_masked = mask_addresses(&before);
        // Masking what precedes the caret shortens it: the caret moves left
        // by as much (the column shown in `path:line:column` stays true).
        loc.skipped +=
            before.chars().count() - before_masked.chars().count().min(before.chars().count());
        loc.line_text = before_masked + &mask_addresses(&after);
        loc.line_text = mask_personal_value(&loc.line_text);
    }
}

/// A `name = "…"` or `email = "…"` line with its value masked whole (a name,
/// or an address written with a display name, is personal too).
fn mask_personal_value(line: &str) -> String {
    let key = line.trim_start();
    let personal = ["name", "email", "openpgp_key"].iter().any(|k| {
        key.strip_prefix(k)
            .is_some_and(|r| r.trim_start().starts_with('='))
    });
    let Some(open) = line.find('"').filter(|_| personal) else {
        return line.to_string();
    };
    let rest = &line[open + 1..];
    let (value, tail) = rest.split_once('"').unwrap_or((rest, ""));
    let masked = match value.rsplit_once('@') {
        Some(_) => mask(
            value
                .rsplit(['<', ' '])
                .next()
                .unwrap_or(value)
                .trim_end_matches('>'),
        ),
        None => format!("{}***", value.chars().next().unwrap_or('*')),
    };
    let close = if rest.contains('"') { "\"" } else { "" };
    format!("{}\"{masked}{close}{tail}", &line[..open])
}

/// `text` with every OpenPGP fingerprint (40 hex digits) shortened to
/// `D47B…1EE0`: a whole fingerprint finds its owner on a key server.
pub fn mask_fingerprints(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() == 40 {
            out.push_str(&format!("{}…{}", &run[..4], &run[36..]));
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in text.chars() {
        if c.is_ascii_hexdigit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    out
}

/// `text` with every word that holds an `@` masked as [`mask`] does.
pub fn mask_addresses(text: &str) -> String {
    let delimiter = |c: char| c.is_whitespace() || "\"'`<>,;()[]{}=".contains(c);
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    let flush = |word: &mut String, out: &mut String| {
        if word.contains('@') {
            out.push_str(&mask(word));
        } else {
            out.push_str(word);
        }
        word.clear();
    };
    for c in text.chars() {
        if delimiter(c) {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
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
// Over 100 lines: one block per key of a subscriber, in README's order, plus the checks across subscribers (duplicates).
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
                generation: 0,
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

/// `a***@example.org`: enough to recognise an address, not to harvest it.
pub fn mask(email: &str) -> String {
    match email.rsplit_once('@') {
        Some((local, domain)) => {
            let first: String = local.chars().take(1).collect();
            format!("{first}***@{domain}")
        }
        None => "***".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    const NOW: &str = "2026-12-03T00:00:00Z";

    /// Key files as `parse` is given them: the fixtures of src/openpgp.
    fn read_fixture(path: &str) -> Result<Vec<u8>, String> {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/openpgp/");
        std::fs::read(format!("{dir}{}", path.trim_start_matches("keys/")))
            .map_err(|_| "no such file".into())
    }

    /// The defaults of the sample config, keys judged at [`NOW`].
    fn defaults(expired_key_is_error: bool) -> Defaults<'static> {
        Defaults {
            remind_days: &[30, 7, 1],
            timezone: Tz::Europe__Zurich,
            now: NOW.parse().unwrap(),
            expired_key_is_error,
        }
    }

    fn run(text: &str) -> (Vec<Subscriber>, String) {
        let registry = testing::catalog(&[]).registry().clone();
        let defaults = defaults(true);
        let (subs, diags) = parse(
            &SourceFile::new("config/subscribers.toml", text),
            &registry,
            &defaults,
            &read_fixture,
        );
        (subs, crate::load::diagnostic::render_human(&diags))
    }

    #[test]
    fn valid_subscribers_with_defaults() {
        let (subs, diags) = run(r#"
[[subscriber]]
name = "Anna"
email = "Anna@Example.org"

[[subscriber]]
name = "Lawyers' group"
email = "lawyers@example.org"
topics = ["women"]
mechanisms = ["cerd", "upr"]
remind_days = [14, 60]
timezone = "America/New_York"
language = "ru"
digest = false
"#);
        assert_eq!(diags, "");
        assert_eq!(subs.len(), 2);
        assert_eq!(subs[0].filter, Filter::default());
        assert_eq!(subs[0].remind_days, [30, 7, 1]);
        assert_eq!(subs[0].timezone, Tz::Europe__Zurich);
        assert_eq!(subs[0].key, "anna@example.org");
        assert!(subs[0].digest);
        assert_eq!(subs[1].remind_days, [60, 14]);
        assert_eq!(subs[1].language, Lang::parse("ru").unwrap());
        assert!(!subs[1].digest);
        assert_eq!(subs[1].line, 6);
    }

    #[test]
    fn errors() {
        let cases = [
            ("subscribers_bad_email", "[[subscriber]]\nname = \"A\"\nemail = \"Anna <anna@example.org>\"\n"),
            ("subscribers_duplicate_email", "[[subscriber]]\nname = \"A\"\nemail = \"anna@example.org\"\n\n[[subscriber]]\nname = \"B\"\nemail = \"ANNA@example.org\"\n"),
            ("subscribers_unknown_topic", "[[subscriber]]\nname = \"A\"\nemail = \"a@example.org\"\ntopics = [\"womens\"]\nmechanisms = [\"cerdd\"]\n"),
            ("subscribers_bad_fields", "[[subscriber]]\nname = \"A\"\nemail = \"a@example.org\"\nlanguage = \"de\"\ndigest = \"yes\"\ntimezone = \"Europe/Geneva\"\nremind_days = [400]\nemial = \"x\"\n"),
            ("subscribers_missing", "[[subscriber]]\ntopics = []\n"),
            ("subscribers_not_array", "[subscriber]\nname = \"A\"\n"),
        ];
        for (name, text) in cases {
            let (subs, diags) = run(text);
            assert!(!diags.is_empty(), "{name}");
            assert!(subs.len() <= 1, "{name}");
            insta::assert_snapshot!(name, diags, text);
        }
    }

    #[test]
    fn diagnostics_mask_addresses() {
        let registry = testing::catalog(&[]).registry().clone();
        let defaults = defaults(true);
        let text = "[[subscriber]]\nname = \"A\"\nemail = \"anna.secret@example.org\"\n\n\
                    [[subscriber]]\nname = \"B\"\nemail = \"ANNA.secret@example.org\"\n\n\
                    [[subscriber]]\nname = \"Corinna Secret\"\ndigest = 3\nemail = \"Boris Secret <boris.secret@example.org>\"\n\
                    emial = \"x.secret@example.org\" # other@example.org, topics = [\"womens\"]\n";
        let (_, mut diags) = parse(
            &SourceFile::new("subscribers.toml", text),
            &registry,
            &defaults,
            &read_fixture,
        );
        diags.iter_mut().for_each(mask_diagnostic);
        let shown = crate::load::diagnostic::render_human(&diags);
        assert!(!shown.contains("secret@"), "{shown}");
        assert!(!shown.contains("other@"), "{shown}");
        assert!(!shown.contains("Secret"), "{shown}");
        insta::assert_snapshot!(shown);
    }

    #[test]
    fn openpgp_keys_inline_or_in_a_file() {
        let inline = String::from_utf8(read_fixture("cv25519.asc").unwrap()).unwrap();
        let (subs, diags) = run(&format!(
            "[[subscriber]]\nname = \"A\"\nemail = \"a@example.org\"\nopenpgp_key = \"keys/rsa.asc\"\n\n\
             [[subscriber]]\nname = \"B\"\nemail = \"b@example.org\"\nopenpgp_key = \"\"\"\n{inline}\"\"\"\n\n\
             [[subscriber]]\nname = \"C\"\nemail = \"c@example.org\"\n"
        ));
        assert_eq!(diags, "");
        assert!(subs[0]
            .openpgp
            .as_ref()
            .is_some_and(|c| c.expires.is_some()));
        assert!(subs[1]
            .openpgp
            .as_ref()
            .is_some_and(|c| c.expires.is_none()));
        assert!(subs[2].openpgp.is_none());
    }

    #[test]
    fn the_service_keeps_a_subscriber_whose_key_expired_and_warns() {
        let registry = testing::catalog(&[]).registry().clone();
        let defaults = defaults(false);
        let text = "[[subscriber]]\nname = \"A\"\nemail = \"a@example.org\"\nopenpgp_key = \"keys/expired.asc\"\n\n\
                    [[subscriber]]\nname = \"B\"\nemail = \"b@example.org\"\nopenpgp_key = \"keys/revoked.asc\"\n";
        let (subs, diags) = parse(
            &SourceFile::new("s.toml", text),
            &registry,
            &defaults,
            &read_fixture,
        );
        let shown = crate::load::diagnostic::render_human(&diags);
        // Expired: a warning, and the subscriber stays (their mail is held).
        assert!(
            shown.contains("s.toml:4:15: warning: `openpgp_key`: key"),
            "{shown}"
        );
        assert!(shown.contains("held, never sent in clear"), "{shown}");
        assert_eq!(subs.len(), 1);
        let cert = subs[0].openpgp.as_ref().unwrap();
        assert!(cert.usable_at(defaults.now).is_err());
        // Revoked stays an error.
        assert!(
            shown.contains("s.toml:9:15: error: `openpgp_key`: key"),
            "{shown}"
        );
    }

    #[test]
    fn unusable_openpgp_keys_are_errors_with_the_fingerprint() {
        let mut text = String::new();
        for (i, key) in [
            "expired.asc",
            "revoked.asc",
            "sign-only.asc",
            "rsa.secret.asc",
            "missing.asc",
            "",
        ]
        .iter()
        .enumerate()
        {
            text.push_str(&format!(
                "[[subscriber]]\nname = \"S{i}\"\nemail = \"s{i}@example.org\"\nopenpgp_key = \"{}\"\n\n",
                if key.is_empty() { String::new() } else { format!("keys/{key}") }
            ));
        }
        let (subs, diags) = run(&text);
        assert!(subs.is_empty(), "{subs:?}");
        for want in [
            "expired on 2020-06-01",
            "is revoked",
            "no usable encryption subkey",
            "secret (private) key",
            "cannot read the OpenPGP key file `keys/missing.asc`",
            "`openpgp_key` is empty",
        ] {
            assert!(diags.contains(want), "{want} missing from\n{diags}");
        }
        insta::assert_snapshot!(diags);
        // Masked (the journal, /healthz, staff alerts): no whole
        // fingerprint, and no key file name.
        let registry = testing::catalog(&[]).registry().clone();
        let defaults = defaults(true);
        let (_, mut all) = parse(
            &SourceFile::new("s.toml", &text),
            &registry,
            &defaults,
            &read_fixture,
        );
        all.iter_mut().for_each(mask_diagnostic);
        let masked = crate::load::diagnostic::render_human(&all);
        assert!(masked.contains("key E0C3…083F expired"), "{masked}");
        assert!(
            !masked.contains("E0C31BBAFAF790AFE8C88AB67A125007D16C083F"),
            "{masked}"
        );
        assert!(!masked.contains("= \"keys/expired.asc"), "{masked}");
    }

    #[test]
    fn masking() {
        assert_eq!(
            mask_fingerprints("key E0C31BBAFAF790AFE8C88AB67A125007D16C083F expired; id 0123abcd"),
            "key E0C3…083F expired; id 0123abcd"
        );
        assert_eq!(mask("anna@example.org"), "a***@example.org");
        assert_eq!(mask("иван@пример.рф"), "и***@пример.рф");
        assert_eq!(mask("broken"), "***");
    }
}
