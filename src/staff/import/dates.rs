//! Dates in the forms tables really hold: ISO (`2024-02-15`,
//! `2024-02-15T12:00+01:00`), `15.02.2024`, `15 февраля 2024 г.`,
//! `15 лютага 2024`, `February 15, 2024`, `15 Feb 2024`, spreadsheet date
//! cells; a time (`12:00`) and a zone (`UTC`, `+03:00`, `Europe/Zurich`,
//! `Geneva time`, `по женевскому времени`) where given; `open` for an open
//! call. `03/04/2024` is ambiguous: an error unless the order is given
//! (`--date-order dmy|mdy`). Pure.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};
use regex_lite::Regex;

use super::table::Cell;

/// Which comes first in `03/04/2024`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DateOrder {
    /// Day, month, year (`03/04/2024` is 3 April).
    Dmy,
    /// Month, day, year (`03/04/2024` is 4 March).
    Mdy,
}

/// A `due` (or `opens`) as a deadline file writes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum When {
    /// All day, in the entry's zone.
    Date(NaiveDate),
    /// A wall-clock time in the entry's zone; `zone` when the cell named one.
    Local(NaiveDateTime, Option<String>),
    /// An exact instant.
    Fixed(DateTime<FixedOffset>),
    /// `due = "open"`.
    Open,
}

impl When {
    /// The TOML value.
    pub fn toml(&self) -> String {
        match self {
            When::Date(d) => d.to_string(),
            When::Local(t, _) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
            When::Fixed(t) => t.to_rfc3339(),
            When::Open => "\"open\"".into(),
        }
    }

    /// The year it falls in (the file it goes to); `None` for open calls.
    pub fn year(&self) -> Option<i32> {
        use chrono::Datelike as _;
        match self {
            When::Date(d) => Some(d.year()),
            When::Local(t, _) => Some(t.year()),
            When::Fixed(t) => Some(t.year()),
            When::Open => None,
        }
    }

    /// The zone the cell named, if any.
    pub fn zone(&self) -> Option<&str> {
        match self {
            When::Local(_, zone) => zone.as_deref(),
            _ => None,
        }
    }
}

const MONTHS: [&[&str]; 12] = [
    &[
        "january",
        "jan",
        "января",
        "январь",
        "янв",
        "студзеня",
        "студзень",
        "студз",
    ],
    &[
        "february",
        "feb",
        "февраля",
        "февраль",
        "фев",
        "февр",
        "лютага",
        "люты",
        "лют",
    ],
    &[
        "march",
        "mar",
        "марта",
        "март",
        "мар",
        "сакавіка",
        "сакавік",
        "сак",
    ],
    &[
        "april",
        "apr",
        "апреля",
        "апрель",
        "апр",
        "красавіка",
        "красавік",
        "крас",
    ],
    &["may", "мая", "май", "траўня", "травеня", "травень", "трав"],
    &[
        "june",
        "jun",
        "июня",
        "июнь",
        "июн",
        "чэрвеня",
        "чэрвень",
        "чэрв",
    ],
    &[
        "july",
        "jul",
        "июля",
        "июль",
        "июл",
        "ліпеня",
        "ліпень",
        "ліп",
    ],
    &[
        "august",
        "aug",
        "августа",
        "август",
        "авг",
        "жніўня",
        "жнівень",
        "жн",
    ],
    &[
        "september",
        "sep",
        "sept",
        "сентября",
        "сентябрь",
        "сен",
        "сент",
        "верасня",
        "верасень",
        "вер",
    ],
    &[
        "october",
        "oct",
        "октября",
        "октябрь",
        "окт",
        "кастрычніка",
        "кастрычнік",
        "кастр",
    ],
    &[
        "november",
        "nov",
        "ноября",
        "ноябрь",
        "ноя",
        "нояб",
        "лістапада",
        "лістапад",
        "ліст",
    ],
    &[
        "december",
        "dec",
        "декабря",
        "декабрь",
        "дек",
        "снежня",
        "снежань",
        "снеж",
    ],
];

/// Zones named in words, as tables name them.
const ZONE_WORDS: &[(&[&str], &str)] = &[
    (
        &[
            "geneva",
            "женева",
            "женеве",
            "женевскому",
            "жэнева",
            "жэнеўскім",
            "жэневе",
        ],
        "Europe/Zurich",
    ),
    (
        &["new york", "нью-йорк", "нью-йорку", "нью-ёрк"],
        "America/New_York",
    ),
    (&["vienna", "вена", "вене", "венскому"], "Europe/Vienna"),
    (&["strasbourg", "страсбург", "страсбургу"], "Europe/Paris"),
    (
        &["warsaw", "варшава", "варшаве", "варшаўскім", "варшавскому"],
        "Europe/Warsaw",
    ),
    (
        &["minsk", "минск", "минскому", "мінск", "мінскім"],
        "Europe/Minsk",
    ),
];

fn month(word: &str) -> Option<u32> {
    let w = word.trim_end_matches('.').to_lowercase();
    MONTHS
        .iter()
        .position(|names| names.contains(&w.as_str()))
        .map(|i| i as u32 + 1)
}

/// Reads a date cell.
pub fn parse(cell: &Cell, order: Option<DateOrder>) -> Result<When, String> {
    match cell {
        Cell::Date(d) => Ok(When::Date(*d)),
        Cell::DateTime(t) => Ok(When::Local(*t, None)),
        Cell::Number(n) => Err(format!(
            "`{}` is a number, not a date",
            Cell::Number(*n).text()
        ) + "\n  help: format the column as dates in the spreadsheet, or write the date as text (15.02.2024)"),
        Cell::Empty => Err("no date".into()),
        Cell::Text(t) => text(t.trim(), order),
    }
}

fn text(t: &str, order: Option<DateOrder>) -> Result<When, String> {
    let lower = t.to_lowercase();
    if ["open", "открыт", "открыто", "открыта", "адкрыта", "адкрыты"].contains(&lower.as_str())
    {
        return Ok(When::Open);
    }
    if let Ok(fixed) = DateTime::parse_from_rfc3339(t) {
        return Ok(When::Fixed(fixed));
    }
    let unknown = || {
        format!("`{t}` is not a date mechcal reads")
            + "\n  help: write 2024-02-15, 15.02.2024, 15 февраля 2024 or February 15, 2024 (a time after it: 12:00, and a zone: UTC, +01:00, Europe/Zurich)"
    };
    let iso = Regex::new(r"^(\d{4})-(\d{1,2})-(\d{1,2})(.*)$").unwrap();
    let numeric = Regex::new(r"^(\d{1,2})([./-])(\d{1,2})[./-](\d{4})(.*)$").unwrap();
    let day_first = Regex::new(r"^(\d{1,2})\.?\s+([^\s\d.,]+)\.?,?\s+(\d{4})(.*)$").unwrap();
    let month_first = Regex::new(r"^([^\s\d.,]+)\.?\s+(\d{1,2}),?\s+(\d{4})(.*)$").unwrap();
    let (date, rest) = if let Some(c) = iso.captures(t) {
        let date = ymd(num(&c[1]), num(&c[2]), num(&c[3]), t)?;
        (date, c[4].to_string())
    } else if let Some(c) = numeric.captures(t) {
        let (a, b, year) = (num(&c[1]), num(&c[3]), num(&c[4]));
        let (day, month) = if &c[2] == "." || a > 12 {
            (a, b)
        } else if b > 12 || a == b {
            (b, a)
        } else {
            match order {
                Some(DateOrder::Dmy) => (a, b),
                Some(DateOrder::Mdy) => (b, a),
                None => {
                    return Err(format!(
                        "`{t}` is ambiguous: {} or {}",
                        show(ymd(year, b, a, t)?),
                        show(ymd(year, a, b, t)?)
                    ) + "\n  help: say which with `--date-order dmy` or `--date-order mdy`, or write the date as 2024-02-15")
                }
            }
        };
        (ymd(year, month, day, t)?, c[5].to_string())
    } else if let Some(c) = day_first.captures(t) {
        let Some(m) = month(&c[2]) else {
            return Err(unknown());
        };
        (ymd(num(&c[3]), m as i64, num(&c[1]), t)?, c[4].to_string())
    } else if let Some(c) = month_first.captures(t) {
        let Some(m) = month(&c[1]) else {
            return Err(unknown());
        };
        (ymd(num(&c[3]), m as i64, num(&c[2]), t)?, c[4].to_string())
    } else {
        return Err(unknown());
    };
    time_and_zone(date, &rest, t)
}

fn num(s: &str) -> i64 {
    s.parse().unwrap_or(-1)
}

fn show(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

fn ymd(year: i64, month: i64, day: i64, t: &str) -> Result<NaiveDate, String> {
    if !(1990..=2100).contains(&year) {
        return Err(format!("`{t}`: the year {year} looks mistyped"));
    }
    NaiveDate::from_ymd_opt(year as i32, month as u32, day as u32)
        .ok_or_else(|| format!("`{t}` is not a day of the calendar"))
}

/// What follows the date: nothing, `г.`/`года`, then an optional time
/// (`12:00`, `12:00:30`, after `,`, `at`, `в`, `а` or `T`) and zone.
fn time_and_zone(date: NaiveDate, rest: &str, t: &str) -> Result<When, String> {
    let rest = rest.trim();
    let rest = strip_words(rest, &["года", "г.", "г"]);
    let rest = rest.trim_start_matches([',', 'T', ' ']).trim();
    let rest = strip_words(rest, &["at", "в", "а", "до", "by", "until"]);
    if rest.is_empty() {
        return Ok(When::Date(date));
    }
    let clock = Regex::new(r"^(\d{1,2})[:.](\d{2})(?::(\d{2}))?(.*)$").unwrap();
    let Some(c) = clock.captures(rest) else {
        return Err(format!(
            "`{t}`: `{rest}` after the date is not a time (12:00)"
        ));
    };
    let time = NaiveTime::from_hms_opt(
        num(&c[1]) as u32,
        num(&c[2]) as u32,
        c.get(3).map_or(0, |s| num(s.as_str())) as u32,
    )
    .ok_or_else(|| format!("`{t}`: {}:{} is not a time of day", &c[1], &c[2]))?;
    let local = date.and_time(time);
    let zone = c[4].trim().trim_matches(['(', ')']).trim();
    let zone = strip_words(zone, &["по", "па"]);
    if zone.is_empty() {
        return Ok(When::Local(local, None));
    }
    let upper = zone.to_uppercase();
    if ["Z", "UTC", "GMT", "UTC+0", "GMT+0"].contains(&upper.as_str()) {
        return Ok(When::Fixed(local.and_utc().fixed_offset()));
    }
    let offset = Regex::new(r"^(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?$").unwrap();
    if let Some(c) = offset.captures(&upper) {
        let seconds = (num(&c[2]) * 3600 + c.get(3).map_or(0, |m| num(m.as_str())) * 60) as i32;
        let seconds = if &c[1] == "-" { -seconds } else { seconds };
        let offset = FixedOffset::east_opt(seconds)
            .ok_or_else(|| format!("`{t}`: `{zone}` is not an offset from UTC"))?;
        return local
            .and_local_timezone(offset)
            .single()
            .map(When::Fixed)
            .ok_or_else(|| format!("`{t}`: `{zone}` is not an offset from UTC"));
    }
    if zone.parse::<chrono_tz::Tz>().is_ok() {
        return Ok(When::Local(local, Some(zone.to_string())));
    }
    let words = zone.to_lowercase();
    for (names, tz) in ZONE_WORDS {
        let named = |n: &&str| {
            if n.contains(' ') {
                words.contains(*n)
            } else {
                words
                    .split(|c: char| !(c.is_alphabetic() || c == '-'))
                    .any(|w| w == *n)
            }
        };
        if names.iter().any(named) {
            return Ok(When::Local(local, Some(tz.to_string())));
        }
    }
    Err(format!("`{t}`: `{zone}` is not a time zone mechcal knows")
        + "\n  help: write UTC, an offset (+01:00) or a zone name (Europe/Zurich)")
}

/// `text` without a leading word among `words` (compared in lower case).
fn strip_words<'a>(text: &'a str, words: &[&str]) -> &'a str {
    let lower = text.to_lowercase();
    for w in words {
        if let Some(after) = lower.strip_prefix(w) {
            if after.is_empty() || after.starts_with([' ', ',']) {
                return text[text.len() - after.len()..].trim_start_matches([' ', ',']);
            }
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        date(y, m, d).and_hms_opt(h, min, 0).unwrap()
    }

    fn read(text: &str) -> Result<When, String> {
        parse(&Cell::Text(text.into()), None)
    }

    #[test]
    fn the_forms_tables_hold() {
        let feb15 = When::Date(date(2024, 2, 15));
        let noon = |zone: Option<&str>| When::Local(at(2024, 2, 15, 12, 0), zone.map(String::from));
        let fixed = |s: &str| When::Fixed(DateTime::parse_from_rfc3339(s).unwrap());
        for (text, expected) in [
            ("2024-02-15", feb15.clone()),
            ("2024-2-15", feb15.clone()),
            ("15.02.2024", feb15.clone()),
            ("15.2.2024", feb15.clone()),
            ("15/02/2024", feb15.clone()),
            ("02/15/2024", feb15.clone()),
            ("15 февраля 2024", feb15.clone()),
            ("15 февраля 2024 г.", feb15.clone()),
            ("15 февраля 2024 года", feb15.clone()),
            ("15 лютага 2024", feb15.clone()),
            ("15 Feb 2024", feb15.clone()),
            ("15 February 2024", feb15.clone()),
            ("February 15, 2024", feb15.clone()),
            ("Feb. 15, 2024", feb15.clone()),
            ("2024-02-15 12:00", noon(None)),
            ("2024-02-15T12:00", noon(None)),
            ("15.02.2024 12:00", noon(None)),
            ("15 февраля 2024 г., 12:00", noon(None)),
            ("15 февраля 2024 в 12.00", noon(None)),
            ("February 15, 2024 at 12:00", noon(None)),
            (
                "15.02.2024 12:00 Europe/Zurich",
                noon(Some("Europe/Zurich")),
            ),
            (
                "15.02.2024 12:00 (Geneva time)",
                noon(Some("Europe/Zurich")),
            ),
            (
                "15 февраля 2024 г. 12:00 по женевскому времени",
                noon(Some("Europe/Zurich")),
            ),
            (
                "15 лютага 2024 12:00 па жэнеўскім часе",
                noon(Some("Europe/Zurich")),
            ),
            (
                "February 15, 2024 12:00 New York time",
                noon(Some("America/New_York")),
            ),
            ("15.02.2024 12:00 UTC", fixed("2024-02-15T12:00:00Z")),
            ("15.02.2024 12:00 GMT+3", fixed("2024-02-15T12:00:00+03:00")),
            (
                "15.02.2024 12:00 +01:00",
                fixed("2024-02-15T12:00:00+01:00"),
            ),
            (
                "2024-02-15T12:00:00+01:00",
                fixed("2024-02-15T12:00:00+01:00"),
            ),
            ("2024-02-15T11:00:00Z", fixed("2024-02-15T11:00:00Z")),
            ("open", When::Open),
            ("Открыт", When::Open),
        ] {
            assert_eq!(read(text), Ok(expected), "{text}");
        }
        assert_eq!(parse(&Cell::Date(date(2024, 2, 15)), None), Ok(feb15));
        assert_eq!(
            parse(&Cell::DateTime(at(2024, 2, 15, 12, 0)), None),
            Ok(noon(None))
        );
    }

    #[test]
    fn ambiguous_dates_need_an_order() {
        let got = read("03/04/2024").unwrap_err();
        assert!(
            got.starts_with("`03/04/2024` is ambiguous: 3 April 2024 or 4 March 2024"),
            "{got}"
        );
        assert!(got.contains("--date-order dmy"), "{got}");
        let cell = Cell::Text("03/04/2024".into());
        assert_eq!(
            parse(&cell, Some(DateOrder::Dmy)),
            Ok(When::Date(date(2024, 4, 3)))
        );
        assert_eq!(
            parse(&cell, Some(DateOrder::Mdy)),
            Ok(When::Date(date(2024, 3, 4)))
        );
        // The same day either way, and dots always day first.
        assert_eq!(read("04/04/2024"), Ok(When::Date(date(2024, 4, 4))));
        assert_eq!(read("03.04.2024"), Ok(When::Date(date(2024, 4, 3))));
    }

    #[test]
    fn what_is_not_a_date_says_why() {
        for (text, error) in [
            ("soon", "`soon` is not a date mechcal reads"),
            ("31.02.2024", "`31.02.2024` is not a day of the calendar"),
            ("15.02.224", "`15.02.224` is not a date mechcal reads"),
            ("15.02.0224", "the year 224 looks mistyped"),
            ("15 фев 2024 25:00", "25:00 is not a time of day"),
            (
                "15 Febuary 2024",
                "`15 Febuary 2024` is not a date mechcal reads",
            ),
            ("15.02.2024 noon", "`noon` after the date is not a time"),
            (
                "15.02.2024 12:00 Mars/Olympus",
                "`Mars/Olympus` is not a time zone mechcal knows",
            ),
            ("", "no date"),
        ] {
            let got = if text.is_empty() {
                parse(&Cell::Empty, None)
            } else {
                read(text)
            }
            .unwrap_err();
            assert!(got.contains(error), "{text}: {got}");
        }
        assert!(parse(&Cell::Number(45337.0), None)
            .unwrap_err()
            .starts_with("`45337` is a number, not a date"));
    }

    #[test]
    fn written_as_a_deadline_file_writes_it() {
        assert_eq!(When::Date(date(2024, 2, 15)).toml(), "2024-02-15");
        assert_eq!(
            When::Local(at(2024, 2, 15, 12, 0), None).toml(),
            "2024-02-15T12:00:00"
        );
        assert_eq!(
            read("15.02.2024 12:00 +01:00").unwrap().toml(),
            "2024-02-15T12:00:00+01:00"
        );
        assert_eq!(
            read("15.02.2024 12:00 UTC").unwrap().toml(),
            "2024-02-15T12:00:00+00:00"
        );
        assert_eq!(When::Open.toml(), "\"open\"");
    }
}
