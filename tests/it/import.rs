//! `mechcal import` on tables written by real spreadsheet libraries
//! (openpyxl for XLSX, odfpy for ODS, Python's csv in Windows-1251): the
//! same 200 rows give the same files from each, which pass `check` and
//! show in `list` and the feeds; a second import adds nothing; bad rows
//! are listed with their cell; nothing half-written is left behind.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::support as common;
use common::{mechcal_in as mechcal, root, sample_repository, text};

fn python() -> PathBuf {
    common::python_with(&["openpyxl==3.1.5", "odfpy==1.4.1"])
}

/// Every file under `dir`, relative, with its text.
fn files(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in walk(dir) {
        let rel = entry.strip_prefix(dir).unwrap().to_path_buf();
        out.push((rel, fs::read_to_string(&entry).unwrap()));
    }
    out.sort();
    out
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(walk(&path));
        } else {
            out.push(path);
        }
    }
    out
}

#[test]
fn a_realistic_table_imports_alike_from_xlsx_ods_and_csv() {
    let tmp = tempfile::tempdir().unwrap();
    let tables = tmp.path().join("tables");
    let made = Command::new(python())
        .arg(root().join("tests/import/make_tables.py"))
        .arg(&tables)
        .status()
        .unwrap();
    assert!(made.success(), "make_tables.py: {made}");
    let sample = files(&root().join("deadlines"));

    let mut imported: Vec<Vec<(PathBuf, String)>> = Vec::new();
    for format in ["xlsx", "ods", "csv"] {
        let dir = tmp.path().join(format);
        let config = sample_repository(&dir);
        let cfg = config.to_str().unwrap();
        let table = tables.join(format!("table.{format}"));
        let out = mechcal(&dir, &["--config", cfg, "import", table.to_str().unwrap()]);
        let (stdout, stderr) = (text(&out.stdout), text(&out.stderr));
        assert_eq!(out.status.code(), Some(0), "{format}: {stdout}{stderr}");
        assert!(
            stdout.contains("\n200 rows of 200 imported\n"),
            "{format}: {stdout}"
        );
        assert!(
            stdout.ends_with("check: 218 deadlines in 21 files, valid\n"),
            "{format}: {stdout}"
        );
        assert!(
            stderr.contains("note: column A (“№”) is not imported"),
            "{stderr}"
        );
        assert_eq!(
            stderr.contains("is not UTF-8: read as Windows-1251"),
            format == "csv",
            "{stderr}"
        );
        // The sample's files are untouched.
        let now = files(&dir.join("deadlines"));
        for (rel, before) in &sample {
            let after = &now.iter().find(|(r, _)| r == rel).unwrap().1;
            assert_eq!(before, after, "{}", rel.display());
        }
        // What was added, without the line that names the table.
        let added: Vec<(PathBuf, String)> = now
            .into_iter()
            .filter(|(rel, _)| !sample.iter().any(|(r, _)| r == rel))
            .map(|(rel, t)| (rel, t.split_once('\n').unwrap().1.to_string()))
            .collect();
        assert_eq!(added.len(), 12, "{format}: {added:?}");
        imported.push(added);

        // check, list and the feeds see the rows.
        let check = mechcal(&dir, &["--config", cfg, "check"]);
        assert_eq!(check.status.code(), Some(0), "{}", text(&check.stderr));
        let list = mechcal(
            &dir,
            &[
                "--config",
                cfg,
                "list",
                "--now",
                "2027-01-01T00:00:00Z",
                "--mechanism",
                "cat",
            ],
        );
        let listed = text(&list.stdout);
        assert!(
            listed.contains("2027-01-22 12:00 CET   in 21 days   CAT        Информация о насильственных исчезновениях № 4"),
            "{listed}"
        );
        let render = mechcal(
            &dir,
            &[
                "--config",
                cfg,
                "render",
                "--out",
                "site",
                "--now",
                "2027-01-01T00:00:00Z",
            ],
        );
        assert_eq!(render.status.code(), Some(0), "{}", text(&render.stderr));
        // Unfolded (RFC 5545 §3.1).
        let feed = fs::read_to_string(dir.join("site/calendar.ics"))
            .unwrap()
            .replace("\r\n ", "");
        let summaries = feed
            .lines()
            .filter(|l| l.starts_with("SUMMARY:") && l.contains('№'))
            .count();
        // The rows due within the feed's horizon (a year by default).
        assert!(summaries >= 100, "{summaries} imported events in the feed");
        assert!(feed.contains(
            "UID:informatsiya-o-nasilstvennykh-ischeznoveniyakh-4-2027@calendar.example.org"
        ));

        // A second import adds nothing.
        let again = mechcal(&dir, &["--config", cfg, "import", table.to_str().unwrap()]);
        assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
        assert!(
            text(&again.stdout).starts_with("0 rows of 200 imported, 200 there already"),
            "{}",
            text(&again.stdout)
        );
        assert_eq!(files(&dir.join("deadlines")).len(), sample.len() + 12);
    }
    assert_eq!(imported[0], imported[1], "XLSX and ODS differ");
    assert_eq!(imported[0], imported[2], "XLSX and CSV differ");
}

#[test]
fn bad_rows_are_listed_by_cell_and_nothing_half_written_is_left() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let config = sample_repository(dir);
    let cfg = config.to_str().unwrap();
    fs::write(
        dir.join("t.csv"),
        "title,topics,mechanism,due,url\n\
         Good,women,CEDAW,2027-03-01,https://www.ohchr.org/\n\
         ,women,CEDAW,2027-03-01,\n\
         Typo,wmen,CEDAW,2027-03-01,\n\
         Ambiguous,women,CEDAW,03/04/2027,\n\
         Link,women,CEDAW,2027-03-01,ftp://example.org/\n\
         Mechanism,women,CEDAV,2027-03-01,\n",
    )
    .unwrap();
    let sample = files(&dir.join("deadlines"));

    // --dry-run prints the file and writes nothing.
    let dry = mechcal(dir, &["--config", cfg, "import", "t.csv", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(1));
    let said = text(&dry.stdout);
    assert!(said.starts_with("== "), "{said}");
    assert!(
        said.contains("/deadlines/cedaw/2027.toml\n# Imported from t.csv"),
        "{said}"
    );
    assert!(
        said.contains("1 row of 6 to import, 5 not imported"),
        "{said}"
    );
    assert_eq!(files(&dir.join("deadlines")), sample);

    let out = mechcal(dir, &["--config", cfg, "import", "t.csv"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    for line in [
        "t.csv:A3: error: the row has no title",
        "t.csv:B4: error: no topic in registry.toml is called “wmen”\n  help: did you mean `women`?",
        "t.csv:D5: error: `03/04/2027` is ambiguous: 3 April 2027 or 4 March 2027",
        "t.csv:E6: error: `url` must be an http or https link",
        "t.csv:C7: error: no mechanism in registry.toml is called “CEDAV”\n  help: did you mean `cedaw`?",
    ] {
        assert!(stderr.contains(line), "{line}\n{stderr}");
    }
    let written = fs::read_to_string(dir.join("deadlines/cedaw/2027.toml")).unwrap();
    assert!(written.contains("id = \"good-2027\"\ntitle = \"Good\"\nmechanism = \"cedaw\"\ntopics = [\"women\"]\ndue = 2027-03-01\n"), "{written}");
    // `--date-order` settles the ambiguous row.
    fs::write(
        dir.join("a.csv"),
        "title,topics,mechanism,due\nAmbiguous,women,CEDAW,03/04/2027\n",
    )
    .unwrap();
    let ordered = mechcal(
        dir,
        &["--config", cfg, "import", "a.csv", "--date-order", "mdy"],
    );
    assert_eq!(ordered.status.code(), Some(0), "{}", text(&ordered.stderr));
    assert!(
        fs::read_to_string(dir.join("deadlines/cedaw/2027-2.toml"))
            .unwrap()
            .contains("due = 2027-03-04\n"),
        "a file the repository has is never written over"
    );

    // A file in the way part-way through: every file written goes again.
    let before = files(&dir.join("deadlines"));
    fs::write(
        dir.join("two.csv"),
        "title,topics,mechanism,due\nFirst,women,CAT,2027-05-01\nSecond,women,UPR,2027-05-01\n",
    )
    .unwrap();
    fs::create_dir_all(dir.join("deadlines/upr/2027.toml")).unwrap();
    let blocked = mechcal(dir, &["--config", cfg, "import", "two.csv"]);
    assert_eq!(blocked.status.code(), Some(2));
    assert!(
        text(&blocked.stderr)
            .contains("/deadlines/upr/2027.toml: file exists\n  help: nothing was written"),
        "{}",
        text(&blocked.stderr)
    );
    assert!(
        !dir.join("deadlines/cat").exists(),
        "cat/2027.toml was taken back"
    );
    assert_eq!(files(&dir.join("deadlines")), before);
    fs::remove_dir(dir.join("deadlines/upr/2027.toml")).unwrap();

    // Tables it cannot read, and a repository with errors.
    fs::write(dir.join("old.xls"), "x").unwrap();
    fs::write(dir.join("bad.xlsx"), "not a zip").unwrap();
    for (file, error) in [
        (
            "missing.csv",
            "error: missing.csv: no such file or directory",
        ),
        (
            "old.xls",
            "error: old.xls: is an old Excel file (.xls)\n  help: save it as .xlsx, .ods or .csv",
        ),
        ("bad.xlsx", "error: bad.xlsx: cannot be read as a workbook"),
        ("c.toml", "error: c.toml: is not a table mechcal reads"),
    ] {
        let out = mechcal(dir, &["--config", cfg, "import", file]);
        assert_eq!(out.status.code(), Some(2), "{file}");
        assert!(
            text(&out.stderr).contains(error),
            "{file}: {}",
            text(&out.stderr)
        );
    }
    let no_columns = dir.join("cols.csv");
    fs::write(&no_columns, "Что;Когда\nx;2027-01-01\n").unwrap();
    let out = mechcal(dir, &["--config", cfg, "import", "cols.csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr)
            .contains("error: cols.csv:1: no column holds `title`, `due`, `topics`, `mechanism`"),
        "{}",
        text(&out.stderr)
    );

    fs::write(dir.join("deadlines/broken.toml"), "[[deadline]]\nid = 1\n").unwrap();
    let before = files(&dir.join("deadlines"));
    let refused = mechcal(dir, &["--config", cfg, "import", "two.csv"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("has errors: nothing imported"),
        "{}",
        text(&refused.stderr)
    );
    assert_eq!(files(&dir.join("deadlines")), before);
}
