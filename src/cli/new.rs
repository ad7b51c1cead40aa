//! `mechcal new`: the edge of [`crate::staff::new`]. Fills a draft from
//! the flags, asks for what is missing when stdin is a terminal (offering
//! the registry's mechanisms and topics in the staff's language, checking
//! each answer at once), checks the file with the entry appended together
//! with the whole repository, and writes it whole (a temporary file
//! renamed over it): the result always passes `check`.

use std::io::{BufRead, Write as _};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::repository::Repository;
use super::Error;
use crate::exit::Exit;
use crate::load::config;
use crate::load::count;
use crate::load::deadlines::{self, Source};
use crate::load::diagnostic;
use crate::staff::import::dates::{self, DateOrder, When};
use crate::staff::import::names::Names;
use crate::staff::import::table::Cell;
use crate::staff::new::{self, Draft};

/// What `new` was given.
#[derive(Debug, Default)]
pub struct Request<'a> {
    pub dir: Option<&'a Path>,
    pub file: Option<&'a Path>,
    pub id: Option<String>,
    pub title: Option<String>,
    pub mechanism: Option<String>,
    pub topics: Vec<String>,
    pub due: Option<String>,
    pub timezone: Option<String>,
    pub url: Option<String>,
    pub description: Option<String>,
    pub status: Option<String>,
    pub date_order: Option<DateOrder>,
    pub dry_run: bool,
}

/// The terminal, when there is one: answers come from `input`, questions
/// go to the error stream.
pub struct Terminal<'a> {
    pub input: &'a mut dyn BufRead,
    pub language: &'static str,
}

/// Runs `new`: 0 when the entry was added, 1 when it would not pass
/// `check` (nothing written), 2 for usage errors and unanswered questions.
pub fn run(
    config: Option<&Path>,
    request: Request<'_>,
    terminal: Option<Terminal<'_>>,
    now: DateTime<Utc>,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> Result<Exit, Error> {
    let repo = Repository::open(config, request.dir, now)?;
    let root = repo.root.clone();
    let Some(catalog) = repo.valid("added", err) else {
        return Ok(Exit::Invalid);
    };
    let registry = catalog.registry();
    let (mechanisms, topics) = (Names::mechanisms(registry), Names::topics(registry));
    let usage = |err: &mut dyn std::io::Write, flag: &str, why: &str| {
        let _ = writeln!(err, "error: {flag}: {why}");
        Ok(Exit::Usage)
    };

    // The flags.
    let mut draft = Draft {
        id: request.id.clone(),
        title: request.title.clone().unwrap_or_default().trim().to_string(),
        url: request.url.clone(),
        description: request.description.clone(),
        status: request.status.as_deref().map(crate::staff::import::status),
        timezone: request.timezone.clone(),
        ..Draft::default()
    };
    if let Some(m) = &request.mechanism {
        match mechanisms.one(m) {
            Ok(slug) => draft.mechanism = slug,
            Err(e) => return usage(err, "--mechanism", &e),
        }
    }
    for t in &request.topics {
        match topics.one(t) {
            Ok(slug) if !draft.topics.contains(&slug) => draft.topics.push(slug),
            Ok(_) => {}
            Err(e) => return usage(err, "--topic", &e),
        }
    }
    if let Some(d) = &request.due {
        match dates::parse(&Cell::Text(d.clone()), request.date_order) {
            Ok(when) => draft.due = Some(when),
            Err(e) => return usage(err, "--due", &e),
        }
    }

    // What is missing: asked on a terminal, an error otherwise.
    let missing: Vec<&str> = [
        ("--title", draft.title.is_empty()),
        ("--mechanism", draft.mechanism.is_empty()),
        ("--topic", draft.topics.is_empty()),
        ("--due", draft.due.is_none()),
    ]
    .into_iter()
    .filter(|(_, m)| *m)
    .map(|(f, _)| f)
    .collect();
    let mut terminal = terminal;
    if !missing.is_empty() {
        let Some(t) = terminal.as_mut() else {
            let _ = writeln!(
                err,
                "error: missing {}\n  help: give them, or run `mechcal new` on a terminal to be asked",
                missing.join(", ")
            );
            return Ok(Exit::Usage);
        };
        let asked = ask(
            &mut draft,
            t,
            registry,
            &mechanisms,
            &topics,
            request.date_order,
            err,
        );
        if asked.is_err() {
            let _ = writeln!(err, "error: no answer: nothing added");
            return Ok(Exit::Usage);
        }
    }

    // The file, the id, the new text, checked with the whole repository.
    let (rel, path) = match request.file {
        Some(file) => {
            let path = config::normalize(&std::env::current_dir().unwrap_or_default().join(file));
            let base = config::normalize(&std::env::current_dir().unwrap_or_default().join(&root));
            match path.strip_prefix(&base) {
                Ok(rel) if path.extension().is_some_and(|e| e == "toml") => {
                    (rel.to_path_buf(), root.join(rel))
                }
                _ => {
                    return usage(
                        err,
                        "--file",
                        &format!(
                            "{} is not a .toml file in {}",
                            file.display(),
                            root.display()
                        ),
                    )
                }
            }
        }
        None => (draft.file(), root.join(draft.file())),
    };
    let id = draft.id(&crate::staff::import::ids::existing(&catalog));
    let block = draft.block(&id);
    let sources = repo.read();
    let current = sources
        .files
        .iter()
        .find(|s| s.rel == rel)
        .map(|s| s.text.clone());
    if current.is_none() && path.exists() {
        return usage(
            err,
            "--file",
            &format!("{} cannot be read as a deadline file", path.display()),
        );
    }
    let text = new::appended(current.as_deref(), &block);
    let mut all = sources;
    all.files.retain(|s| s.rel != rel);
    all.files.push(Source {
        rel: rel.clone(),
        display: path.clone(),
        text: text.clone(),
    });
    all.files.sort_by(|a, b| a.rel.cmp(&b.rel));
    let checked = repo.validate(all);
    if checked.catalog.is_none() {
        let _ = err.write_all(diagnostic::render_human(&checked.diagnostics).as_bytes());
        let _ = writeln!(
            err,
            "error: the entry would not pass `check`: nothing added"
        );
        return Ok(Exit::Invalid);
    }

    let _ = out.write_all(block.trim_start().as_bytes());
    if request.dry_run {
        let _ = writeln!(out, "would add `{id}` to {}", path.display());
        return Ok(Exit::Ok);
    }
    if let Some(t) = terminal.as_mut() {
        let _ = write!(err, "Add it to {}? [Y/n] ", path.display());
        let _ = err.flush();
        let answer = line(t.input).unwrap_or_else(|| "n".into());
        if answer.trim().to_lowercase().starts_with('n') {
            let _ = writeln!(err, "nothing added");
            return Ok(Exit::Ok);
        }
    }
    if let Err(e) = write_whole(&path, &text) {
        let _ = writeln!(
            err,
            "error: cannot write {}: {}",
            path.display(),
            deadlines::io_reason(&e)
        );
        return Ok(Exit::Usage);
    }
    let after = repo.validate(repo.read());
    let _ = writeln!(out, "added `{id}` to {}", path.display());
    if let Some(c) = &after.catalog {
        let _ = writeln!(
            out,
            "check: {} in {}, valid",
            count(c.entries(), "deadline"),
            count(c.files(), "file")
        );
    }
    Ok(Exit::Ok)
}

/// One line of input, without its line break; `None` at the end.
fn line(input: &mut dyn BufRead) -> Option<String> {
    let mut s = String::new();
    match input.read_line(&mut s) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(s.trim_end_matches(['\n', '\r']).to_string()),
    }
}

/// Asks for every field the draft lacks, each until its answer is good;
/// then for the optional ones. `Err` when the input ends.
fn ask(
    draft: &mut Draft,
    t: &mut Terminal<'_>,
    registry: &crate::model::registry::Registry,
    mechanisms: &Names,
    topics: &Names,
    order: Option<DateOrder>,
    err: &mut dyn std::io::Write,
) -> Result<(), ()> {
    let mut question = |err: &mut dyn std::io::Write, q: &str| -> Result<String, ()> {
        let _ = write!(err, "{q}: ");
        let _ = err.flush();
        line(t.input).ok_or(())
    };
    while draft.title.is_empty() {
        let answer = question(err, "Title")?;
        let answer = answer.trim();
        if answer.is_empty() {
            let _ = writeln!(err, "  a deadline needs a title");
        } else if answer.chars().any(char::is_control) {
            let _ = writeln!(err, "  a title is one line of text");
        } else {
            draft.title = answer.to_string();
        }
    }
    if draft.mechanism.is_empty() {
        let menu = new::mechanism_menu(registry, t.language);
        show_menu(err, &menu);
        loop {
            let answer = question(err, "Mechanism (number or name)")?;
            match new::pick(&answer, &menu, mechanisms, false) {
                Ok(mut slugs) => {
                    draft.mechanism = slugs.remove(0);
                    break;
                }
                Err(e) => {
                    let _ = writeln!(err, "  {e}");
                }
            }
        }
    }
    if draft.topics.is_empty() {
        let menu = new::topic_menu(registry, t.language);
        show_menu(err, &menu);
        loop {
            let answer = question(err, "Topics (numbers or names, separated by commas)")?;
            match new::pick(&answer, &menu, topics, true) {
                Ok(slugs) => {
                    draft.topics = slugs;
                    break;
                }
                Err(e) => {
                    let _ = writeln!(err, "  {e}");
                }
            }
        }
    }
    while draft.due.is_none() {
        let answer = question(
            err,
            "Due (2027-03-31, 31.03.2027, 31.03.2027 12:00 Europe/Zurich, open)",
        )?;
        match dates::parse(&Cell::Text(answer), order) {
            Ok(when) => draft.due = Some(when),
            Err(e) => {
                let _ = writeln!(err, "  {e}");
            }
        }
    }
    if draft.url.is_none() {
        loop {
            let answer = question(err, "Link to the call (Enter for none)")?;
            let answer = answer.trim();
            if answer.is_empty() {
                break;
            }
            if answer.starts_with("https://") || answer.starts_with("http://") {
                draft.url = Some(answer.to_string());
                break;
            }
            let _ = writeln!(err, "  a link starts with https:// (or http://)");
        }
    }
    if draft.timezone.is_none() && matches!(draft.due, Some(When::Local(_, None))) {
        loop {
            let answer = question(err, "Time zone of that time (Enter for the calendar's)")?;
            let answer = answer.trim();
            if answer.is_empty() {
                break;
            }
            match answer.parse::<chrono_tz::Tz>() {
                Ok(_) => {
                    draft.timezone = Some(answer.to_string());
                    break;
                }
                Err(_) => {
                    let hint = crate::load::suggest::did_you_mean(
                        answer,
                        chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()),
                    )
                    .unwrap_or_else(|| "e.g. Europe/Zurich".into());
                    let _ = writeln!(err, "  `{answer}` is not a time zone: {hint}");
                }
            }
        }
    }
    Ok(())
}

fn show_menu(err: &mut dyn std::io::Write, menu: &[(String, String)]) {
    for (i, (slug, name)) in menu.iter().enumerate() {
        let _ = writeln!(err, "  {:>2}. {name} ({slug})", i + 1);
    }
}

/// Writes `text` to `path` whole: a temporary file beside it, renamed
/// over it.
fn write_whole(path: &Path, text: &str) -> std::io::Result<()> {
    let parent: PathBuf = path.parent().map(Path::to_path_buf).unwrap_or_default();
    std::fs::create_dir_all(&parent)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = parent.join(format!(".{name}.new"));
    let written = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}
