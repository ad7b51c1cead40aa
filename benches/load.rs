//! Load + validate a generated repository of 10,000 deadlines in 1,000 files
//! (target: < 150 ms on the 2-core CI machine).
//!
//! Run: `cargo bench --bench load`

use std::path::{Path, PathBuf};

use chrono_tz::Tz;

fn main() {
    divan::main();
}

const FILES: usize = 1_000;
const PER_FILE: usize = 10;

const MECHANISMS: [&str; 6] = ["upr", "cedaw", "cerd", "crpd", "cat", "crc"];
const TOPICS: [&str; 8] = [
    "women",
    "discrimination",
    "elections",
    "torture",
    "children",
    "civil-society",
    "freedom-of-association",
    "persons-with-disabilities",
];
const ZONES: [&str; 4] = [
    "Europe/Zurich",
    "Europe/Vienna",
    "Europe/Minsk",
    "America/New_York",
];

/// Writes a registry and `FILES` deadline files of `PER_FILE` entries each,
/// spread over year directories, with every kind of `due` and most optional
/// fields, Cyrillic titles and multi-line descriptions.
fn generate(root: &Path) {
    let mut registry = String::new();
    for m in MECHANISMS {
        registry += &format!("[mechanisms.{m}]\nname = \"{}\"\nfull_name = \"Committee {m}\"\nurl = \"https://www.ohchr.org/en/treaty-bodies/{m}\"\n\n", m.to_uppercase());
    }
    for t in TOPICS {
        registry += &format!("[topics.{t}]\nen = \"Topic {t}\"\nru = \"Тема {t}\"\n\n");
    }
    std::fs::create_dir_all(root).unwrap();
    std::fs::write(root.join("registry.toml"), registry).unwrap();
    for f in 0..FILES {
        let year = 2020 + f % 10;
        let dir = root.join(year.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = String::from("# generated\n\n");
        for e in 0..PER_FILE {
            let n = f * PER_FILE + e;
            let month = 1 + n % 12;
            let day = 1 + n % 28;
            let due = match n % 3 {
                0 => format!("{year}-{month:02}-{day:02}"),
                1 => format!("{year}-{month:02}-{day:02}T18:00:00"),
                _ => format!("{year}-{month:02}-{day:02}T12:00:00Z"),
            };
            text += &format!(
                r#"[[deadline]]
id = "deadline-{n}"
title = "Альтернативный доклад номер {n} для комитета"
mechanism = "{}"
topics = ["{}", "{}"]
due = {due}
timezone = "{}"
country = "BY"
body = "Session {n}"
url = "https://www.ohchr.org/en/calls-for-input/{n}"
submit_to = "submissions-{n}@example.org"
status = "{}"
remind_days = [30, 7, 1]
description = """
Описание дедлайна {n}.
Second line of the description.
"""

"#,
                MECHANISMS[n % MECHANISMS.len()],
                TOPICS[n % TOPICS.len()],
                TOPICS[(n + 3) % TOPICS.len()],
                ZONES[n % ZONES.len()],
                ["confirmed", "tentative", "cancelled"][n % 3],
            );
        }
        std::fs::write(dir.join(format!("file-{f:04}.toml")), text).unwrap();
    }
}

fn repository() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("deadlines");
    generate(&root);
    let loaded = mechcal::store::load(&root, Tz::Europe__Zurich);
    assert_eq!(loaded.errors(), 0, "generated data must be valid");
    assert_eq!(
        loaded.catalog.as_ref().unwrap().deadlines().len(),
        FILES * PER_FILE
    );
    (tmp, root)
}

/// The whole job of `mechcal check`: walk, read, parse, validate, build the catalog.
#[divan::bench(sample_count = 30)]
fn load_10k_deadlines_1k_files(bencher: divan::Bencher) {
    let (_tmp, root) = repository();
    bencher.bench(|| mechcal::store::load(divan::black_box(&root), Tz::Europe__Zurich));
}

/// Validation alone, on texts already in memory (no file-system work).
#[divan::bench(sample_count = 30)]
fn validate_10k_deadlines_in_memory(bencher: divan::Bencher) {
    let (_tmp, root) = repository();
    bencher
        .with_inputs(|| mechcal::store::scan(&root))
        .bench_values(|sources| mechcal::store::validate(sources, Tz::Europe__Zurich));
}
