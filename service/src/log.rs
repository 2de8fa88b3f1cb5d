//! The service's own log, through `tracing`: text lines for a person, JSON lines for a
//! log shipper. Each request runs in a span (`request`, with its method, path and, once
//! decided, `decision_id`), so every line written while answering it names the decision
//! it belongs to.

use tracing::Subscriber;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// How the log is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// One line of text per event, with its span's fields.
    #[default]
    Text,
    /// One JSON object per line: `timestamp`, `level`, `fields` (with `message`),
    /// `target` and `span` (the request's fields, `decision_id` among them).
    Json,
}

/// The default filter: the service's start, stop, policy changes and failures; a line
/// per answered request at `debug`.
pub const DEFAULT_FILTER: &str = "info";

/// A subscriber writing the service's log in `format` to `writer`, keeping what `filter`
/// (an `EnvFilter` directive such as `info` or `mdm_service=debug`) lets through. A
/// filter that does not parse is refused rather than ignored.
pub fn subscriber<W>(
    format: LogFormat,
    filter: &str,
    writer: W,
) -> Result<Box<dyn Subscriber + Send + Sync>, crate::ServiceError>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_new(filter)
        .map_err(|e| crate::ServiceError::Start(format!("the log filter `{filter}`: {e}")))?;
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(writer).with_ansi(false);
    Ok(match format {
        LogFormat::Text => Box::new(builder.finish()),
        LogFormat::Json => Box::new(builder.json().with_current_span(true).with_span_list(false).finish()),
    })
}
