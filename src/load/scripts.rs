//! Words that mix alphabets: a Latin "o" or "e" typed inside a Cyrillic
//! word (or the reverse) looks right to the eye, but search, sorting and
//! screen readers see another word, and spam filters read it as a
//! phishing-style look-alike. Pure: text in, findings out.

/// An alphabet a word can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Script {
    Latin,
    Cyrillic,
    Greek,
}

impl Script {
    pub fn name(self) -> &'static str {
        match self {
            Script::Latin => "Latin",
            Script::Cyrillic => "Cyrillic",
            Script::Greek => "Greek",
        }
    }

    /// The script of a letter, for the three that look alike; `None` for
    /// every other character (digits, marks, other alphabets).
    pub fn of(c: char) -> Option<Script> {
        match c {
            'A'..='Z' | 'a'..='z' => Some(Script::Latin),
            '\u{c0}'..='\u{24f}' if c != '\u{d7}' && c != '\u{f7}' => Some(Script::Latin),
            '\u{1e00}'..='\u{1eff}' => Some(Script::Latin),
            '\u{370}'..='\u{3ff}' | '\u{1f00}'..='\u{1fff}' if c.is_alphabetic() => {
                Some(Script::Greek)
            }
            '\u{400}'..='\u{52f}' | '\u{1c80}'..='\u{1c8f}' | '\u{a640}'..='\u{a69f}'
                if c.is_alphabetic() =>
            {
                Some(Script::Cyrillic)
            }
            _ => None,
        }
    }
}

/// Latin letters and the Cyrillic letters drawn the same way.
const LATIN_CYRILLIC: &[(char, char)] = &[
    ('a', 'а'),
    ('c', 'с'),
    ('e', 'е'),
    ('i', 'і'),
    ('j', 'ј'),
    ('o', 'о'),
    ('p', 'р'),
    ('s', 'ѕ'),
    ('x', 'х'),
    ('y', 'у'),
    ('A', 'А'),
    ('B', 'В'),
    ('C', 'С'),
    ('E', 'Е'),
    ('H', 'Н'),
    ('I', 'І'),
    ('J', 'Ј'),
    ('K', 'К'),
    ('M', 'М'),
    ('O', 'О'),
    ('P', 'Р'),
    ('S', 'Ѕ'),
    ('T', 'Т'),
    ('X', 'Х'),
];

/// Latin letters and the Greek letters drawn the same way.
const LATIN_GREEK: &[(char, char)] = &[
    ('o', 'ο'),
    ('v', 'ν'),
    ('A', 'Α'),
    ('B', 'Β'),
    ('E', 'Ε'),
    ('H', 'Η'),
    ('I', 'Ι'),
    ('K', 'Κ'),
    ('M', 'Μ'),
    ('N', 'Ν'),
    ('O', 'Ο'),
    ('P', 'Ρ'),
    ('T', 'Τ'),
    ('X', 'Χ'),
    ('Y', 'Υ'),
    ('Z', 'Ζ'),
];

/// `c` drawn in `to`, if that script has a letter that looks the same.
fn look_alike(c: char, to: Script) -> Option<char> {
    let from = Script::of(c)?;
    let pairs = |table: &'static [(char, char)]| table.iter().copied();
    match (from, to) {
        (Script::Latin, Script::Cyrillic) => pairs(LATIN_CYRILLIC).find(|p| p.0 == c).map(|p| p.1),
        (Script::Cyrillic, Script::Latin) => pairs(LATIN_CYRILLIC).find(|p| p.1 == c).map(|p| p.0),
        (Script::Latin, Script::Greek) => pairs(LATIN_GREEK).find(|p| p.0 == c).map(|p| p.1),
        (Script::Greek, Script::Latin) => pairs(LATIN_GREEK).find(|p| p.1 == c).map(|p| p.0),
        _ => None,
    }
}

/// A word written in more than one alphabet.
#[derive(Debug, PartialEq, Eq)]
pub struct Mixed {
    /// Byte range of the word in the text.
    pub at: std::ops::Range<usize>,
    pub word: String,
    /// The script most of its letters are in (the text's, on a tie).
    pub main: Script,
    /// The letters from other scripts: 1-based position in the word, the
    /// letter and its script.
    pub strays: Vec<(usize, char, Script)>,
    /// The word with every stray replaced by its look-alike in `main`, when
    /// each has one.
    pub fixed: Option<String>,
}

/// Every word of `text` (a run of letters and combining marks) whose
/// letters come from more than one of Latin, Cyrillic and Greek.
pub fn mixed_words(text: &str) -> Vec<Mixed> {
    let main_of_text = majority(text.chars());
    let mut found = Vec::new();
    let mut start = None;
    let is_word = |c: char| c.is_alphanumeric() || is_mark(c);
    for (i, c) in text.char_indices().chain([(text.len(), ' ')]) {
        match (start, is_word(c)) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                if let Some(m) = mixed(&text[s..i], s, main_of_text) {
                    found.push(m);
                }
                start = None;
            }
            _ => {}
        }
    }
    found
}

fn is_mark(c: char) -> bool {
    matches!(c, '\u{300}'..='\u{36f}')
}

/// The script most letters are in (Latin first on a tie, then Cyrillic).
fn majority(chars: impl Iterator<Item = char>) -> Option<Script> {
    let mut counts = [0usize; 3];
    for c in chars {
        match Script::of(c) {
            Some(Script::Latin) => counts[0] += 1,
            Some(Script::Cyrillic) => counts[1] += 1,
            Some(Script::Greek) => counts[2] += 1,
            None => {}
        }
    }
    let best = *counts.iter().max()?;
    if best == 0 {
        return None;
    }
    let i = counts.iter().position(|&n| n == best)?;
    Some([Script::Latin, Script::Cyrillic, Script::Greek][i])
}

fn mixed(word: &str, offset: usize, main_of_text: Option<Script>) -> Option<Mixed> {
    let scripts: Vec<Script> = word.chars().filter_map(Script::of).collect();
    let first = *scripts.first()?;
    if scripts.iter().all(|&s| s == first) {
        return None;
    }
    let count = |s: Script| scripts.iter().filter(|&&x| x == s).count();
    let mut main = majority(word.chars())?;
    if let Some(t) = main_of_text {
        if t != main && count(t) == count(main) {
            main = t;
        }
    }
    let strays: Vec<(usize, char, Script)> = word
        .chars()
        .enumerate()
        .filter_map(|(i, c)| {
            let s = Script::of(c)?;
            (s != main).then_some((i + 1, c, s))
        })
        .collect();
    let fixed: Option<String> = word
        .chars()
        .map(|c| match Script::of(c) {
            Some(s) if s != main => look_alike(c, main),
            _ => Some(c),
        })
        .collect();
    Some(Mixed {
        at: offset..offset + word.len(),
        word: word.to_string(),
        main,
        strays,
        fixed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> Mixed {
        let mut m = mixed_words(text);
        assert_eq!(m.len(), 1, "{text}: {m:?}");
        let m = m.remove(0);
        assert_eq!(&text[m.at.clone()], m.word);
        m
    }

    #[test]
    fn a_latin_letter_in_a_cyrillic_word() {
        // "Пример" with a Latin "p" and a Latin "e".
        let Mixed {
            word,
            main,
            strays,
            fixed,
            ..
        } = one("Пpимeр доклада");
        assert_eq!(word, "Пpимeр");
        assert_eq!(main, Script::Cyrillic);
        assert_eq!(
            strays,
            vec![(2, 'p', Script::Latin), (5, 'e', Script::Latin)]
        );
        assert_eq!(fixed.as_deref(), Some("Пример"));
    }

    #[test]
    fn a_cyrillic_letter_in_a_latin_word() {
        let Mixed {
            word,
            main,
            strays,
            fixed,
            ..
        } = one("Submissiоn deadline");
        assert_eq!(word, "Submissiоn");
        assert_eq!(main, Script::Latin);
        assert_eq!(strays, vec![(9, 'о', Script::Cyrillic)]);
        assert_eq!(fixed.as_deref(), Some("Submission"));
    }

    #[test]
    fn greek_look_alikes_and_letters_without_one() {
        let Mixed { main, fixed, .. } = one("ΑΒC");
        assert_eq!(main, Script::Greek);
        assert_eq!(fixed, None, "Latin C has no Greek look-alike");
        let Mixed { main, fixed, .. } = one("UΝ");
        assert_eq!(main, Script::Latin);
        assert_eq!(fixed.as_deref(), Some("UN"));
        // A Latin letter with no Cyrillic look-alike: no suggested word.
        let Mixed { strays, fixed, .. } = one("доклаd");
        assert_eq!(strays, vec![(6, 'd', Script::Latin)]);
        assert_eq!(fixed, None);
    }

    #[test]
    fn a_tie_goes_to_the_script_of_the_text() {
        // "Ор" is one Latin O and one Cyrillic р, in a Cyrillic text.
        let Mixed { main, fixed, .. } = one("Оp деле");
        assert_eq!(main, Script::Cyrillic);
        assert_eq!(fixed.as_deref(), Some("Ор"));
    }

    #[test]
    fn words_in_one_script_and_other_characters_are_left_alone() {
        for text in [
            "Альтернативный доклад для CEDAW",
            "UPR-2027, 5th cycle — Беларусь",
            "КЛДЖ/CEDAW",
            "CEDAW-у",
            "Committee on the Elimination of Discrimination against Women",
            "Ü, é, ñ, ß — Latin with accents",
            "Ўсеагульны перыядычны агляд (УПА), Belarus",
            "Σύμβαση",
            "数字 123 😀",
            "",
        ] {
            assert_eq!(mixed_words(text), vec![], "{text}");
        }
    }

    #[test]
    fn every_mixed_word_is_found_with_its_byte_range() {
        let text = "Cрок пoдачи: 15 января; Rеport";
        let found = mixed_words(text);
        let words: Vec<&str> = found.iter().map(|m| &text[m.at.clone()]).collect();
        assert_eq!(words, vec!["Cрок", "пoдачи", "Rеport"]);
        let fixes: Vec<Option<&str>> = found.iter().map(|m| m.fixed.as_deref()).collect();
        assert_eq!(fixes, vec![Some("Срок"), Some("подачи"), Some("Report")]);
    }
}
