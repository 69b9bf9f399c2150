//! The sockets' log events (feature `tracing`), read by a subscriber that keeps them:
//! each kind appears once for a scripted scenario, with the socket's kind and endpoint
//! (on the event and on the socket's span) and the peer's address where libzmq gives
//! one, and a healthy message logs nothing.
#![cfg(feature = "tracing")]
// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use experimance_common::socket::{Error, Publisher, PullSocket, PushSocket, Subscriber};
use serde_json::{json, Value};
use tracing_core::Level;

mod support;
use support::capture::{Capture, Captured};
use support::net::DeadPort;
use support::{stats_until, unique_inproc, READY};

/// The one event named `name` that the socket of kind `socket` emitted.
fn one(capture: &Capture, name: &str, socket: &str) -> Captured {
    let events: Vec<Captured> =
        capture.named(name).into_iter().filter(|e| e.field("socket") == Some(socket)).collect();
    assert_eq!(events.len(), 1, "one {name:?} event from the {socket}: {:#?}", capture.events());
    events.into_iter().next().unwrap()
}

/// Asserts the event names `kind` and `endpoint`, in its fields and its span's.
fn assert_socket(e: &Captured, kind: &str, endpoint: &str) {
    assert_eq!(e.field("socket"), Some(kind), "{e:#?}");
    assert_eq!(e.field("endpoint"), Some(endpoint), "{e:#?}");
    assert_eq!(e.span.as_ref().map(|(name, _)| name.as_str()), Some("socket"), "{e:#?}");
    assert_eq!(e.span_field("kind"), Some(kind), "{e:#?}");
    assert_eq!(e.span_field("endpoints"), Some(endpoint), "{e:#?}");
}

#[test]
fn a_peer_that_connects_sends_a_bad_frame_and_leaves_logs_each_event_once() {
    let capture = Capture::default();
    capture.run(|| {
        let mut pull = PullSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
        let endpoint = pull.endpoint();
        let mut push = PushSocket::builder().connect(&endpoint).unwrap().build().unwrap();
        push.wait_connected(READY).unwrap();
        pull.wait_for_peers(1, READY).unwrap();

        // Healthy messages log nothing.
        let before = capture.events().len();
        for i in 0..100 {
            push.push(&json!({"type": "Task", "i": i})).unwrap();
            assert_eq!(pull.pull::<Value>().unwrap()["i"], i);
        }
        assert_eq!(capture.events().len(), before, "{:#?}", &capture.events()[before..]);

        push.push_raw(b"not json at all").unwrap();
        assert!(matches!(pull.pull::<Value>(), Err(Error::Decode(_))));
        drop(push);
        let stats = stats_until(|| pull.stats(), |s| s.disconnects == 1);
        assert_eq!(stats.disconnects, 1, "{stats:?}");

        let bind = one(&capture, "bind", "pull");
        assert_socket(&bind, "pull", &endpoint);
        assert_eq!(bind.level, Level::DEBUG);
        assert_eq!(bind.target, "experimance_common::socket");
        assert_socket(&one(&capture, "connect", "push"), "push", &endpoint);

        // The connecting side knows its peer's address; libzmq gives the bound side none.
        let connected = one(&capture, "connected", "push");
        assert_socket(&connected, "push", &endpoint);
        assert_eq!((connected.level, connected.field("peer")), (Level::INFO, Some(endpoint.as_str())));
        let accepted = one(&capture, "connected", "pull");
        assert_socket(&accepted, "pull", &endpoint);
        assert_eq!(accepted.field("peer"), None);

        let bad = one(&capture, "decode error", "pull");
        assert_socket(&bad, "pull", &endpoint);
        assert_eq!(bad.level, Level::WARN);
        assert_eq!(bad.field("len"), Some("15"));
        assert!(bad.field("expected").is_some_and(|t| t.ends_with("Value")), "{bad:#?}");
        let error = bad.field("error").unwrap();
        assert!(error.contains("15 bytes") && error.contains("not json at all"), "{error}");

        let gone = one(&capture, "disconnected", "pull");
        assert_socket(&gone, "pull", &endpoint);
        assert_eq!(gone.level, Level::INFO);
        assert!(capture.named("reconnected").is_empty(), "{:#?}", capture.events());
        drop(pull);
        assert_eq!(capture.spans_made_and_closed(), (2, 2), "one span per socket, closed with it");
    });
}

#[test]
fn a_connecting_socket_whose_peer_comes_back_logs_a_reconnection() {
    let capture = Capture::default();
    capture.run(|| {
        let mut push = PushSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
        let endpoint = push.endpoint();
        let mut pull = PullSocket::builder()
            .connect(&endpoint)
            .unwrap()
            .reconnect_interval(Duration::from_millis(10))
            .build()
            .unwrap();
        pull.wait_connected(READY).unwrap();
        push.wait_connected(READY).unwrap();
        push.close().unwrap();
        let s = stats_until(|| pull.stats(), |s| s.disconnects == 1);
        assert_eq!((s.disconnects, s.peers), (1, 0), "{s:?}");

        // The same address again: libzmq reconnects the pull socket by itself.
        let mut push = PushSocket::builder().bind(&endpoint).unwrap().build().unwrap();
        push.wait_connected(READY).unwrap();
        let s = stats_until(|| pull.stats(), |s| s.connects == 2);
        assert_eq!((s.connects, s.disconnects, s.peers), (2, 1, 1), "{s:?}");

        let first = one(&capture, "connected", "pull");
        assert_eq!(first.field("peer"), Some(endpoint.as_str()));
        let again = one(&capture, "reconnected", "pull");
        assert_socket(&again, "pull", &endpoint);
        assert_eq!((again.level, again.field("peer")), (Level::INFO, Some(endpoint.as_str())));
        let gone = one(&capture, "disconnected", "pull");
        assert_eq!(gone.field("peer"), Some(endpoint.as_str()));
    });
}

/// A ZMTP 3.0 greeting asking for CURVE, which a plaintext (NULL) socket refuses.
fn curve_greeting() -> Vec<u8> {
    let mut g = vec![0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 3, 0];
    let mut mechanism = b"CURVE".to_vec();
    mechanism.resize(20, 0);
    g.extend(mechanism);
    g.push(0); // as-server
    g.resize(64, 0); // filler
    g
}

#[test]
fn a_peer_speaking_the_wrong_mechanism_is_one_failed_handshake_and_no_peer() {
    let capture = Capture::default();
    capture.run(|| {
        let mut pull = PullSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
        let endpoint = pull.endpoint();
        let mut peer = TcpStream::connect(endpoint.trim_start_matches("tcp://")).unwrap();
        peer.set_read_timeout(Some(READY)).unwrap();
        peer.write_all(&curve_greeting()).unwrap();
        // libzmq answers with its own greeting and closes the connection.
        let mut answer = Vec::new();
        let _ = peer.read_to_end(&mut answer);
        let s = stats_until(|| pull.stats(), |s| s.handshake_failures == 1);
        // The failed connection's disconnect belongs to it: no peer came or went.
        assert_eq!((s.handshake_failures, s.connects, s.disconnects, s.peers), (1, 0, 0, 0), "{s:?}");

        let failed = one(&capture, "handshake failed", "pull");
        assert_socket(&failed, "pull", &endpoint);
        assert_eq!((failed.level, failed.field("reason")), (Level::WARN, Some("protocol")));
        assert!(capture.named("disconnected").is_empty(), "{:#?}", capture.events());
    });
}

#[test]
fn a_lossless_publish_to_a_stalled_subscriber_logs_its_timeout() {
    let capture = Capture::default();
    capture.run(|| {
        let endpoint = unique_inproc("events-lossless");
        let mut publisher = Publisher::builder()
            .bind(&endpoint)
            .unwrap()
            .topic("t")
            .unwrap()
            .lossless(true)
            .send_hwm(1)
            .send_timeout(Duration::from_millis(20))
            .build()
            .unwrap();
        let _stalled =
            Subscriber::builder().connect(&endpoint).unwrap().subscribe("t").receive_hwm(1).build().unwrap();
        publisher.wait_for_subscribers(1, READY).unwrap();
        let mut published = 0;
        let timed_out = loop {
            match publisher.publish(&json!({"type": "Tick"})) {
                Ok(()) => published += 1,
                Err(e) => break e,
            }
            assert!(published < 1000, "a lossless publisher never blocked");
        };
        assert!(matches!(timed_out, Error::Timeout { .. }), "{timed_out:?}");
        assert_eq!(publisher.stats().timeouts, 1);

        let e = one(&capture, "publish timed out", "publisher");
        assert_socket(&e, "publisher", &endpoint);
        assert_eq!((e.level, e.field("timeout_ms")), (Level::WARN, Some("20")));
    });
}

#[test]
fn a_close_with_linger_zero_that_drops_queued_messages_logs_it() {
    let capture = Capture::default();
    capture.run(|| {
        let dead = DeadPort::new();
        let mut push = PushSocket::builder()
            .connect(&dead.endpoint)
            .unwrap()
            .immediate(false)
            .linger(Duration::ZERO)
            .build()
            .unwrap();
        for seq in 0..100 {
            push.push(&json!({"type": "Task", "seq": seq})).unwrap();
        }
        assert!(matches!(push.close(), Err(Error::LingerExpired { .. })));

        let e = one(&capture, "close dropped messages", "push");
        assert_socket(&e, "push", &dead.endpoint);
        assert_eq!((e.level, e.field("linger_ms")), (Level::WARN, Some("0")));
    });
}

#[test]
fn a_socket_built_before_the_subscriber_logs_to_it_with_the_fields_alone() {
    let endpoint = unique_inproc("events-late-subscriber");
    let mut pull = PullSocket::builder().bind(&endpoint).unwrap().build().unwrap();
    let mut push = PushSocket::builder().connect(&endpoint).unwrap().build().unwrap();
    let capture = Capture::default();
    capture.run(|| {
        push.push_raw(b"\xff").unwrap();
        assert!(matches!(pull.pull::<Value>(), Err(Error::Decode(_))));
    });
    let bad = one(&capture, "decode error", "pull");
    assert_eq!((bad.field("endpoint"), bad.field("len")), (Some(endpoint.as_str()), Some("1")));
    assert!(bad.span.is_none(), "no span was made without a subscriber: {bad:#?}");
    assert!(bad.field("error").is_some_and(|e| e.contains(r"\xff")), "{bad:#?}");
}
