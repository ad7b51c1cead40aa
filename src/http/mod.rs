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
//! Files: `snapshot` (what is served and [`render`]), `cache` (the
//! byte-bounded render cache), `query` (options and filters), `response`
//! (headers, ETag/304, gzip), one file per group of handlers (`feeds`,
//! `pages`, `health`, `unsubscribe`, `signup`, `confirm`, `manage`),
//! `notice` (the notices those send), `reminders` (the state the
//! subscribers' endpoints share), `server` (the connection loop with its
//! timeouts), `export` (the static files of `mechcal render`).

mod cache;
mod confirm;
mod export;
mod feeds;
mod health;
mod manage;
mod notice;
mod pages;
pub(crate) mod query;
mod reminders;
pub(crate) mod response;
pub(crate) mod server;
mod signup;
mod snapshot;
mod unsubscribe;

pub use export::export;
pub use health::{Degraded, Health};
pub use reminders::Reminders;
pub use snapshot::{render, Resource, Snapshot};

pub use server::{bind_reuseport, serve, serve_threads, Heartbeats, Limits, Peer};

use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};

use self::cache::{size_estimate, Cache, Key};
use self::confirm::{confirm_page, confirm_post};
use self::feeds::{calendar, mechanism_feed, topic_feed};
use self::health::{healthz, metrics};
use self::manage::{manage_page, manage_post};
use self::pages::{deadline, deadlines_json, index, not_found};
use self::response::{respond, text, Rendered};
use self::signup::{privacy, signup_form, signup_post};
use self::unsubscribe::{unsubscribe_page, unsubscribe_post};

/// How many weak references each thread's copy keeps at most.
pub const LOCAL_CAPACITY: usize = 512;

pub type Clock = Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The server's shared state.
pub struct App {
    snapshot: RwLock<Arc<Snapshot>>,
    cache: RwLock<Cache>,
    clock: Clock,
    /// With reminders on: unsubscribe, sign-up and the preference page.
    reminders: Option<Reminders>,
    /// Counts swaps; the per-thread copies below are valid while it is unchanged.
    generation: std::sync::atomic::AtomicU64,
    /// Tells this `App` apart from others in the process (an address could
    /// be reused by a later one; this number is not).
    id: u64,
    health: RwLock<Health>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// Whether this process leads (always, on SQLite; while its lease
    /// runs, among replicas sharing PostgreSQL).
    pub lead: Arc<crate::state::lead::Lead>,
    started: DateTime<Utc>,
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
        Self::with_reminders(snapshot, clock, None)
    }

    /// A server that also takes unsubscribe requests, sign-ups (when
    /// `[subscriptions] open`) and preference changes: when reminders are on.
    pub fn with_reminders(
        snapshot: Snapshot,
        clock: Clock,
        reminders: Option<Reminders>,
    ) -> Arc<App> {
        Arc::new(App {
            snapshot: RwLock::new(Arc::new(snapshot)),
            cache: RwLock::new(Cache::default()),
            reminders,
            generation: std::sync::atomic::AtomicU64::new(0),
            id: NEXT_APP_ID.fetch_add(1, std::sync::atomic::Ordering::Relaxed),
            // The first load counts as the last one until a reload.
            health: RwLock::new(Health {
                last_reload: Some(clock()),
                ..Health::default()
            }),
            metrics: Arc::default(),
            lead: Arc::new(crate::state::lead::Lead::new(holder_id())),
            started: clock(),
            clock,
        })
    }

    /// Tells the reminder endpoints who the subscribers file lists now
    /// (after a reload).
    pub fn set_subscribers(&self, subscribers: &[crate::load::subscribers::Subscriber]) {
        if let Some(r) = &self.reminders {
            r.set_subscribers(subscribers);
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
        .route("/subscribe", get(signup_form).post(signup_post))
        .route("/subscribe/confirm", get(confirm_page).post(confirm_post))
        .route("/manage", get(manage_page).post(manage_post))
        .route("/privacy", get(privacy))
        .fallback(not_found)
        .with_state(app)
}

fn serve_resource(app: &App, snap: &Snapshot, res: Resource, headers: &HeaderMap) -> Response {
    let now = (app.clock)();
    match app.rendered(snap, res, now) {
        Some(r) => respond(&r, headers),
        None => text(StatusCode::NOT_FOUND, "no such deadline"),
    }
}

/// A random id for this process in the lead's lease (64 bits, hex).
fn holder_id() -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 8];
    let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
