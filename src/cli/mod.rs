//! The command line: parses arguments, reads the clock, runs a command.
//! This is the edge that reads the real time (with `daemon`'s server
//! clock), and [`main`] is the one place that prints a command's error and
//! maps it to an exit code ([`Error::exit`]). A command's own report —
//! `check`'s diagnostics, `list`'s table, warnings met on the way — is its
//! output, written to `out`/`err` by the command.
//!
//! Files: `check` (the `check` command and its report), `commands` (the
//! others).

mod check;
mod commands;
mod diff;
mod docs;
mod import;
mod new;

pub use docs::command_paths;

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};

use crate::daemon::logging::LogFormat;
use crate::exit::Exit;
use crate::load::config::{self, Config};
use crate::load::diagnostic::Diagnostic;
use crate::load::{subscribers, LoadError};
use crate::reminders::SetupError;
use crate::state::StateError;

/// The config file used when `--config` is not given.
pub const DEFAULT_CONFIG: &str = "config/mechcal.toml";

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
    /// Bring deadlines in from a table (CSV, XLSX, ODS): one new file per
    /// mechanism and year, every row that cannot be imported listed with
    /// its cell and reason; ends by checking the repository
    Import {
        /// The table: .csv (any of `,` `;` tab; UTF-8 or Windows-1251), .xlsx or .ods
        file: PathBuf,
        /// The deadline directory to write into [default: `[data] deadlines` from the config]
        #[arg(long, value_name = "DIR")]
        out: Option<PathBuf>,
        /// The mechanism of rows that name none (slug or name)
        #[arg(long, value_name = "SLUG")]
        mechanism: Option<String>,
        /// Which column holds what, where the header does not say: `title=A,topics=B,due=C`
        #[arg(long, value_name = "KEY=COLUMN,…")]
        columns: Option<String>,
        /// How to read `03/04/2024`: day first (dmy) or month first (mdy)
        #[arg(long, value_enum, value_name = "ORDER")]
        date_order: Option<crate::staff::import::dates::DateOrder>,
        /// The sheet of a workbook [default: the first]
        #[arg(long, value_name = "NAME")]
        sheet: Option<String>,
        /// Print the files it would write; write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Add one deadline to the file it belongs in (`<mechanism>/<year>.toml`)
    /// or to --file; on a terminal, asks for what the flags do not give.
    /// The result always passes `check`
    New {
        /// The deadline's title
        #[arg(long)]
        title: Option<String>,
        /// Its mechanism: slug or name
        #[arg(long, value_name = "SLUG")]
        mechanism: Option<String>,
        /// A topic: slug or name (repeat for several)
        #[arg(long = "topic", value_name = "TOPIC")]
        topics: Vec<String>,
        /// When it is due: 2027-03-31, 31.03.2027, 31 марта 2027, with a time and zone, or `open`
        #[arg(long, value_name = "DATE")]
        due: Option<String>,
        /// The IANA zone of its time [default: `[calendar] timezone`]
        #[arg(long, value_name = "ZONE")]
        timezone: Option<String>,
        /// The call's page
        #[arg(long)]
        url: Option<String>,
        /// Free text
        #[arg(long)]
        description: Option<String>,
        /// confirmed, tentative or cancelled
        #[arg(long)]
        status: Option<String>,
        /// The id [default: made from the title and year]
        #[arg(long)]
        id: Option<String>,
        /// How to read `03/04/2027`: day first (dmy) or month first (mdy)
        #[arg(long, value_enum, value_name = "ORDER")]
        date_order: Option<crate::staff::import::dates::DateOrder>,
        /// The file to add it to, in the deadline directory [default: `<mechanism>/<year>.toml`]
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// The deadline directory [default: `[data] deadlines` from the config]
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Print the entry; write nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// What a change to the deadline repository does for subscribers:
    /// deadlines added, removed, moved, cancelled…, the notices they send,
    /// the feeds that change; between two git revisions [default: the
    /// merge base with the followed branch, and the working tree]
    Diff {
        /// The revision before [default: the merge base of HEAD with the followed branch]
        from: Option<String>,
        /// The revision after [default: the working tree]
        to: Option<String>,
        /// How to print: text, Markdown for a pull-request comment, or JSON
        #[arg(long, value_enum, default_value_t = diff::DiffFormat::Human)]
        format: diff::DiffFormat,
        /// The deadline directory [default: `[data] deadlines` from the config]
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// Judge what is past as of this instant (RFC 3339) instead of now
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
    /// Check the pages deadlines link to (`url`, `source`): one pass, a
    /// table of links with their problems; exit 1 when there are problems
    Watch {
        /// Judge as of this instant (RFC 3339) instead of now
        #[arg(long, value_name = "RFC3339", value_parser = parse_now)]
        now: Option<DateTime<Utc>>,
        /// How to print the report
        #[arg(long, value_enum, default_value_t = Format::Human)]
        format: Format,
        /// Check only this entry's links (its id; past or not)
        #[arg(long, value_name = "ID")]
        only: Option<String>,
    },
    /// Work on the state database itself
    State {
        #[command(subcommand)]
        action: StateAction,
    },
    /// Write a consistent copy of the SQLite state into DIR while `serve`
    /// runs, with its SHA-256 beside it (for PostgreSQL, use pg_dump)
    Backup {
        /// The directory to write into (made 0700 if missing)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
    /// Put a backup back as the SQLite state, with `serve` stopped: its
    /// checksum and address key are checked first, and the state it
    /// replaces is kept beside it
    Restore {
        /// The backup (`mechcal-state-….sqlite`, its `.sha256` beside it)
        file: PathBuf,
    },
    /// Print the sample config file
    DefaultConfig,
    /// Print the DNS TXT record to publish for `[mail.dkim]`'s key
    DkimRecord,
    /// Write the manual pages: mechcal.1 and one per subcommand
    /// (mechcal-check.1, …), for `man -l` or /usr/share/man/man1
    Man {
        /// Where to write them (created if needed)
        #[arg(default_value = ".")]
        dir: PathBuf,
    },
    /// Print a shell's completion script (bash: save as
    /// /etc/bash_completion.d/mechcal; zsh: as _mechcal in $fpath; fish:
    /// as ~/.config/fish/completions/mechcal.fish)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Subcommand, Debug)]
pub enum SubscribersAction {
    /// Lift an address's opt-out (only staff can: subscribers unsubscribe
    /// themselves through the link in every reminder)
    Resubscribe {
        /// The address, as in the subscribers file
        email: String,
    },
    /// List confirmed sign-ups waiting for approval (`[subscriptions]
    /// approval = "staff"`), addresses masked unless --show-emails
    Pending {
        /// Show full e-mail addresses
        #[arg(long)]
        show_emails: bool,
    },
    /// Let waiting sign-ups in: each REF as `pending` prints it, or the address
    Approve {
        #[arg(required = true, value_name = "REF")]
        refs: Vec<String>,
    },
    /// Refuse waiting sign-ups: everything about them is deleted
    Reject {
        #[arg(required = true, value_name = "REF")]
        refs: Vec<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum StateAction {
    /// Copy every row of the configured state into an empty database: a
    /// PostgreSQL URL (moving to replicas) or a SQLite file (the way
    /// back). Stop the service first
    Copy {
        /// `postgres://USER@HOST:PORT/DATABASE?sslmode=…` (no password in
        /// it), or the path of a new SQLite file
        #[arg(long, value_name = "URL|PATH")]
        to: String,
        /// The file holding the target PostgreSQL's password
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
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

/// `--now` that is not an RFC 3339 instant.
#[derive(Debug, thiserror::Error)]
#[error("{0}; expected e.g. 2027-01-15T08:00:00Z")]
pub struct BadInstant(chrono::ParseError);

fn parse_now(s: &str) -> Result<DateTime<Utc>, BadInstant> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(BadInstant)
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
