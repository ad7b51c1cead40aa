//! The book (`docs/`) against the code, where drift is likely: every config
//! key, subcommand and HTTP route is documented, and nothing is documented
//! that the code lacks; the privacy statement reads as `/privacy` does;
//! every page of `SUMMARY.md` exists and every relative link leads to a
//! file; CHANGELOG's top entry is Cargo.toml's version.

use std::collections::BTreeSet;
use std::fs;

use crate::support::root;

fn page(path: &str) -> String {
    fs::read_to_string(root().join("docs/src").join(path)).unwrap()
}

/// The backticked items of `text`: "`[mail] host`, `port`" → `[mail] host`, `port`.
fn ticked(text: &str) -> Vec<&str> {
    text.split('`').skip(1).step_by(2).collect()
}

/// The first cell of each row of the Markdown tables in `doc`.
fn first_cells(doc: &str) -> Vec<&str> {
    doc.lines()
        .filter(|line| line.starts_with("| `"))
        .filter_map(|line| line.split('|').nth(1))
        .collect()
}

fn differences(
    what: &str,
    code: &BTreeSet<String>,
    documented: &BTreeSet<String>,
    page: &str,
) -> String {
    let missing: Vec<_> = code.difference(documented).collect();
    let extra: Vec<_> = documented.difference(code).collect();
    let mut out = String::new();
    if !missing.is_empty() {
        out += &format!("{what} the code has but docs/src/{page} does not document: {missing:?}\n");
    }
    if !extra.is_empty() {
        out += &format!("{what} docs/src/{page} documents but the code lacks: {extra:?}\n");
    }
    out
}

#[test]
fn the_configuration_reference_names_every_key_and_no_other() {
    use mechcal::load::config::keys::KEYS;
    let sections: BTreeSet<&str> = KEYS.iter().map(|(section, _)| *section).collect();
    let mut code = BTreeSet::new();
    for (section, keys) in KEYS {
        for key in *keys {
            let full = if section.is_empty() {
                key.to_string()
            } else {
                format!("{section}.{key}")
            };
            // A key that is a section of its own is documented by its rows.
            if !sections.contains(full.as_str()) {
                code.insert(format!("[{section}] {key}"));
            }
        }
    }
    code.retain(|key| !key.starts_with("[] "));
    let doc = page("operators/configuration.md");
    let mut documented = BTreeSet::new();
    for cell in first_cells(&doc) {
        let items = ticked(cell);
        let Some((section, first)) = items
            .first()
            .and_then(|item| item.strip_prefix('['))
            .and_then(|item| item.split_once("] "))
        else {
            continue;
        };
        documented.insert(format!("[{section}] {first}"));
        for key in &items[1..] {
            documented.insert(format!("[{section}] {key}"));
        }
    }
    // Every section of the top level has rows.
    for section in KEYS.iter().find(|(s, _)| s.is_empty()).unwrap().1 {
        assert!(
            documented
                .iter()
                .any(|key| key.starts_with(&format!("[{section}]"))),
            "docs/src/operators/configuration.md has no row for [{section}]"
        );
    }
    let wrong = differences(
        "config keys",
        &code,
        &documented,
        "operators/configuration.md",
    );
    assert!(wrong.is_empty(), "{wrong}");
    assert!(code.len() > 60, "{code:?}");
}

#[test]
fn the_commands_reference_names_every_subcommand_and_no_other() {
    let code: BTreeSet<String> = mechcal::cli::command_paths()
        .iter()
        .map(|path| path.join(" "))
        .collect();
    let doc = page("reference/commands.md");
    let mut documented = BTreeSet::new();
    for heading in doc.lines().filter(|line| line.starts_with("## `")) {
        let mut last: Vec<&str> = Vec::new();
        for item in ticked(heading) {
            let words: Vec<&str> = item
                .split_whitespace()
                .take_while(|word| {
                    word.chars().all(|c| c.is_ascii_lowercase() || c == '-')
                        && !word.starts_with('-')
                })
                .collect();
            let path = match words.split_first() {
                Some((&"mechcal", rest)) if !rest.is_empty() => rest.to_vec(),
                // "`approve REF…`" after "`mechcal subscribers pending`":
                // a sibling of the command before it.
                Some(_) if last.len() > 1 => {
                    let mut path = last[..last.len() - 1].to_vec();
                    path.extend(&words);
                    path
                }
                _ => continue,
            };
            documented.insert(path.join(" "));
            last = path;
        }
    }
    let wrong = differences("subcommands", &code, &documented, "reference/commands.md");
    assert!(wrong.is_empty(), "{wrong}");
    assert!(code.contains("subscribers approve"), "{code:?}");
}

/// `(METHOD, path)` with a path cut before its first `{` or `?`.
fn route(method: &str, path: &str) -> String {
    let cut = path.find(['{', '?']).unwrap_or(path.len());
    format!("{method} {}", &path[..cut])
}

#[test]
fn the_http_reference_names_every_route_and_no_other() {
    // The router, as its source declares it: `.route("/path", get(..).post(..))`.
    let source = fs::read_to_string(root().join("src/http/mod.rs")).unwrap();
    let mut code = BTreeSet::new();
    for line in source.lines() {
        let Some(rest) = line.trim().strip_prefix(".route(\"") else {
            continue;
        };
        let (path, handlers) = rest.split_once('"').unwrap();
        for (method, call) in [("GET", "get("), ("POST", "post("), ("PUT", "put(")] {
            if handlers.contains(call) {
                code.insert(route(method, path));
            }
        }
    }
    assert!(code.len() >= 15, "{code:?}");
    let doc = page("reference/http.md");
    let mut documented = BTreeSet::new();
    for cell in first_cells(&doc) {
        let mut path = "";
        for item in ticked(cell) {
            match item.split_once(' ') {
                Some((method, p)) if method.chars().all(|c| c.is_ascii_uppercase()) => {
                    path = p;
                    documented.insert(route(method, path));
                }
                None if item.chars().all(|c| c.is_ascii_uppercase()) => {
                    documented.insert(route(item, path));
                }
                _ => {}
            }
        }
    }
    let wrong = differences("routes", &code, &documented, "reference/http.md");
    assert!(wrong.is_empty(), "{wrong}");
}

#[test]
fn the_privacy_statement_is_the_one_the_page_shows() {
    use mechcal::i18n::Lang;
    let doc = page("subscribers/privacy.md");
    let hours = 48; // [subscriptions] confirm_hours's default
    for id in mechcal::render::PRIVACY {
        let text = Lang::EN.format(id, &[("hours", hours.into())]);
        // Fluent isolates placeables with U+2068 … U+2069.
        let text: String = text
            .chars()
            .filter(|c| !matches!(c, '\u{2068}' | '\u{2069}'))
            .collect();
        assert!(
            doc.lines().any(|line| line == text),
            "docs/src/subscribers/privacy.md lacks the paragraph `{id}` as /privacy shows it:\n{text}"
        );
    }
}

#[test]
fn every_page_of_the_summary_exists_and_every_relative_link_leads_to_a_file() {
    let src = root().join("docs/src");
    let summary = page("SUMMARY.md");
    let mut pages = Vec::new();
    for line in summary.lines() {
        if let Some((_, rest)) = line.split_once("](") {
            let target = rest.split(')').next().unwrap();
            assert!(
                src.join(target).is_file(),
                "SUMMARY.md: {target} does not exist"
            );
            pages.push(target.to_owned());
        }
    }
    assert!(pages.len() > 25, "{pages:?}");
    // Every page is in the summary (mdbook would leave it out otherwise).
    for part in ["staff", "subscribers", "operators", "reference", "design"] {
        for entry in fs::read_dir(src.join(part)).unwrap() {
            let name = format!("{part}/{}", entry.unwrap().file_name().to_string_lossy());
            assert!(pages.contains(&name), "{name} is not in SUMMARY.md");
        }
    }
    // Links between pages, and from README into the book.
    let mut files: Vec<_> = pages.iter().map(|p| src.join(p)).collect();
    files.push(root().join("README.md"));
    files.push(root().join("CONTRIBUTING.md"));
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        for (_, rest) in text.match_indices("](").map(|(i, _)| text.split_at(i + 2)) {
            let target = rest.split(')').next().unwrap();
            let target = target.split('#').next().unwrap();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let resolved = file.parent().unwrap().join(target);
            assert!(
                resolved.exists(),
                "{}: the link `{target}` leads nowhere",
                file.display()
            );
        }
    }
}

#[test]
fn the_changelogs_top_entry_is_the_version_in_cargo_toml() {
    let changelog = fs::read_to_string(root().join("CHANGELOG.md")).unwrap();
    let top = changelog
        .lines()
        .find(|line| line.starts_with("## "))
        .expect("CHANGELOG.md has an entry");
    let version = top[3..].split_whitespace().next().unwrap();
    assert_eq!(
        version,
        env!("CARGO_PKG_VERSION"),
        "CHANGELOG.md's top entry `{top}` is not Cargo.toml's version"
    );
}
