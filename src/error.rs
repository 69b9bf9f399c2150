//! Codec errors. A decode error always carries the raw frame, so nothing received is
//! ever lost.

use std::fmt;

/// A topic that cannot be written on the wire.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TopicError {
    /// A topic is split from the JSON at its first space, so it cannot contain one.
    #[error("topic {topic:?} contains a space (byte {at}); the wire format splits topic and JSON at the first space")]
    ContainsSpace {
        /// The offending topic.
        topic: String,
        /// Byte offset of the first space.
        at: usize,
    },
}

/// Checks that `topic` can be written in a PUB frame: valid UTF-8 (guaranteed by
/// `&str`) and no space. The empty topic is legal.
///
/// # Errors
/// [`TopicError::ContainsSpace`] when it has a space.
///
/// # Example
/// ```
/// use experimance_common::codec::validate_topic;
/// assert!(validate_topic("status-updates").is_ok());
/// assert!(validate_topic("").is_ok());
/// assert!(validate_topic("two words").is_err());
/// ```
pub fn validate_topic(topic: &str) -> Result<(), TopicError> {
    match topic.bytes().position(|b| b == b' ') {
        Some(at) => Err(TopicError::ContainsSpace { topic: topic.to_owned(), at }),
        None => Ok(()),
    }
}

/// Why a message could not be encoded.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    /// The topic cannot be written.
    #[error(transparent)]
    Topic(#[from] TopicError),
    /// serde_json refused the value.
    #[error("cannot serialize the message: {0}")]
    Json(#[source] serde_json::Error),
    /// The value is not a JSON object, so it cannot carry a `"type"` field.
    #[error("a message must be a JSON object, this {what} is not")]
    NotAnObject {
        /// What was given (`"array"`, `"string"`, a message type name, ...).
        what: &'static str,
    },
}

impl From<crate::message::EncodeJsonError> for EncodeError {
    fn from(e: crate::message::EncodeJsonError) -> Self {
        match e {
            crate::message::EncodeJsonError::Json(e) => EncodeError::Json(e),
            crate::message::EncodeJsonError::NotAnObject { type_name } => {
                EncodeError::NotAnObject { what: type_name }
            }
        }
    }
}

/// What was wrong with a received frame.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeErrorKind {
    /// The topic of a PUB frame is not valid UTF-8.
    #[error("the topic is not valid UTF-8 (valid up to byte {valid_up_to})")]
    TopicNotUtf8 {
        /// Length of the valid prefix.
        valid_up_to: usize,
    },
    /// A PUB frame without the space that separates topic and JSON.
    #[error("the frame has no space separating topic and JSON")]
    MissingSeparator,
    /// The JSON is malformed, or does not fit the expected message type's schema.
    #[error("invalid JSON: {0}")]
    Json(#[source] serde_json::Error),
    /// The JSON is valid but not an object.
    #[error("the JSON document is not an object")]
    NotAnObject,
    /// The object has no `"type"` field.
    #[error("the message has no \"type\" field (expected \"{expected}\")")]
    MissingType {
        /// The wire name that was expected.
        expected: &'static str,
    },
    /// The `"type"` field names another message type.
    #[error("expected a message of type \"{expected}\", found \"{found}\"")]
    WrongType {
        /// The wire name that was expected.
        expected: &'static str,
        /// The wire name found.
        found: String,
    },
    /// The `"type"` field is not a string.
    #[error("the \"type\" field is not a string")]
    TypeNotAString,
    /// A multi-part ZeroMQ message, which the wire format never uses; the first part
    /// is [`DecodeError::raw`], the others [`DecodeError::extra_parts`].
    #[error("a multi-part message ({parts} parts) where one frame was expected")]
    Multipart {
        /// How many parts it had.
        parts: usize,
    },
}

/// A frame that could not be decoded, with its raw bytes: nothing is lost.
///
/// # Example
/// ```
/// use experimance_common::{codec, DecodeErrorKind, EraChanged};
/// let err = codec::decode_pub::<EraChanged>(b"era {not json").unwrap_err();
/// assert!(matches!(err.kind(), DecodeErrorKind::Json(_)));
/// assert_eq!(err.raw(), b"era {not json");
/// assert_eq!(err.topic(), Some("era"));
/// ```
pub struct DecodeError {
    kind: DecodeErrorKind,
    raw: Vec<u8>,
    extra_parts: Vec<Vec<u8>>,
    framing: Framing,
}

/// Whether a frame was a PUB frame (`<topic> <json>`) or a PUSH frame (`<json>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Framing {
    /// `<topic> <json>`.
    Pub,
    /// `<json>`.
    Push,
}

impl DecodeError {
    pub(crate) fn new(kind: impl Into<DecodeErrorKind>, raw: &[u8], framing: Framing) -> Self {
        DecodeError { kind: kind.into(), raw: raw.to_vec(), extra_parts: Vec::new(), framing }
    }

    pub(crate) fn multipart(framing: Framing, first: Vec<u8>, rest: Vec<Vec<u8>>) -> Self {
        DecodeError {
            kind: DecodeErrorKind::Multipart { parts: 1 + rest.len() },
            raw: first,
            extra_parts: rest,
            framing,
        }
    }

    /// The parts after the first of a multi-part message (empty otherwise).
    pub fn extra_parts(&self) -> &[Vec<u8>] {
        &self.extra_parts
    }

    /// What was wrong.
    pub fn kind(&self) -> &DecodeErrorKind {
        &self.kind
    }

    /// The whole frame as received.
    pub fn raw(&self) -> &[u8] {
        &self.raw
    }

    /// Takes the kind of error, dropping the frame.
    pub fn into_kind(self) -> DecodeErrorKind {
        self.kind
    }

    /// Takes the frame as received.
    pub fn into_raw(self) -> Vec<u8> {
        self.raw
    }

    /// How the frame was read.
    pub fn framing(&self) -> Framing {
        self.framing
    }

    /// The topic of a PUB frame, when it has a valid UTF-8 one.
    pub fn topic(&self) -> Option<&str> {
        if self.framing != Framing::Pub {
            return None;
        }
        let end = self.raw.iter().position(|&b| b == b' ')?;
        std::str::from_utf8(&self.raw[..end]).ok()
    }

    /// The JSON part of the frame (after the topic for PUB frames).
    pub fn json_bytes(&self) -> &[u8] {
        match self.framing {
            Framing::Push => &self.raw,
            Framing::Pub => match self.raw.iter().position(|&b| b == b' ') {
                Some(i) => &self.raw[i + 1..],
                None => &[],
            },
        }
    }
}

impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DecodeError")
            .field("kind", &self.kind)
            .field("framing", &self.framing)
            .field("raw", &String::from_utf8_lossy(&self.raw))
            .finish()
    }
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 120;
        let text = String::from_utf8_lossy(&self.raw[..self.raw.len().min(SHOWN)]);
        let more = if self.raw.len() > SHOWN { "..." } else { "" };
        write!(f, "cannot decode frame ({} bytes: {text:?}{more}): {}", self.raw.len(), self.kind)
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}
