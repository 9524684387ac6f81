//! Object storage for claim checks (and, later, media): S3 in production.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use aws_sdk_s3::primitives::ByteStream;
use futures::future::BoxFuture;

use crate::envelope::S3Location;
use crate::error::{codes, RecordError};

/// Why an object could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The object does not exist (S3's 404).
    #[error("object {0} does not exist")]
    NotFound(String),
    /// The object is over the caller's limit; it was not downloaded.
    #[error("object {uri} is larger than the {limit}-byte limit")]
    TooLarge {
        /// The object.
        uri: String,
        /// The caller's limit, in bytes.
        limit: usize,
    },
    /// S3 answered 403: the role may not read the object, or the key is missing and the
    /// role may not list where it would be (S3 hides which). The same on every retry.
    #[error("access to object {0} was denied")]
    AccessDenied(String),
    /// The request failed: throttling, network, a 5xx.
    #[error("storage request failed: {0}")]
    Unavailable(String),
}

impl StoreError {
    /// A missing or oversized object is permanent (`not_found` / `too_large` codes); a
    /// store that cannot be reached is worth a retry. The messages, which events publish,
    /// do not repeat the object's URI: it is the input's (a key may name a person).
    pub fn into_record_error(
        self,
        not_found: &'static str,
        too_large: &'static str,
    ) -> RecordError {
        match self {
            Self::NotFound(_) => RecordError::permanent(not_found, "the object does not exist"),
            Self::TooLarge { limit, .. } => RecordError::permanent(
                too_large,
                format!("the object is larger than {limit} bytes"),
            ),
            // Retrying a 403 only walks the record into the DLQ unseen: the role's grant
            // will not change between receives. The allow-lists mirror the grants, so this
            // is a missing key under a prefix the role may not list, or a deployment whose
            // allow-list says more than its role.
            Self::AccessDenied(_) => RecordError::permanent(
                codes::BUCKET_NOT_ALLOWED,
                "S3 denied reading the object (403): the function's role may not read it, or it \
                 does not exist and the role may not list its prefix",
            ),
            Self::Unavailable(message) => {
                RecordError::transient(codes::CLAIM_CHECK_UNAVAILABLE, message)
            }
        }
    }
}

/// The objects a worker's inputs may name by `s3://` URI: read through `store`, only from
/// `buckets` (the allow-list setting `setting` names, e.g. `MEDIA_BUCKETS`, which errors
/// quote) and, when set, only under `key_prefix`, as the function's IAM grant allows.
/// Without a store every such input is refused.
#[derive(Clone)]
pub struct AllowedObjects {
    store: Option<Arc<dyn ObjectStore>>,
    buckets: Vec<String>,
    key_prefix: Option<String>,
    setting: &'static str,
}

impl AllowedObjects {
    /// No object may be read: `s3://` inputs get `bucket_not_allowed`.
    pub fn none(setting: &'static str) -> Self {
        Self {
            store: None,
            buckets: Vec::new(),
            key_prefix: None,
            setting,
        }
    }

    /// Objects in `buckets`, read through `store`.
    pub fn new(store: Arc<dyn ObjectStore>, buckets: Vec<String>, setting: &'static str) -> Self {
        Self {
            store: Some(store),
            buckets,
            key_prefix: None,
            setting,
        }
    }

    /// Only keys that start with `prefix` (e.g. `documents/`, as the role's grant reads
    /// `documents/*`); `None` or an empty prefix: any key of the allowed buckets.
    pub fn under_prefix(mut self, prefix: Option<String>) -> Self {
        self.key_prefix = prefix.filter(|p| !p.is_empty());
        self
    }

    /// Reads the object `uri` names, at most `max_bytes` long (`too_large` is the worker's
    /// code for a bigger one).
    pub async fn read(
        &self,
        uri: &str,
        max_bytes: usize,
        too_large: &'static str,
    ) -> Result<Vec<u8>, RecordError> {
        let location = S3Location::parse(uri).ok_or_else(|| {
            RecordError::permanent(
                codes::S3_URI_INVALID,
                "the URI does not look like s3://bucket/key",
            )
        })?;
        if !self.buckets.contains(&location.bucket) {
            return Err(RecordError::permanent(
                codes::BUCKET_NOT_ALLOWED,
                format!("the bucket is not in {}", self.setting),
            ));
        }
        if let Some(prefix) = &self.key_prefix {
            if !location.key.starts_with(prefix.as_str()) {
                return Err(RecordError::permanent(
                    codes::BUCKET_NOT_ALLOWED,
                    format!("the key is outside the prefix {prefix} the function may read"),
                ));
            }
        }
        let store = self.store.as_deref().ok_or_else(|| {
            RecordError::transient(codes::CLAIM_CHECK_UNAVAILABLE, "no object store configured")
        })?;
        store
            .get(&location, max_bytes)
            .await
            .map_err(|e| e.into_record_error(codes::OBJECT_NOT_FOUND, too_large))
    }
}

/// Reads and writes whole objects: S3 in a Lambda ([`S3Store`]), memory in tests ([`MemoryStore`]).
pub trait ObjectStore: Send + Sync {
    /// Reads a whole object, refusing objects larger than `max_bytes`.
    fn get(
        &self,
        location: &S3Location,
        max_bytes: usize,
    ) -> BoxFuture<'_, Result<Vec<u8>, StoreError>>;
    /// Writes a whole object with its `Content-Type`.
    fn put(
        &self,
        location: &S3Location,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> BoxFuture<'_, Result<(), StoreError>>;
}

/// S3 in memory, for tests and the CLI. It answers a missing key as S3 answers the role
/// reading it: 404 with `s3:ListBucket` on the bucket (the default, as the template grants
/// it), 403 AccessDenied without ([`MemoryStore::without_list_bucket`]), which moto never
/// does: S3 hides whether a key exists from a role that may not list the bucket.
#[derive(Debug, Default)]
pub struct MemoryStore {
    objects: Mutex<HashMap<String, Vec<u8>>>,
    without_list_bucket: bool,
}

impl MemoryStore {
    /// A store read by a role without `s3:ListBucket`: a missing key is AccessDenied.
    pub fn without_list_bucket() -> Self {
        Self {
            without_list_bucket: true,
            ..Self::default()
        }
    }

    /// Stores `bytes` at `location`, replacing any object there.
    pub fn insert(&self, location: &S3Location, bytes: Vec<u8>) {
        self.objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(location.uri(), bytes);
    }

    /// Bytes held by every object together.
    pub fn total_bytes(&self) -> usize {
        self.objects
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .map(Vec::len)
            .sum()
    }

    /// The bytes at `uri`, if any.
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
            let Some(bytes) = self.object(&uri) else {
                if self.without_list_bucket {
                    return Err(StoreError::AccessDenied(uri));
                }
                return Err(StoreError::NotFound(uri));
            };
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

/// Objects in S3 through the AWS SDK.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
}

impl S3Store {
    /// A store on `client`.
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
                    let denied = error
                        .raw_response()
                        .is_some_and(|r| r.status().as_u16() == 403)
                        || error
                            .as_service_error()
                            .and_then(|e| aws_sdk_s3::error::ProvideErrorMetadata::code(e))
                            == Some("AccessDenied");
                    if denied {
                        return Err(StoreError::AccessDenied(uri));
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
            // It does size the buffer once: grown by doubling, a 150 MB object would pass
            // through a 256 MB buffer and its 128 MB predecessor at the same moment.
            let expected = output
                .content_length()
                .unwrap_or(0)
                .clamp(0, max_bytes as i64);
            let mut bytes = Vec::with_capacity(expected as usize);
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
