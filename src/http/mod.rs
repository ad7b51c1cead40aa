//! The HTTP side: feeds, pages and JSON over axum, and the static export.
//!
//! Everything served is a [`Resource`], rendered by [`render`] from a
//! [`Snapshot`] (catalog + versions + config) — the same function the static
//! export uses, so both give the same bytes. Renderings are cached per
//! catalog version, resource and time bucket (the retention day for feeds,
//! the minute for pages), each made once even under concurrent requests, in
//! a cache that is emptied when the snapshot is swapped.
//!
//! The cache is bounded in bytes (`[server] cache_mib`), not entries: query
//! options multiply renderings (every `alarm`, `lang` and filter), so a
//! client asking for thousands of distinct URLs must not grow memory. Query
//! options are parsed into canonical values first (`PT60M` = `PT1H`, sorted
//! filters), so equal requests share a key. Eviction is random with a
//! second chance for renderings served since they were last drawn. The
//! per-thread copies hold only weak references, so they add no bodies to
//! the budget; a rendering evicted (or larger than the whole budget) is
//! made again when asked for, costing CPU, not memory.
//!
//! No input yields a 500: unknown names are 404s listing the valid ones,
//! malformed queries are 400s saying what is wrong.
//!
//! (Over 600 lines: the handlers, health and unsubscribe endpoints move
//! into files of their own with the layout issue, #10; the cache already
//! lives in `cache`.)

mod cache;
pub mod query;
pub mod response;
pub mod server;

pub use server::{bind_reuseport, serve, serve_threads, Heartbeats, Limits, Peer};

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock, Weak};

use axum::body::Body;
use axum::extract::{Path as UrlPath, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::load::config::Config;
use crate::load::suggest;
use crate::model::catalog::{Catalog, Filter};
use crate::render::feed::{self, Alarm, FeedOptions, Versions};
use crate::render::i18n::Lang;
use crate::state::StateError;

use self::cache::{size_estimate, Cache, Key};
use self::query::{Allowed, QueryError};
use self::response::Rendered;
use crate::render::links::Links;
use crate::render::{json, page};

/// How many weak references each thread's copy keeps at most.
pub const LOCAL_CAPACITY: usize = 512;

/// What the server serves from: swapped as a whole on reload.
pub struct Snapshot {
    pub catalog: Arc<Catalog>,
    pub versions: Versions,
    pub config: Arc<Config>,
}

impl Snapshot {
    /// Records `catalog` in the state database (so its entries' versions
    /// move forward) and makes the snapshot to serve it from.
    pub fn record(
        config: Arc<Config>,
        catalog: Catalog,
        now: DateTime<Utc>,
    ) -> Result<Snapshot, StateError> {
        let versions = crate::state::State::open(&config.state.path)?.sync(
            &catalog,
            &config.render_fingerprint(),
            now,
        )?;
        Ok(Snapshot {
            catalog: Arc::new(catalog),
            versions,
            config,
        })
    }

    fn links(&self) -> Links {
        Links::new(&self.config.calendar.base_url)
    }

    /// Entries due before this are out of the feeds: `keep_past_days` before
    /// the start of `now`'s UTC day, so the window moves once a day.
    pub fn cutoff(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        let day = now.duration_trunc(Duration::days(1)).unwrap_or(now);
        day - Duration::days(i64::from(self.config.calendar.keep_past_days))
    }

    fn feed_options(
        &self,
        filter: &Filter,
        lang: Lang,
        alarm: Option<Alarm>,
        now: DateTime<Utc>,
    ) -> FeedOptions {
        FeedOptions {
            name: self.feed_name(filter, lang),
            domain: self.config.calendar.domain.clone(),
            lang,
            alarm,
            refresh: self.config.calendar.refresh,
            cutoff: self.cutoff(now),
        }
    }

    /// `Deadlines — CERD, Women`: the calendar's name and what it is filtered by.
    fn feed_name(&self, filter: &Filter, lang: Lang) -> String {
        let reg = self.catalog.registry();
        let mut parts: Vec<&str> = filter
            .mechanisms
            .iter()
            .filter_map(|m| reg.mechanism(m).map(|m| m.name.as_str()))
            .collect();
        parts.extend(
            filter
                .topics
                .iter()
                .filter_map(|t| reg.topic(t).map(|t| t.name(lang.code()))),
        );
        if parts.is_empty() {
            self.config.calendar.name.clone()
        } else {
            format!("{} — {}", self.config.calendar.name, parts.join(" · "))
        }
    }

    /// A feed's `Last-Modified`: the latest of its entries' changes, any
    /// removal, and any entry leaving it through the retention window, so
    /// that it only ever moves forward.
    fn feed_last_modified(&self, filter: &Filter, cutoff: DateTime<Utc>) -> DateTime<Utc> {
        let keep = Duration::days(i64::from(self.config.calendar.keep_past_days));
        let mut latest = self.versions.last_removal.unwrap_or(DateTime::UNIX_EPOCH);
        if let Some(t) = self.versions.settings_changed_at {
            latest = latest.max(t);
        }
        for d in self.catalog.select(filter) {
            if d.due_at >= cutoff {
                latest = latest.max(self.versions.get(&d.id).changed_at);
            } else {
                // It left the window at the first day start after due + keep.
                let left = (d.due_at + keep)
                    .duration_trunc(Duration::days(1))
                    .unwrap_or(d.due_at)
                    + Duration::days(1);
                latest = latest.max(left.min(cutoff + keep));
            }
        }
        latest
    }
}

/// Something the server serves.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Resource {
    Feed {
        filter: Filter,
        lang: Lang,
        alarm: Option<Alarm>,
    },
    One {
        id: String,
        lang: Lang,
        alarm: Option<Alarm>,
    },
    Json {
        filter: Filter,
        lang: Lang,
    },
    Page {
        filter: Filter,
        lang: Lang,
    },
    Detail {
        id: String,
        lang: Lang,
    },
}

const CALENDAR: &str = "text/calendar; charset=utf-8";
const FEED_CACHE: &str = "public, max-age=300";

/// Renders a resource. `None` only for an id that is not in the catalog.
pub fn render(snap: &Snapshot, res: &Resource, now: DateTime<Utc>) -> Option<Rendered> {
    let catalog = &snap.catalog;
    let links = snap.links();
    Some(match res {
        Resource::Feed {
            filter,
            lang,
            alarm,
        } => {
            let opts = snap.feed_options(filter, *lang, *alarm, now);
            let body = feed::render(catalog, filter, &opts, &snap.versions);
            let lm = snap.feed_last_modified(filter, opts.cutoff);
            Rendered::new(CALENDAR, body.into_bytes(), lm, FEED_CACHE)
        }
        Resource::One { id, lang, alarm } => {
            let d = catalog.get(id)?;
            let opts = snap.feed_options(&Filter::default(), *lang, *alarm, now);
            let body = feed::render_one(catalog, d, &opts, &snap.versions);
            let mut lm = snap.versions.get(id).changed_at;
            if let Some(t) = snap.versions.settings_changed_at {
                lm = lm.max(t);
            }
            Rendered::new(CALENDAR, body.into_bytes(), lm, FEED_CACHE)
        }
        Resource::Json { filter, lang } => {
            let opts = snap.feed_options(filter, *lang, None, now);
            let body = json::render(catalog, filter, &opts, &snap.versions, &links);
            let lm = snap.feed_last_modified(filter, opts.cutoff);
            Rendered::new("application/json", body.into_bytes(), lm, FEED_CACHE)
        }
        Resource::Page { filter, lang } => {
            let input = page::PageInput {
                name: &snap.config.calendar.name,
                filter,
                lang: *lang,
                now,
                links: &links,
            };
            let body = page::list(catalog, &input);
            Rendered::new(
                "text/html; charset=utf-8",
                body.into_bytes(),
                now,
                "no-cache",
            )
        }
        Resource::Detail { id, lang } => {
            let d = catalog.get(id)?;
            let body = page::detail(catalog, d, &snap.config.calendar.name, *lang, now, &links);
            Rendered::new(
                "text/html; charset=utf-8",
                body.into_bytes(),
                now,
                "no-cache",
            )
        }
    })
}

pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// What the unsubscribe endpoints need: the token key and the database
/// the opt-outs go to.
pub struct Unsubscribe {
    pub secret: crate::reminders::tokens::Secret,
    pub state: std::sync::Mutex<crate::state::State>,
    /// The current subscribers' tokens (see [`App::set_subscribers`]).
    pub directory: RwLock<crate::reminders::tokens::Directory>,
}

impl Unsubscribe {
    /// The endpoints' state for `subscribers`.
    pub fn new<'a>(
        secret: crate::reminders::tokens::Secret,
        state: crate::state::State,
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

/// The server's shared state.
pub struct App {
    snapshot: RwLock<Arc<Snapshot>>,
    cache: RwLock<Cache>,
    clock: Clock,
    unsubscribe: Option<Unsubscribe>,
    /// Counts swaps; the per-thread copies below are valid while it is unchanged.
    generation: std::sync::atomic::AtomicU64,
    /// Tells this `App` apart from others in the process (an address could
    /// be reused by a later one; this number is not).
    id: u64,
    health: RwLock<Health>,
    pub metrics: Arc<crate::metrics::Metrics>,
    started: DateTime<Utc>,
}

/// What `/healthz` reports.
#[derive(Clone, Debug, Default)]
pub struct Health {
    /// Set while the deadline data on disk is invalid and the last good
    /// catalog is being served.
    pub data: Option<Degraded>,
    /// Set while the config file (or the subscribers file it names) read at
    /// the last reload was invalid and the previous config goes on running.
    pub config: Option<Degraded>,
    /// Set while fetching or fast-forwarding `[data.git]` fails.
    pub git: Option<Degraded>,
    /// Set while reminders cannot run under the config in service (an
    /// unreadable password after a reload, say).
    pub reminders: Option<Degraded>,
    pub last_reload: Option<DateTime<Utc>>,
    pub reloads_ok: u64,
    pub reloads_failed: u64,
}

impl Health {
    /// Each current problem with its source (`data`, `config`, `git`,
    /// `reminders`).
    pub fn problems(&self) -> impl Iterator<Item = (&'static str, &Degraded)> {
        [
            ("data", &self.data),
            ("config", &self.config),
            ("git", &self.git),
            ("reminders", &self.reminders),
        ]
        .into_iter()
        .filter_map(|(what, d)| d.as_ref().map(|d| (what, d)))
    }

    pub fn is_degraded(&self) -> bool {
        self.problems().next().is_some()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Degraded {
    pub since: DateTime<Utc>,
    /// Each diagnostic as `check` prints it.
    pub diagnostics: Vec<String>,
}

impl Degraded {
    /// `diagnostics` from `now` on, or since the earlier report when it
    /// said the same.
    pub fn update(slot: &mut Option<Degraded>, diagnostics: Vec<String>, now: DateTime<Utc>) {
        let since = match slot {
            Some(d) if d.diagnostics == diagnostics => d.since,
            _ => now,
        };
        *slot = Some(Degraded { since, diagnostics });
    }
}

/// Each server thread keeps its own copy of the current snapshot and of the
/// renderings it served, so that the common request (a feed already
/// rendered) takes no shared lock: only an atomic load of the generation.
struct Local {
    /// Which `App` (tests run several in one process) and which generation.
    app: u64,
    generation: u64,
    snapshot: Arc<Snapshot>,
    /// Weak: a rendering the shared cache evicted is freed, not kept here.
    rendered: HashMap<Key, Weak<Rendered>>,
}

static NEXT_APP_ID: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

thread_local! {
    static LOCAL: std::cell::RefCell<Option<Local>> = const { std::cell::RefCell::new(None) };
}

impl App {
    pub fn new(snapshot: Snapshot, clock: Clock) -> Arc<App> {
        Self::with_unsubscribe(snapshot, clock, None)
    }

    /// A server that also takes unsubscribe requests (when reminders are on).
    pub fn with_unsubscribe(
        snapshot: Snapshot,
        clock: Clock,
        unsubscribe: Option<Unsubscribe>,
    ) -> Arc<App> {
        Arc::new(App {
            snapshot: RwLock::new(Arc::new(snapshot)),
            cache: RwLock::new(Cache::default()),
            unsubscribe,
            generation: std::sync::atomic::AtomicU64::new(0),
            id: NEXT_APP_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            // The first load counts as the last one until a reload.
            health: RwLock::new(Health {
                last_reload: Some(clock()),
                ..Health::default()
            }),
            metrics: Arc::default(),
            started: clock(),
            clock,
        })
    }

    /// Tells the unsubscribe endpoints who the subscribers are now (after a
    /// reload): opaque tokens are looked up among them.
    pub fn set_subscribers<'a>(&self, emails: impl IntoIterator<Item = &'a str>) {
        if let Some(u) = &self.unsubscribe {
            let directory = crate::reminders::tokens::Directory::new(&u.secret, emails);
            match u.directory.write() {
                Ok(mut d) => *d = directory,
                Err(poisoned) => *poisoned.into_inner() = directory,
            }
        }
    }

    pub fn health(&self) -> Health {
        match self.health.read() {
            Ok(h) => h.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    pub fn update_health(&self, f: impl FnOnce(&mut Health)) {
        match self.health.write() {
            Ok(mut h) => f(&mut h),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// The current snapshot; cheap (an `Arc` clone, usually from this
    /// thread's copy).
    pub fn snapshot(&self) -> Arc<Snapshot> {
        self.with_local(|l| l.snapshot.clone())
    }

    fn shared_snapshot(&self) -> Arc<Snapshot> {
        match self.snapshot.read() {
            Ok(s) => s.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Runs `f` on this thread's copy, refreshed if the snapshot was swapped.
    fn with_local<R>(&self, f: impl FnOnce(&mut Local) -> R) -> R {
        use std::sync::atomic::Ordering;
        let id = self.id;
        let generation = self.generation.load(Ordering::Acquire);
        LOCAL.with(|cell| {
            let mut slot = cell.borrow_mut();
            let fresh = matches!(&*slot, Some(l) if l.app == id && l.generation == generation);
            if !fresh {
                *slot = Some(Local {
                    app: id,
                    generation,
                    snapshot: self.shared_snapshot(),
                    rendered: HashMap::new(),
                });
            }
            f(slot.as_mut().expect("set above"))
        })
    }

    /// Replaces the snapshot atomically and drops every cached rendering.
    pub fn swap(&self, snapshot: Snapshot) {
        let new = Arc::new(snapshot);
        match self.snapshot.write() {
            Ok(mut s) => *s = new,
            Err(poisoned) => *poisoned.into_inner() = new,
        }
        match self.cache.write() {
            Ok(mut c) => *c = Cache::default(),
            Err(poisoned) => *poisoned.into_inner() = Cache::default(),
        }
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// How many renderings are cached (for tests and metrics).
    pub fn cached(&self) -> usize {
        self.cache.read().map(|c| c.len()).unwrap_or(0)
    }

    /// How many bytes the cached renderings hold, as counted against
    /// `[server] cache_mib`.
    pub fn cached_bytes(&self) -> usize {
        self.cache.read().map(|c| c.bytes()).unwrap_or(0)
    }

    /// The rendering of `res`, made at most once per cache key.
    fn rendered(
        &self,
        snap: &Snapshot,
        res: Resource,
        now: DateTime<Utc>,
    ) -> Option<Arc<Rendered>> {
        let bucket = match res {
            Resource::Page { .. } | Resource::Detail { .. } => now.timestamp() / 60,
            _ => snap.cutoff(now).timestamp(),
        };
        let key = Key {
            version: snap.catalog.version(),
            bucket,
            resource: res.clone(),
        };
        // Most requests find it in this thread's copy, with no lock at all.
        if let Some(r) = self.with_local(|l| l.rendered.get(&key).and_then(Weak::upgrade)) {
            r.touch();
            return Some(r);
        }
        let rendered = self.rendered_shared(snap, key.clone(), &res, now);
        if let Some(r) = &rendered {
            self.with_local(|l| {
                if l.rendered.len() >= LOCAL_CAPACITY {
                    l.rendered.retain(|_, w| w.strong_count() > 0);
                    if l.rendered.len() >= LOCAL_CAPACITY {
                        l.rendered.clear();
                    }
                }
                l.rendered.insert(key, Arc::downgrade(r));
            });
        }
        rendered
    }

    /// The shared cache: each key rendered once, whichever thread asks first.
    fn rendered_shared(
        &self,
        snap: &Snapshot,
        key: Key,
        res: &Resource,
        now: DateTime<Utc>,
    ) -> Option<Arc<Rendered>> {
        let found = match self.cache.read() {
            Ok(c) => c.get(&key),
            Err(poisoned) => poisoned.into_inner().get(&key),
        };
        let slot = match found {
            Some(slot) => slot,
            None => match self.cache.write() {
                Ok(mut c) => c.slot(key.clone()),
                Err(poisoned) => poisoned.into_inner().slot(key.clone()),
            },
        };
        let mut made = false;
        let budget = snap.config.server.cache_bytes;
        let rendered = slot
            .get_or_init(|| {
                made = true;
                let estimate = size_estimate(snap, res, now);
                match self.cache.write() {
                    Ok(mut c) => c.reserve(&key, &slot, estimate, budget),
                    Err(poisoned) => poisoned.into_inner().reserve(&key, &slot, estimate, budget),
                }
                render(snap, res, now).map(Arc::new)
            })
            .clone();
        if made {
            match self.cache.write() {
                Ok(mut c) => c.made(key, &slot, budget),
                Err(poisoned) => poisoned.into_inner().made(key, &slot, budget),
            }
        } else if let Some(r) = &rendered {
            r.touch();
        }
        rendered
    }
}

/// The router, for tests (`oneshot`) and [`serve`].
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(index))
        .route("/calendar.ics", get(calendar))
        .route("/topics/{file}", get(topic_feed))
        .route("/mechanisms/{file}", get(mechanism_feed))
        .route("/deadlines/{file}", get(deadline))
        .route("/deadlines.json", get(deadlines_json))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/unsubscribe", get(unsubscribe_page).post(unsubscribe_post))
        .fallback(not_found)
        .with_state(app)
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let snap = app.snapshot();
    let health = app.health();
    let version = snap.catalog.version().to_string();
    let body = app.metrics.render(&crate::metrics::Gauges {
        deadlines: snap.catalog.deadlines().len(),
        catalog_version: &version,
        reloads_ok: health.reloads_ok,
        reloads_failed: health.reloads_failed,
        last_reload: health.last_reload,
        degraded: health.is_degraded(),
        started: app.started,
        cache_entries: app.cached(),
        cache_bytes: app.cached_bytes(),
        cache_budget: snap.config.server.cache_bytes,
    });
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// A plain-text answer (errors). What it quotes of the request (a path, a
/// decoded query value) has control characters escaped and is cut, and
/// `nosniff` keeps browsers from reading it as anything but text.
fn text(status: StatusCode, message: &str) -> Response {
    let mut body = String::with_capacity(message.len() + 1);
    for line in message.split_inclusive('\n') {
        let (content, newline) = match line.strip_suffix('\n') {
            Some(c) => (c, "\n"),
            None => (line, ""),
        };
        body.push_str(&crate::load::diagnostic::escape(content, 1_000));
        body.push_str(newline);
    }
    if !body.ends_with('\n') {
        body.push('\n');
    }
    (
        status,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        body,
    )
        .into_response()
}

fn query_error(e: QueryError) -> Response {
    match e {
        QueryError::Malformed(m) => text(StatusCode::BAD_REQUEST, &m),
        QueryError::Unknown(m) => text(StatusCode::NOT_FOUND, &m),
    }
}

/// A 200 with the right encoding, or a 304 when the client's copy is current.
/// Formats nothing: every header value was made at render time.
fn respond(r: &Rendered, headers: &HeaderMap) -> Response {
    let get = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let gzip = response::accepts_gzip(get(header::ACCEPT_ENCODING));
    let mut out = HeaderMap::with_capacity(8);
    let etag = if gzip {
        &r.etag_gzip_header
    } else {
        &r.etag_header
    };
    out.insert(header::ETAG, etag.clone());
    out.insert(header::LAST_MODIFIED, r.last_modified_header.clone());
    out.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(r.cache_control),
    );
    out.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if response::not_modified(
        r,
        get(header::IF_NONE_MATCH),
        get(header::IF_MODIFIED_SINCE),
    ) {
        return (StatusCode::NOT_MODIFIED, out).into_response();
    }
    out.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(r.content_type),
    );
    out.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if r.content_type.starts_with("text/html") {
        out.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(page::content_security_policy()),
        );
    }
    let body = if gzip {
        out.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r.gzip.clone()
    } else {
        r.body.clone()
    };
    (StatusCode::OK, out, Body::from(body)).into_response()
}

fn serve_resource(app: &App, snap: &Snapshot, res: Resource, headers: &HeaderMap) -> Response {
    let now = (app.clock)();
    match app.rendered(snap, res, now) {
        Some(r) => respond(&r, headers),
        None => text(StatusCode::NOT_FOUND, "no such deadline"),
    }
}

fn header_lang(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(Lang::from_accept_language)
        .unwrap_or_default()
}

async fn index(State(app): State<Arc<App>>, uri: Uri, headers: HeaderMap) -> Response {
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

async fn calendar(State(app): State<Arc<App>>, uri: Uri, headers: HeaderMap) -> Response {
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

async fn deadlines_json(State(app): State<Arc<App>>, uri: Uri, headers: HeaderMap) -> Response {
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

/// `/topics/{slug}.ics` and `/mechanisms/{slug}.ics`.
fn slug_feed(app: &App, file: &str, uri: &Uri, headers: &HeaderMap, topic: bool) -> Response {
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

async fn topic_feed(
    State(app): State<Arc<App>>,
    UrlPath(file): UrlPath<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    slug_feed(&app, &file, &uri, &headers, true)
}

async fn mechanism_feed(
    State(app): State<Arc<App>>,
    UrlPath(file): UrlPath<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    slug_feed(&app, &file, &uri, &headers, false)
}

/// `/deadlines/{id}.ics` (one event) and `/deadlines/{id}` (its page).
async fn deadline(
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

fn token_of(uri: &Uri) -> Option<String> {
    url::form_urlencoded::parse(uri.query()?.as_bytes())
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v.into_owned())
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (
                header::CONTENT_SECURITY_POLICY,
                page::content_security_policy(),
            ),
        ],
        body,
    )
        .into_response()
}

/// The same answer for every token that does not verify: it reveals
/// nothing about addresses.
fn invalid_link(lang: Lang) -> Response {
    let (title, text) = match lang {
        Lang::En => ("Invalid link", "This unsubscribe link is not valid. Use the link in a recent reminder."),
        Lang::Ru => ("Неверная ссылка", "Эта ссылка для отписки недействительна. Воспользуйтесь ссылкой из недавнего напоминания."),
    };
    html(StatusCode::BAD_REQUEST, page::simple(title, text, "", lang))
}

/// `GET /unsubscribe?token=…`: asks to confirm (mail scanners follow links,
/// so a GET never unsubscribes anybody).
async fn unsubscribe_page(State(app): State<Arc<App>>, uri: Uri, headers: HeaderMap) -> Response {
    let lang = header_lang(&headers);
    let Some(u) = &app.unsubscribe else {
        return not_found(uri).await;
    };
    let Some(email) = token_of(&uri).and_then(|t| u.verify(&t)) else {
        return invalid_link(lang);
    };
    let action = format!(
        "{}?{}",
        app.snapshot().links().path("unsubscribe"),
        uri.query().unwrap_or("")
    );
    let (title, text, button) = match lang {
        Lang::En => (
            "Unsubscribe",
            format!(
                "Stop deadline reminders to {}?",
                crate::load::subscribers::mask(&email)
            ),
            "Unsubscribe",
        ),
        Lang::Ru => (
            "Отписка",
            format!(
                "Больше не присылать напоминания на {}?",
                crate::load::subscribers::mask(&email)
            ),
            "Отписаться",
        ),
    };
    let form = format!(
        "<form method=\"post\" action=\"{}\"><button type=\"submit\">{}</button></form>\n",
        page::esc(&action),
        page::esc(button)
    );
    html(StatusCode::OK, page::simple(title, &text, &form, lang))
}

/// `POST /unsubscribe?token=…`: the form's button and RFC 8058's one-click
/// POST (`List-Unsubscribe=One-Click`) alike record the opt-out.
async fn unsubscribe_post(State(app): State<Arc<App>>, uri: Uri, headers: HeaderMap) -> Response {
    let lang = header_lang(&headers);
    let Some(u) = &app.unsubscribe else {
        return not_found(uri).await;
    };
    let Some(email) = token_of(&uri).and_then(|t| u.verify(&t)) else {
        return invalid_link(lang);
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
    let (title, text) = match lang {
        Lang::En => (
            "Unsubscribed",
            format!(
                "{} will get no more deadline reminders.",
                crate::load::subscribers::mask(&email)
            ),
        ),
        Lang::Ru => (
            "Вы отписались",
            format!(
                "На {} больше не будут приходить напоминания.",
                crate::load::subscribers::mask(&email)
            ),
        ),
    };
    html(StatusCode::OK, page::simple(title, &text, "", lang))
}

/// Whether a `/healthz` request may see the diagnostics: they name files,
/// lines and values of the repository and the config, which is staff's
/// business, not the public's.
fn sees_details(
    setting: crate::load::config::HealthDetails,
    peer: Option<Peer>,
    headers: &HeaderMap,
) -> bool {
    use crate::load::config::HealthDetails;
    match setting {
        HealthDetails::Everyone => true,
        HealthDetails::Nobody => false,
        HealthDetails::Loopback => {
            // A reverse proxy on this host connects from loopback too; the
            // headers it adds tell its requests apart.
            let proxied = ["forwarded", "x-forwarded-for", "x-real-ip"]
                .iter()
                .any(|h| headers.contains_key(*h));
            peer.is_some_and(|p| p.0.to_canonical().is_loopback()) && !proxied
        }
    }
}

async fn healthz(
    State(app): State<Arc<App>>,
    peer: Option<axum::Extension<Peer>>,
    headers: HeaderMap,
) -> Response {
    let snap = app.snapshot();
    let health = app.health();
    let time = |t: DateTime<Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let details = sees_details(
        snap.config.server.health_details,
        peer.map(|p| p.0),
        &headers,
    );
    let diagnostics: Vec<&String> = if details {
        health
            .problems()
            .flat_map(|(_, d)| d.diagnostics.iter())
            .collect()
    } else {
        Vec::new()
    };
    let body = serde_json::json!({
        "status": if health.is_degraded() { "degraded" } else { "ok" },
        "degraded": health.problems().map(|(what, _)| what).collect::<Vec<_>>(),
        "deadlines": snap.catalog.deadlines().len(),
        "catalog_version": snap.catalog.version().to_string(),
        "last_reload": health.last_reload.map(time),
        "reloads_ok": health.reloads_ok,
        "reloads_failed": health.reloads_failed,
        "degraded_since": health.problems().map(|(_, d)| d.since).min().map(time),
        "diagnostics": diagnostics,
        "diagnostics_shown": details,
    });
    (
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        format!("{body}\n"),
    )
        .into_response()
}

async fn not_found(uri: Uri) -> Response {
    text(
        StatusCode::NOT_FOUND,
        &format!(
            "not found: {}\nfeeds: /calendar.ics, /topics/<topic>.ics, /mechanisms/<mechanism>.ics, /deadlines/<id>.ics; page: /; data: /deadlines.json\n",
            query::shown(uri.path())
        ),
    )
}

/// Writes the static export into `out`: the very bytes the server serves for
/// `/calendar.ics`, `/topics/*.ics`, `/mechanisms/*.ics`, `/deadlines/*.ics`,
/// `/` (as `index.html`) and `/deadlines.json`, all without query. Returns
/// the files written, relative to `out`.
pub fn export(snap: &Snapshot, out: &Path, now: DateTime<Utc>) -> std::io::Result<Vec<PathBuf>> {
    let alarm = snap.config.calendar.alarm;
    let lang = Lang::default();
    let reg = snap.catalog.registry();
    let mut jobs: Vec<(PathBuf, Resource)> = vec![
        (
            "calendar.ics".into(),
            Resource::Feed {
                filter: Filter::default(),
                lang,
                alarm,
            },
        ),
        (
            "index.html".into(),
            Resource::Page {
                filter: Filter::default(),
                lang,
            },
        ),
        (
            "deadlines.json".into(),
            Resource::Json {
                filter: Filter::default(),
                lang,
            },
        ),
    ];
    for t in reg.topic_slugs() {
        let filter = Filter {
            topics: vec![t.to_string()],
            mechanisms: vec![],
        };
        jobs.push((
            format!("topics/{t}.ics").into(),
            Resource::Feed {
                filter,
                lang,
                alarm,
            },
        ));
    }
    for m in reg.mechanism_slugs() {
        let filter = Filter {
            topics: vec![],
            mechanisms: vec![m.to_string()],
        };
        jobs.push((
            format!("mechanisms/{m}.ics").into(),
            Resource::Feed {
                filter,
                lang,
                alarm,
            },
        ));
    }
    let cutoff = snap.cutoff(now);
    for d in snap
        .catalog
        .deadlines()
        .iter()
        .filter(|d| d.due_at >= cutoff)
    {
        jobs.push((
            format!("deadlines/{}.ics", d.id).into(),
            Resource::One {
                id: d.id.clone(),
                lang,
                alarm,
            },
        ));
    }
    let mut written = Vec::with_capacity(jobs.len());
    for (rel, res) in jobs {
        let Some(r) = render(snap, &res, now) else {
            continue;
        };
        let path = out.join(&rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        // Write to a temporary name and rename, so a server reading the
        // directory never sees half a file.
        let tmp = path.with_extension("tmp~");
        std::fs::write(&tmp, &r.body)?;
        std::fs::rename(&tmp, &path)?;
        written.push(rel);
    }
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::config::HealthDetails;

    #[test]
    fn who_sees_health_details() {
        let peer = |s: &str| Some(Peer(s.parse().unwrap()));
        let mut proxied = HeaderMap::new();
        proxied.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        let mut forwarded = HeaderMap::new();
        forwarded.insert("forwarded", HeaderValue::from_static("for=203.0.113.9"));
        let none = HeaderMap::new();
        let cases = [
            (HealthDetails::Loopback, peer("127.0.0.1"), &none, true),
            (HealthDetails::Loopback, peer("::1"), &none, true),
            (
                HealthDetails::Loopback,
                peer("::ffff:127.0.0.1"),
                &none,
                true,
            ),
            (HealthDetails::Loopback, peer("127.0.0.1"), &proxied, false),
            (
                HealthDetails::Loopback,
                peer("127.0.0.1"),
                &forwarded,
                false,
            ),
            (HealthDetails::Loopback, peer("192.0.2.7"), &none, false),
            (HealthDetails::Loopback, None, &none, false),
            (HealthDetails::Everyone, peer("192.0.2.7"), &proxied, true),
            (HealthDetails::Nobody, peer("127.0.0.1"), &none, false),
        ];
        for (setting, peer, headers, expected) in cases {
            assert_eq!(
                sees_details(setting, peer, headers),
                expected,
                "{setting:?} {peer:?} {headers:?}"
            );
        }
    }
}
