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
    let inputs = load(config, Some(Addresses::Masked), err)?;
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
    let inputs = load(config, None, err)?;
    let state = inputs.config.state.path.clone();
    let snapshot = http::Snapshot::record(Arc::new(inputs.config), inputs.catalog, now)?;
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
        state.display()
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
    let inputs = load(config, None, err)?;
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
    let inputs = load(config, Some(addresses(show_emails)), err)?;
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
    Ok(if o.failed + o.deferred > 0 {
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
    let inputs = load(config, Some(addresses(show_emails)), err)?;
    let subs = inputs.require_subscribers()?;
    // Without a state database, it plans against an empty ledger instead
    // of creating one.
    let (ledger, opted_out) = if inputs.config.state.path.exists() {
        let state = Database::open(&inputs.config.state.path)?;
        (state.ledger()?, state.opted_out()?)
    } else {
        Default::default()
    };
    let plan = reminders::plan::plan(&inputs.catalog, subs, &ledger, &opted_out, now);
    let text = reminders::describe(&plan, &inputs.catalog, subs, show_emails);
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
    let inputs = load(config, Some(addresses(show_emails)), err)?;
    let subs = inputs.require_subscribers()?;
    let text = listing::subscribers(&inputs.catalog, subs, show_emails, now);
    let _ = out.write_all(text.as_bytes());
    Ok(Exit::Ok)
}

/// `mechcal subscribers resubscribe EMAIL`: lifts an opt-out.
pub fn resubscribe(
    config: Option<&Path>,
    email: &str,
    out: &mut dyn std::io::Write,
) -> Result<Exit, Error> {
    let config = super::resolve_config(config, None)?;
    if Database::open(&config.state.path)?.resubscribe(email)? {
        let _ = writeln!(out, "{} will get reminders again", subscribers::mask(email));
        Ok(Exit::Ok)
    } else {
        Err(Error::NotOptedOut(subscribers::mask(email)))
    }
}
