//! Creates a [`Topology`] on an emulator (or any SQS/SNS/S3 endpoint) and resolves the
//! names the functions' environments refer to.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
};
use aws_sdk_sqs::types::QueueAttributeName;
use postlens_runtime::{Worker, WorkerConfig};

mod roles;

use crate::drain::{run_until_drained, DrainOptions, DrainReport};
use crate::mapping::{EngineFunction, EventSourceMapping, MappingError, MappingSettings};
use crate::queue::{queue_arn, LocalQueue};
use crate::topology::{EnvValue, FunctionSpec, Topology};

/// Why the stack's resources could not be created or used.
#[derive(Debug, thiserror::Error)]
pub enum StackError {
    /// An AWS call failed.
    #[error("{operation} {resource}: {message}")]
    Aws {
        /// The operation, e.g. `CreateQueue`.
        operation: &'static str,
        /// The logical id or name it was about.
        resource: String,
        /// The SDK error, with its service code.
        message: String,
    },
    /// A resource names another that the template lacks (referrer, referred).
    #[error("{0} refers to {1}, which the template does not define")]
    Unknown(String, String),
}

fn aws_error(operation: &'static str, resource: &str, error: impl std::error::Error) -> StackError {
    StackError::Aws {
        operation,
        resource: resource.to_owned(),
        message: crate::errors::describe(&error),
    }
}

/// The created resources, by logical id.
#[derive(Debug, Clone)]
pub struct LocalStack {
    /// The template the resources were made from.
    pub topology: Topology,
    /// Topic ARNs by logical id.
    pub topics: HashMap<String, String>,
    /// Queues by logical id.
    pub queues: HashMap<String, LocalQueue>,
    /// Bucket names by logical id.
    pub buckets: HashMap<String, String>,
    /// DynamoDB table names by logical id.
    pub tables: HashMap<String, String>,
    /// Every role handed out by [`LocalStack::role_config`], for [`LocalStack::refused`].
    pub(crate) roles: Arc<std::sync::Mutex<Vec<crate::iam::RoleClient>>>,
}

/// `NewVideoPostedTopic` → `new-video-posted-topic`: a valid name for topics, queues and buckets.
pub fn physical_name(logical_id: &str) -> String {
    let mut name = String::with_capacity(logical_id.len() + 4);
    for (i, c) in logical_id.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            name.push('-');
        }
        name.push(c.to_ascii_lowercase());
    }
    name
}

impl LocalStack {
    /// Creates buckets, topics, queues (dead-letter queues first), and subscriptions.
    pub async fn create(
        topology: Topology,
        config: &aws_config::SdkConfig,
    ) -> Result<Self, StackError> {
        let sns = aws_sdk_sns::Client::new(config);
        let sqs = aws_sdk_sqs::Client::new(config);
        let s3 = crate::emulator::s3_client(config);

        let mut buckets = HashMap::new();
        for id in &topology.buckets {
            let name = physical_name(id);
            s3.create_bucket()
                .bucket(&name)
                .send()
                .await
                .map_err(|e| aws_error("CreateBucket", id, e))?;
            buckets.insert(id.clone(), name);
        }

        let dynamodb = aws_sdk_dynamodb::Client::new(config);
        let mut tables = HashMap::new();
        for (id, hash_key) in &topology.tables {
            let name = physical_name(id);
            dynamodb
                .create_table()
                .table_name(&name)
                .billing_mode(BillingMode::PayPerRequest)
                .key_schema(
                    KeySchemaElement::builder()
                        .attribute_name(hash_key)
                        .key_type(KeyType::Hash)
                        .build()
                        .map_err(|e| aws_error("CreateTable", id, e))?,
                )
                .attribute_definitions(
                    AttributeDefinition::builder()
                        .attribute_name(hash_key)
                        .attribute_type(ScalarAttributeType::S)
                        .build()
                        .map_err(|e| aws_error("CreateTable", id, e))?,
                )
                .send()
                .await
                .map_err(|e| aws_error("CreateTable", id, e))?;
            tables.insert(id.clone(), name);
        }

        let mut topics = HashMap::new();
        for id in &topology.topics {
            let created = sns
                .create_topic()
                .name(physical_name(id))
                .send()
                .await
                .map_err(|e| aws_error("CreateTopic", id, e))?;
            topics.insert(
                id.clone(),
                created.topic_arn().unwrap_or_default().to_owned(),
            );
        }

        // Queues that others redrive to come first, so their ARNs exist.
        let mut ordered: Vec<_> = topology.queues.iter().collect();
        ordered.sort_by_key(|q| q.redrive.is_some());
        let mut queues: HashMap<String, LocalQueue> = HashMap::new();
        for spec in ordered {
            let mut request = sqs
                .create_queue()
                .queue_name(physical_name(&spec.id))
                .attributes(
                    QueueAttributeName::VisibilityTimeout,
                    spec.visibility_timeout_s.to_string(),
                );
            if let Some(redrive) = &spec.redrive {
                let target = queues.get(&redrive.dead_letter_queue).ok_or_else(|| {
                    StackError::Unknown(spec.id.clone(), redrive.dead_letter_queue.clone())
                })?;
                let policy = serde_json::json!({
                    "deadLetterTargetArn": target.arn,
                    "maxReceiveCount": redrive.max_receive_count,
                });
                request = request.attributes(QueueAttributeName::RedrivePolicy, policy.to_string());
            }
            let url = request
                .send()
                .await
                .map_err(|e| aws_error("CreateQueue", &spec.id, e))?
                .queue_url()
                .unwrap_or_default()
                .to_owned();
            let arn = queue_arn(&sqs, &url)
                .await
                .map_err(|e| aws_error("GetQueueAttributes", &spec.id, e))?;
            queues.insert(
                spec.id.clone(),
                LocalQueue {
                    url,
                    arn,
                    visibility_timeout_s: spec.visibility_timeout_s,
                },
            );
        }

        for subscription in &topology.subscriptions {
            let topic = topics.get(&subscription.topic).ok_or_else(|| {
                StackError::Unknown(subscription.id.clone(), subscription.topic.clone())
            })?;
            let queue = queues.get(&subscription.queue).ok_or_else(|| {
                StackError::Unknown(subscription.id.clone(), subscription.queue.clone())
            })?;
            let mut request = sns
                .subscribe()
                .topic_arn(topic)
                .protocol("sqs")
                .endpoint(&queue.arn)
                .attributes(
                    "RawMessageDelivery",
                    subscription.raw_message_delivery.to_string(),
                );
            if let Some(policy) = &subscription.filter_policy {
                request = request.attributes("FilterPolicy", policy.to_string());
            }
            request
                .send()
                .await
                .map_err(|e| aws_error("Subscribe", &subscription.id, e))?;
        }

        Ok(Self {
            topology,
            topics,
            queues,
            buckets,
            tables,
            roles: Arc::default(),
        })
    }

    /// The ARN of the topic with logical id `id`.
    pub fn topic_arn(&self, id: &str) -> Option<&str> {
        self.topics.get(id).map(String::as_str)
    }

    /// The queue a function's event source mapping reads, and the DLQ behind it.
    pub fn source_queues(
        &self,
        function: &FunctionSpec,
    ) -> (Option<&LocalQueue>, Option<&LocalQueue>) {
        let source = self.queues.get(&function.source.queue);
        let dead_letter = self
            .topology
            .queue(&function.source.queue)
            .and_then(|q| q.redrive.as_ref())
            .and_then(|r| self.queues.get(&r.dead_letter_queue));
        (source, dead_letter)
    }

    /// The function's environment with references resolved as CloudFormation would:
    /// a topic's ARN, a queue's URL, a bucket's name.
    pub fn environment(
        &self,
        function: &FunctionSpec,
    ) -> Result<BTreeMap<String, String>, StackError> {
        function
            .environment
            .iter()
            .map(|(name, value)| {
                let resolved = match value {
                    EnvValue::Literal(text) => text.clone(),
                    EnvValue::Ref(id) => self
                        .topics
                        .get(id)
                        .cloned()
                        .or_else(|| self.queues.get(id).map(|q| q.url.clone()))
                        .or_else(|| self.buckets.get(id).cloned())
                        .or_else(|| self.tables.get(id).cloned())
                        .ok_or_else(|| {
                            StackError::Unknown(format!("{}.{name}", function.id), id.clone())
                        })?,
                };
                Ok((name.clone(), resolved))
            })
            .collect()
    }
}

/// Why a worker could not be wired to the local stack.
#[derive(Debug, thiserror::Error)]
pub enum WiringError {
    /// A resource the worker needs is missing.
    #[error(transparent)]
    Stack(#[from] StackError),
    /// The function's policies cannot be read as a role.
    #[error(transparent)]
    Role(#[from] crate::iam::PolicyError),
    /// The function's environment is not a valid configuration.
    #[error("{function}: {source}")]
    Config {
        /// The function's logical id.
        function: String,
        /// What is wrong with its environment.
        source: postlens_runtime::ConfigError,
    },
}

/// Why `drain_worker` could not run a worker behind its queue.
#[derive(Debug, thiserror::Error)]
pub enum DrainWorkerError {
    /// The worker's settings or clients could not be made.
    #[error(transparent)]
    Wiring(#[from] WiringError),
    /// The event source mapping failed.
    #[error(transparent)]
    Mapping(#[from] MappingError),
    /// The function has no SQS event in the template.
    #[error("{0} has no source queue in the template")]
    NoQueue(String),
}

impl LocalStack {
    /// Runs `worker` as `function` behind its queue, through a local event source mapping
    /// with the template's settings, until the queue drains or `max_duration` passes.
    pub async fn drain_worker<W: Worker>(
        &self,
        worker: W,
        function: &FunctionSpec,
        config: &aws_config::SdkConfig,
        max_duration: std::time::Duration,
    ) -> Result<DrainReport, DrainWorkerError> {
        let engine = self.function(worker, function, config)?;
        let queue = self
            .source_queues(function)
            .0
            .ok_or_else(|| DrainWorkerError::NoQueue(function.id.clone()))?
            .clone();
        let sqs = aws_sdk_sqs::Client::new(config);
        let mapping = Arc::new(EventSourceMapping::new(
            function.binary.clone(),
            sqs.clone(),
            queue,
            MappingSettings::for_function(function),
            Arc::new(engine),
        ));
        let options = DrainOptions {
            max_duration,
            ..DrainOptions::default()
        };
        Ok(run_until_drained(&[mapping], &sqs, &options, |_| {}).await?)
    }

    /// The worker's function configured exactly as in Lambda: its engine and invocation
    /// settings from the function's environment in the template, with SNS and S3 clients
    /// for this stack's endpoint.
    pub fn function<W: Worker>(
        &self,
        worker: W,
        function: &FunctionSpec,
        config: &aws_config::SdkConfig,
    ) -> Result<EngineFunction<W>, WiringError> {
        let environment = self.environment(function)?;
        let worker_config = WorkerConfig::from_lookup(|name| environment.get(name).cloned())
            .map_err(|source| WiringError::Config {
                function: function.id.clone(),
                source,
            })?;
        // The function's clients act under its role, as in Lambda; the event source
        // mapping (the Lambda service) keeps the caller's `config`.
        let (config, _) = self.role_config(function, config)?;
        let s3 = crate::emulator::s3_client(&config);
        let invocation = worker_config.invocation.clone();
        let engine = postlens_runtime::lambda::wired_engine(worker, worker_config, &config, s3);
        Ok(EngineFunction::new(engine).with_invocation(&invocation))
    }
}

#[cfg(test)]
mod tests {
    use super::physical_name;

    #[test]
    fn logical_ids_become_kebab_case_names() {
        assert_eq!(
            physical_name("NewVideoPostedTopic"),
            "new-video-posted-topic"
        );
        assert_eq!(physical_name("MediaBucket"), "media-bucket");
    }
}
