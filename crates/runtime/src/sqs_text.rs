//! SQS's character set, and JSON that stays inside it.
//!
//! SQS accepts only `#x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000-#x10FFFF` in a
//! message body and refuses the rest with `InvalidMessageContents`. SNS forwards what it is
//! given, so an event carrying a raw U+FFFE or U+FFFF (both valid in Rust strings, and
//! written raw by `serde_json`) would reach an SNS subscription's queue and be refused
//! there: every SQS subscriber would silently lose it. Events are therefore written with
//! those two characters escaped (`\ufffe`, `\uffff`), which JSON readers decode back to the
//! same string. Control characters need nothing: `serde_json` already escapes them.

use serde::Serialize;

/// Whether SQS accepts `c` in a message body or attribute value.
pub fn sqs_allows(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// The first character of `text` SQS refuses, if any.
pub fn first_refused(text: &str) -> Option<char> {
    text.chars().find(|&c| !sqs_allows(c))
}

/// `value` as compact JSON whose every character SQS accepts (see the module comment).
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(256);
    let mut serializer = serde_json::Serializer::with_formatter(&mut out, SqsSafe);
    value.serialize(&mut serializer)?;
    // The formatter writes only what serde_json gives it (valid UTF-8) and ASCII escapes.
    String::from_utf8(out).map_err(|e| serde::ser::Error::custom(e.to_string()))
}

/// `text` with every character SQS refuses replaced by U+FFFD, for places that are not JSON
/// (message attribute values).
pub fn replace_refused(text: &str) -> std::borrow::Cow<'_, str> {
    if first_refused(text).is_none() {
        return std::borrow::Cow::Borrowed(text);
    }
    std::borrow::Cow::Owned(
        text.chars()
            .map(|c| if sqs_allows(c) { c } else { '\u{FFFD}' })
            .collect(),
    )
}

/// serde_json's compact formatter, except that string fragments escape what SQS refuses.
struct SqsSafe;

impl serde_json::ser::Formatter for SqsSafe {
    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (at, c) in fragment.char_indices() {
            if !sqs_allows(c) {
                writer.write_all(&fragment.as_bytes()[start..at])?;
                write!(writer, "\\u{:04x}", u32::from(c))?;
                start = at + c.len_utf8();
            }
        }
        writer.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noncharacters_are_escaped_and_read_back_unchanged() {
        let value = serde_json::json!({"caption": "a\u{FFFF}b\u{FFFE}", "id": "\u{FFFF}"});
        let json = to_json(&value).expect("json");
        assert_eq!(first_refused(&json), None, "{json}");
        assert!(json.contains("a\\uffffb\\ufffe"), "{json}");
        let back: serde_json::Value = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, value);
        // Plain serde_json writes them raw: what SQS refuses.
        assert_eq!(
            first_refused(&serde_json::to_string(&value).expect("json")),
            Some('\u{FFFF}')
        );
    }

    #[test]
    fn sqs_character_set_is_the_documented_one() {
        for allowed in [
            '\t',
            '\n',
            '\r',
            ' ',
            '\u{D7FF}',
            '\u{E000}',
            '\u{FFFD}',
            '\u{10000}',
            '\u{10FFFF}',
            '\u{FDD0}',
        ] {
            assert!(sqs_allows(allowed), "{allowed:?}");
        }
        for refused in ['\u{0}', '\u{8}', '\u{1F}', '\u{FFFE}', '\u{FFFF}'] {
            assert!(!sqs_allows(refused), "{refused:?}");
        }
        assert_eq!(replace_refused("a\u{FFFF}"), "a\u{FFFD}");
        assert!(matches!(
            replace_refused("plain"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn output_matches_serde_json_when_nothing_needs_escaping() {
        let value = serde_json::json!({"a": [1, 2.5, "x\"y\n"], "b": null, "é": "ünï"});
        assert_eq!(
            to_json(&value).expect("json"),
            serde_json::to_string(&value).expect("json")
        );
    }
}
