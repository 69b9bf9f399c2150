//! [`PushSocket`]: the PUSH side of PUSH/PULL (Python's `ZmqPushSocket`).

use std::time::Duration;

use super::error::{Error, Operation, Result};
use crate::codec::Payload;

super::common::socket_kind! {
    /// Distributes tasks round-robin to the connected pull sockets (Python's
    /// `ZmqPushSocket`). Each message is one frame holding the JSON document.
    ///
    /// A push with no connected peer waits up to the send timeout and returns
    /// [`Error::Timeout`]: push sockets queue only to completed connections by default
    /// (`immediate`), so nothing is queued into nowhere.
    ///
    /// `Send` but not `Sync`.
    ///
    /// # Example
    /// ```
    /// use std::time::Duration;
    /// use experimance_common::socket::{PullSocket, PushSocket};
    /// use experimance_common::{MessageType, Message};
    /// use serde_json::json;
    ///
    /// let mut push_socket = PushSocket::builder().bind("tcp://127.0.0.1:*")?.build()?;
    /// let mut pull_socket = PullSocket::builder().connect(&push_socket.endpoint())?.build()?;
    /// push_socket.wait_connected(Duration::from_secs(5))?;
    ///
    /// let task = json!({"type": MessageType::RENDER_REQUEST, "id": "task-123", "parameters": {"resolution": [800, 600]}});
    /// push_socket.push(&task)?;
    /// let received: serde_json::Value = pull_socket.pull()?;
    /// assert_eq!(received, task);
    /// push_socket.close()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub struct PushSocket = super::builder::Kind::PUSH, "a push socket";
}

impl PushSocket {
    /// Pushes `msg` to the next peer, waiting at most the send timeout.
    ///
    /// # Errors
    /// [`Error::Timeout`] when no peer could take it in time; [`Error::Encode`] when it
    /// cannot be encoded (nothing is sent).
    pub fn push<P: Payload>(&mut self, msg: &P) -> Result<()> {
        msg.encode_push(self.core.buf_mut())?;
        self.core.send_buf(Operation::Push, None)
    }

    /// Pushes `msg`, waiting at most `timeout`.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub fn push_timeout<P: Payload>(&mut self, msg: &P, timeout: Duration) -> Result<()> {
        msg.encode_push(self.core.buf_mut())?;
        self.core.send_buf(Operation::Push, Some(timeout))
    }

    /// Pushes `msg` only if a peer can take it now; `Ok(false)` if not. Never waits.
    ///
    /// # Errors
    /// [`Error::Encode`] when it cannot be encoded.
    pub fn try_push<P: Payload>(&mut self, msg: &P) -> Result<bool> {
        msg.encode_push(self.core.buf_mut())?;
        match self.core.send_buf(Operation::Push, Some(Duration::ZERO)) {
            Ok(()) => Ok(true),
            Err(Error::Timeout { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// Pushes a frame exactly as given.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub fn push_raw(&mut self, frame: &[u8]) -> Result<()> {
        self.core.buf_mut().clear();
        self.core.buf_mut().extend_from_slice(frame);
        self.core.send_buf(Operation::Push, None)
    }
}

/// The tokio API (feature `tokio`).
#[cfg(feature = "tokio")]
#[cfg_attr(docsrs, doc(cfg(feature = "tokio")))]
impl PushSocket {
    /// Pushes `msg` without blocking the executor (Python's `push_async`), within the
    /// send timeout. A push stuck at the high-water mark resumes when a peer drains.
    ///
    /// Cancel safe: a dropped future has sent nothing.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub async fn push_async<P: Payload>(&mut self, msg: &P) -> Result<()> {
        msg.encode_push(self.core.buf_mut())?;
        self.reactor.send_buf(&mut self.core, Operation::Push, None).await
    }

    /// Pushes `msg` within `timeout`, without blocking the executor. Cancel safe.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub async fn push_timeout_async<P: Payload>(&mut self, msg: &P, timeout: Duration) -> Result<()> {
        msg.encode_push(self.core.buf_mut())?;
        self.reactor.send_buf(&mut self.core, Operation::Push, Some(timeout)).await
    }

    /// Pushes a frame exactly as given, without blocking the executor. Cancel safe.
    ///
    /// # Errors
    /// As [`push`](Self::push).
    pub async fn push_raw_async(&mut self, frame: &[u8]) -> Result<()> {
        self.core.buf_mut().clear();
        self.core.buf_mut().extend_from_slice(frame);
        self.reactor.send_buf(&mut self.core, Operation::Push, None).await
    }
}

super::common::common_socket_methods!(PushSocket);
