//! The [`Message`] trait, the process-wide registry of message types, and the
//! single-pass `"type"` tag handling that every typed encode and decode goes through.

use std::any::Any;
use std::borrow::Cow;
use std::cell::Cell;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, MapAccess, Visitor};
use serde::{Deserializer, Serialize};

use crate::DecodeErrorKind;

/// A message type of the Experimance bus: a struct that serializes as a JSON object and
/// is tagged on the wire with `"type": "<TYPE>"`.
///
/// Implement it with `#[derive(Message)]`, which also registers the type in the
/// process-wide [registry](registered_types), so [`AnyMessage`](crate::AnyMessage) and
/// the `exbus` tool know it. The struct itself need not (and should not) have a `type`
/// field: encoding writes the tag, decoding checks it and strips it.
///
/// # Example
/// ```
/// use experimance_common::{Message, codec};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Debug, PartialEq, Serialize, Deserialize, Message)]
/// #[message(type = "DoorOpened", alias = "Door")]
/// struct DoorOpened {
///     door: u32,
/// }
///
/// let mut buf = Vec::new();
/// codec::encode_push(&DoorOpened { door: 3 }, &mut buf)?;
/// assert_eq!(buf, br#"{"type":"DoorOpened","door":3}"#);
/// let back: DoorOpened = codec::decode_push(br#"{"type": "Door", "door": 3}"#)?;
/// assert_eq!(back, DoorOpened { door: 3 });
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub trait Message: Serialize + DeserializeOwned + fmt::Debug + Send + Sync + 'static {
    /// The wire name written into the `"type"` field.
    const TYPE: &'static str;
    /// Other wire names accepted when decoding (for example `Idle` for `IdleStatus`).
    const ALIASES: &'static [&'static str] = &[];

    /// Whether `name` is this type's wire name or one of its aliases.
    fn accepts_type(name: &str) -> bool {
        name == Self::TYPE || Self::ALIASES.contains(&name)
    }
}

/// One field of a registered message type, as the derive saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldInfo {
    /// The field's name on the wire.
    pub name: &'static str,
    /// The field's Rust type, as written in the struct.
    pub rust_type: &'static str,
    /// Whether the field may be absent or null (`Option<_>` or `#[serde(default)]`).
    pub optional: bool,
    /// The keys decoding reads the field from, sorted: its deserialize name (`name` unless
    /// a `rename(deserialize = "...")` or a deserialize `rename_all` rule differs) and its
    /// `#[serde(alias = "...")]`es; empty for a `skip_deserializing` field.
    pub decode_names: &'static [&'static str],
}

/// Decodes a JSON document (checked UTF-8) into a boxed message of one registered type.
type DecodeFn = fn(&str) -> Result<Box<dyn DynMessage>, DecodeErrorKind>;

/// A registered message type: what the registry knows of it.
#[derive(Clone, Copy)]
pub struct MessageInfo {
    type_name: &'static str,
    aliases: &'static [&'static str],
    rust_name: &'static str,
    fields: &'static [FieldInfo],
    decode: DecodeFn,
}

impl MessageInfo {
    /// Used by `#[derive(Message)]`; not public API.
    #[doc(hidden)]
    pub const fn __new<M: Message>(rust_name: &'static str, fields: &'static [FieldInfo]) -> Self {
        MessageInfo { type_name: M::TYPE, aliases: M::ALIASES, rust_name, fields, decode: decode_dyn::<M> }
    }

    /// The wire name (`"type"` value) of this message type.
    pub fn type_name(&self) -> &'static str {
        self.type_name
    }

    /// Other wire names accepted on decode.
    pub fn aliases(&self) -> &'static [&'static str] {
        self.aliases
    }

    /// The Rust path of the type (`module::path::Name`).
    pub fn rust_name(&self) -> &'static str {
        self.rust_name
    }

    /// The fields of the struct, in declaration order (the `type` tag excluded).
    pub fn fields(&self) -> &'static [FieldInfo] {
        self.fields
    }

    /// Whether `name` is this type's wire name or one of its aliases.
    pub fn accepts(&self, name: &str) -> bool {
        self.type_name == name || self.aliases.contains(&name)
    }

    /// Decodes a JSON document into this type, checking its tag.
    ///
    /// # Errors
    /// [`DecodeError`](crate::DecodeError) when the document is not valid JSON for the
    /// type or its `type` field is missing or names another type.
    pub fn decode(&self, json: &[u8]) -> Result<Box<dyn DynMessage>, crate::DecodeError> {
        crate::codec::json_text(json, 0)
            .and_then(|text| self.decode_text(text))
            .map_err(|e| crate::DecodeError::new(e, json, crate::Framing::Push))
    }

    /// [`decode`](Self::decode) of a document already checked to be text, without a
    /// copy of the frame on failure.
    pub(crate) fn decode_text(&self, json: &str) -> Result<Box<dyn DynMessage>, DecodeErrorKind> {
        (self.decode)(json)
    }
}

impl fmt::Debug for MessageInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageInfo")
            .field("type_name", &self.type_name)
            .field("aliases", &self.aliases)
            .field("rust_name", &self.rust_name)
            .field("fields", &self.fields)
            .finish()
    }
}

inventory::collect!(MessageInfo);

/// Every message type registered in this process (built-in and user-defined), sorted by
/// wire name.
///
/// # Example
/// ```
/// let names: Vec<_> = experimance_common::registered_types().iter().map(|t| t.type_name()).collect();
/// assert!(names.contains(&"EraChanged"));
/// ```
pub fn registered_types() -> Vec<&'static MessageInfo> {
    let mut all: Vec<_> = inventory::iter::<MessageInfo>.into_iter().collect();
    all.sort_by(|a, b| a.type_name.cmp(b.type_name).then(a.rust_name.cmp(b.rust_name)));
    all
}

/// Looks a registered message type up by its wire name or one of its aliases.
///
/// # Example
/// ```
/// let info = experimance_common::lookup_type("Idle").unwrap();
/// assert_eq!(info.type_name(), "IdleStatus");
/// ```
pub fn lookup_type(name: &str) -> Option<&'static MessageInfo> {
    inventory::iter::<MessageInfo>.into_iter().find(|info| info.accepts(name))
}

/// Two registered types claim the same wire name (or alias).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the wire name `{name}` is registered by both `{first}` and `{second}`")]
pub struct DuplicateTypeError {
    /// The contested wire name.
    pub name: &'static str,
    /// One Rust type claiming it.
    pub first: &'static str,
    /// The other.
    pub second: &'static str,
}

/// Checks that no two registered types share a wire name or alias. Call it once in a
/// test of any crate that defines its own message types.
///
/// # Errors
/// Every clash found, each as a [`DuplicateTypeError`].
///
/// # Example
/// ```
/// experimance_common::check_registry().expect("wire names are unique");
/// ```
pub fn check_registry() -> Result<(), Vec<DuplicateTypeError>> {
    let mut seen: Vec<(&'static str, &'static str)> = Vec::new();
    let mut clashes = Vec::new();
    for info in registered_types() {
        for name in std::iter::once(info.type_name).chain(info.aliases.iter().copied()) {
            if let Some((_, first)) = seen.iter().find(|(n, _)| *n == name) {
                clashes.push(DuplicateTypeError { name, first, second: info.rust_name });
            } else {
                seen.push((name, info.rust_name));
            }
        }
    }
    if clashes.is_empty() {
        Ok(())
    } else {
        Err(clashes)
    }
}

/// A decoded message of a registered type, behind dynamic dispatch (what
/// [`AnyMessage::Registered`](crate::AnyMessage::Registered) holds).
pub trait DynMessage: fmt::Debug + Send + Sync + 'static {
    /// The wire name of the message's type.
    fn type_name(&self) -> &'static str;
    /// The message as a JSON object, `"type"` included.
    fn to_json(&self) -> serde_json::Value;
    /// For downcasting to the concrete type.
    fn as_any(&self) -> &dyn Any;
    /// For downcasting to the concrete type by value.
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send + Sync>;
    /// Appends the message's JSON (with its `"type"`) to `buf`.
    ///
    /// # Errors
    /// As [`codec::encode_push`](crate::codec::encode_push); `buf` is left as it was.
    fn write_json(&self, buf: &mut Vec<u8>) -> Result<(), crate::EncodeError> {
        let start = buf.len();
        let value = self.to_json();
        if !value.is_object() {
            return Err(crate::EncodeError::NotAnObject { what: self.type_name() });
        }
        serde_json::to_writer(&mut *buf, &value).map_err(|e| {
            buf.truncate(start);
            crate::EncodeError::Json(e)
        })
    }
}

impl<M: Message> DynMessage for M {
    fn type_name(&self) -> &'static str {
        M::TYPE
    }
    fn to_json(&self) -> serde_json::Value {
        let mut buf = Vec::with_capacity(128);
        match encode_tagged(self, &mut buf) {
            Ok(()) => serde_json::from_slice(&buf).unwrap_or(serde_json::Value::Null),
            Err(_) => serde_json::Value::Null,
        }
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send + Sync> {
        self
    }
    fn write_json(&self, buf: &mut Vec<u8>) -> Result<(), crate::EncodeError> {
        encode_tagged(self, buf).map_err(Into::into)
    }
}

impl dyn DynMessage {
    /// Borrows the message as `M` if that is its type.
    pub fn downcast_ref<M: Message>(&self) -> Option<&M> {
        self.as_any().downcast_ref()
    }

    /// Takes the message as `M` if that is its type, or gives it back.
    ///
    /// # Errors
    /// The message itself when it is of another type.
    pub fn downcast<M: Message>(self: Box<Self>) -> Result<M, Box<Self>> {
        if self.as_any().is::<M>() {
            match self.into_any().downcast::<M>() {
                Ok(m) => Ok(*m),
                Err(_) => unreachable!("type checked just above"),
            }
        } else {
            Err(self)
        }
    }
}

fn decode_dyn<M: Message>(json: &str) -> Result<Box<dyn DynMessage>, DecodeErrorKind> {
    decode_tagged::<M>(json).map(|m| Box::new(m) as Box<dyn DynMessage>)
}

/// Serializes `msg` into `buf` (appending) as a JSON object whose first member is
/// `"type": M::TYPE`. No intermediate allocation: the struct is written straight after
/// the tag and its opening brace overwritten.
///
/// serde_json writes a non-finite float as `null`; so when the output contains `null`
/// (serde_json's formatter notes it: no search of the output), the message is walked for one,
/// which is an error naming its field. On any error `buf` is left as it was.
pub(crate) fn encode_tagged<M: Message>(msg: &M, buf: &mut Vec<u8>) -> Result<(), EncodeJsonError> {
    let start = buf.len();
    buf.extend_from_slice(b"{\"type\":\"");
    buf.extend_from_slice(M::TYPE.as_bytes());
    buf.push(b'"');
    let body = buf.len();
    let wrote_null = Cell::new(false);
    let mut ser = serde_json::Serializer::with_formatter(&mut *buf, NullSpotter(&wrote_null));
    if let Err(e) = msg.serialize(&mut ser) {
        buf.truncate(start);
        return Err(EncodeJsonError::Json(e));
    }
    if wrote_null.get() {
        if let Some((field, value)) = crate::finite::find_non_finite(msg) {
            buf.truncate(start);
            return Err(EncodeJsonError::NonFiniteFloat { type_name: M::TYPE, field, value });
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
            Err(EncodeJsonError::NotAnObject { type_name: M::TYPE })
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

/// Why encoding a message to JSON failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum EncodeJsonError {
    /// serde_json refused the value (for example a map with non-string keys).
    #[error("cannot serialize the message: {0}")]
    Json(#[from] serde_json::Error),
    /// The type does not serialize as a JSON object, so it cannot carry a `"type"` tag.
    #[error("message type \"{type_name}\" does not serialize as a JSON object")]
    NotAnObject {
        /// The wire name of the offending type.
        type_name: &'static str,
    },
    /// A float field is NaN or infinite.
    #[error("field `{field}` of \"{type_name}\" is {value}, which JSON cannot carry")]
    NonFiniteFloat {
        /// The wire name of the message type.
        type_name: &'static str,
        /// The field's path.
        field: String,
        /// The float.
        value: f64,
    },
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
/// surrogate escape (checked by the caller, [`crate::codec::json_text`]), its top-level
/// object repeats no key ([`DecodeErrorKind::DuplicateKey`]), and nothing in it, ignored
/// fields included, nests deeper than serde_json's limit of 128.
pub(crate) fn decode_tagged<M: Message>(json: &str) -> Result<M, DecodeErrorKind> {
    if let Some(Ok(msg)) = decode_tag_first::<M>(json) {
        return Ok(msg);
    }
    // Any failure goes through the general path, so its error (and the position it
    // names) is about the frame as received.
    let mut de = serde_json::Deserializer::from_str(json);
    let msg = tagged::<M, _>(&mut de)?;
    de.end().map_err(DecodeErrorKind::Json)?;
    Ok(msg)
}

/// The fast path for small documents that open with their tag, as this crate and Python's
/// `json.dumps` write them (`{"type":"Name",...` or `{"type": "Name", ...`): the name is
/// checked in place, and the rest is parsed by `M`'s own deserializer from a stack copy
/// with the tag cut out, so no key goes through the tag filter. `None` (or an error)
/// sends the document down the general path.
///
/// Keys are not tracked here: `M`'s deserializer rejects a repeated field of its own
/// (serde's derive does, and `Heartbeat`), and a value `M` ignores (an unknown field, or
/// a second `"type"`) fails this path, so documents with either are decoded (and their
/// keys checked) by the general path.
fn decode_tag_first<M: Message>(json: &str) -> Option<Result<M, DecodeErrorKind>> {
    const MAX: usize = 512;
    fn skip_ws(b: &[u8]) -> &[u8] {
        let n = b.iter().position(|c| !matches!(c, b' ' | b'\t' | b'\n' | b'\r')).unwrap_or(b.len());
        &b[n..]
    }
    let json = json.as_bytes();
    if json.len() > MAX {
        return None;
    }
    let rest = skip_ws(json.strip_prefix(b"{\"type\":")?).strip_prefix(b"\"")?;
    let end = rest.iter().position(|&b| b == b'"' || b == b'\\')?;
    if rest[end] != b'"' {
        return None;
    }
    let name = std::str::from_utf8(&rest[..end]).ok()?;
    if !M::accepts_type(name) {
        return None;
    }
    let after = skip_ws(&rest[end + 1..]);
    let body = match after.first()? {
        b',' => &after[1..],
        b'}' => after,
        _ => return None,
    };
    let mut buf = [0u8; MAX];
    buf[0] = b'{';
    buf[1..=body.len()].copy_from_slice(body);
    // SAFETY: `json` is a `str`, and `body` is a suffix of it that starts after an ASCII
    // byte (`,` or whitespace) or at one (`}`), so on a character boundary: `body` is
    // valid UTF-8, and so is `{` followed by it.
    let text = unsafe { std::str::from_utf8_unchecked(&buf[..=body.len()]) };
    let state = Cell::new(TagState::Ok);
    let found = Cell::new(None);
    let mut de = serde_json::Deserializer::from_str(text);
    let checked =
        TagChecking::<_, true> { inner: &mut de, accepts: M::accepts_type, state: &state, found: &found };
    Some(M::deserialize(checked).and_then(|m| de.end().map(|()| m)).map_err(DecodeErrorKind::Json))
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
    let result = M::deserialize(TagChecking::<_, false> {
        inner: de,
        accepts: M::accepts_type,
        state: &state,
        found: &found,
    });
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

/// `M`'s deserializer seen through the top-level checks. `FAST`: the tag has been cut out
/// already, keys pass straight through, and a value `M` ignores fails the decode (see
/// [`decode_tag_first`]). Otherwise: the tag is checked and hidden, every top-level key
/// is checked for repeats, and ignored values are parsed within the depth limit.
struct TagChecking<'s, D, const FAST: bool> {
    inner: D,
    accepts: fn(&str) -> bool,
    state: &'s Cell<TagState>,
    found: &'s Cell<Option<String>>,
}

impl<'s, D, const FAST: bool> TagChecking<'s, D, FAST> {
    fn visitor<V>(&self, inner: V) -> TagVisitor<'s, V, FAST> {
        TagVisitor { inner, accepts: self.accepts, state: self.state, found: self.found }
    }
}

impl<'de, D: Deserializer<'de>, const FAST: bool> Deserializer<'de> for TagChecking<'_, D, FAST> {
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

struct TagVisitor<'s, V, const FAST: bool> {
    inner: V,
    accepts: fn(&str) -> bool,
    state: &'s Cell<TagState>,
    found: &'s Cell<Option<String>>,
}

impl<'de, V: Visitor<'de>, const FAST: bool> Visitor<'de> for TagVisitor<'_, V, FAST> {
    type Value = V::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.inner.expecting(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        self.inner.visit_map(TagFilter::<A, FAST> {
            inner: map,
            accepts: self.accepts,
            state: self.state,
            found: self.found,
            keys: KeySet::default(),
        })
    }
}

/// The top-level map access: see [`TagChecking`].
struct TagFilter<'de, 's, A, const FAST: bool> {
    inner: A,
    accepts: fn(&str) -> bool,
    state: &'s Cell<TagState>,
    found: &'s Cell<Option<String>>,
    keys: KeySet<'de>,
}

impl<'de, A: MapAccess<'de>, const FAST: bool> MapAccess<'de> for TagFilter<'de, '_, A, FAST> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>, A::Error> {
        if FAST {
            return self.inner.next_key_seed(seed);
        }
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
        self.inner.next_value_seed(ValueSeed::<S, FAST>(seed))
    }

    fn size_hint(&self) -> Option<usize> {
        self.inner.size_hint()
    }
}

/// The keys of one object seen so far: a short list, a hash set past 16 keys (so a
/// hostile object of 100,000 keys costs no quadratic time).
#[derive(Default)]
pub(crate) struct KeySet<'de> {
    few: Vec<Cow<'de, str>>,
    many: Option<std::collections::HashSet<Cow<'de, str>>>,
}

impl<'de> KeySet<'de> {
    /// Adds `key` (a clone of a borrowed key costs nothing); `false` if it was there
    /// already.
    pub(crate) fn insert(&mut self, key: Cow<'de, str>) -> bool {
        const FEW: usize = 16;
        if let Some(many) = &mut self.many {
            return many.insert(key);
        }
        if self.few.contains(&key) {
            return false;
        }
        if self.few.len() < FEW {
            self.few.push(key);
        } else {
            let mut many: std::collections::HashSet<_> = self.few.drain(..).collect();
            many.insert(key);
            self.many = Some(many);
        }
        true
    }
}

/// The seed of a top-level value: deserializes it through [`ValueDe`].
struct ValueSeed<S, const FAST: bool>(S);

impl<'de, S: DeserializeSeed<'de>, const FAST: bool> DeserializeSeed<'de> for ValueSeed<S, FAST> {
    type Value = S::Value;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<S::Value, D::Error> {
        self.0.deserialize(ValueDe::<D, FAST>(d))
    }
}

/// A top-level value's deserializer: serde_json's, except for a value the type ignores,
/// which fails the fast path (`FAST`) or is parsed within the depth limit, where
/// serde_json would skip it at any depth.
struct ValueDe<D, const FAST: bool>(D);

macro_rules! forward_value_de {
    ($($method:ident),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
            self.0.$method(visitor)
        })*
    };
}

impl<'de, D: Deserializer<'de>, const FAST: bool> Deserializer<'de> for ValueDe<D, FAST> {
    type Error = D::Error;

    forward_value_de!(
        deserialize_any,
        deserialize_bool,
        deserialize_i8,
        deserialize_i16,
        deserialize_i32,
        deserialize_i64,
        deserialize_i128,
        deserialize_u8,
        deserialize_u16,
        deserialize_u32,
        deserialize_u64,
        deserialize_u128,
        deserialize_f32,
        deserialize_f64,
        deserialize_char,
        deserialize_str,
        deserialize_string,
        deserialize_bytes,
        deserialize_byte_buf,
        deserialize_option,
        deserialize_unit,
        deserialize_seq,
        deserialize_map,
        deserialize_identifier,
    );

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_unit_struct(name, v)
    }
    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_newtype_struct(name, v)
    }
    fn deserialize_tuple<V: Visitor<'de>>(self, len: usize, v: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple(len, v)
    }
    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        len: usize,
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_tuple_struct(name, len, v)
    }
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_struct(name, fields, v)
    }
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        name: &'static str,
        variants: &'static [&'static str],
        v: V,
    ) -> Result<V::Value, D::Error> {
        self.0.deserialize_enum(name, variants, v)
    }
    fn deserialize_ignored_any<V: Visitor<'de>>(self, v: V) -> Result<V::Value, D::Error> {
        if FAST {
            return Err(de::Error::custom("an ignored member: left to the general path"));
        }
        DeepIgnore.deserialize(self.0)?;
        v.visit_unit()
    }
    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}

/// Skips a value like [`de::IgnoredAny`], but through `deserialize_any` at every level,
/// so serde_json's depth limit (128) applies as it does to every value it parses.
pub(crate) struct DeepIgnore;

impl<'de> DeserializeSeed<'de> for DeepIgnore {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(DeepIgnore)
    }
}

impl<'de> Visitor<'de> for DeepIgnore {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }
    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }
    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }
    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<S: de::SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while seq.next_element_seed(DeepIgnore)?.is_some() {}
        Ok(())
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        while map.next_key_seed(DeepIgnore)?.is_some() {
            map.next_value_seed(DeepIgnore)?;
        }
        Ok(())
    }
}

/// Deserializes a string, borrowing it from the input when it has no escapes.
pub(crate) struct CowStr;

impl<'de> DeserializeSeed<'de> for CowStr {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(CowStrVisitor)
    }
}

struct CowStrVisitor;

impl<'de> Visitor<'de> for CowStrVisitor {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(v))
    }
}

/// Like [`CowStr`], but any non-string value yields `None` instead of an error (the
/// caller reports it as [`DecodeErrorKind::TypeNotAString`]).
struct MaybeCowStr;

impl<'de> DeserializeSeed<'de> for MaybeCowStr {
    type Value = Option<Cow<'de, str>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(MaybeCowStrVisitor)
    }
}

struct MaybeCowStrVisitor;

impl<'de> Visitor<'de> for MaybeCowStrVisitor {
    type Value = Option<Cow<'de, str>>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(v)))
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_seq<S: de::SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        while seq.next_element::<de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }
    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        while map.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

/// Reads only the top-level `"type"` of a JSON object (skipping everything else), for
/// dispatch by [`AnyMessage`](crate::AnyMessage), checking the top-level keys for
/// repeats as every decoder does. `Ok(None)`: an object without a string `"type"`.
pub(crate) fn peek_type(json: &str) -> Result<Option<Cow<'_, str>>, DecodeErrorKind> {
    struct Peek<'a>(&'a Cell<Option<String>>);
    impl<'de> Visitor<'de> for Peek<'_> {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
            let mut found = None;
            let mut keys = KeySet::default();
            while let Some(key) = map.next_key_seed(CowStr)? {
                if !keys.insert(key.clone()) {
                    self.0.set(Some(crate::error::clip(&key)));
                    return Err(de::Error::custom("a repeated key"));
                }
                if key == "type" {
                    found = map.next_value_seed(MaybeCowStr)?;
                } else {
                    map.next_value::<de::IgnoredAny>()?;
                }
            }
            Ok(found)
        }
    }
    let duplicate = Cell::new(None);
    let mut de = serde_json::Deserializer::from_str(json);
    let peeked = de.deserialize_map(Peek(&duplicate)).and_then(|t| de.end().map(|()| t));
    match (peeked, duplicate.take()) {
        (_, Some(key)) => Err(DecodeErrorKind::DuplicateKey { key }),
        (Ok(t), None) => Ok(t),
        (Err(e), None) if e.is_data() => Err(DecodeErrorKind::NotAnObject),
        (Err(e), None) => Err(DecodeErrorKind::Json(e)),
    }
}
