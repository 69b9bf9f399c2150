//! Shared by the socket tests: timeouts, unique endpoints, and a tcp port nobody
//! listens on. Included with `#[path = "support/net.rs"] mod net;`.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// How long a test waits for a connection or subscription before failing.
pub const READY: Duration = Duration::from_secs(5);
/// The short timeout the timeout tests use.
pub const SHORT: Duration = Duration::from_millis(200);
/// How late a bounded operation may return.
pub const SLACK: Duration = Duration::from_millis(500);

pub fn unique(what: &str) -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("exp-{what}-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

#[derive(Debug, Clone, Copy)]
pub enum Transport {
    Tcp,
    Ipc,
    Inproc,
}

/// An endpoint to bind for `transport`, unique to this call.
pub fn bind_endpoint(transport: Transport) -> String {
    match transport {
        Transport::Tcp => "tcp://127.0.0.1:*".to_owned(),
        Transport::Ipc => format!("ipc://{}", std::env::temp_dir().join(unique("sockets")).display()),
        Transport::Inproc => format!("inproc://{}", unique("sockets")),
    }
}

/// A tcp port nobody listens on, reserved while this lives: a socket bound to it that
/// does not listen, so connecting is refused and no other test (or process) can bind it
/// meanwhile. (A port taken from a dropped listener could be handed to a parallel test.)
pub struct DeadPort {
    fd: libc::c_int,
    pub endpoint: String,
}

impl DeadPort {
    pub fn new() -> DeadPort {
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        // SAFETY: plain socket calls on a socket this function owns, with a zeroed
        // sockaddr_in of the size given.
        unsafe {
            let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
            assert!(fd >= 0, "socket: {}", std::io::Error::last_os_error());
            let mut addr: libc::sockaddr_in = std::mem::zeroed();
            addr.sin_family = libc::AF_INET as libc::sa_family_t;
            addr.sin_addr.s_addr = u32::from(std::net::Ipv4Addr::LOCALHOST).to_be();
            let rc = libc::bind(fd, (&addr as *const libc::sockaddr_in).cast(), len);
            assert_eq!(rc, 0, "bind: {}", std::io::Error::last_os_error());
            let mut got = len;
            let rc = libc::getsockname(fd, (&mut addr as *mut libc::sockaddr_in).cast(), &mut got);
            assert_eq!(rc, 0, "getsockname: {}", std::io::Error::last_os_error());
            DeadPort { fd, endpoint: format!("tcp://127.0.0.1:{}", u16::from_be(addr.sin_port)) }
        }
    }
}

impl Drop for DeadPort {
    fn drop(&mut self) {
        // SAFETY: `fd` is owned by this value and closed once.
        unsafe { libc::close(self.fd) };
    }
}

/// A raw `zmq` socket of `kind` on the library's context (so `inproc://` reaches the
/// library's sockets), with no linger and 5 s send/receive timeouts.
pub fn raw_socket(kind: zmq::SocketType) -> zmq::Socket {
    let s = experimance_common::socket::global_context().socket(kind).unwrap();
    s.set_linger(0).unwrap();
    s.set_sndtimeo(5000).unwrap();
    s.set_rcvtimeo(5000).unwrap();
    s
}

/// A raw socket of `kind` connected to `endpoint`, which does not reconnect, and a
/// monitor that reports when it gets disconnected.
pub fn raw_peer(kind: zmq::SocketType, endpoint: &str) -> (zmq::Socket, zmq::Socket) {
    let peer = raw_socket(kind);
    // Refused is final: no reconnect, so the refusal is observable and nothing is resent.
    peer.set_reconnect_ivl(-1).unwrap();
    let monitor_endpoint = format!("inproc://{}", unique("monitor"));
    // Only DISCONNECTED: libzmq sends monitor events with a blocking send, so no event
    // may come after the reader below is closed (MONITOR_STOPPED would).
    peer.monitor(&monitor_endpoint, i32::from(zmq::SocketEvent::DISCONNECTED.to_raw())).unwrap();
    let monitor = experimance_common::socket::global_context().socket(zmq::PAIR).unwrap();
    monitor.set_linger(0).unwrap();
    monitor.set_rcvtimeo(5000).unwrap();
    monitor.connect(&monitor_endpoint).unwrap();
    peer.connect(endpoint).unwrap();
    (peer, monitor)
}

/// Waits (5 s at most) for the monitor of [`raw_peer`] to report the disconnection.
pub fn assert_disconnected(monitor: &zmq::Socket) {
    let event = monitor.recv_multipart(0).expect("the oversized sender is disconnected");
    assert_eq!(u16::from_ne_bytes([event[0][0], event[0][1]]), zmq::SocketEvent::DISCONNECTED.to_raw());
}
