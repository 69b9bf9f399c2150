//! The wire codec: pure functions between messages and ZeroMQ frames, no sockets.
//!
//! - A PUB frame is one UTF-8 string `"<topic> <json>"`, split at the first space.
//! - A PUSH frame is the JSON document alone.
//! - Every JSON document is an object carrying `"type": "<TypeName>"`.
//!
//! Encoders write into a caller-provided buffer (cleared first), so a sender reuses one
//! allocation for every message. Decoders never panic; on failure they return a
//! [`DecodeError`] that holds the whole frame.
//!
//! # Example
//! ```
//! use experimance_common::{codec, Biome, Era, EraChanged};
//! let mut buf = Vec::new();
//! let msg = EraChanged { era: Era::Modern, biome: Biome::Coastal };
//! codec::encode_pub("events", &msg, &mut buf)?;
//! assert_eq!(buf, br#"events {"type":"EraChanged","era":"modern","biome":"coastal"}"#);
//!
//! // What Python's json.dumps writes decodes the same.
//! let (topic, back) = codec::decode_pub::<EraChanged>(
//!     br#"events {"type": "EraChanged", "era": "modern", "biome": "coastal"}"#,
//! )?;
//! assert_eq!((topic, back), ("events", msg));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use serde_json::Value;

pub use crate::error::validate_topic;
use crate::error::{DecodeError, DecodeErrorKind, EncodeError, Framing};
use crate::message::{decode_tagged, encode_tagged};
use crate::{AnyMessage, Message};

/// Writes the PUB frame `"<topic> <json>"` of `msg` into `buf` (cleared first).
///
/// # Errors
/// [`EncodeError::Topic`] for a topic with a space; [`EncodeError::Json`] when serde
/// refuses the value.
pub fn encode_pub<M: Message>(topic: &str, msg: &M, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
    validate_topic(topic)?;
    buf.clear();
    buf.extend_from_slice(topic.as_bytes());
    buf.push(b' ');
    encode_tagged(msg, buf).map_err(Into::into)
}

/// Writes the PUSH frame (the JSON alone) of `msg` into `buf` (cleared first).
///
/// # Errors
/// [`EncodeError::Json`] when serde refuses the value.
pub fn encode_push<M: Message>(msg: &M, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
    buf.clear();
    encode_tagged(msg, buf).map_err(Into::into)
}

/// Writes the PUB frame of an untyped JSON object (a free-form dictionary) into `buf`.
///
/// # Errors
/// [`EncodeError::Topic`] for a topic with a space; [`EncodeError::NotAnObject`] when
/// `value` is not a JSON object.
///
/// # Example
/// ```
/// use experimance_common::codec;
/// let mut buf = Vec::new();
/// let task = serde_json::json!({"type": "RenderRequest", "id": "task-123"});
/// codec::encode_pub_value("tasks", &task, &mut buf)?;
/// assert_eq!(buf, br#"tasks {"type":"RenderRequest","id":"task-123"}"#);
/// # Ok::<(), experimance_common::EncodeError>(())
/// ```
pub fn encode_pub_value(topic: &str, value: &Value, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
    validate_topic(topic)?;
    require_object(value)?;
    buf.clear();
    buf.extend_from_slice(topic.as_bytes());
    buf.push(b' ');
    serde_json::to_writer(&mut *buf, value).map_err(EncodeError::Json)
}

/// Writes the PUSH frame of an untyped JSON object into `buf` (cleared first).
///
/// # Errors
/// [`EncodeError::NotAnObject`] when `value` is not a JSON object.
pub fn encode_push_value(value: &Value, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
    require_object(value)?;
    buf.clear();
    serde_json::to_writer(&mut *buf, value).map_err(EncodeError::Json)
}

/// Writes the PUB frame of any message into `buf` (cleared first).
///
/// # Errors
/// As [`encode_pub`].
pub fn encode_pub_any(topic: &str, msg: &AnyMessage, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
    validate_topic(topic)?;
    buf.clear();
    buf.extend_from_slice(topic.as_bytes());
    buf.push(b' ');
    msg.write_json(buf)
}

/// Writes the PUSH frame of any message into `buf` (cleared first).
///
/// # Errors
/// As [`encode_push`].
pub fn encode_push_any(msg: &AnyMessage, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
    buf.clear();
    msg.write_json(buf)
}

fn require_object(value: &Value) -> Result<(), EncodeError> {
    let what = match value {
        Value::Object(_) => return Ok(()),
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
    };
    Err(EncodeError::NotAnObject { what })
}

/// Splits a PUB frame into its topic and its JSON bytes, at the first space.
///
/// # Errors
/// [`DecodeErrorKind::MissingSeparator`] without a space,
/// [`DecodeErrorKind::TopicNotUtf8`] for a topic that is not UTF-8.
///
/// # Example
/// ```
/// let (topic, json) = experimance_common::codec::split_pub(b"a {\"b\": \"c d\"}")?;
/// assert_eq!((topic, json), ("a", &b"{\"b\": \"c d\"}"[..]));
/// # Ok::<(), experimance_common::DecodeError>(())
/// ```
pub fn split_pub(frame: &[u8]) -> Result<(&str, &[u8]), DecodeError> {
    let Some(space) = memchr::memchr(b' ', frame) else {
        return Err(DecodeError::new(DecodeErrorKind::MissingSeparator, frame, Framing::Pub));
    };
    match std::str::from_utf8(&frame[..space]) {
        Ok(topic) => Ok((topic, &frame[space + 1..])),
        Err(e) => Err(DecodeError::new(
            DecodeErrorKind::TopicNotUtf8 { valid_up_to: e.valid_up_to() },
            frame,
            Framing::Pub,
        )),
    }
}

/// The frame's text, checked once for every decoder alike: valid UTF-8 (ignored fields
/// included, which serde_json alone would skip unchecked) and no escaped unpaired UTF-16
/// surrogate. `base` is where `json` starts in the frame, for the offsets reported.
///
/// Cost: one `str::from_utf8` pass (ASCII runs go a word at a time), and a `memchr` for
/// `\`, which most messages do not contain; serde_json then reads the text without
/// checking each string again.
pub(crate) fn json_text(json: &[u8], base: usize) -> Result<&str, DecodeErrorKind> {
    let text = std::str::from_utf8(json)
        .map_err(|e| DecodeErrorKind::NotUtf8 { valid_up_to: base + e.valid_up_to() })?;
    match lone_surrogate(json) {
        Some(at) => Err(DecodeErrorKind::LoneSurrogate { at: base + at }),
        None => Ok(text),
    }
}

/// The offset of the first `\uXXXX` escape of a surrogate that is not a high one
/// directly followed by an escaped low one.
fn lone_surrogate(json: &[u8]) -> Option<usize> {
    fn hex4(b: &[u8]) -> Option<u16> {
        let digits = std::str::from_utf8(b.get(..4)?).ok()?;
        u16::from_str_radix(digits, 16).ok().filter(|_| digits.bytes().all(|c| c.is_ascii_hexdigit()))
    }
    let mut i = memchr::memchr(b'\\', json)?;
    while i < json.len() {
        match json.get(i + 1) {
            Some(b'u') => match hex4(&json[i + 2..]) {
                Some(0xD800..=0xDBFF) => {
                    let low = json.get(i + 6..i + 8) == Some(b"\\u")
                        && matches!(hex4(&json[i + 8..]), Some(0xDC00..=0xDFFF));
                    if !low {
                        return Some(i);
                    }
                    i += 12;
                }
                Some(0xDC00..=0xDFFF) => return Some(i),
                // A malformed escape is the JSON parser's to report.
                _ => i += 2,
            },
            _ => i += 2,
        }
        i += memchr::memchr(b'\\', json.get(i..)?)?;
    }
    None
}

/// Splits a PUB frame into its topic and its JSON text, the whole frame checked by
/// [`json_text`].
pub(crate) fn split_pub_text(frame: &[u8]) -> Result<(&str, &str), DecodeErrorKind> {
    let Some(space) = memchr::memchr(b' ', frame) else {
        return Err(DecodeErrorKind::MissingSeparator);
    };
    match json_text(frame, 0) {
        Ok(text) => Ok((&text[..space], &text[space + 1..])),
        Err(DecodeErrorKind::NotUtf8 { valid_up_to }) if valid_up_to < space => {
            Err(DecodeErrorKind::TopicNotUtf8 { valid_up_to })
        }
        Err(e) => Err(e),
    }
}

/// Decodes a PUB frame with `decode`, every error holding the frame.
fn decode_pub_with<T>(
    frame: &[u8],
    decode: impl FnOnce(&str) -> Result<T, DecodeErrorKind>,
) -> Result<(&str, T), DecodeError> {
    split_pub_text(frame)
        .and_then(|(topic, json)| Ok((topic, decode(json)?)))
        .map_err(|k| DecodeError::new(k, frame, Framing::Pub))
}

/// Decodes a PUSH frame with `decode`, every error holding the frame.
fn decode_push_with<T>(
    frame: &[u8],
    decode: impl FnOnce(&str) -> Result<T, DecodeErrorKind>,
) -> Result<T, DecodeError> {
    json_text(frame, 0).and_then(decode).map_err(|k| DecodeError::new(k, frame, Framing::Push))
}

/// Decodes a PUB frame into its topic and a message of type `M`.
///
/// Every decoder of this module (typed, [`AnyMessage`], [`Value`]) applies the same
/// rules before the schema: the frame is UTF-8 ([`DecodeErrorKind::NotUtf8`],
/// [`DecodeErrorKind::TopicNotUtf8`]), has no unpaired surrogate escape
/// ([`DecodeErrorKind::LoneSurrogate`]), is JSON (no `NaN`, nesting at most 128 deep:
/// [`DecodeErrorKind::Json`]), and its object repeats no top-level key, `"type"`
/// included ([`DecodeErrorKind::DuplicateKey`]). Ignored fields are held to all of
/// these too. (Keys repeated inside a nested free-form object are not checked: there
/// serde_json keeps the last, as Python does.)
///
/// # Errors
/// A [`DecodeError`] holding `frame`: bad framing, bad text or JSON as above, a missing
/// or other `"type"`, or a document that does not fit `M`.
pub fn decode_pub<M: Message>(frame: &[u8]) -> Result<(&str, M), DecodeError> {
    decode_pub_with(frame, decode_tagged::<M>)
}

/// Decodes a PUSH frame into a message of type `M`, by the rules of [`decode_pub`].
///
/// # Errors
/// As [`decode_pub`], without the framing errors.
pub fn decode_push<M: Message>(frame: &[u8]) -> Result<M, DecodeError> {
    decode_push_with(frame, decode_tagged::<M>)
}

/// Decodes a PUB frame into its topic and an untyped JSON object, by the rules of
/// [`decode_pub`].
///
/// # Errors
/// A [`DecodeError`] holding `frame` for bad framing, bad text or JSON, a repeated
/// top-level key, or a non-object.
pub fn decode_pub_value(frame: &[u8]) -> Result<(&str, Value), DecodeError> {
    decode_pub_with(frame, parse_object)
}

/// Decodes a PUSH frame into an untyped JSON object, by the rules of [`decode_pub`].
///
/// # Errors
/// As [`decode_pub_value`], without the framing errors.
pub fn decode_push_value(frame: &[u8]) -> Result<Value, DecodeError> {
    decode_push_with(frame, parse_object)
}

/// Decodes a PUB frame into its topic and whatever message its `"type"` names, by the
/// rules of [`decode_pub`].
///
/// # Errors
/// A [`DecodeError`] holding `frame`; see [`AnyMessage::from_json`].
pub fn decode_pub_any(frame: &[u8]) -> Result<(&str, AnyMessage), DecodeError> {
    decode_pub_with(frame, AnyMessage::decode_kind)
}

/// Decodes a PUSH frame into whatever message its `"type"` names, by the rules of
/// [`decode_pub`].
///
/// # Errors
/// A [`DecodeError`] holding `frame`; see [`AnyMessage::from_json`].
pub fn decode_push_any(frame: &[u8]) -> Result<AnyMessage, DecodeError> {
    decode_push_with(frame, AnyMessage::decode_kind)
}

/// Decodes an already-parsed JSON object (for example one received untyped) into `M`,
/// checking its `"type"` like every typed decode.
///
/// # Errors
/// A [`DecodeError`] (framing [`Framing::Push`]) holding the value's JSON text.
///
/// # Example
/// ```
/// use experimance_common::{codec, IdleStatus};
/// let value = serde_json::json!({"type": "IdleStatus", "status": true});
/// assert_eq!(codec::from_value::<IdleStatus>(&value)?, IdleStatus { status: true });
/// # Ok::<(), experimance_common::DecodeError>(())
/// ```
pub fn from_value<M: Message>(value: &Value) -> Result<M, DecodeError> {
    crate::message::decode_tagged_value::<M>(value).map_err(|e| {
        let raw = serde_json::to_vec(value).unwrap_or_default();
        DecodeError::from_vec(e, raw, Framing::Push)
    })
}

/// Parses a JSON object (checked text), rejecting a repeated top-level key.
pub(crate) fn parse_object(json: &str) -> Result<Value, DecodeErrorKind> {
    use serde::de::{self, Deserializer, MapAccess, Visitor};
    /// Set to the key that occurs twice.
    struct Object<'a>(&'a std::cell::Cell<Option<String>>);
    impl<'de> Visitor<'de> for Object<'_> {
        type Value = serde_json::Map<String, Value>;
        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
            let mut map = serde_json::Map::new();
            while let Some(key) = access.next_key::<String>()? {
                let value = access.next_value::<Value>()?;
                match map.entry(key) {
                    serde_json::map::Entry::Vacant(slot) => {
                        slot.insert(value);
                    }
                    serde_json::map::Entry::Occupied(slot) => {
                        self.0.set(Some(crate::error::clip(slot.key())));
                        return Err(de::Error::custom("a repeated key"));
                    }
                }
            }
            Ok(map)
        }
    }
    let duplicate = std::cell::Cell::new(None);
    let mut de = serde_json::Deserializer::from_str(json);
    let parsed = de.deserialize_map(Object(&duplicate)).and_then(|m| de.end().map(|()| m));
    match (parsed, duplicate.take()) {
        (_, Some(key)) => Err(DecodeErrorKind::DuplicateKey { key }),
        (Ok(map), None) => Ok(Value::Object(map)),
        // deserialize_map refuses anything but an object as invalid data, at once.
        (Err(e), None) if e.is_data() => Err(DecodeErrorKind::NotAnObject),
        (Err(e), None) => Err(DecodeErrorKind::Json(e)),
    }
}

/// What a socket can send and receive: any [`Message`] type, [`AnyMessage`], or an
/// untyped [`serde_json::Value`] object (the free-form dictionaries Python services
/// send). The socket methods are generic over it:
/// `subscriber.receive::<EraChanged>()`, `subscriber.receive::<AnyMessage>()`,
/// `puller.pull::<serde_json::Value>()`.
pub trait Payload: Sized {
    /// Writes the PUB frame into `buf` (cleared first).
    ///
    /// # Errors
    /// As [`encode_pub`].
    fn encode_pub(&self, topic: &str, buf: &mut Vec<u8>) -> Result<(), EncodeError>;
    /// Writes the PUSH frame into `buf` (cleared first).
    ///
    /// # Errors
    /// As [`encode_push`].
    fn encode_push(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError>;
    /// Reads a PUB frame.
    ///
    /// # Errors
    /// As [`decode_pub`].
    fn decode_pub(frame: &[u8]) -> Result<(&str, Self), DecodeError>;
    /// Reads a PUSH frame.
    ///
    /// # Errors
    /// As [`decode_push`].
    fn decode_push(frame: &[u8]) -> Result<Self, DecodeError>;
}

impl<M: Message> Payload for M {
    fn encode_pub(&self, topic: &str, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode_pub(topic, self, buf)
    }
    fn encode_push(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode_push(self, buf)
    }
    fn decode_pub(frame: &[u8]) -> Result<(&str, Self), DecodeError> {
        decode_pub(frame)
    }
    fn decode_push(frame: &[u8]) -> Result<Self, DecodeError> {
        decode_push(frame)
    }
}

impl Payload for AnyMessage {
    fn encode_pub(&self, topic: &str, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode_pub_any(topic, self, buf)
    }
    fn encode_push(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode_push_any(self, buf)
    }
    fn decode_pub(frame: &[u8]) -> Result<(&str, Self), DecodeError> {
        decode_pub_any(frame)
    }
    fn decode_push(frame: &[u8]) -> Result<Self, DecodeError> {
        decode_push_any(frame)
    }
}

impl Payload for Value {
    fn encode_pub(&self, topic: &str, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode_pub_value(topic, self, buf)
    }
    fn encode_push(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        encode_push_value(self, buf)
    }
    fn decode_pub(frame: &[u8]) -> Result<(&str, Self), DecodeError> {
        decode_pub_value(frame)
    }
    fn decode_push(frame: &[u8]) -> Result<Self, DecodeError> {
        decode_push_value(frame)
    }
}
