//! Codec errors. A decode error always carries the raw frame, so nothing received is
//! ever lost.

use std::fmt;

use crate::topic::TopicError;

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
    /// A float field is NaN or infinite, which JSON cannot carry (serde_json would
    /// silently write `null`). Nothing was written.
    #[error("field `{field}` of a \"{message_type}\" message is {value}, which JSON cannot carry")]
    NonFiniteFloat {
        /// The message's wire name.
        message_type: &'static str,
        /// Where the float is, as a path: `timestamp`, `payload.x`, `samples[3]`.
        field: String,
        /// The float itself (NaN, inf or -inf).
        value: f64,
    },
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
    /// The JSON document is not valid UTF-8. Every decoder checks the whole document,
    /// ignored fields included, before parsing it.
    #[error("the frame is not valid UTF-8 (valid up to byte {valid_up_to})")]
    NotUtf8 {
        /// Length of the valid prefix, counted from the start of the frame.
        valid_up_to: usize,
    },
    /// A `\\uD800`-style escape of an unpaired UTF-16 surrogate (Python's `json.dumps`
    /// writes one for a string holding a lone surrogate), which no Rust string can hold.
    /// Rejected wherever it stands, in ignored fields too.
    #[error("the JSON has an unpaired UTF-16 surrogate escape at byte {at}")]
    LoneSurrogate {
        /// Byte offset of its backslash, counted from the start of the frame.
        at: usize,
    },
    /// A key occurs twice in the document's top-level object (`"type"` included). JSON
    /// parsers disagree on which one wins (Python keeps the last), so every decoder of
    /// this crate rejects the document rather than guess.
    #[error("the key {key:?} occurs more than once in the message")]
    DuplicateKey {
        /// The repeated key (at most its first 64 bytes).
        key: String,
    },
    /// A PUB frame without the space that separates topic and JSON.
    #[error("the frame has no space separating topic and JSON")]
    MissingSeparator,
    /// The JSON is malformed (including `NaN`/`Infinity`, which are not JSON, and
    /// nesting deeper than 128 arrays or objects, in ignored fields too), or does not
    /// fit the expected message type's schema.
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
    #[error("expected a message of type \"{expected}\", found {found:?}")]
    WrongType {
        /// The wire name that was expected.
        expected: &'static str,
        /// The wire name found (at most its first 64 bytes).
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
    /// The error for `raw`, copied once (the only copy of a frame an error makes).
    pub(crate) fn new(kind: impl Into<DecodeErrorKind>, raw: &[u8], framing: Framing) -> Self {
        DecodeError::from_vec(kind, raw.to_vec(), framing)
    }

    /// The error for a frame already owned.
    pub(crate) fn from_vec(kind: impl Into<DecodeErrorKind>, raw: Vec<u8>, framing: Framing) -> Self {
        DecodeError { kind: kind.into(), raw, extra_parts: Vec::new(), framing }
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

/// How many bytes of the frame the `Display` and `Debug` of a [`DecodeError`] show.
const SHOWN_BYTES: usize = 120;
/// How many characters of the kind's own message they show (serde's messages quote the
/// offending value, which can be as long as the frame).
const SHOWN_KIND_CHARS: usize = 300;

/// The first [`SHOWN_BYTES`] of a frame, escaped: valid UTF-8 as Rust's `escape_debug`
/// writes it, every other byte as `\xNN`, and `...` when there is more.
struct Preview<'a>(&'a [u8]);

impl fmt::Display for Preview<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let shown = &self.0[..self.0.len().min(SHOWN_BYTES)];
        f.write_str("\"")?;
        for chunk in shown.utf8_chunks() {
            for c in chunk.valid().chars() {
                write!(f, "{}", c.escape_debug())?;
            }
            for b in chunk.invalid() {
                write!(f, "\\x{b:02x}")?;
            }
        }
        f.write_str("\"")?;
        if self.0.len() > shown.len() {
            f.write_str("...")?;
        }
        Ok(())
    }
}

/// Writes at most `left` characters to `out`, control characters escaped, and records
/// whether anything was cut.
struct Bounded<'a, W> {
    out: &'a mut W,
    left: usize,
    cut: bool,
}

impl<W: fmt::Write> fmt::Write for Bounded<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            if self.left == 0 {
                self.cut = true;
                return Ok(());
            }
            self.left -= 1;
            if c.is_control() {
                write!(self.out, "{}", c.escape_default())?;
            } else {
                self.out.write_char(c)?;
            }
        }
        Ok(())
    }
}

/// Writes `value`'s text bounded by [`SHOWN_KIND_CHARS`], control characters escaped.
fn write_bounded(f: &mut fmt::Formatter<'_>, value: &dyn fmt::Display) -> fmt::Result {
    let mut bounded = Bounded { out: f, left: SHOWN_KIND_CHARS, cut: false };
    fmt::write(&mut bounded, format_args!("{value}"))?;
    if bounded.cut {
        f.write_str("...")?;
    }
    Ok(())
}

/// At most the first 64 bytes of `s` (cut at a character boundary), for names that
/// error values keep.
pub(crate) fn clip(s: &str) -> String {
    const MAX: usize = 64;
    if s.len() <= MAX {
        return s.to_owned();
    }
    let mut end = MAX;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

/// Bounded like `Display`: the kind, the framing, the length and an escaped prefix of
/// the frame; [`DecodeError::raw`] has every byte.
impl fmt::Debug for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        struct Kind<'a>(&'a DecodeErrorKind);
        impl fmt::Debug for Kind<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                struct AsDebug<'a>(&'a DecodeErrorKind);
                impl fmt::Display for AsDebug<'_> {
                    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                        fmt::Debug::fmt(self.0, f)
                    }
                }
                write_bounded(f, &AsDebug(self.0))
            }
        }
        struct Raw<'a>(&'a [u8]);
        impl fmt::Debug for Raw<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", Preview(self.0))
            }
        }
        let mut d = f.debug_struct("DecodeError");
        d.field("kind", &Kind(&self.kind)).field("framing", &self.framing).field("len", &self.raw.len());
        if !self.extra_parts.is_empty() {
            d.field("extra_parts", &self.extra_parts.len());
        }
        d.field("raw", &Raw(&self.raw)).finish()
    }
}

/// `cannot decode frame (<length> bytes: "<escaped prefix>"...): <why>`, bounded
/// whatever the frame's size: at most 120 bytes of the frame and 300 characters of the
/// reason, control characters escaped. [`DecodeError::raw`] has every byte.
impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot decode frame ({} bytes: {}): ", self.raw.len(), Preview(&self.raw))?;
        write_bounded(f, &self.kind)
    }
}

impl std::error::Error for DecodeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.kind)
    }
}
