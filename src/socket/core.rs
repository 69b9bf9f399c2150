//! What the four socket types share: setup from a builder, bounded send and receive
//! with a reused buffer and frame, connection waits, and a close that flushes. (About
//! 440 lines: the close protocol and its reasons are most of it; the monitor is in
//! `monitor.rs`, raw libzmq calls in `ffi.rs`, options in `options/`, the tokio side in
//! `asyncio.rs`.)

use std::mem::ManuallyDrop;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::builder::{Kind, Parts};
use super::endpoint::{connectable, Endpoint, Role, Transport};
use super::error::{Error, Operation, Result};
use super::ffi;
use super::monitor::{reaper_barrier, Monitor, Watched};
use super::options::{clamp, deadline, millis, set, SocketOptions};

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

/// How long `close` waits for libzmq to report the socket gone, beyond the linger.
const CLOSE_GRACE: Duration = Duration::from_millis(500);

/// How much earlier than the linger libzmq's linger timer may fire, as seen on our clock.
const LINGER_CLOCK_SLACK: Duration = Duration::from_millis(2);

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
        monitor.watched = Some(Watched { kind: kind.name, connects });
        let endpoints = match attach(&socket, &parts.endpoints) {
            Ok(endpoints) => endpoints,
            Err(e) => {
                // Stop the monitor while the socket is alive, so libzmq never has an
                // event to send to a reader that is gone (see `impl Drop for Monitor`).
                monitor.stop(&mut socket);
                return Err(e);
            }
        };
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
        match sent {
            Ok(()) => Ok(()),
            Err(zmq::Error::EAGAIN) => {
                self.monitor.drain();
                Err(Error::Timeout { op, after: t })
            }
            Err(e) => Err(Error::zmq(op, e)),
        }
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
        match received {
            Ok(()) if self.frame.get_more() => Err(self.read_multipart()),
            Ok(()) => Ok(()),
            Err(zmq::Error::EAGAIN) => {
                self.monitor.drain();
                Err(Error::Timeout { op, after: t })
            }
            Err(e) => Err(Error::zmq(op, e)),
        }
    }

    #[cfg(feature = "tokio")]
    /// After a receive with `self.frame` in hand: the frame if it is a single part,
    /// else the multi-part error. Used by the async path, which receives on its own.
    pub(crate) fn check_single_part(&mut self) -> Result<()> {
        if self.frame.get_more() {
            Err(self.read_multipart())
        } else {
            Ok(())
        }
    }

    fn read_multipart(&mut self) -> Error {
        let first = self.frame.to_vec();
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
        Error::Decode(crate::DecodeError::multipart(self.framing, first, rest))
    }

    pub(crate) fn wait_for_peers(&mut self, n: usize, timeout: Duration) -> Result<usize> {
        if self.transports.only_inproc() {
            // libzmq reports no connection events for inproc: its connections are
            // established synchronously by bind/connect. A peer's connect reaches a
            // bound socket as a command, though, which it processes on its next call:
            // do it now (see below), so a bound subscriber's subscriptions go out.
            let _ = self.socket.get_events();
            return Ok(n.max(self.monitor.peers()));
        }
        // A socket that mixes inproc with tcp or ipc waits for the tcp and ipc peers;
        // its inproc connections report nothing, so only those it made itself (one per
        // inproc endpoint it connects to) are counted, at once.
        let inproc_peers = if self.connects { self.transports.inproc } else { 0 };
        let peers = move |m: &Monitor| m.peers().saturating_add(inproc_peers);
        // A connecting socket refused by its peer's authentication stops waiting: that
        // is an answer, and waiting longer would only repeat it on every reconnect. (A
        // binding socket that refused a stranger goes on waiting for its peers.)
        let refused_before = if self.connects { self.monitor.auth_failures } else { u64::MAX };
        let done = |m: &Monitor| peers(m) >= n || m.auth_failures > refused_before;
        if self.monitor.wait_until(deadline(Instant::now(), timeout), done) {
            if peers(&self.monitor) < n {
                return Err(Error::AuthFailed { status: self.monitor.last_auth_status });
            }
            // libzmq attaches a new connection to the socket only when the socket next
            // processes its commands, and a bound subscriber sends its subscriptions only
            // then: reading ZMQ_EVENTS does that now, so a publisher waiting for them
            // does not wait for this socket's next receive.
            let _ = self.socket.get_events();
            Ok(peers(&self.monitor))
        } else {
            Err(Error::Timeout { op: Operation::WaitConnected, after: timeout })
        }
    }

    /// Handshakes refused by authentication so far: peers this server's ZAP handler
    /// refused, or refusals this client got.
    pub(crate) fn auth_failures(&mut self) -> u64 {
        self.monitor.drain();
        self.monitor.auth_failures
    }

    pub(crate) fn peer_count(&mut self) -> usize {
        let before = self.monitor.disconnects;
        self.monitor.drain();
        if self.monitor.disconnects != before {
            // libzmq sends the disconnect event just before it tells this socket the
            // connection's queue is gone, and a send looks at such news at most once a
            // millisecond: process it now, so that sends after a peer was seen to go
            // do not write into its dead queue.
            let _ = self.socket.get_events();
        }
        self.monitor.peers()
    }

    /// Closes the socket: libzmq keeps delivering queued messages for up to the linger,
    /// and reports the socket gone on the monitor once it has; this waits for that.
    ///
    /// libzmq destroys a socket as soon as its queues are empty, and only when its
    /// linger timer fires with messages still queued does it drop them: so the socket
    /// going away before the linger means nothing was dropped. A sending socket is
    /// given a linger of at least [`CLOSE_PROBE`], long enough that an empty socket's
    /// close is never mistaken for the timer, so even a linger of 0 reports dropped
    /// messages (it delivers for up to [`CLOSE_PROBE`] instead of dropping at once).
    pub(crate) fn finish(&mut self) -> Result<()> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        // A receiving socket has only its own subscriptions queued outwards: nothing a
        // peer is waiting for, so it closes at once instead of lingering for an absent
        // publisher.
        let linger = if self.sends { clamp(self.options.linger).max(CLOSE_PROBE) } else { Duration::ZERO };
        let _ = self.socket.set_linger(millis(linger));
        let inproc = self.transports.any_inproc();
        if inproc {
            // An inproc peer reads from the very queue this socket wrote to, so what was
            // sent is already delivered; and libzmq finishes destroying the socket only
            // when the peer next uses its own socket, which may be never. So do not wait
            // for that: stop the monitor now, while the socket is alive. A socket that
            // also has tcp or ipc endpoints is one too: its end cannot be awaited, so its
            // close cannot tell whether the linger dropped what was queued for those
            // peers (libzmq goes on delivering it for up to the linger) and reports Ok.
            self.monitor.stop(&mut self.socket);
        }
        // Before the close, so that libzmq's linger timer starts after it.
        let started = Instant::now();
        // SAFETY: `closed` guarantees this runs once, and `socket` is never used again.
        let socket = unsafe { ManuallyDrop::take(&mut self.socket) };
        drop(socket);
        if inproc {
            // The close is carried out by the context's reaper thread; once it has, the
            // inproc peers have been told that this socket's queues are gone, and their
            // next send fails instead of writing into a queue nobody reads.
            reaper_barrier(&self.context);
            return Ok(());
        }
        let stopped = self.monitor.wait_until(deadline(started, linger + CLOSE_GRACE), |m| m.stopped);
        // libzmq's timers run on a coarse millisecond clock and fire up to about a
        // millisecond before the linger has passed on ours: a close that ends that near
        // the linger is one whose linger expired (with messages still queued).
        if stopped && (linger.is_zero() || started.elapsed() + LINGER_CLOCK_SLACK < linger) {
            Ok(())
        } else {
            Err(Error::LingerExpired { linger: self.options.linger })
        }
    }
}

/// The shortest linger a sending socket closes with (see [`Core::finish`]): far above
/// the time libzmq takes to destroy a socket whose queues are empty (well under a
/// millisecond), so the two outcomes cannot be confused on a busy machine.
pub(crate) const CLOSE_PROBE: Duration = Duration::from_millis(50);

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
