//! Per-socket statistics: [`SocketStats`], and the counters a socket keeps for it.

/// A snapshot of one socket's counters since it was built, from
/// [`stats()`](super::PushSocket::stats) (every socket type has it; blocking and async
/// calls count alike).
///
/// The message counters are plain integers in the socket, updated by the call that
/// sent or received (a socket is used from one thread at a time, so no atomics or
/// locks). The connection counters come from libzmq's monitor, read by `stats()`.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use experimance_common::socket::{PullSocket, PushSocket};
/// use experimance_common::Heartbeat;
///
/// let mut pull = PullSocket::builder().bind("tcp://127.0.0.1:*")?.build()?;
/// let mut push = PushSocket::builder().connect(&pull.endpoint())?.build()?;
/// push.wait_connected(Duration::from_secs(5))?;
/// push.push(&Heartbeat::now("stats-doc"))?;
/// let _: Heartbeat = pull.pull()?;
///
/// let (sent, received) = (push.stats(), pull.stats());
/// assert_eq!((sent.sent, received.received), (1, 1));
/// assert_eq!(sent.bytes_out, received.bytes_in);
/// assert_eq!((sent.connects, sent.peers), (1, 1));
/// push.close()?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct SocketStats {
    /// Messages sent (published or pushed), each one frame.
    pub sent: u64,
    /// User messages received (a publisher's subscription messages are not counted),
    /// decoded or not, raw receives included.
    pub received: u64,
    /// Bytes of the frames sent (a PUB frame's topic and space included).
    pub bytes_out: u64,
    /// Bytes of the frames received.
    pub bytes_in: u64,
    /// Received frames that a typed receive could not decode (each also counted in
    /// `received`, and returned as [`Error::Decode`](super::Error::Decode)). Raw
    /// receives (`receive_raw`, `pull_raw` and their `_async` twins) decode nothing, so
    /// they add none, whatever the frame. A [service](crate::service) receives raw and
    /// decodes each frame itself: its undecodable frames are counted in its
    /// [`Summary::undecodable`](crate::service::Summary::undecodable) instead.
    ///
    /// ```
    /// use std::time::Duration;
    /// use experimance_common::socket::{PullSocket, PushSocket};
    /// use experimance_common::IdleStatus;
    ///
    /// let mut pull = PullSocket::builder().bind("tcp://127.0.0.1:*")?.build()?;
    /// let mut push = PushSocket::builder().connect(&pull.endpoint())?.build()?;
    /// push.wait_connected(Duration::from_secs(5))?;
    /// push.push_raw(b"{not json")?;
    /// assert_eq!(pull.pull_raw()?, b"{not json");
    /// push.push_raw(b"{not json")?;
    /// assert!(pull.pull::<IdleStatus>().is_err());
    /// let stats = pull.stats();
    /// assert_eq!((stats.received, stats.decode_errors), (2, 1)); // the raw one adds none
    /// push.close()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub decode_errors: u64,
    /// Sends and receives that returned [`Error::Timeout`](super::Error::Timeout). A
    /// `try_` call that found nothing and the waits for peers or subscribers are not
    /// counted.
    pub timeouts: u64,
    /// Connections that completed their handshake (tcp and ipc; libzmq reports no
    /// events for inproc), reconnections included.
    pub connects: u64,
    /// Handshaken connections that went away.
    pub disconnects: u64,
    /// Handshakes that failed: refused by authentication (either side), a protocol
    /// error, or a connection that ended during the handshake.
    pub handshake_failures: u64,
    /// Connections up now: what [`peer_count()`](super::PushSocket::peer_count) says.
    pub peers: usize,
}

/// The counters a socket updates on its hot path (see [`SocketStats`]).
#[derive(Debug, Default)]
pub(crate) struct Counters {
    sent: u64,
    received: u64,
    bytes_out: u64,
    bytes_in: u64,
    decode_errors: u64,
    timeouts: u64,
}

impl Counters {
    #[inline]
    pub(crate) fn sent(&mut self, bytes: usize) {
        self.sent += 1;
        self.bytes_out += bytes as u64;
    }

    #[inline]
    pub(crate) fn received(&mut self) {
        self.received += 1;
    }

    #[inline]
    pub(crate) fn received_bytes(&mut self, bytes: usize) {
        self.bytes_in += bytes as u64;
    }

    pub(crate) fn decode_error(&mut self) {
        self.decode_errors += 1;
    }

    pub(crate) fn timeout(&mut self) {
        self.timeouts += 1;
    }

    /// The snapshot, with the connection counters given by the monitor.
    pub(crate) fn snapshot(
        &self,
        connects: u64,
        disconnects: u64,
        handshake_failures: u64,
        peers: usize,
    ) -> SocketStats {
        SocketStats {
            sent: self.sent,
            received: self.received,
            bytes_out: self.bytes_out,
            bytes_in: self.bytes_in,
            decode_errors: self.decode_errors,
            timeouts: self.timeouts,
            connects,
            disconnects,
            handshake_failures,
            peers,
        }
    }
}
