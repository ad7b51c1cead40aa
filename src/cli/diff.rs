//! `mechcal diff`: the edge of [`crate::staff::diff`]. Reads the deadline
//! repository at two git revisions (by default the merge base with the
//! followed branch, and the working tree), checks both, and prints what
//! the change does for subscribers as text, Markdown (for a pull-request
//! comment) or JSON.

use std::path::Path;

use chrono::{DateTime, Utc};
use clap::ValueEnum;

use super::repository::Repository;
use super::Error;
use crate::exit::Exit;
use crate::load::deadlines::revision;
use crate::load::diagnostic;

/// How `diff` prints.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum DiffFormat {
    Human,
    Markdown,
    Json,
}

/// What `diff` was asked.
#[derive(Debug)]
pub struct Request<'a> {
    pub dir: Option<&'a Path>,
    pub from: Option<&'a str>,
    pub to: Option<&'a str>,
    pub format: DiffFormat,
}

/// Runs `diff`: 0 with the report, 1 when a side does not pass `check`, 2
/// when a revision cannot be read.
pub fn run(
    config: Option<&Path>,
    request: Request<'_>,
    now: DateTime<Utc>,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> Result<Exit, Error> {
    let Request {
        dir,
        from,
        to,
        format,
    } = request;
    let repo = Repository::open(config, dir, now)?;
    let (cfg, root) = (&repo.config, repo.root.clone());
    let fail = |err: &mut dyn std::io::Write, what: String, help: &str| {
        let _ = writeln!(err, "error: {what}\n  help: {help}");
        Ok(Exit::Usage)
    };
    // FROM: the revision given, or where this branch left the followed one.
    let (from_commit, from_shown) = match from {
        Some(rev) => match revision::commit(&root, rev) {
            Ok(c) => (c, rev.to_string()),
            Err(e) => return fail(err, e, "give a branch, tag or commit: `mechcal diff main`"),
        },
        None => {
            let followed = cfg
                .data
                .git
                .as_ref()
                .map(|g| format!("{}/{}", g.remote, g.branch));
            let candidates: Vec<String> = match followed {
                Some(f) => vec![f],
                None => vec!["origin/main".into(), "main".into()],
            };
            let base = candidates.iter().find_map(|c| {
                revision::git(&root, &["merge-base", "HEAD", c])
                    .ok()
                    .map(|b| (b.trim().to_string(), format!("merge-base({c})")))
            });
            match base {
                Some(b) => b,
                None => {
                    return fail(
                        err,
                        format!(
                            "no merge base of HEAD with {} in {}",
                            candidates.join(" or "),
                            root.display()
                        ),
                        "give the revision to compare with: `mechcal diff origin/main`",
                    )
                }
            }
        }
    };
    let from_sources = match revision::scan_revision(&root, &from_commit, &from_shown) {
        Ok(s) => s,
        Err(e) => return fail(err, e, "is the deadline directory in a git repository?"),
    };
    let to_sources = match to {
        None => repo.read(),
        Some(rev) => {
            let commit = match revision::commit(&root, rev) {
                Ok(c) => c,
                Err(e) => return fail(err, e, "give a branch, tag or commit"),
            };
            match revision::scan_revision(&root, &commit, rev) {
                Ok(s) => s,
                Err(e) => return fail(err, e, "is the deadline directory in a git repository?"),
            }
        }
    };
    let to_shown = to.unwrap_or("the working tree");
    let mut catalogs = Vec::new();
    for (sources, shown) in [(from_sources, from_shown.as_str()), (to_sources, to_shown)] {
        let loaded = repo.validate(sources);
        match loaded.catalog {
            Some(c) => catalogs.push(c),
            None => {
                let _ = err.write_all(diagnostic::render_human(&loaded.diagnostics).as_bytes());
                let _ = writeln!(err, "error: {shown} does not pass `check`: no diff");
                return Ok(Exit::Invalid);
            }
        }
    }
    let report = crate::staff::diff::diff(&catalogs[0], &catalogs[1], now);
    let text = match format {
        DiffFormat::Human => report.human(),
        DiffFormat::Markdown => report.markdown(),
        DiffFormat::Json => format!(
            "{}\n",
            serde_json::json!({ "from": from_commit, "to": to, "changes": report.changes, "feeds": report.feeds })
        ),
    };
    let _ = out.write_all(text.as_bytes());
    Ok(Exit::Ok)
}
