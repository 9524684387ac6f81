//! Input event contracts shared by several workers (DESIGN §3).

use serde::{Deserialize, Serialize};

use crate::error::{codes, RecordError};

/// `new-video-posted`, published by ingestion and fanned out to the post workers.
/// Unknown fields are ignored so producers can add fields without breaking workers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewVideoPosted {
    #[serde(default)]
    pub event_id: Option<String>,
    pub video_id: String,
    #[serde(default)]
    pub caption: String,
    #[serde(default)]
    pub seller_handle: Option<String>,
    #[serde(default)]
    pub video_url: Option<String>,
    #[serde(default)]
    pub video_s3_uri: Option<String>,
    #[serde(default)]
    pub image_s3_uris: Vec<String>,
    /// ISO-3166 alpha-2 country; currency and size defaults.
    #[serde(default)]
    pub market: Option<String>,
    #[serde(default)]
    pub posted_at: Option<String>,
}

/// Longest caption accepted, in bytes. Platforms cap captions far lower (2,200 characters
/// on Instagram, 4,000 on TikTok); anything longer is not a caption.
pub const MAX_CAPTION_BYTES: usize = 16 * 1024;

impl NewVideoPosted {
    /// Checks what serde cannot: identifiers present, market well formed, caption bounded.
    pub fn validate(&self) -> Result<(), RecordError> {
        if self.video_id.trim().is_empty() {
            return Err(RecordError::permanent(
                codes::SCHEMA_VIOLATION,
                "video_id must not be empty",
            ));
        }
        if let Some(market) = &self.market {
            if market.len() != 2 || !market.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(RecordError::permanent(
                    codes::SCHEMA_VIOLATION,
                    "market must be an ISO-3166 alpha-2 country code such as NG or KE",
                ));
            }
        }
        if self.caption.len() > MAX_CAPTION_BYTES {
            return Err(RecordError::permanent(
                codes::INPUT_TOO_LARGE,
                format!(
                    "caption is {} bytes; the limit is {MAX_CAPTION_BYTES}",
                    self.caption.len()
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(json: serde_json::Value) -> NewVideoPosted {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn minimal_post_is_valid_and_unknown_fields_are_ignored() {
        let p = post(serde_json::json!({"video_id": "v1", "caption": "hi", "extra": 1}));
        assert!(p.validate().is_ok());
        assert!(p.image_s3_uris.is_empty());
    }

    #[test]
    fn invalid_posts_have_codes() {
        assert_eq!(
            post(serde_json::json!({"video_id": " "}))
                .validate()
                .unwrap_err()
                .code(),
            codes::SCHEMA_VIOLATION
        );
        assert_eq!(
            post(serde_json::json!({"video_id": "v", "market": "NGA"}))
                .validate()
                .unwrap_err()
                .code(),
            codes::SCHEMA_VIOLATION
        );
        let long = "x".repeat(MAX_CAPTION_BYTES + 1);
        assert_eq!(
            post(serde_json::json!({"video_id": "v", "caption": long}))
                .validate()
                .unwrap_err()
                .code(),
            codes::INPUT_TOO_LARGE
        );
    }
}
