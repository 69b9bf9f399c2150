//! [`Subscriber`]: the SUB side of PUB/SUB (Python's `ZmqSubscriber`).

use std::time::Duration;

use super::builder::exact_subscription;
use super::error::{Error, Operation, Result};
use super::options::set;
#[cfg(feature = "tokio")]
use super::stream::Messages;
use crate::codec::Payload;
use crate::Topic;

super::common::socket_kind! {
    /// Receives the messages of the topics it subscribed to (Python's `ZmqSubscriber`).
    ///
    /// Every receive is bounded: with nothing to read it returns [`Error::Timeout`] after
    /// the receive timeout (1000 ms unless configured; per call with
    /// [`receive_within`](Self::receive_within)); the `try_` methods never wait. A frame
    /// that does not decode is returned as [`Error::Decode`] with its bytes, and the next
    /// receive works as usual.
    ///
    /// `Send` but not `Sync`, like the libzmq socket inside.
    ///
    /// A subscriber that binds, with publishers that connect to it (libzmq #2267): libzmq
    /// hands a new connection, and the subscriptions it must carry, to the subscriber only
    /// when the subscriber next calls into libzmq. Until then the publisher sees no
    /// subscriber and drops what it publishes. A subscriber inside a receive does this at
    /// once; an idle one should call [`wait_connected`](Self::wait_connected) after its
    /// publishers connect, which processes the connection before it returns.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use experimance_common::socket::{Error, Subscriber};
    /// use experimance_common::AnyMessage;
    ///
    /// let mut subscriber = Subscriber::builder()
    ///     .connect("tcp://localhost:5555")?
    ///     .subscribe("status-updates")
    ///     .receive_timeout(Duration::from_millis(50))
    ///     .build()?;
    /// match subscriber.receive::<AnyMessage>() {
    ///     Ok((topic, message)) => println!("{topic}: {message:?}"),
    ///     Err(Error::Timeout { .. }) => println!("No message received within timeout period"),
    ///     Err(e) => return Err(e.into()),
    /// }
    /// subscriber.close()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub struct Subscriber = super::builder::Kind::SUBSCRIBER, "a subscriber";
}

impl Subscriber {
    /// Receives the next message as `P` (a [`Message`](crate::Message) type,
    /// [`AnyMessage`](crate::AnyMessage) or `serde_json::Value`), with its topic.
    ///
    /// # Errors
    /// [`Error::Timeout`] after the receive timeout; [`Error::Decode`] (holding the
    /// frame) when the frame is not a `P`.
    pub fn receive<P: Payload>(&mut self) -> Result<(Topic, P)> {
        self.core.recv_frame(Operation::Receive, None)?;
        self.decode()
    }

    /// Receives the next message, waiting at most `timeout`.
    ///
    /// # Errors
    /// As [`receive`](Self::receive).
    pub fn receive_within<P: Payload>(&mut self, timeout: Duration) -> Result<(Topic, P)> {
        self.core.recv_frame(Operation::Receive, Some(timeout))?;
        self.decode()
    }

    /// Receives a message if one is already queued; never waits.
    ///
    /// # Errors
    /// [`Error::Decode`] when the queued frame is not a `P`.
    pub fn try_receive<P: Payload>(&mut self) -> Result<Option<(Topic, P)>> {
        match self.core.recv_frame(Operation::Receive, Some(Duration::ZERO)) {
            Ok(()) => self.decode().map(Some),
            Err(Error::Timeout { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(crate) fn decode<P: Payload>(&mut self) -> Result<(Topic, P)> {
        let decoded = P::decode_pub(self.core.received_frame()).map(|(topic, msg)| (Topic::from(topic), msg));
        self.core.release_large_buffers();
        self.core.decoded(std::any::type_name::<P>(), decoded)
    }

    /// Adds a prefix subscription.
    ///
    /// # Errors
    /// [`Error::SetOption`] if libzmq refuses it.
    pub fn subscribe(&mut self, prefix: &str) -> Result<()> {
        set("ZMQ_SUBSCRIBE", self.core.socket().set_subscribe(prefix.as_bytes()))
    }

    /// Adds an exact-topic subscription.
    ///
    /// # Errors
    /// [`Error::Encode`] for a topic with a space; [`Error::SetOption`].
    pub fn subscribe_exact(&mut self, topic: &str) -> Result<()> {
        crate::codec::validate_topic(topic).map_err(crate::EncodeError::from)?;
        set("ZMQ_SUBSCRIBE", self.core.socket().set_subscribe(&exact_subscription(topic)))
    }

    /// Removes a prefix subscription made with [`subscribe`](Self::subscribe) (or
    /// `subscribe_all` with `""`).
    ///
    /// # Errors
    /// [`Error::SetOption`] if libzmq refuses it.
    pub fn unsubscribe(&mut self, prefix: &str) -> Result<()> {
        set("ZMQ_UNSUBSCRIBE", self.core.socket().set_unsubscribe(prefix.as_bytes()))
    }

    /// Removes an exact-topic subscription.
    ///
    /// # Errors
    /// [`Error::SetOption`] if libzmq refuses it.
    pub fn unsubscribe_exact(&mut self, topic: &str) -> Result<()> {
        set("ZMQ_UNSUBSCRIBE", self.core.socket().set_unsubscribe(&exact_subscription(topic)))
    }
}

/// The tokio API (feature `tokio`).
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
impl Subscriber {
    /// Receives the next message without blocking the executor (Python's
    /// `receive_async`), within the receive timeout.
    ///
    /// Cancel safe: if the future is dropped (in `tokio::select!` or a timeout), no
    /// message was taken; the next receive returns it.
    ///
    /// # Errors
    /// As [`receive`](Self::receive).
    pub async fn receive_async<P: Payload>(&mut self) -> Result<(Topic, P)> {
        self.reactor.recv_frame(&mut self.core, Operation::Receive, None).await?;
        self.decode()
    }

    /// Receives the next message within `timeout`, without blocking the executor.
    /// Cancel safe.
    ///
    /// # Errors
    /// As [`receive`](Self::receive).
    pub async fn receive_within_async<P: Payload>(&mut self, timeout: Duration) -> Result<(Topic, P)> {
        self.reactor.recv_frame(&mut self.core, Operation::Receive, Some(timeout)).await?;
        self.decode()
    }

    /// The messages as a [`Stream`](futures_core::Stream): each item is what
    /// [`receive_async`](Self::receive_async) returns, timeouts and decode errors
    /// included, and the stream goes on after them. Cancel safe. See [`Messages`].
    ///
    /// # Example
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use experimance_common::socket::{Publisher, Subscriber};
    /// use experimance_common::{AnyMessage, Heartbeat};
    /// use futures_util::StreamExt;
    ///
    /// let mut publisher = Publisher::builder().bind("inproc://stream-doc")?.topic("hb")?.build()?;
    /// let mut subscriber = Subscriber::builder().connect("inproc://stream-doc")?.subscribe("hb").build()?;
    /// publisher.wait_for_subscribers_async(1, Duration::from_secs(5)).await?;
    /// publisher.publish_async(&Heartbeat::now("doc")).await?;
    ///
    /// let mut messages = subscriber.stream::<AnyMessage>();
    /// while let Some(item) = messages.next().await {
    ///     let (topic, message) = item?;
    ///     assert_eq!((topic.as_str(), message.type_name()), ("hb", Some("Heartbeat")));
    ///     break;
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream<P: Payload + Send>(&mut self) -> Messages<'_, (Topic, P)> {
        Messages::new(futures_util::stream::unfold(self, |socket| async move {
            let item = socket.receive_async::<P>().await;
            Some((item, socket))
        }))
    }
}

super::common::common_socket_methods!(Subscriber);
super::common::raw_receives!(Subscriber, receive, Operation::Receive, "Receives");
