//! Sign-up: the form (`GET /subscribe`, and on the list page), its post
//! (`POST /subscribe`), and the privacy statement (`GET /privacy`); the
//! link the sign-up mail carries is `confirm`'s.
//!
//! Whatever the address — new, pending, active, opted out, in the
//! subscribers file — a valid post gets the same "check your mailbox"
//! page, and the mail (if the per-address limit allows one) is sent after
//! the answer, so neither the page nor its timing tells who is
//! subscribed. The address's owner learns it from the mail: a
//! confirmation link for a new or pending sign-up, a link to the
//! preference page otherwise.

use std::net::IpAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::Response;
use chrono::{DateTime, Duration, Utc};

use crate::i18n::Lang;
use crate::reminders::transport::Transport;
use crate::render::{page, signup};
use crate::subscriptions::form::{self, FieldError, Fields};
use crate::subscriptions::links::{self, Purpose};
use crate::subscriptions::{limits, Sealed};

use super::pages::not_found;
use super::reminders::Reminders;
use super::response::{header_lang, html, message_page};
use super::server::Peer;
use super::App;

/// The largest form body accepted.
pub const MAX_BODY: usize = 16 * 1024;

/// The reminder endpoints' state, if sign-up is open; else the 404.
pub(super) async fn open<'a>(app: &'a App, uri: &Uri) -> Result<&'a Reminders, Response> {
    match &app.reminders {
        Some(r) if app.snapshot().config.subscriptions.open => Ok(r),
        _ => Err(not_found(uri.clone()).await),
    }
}

/// The language of a page: `?lang=`, else `Accept-Language`.
fn page_lang(uri: &Uri, headers: &HeaderMap) -> Lang {
    uri.query()
        .and_then(|q| {
            url::form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "lang")
                .and_then(|(_, v)| Lang::parse(&v))
        })
        .unwrap_or_else(|| header_lang(headers))
}

/// Whether a post comes from this site's own pages: its `Origin` (or,
/// without one, its `Referer`) is `base_url`'s origin. Browsers send
/// `Origin` with every form post; a client that sends neither is no
/// browser, and needs a form token all the same.
pub(super) fn same_origin(headers: &HeaderMap, base_url: &str) -> bool {
    let origin = |u: &str| {
        url::Url::parse(u)
            .ok()
            .map(|u| u.origin().ascii_serialization())
    };
    let Some(ours) = origin(base_url) else {
        return false;
    };
    let header = |h| headers.get(h).and_then(|v| v.to_str().ok());
    match (header(header::ORIGIN), header(header::REFERER)) {
        (Some(o), _) => o == ours,
        (None, Some(r)) => origin(r).is_some_and(|o| o == ours),
        (None, None) => true,
    }
}

/// The body of a form post, at most [`MAX_BODY`] bytes.
pub(super) async fn read_form(body: Body, lang: Lang) -> Result<axum::body::Bytes, Response> {
    axum::body::to_bytes(body, MAX_BODY).await.map_err(|_| {
        message_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            lang,
            "signup-error-title",
            "signup-error-too-long",
        )
    })
}

/// The form page, shown again with `fields` and `errors` when given.
fn form_page(
    app: &App,
    r: &Reminders,
    status: StatusCode,
    lang: Lang,
    fields: Option<&Fields>,
    errors: &[FieldError],
) -> Response {
    let snap = app.snapshot();
    let token = links::form_token(&r.secret, (app.clock)());
    let body = signup::signup_page(
        &snap.catalog,
        &snap.config.calendar.name,
        lang,
        &snap.links(),
        &signup::Form {
            token: &token,
            fields,
            errors,
        },
    );
    html(status, body)
}

/// `GET /subscribe`: the form.
pub(super) async fn signup_form(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let r = match open(&app, &uri).await {
        Ok(r) => r,
        Err(answer) => return answer,
    };
    form_page(
        &app,
        r,
        StatusCode::OK,
        page_lang(&uri, &headers),
        None,
        &[],
    )
}

/// `POST /subscribe`.
// Over 100 lines: the checks in the order the book gives them (docs/src/operators/sign-up.md) (origin, body, token, fields, limits), then the one answer.
pub(super) async fn signup_post(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
    peer: Option<axum::Extension<Peer>>,
    body: Body,
) -> Response {
    let r = match open(&app, &uri).await {
        Ok(r) => r,
        Err(answer) => return answer,
    };
    let snap = app.snapshot();
    let config = snap.config.clone();
    let now = (app.clock)();
    let mut lang = page_lang(&uri, &headers);
    if !same_origin(&headers, &config.calendar.base_url) {
        let e = [FieldError {
            field: "form",
            message: "signup-error-form",
        }];
        return form_page(&app, r, StatusCode::FORBIDDEN, lang, None, &e);
    }
    let body = match read_form(body, lang).await {
        Ok(b) => b,
        Err(answer) => return answer,
    };
    let fields = match form::fields(&body) {
        Ok(f) => f,
        Err(e) => return form_page(&app, r, StatusCode::BAD_REQUEST, lang, None, &[e]),
    };
    if let Some(l) = Lang::parse(&fields.lang) {
        lang = l;
    }
    if !links::form_token_ok(&r.secret, &fields.token, now) {
        let e = [FieldError {
            field: "form",
            message: "signup-error-form",
        }];
        return form_page(&app, r, StatusCode::BAD_REQUEST, lang, Some(&fields), &e);
    }
    let email = form::address(&fields.email);
    let choice = form::choice(snap.catalog.registry(), &fields, lang, None);
    let (email, choice) = match (email, choice) {
        (Ok(e), Ok(c)) => (e, c),
        (email, choice) => {
            let mut errors: Vec<FieldError> = email.err().into_iter().collect();
            errors.extend(choice.err().unwrap_or_default());
            return form_page(
                &app,
                r,
                StatusCode::BAD_REQUEST,
                lang,
                Some(&fields),
                &errors,
            );
        }
    };
    // The per-client limit, counted only for posts that would be stored.
    let client = peer.map_or(IpAddr::from([0, 0, 0, 0]), |p| p.0 .0);
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let client = limits::client(client, &forwarded, &config.subscriptions.trusted_proxies);
    let allowed = match r.limits.lock() {
        Ok(mut l) => l.allow(client, config.subscriptions.per_client_per_hour, now),
        Err(poisoned) => {
            poisoned
                .into_inner()
                .allow(client, config.subscriptions.per_client_per_hour, now)
        }
    };
    if !allowed {
        return message_page(
            StatusCode::TOO_MANY_REQUESTS,
            lang,
            "signup-error-title",
            "signup-error-busy",
        );
    }
    // Every valid post does the same work before the answer: the key,
    // the sealed row (a confirmed or file subscriber's is thrown away),
    // and a job handed over. What the address is — new, pending,
    // confirmed, in the file — is looked up only after the answer.
    let key = r.key.id(&email);
    let hours = config.subscriptions.confirm_hours;
    let mail_lang = Lang::parse(&choice.language).unwrap_or(lang);
    let json = Sealed {
        email: email.clone(),
        choice,
    }
    .padded_json();
    let job = Job {
        sealed: r.key.seal(&key, &json),
        key,
        email,
        lang: mail_lang,
        expires: now + Duration::hours(i64::from(hours)),
        now,
    };
    let app2 = app.clone();
    tokio::spawn(async move { after_answer(app2, job).await });
    html(
        StatusCode::OK,
        page::simple(
            &lang.text("signup-sent-title"),
            &lang.format("signup-sent-text", &[("hours", hours.into())]),
            "",
            lang,
        ),
    )
}

/// What a valid sign-up post leaves to do once it has been answered.
struct Job {
    key: String,
    email: String,
    /// The address and choice, sealed for `key`.
    sealed: Vec<u8>,
    lang: Lang,
    expires: DateTime<Utc>,
    now: DateTime<Utc>,
}

/// Stores the sign-up (durably: the transaction commits before any mail
/// leaves), then mails the address's owner. Runs after the answer; a
/// failure is logged without naming the address, and the person can
/// simply submit the form again.
async fn after_answer(app: Arc<App>, job: Job) {
    let worker = app.clone();
    let recorded = tokio::task::spawn_blocking(move || record(&worker, job)).await;
    let (job, mail) = match recorded {
        Ok(Ok(Some(done))) => done,
        Ok(Ok(None)) => return,
        Ok(Err(e)) => {
            tracing::error!("cannot store a sign-up: {e}");
            return;
        }
        Err(e) => {
            tracing::error!("a sign-up's task failed: {e}");
            return;
        }
    };
    let Some(r) = &app.reminders else { return };
    let config = app.snapshot().config.clone();
    match send(r, &config, &job, &mail).await {
        Ok(()) => {
            if let Err(e) = r.db(|db| db.mailed(&job.key, job.now)) {
                tracing::error!("cannot record a sign-up mail: {e}");
            }
            tracing::info!("sign-up mail sent");
        }
        Err(e) => tracing::warn!("sign-up mail not sent: {e}"),
    }
    match r.sending.lock() {
        Ok(mut s) => s.remove(&job.key),
        Err(poisoned) => poisoned.into_inner().remove(&job.key),
    };
}

/// What a sign-up mails: its one link, and the key it is encrypted to.
struct Mail {
    link: String,
    openpgp: Option<Arc<crate::openpgp::Cert>>,
}

/// The database side of a sign-up: stores it (unless the address is in
/// the subscribers file or confirmed already) and decides the mail, if
/// the per-address limit allows one and none is on its way (then the key
/// is marked as being mailed). New, pending or known, the mail carries
/// one link at one path: a confirmation, or — for someone who already
/// gets reminders — their preference link, which that path forwards.
fn record(app: &App, job: Job) -> Result<Option<(Job, Mail)>, crate::state::StateError> {
    let Some(r) = &app.reminders else {
        return Ok(None);
    };
    let base = app.snapshot().config.calendar.base_url.clone();
    let (key, now) = (job.key.as_str(), job.now);
    let outcome = if r.in_file(key) {
        None
    } else {
        // Lapsed sign-ups go as new ones come (and at every pass).
        Some(r.db(|db| {
            db.expire_sign_ups(now)?;
            db.sign_up(key, &job.sealed, job.expires, links::fresh_value(), now)
        })?)
    };
    let Some(person) = r.person_with_links(key, now)? else {
        return Ok(None);
    };
    let purpose = match outcome {
        Some(crate::state::SignUp::New | crate::state::SignUp::Pending) => Purpose::Confirm,
        _ => Purpose::Manage,
    };
    let token = links::make(&r.secret, purpose, key, person.link_value());
    // Whoever has a key gets this mail encrypted, or not at all.
    let openpgp = match person.openpgp(now) {
        Ok(cert) => cert,
        Err(e) => {
            tracing::warn!("sign-up mail not sent: the stored OpenPGP key cannot be read ({e})");
            return Ok(None);
        }
    };
    if !r.db(|db| db.may_mail(key, now))? {
        return Ok(None);
    }
    let fresh = match r.sending.lock() {
        Ok(mut s) => s.insert(job.key.clone()),
        Err(poisoned) => poisoned.into_inner().insert(job.key.clone()),
    };
    let mail = Mail {
        link: format!("{base}subscribe/confirm?token={token}"),
        openpgp,
    };
    Ok(fresh.then_some((job, mail)))
}

async fn send(
    r: &Reminders,
    config: &crate::load::config::Config,
    job: &Job,
    mail: &Mail,
) -> Result<(), String> {
    let from = config
        .mail
        .from
        .parse()
        .map_err(|e: lettre::address::AddressError| e.to_string())?;
    let nonce = random_hex();
    let message = crate::reminders::message::signup::build(
        &from,
        &job.email,
        job.lang,
        &mail.link,
        config.subscriptions.confirm_hours,
        &config.calendar.domain,
        &nonce,
        mail.openpgp.as_deref(),
        job.now,
    )
    .map_err(|e| e.to_string())?;
    let mailer = r.mailer(&config.mail).map_err(|e| e.to_string())?;
    let id = format!("<signup.{nonce}@{}>", config.calendar.domain);
    mailer.send(&id, &message).await.map_err(|e| e.to_string())
}

/// 128 random bits, in hex.
pub(super) fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the system's random source works");
    crate::reminders::tokens::hex(&bytes)
}

/// `GET /privacy`: the privacy statement (whenever reminders are on).
pub(super) async fn privacy(State(app): State<Arc<App>>, uri: Uri, headers: HeaderMap) -> Response {
    if app.reminders.is_none() {
        return not_found(uri).await;
    }
    let snap = app.snapshot();
    let lang = page_lang(&uri, &headers);
    html(
        StatusCode::OK,
        signup::privacy(
            &snap.config.calendar.name,
            lang,
            &snap.links(),
            snap.config.subscriptions.confirm_hours,
        ),
    )
}

#[cfg(test)]
#[path = "signup_tests.rs"]
mod tests;
