//! Diagnostics: what is wrong, where (`path:line:column`), and how to fix it.
//!
//! Every problem found in a config, registry or deadline file becomes a
//! [`Diagnostic`]. Positions are computed once, when the diagnostic is made, from
//! a [`SourceFile`], so a diagnostic owns everything it needs to be rendered
//! later (as text for people, as JSON for CI annotations).
//!
//! Lines and columns are 1-based; a column counts Unicode characters (not
//! bytes), which is what editors show. A UTF-8 byte-order mark is not counted.

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

/// Where a diagnostic points: a range of one file, plus the text of its first
/// line so that it can be shown with a caret underline.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Location {
    pub start: Position,
    pub end: Position,
    /// The whole first line of the range, without its line ending.
    pub line_text: String,
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
        writeln!(f, "{}: {}: {}", self.place(), self.severity, self.message)?;
        if let Some(loc) = &self.location {
            let number = loc.start.line.to_string();
            let gutter = " ".repeat(number.len());
            let text = loc.line_text.replace('\t', " ");
            // Very long lines (minified or generated files) are cut around the caret.
            let (shown, skipped) = window(&text, loc.start.column);
            writeln!(f, "  {number} | {shown}")?;
            let start = loc.start.column - 1 - skipped;
            let width = if loc.end.line == loc.start.line {
                loc.end.column.saturating_sub(loc.start.column).max(1)
            } else {
                shown.chars().count().saturating_sub(start).max(1)
            };
            let width = width.min(shown.chars().count().saturating_sub(start).max(1));
            writeln!(f, "  {gutter} | {}{}", " ".repeat(start), "^".repeat(width))?;
        }
        if let Some(help) = &self.help {
            writeln!(f, "  help: {help}")?;
        }
        Ok(())
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
    pub message: &'a str,
    pub help: Option<&'a str>,
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
            message: &d.message,
            help: d.help.as_deref(),
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
        Location {
            start,
            end,
            line_text: self.line_text(start.line).to_string(),
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
    fn utf8_error_points_at_the_bad_byte() {
        let bytes = b"id = 1\nt = \"\xff\"\n".to_vec();
        let err = String::from_utf8(bytes.clone()).unwrap_err();
        let loc = utf8_error_location(&bytes, err.utf8_error().valid_up_to());
        assert_eq!(loc.start, Position { line: 2, column: 6 });
    }
}
