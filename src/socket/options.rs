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
    /// Default: `None` (off); dead peers are noticed by `tcp_max_retransmit` instead
    /// (see [`DEAD_PEER_TIMEOUT`]). The installation's design asks for
    /// [`ZMQ_HEARTBEAT_INTERVAL`](crate::ZMQ_HEARTBEAT_INTERVAL) (3000 ms) on long-running
    /// connections; turn it on there, knowing libzmq's flaws (issues 3937 and 4767): a
    /// receiver whose queue is full stops reading its connection, so it misses the
    /// peer's pings, the peer drops the connection after the heartbeat timeout, and the
    /// messages in flight are lost. Measured here: a PULL consumer taking 8 ms per
    /// message received 1,080 of 1,500 with the heartbeat on, all 1,500 with it off.
    /// Worse, with the vendored libzmq 4.3.4, a receiving socket that sends or answers
    /// heartbeats *aborts the process* (`Assertion failed: !_io_error`,
    /// stream_engine_base.cpp:331) when its connection breaks while its queue is full:
    /// measured in `tests/netns.rs` with a stalled pull socket whose push peer was
    /// killed.
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
    /// How long sent data may stay unacknowledged on a tcp connection before it is
    /// declared dead and closed (`ZMQ_TCP_MAXRT`, which libzmq applies as
    /// `TCP_USER_TIMEOUT` on Linux). Default: [`DEAD_PEER_TIMEOUT`] (9 s) for push
    /// sockets and publishers, `None` (the kernel's limit, about 15 minutes of
    /// retransmissions) for pull sockets and subscribers, which send nothing it could
    /// time. See [`DEAD_PEER_TIMEOUT`] for what it detects and what it costs.
    pub tcp_max_retransmit: Option<Duration>,
    /// How long a tcp connection may be idle (nothing received or sent) before TCP
    /// keepalive probes start (`ZMQ_TCP_KEEPALIVE_IDLE`); then a probe goes every
    /// [`KEEPALIVE_INTERVAL`] and [`KEEPALIVE_PROBES`] unanswered ones end the
    /// connection. `None` turns keepalive off. Default: 3 s, so a peer whose host
    /// vanished while the connection was quiet is declared dead at most about 8 s later
    /// (measured in `tests/netns.rs`: 6.2 s): this is what lets a pull socket or
    /// subscriber notice a dead sender (it sends nothing
    /// [`tcp_max_retransmit`](Self::tcp_max_retransmit) could time), and an idle push
    /// socket a dead receiver before its next message. A live peer answers the probes
    /// from its kernel, however slow or quiet its application, and a connection with
    /// data in flight is not idle: neither is ever dropped by it.
    pub tcp_keepalive: Option<Duration>,
    /// The security mechanism (CURVE, PLAIN or none). Default: none (ZMTP NULL), as the
    /// Python services. See [`Security`](crate::security::Security) for what each
    /// protects.
    pub security: crate::security::Security,
    /// The ZAP domain a server socket's peers are judged in (`ZMQ_ZAP_DOMAIN`); set by
    /// the builder's `auth(policy)`. Default: none.
    pub zap_domain: Option<String>,
}

/// How long a push socket or publisher takes, with its default options, to declare a
/// tcp peer dead once it has sent that peer something: 9 s
/// ([`SocketOptions::tcp_max_retransmit`]). The connection is then closed,
/// `peer_count()` drops, and a push socket with no other peer times out instead of
/// queueing into the dead connection (`immediate` is on for push sockets). Measured in
/// `tests/netns.rs` (the peer's host unplugged and its network namespace deleted, so
/// no FIN or RST): declared dead 9.2 to 9.8 s after, both for a push streaming 1,000
/// messages a second and for an idle push sending its next message after the peer
/// vanished; its next push then timed out.
///
/// What it detects: data that the peer's kernel does not acknowledge for 9 s. A slow
/// consumer keeps acknowledging, so it is not dropped: measured, a pull socket taking
/// 5 ms per message with queues of 10 received every message. What it costs: Linux
/// (since 5.11) also ends a connection whose receive window stays closed for 9 s, even
/// though the peer acknowledges every probe; that is a consumer that takes nothing from
/// its full queue for about 9 s (libzmq reads its connection again only after the
/// application has taken half of `receive_hwm`, so a consumer taking more than 9 s for
/// half its queue is one). Its connection is closed and the messages in flight to it
/// are lost, as with any dead peer; a connecting consumer reconnects, and the process
/// carries on. Measured with queues of 10 and 1 kB messages: a consumer that took
/// nothing for 6 s lost nothing; one that took nothing for 18 s was dropped, lost about
/// 1,050 messages, and received the rest over its new connection.
///
/// What it does not detect: a dead peer the socket sends nothing to. That is what TCP
/// keepalive covers ([`SocketOptions::tcp_keepalive`], on by default for every tcp
/// socket): a quiet connection whose peer's host vanished is declared dead about 8 s
/// later ([`KEEPALIVE_IDLE`] + [`KEEPALIVE_PROBES`] x [`KEEPALIVE_INTERVAL`]), so a pull
/// socket or subscriber notices a dead sender too (measured: 6.2 s, while a live sender
/// that stayed quiet for 11 s was kept). The ZMTP heartbeat drops slow consumers and
/// can abort a receiving process (see [`SocketOptions::heartbeat_interval`]).
///
/// What cannot be known: which messages were in flight when a connection died. The
/// sender's queue for that peer (up to `send_hwm` messages), both kernels' buffers (up
/// to a few megabytes) and the receiver's queue (up to `receive_hwm`) are lost without
/// an error: `push` returned `Ok` for each of them, and `close()` returns `Ok`.
/// Measured: a push streaming 1,000 messages a second accepted 8,400 to 9,300 messages
/// into a dead connection before it was declared dead. Without this option (as
/// before), the dead connection was still up 20 s later, and it stays up for the
/// kernel's retransmissions (about 15 minutes), accepting messages until the queue and
/// the kernel buffer are full. Only an acknowledgement from
/// the receiving application says that a message arrived.
///
/// A link that is down for a while is not a dead peer: TCP retransmits with backoff
/// (after 0.2, 0.6, 1.4, 3.0 and about 6.4 s). Measured: a link down for 5 s in the
/// middle of a stream lost nothing, and traffic resumed 1.3 to 1.8 s after the link
/// came back (at the next retransmission). An outage longer than about 6 s outlasts
/// the last retransmission before the 9 s limit: the connection is declared dead, its
/// messages in flight are lost, and a connecting side reconnects once the link is back.
pub const DEAD_PEER_TIMEOUT: Duration = Duration::from_secs(9);

/// The default idle time before TCP keepalive probes start (see
/// [`SocketOptions::tcp_keepalive`]).
pub const KEEPALIVE_IDLE: Duration = Duration::from_secs(3);
/// The time between two keepalive probes (`ZMQ_TCP_KEEPALIVE_INTVL`).
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(1);
/// How many unanswered keepalive probes end a connection (`ZMQ_TCP_KEEPALIVE_CNT`).
pub const KEEPALIVE_PROBES: u32 = 5;

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
            tcp_max_retransmit: None,
            tcp_keepalive: Some(KEEPALIVE_IDLE),
            security: crate::security::Security::Null,
            zap_domain: None,
        }
    }
}

impl SocketOptions {
    /// The defaults of a sending socket (push socket, publisher):
    /// [`SocketOptions::default()`] with `tcp_max_retransmit` of [`DEAD_PEER_TIMEOUT`].
    /// A push socket's builder also turns `immediate` on.
    pub fn sending() -> SocketOptions {
        SocketOptions { tcp_max_retransmit: Some(DEAD_PEER_TIMEOUT), ..SocketOptions::default() }
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
    let ms = d.as_millis() + u128::from(!d.subsec_nanos().is_multiple_of(1_000_000));
    i32::try_from(ms).unwrap_or(i32::MAX)
}
