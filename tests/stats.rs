//! `stats()`: exact counts of messages, bytes, decode errors, timeouts, connections and
//! refused handshakes, for blocking and async calls.

// A test may unwrap: a panic is a failed test (clippy.toml covers only #[test] fns).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use experimance_common::security::{AuthPolicy, CurveKeyPair};
use experimance_common::socket::{Error, Publisher, PullSocket, PushSocket, Subscriber};
use serde_json::{json, Value};

mod support;
use support::{stats_until, unique_inproc, READY};

/// The `i`th PUSH frame: a JSON task whose length grows with `i`.
fn frame(i: usize) -> Vec<u8> {
    format!(r#"{{"type":"Task","pad":"{}"}}"#, "x".repeat(i)).into_bytes()
}

const SHORT_TIMEOUT: Duration = Duration::from_millis(30);

fn pair() -> (PushSocket, PullSocket) {
    let pull = PullSocket::builder()
        .bind("tcp://127.0.0.1:*")
        .unwrap()
        .receive_timeout(SHORT_TIMEOUT)
        .build()
        .unwrap();
    let mut push = PushSocket::builder().connect(&pull.endpoint()).unwrap().build().unwrap();
    push.wait_connected(READY).unwrap();
    (push, pull)
}

#[test]
fn push_and_pull_count_messages_bytes_decode_errors_and_timeouts_exactly() {
    const N: usize = 25;
    let (mut push, mut pull) = pair();
    let fresh = pull.stats();
    assert_eq!((fresh.sent, fresh.received, fresh.bytes_in, fresh.timeouts), (0, 0, 0, 0));

    let mut bytes = 0;
    for i in 0..N {
        let f = frame(i);
        bytes += f.len() as u64;
        if i % 2 == 0 {
            push.push_raw(&f).unwrap();
        } else {
            push.push(&serde_json::from_slice::<Value>(&f).unwrap()).unwrap();
        }
    }
    for i in 0..N {
        assert_eq!(pull.pull::<Value>().unwrap()["pad"].as_str().unwrap().len(), i);
    }
    // A frame that does not decode is counted, and still handed back whole.
    push.push_raw(b"{not json").unwrap();
    match pull.pull::<Value>() {
        Err(Error::Decode(e)) => assert_eq!(e.raw(), b"{not json"),
        other => panic!("expected a decode error, got {other:?}"),
    }
    // A receive that times out is counted; a try that finds nothing is not.
    assert!(pull.pull::<Value>().unwrap_err().is_timeout());
    assert!(pull.try_pull::<Value>().unwrap().is_none());

    let sent = push.stats();
    assert_eq!((sent.sent, sent.bytes_out, sent.received, sent.timeouts), (N as u64 + 1, bytes + 9, 0, 0));
    assert_eq!((sent.connects, sent.disconnects, sent.peers), (1, 0, 1));
    let got = pull.stats();
    assert_eq!(
        (got.received, got.bytes_in, got.decode_errors, got.timeouts),
        (N as u64 + 1, bytes + 9, 1, 1)
    );
    assert_eq!((got.sent, got.bytes_out, got.handshake_failures), (0, 0, 0));
}

#[test]
fn a_push_to_nobody_counts_its_timeout_but_not_a_try() {
    let mut push = PushSocket::builder()
        .bind(&unique_inproc("stats-nobody"))
        .unwrap()
        .send_timeout(SHORT_TIMEOUT)
        .build()
        .unwrap();
    assert!(push.push(&json!({"type": "Task"})).unwrap_err().is_timeout());
    assert!(!push.try_push(&json!({"type": "Task"})).unwrap());
    let s = push.stats();
    assert_eq!((s.sent, s.bytes_out, s.timeouts), (0, 0, 1));
}

#[test]
fn connects_and_disconnects_are_counted_as_peers_come_and_go() {
    let mut pull = PullSocket::builder().bind("tcp://127.0.0.1:*").unwrap().build().unwrap();
    let first = PushSocket::builder().connect(&pull.endpoint()).unwrap().build().unwrap();
    let second = PushSocket::builder().connect(&pull.endpoint()).unwrap().build().unwrap();
    pull.wait_for_peers(2, READY).unwrap();
    let s = pull.stats();
    assert_eq!((s.connects, s.disconnects, s.peers), (2, 0, 2), "{s:?}");

    drop(first); // a peer killed: its socket gone without a word
    let s = stats_until(|| pull.stats(), |s| s.disconnects == 1);
    assert_eq!((s.connects, s.disconnects, s.peers), (2, 1, 1), "{s:?}");
    drop(second);
    let s = stats_until(|| pull.stats(), |s| s.disconnects == 2);
    assert_eq!((s.connects, s.disconnects, s.peers, s.handshake_failures), (2, 2, 0, 0), "{s:?}");
}

#[test]
fn a_curve_stranger_is_a_handshake_failure_on_both_sides_and_never_a_peer() {
    let server_keys = CurveKeyPair::generate().unwrap();
    let friend = CurveKeyPair::generate().unwrap();
    let mut pull = PullSocket::builder()
        .bind("tcp://127.0.0.1:*")
        .unwrap()
        .curve_server(server_keys.secret())
        .auth(AuthPolicy::new().curve_allow(*friend.public()))
        .unwrap()
        .build()
        .unwrap();
    let mut stranger = PushSocket::builder()
        .connect(&pull.endpoint())
        .unwrap()
        // Once: the next knock would come only after ten minutes.
        .reconnect_interval(Duration::from_secs(600))
        .curve_client(server_keys.public(), &CurveKeyPair::generate().unwrap())
        .build()
        .unwrap();
    assert!(matches!(stranger.wait_connected(READY), Err(Error::AuthFailed { status: 400 })));

    let client = stranger.stats();
    assert_eq!((client.handshake_failures, client.connects, client.disconnects, client.peers), (1, 0, 0, 0));
    let server = stats_until(|| pull.stats(), |s| s.handshake_failures == 1);
    assert_eq!((server.handshake_failures, server.connects, server.disconnects, server.peers), (1, 0, 0, 0));
}

#[test]
fn a_publisher_counts_what_it_publishes_and_not_the_subscriptions_it_reads() {
    const N: u64 = 10;
    let endpoint = unique_inproc("stats-pubsub");
    let mut publisher = Publisher::builder().bind(&endpoint).unwrap().topic("t").unwrap().build().unwrap();
    let mut subscriber = Subscriber::builder().connect(&endpoint).unwrap().subscribe("t").build().unwrap();
    publisher.wait_for_subscribers(1, READY).unwrap();
    for _ in 0..N {
        publisher.publish_raw(br#"t {"type":"Tick"}"#).unwrap();
    }
    // Raw receives count their bytes as decoded ones do.
    for i in 0..N {
        if i % 2 == 0 {
            subscriber.receive::<Value>().unwrap();
        } else {
            assert_eq!(subscriber.receive_raw().unwrap(), br#"t {"type":"Tick"}"#);
        }
    }
    let frame = br#"t {"type":"Tick"}"#.len() as u64;
    let p = publisher.stats();
    assert_eq!((p.sent, p.bytes_out, p.received, p.bytes_in, p.timeouts), (N, N * frame, 0, 0, 0));
    let s = subscriber.stats();
    assert_eq!((s.received, s.bytes_in, s.sent, s.decode_errors), (N, N * frame, 0, 0));
}

#[tokio::test]
async fn async_calls_count_like_blocking_ones() {
    const N: usize = 12;
    let (mut push, mut pull) = pair();
    let mut bytes = 0;
    for i in 0..N {
        let f = frame(i);
        bytes += f.len() as u64;
        push.push_raw_async(&f).await.unwrap();
    }
    for _ in 0..N {
        pull.pull_async::<Value>().await.unwrap();
    }
    push.push_raw_async(b"[1, 2]").await.unwrap();
    assert!(matches!(pull.pull_async::<Value>().await, Err(Error::Decode(_))));
    assert!(pull.pull_async::<Value>().await.unwrap_err().is_timeout());

    let sent = push.stats();
    assert_eq!((sent.sent, sent.bytes_out), (N as u64 + 1, bytes + 6));
    let got = pull.stats();
    assert_eq!(
        (got.received, got.bytes_in, got.decode_errors, got.timeouts),
        (N as u64 + 1, bytes + 6, 1, 1)
    );

    let endpoint = unique_inproc("stats-async-pubsub");
    let mut publisher = Publisher::builder().bind(&endpoint).unwrap().topic("t").unwrap().build().unwrap();
    let mut subscriber = Subscriber::builder().connect(&endpoint).unwrap().subscribe("t").build().unwrap();
    publisher.wait_for_subscribers_async(1, READY).await.unwrap();
    publisher.publish_raw_async(br#"t {"type":"Tick"}"#).await.unwrap();
    subscriber.receive_async::<Value>().await.unwrap();
    assert_eq!((publisher.stats().sent, publisher.stats().received), (1, 0));
    assert_eq!(subscriber.stats().received, 1);
}
