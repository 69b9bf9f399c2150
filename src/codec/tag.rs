//! The `"type"` tag of every typed message, in one pass: encoding writes it first (no
//! intermediate `Value`), decoding checks and strips it wherever it stands, with a fast
//! path for documents that open with it (as this crate and Python's `json.dumps` write
//! them), and checks the top-level keys for repeats on the way.
//!
//! (About 410 lines in one file: writing and reading the tag are one rule, and the
//! decode's serde adapters, `TagChecking`, `TagVisitor`, `TagFilter` and `ValueDe`, only
//! work as a chain; the fast path's own deserializer is in `fast.rs`.)

use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::Deserializer;

use super::de::{CowStr, DeepIgnore, KeySet, MaybeCowStr};
use crate::error::{DecodeErrorKind, EncodeError};
use crate::message::{accepts_type, Message};

/// Serializes `msg` into `buf` (appending) as a JSON object whose first member is
/// `"type": M::TYPE`. No intermediate allocation: the struct is written straight after
/// the tag and its opening brace overwritten.
///
/// serde_json writes a non-finite float as `null`; so when the output contains `null`
/// (serde_json's formatter notes it: no search of the output), the message is walked for one,
/// which is an error naming its field. On any error `buf` is left as it was.
pub(crate) fn encode_tagged<M: Message>(msg: &M, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
    let start = buf.len();
    buf.extend_from_slice(b"{\"type\":\"");
    buf.extend_from_slice(M::TYPE.as_bytes());
    buf.push(b'"');
    let body = buf.len();
    let wrote_null = Cell::new(false);
    let mut ser = serde_json::Serializer::with_formatter(&mut *buf, NullSpotter(&wrote_null));
    if let Err(e) = msg.serialize(&mut ser) {
        buf.truncate(start);
        return Err(EncodeError::Json(e));
    }
    if wrote_null.get() {
        if let Some((field, value)) = crate::finite::find_non_finite(msg) {
            buf.truncate(start);
            return Err(EncodeError::NonFiniteFloat { message_type: M::TYPE, field, value });
        }
    }
    match &buf[body..] {
        [b'{', b'}'] => {
            buf.truncate(body);
            buf.push(b'}');
            Ok(())
        }
        [b'{', ..] => {
            buf[body] = b',';
            Ok(())
        }
        _ => {
            buf.truncate(start);
            Err(EncodeError::NotAnObject { what: M::TYPE })
        }
    }
}

/// serde_json's compact formatter, noting whether it wrote a `null`: serde_json writes a
/// non-finite float as one, so only then can the message hold such a float.
struct NullSpotter<'a>(&'a Cell<bool>);

impl serde_json::ser::Formatter for NullSpotter<'_> {
    fn write_null<W: ?Sized + std::io::Write>(&mut self, writer: &mut W) -> std::io::Result<()> {
        self.0.set(true);
        writer.write_all(b"null")
    }
}

/// What the tag check saw; written by the filtering map access, read after parsing.
#[derive(Clone, Copy, PartialEq, Eq)]
enum TagState {
    Unseen,
    Ok,
    Wrong,
    NotString,
    /// A top-level key occurred twice (the key is in `found`).
    Duplicate,
}

/// Decodes `json` into `M` in one pass, checking and stripping the `"type"` member at
/// the top level (wherever it stands in the object).
///
/// Every decoder applies the same rules to a document: it is UTF-8 with no unpaired
/// surrogate escape (checked by the caller, [`json_text`](super::json_text)), its top-level
/// object repeats no key ([`DecodeErrorKind::DuplicateKey`]), and nothing in it, ignored
/// fields included, nests deeper than serde_json's limit of 128.
pub(crate) fn decode_tagged<M: Message>(json: &str) -> Result<M, DecodeErrorKind> {
    match decode_fast::<M>(json.as_bytes()) {
        Some(msg) => Ok(msg),
        None => decode_general(json),
    }
}

/// The fast path alone, on a frame's JSON bytes not yet checked as text (see
/// [`fast`](super::fast)): `Some` only for a document that opens with a tag `M`
/// accepts and that the fast path takes; `None`: check the text and take the general
/// path.
pub(crate) fn decode_fast<M: Message>(json: &[u8]) -> Option<M> {
    let (name, after) = leading_tag(json)?;
    if !accepts_name::<M>(name) {
        return None;
    }
    decode_body::<M>(json, after)
}

/// [`decode_fast`] of a document whose leading tag has been read and accepted already
/// (`after` from [`leading_tag`]).
#[cfg(feature = "tokio")] // only the service dispatch (tokio) reads the tag first
pub(crate) fn decode_fast_after<M: Message>(json: &[u8], after: usize) -> Option<M> {
    decode_body::<M>(json, after)
}

/// Whether `M` takes a document whose `"type"` is `name` (its raw bytes).
pub(crate) fn accepts_name<M: Message>(name: &[u8]) -> bool {
    M::TYPE.as_bytes() == name || M::ALIASES.iter().any(|a| a.as_bytes() == name)
}

/// [`decode_tagged`] of a document whose leading tag has been read already by
/// [`leading_tag`] (which gave `after`) and accepted for `M`: the service dispatch, which
/// finds the handler by that name, so the name is not scanned and compared twice.
#[cfg(feature = "tokio")] // only the service dispatch (tokio) reads the tag first
pub(crate) fn decode_tagged_after<M: Message>(json: &str, after: usize) -> Result<M, DecodeErrorKind> {
    match decode_body::<M>(json.as_bytes(), after) {
        Some(msg) => Ok(msg),
        None => decode_general(json),
    }
}

/// The general path: any document, and every error (so its error, and the position it
/// names, is about the frame as received).
pub(crate) fn decode_general<M: Message>(json: &str) -> Result<M, DecodeErrorKind> {
    let mut de = serde_json::Deserializer::from_str(json);
    let msg = tagged::<M, _>(&mut de)?;
    de.end().map_err(DecodeErrorKind::Json)?;
    Ok(msg)
}

fn skip_ws(b: &[u8]) -> &[u8] {
    let n = b.iter().position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r')).unwrap_or(b.len());
    &b[n..]
}

/// The wire name of a document that opens with its tag, as this crate and Python's
/// `json.dumps` write it (`{"type":"Name"` or `{"type": "Name"`), read without parsing,
/// and the offset just past the name's closing quote. `None` for any other opening, or
/// a name with an escape (the general path reads those). The name is raw bytes: it
/// selects a type only by equality with a registered (ASCII) name.
pub(crate) fn leading_tag(json: &[u8]) -> Option<(&[u8], usize)> {
    let head: [u8; 8] = json.get(..8)?.try_into().ok()?;
    if u64::from_ne_bytes(head) != u64::from_ne_bytes(*b"{\"type\":") {
        return None;
    }
    let quote = json.len() - skip_ws(&json[8..]).len();
    if json.get(quote) != Some(&b'"') {
        return None;
    }
    let start = quote + 1;
    let end = start + json[start..].iter().position(|&c| c == b'"' || c == b'\\')?;
    if json[end] != b'"' {
        return None;
    }
    Some((&json[start..end], end + 1))
}

/// The fast path for documents that open with their tag (see [`leading_tag`]; `after`
/// is the offset past the name, which the caller has accepted for `M`):
/// [`fast::decode_after_tag`](super::fast::decode_after_tag). `None`: the general path.
fn decode_body<M: Message>(json: &[u8], after: usize) -> Option<M> {
    super::fast::decode_after_tag::<M>(json, after)
}

/// Decodes an already-parsed JSON value into `M`, checking the tag the same way.
pub(crate) fn decode_tagged_value<M: Message>(value: &serde_json::Value) -> Result<M, DecodeErrorKind> {
    tagged::<M, _>(value)
}

/// Runs `M`'s deserializer through the tag check, and names what was wrong with the tag
/// before any schema error (a wrong type explains a schema mismatch).
fn tagged<'de, M: Message, D>(de: D) -> Result<M, DecodeErrorKind>
where
    D: Deserializer<'de, Error = serde_json::Error>,
{
    let state = Cell::new(TagState::Unseen);
    let found: Cell<Option<String>> = Cell::new(None);
    let result =
        M::deserialize(TagChecking { inner: de, accepts: accepts_type::<M>, state: &state, found: &found });
    match state.get() {
        TagState::Wrong => {
            Err(DecodeErrorKind::WrongType { expected: M::TYPE, found: found.take().unwrap_or_default() })
        }
        TagState::NotString => Err(DecodeErrorKind::TypeNotAString),
        TagState::Duplicate => Err(DecodeErrorKind::DuplicateKey { key: found.take().unwrap_or_default() }),
        TagState::Unseen if result.is_ok() => Err(DecodeErrorKind::MissingType { expected: M::TYPE }),
        _ => result.map_err(DecodeErrorKind::Json),
    }
}

/// `M`'s deserializer seen through the top-level checks of the general path: the tag is
/// checked and hidden, every top-level key is checked for repeats, and ignored values
/// are parsed within the depth limit.
struct TagChecking<'s, D> {
    inner: D,
    accepts: fn(&str) -> bool,
    state: &'s Cell<TagState>,
    found: &'s Cell<Option<String>>,
}

impl<'s, D> TagChecking<'s, D> {
    fn visitor<V>(&self, inner: V) -> TagVisitor<'s, V> {
        TagVisitor { inner, accepts: self.accepts, state: self.state, found: self.found }
    }
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for TagChecking<'_, D> {
    type Error = D::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let v = self.visitor(visitor);
        self.inner.deserialize_any(v)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        let v = self.visitor(visitor);
        self.inner.deserialize_map(v)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Self::Error> {
        let v = self.visitor(visitor);
        self.inner.deserialize_struct(name, fields, v)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct enum identifier ignored_any
    }
}

struct TagVisitor<'s, V> {
    inner: V,
    accepts: fn(&str) -> bool,
    state: &'s Cell<TagState>,
    found: &'s Cell<Option<String>>,
}

impl<'de, V: Visitor<'de>> Visitor<'de> for TagVisitor<'_, V> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_map(TagFilter::<A> {
            inner: map,
            accepts: self.accepts,
            state: self.state,
            found: self.found,
            keys: KeySet::default(),
        })
    }
}

/// The top-level map access: see [`TagChecking`].
struct TagFilter<'de, 's, A> {
    inner: A,
    accepts: fn(&str) -> bool,
    state: &'s Cell<TagState>,
    found: &'s Cell<Option<String>>,
    keys: KeySet<'de>,
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for TagFilter<'de, '_, A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        loop {
            let Some(key) = self.inner.next_key_seed(CowStr)? else {
                return Ok(None);
            };
            if !self.keys.insert(key.clone()) {
                self.state.set(TagState::Duplicate);
                self.found.set(Some(crate::error::clip(&key)));
                return Err(de::Error::custom("a repeated key"));
            }
            if key != "type" {
                return match key {
                    Cow::Borrowed(k) => {
                        seed.deserialize(de::value::BorrowedStrDeserializer::new(k)).map(Some)
                    }
                    Cow::Owned(k) => seed.deserialize(k.into_deserializer()).map(Some),
                };
            }
            match self.inner.next_value_seed(MaybeCowStr)? {
                Some(found) if (self.accepts)(&found) => self.state.set(TagState::Ok),
                Some(found) => {
                    self.state.set(TagState::Wrong);
                    self.found.set(Some(crate::error::clip(&found)));
                    return Err(de::Error::custom("wrong message type"));
                }
                None => {
                    self.state.set(TagState::NotString);
                    return Err(de::Error::custom("the type field is not a string"));
                }
            }
        }
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.inner.next_value_seed(ValueSeed::<S>(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// The seed of a top-level value: deserializes it through [`ValueDe`].
struct ValueSeed<S>(S);

impl<'de, S: DeserializeSeed<'de>> DeserializeSeed<'de> for ValueSeed<S> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(ValueDe::<D>(d))
    }
}

/// A top-level value's deserializer: serde_json's, except for a value the type ignores,
/// which is parsed within the depth limit, where
/// serde_json would skip it at any depth.
struct ValueDe<D>(D);

macro_rules! forward_value_de {
    ($($method:ident($($arg:ident: $ty:ty),*)),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, $($arg: $ty,)* visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method($($arg,)* visitor)
        })*
    };
}

impl<'de, D: Deserializer<'de>> Deserializer<'de> for ValueDe<D> {
    type Error = D::Error;

    forward_value_de!(
        deserialize_any(),
        deserialize_bool(),
        deserialize_i8(),
        deserialize_i16(),
        deserialize_i32(),
        deserialize_i64(),
        deserialize_i128(),
        deserialize_u8(),
        deserialize_u16(),
        deserialize_u32(),
        deserialize_u64(),
        deserialize_u128(),
        deserialize_f32(),
        deserialize_f64(),
        deserialize_char(),
        deserialize_str(),
        deserialize_string(),
        deserialize_bytes(),
        deserialize_byte_buf(),
        deserialize_option(),
        deserialize_unit(),
        deserialize_seq(),
        deserialize_map(),
        deserialize_identifier(),
        deserialize_unit_struct(name: &'static str),
        deserialize_newtype_struct(name: &'static str),
        deserialize_tuple(len: usize),
        deserialize_tuple_struct(name: &'static str, len: usize),
        deserialize_struct(name: &'static str, fields: &'static [&'static str]),
        deserialize_enum(name: &'static str, variants: &'static [&'static str]),
    );

    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        DeepIgnore.deserialize(self.0)?;
        v.visit_unit()
    }
    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

#[cfg(test)]
mod tests {
    use super::leading_tag;

    #[test]
    fn leading_tag_reads_both_writers_and_refuses_escapes() {
        let tag =
            |json: &'static str| leading_tag(json.as_bytes()).map(|(n, a)| (String::from_utf8_lossy(n), a));
        let name = |json| tag(json).map(|(n, _)| n);
        assert_eq!(tag(r#"{"type":"EraChanged","era":"x"}"#), Some(("EraChanged".into(), 20)));
        assert_eq!(tag(r#"{"type": "Idle", "status": true}"#), Some(("Idle".into(), 15)));
        assert_eq!(name(r#"{"type":  "Idle"}"#), Some("Idle".into()));
        assert_eq!(name(r#"{"type": "Id\u0065"}"#), None);
        assert_eq!(name(r#"{"era": "x", "type": "EraChanged"}"#), None);
        assert_eq!(name(r#"{"type":"Ère","x":1}"#), Some("Ère".into()));
        assert_eq!(name(r#"{"type":"unterminated"#), None);
        assert_eq!(name(r#"{"type":1}"#), None);
        assert_eq!(name(r#"{"type":"#), None);
    }
}
