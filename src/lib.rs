//! mechcal: a deadline calendar and notification daemon for international
//! human-rights mechanisms (UN treaty bodies, UPR, special procedures, OSCE,
//! Council of Europe).
//!
//! # Layout
//!
//! Pure logic takes data (and `now`) as arguments and does no I/O; I/O lives at
//! the edges (`store::scan`, `config::Config::load`, `cli`).
//!
//! - [`deadline`] — the model of one validated deadline, and its fingerprint.
//! - [`registry`] — mechanisms and topics (`registry.toml`).
//! - [`catalog`] — the validated repository as one immutable, shareable value,
//!   and the topic/mechanism [`catalog::Filter`].
//! - [`store`] — loading: `scan` reads files, `validate` turns them into a
//!   catalog or diagnostics.
//! - [`config`] — `config/mechcal.toml`.
//! - [`diagnostic`] — `path:line:column` errors with help, as text or JSON.
//! - [`tomlx`] — reading TOML tables with positions, collecting every problem.
//! - [`zone`], [`country`], [`values`], [`suggest`] — value checks and "did
//!   you mean".
//! - [`listing`] — the `mechcal list` table.
//! - [`mail`] — reminder messages (subject, bodies, `.ics`, headers).
//! - [`reminders`] — e-mail reminders: `plan` (pure) decides what is due.
//! - [`unsubscribe`] — HMAC-signed unsubscribe tokens.
//! - [`subscribers`] — who gets e-mail reminders (`[reminders] subscribers`).
//! - [`state`] — the SQLite state database (entry versions for the feeds).
//! - [`feed`] — iCalendar feeds (pure), written with [`ical`]; [`i18n`] — languages.
//! - [`web`] — the HTTP server (axum): feeds, pages, JSON, and the static export.
//! - [`reload`] — hot reload of the deadline directory and the config (keeps
//!   the last good version).
//! - [`git`] — following the data repository's remote (fetch, fast-forward).
//! - [`daemon`] — `mechcal serve`: signals, reload, git, reminders, alerts,
//!   the systemd notify protocol and watchdog.
//! - [`metrics`] — counters and the `/metrics` text.
//! - [`logging`] — stderr logs: plain, journald priorities, or JSON.
//! - [`credentials`] — systemd credentials (`LoadCredential=`).
//! - [`private`] — files of personal data, created 0600/0700 whatever the umask.
//! - [`cli`] — the command line, exit codes, and the clock.

pub mod catalog;
pub mod cli;
pub mod config;
pub mod country;
pub mod credentials;
pub mod daemon;
pub mod deadline;
pub mod diagnostic;
pub mod feed;
pub mod git;
pub mod i18n;
pub mod ical;
pub mod listing;
pub mod logging;
pub mod mail;
pub mod metrics;
pub mod private;
pub mod registry;
pub mod reload;
pub mod reminders;
pub mod state;
pub mod store;
pub mod subscribers;
pub mod suggest;
pub mod tomlx;
pub mod unsubscribe;
pub mod values;
pub mod web;
pub mod zone;

#[cfg(test)]
pub(crate) mod testing;
