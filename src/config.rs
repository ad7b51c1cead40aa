//! The daemon's configuration (`config/mechcal.toml`).
//!
//! Parsed once into real types (`Tz`, paths resolved against the config
//! file's directory) and never re-read as strings. Unknown sections and keys
//! are errors with "did you mean", reported like data errors
//! (`path:line:column`). Each later concern adds its own section here.

use std::path::{Component, Path, PathBuf};

use chrono_tz::Tz;

use crate::diagnostic::{Diagnostic, SourceFile};
use crate::tomlx::{self, Sink, Table};
use crate::{values, zone};

/// The sample configuration, shipped in the binary too (`mechcal default-config`).
pub const SAMPLE: &str = include_str!("../config/mechcal.toml");

/// The default zone: Geneva time, where most UN mechanisms sit.
pub const DEFAULT_TIMEZONE: Tz = Tz::Europe__Zurich;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Config {
    /// The file this came from; `None` for built-in defaults.
    pub file: Option<PathBuf>,
    pub calendar: CalendarConfig,
    pub data: DataConfig,
}

/// `[calendar]`: how the calendar names itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CalendarConfig {
    /// Shown as the feed and page title.
    pub name: String,
    /// The right-hand side of every event UID (`<id>@<domain>`). Changing it
    /// makes every subscriber's calendar see new events, so it has no default
    /// in a config file.
    pub domain: String,
    /// The zone of deadlines that name none.
    pub timezone: Tz,
    /// Where the server is reachable, for subscribe links.
    pub base_url: String,
}

/// `[data]`: where the deadline repository is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataConfig {
    pub deadlines: PathBuf,
}

impl Config {
    /// Built-in defaults, for `mechcal check DIR` run without a config file
    /// (e.g. in the data repository's own CI).
    pub fn defaults(deadlines: PathBuf) -> Config {
        Config {
            file: None,
            calendar: CalendarConfig {
                name: "mechcal".into(),
                domain: "localhost".into(),
                timezone: DEFAULT_TIMEZONE,
                base_url: "http://127.0.0.1:8080/".into(),
            },
            data: DataConfig { deadlines },
        }
    }

    /// Reads and parses a config file.
    pub fn load(path: &Path) -> Result<Config, Vec<Diagnostic>> {
        let text = match std::fs::read(path) {
            Ok(bytes) => crate::store::decode(path, bytes).map_err(|d| vec![d])?,
            Err(e) => {
                return Err(vec![Diagnostic::file_error(
                    path,
                    format!("cannot read config file: {}", crate::store::io_reason(&e)),
                )
                .with_help("pass another file with `--config FILE`")])
            }
        };
        Config::parse(&SourceFile::new(path, text))
    }

    /// Parses config text; relative paths resolve against the file's directory.
    pub fn parse(file: &SourceFile) -> Result<Config, Vec<Diagnostic>> {
        let base = file.path().parent().unwrap_or(Path::new(""));
        let mut sink = Sink::new(file);
        let mut config = Config::defaults(normalize(&base.join("deadlines")));
        config.file = Some(file.path().to_path_buf());
        let Some(doc) = tomlx::parse_document(file, &mut sink) else {
            let mut diags = sink.diags;
            crate::diagnostic::sort(&mut diags);
            return Err(diags);
        };
        let root = Table::new(&doc, 0..0, "the config");
        root.check_keys(&mut sink, &["calendar", "data"]);

        match root.optional_table(&mut sink, "calendar") {
            Some(cal) => calendar(&mut sink, &cal, &mut config.calendar),
            None if root.get("calendar").is_none() => {
                sink.error(0..0, "the config has no `[calendar]` section")
                    .help = Some(
                    "add `[calendar]` with at least `domain = \"calendar.example.org\"`".into(),
                );
            }
            None => {}
        }
        if let Some(data) = root.optional_table(&mut sink, "data") {
            data.check_keys(&mut sink, &["deadlines"]);
            if let Some(dir) = data.optional_str(&mut sink, "deadlines") {
                if dir.get_ref().trim().is_empty() {
                    sink.error(dir.span(), "`deadlines` must name a directory");
                } else {
                    config.data.deadlines = normalize(&base.join(dir.get_ref()));
                }
            }
        }
        if sink.has_errors() {
            let mut diags = sink.diags;
            crate::diagnostic::sort(&mut diags);
            Err(diags)
        } else {
            Ok(config)
        }
    }
}

fn calendar(sink: &mut Sink<'_>, t: &Table<'_, '_>, out: &mut CalendarConfig) {
    t.check_keys(sink, &["name", "domain", "timezone", "base_url"]);
    if let Some(name) = t.optional_str(sink, "name") {
        if name.get_ref().trim().is_empty() || name.get_ref().contains(['\n', '\r']) {
            sink.error(name.span(), "`name` must be a non-empty single line");
        } else {
            out.name = name.get_ref().trim().to_string();
        }
    }
    if let Some(domain) = t.required_str(sink, "domain", "\"calendar.example.org\"") {
        if is_domain(domain.get_ref()) {
            out.domain = domain.get_ref().to_ascii_lowercase();
        } else {
            sink.error(
                domain.span(),
                format!("`domain` must be a DNS name, not `{}`", domain.get_ref()),
            )
            .help = Some(
                "event UIDs are `<id>@<domain>`: use a domain the organisation controls, e.g. `calendar.example.org`"
                    .into(),
            );
        }
    }
    if let Some(tz) = t.optional_str(sink, "timezone") {
        match zone::parse(tz.get_ref()) {
            Ok(z) => out.timezone = z,
            Err(e) => sink.error(tz.span(), e.message).help = e.help,
        }
    }
    if let Some(url) = t.optional_str(sink, "base_url") {
        if let Some(u) = values::check_http_url(sink, "base_url", &url) {
            out.base_url = u;
        }
    }
}

fn is_domain(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

/// Removes `.` and `dir/..` from a path without touching the file system, so
/// that messages say `deadlines/a.toml` rather than `config/../deadlines/a.toml`.
pub fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else if !matches!(out.components().next_back(), Some(Component::RootDir)) {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, String> {
        Config::parse(&SourceFile::new("config/mechcal.toml", text))
            .map_err(|d| crate::diagnostic::render_human(&d))
    }

    #[test]
    fn sample_config_parses() {
        let c = parse(SAMPLE).unwrap();
        assert_eq!(c.calendar.timezone, Tz::Europe__Zurich);
        assert_eq!(c.data.deadlines, PathBuf::from("deadlines"));
    }

    #[test]
    fn normalize_table() {
        for (input, expected) in [
            ("config/../deadlines", "deadlines"),
            ("./config/./x", "config/x"),
            ("../x", "../x"),
            ("a/../../x", "../x"),
            ("/a/../../x", "/x"),
            ("a/..", "."),
        ] {
            assert_eq!(
                normalize(Path::new(input)),
                PathBuf::from(expected),
                "{input}"
            );
        }
    }

    #[test]
    fn errors() {
        let cases = [
            (
                "geneva",
                "[calendar]\ndomain = \"x.org\"\ntimezone = \"Europe/Geneva\"\n",
            ),
            ("unknown_section", "[calender]\ndomain = \"x.org\"\n"),
            (
                "unknown_key",
                "[calendar]\ndomain = \"x.org\"\nbase_uri = \"https://x.org\"\n",
            ),
            ("missing_domain", "[calendar]\nname = \"x\"\n"),
            ("bad_domain", "[calendar]\ndomain = \"https://x.org/\"\n"),
            (
                "bad_base_url",
                "[calendar]\ndomain = \"x.org\"\nbase_url = \"ftp://x.org\"\n",
            ),
            ("section_not_table", "calendar = \"x\"\n"),
            ("syntax", "[calendar\ndomain = \"x.org\"\n"),
            (
                "data_type",
                "[calendar]\ndomain = \"x.org\"\n[data]\ndeadlines = 5\n",
            ),
        ];
        for (name, text) in cases {
            let err = parse(text).expect_err(name);
            insta::assert_snapshot!(format!("config_{name}"), err, text);
        }
    }
}
