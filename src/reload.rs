//! Hot reload: the deadline directory is watched, and a change is loaded and
//! validated off the request path. A valid repository replaces the served
//! catalog atomically (feeds, page, JSON and the reminder planner all see
//! the new version); an invalid one is logged and reported on `/healthz`
//! (`degraded`, with the diagnostics and since when) while the last good
//! catalog goes on being served.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::config::Config;
use crate::diagnostic::Diagnostic;
use crate::state::State;
use crate::store;
use crate::web::{App, Degraded, Snapshot};

/// Changes closer together than this are loaded once.
pub const DEBOUNCE: Duration = Duration::from_millis(250);

/// Loads the repository and, if valid, swaps it in. Returns whether the
/// served catalog changed.
pub fn reload(app: &App, config: &Arc<Config>, now: DateTime<Utc>) -> bool {
    let loaded = store::load(&config.data.deadlines, config.calendar.timezone);
    let Some(catalog) = loaded.catalog else {
        let errors: Vec<&Diagnostic> = loaded.diagnostics.iter().filter(|d| d.is_error()).collect();
        let lines: Vec<String> = errors
            .iter()
            .map(|d| d.to_string().trim_end().to_string())
            .collect();
        // Every diagnostic is logged once per distinct set of errors.
        let repeated = app
            .health()
            .degraded
            .is_some_and(|d| d.diagnostics == lines);
        tracing::error!(
            errors = errors.len(),
            "the deadline repository is invalid; still serving the last good version"
        );
        if !repeated {
            for line in &lines {
                tracing::error!("{line}");
            }
        }
        app.update_health(|h| {
            h.reloads_failed += 1;
            h.last_reload = Some(now);
            let since = match &h.degraded {
                Some(d) if d.diagnostics == lines => d.since,
                _ => now,
            };
            h.degraded = Some(Degraded {
                since,
                diagnostics: lines,
            });
        });
        return false;
    };
    let current = app.snapshot();
    let changed = catalog.version() != current.catalog.version();
    if changed {
        match State::open(&config.state.path)
            .and_then(|mut s| s.sync(&catalog, &config.render_fingerprint(), now))
        {
            Ok(versions) => {
                tracing::info!(
                    deadlines = catalog.deadlines().len(),
                    version = %catalog.version(),
                    "reloaded the deadline repository"
                );
                app.swap(Snapshot {
                    catalog: Arc::new(catalog),
                    versions,
                    config: config.clone(),
                });
            }
            Err(e) => {
                tracing::error!(
                    "cannot record the new catalog in the state database: {e}; keeping the old one"
                );
                app.update_health(|h| h.reloads_failed += 1);
                return false;
            }
        }
    }
    app.update_health(|h| {
        h.reloads_ok += 1;
        h.last_reload = Some(now);
        if h.degraded.take().is_some() {
            tracing::info!("the deadline repository is valid again");
        }
    });
    changed
}

/// Watches the deadline directory until `stopped`. Every batch of events
/// (debounced) rescans the whole tree — notify can miss files written into a
/// directory just created, so events only say "look again".
pub fn watch(
    app: Arc<App>,
    config: Arc<Config>,
    clock: crate::web::Clock,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, String> {
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
    .map_err(|e| format!("cannot watch the deadline directory: {e}"))?;
    watcher
        .watch(&config.data.deadlines, notify::RecursiveMode::Recursive)
        .map_err(|e| format!("cannot watch {}: {e}", config.data.deadlines.display()))?;
    tracing::info!(dir = %config.data.deadlines.display(), "watching the deadline directory");
    Ok(tokio::spawn(async move {
        let _watcher = watcher; // kept alive as long as the task
        loop {
            tokio::select! {
                event = rx.recv() => {
                    if event.is_none() {
                        return;
                    }
                }
                _ = stopped.wait_for(|s| *s) => return,
            }
            tokio::time::sleep(DEBOUNCE).await;
            while rx.try_recv().is_ok() {}
            let (app, config, now) = (app.clone(), config.clone(), clock());
            let _ = tokio::task::spawn_blocking(move || reload(&app, &config, now)).await;
        }
    }))
}
