//! The data generator shared by the benchmarks: a registry and deadline
//! files with every kind of `due`, most optional fields, Cyrillic titles and
//! multi-line descriptions.

use std::path::Path;

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

/// Writes a registry and `files` deadline files of `per_file` entries each,
/// spread over year directories, with every kind of `due` and most optional
/// fields, Cyrillic titles and multi-line descriptions.
pub fn generate(root: &Path, files: usize, per_file: usize) {
    let mut registry = String::new();
    for m in MECHANISMS {
        registry += &format!("[mechanisms.{m}]\nname = \"{}\"\nfull_name = \"Committee {m}\"\nurl = \"https://www.ohchr.org/en/treaty-bodies/{m}\"\n\n", m.to_uppercase());
    }
    for t in TOPICS {
        registry += &format!("[topics.{t}]\nen = \"Topic {t}\"\nru = \"Тема {t}\"\n\n");
    }
    std::fs::create_dir_all(root).unwrap();
    std::fs::write(root.join("registry.toml"), registry).unwrap();
    for f in 0..files {
        let year = 2020 + f % 10;
        let dir = root.join(year.to_string());
        std::fs::create_dir_all(&dir).unwrap();
        let mut text = String::from("# generated\n\n");
        for e in 0..per_file {
            let n = f * per_file + e;
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
