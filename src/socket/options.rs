//! Socket options with documented defaults, from one table
//! ([`socket_options_table!`]) that also generates the builder setters and the
//! configuration keys.

use std::time::Duration;

use super::builder::Kind;
use super::error::{Error, Result};
use super::ffi::set_raw_int;
use crate::{DEFAULT_LINGER, DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_TIMEOUT};

/// The socket options, one row each: the [`SocketOptions`] field (its documentation,
/// type and default), the builder setter (its argument, and what it stores), the
/// configuration key (its TOML type, the function turning the TOML value into the
/// setter's argument, and how the doc table describes it), the libzmq option and how it
/// is applied, and the one-line description the setter, the configuration key and the
/// doc table share. Adding an option is adding a row here.
///
/// `$callback! { $($args)* common [rows] publisher [rows] }` is expanded with every row:
/// `common` rows are options of every socket kind, `publisher` rows of publishers only
/// (their setters exist only on a publisher's builder, their keys only in
/// `PublisherConfig`). The consumers are [`SocketOptions`] and its `apply` (here), the
/// builder setters (`builder.rs`) and the configuration structs (`config/sockets.rs`).
///
/// A path in a row is resolved where the row is expanded: field types and defaults in
/// this file, setter arguments in `builder.rs`, conversions (`ms`, `ms_or_off`, `same`)
/// in `config/sockets.rs`, and the `zmq` expressions here (`set`, `set_raw_int`,
/// `millis`), with `s` the socket, `v` the field's value and `k` the socket's
/// [`Kind`](super::builder::Kind).
///
/// Per-kind defaults: an option whose default depends on the socket kind has the type
/// [`PerKind<T>`]; its default is [`PerKind::KindDefault`], which its `zmq` expression
/// resolves for the kind being built (`v.resolve(k.pushes)`). So the defaults of every
/// kind are one [`SocketOptions::default()`], and `builder.options(o)` keeps a push
/// socket's `immediate` unless `o` sets it.
macro_rules! socket_options_table {
    ($callback:ident! { $($args:tt)* }) => {
        $callback! {
            $($args)*
            common [
                {
                    field: [
                        /// How long a send may block (`ZMQ_SNDTIMEO`). Default: 1000 ms, as the
                        /// Python library.
                        send_timeout: Duration = DEFAULT_TIMEOUT
                    ]
                    setter: [send_timeout(timeout: Duration) => timeout]
                    config: [send_timeout_ms: u64 => ms, "integer (ms)"]
                    zmq: ["ZMQ_SNDTIMEO" => |s, v, _k| set("ZMQ_SNDTIMEO", s.set_sndtimeo(millis(*v)))]
                    doc: "How long a send may block. Default: 1000 ms."
                }
                {
                    field: [
                        /// How long a receive may block (`ZMQ_RCVTIMEO`). Default: 1000 ms.
                        receive_timeout: Duration = DEFAULT_TIMEOUT
                    ]
                    setter: [receive_timeout(timeout: Duration) => timeout]
                    config: [receive_timeout_ms: u64 => ms, "integer (ms)"]
                    zmq: ["ZMQ_RCVTIMEO" => |s, v, _k| set("ZMQ_RCVTIMEO", s.set_rcvtimeo(millis(*v)))]
                    doc: "How long a receive may block. Default: 1000 ms."
                }
                {
                    field: [
                        /// How long `close()`/`Drop` keep delivering queued messages (`ZMQ_LINGER`).
                        /// Default: 1000 ms. Python uses 0, which silently drops queued messages. A
                        /// sending socket lingers at least 50 ms, so that its close can tell whether
                        /// messages were dropped (it returns
                        /// [`Error::LingerExpired`](super::Error::LingerExpired) exactly then); a socket
                        /// with nothing queued closes at once whatever the linger.
                        ///
                        /// Every duration option is clamped to [`MAX_WAIT`] (about 24.8 days).
                        linger: Duration = DEFAULT_LINGER
                    ]
                    setter: [linger(linger: Duration) => linger]
                    config: [linger_ms: u64 => ms, "integer (ms)"]
                    zmq: ["ZMQ_LINGER" => |s, v, _k| set("ZMQ_LINGER", s.set_linger(millis(*v)))]
                    doc: "How long closing keeps delivering queued messages. Default: 1000 ms."
                }
                {
                    field: [
                        /// Outgoing queue limit in messages (`ZMQ_SNDHWM`); 0 is no limit, and a limit
                        /// above `i32::MAX` is `i32::MAX`. Default: 1000 (libzmq's).
                        send_hwm: u32 = 1000
                    ]
                    setter: [send_hwm(messages: u32) => messages]
                    config: [send_hwm: u32 => same, "integer (messages)"]
                    zmq: ["ZMQ_SNDHWM" => |s, v, _k| set("ZMQ_SNDHWM", s.set_sndhwm(count(*v)))]
                    doc: "Outgoing queue limit in messages. Default: 1000."
                }
                {
                    field: [
                        /// Incoming queue limit in messages (`ZMQ_RCVHWM`); 0 is no limit. Default: 1000.
                        receive_hwm: u32 = 1000
                    ]
                    setter: [receive_hwm(messages: u32) => messages]
                    config: [receive_hwm: u32 => same, "integer (messages)"]
                    zmq: ["ZMQ_RCVHWM" => |s, v, _k| set("ZMQ_RCVHWM", s.set_rcvhwm(count(*v)))]
                    doc: "Incoming queue limit in messages. Default: 1000."
                }
                {
                    field: [
                        /// Keep only the latest message (`ZMQ_CONFLATE`), for streams such as the depth
                        /// camera feed. Default: off.
                        conflate: bool = false
                    ]
                    setter: [conflate(conflate: bool) => conflate]
                    config: [conflate: bool => same, "bool"]
                    zmq: ["ZMQ_CONFLATE" => |s, v, _k| if *v { set("ZMQ_CONFLATE", s.set_conflate(true)) } else { Ok(()) }]
                    doc: "Keep only the latest message. Default: off."
                }
                {
                    field: [
                        /// ZMTP heartbeat interval (`ZMQ_HEARTBEAT_IVL`), so a dead peer is noticed.
                        /// Default: `None` (off); dead peers are noticed by `tcp_max_retransmit` instead
                        /// (see [`DEAD_PEER_TIMEOUT`]). The installation's design asks for
                        /// [`ZMQ_HEARTBEAT_INTERVAL`](crate::ZMQ_HEARTBEAT_INTERVAL) (3000 ms) on
                        /// long-running connections; turn it on there, knowing libzmq's flaws (issues
                        /// 3937 and 4767): a receiver whose queue is full stops reading its connection,
                        /// so it misses the peer's pings, the peer drops the connection after the
                        /// heartbeat timeout, and the messages in flight are lost. Measured here: a PULL
                        /// consumer taking 8 ms per message received 1,080 of 1,500 with the heartbeat
                        /// on, all 1,500 with it off. Worse, with the vendored libzmq 4.3.4, a receiving
                        /// socket that sends or answers heartbeats *aborts the process* (`Assertion
                        /// failed: !_io_error`, stream_engine_base.cpp:331) when its connection breaks
                        /// while its queue is full: measured in `tests/netns.rs` with a stalled pull
                        /// socket whose push peer was killed.
                        heartbeat_interval: Option<Duration> = None
                    ]
                    setter: [heartbeat_interval(interval: impl Into<Option<Duration>>) => interval.into()]
                    config: [heartbeat_interval_ms: u64 => ms_or_off, "integer (ms), 0: off"]
                    zmq: ["ZMQ_HEARTBEAT_IVL" => |s, v, _k| match v {
                        Some(ivl) => set("ZMQ_HEARTBEAT_IVL", s.set_heartbeat_ivl(millis(*ivl))),
                        None => Ok(()),
                    }]
                    doc: "ZMTP heartbeat interval; `None` disables heartbeats. Default: off (see `SocketOptions::heartbeat_interval` for why, and when to turn it on)."
                }
                {
                    field: [
                        /// How long to wait for a heartbeat reply (`ZMQ_HEARTBEAT_TIMEOUT`). Default:
                        /// `None` (libzmq uses the interval).
                        heartbeat_timeout: Option<Duration> = None
                    ]
                    setter: [heartbeat_timeout(timeout: impl Into<Option<Duration>>) => timeout.into()]
                    config: [heartbeat_timeout_ms: u64 => ms, "integer (ms)"]
                    zmq: ["ZMQ_HEARTBEAT_TIMEOUT" => |s, v, _k| match v {
                        Some(t) => set("ZMQ_HEARTBEAT_TIMEOUT", s.set_heartbeat_timeout(millis(*t))),
                        None => Ok(()),
                    }]
                    doc: "Heartbeat reply timeout. Default: the interval."
                }
                {
                    field: [
                        /// The time-to-live the peer is told (`ZMQ_HEARTBEAT_TTL`; libzmq keeps it in
                        /// tenths of a second). Default: `None` (none).
                        heartbeat_ttl: Option<Duration> = None
                    ]
                    setter: [heartbeat_ttl(ttl: impl Into<Option<Duration>>) => ttl.into()]
                    config: [heartbeat_ttl_ms: u64 => ms, "integer (ms)"]
                    zmq: ["ZMQ_HEARTBEAT_TTL" => |s, v, _k| match v {
                        Some(t) => set("ZMQ_HEARTBEAT_TTL", s.set_heartbeat_ttl(millis(*t))),
                        None => Ok(()),
                    }]
                    doc: "Heartbeat time-to-live told to the peer. Default: none."
                }
                {
                    field: [
                        /// First reconnect delay (`ZMQ_RECONNECT_IVL`). Default: 100 ms (libzmq's).
                        reconnect_interval: Duration = Duration::from_millis(100)
                    ]
                    setter: [reconnect_interval(interval: Duration) => interval]
                    config: [reconnect_interval_ms: u64 => ms, "integer (ms)"]
                    zmq: ["ZMQ_RECONNECT_IVL" => |s, v, _k| set("ZMQ_RECONNECT_IVL", s.set_reconnect_ivl(millis(*v)))]
                    doc: "First reconnect delay. Default: 100 ms."
                }
                {
                    field: [
                        /// Upper bound of the reconnect back-off (`ZMQ_RECONNECT_IVL_MAX`). Default:
                        /// `None` (no back-off).
                        reconnect_interval_max: Option<Duration> = None
                    ]
                    setter: [reconnect_interval_max(max: impl Into<Option<Duration>>) => max.into()]
                    config: [reconnect_interval_max_ms: u64 => ms, "integer (ms)"]
                    zmq: ["ZMQ_RECONNECT_IVL_MAX" => |s, v, _k| match v {
                        Some(max) => set("ZMQ_RECONNECT_IVL_MAX", s.set_reconnect_ivl_max(millis(*max))),
                        None => Ok(()),
                    }]
                    doc: "Upper bound of the reconnect back-off. Default: no back-off."
                }
                {
                    field: [
                        /// Queue only to completed connections (`ZMQ_IMMEDIATE`). Default: the kind's:
                        /// on for push sockets (so a push with no peer times out instead of queueing
                        /// into nowhere), off otherwise.
                        immediate: PerKind<bool> = PerKind::KindDefault
                    ]
                    setter: [immediate(immediate: bool) => PerKind::Set(immediate)]
                    config: [immediate: bool => same, "bool"]
                    zmq: ["ZMQ_IMMEDIATE" => |s, v, k| if v.resolve(k.pushes) { set("ZMQ_IMMEDIATE", s.set_immediate(true)) } else { Ok(()) }]
                    doc: "Queue only to completed connections. Default: on for push sockets, off otherwise."
                }
                {
                    field: [
                        /// Refuse (disconnect) a peer that sends a larger message (`ZMQ_MAXMSGSIZE`), in
                        /// bytes; `None` for no limit. Default:
                        /// [`DEFAULT_MAX_MESSAGE_SIZE`](crate::DEFAULT_MAX_MESSAGE_SIZE) (16 MiB), so one
                        /// hostile frame cannot make a receiver allocate hundreds of megabytes. libzmq
                        /// checks the size header and drops the connection before reading the frame;
                        /// the refusal shows as a disconnect (`peer_count()` drops), and a connecting
                        /// socket reconnects.
                        ///
                        /// Worst-case memory of a receiving socket: `receive_hwm` x `max_message_size`
                        /// in its queue (16 GiB with the defaults, if every queued message were
                        /// maximal; 1000 messages of 1 MB take 1 GB), plus libzmq's 8 KiB read buffer
                        /// per connection. Lower either where a peer cannot be trusted.
                        max_message_size: Option<u64> = Some(DEFAULT_MAX_MESSAGE_SIZE)
                    ]
                    setter: [max_message_size(bytes: impl Into<Option<u64>>) => bytes.into()]
                    config: [max_message_size: u64 => same, "integer (bytes)"]
                    zmq: ["ZMQ_MAXMSGSIZE" => |s, v, _k| match v {
                        Some(max) => set("ZMQ_MAXMSGSIZE", s.set_maxmsgsize(i64::try_from(*max).unwrap_or(i64::MAX))),
                        None => Ok(()),
                    }]
                    doc: "Disconnect a peer that sends a larger message, in bytes; `None` accepts any size (a trusted peer). Default: 16 MiB (`DEFAULT_MAX_MESSAGE_SIZE`)."
                }
                {
                    field: [
                        /// How long sent data may stay unacknowledged on a tcp connection before it is
                        /// declared dead and closed (`ZMQ_TCP_MAXRT`, which libzmq applies as
                        /// `TCP_USER_TIMEOUT` on Linux); `None` leaves the kernel's limit. Default: the
                        /// kind's: [`DEAD_PEER_TIMEOUT`] (9 s) for push sockets and publishers, `None`
                        /// (the kernel's limit, about 15 minutes of retransmissions) for pull sockets
                        /// and subscribers, which send nothing it could time. See
                        /// [`DEAD_PEER_TIMEOUT`] for what it detects and what it costs.
                        tcp_max_retransmit: PerKind<Option<Duration>> = PerKind::KindDefault
                    ]
                    setter: [tcp_max_retransmit(timeout: impl Into<Option<Duration>>) => PerKind::Set(timeout.into())]
                    config: [tcp_max_retransmit_ms: u64 => ms_or_off, "integer (ms), 0: off"]
                    zmq: ["ZMQ_TCP_MAXRT" => |s, v, k| match v.resolve(k.sends.then_some(DEAD_PEER_TIMEOUT)) {
                        Some(t) => set_raw_int(s, "ZMQ_TCP_MAXRT", zmq_sys::ZMQ_TCP_MAXRT, millis(t)),
                        None => Ok(()),
                    }]
                    doc: "How long sent data may stay unacknowledged before the connection is ended; `None` leaves the kernel's limit. Default: 9 s for push sockets and publishers, `None` otherwise (see `DEAD_PEER_TIMEOUT`)."
                }
                {
                    field: [
                        /// How long a tcp connection may be idle (nothing received or sent) before TCP
                        /// keepalive probes start (`ZMQ_TCP_KEEPALIVE_IDLE`); then a probe goes every
                        /// [`KEEPALIVE_INTERVAL`] and [`KEEPALIVE_PROBES`] unanswered ones end the
                        /// connection. `None` turns keepalive off. Default: 3 s, so a peer whose host
                        /// vanished while the connection was quiet is declared dead at most about 8 s
                        /// later (measured in `tests/netns.rs`: 6.2 s): this is what lets a pull socket
                        /// or subscriber notice a dead sender (it sends nothing
                        /// [`tcp_max_retransmit`](Self::tcp_max_retransmit) could time), and an idle
                        /// push socket a dead receiver before its next message. A live peer answers the
                        /// probes from its kernel, however slow or quiet its application, and a
                        /// connection with data in flight is not idle: neither is ever dropped by it.
                        /// libzmq takes it in whole seconds (at least 1).
                        tcp_keepalive: Option<Duration> = Some(KEEPALIVE_IDLE)
                    ]
                    setter: [tcp_keepalive(idle: impl Into<Option<Duration>>) => idle.into()]
                    config: [tcp_keepalive_ms: u64 => ms_or_off, "integer (ms), 0: off"]
                    zmq: ["ZMQ_TCP_KEEPALIVE, `_IDLE`, `_INTVL`, `_CNT" => |s, v, _k| match v {
                        Some(idle) => set_keepalive(s, *idle),
                        None => Ok(()),
                    }]
                    doc: "How long a tcp connection may be idle before keepalive probes start; `None` turns TCP keepalive off. Default: 3 s (a vanished peer of a quiet connection is declared dead about 8 s later)."
                }
            ]
            publisher [
                {
                    field: [
                        /// Publisher only: block (up to the send timeout) instead of dropping when a
                        /// subscriber's queue is full (`ZMQ_XPUB_NODROP`). Default: off, as ZeroMQ's PUB.
                        lossless: bool = false
                    ]
                    setter: [lossless(lossless: bool) => lossless]
                    config: [lossless: bool => same, "bool"]
                    zmq: ["ZMQ_XPUB_NODROP" => |s, v, k| if *v && k.zmq == zmq::XPUB {
                        set_raw_int(s, "ZMQ_XPUB_NODROP", zmq_sys::ZMQ_XPUB_NODROP, 1)
                    } else {
                        Ok(())
                    }]
                    doc: "Publishers: block (up to the send timeout) and then time out, instead of silently dropping, when a subscriber's queue is full. Default: off."
                }
            ]
        }
    };
}
pub(crate) use socket_options_table;

/// The value of an option whose default depends on the socket kind (see the option's
/// documentation): the kind's default until a value is set, resolved when the socket is
/// built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PerKind<T> {
    /// The default of the socket kind being built.
    #[default]
    KindDefault,
    /// This value, whatever the kind.
    Set(T),
}

impl<T> PerKind<T> {
    /// The value set, or `kind_default`.
    pub fn resolve(self, kind_default: T) -> T {
        match self {
            PerKind::KindDefault => kind_default,
            PerKind::Set(v) => v,
        }
    }
}

/// Generates [`SocketOptions`], its `Default` and its `apply` from the table.
macro_rules! socket_options_struct {
    (common [$($common:tt)*] publisher [$($publisher:tt)*]) => {
        socket_options_struct! { @emit [$($common)* $($publisher)*] }
    };
    (@emit [$({
        field: [$(#[$meta:meta])* $field:ident : $ty:ty = $default:expr]
        setter: [$setter:ident ($arg:ident : $argty:ty) => $store:expr]
        config: [$key:ident : $cty:ty => $conv:ident, $ctext:literal]
        zmq: [$zname:literal => |$s:ident, $v:ident, $k:ident| $apply:expr]
        doc: $doc:literal
    })*]) => {
        /// The options of a socket. Every builder starts from [`SocketOptions::default()`]
        /// (the defaults of every socket kind: an option whose default depends on the kind
        /// is a [`PerKind`], resolved when the socket is built) and has a setter per field.
        ///
        /// Every option, with its builder setter, its configuration key
        /// (`[sockets.NAME]`), and the libzmq option it sets:
        ///
        /// | option (setter) | key | TOML type | libzmq | meaning |
        /// |---|---|---|---|---|
        $(
            #[doc = concat!(
                "| [`", stringify!($field), "`](Self::", stringify!($field), ") | `",
                stringify!($key), "` | ", $ctext, " | `", $zname, "` | ", $doc, " |"
            )]
        )*
        ///
        /// Durations are clamped to [`MAX_WAIT`]; in configuration they are whole
        /// milliseconds, in keys ending in `_ms`.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub struct SocketOptions {
            $( $(#[$meta])* pub $field: $ty, )*
            /// The security mechanism (CURVE, PLAIN or none). Default: none (ZMTP NULL), as
            /// the Python services. See [`Security`](crate::security::Security) for what each
            /// protects.
            pub security: crate::security::Security,
            /// The ZAP domain a server socket's peers are judged in (`ZMQ_ZAP_DOMAIN`); set
            /// by the builder's `auth(policy)`. Default: none.
            pub zap_domain: Option<String>,
        }

        impl Default for SocketOptions {
            fn default() -> Self {
                SocketOptions {
                    $( $field: $default, )*
                    security: crate::security::Security::Null,
                    zap_domain: None,
                }
            }
        }

        impl SocketOptions {
            /// Sets every option on `socket` (before it binds or connects), resolving
            /// the per-kind defaults for `kind`.
            pub(crate) fn apply(&self, socket: &mut zmq::Socket, kind: &Kind) -> Result<()> {
                $({
                    let ($s, $v, $k) = (&mut *socket, &self.$field, kind);
                    $apply?;
                })*
                self.security.apply(socket)?;
                if let Some(domain) = &self.zap_domain {
                    set("ZMQ_ZAP_DOMAIN", socket.set_zap_domain(domain))?;
                }
                Ok(())
            }
        }
    };
}
socket_options_table!(socket_options_struct! {});

/// Maps a libzmq option result to [`Error::SetOption`] naming the option.
pub(crate) fn set<T>(option: &'static str, r: zmq::Result<T>) -> Result<()> {
    r.map(|_| ()).map_err(|source| Error::SetOption { option, source })
}

/// A message count for a libzmq `int` option: above `i32::MAX` is `i32::MAX`.
fn count(n: u32) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// TCP keepalive on, with `idle` before the first probe (libzmq takes whole seconds).
fn set_keepalive(socket: &zmq::Socket, idle: Duration) -> Result<()> {
    let secs = |d: Duration| i32::try_from(d.as_secs().max(1)).unwrap_or(i32::MAX);
    set("ZMQ_TCP_KEEPALIVE", socket.set_tcp_keepalive(1))?;
    set("ZMQ_TCP_KEEPALIVE_IDLE", socket.set_tcp_keepalive_idle(secs(idle)))?;
    set("ZMQ_TCP_KEEPALIVE_INTVL", socket.set_tcp_keepalive_intvl(secs(KEEPALIVE_INTERVAL)))?;
    set("ZMQ_TCP_KEEPALIVE_CNT", socket.set_tcp_keepalive_cnt(count(KEEPALIVE_PROBES)))
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

#[cfg(test)]
mod tests {
    //! Every option of the table, set through the builder and through TOML, read back
    //! from libzmq (`zmq_getsockopt`) where libzmq can read it.

    use std::time::Duration;

    use super::{PerKind, SocketOptions};
    use crate::config::{self, PublisherConfig, PullConfig, PushConfig, SubscriberConfig};
    use crate::socket::{Publisher, PullSocket, PushSocket, Subscriber};

    fn get_raw_int(socket: &mut zmq::Socket, option: u32) -> i32 {
        crate::socket::ffi::get_raw_int(socket, "getsockopt", option).unwrap()
    }

    /// What libzmq reports for the options `check` looks at.
    #[derive(Debug, PartialEq)]
    struct Read {
        sndtimeo: i32,
        rcvtimeo: i32,
        linger: i32,
        sndhwm: i32,
        rcvhwm: i32,
        conflate: bool,
        heartbeat_ivl: i32,
        heartbeat_timeout: i32,
        heartbeat_ttl: i32,
        reconnect_ivl: i32,
        reconnect_ivl_max: i32,
        immediate: bool,
        maxmsgsize: i64,
        tcp_maxrt: i32,
        keepalive: (i32, i32, i32, i32),
    }

    fn read(socket: &mut zmq::Socket) -> Read {
        Read {
            sndtimeo: socket.get_sndtimeo().unwrap(),
            rcvtimeo: socket.get_rcvtimeo().unwrap(),
            linger: socket.get_linger().unwrap(),
            sndhwm: socket.get_sndhwm().unwrap(),
            rcvhwm: socket.get_rcvhwm().unwrap(),
            conflate: socket.is_conflate().unwrap(),
            heartbeat_ivl: socket.get_heartbeat_ivl().unwrap(),
            heartbeat_timeout: socket.get_heartbeat_timeout().unwrap(),
            heartbeat_ttl: socket.get_heartbeat_ttl().unwrap(),
            reconnect_ivl: socket.get_reconnect_ivl().unwrap(),
            reconnect_ivl_max: socket.get_reconnect_ivl_max().unwrap(),
            immediate: socket.is_immediate().unwrap(),
            maxmsgsize: socket.get_maxmsgsize().unwrap(),
            tcp_maxrt: get_raw_int(socket, zmq_sys::ZMQ_TCP_MAXRT),
            keepalive: (
                socket.get_tcp_keepalive().unwrap(),
                socket.get_tcp_keepalive_idle().unwrap(),
                socket.get_tcp_keepalive_intvl().unwrap(),
                socket.get_tcp_keepalive_cnt().unwrap(),
            ),
        }
    }

    /// The values every option is set to below, as libzmq reports them.
    fn expected() -> Read {
        Read {
            sndtimeo: 1_001,
            rcvtimeo: 1_002,
            linger: 1_003,
            sndhwm: 4,
            rcvhwm: 5,
            conflate: true,
            heartbeat_ivl: 6_000,
            heartbeat_timeout: 7_000,
            // libzmq keeps the TTL in tenths of a second.
            heartbeat_ttl: 8_000,
            reconnect_ivl: 9,
            reconnect_ivl_max: 10,
            immediate: true,
            maxmsgsize: 11,
            tcp_maxrt: 12,
            keepalive: (1, 13, 1, 5),
        }
    }

    fn ms(v: u64) -> Duration {
        Duration::from_millis(v)
    }

    #[test]
    fn every_option_is_a_row_of_the_table_and_has_a_value_below() {
        // Naming every field (no `..`): a new option must be added to this test.
        let SocketOptions {
            send_timeout: _,
            receive_timeout: _,
            linger: _,
            send_hwm: _,
            receive_hwm: _,
            conflate: _,
            heartbeat_interval: _,
            heartbeat_timeout: _,
            heartbeat_ttl: _,
            reconnect_interval: _,
            reconnect_interval_max: _,
            immediate: _,
            max_message_size: _,
            tcp_max_retransmit: _,
            tcp_keepalive: _,
            lossless: _,
            security: _,
            zap_domain: _,
        } = SocketOptions::default();
    }

    #[test]
    fn every_option_set_through_the_builder_reaches_libzmq() {
        // A pull socket: `immediate` and `tcp_max_retransmit` are off by default there,
        // so setting them shows.
        let mut pull = PullSocket::builder()
            .bind("tcp://127.0.0.1:*")
            .unwrap()
            .send_timeout(ms(1_001))
            .receive_timeout(ms(1_002))
            .linger(ms(1_003))
            .send_hwm(4)
            .receive_hwm(5)
            .conflate(true)
            .heartbeat_interval(ms(6_000))
            .heartbeat_timeout(ms(7_000))
            .heartbeat_ttl(ms(8_000))
            .reconnect_interval(ms(9))
            .reconnect_interval_max(ms(10))
            .immediate(true)
            .max_message_size(11)
            .tcp_max_retransmit(ms(12))
            .tcp_keepalive(Duration::from_secs(13))
            .build()
            .unwrap();
        assert_eq!(read(pull.core.socket_mut()), expected());

        // The publisher's own option builds (libzmq cannot read ZMQ_XPUB_NODROP back;
        // tests/sockets.rs shows a lossless publisher blocking instead of dropping).
        let publisher =
            Publisher::builder().bind("inproc://options-lossless").unwrap().lossless(true).build();
        assert!(publisher.unwrap().core.options().lossless);
    }

    #[test]
    fn every_option_set_in_toml_reaches_libzmq() {
        let keys = "send_timeout_ms = 1001\nreceive_timeout_ms = 1002\nlinger_ms = 1003\n\
            send_hwm = 4\nreceive_hwm = 5\nconflate = true\nheartbeat_interval_ms = 6000\n\
            heartbeat_timeout_ms = 7000\nheartbeat_ttl_ms = 8000\nreconnect_interval_ms = 9\n\
            reconnect_interval_max_ms = 10\nimmediate = true\nmax_message_size = 11\n\
            tcp_max_retransmit_ms = 12\ntcp_keepalive_ms = 13000\n";
        let pull: PullConfig =
            config::from_str(&format!("bind = \"tcp://127.0.0.1:*\"\n{keys}"), "pull.toml").unwrap();
        assert_eq!(read(pull.build().unwrap().core.socket_mut()), expected());
        let sub: SubscriberConfig = config::from_str(
            &format!("connect = \"tcp://127.0.0.1:1\"\ntopics = [\"\"]\n{keys}"),
            "sub.toml",
        )
        .unwrap();
        assert_eq!(read(sub.build().unwrap().core.socket_mut()), expected());

        let publisher: PublisherConfig =
            config::from_str("bind = \"inproc://options-toml-lossless\"\nlossless = true\n", "pub.toml")
                .unwrap();
        assert!(publisher.build().unwrap().core.options().lossless);
        // `lossless` is a publisher's key only.
        let err =
            config::from_str::<PushConfig>("bind = \"tcp://127.0.0.1:*\"\nlossless = true\n", "push.toml")
                .unwrap_err();
        assert!(matches!(err, config::ConfigError::UnknownKeys { .. }), "{err}");
    }

    #[test]
    fn zero_in_toml_turns_the_optional_options_off() {
        let push: PushConfig = config::from_str(
            "bind = \"tcp://127.0.0.1:*\"\nheartbeat_interval_ms = 0\ntcp_max_retransmit_ms = 0\ntcp_keepalive_ms = 0\n",
            "push.toml",
        )
        .unwrap();
        let mut push = push.build().unwrap();
        let read = read(push.core.socket_mut());
        assert_eq!((read.heartbeat_ivl, read.tcp_maxrt, read.keepalive.0), (0, 0, -1));
    }

    #[test]
    fn per_kind_defaults_reach_libzmq_and_survive_options() {
        // (immediate, ZMQ_TCP_MAXRT) per kind: push and publisher send, so they declare
        // a dead peer after 9 s; only the push queues to completed connections only.
        let mut push = PushSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
        let mut publisher = Publisher::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
        let mut pull = PullSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
        let mut sub =
            Subscriber::builder().bind("tcp://127.0.0.1:*").unwrap().subscribe_all().build().unwrap();
        let kinds = |s: &mut zmq::Socket| (s.is_immediate().unwrap(), get_raw_int(s, zmq_sys::ZMQ_TCP_MAXRT));
        assert_eq!(kinds(push.core.socket_mut()), (true, 9_000));
        assert_eq!(kinds(publisher.core.socket_mut()), (false, 9_000));
        assert_eq!(kinds(pull.core.socket_mut()), (false, 0));
        assert_eq!(kinds(sub.core.socket_mut()), (false, 0));

        // `options(SocketOptions::default())` keeps the push socket's defaults ...
        let mut push = PushSocket::builder()
            .options(SocketOptions::default())
            .bind("tcp://127.0.0.1:*")
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(kinds(push.core.socket_mut()), (true, 9_000));
        // ... and an option set in them wins over the kind's default.
        let off = SocketOptions {
            immediate: PerKind::Set(false),
            tcp_max_retransmit: PerKind::Set(None),
            ..SocketOptions::default()
        };
        let mut push = PushSocket::builder().options(off).bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
        assert_eq!(kinds(push.core.socket_mut()), (false, 0));
        // The same in TOML.
        let cfg: PushConfig = config::from_str(
            "bind = \"tcp://127.0.0.1:*\"\nimmediate = false\ntcp_max_retransmit_ms = 0\n",
            "p.toml",
        )
        .unwrap();
        assert_eq!(kinds(cfg.build().unwrap().core.socket_mut()), (false, 0));
    }

    #[test]
    fn hwm_above_i32_is_the_largest_libzmq_takes() {
        let mut pull =
            PullSocket::builder().bind("inproc://options-hwm").unwrap().receive_hwm(u32::MAX).build();
        assert_eq!(pull.as_mut().unwrap().core.socket_mut().get_rcvhwm().unwrap(), i32::MAX);
    }
}
