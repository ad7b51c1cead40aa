//! `/deadlines.json`: the feed's entries as JSON (schema in docs/src/reference/json.md).
//! Deterministic like the feeds: no clock inside, so the same data gives the
//! same bytes.

use serde::Serialize;

use crate::model::catalog::{Catalog, Filter};
use crate::model::deadline::{Deadline, Due, SubmitTo};
use crate::model::schedule::When;
use crate::render::feed::{self, FeedOptions, Versions};

use super::links::Links;

/// The schema version; bump it on incompatible changes.
pub const SCHEMA: u32 = 1;

#[derive(Serialize)]
struct Document<'a> {
    schema: u32,
    calendar: Calendar<'a>,
    deadlines: Vec<Entry<'a>>,
}

#[derive(Serialize)]
struct Calendar<'a> {
    name: &'a str,
    version: String,
    language: &'static str,
    topics: &'a [String],
    mechanisms: &'a [String],
}

#[derive(Serialize)]
struct Entry<'a> {
    /// The item's id: the entry's, then `.<kind>` for a milestone and
    /// `.<year>` for a yearly date's occurrence.
    id: &'a str,
    /// The entry (`[[deadline]] id`) the item belongs to.
    entry: &'a str,
    uid: String,
    title: &'a str,
    summary: String,
    status: &'static str,
    mechanism: Named<'a>,
    topics: Vec<Named<'a>>,
    /// The milestone this item is, if the entry has several.
    milestone: Option<MilestoneJson<'a>>,
    due: DueJson,
    /// When submissions open, if known.
    opens: Option<WhenJson>,
    /// The date an extended (or moved) due replaces.
    extended_from: Option<WhenJson>,
    /// `yearly` for a date that comes back every year; `year` is then this
    /// occurrence's, and `until` the last day one may fall on.
    repeat: Option<&'static str>,
    year: Option<i32>,
    until: Option<String>,
    /// Whether subscribers are reminded of it (not of sessions nor open calls).
    remind: bool,
    country: Option<&'a str>,
    body: Option<&'a str>,
    url: Option<&'a str>,
    submit_to: Option<SubmitJson<'a>>,
    description: Option<&'a str>,
    /// What the submission must be like; null when the entry says nothing.
    requirements: Option<RequirementsJson<'a>>,
    sequence: u32,
    last_modified: String,
    links: LinksJson,
}

#[derive(Serialize)]
struct Named<'a> {
    slug: &'a str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    full_name: Option<&'a str>,
}

#[derive(Serialize)]
struct MilestoneJson<'a> {
    kind: &'a str,
    label: Option<&'a str>,
    /// The label, or the kind's name in the feed's language.
    name: &'a str,
}

#[derive(Serialize)]
struct WhenJson {
    /// The calendar date in the item's zone.
    date: String,
    /// The instant, UTC (the start of the day for an all-day `opens`, the
    /// end of it for an all-day `extended_from`).
    instant: String,
    written: String,
}

#[derive(Serialize)]
struct DueJson {
    /// `date` (all day), `local` (wall-clock time in `timezone`),
    /// `instant`, or `open` (until further notice: no date nor instant).
    kind: &'static str,
    /// The calendar date in `timezone`.
    date: Option<String>,
    /// The instant it passes, UTC.
    instant: Option<String>,
    /// As written: `2027-03-31T12:00:00` for `local`, with offset for `instant`.
    written: String,
    timezone: &'static str,
}

#[derive(Serialize)]
struct RequirementsJson<'a> {
    word_limit: Option<u32>,
    page_limit: Option<u32>,
    /// ISO 639-1 codes.
    languages: &'a [String],
    /// `email`, `portal`, `post`, `form`.
    submit_via: Vec<&'static str>,
    subject_line: Option<&'a str>,
    /// `yes`, `no`, `on-request`.
    public: Option<&'static str>,
    /// `YYYY-MM-DD`.
    verified: Option<String>,
    source: Option<&'a str>,
}

#[derive(Serialize)]
struct SubmitJson<'a> {
    kind: &'static str,
    value: &'a str,
}

#[derive(Serialize)]
struct LinksJson {
    ics: String,
    page: String,
}

/// Renders the JSON document of a filter.
pub fn render(
    catalog: &Catalog,
    filter: &Filter,
    opts: &FeedOptions,
    versions: &Versions,
    links: &Links,
) -> String {
    let lang = opts.lang;
    let deadlines = feed::entries(catalog, filter, opts.cutoff)
        .map(|d| entry(catalog, d, opts, versions, links))
        .collect();
    let doc = Document {
        schema: SCHEMA,
        calendar: Calendar {
            name: &opts.name,
            version: catalog.version().to_string(),
            language: lang.code(),
            topics: &filter.topics,
            mechanisms: &filter.mechanisms,
        },
        deadlines,
    };
    let mut out = serde_json::to_string_pretty(&doc).unwrap_or_default();
    out.push('\n');
    out
}

fn entry<'a>(
    catalog: &'a Catalog,
    d: &'a Deadline,
    opts: &FeedOptions,
    versions: &Versions,
    links: &Links,
) -> Entry<'a> {
    let reg = catalog.registry();
    let lang = opts.lang;
    let version = versions.get(&d.id);
    let mechanism = match reg.mechanism(&d.mechanism) {
        Some(m) => Named {
            slug: &m.slug,
            name: m.name(lang.code()),
            full_name: Some(m.full_name(lang.code())),
        },
        None => Named {
            slug: &d.mechanism,
            name: &d.mechanism,
            full_name: None,
        },
    };
    let topics = d
        .topics
        .iter()
        .map(|s| Named {
            slug: s,
            name: reg.topic_name(s, lang.code()),
            full_name: None,
        })
        .collect();
    let kind = match d.due {
        Due::Date(_) => "date",
        Due::Local(_) => "local",
        Due::Instant(_) => "instant",
        Due::Open => "open",
    };
    let written = d.due.written();
    let open = d.is_open();
    let when = |w: &When| WhenJson {
        date: match w.written {
            Due::Date(day) => day.to_string(),
            _ => w.at.with_timezone(&d.timezone).date_naive().to_string(),
        },
        instant: w.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        written: w.written.written(),
    };
    Entry {
        id: &d.id,
        entry: &d.entry,
        uid: format!("{}@{}", d.id, opts.domain),
        title: &d.title,
        summary: feed::summary(catalog, d, lang),
        status: d.status.as_str(),
        mechanism,
        topics,
        milestone: d.milestone.as_ref().map(|m| MilestoneJson {
            kind: &m.kind,
            label: m.label.as_deref(),
            name: feed::milestone_name(catalog, d, lang).unwrap_or(&m.kind),
        }),
        due: DueJson {
            kind,
            date: (!open).then(|| d.due_date().to_string()),
            instant: (!open).then(|| d.due_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
            written,
            timezone: d.timezone.name(),
        },
        opens: d.opens.as_deref().map(when),
        extended_from: d.extended_from.as_deref().map(when),
        repeat: d.repeat.map(|_| "yearly"),
        year: d.year,
        until: d.repeat.and_then(|r| r.until).map(|u| u.to_string()),
        remind: d.remind,
        country: d.country.as_deref(),
        body: d.body.as_deref(),
        url: d.url.as_deref(),
        submit_to: d.submit_to.as_ref().map(|s| match s {
            SubmitTo::Email(e) => SubmitJson {
                kind: "email",
                value: e,
            },
            SubmitTo::Url(u) => SubmitJson {
                kind: "url",
                value: u,
            },
        }),
        description: d.description.as_deref(),
        requirements: (!d.requirements.is_empty()).then(|| {
            let r = &d.requirements;
            RequirementsJson {
                word_limit: r.word_limit,
                page_limit: r.page_limit,
                languages: &r.languages,
                submit_via: r.submit_via.iter().map(|v| v.as_str()).collect(),
                subject_line: r.subject_line.as_deref(),
                public: r.public.map(|p| p.as_str()),
                verified: r.verified.map(|d| d.to_string()),
                source: r.source.as_deref(),
            }
        }),
        sequence: version.sequence,
        last_modified: version
            .changed_at
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        links: LinksJson {
            ics: links.one(&d.id, Some(lang)),
            page: links.detail(&d.id, Some(lang)),
        },
    }
}
