//! `mechcal new`: one deadline, from flags or from answers at a terminal,
//! as a `[[deadline]]` block appended to the file it belongs in
//! (`<mechanism>/<year>.toml`, like `import`'s). Pure: what an answer
//! means, the block, the file and the id; the command (`cli::new`) asks,
//! checks and writes.

use std::collections::HashMap;
use std::path::PathBuf;

use super::import::dates::When;
use super::import::ids;
use super::import::names::Names;
use super::toml_text::{deadline_block, multiline, quoted};
use crate::model::registry::Registry;

/// A deadline as asked for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Draft {
    pub id: Option<String>,
    pub title: String,
    /// A slug.
    pub mechanism: String,
    /// Slugs.
    pub topics: Vec<String>,
    pub due: Option<When>,
    pub timezone: Option<String>,
    pub url: Option<String>,
    pub description: Option<String>,
    pub status: Option<String>,
}

impl Draft {
    /// The file it goes in, relative to the repository.
    pub fn file(&self) -> PathBuf {
        let stem = self
            .due
            .as_ref()
            .and_then(When::year)
            .map_or_else(|| "open".to_string(), |y| y.to_string());
        PathBuf::from(&self.mechanism).join(format!("{stem}.toml"))
    }

    /// Its id: the one given, or one made from the title, with `-2`, `-3`…
    /// if the repository has it.
    pub fn id(&self, existing: &HashMap<String, PathBuf>) -> String {
        if let Some(id) = &self.id {
            return id.clone();
        }
        let base = ids::make(&self.title, self.due.as_ref().and_then(When::year));
        ids::unique(&base, |id| existing.contains_key(id))
    }

    /// The `[[deadline]]` block.
    pub fn block(&self, id: &str) -> String {
        let list = |items: &[String]| {
            format!(
                "[{}]",
                items
                    .iter()
                    .map(|s| quoted(s))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        };
        let mut lines: Vec<(&str, String)> = vec![
            ("title", quoted(&self.title)),
            ("mechanism", quoted(&self.mechanism)),
            ("topics", list(&self.topics)),
        ];
        if let Some(due) = &self.due {
            lines.push(("due", due.toml()));
        }
        if let Some(z) = self
            .timezone
            .as_deref()
            .or(self.due.as_ref().and_then(When::zone))
        {
            lines.push(("timezone", quoted(z)));
        }
        if let Some(url) = &self.url {
            lines.push(("url", quoted(url)));
        }
        if let Some(status) = &self.status {
            lines.push(("status", quoted(status)));
        }
        if let Some(d) = &self.description {
            lines.push(("description", multiline(d)));
        }
        deadline_block(id, &lines)
    }
}

/// `file`'s text with `block` appended (a new file is the block alone).
pub fn appended(file: Option<&str>, block: &str) -> String {
    match file {
        None | Some("") => block.trim_start_matches('\n').to_string(),
        Some(text) if text.ends_with('\n') => format!("{text}{block}"),
        Some(text) => format!("{text}\n{block}"),
    }
}

/// The staff's language for names (`be`, `ru`, else `en`), from the
/// locale variables in the order POSIX reads them (`LC_ALL`,
/// `LC_MESSAGES`, `LANG`).
pub fn language(
    lc_all: Option<&str>,
    lc_messages: Option<&str>,
    lang: Option<&str>,
) -> &'static str {
    let set = [lc_all, lc_messages, lang]
        .into_iter()
        .flatten()
        .find(|v| !v.is_empty())
        .unwrap_or("");
    match set.get(..2) {
        Some("be") => "be",
        Some("ru") => "ru",
        _ => "en",
    }
}

/// A menu's items: (slug, name shown), in the registry's order.
pub fn mechanism_menu(registry: &Registry, lang: &str) -> Vec<(String, String)> {
    registry
        .mechanisms
        .values()
        .map(|m| {
            let (name, full) = (m.name(lang), m.full_name(lang));
            let shown = if name == full {
                name.to_string()
            } else {
                format!("{name} — {full}")
            };
            (m.slug.clone(), shown)
        })
        .collect()
}

pub fn topic_menu(registry: &Registry, lang: &str) -> Vec<(String, String)> {
    registry
        .topics
        .values()
        .map(|t| (t.slug.clone(), t.name(lang).to_string()))
        .collect()
}

/// An answer to a menu: numbers from it or names (slugs or names in any
/// language), several separated by `,` or `;` where `many`.
pub fn pick(
    answer: &str,
    menu: &[(String, String)],
    names: &Names,
    many: bool,
) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let parts: Vec<&str> = if many {
        answer
            .split([',', ';'])
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .collect()
    } else {
        vec![answer.trim()]
    };
    for part in parts {
        let slug = match part.parse::<usize>() {
            Ok(n) => menu
                .get(n.wrapping_sub(1))
                .map(|(slug, _)| slug.clone())
                .ok_or_else(|| format!("{n} is not in the list (1–{})", menu.len()))?,
            Err(_) => names.one(part)?,
        };
        if !out.contains(&slug) {
            out.push(slug);
        }
    }
    if out.is_empty() {
        return Err("give at least one".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    use crate::staff::test_registry as registry;

    #[test]
    fn a_draft_becomes_a_block_in_its_file() {
        let d = Draft {
            title: "Альтернативный доклад".into(),
            mechanism: "cedaw".into(),
            topics: vec!["women".into(), "elections".into()],
            due: Some(When::Date(NaiveDate::from_ymd_opt(2027, 3, 1).unwrap())),
            description: Some("Two\nlines".into()),
            ..Draft::default()
        };
        assert_eq!(d.file(), PathBuf::from("cedaw/2027.toml"));
        let existing: HashMap<String, PathBuf> = [(
            "alternativnyy-doklad-2027".to_string(),
            PathBuf::from("x.toml"),
        )]
        .into();
        assert_eq!(d.id(&existing), "alternativnyy-doklad-2027-2");
        insta::assert_snapshot!(d.block("alternativnyy-doklad-2027-2"), @r#"

        [[deadline]]
        id = "alternativnyy-doklad-2027-2"
        title = "Альтернативный доклад"
        mechanism = "cedaw"
        topics = ["women", "elections"]
        due = 2027-03-01
        description = """
        Two
        lines
        """
        "#);
        assert_eq!(appended(None, "\n[[deadline]]\n"), "[[deadline]]\n");
        assert_eq!(
            appended(Some("# x\n"), "\n[[deadline]]\n"),
            "# x\n\n[[deadline]]\n"
        );
        assert_eq!(
            appended(Some("# x"), "\n[[deadline]]\n"),
            "# x\n\n[[deadline]]\n"
        );
        let open = Draft {
            due: Some(When::Open),
            mechanism: "upr".into(),
            ..Draft::default()
        };
        assert_eq!(open.file(), PathBuf::from("upr/open.toml"));
    }

    #[test]
    fn menus_in_the_staff_language_and_answers_by_number_or_name() {
        assert_eq!(language(None, None, Some("ru_RU.UTF-8")), "ru");
        assert_eq!(
            language(Some("be_BY.UTF-8"), None, Some("ru_RU.UTF-8")),
            "be"
        );
        assert_eq!(language(Some(""), Some("C"), Some("ru_RU")), "en");
        assert_eq!(language(None, None, None), "en");
        let r = registry();
        let menu = mechanism_menu(&r, "ru");
        assert_eq!(
            menu[0].1,
            "CEDAW — Комитет по ликвидации дискриминации в отношении женщин"
        );
        assert_eq!(
            topic_menu(&r, "ru")[1],
            ("elections".into(), "Выборы".into())
        );
        let topics = Names::topics(&r);
        let tmenu = topic_menu(&r, "ru");
        assert_eq!(
            pick("2, women", &tmenu, &topics, true).unwrap(),
            ["elections", "women"]
        );
        assert_eq!(
            pick("Выборы; 2", &tmenu, &topics, true).unwrap(),
            ["elections"]
        );
        assert_eq!(
            pick("9", &tmenu, &topics, true).unwrap_err(),
            "9 is not in the list (1–4)"
        );
        assert_eq!(
            pick(" , ", &tmenu, &topics, true).unwrap_err(),
            "give at least one"
        );
        assert!(pick("wmen", &tmenu, &topics, true)
            .unwrap_err()
            .contains("did you mean `women`"));
        let mechanisms = Names::mechanisms(&r);
        assert_eq!(pick("2", &menu, &mechanisms, false).unwrap(), ["upr"]);
        assert_eq!(pick("cedaw", &menu, &mechanisms, false).unwrap(), ["cedaw"]);
    }
}
