//! Loading the deadline repository: files in, a [`Catalog`] or diagnostics out.
//!
//! Split in two like ripgrep's config: [`scan`] reads the directory (the only
//! I/O), [`validate`] is a pure function of the texts read, so every error
//! class is tested on in-memory files. Validation reports *every* problem of a
//! run; a catalog is produced only when there is no error at all, so a reader
//! of the catalog never sees a half-valid repository.

pub(crate) mod entry;
pub(crate) mod requirements;
pub mod revision;
pub(crate) mod scan;
pub(crate) mod schedule;

use std::collections::HashMap;
use std::path::Path;

use chrono_tz::Tz;
use toml::de::DeValue;

use crate::load::diagnostic::{self, Diagnostic, SourceFile};
use crate::load::registry;
use crate::load::tables::{self, Sink, Table};
use crate::model::catalog::Catalog;
use crate::model::deadline::{Deadline, Origin};
use crate::model::schedule::Window;

pub use entry::{KEYS as DEADLINE_KEYS, MAX_ID_CHARS, MAX_REMIND_DAYS};
pub use scan::{decode, io_reason, scan, scan_bounded, Source, Sources, DEFAULT_MAX_BYTES};

/// The result of loading: the catalog if the data is valid, and every
/// diagnostic (warnings may accompany a valid catalog), sorted by place.
#[derive(Debug)]
pub struct Loaded {
    pub catalog: Option<Catalog>,
    pub diagnostics: Vec<Diagnostic>,
    /// How many deadline files were read.
    pub files: usize,
}

impl Loaded {
    pub fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    pub fn warnings(&self) -> usize {
        self.diagnostics.len() - self.errors()
    }
}

/// Reads (at most `max_bytes` in all) and validates the repository at
/// `root`. Deadlines without a `timezone` are in `default_tz`; yearly
/// dates have their occurrences inside `window`.
pub fn load(root: &Path, max_bytes: u64, default_tz: Tz, window: Window) -> Loaded {
    validate(scan_bounded(root, max_bytes), default_tz, window)
}

/// Validates what [`scan`] read. Pure: no I/O, no clock (`window` says
/// which years of yearly dates to list).
pub fn validate(sources: Sources, default_tz: Tz, window: Window) -> Loaded {
    let mut diags = sources.diags;
    let (registry, registry_ok) = match &sources.registry {
        Some(src) => {
            let file = SourceFile::new(&src.display, src.text.as_str());
            let (registry, registry_diags) = registry::parse(&file);
            let ok = !registry_diags.iter().any(Diagnostic::is_error);
            diags.extend(registry_diags);
            (registry, ok)
        }
        None => (Default::default(), false),
    };
    let ctx = entry::Context {
        registry: &registry,
        registry_ok,
        default_tz,
        window,
    };

    // Files are independent until ids meet: they are checked on every core,
    // then joined in the order read (the same result on any machine).
    let checked = on_all_cores(&sources.files, |src| {
        let file = SourceFile::new(&src.display, src.text.as_str());
        let mut sink = Sink::new(&file);
        let checked = deadline_file(&mut sink, &ctx, src);
        let diags = sink.diags;
        (file, checked, diags)
    });
    let items = checked
        .iter()
        .flat_map(|(_, c, _)| c)
        .map(|c| c.deadlines.len())
        .sum();
    let (files, checked): (Vec<SourceFile>, Vec<_>) =
        checked.into_iter().map(|(f, c, d)| (f, (c, d))).unzip();
    let mut deadlines: Vec<Deadline> = Vec::with_capacity(items);
    // id → where it was first defined (file, offset), for duplicate reports.
    let mut seen: HashMap<String, (usize, usize)> = HashMap::with_capacity(items);
    for (index, (entries, file_diags)) in checked.into_iter().enumerate() {
        let mut sink = Sink::new(&files[index]);
        sink.diags = file_diags;
        for c in entries {
            if let Some(id) = &c.id {
                if let Some(&(file, at)) = seen.get(id.get_ref()) {
                    let first = files[file].place(at);
                    sink.error(id.span(), format!("duplicate deadline id `{}`", id.get_ref()))
                        .help = Some(format!(
                        "`{}` is first defined at {first}; ids must be unique across the repository",
                        id.get_ref()
                    ));
                    continue;
                }
                seen.insert(id.get_ref().clone(), (index, id.span().start));
            }
            deadlines.extend(c.deadlines);
        }
        diags.extend(sink.diags);
    }

    diagnostic::sort(&mut diags);
    let files = sources.files.len();
    let valid = !diags.iter().any(Diagnostic::is_error);
    Loaded {
        catalog: valid.then(|| Catalog::new(registry, deadlines, files)),
        diagnostics: diags,
        files,
    }
}

/// `f` of every item, in order, on all cores (but one thread per 64 items
/// at most: a small repository is not worth a thread).
fn on_all_cores<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    on_threads(items, cores.min(items.len() / 64), f)
}

/// `f` of every item, in order, on `threads` threads. The items are taken
/// in small blocks as threads come free, so a thread that the machine slows
/// down (another process, a busy neighbour on a VM) does not hold up the
/// others: with halves fixed in advance, one thread often finished a third
/// later than the other.
fn on_threads<T: Sync, R: Send>(items: &[T], threads: usize, f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    if threads <= 1 || items.len() < 2 {
        return items.iter().map(f).collect();
    }
    // Blocks small enough to even out, large enough that taking one costs
    // nothing next to the work in it.
    let block = (items.len() / (threads * 16)).clamp(1, 16);
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut done: Vec<(usize, Vec<R>)> = std::thread::scope(|scope| {
        let (f, next) = (&f, &next);
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        let start = next.fetch_add(block, std::sync::atomic::Ordering::Relaxed);
                        if start >= items.len() {
                            break mine;
                        }
                        let part = &items[start..(start + block).min(items.len())];
                        mine.push((start, part.iter().map(f).collect::<Vec<R>>()));
                    }
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(results) => results,
                // A panic in validation is a bug; keep its message and place.
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    done.sort_unstable_by_key(|(start, _)| *start);
    done.into_iter().flat_map(|(_, results)| results).collect()
}

/// The valid deadlines of one file, each with the span of its id.
fn deadline_file(
    sink: &mut Sink<'_>,
    ctx: &entry::Context<'_>,
    src: &Source,
) -> Vec<entry::Checked> {
    let file = sink.file;
    let Some(doc) = tables::parse_document(file, sink) else {
        return Vec::new();
    };
    if src.rel.file_name().is_some_and(|n| n == scan::REGISTRY) {
        sink.error(0..0, "a registry file is only read at the repository root")
            .help = Some(format!(
            "move the mechanisms and topics into the root `{}`, or rename this file",
            scan::REGISTRY
        ));
        return Vec::new();
    }
    let root = Table::new(&doc, 0..0, "a deadline file");
    for key in doc.keys().filter(|k| k.get_ref() != "deadline") {
        let name = key.get_ref().as_ref();
        let d = sink.error(
            key.span(),
            format!("unknown key `{name}` in a deadline file"),
        );
        d.help = Some(if entry::KEYS.contains(&name) {
            format!("`{name}` belongs to a deadline: put it below a `[[deadline]]` header")
        } else if strsim::damerau_levenshtein(name, "deadline") <= 2 {
            "did you mean `[[deadline]]`?".into()
        } else {
            "a deadline file holds only `[[deadline]]` tables".into()
        });
    }
    let Some(value) = doc.get("deadline") else {
        if doc.is_empty() {
            let d = sink.error(0..0, "this file holds no deadlines");
            d.help = Some("add a `[[deadline]]` table, or delete the file".into());
            d.severity = diagnostic::Severity::Warning;
        }
        return Vec::new();
    };
    let tables: Vec<(&toml::de::DeTable<'_>, tables::Span)> = match value.get_ref() {
        DeValue::Array(items) => items
            .iter()
            .filter_map(|item| match item.get_ref() {
                DeValue::Table(t) => Some((t, item.span())),
                other => {
                    sink.error(
                        item.span(),
                        format!(
                            "each deadline must be a table, found {}",
                            tables::type_name(other)
                        ),
                    )
                    .help = Some("write each deadline under its own `[[deadline]]` header".into());
                    None
                }
            })
            .collect(),
        DeValue::Table(_) => {
            let span = root.key_span("deadline").unwrap_or(value.span());
            sink.error(span, "`[deadline]` must be written `[[deadline]]`")
                .help = Some("a file may hold several deadlines, so each one starts with `[[deadline]]` (double brackets)".into());
            return Vec::new();
        }
        other => {
            sink.error(
                value.span(),
                format!(
                    "`deadline` must be a list of tables, found {}",
                    tables::type_name(other)
                ),
            )
            .help = Some("start each deadline with a `[[deadline]]` header".into());
            return Vec::new();
        }
    };
    let mut out = Vec::with_capacity(tables.len());
    let path: std::sync::Arc<std::path::Path> = src.rel.clone().into();
    for (table, span) in tables {
        let start = file.position(span.start);
        let origin = Origin {
            file: path.clone(),
            line: u32::try_from(start.line).unwrap_or(u32::MAX),
            column: u32::try_from(start.column).unwrap_or(u32::MAX),
        };
        let t = Table::new(table, span, "deadline");
        out.push(entry::validate(sink, ctx, &t, origin));
    }
    out
}

#[cfg(test)]
mod schedule_tests;
#[cfg(test)]
mod tests;

/// The deadline directory exists and is a directory; else a diagnostic
/// that says how to name the right one.
pub fn check_dir(root: &Path) -> Result<(), Diagnostic> {
    match std::fs::metadata(root) {
        Ok(m) if m.is_dir() => Ok(()),
        Ok(_) => Err(Diagnostic::file_error(root, "not a directory")
            .with_help("name the directory that holds `registry.toml`")),
        Err(e) => Err(Diagnostic::file_error(
            root,
            format!("cannot open the deadline directory: {}", io_reason(&e)),
        )
        .with_help(
            "set `[data] deadlines` in the config, or name the directory: `mechcal check DIR`",
        )),
    }
}
