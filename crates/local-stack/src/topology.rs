//! The system's topology read from `infra/template.yaml`, so the local stack cannot drift
//! from what `sam deploy` creates.
//!
//! Only what the local stack needs is read: topics, queues with their redrive policies,
//! SNS→SQS subscriptions, buckets, and each function's SQS event source mapping and
//! environment. `!Ref` to a parameter resolves to its `Default`; resources with a
//! `Condition` are left out (the only one is the optional alarm e-mail).

use std::collections::BTreeMap;
use std::path::Path;

use serde_yaml::Value;

/// Why the template could not be read as a topology.
#[derive(Debug, thiserror::Error)]
pub enum TopologyError {
    /// The file could not be read.
    #[error("reading {path}: {source}")]
    Read {
        /// The template's path.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not YAML (the template's `!Ref` / `!GetAtt` tags are accepted).
    #[error("template is not valid YAML: {0}")]
    Yaml(#[from] serde_yaml::Error),
    /// A resource lacks a property the local stack needs, or has one it cannot use.
    #[error("resource {resource}: {problem}")]
    Resource {
        /// The resource's logical id.
        resource: String,
        /// What is wrong with it.
        problem: String,
    },
}

/// The parts of the SAM template the local stack recreates: topics, queues, subscriptions, buckets, functions, layers and tables.
#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    /// Topic logical ids.
    pub topics: Vec<String>,
    /// The queues, dead-letter queues included.
    pub queues: Vec<QueueSpec>,
    /// SNS-to-SQS subscriptions.
    pub subscriptions: Vec<SubscriptionSpec>,
    /// Bucket logical ids.
    pub buckets: Vec<String>,
    /// The functions, each with its SQS event source.
    pub functions: Vec<FunctionSpec>,
    /// Layer logical id → its `ContentUri`, relative to the template's directory.
    pub layers: BTreeMap<String, String>,
    /// DynamoDB table logical id → its (string) partition key attribute.
    pub tables: BTreeMap<String, String>,
}

/// An `AWS::SQS::Queue`.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueSpec {
    /// Logical id.
    pub id: String,
    /// `VisibilityTimeout`, in seconds (SQS's default 30 when absent).
    pub visibility_timeout_s: u32,
    /// `FifoQueue: true`.
    pub fifo: bool,
    /// `RedrivePolicy`, if any.
    pub redrive: Option<Redrive>,
}

/// Where a queue sends messages received too often.
#[derive(Debug, Clone, PartialEq)]
pub struct Redrive {
    /// The dead-letter queue's logical id.
    pub dead_letter_queue: String,
    /// `maxReceiveCount`.
    pub max_receive_count: u32,
}

/// An `AWS::SNS::Subscription` of a queue to a topic.
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionSpec {
    /// Logical id.
    pub id: String,
    /// The topic's logical id.
    pub topic: String,
    /// The queue's logical id.
    pub queue: String,
    /// `RawMessageDelivery`: the queue gets the message body, not SNS's envelope.
    pub raw_message_delivery: bool,
    /// `FilterPolicy` on message attributes, if any.
    pub filter_policy: Option<serde_json::Value>,
}

/// An `AWS::Serverless::Function` with an SQS event.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionSpec {
    /// Logical id.
    pub id: String,
    /// The cargo binary (`Metadata.BuildProperties.Binary`), e.g. `caption-parser`.
    pub binary: String,
    /// `Timeout`, in seconds (`Globals` merged).
    pub timeout_s: u32,
    /// `MemorySize`, in MB (`Globals` merged).
    pub memory_mb: u32,
    /// Its SQS event.
    pub source: EventSourceSpec,
    /// Environment, `Globals` merged under the function's own variables.
    pub environment: BTreeMap<String, EnvValue>,
    /// Logical ids of the layers the function mounts (`Layers: [!Ref X]`).
    pub layers: Vec<String>,
    /// `Policies` as written (statements and SAM policy templates, references unresolved):
    /// the function's role, resolved and enforced by [`crate::iam`].
    pub policies: Vec<Value>,
}

/// A function's `Type: SQS` event.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSourceSpec {
    /// The source queue's logical id.
    pub queue: String,
    /// `BatchSize`.
    pub batch_size: u32,
    /// `MaximumBatchingWindowInSeconds`.
    pub batching_window_s: u32,
    /// `ScalingConfig.MaximumConcurrency` (pollers for this queue).
    pub maximum_concurrency: u32,
    /// `FunctionResponseTypes` includes `ReportBatchItemFailures`.
    pub report_batch_item_failures: bool,
}

/// An environment value: a literal, or a reference the local stack resolves once the
/// resource exists (`!Ref` gives a topic's ARN, a queue's URL, a bucket's name).
#[derive(Debug, Clone, PartialEq)]
pub enum EnvValue {
    /// A plain string.
    Literal(String),
    /// `!Ref LogicalId`.
    Ref(String),
}

impl Topology {
    /// Reads and parses the template at `path`.
    pub fn from_file(path: &Path) -> Result<Self, TopologyError> {
        let text = std::fs::read_to_string(path).map_err(|source| TopologyError::Read {
            path: path.display().to_string(),
            source,
        })?;
        Self::parse(&text)
    }

    /// Parses template text.
    pub fn parse(text: &str) -> Result<Self, TopologyError> {
        let template: Value = serde_yaml::from_str(text)?;
        let parameters = parameter_defaults(&template);
        let globals = template
            .get("Globals")
            .and_then(|g| g.get("Function"))
            .map(|f| environment(f, &parameters))
            .unwrap_or_default();
        let mut topology = Topology {
            topics: Vec::new(),
            queues: Vec::new(),
            subscriptions: Vec::new(),
            buckets: Vec::new(),
            functions: Vec::new(),
            layers: BTreeMap::new(),
            tables: BTreeMap::new(),
        };
        let Some(resources) = template.get("Resources").and_then(Value::as_mapping) else {
            return Ok(topology);
        };
        for (id, resource) in resources {
            let Some(id) = id.as_str() else { continue };
            if resource.get("Condition").is_some() {
                continue;
            }
            let reader = ResourceReader {
                id,
                properties: resource.get("Properties").unwrap_or(&Value::Null),
                parameters: &parameters,
            };
            match resource.get("Type").and_then(Value::as_str) {
                Some("AWS::SNS::Topic") => topology.topics.push(id.to_owned()),
                Some("AWS::S3::Bucket") => topology.buckets.push(id.to_owned()),
                Some("AWS::SQS::Queue") => topology.queues.push(reader.queue()?),
                Some("AWS::SNS::Subscription") => {
                    if let Some(subscription) = reader.sqs_subscription()? {
                        topology.subscriptions.push(subscription);
                    }
                }
                Some("AWS::DynamoDB::Table") => {
                    let hash_key = reader
                        .properties
                        .get("KeySchema")
                        .and_then(Value::as_sequence)
                        .and_then(|keys| {
                            keys.iter()
                                .find(|k| k.get("KeyType").and_then(Value::as_str) == Some("HASH"))
                        })
                        .and_then(|k| k.get("AttributeName"))
                        .and_then(Value::as_str)
                        .ok_or_else(|| reader.problem("KeySchema has no HASH key"))?;
                    topology.tables.insert(id.to_owned(), hash_key.to_owned());
                }
                Some("AWS::Serverless::LayerVersion") => {
                    if let Some(uri) = reader.properties.get("ContentUri").and_then(Value::as_str) {
                        topology.layers.insert(id.to_owned(), uri.to_owned());
                    }
                }
                Some("AWS::Serverless::Function") => {
                    if let Some(function) = reader.function(resource, &globals)? {
                        topology.functions.push(function);
                    }
                }
                _ => {}
            }
        }
        Ok(topology)
    }

    /// The function whose cargo binary is `binary`.
    pub fn function(&self, binary: &str) -> Option<&FunctionSpec> {
        self.functions.iter().find(|f| f.binary == binary)
    }

    /// The queue with logical id `id`.
    pub fn queue(&self, id: &str) -> Option<&QueueSpec> {
        self.queues.iter().find(|q| q.id == id)
    }
}

struct ResourceReader<'a> {
    id: &'a str,
    properties: &'a Value,
    parameters: &'a BTreeMap<String, Value>,
}

impl ResourceReader<'_> {
    fn problem(&self, problem: impl Into<String>) -> TopologyError {
        TopologyError::Resource {
            resource: self.id.to_owned(),
            problem: problem.into(),
        }
    }

    fn number(
        &self,
        value: Option<&Value>,
        name: &str,
        default: u32,
    ) -> Result<u32, TopologyError> {
        let Some(value) = value else {
            return Ok(default);
        };
        let resolved = resolve(value, self.parameters);
        as_u32(&resolved).ok_or_else(|| self.problem(format!("{name} is not a number")))
    }

    fn queue(&self) -> Result<QueueSpec, TopologyError> {
        let p = self.properties;
        let redrive = match p.get("RedrivePolicy") {
            None => None,
            Some(policy) => {
                let target = policy
                    .get("deadLetterTargetArn")
                    .and_then(intrinsic)
                    .map(|i| i.resource)
                    .ok_or_else(|| self.problem("deadLetterTargetArn must be !GetAtt Queue.Arn"))?;
                Some(Redrive {
                    dead_letter_queue: target,
                    max_receive_count: self.number(
                        policy.get("maxReceiveCount"),
                        "maxReceiveCount",
                        10,
                    )?,
                })
            }
        };
        Ok(QueueSpec {
            id: self.id.to_owned(),
            // CloudFormation's defaults.
            visibility_timeout_s: self.number(
                p.get("VisibilityTimeout"),
                "VisibilityTimeout",
                30,
            )?,
            fifo: p.get("FifoQueue").and_then(Value::as_bool).unwrap_or(false),
            redrive,
        })
    }

    /// SNS→SQS subscriptions; other protocols (e-mail) have no local counterpart.
    fn sqs_subscription(&self) -> Result<Option<SubscriptionSpec>, TopologyError> {
        let p = self.properties;
        if p.get("Protocol").and_then(Value::as_str) != Some("sqs") {
            return Ok(None);
        }
        let topic = p
            .get("TopicArn")
            .and_then(intrinsic)
            .map(|i| i.resource)
            .ok_or_else(|| self.problem("TopicArn must be !Ref Topic"))?;
        let queue = p
            .get("Endpoint")
            .and_then(intrinsic)
            .map(|i| i.resource)
            .ok_or_else(|| self.problem("Endpoint must be !GetAtt Queue.Arn"))?;
        let filter_policy = match p.get("FilterPolicy") {
            None => None,
            Some(policy) => Some(
                serde_json::to_value(policy)
                    .map_err(|e| self.problem(format!("FilterPolicy: {e}")))?,
            ),
        };
        Ok(Some(SubscriptionSpec {
            id: self.id.to_owned(),
            topic,
            queue,
            raw_message_delivery: p
                .get("RawMessageDelivery")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            filter_policy,
        }))
    }

    /// A function with an SQS event; functions without one are not part of the fan-out.
    fn function(
        &self,
        resource: &Value,
        globals: &BTreeMap<String, EnvValue>,
    ) -> Result<Option<FunctionSpec>, TopologyError> {
        let p = self.properties;
        let Some(event) = p
            .get("Events")
            .and_then(Value::as_mapping)
            .and_then(|events| {
                events
                    .values()
                    .find(|e| e.get("Type").and_then(Value::as_str) == Some("SQS"))
            })
            .and_then(|e| e.get("Properties"))
        else {
            return Ok(None);
        };
        let binary = resource
            .get("Metadata")
            .and_then(|m| m.get("BuildProperties"))
            .and_then(|b| b.get("Binary"))
            .and_then(Value::as_str)
            .ok_or_else(|| self.problem("Metadata.BuildProperties.Binary is missing"))?;
        let queue = event
            .get("Queue")
            .and_then(intrinsic)
            .map(|i| i.resource)
            .ok_or_else(|| self.problem("the SQS event's Queue must be !GetAtt Queue.Arn"))?;
        let report_batch_item_failures = event
            .get("FunctionResponseTypes")
            .and_then(Value::as_sequence)
            .is_some_and(|types| {
                types
                    .iter()
                    .any(|t| t.as_str() == Some("ReportBatchItemFailures"))
            });
        let source = EventSourceSpec {
            queue,
            batch_size: self.number(event.get("BatchSize"), "BatchSize", 10)?,
            batching_window_s: self.number(
                event.get("MaximumBatchingWindowInSeconds"),
                "MaximumBatchingWindowInSeconds",
                0,
            )?,
            maximum_concurrency: self.number(
                event
                    .get("ScalingConfig")
                    .and_then(|s| s.get("MaximumConcurrency")),
                "MaximumConcurrency",
                1000,
            )?,
            report_batch_item_failures,
        };
        let mut env = globals.clone();
        env.extend(environment(p, self.parameters));
        Ok(Some(FunctionSpec {
            id: self.id.to_owned(),
            binary: binary.to_owned(),
            timeout_s: self.number(p.get("Timeout"), "Timeout", 3)?,
            memory_mb: self.number(p.get("MemorySize"), "MemorySize", 128)?,
            source,
            environment: env,
            layers: p
                .get("Layers")
                .and_then(Value::as_sequence)
                .map(|layers| {
                    layers
                        .iter()
                        .filter_map(intrinsic)
                        .map(|i| i.resource)
                        .collect()
                })
                .unwrap_or_default(),
            policies: p
                .get("Policies")
                .and_then(Value::as_sequence)
                .cloned()
                .unwrap_or_default(),
        }))
    }
}

/// `Environment.Variables` of a function (or of `Globals.Function`).
fn environment(
    function: &Value,
    parameters: &BTreeMap<String, Value>,
) -> BTreeMap<String, EnvValue> {
    let Some(variables) = function
        .get("Environment")
        .and_then(|e| e.get("Variables"))
        .and_then(Value::as_mapping)
    else {
        return BTreeMap::new();
    };
    variables
        .iter()
        .filter_map(|(name, value)| {
            let name = name.as_str()?.to_owned();
            let value = match intrinsic(value) {
                Some(Intrinsic {
                    function: "Ref",
                    resource,
                    ..
                }) if !parameters.contains_key(&resource) => EnvValue::Ref(resource),
                _ => EnvValue::Literal(scalar_string(&resolve(value, parameters))?),
            };
            Some((name, value))
        })
        .collect()
}

/// The stack name the local stack plays (CloudFormation's `AWS::StackName`).
pub const LOCAL_STACK_NAME: &str = "postlens-local";

/// Parameter defaults, and the pseudo parameters a local stack can answer.
fn parameter_defaults(template: &Value) -> BTreeMap<String, Value> {
    let mut values: BTreeMap<String, Value> = template
        .get("Parameters")
        .and_then(Value::as_mapping)
        .map(|parameters| {
            parameters
                .iter()
                .filter_map(|(name, spec)| {
                    Some((name.as_str()?.to_owned(), spec.get("Default")?.clone()))
                })
                .collect()
        })
        .unwrap_or_default();
    values.insert("AWS::StackName".to_owned(), Value::from(LOCAL_STACK_NAME));
    values.insert(
        "AWS::Region".to_owned(),
        Value::from(crate::emulator::REGION),
    );
    values
}

/// `!Ref Parameter` → the parameter's default; anything else unchanged.
fn resolve(value: &Value, parameters: &BTreeMap<String, Value>) -> Value {
    match intrinsic(value) {
        Some(Intrinsic {
            function: "Ref",
            resource,
            ..
        }) => parameters
            .get(&resource)
            .cloned()
            .unwrap_or_else(|| value.clone()),
        _ => value.clone(),
    }
}

fn as_u32(value: &Value) -> Option<u32> {
    match value {
        Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// A `Ref` or `Fn::GetAtt`, in short (`!Ref X`, `!GetAtt X.Arn`) or long form.
#[derive(Debug, PartialEq)]
struct Intrinsic {
    function: &'static str,
    /// The resource's logical id.
    resource: String,
    attribute: Option<String>,
}

fn intrinsic(value: &Value) -> Option<Intrinsic> {
    let (function, argument) = match value {
        Value::Tagged(tagged) if tagged.tag == "Ref" => ("Ref", &tagged.value),
        Value::Tagged(tagged) if tagged.tag == "GetAtt" => ("Fn::GetAtt", &tagged.value),
        Value::Mapping(map) if map.len() == 1 => {
            if let Some(argument) = map.get("Ref") {
                ("Ref", argument)
            } else {
                ("Fn::GetAtt", map.get("Fn::GetAtt")?)
            }
        }
        _ => return None,
    };
    let (resource, attribute) = match argument {
        Value::String(s) if function == "Fn::GetAtt" => match s.split_once('.') {
            Some((resource, attribute)) => (resource.to_owned(), Some(attribute.to_owned())),
            None => (s.clone(), None),
        },
        Value::String(s) => (s.clone(), None),
        Value::Sequence(parts) => (
            parts.first()?.as_str()?.to_owned(),
            parts.get(1).and_then(Value::as_str).map(str::to_owned),
        ),
        _ => return None,
    };
    Some(Intrinsic {
        function,
        resource,
        attribute,
    })
}

/// `infra/template.yaml`, found from the current directory or one of its parents.
pub fn find_template() -> Option<std::path::PathBuf> {
    let start = std::env::current_dir().ok()?;
    start
        .ancestors()
        .map(|dir| dir.join("infra/template.yaml"))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"
Parameters:
  BatchSize: {Type: Number, Default: 7}
Globals:
  Function:
    Environment:
      Variables:
        SHARED: "yes"
Resources:
  InTopic: {Type: AWS::SNS::Topic}
  OutTopic: {Type: AWS::SNS::Topic}
  Dlq: {Type: AWS::SQS::Queue}
  Work:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 180
      RedrivePolicy: {deadLetterTargetArn: !GetAtt Dlq.Arn, maxReceiveCount: 5}
  Sub:
    Type: AWS::SNS::Subscription
    Properties: {Protocol: sqs, TopicArn: !Ref InTopic, Endpoint: {"Fn::GetAtt": [Work, Arn]}, RawMessageDelivery: true}
  Mail:
    Type: AWS::SNS::Subscription
    Condition: HasMail
    Properties: {Protocol: email, TopicArn: !Ref OutTopic, Endpoint: a@b.c}
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {BuildProperties: {Binary: caption-parser}}
    Properties:
      Timeout: 30
      Environment:
        Variables: {OUTPUT_TOPIC_ARN: !Ref OutTopic, SIZE: !Ref BatchSize, SHARED: "no"}
      Events:
        Q:
          Type: SQS
          Properties:
            Queue: !GetAtt Work.Arn
            BatchSize: !Ref BatchSize
            FunctionResponseTypes: [ReportBatchItemFailures]
"#;

    #[test]
    fn reads_topics_queues_subscriptions_and_functions() {
        let topology = Topology::parse(TEMPLATE).expect("parses");
        assert_eq!(topology.topics, ["InTopic", "OutTopic"]);
        let work = topology.queue("Work").expect("queue");
        assert_eq!(work.visibility_timeout_s, 180);
        assert_eq!(
            work.redrive,
            Some(Redrive {
                dead_letter_queue: "Dlq".into(),
                max_receive_count: 5
            })
        );
        assert_eq!(
            topology.queue("Dlq").map(|q| q.visibility_timeout_s),
            Some(30)
        );
        // The conditional e-mail subscription is not local.
        assert_eq!(topology.subscriptions.len(), 1);
        assert_eq!(topology.subscriptions[0].queue, "Work");
        assert!(topology.subscriptions[0].raw_message_delivery);

        let function = topology.function("caption-parser").expect("function");
        assert_eq!(function.source.queue, "Work");
        assert_eq!(function.source.batch_size, 7);
        assert!(function.source.report_batch_item_failures);
        assert_eq!(function.timeout_s, 30);
        assert_eq!(
            function.environment.get("OUTPUT_TOPIC_ARN"),
            Some(&EnvValue::Ref("OutTopic".into()))
        );
        assert_eq!(
            function.environment.get("SIZE"),
            Some(&EnvValue::Literal("7".into()))
        );
        // The function's own value wins over Globals.
        assert_eq!(
            function.environment.get("SHARED"),
            Some(&EnvValue::Literal("no".into()))
        );
    }

    #[test]
    fn a_redrive_policy_without_a_queue_reference_is_an_error() {
        let text = "Resources:\n  Q:\n    Type: AWS::SQS::Queue\n    Properties:\n      RedrivePolicy: {deadLetterTargetArn: arn:aws:sqs:x, maxReceiveCount: 5}\n";
        let error = Topology::parse(text).expect_err("must fail");
        assert!(error.to_string().contains("deadLetterTargetArn"), "{error}");
    }

    /// The real template: every worker has a queue with a DLQ, a subscription, and a mapping
    /// that reports partial batch failures.
    /// What AWS checks at deploy or alarm time and moto never does: CloudWatch can publish
    /// to the alarm topic only if its KMS key's policy lets it (the AWS-managed SNS key
    /// does not).
    #[test]
    fn alarms_and_input_topics_use_a_key_the_publishing_services_may_use() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../infra/template.yaml");
        let text = std::fs::read_to_string(path).expect("template");
        let template: serde_yaml::Value = serde_yaml::from_str(&text).expect("YAML");
        let resources = &template["Resources"];
        for topic in ["AlarmTopic", "NewVideoPostedTopic", "TextSubmittedTopic"] {
            let key = match &resources[topic]["Properties"]["KmsMasterKeyId"] {
                serde_yaml::Value::Tagged(tagged) if tagged.tag == "!Ref" => {
                    tagged.value.as_str().expect("key id").to_owned()
                }
                other => panic!("{topic}: KmsMasterKeyId {other:?} is not a customer key"),
            };
            assert_eq!(
                resources[key.as_str()]["Type"].as_str(),
                Some("AWS::KMS::Key")
            );
            let policy = serde_yaml::to_string(&resources[key.as_str()]["Properties"]["KeyPolicy"])
                .expect("policy");
            for service in [
                "cloudwatch.amazonaws.com",
                "events.amazonaws.com",
                "s3.amazonaws.com",
            ] {
                assert!(
                    policy.contains(service),
                    "{key} does not let {service} encrypt"
                );
            }
        }
    }
}
