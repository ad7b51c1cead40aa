//! The web pages: the list of deadlines (`/`) and one deadline
//! (`/deadlines/{id}`). Pure: catalog, filter, language and `now` in, HTML out.
//!
//! Plain server-rendered HTML with inline CSS: no JavaScript, no external
//! resources of any kind (fonts, scripts, images, analytics), so that the
//! page loads nothing from third parties and works on a slow phone.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use crate::i18n::Lang;
use crate::model::catalog::{Catalog, Filter};
use crate::model::deadline::{Deadline, Status, SubmitTo};
use crate::render::feed;

use super::links::Links;

/// Text written by staff (titles, names, descriptions), escaped and isolated
/// in `<bdi>`: right-to-left or bidirectional text in it cannot reorder
/// the page's text around it.
pub fn user(s: &str) -> String {
    format!("<bdi>{}</bdi>", esc(s))
}

/// Escapes text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

use super::style::STYLE;
pub use super::style::{content_security_policy, content_security_policy_meta};

/// The start of a page, up to `<body>`, for the other page modules.
pub(crate) fn head_for(out: &mut String, title: &str, lang: Lang) {
    head(out, title, lang);
}

// `same-origin`: no Referer leaves for other sites, and the forms' posts
// carry their true `Origin` (under `no-referrer` browsers send `null`),
// which sign-up checks against `base_url`.
fn head(out: &mut String, title: &str, lang: Lang) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"same-origin\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
        lang.code(),
        esc(content_security_policy_meta()),
        esc(title)
    );
}

/// A small page: a heading, a paragraph of text, and optional raw HTML
/// (already escaped by the caller).
pub fn simple(title: &str, text: &str, extra_html: &str, lang: Lang) -> String {
    let mut out = String::new();
    head(&mut out, title, lang);
    let _ = write!(
        out,
        "<main>\n<h1>{}</h1>\n<p>{}</p>\n{extra_html}</main>\n</body>\n</html>\n",
        esc(title),
        esc(text)
    );
    out
}

/// What the list page needs besides the catalog.
pub struct PageInput<'a> {
    pub name: &'a str,
    pub filter: &'a Filter,
    pub lang: Lang,
    pub now: DateTime<Utc>,
    pub links: &'a Links,
    /// The sign-up form's token, when sign-up is open.
    pub signup: Option<&'a str>,
}

/// The list page: filters, subscribe block, upcoming by month, past folded.
pub fn list(catalog: &Catalog, input: &PageInput<'_>) -> String {
    let PageInput {
        name,
        filter,
        lang,
        now,
        links,
        signup,
    } = *input;
    let mut out = String::with_capacity(32 * 1024);
    head(&mut out, name, lang);
    header(&mut out, name, input);
    out.push_str("<main>\n");
    filters(&mut out, catalog, input);
    let https = links.feed(filter, Some(lang));
    subscribe(&mut out, &https, input);
    if signup.is_some() {
        let _ = writeln!(
            out,
            "<p><a href=\"#signup\">{}</a></p>",
            esc(&lang.text("signup-title"))
        );
    }

    let selected: Vec<&Deadline> = catalog.select(filter).collect();
    let upcoming: Vec<&&Deadline> = selected.iter().filter(|d| d.is_ahead(now)).collect();
    if upcoming.is_empty() {
        let _ = writeln!(out, "<p>{}</p>", esc(&lang.text("no-upcoming")));
    }
    let mut month = String::new();
    for d in &upcoming {
        let m = lang.month(d.due_date());
        if m != month {
            if !month.is_empty() {
                out.push_str("</ul>\n");
            }
            let _ = write!(out, "<h2>{}</h2>\n<ul class=\"deadlines\">\n", esc(&m));
            month = m;
        }
        item(&mut out, catalog, d, lang, now, links);
    }
    if !month.is_empty() {
        out.push_str("</ul>\n");
    }
    if let Some(token) = signup {
        let form = super::signup::Form {
            token,
            fields: None,
            errors: &[],
        };
        super::signup::form(&mut out, catalog, lang, links, &form);
    }

    let past: Vec<&&Deadline> = selected.iter().rev().filter(|d| !d.is_ahead(now)).collect();
    if !past.is_empty() {
        let _ = write!(
            out,
            "<details>\n<summary>{} ({})</summary>\n<ul class=\"deadlines\">\n",
            esc(&lang.text("past")),
            past.len()
        );
        for d in past {
            item(&mut out, catalog, d, lang, now, links);
        }
        out.push_str("</ul>\n</details>\n");
    }
    out.push_str("</main>\n");

    let _ = write!(
        out,
        "<footer><p class=\"small\">{}: <a href=\"{}\">iCalendar</a> · <a href=\"{}\">JSON</a></p></footer>\n</body>\n</html>\n",
        esc(&lang.text("other-formats")),
        esc(&https),
        esc(&links.json(filter, Some(lang))),
    );
    out
}

/// The calendar's name, and a link to this page in every other language,
/// each named in itself.
fn header(out: &mut String, name: &str, input: &PageInput<'_>) {
    let _ = write!(
        out,
        "<header><h1>{}</h1><nav class=\"langs\" aria-label=\"{}\">",
        user(name),
        esc(&input.lang.text("nav-languages"))
    );
    for other in Lang::all().filter(|l| *l != input.lang) {
        let _ = write!(
            out,
            "<a href=\"{}\" hreflang=\"{code}\" lang=\"{code}\">{}</a>",
            esc(&input.links.page(input.filter, Some(other))),
            esc(&other.name()),
            code = other.code(),
        );
    }
    out.push_str("</nav></header>\n");
}

/// The mechanism and topic filters as links; the current one in bold.
fn filters(out: &mut String, catalog: &Catalog, input: &PageInput<'_>) {
    let PageInput {
        filter,
        lang,
        links,
        ..
    } = *input;
    let reg = catalog.registry();
    let all = lang.text("filter-all");
    let row = |out: &mut String,
               label: &str,
               current: &[String],
               items: Vec<(String, String, Filter)>,
               none: Filter| {
        let _ = write!(out, "<p><span class=\"small\">{}:</span> ", esc(label));
        if current.is_empty() {
            let _ = write!(out, "<strong>{}</strong>", esc(&all));
        } else {
            let _ = write!(
                out,
                "<a href=\"{}\">{}</a>",
                esc(&links.page(&none, Some(lang))),
                esc(&all)
            );
        }
        for (slug, label, f) in items {
            if current.len() == 1 && current[0] == slug {
                let _ = write!(out, "<strong>{}</strong>", esc(&label));
            } else {
                let _ = write!(
                    out,
                    "<a href=\"{}\">{}</a>",
                    esc(&links.page(&f, Some(lang))),
                    esc(&label)
                );
            }
        }
        out.push_str("</p>\n");
    };
    let _ = writeln!(
        out,
        "<nav aria-label=\"{}\">",
        esc(&lang.text("nav-filters"))
    );
    let mechanisms = reg
        .mechanisms
        .values()
        .map(|m| {
            let f = Filter {
                topics: filter.topics.clone(),
                mechanisms: vec![m.slug.clone()],
            };
            (m.slug.clone(), m.name(lang.code()).to_string(), f)
        })
        .collect();
    row(
        out,
        &lang.text("mechanisms"),
        &filter.mechanisms,
        mechanisms,
        Filter {
            topics: filter.topics.clone(),
            mechanisms: vec![],
        },
    );
    let topics = reg
        .topics
        .values()
        .map(|tp| {
            let f = Filter {
                topics: vec![tp.slug.clone()],
                mechanisms: filter.mechanisms.clone(),
            };
            (tp.slug.clone(), tp.name(lang.code()).to_string(), f)
        })
        .collect();
    row(
        out,
        &lang.text("topics"),
        &filter.topics,
        topics,
        Filter {
            topics: vec![],
            mechanisms: filter.mechanisms.clone(),
        },
    );
    out.push_str("</nav>\n");
}

/// Subscribing to the current filter: webcal link, address, how-tos.
fn subscribe(out: &mut String, https: &str, input: &PageInput<'_>) {
    let t = |id| input.lang.text(id);
    let _ = write!(
        out,
        "<section class=\"subscribe\">\n<strong>{}</strong>: <a href=\"{}\">{}</a>\n<p class=\"small\">{}</p>\n<code>{}</code>\n<ul class=\"small\">\n<li>{}</li>\n<li>{}</li>\n<li>{}</li>\n</ul>\n</section>\n",
        esc(&t("subscribe")),
        esc(&input.links.webcal(https)),
        esc(&t("subscribe-button")),
        esc(&t("copy-url")),
        esc(https),
        esc(&t("howto-google")),
        esc(&t("howto-apple")),
        esc(&t("howto-outlook")),
    );
}

fn status_badge(d: &Deadline, lang: Lang) -> String {
    let word = match d.status {
        Status::Confirmed => return String::new(),
        Status::Tentative => lang.text("tentative"),
        Status::Cancelled => lang.text("cancelled"),
    };
    format!("<span class=\"status\">{}</span>", esc(&word))
}

/// "in 3 days", or nothing for an open call (its date says it is open).
fn left(d: &Deadline, lang: Lang, now: DateTime<Utc>) -> String {
    if d.is_open() {
        String::new()
    } else {
        lang.days_left(d.days_left(now))
    }
}

/// The title, after the milestone's name if the item is one.
fn title(catalog: &Catalog, d: &Deadline, lang: Lang) -> String {
    match feed::milestone_name(catalog, d, lang) {
        Some(name) => format!("{name} — {}", d.title),
        None => d.title.clone(),
    }
}

/// The entry's milestones, soonest first: past ones struck, the next one
/// (or `d` itself, if all are past) highlighted, `d` marked as this page.
fn timeline(
    out: &mut String,
    catalog: &Catalog,
    d: &Deadline,
    lang: Lang,
    now: DateTime<Utc>,
    links: &Links,
) {
    let mut steps: Vec<&Deadline> = catalog
        .deadlines()
        .iter()
        .filter(|o| o.entry == d.entry && o.milestone.is_some())
        .collect();
    if steps.len() < 2 {
        return;
    }
    steps.sort_by_key(|o| o.due_at);
    let next = steps.iter().position(|o| o.is_upcoming(now));
    let _ = writeln!(
        out,
        "<h2>{}</h2>\n<ol class=\"timeline\">",
        esc(&lang.text("timeline"))
    );
    for (i, o) in steps.iter().enumerate() {
        let name = feed::milestone_name(catalog, o, lang).unwrap_or_default();
        let text = format!(
            "{} — {}",
            esc(&feed::due_short(o, o.timezone, lang)),
            user(name)
        );
        let text = if o.id == d.id {
            format!("<span aria-current=\"page\">{text}</span>")
        } else {
            format!(
                "<a href=\"{}\">{text}</a>",
                esc(&links.detail(&o.id, Some(lang)))
            )
        };
        let class = match (o.is_ahead(now), Some(i) == next) {
            (_, true) => " class=\"next\"",
            (false, _) => " class=\"past\"",
            _ => "",
        };
        let text = if o.is_ahead(now) {
            text
        } else {
            format!("<s>{text}</s>")
        };
        let _ = writeln!(out, "<li{class}>{text}{}</li>", status_badge(o, lang));
    }
    out.push_str("</ol>\n");
}

fn item(
    out: &mut String,
    catalog: &Catalog,
    d: &Deadline,
    lang: Lang,
    now: DateTime<Utc>,
    links: &Links,
) {
    let reg = catalog.registry();
    let mech = feed::mechanism_name(catalog, d, lang);
    let class = if d.status == Status::Cancelled {
        " class=\"cancelled\""
    } else {
        ""
    };
    let _ = write!(
        out,
        "<li{class}><span class=\"when\">{}</span><span class=\"left\">{}</span><br>\n<span class=\"mech\">{}</span> <a class=\"title\" href=\"{}\">{}</a>{}<br>\n",
        esc(&feed::due_short(d, d.timezone, lang)),
        esc(&left(d, lang, now)),
        user(mech),
        esc(&links.detail(&d.id, Some(lang))),
        user(&title(catalog, d, lang)),
        status_badge(d, lang),
    );
    for slug in &d.topics {
        let name = reg.topic_name(slug, lang.code());
        let _ = write!(out, "<span class=\"tag\">{}</span>", user(name));
    }
    let _ = writeln!(
        out,
        " <a class=\"small\" href=\"{}\">{}</a></li>",
        esc(&links.one(&d.id, Some(lang))),
        esc(&lang.text("add-to-calendar"))
    );
}

/// The page of one deadline.
pub fn detail(
    catalog: &Catalog,
    d: &Deadline,
    name: &str,
    lang: Lang,
    now: DateTime<Utc>,
    links: &Links,
) -> String {
    let t = |id| lang.text(id);
    let code = lang.code();
    let reg = catalog.registry();
    let mut out = String::with_capacity(8 * 1024);
    head(&mut out, &format!("{} — {}", d.title, name), lang);
    let _ = write!(
        out,
        "<header><nav aria-label=\"{}\"><a href=\"{}\">← {}</a></nav></header>\n<main>\n<h1>{}{}</h1>\n<dl>\n",
        esc(&t("back")),
        esc(&links.page(&Filter::default(), Some(lang))),
        esc(&t("back")),
        user(&title(catalog, d, lang)),
        status_badge(d, lang)
    );
    let mut row = |label: &str, html: String| {
        let _ = writeln!(out, "<dt>{}</dt><dd>{html}</dd>", esc(label));
    };
    if let Some(opens) = &d.opens {
        row(&t("opens"), esc(&feed::when_words(opens, d, lang)));
    }
    row(
        &t("due"),
        format!(
            "{} <span class=\"left\">{}</span>",
            esc(&feed::due_words(d, lang)),
            esc(&left(d, lang, now))
        ),
    );
    if let Some((label, when)) = feed::extension(d, lang) {
        row(&label, esc(&when));
    }
    if d.repeat.is_some() {
        row(&t("repeats"), esc(&t("every-year")));
    }
    if let Some(m) = reg.mechanism(&d.mechanism) {
        let label = format!("{} ({})", m.full_name(code), m.name(code));
        row(
            &t("mechanism"),
            match &m.url {
                Some(u) => format!(
                    "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
                    esc(u),
                    user(&label)
                ),
                None => user(&label),
            },
        );
    }
    if let Some(body) = &d.body {
        row("", user(body));
    }
    if let Some(to) = &d.submit_to {
        row(
            &t("submit-to"),
            match to {
                SubmitTo::Email(e) => format!("<a href=\"mailto:{}\">{}</a>", esc(e), esc(e)),
                SubmitTo::Url(u) => format!(
                    "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
                    esc(u),
                    esc(u)
                ),
            },
        );
    }
    if let Some(u) = &d.url {
        row(
            &t("link"),
            format!(
                "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
                esc(u),
                esc(u)
            ),
        );
    }
    if let Some(c) = &d.country {
        row(&t("country"), user(c));
    }
    let topics: String = d
        .topics
        .iter()
        .map(|s| {
            format!(
                "<span class=\"tag\">{}</span>",
                user(reg.topic_name(s, code))
            )
        })
        .collect();
    row(&t("topics"), topics);
    out.push_str("</dl>\n");
    timeline(&mut out, catalog, d, lang, now, links);
    // The requirements as a checklist to go through before sending.
    let requirements = crate::render::requirements::lines(&d.requirements, lang);
    if !requirements.is_empty() {
        let _ = writeln!(out, "<h2>{}</h2>\n<ul class=\"checklist\">", t("req-title"));
        for (label, value) in requirements {
            let value = if value.starts_with("https://") || value.starts_with("http://") {
                format!(
                    "<a href=\"{}\" rel=\"noopener noreferrer\">{}</a>",
                    esc(&value),
                    esc(&value)
                )
            } else {
                user(&value)
            };
            let _ = writeln!(out, "<li>{}: {value}</li>", esc(&label));
        }
        out.push_str("</ul>\n");
    }
    if let Some(text) = &d.description {
        let _ = writeln!(out, "<p class=\"text\" dir=\"auto\">{}</p>", esc(text));
    }
    let _ = write!(
        out,
        "<p><a href=\"{}\">{}</a></p>\n</main>\n</body>\n</html>\n",
        esc(&links.one(&d.id, Some(lang))),
        esc(&t("add-to-calendar"))
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
    }
}
