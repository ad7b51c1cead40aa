//! Fixtures shared by unit tests: a registry and catalogs built from
//! in-memory deadline files through the real loader.

use std::path::PathBuf;

use chrono_tz::Tz;

use crate::load::deadlines::{self, Source, Sources};
use crate::load::diagnostic;
use crate::model::catalog::Catalog;

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
"#;

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
