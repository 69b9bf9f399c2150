//! [`AnyMessage`]: decode a document into whatever message its `"type"` names.

use serde_json::Value;

use crate::codec::de::{parse_object, peek_type};
use crate::codec::tag::{decode_tagged, encode_tagged};
use crate::error::{DecodeErrorKind, EncodeError};
use crate::message::{accepts_type, DynMessage};
use crate::schemas::*;
use crate::{Message, MessageType};

macro_rules! any_message {
    ($($variant:ident),* $(,)?) => {
        /// Any message of the bus, decoded by its `"type"`: one variant per built-in type,
        /// [`Registered`](AnyMessage::Registered) for types registered by other crates
        /// with `#[derive(Message)]`, and [`Unknown`](AnyMessage::Unknown) for every other
        /// document (kept whole, so nothing is lost).
        ///
        /// # Example
        /// ```
        /// use experimance_common::{codec, AnyMessage, IdleStatus};
        /// let msg: AnyMessage = codec::decode_push(br#"{"type": "Idle", "status": true}"#)?;
        /// assert_eq!(msg, AnyMessage::IdleStatus(IdleStatus { status: true }));
        /// let other: AnyMessage = codec::decode_push(br#"{"type": "Custom", "x": 1}"#)?;
        /// assert_eq!(other.type_name(), Some("Custom"));
        /// assert!(matches!(other, AnyMessage::Unknown(_)));
        /// # Ok::<(), experimance_common::DecodeError>(())
        /// ```
        #[derive(Debug)]
        #[non_exhaustive]
        pub enum AnyMessage {
            $(
                #[doc = concat!("A [`", stringify!($variant), "`].")]
                $variant($variant),
            )*
            /// A message of a type registered outside this crate.
            Registered(Box<dyn DynMessage>),
            /// A JSON object whose `"type"` is missing or not registered, kept whole.
            Unknown(Value),
        }

        $(
            impl From<$variant> for AnyMessage {
                fn from(m: $variant) -> Self {
                    AnyMessage::$variant(m)
                }
            }
        )*

        impl AnyMessage {
            /// The wire name of the message's type, if it has one.
            pub fn type_name(&self) -> Option<&str> {
                match self {
                    $(AnyMessage::$variant(_) => Some(<$variant as Message>::TYPE),)*
                    AnyMessage::Registered(m) => Some(m.type_name()),
                    AnyMessage::Unknown(v) => v.get("type").and_then(Value::as_str),
                }
            }

            /// The built-in [`MessageType`] of this message, if it is one.
            pub fn message_type(&self) -> Option<MessageType> {
                match self {
                    $(AnyMessage::$variant(_) => Some(MessageType::$variant),)*
                    AnyMessage::Registered(_) | AnyMessage::Unknown(_) => None,
                }
            }

            /// Takes the message as `M`, whether it is a built-in variant or a registered
            /// type.
            ///
            /// # Errors
            /// The message itself, unchanged, when it is not an `M`.
            ///
            /// # Example
            /// ```
            /// use experimance_common::{codec, AnyMessage, EraChanged, IdleStatus};
            /// let msg: AnyMessage = codec::decode_push(br#"{"type": "IdleStatus", "status": false}"#)?;
            /// let msg = msg.downcast::<EraChanged>().unwrap_err(); // given back as it was
            /// assert!(matches!(msg, AnyMessage::IdleStatus(_)));
            /// assert_eq!(msg.downcast::<IdleStatus>().unwrap(), IdleStatus { status: false });
            /// # Ok::<(), experimance_common::DecodeError>(())
            /// ```
            pub fn downcast<M: Message>(self) -> Result<M, AnyMessage> {
                match self {
                    $(AnyMessage::$variant(m) => {
                        if ::std::any::TypeId::of::<M>() != ::std::any::TypeId::of::<$variant>() {
                            return Err(AnyMessage::$variant(m));
                        }
                        let mut slot = Some(m);
                        match (&mut slot as &mut dyn ::std::any::Any).downcast_mut::<Option<M>>().and_then(Option::take) {
                            Some(m) => Ok(m),
                            None => unreachable!("the type was checked just above"),
                        }
                    })*
                    AnyMessage::Registered(m) => m.downcast::<M>().map_err(AnyMessage::Registered),
                    AnyMessage::Unknown(v) => Err(AnyMessage::Unknown(v)),
                }
            }

            /// Writes the message's JSON (with its `"type"`) after what `buf` holds.
            pub(crate) fn write_json(&self, buf: &mut Vec<u8>) -> Result<(), EncodeError> {
                match self {
                    $(AnyMessage::$variant(m) => encode_tagged(m, buf),)*
                    AnyMessage::Registered(m) => m.write_json(buf),
                    AnyMessage::Unknown(v) => {
                        if !v.is_object() {
                            return Err(EncodeError::NotAnObject { what: "unknown message" });
                        }
                        serde_json::to_writer(&mut *buf, v).map_err(EncodeError::Json)
                    }
                }
            }

            /// Decodes a document already checked to be text; see
            /// [`codec::decode_pub`](crate::codec::decode_pub).
            pub(crate) fn read_json(json: &str) -> Result<AnyMessage, DecodeErrorKind> {
                let Some(name) = peek_type(json)? else {
                    return parse_object(json).map(AnyMessage::Unknown);
                };
                $(
                    if accepts_type::<$variant>(&name) {
                        return decode_tagged::<$variant>(json).map(AnyMessage::$variant);
                    }
                )*
                match crate::registry::lookup_type(&name) {
                    Some(info) => info.decode_text(json).map(AnyMessage::Registered),
                    None => parse_object(json).map(AnyMessage::Unknown),
                }
            }
        }

        impl PartialEq for AnyMessage {
            fn eq(&self, other: &Self) -> bool {
                match (self, other) {
                    $((AnyMessage::$variant(a), AnyMessage::$variant(b)) => a == b,)*
                    // Equal when they write the same JSON; one that cannot be written
                    // equals nothing.
                    (AnyMessage::Registered(a), AnyMessage::Registered(b)) => {
                        a.type_name() == b.type_name()
                            && matches!((a.to_json(), b.to_json()), (Ok(a), Ok(b)) if a == b)
                    }
                    (AnyMessage::Unknown(a), AnyMessage::Unknown(b)) => a == b,
                    _ => false,
                }
            }
        }
    };
}

crate::message_type::with_builtin_types!(any_message);

impl AnyMessage {
    /// The message as a JSON object, `"type"` included.
    ///
    /// # Errors
    /// As [`DynMessage::to_json`]; an [`Unknown`](AnyMessage::Unknown) document is
    /// returned as it is.
    pub fn to_json(&self) -> Result<Value, EncodeError> {
        if let AnyMessage::Unknown(v) = self {
            return Ok(v.clone());
        }
        let mut buf = Vec::with_capacity(128);
        self.write_json(&mut buf)?;
        serde_json::from_slice(&buf).map_err(EncodeError::Json)
    }
}
