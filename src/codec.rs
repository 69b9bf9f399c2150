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
    let Some(space) = frame.iter().position(|&b| b == b' ') else {
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

/// Decodes a PUB frame into its topic and a message of type `M`.
///
/// # Errors
/// A [`DecodeError`] holding `frame`: bad framing, invalid JSON, a missing or other
/// `"type"`, or a document that does not fit `M`.
pub fn decode_pub<M: Message>(frame: &[u8]) -> Result<(&str, M), DecodeError> {
    let (topic, json) = split_pub(frame)?;
    match decode_tagged::<M>(json) {
        Ok(m) => Ok((topic, m)),
        Err(e) => Err(DecodeError::new(e, frame, Framing::Pub)),
    }
}

/// Decodes a PUSH frame into a message of type `M`.
///
/// # Errors
/// As [`decode_pub`], without the framing errors.
pub fn decode_push<M: Message>(frame: &[u8]) -> Result<M, DecodeError> {
    decode_tagged::<M>(frame).map_err(|e| DecodeError::new(e, frame, Framing::Push))
}

/// Decodes a PUB frame into its topic and an untyped JSON object.
///
/// # Errors
/// A [`DecodeError`] holding `frame` for bad framing, invalid JSON or a non-object.
pub fn decode_pub_value(frame: &[u8]) -> Result<(&str, Value), DecodeError> {
    let (topic, json) = split_pub(frame)?;
    let value = parse_object(json).map_err(|k| DecodeError::new(k, frame, Framing::Pub))?;
    Ok((topic, value))
}

/// Decodes a PUSH frame into an untyped JSON object.
///
/// # Errors
/// A [`DecodeError`] holding `frame` for invalid JSON or a non-object.
pub fn decode_push_value(frame: &[u8]) -> Result<Value, DecodeError> {
    parse_object(frame).map_err(|k| DecodeError::new(k, frame, Framing::Push))
}

/// Decodes a PUB frame into its topic and whatever message its `"type"` names.
///
/// # Errors
/// A [`DecodeError`] holding `frame`; see [`AnyMessage::from_json`].
pub fn decode_pub_any(frame: &[u8]) -> Result<(&str, AnyMessage), DecodeError> {
    let (topic, json) = split_pub(frame)?;
    let msg = AnyMessage::decode_kind(json).map_err(|k| DecodeError::new(k, frame, Framing::Pub))?;
    Ok((topic, msg))
}

/// Decodes a PUSH frame into whatever message its `"type"` names.
///
/// # Errors
/// A [`DecodeError`] holding `frame`; see [`AnyMessage::from_json`].
pub fn decode_push_any(frame: &[u8]) -> Result<AnyMessage, DecodeError> {
    AnyMessage::decode_kind(frame).map_err(|k| DecodeError::new(k, frame, Framing::Push))
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
        DecodeError::new(e, &raw, Framing::Push)
    })
}

pub(crate) fn parse_object(json: &[u8]) -> Result<Value, DecodeErrorKind> {
    match serde_json::from_slice::<Value>(json) {
        Ok(v @ Value::Object(_)) => Ok(v),
        Ok(_) => Err(DecodeErrorKind::NotAnObject),
        Err(e) => Err(DecodeErrorKind::Json(e)),
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
