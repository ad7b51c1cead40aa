//! `mechcal import`: the edge of [`crate::staff::import`]. Reads the
//! repository and the table, plans, checks the planned files together
//! with the repository (a row whose entry `check` refuses is left out with
//! `check`'s reason), writes each new file whole (never over an existing
//! one; on any failure, what was written goes again), and ends by
//! checking the repository as it now is.

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::repository::Repository;
use super::Error;
use crate::exit::Exit;
use crate::load::count;
use crate::load::deadlines::{self, Source, Sources};
use crate::load::diagnostic::{self, Diagnostic};
use crate::staff::import::columns::Field;
use crate::staff::import::{self, table, NewFile, Options, Plan, Skipped};

/// What `import` was asked.
#[derive(Debug)]
pub struct Request<'a> {
    pub file: &'a Path,
    pub out_dir: Option<&'a Path>,
    pub sheet: Option<&'a str>,
    pub options: Options,
    pub dry_run: bool,
}

/// Runs `import`: 0 when every row was imported (or was there already), 1
/// when a row could not be, 2 when nothing could be done.
pub fn run(
    config: Option<&Path>,
    request: Request<'_>,
    now: DateTime<Utc>,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> Result<Exit, Error> {
    let repo = Repository::open(config, request.out_dir, now)?;
    let root = repo.root.clone();
    let Some(catalog) = repo.valid("imported", err) else {
        return Ok(Exit::Invalid);
    };
    let sources = repo.read();
    let existing = import::Existing {
        ids: import::ids::existing(&catalog),
        files: sources.files.iter().map(|s| s.rel.clone()).collect(),
    };
    let source_name = request.file.file_name().map_or_else(
        || request.file.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let table = match table::read(request.file, request.sheet) {
        Ok(t) => t,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            if let Some(help) = &e.help {
                let _ = writeln!(err, "  help: {help}");
            }
            return Ok(Exit::Usage);
        }
    };
    let mut plan = match import::plan(&table, catalog.registry(), &existing, &request.options) {
        Ok(p) => p,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return Ok(Exit::Usage);
        }
    };
    check_rows(&mut plan, &table, &sources, &repo, &source_name);

    for note in &plan.notes {
        let _ = writeln!(err, "note: {note}");
    }
    plan.skipped.sort_by_key(|s| (s.row, !s.error));
    for s in &plan.skipped {
        let severity = if s.error { "error" } else { "warning" };
        let _ = writeln!(err, "{}: {severity}: {}", s.place, s.reason);
    }
    let failed = plan.skipped.iter().filter(|s| s.error).count();
    let present = plan.skipped.len() - failed;
    let imported: usize = plan.files.iter().map(|f| f.entries.len()).sum();
    if request.dry_run {
        for f in &plan.files {
            let _ = writeln!(out, "== {}", root.join(&f.rel).display());
            let _ = out.write_all(f.text(&source_name).as_bytes());
        }
    } else if let Err(e) = write_all(&root, &plan.files, &source_name) {
        let _ = writeln!(err, "error: {e}\n  help: nothing was written");
        return Ok(Exit::Usage);
    }
    for f in &plan.files {
        let taken = f
            .instead_of
            .as_ref()
            .map(|w| format!(" ({} exists)", root.join(w).display()))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{} {} ({}){taken}",
            if request.dry_run {
                "would write"
            } else {
                "wrote"
            },
            root.join(&f.rel).display(),
            count(f.entries.len(), "deadline")
        );
    }
    let mut summary = format!(
        "{} of {} {}",
        count(imported, "row"),
        plan.rows,
        if request.dry_run {
            "to import"
        } else {
            "imported"
        }
    );
    if present > 0 {
        summary.push_str(&format!(", {present} there already"));
    }
    if failed > 0 {
        summary.push_str(&format!(", {failed} not imported (listed above)"));
    }
    let _ = writeln!(out, "{summary}");
    if !request.dry_run && imported > 0 {
        // `check` on the repository as it now is.
        let after = repo.validate(repo.read());
        let _ = err.write_all(diagnostic::render_human(&after.diagnostics).as_bytes());
        match &after.catalog {
            Some(c) => {
                let _ = writeln!(
                    out,
                    "check: {} in {}, valid",
                    count(c.entries(), "deadline"),
                    count(c.files(), "file")
                );
            }
            None => {
                let _ = writeln!(
                    err,
                    "error: {} does not pass `check` after the import",
                    root.display()
                );
                return Ok(Exit::Invalid);
            }
        }
    }
    Ok(if failed > 0 { Exit::Invalid } else { Exit::Ok })
}

/// Checks the planned files with the repository; each row whose entry
/// has an error is left out with the error's text, until none has.
fn check_rows(
    plan: &mut Plan,
    table: &table::Table,
    sources: &Sources,
    repo: &Repository,
    source_name: &str,
) {
    let root = &repo.root;
    loop {
        let mut all = Sources {
            registry: sources.registry.clone(),
            files: sources.files.clone(),
            diags: Vec::new(),
        };
        for f in &plan.files {
            all.files.push(Source {
                rel: f.rel.clone(),
                display: root.join(&f.rel),
                text: f.text(source_name),
            });
        }
        all.files.sort_by(|a, b| a.rel.cmp(&b.rel));
        let checked = repo.validate(all);
        let mut bad: HashSet<usize> = HashSet::new();
        for f in &plan.files {
            let shown = root.join(&f.rel);
            for d in checked
                .diagnostics
                .iter()
                .filter(|d| d.is_error() && d.file == shown)
            {
                let line = d.location.as_ref().map_or(0, |l| l.start.line);
                // An error outside every entry is the whole file's: its
                // rows all go.
                let rows: Vec<(usize, Option<usize>)> = match f.at_line(line) {
                    Some((row, key)) => {
                        let column = Field::by_key(key).and_then(|k| plan.columns.get(&k).copied());
                        vec![(row, column)]
                    }
                    None => f.entries.iter().map(|e| (e.row, None)).collect(),
                };
                for (r, column) in rows {
                    if bad.insert(r) {
                        plan.skipped.push(Skipped {
                            place: column.map_or_else(|| table.row_place(r), |c| table.place(r, c)),
                            row: r,
                            reason: reason(d),
                            error: true,
                        });
                    }
                }
            }
        }
        if bad.is_empty() {
            return;
        }
        plan.files = plan
            .files
            .iter()
            .map(|f| f.without(&bad))
            .filter(|f| !f.entries.is_empty())
            .collect();
    }
}

/// `check`'s message and help, as a row's reason.
fn reason(d: &Diagnostic) -> String {
    match &d.help {
        Some(help) => format!("{}\n  help: {help}", d.message),
        None => d.message.clone(),
    }
}

/// Writes every file whole and new: each goes to a temporary name beside
/// it and is linked into place only if nothing is there. On any failure
/// the files already placed (and the folders made for them) go again.
fn write_all(root: &Path, files: &[NewFile], source_name: &str) -> Result<(), String> {
    let mut placed: Vec<PathBuf> = Vec::new();
    let mut made: Vec<PathBuf> = Vec::new();
    let result = (|| {
        for f in files {
            let path = root.join(&f.rel);
            let parent = path.parent().unwrap_or(root).to_path_buf();
            if !parent.exists() {
                std::fs::create_dir_all(&parent).map_err(|e| {
                    format!(
                        "cannot make {}: {}",
                        parent.display(),
                        deadlines::io_reason(&e)
                    )
                })?;
                made.push(parent.clone());
            }
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let tmp = parent.join(format!(".{name}.import"));
            let written = (|| {
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&tmp)?;
                file.write_all(f.text(source_name).as_bytes())?;
                file.sync_all()?;
                std::fs::hard_link(&tmp, &path)
            })();
            let _ = std::fs::remove_file(&tmp);
            written.map_err(|e| {
                format!(
                    "cannot write {}: {}",
                    path.display(),
                    deadlines::io_reason(&e)
                )
            })?;
            placed.push(path);
        }
        Ok(())
    })();
    if result.is_err() {
        for p in placed.iter().rev() {
            let _ = std::fs::remove_file(p);
        }
        for d in made.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
    }
    result
}
