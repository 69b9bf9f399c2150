//! The type-level states of a [`SocketBuilder`](super::SocketBuilder): whether it binds
//! or connects (`E`), and whether a subscriber has topics (`T`).
//!
//! These types are never built; they are the `E` and `T` of `SocketBuilder<K, E, T>`,
//! and the traits say in which state a method exists. Their messages (through
//! `#[diagnostic::on_unimplemented]`) say what to call when a state does not allow one:
//!
//! ```compile_fail,E0277
//! use experimance_common::Subscriber;
//! // error: a subscriber needs topics: call `.subscribe(topic)`, ... before `.build()`
//! let subscriber = Subscriber::builder().connect("tcp://localhost:5555")?.build()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! A function generic over the builder names them in its bounds:
//!
//! ```
//! use experimance_common::socket::state::{CanBind, NoTopics, TopicsChosen};
//! use experimance_common::socket::{Error, SocketBuilder, SocketKind};
//!
//! /// Binds `builder` to a free loopback port and builds it.
//! fn on_free_port<K: SocketKind, E: CanBind>(builder: SocketBuilder<K, E, NoTopics>) -> Result<K, Error>
//! where
//!     NoTopics: TopicsChosen<K>,
//! {
//!     builder.bind("tcp://127.0.0.1:*")?.build()
//! }
//! let push = on_free_port(experimance_common::PushSocket::builder())?;
//! assert!(push.endpoint().starts_with("tcp://127.0.0.1:"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Every trait here is sealed: only these states implement them.

mod sealed {
    pub trait Sealed {}
}

/// The state of a builder that has no endpoint yet.
#[derive(Debug)]
pub enum NoEndpoint {}
/// The state of a builder that binds (one or more endpoints).
#[derive(Debug)]
pub enum Bound {}
/// The state of a builder that connects (one or more endpoints).
#[derive(Debug)]
pub enum Connected {}
/// The state of a subscriber builder with no topic yet (and of every other builder).
#[derive(Debug)]
pub enum NoTopics {}
/// The state of a subscriber builder with at least one topic.
#[derive(Debug)]
pub enum Subscribed {}

impl sealed::Sealed for NoEndpoint {}
impl sealed::Sealed for Bound {}
impl sealed::Sealed for Connected {}
impl sealed::Sealed for NoTopics {}
impl sealed::Sealed for Subscribed {}

/// An endpoint state in which `build()` is allowed.
#[diagnostic::on_unimplemented(
    message = "the socket has no endpoint: call `.bind(endpoint)` or `.connect(endpoint)` before `.build()`",
    label = "this builder has neither bound nor connected",
    note = "publishers and push sockets usually bind (`tcp://*:5555`); subscribers and pull sockets usually connect (`tcp://localhost:5555`)"
)]
pub trait EndpointChosen: sealed::Sealed {}
impl EndpointChosen for Bound {}
impl EndpointChosen for Connected {}

/// An endpoint state in which `.bind()` is allowed.
#[diagnostic::on_unimplemented(
    message = "this socket already connects, so it cannot also bind",
    label = "`.connect()` was called on this builder",
    note = "a socket either binds or connects; it may add several endpoints of the same kind"
)]
pub trait CanBind: sealed::Sealed {}
impl CanBind for NoEndpoint {}
impl CanBind for Bound {}

/// An endpoint state in which `.connect()` is allowed.
#[diagnostic::on_unimplemented(
    message = "this socket already binds, so it cannot also connect",
    label = "`.bind()` was called on this builder",
    note = "a socket either binds or connects; it may add several endpoints of the same kind"
)]
pub trait CanConnect: sealed::Sealed {}
impl CanConnect for NoEndpoint {}
impl CanConnect for Connected {}

/// A topic state that lets socket kind `K` build.
#[diagnostic::on_unimplemented(
    message = "a subscriber needs topics: call `.subscribe(topic)`, `.subscribe_exact(topic)` or `.subscribe_all()` before `.build()`",
    label = "this subscriber has no topic yet",
    note = "without a subscription ZeroMQ delivers nothing to a subscriber"
)]
pub trait TopicsChosen<K>: sealed::Sealed {}
impl TopicsChosen<super::Subscriber> for Subscribed {}
impl TopicsChosen<super::Publisher> for NoTopics {}
impl TopicsChosen<super::PushSocket> for NoTopics {}
impl TopicsChosen<super::PullSocket> for NoTopics {}
