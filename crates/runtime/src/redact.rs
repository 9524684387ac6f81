//! What an error message may say in a published event: no secrets, no user content.
//!
//! Messages are written for operators and quote what went wrong, and some quote too much:
//! a signed URL's query string is a credential, and serde quotes the offending input value
//! ("invalid type: string \"<the user's text>\""). Events go to every subscriber of the
//! topic, so those parts are cut before a message leaves the engine, and the message is
//! bounded in length.

use std::sync::LazyLock;

use regex::Regex;

/// Longest message published, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 1024;

/// A URL's query and fragment (pre-signed URLs carry their signature there).
static URL_QUERY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(?i)\b((?:https?|s3)://[^\s?#"'<>]+)[?#][^\s"'<>]*"#).expect("valid pattern")
});

/// The input value serde quotes after "invalid type: string", "invalid value: integer" etc.
static SERDE_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"(invalid (?:type|value): [a-z0-9 ]+?) (?:"(?:[^"\\]|\\.)*"|`[^`]*`)"#)
        .expect("valid pattern")
});

/// The input's own key or variant name that serde quotes as unknown.
static SERDE_NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"(unknown (?:field|variant)) `[^`]*`"#).expect("valid pattern"));

/// `message` without URL queries or quoted input values, at most [`MAX_MESSAGE_BYTES`].
pub fn redact(message: &str) -> String {
    let message = URL_QUERY.replace_all(message, "$1?(query removed)");
    let message = SERDE_VALUE.replace_all(&message, "$1 (value removed)");
    let message = SERDE_NAME.replace_all(&message, "$1 (name removed)");
    let mut message = message.into_owned();
    if message.len() > MAX_MESSAGE_BYTES {
        message.truncate(message.floor_char_boundary(MAX_MESSAGE_BYTES));
        message.push('…');
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_url_queries_are_removed() {
        let message = "https://cdn.example.com/v/clip.mp4?X-Amz-Signature=abc123&X-Amz-Credential=AKIA answered 403";
        assert_eq!(
            redact(message),
            "https://cdn.example.com/v/clip.mp4?(query removed) answered 403"
        );
        assert_eq!(redact("s3://b/k#frag"), "s3://b/k?(query removed)");
        assert_eq!(redact("no url here"), "no url here");
    }

    #[test]
    fn values_serde_quotes_are_removed_but_the_schema_stays() {
        let value: Result<u32, _> = serde_json::from_str(r#""my secret caption""#);
        let message = redact(&value.unwrap_err().to_string());
        assert!(!message.contains("secret"), "{message}");
        assert!(
            message.contains("invalid type: string (value removed), expected u32"),
            "{message}"
        );
        assert_eq!(
            redact("invalid value: integer `-7`, expected a positive number"),
            "invalid value: integer (value removed), expected a positive number"
        );
        assert_eq!(
            redact("unknown field `ssn-123-45`, expected one of `video_id`, `caption`"),
            "unknown field (name removed), expected one of `video_id`, `caption`"
        );
        assert_eq!(
            redact("missing field `video_id`"),
            "missing field `video_id`"
        );
    }

    #[test]
    fn long_messages_are_cut_at_a_character_boundary() {
        let long = "é".repeat(2000);
        let cut = redact(&long);
        assert!(cut.len() <= MAX_MESSAGE_BYTES + '…'.len_utf8());
        assert!(cut.ends_with('…'));
    }
}
