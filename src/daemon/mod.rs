//! `mechcal serve`: the HTTP server, the reminder schedule, hot reload, git
//! sync and the systemd protocol in one process.
//!
//! Threads: one per core serves HTTP (see [`http::serve_threads`]); the main
//! thread runs a single-threaded runtime with everything else — signals,
//! the directory watcher, git fetches, reminder passes, the watchdog.
//!
//! Signals: SIGTERM/SIGINT stop accepting, let in-flight requests and the
//! message being sent (with its ledger write) finish, and exit within
//! [`STOP_WITHIN`]. SIGHUP reloads the config, the deadline data and the
//! subscribers together (see [`reload::reload_config`]).
//!
//! systemd (`Type=notify`): `READY=1` once listening, `RELOADING=1` and
//! `READY=1` around a SIGHUP reload, `STOPPING=1` on a stop signal, and
//! `WATCHDOG=1` at half of `WatchdogSec` while every HTTP thread's event
//! loop and the main loop are running. Without `NOTIFY_SOCKET` nothing is
//! sent.
//!
//! [`run`] takes the loaded inputs and a shutdown future (the command line
//! passes SIGINT/SIGTERM; tests pass whatever they like, as tokio's
//! mini-redis does) and returns a [`Result`]; it prints nothing itself.
//!
//! Files: `schedule` (reminder passes), `alerts` (staff mail), `git`
//! (following the data remote), `reload` (watching and reloading),
//! `sources` (checking the pages deadlines link to), `systemd` (notify and
//! watchdog), `logging`.

mod alerts;
pub(crate) mod git;
mod lead;
pub(crate) mod logging;
pub(crate) mod reload;
mod schedule;
mod sources;
mod systemd;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::exit::Exit;
use crate::http::{self, App, Clock, Heartbeats};
use crate::load::config::Config;
use crate::load::subscribers::Subscriber;
use crate::load::Inputs;
use crate::reminders::{Runner, SetupError};
use crate::state::StateError;

pub use alerts::ALERT_RETRY;
pub use systemd::{notify, watchdog_period};

/// Why `serve` could not start, or stopped on a failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
    /// The state database or the unsubscribe secret cannot be opened.
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Secret(SetupError),
    /// Reminders are configured but cannot run (an unreadable password, a
    /// bad `from`, a maildir that cannot be made).
    #[error("reminders cannot run: {0}")]
    Reminders(SetupError),
    #[error("server error: {0}")]
    Server(std::io::Error),
}

impl Error {
    pub fn exit(&self) -> Exit {
        match self {
            Error::Listen { .. } | Error::State(_) | Error::Secret(_) => Exit::Usage,
            Error::Reminders(_) | Error::Server(_) => Exit::Invalid,
        }
    }
}

/// A stop signal ends the process within this time.
pub const STOP_WITHIN: Duration = Duration::from_secs(10);

/// How often the data is reloaded without a change when it has yearly
/// dates: their occurrences depend on the day (`[calendar]
/// horizon_days` ahead, `keep_past_days` back), so a year enters and
/// leaves the calendar without any file changing. An unchanged result is
/// not swapped in.
pub const WINDOW_RELOAD: Duration = Duration::from_secs(3600);

/// What the reminder schedule runs with; replaced by a config reload.
pub struct Settings {
    pub config: Arc<Config>,
    pub subscribers: Arc<Vec<Subscriber>>,
}

/// Everything the background tasks share.
pub struct Daemon {
    pub app: Arc<App>,
    /// The config file SIGHUP re-reads (`None`: built-in defaults).
    pub config_file: Option<PathBuf>,
    pub clock: Clock,
    /// Held while the deadline tree is read or changed by git, so that a
    /// reload never sees a half-updated checkout.
    tree: Arc<tokio::sync::Mutex<()>>,
    /// The reminder settings (`None`: reminders off).
    settings: watch::Sender<Option<Arc<Settings>>>,
    /// The directory being watched, and its watcher task.
    watcher: Mutex<Option<(PathBuf, tokio::task::JoinHandle<()>)>>,
    /// Makes the git task fetch now (SIGHUP).
    fetch_now: tokio::sync::Notify,
    /// Wakes the alert task after a reload or a git step.
    health_changed: tokio::sync::Notify,
    /// Wakes the watch task after a config reload (`[watch]` may have
    /// been turned on or off, or its interval changed).
    reconfigured: tokio::sync::Notify,
    /// Wakes the reminder schedule when this replica gains the lead.
    lead_gained: tokio::sync::Notify,
}

impl Daemon {
    pub fn new(
        app: Arc<App>,
        config_file: Option<PathBuf>,
        clock: Clock,
        settings: Option<Arc<Settings>>,
    ) -> Arc<Daemon> {
        Arc::new(Daemon {
            app,
            config_file,
            clock,
            tree: Arc::default(),
            settings: watch::Sender::new(settings),
            watcher: Mutex::new(None),
            fetch_now: tokio::sync::Notify::new(),
            health_changed: tokio::sync::Notify::new(),
            reconfigured: tokio::sync::Notify::new(),
            lead_gained: tokio::sync::Notify::new(),
        })
    }

    fn config(&self) -> Arc<Config> {
        self.app.snapshot().config.clone()
    }

    /// Reloads the deadline data under the current config (tree locked).
    fn reload_data_blocking(&self) {
        let _tree = self.tree.blocking_lock();
        reload::reload(&self.app, (self.clock)());
        self.health_changed.notify_one();
    }

    /// (Re)starts the watcher when the deadline directory is not the one
    /// being watched. Call inside the main runtime.
    pub fn watch_data(self: &Arc<Self>) {
        let dir = self.config().data.deadlines.clone();
        let Ok(mut current) = self.watcher.lock() else {
            return;
        };
        if current.as_ref().is_some_and(|(d, _)| *d == dir) {
            return;
        }
        if let Some((_, task)) = current.take() {
            task.abort();
        }
        let daemon = Arc::downgrade(self);
        let on_change = Arc::new(move || {
            if let Some(d) = daemon.upgrade() {
                d.reload_data_blocking();
            }
        });
        match reload::watch(dir.clone(), on_change) {
            Ok(task) => *current = Some((dir, task)),
            Err(e) => {
                tracing::warn!("{e}; changes to the deadline directory will not be picked up")
            }
        }
    }

    /// Reloads the data every [`WINDOW_RELOAD`] while it has yearly dates.
    async fn follow_window(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        loop {
            tokio::select! {
                () = tokio::time::sleep(WINDOW_RELOAD) => {}
                _ = stopped.wait_for(|s| *s) => return,
            }
            let yearly = self
                .app
                .snapshot()
                .catalog
                .deadlines()
                .iter()
                .any(|d| d.repeat.is_some());
            if yearly {
                let d = self.clone();
                let _ = tokio::task::spawn_blocking(move || d.reload_data_blocking()).await;
            }
        }
    }

    /// SIGHUP: the config, the data under it and the subscribers, together.
    pub async fn reconfigure(self: &Arc<Self>) {
        let Some(file) = self.config_file.clone() else {
            tracing::warn!("SIGHUP: no config file to re-read (running on built-in defaults); reloading the data");
            let d = self.clone();
            let _ = tokio::task::spawn_blocking(move || d.reload_data_blocking()).await;
            self.fetch_now.notify_one();
            return;
        };
        notify(&[sd_notify::NotifyState::Reloading], true);
        tracing::info!(file = %file.display(), "SIGHUP: reloading the config");
        let d = self.clone();
        let done = tokio::task::spawn_blocking(move || {
            let _tree = d.tree.blocking_lock();
            reload::reload_config(&d.app, &file, (d.clock)())
        })
        .await
        .ok()
        .flatten();
        if let Some(new) = done {
            if let Some(subscribers) = &new.subscribers {
                self.app.set_subscribers(subscribers);
            }
            let settings = new.subscribers.map(|subscribers| {
                Arc::new(Settings {
                    config: new.config.clone(),
                    subscribers,
                })
            });
            self.settings.send_replace(settings);
            self.watch_data();
        }
        notify(&[sd_notify::NotifyState::Ready], false);
        self.health_changed.notify_one();
        self.reconfigured.notify_one();
        // "Reload the deadline repository" includes following its remote.
        self.fetch_now.notify_one();
    }
}

/// Runs the daemon on `inputs` (see [`crate::load::everything`]) until
/// `shutdown` completes, then drains within [`STOP_WITHIN`]. SIGHUP
/// reloads meanwhile. `listen` replaces `[server] listen`.
// Over 100 lines: the start sequence in the order it must happen (record, bind, reminders checked, tasks, ready, drain); split, its order would be harder to see.
pub async fn run(
    inputs: Inputs,
    listen: Option<SocketAddr>,
    clock: Clock,
    shutdown: impl Future<Output = ()>,
) -> Result<(), Error> {
    let Inputs {
        config,
        catalog,
        subscribers,
        ..
    } = inputs;
    // Held until `run` returns (or the process ends): `restore` and a
    // second `serve` on the same SQLite file find it taken.
    let _serve_lock = crate::state::backup::ServeLock::take(&config.state)?;
    let config = Arc::new(config);
    let snapshot = http::Snapshot::record(config.clone(), catalog, clock())?;
    let addr = listen.unwrap_or(config.server.listen);
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let listeners =
        http::bind_reuseport(addr, threads).map_err(|source| Error::Listen { addr, source })?;
    let local = listeners[0]
        .local_addr()
        .map_or(addr.to_string(), |a| a.to_string());
    // With reminders on: the subscribers, and unsubscribe requests.
    let (settings, unsubscribe) = match subscribers {
        None => (None, None),
        Some(subs) => {
            let secret = crate::reminders::tokens::Secret::load(&config.reminders.secret_file)
                .map_err(|source| {
                    Error::Secret(SetupError::Secret {
                        path: config.reminders.secret_file.clone(),
                        source,
                    })
                })?;
            let key = crate::subscriptions::AddressKey::load(&config.state.key_file).map_err(
                |source| {
                    Error::Secret(SetupError::AddressKey {
                        path: config.state.key_file.clone(),
                        source,
                    })
                },
            )?;
            let state = crate::state::Database::open_state(&config.state)?;
            let unsubscribe = http::Reminders::new(secret, key, state, &subs)?;
            let settings = Arc::new(Settings {
                config: config.clone(),
                subscribers: Arc::new(subs),
            });
            (Some(settings), Some(unsubscribe))
        }
    };
    // Reminders that cannot run stop the start, before serving.
    if let Some(settings) = &settings {
        Runner::new(
            settings.config.clone(),
            snapshot.catalog.clone(),
            settings.subscribers.clone(),
        )
        .map_err(Error::Reminders)?;
    }
    crate::os::allocator::settle();
    tracing::info!(
        deadlines = snapshot.catalog.deadlines().len(),
        version = %snapshot.catalog.version(),
        threads,
        "listening on http://{local}/"
    );
    let limits = http::Limits::new(&config.server).exempting(&config.subscriptions.trusted_proxies);
    let app = App::with_reminders(snapshot, clock.clone(), unsubscribe);
    let daemon = Daemon::new(app.clone(), config.file.clone(), clock, settings);
    let beats = Heartbeats::new(listeners.len());
    let (stop, stopped) = watch::channel(false);
    let stop_flag = Arc::new(AtomicBool::new(false));
    daemon.watch_data();
    daemon.share_state();
    let lead = tokio::spawn(daemon.clone().keep_lead(stopped.clone()));
    let reminders = tokio::spawn(daemon.clone().remind(stopped.clone(), stop_flag.clone()));
    let git = tokio::spawn(daemon.clone().follow_git(stopped.clone()));
    let alerts = tokio::spawn(daemon.clone().alert(stopped.clone()));
    let window = tokio::spawn(daemon.clone().follow_window(stopped.clone()));
    let sources = tokio::spawn(daemon.clone().watch_sources(stopped.clone()));
    // Installed before anything is served (see `stop_signal`).
    let hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let hangups = tokio::spawn(hangups(daemon.clone(), hup));
    if let Some(period) = watchdog_period() {
        tracing::info!(seconds = period.as_secs_f64(), "systemd watchdog on");
        tokio::spawn(daemon.clone().watchdog(period, beats.clone()));
    }
    let mut http_stopped = stopped.clone();
    let http = http::serve_threads(listeners, app, limits, beats, async move {
        let _ = http_stopped.wait_for(|s| *s).await;
    });
    notify(&[sd_notify::NotifyState::Ready], false);
    let stopping = async {
        shutdown.await;
        notify(&[sd_notify::NotifyState::Stopping], false);
        tracing::info!("stopping: finishing in-flight requests and the message being sent");
        stop_flag.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = stop.send(true);
        tokio::time::Instant::now() + STOP_WITHIN
    };
    // The HTTP drain and the reminder pass finish side by side, both
    // within STOP_WITHIN of the signal.
    let (served, deadline) = tokio::join!(http, stopping);
    // A reminder pass under way finishes its message and ledger write.
    if tokio::time::timeout_at(deadline, reminders).await.is_err() {
        tracing::warn!(
            "the reminder pass did not finish within {} s",
            STOP_WITHIN.as_secs()
        );
    }
    git.abort();
    lead.abort();
    alerts.abort();
    window.abort();
    sources.abort();
    hangups.abort();
    if let Some((_, task)) = daemon.watcher.lock().ok().and_then(|mut w| w.take()) {
        task.abort();
    }
    served.map_err(Error::Server)?;
    tracing::info!("stopped");
    Ok(())
}

/// Completes on SIGINT or SIGTERM: the shutdown future of `mechcal serve`.
/// The handlers are installed when this is called, not when the future is
/// first polled, so a signal sent as soon as the server answers is never
/// met by the default action (which would end the process on the spot).
pub fn stop_signal() -> impl Future<Output = ()> {
    use tokio::signal::unix::{signal, SignalKind};
    let term = signal(SignalKind::terminate());
    let interrupt = signal(SignalKind::interrupt());
    async move {
        match (term, interrupt) {
            (Ok(mut term), Ok(mut interrupt)) => {
                tokio::select! {
                    _ = term.recv() => {}
                    _ = interrupt.recv() => {}
                }
            }
            _ => {
                tracing::error!("cannot install the SIGTERM handler; stop with SIGINT");
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
}

/// Reloads the config on every SIGHUP received through `hup`.
async fn hangups(daemon: Arc<Daemon>, hup: Option<tokio::signal::unix::Signal>) {
    let Some(mut hup) = hup else {
        tracing::error!("cannot install a SIGHUP handler; restart to reload the config");
        return;
    };
    while hup.recv().await.is_some() {
        daemon.reconfigure().await;
    }
}
