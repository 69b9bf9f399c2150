//! The socket monitor: libzmq's connection events read from an inproc PAIR socket, and
//! the thread that keeps reading them for a socket whose close gave up (see
//! `impl Drop for Monitor`).

use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::error::{Error, Operation, Result};
use super::events::{HandshakeFailure, Source};
use super::ffi;
use super::options::{deadline, millis};

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
pub(super) struct Monitor {
    // ManuallyDrop: see `impl Drop for Monitor`.
    reader: ManuallyDrop<zmq::Socket>,
    pub(super) handshakes: u64,
    pub(super) disconnects: u64,
    /// Failed handshakes whose connection's disconnect event has not come yet.
    pub(super) failing: u64,
    /// Handshakes refused by authentication (ZAP), and the last status code.
    pub(super) auth_failures: u64,
    pub(super) last_auth_status: u32,
    /// Every failed handshake (authentication, protocol or no detail).
    pub(super) handshake_failures: u64,
    pub(super) stopped: bool,
    event: zmq::Message,
    /// The socket this monitors, as its log events name it (none for the probes of
    /// `reaper_barrier`): every connection event is emitted here (see `events.rs`).
    pub(super) source: Option<Source>,
}

impl Monitor {
    pub(super) fn start(ctx: &zmq::Context, socket: &zmq::Socket) -> Result<Monitor> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let endpoint = format!(
            "inproc://experimance-monitor-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let setup = |e| Error::zmq(Operation::Setup, &[], e);
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
            handshake_failures: 0,
            stopped: false,
            event: zmq::Message::new(),
            source: None,
        })
    }

    /// Connections that completed their handshake and are still up.
    pub(super) fn peers(&self) -> usize {
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
        let id = u32::from(id);
        // Frame 2: the endpoint (the one bound, or the one connected to), into `event`.
        let mut has_endpoint = false;
        if self.event.get_more() && self.reader.recv(&mut self.event, zmq::DONTWAIT).is_ok() {
            has_endpoint = true;
            // libzmq sends two frames; read any more so the next event starts clean.
            let mut extra = zmq::Message::new();
            let mut more = self.event.get_more();
            while more && self.reader.recv(&mut extra, zmq::DONTWAIT).is_ok() {
                more = extra.get_more();
            }
        }
        let endpoint: &[u8] = if has_endpoint { &self.event } else { b"" };
        match id {
            zmq_sys::ZMQ_EVENT_HANDSHAKE_SUCCEEDED => {
                self.handshakes += 1;
                if let Some(s) = &mut self.source {
                    s.connected(endpoint);
                }
            }
            e if e & HANDSHAKE_FAILED != 0 => {
                self.failing += 1;
                self.handshake_failures += 1;
                let why = if e == zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_AUTH {
                    self.auth_failures += 1;
                    // The value is the ZAP status code.
                    self.last_auth_status = value;
                    HandshakeFailure::Auth(value)
                } else if e == zmq_sys::ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL {
                    HandshakeFailure::Protocol
                } else {
                    HandshakeFailure::NoDetail
                };
                if let Some(s) = &self.source {
                    s.handshake_failed(endpoint, why);
                }
            }
            // The disconnect of a failed handshake's connection, or of a peer.
            zmq_sys::ZMQ_EVENT_DISCONNECTED if self.failing > 0 => self.failing -= 1,
            zmq_sys::ZMQ_EVENT_DISCONNECTED => {
                self.disconnects += 1;
                if let Some(s) = &self.source {
                    s.disconnected(endpoint);
                }
            }
            zmq_sys::ZMQ_EVENT_MONITOR_STOPPED => self.stopped = true,
            _ => {}
        }
        true
    }

    pub(super) fn drain(&mut self) {
        while self.read_one(Duration::ZERO) {}
    }

    /// Waits until `done(self)` holds or `deadline` passes.
    pub(super) fn wait_until(&mut self, deadline: Instant, done: impl Fn(&Monitor) -> bool) -> bool {
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

impl Monitor {
    /// Stops monitoring `socket` while it is alive, and waits (bounded) for the
    /// MONITOR_STOPPED event: libzmq then has no event left to send to this reader.
    pub(super) fn stop(&mut self, socket: &mut zmq::Socket) {
        ffi::stop_monitor(socket);
        self.wait_until(deadline(Instant::now(), STOP_WAIT), |m| m.stopped);
    }
}

/// How long to wait for the MONITOR_STOPPED event that stopping a monitor sends at once.
const STOP_WAIT: Duration = Duration::from_millis(200);

/// Returns once the context's reaper thread has carried out every close made on this
/// thread before the call: the reaper handles closes in order, and a probe socket
/// closed now is destroyed (and reports it on its monitor) only after them.
pub(super) fn reaper_barrier(ctx: &zmq::Context) {
    let Ok(probe) = ctx.socket(zmq::PAIR) else { return };
    let Ok(mut monitor) = Monitor::start(ctx, &probe) else { return };
    drop(probe);
    monitor.wait_until(deadline(Instant::now(), STOP_WAIT), |m| m.stopped);
}
