//! The registry's model: the mechanisms and topics that deadlines may name,
//! in the order `registry.toml` lists them (parsed by `load::registry`).

use indexmap::IndexMap;
use serde::Serialize;

/// A human-rights mechanism (`[mechanisms.cerd]`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Mechanism {
    pub slug: String,
    /// Short name for month views and subjects: `CERD`.
    pub name: String,
    /// `Committee on the Elimination of Racial Discrimination`.
    pub full_name: String,
    pub url: Option<String>,
}

/// A topic (`[topics.women]`), named in English and optionally Russian and
/// Belarusian.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Topic {
    pub slug: String,
    pub en: String,
    pub ru: Option<String>,
    pub be: Option<String>,
}

impl Topic {
    /// The topic's name in `lang` (`en`, `ru`, `be`), falling back to English.
    pub fn name(&self, lang: &str) -> &str {
        match lang {
            "ru" => self.ru.as_deref(),
            "be" => self.be.as_deref(),
            _ => None,
        }
        .unwrap_or(&self.en)
    }
}

/// Mechanisms and topics in the order the registry lists them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registry {
    pub mechanisms: IndexMap<String, Mechanism>,
    pub topics: IndexMap<String, Topic>,
}

impl Registry {
    pub fn mechanism(&self, slug: &str) -> Option<&Mechanism> {
        self.mechanisms.get(slug)
    }

    pub fn topic(&self, slug: &str) -> Option<&Topic> {
        self.topics.get(slug)
    }

    /// A topic's name in `lang`, or its slug if the registry lacks it.
    pub fn topic_name<'a>(&'a self, slug: &'a str, lang: &str) -> &'a str {
        self.topic(slug).map_or(slug, |t| t.name(lang))
    }

    pub fn mechanism_slugs(&self) -> impl Iterator<Item = &str> + Clone {
        self.mechanisms.keys().map(String::as_str)
    }

    pub fn topic_slugs(&self) -> impl Iterator<Item = &str> + Clone {
        self.topics.keys().map(String::as_str)
    }
}
