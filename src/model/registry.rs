//! The registry's model: the mechanisms and topics that deadlines may name,
//! in the order `registry.toml` lists them (parsed by `load::registry`).

use indexmap::IndexMap;

/// A human-rights mechanism (`[mechanisms.cerd]`), named in English and
/// optionally in other languages (`[mechanisms.cerd.be]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mechanism {
    pub slug: String,
    /// Short name for month views and subjects: `CERD`.
    pub name: String,
    /// `Committee on the Elimination of Racial Discrimination`.
    pub full_name: String,
    pub url: Option<String>,
    /// Names in other languages, by language code; either may be missing.
    pub names: IndexMap<String, Names>,
}

/// A mechanism's names in one language.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    pub name: Option<String>,
    pub full_name: Option<String>,
}

impl Mechanism {
    /// The short name in `lang` (a language code), falling back to English.
    pub fn name(&self, lang: &str) -> &str {
        if self.names.is_empty() || lang == "en" {
            return &self.name;
        }
        self.names
            .get(lang)
            .and_then(|n| n.name.as_deref())
            .unwrap_or(&self.name)
    }

    /// The full name in `lang`, falling back to English.
    pub fn full_name(&self, lang: &str) -> &str {
        if self.names.is_empty() || lang == "en" {
            return &self.full_name;
        }
        self.names
            .get(lang)
            .and_then(|n| n.full_name.as_deref())
            .unwrap_or(&self.full_name)
    }
}

/// A topic (`[topics.women]`), named in English (`en`, required) and
/// optionally in other languages (`be = "Жанчыны"`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Topic {
    pub slug: String,
    pub en: String,
    /// Names in other languages, by language code.
    pub names: IndexMap<String, String>,
}

impl Topic {
    /// The topic's name in `lang` (a language code), falling back to English.
    pub fn name(&self, lang: &str) -> &str {
        if self.names.is_empty() || lang == "en" {
            return &self.en;
        }
        self.names.get(lang).map_or(&self.en, String::as_str)
    }
}

/// A kind of milestone (`[kinds.submission]`): named like a topic, and
/// reminded of unless `remind = false` (sessions are for information).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MilestoneKind {
    pub slug: String,
    pub en: String,
    pub names: IndexMap<String, String>,
    /// Whether milestones of this kind are reminded of by default.
    pub remind: bool,
}

impl MilestoneKind {
    /// The kind's name in `lang`, falling back to English.
    pub fn name(&self, lang: &str) -> &str {
        if self.names.is_empty() || lang == "en" {
            return &self.en;
        }
        self.names.get(lang).map_or(&self.en, String::as_str)
    }
}

/// Mechanisms, topics and milestone kinds in the order the registry lists
/// them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Registry {
    pub mechanisms: IndexMap<String, Mechanism>,
    pub topics: IndexMap<String, Topic>,
    /// Optional: a registry without `[kinds]` allows no milestones.
    pub kinds: IndexMap<String, MilestoneKind>,
}

impl Registry {
    pub fn mechanism(&self, slug: &str) -> Option<&Mechanism> {
        self.mechanisms.get(slug)
    }

    pub fn topic(&self, slug: &str) -> Option<&Topic> {
        self.topics.get(slug)
    }

    pub fn kind(&self, slug: &str) -> Option<&MilestoneKind> {
        self.kinds.get(slug)
    }

    pub fn kind_slugs(&self) -> impl Iterator<Item = &str> + Clone {
        self.kinds.keys().map(String::as_str)
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
