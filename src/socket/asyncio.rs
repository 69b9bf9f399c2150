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
use super::options::{clamp, deadline};

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

    /// Waits for the next command to reach the socket (a new edge on `ZMQ_FD`: a peer
    /// read, wrote, came or went) or until `until`, whichever is first. Used when
    /// `ZMQ_EVENTS` said "ready" but the operation still could not proceed, so that
    /// waiting on readiness again would return at once.
    async fn next_command(&mut self, op: Operation, until: Instant) -> Result<()> {
        self.registered(op)?;
        let Core { async_fd, .. } = &*self;
        let Some(afd) = async_fd.as_ref() else { return Ok(()) };
        if let Ok(Ok(mut guard)) = tokio::time::timeout_at(until, afd.readable()).await {
            // Forget the readiness already seen; only a new edge (or the timer) ends
            // the wait below.
            let _ = self.socket().get_events();
            guard.clear_ready();
            let _ = tokio::time::timeout_at(until, afd.readable()).await;
        }
        Ok(())
    }

    /// Runs `attempt` (one non-blocking libzmq call) until it succeeds, fails for a
    /// reason other than `EAGAIN`, or `timeout` passes; between attempts it waits
    /// without blocking the executor.
    ///
    /// Every turn of the loop checks the deadline, and every wait really waits: on
    /// readiness (`want` in `ZMQ_EVENTS`) first, and when readiness was reported but
    /// the operation still would block (an XPUB socket with `ZMQ_XPUB_NODROP` reports
    /// POLLOUT while a subscriber's queue is full), on the next command or a timer
    /// that backs off from 1 ms to 32 ms. So it never spins, and a surrounding
    /// `tokio::time::timeout` or `select!` can always cancel it.
    async fn retry<T>(
        &mut self,
        op: Operation,
        want: zmq::PollEvents,
        timeout: Duration,
        mut attempt: impl FnMut(&mut Core) -> zmq::Result<T>,
    ) -> Result<T> {
        const FIRST_PAUSE: Duration = Duration::from_millis(1);
        const LONGEST_PAUSE: Duration = Duration::from_millis(32);
        tokio::task::coop::consume_budget().await;
        let t = clamp(timeout);
        // Read the clock only when we must wait: a ready socket is the common case at
        // high rates, and `Instant::now()` costs ~25 ns (5% of a message at 2M/s).
        let mut deadline = None;
        let mut pause = None;
        loop {
            match attempt(self) {
                Ok(v) => return Ok(v),
                Err(zmq::Error::EAGAIN) => {}
                Err(e) => return Err(Error::zmq(op, e)),
            }
            let now = Instant::now();
            let deadline = *deadline.get_or_insert(now + t);
            if now >= deadline {
                return Err(Error::Timeout { op, after: t });
            }
            match pause {
                // The first wait, or the last one ended with the operation possible.
                None => {
                    if !self.ready(op, want, deadline).await? {
                        return Err(Error::Timeout { op, after: t });
                    }
                    pause = Some(FIRST_PAUSE);
                }
                // Readiness was reported and the operation still would block.
                Some(p) => {
                    self.next_command(op, (now + p).min(deadline)).await?;
                    pause = Some((p * 2).min(LONGEST_PAUSE));
                }
            }
        }
    }

    /// Receives one frame into `self.frame` without blocking the executor, within
    /// `timeout` (the socket's receive timeout when `None`).
    ///
    /// Cancel safe: the frame is taken from libzmq only in a synchronous step right
    /// before returning, so a dropped future has taken nothing.
    pub(crate) async fn recv_frame_async(&mut self, op: Operation, timeout: Option<Duration>) -> Result<()> {
        let t = timeout.unwrap_or(self.options.receive_timeout);
        self.retry(op, zmq::POLLIN, t, Core::recv_nowait).await?;
        self.check_single_part()
    }

    /// Sends `self.buf` as one frame without blocking the executor, within `timeout`.
    ///
    /// Cancel safe: the frame is handed to libzmq in one synchronous step; a dropped
    /// future has sent nothing.
    pub(crate) async fn send_buf_async(&mut self, op: Operation, timeout: Option<Duration>) -> Result<()> {
        let t = timeout.unwrap_or(self.options.send_timeout);
        let sent = self.retry(op, zmq::POLLOUT, t, Core::send_nowait).await;
        self.release_large_buffers();
        sent
    }

    /// Waits, without blocking the executor, until `n` peers completed their handshake.
    /// libzmq reports connections on a monitor socket that is read every few
    /// milliseconds here: a one-off readiness wait, not a per-message cost.
    pub(crate) async fn wait_for_peers_async(&mut self, n: usize, timeout: Duration) -> Result<usize> {
        const POLL: Duration = Duration::from_millis(5);
        let deadline = deadline(Instant::now(), timeout);
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
