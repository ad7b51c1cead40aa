//! A reminder's two bodies, plain text and HTML, from the same lines
//! (`super::Lines`): the HTML part uses paragraphs, lists and links, and
//! shows a web link by its host.

use std::fmt::Write as _;

use super::{discreet_line, greeting, Letterhead, Lines};
use crate::load::subscribers::Subscriber;
use crate::model::deadline::Deadline;
use crate::reminders::plan::Item;
use crate::render::page::esc;

/// Blank lines enough to push the details below a phone's screenful.
const SCREENFUL: usize = 40;

/// Where a fact links to in the HTML part.
pub(super) enum Link {
    None,
    /// An address: a `mailto:` link that shows the address.
    Mail(String),
    /// A web page: a link that shows only its host. The host is what a
    /// reader needs to judge a link; the path is long Latin text that a
    /// Russian or Belarusian mail would otherwise carry twice (spam filters
    /// count Latin letters in Cyrillic text: SpamAssassin's `MIXED_ES`).
    Web(String),
}

impl Link {
    /// `value` as HTML: escaped, inside a link when it is one.
    pub(super) fn html(&self, value: &str) -> String {
        match self {
            Link::None => esc(value),
            Link::Mail(address) => {
                format!("<a href=\"mailto:{}\">{}</a>", esc(address), esc(address))
            }
            Link::Web(url) => {
                let host = url::Url::parse(url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_string));
                match host {
                    Some(host) => format!("<a href=\"{}\">{}</a>", esc(url), esc(&host)),
                    None => esc(value),
                }
            }
        }
    }
}

pub(super) fn text_body(
    lines: &Lines<'_>,
    s: &Subscriber,
    items: &[(&Item, &Deadline)],
    head: &Letterhead<'_>,
) -> String {
    let lang = s.language;
    let mut out = String::new();
    if s.discreet {
        let _ = writeln!(
            out,
            "{}\n{}{}",
            discreet_line(s, items),
            lang.text("discreet-details"),
            "\n".repeat(SCREENFUL)
        );
    }
    let _ = writeln!(
        out,
        "{}\n\n{}",
        greeting(s, "mail-greeting"),
        lang.text("mail-intro")
    );
    for (item, d) in items {
        let _ = writeln!(out, "\n* {}", lines.heading(item, d));
        for (label, value) in lines.facts(item, d) {
            let _ = writeln!(out, "  {label}: {value}");
        }
    }
    let _ = writeln!(
        out,
        "\n{}\n{}\n{}\n{}\n{}",
        lang.text("mail-attachment"),
        lang.text("mail-manage"),
        head.manage_url,
        lang.text("mail-stop"),
        head.unsubscribe_url
    );
    out
}

pub(super) fn html_body(
    lines: &Lines<'_>,
    s: &Subscriber,
    items: &[(&Item, &Deadline)],
    head: &Letterhead<'_>,
) -> String {
    let lang = s.language;
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\"><head><meta charset=\"utf-8\"></head>\n<body style=\"font-family:sans-serif;line-height:1.5\">\n",
        lang.code(),
    );
    if s.discreet {
        let _ = writeln!(
            out,
            "<p>{}</p>\n<p>{}</p>\n<div style=\"height:100vh\"><pre>{}</pre></div>",
            esc(&discreet_line(s, items)),
            esc(&lang.text("discreet-details")),
            // A blank screenful that holds without CSS too; no run of
            // `<br>`, which spam filters score (AC_BR_BONANZA).
            "\n".repeat(SCREENFUL)
        );
    }
    let _ = writeln!(out, "<p>{}</p>", esc(&greeting(s, "mail-greeting-inline")));
    for (item, d) in items {
        let _ = write!(out, "<h3>{}</h3>\n<ul>\n", esc(&lines.heading(item, d)));
        for (label, value, link) in lines.linked_facts(item, d) {
            let _ = writeln!(
                out,
                "<li><b>{}:</b> {}</li>",
                esc(&label),
                link.html(&value)
            );
        }
        out.push_str("</ul>\n");
    }
    let _ = write!(
        out,
        "<p style=\"font-size:small\">{} <a href=\"{}\">{}</a> · <a href=\"{}\">{}</a></p>\n</body></html>\n",
        esc(&lang.text("mail-attachment")),
        esc(head.manage_url),
        esc(&lang.text("mail-manage-link")),
        esc(head.unsubscribe_url),
        esc(&lang.text("mail-unsubscribe"))
    );
    out
}
