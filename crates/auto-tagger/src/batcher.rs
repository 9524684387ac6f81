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

type Reply<T> = Result<T, RecordError>;

/// What a forward pass runs over the models `M`: [`Models::encode`] in the Lambda.
pub type EncodeFn<M, T> = Arc<dyn Fn(&M, &[&str]) -> Result<Vec<T>, String> + Send + Sync>;

/// The queue of one batch's texts and the pass that encodes them, over models `M` giving
/// one `T` per text (`Models` and [`EncodedCaption`] in the Lambda).
pub struct EncodeBatcher<M = Models, T = EncodedCaption> {
    models: Arc<M>,
    cpu: CpuPool,
    queue: Mutex<Vec<(String, oneshot::Sender<Reply<T>>)>>,
    forward_passes: AtomicU64,
    encode_texts: EncodeFn<M, T>,
}

impl EncodeBatcher {
    pub fn new(models: Arc<Models>, cpu: CpuPool) -> Self {
        Self::with_encoder(
            models,
            cpu,
            Arc::new(|models: &Models, texts: &[&str]| {
                models.encode(texts).map_err(|e| e.to_string())
            }),
        )
    }
}

impl<M: Send + Sync + 'static, T: Send + 'static> EncodeBatcher<M, T> {
    pub fn with_encoder(models: Arc<M>, cpu: CpuPool, encode_texts: EncodeFn<M, T>) -> Self {
        Self {
            models,
            cpu,
            queue: Mutex::new(Vec::new()),
            forward_passes: AtomicU64::new(0),
            encode_texts,
        }
    }

    pub async fn encode(&self, text: String) -> Result<T, RecordError> {
        let (reply, answer) = oneshot::channel();
        self.lock().push((text, reply));
        tokio::task::yield_now().await;
        let batch = std::mem::take(&mut *self.lock());
        if !batch.is_empty() {
            self.encode_batch(batch).await;
        }
        match answer.await {
            Ok(reply) => reply,
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

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(String, oneshot::Sender<Reply<T>>)>> {
        self.queue.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn encode_batch(&self, batch: Vec<(String, oneshot::Sender<Reply<T>>)>) {
        let (texts, replies): (Vec<String>, Vec<_>) = batch.into_iter().unzip();
        let texts = Arc::new(texts);
        let shared = self.run_pass(texts.clone(), None).await;
        match shared {
            Ok(encoded) => {
                for (reply, one) in replies.into_iter().zip(encoded) {
                    // A receiver that went away (its record was cancelled) needs nothing.
                    let _ = reply.send(Ok(one));
                }
            }
            Err(error) if texts.len() == 1 => {
                for reply in replies {
                    let _ = reply.send(Err(error.clone()));
                }
            }
            Err(_) => {
                // One bad text must not fail its batch-mates: encode each on its own, so
                // only the text that fails (or panics) is retried.
                for (index, reply) in replies.into_iter().enumerate() {
                    let one = self.run_pass(texts.clone(), Some(index)).await;
                    let _ = reply.send(one.map(|mut encoded| encoded.remove(0)));
                }
            }
        }
    }

    /// One forward pass over all `texts`, or over `texts[only]` alone.
    async fn run_pass(
        &self,
        texts: Arc<Vec<String>>,
        only: Option<usize>,
    ) -> Result<Vec<T>, RecordError> {
        self.forward_passes.fetch_add(1, Ordering::Relaxed);
        let models = self.models.clone();
        let encode = self.encode_texts.clone();
        self.cpu
            .run(move || {
                let refs: Vec<&str> = match only {
                    Some(index) => vec![texts[index].as_str()],
                    None => texts.iter().map(String::as_str).collect(),
                };
                encode(&models, &refs)
            })
            .await?
            .map_err(|message| RecordError::transient(codes::INFERENCE_FAILED, message))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Upper-cases texts; "poison" fails the pass it is in, "panic" panics in it.
    fn fragile_batcher() -> Arc<EncodeBatcher<(), String>> {
        Arc::new(EncodeBatcher::with_encoder(
            Arc::new(()),
            CpuPool::new(1),
            Arc::new(|_: &(), texts: &[&str]| {
                if texts.contains(&"panic") {
                    panic!("model panicked");
                }
                if texts.contains(&"poison") {
                    return Err("tensor shape mismatch".to_owned());
                }
                Ok(texts.iter().map(|t| t.to_uppercase()).collect())
            }),
        ))
    }

    async fn encode_together(
        batcher: &Arc<EncodeBatcher<(), String>>,
        texts: &[&str],
    ) -> Vec<Reply<String>> {
        let calls = texts.iter().map(|text| {
            let batcher = batcher.clone();
            let text = text.to_string();
            async move { batcher.encode(text).await }
        });
        futures::future::join_all(calls).await
    }

    #[tokio::test]
    async fn a_batch_shares_one_pass() {
        let batcher = fragile_batcher();
        let replies = encode_together(&batcher, &["a", "b", "c"]).await;
        assert_eq!(
            replies,
            vec![Ok("A".to_owned()), Ok("B".to_owned()), Ok("C".to_owned())]
        );
        assert_eq!(batcher.forward_passes(), 1);
    }

    #[tokio::test]
    async fn a_failing_or_panicking_text_fails_only_its_own_record() {
        let batcher = fragile_batcher();
        let replies = encode_together(&batcher, &["a", "poison", "b", "panic"]).await;
        assert_eq!(replies[0], Ok("A".to_owned()));
        assert_eq!(replies[2], Ok("B".to_owned()));
        let poison = replies[1].as_ref().unwrap_err();
        assert_eq!(poison.code(), codes::INFERENCE_FAILED);
        let panicked = replies[3].as_ref().unwrap_err();
        assert_eq!(panicked.code(), codes::PANIC);
        assert!(panicked.message().contains("model panicked"));
    }
}
