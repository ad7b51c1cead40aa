//! Deadline ids made from titles: Cyrillic (Russian and Belarusian)
//! transliterated to Latin, lower case, words joined by `-`, cut at a word
//! within [`MAX_WORDS_CHARS`], and the year after it
//! (`альтернативный доклад…` of 2024 → `alternativnyy-doklad-2024`). The
//! same title and year give the same id on every run. Pure.

/// The most characters the title's part of an id keeps.
pub const MAX_WORDS_CHARS: usize = 60;

/// Latin for one lower-case Cyrillic letter (a practical BGN/PCGN-like
/// table, for ids rather than for reading aloud).
fn latin(c: char) -> Option<&'static str> {
    Some(match c {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'ґ' => "g",
        'д' => "d",
        'е' => "e",
        'ё' => "yo",
        'є' => "ye",
        'ж' => "zh",
        'з' => "z",
        'и' => "i",
        'і' => "i",
        'ї' => "yi",
        'й' => "y",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' => "u",
        'ў' => "w",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' | 'ь' | '\'' | '’' | 'ʼ' => "",
        'ы' => "y",
        'э' => "e",
        'ю' => "yu",
        'я' => "ya",
        _ => return None,
    })
}

/// The words of `title` as an id's part: `[a-z0-9]` words joined by `-`.
pub fn words(title: &str) -> String {
    let mut out = String::new();
    let mut gap = false;
    for c in title.to_lowercase().chars() {
        let piece: String = if let Some(l) = latin(c) {
            l.to_string()
        } else if c.is_ascii_alphanumeric() {
            c.to_string()
        } else {
            // Accented Latin letters lose their accent where it is one
            // combining mark away; anything else separates words.
            match c {
                'à'..='å' | 'ā' => "a".into(),
                'ç' | 'č' | 'ć' => "c".into(),
                'è'..='ë' | 'ē' | 'ě' => "e".into(),
                'ì'..='ï' => "i".into(),
                'ñ' | 'ń' => "n".into(),
                'ò'..='ö' | 'ø' => "o".into(),
                'ù'..='ü' | 'ū' => "u".into(),
                'š' | 'ś' => "s".into(),
                'ž' | 'ź' | 'ż' => "z".into(),
                'ł' => "l".into(),
                _ => {
                    gap = true;
                    continue;
                }
            }
        };
        if piece.is_empty() {
            continue;
        }
        if gap && !out.is_empty() {
            out.push('-');
        }
        gap = false;
        out.push_str(&piece);
    }
    cut(&out, MAX_WORDS_CHARS)
}

/// `words` cut to at most `max` characters at a `-`.
fn cut(words: &str, max: usize) -> String {
    if words.len() <= max {
        return words.to_string();
    }
    match words[..=max].rfind('-') {
        Some(i) if i > 0 => words[..i].to_string(),
        _ => words[..max].to_string(),
    }
}

/// The id for a row: its title's words and `year` (`open` for open
/// calls); `deadline` when the title has no letters or digits.
pub fn make(title: &str, year: Option<i32>) -> String {
    let w = words(title);
    let w = if w.is_empty() {
        "deadline".to_string()
    } else {
        w
    };
    match year {
        Some(y) if !w.ends_with(&y.to_string()) => format!("{w}-{y}"),
        Some(_) => w,
        None => format!("{w}-open"),
    }
}

/// `base`, or the first of `base-2`, `base-3`… that `taken` says is free.
pub fn unique(base: &str, taken: impl Fn(&str) -> bool) -> String {
    let mut id = base.to_string();
    let mut n = 2;
    while taken(&id) {
        id = format!("{base}-{n}");
        n += 1;
    }
    id
}

/// Each entry id of `catalog`, with the file (relative to the repository)
/// that defines it.
pub fn existing(
    catalog: &crate::model::catalog::Catalog,
) -> std::collections::HashMap<String, std::path::PathBuf> {
    catalog
        .deadlines()
        .iter()
        .map(|d| (d.entry.clone(), d.origin.file.to_path_buf()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_become_ids() {
        for (title, year, id) in [
            (
                "Альтернативный доклад…",
                Some(2024),
                "alternativnyy-doklad-2024",
            ),
            (
                "Свабода аб'яднанняў і ўдзел",
                Some(2025),
                "svaboda-abyadnannyaw-i-wdzel-2025",
            ),
            (
                "Call for input: Freedom of Expression",
                Some(2026),
                "call-for-input-freedom-of-expression-2026",
            ),
            ("UPR 2024", Some(2024), "upr-2024"),
            ("Щёлковская ЖЭК", None, "shchyolkovskaya-zhek-open"),
            (
                "Défense des défenseurs",
                Some(2027),
                "defense-des-defenseurs-2027",
            ),
            ("…", Some(2024), "deadline-2024"),
            ("  --UN   HRC--  ", Some(2024), "un-hrc-2024"),
        ] {
            assert_eq!(make(title, year), id, "{title}");
        }
    }

    #[test]
    fn unique_ids_count_on_from_two() {
        let taken = ["a-2024", "a-2024-2"];
        assert_eq!(unique("a-2024", |id| taken.contains(&id)), "a-2024-3");
        assert_eq!(unique("b-2024", |id| taken.contains(&id)), "b-2024");
    }

    #[test]
    fn long_titles_are_cut_at_a_word() {
        let title = "Доклад Специального докладчика по вопросу о положении правозащитников в Республике Беларусь";
        let id = make(title, Some(2025));
        assert_eq!(
            id,
            "doklad-spetsialnogo-dokladchika-po-voprosu-o-polozhenii-2025"
        );
        assert!(words(title).len() <= MAX_WORDS_CHARS);
        assert_eq!(cut(&"a".repeat(70), 60), "a".repeat(60));
    }
}
