//! Socket options with documented defaults.

use std::time::Duration;

use crate::{DEFAULT_LINGER, DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_TIMEOUT};

/// The options of a socket. Every builder starts from [`SocketOptions::default()`] and
/// has a setter per field.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct SocketOptions {
    /// How long a send may block (`ZMQ_SNDTIMEO`). Default: 1000 ms, as the Python
    /// library.
    pub send_timeout: Duration,
    /// How long a receive may block (`ZMQ_RCVTIMEO`). Default: 1000 ms.
    pub receive_timeout: Duration,
    /// How long `close()`/`Drop` keep delivering queued messages (`ZMQ_LINGER`).
    /// Default: 1000 ms. Python uses 0, which silently drops queued messages. A sending
    /// socket lingers at least 50 ms, so that its close can tell whether messages were
    /// dropped (it returns [`Error::LingerExpired`](super::Error::LingerExpired) exactly
    /// then); a socket with nothing queued closes at once whatever the linger.
    ///
    /// Every duration option is clamped to [`MAX_WAIT`] (about 24.8 days).
    pub linger: Duration,
    /// Outgoing queue limit in messages (`ZMQ_SNDHWM`). Default: 1000 (libzmq's).
    pub send_hwm: i32,
    /// Incoming queue limit in messages (`ZMQ_RCVHWM`). Default: 1000.
    pub receive_hwm: i32,
    /// Keep only the latest message (`ZMQ_CONFLATE`), for streams such as the depth
    /// camera feed. Default: off.
    pub conflate: bool,
    /// ZMTP heartbeat interval (`ZMQ_HEARTBEAT_IVL`), so a dead peer is noticed.
    /// Default: `None` (off). The installation's design asks for
    /// [`ZMQ_HEARTBEAT_INTERVAL`](crate::ZMQ_HEARTBEAT_INTERVAL) (3000 ms) on long-running
    /// connections; turn it on there, knowing libzmq's flaw (issues 3937 and 4767): a
    /// receiver whose queue is full stops reading its connection, so it misses the
    /// peer's pings, the peer drops the connection after the heartbeat timeout, and the
    /// messages in flight are lost. Measured here: a PULL consumer taking 8 ms per
    /// message received 1,080 of 1,500 with the heartbeat on, all 1,500 with it off.
    pub heartbeat_interval: Option<Duration>,
    /// How long to wait for a heartbeat reply (`ZMQ_HEARTBEAT_TIMEOUT`). Default: `None`
    /// (libzmq uses the interval).
    pub heartbeat_timeout: Option<Duration>,
    /// The time-to-live the peer is told (`ZMQ_HEARTBEAT_TTL`). Default: `None` (none).
    pub heartbeat_ttl: Option<Duration>,
    /// First reconnect delay (`ZMQ_RECONNECT_IVL`). Default: 100 ms (libzmq's).
    pub reconnect_interval: Duration,
    /// Upper bound of the reconnect back-off (`ZMQ_RECONNECT_IVL_MAX`). Default: `None`
    /// (no back-off).
    pub reconnect_interval_max: Option<Duration>,
    /// Queue only to completed connections (`ZMQ_IMMEDIATE`). Default: `true` for push
    /// sockets (so a push with no peer times out instead of queueing into nowhere),
    /// `false` otherwise.
    pub immediate: bool,
    /// Refuse (disconnect) a peer that sends a larger message (`ZMQ_MAXMSGSIZE`), in
    /// bytes; `None` for no limit. Default:
    /// [`DEFAULT_MAX_MESSAGE_SIZE`](crate::DEFAULT_MAX_MESSAGE_SIZE) (16 MiB), so one
    /// hostile frame cannot make a receiver allocate hundreds of megabytes. libzmq checks
    /// the size header and drops the connection before reading the frame; the refusal
    /// shows as a disconnect (`peer_count()` drops), and a connecting socket reconnects.
    ///
    /// Worst-case memory of a receiving socket: `receive_hwm` x `max_message_size` in
    /// its queue (16 GiB with the defaults, if every queued message were maximal; 1000
    /// messages of 1 MB take 1 GB), plus libzmq's 8 KiB read buffer per connection.
    /// Lower either where a peer cannot be trusted.
    pub max_message_size: Option<u64>,
    /// Publisher only: block (up to the send timeout) instead of dropping when a
    /// subscriber's queue is full (`ZMQ_XPUB_NODROP`). Default: off, as ZeroMQ's PUB.
    pub lossless: bool,
}

impl Default for SocketOptions {
    fn default() -> Self {
        SocketOptions {
            send_timeout: DEFAULT_TIMEOUT,
            receive_timeout: DEFAULT_TIMEOUT,
            linger: DEFAULT_LINGER,
            send_hwm: 1000,
            receive_hwm: 1000,
            conflate: false,
            heartbeat_interval: None,
            heartbeat_timeout: None,
            heartbeat_ttl: None,
            reconnect_interval: Duration::from_millis(100),
            reconnect_interval_max: None,
            immediate: false,
            max_message_size: Some(DEFAULT_MAX_MESSAGE_SIZE),
            lossless: false,
        }
    }
}

/// The longest wait any call makes: `i32::MAX` milliseconds (about 24.8 days), the
/// longest timeout libzmq can represent. Every duration the library takes (timeouts,
/// waits, the linger) is clamped to it, the same way everywhere, so `Duration::MAX`
/// means "as long as possible" and never overflows a deadline.
///
/// # Example
/// ```
/// use std::time::Duration;
/// use experimance_common::socket::MAX_WAIT;
/// assert_eq!(MAX_WAIT, Duration::from_millis(i32::MAX as u64));
/// ```
pub const MAX_WAIT: Duration = Duration::from_millis(i32::MAX as u64);

/// `d` clamped to [`MAX_WAIT`].
pub(crate) fn clamp(d: Duration) -> Duration {
    d.min(MAX_WAIT)
}

/// The instant `d` after `from`, with `d` clamped to [`MAX_WAIT`]: never overflows.
pub(crate) fn deadline<I: std::ops::Add<Duration, Output = I>>(from: I, d: Duration) -> I {
    from + clamp(d)
}

/// Milliseconds for a libzmq `int` option: clamped to [`MAX_WAIT`], and rounded up, so
/// that a positive duration below a millisecond never becomes libzmq's 0 ("do not
/// wait at all").
pub(crate) fn millis(d: Duration) -> i32 {
    let d = clamp(d);
    let ms = d.as_millis() + u128::from(d.subsec_nanos() % 1_000_000 != 0);
    i32::try_from(ms).unwrap_or(i32::MAX)
}
