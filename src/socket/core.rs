//! What the four socket types share: setup from a builder, bounded send and receive
//! with a reused buffer and frame, connection monitoring, and a close that flushes.

use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use super::endpoint::{connectable, Endpoint, Role, Transport};
use super::error::{Error, Operation, Result};
use super::options::{clamp, deadline, millis, SocketOptions};

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

/// Everything a builder collected; consumed by the socket types' constructors.
#[doc(hidden)]
#[derive(Clone)]
pub struct Parts {
    pub(crate) options: SocketOptions,
    pub(crate) endpoints: Vec<Endpoint>,
    pub(crate) topics: Vec<Vec<u8>>,
    pub(crate) default_topic: Option<String>,
    pub(crate) context: Option<zmq::Context>,
}

impl std::fmt::Debug for Parts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parts")
            .field("options", &self.options)
            .field("endpoints", &self.endpoints)
            .field("topics", &self.topics.iter().map(|t| String::from_utf8_lossy(t)).collect::<Vec<_>>())
            .field("default_topic", &self.default_topic)
            .field("context", &self.context.as_ref().map(|_| "custom"))
            .finish()
    }
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

/// Monitor events we ask for: few, so the event queue stays small.
const MONITOR_EVENTS: u32 = HANDSHAKE_FAILED
    | zmq_sys::ZMQ_EVENT_HANDSHAKE_SUCCEEDED
    | zmq_sys::ZMQ_EVENT_DISCONNECTED
    | zmq_sys::ZMQ_EVENT_MONITOR_STOPPED;
const HANDSHAKE_FAILED: u32 = zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL
    | zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL
    | zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_AUTH;

/// Reads the socket monitor: how many connections completed their handshake, and when
/// the socket is finally gone after a close.
///
/// libzmq's events do not say which connection a handshake event belongs to, but every
/// connection that reaches the ZMTP handshake ends it with exactly one "succeeded" or
/// "failed" event and, when it goes away, one "disconnected" event, right after a failed
/// handshake. So a disconnect while a failure is pending is that connection's, and the
/// live handshaken connections are `succeeded - other disconnects`.
struct Monitor {
    // ManuallyDrop: see `impl Drop for Monitor`.
    reader: ManuallyDrop<zmq::Socket>,
    handshakes: u64,
    disconnects: u64,
    /// Failed handshakes whose connection's disconnect event has not come yet.
    failing: u64,
    /// Handshakes refused by authentication (ZAP), and the last status code.
    auth_failures: u64,
    last_auth_status: u32,
    stopped: bool,
    event: zmq::Message,
}

impl Monitor {
    fn start(ctx: &zmq::Context, socket: &zmq::Socket) -> Result<Monitor> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let endpoint = format!(
            "inproc://experimance-monitor-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let setup = |e| Error::zmq(Operation::Setup, e);
        // The reader first: a monitor that started without one would block the thread
        // that stops it on its MONITOR_STOPPED event (see `impl Drop for Monitor`).
        let reader = ctx.socket(zmq::PAIR).map_err(super::capacity::setup_error)?;
        // An unbounded queue towards us: libzmq's I/O thread must never block on a
        // monitor event nobody has read yet.
        reader.set_rcvhwm(0).map_err(setup)?;
        reader.set_linger(0).map_err(setup)?;
        socket.monitor(&endpoint, MONITOR_EVENTS as i32).map_err(super::capacity::setup_error)?;
        reader.connect(&endpoint).map_err(setup)?;
        Ok(Monitor {
            reader: ManuallyDrop::new(reader),
            handshakes: 0,
            disconnects: 0,
            failing: 0,
            auth_failures: 0,
            last_auth_status: 0,
            stopped: false,
            event: zmq::Message::new(),
        })
    }

    /// Connections that completed their handshake and are still up.
    fn peers(&self) -> usize {
        usize::try_from(self.handshakes.saturating_sub(self.disconnects)).unwrap_or(usize::MAX)
    }

    /// Reads one event if one arrives within `timeout` (zero: only what is queued).
    fn read_one(&mut self, timeout: Duration) -> bool {
        if self.reader.poll(zmq::POLLIN, i64::from(millis(timeout))).unwrap_or(0) <= 0 {
            return false;
        }
        if self.reader.recv(&mut self.event, zmq::DONTWAIT).is_err() {
            return false;
        }
        // Frame 1: u16 event id, u32 value (the fd), native endian. Frame 2: endpoint.
        let (id, value) = match &self.event[..] {
            [a, b, c, d, e, f, ..] => (u16::from_ne_bytes([*a, *b]), u32::from_ne_bytes([*c, *d, *e, *f])),
            [a, b, ..] => (u16::from_ne_bytes([*a, *b]), 0),
            _ => (0, 0),
        };
        while self.event.get_more() {
            if self.reader.recv(&mut self.event, zmq::DONTWAIT).is_err() {
                break;
            }
        }
        match u32::from(id) {
            zmq_sys::ZMQ_EVENT_HANDSHAKE_SUCCEEDED => self.handshakes += 1,
            zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_AUTH => {
                self.failing += 1;
                self.auth_failures += 1;
                // The value is the ZAP status code.
                self.last_auth_status = value;
            }
            e if e & HANDSHAKE_FAILED != 0 => self.failing += 1,
            // The disconnect of a failed handshake's connection, or of a peer.
            zmq_sys::ZMQ_EVENT_DISCONNECTED if self.failing > 0 => self.failing -= 1,
            zmq_sys::ZMQ_EVENT_DISCONNECTED => self.disconnects += 1,
            zmq_sys::ZMQ_EVENT_MONITOR_STOPPED => self.stopped = true,
            _ => {}
        }
        true
    }

    fn drain(&mut self) {
        while self.read_one(Duration::ZERO) {}
    }

    /// Waits until `done(self)` holds or `deadline` passes.
    fn wait_until(&mut self, deadline: Instant, done: impl Fn(&Monitor) -> bool) -> bool {
        self.drain();
        while !done(self) {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            // Poll at most 50 ms at a time so a deadline is never overshot by much.
            self.read_one(left.min(Duration::from_millis(50)));
        }
        true
    }
}

impl Drop for Monitor {
    /// libzmq sends the last event (MONITOR_STOPPED) with a *blocking* send from the
    /// thread that destroys the socket (the context's reaper). If the reader were closed
    /// before that event arrives, that send would block forever, and with the reaper
    /// every later close of the context (and its I/O thread, on its next event for such
    /// a socket). So a reader whose socket is not gone yet (a close that gave up, a
    /// failed build, an inproc peer that has not acknowledged) keeps reading on a
    /// thread of its own until the event comes or the context ends.
    fn drop(&mut self) {
        // SAFETY: drop runs once, and `reader` is not used after this.
        let reader = unsafe { ManuallyDrop::take(&mut self.reader) };
        if self.stopped {
            return;
        }
        let slot = std::sync::Arc::new(std::sync::Mutex::new(Some(reader)));
        let theirs = std::sync::Arc::clone(&slot);
        let spawned = std::thread::Builder::new().name("experimance-monitor".into()).spawn(move || {
            let Some(reader) = theirs.lock().ok().and_then(|mut r| r.take()) else { return };
            let mut event = zmq::Message::new();
            // Blocking reads; an error (ETERM: the context is ending) ends it too.
            while reader.recv(&mut event, 0).is_ok() {
                let stopped = matches!(&event[..], [a, b, ..]
                    if u32::from(u16::from_ne_bytes([*a, *b])) == zmq_sys::ZMQ_EVENT_MONITOR_STOPPED);
                while event.get_more() && reader.recv(&mut event, 0).is_ok() {}
                if stopped {
                    return;
                }
            }
        });
        if spawned.is_err() {
            // No thread: leak the reader rather than wedge libzmq.
            if let Some(reader) = slot.lock().ok().and_then(|mut r| r.take()) {
                std::mem::forget(reader);
            }
        }
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
    pub(crate) options: SocketOptions,
    endpoints: Vec<String>,
    inproc: bool,
    /// Whether every endpoint connects: an authentication failure is then this
    /// socket being refused (for a binding socket, it is a peer it refused).
    connects: bool,
    /// Whether the socket sends user messages (a linger matters only then).
    sends: bool,
    framing: crate::Framing,
    /// The frame receives go into (libzmq reuses it).
    pub(crate) frame: zmq::Message,
    /// The buffer sends are encoded into.
    pub(crate) buf: Vec<u8>,
    applied_send_timeout: i32,
    applied_receive_timeout: i32,
    closed: bool,
    // Keeps a caller-provided context alive as long as the socket.
    context: zmq::Context,
    #[cfg(feature = "tokio")]
    pub(crate) async_fd: Option<tokio::io::unix::AsyncFd<super::asyncio::ZmqFd>>,
}

/// Maps a libzmq option result to [`Error::SetOption`] naming the option.
pub(crate) fn set<T>(option: &'static str, r: zmq::Result<T>) -> Result<()> {
    r.map(|_| ()).map_err(|source| Error::SetOption { option, source })
}

impl Core {
    pub(crate) fn open(kind: zmq::SocketType, parts: &Parts) -> Result<Core> {
        let context = parts.context.clone().unwrap_or_else(global_context);
        let mut socket = context.socket(kind).map_err(super::capacity::setup_error)?;
        let o = &parts.options;
        set("ZMQ_LINGER", socket.set_linger(millis(o.linger)))?;
        set("ZMQ_SNDTIMEO", socket.set_sndtimeo(millis(o.send_timeout)))?;
        set("ZMQ_RCVTIMEO", socket.set_rcvtimeo(millis(o.receive_timeout)))?;
        set("ZMQ_SNDHWM", socket.set_sndhwm(o.send_hwm))?;
        set("ZMQ_RCVHWM", socket.set_rcvhwm(o.receive_hwm))?;
        if o.conflate {
            set("ZMQ_CONFLATE", socket.set_conflate(true))?;
        }
        if let Some(ivl) = o.heartbeat_interval {
            set("ZMQ_HEARTBEAT_IVL", socket.set_heartbeat_ivl(millis(ivl)))?;
        }
        if let Some(t) = o.heartbeat_timeout {
            set("ZMQ_HEARTBEAT_TIMEOUT", socket.set_heartbeat_timeout(millis(t)))?;
        }
        if let Some(t) = o.heartbeat_ttl {
            set("ZMQ_HEARTBEAT_TTL", socket.set_heartbeat_ttl(millis(t)))?;
        }
        set("ZMQ_RECONNECT_IVL", socket.set_reconnect_ivl(millis(o.reconnect_interval)))?;
        if let Some(max) = o.reconnect_interval_max {
            set("ZMQ_RECONNECT_IVL_MAX", socket.set_reconnect_ivl_max(millis(max)))?;
        }
        if o.immediate {
            set("ZMQ_IMMEDIATE", socket.set_immediate(true))?;
        }
        if let Some(max) = o.max_message_size {
            set("ZMQ_MAXMSGSIZE", socket.set_maxmsgsize(i64::try_from(max).unwrap_or(i64::MAX)))?;
        }
        // Dead-peer detection on tcp (see `DEAD_PEER_TIMEOUT`).
        if let Some(idle) = o.tcp_keepalive {
            // libzmq takes these in whole seconds.
            let secs = |d: Duration| i32::try_from(d.as_secs().max(1)).unwrap_or(i32::MAX);
            set("ZMQ_TCP_KEEPALIVE", socket.set_tcp_keepalive(1))?;
            set("ZMQ_TCP_KEEPALIVE_IDLE", socket.set_tcp_keepalive_idle(secs(idle)))?;
            set(
                "ZMQ_TCP_KEEPALIVE_INTVL",
                socket.set_tcp_keepalive_intvl(secs(super::options::KEEPALIVE_INTERVAL)),
            )?;
            let probes = i32::try_from(super::options::KEEPALIVE_PROBES).unwrap_or(i32::MAX);
            set("ZMQ_TCP_KEEPALIVE_CNT", socket.set_tcp_keepalive_cnt(probes))?;
        }
        if let Some(t) = o.tcp_max_retransmit {
            set_raw_int(&mut socket, "ZMQ_TCP_MAXRT", zmq_sys::ZMQ_TCP_MAXRT, millis(t))?;
        }
        if kind == zmq::XPUB {
            // Pass every (un)subscription up, so subscribers can be counted.
            set_raw_int(&mut socket, "ZMQ_XPUB_VERBOSER", zmq_sys::ZMQ_XPUB_VERBOSER, 1)?;
            if o.lossless {
                set_raw_int(&mut socket, "ZMQ_XPUB_NODROP", zmq_sys::ZMQ_XPUB_NODROP, 1)?;
            }
        }
        for topic in &parts.topics {
            set("ZMQ_SUBSCRIBE", socket.set_subscribe(topic))?;
        }
        o.security.apply(&socket)?;
        if let Some(domain) = &o.zap_domain {
            set("ZMQ_ZAP_DOMAIN", socket.set_zap_domain(domain))?;
        }
        let mut monitor = Monitor::start(&context, &socket)?;
        let endpoints = match attach(&socket, &parts.endpoints) {
            Ok(endpoints) => endpoints,
            Err(e) => {
                // Stop the monitor while the socket is alive, so libzmq never has an
                // event to send to a reader that is gone (see `impl Drop for Monitor`).
                stop_monitor(&mut socket);
                monitor.wait_until(deadline(Instant::now(), STOP_WAIT), |m| m.stopped);
                return Err(e);
            }
        };
        Ok(Core {
            _not_sync: std::marker::PhantomData,
            socket: ManuallyDrop::new(socket),
            monitor,
            sends: kind == zmq::XPUB || kind == zmq::PUSH,
            framing: if kind == zmq::PULL || kind == zmq::PUSH {
                crate::Framing::Push
            } else {
                crate::Framing::Pub
            },
            inproc: parts.endpoints.iter().any(|e| e.transport() == Transport::Inproc),
            connects: parts.endpoints.iter().all(|e| e.role() == Role::Connect),
            applied_send_timeout: millis(o.send_timeout),
            applied_receive_timeout: millis(o.receive_timeout),
            options: o.clone(),
            endpoints,
            frame: zmq::Message::new(),
            buf: Vec::with_capacity(256),
            closed: false,
            context,
            #[cfg(feature = "tokio")]
            async_fd: None,
        })
    }

    pub(crate) fn socket(&self) -> &zmq::Socket {
        &self.socket
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
        if self.inproc {
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
        let sent = self.socket.send(&self.buf[..], flags);
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
        match self.socket.recv(&mut self.frame, flags) {
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
        if self.inproc {
            // libzmq reports no connection events for inproc: its connections are
            // established synchronously by bind/connect. A peer's connect reaches a
            // bound socket as a command, though, which it processes on its next call:
            // do it now (see below), so a bound subscriber's subscriptions go out.
            let _ = self.socket.get_events();
            return Ok(n.max(self.monitor.peers()));
        }
        // A connecting socket refused by its peer's authentication stops waiting: that
        // is an answer, and waiting longer would only repeat it on every reconnect. (A
        // binding socket that refused a stranger goes on waiting for its peers.)
        let refused_before = if self.connects { self.monitor.auth_failures } else { u64::MAX };
        let done = |m: &Monitor| m.peers() >= n || m.auth_failures > refused_before;
        if self.monitor.wait_until(deadline(Instant::now(), timeout), done) {
            if self.monitor.peers() < n {
                return Err(Error::AuthFailed { status: self.monitor.last_auth_status });
            }
            // libzmq attaches a new connection to the socket only when the socket next
            // processes its commands, and a bound subscriber sends its subscriptions only
            // then: reading ZMQ_EVENTS does that now, so a publisher waiting for them
            // does not wait for this socket's next receive.
            let _ = self.socket.get_events();
            Ok(self.monitor.peers())
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
        #[cfg(feature = "tokio")]
        drop(self.async_fd.take());
        // A receiving socket has only its own subscriptions queued outwards: nothing a
        // peer is waiting for, so it closes at once instead of lingering for an absent
        // publisher.
        let linger = if self.sends { clamp(self.options.linger).max(CLOSE_PROBE) } else { Duration::ZERO };
        let _ = self.socket.set_linger(millis(linger));
        let inproc_only =
            !self.endpoints.is_empty() && self.endpoints.iter().all(|e| e.starts_with("inproc://"));
        if inproc_only {
            // An inproc peer reads from the very queue this socket wrote to, so what was
            // sent is already delivered; and libzmq finishes destroying the socket only
            // when the peer next uses its own socket, which may be never. So do not wait
            // for that: stop the monitor now, while the socket is alive.
            stop_monitor(&mut self.socket);
            self.monitor.wait_until(deadline(Instant::now(), STOP_WAIT), |m| m.stopped);
        }
        // Before the close, so that libzmq's linger timer starts after it.
        let started = Instant::now();
        // SAFETY: `closed` guarantees this runs once, and `socket` is never used again.
        let socket = unsafe { ManuallyDrop::take(&mut self.socket) };
        drop(socket);
        if inproc_only {
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

/// Returns once the context's reaper thread has carried out every close made on this
/// thread before the call: the reaper handles closes in order, and a probe socket
/// closed now is destroyed (and reports it on its monitor) only after them.
fn reaper_barrier(ctx: &zmq::Context) {
    let Ok(probe) = ctx.socket(zmq::PAIR) else { return };
    let Ok(mut monitor) = Monitor::start(ctx, &probe) else { return };
    drop(probe);
    monitor.wait_until(deadline(Instant::now(), STOP_WAIT), |m| m.stopped);
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

/// How long to wait for the MONITOR_STOPPED event that stopping a monitor sends at once.
const STOP_WAIT: Duration = Duration::from_millis(200);

/// Stops the socket's monitor (`zmq_socket_monitor(socket, NULL, 0)`): libzmq sends
/// MONITOR_STOPPED to the reader, still alive, and closes its end.
fn stop_monitor(socket: &mut zmq::Socket) {
    // SAFETY: a live socket handle and a null endpoint, which the C API documents as
    // "stop monitoring".
    unsafe {
        zmq_sys::zmq_socket_monitor(socket.as_mut_ptr(), std::ptr::null(), 0);
    }
}

fn set_raw_int(socket: &mut zmq::Socket, option: &'static str, id: u32, value: i32) -> Result<()> {
    // The `zmq` crate has no setter for these options; libzmq's C API does.
    // SAFETY: a live socket handle, a pointer to a live i32 and its size.
    let rc = unsafe {
        zmq_sys::zmq_setsockopt(
            socket.as_mut_ptr(),
            id as i32,
            (&value as *const i32).cast(),
            std::mem::size_of::<i32>(),
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        // SAFETY: reading errno right after the failed call.
        let errno = unsafe { zmq_sys::zmq_errno() };
        Err(Error::SetOption { option, source: zmq::Error::from_raw(errno) })
    }
}
