//! The unsubscribe endpoints: a page with a button for people (GET), and
//! RFC 8058 one-click (POST). Neither says whether a token matched anyone
//! beyond "done" or "invalid link".

use std::sync::{Arc, RwLock};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use crate::i18n::Lang;
use crate::render::page;

use super::pages::not_found;
use super::response::{header_lang, html, text};
use super::App;

/// What the unsubscribe endpoints need: the token key and the database
/// the opt-outs go to.
pub struct Unsubscribe {
    pub secret: crate::reminders::tokens::Secret,
    pub state: std::sync::Mutex<crate::state::Database>,
    /// The current subscribers' tokens (see [`App::set_subscribers`]).
    pub directory: RwLock<crate::reminders::tokens::Directory>,
}

impl Unsubscribe {
    /// The endpoints' state for `subscribers`.
    pub fn new<'a>(
        secret: crate::reminders::tokens::Secret,
        state: crate::state::Database,
        subscribers: impl IntoIterator<Item = &'a str>,
    ) -> Unsubscribe {
        let directory = crate::reminders::tokens::Directory::new(&secret, subscribers);
        Unsubscribe {
            secret,
            state: std::sync::Mutex::new(state),
            directory: RwLock::new(directory),
        }
    }

    /// The address `token` was made for, if it verifies.
    fn verify(&self, token: &str) -> Option<String> {
        let directory = match self.directory.read() {
            Ok(d) => d,
            Err(poisoned) => poisoned.into_inner(),
        };
        self.secret.verify(token, &directory)
    }
}

pub(super) fn token_of(uri: &Uri) -> Option<String> {
    url::form_urlencoded::parse(uri.query()?.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

/// The same answer for every token that does not verify: it reveals
/// nothing about addresses.
pub(super) fn invalid_link(lang: Lang) -> Response {
    html(
        StatusCode::BAD_REQUEST,
        page::simple(
            &lang.text("unsubscribe-invalid-title"),
            &lang.text("unsubscribe-invalid-text"),
            "",
            lang,
        ),
    )
}

/// The language to answer in, the endpoints' state and the address the
/// request's token was made for — or the answer when there is none (404
/// with reminders off, the same "invalid link" for every bad token).
async fn verified<'a>(
    app: &'a App,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<(Lang, &'a Unsubscribe, String), Response> {
    let lang = header_lang(headers);
    let Some(u) = &app.unsubscribe else {
        return Err(not_found(uri.clone()).await);
    };
    match token_of(uri).and_then(|t| u.verify(&t)) {
        Some(email) => Ok((lang, u, email)),
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
    let (lang, _, email) = match verified(&app, &uri, &headers).await {
        Ok(v) => v,
        Err(answer) => return answer,
    };
    let action = format!(
        "{}?{}",
        app.snapshot().links().path("unsubscribe"),
        uri.query().unwrap_or("")
    );
    let address = crate::load::subscribers::mask(&email);
    let title = lang.text("unsubscribe-title");
    let text = lang.format("unsubscribe-question", &[("address", address.into())]);
    let button = lang.text("unsubscribe-button");
    let form = format!(
        "<form method=\"post\" action=\"{}\"><button type=\"submit\">{}</button></form>\n",
        page::esc(&action),
        page::esc(&button)
    );
    html(StatusCode::OK, page::simple(&title, &text, &form, lang))
}

/// `POST /unsubscribe?token=…`: the form's button and RFC 8058's one-click
/// POST (`List-Unsubscribe=One-Click`) alike record the opt-out.
pub(super) async fn unsubscribe_post(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let (lang, u, email) = match verified(&app, &uri, &headers).await {
        Ok(v) => v,
        Err(answer) => return answer,
    };
    let now = (app.clock)();
    let recorded = match u.state.lock() {
        Ok(mut s) => s.opt_out(&email, now),
        Err(poisoned) => poisoned.into_inner().opt_out(&email, now),
    };
    if let Err(e) = recorded {
        tracing::error!("cannot record an opt-out: {e}");
        return text(
            StatusCode::SERVICE_UNAVAILABLE,
            "please try again in a minute",
        );
    }
    tracing::info!(email = %crate::load::subscribers::mask(&email), "unsubscribed");
    let address = crate::load::subscribers::mask(&email);
    let title = lang.text("unsubscribed-title");
    let text = lang.format("unsubscribed-text", &[("address", address.into())]);
    html(StatusCode::OK, page::simple(&title, &text, "", lang))
}
