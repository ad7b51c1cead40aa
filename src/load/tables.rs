//! Reading TOML with positions, collecting every problem instead of stopping at
//! the first (serde's derive stops at the first error and forgets key spans).
//!
//! The config, the registry and the deadline files are all read through these
//! helpers, so their diagnostics look alike: unknown keys (with "did you
//! mean"), missing required keys (pointing at the table header), and wrong
//! types (pointing at the value).

use std::ops::Range;

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::load::diagnostic::{Diagnostic, SourceFile};
use crate::load::suggest;

pub type Span = Range<usize>;
pub type Value<'i> = Spanned<DeValue<'i>>;

/// Collects the diagnostics of one file.
pub struct Sink<'s> {
    pub file: &'s SourceFile,
    pub diags: Vec<Diagnostic>,
}

impl<'s> Sink<'s> {
    pub fn new(file: &'s SourceFile) -> Self {
        Sink {
            file,
            diags: Vec::new(),
        }
    }

    /// Records an error and returns it so that a `help` can be added.
    pub fn error(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        let d = self.file.error(span, message);
        self.diags.push(d);
        self.diags.last_mut().expect("just pushed")
    }

    /// Records a warning (the data stays valid) and returns it so that a
    /// `help` can be added.
    pub fn warning(&mut self, span: Span, message: impl Into<String>) -> &mut Diagnostic {
        let d = self.file.error(span, message).warning();
        self.diags.push(d);
        self.diags.last_mut().expect("just pushed")
    }

    pub fn has_errors(&self) -> bool {
        self.diags.iter().any(Diagnostic::is_error)
    }
}

/// Parses a whole document. Syntax errors are all reported (the parser
/// recovers), and then `None` is returned: a file that does not parse is not
/// validated further, because a half-parsed table only yields confusing
/// follow-up errors ("missing `title`" for a title whose line was broken).
pub fn parse_document<'i>(file: &'i SourceFile, sink: &mut Sink<'_>) -> Option<DeTable<'i>> {
    // A file nested deeper, or holding more keys, than any staff file is
    // refused before the parser sees it: recovering from millions of
    // unclosed tables took a 12 MB file to a gigabyte of memory, and so
    // did a million keys.
    match too_big(file.text()) {
        Some((at, Shape::Deep)) => {
            sink.error(
                at..at + 1,
                format!("invalid TOML: nested more than {MAX_NESTING} levels deep"),
            )
            .help =
                Some("deadline files need no nesting this deep; is this a deadline file?".into());
            return None;
        }
        Some((at, Shape::Items)) => {
            sink.error(
                at..at + 1,
                format!("more than {MAX_ITEMS} keys and tables in one file"),
            )
            .help = Some("split it into several files (a deadline has about ten keys)".into());
            return None;
        }
        None => {}
    }
    let (table, errors) = DeTable::parse_recoverable(file.text());
    if errors.is_empty() {
        return Some(table.into_inner());
    }
    for e in errors {
        let span = e.span().unwrap_or(0..0);
        let message = e.message().trim_end_matches('.').to_string();
        let d = sink.error(span, format!("invalid TOML: {message}"));
        if message.contains("recursion") {
            d.help = Some("deadline files need no nesting this deep".into());
        }
    }
    None
}

/// The deepest nesting of `[` and `{` a file may have (deadline files use
/// three or four levels).
pub const MAX_NESTING: usize = 32;

/// The most items (keys, tables, arrays: `=`, `[` and `{` outside strings
/// and comments) a file may have: ten thousand deadlines of ten keys (the
/// parser takes about 700 bytes an item).
pub const MAX_ITEMS: usize = 100_000;

/// What makes a file too big to parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Nested more than [`MAX_NESTING`] deep.
    Deep,
    /// More than [`MAX_ITEMS`] keys and tables.
    Items,
}

/// Where `text` first nests arrays and inline tables more than
/// [`MAX_NESTING`] deep, or has more than [`MAX_ITEMS`] keys (brackets and
/// `=` inside strings and comments aside), if it does. One pass, no
/// allocation.
pub fn too_big(text: &str) -> Option<(usize, Shape)> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut items = 0usize;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            q @ (b'"' | b'\'') => {
                let triple = bytes[i..].starts_with(&[q, q, q]);
                i += if triple { 3 } else { 1 };
                while i < bytes.len() {
                    if q == b'"' && bytes[i] == b'\\' {
                        i += 2;
                        continue;
                    }
                    if triple && bytes[i..].starts_with(&[q, q, q]) {
                        i += 3;
                        // A closing run may hold up to two more quotes.
                        while i < bytes.len() && bytes[i] == q {
                            i += 1;
                        }
                        break;
                    }
                    if !triple && (bytes[i] == q || bytes[i] == b'\n') {
                        i += 1;
                        break;
                    }
                    i += 1;
                }
                continue;
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_NESTING {
                    return Some((i, Shape::Deep));
                }
                // A table, an array or a header: an item to the parser too.
                items += 1;
                if items > MAX_ITEMS {
                    return Some((i, Shape::Items));
                }
            }
            b'=' => {
                items += 1;
                if items > MAX_ITEMS {
                    return Some((i, Shape::Items));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
        i += 1;
    }
    None
}

/// A table being read: knows where it is (for "missing key" errors) and what
/// to call it in messages.
pub struct Table<'a, 'i> {
    pub table: &'a DeTable<'i>,
    /// Where the table starts: its header (`[[deadline]]`), or its key.
    pub span: Span,
    /// How messages name it: "deadline", "[calendar]", "mechanism `cerd`".
    pub what: String,
}

impl<'a, 'i> Table<'a, 'i> {
    pub fn new(table: &'a DeTable<'i>, span: Span, what: impl Into<String>) -> Self {
        Table {
            table,
            span,
            what: what.into(),
        }
    }

    /// Reports every key that is not in `known`, with the nearest known key.
    pub fn check_keys(&self, sink: &mut Sink<'_>, known: &[&str]) {
        for key in self.table.keys() {
            let name = key.get_ref().as_ref();
            if known.contains(&name) {
                continue;
            }
            let d = sink.error(key.span(), format!("unknown key `{name}` in {}", self.what));
            d.help = Some(match suggest::nearest(name, known.iter().copied()) {
                Some(near) => format!("did you mean `{near}`?"),
                None => format!(
                    "the keys of {} are: {}",
                    self.what,
                    list(known.iter().copied())
                ),
            });
        }
    }

    pub fn get(&self, key: &str) -> Option<&'a Value<'i>> {
        self.table.get(key)
    }

    /// The span of a key (not its value), for errors about the key itself.
    pub fn key_span(&self, key: &str) -> Option<Span> {
        self.table.get_key_value(key).map(|(k, _)| k.span())
    }

    /// A required key: reports it missing at the table's header.
    pub fn required(&self, sink: &mut Sink<'_>, key: &str, example: &str) -> Option<&'a Value<'i>> {
        let value = self.get(key);
        if value.is_none() {
            // A misspelt key is reported as unknown too; say how they relate.
            let near = self.table.keys().find(|k| {
                let k = k.get_ref().as_ref();
                k != key && strsim::damerau_levenshtein(k, key) <= 2
            });
            let help = match near {
                Some(k) => format!(
                    "`{}` on line {} may be a misspelling of `{key}`",
                    k.get_ref(),
                    sink.file.position(k.span().start).line
                ),
                None => format!("add `{key} = {example}`"),
            };
            sink.error(
                self.span.clone(),
                format!("{} is missing required key `{key}`", self.what),
            )
            .help = Some(help);
        }
        value
    }

    pub fn required_str(
        &self,
        sink: &mut Sink<'_>,
        key: &str,
        example: &str,
    ) -> Option<Spanned<String>> {
        self.required(sink, key, example)
            .and_then(|v| string_named(sink, || format!("`{key}`"), v))
    }

    pub fn optional_str(&self, sink: &mut Sink<'_>, key: &str) -> Option<Spanned<String>> {
        self.get(key)
            .and_then(|v| string_named(sink, || format!("`{key}`"), v))
    }

    /// An optional table-valued key (`[calendar]`), as a [`Table`].
    pub fn optional_table(&self, sink: &mut Sink<'_>, key: &str) -> Option<Table<'a, 'i>> {
        let value = self.get(key)?;
        match value.get_ref() {
            DeValue::Table(t) => {
                // `[data.git]` inside `[data]`; the root's own tables by name.
                let name = match self
                    .what
                    .strip_prefix("`[")
                    .and_then(|w| w.strip_suffix("]`"))
                {
                    Some(parent) => format!("`[{parent}.{key}]`"),
                    None => format!("`[{key}]`"),
                };
                Some(Table::new(
                    t,
                    self.key_span(key).unwrap_or(value.span()),
                    name,
                ))
            }
            other => {
                sink.error(
                    value.span(),
                    format!("`{key}` must be a table, found {}", type_name(other)),
                )
                .help = Some(format!("write it as a section: `[{key}]`"));
                None
            }
        }
    }
}

/// A string value, normalised: CRLF and lone CR become LF (multi-line
/// strings keep the line endings of the file they were written in).
/// `what` names the value in messages: "`title`", "each of `topics`".
pub fn as_str(sink: &mut Sink<'_>, what: &str, value: &Value<'_>) -> Option<Spanned<String>> {
    string_named(sink, || what.to_string(), value)
}

/// [`as_str`] with the value's name made only for an error (thousands of
/// strings are read per load, and nearly all are strings).
pub fn string_named(
    sink: &mut Sink<'_>,
    what: impl FnOnce() -> String,
    value: &Value<'_>,
) -> Option<Spanned<String>> {
    match value.get_ref() {
        DeValue::String(s) if !s.contains('\r') => Some(Spanned::new(value.span(), s.to_string())),
        DeValue::String(s) => Some(Spanned::new(
            value.span(),
            s.replace("\r\n", "\n").replace('\r', "\n"),
        )),
        other => {
            sink.error(
                value.span(),
                format!("{} must be a string, found {}", what(), type_name(other)),
            );
            None
        }
    }
}

/// The elements of an array value, or an error if it is not an array.
pub fn as_array<'a, 'i>(
    sink: &mut Sink<'_>,
    key: &str,
    value: &'a Value<'i>,
    example: &str,
) -> Option<&'a [Value<'i>]> {
    match value.get_ref() {
        DeValue::Array(a) => Some(&a[..]),
        other => {
            let d = sink.error(
                value.span(),
                format!("`{key}` must be an array, found {}", type_name(other)),
            );
            d.help = Some(format!("write `{key} = {example}`"));
            None
        }
    }
}

/// An integer value, or an error naming what was found.
pub fn as_integer(sink: &mut Sink<'_>, what: &str, value: &Value<'_>) -> Option<i64> {
    match value.get_ref() {
        DeValue::Integer(i) => match i64::from_str_radix(&i.as_str().replace('_', ""), i.radix()) {
            Ok(n) => Some(n),
            Err(_) => {
                sink.error(value.span(), format!("{what} is out of range"));
                None
            }
        },
        other => {
            sink.error(
                value.span(),
                format!("{what} must be an integer, found {}", type_name(other)),
            );
            None
        }
    }
}

/// A boolean value, or an error naming what was found.
pub fn as_bool(sink: &mut Sink<'_>, what: &str, value: &Value<'_>) -> Option<bool> {
    match value.get_ref() {
        DeValue::Boolean(b) => Some(*b),
        other => {
            sink.error(
                value.span(),
                format!("{what} must be true or false, found {}", type_name(other)),
            );
            None
        }
    }
}

/// How messages name a TOML type.
pub fn type_name(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(d) => match (d.date, d.time, d.offset) {
            (Some(_), None, _) => "a date",
            (None, Some(_), _) => "a time of day",
            (Some(_), Some(_), None) => "a local date-time",
            _ => "a date-time",
        },
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

/// `` `a`, `b`, `c` `` for help lines.
pub fn list<'a>(items: impl IntoIterator<Item = &'a str>) -> String {
    items
        .into_iter()
        .map(|s| format!("`{s}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether `s` is a slug: `[a-z0-9-]+`.
pub fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A slug made from `s` for a help line (`CERD_2024` → `cerd-2024`).
pub fn slugify(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        for ok in ["cerd", "upr-4", "a", "2024"] {
            assert!(is_slug(ok), "{ok}");
        }
        for bad in ["", "CERD", "a_b", "a b", "é", "a.b"] {
            assert!(!is_slug(bad), "{bad}");
        }
        assert_eq!(slugify("CERD_2024 report!"), "cerd-2024-report");
        assert_eq!(slugify("Права"), "");
    }
    /// Nesting and keys are counted outside strings and comments only; the
    /// bomb of unclosed inline tables is caught where it passes the limit.
    #[test]
    fn nesting_depth() {
        let deep = |n: usize| format!("x = {}", "[".repeat(n));
        assert_eq!(too_big(&deep(MAX_NESTING)), None);
        assert_eq!(
            too_big(&deep(MAX_NESTING + 1)),
            Some((4 + MAX_NESTING, Shape::Deep))
        );
        let bomb = format!("x = {}", "{a=".repeat(4_000_000));
        assert_eq!(too_big(&bomb), Some((4 + 3 * MAX_NESTING, Shape::Deep)));
        let keys = |n: usize| (0..n).map(|i| format!("k{i} = 1\n")).collect::<String>();
        assert_eq!(too_big(&keys(MAX_ITEMS)), None);
        assert_eq!(
            too_big(&keys(MAX_ITEMS + 1)).map(|(_, s)| s),
            Some(Shape::Items)
        );
        let headers = "[[deadline]]\n".repeat(MAX_ITEMS);
        assert_eq!(too_big(&headers).map(|(_, s)| s), Some(Shape::Items));
        let open = "[".repeat(100);
        for fine in [
            format!("a = \"{open}\""),
            format!("a = '{open}'"),
            format!("a = \"\"\"\n{open}\n\"\"\""),
            format!("a = '''{open}'''"),
            format!("# {open}\nb = 1"),
            format!("a = \"{}\"", "=".repeat(MAX_ITEMS + 1)),
            format!("a = \"\\\"{open}\""),
            "[[deadline]]\nid = \"x\"\n[[deadline.milestone]]\nkind = \"a\"\n".repeat(1000),
        ] {
            assert_eq!(too_big(&fine), None, "{fine:.60}");
        }
    }
}
