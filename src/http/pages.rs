//! The page, deadline pages, `deadlines.json` and the 404.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;

use crate::load::suggest;
use crate::model::catalog::Filter;

use super::query::{self, Allowed};
use super::response::{header_lang, query_error, text};
use super::snapshot::Resource;
use super::{serve_resource, App};

pub(super) async fn index(State(app): State<Arc<App>>, uri: Uri, headers: HeaderMap) -> Response {
    let snap = app.snapshot();
    match query::parse(uri.query(), Allowed::Listing, snap.catalog.registry()) {
        Ok(q) => {
            let lang = q.lang.unwrap_or_else(|| header_lang(&headers));
            let mut r = serve_resource(
                &app,
                &snap,
                Resource::Page {
                    filter: q.filter,
                    lang,
                },
                &headers,
            );
            if q.lang.is_none() {
                r.headers_mut()
                    .append(header::VARY, HeaderValue::from_static("Accept-Language"));
            }
            r
        }
        Err(e) => query_error(e),
    }
}

pub(super) async fn deadlines_json(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let snap = app.snapshot();
    match query::parse(uri.query(), Allowed::Listing, snap.catalog.registry()) {
        Ok(q) => {
            let res = Resource::Json {
                filter: q.filter,
                lang: q.lang.unwrap_or_default(),
            };
            serve_resource(&app, &snap, res, &headers)
        }
        Err(e) => query_error(e),
    }
}

/// `/deadlines/{id}.ics` (one event) and `/deadlines/{id}` (its page).
pub(super) async fn deadline(
    State(app): State<Arc<App>>,
    UrlPath(file): UrlPath<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let snap = app.snapshot();
    let (id, ics) = match file.strip_suffix(".ics") {
        Some(id) => (id, true),
        None => (file.as_str(), false),
    };
    if snap.catalog.get(id).is_none() {
        // Only ids that could exist get a suggestion: the search runs over
        // every deadline, and must stay cheap for whatever a client sends.
        let plausible =
            crate::load::tables::is_slug(id) && id.len() <= crate::load::deadlines::MAX_ID_CHARS;
        let near = plausible
            .then(|| {
                suggest::did_you_mean(id, snap.catalog.deadlines().iter().map(|d| d.id.as_str()))
            })
            .flatten()
            .map(|h| format!("{h}\n"))
            .unwrap_or_default();
        let links = snap.links();
        return text(
            StatusCode::NOT_FOUND,
            &format!(
                "unknown deadline `{}`\n{near}all deadline ids are listed in {}\n",
                query::shown(id),
                links.json(&Filter::default(), None)
            ),
        );
    }
    let allowed = if ics {
        Allowed::Fixed
    } else {
        Allowed::LangOnly
    };
    let q = match query::parse(uri.query(), allowed, snap.catalog.registry()) {
        Ok(q) => q,
        Err(e) => return query_error(e),
    };
    let res = if ics {
        Resource::One {
            id: id.to_string(),
            lang: q.lang.unwrap_or_default(),
            alarm: q.alarm.unwrap_or(snap.config.calendar.alarm),
        }
    } else {
        Resource::Detail {
            id: id.to_string(),
            lang: q.lang.unwrap_or_else(|| header_lang(&headers)),
        }
    };
    serve_resource(&app, &snap, res, &headers)
}

pub(super) async fn not_found(uri: Uri) -> Response {
    text(
        StatusCode::NOT_FOUND,
        &format!(
            "not found: {}\nfeeds: /calendar.ics, /topics/<topic>.ics, /mechanisms/<mechanism>.ics, /deadlines/<id>.ics; page: /; data: /deadlines.json\n",
            query::shown(uri.path())
        ),
    )
}
