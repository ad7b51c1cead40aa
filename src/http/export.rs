//! `mechcal render`: every resource the server would serve, as files.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::i18n::Lang;
use crate::model::catalog::Filter;

use super::snapshot::{render, Resource, Snapshot};

/// Writes the static export into `out`: the very bytes the server serves for
/// `/calendar.ics`, `/topics/*.ics`, `/mechanisms/*.ics`, `/deadlines/*.ics`,
/// `/` (as `index.html`), `/deadlines/<id>` (as `deadlines/<id>/index.html`,
/// which static servers answer for `deadlines/<id>`, ignoring `?lang=`) and
/// `/deadlines.json`, all without query. Returns the files written,
/// relative to `out`.
pub fn export(snap: &Snapshot, out: &Path, now: DateTime<Utc>) -> std::io::Result<Vec<PathBuf>> {
    let alarm = snap.config.calendar.alarm;
    let lang = Lang::default();
    let reg = snap.catalog.registry();
    let mut jobs: Vec<(PathBuf, Resource)> = vec![
        (
            "calendar.ics".into(),
            Resource::Feed {
                filter: Filter::default(),
                lang,
                alarm,
            },
        ),
        (
            "index.html".into(),
            Resource::Page {
                filter: Filter::default(),
                lang,
            },
        ),
        (
            "deadlines.json".into(),
            Resource::Json {
                filter: Filter::default(),
                lang,
            },
        ),
    ];
    for t in reg.topic_slugs() {
        let filter = Filter {
            topics: vec![t.to_string()],
            mechanisms: vec![],
        };
        jobs.push((
            format!("topics/{t}.ics").into(),
            Resource::Feed {
                filter,
                lang,
                alarm,
            },
        ));
    }
    for m in reg.mechanism_slugs() {
        let filter = Filter {
            topics: vec![],
            mechanisms: vec![m.to_string()],
        };
        jobs.push((
            format!("mechanisms/{m}.ics").into(),
            Resource::Feed {
                filter,
                lang,
                alarm,
            },
        ));
    }
    let cutoff = snap.cutoff(now);
    for d in snap
        .catalog
        .deadlines()
        .iter()
        .filter(|d| d.due_at >= cutoff)
    {
        jobs.push((
            format!("deadlines/{}.ics", d.id).into(),
            Resource::One {
                id: d.id.clone(),
                lang,
                alarm,
            },
        ));
    }
    // Every item's page: the index links to each, past ones included.
    for d in snap.catalog.deadlines() {
        jobs.push((
            format!("deadlines/{}/index.html", d.id).into(),
            Resource::Detail {
                id: d.id.clone(),
                lang,
            },
        ));
    }
    let mut written = Vec::with_capacity(jobs.len());
    for (rel, res) in jobs {
        let Some(r) = render(snap, &res, now) else {
            continue;
        };
        let path = out.join(&rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // Write to a temporary name and rename, so a server reading the
        // directory never sees half a file.
        let tmp = path.with_extension("tmp~");
        std::fs::write(&tmp, r.identity())?;
        std::fs::rename(&tmp, &path)?;
        written.push(rel);
    }
    Ok(written)
}
