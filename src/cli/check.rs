//! `mechcal check`: every problem of the deadline repository, the registry
//! and the subscribers file, with its place, as text or JSON. The report is
//! the command's output, so this prints it itself (text diagnostics to
//! stderr, the summary line to stdout; JSON all to stdout).

use std::path::Path;

use chrono::{DateTime, Utc};

use super::{resolve_config, Format};
use crate::exit::Exit;
use crate::load::diagnostic::{self, Diagnostic, JsonDiagnostic};
use crate::load::subscribers::Addresses;
use crate::load::{count, LoadError};
use crate::model::catalog::Catalog;

/// Runs `check` and returns its exit code: 0 valid (warnings allowed), 1
/// errors in the data or the subscribers file, 2 no usable config or
/// directory.
pub fn run(
    config: Option<&Path>,
    dir: Option<&Path>,
    format: Format,
    addresses: Addresses,
    now: DateTime<Utc>,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) -> Exit {
    let config = match resolve_config(config, dir) {
        Ok(c) => c,
        Err(e) => {
            usage_failure(e.diagnostics(), format, out, err);
            return e.exit();
        }
    };
    // A DKIM key the service could not sign with is a config error here,
    // not a surprise at the first mail.
    if let Some(dkim) = &config.mail.dkim {
        if let Err(e) = crate::reminders::transport::dkim::Dkim::load(dkim) {
            let (file, message) = match &e {
                crate::reminders::transport::dkim::DkimError::Read { path, .. }
                | crate::reminders::transport::dkim::DkimError::Key { path, .. } => {
                    (path.clone(), e.to_string())
                }
            };
            let d = Diagnostic::file_error(&file, message)
                .with_help("fix `[mail.dkim] key_file` (or the credential `dkim-key`), or remove `[mail.dkim]` if the relay signs");
            usage_failure(&[d], format, out, err);
            return Exit::Usage;
        }
    }
    let root = config.data.deadlines.clone();
    let loaded = crate::load::everything(config, Some(addresses), crate::load::Keys::strict(now));
    let report = match &loaded {
        Ok(inputs) => Report {
            valid: Some((&inputs.catalog, inputs.subscribers.as_ref().map(Vec::len))),
            diagnostics: &inputs.warnings,
            files: inputs.catalog.files(),
        },
        Err(
            LoadError::Data { diagnostics, files } | LoadError::Subscribers { diagnostics, files },
        ) => Report {
            valid: None,
            diagnostics,
            files: *files,
        },
        Err(e) => {
            usage_failure(e.diagnostics(), format, out, err);
            return e.exit();
        }
    };
    report.print(&root, format, now, out, err)
}

/// What `check` found.
struct Report<'a> {
    /// The catalog and the number of subscribers (when a file is
    /// configured), if everything is valid.
    valid: Option<(&'a Catalog, Option<usize>)>,
    diagnostics: &'a [Diagnostic],
    /// How many deadline files were read.
    files: usize,
}

impl Report<'_> {
    fn errors(&self) -> usize {
        self.diagnostics.iter().filter(|d| d.is_error()).count()
    }

    fn print(
        &self,
        root: &Path,
        format: Format,
        now: DateTime<Utc>,
        out: &mut dyn std::io::Write,
        err: &mut dyn std::io::Write,
    ) -> Exit {
        let code = if self.valid.is_some() {
            Exit::Ok
        } else {
            Exit::Invalid
        };
        let warnings = self.diagnostics.len() - self.errors();
        match format {
            Format::Json => {
                let summary = self.valid.map(|(c, subscribers)| {
                    serde_json::json!({
                        "deadlines": c.deadlines().len(),
                        "entries": c.entries(),
                        "files": c.files(),
                        "upcoming": c.upcoming(now),
                        "subscribers": subscribers,
                    })
                });
                let report = serde_json::json!({
                    "ok": code == Exit::Ok,
                    "errors": self.errors(),
                    "warnings": warnings,
                    "diagnostics": self.diagnostics.iter().map(JsonDiagnostic::from).collect::<Vec<_>>(),
                    "summary": summary,
                });
                let _ = writeln!(out, "{report}");
            }
            Format::Human => {
                let _ = err.write_all(diagnostic::render_human(self.diagnostics).as_bytes());
                let warnings = match warnings {
                    0 => String::new(),
                    n => format!(", {}", count(n, "warning")),
                };
                match self.valid {
                    Some((c, subscribers)) => {
                        let subs = subscribers
                            .map(|n| format!("; {}", count(n, "subscriber")))
                            .unwrap_or_default();
                        // Entries, as staff wrote them; their dates (each
                        // milestone and year) when there are more.
                        let (entries, items) = (c.entries(), c.deadlines().len());
                        let dates = if items == entries {
                            String::from(",")
                        } else {
                            format!(": {},", count(items, "date"))
                        };
                        let _ = writeln!(
                            out,
                            "ok: {} in {}{dates} {} upcoming{subs}{warnings}",
                            count(entries, "deadline"),
                            count(c.files(), "file"),
                            c.upcoming(now),
                        );
                    }
                    None => {
                        let _ = writeln!(
                            err,
                            "error: {} in {} ({} read){warnings}",
                            count(self.errors(), "error"),
                            root.display(),
                            count(self.files, "deadline file"),
                        );
                    }
                }
            }
        }
        code
    }
}

/// A config or directory that cannot be used: its diagnostics, as text or
/// in a JSON report with no summary.
fn usage_failure(
    diags: &[Diagnostic],
    format: Format,
    out: &mut dyn std::io::Write,
    err: &mut dyn std::io::Write,
) {
    match format {
        Format::Human => {
            let _ = err.write_all(diagnostic::render_human(diags).as_bytes());
        }
        Format::Json => {
            let report = serde_json::json!({
                "ok": false,
                "diagnostics": diags.iter().map(JsonDiagnostic::from).collect::<Vec<_>>(),
                "summary": null,
            });
            let _ = writeln!(out, "{report}");
        }
    }
}
