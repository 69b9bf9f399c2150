//! Socket options with documented defaults, from one table
//! ([`socket_options_table!`]) that also generates the builder setters and the
//! configuration keys.

use std::time::Duration;

use super::builder::Kind;
use super::error::{Error, Result};
use super::ffi::set_raw_int;
use crate::{DEFAULT_LINGER, DEFAULT_MAX_MESSAGE_SIZE, DEFAULT_TIMEOUT};

mod table;
pub(crate) use table::socket_options_table;

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
    let ms = d.as_millis() + u128::from(!d.subsec_nanos().is_multiple_of(1_000_000));
    i32::try_from(ms).unwrap_or(i32::MAX)
}

#[cfg(test)]
mod tests;
