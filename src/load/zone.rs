//! Time zones: IANA names with helpful errors, and local times resolved to
//! instants under DST rules.

use chrono::{DateTime, Duration, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

use crate::load::suggest;

/// Why a zone name was refused, and what to write instead.
#[derive(Debug, PartialEq, Eq)]
pub struct ZoneError {
    pub message: String,
    pub help: Option<String>,
}

/// Parses an IANA time zone name (case-sensitive, as in the tz database).
pub fn parse(name: &str) -> Result<Tz, ZoneError> {
    if let Ok(tz) = name.parse::<Tz>() {
        return Ok(tz);
    }
    let message = format!("unknown time zone `{name}`");
    // Geneva, where most UN mechanisms sit, has no zone of its own.
    let lower = name.to_lowercase();
    if lower.contains("geneva") || lower.contains("genf") || lower.contains("geneve") {
        return Err(ZoneError {
            message,
            help: Some(
                "Geneva time is the IANA zone `Europe/Zurich`; there is no `Europe/Geneva`".into(),
            ),
        });
    }
    let help = suggest::did_you_mean(name, chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()))
        .or_else(|| {
            Some("use an IANA zone name such as `Europe/Zurich`, `Europe/Vienna` or `UTC`".into())
        });
    Err(ZoneError { message, help })
}

/// A local date-time that does not exist in a zone (it falls in a DST gap).
#[derive(Debug, PartialEq, Eq)]
pub struct Gap {
    /// The same wall-clock time shifted past the gap, to suggest instead.
    pub suggestion: NaiveDateTime,
}

/// Resolves a wall-clock time in `tz` to an instant. In a DST fold (the time
/// occurs twice) the earlier instant is taken; in a DST gap it is an error.
pub fn resolve(tz: Tz, local: NaiveDateTime) -> Result<DateTime<Utc>, Gap> {
    match tz.from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, later) => Ok(earlier.min(later).with_timezone(&Utc)),
        LocalResult::None => {
            let before = offset_seconds(tz, local - Duration::days(1));
            let after = offset_seconds(tz, local + Duration::days(1));
            let shift = Duration::seconds((after - before).max(3600));
            Err(Gap {
                suggestion: local + shift,
            })
        }
    }
}

fn offset_seconds(tz: Tz, local: NaiveDateTime) -> i64 {
    use chrono::Offset;
    // Treating the local time as UTC is close enough to pick the offset in
    // force a day away from a transition.
    i64::from(tz.offset_from_utc_datetime(&local).fix().local_minus_utc())
}

/// The first instant of `date` in `tz`. Where midnight itself falls in a DST
/// gap (some zones change at 00:00), the day starts at the end of the gap.
pub fn start_of_day(tz: Tz, date: NaiveDate) -> DateTime<Utc> {
    let midnight = date.and_time(NaiveTime::MIN);
    match resolve(tz, midnight) {
        Ok(t) => t,
        Err(_) => {
            // Walk forward minute by minute (gaps are at most a few hours) to the
            // first wall-clock time that exists.
            let mut local = midnight;
            for _ in 0..(48 * 60) {
                local += Duration::minutes(1);
                if let Ok(t) = resolve(tz, local) {
                    return t;
                }
            }
            midnight.and_utc()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dt(s: &str) -> NaiveDateTime {
        NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").unwrap()
    }

    #[test]
    fn parse_table() {
        assert_eq!(parse("Europe/Zurich").unwrap(), Tz::Europe__Zurich);
        assert_eq!(parse("UTC").unwrap(), Tz::UTC);
        let cases = [
            (
                "Europe/Geneva",
                "Geneva time is the IANA zone `Europe/Zurich`; there is no `Europe/Geneva`",
            ),
            ("europe/zurich", "did you mean `Europe/Zurich`?"),
            ("Europe/Zurih", "did you mean `Europe/Zurich`?"),
            ("Vilnius", "did you mean `Europe/Vilnius`?"),
            (
                "Mars/Olympus",
                "use an IANA zone name such as `Europe/Zurich`, `Europe/Vienna` or `UTC`",
            ),
        ];
        for (name, help) in cases {
            let err = parse(name).unwrap_err();
            assert_eq!(err.message, format!("unknown time zone `{name}`"));
            assert_eq!(err.help.as_deref(), Some(help), "{name}");
        }
    }

    #[test]
    fn resolve_table() {
        let z = Tz::Europe__Zurich;
        // Winter: UTC+1.
        assert_eq!(
            resolve(z, dt("2027-01-15T12:00")).unwrap().to_rfc3339(),
            "2027-01-15T11:00:00+00:00"
        );
        // Spring forward 2027-03-28 02:00 → 03:00: 02:30 does not exist.
        assert_eq!(
            resolve(z, dt("2027-03-28T02:30")),
            Err(Gap {
                suggestion: dt("2027-03-28T03:30")
            })
        );
        // Fall back 2027-10-31 03:00 → 02:00: 02:30 happens twice; the earlier (UTC+2) wins.
        assert_eq!(
            resolve(z, dt("2027-10-31T02:30")).unwrap().to_rfc3339(),
            "2027-10-31T00:30:00+00:00"
        );
    }

    #[test]
    fn start_of_day_skips_a_midnight_gap() {
        // Santiago moved clocks forward at 00:00 on 2022-09-11.
        let t = start_of_day(
            Tz::America__Santiago,
            NaiveDate::from_ymd_opt(2022, 9, 11).unwrap(),
        );
        assert_eq!(t.to_rfc3339(), "2022-09-11T04:00:00+00:00");
        let t = start_of_day(
            Tz::Europe__Zurich,
            NaiveDate::from_ymd_opt(2027, 1, 2).unwrap(),
        );
        assert_eq!(t.to_rfc3339(), "2027-01-01T23:00:00+00:00");
    }
}
