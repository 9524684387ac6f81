//! X-Ray subsegments from `tracing` spans.
//!
//! With `Tracing: Active`, Lambda records a segment per invocation and passes its trace id
//! and segment id in the `Lambda-Runtime-Trace-Id` header (`Root=…;Parent=…;Sampled=…`),
//! and runs the X-Ray daemon at `AWS_XRAY_DAEMON_ADDRESS`. This layer turns every span
//! under an invocation span that carries that header (`xray_trace_id`) into a subsegment
//! of it (the record, decode, claim-check read, analysis, model forward, publish and S3
//! calls) and sends each, when it closes, to the daemon over UDP, as the X-Ray SDKs do.
//! The span's string and number fields become annotations, so traces can be searched by
//! `message_id` or `event_id`.
//!
//! Why not OpenTelemetry: aws-lambda-rust-runtime's `OpenTelemetryLayer` needs an exporter
//! and, to reach X-Ray, the ADOT collector layer (tens of MB, and its own cold start); the
//! daemon Lambda already runs takes these documents directly.

use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::Subscriber;
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::Layer;

/// The parts of a `Lambda-Runtime-Trace-Id` / `_X_AMZN_TRACE_ID` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceHeader {
    /// `1-<8 hex epoch seconds>-<24 hex>`.
    pub root: String,
    /// The id of the segment new subsegments hang from (Lambda's function segment).
    pub parent: Option<String>,
    /// `Sampled=1`: segments are sent only when set.
    pub sampled: bool,
}

impl TraceHeader {
    /// Parses `Root=...;Parent=...;Sampled=...`; `None` without a root.
    pub fn parse(header: &str) -> Option<Self> {
        let mut root = None;
        let mut parent = None;
        let mut sampled = false;
        for part in header.split(';') {
            match part.trim().split_once('=') {
                Some(("Root", value)) if valid_root(value) => root = Some(value.to_owned()),
                Some(("Parent", value)) if is_hex(value, 16) => parent = Some(value.to_owned()),
                Some(("Sampled", value)) => sampled = value == "1",
                _ => {}
            }
        }
        Some(Self {
            root: root?,
            parent,
            sampled,
        })
    }
}

fn is_hex(text: &str, length: usize) -> bool {
    text.len() == length && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn valid_root(root: &str) -> bool {
    let mut parts = root.split('-');
    parts.next() == Some("1")
        && parts.next().is_some_and(|t| is_hex(t, 8))
        && parts.next().is_some_and(|r| is_hex(r, 24))
        && parts.next().is_none()
}

/// Where finished subsegment documents go.
pub trait SegmentSink: Send + Sync + 'static {
    /// Sends one segment document; best effort, never fails the caller.
    fn send(&self, document: &serde_json::Value);
}

/// The X-Ray daemon's UDP protocol: a JSON header line, then the document.
pub struct DaemonSink {
    socket: UdpSocket,
    daemon: SocketAddr,
    /// Datagrams that could not be sent; the first failure is reported on stderr.
    failed_sends: std::sync::atomic::AtomicU64,
}

impl DaemonSink {
    /// The daemon at `AWS_XRAY_DAEMON_ADDRESS` (`host:port`, or Lambda's
    /// `udp:host:port tcp:host:port` form); `None` when unset or unusable.
    pub fn from_env() -> Option<Self> {
        let address = std::env::var("AWS_XRAY_DAEMON_ADDRESS").ok()?;
        Self::new(&address)
    }

    /// The daemon at `address` (either form); `None` when it does not parse.
    pub fn new(address: &str) -> Option<Self> {
        let udp = address
            .split_whitespace()
            .find_map(|part| part.strip_prefix("udp:"))
            .unwrap_or(address);
        let daemon: SocketAddr = udp.parse().ok()?;
        // Lambda's daemon listens on 169.254.79.129: a socket bound to loopback cannot reach
        // it (every send is EINVAL), so bind the unspecified address of the daemon's family.
        let local: SocketAddr = if daemon.is_ipv4() {
            (std::net::Ipv4Addr::UNSPECIFIED, 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(local).ok()?;
        Some(Self {
            socket,
            daemon,
            failed_sends: std::sync::atomic::AtomicU64::new(0),
        })
    }

    /// Datagrams that could not be sent so far.
    pub fn failed_sends(&self) -> u64 {
        self.failed_sends.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl SegmentSink for DaemonSink {
    fn send(&self, document: &serde_json::Value) {
        let packet = format!("{{\"format\": \"json\", \"version\": 1}}\n{document}");
        // Tracing is best effort: a lost datagram must never fail a record. But a daemon
        // that cannot be reached must not go unnoticed either: the first failure is written
        // as a WARN line (straight to stderr, since this runs inside the log subscriber).
        if let Err(error) = self.socket.send_to(packet.as_bytes(), self.daemon) {
            let before = self
                .failed_sends
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if before == 0 {
                eprintln!(
                    "{}",
                    serde_json::json!({
                        "level": "WARN",
                        "target": "postlens_runtime::xray",
                        "message": "X-Ray daemon unreachable; segments are being dropped",
                        "daemon": self.daemon.to_string(),
                        "error": error.to_string(),
                    })
                );
            }
        }
    }
}

/// Keeps every document, for tests.
#[derive(Default, Clone)]
pub struct CapturedSegments(pub Arc<Mutex<Vec<serde_json::Value>>>);

impl SegmentSink for CapturedSegments {
    fn send(&self, document: &serde_json::Value) {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(document.clone());
    }
}

/// The `tracing` layer: see the module comment.
pub struct XRayLayer<S> {
    sink: S,
}

impl<S: SegmentSink> XRayLayer<S> {
    /// A layer that sends subsegments to `sink`.
    pub fn new(sink: S) -> Self {
        Self { sink }
    }
}

/// What the layer keeps in a span's extensions.
struct Subsegment {
    id: String,
    trace: Option<TraceHeader>,
    start: f64,
    annotations: serde_json::Map<String, serde_json::Value>,
}

struct Fields<'a> {
    annotations: &'a mut serde_json::Map<String, serde_json::Value>,
    trace: &'a mut Option<TraceHeader>,
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if field.name() == "xray_trace_id" {
            *self.trace = TraceHeader::parse(value);
        } else if !value.is_empty() {
            self.annotations
                .insert(annotation_key(field.name()), value.into());
        }
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.annotations
            .insert(annotation_key(field.name()), value.into());
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.annotations
            .insert(annotation_key(field.name()), value.into());
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.annotations
            .insert(annotation_key(field.name()), value.into());
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        let text = format!("{value:?}");
        self.record_str(field, text.trim_matches('"'));
    }
}

/// X-Ray annotation keys are alphanumeric and underscore.
fn annotation_key(name: &str) -> String {
    name.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect()
}

fn epoch_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// A subsegment id: 16 hex digits, unique enough per trace (time and a process counter).
fn new_id() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos() as u64;
    let mixed = (nanos
        ^ COUNTER
            .fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15))
    .wrapping_mul(0xBF58_476D_1CE4_E5B9);
    format!("{:016x}", mixed | 1)
}

impl<S, Sink> Layer<S> for XRayLayer<Sink>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    Sink: SegmentSink,
{
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, context: Context<'_, S>) {
        let Some(span) = context.span(id) else { return };
        let mut annotations = serde_json::Map::new();
        let mut trace = None;
        attributes.record(&mut Fields {
            annotations: &mut annotations,
            trace: &mut trace,
        });
        span.extensions_mut().insert(Subsegment {
            id: new_id(),
            trace,
            start: epoch_seconds(),
            annotations,
        });
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, context: Context<'_, S>) {
        let Some(span) = context.span(id) else { return };
        let mut extensions = span.extensions_mut();
        if let Some(subsegment) = extensions.get_mut::<Subsegment>() {
            values.record(&mut Fields {
                annotations: &mut subsegment.annotations,
                trace: &mut subsegment.trace,
            });
        }
    }

    fn on_close(&self, id: Id, context: Context<'_, S>) {
        let Some(span) = context.span(&id) else {
            return;
        };
        let extensions = span.extensions();
        let Some(subsegment) = extensions.get::<Subsegment>() else {
            return;
        };
        // The trace is the nearest one declared on this span or above it; the parent is
        // the span above (or, for the span that declares the trace, Lambda's segment).
        let mut parent_id = subsegment.trace.as_ref().and_then(|t| t.parent.clone());
        let mut trace = subsegment.trace.clone();
        if trace.is_none() {
            let mut ancestor = span.parent();
            while let Some(current) = ancestor {
                let ext = current.extensions();
                if let Some(above) = ext.get::<Subsegment>() {
                    if parent_id.is_none() {
                        parent_id = Some(above.id.clone());
                    }
                    if above.trace.is_some() {
                        trace = above.trace.clone();
                        break;
                    }
                }
                drop(ext);
                ancestor = current.parent();
            }
        }
        let Some(trace) = trace.filter(|t| t.sampled) else {
            return;
        };
        let mut document = serde_json::json!({
            "name": span.name(),
            "id": subsegment.id,
            "trace_id": trace.root,
            "start_time": subsegment.start,
            "end_time": epoch_seconds(),
            "type": "subsegment",
        });
        if let Some(parent) = parent_id {
            document["parent_id"] = parent.into();
        }
        if let Some(namespace) = remote_namespace(span.name()) {
            document["namespace"] = namespace.into();
        }
        if !subsegment.annotations.is_empty() {
            document["annotations"] = serde_json::Value::Object(subsegment.annotations.clone());
        }
        self.sink.send(&document);
    }
}

/// This workspace's crates, as `tracing` targets (module paths) begin.
pub const OUR_CRATES: [&str; 11] = [
    "postlens",
    "postlens_runtime",
    "postlens_analysis",
    "postlens_models",
    "postlens_media",
    "postlens_local_stack",
    "caption_parser",
    "auto_tagger",
    "text_scorer",
    "thumbnail_generator",
    "language_detector",
];

/// Spans worth a subsegment: this workspace's, not the AWS SDK's or the HTTP stack's.
pub fn is_traced_target(target: &str) -> bool {
    OUR_CRATES
        .iter()
        .any(|crate_name| target == *crate_name || target.starts_with(&format!("{crate_name}::")))
        || target.starts_with("postlens_")
}

/// Calls to AWS services are `aws` subsegments in the service map.
fn remote_namespace(name: &str) -> Option<&'static str> {
    ["s3.", "sns.", "dynamodb."]
        .iter()
        .any(|prefix| name.starts_with(prefix))
        .then_some("aws")
}

#[cfg(test)]
mod tests {
    use super::*;
    use tracing_subscriber::layer::SubscriberExt;

    const HEADER: &str =
        "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";

    #[test]
    fn only_this_workspaces_spans_are_traced() {
        assert!(is_traced_target("postlens_runtime::engine"));
        assert!(is_traced_target("thumbnail_generator"));
        assert!(is_traced_target("auto_tagger::batcher"));
        assert!(!is_traced_target(
            "aws_smithy_runtime::client::orchestrator"
        ));
        assert!(!is_traced_target("hyper_util::client"));
        assert!(!is_traced_target("lambda_runtime"));
    }

    #[test]
    fn trace_headers_are_read_and_bad_ones_refused() {
        let header = TraceHeader::parse(HEADER).expect("valid");
        assert_eq!(header.root, "1-5759e988-bd862e3fe1be46a994272793");
        assert_eq!(header.parent.as_deref(), Some("53995c3f42cd8ad8"));
        assert!(header.sampled);
        assert!(
            !TraceHeader::parse("Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0")
                .expect("valid")
                .sampled
        );
        assert_eq!(TraceHeader::parse("Root=2-x-y;Parent=1"), None);
        assert_eq!(TraceHeader::parse(""), None);
    }

    #[test]
    fn spans_become_nested_subsegments_of_the_lambda_segment() {
        let captured = CapturedSegments::default();
        let subscriber = tracing_subscriber::registry().with(XRayLayer::new(captured.clone()));
        tracing::subscriber::with_default(subscriber, || {
            let invocation =
                tracing::info_span!("invocation", xray_trace_id = HEADER, request_id = "r-1");
            let _i = invocation.enter();
            let record = tracing::info_span!(
                "record",
                message_id = "m-1",
                event_id = tracing::field::Empty
            );
            let _r = record.enter();
            record.record("event_id", "e-1");
            tracing::info_span!("sns.publish_batch").in_scope(|| {});
            tracing::info_span!("analyse").in_scope(|| {});
        });
        let documents = captured.0.lock().expect("lock").clone();
        let by_name = |name: &str| {
            documents
                .iter()
                .find(|d| d["name"] == name)
                .unwrap_or_else(|| panic!("no {name} in {documents:?}"))
                .clone()
        };
        let (invocation, record) = (by_name("invocation"), by_name("record"));
        let (publish, analyse) = (by_name("sns.publish_batch"), by_name("analyse"));
        assert_eq!(documents.len(), 4);
        for document in &documents {
            assert_eq!(document["trace_id"], "1-5759e988-bd862e3fe1be46a994272793");
            assert_eq!(document["type"], "subsegment");
            assert!(document["end_time"].as_f64() >= document["start_time"].as_f64());
            assert_eq!(document["id"].as_str().map(str::len), Some(16));
        }
        assert_eq!(invocation["parent_id"], "53995c3f42cd8ad8");
        assert_eq!(record["parent_id"], invocation["id"]);
        assert_eq!(publish["parent_id"], record["id"]);
        assert_eq!(analyse["parent_id"], record["id"]);
        assert_eq!(publish["namespace"], "aws");
        assert_eq!(record["annotations"]["message_id"], "m-1");
        assert_eq!(record["annotations"]["event_id"], "e-1");
        assert_eq!(invocation["annotations"]["request_id"], "r-1");
    }

    #[test]
    fn unsampled_or_untraced_spans_send_nothing() {
        let captured = CapturedSegments::default();
        let subscriber = tracing_subscriber::registry().with(XRayLayer::new(captured.clone()));
        tracing::subscriber::with_default(subscriber, || {
            tracing::info_span!("loose").in_scope(|| {});
            let unsampled = HEADER.replace("Sampled=1", "Sampled=0");
            tracing::info_span!("invocation", xray_trace_id = unsampled.as_str())
                .in_scope(|| tracing::info_span!("record").in_scope(|| {}));
        });
        assert!(captured.0.lock().expect("lock").is_empty());
    }

    /// The socket was bound to 127.0.0.1, from which Lambda's daemon at 169.254.79.129 is
    /// unreachable (EINVAL on every send, silently dropped).
    #[test]
    fn the_socket_can_reach_a_daemon_off_loopback() {
        let sink =
            DaemonSink::new("udp:169.254.79.129:2000 tcp:169.254.79.129:2000").expect("sink");
        let local = sink.socket.local_addr().expect("local address");
        assert!(local.ip().is_unspecified(), "{local}");
        assert_eq!(sink.daemon.to_string(), "169.254.79.129:2000");
        let v6 = DaemonSink::new("[::1]:2000").expect("sink");
        assert!(v6.socket.local_addr().expect("local").is_ipv6());
    }

    #[test]
    fn failed_sends_are_counted() {
        // Linux refuses a UDP datagram to port 0 (EINVAL) before it leaves the host.
        let sink = DaemonSink::new("127.0.0.1:0").expect("sink");
        sink.send(&serde_json::json!({"name": "x"}));
        assert_eq!(sink.failed_sends(), 1);
    }

    #[test]
    fn the_daemon_gets_a_header_line_and_the_document() {
        let daemon = UdpSocket::bind("127.0.0.1:0").expect("bind");
        let address = daemon.local_addr().expect("address");
        let sink = DaemonSink::new(&format!("udp:{address} tcp:127.0.0.1:2000")).expect("sink");
        sink.send(&serde_json::json!({"name": "x"}));
        let mut buffer = [0u8; 512];
        daemon
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .expect("timeout");
        let (length, _) = daemon.recv_from(&mut buffer).expect("datagram");
        let text = std::str::from_utf8(&buffer[..length]).expect("utf-8");
        let (header, body) = text.split_once('\n').expect("two lines");
        assert_eq!(header, r#"{"format": "json", "version": 1}"#);
        assert_eq!(body, r#"{"name":"x"}"#);
    }
}
