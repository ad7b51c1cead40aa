//! Which column holds what: recognised from the header row in English,
//! Russian or Belarusian (`title`, `название`, `назва`…), or named with
//! `--columns title=A,due=D`. Pure.

use std::collections::BTreeMap;

use super::table::{column_index, Cell};

/// What a column may hold: a deadline key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Field {
    Id,
    Title,
    Mechanism,
    Topics,
    Due,
    Opens,
    Timezone,
    Country,
    Body,
    Url,
    SubmitTo,
    Description,
    Status,
    WordLimit,
    PageLimit,
    Languages,
    SubmitVia,
    SubjectLine,
    Public,
    Verified,
    Source,
}

/// Each field, its key in a deadline file, and the header words that name
/// it (compared after [`normalise`]).
pub const FIELDS: &[(Field, &str, &[&str])] = &[
    (Field::Id, "id", &["id", "идентификатор", "ідэнтыфікатар"]),
    (
        Field::Title,
        "title",
        &[
            "title",
            "name",
            "event",
            "название",
            "наименование",
            "событие",
            "назва",
            "падзея",
        ],
    ),
    (
        Field::Mechanism,
        "mechanism",
        &["mechanism", "механизм", "механізм", "орган"],
    ),
    (
        Field::Topics,
        "topics",
        &["topics", "topic", "темы", "тема", "тэмы", "тэма"],
    ),
    (
        Field::Due,
        "due",
        &[
            "due",
            "deadline",
            "date",
            "due date",
            "срок",
            "дата",
            "крайний срок",
            "срок подачи",
            "тэрмін",
            "дата подачи",
            "канчатковы тэрмін",
        ],
    ),
    (
        Field::Opens,
        "opens",
        &[
            "opens",
            "open from",
            "открытие",
            "начало приема",
            "адкрыццё",
        ],
    ),
    (
        Field::Timezone,
        "timezone",
        &[
            "timezone",
            "time zone",
            "zone",
            "часовой пояс",
            "часавы пояс",
        ],
    ),
    (Field::Country, "country", &["country", "страна", "краіна"]),
    (Field::Body, "body", &["body", "session", "сессия", "сесія"]),
    (
        Field::Url,
        "url",
        &["url", "link", "ссылка", "спасылка", "website", "сайт"],
    ),
    (
        Field::SubmitTo,
        "submit_to",
        &[
            "submit to",
            "куда подавать",
            "адрес подачи",
            "куды падаваць",
        ],
    ),
    (
        Field::Description,
        "description",
        &[
            "description",
            "notes",
            "описание",
            "примечание",
            "апісанне",
            "заўвага",
        ],
    ),
    (Field::Status, "status", &["status", "статус"]),
    (
        Field::WordLimit,
        "word_limit",
        &["word limit", "words", "лимит слов", "ліміт слоў"],
    ),
    (
        Field::PageLimit,
        "page_limit",
        &["page limit", "pages", "лимит страниц", "ліміт старонак"],
    ),
    (
        Field::Languages,
        "languages",
        &["languages", "языки", "мовы"],
    ),
    (
        Field::SubmitVia,
        "submit_via",
        &["submit via", "способ подачи", "спосаб падачы"],
    ),
    (
        Field::SubjectLine,
        "subject_line",
        &["subject line", "тема письма", "тэма ліста"],
    ),
    (
        Field::Public,
        "public",
        &["public", "публикация", "публікацыя"],
    ),
    (
        Field::Verified,
        "verified",
        &["verified", "проверено", "праверана"],
    ),
    (Field::Source, "source", &["source", "источник", "крыніца"]),
];

impl Field {
    /// The key in a deadline file.
    pub fn key(self) -> &'static str {
        FIELDS
            .iter()
            .find(|(f, _, _)| *f == self)
            .map_or("", |(_, key, _)| key)
    }

    pub fn by_key(key: &str) -> Option<Field> {
        FIELDS
            .iter()
            .find(|(_, k, _)| *k == key)
            .map(|(f, _, _)| *f)
    }
}

/// A header as compared: lower case, `ё` as `е`, `_` and `-` as spaces,
/// runs of spaces as one, without a trailing `:`, `*` or `.`.
pub fn normalise(header: &str) -> String {
    let lower = header
        .to_lowercase()
        .replace('ё', "е")
        .replace(['_', '-'], " ");
    let words: Vec<&str> = lower.split_whitespace().collect();
    words
        .join(" ")
        .trim_end_matches([':', '*', '.'])
        .trim()
        .to_string()
}

/// The columns of a table.
#[derive(Debug, Default, PartialEq)]
pub struct Columns {
    /// Field → its column (0-based, in the table's rows).
    pub fields: BTreeMap<Field, usize>,
    /// Headers that name nothing mechcal imports: (column, header).
    pub ignored: Vec<(usize, String)>,
}

/// Reads the header row. A field named by two columns is an error
/// (naming both columns).
pub fn recognise(header: &[Cell]) -> Result<Columns, String> {
    let mut out = Columns::default();
    for (i, cell) in header.iter().enumerate() {
        let text = cell.text();
        if text.is_empty() {
            continue;
        }
        let n = normalise(&text);
        let found = FIELDS
            .iter()
            .find(|(_, key, words)| normalise(key) == n || words.contains(&n.as_str()));
        match found {
            Some((field, _, _)) => {
                if let Some(&other) = out.fields.get(field) {
                    return Err(format!(
                        "columns {} and {} both hold `{}`",
                        super::table::column_letters(other),
                        super::table::column_letters(i),
                        field.key()
                    ));
                }
                out.fields.insert(*field, i);
            }
            None => out.ignored.push((i, text)),
        }
    }
    Ok(out)
}

/// `--columns title=A,due=D`: each key named and its column letter; these
/// replace what the header said of those keys.
pub fn named(spec: &str, columns: &mut Columns, first_column: usize) -> Result<(), String> {
    for pair in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let Some((key, letters)) = pair.split_once('=') else {
            return Err(format!("`{pair}` is not KEY=COLUMN (e.g. `title=A`)"));
        };
        let key = key.trim();
        let field = Field::by_key(key).ok_or_else(|| {
            let keys = FIELDS.iter().map(|(_, k, _)| *k);
            match crate::load::suggest::did_you_mean(key, keys) {
                Some(hint) => format!("`{key}` is not a deadline key; {hint}"),
                None => format!("`{key}` is not a deadline key"),
            }
        })?;
        let index = column_index(letters.trim())
            .ok_or_else(|| format!("`{}` is not a column letter (A, B, … AA)", letters.trim()))?;
        let index = index.checked_sub(first_column).ok_or_else(|| {
            format!(
                "column {} is left of the table",
                letters.trim().to_uppercase()
            )
        })?;
        columns.fields.retain(|f, i| *f != field && *i != index);
        columns.ignored.retain(|(i, _)| *i != index);
        columns.fields.insert(field, index);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(cells: &[&str]) -> Vec<Cell> {
        cells.iter().map(|c| Cell::Text(c.to_string())).collect()
    }

    #[test]
    fn headers_in_three_languages() {
        for (cells, expected) in [
            (
                &[
                    "Title",
                    "Topics",
                    "Mechanism",
                    "Deadline",
                    "Link",
                    "Description",
                ][..],
                &[
                    Field::Title,
                    Field::Topics,
                    Field::Mechanism,
                    Field::Due,
                    Field::Url,
                    Field::Description,
                ][..],
            ),
            (
                &["Название", "Темы", "Механизм", "Срок", "Ссылка", "Описание"],
                &[
                    Field::Title,
                    Field::Topics,
                    Field::Mechanism,
                    Field::Due,
                    Field::Url,
                    Field::Description,
                ],
            ),
            (
                &[
                    "Назва",
                    "Тэмы",
                    "Механізм",
                    "Тэрмін",
                    "Спасылка",
                    "Апісанне",
                ],
                &[
                    Field::Title,
                    Field::Topics,
                    Field::Mechanism,
                    Field::Due,
                    Field::Url,
                    Field::Description,
                ],
            ),
            (
                &[" НАЗВАНИЕ: ", "Дата*", "word_limit", "Word limit"],
                &[Field::Title, Field::Due, Field::WordLimit],
            ),
            (
                &[
                    "submit_via",
                    "Languages",
                    "Языки",
                    "verified",
                    "source",
                    "Public",
                ],
                &[Field::SubmitVia, Field::Languages],
            ),
        ] {
            let got = recognise(&header(cells));
            if cells[0] == "submit_via" {
                assert_eq!(got.unwrap_err(), "columns B and C both hold `languages`");
                continue;
            }
            if cells[0] == " НАЗВАНИЕ: " {
                assert_eq!(got.unwrap_err(), "columns C and D both hold `word_limit`");
                continue;
            }
            let got = got.unwrap();
            let fields: Vec<Field> = (0..cells.len())
                .filter_map(|i| got.fields.iter().find(|(_, c)| **c == i).map(|(f, _)| *f))
                .collect();
            assert_eq!(fields, expected, "{cells:?}");
        }
        let got = recognise(&header(&["№", "Название", "", "Примечание кадров", "Дата"])).unwrap();
        assert_eq!(got.fields[&Field::Title], 1);
        assert_eq!(got.fields[&Field::Due], 4);
        assert_eq!(
            got.ignored,
            [(0, "№".to_string()), (3, "Примечание кадров".to_string())]
        );
    }

    #[test]
    fn columns_named_on_the_command_line() {
        let mut c = recognise(&header(&["Что", "Когда", "Title"])).unwrap();
        named("title=A, due=b", &mut c, 0).unwrap();
        assert_eq!(c.fields[&Field::Title], 0);
        assert_eq!(c.fields[&Field::Due], 1);
        assert_eq!(c.fields.len(), 2, "C no longer holds the title");
        for (spec, error) in [
            ("title", "`title` is not KEY=COLUMN (e.g. `title=A`)"),
            (
                "titel=A",
                "`titel` is not a deadline key; did you mean `title`?",
            ),
            ("title=1", "`1` is not a column letter (A, B, … AA)"),
        ] {
            let got = named(spec, &mut Columns::default(), 0).unwrap_err();
            assert_eq!(got, error, "{spec}");
        }
        assert_eq!(
            named("title=A", &mut Columns::default(), 2).unwrap_err(),
            "column A is left of the table"
        );
    }
}
