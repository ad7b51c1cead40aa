//! What staff read of a changed page: the lines that went and came, in a
//! bounded excerpt, with the dates in them marked (a new date on a call
//! page is the likeliest sign of an extension).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::LazyLock;

/// Lines an excerpt shows at most.
pub const MAX_LINES: usize = 12;
/// Characters of one line an excerpt shows at most.
pub const MAX_LINE_CHARS: usize = 200;

/// The lines of `old` missing from `new` (`- …`) and those of `new` missing
/// from `old` (`+ …`), each in page order, as at most [`MAX_LINES`] lines of
/// at most [`MAX_LINE_CHARS`] characters, with dates marked `**…**`.
/// Lines are compared as a multiset: a line that only moved is not shown.
pub fn changed_lines(old: &str, new: &str) -> String {
    let removed = missing(old, new);
    let added = missing(new, old);
    let total = removed.len() + added.len();
    let mut out = String::new();
    let shown = removed
        .iter()
        .map(|l| ('-', *l))
        .chain(added.iter().map(|l| ('+', *l)))
        .take(MAX_LINES);
    for (sign, line) in shown {
        let _ = writeln!(out, "{sign} {}", mark_dates(&cut(line, MAX_LINE_CHARS)));
    }
    if total > MAX_LINES {
        let _ = writeln!(out, "… and {} more changed lines", total - MAX_LINES);
    }
    if total == 0 {
        out.push_str("(the same lines in another order)\n");
    }
    out
}

/// The lines of `a` that `b` does not have (as many times as `a` has more).
fn missing<'a>(a: &'a str, b: &str) -> Vec<&'a str> {
    let mut have: HashMap<&str, usize> = HashMap::new();
    for line in b.lines() {
        *have.entry(line).or_default() += 1;
    }
    a.lines()
        .filter(|line| match have.get_mut(line) {
            Some(n) if *n > 0 => {
                *n -= 1;
                false
            }
            _ => true,
        })
        .collect()
}

/// At most `max` characters of `line`, with `…` when cut.
fn cut(line: &str, max: usize) -> String {
    match line.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &line[..at]),
        None => line.to_string(),
    }
}

/// Dates as the mechanisms' pages write them, in English, French, Spanish
/// and Russian: "30 April 2027", "April 30, 2027", "30 de abril de 2027",
/// "30 апреля 2027 г.", "2027-04-30", "30.04.2027", "30/04/2027".
static DATE: LazyLock<regex_lite::Regex> = LazyLock::new(|| {
    let en = "(?i:january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sept|sep|oct|nov|dec)\\b\\.?";
    let others = "janvier|février|mars|avril|mai|juin|juillet|août|septembre|octobre|novembre|décembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto|septiembre|octubre|noviembre|diciembre|января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря";
    let month = format!("(?:{en}|{others})");
    let pattern = [
        format!(
            "\\b\\d{{1,2}}(?:st|nd|rd|th|er)?(?:\\s+de)?\\s+{month}(?:,?\\s+(?:de\\s+)?\\d{{4}})?"
        ),
        format!("\\b{month}\\s+\\d{{1,2}}(?:st|nd|rd|th)?,?\\s+\\d{{4}}"),
        "\\b\\d{4}-\\d{2}-\\d{2}\\b".to_string(),
        "\\b\\d{1,2}[./]\\d{1,2}[./]\\d{4}\\b".to_string(),
    ]
    .join("|");
    regex_lite::Regex::new(&pattern).expect("the date pattern compiles")
});

/// `line` with each date in it marked `**like this**`.
pub fn mark_dates(line: &str) -> String {
    DATE.replace_all(line, "**$0**").into_owned()
}

/// Whether `line` holds a date.
pub fn has_date(line: &str) -> bool {
    DATE.is_match(line)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_marked_in_four_languages() {
        for (line, want) in [
            (
                "Deadline: 30 April 2027 (was 31 March 2027)",
                "Deadline: **30 April 2027** (was **31 March 2027**)",
            ),
            ("Due April 30, 2027.", "Due **April 30, 2027**."),
            ("Date limite : 15 mai 2027", "Date limite : **15 mai 2027**"),
            ("Plazo: 1 de junio de 2027", "Plazo: **1 de junio de 2027**"),
            ("до 30 апреля 2027 г.", "до **30 апреля 2027** г."),
            (
                "by 2027-04-30 or 30.04.2027",
                "by **2027-04-30** or **30.04.2027**",
            ),
            ("on 1st Dec.", "on **1st Dec.**"),
            ("You may submit 3 documents", "You may submit 3 documents"),
            ("Marching 5 Marchers", "Marching 5 Marchers"),
        ] {
            assert_eq!(mark_dates(line), want, "{line}");
        }
        assert!(has_date("Extended to 15 May 2027"));
        assert!(!has_date("Submit via the portal"));
    }

    #[test]
    fn an_excerpt_shows_what_went_and_came() {
        let old = "Call for input\nDeadline: 31 March 2027\nWord limit: 2,500\nContact";
        let new = "Call for input\nDeadline: 30 April 2027\nContact\nWord limit: 2,500";
        assert_eq!(
            changed_lines(old, new),
            "- Deadline: **31 March 2027**\n+ Deadline: **30 April 2027**\n"
        );
        assert_eq!(
            changed_lines("a\nb", "b\na"),
            "(the same lines in another order)\n"
        );
    }

    #[test]
    fn an_excerpt_is_bounded() {
        let old: String = (0..100).map(|i| format!("old {i}\n")).collect();
        let new = format!("{}\n", "x".repeat(5000));
        let excerpt = changed_lines(&old, &new);
        assert_eq!(excerpt.lines().count(), MAX_LINES + 1);
        assert!(
            excerpt.ends_with("… and 89 more changed lines\n"),
            "{excerpt}"
        );
        let long = changed_lines("", &new);
        assert_eq!(long.chars().count(), 2 + MAX_LINE_CHARS + 2);
    }
}
