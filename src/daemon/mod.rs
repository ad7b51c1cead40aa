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
//! (Over 600 lines: split into the layer folders of the layout issue, #10,
//! with the rest of the tree; not piecemeal before it.)

use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::watch;

use crate::load::config::Config;
pub mod git;
pub mod logging;
pub mod reload;
use crate::http::{self, App, Clock, Degraded, Heartbeats};
use crate::load::subscribers::Subscriber;
use crate::reminders::pass::{self, Runner};

/// An alert that could not be mailed is tried again after this long.
pub const ALERT_RETRY: Duration = Duration::from_secs(300);

/// A stop signal ends the process within this time.
pub const STOP_WITHIN: Duration = Duration::from_secs(10);

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
                self.app
                    .set_subscribers(subscribers.iter().map(|s| s.email.as_str()));
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
        // "Reload the deadline repository" includes following its remote.
        self.fetch_now.notify_one();
    }

    /// Follows `[data.git]` until `stopped`: fetch, then fast-forward and
    /// reload under the tree lock. Failures are logged (once per distinct
    /// error), counted, shown on `/healthz`, and tried again next interval.
    pub async fn follow_git(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        let mut first = true;
        loop {
            let config = self.config();
            let wait = match &config.data.git {
                Some(g) if !first => Duration::from_secs(g.interval_seconds),
                Some(_) => Duration::ZERO,
                // Off: look again later (a reload may turn it on).
                None => Duration::from_secs(60),
            };
            first = false;
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = self.fetch_now.notified() => {}
                _ = stopped.wait_for(|s| *s) => return,
            }
            let config = self.config();
            let Some(git_config) = &config.data.git else {
                continue;
            };
            let result = async {
                let checkout = git::Checkout::find(&config.data.deadlines, git_config).await?;
                let commit = checkout.fetch().await?;
                let _tree = self.tree.lock().await;
                let moved = checkout.fast_forward(&commit).await?;
                if moved {
                    tracing::info!(commit = %commit, checkout = %checkout.top().display(), "fast-forwarded the data checkout");
                    let (app, now) = (self.app.clone(), (self.clock)());
                    let _ = tokio::task::spawn_blocking(move || reload::reload(&app, now)).await;
                }
                Ok::<_, String>(())
            }
            .await;
            self.app.metrics.git_fetch(result.is_ok());
            let now = (self.clock)();
            match result {
                Ok(()) => self.app.update_health(|h| {
                    if h.git.take().is_some() {
                        tracing::info!("git: following the remote again");
                    }
                }),
                Err(e) => {
                    let repeated = self
                        .app
                        .health()
                        .git
                        .is_some_and(|d| d.diagnostics == [e.clone()]);
                    if repeated {
                        tracing::warn!("git: still failing; will try again");
                    } else {
                        tracing::error!("git: {e}; serving the data as it is, will try again");
                    }
                    self.app
                        .update_health(|h| Degraded::update(&mut h.git, vec![e], now));
                }
            }
            self.health_changed.notify_one();
        }
    }

    /// Reminder passes: one at start-up (catching up on anything missed
    /// while the server was down), then one at every tick of `[reminders]
    /// schedule`, and one after every config reload, until `stopped`. Each
    /// tick is only a wake-up: what is due is recomputed from the ledger, so
    /// a tick skipped or doubled by a DST change or a clock jump neither
    /// loses nor repeats a reminder. Waits are capped at 15 minutes so that
    /// clock jumps are noticed. `stop_flag` ends a pass after the message
    /// being sent.
    pub async fn remind(
        self: Arc<Self>,
        mut stopped: watch::Receiver<bool>,
        stop_flag: Arc<AtomicBool>,
    ) {
        let mut changes = self.settings.subscribe();
        let mut runner: Option<(Arc<Settings>, Runner)> = None;
        loop {
            let settings = changes.borrow_and_update().clone();
            let Some(settings) = settings else {
                if runner.take().is_some() {
                    tracing::info!("reminders off");
                }
                tokio::select! {
                    _ = changes.changed() => continue,
                    _ = stopped.wait_for(|s| *s) => return,
                }
            };
            if !runner
                .as_ref()
                .is_some_and(|(s, _)| Arc::ptr_eq(s, &settings))
            {
                let c = &settings.config;
                match Runner::new(
                    c.clone(),
                    self.app.snapshot().catalog.clone(),
                    settings.subscribers.clone(),
                ) {
                    Ok(mut r) => {
                        r.stop_on(stop_flag.clone());
                        if self.app.health().reminders.is_some() {
                            self.app.update_health(|h| h.reminders = None);
                            self.health_changed.notify_one();
                        }
                        tracing::info!(schedule = %c.reminders.schedule.text, zone = c.reminders.timezone.name(), subscribers = settings.subscribers.len(), "reminders on");
                        runner = Some((settings.clone(), r));
                    }
                    Err(e) => {
                        // Only after a reload (start-up checks this before
                        // serving): the config is in use, its reminders are
                        // not; /healthz and the staff alert say so, and the
                        // next tick tries again.
                        tracing::error!("reminders cannot run: {e}");
                        self.app.metrics.pass(None);
                        let now = (self.clock)();
                        self.app.update_health(|h| {
                            Degraded::update(
                                &mut h.reminders,
                                vec![format!("reminders cannot run: {e}")],
                                now,
                            )
                        });
                        self.health_changed.notify_one();
                        runner = None;
                    }
                }
            }
            if let Some((_, r)) = runner.as_mut() {
                // The catalog of the moment: reloads swap it in.
                r.set_catalog(self.app.snapshot().catalog.clone());
                match r.pass((self.clock)()).await {
                    Ok(o) => {
                        tracing::info!(
                            sent = o.sent,
                            resent = o.resent,
                            skipped = o.skipped,
                            failed = o.failed,
                            deferred = o.deferred,
                            interrupted = o.interrupted,
                            "reminder pass done"
                        );
                        self.app.metrics.pass(Some(&o));
                    }
                    Err(e) => {
                        tracing::error!("reminder pass failed: {e}");
                        self.app.metrics.pass(None);
                    }
                }
            }
            if *stopped.borrow() {
                return;
            }
            // Until the next tick, a settings change, or the stop.
            let schedule = settings.config.reminders.schedule.schedule.clone();
            let tz = settings.config.reminders.timezone;
            let mut next = pass::next_pass(&schedule, tz, (self.clock)());
            loop {
                let Some(at) = next else {
                    tracing::warn!(
                        "the reminder schedule has no next time; waiting for a config reload"
                    );
                    tokio::select! {
                        _ = changes.changed() => break,
                        _ = stopped.wait_for(|s| *s) => return,
                    }
                };
                let now = (self.clock)();
                if at <= now {
                    break;
                }
                let wait = (at - now)
                    .to_std()
                    .unwrap_or_default()
                    .min(Duration::from_secs(900));
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    _ = changes.changed() => break,
                    _ = stopped.wait_for(|s| *s) => return,
                }
                // Recompute: the wall clock may have jumped.
                next = pass::next_pass(&schedule, tz, now)
                    .filter(|n| *n <= at)
                    .or(next);
            }
        }
    }

    /// Mails `[alerts] staff` once per distinct set of problems (data,
    /// config, git) while they last. A mail that cannot be sent is tried
    /// again after [`ALERT_RETRY`] or at the next change.
    pub async fn alert(self: Arc<Self>, mut stopped: watch::Receiver<bool>) {
        use crate::reminders::transport::{Mailer, Transport as _};
        let mut alerted: Option<Vec<(&'static str, Vec<String>)>> = None;
        let mut retry = false;
        loop {
            let wait = if retry { ALERT_RETRY } else { Duration::MAX };
            tokio::select! {
                () = self.health_changed.notified() => {}
                () = tokio::time::sleep(wait) => {}
                _ = stopped.wait_for(|s| *s) => return,
            }
            retry = false;
            let health = self.app.health();
            let set: Vec<(&'static str, Vec<String>)> = health
                .problems()
                .map(|(what, d)| (what, d.diagnostics.clone()))
                .collect();
            if set.is_empty() {
                alerted = None;
                continue;
            }
            let config = self.config();
            if config.alerts.is_empty() || alerted.as_ref() == Some(&set) {
                continue;
            }
            let snap = self.app.snapshot();
            let problems: Vec<crate::reminders::message::Problem<'_>> = health
                .problems()
                .map(|(source, d)| crate::reminders::message::Problem {
                    source,
                    since: d.since,
                    diagnostics: &d.diagnostics,
                })
                .collect();
            let sent = async {
                let from = config
                    .mail
                    .from
                    .parse()
                    .map_err(|e| format!("`[mail] from`: {e}"))?;
                let message = crate::reminders::message::alert(
                    &from,
                    &config.alerts,
                    &config.calendar.domain,
                    &problems,
                    &snap.catalog.version().to_string(),
                    snap.catalog.deadlines().len(),
                    (self.clock)(),
                )?;
                let id = message
                    .headers()
                    .get_raw("Message-ID")
                    .unwrap_or_default()
                    .to_string();
                let mailer = Mailer::new(&config.mail.transport)?;
                mailer
                    .send(&id, &message)
                    .await
                    .map_err(|e| format!("{e:?}"))
            }
            .await;
            match sent {
                Ok(()) => {
                    tracing::info!(staff = config.alerts.len(), "alert mailed to staff");
                    alerted = Some(set);
                }
                Err(e) => {
                    tracing::error!("cannot mail the alert to staff: {e}; will try again");
                    retry = true;
                }
            }
        }
    }

    /// Pings the systemd watchdog at half its period while the HTTP threads
    /// beat; stops pinging (so systemd restarts the service) when one has
    /// been stuck for longer than the period.
    pub async fn watchdog(self: Arc<Self>, period: Duration, beats: Arc<Heartbeats>) {
        let every = period / 2;
        loop {
            if beats.alive(period.max(Heartbeats::EVERY * 3)) {
                notify(&[sd_notify::NotifyState::Watchdog], false);
            } else {
                tracing::error!(
                    "an HTTP thread has not run for {} s; not telling the watchdog",
                    period.as_secs()
                );
            }
            tokio::time::sleep(every).await;
        }
    }
}

/// Sends `states` to systemd (nothing without `NOTIFY_SOCKET`). With
/// `monotonic`, adds `MONOTONIC_USEC` (required with `RELOADING=1`).
///
/// The send never blocks: a notify socket whose queue is full (the kernel
/// keeps 10 datagrams by default, and a reader may stall) drops the
/// message with a warning instead of stopping the main loop — signals,
/// reloads and the stop would otherwise wait on it.
pub fn notify(states: &[sd_notify::NotifyState<'_>], monotonic: bool) {
    use std::fmt::Write as _;
    let Some(socket) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let mut message = String::new();
    for state in states {
        let _ = writeln!(message, "{state}");
    }
    if monotonic {
        if let Ok(now) = sd_notify::NotifyState::monotonic_usec_now() {
            let _ = writeln!(message, "{now}");
        }
    }
    if let Err(e) = send_datagram(&socket, message.as_bytes()) {
        let what = message.lines().next().unwrap_or_default();
        tracing::warn!("cannot notify systemd ({what}): {e}");
    }
}

/// One datagram to `socket` (a path, or `@name` in the abstract namespace),
/// without blocking.
fn send_datagram(socket: &std::ffi::OsStr, message: &[u8]) -> std::io::Result<()> {
    use std::os::unix::ffi::OsStrExt as _;
    use std::os::unix::net::UnixDatagram;
    let sender = UnixDatagram::unbound()?;
    sender.set_nonblocking(true)?;
    let sent = match socket.as_bytes().strip_prefix(b"@") {
        #[cfg(target_os = "linux")]
        Some(name) => {
            use std::os::linux::net::SocketAddrExt as _;
            let address = std::os::unix::net::SocketAddr::from_abstract_name(name)?;
            sender.send_to_addr(message, &address)?
        }
        #[cfg(not(target_os = "linux"))]
        Some(_) => {
            return Err(std::io::Error::other(
                "abstract sockets exist on Linux only",
            ))
        }
        None => sender.send_to(message, socket)?,
    };
    if sent == message.len() {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::WriteZero,
            "the notification was cut short",
        ))
    }
}

/// The watchdog period systemd asks for (`WATCHDOG_USEC` for this process).
pub fn watchdog_period() -> Option<Duration> {
    sd_notify::watchdog_enabled()
}

/// Runs the daemon on a loaded config and its first snapshot; returns the
/// exit code.
pub fn run(
    config: Config,
    snapshot: http::Snapshot,
    listen: Option<std::net::SocketAddr>,
    clock: Clock,
    err: &mut dyn std::io::Write,
) -> i32 {
    use crate::cli::{EXIT_INVALID, EXIT_OK, EXIT_USAGE};
    use crate::load::diagnostic::Diagnostic;
    let runtime = match crate::cli::current_thread_runtime(err) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let addr = listen.unwrap_or(config.server.listen);
    let threads = std::thread::available_parallelism().map_or(2, usize::from);
    let listeners = match http::bind_reuseport(addr, threads) {
        Ok(l) => l,
        Err(e) => {
            tracing::error!("cannot listen on {addr}: {e}");
            return EXIT_USAGE;
        }
    };
    let local = listeners[0]
        .local_addr()
        .map_or(addr.to_string(), |a| a.to_string());
    // With reminders on: the subscribers, and unsubscribe requests.
    let (settings, unsubscribe) = match &config.reminders.subscribers {
        None => (None, None),
        Some(path) => {
            let defaults = crate::load::subscribers::Defaults {
                remind_days: &config.reminders.remind_days,
                timezone: config.calendar.timezone,
            };
            let (subs, diags) = crate::load::subscribers::load(
                path,
                snapshot.catalog.registry(),
                &defaults,
                crate::load::subscribers::Addresses::Masked,
            );
            for d in &diags {
                tracing::warn!("{}", d.to_string().trim_end());
            }
            if diags.iter().any(Diagnostic::is_error) {
                let _ = writeln!(
                    err,
                    "error: the subscribers file is invalid; run `mechcal check`"
                );
                return EXIT_INVALID;
            }
            let secret = match crate::reminders::tokens::Secret::load(&config.reminders.secret_file)
            {
                Ok(s) => s,
                Err(e) => {
                    let _ = writeln!(
                        err,
                        "error: cannot read the unsubscribe secret {}: {e}",
                        config.reminders.secret_file.display()
                    );
                    return EXIT_USAGE;
                }
            };
            let state = match crate::state::State::open(&config.state.path) {
                Ok(s) => s,
                Err(e) => {
                    let _ = writeln!(err, "error: {e}");
                    return EXIT_USAGE;
                }
            };
            let unsubscribe =
                http::Unsubscribe::new(secret, state, subs.iter().map(|s| s.email.as_str()));
            let settings = Arc::new(Settings {
                config: snapshot.config.clone(),
                subscribers: Arc::new(subs),
            });
            (Some(settings), Some(unsubscribe))
        }
    };
    tracing::info!(
        deadlines = snapshot.catalog.deadlines().len(),
        version = %snapshot.catalog.version(),
        threads,
        "listening on http://{local}/"
    );
    let limits = http::Limits::new(&config.server);
    let app = App::with_unsubscribe(snapshot, clock.clone(), unsubscribe);
    let daemon = Daemon::new(app.clone(), config.file.clone(), clock, settings);
    let beats = Heartbeats::new(listeners.len());
    let (stop, stopped) = watch::channel(false);
    let stop_flag = Arc::new(AtomicBool::new(false));
    // Reminders that cannot run (an unreadable password, a bad `from`, a
    // state database that will not open) stop the start, before serving.
    if let Some(settings) = daemon.settings.borrow().clone() {
        let checked = runtime.block_on(async {
            Runner::new(
                settings.config.clone(),
                daemon.app.snapshot().catalog.clone(),
                settings.subscribers.clone(),
            )
            .map(drop)
        });
        if let Err(e) = checked {
            let _ = writeln!(err, "error: reminders cannot run: {e}");
            return EXIT_INVALID;
        }
    }
    let served = runtime.block_on(async {
        daemon.watch_data();
        let reminders = tokio::spawn(daemon.clone().remind(stopped.clone(), stop_flag.clone()));
        let git = tokio::spawn(daemon.clone().follow_git(stopped.clone()));
        let alerts = tokio::spawn(daemon.clone().alert(stopped.clone()));
        if let Some(period) = watchdog_period() {
            tracing::info!(seconds = period.as_secs_f64(), "systemd watchdog on");
            tokio::spawn(daemon.clone().watchdog(period, beats.clone()));
        }
        let mut http_stopped = stopped.clone();
        let http = http::serve_threads(listeners, app, limits, beats, async move {
            let _ = http_stopped.wait_for(|s| *s).await;
        });
        notify(&[sd_notify::NotifyState::Ready], false);
        let signals = async {
            signals(&daemon).await;
            notify(&[sd_notify::NotifyState::Stopping], false);
            tracing::info!("stopping: finishing in-flight requests and the message being sent");
            stop_flag.store(true, std::sync::atomic::Ordering::SeqCst);
            let _ = stop.send(true);
            tokio::time::Instant::now() + STOP_WITHIN
        };
        // The HTTP drain and the reminder pass finish side by side, both
        // within STOP_WITHIN of the signal.
        let (served, deadline) = tokio::join!(http, signals);
        // A reminder pass under way finishes its message and ledger write.
        if tokio::time::timeout_at(deadline, reminders).await.is_err() {
            tracing::warn!(
                "the reminder pass did not finish within {} s",
                STOP_WITHIN.as_secs()
            );
        }
        git.abort();
        alerts.abort();
        if let Some((_, task)) = daemon.watcher.lock().ok().and_then(|mut w| w.take()) {
            task.abort();
        }
        served
    });
    match served {
        Ok(()) => {
            tracing::info!("stopped");
            EXIT_OK
        }
        Err(e) => {
            tracing::error!("server error: {e}");
            EXIT_INVALID
        }
    }
}

/// Returns on SIGINT or SIGTERM; reloads on SIGHUP meanwhile.
async fn signals(daemon: &Arc<Daemon>) {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        tracing::error!("cannot install signal handlers; stop with SIGINT");
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    loop {
        tokio::select! {
            _ = tokio::signal::ctrl_c() => return,
            _ = term.recv() => return,
            _ = hup.recv() => daemon.reconfigure().await,
        }
    }
}
