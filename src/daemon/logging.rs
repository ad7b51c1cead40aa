//! Logging to stderr. Under systemd (stderr connected to the journal, as
//! `JOURNAL_STREAM` says) each line starts with its syslog priority (`<3>`
//! error … `<7>` debug) and carries no timestamp, since journald adds its
//! own; elsewhere lines carry a UTC timestamp and the level. `--log-format
//! json` writes one JSON object per line instead. `RUST_LOG` sets the level
//! (default `info`).

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Plain lines (with syslog priorities when stderr is the journal)
    #[default]
    Text,
    /// One JSON object per line
    Json,
}

/// Installs the logger (once per process; later calls do nothing).
pub fn init(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Text if stderr_is_journal() => builder.event_format(Journald).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Whether stderr is the journal stream systemd connected (`JOURNAL_STREAM`
/// is `device:inode` of that stream; a child whose stderr was redirected
/// inherits the variable, hence the comparison).
fn stderr_is_journal() -> bool {
    use std::os::unix::fs::MetadataExt as _;
    let Ok(stream) = std::env::var("JOURNAL_STREAM") else {
        return false;
    };
    let Ok(meta) = std::fs::metadata("/dev/stderr") else {
        return false;
    };
    stream == format!("{}:{}", meta.dev(), meta.ino())
}

/// `<priority>target: message fields`, the shape journald reads.
struct Journald;

impl<S, N> FormatEvent<S, N> for Journald
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let priority = match *event.metadata().level() {
            Level::ERROR => 3,
            Level::WARN => 4,
            Level::INFO => 6,
            Level::DEBUG | Level::TRACE => 7,
        };
        // journald reads each line as an entry of its own: a multi-line
        // message (a diagnostic with its source line) keeps its priority
        // on every line.
        let mut text = String::new();
        ctx.field_format()
            .format_fields(Writer::new(&mut text), event)?;
        for line in text.lines() {
            writeln!(writer, "<{priority}>{line}")?;
        }
        Ok(())
    }
}
