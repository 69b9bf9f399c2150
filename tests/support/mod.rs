//! What the integration tests share. Every test binary declares `mod support;` and
//! takes what it needs:
//!
//! - `net`: timeouts (`READY`, `SHORT`, `SLACK`), unique endpoints per transport, a
//!   dead tcp port, raw libzmq peers;
//! - `python`: the pyzmq peer (`tests/python/peer.py`) that behaves like the Python
//!   services;
//! - `netns`: two hosts in network namespaces with a switch between them;
//! - `decoders`: every public decoder applied to one input (the fuzz targets include
//!   that file by path as well);
//! - `capture`: a `tracing-core` subscriber that keeps every event (feature `tracing`);
//! - here: the test messages, the timeout assertion, `stats_until` and
//!   `over_every_transport!`.
#![allow(dead_code, unused_imports, unused_macros)] // each test binary uses a different part

#[cfg(feature = "tracing")]
pub mod capture;
pub mod decoders;
pub mod net;
pub mod netns;
pub mod python;

use std::time::Duration;

use experimance_common::socket::{Error, Operation, SocketStats};
use experimance_common::{Biome, Era, EraChanged};

pub use net::{bind_endpoint, unique, Transport, READY, SHORT, SLACK};

/// The `i`th test message: the three eras in turn, in the forest.
pub fn era(i: usize) -> EraChanged {
    const ERAS: [Era; 3] = [Era::Wilderness, Era::Modern, Era::AiFuture];
    EraChanged { era: ERAS[i % 3], biome: Biome::Forest }
}

/// Reads a socket's stats until `done` holds, at most [`READY`]: the connection
/// counters come from libzmq's I/O thread through the monitor, a little later.
pub fn stats_until(
    mut stats: impl FnMut() -> SocketStats,
    done: impl Fn(&SocketStats) -> bool,
) -> SocketStats {
    let deadline = std::time::Instant::now() + READY;
    loop {
        let s = stats();
        if done(&s) || std::time::Instant::now() >= deadline {
            return s;
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// An `inproc://` endpoint no other test uses.
pub fn unique_inproc(what: &str) -> String {
    format!("inproc://{}", unique(what))
}

/// Asserts `err` is a timeout of `op` after `after`, and that it took `after` to
/// `after + SLACK`.
pub fn assert_timeout(err: Error, op: Operation, after: Duration, elapsed: Duration) {
    match err {
        Error::Timeout { op: o, after: a } => {
            assert_eq!((o, a), (op, after), "timeout reports the operation and the timeout");
        }
        other => panic!("expected a {op} timeout, got {other:?}"),
    }
    assert!(elapsed >= after, "{op} returned after {elapsed:?}, sooner than its timeout {after:?}");
    assert!(elapsed <= after + SLACK, "{op} returned after {elapsed:?}, timeout {after:?}");
}

/// One test per transport: `over_every_transport!(check)` makes a module `check` with
/// `#[test] fn tcp()`, `ipc()` and `inproc()`, each calling `check(Transport::..)`;
/// `over_every_transport!(async check)` makes `#[tokio::test]`s that await it.
macro_rules! over_every_transport {
    ($check:ident) => {
        mod $check {
            use $crate::support::Transport;
            #[test]
            fn tcp() {
                super::$check(Transport::Tcp)
            }
            #[test]
            fn ipc() {
                super::$check(Transport::Ipc)
            }
            #[test]
            fn inproc() {
                super::$check(Transport::Inproc)
            }
        }
    };
    (async $check:ident) => {
        mod $check {
            use $crate::support::Transport;
            #[tokio::test]
            async fn tcp() {
                super::$check(Transport::Tcp).await
            }
            #[tokio::test]
            async fn ipc() {
                super::$check(Transport::Ipc).await
            }
            #[tokio::test]
            async fn inproc() {
                super::$check(Transport::Inproc).await
            }
        }
    };
}
pub(crate) use over_every_transport;
