//! The iCalendar feed routes: `/calendar.ics` and one feed per topic or
//! mechanism.

use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use crate::model::catalog::Filter;

use super::query::{self, Allowed};
use super::response::{query_error, text};
use super::snapshot::Resource;
use super::{serve_resource, App};

pub(super) async fn calendar(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let snap = app.snapshot();
    match query::parse(uri.query(), Allowed::Feed, snap.catalog.registry()) {
        Ok(q) => {
            let res = Resource::Feed {
                filter: q.filter,
                lang: q.lang.unwrap_or_default(),
                alarm: q.alarm.unwrap_or(snap.config.calendar.alarm),
            };
            serve_resource(&app, &snap, res, &headers)
        }
        Err(e) => query_error(e),
    }
}

/// `/topics/{slug}.ics` and `/mechanisms/{slug}.ics`.
pub(super) fn slug_feed(
    app: &App,
    file: &str,
    uri: &Uri,
    headers: &HeaderMap,
    topic: bool,
) -> Response {
    let snap = app.snapshot();
    let reg = snap.catalog.registry();
    let (what, known): (&str, Vec<&str>) = if topic {
        ("topic", reg.topic_slugs().collect())
    } else {
        ("mechanism", reg.mechanism_slugs().collect())
    };
    let Some(slug) = file.strip_suffix(".ics") else {
        return text(
            StatusCode::NOT_FOUND,
            &format!("feeds end in `.ics`: /{what}s/{}.ics", query::shown(file)),
        );
    };
    if !known.contains(&slug) {
        return query_error(query::unknown(what, slug, &known));
    }
    let q = match query::parse(uri.query(), Allowed::Fixed, reg) {
        Ok(q) => q,
        Err(e) => return query_error(e),
    };
    let filter = if topic {
        Filter {
            topics: vec![slug.to_string()],
            mechanisms: vec![],
        }
    } else {
        Filter {
            topics: vec![],
            mechanisms: vec![slug.to_string()],
        }
    };
    let res = Resource::Feed {
        filter,
        lang: q.lang.unwrap_or_default(),
        alarm: q.alarm.unwrap_or(snap.config.calendar.alarm),
    };
    serve_resource(app, &snap, res, headers)
}

pub(super) async fn topic_feed(
    State(app): State<Arc<App>>,
    UrlPath(file): UrlPath<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    slug_feed(&app, &file, &uri, &headers, true)
}

pub(super) async fn mechanism_feed(
    State(app): State<Arc<App>>,
    UrlPath(file): UrlPath<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    slug_feed(&app, &file, &uri, &headers, false)
}
