//! The command line: parses arguments, reads the clock, runs a command.
//! This is the edge that reads the real time (with `daemon`'s server
//! clock), and [`main`] is the one place that prints a command's error and
//! maps it to an exit code ([`Error::exit`]). A command's own report —
//! `check`'s diagnostics, `list`'s table, warnings met on the way — is its
//! output, written to `out`/`err` by the command.
//!
//! Files: `args` (the arguments as clap reads them), `check` (the `check`
//! command and its report), `import`, `new` and `diff` (the staff tools'
//! edges), `docs` (manual pages), `commands` (the others).

mod args;
mod check;
mod commands;
mod diff;
mod docs;
mod import;
mod new;
mod repository;

pub use args::{Args, BadInstant, Command, Format, StateAction, SubscribersAction};
pub use docs::command_paths;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::Parser;

use crate::exit::Exit;
use crate::load::config::{self, Config};
use crate::load::diagnostic::Diagnostic;
use crate::load::{subscribers, LoadError};
use crate::reminders::SetupError;
use crate::state::StateError;

/// The config file used when `--config` is not given.
pub const DEFAULT_CONFIG: &str = "config/mechcal.toml";

fn addresses(show_emails: bool) -> subscribers::Addresses {
    if show_emails {
        subscribers::Addresses::Shown
    } else {
        subscribers::Addresses::Masked
    }
}

/// Why a command failed. Its `Display` is what the user reads (ending in
/// a newline); [`Error::exit`] says which exit code it means.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Load(#[from] LoadError),
    #[error("error: {0}\n")]
    State(#[from] StateError),
    #[error("error: {0}\n")]
    Daemon(#[from] crate::daemon::Error),
    #[error("error: {0}\n")]
    Reminders(#[from] SetupError),
    #[error("error: cannot start the async runtime: {0}\n")]
    Runtime(std::io::Error),
    #[error("error: {0}\n")]
    Watch(#[from] crate::watch::PassError),
    #[error("error: cannot write to {}: {}\n", .dir.display(), crate::load::deadlines::io_reason(.source))]
    Export {
        dir: PathBuf,
        source: std::io::Error,
    },
    /// `list --topic`/`--mechanism` naming what the registry does not have.
    #[error("error: unknown {what} `{name}`\n  help: {help}\n")]
    UnknownName {
        what: &'static str,
        name: String,
        help: String,
    },
    /// `subscribers resubscribe` of an address that has not opted out
    /// (already masked).
    #[error("error: {0} has not opted out\n")]
    NotOptedOut(String),
    /// `subscribers approve`/`reject` of a reference that names no waiting
    /// sign-up, or more than one.
    #[error("error: `{0}` names no sign-up waiting for approval\n  help: `mechcal subscribers pending` lists them with their REF\n")]
    NoSuchSignUp(String),
    #[error("error: the config has no `[mail.dkim]`\n  help: add `[mail.dkim]` with `domain`, `selector` and `key_file` (see \"Mail that arrives\" in the book: docs/src/operators/mail.md)\n")]
    NoDkim,
    /// `restore` without the address key.
    #[error("error: the address key {} is missing: a backup is restored with the key it was made with\n  help: put the key back from its own backup first (mode 600, owned by the service user)\n", .0.display())]
    NoAddressKey(PathBuf),
    /// `state copy --password-file` with a SQLite target.
    #[error("error: `--password-file` is for a PostgreSQL target\n  help: give `--to postgres://…`, or leave `--password-file` out for a SQLite file\n")]
    PasswordForFile,
}

impl Error {
    /// The exit code: 1 for invalid data or undelivered mail, 2 for usage,
    /// config and environment errors.
    pub fn exit(&self) -> Exit {
        match self {
            Error::Load(e) => e.exit(),
            Error::Daemon(e) => e.exit(),
            Error::NotOptedOut(_) | Error::NoSuchSignUp(_) => Exit::Invalid,
            Error::Reminders(_)
            | Error::State(_)
            | Error::Runtime(_)
            | Error::Watch(_)
            | Error::Export { .. }
            | Error::UnknownName { .. }
            | Error::NoDkim
            | Error::NoAddressKey(_)
            | Error::PasswordForFile => Exit::Usage,
        }
    }
}

/// Runs the command line of this process: the one place that prints an
/// error and picks the exit code. `serving` is called before `serve`
/// starts (the binary tunes its allocator there).
pub fn main(serving: fn()) -> Exit {
    let args = match Args::try_parse() {
        Ok(args) => args,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() {
                Exit::Usage
            } else {
                Exit::Ok
            };
        }
    };
    if matches!(args.command, Command::Serve { .. }) {
        serving();
    }
    #[allow(clippy::disallowed_methods)] // the edge: the one place that reads the clock
    let clock = Utc::now();
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    match run(args, clock, &mut out, &mut err) {
        Ok(exit) => exit,
        Err(e) => {
            use std::io::Write as _;
            let _ = write!(err, "{e}");
            e.exit()
        }
    }
}

/// Runs parsed arguments; `clock` is the real time, used where no `--now`.
/// `Ok` carries the exit code of a command that reported its own outcome
/// (`check` with errors, `remind` with undelivered mail: exit 1 after
/// their report).
pub fn run(
    args: Args,
    clock: DateTime<Utc>,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> Result<Exit, Error> {
    let config = args.config.as_deref();
    match args.command {
        Command::Serve { listen } => commands::serve(config, listen, args.log_format, err),
        Command::Render { out: dir, now } => {
            commands::render(config, &dir, now.unwrap_or(clock), out, err)
        }
        Command::DefaultConfig => {
            let _ = out.write_all(config::SAMPLE.as_bytes());
            Ok(Exit::Ok)
        }
        Command::DkimRecord => commands::dkim_record(config, out),
        Command::Backup { out: dir } => commands::backup(config, &dir, clock, out),
        Command::Restore { file } => commands::restore(config, &file, clock, out),
        Command::Diff {
            from,
            to,
            format,
            dir,
            now,
        } => diff::run(
            config,
            diff::Request {
                dir: dir.as_deref(),
                from: from.as_deref(),
                to: to.as_deref(),
                format,
            },
            now.unwrap_or(clock),
            out,
            err,
        ),
        Command::New {
            title,
            mechanism,
            topics,
            due,
            timezone,
            url,
            description,
            status,
            id,
            date_order,
            file,
            dir,
            dry_run,
        } => {
            use std::io::IsTerminal as _;
            let stdin = std::io::stdin();
            let mut input = stdin.lock();
            let env = |k: &str| std::env::var(k).ok();
            let terminal = std::io::stdin().is_terminal().then(|| new::Terminal {
                input: &mut input,
                language: crate::staff::new::language(
                    env("LC_ALL").as_deref(),
                    env("LC_MESSAGES").as_deref(),
                    env("LANG").as_deref(),
                ),
            });
            new::run(
                config,
                new::Request {
                    dir: dir.as_deref(),
                    file: file.as_deref(),
                    id,
                    title,
                    mechanism,
                    topics,
                    due,
                    timezone,
                    url,
                    description,
                    status,
                    date_order,
                    dry_run,
                },
                terminal,
                clock,
                out,
                err,
            )
        }
        Command::Import {
            file,
            out: out_dir,
            mechanism,
            columns,
            date_order,
            sheet,
            dry_run,
        } => import::run(
            config,
            import::Request {
                file: &file,
                out_dir: out_dir.as_deref(),
                sheet: sheet.as_deref(),
                options: crate::staff::import::Options {
                    mechanism,
                    columns,
                    date_order,
                },
                dry_run,
            },
            clock,
            out,
            err,
        ),
        Command::State {
            action: StateAction::Copy { to, password_file },
        } => commands::state_copy(config, &to, password_file.as_deref(), out),
        Command::Man { dir } => match docs::man_pages(&dir) {
            Ok(pages) => {
                let _ = writeln!(
                    out,
                    "wrote {} manual pages to {}",
                    pages.len(),
                    dir.display()
                );
                Ok(Exit::Ok)
            }
            Err(source) => Err(Error::Export { dir, source }),
        },
        Command::Completions { shell } => {
            docs::completions(shell, out);
            Ok(Exit::Ok)
        }
        Command::Watch { now, format, only } => commands::watch(
            config,
            now.unwrap_or(clock),
            format,
            only.as_deref(),
            out,
            err,
        ),
        Command::Check {
            dir,
            format,
            now,
            show_emails,
        } => Ok(check::run(
            config,
            dir.as_deref(),
            format,
            addresses(show_emails),
            now.unwrap_or(clock),
            out,
            err,
        )),
        Command::Remind {
            now,
            dry_run,
            show_emails,
        } => {
            let now = now.unwrap_or(clock);
            if dry_run {
                commands::remind_dry_run(config, show_emails, now, out, err)
            } else {
                commands::remind(config, show_emails, now, args.log_format, out, err)
            }
        }
        Command::Subscribers {
            action: Some(SubscribersAction::Resubscribe { email }),
            ..
        } => commands::resubscribe(config, &email, out),
        Command::Subscribers {
            action: Some(SubscribersAction::Pending { show_emails }),
            ..
        } => commands::pending(config, show_emails, out),
        Command::Subscribers {
            action: Some(SubscribersAction::Approve { refs }),
            ..
        } => commands::approve(config, &refs, true, out),
        Command::Subscribers {
            action: Some(SubscribersAction::Reject { refs }),
            ..
        } => commands::approve(config, &refs, false, out),
        Command::Subscribers {
            action: None,
            show_emails,
            now,
        } => commands::subscribers(config, show_emails, now.unwrap_or(clock), out, err),
        Command::List {
            topics,
            mechanisms,
            all,
            now,
        } => commands::list(
            config,
            topics,
            mechanisms,
            all,
            now.unwrap_or(clock),
            out,
            err,
        ),
    }
}

/// Finds the config: `--config`, else `config/mechcal.toml` if it exists, else
/// built-in defaults when a deadline directory was named. A named `dir`
/// replaces the config's `[data] deadlines`.
fn resolve_config(config: Option<&Path>, dir: Option<&Path>) -> Result<Config, LoadError> {
    let mut cfg = match config {
        Some(path) => Config::load(path).map_err(LoadError::Config)?,
        None if Path::new(DEFAULT_CONFIG).exists() => {
            Config::load(Path::new(DEFAULT_CONFIG)).map_err(LoadError::Config)?
        }
        None => match dir {
            Some(dir) => Config::defaults(dir.to_path_buf()),
            None => {
                return Err(LoadError::Config(vec![Diagnostic::file_error(
                Path::new(DEFAULT_CONFIG),
                "no config file",
            )
            .with_help(
                "pass `--config FILE`, or name the deadline directory: `mechcal check deadlines/`",
            )]))
            }
        },
    };
    if let Some(dir) = dir {
        cfg.data.deadlines = config::normalize(dir);
    }
    Ok(cfg)
}

/// The config's files loaded whole (see [`crate::load::everything`]); the
/// warnings on the way go to `err`.
/// Yearly dates have their occurrences around `at` (the command's `--now`).
fn load(
    config: Option<&Path>,
    subscribers: Option<subscribers::Addresses>,
    at: chrono::DateTime<chrono::Utc>,
    err: &mut dyn std::io::Write,
) -> Result<crate::load::Inputs, Error> {
    // Keys are judged by the real clock here (a pass judges them again at
    // its own time, `--now` included); an expired one is a warning.
    #[allow(clippy::disallowed_methods)]
    let keys = crate::load::Keys::serving(chrono::Utc::now());
    let inputs = crate::load::everything_at(resolve_config(config, None)?, subscribers, keys, at)?;
    let _ = err.write_all(crate::load::diagnostic::render_human(&inputs.warnings).as_bytes());
    Ok(inputs)
}

/// A single-threaded tokio runtime.
fn current_thread_runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)
}
