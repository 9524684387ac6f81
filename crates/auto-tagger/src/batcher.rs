//! One MiniLM forward pass per SQS batch instead of one per record.
//!
//! The engine starts a batch's records concurrently; each record queues its text and
//! yields once, so by the time the first of them runs again every record of the batch has
//! queued. Whichever runs first takes everything queued and encodes it in one padded pass.
//! Every caller can take the queue, so a cancelled caller cannot strand the others: their
//! reply channel closes and they report a retryable error.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use postlens_runtime::{codes, CpuPool, RecordError};
use tokio::sync::oneshot;

use crate::{EncodedCaption, Models};

type Reply = Result<EncodedCaption, String>;

pub struct EncodeBatcher {
    models: Arc<Models>,
    cpu: CpuPool,
    queue: Mutex<Vec<(String, oneshot::Sender<Reply>)>>,
    forward_passes: AtomicU64,
}

impl EncodeBatcher {
    pub fn new(models: Arc<Models>, cpu: CpuPool) -> Self {
        Self {
            models,
            cpu,
            queue: Mutex::new(Vec::new()),
            forward_passes: AtomicU64::new(0),
        }
    }

    pub async fn encode(&self, text: String) -> Result<EncodedCaption, RecordError> {
        let (reply, answer) = oneshot::channel();
        self.lock().push((text, reply));
        tokio::task::yield_now().await;
        let batch = std::mem::take(&mut *self.lock());
        if !batch.is_empty() {
            self.encode_batch(batch).await;
        }
        match answer.await {
            Ok(Ok(encoded)) => Ok(encoded),
            Ok(Err(message)) => Err(RecordError::transient(codes::INFERENCE_FAILED, message)),
            Err(_) => Err(RecordError::transient(
                codes::INFERENCE_FAILED,
                "the batch encoding this record was cancelled",
            )),
        }
    }

    /// Forward passes run so far (one per batch when records arrive together).
    pub fn forward_passes(&self) -> u64 {
        self.forward_passes.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(String, oneshot::Sender<Reply>)>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn encode_batch(&self, batch: Vec<(String, oneshot::Sender<Reply>)>) {
        let (texts, replies): (Vec<String>, Vec<_>) = batch.into_iter().unzip();
        self.forward_passes.fetch_add(1, Ordering::Relaxed);
        let models = self.models.clone();
        let encoded = self
            .cpu
            .run(move || {
                let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
                models.encode(&refs)
            })
            .await;
        match encoded {
            Ok(Ok(encoded)) => {
                for (reply, one) in replies.into_iter().zip(encoded) {
                    // A receiver that went away (its record was cancelled) needs nothing.
                    let _ = reply.send(Ok(one));
                }
            }
            Ok(Err(error)) => {
                for reply in replies {
                    let _ = reply.send(Err(error.to_string()));
                }
            }
            Err(error) => {
                for reply in replies {
                    let _ = reply.send(Err(error.message().to_owned()));
                }
            }
        }
    }
}
