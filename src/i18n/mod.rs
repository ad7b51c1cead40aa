//! The languages of pages, feeds and mails, and their texts.
//!
//! Every text a reader sees is a message of a Fluent file,
//! `src/i18n/<code>.ftl`, embedded in the binary by `build.rs` (adding a
//! language is adding its file; registry names in that language are
//! optional). Plural forms follow CLDR's rules (Russian and Belarusian have
//! three: 1 дзень, 2 дні, 5 дзён), through the `PLURAL` function each file
//! selects on: `{ PLURAL($days) -> [one] … [few] … *[many] … }`. It asks
//! ICU4X's `icu_plurals` rather than fluent-bundle's built-in selection,
//! whose rules (intl_pluralrules 7.0.2) put 22–24 and 25–30 in the wrong
//! Slavic forms ("праз 24 дня" for "праз 24 дні"); the tests pin both.
//!
//! English is the default and the fallback: a message missing from a
//! language (which `tests::every_language_has_every_message` forbids)
//! reads in English rather than failing. Placeables are not wrapped in
//! Unicode isolation marks: staff text is isolated where it is shown
//! (`<bdi>` on pages), and mechcal's own output never carries bidi
//! controls.

use std::borrow::Cow;
use std::sync::OnceLock;

use chrono::{Datelike, NaiveDate};
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

include!(concat!(env!("OUT_DIR"), "/locales.rs"));

/// A language mechcal speaks: an index into [`LOCALES`] (English is 0).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Lang(u8);

struct Language {
    bundle: FluentBundle<FluentResource>,
    /// Every message's id, to format the fixed ones once (see [`Fixed`]).
    ids: Vec<String>,
}

/// What rendering asks for per event, formatted once per language: the
/// messages without arguments, the month names, and the date patterns as
/// templates. A 10,000-event feed asks for a label or a date ~80,000
/// times; through Fluent each time, rendering took ~10% longer.
struct Fixed {
    labels: Labels,
    plain: std::collections::HashMap<String, Cow<'static, str>>,
    months: Vec<String>,
    months_of: Vec<String>,
    date: Template,
    month_heading: Template,
}

/// The labels of a deadline's facts, which every event of a feed and every
/// item of a page repeats: read as fields, not looked up by id.
pub struct Labels {
    pub due: Cow<'static, str>,
    pub end_of_day: Cow<'static, str>,
    pub submit_to: Cow<'static, str>,
    pub link: Cow<'static, str>,
    pub topics: Cow<'static, str>,
    pub mechanism: Cow<'static, str>,
    pub status: Cow<'static, str>,
    pub tentative: Cow<'static, str>,
    pub cancelled: Cow<'static, str>,
}

/// A pattern formatted with markers in place of its arguments, then split
/// at them: filling it is concatenation.
struct Template(Vec<Piece>);

enum Piece {
    Text(String),
    Arg(usize),
}

/// Private-use characters no translation contains, marking argument `i`.
fn marker(i: usize) -> String {
    format!("\u{E000}{i}\u{E001}")
}

impl Template {
    fn new(lang: Lang, id: &str, names: &[&str]) -> Template {
        let args: Vec<(&str, FluentValue<'_>)> = names
            .iter()
            .enumerate()
            .map(|(i, n)| (*n, FluentValue::from(marker(i))))
            .collect();
        let mut rest = lang.format(id, &args);
        let mut pieces = Vec::new();
        while let Some(start) = rest.find('\u{E000}') {
            let after = &rest[start + '\u{E000}'.len_utf8()..];
            let Some(end) = after.find('\u{E001}') else {
                break;
            };
            let Ok(i) = after[..end].parse::<usize>() else {
                break;
            };
            pieces.push(Piece::Text(rest[..start].to_string()));
            pieces.push(Piece::Arg(i));
            rest = after[end + '\u{E001}'.len_utf8()..].to_string();
        }
        pieces.push(Piece::Text(rest));
        Template(pieces)
    }

    fn fill(&self, args: &[&str]) -> String {
        let mut out = String::with_capacity(32);
        for p in &self.0 {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Arg(i) => out.push_str(args.get(*i).copied().unwrap_or_default()),
            }
        }
        out
    }
}

fn fixed() -> &'static [Fixed] {
    static FIXED: OnceLock<Vec<Fixed>> = OnceLock::new();
    FIXED.get_or_init(|| {
        Lang::all()
            .map(|lang| {
                let language = &languages()[usize::from(lang.0)];
                let plain = language
                    .ids
                    .iter()
                    .filter_map(|id| {
                        let pattern = language.bundle.get_message(id)?.value()?;
                        let mut errors = Vec::new();
                        let text = language.bundle.format_pattern(pattern, None, &mut errors);
                        // A message that needs arguments reports them missing.
                        errors.is_empty().then(|| (id.clone(), text))
                    })
                    .collect();
                let month = |suffix: &str| {
                    (1..=12)
                        .map(|m| {
                            lang.format_with(&format!("month-{m}{suffix}"), None)
                                .into_owned()
                        })
                        .collect()
                };
                let t = |id| lang.format_with(id, None);
                Fixed {
                    labels: Labels {
                        due: t("due"),
                        end_of_day: t("end-of-day"),
                        submit_to: t("submit-to"),
                        link: t("link"),
                        topics: t("topics"),
                        mechanism: t("mechanism"),
                        status: t("status"),
                        tentative: t("tentative"),
                        cancelled: t("cancelled"),
                    },
                    plain,
                    months: month(""),
                    months_of: month("-of"),
                    date: Template::new(lang, "date", &["day", "month", "year"]),
                    month_heading: Template::new(lang, "month-heading", &["month", "year"]),
                }
            })
            .collect()
    })
}

fn languages() -> &'static [Language] {
    static LANGUAGES: OnceLock<Vec<Language>> = OnceLock::new();
    LANGUAGES.get_or_init(|| {
        LOCALES
            .iter()
            .map(|&(code, text)| {
                // A file with a syntax error keeps the messages that parsed
                // (the tests fail on any error).
                let resource = FluentResource::try_new(text.to_string())
                    .unwrap_or_else(|(partial, _)| partial);
                let ids = resource
                    .entries()
                    .filter_map(|e| match e {
                        fluent_syntax::ast::Entry::Message(m) => Some(m.id.name.to_string()),
                        _ => None,
                    })
                    .collect();
                let id = code.parse().unwrap_or_default();
                let mut bundle = FluentBundle::new_concurrent(vec![id]);
                bundle.set_use_isolating(false);
                let rules = code
                    .parse::<icu_locale_core::Locale>()
                    .ok()
                    .and_then(|l| icu_plurals::PluralRules::try_new_cardinal((&l).into()).ok());
                let _ = bundle.add_function("PLURAL", move |args, _| plural(rules.as_ref(), args));
                let _ = bundle.add_resource(resource);
                Language { bundle, ids }
            })
            .collect()
    })
}

/// `PLURAL($n)`: the CLDR cardinal category of `$n` (`one`, `few`, …) in
/// the bundle's language, as a string a selector matches; `other` for
/// anything else (a language ICU4X lacks, a non-integer).
fn plural<'a>(
    rules: Option<&icu_plurals::PluralRules>,
    args: &[FluentValue<'a>],
) -> FluentValue<'a> {
    use icu_plurals::PluralCategory as C;
    let category = match (rules, args.first()) {
        (Some(rules), Some(FluentValue::Number(n))) if n.value.fract() == 0.0 => {
            match rules.category_for(n.value as i64) {
                C::Zero => "zero",
                C::One => "one",
                C::Two => "two",
                C::Few => "few",
                C::Many => "many",
                C::Other => "other",
            }
        }
        _ => "other",
    };
    FluentValue::String(Cow::Borrowed(category))
}

/// Arguments of a message: `&[("days", 3.into())]`.
pub type Args<'a> = [(&'a str, FluentValue<'a>)];

impl Lang {
    /// English: the default, and the fallback of every message.
    pub const EN: Lang = Lang(0);

    /// Every language, English first.
    pub fn all() -> impl Iterator<Item = Lang> + Clone {
        (0..LOCALES.len()).map(|i| Lang(i as u8))
    }

    pub fn parse(code: &str) -> Option<Lang> {
        LOCALES
            .iter()
            .position(|(c, _)| *c == code)
            .map(|i| Lang(i as u8))
    }

    /// The code (`en`, `ru`, `be`), as in `?lang=` and `<html lang>`.
    pub fn code(self) -> &'static str {
        LOCALES[usize::from(self.0)].0
    }

    /// Every language's code, for "known: …" in errors.
    pub fn codes() -> impl Iterator<Item = &'static str> + Clone {
        LOCALES.iter().map(|(c, _)| *c)
    }

    /// The language's name in itself (`Беларуская`).
    pub fn name(self) -> Cow<'static, str> {
        self.text("language-name")
    }

    /// The preferred supported language of an `Accept-Language` header
    /// (highest q first, ties in header order); `None` if none is supported.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(f32, usize, Lang)> = None;
        for (i, part) in header.split(',').enumerate() {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces
                .find_map(|p| p.trim().strip_prefix("q="))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let primary = tag.split('-').next().unwrap_or("");
            let Some(lang) = Lang::parse(primary) else {
                continue;
            };
            if q <= 0.0 {
                continue;
            }
            if best.is_none_or(|(bq, bi, _)| q > bq || (q == bq && i < bi)) {
                best = Some((q, i, lang));
            }
        }
        best.map(|(_, _, l)| l)
    }

    /// The message `id` without arguments (borrowed from the embedded
    /// file when it is plain text, as nearly all are).
    pub fn text(self, id: &str) -> Cow<'static, str> {
        match fixed()[usize::from(self.0)].plain.get(id) {
            Some(text) => text.clone(),
            None => self.format_with(id, None),
        }
    }

    /// The labels of a deadline's facts (`due`, `submit-to`, …).
    pub fn labels(self) -> &'static Labels {
        &fixed()[usize::from(self.0)].labels
    }

    /// The message `id` with `args`.
    pub fn format(self, id: &str, args: &Args<'_>) -> String {
        let mut fluent = FluentArgs::with_capacity(args.len());
        for (name, value) in args {
            fluent.set(*name, value.clone());
        }
        self.format_with(id, Some(&fluent)).into_owned()
    }

    fn format_with(self, id: &str, args: Option<&FluentArgs<'_>>) -> Cow<'static, str> {
        let all = languages();
        for language in [&all[usize::from(self.0)], &all[0]] {
            let bundle = &language.bundle;
            if let Some(pattern) = bundle.get_message(id).and_then(|m| m.value()) {
                let mut errors = Vec::new();
                return bundle.format_pattern(pattern, args, &mut errors);
            }
        }
        Cow::Owned(id.to_string())
    }

    /// `15 July 2024` / `15 ліпеня 2024`.
    pub fn date(self, d: NaiveDate) -> String {
        let f = &fixed()[usize::from(self.0)];
        let day = d.day().to_string();
        let year = d.year().to_string();
        f.date
            .fill(&[&day, &f.months_of[d.month0() as usize], &year])
    }

    /// `July 2024` / `Ліпень 2024`.
    pub fn month(self, d: NaiveDate) -> String {
        let f = &fixed()[usize::from(self.0)];
        let year = d.year().to_string();
        f.month_heading
            .fill(&[&f.months[d.month0() as usize], &year])
    }

    /// "in 3 days", "today", "2 days ago", with the language's plural forms.
    pub fn days_left(self, n: i64) -> String {
        match n {
            0 => self.text("today").into_owned(),
            1 => self.text("tomorrow").into_owned(),
            -1 => self.text("yesterday").into_owned(),
            n if n > 0 => self.format("in-days", &[("days", n.into())]),
            n => self.format("days-ago", &[("days", (-n).into())]),
        }
    }
}

#[cfg(test)]
mod tests;
