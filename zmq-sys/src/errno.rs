//! The error numbers libzmq reports through [`zmq_errno`](crate::zmq_errno): the
//! system's errno values (on Unix every one `zmq.h` needs exists), and libzmq's own,
//! counted from `ZMQ_HAUSNUMERO`.

use libc::c_int;

const HAUSNUMERO: c_int = crate::ZMQ_HAUSNUMERO as c_int;

pub const EACCES: c_int = libc::EACCES;
pub const EADDRINUSE: c_int = libc::EADDRINUSE;
pub const EAGAIN: c_int = libc::EAGAIN;
pub const EBUSY: c_int = libc::EBUSY;
pub const ECONNREFUSED: c_int = libc::ECONNREFUSED;
pub const EFAULT: c_int = libc::EFAULT;
pub const EINTR: c_int = libc::EINTR;
pub const EHOSTUNREACH: c_int = libc::EHOSTUNREACH;
pub const EINPROGRESS: c_int = libc::EINPROGRESS;
pub const EINVAL: c_int = libc::EINVAL;
/// Too many open files: the process's fd limit, or a context's `ZMQ_MAX_SOCKETS`.
pub const EMFILE: c_int = libc::EMFILE;
pub const EMSGSIZE: c_int = libc::EMSGSIZE;
pub const ENAMETOOLONG: c_int = libc::ENAMETOOLONG;
pub const ENODEV: c_int = libc::ENODEV;
pub const ENOENT: c_int = libc::ENOENT;
pub const ENOMEM: c_int = libc::ENOMEM;
pub const ENOTCONN: c_int = libc::ENOTCONN;
pub const ENOTSOCK: c_int = libc::ENOTSOCK;
pub const EPROTO: c_int = libc::EPROTO;
pub const EPROTONOSUPPORT: c_int = libc::EPROTONOSUPPORT;
pub const ENOTSUP: c_int = libc::ENOTSUP;
pub const ENOBUFS: c_int = libc::ENOBUFS;
pub const ENETDOWN: c_int = libc::ENETDOWN;
pub const EADDRNOTAVAIL: c_int = libc::EADDRNOTAVAIL;
pub const EAFNOSUPPORT: c_int = libc::EAFNOSUPPORT;
pub const ENETUNREACH: c_int = libc::ENETUNREACH;
pub const ECONNABORTED: c_int = libc::ECONNABORTED;
pub const ECONNRESET: c_int = libc::ECONNRESET;
pub const ETIMEDOUT: c_int = libc::ETIMEDOUT;
pub const ENETRESET: c_int = libc::ENETRESET;

// libzmq's own error codes.
/// The operation is not valid in the socket's current state.
pub const EFSM: c_int = HAUSNUMERO + 51;
/// The protocol is not compatible with the socket type.
pub const ENOCOMPATPROTO: c_int = HAUSNUMERO + 52;
/// The context was terminated.
pub const ETERM: c_int = HAUSNUMERO + 53;
/// No I/O thread is available.
pub const EMTHREAD: c_int = HAUSNUMERO + 54;

// What `zmq.h` defines where the platform lacks an errno (not on Unix, but a peer
// library built elsewhere could report them, and the `zmq` crate maps them).
pub const ENOTSUP_ALT: c_int = HAUSNUMERO + 1;
pub const EPROTONOSUPPORT_ALT: c_int = HAUSNUMERO + 2;
pub const ENOBUFS_ALT: c_int = HAUSNUMERO + 3;
pub const ENETDOWN_ALT: c_int = HAUSNUMERO + 4;
pub const EADDRINUSE_ALT: c_int = HAUSNUMERO + 5;
pub const EADDRNOTAVAIL_ALT: c_int = HAUSNUMERO + 6;
pub const ECONNREFUSED_ALT: c_int = HAUSNUMERO + 7;
pub const EINPROGRESS_ALT: c_int = HAUSNUMERO + 8;
pub const ENOTSOCK_ALT: c_int = HAUSNUMERO + 9;
pub const EMSGSIZE_ALT: c_int = HAUSNUMERO + 10;
pub const EAFNOSUPPORT_ALT: c_int = HAUSNUMERO + 11;
pub const ENETUNREACH_ALT: c_int = HAUSNUMERO + 12;
pub const ECONNABORTED_ALT: c_int = HAUSNUMERO + 13;
pub const ECONNRESET_ALT: c_int = HAUSNUMERO + 14;
pub const ENOTCONN_ALT: c_int = HAUSNUMERO + 15;
pub const ETIMEDOUT_ALT: c_int = HAUSNUMERO + 16;
pub const EHOSTUNREACH_ALT: c_int = HAUSNUMERO + 17;
pub const ENETRESET_ALT: c_int = HAUSNUMERO + 18;
