//! The wire codec: pure functions between messages and ZeroMQ frames, no sockets.
//!
//! - A PUB frame is one UTF-8 string `"<topic> <json>"`, split at the first space.
//! - A PUSH frame is the JSON document alone.
//! - Every JSON document is an object carrying `"type": "<TypeName>"`.
//!
//! One pair of functions per framing, generic over the [`Payload`] (a [`Message`] type,
//! [`AnyMessage`], or an untyped [`Value`] object): [`encode_pub`] / [`decode_pub`] and
//! [`encode_push`] / [`decode_push`]. Encoders write into a caller-provided buffer
//! (cleared first), so a sender reuses one allocation for every message. Decoders never
//! panic; on failure they return a [`DecodeError`] that holds the whole frame.
//!
//! # Example
//! ```
//! use experimance_common::{codec, AnyMessage, Biome, Era, EraChanged};
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
//!
//! // Any message by its "type", or an untyped object.
//! let any: AnyMessage = codec::decode_push(br#"{"type": "Idle", "status": true}"#)?;
//! assert_eq!(any.type_name(), Some("IdleStatus"));
//! let value: serde_json::Value = codec::decode_push(br#"{"type": "Custom", "x": 1}"#)?;
//! assert_eq!(value["x"], 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

// Inside: `tag` writes and checks the `"type"` of typed messages, `fast` is the typed
// decode's fast path (falling back to serde_json), `de` holds the serde pieces the
// decoders share, and this file the framing and the text checks.
pub(crate) mod de;
mod fast;
pub(crate) mod tag;

use serde_json::Value;

use crate::error::{DecodeError, DecodeErrorKind, EncodeError, Framing};
pub use crate::topic::validate_topic;
use crate::{AnyMessage, Message};

/// What a socket can send and receive, and what the functions of this module read and
/// write: any [`Message`] type, [`AnyMessage`], or an untyped [`serde_json::Value`]
/// object (the free-form dictionaries Python services send). The socket methods are
/// generic over it: `subscriber.receive::<EraChanged>()`,
/// `subscriber.receive::<AnyMessage>()`, `puller.pull::<serde_json::Value>()`.
///
/// Sealed: these three are every kind of document the wire carries, and each follows
/// the decode rules of [`decode_pub`].
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a payload: the wire carries a `Message` type, `AnyMessage` or a `serde_json::Value` object",
    label = "not a `Message` type, `AnyMessage` or `serde_json::Value`",
    note = "for a struct of your own, add `#[derive(experimance_common::Message)]` (with `Serialize`, `Deserialize` and `Debug`)"
)]
pub trait Payload: sealed::Sealed {}

impl<P: sealed::Sealed> Payload for P {}

pub(crate) mod sealed {
    use super::{decode_pub_with, decode_push_with, validate_topic};
    use crate::error::{DecodeError, DecodeErrorKind, EncodeError};

    /// How a [`Payload`](super::Payload) reads and writes its JSON; the framing is the
    /// same for all (a pre-encoded frame overrides `encode_pub`).
    #[diagnostic::on_unimplemented(
        message = "`{Self}` is not a payload: the wire carries a `Message` type, `AnyMessage` or a `serde_json::Value` object",
        label = "not a `Message` type, `AnyMessage` or `serde_json::Value`",
        note = "for a struct of your own, add `#[derive(experimance_common::Message)]` (with `Serialize`, `Deserialize` and `Debug`)"
    )]
    pub trait Sealed: Sized {
        /// Appends the JSON document (`"type"` included) to `buf`; on error `buf` holds
        /// what it held before.
        fn write_json(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError>;

        /// Decodes a JSON document already checked to be text ([`super::json_text`]).
        fn read_json(json: &str) -> Result<Self, DecodeErrorKind>;

        /// The fast path on a frame's JSON bytes, before any check: `Some` only when it
        /// decodes exactly as [`read_json`](Self::read_json) of the checked text would
        /// (see `codec::fast`); `None`: check the text and call `read_json`.
        fn read_fast(_json: &[u8]) -> Option<Self> {
            None
        }

        /// Writes the PUB frame into `buf` (cleared first).
        fn encode_pub(&self, topic: &str, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
            validate_topic(topic)?;
            buf.clear();
            buf.extend_from_slice(topic.as_bytes());
            buf.push(b' ');
            self.write_json(buf)
        }

        /// Writes the PUSH frame into `buf` (cleared first).
        fn encode_push(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
            buf.clear();
            self.write_json(buf)
        }

        /// Reads a PUB frame.
        fn decode_pub(frame: &[u8]) -> Result<(&str, Self), DecodeError> {
            if let Some(space) = memchr::memchr(b' ', frame) {
                let (topic, json) = (&frame[..space], &frame[space + 1..]);
                if topic.is_ascii() {
                    if let Some(msg) = Self::read_fast(json) {
                        // SAFETY: `topic` is ASCII, so UTF-8.
                        return Ok((unsafe { std::str::from_utf8_unchecked(topic) }, msg));
                    }
                }
            }
            decode_pub_with(frame, Self::read_json)
        }

        /// Reads a PUSH frame.
        fn decode_push(frame: &[u8]) -> Result<Self, DecodeError> {
            if let Some(msg) = Self::read_fast(frame) {
                return Ok(msg);
            }
            decode_push_with(frame, Self::read_json)
        }
    }
}

impl<M: Message> sealed::Sealed for M {
    fn write_json(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        tag::encode_tagged(self, buf)
    }
    fn read_json(json: &str) -> Result<Self, DecodeErrorKind> {
        tag::decode_tagged(json)
    }
    fn read_fast(json: &[u8]) -> Option<Self> {
        tag::decode_fast(json)
    }
}

impl sealed::Sealed for AnyMessage {
    fn write_json(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        AnyMessage::write_json(self, buf)
    }
    fn read_json(json: &str) -> Result<Self, DecodeErrorKind> {
        AnyMessage::read_json(json)
    }
}

impl sealed::Sealed for Value {
    fn write_json(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        write_object(self, buf)
    }
    fn read_json(json: &str) -> Result<Self, DecodeErrorKind> {
        de::parse_object(json)
    }
}

/// Writes the PUB frame `"<topic> <json>"` of `msg` into `buf` (cleared first).
///
/// # Errors
/// [`EncodeError::Topic`] for a topic with a space; [`EncodeError::Json`] when serde
/// refuses the value; [`EncodeError::NonFiniteFloat`] for a NaN or infinite float field
/// of a typed message; [`EncodeError::NotAnObject`] when the document is not a JSON
/// object.
///
/// # Example
/// ```
/// use experimance_common::codec;
/// let mut buf = Vec::new();
/// let task = serde_json::json!({"type": "RenderRequest", "id": "task-123"});
/// codec::encode_pub("tasks", &task, &mut buf)?;
/// assert_eq!(buf, br#"tasks {"type":"RenderRequest","id":"task-123"}"#);
/// # Ok::<(), experimance_common::EncodeError>(())
/// ```
pub fn encode_pub<P: Payload>(topic: &str, msg: &P, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
    msg.encode_pub(topic, buf)
}

/// Writes the PUSH frame (the JSON alone) of `msg` into `buf` (cleared first).
///
/// # Errors
/// As [`encode_pub`], without the topic's.
pub fn encode_push<P: Payload>(msg: &P, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
    msg.encode_push(buf)
}

/// Decodes a PUB frame into its topic and a `P`.
///
/// Every decoder (typed, [`AnyMessage`], [`Value`]) applies the same rules before the
/// schema: the frame is UTF-8 ([`DecodeErrorKind::NotUtf8`],
/// [`DecodeErrorKind::TopicNotUtf8`]), has no unpaired surrogate escape
/// ([`DecodeErrorKind::LoneSurrogate`]), is JSON (no `NaN`, nesting at most 128 deep:
/// [`DecodeErrorKind::Json`]), is an object ([`DecodeErrorKind::NotAnObject`]), and its
/// object repeats no top-level key, `"type"` included ([`DecodeErrorKind::DuplicateKey`]).
/// Ignored fields are held to all of these too. (Keys repeated inside a nested
/// free-form object are not checked: there serde_json keeps the last, as Python does.)
///
/// A typed decode then needs the `"type"` to be the type's wire name or an alias.
/// [`AnyMessage`] decodes a built-in type to its variant, a type registered by another
/// crate to [`Registered`](AnyMessage::Registered), and an object whose type is missing
/// or unregistered to [`Unknown`](AnyMessage::Unknown) with the whole document; a known
/// type whose document does not fit its schema is an error (use [`Value`] for
/// free-form dictionaries).
///
/// # Errors
/// A [`DecodeError`] holding `frame`: bad framing, bad text or JSON as above, a missing
/// or other `"type"`, or a document that does not fit `P`.
pub fn decode_pub<P: Payload>(frame: &[u8]) -> Result<(&str, P), DecodeError> {
    P::decode_pub(frame)
}

/// Decodes a PUSH frame into a `P`, by the rules of [`decode_pub`].
///
/// # Errors
/// As [`decode_pub`], without the framing errors.
pub fn decode_push<P: Payload>(frame: &[u8]) -> Result<P, DecodeError> {
    P::decode_push(frame)
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
    tag::decode_tagged_value::<M>(value).map_err(|e| {
        let raw = serde_json::to_vec(value).unwrap_or_default();
        DecodeError::from_vec(e, raw, Framing::Push)
    })
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

/// Appends `value` to `buf` if it is a JSON object; else [`EncodeError::NotAnObject`]
/// naming what it is.
fn write_object(value: &Value, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
    let kind = match value {
        Value::Object(_) => return serde_json::to_writer(&mut *buf, value).map_err(EncodeError::Json),
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
    };
    Err(EncodeError::NotAnObject { what: kind })
}
