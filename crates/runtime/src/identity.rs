//! The two identity fields of a claim-checked payload, read without building the document.
//!
//! A claim-checked body may be megabytes of JSON; as a `serde_json::Value` that expands
//! about 40 times in memory. The engine needs only `event_id` and the subject id from it
//! before handing the bytes to the worker's own typed input, so this reads those two
//! top-level fields and skips everything else without allocating it.

use std::fmt;

use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// `{event_id, <subject_key>}` of a JSON object as a small `Value` (other fields dropped);
/// `None` when `bytes` is not a JSON object.
pub fn identity_fields(bytes: &[u8], subject_key: &str) -> Option<Value> {
    scalar_fields(bytes, &["event_id", subject_key])
}

/// The named top-level fields of a JSON object that are strings or numbers, as a small
/// `Value` (everything else skipped unallocated); `None` when `bytes` is not an object.
pub fn scalar_fields(bytes: &[u8], names: &[&str]) -> Option<Value> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    IdentitySeed { names }.deserialize(&mut deserializer).ok()
}

struct IdentitySeed<'k> {
    names: &'k [&'k str],
}

impl<'de> DeserializeSeed<'de> for IdentitySeed<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for IdentitySeed<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut fields = serde_json::Map::new();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            if self.names.contains(&key.as_ref()) {
                if let Some(value) = map.next_value::<Scalar>()?.0 {
                    fields.insert(key.into_owned(), value);
                }
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Value::Object(fields))
    }
}

/// A string or number kept as a `Value`; anything else is skipped unallocated.
struct Scalar(Option<Value>);

impl<'de> serde::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ScalarVisitor)
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_str<E>(self, v: &str) -> Result<Scalar, E> {
        Ok(Scalar(Some(Value::String(v.to_owned()))))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar(Some(Value::from(v))))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar(Some(Value::from(v))))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar(serde_json::Number::from_f64(v).map(Value::Number)))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Scalar, E> {
        Ok(Scalar(None))
    }
    fn visit_unit<E>(self) -> Result<Scalar, E> {
        Ok(Scalar(None))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar(None))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_identity_fields_are_kept() {
        let body = br#"{"caption": "x", "video_id": "v1", "nested": {"video_id": "no"},
            "event_id": "e\u0031", "big": [1, 2, [3, {"a": 4}]]}"#;
        assert_eq!(
            identity_fields(body, "video_id"),
            Some(serde_json::json!({"video_id": "v1", "event_id": "e1"}))
        );
        assert_eq!(
            identity_fields(br#"{"doc_id": 42, "event_id": {"x": 1}}"#, "doc_id"),
            Some(serde_json::json!({"doc_id": 42}))
        );
        assert_eq!(identity_fields(b"[1, 2]", "video_id"), None);
        assert_eq!(identity_fields(b"{\"video_id\":", "video_id"), None);
    }
}
