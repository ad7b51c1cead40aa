//! The unsubscribe endpoints: a page with a button for people (GET), and
//! RFC 8058 one-click (POST). Neither says whether a token matched anyone
//! beyond "done" or "invalid link".

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use crate::i18n::Lang;
use crate::reminders::message::signup::Notice;
use crate::render::page;
use crate::subscriptions::links::{self, Purpose};

use super::pages::not_found;
use super::reminders::{current, Person, Reminders};
use super::response::{header_lang, html, message_page, unavailable};
use super::App;

pub(super) fn token_of(uri: &Uri) -> Option<String> {
    url::form_urlencoded::parse(uri.query()?.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

/// The same answer for every token that does not verify: it reveals
/// nothing about addresses.
pub(super) fn invalid_link(lang: Lang) -> Response {
    message_page(
        StatusCode::BAD_REQUEST,
        lang,
        "unsubscribe-invalid-title",
        "unsubscribe-invalid-text",
    )
}

/// The language to answer in, the endpoints' state, the subscriber key
/// the request's token names — a signed unsubscribe link of their current
/// link value, or a token of mails sent before them — and who that is, if
/// mechcal knows them (read once); or the answer when there is none (404
/// with reminders off, the same "invalid link" for every bad token).
async fn verified<'a>(
    app: &'a App,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(Lang, &'a Reminders, String, Option<Person>), Response> {
    let lang = header_lang(headers);
    let Some(r) = &app.reminders else {
        return Err(not_found(uri.clone()).await);
    };
    let person = |key: &str| match r.person(key) {
        Ok(p) => p,
        Err(e) => {
            tracing::error!("cannot read a subscription: {e}");
            None
        }
    };
    let found = token_of(uri).and_then(|t| {
        match links::verify(&r.secret, Purpose::Unsubscribe, &t) {
            // Signed: only while it carries its person's link value (never 0).
            Some(l) => {
                let p = person(&l.id).filter(|p| l.n != 0 && p.link_value() == l.n)?;
                Some((l.id, Some(p)))
            }
            None => r.legacy_key(&t).map(|key| {
                let p = person(&key);
                (key, p)
            }),
        }
    });
    match found {
        Some((key, p)) => Ok((lang, r, key, p)),
        None => Err(invalid_link(lang)),
    }
}

/// `GET /unsubscribe?token=…`: asks to confirm (mail scanners follow links,
/// so a GET never unsubscribes anybody).
pub(super) async fn unsubscribe_page(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let (lang, _, _, person) = match verified(&app, &uri, &headers).await {
        Ok(v) => v,
        Err(answer) => return answer,
    };
    let action = format!(
        "{}?{}",
        app.snapshot().links().path("unsubscribe"),
        uri.query().unwrap_or("")
    );
    let address = person
        .as_ref()
        .map_or_else(|| "—".into(), |p| crate::load::subscribers::mask(p.email()));
    html(
        StatusCode::OK,
        crate::render::signup::button_page(
            &lang.text("unsubscribe-title"),
            &lang.format("unsubscribe-question", &[("address", address.into())]),
            &action,
            &lang.text("unsubscribe-button"),
            lang,
        ),
    )
}

/// `POST /unsubscribe?token=…`: the form's button and RFC 8058's one-click
/// POST (`List-Unsubscribe=One-Click`) alike record the opt-out — of
/// somebody mechcal knows: after "delete everything", a late click stores
/// nothing about the address again.
pub(super) async fn unsubscribe_post(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let (lang, r, key, person) = match verified(&app, &uri, &headers).await {
        Ok(v) => v,
        Err(answer) => return answer,
    };
    let now = (app.clock)();
    let address = person
        .as_ref()
        .map(|p| crate::load::subscribers::mask(p.email()));
    if let Some(p) = &person {
        let newly_out = match r.db(|db| db.opt_out(&key, now)) {
            Ok(new) => new,
            Err(e) => return unavailable("cannot record an opt-out", &e),
        };
        tracing::info!("unsubscribed");
        if newly_out {
            let lang = Lang::parse(&current(p).0.language).unwrap_or(lang);
            let key = p.openpgp(now).ok().flatten();
            super::notice::tell(&app, p, lang, Notice::OptedOut, key, now);
        }
    }
    let title = lang.text("unsubscribed-title");
    let text = lang.format(
        "unsubscribed-text",
        &[("address", address.unwrap_or_else(|| "—".into()).into())],
    );
    html(StatusCode::OK, page::simple(&title, &text, "", lang))
}
