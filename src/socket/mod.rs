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
//!
//! # The Python guide's four snippets, in Rust
//!
//! Publisher and subscriber, blocking:
//!
//! ```
//! use std::time::Duration;
//! use experimance_common::socket::{Error, Publisher, Subscriber};
//! use experimance_common::Heartbeat;
//!
//! // Publisher (usually in one service); here on a free port instead of tcp://*:5555.
//! let mut publisher = Publisher::builder().bind("tcp://127.0.0.1:*")?.topic("status-updates")?.build()?;
//! // Subscriber (usually in another service).
//! let mut subscriber =
//!     Subscriber::builder().connect(&publisher.endpoint())?.subscribe("status-updates").build()?;
//! publisher.wait_for_subscribers(1, Duration::from_secs(5))?;
//!
//! match publisher.publish(&Heartbeat::now("example-service")) {
//!     Ok(()) => println!("Message published successfully"),
//!     Err(e) => println!("Publishing failed: {e}"),
//! }
//! match subscriber.receive::<Heartbeat>() {
//!     Ok((topic, message)) => println!("Received message on topic {topic}: {message:?}"),
//!     Err(Error::Timeout { .. }) => println!("No message received within timeout period"),
//!     Err(e) => return Err(e.into()),
//! }
//! publisher.close()?;
//! subscriber.close()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Publisher and subscriber, async (tokio):
//!
//! ```
//! # #[cfg(feature = "tokio")]
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! use std::time::Duration;
//! use experimance_common::socket::{Error, Publisher, Subscriber};
//! use experimance_common::Heartbeat;
//!
//! let mut publisher = Publisher::builder().bind("tcp://127.0.0.1:*")?.topic("status-updates")?.build()?;
//! let mut subscriber =
//!     Subscriber::builder().connect(&publisher.endpoint())?.subscribe("status-updates").build()?;
//! publisher.wait_for_subscribers_async(1, Duration::from_secs(5)).await?;
//!
//! publisher.publish_async(&Heartbeat::now("example-service")).await?;
//! match subscriber.receive_async::<Heartbeat>().await {
//!     Ok((topic, message)) => println!("Received message on topic {topic}: {message:?}"),
//!     Err(Error::Timeout { .. }) => println!("No message received within timeout period"),
//!     Err(e) => return Err(e.into()),
//! }
//! publisher.close()?;
//! subscriber.close()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Push and pull, blocking (a free-form task, as the Python services send):
//!
//! ```
//! use std::time::Duration;
//! use experimance_common::socket::{Error, PullSocket, PushSocket};
//! use experimance_common::MessageType;
//! use serde_json::{json, Value};
//!
//! // Push socket (distributes tasks).
//! let mut push_socket = PushSocket::builder().bind("tcp://127.0.0.1:*")?.build()?;
//! // Pull socket (receives tasks).
//! let mut pull_socket = PullSocket::builder().connect(&push_socket.endpoint())?.build()?;
//! push_socket.wait_connected(Duration::from_secs(5))?;
//!
//! let task = json!({"type": MessageType::RENDER_REQUEST, "id": "task-123", "parameters": {"resolution": [800, 600]}});
//! push_socket.push(&task)?;
//! match pull_socket.pull::<Value>() {
//!     Ok(task) => println!("Received task: {task}"),
//!     Err(Error::Timeout { .. }) => println!("No task received within timeout period"),
//!     Err(e) => return Err(e.into()),
//! }
//! push_socket.close()?;
//! pull_socket.close()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Push and pull, async (tokio):
//!
//! ```
//! # #[cfg(feature = "tokio")]
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(async {
//! use std::time::Duration;
//! use experimance_common::socket::{PullSocket, PushSocket};
//! use experimance_common::MessageType;
//! use serde_json::{json, Value};
//!
//! let mut push_socket = PushSocket::builder().bind("tcp://127.0.0.1:*")?.build()?;
//! let mut pull_socket = PullSocket::builder().connect(&push_socket.endpoint())?.build()?;
//! push_socket.wait_connected_async(Duration::from_secs(5)).await?;
//!
//! let task = json!({"type": MessageType::RENDER_REQUEST, "id": "task-123", "parameters": {"resolution": [800, 600]}});
//! push_socket.push_async(&task).await?;
//! let received: Value = pull_socket.pull_async().await?;
//! assert_eq!(received, task);
//! push_socket.close()?;
//! pull_socket.close()?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

#[cfg(feature = "tokio")]
mod asyncio;
mod builder;
mod capacity;
mod common;
mod core;
mod endpoint;
mod error;
mod events;
mod ffi;
mod monitor;
mod options;
mod publisher;
mod pull;
mod push;
pub mod state;
mod stats;
#[cfg(feature = "tokio")]
mod stream;
mod subscriber;

pub use builder::{SocketBuilder, SocketKind};
pub use capacity::{context_with_max_sockets, MAX_SOCKETS_PER_CONTEXT};
pub use core::global_context;
pub use endpoint::{Endpoint, EndpointError, EndpointProblem, Role, Transport};
pub use error::{Error, Operation, Result};
pub(crate) use options::set as set_option;
pub(crate) use options::socket_options_table;
pub use options::{
    PerKind, SocketOptions, DEAD_PEER_TIMEOUT, KEEPALIVE_IDLE, KEEPALIVE_INTERVAL, KEEPALIVE_PROBES, MAX_WAIT,
};
pub use publisher::Publisher;
pub use pull::PullSocket;
pub use push::PushSocket;
pub use stats::SocketStats;
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
pub use stream::Messages;
pub use subscriber::Subscriber;
