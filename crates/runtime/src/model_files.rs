//! `MODEL_S3_URI`: the model directory copied from S3 to local disk once per container,
//! for deployments where the weights do not fit (or should not live in) a Lambda layer.
//!
//! The URI names a copy of `models/` (`aws s3 sync models/ s3://bucket/prefix/`). Only the
//! sub-directories a worker needs are fetched, each file streamed to disk and checked
//! against the sha256 that `manifest.json` records (files the manifest does not list,
//! such as the derived category index, are taken as they are). A `.complete` marker makes
//! a later init in the same sandbox reuse the copy instead of downloading again.

use std::io::Write;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::envelope::S3Location;

/// Where the copy goes: Lambda's writable /tmp (512 MB by default; raise the function's
/// ephemeral storage for larger model sets).
pub const DEFAULT_CACHE_DIR: &str = "/tmp/postlens-models";
const MARKER: &str = ".complete";

/// Why the model directory could not be found or filled.
#[derive(Debug, thiserror::Error)]
pub enum ModelFetchError {
    /// No source of models at all.
    #[error("neither MODEL_S3_URI nor MODEL_DIR is set and no models/ directory was found")]
    NoModelDir,
    /// `MODEL_S3_URI` is not an S3 prefix.
    #[error("MODEL_S3_URI {0:?} is not s3://bucket/prefix")]
    InvalidUri(String),
    /// Listing the prefix failed.
    #[error("listing {uri}: {message}")]
    List {
        /// The prefix.
        uri: String,
        /// The SDK error.
        message: String,
    },
    /// The prefix holds nothing.
    #[error("no model files under {0}")]
    Empty(String),
    /// Downloading a file failed.
    #[error("reading {uri}: {message}")]
    Read {
        /// The file.
        uri: String,
        /// The SDK error.
        message: String,
    },
    /// A downloaded file does not match `manifest.json`.
    #[error("{uri}: sha256 {actual} does not match the manifest's {expected}")]
    Checksum {
        /// The file.
        uri: String,
        /// The manifest's sha256.
        expected: String,
        /// The file's sha256.
        actual: String,
    },
    /// `manifest.json` could not be parsed.
    #[error("manifest.json under {uri} is not valid: {message}")]
    Manifest {
        /// The prefix.
        uri: String,
        /// The parse error.
        message: String,
    },
    /// The local copy could not be written.
    #[error("writing {path}: {source}")]
    Write {
        /// The file being written.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

/// A worker's model directory: `MODEL_S3_URI`'s copy (only `subdirs`) when it is set,
/// else what `local` finds (`MODEL_DIR`, or the nearest `models/`).
pub async fn model_dir(
    subdirs: &[&str],
    local: impl FnOnce() -> Option<PathBuf>,
) -> Result<PathBuf, ModelFetchError> {
    match std::env::var("MODEL_S3_URI") {
        Ok(uri) if !uri.trim().is_empty() => {
            let (_, s3) = crate::clients::aws_clients().await;
            fetch(&s3, uri.trim(), subdirs, Path::new(DEFAULT_CACHE_DIR)).await
        }
        _ => local().ok_or(ModelFetchError::NoModelDir),
    }
}

/// Copies `subdirs` of the model directory at `uri` into a directory under `cache_dir`
/// named after the URI, and returns it.
pub async fn fetch(
    s3: &aws_sdk_s3::Client,
    uri: &str,
    subdirs: &[&str],
    cache_dir: &Path,
) -> Result<PathBuf, ModelFetchError> {
    let (bucket, prefix) = parse(uri)?;
    let normalised = format!("s3://{bucket}/{prefix}");
    let target = cache_dir.join(hex::encode(&Sha256::digest(normalised.as_bytes())[..8]));
    if target.join(MARKER).is_file() {
        return Ok(target);
    }
    let manifest = read_manifest(s3, &bucket, &prefix, uri).await?;
    let mut fetched = 0usize;
    for subdir in subdirs {
        for key in list(s3, &bucket, &format!("{prefix}{subdir}/")).await? {
            let relative = &key[prefix.len()..];
            // Keys are names, not paths: refuse anything that could climb out of the copy.
            if relative
                .split('/')
                .any(|part| part.is_empty() || part == "..")
            {
                continue;
            }
            let expected = manifest.get(relative).map(String::as_str);
            download(s3, &bucket, &key, &target.join(relative), expected).await?;
            fetched += 1;
        }
    }
    if fetched == 0 {
        return Err(ModelFetchError::Empty(uri.to_owned()));
    }
    write_file(&target.join(MARKER), b"")?;
    Ok(target)
}

/// `s3://bucket/prefix` → (bucket, prefix ending in `/`, or empty for the bucket root).
fn parse(uri: &str) -> Result<(String, String), ModelFetchError> {
    let invalid = || ModelFetchError::InvalidUri(uri.to_owned());
    let rest = uri.strip_prefix("s3://").ok_or_else(invalid)?;
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
    if bucket.is_empty() {
        return Err(invalid());
    }
    let prefix = prefix.trim_end_matches('/');
    let prefix = if prefix.is_empty() {
        String::new()
    } else {
        format!("{prefix}/")
    };
    Ok((bucket.to_owned(), prefix))
}

/// path (relative to the model directory) → sha256, from `manifest.json` if there is one.
async fn read_manifest(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    uri: &str,
) -> Result<std::collections::HashMap<String, String>, ModelFetchError> {
    #[derive(serde::Deserialize)]
    struct Manifest {
        models: Vec<Model>,
    }
    #[derive(serde::Deserialize)]
    struct Model {
        files: Vec<File>,
    }
    #[derive(serde::Deserialize)]
    struct File {
        path: String,
        sha256: String,
    }
    let key = format!("{prefix}manifest.json");
    let location = S3Location {
        bucket: bucket.to_owned(),
        key,
    };
    let store = crate::store::S3Store::new(s3.clone());
    let bytes = match crate::ObjectStore::get(&store, &location, 1 << 20).await {
        Ok(bytes) => bytes,
        Err(crate::StoreError::NotFound(_)) => return Ok(Default::default()),
        Err(error) => {
            return Err(ModelFetchError::Read {
                uri: location.uri(),
                message: error.to_string(),
            })
        }
    };
    let manifest: Manifest =
        serde_json::from_slice(&bytes).map_err(|e| ModelFetchError::Manifest {
            uri: uri.to_owned(),
            message: e.to_string(),
        })?;
    Ok(manifest
        .models
        .into_iter()
        .flat_map(|m| m.files)
        .map(|f| (f.path, f.sha256))
        .collect())
}

async fn list(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>, ModelFetchError> {
    let mut keys = Vec::new();
    let mut continuation = None;
    loop {
        let page = s3
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .set_continuation_token(continuation.take())
            .send()
            .await
            .map_err(|e| ModelFetchError::List {
                uri: format!("s3://{bucket}/{prefix}"),
                message: aws_sdk_s3::error::DisplayErrorContext(&e).to_string(),
            })?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key().map(str::to_owned)),
        );
        match page.next_continuation_token() {
            Some(token) if page.is_truncated() == Some(true) => {
                continuation = Some(token.to_owned())
            }
            _ => return Ok(keys),
        }
    }
}

/// Streams one object to `path` (through a temporary name, so a cut-off download never
/// looks complete), hashing as it goes.
async fn download(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    path: &Path,
    expected_sha256: Option<&str>,
) -> Result<(), ModelFetchError> {
    let uri = format!("s3://{bucket}/{key}");
    let read_error = |message: String| ModelFetchError::Read {
        uri: uri.clone(),
        message,
    };
    let write_error = |source| ModelFetchError::Write {
        path: path.to_owned(),
        source,
    };
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(write_error)?;
    }
    let partial = path.with_extension("partial");
    let mut file = std::fs::File::create(&partial).map_err(write_error)?;
    let mut object = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| read_error(aws_sdk_s3::error::DisplayErrorContext(&e).to_string()))?;
    let mut hasher = Sha256::new();
    while let Some(chunk) = object
        .body
        .try_next()
        .await
        .map_err(|e| read_error(e.to_string()))?
    {
        hasher.update(&chunk);
        file.write_all(&chunk).map_err(write_error)?;
    }
    file.sync_all().map_err(write_error)?;
    let actual = hex::encode(hasher.finalize());
    if let Some(expected) = expected_sha256 {
        if actual != expected {
            let _ = std::fs::remove_file(&partial);
            return Err(ModelFetchError::Checksum {
                uri,
                expected: expected.to_owned(),
                actual,
            });
        }
    }
    std::fs::rename(&partial, path).map_err(write_error)
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<(), ModelFetchError> {
    std::fs::write(path, bytes).map_err(|source| ModelFetchError::Write {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_parse_to_bucket_and_directory_prefix() {
        assert_eq!(
            parse("s3://models/postlens/v1").expect("uri"),
            ("models".to_owned(), "postlens/v1/".to_owned())
        );
        assert_eq!(
            parse("s3://models/postlens/v1/").expect("uri"),
            ("models".to_owned(), "postlens/v1/".to_owned())
        );
        assert_eq!(
            parse("s3://models").expect("uri"),
            ("models".to_owned(), String::new())
        );
        for bad in ["models/x", "s3:///x", "https://models/x"] {
            assert!(
                matches!(parse(bad), Err(ModelFetchError::InvalidUri(_))),
                "{bad}"
            );
        }
    }
}
