//! Validation of a deadline's submission requirements: `word_limit`,
//! `page_limit`, `languages`, `submit_via`, `subject_line`, `public`,
//! `verified` and `source`, all optional.

use chrono::NaiveDate;
use toml::de::DeValue;

use crate::load::tables::{self, Sink, Table, Value};
use crate::load::text::single_line;
use crate::load::{language, suggest, values};
use crate::model::requirements::{Public, Requirements, SubmitVia};

/// The largest limit accepted (a typo guard: no call asks for more).
const MAX_LIMIT: i64 = 1_000_000;

/// The requirements of table `t`, or `None` when one of them is wrong
/// (every problem reported into `sink`).
pub fn check(sink: &mut Sink<'_>, t: &Table<'_, '_>) -> Option<Requirements> {
    let mut ok = true;
    let mut r = Requirements::default();
    for (key, slot) in [
        ("word_limit", &mut r.word_limit),
        ("page_limit", &mut r.page_limit),
    ] {
        if let Some(v) = t.get(key) {
            match limit(sink, key, v) {
                Some(n) => *slot = Some(n),
                None => ok = false,
            }
        }
    }
    if let Some(v) = t.get("languages") {
        match languages(sink, v) {
            Some(l) => r.languages = l,
            None => ok = false,
        }
    }
    if let Some(v) = t.get("submit_via") {
        match submit_via(sink, v) {
            Some(s) => r.submit_via = s,
            None => ok = false,
        }
    }
    if let Some(v) = t.optional_str(sink, "subject_line") {
        match single_line(sink, "subject_line", v, true) {
            Some(s) => r.subject_line = Some(s),
            None => ok = false,
        }
    }
    if let Some(v) = t.optional_str(sink, "public") {
        match Public::parse(v.get_ref()) {
            Some(p) => r.public = Some(p),
            None => {
                let help = suggest::did_you_mean(v.get_ref(), Public::NAMES).unwrap_or_else(|| {
                    format!("`public` is one of {}", tables::list(Public::NAMES))
                });
                sink.error(
                    v.span(),
                    format!("unknown `public` value `{}`", v.get_ref()),
                )
                .help = Some(help);
                ok = false;
            }
        }
    }
    if let Some(v) = t.get("verified") {
        match date(sink, "verified", v) {
            Some(d) => r.verified = Some(d),
            None => ok = false,
        }
    }
    if let Some(v) = t.optional_str(sink, "source") {
        match values::check_http_url(sink, "source", &v) {
            Some(u) => r.source = Some(u),
            None => ok = false,
        }
    }
    // (A value of the wrong type was reported by `optional_str`; the
    // caller counts every error.)
    ok.then_some(r)
}

fn limit(sink: &mut Sink<'_>, key: &str, v: &Value<'_>) -> Option<u32> {
    let n = tables::as_integer(sink, &format!("`{key}`"), v)?;
    if n <= 0 {
        sink.error(v.span(), format!("`{key} = {n}` allows nothing"))
            .help = Some(format!(
            "write the limit the call sets, or remove `{key}` if it sets none"
        ));
        return None;
    }
    if n > MAX_LIMIT {
        sink.error(v.span(), format!("`{key} = {n}` is out of range"))
            .help = Some(format!("limits are 1 to {MAX_LIMIT}"));
        return None;
    }
    u32::try_from(n).ok()
}

/// A string or an array of strings, as `(value, span)` pairs.
fn strings(
    sink: &mut Sink<'_>,
    key: &str,
    v: &Value<'_>,
    example: &str,
) -> Option<Vec<(String, std::ops::Range<usize>)>> {
    if let DeValue::String(s) = v.get_ref() {
        return Some(vec![(s.to_string(), v.span())]);
    }
    let items = tables::as_array(sink, key, v, example)?;
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for item in items {
        match item.get_ref() {
            DeValue::String(s) => out.push((s.to_string(), item.span())),
            other => {
                sink.error(
                    item.span(),
                    format!(
                        "each of `{key}` must be a string, found {}",
                        tables::type_name(other)
                    ),
                );
                ok = false;
            }
        }
    }
    if out.is_empty() && ok {
        sink.error(v.span(), format!("`{key}` is empty")).help = Some(format!(
            "list at least one, `{key} = {example}`, or remove the key"
        ));
        return None;
    }
    ok.then_some(out)
}

fn languages(sink: &mut Sink<'_>, v: &Value<'_>) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut ok = true;
    for (code, span) in strings(sink, "languages", v, "[\"en\", \"fr\", \"es\"]")? {
        if !language::is_code(&code) {
            sink.error(span, format!("`{code}` is not an ISO 639-1 language code"))
                .help = Some(language::help(&code));
            ok = false;
        } else if out.contains(&code) {
            sink.error(span, format!("`{code}` is listed twice in `languages`"))
                .help = Some("remove the second one".into());
            ok = false;
        } else {
            out.push(code);
        }
    }
    ok.then_some(out)
}

fn submit_via(sink: &mut Sink<'_>, v: &Value<'_>) -> Option<Vec<SubmitVia>> {
    let mut out = Vec::new();
    let mut ok = true;
    for (name, span) in strings(sink, "submit_via", v, "\"email\"")? {
        match SubmitVia::parse(&name) {
            Some(s) if out.contains(&s) => {
                sink.error(span, format!("`{name}` is listed twice in `submit_via`"))
                    .help = Some("remove the second one".into());
                ok = false;
            }
            Some(s) => out.push(s),
            None => {
                let help = suggest::did_you_mean(&name, SubmitVia::NAMES).unwrap_or_else(|| {
                    format!(
                        "`submit_via` is one or more of {}",
                        tables::list(SubmitVia::NAMES)
                    )
                });
                sink.error(span, format!("unknown `submit_via` value `{name}`"))
                    .help = Some(help);
                ok = false;
            }
        }
    }
    ok.then_some(out)
}

/// A TOML date (`verified = 2026-11-30`), without a time.
pub(crate) fn date(sink: &mut Sink<'_>, key: &str, v: &Value<'_>) -> Option<NaiveDate> {
    let example = format!("write the day without quotes: `{key} = 2026-11-30`");
    let DeValue::Datetime(dt) = v.get_ref() else {
        sink.error(
            v.span(),
            format!(
                "`{key}` must be a date, found {}",
                tables::type_name(v.get_ref())
            ),
        )
        .help = Some(example);
        return None;
    };
    let day = match (dt.date, dt.time) {
        (Some(d), None) => {
            NaiveDate::from_ymd_opt(i32::from(d.year), u32::from(d.month), u32::from(d.day))
        }
        _ => None,
    };
    if day.is_none() {
        sink.error(v.span(), format!("`{key}` must be a date without a time"))
            .help = Some(format!("write the day only: `{key} = 2026-11-30`"));
    }
    day
}
