//! The I/O half of loading: finds and reads the repository's files. Problems
//! with the file system (unreadable files, non-UTF-8 text, link loops) become
//! diagnostics like any other; nothing here panics or stops at the first one.

use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use crate::diagnostic::{self, Diagnostic};

/// The largest file read. Deadline files are a few kilobytes; this only guards
/// against a stray dump ending up in the repository.
pub const MAX_FILE_BYTES: u64 = 16 * 1024 * 1024;

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
/// skipping dot-files and dot-directories. Symbolic links are followed; a link
/// that leads back to one of its own ancestors is reported and skipped.
pub fn scan(root: &Path) -> Sources {
    let mut sources = Sources::default();
    let display = |rel: &Path| -> PathBuf {
        if root == Path::new(".") {
            rel.to_path_buf()
        } else {
            root.join(rel)
        }
    };
    let walker = WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'));
    for entry in walker {
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
        let is_toml = path.extension().is_some_and(|x| x == "toml");
        if !entry.file_type().is_file() || !is_toml {
            continue;
        }
        let rel = path.strip_prefix(root).unwrap_or(path).to_path_buf();
        let shown = display(&rel);
        match read(path, &shown) {
            Ok(text) => {
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

fn read(path: &Path, shown: &Path) -> Result<String, Diagnostic> {
    let meta = std::fs::metadata(path)
        .map_err(|e| Diagnostic::file_error(shown, format!("cannot read: {}", io_reason(&e))))?;
    if meta.len() > MAX_FILE_BYTES {
        return Err(Diagnostic::file_error(
            shown,
            format!(
                "file is too large ({} MiB; the limit is {} MiB)",
                meta.len() / (1024 * 1024),
                MAX_FILE_BYTES / (1024 * 1024)
            ),
        )
        .with_help("split it into several deadline files"));
    }
    let bytes = std::fs::read(path)
        .map_err(|e| Diagnostic::file_error(shown, format!("cannot read: {}", io_reason(&e))))?;
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
