//! What this crate adds to `zmq.h`: the socket cap its contexts get, and a way to
//! learn a context's cap from code that holds only a `zmq::Context` (which exposes no
//! raw pointer and no `ZMQ_MAX_SOCKETS` setter).
//!
//! # Why contexts get a larger cap
//!
//! libzmq lets a context hold at most `ZMQ_MAX_SOCKETS` sockets (1023 by default) and
//! reads that option only when the context opens its first socket, so it must be set
//! right after `zmq_ctx_new`: the only place that sees every context the `zmq` crate
//! makes is this crate's [`zmq_ctx_new`](crate::zmq_ctx_new), which sets
//! [`DEFAULT_MAX_SOCKETS`]. With it, the process's open-file limit (`RLIMIT_NOFILE`;
//! every libzmq socket holds one eventfd) is what bounds the number of sockets, not the
//! context.
//!
//! The cost: when a context opens its first socket, libzmq allocates one mailbox
//! pointer (8 bytes) and one free-slot index (4 bytes) per allowed socket, so about
//! 12 bytes × cap: 768 KiB for each context that has sockets (12 KiB with libzmq's
//! 1023), freed when the context ends. Measured in `tests/cap.rs` of this crate.

use std::cell::Cell;

use libc::{c_int, c_void};

/// `ZMQ_MAX_SOCKETS` of every context [`zmq_ctx_new`](crate::zmq_ctx_new) creates:
/// 65535, the largest number libzmq reports it supports (`ZMQ_SOCKET_LIMIT` on an
/// epoll build), against its default of 1023.
pub const DEFAULT_MAX_SOCKETS: c_int = 65535;

thread_local! {
    static NEXT_CAP: Cell<Option<c_int>> = const { Cell::new(None) };
    static LAST_CAP: Cell<Option<c_int>> = const { Cell::new(None) };
}

/// Runs `f` with [`zmq_ctx_new`](crate::zmq_ctx_new) (and so `zmq::Context::new()`)
/// on this thread creating contexts capped at `max_sockets` sockets instead of
/// [`DEFAULT_MAX_SOCKETS`]. Other threads are not affected.
///
/// # Panics
/// When `max_sockets` is below 1 (libzmq would refuse it).
pub fn with_max_sockets<R>(max_sockets: c_int, f: impl FnOnce() -> R) -> R {
    assert!(max_sockets >= 1, "ZMQ_MAX_SOCKETS must be at least 1, not {max_sockets}");
    struct Restore(Option<c_int>);
    impl Drop for Restore {
        fn drop(&mut self) {
            NEXT_CAP.with(|c| c.set(self.0));
        }
    }
    let _restore = Restore(NEXT_CAP.with(|c| c.replace(Some(max_sockets))));
    f()
}

pub(crate) fn max_sockets_for_new_context() -> c_int {
    NEXT_CAP.with(|c| c.get()).unwrap_or(DEFAULT_MAX_SOCKETS)
}

/// Records the cap of the context a socket is being created on.
pub(crate) unsafe fn note_context(context: *mut c_void) {
    let cap = if context.is_null() {
        None
    } else {
        // A context that is not one makes this fail (EFAULT) like the zmq_socket after it.
        Some(crate::zmq_ctx_get(context, crate::ZMQ_MAX_SOCKETS as c_int)).filter(|&c| c >= 1)
    };
    LAST_CAP.with(|c| c.set(cap));
}

/// `ZMQ_MAX_SOCKETS` of the context that [`zmq_socket`](crate::zmq_socket) was last
/// called on from this thread (`zmq::Context::socket` calls it), read just before that
/// call; `None` before any call. Right after a socket creation failed with `EMFILE`,
/// this is the cap that may have been reached.
pub fn last_context_max_sockets() -> Option<c_int> {
    LAST_CAP.with(|c| c.get())
}
