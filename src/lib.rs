//! mechcal: a deadline calendar and notification daemon for international
//! human-rights mechanisms (UN treaty bodies, UPR, special procedures, OSCE,
//! Council of Europe).
//!
//! # Layout
//!
//! The folders follow the data: staff's files are *loaded* into the *model*,
//! which is *rendered* into feeds and pages served over *http* and planned
//! into *reminders*; the *state* database remembers what was published and
//! sent; the *daemon* runs it all; the *cli* is the edge that reads the
//! clock and maps errors to exit codes. Pure logic (model, load's
//! validation, render, reminders::plan) takes data and `now` as arguments
//! and does no I/O.
//!
//! - [`model`] — a validated deadline, the registry, the [`model::catalog`],
//!   a feed's alarm (`model::alarm`).
//! - [`load`] — files in, validated values or `path:line:column`
//!   diagnostics out: the deadline repository, the registry, the config,
//!   the subscribers file; TOML with positions, "did you mean", value
//!   checks. [`load::everything`] is the one loader of all of them.
//! - [`render`] — feeds (iCalendar), the page, JSON, the `list` table.
//! - [`i18n`] — the languages: one Fluent file per language under
//!   `src/i18n/`, embedded in the binary, with CLDR plural rules.
//! - [`reminders`] — `plan` (pure: what is due), `message` (building mail),
//!   `pass` (one run: plan, send, record), `transport` (Maildir, SMTP),
//!   `tokens` (unsubscribe links).
//! - [`state`] — the state database behind one facade: the values it keeps
//!   (`records`), entry versions (feeds' SEQUENCE), the reminder ledger,
//!   sign-ups, watched pages; engines under `state/sqlite/`.
//! - [`http`] — the axum router and one file per group of handlers, the
//!   server loop, the render cache, the static export.
//! - [`daemon`] — `serve`: signals, reload, git, reminders' schedule,
//!   alerts, systemd notify and watchdog, logging.
//! - [`subscriptions`] — self-service sign-up: the address key (sealing,
//!   keyed ids), signed links, the forms' fields, rate limits, and merging
//!   stored subscribers with the file's.
//! - [`openpgp`] — subscribers' public keys (checked as of `now`) and
//!   PGP/MIME sealing of their mail.
//! - [`watch`] — checking the pages deadlines link to: visible text and
//!   its fingerprint, changed lines, what a check means, the HTTP edge, a
//!   pass, `mechcal watch`'s report.
//! - [`staff`] — tools for the staff who keep the repository: `import`
//!   (a CSV, XLSX or ODS table into deadline files; pure but for reading
//!   the table).
//! - [`metrics`] — counters and the `/metrics` text.
//! - [`os`] — systemd credentials, files of personal data (0600/0700),
//!   the allocator's tuning for `serve`.
//! - [`cli`] — arguments and commands, manual pages and completions; the
//!   one place that reads the clock and prints errors. [`exit`] — the exit
//!   codes.
//! - [`cli`] — the command line; [`exit`] — the exit codes.

pub mod cli;
pub mod daemon;
pub mod exit;
pub mod http;
pub mod i18n;
pub mod load;
pub(crate) mod metrics;
pub mod model;
pub mod openpgp;
pub mod os;
pub mod reminders;
pub mod render;
pub mod staff;
pub mod state;
pub mod subscriptions;
pub mod watch;

#[cfg(test)]
pub(crate) mod testing;
