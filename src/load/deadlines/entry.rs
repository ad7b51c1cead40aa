//! Validation of one `[[deadline]]` table into a [`Deadline`].

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use toml::de::DeValue;
use toml::Spanned;

use crate::load::tables::{self, Sink, Table, Value};
use crate::load::{country, suggest, values, zone};
use crate::model::deadline::{Deadline, Due, Fingerprint, Origin, Status, SubmitTo};
use crate::model::registry::Registry;
use crate::model::schedule::Window;

use crate::load::text::{check_description, single_line};

/// Every key a deadline may have (the eight after `remind_days` are its
/// submission requirements, see [`super::requirements`]; the last six its
/// schedule, see [`super::schedule`]).
pub const KEYS: [&str; 27] = [
    "id",
    "title",
    "mechanism",
    "topics",
    "due",
    "timezone",
    "country",
    "body",
    "url",
    "submit_to",
    "description",
    "status",
    "remind_days",
    "word_limit",
    "page_limit",
    "languages",
    "submit_via",
    "subject_line",
    "public",
    "verified",
    "source",
    "milestone",
    "opens",
    "repeat",
    "until",
    "extended_from",
    "remind",
];

/// The largest reminder offset, in days.
pub const MAX_REMIND_DAYS: i64 = 365;

/// The longest id: ids end up in URLs and event UIDs.
pub const MAX_ID_CHARS: usize = 100;

/// What entry validation needs from its surroundings.
pub struct Context<'r> {
    pub registry: &'r Registry,
    /// Whether the registry loaded without errors; if not, names missing from
    /// it are not reported (they may be in one of its broken tables).
    pub registry_ok: bool,
    pub default_tz: Tz,
    /// Where yearly dates are expanded into occurrences.
    pub window: Window,
}

/// What validating one table found.
pub struct Checked {
    /// The entry's id, if the id itself is valid (even when other fields are
    /// not), so that duplicates are found in the same run.
    pub id: Option<Spanned<String>>,
    /// The entry's items (one, or one per milestone; a yearly one not yet
    /// expanded into years), only if the entry has no error.
    pub deadlines: Vec<Deadline>,
}

/// Validates one deadline table, reporting every problem into `sink`.
/// `origin` says where the table starts.
// Over 100 lines: one block per key, in the order the book's table lists them (docs/src/staff/deadlines.md).
pub fn validate(
    sink: &mut Sink<'_>,
    ctx: &Context<'_>,
    t: &Table<'_, '_>,
    origin: Origin,
) -> Checked {
    // Only this entry's diagnostics are looked at (counting all of them
    // for every entry made a file of many broken entries quadratic).
    let first = sink.diags.len();
    t.check_keys(sink, &KEYS);

    let id = t
        .required_str(sink, "id", "\"cerd-blr-alternative-report-2024\"")
        .filter(|id| check_id(sink, id));
    let title = t
        .required_str(sink, "title", "\"…\"")
        .and_then(|v| single_line(sink, "title", v, true));
    let mechanism = t
        .required_str(sink, "mechanism", "\"cerd\"")
        .and_then(|m| check_mechanism(sink, ctx, m));
    let topics = t
        .required(sink, "topics", "[\"discrimination\"]")
        .and_then(|v| check_topics(sink, ctx, v));
    let timezone = match t.optional_str(sink, "timezone") {
        None => Some(ctx.default_tz),
        Some(name) => check_timezone(sink, &name),
    };
    let schedule = super::schedule::check(sink, ctx, t, timezone);
    let country = t.optional_str(sink, "country").and_then(|c| {
        if country::is_code(c.get_ref()) {
            Some(c.into_inner())
        } else {
            sink.error(
                c.span(),
                format!(
                    "`{}` is not an ISO 3166-1 alpha-2 country code",
                    c.get_ref()
                ),
            )
            .help = Some(country::help(c.get_ref()));
            None
        }
    });
    let body = t
        .optional_str(sink, "body")
        .and_then(|v| single_line(sink, "body", v, false));
    let url = t
        .optional_str(sink, "url")
        .and_then(|u| values::check_http_url(sink, "url", &u));
    let submit_to = t
        .optional_str(sink, "submit_to")
        .and_then(|v| check_submit_to(sink, &v));
    // An error here is counted in the sink, so no deadline is made.
    let description = t
        .optional_str(sink, "description")
        .and_then(|d| check_description(sink, d))
        .filter(|text| !text.is_empty());
    let status = match t.optional_str(sink, "status") {
        None => Some(Status::Confirmed),
        Some(s) => check_status(sink, &s),
    };
    let remind_days = match t.get("remind_days") {
        None => Some(None),
        Some(v) => check_remind_days(sink, v).map(Some),
    };

    let requirements = super::requirements::check(sink, t);

    let has_errors = sink.diags[first..]
        .iter()
        .any(crate::load::diagnostic::Diagnostic::is_error);
    let fields = Fields {
        id: id.as_ref().map(|id| id.get_ref().clone()),
        title,
        mechanism,
        topics,
        schedule,
        timezone,
        country,
        body,
        url,
        submit_to,
        description,
        status,
        remind_days,
        requirements,
    };
    Checked {
        deadlines: if has_errors {
            Vec::new()
        } else {
            fields.into_deadlines(origin, &ctx.window)
        },
        id,
    }
}

/// Each field as validated: `None` where it was missing or invalid (optional
/// fields are `Option`s already and count as valid when absent).
struct Fields {
    id: Option<String>,
    title: Option<String>,
    mechanism: Option<String>,
    topics: Option<Vec<String>>,
    schedule: Option<Vec<super::schedule::Item>>,
    timezone: Option<Tz>,
    country: Option<String>,
    body: Option<String>,
    url: Option<String>,
    submit_to: Option<SubmitTo>,
    description: Option<String>,
    status: Option<Status>,
    remind_days: Option<Option<Vec<u16>>>,
    requirements: Option<crate::model::requirements::Requirements>,
}

impl Fields {
    /// One deadline per scheduled item; none if any field is missing.
    fn into_deadlines(self, origin: Origin, window: &Window) -> Vec<Deadline> {
        self.into_items(origin, window).unwrap_or_default()
    }

    fn into_items(self, origin: Origin, window: &Window) -> Option<Vec<Deadline>> {
        let Fields {
            id,
            title,
            mechanism,
            topics,
            schedule,
            timezone,
            country,
            body,
            url,
            submit_to,
            description,
            status,
            remind_days,
            requirements,
        } = self;
        let entry = id?;
        let base = Deadline {
            id: entry.clone(),
            entry,
            milestone: None,
            year: None,
            repeat: None,
            opens: None,
            extended_from: None,
            remind: true,
            title: title?,
            mechanism: mechanism?,
            topics: topics?,
            due: Due::Open,
            due_at: Due::open_at(),
            timezone: timezone?,
            country,
            body,
            url,
            submit_to,
            description,
            status: status?,
            remind_days: remind_days?,
            requirements: crate::model::requirements::shared(requirements?),
            origin,
            fingerprint: Fingerprint([0; 32]),
        };
        let items = schedule?;
        Some(
            items
                .iter()
                .flat_map(|item| item.apply(&base, window))
                .collect(),
        )
    }
}

/// A zone name (`Europe/Zurich`), with help for near misses.
pub(crate) fn check_timezone(sink: &mut Sink<'_>, name: &Spanned<String>) -> Option<Tz> {
    match zone::parse(name.get_ref()) {
        Ok(tz) => Some(tz),
        Err(e) => {
            sink.error(name.span(), e.message).help = e.help;
            None
        }
    }
}

/// `confirmed`, `tentative` or `cancelled`, with "did you mean".
pub(crate) fn check_status(sink: &mut Sink<'_>, s: &Spanned<String>) -> Option<Status> {
    Status::parse(s.get_ref()).or_else(|| {
        let help = suggest::did_you_mean(s.get_ref(), Status::NAMES)
            .unwrap_or_else(|| format!("`status` is one of {}", tables::list(Status::NAMES)));
        sink.error(s.span(), format!("unknown status `{}`", s.get_ref()))
            .help = Some(help);
        None
    })
}

/// Whether the id is a valid slug; reports it if not.
fn check_id(sink: &mut Sink<'_>, id: &Spanned<String>) -> bool {
    let text = id.get_ref();
    if !tables::is_slug(text) {
        let d = sink.error(
            id.span(),
            format!("deadline id `{text}` may only use `a-z`, `0-9` and `-`"),
        );
        let fixed = tables::slugify(text);
        d.help = Some(if fixed.is_empty() {
            "ids are Latin slugs, e.g. `cerd-blr-alternative-report-2024`".into()
        } else {
            format!("write `id = \"{fixed}\"`")
        });
    } else if text.chars().count() > MAX_ID_CHARS {
        sink.error(
            id.span(),
            format!("deadline id is longer than {MAX_ID_CHARS} characters"),
        )
        .help = Some("ids appear in links and calendar UIDs: shorten it".into());
    } else {
        return true;
    }
    false
}

fn check_mechanism(sink: &mut Sink<'_>, ctx: &Context<'_>, m: Spanned<String>) -> Option<String> {
    if ctx.registry.mechanism(m.get_ref()).is_some() || !ctx.registry_ok {
        return Some(m.into_inner());
    }
    let help = unknown_help(m.get_ref(), ctx.registry.mechanism_slugs(), "mechanisms");
    sink.error(m.span(), format!("unknown mechanism `{}`", m.get_ref()))
        .help = Some(help);
    None
}

pub(crate) fn unknown_help<'a>(
    name: &str,
    known: impl Iterator<Item = &'a str> + Clone,
    what: &str,
) -> String {
    suggest::did_you_mean(name, known.clone()).unwrap_or_else(|| {
        let all: Vec<&str> = known.collect();
        let shown = tables::list(all.iter().take(12).copied());
        let more = if all.len() > 12 { ", …" } else { "" };
        format!("the registry's {what} are {shown}{more}; add new ones to `registry.toml`")
    })
}

fn check_topics(sink: &mut Sink<'_>, ctx: &Context<'_>, v: &Value<'_>) -> Option<Vec<String>> {
    let registry = ctx.registry;
    let known = |s: &str| !ctx.registry_ok || registry.topic(s).is_some();
    slug_list(sink, v, &Slugs::TOPICS, registry.topic_slugs(), known, true)
}

/// How messages name a kind of slug list.
pub(crate) struct Slugs {
    pub key: &'static str,
    pub one: &'static str,
    pub many: &'static str,
    pub example: &'static str,
}

impl Slugs {
    pub const TOPICS: Slugs = Slugs {
        key: "topics",
        one: "topic",
        many: "topics",
        example: "[\"discrimination\"]",
    };
    pub const MECHANISMS: Slugs = Slugs {
        key: "mechanisms",
        one: "mechanism",
        many: "mechanisms",
        example: "[\"cerd\"]",
    };
}

/// A list of registry slugs: strings, none twice, each `known` (else an
/// error naming the nearest of `all`); at least one if `require_one`.
pub(crate) fn slug_list<'a>(
    sink: &mut Sink<'_>,
    v: &Value<'_>,
    what: &Slugs,
    all: impl Iterator<Item = &'a str> + Clone,
    known: impl Fn(&str) -> bool,
    require_one: bool,
) -> Option<Vec<String>> {
    let items = tables::as_array(sink, what.key, v, what.example)?;
    if items.is_empty() && require_one {
        sink.error(
            v.span(),
            format!("`{}` must list at least one {}", what.key, what.one),
        )
        .help = Some(unknown_help("", all, what.many));
        return None;
    }
    let mut slugs: Vec<String> = Vec::with_capacity(items.len());
    let mut ok = true;
    for item in items {
        let Some(s) = tables::string_named(sink, || format!("each of `{}`", what.key), item) else {
            ok = false;
            continue;
        };
        let name = s.get_ref();
        if slugs.contains(name) {
            sink.error(s.span(), format!("{} `{name}` is listed twice", what.one))
                .help = Some("remove the second one".into());
            ok = false;
        } else if !known(name) {
            let help = unknown_help(name, all.clone(), what.many);
            sink.error(s.span(), format!("unknown {} `{name}`", what.one))
                .help = Some(help);
            ok = false;
        } else {
            slugs.push(s.into_inner());
        }
    }
    ok.then_some(slugs)
}

/// Which instant an all-day date stands for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum DayEdge {
    /// The end of the day (a deadline: due by then).
    End,
    /// The start of the day (when a portal opens).
    Start,
}

/// Reads `due` (or another date key: `opens`, `extended_from`) and computes
/// its instant in `tz`. `due = "open"` is an open call where `open_ok`.
pub(crate) fn check_due(
    sink: &mut Sink<'_>,
    key: &str,
    v: &Value<'_>,
    tz: Tz,
    edge: DayEdge,
    open_ok: bool,
) -> Option<(Due, DateTime<Utc>)> {
    let dt = match v.get_ref() {
        DeValue::Datetime(dt) => dt,
        DeValue::String(s) if open_ok && s == "open" => return Some((Due::Open, Due::open_at())),
        DeValue::String(s) => {
            let help = match date_in_string(s) {
                Some(fixed) => format!("write it without quotes: `{key} = {fixed}`"),
                None if open_ok && s.trim().eq_ignore_ascii_case("open") => {
                    format!("write `{key} = \"open\"` (in lower case) for a call open until further notice")
                }
                None if open_ok => format!("write a date without quotes, `{key} = 2027-01-15`, a date and time, `{key} = 2027-01-15T18:00:00`, or `{key} = \"open\"` for a call open until further notice"),
                None => format!("write a date without quotes, `{key} = 2027-01-15`, or a date and time, `{key} = 2027-01-15T18:00:00`"),
            };
            sink.error(
                v.span(),
                format!("`{key}` must be a TOML date, not a string"),
            )
            .help = Some(help);
            return None;
        }
        other => {
            sink.error(
                v.span(),
                format!(
                    "`{key}` must be a date or date-time, found {}",
                    tables::type_name(other)
                ),
            )
            .help = Some(format!(
                "write `{key} = 2027-01-15` or `{key} = 2027-01-15T18:00:00`"
            ));
            return None;
        }
    };
    let Some(d) = dt.date else {
        sink.error(v.span(), format!("`{key}` is a time of day without a date"))
            .help = Some(format!("write the date too: `{key} = 2027-01-15T18:00:00`"));
        return None;
    };
    let date = NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day));
    let time = dt.time.map(|t| {
        NaiveTime::from_hms_nano_opt(
            u32::from(t.hour),
            u32::from(t.minute),
            u32::from(t.second.unwrap_or(0)),
            t.nanosecond.unwrap_or(0),
        )
    });
    let (Some(date), Some(time)) = (date, time.unwrap_or(Some(NaiveTime::MIN))) else {
        sink.error(v.span(), format!("`{key}` is not a valid date or time"));
        return None;
    };
    match (dt.time, dt.offset) {
        (None, _) if edge == DayEdge::Start => {
            Some((Due::Date(date), zone::start_of_day(tz, date)))
        }
        (None, _) => {
            let Some(next) = date.succ_opt() else {
                sink.error(v.span(), format!("`{key}` is out of range"));
                return None;
            };
            Some((Due::Date(date), zone::start_of_day(tz, next)))
        }
        (Some(_), None) => {
            let local = date.and_time(time);
            match zone::resolve(tz, local) {
                Ok(at) => Some((Due::Local(local), at)),
                Err(gap) => {
                    sink.error(
                        v.span(),
                        format!(
                            "`{}` does not exist in {}: the clocks skip it for daylight saving time",
                            local.format("%Y-%m-%dT%H:%M:%S"),
                            tz.name()
                        ),
                    )
                    .help = Some(format!(
                        "pick a time outside the gap, e.g. `{key} = {}`",
                        gap.suggestion.format("%Y-%m-%dT%H:%M:%S")
                    ));
                    None
                }
            }
        }
        (Some(_), Some(offset)) => {
            let minutes = match offset {
                toml::value::Offset::Z => 0,
                toml::value::Offset::Custom { minutes } => i32::from(minutes),
            };
            let at = FixedOffset::east_opt(minutes * 60)
                .and_then(|o| o.from_local_datetime(&date.and_time(time)).single());
            match at {
                Some(at) => Some((Due::Instant(at), at.with_timezone(&Utc))),
                None => {
                    sink.error(v.span(), format!("`{key}` has an invalid UTC offset"));
                    None
                }
            }
        }
    }
}

/// The unquoted TOML form of a date written as a string, if it is one
/// (`"2024-07-15"`, `"15.07.2024"`, `"2024-07-15 18:00"`).
fn date_in_string(s: &str) -> Option<String> {
    let s = s.trim();
    if let Ok(dt) = s.parse::<toml::value::Datetime>() {
        return Some(dt.to_string());
    }
    for format in ["%d.%m.%Y", "%d/%m/%Y", "%Y/%m/%d"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, format) {
            return Some(d.to_string());
        }
    }
    for format in ["%d.%m.%Y %H:%M", "%Y-%m-%d %H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Some(t.format("%Y-%m-%dT%H:%M:00").to_string());
        }
    }
    None
}

fn check_submit_to(sink: &mut Sink<'_>, v: &Spanned<String>) -> Option<SubmitTo> {
    let text = v.get_ref().trim();
    if let Some(address) = text.strip_prefix("mailto:") {
        if values::is_email(address) {
            return Some(SubmitTo::Email(address.to_string()));
        }
    } else if text.contains("://") {
        return values::check_http_url(sink, "submit_to", v).map(SubmitTo::Url);
    } else if values::is_email(text) {
        return Some(SubmitTo::Email(text.to_string()));
    }
    let d = sink.error(
        v.span(),
        format!("`submit_to` must be an e-mail address or an http(s) link, not `{text}`"),
    );
    d.help = Some(if text.contains('@') {
        "check the address: `name@example.org`".into()
    } else if text.contains('.') && !text.contains(char::is_whitespace) {
        format!("for a web form write the full address: `https://{text}`")
    } else {
        "write an e-mail address (`name@example.org`) or a link (`https://…`)".into()
    });
    None
}

/// Offsets in days, each 0..=365 and listed once; returned largest first.
pub(crate) fn check_remind_days(sink: &mut Sink<'_>, v: &Value<'_>) -> Option<Vec<u16>> {
    let items = tables::as_array(sink, "remind_days", v, "[30, 7, 1]")?;
    let mut days: Vec<u16> = Vec::with_capacity(items.len());
    let mut ok = true;
    for item in items {
        let Some(n) = tables::as_integer(sink, "each of `remind_days`", item) else {
            ok = false;
            continue;
        };
        match u16::try_from(n) {
            Ok(n) if i64::from(n) <= MAX_REMIND_DAYS => {
                if days.contains(&n) {
                    sink.error(
                        item.span(),
                        format!("`{n}` is listed twice in `remind_days`"),
                    )
                    .help = Some("remove the second one".into());
                    ok = false;
                } else {
                    days.push(n);
                }
            }
            _ => {
                sink.error(
                    item.span(),
                    format!("reminder offset `{n}` is out of range: days before the deadline are 0 to {MAX_REMIND_DAYS}"),
                );
                ok = false;
            }
        }
    }
    days.sort_unstable_by(|a, b| b.cmp(a));
    ok.then_some(days)
}
