//! Fixtures shared by unit tests: a registry and catalogs built from
//! in-memory deadline files through the real loader.

pub mod postgres;

use std::path::PathBuf;

use chrono::DateTime;
use chrono_tz::Tz;

use crate::load::deadlines::{self, Source, Sources};
use crate::load::diagnostic;
use crate::model::catalog::Catalog;
use crate::model::schedule::Window;

pub const REGISTRY: &str = r#"
[mechanisms.cerd]
name = "CERD"
full_name = "Committee on the Elimination of Racial Discrimination"
url = "https://www.ohchr.org/en/treaty-bodies/cerd"

[mechanisms.upr]
name = "UPR"
full_name = "Universal Periodic Review"

[topics.women]
en = "Women"
ru = "Женщины"

[topics.discrimination]
en = "Discrimination"
ru = "Дискриминация"

[kinds.submission]
en = "Stakeholder submission"
ru = "Представление заинтересованных сторон"

[kinds.loi]
en = "List of issues"

[kinds.session]
en = "Session"
remind = false
"#;

/// Where tests' yearly dates have occurrences: 2020 to 2035.
pub const WINDOW: Window = Window {
    start: DateTime::from_timestamp_nanos(1_577_836_800_000_000_000),
    end: DateTime::from_timestamp_nanos(2_082_758_399_000_000_000),
};

/// A catalog from `(relative path, text)` deadline files; panics on any error.
pub fn catalog(files: &[(&str, &str)]) -> Catalog {
    let source = |rel: &str, text: &str| Source {
        rel: PathBuf::from(rel),
        display: PathBuf::from(rel),
        text: text.to_string(),
    };
    let loaded = deadlines::validate(
        Sources {
            registry: Some(source("registry.toml", REGISTRY)),
            files: files.iter().map(|(r, t)| source(r, t)).collect(),
            diags: Vec::new(),
        },
        Tz::Europe__Zurich,
        WINDOW,
    );
    match loaded.catalog {
        Some(c) => c,
        None => panic!("{}", diagnostic::render_human(&loaded.diagnostics)),
    }
}

/// The registry of [`REGISTRY`].
pub fn registry() -> crate::model::registry::Registry {
    catalog(&[]).registry().clone()
}

/// A subscriber of every deadline, reminded 30, 7 and 1 days before, in
/// Zurich, in English, by digest.
pub fn subscriber(email: &str) -> crate::load::subscribers::Subscriber {
    crate::load::subscribers::Subscriber {
        name: email.into(),
        email: email.into(),
        filter: crate::model::catalog::Filter::default(),
        remind_days: vec![30, 7, 1],
        timezone: Tz::Europe__Zurich,
        language: crate::i18n::Lang::EN,
        digest: true,
        discreet: false,
        openpgp: None,
        line: 1,
        key: email.to_lowercase(),
        origin: Default::default(),
        link_value: 0,
    }
}
