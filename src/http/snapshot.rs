//! What the server serves from (a [`Snapshot`]: catalog, versions, config,
//! swapped whole on reload), what it serves (a [`Resource`]), and
//! [`render`], the one function that turns the first into bytes of the
//! second — for requests and for the static export alike.

use std::sync::Arc;

use chrono::{DateTime, Duration, DurationRound, Utc};

use crate::i18n::Lang;
use crate::load::config::Config;
use crate::model::catalog::{Catalog, Filter};
use crate::render::feed::{self, Alarm, FeedOptions, Versions};
use crate::render::links::Links;
use crate::render::{json, page};
use crate::state::StateError;

use super::response::Rendered;

/// What the server serves from: swapped as a whole on reload.
pub struct Snapshot {
    pub catalog: Arc<Catalog>,
    pub versions: Versions,
    pub config: Arc<Config>,
    /// The key of the sign-up form's tokens, when `[subscriptions] open`
    /// (the list page then carries the form).
    pub signup: Option<crate::reminders::tokens::Secret>,
}

impl Snapshot {
    /// Records `catalog` in the state database (so its entries' versions
    /// move forward) and makes the snapshot to serve it from.
    pub fn record(
        config: Arc<Config>,
        catalog: Catalog,
        now: DateTime<Utc>,
    ) -> Result<Snapshot, StateError> {
        let versions = crate::state::Database::open_state(&config.state)?.sync(
            &catalog,
            &config.render_fingerprint(),
            now,
        )?;
        // The secret is checked before serving (reminders' setup); if it
        // became unreadable since, the page goes without the form.
        let signup = if config.subscriptions.open {
            crate::reminders::tokens::Secret::load(&config.reminders.secret_file)
                .map_err(|e| tracing::warn!("sign-up form left out: the unsubscribe secret: {e}"))
                .ok()
        } else {
            None
        };
        let catalog = catalog.with_history(|id| versions.was_due.get(id).copied());
        Ok(Snapshot {
            catalog: Arc::new(catalog),
            versions,
            config,
            signup,
        })
    }

    pub(super) fn links(&self) -> Links {
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
            .filter_map(|m| reg.mechanism(m).map(|m| m.name(lang.code())))
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

pub(super) const CALENDAR: &str = "text/calendar; charset=utf-8";
pub(super) const FEED_CACHE: &str = "public, max-age=300";

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
            let token = snap
                .signup
                .as_ref()
                .map(|s| crate::subscriptions::links::form_token(s, now));
            let input = page::PageInput {
                name: &snap.config.calendar.name,
                filter,
                lang: *lang,
                now,
                links: &links,
                signup: token.as_deref(),
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
