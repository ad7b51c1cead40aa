//! The command line: parses arguments, reads the clock, runs a command and
//! maps its outcome to an exit code. This is the edge: the only module that
//! prints or reads the real time.
//!
//! Exit codes: 0 success, 1 invalid data, 2 usage or config errors.
//!
//! (Over 600 lines: split into the layer folders of the layout issue, #10,
//! with the rest of the tree; not piecemeal before it.)

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};

use std::sync::Arc;

use crate::daemon::logging::LogFormat;
use crate::http;
use crate::load::config::{self, Config};
use crate::load::deadlines::{self, Loaded};
use crate::load::diagnostic::{self, Diagnostic, JsonDiagnostic};
use crate::load::{subscribers, suggest};
use crate::model::catalog::{Catalog, Filter};
use crate::reminders;
use crate::reminders::pass::Runner;
use crate::render::listing::{self, ListOptions};
use crate::state::State;

/// The config file used when `--config` is not given.
pub const DEFAULT_CONFIG: &str = "config/mechcal.toml";

pub const EXIT_OK: i32 = 0;
pub const EXIT_INVALID: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

#[derive(Parser, Debug)]
#[command(
    name = "mechcal",
    version,
    about = "Deadline calendar for human-rights mechanisms",
    long_about = "Deadline calendar for international human-rights mechanisms: validates the \
                  deadline repository and lists what is coming."
)]
pub struct Args {
    /// The config file [default: config/mechcal.toml]
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// How `serve` and `remind` log to stderr
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Validate the deadline repository; report every problem with its place
    Check {
        /// The deadline directory [default: `[data] deadlines` from the config]
        dir: Option<PathBuf>,
        /// How to print diagnostics
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Count upcoming deadlines as of this instant (RFC 3339) instead of now
        #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
        now: Option<DateTime<Utc>>,
        /// Show full e-mail addresses in diagnostics about the subscribers
        /// file (masked by default: they are personal data)
        #[arg(long)]
        show_emails: bool,
    },
    /// List upcoming deadlines, soonest first
    List {
        /// Only deadlines with this topic (repeat for any of several)
        #[arg(long = "topic", value_name = "TOPIC")]
        topics: Vec<String>,
        /// Only deadlines of this mechanism (repeat for any of several)
        #[arg(long = "mechanism", value_name = "MECHANISM")]
        mechanisms: Vec<String>,
        /// Also list past and cancelled deadlines
        #[arg(long)]
        all: bool,
        /// List as of this instant (RFC 3339) instead of now
        #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
        now: Option<DateTime<Utc>>,
    },
    /// Serve the feeds, page and JSON over HTTP and run the reminders; follows the data, SIGHUP reloads the config
    Serve {
        /// Listen here instead of `[server] listen` (e.g. 127.0.0.1:0 for any free port)
        #[arg(long, value_name = "ADDR")]
        listen: Option<std::net::SocketAddr>,
    },
    /// Write the feeds, page and JSON as static files, the very bytes `serve` serves
    Render {
        /// The output directory (created if needed)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        /// Render as of this instant (RFC 3339) instead of now
        #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
        now: Option<DateTime<Utc>>,
    },
    /// List the subscribers of e-mail reminders, with their filters and counts
    Subscribers {
        #[command(subcommand)]
        action: Option<SubscribersAction>,
        /// Show full e-mail addresses (masked by default: they are personal data)
        #[arg(long)]
        show_emails: bool,
        /// Count upcoming deadlines as of this instant (RFC 3339) instead of now
        #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
        now: Option<DateTime<Utc>>,
    },
    /// Run one reminder pass: send what is due, record it in the ledger
    Remind {
        /// Run as of this instant (RFC 3339) instead of now
        #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
        now: Option<DateTime<Utc>>,
        /// Print what would be sent and change nothing
        #[arg(long)]
        dry_run: bool,
        /// Show full e-mail addresses
        #[arg(long)]
        show_emails: bool,
    },
    /// Print the sample config file
    DefaultConfig,
}

#[derive(Subcommand, Debug)]
pub enum SubscribersAction {
    /// Lift an address's opt-out (only staff can: subscribers unsubscribe
    /// themselves through the link in every reminder)
    Resubscribe {
        /// The address, as in the subscribers file
        email: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

fn addresses(show_emails: bool) -> subscribers::Addresses {
    if show_emails {
        subscribers::Addresses::Shown
    } else {
        subscribers::Addresses::Masked
    }
}

fn parse_now(s: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{e}; expected e.g. 2027-01-15T08:00:00Z"))
}

/// Runs the command line of this process and returns the exit code.
pub fn main() -> i32 {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
        }
    };
    #[allow(clippy::disallowed_methods)] // the edge: the one place that reads the clock
    let clock = Utc::now();
    run(args, clock, &mut std::io::stdout(), &mut std::io::stderr())
}

/// Runs parsed arguments; `clock` is the real time, used where no `--now`.
pub fn run(
    args: Args,
    clock: DateTime<Utc>,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> i32 {
    match args.command {
        Command::Serve { listen } => serve(args.config.as_deref(), listen, args.log_format, err),
        Command::Render { out: dir, now } => {
            let now = now.unwrap_or(clock);
            let (config, snapshot) = match prepare(args.config.as_deref(), now, err) {
                Ok(x) => x,
                Err(code) => return code,
            };
            match http::export(&snapshot, &dir, now) {
                Ok(files) => {
                    let _ = writeln!(
                        out,
                        "wrote {} to {} ({} deadlines; state in {})",
                        count(files.len(), "file"),
                        dir.display(),
                        snapshot.catalog.deadlines().len(),
                        config.state.path.display()
                    );
                    EXIT_OK
                }
                Err(e) => {
                    let _ = writeln!(
                        err,
                        "error: cannot write to {}: {}",
                        dir.display(),
                        deadlines::io_reason(&e)
                    );
                    EXIT_USAGE
                }
            }
        }
        Command::DefaultConfig => {
            let _ = out.write_all(config::SAMPLE.as_bytes());
            EXIT_OK
        }
        Command::Check {
            dir,
            format,
            now,
            show_emails,
        } => {
            let config = match resolve_config(args.config.as_deref(), dir.as_deref()) {
                Ok(c) => c,
                Err(diags) => return usage_failure(&diags, format, out, err),
            };
            let root = &config.data.deadlines;
            if let Err(d) = deadlines::check_dir(root) {
                return usage_failure(&[d], format, out, err);
            }
            let mut loaded = deadlines::load(root, config.calendar.timezone);
            let subscribers = check_subscribers(&config, &mut loaded, addresses(show_emails));
            report_check(
                &loaded,
                root,
                subscribers,
                format,
                now.unwrap_or(clock),
                out,
                err,
            )
        }
        Command::Remind {
            now,
            dry_run,
            show_emails,
        } => {
            let (config, catalog, subs) =
                match load_subscribers(args.config.as_deref(), addresses(show_emails), err) {
                    Ok(x) => x,
                    Err(code) => return code,
                };
            if !dry_run {
                return remind(
                    &config,
                    catalog,
                    subs,
                    now.unwrap_or(clock),
                    args.log_format,
                    out,
                    err,
                );
            }
            // A dry run changes nothing: without a state database, it plans
            // against an empty ledger instead of creating one.
            let (ledger, opted_out) = if config.state.path.exists() {
                match State::open(&config.state.path)
                    .and_then(|s| Ok((s.ledger()?, s.opted_out()?)))
                {
                    Ok(x) => x,
                    Err(e) => {
                        let _ = writeln!(err, "error: {e}");
                        return EXIT_USAGE;
                    }
                }
            } else {
                Default::default()
            };
            let plan =
                reminders::plan::plan(&catalog, &subs, &ledger, &opted_out, now.unwrap_or(clock));
            let text = reminders::describe(&plan, &catalog, &subs, show_emails);
            let _ = out.write_all(text.as_bytes());
            EXIT_OK
        }
        Command::Subscribers {
            action: Some(SubscribersAction::Resubscribe { email }),
            ..
        } => {
            let config = match resolve_config(args.config.as_deref(), None) {
                Ok(c) => c,
                Err(diags) => return usage_failure(&diags, Format::Human, out, err),
            };
            match State::open(&config.state.path).and_then(|mut s| s.resubscribe(&email)) {
                Ok(true) => {
                    let _ = writeln!(
                        out,
                        "{} will get reminders again",
                        subscribers::mask(&email)
                    );
                    EXIT_OK
                }
                Ok(false) => {
                    let _ = writeln!(
                        err,
                        "error: {} has not opted out",
                        subscribers::mask(&email)
                    );
                    EXIT_INVALID
                }
                Err(e) => {
                    let _ = writeln!(err, "error: {e}");
                    EXIT_USAGE
                }
            }
        }
        Command::Subscribers {
            action: None,
            show_emails,
            now,
        } => {
            let (_config, catalog, subs) =
                match load_subscribers(args.config.as_deref(), addresses(show_emails), err) {
                    Ok(x) => x,
                    Err(code) => return code,
                };
            let text = listing::subscribers(&catalog, &subs, show_emails, now.unwrap_or(clock));
            let _ = out.write_all(text.as_bytes());
            EXIT_OK
        }
        Command::List {
            topics,
            mechanisms,
            all,
            now,
        } => {
            let config = match resolve_config(args.config.as_deref(), None) {
                Ok(c) => c,
                Err(diags) => return usage_failure(&diags, Format::Human, out, err),
            };
            let catalog = match load_catalog(&config, err) {
                Ok(c) => c,
                Err(code) => return code,
            };
            let filter = Filter { topics, mechanisms };
            if let Err(message) = check_filter(&catalog, &filter) {
                let _ = writeln!(err, "{message}");
                return EXIT_USAGE;
            }
            let text =
                listing::render(&catalog, &ListOptions { filter, all }, now.unwrap_or(clock));
            let _ = out.write_all(text.as_bytes());
            EXIT_OK
        }
    }
}

/// Loads config and data and records the catalog in the state database:
/// what `serve` and `render` start from. Prints problems and returns the exit
/// code on failure.
fn prepare(
    config: Option<&Path>,
    now: DateTime<Utc>,
    err: &mut dyn std::io::Write,
) -> Result<(Config, http::Snapshot), i32> {
    let config = resolve_config(config, None).map_err(|diags| {
        let _ = err.write_all(diagnostic::render_human(&diags).as_bytes());
        EXIT_USAGE
    })?;
    let catalog = load_catalog(&config, err)?;
    let versions = State::open(&config.state.path)
        .and_then(|mut s| s.sync(&catalog, &config.render_fingerprint(), now))
        .map_err(|e| {
            let _ = writeln!(err, "error: {e}");
            EXIT_USAGE
        })?;
    let snapshot = http::Snapshot {
        catalog: Arc::new(catalog),
        versions,
        config: Arc::new(config.clone()),
    };
    Ok((config, snapshot))
}

/// `mechcal serve`: the daemon (see [`crate::daemon`]) until SIGINT or SIGTERM.
fn serve(
    config: Option<&Path>,
    listen: Option<std::net::SocketAddr>,
    log_format: LogFormat,
    err: &mut dyn std::io::Write,
) -> i32 {
    crate::daemon::logging::init(log_format);
    #[allow(clippy::disallowed_methods)] // the edge: the server's clock
    let clock: http::Clock = Arc::new(Utc::now);
    let (config, snapshot) = match prepare(config, clock(), err) {
        Ok(x) => x,
        Err(code) => return code,
    };
    crate::daemon::run(config, snapshot, listen, clock, err)
}

/// A single-threaded tokio runtime, or the exit code after saying why not.
pub fn current_thread_runtime(
    err: &mut dyn std::io::Write,
) -> Result<tokio::runtime::Runtime, i32> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            let _ = writeln!(err, "error: cannot start the async runtime: {e}");
            EXIT_USAGE
        })
}

/// `mechcal remind`: one real pass, delivering to the configured transport.
fn remind(
    config: &Config,
    catalog: Catalog,
    subs: Vec<subscribers::Subscriber>,
    now: DateTime<Utc>,
    log_format: LogFormat,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> i32 {
    crate::daemon::logging::init(log_format);
    let runtime = match current_thread_runtime(err) {
        Ok(r) => r,
        Err(code) => return code,
    };
    let result = runtime.block_on(async {
        let mut runner = Runner::new(Arc::new(config.clone()), Arc::new(catalog), Arc::new(subs))?;
        runner.pass(now).await
    });
    match result {
        Ok(o) => {
            let _ = writeln!(
                out,
                "sent {} ({} resent after an interrupted pass), skipped {}, failed {}, deferred {}",
                count(o.sent, "message"),
                o.resent,
                count(o.skipped, "reminder"),
                o.failed,
                o.deferred
            );
            if o.failed + o.deferred > 0 {
                EXIT_INVALID
            } else {
                EXIT_OK
            }
        }
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            EXIT_USAGE
        }
    }
}

/// Validates the subscribers file, when the config names one and the
/// deadline data (whose registry it refers to) is valid. Its problems join
/// the deadline diagnostics; an error makes the whole check fail. Returns the
/// number of subscribers when they are valid.
fn check_subscribers(
    config: &Config,
    loaded: &mut Loaded,
    addresses: subscribers::Addresses,
) -> Option<usize> {
    let path = config.reminders.subscribers.as_ref()?;
    let catalog = loaded.catalog.as_ref()?;
    let defaults = subscribers::Defaults {
        remind_days: &config.reminders.remind_days,
        timezone: config.calendar.timezone,
    };
    let (subs, diags) = subscribers::load(path, catalog.registry(), &defaults, addresses);
    let failed = diags.iter().any(Diagnostic::is_error);
    loaded.diagnostics.extend(diags);
    if failed {
        loaded.catalog = None;
        None
    } else {
        Some(subs.len())
    }
}

/// Config, valid catalog and valid subscribers, or the exit code after
/// printing why not.
fn load_subscribers(
    config: Option<&Path>,
    addresses: subscribers::Addresses,
    err: &mut dyn std::io::Write,
) -> Result<(Config, Catalog, Vec<subscribers::Subscriber>), i32> {
    let config = resolve_config(config, None).map_err(|diags| {
        let _ = err.write_all(diagnostic::render_human(&diags).as_bytes());
        EXIT_USAGE
    })?;
    let Some(path) = config.reminders.subscribers.clone() else {
        let _ = writeln!(
            err,
            "error: the config names no subscribers file\n  help: set `[reminders] subscribers = \"subscribers.toml\"`"
        );
        return Err(EXIT_USAGE);
    };
    let catalog = load_catalog(&config, err)?;
    let defaults = subscribers::Defaults {
        remind_days: &config.reminders.remind_days,
        timezone: config.calendar.timezone,
    };
    let (subs, diags) = subscribers::load(&path, catalog.registry(), &defaults, addresses);
    let _ = err.write_all(diagnostic::render_human(&diags).as_bytes());
    if diags.iter().any(Diagnostic::is_error) {
        return Err(EXIT_INVALID);
    }
    Ok((config, catalog, subs))
}

/// Loads and validates the configured deadline repository, printing its
/// diagnostics; the exit code when it cannot be used.
fn load_catalog(config: &Config, err: &mut dyn std::io::Write) -> Result<Catalog, i32> {
    let root = &config.data.deadlines;
    if let Err(d) = deadlines::check_dir(root) {
        let _ = err.write_all(d.to_string().as_bytes());
        return Err(EXIT_USAGE);
    }
    let loaded = deadlines::load(root, config.calendar.timezone);
    let _ = err.write_all(diagnostic::render_human(&loaded.diagnostics).as_bytes());
    let errors = loaded.errors();
    loaded.catalog.ok_or_else(|| {
        let _ = writeln!(
            err,
            "error: the deadline repository has {}; run `mechcal check`",
            count(errors, "error")
        );
        EXIT_INVALID
    })
}

/// Finds the config: `--config`, else `config/mechcal.toml` if it exists, else
/// built-in defaults when a deadline directory was named. A named `dir`
/// replaces the config's `[data] deadlines`.
fn resolve_config(config: Option<&Path>, dir: Option<&Path>) -> Result<Config, Vec<Diagnostic>> {
    let mut cfg = match config {
        Some(path) => Config::load(path)?,
        None if Path::new(DEFAULT_CONFIG).exists() => Config::load(Path::new(DEFAULT_CONFIG))?,
        None => match dir {
            Some(dir) => Config::defaults(dir.to_path_buf()),
            None => {
                return Err(vec![Diagnostic::file_error(
                Path::new(DEFAULT_CONFIG),
                "no config file",
            )
            .with_help(
                "pass `--config FILE`, or name the deadline directory: `mechcal check deadlines/`",
            )])
            }
        },
    };
    if let Some(dir) = dir {
        cfg.data.deadlines = config::normalize(dir);
    }
    Ok(cfg)
}

/// Names in a filter must exist, so that a typo does not silently list nothing.
fn check_filter(catalog: &Catalog, filter: &Filter) -> Result<(), String> {
    let reg = catalog.registry();
    for t in &filter.topics {
        if reg.topic(t).is_none() {
            return Err(unknown("topic", t, reg.topic_slugs()));
        }
    }
    for m in &filter.mechanisms {
        if reg.mechanism(m).is_none() {
            return Err(unknown("mechanism", m, reg.mechanism_slugs()));
        }
    }
    Ok(())
}

fn unknown<'a>(what: &str, name: &str, known: impl Iterator<Item = &'a str> + Clone) -> String {
    let help = suggest::did_you_mean(name, known.clone())
        .unwrap_or_else(|| format!("known: {}", crate::load::tables::list(known)));
    format!("error: unknown {what} `{name}`\n  help: {help}")
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

fn usage_failure(
    diags: &[Diagnostic],
    format: Format,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> i32 {
    match format {
        Format::Human => {
            let _ = err.write_all(diagnostic::render_human(diags).as_bytes());
        }
        Format::Json => {
            let report = serde_json::json!({
                "ok": false,
                "diagnostics": diags.iter().map(JsonDiagnostic::from).collect::<Vec<_>>(),
                "summary": null,
            });
            let _ = writeln!(out, "{report}");
        }
    }
    EXIT_USAGE
}

fn report_check(
    loaded: &Loaded,
    root: &Path,
    subscribers: Option<usize>,
    format: Format,
    now: DateTime<Utc>,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> i32 {
    let code = if loaded.catalog.is_some() {
        EXIT_OK
    } else {
        EXIT_INVALID
    };
    let summary = loaded.catalog.as_ref().map(|c| {
        serde_json::json!({
            "deadlines": c.deadlines().len(),
            "files": c.files(),
            "upcoming": c.upcoming(now),
            "subscribers": subscribers,
        })
    });
    match format {
        Format::Json => {
            let report = serde_json::json!({
                "ok": code == EXIT_OK,
                "errors": loaded.errors(),
                "warnings": loaded.warnings(),
                "diagnostics": loaded.diagnostics.iter().map(JsonDiagnostic::from).collect::<Vec<_>>(),
                "summary": summary,
            });
            let _ = writeln!(out, "{report}");
        }
        Format::Human => {
            let _ = err.write_all(diagnostic::render_human(&loaded.diagnostics).as_bytes());
            let warnings = match loaded.warnings() {
                0 => String::new(),
                n => format!(", {}", count(n, "warning")),
            };
            match &loaded.catalog {
                Some(c) => {
                    let subs = subscribers
                        .map(|n| format!("; {}", count(n, "subscriber")))
                        .unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "ok: {} in {}, {} upcoming{subs}{warnings}",
                        count(c.deadlines().len(), "deadline"),
                        count(c.files(), "file"),
                        c.upcoming(now),
                    );
                }
                None => {
                    let _ = writeln!(
                        err,
                        "error: {} in {} ({} read){warnings}",
                        count(loaded.errors(), "error"),
                        root.display(),
                        count(loaded.files, "deadline file"),
                    );
                }
            }
        }
    }
    code
}
