//! Typed, non-hanging ZeroMQ messaging for the Experimance installation, wire-compatible
//! with the Python `experimance_common` library.
//!
//! ```
//! use std::time::Duration;
//! use experimance_common::{AnyMessage, Biome, Era, EraChanged, Publisher, Subscriber};
//!
//! // A publisher binds (a free port here), a subscriber connects and picks its topics.
//! let mut publisher = Publisher::builder().bind("tcp://127.0.0.1:*")?.topic("events")?.build()?;
//! let mut subscriber = Subscriber::builder().connect(&publisher.endpoint())?.subscribe("events").build()?;
//! publisher.wait_for_subscribers(1, Duration::from_secs(5))?; // no sleep for the slow joiner
//!
//! // On the wire: events {"type":"EraChanged","era":"ai_future","biome":"tundra"}
//! publisher.publish(&EraChanged { era: Era::AiFuture, biome: Biome::Tundra })?;
//!
//! // Typed, or any message by its "type"; every receive is bounded by a timeout.
//! let (topic, msg) = subscriber.receive::<AnyMessage>()?;
//! assert_eq!(topic, "events");
//! assert!(matches!(msg, AnyMessage::EraChanged(EraChanged { era: Era::AiFuture, .. })));
//! publisher.close()?; // delivers what is queued, bounded by the linger
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is inside
//!
//! - [`socket`]: [`Publisher`], [`Subscriber`], [`PushSocket`], [`PullSocket`], built by
//!   typestate builders (bind or connect before `build()`; a subscriber needs topics),
//!   with a blocking API and, with the `tokio` feature, `_async` methods beside it.
//! - [`Message`] and `#[derive(Message)]`: a struct tagged with `"type"` on the wire and
//!   registered by name in the [`registry`] ([`registry::lookup_type`],
//!   [`registry::registered_types`]); the Experimance schemas ([`EraChanged`],
//!   [`RenderRequest`], [`Heartbeat`], ...) ship built in, and [`AnyMessage`] decodes any
//!   frame by its type.
//! - [`codec`]: the wire format as pure functions, one pair per framing
//!   ([`codec::encode_pub`]/[`codec::decode_pub`], [`codec::encode_push`]/[`codec::decode_push`])
//!   generic over the [`codec::Payload`]. A PUB frame is the UTF-8 string
//!   `"<topic> <json>"`, a PUSH frame the JSON alone.
//! - [`DEFAULT_PORTS`], [`DEFAULT_TIMEOUT`] and the other constants.
//! - [`config`]: TOML files with a default file and an environment override, and sockets
//!   described in them, validated when loaded.
//!
//! # Map from the Python library
//!
//! | Python (`experimance_common`) | Rust |
//! |---|---|
//! | `ZmqPublisher`, `ZmqSubscriber`, `ZmqPushSocket`, `ZmqPullSocket` | [`Publisher`], [`Subscriber`], [`PushSocket`], [`PullSocket`] |
//! | `ZmqTimeoutError` | [`Error::Timeout`] |
//! | `MessageType.ERA_CHANGED` | [`MessageType::ERA_CHANGED`] |
//! | `DEFAULT_PORTS["coordinator_pub"]` | [`DEFAULT_PORTS`]`.coordinator_pub`, [`DefaultPort::CoordinatorPub`] |
//! | pydantic schemas (`EraChanged`, ...) | [`EraChanged`], ... with `#[derive(Message)]` |
//!
//! # Features
//!
//! - `tokio` (default): the `_async` socket methods, driven by tokio's `AsyncFd`, and
//!   [`service`]: typed handlers, workers, controllers, lifecycle and health.

// docs.rs (which sets `--cfg docsrs`, see Cargo.toml) marks the items that need the
// `tokio` feature; doc_cfg is nightly-only, so ordinary builds never see it.
#![cfg_attr(docsrs, feature(doc_cfg))]
// Library code must not panic on input from the network: besides the workspace's lints
// (Cargo.toml: missing_docs, unwrap_used, ...), the library refuses `expect` too.
#![cfg_attr(not(test), warn(clippy::expect_used))]

// Lets the derive's absolute paths (`::experimance_common::...`) work inside this crate.
extern crate self as experimance_common;

mod any;
pub mod codec;
pub mod config;
mod constants;
mod error;
mod finite;
mod message;
mod message_type;
pub mod registry;
mod schemas;
pub mod security;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub mod service;
pub mod socket;
mod topic;
mod wire_enum;

pub use any::AnyMessage;
pub use constants::{
    DefaultPort, DefaultPorts, DEFAULT_LINGER, DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_PORTS, DEFAULT_TIMEOUT,
    HEARTBEAT_INTERVAL, ZMQ_HEARTBEAT_INTERVAL,
};
pub use error::{DecodeError, DecodeErrorKind, EncodeError, Framing};
pub use message::{DynMessage, Message};
pub use message_type::MessageType;
pub use schemas::{
    AgentControl, AgentControlEvent, Biome, Era, EraChanged, Heartbeat, IdleStatus, ImageReady, LoopReady,
    LoopRequest, RenderRequest, TransitionReady, TransitionRequest, TransitionStyle,
};
pub use socket::{Error, Publisher, PullSocket, PushSocket, Subscriber};
pub use topic::{Topic, TopicError};
pub use wire_enum::UnknownName;

/// `#[derive(Message)]`: implements [`Message`] and registers the type in the process-wide
/// registry. Attributes on the struct: `#[message(type = "Name")]` (the wire name;
/// default: the struct's name) and `#[message(alias = "Other")]` (repeatable; accepted on
/// decode). Misuse (an enum, a tuple struct, a generic struct, an unknown key, an empty
/// name or one with a space, a field named `type`) is a compile error at the token.
pub use experimance_common_macros::Message;

/// The `zmq` crate this library is built on, re-exported: its types appear in public
/// signatures (`zmq::Context` in [`socket::global_context`] and the builder's
/// `.context()`), and using this path keeps the versions the same.
pub use zmq;

/// Used by the code `#[derive(Message)]` generates; not public API.
#[doc(hidden)]
pub mod __private {
    pub use inventory;
    pub use serde;
}
