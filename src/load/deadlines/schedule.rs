//! Validation of how an entry is scheduled: one `due` (a date, a local
//! date-time, an instant, or `"open"`), or `[[deadline.milestone]]` tables
//! that each have one; with `opens`, `repeat`/`until`, `extended_from` and
//! `remind`. Then [`Item::apply`] turns each into calendar items, one per
//! year for yearly dates inside the [`Window`].

use chrono::{Datelike, NaiveDate, Utc};
use chrono_tz::Tz;
use toml::de::DeValue;

use super::entry::{self, check_due, Context, DayEdge};
use crate::load::tables::{self, Sink, Span, Table, Value};
use crate::load::text::single_line;
use crate::load::zone;
use crate::model::deadline::{Deadline, Due, Status};
use crate::model::schedule::{Milestone, When, Window, Yearly};

/// Every key a milestone may have.
pub const MILESTONE_KEYS: [&str; 10] = [
    "kind",
    "label",
    "due",
    "opens",
    "timezone",
    "status",
    "remind",
    "repeat",
    "until",
    "extended_from",
];

/// Entry keys that belong in each milestone once an entry has milestones.
const PER_MILESTONE: [&str; 5] = ["due", "opens", "repeat", "until", "extended_from"];

/// One scheduled thing of an entry: its single `due`, or one milestone.
#[derive(Clone, Debug)]
pub struct Item {
    milestone: Option<Milestone>,
    due: When,
    opens: Option<When>,
    extended_from: Option<When>,
    repeat: Option<Yearly>,
    remind: bool,
    /// A milestone's own zone and status, if it overrides the entry's.
    timezone: Option<Tz>,
    status: Option<Status>,
}

/// The schedule of entry `t`, or `None` where it is wrong (every problem
/// reported into `sink`). `timezone` is the entry's, if valid.
pub fn check(
    sink: &mut Sink<'_>,
    ctx: &Context<'_>,
    t: &Table<'_, '_>,
    timezone: Option<Tz>,
) -> Option<Vec<Item>> {
    let Some(list) = t.get("milestone") else {
        let due = t.required(sink, "due", "2027-01-15")?;
        let dates = dates(sink, t, due, timezone?, true)?;
        return Some(vec![dates.into_item(None, None, None)]);
    };
    let header = t.key_span("milestone").unwrap_or(list.span());
    if let Some(span) = t.key_span("due") {
        sink.error(span, "this entry has both `due` and milestones")
            .help = Some(
            "an entry has one `due`, or a `due` in each `[[deadline.milestone]]`: move this one into a milestone, or remove the milestones".into(),
        );
    }
    for key in &PER_MILESTONE[1..] {
        if let Some(span) = t.key_span(key) {
            sink.error(
                span,
                format!("`{key}` belongs to a milestone when an entry has milestones"),
            )
            .help = Some(format!(
                "move `{key}` below the `[[deadline.milestone]]` it applies to"
            ));
        }
    }
    let entry_remind = match t.get("remind") {
        None => true,
        Some(v) => tables::as_bool(sink, "`remind`", v)?,
    };
    let DeValue::Array(tables) = list.get_ref() else {
        sink.error(
            header,
            format!(
                "`milestone` must be a list of tables, found {}",
                tables::type_name(list.get_ref())
            ),
        )
        .help = Some("write each milestone under its own `[[deadline.milestone]]` header".into());
        return None;
    };
    if tables.is_empty() {
        sink.error(header, "`milestone` lists no milestones").help =
            Some("add `[[deadline.milestone]]` tables, or give the entry a `due`".into());
        return None;
    }
    let mut items = Vec::with_capacity(tables.len());
    let mut seen: Vec<(String, Span)> = Vec::new();
    let mut ok = true;
    for value in tables {
        let DeValue::Table(table) = value.get_ref() else {
            sink.error(
                value.span(),
                format!(
                    "each milestone must be a table, found {}",
                    tables::type_name(value.get_ref())
                ),
            )
            .help =
                Some("write each milestone under its own `[[deadline.milestone]]` header".into());
            ok = false;
            continue;
        };
        let m = Table::new(table, value.span(), "milestone");
        match milestone(sink, ctx, &m, timezone, entry_remind, &mut seen) {
            Some(item) => items.push(item),
            None => ok = false,
        }
    }
    ok.then_some(items)
}

/// One `[[deadline.milestone]]` table.
fn milestone(
    sink: &mut Sink<'_>,
    ctx: &Context<'_>,
    m: &Table<'_, '_>,
    entry_tz: Option<Tz>,
    entry_remind: bool,
    seen: &mut Vec<(String, Span)>,
) -> Option<Item> {
    check_milestone_keys(sink, m);
    let kind = m
        .required_str(sink, "kind", "\"submission\"")
        .and_then(|k| check_kind(sink, ctx, k, seen));
    let label = m
        .optional_str(sink, "label")
        .and_then(|v| single_line(sink, "label", v, true));
    // `Some(None)`: not given; `None`: wrong (reported).
    let timezone = match m.optional_str(sink, "timezone") {
        None => Some(None),
        Some(name) => entry::check_timezone(sink, &name).map(Some),
    };
    let status = match m.optional_str(sink, "status") {
        None => Some(None),
        Some(s) => entry::check_status(sink, &s).map(Some),
    };
    let what = match &kind {
        Some(k) => format!("milestone `{k}`"),
        None => "milestone".into(),
    };
    let m = Table::new(m.table, m.span.clone(), what);
    let due = m.required(sink, "due", "2027-01-15");
    let (kind, timezone, status) = (kind?, timezone?, status?);
    let remind_default = entry_remind && ctx.registry.kind(&kind).is_none_or(|k| k.remind);
    let dates = dates(sink, &m, due?, timezone.or(entry_tz)?, remind_default)?;
    let milestone = Milestone {
        kind,
        label: label.filter(|l| !l.is_empty()),
    };
    Some(dates.into_item(Some(milestone), timezone, status))
}

/// Unknown keys of a milestone; an entry's key (`word_limit`, `topics`…)
/// gets help that says where it goes.
fn check_milestone_keys(sink: &mut Sink<'_>, m: &Table<'_, '_>) {
    let entry_keys: Vec<(String, Span)> = m
        .table
        .keys()
        .map(|k| (k.get_ref().to_string(), k.span()))
        .filter(|(k, _)| !MILESTONE_KEYS.contains(&k.as_str()) && entry::KEYS.contains(&k.as_str()))
        .collect();
    for (name, span) in &entry_keys {
        sink.error(span.clone(), format!("`{name}` belongs to the entry, not to a milestone"))
            .help = Some("write it above the first `[[deadline.milestone]]`: it applies to every milestone of the entry".into());
    }
    let mut known: Vec<&str> = MILESTONE_KEYS.to_vec();
    known.extend(entry_keys.iter().map(|(k, _)| k.as_str()));
    m.check_keys(sink, &known);
}

fn check_kind(
    sink: &mut Sink<'_>,
    ctx: &Context<'_>,
    kind: toml::Spanned<String>,
    seen: &mut Vec<(String, Span)>,
) -> Option<String> {
    let name = kind.get_ref();
    if let Some((_, first)) = seen.iter().find(|(k, _)| k == name) {
        let line = sink.file.position(first.start).line;
        sink.error(
            kind.span(),
            format!("milestone kind `{name}` appears twice in this entry"),
        )
        .help = Some(format!(
            "the first is on line {line}; a kind appears once per entry (the milestone's id is `<entry>.{name}`): use another kind, or split the entry in two"
        ));
        return None;
    }
    seen.push((name.clone(), kind.span()));
    if ctx.registry.kind(name).is_some() || !ctx.registry_ok {
        return Some(kind.into_inner());
    }
    let help = if ctx.registry.kinds.is_empty() {
        "the registry lists no milestone kinds: add `[kinds.<slug>]` tables (with `en = \"…\"`) to `registry.toml`".into()
    } else {
        entry::unknown_help(name, ctx.registry.kind_slugs(), "milestone kinds")
    };
    sink.error(kind.span(), format!("unknown milestone kind `{name}`"))
        .help = Some(help);
    None
}

/// The dates of an entry with one `due`, or of a milestone.
struct Dates {
    due: When,
    opens: Option<When>,
    extended_from: Option<When>,
    repeat: Option<Yearly>,
    remind: bool,
}

impl Dates {
    fn into_item(
        self,
        milestone: Option<Milestone>,
        tz: Option<Tz>,
        status: Option<Status>,
    ) -> Item {
        Item {
            milestone,
            due: self.due,
            opens: self.opens,
            extended_from: self.extended_from,
            repeat: self.repeat,
            remind: self.remind,
            timezone: tz,
            status,
        }
    }
}

/// Reads `due`, `opens`, `extended_from`, `repeat`, `until` and `remind`
/// of `t` (an entry or a milestone), all in `tz`.
fn dates(
    sink: &mut Sink<'_>,
    t: &Table<'_, '_>,
    due: &Value<'_>,
    tz: Tz,
    remind_default: bool,
) -> Option<Dates> {
    let (written, at) = check_due(sink, "due", due, tz, DayEdge::End, true)?;
    let due_value = due;
    let due = When { written, at };
    let open = written == Due::Open;
    let mut ok = true;

    let opens = t
        .get("opens")
        .map(|v| (v, check_due(sink, "opens", v, tz, DayEdge::Start, false)));
    let opens = match opens {
        None => None,
        Some((_, None)) => {
            ok = false;
            None
        }
        Some((v, Some((written, at)))) => {
            if !open && at >= due.at {
                sink.error(
                    v.span(),
                    format!(
                        "`opens` ({}) is not before `due` ({})",
                        written.written(),
                        due.written.written()
                    ),
                )
                .help = Some("a call opens before it closes: check both dates".into());
                ok = false;
            }
            Some(When { written, at })
        }
    };

    let extended = t.get("extended_from").map(|v| {
        (
            v,
            check_due(sink, "extended_from", v, tz, DayEdge::End, false),
        )
    });
    let extended_from = match extended {
        None => None,
        Some((_, None)) => {
            ok = false;
            None
        }
        Some((v, Some((written, at)))) => {
            if open {
                sink.error(v.span(), "an open call has no date to extend")
                    .help =
                    Some("remove `extended_from`, or give the call its new `due` date".into());
                ok = false;
            } else if at >= due.at {
                sink.error(
                    v.span(),
                    format!(
                        "`extended_from` ({}) is not before `due` ({})",
                        written.written(),
                        due.written.written()
                    ),
                )
                .help = Some("`extended_from` is the earlier date that `due` replaces; a date moved earlier needs no key (it is shown as moved)".into());
                ok = false;
            }
            Some(When { written, at })
        }
    };

    let repeat = match t.get("repeat") {
        None => None,
        Some(v) => match tables::as_str(sink, "`repeat`", v) {
            None => {
                ok = false;
                None
            }
            Some(s) if s.get_ref() == "yearly" => Some(s.span()),
            Some(s) => {
                sink.error(
                    s.span(),
                    format!("unknown `repeat` value `{}`", s.get_ref()),
                )
                .help = Some(
                    "`repeat` is `\"yearly\"`: other rules are written as separate entries".into(),
                );
                ok = false;
                None
            }
        },
    };
    let until = match t.get("until") {
        None => None,
        Some(v) => {
            let day = super::requirements::date(sink, "until", v);
            if day.is_none() {
                ok = false;
            }
            day.map(|d| (d, v.span()))
        }
    };
    if let (Some((_, span)), None, true) = (&until, &repeat, t.get("repeat").is_none()) {
        let key = t.key_span("until").unwrap_or(span.clone());
        sink.error(key, "`until` without `repeat`").help =
            Some("add `repeat = \"yearly\"`, or remove `until`".into());
        ok = false;
    }
    if let Some(span) = &repeat {
        if open {
            sink.error(span.clone(), "an open call cannot repeat").help =
                Some("give it a `due` date, or remove `repeat`".into());
            ok = false;
        } else if let Some(day) = written_date(&due.written) {
            if (day.month(), day.day()) == (2, 29) {
                sink.error(
                    due_value.span(),
                    "29 February does not come back every year",
                )
                .help = Some(format!(
                    "a yearly date needs a day every year has: write `due = {}-02-28` or `due = {}-03-01`",
                    day.year(),
                    day.year()
                ));
                ok = false;
            }
            if let Some((until, span)) = &until {
                if *until < day {
                    sink.error(
                        span.clone(),
                        format!("`until` ({until}) is before the first due date ({day})"),
                    )
                    .help = Some(
                        "no occurrence would be left: correct `until`, or the first `due`".into(),
                    );
                    ok = false;
                }
            }
            if extended_from.is_some() {
                let key = t.key_span("extended_from").unwrap_or(span.clone());
                sink.error(key, "`extended_from` on a yearly date")
                    .help = Some("an extension concerns one year: the state database notices it by itself when `due` moves later; or write that year as its own entry".into());
                ok = false;
            }
        }
    }
    let remind = match t.get("remind") {
        None => Some(remind_default),
        Some(v) => tables::as_bool(sink, "`remind`", v),
    };
    let remind = match remind {
        None => {
            ok = false;
            false
        }
        Some(true) if open && t.get("remind").is_some() => {
            if let Some(v) = t.get("remind") {
                sink.error(v.span(), "an open call is never reminded").help =
                    Some("remove `remind`, or give the call a `due` date".into());
            }
            ok = false;
            false
        }
        Some(r) => r && !open,
    };
    ok.then_some(Dates {
        due,
        opens,
        extended_from,
        repeat: repeat.map(|_| Yearly {
            until: until.map(|(d, _)| d),
        }),
        remind,
    })
}

/// The calendar date as written (in the offset given, for an instant).
fn written_date(due: &Due) -> Option<NaiveDate> {
    match due {
        Due::Date(d) => Some(*d),
        Due::Local(t) => Some(t.date()),
        Due::Instant(t) => Some(t.date_naive()),
        Due::Open => None,
    }
}

impl Item {
    /// The calendar items of this one, from the entry's fields in `base`:
    /// one, or one per year inside `window` for a yearly date.
    pub fn apply(&self, base: &Deadline, window: &Window) -> Vec<Deadline> {
        let mut d = base.clone();
        let tz = self.timezone.unwrap_or(base.timezone);
        d.timezone = tz;
        if let Some(status) = self.status {
            d.status = status;
        }
        if let Some(m) = &self.milestone {
            d.id = format!("{}.{}", base.entry, m.kind);
        }
        d.milestone = self.milestone.clone().map(Box::new);
        d.due = self.due.written;
        d.due_at = self.due.at;
        d.opens = self.opens.map(Box::new);
        d.extended_from = self.extended_from.map(Box::new);
        d.repeat = self.repeat;
        d.remind = self.remind;
        let (Some(rule), Some(first)) = (self.repeat, written_date(&self.due.written)) else {
            d.fingerprint = d.fingerprint_of();
            return vec![d];
        };
        let from = first.year().max(window.start.year() - 1);
        let mut out = Vec::new();
        for year in from..=window.end.year() + 1 {
            let years = year - first.year();
            let Some(due) = shift(self.due, years, tz, DayEdge::End) else {
                continue;
            };
            let past_until = rule
                .until
                .is_some_and(|u| written_date(&due.written).is_some_and(|d| d > u));
            if past_until || !window.contains(due.at) {
                continue;
            }
            let mut o = d.clone();
            o.id = format!("{}.{year}", d.id);
            o.year = Some(year);
            o.due = due.written;
            o.due_at = due.at;
            o.opens = self
                .opens
                .and_then(|w| shift(w, years, tz, DayEdge::Start))
                .map(Box::new);
            o.fingerprint = o.fingerprint_of();
            out.push(o);
        }
        out
    }
}

/// `when` moved by `years` (29 February, possible for `opens`, becomes
/// 28 February; a local time in a daylight-saving gap, the first time
/// after it).
pub(crate) fn shift(when: When, years: i32, tz: Tz, edge: DayEdge) -> Option<When> {
    if years == 0 {
        return Some(when);
    }
    let year_of = |d: NaiveDate| {
        let y = d.year() + years;
        d.with_year(y)
            .or_else(|| NaiveDate::from_ymd_opt(y, d.month(), d.day() - 1))
    };
    match when.written {
        Due::Date(d) => {
            let d = year_of(d)?;
            let at = match edge {
                DayEdge::Start => zone::start_of_day(tz, d),
                DayEdge::End => zone::start_of_day(tz, d.succ_opt()?),
            };
            Some(When {
                written: Due::Date(d),
                at,
            })
        }
        Due::Local(t) => {
            let local = year_of(t.date())?.and_time(t.time());
            let at = zone::resolve(tz, local)
                .or_else(|gap| zone::resolve(tz, gap.suggestion))
                .ok()?;
            Some(When {
                written: Due::Local(local),
                at,
            })
        }
        Due::Instant(t) => {
            let date = year_of(t.date_naive())?;
            let shifted = t
                .with_day(1)?
                .with_year(date.year())?
                .with_day(date.day())?;
            Some(When {
                written: Due::Instant(shifted),
                at: shifted.with_timezone(&Utc),
            })
        }
        Due::Open => None,
    }
}
