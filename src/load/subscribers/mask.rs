//! What diagnostics, logs and staff mail may show of subscribers: masked
//! addresses (`a***@example.org`), names and key file names, and
//! shortened OpenPGP fingerprints, in diagnostics. Pure; the masking of
//! plain text is `model::mask`'s.

use crate::load::diagnostic::Diagnostic;
pub use crate::model::mask::{mask, mask_addresses, mask_fingerprints};

/// Masks every address a diagnostic quotes: in its message and its excerpt
/// of the line (helps quote only mechcal's own words, places and registry
/// names). The caret keeps pointing at the same value.
pub fn mask_diagnostic(d: &mut Diagnostic) {
    d.message = mask_fingerprints(&mask_addresses(&d.message));
    d.help = d.help.as_deref().map(mask_fingerprints);
    if let Some(loc) = d.location.as_mut() {
        let caret = loc.start.column.saturating_sub(loc.skipped + 1);
        let before: String = loc.line_text.chars().take(caret).collect();
        let after: String = loc.line_text.chars().skip(caret).collect();
        let before_masked = mask_addresses(&before);
        // Masking what precedes the caret shortens it: the caret moves left
        // by as much (the column shown in `path:line:column` stays true).
        loc.skipped +=
            before.chars().count() - before_masked.chars().count().min(before.chars().count());
        loc.line_text = before_masked + &mask_addresses(&after);
        loc.line_text = mask_personal_value(&loc.line_text);
    }
}

/// A `name = "…"` or `email = "…"` line with its value masked whole (a name,
/// or an address written with a display name, is personal too).
fn mask_personal_value(line: &str) -> String {
    let key = line.trim_start();
    let personal = ["name", "email", "openpgp_key"].iter().any(|k| {
        key.strip_prefix(k)
            .is_some_and(|r| r.trim_start().starts_with('='))
    });
    let Some(open) = line.find('"').filter(|_| personal) else {
        return line.to_string();
    };
    let rest = &line[open + 1..];
    let (value, tail) = rest.split_once('"').unwrap_or((rest, ""));
    let masked = match value.rsplit_once('@') {
        Some(_) => mask(
            value
                .rsplit(['<', ' '])
                .next()
                .unwrap_or(value)
                .trim_end_matches('>'),
        ),
        None => format!("{}***", value.chars().next().unwrap_or('*')),
    };
    let close = if rest.contains('"') { "\"" } else { "" };
    format!("{}\"{masked}{close}{tail}", &line[..open])
}
