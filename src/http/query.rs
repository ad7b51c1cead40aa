//! Query strings of feeds and pages: `?topic=a&topic=b&mechanism=m&lang=ru&alarm=P3D`.
//!
//! Parsing is pure and strict: an unknown parameter, a repeated single-valued
//! one, a bad language or alarm is a 400 that says what is wrong; a topic or
//! mechanism the registry does not know is a 404 that lists the valid ones.

use crate::i18n::Lang;
use crate::load::suggest;
use crate::model::catalog::Filter;
use crate::model::registry::Registry;
use crate::render::feed::Alarm;

/// The longest query string accepted, in bytes.
pub const MAX_QUERY_BYTES: usize = 2048;
/// The most topic plus mechanism values one query may name.
pub const MAX_FILTER_VALUES: usize = 32;

/// What a query asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Query {
    pub filter: Filter,
    /// `None`: not given (pages then follow `Accept-Language`).
    pub lang: Option<Lang>,
    /// `None`: not given; `Some(None)`: `alarm=none`.
    pub alarm: Option<Option<Alarm>>,
}

/// Why a query was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryError {
    /// 400 Bad Request.
    Malformed(String),
    /// 404 Not Found.
    Unknown(String),
}

/// Which parameters a route takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Allowed {
    /// `topic`, `mechanism`, `lang`, `alarm` (`/calendar.ics`).
    Feed,
    /// `lang`, `alarm` (`/topics/x.ics`, `/deadlines/x.ics`).
    Fixed,
    /// `topic`, `mechanism`, `lang` (`/`, `/deadlines.json`).
    Listing,
    /// `lang` (detail pages).
    LangOnly,
}

impl Allowed {
    fn names(self) -> &'static [&'static str] {
        match self {
            Allowed::Feed => &["topic", "mechanism", "lang", "alarm"],
            Allowed::Fixed => &["lang", "alarm"],
            Allowed::Listing => &["topic", "mechanism", "lang"],
            Allowed::LangOnly => &["lang"],
        }
    }
}

/// Parses `raw` (the part after `?`, if any) for a route taking `allowed`.
pub fn parse(
    raw: Option<&str>,
    allowed: Allowed,
    registry: &Registry,
) -> Result<Query, QueryError> {
    let raw = raw.unwrap_or("");
    if raw.len() > MAX_QUERY_BYTES {
        return Err(QueryError::Malformed(format!(
            "the query string is longer than {MAX_QUERY_BYTES} bytes"
        )));
    }
    let mut q = Query::default();
    let names = allowed.names();
    let mut filter_values = 0;
    for (key, value) in url::form_urlencoded::parse(raw.as_bytes()) {
        if key.is_empty() && value.is_empty() {
            continue;
        }
        if !names.contains(&key.as_ref()) {
            let key = shown(&key);
            let near = suggest::did_you_mean(&key, names.iter().copied())
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            let hint = if matches!(key.as_ref(), "topic" | "mechanism") {
                "; to combine filters, use /calendar.ics?topic=…&mechanism=…".to_string()
            } else {
                String::new()
            };
            return Err(QueryError::Malformed(format!(
                "unknown query parameter `{key}`{near}; this address takes: {}{hint}",
                names.join(", ")
            )));
        }
        match key.as_ref() {
            "topic" | "mechanism" => {
                let (list, known, what): (&mut Vec<String>, Vec<&str>, &str) = if key == "topic" {
                    (
                        &mut q.filter.topics,
                        registry.topic_slugs().collect(),
                        "topic",
                    )
                } else {
                    (
                        &mut q.filter.mechanisms,
                        registry.mechanism_slugs().collect(),
                        "mechanism",
                    )
                };
                if !known.contains(&value.as_ref()) {
                    return Err(unknown(what, &value, &known));
                }
                if !list.iter().any(|v| v == value.as_ref()) {
                    list.push(value.into_owned());
                }
                filter_values += 1;
                if filter_values > MAX_FILTER_VALUES {
                    return Err(QueryError::Malformed(format!(
                        "at most {MAX_FILTER_VALUES} topics and mechanisms per query"
                    )));
                }
            }
            "lang" => {
                if q.lang.is_some() {
                    return Err(QueryError::Malformed("`lang` is given twice".into()));
                }
                q.lang = Some(Lang::parse(&value).ok_or_else(|| {
                    QueryError::Malformed(format!(
                        "unknown language `{}`; use one of {}",
                        shown(&value),
                        crate::load::tables::list(Lang::codes())
                    ))
                })?);
            }
            "alarm" => {
                if q.alarm.is_some() {
                    return Err(QueryError::Malformed("`alarm` is given twice".into()));
                }
                q.alarm = Some(if value == "none" {
                    None
                } else {
                    Some(Alarm::parse(&value).ok_or_else(|| {
                        QueryError::Malformed(format!(
                            "`alarm={}` is not a duration before the deadline: use e.g. `P7D`, `PT12H`, or `none` (at most P365D)",
                            shown(&value)
                        ))
                    })?)
                });
            }
            _ => unreachable!("checked against the allowed names above"),
        }
    }
    // A canonical filter: equal filters share one cached rendering.
    q.filter.topics.sort();
    q.filter.mechanisms.sort();
    Ok(q)
}

/// A value of the request as an error quotes it: control characters
/// escaped (a value cannot add lines to the answer), at most 100
/// characters.
pub fn shown(value: &str) -> String {
    crate::load::diagnostic::escape(value, 100).into_owned()
}

/// A 404 for a slug the registry does not know, listing the valid ones.
pub fn unknown(what: &str, value: &str, known: &[&str]) -> QueryError {
    let value = &shown(value);
    let near = suggest::did_you_mean(value, known.iter().copied())
        .map(|h| format!("{h}\n"))
        .unwrap_or_default();
    QueryError::Unknown(format!(
        "unknown {what} `{value}`\n{near}valid {what}s: {}\n",
        known.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    fn registry() -> Registry {
        testing::catalog(&[]).registry().clone()
    }

    #[test]
    fn accepted_queries() {
        let r = registry();
        let q = parse(
            Some("topic=women&topic=discrimination&mechanism=cerd&lang=ru&alarm=P3D"),
            Allowed::Feed,
            &r,
        )
        .unwrap();
        assert_eq!(q.filter.topics, ["discrimination", "women"]);
        assert_eq!(q.filter.mechanisms, ["cerd"]);
        assert_eq!(q.lang, Some(Lang::parse("ru").unwrap()));
        assert_eq!(q.alarm, Some(Alarm::parse("P3D")));
        let q = parse(
            Some("alarm=none&topic=women&topic=women"),
            Allowed::Feed,
            &r,
        )
        .unwrap();
        assert_eq!(q.alarm, Some(None));
        assert_eq!(q.filter.topics, ["women"]);
        assert_eq!(parse(None, Allowed::Feed, &r).unwrap(), Query::default());
        assert_eq!(
            parse(Some("&"), Allowed::Feed, &r).unwrap(),
            Query::default()
        );
    }

    #[test]
    fn refused_queries() {
        let r = registry();
        let long = format!("topic={}", "x".repeat(3000));
        let many = "topic=women&".repeat(40);
        let cases: Vec<(&str, Allowed, QueryError)> = vec![
            ("topics=women", Allowed::Feed, QueryError::Malformed("unknown query parameter `topics` (did you mean `topic`?); this address takes: topic, mechanism, lang, alarm".into())),
            ("topic=women", Allowed::Fixed, QueryError::Malformed("unknown query parameter `topic`; this address takes: lang, alarm; to combine filters, use /calendar.ics?topic=…&mechanism=…".into())),
            ("lang=de", Allowed::Feed, QueryError::Malformed("unknown language `de`; use one of `en`, `be`, `ru`".into())),
            ("lang=en&lang=ru", Allowed::Feed, QueryError::Malformed("`lang` is given twice".into())),
            ("alarm=tomorrow", Allowed::Feed, QueryError::Malformed("`alarm=tomorrow` is not a duration before the deadline: use e.g. `P7D`, `PT12H`, or `none` (at most P365D)".into())),
            ("alarm=P1D", Allowed::Listing, QueryError::Malformed("unknown query parameter `alarm`; this address takes: topic, mechanism, lang".into())),
            ("topic=womens", Allowed::Feed, QueryError::Unknown("unknown topic `womens`\ndid you mean `women`?\nvalid topics: women, discrimination\n".into())),
            ("mechanism=osce", Allowed::Feed, QueryError::Unknown("unknown mechanism `osce`\nvalid mechanisms: cerd, upr\n".into())),
            (&long, Allowed::Feed, QueryError::Malformed("the query string is longer than 2048 bytes".into())),
        ];
        for (raw, allowed, expected) in cases {
            assert_eq!(parse(Some(raw), allowed, &r), Err(expected), "{raw}");
        }
        assert!(
            matches!(parse(Some(&many), Allowed::Feed, &r), Err(QueryError::Malformed(m)) if m.contains("at most"))
        );
    }
}
