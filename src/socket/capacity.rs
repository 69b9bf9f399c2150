//! Running out of sockets, and which limit it was.
//!
//! Each library socket takes three libzmq sockets from its context (itself, and the
//! pair that monitors its connections) and three file descriptors (one eventfd each),
//! plus one per TCP or IPC connection. Two limits can stop a new one, and libzmq
//! reports both as `EMFILE` ("Too many open files"):
//! - the context's socket cap, `ZMQ_MAX_SOCKETS`: contexts made by
//!   `zmq::Context::new()` (the [`global_context`](super::global_context) among them)
//!   allow [`MAX_SOCKETS_PER_CONTEXT`] (65535, so 21845 library sockets) instead of
//!   libzmq's 1023; it is set where every context is made, in the workspace's zmq-sys
//!   (`zmq-sys/src/ext.rs`, which also says what it costs);
//! - the process's open-file limit, `RLIMIT_NOFILE` (often 1024 soft): raise it
//!   (`ulimit -n`, or `setrlimit` at start-up) to open thousands of sockets.
//!
//! Socket setup tells them apart, reporting [`Error::SocketLimit`] or
//! [`Error::FdLimit`] with the limit's value.

use std::os::raw::c_int;

use super::error::{Error, Operation};

/// The socket cap (`ZMQ_MAX_SOCKETS`) of every context made by `zmq::Context::new()`,
/// the shared [`global_context`](super::global_context) included: libzmq sockets,
/// three per library socket.
pub const MAX_SOCKETS_PER_CONTEXT: i32 = zmq_sys::ext::DEFAULT_MAX_SOCKETS;

/// A new context whose socket cap is `max_sockets` libzmq sockets (three per library
/// socket) instead of [`MAX_SOCKETS_PER_CONTEXT`]; give it to a builder with
/// `.context(..)`.
///
/// # Panics
/// When `max_sockets` is below 1.
///
/// # Example
/// ```
/// use experimance_common::socket::{context_with_max_sockets, Error, PullSocket};
///
/// let ctx = context_with_max_sockets(3); // room for one library socket
/// let _one = PullSocket::builder().context(ctx.clone()).bind("inproc://cap-example")?.build()?;
/// let two = PullSocket::builder().context(ctx).bind("inproc://cap-example-2")?.build();
/// assert!(matches!(two, Err(Error::SocketLimit { max_sockets: 3, .. })));
/// # Ok::<(), Error>(())
/// ```
pub fn context_with_max_sockets(max_sockets: i32) -> zmq::Context {
    zmq_sys::ext::with_max_sockets(max_sockets, zmq::Context::new)
}

/// Free file descriptors below which an `EMFILE` is blamed on the process's limit: a
/// new libzmq socket needs one (its mailbox's eventfd); a context's first socket about
/// six (the mailboxes and pollers of its reaper and I/O thread).
const FD_HEADROOM: usize = 8;

/// The error for a failed socket setup step (`zmq::Context::socket`,
/// `zmq::Socket::monitor`): [`Error::SocketLimit`] or [`Error::FdLimit`] for `EMFILE`.
pub(crate) fn setup_error(e: zmq::Error) -> Error {
    let op = Operation::Setup;
    if e != zmq::Error::EMFILE {
        return Error::zmq(op, &[], e);
    }
    if fds_nearly_exhausted() {
        Error::FdLimit { op, limit: open_file_limit() }
    } else {
        let cap = zmq_sys::ext::last_context_max_sockets().unwrap_or(MAX_SOCKETS_PER_CONTEXT);
        Error::SocketLimit { op, max_sockets: usize::try_from(cap).unwrap_or(0) }
    }
}

/// Whether fewer than [`FD_HEADROOM`] file descriptors can still be opened, by trying.
fn fds_nearly_exhausted() -> bool {
    let mut held = Vec::with_capacity(FD_HEADROOM);
    for _ in 0..FD_HEADROOM {
        match std::fs::File::open("/dev/null") {
            Ok(f) => held.push(f),
            Err(e) => return matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE)),
        }
    }
    false
}

/// The process's soft `RLIMIT_NOFILE`, if it has one.
#[allow(clippy::unnecessary_cast)] // rlim_t is u64 on Linux, not on every Unix
fn open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: a valid resource and a pointer to a live rlimit.
    let rc: c_int = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    (rc == 0 && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur as u64)
}
