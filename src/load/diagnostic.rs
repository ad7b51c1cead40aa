//! Diagnostics: what is wrong, where (`path:line:column`), and how to fix it.
//!
//! Every problem found in a config, registry or deadline file becomes a
//! [`Diagnostic`]. Positions are computed once, when the diagnostic is made, from
//! a [`SourceFile`], so a diagnostic owns everything it needs to be rendered
//! later (as text for people, as JSON for CI annotations).
//!
//! Lines and columns are 1-based; a column counts Unicode characters (not
//! bytes), which is what editors show. A UTF-8 byte-order mark is not counted.
//!
//! Diagnostics reach the terminal, CI logs, the journal, `/healthz` and staff
//! mail, so what they quote is bounded and inert: a diagnostic keeps at most
//! [`MAX_EXCERPT`] characters of a line and shows at most 100 of them; a
//! message or help is cut at [`MAX_MESSAGE`] characters; control characters
//! and bidirectional controls are shown escaped, so a value cannot forge
//! lines, colour a terminal or reorder what surrounds it.

use std::borrow::Cow;
use std::fmt::{self, Write as _};
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// How bad a diagnostic is. Errors make the data invalid; warnings do not.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// A 1-based line and column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

/// The most characters of a line a diagnostic keeps (around its column).
pub const MAX_EXCERPT: usize = 200;
/// The most characters of a message or help shown.
pub const MAX_MESSAGE: usize = 500;

/// Where a diagnostic points: a range of one file, plus an excerpt of its
/// first line so that it can be shown with a caret underline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub start: Position,
    pub end: Position,
    /// At most [`MAX_EXCERPT`] characters of the first line of the range,
    /// without its line ending.
    pub line_text: String,
    /// How many characters of the line precede `line_text`.
    pub skipped: usize,
}

/// One problem, with enough context to be fixed without opening another tool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// The file as the user named it (e.g. `deadlines/2024/cerd.toml`).
    pub file: PathBuf,
    /// `None` when the problem concerns a whole file or directory (missing,
    /// unreadable).
    pub location: Option<Box<Location>>,
    pub message: String,
    pub help: Option<String>,
}

impl Diagnostic {
    /// An error about a whole file, with no position inside it.
    pub fn file_error(file: &Path, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            file: file.to_path_buf(),
            location: None,
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn warning(mut self) -> Self {
        self.severity = Severity::Warning;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// `path:line:column`, or just `path` for whole-file diagnostics.
    pub fn place(&self) -> String {
        match &self.location {
            Some(loc) => format!(
                "{}:{}:{}",
                self.file.display(),
                loc.start.line,
                loc.start.column
            ),
            None => self.file.display().to_string(),
        }
    }

    /// Sort key: by file, then position; whole-file diagnostics first.
    fn sort_key(&self) -> (&Path, Option<Position>) {
        (&self.file, self.location.as_ref().map(|l| l.start))
    }
}

/// Sorts diagnostics by file and position, keeping the order of equal ones.
pub fn sort(diags: &mut [Diagnostic]) {
    diags.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
}

impl fmt::Display for Diagnostic {
    /// Renders like a compiler:
    ///
    /// ```text
    /// deadlines/a.toml:5:11: error: unknown topic `womens`
    ///   5 | topics = ["womens"]
    ///     |           ^^^^^^^^
    ///   help: did you mean `women`?
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}: {}: {}",
            escape(&self.place(), usize::MAX),
            self.severity,
            escape(&self.message, MAX_MESSAGE)
        )?;
        if let Some(loc) = &self.location {
            let number = loc.start.line.to_string();
            let gutter = " ".repeat(number.len());
            let text: String = loc.line_text.chars().map(inert).collect();
            // Very long lines (minified or generated files) are cut around the caret.
            let column = loc.start.column.saturating_sub(loc.skipped).max(1);
            let (shown, skipped) = window(&text, column);
            writeln!(f, "  {number} | {shown}")?;
            let start = column - 1 - skipped;
            let width = if loc.end.line == loc.start.line {
                loc.end.column.saturating_sub(loc.start.column).max(1)
            } else {
                shown.chars().count().saturating_sub(start).max(1)
            };
            let width = width.min(shown.chars().count().saturating_sub(start).max(1));
            writeln!(f, "  {gutter} | {}{}", " ".repeat(start), "^".repeat(width))?;
        }
        if let Some(help) = &self.help {
            writeln!(f, "  help: {}", escape(help, MAX_MESSAGE))?;
        }
        Ok(())
    }
}

/// Whether `c` is shown escaped: C0/C1 controls, the bidirectional
/// embeddings, overrides, isolates and marks that reorder displayed text,
/// and zero-width characters.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{202a}'..='\u{202e}'
                | '\u{2066}'..='\u{2069}'
                | '\u{200b}'..='\u{200f}'
                | '\u{61c}'
                | '\u{2060}'
                | '\u{feff}'
        )
}

/// `text` with unsafe characters written `\u{1b}`, cut after `max` characters.
pub fn escape(text: &str, max: usize) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_char) && text.chars().nth(max).is_none() {
        return Cow::Borrowed(text);
    }
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        if is_unsafe_char(c) {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One character of a quoted line as shown: tabs become a space and unsafe
/// characters one visible replacement, so the caret stays aligned.
fn inert(c: char) -> char {
    match c {
        '\t' => ' ',
        '\0'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
        '\u{7f}' => '\u{2421}',
        c if is_unsafe_char(c) => '\u{fffd}',
        c => c,
    }
}

/// The part of a line shown in a snippet: at most 100 characters, around `column`.
/// Returns the shown text and how many characters were skipped at its start.
fn window(text: &str, column: usize) -> (String, usize) {
    const MAX: usize = 100;
    let len = text.chars().count();
    if len <= MAX {
        return (text.to_string(), 0);
    }
    let skip = column.saturating_sub(MAX / 2).min(len - MAX);
    (text.chars().skip(skip).take(MAX).collect(), skip)
}

/// Renders diagnostics for people, one block each.
pub fn render_human(diags: &[Diagnostic]) -> String {
    let mut out = String::new();
    for d in diags {
        let _ = write!(out, "{d}");
    }
    out
}

/// The JSON form of one diagnostic (`mechcal check --format json`).
#[derive(Serialize)]
pub struct JsonDiagnostic<'a> {
    pub file: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub end_line: Option<usize>,
    pub end_column: Option<usize>,
    pub severity: Severity,
    pub message: Cow<'a, str>,
    pub help: Option<Cow<'a, str>>,
}

impl<'a> From<&'a Diagnostic> for JsonDiagnostic<'a> {
    fn from(d: &'a Diagnostic) -> Self {
        JsonDiagnostic {
            file: d.file.display().to_string(),
            line: d.location.as_ref().map(|l| l.start.line),
            column: d.location.as_ref().map(|l| l.start.column),
            end_line: d.location.as_ref().map(|l| l.end.line),
            end_column: d.location.as_ref().map(|l| l.end.column),
            severity: d.severity,
            message: escape(&d.message, MAX_MESSAGE),
            help: d.help.as_deref().map(|h| escape(h, MAX_MESSAGE)),
        }
    }
}

/// The text of one file, with an index of line starts to turn byte offsets into
/// positions.
#[derive(Debug)]
pub struct SourceFile {
    path: PathBuf,
    text: String,
    line_starts: Vec<usize>,
}

impl SourceFile {
    /// Takes the file's text; a leading byte-order mark is dropped.
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Self {
        let mut text = text.into();
        if text.starts_with('\u{feff}') {
            text.drain(..'\u{feff}'.len_utf8());
        }
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        SourceFile {
            path: path.into(),
            text,
            line_starts,
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// The position of a byte offset (clamped to the text, and moved back to a
    /// character boundary).
    pub fn position(&self, offset: usize) -> Position {
        let offset = floor_char_boundary(&self.text, offset);
        let line = self.line_starts.partition_point(|&s| s <= offset) - 1;
        let start = self.line_starts[line];
        Position {
            line: line + 1,
            column: self.text[start..offset].chars().count() + 1,
        }
    }

    /// The text of 1-based line `line`, without its line ending.
    fn line_text(&self, line: usize) -> &str {
        let start = self.line_starts[line - 1];
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |&next| next - 1);
        self.text[start..end.max(start)].trim_end_matches('\r')
    }

    pub fn location(&self, span: Range<usize>) -> Location {
        let start = self.position(span.start);
        let end = self.position(span.end.max(span.start));
        let line = self.line_text(start.line);
        let skipped = start.column.saturating_sub(1 + MAX_EXCERPT / 2);
        Location {
            start,
            end,
            line_text: line.chars().skip(skipped).take(MAX_EXCERPT).collect(),
            skipped,
        }
    }

    /// An error at `span` of this file.
    pub fn error(&self, span: Range<usize>, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity: Severity::Error,
            file: self.path.clone(),
            location: Some(Box::new(self.location(span))),
            message: message.into(),
            help: None,
        }
    }

    /// `path:line:column` of a byte offset, for pointing at a second place.
    pub fn place(&self, offset: usize) -> String {
        let p = self.position(offset);
        format!("{}:{}:{}", self.path.display(), p.line, p.column)
    }
}

fn floor_char_boundary(text: &str, offset: usize) -> usize {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The position of the first invalid byte of a non-UTF-8 file.
pub fn utf8_error_location(bytes: &[u8], valid_up_to: usize) -> Location {
    let prefix = String::from_utf8_lossy(&bytes[..valid_up_to]);
    let file = SourceFile::new("", prefix.into_owned());
    let mut loc = file.location(file.text().len()..file.text().len());
    loc.end.column = loc.start.column + 1;
    loc
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_and_lines() {
        let f = SourceFile::new("a.toml", "a = 1\r\nтитул = \"é\"\n");
        assert_eq!(f.position(0), Position { line: 1, column: 1 });
        assert_eq!(f.position(7), Position { line: 2, column: 1 });
        // "титул" is 5 characters of 2 bytes each.
        assert_eq!(f.position(7 + 10), Position { line: 2, column: 6 });
        // An offset inside a character is moved back to its start.
        assert_eq!(f.position(8), Position { line: 2, column: 1 });
        // Past the end is clamped.
        assert_eq!(f.position(999).line, 3);
        assert_eq!(f.line_text(1), "a = 1");
    }

    #[test]
    fn bom_is_not_counted() {
        let f = SourceFile::new("a.toml", "\u{feff}id = 1");
        assert_eq!(f.text(), "id = 1");
        assert_eq!(f.position(5), Position { line: 1, column: 6 });
    }

    #[test]
    fn renders_with_caret_and_help() {
        let f = SourceFile::new("d.toml", "topics = [\"womens\"]\n");
        let d = f
            .error(10..18, "unknown topic `womens`")
            .with_help("did you mean `women`?");
        insta::assert_snapshot!(d.to_string(), @r#"
        d.toml:1:11: error: unknown topic `womens`
          1 | topics = ["womens"]
            |           ^^^^^^^^
          help: did you mean `women`?
        "#);
    }

    #[test]
    fn long_lines_are_windowed() {
        let line = format!("x = \"{}\" y", "a".repeat(300));
        let f = SourceFile::new("d.toml", line.clone());
        let d = f.error(307..308, "boom");
        let text = d.to_string();
        let snippet = text.lines().nth(1).unwrap();
        assert!(snippet.chars().count() < 120, "{snippet}");
        let caret_line = text.lines().nth(2).unwrap();
        let caret_col = caret_line.find('^').unwrap();
        assert_eq!(
            snippet.chars().nth(caret_col),
            Some('y'),
            "{snippet}\n{caret_line}"
        );
    }

    #[test]
    fn values_cannot_forge_lines_or_reorder_text() {
        let f = SourceFile::new("d.toml", "title = \"a\u{1b}[31mb\u{202e}c\\r\"\n");
        let d = f
            .error(8..9, "unknown topic `x\nd.toml:9:9: error: forged\u{0}`")
            .with_help("did you mean `y\r\u{2066}`?");
        let text = d.to_string();
        insta::assert_snapshot!(text, @r#"
        d.toml:1:9: error: unknown topic `x\u{a}d.toml:9:9: error: forged\u{0}`
          1 | title = "a␛[31mb�c\r"
            |         ^
          help: did you mean `y\u{d}\u{2066}`?
        "#);
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(
            !text.chars().any(|c| is_unsafe_char(c) && c != '\n'),
            "{text:?}"
        );
        let json = serde_json::to_string(&JsonDiagnostic::from(&d)).unwrap();
        assert!(
            json.contains(r#""message":"unknown topic `x\\u{a}d.toml"#),
            "{json}"
        );
    }

    #[test]
    fn excerpts_and_messages_are_bounded() {
        let line = format!("x = \"{}\" y", "s".repeat(100_000));
        let f = SourceFile::new("d.toml", line);
        let d = f.error(50_000..50_001, "m".repeat(10_000));
        let loc = d.location.as_ref().unwrap();
        assert_eq!(loc.line_text.chars().count(), MAX_EXCERPT);
        assert_eq!(loc.start.column, 50_001);
        let text = d.to_string();
        assert!(text.len() < 1_000, "{} bytes", text.len());
        // The caret still points at the offending column of the excerpt.
        let caret = text.lines().nth(2).unwrap().find('^').unwrap();
        assert_eq!(text.lines().nth(1).unwrap().chars().nth(caret), Some('s'));
    }

    #[test]
    fn utf8_error_points_at_the_bad_byte() {
        let bytes = b"id = 1\nt = \"\xff\"\n".to_vec();
        let err = String::from_utf8(bytes.clone()).unwrap_err();
        let loc = utf8_error_location(&bytes, err.utf8_error().valid_up_to());
        assert_eq!(loc.start, Position { line: 2, column: 6 });
    }
}
