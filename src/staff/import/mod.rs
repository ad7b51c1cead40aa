//! `mechcal import`: a table of deadlines (CSV, XLSX, ODS) turned into
//! deadline files, one per mechanism and year
//! (`<mechanism>/<year>.toml`, `<mechanism>/open.toml` for open calls).
//!
//! [`table`] reads the file (the only I/O here); [`columns`] finds what
//! each column holds; [`names`] matches topics and mechanisms against the
//! registry; [`dates`] reads the date forms tables hold; [`ids`] makes ids
//! from titles. [`plan`] is pure: the table, the registry and what the
//! repository already has in, the files to write and every row that
//! cannot be imported (with its place and reason) out. It never reuses an
//! id or a file name the repository has: a row whose id exists is
//! reported and left out (importing the same table twice adds nothing); a
//! file name taken moves to the next free one (`2024-2.toml`).

pub mod columns;
pub mod dates;
pub mod ids;
pub mod names;
pub mod table;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;

use columns::{Columns, Field};
use dates::{DateOrder, When};
use names::Names;
use table::{Cell, Table};

use crate::model::registry::Registry;
use crate::staff::toml_text::{deadline_block, multiline, quoted};

/// What the command line adds to the table.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// The mechanism of rows whose table has no mechanism column, or whose
    /// cell is empty.
    pub mechanism: Option<String>,
    /// `--columns title=A,due=D`.
    pub columns: Option<String>,
    pub date_order: Option<DateOrder>,
}

/// What the repository already holds.
#[derive(Debug, Default)]
pub struct Existing {
    /// Entry id → the file (relative) that defines it.
    pub ids: HashMap<String, PathBuf>,
    /// Every file, relative to the repository's root.
    pub files: HashSet<PathBuf>,
}

/// One row, as it will be written.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    /// The row's index in the table (see [`Table::row_place`]).
    pub row: usize,
    pub id: String,
    pub mechanism: String,
    pub year: Option<i32>,
    /// `key = value` lines after the id's, in the order of a deadline
    /// file, values as TOML.
    pub lines: Vec<(&'static str, String)>,
}

/// A file to write.
#[derive(Debug, Clone, PartialEq)]
pub struct NewFile {
    /// Relative to the repository's root.
    pub rel: PathBuf,
    /// The file `rel` would have been, had the repository not had it.
    pub instead_of: Option<PathBuf>,
    pub entries: Vec<Entry>,
}

/// A row left out, and why: an error (it cannot be imported) or a
/// warning (it is there already).
#[derive(Debug, Clone, PartialEq)]
pub struct Skipped {
    /// `table.xlsx:Sheet1!C7`.
    pub place: String,
    pub row: usize,
    /// The message, possibly followed by `\n  help: …`.
    pub reason: String,
    pub error: bool,
}

/// The result of [`plan`].
#[derive(Debug, Default)]
pub struct Plan {
    pub files: Vec<NewFile>,
    /// Which column holds which key.
    pub columns: BTreeMap<Field, usize>,
    pub skipped: Vec<Skipped>,
    /// Columns left out, and other notes for the user.
    pub notes: Vec<String>,
    /// Rows read (the header and empty rows not counted).
    pub rows: usize,
}

/// Why nothing can be planned.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("{0}")]
pub struct TableError(pub String);

/// Plans the import of `table`'s rows. The first non-empty row is the
/// header.
pub fn plan(
    table: &Table,
    registry: &Registry,
    existing: &Existing,
    options: &Options,
) -> Result<Plan, TableError> {
    let Some(header_row) = table
        .rows
        .iter()
        .position(|r| r.iter().any(|c| !c.is_empty()))
    else {
        return Err(TableError(format!(
            "{}: the table is empty",
            table.prefix.trim_end_matches([':', '!'])
        )));
    };
    let mut cols = columns::recognise(&table.rows[header_row])
        .map_err(|e| TableError(format!("{}: {e}", table.row_place(header_row))))?;
    if let Some(spec) = &options.columns {
        columns::named(spec, &mut cols, 0).map_err(|e| TableError(format!("--columns: {e}")))?;
    }
    let mechanisms = Names::mechanisms(registry);
    let topics = Names::topics(registry);
    let default_mechanism = match &options.mechanism {
        Some(m) => Some(
            mechanisms
                .cell(m)
                .ok()
                .and_then(|v| v.into_iter().next())
                .ok_or_else(|| {
                    let why = mechanisms.one(m).err().unwrap_or_default();
                    TableError(format!("--mechanism: {why}"))
                })?,
        ),
        None => None,
    };
    let missing: Vec<&str> = [Field::Title, Field::Due, Field::Topics]
        .into_iter()
        .filter(|f| !cols.fields.contains_key(f))
        .map(Field::key)
        .chain(
            (default_mechanism.is_none() && !cols.fields.contains_key(&Field::Mechanism))
                .then_some("mechanism"),
        )
        .collect();
    if !missing.is_empty() {
        return Err(TableError(format!(
            "{}: no column holds {}\n  help: name the columns in the header row (title, topics, mechanism, due — or название, темы, механизм, срок), or with `--columns title=A,topics=B,due=C`{}",
            table.row_place(header_row),
            missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "),
            if missing.contains(&"mechanism") { "; give rows without a mechanism one with `--mechanism SLUG`" } else { "" }
        )));
    }
    let mut plan = Plan {
        columns: cols.fields.clone(),
        ..Plan::default()
    };
    plan.notes.extend(table.notes.iter().cloned());
    for (i, header) in &cols.ignored {
        plan.notes.push(format!(
            "column {} (“{header}”) is not imported: it names no deadline key",
            table.column_name(*i)
        ));
    }
    let row_ctx = RowContext {
        table,
        cols: &cols,
        mechanisms: &mechanisms,
        topics: &topics,
        default_mechanism: default_mechanism.as_deref(),
        order: options.date_order,
    };
    let mut taken: HashSet<String> = HashSet::new();
    let mut by_file: BTreeMap<(String, Option<i32>), Vec<Entry>> = BTreeMap::new();
    for r in header_row + 1..table.rows.len() {
        let cells = &table.rows[r];
        if cols
            .fields
            .values()
            .all(|&c| cells.get(c).is_none_or(Cell::is_empty))
        {
            continue;
        }
        plan.rows += 1;
        let mut entry = match row_ctx.entry(r) {
            Ok(e) => e,
            Err((column, reason)) => {
                plan.skipped.push(Skipped {
                    place: column.map_or_else(|| table.row_place(r), |c| table.place(r, c)),
                    row: r,
                    reason,
                    error: true,
                });
                continue;
            }
        };
        if let Some(file) = existing.ids.get(&entry.id) {
            plan.skipped.push(Skipped {
                place: table.row_place(r),
                row: r,
                reason: format!(
                    "`{}` is in the repository already ({}): not imported again",
                    entry.id,
                    file.display()
                ),
                error: false,
            });
            continue;
        }
        if cols.fields.contains_key(&Field::Id) && taken.contains(&entry.id) {
            plan.skipped.push(Skipped {
                place: table.place(r, cols.fields[&Field::Id]),
                row: r,
                reason: format!("the id `{}` is on an earlier row too", entry.id),
                error: true,
            });
            continue;
        }
        entry.id = ids::unique(&entry.id, |id| {
            taken.contains(id) || existing.ids.contains_key(id)
        });
        taken.insert(entry.id.clone());
        by_file
            .entry((entry.mechanism.clone(), entry.year))
            .or_default()
            .push(entry);
    }
    for ((mechanism, year), entries) in by_file {
        let stem = year.map_or_else(|| "open".to_string(), |y| y.to_string());
        let wanted = PathBuf::from(&mechanism).join(format!("{stem}.toml"));
        let mut rel = wanted.clone();
        let mut n = 2;
        while existing.files.contains(&rel) {
            rel = PathBuf::from(&mechanism).join(format!("{stem}-{n}.toml"));
            n += 1;
        }
        plan.files.push(NewFile {
            instead_of: (rel != wanted).then_some(wanted),
            rel,
            entries,
        });
    }
    Ok(plan)
}

struct RowContext<'a> {
    table: &'a Table,
    cols: &'a Columns,
    mechanisms: &'a Names,
    topics: &'a Names,
    default_mechanism: Option<&'a str>,
    order: Option<DateOrder>,
}

/// A row's problem: the column it is in (if one), and the reason.
type RowError = (Option<usize>, String);

impl RowContext<'_> {
    fn cell(&self, row: usize, field: Field) -> Option<(usize, &Cell)> {
        let c = *self.cols.fields.get(&field)?;
        let cell = self.table.rows[row].get(c)?;
        (!cell.is_empty()).then_some((c, cell))
    }

    /// One line of text: runs of spaces and line breaks as one space.
    fn line(&self, row: usize, field: Field) -> Option<String> {
        let (_, cell) = self.cell(row, field)?;
        Some(cell.text().split_whitespace().collect::<Vec<_>>().join(" "))
    }

    fn entry(&self, r: usize) -> Result<Entry, RowError> {
        let at = |field: Field| self.cols.fields.get(&field).copied();
        let title = self
            .line(r, Field::Title)
            .ok_or((at(Field::Title), "the row has no title".to_string()))?;
        let mechanism = match self.cell(r, Field::Mechanism) {
            Some((c, cell)) => {
                let found = self.mechanisms.cell(&cell.text()).map_err(|e| (Some(c), e))?;
                match found.as_slice() {
                    [one] => one.clone(),
                    _ => return Err((Some(c), "one mechanism per row".into())),
                }
            }
            None => self.default_mechanism.map(String::from).ok_or((
                at(Field::Mechanism),
                "the row has no mechanism\n  help: fill the cell, or give rows without one a mechanism with `--mechanism SLUG`".to_string(),
            ))?,
        };
        let topics = match self.cell(r, Field::Topics) {
            Some((c, cell)) => self.topics.cell(&cell.text()).map_err(|e| (Some(c), e))?,
            None => Vec::new(),
        };
        if topics.is_empty() {
            return Err((at(Field::Topics), "the row has no topics".into()));
        }
        let (due_col, due_cell) = self
            .cell(r, Field::Due)
            .ok_or((at(Field::Due), "the row has no date".to_string()))?;
        let due = dates::parse(due_cell, self.order).map_err(|e| (Some(due_col), e))?;
        let mut timezone = due.zone().map(String::from);
        if let Some((c, cell)) = self.cell(r, Field::Timezone) {
            let written = cell.text();
            if timezone.as_ref().is_some_and(|z| *z != written) {
                return Err((
                    Some(c),
                    format!(
                        "the zone `{written}` is not the one the date names (`{}`)",
                        timezone.unwrap_or_default()
                    ),
                ));
            }
            timezone = Some(written);
        }
        let id = match self.line(r, Field::Id) {
            Some(id) => id,
            None => ids::make(&title, due.year()),
        };
        let string = quoted;
        let list = |items: &[String]| {
            format!(
                "[{}]",
                items
                    .iter()
                    .map(|s| string(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let mut lines: Vec<(&'static str, String)> = vec![
            ("title", string(&title)),
            ("mechanism", string(&mechanism)),
            ("topics", list(&topics)),
            ("due", due.toml()),
        ];
        if let Some(z) = &timezone {
            lines.push(("timezone", string(z)));
        }
        if let Some((c, cell)) = self.cell(r, Field::Opens) {
            let opens = dates::parse(cell, self.order).map_err(|e| (Some(c), e))?;
            lines.push(("opens", opens.toml()));
        }
        for field in [
            Field::Country,
            Field::Body,
            Field::Url,
            Field::SubmitTo,
            Field::SubjectLine,
            Field::Source,
            Field::Public,
        ] {
            if let Some(v) = self.line(r, field) {
                let v = match field {
                    Field::Country => v.to_uppercase(),
                    Field::Public => v.to_lowercase(),
                    _ => v,
                };
                lines.push((field.key(), string(&v)));
            }
        }
        if let Some((_, cell)) = self.cell(r, Field::Description) {
            lines.push(("description", multiline(&cell.text())));
        }
        if let Some(v) = self.line(r, Field::Status) {
            lines.push(("status", string(&status(&v))));
        }
        for field in [Field::WordLimit, Field::PageLimit] {
            if let Some((c, cell)) = self.cell(r, field) {
                let digits: String = cell
                    .text()
                    .chars()
                    .filter(|c| !c.is_whitespace() && *c != ',')
                    .collect();
                let n: u64 = digits
                    .parse()
                    .map_err(|_| (Some(c), format!("`{}` is not a whole number", cell.text())))?;
                lines.push((field.key(), n.to_string()));
            }
        }
        for field in [Field::Languages, Field::SubmitVia] {
            if let Some(v) = self.line(r, field) {
                let items: Vec<String> = v
                    .split([',', ';', ' ', '/'])
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_lowercase)
                    .collect();
                lines.push((field.key(), list(&items)));
            }
        }
        if let Some((c, cell)) = self.cell(r, Field::Verified) {
            match dates::parse(cell, self.order).map_err(|e| (Some(c), e))? {
                When::Date(d) => lines.push(("verified", d.to_string())),
                _ => return Err((Some(c), "`verified` is a date without a time".into())),
            }
        }
        Ok(Entry {
            row: r,
            id,
            mechanism,
            year: due.year(),
            lines,
        })
    }
}

/// A status in the words tables use, as the file writes it; anything else
/// is kept for `check` to judge.
pub fn status(v: &str) -> String {
    let lower = v.to_lowercase();
    let starts = |prefixes: &[&str]| prefixes.iter().any(|p| lower.starts_with(p));
    if starts(&["confirm", "подтвержд", "пацверджан"]) {
        "confirmed".into()
    } else if starts(&["tentative", "предварит", "ориентир", "папярэдн", "арыенцір"])
    {
        "tentative".into()
    } else if starts(&["cancel", "отмен", "адменен"]) {
        "cancelled".into()
    } else {
        lower
    }
}

impl NewFile {
    /// The file's text: a comment naming the table, then each entry.
    pub fn text(&self, source: &str) -> String {
        let mut out = format!("# Imported from {source} by `mechcal import`.\n");
        for e in &self.entries {
            out.push_str(&deadline_block(&e.id, &e.lines));
        }
        out
    }

    /// The line ranges (1-based, inclusive) of each entry in
    /// [`NewFile::text`], with its row.
    pub fn entry_lines(&self) -> Vec<(usize, usize, usize)> {
        // Line 1 is the comment; each entry is a blank line, its header and
        // its keys (a `"""` value over several lines).
        let mut line = 2;
        let mut out = Vec::new();
        for e in &self.entries {
            let start = line + 1;
            let keys: usize = 1 + e
                .lines
                .iter()
                .map(|(_, v)| v.lines().count().max(1))
                .sum::<usize>();
            let end = start + keys;
            out.push((start, end, e.row));
            line = end + 1;
        }
        out
    }

    /// The row and key (`id`, `title`…; `""` for the `[[deadline]]` line)
    /// written at `line` of [`NewFile::text`].
    pub fn at_line(&self, line: usize) -> Option<(usize, &'static str)> {
        let (start, _, row) = *self
            .entry_lines()
            .iter()
            .find(|(start, end, _)| (*start..=*end).contains(&line))?;
        let e = self.entries.iter().find(|e| e.row == row)?;
        if line == start {
            return Some((row, ""));
        }
        let mut at = start + 1;
        if line == at {
            return Some((row, "id"));
        }
        for (key, value) in &e.lines {
            at += 1;
            let last = at + value.lines().count().max(1) - 1;
            if (at..=last).contains(&line) {
                return Some((row, key));
            }
            at = last;
        }
        Some((row, ""))
    }

    /// This file without the entries of `rows`.
    pub fn without(&self, rows: &HashSet<usize>) -> NewFile {
        NewFile {
            entries: self
                .entries
                .iter()
                .filter(|e| !rows.contains(&e.row))
                .cloned()
                .collect(),
            ..self.clone()
        }
    }
}

#[cfg(test)]
mod tests;
