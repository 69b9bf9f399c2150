//! What a send, receive or decode did, counted for [`Core::stats`] and logged (see
//! `events.rs`), for the blocking and the async paths alike.

use super::super::error::{Error, Operation, Result};
use super::super::events::Source;
use super::super::stats::SocketStats;
use super::Core;

impl Core {
    /// Counts what a send of `len` bytes did, blocking or async; a timeout also reads
    /// the monitor (the peers may be gone), and a lossless publish's is logged.
    #[inline]
    pub(crate) fn sent(&mut self, len: usize, sent: Result<()>) -> Result<()> {
        match sent {
            Ok(()) => {
                self.counters.sent(len);
                Ok(())
            }
            Err(e) => Err(self.send_failed(e)),
        }
    }

    #[cold]
    #[inline(never)]
    fn send_failed(&mut self, e: Error) -> Error {
        if let Error::Timeout { op, after } = e {
            if !after.is_zero() {
                self.counters.timeout();
                if op == Operation::Publish {
                    self.log(|s| s.publish_timed_out(after));
                }
            }
            self.monitor.drain();
        }
        e
    }

    /// Counts what a receive did, blocking or async (a publisher's subscription
    /// messages are not user messages), and checks that the frame is a single part.
    /// Its bytes are counted when the frame is handed out ([`Core::received_frame`]).
    #[inline]
    pub(crate) fn received(&mut self, received: Result<()>) -> Result<()> {
        match received {
            Ok(()) => {
                // A sending socket receives only a publisher's subscription messages.
                if !self.sends {
                    self.counters.received();
                }
                if self.frame.get_more() {
                    return Err(self.read_multipart());
                }
                Ok(())
            }
            Err(e) => Err(self.receive_failed(e)),
        }
    }

    #[cold]
    #[inline(never)]
    fn receive_failed(&mut self, e: Error) -> Error {
        if let Error::Timeout { op, after } = e {
            if !after.is_zero() && op != Operation::WaitSubscribers {
                self.counters.timeout();
            }
            self.monitor.drain();
        }
        e
    }

    /// The frame just received, for a decode or a raw receive, its bytes counted:
    /// the slice is in hand here, where reading the length costs nothing (libzmq's
    /// `zmq_msg_size` and `zmq_msg_data` are two calls).
    #[inline]
    pub(crate) fn received_frame(&mut self) -> &[u8] {
        let frame: &[u8] = &self.frame;
        self.counters.received_bytes(frame.len());
        frame
    }

    /// A decode's outcome, counting and logging a frame that did not decode as the
    /// Rust type `expected`.
    #[inline]
    pub(crate) fn decoded<T>(&mut self, expected: &str, decoded: Result<T, crate::DecodeError>) -> Result<T> {
        match decoded {
            Ok(v) => Ok(v),
            Err(e) => Err(self.decode_failed(expected, e)),
        }
    }

    #[cold]
    #[inline(never)]
    fn decode_failed(&mut self, expected: &str, e: crate::DecodeError) -> Error {
        self.counters.decode_error();
        self.log(|s| s.decode_error(expected, &e));
        Error::Decode(e)
    }

    /// Emits a log event of this socket (see `events.rs`).
    pub(super) fn log(&self, event: impl FnOnce(&Source)) {
        if let Some(source) = &self.monitor.source {
            event(source);
        }
    }

    /// The counters now, the monitor's connection counters read first.
    pub(crate) fn stats(&mut self) -> SocketStats {
        let peers = self.peer_count();
        let m = &self.monitor;
        self.counters.snapshot(m.handshakes, m.disconnects, m.handshake_failures, peers)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use crate::socket::{Error, Operation, Subscriber};

    /// A real libzmq failure, through the code every send goes through: a SUB socket
    /// cannot send, and libzmq says so with ENOTSUP (the public API never sends on one).
    #[test]
    fn a_libzmq_failure_names_the_operation_and_the_endpoints() {
        let first = "tcp://127.0.0.1:5599";
        let second = "inproc://outcome-zmq-error";
        let mut sub = Subscriber::builder()
            .connect(first)
            .unwrap()
            .connect(second)
            .unwrap()
            .subscribe("t")
            .build()
            .unwrap();
        sub.core.buf_mut().extend_from_slice(b"t {}");
        let e = sub.core.send_buf(Operation::Publish, Some(Duration::from_millis(10))).unwrap_err();
        let joined = format!("{first}, {second}");
        assert!(
            matches!(&e, Error::Zmq { op: Operation::Publish, endpoint, source: zmq::Error::ENOTSUP } if *endpoint == joined),
            "{e:?}"
        );
        assert_eq!(e.to_string(), format!("publish on {joined} failed: {}", zmq::Error::ENOTSUP));
        // Before any endpoint (socket setup), the message names none.
        let setup = Error::zmq(Operation::Setup, &[], zmq::Error::EINVAL);
        assert_eq!(setup.to_string(), format!("socket setup failed: {}", zmq::Error::EINVAL));
    }
}
