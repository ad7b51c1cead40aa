//! A feed's alarm (`VALARM`) and the RFC 5545 durations it is written in:
//! a value the config holds and the feeds render, so it lives below both.

use std::fmt::Write as _;

use chrono::Duration;

/// A reminder built into the feed's events (`VALARM`), as a time before the
/// event's start.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Alarm(pub Duration);

impl Alarm {
    /// Parses `P1D`, `-P1D`, `PT12H`, `P1W`, `-PT30M` (a time before the start;
    /// the sign is optional). At most 365 days.
    pub fn parse(s: &str) -> Option<Alarm> {
        let d = parse_duration(s.strip_prefix('-').unwrap_or(s))?;
        (d > Duration::zero() && d <= Duration::days(365)).then_some(Alarm(d))
    }

    /// `-P1D`, `-PT12H`, `-P1DT6H`.
    pub fn trigger(self) -> String {
        format!("-{}", format_duration(self.0))
    }
}

/// Parses an RFC 5545 duration without sign: `P7D`, `P1W`, `PT6H`, `P1DT2H30M`.
pub fn parse_duration(s: &str) -> Option<Duration> {
    let rest = s.strip_prefix('P')?;
    if rest.is_empty() {
        return None;
    }
    let (date, time) = match rest.split_once('T') {
        Some((d, t)) if !t.is_empty() => (d, Some(t)),
        Some(_) => return None,
        None => (rest, None),
    };
    let mut total = Duration::zero();
    let mut parse_part = |part: &str, units: &[(char, i64)]| -> Option<()> {
        let mut number = String::new();
        let mut next_unit = 0;
        for c in part.chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let pos = units[next_unit..].iter().position(|(u, _)| *u == c)? + next_unit;
            let n: i64 = number.parse().ok()?;
            if n > 100_000 {
                return None;
            }
            total += Duration::seconds(n * units[pos].1);
            number.clear();
            next_unit = pos + 1;
        }
        number.is_empty().then_some(())
    };
    parse_part(date, &[('W', 7 * 86_400), ('D', 86_400)])?;
    if let Some(time) = time {
        parse_part(time, &[('H', 3600), ('M', 60), ('S', 1)])?;
    }
    Some(total)
}

/// Formats a positive duration: `P1D`, `PT6H`, `P1DT6H30M`.
pub fn format_duration(d: Duration) -> String {
    let mut secs = d.num_seconds().max(0);
    let days = secs / 86_400;
    secs %= 86_400;
    let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
    let mut out = String::from("P");
    if days > 0 {
        let _ = write!(out, "{days}D");
    }
    if h + m + s > 0 || days == 0 {
        out.push('T');
        if h > 0 {
            let _ = write!(out, "{h}H");
        }
        if m > 0 {
            let _ = write!(out, "{m}M");
        }
        if s > 0 || (h == 0 && m == 0) {
            let _ = write!(out, "{s}S");
        }
    }
    out
}
