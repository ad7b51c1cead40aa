//! The preference page (`/manage?token=…`), linked from every reminder,
//! notice and sign-up mail: change what the form set, pause, stop or
//! start again, make a new link (the old one stops working), and — for a
//! self-service subscriber — delete everything about them. People of the
//! subscribers file may change their language and days and stop; their
//! topics are staff's (the page says so).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};

use crate::i18n::Lang;
use crate::reminders::message::signup::Notice;
use crate::render::{page, signup};
use crate::state::StateError;
use crate::subscriptions::form::{self, FieldError};
use crate::subscriptions::links::{self, Purpose};
use crate::subscriptions::Status;

use super::notice;
use super::pages::not_found;
use super::reminders::{current, row, Person, Reminders};
use super::response::{self, header_lang, html, message_page};
use super::signup::{read_form, same_origin};
use super::unsubscribe::token_of;
use super::App;

fn invalid(lang: Lang) -> Response {
    message_page(
        StatusCode::BAD_REQUEST,
        lang,
        "manage-invalid-title",
        "manage-invalid-text",
    )
}

fn unavailable(e: &StateError) -> Response {
    response::unavailable("preference page", e)
}

/// The person the request's link names, if it is a preference link of
/// their current link value.
fn verified(r: &Reminders, uri: &Uri) -> Result<Option<(String, Person)>, StateError> {
    let Some(link) = token_of(uri).and_then(|t| links::verify(&r.secret, Purpose::Manage, &t))
    else {
        return Ok(None);
    };
    // 0 is no value: a person without a row has no link that works.
    Ok(r.person(&link.id)?
        .filter(|p| link.n != 0 && p.link_value() == link.n)
        .map(|p| (link.id, p)))
}

#[allow(clippy::too_many_arguments)]
fn render(
    app: &App,
    key: &str,
    p: &Person,
    opted_out: bool,
    notice: Option<String>,
    new_link: Option<&str>,
    now: DateTime<Utc>,
) -> Response {
    let snap = app.snapshot();
    let (choice, paused) = current(p);
    let lang = Lang::parse(&choice.language).unwrap_or_default();
    let address = crate::load::subscribers::mask(p.email());
    let Some(r) = &app.reminders else {
        return invalid(lang);
    };
    let base = &snap.config.calendar.base_url;
    let url = crate::reminders::pass::manage_url(base, &r.secret, key, p.link_value());
    let action = format!(
        "{}?{}",
        snap.links().path("manage"),
        url.split_once('?').map_or("", |(_, q)| q)
    );
    let paused_until = paused.filter(|t| *t > now).map(|t| {
        let date = lang.date(t.with_timezone(&snap.config.calendar.timezone).date_naive());
        lang.format("manage-paused", &[("date", date.into())])
    });
    let body = signup::manage(
        &snap.catalog,
        &snap.config.calendar.name,
        lang,
        &snap.links(),
        &signup::Manage {
            address: &address,
            staff: p.staff(),
            contact: snap.config.subscriptions.contact.as_deref(),
            pending: matches!(p, Person::SignUp(s) if s.status == Status::Pending),
            topics: &choice.topics,
            mechanisms: &choice.mechanisms,
            language: lang,
            days: &choice.remind_days,
            digest: choice.digest,
            discreet: choice.discreet,
            openpgp: key_line(p, lang, now),
            paused_until,
            unsubscribed: opted_out,
            notice,
            action: &action,
            new_link,
        },
    );
    html(StatusCode::OK, body)
}

/// `GET /manage?token=…`.
pub(super) async fn manage_page(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let Some(r) = &app.reminders else {
        return not_found(uri).await;
    };
    let lang = header_lang(&headers);
    let now = (app.clock)();
    match verified(r, &uri).and_then(|v| {
        v.map(|(key, p)| Ok((r.db(|db| db.is_opted_out(&key))?, key, p)))
            .transpose()
    }) {
        Ok(Some((opted_out, key, p))) => render(&app, &key, &p, opted_out, None, None, now),
        Ok(None) => invalid(lang),
        Err(e) => unavailable(&e),
    }
}

/// `POST /manage?token=…` with `action` = `save`, `pause`, `resume`,
/// `unsubscribe`, `resubscribe`, `rotate` or `delete`.
// Over 100 lines: one arm per button, each a few lines; apart they would hide that they share the checks above them.
pub(super) async fn manage_post(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(r) = &app.reminders else {
        return not_found(uri).await;
    };
    let snap = app.snapshot();
    let lang = header_lang(&headers);
    let now = (app.clock)();
    if !same_origin(&headers, &snap.config.calendar.base_url) {
        return invalid(lang);
    }
    let (key, p) = match verified(r, &uri) {
        Ok(Some(v)) => v,
        Ok(None) => return invalid(lang),
        Err(e) => return unavailable(&e),
    };
    let body = match read_form(body, lang).await {
        Ok(b) => b,
        Err(answer) => return answer,
    };
    let fields = match form::fields(&body) {
        Ok(f) => f,
        Err(e) => return bad_field(lang, &[e]),
    };
    let page_lang = Lang::parse(&current(&p).0.language).unwrap_or(lang);
    let mut stored = row(&p, now);
    let mut new_link = None;
    // The key mail goes to now: a notice of a change is encrypted to it.
    let before = p.openpgp(now).ok().flatten();
    let mut tell_after = None;
    let notice = match fields.action.as_str() {
        "save" => {
            let (old, _) = current(&p);
            let mut f = fields.clone();
            if p.staff() {
                // Topics are staff's: the page sends none, and none are taken.
                f.topics = old.topics.clone();
                f.mechanisms = old.mechanisms.clone();
                f.mode = if old.digest { "digest" } else { "each" }.into();
            }
            let choice = match form::choice(
                snap.catalog.registry(),
                &f,
                page_lang,
                Some(&old.remind_days),
            ) {
                Ok(c) => c,
                Err(errors) => return bad_field(page_lang, &errors),
            };
            stored.sealed.choice = crate::subscriptions::Choice {
                // The key has its own form.
                openpgp_key: old.openpgp_key,
                ..choice
            };
            "manage-saved"
        }
        "key" if !p.staff() => {
            let text = fields.openpgp_key.trim();
            let cert = match crate::openpgp::Cert::check(text.as_bytes(), now) {
                Ok(cert) => cert,
                Err(problem) => return key_refused(page_lang, &problem),
            };
            // Only a key that says it is this address's: anyone holding
            // the link must not have the mail encrypted to them.
            if !cert.names(p.email()) {
                let problem = crate::openpgp::KeyProblem::OtherAddress {
                    fingerprint: cert.fingerprint.clone(),
                    address: crate::load::subscribers::mask(p.email()),
                };
                return key_refused(page_lang, &problem);
            }
            stored.sealed.choice.openpgp_key = format!("{text}\n");
            tell_after = Some(Notice::KeyChanged(notice::short(&cert)));
            "manage-key-saved"
        }
        "key-remove" if !p.staff() => {
            if before.is_some() {
                tell_after = Some(Notice::KeyRemoved);
            }
            stored.sealed.choice.openpgp_key.clear();
            "manage-key-removed"
        }
        "pause" => {
            let days: i64 = match fields.pause_days.as_str() {
                "7" => 7,
                "30" => 30,
                "90" => 90,
                _ => {
                    return bad_field(
                        page_lang,
                        &[FieldError {
                            field: "pause_days",
                            message: "signup-error-days",
                        }],
                    )
                }
            };
            stored.paused_until = Some(now + Duration::days(days));
            ""
        }
        "resume" => {
            stored.paused_until = None;
            "manage-resumed"
        }
        "unsubscribe" | "resubscribe" => {
            let stopping = fields.action == "unsubscribe";
            let done = if stopping {
                r.db(|db| db.opt_out(&key, now))
            } else {
                r.db(|db| db.resubscribe(&key).map(|_| false))
            };
            let newly_out = match done {
                Ok(new) => new,
                Err(e) => return unavailable(&e),
            };
            if newly_out {
                notice::tell(&app, &p, page_lang, Notice::OptedOut, before, now);
            }
            tracing::info!("preference page changed");
            return render(&app, &key, &p, stopping, None, None, now);
        }
        "rotate" => {
            stored.link_value = links::fresh_value();
            new_link = Some(crate::reminders::pass::manage_url(
                &snap.config.calendar.base_url,
                &r.secret,
                &key,
                stored.link_value,
            ));
            ""
        }
        "delete" if !p.staff() => {
            return match r.db(|db| db.forget(&key)) {
                Ok(_) => {
                    tracing::info!("a subscriber deleted everything about them");
                    // Their mails in a Maildir transport go too (the
                    // deletion notice, written after, is the only one left).
                    if let crate::load::config::Transport::Maildir(dir) =
                        &snap.config.mail.transport
                    {
                        let gone = crate::reminders::transport::maildir::Maildir::open(dir)
                            .and_then(|m| m.forget(p.email()));
                        if let Err(e) = gone {
                            tracing::error!(
                                "cannot delete a subscriber's mails from the Maildir: {e}"
                            );
                        }
                    }
                    notice::tell(&app, &p, page_lang, Notice::Deleted, before, now);
                    message_page(StatusCode::OK, page_lang, "deleted-title", "deleted-text")
                }
                Err(e) => unavailable(&e),
            };
        }
        _ => return invalid(lang),
    };
    if let Err(e) = r.db(|db| db.save_subscription(&r.key, &stored, now)) {
        return unavailable(&e);
    }
    if let Some(what) = tell_after {
        notice::tell(&app, &p, page_lang, what, before, now);
    }
    tracing::info!("preference page changed");
    let p = match p {
        Person::SignUp(_) => Person::SignUp(stored),
        Person::File { subscriber, .. } => Person::File {
            subscriber,
            stored: Some(stored),
        },
    };
    let opted_out = match r.db(|db| db.is_opted_out(&key)) {
        Ok(o) => o,
        Err(e) => return unavailable(&e),
    };
    let notice = (!notice.is_empty()).then(|| {
        let lang = Lang::parse(&current(&p).0.language).unwrap_or(page_lang);
        lang.text(notice).into_owned()
    });
    render(&app, &key, &p, opted_out, notice, new_link.as_deref(), now)
}

/// A pasted key that cannot be used: why (in English, from the key check)
/// and what to do, and nothing saved.
fn key_refused(lang: Lang, problem: &crate::openpgp::KeyProblem) -> Response {
    let text = format!(
        "{} {problem}. {}",
        lang.text("manage-key-refused"),
        problem.help()
    );
    html(
        StatusCode::BAD_REQUEST,
        page::simple(&lang.text("signup-error-title"), &text, "", lang),
    )
}

/// "Encrypted to key D47B…1EE0 (until 2030-01-01)", for the page.
fn key_line(p: &Person, lang: Lang, now: DateTime<Utc>) -> Option<String> {
    let cert = p.openpgp(now).ok()??;
    let short = crate::load::subscribers::mask_fingerprints(&cert.fingerprint);
    let line = match cert.expires {
        Some(at) if at <= now => lang.format(
            "manage-key-expired",
            &[
                ("fingerprint", short.into()),
                ("date", at.format("%Y-%m-%d").to_string().into()),
            ],
        ),
        Some(at) => lang.format(
            "manage-key-until",
            &[
                ("fingerprint", short.into()),
                ("date", at.format("%Y-%m-%d").to_string().into()),
            ],
        ),
        None => lang.format("manage-key-current", &[("fingerprint", short.into())]),
    };
    Some(line)
}

fn bad_field(lang: Lang, errors: &[FieldError]) -> Response {
    let list: Vec<String> = errors
        .iter()
        .map(|e| lang.text(e.message).into_owned())
        .collect();
    html(
        StatusCode::BAD_REQUEST,
        page::simple(&lang.text("signup-error-title"), &list.join(" "), "", lang),
    )
}

impl Person {
    /// Whether staff manage this person's topics.
    pub(super) fn staff(&self) -> bool {
        matches!(self, Person::File { .. })
    }
}
