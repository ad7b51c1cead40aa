//! The command line's shape: `Args` and its subcommands as clap reads
//! them (help texts, defaults, value checks). What each command does is in
//! [`super::run`] and the files beside it.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{Parser, Subcommand, ValueEnum};

use super::diff;
use crate::daemon::logging::LogFormat;

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

/// `--now` that is not an RFC 3339 instant.
#[derive(Debug, thiserror::Error)]
#[error("{0}; expected e.g. 2027-01-15T08:00:00Z")]
pub struct BadInstant(chrono::ParseError);

fn parse_now(s: &str) -> Result<DateTime<Utc>, BadInstant> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(BadInstant)
}
