//! Securing library sockets: CURVE with an allowlist admits the right key and refuses
//! strangers with a typed error, PLAIN and IP policies work through the builder, and
//! CURVE really encrypts (a relay sees the plaintext only without it).

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use experimance_common::security::{AuthPolicy, CurveKeyPair};
use experimance_common::socket::{Error, PullSocket, PushSocket};
use serde_json::{json, Value};

mod support;
use net::READY;
use support::net;

/// A CURVE server (PULL) admitting only `allowed`, bound to a free loopback port.
fn curve_server(keys: &CurveKeyPair, allowed: &CurveKeyPair) -> PullSocket {
    PullSocket::builder()
        .bind("tcp://127.0.0.1:*")
        .unwrap()
        .curve_server(keys.secret())
        .auth(AuthPolicy::new().curve_allow(*allowed.public()))
        .unwrap()
        .build()
        .unwrap()
}

/// A CURVE client (PUSH) of `server` at `pull`'s endpoint, with its own `pair`.
fn curve_client(pull: &PullSocket, server: &CurveKeyPair, pair: &CurveKeyPair) -> PushSocket {
    PushSocket::builder()
        .connect(&pull.endpoint())
        .unwrap()
        .curve_client(server.public(), pair)
        .build()
        .unwrap()
}

#[test]
fn curve_admits_the_allowlisted_client_and_refuses_a_stranger_with_a_typed_error() {
    let server_keys = CurveKeyPair::generate().unwrap();
    let friend = CurveKeyPair::generate().unwrap();
    let stranger = CurveKeyPair::generate().unwrap();
    let mut pull = curve_server(&server_keys, &friend);

    let mut push = curve_client(&pull, &server_keys, &friend);
    push.wait_connected(READY).unwrap();
    push.push(&json!({"type": "RenderRequest", "prompt": "a forest"})).unwrap();
    assert_eq!(pull.pull::<Value>().unwrap()["prompt"], "a forest");

    let mut intruder = curve_client(&pull, &server_keys, &stranger);
    match intruder.wait_connected(READY) {
        Err(Error::AuthFailed { status }) => assert_eq!(status, 400),
        other => panic!("a stranger's key: {other:?}"),
    }
    // Nothing it could push reaches the server; the server counted the refusal.
    assert!(intruder
        .push_timeout(&json!({"type": "RenderRequest", "prompt": "injected"}), Duration::from_millis(100))
        .is_err());
    assert!(pull.try_pull::<Value>().unwrap().is_none());
    assert!(pull.auth_failures() >= 1, "the server counted no refusal");
    assert!(intruder.auth_failures() >= 1, "the client counted no refusal");
}

#[tokio::test]
async fn async_wait_connected_reports_a_refusal_too() {
    let server_keys = CurveKeyPair::generate().unwrap();
    let friend = CurveKeyPair::generate().unwrap();
    let pull = curve_server(&server_keys, &friend);
    let stranger = CurveKeyPair::generate().unwrap();
    let mut intruder = curve_client(&pull, &server_keys, &stranger);
    assert!(matches!(intruder.wait_connected_async(READY).await, Err(Error::AuthFailed { status: 400 })));
}

#[test]
fn a_client_without_keys_never_connects_to_a_curve_server() {
    let server_keys = CurveKeyPair::generate().unwrap();
    let mut pull = curve_server(&server_keys, &CurveKeyPair::generate().unwrap());
    let mut plain = PushSocket::builder().connect(&pull.endpoint()).unwrap().build().unwrap();
    assert!(plain.wait_connected(Duration::from_millis(300)).is_err());
    assert_eq!(pull.peer_count(), 0);
}

#[test]
fn plain_and_ip_policies_through_the_builder() {
    let mut pull = PullSocket::builder()
        .bind("tcp://127.0.0.1:*")
        .unwrap()
        .plain_server()
        .auth(AuthPolicy::new().allow("127.0.0.1").unwrap().plain_user("display", "sand-table"))
        .unwrap()
        .build()
        .unwrap();
    let mut push = PushSocket::builder()
        .connect(&pull.endpoint())
        .unwrap()
        .plain_client("display", "sand-table")
        .build()
        .unwrap();
    push.wait_connected(READY).unwrap();
    push.push(&json!({"type": "Ping"})).unwrap();
    assert_eq!(pull.pull::<Value>().unwrap()["type"], "Ping");
    let mut wrong = PushSocket::builder()
        .connect(&pull.endpoint())
        .unwrap()
        .plain_client("display", "guess")
        .build()
        .unwrap();
    let r = wrong.wait_connected(READY);
    assert!(matches!(r, Err(Error::AuthFailed { .. })), "{r:?}");
    let debug = format!("{wrong:?} {:?}", experimance_common::socket::SocketOptions::default());
    assert!(!debug.contains("guess"));

    // An IP policy needs no encryption: a denied address is refused.
    let pull = PullSocket::builder()
        .bind("tcp://127.0.0.1:*")
        .unwrap()
        .auth(AuthPolicy::new().deny("127.0.0.0/8").unwrap())
        .unwrap()
        .build()
        .unwrap();
    let mut denied = PushSocket::builder().connect(&pull.endpoint()).unwrap().build().unwrap();
    assert!(matches!(denied.wait_connected(READY), Err(Error::AuthFailed { .. })));
}

/// A TCP relay to `target` that records every byte its clients send.
fn relay(target: String) -> (String, Arc<Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let endpoint = format!("tcp://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    std::thread::spawn(move || {
        let Ok((mut client, _)) = listener.accept() else { return };
        let Ok(mut server) = TcpStream::connect(&target) else { return };
        let mut back = server.try_clone().unwrap();
        let mut to_client = client.try_clone().unwrap();
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut back, &mut to_client);
        });
        let mut buf = [0u8; 4096];
        while let Ok(n) = client.read(&mut buf) {
            if n == 0 || server.write_all(&buf[..n]).is_err() {
                break;
            }
            record.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    });
    (endpoint, seen)
}

fn wire_bytes(curve: bool) -> Vec<u8> {
    let server_keys = CurveKeyPair::generate().unwrap();
    let client_keys = CurveKeyPair::generate().unwrap();
    let builder = PullSocket::builder().bind("tcp://127.0.0.1:*").unwrap();
    let mut pull =
        if curve { builder.curve_server(server_keys.secret()).build() } else { builder.build() }.unwrap();
    let target = pull.endpoint().trim_start_matches("tcp://").to_owned();
    let (endpoint, seen) = relay(target);
    let builder = PushSocket::builder().connect(&endpoint).unwrap();
    let builder = if curve { builder.curve_client(server_keys.public(), &client_keys) } else { builder };
    let mut push = builder.build().unwrap();
    push.wait_connected(READY).unwrap();
    push.push(&json!({"type": "RenderRequest", "prompt": "THE-SECRET-PROMPT"})).unwrap();
    assert_eq!(pull.pull::<Value>().unwrap()["prompt"], "THE-SECRET-PROMPT");
    drop(push);
    let bytes = seen.lock().unwrap().clone();
    bytes
}

#[test]
fn curve_encrypts_what_plaintext_shows() {
    let needle = b"THE-SECRET-PROMPT";
    let contains = |hay: &[u8]| hay.windows(needle.len()).any(|w| w == needle);
    assert!(contains(&wire_bytes(false)), "without CURVE the prompt is on the wire");
    assert!(!contains(&wire_bytes(true)), "with CURVE the prompt must not be on the wire");
}

#[test]
fn a_server_that_refused_a_stranger_goes_on_waiting_for_its_peers() {
    let server_keys = CurveKeyPair::generate().unwrap();
    let friend = CurveKeyPair::generate().unwrap();
    let mut pull = curve_server(&server_keys, &friend);
    let stranger = CurveKeyPair::generate().unwrap();
    let mut intruder = curve_client(&pull, &server_keys, &stranger);
    assert!(matches!(intruder.wait_connected(READY), Err(Error::AuthFailed { .. })));
    let _friend = curve_client(&pull, &server_keys, &friend);
    assert_eq!(pull.wait_for_peers(1, READY).unwrap(), 1, "the refusal ended the server's wait");
}

/// Every refused connection is a `warn` event (feature `tracing`), read here by a
/// subscriber that keeps every event.
#[cfg(feature = "tracing")]
mod logged {
    use std::time::{Duration, Instant};

    use experimance_common::security::CurveKeyPair;
    use experimance_common::socket::{Error, PushSocket};
    use tracing_core::Level;

    use super::{curve_server, READY};
    use crate::support::capture::{Capture, Captured};

    #[test]
    fn every_refused_client_is_one_warn_event_with_kind_endpoint_and_status() {
        const STRANGERS: u64 = 3;
        let capture = Capture::default();
        capture.run(|| {
            let server_keys = CurveKeyPair::generate().unwrap();
            let friend = CurveKeyPair::generate().unwrap();
            let mut pull = curve_server(&server_keys, &friend);
            let endpoint = pull.endpoint();
            for _ in 0..STRANGERS {
                // A long reconnect interval: each stranger knocks once in this test.
                let mut stranger = PushSocket::builder()
                    .connect(&endpoint)
                    .unwrap()
                    .reconnect_interval(Duration::from_secs(600))
                    .curve_client(server_keys.public(), &CurveKeyPair::generate().unwrap())
                    .build()
                    .unwrap();
                let refused = stranger.wait_connected(READY);
                assert!(matches!(refused, Err(Error::AuthFailed { status: 400 })), "{refused:?}");
            }
            // The server logs each refusal when it reads its monitor (any call does).
            let deadline = Instant::now() + READY;
            while pull.auth_failures() < STRANGERS && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            assert_eq!(pull.auth_failures(), STRANGERS);

            // Every socket logs more (bind, connect, ...): the refusals are their own events.
            let events = capture.named("authentication refused");
            let server_side: Vec<&Captured> =
                events.iter().filter(|e| e.field("socket") == Some("pull")).collect();
            assert_eq!(server_side.len() as u64, STRANGERS, "{events:#?}");
            for e in &server_side {
                assert_eq!(e.level, Level::WARN);
                assert_eq!(e.target, "experimance_common::auth");
                assert_eq!(e.field("endpoint"), Some(endpoint.as_str()));
                assert_eq!(e.field("zap_status"), Some("400"));
            }
            // Each refused client logged its own refusal once too, naming its server.
            let client_side: Vec<&Captured> =
                events.iter().filter(|e| e.field("socket") == Some("push")).collect();
            assert_eq!(client_side.len() as u64, STRANGERS, "{events:#?}");
            assert!(client_side.iter().all(|e| e.field("peer") == Some(endpoint.as_str())), "{events:#?}");
        });
    }
}
