//! The commands other than `check`: `serve`, `render`, `list`, `remind`,
//! `subscribers`.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::{addresses, current_thread_runtime, load, Error};
use crate::daemon::logging::{self, LogFormat};
use crate::exit::Exit;
use crate::http;
use crate::load::count;
use crate::load::subscribers::{self, Addresses};
use crate::model::catalog::Filter;
use crate::reminders::{self, Runner};
use crate::render::listing::{self, ListOptions};
use crate::state::Database;
use crate::subscriptions::{AddressKey, Status, Stored};

/// `mechcal serve`: the daemon (see [`crate::daemon`]) until SIGINT or SIGTERM.
pub fn serve(
    config: Option<&Path>,
    listen: Option<std::net::SocketAddr>,
    log_format: LogFormat,
    err: &mut dyn std::io::Write,
) -> Result<Exit, Error> {
    logging::init(log_format);
    #[allow(clippy::disallowed_methods)] // the edge: the server's clock
    let clock: http::Clock = Arc::new(Utc::now);
    let inputs = load(config, Some(Addresses::Masked), clock(), err)?;
    let runtime = current_thread_runtime()?;
    runtime.block_on(async {
        let stop = crate::daemon::stop_signal();
        crate::daemon::run(inputs, listen, clock, stop).await
    })?;
    Ok(Exit::Ok)
}

/// `mechcal render`: the static export.
pub fn render(
    config: Option<&Path>,
    dir: &Path,
    now: DateTime<Utc>,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> Result<Exit, Error> {
    let inputs = load(config, None, now, err)?;
    let state = inputs.config.state.shown();
    let mut snapshot = http::Snapshot::record(Arc::new(inputs.config), inputs.catalog, now)?;
    // A static copy cannot take sign-ups (its form tokens would expire).
    snapshot.signup = None;
    let files = http::export(&snapshot, dir, now).map_err(|source| Error::Export {
        dir: dir.to_path_buf(),
        source,
    })?;
    let _ = writeln!(
        out,
        "wrote {} to {} ({} deadlines; state in {})",
        count(files.len(), "file"),
        dir.display(),
        snapshot.catalog.deadlines().len(),
        state
    );
    Ok(Exit::Ok)
}

/// `mechcal list`.
pub fn list(
    config: Option<&Path>,
    topics: Vec<String>,
    mechanisms: Vec<String>,
    all: bool,
    now: DateTime<Utc>,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> Result<Exit, Error> {
    let inputs = load(config, None, now, err)?;
    let filter = Filter { topics, mechanisms };
    check_filter(&inputs.catalog, &filter)?;
    let text = listing::render(&inputs.catalog, &ListOptions { filter, all }, now);
    let _ = out.write_all(text.as_bytes());
    Ok(Exit::Ok)
}

/// Names in a filter must exist, so that a typo does not silently list nothing.
fn check_filter(catalog: &crate::model::catalog::Catalog, filter: &Filter) -> Result<(), Error> {
    let reg = catalog.registry();
    let unknown = |what, name: &str, known: Vec<&str>| Error::UnknownName {
        what,
        name: name.to_string(),
        help: crate::load::suggest::did_you_mean(name, known.iter().copied())
            .unwrap_or_else(|| format!("known: {}", crate::load::tables::list(known))),
    };
    if let Some(t) = filter.topics.iter().find(|t| reg.topic(t).is_none()) {
        return Err(unknown("topic", t, reg.topic_slugs().collect()));
    }
    if let Some(m) = filter
        .mechanisms
        .iter()
        .find(|m| reg.mechanism(m).is_none())
    {
        return Err(unknown("mechanism", m, reg.mechanism_slugs().collect()));
    }
    Ok(())
}

/// `mechcal remind`: one real pass, delivering to the configured transport.
/// Exit 1 (after the summary) when a message failed or waits.
pub fn remind(
    config: Option<&Path>,
    show_emails: bool,
    now: DateTime<Utc>,
    log_format: LogFormat,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> Result<Exit, Error> {
    let inputs = load(config, Some(addresses(show_emails)), now, err)?;
    let subs = inputs.require_subscribers()?.to_vec();
    logging::init(log_format);
    let runtime = current_thread_runtime()?;
    let o = runtime.block_on(async {
        let mut runner = Runner::new(
            Arc::new(inputs.config),
            Arc::new(inputs.catalog),
            Arc::new(subs),
        )?;
        runner.pass(now).await.map_err(Error::State)
    })?;
    let _ = writeln!(
        out,
        "sent {} ({} resent after an interrupted pass), skipped {}, failed {}, deferred {}",
        count(o.sent, "message"),
        o.resent,
        count(o.skipped, "reminder"),
        o.failed,
        o.deferred
    );
    if o.held > 0 {
        let _ = writeln!(
            out,
            "held {} (the subscriber's OpenPGP key expired; never sent in clear)",
            count(o.held, "reminder")
        );
    }
    Ok(if o.failed + o.deferred + o.held > 0 {
        Exit::Invalid
    } else {
        Exit::Ok
    })
}

/// `mechcal remind --dry-run`: what would be sent; changes nothing.
pub fn remind_dry_run(
    config: Option<&Path>,
    show_emails: bool,
    now: DateTime<Utc>,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> Result<Exit, Error> {
    let inputs = load(config, Some(addresses(show_emails)), now, err)?;
    let subs = inputs.require_subscribers()?;
    // Without a state database, it plans against an empty ledger instead
    // of creating one.
    let (ledger, opted_out, subs) = if inputs.config.state.exists() {
        let (state, key) = open_keyed(&inputs.config)?;
        let mut file = subs.to_vec();
        crate::subscriptions::key_all(&mut file, &key);
        let subs = reminders::pass::current_subscribers(
            &state,
            &key,
            &file,
            &inputs.catalog,
            &inputs.config,
            now,
        )?;
        (state.ledger()?, state.opted_out()?, subs)
    } else {
        (Default::default(), Default::default(), subs.to_vec())
    };
    let plan = reminders::plan::plan(&inputs.catalog, &subs, &ledger, &opted_out, now);
    let text = reminders::describe(&plan, &inputs.catalog, &subs, show_emails);
    let _ = out.write_all(text.as_bytes());
    Ok(Exit::Ok)
}

/// `mechcal subscribers`: who gets reminders, with filters and counts.
pub fn subscribers(
    config: Option<&Path>,
    show_emails: bool,
    now: DateTime<Utc>,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> Result<Exit, Error> {
    let inputs = load(config, Some(addresses(show_emails)), now, err)?;
    let subs = inputs.require_subscribers()?;
    let text = listing::subscribers(&inputs.catalog, subs, show_emails, now);
    let _ = out.write_all(text.as_bytes());
    // Self-service subscribers: counts only (`subscribers pending` lists
    // those waiting for staff).
    if inputs.config.state.exists() {
        let (state, _) = open_keyed(&inputs.config)?;
        let counts = state.subscription_counts()?;
        let n = |s: Status| counts.iter().find(|(c, _)| *c == s).map_or(0, |(_, n)| *n);
        let _ = writeln!(
            out,
            "self-service: {} active, {} waiting for approval, {} not yet confirmed",
            n(Status::Active),
            n(Status::Approval),
            n(Status::Pending)
        );
    }
    Ok(Exit::Ok)
}

/// The state database with its ledger keyed, and the address key.
fn open_keyed(config: &crate::load::config::Config) -> Result<(Database, AddressKey), Error> {
    let mut state = Database::open_state(&config.state)?;
    let key = AddressKey::load(&config.state.key_file).map_err(|source| {
        Error::Reminders(crate::reminders::transport::SetupError::AddressKey {
            path: config.state.key_file.clone(),
            source,
        })
    })?;
    state.key_addresses(&key)?;
    Ok((state, key))
}

/// `mechcal subscribers resubscribe EMAIL`: lifts an opt-out.
pub fn resubscribe(
    config: Option<&Path>,
    email: &str,
    out: &mut dyn std::io::Write,
) -> Result<Exit, Error> {
    let config = super::resolve_config(config, None)?;
    let (mut state, key) = open_keyed(&config)?;
    if state.resubscribe(&key.id(email))? {
        let _ = writeln!(out, "{} will get reminders again", subscribers::mask(email));
        Ok(Exit::Ok)
    } else {
        Err(Error::NotOptedOut(subscribers::mask(email)))
    }
}

/// A waiting sign-up's reference: the first 8 hex digits of its key.
fn reference(s: &Stored) -> &str {
    &s.id[..8]
}

/// `mechcal subscribers pending`: confirmed sign-ups waiting for staff.
pub fn pending(
    config: Option<&Path>,
    show_emails: bool,
    out: &mut dyn std::io::Write,
) -> Result<Exit, Error> {
    let config = super::resolve_config(config, None)?;
    let (state, key) = open_keyed(&config)?;
    let waiting = state.subscriptions(&key, &[Status::Approval])?;
    if waiting.is_empty() {
        let _ = writeln!(out, "no sign-up waits for approval");
        return Ok(Exit::Ok);
    }
    let _ = writeln!(
        out,
        "REF       ADDRESS                         SIGNED UP   TOPICS / MECHANISMS"
    );
    for s in &waiting {
        let c = &s.sealed.choice;
        let address = if show_emails {
            s.sealed.email.clone()
        } else {
            subscribers::mask(&s.sealed.email)
        };
        let all = |v: &[String]| {
            if v.is_empty() {
                "all".to_string()
            } else {
                v.join(",")
            }
        };
        let _ = writeln!(
            out,
            "{:<9} {:<31} {}  {} / {}",
            reference(s),
            address,
            s.created_at.format("%Y-%m-%d"),
            all(&c.topics),
            all(&c.mechanisms)
        );
    }
    let _ = writeln!(
        out,
        "{} waiting: `mechcal subscribers approve REF…` or `reject REF…`",
        waiting.len()
    );
    Ok(Exit::Ok)
}

/// `mechcal subscribers approve|reject REF…`: lets waiting sign-ups in,
/// or deletes everything about them. Every REF is checked before any is
/// changed.
pub fn approve(
    config: Option<&Path>,
    refs: &[String],
    approve: bool,
    out: &mut dyn std::io::Write,
) -> Result<Exit, Error> {
    let config = super::resolve_config(config, None)?;
    let (mut state, key) = open_keyed(&config)?;
    let waiting = state.subscriptions(&key, &[Status::Approval])?;
    let mut chosen: Vec<&Stored> = Vec::new();
    for r in refs {
        let by_address = r.contains('@').then(|| key.id(r));
        let matches: Vec<&Stored> = waiting
            .iter()
            .filter(|s| match &by_address {
                Some(id) => &s.id == id,
                None => r.len() >= 6 && s.id.starts_with(&r.to_lowercase()),
            })
            .collect();
        match matches.as_slice() {
            [one] => chosen.push(one),
            _ => return Err(Error::NoSuchSignUp(subscribers::mask_addresses(r))),
        }
    }
    #[allow(clippy::disallowed_methods)] // the edge: staff's command runs now
    let now = Utc::now();
    for s in chosen {
        if approve {
            let mut s = s.clone();
            s.status = Status::Active;
            state.save_subscription(&key, &s, now)?;
            let _ = writeln!(
                out,
                "{} approved: {} gets reminders",
                reference(&s),
                subscribers::mask(&s.sealed.email)
            );
        } else {
            state.forget(&s.id)?;
            let _ = writeln!(
                out,
                "{} rejected: everything about it is deleted",
                reference(s)
            );
        }
    }
    Ok(Exit::Ok)
}

/// `mechcal dkim-record`: the TXT record of `[mail.dkim]`'s key, as a
/// zone-file line (split into strings of 255 characters) and as the bare
/// value that DNS providers' forms ask for.
pub fn dkim_record(config: Option<&Path>, out: &mut dyn std::io::Write) -> Result<Exit, Error> {
    let config = super::resolve_config(config, None)?;
    let Some(c) = &config.mail.dkim else {
        return Err(Error::NoDkim);
    };
    let d =
        crate::reminders::transport::dkim::Dkim::load(c).map_err(|e| Error::Reminders(e.into()))?;
    let _ = writeln!(out, "{}", d.zone_line());
    let _ = writeln!(out, "; name:  {}", d.name());
    let _ = writeln!(out, "; value: {}", d.record_value());
    Ok(Exit::Ok)
}

/// `mechcal state copy`: every row of the configured state into an empty
/// database (PostgreSQL at a URL, or a new SQLite file).
pub fn state_copy(
    config: Option<&Path>,
    to: &str,
    password_file: Option<&Path>,
    out: &mut dyn std::io::Write,
) -> Result<Exit, Error> {
    let config = super::resolve_config(config, None)?;
    let source = Database::open_state(&config.state)?;
    let mut target = if to.starts_with("postgres://") || to.starts_with("postgresql://") {
        let target = crate::load::config::StateConfig {
            url: Some(to.to_string()),
            password_file: password_file.map(Path::to_path_buf),
            ..config.state.clone()
        };
        Database::open_state(&target)?
    } else {
        let path = Path::new(to);
        if path.exists() {
            return Err(crate::state::StateError::Exists(path.to_path_buf()).into());
        }
        if password_file.is_some() {
            return Err(Error::PasswordForFile);
        }
        Database::open(path)?
    };
    let copied = source.copy_to(&mut target)?;
    let rows: usize = copied.iter().map(|(_, n)| n).sum();
    let _ = writeln!(
        out,
        "copied {} from {} to {}",
        count(rows, "row"),
        source.shown(),
        target.shown()
    );
    for (table, n) in copied {
        let _ = writeln!(out, "  {table}: {n}");
    }
    Ok(Exit::Ok)
}

/// `mechcal backup --out DIR`.
pub fn backup(
    config: Option<&Path>,
    dir: &Path,
    now: DateTime<Utc>,
    out: &mut dyn std::io::Write,
) -> Result<Exit, Error> {
    let config = super::resolve_config(config, None)?;
    let written = crate::state::backup::backup(&config.state, dir, now)?;
    let _ = writeln!(
        out,
        "wrote {} ({} bytes), a copy of {}
  sha256 {}, in {} (check it with `sha256sum -c`)
         note: the subscribers in it can only be read with the address key ({}): keep a copy of the key, apart from the backups",
        written.file.display(),
        written.bytes,
        config.state.shown(),
        written.sha256,
        written.checksum_file.display(),
        config.state.key_file.display()
    );
    Ok(Exit::Ok)
}

/// `mechcal restore FILE`.
pub fn restore(
    config: Option<&Path>,
    file: &Path,
    now: DateTime<Utc>,
    out: &mut dyn std::io::Write,
) -> Result<Exit, Error> {
    let config = super::resolve_config(config, None)?;
    if config.state.url.is_some() {
        return Err(crate::state::StateError::NotSqlite(config.state.shown()).into());
    }
    // Never a new key here: one made now could not open the backup.
    let credential = crate::os::credentials::path(crate::os::credentials::ADDRESS_KEY);
    if credential.is_none() && !config.state.key_file.exists() {
        return Err(Error::NoAddressKey(config.state.key_file.clone()));
    }
    let key = AddressKey::load(&config.state.key_file).map_err(|source| {
        Error::Reminders(crate::reminders::transport::SetupError::AddressKey {
            path: config.state.key_file.clone(),
            source,
        })
    })?;
    let restored = crate::state::backup::restore(&config.state, &key, file, now)?;
    let _ = writeln!(
        out,
        "restored {} from {}",
        config.state.shown(),
        file.display()
    );
    if let Some(kept) = restored.kept {
        let _ = writeln!(out, "  the state it replaced is kept as {}", kept.display());
    }
    Ok(Exit::Ok)
}

/// `mechcal watch`: one pass over the pages the entries link to; exit 1
/// when a link has a problem.
pub fn watch(
    config: Option<&Path>,
    now: DateTime<Utc>,
    format: super::Format,
    only: Option<&str>,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> Result<Exit, Error> {
    let inputs = load(config, None, now, err)?;
    let Some(targets) = crate::watch::targets(&inputs.catalog, only, now) else {
        let name = only.unwrap_or_default();
        let mut entries: Vec<&str> = inputs
            .catalog
            .deadlines()
            .iter()
            .map(|d| d.entry.as_str())
            .collect();
        entries.dedup();
        return Err(Error::UnknownName {
            what: "entry",
            name: name.to_string(),
            help: crate::load::suggest::did_you_mean(name, entries.iter().copied())
                .unwrap_or_else(|| "`mechcal list --all` shows the entries' ids".into()),
        });
    };
    let mut db = Database::open_state(&inputs.config.state)?;
    let runtime = current_thread_runtime()?;
    let report = runtime.block_on(crate::watch::pass(
        &inputs.config,
        &targets,
        &mut db,
        now,
        only.is_none(),
    ))?;
    let text = match format {
        super::Format::Human => crate::watch::report::human(&report),
        super::Format::Json => crate::watch::report::json(&report),
    };
    let _ = out.write_all(text.as_bytes());
    Ok(if report.problems() > 0 {
        Exit::Invalid
    } else {
        Exit::Ok
    })
}
