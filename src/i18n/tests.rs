use std::collections::{BTreeMap, BTreeSet};

use fluent_syntax::ast::{Entry, Expression, InlineExpression, Pattern, PatternElement};

use super::*;

/// Every message id of a file, with the variables its value uses.
fn messages(code: &str, text: &str) -> BTreeMap<String, BTreeSet<String>> {
    let resource = match FluentResource::try_new(text.to_string()) {
        Ok(r) => r,
        Err((_, errors)) => panic!("{code}.ftl does not parse: {errors:?}"),
    };
    let mut out = BTreeMap::new();
    for entry in resource.entries() {
        if let Entry::Message(m) = entry {
            let mut vars = BTreeSet::new();
            if let Some(p) = &m.value {
                pattern_vars(p, &mut vars);
            }
            assert!(
                out.insert(m.id.name.to_string(), vars).is_none(),
                "{code}.ftl: `{}` is defined twice",
                m.id.name
            );
        }
    }
    out
}

fn pattern_vars(p: &Pattern<&str>, vars: &mut BTreeSet<String>) {
    for e in &p.elements {
        if let PatternElement::Placeable { expression } = e {
            expression_vars(expression, vars);
        }
    }
}

fn expression_vars(e: &Expression<&str>, vars: &mut BTreeSet<String>) {
    match e {
        Expression::Inline(i) => inline_vars(i, vars),
        Expression::Select { selector, variants } => {
            inline_vars(selector, vars);
            for v in variants {
                pattern_vars(&v.value, vars);
            }
        }
    }
}

fn inline_vars(e: &InlineExpression<&str>, vars: &mut BTreeSet<String>) {
    match e {
        InlineExpression::VariableReference { id } => {
            vars.insert(id.name.to_string());
        }
        InlineExpression::Placeable { expression } => expression_vars(expression, vars),
        InlineExpression::FunctionReference { arguments, .. } => {
            for a in &arguments.positional {
                inline_vars(a, vars);
            }
        }
        _ => {}
    }
}

#[test]
fn every_language_has_every_message() {
    let (_, en_text) = LOCALES[0];
    let en = messages("en", en_text);
    assert!(en.len() > 50, "en.ftl lost its messages");
    for &(code, text) in &LOCALES[1..] {
        let other = messages(code, text);
        let missing: Vec<&String> = en.keys().filter(|k| !other.contains_key(*k)).collect();
        let extra: Vec<&String> = other.keys().filter(|k| !en.contains_key(*k)).collect();
        assert!(missing.is_empty(), "{code}.ftl lacks {missing:?}");
        assert!(
            extra.is_empty(),
            "{code}.ftl has messages en.ftl lacks: {extra:?}"
        );
        for (id, vars) in &en {
            assert_eq!(
                &other[id], vars,
                "{code}.ftl: `{id}` has other placeholders than in en.ftl"
            );
        }
    }
}

#[test]
fn the_languages_are_english_russian_and_belarusian() {
    let codes: Vec<&str> = Lang::all().map(Lang::code).collect();
    assert_eq!(codes, ["en", "be", "ru"]);
    assert_eq!(Lang::default(), Lang::EN);
    let names: Vec<String> = Lang::all().map(|l| l.name().into_owned()).collect();
    assert_eq!(names, ["English", "Беларуская", "Русский"]);
    assert_eq!(Lang::parse("de"), None);
}

fn lang(code: &str) -> Lang {
    Lang::parse(code).unwrap()
}

#[test]
fn accept_language_table() {
    let cases = [
        ("ru-RU,ru;q=0.9,en-US;q=0.8,en;q=0.7", Some("ru")),
        ("en-GB,en;q=0.9,ru;q=0.8", Some("en")),
        ("de-DE,de;q=0.9,ru;q=0.5,en;q=0.4", Some("ru")),
        ("be,en;q=0.5", Some("be")),
        ("be-BY,ru;q=0.9", Some("be")),
        ("ru;q=0.9,be;q=0.8", Some("ru")),
        ("fr", None),
        ("en;q=0, ru;q=0.1", Some("ru")),
        ("", None),
        ("*", None),
    ];
    for (header, expected) in cases {
        assert_eq!(
            Lang::from_accept_language(header).map(Lang::code),
            expected,
            "{header}"
        );
    }
}

#[test]
fn plural_forms_follow_cldr() {
    let cases = [
        ("en", 0, "today"),
        ("en", 1, "tomorrow"),
        ("en", -1, "yesterday"),
        ("en", 2, "in 2 days"),
        ("en", 21, "in 21 days"),
        ("en", -3, "3 days ago"),
        ("ru", 2, "через 2 дня"),
        ("ru", 5, "через 5 дней"),
        ("ru", 11, "через 11 дней"),
        ("ru", 21, "через 21 день"),
        ("ru", 22, "через 22 дня"),
        ("ru", 112, "через 112 дней"),
        // fluent-bundle's own rules got these two wrong (see the module doc).
        ("ru", 25, "через 25 дней"),
        ("ru", -30, "30 дней назад"),
        ("ru", -3, "3 дня назад"),
        ("be", 0, "сёння"),
        ("be", 1, "заўтра"),
        ("be", 2, "праз 2 дні"),
        ("be", 5, "праз 5 дзён"),
        ("be", 11, "праз 11 дзён"),
        ("be", 14, "праз 14 дзён"),
        ("be", 21, "праз 21 дзень"),
        ("be", 24, "праз 24 дні"),
        ("be", 25, "праз 25 дзён"),
        ("be", 102, "праз 102 дні"),
        ("be", -1, "учора"),
        ("be", -2, "2 дні таму"),
        ("be", -5, "5 дзён таму"),
        ("be", -31, "31 дзень таму"),
    ];
    for (code, n, expected) in cases {
        assert_eq!(lang(code).days_left(n), expected, "{code} {n}");
    }
}

#[test]
fn dates_and_months() {
    let d = NaiveDate::from_ymd_opt(2024, 7, 15).unwrap();
    assert_eq!(lang("en").date(d), "15 July 2024");
    assert_eq!(lang("ru").date(d), "15 июля 2024");
    assert_eq!(lang("be").date(d), "15 ліпеня 2024");
    assert_eq!(lang("ru").month(d), "Июль 2024");
    assert_eq!(lang("be").month(d), "Ліпень 2024");
    let feb = NaiveDate::from_ymd_opt(2027, 2, 1).unwrap();
    assert_eq!(lang("be").date(feb), "1 лютага 2027");
    // Four-digit years are not grouped ("2,027").
    assert_eq!(lang("en").month(feb), "February 2027");
}

#[test]
fn texts_carry_no_bidi_marks_and_fall_back_to_english() {
    let address = "a***@example.org";
    let text = lang("be").format("unsubscribe-question", &[("address", address.into())]);
    assert_eq!(text, "Больш не дасылаць напаміны на a***@example.org?");
    assert!(!text.contains(['\u{2068}', '\u{2069}']));
    // An id no file has reads as itself, not as a panic.
    assert_eq!(lang("be").text("no-such-message"), "no-such-message");
}

#[test]
fn formatted_once_texts_equal_fluents_own() {
    for lang in Lang::all() {
        for m in 1..=12 {
            let d = NaiveDate::from_ymd_opt(2027, m, 9).unwrap();
            let month = lang.text(&format!("month-{m}-of"));
            let by_fluent = lang.format(
                "date",
                &[
                    ("day", 9.into()),
                    ("month", month.into()),
                    ("year", "2027".into()),
                ],
            );
            assert_eq!(lang.date(d), by_fluent, "{}", lang.code());
            let heading = lang.format(
                "month-heading",
                &[
                    ("month", lang.text(&format!("month-{m}")).into()),
                    ("year", "2027".into()),
                ],
            );
            assert_eq!(lang.month(d), heading, "{}", lang.code());
        }
        let languages = languages();
        let bundle = &languages[usize::from(lang.0)].bundle;
        let pattern = bundle.get_message("due").unwrap().value().unwrap();
        assert_eq!(
            lang.text("due"),
            bundle.format_pattern(pattern, None, &mut Vec::new())
        );
    }
}
