//! One watch pass: every target checked once, hosts side by side (at most
//! `[watch] hosts_at_once`), one request at a time per host with at least
//! `[watch] host_delay` between two; each result judged against the state
//! database and recorded as it comes, so memory holds one body per host
//! being checked, whatever the number of URLs. Then the problems are
//! recorded for staff and the ones not yet mailed are sent.
//!
//! A host that answers `Retry-After` is not asked again before then; when
//! that is more than [`MAX_WAIT`], its remaining URLs are left for the next
//! pass (their state unchanged, their row says so).

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::{mpsc, Semaphore};

use super::fetch::{Fetched, Fetcher, Validators};
use super::judge::{self, Kind, Problem, Rules, UrlState};
use super::{Field, Target};
use crate::load::config::Config;
use crate::state::records::Noted;
use crate::state::{Database, StateError};

/// The longest `Retry-After` a pass waits for before its host's next URL.
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// Why a pass could not run or finish.
#[derive(Debug, thiserror::Error)]
pub enum PassError {
    #[error(transparent)]
    Setup(#[from] super::fetch::SetupError),
    #[error(transparent)]
    State(#[from] StateError),
}

/// One row of `mechcal watch`: an entry's URL and what its last check says.
#[derive(Clone, Debug)]
pub struct Row {
    pub entry: String,
    pub field: Field,
    pub url: String,
    /// `200`, `304`, `404`, `timeout`, `dns`…; `not checked` when left for
    /// the next pass.
    pub status: String,
    pub final_url: Option<String>,
    /// What the last check failed with, if it failed.
    pub error: Option<String>,
    pub answered_at: Option<DateTime<Utc>>,
    pub changed_at: Option<DateTime<Utc>>,
    pub problem: Option<Problem>,
}

/// What a pass did.
#[derive(Debug, Default)]
pub struct Report {
    pub rows: Vec<Row>,
    /// URLs checked, and left for the next pass (a host's `Retry-After`).
    pub checked: usize,
    pub left: usize,
    /// Checks by what answered: `2xx`, `304`, `4xx`, `5xx`, `error`.
    pub outcomes: BTreeMap<&'static str, u64>,
    /// URLs whose stored text older rules had made ([`super::text::READER`]),
    /// read again by this pass: their new text is the baseline, not a change.
    pub reread: usize,
    /// Problems mailed to staff by this pass.
    pub mailed: usize,
    /// Why the staff mail did not go out (it is tried again).
    pub mail_error: Option<String>,
    pub took: Duration,
}

impl Report {
    /// Rows with a problem.
    pub fn problems(&self) -> usize {
        self.rows.iter().filter(|r| r.problem.is_some()).count()
    }

    /// Problems by kind, every kind listed.
    pub fn by_kind(&self) -> Vec<(Kind, usize)> {
        Kind::ALL
            .iter()
            .map(|k| {
                let n = self
                    .rows
                    .iter()
                    .filter(|r| r.problem.as_ref().is_some_and(|p| p.kind == *k))
                    .count();
                (*k, n)
            })
            .collect()
    }
}

/// A URL on its way to its host's worker.
struct Job {
    index: usize,
    url: String,
    validators: Validators,
}

/// Checks `targets` at `now`, records what was seen in `db`, and mails
/// `[alerts] staff` the problems not mailed before. `full`: the targets
/// are all the catalog's, so URLs no longer named are forgotten.
pub async fn pass(
    config: &Config,
    targets: &[Target],
    db: &mut Database,
    now: DateTime<Utc>,
    full: bool,
) -> Result<Report, PassError> {
    let started = std::time::Instant::now();
    let watch = &config.watch;
    let fetcher = Arc::new(Fetcher::new(watch, &config.calendar.base_url)?);
    let mut by_host: BTreeMap<String, Vec<Job>> = BTreeMap::new();
    for (index, t) in targets.iter().enumerate() {
        let validators = db.watch_validators(&t.url, super::text::READER)?;
        by_host
            .entry(judge::host(&t.url).unwrap_or_default())
            .or_default()
            .push(Job {
                index,
                url: t.url.clone(),
                validators,
            });
    }
    let (tx, mut rx) = mpsc::channel::<(usize, Option<Fetched>)>(64);
    let slots = Arc::new(Semaphore::new(watch.hosts_at_once));
    let mut workers = tokio::task::JoinSet::new();
    for jobs in by_host.into_values() {
        workers.spawn(host(
            fetcher.clone(),
            slots.clone(),
            jobs,
            watch.host_delay,
            tx.clone(),
        ));
    }
    drop(tx);
    let mut report = Report::default();
    // Each URL's stored state is read when its result comes and kept
    // without its text afterwards: memory does not grow with the texts of
    // all the URLs checked.
    let mut states: Vec<Option<UrlState>> = vec![None; targets.len()];
    let mut left = vec![false; targets.len()];
    while let Some((index, fetched)) = rx.recv().await {
        let url = &targets[index].url;
        let previous = db.watched(url)?;
        let mut state = match fetched {
            None => {
                report.left += 1;
                left[index] = true;
                previous
            }
            Some(fetched) => {
                report.checked += 1;
                *report.outcomes.entry(outcome_class(&fetched)).or_default() += 1;
                let state = judge::observe(previous.as_ref(), url, fetched.observation, now);
                db.record_watched(&state)?;
                if previous
                    .as_ref()
                    .is_some_and(|p| p.fingerprint.is_some() && p.reader < state.reader)
                {
                    report.reread += 1;
                }
                Some(state)
            }
        };
        if let Some(s) = &mut state {
            s.text = None;
        }
        states[index] = state;
    }
    while workers.join_next().await.is_some() {}
    let rules = Rules {
        failures: watch.failures,
        timeout: watch.timeout,
    };
    let alerting = !config.alerts.is_empty();
    for ((t, state), left) in targets.iter().zip(&states).zip(left) {
        let mut problems: Vec<Problem> = Vec::new();
        for u in &t.uses {
            let problem = state
                .as_ref()
                .and_then(|s| judge::problem(s, u.verified, rules));
            if let Some(p) = &problem {
                if !problems.iter().any(|q| q.key == p.key) {
                    problems.push(p.clone());
                }
            }
            let mut r = row(t, u, state.as_ref(), problem);
            if left {
                r.status = "not checked (Retry-After)".into();
            }
            report.rows.push(r);
        }
        if alerting && state.as_ref().is_some_and(|s| s.checked_at == Some(now)) {
            let entries = entries(t);
            let noted: Vec<Noted<'_>> = problems
                .iter()
                .map(|p| Noted {
                    key: &p.key,
                    message: &p.message,
                    excerpt: p.excerpt.as_deref(),
                })
                .collect();
            db.note_watch_problems(&t.url, &entries, &noted, now)?;
        }
    }
    if full {
        let keep: HashSet<&str> = targets.iter().map(|t| t.url.as_str()).collect();
        db.forget_watched_except(&keep)?;
    }
    if alerting {
        match send_alerts(config, db, now).await {
            Ok(n) => report.mailed = n,
            Err(e) => report.mail_error = Some(e),
        }
    }
    report.took = started.elapsed();
    Ok(report)
}

/// Mails `[alerts] staff` the problems not mailed yet, in one message, and
/// marks them mailed; returns how many. On a failure they stay unsent for
/// the next try.
pub async fn send_alerts(
    config: &Config,
    db: &mut Database,
    now: DateTime<Utc>,
) -> Result<usize, String> {
    use crate::reminders::transport::{Mailer, Transport as _};
    let alerts = db.unsent_watch_alerts().map_err(|e| e.to_string())?;
    if alerts.is_empty() || config.alerts.is_empty() {
        return Ok(0);
    }
    let from = config
        .mail
        .from
        .parse()
        .map_err(|e| format!("`[mail] from`: {e}"))?;
    let message = crate::reminders::message::watch_alert(
        &from,
        &config.alerts,
        &config.calendar.domain,
        &alerts,
        now,
    )
    .map_err(|e| e.to_string())?;
    let id = message
        .headers()
        .get_raw("Message-ID")
        .unwrap_or_default()
        .to_string();
    let mailer = Mailer::new(&config.mail).map_err(|e| e.to_string())?;
    mailer
        .send(&id, &message)
        .await
        .map_err(|e| e.to_string())?;
    db.watch_alerts_sent(&alerts, now)
        .map_err(|e| e.to_string())?;
    Ok(alerts.len())
}

/// The entries naming a target, for staff: `a, b (source)`.
fn entries(t: &Target) -> String {
    t.uses
        .iter()
        .map(|u| match u.field {
            Field::Url => u.entry.clone(),
            Field::Source => format!("{} (source)", u.entry),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn row(t: &Target, u: &super::Use, s: Option<&UrlState>, problem: Option<Problem>) -> Row {
    Row {
        entry: u.entry.clone(),
        field: u.field,
        url: t.url.clone(),
        status: s.map_or_else(|| "not checked".into(), judge::status_text),
        final_url: s.and_then(|s| s.final_url.clone()),
        error: s.and_then(|s| s.error.clone()),
        answered_at: s.and_then(|s| s.answered_at),
        changed_at: s.and_then(|s| s.changed_at),
        problem,
    }
}

fn outcome_class(f: &Fetched) -> &'static str {
    match &f.observation.outcome {
        judge::Outcome::Page { .. } => "2xx",
        judge::Outcome::NotModified => "304",
        judge::Outcome::Status(code) if *code < 500 => "4xx",
        judge::Outcome::Status(_) => "5xx",
        judge::Outcome::Failed(_) => "error",
    }
}

/// One host's URLs, one at a time, `delay` apart (longer when the host
/// says `Retry-After`); `None` for each URL left for the next pass.
async fn host(
    fetcher: Arc<Fetcher>,
    slots: Arc<Semaphore>,
    jobs: Vec<Job>,
    delay: Duration,
    tx: mpsc::Sender<(usize, Option<Fetched>)>,
) {
    let Ok(_slot) = slots.acquire_owned().await else {
        return;
    };
    let mut next = tokio::time::Instant::now();
    let mut jobs = jobs.into_iter();
    while let Some(job) = jobs.next() {
        tokio::time::sleep_until(next).await;
        let fetched = fetcher.fetch(&job.url, &job.validators).await;
        let wait = fetched.retry_after.map_or(delay, |r| r.max(delay));
        if tx.send((job.index, Some(fetched))).await.is_err() {
            return;
        }
        if wait > MAX_WAIT {
            // However long the host asked for (u64::MAX seconds too): the
            // next pass. No instant is computed from it.
            for job in jobs.by_ref() {
                if tx.send((job.index, None)).await.is_err() {
                    return;
                }
            }
            return;
        }
        next = tokio::time::Instant::now() + wait;
    }
}
