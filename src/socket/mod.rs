//! Non-hanging ZeroMQ sockets: [`Publisher`] and [`Subscriber`] (PUB/SUB, one to many),
//! [`PushSocket`] and [`PullSocket`] (PUSH/PULL, load-balanced tasks).
//!
//! | Python (`experimance_common.zmq_utils`) | Rust |
//! |---|---|
//! | `ZmqPublisher(address, topic)` | `Publisher::builder().bind(address)?.topic(topic)?.build()?` |
//! | `ZmqSubscriber(address, topics)` | `Subscriber::builder().connect(address)?.subscribe(topic).build()?` |
//! | `ZmqPushSocket(address)` | `PushSocket::builder().bind(address)?.build()?` |
//! | `ZmqPullSocket(address)` | `PullSocket::builder().connect(address)?.build()?` |
//! | `publish(msg)` / `push(msg)` returning a bool | [`Publisher::publish`] / [`PushSocket::push`] returning `Result<()>` |
//! | `receive()` / `pull()` raising `ZmqTimeoutError` | [`Subscriber::receive`] / [`PullSocket::pull`] returning [`Error::Timeout`] |
//! | `publish_async` ... (asyncio) | `publish_async` ... (tokio, feature `tokio`) |
//! | `close()` | `close()` (flushes, bounded by the linger) or `Drop` |
//!
//! Every socket is built by a [`SocketBuilder`]: it must bind or connect before
//! `build()` exists, and a subscriber must choose topics; see the builder for the
//! options and their defaults. All sockets share one ZeroMQ context unless given one
//! ([`global_context`]), so `inproc://` works between them.
//!
//! Every operation is bounded by a timeout; closing and dropping wait at most the
//! linger for queued messages to be delivered and never hang.

#[cfg(feature = "tokio")]
pub(crate) mod asyncio;
mod builder;
mod common;
mod core;
mod endpoint;
mod error;
mod options;
mod publisher;
mod pull;
mod push;
mod subscriber;

pub use builder::{
    Bound, CanBind, CanConnect, Connected, EndpointChosen, NoEndpoint, NoTopics, SocketBuilder, SocketKind,
    Subscribed, TopicsChosen,
};
pub use core::global_context;
pub use endpoint::{Endpoint, EndpointError, EndpointProblem, Role, Transport};
pub use error::{Error, Operation, Result};
pub use options::SocketOptions;
pub use publisher::Publisher;
pub use pull::PullSocket;
pub use push::PushSocket;
pub use subscriber::Subscriber;
