//! Loading and validation: staff's files (the deadline repository, the
//! registry, the config, the subscribers file) in; validated values or
//! `path:line:column` diagnostics out.
//!
//! [`everything`] is the one function that loads what a command or the
//! daemon runs on — the catalog under a config, and its subscribers — so
//! `check`, `serve`, `remind`, `render` and a reload all see the same
//! rules: data with an error is never used, a subscribers file is read
//! only against a valid registry.

pub mod config;
pub(crate) mod country;
pub mod deadlines;
pub(crate) mod diagnostic;
pub(crate) mod language;
pub(crate) mod registry;
pub(crate) mod scripts;
pub mod subscribers;
pub(crate) mod suggest;
pub(crate) mod tables;
pub(crate) mod text;
pub(crate) mod values;
pub(crate) mod zone;

use self::config::Config;
use self::diagnostic::Diagnostic;
use self::subscribers::{Addresses, Subscriber};
use crate::model::catalog::Catalog;

/// What a config's files hold, all valid.
#[derive(Debug)]
pub struct Inputs {
    pub config: Config,
    pub catalog: Catalog,
    /// `None` when the config names no subscribers file (or it was not
    /// asked for).
    pub subscribers: Option<Vec<Subscriber>>,
    /// Warnings of the data and the subscribers file (none is an error).
    pub warnings: Vec<Diagnostic>,
}

/// Why the files under a config cannot be used. Every variant carries all
/// the diagnostics found (warnings too, sorted by place), so a caller can
/// show the whole picture, as `check` does.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The config file itself is missing or invalid.
    #[error("{}", diagnostic::render_human(.0))]
    Config(Vec<Diagnostic>),
    /// The deadline directory cannot be opened.
    #[error("{0}")]
    Directory(Diagnostic),
    /// The deadline repository has errors.
    #[error("{}error: the deadline repository has {}; run `mechcal check`\n",
        diagnostic::render_human(.diagnostics), count(errors(.diagnostics), "error"))]
    Data {
        diagnostics: Vec<Diagnostic>,
        /// How many deadline files were read.
        files: usize,
    },
    /// The subscribers file has errors (its diagnostics after the data's
    /// warnings).
    #[error("{}error: the subscribers file is invalid; run `mechcal check`\n",
        diagnostic::render_human(.diagnostics))]
    Subscribers {
        diagnostics: Vec<Diagnostic>,
        /// How many deadline files were read.
        files: usize,
    },
    /// A command that needs subscribers, under a config that names none.
    #[error("error: the config names no subscribers file\n  help: set `[reminders] subscribers = \"subscribers.toml\"`\n")]
    NoSubscribersFile,
}

impl LoadError {
    /// The exit code: a config or directory that cannot be used is a usage
    /// error, invalid data is invalid data.
    pub fn exit(&self) -> crate::exit::Exit {
        use crate::exit::Exit;
        match self {
            LoadError::Config(_) | LoadError::Directory(_) | LoadError::NoSubscribersFile => {
                Exit::Usage
            }
            LoadError::Data { .. } | LoadError::Subscribers { .. } => Exit::Invalid,
        }
    }

    /// Every diagnostic, for reports that list them (`check`, `/healthz`).
    pub fn diagnostics(&self) -> &[Diagnostic] {
        match self {
            LoadError::Config(d) => d,
            LoadError::Data { diagnostics, .. } | LoadError::Subscribers { diagnostics, .. } => {
                diagnostics
            }
            LoadError::Directory(d) => std::slice::from_ref(d),
            LoadError::NoSubscribersFile => &[],
        }
    }
}

/// How subscribers' OpenPGP keys are judged: as of `at`; a key that has
/// only expired is an error for `mechcal check` and a warning for the
/// service (which holds that subscriber's mail, never sending it in clear).
#[derive(Clone, Copy, Debug)]
pub struct Keys {
    pub at: chrono::DateTime<chrono::Utc>,
    pub expired_is_error: bool,
}

impl Keys {
    /// For `check`: every unusable key is an error.
    pub fn strict(at: chrono::DateTime<chrono::Utc>) -> Keys {
        Keys {
            at,
            expired_is_error: true,
        }
    }

    /// For the service: an expired key is a warning.
    pub fn serving(at: chrono::DateTime<chrono::Utc>) -> Keys {
        Keys {
            at,
            expired_is_error: false,
        }
    }
}

/// Loads the deadline repository under `config` and, when the config names
/// one and `read_subscribers` asks for it, its subscribers file (diagnostics
/// about it masked as it says; `None` for commands that send no
/// mail: the file is then not read). Data with any error is refused whole.
pub fn everything(
    config: Config,
    read_subscribers: Option<Addresses>,
    keys: Keys,
) -> Result<Inputs, LoadError> {
    everything_at(config, read_subscribers, keys, keys.at)
}

/// [`everything`] with yearly dates' occurrences around `at` (a command's
/// `--now`), keys being judged at `keys.at` (the real clock).
pub fn everything_at(
    config: Config,
    read_subscribers: Option<Addresses>,
    keys: Keys,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<Inputs, LoadError> {
    let root = &config.data.deadlines;
    deadlines::check_dir(root).map_err(LoadError::Directory)?;
    let loaded = deadlines::load(
        root,
        config.data.max_bytes,
        config.calendar.timezone,
        config.calendar.window(at),
    );
    let mut diagnostics = loaded.diagnostics;
    let Some(catalog) = loaded.catalog else {
        return Err(LoadError::Data {
            diagnostics,
            files: loaded.files,
        });
    };
    let subscribers = match (&config.reminders.subscribers, read_subscribers) {
        (None, _) | (_, None) => None,
        (Some(path), Some(addresses)) => {
            let defaults = subscribers::Defaults {
                remind_days: &config.reminders.remind_days,
                timezone: config.calendar.timezone,
                now: keys.at,
                expired_key_is_error: keys.expired_is_error,
            };
            let (subs, diags) = subscribers::load(path, catalog.registry(), &defaults, addresses);
            let failed = diags.iter().any(Diagnostic::is_error);
            diagnostics.extend(diags);
            if failed {
                return Err(LoadError::Subscribers {
                    diagnostics,
                    files: loaded.files,
                });
            }
            Some(subs)
        }
    };
    Ok(Inputs {
        config,
        catalog,
        subscribers,
        warnings: diagnostics,
    })
}

impl Inputs {
    /// The subscribers, or [`LoadError::NoSubscribersFile`] for commands
    /// that need them.
    pub fn require_subscribers(&self) -> Result<&[Subscriber], LoadError> {
        self.subscribers
            .as_deref()
            .ok_or(LoadError::NoSubscribersFile)
    }
}

fn errors(diagnostics: &[Diagnostic]) -> usize {
    diagnostics.iter().filter(|d| d.is_error()).count()
}

/// `1 error`, `3 errors`.
pub fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}
