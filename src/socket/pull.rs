//! [`PullSocket`]: the PULL side of PUSH/PULL (Python's `ZmqPullSocket`).

use std::time::Duration;

use super::error::{Error, Operation, Result};
#[cfg(feature = "tokio")]
use super::stream::Messages;
use crate::codec::Payload;

super::common::socket_kind! {
    /// Receives tasks from push sockets (Python's `ZmqPullSocket`), fair-queued across
    /// them. Every pull is bounded like [`Subscriber::receive`](super::Subscriber::receive).
    ///
    /// `Send` but not `Sync`.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use experimance_common::socket::{Error, PullSocket};
    ///
    /// let mut pull_socket = PullSocket::builder()
    ///     .connect("tcp://localhost:5556")?
    ///     .receive_timeout(Duration::from_millis(50))
    ///     .build()?;
    /// match pull_socket.pull::<serde_json::Value>() {
    ///     Ok(task) => println!("Received task: {task}"),
    ///     Err(Error::Timeout { .. }) => println!("No task received within timeout period"),
    ///     Err(e) => return Err(e.into()),
    /// }
    /// pull_socket.close()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub struct PullSocket = super::builder::Kind::PULL, "a pull socket";
}

impl PullSocket {
    /// Pulls the next message as `P`.
    ///
    /// # Errors
    /// [`Error::Timeout`] after the receive timeout; [`Error::Decode`] (holding the
    /// frame) when it is not a `P`.
    pub fn pull<P: Payload>(&mut self) -> Result<P> {
        self.core.recv_frame(Operation::Pull, None)?;
        self.decode()
    }

    /// Pulls the next message, waiting at most `timeout`.
    ///
    /// # Errors
    /// As [`pull`](Self::pull).
    pub fn pull_within<P: Payload>(&mut self, timeout: Duration) -> Result<P> {
        self.core.recv_frame(Operation::Pull, Some(timeout))?;
        self.decode()
    }

    /// Pulls a message if one is queued; never waits.
    ///
    /// # Errors
    /// [`Error::Decode`] when the queued frame is not a `P`.
    pub fn try_pull<P: Payload>(&mut self) -> Result<Option<P>> {
        match self.core.recv_frame(Operation::Pull, Some(Duration::ZERO)) {
            Ok(()) => self.decode().map(Some),
            Err(Error::Timeout { .. }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn decode<P: Payload>(&mut self) -> Result<P> {
        let decoded = P::decode_push(self.core.received_frame());
        self.core.release_large_buffers();
        self.core.decoded(std::any::type_name::<P>(), decoded)
    }
}

/// The tokio API (feature `tokio`).
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
impl PullSocket {
    /// Pulls the next message without blocking the executor (Python's `pull_async`),
    /// within the receive timeout.
    ///
    /// Cancel safe: a dropped future has taken nothing; the next pull returns it.
    ///
    /// # Errors
    /// As [`pull`](Self::pull).
    pub async fn pull_async<P: Payload>(&mut self) -> Result<P> {
        self.reactor.recv_frame(&mut self.core, Operation::Pull, None).await?;
        self.decode()
    }

    /// Pulls the next message within `timeout`, without blocking the executor. Cancel
    /// safe.
    ///
    /// # Errors
    /// As [`pull`](Self::pull).
    pub async fn pull_within_async<P: Payload>(&mut self, timeout: Duration) -> Result<P> {
        self.reactor.recv_frame(&mut self.core, Operation::Pull, Some(timeout)).await?;
        self.decode()
    }

    /// The messages as a [`Stream`](futures_core::Stream): each item is what
    /// [`pull_async`](Self::pull_async) returns, timeouts and decode errors included,
    /// and the stream goes on after them. Cancel safe. See [`Messages`].
    ///
    /// # Example
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// use std::time::Duration;
    /// use experimance_common::socket::{PullSocket, PushSocket};
    /// use experimance_common::IdleStatus;
    /// use futures_util::StreamExt;
    ///
    /// let mut pull = PullSocket::builder().bind("inproc://pull-stream-doc")?.build()?;
    /// let mut push = PushSocket::builder().connect("inproc://pull-stream-doc")?.build()?;
    /// push.push_async(&IdleStatus { status: true }).await?;
    ///
    /// let mut tasks = pull.stream::<IdleStatus>();
    /// let first = tasks.next().await.expect("never ends")?;
    /// assert!(first.status);
    /// # Ok(())
    /// # }
    /// ```
    pub fn stream<P: Payload + Send>(&mut self) -> Messages<'_, P> {
        Messages::new(futures_util::stream::unfold(self, |socket| async move {
            let item = socket.pull_async::<P>().await;
            Some((item, socket))
        }))
    }
}

super::common::common_socket_methods!(PullSocket);
super::common::raw_receives!(PullSocket, pull, Operation::Pull, "Pulls");
