//! An HTTP client for the SDK that asks the role's policy before each request reaches the
//! emulator, and answers a denied one as the service would: a 403 (400 for DynamoDB) with
//! the service's own error body, so the SDK raises the same typed error AWS would cause.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnector, HttpConnectorFuture, HttpConnectorSettings, SharedHttpClient,
    SharedHttpConnector,
};
use aws_smithy_runtime_api::client::orchestrator::{HttpRequest, HttpResponse};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_runtime_api::http::StatusCode;
use aws_smithy_types::body::SdkBody;

use super::policy::{allows, Statement};
use super::request::{classify, Service};

/// One role: its statements, the tables' partition keys, and the requests it was refused.
#[derive(Clone)]
pub struct RoleClient {
    role: String,
    statements: Arc<Vec<Statement>>,
    region: String,
    hash_keys: Arc<BTreeMap<String, String>>,
    inner: SharedHttpClient,
    denied: Arc<Mutex<Vec<String>>>,
}

impl fmt::Debug for RoleClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoleClient")
            .field("role", &self.role)
            .finish()
    }
}

impl RoleClient {
    /// `inner` carries the requests the role is allowed to make.
    pub fn new(
        role: &str,
        statements: Vec<Statement>,
        region: &str,
        hash_keys: BTreeMap<String, String>,
        inner: SharedHttpClient,
    ) -> Self {
        Self {
            role: role.to_owned(),
            statements: Arc::new(statements),
            region: region.to_owned(),
            hash_keys: Arc::new(hash_keys),
            inner,
            denied: Arc::default(),
        }
    }

    /// The role's name (the function's logical id).
    pub fn role(&self) -> &str {
        &self.role
    }

    /// `action resource` of every request refused so far.
    pub fn denied(&self) -> Vec<String> {
        self.denied.lock().map(|d| d.clone()).unwrap_or_default()
    }
}

impl HttpClient for RoleClient {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        SharedHttpConnector::new(RoleConnector {
            client: self.clone(),
            inner: self.inner.http_connector(settings, components),
        })
    }
}

#[derive(Debug)]
struct RoleConnector {
    client: RoleClient,
    inner: SharedHttpConnector,
}

impl HttpConnector for RoleConnector {
    fn call(&self, request: HttpRequest) -> HttpConnectorFuture {
        let headers = request.headers();
        let classified = classify(
            request.method(),
            request.uri(),
            headers.get("x-amz-target"),
            headers.get("content-type"),
            request.body().bytes(),
            &self.client.region,
            &self.client.hash_keys,
        );
        let allowed = classified
            .access
            .as_ref()
            .is_some_and(|access| allows(&self.client.statements, access));
        if allowed {
            // S3 answers a missing key with 404 only to a caller that may list the bucket;
            // anyone else gets 403, so a missing object cannot be told from a forbidden one.
            let may_list = match &classified.access {
                Some(access) if access.action == "s3:GetObject" => {
                    let bucket = access.resource.split('/').next().unwrap_or_default();
                    allows(
                        &self.client.statements,
                        &super::policy::Access {
                            action: "s3:ListBucket".to_owned(),
                            resource: bucket.to_owned(),
                            context: BTreeMap::new(),
                        },
                    )
                }
                _ => true,
            };
            if may_list {
                return self.inner.call(request);
            }
            let method = request.method().to_owned();
            let message = self.refusal(&format!(
                "s3:ListBucket on {}, to learn the key is missing",
                classified
                    .access
                    .as_ref()
                    .map(|a| a.resource.as_str())
                    .unwrap_or_default()
            ));
            let response = self.inner.call(request);
            return HttpConnectorFuture::new(async move {
                let response = response.await?;
                if response.status().as_u16() == 404 {
                    return Ok(denial(Service::S3, &method, &message));
                }
                Ok(response)
            });
        }
        let what = classified.access.as_ref().map_or_else(
            || format!("{} {}", request.method(), request.uri()),
            |a| format!("{} on {}", a.action, a.resource),
        );
        let message = self.refusal(&what);
        if let Ok(mut denied) = self.client.denied.lock() {
            denied.push(what);
        }
        HttpConnectorFuture::ready(Ok(denial(classified.service, request.method(), &message)))
    }
}

impl RoleConnector {
    fn refusal(&self, what: &str) -> String {
        format!(
            "User: arn:aws:sts::{}:assumed-role/{}/local is not authorized to perform: {what} because no identity-based policy allows it",
            super::request::ACCOUNT,
            self.client.role
        )
    }
}

/// The error response each service gives an unauthorised caller.
fn denial(service: Service, method: &str, message: &str) -> HttpResponse {
    let escaped = message.replace('&', "&amp;").replace('<', "&lt;");
    let (status, content_type, body, query_error) = match service {
        Service::S3 => (
            403,
            "application/xml",
            // HEAD responses carry no body; the SDK reads the status alone.
            if method == "HEAD" {
                String::new()
            } else {
                format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>{escaped}</Message><RequestId>local</RequestId></Error>")
            },
            None,
        ),
        Service::Sns { json: false } => (
            403,
            "text/xml",
            format!("<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Sender</Type><Code>AuthorizationError</Code><Message>{escaped}</Message></Error><RequestId>local</RequestId></ErrorResponse>"),
            None,
        ),
        Service::Sns { json: true } => (
            403,
            "application/x-amz-json-1.0",
            serde_json::json!({"__type": "AuthorizationError", "message": message}).to_string(),
            Some("AuthorizationError;Sender"),
        ),
        Service::DynamoDb => (
            400,
            "application/x-amz-json-1.0",
            serde_json::json!({"__type": "com.amazonaws.dynamodb.v20120810#AccessDeniedException", "message": message}).to_string(),
            None,
        ),
        Service::Sqs => (
            403,
            "application/x-amz-json-1.0",
            serde_json::json!({"__type": "com.amazon.coral.service#AccessDeniedException", "message": message}).to_string(),
            Some("AccessDenied;Sender"),
        ),
    };
    let status = StatusCode::try_from(status).expect("403 and 400 are HTTP statuses");
    let mut response = HttpResponse::new(status, SdkBody::from(body));
    response
        .headers_mut()
        .insert("content-type", content_type.to_owned());
    response
        .headers_mut()
        .insert("x-amzn-requestid", "local".to_owned());
    if let Some(query_error) = query_error {
        response
            .headers_mut()
            .insert("x-amzn-query-error", query_error.to_owned());
    }
    response
}
