//! Structured JSON logs. Fields carry ids and error codes, never user text or secrets.
//!
//! One flat JSON object per line, as Powertools' Logger writes them: `timestamp`, `level`,
//! `target`, `message`, the event's fields, and the fields of every span the event is in,
//! root first, at the top level. So a record's lines carry the invocation's `request_id`
//! and `xray_trace_id` beside the record's `message_id` and `event_id`, and one CloudWatch
//! Logs Insights filter (`message_id = "…"` or `xray_trace_id = "…"`) finds its whole path.

use std::sync::atomic::{AtomicBool, Ordering};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::{filter, EnvFilter, Layer};

use crate::settings::{ConfigError, Env};

/// Where log lines go: Lambda collects stdout; the CLI keeps stdout for its JSONL output.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTarget {
    /// Standard output (Lambda).
    Stdout,
    /// Standard error (the CLI).
    Stderr,
}

/// Installs the JSON subscriber once; later calls are ignored (tests may race to it).
/// The level comes from [`filter_directive`] (Lambdas default to `info`, the CLI to `warn`);
/// `LOG_DEBUG_SAMPLE_RATE` turns on debug lines for that share of invocations.
///
/// A setting that cannot be read is logged and returned (the binaries end their cold start
/// on it, as on any bad setting); the subscriber is installed with the defaults first, so
/// that line is written.
pub fn init(target: LogTarget, default_level: &str) -> Result<(), ConfigError> {
    let read = LogSettings::from_lookup(|name| std::env::var(name).ok(), default_level);
    let settings = read.clone().unwrap_or_else(|_| LogSettings {
        directive: default_level.to_owned(),
        debug_sample_rate: 0.0,
    });
    if target == LogTarget::Stdout {
        install_panic_hook();
    }
    let _ = match target {
        LogTarget::Stdout => {
            tracing::subscriber::set_global_default(subscriber(&settings, std::io::stdout))
        }
        LogTarget::Stderr => {
            tracing::subscriber::set_global_default(subscriber(&settings, std::io::stderr))
        }
    };
    read.map(|_| ())
        .inspect_err(|error| tracing::error!(%error, "logging settings"))
}

/// What the environment says about logging.
#[derive(Debug, Clone, PartialEq)]
pub struct LogSettings {
    /// The `tracing` filter, from `RUST_LOG`, `AWS_LAMBDA_LOG_LEVEL` or `default_level`.
    pub directive: String,
    /// Share of invocations (0 to 1) logged at debug level whatever the level; Powertools'
    /// `POWERTOOLS_LOGGER_SAMPLE_RATE`. Read from `LOG_DEBUG_SAMPLE_RATE`.
    pub debug_sample_rate: f64,
}

impl LogSettings {
    /// Reads the settings through `lookup`, with `default_level` when no level is set.
    pub fn from_lookup(
        lookup: impl Fn(&str) -> Option<String>,
        default_level: &str,
    ) -> Result<Self, ConfigError> {
        let env = Env::new(lookup);
        let debug_sample_rate = sample_rate(&env)?;
        Ok(Self {
            directive: filter_directive(|name| env.text(name), default_level),
            debug_sample_rate,
        })
    }
}

/// The subscriber [`init`] installs, writing to `writer` (tests give it a buffer).
pub fn subscriber<W>(settings: &LogSettings, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let base = EnvFilter::try_new(&settings.directive).unwrap_or_else(|_| EnvFilter::new("info"));
    let sampling = settings.debug_sample_rate > 0.0;
    // Debug callsites must stay "sometimes" interesting for a sampled invocation to turn
    // them on, so the base filter is consulted per event rather than per callsite.
    let filter = filter::dynamic_filter_fn(move |metadata, context| {
        // A sampled invocation turns on DEBUG for our crates only: the AWS SDK's debug
        // lines carry request and response bodies.
        tracing_subscriber::layer::Filter::enabled(&base, metadata, context)
            || (sampling
                && *metadata.level() <= Level::DEBUG
                && crate::xray::is_traced_target(metadata.target())
                && DEBUG_SAMPLED.load(Ordering::Relaxed))
    });
    let layer = tracing_subscriber::fmt::layer()
        .fmt_fields(JsonFields::new())
        .event_format(FlatJson)
        .with_writer(writer)
        .with_filter(filter);
    // Spans become X-Ray subsegments when Lambda runs the daemon (`Tracing: Active`),
    // whatever the log level.
    // Only our own spans: the AWS SDK's and hyper's per-attempt spans would flood the trace.
    let xray = crate::xray::DaemonSink::from_env().map(|sink| {
        crate::xray::XRayLayer::new(sink).with_filter(filter::filter_fn(|metadata| {
            crate::xray::is_traced_target(metadata.target())
        }))
    });
    tracing_subscriber::registry().with(layer).with(xray)
}

static DEBUG_SAMPLED: AtomicBool = AtomicBool::new(false);

/// Decides, at the start of an invocation, whether its debug lines are written: the same
/// request id always decides the same way (a hash of it against the rate), so a retried
/// invocation is sampled alike. Returns the decision.
pub fn sample_debug(settings_rate: f64, request_id: &str) -> bool {
    let sampled = settings_rate > 0.0 && unit_hash(request_id) < settings_rate;
    DEBUG_SAMPLED.store(sampled, Ordering::Relaxed);
    sampled
}

/// `LOG_DEBUG_SAMPLE_RATE`, a share from 0 to 1; 0 when unset.
fn sample_rate<F: Fn(&str) -> Option<String>>(env: &Env<F>) -> Result<f64, ConfigError> {
    Ok(env
        .parsed(
            "LOG_DEBUG_SAMPLE_RATE",
            "a share from 0 to 1",
            |rate: &f64| (0.0..=1.0).contains(rate),
        )?
        .unwrap_or(0.0))
}

/// The debug sample rate from the environment, read once. A rate that cannot be read ended
/// the cold start in [`init`]; where `init` did not run (the local stack) it samples nothing.
pub fn debug_sample_rate() -> f64 {
    static RATE: std::sync::OnceLock<f64> = std::sync::OnceLock::new();
    *RATE.get_or_init(|| sample_rate(&Env::process()).unwrap_or(0.0))
}

/// A value in [0, 1) from a string (FNV-1a), for sampling.
fn unit_hash(text: &str) -> f64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in text.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash >> 11) as f64 / (1u64 << 53) as f64
}

/// The flat line format described in the module comment.
struct FlatJson;

impl<S, N> FormatEvent<S, N> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        context: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut line = serde_json::Map::new();
        line.insert("timestamp".into(), rfc3339_now().into());
        line.insert("level".into(), event.metadata().level().as_str().into());
        line.insert("target".into(), event.metadata().target().into());
        if let Some(scope) = context.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                // JsonFields stores each span's fields as one JSON object.
                if let Some(fields) = extensions.get::<FormattedFields<N>>() {
                    if let Ok(serde_json::Value::Object(fields)) =
                        serde_json::from_str::<serde_json::Value>(fields.as_str())
                    {
                        line.extend(fields);
                    }
                }
            }
        }
        event.record(&mut FieldsInto(&mut line));
        writeln!(writer, "{}", serde_json::Value::Object(line))
    }
}

struct FieldsInto<'a>(&'a mut serde_json::Map<String, serde_json::Value>);

impl Visit for FieldsInto<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.0
            .insert(field.name().into(), format!("{value:?}").into());
    }
}

/// UTC now as `2026-12-02T03:04:05.678Z`.
fn rfc3339_now() -> String {
    let since_epoch = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = since_epoch.as_secs();
    let (days, of_day) = ((seconds / 86_400) as i64, seconds % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_index + 2) / 5 + 1;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    };
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60,
        since_epoch.subsec_millis()
    )
}

/// The log filter: `RUST_LOG` when set (a full `tracing` filter, for debugging), else the
/// level Lambda passes as `AWS_LAMBDA_LOG_LEVEL` from the function's `LoggingConfig`
/// (`ApplicationLogLevel`: TRACE, DEBUG, INFO, WARN, ERROR or FATAL), else `default_level`.
/// So an operator changes one function's level in the template or console, without a deploy.
pub fn filter_directive(lookup: impl Fn(&str) -> Option<String>, default_level: &str) -> String {
    let set = |name: &str| lookup(name).filter(|v| !v.trim().is_empty());
    if let Some(filter) = set("RUST_LOG") {
        return filter;
    }
    match set("AWS_LAMBDA_LOG_LEVEL").and_then(|level| LambdaLogLevel::parse(&level)) {
        // Below INFO only this workspace's crates: at TRACE lambda_runtime logs the raw
        // event (the user's text), and the AWS SDK and HTTP stack log request bodies.
        Some(LambdaLogLevel::Trace) => ours_at("trace"),
        Some(LambdaLogLevel::Debug) => ours_at("debug"),
        Some(LambdaLogLevel::Info) => "info".to_owned(),
        Some(LambdaLogLevel::Warn) => "warn".to_owned(),
        // tracing has no fatal: an error is the nearest, and FATAL lines are errors too.
        Some(LambdaLogLevel::Error | LambdaLogLevel::Fatal) => "error".to_owned(),
        None => default_level.to_owned(),
    }
}

/// Lambda's application log levels (`LoggingConfig.ApplicationLogLevel`, passed to the
/// function as `AWS_LAMBDA_LOG_LEVEL`), least severe first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum LambdaLogLevel {
    /// TRACE.
    Trace,
    /// DEBUG.
    Debug,
    /// INFO: what Lambda assumes for a line without a valid `level`.
    Info,
    /// WARN.
    Warn,
    /// ERROR.
    Error,
    /// FATAL.
    Fatal,
}

impl LambdaLogLevel {
    /// The level named `name` (any case, trimmed); `None` for anything else.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().to_ascii_uppercase().as_str() {
            "TRACE" => Some(Self::Trace),
            "DEBUG" => Some(Self::Debug),
            "INFO" => Some(Self::Info),
            "WARN" => Some(Self::Warn),
            "ERROR" => Some(Self::Error),
            "FATAL" => Some(Self::Fatal),
            _ => None,
        }
    }

    /// The name as Lambda writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Trace => "TRACE",
            Self::Debug => "DEBUG",
            Self::Info => "INFO",
            Self::Warn => "WARN",
            Self::Error => "ERROR",
            Self::Fatal => "FATAL",
        }
    }
}

/// `info` for everything, `level` for this workspace's crates.
fn ours_at(level: &str) -> String {
    let mut directive = "info".to_owned();
    for target in crate::xray::OUR_CRATES {
        directive.push_str(&format!(",{target}={level}"));
    }
    directive
}

/// Replaces the default panic hook, which prints the panic message to stderr: messages
/// quote values (a string sliced off a character boundary prints the string), and in a
/// worker those values are the user's text. The line says where, at ERROR, and not what;
/// the record's event says the analysis panicked. Installed by [`init`] for Lambdas.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
            .unwrap_or_default();
        eprintln!("{}", panic_line(&location));
    }));
}

fn panic_line(location: &str) -> serde_json::Value {
    serde_json::json!({
        "timestamp": rfc3339_now(),
        "level": "ERROR",
        "target": "panic",
        "message": "a thread panicked (its message is not logged: it may quote input)",
        "location": location,
    })
}

/// Lambda's application log-level filtering, as documented: a line that is a JSON object
/// with a valid `level` is kept when that level is at least `application_level`; any other
/// line (not JSON, no `level`, an unknown one) counts as INFO. The local layer checks our
/// stdout against it, since no emulator filters logs.
pub fn lambda_keeps(line: &str, application_level: &str) -> bool {
    let line_level = serde_json::from_str::<serde_json::Value>(line)
        .ok()
        .and_then(|v| {
            v.get("level")
                .and_then(|l| l.as_str())
                .and_then(LambdaLogLevel::parse)
        })
        .unwrap_or(LambdaLogLevel::Info);
    line_level >= LambdaLogLevel::parse(application_level).unwrap_or(LambdaLogLevel::Info)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// At TRACE lambda_runtime logged the raw event, and sampled DEBUG turned on the AWS
    /// SDK's debug lines: both carry the user's text.
    #[test]
    fn trace_and_sampled_debug_reach_only_our_crates() {
        let directive = filter_directive(lookup(&[("AWS_LAMBDA_LOG_LEVEL", "TRACE")]), "info");
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let settings = LogSettings {
            directive,
            debug_sample_rate: 1.0,
        };
        let subscriber = subscriber(&settings, move || writer.clone());
        tracing::subscriber::with_default(subscriber, || {
            sample_debug(1.0, "req");
            tracing::trace!(target: "lambda_runtime", body = "the user's caption", "event");
            tracing::debug!(target: "aws_smithy_runtime::client", "request body");
            tracing::trace!(target: "postlens_runtime::engine", "ours");
            tracing::info!(target: "lambda_runtime", "info still logged");
        });
        sample_debug(0.0, "");
        let messages: Vec<String> = buffer
            .lines()
            .iter()
            .map(|l| l["message"].as_str().unwrap_or_default().to_owned())
            .collect();
        assert_eq!(messages, vec!["ours", "info still logged"]);
    }

    #[test]
    fn the_panic_line_names_the_place_not_the_message() {
        let line = panic_line("src/x.rs:1:2");
        assert_eq!(line["level"], "ERROR");
        assert_eq!(line["location"], "src/x.rs:1:2");
        assert!(lambda_keeps(&line.to_string(), "ERROR"));
    }

    #[test]
    fn lambdas_filter_reads_missing_levels_as_info() {
        assert!(lambda_keeps(r#"{"level":"ERROR","m":1}"#, "WARN"));
        assert!(!lambda_keeps(r#"{"level":"debug"}"#, "INFO"));
        assert!(!lambda_keeps(r#"{"_aws":{}}"#, "WARN"), "no level: INFO");
        assert!(lambda_keeps(r#"{"_aws":{}}"#, "INFO"));
        assert!(!lambda_keeps("plain text", "ERROR"));
        assert!(lambda_keeps(r#"{"level":"nonsense"}"#, "TRACE"));
    }

    fn lookup<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.to_string())
        }
    }

    #[test]
    fn lambdas_log_level_setting_is_read_and_rust_log_wins() {
        assert_eq!(filter_directive(lookup(&[]), "info"), "info");
        let debug = filter_directive(lookup(&[("AWS_LAMBDA_LOG_LEVEL", "DEBUG")]), "info");
        assert!(debug.starts_with("info,") && debug.contains("postlens_runtime=debug"));
        assert_eq!(
            filter_directive(lookup(&[("AWS_LAMBDA_LOG_LEVEL", "fatal")]), "info"),
            "error"
        );
        assert_eq!(
            filter_directive(lookup(&[("AWS_LAMBDA_LOG_LEVEL", "loud")]), "warn"),
            "warn"
        );
        assert_eq!(
            filter_directive(
                lookup(&[
                    ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
                    ("RUST_LOG", "postlens_runtime=trace")
                ]),
                "info"
            ),
            "postlens_runtime=trace"
        );
        assert_eq!(
            filter_directive(lookup(&[("RUST_LOG", " ")]), "info"),
            "info"
        );
    }

    /// A buffer the subscriber writes into, for reading lines back.
    #[derive(Clone, Default)]
    struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl Buffer {
        fn lines(&self) -> Vec<serde_json::Value> {
            let bytes = self.0.lock().unwrap_or_else(|p| p.into_inner()).clone();
            String::from_utf8(bytes)
                .expect("utf-8")
                .lines()
                .map(|line| serde_json::from_str(line).expect("each line is one JSON object"))
                .collect()
        }
    }

    fn settings(rate: f64) -> LogSettings {
        LogSettings {
            directive: "info".to_owned(),
            debug_sample_rate: rate,
        }
    }

    #[test]
    fn record_lines_carry_the_invocation_and_record_ids_at_the_top_level() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = subscriber(&settings(0.0), move || writer.clone());
        tracing::subscriber::with_default(subscriber, || {
            let invocation = tracing::info_span!(
                "invocation",
                request_id = "req-1",
                xray_trace_id = "Root=1-abc"
            );
            let _outer = invocation.enter();
            let record = tracing::info_span!("record", message_id = "m-1", event_id = "e-1");
            let _inner = record.enter();
            tracing::warn!(
                code = "timed_out",
                retried = 2u64,
                "record returned for retry"
            );
            tracing::debug!("not at info");
        });
        let lines = buffer.lines();
        assert_eq!(lines.len(), 1, "{lines:?}");
        let line = &lines[0];
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["message"], "record returned for retry");
        assert_eq!(line["request_id"], "req-1");
        assert_eq!(line["xray_trace_id"], "Root=1-abc");
        assert_eq!(line["message_id"], "m-1");
        assert_eq!(line["event_id"], "e-1");
        assert_eq!(line["code"], "timed_out");
        assert_eq!(line["retried"], 2);
        let timestamp = line["timestamp"].as_str().expect("timestamp");
        assert_eq!(
            timestamp.len(),
            "2026-12-02T03:04:05.678Z".len(),
            "{timestamp}"
        );
        assert!(timestamp.starts_with("20") && timestamp.ends_with('Z'));
    }

    #[test]
    fn a_sampled_invocation_logs_debug_lines_and_the_rate_decides_which() {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = subscriber(&settings(0.5), move || writer.clone());
        let ids: Vec<String> = (0..200).map(|i| format!("req-{i}")).collect();
        let sampled: Vec<bool> = tracing::subscriber::with_default(subscriber, || {
            ids.iter()
                .map(|id| {
                    let sampled = sample_debug(0.5, id);
                    tracing::debug!(request = %id, "debug line");
                    sampled
                })
                .collect()
        });
        sample_debug(0.0, "");
        let logged: Vec<String> = buffer
            .lines()
            .iter()
            .map(|l| l["request"].as_str().unwrap_or_default().to_owned())
            .collect();
        let expected: Vec<String> = ids
            .iter()
            .zip(&sampled)
            .filter(|(_, s)| **s)
            .map(|(id, _)| id.clone())
            .collect();
        assert_eq!(logged, expected);
        // About half, and the same id decides the same way again.
        assert!((70..=130).contains(&expected.len()), "{}", expected.len());
        assert_eq!(sample_debug(0.5, "req-7"), sampled[7]);
        assert!(!sample_debug(0.0, "req-7"));
        assert!(sample_debug(1.0, "anything"));
        sample_debug(0.0, "");
    }

    #[test]
    fn the_sample_rate_is_read_and_bounded() {
        let rate = |value: &str| {
            LogSettings::from_lookup(lookup(&[("LOG_DEBUG_SAMPLE_RATE", value)]), "info")
                .map(|settings| settings.debug_sample_rate)
        };
        assert_eq!(rate("0.1"), Ok(0.1));
        assert_eq!(rate(" "), Ok(0.0));
        // Out of range or not a number: an error naming the variable, as for every setting
        // (these were clamped or read as 0 before).
        for bad in ["7", "-1", "NaN", "often"] {
            assert!(
                matches!(
                    rate(bad),
                    Err(ConfigError::Invalid {
                        name: "LOG_DEBUG_SAMPLE_RATE",
                        ..
                    })
                ),
                "{bad}"
            );
        }
    }
}
