//! The I/O half of loading: finds and reads the repository's files. Problems
//! with the file system (unreadable files, non-UTF-8 text, link loops) become
//! diagnostics like any other; nothing here panics or stops at the first one.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::load::diagnostic::{self, Diagnostic};

/// The largest file read. Deadline files are a few kilobytes; this only guards
/// against a stray dump ending up in the repository.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

/// The default of `[data] max_bytes`: what all the files read may hold
/// together (a repository of ten thousand deadlines is about 5 MB).
pub const DEFAULT_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// The name of the registry file at the repository root.
pub const REGISTRY: &str = "registry.toml";

/// One file's text, with the two names it goes by.
#[derive(Clone, Debug)]
pub struct Source {
    /// Relative to the repository root: identifies the file.
    pub rel: PathBuf,
    /// As shown in messages: the root as the user named it, joined with `rel`.
    pub display: PathBuf,
    pub text: String,
}

/// Everything read from a repository directory.
#[derive(Debug, Default)]
pub struct Sources {
    pub registry: Option<Source>,
    /// Deadline files, sorted by relative path.
    pub files: Vec<Source>,
    /// Problems met while reading.
    pub diags: Vec<Diagnostic>,
}

/// Reads `registry.toml` and every other `*.toml` below `root`, at any depth,
/// skipping dot-files and dot-directories.
///
/// Symbolic links are followed only while they stay inside the repository:
/// a link (to a file or a directory) whose target resolves outside the
/// root's real path is reported and never opened, since anyone who can push
/// to the data repository could otherwise plant a link to a credentials file
/// and have its lines quoted in diagnostics (the log, `/healthz`, alerts). A
/// link that leads back to one of its own ancestors is reported and skipped;
/// a `*.toml` that is not a regular file (a FIFO, a device, a socket) is
/// reported and never opened.
pub fn scan(root: &Path) -> Sources {
    scan_bounded(root, DEFAULT_MAX_BYTES)
}

/// [`scan`], reading at most `max_bytes` in all (`[data] max_bytes`): the
/// file that would pass it is reported, and no file after it is read.
// Over 100 lines: one walk, one case per kind of directory entry (link, directory, file, special); the cases share the walk's state.
pub fn scan_bounded(root: &Path, max_bytes: u64) -> Sources {
    let mut sources = Sources::default();
    let mut total: u64 = 0;
    let display = |rel: &Path| -> PathBuf {
        if root == Path::new(".") {
            rel.to_path_buf()
        } else {
            root.join(rel)
        }
    };
    // Without a real root nothing can be told inside from outside: every
    // link is then refused (the walk below reports the root itself).
    let real_root = std::fs::canonicalize(root).ok();
    let mut walker = WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(e) => e,
            Err(e) => {
                let path = e
                    .path()
                    .map(Path::to_path_buf)
                    .unwrap_or_else(|| root.to_path_buf());
                let rel = path.strip_prefix(root).unwrap_or(&path).to_path_buf();
                let d = match e.loop_ancestor() {
                    Some(ancestor) => Diagnostic::file_error(
                        &display(&rel),
                        format!(
                            "symbolic link loop: this directory leads back to `{}`; skipped",
                            ancestor.display()
                        ),
                    )
                    .with_help("remove the link, or point it outside its own parent directories")
                    .warning(),
                    None => Diagnostic::file_error(
                        &display(&rel),
                        format!("cannot read: {}", walk_reason(&e)),
                    ),
                };
                sources.diags.push(d);
                continue;
            }
        };
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap_or(path).to_path_buf();
        let shown = display(&rel);
        let is_toml = path.extension().is_some_and(|x| x == "toml");
        if is_toml && !entry.file_type().is_file() && !entry.file_type().is_dir() {
            sources.diags.push(
                Diagnostic::file_error(
                    &shown,
                    format!("not a regular file ({}); skipped", kind(&entry.file_type())),
                )
                .with_help("a deadline file is a plain text file: remove this one or rename it")
                .warning(),
            );
            continue;
        }
        let mut target = None;
        if entry.depth() > 0 && entry.path_is_symlink() {
            match inside(path, real_root.as_deref()) {
                Ok(real) => target = Some(real),
                Err(d) => {
                    if entry.file_type().is_dir() {
                        walker.skip_current_dir();
                    }
                    // A link to outside is always reported, whatever its
                    // name: a directory link would hide deadline files.
                    if is_toml || entry.file_type().is_dir() {
                        sources.diags.push(d.at(&shown));
                    }
                    continue;
                }
            }
        }
        if !is_toml || entry.file_type().is_dir() {
            continue;
        }
        match read(target.as_deref().unwrap_or(path), &shown) {
            Ok(text) if total + text.len() as u64 > max_bytes => {
                sources.diags.push(
                    Diagnostic::file_error(
                        &shown,
                        format!(
                            "the repository's files pass `[data] max_bytes` ({} MiB) here; this file and those after it were not read",
                            max_bytes / (1024 * 1024)
                        ),
                    )
                    .with_help("remove what does not belong in the deadline repository, or raise `[data] max_bytes`"),
                );
                break;
            }
            Ok(text) => {
                total += text.len() as u64;
                let source = Source {
                    rel: rel.clone(),
                    display: shown,
                    text,
                };
                if rel == Path::new(REGISTRY) {
                    sources.registry = Some(source);
                } else {
                    sources.files.push(source);
                }
            }
            Err(d) => sources.diags.push(d),
        }
    }
    if sources.registry.is_none()
        && !sources
            .diags
            .iter()
            .any(|d| d.file == display(Path::new(REGISTRY)))
    {
        sources.diags.push(
            Diagnostic::file_error(
                &display(Path::new(REGISTRY)),
                "the deadline repository has no registry file",
            )
            .with_help("create `registry.toml` at the repository root with its `[mechanisms.<slug>]` and `[topics.<slug>]`"),
        );
    }
    sources
}

/// What the files `scan` would read look like from outside: each `*.toml`
/// path (as walked) with its size and modification time. Two equal stamps
/// taken a moment apart say that nobody is writing the repository.
pub fn stamp(root: &Path) -> Vec<(PathBuf, u64, Option<std::time::SystemTime>)> {
    WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(Result::ok)
        .filter(|e| e.path().extension().is_some_and(|x| x == "toml"))
        .filter_map(|e| {
            let meta = e.metadata().ok()?;
            Some((e.path().to_path_buf(), meta.len(), meta.modified().ok()))
        })
        .collect()
}

/// Why a symbolic link is refused, before the place it is shown at is known.
struct Refused(String, &'static str);

impl Refused {
    fn at(self, shown: &Path) -> Diagnostic {
        Diagnostic::file_error(shown, self.0).with_help(self.1)
    }
}

/// The real path of the link at `path` if it lies inside `real_root`.
fn inside(path: &Path, real_root: Option<&Path>) -> Result<PathBuf, Refused> {
    let written = std::fs::read_link(path)
        .map(|t| t.display().to_string())
        .unwrap_or_else(|_| "?".into());
    let real = std::fs::canonicalize(path).map_err(|e| {
        Refused(
            format!(
                "symbolic link to `{written}` cannot be resolved: {}; not read",
                io_reason(&e)
            ),
            "remove the link, or point it at a file inside the deadline repository",
        )
    })?;
    match real_root {
        Some(root)
            if real.starts_with(root)
                && real
                    .strip_prefix(root)
                    .map(|rel| {
                        rel.components()
                            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'))
                    })
                    .unwrap_or(false) =>
        {
            Err(Refused(
                format!(
                    "symbolic link points into a hidden part of the repository (to `{written}`, which is `{}`); not read",
                    real.display()
                ),
                "hidden files and directories (`.git/` and the like) are never read: remove the link",
            ))
        }
        Some(root) if real.starts_with(root) => Ok(real),
        _ => Err(Refused(
            format!(
                "symbolic link points outside the deadline repository (to `{written}`, which is `{}`); not read",
                real.display()
            ),
            "only files inside the repository are read: replace the link with the file itself, or remove it",
        )),
    }
}

fn kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "a named pipe"
    } else if t.is_socket() {
        "a socket"
    } else if t.is_char_device() || t.is_block_device() {
        "a device"
    } else {
        "not a file"
    }
}

/// Reads a file that was checked to be regular: opened without following
/// a link planted since and without blocking on a FIFO swapped in, then
/// checked again on the open handle, and read up to the size limit.
fn read(path: &Path, shown: &Path) -> Result<String, Diagnostic> {
    use std::io::Read as _;
    use std::os::unix::fs::OpenOptionsExt;
    let cannot = |e: std::io::Error| {
        Diagnostic::file_error(shown, format!("cannot read: {}", io_reason(&e)))
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path)
        .map_err(cannot)?;
    let meta = file.metadata().map_err(cannot)?;
    if !meta.is_file() {
        return Err(Diagnostic::file_error(
            shown,
            format!("not a regular file ({}); skipped", kind(&meta.file_type())),
        )
        .warning());
    }
    let too_large = |len: u64| {
        Diagnostic::file_error(
            shown,
            format!(
                "file is too large ({} MiB; the limit is {} MiB)",
                len / (1024 * 1024),
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        )
        .with_help("split it into several deadline files")
    };
    if meta.len() > MAX_FILE_BYTES {
        return Err(too_large(meta.len()));
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(cannot)?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    decode(shown, bytes)
}

/// Turns file bytes into text, or a diagnostic at the first invalid byte.
pub fn decode(shown: &Path, bytes: Vec<u8>) -> Result<String, Diagnostic> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let location = diagnostic::utf8_error_location(e.as_bytes(), valid);
        Diagnostic {
            location: Some(Box::new(location)),
            ..Diagnostic::file_error(shown, "file is not valid UTF-8").with_help(
                "save the file as UTF-8 (most editors offer it under \"Save with encoding\")",
            )
        }
    })
}

/// An I/O error's reason without the `(os error N)` suffix.
pub fn io_reason(e: &std::io::Error) -> String {
    let text = e.to_string();
    match text.find(" (os error") {
        Some(i) => text[..i].to_lowercase(),
        None => text.to_lowercase(),
    }
}

fn walk_reason(e: &walkdir::Error) -> String {
    match e.io_error() {
        Some(io) => io_reason(io),
        None => e.to_string(),
    }
}
