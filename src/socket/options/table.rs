//! The options table: one row per socket option (see [`socket_options_table!`]).

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
