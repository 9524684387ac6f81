//! What a worker implements to be run by the [`BatchEngine`](super::BatchEngine).

use std::future::Future;

use serde::{de::DeserializeOwned, Serialize};

use crate::error::RecordError;
use crate::event::WorkerDescriptor;
use crate::metrics::Metric;

/// One kind of analysis, wired to the engine. Implementations stay free of AWS types.
pub trait Worker: Send + Sync + 'static {
    /// The input event, as the contract defines it (unknown fields ignored).
    type Input: DeserializeOwned + Send + 'static;
    /// The `result` of an `ok` event.
    type Output: Serialize + Send + 'static;

    /// The worker's name, version, output event type and subject key.
    fn descriptor(&self) -> &WorkerDescriptor;

    /// Analyses one input. Return `RecordError::Permanent` for bad input (an error event is
    /// published) and `RecordError::Transient` for anything a retry may fix.
    fn process(
        &self,
        input: Self::Input,
    ) -> impl Future<Output = Result<Self::Output, RecordError>> + Send;

    /// Extra SNS message attributes for filter policies, e.g. `top_category`.
    fn attributes(&self, _output: &Self::Output) -> Vec<(String, String)> {
        Vec::new()
    }

    /// The worker's own metrics for one result (e.g. detections found), summed over the
    /// batch into its EMF line. Counted when the analysis succeeds, so a record whose
    /// publish is retried counts again on its next delivery.
    fn metrics(&self, _output: &Self::Output) -> Vec<Metric> {
        Vec::new()
    }
}
