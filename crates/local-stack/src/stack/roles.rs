//! A function's role read from the template: its `Policies` as IAM statements resolved
//! against this stack's names and ARNs (the judging is `crate::iam`'s).

use std::collections::BTreeMap;

use serde_yaml::Value;

use crate::iam::{request, Condition, Operator, PolicyError, RoleClient, Statement};

use super::LocalStack;

impl LocalStack {
    /// The statements of `policies` (a function's `Policies`), resolved against this stack.
    pub fn role_statements(
        &self,
        function: &str,
        policies: &[Value],
    ) -> Result<Vec<Statement>, PolicyError> {
        let problem = |problem: String| PolicyError {
            function: function.to_owned(),
            problem,
        };
        let mut statements = Vec::new();
        for policy in policies {
            let map = policy.as_mapping().ok_or_else(|| {
                problem(format!("{policy:?} is not a policy document or template"))
            })?;
            for (name, body) in map {
                match name.as_str().unwrap_or_default() {
                    "Statement" => {
                        let list = match body {
                            Value::Sequence(list) => list.clone(),
                            single => vec![single.clone()],
                        };
                        for statement in &list {
                            statements.push(self.statement(statement).map_err(problem)?);
                        }
                    }
                    "SNSPublishMessagePolicy" => {
                        let topic = self.resolve(&body["TopicName"]).map_err(problem)?;
                        statements.push(Statement {
                            allow: true,
                            actions: vec!["sns:Publish".to_owned()],
                            resources: vec![format!(
                                "arn:aws:sns:{}:{}:{topic}",
                                crate::emulator::REGION,
                                request::ACCOUNT
                            )],
                            conditions: Vec::new(),
                        });
                    }
                    "S3ReadPolicy" => {
                        let bucket = self.resolve(&body["BucketName"]).map_err(problem)?;
                        statements.push(Statement {
                            allow: true,
                            actions: [
                                "s3:GetObject",
                                "s3:ListBucket",
                                "s3:GetBucketLocation",
                                "s3:GetObjectVersion",
                                "s3:GetLifecycleConfiguration",
                            ]
                            .map(str::to_owned)
                            .to_vec(),
                            resources: vec![
                                format!("arn:aws:s3:::{bucket}"),
                                format!("arn:aws:s3:::{bucket}/*"),
                            ],
                            conditions: Vec::new(),
                        });
                    }
                    other => {
                        return Err(problem(format!(
                            "{other} is not a policy the local stack knows; add its expansion to crates/local-stack/src/iam"
                        )))
                    }
                }
            }
        }
        Ok(statements)
    }

    /// Table name → partition key attribute, for `dynamodb:LeadingKeys`.
    pub fn table_hash_keys(&self) -> BTreeMap<String, String> {
        self.topology
            .tables
            .iter()
            .filter_map(|(id, key)| Some((self.tables.get(id)?.clone(), key.clone())))
            .collect()
    }

    /// `base` with its HTTP client behind the function's role: what the function's own
    /// clients (output topic, claim checks, idempotency table, media) must be built from.
    pub fn role_config(
        &self,
        function: &crate::FunctionSpec,
        base: &aws_config::SdkConfig,
    ) -> Result<(aws_config::SdkConfig, RoleClient), PolicyError> {
        let statements = self.role_statements(&function.id, &function.policies)?;
        let inner = base
            .http_client()
            .unwrap_or_else(|| aws_smithy_http_client::Builder::new().build_http());
        let client = RoleClient::new(
            &function.id,
            statements,
            crate::emulator::REGION,
            self.table_hash_keys(),
            inner,
        );
        let config = base.to_builder().http_client(client.clone()).build();
        if let Ok(mut roles) = self.roles.lock() {
            roles.push(client.clone());
        }
        Ok((config, client))
    }

    /// `role: request` for every request a function's role refused so far in this stack.
    pub fn refused(&self) -> Vec<String> {
        let roles = self.roles.lock().map(|r| r.clone()).unwrap_or_default();
        roles
            .iter()
            .flat_map(|role| {
                role.denied()
                    .into_iter()
                    .map(move |what| format!("{}: {what}", role.role()))
            })
            .collect()
    }

    fn statement(&self, statement: &Value) -> Result<Statement, String> {
        let strings = |value: &Value| -> Result<Vec<String>, String> {
            match value {
                Value::Sequence(list) => list.iter().map(|v| self.resolve(v)).collect(),
                Value::Null => Ok(Vec::new()),
                single => Ok(vec![self.resolve(single)?]),
            }
        };
        let allow = match statement["Effect"].as_str() {
            Some("Allow") => true,
            Some("Deny") => false,
            other => return Err(format!("Effect {other:?}")),
        };
        let mut conditions = Vec::new();
        if let Some(map) = statement["Condition"].as_mapping() {
            for (operator, keys) in map {
                let name = operator.as_str().unwrap_or_default();
                let operator = Operator::parse(name)
                    .ok_or_else(|| format!("condition operator {name} is not evaluated locally"))?;
                for (key, values) in keys.as_mapping().into_iter().flatten() {
                    conditions.push(Condition {
                        operator,
                        key: key.as_str().unwrap_or_default().to_owned(),
                        values: strings(values)?,
                    });
                }
            }
        }
        Ok(Statement {
            allow,
            actions: strings(&statement["Action"])?,
            resources: strings(&statement["Resource"])?,
            conditions,
        })
    }

    /// A policy value as CloudFormation would resolve it in this stack.
    fn resolve(&self, value: &Value) -> Result<String, String> {
        match value {
            Value::String(text) => Ok(text.clone()),
            Value::Tagged(tagged) => match tagged.tag.to_string().trim_start_matches('!') {
                "Ref" => self.reference(tagged.value.as_str().unwrap_or_default(), None),
                "GetAtt" => {
                    let target = tagged.value.as_str().unwrap_or_default();
                    let (id, attribute) = target.split_once('.').unwrap_or((target, ""));
                    self.reference(id, Some(attribute))
                }
                "Sub" => self.substitute(tagged.value.as_str().unwrap_or_default()),
                other => Err(format!("!{other} is not resolved locally")),
            },
            other => Err(format!("{other:?} is not a policy value")),
        }
    }

    fn substitute(&self, template: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let end = rest[start..]
                .find('}')
                .ok_or_else(|| format!("unclosed ${{ in {template}"))?;
            let name = &rest[start + 2..start + end];
            out.push_str(&match name {
                "AWS::Partition" => "aws".to_owned(),
                "AWS::Region" => crate::emulator::REGION.to_owned(),
                "AWS::AccountId" => request::ACCOUNT.to_owned(),
                _ => match name.split_once('.') {
                    Some((id, attribute)) => self.reference(id, Some(attribute))?,
                    None => self.reference(name, None)?,
                },
            });
            rest = &rest[start + end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// `!Ref id` (attribute `None`) or `!GetAtt id.attribute`.
    fn reference(&self, id: &str, attribute: Option<&str>) -> Result<String, String> {
        let region = crate::emulator::REGION;
        let account = request::ACCOUNT;
        if let Some(arn) = self.topics.get(id) {
            return Ok(match attribute {
                Some("TopicName") => arn.rsplit(':').next().unwrap_or_default().to_owned(),
                _ => arn.clone(),
            });
        }
        if let Some(bucket) = self.buckets.get(id) {
            return Ok(match attribute {
                Some("Arn") => format!("arn:aws:s3:::{bucket}"),
                _ => bucket.clone(),
            });
        }
        if let Some(table) = self.tables.get(id) {
            return Ok(match attribute {
                Some("Arn") => format!("arn:aws:dynamodb:{region}:{account}:table/{table}"),
                _ => table.clone(),
            });
        }
        if let Some(queue) = self.queues.get(id) {
            return Ok(match attribute {
                Some("Arn") => queue.arn.clone(),
                _ => queue.url.clone(),
            });
        }
        Err(format!("{id} is not a resource of the local stack"))
    }
}
