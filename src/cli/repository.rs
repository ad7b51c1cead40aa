//! The deadline repository as the staff tools (`import`, `new`, `diff`)
//! read it: where it is, how its yearly dates are listed, and a catalog
//! only from a repository that passes `check`.

use std::path::PathBuf;

use chrono::{DateTime, Utc};

use super::{resolve_config, Error};
use crate::load::config::Config;
use crate::load::deadlines::{self, Loaded, Sources};
use crate::load::diagnostic;
use crate::model::catalog::Catalog;
use crate::model::schedule::Window;

/// The config's deadline directory, read as of `now`.
pub struct Repository {
    pub config: Config,
    pub root: PathBuf,
    pub tz: chrono_tz::Tz,
    pub window: Window,
}

impl Repository {
    /// The repository `config` names, or `dir`; it must be a directory.
    pub fn open(
        config: Option<&std::path::Path>,
        dir: Option<&std::path::Path>,
        now: DateTime<Utc>,
    ) -> Result<Repository, Error> {
        let config = resolve_config(config, dir)?;
        let root = config.data.deadlines.clone();
        deadlines::check_dir(&root).map_err(crate::load::LoadError::Directory)?;
        Ok(Repository {
            tz: config.calendar.timezone,
            window: config.calendar.window(now),
            root,
            config,
        })
    }

    /// Its files as the working tree holds them.
    pub fn read(&self) -> Sources {
        deadlines::scan_bounded(&self.root, self.config.data.max_bytes)
    }

    pub fn validate(&self, sources: Sources) -> Loaded {
        deadlines::validate(sources, self.tz, self.window)
    }

    /// Its catalog; `None` after printing its errors and that nothing was
    /// `done` (`imported`, `added`) because of them.
    pub fn valid(&self, done: &str, err: &mut dyn std::io::Write) -> Option<Catalog> {
        let loaded = self.validate(self.read());
        if loaded.catalog.is_none() {
            let _ = err.write_all(diagnostic::render_human(&loaded.diagnostics).as_bytes());
            let _ = writeln!(
                err,
                "error: {} has errors: nothing {done}\n  help: fix what `mechcal check` reports first",
                self.root.display()
            );
        }
        loaded.catalog
    }
}
