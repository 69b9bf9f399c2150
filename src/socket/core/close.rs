//! The close protocol of [`Core`]: a bounded flush, and telling a linger that dropped
//! messages from a close that delivered everything.

use std::mem::ManuallyDrop;
use std::time::{Duration, Instant};

use super::super::error::{Error, Result};
use super::super::monitor::reaper_barrier;
use super::super::options::{clamp, deadline, millis};
use super::Core;

/// How long `close` waits for libzmq to report the socket gone, beyond the linger.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

/// How much earlier than the linger libzmq's linger timer may fire, as seen on our clock.
const LINGER_CLOCK_SLACK: Duration = Duration::from_millis(2);

impl Core {
    /// Closes the socket: libzmq keeps delivering queued messages for up to the linger,
    /// and reports the socket gone on the monitor once it has; this waits for that.
    ///
    /// libzmq destroys a socket as soon as its queues are empty, and only when its
    /// linger timer fires with messages still queued does it drop them: so the socket
    /// going away before the linger means nothing was dropped. A sending socket is
    /// given a linger of at least [`CLOSE_PROBE`], long enough that an empty socket's
    /// close is never mistaken for the timer, so even a linger of 0 reports dropped
    /// messages (it delivers for up to [`CLOSE_PROBE`] instead of dropping at once).
    pub(crate) fn finish(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        // A receiving socket has only its own subscriptions queued outwards: nothing a
        // peer is waiting for, so it closes at once instead of lingering for an absent
        // publisher.
        let linger = if self.sends { clamp(self.options.linger).max(CLOSE_PROBE) } else { Duration::ZERO };
        let _ = self.socket.set_linger(millis(linger));
        let inproc = self.transports.any_inproc();
        if inproc {
            // An inproc peer reads from the very queue this socket wrote to, so what was
            // sent is already delivered; and libzmq finishes destroying the socket only
            // when the peer next uses its own socket, which may be never. So do not wait
            // for that: stop the monitor now, while the socket is alive. A socket that
            // also has tcp or ipc endpoints is one too: its end cannot be awaited, so its
            // close cannot tell whether the linger dropped what was queued for those
            // peers (libzmq goes on delivering it for up to the linger) and reports Ok.
            self.monitor.stop(&mut self.socket);
        }
        // Before the close, so that libzmq's linger timer starts after it.
        let started = Instant::now();
        // SAFETY: `closed` guarantees this runs once, and `socket` is never used again.
        let socket = unsafe { ManuallyDrop::take(&mut self.socket) };
        drop(socket);
        if inproc {
            // The close is carried out by the context's reaper thread; once it has, the
            // inproc peers have been told that this socket's queues are gone, and their
            // next send fails instead of writing into a queue nobody reads.
            reaper_barrier(&self.context);
            return Ok(());
        }
        let stopped = self.monitor.wait_until(deadline(started, linger + CLOSE_GRACE), |m| m.stopped);
        // libzmq's timers run on a coarse millisecond clock and fire up to about a
        // millisecond before the linger has passed on ours: a close that ends that near
        // the linger is one whose linger expired (with messages still queued).
        if stopped && (linger.is_zero() || started.elapsed() + LINGER_CLOCK_SLACK < linger) {
            Ok(())
        } else {
            self.log(|s| s.close_dropped(self.options.linger));
            Err(Error::LingerExpired { linger: self.options.linger })
        }
    }
}

/// The shortest linger a sending socket closes with (see [`Core::finish`]): far above
/// the time libzmq takes to destroy a socket whose queues are empty (well under a
/// millisecond), so the two outcomes cannot be confused on a busy machine.
pub(crate) const CLOSE_PROBE: Duration = Duration::from_millis(50);
