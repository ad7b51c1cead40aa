//! The integration tests, as one test binary (one link instead of four,
//! and helpers shared without `allow(dead_code)`): each module drives the
//! real binary or server on loopback.
//!
//! - `book` — the book under `docs/` against the code: config keys,
//!   subcommands, routes, the privacy statement, links.
//! - `cli` — `mechcal check`, `list`, `render`, `remind`, `subscribers` on
//!   the sample data and on copies with planted mistakes.
//! - `daemon` — `mechcal serve` as a process: reloads, git, signals,
//!   systemd notify, health, alerts, limits.
//! - `diff` — `mechcal diff` on a scratch git repository.
//! - `dkim` — every kind of mail signed, verified by Python dkimpy.
//! - `http` — the server in-process on `127.0.0.1:0`: every route.
//! - `import` — `mechcal import` of tables made by openpyxl, odfpy and
//!   Python's csv (Windows-1251): the same files from each; bad rows.
//! - `new` — `mechcal new` by flags and through a pseudo-terminal.
//! - `replicas` — two `mechcal serve` sharing PostgreSQL: one leads,
//!   reminders go out once, the other takes over when the leader dies.
//! - `signup` — self-service sign-up against `mechcal serve`: the form,
//!   the confirmation mail, the preference page, deletion, enumeration.
//! - `smtp` — reminders through a real SMTP server (Python aiosmtpd), with
//!   faults, TLS and kill -9.
//! - `support` — helpers (repository paths, copies, the test venv).
//! - `third_party` — the feeds in ical.js, Python icalendar and vobject;
//!   the pages in headless Chromium with axe-core; the systemd unit in
//!   `systemd-analyze` (the scripts under `tests/` and `systemd/`).
//! - `tools` — the programs those tests drive, installed on first use or
//!   skipped with a loud, counted line.
//! - `watch` — `mechcal watch` and the daemon's watch pass against a web
//!   site on loopback written in the test.

mod book;
mod cli;
mod daemon;
mod diff;
mod dkim;
mod http;
mod import;
mod new;
mod openpgp;
/// The throwaway PostgreSQL server, shared with the unit tests.
#[path = "../../src/testing/postgres.rs"]
mod postgres;
mod replicas;
mod signup;
pub(crate) mod smtp;
mod spam;
mod support;
mod third_party;
mod tools;
mod watch;
