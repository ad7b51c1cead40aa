//! The deadline repository as a git revision holds it: what [`scan`]
//! reads from the working tree, read from a commit instead (`git ls-tree`,
//! then every blob through one `git cat-file --batch`). Files are shown
//! as `REV:path` in messages.
//!
//! [`scan`]: super::scan

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use super::{Source, Sources};

/// Runs `git -C dir args…`: its stdout, or git's reason.
pub fn git(dir: &Path, args: &[&str]) -> Result<String, String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let reason = String::from_utf8_lossy(&out.stderr)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        Err(format!(
            "`git {}` failed: {reason}",
            args.first().copied().unwrap_or_default()
        ))
    }
}

/// The commit `rev` names, as a full hash; an error for anything else
/// (a revision that starts with `-` is never passed to git).
pub fn commit(root: &Path, rev: &str) -> Result<String, String> {
    if rev.starts_with('-') || rev.is_empty() {
        return Err(format!("`{rev}` is not a revision"));
    }
    git(
        root,
        &[
            "rev-parse",
            "--verify",
            "--quiet",
            &format!("{rev}^{{commit}}"),
        ],
    )
    .map(|s| s.trim().to_string())
    .map_err(|_| {
        format!(
            "`{rev}` names no commit of the repository at {}",
            root.display()
        )
    })
}

/// Reads the deadline repository at `root` (a directory inside a git
/// work tree) as commit `commit` holds it: `registry.toml` and every other
/// `*.toml` below, skipping dot-files and dot-directories, as [`scan`]
/// does. `shown` names the revision in messages.
///
/// [`scan`]: super::scan
pub fn scan_revision(root: &Path, commit: &str, shown: &str) -> Result<Sources, String> {
    let prefix = git(root, &["rev-parse", "--show-prefix"])?
        .trim()
        .to_string();
    let top = PathBuf::from(git(root, &["rev-parse", "--show-toplevel"])?.trim());
    let listing = git(
        &top,
        &["ls-tree", "-r", "-z", "--full-tree", commit, "--", &prefix],
    )?;
    let mut wanted: Vec<(PathBuf, String)> = Vec::new();
    for record in listing.split('\0').filter(|r| !r.is_empty()) {
        let Some((meta, path)) = record.split_once('\t') else {
            continue;
        };
        let mut meta = meta.split_whitespace();
        let (kind, object) = (meta.nth(1), meta.next());
        let (Some("blob"), Some(object)) = (kind, object) else {
            continue;
        };
        let Some(rel) = path.strip_prefix(&prefix) else {
            continue;
        };
        let rel = PathBuf::from(rel);
        let hidden = rel
            .components()
            .any(|c| c.as_os_str().to_string_lossy().starts_with('.'));
        if hidden || rel.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        wanted.push((rel, object.to_string()));
    }
    let texts = blobs(&top, wanted.iter().map(|(_, o)| o.as_str()))?;
    let mut sources = Sources::default();
    for ((rel, _), bytes) in wanted.into_iter().zip(texts) {
        let display = PathBuf::from(format!("{shown}:{}{}", prefix, rel.display()));
        let text = match super::decode(&display, bytes) {
            Ok(t) => t,
            Err(d) => {
                sources.diags.push(d);
                continue;
            }
        };
        let source = Source {
            rel: rel.clone(),
            display,
            text,
        };
        if rel == Path::new("registry.toml") {
            sources.registry = Some(source);
        } else {
            sources.files.push(source);
        }
    }
    sources.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    if sources.registry.is_none() {
        return Err(format!("{shown} has no {prefix}registry.toml"));
    }
    Ok(sources)
}

/// The contents of `objects`, in order, through one `git cat-file --batch`.
fn blobs<'a>(top: &Path, objects: impl Iterator<Item = &'a str>) -> Result<Vec<Vec<u8>>, String> {
    let request: String = objects.map(|o| format!("{o}\n")).collect();
    let count = request.lines().count();
    let mut child = Command::new("git")
        .arg("-C")
        .arg(top)
        .args(["cat-file", "--batch"])
        .env("LC_ALL", "C")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run git: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("git cat-file: no stdin")?;
    // Written from another thread: git answers while it reads.
    let writer = std::thread::spawn(move || stdin.write_all(request.as_bytes()));
    let mut reader = BufReader::new(child.stdout.take().ok_or("git cat-file: no stdout")?);
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        let mut header = String::new();
        reader
            .read_line(&mut header)
            .map_err(|e| format!("git cat-file: {e}"))?;
        let size: usize = header
            .split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("git cat-file: unexpected `{}`", header.trim()))?;
        let mut blob = vec![0; size + 1];
        reader
            .read_exact(&mut blob)
            .map_err(|e| format!("git cat-file: {e}"))?;
        blob.pop();
        out.push(blob);
    }
    let _ = writer.join();
    let _ = child.wait();
    Ok(out)
}
