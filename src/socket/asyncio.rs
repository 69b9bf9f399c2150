//! The tokio side of the sockets: libzmq's `ZMQ_FD` driven by [`AsyncFd`].
//!
//! `ZMQ_FD` is not a data fd: it signals that the socket's command mailbox has something,
//! and it is edge-triggered. The rule (libzmq's `zmq_getsockopt` manual) is to try the
//! operation first, and before waiting read `ZMQ_EVENTS` (which processes the mailbox and
//! drains the fd); only when it says "not ready" clear tokio's cached readiness and wait.
//! tokio's `clear_ready` only clears if no new edge arrived since the guard was taken, so
//! a wakeup between the check and the wait is never lost.

use std::os::fd::{AsRawFd, RawFd};
use std::time::Duration;

use tokio::io::unix::AsyncFd;
use tokio::io::Interest;
use tokio::time::Instant;

use super::core::Core;
use super::error::{Error, Operation, Result};

/// libzmq's `ZMQ_FD`, owned by the socket (so it is never closed here), with the runtime
/// whose reactor it is registered with.
pub(crate) struct ZmqFd {
    fd: RawFd,
    runtime: tokio::runtime::Id,
}

impl AsRawFd for ZmqFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd
    }
}

impl Core {
    fn registered(&mut self, op: Operation) -> Result<&AsyncFd<ZmqFd>> {
        let Ok(current) = tokio::runtime::Handle::try_current() else {
            let source = std::io::Error::other("the async API must be called inside a tokio runtime");
            return Err(Error::Runtime { op, source });
        };
        let runtime = current.id();
        // A socket awaited before in another runtime (one since dropped, or one not
        // running now) moves to this one: that reactor would never wake us.
        if self.async_fd.as_ref().is_some_and(|afd| afd.get_ref().runtime != runtime) {
            self.async_fd = None;
        }
        if self.async_fd.is_none() {
            let fd = self.socket().get_fd().map_err(|e| Error::zmq(op, e))?;
            // SAFETY: ZMQ_FD stays open and unchanged while the libzmq socket lives, and
            // `Core::finish` drops this registration before it closes the socket.
            let afd = unsafe { AsyncFd::register_with_interest(ZmqFd { fd, runtime }, Interest::READABLE) }
                .map_err(|e| Error::Runtime { op, source: e.into_parts().1 })?;
            self.async_fd = Some(afd);
        }
        match &self.async_fd {
            Some(afd) => Ok(afd),
            None => Err(Error::Runtime { op, source: std::io::Error::other("socket not registered") }),
        }
    }

    /// Waits until `ZMQ_EVENTS` has `want`, or `deadline` passes.
    async fn ready(&mut self, op: Operation, want: zmq::PollEvents, deadline: Instant) -> Result<bool> {
        self.registered(op)?;
        let Core { async_fd, .. } = &*self;
        let Some(afd) = async_fd.as_ref() else { return Ok(false) };
        loop {
            let mut guard = match tokio::time::timeout_at(deadline, afd.readable()).await {
                Ok(Ok(guard)) => guard,
                Ok(Err(source)) => return Err(Error::Runtime { op, source }),
                Err(_elapsed) => return Ok(false),
            };
            let events = self.socket().get_events().map_err(|e| Error::zmq(op, e))?;
            if events.intersects(want) {
                return Ok(true);
            }
            guard.clear_ready();
        }
    }

    /// Receives one frame into `self.frame` without blocking the executor, within
    /// `timeout` (the socket's receive timeout when `None`).
    ///
    /// Cancel safe: the frame is taken from libzmq only in a synchronous step right
    /// before returning, so a dropped future has taken nothing.
    pub(crate) async fn recv_frame_async(&mut self, op: Operation, timeout: Option<Duration>) -> Result<()> {
        tokio::task::coop::consume_budget().await;
        let t = timeout.unwrap_or(self.options.receive_timeout);
        // Read the clock only when we must wait: a ready frame is the common case at
        // high rates, and `Instant::now()` costs ~25 ns (5% of a message at 2M/s).
        let mut deadline = None;
        loop {
            match self.recv_nowait() {
                Ok(()) => return self.check_single_part(),
                Err(zmq::Error::EAGAIN) => {}
                Err(e) => return Err(Error::zmq(op, e)),
            }
            let deadline = *deadline.get_or_insert_with(|| Instant::now() + t);
            if !self.ready(op, zmq::POLLIN, deadline).await? {
                return Err(Error::Timeout { op, after: t });
            }
        }
    }

    /// Sends `self.buf` as one frame without blocking the executor, within `timeout`.
    ///
    /// Cancel safe: the frame is handed to libzmq in one synchronous step; a dropped
    /// future has sent nothing.
    pub(crate) async fn send_buf_async(&mut self, op: Operation, timeout: Option<Duration>) -> Result<()> {
        tokio::task::coop::consume_budget().await;
        let t = timeout.unwrap_or(self.options.send_timeout);
        // As for receiving: the clock is read only when the send must wait.
        let mut deadline = None;
        loop {
            match self.send_nowait() {
                Ok(()) => return Ok(()),
                Err(zmq::Error::EAGAIN) => {}
                Err(e) => return Err(Error::zmq(op, e)),
            }
            let deadline = *deadline.get_or_insert_with(|| Instant::now() + t);
            if !self.ready(op, zmq::POLLOUT, deadline).await? {
                return Err(Error::Timeout { op, after: t });
            }
        }
    }

    /// Waits, without blocking the executor, until `n` peers completed their handshake.
    /// libzmq reports connections on a monitor socket that is read every few
    /// milliseconds here: a one-off readiness wait, not a per-message cost.
    pub(crate) async fn wait_for_peers_async(&mut self, n: usize, timeout: Duration) -> Result<usize> {
        const POLL: Duration = Duration::from_millis(5);
        let deadline = Instant::now() + timeout;
        loop {
            match self.wait_for_peers(n, Duration::ZERO) {
                Err(Error::Timeout { .. }) => {}
                done => return done,
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(Error::Timeout { op: Operation::WaitConnected, after: timeout });
            }
            tokio::time::sleep(left.min(POLL)).await;
        }
    }
}
