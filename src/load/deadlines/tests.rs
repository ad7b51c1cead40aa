//! Validation tests on in-memory repositories: one snapshot per error class
//! (the exact text a member of staff reads), and property tests that the
//! loader never panics and keeps its positions inside the file.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use proptest::prelude::*;

use super::*;
use crate::model::deadline::{Due, Status, SubmitTo};

const REGISTRY: &str = r#"
[mechanisms.cerd]
name = "CERD"
full_name = "Committee on the Elimination of Racial Discrimination"

[mechanisms.cedaw]
name = "CEDAW"
full_name = "Committee on the Elimination of Discrimination against Women"

[mechanisms.upr]
name = "UPR"
full_name = "Universal Periodic Review"

[topics.women]
en = "Women"
ru = "Женщины"

[topics.discrimination]
en = "Discrimination"

[topics.elections]
en = "Elections"
"#;

fn sources(registry: &str, files: &[(&str, &str)]) -> Sources {
    let source = |rel: &str, text: &str| Source {
        rel: PathBuf::from(rel),
        display: PathBuf::from("deadlines").join(rel),
        text: text.to_string(),
    };
    Sources {
        registry: Some(source("registry.toml", registry)),
        files: files.iter().map(|(rel, text)| source(rel, text)).collect(),
        diags: Vec::new(),
    }
}

fn load_files(files: &[(&str, &str)]) -> Loaded {
    validate(
        sources(REGISTRY, files),
        Tz::Europe__Zurich,
        crate::testing::WINDOW,
    )
}

fn render(loaded: &Loaded) -> String {
    diagnostic::render_human(&loaded.diagnostics)
}

/// A valid deadline with one line replaced (or added, if `key` is new).
fn entry_with(key: &str, line: Option<&str>) -> String {
    let base = [
        ("id", "id = \"cerd-alt-2024\""),
        ("title", "title = \"Альтернативный доклад…\""),
        ("mechanism", "mechanism = \"cerd\""),
        ("topics", "topics = [\"discrimination\"]"),
        ("due", "due = 2024-07-15"),
    ];
    let mut out = String::from("[[deadline]]\n");
    let mut replaced = false;
    for (k, l) in base {
        if k == key {
            replaced = true;
            if let Some(line) = line {
                out.push_str(line);
                out.push('\n');
            }
        } else {
            out.push_str(l);
            out.push('\n');
        }
    }
    if !replaced {
        if let Some(line) = line {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn valid_entry_loads_with_every_field() {
    let text = r#"
[[deadline]]
id = "cedaw-blr-2027"
title = "  Alternative report  "
mechanism = "cedaw"
topics = ["women", "discrimination"]
due = 2027-03-28T18:00:00
timezone = "Europe/Vilnius"
country = "BY"
body = "CEDAW, 95th session"
url = "https://www.ohchr.org/en/treaty-bodies/cedaw"
submit_to = "mailto:cedaw@example.org"
description = """
Line one.
Line two.
"""
status = "tentative"
remind_days = [7, 30, 1]
"#;
    let loaded = load_files(&[("a.toml", text)]);
    assert_eq!(render(&loaded), "");
    let catalog = loaded.catalog.unwrap();
    let d = catalog.get("cedaw-blr-2027").unwrap();
    assert_eq!(d.title, "Alternative report");
    assert_eq!(d.timezone, Tz::Europe__Vilnius);
    assert_eq!(d.due_at.to_rfc3339(), "2027-03-28T15:00:00+00:00");
    assert!(matches!(d.due, Due::Local(_)));
    assert_eq!(
        d.submit_to,
        Some(SubmitTo::Email("cedaw@example.org".into()))
    );
    assert_eq!(d.description.as_deref(), Some("Line one.\nLine two."));
    assert_eq!(d.status, Status::Tentative);
    assert_eq!(d.remind_days, Some(vec![30, 7, 1]));
    assert_eq!((d.origin.line, d.origin.column), (2, 1));
    assert_eq!(catalog.files(), 1);
}

#[test]
fn submission_requirements_load() {
    use crate::model::requirements::{Public, SubmitVia};
    let text = entry_with(
        "zzz",
        Some(
            "word_limit = 5_000\npage_limit = 10\nlanguages = [\"en\", \"fr\"]\n\
             submit_via = [\"email\", \"post\"]\nsubject_line = \"HCR 2026 (name of your organisation)\"\n\
             public = \"no\"\nverified = 2026-11-30\nsource = \"https://hatecrime.osce.org/\"",
        ),
    );
    let loaded = load_files(&[("a.toml", &text)]);
    assert_eq!(render(&loaded), "");
    let catalog = loaded.catalog.unwrap();
    let r = &catalog.get("cerd-alt-2024").unwrap().requirements;
    assert_eq!((r.word_limit, r.page_limit), (Some(5000), Some(10)));
    assert_eq!(r.languages, ["en", "fr"]);
    assert_eq!(r.submit_via, [SubmitVia::Email, SubmitVia::Post]);
    assert_eq!(r.public, Some(Public::No));
    assert_eq!(r.verified.unwrap().to_string(), "2026-11-30");
    // One value may stand for a list of one.
    let one = load_files(&[(
        "a.toml",
        &entry_with("zzz", Some("submit_via = \"portal\"")),
    )]);
    assert_eq!(
        one.catalog
            .unwrap()
            .get("cerd-alt-2024")
            .unwrap()
            .requirements
            .submit_via,
        [SubmitVia::Portal]
    );
}

#[test]
fn due_forms_resolve_to_instants() {
    let cases = [
        // All day: due by the end of the day in the deadline's zone.
        (
            "due = 2024-07-15",
            "2024-07-15T22:00:00+00:00",
            "2024-07-15",
        ),
        (
            "due = 2024-01-15",
            "2024-01-15T23:00:00+00:00",
            "2024-01-15",
        ),
        // Wall-clock time in Zurich (summer, UTC+2).
        (
            "due = 2024-07-15T12:00:00",
            "2024-07-15T10:00:00+00:00",
            "2024-07-15",
        ),
        // TOML 1.1 allows leaving out the seconds.
        (
            "due = 2024-07-15T12:00",
            "2024-07-15T10:00:00+00:00",
            "2024-07-15",
        ),
        // An absolute instant ignores the zone for its instant, not for its date.
        (
            "due = 2024-07-15T23:30:00Z",
            "2024-07-15T23:30:00+00:00",
            "2024-07-16",
        ),
        // DST fold: 02:30 on 2027-10-31 happens twice in Zurich; the earlier counts.
        (
            "due = 2027-10-31T02:30:00",
            "2027-10-31T00:30:00+00:00",
            "2027-10-31",
        ),
    ];
    for (line, instant, date) in cases {
        let loaded = load_files(&[("a.toml", &entry_with("due", Some(line)))]);
        assert_eq!(render(&loaded), "", "{line}");
        let catalog = loaded.catalog.unwrap();
        let d = &catalog.deadlines()[0];
        assert_eq!(d.due_at.to_rfc3339(), instant, "{line}");
        assert_eq!(d.due_date().to_string(), date, "{line}");
    }
}

#[test]
fn bom_and_crlf_are_accepted_and_normalised() {
    let text = "\u{feff}[[deadline]]\r\nid = \"a\"\r\ntitle = \"T\"\r\nmechanism = \"cerd\"\r\n\
                topics = [\"women\"]\r\ndue = 2024-07-15\r\ndescription = \"\"\"\r\none\r\ntwo\r\n\"\"\"\r\n";
    let loaded = load_files(&[("a.toml", text)]);
    assert_eq!(render(&loaded), "");
    let catalog = loaded.catalog.unwrap();
    assert_eq!(
        catalog.deadlines()[0].description.as_deref(),
        Some("one\ntwo")
    );
    // And positions still count from the first visible character.
    let broken = text.replace("mechanism = \"cerd\"", "mechanism = \"cerdd\"");
    let loaded = load_files(&[("a.toml", &broken)]);
    assert!(
        render(&loaded).starts_with("deadlines/a.toml:4:13: error: unknown mechanism `cerdd`"),
        "{}",
        render(&loaded)
    );
}

#[test]
fn a_file_may_hold_several_deadlines_and_fingerprints_ignore_position() {
    let one = entry_with("id", Some("id = \"a\""));
    let two = entry_with("id", Some("id = \"b\""));
    let together = load_files(&[("x.toml", &format!("{one}\n{two}"))])
        .catalog
        .unwrap();
    let apart = load_files(&[
        ("z/y.toml", &two),
        ("x.toml", &format!("\n\n# moved\n{one}")),
    ])
    .catalog
    .unwrap();
    assert_eq!(together.deadlines().len(), 2);
    for id in ["a", "b"] {
        assert_eq!(
            together.get(id).unwrap().fingerprint,
            apart.get(id).unwrap().fingerprint
        );
    }
    assert_ne!(
        together.get("a").unwrap().fingerprint,
        together.get("b").unwrap().fingerprint
    );
}

/// One snapshot per error class: the exact message, place, snippet and help.
#[test]
fn error_classes() {
    let e = |key: &str, line: &str| entry_with(key, Some(line));
    let cases: Vec<(&str, String)> = vec![
        ("syntax_unclosed_string", e("title", "title = \"Альтернативный доклад")),
        ("syntax_several_errors", "[[deadline]]\nid = \nid = \"x\"\ntitle = 'a\n".into()),
        ("unknown_key", e("title", "titel = \"Report\"")),
        ("unknown_key_far_from_any", e("zzz", "colour = \"red\"")),
        ("missing_required_keys", "[[deadline]]\nid = \"a\"\nmechanism = \"cerd\"\ntopics = [\"women\"]\n".into()),
        ("wrong_types", "[[deadline]]\nid = 7\ntitle = [\"x\"]\nmechanism = true\ntopics = \"women\"\ndue = 2024-07-15\n".into()),
        ("id_not_a_slug", e("id", "id = \"CERD_Report 2024\"")),
        ("id_cyrillic", e("id", "id = \"доклад\"")),
        ("id_too_long", e("id", &format!("id = \"{}\"", "a".repeat(101)))),
        ("title_empty", e("title", "title = \"   \"")),
        ("title_multiline", e("title", "title = \"\"\"Line one\nline two\"\"\"")),
        ("title_control_char", e("title", "title = \"Report\\u0007\"")),
        ("title_bidi_override", e("title", "title = \"Report \\u202Egnp.exe\"")),
        ("title_zero_width", e("title", "title = \"CE\u{200b}DAW\"")),
        ("title_invisible_only", e("title", "title = \"\\u3164 \\u2800\"")),
        ("title_too_long", e("title", &format!("title = \"{}\"", "Доклад ".repeat(50)))),
        ("description_control_char", e("title", "title = \"R\"\ndescription = \"\"\"\nline\\u001b[2Jcleared\n\"\"\"")),
        ("description_bidi_override", e("title", "title = \"R\"\ndescription = \"\"\"\nSubmit to \\u202Efdp.exe\n\"\"\"")),
        ("unknown_mechanism", e("mechanism", "mechanism = \"cerdd\"")),
        ("unknown_mechanism_no_near", e("mechanism", "mechanism = \"osce\"")),
        ("unknown_topic", e("topics", "topics = [\"womens\", \"discrimination\"]")),
        ("duplicate_topic", e("topics", "topics = [\"women\", \"women\"]")),
        ("empty_topics", e("topics", "topics = []")),
        ("topic_not_string", e("topics", "topics = [\"women\", 3]")),
        ("due_string_iso", e("due", "due = \"2024-07-15\"")),
        ("due_string_dotted", e("due", "due = \"15.07.2024\"")),
        ("due_string_other", e("due", "due = \"mid-July\"")),
        ("due_integer", e("due", "due = 20240715")),
        ("due_time_only", e("due", "due = 18:00:00")),
        ("due_dst_gap", e("due", "due = 2027-03-28T02:30:00")),
        ("due_dst_gap_other_zone", format!("{}timezone = \"America/New_York\"\n", e("due", "due = 2027-03-14T02:15:00"))),
        ("timezone_geneva", e("zzz", "timezone = \"Europe/Geneva\"")),
        ("timezone_typo", e("zzz", "timezone = \"Europe/Zurih\"")),
        ("timezone_city_only", e("zzz", "timezone = \"Minsk\"")),
        ("country_lower_case", e("zzz", "country = \"by\"")),
        ("country_uk", e("zzz", "country = \"UK\"")),
        ("country_unknown", e("zzz", "country = \"Belarus\"")),
        ("url_not_http", e("zzz", "url = \"ftp://ohchr.org/x\"")),
        ("url_no_scheme", e("zzz", "url = \"www.ohchr.org/cerd\"")),
        ("submit_to_bad_email", e("zzz", "submit_to = \"cerd@ohchr\"")),
        ("submit_to_neither", e("zzz", "submit_to = \"the secretariat\"")),
        ("status_typo", e("zzz", "status = \"canceled\"")),
        ("status_unknown", e("zzz", "status = \"maybe\"")),
        ("remind_days_bad", e("zzz", "remind_days = [30, 400, -1, 7, 7, \"1\"]")),
        ("remind_days_not_array", e("zzz", "remind_days = 7")),
        ("body_multiline", e("zzz", "body = \"\"\"a\nb\"\"\"")),
        ("deadline_single_brackets", "[deadline]\nid = \"a\"\n".into()),
        ("deadline_scalar", "deadline = 5\n".into()),
        ("deadline_array_of_scalars", "deadline = [1, \"x\"]\n".into()),
        ("unknown_top_level_key", format!("version = 2\n{}", entry_with("", None))),
        ("nested_table_in_deadline", e("zzz", "[deadline.extra]\nx = 1")),
        ("deep_nesting", format!("x = {}{}\n", "[".repeat(5000), "]".repeat(5000))),
        ("word_limit_zero", e("zzz", "word_limit = 0\npage_limit = -3")),
        ("word_limit_string", e("zzz", "word_limit = \"5000\"")),
        ("languages_unknown", e("zzz", "languages = [\"en\", \"EN\", \"by\", \"english\", \"fr\", \"fr\"]")),
        ("languages_empty", e("zzz", "languages = []")),
        ("submit_via_typo", e("zzz", "submit_via = [\"emial\", \"fax\"]")),
        ("public_typo", e("zzz", "public = \"on_request\"")),
        ("verified_string", e("zzz", "verified = \"2026-11-30\"\nsource = \"ohchr.org/call\"")),
        ("verified_with_time", e("zzz", "verified = 2026-11-30T10:00:00")),
        ("subject_line_multiline", e("zzz", "subject_line = \"\"\"HCR\n2026\"\"\"")),
    ];
    for (name, text) in cases {
        let loaded = load_files(&[("2024/cerd.toml", &text)]);
        assert!(loaded.catalog.is_none(), "{name}: expected an error");
        insta::assert_snapshot!(name, render(&loaded), &text);
    }
}

#[test]
fn every_problem_of_a_run_is_reported() {
    let bad =
        "[[deadline]]\nid = \"a\"\ntitle = \"\"\nmechanism = \"cerdd\"\ntopics = [\"womens\"]\n\
               due = \"2024-07-15\"\nstatus = \"done\"\ncolour = 1\n";
    let loaded = load_files(&[("a.toml", bad), ("b.toml", "[[deadline]]\nid = 5\n")]);
    let lines: Vec<String> = loaded
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}", d.place(), d.message))
        .collect();
    insta::assert_snapshot!(lines.join("\n"), @r"
    deadlines/a.toml:3:9: `title` must not be empty
    deadlines/a.toml:4:13: unknown mechanism `cerdd`
    deadlines/a.toml:5:11: unknown topic `womens`
    deadlines/a.toml:6:7: `due` must be a TOML date, not a string
    deadlines/a.toml:7:10: unknown status `done`
    deadlines/a.toml:8:1: unknown key `colour` in deadline
    deadlines/b.toml:1:1: deadline is missing required key `title`
    deadlines/b.toml:1:1: deadline is missing required key `mechanism`
    deadlines/b.toml:1:1: deadline is missing required key `topics`
    deadlines/b.toml:1:1: deadline is missing required key `due`
    deadlines/b.toml:2:6: `id` must be a string, found an integer
    ");
}

#[test]
fn duplicate_ids_name_both_places() {
    let a = entry_with("", None);
    let loaded = load_files(&[
        ("2024/a.toml", &a),
        ("2025/b.toml", &format!("# moved?\n{a}")),
    ]);
    insta::assert_snapshot!(render(&loaded), @r#"
    deadlines/2025/b.toml:3:6: error: duplicate deadline id `cerd-alt-2024`
      3 | id = "cerd-alt-2024"
        |      ^^^^^^^^^^^^^^^
      help: `cerd-alt-2024` is first defined at deadlines/2024/a.toml:2:6; ids must be unique across the repository
    "#);
}

#[test]
fn work_on_threads_comes_back_in_order() {
    let items: Vec<usize> = (0..301).collect();
    let once: Vec<usize> = items.iter().map(|i| i * 3).collect();
    for threads in [0, 1, 2, 3, 7, 400] {
        assert_eq!(on_threads(&items, threads, |i| i * 3), once, "{threads}");
    }
    assert!(on_threads(&[] as &[usize], 2, |i| *i).is_empty());
}

/// Enough files for every core: the duplicate is found across the files
/// that different threads checked, and the report is in file order.
#[test]
fn a_large_repository_reports_as_a_small_one() {
    let texts: Vec<(String, String)> = (0..400)
        .map(|i| {
            let id = if i == 390 { 3 } else { i };
            let text = entry_with("", None).replace("cerd-alt-2024", &format!("d-{id}"));
            let text = if i == 200 {
                text.replace("mechanism = \"cerd\"", "mechanism = \"cerdd\"")
            } else {
                text
            };
            (format!("{i:03}.toml"), text)
        })
        .collect();
    let files: Vec<(&str, &str)> = texts.iter().map(|(p, t)| (&p[..], &t[..])).collect();
    let loaded = load_files(&files);
    let places: Vec<String> = loaded.diagnostics.iter().map(|d| d.place()).collect();
    assert_eq!(
        places,
        ["deadlines/200.toml:4:13", "deadlines/390.toml:2:6"]
    );
    assert!(render(&loaded).contains("`d-3` is first defined at deadlines/003.toml:2:6"));
    // Without the errors: every entry, sorted.
    let files: Vec<(&str, &str)> = files
        .into_iter()
        .filter(|(p, _)| !["200.toml", "390.toml"].contains(p))
        .collect();
    let catalog = load_files(&files).catalog.expect("valid");
    assert_eq!(catalog.deadlines().len(), 398);
}

#[test]
fn words_mixing_alphabets_are_warnings_at_the_word() {
    let text = entry_with("title", Some("title = \"Альтернативный дoклад (CEDAW)\""))
        + "body = \"Cоmmittee on the Elimination of Discrimination against Women\"\n"
        + "description = \"\"\"\nПервая строка.\nСрoк подачи — 15 июля.\n\"\"\"\n";
    let loaded = load_files(&[("cerd.toml", &text)]);
    assert_eq!(loaded.errors(), 0, "{}", render(&loaded));
    assert_eq!(loaded.warnings(), 3, "{}", render(&loaded));
    assert!(loaded.catalog.is_some(), "warnings keep the data valid");
    insta::assert_snapshot!(render(&loaded));
}

#[test]
fn empty_file_is_a_warning_not_an_error() {
    let loaded = load_files(&[("empty.toml", ""), ("comments.toml", "# nothing yet\n")]);
    assert_eq!(loaded.errors(), 0);
    assert_eq!(loaded.warnings(), 2);
    assert!(loaded.catalog.is_some());
    insta::assert_snapshot!(render(&loaded), @r"
    deadlines/comments.toml:1:1: warning: this file holds no deadlines
      1 | # nothing yet
        | ^
      help: add a `[[deadline]]` table, or delete the file
    deadlines/empty.toml:1:1: warning: this file holds no deadlines
      1 | 
        | ^
      help: add a `[[deadline]]` table, or delete the file
    ");
}

#[test]
fn registry_errors() {
    let cases: Vec<(&str, String)> = vec![
        ("registry_bad_slug", format!("{REGISTRY}\n[topics.Human_Rights]\nen = \"Human rights\"\n")),
        ("registry_missing_keys", format!("{REGISTRY}\n[mechanisms.cat]\nname = \"CAT\"\n[topics.torture]\nru = \"Пытки\"\n")),
        ("registry_unknown_key", format!("{REGISTRY}\n[mechanisms.cat]\nname = \"CAT\"\nfull_name = \"Committee against Torture\"\nulr = \"https://x.org\"\n")),
        ("registry_no_topics", "[mechanisms.cat]\nname = \"CAT\"\nfull_name = \"Committee against Torture\"\n".into()),
        ("registry_unknown_section", format!("{REGISTRY}\n[topic.torture]\nen = \"Torture\"\n")),
        ("registry_entry_not_table", format!("{REGISTRY}\n[topics]\nfoo = \"Foo\"\n")),
        ("registry_unknown_language", format!("{REGISTRY}\n[topics.torture]\nen = \"Torture\"\nbe = \"Катаванні\"\nuk = \"Катування\"\n")),
        ("registry_mechanism_language_keys", format!("{REGISTRY}\n[mechanisms.cat]\nname = \"CAT\"\nfull_name = \"Committee against Torture\"\n[mechanisms.cat.be]\nfull_nmae = \"Камітэт супраць катаванняў\"\nname = \"\"\n")),
        ("registry_mechanism_language_not_table", format!("{REGISTRY}\n[mechanisms.cat]\nname = \"CAT\"\nfull_name = \"Committee against Torture\"\nru = \"КПП\"\n")),
    ];
    for (name, registry) in cases {
        let loaded = validate(
            sources(&registry, &[("a.toml", &entry_with("", None))]),
            Tz::Europe__Zurich,
            crate::testing::WINDOW,
        );
        assert!(loaded.catalog.is_none(), "{name}");
        insta::assert_snapshot!(name, render(&loaded), &registry);
    }
}

#[test]
fn broken_registry_does_not_cascade_into_unknown_names() {
    // The topic `torture` is in a broken table: deadlines naming it should not
    // get a second, misleading "unknown topic" error.
    let registry = format!("{REGISTRY}\n[topics.torture]\nru = \"Пытки\"\n");
    let entry = entry_with("topics", Some("topics = [\"torture\"]"));
    let loaded = validate(
        sources(&registry, &[("a.toml", &entry)]),
        Tz::Europe__Zurich,
        crate::testing::WINDOW,
    );
    assert_eq!(loaded.errors(), 1, "{}", render(&loaded));
}

#[test]
fn registry_in_a_subdirectory_is_refused() {
    let loaded = load_files(&[("2024/registry.toml", REGISTRY)]);
    insta::assert_snapshot!(render(&loaded), @r"
    deadlines/2024/registry.toml:1:1: error: a registry file is only read at the repository root
      1 | 
        | ^
      help: move the mechanisms and topics into the root `registry.toml`, or rename this file
    ");
}

#[test]
fn non_utf8_bytes_are_reported_at_their_place() {
    let bytes = b"[[deadline]]\nid = \"a\"\ntitle = \"\xcf\xf0\xe8\xec\xe5\xf0\"\n".to_vec(); // cp1251
    let d = decode(std::path::Path::new("deadlines/a.toml"), bytes).unwrap_err();
    insta::assert_snapshot!(d.to_string(), @r#"
    deadlines/a.toml:3:10: error: file is not valid UTF-8
      3 | title = "
        |          ^
      help: save the file as UTF-8 (most editors offer it under "Save with encoding")
    "#);
}

#[test]
fn upcoming_counts_only_future_non_cancelled() {
    let text = format!(
        "{}\n{}\n{}",
        entry_with("id", Some("id = \"past\"")).replace("2024-07-15", "2024-01-01"),
        entry_with("id", Some("id = \"future\"")).replace("2024-07-15", "2027-01-01"),
        format!(
            "{}status = \"cancelled\"\n",
            entry_with("id", Some("id = \"gone\""))
        )
        .replace("2024-07-15", "2027-01-01"),
    );
    let catalog = load_files(&[("a.toml", &text)]).catalog.unwrap();
    let now: DateTime<Utc> = "2026-11-23T12:00:00Z".parse().unwrap();
    assert_eq!(catalog.upcoming(now), 1);
}

// ------------------------------------------------------------ properties

/// Validates arbitrary text as a deadline file, checking the loader's
/// invariants: no panic, and every diagnostic points inside the file.
fn check_invariants(text: &str) {
    let loaded = load_files(&[("p.toml", text)]);
    let lines = text.trim_start_matches('\u{feff}').split('\n').count();
    for d in &loaded.diagnostics {
        if let Some(loc) = &d.location {
            assert!(
                loc.start.line >= 1 && loc.start.line <= lines,
                "{d}\n{text:?}"
            );
            assert!(loc.start.column >= 1, "{d}");
            let _ = d.to_string();
        }
    }
    assert_eq!(loaded.catalog.is_some(), loaded.errors() == 0);
}

/// Fragments that make up plausible (and implausible) deadline files.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[[deadline]]\n".to_string()),
        Just("[deadline]\n".to_string()),
        Just("id = \"a\"\n".to_string()),
        Just("title = \"Доклад…\"\n".to_string()),
        Just("mechanism = \"cerd\"\n".to_string()),
        Just("topics = [\"women\"]\n".to_string()),
        Just("due = 2024-07-15\n".to_string()),
        Just("due = 2027-03-28T02:30:00\n".to_string()),
        Just("due = \"x\"\n".to_string()),
        Just("timezone = \"Europe/Geneva\"\n".to_string()),
        Just("remind_days = [1, 1, 999]\n".to_string()),
        Just("description = \"\"\"\r\nx\r\n\"\"\"\n".to_string()),
        Just("x = [[[[[[{a = {b = 1}}]]]]]]\n".to_string()),
        Just("\u{feff}".to_string()),
        "[ -~\\n\\r\\tа-я\u{1F600}\"'\\[\\]{}=#.]{0,40}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn loader_never_panics_on_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        match decode(std::path::Path::new("p.toml"), bytes) {
            Ok(text) => check_invariants(&text),
            Err(d) => prop_assert!(d.location.is_some()),
        }
    }

    #[test]
    fn loader_never_panics_on_toml_like_text(parts in proptest::collection::vec(fragment(), 0..30)) {
        check_invariants(&parts.concat());
    }

    #[test]
    fn loader_never_panics_on_mutated_valid_files(
        cut in 0usize..200, insert in "[ -~\\nа-я]{0,5}", keep in 0usize..200,
    ) {
        let valid = entry_with("zzz", Some("description = \"\"\"\nмного\nстрок\n\"\"\"\nremind_days = [30, 7]"));
        let chars: Vec<char> = valid.chars().collect();
        let at = cut.min(chars.len());
        let resume = (at + keep % 8).min(chars.len());
        let mutated: String = chars[..at].iter().chain(insert.chars().collect::<Vec<_>>().iter()).chain(chars[resume..].iter()).collect();
        check_invariants(&mutated);
    }

    /// Generated valid entries load back with the same values.
    #[test]
    fn generated_valid_entries_round_trip(
        id in "[a-z0-9][a-z0-9-]{0,30}",
        // No controls, quotes or backslashes, and none of the invisible
        // characters a title may not hold (tested as errors of their own).
        title in "[^\\x00-\\x1f\\x7f-\\x{9f}\"\\\\\\x{61c}\\x{180e}\\x{200b}-\\x{200f}\\x{202a}-\\x{202e}\\x{2060}-\\x{2069}\\x{feff}]{1,60}",
        topics in proptest::sample::subsequence(vec!["women", "discrimination", "elections"], 1..=3),
        y in 1990i32..2100, m in 1u32..=12, d in 1u32..=28,
        days in proptest::collection::btree_set(0u16..=365, 0..5),
    ) {
        prop_assume!(!title.trim().is_empty() && !title.chars().any(char::is_control));
        // Hidden characters and blank titles are errors of their own.
        prop_assume!(!title.chars().any(|c| crate::load::text::hidden_char_name(c).is_some()));
        prop_assume!(!title.chars().all(crate::load::text::is_invisible));
        // Words in two alphabets are valid, with a warning.
        prop_assume!(crate::load::scripts::mixed_words(&title).is_empty());
        let topic_list = topics.iter().map(|t| format!("\"{t}\"")).collect::<Vec<_>>().join(", ");
        let day_list = days.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
        let text = format!(
            "[[deadline]]\nid = \"{id}\"\ntitle = \"{title}\"\nmechanism = \"upr\"\ntopics = [{topic_list}]\ndue = {y:04}-{m:02}-{d:02}\nremind_days = [{day_list}]\n"
        );
        let loaded = load_files(&[("g.toml", &text)]);
        prop_assert_eq!(render(&loaded), "");
        let catalog = loaded.catalog.unwrap();
        let entry = catalog.get(&id).unwrap();
        prop_assert_eq!(&entry.title, title.trim());
        prop_assert_eq!(entry.topics.len(), topics.len());
        prop_assert_eq!(entry.due_date().to_string(), format!("{y:04}-{m:02}-{d:02}"));
        let mut expected: Vec<u16> = days.into_iter().collect();
        expected.reverse();
        prop_assert_eq!(entry.remind_days.clone(), Some(expected));
    }
}

#[test]
fn duplicates_are_found_even_when_the_first_entry_has_other_errors() {
    let first = entry_with("mechanism", Some("mechanism = \"nope\""));
    let loaded = load_files(&[("a.toml", &first), ("b.toml", &entry_with("", None))]);
    let messages: Vec<&str> = loaded
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(
        messages,
        [
            "unknown mechanism `nope`",
            "duplicate deadline id `cerd-alt-2024`"
        ]
    );
}
