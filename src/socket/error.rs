//! The socket layer's error type.

use std::fmt;
use std::time::Duration;

use super::endpoint::EndpointError;
use crate::{DecodeError, EncodeError};

/// The operation that failed, as named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// Publishing on a [`Publisher`](super::Publisher).
    Publish,
    /// Receiving on a [`Subscriber`](super::Subscriber).
    Receive,
    /// Pushing on a [`PushSocket`](super::PushSocket).
    Push,
    /// Pulling on a [`PullSocket`](super::PullSocket).
    Pull,
    /// Waiting for a connection.
    WaitConnected,
    /// Waiting for subscribers.
    WaitSubscribers,
    /// Creating a socket or setting an option.
    Setup,
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Operation::Publish => "publish",
            Operation::Receive => "receive",
            Operation::Push => "push",
            Operation::Pull => "pull",
            Operation::WaitConnected => "wait for a connection",
            Operation::WaitSubscribers => "wait for subscribers",
            Operation::Setup => "socket setup",
        })
    }
}

/// Everything that can go wrong on a socket. Python's `ZmqTimeoutError` is
/// [`Error::Timeout`]; a frame that does not decode is [`Error::Decode`] and carries the
/// frame's bytes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Nothing happened within the timeout (Python's `ZmqTimeoutError`).
    #[error("{op} timed out after {after:?}")]
    Timeout {
        /// What timed out.
        op: Operation,
        /// The timeout that passed.
        after: Duration,
    },
    /// A received frame did not decode; it is inside, and the socket is still usable.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A message could not be encoded; nothing was sent.
    #[error(transparent)]
    Encode(#[from] EncodeError),
    /// An endpoint is malformed.
    #[error(transparent)]
    Endpoint(#[from] EndpointError),
    /// Binding failed (for example, the address is in use).
    #[error("cannot bind {endpoint}: {source}")]
    Bind {
        /// The endpoint.
        endpoint: String,
        /// libzmq's reason.
        source: zmq::Error,
    },
    /// Connecting failed.
    #[error("cannot connect to {endpoint}: {source}")]
    Connect {
        /// The endpoint.
        endpoint: String,
        /// libzmq's reason.
        source: zmq::Error,
    },
    /// A socket option was refused.
    #[error("cannot set socket option {option}: {source}")]
    SetOption {
        /// The option's libzmq name.
        option: &'static str,
        /// libzmq's reason.
        source: zmq::Error,
    },
    /// A signal interrupted a blocking call (for example Ctrl-C); retry or shut down.
    #[error("{op} was interrupted by a signal")]
    Interrupted {
        /// What was interrupted.
        op: Operation,
    },
    /// The ZeroMQ context was terminated; the socket can no longer be used.
    #[error("{op} failed: the ZeroMQ context was terminated")]
    ContextTerminated {
        /// What failed.
        op: Operation,
    },
    /// Closing gave up before every queued message was delivered (the linger passed).
    #[error("close gave up after the linger of {linger:?}; messages still queued were dropped")]
    LingerExpired {
        /// The linger that passed.
        linger: Duration,
    },
    /// The ZeroMQ context holds as many sockets as its cap allows (`ZMQ_MAX_SOCKETS`);
    /// each library socket takes three. See [`MAX_SOCKETS_PER_CONTEXT`](super::MAX_SOCKETS_PER_CONTEXT).
    #[error(
        "{op} failed: the ZeroMQ context's socket cap is reached (ZMQ_MAX_SOCKETS = {max_sockets}, \
         3 per library socket); close sockets or use a context with a larger cap"
    )]
    SocketLimit {
        /// What failed.
        op: Operation,
        /// The context's cap, in libzmq sockets.
        max_sockets: usize,
    },
    /// The process has as many files open as it may (`RLIMIT_NOFILE`); each library
    /// socket holds three, plus one per TCP or IPC connection.
    #[error(
        "{op} failed: the process's open-file limit is reached (RLIMIT_NOFILE = {}, \
         3 per library socket); raise it (ulimit -n) or close sockets",
        limit.map_or_else(|| "unlimited".to_owned(), |l| l.to_string())
    )]
    FdLimit {
        /// What failed.
        op: Operation,
        /// The soft limit when the error was reported (`None`: unlimited).
        limit: Option<u64>,
    },
    /// The peer refused this socket during the handshake: its ZAP handler said no
    /// (a CURVE key not on its allowlist, a wrong PLAIN password, a denied address).
    #[error(
        "the peer refused the connection (ZAP status {status}): check this socket's keys or credentials"
    )]
    AuthFailed {
        /// The ZAP status code the peer gave (400: refused, 500: its handler failed).
        status: u32,
    },
    /// Any other libzmq failure: `push on tcp://127.0.0.1:5555 failed: ...`.
    #[error("{op}{} failed: {source}", on(endpoint))]
    Zmq {
        /// What failed.
        op: Operation,
        /// The socket's endpoints, joined with `", "` (empty before any bind or connect).
        endpoint: String,
        /// libzmq's reason.
        source: zmq::Error,
    },
    /// The async API could not register the socket with the tokio runtime (for example
    /// when called outside a runtime).
    #[cfg(feature = "tokio")]
    #[error("{op}: cannot use the socket with the tokio runtime: {source}")]
    Runtime {
        /// What failed.
        op: Operation,
        /// The reason.
        source: std::io::Error,
    },
}

impl Error {
    /// Whether this is a timeout (Python's `ZmqTimeoutError`).
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. })
    }

    /// The frame that failed to decode, if this is a decode error.
    pub fn raw_frame(&self) -> Option<&[u8]> {
        match self {
            Error::Decode(e) => Some(e.raw()),
            _ => None,
        }
    }

    /// The error for libzmq's `e` in `op` on a socket with `endpoints` (none yet
    /// during setup).
    pub(crate) fn zmq(op: Operation, endpoints: &[String], e: zmq::Error) -> Error {
        match e {
            zmq::Error::EINTR => Error::Interrupted { op },
            zmq::Error::ETERM => Error::ContextTerminated { op },
            source => Error::Zmq { op, endpoint: endpoints.join(", "), source },
        }
    }
}

/// ` on <endpoint>` for an error's message, or nothing without an endpoint.
fn on(endpoint: &str) -> String {
    if endpoint.is_empty() {
        String::new()
    } else {
        format!(" on {endpoint}")
    }
}

/// `Result<T, Error>`.
pub type Result<T, E = Error> = std::result::Result<T, E>;
