//! The `mechcal list` table: upcoming deadlines, soonest first.

use chrono::{DateTime, Utc};

use crate::model::catalog::{Catalog, Filter};
use crate::model::deadline::{Deadline, Due, Status};

/// What to list.
#[derive(Clone, Debug, Default)]
pub struct ListOptions {
    pub filter: Filter,
    /// Include past and cancelled deadlines too.
    pub all: bool,
}

/// Renders the table. Pure: `now` decides what is upcoming and the days left.
pub fn render(catalog: &Catalog, opts: &ListOptions, now: DateTime<Utc>) -> String {
    let rows: Vec<[String; 4]> = catalog
        .select(&opts.filter)
        .filter(|d| opts.all || d.is_upcoming(now))
        .map(|d| {
            let mechanism = crate::render::feed::mechanism_name(catalog, d, crate::i18n::Lang::EN);
            let lang = crate::i18n::Lang::EN;
            let title = match crate::render::feed::milestone_name(catalog, d, lang) {
                Some(name) => format!("{name} — {}", d.title),
                None => d.title.clone(),
            };
            let title = match d.status {
                Status::Confirmed => title,
                other => format!("{title} [{}]", other.as_str()),
            };
            [due_text(d), left_text(d, now), mechanism.to_string(), title]
        })
        .collect();
    if rows.is_empty() {
        return if opts.all {
            "no deadlines match\n".into()
        } else {
            "no upcoming deadlines\n".into()
        };
    }
    let header = ["DUE", "LEFT", "MECHANISM", "TITLE"].map(String::from);
    let mut widths = [0usize; 3];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter().zip(row) {
            out.push_str(cell);
            out.push_str(&" ".repeat(w - cell.chars().count() + 2));
        }
        out.push_str(&row[3]);
        out.push('\n');
    }
    out
}

/// The due date, or date and time with the zone's abbreviation, in the
/// deadline's own zone.
pub fn due_text(d: &Deadline) -> String {
    match d.due {
        Due::Date(date) => date.to_string(),
        Due::Open => "open".into(),
        Due::Local(_) | Due::Instant(_) => d
            .due_at
            .with_timezone(&d.timezone)
            .format("%Y-%m-%d %H:%M %Z")
            .to_string(),
    }
}

/// "today", "in 3 days", "2 days ago".
pub fn left_text(d: &Deadline, now: DateTime<Utc>) -> String {
    if d.is_open() {
        return "until further notice".into();
    }
    match d.days_left(now) {
        0 if d.is_ahead(now) => "today".into(),
        0 => "passed today".into(),
        1 => "in 1 day".into(),
        -1 => "1 day ago".into(),
        n if n > 0 => format!("in {n} days"),
        n => format!("{} days ago", -n),
    }
}

/// The `mechcal subscribers` table: who, filters, offsets, and how many
/// upcoming deadlines each would be reminded of. Addresses are masked unless
/// `show_emails`.
pub fn subscribers(
    catalog: &Catalog,
    subs: &[crate::load::subscribers::Subscriber],
    show_emails: bool,
    now: DateTime<Utc>,
) -> String {
    if subs.is_empty() {
        return "no subscribers\n".into();
    }
    let all = |v: &[String]| {
        if v.is_empty() {
            "all".to_string()
        } else {
            v.join(",")
        }
    };
    let header = [
        "NAME",
        "EMAIL",
        "TOPICS",
        "MECHANISMS",
        "DAYS",
        "ZONE",
        "LANG",
        "DIGEST",
        "UPCOMING",
    ]
    .map(String::from);
    let rows: Vec<[String; 9]> = subs
        .iter()
        .map(|s| {
            let upcoming = catalog
                .select(&s.filter)
                .filter(|d| d.is_upcoming(now))
                .count();
            [
                s.name.clone(),
                if show_emails {
                    s.email.clone()
                } else {
                    crate::load::subscribers::mask(&s.email)
                },
                all(&s.filter.topics),
                all(&s.filter.mechanisms),
                s.remind_days
                    .iter()
                    .map(u16::to_string)
                    .collect::<Vec<_>>()
                    .join(","),
                s.timezone.name().to_string(),
                s.language.code().to_string(),
                if s.digest { "yes" } else { "no" }.to_string(),
                upcoming.to_string(),
            ]
        })
        .collect();
    let mut widths = [0usize; 9];
    for row in std::iter::once(&header).chain(&rows) {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell}{}", " ".repeat(w - cell.chars().count())))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    let _ = std::fmt::Write::write_fmt(&mut out, format_args!("{} subscribers\n", subs.len()));
    out
}
