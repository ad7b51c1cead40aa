//! The registry (`registry.toml` at the repository root): the mechanisms and
//! topics that deadlines may name. Keeping them in one file means a deadline
//! cannot invent a topic by a typo, and the feeds can name topics in several
//! languages.

use indexmap::IndexMap;
use toml::de::DeValue;

use crate::i18n::Lang;
use crate::load::diagnostic::{Diagnostic, SourceFile};
use crate::load::tables::{self, Sink, Table};
use crate::model::registry::{Mechanism, MilestoneKind, Names, Registry, Topic};

/// Parses and validates `registry.toml`. Returns the registry (possibly partial)
/// and every problem found; the registry is usable only if there is no error.
pub fn parse(file: &SourceFile) -> (Registry, Vec<Diagnostic>) {
    let mut sink = Sink::new(file);
    let mut registry = Registry::default();
    if let Some(doc) = tables::parse_document(file, &mut sink) {
        let root = Table::new(&doc, 0..0, "the registry");
        root.check_keys(&mut sink, &["mechanisms", "topics", "kinds"]);
        for (section, what) in [
            ("mechanisms", "mechanism"),
            ("topics", "topic"),
            ("kinds", "milestone kind"),
        ] {
            let Some(table) = root.optional_table(&mut sink, section) else {
                // `[kinds]` is optional: without it, no entry has milestones.
                if root.get(section).is_none() && section != "kinds" {
                    sink.error(0..0, format!("the registry has no `[{section}]`"))
                        .help = Some(format!("add at least one `[{section}.<slug>]` table"));
                }
                continue;
            };
            for (key, value) in table.table.iter() {
                let slug = key.get_ref().as_ref();
                if !tables::is_slug(slug) {
                    let d = sink.error(
                        key.span(),
                        format!("{what} slug `{slug}` may only use `a-z`, `0-9` and `-`"),
                    );
                    let fixed = tables::slugify(slug);
                    if !fixed.is_empty() {
                        d.help = Some(format!("write `[{section}.{fixed}]`"));
                    }
                }
                let DeValue::Table(t) = value.get_ref() else {
                    sink.error(
                        value.span(),
                        format!(
                            "{what} `{slug}` must be a table, found {}",
                            tables::type_name(value.get_ref())
                        ),
                    )
                    .help = Some(format!(
                        "write it as `[{section}.{slug}]` with its keys below"
                    ));
                    continue;
                };
                let entry = Table::new(t, key.span(), format!("{what} `{slug}`"));
                if section == "mechanisms" {
                    if let Some(m) = mechanism(&mut sink, slug, &entry) {
                        registry.mechanisms.insert(slug.to_string(), m);
                    }
                } else if section == "kinds" {
                    if slug.bytes().all(|b| b.is_ascii_digit()) {
                        sink.error(
                            key.span(),
                            format!("milestone kind `{slug}` is a number"),
                        )
                        .help = Some(
                            "item ids end in `.<kind>.<year>`: name the kind with letters, e.g. `session`".into(),
                        );
                    } else if let Some(k) = kind(&mut sink, slug, &entry) {
                        registry.kinds.insert(slug.to_string(), k);
                    }
                } else if let Some(t) = topic(&mut sink, slug, &entry) {
                    registry.topics.insert(slug.to_string(), t);
                }
            }
        }
    }
    (registry, sink.diags)
}

/// The languages a registry entry may name itself in besides English.
fn other_languages() -> impl Iterator<Item = &'static str> + Clone {
    Lang::codes().filter(|c| *c != "en")
}

fn mechanism(sink: &mut Sink<'_>, slug: &str, t: &Table<'_, '_>) -> Option<Mechanism> {
    let mut keys = vec!["name", "full_name", "url"];
    keys.extend(other_languages());
    t.check_keys(sink, &keys);
    let name = t.required_str(sink, "name", "\"CERD\"");
    let name = non_empty(sink, name, "name");
    let full_name = t.required_str(sink, "full_name", "\"Committee on …\"");
    let full_name = non_empty(sink, full_name, "full_name");
    let url = t
        .optional_str(sink, "url")
        .and_then(|u| crate::load::values::check_http_url(sink, "url", &u));
    let mut names = IndexMap::new();
    for code in other_languages() {
        let Some(value) = t.get(code) else {
            continue;
        };
        let DeValue::Table(table) = value.get_ref() else {
            sink.error(
                value.span(),
                format!(
                    "`{code}` must be a table of names, found {}",
                    tables::type_name(value.get_ref())
                ),
            )
            .help = Some(format!(
                "write `[mechanisms.{slug}.{code}]` with `name = \"…\"` and/or `full_name = \"…\"` below it"
            ));
            continue;
        };
        let span = t.key_span(code).unwrap_or(value.span());
        let table = Table::new(table, span, format!("`[mechanisms.{slug}.{code}]`"));
        table.check_keys(sink, &["name", "full_name"]);
        let name = table.optional_str(sink, "name");
        let full_name = table.optional_str(sink, "full_name");
        names.insert(
            code.to_string(),
            Names {
                name: non_empty(sink, name, "name"),
                full_name: non_empty(sink, full_name, "full_name"),
            },
        );
    }
    Some(Mechanism {
        slug: slug.to_string(),
        name: name?,
        full_name: full_name?,
        url,
        names,
    })
}

fn topic(sink: &mut Sink<'_>, slug: &str, t: &Table<'_, '_>) -> Option<Topic> {
    let mut keys = vec!["en"];
    keys.extend(other_languages());
    t.check_keys(sink, &keys);
    let en = t.required_str(sink, "en", "\"Women\"");
    let en = non_empty(sink, en, "en");
    let mut names = IndexMap::new();
    for code in other_languages() {
        let name = t.optional_str(sink, code);
        if let Some(name) = non_empty(sink, name, code) {
            names.insert(code.to_string(), name);
        }
    }
    Some(Topic {
        slug: slug.to_string(),
        en: en?,
        names,
    })
}

fn kind(sink: &mut Sink<'_>, slug: &str, t: &Table<'_, '_>) -> Option<MilestoneKind> {
    let mut keys = vec!["en", "remind"];
    keys.extend(other_languages());
    t.check_keys(sink, &keys);
    let en = t.required_str(sink, "en", "\"Stakeholder submission\"");
    let en = non_empty(sink, en, "en");
    let mut names = IndexMap::new();
    for code in other_languages() {
        let name = t.optional_str(sink, code);
        if let Some(name) = non_empty(sink, name, code) {
            names.insert(code.to_string(), name);
        }
    }
    let remind = match t.get("remind") {
        None => Some(true),
        Some(v) => tables::as_bool(sink, "`remind`", v),
    };
    Some(MilestoneKind {
        slug: slug.to_string(),
        en: en?,
        names,
        remind: remind?,
    })
}

/// A display name: by the rule of titles (one line, not blank, no control,
/// bidirectional or zero-width character, at most 300 characters), since
/// it reaches readers the same ways (feeds' SUMMARY, CATEGORIES and
/// X-WR-CALNAME, mail, the page).
fn non_empty(
    sink: &mut Sink<'_>,
    value: Option<toml::Spanned<String>>,
    key: &str,
) -> Option<String> {
    super::text::single_line(sink, key, value?, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names reach readers as titles do (feeds' SUMMARY, CATEGORIES and
    /// X-WR-CALNAME): a bidirectional override or a zero-width character
    /// in one is refused, in every place a name can be.
    #[test]
    fn names_follow_the_rule_of_titles() {
        for (place, name) in [
            ("[mechanisms.un]\nname", "UN\u{202e}"),
            (
                "[mechanisms.un]\nname = \"UN\"\nfull_name",
                "United\u{200b}Nations",
            ),
            ("[topics.women]\nen", "Wo\u{2066}men"),
            ("[topics.women]\nru", "\u{200f}Женщины"),
            ("[kinds.session]\nen", "Session\u{feff}"),
        ] {
            let mut text = format!("{place} = \"{name}\"\n");
            if place.starts_with("[mechanisms") && !place.contains("full_name") {
                text.push_str("full_name = \"United Nations\"\n");
            }
            let (_, diags) = parse(&SourceFile::new("registry.toml", text.clone()));
            assert!(
                diags
                    .iter()
                    .any(|d| d.is_error() && d.message.contains("contains U+")),
                "{text}: {diags:?}"
            );
        }
    }

    #[test]
    fn parses_in_order() {
        let file = SourceFile::new(
            "registry.toml",
            r#"
[mechanisms.upr]
name = "UPR"
full_name = "Universal Periodic Review"
url = "https://www.ohchr.org/en/hr-bodies/upr"

[mechanisms.cerd]
name = "CERD"
full_name = "Committee on the Elimination of Racial Discrimination"

[mechanisms.cerd.be]
full_name = "Камітэт па ліквідацыі расавай дыскрымінацыі"

[topics.women]
en = "Women"
ru = "Женщины"
"#,
        );
        let (registry, diags) = parse(&file);
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(
            registry.mechanism_slugs().collect::<Vec<_>>(),
            ["upr", "cerd"]
        );
        let women = registry.topic("women").unwrap();
        assert_eq!(women.name("ru"), "Женщины");
        assert_eq!(women.name("be"), "Women");
        let cerd = registry.mechanism("cerd").unwrap();
        assert_eq!(cerd.name("be"), "CERD");
        assert_eq!(
            cerd.full_name("be"),
            "Камітэт па ліквідацыі расавай дыскрымінацыі"
        );
        assert_eq!(cerd.full_name("ru"), cerd.full_name);
    }
}
