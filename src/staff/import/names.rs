//! Topic and mechanism cells matched against the registry: by slug or by
//! a name in any language, blind to case, `ё`/`е`, quotes and runs of
//! spaces; several per cell, separated by `,` `;` or line breaks (a whole
//! cell that is one name with a comma in it matches first). Pure.

use std::collections::HashMap;

use crate::model::registry::Registry;

/// Names (as compared) → slug, for one kind of registry item.
#[derive(Debug)]
pub struct Names {
    /// `topic` or `mechanism`, for messages.
    what: &'static str,
    by_name: HashMap<String, String>,
    /// Every name as written, with its slug, for "did you mean".
    shown: Vec<(String, String)>,
}

/// A name as compared.
fn fold(name: &str) -> String {
    let lower = name
        .to_lowercase()
        .replace('ё', "е")
        .replace(['“', '”', '«', '»', '"', '„'], "");
    lower
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .trim_matches(['.', ' '])
        .to_string()
}

impl Names {
    pub fn topics(registry: &Registry) -> Names {
        let mut names = Names::new("topic");
        for t in registry.topics.values() {
            names.add(&t.slug, &t.slug);
            names.add(&t.slug, &t.en);
            for n in t.names.values() {
                names.add(&t.slug, n);
            }
        }
        names
    }

    pub fn mechanisms(registry: &Registry) -> Names {
        let mut names = Names::new("mechanism");
        for m in registry.mechanisms.values() {
            names.add(&m.slug, &m.slug);
            names.add(&m.slug, &m.name);
            names.add(&m.slug, &m.full_name);
            for n in m.names.values() {
                for name in [&n.name, &n.full_name].into_iter().flatten() {
                    names.add(&m.slug, name);
                }
            }
        }
        names
    }

    fn new(what: &'static str) -> Names {
        Names {
            what,
            by_name: HashMap::new(),
            shown: Vec::new(),
        }
    }

    fn add(&mut self, slug: &str, name: &str) {
        let folded = fold(name);
        if folded.is_empty() {
            return;
        }
        // The first item to claim a name keeps it (the registry's order).
        self.by_name
            .entry(folded)
            .or_insert_with(|| slug.to_string());
        self.shown.push((name.to_string(), slug.to_string()));
    }

    /// One name's slug.
    pub fn one(&self, name: &str) -> Result<String, String> {
        if let Some(slug) = self.by_name.get(&fold(name)) {
            return Ok(slug.clone());
        }
        let shown = self.shown.iter().map(|(n, _)| n.as_str());
        let hint = crate::load::suggest::nearest(name.trim(), shown).and_then(|n| {
            let slug = &self.shown.iter().find(|(s, _)| s == n)?.1;
            Some(if n == slug {
                format!("did you mean `{slug}`?")
            } else {
                format!("did you mean `{slug}` (“{n}”)?")
            })
        });
        let mut error = format!(
            "no {} in registry.toml is called “{}”",
            self.what,
            name.trim()
        );
        match hint {
            Some(hint) => error = format!("{error}\n  help: {hint}"),
            None => {
                error = format!(
                    "{error}\n  help: use a slug or a name from registry.toml, or add the {} there first",
                    self.what
                )
            }
        }
        Err(error)
    }

    /// A cell's slugs, in the order written, none twice. An empty cell is
    /// an empty list.
    pub fn cell(&self, text: &str) -> Result<Vec<String>, String> {
        if text.trim().is_empty() {
            return Ok(Vec::new());
        }
        if let Ok(slug) = self.one(text) {
            return Ok(vec![slug]);
        }
        let mut out: Vec<String> = Vec::new();
        for part in text
            .split([',', ';', '\n'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let slug = self.one(part)?;
            if !out.contains(&slug) {
                out.push(slug);
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::staff::test_registry as registry;

    #[test]
    fn topics_by_slug_or_any_name_several_per_cell() {
        let names = Names::topics(&registry());
        for (cell, expected) in [
            ("women", &["women"][..]),
            ("  ЖЕНЩИНЫ ", &["women"]),
            ("Жанчыны", &["women"]),
            (
                "women; Право на свободу  ассоциаций",
                &["women", "freedom-of-association"],
            ),
            ("Выборы,\nwomen, Женщины", &["elections", "women"]),
            // A name with a comma in it matches whole before the cell is split.
            ("Elections, referendums", &["elections"]),
            ("«Женщины»", &["women"]),
            ("", &[]),
        ] {
            assert_eq!(names.cell(cell).unwrap(), expected, "{cell:?}");
        }
    }

    #[test]
    fn a_name_that_matches_nothing_says_what_is_near() {
        let names = Names::topics(&registry());
        assert_eq!(
            names.cell("women, Женщны").unwrap_err(),
            "no topic in registry.toml is called “Женщны”\n  help: did you mean `women` (“Женщины”)?"
        );
        assert_eq!(
            names.cell("wmen").unwrap_err(),
            "no topic in registry.toml is called “wmen”\n  help: did you mean `women`?"
        );
        assert!(names.cell("торговля людьми").unwrap_err().ends_with(
            "help: use a slug or a name from registry.toml, or add the topic there first"
        ));
    }

    #[test]
    fn mechanisms_by_short_or_full_name_in_any_language() {
        let names = Names::mechanisms(&registry());
        for cell in [
            "cedaw",
            "CEDAW",
            "Committee on the elimination of discrimination against women",
            "Комитет по ликвидации дискриминации в отношении женщин",
        ] {
            assert_eq!(names.cell(cell).unwrap(), ["cedaw"], "{cell}");
        }
        assert_eq!(
            names.cell("Спецыяльныя працэдуры").unwrap(),
            ["special-procedures"]
        );
        assert!(names
            .cell("CEDAV")
            .unwrap_err()
            .contains("did you mean `cedaw`"));
    }
}
