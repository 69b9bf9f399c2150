//! What the four socket types share: setup from a builder, bounded send and receive
//! with a reused buffer and frame. Beside it: `core/outcome.rs` (what a send, receive
//! or decode did, counted for `stats()` and logged), `core/peers.rs` (connection waits),
//! `core/close.rs` (the close protocol); the monitor is in `monitor.rs`, log events in
//! `events.rs`, raw libzmq calls in `ffi.rs`, options in `options/`, the tokio side in
//! `asyncio.rs`.

use std::mem::ManuallyDrop;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::builder::{Kind, Parts};
use super::endpoint::{connectable, Endpoint, Role, Transport};
use super::error::{Error, Operation, Result};
use super::events::Source;
use super::ffi;
use super::monitor::Monitor;
use super::options::{millis, set, SocketOptions};
use super::stats::Counters;

mod close;
mod outcome;
mod peers;

/// The ZeroMQ context shared by every socket that was not given one: one I/O thread for
/// the process, and `inproc://` works between all its sockets.
///
/// # Example
/// ```
/// let ctx = experimance_common::socket::global_context();
/// assert!(ctx.get_io_threads().unwrap() >= 1);
/// ```
pub fn global_context() -> zmq::Context {
    static CONTEXT: OnceLock<zmq::Context> = OnceLock::new();
    CONTEXT.get_or_init(zmq::Context::new).clone()
}

/// A received frame larger than this is released as soon as it has been decoded: libzmq
/// allocates every large frame anew, so keeping it buys nothing, and one hostile or huge
/// message would otherwise stay resident until the next one arrives.
const RELEASE_FRAME_ABOVE: usize = 64 * 1024;

/// The largest send buffer kept between sends (4 MiB): big enough for the bus's largest
/// messages (about 1 MB images), so only an unusually large one costs an allocation.
const KEEP_SEND_BUFFER: usize = 4 * 1024 * 1024;

/// The transports of a socket's endpoints, computed once from its [`Endpoint`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Transports {
    /// How many endpoints are `inproc://`.
    inproc: usize,
    /// How many are tcp or ipc.
    network: usize,
}

impl Transports {
    fn of(endpoints: &[Endpoint]) -> Transports {
        let inproc = endpoints.iter().filter(|e| e.transport() == Transport::Inproc).count();
        Transports { inproc, network: endpoints.len() - inproc }
    }

    fn any_inproc(self) -> bool {
        self.inproc > 0
    }

    fn only_inproc(self) -> bool {
        self.inproc > 0 && self.network == 0
    }
}

/// A live libzmq socket with its monitor, options and reused buffers.
pub(crate) struct Core {
    /// Sockets are `Send` but not `Sync` (a libzmq socket is used from one thread at a
    /// time); this marker says so in the compiler's words, whatever the fields below.
    _not_sync: std::marker::PhantomData<std::cell::Cell<()>>,
    // ManuallyDrop: `finish` closes it first, then waits on the monitor.
    socket: ManuallyDrop<zmq::Socket>,
    monitor: Monitor,
    options: SocketOptions,
    endpoints: Vec<String>,
    transports: Transports,
    /// Whether every endpoint connects: an authentication failure is then this
    /// socket being refused (for a binding socket, it is a peer it refused).
    connects: bool,
    /// Whether the socket sends user messages (a linger matters only then).
    sends: bool,
    framing: crate::Framing,
    /// The frame receives go into (libzmq reuses it).
    frame: zmq::Message,
    /// The buffer sends are encoded into.
    buf: Vec<u8>,
    applied_send_timeout: i32,
    applied_receive_timeout: i32,
    /// What `stats()` reports besides the monitor's connection counters.
    counters: Counters,
    closed: bool,
    // Keeps a caller-provided context alive as long as the socket.
    context: zmq::Context,
}

impl Core {
    pub(crate) fn open(kind: Kind, parts: &Parts) -> Result<Core> {
        let context = parts.context.clone().unwrap_or_else(global_context);
        let mut socket = context.socket(kind.zmq).map_err(super::capacity::setup_error)?;
        let o = &parts.options;
        o.apply(&mut socket, &kind)?;
        if kind.zmq == zmq::XPUB {
            // Pass every (un)subscription up, so subscribers can be counted.
            ffi::set_raw_int(&mut socket, "ZMQ_XPUB_VERBOSER", zmq_sys::ZMQ_XPUB_VERBOSER, 1)?;
        }
        for topic in &parts.topics {
            set("ZMQ_SUBSCRIBE", socket.set_subscribe(topic))?;
        }
        let mut monitor = Monitor::start(&context, &socket)?;
        let connects = parts.endpoints.iter().all(|e| e.role() == Role::Connect);
        let endpoints = match attach(&socket, &parts.endpoints) {
            Ok(endpoints) => endpoints,
            Err(e) => {
                // Stop the monitor while the socket is alive, so libzmq never has an
                // event to send to a reader that is gone (see `impl Drop for Monitor`).
                monitor.stop(&mut socket);
                return Err(e);
            }
        };
        let source = Source::new(kind.name, connects, &endpoints);
        for (attached, e) in endpoints.iter().zip(&parts.endpoints) {
            source.attached(attached, e.role() == Role::Bind);
        }
        monitor.source = Some(source);
        Ok(Core {
            _not_sync: std::marker::PhantomData,
            socket: ManuallyDrop::new(socket),
            monitor,
            sends: kind.sends,
            framing: kind.framing,
            transports: Transports::of(&parts.endpoints),
            connects,
            applied_send_timeout: millis(o.send_timeout),
            applied_receive_timeout: millis(o.receive_timeout),
            options: o.clone(),
            endpoints,
            frame: zmq::Message::new(),
            buf: Vec::with_capacity(256),
            counters: Counters::default(),
            closed: false,
            context,
        })
    }

    pub(crate) fn socket(&self) -> &zmq::Socket {
        &self.socket
    }

    /// The options it was built with.
    #[cfg(any(feature = "tokio", test))]
    pub(crate) fn options(&self) -> &SocketOptions {
        &self.options
    }

    /// The last frame received.
    pub(crate) fn frame(&self) -> &zmq::Message {
        &self.frame
    }

    /// The buffer the next send is encoded into.
    pub(crate) fn buf_mut(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// The length of the frame the next send sends.
    #[cfg(feature = "tokio")]
    pub(crate) fn buf_len(&self) -> usize {
        self.buf.len()
    }

    #[cfg(test)]
    pub(crate) fn socket_mut(&mut self) -> &mut zmq::Socket {
        &mut self.socket
    }

    #[cfg(feature = "tokio")]
    /// One non-blocking receive into `self.frame`.
    pub(crate) fn recv_nowait(&mut self) -> zmq::Result<()> {
        self.socket.recv(&mut self.frame, zmq::DONTWAIT)
    }

    #[cfg(feature = "tokio")]
    /// One non-blocking send of `self.buf`.
    pub(crate) fn send_nowait(&mut self) -> zmq::Result<()> {
        self.before_send();
        self.socket.send(&self.buf[..], zmq::DONTWAIT)
    }

    /// libzmq looks at a socket's pending commands at most once a millisecond when it
    /// sends, so an inproc socket would write into the queue of a peer that was closed
    /// a moment ago (and lose the message, where tcp would time out). Reading
    /// `ZMQ_EVENTS` processes them now. Inproc sockets only: over tcp and ipc a closed
    /// peer is noticed by the I/O thread.
    fn before_send(&mut self) {
        if self.transports.any_inproc() {
            let _ = self.socket.get_events();
        }
    }

    /// Releases what one big message left behind: the received frame once it has been
    /// decoded, and a send buffer grown past [`KEEP_SEND_BUFFER`].
    pub(crate) fn release_large_buffers(&mut self) {
        if self.frame.len() > RELEASE_FRAME_ABOVE {
            self.frame = zmq::Message::new();
        }
        if self.buf.capacity() > KEEP_SEND_BUFFER {
            self.buf = Vec::new();
        }
    }

    pub(crate) fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// The first endpoint in the form a local peer connects to.
    pub(crate) fn endpoint(&self) -> String {
        self.endpoints.first().map(|e| connectable(e)).unwrap_or_default()
    }

    fn apply_send_timeout(&mut self, t: Duration) -> Result<()> {
        let ms = millis(t);
        if ms != self.applied_send_timeout {
            set("ZMQ_SNDTIMEO", self.socket.set_sndtimeo(ms))?;
            self.applied_send_timeout = ms;
        }
        Ok(())
    }

    fn apply_receive_timeout(&mut self, t: Duration) -> Result<()> {
        let ms = millis(t);
        if ms != self.applied_receive_timeout {
            set("ZMQ_RCVTIMEO", self.socket.set_rcvtimeo(ms))?;
            self.applied_receive_timeout = ms;
        }
        Ok(())
    }

    /// Sends `self.buf` as one frame, waiting at most `timeout` (the socket's send
    /// timeout when `None`; zero means never wait).
    pub(crate) fn send_buf(&mut self, op: Operation, timeout: Option<Duration>) -> Result<()> {
        let t = timeout.unwrap_or(self.options.send_timeout);
        let flags = if t.is_zero() {
            zmq::DONTWAIT
        } else {
            self.apply_send_timeout(t)?;
            0
        };
        self.before_send();
        let len = self.buf.len();
        let start = Instant::now();
        let sent = loop {
            match self.socket.send(&self.buf[..], flags) {
                // libzmq's clock is coarse and may give up a little before the
                // timeout: the rest of it is waited for, so no call returns early.
                Err(zmq::Error::EAGAIN) if flags == 0 && !t.saturating_sub(start.elapsed()).is_zero() => {
                    // Measured again: the clock moved since the guard (never a negative wait).
                    self.apply_send_timeout(t.saturating_sub(start.elapsed()).max(Duration::from_millis(1)))?;
                }
                sent => break sent,
            }
        };
        self.release_large_buffers();
        let sent = match sent {
            Ok(()) => Ok(()),
            Err(zmq::Error::EAGAIN) => Err(Error::Timeout { op, after: t }),
            Err(e) => Err(Error::zmq(op, &self.endpoints, e)),
        };
        self.sent(len, sent)
    }

    /// Receives one frame into `self.frame`, waiting at most `timeout` (the socket's
    /// receive timeout when `None`; zero means never wait). A multi-part message (which
    /// the wire format never uses) is read whole and reported with all its parts.
    pub(crate) fn recv_frame(&mut self, op: Operation, timeout: Option<Duration>) -> Result<()> {
        let t = timeout.unwrap_or(self.options.receive_timeout);
        let flags = if t.is_zero() {
            zmq::DONTWAIT
        } else {
            self.apply_receive_timeout(t)?;
            0
        };
        let start = Instant::now();
        let received = loop {
            match self.socket.recv(&mut self.frame, flags) {
                // As in `send_buf`: libzmq may give up a little early.
                Err(zmq::Error::EAGAIN) if flags == 0 && !t.saturating_sub(start.elapsed()).is_zero() => {
                    // Measured again: the clock moved since the guard (never a negative wait).
                    self.apply_receive_timeout(
                        t.saturating_sub(start.elapsed()).max(Duration::from_millis(1)),
                    )?;
                }
                received => break received,
            }
        };
        let received = match received {
            Ok(()) => Ok(()),
            Err(zmq::Error::EAGAIN) => Err(Error::Timeout { op, after: t }),
            Err(e) => Err(Error::zmq(op, &self.endpoints, e)),
        };
        self.received(received)
    }

    fn read_multipart(&mut self) -> Error {
        let first = self.received_frame().to_vec();
        let mut rest = Vec::new();
        let mut part = zmq::Message::new();
        loop {
            // The remaining parts of a message are already queued: never wait for them.
            if self.socket.recv(&mut part, zmq::DONTWAIT).is_err() {
                break;
            }
            rest.push(part.to_vec());
            if !part.get_more() {
                break;
            }
        }
        let e = crate::DecodeError::multipart(self.framing, first, rest);
        self.counters.decode_error();
        self.log(|s| s.decode_error("a single frame", &e));
        Error::Decode(e)
    }
}

impl Drop for Core {
    fn drop(&mut self) {
        // Same bounded flush as `close()`; the outcome cannot be reported from a drop.
        let _ = self.finish();
    }
}

/// Binds or connects every endpoint, returning them as libzmq reports them.
fn attach(socket: &zmq::Socket, endpoints: &[Endpoint]) -> Result<Vec<String>> {
    let mut attached = Vec::with_capacity(endpoints.len());
    for e in endpoints {
        match e.role() {
            Role::Bind => {
                socket
                    .bind(e.as_str())
                    .map_err(|source| Error::Bind { endpoint: e.as_str().to_owned(), source })?;
                let bound = match socket.get_last_endpoint() {
                    Ok(Ok(s)) if !s.is_empty() => s,
                    _ => e.as_str().to_owned(),
                };
                attached.push(bound);
            }
            Role::Connect => {
                socket
                    .connect(e.as_str())
                    .map_err(|source| Error::Connect { endpoint: e.as_str().to_owned(), source })?;
                attached.push(e.as_str().to_owned());
            }
        }
    }
    Ok(attached)
}
