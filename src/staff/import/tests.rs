//! [`plan`] on in-memory tables against a small registry.

use super::*;

use crate::staff::test_registry as registry;

fn table(rows: &[&[&str]]) -> Table {
    Table {
        prefix: "t.csv:".into(),
        rows: rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|c| {
                        if c.is_empty() {
                            Cell::Empty
                        } else {
                            Cell::Text(c.to_string())
                        }
                    })
                    .collect()
            })
            .collect(),
        first_row: 1,
        first_column: 0,
        notes: vec![],
    }
}

fn texts(plan: &Plan) -> Vec<(String, String)> {
    plan.files
        .iter()
        .map(|f| (f.rel.display().to_string(), f.text("t.csv")))
        .collect()
}

#[test]
fn rows_become_files_per_mechanism_and_year() {
    let t = table(&[
        &[
            "Название",
            "Темы",
            "Механизм",
            "Срок",
            "Ссылка",
            "Примечание кадров",
        ],
        &[
            "Альтернативный доклад",
            "Дискриминация; женщины",
            "CERD",
            "15.07.2024",
            "https://www.ohchr.org/",
            "x",
        ],
        &["", "", "", "", "", ""],
        &[
            "Обзор",
            "women",
            "upr",
            "1 апреля 2025 г. 12:00 по женевскому времени",
            "",
            "",
        ],
        &[
            "Альтернативный доклад",
            "women",
            "Комитет по ликвидации расовой дискриминации",
            "2024-09-01",
            "",
            "",
        ],
    ]);
    let plan = plan(&t, &registry(), &Existing::default(), &Options::default()).unwrap();
    assert_eq!(plan.rows, 3);
    assert!(plan.skipped.is_empty(), "{:?}", plan.skipped);
    assert_eq!(
        plan.notes,
        ["column F (“Примечание кадров”) is not imported: it names no deadline key"]
    );
    insta::assert_snapshot!(texts(&plan)
        .iter()
        .map(|(f, t)| format!("== {f}\n{t}"))
        .collect::<String>());
}

#[test]
fn bad_rows_are_listed_with_their_cell_and_the_rest_imported() {
    let t = table(&[
        &["title", "topics", "due", "mechanism"],
        &["Good", "women", "2024-02-15", ""],
        &["", "women", "2024-02-15", ""],
        &["No topic", "", "2024-02-15", ""],
        &["Bad topic", "wmen", "2024-02-15", ""],
        &["Bad date", "women", "03/04/2024", ""],
        &["Bad mechanism", "women", "2024-02-15", "CERT"],
    ]);
    let options = Options {
        mechanism: Some("upr".into()),
        ..Options::default()
    };
    let plan = plan(&t, &registry(), &Existing::default(), &options).unwrap();
    let skipped: Vec<String> = plan
        .skipped
        .iter()
        .map(|s| format!("{}: {}", s.place, s.reason.lines().next().unwrap()))
        .collect();
    assert_eq!(
        skipped,
        [
            "t.csv:A3: the row has no title",
            "t.csv:B4: the row has no topics",
            "t.csv:B5: no topic in registry.toml is called “wmen”",
            "t.csv:C6: `03/04/2024` is ambiguous: 3 April 2024 or 4 March 2024",
            "t.csv:D7: no mechanism in registry.toml is called “CERT”",
        ]
    );
    assert_eq!(plan.files.len(), 1);
    assert_eq!(plan.files[0].rel, PathBuf::from("upr/2024.toml"));
    assert_eq!(plan.files[0].entries[0].id, "good-2024");
}

#[test]
fn ids_and_files_the_repository_has_are_never_reused() {
    let t = table(&[
        &["title", "topics", "due"],
        &["Report", "women", "2024-02-15"],
        &["Report", "women", "2024-03-15"],
        &["Old", "women", "2024-03-15"],
    ]);
    let existing = Existing {
        ids: [("old-2024".to_string(), PathBuf::from("2024/upr.toml"))].into(),
        files: [PathBuf::from("upr/2024.toml")].into(),
    };
    let options = Options {
        mechanism: Some("UPR".into()),
        ..Options::default()
    };
    let plan = plan(&t, &registry(), &existing, &options).unwrap();
    let ids: Vec<&str> = plan.files[0]
        .entries
        .iter()
        .map(|e| e.id.as_str())
        .collect();
    assert_eq!(ids, ["report-2024", "report-2024-2"]);
    assert_eq!(plan.files[0].rel, PathBuf::from("upr/2024-2.toml"));
    assert_eq!(
        plan.files[0].instead_of,
        Some(PathBuf::from("upr/2024.toml"))
    );
    assert_eq!(plan.skipped.len(), 1);
    assert!(!plan.skipped[0].error);
    assert_eq!(
        plan.skipped[0].reason,
        "`old-2024` is in the repository already (2024/upr.toml): not imported again"
    );
}

#[test]
fn a_table_without_the_needed_columns_is_refused_whole() {
    for (rows, options, error) in [
        (
            &[&["Что", "Когда"][..], &["x", "y"]][..],
            Options::default(),
            "t.csv:1: no column holds `title`, `due`, `topics`, `mechanism`",
        ),
        (
            &[&["title", "topics", "due"][..]],
            Options::default(),
            "give rows without a mechanism one with `--mechanism SLUG`",
        ),
        (
            &[&["title", "topics", "due"][..]],
            Options {
                mechanism: Some("cat".into()),
                ..Options::default()
            },
            "--mechanism: no mechanism in registry.toml is called “cat”",
        ),
        (&[][..], Options::default(), "t.csv: the table is empty"),
        (
            &[&["title", "title"][..]],
            Options::default(),
            "t.csv:1: columns A and B both hold `title`",
        ),
    ] {
        let got = plan(&table(rows), &registry(), &Existing::default(), &options).unwrap_err();
        assert!(got.0.contains(error), "{}", got.0);
    }
    // Named on the command line instead.
    let t = table(&[
        &["Что", "Темы", "Когда"],
        &["Report", "women", "2024-02-15"],
    ]);
    let options = Options {
        mechanism: Some("upr".into()),
        columns: Some("title=A,due=C".into()),
        ..Options::default()
    };
    assert_eq!(
        plan(&t, &registry(), &Existing::default(), &options)
            .unwrap()
            .files
            .len(),
        1
    );
}

#[test]
fn entry_lines_point_at_each_row() {
    let t = table(&[
        &["title", "topics", "due", "description"],
        &["A", "women", "2024-02-15", "two\nlines"],
        &["B", "women", "2024-02-16", ""],
    ]);
    let options = Options {
        mechanism: Some("upr".into()),
        ..Options::default()
    };
    let plan = plan(&t, &registry(), &Existing::default(), &options).unwrap();
    let file = &plan.files[0];
    let text = file.text("t.csv");
    let lines: Vec<&str> = text.lines().collect();
    for (start, end, row) in file.entry_lines() {
        assert_eq!(lines[start - 1], "[[deadline]]", "{text}");
        let title = if row == 1 {
            "title = \"A\""
        } else {
            "title = \"B\""
        };
        assert!(lines[start..end].contains(&title), "{text}");
        assert!(lines.get(end).is_none_or(|l| l.is_empty()), "{text}");
    }
}
