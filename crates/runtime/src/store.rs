//! Object storage for claim checks (and, later, media): S3 in production.

use std::collections::HashMap;
use std::sync::Mutex;

use aws_sdk_s3::primitives::ByteStream;
use futures::future::BoxFuture;

use crate::envelope::S3Location;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("object {0} does not exist")]
    NotFound(String),
    #[error("object {uri} is larger than the {limit}-byte limit")]
    TooLarge { uri: String, limit: usize },
    #[error("storage request failed: {0}")]
    Unavailable(String),
}

pub trait ObjectStore: Send + Sync {
    /// Reads a whole object, refusing objects larger than `max_bytes`.
    fn get(
        &self,
        location: &S3Location,
        max_bytes: usize,
    ) -> BoxFuture<'_, Result<Vec<u8>, StoreError>>;
    fn put(
        &self,
        location: &S3Location,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> BoxFuture<'_, Result<(), StoreError>>;
}

#[derive(Debug, Default)]
pub struct MemoryStore {
    objects: Mutex<HashMap<String, Vec<u8>>>,
}

impl MemoryStore {
    pub fn insert(&self, location: &S3Location, bytes: Vec<u8>) {
        self.objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(location.uri(), bytes);
    }

    pub fn object(&self, uri: &str) -> Option<Vec<u8>> {
        self.objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(uri)
            .cloned()
    }
}

impl ObjectStore for MemoryStore {
    fn get(
        &self,
        location: &S3Location,
        max_bytes: usize,
    ) -> BoxFuture<'_, Result<Vec<u8>, StoreError>> {
        let uri = location.uri();
        Box::pin(async move {
            let bytes = self
                .object(&uri)
                .ok_or_else(|| StoreError::NotFound(uri.clone()))?;
            if bytes.len() > max_bytes {
                return Err(StoreError::TooLarge {
                    uri,
                    limit: max_bytes,
                });
            }
            Ok(bytes)
        })
    }

    fn put(
        &self,
        location: &S3Location,
        bytes: Vec<u8>,
        _content_type: &str,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        self.insert(location, bytes);
        Box::pin(async { Ok(()) })
    }
}

#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
}

impl S3Store {
    pub fn new(client: aws_sdk_s3::Client) -> Self {
        Self { client }
    }
}

impl ObjectStore for S3Store {
    fn get(
        &self,
        location: &S3Location,
        max_bytes: usize,
    ) -> BoxFuture<'_, Result<Vec<u8>, StoreError>> {
        let location = location.clone();
        Box::pin(async move {
            let uri = location.uri();
            let response = self
                .client
                .get_object()
                .bucket(&location.bucket)
                .key(&location.key)
                .send()
                .await;
            let mut output = match response {
                Ok(output) => output,
                Err(error) => {
                    let not_found = error.as_service_error().is_some_and(|e| e.is_no_such_key())
                        || error
                            .raw_response()
                            .is_some_and(|r| r.status().as_u16() == 404);
                    if not_found {
                        return Err(StoreError::NotFound(uri));
                    }
                    return Err(StoreError::Unavailable(
                        aws_sdk_s3::error::DisplayErrorContext(&error).to_string(),
                    ));
                }
            };
            if output
                .content_length()
                .is_some_and(|n| n > max_bytes as i64)
            {
                return Err(StoreError::TooLarge {
                    uri,
                    limit: max_bytes,
                });
            }
            // Stream with a cap: Content-Length is advisory and must not be trusted alone.
            let mut bytes = Vec::new();
            while let Some(chunk) = output
                .body
                .try_next()
                .await
                .map_err(|e| StoreError::Unavailable(e.to_string()))?
            {
                if bytes.len() + chunk.len() > max_bytes {
                    return Err(StoreError::TooLarge {
                        uri,
                        limit: max_bytes,
                    });
                }
                bytes.extend_from_slice(&chunk);
            }
            Ok(bytes)
        })
    }

    fn put(
        &self,
        location: &S3Location,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> BoxFuture<'_, Result<(), StoreError>> {
        let location = location.clone();
        let content_type = content_type.to_owned();
        Box::pin(async move {
            self.client
                .put_object()
                .bucket(&location.bucket)
                .key(&location.key)
                .content_type(content_type)
                .body(ByteStream::from(bytes))
                .send()
                .await
                .map(|_| ())
                .map_err(|e| {
                    StoreError::Unavailable(aws_sdk_s3::error::DisplayErrorContext(&e).to_string())
                })
        })
    }
}
