//! The link of the sign-up mail, `/subscribe/confirm?token=…`: for a
//! pending sign-up, a page with a button (`GET` changes nothing: mail
//! scanners follow links) whose `POST` activates it, or hands it to staff;
//! for someone who already gets reminders, their preference page.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};

use crate::i18n::Lang;
use crate::reminders::message::signup as mail;
use crate::reminders::transport::Transport;
use crate::render::{page, signup};
use crate::subscriptions::links::{self, Purpose};

use super::reminders::Reminders;
use super::response::{header_lang, html, message_page, unavailable};
use super::signup::{open, random_hex, same_origin};
use super::unsubscribe::token_of;
use super::App;

/// The pending sign-up a `/subscribe/confirm` link names — its key and
/// link value — or the answer instead: the preference page for somebody
/// who already gets reminders (the sign-up mail carries one link at this
/// one path, whatever the address was; that page checks the link), and
/// "invalid" for anything else.
// The Err is the request's one answer, returned once: its size costs nothing.
#[allow(clippy::result_large_err)]
fn sign_up_of(app: &App, r: &Reminders, uri: &Uri, lang: Lang) -> Result<(String, u64), Response> {
    let Some(token) = token_of(uri) else {
        return Err(invalid_confirm(lang));
    };
    if let Some(link) = links::verify(&r.secret, Purpose::Confirm, &token) {
        return match link.n {
            0 => Err(invalid_confirm(lang)),
            value => Ok((link.id, value)),
        };
    }
    match links::verify(&r.secret, Purpose::Manage, &token) {
        Some(_) => Err(to_manage(app, &token)),
        None => Err(invalid_confirm(lang)),
    }
}

/// To the preference page, with the preference link's token.
fn to_manage(app: &App, token: &str) -> Response {
    let location = format!("{}?token={token}", app.snapshot().links().path("manage"));
    Response::builder()
        .status(StatusCode::SEE_OTHER)
        .header(header::LOCATION, location)
        .header(header::CACHE_CONTROL, "no-store")
        .header(header::REFERRER_POLICY, "no-referrer")
        .body(Body::empty())
        .expect("a valid redirect")
}

fn invalid_confirm(lang: Lang) -> Response {
    message_page(
        StatusCode::BAD_REQUEST,
        lang,
        "confirm-invalid-title",
        "confirm-invalid-text",
    )
}

/// `GET /subscribe/confirm?token=…`: a button (a GET changes nothing).
pub(super) async fn confirm_page(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let r = match open(&app, &uri).await {
        Ok(r) => r,
        Err(answer) => return answer,
    };
    let now = (app.clock)();
    let lang = header_lang(&headers);
    let (key, value) = match sign_up_of(&app, r, &uri, lang) {
        Ok(v) => v,
        Err(answer) => return answer,
    };
    // Only the sign-up this link was made for, while it waits.
    let stored = r.db(|db| db.subscription(&r.key, &key)).ok().flatten();
    let Some(stored) = stored.filter(|s| {
        s.status == crate::subscriptions::Status::Pending
            && s.link_value == value
            && s.expires_at.is_some_and(|t| t > now)
    }) else {
        return invalid_confirm(lang);
    };
    let lang = Lang::parse(&stored.sealed.choice.language).unwrap_or(lang);
    let action = format!(
        "{}?{}",
        app.snapshot().links().path("subscribe/confirm"),
        uri.query().unwrap_or("")
    );
    let address = crate::load::subscribers::mask(&stored.sealed.email);
    // The sign-up can be changed, or deleted, before it is confirmed.
    let manage = crate::reminders::pass::manage_url(
        &app.snapshot().config.calendar.base_url,
        &r.secret,
        &key,
        value,
    );
    html(
        StatusCode::OK,
        signup::button_page_with_link(
            &lang.text("confirm-title"),
            &lang.format("confirm-text", &[("address", address.into())]),
            &action,
            &lang.text("confirm-button"),
            Some((&manage, &lang.text("confirm-manage"))),
            lang,
        ),
    )
}

/// `POST /subscribe/confirm?token=…`: activates the sign-up (or hands it
/// to staff). Pressed twice, it says the same again.
pub(super) async fn confirm_post(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let r = match open(&app, &uri).await {
        Ok(r) => r,
        Err(answer) => return answer,
    };
    let config = app.snapshot().config.clone();
    let now = (app.clock)();
    let lang = header_lang(&headers);
    if !same_origin(&headers, &config.calendar.base_url) {
        return invalid_confirm(lang);
    }
    let (key, value) = match sign_up_of(&app, r, &uri, lang) {
        Ok(v) => v,
        Err(answer) => return answer,
    };
    let approval = config.subscriptions.approval == crate::load::config::Approval::Staff;
    let done = r.db(|db| {
        db.confirm(&key, value, approval, now)?;
        db.subscription(&r.key, &key)
    });
    // Pressed twice, it says the same again; a link of an earlier,
    // deleted sign-up of the address confirms nothing.
    let stored = match done {
        Ok(Some(s))
            if s.status != crate::subscriptions::Status::Pending && s.link_value == value =>
        {
            s
        }
        Ok(_) => return invalid_confirm(lang),
        Err(e) => return unavailable("cannot confirm a sign-up", &e),
    };
    let lang = Lang::parse(&stored.sealed.choice.language).unwrap_or(lang);
    let address = crate::load::subscribers::mask(&stored.sealed.email);
    let text = if stored.status == crate::subscriptions::Status::Approval {
        tell_staff(&app, r, now);
        lang.text("confirmed-approval-text").into_owned()
    } else {
        tracing::info!("sign-up confirmed");
        lang.format("confirmed-text", &[("address", address.into())])
    };
    html(
        StatusCode::OK,
        page::simple(&lang.text("confirmed-title"), &text, "", lang),
    )
}

/// Mails `[alerts] staff` that sign-ups wait (at most once an hour).
fn tell_staff(app: &Arc<App>, r: &Reminders, now: DateTime<Utc>) {
    let config = app.snapshot().config.clone();
    if config.alerts.is_empty() {
        tracing::warn!("a sign-up waits for approval, and `[alerts] staff` is empty");
        return;
    }
    let due = {
        let mut told = match r.staff_told.lock() {
            Ok(t) => t,
            Err(poisoned) => poisoned.into_inner(),
        };
        let due = told.is_none_or(|t| t + Duration::hours(1) <= now);
        if due {
            *told = Some(now);
        }
        due
    };
    if !due {
        return;
    }
    let waiting = r
        .db(|db| db.subscription_counts())
        .map(|c| {
            c.iter()
                .filter(|(s, _)| *s == crate::subscriptions::Status::Approval)
                .map(|(_, n)| *n as usize)
                .sum::<usize>()
        })
        .unwrap_or(1);
    let mailer = r.mailer(&config.mail);
    tokio::spawn(async move {
        let result = async {
            let from = config
                .mail
                .from
                .parse()
                .map_err(|e: lettre::address::AddressError| e.to_string())?;
            let nonce = random_hex();
            let m = mail::approval_note(
                &from,
                &config.alerts,
                &config.calendar.domain,
                waiting,
                &nonce,
                now,
            )
            .map_err(|e| e.to_string())?;
            let mailer = mailer.map_err(|e| e.to_string())?;
            mailer
                .send(
                    &format!("<approval.{nonce}@{}>", config.calendar.domain),
                    &m,
                )
                .await
                .map_err(|e| e.to_string())
        }
        .await;
        match result {
            Ok(()) => tracing::info!(waiting, "staff told that sign-ups wait"),
            Err(e) => tracing::warn!("cannot tell staff that sign-ups wait: {e}"),
        }
    });
}
