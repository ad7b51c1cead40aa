//! What `mechcal watch` prints: a table for staff, or JSON for scripts
//! (pure: the report in, text out).

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::pass::Report;

/// The table: one line per entry and URL, then each problem with its
/// excerpt, then a summary line.
pub fn human(report: &Report) -> String {
    let day =
        |t: Option<DateTime<Utc>>| t.map_or("-".to_string(), |t| t.format("%Y-%m-%d").to_string());
    let mut rows: Vec<[String; 5]> = vec![[
        "ID".into(),
        "URL".into(),
        "STATUS".into(),
        "CHANGED".into(),
        "PROBLEM".into(),
    ]];
    for r in &report.rows {
        let id = match r.field {
            super::Field::Url => r.entry.clone(),
            super::Field::Source => format!("{} (source)", r.entry),
        };
        rows.push([
            id,
            r.url.clone(),
            r.status.clone(),
            day(r.changed_at),
            r.problem
                .as_ref()
                .map_or("-".into(), |p| p.kind.as_str().to_string()),
        ]);
    }
    let widths: Vec<usize> = (0..4)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        for (c, w) in widths.iter().enumerate() {
            let _ = write!(out, "{:<w$}  ", r[c]);
        }
        out.push_str(&r[4]);
        out.push('\n');
    }
    for r in &report.rows {
        let Some(p) = &r.problem else { continue };
        let _ = write!(
            out,
            "\n{}: {} {}\n  {}\n",
            p.kind.as_str(),
            r.entry,
            r.url,
            p.message
        );
        if let Some(excerpt) = &p.excerpt {
            for line in excerpt.lines() {
                let _ = writeln!(out, "    {line}");
            }
        }
    }
    let _ = write!(
        out,
        "\n{} checked, {} with a problem",
        count(report.checked, "URL"),
        count(report.problems(), "entry link"),
    );
    if report.left > 0 {
        let _ = write!(out, ", {} left for the next pass", report.left);
    }
    if report.reread > 0 {
        let _ = write!(
            out,
            ", {} read again by the current text rules (not a change)",
            count(report.reread, "page")
        );
    }
    if report.mailed > 0 {
        let _ = write!(
            out,
            "; {} mailed to staff",
            count(report.mailed, "new problem")
        );
    }
    out.push('\n');
    if let Some(e) = &report.mail_error {
        let _ = writeln!(
            out,
            "warning: the staff mail did not go out: {e}; it is tried again at the next pass"
        );
    }
    out
}

fn count(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// The JSON report (`schema` 1): the rows with their problem, and counts.
pub fn json(report: &Report) -> String {
    let time =
        |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let rows: Vec<serde_json::Value> = report
        .rows
        .iter()
        .map(|r| {
            serde_json::json!({
                "id": r.entry,
                "field": r.field.as_str(),
                "url": r.url,
                "status": r.status,
                "final_url": r.final_url,
                "error": r.error,
                "answered_at": time(r.answered_at),
                "changed_at": time(r.changed_at),
                "problem": r.problem.as_ref().map(|p| serde_json::json!({
                    "kind": p.kind.as_str(),
                    "message": p.message,
                    "excerpt": p.excerpt,
                })),
            })
        })
        .collect();
    let value = serde_json::json!({
        "schema": 1,
        "summary": {
            "checked": report.checked,
            "left": report.left,
            "reread": report.reread,
            "problems": report.problems(),
            "mailed": report.mailed,
            "mail_error": report.mail_error,
        },
        "urls": rows,
    });
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}
