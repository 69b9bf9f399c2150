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

/// A socket's registration with the tokio reactor, made on its first async call and
/// moved to the runtime of the call. The socket types hold it beside their [`Core`],
/// declared before it, and clear it before closing, so the fd is deregistered while the
/// libzmq socket (which owns the fd) is alive.
#[derive(Default)]
pub(crate) struct Registration {
    afd: Option<AsyncFd<ZmqFd>>,
}

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

impl Registration {
    /// Deregisters the fd (before the socket closes).
    pub(crate) fn clear(&mut self) {
        self.afd = None;
    }

    fn registered(&mut self, core: &Core, op: Operation) -> Result<&AsyncFd<ZmqFd>> {
        let Ok(current) = tokio::runtime::Handle::try_current() else {
            let source = std::io::Error::other("the async API must be called inside a tokio runtime");
            return Err(Error::Runtime { op, source });
        };
        let runtime = current.id();
        // A socket awaited before in another runtime (one since dropped, or one not
        // running now) moves to this one: that reactor would never wake us.
        if self.afd.as_ref().is_some_and(|afd| afd.get_ref().runtime != runtime) {
            self.afd = None;
        }
        if self.afd.is_none() {
            let fd = core.socket().get_fd().map_err(|e| Error::zmq(op, core.endpoints(), e))?;
            // SAFETY: ZMQ_FD stays open and unchanged while the libzmq socket lives, and
            // the socket types clear this registration before they close the socket
            // (and drop it first, as it is declared before their `Core`).
            let afd = unsafe { AsyncFd::register_with_interest(ZmqFd { fd, runtime }, Interest::READABLE) }
                .map_err(|e| Error::Runtime { op, source: e.into_parts().1 })?;
            self.afd = Some(afd);
        }
        match &self.afd {
            Some(afd) => Ok(afd),
            None => Err(Error::Runtime { op, source: std::io::Error::other("socket not registered") }),
        }
    }

    /// Waits until `ZMQ_EVENTS` has `want`, or `deadline` passes.
    async fn ready(
        &mut self,
        core: &mut Core,
        op: Operation,
        want: zmq::PollEvents,
        deadline: Instant,
    ) -> Result<bool> {
        let afd = self.registered(core, op)?;
        loop {
            let mut guard = match tokio::time::timeout_at(deadline, afd.readable()).await {
                Ok(Ok(guard)) => guard,
                Ok(Err(source)) => return Err(Error::Runtime { op, source }),
                Err(_elapsed) => return Ok(false),
            };
            let events = core.socket().get_events().map_err(|e| Error::zmq(op, core.endpoints(), e))?;
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
    async fn next_command(&mut self, core: &mut Core, op: Operation, until: Instant) -> Result<()> {
        let afd = self.registered(core, op)?;
        if let Ok(Ok(mut guard)) = tokio::time::timeout_at(until, afd.readable()).await {
            // Forget the readiness already seen; only a new edge (or the timer) ends
            // the wait below.
            let _ = core.socket().get_events();
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
        core: &mut Core,
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
            match attempt(core) {
                Ok(v) => return Ok(v),
                Err(zmq::Error::EAGAIN) => {}
                Err(e) => return Err(Error::zmq(op, core.endpoints(), e)),
            }
            let now = Instant::now();
            let deadline = *deadline.get_or_insert(now + t);
            if now >= deadline {
                return Err(Error::Timeout { op, after: t });
            }
            match pause {
                // The first wait, or the last one ended with the operation possible.
                None => {
                    if !self.ready(core, op, want, deadline).await? {
                        return Err(Error::Timeout { op, after: t });
                    }
                    pause = Some(FIRST_PAUSE);
                }
                // Readiness was reported and the operation still would block.
                Some(p) => {
                    self.next_command(core, op, (now + p).min(deadline)).await?;
                    pause = Some((p * 2).min(LONGEST_PAUSE));
                }
            }
        }
    }

    /// Receives one frame into the core's frame without blocking the executor, within
    /// `timeout` (the socket's receive timeout when `None`).
    ///
    /// Cancel safe: the frame is taken from libzmq only in a synchronous step right
    /// before returning, so a dropped future has taken nothing.
    pub(crate) async fn recv_frame(
        &mut self,
        core: &mut Core,
        op: Operation,
        timeout: Option<Duration>,
    ) -> Result<()> {
        let t = timeout.unwrap_or(core.options().receive_timeout);
        let received = self.retry(core, op, zmq::POLLIN, t, Core::recv_nowait).await;
        core.received(received)
    }

    /// Sends the core's buffer as one frame without blocking the executor, within
    /// `timeout`.
    ///
    /// Cancel safe: the frame is handed to libzmq in one synchronous step; a dropped
    /// future has sent nothing.
    pub(crate) async fn send_buf(
        &mut self,
        core: &mut Core,
        op: Operation,
        timeout: Option<Duration>,
    ) -> Result<()> {
        let t = timeout.unwrap_or(core.options().send_timeout);
        let len = core.buf_len();
        let sent = self.retry(core, op, zmq::POLLOUT, t, Core::send_nowait).await;
        core.release_large_buffers();
        core.sent(len, sent)
    }

    /// Waits, without blocking the executor, until `n` peers completed their handshake.
    /// libzmq reports connections on a monitor socket that is read every few
    /// milliseconds here: a one-off readiness wait, not a per-message cost.
    pub(crate) async fn wait_for_peers(
        &mut self,
        core: &mut Core,
        n: usize,
        timeout: Duration,
    ) -> Result<usize> {
        const POLL: Duration = Duration::from_millis(5);
        let deadline = deadline(Instant::now(), timeout);
        loop {
            match core.wait_for_peers(n, Duration::ZERO) {
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
