//! Input event contracts shared by several workers (DESIGN §3).

use serde::{Deserialize, Serialize};

use crate::error::{codes, RecordError};

/// `new-video-posted`, published by ingestion and fanned out to the post workers.
/// Unknown fields are ignored so producers can add fields without breaking workers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewVideoPosted {
    /// The producer's event id, echoed as `source_event_id`.
    #[serde(default)]
    pub event_id: Option<String>,
    /// The post's id: the subject of every result event.
    pub video_id: String,
    /// The caption as the seller wrote it (may be empty).
    #[serde(default)]
    pub caption: String,
    /// The seller's handle, without `@`.
    #[serde(default)]
    pub seller_handle: Option<String>,
    /// An `https` URL of the video, fetched only from allowed hosts.
    #[serde(default)]
    pub video_url: Option<String>,
    /// `s3://bucket/key` of the video, read only from allowed buckets.
    #[serde(default)]
    pub video_s3_uri: Option<String>,
    /// `s3://` URIs of the post's images, for image posts.
    #[serde(default)]
    pub image_s3_uris: Vec<String>,
    /// ISO-3166 alpha-2 country; currency and size defaults.
    #[serde(default)]
    pub market: Option<String>,
    /// RFC 3339 time of posting.
    #[serde(default)]
    pub posted_at: Option<String>,
    /// Objects a detector already found in the post's media, in the shape of a
    /// `thumbnail-generated` result's `detections` (`box` is ignored here). The fan-out runs
    /// the tagger beside the thumbnail generator, so only a publisher that has them (a
    /// re-tag after `thumbnail-generated`, an ingestion that detects) sends them.
    #[serde(default)]
    pub detections: Vec<DetectedObject>,
}

/// One object found in the post's media.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DetectedObject {
    /// COCO label, e.g. `handbag`.
    pub label: String,
    /// Detector confidence, 0 to 1.
    pub score: f32,
}

/// Bounds on `detections`: the thumbnail generator reports at most 20 per frame and COCO's
/// longest label is 14 bytes, so anything far past these is not a detection list.
pub const MAX_DETECTIONS: usize = 100;
/// Longest label accepted (see [`MAX_DETECTIONS`]).
pub const MAX_DETECTION_LABEL_BYTES: usize = 64;

/// Longest caption accepted, in bytes. Platforms cap captions far lower (2,200 characters
/// on Instagram, 4,000 on TikTok); anything longer is not a caption.
pub const MAX_CAPTION_BYTES: usize = 16 * 1024;

/// Longest identifier (`video_id`, `doc_id`, `event_id`) accepted, in bytes. Ids travel in
/// every result event, SNS message attributes and S3 keys (1,024 bytes at most); platform ids
/// are a few dozen bytes, so anything far longer is not an id, and echoing it back could
/// make even the error event too large to publish.
pub const MAX_ID_BYTES: usize = 256;

/// An identifier is present (not blank) and at most [`MAX_ID_BYTES`] long.
pub fn check_id(field: &str, value: &str) -> Result<(), RecordError> {
    if value.trim().is_empty() {
        return Err(RecordError::permanent(
            codes::SCHEMA_VIOLATION,
            format!("{field} must not be empty"),
        ));
    }
    if value.len() > MAX_ID_BYTES {
        return Err(RecordError::permanent(
            codes::SCHEMA_VIOLATION,
            format!(
                "{field} is {} bytes; the limit is {MAX_ID_BYTES}",
                value.len()
            ),
        ));
    }
    Ok(())
}

impl NewVideoPosted {
    /// Checks what serde cannot: identifiers present, market well formed, caption bounded.
    pub fn validate(&self) -> Result<(), RecordError> {
        check_id("video_id", &self.video_id)?;
        if let Some(market) = &self.market {
            if market.len() != 2 || !market.chars().all(|c| c.is_ascii_alphabetic()) {
                return Err(RecordError::permanent(
                    codes::SCHEMA_VIOLATION,
                    "market must be an ISO-3166 alpha-2 country code such as NG or KE",
                ));
            }
        }
        if self.detections.len() > MAX_DETECTIONS {
            return Err(RecordError::permanent(
                codes::INPUT_TOO_LARGE,
                format!(
                    "{} detections; the limit is {MAX_DETECTIONS}",
                    self.detections.len()
                ),
            ));
        }
        // The message names the detection by position: its label is the input's text.
        if let Some(bad) = self.detections.iter().position(|d| {
            d.label.trim().is_empty()
                || d.label.len() > MAX_DETECTION_LABEL_BYTES
                || !(0.0..=1.0).contains(&d.score)
        }) {
            return Err(RecordError::permanent(
                codes::SCHEMA_VIOLATION,
                format!(
                    "detection {bad}: labels are 1-{MAX_DETECTION_LABEL_BYTES} bytes, scores 0-1"
                ),
            ));
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
        // A thumbnail result's detections, box and all, are accepted as they are.
        let p = post(serde_json::json!({"video_id": "v1", "detections": [
            {"label": "handbag", "score": 0.81, "box": [1.0, 2.0, 30.0, 40.0]}]}));
        assert!(p.validate().is_ok());
        assert_eq!(p.detections[0].label, "handbag");
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
        let bad_score =
            serde_json::json!({"video_id": "v", "detections": [{"label": "tie", "score": 1.5}]});
        assert_eq!(
            post(bad_score).validate().unwrap_err().code(),
            codes::SCHEMA_VIOLATION
        );
        let unlabelled =
            serde_json::json!({"video_id": "v", "detections": [{"label": " ", "score": 0.5}]});
        assert_eq!(
            post(unlabelled).validate().unwrap_err().code(),
            codes::SCHEMA_VIOLATION
        );
        let many: Vec<_> = (0..=MAX_DETECTIONS)
            .map(|_| serde_json::json!({"label": "cup", "score": 0.5}))
            .collect();
        assert_eq!(
            post(serde_json::json!({"video_id": "v", "detections": many}))
                .validate()
                .unwrap_err()
                .code(),
            codes::INPUT_TOO_LARGE
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
