//! Typed, non-hanging ZeroMQ messaging for the Experimance installation, wire-compatible
//! with the Python `experimance_common` library.
//!
//! ```
//! use experimance_common::{codec, AnyMessage, Biome, Era, EraChanged};
//!
//! // A typed message, encoded as the Python services write it: "<topic> <json>".
//! let mut frame = Vec::new();
//! codec::encode_pub("events", &EraChanged { era: Era::AiFuture, biome: Biome::Tundra }, &mut frame)?;
//! assert_eq!(frame, br#"events {"type":"EraChanged","era":"ai_future","biome":"tundra"}"#);
//!
//! // Any frame decodes by its "type".
//! let (topic, msg) = codec::decode_pub_any(&frame)?;
//! assert_eq!(topic, "events");
//! assert!(matches!(msg, AnyMessage::EraChanged(EraChanged { era: Era::AiFuture, .. })));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Map from the Python library
//!
//! | Python (`experimance_common`) | Rust |
//! |---|---|
//! | `MessageType.ERA_CHANGED` | [`MessageType::ERA_CHANGED`] |
//! | `DEFAULT_PORTS["coordinator_pub"]` | [`DEFAULT_PORTS`]`.coordinator_pub`, [`DefaultPort::CoordinatorPub`] |
//! | pydantic schemas (`EraChanged`, ...) | [`EraChanged`], ... with `#[derive(Message)]` |
//! | `json.dumps` / `json.loads` framing | [`codec`] |

// Every public item is documented: this is a library others learn from.
#![warn(missing_docs)]
// Library code must not panic on input from the network.
#![cfg_attr(not(test), warn(clippy::unwrap_used, clippy::expect_used))]

// Lets the derive's absolute paths (`::experimance_common::...`) work inside this crate.
extern crate self as experimance_common;

mod any;
pub mod codec;
mod constants;
mod error;
mod message;
mod message_type;
mod schemas;
pub mod socket;
mod wire_enum;

pub use any::AnyMessage;
pub use constants::*;
pub use error::{DecodeError, DecodeErrorKind, EncodeError, Framing, TopicError};
pub use message::{
    check_registry, lookup_type, registered_types, DuplicateTypeError, DynMessage, FieldInfo, Message,
    MessageInfo,
};
pub use message_type::MessageType;
pub use schemas::*;
pub use socket::{Error, Publisher, PullSocket, PushSocket, Subscriber};
pub use wire_enum::UnknownName;

/// `#[derive(Message)]`: implements [`Message`] and registers the type. See
/// [`Message`] for the attributes `#[message(type = "...")]` and `#[message(alias = "...")]`.
pub use experimance_common_macros::Message;

/// Used by the code `#[derive(Message)]` generates; not public API.
#[doc(hidden)]
pub mod __private {
    pub use inventory;
}
