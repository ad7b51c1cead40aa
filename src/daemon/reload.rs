//! Hot reload: the deadline directory is watched, and a change is loaded and
//! validated off the request path. A valid repository replaces the served
//! catalog atomically (feeds, page, JSON and the reminder planner all see
//! the new version); an invalid one is logged and reported on `/healthz`
//! (`degraded`, with the diagnostics and since when) while the last good
//! catalog goes on being served. A config reload (SIGHUP) follows the same
//! rule: the new config, the data under it and its subscribers are taken
//! together or not at all.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::http::{App, Degraded, Snapshot};
use crate::load::config::Config;
use crate::load::deadlines;
use crate::load::diagnostic::Diagnostic;
use crate::load::subscribers::{Addresses, Subscriber};
use crate::load::{self, LoadError};
use crate::model::catalog::Catalog;

/// Changes closer together than this are loaded once.
pub const DEBOUNCE: Duration = Duration::from_millis(250);

/// How long the watcher waits at most for the files to stop changing
/// before it loads them anyway.
pub const MAX_SETTLE: Duration = Duration::from_secs(10);

/// The error lines of `diagnostics`, as `check` prints them.
fn error_lines(diagnostics: &[Diagnostic]) -> Vec<String> {
    diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.to_string().trim_end().to_string())
        .collect()
}

/// Logs a failed reload: every diagnostic, but only once per distinct set
/// (an unchanged broken file is not logged again at every event).
fn log_failure(what: &str, lines: &[String], before: Option<&Degraded>) {
    tracing::error!(
        errors = lines.len(),
        "the {what} is invalid; still running with the last good version"
    );
    if before.is_none_or(|d| d.diagnostics != lines) {
        for line in lines {
            tracing::error!("{line}");
        }
    }
}

/// Records `catalog` in the state database and serves it with `config`;
/// on failure logs why and keeps the old one.
fn swap_in(app: &App, config: Arc<Config>, catalog: Catalog, now: DateTime<Utc>) -> bool {
    match Snapshot::record(config, catalog, now) {
        Ok(snapshot) => {
            app.swap(snapshot);
            true
        }
        Err(e) => {
            tracing::error!(
                "cannot record the new catalog in the state database: {e}; keeping the old one"
            );
            app.update_health(|h| h.reloads_failed += 1);
            false
        }
    }
}

/// Loads the repository under the config in service and, if valid, swaps
/// it in. Returns whether the served catalog changed.
pub fn reload(app: &App, now: DateTime<Utc>) -> bool {
    let current = app.snapshot();
    let config = &current.config;
    let loaded = deadlines::load(
        &config.data.deadlines,
        config.data.max_bytes,
        config.calendar.timezone,
        config.calendar.window(now),
    );
    let Some(catalog) = loaded.catalog else {
        let lines = error_lines(&loaded.diagnostics);
        log_failure("deadline repository", &lines, app.health().data.as_ref());
        app.update_health(|h| {
            h.reloads_failed += 1;
            h.last_reload = Some(now);
            Degraded::update(&mut h.data, lines, now);
        });
        return false;
    };
    let changed = catalog.version() != current.catalog.version();
    if changed {
        let (deadlines, version) = (catalog.deadlines().len(), catalog.version().to_string());
        if !swap_in(app, current.config.clone(), catalog, now) {
            return false;
        }
        tracing::info!(deadlines, version, "reloaded the deadline repository");
    }
    app.update_health(|h| {
        h.reloads_ok += 1;
        h.last_reload = Some(now);
        if h.data.take().is_some() {
            tracing::info!("the deadline repository is valid again");
        }
    });
    changed
}

/// What a config reload produced.
pub struct Reconfigured {
    pub config: Arc<Config>,
    /// The subscribers under the new config, when reminders are on.
    pub subscribers: Option<Arc<Vec<Subscriber>>>,
}

/// Settings that a running server cannot take over (its sockets, threads,
/// state database and unsubscribe key are open): kept from `old`, with a
/// warning for each one that changed.
fn keep_restart_only(old: &Config, new: &mut Config) {
    let mut kept = Vec::new();
    if new.server != old.server {
        kept.push("[server]");
        new.server = old.server.clone();
    }
    if new.state != old.state {
        kept.push("[state]");
        new.state = old.state.clone();
    }
    if new.reminders.secret_file != old.reminders.secret_file {
        kept.push("[reminders] secret_file");
        new.reminders.secret_file = old.reminders.secret_file.clone();
    }
    // The unsubscribe endpoints are set up at start: reminders turned on
    // by a reload would send links that nothing answers.
    if old.reminders.subscribers.is_none() && new.reminders.subscribers.is_some() {
        kept.push("[reminders] subscribers (turning reminders on)");
        new.reminders.subscribers = None;
    }
    for what in kept {
        tracing::warn!("{what} changed: restart mechcal to apply it (the old value stays in use)");
    }
}

/// Reloads the config file at `path` with everything that depends on it:
/// the deadline data (its directory and zone come from the config) and the
/// subscribers file. Any error keeps the running config and data, is logged,
/// and is shown on `/healthz`.
pub fn reload_config(app: &App, path: &Path, now: DateTime<Utc>) -> Option<Reconfigured> {
    let old = app.snapshot().config.clone();
    // `data`: the deadline data under the new config failed, else the config
    // (or its subscribers file).
    let fail = |lines: Vec<String>, data: bool| {
        let before = app.health();
        let (what, earlier) = if data {
            ("deadline repository", before.data)
        } else {
            ("config", before.config)
        };
        log_failure(what, &lines, earlier.as_ref());
        app.update_health(|h| {
            h.reloads_failed += 1;
            h.last_reload = Some(now);
            let slot = if data { &mut h.data } else { &mut h.config };
            Degraded::update(slot, lines, now);
        });
        None
    };
    let mut config = match Config::load(path) {
        Ok(c) => c,
        Err(diags) => return fail(error_lines(&diags), false),
    };
    keep_restart_only(&old, &mut config);
    let inputs = match load::everything(config, Some(Addresses::Masked), load::Keys::serving(now)) {
        Ok(inputs) => inputs,
        Err(LoadError::Data { diagnostics, .. }) => return fail(error_lines(&diagnostics), true),
        Err(e) => return fail(error_lines(e.diagnostics()), false),
    };
    let config = Arc::new(inputs.config);
    let subscribers = inputs.subscribers.map(Arc::new);
    let catalog = inputs.catalog;
    let (deadlines, version) = (catalog.deadlines().len(), catalog.version().to_string());
    if !swap_in(app, config.clone(), catalog, now) {
        return None;
    }
    app.update_health(|h| {
        h.reloads_ok += 1;
        h.last_reload = Some(now);
        h.data = None;
        h.config = None;
    });
    tracing::info!(deadlines, version, "reloaded the config");
    Some(Reconfigured {
        config,
        subscribers,
    })
}

/// Why the deadline directory cannot be watched (changes are then not
/// picked up until a SIGHUP).
#[derive(Debug, thiserror::Error)]
pub enum WatchError {
    #[error("cannot watch the deadline directory: {0}")]
    Start(notify::Error),
    #[error("cannot watch {}: {source}", .dir.display())]
    Watch { dir: PathBuf, source: notify::Error },
}

/// Watches `dir` until the task is aborted, calling `on_change` (on a
/// blocking thread) after every batch of events, debounced. Every batch
/// means "look again" — notify can miss files written into a directory just
/// created, so `on_change` rescans the whole tree rather than trusting the
/// events.
pub fn watch(
    dir: PathBuf,
    on_change: Arc<dyn Fn() + Send + Sync>,
) -> Result<tokio::task::JoinHandle<()>, WatchError> {
    use notify::Watcher as _;
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<()>();
    // Look once right after watching starts: a change made between the first
    // load and now would otherwise go unseen until the next one.
    let _ = tx.send(());
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        // Reading the files (as a reload does) is no change.
        if let Ok(e) = event {
            if !matches!(e.kind, notify::EventKind::Access(_)) {
                let _ = tx.send(());
            }
        }
    })
    .map_err(WatchError::Start)?;
    watcher
        .watch(&dir, notify::RecursiveMode::Recursive)
        .map_err(|source| WatchError::Watch {
            dir: dir.clone(),
            source,
        })?;
    tracing::info!(dir = %dir.display(), "watching the deadline directory");
    Ok(tokio::spawn(async move {
        let _watcher = watcher; // kept alive as long as the task
        while rx.recv().await.is_some() {
            settle(&dir, &mut rx).await;
            let on_change = on_change.clone();
            let _ = tokio::task::spawn_blocking(move || on_change()).await;
        }
    }))
}

/// Waits until the repository has been still for a whole [`DEBOUNCE`]: no
/// event, and every file's size and modification time unchanged across it.
/// A file rewritten in place by a slow writer (an upload, a script) is
/// otherwise read half-written, and a valid half (its first deadlines
/// only) would be published. Editors and git replace files whole, by
/// rename, so for them this is one debounce. After [`MAX_SETTLE`] of
/// constant change the files are loaded as they are.
async fn settle(dir: &Path, rx: &mut tokio::sync::mpsc::UnboundedReceiver<()>) {
    let start = tokio::time::Instant::now();
    let stamp = |dir: &Path| {
        let dir = dir.to_path_buf();
        tokio::task::spawn_blocking(move || deadlines::scan::stamp(&dir))
    };
    let mut before = stamp(dir).await.ok();
    loop {
        tokio::time::sleep(DEBOUNCE).await;
        let mut quiet = true;
        while rx.try_recv().is_ok() {
            quiet = false;
        }
        let after = stamp(dir).await.ok();
        if quiet && after == before {
            return;
        }
        if start.elapsed() >= MAX_SETTLE {
            tracing::warn!(
                "the deadline directory has kept changing for {} s; loading it as it is",
                MAX_SETTLE.as_secs()
            );
            return;
        }
        before = after;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_a_running_server_cannot_take_over_are_kept() {
        let old = Config::defaults("deadlines".into());
        let mut new = old.clone();
        new.calendar.name = "Renamed".into();
        new.server.listen = "127.0.0.1:9090".parse().unwrap();
        new.server.header_timeout_seconds = 3;
        new.state.path = "elsewhere.sqlite".into();
        new.reminders.secret_file = "other.secret".into();
        new.reminders.subscribers = Some("subscribers.toml".into());
        keep_restart_only(&old, &mut new);
        let mut expected = old.clone();
        expected.calendar.name = "Renamed".into();
        assert_eq!(new, expected);

        // Reminders on at start may be turned off, and their file changed.
        let mut old = old;
        old.reminders.subscribers = Some("subscribers.toml".into());
        let mut off = old.clone();
        off.reminders.subscribers = None;
        keep_restart_only(&old, &mut off);
        assert_eq!(off.reminders.subscribers, None);
        let mut moved = old.clone();
        moved.reminders.subscribers = Some("other.toml".into());
        keep_restart_only(&old, &mut moved);
        assert_eq!(moved.reminders.subscribers, Some("other.toml".into()));
    }
}
