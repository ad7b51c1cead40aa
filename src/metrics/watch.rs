//! The watch passes' counters (`[watch]`), kept under one lock: a pass
//! adds up once every few hours, a scrape reads them.

use std::fmt::Write as _;
use std::time::Duration;

use chrono::{DateTime, Utc};

use super::Metrics;

/// What the watch passes of `[watch]` counted.
#[derive(Default)]
pub(super) struct WatchCounts {
    passes: u64,
    pass_errors: u64,
    /// Checks by what answered (`2xx`, `304`, `4xx`, `5xx`, `error`).
    checks: std::collections::BTreeMap<&'static str, u64>,
    /// Entry links with a problem after the last pass, by kind.
    problems: Vec<(crate::watch::judge::Kind, usize)>,
    mailed: u64,
    last_pass: Option<DateTime<Utc>>,
    last_took: Duration,
}

impl Metrics {
    /// Adds up a watch pass (`None`: it could not run) finished at `at`.
    pub fn watch_pass(&self, report: Option<&crate::watch::Report>, at: DateTime<Utc>) {
        let Ok(mut w) = self.watch.lock() else { return };
        w.passes += 1;
        let Some(r) = report else {
            w.pass_errors += 1;
            return;
        };
        for (class, n) in &r.outcomes {
            *w.checks.entry(class).or_default() += n;
        }
        w.problems = r.by_kind();
        w.mailed += r.mailed as u64;
        w.last_pass = Some(at);
        w.last_took = r.took;
    }
}

impl WatchCounts {
    pub(super) fn render(&self, out: &mut String, head: fn(&mut String, &str, &str, &str)) {
        head(
            out,
            "mechcal_watch_passes_total",
            "counter",
            "Watch passes run ([watch]), and those that could not run.",
        );
        let _ = writeln!(
            out,
            "mechcal_watch_passes_total{{result=\"ok\"}} {}",
            self.passes - self.pass_errors
        );
        let _ = writeln!(
            out,
            "mechcal_watch_passes_total{{result=\"failed\"}} {}",
            self.pass_errors
        );
        head(
            out,
            "mechcal_watch_checks_total",
            "counter",
            "Watched URLs checked, by what answered.",
        );
        for class in ["2xx", "304", "4xx", "5xx", "error"] {
            let n = self.checks.get(class).copied().unwrap_or(0);
            let _ = writeln!(out, "mechcal_watch_checks_total{{answer=\"{class}\"}} {n}");
        }
        head(
            out,
            "mechcal_watch_problems",
            "gauge",
            "Entry links with a problem after the last watch pass, by kind.",
        );
        for kind in crate::watch::judge::Kind::ALL {
            let n = self
                .problems
                .iter()
                .find(|(k, _)| *k == kind)
                .map_or(0, |(_, n)| *n);
            let _ = writeln!(
                out,
                "mechcal_watch_problems{{kind=\"{}\"}} {n}",
                kind.as_str()
            );
        }
        head(
            out,
            "mechcal_watch_alerts_mailed_total",
            "counter",
            "Watch problems mailed to staff.",
        );
        let _ = writeln!(out, "mechcal_watch_alerts_mailed_total {}", self.mailed);
        head(
            out,
            "mechcal_watch_last_pass_time_seconds",
            "gauge",
            "When the last watch pass finished (Unix time; 0: none since start).",
        );
        let _ = writeln!(
            out,
            "mechcal_watch_last_pass_time_seconds {}",
            self.last_pass.map_or(0, |t| t.timestamp())
        );
        head(
            out,
            "mechcal_watch_last_pass_duration_seconds",
            "gauge",
            "How long the last watch pass took.",
        );
        let _ = writeln!(
            out,
            "mechcal_watch_last_pass_duration_seconds {}",
            self.last_took.as_secs_f64()
        );
    }
}
