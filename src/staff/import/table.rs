//! A spreadsheet read into a grid of cells, each knowing its place
//! (`table.xlsx:Sheet1!C7`, `table.csv:C7`): CSV (the delimiter among `,`
//! `;` and tab found from the first line; UTF-8 with or without a BOM, or
//! Windows-1251), XLSX and ODS (calamine). [`read`] is the only I/O;
//! [`from_csv`] and [`from_range`] are pure.

use std::path::Path;

use calamine::{Data, Reader as _};
use chrono::{NaiveDate, NaiveDateTime};

/// One cell's value, as the table holds it.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    /// A spreadsheet date cell without a time of day.
    Date(NaiveDate),
    /// A spreadsheet date cell with a time of day.
    DateTime(NaiveDateTime),
}

impl Cell {
    /// The cell as text: what a person sees in it.
    pub fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(t) => t.trim().to_string(),
            Cell::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => format!("{}", *n as i64),
            Cell::Number(n) => n.to_string(),
            Cell::Date(d) => d.to_string(),
            Cell::DateTime(d) => d.format("%Y-%m-%dT%H:%M:%S").to_string(),
        }
    }

    pub fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(t) => t.trim().is_empty(),
            _ => false,
        }
    }
}

/// A sheet: its rows of cells (row 0 is the table's first row), and how
/// to name a cell in messages.
#[derive(Debug)]
pub struct Table {
    /// `table.xlsx:Sheet1!` or `table.csv:`: a cell's place is this and
    /// its column letter and row number.
    pub prefix: String,
    pub rows: Vec<Vec<Cell>>,
    /// The 1-based number of `rows[0]` in the file.
    pub first_row: usize,
    /// The 0-based column of `rows[_][0]` in the file.
    pub first_column: usize,
    /// What was noticed while reading (`read as Windows-1251`).
    pub notes: Vec<String>,
}

impl Table {
    /// `table.xlsx:Sheet1!C7` for `rows[row][column]`.
    pub fn place(&self, row: usize, column: usize) -> String {
        format!(
            "{}{}{}",
            self.prefix,
            column_letters(self.first_column + column),
            self.first_row + row
        )
    }

    /// `table.xlsx:Sheet1!7` for a whole row.
    pub fn row_place(&self, row: usize) -> String {
        format!("{}{}", self.prefix, self.first_row + row)
    }

    /// The letters of the column `index` (0 is `A`), as spreadsheets show it.
    pub fn column_name(&self, index: usize) -> String {
        column_letters(self.first_column + index)
    }
}

/// `A`, `B`, … `Z`, `AA`, … for a 0-based column.
pub fn column_letters(mut index: usize) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (index % 26) as u8);
        if index < 26 {
            break;
        }
        index = index / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The 0-based column of `C` or `AB`; `None` for anything else.
pub fn column_index(letters: &str) -> Option<usize> {
    if letters.is_empty() || letters.len() > 3 {
        return None;
    }
    let mut n = 0usize;
    for c in letters.chars() {
        let c = c.to_ascii_uppercase();
        if !c.is_ascii_uppercase() {
            return None;
        }
        n = n * 26 + (c as usize - 'A' as usize + 1);
    }
    Some(n - 1)
}

/// Why a table cannot be read.
#[derive(Debug, thiserror::Error)]
#[error("{shown}: {reason}")]
pub struct ReadError {
    pub shown: String,
    pub reason: String,
    pub help: Option<String>,
}

/// Reads `path`: CSV, XLSX or ODS by its extension (`.csv`, `.tsv`,
/// `.txt`, `.xlsx`, `.xlsm`, `.ods`); of a workbook, the sheet named
/// `sheet` or else the first.
pub fn read(path: &Path, sheet: Option<&str>) -> Result<Table, ReadError> {
    let shown = path.display().to_string();
    let fail = |reason: String, help: Option<&str>| ReadError {
        shown: shown.clone(),
        reason,
        help: help.map(String::from),
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    match ext.as_str() {
        "csv" | "tsv" | "txt" => {
            if sheet.is_some() {
                return Err(fail(
                    "a CSV file has no sheets".into(),
                    Some("leave `--sheet` out"),
                ));
            }
            let bytes = std::fs::read(path)
                .map_err(|e| fail(crate::load::deadlines::io_reason(&e), None))?;
            from_csv(&shown, &bytes).map_err(|reason| fail(reason, None))
        }
        "xlsx" | "xlsm" | "ods" => {
            let mut book = calamine::open_workbook_auto(path)
                .map_err(|e| fail(format!("cannot be read as a workbook: {e}"), None))?;
            let names = book.sheet_names();
            let name = match sheet {
                Some(s) => names
                    .iter()
                    .find(|n| n.as_str() == s)
                    .cloned()
                    .ok_or_else(|| {
                        fail(
                            format!("has no sheet `{s}`"),
                            Some(&format!("its sheets: {}", names.join(", "))),
                        )
                    })?,
                None => names
                    .first()
                    .cloned()
                    .ok_or_else(|| fail("has no sheet".into(), None))?,
            };
            let range = book
                .worksheet_range(&name)
                .map_err(|e| fail(format!("sheet `{name}` cannot be read: {e}"), None))?;
            Ok(from_range(&format!("{shown}:{name}!"), &range))
        }
        "xls" => Err(fail(
            "is an old Excel file (.xls)".into(),
            Some("save it as .xlsx, .ods or .csv and import that"),
        )),
        _ => Err(fail(
            "is not a table mechcal reads".into(),
            Some("give a .csv, .xlsx or .ods file"),
        )),
    }
}

/// A calamine sheet as a [`Table`]; `prefix` names it in messages.
pub fn from_range(prefix: &str, range: &calamine::Range<Data>) -> Table {
    let (first_row, first_column) = range.start().unwrap_or((0, 0));
    let rows = range
        .rows()
        .map(|row| row.iter().map(cell).collect())
        .collect();
    Table {
        prefix: prefix.to_string(),
        rows,
        first_row: first_row as usize + 1,
        first_column: first_column as usize,
        notes: Vec::new(),
    }
}

fn cell(data: &Data) -> Cell {
    match data {
        Data::Empty => Cell::Empty,
        Data::String(s) => Cell::Text(s.clone()),
        Data::Int(i) => Cell::Number(*i as f64),
        Data::Float(f) => Cell::Number(*f),
        Data::Bool(b) => Cell::Text(b.to_string()),
        Data::DateTime(d) => match d.as_datetime() {
            Some(t) if t.time() == chrono::NaiveTime::MIN => Cell::Date(t.date()),
            Some(t) => Cell::DateTime(t),
            None => Cell::Text(d.as_f64().to_string()),
        },
        // ODS: `2024-02-15` or `2024-02-15T12:00:00`.
        Data::DateTimeIso(s) => {
            if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
                Cell::Date(d)
            } else if let Ok(t) = NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f") {
                if t.time() == chrono::NaiveTime::MIN {
                    Cell::Date(t.date())
                } else {
                    Cell::DateTime(t)
                }
            } else {
                Cell::Text(s.clone())
            }
        }
        Data::DurationIso(s) => Cell::Text(s.clone()),
        Data::Error(e) => Cell::Text(format!("#{e:?}")),
    }
}

/// CSV bytes as a [`Table`] named `shown`: UTF-8 (a BOM is dropped), or
/// else Windows-1251; the delimiter is the one among `,` `;` and tab that
/// the first line holds most of outside quotes.
pub fn from_csv(shown: &str, bytes: &[u8]) -> Result<Table, String> {
    let mut notes = Vec::new();
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t.to_string(),
        Err(_) => {
            let (text, had_errors) = encoding_rs::WINDOWS_1251.decode_without_bom_handling(bytes);
            if had_errors || !looks_cyrillic(&text) {
                return Err(
                    "is neither UTF-8 nor Windows-1251 text: save it as \"CSV UTF-8\"".into(),
                );
            }
            notes.push(format!("{shown} is not UTF-8: read as Windows-1251"));
            text.into_owned()
        }
    };
    let delimiter = delimiter(&text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| format!("is not valid CSV: {e}"))?;
        rows.push(
            record
                .iter()
                .map(|f| {
                    if f.trim().is_empty() {
                        Cell::Empty
                    } else {
                        Cell::Text(f.to_string())
                    }
                })
                .collect(),
        );
    }
    Ok(Table {
        prefix: format!("{shown}:"),
        rows,
        first_row: 1,
        first_column: 0,
        notes,
    })
}

/// Whether text decoded as Windows-1251 reads as Cyrillic rather than as
/// noise: most of its non-ASCII letters are Cyrillic.
fn looks_cyrillic(text: &str) -> bool {
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return false;
    }
    let (mut cyrillic, mut other) = (0usize, 0usize);
    for c in text.chars().filter(|c| !c.is_ascii()) {
        if ('\u{0400}'..='\u{04FF}').contains(&c) {
            cyrillic += 1;
        } else if c.is_alphabetic() {
            other += 1;
        }
    }
    cyrillic > 0 && other * 10 <= cyrillic
}

/// The delimiter the first record holds most of, outside quotes.
fn delimiter(text: &str) -> u8 {
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for c in text.chars() {
        match c {
            '"' => quoted = !quoted,
            '\n' if !quoted => break,
            ',' if !quoted => counts[0] += 1,
            ';' if !quoted => counts[1] += 1,
            '\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let best = (0..3).max_by_key(|&i| (counts[i], 3 - i)).unwrap_or(0);
    [b',', b';', b'\t'][best]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_named_as_spreadsheets_name_them() {
        for (i, name) in [
            (0, "A"),
            (2, "C"),
            (25, "Z"),
            (26, "AA"),
            (27, "AB"),
            (701, "ZZ"),
            (702, "AAA"),
        ] {
            assert_eq!(column_letters(i), name);
            assert_eq!(column_index(name), Some(i));
        }
        assert_eq!(column_index("c"), Some(2));
        for bad in ["", "1", "A1", "ABCD", "Ж"] {
            assert_eq!(column_index(bad), None, "{bad}");
        }
    }

    #[test]
    fn csv_in_any_delimiter_and_encoding() {
        let texts: [(&str, Vec<u8>); 5] = [
            ("comma", b"title,due\n\"A, b\",2024-02-15\n".to_vec()),
            ("semicolon", b"title;due\n\"A; b\";2024-02-15\n".to_vec()),
            ("tab", b"title\tdue\nA b\t2024-02-15\n".to_vec()),
            ("bom", b"\xEF\xBB\xBFtitle,due\nx,2024-02-15\n".to_vec()),
            (
                "windows-1251",
                encoding_rs::WINDOWS_1251
                    .encode("Название;Срок\nДоклад;15.02.2024\n")
                    .0
                    .into_owned(),
            ),
        ];
        for (what, bytes) in texts {
            let t = from_csv("t.csv", &bytes).unwrap();
            assert_eq!(t.rows.len(), 2, "{what}");
            assert_eq!(t.rows[0].len(), 2, "{what}: {:?}", t.rows[0]);
            assert_eq!(t.place(1, 1), "t.csv:B2");
            if what == "windows-1251" {
                assert_eq!(t.rows[0][0], Cell::Text("Название".into()));
                assert_eq!(t.notes, ["t.csv is not UTF-8: read as Windows-1251"]);
            }
            if what == "bom" {
                assert_eq!(t.rows[0][0], Cell::Text("title".into()));
            }
        }
        assert_eq!(
            from_csv("t.csv", b"title\n\xff\xfe\x00garbage\x81\n").unwrap_err(),
            "is neither UTF-8 nor Windows-1251 text: save it as \"CSV UTF-8\""
        );
    }
}
