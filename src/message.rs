//! The [`Message`] trait (a type tagged with `"type"` on the wire) and [`DynMessage`] (a
//! message of a registered type behind dynamic dispatch). The registry of types is in
//! [`registry`](crate::registry), the tag's encoding and decoding in the codec.

use std::any::Any;
use std::fmt;

use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::EncodeError;

/// A message type of the Experimance bus: a struct that serializes as a JSON object and
/// is tagged on the wire with `"type": "<TYPE>"`.
///
/// Implement it with `#[derive(Message)]`, which also registers the type in the
/// process-wide [registry](crate::registry), so [`AnyMessage`](crate::AnyMessage) and
/// the `exbus` tool know it. The struct itself need not (and should not) have a `type`
/// field: encoding writes the tag, decoding checks it and strips it. A document is of
/// the type when its `"type"` is [`TYPE`](Self::TYPE) or one of the
/// [`ALIASES`](Self::ALIASES), for a typed decode and a registry lookup alike
/// ([`MessageInfo::accepts`](crate::registry::MessageInfo::accepts)).
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
}

/// Whether `name` is `type_name` or one of `aliases`: the one rule by which a document's
/// `"type"` selects a message type, in the typed decoders and the registry alike.
pub(crate) fn accepts(type_name: &str, aliases: &[&str], name: &str) -> bool {
    name == type_name || aliases.contains(&name)
}

/// [`accepts`] for `M`.
pub(crate) fn accepts_type<M: Message>(name: &str) -> bool {
    accepts(M::TYPE, M::ALIASES, name)
}

/// A decoded message of a registered type, behind dynamic dispatch (what
/// [`AnyMessage::Registered`](crate::AnyMessage::Registered) holds).
pub trait DynMessage: fmt::Debug + Send + Sync + 'static {
    /// The wire name of the message's type.
    fn type_name(&self) -> &'static str;
    /// For downcasting to the concrete type.
    fn as_any(&self) -> &dyn Any;
    /// For downcasting to the concrete type by value.
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send + Sync>;
    /// Appends the message's JSON (with its `"type"`) to `buf`.
    ///
    /// # Errors
    /// As [`codec::encode_push`](crate::codec::encode_push); `buf` is left as it was.
    fn write_json(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError>;

    /// The message as a JSON object, `"type"` included.
    ///
    /// # Errors
    /// As [`write_json`](Self::write_json), and [`EncodeError::Json`] when what it wrote
    /// does not parse back (nesting deeper than serde_json reads, 128).
    fn to_json(&self) -> Result<serde_json::Value, EncodeError> {
        let mut buf = Vec::with_capacity(128);
        self.write_json(&mut buf)?;
        serde_json::from_slice(&buf).map_err(EncodeError::Json)
    }
}

impl<M: Message> DynMessage for M {
    fn type_name(&self) -> &'static str {
        M::TYPE
    }
    fn as_any(&self) -> &dyn Any {
        self
    }
    fn into_any(self: Box<Self>) -> Box<dyn Any + Send + Sync> {
        self
    }
    fn write_json(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
        crate::codec::tag::encode_tagged(self, buf)
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
