//! One worker's slice of the template on a running emulator, as the end-to-end tests of
//! each worker crate set it up: the whole stack, the worker's function with its resolved
//! environment, and a tap queue on its output topic.

use std::collections::BTreeMap;
use std::time::Duration;

use postlens_runtime::Worker;

use crate::drain::DrainReport;
use crate::stack::{DrainWorkerError, LocalStack, StackError};
use crate::tap::Tap;
use crate::topology::{find_template, FunctionSpec, Topology, TopologyError};

/// Why a worker's slice of the template could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum FixtureError {
    /// No `infra/template.yaml` in this directory or a parent.
    #[error("infra/template.yaml not found from the current directory")]
    NoTemplate,
    /// The template could not be read.
    #[error(transparent)]
    Topology(#[from] TopologyError),
    /// A resource could not be created.
    #[error(transparent)]
    Stack(#[from] StackError),
    /// No function builds this binary.
    #[error("the template has no function for the {0} binary")]
    NoFunction(String),
}

/// One worker's resources from the template on a running emulator, with its output tapped: what a worker's moto test needs.
pub struct WorkerFixture {
    /// Every resource of the template.
    pub stack: LocalStack,
    /// The worker's function.
    pub function: FunctionSpec,
    /// The function's environment, references resolved to this stack's ARNs, URLs and names.
    pub environment: BTreeMap<String, String>,
    /// An SNS client on the emulator, for publishing inputs.
    pub sns: aws_sdk_sns::Client,
    /// Raw-delivery queue subscribed to the worker's `OUTPUT_TOPIC_ARN`.
    pub tap: Tap,
    config: aws_config::SdkConfig,
}

impl WorkerFixture {
    /// Creates the template's resources on the emulator behind `config` and taps the output
    /// topic of the function whose binary is `binary`.
    pub async fn create(
        config: &aws_config::SdkConfig,
        binary: &str,
    ) -> Result<Self, FixtureError> {
        let topology = Topology::from_file(&find_template().ok_or(FixtureError::NoTemplate)?)?;
        let stack = LocalStack::create(topology, config).await?;
        let function = stack
            .topology
            .function(binary)
            .ok_or_else(|| FixtureError::NoFunction(binary.to_owned()))?
            .clone();
        let environment = stack.environment(&function)?;
        let output = environment
            .get("OUTPUT_TOPIC_ARN")
            .cloned()
            .ok_or_else(|| {
                StackError::Unknown(format!("{}.OUTPUT_TOPIC_ARN", function.id), String::new())
            })?;
        let sns = aws_sdk_sns::Client::new(config);
        let tap = Tap::subscribe(
            &format!("{binary}-tap"),
            &output,
            aws_sdk_sqs::Client::new(config),
            &sns,
        )
        .await?;
        Ok(Self {
            stack,
            function,
            environment,
            sns,
            tap,
            config: config.clone(),
        })
    }

    /// Publishes each body to the template's topic `topic_id` (a logical id).
    pub async fn publish(
        &self,
        topic_id: &str,
        bodies: impl IntoIterator<Item = String>,
    ) -> Result<(), StackError> {
        let arn = self
            .stack
            .topic_arn(topic_id)
            .ok_or_else(|| StackError::Unknown("publish".to_owned(), topic_id.to_owned()))?;
        for body in bodies {
            self.sns
                .publish()
                .topic_arn(arn)
                .message(body)
                .send()
                .await
                .map_err(|e| StackError::Aws {
                    operation: "Publish",
                    resource: topic_id.to_owned(),
                    message: crate::errors::describe(&e),
                })?;
        }
        Ok(())
    }

    /// Runs `worker` behind the function's queue until it drains (see
    /// [`LocalStack::drain_worker`]).
    pub async fn drain<W: Worker>(
        &self,
        worker: W,
        max_duration: Duration,
    ) -> Result<DrainReport, DrainWorkerError> {
        self.stack
            .drain_worker(worker, &self.function, &self.config, max_duration)
            .await
    }
}
