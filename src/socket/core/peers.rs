//! Connection waits and counts, read from the monitor.

use std::time::{Duration, Instant};

use super::super::error::{Error, Operation, Result};
use super::super::monitor::Monitor;
use super::super::options::deadline;
use super::Core;

impl Core {
    pub(crate) fn wait_for_peers(&mut self, n: usize, timeout: Duration) -> Result<usize> {
        if self.transports.only_inproc() {
            // libzmq reports no connection events for inproc: its connections are
            // established synchronously by bind/connect. A peer's connect reaches a
            // bound socket as a command, though, which it processes on its next call:
            // do it now (see below), so a bound subscriber's subscriptions go out.
            let _ = self.socket.get_events();
            return Ok(n.max(self.monitor.peers()));
        }
        // A socket that mixes inproc with tcp or ipc waits for the tcp and ipc peers;
        // its inproc connections report nothing, so only those it made itself (one per
        // inproc endpoint it connects to) are counted, at once.
        let inproc_peers = if self.connects { self.transports.inproc } else { 0 };
        let peers = move |m: &Monitor| m.peers().saturating_add(inproc_peers);
        // A connecting socket refused by its peer's authentication stops waiting: that
        // is an answer, and waiting longer would only repeat it on every reconnect. (A
        // binding socket that refused a stranger goes on waiting for its peers.)
        let refused_before = if self.connects { self.monitor.auth_failures } else { u64::MAX };
        let done = |m: &Monitor| peers(m) >= n || m.auth_failures > refused_before;
        if self.monitor.wait_until(deadline(Instant::now(), timeout), done) {
            if peers(&self.monitor) < n {
                return Err(Error::AuthFailed { status: self.monitor.last_auth_status });
            }
            // libzmq attaches a new connection to the socket only when the socket next
            // processes its commands, and a bound subscriber sends its subscriptions only
            // then: reading ZMQ_EVENTS does that now, so a publisher waiting for them
            // does not wait for this socket's next receive.
            let _ = self.socket.get_events();
            Ok(peers(&self.monitor))
        } else {
            Err(Error::Timeout { op: Operation::WaitConnected, after: timeout })
        }
    }

    /// Handshakes refused by authentication so far: peers this server's ZAP handler
    /// refused, or refusals this client got.
    pub(crate) fn auth_failures(&mut self) -> u64 {
        self.monitor.drain();
        self.monitor.auth_failures
    }

    pub(crate) fn peer_count(&mut self) -> usize {
        let before = self.monitor.disconnects;
        self.monitor.drain();
        if self.monitor.disconnects != before {
            // libzmq sends the disconnect event just before it tells this socket the
            // connection's queue is gone, and a send looks at such news at most once a
            // millisecond: process it now, so that sends after a peer was seen to go
            // do not write into its dead queue.
            let _ = self.socket.get_events();
        }
        self.monitor.peers()
    }
}
