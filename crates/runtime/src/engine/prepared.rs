//! A record's event: drafted while the record is decoded ([`EventDraft`]), then built as a
//! typed [`OutputEvent`] and serialised once ([`Prepared`]). Later changes (the result moved
//! to S3, an error event in place of one SNS refused) change the typed event and serialise
//! it again; nothing is parsed back, and the SNS attributes are always derived from it.

use std::collections::BTreeMap;
use std::time::Instant;

use aws_lambda_events::event::sqs::SqsMessage;
use serde_json::Value;

use crate::contracts::{check_id, MAX_ID_BYTES};
use crate::envelope::{decode_body, Payload};
use crate::error::{codes, RecordError};
use crate::event::{
    derive_event_id, ContentDigest, ErrorBody, OutputEvent, ResultLocation, Status,
    WorkerDescriptor, WorkerInfo, SCHEMA_VERSION,
};
use crate::idempotency::StoredResult;
use crate::metrics::{elapsed_ms, Metric};
use crate::sink::PublishEntry;

use super::bounded_prefix;

/// The attributes every event carries, derived from the event itself; a worker's own
/// attributes ([`super::Worker::attributes`]) come after them.
const EVENT_ATTRIBUTES: [&str; 5] = [
    "event_type",
    "status",
    "worker",
    "error_code",
    "result_location",
];

/// A record's event, built and serialised, waiting to be published.
pub(crate) struct Prepared {
    /// Boxed: a batch moves its stages around, and the event is most of one.
    event: Box<OutputEvent>,
    /// `event` as published: serialised when the event is built or changed, never parsed.
    message: String,
    /// The worker's attributes, non-empty and with what SQS refuses replaced.
    worker_attributes: Vec<(String, String)>,
    pub(super) metrics: Vec<Metric>,
    /// Published before and read back from the idempotency store, not analysed again.
    pub(super) republished: bool,
    /// Its result was written to S3 and the event points at it.
    pub(super) offloaded: bool,
    /// The error event's code, counted in the report (not for a republished event: it was
    /// counted when first published).
    pub(super) error_code: Option<&'static str>,
}

impl Prepared {
    /// `event` serialised once.
    pub(super) fn new(
        event: OutputEvent,
        worker_attributes: Vec<(String, String)>,
        metrics: Vec<Metric>,
        error_code: Option<&'static str>,
    ) -> Result<Self, RecordError> {
        // SNS refuses an attribute with an empty value; an empty one says nothing anyway.
        // A value from the input (a language, a label) may carry what SQS refuses.
        let worker_attributes = worker_attributes
            .into_iter()
            .filter(|(_, value)| !value.is_empty())
            .map(|(name, value)| {
                let value = crate::sqs_text::replace_refused(&value).into_owned();
                (name, value)
            })
            .collect();
        Ok(Self {
            message: serialise(&event)?,
            event: Box::new(event),
            worker_attributes,
            metrics,
            republished: false,
            offloaded: false,
            error_code,
        })
    }

    /// A result read back from the idempotency store, to publish again as it was (the
    /// stored text, not a new serialisation). `None` when the stored message is not an
    /// event this version can read: the record is then analysed again.
    pub(super) fn from_stored(stored: StoredResult) -> Option<Self> {
        let event: Box<OutputEvent> = serde_json::from_str(&stored.message).ok()?;
        let worker_attributes = stored
            .attributes
            .into_iter()
            .filter(|(name, _)| !EVENT_ATTRIBUTES.contains(&name.as_str()))
            .collect();
        Some(Self {
            event,
            message: stored.message,
            worker_attributes,
            metrics: Vec::new(),
            republished: true,
            offloaded: false,
            error_code: None,
        })
    }

    pub(super) fn event_id(&self) -> &str {
        &self.event.event_id
    }

    pub(super) fn status(&self) -> Status {
        self.event.status
    }

    pub(super) fn message(&self) -> &str {
        &self.message
    }

    /// The SNS message attributes: the event's own, then the worker's.
    pub(super) fn attributes(&self) -> Vec<(String, String)> {
        let event = &self.event;
        let mut attributes = vec![
            ("event_type".to_owned(), event.event_type.clone()),
            ("status".to_owned(), event.status.as_str().to_owned()),
            ("worker".to_owned(), event.worker.name.clone()),
        ];
        if let Some(error) = &event.error {
            attributes.push(("error_code".to_owned(), error.code.clone()));
        }
        attributes.extend(self.worker_attributes.iter().cloned());
        if event.result_location.is_some() {
            attributes.push(("result_location".to_owned(), "s3".to_owned()));
        }
        attributes
    }

    /// Bytes SNS counts against its message size limit.
    pub(super) fn billed_size(&self) -> usize {
        self.entry(0, None).billed_size()
    }

    /// The entry for a PublishBatch call: `id` unique in the call, and the FIFO topic's
    /// message group (the event id is then its deduplication id).
    pub(super) fn entry(&self, id: usize, fifo_group: Option<&str>) -> PublishEntry {
        PublishEntry {
            id: id.to_string(),
            message: self.message.clone(),
            attributes: self.attributes(),
            group_id: fifo_group.map(str::to_owned),
            deduplication_id: fifo_group.map(|_| self.event.event_id.clone()),
        }
    }

    /// The event with its result moved to `location` (`bytes` long).
    pub(super) fn pointing_to(
        mut self,
        location: String,
        bytes: usize,
    ) -> Result<Self, RecordError> {
        self.event.result = None;
        self.event.result_location = Some(ResultLocation {
            s3_uri: location,
            bytes,
        });
        self.message = serialise(&self.event)?;
        self.offloaded = true;
        Ok(self)
    }

    /// An error event under `error` in this event's place.
    pub(super) fn into_error_event(mut self, error: &RecordError) -> Result<Self, RecordError> {
        self.event.status = Status::Error;
        self.event.result = None;
        self.event.error = Some(ErrorBody::from(error));
        self.message = serialise(&self.event)?;
        self.error_code = Some(error.code());
        Ok(self)
    }
}

fn serialise(event: &OutputEvent) -> Result<String, RecordError> {
    crate::sqs_text::to_json(event)
        .map_err(|e| RecordError::transient(codes::SERIALIZE_FAILED, e.to_string()))
}

/// The fields of an event known before analysis finishes.
#[derive(Clone)]
pub(super) struct EventDraft {
    /// What the event id is derived from: the raw body until it decodes, then the
    /// message inside it (see [`derive_event_id`]).
    pub(super) content: ContentDigest,
    pub(super) source_event_id: Option<String>,
    pub(super) subject_id: Option<String>,
    pub(super) timings: BTreeMap<String, f64>,
}

impl EventDraft {
    pub(super) fn new(record: &SqsMessage) -> Self {
        Self {
            content: ContentDigest::of_bytes(record.body.as_deref().unwrap_or_default().as_bytes()),
            source_event_id: None,
            subject_id: None,
            timings: BTreeMap::new(),
        }
    }

    /// The identity of an inline body, for the event of a record that was never decoded
    /// (it never started, or its decoding panicked). Claim-checked bodies are not fetched:
    /// such an event names only the message.
    pub(super) fn best_effort(record: &SqsMessage, subject_key: &str) -> Self {
        let mut draft = Self::new(record);
        if let Ok(decoded) = decode_body(record.body.as_deref()) {
            if let Payload::Inline(value) = decoded.payload {
                draft.content = ContentDigest::of_json(&value);
                let _ = draft.read_identity(&value, subject_key);
            }
        }
        draft
    }

    /// Best effort: an input that fails the schema still names its subject in the error event.
    /// An id over [`MAX_ID_BYTES`] is an error for every worker; the event then carries a
    /// bounded prefix of it, so it can still be published.
    pub(super) fn read_identity(
        &mut self,
        payload: &Value,
        subject_key: &str,
    ) -> Result<(), RecordError> {
        let mut verdict = Ok(());
        if let Some(id) = payload
            .get("event_id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            match check_id("event_id", id) {
                Ok(()) => {
                    self.source_event_id = Some(id.to_owned());
                }
                Err(error) => {
                    self.source_event_id = Some(bounded_prefix(id).to_owned());
                    verdict = Err(error);
                }
            }
        }
        let subject = match payload.get(subject_key) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        if let Some(id) = &subject {
            if id.len() > MAX_ID_BYTES {
                verdict = verdict.and(check_id(subject_key, id));
            }
        }
        self.subject_id = subject.map(|id| bounded_prefix(&id).to_owned());
        verdict
    }

    pub(super) fn into_event(
        self,
        descriptor: &WorkerDescriptor,
        result: Option<Value>,
        error: Option<&RecordError>,
        started: Instant,
    ) -> OutputEvent {
        let mut timings = self.timings;
        timings.insert("total".to_owned(), elapsed_ms(started));
        OutputEvent {
            event_type: descriptor.event_type.to_owned(),
            schema_version: SCHEMA_VERSION.to_owned(),
            event_id: derive_event_id(descriptor.name, &self.content),
            source_event_id: self.source_event_id,
            subject: BTreeMap::from([(descriptor.subject_key.to_owned(), self.subject_id)]),
            status: if error.is_some() {
                Status::Error
            } else {
                Status::Ok
            },
            result,
            result_location: None,
            error: error.map(ErrorBody::from),
            worker: WorkerInfo {
                name: descriptor.name.to_owned(),
                version: descriptor.version.to_owned(),
            },
            timings_ms: timings,
        }
    }
}
