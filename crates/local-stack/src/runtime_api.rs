//! A local Lambda Runtime API (the `2018-06-01` interface a `bootstrap` polls), so a
//! deployed artifact, an arm64 `bootstrap` under qemu for instance, can be run as its own
//! process and invoked the way Lambda invokes it: `next` long-polls for an event with the
//! request id, deadline, function ARN and trace id headers; the function answers on
//! `response` or `error`; a failed init reports on `init/error`.
//!
//! One invocation at a time, as Lambda gives each execution environment.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use tokio::sync::{mpsc, oneshot, Mutex};

const PREFIX: &str = "/2018-06-01/runtime";

/// How an invocation ended, as the function reported it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvocationOutcome {
    /// The body the function posted to `invocation/{id}/response`.
    Response(Vec<u8>),
    /// The body posted to `invocation/{id}/error` (a JSON error object).
    Error(Vec<u8>),
}

/// Why a local Runtime API invocation gave no outcome.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeApiError {
    /// The loopback port could not be bound.
    #[error("binding the runtime API: {0}")]
    Bind(std::io::Error),
    /// The function posted to `init/error`.
    #[error("the function reported an init error: {0}")]
    InitFailed(String),
    /// The function did not answer in time.
    #[error("no answer within {0:?}")]
    TimedOut(Duration),
    /// The server's task ended before the answer came.
    #[error("the runtime API stopped")]
    Stopped,
}

struct Pending {
    request_id: String,
    event: Vec<u8>,
    deadline: Duration,
}

struct Shared {
    function_arn: String,
    next_id: AtomicU64,
    queue: Mutex<mpsc::Receiver<Pending>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<InvocationOutcome>>>,
    init_error: Mutex<Option<String>>,
}

/// A running Runtime API on 127.0.0.1. Dropping it stops the server.
pub struct RuntimeApi {
    /// The value for the function's `AWS_LAMBDA_RUNTIME_API` (`host:port`, as on Lambda).
    pub address: SocketAddr,
    shared: Arc<Shared>,
    submit: mpsc::Sender<Pending>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeApi {
    /// Serves the API on a free loopback port for a function whose ARN is `function_arn`.
    pub async fn start(function_arn: &str) -> Result<Self, RuntimeApiError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(RuntimeApiError::Bind)?;
        let address = listener.local_addr().map_err(RuntimeApiError::Bind)?;
        let (submit, queue) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            function_arn: function_arn.to_owned(),
            next_id: AtomicU64::new(1),
            queue: Mutex::new(queue),
            waiting: Mutex::new(HashMap::new()),
            init_error: Mutex::new(None),
        });
        let served = Arc::clone(&shared);
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let shared = Arc::clone(&served);
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let shared = Arc::clone(&shared);
                        async move { Ok::<_, Infallible>(route(&shared, request).await) }
                    });
                    // A connection error only ends that connection (the function retries).
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self {
            address,
            shared,
            submit,
            server,
        })
    }

    /// Invokes the function with `event`, giving it `function_timeout` (its deadline
    /// header), and waits at most `wait` for its answer, init included.
    pub async fn invoke(
        &self,
        event: Vec<u8>,
        function_timeout: Duration,
        wait: Duration,
    ) -> Result<InvocationOutcome, RuntimeApiError> {
        let request_id = format!(
            "00000000-0000-4000-8000-{:012}",
            self.shared.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let (answer, answered) = oneshot::channel();
        self.shared
            .waiting
            .lock()
            .await
            .insert(request_id.clone(), answer);
        let pending = Pending {
            request_id: request_id.clone(),
            event,
            deadline: function_timeout,
        };
        let outcome = tokio::time::timeout(wait, async {
            self.submit
                .send(pending)
                .await
                .map_err(|_| RuntimeApiError::Stopped)?;
            let mut answered = std::pin::pin!(answered);
            loop {
                tokio::select! {
                    outcome = &mut answered => return outcome.map_err(|_| RuntimeApiError::Stopped),
                    _ = tokio::time::sleep(Duration::from_millis(100)) => {
                        if let Some(message) = self.shared.init_error.lock().await.clone() {
                            return Err(RuntimeApiError::InitFailed(message));
                        }
                    }
                }
            }
        })
        .await;
        self.shared.waiting.lock().await.remove(&request_id);
        outcome.map_err(|_| RuntimeApiError::TimedOut(wait))?
    }
}

async fn route(shared: &Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path().to_owned();
    let Some(rest) = path.strip_prefix(PREFIX) else {
        return status(StatusCode::NOT_FOUND);
    };
    match (request.method().clone(), rest) {
        (Method::GET, "/invocation/next") => next(shared).await,
        (Method::POST, "/init/error") => {
            let body = read_body(request).await;
            *shared.init_error.lock().await = Some(String::from_utf8_lossy(&body).into_owned());
            status(StatusCode::ACCEPTED)
        }
        (Method::POST, rest) => {
            let Some(tail) = rest.strip_prefix("/invocation/") else {
                return status(StatusCode::NOT_FOUND);
            };
            let (request_id, kind) = match tail.rsplit_once('/') {
                Some((id, "response")) => (id.to_owned(), true),
                Some((id, "error")) => (id.to_owned(), false),
                _ => return status(StatusCode::NOT_FOUND),
            };
            let body = read_body(request).await;
            let Some(answer) = shared.waiting.lock().await.remove(&request_id) else {
                // Lambda answers an unknown or already answered request id with 400.
                return status(StatusCode::BAD_REQUEST);
            };
            let outcome = if kind {
                InvocationOutcome::Response(body)
            } else {
                InvocationOutcome::Error(body)
            };
            let _ = answer.send(outcome);
            status(StatusCode::ACCEPTED)
        }
        _ => status(StatusCode::NOT_FOUND),
    }
}

/// Long-polls until an invocation is submitted, as Lambda's `next` does.
async fn next(shared: &Shared) -> Response<Full<Bytes>> {
    let Some(pending) = shared.queue.lock().await.recv().await else {
        return status(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let deadline_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .saturating_add(pending.deadline)
        .as_millis();
    Response::builder()
        .status(StatusCode::OK)
        .header("Lambda-Runtime-Aws-Request-Id", &pending.request_id)
        .header("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string())
        .header("Lambda-Runtime-Invoked-Function-Arn", &shared.function_arn)
        .header(
            "Lambda-Runtime-Trace-Id",
            format!(
                "Root=1-00000000-{:024x};Parent=0000000000000001;Sampled=0",
                shared.next_id.load(Ordering::Relaxed)
            ),
        )
        .header("Content-Type", "application/json")
        .body(Full::new(Bytes::from(pending.event)))
        .unwrap_or_else(|_| status(StatusCode::INTERNAL_SERVER_ERROR))
}

async fn read_body(request: Request<Incoming>) -> Vec<u8> {
    match request.into_body().collect().await {
        Ok(collected) => collected.to_bytes().to_vec(),
        Err(_) => Vec::new(),
    }
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    /// One HTTP/1.1 request on its own connection, as a bootstrap's client sends it.
    async fn request(address: SocketAddr, method: &str, path: &str, body: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(address)
            .await
            .expect("connect");
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(head.as_bytes()).await.expect("write");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.expect("read");
        answer
    }

    /// The request id a `next` answer carries.
    fn request_id_of(next: &str) -> String {
        next.lines()
            .find_map(|l| l.strip_prefix("lambda-runtime-aws-request-id: "))
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    }

    #[tokio::test]
    async fn next_carries_the_event_and_its_headers_and_response_answers_invoke() {
        let api = RuntimeApi::start("arn:aws:lambda:us-east-1:123456789012:function:echo")
            .await
            .expect("start");
        let address = api.address;
        let function = tokio::spawn(async move {
            let next = request(address, "GET", "/2018-06-01/runtime/invocation/next", "").await;
            let request_id = request_id_of(&next);
            assert!(!request_id.is_empty(), "{next}");
            let path = format!("/2018-06-01/runtime/invocation/{request_id}/response");
            let accepted = request(address, "POST", &path, r#"{"batchItemFailures":[]}"#).await;
            let again = request(address, "POST", &path, "{}").await;
            (next, accepted, again)
        });
        let outcome = api
            .invoke(
                br#"{"Records":[]}"#.to_vec(),
                Duration::from_secs(30),
                Duration::from_secs(10),
            )
            .await
            .expect("answer");
        assert_eq!(
            outcome,
            InvocationOutcome::Response(br#"{"batchItemFailures":[]}"#.to_vec())
        );
        let (next, accepted, again) = function.await.expect("function");
        assert!(next.starts_with("HTTP/1.1 200"), "{next}");
        assert!(next.ends_with(r#"{"Records":[]}"#), "{next}");
        let deadline: u128 = next
            .lines()
            .find_map(|l| l.strip_prefix("lambda-runtime-deadline-ms: "))
            .and_then(|v| v.trim().parse().ok())
            .expect("deadline header");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .expect("clock")
            .as_millis();
        assert!(
            deadline > now + 20_000 && deadline <= now + 30_000,
            "{deadline} vs {now}"
        );
        assert!(next.contains("lambda-runtime-invoked-function-arn: arn:aws:lambda:"));
        assert!(next.contains("lambda-runtime-trace-id: Root=1-"));
        assert!(accepted.starts_with("HTTP/1.1 202"), "{accepted}");
        assert!(
            again.starts_with("HTTP/1.1 400"),
            "a second answer: {again}"
        );
    }

    #[tokio::test]
    async fn an_init_error_ends_the_wait_and_an_error_is_an_outcome() {
        let api = RuntimeApi::start("arn:aws:lambda:us-east-1:123456789012:function:f")
            .await
            .expect("start");
        let address = api.address;
        tokio::spawn(async move {
            request(
                address,
                "POST",
                "/2018-06-01/runtime/init/error",
                r#"{"errorType":"x"}"#,
            )
            .await
        });
        let failed = api
            .invoke(
                b"{}".to_vec(),
                Duration::from_secs(30),
                Duration::from_secs(10),
            )
            .await;
        assert!(
            matches!(&failed, Err(RuntimeApiError::InitFailed(m)) if m.contains("errorType")),
            "{failed:?}"
        );

        let api = RuntimeApi::start("arn:aws:lambda:us-east-1:123456789012:function:f")
            .await
            .expect("start");
        let address = api.address;
        tokio::spawn(async move {
            let next = request(address, "GET", "/2018-06-01/runtime/invocation/next", "").await;
            let path = format!(
                "/2018-06-01/runtime/invocation/{}/error",
                request_id_of(&next)
            );
            request(address, "POST", &path, r#"{"errorMessage":"boom"}"#).await
        });
        let outcome = api
            .invoke(
                b"{}".to_vec(),
                Duration::from_secs(30),
                Duration::from_secs(10),
            )
            .await
            .expect("answer");
        assert_eq!(
            outcome,
            InvocationOutcome::Error(br#"{"errorMessage":"boom"}"#.to_vec())
        );

        let silent = RuntimeApi::start("arn:aws:lambda:us-east-1:123456789012:function:f")
            .await
            .expect("start");
        let waited = silent
            .invoke(
                b"{}".to_vec(),
                Duration::from_secs(30),
                Duration::from_millis(300),
            )
            .await;
        assert!(
            matches!(waited, Err(RuntimeApiError::TimedOut(_))),
            "{waited:?}"
        );
    }
}
