//! The HTML of self-service subscriptions: the sign-up form (on the list
//! page and a page of its own), the pages answering it, the preference
//! page and the privacy statement. Pure: values in, HTML out. No script:
//! every page works with JavaScript off, over Tor, on a phone.

use std::fmt::Write as _;

use crate::i18n::Lang;
use crate::model::catalog::Catalog;
use crate::subscriptions::form::{days_value, FieldError, Fields, DAY_MENU, MAX_EMAIL};

use super::links::Links;
use super::page::{self, esc};

/// What the sign-up form shows: the form token, and what was typed with
/// its errors when it is shown again.
pub struct Form<'a> {
    pub token: &'a str,
    pub fields: Option<&'a Fields>,
    pub errors: &'a [FieldError],
}

/// The sign-up form as a section of a page.
pub fn form(out: &mut String, catalog: &Catalog, lang: Lang, links: &Links, form: &Form<'_>) {
    let t = |id: &str| esc(&lang.text(id));
    let empty = Fields::default();
    let f = form.fields.unwrap_or(&empty);
    let _ = write!(
        out,
        "<section class=\"subscribe\" id=\"signup\">\n<h2>{}</h2>\n<p class=\"small\">{}</p>\n",
        t("signup-title"),
        t("signup-intro")
    );
    if !form.errors.is_empty() {
        let _ = writeln!(
            out,
            "<div class=\"error\" role=\"alert\"><p>{}</p><ul>",
            t("signup-error-title")
        );
        let mut seen = Vec::new();
        for e in form.errors {
            if !seen.contains(&e.message) {
                seen.push(e.message);
                let _ = writeln!(out, "<li>{}</li>", t(e.message));
            }
        }
        out.push_str("</ul></div>\n");
    }
    let _ = write!(
        out,
        "<form method=\"post\" action=\"{}\">\n<input type=\"hidden\" name=\"token\" value=\"{}\">\n\
         <p><label for=\"signup-email\">{}</label><br>\
         <input id=\"signup-email\" type=\"email\" name=\"email\" required maxlength=\"{MAX_EMAIL}\" autocomplete=\"email\" value=\"{}\"></p>\n",
        esc(&links.path("subscribe")),
        esc(form.token),
        t("signup-email"),
        esc(&f.email),
    );
    choices(out, catalog, lang, &f.topics, &f.mechanisms);
    settings(out, lang, &f.lang, &f.days, Some(&f.mode), None, f.discreet);
    let _ = write!(
        out,
        "<p><button type=\"submit\">{}</button> <a class=\"small\" href=\"{}\">{}</a></p>\n</form>\n</section>\n",
        t("signup-submit"),
        esc(&links.path("privacy")),
        t("signup-privacy"),
    );
}

/// Topic and mechanism checkboxes (`checked`: the slugs ticked).
fn choices(
    out: &mut String,
    catalog: &Catalog,
    lang: Lang,
    topics: &[String],
    mechanisms: &[String],
) {
    let reg = catalog.registry();
    let boxes = |out: &mut String,
                 legend: &str,
                 name: &str,
                 items: Vec<(&str, &str)>,
                 ticked: &[String]| {
        let _ = writeln!(out, "<fieldset><legend>{}</legend>", esc(legend));
        for (slug, label) in items {
            let _ = writeln!(
                out,
                "<label class=\"choice\"><input type=\"checkbox\" name=\"{name}\" value=\"{}\"{}> {}</label>",
                esc(slug),
                if ticked.iter().any(|t| t == slug) { " checked" } else { "" },
                esc(label)
            );
        }
        out.push_str("</fieldset>\n");
    };
    boxes(
        out,
        &lang.text("signup-topics"),
        "topic",
        reg.topics
            .values()
            .map(|t| (t.slug.as_str(), t.name(lang.code())))
            .collect(),
        topics,
    );
    boxes(
        out,
        &lang.text("signup-mechanisms"),
        "mechanism",
        reg.mechanisms
            .values()
            .map(|m| (m.slug.as_str(), m.name(lang.code())))
            .collect(),
        mechanisms,
    );
}

/// Language, days and mode (`None`: not offered, it is staff's).
/// `extra_days`: a setting outside the menu (a subscribers-file person's),
/// offered first.
fn settings(
    out: &mut String,
    lang: Lang,
    chosen_lang: &str,
    days: &str,
    mode: Option<&str>,
    extra_days: Option<&[u16]>,
    discreet: bool,
) {
    let t = |id: &str| esc(&lang.text(id));
    let chosen_lang = if chosen_lang.is_empty() {
        lang.code()
    } else {
        chosen_lang
    };
    let _ = write!(
        out,
        "<p><label for=\"signup-lang\">{}</label> <select id=\"signup-lang\" name=\"lang\">",
        t("signup-language")
    );
    for l in Lang::all() {
        let _ = write!(
            out,
            "<option value=\"{code}\" lang=\"{code}\"{}>{}</option>",
            if l.code() == chosen_lang {
                " selected"
            } else {
                ""
            },
            esc(&l.name()),
            code = l.code()
        );
    }
    let _ = write!(out, "</select></p>\n<p><label for=\"signup-days\">{}</label> <select id=\"signup-days\" name=\"days\">", t("signup-days"));
    let menu: Vec<&[u16]> = extra_days
        .filter(|d| !DAY_MENU.contains(d))
        .into_iter()
        .chain(DAY_MENU)
        .collect();
    let chosen_days = if days.is_empty() {
        days_value(menu[0])
    } else {
        days.to_string()
    };
    for d in menu {
        let value = days_value(d);
        let list = d.iter().map(u16::to_string).collect::<Vec<_>>().join(", ");
        let _ = write!(
            out,
            "<option value=\"{value}\"{}>{}</option>",
            if value == chosen_days {
                " selected"
            } else {
                ""
            },
            esc(&lang.format("signup-days-option", &[("list", list.into())]))
        );
    }
    out.push_str("</select></p>\n");
    let _ = writeln!(
        out,
        "<p><label class=\"choice\"><input type=\"checkbox\" name=\"discreet\" value=\"on\"{}> {}</label></p>",
        if discreet { " checked" } else { "" },
        t("signup-discreet")
    );
    let Some(mode) = mode else {
        return;
    };
    let each = mode == "each";
    let _ = write!(
        out,
        "<fieldset><legend>{}</legend>\n\
         <label class=\"choice\"><input type=\"radio\" name=\"mode\" value=\"digest\"{}> {}</label>\n\
         <label class=\"choice\"><input type=\"radio\" name=\"mode\" value=\"each\"{}> {}</label>\n</fieldset>\n",
        t("signup-mode"),
        if each { "" } else { " checked" },
        t("signup-mode-digest"),
        if each { " checked" } else { "" },
        t("signup-mode-each"),
    );
}

/// The sign-up page: the form alone.
pub fn signup_page(
    catalog: &Catalog,
    name: &str,
    lang: Lang,
    links: &Links,
    form: &Form<'_>,
) -> String {
    let mut out = String::with_capacity(8 * 1024);
    page::head_for(&mut out, &lang.text("signup-title"), lang);
    let _ = writeln!(
        out,
        "<header><h1>{}</h1><nav aria-label=\"{}\"><a href=\"{}\">{}</a></nav></header>\n<main>",
        page::user(name),
        esc(&lang.text("back")),
        esc(&links.page(&Default::default(), Some(lang))),
        esc(&lang.text("back"))
    );
    self::form(&mut out, catalog, lang, links, form);
    out.push_str("</main>\n</body>\n</html>\n");
    out
}

/// A page with a heading, text and one button posting back to `action`.
pub fn button_page(title: &str, text: &str, action: &str, button: &str, lang: Lang) -> String {
    button_page_with_link(title, text, action, button, None, lang)
}

/// [`button_page`] with a link below the button: `(href, text)`.
pub fn button_page_with_link(
    title: &str,
    text: &str,
    action: &str,
    button: &str,
    link: Option<(&str, &str)>,
    lang: Lang,
) -> String {
    let mut form = format!(
        "<form method=\"post\" action=\"{}\"><button type=\"submit\">{}</button></form>\n",
        esc(action),
        esc(button)
    );
    if let Some((href, text)) = link {
        form.push_str(&format!(
            "<p><a href=\"{}\">{}</a></p>\n",
            esc(href),
            esc(text)
        ));
    }
    page::simple(title, text, &form, lang)
}

/// What the preference page shows.
pub struct Manage<'a> {
    /// Masked (`a***@example.org`).
    pub address: &'a str,
    /// A subscribers-file person: topics are staff's.
    pub staff: bool,
    /// Whom staff's subscribers write to (`[subscriptions] contact`).
    pub contact: Option<&'a str>,
    /// A sign-up not confirmed yet.
    pub pending: bool,
    pub topics: &'a [String],
    pub mechanisms: &'a [String],
    pub language: Lang,
    pub days: &'a [u16],
    pub digest: bool,
    pub discreet: bool,
    /// "Encrypted to key D47B…1EE0", when mail to them is encrypted.
    pub openpgp: Option<String>,
    /// "Paused until 3 March 2027", when paused.
    pub paused_until: Option<String>,
    pub unsubscribed: bool,
    /// What the last action did, if anything.
    pub notice: Option<String>,
    /// The page's own address (the form posts back to it).
    pub action: &'a str,
    /// After a rotation: the new link to keep.
    pub new_link: Option<&'a str>,
}

/// The preference page.
pub fn manage(catalog: &Catalog, name: &str, lang: Lang, links: &Links, m: &Manage<'_>) -> String {
    let t = |id: &str| esc(&lang.text(id));
    let mut out = String::with_capacity(8 * 1024);
    page::head_for(&mut out, &lang.text("manage-title"), lang);
    let _ = writeln!(
        out,
        "<header><h1>{}</h1><nav aria-label=\"{}\"><a href=\"{}\">{}</a></nav></header>\n<main>\n<h2>{}</h2>\n<p>{}</p>",
        page::user(name),
        t("back"),
        esc(&links.page(&Default::default(), Some(lang))),
        esc(&lang.text("back")),
        t("manage-title"),
        esc(&lang.format("manage-intro", &[("address", m.address.into())])),
    );
    if m.pending {
        let _ = writeln!(out, "<p><strong>{}</strong></p>", t("manage-pending"));
    }
    if let Some(notice) = &m.notice {
        let _ = writeln!(
            out,
            "<p class=\"notice\" role=\"status\">{}</p>",
            esc(notice)
        );
    }
    if let Some(link) = m.new_link {
        let _ = writeln!(
            out,
            "<p>{}</p>\n<p><code>{}</code></p>",
            t("manage-rotated"),
            esc(link)
        );
    }
    if m.unsubscribed {
        let _ = writeln!(out, "<p><strong>{}</strong></p>", t("manage-unsubscribed"));
    } else if let Some(until) = &m.paused_until {
        let _ = writeln!(out, "<p><strong>{}</strong></p>", esc(until));
    }
    let action = esc(m.action);
    let _ = writeln!(out, "<form method=\"post\" action=\"{action}\">");
    if m.staff {
        let _ = write!(out, "<p class=\"small\">{}", t("manage-staff"));
        if let Some(contact) = m.contact {
            let text = lang.format("manage-staff-contact", &[("contact", contact.into())]);
            let _ = write!(out, " {}", esc(&text));
        }
        out.push_str("</p>\n");
    } else {
        choices(&mut out, catalog, lang, m.topics, m.mechanisms);
    }
    settings(
        &mut out,
        lang,
        m.language.code(),
        &days_value(m.days),
        // One digest or one mail per deadline: staff's, for their people.
        (!m.staff).then_some(if m.digest { "digest" } else { "each" }),
        Some(m.days),
        m.discreet,
    );
    let _ = writeln!(
        out,
        "<p><button type=\"submit\" name=\"action\" value=\"save\">{}</button></p>\n</form>",
        t("manage-save")
    );
    // Encryption: a sign-up pastes their key; staff keep the file's.
    let _ = writeln!(out, "<h3>{}</h3>", t("manage-key-title"));
    if let Some(line) = &m.openpgp {
        let _ = writeln!(out, "<p><strong>{}</strong></p>", esc(line));
    }
    if m.staff {
        let _ = writeln!(out, "<p class=\"small\">{}</p>", t("manage-key-staff"));
    } else {
        let _ = writeln!(
            out,
            "<form method=\"post\" action=\"{action}\">\n<p class=\"small\">{}</p>\n<p><label for=\"openpgp-key\">{}</label><br><textarea id=\"openpgp-key\" name=\"openpgp_key\" rows=\"6\" cols=\"64\" maxlength=\"{}\" spellcheck=\"false\" autocomplete=\"off\" placeholder=\"-----BEGIN PGP PUBLIC KEY BLOCK-----\"></textarea></p>\n<p><button type=\"submit\" name=\"action\" value=\"key\">{}</button>",
            t("manage-key-help"),
            t("manage-key-label"),
            crate::subscriptions::form::MAX_KEY,
            t("manage-key-button"),
        );
        if m.openpgp.is_some() {
            let _ = write!(
                out,
                " <button type=\"submit\" name=\"action\" value=\"key-remove\">{}</button>",
                t("manage-key-remove")
            );
        }
        out.push_str("</p>\n</form>\n");
    }
    // Pause, resume, stop or start again.
    let _ = writeln!(out, "<form method=\"post\" action=\"{action}\"><p>");
    if m.unsubscribed {
        let _ = write!(
            out,
            "<button type=\"submit\" name=\"action\" value=\"resubscribe\">{}</button>",
            t("manage-resubscribe")
        );
    } else {
        if m.paused_until.is_some() {
            let _ = write!(
                out,
                "<button type=\"submit\" name=\"action\" value=\"resume\">{}</button> ",
                t("manage-resume")
            );
        }
        let _ = write!(
            out,
            "<label for=\"pause-days\">{}</label> <select id=\"pause-days\" name=\"pause_days\">",
            t("manage-pause")
        );
        for days in [7u32, 30, 90] {
            let _ = write!(
                out,
                "<option value=\"{days}\">{}</option>",
                esc(&lang.format("manage-pause-option", &[("days", days.into())]))
            );
        }
        let _ = write!(
            out,
            "</select> <button type=\"submit\" name=\"action\" value=\"pause\">{}</button></p>\n<p><button type=\"submit\" name=\"action\" value=\"unsubscribe\">{}</button>",
            t("manage-pause-button"),
            t("manage-unsubscribe")
        );
    }
    let _ = writeln!(
        out,
        "</p></form>\n<form method=\"post\" action=\"{action}\"><p><button type=\"submit\" name=\"action\" value=\"rotate\">{}</button><br><span class=\"small\">{}</span></p></form>",
        t("manage-rotate"),
        t("manage-rotate-help"),
    );
    if !m.staff {
        let _ = writeln!(
            out,
            "<form method=\"post\" action=\"{action}\"><p><button type=\"submit\" name=\"action\" value=\"delete\">{}</button><br><span class=\"small\">{}</span></p></form>",
            t("manage-delete"),
            t("manage-delete-help"),
        );
    }
    let _ = writeln!(
        out,
        "</main>\n<footer><p class=\"small\"><a href=\"{}\">{}</a></p></footer>\n</body>\n</html>",
        esc(&links.path("privacy")),
        t("signup-privacy")
    );
    out
}

/// The messages of the privacy statement, a paragraph each, in order
/// (`hours`: `[subscriptions] confirm_hours`).
pub const PRIVACY: [&str; 5] = [
    "privacy-stored",
    "privacy-how",
    "privacy-how-long",
    "privacy-delete",
    "privacy-mail",
];

/// The privacy statement (docs/src/subscribers/privacy.md has the English
/// text; a test keeps the two the same).
pub fn privacy(name: &str, lang: Lang, links: &Links, confirm_hours: u32) -> String {
    let mut out = String::with_capacity(4 * 1024);
    page::head_for(&mut out, &lang.text("privacy-title"), lang);
    let _ = writeln!(
        out,
        "<header><h1>{}</h1><nav aria-label=\"{}\"><a href=\"{}\">{}</a></nav></header>\n<main>\n<h2>{}</h2>",
        page::user(name),
        esc(&lang.text("back")),
        esc(&links.page(&Default::default(), Some(lang))),
        esc(&lang.text("back")),
        esc(&lang.text("privacy-title")),
    );
    for id in PRIVACY {
        let text = lang.format(id, &[("hours", confirm_hours.into())]);
        let _ = writeln!(out, "<p>{}</p>", esc(&text));
    }
    out.push_str("</main>\n</body>\n</html>\n");
    out
}
