//! Low-level bindings to libzmq 4.3.4, built from source with libsodium so that
//! CURVE works (`zmq_has("curve") == 1`) without any system package.
//!
//! This crate takes the place of crates.io's `zmq-sys` 0.12 through the workspace's
//! `[patch.crates-io]` (see the root `Cargo.toml`), so the `zmq` crate links it. It
//! offers the same items under the same names and types: the stable API of libzmq's
//! `zmq.h` (constants, `zmq_msg_t`, `zmq_pollitem_t`, the functions) and [`errno`],
//! written by hand from that header.
//!
//! Two functions differ from a plain binding, both to make sockets scale:
//! - [`zmq_ctx_new`] creates a context whose socket cap (`ZMQ_MAX_SOCKETS`) is
//!   [`ext::DEFAULT_MAX_SOCKETS`] instead of libzmq's 1023 (see [`ext`] for why, and
//!   what it costs);
//! - [`zmq_socket`] remembers, per thread, the cap of the context it was called on, so
//!   that a caller holding only a `zmq::Context` can name the cap it ran into
//!   ([`ext::last_context_max_sockets`]).
//!
//! Omitted from `zmq.h`: the draft API, the legacy `zmq_init`/`zmq_term`/
//! `zmq_ctx_destroy` (they would create contexts around [`zmq_ctx_new`]; use
//! [`zmq_ctx_new`]/[`zmq_ctx_term`]), and the undocumented stopwatch/sleep/thread helpers.

#![allow(non_camel_case_types)]
// The items are zmq.h's, under its names: their documentation is libzmq's API reference
// (zmq_socket(3), zmq_setsockopt(3), ...), not a copy of it here.
#![allow(missing_docs)]
#![allow(clippy::missing_safety_doc)] // The safety contract of each function is libzmq's.

#[cfg(not(unix))]
compile_error!("this zmq-sys replacement supports Unix targets only (errno and fd types)");

// Linked for its libsodium archive, which libzmq's CURVE calls into.
use libsodium_sys as _;

use libc::{c_char, c_int, c_long, c_short, c_void, size_t};

pub use std::os::unix::io::RawFd;

pub mod errno;
pub mod ext;

// ---------------------------------------------------------------------------------
// Errors

/// A number random enough not to collide with errno ranges (libzmq's own codes start here).
pub const ZMQ_HAUSNUMERO: u32 = 156_384_712;

// ---------------------------------------------------------------------------------
// Context options and defaults

pub const ZMQ_IO_THREADS: u32 = 1;
pub const ZMQ_MAX_SOCKETS: u32 = 2;
pub const ZMQ_SOCKET_LIMIT: u32 = 3;
pub const ZMQ_THREAD_PRIORITY: u32 = 3;
pub const ZMQ_THREAD_SCHED_POLICY: u32 = 4;
pub const ZMQ_MAX_MSGSZ: u32 = 5;
pub const ZMQ_MSG_T_SIZE: u32 = 6;
pub const ZMQ_THREAD_AFFINITY_CPU_ADD: u32 = 7;
pub const ZMQ_THREAD_AFFINITY_CPU_REMOVE: u32 = 8;
pub const ZMQ_THREAD_NAME_PREFIX: u32 = 9;

pub const ZMQ_IO_THREADS_DFLT: u32 = 1;
/// libzmq's own default cap; contexts from [`zmq_ctx_new`] get [`ext::DEFAULT_MAX_SOCKETS`].
pub const ZMQ_MAX_SOCKETS_DFLT: u32 = 1023;
pub const ZMQ_THREAD_PRIORITY_DFLT: i32 = -1;
pub const ZMQ_THREAD_SCHED_POLICY_DFLT: i32 = -1;

// ---------------------------------------------------------------------------------
// Socket types

pub const ZMQ_PAIR: u32 = 0;
pub const ZMQ_PUB: u32 = 1;
pub const ZMQ_SUB: u32 = 2;
pub const ZMQ_REQ: u32 = 3;
pub const ZMQ_REP: u32 = 4;
pub const ZMQ_DEALER: u32 = 5;
pub const ZMQ_ROUTER: u32 = 6;
pub const ZMQ_PULL: u32 = 7;
pub const ZMQ_PUSH: u32 = 8;
pub const ZMQ_XPUB: u32 = 9;
pub const ZMQ_XSUB: u32 = 10;
pub const ZMQ_STREAM: u32 = 11;
/// Deprecated alias of [`ZMQ_DEALER`].
pub const ZMQ_XREQ: u32 = ZMQ_DEALER;
/// Deprecated alias of [`ZMQ_ROUTER`].
pub const ZMQ_XREP: u32 = ZMQ_ROUTER;

// ---------------------------------------------------------------------------------
// Socket options

pub const ZMQ_AFFINITY: u32 = 4;
pub const ZMQ_ROUTING_ID: u32 = 5;
pub const ZMQ_SUBSCRIBE: u32 = 6;
pub const ZMQ_UNSUBSCRIBE: u32 = 7;
pub const ZMQ_RATE: u32 = 8;
pub const ZMQ_RECOVERY_IVL: u32 = 9;
pub const ZMQ_SNDBUF: u32 = 11;
pub const ZMQ_RCVBUF: u32 = 12;
pub const ZMQ_RCVMORE: u32 = 13;
pub const ZMQ_FD: u32 = 14;
pub const ZMQ_EVENTS: u32 = 15;
pub const ZMQ_TYPE: u32 = 16;
pub const ZMQ_LINGER: u32 = 17;
pub const ZMQ_RECONNECT_IVL: u32 = 18;
pub const ZMQ_BACKLOG: u32 = 19;
pub const ZMQ_RECONNECT_IVL_MAX: u32 = 21;
pub const ZMQ_MAXMSGSIZE: u32 = 22;
pub const ZMQ_SNDHWM: u32 = 23;
pub const ZMQ_RCVHWM: u32 = 24;
pub const ZMQ_MULTICAST_HOPS: u32 = 25;
pub const ZMQ_RCVTIMEO: u32 = 27;
pub const ZMQ_SNDTIMEO: u32 = 28;
pub const ZMQ_LAST_ENDPOINT: u32 = 32;
pub const ZMQ_ROUTER_MANDATORY: u32 = 33;
pub const ZMQ_TCP_KEEPALIVE: u32 = 34;
pub const ZMQ_TCP_KEEPALIVE_CNT: u32 = 35;
pub const ZMQ_TCP_KEEPALIVE_IDLE: u32 = 36;
pub const ZMQ_TCP_KEEPALIVE_INTVL: u32 = 37;
pub const ZMQ_IMMEDIATE: u32 = 39;
pub const ZMQ_XPUB_VERBOSE: u32 = 40;
pub const ZMQ_ROUTER_RAW: u32 = 41;
pub const ZMQ_IPV6: u32 = 42;
pub const ZMQ_MECHANISM: u32 = 43;
pub const ZMQ_PLAIN_SERVER: u32 = 44;
pub const ZMQ_PLAIN_USERNAME: u32 = 45;
pub const ZMQ_PLAIN_PASSWORD: u32 = 46;
pub const ZMQ_CURVE_SERVER: u32 = 47;
pub const ZMQ_CURVE_PUBLICKEY: u32 = 48;
pub const ZMQ_CURVE_SECRETKEY: u32 = 49;
pub const ZMQ_CURVE_SERVERKEY: u32 = 50;
pub const ZMQ_PROBE_ROUTER: u32 = 51;
pub const ZMQ_REQ_CORRELATE: u32 = 52;
pub const ZMQ_REQ_RELAXED: u32 = 53;
pub const ZMQ_CONFLATE: u32 = 54;
pub const ZMQ_ZAP_DOMAIN: u32 = 55;
pub const ZMQ_ROUTER_HANDOVER: u32 = 56;
pub const ZMQ_TOS: u32 = 57;
pub const ZMQ_CONNECT_ROUTING_ID: u32 = 61;
pub const ZMQ_GSSAPI_SERVER: u32 = 62;
pub const ZMQ_GSSAPI_PRINCIPAL: u32 = 63;
pub const ZMQ_GSSAPI_SERVICE_PRINCIPAL: u32 = 64;
pub const ZMQ_GSSAPI_PLAINTEXT: u32 = 65;
pub const ZMQ_HANDSHAKE_IVL: u32 = 66;
pub const ZMQ_SOCKS_PROXY: u32 = 68;
pub const ZMQ_XPUB_NODROP: u32 = 69;
pub const ZMQ_BLOCKY: u32 = 70;
pub const ZMQ_XPUB_MANUAL: u32 = 71;
pub const ZMQ_XPUB_WELCOME_MSG: u32 = 72;
pub const ZMQ_STREAM_NOTIFY: u32 = 73;
pub const ZMQ_INVERT_MATCHING: u32 = 74;
pub const ZMQ_HEARTBEAT_IVL: u32 = 75;
pub const ZMQ_HEARTBEAT_TTL: u32 = 76;
pub const ZMQ_HEARTBEAT_TIMEOUT: u32 = 77;
pub const ZMQ_XPUB_VERBOSER: u32 = 78;
pub const ZMQ_CONNECT_TIMEOUT: u32 = 79;
pub const ZMQ_TCP_MAXRT: u32 = 80;
pub const ZMQ_THREAD_SAFE: u32 = 81;
pub const ZMQ_MULTICAST_MAXTPDU: u32 = 84;
pub const ZMQ_VMCI_BUFFER_SIZE: u32 = 85;
pub const ZMQ_VMCI_BUFFER_MIN_SIZE: u32 = 86;
pub const ZMQ_VMCI_BUFFER_MAX_SIZE: u32 = 87;
pub const ZMQ_VMCI_CONNECT_TIMEOUT: u32 = 88;
pub const ZMQ_USE_FD: u32 = 89;
pub const ZMQ_GSSAPI_PRINCIPAL_NAMETYPE: u32 = 90;
pub const ZMQ_GSSAPI_SERVICE_PRINCIPAL_NAMETYPE: u32 = 91;
pub const ZMQ_BINDTODEVICE: u32 = 92;

// Deprecated options and aliases.
/// Deprecated alias of [`ZMQ_ROUTING_ID`].
pub const ZMQ_IDENTITY: u32 = ZMQ_ROUTING_ID;
/// Deprecated alias of [`ZMQ_CONNECT_ROUTING_ID`].
pub const ZMQ_CONNECT_RID: u32 = ZMQ_CONNECT_ROUTING_ID;
/// Deprecated.
pub const ZMQ_TCP_ACCEPT_FILTER: u32 = 38;
/// Deprecated.
pub const ZMQ_IPC_FILTER_PID: u32 = 58;
/// Deprecated.
pub const ZMQ_IPC_FILTER_UID: u32 = 59;
/// Deprecated.
pub const ZMQ_IPC_FILTER_GID: u32 = 60;
/// Deprecated (use [`ZMQ_IPV6`]).
pub const ZMQ_IPV4ONLY: u32 = 31;
/// Deprecated alias of [`ZMQ_IMMEDIATE`].
pub const ZMQ_DELAY_ATTACH_ON_CONNECT: u32 = ZMQ_IMMEDIATE;
/// Deprecated alias of [`ZMQ_DONTWAIT`].
pub const ZMQ_NOBLOCK: u32 = ZMQ_DONTWAIT;
/// Deprecated alias of [`ZMQ_ROUTER_MANDATORY`].
pub const ZMQ_FAIL_UNROUTABLE: u32 = ZMQ_ROUTER_MANDATORY;
/// Deprecated alias of [`ZMQ_ROUTER_MANDATORY`].
pub const ZMQ_ROUTER_BEHAVIOR: u32 = ZMQ_ROUTER_MANDATORY;

// ---------------------------------------------------------------------------------
// Message options, send/recv flags, security mechanisms

pub const ZMQ_MORE: u32 = 1;
pub const ZMQ_SHARED: u32 = 3;
/// Deprecated message option.
pub const ZMQ_SRCFD: u32 = 2;

pub const ZMQ_DONTWAIT: u32 = 1;
pub const ZMQ_SNDMORE: u32 = 2;

pub const ZMQ_NULL: u32 = 0;
pub const ZMQ_PLAIN: u32 = 1;
pub const ZMQ_CURVE: u32 = 2;
pub const ZMQ_GSSAPI: u32 = 3;

pub const ZMQ_GROUP_MAX_LENGTH: u32 = 255;

pub const ZMQ_GSSAPI_NT_HOSTBASED: u32 = 0;
pub const ZMQ_GSSAPI_NT_USER_NAME: u32 = 1;
pub const ZMQ_GSSAPI_NT_KRB5_PRINCIPAL: u32 = 2;

// ---------------------------------------------------------------------------------
// Socket monitor events and protocol errors

pub const ZMQ_EVENT_CONNECTED: u32 = 0x0001;
pub const ZMQ_EVENT_CONNECT_DELAYED: u32 = 0x0002;
pub const ZMQ_EVENT_CONNECT_RETRIED: u32 = 0x0004;
pub const ZMQ_EVENT_LISTENING: u32 = 0x0008;
pub const ZMQ_EVENT_BIND_FAILED: u32 = 0x0010;
pub const ZMQ_EVENT_ACCEPTED: u32 = 0x0020;
pub const ZMQ_EVENT_ACCEPT_FAILED: u32 = 0x0040;
pub const ZMQ_EVENT_CLOSED: u32 = 0x0080;
pub const ZMQ_EVENT_CLOSE_FAILED: u32 = 0x0100;
pub const ZMQ_EVENT_DISCONNECTED: u32 = 0x0200;
pub const ZMQ_EVENT_MONITOR_STOPPED: u32 = 0x0400;
pub const ZMQ_EVENT_ALL: u32 = 0xFFFF;
/// The event value is an errno.
pub const ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL: u32 = 0x0800;
pub const ZMQ_EVENT_HANDSHAKE_SUCCEEDED: u32 = 0x1000;
/// The event value is one of the `ZMQ_PROTOCOL_ERROR_*` codes.
pub const ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL: u32 = 0x2000;
/// The event value is the ZAP status code (300, 400 or 500).
pub const ZMQ_EVENT_HANDSHAKE_FAILED_AUTH: u32 = 0x4000;

pub const ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED: u32 = 0x1000_0000;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_UNEXPECTED_COMMAND: u32 = 0x1000_0001;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_SEQUENCE: u32 = 0x1000_0002;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE: u32 = 0x1000_0003;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_UNSPECIFIED: u32 = 0x1000_0011;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_MESSAGE: u32 = 0x1000_0012;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_HELLO: u32 = 0x1000_0013;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_INITIATE: u32 = 0x1000_0014;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_ERROR: u32 = 0x1000_0015;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_READY: u32 = 0x1000_0016;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MALFORMED_COMMAND_WELCOME: u32 = 0x1000_0017;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_INVALID_METADATA: u32 = 0x1000_0018;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC: u32 = 0x1100_0001;
pub const ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH: u32 = 0x1100_0002;
pub const ZMQ_PROTOCOL_ERROR_ZAP_UNSPECIFIED: u32 = 0x2000_0000;
pub const ZMQ_PROTOCOL_ERROR_ZAP_MALFORMED_REPLY: u32 = 0x2000_0001;
pub const ZMQ_PROTOCOL_ERROR_ZAP_BAD_REQUEST_ID: u32 = 0x2000_0002;
pub const ZMQ_PROTOCOL_ERROR_ZAP_BAD_VERSION: u32 = 0x2000_0003;
pub const ZMQ_PROTOCOL_ERROR_ZAP_INVALID_STATUS_CODE: u32 = 0x2000_0004;
pub const ZMQ_PROTOCOL_ERROR_ZAP_INVALID_METADATA: u32 = 0x2000_0005;
pub const ZMQ_PROTOCOL_ERROR_WS_UNSPECIFIED: u32 = 0x3000_0000;

// ---------------------------------------------------------------------------------
// Polling, proxies, capabilities

pub const ZMQ_POLLIN: u32 = 1;
pub const ZMQ_POLLOUT: u32 = 2;
pub const ZMQ_POLLERR: u32 = 4;
pub const ZMQ_POLLPRI: u32 = 8;
pub const ZMQ_POLLITEMS_DFLT: u32 = 16;

pub const ZMQ_HAS_CAPABILITIES: u32 = 1;

/// Deprecated `zmq_device` type.
pub const ZMQ_STREAMER: u32 = 1;
/// Deprecated `zmq_device` type.
pub const ZMQ_FORWARDER: u32 = 2;
/// Deprecated `zmq_device` type.
pub const ZMQ_QUEUE: u32 = 3;

// ---------------------------------------------------------------------------------
// Types

/// A message: 64 opaque bytes, aligned like a pointer (as `zmq.h` declares it for GCC).
#[repr(C)]
#[cfg_attr(target_pointer_width = "64", repr(align(8)))]
#[cfg_attr(target_pointer_width = "32", repr(align(4)))]
#[derive(Copy, Clone)]
pub struct zmq_msg_t {
    pub _d: [u8; 64],
}

impl Default for zmq_msg_t {
    fn default() -> Self {
        zmq_msg_t { _d: [0; 64] }
    }
}

impl std::fmt::Debug for zmq_msg_t {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("zmq_msg_t { .. }")
    }
}

/// Frees the data of a message made by [`zmq_msg_init_data`].
pub type zmq_free_fn = Option<unsafe extern "C" fn(data: *mut c_void, hint: *mut c_void)>;

/// A timer callback for the `zmq_timers_*` API.
pub type zmq_timer_fn = Option<unsafe extern "C" fn(timer_id: c_int, arg: *mut c_void)>;

/// `zmq_fd_t` on Unix.
pub type zmq_fd_t = c_int;

/// One entry of [`zmq_poll`]: a socket, or a file descriptor when `socket` is null.
#[repr(C)]
#[derive(Debug, Copy, Clone)]
pub struct zmq_pollitem_t {
    pub socket: *mut c_void,
    pub fd: zmq_fd_t,
    pub events: c_short,
    pub revents: c_short,
}

/// `struct iovec` (only passed by pointer to [`zmq_sendiov`] / [`zmq_recviov`]).
pub type iovec = libc::iovec;

// ---------------------------------------------------------------------------------
// Functions

/// The two functions wrapped below, under their C names.
mod raw {
    use libc::{c_int, c_void};
    extern "C" {
        pub fn zmq_ctx_new() -> *mut c_void;
        pub fn zmq_socket(context: *mut c_void, type_: c_int) -> *mut c_void;
    }
}

/// Creates a context, as libzmq's `zmq_ctx_new`, then sets its `ZMQ_MAX_SOCKETS` to
/// [`ext::DEFAULT_MAX_SOCKETS`] (or to the cap [`ext::with_max_sockets`] asks for on
/// this thread). libzmq reads the cap when the context opens its first socket, which
/// cannot have happened yet. `zmq_ctx_set` can still change it before that.
pub unsafe fn zmq_ctx_new() -> *mut c_void {
    let ctx = raw::zmq_ctx_new();
    if !ctx.is_null() {
        // Cannot fail: the context is fresh and the value is in 1..=i32::MAX.
        zmq_ctx_set(ctx, ZMQ_MAX_SOCKETS as c_int, ext::max_sockets_for_new_context());
    }
    ctx
}

/// Creates a socket, as libzmq's `zmq_socket`, first noting the context's
/// `ZMQ_MAX_SOCKETS` for [`ext::last_context_max_sockets`] (read before the call, so
/// errno is the socket's).
pub unsafe fn zmq_socket(context: *mut c_void, type_: c_int) -> *mut c_void {
    ext::note_context(context);
    raw::zmq_socket(context, type_)
}

extern "C" {
    pub fn zmq_errno() -> c_int;
    pub fn zmq_strerror(errnum: c_int) -> *const c_char;
    pub fn zmq_version(major: *mut c_int, minor: *mut c_int, patch: *mut c_int);

    pub fn zmq_ctx_term(context: *mut c_void) -> c_int;
    pub fn zmq_ctx_shutdown(context: *mut c_void) -> c_int;
    pub fn zmq_ctx_set(context: *mut c_void, option: c_int, optval: c_int) -> c_int;
    pub fn zmq_ctx_get(context: *mut c_void, option: c_int) -> c_int;

    pub fn zmq_msg_init(msg: *mut zmq_msg_t) -> c_int;
    pub fn zmq_msg_init_size(msg: *mut zmq_msg_t, size: size_t) -> c_int;
    pub fn zmq_msg_init_data(
        msg: *mut zmq_msg_t,
        data: *mut c_void,
        size: size_t,
        ffn: zmq_free_fn,
        hint: *mut c_void,
    ) -> c_int;
    pub fn zmq_msg_send(msg: *mut zmq_msg_t, s: *mut c_void, flags: c_int) -> c_int;
    pub fn zmq_msg_recv(msg: *mut zmq_msg_t, s: *mut c_void, flags: c_int) -> c_int;
    pub fn zmq_msg_close(msg: *mut zmq_msg_t) -> c_int;
    pub fn zmq_msg_move(dest: *mut zmq_msg_t, src: *mut zmq_msg_t) -> c_int;
    pub fn zmq_msg_copy(dest: *mut zmq_msg_t, src: *mut zmq_msg_t) -> c_int;
    pub fn zmq_msg_data(msg: *mut zmq_msg_t) -> *mut c_void;
    pub fn zmq_msg_size(msg: *const zmq_msg_t) -> size_t;
    pub fn zmq_msg_more(msg: *const zmq_msg_t) -> c_int;
    pub fn zmq_msg_get(msg: *const zmq_msg_t, property: c_int) -> c_int;
    pub fn zmq_msg_set(msg: *mut zmq_msg_t, property: c_int, optval: c_int) -> c_int;
    pub fn zmq_msg_gets(msg: *const zmq_msg_t, property: *const c_char) -> *const c_char;

    pub fn zmq_close(s: *mut c_void) -> c_int;
    pub fn zmq_setsockopt(s: *mut c_void, option: c_int, optval: *const c_void, optvallen: size_t) -> c_int;
    pub fn zmq_getsockopt(
        s: *mut c_void,
        option: c_int,
        optval: *mut c_void,
        optvallen: *mut size_t,
    ) -> c_int;
    pub fn zmq_bind(s: *mut c_void, addr: *const c_char) -> c_int;
    pub fn zmq_connect(s: *mut c_void, addr: *const c_char) -> c_int;
    pub fn zmq_unbind(s: *mut c_void, addr: *const c_char) -> c_int;
    pub fn zmq_disconnect(s: *mut c_void, addr: *const c_char) -> c_int;
    pub fn zmq_send(s: *mut c_void, buf: *const c_void, len: size_t, flags: c_int) -> c_int;
    pub fn zmq_send_const(s: *mut c_void, buf: *const c_void, len: size_t, flags: c_int) -> c_int;
    pub fn zmq_recv(s: *mut c_void, buf: *mut c_void, len: size_t, flags: c_int) -> c_int;
    pub fn zmq_socket_monitor(s: *mut c_void, addr: *const c_char, events: c_int) -> c_int;

    pub fn zmq_poll(items: *mut zmq_pollitem_t, nitems: c_int, timeout: c_long) -> c_int;

    pub fn zmq_proxy(frontend: *mut c_void, backend: *mut c_void, capture: *mut c_void) -> c_int;
    pub fn zmq_proxy_steerable(
        frontend: *mut c_void,
        backend: *mut c_void,
        capture: *mut c_void,
        control: *mut c_void,
    ) -> c_int;

    pub fn zmq_has(capability: *const c_char) -> c_int;

    // Deprecated, still in the stable ABI.
    pub fn zmq_device(type_: c_int, frontend: *mut c_void, backend: *mut c_void) -> c_int;
    pub fn zmq_sendmsg(s: *mut c_void, msg: *mut zmq_msg_t, flags: c_int) -> c_int;
    pub fn zmq_recvmsg(s: *mut c_void, msg: *mut zmq_msg_t, flags: c_int) -> c_int;
    pub fn zmq_sendiov(s: *mut c_void, iov: *mut iovec, count: size_t, flags: c_int) -> c_int;
    pub fn zmq_recviov(s: *mut c_void, iov: *mut iovec, count: *mut size_t, flags: c_int) -> c_int;

    pub fn zmq_z85_encode(dest: *mut c_char, data: *const u8, size: size_t) -> *mut c_char;
    pub fn zmq_z85_decode(dest: *mut u8, string: *const c_char) -> *mut u8;
    pub fn zmq_curve_keypair(z85_public_key: *mut c_char, z85_secret_key: *mut c_char) -> c_int;
    pub fn zmq_curve_public(z85_public_key: *mut c_char, z85_secret_key: *const c_char) -> c_int;

    pub fn zmq_atomic_counter_new() -> *mut c_void;
    pub fn zmq_atomic_counter_set(counter: *mut c_void, value: c_int);
    pub fn zmq_atomic_counter_inc(counter: *mut c_void) -> c_int;
    pub fn zmq_atomic_counter_dec(counter: *mut c_void) -> c_int;
    pub fn zmq_atomic_counter_value(counter: *mut c_void) -> c_int;
    pub fn zmq_atomic_counter_destroy(counter_p: *mut *mut c_void);

    pub fn zmq_timers_new() -> *mut c_void;
    pub fn zmq_timers_destroy(timers_p: *mut *mut c_void) -> c_int;
    pub fn zmq_timers_add(
        timers: *mut c_void,
        interval: size_t,
        handler: zmq_timer_fn,
        arg: *mut c_void,
    ) -> c_int;
    pub fn zmq_timers_cancel(timers: *mut c_void, timer_id: c_int) -> c_int;
    pub fn zmq_timers_set_interval(timers: *mut c_void, timer_id: c_int, interval: size_t) -> c_int;
    pub fn zmq_timers_reset(timers: *mut c_void, timer_id: c_int) -> c_int;
    pub fn zmq_timers_timeout(timers: *mut c_void) -> c_long;
    pub fn zmq_timers_execute(timers: *mut c_void) -> c_int;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_zmq_h() {
        assert_eq!(std::mem::size_of::<zmq_msg_t>(), 64);
        assert_eq!(std::mem::align_of::<zmq_msg_t>(), std::mem::align_of::<*const c_void>());
        // void *socket; int fd; short events; short revents;
        assert_eq!(std::mem::size_of::<zmq_pollitem_t>(), std::mem::size_of::<*const c_void>() + 8);
    }

    #[test]
    fn the_library_is_4_3_4_with_curve() {
        let (mut major, mut minor, mut patch) = (0, 0, 0);
        // SAFETY: three valid, writable `c_int`s, which zmq_version only writes.
        unsafe { zmq_version(&mut major, &mut minor, &mut patch) };
        assert_eq!((major, minor, patch), (4, 3, 4));
        // SAFETY: a NUL-terminated string literal that outlives the call.
        assert_eq!(unsafe { zmq_has(c"curve".as_ptr()) }, 1, "libzmq was built with libsodium");
        // SAFETY: zmq_ctx_get checks its context and fails with EFAULT on a null one.
        assert_eq!(unsafe { zmq_ctx_get(std::ptr::null_mut(), ZMQ_IO_THREADS as c_int) }, -1);
        // SAFETY: zmq_errno only reads this thread's errno.
        assert_eq!(unsafe { zmq_errno() }, errno::EFAULT);
    }

    #[test]
    fn contexts_get_the_raised_cap() {
        // SAFETY: every context and socket is checked non-null before use, used only on
        // this thread, and each socket is closed before its context is terminated.
        unsafe {
            let ctx = zmq_ctx_new();
            assert!(!ctx.is_null());
            assert_eq!(zmq_ctx_get(ctx, ZMQ_MAX_SOCKETS as c_int), ext::DEFAULT_MAX_SOCKETS);
            let s = zmq_socket(ctx, ZMQ_PAIR as c_int);
            assert!(!s.is_null());
            assert_eq!(ext::last_context_max_sockets(), Some(ext::DEFAULT_MAX_SOCKETS));
            assert_eq!(zmq_close(s), 0);
            assert_eq!(zmq_ctx_term(ctx), 0);

            let ctx = ext::with_max_sockets(2, || zmq_ctx_new());
            assert_eq!(zmq_ctx_get(ctx, ZMQ_MAX_SOCKETS as c_int), 2);
            let a = zmq_socket(ctx, ZMQ_PAIR as c_int);
            let b = zmq_socket(ctx, ZMQ_PAIR as c_int);
            assert!(!a.is_null() && !b.is_null());
            assert!(zmq_socket(ctx, ZMQ_PAIR as c_int).is_null(), "a third socket exceeds the cap of 2");
            assert_eq!(zmq_errno(), errno::EMFILE);
            assert_eq!(ext::last_context_max_sockets(), Some(2));
            assert_eq!(zmq_close(a), 0);
            assert_eq!(zmq_close(b), 0);
            assert_eq!(zmq_ctx_term(ctx), 0);
        }
    }
}
